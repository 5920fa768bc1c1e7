//! BIP-39 recovery phrases for the ed25519 account key, and the SLIP-0010 derivation from a phrase
//! to the key.
//!
//! # From words to account key
//!
//! 1. **Words (BIP-39, English).** A new phrase is 24 words from the English BIP-39 word list
//!    (2048 words): 256 bits of operating-system entropy plus an 8-bit SHA-256 checksum carried by
//!    the last word. Only the English list is supported, for writing and for reading. Recovery
//!    accepts every BIP-39 length (12, 15, 18, 21 or 24 words, so a phrase made by another BIP-39
//!    wallet can be brought in), ignores case and extra whitespace, and checks the checksum: a
//!    mistyped, missing or swapped word is refused with a typed [`MnemonicError`] rather than
//!    silently giving another account. (The checksum is 8 bits for 24 words: a random wrong word
//!    slips through with probability 1/256; a word outside the list is always caught.)
//! 2. **Seed (BIP-39).** PBKDF2-HMAC-SHA512, 2048 rounds, password = the phrase, salt =
//!    `"mnemonic" + passphrase`, both NFKD-normalized, giving 64 bytes. The optional BIP-39
//!    passphrase is the empty string when none is used. A passphrase has no checksum: a different
//!    passphrase gives a different, equally valid account, so a typo in it cannot be detected
//!    here (the CLI's `wallet recover --expect-account` catches it).
//! 3. **Key (SLIP-0010, ed25519).** The master key is HMAC-SHA512 keyed with `"ed25519 seed"`
//!    over the seed; each step is the hardened child derivation (ed25519 has no other kind). The
//!    account key is the 32-byte private key at
//!
//!    ```text
//!    m / 44' / 1952867683' / account' / 0' / 0'        (account = 0 by default)
//!    ```
//!
//!    used as the ed25519 secret seed ([`SigningKey::from_bytes`]).
//!
//! # The path is a project choice
//!
//! The shape follows BIP-44 (`purpose' / coin_type' / account' / change' / address_index'`), all
//! hardened as SLIP-0010 requires for ed25519. The coin type **1952867683 = `0x74666563`, the ASCII
//! bytes of `"tfec"`**, is this project's own choice, *not* a SLIP-0044 registration:
//!
//! - it lies outside the densely registered low range and was unassigned in the SLIP-0044 table we
//!   checked (a small number such as 1003 was not: 1003 is Nodle's), and follows the ASCII-tag
//!   convention some registered coins use (e.g. `0x57414e` "WAN");
//! - it differs from every other ed25519 wallet's path (Stellar `m/44'/148'/x'`, Solana
//!   `m/44'/501'/x'/0'`, ...), so the same words typed into another wallet never yield this
//!   account's key, and this key never signs for another chain.
//!
//! Registering a coin type would be a follow-up; existing phrases must keep deriving through this
//! path forever, since changing any number changes every recovered account.

use std::fmt;

use ed25519_dalek::{SigningKey, SECRET_KEY_LENGTH};
use hmac::digest::generic_array::GenericArray;
use hmac::digest::FixedOutput;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha512;
/// Re-exported so that callers can hold phrases, seeds and passphrases in wiped buffers without
/// depending on `zeroize` themselves.
pub use zeroize::Zeroizing;

/// BIP-44 purpose, the first (hardened) step of the account path.
pub const PURPOSE: u32 = 44;
/// Coin type of the account path: `0x74666563`, ASCII `"tfec"`; a project choice, not a
/// SLIP-0044 registration (see the module documentation).
pub const COIN_TYPE: u32 = 0x7466_6563;
/// Words in a newly generated phrase (256 bits of entropy).
pub const NEW_PHRASE_WORDS: usize = 24;
/// Added to an index to make it a hardened SLIP-0010 / BIP-32 index.
pub const HARDENED_OFFSET: u32 = 0x8000_0000;
/// HMAC key of the SLIP-0010 master key for ed25519.
const ED25519_CURVE_KEY: &[u8] = b"ed25519 seed";
/// Bytes of entropy in a newly generated phrase.
const NEW_ENTROPY_LEN: usize = NEW_PHRASE_WORDS / 3 * 4;

