//! The demo's summary: what one month did to the economy (entries, state hash and its replay, commands
//! accepted and refused, the month's and the cumulative flows, what was burned and why, one section per
//! mechanism, leases, prices, revenue per farmer, the guardians' checkpoint) as one typed [`Summary`] (its JSON is the `--json`
//! output; its human form is in `render`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tfeco_core::{AccountKey, SystemAccount};
use tfeco_money::{Amount, AnyAsset, Cc, Tft};
use tfeco_wallet::api::capacity::{
    CapacityRequestsQuery, LeaseStatusView, LeaseView, LeasesQuery, StandingBidsQuery,
};
use tfeco_wallet::api::checkpoints::CheckpointsView;
use tfeco_wallet::api::exchange::BatchesQuery;
use tfeco_wallet::api::ledger::{CurrentPrices, SystemAccountsView};
use tfeco_wallet::client::account_of;

use super::sections::{self, Burns, CapacitySection, ExchangeSection, ExitSection, Flows};
use super::sections::{FarmingPoolLine, FarmingPoolsSection, MintingSection, StandingBidsSection};
use super::Demo;
use crate::Result;

/// The node's cumulative figures when a run starts: the month's figures are the differences.
pub(super) struct Baseline {
    flows: Flows,
    standing_slices_filled: u64,
}

/// What the binary knows about the run that the node does not say.
pub struct SummaryContext<'a> {
    /// The node's data directory.
    pub data_dir: &'a Path,
    /// Whether the node had entries before this run.
    pub resumed: bool,
    /// The state hash of the node's journal replayed from scratch, or why the replay failed.
    pub replay_hash: std::result::Result<String, String>,
}

/// A farmer's revenue at the end of the month.
#[derive(Clone, Debug, Serialize)]
pub struct FarmerRevenue {
    /// The farmer's number, from 1.
    pub farmer: usize,
    /// Its account.
    pub account: AccountKey,
    /// CC earned as revenue.
    pub revenue_cc: Amount<Cc>,
}

/// The assumptions the demo plays with (stated, not derived).
#[derive(Clone, Debug, Serialize)]
pub struct Assumptions {
    /// The TFT price path.
    pub tft_usd: String,
    /// The gold price and its month.
    pub gold_usd_per_oz: String,
    /// Entry price.
    pub entry_tft_per_cc: String,
    /// The revenue split.
    pub revenue_split: String,
}

/// One month of the demo, as the node reports it after the month (amounts are decimal strings in JSON).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The month played, from 1.
    pub month_played: i64,
    /// Whether the node had entries before this run.
    pub resumed: bool,
    /// The node's (virtual) time, unix seconds.
    pub virtual_time: i64,
    /// Journal entries.
    pub entries: u64,
    /// The live state hash.
    pub state_hash: String,
    /// The node's invariants hold and the replay succeeded.
    pub invariants_ok: bool,
    /// The state hash of the journal replayed from scratch (or why the replay failed).
    pub replay_state_hash: String,
    /// The replayed hash is the live one.
    pub replay_matches: bool,
    /// Commands the node accepted in this run.
    pub commands_accepted: u64,
    /// Commands the node refused in this run, by stable code.
    pub commands_rejected: BTreeMap<String, u64>,
    /// CC minted since genesis.
    pub cc_minted: Amount<AnyAsset>,
    /// CC burned since genesis.
    pub cc_burned: Amount<AnyAsset>,
    /// TFT locked in the vault.
    pub tft_locked_in_vault: Amount<Tft>,
    /// TFT burned since genesis.
    pub tft_burned: Amount<AnyAsset>,
    /// TFT in existence on this ledger and bridged out.
    pub tft_global_supply: Amount<Tft>,
    /// The treasury's CC.
    pub treasury_cc: Option<Amount<AnyAsset>>,
    /// TFT owed to the burn.
    pub burn_owed_tft: Amount<Tft>,
    /// Revenue per farmer.
    pub revenue_per_farmer: Vec<FarmerRevenue>,
    /// Leases counted by status (`active`, `grace`, ... or `closed_<reason>`).
    pub leases: BTreeMap<String, u64>,
    /// The oracle's effective prices.
    pub prices: CurrentPrices,
    /// The month's flows.
    pub month: Flows,
    /// The flows since genesis.
    pub cumulative: Flows,
    /// What was burned this month and why.
    pub burns: Burns,
    /// The exit pool: weekly rounds that clear and pay USDC.
    pub exit: ExitSection,
    /// The TFT/USDC exchange: batches with trades.
    pub exchange: ExchangeSection,
    /// Capacity requests: reverse auctions that fill.
    pub capacity: CapacitySection,
    /// Standing bids: the seed tiers, funded and filled.
    pub standing_bids: StandingBidsSection,
    /// Farming pools.
    pub farming_pools: FarmingPoolsSection,
    /// Minting.
    pub minting: MintingSection,
    /// What the agents did this run.
    pub activity: sections::Activity,
    /// The assumptions played with.
    pub assumptions: Assumptions,
    /// The node's data directory.
    pub data_dir: PathBuf,
    /// The newest final guardian checkpoint (else the newest one; `None` when the node has none).
    pub checkpoint: Option<CheckpointSection>,
}

