//! Signed requests: the body a client signs (signer, nonce, expiry, command), the signature scheme, signed
//! reads, and the versioned journal payload that keeps the signed bytes.
//!
//! # Signing (scheme v2, issue 12)
//!
//! A client writes the JSON text of `{"signer", "nonce", "expiry", "command"}` in any layout (key order,
//! whitespace), signs [`SIGNING_DOMAIN`] followed by the UTF-8 bytes of that text exactly as it will send
//! them, and sends the text itself (`POST /v1/tx {"body": "<text>", "signature": "<hex>"}`). No canonical
//! form is needed: the node verifies the bytes it received and parses them strictly ([`SignedBody::parse`]:
//! unknown and duplicate fields refused), and the journal keeps the same bytes, so anyone can re-verify
//! every signature on replay.
//!
//! # Journal payload formats
//!
//! One version byte, then the signed bytes. A payload of an unknown version is refused with
//! [`RequestError::UnknownFormat`], never guessed at.
//!
//! - Formats 1 and 2 (retired): the postcard-signed scheme v1 of the first releases (format 1 also under
//!   rules that changed since). Such a journal is refused with [`RequestError::RetiredFormat`]: replay it
//!   with the release that wrote it.
//! - Format 3 ([`PAYLOAD_FORMAT`], written today): the JSON text of the body exactly as signed (scheme v2).
//!   The entry's journaled timestamp is the command's time (decisions §2): replay applies it with
//!   [`crate::State::apply_at`] at [`command_time`].

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::command::{Command, Envelope};
use crate::ids::AccountKey;

/// The journal payload format this build writes and the only one it reads: the JSON text of the body as
/// signed (scheme v2).
pub const PAYLOAD_FORMAT: u8 = 3;

/// The format byte of a journal payload, if it is one this build reads.
///
/// Errors: [`RequestError::RetiredFormat`] for formats 1 and 2 (postcard-signed, scheme v1),
/// [`RequestError::UnknownFormat`] for an empty payload or any other version.
pub fn payload_format(payload: &[u8]) -> Result<u8, RequestError> {
    match payload.first() {
        Some(&PAYLOAD_FORMAT) => Ok(PAYLOAD_FORMAT),
        Some(&retired @ (1 | 2)) => Err(RequestError::RetiredFormat(retired)),
        other => Err(RequestError::UnknownFormat(other.copied())),
    }
}

/// The time at which a command journaled at `timestamp_ms` (the entry's timestamp, unix milliseconds) is
/// applied by a state whose time is `state_now` (unix seconds): the journaled second, never before the
/// state's time (decisions §2: the node's clock never decreases). The writer and replay both use it.
pub fn command_time(timestamp_ms: i64, state_now: i64) -> i64 {
    timestamp_ms.div_euclid(1000).max(state_now)
}

/// Nonces are below this bound, 2^63 (spec `decisions.md` §2), so that a nonce (and the next nonce a view
/// shows, `last + 1`) never wraps, and no single request can use up an account's whole nonce space.
/// A nonce at or above it is refused with `Rejection::NonceOutOfRange`.
pub const NONCE_LIMIT: u64 = 1 << 63;

/// What a client signs: signer, nonce, expiry and command, as JSON text (a [`SignedBody`]). Strict: an
/// unknown or duplicate field is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// The signing account.
    pub signer: AccountKey,
    /// Per-account strictly increasing nonce, below [`NONCE_LIMIT`] (2^63).
    pub nonce: u64,
    /// Unix seconds after which the server refuses the request.
    pub expiry: i64,
    /// The command.
    pub command: Command,
}

/// Domain separation prefix of signed requests (scheme v2): the signature covers these 17 bytes, then the
/// body's JSON text.
pub const SIGNING_DOMAIN: &[u8] = b"tfeco/v2/request\0";

/// Why a signed request could not be decoded or verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The payload's format byte is not one this build reads (or the payload is empty).
    UnknownFormat(Option<u8>),
    /// The payload is of a format this build no longer replays (its rules changed since): replay such a
    /// journal with the release that wrote it.
    RetiredFormat(u8),
    /// The bytes are not a valid encoding.
    Decode,
    /// The signer is not a valid ed25519 public key.
    BadKey,
    /// The signature does not verify.
    BadSignature,
}

impl RequestBody {
    /// The envelope the core applies.
    pub fn into_envelope(self) -> Envelope {
        Envelope { signer: self.signer, nonce: self.nonce, command: self.command }
    }
}

