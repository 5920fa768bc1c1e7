//! The anchor: the journal's durable head recorded outside the journal, in a small superblock file
//! `anchor` next to it, so that a journal that lost or changed acknowledged entries is refused instead of
//! served ([`check_anchor`]).
//!
//! The file holds two copies ("slots") of [`Anchor`] at offsets 0 and 4096, written alternately: each write
//! goes to the slot not holding the newest copy, with a write counter one higher, and is synced before the
//! commit it records is acknowledged. Reading takes the valid copy (magic, version, blake3 checksum) with the
//! highest counter, so a write torn by a crash leaves the previous copy, one commit older. Slot layout
//! (little-endian, [`SLOT_LEN`] bytes): `"tfeco-anchor\0\0\0\0"` (16) | version u32 | counter u64 |
//! data-directory id [16] | chain root [32] | head seq u64 | head hash [32] | head timestamp_ms i64 |
//! first seq of the last commit u64 | blake3 of the preceding 132 bytes [32].

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::{AnchorMismatch, EntryHash, EntryRef, Head, Journal, JournalError, NewEntry};

/// File name of the anchor inside the data directory.
pub const ANCHOR_FILE: &str = "anchor";
/// Journal meta key holding the 16-byte id of the data directory the journal was created for.
pub const DATADIR_ID_KEY: &str = "datadir_id";
/// Bytes of one encoded copy.
pub const SLOT_LEN: usize = 164;
/// Offset of each copy in the file (different 4 KiB pages, so one torn page write cannot hit both).
const SLOT_OFFSETS: [u64; 2] = [0, 4096];
const MAGIC: &[u8; 16] = b"tfeco-anchor\0\0\0\0";
/// Version of the slot layout.
pub const ANCHOR_VERSION: u32 = 1;

/// One copy of the anchor: which journal this is and how far it was durably written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// Write counter: the valid copy with the highest counter is the anchor.
    pub counter: u64,
    /// Random id of the data directory, also stored in the journal's meta ([`DATADIR_ID_KEY`]).
    pub datadir_id: [u8; 16],
    /// The chain's root ([`crate::genesis_root`] of the genesis).
    pub root: EntryHash,
    /// The durable, acknowledged head.
    pub head: Head,
    /// First seq of the commit that ended at `head` (0 for an empty journal).
    pub commit_start: u64,
}

impl Anchor {
    fn encode(&self) -> [u8; SLOT_LEN] {
        let mut out = [0u8; SLOT_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(MAGIC);
        put(&ANCHOR_VERSION.to_le_bytes());
        put(&self.counter.to_le_bytes());
        put(&self.datadir_id);
        put(&self.root);
        put(&self.head.seq.to_le_bytes());
        put(&self.head.hash);
        put(&self.head.timestamp_ms.to_le_bytes());
        put(&self.commit_start.to_le_bytes());
        let sum = *blake3::hash(&out[..SLOT_LEN - 32]).as_bytes();
        out[SLOT_LEN - 32..].copy_from_slice(&sum);
        out
    }

    /// Decodes one copy; `None` when its magic, version or checksum is wrong (torn or damaged).
    fn decode(bytes: &[u8]) -> Option<Anchor> {
        let bytes: &[u8; SLOT_LEN] = bytes.get(..SLOT_LEN)?.try_into().ok()?;
        if &bytes[..16] != MAGIC
            || blake3::hash(&bytes[..SLOT_LEN - 32]).as_bytes() != &bytes[SLOT_LEN - 32..]
        {
            return None;
        }
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let hash_at = |at: usize| -> EntryHash { bytes[at..at + 32].try_into().expect("32 bytes") };
        if u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes")) != ANCHOR_VERSION {
            return None;
        }
        Some(Anchor {
            counter: u64_at(20),
            datadir_id: bytes[28..44].try_into().expect("16 bytes"),
            root: hash_at(44),
            head: Head {
                seq: u64_at(76),
                hash: hash_at(84),
                timestamp_ms: i64::from_le_bytes(bytes[116..124].try_into().expect("8 bytes")),
            },
            commit_start: u64_at(124),
        })
    }
}

fn file_error(path: &Path, what: &str, e: std::io::Error) -> JournalError {
    JournalError::AnchorFile(format!("{what} {}: {e}", path.display()))
}

