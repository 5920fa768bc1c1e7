//! The demo's plot: the setup of a fresh economy and one month of days, each day's actions in a fixed order
//! (a tick shortly before the day with fresh prices, the day's tick, uptime, minting signatures, a few
//! users' deposits and leases, a trade on the exchange, the weekly capacity request, bid-tier fills, pool
//! prices, exit bids and cancellation, the month's Pool 2 conversions).

use std::collections::BTreeMap;

use rand::Rng;
use tfeco_core::{AccountKey, Command, Event, FarmId, NodeId, NodeSpec, PriceFeed};
use tfeco_money::{Amount, Asset, Cc, Price, Tft};
use tfeco_wallet::api::capacity::{LeasesQuery, NodesQuery};
use tfeco_wallet::client::account_of;

use super::agents::{self, NodeAgent};
use super::{Demo, DAY, MONTH_DAYS, N_FARMERS, N_GUARDIANS, N_USERS, START};
use crate::{Result, SimError};

/// Uptime samples per `ReportUptime` (below the parameter's limit of 1,000).
const SAMPLES_PER_REPORT: usize = 500;
/// A minting period that ends during a day is closed by a tick at its end; the nodes report up to it when
/// the day's tick comes at least this long after it (one report interval and a minute).
const PERIOD_CLOSE_MARGIN_S: i64 = 2_460;
/// The guardians submit prices this long before each day's tick (after a tick to that moment), so that the
/// day's tick burns revenue, clears batches and closes exit rounds at valid prices (oracle max age: 1 h).
const PRICE_LEAD_S: i64 = 600;

impl Demo {
    /// A fresh node: guardians, first prices, farms, nodes with prices and node keys, funded users.
    pub(super) async fn setup(&mut self) -> Result<()> {
        let now = self.driver.now().await?;
        for g in 0..N_GUARDIANS {
            self.driver.submit(&self.agents.guardians[g], Command::RegisterAccount {}).await?;
        }
        self.submit_prices(now).await?;
        for i in 0..N_FARMERS {
            let farmer = &self.agents.farmers[i];
            self.driver.submit(farmer, Command::RegisterAccount {}).await?;
            let name = format!("Demo Farm {:02}", i + 1);
            self.driver.submit(farmer, Command::RegisterFarm { name }).await?;
        }
        let farm_ids = self.farm_ids().await?;
        for i in 0..N_FARMERS {
            let owner = account_of(&self.agents.farmers[i]);
            let farm_id = *farm_ids.get(&owner).ok_or_else(|| check("no farm of a demo farmer"))?;
            for k in 0..agents::nodes_of_farmer(i) {
                self.add_node(i, k, farm_id, now).await?;
            }
        }
        for j in 0..N_USERS {
            self.driver.submit(&self.agents.users[j], Command::RegisterAccount {}).await?;
            let (tft, enter) = agents::first_funding(j);
            self.deposit_and_enter(j, tft, enter).await?;
        }
        self.setup_markets().await?;
        self.setup_exit().await
    }

    /// The farms by owner.
    pub(super) async fn farm_ids(&self) -> Result<BTreeMap<AccountKey, FarmId>> {
        let farms = self.driver.client().farms().await?.farms;
        Ok(farms.into_iter().map(|farm| (farm.owner, farm.id)).collect())
    }

    /// Farmer `i` registers its node `k` in its farm, prices it and names the node's own key.
    async fn add_node(&mut self, i: usize, k: usize, farm_id: FarmId, now: i64) -> Result<()> {
        let model = agents::model_of(&self.catalogue, i, k);
        let (spec, price) = (NodeSpec::Model { model: model.name.clone() }, agents::slice_price(model, i, k));
        let farmer = &self.agents.farmers[i];
        let command = Command::RegisterNode { farm_id, spec, offered_slices: None };
        let Some(events) = self.driver.submit(farmer, command).await?.events()? else { return Ok(()) };
        let node_id = events
            .iter()
            .find_map(|event| match event {
                Event::NodeRegistered { node_id, .. } => Some(*node_id),
                _ => None,
            })
            .ok_or_else(|| check("no node_registered event"))?;
        self.driver.submit(farmer, Command::SetSlicePrice { node_id, price }).await?;
        let node = NodeAgent::new(node_id.0, i, now, now);
        self.driver.submit(&node.key, Command::RegisterAccount {}).await?;
        let node_key = account_of(&node.key);
        self.agents.nodes.insert(node_id.0, node);
        self.driver.submit(&self.agents.farmers[i], Command::SetNodeKey { node_id, node_key }).await?;
        Ok(())
    }

