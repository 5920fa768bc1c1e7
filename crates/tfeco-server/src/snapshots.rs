//! State snapshots on disk: `DIR/snapshots/snapshot-<seq>.bin`, the state after journal entry `seq` (`seq`
//! zero-padded to 20 digits, so that names sort by sequence number). A node starts from the newest valid
//! snapshot and replays only the journal's tail; a snapshot never replaces the journal.
//!
//! # File format (version [`SNAPSHOT_FORMAT_VERSION`])
//!
//! All integers little-endian; hashes raw bytes.
//!
//! | Offset | Size | Content |
//! |---|---|---|
//! | 0 | 16 | magic [`MAGIC`], `tfeco-snapshot\0\0` |
//! | 16 | 4 | format version (u32), [`SNAPSHOT_FORMAT_VERSION`] |
//! | 20 | 4 | [`tfeco_core::STATE_ENCODING_VERSION`] of the body (u32) |
//! | 24 | 8 | `seq`: the journal entry the state is after (u64) |
//! | 32 | 32 | the journal's hash of entry `seq` (the root of the chain when `seq` is 0) |
//! | 64 | 32 | the state hash ([`tfeco_core::State::state_hash`], raw) |
//! | 96 | 8 | `timestamp_ms` of entry `seq` (i64, unix milliseconds) |
//! | 104 | 8 | `B`: body length (u64) |
//! | 112 | B | body: [`tfeco_core::State::snapshot_bytes`] |
//! | 112 + B | 32 | blake3 of bytes `0 .. 112 + B` (header and body) |
//!
//! # Checks on load ([`load`]), in order
//!
//! 1. the file is at least a header and a checksum long, and starts with the magic (else not a snapshot);
//! 2. the format version is this one (a snapshot of another version is refused, not guessed at);
//! 3. the trailing blake3 matches header and body (any flipped bit, a torn write, a truncation);
//! 4. the state encoding version is this build's (another build's state layout);
//! 5. the body length in the header is the file's (appended or missing bytes that kept a valid checksum);
//! 6. the file name's `seq` is the header's (a renamed file);
//! 7. when the caller gives the journal's `(seq, hash)`, they are the header's (a snapshot of another
//!    journal, of a rolled-back or rewritten history, or past the journal's head);
//! 8. the body decodes to a state with the header's state hash, its derived lookups rebuild and every
//!    invariant holds ([`tfeco_core::State::from_snapshot_bytes`]).
//!
//! # Writing
//!
//! [`write`] writes `snapshot-<seq>.bin.tmp`, fsyncs it, renames it to its final name and fsyncs the
//! directory: a crash leaves either no snapshot or a complete one under the final name (a stale `.tmp` is
//! never read, and [`prune`] removes it). When to write is the [`SnapshotPolicy`]; [`prune`] keeps the newest
//! few. [`load_newest`] picks the newest snapshot that passes every check, with a warning for each one it
//! skips.
//!
//! # Storage
//!
//! Every function works on a [`SnapshotStore`]: the data directory's folder ([`FsSnapshots`], what the
//! plain functions use) or the deterministic simulator's disk (`tfeco-vopr`), which runs this same code
//! under crashes, failed I/O, power loss and bit flips.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use tfeco_core::{State, STATE_ENCODING_VERSION};

/// Name of the snapshot directory inside the data directory.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// The first 16 bytes of every snapshot file.
pub const MAGIC: [u8; 16] = *b"tfeco-snapshot\0\0";

/// Version of the snapshot file format (the layout in the module doc).
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// Header length in bytes (magic to body length).
const HEADER_LEN: usize = 112;

/// Length of the trailing blake3 checksum.
const CHECKSUM_LEN: usize = 32;

/// File name prefix and suffix: `snapshot-<20 digits>.bin`.
const PREFIX: &str = "snapshot-";
const SUFFIX: &str = ".bin";
const TEMP_SUFFIX: &str = ".tmp";
const SEQ_DIGITS: usize = 20;

