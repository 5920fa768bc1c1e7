//! `tfeco bench --suite market`: the exit auction, capacity requests, minting and the exchange at scale.
//!
//! States are built by applying envelopes straight to `tfeco_core::State` (no signatures at the core
//! level; account keys are synthetic bytes), with the operator as the only guardian (threshold 1). Only
//! the named step is timed (wall clock, `std::time::Instant`, one run per figure; the capacity search is
//! the median of 20). Setup is untimed and reported as `setup_s`.
//!
//! - **exit_clear**: the pure `auction::clear` on random bids (ids in shuffled order, min prices around the
//!   20 % discount ceiling so part of the book is excluded, cap at a quarter of the demand: partial fills).
//! - **exit_round_close**: positions of 1,000 TFP (100 per owner), 1,000 exit bids on spread positions, a
//!   funded exit pool, fresh oracle prices; the single `Tick` that closes the round (clearing, payment,
//!   margin credited by weight to every staying position).
//! - **capacity**: custom nodes (1 in 10 a catalogue model) in farms of 1,000, priced inside their bands;
//!   one-slice capacity requests (1,000 per requester) with one or two offers each; the `Tick` that closes
//!   them all (every request must fill). The search is `capacity::search` with a memory filter, limit 100.
//! - **minting**: nodes with node keys, ~1,096 uptime reports each (one every 40 min over the period) sent as
//!   `ReportUptime` batches of 1,000 (ingestion timed), then the `Tick` that closes the period (receipts,
//!   canonical JSON, blake3). The node count is scaled down when the ingestion would exceed ~100 s
//!   (`minting_nodes` < `minting_nodes_requested`). Peak memory is the process's `VmHWM`, reset through
//!   `/proc/self/clear_refs` before the minting state is built when the kernel allows it.
//! - **exchange**: the pure `exchange::clear_batch` on random orders around 0.01 USDC/TFT, and the `Tick`
//!   that clears one TFT/USDC batch of placed orders through the state (escrow settlement included).

use std::collections::HashMap;

use anyhow::{anyhow, ensure, Context};
use serde_json::{json, Value};
use tfeco_core::auction::{self, ClearingRules, ExitBid};
use tfeco_core::capacity::{self, Requirements, SearchQuery};
use tfeco_core::exchange::{self, Order, Side, NO_FEE};
use tfeco_core::ids::PositionId;
use tfeco_core::minting::{period_end, period_of, period_start};
use tfeco_core::rewards::UptimeSample;
use tfeco_core::{
    AccountKey, Command, Envelope, Event, FarmId, Genesis, NodeId, NodeSpec, PriceFeed, Resources, State,
};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Price, Tfp, Tft, Usdc};

use super::{round3, Span, XorShift, GENESIS_TIME};

/// 0.01 USD per TFT, the reference price of every workload.
const TFT_USD_ATTO: u128 = 10_000_000_000_000_000;
/// Base units per whole token (7 decimals).
const UNIT: i128 = 10_000_000;
/// Budget for the uptime ingestion before the minting workload is scaled down.
const MINTING_BUDGET_S: f64 = 100.0;

/// Workload sizes of the market suite.
#[derive(Clone, Copy, Debug)]
pub(super) struct MarketSizes {
    exit_clear_bids: usize,
    exit_positions: usize,
    exit_bids: usize,
    capacity_nodes: usize,
    capacity_requests: usize,
    minting_nodes: usize,
    exchange_clear_orders: usize,
    exchange_tick_orders: usize,
}

impl MarketSizes {
    pub(super) fn new(quick: bool) -> Self {
        let mut sizes = if quick {
            MarketSizes {
                exit_clear_bids: 200_000,
                exit_positions: 20_000,
                exit_bids: 1_000,
                capacity_nodes: 10_000,
                capacity_requests: 10_000,
                minting_nodes: 5_000,
                exchange_clear_orders: 200_000,
                exchange_tick_orders: 20_000,
            }
        } else {
            MarketSizes {
                exit_clear_bids: 1_000_000,
                exit_positions: 100_000,
                exit_bids: 1_000,
                capacity_nodes: 100_000,
                capacity_requests: 100_000,
                minting_nodes: 100_000,
                exchange_clear_orders: 1_000_000,
                exchange_tick_orders: 100_000,
            }
        };
        if cfg!(debug_assertions) {
            // Every apply re-checks every invariant in debug builds: keep the state-bound work tiny.
            sizes.exit_positions = 1_000;
            sizes.exit_bids = 100;
            sizes.capacity_nodes = 1_000;
            sizes.capacity_requests = 1_000;
            sizes.minting_nodes = 100;
            sizes.exchange_tick_orders = 1_000;
        }
        sizes
    }
}

