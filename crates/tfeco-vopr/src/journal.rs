//! [`SimJournal`]: a [`Journal`] backend on the simulated disk ([`crate::disk`]), sealed and verified by the
//! journal crate's own record code (`tfeco_journal::record`: the canonical encoding, blake3 hash, crc32
//! checksum, [`ChainCheck`] on replay and [`TailCheck`] on open), so the simulator runs the same checks as
//! the SQLite and PostgreSQL backends, and [`tfeco_journal::open_anchored_with`] judges it against the real
//! anchor code.
//!
//! The log is a sequence of records, each `tag u8 | body length u32 LE | body`:
//! - `E` an entry: `seq u64 | timestamp_ms i64 | signer [32] | payload length u32 | payload | signature
//!   length u32 | signature | prev_hash [32] | hash [32] | checksum u32` (the entry's own checksum);
//! - `M` a meta row: `key length u8 | key | value | crc32 u32` (crc over the tag, length and body before it);
//! - `C` a commit's start: `first seq u64 | crc32 u32`, written first in each append (like SQLite's
//!   `last_commit_start` row written in the commit's own transaction).
//!
//! Opening reads records until the first one that is incomplete or malformed (or a meta or commit record
//! whose crc fails): like a SQLite WAL, whatever follows is not part of the journal (a torn write, or damage
//! that makes the journal shorter, which the anchor then refuses). An entry whose bytes changed keeps its
//! place and fails its checksum, where the record checks find it. Opening writes nothing; the first append
//! cuts off a torn tail.

use std::collections::BTreeMap;

use tfeco_journal::record::{check_timestamps, seal, unsealed, ChainCheck, TailCheck};
use tfeco_journal::{
    genesis_root, Entry, EntryHash, EntryRef, Head, Journal, JournalError, NewEntry, OpenReport, Truncate,
    GENESIS_KEY, ZERO_HASH,
};

use crate::disk::SharedDisk;

const ENTRY: u8 = b'E';
const META: u8 = b'M';
const COMMIT: u8 = b'C';

/// The journal on the simulated disk; the replica owns it like any backend.
pub struct SimJournal {
    disk: SharedDisk,
    /// Entries as read at open and appended since, with their stored checksums (entry `i` is seq `i + 1`).
    entries: Vec<(Entry, u32)>,
    /// End offset of each entry's record.
    ends: Vec<usize>,
    /// `(offset, first seq)` of each commit record.
    commits: Vec<(usize, u64)>,
    meta: BTreeMap<String, Vec<u8>>,
    head: Head,
    root: EntryHash,
    /// End of the valid records (a torn tail beyond it is cut off by the next append).
    end: usize,
    poisoned: bool,
}

fn io_error(what: &str, e: std::io::Error) -> JournalError {
    JournalError::Io(format!("{what}: {e}"))
}

/// Appends one record `tag | len | body` to `out`.
fn record(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
}

/// A body followed by the crc32 of `tag | len | body` (meta and commit records).
fn with_crc(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(body.len() + 9);
    record(&mut framed, tag, &[]);
    framed[1..5].copy_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    framed.extend_from_slice(body);
    let crc = crc32fast::hash(&framed);
    let mut out = body.to_vec();
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn encode_entry(out: &mut Vec<u8>, e: &EntryRef<'_>, checksum: u32) {
    let mut body = Vec::with_capacity(128 + e.payload.len() + e.signature.len());
    body.extend_from_slice(&e.seq.to_le_bytes());
    body.extend_from_slice(&e.timestamp_ms.to_le_bytes());
    body.extend_from_slice(e.signer);
    body.extend_from_slice(&(e.payload.len() as u32).to_le_bytes());
    body.extend_from_slice(e.payload);
    body.extend_from_slice(&(e.signature.len() as u32).to_le_bytes());
    body.extend_from_slice(e.signature);
    body.extend_from_slice(e.prev_hash);
    body.extend_from_slice(e.hash);
    body.extend_from_slice(&checksum.to_le_bytes());
    record(out, ENTRY, &body);
}

/// A cursor over a record body; `None` when a field runs past its end.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn array32(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.try_into().ok()
    }
}