type HmacSha512 = Hmac<Sha512>;

/// Errors from reading a recovery phrase or deriving a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    /// The phrase does not have 12, 15, 18, 21 or 24 words.
    #[error("the recovery phrase has {0} words; a BIP-39 phrase has 12, 15, 18, 21 or 24")]
    WordCount(usize),
    /// A word is not in the English BIP-39 word list. `position` counts from 1; the word itself is
    /// left out of the message so that no part of a phrase lands in a log.
    #[error("word {position} of the recovery phrase is not in the English BIP-39 word list")]
    UnknownWord {
        /// Position of the word, counting from 1.
        position: usize,
    },
    /// Every word is in the list, but the checksum does not match: a word is wrong, missing or out
    /// of order.
    #[error("the recovery phrase checksum does not match: a word is wrong, missing or out of order")]
    Checksum,
    /// Entropy for a phrase must be 16, 20, 24, 28 or 32 bytes.
    #[error("entropy of {0} bytes; a BIP-39 phrase needs 16, 20, 24, 28 or 32")]
    EntropyLength(usize),
    /// A derivation index (before hardening) must be below 2^31.
    #[error("derivation index {0} is out of range: it must be below 2^31")]
    IndexOutOfRange(u32),
}

impl From<bip39::Error> for MnemonicError {
    fn from(error: bip39::Error) -> Self {
        match error {
            bip39::Error::BadWordCount(n) => MnemonicError::WordCount(n),
            bip39::Error::UnknownWord(index) => MnemonicError::UnknownWord { position: index + 1 },
            bip39::Error::InvalidChecksum => MnemonicError::Checksum,
            bip39::Error::BadEntropyBitCount(bits) => MnemonicError::EntropyLength(bits / 8),
            // Only the English list is enabled, so a phrase is never ambiguous; treat it as a word
            // that is not in the list rather than panic.
            bip39::Error::AmbiguousLanguages(_) => MnemonicError::UnknownWord { position: 1 },
        }
    }
}

/// A BIP-39 recovery phrase (English word list).
///
/// It is a secret: whoever has it controls every account derived from it. It has no `Display`
/// implementation and its `Debug` output shows only the word count, so it cannot end up in a log
/// by accident; the words are wiped from memory when it is dropped. Read the words with
/// [`Mnemonic::words`] or [`Mnemonic::phrase`] only to show them to the user.
#[derive(Clone, PartialEq, Eq)]
pub struct Mnemonic {
    inner: bip39::Mnemonic,
}

impl Mnemonic {
    /// A new 24-word phrase from 32 bytes of operating-system randomness.
    pub fn generate() -> Mnemonic {
        let mut entropy = Zeroizing::new([0u8; NEW_ENTROPY_LEN]);
        OsRng.fill_bytes(entropy.as_mut_slice());
        // 32 bytes is a valid BIP-39 entropy length, so this cannot fail.
        match Mnemonic::from_entropy(entropy.as_slice()) {
            Ok(mnemonic) => mnemonic,
            Err(error) => unreachable!("32 bytes of entropy were refused: {error}"),
        }
    }

    /// The phrase that encodes `entropy` (16, 20, 24, 28 or 32 bytes, giving 12 to 24 words).
    ///
    /// Errors: [`MnemonicError::EntropyLength`].
    pub fn from_entropy(entropy: &[u8]) -> Result<Mnemonic, MnemonicError> {
        Ok(Mnemonic { inner: bip39::Mnemonic::from_entropy_in(bip39::Language::English, entropy)? })
    }

