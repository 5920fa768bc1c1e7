//! The replica: the core [`State`] plus its [`Journal`] (the server's state; a "node" is hardware that
//! sells slices). Opening replays the log and refuses to serve on any hash, checksum, decode or invariant
//! failure; applying a batch journals the accepted commands durably before anyone is told they succeeded
//! (group commit).

use ed25519_dalek::{Signer, SigningKey};
use tfeco_core::request::command_time;
use tfeco_core::{RequestBody, SignedBody};

use crate::config::ClockMode;
use crate::snapshotter::Snapshotter;
use tfeco_core::{AccountKey, Command, Genesis, Receipt, Rejection, State};
use tfeco_journal::{EntryRef, Journal, JournalError, NewEntry};

/// Journal metadata key holding the encoded [`Genesis`] (the journal's own genesis record).
pub const GENESIS_META_KEY: &str = tfeco_journal::GENESIS_KEY;

/// A signed request as it arrives: the body and its ed25519 signature (already verified by the caller).
#[derive(Clone, Debug)]
pub struct SignedRequest {
    /// The body as signed: its JSON text and what it says (signer, nonce, expiry, command).
    pub body: SignedBody,
    /// 64-byte signature over [`SignedBody::signing_bytes`].
    pub signature: Vec<u8>,
}

impl SignedRequest {
    /// Signs `command` for `key` with `nonce` and `expiry` (unix seconds).
    pub fn sign(key: &SigningKey, nonce: u64, expiry: i64, command: Command) -> Self {
        let body = RequestBody { signer: AccountKey(key.verifying_key().to_bytes()), nonce, expiry, command };
        let body = SignedBody::encode(body);
        let signature = key.sign(&body.signing_bytes()).to_bytes().to_vec();
        SignedRequest { body, signature }
    }
}

/// Why the replica cannot open or continue.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// The journal failed (I/O, corruption, or a mismatch with its anchor).
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal has entries but no genesis.
    #[error("the journal has entries but no genesis")]
    Genesis,
    /// The stored genesis is of an unknown or missing format version, does not decode, or has a parameter
    /// out of range.
    #[error("the journal's genesis: {0}")]
    GenesisFormat(#[from] tfeco_core::FormatError),
    /// A new genesis has a parameter out of range (nothing was written).
    #[error("the genesis is invalid: {0}")]
    InvalidGenesis(tfeco_core::params::InvalidParam),
    /// An entry's payload is of an unknown format version or does not decode as a signed request.
    #[error("entry {seq}: payload does not decode as a request ({reason})")]
    Decode {
        /// Sequence number.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// An entry's signature does not verify (only checked when asked).
    #[error("entry {seq}: signature does not verify")]
    Signature {
        /// Sequence number.
        seq: u64,
    },
    /// A journaled command was rejected on replay: the log does not match the rules.
    #[error("entry {seq}: command rejected on replay ({rejection})")]
    ReplayRejected {
        /// Sequence number.
        seq: u64,
        /// The rejection.
        rejection: Rejection,
    },
    /// An invariant does not hold after replay.
    #[error("invariant violated after replay: {0}")]
    Invariant(String),
    /// A snapshot or a guardian checkpoint disagrees with the replayed history at `seq`.
    #[error("entry {seq}: the {what} differs from the {by}'s")]
    Witness {
        /// The entry.
        seq: u64,
        /// What made the statement ("snapshot", "checkpoint").
        by: String,
        /// Which hash differs.
        what: &'static str,
    },
}

/// What opening (replaying) a journal found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// Entries replayed.
    pub entries: u64,
    /// State hash after replay.
    pub state_hash: String,
    /// The snapshot the replay started from (its seq), if any; `None`: replayed from the genesis.
    pub from_snapshot: Option<u64>,
}

/// Options for replay.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplayOptions {
    /// Also verify every entry's ed25519 signature (slower; `tfeco verify --signatures`).
    pub verify_signatures: bool,
}

/// One item of a write batch: a client's signed request, or a command the server signs itself with the
/// operator key at the moment it is applied (the clock's `Tick`).
#[derive(Clone, Debug)]
pub enum BatchItem {
    /// A verified client request.
    Signed(SignedRequest),
    /// A server-internal command, signed with the operator key when applied.
    Internal(Command),
}