fn ms(span: Span) -> f64 {
    round3(span.wall.as_secs_f64() * 1_000.0)
}

/// A synthetic account key: role byte and index (the core does not verify signatures).
fn key(role: u8, index: u64) -> AccountKey {
    let mut bytes = [0u8; 32];
    bytes[0] = role;
    bytes[1..9].copy_from_slice(&index.to_le_bytes());
    AccountKey(bytes)
}

/// Ids that are unique but arrive in no particular order (an odd multiplier is a bijection mod 2^64).
fn shuffled_id(i: usize) -> u64 {
    (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// `VmHWM` of this process in MiB (Linux).
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(round3(kib / 1024.0))
}

/// Resets `VmHWM` to the current RSS (Linux >= 4.0); `false` when not possible.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A state under construction: applies envelopes with per-signer nonces.
struct Bed {
    state: State,
    operator: AccountKey,
    nonces: HashMap<AccountKey, u64>,
    gold: Price,
}

impl Bed {
    fn new(edit: impl FnOnce(&mut Genesis)) -> anyhow::Result<Self> {
        let operator = key(0, 0);
        let mut genesis = crate::data::genesis(operator, GENESIS_TIME)?;
        genesis.params.guardians = vec![operator];
        genesis.params.guardian_threshold = Some(1);
        edit(&mut genesis);
        let gold = crate::data::latest_gold()?.1;
        Ok(Bed { state: State::new(genesis), operator, nonces: HashMap::new(), gold })
    }

    fn apply(&mut self, signer: AccountKey, command: Command) -> anyhow::Result<Vec<Event>> {
        let nonce = self.nonces.entry(signer).or_insert(0);
        *nonce += 1;
        let envelope = Envelope { signer, nonce: *nonce, command };
        self.state
            .apply(&envelope)
            .map_err(|rejection| anyhow!("bench {} rejected: {rejection:?}", envelope.command.kind()))
    }

    fn op(&mut self, command: Command) -> anyhow::Result<Vec<Event>> {
        self.apply(self.operator, command)
    }

    fn register(&mut self, account: AccountKey) -> anyhow::Result<()> {
        self.apply(account, Command::RegisterAccount {})?;
        Ok(())
    }

    fn deposit(&mut self, asset: Asset, to: AccountKey, tokens: i64, tx: String) -> anyhow::Result<()> {
        let amount = Amount::from_units(i128::from(tokens) * UNIT);
        self.op(Command::AttestDeposit { asset, to, amount, external_tx_id: tx })?;
        Ok(())
    }

    /// Fresh TFT and gold prices observed now.
    fn prices(&mut self) -> anyhow::Result<()> {
        let now = self.state.now();
        let tft = Price::from_atto(TFT_USD_ATTO);
        self.op(Command::SubmitPrice { feed: PriceFeed::TftUsd, price: tft, observed_at: now })?;
        let gold = self.gold;
        self.op(Command::SubmitPrice { feed: PriceFeed::GoldUsdPerOz, price: gold, observed_at: now })?;
        Ok(())
    }

    fn tick(&mut self, now: i64) -> anyhow::Result<Vec<Event>> {
        self.op(Command::Tick { now })
    }

    /// Mints CC to `to` (and USDC to the treasury) through a fiat entry.
    fn fiat(&mut self, to: AccountKey, usd: i64, id: String) -> anyhow::Result<()> {
        self.op(Command::EnterWithFiat {
            to,
            usd: Amount::from_units(i128::from(usd) * UNIT),
            payment_id: id,
        })?;
        Ok(())
    }

    /// Registers `nodes` nodes in farms of 1,000 (farmer key role 3, index = farm): returns node ids in
    /// order. `spec` gives node `i`'s spec.
    fn nodes(&mut self, nodes: usize, spec: impl Fn(usize) -> NodeSpec) -> anyhow::Result<Vec<NodeId>> {
        let mut ids = Vec::with_capacity(nodes);
        let mut farm = FarmId(0);
        for i in 0..nodes {
            let farmer = key(3, (i / 1_000) as u64);
            if i % 1_000 == 0 {
                self.register(farmer)?;
                let events =
                    self.apply(farmer, Command::RegisterFarm { name: format!("bench-farm-{}", i / 1_000) })?;
                farm = events
                    .iter()
                    .find_map(|e| match e {
                        Event::FarmRegistered { farm_id, .. } => Some(*farm_id),
                        _ => None,
                    })
                    .context("no FarmRegistered event")?;
            }
            let events = self.apply(
                farmer,
                Command::RegisterNode { farm_id: farm, spec: spec(i), offered_slices: None },
            )?;
            let node_id = events
                .iter()
                .find_map(|e| match e {
                    Event::NodeRegistered { node_id, .. } => Some(*node_id),
                    _ => None,
                })
                .context("no NodeRegistered event")?;
            ids.push(node_id);
        }
        Ok(ids)
    }
}

fn farmer_of(node_index: usize) -> AccountKey {
    key(3, (node_index / 1_000) as u64)
}

/// A custom node of 64 GB cut into 16, 8 or 4 slices (4, 8 or 16 GB per slice).
fn custom_spec(i: usize) -> NodeSpec {
    let slices = [16, 8, 4][i % 3];
    NodeSpec::Custom {
        resources: Resources {
            cpu_cores: 16,
            passmark: 16_000,
            mem_gb: 64,
            ssd_gb: 2_000,
            ai_mem_gb: 0,
            ai_tps: 0,
        },
        slices,
    }
}

// ---------------------------------------------------------------------------------------------------------
// 1. Exit auction: pure clearing.

fn bench_exit_clear(n: usize) -> anyhow::Result<Value> {
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    let bids: Vec<ExitBid> = (0..n)
        .map(|i| ExitBid {
            id: shuffled_id(i),
            usdc: Amount::from_units((1 + rng.below(10_000)) as i128 * 1_000_000),
            // 0.005 .. 0.0125 USD per TFP (the ceiling at 0.01 with a 20 % discount is 0.008).
            min_price: Price::from_atto(5_000_000_000_000_000 + rng.below(7_500) as u128 * 1_000_000_000_000),
        })
        .collect();
    let demand: i128 = bids.iter().map(|b| b.usdc.units()).sum();
    let rules = ClearingRules {
        cap_a: Some(Amount::from_units(demand / 4)),
        cap_b: None,
        ref_price: Some(Price::from_atto(TFT_USD_ATTO)),
        min_discount_bps: Bps::new(2_000).expect("below 10,000"),
        allow_partial: true,
    };
    let (clearing, span) = Span::measure(|| auction::clear(std::hint::black_box(&bids), &rules));
    let clearing = clearing.map_err(|e| anyhow!("exit clearing failed: {e:?}"))?;
    ensure!(clearing.clearing_price.is_some(), "the bench exit clearing filled nothing");
    let filled = clearing.fills.iter().filter(|f| f.filled.is_positive()).count();
    let excluded = clearing.fills.iter().filter(|f| f.excluded).count();
    Ok(json!({
        "exit_clear_1m_bids_ms": ms(span),
        "exit_clear_bids": n,
        "exit_clear_filled_bids": filled,
        "exit_clear_excluded_bids": excluded,
        "exit_clear_cpu_share": span.cpu_share(),
    }))
}

// ---------------------------------------------------------------------------------------------------------
// 2. Exit auction: the Tick that closes a round.

fn bench_exit_round(positions: usize, bids: usize) -> anyhow::Result<Value> {
    const PER_OWNER: usize = 100;
    const POSITION_TFP: i64 = 1_000;
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|_| {})?;
    bed.prices()?;
    let owners = positions.div_ceil(PER_OWNER);
    let mut opened: Vec<(AccountKey, PositionId)> = Vec::with_capacity(positions);
    for o in 0..owners {
        let owner = key(1, o as u64);
        let count = PER_OWNER.min(positions - o * PER_OWNER);
        bed.register(owner)?;
        bed.deposit(Asset::Tft, owner, POSITION_TFP * count as i64, format!("bench-exit-{o}"))?;
        bed.apply(owner, Command::LockTft { tft: Amount::<Tft>::tokens(POSITION_TFP * count as i64) })?;
        for _ in 0..count {
            let events =
                bed.apply(owner, Command::OpenPosition { tfp: Amount::<Tfp>::tokens(POSITION_TFP) })?;
            let id = events
                .iter()
                .find_map(|e| match e {
                    Event::PositionOpened { position_id, .. } => Some(*position_id),
                    _ => None,
                })
                .context("no PositionOpened event")?;
            opened.push((owner, id));
        }
    }
    // USDC into the treasury through a fiat entry, then into the exit pool (cap B = 5 % of it).
    let operator = bed.operator;
    bed.fiat(operator, 1_000_000, "bench-exit-fund".to_owned())?;
    bed.op(Command::FundExitPool { usdc: Amount::<Usdc>::tokens(1_000_000) })?;
    let mut rng = XorShift(0xC0FF_EE12_3456_789B);
    let stride = (positions / bids.max(1)).max(1);
    for b in 0..bids.min(positions) {
        let (owner, position_id) = opened[b * stride];
        // 1..4 USDC at 0.005 .. 0.0085 USD per TFP: at most 800 TFP reserved of 1,000; some above the ceiling.
        let usdc = Amount::<Usdc>::from_units(UNIT + rng.below(30_000_000) as i128);
        let min_price =
            Price::from_atto(5_000_000_000_000_000 + rng.below(3_500) as u128 * 1_000_000_000_000);
        bed.apply(owner, Command::SubmitExitBid { position_id, usdc, min_price, carry_over: b % 2 == 0 })?;
    }
    let closes_at = bed.state.exit_pool().round().closes_at;
    bed.tick(closes_at - 1_800)?; // Inside the lock window (no new bids), with prices fresh at the close.
    bed.prices()?;
    let setup_s = setup.elapsed().as_secs_f64();
    let (events, span) = Span::measure(|| bed.tick(closes_at));
    let events = events?;
    let (paid, margin) = events
        .iter()
        .find_map(|e| match e {
            Event::ExitRoundClosed { total_paid, margin_tfp, .. } => Some((*total_paid, *margin_tfp)),
            _ => None,
        })
        .context("the bench Tick closed no exit round")?;
    ensure!(paid.is_positive(), "the bench exit round paid nothing");
    let credited = bed.state.exit_pool().positions().values().filter(|p| p.earned.is_positive()).count();
    Ok(json!({
        "exit_round_close_100k_positions_ms": ms(span),
        "exit_round_positions": positions,
        "exit_round_bids": bids.min(positions),
        "exit_round_paid_usdc": paid.to_string(),
        "exit_round_margin_tfp": margin.to_string(),
        "exit_round_positions_credited": credited,
        "exit_round_cpu_share": span.cpu_share(),
        "exit_round_setup_s": round3(setup_s),
    }))
}

