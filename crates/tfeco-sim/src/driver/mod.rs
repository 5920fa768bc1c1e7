//! Drivers: what carries the agents' commands to an economy. [`HttpDriver`] signs each command and posts it
//! to a running node (the real API, signatures, journal); [`CoreDriver`] applies it to an in-process state
//! (no signatures, no I/O: the core's own speed). Both keep each signer's nonces in order.

mod core;
mod http;

pub use self::core::{CoreDriver, Recorded};
pub use self::http::{HttpDriver, Submitted};