/// A guardian checkpoint of the node: the journal and state hashes the guardians replayed and signed.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointSection {
    /// The journal sequence number it covers.
    pub seq: u64,
    /// The hash of entry `seq` (hex).
    pub journal_hash: String,
    /// The state hash after entry `seq` (hex).
    pub state_hash: String,
    /// Valid signatures of current guardians.
    pub signatures: u32,
    /// Signatures needed.
    pub threshold: u32,
    /// Whether the signatures reach the threshold.
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// The newest final checkpoint of `view`, else its newest.
fn checkpoint_section(view: &CheckpointsView) -> Option<CheckpointSection> {
    let chosen = view.checkpoints.iter().rev().find(|c| c.is_final).or(view.checkpoints.last())?;
    Some(CheckpointSection {
        seq: chosen.seq,
        journal_hash: chosen.journal_hash.clone(),
        state_hash: chosen.state_hash.clone(),
        signatures: chosen.signatures,
        threshold: chosen.threshold,
        is_final: chosen.is_final,
    })
}

impl Demo {
    /// The node's cumulative figures now (taken when a run starts).
    pub(super) async fn baseline(&self) -> Result<Baseline> {
        let client = self.driver.client();
        let supply = client.supply().await?;
        let leases = client.leases(&LeasesQuery::default()).await?.leases;
        let bids = client.standing_bids(&StandingBidsQuery::default()).await?.standing_bids;
        Ok(Baseline {
            flows: Flows::total(&supply, sections::capacity_paid(&leases)),
            standing_slices_filled: sections::slices_filled(&bids),
        })
    }

    /// The summary after [`Demo::play`]. `invariants_ok` holds when the node's invariants hold and the
    /// replay succeeded; `replay_matches` when the replayed hash is the live one.
    pub async fn summary(&self, context: SummaryContext<'_>) -> Result<Summary> {
        let client = self.driver.client();
        let status = client.status().await?;
        let supply = client.supply().await?;
        let system = client.system_accounts().await?;
        let leases = client.leases(&LeasesQuery::default()).await?.leases;
        let mut revenue_per_farmer = Vec::new();
        for (i, farmer) in self.agents.farmers.iter().enumerate() {
            let account = account_of(farmer);
            let revenue_cc = client.account(&account).await?.revenue_cc;
            revenue_per_farmer.push(FarmerRevenue { farmer: i + 1, account, revenue_cc });
        }
        let (replay_state_hash, replay_ok) = match context.replay_hash {
            Ok(hash) => (hash, true),
            Err(error) => (format!("replay failed: {error}"), false),
        };
        let cumulative = Flows::total(&supply, sections::capacity_paid(&leases));
        let baseline = self.baseline.as_ref().ok_or_else(|| super::month::check("summary before play"))?;
        let month = cumulative.since(&baseline.flows);
        let reserve = client.pool2().await?.reserve_tfp;
        let vesting_locked_tft = system_balance(&system, SystemAccount::VestingLocked).map(|b| b.tft);
        let minting = MintingSection {
            tft_minted: month.tft_rewards_minted,
            tft_minted_total: cumulative.tft_rewards_minted,
            vesting_locked_tft,
            reports: client.mint_reports().await.ok().map(|view| view.reports),
        };
        Ok(Summary {
            month_played: self.month_number(),
            resumed: context.resumed,
            virtual_time: status.now,
            entries: status.seq,
            invariants_ok: status.invariants_ok && replay_ok,
            replay_matches: replay_state_hash == status.state_hash,
            replay_state_hash,
            state_hash: status.state_hash,
            commands_accepted: self.driver.accepted(),
            commands_rejected: self.driver.refused().clone(),
            cc_minted: supply.assets.cc.minted,
            cc_burned: supply.assets.cc.burned,
            tft_locked_in_vault: supply.vault_tft,
            tft_burned: supply.assets.tft.burned,
            tft_global_supply: supply.tft_global_supply,
            treasury_cc: system_balance(&system, SystemAccount::Treasury).map(|b| b.cc),
            burn_owed_tft: supply.burn_owed_tft,
            revenue_per_farmer,
            leases: leases_by_status(&leases),
            prices: client.prices().await?.current,
            burns: Burns::new(&month, &self.activity, &supply, reserve),
            month,
            cumulative,
            exit: self.exit_section().await?,
            exchange: self.exchange_section().await?,
            capacity: self.capacity_section().await?,
            standing_bids: self.standing_bids_section(baseline).await?,
            farming_pools: self.farming_pools_section().await?,
            minting,
            activity: self.activity.clone(),
            assumptions: self.assumptions(),
            data_dir: context.data_dir.to_owned(),
            checkpoint: client.checkpoints().await.ok().as_ref().and_then(checkpoint_section),
        })
    }

