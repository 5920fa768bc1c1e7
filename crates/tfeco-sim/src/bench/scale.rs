//! The scale suite's economy: 1,000,000 funded accounts each holding one hourly lease on a catalogue node
//! (`Mini 3`, 25 slices, in farms of 1,000 nodes), built in process by [`State::apply_at`] (synthetic account
//! keys, the operator as the only guardian and oracle), and the one billing `Tick` that charges every open
//! lease's second period, timed. Resident memory (`VmRSS`, Linux) is read before and after adding the
//! accounts and before and after opening the leases; the keys are derived (on every core) before the first
//! reading, so the deltas are the state's growth. The binary then times the node's snapshot of the state
//! (`tfeco bench --suite scale`).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Map, Value};
use tfeco_core::State;
use tfeco_core::{
    AccountKey, Billing, Command, Envelope, Event, FarmId, Genesis, NodeId, NodeSpec, PriceFeed,
};
use tfeco_money::{Amount, Price};

use super::measure::{round3, Span};
use super::workload::GENESIS_TIME;
use crate::error::check;
use crate::keys::synthetic_account;
use crate::{Result, SimError};

/// The catalogue model every node is (the one with the most typical slices).
pub const NODE_MODEL: &str = "Mini 3";
/// Nodes per farm (and per farmer).
const NODES_PER_FARM: usize = 1_000;
/// 0.01 USD per TFT (10^-18 USD).
const TFT_USD_ATTO: u128 = 10_000_000_000_000_000;
/// Base units per whole token (7 decimals).
const UNIT: i128 = 10_000_000;
/// CC each tenant receives per lease it will hold (at least): far above two hourly periods of a `Mini 3`
/// slice.
const CC_PER_LEASE: i128 = UNIT;
/// Seconds after the openings at which prices are refreshed (an untimed `Tick` that charges nothing).
const REFRESH_AFTER_S: i64 = 1_800;

/// Workload sizes of the scale suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleSizes {
    /// Funded accounts (tenants).
    pub accounts: usize,
    /// Open hourly leases of one slice each (round-robin over the tenants).
    pub leases: usize,
}

impl ScaleSizes {
    /// 1,000,000 accounts and leases, or 10,000 with `quick`. Debug builds (where every command re-checks
    /// every invariant, O(state)) use 10,000, or 1,000 with `quick`.
    pub fn new(quick: bool) -> Self {
        let n = match (quick, cfg!(debug_assertions)) {
            (false, false) => 1_000_000,
            (true, false) | (false, true) => 10_000,
            (true, true) => 1_000,
        };
        ScaleSizes { accounts: n, leases: n }
    }
}

/// `VmRSS` of this process in bytes (Linux `/proc/self/status`), `None` elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resident bytes gained between two readings, per item (`None` when either reading is unknown).
fn per_item(before: Option<u64>, after: Option<u64>, items: usize) -> Option<f64> {
    let (before, after) = (before?, after?);
    Some(round3(after.saturating_sub(before) as f64 / items.max(1) as f64))
}

/// The state under construction and the next nonce of the operator and the farmers (a tenant's nonces are
/// known from its index, so the driver keeps no per-tenant map that would count as the state's memory).
struct Builder {
    state: State,
    operator: AccountKey,
    nonces: BTreeMap<AccountKey, u64>,
}

impl Builder {
    fn new() -> Self {
        let operator = synthetic_account(0, 0);
        let mut genesis = Genesis::tfgrid4_2025(operator, GENESIS_TIME);
        genesis.params.guardians = vec![operator];
        genesis.params.guardian_threshold = Some(1);
        Builder { state: State::new(genesis), operator, nonces: BTreeMap::new() }
    }

    /// Applies `command` by `signer` with `nonce` at the state's time.
    fn apply_with(&mut self, signer: AccountKey, nonce: u64, command: Command) -> Result<Vec<Event>> {
        let envelope = Envelope { signer, nonce, command };
        let at = self.state.now();
        self.state
            .apply_at(&envelope, at)
            .map_err(|rejection| SimError::Rejected { command: envelope.command.kind(), rejection })
    }

