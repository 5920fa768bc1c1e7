//! The data directory: `journal.sqlite` (the log, with SQLite's `-wal`), `anchor` (the durable head, outside
//! the log: `tfeco_journal::anchor`), `operator.key` (the node's operator signing key, hex seed, mode 0600);
//! a demo node also keeps its guardians' keys in `dev-guardians.json` (a development quorum, marked as such,
//! so that `tfeco admin` can gather the guardians' threshold alone). [`open_node`] creates a directory
//! (journal and genesis, then the anchor, then the key) or opens one against its anchor and replays it;
//! it never starts a fresh genesis where an anchor, a journal or an operator key already exists.
//! [`open_node_at`] does the same with the entries in a PostgreSQL database ([`JournalLocation`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use tfeco_core::{AccountKey, Genesis};
use tfeco_journal::anchor::ANCHOR_FILE;
use tfeco_journal::{AnchoredJournal, Journal, JournalError, PostgresJournal, SqliteJournal};

use crate::replica::{ReplayOptions, ReplayReport, Replica, ReplicaError};
use crate::snapshots::{FsSnapshots, SnapshotStore};

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
    /// The directory has some of a node's files but no anchor: a damaged directory, one from an earlier
    /// release, or a creation interrupted before any command. Nothing was changed.
    #[error(
        "{dir}: has {found} but no `anchor`: this is not a complete data directory (damaged, from an earlier \
         release, or its creation was interrupted). Nothing was changed and no new economy was started. \
         Inspect it with `tfeco verify --data-dir {dir}` and `tfeco repair --data-dir {dir}`; if it never \
         served a command, remove it and start again"
    )]
    NoAnchor {
        /// The directory.
        dir: PathBuf,
        /// Which of the node's files it has.
        found: String,
    },
    /// The operator key is missing from an anchored directory.
    #[error(
        "{0}: the operator key is missing; restore `operator.key` from your backup (nothing was changed)"
    )]
    MissingKey(PathBuf),
    /// A valid snapshot exists of an entry beyond the journal's head: acknowledged entries were lost even
    /// though the anchor agrees (both were rolled back).
    #[error(
        "a valid snapshot of entry {seq} exists but the journal ends at entry {head}: acknowledged history is \
         missing (the journal and its anchor were rolled back). Nothing was changed; restore the journal \
         files from a backup or a follower"
    )]
    SnapshotBeyondHead {
        /// The snapshot's entry.
        seq: u64,
        /// The journal's head.
        head: u64,
    },
    /// `--journal` names a PostgreSQL database but the directory keeps its journal in `journal.sqlite`.
    #[error(
        "{0}: this data directory keeps its journal in `journal.sqlite`; it cannot be served from a \
         PostgreSQL journal (omit --journal, or start a new data directory)"
    )]
    JournalElsewhere(PathBuf),
    /// `operator.key` is not the key of this journal's operator.
    #[error("{0}: `operator.key` is not the operator key of this journal's genesis (another node's key?)")]
    KeyMismatch(PathBuf),
}

/// A new data directory's contents, made by the caller when [`open_node`] finds no node there.
pub struct NewNode {
    /// The operator's signing key (written to `operator.key` last).
    pub operator_key: SigningKey,
    /// The genesis (its operator must be `operator_key`'s).
    pub genesis: Genesis,
    /// A random id for the directory, recorded in the anchor and the journal.
    pub datadir_id: [u8; 16],
}

/// The node files of `dir` that exist, by name.
pub(crate) fn node_files(dir: &Path) -> Vec<&'static str> {
    [OPERATOR_KEY_FILE, tfeco_journal::FILE_NAME, tfeco_journal::WAL_FILE_NAME, ANCHOR_FILE]
        .into_iter()
        .filter(|name| dir.join(name).exists())
        .collect()
}

