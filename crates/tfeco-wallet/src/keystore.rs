//! Encrypted keystore file for one ed25519 account key.
//!
//! This module owns the on-disk keystore format, its encryption and decryption,
//! writing it safely to disk, reading it back, and getting the password from an
//! environment variable or an interactive prompt.
//!
//! On disk a keystore is a JSON document (format version 1):
//!
//! ```json
//! {
//!   "version": 1,
//!   "public_key": "<64 hex chars: ed25519 public key>",
//!   "kdf": {
//!     "algorithm": "argon2id",
//!     "m_cost_kib": 65536, "t_cost": 3, "p_cost": 1,
//!     "salt": "<32 hex chars: 16 random bytes>"
//!   },
//!   "cipher": { "algorithm": "xchacha20poly1305", "nonce": "<48 hex chars: 24 random bytes>" },
//!   "ciphertext": "<96 hex chars: 32-byte seed + 16-byte tag>",
//!   "label": "optional free text"
//! }
//! ```
//!
//! The 32-byte ed25519 seed is encrypted with XChaCha20-Poly1305 under a 32-byte
//! key derived by Argon2id (version 0x13) from the password and the salt. The
//! public key bytes are the AEAD associated data, so editing the public key in
//! the file makes decryption fail, exactly as a wrong password does.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey, PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The only keystore format version this module reads and writes.
pub const KEYSTORE_VERSION: u32 = 1;
/// Value of `kdf.algorithm` in a version 1 keystore.
pub const KDF_ALGORITHM: &str = "argon2id";
/// Value of `cipher.algorithm` in a version 1 keystore.
pub const CIPHER_ALGORITHM: &str = "xchacha20poly1305";

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const DERIVED_KEY_LEN: usize = 32;
const CIPHERTEXT_LEN: usize = SECRET_KEY_LENGTH + TAG_LEN;
/// A keystore is well under 1 KiB; refuse to read anything absurdly large.
const MAX_FILE_LEN: u64 = 64 * 1024;
/// Upper bounds on KDF costs accepted from a file, so a hostile file cannot
/// make us allocate unbounded memory or spin for hours.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024; // 4 GiB
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 64;

/// Errors from creating, reading, writing or opening a keystore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoreError {
    /// Authenticated decryption failed: the password is wrong, or the
    /// ciphertext, nonce, salt, KDF costs or public key were altered.
    #[error("wrong password or corrupted keystore")]
    WrongPassword,
    /// [`Keystore::save`] refused to replace an existing file.
    #[error("keystore file already exists: {}", .0.display())]
    AlreadyExists(PathBuf),
    /// [`Keystore::load`] found no file at the path.
    #[error("keystore file not found: {}", .0.display())]
    NotFound(PathBuf),
    /// Any other I/O failure (message includes the path or operation).
    #[error("keystore I/O error: {0}")]
    Io(String),
    /// The file is not valid keystore JSON, or a field is malformed
    /// (bad hex, wrong length, invalid public key).
    #[error("invalid keystore format: {0}")]
    Format(String),
    /// Well-formed, but uses a version, algorithm or parameter this build does
    /// not support.
    #[error("unsupported keystore: {0}")]
    Unsupported(String),
    /// The password is empty.
    #[error("password must not be empty")]
    EmptyPassword,
    /// The password and its confirmation differ.
    #[error("passwords do not match")]
    PasswordMismatch,
    /// A new keystore's password is too easy to guess (zxcvbn score below [`MIN_PASSWORD_SCORE`]).
    #[error("this password is too easy to guess (strength {score} of 4, at least {MIN_PASSWORD_SCORE} needed){hint}: choose a longer one, e.g. four unrelated words")]
    WeakPassword {
        /// The zxcvbn score, 0 (guessable in seconds) to 4.
        score: u8,
        /// zxcvbn's warning, as ` (…)`, or empty.
        hint: String,
    },
    /// Argon2 rejected its parameters or failed.
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes (time cost).
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// Default for keys people type passwords for: 64 MiB, 3 passes, 1 lane.
    pub const fn interactive() -> Self {
        Self { m_cost_kib: 64 * 1024, t_cost: 3, p_cost: 1 }
    }

    /// Very cheap parameters (256 KiB, 1 pass, 1 lane) so tests run fast.
    /// Never use them for real keys.
    pub const fn fast_for_tests() -> Self {
        Self { m_cost_kib: 256, t_cost: 1, p_cost: 1 }
    }

    /// Checks the costs are within what Argon2 accepts and within this
    /// module's upper bounds, and builds the Argon2 parameters.
    fn to_argon2(self) -> Result<Params, KeystoreError> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST {
            return Err(KeystoreError::Unsupported(format!(
                "argon2id costs m={} KiB, t={}, p={} exceed the limits m<={MAX_M_COST_KIB} KiB, \
                 t<={MAX_T_COST}, p<={MAX_P_COST}",
                self.m_cost_kib, self.t_cost, self.p_cost
            )));
        }
        Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(DERIVED_KEY_LEN))
            .map_err(|e| KeystoreError::Kdf(e.to_string()))
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::interactive()
    }
}

