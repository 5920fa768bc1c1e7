//! Signed reads: a client reads its own sealed data (exit bids, exchange orders and fills) by signing the
//! request (method, path, query, a timestamp and a one-time nonce: `tfeco_core::request::ReadRequest`) and
//! sending four headers. The node refuses a timestamp more than its window (default
//! [`DEFAULT_READ_WINDOW_S`]) from its clock, and a signature it has already seen within that window.

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// Header carrying the reading account (64 hex).
pub const HEADER_ACCOUNT: &str = "x-tfeco-account";
/// Header carrying the unix timestamp (seconds) of a signed read.
pub const HEADER_TIMESTAMP: &str = "x-tfeco-timestamp";
/// Header carrying the client-chosen one-time nonce of a signed read (1 to [`MAX_READ_NONCE_LEN`]
/// printable ASCII characters; 32 random hex characters in the typed client).
pub const HEADER_NONCE: &str = "x-tfeco-nonce";
/// Header carrying the hex signature of a signed read.
pub const HEADER_SIGNATURE: &str = "x-tfeco-signature";
/// The default of how far a signed read's timestamp may be from the node's clock, seconds (a server
/// setting, `tfeco serve --signed-read-window`).
pub const DEFAULT_READ_WINDOW_S: i64 = 30;
/// Longest read nonce, characters.
pub const MAX_READ_NONCE_LEN: usize = 64;

/// The headers of a signed read (documentation of the contract; the node reads them from the request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct SignedReadHeaders {
    /// The reading account, 64 hex characters.
    #[param(rename = "x-tfeco-account", pattern = "^[0-9a-fA-F]{64}$")]
    pub account: String,
    /// Unix seconds, within the node's window (default 30 s) of its clock.
    #[param(rename = "x-tfeco-timestamp", minimum = 0, maximum = 9223372036854775807_i64)]
    pub timestamp: i64,
    /// A one-time value chosen by the client; a signature is accepted once.
    #[param(rename = "x-tfeco-nonce", pattern = "^[!-~]{1,64}$")]
    pub nonce: String,
    /// ed25519 signature over `tfeco/v2/read\0` followed by the method, the path, the query (without
    /// `?`), the decimal timestamp and the nonce, each followed by `\0`; 128 hex.
    #[param(rename = "x-tfeco-signature", pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: String,
}