// ---------------------------------------------------------------------------------------------------------
// 3. Capacity: search and the Tick that closes the requests.

fn bench_capacity(nodes: usize, requests: usize) -> anyhow::Result<Value> {
    const PER_REQUESTER: usize = 1_000;
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|_| {})?;
    bed.prices()?;
    let model = bed
        .state
        .catalogue()
        .iter()
        .find(|m| m.typical_slices > 0)
        .map(|m| m.name.clone())
        .context("the catalogue has no model with slices")?;
    let ids = bed.nodes(nodes, |i| {
        if i % 10 == 9 {
            NodeSpec::Model { model: model.clone() }
        } else {
            custom_spec(i)
        }
    })?;
    let mut rng = XorShift(0xABCD_EF01_2345_6789);
    let mut prices = Vec::with_capacity(nodes);
    for (i, node_id) in ids.iter().enumerate() {
        let node = &bed.state.market().nodes()[node_id];
        let (lo, hi) = (node.band_min.units(), node.band_max.units());
        // Somewhere in the lower half of the band.
        let price = Amount::from_units(lo + (hi - lo) * rng.below(50) as i128 / 100);
        bed.apply(farmer_of(i), Command::SetSlicePrice { node_id: *node_id, price })?;
        prices.push(price);
    }
    let requesters = requests.div_ceil(PER_REQUESTER);
    let max_price = Amount::from_units(1_000 * UNIT);
    let mut offers = 0usize;
    for r in 0..requests {
        let requester = key(4, (r / PER_REQUESTER) as u64);
        if r % PER_REQUESTER == 0 {
            bed.register(requester)?;
            // ~7.4 M CC at ~0.136 USD per CC: covers 1,000 escrows of 1,000 CC.
            bed.fiat(requester, 1_000_000, format!("bench-capacity-{}", r / PER_REQUESTER))?;
        }
        let requirements = Requirements { min_mem_gb: 4, ..Requirements::default() };
        let command = Command::PostCapacityRequest {
            requirements,
            n_slices: 1,
            max_price_month: max_price,
            periods: Some(1),
            window_s: 3_600,
        };
        let events = bed.apply(requester, command)?;
        let request_id = events
            .iter()
            .find_map(|e| match e {
                Event::CapacityRequestPosted { request_id, .. } => Some(*request_id),
                _ => None,
            })
            .context("no CapacityRequestPosted event")?;
        let mut offer = |i: usize| -> anyhow::Result<()> {
            let command = Command::OfferCapacity { request_id, node_id: ids[i], price_month: prices[i] };
            bed.apply(farmer_of(i), command)?;
            offers += 1;
            Ok(())
        };
        offer(r % nodes)?;
        if r % 2 == 0 {
            offer((r.wrapping_mul(7_919) + 13) % nodes)?;
        }
    }
    let setup_s = setup.elapsed().as_secs_f64();

    // Search: median of 20, memory filter 8 or 16 GB per slice, limit 100.
    let mut search_ms = Vec::with_capacity(20);
    let mut hits = 0;
    for s in 0..20 {
        let query = SearchQuery {
            requirements: Requirements {
                min_mem_gb: if s % 2 == 0 { 8 } else { 16 },
                ..Requirements::default()
            },
            limit: 100,
            ..SearchQuery::default()
        };
        let (found, span) = Span::measure(|| capacity::search(&bed.state, std::hint::black_box(&query)));
        hits = found.len();
        search_ms.push(span.wall.as_secs_f64() * 1_000.0);
    }
    search_ms.sort_by(f64::total_cmp);
    let search_median = round3(search_ms[search_ms.len() / 2]);

    let now = bed.state.now();
    let (events, span) = Span::measure(|| bed.tick(now + 3_600));
    let events = events?;
    let closed = events.iter().filter(|e| matches!(e, Event::CapacityRequestClosed { .. })).count();
    let filled =
        events.iter().filter(|e| matches!(e, Event::CapacityRequestClosed { filled: 1, .. })).count();
    let leases = events.iter().filter(|e| matches!(e, Event::LeaseOpened { .. })).count();
    ensure!(closed == requests, "the bench Tick closed {closed} of {requests} capacity requests");
    ensure!(filled == requests, "only {filled} of {requests} bench capacity requests filled");
    Ok(json!({
        "capacity_tick_100k_requests_ms": ms(span),
        "capacity_search_100k_nodes_ms": search_median,
        "capacity_search_max_ms": round3(search_ms[search_ms.len() - 1]),
        "capacity_search_hits": hits,
        "capacity_nodes": nodes,
        "capacity_requests": requests,
        "capacity_requesters": requesters,
        "capacity_offers": offers,
        "capacity_requests_filled": filled,
        "capacity_leases_opened": leases,
        "capacity_tick_events": events.len(),
        "capacity_tick_cpu_share": span.cpu_share(),
        "capacity_setup_s": round3(setup_s),
    }))
}