    /// A resumed node: the nodes' keys come from their ids; their last report is the node's time.
    pub(super) async fn resume(&mut self) -> Result<()> {
        let now = self.driver.now().await?;
        let owners = self.farm_ids().await?;
        let farm_owner: BTreeMap<FarmId, AccountKey> = owners.into_iter().map(|(o, f)| (f, o)).collect();
        let farmer_of = |farm: FarmId| {
            let owner = farm_owner.get(&farm)?;
            self.agents.farmers.iter().position(|key| account_of(key) == *owner)
        };
        let mut found = Vec::new();
        for node in self.driver.client().nodes(&NodesQuery::default()).await?.nodes {
            if let Some(farmer) = farmer_of(node.farm_id) {
                found.push(NodeAgent::new(node.id.0, farmer, START, now));
            }
        }
        for node in found {
            self.agents.nodes.insert(node.id, node);
        }
        Ok(())
    }

    /// The month: leases at its start, then one day at a time.
    pub(super) async fn play_month(&mut self) -> Result<()> {
        let month_start = START + self.month * MONTH_DAYS * DAY;
        let first_month = self.month == 0;
        self.post_bid_tiers().await?;
        self.fund_exit_pool().await?;
        for user in 0..N_USERS {
            if self.rng.gen_bool(if first_month { 0.9 } else { 0.3 }) {
                self.open_some_lease(user).await?;
            }
        }
        for day in 1..=MONTH_DAYS {
            self.play_day(month_start + day * DAY, day).await?;
        }
        Ok(())
    }

    async fn play_day(&mut self, now: i64, day: i64) -> Result<()> {
        self.tft_usd_atto = agents::next_tft_price(&mut self.rng, self.tft_usd_atto);
        // When a minting period closed since yesterday, tick at its end first so that the nodes report the
        // period's last hours before the close.
        let period = tfeco_core::rules::minting::period_of(now - DAY).unwrap_or(0);
        let end = tfeco_core::rules::minting::period_end(period);
        if end > now - DAY && end + PERIOD_CLOSE_MARGIN_S <= now {
            self.driver.submit(&self.agents.operator, Command::Tick { now: end }).await?;
            self.report_uptime(end).await?;
        }
        self.driver.submit(&self.agents.operator, Command::Tick { now: now - PRICE_LEAD_S }).await?;
        self.submit_prices(now - PRICE_LEAD_S).await?;
        self.driver.submit(&self.agents.operator, Command::Tick { now }).await?;
        self.report_uptime(now).await?;
        self.sign_mint_reports().await?;
        for _ in 0..2 {
            let user = self.rng.gen_range(0..N_USERS);
            if self.rng.gen_bool(0.5) {
                let tft = self.rng.gen_range(5..=20) * 100;
                self.deposit_and_enter(user, tft, tft).await?;
            } else {
                self.open_some_lease(user).await?;
            }
        }
        if day % 7 == 0 {
            let user = self.rng.gen_range(0..N_USERS);
            self.cancel_first_lease(user).await?;
        }
        self.play_markets(day).await?;
        self.bid_for_exit(now).await
    }

    /// The guardians' quorum submits both prices, observed `now`.
    pub(super) async fn submit_prices(&mut self, now: i64) -> Result<()> {
        let tft = Price::from_atto(self.tft_usd_atto);
        for g in 0..self.quorum {
            let guardian = &self.agents.guardians[g];
            let feed = PriceFeed::TftUsd;
            self.driver.submit(guardian, Command::SubmitPrice { feed, price: tft, observed_at: now }).await?;
            let (feed, price) = (PriceFeed::GoldUsdPerOz, self.gold);
            self.driver.submit(guardian, Command::SubmitPrice { feed, price, observed_at: now }).await?;
        }
        Ok(())
    }

