//! The data directory: `journal.sqlite` (the log) and `operator.key` (the node's operator signing key,
//! hex seed, mode 0600). Opening a directory replays its journal.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use tfeco_core::Genesis;
use tfeco_journal::SqliteJournal;

use crate::replica::{ReplayOptions, ReplayReport, Replica, ReplicaError};

/// File name of the operator key inside the data directory.
pub const OPERATOR_KEY_FILE: &str = "operator.key";

/// Problems with the data directory.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The key file does not hold a 32-byte hex seed.
    #[error("{0}: not a valid operator key (expected 64 hex characters)")]
    BadKey(PathBuf),
    /// Opening or replaying the replica failed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io { path: path.to_owned(), source }
}

/// Loads `operator.key`, or creates it with `fresh` (a new random key from the caller) on first start.
pub fn load_or_create_operator_key(
    dir: &Path,
    fresh: impl FnOnce() -> SigningKey,
) -> Result<SigningKey, DataDirError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(OPERATOR_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let mut seed = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| DataDirError::BadKey(path.clone()))?;
        return Ok(SigningKey::from_bytes(&seed));
    }
    let key = fresh();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(io(&path))?;
    file.write_all(hex::encode(key.to_bytes()).as_bytes()).map_err(io(&path))?;
    file.sync_all().map_err(io(&path))?;
    Ok(key)
}

/// Opens (or creates) the replica of a data directory: SQLite journal, genesis on first start, full
/// replay.
pub fn open_replica(
    dir: &Path,
    genesis: impl FnOnce() -> Genesis,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport), DataDirError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (journal, report) = SqliteJournal::open(dir).map_err(ReplicaError::from)?;
    if let Some(seq) = report.dropped_torn_entry {
        tracing::warn!(seq, "dropped a torn last journal entry (crash during its write)");
    }
    Ok(Replica::open(Box::new(journal), genesis, report.dropped_torn_entry, options)?)
}
