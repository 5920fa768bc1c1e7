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