/// Opens the node in `dir`, or creates it with `fresh()` when `dir` holds none of a node's files.
///
/// Opening: reads the anchor, opens the journal in place and checks it against the anchor
/// (`tfeco_journal::open_anchored`), checks the operator key against the genesis and the guardian set,
/// and replays. Creating: journal with the genesis, then the anchor, then `operator.key`.
///
/// Errors: [`DataDirError::NoAnchor`] (node files without an anchor), [`DataDirError::MissingKey`],
/// [`DataDirError::KeyMismatch`], [`DataDirError::TooFewGuardians`], the journal's (anchor mismatch,
/// corruption) and the replay's; nothing is written when opening fails.
pub fn open_node(
    dir: &Path,
    fresh: impl FnOnce() -> NewNode,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport, SigningKey), DataDirError> {
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    if !dir.join(ANCHOR_FILE).exists() {
        let found = node_files(dir);
        if !found.is_empty() {
            return Err(DataDirError::NoAnchor { dir: dir.to_owned(), found: found.join(", ") });
        }
        return create_node(dir, fresh(), options);
    }
    let key_path = dir.join(OPERATOR_KEY_FILE);
    if !key_path.exists() {
        return Err(DataDirError::MissingKey(dir.to_owned()));
    }
    let key = read_operator_key(&key_path)?;
    let (journal, open) = tfeco_journal::open_anchored(dir).map_err(journal_error)?;
    if let Some((first, last, problem)) = &open.dropped {
        tracing::warn!(first, last, %problem, "dropped an unacknowledged commit with a damaged last entry");
    }
    resume_node(dir, journal, key, options)
}

/// Where a node's journal entries live: `journal.sqlite` in its data directory (the default), or a
/// PostgreSQL database (`--journal postgres://USER@HOST:PORT/DB`; the directory still keeps the anchor, the
/// keys, snapshots and checkpoints).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum JournalLocation {
    /// `journal.sqlite` in the data directory.
    #[default]
    DataDir,
    /// A PostgreSQL database, by connection URL.
    Postgres(String),
}

impl JournalLocation {
    /// Parses `--journal`: a `postgres://` or `postgresql://` URL. Errors: anything else (a message).
    pub fn parse(text: &str) -> Result<JournalLocation, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(JournalLocation::Postgres(text.to_owned()))
        } else {
            Err(format!("--journal takes a postgres://USER@HOST:PORT/DB URL, not {text:?}"))
        }
    }
}

/// Opens the node in `dir` with its journal at `location`, or creates it with `fresh()`: as [`open_node`]
/// for [`JournalLocation::DataDir`]. For PostgreSQL the same anchor checks apply (the database must hold
/// the anchored history: a rolled-back database, e.g. a standby that missed acknowledged commits, is refused
/// like a rolled-back SQLite file), except that the shared database may run past the directory's anchor (a
/// later writer's entries, e.g. when the new writer after a failover has an older copy of the directory):
/// those are chain-verified and anchored. The new node's journal is created in an empty database (a database that already holds a journal is refused),
/// and opening takes the journal's writer lease (fencing any earlier writer).
///
/// Errors: as [`open_node`]; [`DataDirError::JournalElsewhere`] when `dir` keeps its journal in
/// `journal.sqlite`.
pub fn open_node_at(
    dir: &Path,
    location: &JournalLocation,
    fresh: impl FnOnce() -> NewNode,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport, SigningKey), DataDirError> {
    let JournalLocation::Postgres(url) = location else { return open_node(dir, fresh, options) };
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    if dir.join(tfeco_journal::FILE_NAME).exists() {
        return Err(DataDirError::JournalElsewhere(dir.to_owned()));
    }
    if !dir.join(ANCHOR_FILE).exists() {
        let found = node_files(dir);
        if !found.is_empty() {
            return Err(DataDirError::NoAnchor { dir: dir.to_owned(), found: found.join(", ") });
        }
        return create_postgres_node(dir, url, fresh(), options);
    }
    let key_path = dir.join(OPERATOR_KEY_FILE);
    if !key_path.exists() {
        return Err(DataDirError::MissingKey(dir.to_owned()));
    }
    let key = read_operator_key(&key_path)?;
    let (journal, open) = tfeco_journal::open_anchored_postgres(dir, url).map_err(journal_error)?;
    if open.caught_up > 0 {
        tracing::warn!(
            anchor_seq = open.anchor.head.seq,
            entries = open.caught_up,
            "this data directory's anchor was behind the journal (a later writer appended, e.g. before a \
             failover): the entries were verified and the anchor moved to the journal's head"
        );
    }
    resume_node(dir, journal, key, options)
}