// ---------------------------------------------------------------------------------------------------------
// 4. Minting: uptime ingestion and the Tick that closes the period.

fn bench_minting(requested: usize) -> anyhow::Result<Value> {
    const BATCH: usize = 1_000;
    let peak_reset = reset_peak();
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|_| {})?;
    let period = period_of(GENESIS_TIME).context("genesis before the first period")? + 1;
    let (start, end) = (period_start(period), period_end(period));
    let ids = bed.nodes(requested, custom_spec)?;
    // `SetNodeKey` scans every node key (`retain`): its cost grows with the keyed nodes; the last 1,000 show it.
    let mut set_key_tail = Span::default();
    let tail_from = requested.saturating_sub(1_000);
    for (i, node_id) in ids.iter().enumerate() {
        let node_key = key(5, i as u64);
        bed.register(node_key)?;
        let command = Command::SetNodeKey { node_id: *node_id, node_key };
        let (result, span) = Span::measure(|| bed.apply(farmer_of(i), command));
        result?;
        if i >= tail_from {
            set_key_tail = set_key_tail.add(span);
        }
    }
    bed.tick(end - 1)?;
    let setup_s = setup.elapsed().as_secs_f64();

    // Every node reports every 40 minutes over the whole period (up since a day before genesis).
    let interval = bed.state.params().uptime_rules.report_interval_s;
    let boot = GENESIS_TIME - 86_400;
    let samples_of = |i: usize| -> Vec<UptimeSample> {
        let offset = 1 + (i % 600) as i64;
        (0..)
            .map(|j: i64| start + offset + j * interval)
            .take_while(|at| *at < end - 1)
            .map(|at| UptimeSample { at, uptime_s: (at - boot) as u64 })
            .collect()
    };
    let mut ingest = Span::default();
    let mut reports = 0usize;
    let mut commands = 0usize;
    let mut nodes = requested;
    let calibrate = 1_000.min(requested);
    for (i, node_id) in ids.iter().enumerate() {
        if i == nodes {
            break;
        }
        let samples = samples_of(i);
        let node_key = key(5, i as u64);
        for chunk in samples.chunks(BATCH) {
            let command = Command::ReportUptime { node_id: *node_id, reports: chunk.to_vec() };
            let (result, span) = Span::measure(|| bed.apply(node_key, command));
            result?;
            ingest = ingest.add(span);
            commands += 1;
        }
        reports += samples.len();
        if i + 1 == calibrate && calibrate < requested {
            let per_node = ingest.wall.as_secs_f64() / calibrate as f64;
            let fits = (MINTING_BUDGET_S / per_node.max(1e-9)) as usize / 1_000 * 1_000;
            nodes = requested.min(fits.max(calibrate));
        }
    }
    let uptime_reports_per_s = reports as f64 / ingest.wall.as_secs_f64().max(1e-9);

    let close_at = end + bed.state.params().mint_close_delay_s;
    let (events, span) = Span::measure(|| bed.tick(close_at));
    let events = events?;
    let receipts = events
        .iter()
        .find_map(|e| match e {
            Event::MintReportClosed { nodes, .. } => Some(*nodes as usize),
            _ => None,
        })
        .context("the bench Tick closed no minting period")?;
    let peak = peak_mib();
    ensure!(receipts == nodes, "the minting report has {receipts} receipts for {nodes} reporting nodes");
    let report = bed.state.rewards().reports().get(&period).context("no report stored")?;
    Ok(json!({
        "minting_close_100k_nodes_ms": ms(span),
        "minting_peak_mib": peak,
        "minting_peak_reset_before_phase": peak_reset,
        "minting_nodes": nodes,
        "minting_nodes_requested": requested,
        "minting_scaled_down": nodes < requested,
        "minting_receipts": receipts,
        "minting_report_json_bytes": report.canonical_json.len(),
        "minting_close_cpu_share": span.cpu_share(),
        "uptime_reports_per_s": super::round_rate(uptime_reports_per_s),
        "uptime_reports": reports,
        "uptime_commands": commands,
        "uptime_reports_per_node": reports / nodes.max(1),
        "uptime_ingest_s": round3(ingest.wall.as_secs_f64()),
        "uptime_ingest_cpu_share": ingest.cpu_share(),
        "minting_setup_s": round3(setup_s),
        "set_node_key_us_last_1000": round3(
            set_key_tail.wall.as_secs_f64() * 1e6 / (requested - tail_from).max(1) as f64
        ),
    }))
}