/// The `kdf` object of the keystore JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KdfSection {
    algorithm: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

/// The `cipher` object of the keystore JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CipherSection {
    algorithm: String,
    nonce: String,
}

/// An encrypted ed25519 account key, exactly as stored on disk (see the
/// module documentation for the JSON shape).
///
/// Create one with [`Keystore::encrypt`] or [`Keystore::load`] /
/// [`Keystore::from_json`]; all of them guarantee a well-formed version 1
/// keystore. The type also implements `Serialize`/`Deserialize` for embedding,
/// in which case the fields are checked again by [`Keystore::decrypt`] and
/// [`Keystore::public_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keystore {
    version: u32,
    public_key: String,
    kdf: KdfSection,
    cipher: CipherSection,
    ciphertext: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

/// The binary contents of a keystore after validation.
struct Decoded {
    public_key: [u8; PUBLIC_KEY_LENGTH],
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl Keystore {
    /// Encrypts `signing_key` under `password`, with a fresh random salt and
    /// nonce from the operating system.
    ///
    /// Errors: [`KeystoreError::EmptyPassword`]; [`KeystoreError::Kdf`] or
    /// [`KeystoreError::Unsupported`] for unusable `params`.
    pub fn encrypt(
        signing_key: &SigningKey,
        password: &str,
        params: KdfParams,
        label: Option<String>,
    ) -> Result<Keystore, KeystoreError> {
        if password.is_empty() {
            return Err(KeystoreError::EmptyPassword);
        }
        let public_key = signing_key.verifying_key().to_bytes();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);

        let key = derive_key(password, &salt, params)?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let seed = Zeroizing::new(signing_key.to_bytes());
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: seed.as_slice(), aad: &public_key })
            .map_err(|_| KeystoreError::Format("encryption failed".to_owned()))?;

        Ok(Keystore {
            version: KEYSTORE_VERSION,
            public_key: hex::encode(public_key),
            kdf: KdfSection {
                algorithm: KDF_ALGORITHM.to_owned(),
                m_cost_kib: params.m_cost_kib,
                t_cost: params.t_cost,
                p_cost: params.p_cost,
                salt: hex::encode(salt),
            },
            cipher: CipherSection { algorithm: CIPHER_ALGORITHM.to_owned(), nonce: hex::encode(nonce) },
            ciphertext: hex::encode(ciphertext),
            label,
        })
    }

    /// Decrypts the signing key with `password`.
    ///
    /// Errors: [`KeystoreError::EmptyPassword`];
    /// [`KeystoreError::WrongPassword`] when authentication fails (wrong
    /// password or any tampering, including of the public key);
    /// [`KeystoreError::Format`] / [`KeystoreError::Unsupported`] for a
    /// malformed keystore; [`KeystoreError::Kdf`].
    pub fn decrypt(&self, password: &str) -> Result<SigningKey, KeystoreError> {
        if password.is_empty() {
            return Err(KeystoreError::EmptyPassword);
        }
        let decoded = self.decode()?;
        let key = derive_key(password, &decoded.salt, decoded.params)?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&decoded.nonce),
                    Payload { msg: &decoded.ciphertext, aad: &decoded.public_key },
                )
                .map_err(|_| KeystoreError::WrongPassword)?,
        );
        let mut seed = Zeroizing::new([0u8; SECRET_KEY_LENGTH]);
        if plaintext.len() != SECRET_KEY_LENGTH {
            return Err(KeystoreError::Format(format!(
                "decrypted secret is {} bytes, expected {SECRET_KEY_LENGTH}",
                plaintext.len()
            )));
        }
        seed.copy_from_slice(&plaintext);
        let signing_key = SigningKey::from_bytes(&seed);
        if signing_key.verifying_key().to_bytes() != decoded.public_key {
            return Err(KeystoreError::Format(
                "public key does not match the decrypted secret key".to_owned(),
            ));
        }
        Ok(signing_key)
    }

    /// The account's public key, readable without the password.
    ///
    /// Errors: [`KeystoreError::Format`] if the stored key is not valid hex or
    /// not a valid ed25519 point.
    pub fn public_key(&self) -> Result<VerifyingKey, KeystoreError> {
        let bytes = decode_hex_array::<PUBLIC_KEY_LENGTH>("public_key", &self.public_key)?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|e| KeystoreError::Format(format!("public_key is not a valid ed25519 key: {e}")))
    }

    /// The optional free-text label stored with the key.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The Argon2id costs recorded in the keystore.
    pub fn kdf_params(&self) -> KdfParams {
        KdfParams { m_cost_kib: self.kdf.m_cost_kib, t_cost: self.kdf.t_cost, p_cost: self.kdf.p_cost }
    }

    /// Pretty-printed JSON for the file, ending in a newline.
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings and integers cannot fail.
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Parses and validates keystore JSON.
    ///
    /// Errors: [`KeystoreError::Format`] for invalid JSON or malformed fields;
    /// [`KeystoreError::Unsupported`] for another version, another algorithm
    /// or KDF costs beyond this module's limits.
    pub fn from_json(json: &str) -> Result<Keystore, KeystoreError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| KeystoreError::Format(format!("not valid JSON: {e}")))?;
        // Check the version before the shape, so a future format with other
        // fields is reported as unsupported rather than malformed.
        match value.get("version") {
            None => return Err(KeystoreError::Format("missing field `version`".to_owned())),
            Some(v) if v.as_u64() == Some(u64::from(KEYSTORE_VERSION)) => {}
            Some(v) => {
                return Err(KeystoreError::Unsupported(format!(
                    "keystore version {v} (this build supports version {KEYSTORE_VERSION})"
                )))
            }
        }
        let keystore: Keystore =
            serde_json::from_value(value).map_err(|e| KeystoreError::Format(e.to_string()))?;
        keystore.decode()?;
        keystore.public_key()?;
        Ok(keystore)
    }

    /// Writes the keystore to `path`, never replacing an existing file.
    ///
    /// The JSON is written to a temporary file in the same directory, flushed
    /// to disk, then moved into place with a no-clobber hard link (falling
    /// back to a rename where hard links are unsupported) and the directory is
    /// synced. On unix the file has mode `0600`. The parent directory must
    /// exist.
    ///
    /// Errors: [`KeystoreError::AlreadyExists`]; [`KeystoreError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), KeystoreError> {
        if path.symlink_metadata().is_ok() {
            return Err(KeystoreError::AlreadyExists(path.to_path_buf()));
        }
        let file_name = path
            .file_name()
            .ok_or_else(|| KeystoreError::Io(format!("{} is not a file path", path.display())))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };

        let mut tmp_name = OsString::from(".");
        tmp_name.push(file_name);
        let mut suffix = [0u8; 8];
        OsRng.fill_bytes(&mut suffix);
        tmp_name.push(format!(".{}.tmp", hex::encode(suffix)));
        let tmp_path = dir.join(tmp_name);

        let mut file = create_private_file(&tmp_path)?;
        let guard = TempFileGuard(Some(tmp_path.clone()));
        let io_err =
            |what: &str, e: io::Error| KeystoreError::Io(format!("{what} {}: {e}", tmp_path.display()));
        file.write_all(self.to_json().as_bytes()).map_err(|e| io_err("writing", e))?;
        file.sync_all().map_err(|e| io_err("syncing", e))?;
        drop(file);

        match fs::hard_link(&tmp_path, path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(KeystoreError::AlreadyExists(path.to_path_buf()));
            }
            Err(_) => {
                // Filesystems without hard links: check again, then rename.
                if path.symlink_metadata().is_ok() {
                    return Err(KeystoreError::AlreadyExists(path.to_path_buf()));
                }
                fs::rename(&tmp_path, path).map_err(|e| {
                    KeystoreError::Io(format!("moving {} to {}: {e}", tmp_path.display(), path.display()))
                })?;
            }
        }
        // Removes the temporary link (a no-op if it was renamed).
        drop(guard);
        sync_dir(&dir)?;
        Ok(())
    }

    /// Reads and validates the keystore at `path`.
    ///
    /// Errors: [`KeystoreError::NotFound`]; [`KeystoreError::Io`];
    /// [`KeystoreError::Format`] (not UTF-8, not JSON, malformed fields,
    /// larger than 64 KiB); [`KeystoreError::Unsupported`].
    pub fn load(path: &Path) -> Result<Keystore, KeystoreError> {
        let file = File::open(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => KeystoreError::NotFound(path.to_path_buf()),
            _ => KeystoreError::Io(format!("opening {}: {e}", path.display())),
        })?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| KeystoreError::Io(format!("reading {}: {e}", path.display())))?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(KeystoreError::Format(format!(
                "{} is larger than {MAX_FILE_LEN} bytes",
                path.display()
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| KeystoreError::Format(format!("{} is not UTF-8 text", path.display())))?;
        Keystore::from_json(&text)
    }

    /// Checks version, algorithms and parameter bounds and decodes the hex
    /// fields to their exact lengths.
    fn decode(&self) -> Result<Decoded, KeystoreError> {
        if self.version != KEYSTORE_VERSION {
            return Err(KeystoreError::Unsupported(format!(
                "keystore version {} (this build supports version {KEYSTORE_VERSION})",
                self.version
            )));
        }
        if self.kdf.algorithm != KDF_ALGORITHM {
            return Err(KeystoreError::Unsupported(format!(
                "kdf algorithm {:?} (expected {KDF_ALGORITHM:?})",
                self.kdf.algorithm
            )));
        }
        if self.cipher.algorithm != CIPHER_ALGORITHM {
            return Err(KeystoreError::Unsupported(format!(
                "cipher algorithm {:?} (expected {CIPHER_ALGORITHM:?})",
                self.cipher.algorithm
            )));
        }
        let params = self.kdf_params();
        params.to_argon2()?;
        let ciphertext = hex::decode(&self.ciphertext)
            .map_err(|e| KeystoreError::Format(format!("ciphertext is not valid hex: {e}")))?;
        if ciphertext.len() != CIPHERTEXT_LEN {
            return Err(KeystoreError::Format(format!(
                "ciphertext is {} bytes, expected {CIPHERTEXT_LEN}",
                ciphertext.len()
            )));
        }
        Ok(Decoded {
            public_key: decode_hex_array("public_key", &self.public_key)?,
            params,
            salt: decode_hex_array("kdf.salt", &self.kdf.salt)?,
            nonce: decode_hex_array("cipher.nonce", &self.cipher.nonce)?,
            ciphertext,
        })
    }
}

