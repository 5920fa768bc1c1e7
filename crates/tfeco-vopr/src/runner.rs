//! One simulated run: a node (the real [`Replica`] on the real anchored journal code over the simulated
//! disk) driven in one thread by a seeded scheduler with simulated time, fed by the simulated clients,
//! crashed and restarted, and checked after every batch (see `docs/testing.md`, "Deterministic simulation").

use std::collections::BTreeMap;

use tfeco_core::{AccountKey, Command, Envelope, Genesis, SignedBody, State};
use tfeco_journal::anchor::DATADIR_ID_KEY;
use tfeco_journal::{open_anchored_with, AnchorFile, AnchoredJournal, Entry, Head, Journal};
use tfeco_server::datadir::resume_from_snapshots;
use tfeco_server::replica::{BatchItem, Outcome, ReplayOptions, Replica};
use tfeco_server::snapshots;
use tfeco_server::ClockMode;

use crate::clients::{front_door, Clients, Path, WEAK_KEY};
use crate::disk::{Disk, FaultRates, SharedDisk, SimAnchorStore, SimSnapshotStore};
use crate::journal::SimJournal;
use crate::model::{Model, Mutation, Prediction};
use crate::rng::Rng;
use crate::script::{is_scenario_seed, Script};

/// The simulated start time (unix seconds): 2025-11-01.
const START: i64 = 1_761_955_200;
/// The front door's largest expiry ahead (the server's default).
const MAX_EXPIRY_S: i64 = 3_600;

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The seed: it fixes everything.
    pub seed: u64,
    /// Commands to submit (the run ends after the batch that reaches it).
    pub commands: u64,
    /// Fault rates; `None`: drawn from the seed.
    pub rates: Option<FaultRates>,
    /// Test hook: run against a deliberately wrong reference model.
    pub mutate_model: Option<Mutation>,
    /// Record restarts and boots in [`Report::trace`] (`VOPR_TRACE=1` in the CLI).
    pub trace: bool,
}

/// What a run did and found; printed as JSON by the CLI.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Commands submitted (through the front door or not).
    pub commands: u64,
    /// Commands the node accepted and acknowledged.
    pub acknowledged: u64,
    /// Commands the node rejected (and the front door refused).
    pub rejected: u64,
    /// Group commits acknowledged.
    pub batches: u64,
    /// Process crashes (at an I/O point, after a commit before its answer, or idle).
    pub crashes: u64,
    /// Restarts (after a crash or a storage failure).
    pub restarts: u64,
    /// Openings that refused a damaged journal with a typed error (then the clean copy was restored).
    pub refusals: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// What the boots did: commits kept or dropped beyond the anchor, resumed from a snapshot or replayed
    /// from the genesis.
    pub recoveries: BTreeMap<String, u64>,
    /// Attacks the front door refused, by kind.
    pub attacks_refused: BTreeMap<String, u64>,
    /// The node's rejections, by code.
    pub rejections: BTreeMap<String, u64>,
    /// Scenario seeds: the scenario's commands acknowledged by the last node (`None`: a model seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<usize>,
    /// Scenario seeds: times the whole scenario was played, each on a new node.
    #[serde(skip_serializing_if = "is_zero")]
    pub rounds: u32,
    /// The lease billing the reference model did and the node matched (acknowledged commands): leases
    /// `opened`, periods `charges`, `graces` started, leases `resumes`d, leases `closed`.
    pub leases: BTreeMap<String, u64>,
    /// Everything that went wrong; empty for a passing run.
    pub violations: Vec<String>,
    /// The node's state hash at the end.
    pub state_hash: String,
    /// The journal's head seq at the end.
    pub head_seq: u64,
    /// Restarts and boots, when [`Config::trace`] is on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
}

/// The node and what the simulator knows about it.
struct Sim {
    config: Config,
    disk: SharedDisk,
    genesis: Genesis,
    clients: Clients,
    /// The reference model (model seeds), or `None` (scenario seeds).
    model: Option<Model>,
    /// The scripted scenario of every command kind (scenario seeds, [`crate::script`]).
    script: Option<Script>,
    sched: Rng,
    rates: FaultRates,
    replica: Option<Replica>,
    now_ms: i64,
    /// The last acknowledged head, and the state hash after it when it was computed.
    acked: Head,
    acked_state: Option<(u64, String)>,
    /// The acknowledged seq of the last snapshot written.
    last_snapshot: u64,
    report: Report,
}

