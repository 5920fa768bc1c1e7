//! The journal: a durable, append-only, hash-chained log of signed command envelopes behind the [`Journal`] seam.
//!
//! Payloads and signatures are opaque bytes here; the node decides what they mean. The chain's root is the
//! genesis ([`genesis_root`]): entry 1 links to it, so a changed genesis breaks the chain. Backends:
//! [`SqliteJournal`] (default, embedded SQLite in WAL mode), [`PostgresJournal`] (a PostgreSQL database,
//! with a writer lease that fences a replaced writer), [`MemoryJournal`] (tests, benchmarks) and
//! [`FaultyJournal`] (test support: injects a storage failure). [`AnchoredJournal`] wraps any backend and
//! records its durable head in an [`anchor`] file outside it after every commit, so that a journal that lost
//! acknowledged entries is refused ([`check_anchor`]). The record format, hash and checksum layout, the
//! anchor and the commit protocol are described in `docs/journal.md`. With the cargo feature `temp-postgres`,
//! the module `temp_postgres` starts a throw-away PostgreSQL server (benchmarks and tests).

pub mod anchor;
mod error;
mod faulty;
mod memory;
mod open;
mod postgres;
pub mod record;
mod sqlite;
#[cfg(feature = "temp-postgres")]
pub mod temp_postgres;

pub use anchor::{check_anchor, Anchor, AnchorCheck, AnchorFile, AnchorStore, AnchoredJournal};
pub use error::{AnchorMismatch, CorruptReason, JournalError};
pub use faulty::FaultyJournal;
pub use memory::MemoryJournal;
pub use open::{
    open_anchored, open_anchored_copy, open_anchored_postgres, open_anchored_postgres_read_only,
    open_anchored_with, AnchoredOpen,
};
pub use postgres::PostgresJournal;
pub use sqlite::{SqliteJournal, FILE_NAME, FORMAT_VERSION, FORMAT_VERSION_KEY, WAL_FILE_NAME};

/// Length in bytes of an entry hash (blake3-256).
pub const HASH_LEN: usize = 32;

/// A blake3-256 entry hash; see [`EntryRef::compute_hash`] for what it covers.
pub type EntryHash = [u8; HASH_LEN];

/// The root of a journal that has no genesis yet (tests and benchmarks only: the node always sets one).
pub const ZERO_HASH: EntryHash = [0; HASH_LEN];

/// Meta key holding the genesis bytes; reserved: set once with [`Journal::set_genesis`].
pub const GENESIS_KEY: &str = "genesis";

/// Meta key holding the first seq of the last committed batch (u64 LE), written in that batch's own
/// transaction; reserved. It tells how far a crash may have left the anchor behind (one group commit).
pub const LAST_COMMIT_KEY: &str = "last_commit_start";

/// The root of the hash chain of a journal whose genesis is `genesis` (opaque encoded bytes): blake3 of
/// `"tfeco/journal/genesis\0"` followed by the bytes. Entry 1's `prev_hash` is this root, and an empty
/// journal's head hash; so a bit changed in the stored genesis breaks the chain at entry 1.
pub fn genesis_root(genesis: &[u8]) -> EntryHash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"tfeco/journal/genesis\0");
    hasher.update(genesis);
    *hasher.finalize().as_bytes()
}

/// Meta keys the journal keeps for itself; `put_meta` refuses them.
pub fn is_reserved_key(key: &str) -> bool {
    matches!(key, GENESIS_KEY | LAST_COMMIT_KEY) || key == FORMAT_VERSION_KEY
}

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

/// The last entry of a journal; when empty: `seq` 0, the chain's root as `hash`, and `timestamp_ms` 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Head {
    /// Sequence number of the last entry (0 when empty).
    pub seq: u64,
    /// Hash of the last entry (the root when empty).
    pub hash: EntryHash,
    /// Timestamp of the last entry in ms (0 when empty).
    pub timestamp_ms: i64,
}

impl Head {
    /// The head of an empty journal without a genesis.
    pub const EMPTY: Head = Head { seq: 0, hash: ZERO_HASH, timestamp_ms: 0 };

    /// The head of an empty journal whose chain starts at `root`.
    pub fn empty(root: EntryHash) -> Head {
        Head { seq: 0, hash: root, timestamp_ms: 0 }
    }
}