/// Creates a node in `dir` whose journal is a new one in the (empty) PostgreSQL database at `url`: the
/// journal with its genesis, the anchor, then the operator key, as [`create_node`] does.
fn create_postgres_node(
    dir: &Path,
    url: &str,
    node: NewNode,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport, SigningKey), DataDirError> {
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    check_guardians(&node.genesis)?;
    node.genesis.params.check().map_err(ReplicaError::InvalidGenesis)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut journal = PostgresJournal::open_new(url).map_err(journal_error)?;
    journal.set_genesis(&node.genesis.encode()).map_err(journal_error)?;
    let journal = AnchoredJournal::create(journal, dir, node.datadir_id).map_err(journal_error)?;
    write_operator_key(dir, &node.operator_key)?;
    let genesis = node.genesis;
    let (replica, report) = Replica::open(Box::new(journal), || genesis, options)?;
    Ok((replica, report, node.operator_key))
}

/// The seq of a valid snapshot of `dir` beyond the journal's `head`, if any: the node wrote it after
/// acknowledging that entry, so the journal lost acknowledged entries (with its anchor).
pub fn valid_snapshot_beyond(dir: &Path, head: u64) -> Option<u64> {
    crate::snapshots::valid_beyond_in(&mut FsSnapshots::new(dir), head)
}

/// The common end of opening an existing node on either backend: the journal's genesis, decoded, must name
/// `key` as its operator and have enough guardians; then the state resumes from the newest snapshot.
/// Errors: [`DataDirError::KeyMismatch`], [`DataDirError::TooFewGuardians`], the journal's and the replay's.
fn resume_node(
    dir: &Path,
    journal: impl Journal + 'static,
    key: SigningKey,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport, SigningKey), DataDirError> {
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    let bytes = journal.genesis().map_err(journal_error)?.ok_or(ReplicaError::Genesis)?;
    let genesis = Genesis::decode(&bytes).map_err(ReplicaError::from)?;
    if genesis.params.operator != AccountKey(key.verifying_key().to_bytes()) {
        return Err(DataDirError::KeyMismatch(dir.to_owned()));
    }
    check_guardians(&genesis)?;
    let (replica, report) = resume_from_snapshot(dir, journal, genesis, options)?;
    Ok((replica, report, key))
}

/// Replays `journal` from the newest snapshot of `dir` that agrees with it (each one skipped is logged),
/// or from the genesis when none does.
pub(crate) fn resume_from_snapshot(
    dir: &Path,
    journal: impl Journal + 'static,
    genesis: Genesis,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport), DataDirError> {
    resume_from_snapshots(&mut FsSnapshots::new(dir), journal, genesis, options)
}

/// [`resume_from_snapshot`] with the snapshots of `store` (the deterministic simulator runs it on its
/// disk). Errors: [`DataDirError::SnapshotBeyondHead`] when a valid snapshot is newer than the journal's
/// head (the journal lost acknowledged entries), and the replay's.
pub fn resume_from_snapshots(
    store: &mut dyn SnapshotStore,
    journal: impl Journal + 'static,
    genesis: Genesis,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport), DataDirError> {
    let head = journal.head().seq;
    if let Some(seq) = crate::snapshots::valid_beyond_in(store, head) {
        return Err(DataDirError::SnapshotBeyondHead { seq, head });
    }
    let hash_at = |seq: u64| if seq > head { None } else { journal.entry_hash(seq).ok().flatten() };
    let (newest, warnings) = crate::snapshots::load_newest_in(store, hash_at);
    for warning in warnings {
        tracing::warn!(%warning, "skipping a snapshot");
    }
    let opened = match newest {
        Some((state, meta)) => Replica::resume(Box::new(journal), state, meta.seq, options)?,
        None => Replica::open(Box::new(journal), || genesis, options)?,
    };
    Ok(opened)
}