/// Reads both copies of `bytes` and returns the newest valid one and its slot.
fn newest(bytes: &[u8], path: &Path) -> Result<(Anchor, usize), JournalError> {
    let copies = SLOT_OFFSETS.map(|offset| bytes.get(offset as usize..).and_then(Anchor::decode));
    let best =
        copies.iter().enumerate().filter_map(|(slot, a)| a.map(|a| (a, slot))).max_by_key(|(a, _)| a.counter);
    best.ok_or_else(|| {
        JournalError::AnchorFile(format!(
            "{}: neither copy of the anchor is valid (damaged or not an anchor file)",
            path.display()
        ))
    })
}

/// Where an anchor's bytes live: the data directory's `anchor` file ([`File`]), or a simulated store
/// (`tfeco-vopr`'s deterministic simulator, which injects torn writes, failed syncs and bit flips).
/// Writes are positional; a write is durable only once [`AnchorStore::sync`] returned.
pub trait AnchorStore: Send + std::fmt::Debug {
    /// Writes `bytes` at `offset` (not yet durable).
    fn write_at(&mut self, bytes: &[u8], offset: u64) -> std::io::Result<()>;
    /// Makes every earlier write durable (`fdatasync` for a file).
    fn sync(&mut self) -> std::io::Result<()>;
    /// Reads the whole store (at most 64 KiB: an anchor is two slots in 4.2 KB).
    fn read_all(&mut self) -> std::io::Result<Vec<u8>>;
}

impl AnchorStore for File {
    fn write_at(&mut self, bytes: &[u8], offset: u64) -> std::io::Result<()> {
        self.write_all_at(bytes, offset)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }
    fn read_all(&mut self) -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        self.rewind()?;
        // Refuse to read a file grown far beyond two slots.
        Read::by_ref(self).take(64 * 1024).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// The open anchor of a data directory; [`AnchorFile::write`] records a new durable head.
#[derive(Debug)]
pub struct AnchorFile {
    file: Box<dyn AnchorStore>,
    /// What the store is called in error messages (the file's path).
    path: PathBuf,
    last: Anchor,
    /// Slot holding `last`; the next write goes to the other one.
    slot: usize,
}

impl AnchorFile {
    /// `true` when `dir` has an anchor file (valid or not).
    pub fn exists(dir: &Path) -> bool {
        dir.join(ANCHOR_FILE).exists()
    }

    /// Creates the anchor of a new data directory (fails if one exists) with both copies recording `head`,
    /// synced together with the directory.
    pub fn create(
        dir: &Path,
        datadir_id: [u8; 16],
        root: EntryHash,
        head: Head,
    ) -> Result<AnchorFile, JournalError> {
        let path = dir.join(ANCHOR_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| file_error(&path, "create", e))?;
        let anchor = Self::create_in(Box::new(file), path, datadir_id, root, head)?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| file_error(dir, "sync directory", e))?;
        Ok(anchor)
    }

    /// Writes a new anchor recording `head` into both slots of the empty `store` (named `path` in
    /// errors) and syncs it. Errors: `AnchorFile` on an I/O failure.
    pub fn create_in(
        mut store: Box<dyn AnchorStore>,
        path: PathBuf,
        datadir_id: [u8; 16],
        root: EntryHash,
        head: Head,
    ) -> Result<AnchorFile, JournalError> {
        let first = Anchor { counter: 1, datadir_id, root, head, commit_start: 0 };
        let second = Anchor { counter: 2, ..first };
        for (anchor, offset) in [first, second].iter().zip(SLOT_OFFSETS) {
            store.write_at(&anchor.encode(), offset).map_err(|e| file_error(&path, "write", e))?;
        }
        store.sync().map_err(|e| file_error(&path, "sync", e))?;
        Ok(AnchorFile { file: store, path, last: second, slot: 1 })
    }

    /// Opens the anchor held by `store` (named `path` in errors) and reads its newest valid copy.
    /// Errors: [`JournalError::AnchorFile`] when it cannot be read or neither copy is valid.
    pub fn open_in(mut store: Box<dyn AnchorStore>, path: PathBuf) -> Result<AnchorFile, JournalError> {
        let bytes = store.read_all().map_err(|e| file_error(&path, "read", e))?;
        let (last, slot) = newest(&bytes, &path)?;
        Ok(AnchorFile { file: store, path, last, slot })
    }

    /// Opens the anchor of `dir` for writing and returns it with its newest valid copy.
    /// Errors: [`JournalError::AnchorFile`] when the file is missing or neither copy is valid.
    pub fn open(dir: &Path) -> Result<AnchorFile, JournalError> {
        let path = dir.join(ANCHOR_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| file_error(&path, "open", e))?;
        Self::open_in(Box::new(file), path)
    }