/// Acknowledged entries between snapshots.
const SNAPSHOT_EVERY: u64 = 250;

/// Snapshots kept (the node's `prune`).
const SNAPSHOTS_KEPT: usize = 2;

/// `true` when `config` plays the scenario of every command kind ([`crate::script`]) rather than the
/// simulated clients against the reference model.
fn plays_scenario(config: &Config) -> bool {
    is_scenario_seed(config.seed) && config.mutate_model.is_none()
}

/// The fault rates a run draws from its seed (what `rates: None` runs with); a scenario is short, so its
/// seeds see ten times the faults.
pub fn drawn_rates(config: &Config) -> FaultRates {
    let rates = FaultRates::for_seed(&mut Rng::derive(config.seed, 4));
    if plays_scenario(config) {
        rates.scaled(10)
    } else {
        rates
    }
}

/// Runs one seed and returns its report.
pub fn run(config: &Config) -> Report {
    let rates = config.rates.unwrap_or_else(|| drawn_rates(config));
    let clients = Clients::new(config.seed);
    let operator = clients.cast().accounts[0];
    let script = plays_scenario(config).then(Script::every_command_kind);
    let genesis = match &script {
        Some(script) => script.genesis.clone(),
        None => Genesis::tfgrid4_2025(AccountKey(operator), START),
    };
    let model = script.is_none().then(|| {
        let mut model = Model::new(&genesis, &[WEAK_KEY]);
        model.set_mutation(config.mutate_model);
        model
    });
    let mut sim = Sim {
        config: config.clone(),
        disk: Disk::new(FaultRates::NONE, Rng::derive(config.seed, 1)),
        genesis,
        clients,
        model,
        script,
        sched: Rng::derive(config.seed, 3),
        rates,
        replica: None,
        now_ms: START * 1000,
        acked: Head::EMPTY,
        acked_state: None,
        last_snapshot: 0,
        report: Report { seed: config.seed, ..Report::default() },
    };
    if let Err(error) = sim.create() {
        sim.report.violations.push(format!("creating the node failed: {error}"));
        return sim.report;
    }
    sim.disk.lock().rates = rates;
    while sim.report.commands < config.commands && sim.report.violations.is_empty() {
        if sim.script.as_ref().is_some_and(Script::done) {
            // A scenario seed plays the scenario again on a new node until its commands are used.
            if let Err(error) = sim.new_node() {
                sim.report.violations.push(format!("creating the node failed: {error}"));
            }
            continue;
        }
        sim.step();
    }
    sim.finish()
}

impl Sim {
    /// Creates the node's files as `tfeco init` does: the journal with its genesis and data-directory id,
    /// then the anchor, then the replica.
    fn create(&mut self) -> Result<(), String> {
        let (mut journal, _) = SimJournal::open(self.disk.clone()).map_err(|e| e.to_string())?;
        journal.set_genesis(&self.genesis.encode()).map_err(|e| e.to_string())?;
        journal
            .put_meta(DATADIR_ID_KEY, &self.config.seed.to_le_bytes().repeat(2))
            .map_err(|e| e.to_string())?;
        let store = Box::new(SimAnchorStore(self.disk.clone()));
        let id: [u8; 16] = self.config.seed.to_le_bytes().repeat(2).try_into().expect("16 bytes");
        let anchor = AnchorFile::create_in(store, "sim/anchor".into(), id, journal.root(), journal.head())
            .map_err(|e| e.to_string())?;
        self.acked = journal.head();
        self.disk.lock().journal_head = journal.head();
        let anchored = AnchoredJournal::new(journal, anchor);
        let (mut replica, report) =
            Replica::open(Box::new(anchored), || self.genesis.clone(), ReplayOptions::default())
                .map_err(|e| e.to_string())?;
        self.configure(&mut replica);
        self.acked_state = Some((0, report.state_hash));
        self.replica = Some(replica);
        Ok(())
    }