/// Receives, after each durable append, the events of every entry of the batch in journal order:
/// `(seq, timestamp_ms, signer, events)` (the event log, [`crate::events`]); called under the writer's lock,
/// so it must only hand the batch on.
pub type EventSink = Box<dyn FnMut(Vec<(u64, i64, AccountKey, Vec<tfeco_core::Event>)>) + Send + Sync>;

/// The signer and events of each entry of the batch being applied.
type PendingEvents = Vec<(AccountKey, Vec<tfeco_core::Event>)>;

/// The result of one request in a batch.
pub type Outcome = Result<(u64, Receipt), Rejection>;

/// The state and its journal: the server's one replica of the economy.
pub struct Replica {
    state: State,
    journal: parking_lot::Mutex<Box<dyn Journal>>,
    last_timestamp_ms: i64,
    clock: ClockMode,
    operator_key: Option<SigningKey>,
    /// Set when a journal append failed: the in-memory state may then hold changes that are not durable,
    /// so it must not be served (the process stops and a restart replays the journal). Shared, so that
    /// request handlers can check it without taking the replica's lock ([`Replica::failure_flag`]).
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Writes snapshots in the background (a node on a data directory; none in tests on a memory journal).
    snapshotter: Option<Snapshotter>,
    /// Receives the events of each durable batch, with those of the batch being applied.
    event_sink: Option<(EventSink, PendingEvents)>,
    /// Group commits, append times and rejections are recorded here ([`crate::metrics`]).
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(snapshotter) = &mut self.snapshotter {
            snapshotter.wait();
        }
    }
}

impl Replica {
    /// Opens a replica on `journal`: writes `genesis` if the journal is new, otherwise replays it from its
    /// stored genesis (the `genesis` argument is then ignored). Fails closed on any inconsistency.
    pub fn open(
        mut journal: Box<dyn Journal>,
        genesis: impl FnOnce() -> Genesis,
        options: ReplayOptions,
    ) -> Result<(Replica, ReplayReport), ReplicaError> {
        let genesis = match journal.genesis()? {
            Some(bytes) => Genesis::decode(&bytes)?,
            None => {
                if journal.head().seq != 0 {
                    return Err(ReplicaError::Genesis);
                }
                let genesis = genesis();
                genesis.params.check().map_err(ReplicaError::InvalidGenesis)?;
                journal.set_genesis(&genesis.encode())?;
                genesis
            }
        };
        let state = replay_into(State::new(genesis), journal.as_ref(), options)?;
        Ok(Self::serve(journal, state, None))
    }

    /// Opens a replica on `journal` from `state`, the state after entry `seq` (a verified snapshot), and
    /// replays only the entries after it. Errors: as [`Replica::open`].
    pub fn resume(
        journal: Box<dyn Journal>,
        state: State,
        seq: u64,
        options: ReplayOptions,
    ) -> Result<(Replica, ReplayReport), ReplicaError> {
        let state = replay_from(state, journal.as_ref(), seq + 1, options)?;
        Ok(Self::serve(journal, state, Some(seq)))
    }

    fn serve(journal: Box<dyn Journal>, state: State, from_snapshot: Option<u64>) -> (Replica, ReplayReport) {
        let head = journal.head();
        let report = ReplayReport { entries: head.seq, state_hash: state.state_hash(), from_snapshot };
        (
            Replica {
                state,
                journal: parking_lot::Mutex::new(journal),
                last_timestamp_ms: head.timestamp_ms,
                clock: ClockMode::Wall,
                operator_key: None,
                failed: std::sync::Arc::default(),
                snapshotter: None,
                event_sink: None,
                metrics: std::sync::Arc::default(),
            },
            report,
        )
    }

    /// Writes snapshots of this replica's state with `snapshotter`, after each durable batch that makes one
    /// due.
    pub fn set_snapshotter(&mut self, snapshotter: Snapshotter) {
        self.snapshotter = Some(snapshotter);
    }

    /// Hands the events of every entry to `sink` after each durable batch ([`EventSink`]).
    pub fn set_event_sink(&mut self, sink: EventSink) {
        self.event_sink = Some((sink, Vec::new()));
    }