// ---------------------------------------------------------------------------------------------------------
// 5. Exchange: pure batch clearing and the Tick that clears a market through the state.

/// Side, quantity (1..=500 TFT in base units) and limit (0.009 .. 0.011 USDC per TFT).
fn random_order(rng: &mut XorShift) -> (Side, i128, Price) {
    let side = if rng.next().is_multiple_of(2) { Side::Buy } else { Side::Sell };
    let quantity = (1 + rng.below(500) as i128) * UNIT;
    let limit = Price::from_atto(9_000_000_000_000_000 + rng.below(2_000) as u128 * 1_000_000_000_000);
    (side, quantity, limit)
}

fn bench_exchange_clear(n: usize) -> anyhow::Result<Value> {
    let mut rng = XorShift(0x5151_7A7A_0F0F_3C3C);
    let orders: Vec<Order<AnyAsset>> = (0..n)
        .map(|i| {
            let (side, quantity, limit_price) = random_order(&mut rng);
            Order { id: shuffled_id(i), side, quantity: Amount::from_units(quantity), limit_price }
        })
        .collect();
    let last = Some(Price::from_atto(TFT_USD_ATTO));
    let (outcome, span) = Span::measure(|| {
        exchange::clear_batch::<AnyAsset, AnyAsset>(std::hint::black_box(&orders), last, NO_FEE)
    });
    let outcome = outcome.map_err(|e| anyhow!("batch clearing failed: {e:?}"))?;
    ensure!(outcome.price.is_some(), "the bench batch did not cross");
    Ok(json!({
        "exchange_clear_1m_orders_ms": ms(span),
        "exchange_clear_orders": n,
        "exchange_clear_filled_orders": outcome.fills.iter().filter(|f| f.filled.is_positive()).count(),
        "exchange_clear_cpu_share": span.cpu_share(),
    }))
}