    /// Each node reports its uptime every 40 minutes from its last report up to `until`.
    async fn report_uptime(&mut self, until: i64) -> Result<()> {
        let ids: Vec<u32> = self.agents.nodes.keys().copied().collect();
        for id in ids {
            let node = &self.agents.nodes[&id];
            let samples = node.samples_until(until);
            for chunk in samples.chunks(SAMPLES_PER_REPORT) {
                let command = Command::ReportUptime { node_id: NodeId(id), reports: chunk.to_vec() };
                self.driver.submit(&node.key, command).await?;
            }
            if let (Some(sample), Some(node)) = (samples.last(), self.agents.nodes.get_mut(&id)) {
                node.last_report = sample.at;
            }
        }
        Ok(())
    }

    /// The guardians verify each unminted report (re-computing its hash from the canonical JSON) and sign it
    /// up to their threshold, which mints it.
    async fn sign_mint_reports(&mut self) -> Result<()> {
        let reports = self.driver.client().mint_reports().await?.reports;
        for period in reports.iter().filter(|r| r.minted_at.is_none()).map(|r| r.period) {
            let full = self.driver.client().mint_report(period).await?;
            let hash = blake3::hash(full.canonical_json.as_bytes()).to_hex().to_string();
            for g in 0..self.quorum {
                let command = Command::SignMintReport { period, report_hash: hash.clone() };
                self.driver.submit(&self.agents.guardians[g], command).await?;
            }
        }
        Ok(())
    }

    /// The guardians' quorum attests a deposit of `whole` tokens of `asset` to `to` (a fresh external id).
    pub(super) async fn attest_deposit(&mut self, asset: Asset, to: AccountKey, whole: i64) -> Result<()> {
        self.deposits += 1;
        let external_tx_id = format!("demo-deposit-{}-{}", self.driver.now().await?, self.deposits);
        let amount = Amount::from_units(Amount::<Tft>::tokens(whole).units());
        for g in 0..self.quorum {
            let tx = external_tx_id.clone();
            let command = Command::AttestDeposit { asset, to, amount, external_tx_id: tx };
            self.driver.submit(&self.agents.guardians[g], command).await?;
        }
        Ok(())
    }

    /// The guardians attest a TFT deposit to `user`, who then enters `enter_whole` TFT as CC.
    async fn deposit_and_enter(&mut self, user: usize, tft_whole: i64, enter_whole: i64) -> Result<()> {
        let to = account_of(&self.agents.users[user]);
        self.attest_deposit(Asset::Tft, to, tft_whole).await?;
        let enter = Command::EnterWithTft { tft: Amount::tokens(enter_whole) };
        self.driver.submit(&self.agents.users[user], enter).await?;
        Ok(())
    }

    /// `user` leases on a node with free slices that it can pay for twice, if there is one.
    async fn open_some_lease(&mut self, user: usize) -> Result<()> {
        let nodes = self.driver.client().nodes(&NodesQuery::default()).await?.nodes;
        let account = self.driver.client().account(&account_of(&self.agents.users[user])).await?;
        let cc = Amount::<Cc>::from_units(account.balances.cc.units());
        let candidates = agents::affordable_nodes(&nodes, cc);
        if candidates.is_empty() {
            return Ok(());
        }
        let command = agents::choose_lease(&mut self.rng, &candidates);
        self.driver.submit(&self.agents.users[user], command).await?;
        Ok(())
    }

    /// `user` cancels its first open lease, if any.
    async fn cancel_first_lease(&mut self, user: usize) -> Result<()> {
        let query = LeasesQuery { tenant: Some(account_of(&self.agents.users[user])), open: Some(true) };
        let leases = self.driver.client().leases(&query).await?.leases;
        if let Some(lease_id) = leases.first().map(|lease| lease.id) {
            let command = Command::CancelLease { lease_id };
            self.driver.submit(&self.agents.users[user], command).await?;
        }
        Ok(())
    }
}

pub(super) fn check(what: &str) -> SimError {
    SimError::Check(format!("demo: {what}"))
}
