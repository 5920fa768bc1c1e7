//! The simulator's agents and the world they act in: one in-process [`tfeco_core::State`] (through
//! [`CoreDriver`]), the scenario, the run's seeded generator, and every agent's own memory (keys, nodes,
//! leases, positions). Agents act only through [`Command`]s; a command the core refuses is counted by kind
//! and rejection code (never a panic, never silently dropped). Keys are synthetic
//! ([`crate::keys::synthetic_account`], role byte below), so no signature is made or checked.
//!
//! - [`guardians`]: oracle prices, attested deposits, minting reports verified and signed;
//! - [`farmers`]: farms and nodes by catalogue model, slice prices by strategy, uptime reports, Pool 2
//!   conversions;
//! - [`users`]: arrivals, entry by TFT or fiat, leases within a budget, churn;
//! - [`exit`]: holders' positions, the exit pool's funding, sealed exit bids.

pub(super) mod exit;
pub(super) mod farmers;
pub(super) mod guardians;
pub(super) mod users;

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use tfeco_core::{AccountKey, Command, Event, Genesis, LeaseId, NodeId, NodeModel, PositionId, State};
use tfeco_money::{Amount, Cc, Price};

use super::scenario::Scenario;
use crate::driver::CoreDriver;
use crate::keys::synthetic_account;
use crate::{Result, SimError};

/// Role bytes of the synthetic keys.
pub(super) mod role {
    /// The operator (ticks, fiat payment key).
    pub(crate) const OPERATOR: u8 = 0;
    /// Guardians.
    pub(crate) const GUARDIAN: u8 = 1;
    /// Farmers (farm owners).
    pub(crate) const FARMER: u8 = 2;
    /// Nodes (their uptime report keys).
    pub(crate) const NODE: u8 = 3;
    /// Users (tenants).
    pub(crate) const USER: u8 = 4;
    /// Exit-pool holders.
    pub(crate) const HOLDER: u8 = 5;
}

/// The per-role tables of [`key`].
fn key_tables() -> &'static [std::sync::RwLock<Vec<AccountKey>>] {
    use std::sync::{OnceLock, RwLock};
    static TABLES: OnceLock<Vec<RwLock<Vec<AccountKey>>>> = OnceLock::new();
    TABLES.get_or_init(|| (0..=role::HOLDER).map(|_| RwLock::new(Vec::new())).collect())
}