fn bench_exchange_tick(orders: usize) -> anyhow::Result<Value> {
    const PER_TRADER: usize = 100;
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|g| {
        for market in &mut g.params.markets {
            market.max_orders_per_account_per_batch = PER_TRADER as u32;
        }
    })?;
    let market_id = bed.state.params().markets.first().context("no market")?.id;
    let mut rng = XorShift(0x0DD0_BEEF_CAFE_F00D);
    for t in 0..orders.div_ceil(PER_TRADER) {
        let trader = key(6, t as u64);
        bed.register(trader)?;
        bed.deposit(Asset::Tft, trader, 100_000, format!("bench-ex-tft-{t}"))?;
        bed.deposit(Asset::Usdc, trader, 10_000, format!("bench-ex-usdc-{t}"))?;
        for _ in 0..PER_TRADER.min(orders - t * PER_TRADER) {
            let (side, quantity, limit_price) = random_order(&mut rng);
            let quantity = Amount::from_units(quantity);
            let command =
                Command::PlaceOrder { market_id, side, quantity, limit_price, expires_after_batches: None };
            bed.apply(trader, command)?;
        }
    }
    let setup_s = setup.elapsed().as_secs_f64();
    let next = bed.state.exchange().books().get(&market_id).context("no book")?.next_clear_at;
    let (events, span) = Span::measure(|| bed.tick(next));
    let events = events?;
    let volume = events
        .iter()
        .find_map(|e| match e {
            Event::BatchCleared { volume, price: Some(_), .. } => Some(*volume),
            _ => None,
        })
        .context("the bench batch did not clear with a price")?;
    ensure!(volume.is_positive(), "the bench batch matched nothing");
    Ok(json!({
        "exchange_tick_100k_orders_ms": ms(span),
        "exchange_tick_orders": orders,
        "exchange_tick_volume_tft": Amount::<Tft>::from_units(volume.units()).to_string(),
        "exchange_tick_events": events.len(),
        "exchange_tick_cpu_share": span.cpu_share(),
        "exchange_tick_setup_s": round3(setup_s),
    }))
}

