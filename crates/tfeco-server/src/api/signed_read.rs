//! Signed reads of one's own sealed data: [`SignedReader`] checks the `x-tfeco-*` headers (account,
//! timestamp within [`READ_WINDOW_S`] of the server's clock, ed25519 signature over the request's path and
//! the timestamp) and yields the reader.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tfeco_api::signed_read::{HEADER_ACCOUNT, HEADER_SIGNATURE, HEADER_TIMESTAMP, READ_WINDOW_S};
use tfeco_api::ErrorCode;
use tfeco_core::AccountKey;

use crate::api::error::ApiError;

/// The verified reader of a signed read. The signature covers the path the client requested.
#[derive(Clone, Copy, Debug)]
pub struct SignedReader(pub AccountKey);

impl<S: Send + Sync> FromRequestParts<S> for SignedReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        verify(parts, crate::now_unix_ms() / 1000).map(SignedReader)
    }
}

/// A read that may be signed: `Some(reader)` when the request carries the signed-read headers (checked as
/// [`SignedReader`]: a bad signature is refused), `None` for a plain public read.
#[derive(Clone, Copy, Debug)]
pub struct OptionalSignedReader(pub Option<AccountKey>);

impl<S: Send + Sync> FromRequestParts<S> for OptionalSignedReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
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

/// Checks the headers of a signed read of `parts`' path at `now_s`.
fn verify(parts: &Parts, now_s: i64) -> Result<AccountKey, ApiError> {
    let account: AccountKey = header(parts, HEADER_ACCOUNT)?.parse().map_err(|_| {
        ApiError::new(ErrorCode::InvalidAccount, format!("{HEADER_ACCOUNT}: not 64 hex characters"))
    })?;
    let timestamp: i64 = header(parts, HEADER_TIMESTAMP)?.trim().parse().map_err(|_| {
        ApiError::new(ErrorCode::InvalidRequest, format!("{HEADER_TIMESTAMP}: not a whole number of seconds"))
    })?;
    if now_s.abs_diff(timestamp) > READ_WINDOW_S.unsigned_abs() {
        return Err(ApiError::new(
            ErrorCode::RequestExpired,
            format!("the signed read's timestamp is more than {READ_WINDOW_S} s from the server's clock"),
        ));
    }
    let signature = hex::decode(header(parts, HEADER_SIGNATURE)?.trim())
        .map_err(|_| ApiError::new(ErrorCode::BadSignature, "the signature is not hex"))?;
    let path = parts.uri.path();
    // Strict RFC 8032 verification (weak keys refused) is the core's.
    if tfeco_core::request::verify_read(&account, path, timestamp, &signature).is_err() {
        return Err(ApiError::new(ErrorCode::BadSignature, "the read signature does not verify"));
    }
    Ok(account)
}