    /// Applies `command` by `signer` (the operator or a farmer) with its next nonce.
    fn apply(&mut self, signer: AccountKey, command: Command) -> Result<Vec<Event>> {
        let nonce = self.nonces.entry(signer).or_insert(0);
        *nonce += 1;
        let nonce = *nonce;
        self.apply_with(signer, nonce, command)
    }

    fn op(&mut self, command: Command) -> Result<Vec<Event>> {
        self.apply(self.operator, command)
    }

    /// Fresh TFT (0.01 USD) and gold prices observed now.
    fn prices(&mut self) -> Result<()> {
        let now = self.state.now();
        let tft = Price::from_atto(TFT_USD_ATTO);
        self.op(Command::SubmitPrice { feed: PriceFeed::TftUsd, price: tft, observed_at: now })?;
        let gold = crate::data::latest_gold()?.1;
        self.op(Command::SubmitPrice { feed: PriceFeed::GoldUsdPerOz, price: gold, observed_at: now })?;
        Ok(())
    }

    /// Registers every tenant (nonce 1).
    fn add_accounts(&mut self, tenants: &[AccountKey]) -> Result<()> {
        for tenant in tenants {
            self.apply_with(*tenant, 1, Command::RegisterAccount {})?;
        }
        Ok(())
    }

    /// Gives every tenant CC for its leases: a fiat entry each (CC is not transferable), attested by the
    /// operator with a short payment id.
    fn fund_accounts(&mut self, tenants: &[AccountKey], sizes: ScaleSizes) -> Result<()> {
        let per_tenant = sizes.leases.div_ceil(tenants.len().max(1)) as i128 * CC_PER_LEASE;
        // ~0.136 USD per CC: 1 USD buys ~7 CC.
        let usd = Amount::from_units((per_tenant / (7 * UNIT) + 1) * UNIT);
        for (i, tenant) in tenants.iter().enumerate() {
            let command = Command::EnterWithFiat { to: *tenant, usd, payment_id: format!("s{i}") };
            self.op(command)?;
        }
        Ok(())
    }

    /// Registers `nodes` `Mini 3` nodes in farms of 1,000, each listed at its band's minimum.
    fn add_nodes(&mut self, nodes: usize) -> Result<Vec<NodeId>> {
        let mut ids = Vec::with_capacity(nodes);
        let mut farm = FarmId(0);
        for i in 0..nodes {
            let farmer = synthetic_account(3, (i / NODES_PER_FARM) as u64);
            if i % NODES_PER_FARM == 0 {
                self.apply(farmer, Command::RegisterAccount {})?;
                let name = format!("bench-scale-farm-{}", i / NODES_PER_FARM);
                let events = self.apply(farmer, Command::RegisterFarm { name })?;
                farm = events
                    .iter()
                    .find_map(|e| match e {
                        Event::FarmRegistered { farm_id, .. } => Some(*farm_id),
                        _ => None,
                    })
                    .ok_or_else(|| SimError::Check("no FarmRegistered event".to_owned()))?;
            }
            let spec = NodeSpec::Model { model: NODE_MODEL.to_owned() };
            let events =
                self.apply(farmer, Command::RegisterNode { farm_id: farm, spec, offered_slices: None })?;
            let node_id = events
                .iter()
                .find_map(|e| match e {
                    Event::NodeRegistered { node_id, .. } => Some(*node_id),
                    _ => None,
                })
                .ok_or_else(|| SimError::Check("no NodeRegistered event".to_owned()))?;
            let band_min = self.state.capacity().nodes().get(&node_id).map(|n| n.band_min);
            let price = band_min.ok_or_else(|| SimError::Check(format!("no node {node_id}")))?;
            self.apply(farmer, Command::SetSlicePrice { node_id, price })?;
            ids.push(node_id);
        }
        Ok(ids)
    }

