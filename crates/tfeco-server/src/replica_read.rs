//! Reads of a [`Replica`]'s journal for the checkpoints and the journal API: the durable head, the stored
//! genesis bytes and pages of entries (declared from `replica.rs` as its child module `read`).

use tfeco_journal::{Entry, Head, JournalError};

use super::{Replica, ReplicaError, GENESIS_META_KEY};

impl Replica {
    /// The journal's durable head (seq, hash, timestamp of the last entry; [`Head::EMPTY`] when empty).
    pub fn head(&self) -> Head {
        self.journal.lock().head()
    }

    /// The genesis exactly as stored in the journal (its versioned encoding).
    ///
    /// Errors: [`ReplicaError::Genesis`] when none is stored, [`ReplicaError::Journal`].
    pub fn genesis_bytes(&self) -> Result<Vec<u8>, ReplicaError> {
        self.journal.lock().get_meta(GENESIS_META_KEY)?.ok_or(ReplicaError::Genesis)
    }

    /// At most `limit` entries from seq `from` (0 is read as 1), verified as replay verifies them
    /// (checksum, chain, hash); none when `from` is past the head.
    ///
    /// Errors: [`ReplicaError::Journal`] (corruption or I/O).
    pub fn read_entries(&self, from: u64, limit: usize) -> Result<Vec<Entry>, ReplicaError> {
        let mut entries = Vec::with_capacity(limit.min(1_024));
        if limit == 0 {
            return Ok(entries);
        }
        let journal = self.journal.lock();
        let mut visit = |entry: tfeco_journal::EntryRef<'_>| {
            entries.push(entry.to_entry());
            if entries.len() >= limit {
                Err(JournalError::Stopped)
            } else {
                Ok(())
            }
        };
        match journal.replay(from.max(1), &mut visit) {
            Ok(_) | Err(JournalError::Stopped) => Ok(entries),
            Err(error) => Err(error.into()),
        }
    }
}
