//! Journal errors ([`JournalError`]) and why an entry was judged corrupt ([`CorruptReason`]).

use std::fmt;

/// Everything a journal operation can fail with. Storage-library errors are flattened into messages
/// so no backend type leaks into the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// Storage failure (SQLite error, filesystem error, malformed schema); the message says what was being done.
    #[error("journal I/O error: {0}")]
    Io(String),
    /// The journal file is locked, normally because another process has it open.
    #[error("journal is locked: {0} (is another tfeco process using the same data directory?)")]
    Locked(String),
    /// A stored entry failed verification; `seq` is the entry that failed (for `SeqGap`: the missing seq).
    #[error("journal corrupt at seq {seq}: {reason}")]
    Corrupt {
        /// Sequence number where the problem was found.
        seq: u64,
        /// What check failed.
        reason: CorruptReason,
    },
    /// An appended entry's stamp is below its predecessor's; nothing of the batch was written.
    #[error("timestamp regression: entry stamped {got_ms} ms follows an entry stamped {last_ms} ms")]
    TimestampRegression {
        /// Stamp of the preceding entry (ms).
        last_ms: i64,
        /// Stamp of the refused entry (ms).
        got_ms: i64,
    },
    /// The journal file was written by a different on-disk format version.
    #[error("journal format version {found} is not supported (this build reads version {expected})")]
    FormatVersion {
        /// Version recorded in the file.
        found: u32,
        /// Version this build understands.
        expected: u32,
    },
    /// `put_meta` was called with a key the journal reserves for itself.
    #[error("meta key {0:?} is reserved by the journal")]
    ReservedKey(String),
    /// Returned by a replay visitor to stop early; passed through by `replay`.
    #[error("replay stopped by visitor")]
    Stopped,
    /// An earlier append failed in storage; the journal refuses further appends (fail-stop). Reopen to recover.
    #[error("journal is poisoned by an earlier failed append; restart to reopen it")]
    Poisoned,
    /// `set_genesis` on a journal that already has a genesis or entries.
    #[error("the journal already has a genesis or entries")]
    GenesisExists,
    /// Another writer has opened the journal since this one did (its lease epoch is newer): this writer was
    /// fenced off and wrote nothing; it is poisoned (PostgreSQL journal's writer lease).
    #[error("journal writer fenced: this writer holds lease epoch {ours} but epoch {current} is current (another node took over)")]
    Fenced {
        /// The epoch this writer took at open.
        ours: u64,
        /// The epoch stored in the database now.
        current: u64,
    },
    /// The journal disagrees with its anchor: acknowledged history is missing or different. Nothing was
    /// changed; see `tfeco repair` and `docs/journal.md` ("Recovery").
    #[error("the journal does not match its anchor: {0}")]
    Anchor(AnchorMismatch),
    /// The anchor file is missing, unreadable, or both of its copies are damaged.
    #[error("anchor file: {0}")]
    AnchorFile(String),
}

/// How a journal contradicts its anchor (the durable head recorded outside it after every commit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorMismatch {
    /// The journal ends before the anchored head: acknowledged entries were lost (a deleted or truncated
    /// WAL, a restored old copy).
    #[error(
        "the journal ends at entry {journal_seq} but entry {anchor_seq} was acknowledged: acknowledged \
         history is missing (deleted or truncated journal files, or an old copy)"
    )]
    Shorter {
        /// Last entry in the journal.
        journal_seq: u64,
        /// Last acknowledged (anchored) entry.
        anchor_seq: u64,
    },
    /// Entry `seq` exists but its hash differs from the anchored one: the history was rewritten.
    #[error("entry {seq} differs from the acknowledged one (its hash is not the anchored hash)")]
    Diverged {
        /// The anchored seq.
        seq: u64,
    },
    /// The journal's genesis is not the anchored one (another economy, or a changed genesis).
    #[error("the journal's genesis is not this data directory's genesis")]
    Genesis,
    /// The journal was created for another data directory (its id differs from the anchor's).
    #[error("the journal belongs to another data directory (ids differ)")]
    OtherDataDir,
    /// The journal is more than one group commit ahead of its anchor: the anchor is stale or was replaced
    /// by an older copy; this is not what a crash leaves.
    #[error(
        "the journal runs to entry {journal_seq} but its anchor stops at {anchor_seq} and its last commit \
         starts at {commit_start}: more than one group commit is unanchored"
    )]
    Ahead {
        /// Last entry in the journal.
        journal_seq: u64,
        /// Anchored head.
        anchor_seq: u64,
        /// First seq of the journal's last commit.
        commit_start: u64,
    },
}

/// Which verification check an entry failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorruptReason {
    /// The stored crc32 does not match the entry bytes: the row changed on disk or was half-written.
    Checksum,
    /// The stored hash does not match the hash recomputed from the entry's fields.
    HashMismatch,
    /// `prev_hash` differs from the previous entry's hash: the chain is broken.
    ChainBroken,
    /// An entry is missing: sequence numbers are not contiguous.
    SeqGap,
    /// The row cannot be decoded (wrong column type or byte length, out-of-range number).
    Decode,
}

impl fmt::Display for CorruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CorruptReason::Checksum => "checksum mismatch (entry bytes changed or half-written)",
            CorruptReason::HashMismatch => "stored hash does not match the recomputed hash",
            CorruptReason::ChainBroken => "prev_hash does not match the previous entry's hash",
            CorruptReason::SeqGap => "entry missing (sequence gap)",
            CorruptReason::Decode => "row cannot be decoded (wrong type or length)",
        })
    }
}

impl JournalError {
    /// Shorthand for [`JournalError::Corrupt`].
    pub(crate) fn corrupt(seq: u64, reason: CorruptReason) -> Self {
        JournalError::Corrupt { seq, reason }
    }
}
