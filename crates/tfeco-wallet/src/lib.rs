//! Client side of TFGrid Economy: encrypted keystore, request signing, the typed HTTP client.
pub mod client;
pub mod keystore;
pub mod mnemonic;

/// The API contract the typed client speaks (request, response and error types of every route).
pub use tfeco_api as api;

pub use client::{sign_tx, CallError, Client};
