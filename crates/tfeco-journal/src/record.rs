//! The canonical record encoding, its hash and checksum, and the verification shared by every backend.
//!
//! Encoding (hash input), all integers little-endian fixed width:
//! `"tfeco/journal/v1" (16 bytes) | seq u64 | timestamp_ms i64 | signer [32] | payload_len u64 | payload |
//! signature_len u64 | signature | prev_hash [32]`. Hash = blake3-256(encoding);
//! checksum = crc32(encoding | hash). The encoding is streamed into the hashers, never materialised.
//!
//! The sealing ([`seal`], [`unsealed`], [`check_timestamps`]) and verification ([`ChainCheck`], [`TailCheck`])
//! are public so that a backend outside this crate (the simulated disk of `tfeco-vopr`) runs exactly the
//! checks of the SQLite and PostgreSQL backends.

use crate::{CorruptReason, EntryHash, EntryRef, Head, JournalError, NewEntry, ZERO_HASH};

/// Domain-separation prefix of the canonical encoding (16 bytes; names the format version).
const DOMAIN: &[u8; 16] = b"tfeco/journal/v1";

/// Encodings up to this size are assembled on the stack and fed in one call (much faster for small
/// entries than many small updates); larger ones are streamed piecewise.
const STACK_ENCODING: usize = 512;