    /// Opens lease `j` for tenant `j % tenants` (its nonce `2 + j / tenants`) on node `j / slices`.
    fn open_leases(
        &mut self,
        tenants: &[AccountKey],
        nodes: &[NodeId],
        leases: usize,
        slices: usize,
    ) -> Result<()> {
        for j in 0..leases {
            let (tenant, nonce) = (tenants[j % tenants.len()], 2 + (j / tenants.len()) as u64);
            let command = Command::OpenLease {
                node_id: nodes[j / slices],
                n_slices: 1,
                billing: Billing::Hourly,
                periods: None,
            };
            self.apply_with(tenant, nonce, command)?;
        }
        Ok(())
    }

    /// An operator `Tick` to `now`, timed.
    fn tick(&mut self, now: i64) -> Result<(Vec<Event>, Span)> {
        let (events, span) = Span::measure(|| self.op(Command::Tick { now }));
        Ok((events?, span))
    }
}

/// The tenants' keys, derived on up to `threads` threads.
fn tenant_keys(accounts: usize, threads: usize) -> Vec<AccountKey> {
    let chunk = accounts.div_ceil(threads.max(1)).max(1);
    let mut keys = vec![AccountKey([0; 32]); accounts];
    std::thread::scope(|scope| {
        for (c, part) in keys.chunks_mut(chunk).enumerate() {
            scope.spawn(move || {
                for (i, key) in part.iter_mut().enumerate() {
                    *key = synthetic_account(4, (c * chunk + i) as u64);
                }
            });
        }
    });
    keys
}

/// The built economy after its timed `Tick`, and the figures so far (`scale` fields of the report).
pub struct ScaleRun {
    /// The state after the tick.
    pub state: State,
    /// The figures: sizes, memory per account and per lease, the tick, the invariant check, setup times.
    pub figures: Map<String, Value>,
}

/// The economy before its tick: the builder, the nodes, the resident bytes before and after adding the
/// accounts, after funding them, and before and after opening the leases, and the setup times (keys, accounts, nodes, leases).
struct Built {
    b: Builder,
    nodes: usize,
    rss: [Option<u64>; 5],
    setup_s: [f64; 4],
}

/// The `Mini 3` model's typical slices (the leases per node).
fn slices_per_node(state: &State) -> Result<usize> {
    state
        .catalogue()
        .iter()
        .find(|m| m.name == NODE_MODEL)
        .map(|m| m.typical_slices as usize)
        .ok_or_else(|| SimError::Check(format!("the catalogue has no {NODE_MODEL}")))
}

fn build(sizes: ScaleSizes, threads: usize, progress: &mut dyn FnMut(&str)) -> Result<Built> {
    let started = Instant::now();
    let tenants = tenant_keys(sizes.accounts, threads);
    let keys_s = started.elapsed().as_secs_f64();
    let mut b = Builder::new();
    b.prices()?;
    let slices = slices_per_node(&b.state)?;
    let step = Instant::now();
    let rss_accounts_before = resident_bytes();
    b.add_accounts(&tenants)?;
    let rss_accounts_after = resident_bytes();
    b.fund_accounts(&tenants, sizes)?;
    let rss_funded = resident_bytes();
    let accounts_s = step.elapsed().as_secs_f64();
    progress("accounts");
    let step = Instant::now();
    let nodes = b.add_nodes(sizes.leases.div_ceil(slices))?;
    let nodes_s = step.elapsed().as_secs_f64();
    let rss_leases_before = resident_bytes();
    let step = Instant::now();
    b.open_leases(&tenants, &nodes, sizes.leases, slices)?;
    let leases_s = step.elapsed().as_secs_f64();
    let rss_leases_after = resident_bytes();
    progress("leases");
    Ok(Built {
        b,
        nodes: nodes.len(),
        rss: [rss_accounts_before, rss_accounts_after, rss_funded, rss_leases_before, rss_leases_after],
        setup_s: [keys_s, accounts_s, nodes_s, leases_s],
    })
}