/// Derives the keys of agents `0..count` of `role` not derived yet, on every core (a large population at
/// the start of a run).
pub(super) fn prewarm_keys(role: u8, count: u64) {
    let Some(table) = key_tables().get(usize::from(role)) else { return };
    let have = table.read().map_or(0, |keys| keys.len() as u64);
    if have >= count {
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let chunk = (count - have).div_ceil(threads).max(1);
    let parts: Vec<Vec<AccountKey>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (from, to) = ((have + t * chunk).min(count), (have + (t + 1) * chunk).min(count));
                scope.spawn(move || (from..to).map(|i| synthetic_account(role, i)).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    if let Ok(mut keys) = table.write() {
        if keys.len() as u64 == have {
            keys.extend(parts.into_iter().flatten());
        }
    }
}

/// The synthetic key of agent `index` of `role`. Deriving one is an ed25519 scalar multiplication (tens of
/// microseconds), and every run of a process (Monte Carlo runs, sweep arms) uses the same keys, so they are
/// derived once per process and shared (a lock-protected table per role, extended on demand).
pub(super) fn key(role: u8, index: u64) -> AccountKey {
    let (Some(table), Ok(i)) = (key_tables().get(usize::from(role)), usize::try_from(index)) else {
        return synthetic_account(role, index);
    };
    if let Some(key) = table.read().ok().and_then(|keys| keys.get(i).copied()) {
        return key;
    }
    let Ok(mut keys) = table.write() else { return synthetic_account(role, index) };
    while keys.len() <= i {
        let next = keys.len() as u64;
        keys.push(synthetic_account(role, next));
    }
    keys[i]
}

/// One day, seconds.
pub(super) const DAY: i64 = 86_400;
/// A simulated month: 30 days (the billing month, 720 h).
pub(super) const MONTH: i64 = 30 * DAY;

/// A farmer: its key and farm.
pub(super) struct FarmerAgent {
    pub(crate) key: AccountKey,
    pub(crate) farm: tfeco_core::FarmId,
}

/// A node: its id, report key, owner, model (index in [`World::models`]), boot time and last report.
pub(super) struct NodeAgent {
    pub(crate) id: NodeId,
    pub(crate) key: AccountKey,
    pub(crate) farmer: usize,
    pub(crate) model: usize,
    pub(crate) boot: i64,
    pub(crate) last_report: i64,
}

/// A user: key, how it enters, its monthly budget (CC units), its open leases and their monthly cost.
pub(super) struct UserAgent {
    pub(crate) key: AccountKey,
    pub(crate) fiat: bool,
    pub(crate) budget: i128,
    pub(crate) active: bool,
    pub(crate) leases: Vec<(LeaseId, i128)>,
    pub(crate) topups: u32,
}

/// An exit position and who holds it.
pub(super) struct PositionHolder {
    pub(crate) key: AccountKey,
    pub(crate) position: PositionId,
}

/// What happened during the current month (reset at its start): the flows the metrics report.
#[derive(Default)]
pub(super) struct MonthFlows {
    /// Farmer revenue CC (after the split and pool fees) by model index.
    pub(crate) farmer_cc: Vec<i128>,
    /// TFT minted to nodes by model index.
    pub(crate) reward_tft: Vec<i128>,
    /// Leases opened.
    pub(crate) leases_opened: u64,
    /// Lease slices users wanted but found no node for.
    pub(crate) unmet_slices: u64,
    /// Exit bids submitted.
    pub(crate) exit_bids: u64,
}

/// Commands applied and refused.
#[derive(Default)]
pub(super) struct Tally {
    pub(crate) applied: u64,
    /// Refusals by `command_kind/rejection_code`.
    pub(crate) rejected: BTreeMap<String, u64>,
}

/// The genesis of a scenario's economy: the default genesis at the scenario's start, its operator and
/// guardians (synthetic keys), and its parameters with the scenario's overrides, in development mode. Errors: an override the
/// parameters refuse ([`SimError::Scenario`]).
pub(crate) fn genesis_of(scenario: &Scenario) -> Result<Genesis> {
    let operator = key(role::OPERATOR, 0);
    let guardians: Vec<AccountKey> =
        (0..scenario.guardians).map(|g| key(role::GUARDIAN, u64::from(g))).collect();
    let mut genesis = Genesis::tfgrid4_2025(operator, scenario.start);
    genesis.params = scenario.params(operator, &guardians)?;
    // The agents' keys have public seeds: a simulated economy is a development one (decisions §12), which
    // also lets a node open it with fewer than `min_guardians` guardians (`tfeco demo --scenario`).
    genesis.params.dev_mode = true;
    Ok(genesis)
}

/// The world of one run.
pub(super) struct World<'s> {
    pub(crate) scenario: &'s Scenario,
    pub(crate) driver: CoreDriver,
    pub(crate) rng: StdRng,
    pub(crate) operator: AccountKey,
    pub(crate) guardians: Vec<AccountKey>,
    /// Signatures needed (guardian threshold; also the oracle quorum).
    pub(crate) quorum: usize,
    /// The scenario's models (catalogue records), in the order of `farmers.models`.
    pub(crate) models: Vec<NodeModel>,
    /// Gold and TFT price of each month (index = month - 1).
    pub(crate) gold: Vec<Price>,
    pub(crate) tft: Vec<Price>,
    /// The month being played (1-based).
    pub(crate) month: u32,
    pub(crate) farmers: Vec<FarmerAgent>,
    pub(crate) nodes: Vec<NodeAgent>,
    /// Node id -> index in `nodes`.
    pub(crate) node_index: BTreeMap<NodeId, usize>,
    pub(crate) users: Vec<UserAgent>,
    pub(crate) holders: Vec<PositionHolder>,
    pub(crate) flows: MonthFlows,
    pub(crate) tally: Tally,
    /// The exit round the holders last bid in.
    pub(crate) last_bid_round: Option<tfeco_core::RoundId>,
    /// Counter of external ids (deposits, payments).
    pub(crate) next_external_id: u64,
}

impl<'s> World<'s> {
    /// A fresh world: the genesis with the scenario's parameters, its guardians, operator and models.
    pub(crate) fn new(
        scenario: &'s Scenario,
        rng: StdRng,
        gold: Vec<Price>,
        tft: Vec<Price>,
    ) -> Result<Self> {
        let operator = key(role::OPERATOR, 0);
        let guardians: Vec<AccountKey> =
            (0..scenario.guardians).map(|g| key(role::GUARDIAN, u64::from(g))).collect();
        let genesis = genesis_of(scenario)?;
        let params = &genesis.params;
        let quorum = params.guardian_threshold().max(params.oracle_quorum()) as usize;
        let catalogue = genesis.catalogue.clone();
        let models = scenario
            .farmers
            .models
            .iter()
            .map(|m| {
                catalogue.iter().find(|c| c.name == m.name).cloned().ok_or_else(|| {
                    SimError::Scenario(format!("farmers.models: {:?} is not in the catalogue", m.name))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n_models = models.len();
        Ok(World {
            scenario,
            driver: CoreDriver::new(genesis),
            rng,
            operator,
            guardians,
            quorum,
            models,
            gold,
            tft,
            month: 1,
            farmers: Vec::new(),
            nodes: Vec::new(),
            node_index: BTreeMap::new(),
            users: Vec::new(),
            holders: Vec::new(),
            flows: MonthFlows {
                farmer_cc: vec![0; n_models],
                reward_tft: vec![0; n_models],
                ..MonthFlows::default()
            },
            tally: Tally::default(),
            last_bid_round: None,
            next_external_id: 0,
        })
    }

    /// The state, to read.
    pub(crate) fn state(&self) -> &State {
        self.driver.state()
    }

    /// The state's time.
    pub(crate) fn now(&self) -> i64 {
        self.state().now()
    }

    /// A fresh external id (`{prefix}-{n}`).
    pub(crate) fn external_id(&mut self, prefix: &str) -> String {
        self.next_external_id += 1;
        format!("{prefix}-{}", self.next_external_id)
    }

    /// Applies `command` signed by `signer`; returns its events, or `None` when the core refused it (counted
    /// by command kind and rejection code). Lease charges among the events are added to the month's farmer
    /// income by model.
    pub(crate) fn submit(&mut self, signer: AccountKey, command: Command) -> Option<Vec<Event>> {
        let kind = command.kind();
        match self.driver.try_apply(signer, command) {
            Ok(events) => {
                self.tally.applied += 1;
                self.record_charges(&events);
                Some(events)
            }
            Err(rejection) => {
                let key = format!("{kind}/{}", rejection.code().as_str());
                *self.tally.rejected.entry(key).or_default() += 1;
                None
            }
        }
    }

    /// Adds each `LeaseCharged` farmer share to its node's model.
    fn record_charges(&mut self, events: &[Event]) {
        for event in events {
            let Event::LeaseCharged { lease_id, farmer, .. } = event else { continue };
            let state = self.driver.state();
            let Some(node) = state.capacity().leases().get(lease_id).map(|l| l.node_id) else { continue };
            if let Some(model) = self.node_index.get(&node).map(|i| self.nodes[*i].model) {
                self.flows.farmer_cc[model] += farmer.units();
            }
        }
    }

    /// The operator's `Tick` to `now` (skipped when `now` is not after the state's time).
    pub(crate) fn tick(&mut self, now: i64) {
        if now > self.now() {
            self.submit(self.operator, Command::Tick { now });
        }
    }

    /// An account's CC balance (0 when unknown).
    pub(crate) fn cc_balance(&self, key: &AccountKey) -> Amount<Cc> {
        let balance =
            self.state().ledger().account(key).map_or(0, |a| a.balances[tfeco_money::Asset::Cc.index()]);
        Amount::from_units(balance)
    }

    /// The events' first id matching `pick`.
    pub(crate) fn find<T>(events: &[Event], pick: impl Fn(&Event) -> Option<T>) -> Option<T> {
        events.iter().find_map(pick)
    }
}
