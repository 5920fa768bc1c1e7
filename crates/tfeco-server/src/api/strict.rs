//! Strict ed25519 verification at the door: the core verifies signatures with `verify`, which accepts a
//! weak (small-order) public key with a forged signature (e.g. the all-zero key and the all-zero signature
//! verify for every message). The server refuses such keys and non-canonical signatures before anything
//! reaches the core, for signed requests and signed reads alike.

use ed25519_dalek::{Signature, VerifyingKey};
use tfeco_core::AccountKey;

/// `true` when `signature` verifies `message` for `signer` under strict rules (no weak key, canonical
/// signature).
pub fn verifies_strictly(signer: &AccountKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(signer.as_bytes()) else { return false };
    let Ok(signature) = Signature::from_slice(signature) else { return false };
    !key.is_weak() && key.verify_strict(message, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    #[test]
    fn a_weak_key_with_a_forged_signature_is_refused_and_a_real_one_passes() {
        let message = b"tfeco";
        assert!(!verifies_strictly(&AccountKey([0; 32]), message, &[0; 64]));
        let key = SigningKey::from_bytes(&[3; 32]);
        let signer = AccountKey(key.verifying_key().to_bytes());
        assert!(verifies_strictly(&signer, message, &key.sign(message).to_bytes()));
        assert!(!verifies_strictly(&signer, b"other", &key.sign(message).to_bytes()));
    }
}