    /// Reads a phrase typed or pasted by a person: words separated by any whitespace, in any case.
    ///
    /// Errors: [`MnemonicError::WordCount`], [`MnemonicError::UnknownWord`],
    /// [`MnemonicError::Checksum`].
    pub fn parse(phrase: &str) -> Result<Mnemonic, MnemonicError> {
        // Built in one wiped buffer (sized so it never reallocates for ASCII input).
        let mut normalized = Zeroizing::new(String::with_capacity(phrase.len()));
        for word in phrase.split_whitespace() {
            if !normalized.is_empty() {
                normalized.push(' ');
            }
            normalized.extend(word.chars().flat_map(char::to_lowercase));
        }
        Ok(Mnemonic { inner: bip39::Mnemonic::parse_in(bip39::Language::English, normalized.as_str())? })
    }

    /// Number of words (12, 15, 18, 21 or 24).
    pub fn word_count(&self) -> usize {
        self.inner.word_count()
    }

    /// The words, in order.
    pub fn words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.inner.words()
    }

    /// The words joined by single spaces (wiped from memory when dropped).
    pub fn phrase(&self) -> Zeroizing<String> {
        let mut phrase = Zeroizing::new(String::with_capacity(self.word_count() * 9));
        for (i, word) in self.words().enumerate() {
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
        }
        phrase
    }

    /// The entropy the phrase encodes (16 to 32 bytes).
    pub fn entropy(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.inner.to_entropy())
    }

    /// The 64-byte BIP-39 seed for `passphrase` (`""` when no passphrase is used); the passphrase is
    /// NFKD-normalized as BIP-39 requires.
    pub fn to_seed(&self, passphrase: &str) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.inner.to_seed(passphrase))
    }

    /// The ed25519 key of account `account` (0 for the first): the BIP-39 seed for `passphrase`,
    /// then SLIP-0010 along [`account_path`].
    ///
    /// Errors: [`MnemonicError::IndexOutOfRange`] when `account >= 2^31`.
    pub fn account_key(&self, passphrase: &str, account: u32) -> Result<SigningKey, MnemonicError> {
        account_key_from_seed(self.to_seed(passphrase).as_slice(), account)
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mnemonic").field("words", &self.word_count()).finish_non_exhaustive()
    }
}

/// The SLIP-0010 path of account `account`, as indices before hardening:
/// `[44, COIN_TYPE, account, 0, 0]`, each applied as a hardened step.
///
/// Errors: [`MnemonicError::IndexOutOfRange`] when `account >= 2^31`.
pub fn account_path(account: u32) -> Result<[u32; 5], MnemonicError> {
    if account >= HARDENED_OFFSET {
        return Err(MnemonicError::IndexOutOfRange(account));
    }
    Ok([PURPOSE, COIN_TYPE, account, 0, 0])
}

/// The path of account `account` in the usual notation, e.g. `m/44'/1952867683'/0'/0'/0'`.
///
/// Errors: [`MnemonicError::IndexOutOfRange`] when `account >= 2^31`.
pub fn account_path_string(account: u32) -> Result<String, MnemonicError> {
    Ok(account_path(account)?.iter().fold("m".to_owned(), |path, index| format!("{path}/{index}'")))
}

/// The ed25519 key of account `account` from a BIP-39 seed (SLIP-0010 along [`account_path`]).
///
/// Errors: [`MnemonicError::IndexOutOfRange`] when `account >= 2^31`.
pub fn account_key_from_seed(seed: &[u8], account: u32) -> Result<SigningKey, MnemonicError> {
    Ok(Slip10Key::master(seed).derive_path(&account_path(account)?)?.signing_key())
}

/// A SLIP-0010 ed25519 extended private key: a 32-byte private key and a 32-byte chain code,
/// both wiped from memory when dropped. Only hardened derivation exists for ed25519.
pub struct Slip10Key {
    secret: Zeroizing<[u8; SECRET_KEY_LENGTH]>,
    chain_code: Zeroizing<[u8; 32]>,
}

