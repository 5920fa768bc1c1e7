//! Minting and vesting: minting reports, the vesting of farmers' rewards and nodes' uptime
//! (`GET /v1/mint/reports`, `/v1/mint/reports/{period}`, `/v1/vesting`, `/v1/nodes/{id}/uptime`).

use serde::{Deserialize, Serialize};
use tfeco_core::rules::minting::{UptimeReport, UptimeRules, VestingRule, Violation};
use tfeco_core::{AccountKey, FarmId, NodeId, Resources};
use tfeco_money::{Amount, Tft};
use utoipa::{IntoParams, ToSchema};

/// Whether a report's rewards were minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MintStatus {
    /// Waiting for guardian signatures.
    Pending,
    /// Minted.
    Minted,
}

/// A minting report in brief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MintReportSummary {
    /// The minting period.
    pub period: u32,
    /// Its start, unix seconds.
    pub period_start: i64,
    /// Its end, unix seconds.
    pub period_end: i64,
    /// The reward rules applied.
    pub rule_set: String,
    /// Nodes with a receipt.
    pub nodes: usize,
    /// TFT to mint.
    pub total: Amount<Tft>,
    /// blake3 of the canonical JSON, hex (what guardians sign).
    pub hash: String,
    /// Signatures of current guardians.
    pub signatures: usize,
    /// Signatures needed.
    pub threshold: u32,
    /// Guardians who signed.
    pub signers: Vec<AccountKey>,
    /// Pending or minted.
    pub status: MintStatus,
    /// When it was minted.
    pub minted_at: Option<i64>,
    /// Whether the rewards were scaled down to fit the supply cap.
    pub scaled_to_cap: bool,
}

/// `GET /v1/mint/reports`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MintReportsView {
    /// The state's time.
    pub now: i64,
    /// Whether minting is enabled.
    pub minting_enabled: bool,
    /// The reward rules in force.
    pub rule_set: String,
    /// The next period to close (`null`: none yet).
    pub next_period: Option<u32>,
    /// When it closes.
    pub next_close_at: Option<i64>,
    /// Signatures needed.
    pub threshold: u32,
    /// TFT in existence (checked against the cap).
    pub tft_global_supply: Amount<Tft>,
    /// The TFT supply cap.
    pub tft_supply_cap: Amount<Tft>,
    /// Reports, by period.
    pub reports: Vec<MintReportSummary>,
}

/// One node's receipt in a minting report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MintReceiptView {
    /// The node.
    pub node_id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// The period.
    pub period: u32,
    /// Resources counted.
    pub resources: Resources,
    /// Certified hardware.
    pub certified: bool,
    /// Seconds of uptime credited.
    pub credited_s: u64,
    /// Uptime in thousandths.
    pub uptime_permill: u32,
    /// Violations in the period.
    pub violations: u32,
    /// The violation that zeroed the reward, if any.
    pub violation: Option<String>,
    /// Reward before scaling to the cap.
    pub reward_unscaled: Amount<Tft>,
    /// Reward.
    pub reward: Amount<Tft>,
}

/// `GET /v1/mint/reports/{period}`: one report in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MintReportDetail {
    /// The report in brief.
    #[serde(flatten)]
    pub summary: MintReportSummary,
    /// Every node's receipt.
    pub receipts: Vec<MintReceiptView>,
    /// Sum of the unscaled rewards.
    pub unscaled_total: Amount<Tft>,
    /// The canonical JSON whose blake3 is `hash`.
    pub canonical_json: String,
}

/// `GET /v1/vesting` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VestingQuery {
    /// Only the nodes of this key's farms.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{64}$")]
    pub owner: Option<AccountKey>,
}

/// An amount, or why it cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AmountOrError {
    /// The amount.
    Amount(Amount<Tft>),
    /// Why not.
    Error {
        /// The reason.
        error: String,
    },
}

/// The vesting record of one node's rewards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VestingRecordView {
    /// The node.
    pub node_id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// The farm's owner.
    pub owner: AccountKey,
    /// TFT vesting in total.
    pub total: Amount<Tft>,
    /// TFT released.
    pub released: Amount<Tft>,
    /// TFT still locked.
    pub locked: Amount<Tft>,
    /// When vesting started.
    pub start: i64,
    /// TFT vested now.
    pub vested: AmountOrError,
    /// TFT releasable now.
    pub releasable: AmountOrError,
    /// When it unlocks by time (seed rule) or its last step vests (`release_36m`).
    pub unlocks_by_time_at: i64,
    /// Monthly utilization history, basis points.
    pub utilization_bps: Vec<u16>,
}

/// Sums over the records of a vesting view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VestingTotals {
    /// TFT vesting in total.
    pub total: Amount<Tft>,
    /// TFT released.
    pub released: Amount<Tft>,
    /// TFT locked.
    pub locked: Amount<Tft>,
    /// TFT vested now.
    pub vested: Amount<Tft>,
    /// TFT releasable now.
    pub releasable: Amount<Tft>,
}

/// `GET /v1/vesting`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VestingView {
    /// The state's time.
    pub now: i64,
    /// The owner asked for (`null`: all).
    pub owner: Option<AccountKey>,
    /// The vesting rule in force: `seed` or `release_36m`.
    pub rule: String,
    /// Its parameters.
    pub rule_params: VestingRule,
    /// Records, by node.
    pub records: Vec<VestingRecordView>,
    /// Sums.
    pub totals: VestingTotals,
}

/// One minting period of a node's uptime tracker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UptimePeriodView {
    /// The period.
    pub period: u32,
    /// Its start.
    pub period_start: i64,
    /// Its end.
    pub period_end: i64,
    /// Always `open` (closed periods are in the minting reports).
    pub status: String,
    /// Seconds credited so far.
    pub credited_s: u64,
    /// Uptime in thousandths so far.
    pub uptime_permill: u32,
    /// Reports received.
    pub reports: u32,
    /// Violations so far.
    pub violations: u32,
    /// The kind of the violation that zeroes the period, if any.
    pub violation: Option<String>,
    /// That violation in full.
    pub violation_detail: Option<Violation>,
}

/// `GET /v1/nodes/{id}/uptime`: a node's report key and the running uptime of its open period(s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UptimeView {
    /// The node.
    pub node_id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// When it registered.
    pub registered_at: i64,
    /// The key that signs its uptime reports (`null`: none set).
    pub report_key: Option<AccountKey>,
    /// Whether it reported at least once.
    pub reporting: bool,
    /// Its first report.
    pub first_report_at: Option<i64>,
    /// Its last report.
    pub last_report: Option<UptimeReport>,
    /// The open period of its tracker.
    pub open_period: Option<u32>,
    /// Running figures of the open period(s).
    pub periods: Vec<UptimePeriodView>,
    /// The state's time.
    pub now: i64,
    /// The period of `now` (`null` before the first period).
    pub current_period: Option<u32>,
    /// The next period to close.
    pub next_period_to_close: Option<u32>,
    /// Delay after a period's end before it closes, seconds.
    pub close_delay_s: i64,
    /// The uptime rules in force.
    pub rules: UptimeRules,
    /// The node's vesting record (`null`: none).
    pub vesting: Option<VestingRecordBrief>,
}

/// A vesting record as the core keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VestingRecordBrief {
    /// TFT vesting in total.
    pub total: Amount<Tft>,
    /// TFT released.
    pub released: Amount<Tft>,
    /// When vesting started.
    pub start: i64,
    /// Monthly utilization history, basis points.
    pub utilization_bps: Vec<u16>,
}