/// The least zxcvbn score (0 to 4) a new keystore's password must reach: 3, "safely unguessable: moderate
/// protection from an offline slow-hash scenario" (the keystore is argon2id, a slow hash).
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// Checks a new keystore password's strength with zxcvbn (Dropbox's estimator, the `zxcvbn` crate).
///
/// Errors: [`KeystoreError::EmptyPassword`]; [`KeystoreError::WeakPassword`] with the score and zxcvbn's
/// warning when the score is below [`MIN_PASSWORD_SCORE`].
pub fn check_password_strength(password: &str) -> Result<(), KeystoreError> {
    if password.is_empty() {
        return Err(KeystoreError::EmptyPassword);
    }
    let estimate = zxcvbn::zxcvbn(password, &[]);
    let score = u8::from(estimate.score());
    if score >= MIN_PASSWORD_SCORE {
        return Ok(());
    }
    let hint = estimate
        .feedback()
        .and_then(|feedback| feedback.warning())
        .map(|warning| format!(" ({warning})"))
        .unwrap_or_default();
    Err(KeystoreError::WeakPassword { score, hint })
}

/// Returns the password from the environment variable `env_var` when it is
/// set and non-empty; otherwise asks `prompt_fn(prompt)` (and, when `confirm`
/// is true, asks a second time and requires the same answer).
///
/// `prompt_fn` is the interactive reader (the binary passes
/// `rpassword::prompt_password`); it must return the password without a line
/// terminator.
///
/// Errors: [`KeystoreError::EmptyPassword`] for an empty prompted password;
/// [`KeystoreError::PasswordMismatch`]; [`KeystoreError::Format`] if the
/// variable is not valid UTF-8; [`KeystoreError::Io`] if the prompt fails.
pub fn password_from_env_or_prompt(
    env_var: &str,
    prompt: &str,
    confirm: bool,
    prompt_fn: &dyn Fn(&str) -> io::Result<String>,
) -> Result<Zeroizing<String>, KeystoreError> {
    resolve_password(env_var, std::env::var_os(env_var), prompt, confirm, prompt_fn)
}