impl Slip10Key {
    /// The master key of `seed`: `HMAC-SHA512(key = "ed25519 seed", data = seed)`, split into the
    /// private key (left half) and the chain code (right half).
    pub fn master(seed: &[u8]) -> Slip10Key {
        let mut mac = new_hmac(ED25519_CURVE_KEY);
        mac.update(seed);
        Slip10Key::from_hmac(mac)
    }

    /// The hardened child `index'`: `HMAC-SHA512(key = chain code, data = 0x00 || private key ||
    /// ser32(index + 2^31))`. `index` is given before hardening.
    ///
    /// Errors: [`MnemonicError::IndexOutOfRange`] when `index >= 2^31`.
    pub fn derive_hardened(&self, index: u32) -> Result<Slip10Key, MnemonicError> {
        if index >= HARDENED_OFFSET {
            return Err(MnemonicError::IndexOutOfRange(index));
        }
        let mut mac = new_hmac(self.chain_code.as_slice());
        mac.update(&[0u8]);
        mac.update(self.secret.as_slice());
        mac.update(&(index | HARDENED_OFFSET).to_be_bytes());
        Ok(Slip10Key::from_hmac(mac))
    }

    /// Derives along `path` (indices before hardening, each applied as a hardened step).
    ///
    /// Errors: [`MnemonicError::IndexOutOfRange`] for an index `>= 2^31`.
    pub fn derive_path(&self, path: &[u32]) -> Result<Slip10Key, MnemonicError> {
        let mut key = self.clone_key();
        for &index in path {
            key = key.derive_hardened(index)?;
        }
        Ok(key)
    }

    /// The 32-byte ed25519 private key (the secret seed of [`SigningKey::from_bytes`]).
    pub fn secret_bytes(&self) -> &[u8; SECRET_KEY_LENGTH] {
        &self.secret
    }

    /// The 32-byte chain code.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// The ed25519 signing key of this node.
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.secret)
    }

    fn clone_key(&self) -> Slip10Key {
        Slip10Key { secret: self.secret.clone(), chain_code: self.chain_code.clone() }
    }

    /// Splits the 64-byte HMAC output into private key and chain code without leaving copies.
    fn from_hmac(mac: HmacSha512) -> Slip10Key {
        let mut out = Zeroizing::new([0u8; 64]);
        mac.finalize_into(GenericArray::from_mut_slice(out.as_mut_slice()));
        let mut secret = Zeroizing::new([0u8; SECRET_KEY_LENGTH]);
        let mut chain_code = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&out[..32]);
        chain_code.copy_from_slice(&out[32..]);
        Slip10Key { secret, chain_code }
    }
}

impl fmt::Debug for Slip10Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slip10Key").finish_non_exhaustive()
    }
}

