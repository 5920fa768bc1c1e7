//! The data directory: `journal.sqlite` (the log) and `operator.key` (the node's operator signing key,
//! hex seed, mode 0600); a demo node also keeps its guardians' keys in `dev-guardians.json` (a development
//! quorum, marked as such, so that `tfeco admin` can gather the guardians' threshold alone). Opening a
//! directory replays its journal.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use tfeco_core::Genesis;
use tfeco_journal::{Journal, SqliteJournal};

use crate::replica::{ReplayOptions, ReplayReport, Replica, ReplicaError};

/// File name of the operator key inside the data directory.
pub const OPERATOR_KEY_FILE: &str = "operator.key";

/// File name of the development guardian keys inside a demo node's data directory.
pub const DEV_GUARDIANS_FILE: &str = "dev-guardians.json";

/// The marker `dev-guardians.json` must carry: its keys are public test keys, never for real value.
pub const DEV_GUARDIANS_MARKER: &str = "development only";

/// `dev-guardians.json`: the guardian keys of a development node (the demo's, derived from public seeds),
/// kept next to its journal so the operator's `tfeco admin` can sign for the guardians' threshold alone.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DevGuardiansFile {
    /// Always [`DEV_GUARDIANS_MARKER`]; a file without it is refused.
    purpose: String,
    /// What the file is, for a human who finds it.
    warning: String,
    /// The guardians' signing keys, 32-byte hex seeds, in the order of the genesis guardians.
    keys: Vec<String>,
}

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
    /// `dev-guardians.json` is not a marked development quorum of hex keys.
    #[error("{0}: not a development guardian file ({1})")]
    BadDevGuardians(PathBuf, String),
    /// The genesis names fewer guardians than a production node needs and is not in development mode
    /// (decisions §12).
    #[error(
        "this node's genesis has {guardians} distinct guardian key(s); a production node needs at least \
         {needed} (decisions §12). For a single-key development node, create the data directory with \
         `tfeco serve --dev`; for production, start from a genesis with the guardian set"
    )]
    TooFewGuardians {
        /// Distinct guardian keys in the genesis.
        guardians: usize,
        /// `min_guardians`.
        needed: u32,
    },
    /// Opening or replaying the replica failed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

