//! `POST /v1/tx`: decode the signed request strictly, verify its signature, check its expiry and the
//! signer's rate, queue it to the single writer, and answer once it is durable (or rejected).
//!
//! The signature is verified before the expiry is looked at: a request that does not verify is 401
//! `bad_signature` whatever its expiry, so no unauthenticated input reaches a rule.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxumState;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ed25519_dalek::VerifyingKey;
use tfeco_api::tx::{EventPage, EventPageQuery, TxAccepted, TxRequest, EVENT_PAGE_DEFAULT};
use tfeco_api::ErrorCode;
use tfeco_core::request::NONCE_LIMIT;
use tfeco_core::{AccountKey, Rejection, SignedBody};

use crate::api::error::ApiError;
use crate::api::extract::{PathParam, Query};
use crate::app::AppState;
use crate::config::ServerConfig;
use crate::replica::SignedRequest;
use crate::writer::SubmitError;

/// The body of a request that could not be read: 413 when over the limit.
fn body_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, "the request body is larger than this node accepts")
    } else {
        ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
    }
}

/// Decodes a request strictly: the envelope `{body, signature}` (unknown fields refused), then the body's
/// JSON text ([`SignedBody::parse`]: unknown or duplicate fields refused). A problem inside the body text
/// gets the same typed codes as one in the envelope (`unknown_field`, `amount_negative`, ...), its message
/// prefixed with `body: `.
fn decode(body: &[u8]) -> Result<(SignedBody, String), ApiError> {
    let request: TxRequest = serde_json::from_slice(body).map_err(|e| ApiError::from_json_error(&e))?;
    let signed = SignedBody::parse(request.body).map_err(|e| {
        let error = ApiError::from_json_error(&e);
        ApiError::new(error.code(), format!("body: {e}"))
    })?;
    Ok((signed, request.signature))
}

/// The signers' keys as [`tfeco_core::request::strict_key`] decoded and checked them (canonical, not of
/// small order), so that a signer's key is decompressed and checked once, not on every request: a pure
/// function of the key's bytes, kept for at most [`KeyCache::MAX`] signers (emptied when full). Installed by
/// the router, one per server.
#[derive(Clone, Default)]
pub struct KeyCache(Arc<parking_lot::RwLock<HashMap<AccountKey, VerifyingKey>>>);

impl KeyCache {
    /// Signers kept at most.
    pub const MAX: usize = 100_000;

    /// The strictly decoded key of `signer` ([`tfeco_core::request::strict_key`]); a key that fails the
    /// check is not kept.
    fn key(&self, signer: &AccountKey) -> Result<VerifyingKey, tfeco_core::request::RequestError> {
        if let Some(key) = self.0.read().get(signer) {
            return Ok(*key);
        }
        let key = tfeco_core::request::strict_key(signer)?;
        let mut keys = self.0.write();
        if keys.len() >= Self::MAX {
            keys.clear();
        }
        keys.insert(*signer, key);
        Ok(key)
    }
}

/// Decodes and authenticates a request body at `now_s`.
fn authenticate(
    body: &[u8],
    now_s: i64,
    max_expiry_s: i64,
    keys: &KeyCache,
) -> Result<SignedRequest, ApiError> {
    let (signed, signature) = decode(body)?;
    let signature = hex::decode(&signature)
        .map_err(|_| ApiError::new(ErrorCode::BadSignature, "the signature is not hex"))?;
    // Strict RFC 8032 verification (weak keys and forged signatures refused) is the core's.
    let verified = keys.key(&signed.body().signer).and_then(|key| signed.verify_with_key(&key, &signature));
    if verified.is_err() {
        return Err(ApiError::new(ErrorCode::BadSignature, "the signature does not verify for this signer"));
    }
    let request = signed.body();
    if request.nonce >= NONCE_LIMIT {
        let got = request.nonce;
        return Err(ApiError::from_rejection(&Rejection::NonceOutOfRange { limit: NONCE_LIMIT, got }));
    }
    if request.expiry < now_s {
        return Err(ApiError::new(ErrorCode::RequestExpired, "the request's expiry has passed"));
    }
    if request.expiry > now_s.saturating_add(max_expiry_s) {
        return Err(ApiError::new(
            ErrorCode::ExpiryTooFar,
            format!("expiry may be at most {max_expiry_s} s ahead"),
        ));
    }
    Ok(SignedRequest { body: signed, signature })
}

/// The handler of `POST /v1/tx`.
pub async fn submit_tx(
    AxumState(app): AxumState<AppState>,
    Extension(rate_limit): Extension<TxRateLimit>,
    Extension(keys): Extension<KeyCache>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| body_error(&e))?;
    let request = authenticate(&body, crate::now_unix_ms() / 1000, app.config.max_expiry_s, &keys)?;
    if let Some(response) = rate_limit.refusal(&app, &request.body.body().signer) {
        return Ok(response);
    }
    match app.writer.submit(request).await {
        Ok(Ok((seq, events))) => {
            let page = EVENT_PAGE_DEFAULT as usize;
            let accepted = TxAccepted::summarize(seq, &events, page);
            if events.len() > page {
                app.event_pages.keep(seq, events);
            }
            Ok(Json(accepted).into_response())
        }
        Ok(Err(rejection)) => Err(ApiError::from_rejection(&rejection)),
        Err(SubmitError::Unavailable) => {
            Err(ApiError::new(ErrorCode::Unavailable, "the server is stopping; retry later"))
        }
    }
}