/// A snapshot file's header, as written or verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The journal entry the state is after (0: the genesis state).
    pub seq: u64,
    /// The journal's hash of entry `seq`.
    pub journal_hash: [u8; 32],
    /// The state hash, 64 hex characters ([`State::state_hash`]).
    pub state_hash: String,
    /// The timestamp of entry `seq`, unix milliseconds.
    pub timestamp_ms: i64,
    /// The file.
    pub path: PathBuf,
}

/// Why a snapshot could not be written, listed or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is shorter than a header and a checksum, or does not start with the magic.
    #[error("{path}: not a snapshot file (too short or no `tfeco-snapshot` magic)")]
    NotASnapshot {
        /// The path.
        path: PathBuf,
    },
    /// The file is of another snapshot format version.
    #[error("{path}: snapshot format version {found}, this build reads version {supported}")]
    FormatVersion {
        /// The path.
        path: PathBuf,
        /// The file's version.
        found: u32,
        /// [`SNAPSHOT_FORMAT_VERSION`].
        supported: u32,
    },
    /// The trailing blake3 does not match: damaged, torn or truncated.
    #[error("{path}: checksum mismatch (the file is damaged, torn or truncated)")]
    Checksum {
        /// The path.
        path: PathBuf,
    },
    /// The state inside is of another state encoding version.
    #[error("{path}: state encoding version {found}, this build reads version {supported}")]
    EncodingVersion {
        /// The path.
        path: PathBuf,
        /// The file's version.
        found: u32,
        /// [`STATE_ENCODING_VERSION`].
        supported: u32,
    },
    /// The header's body length is not the file's.
    #[error("{path}: the header says {body_len} body bytes, the file has {actual}")]
    Length {
        /// The path.
        path: PathBuf,
        /// From the header.
        body_len: u64,
        /// From the file's size.
        actual: u64,
    },
    /// The file name is not `snapshot-<20 digits>.bin` or names another seq than the header.
    #[error("{path}: the file name does not match the header's seq {seq}")]
    FileName {
        /// The path.
        path: PathBuf,
        /// The header's seq.
        seq: u64,
    },
    /// The snapshot is not of the journal's entry the caller expected.
    #[error(
        "{path}: snapshot of seq {found_seq} (journal hash {found_hash}), but the journal has seq {expected_seq} \
         with hash {expected_hash}"
    )]
    JournalMismatch {
        /// The path.
        path: PathBuf,
        /// The seq the caller expected.
        expected_seq: u64,
        /// The journal's hash there, hex.
        expected_hash: String,
        /// The header's seq.
        found_seq: u64,
        /// The header's journal hash, hex.
        found_hash: String,
    },
    /// The snapshot's seq is beyond the journal's head.
    #[error("{path}: snapshot of seq {seq}, beyond the journal's head")]
    BeyondHead {
        /// The path.
        path: PathBuf,
        /// The header's seq.
        seq: u64,
    },
    /// The body is not a valid state with the header's hash.
    #[error("{path}: {source}")]
    State {
        /// The path.
        path: PathBuf,
        /// The core's reason.
        source: tfeco_core::SnapshotError,
    },
}

/// When a node writes a snapshot and how many it keeps.
///
/// A snapshot is due when at least one entry was journaled since the last one and either `every_entries`
/// entries were (0: never by count) or `every_seconds` seconds passed (0: never by time). Keep at least 2, so
/// that a damaged newest snapshot falls back to the one before rather than to a replay from genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// Journal entries between snapshots (default 100,000).
    pub every_entries: u64,
    /// Seconds between snapshots while entries arrive (default 600).
    pub every_seconds: u64,
    /// Snapshots kept by [`prune`] (default 3).
    pub keep: usize,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        SnapshotPolicy { every_entries: 100_000, every_seconds: 600, keep: 3 }
    }
}

impl SnapshotPolicy {
    /// Whether a snapshot is due, `entries_since_last` journal entries and `seconds_since_last` seconds
    /// after the last one (or after start).
    pub fn due(&self, entries_since_last: u64, seconds_since_last: u64) -> bool {
        entries_since_last > 0
            && ((self.every_entries > 0 && entries_since_last >= self.every_entries)
                || (self.every_seconds > 0 && seconds_since_last >= self.every_seconds))
    }
}

