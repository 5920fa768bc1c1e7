//! Targets `signed_request` and `request_body`: the signed-request envelope of `POST /v1/tx`
//! (`{"body": "<JSON text>", "signature": "<hex>"}`) and the body's JSON text with its command.
//!
//! `signed_request` decodes exactly as the node does (the envelope strictly, then [`SignedBody::parse`],
//! errors through the node's JSON error mapping) and asserts: no panic; an accepted envelope and body
//! re-encode to what decodes to the same values; the body's text is kept verbatim (it is what the
//! signature covers and the journal stores) and its journal payload decodes back to it; a signature check
//! never panics, and one that passes was made over exactly this text by the signer.
//!
//! `request_body` reads one body per line and applies each accepted command, in order, to the core state of
//! a fixed genesis whose operator key the seeds use ([`operator_key`]), an hour apart. Asserts: every
//! invariant holds after each command, the state never halts, and the final state's snapshot decodes to a
//! state with the same hash (what the node writes, it can read back).

use std::sync::OnceLock;

use ed25519_dalek::{Signer, SigningKey};
use tfeco_api::tx::TxRequest;
use tfeco_core::{AccountKey, Genesis, Rejection, SignedBody, State};
use tfeco_server::api::error::ApiError;

use crate::Verdict;

/// The genesis time of the fuzzed state (2026-01-01T00:00:00Z), unix seconds.
pub const START: i64 = 1_767_225_600;

/// The operator's signing key of the fuzzed genesis (a fixed test key: seeds sign operator commands).
pub fn operator_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// The account of `key`.
pub fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

/// The genesis the fuzzed commands apply to: the 2025 parameters and catalogue, [`operator_key`]'s account.
pub fn genesis() -> Genesis {
    Genesis::tfgrid4_2025(account(&operator_key()), START)
}

/// A fresh state of [`genesis`] (built once, cloned per input).
fn fresh_state() -> State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| State::new(genesis())).clone()
}

/// The envelope `POST /v1/tx` takes for `body`, signed by `key` (as the wallet signs).
pub fn sign(key: &SigningKey, body: &SignedBody) -> TxRequest {
    let signature = key.sign(&body.signing_bytes());
    TxRequest { body: body.text().to_owned(), signature: hex::encode(signature.to_bytes()) }
}

/// The body of target `signed_request`.
pub fn signed_request(data: &[u8]) -> Verdict {
    let request: TxRequest = match serde_json::from_slice(data) {
        Ok(request) => request,
        Err(error) => {
            let _ = ApiError::from_json_error(&error);
            return Verdict::Refused;
        }
    };
    let json = serde_json::to_vec(&request).expect("an envelope encodes");
    assert_eq!(serde_json::from_slice::<TxRequest>(&json).ok().as_ref(), Some(&request));
    let signed = match SignedBody::parse(request.body.clone()) {
        Ok(signed) => signed,
        Err(error) => {
            let _ = ApiError::from_json_error(&error);
            return Verdict::Refused;
        }
    };
    body_properties(&signed, &request.body);
    if let Ok(signature) = hex::decode(&request.signature) {
        if signed.verify(&signature).is_ok() {
            let key = ed25519_dalek::VerifyingKey::from_bytes(signed.body().signer.as_bytes())
                .expect("a verified signer is a key");
            let signature = ed25519_dalek::Signature::from_slice(&signature).expect("a verified signature");
            assert!(key.verify_strict(&signed.signing_bytes(), &signature).is_ok());
        }
    }
    Verdict::Accepted
}

/// An accepted body keeps its text verbatim, its journal payload decodes back to it, and its canonical
/// encoding decodes to the same body.
fn body_properties(signed: &SignedBody, text: &str) {
    assert_eq!(signed.text(), text, "the signed text must be kept verbatim");
    let payload = signed.to_payload();
    assert_eq!(SignedBody::from_payload(&payload).as_ref(), Ok(signed), "the journal payload round trip");
    let canonical = SignedBody::encode(signed.body().clone());
    let again = SignedBody::parse(canonical.text()).unwrap_or_else(|e| {
        panic!("the canonical encoding {:?} of an accepted body is refused: {e}", canonical.text())
    });
    assert_eq!(again.body(), signed.body(), "the canonical encoding decodes to another body");
    assert_eq!(SignedBody::encode(again.body().clone()).text(), canonical.text(), "unstable encoding");
}

/// The body of target `request_body`.
pub fn request_body(data: &[u8]) -> Verdict {
    let Some(text) = crate::text(data) else { return Verdict::Refused };
    let mut state = fresh_state();
    let mut accepted = false;
    for (hour, line) in (0i64..).zip(text.lines().take(64)) {
        let Ok(signed) = SignedBody::parse(line) else { continue };
        accepted = true;
        body_properties(&signed, line);
        let at = START.saturating_add(hour.saturating_mul(3600)).max(state.now());
        if let Err(Rejection::Halted { reason }) = state.apply_at(&signed.into_envelope(), at) {
            panic!("the state halted: {reason}");
        }
        if let Err(broken) = state.check_invariants() {
            panic!("an invariant fails after line {}: {broken}", hour + 1);
        }
    }
    let bytes = state.snapshot_bytes();
    let restored = State::from_snapshot_bytes(&bytes, &state.state_hash())
        .unwrap_or_else(|e| panic!("the state's own snapshot is refused: {e}"));
    assert_eq!(restored.state_hash(), state.state_hash());
    Verdict::from_bool(accepted)
}
