//! Client side of TFGrid Economy: encrypted keystore, request signing, HTTP client.
pub mod client;
pub mod keystore;
pub mod mnemonic;

pub use client::{sign_request, Client, ClientError, TxOk};