/// A request body exactly as its client signed it: the JSON text (kept verbatim: it is what the signature
/// covers and what the journal stores) and the [`RequestBody`] it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBody {
    text: String,
    body: RequestBody,
}

impl SignedBody {
    /// Parses a body's JSON text strictly: exactly the four fields of [`RequestBody`] (an unknown or a
    /// duplicate field is refused, so no two parsers can read one text differently), a command of a known
    /// shape, integers where integers are due.
    ///
    /// Errors: the JSON decoder's, with the line and column of the problem.
    pub fn parse(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        let body = serde_json::from_str(&text)?;
        Ok(SignedBody { text, body })
    }

    /// The body encoded as compact JSON text (how this project's own clients write it).
    pub fn encode(body: RequestBody) -> Self {
        let text = serde_json::to_string(&body).expect("a request body always encodes as JSON");
        SignedBody { text, body }
    }

    /// The JSON text exactly as signed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the text says.
    pub fn body(&self) -> &RequestBody {
        &self.body
    }

    /// The envelope the core applies.
    pub fn into_envelope(self) -> Envelope {
        self.body.into_envelope()
    }

    /// The exact bytes an ed25519 signature covers: [`SIGNING_DOMAIN`] + the text's UTF-8 bytes.
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes_of(self.text.as_bytes())
    }

    /// Verifies `signature` (64 bytes) over this text with the signer's key ([`verify_strictly`]).
    ///
    /// Errors: [`RequestError::BadKey`], [`RequestError::BadSignature`].
    pub fn verify(&self, signature: &[u8]) -> Result<(), RequestError> {
        verify_signed(&self.body.signer, self.text.as_bytes(), signature)
    }

    /// [`SignedBody::verify`] with the signer's key as [`strict_key`] returned it for this body's signer
    /// (the caller keeps decoded keys; a key of another signer fails with [`RequestError::BadKey`]).
    ///
    /// Errors: [`RequestError::BadKey`], [`RequestError::BadSignature`].
    pub fn verify_with_key(&self, key: &VerifyingKey, signature: &[u8]) -> Result<(), RequestError> {
        if key.as_bytes() != self.body.signer.as_bytes() {
            return Err(RequestError::BadKey);
        }
        verify_with_strict_key(key, &signing_bytes_of(self.text.as_bytes()), signature)
    }

    /// The journal payload: [`PAYLOAD_FORMAT`] then the text's bytes.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(self.text.len().saturating_add(1));
        payload.push(PAYLOAD_FORMAT);
        payload.extend_from_slice(self.text.as_bytes());
        payload
    }

    /// Decodes a journal payload written by [`SignedBody::to_payload`].
    ///
    /// Errors: [`RequestError::RetiredFormat`], [`RequestError::UnknownFormat`], [`RequestError::Decode`]
    /// (not UTF-8, or not a body [`SignedBody::parse`] accepts).
    pub fn from_payload(payload: &[u8]) -> Result<Self, RequestError> {
        let text = std::str::from_utf8(signed_part(payload)?).map_err(|_| RequestError::Decode)?;
        SignedBody::parse(text).map_err(|_| RequestError::Decode)
    }
}

/// Domain separation prefix of signed reads (views of one's own sealed bids and orders, the journal): the
/// signature covers it, then the method, the path, the query and a client-chosen read nonce (issue 10,
/// item 12), each followed by a zero byte. Scheme v2, like requests: bytes exactly as sent, no encoding.
pub const READ_SIGNING_DOMAIN: &[u8] = b"tfeco/v2/read\0";

/// What a signed read covers: the HTTP request it authorizes and when and how uniquely it was signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRequest<'a> {
    /// The HTTP method, upper case (`GET`).
    pub method: &'a str,
    /// The path, exactly as sent (no query).
    pub path: &'a str,
    /// The query string exactly as sent, without the `?` (empty when none).
    pub query: &'a str,
    /// Unix seconds at which the client signed it.
    pub timestamp: i64,
    /// A client-chosen value that makes each read's signature unique (e.g. 32 random hex characters).
    pub nonce: &'a str,
}

impl ReadRequest<'_> {
    /// The bytes a client signs: the domain prefix, then the method, path, query, decimal timestamp and
    /// nonce, each followed by a zero byte (so no field can run into the next).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let timestamp = self.timestamp.to_string();
        let mut bytes = READ_SIGNING_DOMAIN.to_vec();
        for field in [self.method, self.path, self.query, &timestamp, self.nonce] {
            bytes.extend_from_slice(field.as_bytes());
            bytes.push(0);
        }
        bytes
    }

    /// Verifies a signed read by `signer` strictly ([`verify_strictly`]).
    ///
    /// Errors: [`RequestError::BadKey`], [`RequestError::BadSignature`].
    pub fn verify(&self, signer: &AccountKey, signature: &[u8]) -> Result<(), RequestError> {
        verify_strictly(signer, &self.signing_bytes(), signature)
    }
}