    /// Reads the newest valid copy of `dir`'s anchor without opening it for writing (`tfeco verify`).
    pub fn read(dir: &Path) -> Result<Anchor, JournalError> {
        let path = dir.join(ANCHOR_FILE);
        let mut file = File::open(&path).map_err(|e| file_error(&path, "open", e))?;
        let bytes = file.read_all().map_err(|e| file_error(&path, "read", e))?;
        Ok(newest(&bytes, &path)?.0)
    }

    /// The newest anchor (as read at open or last written).
    pub fn anchor(&self) -> Anchor {
        self.last
    }

    /// Makes the newest copy durable: writes its bytes again, in place, and syncs. After a failed sync and
    /// a process restart, the newest copy read back may exist only in the OS cache (and the kernel may
    /// have given up writing it, so a bare sync is not enough); until it is durable, the older slot holds
    /// the only durable anchor and must not be overwritten. A crash during this write can only tear the
    /// newest slot, leaving the older, durable one. Errors: `AnchorFile` on an I/O failure.
    pub fn make_durable(&mut self) -> Result<(), JournalError> {
        self.file
            .write_at(&self.last.encode(), SLOT_OFFSETS[self.slot])
            .map_err(|e| file_error(&self.path, "write", e))?;
        self.file.sync().map_err(|e| file_error(&self.path, "sync", e))
    }

    /// Records `head` (whose commit started at `commit_start`) in the older slot and syncs it.
    /// Errors: `AnchorFile` on an I/O failure, or when the newest copy's counter is `u64::MAX` (no real
    /// anchor gets there: the file was damaged or crafted, and a wrapped counter would make the next read
    /// return the older copy); the caller must stop: the commit is not acknowledged.
    pub fn write(&mut self, head: Head, commit_start: u64) -> Result<(), JournalError> {
        let counter = self.last.counter.checked_add(1).ok_or_else(|| {
            JournalError::AnchorFile(format!(
                "{}: the anchor's write counter is at its maximum (a damaged or crafted anchor)",
                self.path.display()
            ))
        })?;
        let next = Anchor { counter, head, commit_start, ..self.last };
        let slot = 1 - self.slot;
        self.file
            .write_at(&next.encode(), SLOT_OFFSETS[slot])
            .map_err(|e| file_error(&self.path, "write", e))?;
        self.file.sync().map_err(|e| file_error(&self.path, "sync", e))?;
        self.last = next;
        self.slot = slot;
        Ok(())
    }
}

/// What [`check_anchor`] found in a journal that agrees with its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorCheck {
    /// Entries after the anchored head: one group commit written before a crash stopped its anchor write
    /// (never acknowledged, kept); 0 normally.
    pub unanchored: u64,
}

/// Checks `journal` against `anchor`: same data directory ([`DATADIR_ID_KEY`]), same genesis root, not
/// shorter than the anchored head, the anchored entry's hash unchanged, and at most one group commit
/// beyond it. Reads the anchored entry and its predecessor only.
///
/// Errors: [`JournalError::Anchor`] with the mismatch; `Corrupt` when the anchored entry is damaged; `Io`.
pub fn check_anchor(journal: &dyn Journal, anchor: &Anchor) -> Result<AnchorCheck, JournalError> {
    let mismatch = |m| Err(JournalError::Anchor(m));
    let id = journal.get_meta(DATADIR_ID_KEY)?;
    if id.as_deref() != Some(&anchor.datadir_id[..]) {
        return mismatch(AnchorMismatch::OtherDataDir);
    }
    if journal.root() != anchor.root {
        return mismatch(AnchorMismatch::Genesis);
    }
    let head = journal.head();
    if head.seq < anchor.head.seq {
        return mismatch(AnchorMismatch::Shorter { journal_seq: head.seq, anchor_seq: anchor.head.seq });
    }
    if journal.entry_hash(anchor.head.seq)? != Some(anchor.head.hash) {
        return mismatch(AnchorMismatch::Diverged { seq: anchor.head.seq });
    }
    let unanchored = head.seq - anchor.head.seq;
    if unanchored > 0 && journal.last_commit_start() != anchor.head.seq + 1 {
        return mismatch(AnchorMismatch::Ahead {
            journal_seq: head.seq,
            anchor_seq: anchor.head.seq,
            commit_start: journal.last_commit_start(),
        });
    }
    Ok(AnchorCheck { unanchored })
}