fn decode_entry(body: &[u8]) -> Option<(Entry, u32)> {
    let mut c = Cursor(body);
    let seq = c.u64()?;
    let timestamp_ms = c.u64()? as i64;
    let signer = c.array32()?;
    let payload_len = c.u32()? as usize;
    let payload = c.take(payload_len)?.to_vec();
    let signature_len = c.u32()? as usize;
    let signature = c.take(signature_len)?.to_vec();
    let prev_hash = c.array32()?;
    let hash = c.array32()?;
    let checksum = c.u32()?;
    c.0.is_empty()
        .then_some((Entry { seq, timestamp_ms, signer, payload, signature, prev_hash, hash }, checksum))
}

/// What opening found on the disk, before the tail check.
#[derive(Default)]
struct Scan {
    entries: Vec<(Entry, u32)>,
    ends: Vec<usize>,
    commits: Vec<(usize, u64)>,
    meta: BTreeMap<String, Vec<u8>>,
    end: usize,
}

/// Reads one crc-protected body (meta or commit record); `None` when its crc fails.
fn checked(tag: u8, body: &[u8]) -> Option<&[u8]> {
    let (data, crc) = body.split_at(body.len().checked_sub(4)?);
    (with_crc(tag, data)[data.len()..] == *crc).then_some(data)
}

/// Reads records until the first incomplete or malformed one.
fn scan(data: &[u8]) -> Scan {
    let mut found = Scan::default();
    let mut at = 0;
    while let Some(header) = data.get(at..at + 5) {
        let len = u32::from_le_bytes(header[1..5].try_into().expect("4 bytes")) as usize;
        let Some(body) = data.get(at + 5..at + 5 + len) else { break };
        let next = at + 5 + len;
        let tag = header[0];
        // Entries carry their own checksum (checked by the record code); meta and commit records a crc.
        let framed = if tag == ENTRY { None } else { checked(tag, body) };
        match (tag, framed) {
            (ENTRY, _) => match decode_entry(body) {
                Some(entry) => {
                    found.entries.push(entry);
                    found.ends.push(next);
                }
                None => break,
            },
            (META, Some(data)) => {
                let Some((&key_len, rest)) = data.split_first() else { break };
                let Some(key) = rest.get(..key_len as usize) else { break };
                let Ok(key) = std::str::from_utf8(key) else { break };
                found.meta.insert(key.to_owned(), rest[key_len as usize..].to_vec());
            }
            (COMMIT, Some(data)) => match <[u8; 8]>::try_from(data) {
                Ok(first) => found.commits.push((at, u64::from_le_bytes(first))),
                Err(_) => break,
            },
            _ => break,
        }
        at = next;
    }
    found.end = at;
    // A commit record whose entries never reached the disk (a write torn right after it) is no commit:
    // SQLite writes `last_commit_start` in the same transaction as the entries (found by seed 1317).
    while let Some(&(offset, first)) = found.commits.last() {
        if first <= found.entries.len() as u64 {
            break;
        }
        found.commits.pop();
        found.end = offset;
    }
    found
}

/// Entry `seq` checked on its own (checksum, hash) and, when `link` is known, against its predecessor.
fn verified(
    entries: &[(Entry, u32)],
    seq: u64,
    link: Option<EntryHash>,
) -> Option<Result<Entry, JournalError>> {
    let (entry, checksum) = entries.get(usize::try_from(seq).ok()?.checked_sub(1)?)?;
    Some(ChainCheck::new(seq, link).check(&entry.view(), *checksum).map(|()| entry.clone()))
}

impl SimJournal {
    /// Opens the journal on `disk` (an empty disk gives an empty journal without a genesis). Verifies the
    /// last entry only, with [`TailCheck`]; a bad last entry is reported in [`OpenReport`], not removed.
    ///
    /// Errors: `Io` after a simulated crash; `Corrupt` when the entry before the last is bad.
    pub fn open(disk: SharedDisk) -> Result<(SimJournal, OpenReport), JournalError> {
        let found = {
            let d = disk.lock();
            if d.crashed {
                return Err(JournalError::Io("simulated I/O after a crash".into()));
            }
            scan(&d.log.data)
        };
        let root = found.meta.get(GENESIS_KEY).map_or(ZERO_HASH, |g| genesis_root(g));
        let max_seq = (!found.entries.is_empty()).then_some(found.entries.len() as i64);
        let entries = &found.entries;
        let tail = TailCheck::start(max_seq, root, &mut |seq| Ok(verified(entries, seq, None)))?;
        let (head, bad_last_entry) = match &tail {
            None => (Head::empty(root), None),
            Some(tail) => {
                let (entry, checksum) = &entries[entries.len() - 1];
                tail.judge(Ok((entry.view(), *checksum)))
            }
        };
        let journal = SimJournal {
            disk,
            entries: found.entries,
            ends: found.ends,
            commits: found.commits,
            meta: found.meta,
            head,
            root,
            end: found.end,
            poisoned: false,
        };
        Ok((journal, OpenReport { head, bad_last_entry }))
    }