/// [`password_from_env_or_prompt`] with the environment value passed in.
fn resolve_password(
    env_var: &str,
    env_value: Option<OsString>,
    prompt: &str,
    confirm: bool,
    prompt_fn: &dyn Fn(&str) -> io::Result<String>,
) -> Result<Zeroizing<String>, KeystoreError> {
    if let Some(value) = env_value.filter(|v| !v.is_empty()) {
        return match value.into_string() {
            Ok(password) => Ok(Zeroizing::new(password)),
            // The value stays in the process environment regardless, so
            // there is nothing useful to wipe here.
            Err(_) => {
                Err(KeystoreError::Format(format!("environment variable {env_var} is not valid UTF-8")))
            }
        };
    }
    let ask = |text: &str| {
        prompt_fn(text).map(Zeroizing::new).map_err(|e| KeystoreError::Io(format!("reading password: {e}")))
    };
    let password = ask(prompt)?;
    if password.is_empty() {
        return Err(KeystoreError::EmptyPassword);
    }
    if confirm {
        let again = ask("Repeat password: ")?;
        if *again != *password {
            return Err(KeystoreError::PasswordMismatch);
        }
    }
    Ok(password)
}

/// Argon2id(password, salt) → 32-byte key, zeroized on drop.
fn derive_key(
    password: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; DERIVED_KEY_LEN]>, KeystoreError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.to_argon2()?);
    let mut key = Zeroizing::new([0u8; DERIVED_KEY_LEN]);
    argon2
        .hash_password_into(password.as_bytes(), salt, key.as_mut_slice())
        .map_err(|e| KeystoreError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Decodes a hex field that must be exactly `N` bytes.
fn decode_hex_array<const N: usize>(field: &str, text: &str) -> Result<[u8; N], KeystoreError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| {
        KeystoreError::Format(format!("{field} must be {} hex characters ({N} bytes): {e}", 2 * N))
    })?;
    Ok(out)
}

