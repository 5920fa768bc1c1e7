//! Client side of TFGrid Economy: encrypted keystore, request signing, HTTP client.
pub mod keystore;
