//! Client side of TFGrid Economy: encrypted keystore, request signing, HTTP client.
pub mod client;
pub mod keystore;

pub use client::{sign_request, Client, ClientError, TxOk};