/// A journal whose every commit is recorded in its [`AnchorFile`] before `append` returns: the head a
/// client was told about is always anchored. A failed anchor write poisons the wrapper (fail-stop), like a
/// failed append.
#[derive(Debug)]
pub struct AnchoredJournal<J: Journal> {
    inner: J,
    anchor: AnchorFile,
    poisoned: bool,
}

impl<J: Journal> AnchoredJournal<J> {
    /// Anchors a new journal (genesis set, no entries) in `dir`: records `datadir_id` in its meta and creates
    /// the anchor file. Errors: the journal has entries or no genesis; an anchor exists; I/O.
    pub fn create(mut inner: J, dir: &Path, datadir_id: [u8; 16]) -> Result<Self, JournalError> {
        if inner.head().seq != 0 || inner.genesis()?.is_none() {
            return Err(JournalError::AnchorFile("only a new journal with a genesis can be anchored".into()));
        }
        inner.put_meta(DATADIR_ID_KEY, &datadir_id)?;
        let anchor = AnchorFile::create(dir, datadir_id, inner.root(), inner.head())?;
        Ok(AnchoredJournal { inner, anchor, poisoned: false })
    }

    /// Wraps a journal already checked against `anchor` ([`check_anchor`]).
    pub fn new(inner: J, anchor: AnchorFile) -> Self {
        AnchoredJournal { inner, anchor, poisoned: false }
    }

    /// Records the journal's current head in the anchor, durably (after open, once entries beyond the
    /// anchor, one unacknowledged commit, have been replayed and kept). First the newest copy read at open
    /// is made durable in place ([`AnchorFile::make_durable`]): after a failed sync of the anchor and a
    /// process restart it may exist only in the OS cache, and a power loss would then take the anchor back
    /// behind the journal by more than one commit (found by tfeco-vopr, seed 158; rewriting the other slot
    /// instead could tear the only durable copy, seed 775). Then, if the journal runs past it, the head is
    /// written to the other slot.
    pub fn anchor_head(&mut self) -> Result<(), JournalError> {
        self.anchor.make_durable()?;
        let head = self.inner.head();
        if head != self.anchor.anchor().head {
            self.anchor.write(head, self.inner.last_commit_start())?;
        }
        Ok(())
    }

    /// The newest anchor.
    pub fn anchor(&self) -> Anchor {
        self.anchor.anchor()
    }

    /// The wrapped journal.
    pub fn inner(&self) -> &J {
        &self.inner
    }
}

