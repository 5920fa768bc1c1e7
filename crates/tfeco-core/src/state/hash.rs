//! The state hash: blake3 over a domain tag, the state encoding version and the canonical (postcard)
//! encoding of every part of the state in a fixed order (time, counters, ledger, then each slice in
//! dependency order). Equal command logs give equal hashes (spec `decisions.md` §14); the encoding of each
//! slice is its field order, so a change to any slice's fields changes the hash and must bump
//! [`STATE_ENCODING_VERSION`] (see `docs/journal.md`).

use super::State;

/// Version of the state's canonical encoding covered by the hash.
pub const STATE_ENCODING_VERSION: u32 = 2;

impl State {
    /// blake3 of the canonical encoding of the whole state, as 64 hex characters.
    pub fn state_hash(&self) -> String {
        hash_encoding(&self.snapshot_bytes())
    }

    /// The state hash of a state whose canonical encoding is `bytes` ([`State::snapshot_bytes`]), without
    /// decoding them: `State::hash_of_snapshot_bytes(&s.snapshot_bytes()) == s.state_hash()`. For bytes that
    /// are not such an encoding the result is a hash no state has (blake3 is collision resistant).
    pub fn hash_of_snapshot_bytes(bytes: &[u8]) -> String {
        hash_encoding(bytes)
    }
}

/// blake3 of the domain tag, [`STATE_ENCODING_VERSION`] and `encoding`, as 64 hex characters.
fn hash_encoding(encoding: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"tfeco/state\0");
    hasher.update(&STATE_ENCODING_VERSION.to_le_bytes());
    hasher.update(encoding);
    hasher.finalize().to_hex().to_string()
}