    /// `true` after a storage failure: every append then answers [`JournalError::Poisoned`].
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Writes `bytes` (records) after the valid end and syncs; a failure poisons the journal.
    fn write_synced(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        let mut disk = self.disk.lock();
        let result = (|| {
            if disk.log.data.len() > self.end {
                disk.log_truncate(self.end).map_err(|e| io_error("cut a torn tail", e))?;
            }
            disk.log_append(bytes).map_err(|e| io_error("append", e))?;
            disk.log_sync().map_err(|e| io_error("sync", e))
        })();
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }
}

impl Journal for SimJournal {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        check_timestamps(&self.head, batch)?;
        if batch.is_empty() {
            return Ok(self.head);
        }
        let first = self.head.seq + 1;
        let mut bytes = Vec::with_capacity(batch.len() * 400);
        record(&mut bytes, COMMIT, &with_crc(COMMIT, &first.to_le_bytes()));
        let commit_offset = self.end;
        let mut head = self.head;
        let mut sealed = Vec::with_capacity(batch.len());
        for e in batch {
            let seq = head.seq + 1;
            let (hash, checksum) = seal(&unsealed(e, seq, &head.hash));
            let mut entry = unsealed(e, seq, &head.hash).to_entry();
            entry.hash = hash;
            encode_entry(&mut bytes, &entry.view(), checksum);
            sealed.push(((entry, checksum), commit_offset + bytes.len()));
            head = Head { seq, hash, timestamp_ms: e.timestamp_ms };
        }
        self.write_synced(&bytes)?;
        self.commits.push((commit_offset, first));
        for (entry, end) in sealed {
            self.entries.push(entry);
            self.ends.push(end);
        }
        self.end = commit_offset + bytes.len();
        self.head = head;
        self.disk.lock().journal_head = head;
        Ok(head)
    }

    fn head(&self) -> Head {
        self.head
    }

    fn replay(
        &self,
        from_seq: u64,
        visit: &mut dyn FnMut(EntryRef<'_>) -> Result<(), JournalError>,
    ) -> Result<Head, JournalError> {
        tfeco_journal::record::replay_in_memory(&self.entries, self.root, &self.head, from_seq, visit)
    }

    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        if tfeco_journal::is_reserved_key(key) {
            return Err(JournalError::ReservedKey(key.to_owned()));
        }
        self.write_meta(key, value)
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        Ok(self.meta.get(key).cloned())
    }

    fn root(&self) -> EntryHash {
        self.root
    }

    fn set_genesis(&mut self, genesis: &[u8]) -> Result<Head, JournalError> {
        if self.head.seq != 0 || self.meta.contains_key(GENESIS_KEY) {
            return Err(JournalError::GenesisExists);
        }
        self.write_meta(GENESIS_KEY, genesis)?;
        self.root = genesis_root(genesis);
        self.head = Head::empty(self.root);
        Ok(self.head)
    }

    fn last_commit_start(&self) -> u64 {
        self.commits.last().map_or(0, |c| c.1)
    }
}

impl SimJournal {
    fn write_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        let key_len = u8::try_from(key.len()).map_err(|_| JournalError::Io("meta key too long".into()))?;
        let mut body = vec![key_len];
        body.extend_from_slice(key.as_bytes());
        body.extend_from_slice(value);
        let mut bytes = Vec::new();
        record(&mut bytes, META, &with_crc(META, &body));
        self.write_synced(&bytes)?;
        self.end += bytes.len();
        self.meta.insert(key.to_owned(), value.to_vec());
        Ok(())
    }
}