/// The signed part of a journal payload: the bytes after a known format byte.
fn signed_part(payload: &[u8]) -> Result<&[u8], RequestError> {
    payload_format(payload)?;
    Ok(payload.get(1..).unwrap_or_default())
}

/// Domain prefix + the signed encoding.
fn signing_bytes_of(encoded: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIGNING_DOMAIN.len().saturating_add(encoded.len()));
    bytes.extend_from_slice(SIGNING_DOMAIN);
    bytes.extend_from_slice(encoded);
    bytes
}

fn verify_signed(signer: &AccountKey, encoded: &[u8], signature: &[u8]) -> Result<(), RequestError> {
    verify_strictly(signer, &signing_bytes_of(encoded), signature)
}

/// Decodes an account key strictly (spec `decisions.md` §2, RFC 8032 strict): the 32 bytes must be the
/// canonical encoding of a curve point (y below the field prime, no sign bit on x = 0) and the point must
/// not be of small order. The 8 points of small order (the identity among them) are weak: a signature
/// with R = identity and s = 0 verifies for the identity key under any message with lax verification.
///
/// Errors: [`RequestError::BadKey`] when the key does not decode, is not canonical, or is weak.
pub fn strict_key(key: &AccountKey) -> Result<VerifyingKey, RequestError> {
    let decoded = VerifyingKey::from_bytes(key.as_bytes()).map_err(|_| RequestError::BadKey)?;
    if decoded.is_weak() || decoded.to_edwards().compress().to_bytes() != *key.as_bytes() {
        return Err(RequestError::BadKey);
    }
    Ok(decoded)
}

/// `true` when `key` may hold an account: [`strict_key`] accepts it.
pub fn is_strong_key(key: &AccountKey) -> bool {
    strict_key(key).is_ok()
}

/// Strict ed25519 verification (spec `decisions.md` §2, RFC 8032 strict): the key must pass
/// [`strict_key`] (canonical, not small order), the signature must be canonical (s below the group order,
/// R canonical and not of small order) and verify with `verify_strict`.
///
/// Errors: [`RequestError::BadKey`], then [`RequestError::BadSignature`].
pub fn verify_strictly(signer: &AccountKey, message: &[u8], signature: &[u8]) -> Result<(), RequestError> {
    verify_with_strict_key(&strict_key(signer)?, message, signature)
}

/// [`verify_strictly`] with a key that [`strict_key`] already returned (a caller that sees one signer
/// often keeps its decoded key, so the key's decompression and checks are not repeated per signature):
/// the signature must be canonical (s below the group order, R canonical and not of small order) and
/// verify with `verify_strict`.
///
/// Errors: [`RequestError::BadSignature`].
pub fn verify_with_strict_key(
    key: &VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), RequestError> {
    let signature = Signature::from_slice(signature).map_err(|_| RequestError::BadSignature)?;
    key.verify_strict(message, &signature).map_err(|_| RequestError::BadSignature)
}