    /// Gives the replica the operator's signing key, for internal commands ([`BatchItem::Internal`]).
    pub fn set_operator_key(&mut self, key: SigningKey) {
        self.operator_key = Some(key);
    }

    /// Sets where command timestamps come from (decisions §2): in [`ClockMode::Wall`] (the default) each
    /// batch is stamped with the wall clock given to [`Replica::apply_batch`]; in [`ClockMode::Manual`] with
    /// the state's own (virtual) time, so a node whose operator drives time judges lock windows and
    /// expiries by that time.
    pub fn set_clock(&mut self, clock: ClockMode) {
        self.clock = clock;
    }

    /// Replays this replica's own journal from its stored genesis into a fresh state and returns that state's
    /// hash (it must equal the live hash: the determinism check of the demo and tests).
    pub fn replay_hash(&self) -> Result<String, ReplicaError> {
        let journal = self.journal.lock();
        let bytes = journal.genesis()?.ok_or(ReplicaError::Genesis)?;
        let genesis = Genesis::decode(&bytes)?;
        let state = replay_into(State::new(genesis), journal.as_ref(), ReplayOptions::default())?;
        Ok(state.state_hash())
    }

    /// The node's metrics, which this replica's batches record into (the registry `/metrics` serves).
    pub fn metrics(&self) -> &std::sync::Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// Marks the state as no longer servable (a failed append, or a halted follower): every request is then
    /// answered 503 ([`Replica::has_failed`]).
    pub(crate) fn mark_failed(&mut self) {
        self.failed.store(true, std::sync::atomic::Ordering::Release);
    }

    /// `true` after a failed journal append: the state must no longer be served.
    pub fn has_failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The flag behind [`Replica::has_failed`], readable without the replica's lock (the writer holds that
    /// lock while it applies and makes a batch durable, and a request must not wait for it to be refused).
    pub fn failure_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.failed.clone()
    }

    /// The current state (durable: every change in it is journaled).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Sequence number of the last journaled entry.
    pub fn head_seq(&self) -> u64 {
        self.journal.lock().head().seq
    }

    /// Applies a batch in order, journals the accepted ones in one durable append, and returns each
    /// request's outcome (with its sequence number when accepted). On a journal error the server must stop:
    /// the in-memory state is ahead of the durable log, so the caller exits and a restart replays.
    ///
    /// Every entry of the batch is stamped with one timestamp (never decreasing); each command is applied at
    /// [`command_time`] of it, exactly as replay will.
    pub fn apply_batch(&mut self, batch: &[BatchItem], now_ms: i64) -> Result<Vec<Outcome>, JournalError> {
        let clock_ms = match self.clock {
            ClockMode::Wall => now_ms,
            ClockMode::Manual => self.state.now().saturating_mul(1000),
        };
        let timestamp_ms = clock_ms.max(self.last_timestamp_ms);
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut entries = Vec::with_capacity(batch.len().saturating_add(1));
        let first_seq = self.journal.get_mut().head().seq + 1;
        self.clear_due_batches(timestamp_ms, &mut entries);
        for item in batch {
            let signed;
            let request = match item {
                BatchItem::Signed(request) => request,
                BatchItem::Internal(command) => match self.sign_internal(command.clone(), timestamp_ms) {
                    Some(request) => {
                        signed = request;
                        &signed
                    }
                    None => {
                        outcomes.push(Err(Rejection::NotAuthorized { role: tfeco_core::Role::Operator }));
                        continue;
                    }
                },
            };
            let seq = first_seq + entries.len() as u64;
            outcomes.push(self.apply_one(request, timestamp_ms, &mut entries).map(|receipt| (seq, receipt)));
        }
        for rejection in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
            self.metrics.count_rejection(rejection.code().as_str());
        }
        if !entries.is_empty() {
            let started = std::time::Instant::now();
            let appended = self.journal.get_mut().append(&entries);
            self.metrics.observe_commit(entries.len(), started.elapsed());
            let head = match appended {
                Ok(head) => head,
                Err(error) => {
                    self.mark_failed();
                    return Err(error);
                }
            };
            self.last_timestamp_ms = timestamp_ms;
            if let Some((sink, pending)) = &mut self.event_sink {
                let first = head.seq + 1 - pending.len() as u64;
                let seqs = first..;
                sink(
                    seqs.zip(pending.drain(..))
                        .map(|(seq, (signer, events))| (seq, timestamp_ms, signer, events))
                        .collect(),
                );
            }
            if let Some(snapshotter) = &mut self.snapshotter {
                snapshotter.after_commit(&self.state, head, now_ms);
            }
        }
        Ok(outcomes)
    }
}

