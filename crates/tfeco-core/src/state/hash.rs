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
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"tfeco/state\0");
        hasher.update(&STATE_ENCODING_VERSION.to_le_bytes());
        let bytes = postcard::to_allocvec(self).expect("encoding the state into a Vec cannot fail");
        hasher.update(&bytes);
        hasher.finalize().to_hex().to_string()
    }
}
