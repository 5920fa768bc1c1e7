//! Deterministic keys of the agents: derived from public seeds, so runs are reproducible and anyone can
//! recompute them. Never use such a key (or a data directory made with one) for real value.

use ed25519_dalek::SigningKey;
use tfeco_core::AccountKey;

/// The signing key `blake3("{namespace}/{role}/{index}")`, e.g. `seeded_key("tfeco-demo", "farmer", 3)`.
pub fn seeded_key(namespace: &str, role: &str, index: usize) -> SigningKey {
    let seed = blake3::hash(format!("{namespace}/{role}/{index}").as_bytes());
    SigningKey::from_bytes(seed.as_bytes())
}

/// A synthetic account for the in-process core, which does not check signatures: the public key of the
/// seed whose byte 0 is the role and bytes 1..9 the index (little endian), the rest zero. A real key
/// (never a weak one, which cannot register: decisions §2), distinct per (role, index).
pub fn synthetic_account(role: u8, index: u64) -> AccountKey {
    AccountKey(synthetic_signing_key(role, index).verifying_key().to_bytes())
}

/// The signing key behind [`synthetic_account`]`(role, index)`: what signs an in-process run's commands
/// when they are played through a real node (never a key for real value: its seed is public).
pub fn synthetic_signing_key(role: u8, index: u64) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[0] = role;
    seed[1..9].copy_from_slice(&index.to_le_bytes());
    SigningKey::from_bytes(&seed)
}