/// Refuses a genesis with fewer than `min_guardians` distinct guardians unless it is in development mode.
fn check_guardians(genesis: &Genesis) -> Result<(), DataDirError> {
    let params = &genesis.params;
    params.check_production_guardians().map_err(|_| DataDirError::TooFewGuardians {
        guardians: params.distinct_guardians(),
        needed: params.min_guardians,
    })
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

/// Writes `keys` as the development guardian quorum of `dir` (`dev-guardians.json`, mode 0600, marked
/// [`DEV_GUARDIANS_MARKER`]); rewrites the file when it exists, so it always holds the demo's current keys.
pub fn save_dev_guardians(dir: &Path, keys: &[SigningKey]) -> Result<(), DataDirError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(DEV_GUARDIANS_FILE);
    let file = DevGuardiansFile {
        purpose: DEV_GUARDIANS_MARKER.to_owned(),
        warning: "The guardian keys of a demo node, derived from public seeds and kept here so that \
                  `tfeco admin` gathers the guardians' threshold alone. Anyone can recompute them: never use \
                  this data directory for real value."
            .to_owned(),
        keys: keys.iter().map(|k| hex::encode(k.to_bytes())).collect(),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| DataDirError::BadDevGuardians(path.clone(), e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options.open(&path).map_err(io(&path))?;
    out.write_all(text.as_bytes()).map_err(io(&path))?;
    out.sync_all().map_err(io(&path))
}

/// The development guardian keys of `dir` (`dev-guardians.json`), or none when the file does not exist (a
/// production node). Errors: the file unreadable, or not a marked development quorum of 32-byte hex seeds.
pub fn load_dev_guardians(dir: &Path) -> Result<Vec<SigningKey>, DataDirError> {
    let path = dir.join(DEV_GUARDIANS_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let bad = |why: String| DataDirError::BadDevGuardians(path.clone(), why);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let file: DevGuardiansFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if file.purpose != DEV_GUARDIANS_MARKER {
        return Err(bad(format!("its purpose must be {DEV_GUARDIANS_MARKER:?}")));
    }
    let key = |hex_seed: &String| {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(hex_seed.trim(), &mut seed)
            .map_err(|_| bad("a key is not 64 hex characters".to_owned()))?;
        Ok(SigningKey::from_bytes(&seed))
    };
    file.keys.iter().map(key).collect()
}

/// Opens (or creates) the replica of a data directory: SQLite journal, genesis on first start, full
/// replay.
///
/// Errors: [`DataDirError::TooFewGuardians`] when the stored or new genesis has fewer than
/// `min_guardians` distinct guardians and is not in development mode (nothing is written then); the
/// journal's and the replay's errors.
pub fn open_replica(
    dir: &Path,
    genesis: impl FnOnce() -> Genesis,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport), DataDirError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (journal, report) = SqliteJournal::open(dir).map_err(ReplicaError::from)?;
    let stored = journal.get_meta(crate::replica::GENESIS_META_KEY).map_err(ReplicaError::from)?;
    let genesis = match stored {
        Some(bytes) => Genesis::decode(&bytes).map_err(ReplicaError::from)?,
        None => genesis(),
    };
    check_guardians(&genesis)?;
    if let Some(seq) = report.dropped_torn_entry {
        tracing::warn!(seq, "dropped a torn last journal entry (crash during its write)");
    }
    Ok(Replica::open(Box::new(journal), || genesis, report.dropped_torn_entry, options)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_guardians_round_trip_and_need_their_marker() {
        let temp = tempfile::tempdir().expect("temp dir");
        assert!(load_dev_guardians(temp.path()).expect("no file").is_empty(), "a production node has none");
        let keys: Vec<SigningKey> = (1u8..=3).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
        save_dev_guardians(temp.path(), &keys).expect("save");
        let loaded = load_dev_guardians(temp.path()).expect("load");
        assert_eq!(
            loaded.iter().map(SigningKey::to_bytes).collect::<Vec<_>>(),
            keys.iter().map(SigningKey::to_bytes).collect::<Vec<_>>()
        );
        let path = temp.path().join(DEV_GUARDIANS_FILE);
        let text = std::fs::read_to_string(&path).expect("read").replace(DEV_GUARDIANS_MARKER, "production");
        std::fs::write(&path, text).expect("write");
        assert!(matches!(load_dev_guardians(temp.path()), Err(DataDirError::BadDevGuardians(..))));
    }

    /// Issue 10 item 6: a default genesis (the operator as the only guardian) does not start a production
    /// node, and nothing is written; in development mode it does, and the mode is recorded.
    #[test]
    fn a_single_key_genesis_starts_only_in_development_mode() {
        let temp = tempfile::tempdir().expect("temp dir");
        let operator = tfeco_core::AccountKey(SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes());
        let genesis = || Genesis::tfgrid4_2025(operator, 1_761_955_200);
        let refused = open_replica(temp.path(), genesis, ReplayOptions::default()).err().expect("refused");
        assert!(matches!(refused, DataDirError::TooFewGuardians { guardians: 1, needed: 9 }), "{refused}");
        assert!(refused.to_string().contains("tfeco serve --dev"), "{refused}");
        let dev = || {
            let mut genesis = genesis();
            genesis.params.dev_mode = true;
            genesis
        };
        let (replica, _) =
            open_replica(temp.path(), dev, ReplayOptions::default()).expect("a development node");
        assert!(replica.state().params().dev_mode);
        drop(replica);
        // The mode is the stored genesis's: reopening needs no flag.
        let (replica, _) = open_replica(temp.path(), genesis, ReplayOptions::default()).expect("reopens");
        assert!(replica.state().params().dev_mode);
    }
}
