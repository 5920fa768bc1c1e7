//! Signed reads: a client reads its own sealed data (exit bids, exchange orders and fills) by signing the
//! request path and a timestamp (`tfeco_core::command::read_signing_bytes`) and sending three headers.

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// Header carrying the reading account (64 hex).
pub const HEADER_ACCOUNT: &str = "x-tfeco-account";
/// Header carrying the unix timestamp (seconds) of a signed read.
pub const HEADER_TIMESTAMP: &str = "x-tfeco-timestamp";
/// Header carrying the hex signature of a signed read.
pub const HEADER_SIGNATURE: &str = "x-tfeco-signature";
/// How far a signed read's timestamp may be from the node's clock, seconds.
pub const READ_WINDOW_S: i64 = 300;

/// The headers of a signed read (documentation of the contract; the node reads them from the request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct SignedReadHeaders {
    /// The reading account, 64 hex characters.
    #[param(rename = "x-tfeco-account", pattern = "^[0-9a-fA-F]{64}$")]
    pub account: String,
    /// Unix seconds, within 300 s of the node's clock.
    #[param(rename = "x-tfeco-timestamp", minimum = 0, maximum = 9223372036854775807_i64)]
    pub timestamp: i64,
    /// ed25519 signature over `tfeco/v1/read\0`, the path, `\0` and the decimal timestamp; 128 hex.
    #[param(rename = "x-tfeco-signature", pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: String,
}
