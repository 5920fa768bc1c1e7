//! [`FaultyJournal`]: test support that injects a storage failure into another journal's appends.

use crate::{EntryHash, EntryRef, Head, Journal, JournalError, NewEntry};

/// **Test support.** Wraps a journal and lets `fail_after` entries through; the first batch that would go
/// beyond that fails as a whole with [`JournalError::Io`] (nothing of it reaches the inner journal) and
/// poisons the wrapper, which then answers every append with [`JournalError::Poisoned`], like a real
/// backend after a storage failure. Reads and metadata pass through untouched.
#[derive(Debug)]
pub struct FaultyJournal<J: Journal> {
    inner: J,
    remaining: u64,
    poisoned: bool,
}

impl<J: Journal> FaultyJournal<J> {
    /// Wraps `inner`, allowing `fail_after` more entries to be appended before the injected failure.
    pub fn new(inner: J, fail_after: u64) -> Self {
        FaultyJournal { inner, remaining: fail_after, poisoned: false }
    }

    /// The wrapped journal.
    pub fn inner(&self) -> &J {
        &self.inner
    }

    /// Unwraps, e.g. to drop and reopen the inner journal as after a crash.
    pub fn into_inner(self) -> J {
        self.inner
    }

    /// True once the injected failure happened.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

impl<J: Journal> Journal for FaultyJournal<J> {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if batch.len() as u64 > self.remaining {
            self.poisoned = true;
            tracing::error!(remaining = self.remaining, batch = batch.len(), "injected journal fault");
            return Err(JournalError::Io(format!(
                "injected fault: batch of {} entries exceeds the remaining budget of {}",
                batch.len(),
                self.remaining
            )));
        }
        let head = self.inner.append(batch)?;
        self.remaining -= batch.len() as u64;
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
        self.inner.put_meta(key, value)
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        self.inner.get_meta(key)
    }

    fn root(&self) -> EntryHash {
        self.inner.root()
    }

    fn set_genesis(&mut self, genesis: &[u8]) -> Result<Head, JournalError> {
        self.inner.set_genesis(genesis)
    }

    fn last_commit_start(&self) -> u64 {
        self.inner.last_commit_start()
    }
}