/// Creates a new file that only the owner can read and write (on unix).
fn create_private_file(path: &Path) -> Result<File, KeystoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file =
        options.open(path).map_err(|e| KeystoreError::Io(format!("creating {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        // The mode passed to open is reduced by the umask; set it exactly.
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = file.set_permissions(fs::Permissions::from_mode(0o600)) {
            let _ = fs::remove_file(path);
            return Err(KeystoreError::Io(format!("setting permissions on {}: {e}", path.display())));
        }
    }
    Ok(file)
}

/// Makes a completed rename or link durable.
fn sync_dir(dir: &Path) -> Result<(), KeystoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| KeystoreError::Io(format!("syncing directory {}: {e}", dir.display())))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temporary file when dropped.
struct TempFileGuard(Option<PathBuf>);

impl Drop for TempFileGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    const PASSWORD: &str = "correct horse battery staple";

    fn test_key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; SECRET_KEY_LENGTH])
    }

    fn test_keystore() -> Keystore {
        Keystore::encrypt(&test_key(), PASSWORD, KdfParams::fast_for_tests(), Some("main".to_owned()))
            .expect("encrypt")
    }

    /// Flips the lowest bit of the byte at `index` of a hex string.
    fn flip_hex_bit(text: &str, index: usize) -> String {
        let mut bytes = hex::decode(text).expect("hex");
        bytes[index] ^= 1;
        hex::encode(bytes)
    }

    #[test]
    fn round_trip_in_memory_and_via_json() {
        let key = test_key();
        let ks = test_keystore();
        assert_eq!(ks.label(), Some("main"));
        assert_eq!(ks.kdf_params(), KdfParams::fast_for_tests());
        assert_eq!(ks.public_key().expect("public key"), key.verifying_key());
        assert_eq!(ks.decrypt(PASSWORD).expect("decrypt").to_bytes(), key.to_bytes());

        let parsed = Keystore::from_json(&ks.to_json()).expect("parse");
        assert_eq!(parsed, ks);
        assert_eq!(parsed.decrypt(PASSWORD).expect("decrypt").to_bytes(), key.to_bytes());
    }

    #[test]
    fn json_shape_matches_the_documented_format() {
        let ks = test_keystore();
        let value: serde_json::Value = serde_json::from_str(&ks.to_json()).expect("json");
        assert_eq!(value["version"], 1);
        assert_eq!(value["public_key"], hex::encode(test_key().verifying_key().to_bytes()));
        assert_eq!(value["kdf"]["algorithm"], "argon2id");
        assert_eq!(value["kdf"]["m_cost_kib"], 256);
        assert_eq!(value["kdf"]["t_cost"], 1);
        assert_eq!(value["kdf"]["p_cost"], 1);
        assert_eq!(value["kdf"]["salt"].as_str().map(str::len), Some(2 * SALT_LEN));
        assert_eq!(value["cipher"]["algorithm"], "xchacha20poly1305");
        assert_eq!(value["cipher"]["nonce"].as_str().map(str::len), Some(2 * NONCE_LEN));
        assert_eq!(value["ciphertext"].as_str().map(str::len), Some(2 * CIPHERTEXT_LEN));
        assert_eq!(value["label"], "main");

        let unlabeled =
            Keystore::encrypt(&test_key(), PASSWORD, KdfParams::fast_for_tests(), None).expect("encrypt");
        assert!(!unlabeled.to_json().contains("label"));
        assert_eq!(Keystore::from_json(&unlabeled.to_json()).expect("parse").label(), None);
    }

    #[test]
    fn fresh_salt_and_nonce_each_time() {
        let a = test_keystore();
        let b = test_keystore();
        assert_ne!(a.kdf.salt, b.kdf.salt);
        assert_ne!(a.cipher.nonce, b.cipher.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn wrong_password_refused() {
        let ks = test_keystore();
        assert_eq!(ks.decrypt("Correct horse battery staple").err(), Some(KeystoreError::WrongPassword));
        assert_eq!(ks.decrypt("").err(), Some(KeystoreError::EmptyPassword));
        assert_eq!(KeystoreError::WrongPassword.to_string(), "wrong password or corrupted keystore");
    }

    #[test]
    fn empty_password_refused_on_encrypt() {
        let result = Keystore::encrypt(&test_key(), "", KdfParams::fast_for_tests(), None);
        assert_eq!(result.err(), Some(KeystoreError::EmptyPassword));
    }

    #[test]
    fn tampered_ciphertext_refused() {
        let ks = test_keystore();
        for index in [0, SECRET_KEY_LENGTH - 1, CIPHERTEXT_LEN - 1] {
            let mut bad = ks.clone();
            bad.ciphertext = flip_hex_bit(&ks.ciphertext, index);
            assert_eq!(bad.decrypt(PASSWORD).err(), Some(KeystoreError::WrongPassword), "byte {index}");
        }
        let mut bad = ks.clone();
        bad.cipher.nonce = flip_hex_bit(&ks.cipher.nonce, 0);
        assert_eq!(bad.decrypt(PASSWORD).err(), Some(KeystoreError::WrongPassword));
        let mut bad = ks.clone();
        bad.kdf.salt = flip_hex_bit(&ks.kdf.salt, 0);
        assert_eq!(bad.decrypt(PASSWORD).err(), Some(KeystoreError::WrongPassword));
        let mut bad = ks;
        bad.kdf.t_cost = 2;
        assert_eq!(bad.decrypt(PASSWORD).err(), Some(KeystoreError::WrongPassword));
    }

    #[test]
    fn tampered_public_key_refused() {
        let ks = test_keystore();
        let mut bad = ks.clone();
        // Substitute another valid public key, so only the AEAD can notice.
        let other = SigningKey::from_bytes(&[9u8; SECRET_KEY_LENGTH]);
        bad.public_key = hex::encode(other.verifying_key().to_bytes());
        assert_eq!(bad.public_key().expect("still a valid point"), other.verifying_key());
        assert_eq!(bad.decrypt(PASSWORD).err(), Some(KeystoreError::WrongPassword));
        // And through the file format.
        let json = ks.to_json().replace(&ks.public_key, &bad.public_key);
        let loaded = Keystore::from_json(&json).expect("well-formed");
        assert_eq!(loaded.decrypt(PASSWORD).err(), Some(KeystoreError::WrongPassword));
    }

    #[test]
    fn malformed_fields_are_format_errors() {
        let ks = test_keystore();
        let mut bad = ks.clone();
        bad.ciphertext.truncate(10);
        assert!(matches!(bad.decrypt(PASSWORD), Err(KeystoreError::Format(_))));
        let mut bad = ks.clone();
        bad.public_key = "zz".repeat(PUBLIC_KEY_LENGTH);
        assert!(matches!(bad.public_key(), Err(KeystoreError::Format(_))));
        assert!(matches!(Keystore::from_json(&bad.to_json()), Err(KeystoreError::Format(_))));
        let mut bad = ks;
        bad.cipher.nonce = "00".repeat(12);
        assert!(matches!(Keystore::from_json(&bad.to_json()), Err(KeystoreError::Format(_))));
    }

    #[test]
    fn unsupported_version_algorithm_and_costs() {
        let ks = test_keystore();
        let mut value: serde_json::Value = serde_json::from_str(&ks.to_json()).expect("json");
        value["version"] = 2.into();
        assert!(matches!(Keystore::from_json(&value.to_string()), Err(KeystoreError::Unsupported(_))));
        // A future version with a different shape is still "unsupported".
        let future = r#"{"version": 2, "something": "else"}"#;
        assert!(matches!(Keystore::from_json(future), Err(KeystoreError::Unsupported(_))));

        let mut bad = ks.clone();
        bad.kdf.algorithm = "scrypt".to_owned();
        assert!(matches!(Keystore::from_json(&bad.to_json()), Err(KeystoreError::Unsupported(_))));
        assert!(matches!(bad.decrypt(PASSWORD), Err(KeystoreError::Unsupported(_))));
        let mut bad = ks.clone();
        bad.cipher.algorithm = "aes-256-gcm".to_owned();
        assert!(matches!(Keystore::from_json(&bad.to_json()), Err(KeystoreError::Unsupported(_))));
        let mut bad = ks.clone();
        bad.kdf.m_cost_kib = u32::MAX;
        assert!(matches!(Keystore::from_json(&bad.to_json()), Err(KeystoreError::Unsupported(_))));
        let mut bad = ks;
        bad.kdf.t_cost = 0;
        assert!(matches!(Keystore::from_json(&bad.to_json()), Err(KeystoreError::Kdf(_))));
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("account.json");
        let ks = test_keystore();
        ks.save(&path).expect("save");
        let loaded = Keystore::load(&path).expect("load");
        assert_eq!(loaded, ks);
        assert_eq!(loaded.decrypt(PASSWORD).expect("decrypt").to_bytes(), test_key().to_bytes());
        // No temporary files are left behind.
        let names: Vec<_> =
            fs::read_dir(dir.path()).expect("read_dir").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names, vec![OsString::from("account.json")]);
    }

    #[test]
    fn save_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("account.json");
        fs::write(&path, "precious").expect("write");
        let err = test_keystore().save(&path).err();
        assert_eq!(err, Some(KeystoreError::AlreadyExists(path.clone())));
        assert_eq!(fs::read_to_string(&path).expect("read"), "precious");

        let other = dir.path().join("other.json");
        test_keystore().save(&other).expect("first save");
        assert_eq!(test_keystore().save(&other).err(), Some(KeystoreError::AlreadyExists(other.clone())));
        assert_eq!(fs::read_dir(dir.path()).expect("read_dir").count(), 2);
    }

    #[test]
    fn save_into_missing_directory_is_io_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("no-such-dir").join("account.json");
        assert!(matches!(test_keystore().save(&path), Err(KeystoreError::Io(_))));
    }

    #[test]
    fn load_missing_file_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing.json");
        assert_eq!(Keystore::load(&path).err(), Some(KeystoreError::NotFound(path)));
    }

    #[test]
    fn load_garbage_is_format_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("garbage.json");
        for content in [&b"this is not json"[..], b"{}", b"[1, 2, 3]", b"{\"version\": 1}", b"\xff\xfe"] {
            fs::write(&path, content).expect("write");
            assert!(
                matches!(Keystore::load(&path), Err(KeystoreError::Format(_))),
                "{:?}",
                String::from_utf8_lossy(content)
            );
        }
        fs::write(&path, vec![b' '; MAX_FILE_LEN as usize + 1]).expect("write");
        assert!(matches!(Keystore::load(&path), Err(KeystoreError::Format(_))));
    }

    #[cfg(unix)]
    #[test]
    fn saved_file_mode_is_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("account.json");
        test_keystore().save(&path).expect("save");
        let mode = fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A prompt that returns the queued answers in order and records prompts.
    struct ScriptedPrompt {
        answers: RefCell<Vec<&'static str>>,
        asked: RefCell<Vec<String>>,
    }

    impl ScriptedPrompt {
        fn new(answers: &[&'static str]) -> Self {
            Self {
                answers: RefCell::new(answers.iter().rev().copied().collect()),
                asked: RefCell::new(Vec::new()),
            }
        }

        fn ask(&self, prompt: &str) -> io::Result<String> {
            self.asked.borrow_mut().push(prompt.to_owned());
            self.answers
                .borrow_mut()
                .pop()
                .map(str::to_owned)
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no more answers"))
        }
    }

    #[test]
    fn password_from_env_value_skips_prompt() {
        let prompt = ScriptedPrompt::new(&[]);
        let password =
            resolve_password("TFECO_PW", Some("from-env".into()), "Password: ", true, &|p| prompt.ask(p))
                .expect("password");
        assert_eq!(password.as_str(), "from-env");
        assert!(prompt.asked.borrow().is_empty());
    }

    #[test]
    fn empty_env_value_falls_back_to_prompt() {
        let prompt = ScriptedPrompt::new(&["typed"]);
        let password = resolve_password("TFECO_PW", Some("".into()), "Password: ", false, &|p| prompt.ask(p))
            .expect("password");
        assert_eq!(password.as_str(), "typed");
        assert_eq!(*prompt.asked.borrow(), vec!["Password: ".to_owned()]);
    }

    #[test]
    fn unset_env_var_prompts_through_public_fn() {
        let prompt = ScriptedPrompt::new(&["typed", "typed"]);
        let password = password_from_env_or_prompt(
            "TFECO_KEYSTORE_TEST_SURELY_UNSET_7F3A9C",
            "Password: ",
            true,
            &|p| prompt.ask(p),
        )
        .expect("password");
        assert_eq!(password.as_str(), "typed");
        assert_eq!(prompt.asked.borrow().len(), 2);
    }

    #[test]
    fn prompt_confirm_mismatch_refused() {
        let prompt = ScriptedPrompt::new(&["first", "second"]);
        let result = resolve_password("TFECO_PW", None, "Password: ", true, &|p| prompt.ask(p));
        assert_eq!(result.err(), Some(KeystoreError::PasswordMismatch));
    }

    #[test]
    fn empty_prompted_password_refused() {
        let prompt = ScriptedPrompt::new(&[""]);
        let result = resolve_password("TFECO_PW", None, "Password: ", true, &|p| prompt.ask(p));
        assert_eq!(result.err(), Some(KeystoreError::EmptyPassword));
        assert_eq!(prompt.asked.borrow().len(), 1);
    }

    #[test]
    fn prompt_failure_is_io_error() {
        let result =
            resolve_password("TFECO_PW", None, "Password: ", false, &|_| Err(io::Error::other("no tty")));
        assert!(matches!(result, Err(KeystoreError::Io(_))));
    }

    /// Issue 10 item 18: new keystore passwords are checked for strength.
    #[test]
    fn weak_passwords_are_refused_with_a_reason_and_strong_ones_pass() {
        for weak in ["password", "123456", "tfeco", "qwerty123", "letmein!"] {
            assert!(
                matches!(check_password_strength(weak), Err(KeystoreError::WeakPassword { .. })),
                "{weak}"
            );
        }
        assert!(matches!(check_password_strength(""), Err(KeystoreError::EmptyPassword)));
        for strong in ["correct horse battery staple", "umber-kestrel-quarry-1987"] {
            assert_eq!(check_password_strength(strong).ok(), Some(()), "{strong}");
        }
        let message = check_password_strength("password").unwrap_err().to_string();
        assert!(message.contains("too easy to guess"), "{message}");
    }
}