    async fn exit_section(&self) -> Result<ExitSection> {
        let client = self.driver.client();
        let round = client.exit_round().await?;
        let rounds = client.exit_rounds().await?.rounds;
        let month = sections::exit_month(&rounds, self.month_window());
        Ok(ExitSection {
            rounds_closed: month.closed,
            rounds_cleared: month.cleared,
            usdc_paid: month.paid,
            tfp_surrendered: month.surrendered,
            margin_tfp: month.margin,
            rounds: month.rounds,
            deposited_usdc: self.activity.exit_usdc_deposited,
            from_treasury_usdc: self.activity.exit_usdc_from_treasury,
            bids_submitted: self.activity.exit_bids_submitted,
            positions: round.positions,
            pool_usdc: round.pool_usdc,
            pool_tfp: round.pool_tfp,
            usdc_paid_total: round.total_usdc_paid,
            value_contributed_usd_total: round.total_value_contributed_usd,
        })
    }

    async fn exchange_section(&self) -> Result<ExchangeSection> {
        let client = self.driver.client();
        let markets = client.exchange_markets().await?.markets;
        let Some(market) = markets.first() else { return Ok(ExchangeSection::default()) };
        let query = BatchesQuery { limit: Some(100) };
        let batches = client.exchange_batches(market.id, &query).await?.batches;
        let mut section = ExchangeSection::from_batches(&batches, self.month_window());
        section.market = format!("{}/{}", market.base.code(), market.quote.code());
        section.orders_placed = self.activity.orders_placed;
        section.last_price = market.last_price;
        Ok(section)
    }

    async fn capacity_section(&self) -> Result<CapacitySection> {
        let query = CapacityRequestsQuery::default();
        let requests = self.driver.client().capacity_requests(&query).await?.requests;
        let mut section = CapacitySection::from_requests(&requests, self.month_window());
        section.requests_posted = self.activity.capacity_requests_posted;
        section.offers = self.activity.capacity_offers;
        Ok(section)
    }

    async fn standing_bids_section(&self, baseline: &Baseline) -> Result<StandingBidsSection> {
        let bids = self.driver.client().standing_bids(&StandingBidsQuery::default()).await?.standing_bids;
        let total = sections::slices_filled(&bids);
        Ok(StandingBidsSection {
            slices_filled: total.saturating_sub(baseline.standing_slices_filled),
            slices_filled_total: total,
            escrow_cc: Amount::from_units(bids.iter().map(|b| b.escrow.units()).sum()),
            bids,
        })
    }

