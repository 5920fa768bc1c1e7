//! Signed reads of one's own sealed data: [`SignedReader`] checks the `x-tfeco-*` headers (account,
//! timestamp within [`ServerConfig::signed_read_window_s`] of the server's clock, a one-time nonce, and an
//! ed25519 signature over the request's method, path, query, timestamp and nonce), refuses a signature
//! already accepted ([`crate::app::ReplayCache`]), and yields the reader.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tfeco_api::signed_read::{
    HEADER_ACCOUNT, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_READ_NONCE_LEN,
};
use tfeco_api::ErrorCode;
use tfeco_core::request::ReadRequest;
use tfeco_core::AccountKey;

use crate::api::error::ApiError;
use crate::app::{AppState, ReplayRefusal};
#[cfg(doc)]
use crate::config::ServerConfig;

/// The verified reader of a signed read. The signature covers the request the client sent.
#[derive(Clone, Copy, Debug)]
pub struct SignedReader(pub AccountKey);

impl FromRequestParts<AppState> for SignedReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        verify(parts, app, crate::now_unix_ms() / 1000).map(SignedReader)
    }
}

/// A read that may be signed: `Some(reader)` when the request carries the signed-read headers (checked as
/// [`SignedReader`]: a bad signature is refused), `None` for a plain public read.
#[derive(Clone, Copy, Debug)]
pub struct OptionalSignedReader(pub Option<AccountKey>);

impl FromRequestParts<AppState> for OptionalSignedReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(HEADER_ACCOUNT) {
            return Ok(OptionalSignedReader(None));
        }
        SignedReader::from_request_parts(parts, state).await.map(|SignedReader(reader)| Self(Some(reader)))
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Result<&'a str, ApiError> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::SignedReadRequired, format!("missing header {name}")))
}

/// Checks the headers of a signed read of `parts` at `now_s`, then admits its signature once.
fn verify(parts: &Parts, app: &AppState, now_s: i64) -> Result<AccountKey, ApiError> {
    let account: AccountKey = header(parts, HEADER_ACCOUNT)?.parse().map_err(|_| {
        ApiError::new(ErrorCode::InvalidAccount, format!("{HEADER_ACCOUNT}: not 64 hex characters"))
    })?;
    let timestamp: i64 = header(parts, HEADER_TIMESTAMP)?.trim().parse().map_err(|_| {
        ApiError::new(ErrorCode::InvalidRequest, format!("{HEADER_TIMESTAMP}: not a whole number of seconds"))
    })?;
    let nonce = header(parts, HEADER_NONCE)?;
    if nonce.is_empty() || nonce.len() > MAX_READ_NONCE_LEN || !nonce.bytes().all(|b| b.is_ascii_graphic()) {
        let message = format!("{HEADER_NONCE}: 1 to {MAX_READ_NONCE_LEN} printable ASCII characters");
        return Err(ApiError::new(ErrorCode::InvalidRequest, message));
    }
    let window = app.config.signed_read_window_s.max(0);
    if now_s.abs_diff(timestamp) > window.unsigned_abs() {
        return Err(ApiError::new(
            ErrorCode::RequestExpired,
            format!(
                "the signed read's timestamp is more than {window} s from the server's clock; sign it again"
            ),
        ));
    }
    let signature = hex::decode(header(parts, HEADER_SIGNATURE)?.trim())
        .map_err(|_| ApiError::new(ErrorCode::BadSignature, "the signature is not hex"))?;
    let read = ReadRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        timestamp,
        nonce,
    };
    // Strict RFC 8032 verification (weak keys refused) is the core's.
    if read.verify(&account, &signature).is_err() {
        return Err(ApiError::new(
            ErrorCode::BadSignature,
            "the read signature does not verify for this account, method, path, query, timestamp and nonce",
        ));
    }
    match app.read_replays.admit(&signature, timestamp.saturating_add(window), now_s) {
        Ok(()) => Ok(account),
        Err(ReplayRefusal::Replayed) => Err(ApiError::new(
            ErrorCode::ReadReplayed,
            "this signed read was already used: sign each read with a new nonce",
        )),
        Err(ReplayRefusal::Full) => Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many signed reads at once; retry in a few seconds",
        )),
    }
}
