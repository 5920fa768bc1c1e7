//! Targets `keystore` and `mnemonic`: the wallet's encrypted key file (`Keystore::from_json`, what
//! `tfeco wallet` loads) and BIP-39 recovery phrases as a person types them (`Mnemonic::parse`).
//!
//! `keystore` asserts: no panic; an accepted keystore re-encodes to JSON that decodes to the same
//! keystore and encodes the same; its public key decodes; when its Argon2 costs are small enough to try
//! per input, decrypting with the seeds' password either fails or gives the key of the stored public key
//! (a changed public key or ciphertext is never accepted as another key).
//!
//! `mnemonic` asserts: no panic; an accepted phrase written back (single spaces, lower case) parses to the
//! same phrase, whose entropy encodes it again; any 16 to 32 bytes of entropy give a phrase that parses back
//! to them.

use tfeco_wallet::keystore::{KdfParams, Keystore};
use tfeco_wallet::mnemonic::Mnemonic;

use crate::Verdict;

/// The password of the seed keystores.
pub const PASSWORD: &str = "fuzzing keystores since 2026";

/// Argon2 costs at most this cheap are tried on every accepted keystore (the seeds use
/// [`KdfParams::fast_for_tests`]); dearer ones would slow the fuzzer down to a few inputs a second.
fn cheap(params: KdfParams) -> bool {
    params.m_cost_kib <= 1024 && params.t_cost <= 2 && params.p_cost <= 2
}

/// The body of target `keystore`.
pub fn keystore(data: &[u8]) -> Verdict {
    let Some(text) = crate::text(data) else { return Verdict::Refused };
    let Ok(keystore) = Keystore::from_json(text) else { return Verdict::Refused };
    let json = keystore.to_json();
    let again =
        Keystore::from_json(&json).unwrap_or_else(|e| panic!("a re-encoded keystore is refused: {e}"));
    assert_eq!(again, keystore, "a re-encoded keystore decodes to another");
    assert_eq!(again.to_json(), json, "the keystore encoding is not stable");
    let public = keystore.public_key().expect("an accepted keystore has a valid public key");
    if cheap(keystore.kdf_params()) {
        if let Ok(key) = keystore.decrypt(PASSWORD) {
            assert_eq!(key.verifying_key(), public, "decryption gave the key of another account");
        }
    }
    Verdict::Accepted
}

/// The body of target `mnemonic`.
pub fn mnemonic(data: &[u8]) -> Verdict {
    entropy_round_trip(data);
    let Some(text) = crate::text(data) else { return Verdict::Refused };
    let Ok(mnemonic) = Mnemonic::parse(text) else { return Verdict::Refused };
    let phrase = mnemonic.phrase();
    let again = Mnemonic::parse(&phrase).unwrap_or_else(|e| panic!("a written-back phrase is refused: {e}"));
    assert!(again == mnemonic, "a written-back phrase parses to another");
    assert_eq!(again.word_count(), phrase.split(' ').count());
    let from_entropy = Mnemonic::from_entropy(&mnemonic.entropy()).expect("a phrase's entropy is valid");
    assert!(from_entropy == mnemonic, "the phrase's entropy encodes another phrase");
    Verdict::Accepted
}

/// The longest valid entropy prefix of `data` (16, 20, 24, 28 or 32 bytes) encodes a phrase that parses
/// back to it.
fn entropy_round_trip(data: &[u8]) {
    let Some(len) = [32, 28, 24, 20, 16].into_iter().find(|len| data.len() >= *len) else { return };
    let mnemonic = Mnemonic::from_entropy(&data[..len]).expect("16 to 32 bytes in steps of 4 are valid");
    let parsed = Mnemonic::parse(&mnemonic.phrase()).expect("a generated phrase parses");
    assert_eq!(parsed.entropy().as_slice(), &data[..len], "a phrase does not give its entropy back");
}