impl Truncate for SimJournal {
    fn truncate_after(&mut self, seq: u64) -> Result<Head, JournalError> {
        let (head, cut) = if seq == 0 {
            (Head::empty(self.root), self.commits.first().map_or(self.end, |c| c.0))
        } else {
            let link = (seq == 1).then_some(self.root);
            let entry = verified(&self.entries, seq, link)
                .ok_or(JournalError::Corrupt { seq, reason: tfeco_journal::CorruptReason::SeqGap })??;
            (Head { seq, hash: entry.hash, timestamp_ms: entry.timestamp_ms }, self.ends[seq as usize - 1])
        };
        {
            let mut disk = self.disk.lock();
            disk.log_truncate(cut).map_err(|e| io_error("truncate", e))?;
            disk.log_sync().map_err(|e| io_error("sync", e))?;
        }
        self.entries.truncate(seq as usize);
        self.ends.truncate(seq as usize);
        self.commits.retain(|c| c.0 < cut);
        self.end = cut;
        self.head = head;
        Ok(head)
    }

    fn make_durable(&mut self) -> Result<(), JournalError> {
        self.disk.lock().log_sync().map_err(|e| io_error("sync", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::{Disk, FaultRates};
    use crate::rng::Rng;

    fn entry(ts: i64) -> NewEntry {
        NewEntry { timestamp_ms: ts, signer: [1; 32], payload: vec![ts as u8; 30], signature: vec![2; 64] }
    }

    fn filled() -> (SharedDisk, SimJournal) {
        let disk = Disk::new(FaultRates::NONE, Rng::new(1));
        let (mut j, _) = SimJournal::open(disk.clone()).expect("open");
        j.set_genesis(b"genesis").expect("genesis");
        j.append(&[entry(1), entry(2)]).expect("append");
        j.append(&[entry(3)]).expect("append");
        (disk, j)
    }

    #[test]
    fn reopening_finds_the_same_entries_meta_and_last_commit() {
        let (disk, j) = filled();
        let (again, report) = SimJournal::open(disk).expect("reopen");
        assert_eq!((report.head, report.bad_last_entry), (j.head(), None));
        assert_eq!(again.last_commit_start(), 3);
        assert_eq!(again.genesis().expect("meta"), Some(b"genesis".to_vec()));
        let mut seen = Vec::new();
        again
            .replay(1, &mut |e| {
                seen.push(e.seq);
                Ok(())
            })
            .expect("replay");
        assert_eq!(seen, [1, 2, 3]);
    }

    #[test]
    fn a_changed_entry_fails_its_checksum_and_a_torn_tail_is_ignored_then_cut() {
        let (disk, _) = filled();
        let last_byte = disk.lock().log.data.len() - 10;
        disk.lock().log.data[last_byte] ^= 1;
        let (mut j, report) = SimJournal::open(disk.clone()).expect("reopen");
        assert_eq!(report.bad_last_entry.map(|b| b.0), Some(3));
        assert_eq!(j.truncate_after(2).expect("truncate").seq, 2);
        assert_eq!(j.last_commit_start(), 1);
        disk.lock().log.data.extend_from_slice(&[b'E', 200, 0, 0, 0, 1, 2]);
        let (mut j, report) = SimJournal::open(disk.clone()).expect("reopen");
        assert_eq!((report.head.seq, report.bad_last_entry), (2, None));
        j.append(&[entry(4)]).expect("append after a torn tail");
        let (j, _) = SimJournal::open(disk).expect("reopen");
        assert_eq!(j.head().seq, 3);
        let result = j.replay(1, &mut |_| Ok(()));
        assert!(result.is_ok(), "{result:?}");
    }

    /// Seed 1317: a write torn right after its commit record must not leave that commit's start behind
    /// (the anchor check would then see more than one unanchored commit and refuse a healthy journal).
    #[test]
    fn a_commit_record_without_its_entries_is_no_commit() {
        let (disk, j) = filled();
        assert_eq!(j.last_commit_start(), 3);
        let mut torn = Vec::new();
        record(&mut torn, COMMIT, &with_crc(COMMIT, &4u64.to_le_bytes()));
        disk.lock().log.data.extend_from_slice(&torn);
        let (mut j, report) = SimJournal::open(disk.clone()).expect("reopen");
        assert_eq!((report.head.seq, j.last_commit_start()), (3, 3));
        j.append(&[entry(5)]).expect("append over the torn commit record");
        let (j, _) = SimJournal::open(disk).expect("reopen");
        assert_eq!((j.head().seq, j.last_commit_start()), (4, 4));
    }
}