/// The snapshot directory of data directory `dir`.
pub fn snapshot_dir(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT_DIR)
}

/// The file of the snapshot at `seq` in data directory `dir`.
pub fn snapshot_path(dir: &Path, seq: u64) -> PathBuf {
    snapshot_dir(dir).join(file_name(seq))
}

/// The file name of the snapshot at `seq`.
fn file_name(seq: u64) -> String {
    format!("{PREFIX}{seq:020}{SUFFIX}")
}

/// Where the snapshot files of a data directory live ([`FsSnapshots`], or a simulated disk). Names are
/// bare file names inside the snapshot folder.
pub trait SnapshotStore {
    /// How file `name` shows in errors and in [`SnapshotMeta::path`].
    fn path(&self, name: &str) -> PathBuf;
    /// The names of the regular files present; a missing or unreadable folder has none.
    fn names(&mut self) -> Vec<String>;
    /// The bytes of file `name`.
    fn read(&mut self, name: &str) -> std::io::Result<Vec<u8>>;
    /// Creates or truncates file `name`, writes `bytes` and syncs the file (creating the folder, durably,
    /// when it is missing).
    fn write_synced(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Renames file `from` to `to` (replacing it) and syncs the folder, so that the rename is durable.
    fn rename_synced(&mut self, from: &str, to: &str) -> std::io::Result<()>;
    /// Removes file `name`.
    fn remove(&mut self, name: &str) -> std::io::Result<()>;
    /// Syncs the folder, so that removals are durable.
    fn sync_dir(&mut self) -> std::io::Result<()>;
}

/// The snapshot folder `DIR/snapshots/` of a data directory on the file system.
#[derive(Clone, Debug)]
pub struct FsSnapshots {
    data_dir: PathBuf,
}

impl FsSnapshots {
    /// The snapshot folder of data directory `data_dir` (created on the first write).
    pub fn new(data_dir: &Path) -> Self {
        FsSnapshots { data_dir: data_dir.to_owned() }
    }
}

impl SnapshotStore for FsSnapshots {
    fn path(&self, name: &str) -> PathBuf {
        snapshot_dir(&self.data_dir).join(name)
    }

    fn names(&mut self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(snapshot_dir(&self.data_dir)) else { return Vec::new() };
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect()
    }

    fn read(&mut self, name: &str) -> std::io::Result<Vec<u8>> {
        fs::read(self.path(name))
    }

    fn write_synced(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let folder = snapshot_dir(&self.data_dir);
        if !folder.is_dir() {
            fs::create_dir_all(&folder)?;
            File::open(&self.data_dir)?.sync_all()?;
        }
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(self.path(name))?;
        file.write_all(bytes)?;
        file.sync_all()
    }

    fn rename_synced(&mut self, from: &str, to: &str) -> std::io::Result<()> {
        fs::rename(self.path(from), self.path(to))?;
        self.sync_dir()
    }

    fn remove(&mut self, name: &str) -> std::io::Result<()> {
        fs::remove_file(self.path(name))
    }

    fn sync_dir(&mut self) -> std::io::Result<()> {
        File::open(snapshot_dir(&self.data_dir))?.sync_all()
    }
}

/// The seq a snapshot file name carries, or `None` for any other name.
fn seq_of_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io { path: path.to_owned(), source }
}

/// An I/O error on file `name` of `store`.
fn store_io<'a>(
    store: &'a dyn SnapshotStore,
    name: &'a str,
) -> impl FnOnce(std::io::Error) -> SnapshotError + 'a {
    move |source| SnapshotError::Io { path: store.path(name), source }
}

/// Header and body of a snapshot, then the checksum.
fn encode(
    seq: u64,
    journal_hash: &[u8; 32],
    state_hash: &[u8; 32],
    timestamp_ms: i64,
    body: &[u8],
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len() + CHECKSUM_LEN);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&STATE_ENCODING_VERSION.to_le_bytes());
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(journal_hash);
    bytes.extend_from_slice(state_hash);
    bytes.extend_from_slice(&timestamp_ms.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(body);
    let checksum = blake3::hash(&bytes);
    bytes.extend_from_slice(checksum.as_bytes());
    bytes
}

