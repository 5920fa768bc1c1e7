//! [`Bed`]: a state under construction for the market suite: a [`CoreDriver`] whose operator is the only
//! guardian (threshold 1), with the agents' common moves (register, deposit, fiat entry, fresh prices, ticks,
//! farms of nodes) and every read of the core's state the suite needs (so that the state accessors it depends
//! on are all here).

use tfeco_core::ids::PositionId;
use tfeco_core::rules::search::SearchHit;
use tfeco_core::{AccountKey, Command, Event, FarmId, Genesis, NodeId, NodeSpec, PriceFeed, Resources};
use tfeco_money::{Amount, Asset, Cc, Price};

use super::{TFT_USD_ATTO, UNIT};
use crate::bench::workload::GENESIS_TIME;
use crate::driver::CoreDriver;
use crate::keys::synthetic_account;
use crate::{Result, SimError};

/// Nodes per farm (and per farmer).
const NODES_PER_FARM: usize = 1_000;

/// The farmer of node `node_index` (role 3, one per farm of 1,000 nodes).
pub(super) fn farmer_of(node_index: usize) -> AccountKey {
    synthetic_account(3, (node_index / NODES_PER_FARM) as u64)
}

/// A custom node of 64 GB cut into 16, 8 or 4 slices (4, 8 or 16 GB per slice).
pub(super) fn custom_spec(i: usize) -> NodeSpec {
    let slices = [16, 8, 4][i % 3];
    let resources =
        Resources { cpu_cores: 16, passmark: 16_000, mem_gb: 64, ssd_gb: 2_000, ai_mem_gb: 0, ai_tps: 0 };
    NodeSpec::Custom { resources, slices }
}

/// The first event `pick` selects, or a [`SimError::Check`] naming what was expected.
pub(super) fn find_event<T>(
    events: &[Event],
    what: &str,
    pick: impl FnMut(&Event) -> Option<T>,
) -> Result<T> {
    events.iter().find_map(pick).ok_or_else(|| SimError::Check(format!("no {what} event")))
}

/// A state under construction with its operator and the gold price of the embedded series.
pub(super) struct Bed {
    driver: CoreDriver,
    pub(super) operator: AccountKey,
    gold: Price,
}

impl Bed {
    /// The default genesis with the operator as the only guardian, changed by `edit`.
    pub(super) fn new(edit: impl FnOnce(&mut Genesis)) -> Result<Self> {
        let operator = synthetic_account(0, 0);
        let mut genesis = Genesis::tfgrid4_2025(operator, GENESIS_TIME);
        genesis.params.guardians = vec![operator];
        genesis.params.guardian_threshold = Some(1);
        edit(&mut genesis);
        let gold = crate::data::latest_gold()?.1;
        Ok(Bed { driver: CoreDriver::new(genesis), operator, gold })
    }

    pub(super) fn apply(&mut self, signer: AccountKey, command: Command) -> Result<Vec<Event>> {
        self.driver.apply(signer, command)
    }

    pub(super) fn op(&mut self, command: Command) -> Result<Vec<Event>> {
        self.driver.apply(self.operator, command)
    }

    pub(super) fn register(&mut self, account: AccountKey) -> Result<()> {
        self.apply(account, Command::RegisterAccount {})?;
        Ok(())
    }

    /// The operator attests a deposit of `tokens` whole tokens.
    pub(super) fn deposit(&mut self, asset: Asset, to: AccountKey, tokens: i64, tx: String) -> Result<()> {
        let amount = Amount::from_units(i128::from(tokens) * UNIT);
        self.op(Command::AttestDeposit { asset, to, amount, external_tx_id: tx })?;
        Ok(())
    }

    /// Fresh TFT (0.01 USD) and gold prices observed now.
    pub(super) fn prices(&mut self) -> Result<()> {
        let now = self.now();
        let tft = Price::from_atto(TFT_USD_ATTO);
        self.op(Command::SubmitPrice { feed: PriceFeed::TftUsd, price: tft, observed_at: now })?;
        let gold = self.gold;
        self.op(Command::SubmitPrice { feed: PriceFeed::GoldUsdPerOz, price: gold, observed_at: now })?;
        Ok(())
    }