/// Creates a node in `dir`: the journal with its genesis, the anchor (the commit point of creation),
/// then the operator key.
fn create_node(
    dir: &Path,
    node: NewNode,
    options: ReplayOptions,
) -> Result<(Replica, ReplayReport, SigningKey), DataDirError> {
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    check_guardians(&node.genesis)?;
    node.genesis.params.check().map_err(ReplicaError::InvalidGenesis)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (mut journal, _) = SqliteJournal::open(dir).map_err(journal_error)?;
    journal.set_genesis(&node.genesis.encode()).map_err(journal_error)?;
    let journal = AnchoredJournal::create(journal, dir, node.datadir_id).map_err(journal_error)?;
    write_operator_key(dir, &node.operator_key)?;
    let genesis = node.genesis;
    let (replica, report) = Replica::open(Box::new(journal), || genesis, options)?;
    Ok((replica, report, node.operator_key))
}

fn read_operator_key(path: &Path) -> Result<SigningKey, DataDirError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).map_err(|_| DataDirError::BadKey(path.to_owned()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `operator.key` (mode 0600, must not exist) and syncs it and the directory.
fn write_operator_key(dir: &Path, key: &SigningKey) -> Result<(), DataDirError> {
    let path = dir.join(OPERATOR_KEY_FILE);
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
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
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

/// Loads `operator.key` of `dir` (for `tfeco admin` and the wallet's operator commands).
/// Errors: the file is missing or unreadable, or not a 32-byte hex seed.
pub fn load_operator_key(dir: &Path) -> Result<SigningKey, DataDirError> {
    read_operator_key(&dir.join(OPERATOR_KEY_FILE))
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

    fn node(genesis: impl FnOnce() -> Genesis) -> impl FnOnce() -> NewNode {
        || NewNode { operator_key: SigningKey::from_bytes(&[1; 32]), genesis: genesis(), datadir_id: [5; 16] }
    }

    fn dev_genesis() -> Genesis {
        let operator = AccountKey(SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes());
        let mut genesis = Genesis::tfgrid4_2025(operator, 1_761_955_200);
        genesis.params.dev_mode = true;
        genesis
    }

    fn unused() -> NewNode {
        panic!("an existing node must not be created again")
    }

    /// Issue 10 item 6: a default genesis (the operator as the only guardian) does not start a production
    /// node, and nothing is written; in development mode it does, and the mode is recorded.
    #[test]
    fn a_single_key_genesis_starts_only_in_development_mode() {
        let temp = tempfile::tempdir().expect("temp dir");
        let operator = AccountKey(SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes());
        let genesis = || Genesis::tfgrid4_2025(operator, 1_761_955_200);
        let refused = open_node(temp.path(), node(genesis), ReplayOptions::default()).err().expect("refused");
        assert!(matches!(refused, DataDirError::TooFewGuardians { guardians: 1, needed: 9 }), "{refused}");
        assert!(refused.to_string().contains("tfeco serve --dev"), "{refused}");
        assert_eq!(std::fs::read_dir(temp.path()).expect("list").count(), 0, "nothing written");
        let (replica, _, _) =
            open_node(temp.path(), node(dev_genesis), ReplayOptions::default()).expect("a development node");
        assert!(replica.state().params().dev_mode);
        drop(replica);
        // The mode is the stored genesis's: reopening needs no flag (and creates nothing).
        let (replica, _, _) = open_node(temp.path(), unused, ReplayOptions::default()).expect("reopens");
        assert!(replica.state().params().dev_mode);
    }

    /// Issue 11: never a fresh genesis where a node's files exist; the key must be the genesis operator's.
    #[test]
    fn a_damaged_directory_is_refused_and_never_restarted_as_a_new_economy() {
        let temp = tempfile::tempdir().expect("temp dir");
        drop(open_node(temp.path(), node(dev_genesis), ReplayOptions::default()).expect("created"));
        let anchor = temp.path().join(ANCHOR_FILE);
        let saved = std::fs::read(&anchor).expect("anchor");
        std::fs::remove_file(&anchor).expect("remove anchor");
        let refused = open_node(temp.path(), unused, ReplayOptions::default()).err().expect("refused");
        assert!(
            matches!(&refused, DataDirError::NoAnchor { found, .. } if found.contains("operator.key")),
            "{refused}"
        );
        std::fs::write(&anchor, saved).expect("restore anchor");
        let key = temp.path().join(OPERATOR_KEY_FILE);
        let saved = std::fs::read(&key).expect("key");
        std::fs::write(&key, hex::encode([2u8; 32])).expect("another key");
        let refused = open_node(temp.path(), unused, ReplayOptions::default()).err().expect("refused");
        assert!(matches!(refused, DataDirError::KeyMismatch(_)), "{refused}");
        std::fs::remove_file(&key).expect("remove key");
        let refused = open_node(temp.path(), unused, ReplayOptions::default()).err().expect("refused");
        assert!(matches!(refused, DataDirError::MissingKey(_)), "{refused}");
        std::fs::write(&key, saved).expect("restore key");
        std::fs::remove_file(temp.path().join(tfeco_journal::FILE_NAME)).expect("remove journal");
        let refused = open_node(temp.path(), unused, ReplayOptions::default()).err().expect("refused");
        assert!(refused.to_string().contains("no journal file"), "{refused}");
    }

    /// Issue 13: a node whose entries live in PostgreSQL reopens from its directory and the database;
    /// a second directory on the same database, and a SQLite directory with `--journal`, are refused.
    #[test]
    fn a_postgres_journal_node_reopens_and_its_database_serves_no_other_directory() {
        let url = tfeco_testkit::postgres::fresh_database();
        let location = JournalLocation::Postgres(url);
        let temp = tempfile::tempdir().expect("temp dir");
        let (first, second) = (temp.path().join("first"), temp.path().join("second"));
        let options = ReplayOptions::default;
        let (replica, _, _) = open_node_at(&first, &location, node(dev_genesis), options()).expect("created");
        let state_hash = replica.state().state_hash();
        drop(replica);
        assert!(!first.join(tfeco_journal::FILE_NAME).exists(), "no SQLite journal");
        let (replica, _, _) = open_node_at(&first, &location, unused, options()).expect("reopens");
        assert_eq!(replica.state().state_hash(), state_hash);
        let refused = open_node_at(&second, &location, node(dev_genesis), options()).err().expect("refused");
        assert!(refused.to_string().contains("already has a genesis"), "{refused}");
        let sqlite = temp.path().join("sqlite");
        drop(open_node(&sqlite, node(dev_genesis), options()).expect("a SQLite node"));
        let refused = open_node_at(&sqlite, &location, unused, options()).err().expect("refused");
        assert!(matches!(refused, DataDirError::JournalElsewhere(_)), "{refused}");
        assert_eq!(
            JournalLocation::parse("/tmp/x"),
            Err("--journal takes a postgres://USER@HOST:PORT/DB URL, not \"/tmp/x\"".into())
        );
        drop(replica);
    }

    /// Issue 11: a valid snapshot of an entry the journal does not have means the journal and its anchor
    /// were rolled back together: refused.
    #[test]
    fn a_valid_snapshot_beyond_the_journal_head_is_refused() {
        let temp = tempfile::tempdir().expect("temp dir");
        let (replica, _, _) =
            open_node(temp.path(), node(dev_genesis), ReplayOptions::default()).expect("created");
        let state = replica.state().clone();
        drop(replica);
        crate::snapshots::write(temp.path(), (3, [9; 32], 0), &state).expect("a snapshot of entry 3");
        let refused = open_node(temp.path(), unused, ReplayOptions::default()).err().expect("refused");
        assert!(matches!(refused, DataDirError::SnapshotBeyondHead { seq: 3, head: 0 }), "{refused}");
    }
}