    /// What `tfeco serve` sets on a new replica: the operator's key (for its internal ticks); the
    /// scenario, played as the in-memory core played it, runs with a manual clock (no automatic ticks).
    fn configure(&self, replica: &mut Replica) {
        if self.script.is_some() {
            replica.set_clock(ClockMode::Manual);
        } else {
            replica.set_operator_key(self.clients.cast().operator().clone());
        }
    }

    fn violation(&mut self, what: String) {
        violation(&mut self.report, what);
    }

    /// One scheduler step: time passes (0 to 3 s; now and then a quiet stretch of hours or days, so that
    /// leases see many periods, grace and expiry), maybe a bit flips or the node crashes idle, then one
    /// batch.
    fn step(&mut self) {
        self.now_ms += self.sched.below(3_000) as i64;
        if self.sched.chance(25_000) {
            self.now_ms += (1 + self.sched.below(6 * 3_600)) as i64 * 1_000;
        } else if self.sched.chance(3_000) {
            self.now_ms += (1 + self.sched.below(20 * 86_400)) as i64 * 1_000;
        }
        if self.rates.bit_flip > 0 && self.sched.chance(self.rates.bit_flip) {
            self.disk.lock().flip_bit();
        }
        if self.sched.chance(self.rates.crash_before_sync / 4) {
            self.count_fault("crash_idle");
            self.report.crashes += 1;
            let power = self.sched.chance(self.rates.power_loss);
            self.restart(power, &[]);
            return;
        }
        let (items, predictions, model) = self.build_batch();
        if items.is_empty() {
            return;
        }
        let replica = self.replica.as_mut().expect("a running node");
        match replica.apply_batch(&items, self.now_ms) {
            Ok(outcomes) if self.sched.chance(self.rates.crash_in_anchor) => {
                // The batch is durable but the process dies before answering anyone.
                drop(outcomes);
                self.trace(|| format!("batch of {}: durable, the node dies before answering", items.len()));
                self.count_fault("crash_after_commit");
                self.report.crashes += 1;
                let power = self.sched.chance(self.rates.power_loss);
                self.restart(power, &items);
            }
            Ok(outcomes) => {
                if model.is_some() {
                    self.model = model;
                }
                if let Some(script) = &mut self.script {
                    script.acknowledged(predictions.iter().filter(|p| **p == Prediction::Accept).count());
                }
                self.acknowledge(&items, &predictions, outcomes);
                self.snapshot();
            }
            Err(error) => {
                self.trace(|| format!("batch of {}: storage failure ({error})", items.len()));
                let crashed = self.disk.lock().crashed;
                let power = crashed && self.sched.chance(self.rates.power_loss);
                self.report.crashes += u64::from(crashed);
                self.restart(power, &items);
            }
        }
    }

    /// Adds a line to the history when tracing ([`Config::trace`]).
    fn trace(&mut self, line: impl FnOnce() -> String) {
        if self.config.trace {
            self.report.trace.push(line());
        }
    }

    fn count_recovery(&mut self, kind: &str) {
        *self.report.recoveries.entry(kind.to_owned()).or_insert(0) += 1;
    }

    fn count_fault(&mut self, kind: &str) {
        *self.report.faults.entry(kind.to_owned()).or_insert(0) += 1;
    }

