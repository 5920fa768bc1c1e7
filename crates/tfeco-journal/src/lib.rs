//! The journal: a durable, append-only, hash-chained log of signed command envelopes behind the [`Journal`] seam.
//!
//! Payloads and signatures are opaque bytes here; the node decides what they mean. Backends:
//! [`SqliteJournal`] (default, embedded SQLite in WAL mode), [`MemoryJournal`] (tests, benchmarks) and
//! [`FaultyJournal`] (test support: injects a storage failure). The record format, hash and checksum layout
//! and the commit protocol are described in `docs/journal.md`.

mod error;
mod faulty;
mod memory;
mod record;
mod sqlite;

pub use error::{CorruptReason, JournalError};
pub use faulty::FaultyJournal;
pub use memory::MemoryJournal;
pub use sqlite::{SqliteJournal, FILE_NAME, FORMAT_VERSION, FORMAT_VERSION_KEY};

/// Length in bytes of an entry hash (blake3-256).
pub const HASH_LEN: usize = 32;

/// A blake3-256 entry hash; see [`EntryRef::compute_hash`] for what it covers.
pub type EntryHash = [u8; HASH_LEN];

/// The `prev_hash` of entry 1, and the hash of an empty journal's [`Head`].
pub const ZERO_HASH: EntryHash = [0; HASH_LEN];

/// An entry as submitted by the writer; the journal assigns `seq`, `prev_hash` and `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Writer's stamp in milliseconds since the Unix epoch; must be >= the previous entry's
    /// (else [`JournalError::TimestampRegression`]). Equal stamps are allowed.
    pub timestamp_ms: i64,
    /// Ed25519 public key of the signer.
    pub signer: [u8; 32],
    /// Canonical command bytes (opaque to the journal).
    pub payload: Vec<u8>,
    /// Signature bytes (64 for ed25519; may be empty for entries the node itself creates), opaque.
    pub signature: Vec<u8>,
}

/// A stored entry, borrowed from the backend during [`Journal::replay`] (no allocation per entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// Sequence number: 1-based and contiguous.
    pub seq: u64,
    /// Writer's stamp in milliseconds since the Unix epoch (non-decreasing along the log).
    pub timestamp_ms: i64,
    /// Ed25519 public key of the signer.
    pub signer: &'a [u8; 32],
    /// Canonical command bytes.
    pub payload: &'a [u8],
    /// Signature bytes (possibly empty).
    pub signature: &'a [u8],
    /// Hash of entry `seq - 1`; [`ZERO_HASH`] for seq 1.
    pub prev_hash: &'a EntryHash,
    /// blake3 over the canonical encoding of `(seq, timestamp_ms, signer, payload, signature, prev_hash)`.
    pub hash: &'a EntryHash,
}

impl EntryRef<'_> {
    /// Copies the borrowed entry into an owned [`Entry`].
    pub fn to_entry(&self) -> Entry {
        Entry {
            seq: self.seq,
            timestamp_ms: self.timestamp_ms,
            signer: *self.signer,
            payload: self.payload.to_vec(),
            signature: self.signature.to_vec(),
            prev_hash: *self.prev_hash,
            hash: *self.hash,
        }
    }
}

/// An owned copy of a stored entry (same fields as [`EntryRef`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number (1-based, contiguous).
    pub seq: u64,
    /// Writer's stamp in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Ed25519 public key of the signer.
    pub signer: [u8; 32],
    /// Canonical command bytes.
    pub payload: Vec<u8>,
    /// Signature bytes (possibly empty).
    pub signature: Vec<u8>,
    /// Hash of entry `seq - 1`; [`ZERO_HASH`] for seq 1.
    pub prev_hash: EntryHash,
    /// This entry's hash.
    pub hash: EntryHash,
}

impl Entry {
    /// Borrows this entry as an [`EntryRef`].
    pub fn view(&self) -> EntryRef<'_> {
        EntryRef {
            seq: self.seq,
            timestamp_ms: self.timestamp_ms,
            signer: &self.signer,
            payload: &self.payload,
            signature: &self.signature,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// The last entry of a journal: `seq` 0, [`ZERO_HASH`] and `timestamp_ms` 0 when empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Head {
    /// Sequence number of the last entry (0 when empty).
    pub seq: u64,
    /// Hash of the last entry ([`ZERO_HASH`] when empty).
    pub hash: EntryHash,
    /// Timestamp of the last entry in ms (0 when empty).
    pub timestamp_ms: i64,
}

impl Head {
    /// The head of an empty journal.
    pub const EMPTY: Head = Head { seq: 0, hash: ZERO_HASH, timestamp_ms: 0 };
}

/// What [`SqliteJournal::open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenReport {
    /// Head after open (after dropping a torn last entry, if any).
    pub head: Head,
    /// `Some(seq)` if the last entry failed verification (torn write) and was deleted.
    pub dropped_torn_entry: Option<u64>,
}

/// Storage seam for the journal. One writer owns a journal; reads and writes go through `&self`/`&mut self`.
pub trait Journal: Send {
    /// Appends `batch` atomically and durably (fsync) in one transaction and returns the new head.
    /// Either the whole batch is durable or none of it; an empty batch is a no-op returning the current head.
    ///
    /// Errors: [`JournalError::TimestampRegression`] if a stamp is below its predecessor's (checked before
    /// any write; nothing is written and the journal stays usable); [`JournalError::Poisoned`] if an earlier
    /// append failed in storage; `Io`/`Locked` on a storage failure, after which the journal is poisoned
    /// (fail-stop: reopen to recover).
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError>;

    /// The current head (cached; no I/O).
    fn head(&self) -> Head;

    /// Streams entries with `seq >= from_seq` (0 is treated as 1) in order up to the head, verifying for each:
    /// checksum, seq contiguity, `prev_hash` equal to the previous entry's hash (for `from_seq > 1` the entry
    /// `from_seq - 1` is read as the anchor), and hash recomputation. Returns the head on success, or nothing
    /// visited if `from_seq > head.seq`.
    ///
    /// Errors: [`JournalError::Corrupt`] at the first problem (entries before it were visited); any error the
    /// visitor returns (e.g. [`JournalError::Stopped`] to stop early) is passed through unchanged.
    fn replay(
        &self,
        from_seq: u64,
        visit: &mut dyn FnMut(EntryRef<'_>) -> Result<(), JournalError>,
    ) -> Result<Head, JournalError>;

    /// Stores a small metadata value (genesis parameters, ...), durable on return.
    /// Errors: [`JournalError::ReservedKey`] for the journal's own `format_version` key; `Io` on storage failure.
    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError>;

    /// Reads a metadata value; `None` if never set.
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError>;
}

impl<J: Journal + ?Sized> Journal for Box<J> {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        (**self).append(batch)
    }
    fn head(&self) -> Head {
        (**self).head()
    }
    fn replay(
        &self,
        from_seq: u64,
        visit: &mut dyn FnMut(EntryRef<'_>) -> Result<(), JournalError>,
    ) -> Result<Head, JournalError> {
        (**self).replay(from_seq, visit)
    }
    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        (**self).put_meta(key, value)
    }
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        (**self).get_meta(key)
    }
}