/// Writes the snapshot of `state`, the state after journal entry `seq` (whose hash is `journal_hash` and
/// timestamp `timestamp_ms`), to `DIR/snapshots/snapshot-<seq>.bin` (module doc, "Writing"), creating the
/// directory if needed. An existing snapshot of the same seq is replaced (atomically).
///
/// Errors: [`SnapshotError::Io`] (nothing is left under the final name then).
pub fn write(dir: &Path, head: (u64, [u8; 32], i64), state: &State) -> Result<SnapshotMeta, SnapshotError> {
    write_in(&mut FsSnapshots::new(dir), head, state)
}

/// [`write`] to `store`: the temporary file written and synced, then renamed and the folder synced.
pub fn write_in(
    store: &mut dyn SnapshotStore,
    (seq, journal_hash, timestamp_ms): (u64, [u8; 32], i64),
    state: &State,
) -> Result<SnapshotMeta, SnapshotError> {
    let body = state.snapshot_bytes();
    let state_hash = State::hash_of_snapshot_bytes(&body);
    let mut raw_hash = [0u8; 32];
    hex::decode_to_slice(&state_hash, &mut raw_hash).expect("a state hash is 64 hex characters");
    let bytes = encode(seq, &journal_hash, &raw_hash, timestamp_ms, &body);
    let name = file_name(seq);
    let temp = format!("{name}{TEMP_SUFFIX}");
    if let Err(source) = store.write_synced(&temp, &bytes) {
        let _ = store.remove(&temp);
        return Err(SnapshotError::Io { path: store.path(&temp), source });
    }
    store.rename_synced(&temp, &name).map_err(store_io(store, &name))?;
    Ok(SnapshotMeta { seq, journal_hash, state_hash, timestamp_ms, path: store.path(&name) })
}

/// The snapshot files of data directory `dir`, `(seq, path)`, newest (highest seq) first. Only names of the
/// form `snapshot-<20 digits>.bin` count; other files (temporary files, copies) are ignored, and so is a
/// missing or unreadable directory (no snapshot: the node replays from genesis).
pub fn list(dir: &Path) -> Vec<(u64, PathBuf)> {
    let store = FsSnapshots::new(dir);
    list_in(&mut store.clone()).into_iter().map(|(seq, name)| (seq, store.path(&name))).collect()
}

/// [`list`] of `store`: `(seq, name)`, newest first.
pub fn list_in(store: &mut dyn SnapshotStore) -> Vec<(u64, String)> {
    let mut found: Vec<(u64, String)> =
        store.names().into_iter().filter_map(|name| Some((seq_of_name(&name)?, name))).collect();
    found.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    found
}

/// Reads and checks the snapshot file `path` (module doc, "Checks on load"); with `expected = Some((seq,
/// journal_hash))` it must also be the snapshot of that journal entry. Returns the state, ready to apply the
/// journal's entries after `seq`, and the header.
///
/// Errors: every [`SnapshotError`] but [`SnapshotError::BeyondHead`], in the order of the checks.
pub fn load(path: &Path, expected: Option<(u64, [u8; 32])>) -> Result<(State, SnapshotMeta), SnapshotError> {
    let bytes = fs::read(path).map_err(io(path))?;
    decode_file(path, &bytes, expected)
}

/// [`load`] of file `name` of `store`.
pub fn load_in(
    store: &mut dyn SnapshotStore,
    name: &str,
    expected: Option<(u64, [u8; 32])>,
) -> Result<(State, SnapshotMeta), SnapshotError> {
    let bytes = store.read(name).map_err(store_io(store, name))?;
    decode_file(&store.path(name), &bytes, expected)
}