/// Verifies an ed25519 signature by `signer` over a journal payload ([`SignedBody::to_payload`]).
pub fn verify_payload(signer: &AccountKey, payload: &[u8], signature: &[u8]) -> Result<(), RequestError> {
    verify_signed(signer, signed_part(payload)?, signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn payloads_carry_their_format_and_keep_the_signed_bytes() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let body = RequestBody {
            signer: AccountKey(key.verifying_key().to_bytes()),
            nonce: 1,
            expiry: 99,
            command: Command::RegisterAccount {},
        };
        let signed = SignedBody::encode(body.clone());
        let signature = key.sign(&signed.signing_bytes()).to_bytes();
        let payload = signed.to_payload();
        assert_eq!(payload[0], PAYLOAD_FORMAT);
        assert_eq!(&payload[1..], signed.text().as_bytes(), "the journal keeps the signed text verbatim");
        assert_eq!(SignedBody::from_payload(&payload), Ok(signed.clone()));
        assert_eq!(verify_payload(&body.signer, &payload, &signature), Ok(()));
        let mut other = payload.clone();
        other[0] = 4;
        assert_eq!(SignedBody::from_payload(&other), Err(RequestError::UnknownFormat(Some(4))));
        for retired in [1, 2] {
            other[0] = retired;
            assert_eq!(SignedBody::from_payload(&other), Err(RequestError::RetiredFormat(retired)));
        }
        assert_eq!(payload_format(&payload), Ok(3));
        assert_eq!(SignedBody::from_payload(&[]), Err(RequestError::UnknownFormat(None)));
        assert!(SignedBody::from_payload(&payload[1..]).is_err(), "an unversioned payload is refused");
        assert_eq!(SignedBody::from_payload(&[3, 0xff, 0xfe]), Err(RequestError::Decode), "not UTF-8");
    }

    /// Scheme v2: the signature covers `tfeco/v2/request\0` and the text exactly as sent, in whatever layout
    /// the client wrote it; one changed byte (even whitespace) breaks it.
    #[test]
    fn any_layout_verifies_over_its_own_bytes_and_no_other() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let signer = hex::encode(key.verifying_key().to_bytes());
        let text = format!(
            "{{\n  \"command\": {{\"transfer\": {{\"to\": \"{signer}\", \"amount\": \"12.5\", \"asset\": \"TFT\"}}}},\n  \
             \"expiry\": 99, \"nonce\": 7, \"signer\": \"{signer}\"\n}}"
        );
        let signed = SignedBody::parse(text.clone()).expect("a valid body in its own layout");
        let mut message = b"tfeco/v2/request\0".to_vec();
        message.extend_from_slice(text.as_bytes());
        assert_eq!(signed.signing_bytes(), message);
        let signature = key.sign(&message).to_bytes();
        assert_eq!(signed.verify(&signature), Ok(()));
        assert_eq!(signed.body().nonce, 7);
        let respaced = SignedBody::parse(text.replacen("\n", " ", 1)).unwrap();
        assert_eq!(respaced.body(), signed.body(), "the same body...");
        assert_eq!(
            respaced.verify(&signature),
            Err(RequestError::BadSignature),
            "...but not the signed bytes"
        );
        let canonical = SignedBody::encode(signed.body().clone());
        assert_eq!(canonical.verify(&signature), Err(RequestError::BadSignature));
    }

    /// Strict parsing: an unknown field, a duplicate field (which two parsers could read differently), a
    /// float nonce, a missing field or trailing text is refused.
    #[test]
    fn a_body_is_parsed_strictly() {
        let signer = "d7".repeat(32);
        let ok =
            format!(r#"{{"signer":"{signer}","nonce":1,"expiry":9,"command":{{"register_account":{{}}}}}}"#);
        assert!(SignedBody::parse(ok.clone()).is_ok());
        for bad in [
            ok.replace(r#""nonce":1"#, r#""nonce":1,"memo":"x""#),
            ok.replace(r#""nonce":1"#, r#""nonce":1,"nonce":2"#),
            ok.replace(r#""nonce":1"#, r#""nonce":1.5"#),
            ok.replace(r#""nonce":1,"#, ""),
            ok.replace(r#"{"register_account":{}}"#, r#"{"register_account":{"x":1}}"#),
            ok.replace(r#"{"register_account":{}}"#, r#"{"no_such_command":{}}"#),
            format!("{ok} {{}}"),
        ] {
            assert!(SignedBody::parse(bad.clone()).is_err(), "{bad}");
        }
    }

    /// The 8 points of small order (the torsion subgroup), canonically encoded.
    pub(crate) const SMALL_ORDER_POINTS: [&str; 8] = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ];

    fn key_of(hex_key: &str) -> AccountKey {
        AccountKey(hex::decode(hex_key).unwrap().try_into().unwrap())
    }

    /// The exact attack of issue 10 item 10: signer = the identity point, signature R = identity, s = 0,
    /// over a request, a journal payload and a signed read; then every point of small order with the same
    /// forged signature. Each is refused as a bad key, so nothing reaches a rule.
    #[test]
    fn the_small_order_keys_and_the_identity_forgery_are_refused() {
        let identity = "01".to_owned() + &"00".repeat(31);
        let forged = hex::decode(identity.clone() + &"00".repeat(32)).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for point in SMALL_ORDER_POINTS {
            let signer = key_of(point);
            // Each is a point of order dividing 8, and they are 8 distinct points: the whole torsion group.
            let decoded = VerifyingKey::from_bytes(signer.as_bytes()).expect("a curve point");
            assert!(decoded.is_weak(), "{point}");
            assert_eq!(hex::encode(decoded.to_edwards().mul_by_cofactor().compress().to_bytes()), identity);
            assert!(seen.insert(point));
            let body = RequestBody { signer, nonce: 1, expiry: 9, command: Command::RegisterAccount {} };
            let body = SignedBody::encode(body);
            assert_eq!(body.verify(&forged), Err(RequestError::BadKey), "{point}");
            assert_eq!(verify_payload(&signer, &body.to_payload(), &forged), Err(RequestError::BadKey));
            let read = ReadRequest {
                method: "GET",
                path: "/v1/exchange/orders",
                query: "",
                timestamp: 9,
                nonce: "n",
            };
            assert_eq!(read.verify(&signer, &forged), Err(RequestError::BadKey));
            assert!(!is_strong_key(&signer));
        }
        assert_eq!(seen.len(), 8);
    }

    /// Non-canonical encodings (y = p + v for v in 0..=18, with or without the sign bit) are refused even
    /// where they decode to a point of large order: one point has one account key. Before: the keys that
    /// decode to large-order points were accepted by `verify_strictly` (ed25519-dalek checks no canonicity
    /// of the public key).
    #[test]
    fn non_canonical_key_encodings_are_refused() {
        let mut large_order = 0;
        for v in 0u8..=18 {
            for sign in [0u8, 0x80] {
                let mut bytes = [0xff; 32];
                bytes[0] = 0xed + v;
                bytes[31] = 0x7f | sign;
                let key = AccountKey(bytes);
                if let Ok(decoded) = VerifyingKey::from_bytes(&bytes) {
                    large_order += usize::from(!decoded.is_weak());
                }
                assert_eq!(strict_key(&key).err(), Some(RequestError::BadKey), "p + {v}, sign {sign}");
            }
        }
        assert!(large_order > 0, "some non-canonical encodings are of large-order points");
        let key = SigningKey::from_bytes(&[4; 32]);
        assert!(is_strong_key(&AccountKey(key.verifying_key().to_bytes())));
    }

    /// A read's signature covers each field: changing the method, path, query, timestamp or nonce (or moving
    /// bytes between path and query) breaks it.
    #[test]
    fn a_signed_read_is_bound_to_its_method_path_query_time_and_nonce() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let signer = AccountKey(key.verifying_key().to_bytes());
        let read = ReadRequest { method: "GET", path: "/v1/a", query: "x=1", timestamp: 9, nonce: "n1" };
        let signature = key.sign(&read.signing_bytes()).to_bytes();
        assert_eq!(read.verify(&signer, &signature), Ok(()));
        for other in [
            ReadRequest { method: "POST", ..read },
            ReadRequest { path: "/v1/b", ..read },
            ReadRequest { query: "x=2", ..read },
            ReadRequest { path: "/v1/a?x=1", query: "", ..read },
            ReadRequest { timestamp: 10, ..read },
            ReadRequest { nonce: "n2", ..read },
        ] {
            assert_eq!(other.verify(&signer, &signature), Err(RequestError::BadSignature), "{other:?}");
        }
    }

    #[test]
    fn the_command_time_is_the_journaled_second_never_before_the_state() {
        assert_eq!(command_time(1_700_000_000_999, 1_600_000_000), 1_700_000_000);
        assert_eq!(command_time(1_500_000_000_000, 1_600_000_000), 1_600_000_000);
        assert_eq!(command_time(-1, 0), 0);
    }

    #[test]
    fn a_weak_key_with_a_forged_signature_is_refused() {
        let body = SignedBody::encode(RequestBody {
            signer: AccountKey([0; 32]),
            nonce: 1,
            expiry: 9,
            command: Command::RegisterAccount {},
        });
        assert_eq!(body.verify(&[0; 64]), Err(RequestError::BadKey), "the all-zero key verifies everything");
        assert_eq!(
            verify_payload(&body.body().signer, &body.to_payload(), &[0; 64]),
            Err(RequestError::BadKey)
        );
        let read =
            ReadRequest { method: "GET", path: "/v1/exchange/orders", query: "", timestamp: 9, nonce: "1" };
        assert_eq!(read.verify(&body.body().signer, &[0; 64]), Err(RequestError::BadKey));
        let key = SigningKey::from_bytes(&[4; 32]);
        let message = b"tfeco";
        let signer = AccountKey(key.verifying_key().to_bytes());
        assert_eq!(verify_strictly(&signer, message, &key.sign(message).to_bytes()), Ok(()));
        assert_eq!(
            verify_strictly(&signer, b"other", &key.sign(message).to_bytes()),
            Err(RequestError::BadSignature)
        );
    }
}