// ---------------------------------------------------------------------------------------------------------
// The suite.

/// Runs every market measurement in order (one thread); returns the `market` object.
pub(super) fn run_market(sizes: MarketSizes, progress: bool) -> anyhow::Result<Value> {
    let mut market = serde_json::Map::new();
    let mut step = |name: &str, result: anyhow::Result<Value>| -> anyhow::Result<()> {
        let value = result.with_context(|| format!("market bench {name}"))?;
        if progress {
            eprintln!("  {name}: done");
        }
        if let Value::Object(fields) = value {
            market.extend(fields);
        }
        Ok(())
    };
    step("exit_clear", bench_exit_clear(sizes.exit_clear_bids))?;
    step("exit_round", bench_exit_round(sizes.exit_positions, sizes.exit_bids))?;
    step("capacity", bench_capacity(sizes.capacity_nodes, sizes.capacity_requests))?;
    step("exchange_clear", bench_exchange_clear(sizes.exchange_clear_orders))?;
    step("exchange_tick", bench_exchange_tick(sizes.exchange_tick_orders))?;
    // Last, so that its peak-memory reading sees the least of the earlier workloads.
    step("minting", bench_minting(sizes.minting_nodes))?;
    Ok(Value::Object(market))
}

/// The main figures, in table order.
const TABLE: [(&str, &str); 10] = [
    ("exit_clear_1m_bids_ms", "exit_clear_bids"),
    ("exit_round_close_100k_positions_ms", "exit_round_positions"),
    ("capacity_tick_100k_requests_ms", "capacity_requests"),
    ("capacity_search_100k_nodes_ms", "capacity_nodes"),
    ("uptime_reports_per_s", "uptime_reports"),
    ("minting_close_100k_nodes_ms", "minting_nodes"),
    ("minting_peak_mib", "minting_nodes"),
    ("exchange_clear_1m_orders_ms", "exchange_clear_orders"),
    ("exchange_tick_100k_orders_ms", "exchange_tick_orders"),
    ("exchange_tick_volume_tft", "exchange_tick_orders"),
];

