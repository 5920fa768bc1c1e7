//! A follower's side of the [`Replica`] (declared from `replica.rs` as its child module `follow`): applying
//! entries received from a primary exactly as replay applies them (the same decoder, the same strict
//! signature check, the same core), journaling them in this replica's own journal, and recomputing the
//! hashes of its history at given entries (the follower's check of guardian checkpoints it has passed).
//! The chain of the received entries is checked by the caller ([`crate::follower`]) before they come here.

use std::collections::{BTreeMap, BTreeSet};

use tfeco_core::{AccountKey, Genesis, State};
use tfeco_journal::{Entry, EntryHash, Head, JournalError, NewEntry};

use super::{apply_entry, ReplayOptions, Replica, ReplicaError};

impl Replica {
    /// Applies `entries` (the next ones after this replica's head, in order) as replay does, with every
    /// ed25519 signature verified, then appends the applied ones to this replica's journal in one durable
    /// append (the same timestamps, signers, payloads and signatures, so the same hashes), hands their events
    /// to the event sink and lets the snapshotter run. Returns the new head.
    ///
    /// Errors: at the first entry that does not decode ([`ReplicaError::Decode`]), verify
    /// ([`ReplicaError::Signature`]) or apply ([`ReplicaError::ReplayRejected`]), the entries before it are
    /// applied and journaled and the error returned (the state always equals the journal); a journal failure
    /// ([`ReplicaError::Journal`], after which the replica has failed); [`ReplicaError::Witness`] by
    /// `primary` when the journal computes another hash than the primary's for the last entry.
    pub fn apply_replicated(&mut self, entries: &[Entry]) -> Result<Head, ReplicaError> {
        let options = ReplayOptions { verify_signatures: true };
        let mut applied = Vec::with_capacity(entries.len());
        let mut failure = None;
        for entry in entries {
            match apply_entry(&mut self.state, &entry.view(), options) {
                Ok(events) => {
                    if let Some((_, pending)) = &mut self.event_sink {
                        pending.push((AccountKey(entry.signer), events));
                    }
                    applied.push(entry);
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let head = self.append_replicated(&applied)?;
        match failure {
            Some(error) => Err(error),
            None => Ok(head),
        }
    }

    /// Journals `applied` (already applied to the state) and runs the after-commit work.
    fn append_replicated(&mut self, applied: &[&Entry]) -> Result<Head, ReplicaError> {
        let Some(last) = applied.last() else { return Ok(self.journal.get_mut().head()) };
        let batch: Vec<NewEntry> = applied
            .iter()
            .map(|e| NewEntry {
                timestamp_ms: e.timestamp_ms,
                signer: e.signer,
                payload: e.payload.clone(),
                signature: e.signature.clone(),
            })
            .collect();
        let started = std::time::Instant::now();
        let appended = self.journal.get_mut().append(&batch);
        self.metrics.observe_commit(batch.len(), started.elapsed());
        let head = appended.inspect_err(|_| self.failed = true)?;
        self.last_timestamp_ms = head.timestamp_ms;
        if let Some((sink, pending)) = &mut self.event_sink {
            let events = applied.iter().zip(pending.drain(..));
            sink(events.map(|(e, (signer, events))| (e.seq, e.timestamp_ms, signer, events)).collect());
        }
        if let Some(snapshotter) = &mut self.snapshotter {
            snapshotter.after_commit(&self.state, head, crate::now_unix_ms());
        }
        if head.seq != last.seq || head.hash != last.hash {
            self.failed = true;
            return Err(ReplicaError::Witness {
                seq: last.seq,
                by: "primary".to_owned(),
                what: "journal entry hash",
            });
        }
        Ok(head)
    }

    /// Stops serving this replica's state (every request is then answered 503): a follower that found the
    /// primary's history wrong ([`crate::follower`]).
    pub fn halt(&mut self) {
        self.failed = true;
    }

    /// The hash of each entry of `seqs` and the state hash (hex) after it, recomputed by replaying this
    /// replica's own journal from its genesis (signatures were verified when the entries came in); seqs
    /// beyond the head are left out.
    ///
    /// Errors: the journal's (corruption, I/O) and the replay's.
    pub fn hashes_at(
        &self,
        seqs: &BTreeSet<u64>,
    ) -> Result<BTreeMap<u64, (EntryHash, String)>, ReplicaError> {
        let mut found = BTreeMap::new();
        let Some(&last) = seqs.range(..=self.head().seq).next_back() else { return Ok(found) };
        let journal = self.journal.lock();
        let genesis = Genesis::decode(&journal.genesis()?.ok_or(ReplicaError::Genesis)?)?;
        let mut state = State::new(genesis);
        let mut failure = None;
        let mut visit = |entry: tfeco_journal::EntryRef<'_>| -> Result<(), JournalError> {
            if let Err(error) = apply_entry(&mut state, &entry, ReplayOptions::default()) {
                failure = Some(error);
                return Err(JournalError::Stopped);
            }
            if seqs.contains(&entry.seq) {
                found.insert(entry.seq, (*entry.hash, state.state_hash()));
            }
            if entry.seq >= last {
                return Err(JournalError::Stopped);
            }
            Ok(())
        };
        let result = journal.replay(1, &mut visit);
        if let Some(error) = failure {
            return Err(error);
        }
        match result {
            Ok(_) | Err(JournalError::Stopped) => Ok(found),
            Err(error) => Err(error.into()),
        }
    }
}