impl Replica {
    /// Applies one signed request at the batch's `timestamp_ms` ([`command_time`]); when accepted, adds its
    /// journal entry to `entries`.
    fn apply_one(
        &mut self,
        request: &SignedRequest,
        timestamp_ms: i64,
        entries: &mut Vec<NewEntry>,
    ) -> Result<Receipt, Rejection> {
        let envelope = request.body.body().clone().into_envelope();
        let at = command_time(timestamp_ms, self.state.now());
        let receipt = self.state.apply_at(&envelope, at)?;
        if let Some((_, pending)) = &mut self.event_sink {
            pending.push((envelope.signer, receipt.clone()));
        }
        entries.push(NewEntry {
            timestamp_ms,
            signer: envelope.signer.0,
            payload: request.body.to_payload(),
            signature: request.signature.clone(),
        });
        Ok(receipt)
    }

    /// With the wall clock, an exchange batch closes at its scheduled time whatever the clock task's pace
    /// (decisions §13): when a batch that can trade is due by this batch's time, the operator's `Tick` to
    /// that time is journaled first (in steps of at most `max_tick_advance_s`), so no command of this batch
    /// joins, amends or cancels in a batch that has already closed. Without the operator key nothing is
    /// injected (the core then treats the overdue batch as locked).
    fn clear_due_batches(&mut self, timestamp_ms: i64, entries: &mut Vec<NewEntry>) {
        if self.clock != ClockMode::Wall || self.operator_key.is_none() {
            return;
        }
        let at = command_time(timestamp_ms, self.state.now());
        while self.state.next_exchange_clear().is_some_and(|due| due <= at) {
            let step = self.state.now().saturating_add(self.state.params().max_tick_advance_s.max(1));
            let Some(tick) = self.sign_internal(Command::Tick { now: at.min(step) }, timestamp_ms) else {
                return;
            };
            if let Err(rejection) = self.apply_one(&tick, timestamp_ms, entries) {
                tracing::warn!(%rejection, "the tick that clears a due exchange batch was refused");
                return;
            }
        }
    }

    fn sign_internal(&self, command: Command, now_ms: i64) -> Option<SignedRequest> {
        let key = self.operator_key.as_ref()?;
        let operator = AccountKey(key.verifying_key().to_bytes());
        let nonce = self.state.ledger().account(&operator).map_or(0, |a| a.last_nonce) + 1;
        Some(SignedRequest::sign(key, nonce, now_ms / 1000 + 60, command))
    }
}

/// Replays every entry of `journal` into `state`: decode, optionally verify the signature, apply (a
/// rejection is corruption), then check the invariants once at the end.
pub fn replay_into(
    state: State,
    journal: &dyn Journal,
    options: ReplayOptions,
) -> Result<State, ReplicaError> {
    replay_from(state, journal, 1, options)
}

/// Replays the entries of `journal` from `from_seq` into `state` (the state after entry `from_seq - 1`),
/// as [`replay_into`] does from the start.
pub fn replay_from(
    state: State,
    journal: &dyn Journal,
    from_seq: u64,
    options: ReplayOptions,
) -> Result<State, ReplicaError> {
    replay_observed(state, journal, from_seq, options, &mut |_, _, _| Ok(()))
}

/// A statement about the history that a replay can check as it passes `seq`: the hash of journal entry
/// `seq` and the state hash after it. Snapshots and guardian checkpoints are witnesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The entry.
    pub seq: u64,
    /// Its hash in the journal.
    pub journal_hash: tfeco_journal::EntryHash,
    /// The state hash after it (hex).
    pub state_hash: String,
    /// What makes the statement (for messages), e.g. "snapshot" or "checkpoint".
    pub source: String,
}