fn new_hmac(key: &[u8]) -> HmacSha512 {
    match HmacSha512::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(error) => unreachable!("HMAC-SHA512 refused a key: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BIP-39 reference vectors (English, passphrase "TREZOR"), from the reference
    /// implementation's `vectors.json`: entropy, phrase, seed.
    const BIP39_VECTORS: [(&str, &str, &str); 4] = [
        (
            "00000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141\
             630c7a3c4ab7c81b2f001698e7463b04",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
            "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3\
             de6f5d4a10be8ed2a5e608d68f92fcc8",
        ),
        (
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
            "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992\
             c456cdf60f5d4564b8ba3f05a69890ad",
        ),
        (
            "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
            "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy \
             gospel tennis maple dilemma loan word shrug inflict delay length",
            "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d20b385bc1588d9c7b38f1b39d415665b8\
             a9030c9ec653d75e65f847d8fc1fc440",
        ),
    ];

    const ABANDON_ART: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                               abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                               abandon abandon abandon abandon abandon art";

    fn unhex<const N: usize>(text: &str) -> [u8; N] {
        let mut out = [0u8; N];
        hex::decode_to_slice(text, &mut out).expect("hex");
        out
    }

    #[test]
    fn bip39_reference_vectors_recover_the_published_seed() {
        for (entropy, phrase, seed) in BIP39_VECTORS {
            let parsed = Mnemonic::parse(phrase).expect(phrase);
            assert_eq!(hex::encode(parsed.to_seed("TREZOR").as_slice()), seed, "{phrase}");
            assert_eq!(hex::encode(parsed.entropy().as_slice()), entropy, "{phrase}");
            let encoded = Mnemonic::from_entropy(&hex::decode(entropy).expect("hex")).expect("entropy");
            assert_eq!(encoded.phrase().as_str(), phrase);
            assert_eq!(encoded, parsed);
        }
    }

    /// SLIP-0010 test vector 1 for ed25519, every step of m/0H/1H/2H/2H/1000000000H:
    /// (index, chain code, private key, public key without the 0x00 prefix).
    const SLIP10_VECTOR_1: [(Option<u32>, &str, &str, &str); 6] = [
        (
            None,
            "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb",
            "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7",
            "a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed",
        ),
        (
            Some(0),
            "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69",
            "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3",
            "8c8a13df77a28f3445213a0f432fde644acaa215fc72dcdf300d5efaa85d350c",
        ),
        (
            Some(1),
            "a320425f77d1b5c2505a6b1b27382b37368ee640e3557c315416801243552f14",
            "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2",
            "1932a5270f335bed617d5b935c80aedb1a35bd9fc1e31acafd5372c30f5c1187",
        ),
        (
            Some(2),
            "2e69929e00b5ab250f49c3fb1c12f252de4fed2c1db88387094a0f8c4c9ccd6c",
            "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9",
            "ae98736566d30ed0e9d2f4486a64bc95740d89c7db33f52121f8ea8f76ff0fc1",
        ),
        (
            Some(2),
            "8f6d87f93d750e0efccda017d662a1b31a266e4a6f5993b15f5c1f07f74dd5cc",
            "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662",
            "8abae2d66361c879b900d204ad2cc4984fa2aa344dd7ddc46007329ac76c429c",
        ),
        (
            Some(1_000_000_000),
            "68789923a0cac2cd5a29172a475fe9e0fb14cd6adb5ad98a3fa70333e7afa230",
            "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793",
            "3c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a",
        ),
    ];

    #[test]
    fn slip10_ed25519_test_vector_1_every_step() {
        let seed: [u8; 16] = unhex("000102030405060708090a0b0c0d0e0f");
        let mut key = Slip10Key::master(&seed);
        let mut path = Vec::new();
        for (index, chain_code, private, public) in SLIP10_VECTOR_1 {
            if let Some(index) = index {
                key = key.derive_hardened(index).expect("derive");
                path.push(index);
            }
            assert_eq!(hex::encode(key.chain_code()), chain_code, "chain code at {path:?}");
            assert_eq!(hex::encode(key.secret_bytes()), private, "private key at {path:?}");
            assert_eq!(hex::encode(key.signing_key().verifying_key().to_bytes()), public, "at {path:?}");
        }
        // The same leaf through derive_path.
        let leaf = Slip10Key::master(&seed).derive_path(&[0, 1, 2, 2, 1_000_000_000]).expect("derive");
        assert_eq!(hex::encode(leaf.secret_bytes()), SLIP10_VECTOR_1[5].2);
    }

    #[test]
    fn slip10_ed25519_test_vector_2_leaf() {
        let seed: [u8; 64] = unhex(
            "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b787572\
             6f6c696663605d5a5754514e4b484542",
        );
        let master = Slip10Key::master(&seed);
        assert_eq!(
            hex::encode(master.secret_bytes()),
            "171cb88b1b3c1db25add599712e36245d75bc65a1a5c9e18d76f9f2b1eab4012"
        );
        let leaf = master.derive_path(&[0, 2_147_483_647, 1, 2_147_483_646, 2]).expect("derive");
        assert_eq!(
            hex::encode(leaf.chain_code()),
            "5d70af781f3a37b829f0d060924d5e960bdc02e85423494afc0b1a41bbe196d4"
        );
        assert_eq!(
            hex::encode(leaf.secret_bytes()),
            "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d"
        );
        assert_eq!(
            hex::encode(leaf.signing_key().verifying_key().to_bytes()),
            "47150c75db263559a70d5778bf36abbab30fb061ad69f69ece61a72b0cfa4fc0"
        );
    }

    #[test]
    fn non_hardened_range_is_refused() {
        let master = Slip10Key::master(&[0u8; 64]);
        assert_eq!(
            master.derive_hardened(HARDENED_OFFSET).err(),
            Some(MnemonicError::IndexOutOfRange(HARDENED_OFFSET))
        );
        assert_eq!(master.derive_path(&[0, u32::MAX]).err(), Some(MnemonicError::IndexOutOfRange(u32::MAX)));
        assert_eq!(
            account_path(HARDENED_OFFSET).err(),
            Some(MnemonicError::IndexOutOfRange(HARDENED_OFFSET))
        );
        let phrase = Mnemonic::parse(ABANDON_ART).expect("parse");
        assert_eq!(
            phrase.account_key("", HARDENED_OFFSET).err(),
            Some(MnemonicError::IndexOutOfRange(HARDENED_OFFSET))
        );
        assert!(phrase.account_key("", HARDENED_OFFSET - 1).is_ok());
    }

    #[test]
    fn account_path_is_the_documented_one() {
        assert_eq!(COIN_TYPE, 1_952_867_683);
        assert_eq!(COIN_TYPE.to_be_bytes(), *b"tfec");
        assert_eq!(account_path(0), Ok([44, 1_952_867_683, 0, 0, 0]));
        assert_eq!(account_path_string(0).as_deref(), Ok("m/44'/1952867683'/0'/0'/0'"));
        assert_eq!(account_path_string(7).as_deref(), Ok("m/44'/1952867683'/7'/0'/0'"));
    }

    /// Pins the whole pipeline (BIP-39 seed, SLIP-0010 along the account path, ed25519 public key)
    /// for a public phrase, so the derivation can never change unnoticed. The expected keys were
    /// computed independently (Python `hashlib.pbkdf2_hmac`, `hmac` and `cryptography`'s Ed25519).
    #[test]
    fn account_keys_of_a_known_phrase_are_pinned() {
        let phrase = Mnemonic::parse(ABANDON_ART).expect("parse");
        let cases = [
            ("", 0, PINNED_NO_PASSPHRASE_ACCOUNT_0),
            ("", 1, PINNED_NO_PASSPHRASE_ACCOUNT_1),
            ("TREZOR", 0, PINNED_TREZOR_ACCOUNT_0),
        ];
        for (passphrase, account, expected) in cases {
            let key = phrase.account_key(passphrase, account).expect("derive");
            assert_eq!(hex::encode(key.verifying_key().to_bytes()), expected, "{passphrase:?} {account}");
        }
    }

    const PINNED_NO_PASSPHRASE_ACCOUNT_0: &str =
        "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a";
    const PINNED_NO_PASSPHRASE_ACCOUNT_1: &str =
        "fed60ae2d61ce49b446a224eba438e450b888105c004c271f30de2b826596a4a";
    const PINNED_TREZOR_ACCOUNT_0: &str = "59c357b5645660103015df146a456e8b72c10d67d596ad76188d2950d0f2c192";

    #[test]
    fn a_wrong_word_fails_the_checksum() {
        // The last word carries the checksum: all "abandon" is 24 valid words with a bad checksum.
        let all_abandon = vec!["abandon"; 24].join(" ");
        assert_eq!(Mnemonic::parse(&all_abandon).err(), Some(MnemonicError::Checksum));
        // One word replaced in the middle of a reference phrase.
        let (_, phrase, _) = BIP39_VECTORS[3];
        let mut words: Vec<&str> = phrase.split(' ').collect();
        assert_eq!(words[4], "cause");
        words[4] = "cat";
        assert_eq!(Mnemonic::parse(&words.join(" ")).err(), Some(MnemonicError::Checksum));
        // Two words swapped.
        let mut words: Vec<&str> = phrase.split(' ').collect();
        words.swap(0, 1);
        assert_eq!(Mnemonic::parse(&words.join(" ")).err(), Some(MnemonicError::Checksum));
        assert_eq!(
            MnemonicError::Checksum.to_string(),
            "the recovery phrase checksum does not match: a word is wrong, missing or out of order"
        );
    }

    #[test]
    fn unknown_words_and_bad_lengths_are_typed_errors() {
        let (_, phrase, _) = BIP39_VECTORS[3];
        let mut words: Vec<&str> = phrase.split(' ').collect();
        words[6] = "privat";
        let error = Mnemonic::parse(&words.join(" ")).err();
        assert_eq!(error, Some(MnemonicError::UnknownWord { position: 7 }));
        // The message names the position, never the word.
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("word 7") && !message.contains("privat"), "{message}");

        let words: Vec<&str> = phrase.split(' ').collect();
        assert_eq!(Mnemonic::parse(&words[..23].join(" ")).err(), Some(MnemonicError::WordCount(23)));
        assert_eq!(Mnemonic::parse("").err(), Some(MnemonicError::WordCount(0)));
        assert_eq!(Mnemonic::from_entropy(&[0u8; 15]).err(), Some(MnemonicError::EntropyLength(15)));
    }

    #[test]
    fn parsing_ignores_case_and_whitespace() {
        let (_, phrase, seed) = BIP39_VECTORS[3];
        let messy = format!("  {}\n", phrase.to_uppercase().replace(' ', " \t\n  "));
        let parsed = Mnemonic::parse(&messy).expect("parse");
        assert_eq!(parsed.phrase().as_str(), phrase);
        assert_eq!(hex::encode(parsed.to_seed("TREZOR").as_slice()), seed);
    }

    #[test]
    fn generate_then_recover_gives_the_same_account_key() {
        let generated = Mnemonic::generate();
        assert_eq!(generated.word_count(), NEW_PHRASE_WORDS);
        assert_eq!(generated.entropy().len(), 32);
        let words: Vec<&str> = generated.words().collect();
        assert_eq!(words.len(), 24);

        let recovered = Mnemonic::parse(&generated.phrase()).expect("recover");
        assert_eq!(recovered, generated);
        for (passphrase, account) in [("", 0), ("", 3), ("correct horse", 0)] {
            let original = generated.account_key(passphrase, account).expect("derive");
            let again = recovered.account_key(passphrase, account).expect("derive");
            assert_eq!(original.to_bytes(), again.to_bytes());
        }
        // The passphrase and the account index both select another key.
        let base = generated.account_key("", 0).expect("derive").to_bytes();
        assert_ne!(generated.account_key("correct horse", 0).expect("derive").to_bytes(), base);
        assert_ne!(generated.account_key("", 1).expect("derive").to_bytes(), base);
        // Two generated phrases differ.
        assert_ne!(Mnemonic::generate(), generated);
    }

    #[test]
    fn passphrase_is_nfkd_normalized() {
        let phrase = Mnemonic::parse(ABANDON_ART).expect("parse");
        // "é" precomposed (U+00E9) and decomposed (e + U+0301) are the same passphrase.
        assert_eq!(phrase.to_seed("caf\u{e9}").as_slice(), phrase.to_seed("cafe\u{301}").as_slice());
    }

    #[test]
    fn debug_output_hides_the_words() {
        let phrase = Mnemonic::parse(ABANDON_ART).expect("parse");
        let debug = format!("{phrase:?}");
        assert!(!debug.contains("abandon") && debug.contains("24"), "{debug}");
        let key = Slip10Key::master(&[1u8; 64]);
        let debug = format!("{key:?}");
        assert!(!debug.contains(&hex::encode(key.secret_bytes())), "{debug}");
    }
}
