//! The demo's summary: what one month did to the economy (entries, state hash and its replay, commands
//! accepted and refused, CC and TFT flows, leases, prices, minting, revenue per farmer) as one typed
//! [`Summary`] (its JSON is the `--json` output), and its human form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tfeco_core::{AccountKey, SystemAccount};
use tfeco_money::{Amount, AnyAsset, Cc, Tft};
use tfeco_wallet::api::capacity::{LeaseStatusView, LeaseView, LeasesQuery};
use tfeco_wallet::api::ledger::{CurrentPrices, SystemAccountsView};
use tfeco_wallet::api::rewards::MintReportSummary;
use tfeco_wallet::client::account_of;

use super::Demo;
use crate::Result;

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
    /// The minting reports (`None` when the node would not list them).
    pub minting_reports: Option<Vec<MintReportSummary>>,
    /// TFT minted as rewards since genesis.
    pub tft_rewards_minted: Amount<AnyAsset>,
    /// TFT locked in vesting.
    pub vesting_locked_tft: Option<Amount<AnyAsset>>,
    /// The assumptions played with.
    pub assumptions: Assumptions,
    /// The node's data directory.
    pub data_dir: PathBuf,
}

impl Demo {
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
            minting_reports: client.mint_reports().await.ok().map(|view| view.reports),
            tft_rewards_minted: supply.assets.tft.minted,
            vesting_locked_tft: system_balance(&system, SystemAccount::VestingLocked).map(|b| b.tft),
            assumptions: self.assumptions(),
            data_dir: context.data_dir.to_owned(),
        })
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

/// A JSON rendering of a small map or view for the human summary.
fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// An amount, or `?` when the node did not say.
fn amount_text<A>(amount: Option<&Amount<A>>) -> String {
    amount.map_or_else(|| "?".to_owned(), ToString::to_string)
}

/// The human form of a summary (several lines, ending with a newline).
pub fn render_summary(summary: &Summary) -> String {
    let mut out = String::new();
    let resumed = if summary.resumed { " (resumed)" } else { "" };
    let _ = writeln!(out, "TFGrid Economy demo: month {} played{resumed}", summary.month_played);
    let _ = writeln!(out, "  journal entries      {}", summary.entries);
    let _ = writeln!(out, "  state hash           {}", summary.state_hash);
    let replay = if summary.replay_matches { "same hash" } else { "MISMATCH" };
    let _ = writeln!(out, "  replay from scratch  {replay}");
    let invariants = if summary.invariants_ok { "OK" } else { "VIOLATED" };
    let _ = writeln!(out, "  invariants           {invariants}");
    let rejected = json_text(&summary.commands_rejected);
    let _ = writeln!(
        out,
        "  commands             {} accepted, rejected by code {rejected}",
        summary.commands_accepted
    );
    let _ = writeln!(out, "  CC minted            {}", summary.cc_minted);
    let _ = writeln!(out, "  CC burned            {}", summary.cc_burned);
    let _ = writeln!(out, "  TFT locked (vault)   {}", summary.tft_locked_in_vault);
    let _ = writeln!(out, "  TFT burned           {}", summary.tft_burned);
    let _ = writeln!(out, "  treasury             {} CC", amount_text(summary.treasury_cc.as_ref()));
    let _ = writeln!(out, "  leases               {}", json_text(&summary.leases));
    let _ = writeln!(out, "  prices               {}", json_text(&summary.prices));
    for report in summary.minting_reports.as_deref().unwrap_or_default() {
        let _ = writeln!(
            out,
            "  minting period {}     {} nodes, {} TFT, hash {}…, signed {}, {}",
            report.period,
            report.nodes,
            report.total,
            report.hash.chars().take(16).collect::<String>(),
            report.signatures,
            if report.minted_at.is_none() { "pending" } else { "minted into vesting" }
        );
    }
    let _ = writeln!(out, "  TFT locked (vesting) {}", amount_text(summary.vesting_locked_tft.as_ref()));
    out.push_str("  revenue per farmer (CC):\n");
    for farmer in &summary.revenue_per_farmer {
        let revenue = farmer.revenue_cc.to_string();
        let _ = writeln!(out, "    farmer {}  {revenue:>14}  {}", farmer.farmer, farmer.account);
    }
    out
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