    /// Builds a batch of 1 to 32 requests (the front door filters the signed ones), executing each on a
    /// copy of the model, which becomes the model once the batch is acknowledged.
    fn build_batch(&mut self) -> (Vec<BatchItem>, Vec<Prediction>, Option<Model>) {
        let size = if self.sched.chance(300_000) { 1 } else { 1 + self.sched.below(32) };
        if let Some(script) = &self.script {
            // The scenario's next commands, at their own time.
            let stranger = self.clients.cast().accounts[crate::clients::USERS + 1];
            let left = (self.config.commands - self.report.commands) as usize;
            let size = (1 + size as usize % 4).min(left);
            let (mut items, mut predictions, at_ms) = script.batch(&mut self.sched, size, stranger);
            items.truncate(size);
            predictions.truncate(size);
            self.now_ms = at_ms;
            self.report.commands += items.len() as u64;
            return (items, predictions, None);
        }
        let now_s = self.now_ms.div_euclid(1000);
        let mut scratch = self.model.clone().expect("a model seed");
        let (mut items, mut predictions) = (Vec::new(), Vec::new());
        self.clients.new_batch();
        let state = self.replica.as_ref().expect("a running node").state();
        while (items.len() as u64) < size && self.report.commands < self.config.commands {
            self.report.commands += 1;
            let generated = self.clients.next(&scratch, state, now_s);
            if let BatchItem::Signed(request) = &generated.item {
                if generated.path != Path::Trusted {
                    match (front_door(request, now_s, MAX_EXPIRY_S), generated.path) {
                        (Err(_), Path::Attack(kind)) => {
                            *self.report.attacks_refused.entry(kind.to_owned()).or_insert(0) += 1;
                            self.report.rejected += 1;
                            continue;
                        }
                        (Err(_), _) => {
                            self.report.rejected += 1;
                            continue;
                        }
                        (Ok(()), Path::Attack(kind)) => {
                            self.report
                                .violations
                                .push(format!("the front door let an attack through: {kind}"));
                            continue;
                        }
                        (Ok(()), _) => {}
                    }
                }
            }
            let prediction = scratch.execute(&envelope_of(&generated.item, Some(&scratch), self.operator()));
            items.push(generated.item);
            predictions.push(prediction);
        }
        (items, predictions, Some(scratch))
    }

    fn operator(&self) -> [u8; 32] {
        self.clients.cast().accounts[0]
    }

    /// The batch is durable: compare each outcome with the model's prediction (the model is already the
    /// copy that executed the batch), check the invariants and compare the state.
    fn acknowledge(&mut self, items: &[BatchItem], predictions: &[Prediction], outcomes: Vec<Outcome>) {
        let replica = self.replica.as_ref().expect("a running node");
        let state = replica.state();
        let mut problems = Vec::new();
        let operator = self.operator();
        for ((item, prediction), outcome) in items.iter().zip(predictions).zip(&outcomes) {
            let envelope = envelope_of(item, self.model.as_ref(), operator);
            match (prediction, outcome) {
                (Prediction::Accept, Ok(_)) | (Prediction::Refuse, Err(_)) => {}
                (_, _) => problems.push(format!(
                    "model predicted {:?} for {:?} (nonce {}), node said {:?}",
                    prediction,
                    envelope.command,
                    envelope.nonce,
                    outcome.as_ref().map(|_| ()).map_err(|r| r.code())
                )),
            }
            if self.config.trace {
                let what = match item {
                    BatchItem::Signed(r) => {
                        let body = r.body.body();
                        format!(
                            "{} by {} nonce {}",
                            body.command.kind(),
                            crate::model::short(&body.signer.0),
                            body.nonce
                        )
                    }
                    BatchItem::Internal(command) => format!("internal {}", command.kind()),
                };
                let result = outcome
                    .as_ref()
                    .map(|(seq, _)| format!("seq {seq}"))
                    .unwrap_or_else(|r| r.code().as_str().to_owned());
                self.report.trace.push(format!("  {what}: {result}"));
            }
            match outcome {
                Ok(_) => self.report.acknowledged += 1,
                Err(rejection) => {
                    self.report.rejected += 1;
                    *self.report.rejections.entry(rejection.code().as_str().to_owned()).or_insert(0) += 1;
                }
            }
        }
        self.report.batches += 1;
        self.acked = self.disk.lock().journal_head;
        // Hashing and the full invariant check cost O(state): one batch in 32 (chosen by the seed), and
        // after every restart. The model is compared after every batch.
        let full = self.sched.below(32) == 0;
        self.acked_state = if full { Some((self.acked.seq, state.state_hash())) } else { None };
        problems.extend(check_state(self.model.as_ref(), self.script.as_ref(), state, full));
        for problem in problems {
            self.violation(problem);
        }
    }