/// The handler of `GET /v1/tx/{seq}/events`: a page of the events of a command this node answered with
/// more than one page (404 `events_not_found` for any other sequence number).
pub async fn tx_events(
    AxumState(app): AxumState<AppState>,
    seq: PathParam,
    Query(query): Query<EventPageQuery>,
) -> Result<Json<EventPage>, ApiError> {
    let seq: u64 = seq.id(ErrorCode::InvalidId, "sequence number")?;
    let events = app.event_pages.get(seq).ok_or_else(|| {
        ApiError::new(
            ErrorCode::EventsNotFound,
            format!("this node keeps no events for sequence number {seq}: all of its events were in its answer, or they are too old"),
        )
    })?;
    Ok(Json(EventPage::of(seq, &events, &query)))
}

/// The per-signer limit of `POST /v1/tx`: a keyed GCRA token bucket (`governor`) of
/// [`ServerConfig::rate_limit_per_s`] requests per second with bursts of [`ServerConfig::rate_limit_burst`],
/// installed by the router (one per server). Counted after the signature verifies, so only a key's holder
/// spends its budget. The operator and the guardians (the clock, attestations, prices) are not limited.
#[derive(Clone)]
pub struct TxRateLimit(Option<Arc<governor::DefaultKeyedRateLimiter<AccountKey>>>);

/// Above this many tracked signers, the buckets that are full again are dropped.
const RATE_LIMIT_TRACKED_MAX: usize = 100_000;

impl TxRateLimit {
    /// The limit of `config` (none when `rate_limit_per_s` is `None` or 0).
    pub fn new(config: &ServerConfig) -> Self {
        let quota = config.rate_limit_per_s.and_then(std::num::NonZeroU32::new).map(|per_s| {
            let burst = std::num::NonZeroU32::new(config.rate_limit_burst).unwrap_or(per_s);
            governor::Quota::per_second(per_s).allow_burst(burst)
        });
        TxRateLimit(quota.map(|quota| Arc::new(governor::RateLimiter::keyed(quota))))
    }

    /// `Some(429 rate_limited)` with `Retry-After` when `signer` is over its budget.
    fn refusal(&self, app: &AppState, signer: &AccountKey) -> Option<Response> {
        use governor::clock::{Clock, DefaultClock};
        let limiter = self.0.as_ref()?;
        if limiter.len() > RATE_LIMIT_TRACKED_MAX {
            limiter.retain_recent();
        }
        let not_until = limiter.check_key(signer).err()?;
        let exempt = {
            let replica = app.replica.read();
            let params = replica.state().params();
            *signer == params.operator || params.is_guardian(signer)
        };
        if exempt {
            return None;
        }
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let message = format!(
            "too many requests from this account: at most {} requests per second (bursts of {}); retry in {} ms",
            app.config.rate_limit_per_s.unwrap_or(0),
            app.config.rate_limit_burst,
            wait.as_millis().max(1)
        );
        let mut response = ApiError::new(ErrorCode::RateLimited, message).into_response();
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds.max(1)));
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signer's key is decoded once and kept; a weak or non-canonical key is refused every time and
    /// never kept; a signature still verifies only over its own body with its signer's key.
    #[test]
    fn keys_are_decoded_once_and_weak_keys_are_never_kept() {
        use ed25519_dalek::{Signer, SigningKey};
        let keys = KeyCache::default();
        let key = SigningKey::from_bytes(&[7; 32]);
        let signer = AccountKey(key.verifying_key().to_bytes());
        assert_eq!(keys.key(&signer).expect("a strong key"), key.verifying_key());
        assert_eq!(keys.0.read().len(), 1);
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(keys.key(&AccountKey(identity)).is_err(), "the identity point is of small order");
        assert_eq!(keys.0.read().len(), 1, "a refused key is not kept");
        let text = format!(
            r#"{{"signer":"{}","nonce":1,"expiry":9,"command":{{"register_account":{{}}}}}}"#,
            hex::encode(signer.0)
        );
        let body = SignedBody::parse(text).expect("parses");
        let signature = key.sign(&body.signing_bytes()).to_bytes();
        let cached = keys.key(&signer).expect("kept");
        assert!(body.verify_with_key(&cached, &signature).is_ok());
        let mut forged = signature;
        forged[0] ^= 1;
        assert!(body.verify_with_key(&cached, &forged).is_err());
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(body.verify_with_key(&other, &signature).is_err(), "another signer's key");
    }

    /// The body is JSON text inside the envelope: an object in its place (the scheme v1 shape) is refused,
    /// and so is a body text with an unknown field, each with a message naming the problem.
    #[test]
    fn the_body_is_text_parsed_strictly() {
        let signer = "d7".repeat(32);
        let text =
            format!(r#"{{"signer":"{signer}","nonce":1,"expiry":9,"command":{{"register_account":{{}}}}}}"#);
        let envelope = serde_json::json!({ "body": text, "signature": "00".repeat(64) }).to_string();
        let (signed, _) = decode(envelope.as_bytes()).expect("decodes");
        assert_eq!(signed.text(), text);
        let object = format!(r#"{{"body": {text}, "signature": "{}"}}"#, "00".repeat(64));
        assert!(decode(object.as_bytes()).is_err(), "a v1 object body is refused");
        let unknown = text.replace(r#""nonce":1"#, r#""nonce":1,"memo":"x""#);
        let envelope = serde_json::json!({ "body": unknown, "signature": "00".repeat(64) }).to_string();
        let error = decode(envelope.as_bytes()).expect_err("refused");
        assert!(format!("{error:?}").contains("memo"), "{error:?}");
    }
}