/// Replays `journal` from its first entry into `state` (the genesis state) and checks every witness with a
/// seq it passes (witnesses beyond the head are not checked). Returns the state and how many witnesses
/// were checked. Errors: as [`replay_into`], and [`ReplicaError::Witness`] at the first witness that
/// disagrees.
pub fn replay_witnessed(
    state: State,
    journal: &dyn Journal,
    options: ReplayOptions,
    witnesses: &[Witness],
) -> Result<(State, usize), ReplicaError> {
    let mut checked = 0;
    let mut observe = |seq: u64, hash: &tfeco_journal::EntryHash, state: &State| {
        for witness in witnesses.iter().filter(|w| w.seq == seq) {
            let what = if witness.journal_hash != *hash {
                "journal entry hash"
            } else if witness.state_hash != state.state_hash() {
                "state hash"
            } else {
                checked += 1;
                continue;
            };
            return Err(ReplicaError::Witness { seq, by: witness.source.clone(), what });
        }
        Ok(())
    };
    let state = replay_observed(state, journal, 1, options, &mut observe)?;
    Ok((state, checked))
}

/// Decodes and applies one journal entry to `state`, exactly as the live node applied it.
fn apply_entry(state: &mut State, entry: &EntryRef<'_>, options: ReplayOptions) -> Result<(), ReplicaError> {
    apply_entry_events(state, entry, options).map(|_| ())
}

/// [`apply_entry`], returning the entry's events (a follower hands them to its event log).
fn apply_entry_events(
    state: &mut State,
    entry: &EntryRef<'_>,
    options: ReplayOptions,
) -> Result<Receipt, ReplicaError> {
    let body = SignedBody::from_payload(entry.payload).map_err(|error| {
        let reason = match error {
            tfeco_core::request::RequestError::UnknownFormat(_) => "unknown payload format",
            tfeco_core::request::RequestError::RetiredFormat(1) => {
                "payload format 1, written by the first release under rules that changed since: \
                 replay it with that release"
            }
            tfeco_core::request::RequestError::RetiredFormat(_) => {
                "payload format 2, signed under the retired postcard scheme v1: replay it with a release \
                 before JSON signing v2"
            }
            _ => "not a signed request",
        };
        ReplicaError::Decode { seq: entry.seq, reason }
    })?;
    if body.body().signer.0 != *entry.signer {
        return Err(ReplicaError::Decode { seq: entry.seq, reason: "the signer differs from the entry's" });
    }
    if options.verify_signatures {
        body.verify(entry.signature).map_err(|_| ReplicaError::Signature { seq: entry.seq })?;
    }
    let envelope = body.into_envelope();
    state
        .apply_at(&envelope, command_time(entry.timestamp_ms, state.now()))
        .map_err(|rejection| ReplicaError::ReplayRejected { seq: entry.seq, rejection })
}

/// Replays from `from_seq`, calling `observe(seq, entry hash, state after it)` after each entry; then
/// checks the invariants once.
fn replay_observed(
    mut state: State,
    journal: &dyn Journal,
    from_seq: u64,
    options: ReplayOptions,
    observe: &mut dyn FnMut(u64, &tfeco_journal::EntryHash, &State) -> Result<(), ReplicaError>,
) -> Result<State, ReplicaError> {
    let mut failure: Option<ReplicaError> = None;
    let mut visit = |entry: EntryRef<'_>| -> Result<(), JournalError> {
        apply_entry(&mut state, &entry, options)
            .and_then(|()| observe(entry.seq, entry.hash, &state))
            .map_err(|e| {
                failure = Some(e);
                JournalError::Stopped
            })
    };
    let result = journal.replay(from_seq, &mut visit);
    if let Some(error) = failure {
        return Err(error);
    }
    result?;
    state.check_invariants().map_err(ReplicaError::Invariant)?;
    Ok(state)
}

#[path = "replica_read.rs"]
mod read;

#[path = "replica_follow.rs"]
mod follow;

#[cfg(test)]
#[path = "replica_tests.rs"]
mod tests;
