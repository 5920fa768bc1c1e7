//! A follower's side of the [`Replica`] (declared from `replica.rs` as its child module `follow`): applying
//! entries received from a primary exactly as replay applies them (the same decoder, the same strict
//! signature check, the same core), journaling them in this replica's own journal, and replaying its own
//! entries onto a state (the follower's check of guardian checkpoints it has passed).
//! The chain of the received entries is checked by the caller ([`crate::follower`]) before they come here.

use tfeco_core::{AccountKey, State};
use tfeco_journal::{Entry, Head, NewEntry};

use super::{apply_entry, apply_entry_events, ReplayOptions, Replica, ReplicaError};

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
            match apply_entry_events(&mut self.state, &entry.view(), options) {
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
        let head = appended.inspect_err(|_| self.mark_failed())?;
        self.last_timestamp_ms = head.timestamp_ms;
        if let Some((sink, pending)) = &mut self.event_sink {
            let events = applied.iter().zip(pending.drain(..));
            sink(events.map(|(e, (signer, events))| (e.seq, e.timestamp_ms, signer, events)).collect());
        }
        if let Some(snapshotter) = &mut self.snapshotter {
            snapshotter.after_commit(&self.state, head, crate::now_unix_ms());
        }
        if head.seq != last.seq || head.hash != last.hash {
            self.mark_failed();
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
        self.mark_failed();
    }

    /// Applies `entries` (in order, the next ones after `state`'s) to `state` as replay does, without the
    /// signature check (for entries of this follower's own journal, verified when they came in): the
    /// follower's recomputation of its history at a checkpoint ([`crate::follower`]).
    ///
    /// Errors: as replay ([`ReplicaError::Decode`], [`ReplicaError::ReplayRejected`]).
    pub fn replay_onto(state: &mut State, entries: &[Entry]) -> Result<(), ReplicaError> {
        for entry in entries {
            apply_entry(state, &entry.view(), ReplayOptions::default())?;
        }
        Ok(())
    }
}