/// Feeds the canonical encoding of `e` (everything but `e.hash`) into `sink`, without heap allocation.
fn encode(e: &EntryRef<'_>, sink: &mut impl FnMut(&[u8])) {
    let payload_len = (e.payload.len() as u64).to_le_bytes();
    let signature_len = (e.signature.len() as u64).to_le_bytes();
    let parts: [&[u8]; 9] = [
        DOMAIN,
        &e.seq.to_le_bytes(),
        &e.timestamp_ms.to_le_bytes(),
        e.signer,
        &payload_len,
        e.payload,
        &signature_len,
        e.signature,
        e.prev_hash,
    ];
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total <= STACK_ENCODING {
        let mut buf = [0u8; STACK_ENCODING];
        let mut at = 0;
        for p in parts {
            buf[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        sink(&buf[..at]);
    } else {
        parts.iter().for_each(|p| sink(p));
    }
}

/// One pass over the encoding: the blake3 hash and the crc32 state (not yet including any hash).
fn digest(e: &EntryRef<'_>) -> (EntryHash, crc32fast::Hasher) {
    let mut hash = blake3::Hasher::new();
    let mut crc = crc32fast::Hasher::new();
    encode(e, &mut |bytes| {
        hash.update(bytes);
        crc.update(bytes);
    });
    (*hash.finalize().as_bytes(), crc)
}

impl EntryRef<'_> {
    /// Recomputes this entry's hash from its fields (ignores `self.hash`).
    pub fn compute_hash(&self) -> EntryHash {
        digest(self).0
    }

    /// Computes the crc32 stored alongside the entry: over the canonical encoding followed by `self.hash`.
    pub fn compute_checksum(&self) -> u32 {
        let (_, mut crc) = digest(self);
        crc.update(self.hash);
        crc.finalize()
    }
}

/// Hash and checksum for a new entry whose fields (except `hash`, which is ignored) are in `e`, in one pass.
pub fn seal(e: &EntryRef<'_>) -> (EntryHash, u32) {
    let (hash, mut crc) = digest(e);
    crc.update(&hash);
    (hash, crc.finalize())
}

/// Builds the `EntryRef` for a new entry at `seq` linked to `prev_hash`, with a placeholder hash.
pub fn unsealed<'a>(e: &'a NewEntry, seq: u64, prev_hash: &'a EntryHash) -> EntryRef<'a> {
    EntryRef {
        seq,
        timestamp_ms: e.timestamp_ms,
        signer: &e.signer,
        payload: &e.payload,
        signature: &e.signature,
        prev_hash,
        hash: &ZERO_HASH,
    }
}

/// Refuses a batch whose stamps go backwards (relative to `head` and within the batch).
pub fn check_timestamps(head: &Head, batch: &[NewEntry]) -> Result<(), JournalError> {
    let mut last = if head.seq == 0 { i64::MIN } else { head.timestamp_ms };
    for e in batch {
        if e.timestamp_ms < last {
            return Err(JournalError::TimestampRegression { last_ms: last, got_ms: e.timestamp_ms });
        }
        last = e.timestamp_ms;
    }
    Ok(())
}

/// Verifies a run of consecutive entries: seq contiguity, checksum, chain link and hash, in that order.
pub struct ChainCheck {
    expected: u64,
    /// Hash the next entry's `prev_hash` must equal; `None` = unknown (the first entry is an unlinked anchor).
    prev: Option<EntryHash>,
}

impl ChainCheck {
    /// Starts at entry `first`; `prev` is the hash of entry `first - 1` if known (the chain's root for `first == 1`).
    pub fn new(first: u64, prev: Option<EntryHash>) -> Self {
        ChainCheck { expected: first, prev }
    }

    /// Starts a check for a replay from `from_seq` of a chain rooted at `root`: returns the checker and the
    /// first seq to read, which is the link `from_seq - 1` (read and verified, not visited) when
    /// `from_seq > 1`.
    pub fn for_replay(from_seq: u64, root: EntryHash) -> (Self, u64) {
        if from_seq <= 1 {
            (ChainCheck::new(1, Some(root)), 1)
        } else {
            (ChainCheck::new(from_seq - 1, None), from_seq - 1)
        }
    }

    /// Checks the next entry against its stored checksum.
    pub fn check(&mut self, e: &EntryRef<'_>, checksum: u32) -> Result<(), JournalError> {
        if e.seq != self.expected {
            return Err(JournalError::corrupt(self.expected, CorruptReason::SeqGap));
        }
        let (hash, mut crc) = digest(e);
        crc.update(e.hash);
        if crc.finalize() != checksum {
            return Err(JournalError::corrupt(e.seq, CorruptReason::Checksum));
        }
        if self.prev.is_some_and(|p| p != *e.prev_hash) {
            return Err(JournalError::corrupt(e.seq, CorruptReason::ChainBroken));
        }
        if hash != *e.hash {
            return Err(JournalError::corrupt(e.seq, CorruptReason::HashMismatch));
        }
        self.prev = Some(*e.hash);
        self.expected += 1;
        Ok(())
    }

    /// After the last entry: the run must have reached `head` and ended on its hash.
    pub fn finish(self, head: &Head) -> Result<(), JournalError> {
        if self.expected != head.seq + 1 {
            return Err(JournalError::corrupt(self.expected, CorruptReason::SeqGap));
        }
        if self.prev != Some(head.hash) {
            return Err(JournalError::corrupt(head.seq, CorruptReason::HashMismatch));
        }
        Ok(())
    }
}

/// A journal's last entry judged on open, shared by the backends ([`crate::SqliteJournal`],
/// [`crate::PostgresJournal`]): the rule that at most one bad entry, the last, may be a torn write.
pub struct TailCheck {
    /// The last stored seq (> 0).
    pub last_seq: u64,
    /// The hash the last entry must link to: the predecessor's, or the chain's root for entry 1.
    link: EntryHash,
}

/// The type of a backend's loader of one verified entry (`Ok(None)`: no such row).
pub type LoadVerified<'a> =
    &'a mut dyn FnMut(u64) -> Result<Option<Result<crate::Entry, JournalError>>, JournalError>;

impl TailCheck {
    /// Starts from `max(seq)` of the store: `Ok(None)` for an empty store. The predecessor of the last
    /// entry is loaded with `load_verified` and must be sound on its own. Errors: a max seq that is not
    /// positive, or a bad predecessor (not a single bad tail entry).
    pub fn start(
        max_seq: Option<i64>,
        root: EntryHash,
        load_verified: LoadVerified<'_>,
    ) -> Result<Option<Self>, JournalError> {
        let Some(last_seq) = max_seq else { return Ok(None) };
        let last_seq = match u64::try_from(last_seq) {
            Ok(s) if s > 0 => s,
            _ => return Err(JournalError::corrupt(0, CorruptReason::Decode)),
        };
        let link = if last_seq == 1 {
            root
        } else {
            load_verified(last_seq - 1)?
                .ok_or(JournalError::corrupt(last_seq - 1, CorruptReason::SeqGap))??
                .hash
        };
        Ok(Some(TailCheck { last_seq, link }))
    }

    /// Judges the decoded last entry: the head (the last row, even when bad: an undecodable one keeps only
    /// its seq) and the problem of a bad last entry.
    pub fn judge(
        &self,
        decoded: Result<(EntryRef<'_>, u32), CorruptReason>,
    ) -> (Head, Option<(u64, JournalError)>) {
        let last_seq = self.last_seq;
        let (head, problem) = match decoded {
            Ok((entry, checksum)) => (
                Head { seq: last_seq, hash: *entry.hash, timestamp_ms: entry.timestamp_ms },
                ChainCheck::new(last_seq, Some(self.link)).check(&entry, checksum).err(),
            ),
            Err(reason) => {
                (Head { seq: last_seq, ..Head::EMPTY }, Some(JournalError::corrupt(last_seq, reason)))
            }
        };
        (head, problem.map(|p| (last_seq, p)))
    }

    /// The error of a last row that vanished between the two reads.
    pub(crate) fn vanished(&self) -> JournalError {
        JournalError::Io(format!("open: entry {} vanished while reading", self.last_seq))
    }
}

/// Replays entries held in memory (entry `seq` at index `seq - 1`, with its stored checksum), as
/// [`crate::Journal::replay`] specifies: from `from_seq` (0 is 1) up to `head`, every entry checked by a
/// [`ChainCheck`] rooted at `root`, the link entry before `from_seq` checked but not visited. Used by
/// [`crate::MemoryJournal`] and by simulated backends. Errors: [`JournalError::Corrupt`] at the first problem,
/// or the visitor's own error.
pub fn replay_in_memory(
    entries: &[(crate::Entry, u32)],
    root: crate::EntryHash,
    head: &crate::Head,
    from_seq: u64,
    visit: &mut dyn FnMut(crate::EntryRef<'_>) -> Result<(), JournalError>,
) -> Result<crate::Head, JournalError> {
    let from = from_seq.max(1);
    if from > head.seq {
        return Ok(*head);
    }
    let (mut check, first) = ChainCheck::for_replay(from, root);
    let start = usize::try_from(first - 1).unwrap_or(usize::MAX).min(entries.len());
    for (entry, checksum) in &entries[start..] {
        let e = entry.view();
        // The record's place is its seq (like SQLite's rowid); the stored seq is checked by the chain.
        check.check(&e, *checksum)?;
        if e.seq >= from {
            visit(e)?;
        }
    }
    check.finish(head)?;
    Ok(*head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NewEntry {
        NewEntry { timestamp_ms: 7, signer: [3; 32], payload: b"pay".to_vec(), signature: vec![9; 64] }
    }

    #[test]
    fn hash_covers_every_field_and_checksum_covers_hash() {
        let base = sample();
        let (h0, c0) = seal(&unsealed(&base, 1, &ZERO_HASH));
        let mut variants = vec![seal(&unsealed(&base, 2, &ZERO_HASH)), seal(&unsealed(&base, 1, &[1; 32]))];
        let mutations: [fn(&mut NewEntry); 4] = [
            |e| e.timestamp_ms += 1,
            |e| e.signer[31] ^= 1,
            |e| e.payload.push(0),
            |e| e.signature.truncate(10),
        ];
        for f in mutations {
            let mut e = base.clone();
            f(&mut e);
            variants.push(seal(&unsealed(&e, 1, &ZERO_HASH)));
        }
        for (h, c) in variants {
            assert_ne!(h, h0);
            assert_ne!(c, c0);
        }
        // Moving a byte between payload and signature changes the hash (length prefixes).
        let mut moved = base.clone();
        moved.signature.insert(0, moved.payload.pop().expect("non-empty"));
        assert_ne!(seal(&unsealed(&moved, 1, &ZERO_HASH)).0, h0);
        // The public helpers agree with seal.
        let mut e = unsealed(&base, 1, &ZERO_HASH);
        e.hash = &h0;
        assert_eq!(e.compute_hash(), h0);
        assert_eq!(e.compute_checksum(), c0);
    }

    #[test]
    fn encoding_layout_is_as_documented_for_small_and_large_entries() {
        for payload_len in [3usize, 1_000] {
            let base = NewEntry { payload: vec![0x55; payload_len], ..sample() };
            let e = unsealed(&base, 0x0102, &[0xAA; 32]);
            let mut bytes = Vec::new();
            encode(&e, &mut |b| bytes.extend_from_slice(b));
            let mut want = b"tfeco/journal/v1".to_vec();
            want.extend_from_slice(&0x0102u64.to_le_bytes());
            want.extend_from_slice(&7i64.to_le_bytes());
            want.extend_from_slice(&[3; 32]);
            want.extend_from_slice(&(payload_len as u64).to_le_bytes());
            want.extend_from_slice(&vec![0x55; payload_len]);
            want.extend_from_slice(&64u64.to_le_bytes());
            want.extend_from_slice(&[9; 64]);
            want.extend_from_slice(&[0xAA; 32]);
            assert_eq!(bytes, want);
            let hash = *blake3::hash(&want).as_bytes();
            assert_eq!(e.compute_hash(), hash);
            want.extend_from_slice(&hash);
            assert_eq!(seal(&e), (hash, crc32fast::hash(&want)));
        }
    }
}