    async fn farming_pools_section(&self) -> Result<FarmingPoolsSection> {
        let client = self.driver.client();
        let mut pools = Vec::new();
        for pool in client.farming_pools().await?.pools {
            let detail = client.farming_pool(pool.id).await?;
            pools.push(FarmingPoolLine {
                name: pool.name,
                member_farms: pool.members.len(),
                member_nodes: detail.member_nodes.len(),
                fee_bps: pool.rules.fee_bps.get(),
                price_policy: policy_name(pool.rules.price_policy),
                owner_revenue_cc: client.account(&pool.owner).await?.revenue_cc,
            });
        }
        Ok(FarmingPoolsSection { prices_set: self.activity.pool_prices_set, pools })
    }

    fn assumptions(&self) -> Assumptions {
        Assumptions {
            tft_usd: "0.01 with a deterministic daily drift of up to ±2%".to_owned(),
            gold_usd_per_oz: format!("{} ({}, latest row of the series)", self.gold, self.gold_month),
            entry_tft_per_cc: "2".to_owned(),
            revenue_split: "farmer 80% / burn 10% / treasury 10%".to_owned(),
        }
    }
}

/// A farming pool's price policy in words.
fn policy_name(policy: tfeco_core::PricePolicy) -> String {
    match policy {
        tfeco_core::PricePolicy::Free => "free inside the band".to_owned(),
        tfeco_core::PricePolicy::Range { min_month, max_month } => format!("{min_month}..{max_month} CC"),
        tfeco_core::PricePolicy::PoolSet => "set by the pool".to_owned(),
    }
}

/// The balances of a system account, if the node lists it.
fn system_balance(
    system: &SystemAccountsView,
    account: SystemAccount,
) -> Option<tfeco_wallet::api::ledger::PerAsset<Amount<AnyAsset>>> {
    system.0.get(account.name()).cloned()
}

/// Leases counted by status (`active`, `grace`, `cancelling`, or `closed_<reason>`).
fn leases_by_status(leases: &[LeaseView]) -> BTreeMap<String, u64> {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for lease in leases {
        let key = match (&lease.closed, lease.status) {
            (Some(closed), _) => format!("closed_{}", wire_name(&closed.reason)),
            (None, LeaseStatusView::Closed { reason, .. }) => format!("closed_{}", wire_name(&reason)),
            (None, status) => wire_name(&status),
        };
        *by_status.entry(key).or_default() += 1;
    }
    by_status
}

/// The name a unit variant or a tagged enum has on the wire (`insufficient_funds`, `active`): a string
/// serializes as itself, an internally tagged enum by its `status` tag.
fn wire_name<T: Serialize>(value: &T) -> String {
    #[derive(serde::Deserialize)]
    struct Tagged {
        status: String,
    }
    let json = serde_json::to_value(value).unwrap_or_default();
    match json {
        serde_json::Value::String(name) => name,
        other => serde_json::from_value::<Tagged>(other).map_or_else(|_| "?".to_owned(), |t| t.status),
    }
}

#[cfg(test)]
mod tests {
    use tfeco_core::{Billing, CloseReason, LeaseId, NodeId};
    use tfeco_wallet::api::capacity::LeaseClosed;

    use super::*;

    fn lease(status: LeaseStatusView, closed: Option<LeaseClosed>) -> LeaseView {
        LeaseView {
            id: LeaseId(1),
            tenant: AccountKey([1; 32]),
            node_id: NodeId(1),
            n_slices: 1,
            billing: Billing::Monthly,
            price_month: Amount::from_units(1),
            period_charge: Amount::from_units(1),
            opened_at: 0,
            next_charge_at: 0,
            ends_at: None,
            status,
            periods_paid: 0,
            total_paid: Amount::ZERO,
            closed,
        }
    }

    #[test]
    fn leases_count_by_status_and_close_reason() {
        let closed = LeaseClosed { reason: CloseReason::InsufficientFunds, at: 5 };
        let leases = [
            lease(LeaseStatusView::Active, None),
            lease(LeaseStatusView::Active, None),
            lease(LeaseStatusView::Grace { since: 3 }, None),
            lease(LeaseStatusView::Closed { reason: CloseReason::InsufficientFunds, at: 5 }, Some(closed)),
            lease(LeaseStatusView::Closed { reason: CloseReason::Expired, at: 5 }, None),
        ];
        let counts = leases_by_status(&leases);
        let expected: BTreeMap<String, u64> =
            [("active", 2), ("grace", 1), ("closed_insufficient_funds", 1), ("closed_expired", 1)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        assert_eq!(counts, expected);
    }
}