/// Builds the economy of `sizes`, measures its memory and times one billing `Tick` over every open lease
/// (each must be charged its second period), then checks every invariant. `progress` hears each step.
pub fn build_and_tick(sizes: ScaleSizes, threads: usize, progress: &mut dyn FnMut(&str)) -> Result<ScaleRun> {
    check!(sizes.accounts > 0 && sizes.leases > 0, "the scale suite needs accounts and leases");
    let Built { mut b, nodes, rss, setup_s } = build(sizes, threads, progress)?;
    let opened_at = b.state.now();
    b.tick(opened_at + REFRESH_AFTER_S)?;
    b.prices()?;
    let due = opened_at + b.state.params().period_s(Billing::Hourly);
    let (events, tick) = b.tick(due)?;
    let tick_events = events.len();
    let charged = events.iter().filter(|e| matches!(e, Event::LeaseCharged { .. })).count();
    let events_hash = events_digest(&events)?;
    drop(events);
    progress("tick");
    check!(charged == sizes.leases, "the bench Tick charged {charged} of {} leases", sizes.leases);
    let (invariants, invariants_span) = Span::measure(|| b.state.check_invariants());
    invariants.map_err(|e| SimError::Check(format!("invariants after the bench Tick: {e}")))?;
    let open = b.state.capacity().leases().values().filter(|l| l.is_open() && l.periods_paid == 2).count();
    check!(open == sizes.leases, "{open} of {} leases are open with two periods paid", sizes.leases);
    let figures = json!({
        "accounts": sizes.accounts,
        "leases": sizes.leases,
        "nodes": nodes,
        "farms": nodes.div_ceil(NODES_PER_FARM),
        "node_model": NODE_MODEL,
        "billing": "hourly",
        "tick_s": round6(tick.wall.as_secs_f64()),
        "tick_cpu_share": tick.cpu_share(),
        "tick_events": tick_events,
        "tick_leases_charged": charged,
        "tick_events_blake3": events_hash,
        "tick_target_s": 1.0,
        "invariants_s": round6(invariants_span.wall.as_secs_f64()),
        "invariants_ok": true,
        "bytes_per_account": per_item(rss[0], rss[1], sizes.accounts),
        "bytes_per_account_target": 512,
        "bytes_per_fiat_entry": per_item(rss[1], rss[2], sizes.accounts),
        "bytes_per_lease": per_item(rss[3], rss[4], sizes.leases),
        "bytes_per_lease_target": 1024,
        "rss_after_tick_mib": resident_bytes().map(|b| round3(b as f64 / (1 << 20) as f64)),
        "setup_keys_s": round3(setup_s[0]),
        "setup_accounts_s": round3(setup_s[1]),
        "setup_nodes_s": round3(setup_s[2]),
        "setup_leases_s": round3(setup_s[3]),
        "commands_applied": b.state.commands_applied(),
    });
    let Value::Object(figures) = figures else { unreachable!("a JSON object") };
    Ok(ScaleRun { state: b.state, figures })
}

/// blake3 of the events' JSON encodings, one after the other, as 64 hex characters: pins what a tick emitted
/// (the same economy must always give the same events, in the same order).
fn events_digest(events: &[Event]) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    for event in events {
        serde_json::to_writer(&mut hasher, event)
            .map_err(|e| SimError::Check(format!("encoding an event: {e}")))?;
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Seconds to 6 decimals (µs resolution).
pub fn round6(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny economy: every lease is charged by the tick, the state holds every account and lease, and
    /// the memory figures are there (Linux).
    #[test]
    fn a_tiny_economy_is_built_and_every_lease_billed_once_by_the_tick() {
        let sizes = ScaleSizes { accounts: 30, leases: 60 };
        let run = build_and_tick(sizes, 2, &mut |_| {}).unwrap();
        assert_eq!(run.figures["tick_leases_charged"], 60);
        assert_eq!((run.figures["accounts"].as_u64(), run.figures["nodes"].as_u64()), (Some(30), Some(3)));
        assert_eq!(run.state.capacity().leases().len(), 60);
        assert_eq!(run.state.ledger().accounts().len(), 30 + 1 + 1);
        assert!(run.figures["bytes_per_lease"].is_number() || !cfg!(target_os = "linux"));
    }
}