/// [`load`] of the file's bytes (`path` names it in errors and must carry its seq).
fn decode_file(
    path: &Path,
    bytes: &[u8],
    expected: Option<(u64, [u8; 32])>,
) -> Result<(State, SnapshotMeta), SnapshotError> {
    let meta = check_header(path, bytes)?;
    if let Some((seq, journal_hash)) = expected {
        if (seq, journal_hash) != (meta.seq, meta.journal_hash) {
            return Err(SnapshotError::JournalMismatch {
                path: path.to_owned(),
                expected_seq: seq,
                expected_hash: hex::encode(journal_hash),
                found_seq: meta.seq,
                found_hash: hex::encode(meta.journal_hash),
            });
        }
    }
    let body = &bytes[HEADER_LEN..bytes.len() - CHECKSUM_LEN];
    let state = State::from_snapshot_bytes(body, &meta.state_hash)
        .map_err(|source| SnapshotError::State { path: path.to_owned(), source })?;
    Ok((state, meta))
}

/// Little-endian integers at fixed offsets of a buffer at least [`HEADER_LEN`] long.
fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    bytes[at..at + N].try_into().expect("the header is long enough")
}

/// Checks 1 to 6 of the module doc; returns the header.
fn check_header(path: &Path, bytes: &[u8]) -> Result<SnapshotMeta, SnapshotError> {
    let path_buf = || path.to_owned();
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN || bytes[..MAGIC.len()] != MAGIC {
        return Err(SnapshotError::NotASnapshot { path: path_buf() });
    }
    let format = u32::from_le_bytes(field(bytes, 16));
    if format != SNAPSHOT_FORMAT_VERSION {
        return Err(SnapshotError::FormatVersion {
            path: path_buf(),
            found: format,
            supported: SNAPSHOT_FORMAT_VERSION,
        });
    }
    let (content, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if blake3::hash(content).as_bytes() != checksum {
        return Err(SnapshotError::Checksum { path: path_buf() });
    }
    let encoding = u32::from_le_bytes(field(bytes, 20));
    if encoding != STATE_ENCODING_VERSION {
        return Err(SnapshotError::EncodingVersion {
            path: path_buf(),
            found: encoding,
            supported: STATE_ENCODING_VERSION,
        });
    }
    let body_len = u64::from_le_bytes(field(bytes, 104));
    let actual = (content.len() - HEADER_LEN) as u64;
    if body_len != actual {
        return Err(SnapshotError::Length { path: path_buf(), body_len, actual });
    }
    let seq = u64::from_le_bytes(field(bytes, 24));
    let named = path.file_name().and_then(|n| n.to_str()).and_then(seq_of_name);
    if named != Some(seq) {
        return Err(SnapshotError::FileName { path: path_buf(), seq });
    }
    Ok(SnapshotMeta {
        seq,
        journal_hash: field(bytes, 32),
        state_hash: hex::encode(field::<32>(bytes, 64)),
        timestamp_ms: i64::from_le_bytes(field(bytes, 96)),
        path: path_buf(),
    })
}

/// The newest snapshot of data directory `dir` that passes every check of [`load`] against the journal:
/// `journal_hash_at(seq)` is the journal's hash of entry `seq` (the chain's root for 0), or `None` when
/// `seq` is beyond the journal's head. Each snapshot skipped (damaged, of another version, of another
/// journal or history, beyond the head) adds one warning, newest first. `None` when no snapshot is usable:
/// the node replays from genesis.
pub fn load_newest(
    dir: &Path,
    journal_hash_at: impl Fn(u64) -> Option<[u8; 32]>,
) -> (Option<(State, SnapshotMeta)>, Vec<String>) {
    load_newest_in(&mut FsSnapshots::new(dir), journal_hash_at)
}

/// [`load_newest`] of `store`.
pub fn load_newest_in(
    store: &mut dyn SnapshotStore,
    journal_hash_at: impl Fn(u64) -> Option<[u8; 32]>,
) -> (Option<(State, SnapshotMeta)>, Vec<String>) {
    let mut warnings = Vec::new();
    for (seq, name) in list_in(store) {
        let result = match journal_hash_at(seq) {
            None => Err(SnapshotError::BeyondHead { path: store.path(&name), seq }),
            Some(hash) => load_in(store, &name, Some((seq, hash))),
        };
        match result {
            Ok(loaded) => return (Some(loaded), warnings),
            Err(error) => warnings.push(format!("skipped snapshot: {error}")),
        }
    }
    (None, warnings)
}

/// The seq of a snapshot of `store` that passes every check but the journal's, beyond the journal's
/// `head`, if any: the node wrote it after acknowledging that entry, so the journal lost acknowledged
/// entries (with its anchor).
pub fn valid_beyond_in(store: &mut dyn SnapshotStore, head: u64) -> Option<u64> {
    list_in(store)
        .into_iter()
        .filter(|(seq, _)| *seq > head)
        .find_map(|(seq, name)| load_in(store, &name, None).ok().map(|_| seq))
}

/// Deletes all but the newest `keep` snapshots of data directory `dir`, and the temporary files that a
/// crashed [`write`] left (those of a seq at or below the newest snapshot's; a write in progress is always
/// of a newer seq). Returns the files removed.
///
/// Errors: [`SnapshotError::Io`] for the first file that cannot be removed (the newest `keep` are never
/// touched).
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, SnapshotError> {
    prune_in(&mut FsSnapshots::new(dir), keep)
}

/// [`prune`] of `store`.
pub fn prune_in(store: &mut dyn SnapshotStore, keep: usize) -> Result<Vec<PathBuf>, SnapshotError> {
    let snapshots = list_in(store);
    let newest = snapshots.first().map(|(seq, _)| *seq);
    let stale_temp = |name: &str| {
        let seq = name.strip_suffix(TEMP_SUFFIX).and_then(seq_of_name);
        seq.zip(newest).is_some_and(|(seq, newest)| seq <= newest)
    };
    let mut doomed: Vec<String> = snapshots.into_iter().skip(keep).map(|(_, name)| name).collect();
    doomed.extend(store.names().into_iter().filter(|name| stale_temp(name)));
    let mut removed = Vec::new();
    for name in doomed {
        store.remove(&name).map_err(store_io(store, &name))?;
        removed.push(store.path(&name));
    }
    if !removed.is_empty() {
        store.sync_dir().map_err(store_io(store, ""))?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOURNAL_HASH: [u8; 32] = [7; 32];

    fn state() -> State {
        tfeco_testkit::every_command_kind().state
    }

    fn write_at(dir: &Path, seq: u64, state: &State) -> SnapshotMeta {
        write(dir, (seq, journal_hash(seq), 1_761_955_200_123), state).expect("written")
    }

    fn journal_hash(seq: u64) -> [u8; 32] {
        let mut hash = JOURNAL_HASH;
        hash[..8].copy_from_slice(&seq.to_le_bytes());
        hash
    }

    /// Rewrites the trailing checksum after an edit of header or body (a forged but intact file).
    fn reseal(bytes: &mut [u8]) {
        let at = bytes.len() - CHECKSUM_LEN;
        let checksum = blake3::hash(&bytes[..at]);
        bytes[at..].copy_from_slice(checksum.as_bytes());
    }

    #[test]
    fn a_written_snapshot_loads_back_with_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let state = state();
        let meta = write_at(dir.path(), 42, &state);
        assert_eq!(meta.path, dir.path().join("snapshots/snapshot-00000000000000000042.bin"));
        assert_eq!(
            (meta.seq, meta.journal_hash, meta.timestamp_ms),
            (42, journal_hash(42), 1_761_955_200_123)
        );
        assert_eq!(meta.state_hash, state.state_hash());
        let bytes = fs::read(&meta.path).unwrap();
        assert_eq!(&bytes[..16], b"tfeco-snapshot\0\0");
        assert_eq!(bytes.len(), HEADER_LEN + state.snapshot_bytes().len() + CHECKSUM_LEN);
        for expected in [None, Some((42, journal_hash(42)))] {
            let (loaded, loaded_meta) = load(&meta.path, expected).expect("loads");
            assert_eq!(loaded.state_hash(), state.state_hash());
            assert_eq!(loaded_meta, meta);
        }
        assert_eq!(list(dir.path()), vec![(42, meta.path.clone())]);
        let names: Vec<_> =
            fs::read_dir(snapshot_dir(dir.path())).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    /// Every single-bit flip anywhere in the file (header, body, checksum) is refused.
    #[test]
    fn every_single_bit_flip_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let meta = write_at(dir.path(), 3, &state());
        let bytes = fs::read(&meta.path).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let result = decode_file(&meta.path, &flipped, None);
            assert!(result.is_err(), "bit {bit} flipped was accepted");
        }
        // And through the file system, one flip in the body.
        let mut flipped = bytes.clone();
        flipped[HEADER_LEN + 10] ^= 0x10;
        fs::write(&meta.path, &flipped).unwrap();
        assert!(matches!(load(&meta.path, None), Err(SnapshotError::Checksum { .. })));
    }

    #[test]
    fn truncations_and_appended_bytes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let meta = write_at(dir.path(), 3, &state());
        let bytes = fs::read(&meta.path).unwrap();
        for len in 0..bytes.len() {
            assert!(decode_file(&meta.path, &bytes[..len], None).is_err(), "truncated to {len}");
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 5]);
        assert!(matches!(decode_file(&meta.path, &longer, None), Err(SnapshotError::Checksum { .. })));
        // Extra bytes with a recomputed checksum: the header's body length disagrees.
        let mut sealed = bytes[..bytes.len() - CHECKSUM_LEN].to_vec();
        sealed.extend_from_slice(&[0; 5 + CHECKSUM_LEN]);
        reseal(&mut sealed);
        assert!(
            matches!(decode_file(&meta.path, &sealed, None), Err(SnapshotError::Length { actual, .. }) if actual == (bytes.len() - HEADER_LEN - CHECKSUM_LEN + 5) as u64)
        );
        fs::write(&meta.path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(load(&meta.path, None).is_err());
    }

    #[test]
    fn another_version_name_seq_or_journal_hash_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let meta = write_at(dir.path(), 9, &state());
        let bytes = fs::read(&meta.path).unwrap();
        let edited = |at: usize, value: &[u8]| {
            let mut copy = bytes.clone();
            copy[at..at + value.len()].copy_from_slice(value);
            reseal(&mut copy);
            decode_file(&meta.path, &copy, None).unwrap_err()
        };
        assert!(matches!(edited(16, &2u32.to_le_bytes()), SnapshotError::FormatVersion { found: 2, .. }));
        let other = (STATE_ENCODING_VERSION + 1).to_le_bytes();
        assert!(matches!(edited(20, &other), SnapshotError::EncodingVersion { .. }));
        assert!(matches!(edited(24, &10u64.to_le_bytes()), SnapshotError::FileName { seq: 10, .. }));
        assert!(matches!(edited(64, &[0; 32]), SnapshotError::State { .. }), "another state hash");
        assert!(matches!(edited(0, b"tfeco-snapsh0t"), SnapshotError::NotASnapshot { .. }));
        let wrong_seq = load(&meta.path, Some((8, journal_hash(9)))).unwrap_err();
        assert!(matches!(wrong_seq, SnapshotError::JournalMismatch { expected_seq: 8, found_seq: 9, .. }));
        let wrong_hash = load(&meta.path, Some((9, [1; 32]))).unwrap_err();
        assert!(matches!(wrong_hash, SnapshotError::JournalMismatch { .. }), "{wrong_hash}");
        let renamed = snapshot_path(dir.path(), 11);
        fs::rename(&meta.path, &renamed).unwrap();
        assert!(matches!(load(&renamed, None), Err(SnapshotError::FileName { seq: 9, .. })));
    }

    #[test]
    fn the_newest_valid_snapshot_is_loaded_and_the_others_are_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let (genesis_state, state) = (tfeco_testkit::Harness::new().state, state());
        write_at(dir.path(), 5, &genesis_state);
        write_at(dir.path(), 10, &state);
        let newest = write_at(dir.path(), 20, &state);
        fs::write(snapshot_dir(dir.path()).join("snapshot-00000000000000000030.bin.tmp"), b"torn").unwrap();
        fs::write(snapshot_dir(dir.path()).join("notes.txt"), b"stray").unwrap();
        assert_eq!(list(dir.path()).iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![20, 10, 5]);

        let (loaded, warnings) = load_newest(dir.path(), |seq| Some(journal_hash(seq)));
        assert_eq!(loaded.map(|(s, m)| (s.state_hash(), m.seq)), Some((state.state_hash(), 20)));
        assert!(warnings.is_empty(), "{warnings:?}");

        // The journal ends at 15: seq 20 is beyond its head; 10 has another journal hash; 5 is used.
        let journal = |seq: u64| match seq {
            0..=9 => Some(journal_hash(seq)),
            10..=15 => Some([9; 32]),
            _ => None,
        };
        let (loaded, warnings) = load_newest(dir.path(), journal);
        assert_eq!(loaded.map(|(s, m)| (s.state_hash(), m.seq)), Some((genesis_state.state_hash(), 5)));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("beyond the journal's head") && warnings[1].contains("journal has seq 10")
        );

        // The newest is damaged: the one before it is used.
        let mut damaged = fs::read(&newest.path).unwrap();
        damaged[HEADER_LEN] ^= 1;
        fs::write(&newest.path, damaged).unwrap();
        let (loaded, warnings) = load_newest(dir.path(), |seq| Some(journal_hash(seq)));
        assert_eq!(loaded.map(|(_, m)| m.seq), Some(10));
        assert!(warnings.len() == 1 && warnings[0].contains("checksum"), "{warnings:?}");

        // Nothing usable: replay from genesis.
        let (loaded, warnings) = load_newest(dir.path(), |_| Some([0; 32]));
        assert!(loaded.is_none() && warnings.len() == 3);
        let empty = tempfile::tempdir().unwrap();
        let (loaded, warnings) = load_newest(empty.path(), |_| Some([0; 32]));
        assert!(loaded.is_none() && warnings.is_empty());
    }

    #[test]
    fn prune_keeps_the_newest_and_removes_stale_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let state = tfeco_testkit::Harness::new().state;
        for seq in [1, 2, 3, 4, 5] {
            write_at(dir.path(), seq, &state);
        }
        let snapshots = snapshot_dir(dir.path());
        fs::write(snapshots.join("snapshot-00000000000000000004.bin.tmp"), b"crashed").unwrap();
        fs::write(snapshots.join("snapshot-00000000000000000006.bin.tmp"), b"in progress").unwrap();
        fs::write(snapshots.join("keep-me.txt"), b"stray").unwrap();
        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(removed.len(), 4, "{removed:?}");
        assert_eq!(list(dir.path()).iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![5, 4]);
        assert!(!snapshots.join("snapshot-00000000000000000004.bin.tmp").exists());
        assert!(
            snapshots.join("snapshot-00000000000000000006.bin.tmp").exists(),
            "a newer write in progress"
        );
        assert!(snapshots.join("keep-me.txt").exists());
        assert!(prune(dir.path(), 2).unwrap().is_empty());
        assert_eq!(prune(dir.path(), 0).unwrap().len(), 2);
        assert!(list(dir.path()).is_empty());
    }

    #[test]
    fn a_snapshot_is_due_after_enough_entries_or_time_and_never_without_new_entries() {
        let policy = SnapshotPolicy::default();
        assert_eq!((policy.every_entries, policy.every_seconds, policy.keep), (100_000, 600, 3));
        assert!(!policy.due(0, 1_000_000), "nothing new");
        assert!(!policy.due(99_999, 599));
        assert!(policy.due(100_000, 0));
        assert!(policy.due(1, 600));
        let by_count_only = SnapshotPolicy { every_seconds: 0, ..policy };
        assert!(!by_count_only.due(5, 1_000_000) && by_count_only.due(100_000, 0));
        let never = SnapshotPolicy { every_entries: 0, every_seconds: 0, keep: 3 };
        assert!(!never.due(u64::MAX, u64::MAX));
    }

    #[test]
    fn file_names_are_parsed_strictly() {
        assert_eq!(seq_of_name("snapshot-00000000000000000042.bin"), Some(42));
        assert_eq!(seq_of_name("snapshot-18446744073709551615.bin"), Some(u64::MAX));
        for stray in [
            "snapshot-42.bin",
            "snapshot-00000000000000000042.bin.tmp",
            "snapshot-0000000000000000004x.bin",
            "snapshot-99999999999999999999.bin",
            "Snapshot-00000000000000000042.bin",
        ] {
            assert_eq!(seq_of_name(stray), None, "{stray}");
        }
    }
}