    /// Restarts the node (after a crash, with or without power loss, or a storage failure) and checks what
    /// it recovered. `in_flight`: the batch that was being committed (never acknowledged).
    fn restart(&mut self, power_loss: bool, in_flight: &[BatchItem]) {
        if self.config.trace {
            let faults = self.disk.lock().faults.clone();
            self.report.trace.push(format!(
                "restart: power loss {power_loss}, {} in flight, acked {}, faults {faults:?}",
                in_flight.len(),
                self.acked.seq
            ));
        }
        self.replica = None;
        self.report.restarts += 1;
        let mut power_loss = power_loss;
        for _ in 0..100 {
            self.disk.lock().restart(power_loss);
            power_loss = false;
            let errors_before = self.disk.lock().io_errors;
            let booted = self.boot();
            if self.config.trace {
                self.report.trace.push(match &booted {
                    Ok((_, extra)) => {
                        format!("  booted, {} entries kept after the acknowledged head", extra.len())
                    }
                    Err(Boot::Refused(e) | Boot::Violation(e)) => format!("  boot failed: {e}"),
                });
            }
            match booted {
                Ok((replica, extra)) => {
                    self.replica = Some(replica);
                    self.recovered(&extra, in_flight);
                    return;
                }
                Err(Boot::Violation(what)) => {
                    self.violation(what);
                    return;
                }
                Err(Boot::Refused(error)) => {
                    let mut disk = self.disk.lock();
                    if disk.crashed {
                        self.report.crashes += 1;
                        power_loss = self.sched.chance(self.rates.power_loss);
                        continue;
                    }
                    if disk.io_errors != errors_before {
                        // A storage failure while opening: the operator retries.
                        continue;
                    }
                    let damaged = disk.damaged;
                    disk.restore_clean();
                    drop(disk);
                    self.report.refusals += 1;
                    if !damaged {
                        self.violation(format!("an undamaged journal was refused: {error}"));
                        return;
                    }
                }
            }
        }
        self.violation("the node did not come back after 100 attempts".into());
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Records a broken guarantee in `report`.
fn violation(report: &mut Report, what: String) {
    report.violations.push(format!("after {} commands: {what}", report.commands));
}

/// Why a boot did not give a node.
enum Boot {
    /// Opening refused with a typed error (fine for a damaged journal).
    Refused(String),
    /// Opening succeeded but broke a guarantee.
    Violation(String),
}

impl Sim {
    /// Opens the node as `tfeco serve` does: the anchor, the journal, the anchor checks (the real
    /// `open_anchored_with`), then the replica's replay. Checks that the acknowledged head is there
    /// and unchanged, and returns the entries after it (from the commit in flight at the crash).
    fn boot(&mut self) -> Result<(Replica, Vec<Entry>), Boot> {
        let refused = |e: &dyn std::fmt::Display| Boot::Refused(e.to_string());
        let store = Box::new(SimAnchorStore(self.disk.clone()));
        let anchor = AnchorFile::open_in(store, "sim/anchor".into()).map_err(|e| refused(&e))?;
        let (journal, report) = SimJournal::open(self.disk.clone()).map_err(|e| refused(&e))?;
        let (anchored, open) = open_anchored_with(journal, report, anchor).map_err(|e| refused(&e))?;
        if open.unanchored > 0 {
            self.count_recovery("kept_unanchored_commit");
        }
        if open.dropped.is_some() {
            self.count_recovery("dropped_damaged_unacknowledged_commit");
        }
        let head = anchored.head();
        let double_fault = self.disk.lock().damage_events >= 2;
        if head.seq < self.acked.seq {
            let what = format!("shorter history: head {} but {} was acknowledged", head.seq, self.acked.seq);
            return Err(if double_fault { Boot::Refused(what) } else { Boot::Violation(what) });
        }
        match anchored.entry_hash(self.acked.seq) {
            Ok(Some(hash)) if hash == self.acked.hash => {}
            Ok(_) if double_fault => {
                return Err(Boot::Refused("acknowledged entry changed (two faults)".into()))
            }
            Ok(_) => return Err(Boot::Violation(format!("acknowledged entry {} changed", self.acked.seq))),
            Err(e) => return Err(refused(&e)),
        }
        let mut extra = Vec::new();
        anchored
            .replay(self.acked.seq + 1, &mut |e| {
                extra.push(e.to_entry());
                Ok(())
            })
            .map_err(|e| refused(&e))?;
        let (mut replica, _) = self.replay(anchored).map_err(|e| refused(&e))?;
        self.configure(&mut replica);
        Ok((replica, extra))
    }

    /// Replays the opened journal as `tfeco serve` does (`resume_from_snapshots`: refused when a valid
    /// snapshot is beyond the journal's head, else from the newest snapshot that agrees with the journal,
    /// else from the genesis) on the simulated snapshot folder; one boot in eight sees no snapshot, so
    /// that whole replays from the genesis run too.
    fn replay(
        &mut self,
        journal: AnchoredJournal<SimJournal>,
    ) -> Result<(Replica, tfeco_server::ReplayReport), tfeco_server::datadir::DataDirError> {
        let hidden = self.sched.below(8) == 0;
        let mut store = SimSnapshotStore { disk: self.disk.clone(), hidden };
        let genesis = self.genesis.clone();
        let newest = snapshots::list_in(&mut store).first().map(|(seq, _)| *seq);
        let opened = resume_from_snapshots(&mut store, journal, genesis, ReplayOptions::default())?;
        let from = opened.1.from_snapshot;
        self.count_recovery(if from.is_some() { "resumed_from_snapshot" } else { "replayed_from_genesis" });
        if newest.is_some() && from != newest {
            self.count_recovery("skipped_newest_snapshot");
        }
        Ok(opened)
    }

    /// Writes a snapshot of the acknowledged state every [`SNAPSHOT_EVERY`] entries and prunes the
    /// older ones, as the node's snapshotter does, with the real code on the simulated folder. A failed
    /// write is skipped (the node logs it and goes on); a crash restarts the node.
    fn snapshot(&mut self) {
        if self.last_snapshot + SNAPSHOT_EVERY > self.acked.seq || !self.report.violations.is_empty() {
            return;
        }
        let mut store = SimSnapshotStore { disk: self.disk.clone(), hidden: false };
        let state = self.replica.as_ref().expect("a running node").state();
        let head = (self.acked.seq, self.acked.hash, self.acked.timestamp_ms);
        let written = snapshots::write_in(&mut store, head, state)
            .and_then(|_| snapshots::prune_in(&mut store, SNAPSHOTS_KEPT));
        match written {
            Ok(_) => self.last_snapshot = self.acked.seq,
            Err(_) if self.disk.lock().crashed => {
                self.report.crashes += 1;
                let power = self.sched.chance(self.rates.power_loss);
                self.restart(power, &[]);
            }
            Err(_) => {}
        }
    }

    /// After a successful boot: the entries beyond the acknowledged head must come from the batch in
    /// flight, in order; the model takes them; without them the state must be the acknowledged one.
    fn recovered(&mut self, extra: &[Entry], in_flight: &[BatchItem]) {
        let replica = self.replica.as_ref().expect("booted");
        let state = replica.state();
        let mut pending = in_flight.iter();
        for entry in extra {
            let Ok(body) = SignedBody::from_payload(&entry.payload) else {
                self.report.violations.push(format!("entry {} does not decode", entry.seq));
                return;
            };
            let from_batch = pending.any(|item| match item {
                BatchItem::Signed(request) => request.body.to_payload() == entry.payload,
                BatchItem::Internal(_) => matches!(body.body().command, Command::Tick { .. }),
            });
            if !from_batch {
                let what = format!(
                    "entry {} after the acknowledged head {} was never submitted (a {} by {}, nonce {}; {} in \
                     flight, {} kept)",
                    entry.seq,
                    self.acked.seq,
                    body.body().command.kind(),
                    crate::model::short(&body.body().signer.0),
                    body.body().nonce,
                    in_flight.len(),
                    extra.len()
                );
                violation(&mut self.report, what);
                return;
            }
            let envelope = body.into_envelope();
            let refused = match &mut self.model {
                Some(model) => model.execute(&envelope) == Prediction::Refuse,
                None => false,
            };
            if let Some(script) = &mut self.script {
                script.acknowledged(1);
            }
            if refused {
                let what =
                    format!("kept entry {} is one the model refuses: {:?}", entry.seq, envelope.command);
                violation(&mut self.report, what);
                return;
            }
            self.report.acknowledged += 1;
        }
        let hash = state.state_hash();
        if let Some((seq, acked_hash)) = &self.acked_state {
            if extra.is_empty() && *seq == self.acked.seq && hash != *acked_hash {
                violation(&mut self.report, "the recovered state differs from the acknowledged one".into());
            }
        }
        if let Some(last) = extra.last() {
            self.acked = Head { seq: last.seq, hash: last.hash, timestamp_ms: last.timestamp_ms };
        }
        // The next batch that appends nothing must not move the acknowledged head back.
        self.disk.lock().journal_head = self.acked;
        self.acked_state = Some((self.acked.seq, hash));
        for problem in check_state(self.model.as_ref(), self.script.as_ref(), state, true) {
            violation(&mut self.report, problem);
        }
    }

    /// Scenario seeds: a new node on a new disk (the old one's faults are counted), the scenario from its
    /// start. The seed's random streams go on.
    fn new_node(&mut self) -> Result<(), String> {
        self.count_disk_faults();
        self.report.rounds += 1;
        let stream = 100 + u64::from(self.report.rounds);
        self.disk = Disk::new(FaultRates::NONE, Rng::derive(self.config.seed, stream));
        self.replica = None;
        self.acked = Head::EMPTY;
        self.acked_state = None;
        self.last_snapshot = 0;
        if let Some(script) = &mut self.script {
            script.restart();
        }
        self.create()?;
        self.disk.lock().rates = self.rates;
        Ok(())
    }

    fn count_disk_faults(&mut self) {
        let disk = self.disk.lock();
        for (kind, n) in &disk.faults {
            *self.report.faults.entry((*kind).to_owned()).or_insert(0) += n;
        }
    }

    fn finish(mut self) -> Report {
        self.count_disk_faults();
        if let Some(model) = &self.model {
            self.report.leases = model.lease_counts().iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
        }
        self.report.scenario = self.script.as_ref().map(Script::position);
        if let Some(replica) = &self.replica {
            self.report.state_hash = replica.state().state_hash();
            if let Err(e) = replica.state().check_invariants() {
                violation(&mut self.report, format!("invariant at the end: {e}"));
            }
            self.report.head_seq = replica.head_seq();
        }
        self.report
    }
}

/// The checks after every batch and restart: the model against the state, and (when `full`) every
/// invariant; the core itself checks conservation after every command, and every invariant after every
/// command in debug builds.
/// In a scenario seed, the state hash is compared with the fault-free core's at the script's position
/// after every batch and restart.
fn check_state(model: Option<&Model>, script: Option<&Script>, state: &State, full: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if full {
        problems.extend(state.check_invariants().err().map(|e| format!("invariant: {e}")));
    }
    if let Some(model) = model {
        problems.extend(model.compare(state, full).into_iter().map(|d| format!("model differs: {d}")));
    }
    if let Some(script) = script {
        let hash = state.state_hash();
        if hash != script.expected_hash() {
            problems.push(format!(
                "after {} scenario commands the state hash is {hash}, the fault-free core's {}",
                script.position(),
                script.expected_hash()
            ));
        }
    }
    problems
}

/// The envelope of a batch item: a signed request's own, or the operator's internal `Tick` with the nonce
/// the replica gives it when applying it (the operator's last nonce in `model`, plus one).
fn envelope_of(item: &BatchItem, model: Option<&Model>, operator: [u8; 32]) -> Envelope {
    match item {
        BatchItem::Signed(request) => request.body.body().clone().into_envelope(),
        BatchItem::Internal(command) => Envelope {
            signer: AccountKey(operator),
            nonce: model.and_then(|m| m.nonce(&operator)).unwrap_or(0) + 1,
            command: command.clone(),
        },
    }
}