/// What [`SqliteJournal::open`] found. Opening never changes stored entries: a bad last entry is
/// reported, and the caller decides (an entry the anchor does not cover was never acknowledged and may be
/// dropped with [`SqliteJournal::truncate_after`]; anything else is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Head after open: the last stored entry (even when it is the bad one).
    pub head: Head,
    /// `Some((seq, problem))` if the last entry failed verification (checksum, hash or link).
    pub bad_last_entry: Option<(u64, JournalError)>,
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
    /// `from_seq - 1` is read as the link; entry 1 links to [`Journal::root`]), and hash recomputation. Returns the head on success, or nothing
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

    /// The root of the hash chain: [`genesis_root`] of the genesis, or [`ZERO_HASH`] before one is set.
    fn root(&self) -> EntryHash;

    /// Sets the genesis (opaque bytes) of an empty journal, durably; the chain then starts at its
    /// [`genesis_root`]. Returns the (empty) head. Errors: [`JournalError::GenesisExists`] if a genesis is set
    /// or the journal has entries; `Io` on storage failure.
    fn set_genesis(&mut self, genesis: &[u8]) -> Result<Head, JournalError>;

    /// The genesis bytes, if set.
    fn genesis(&self) -> Result<Option<Vec<u8>>, JournalError> {
        self.get_meta(GENESIS_KEY)
    }

    /// First seq of the last committed batch (0 when nothing was appended).
    fn last_commit_start(&self) -> u64;

    /// The verified hash of entry `seq` (checksum, hash and link to its predecessor); the root for 0;
    /// `None` beyond the head. Errors: [`JournalError::Corrupt`] when that entry or its predecessor is bad.
    fn entry_hash(&self, seq: u64) -> Result<Option<EntryHash>, JournalError> {
        if seq == 0 {
            return Ok(Some(self.root()));
        }
        if seq > self.head().seq {
            return Ok(None);
        }
        let mut found = None;
        let result = self.replay(seq, &mut |e| {
            found = Some(*e.hash);
            Err(JournalError::Stopped)
        });
        match result {
            Ok(_) | Err(JournalError::Stopped) => Ok(found),
            Err(error) => Err(error),
        }
    }
}

/// A backend that can drop the entries after a seq: a commit that was never acknowledged (see
/// [`open_anchored`]), or an explicit repair. Implemented by [`SqliteJournal`] and [`PostgresJournal`].
pub trait Truncate: Journal {
    /// Deletes every entry after `seq` and returns the new head, entry `seq` verified.
    /// Errors: `Corrupt` when entry `seq` is bad; storage errors.
    fn truncate_after(&mut self, seq: u64) -> Result<Head, JournalError>;

    /// Makes every stored entry durable. Opening keeps a commit that a crash left unanchored; after a
    /// process crash (not a power loss) its bytes may still be only in the OS cache, so they are made
    /// durable before the anchor records them (else a later power loss leaves the journal shorter than its
    /// anchor, and the node refuses to start). The default does nothing: for backends whose commits are
    /// durable when they are visible (PostgreSQL). Errors: storage errors.
    fn make_durable(&mut self) -> Result<(), JournalError> {
        Ok(())
    }
}

impl Truncate for SqliteJournal {
    fn truncate_after(&mut self, seq: u64) -> Result<Head, JournalError> {
        SqliteJournal::truncate_after(self, seq)
    }
    fn make_durable(&mut self) -> Result<(), JournalError> {
        SqliteJournal::make_durable(self)
    }
}

impl Truncate for PostgresJournal {
    fn truncate_after(&mut self, seq: u64) -> Result<Head, JournalError> {
        PostgresJournal::truncate_after(self, seq)
    }
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
    fn root(&self) -> EntryHash {
        (**self).root()
    }
    fn set_genesis(&mut self, genesis: &[u8]) -> Result<Head, JournalError> {
        (**self).set_genesis(genesis)
    }
    fn genesis(&self) -> Result<Option<Vec<u8>>, JournalError> {
        (**self).genesis()
    }
    fn last_commit_start(&self) -> u64 {
        (**self).last_commit_start()
    }
    fn entry_hash(&self, seq: u64) -> Result<Option<EntryHash>, JournalError> {
        (**self).entry_hash(seq)
    }
}