    /// Ticks to `now` in steps of at most `max_tick_advance_s` (the core refuses a longer one); returns the
    /// events of every step.
    pub(super) fn tick(&mut self, now: i64) -> Result<Vec<Event>> {
        let step = self.params().max_tick_advance_s.max(1);
        let mut events = Vec::new();
        loop {
            let next = now.min(self.now().saturating_add(step));
            events.extend(self.op(Command::Tick { now: next })?);
            if next >= now {
                return Ok(events);
            }
        }
    }

    /// Mints CC to `to` (and USDC to the treasury) through a fiat entry of `usd` whole USD.
    pub(super) fn fiat(&mut self, to: AccountKey, usd: i64, id: String) -> Result<()> {
        let usd = Amount::from_units(i128::from(usd) * UNIT);
        self.op(Command::EnterWithFiat { to, usd, payment_id: id })?;
        Ok(())
    }

    /// Registers `nodes` nodes in farms of 1,000 ([`farmer_of`]); node `i` has spec `spec(i)`. Returns the
    /// node ids in order.
    pub(super) fn nodes(&mut self, nodes: usize, spec: impl Fn(usize) -> NodeSpec) -> Result<Vec<NodeId>> {
        let mut ids = Vec::with_capacity(nodes);
        let mut farm = FarmId(0);
        for i in 0..nodes {
            let farmer = farmer_of(i);
            if i % NODES_PER_FARM == 0 {
                self.register(farmer)?;
                let name = format!("bench-farm-{}", i / NODES_PER_FARM);
                let events = self.apply(farmer, Command::RegisterFarm { name })?;
                farm = find_event(&events, "FarmRegistered", |e| match e {
                    Event::FarmRegistered { farm_id, .. } => Some(*farm_id),
                    _ => None,
                })?;
            }
            let command = Command::RegisterNode { farm_id: farm, spec: spec(i), offered_slices: None };
            let events = self.apply(farmer, command)?;
            ids.push(find_event(&events, "NodeRegistered", |e| match e {
                Event::NodeRegistered { node_id, .. } => Some(*node_id),
                _ => None,
            })?);
        }
        Ok(ids)
    }

    // Reads of the state.

    pub(super) fn now(&self) -> i64 {
        self.driver.state().now()
    }

    pub(super) fn params(&self) -> &tfeco_core::Params {
        self.driver.state().params()
    }

    /// The name of the first catalogue model that has slices.
    pub(super) fn sliced_model(&self) -> Option<String> {
        self.driver.state().catalogue().iter().find(|m| m.typical_slices > 0).map(|m| m.name.clone())
    }

    /// A node's price band per slice-month, `(min, max)`.
    pub(super) fn band(&self, node_id: NodeId) -> Option<(Amount<Cc>, Amount<Cc>)> {
        self.driver.state().capacity().nodes().get(&node_id).map(|n| (n.band_min, n.band_max))
    }

    /// `capacity::search` over the state.
    pub(super) fn search(&self, query: &tfeco_core::SearchQuery) -> Vec<SearchHit> {
        self.driver.state().capacity().search(query, self.driver.state().params())
    }

    /// When the current exit round closes.
    pub(super) fn exit_round_closes_at(&self) -> i64 {
        self.driver.state().exit_pool().round().closes_at
    }

    /// Exit positions that earned margin.
    pub(super) fn positions_credited(&self) -> usize {
        self.driver.state().exit_pool().positions().values().filter(|p| p.earned.is_positive()).count()
    }

    /// The size of a stored minting report's canonical JSON, bytes.
    pub(super) fn report_json_bytes(&self, period: u32) -> Option<usize> {
        self.driver.state().rewards().reports().get(&period).map(|r| r.canonical_json.len())
    }

    /// When an exchange market's current batch clears.
    pub(super) fn next_clear_at(&self, market_id: tfeco_core::MarketId) -> Option<i64> {
        self.driver.state().exchange().books().get(&market_id).map(|b| b.next_clear_at)
    }
}

/// The position opened by `events`.
pub(super) fn opened_position(events: &[Event]) -> Result<PositionId> {
    find_event(events, "PositionOpened", |e| match e {
        Event::PositionOpened { position_id, .. } => Some(*position_id),
        _ => None,
    })
}
