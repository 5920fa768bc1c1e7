//! Archives: the journal's entries up to a snapshot, exported with their chain into a standalone journal
//! file (`tfeco archive`). The archive is a journal of the same format with the same genesis, so its
//! entries have exactly the live journal's seqs and hashes, and anyone can re-verify it with the journal's
//! own code ([`check`]). The live journal keeps every entry: the archive is a copy that can be stored
//! elsewhere, not a move (see `docs/journal.md`, "Archives").

use std::path::{Path, PathBuf};

use tfeco_journal::{Entry, Journal, JournalError, NewEntry, SqliteJournal};

use crate::snapshots;

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveReport {
    /// The archive file.
    pub path: PathBuf,
    /// Entries 1..=`last` are in it.
    pub last: u64,
    /// Hash of entry `last` (equal to the live journal's).
    pub last_hash: [u8; 32],
}

/// Why archiving or checking failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading or writing a journal failed.
    #[error("{0}")]
    Journal(#[from] JournalError),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Nothing may be archived: no valid snapshot covers entries yet, or `upto` is beyond the newest one.
    #[error("{0}")]
    NotCovered(String),
    /// The archive and the live journal disagree.
    #[error("the archive does not match the journal: {0}")]
    Mismatch(String),
}

const CHUNK: usize = 10_000;

/// Exports entries 1..=`upto` (default: the newest valid snapshot's seq; never beyond it) of the stopped
/// node in `dir` into a new journal file `out` (refused if it exists), verified against the live journal
/// before returning. Reads a private copy of the journal: `dir` is not changed.
pub fn export(dir: &Path, out: &Path, upto: Option<u64>) -> Result<ArchiveReport, ArchiveError> {
    let (journal, _open, _copy) = tfeco_journal::open_anchored_copy(dir)?;
    let head = journal.head().seq;
    let hash_at = |seq: u64| if seq > head { None } else { journal.entry_hash(seq).ok().flatten() };
    let covered = snapshots::load_newest(dir, hash_at).0.map(|(_, meta)| meta.seq).unwrap_or(0);
    let last = upto.unwrap_or(covered);
    if last == 0 || last > covered {
        return Err(ArchiveError::NotCovered(format!(
            "entries up to {last} requested, but the newest valid snapshot covers entries up to {covered}: \
             archive only what a snapshot covers (the node starts from it)"
        )));
    }
    if out.exists() {
        return Err(ArchiveError::Io {
            path: out.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the archive file exists"),
        });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArchiveError::Io { path, source }
    };
    let staging = tempfile::Builder::new().prefix("tfeco-archive-").tempdir().map_err(io(out))?;
    {
        let (mut archive, _) = SqliteJournal::open(staging.path())?;
        let genesis =
            journal.genesis()?.ok_or(ArchiveError::Mismatch("the journal has no genesis".into()))?;
        archive.set_genesis(&genesis)?;
        let mut batch = Vec::with_capacity(CHUNK);
        let mut failed = None;
        let copied = journal.replay(1, &mut |e| {
            if e.seq > last {
                return Err(JournalError::Stopped);
            }
            batch.push(NewEntry {
                timestamp_ms: e.timestamp_ms,
                signer: *e.signer,
                payload: e.payload.to_vec(),
                signature: e.signature.to_vec(),
            });
            if batch.len() == CHUNK || e.seq == last {
                if let Err(error) = archive.append(&batch) {
                    failed = Some(error);
                    return Err(JournalError::Stopped);
                }
                batch.clear();
            }
            Ok(())
        });
        if let Some(error) = failed {
            return Err(error.into());
        }
        match copied {
            Ok(_) | Err(JournalError::Stopped) => {}
            Err(error) => return Err(error.into()),
        }
    }
    std::fs::copy(staging.path().join(tfeco_journal::FILE_NAME), out).map_err(io(out))?;
    check(out, dir)
}

/// Checks the archive `file` on its own (format, the chain from its genesis, every checksum and hash) and
/// against the live journal of `dir` (same genesis, and its last entry's hash equal to the journal's entry of
/// that seq). Changes neither.
pub fn check(file: &Path, dir: &Path) -> Result<ArchiveReport, ArchiveError> {
    let staging = tempfile::Builder::new()
        .prefix("tfeco-archive-check-")
        .tempdir()
        .map_err(|source| ArchiveError::Io { path: file.to_owned(), source })?;
    std::fs::copy(file, staging.path().join(tfeco_journal::FILE_NAME))
        .map_err(|source| ArchiveError::Io { path: file.to_owned(), source })?;
    let (archive, _) = SqliteJournal::open_existing(staging.path())?;
    let mut last: Option<Entry> = None;
    archive.replay(1, &mut |e| {
        last = Some(e.to_entry());
        Ok(())
    })?;
    let last = last.ok_or(ArchiveError::Mismatch("the archive holds no entry".into()))?;
    let (journal, _open, _copy) = tfeco_journal::open_anchored_copy(dir)?;
    if journal.root() != archive.root() {
        return Err(ArchiveError::Mismatch("another genesis".into()));
    }
    if journal.entry_hash(last.seq)? != Some(last.hash) {
        return Err(ArchiveError::Mismatch(format!("entry {} differs", last.seq)));
    }
    Ok(ArchiveReport { path: file.to_owned(), last: last.seq, last_hash: last.hash })
}