/// A JSON value as table text (strings without quotes).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn print_market_table(market: &Value) {
    println!("  market suite");
    println!("  {:<36} {:>14}  {:>10}", "figure", "value", "size");
    for (name, size) in TABLE {
        println!("  {:<36} {:>14}  {:>10}", name, text(&market[name]), market[size]);
    }
    if market["minting_scaled_down"] == true {
        println!(
            "  minting scaled down to {} of {} nodes (ingestion budget ~{} s)",
            market["minting_nodes"], market["minting_nodes_requested"], MINTING_BUDGET_S
        );
    }
    println!(
        "  checks: exit round paid {} USDC, margin {} TFP to {} positions; capacity {} of {} filled ({} offers); minting {} receipts, report {} bytes; exchange clear {} orders filled",
        text(&market["exit_round_paid_usdc"]),
        text(&market["exit_round_margin_tfp"]),
        market["exit_round_positions_credited"],
        market["capacity_requests_filled"],
        market["capacity_requests"],
        market["capacity_offers"],
        market["minting_receipts"],
        market["minting_report_json_bytes"],
        market["exchange_clear_filled_orders"]
    );
    println!(
        "  setup s: exit {}, capacity {}, exchange {}, minting {}; peak memory is process-wide (VmHWM, reset before minting: {})",
        market["exit_round_setup_s"],
        market["capacity_setup_s"],
        market["exchange_tick_setup_s"],
        market["minting_setup_s"],
        market["minting_peak_reset_before_phase"]
    );
    println!(
        "  SetNodeKey at {} keyed nodes: {} µs per command (it scans every node key)",
        market["minting_nodes_requested"], market["set_node_key_us_last_1000"]
    );
    let shares: serde_json::Map<String, Value> = market
        .as_object()
        .map(|m| {
            m.iter().filter(|(k, _)| k.ends_with("cpu_share")).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    println!("  CPU share of the timings (below ~0.95: the core was shared): {}", Value::Object(shares));
}
