//! [`MemoryJournal`]: the in-memory backend (tests, benchmarks), hashed and verified exactly like SQLite.

use std::collections::BTreeMap;

use crate::record::{check_timestamps, seal, unsealed};
use crate::{
    genesis_root, is_reserved_key, Entry, EntryHash, EntryRef, Head, Journal, JournalError, NewEntry,
    GENESIS_KEY,
};

/// A journal held in a `Vec`; nothing survives the process. Appends cannot fail in storage.
#[derive(Debug, Default, Clone)]
pub struct MemoryJournal {
    /// Entry `seq` is at index `seq - 1`, with its stored checksum.
    entries: Vec<(Entry, u32)>,
    meta: BTreeMap<String, Vec<u8>>,
    head: Head,
    root: EntryHash,
    last_commit_start: u64,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries (equals `head().seq`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry was appended.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Journal for MemoryJournal {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        check_timestamps(&self.head, batch)?;
        if batch.is_empty() {
            return Ok(self.head);
        }
        let mut head = self.head;
        self.last_commit_start = head.seq + 1;
        self.entries.reserve(batch.len());
        for e in batch {
            let seq = head.seq + 1;
            let (hash, checksum) = seal(&unsealed(e, seq, &head.hash));
            let mut entry = unsealed(e, seq, &head.hash).to_entry();
            entry.hash = hash;
            self.entries.push((entry, checksum));
            head = Head { seq, hash, timestamp_ms: e.timestamp_ms };
        }
        self.head = head;
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
        crate::record::replay_in_memory(&self.entries, self.root, &self.head, from_seq, visit)
    }

    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        if is_reserved_key(key) {
            return Err(JournalError::ReservedKey(key.to_owned()));
        }
        self.meta.insert(key.to_owned(), value.to_vec());
        Ok(())
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
        self.meta.insert(GENESIS_KEY.to_owned(), genesis.to_vec());
        self.root = genesis_root(genesis);
        self.head = Head::empty(self.root);
        Ok(self.head)
    }

    fn last_commit_start(&self) -> u64 {
        self.last_commit_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CorruptReason;

    fn filled(n: u64) -> MemoryJournal {
        let mut j = MemoryJournal::new();
        let batch: Vec<NewEntry> = (0..n)
            .map(|i| NewEntry {
                timestamp_ms: i as i64,
                signer: [1; 32],
                payload: vec![i as u8; 20],
                signature: vec![2; 64],
            })
            .collect();
        j.append(&batch).expect("append");
        j
    }

    fn replay_err(j: &MemoryJournal, from: u64) -> Result<Vec<u64>, JournalError> {
        let mut seen = Vec::new();
        j.replay(from, &mut |e| {
            seen.push(e.seq);
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn tampering_is_detected_with_the_right_reason() {
        let clean = filled(6);
        assert_eq!(replay_err(&clean, 0), Ok(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(replay_err(&clean, 4), Ok(vec![4, 5, 6]));
        assert_eq!(replay_err(&clean, 7), Ok(vec![]));

        let mut j = clean.clone();
        j.entries[2].0.payload[0] ^= 1;
        assert_eq!(replay_err(&j, 1), Err(JournalError::corrupt(3, CorruptReason::Checksum)));
        // Entry 3 is the anchor of a replay from 4, so it is verified too.
        assert_eq!(replay_err(&j, 4), Err(JournalError::corrupt(3, CorruptReason::Checksum)));
        assert_eq!(replay_err(&j, 5), Ok(vec![5, 6]));

        let mut j = clean.clone();
        j.entries[3].0.prev_hash[0] ^= 1;
        j.entries[3].1 = j.entries[3].0.view().compute_checksum();
        assert_eq!(replay_err(&j, 1), Err(JournalError::corrupt(4, CorruptReason::ChainBroken)));

        let mut j = clean.clone();
        j.entries[3].0.timestamp_ms += 1;
        j.entries[3].1 = j.entries[3].0.view().compute_checksum();
        assert_eq!(replay_err(&j, 1), Err(JournalError::corrupt(4, CorruptReason::HashMismatch)));

        let mut j = clean.clone();
        j.entries[3].0.seq = 9;
        assert_eq!(replay_err(&j, 1), Err(JournalError::corrupt(4, CorruptReason::SeqGap)));
    }
}