impl<J: Journal> Journal for AnchoredJournal<J> {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        let head = self.inner.append(batch)?;
        if batch.is_empty() {
            return Ok(head);
        }
        if let Err(error) = self.anchor.write(head, self.inner.last_commit_start()) {
            self.poisoned = true;
            tracing::error!(%error, "anchor write failed; journal poisoned (fail-stop)");
            return Err(error);
        }
        Ok(head)
    }
    fn head(&self) -> Head {
        self.inner.head()
    }
    fn replay(
        &self,
        from_seq: u64,
        visit: &mut dyn FnMut(EntryRef<'_>) -> Result<(), JournalError>,
    ) -> Result<Head, JournalError> {
        self.inner.replay(from_seq, visit)
    }
    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        if key == DATADIR_ID_KEY {
            return Err(JournalError::ReservedKey(key.to_owned()));
        }
        self.inner.put_meta(key, value)
    }
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        self.inner.get_meta(key)
    }
    fn root(&self) -> EntryHash {
        self.inner.root()
    }
    fn set_genesis(&mut self, _genesis: &[u8]) -> Result<Head, JournalError> {
        Err(JournalError::GenesisExists)
    }
    fn genesis(&self) -> Result<Option<Vec<u8>>, JournalError> {
        self.inner.genesis()
    }
    fn last_commit_start(&self) -> u64 {
        self.inner.last_commit_start()
    }
    fn entry_hash(&self, seq: u64) -> Result<Option<EntryHash>, JournalError> {
        self.inner.entry_hash(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(counter: u64) -> Anchor {
        Anchor {
            counter,
            datadir_id: [7; 16],
            root: [1; 32],
            head: Head { seq: 42, hash: [2; 32], timestamp_ms: 1_700_000_000_000 },
            commit_start: 40,
        }
    }

    #[test]
    fn a_copy_round_trips_and_any_flipped_bit_invalidates_it() {
        let bytes = sample(3).encode();
        assert_eq!(Anchor::decode(&bytes), Some(sample(3)));
        for bit in 0..SLOT_LEN * 8 {
            let mut damaged = bytes;
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Anchor::decode(&damaged), None, "bit {bit}");
        }
        assert_eq!(Anchor::decode(&bytes[..SLOT_LEN - 1]), None);
    }

    #[test]
    fn writes_alternate_and_a_damaged_newest_copy_falls_back_to_the_previous_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut file =
            AnchorFile::create(dir.path(), [7; 16], [1; 32], Head::empty([1; 32])).expect("create");
        assert!(
            AnchorFile::create(dir.path(), [7; 16], [1; 32], Head::empty([1; 32])).is_err(),
            "create_new"
        );
        let head = |seq| Head { seq, hash: [seq as u8; 32], timestamp_ms: 5 };
        file.write(head(3), 1).expect("write");
        file.write(head(5), 4).expect("write");
        assert_eq!(AnchorFile::read(dir.path()).expect("read").head, head(5));
        let reopened = AnchorFile::open(dir.path()).expect("open");
        assert_eq!(
            (reopened.anchor().head, reopened.anchor().commit_start, reopened.anchor().counter),
            (head(5), 4, 4)
        );
        // Damage the newest copy (slot 1, counter 4): the previous one (seq 3) is read.
        let path = dir.path().join(ANCHOR_FILE);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[4096 + 80] ^= 0x10;
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(AnchorFile::read(dir.path()).expect("read").head, head(3));
        bytes[80] ^= 0x10;
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(AnchorFile::read(dir.path()), Err(JournalError::AnchorFile(_))));
        std::fs::remove_file(&path).expect("remove");
        assert!(matches!(AnchorFile::read(dir.path()), Err(JournalError::AnchorFile(_))));
    }

    /// A store in memory: the anchor code runs unchanged on it (the simulator's seam).
    #[derive(Debug, Default, Clone)]
    struct MemStore(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl AnchorStore for MemStore {
        fn write_at(&mut self, bytes: &[u8], offset: u64) -> std::io::Result<()> {
            let mut data = self.0.lock().expect("lock");
            let end = offset as usize + bytes.len();
            if data.len() < end {
                data.resize(end, 0);
            }
            data[offset as usize..end].copy_from_slice(bytes);
            Ok(())
        }
        fn sync(&mut self) -> std::io::Result<()> {
            Ok(())
        }
        fn read_all(&mut self) -> std::io::Result<Vec<u8>> {
            Ok(self.0.lock().expect("lock").clone())
        }
    }

    #[test]
    fn an_anchor_on_another_store_alternates_slots_and_reads_back() {
        let store = MemStore::default();
        let head = |seq| Head { seq, hash: [seq as u8; 32], timestamp_ms: 9 };
        let mut anchor =
            AnchorFile::create_in(Box::new(store.clone()), "mem".into(), [7; 16], [1; 32], head(0))
                .expect("create");
        anchor.write(head(2), 1).expect("write");
        let reopened = AnchorFile::open_in(Box::new(store.clone()), "mem".into()).expect("open");
        assert_eq!((reopened.anchor().head, reopened.anchor().counter), (head(2), 3));
        // A torn newest copy falls back to the one before.
        store.0.lock().expect("lock")[10] ^= 1;
        let fallback = AnchorFile::open_in(Box::new(store), "mem".into()).expect("open");
        assert_eq!(fallback.anchor().head, head(0));
    }

    /// Found by the fuzzer (`fuzz/regressions/anchor_file/`): a copy with the counter `u64::MAX` made the
    /// next write overflow (a panic in debug builds; in release a copy with counter 0, so the next read
    /// returned the older copy and the anchor went backwards).
    #[test]
    fn a_counter_at_its_maximum_refuses_the_next_write_and_keeps_the_anchor() {
        let dir = tempfile::tempdir().expect("tempdir");
        AnchorFile::create(dir.path(), [7; 16], [1; 32], Head::empty([1; 32])).expect("create");
        let path = dir.path().join(ANCHOR_FILE);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[..SLOT_LEN].copy_from_slice(&sample(u64::MAX).encode());
        std::fs::write(&path, &bytes).expect("write");
        let mut file = AnchorFile::open(dir.path()).expect("open");
        assert_eq!(file.anchor(), sample(u64::MAX));
        assert!(matches!(file.write(Head::empty([1; 32]), 0), Err(JournalError::AnchorFile(_))));
        assert_eq!(AnchorFile::read(dir.path()).expect("read"), sample(u64::MAX));
    }
}
