//! Parameters of the economy: every number of `decisions.md` as a named, documented field, with the
//! default set `tfgrid4-2025` built by [`Params::tfgrid4_2025`]; the guardian-approved changes of them
//! ([`ParamUpdate`], checked and applied here, collected by the governance slice); and the views the pure
//! rules take (`lease_pricing`, `oracle_rules`, ...).
//!
//! Encoding: `Params` is stored in the journal's genesis as JSON (see [`crate::genesis`]). Every field has
//! a default (the `tfgrid4-2025` value, [`Params::default`] with a zero operator key), so a parameter added by
//! a later version reads an older genesis with its default: adding a parameter never breaks a data directory.

use std::fmt;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Bps, Cc, Price, Ratio, Tft};

use crate::ids::{AccountKey, MarketId};
use crate::rules::billing::{CustomBand, LeasePricing, MinSpec};
use crate::rules::exit_auction::WeightParams;
use crate::rules::minting::{CapacityRules, SeedLockRule, UptimeRules, V3Rules, VestingRule};
use crate::rules::oracle::OracleRules;
use crate::types::{BidTier, Billing, MarketSpec, Requirements, Role};

pub use crate::rules::billing::{RevenueSplit, SplitRecipient};

/// All parameters of the economy. Units are in the field names (`_s` seconds, `_gb` gigabytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Params {
    /// Name of the parameter set, e.g. `"tfgrid4-2025"`.
    pub set_name: String,
    /// The operator: runs the node and submits `Tick` (§2).
    pub operator: AccountKey,
    /// The guardian set (§12): they attest external deposits and withdrawals, submit oracle prices, sign
    /// minting reports and parameter changes. Default: the operator alone until a set is configured.
    pub guardians: Vec<AccountKey>,
    /// Signatures needed (`None`: `ceil(2n/3)`, 6 of 9).
    pub guardian_threshold: Option<u32>,
    /// Fresh oracle submissions needed for a valid price (`None`: the guardian threshold, §3).
    pub oracle_quorum: Option<u32>,
    /// A parameter change takes effect this long after reaching the threshold (default 24 h, §12).
    pub param_delay_s: i64,
    /// A submission older than this is ignored (default 1 h).
    pub oracle_max_age_s: i64,
    /// Lower clamp of the effective TFT price (§3).
    pub tft_usd_min: Price,
    /// Upper clamp of the effective TFT price (§3).
    pub tft_usd_max: Price,
    /// Keys allowed to attest fiat payments for `EnterWithFiat` (§4).
    pub fiat_payment_keys: Vec<AccountKey>,
    /// Entry rate: TFT per CC while TFT trades below parity (default 2, §4).
    pub entry_tft_per_cc: Ratio,
    /// The active revenue split (§7).
    pub revenue_split: RevenueSplit,
    /// Grace period of an unpaid lease before it closes (default 72 h, §9).
    pub lease_grace_s: i64,
    /// Length of an hourly billing period (3,600 s).
    pub hour_s: i64,
    /// Length of a monthly billing period (720 h = 2,592,000 s, consistent with hourly = monthly / 720).
    pub month_s: i64,
    /// Hourly premium at the band minimum, in bps of the monthly rate / 720 (20,000 = 2.0, §9).
    pub hourly_premium_at_min_bps: u32,
    /// Hourly premium at the band maximum (15,000 = 1.5, §9).
    pub hourly_premium_at_max_bps: u32,
    /// Minimum node specs (§9): passmark per GB of memory.
    pub min_passmark_per_gb: u32,
    /// Minimum node memory in GB.
    pub min_mem_gb: u32,
    /// Minimum node SSD in GB.
    pub min_ssd_gb: u32,
    /// Whether the minimum specs also apply to published catalogue models. Default `false`: three published
    /// models (Large TFGrid Node, Large TFGrid Node 2, Mini 3) have under 200 passmark per GB; ThreeFold sells
    /// them, so they are accepted as published and the rule applies to custom hardware.
    pub min_spec_applies_to_catalogue: bool,
    /// Custom nodes: band minimum in CC per GB of slice memory per month (0.3 = 1.2 CC per 4 GB slice).
    pub custom_band_min_cc_per_gb: Amount<Cc>,
    /// Custom nodes: band maximum in CC per GB of slice memory per month (3 = 12 CC per 4 GB slice).
    pub custom_band_max_cc_per_gb: Amount<Cc>,
    /// Custom nodes: a slice is priced as if it had at least this much memory (4 GB, the standard slice).
    pub custom_band_floor_mem_gb: u32,
    /// TFT that exists outside the system (§1; 780,000,000 as ThreeFold's manual reports).
    pub tft_supply_external: Amount<Tft>,
    /// The global TFT cap (1,000,000,000).
    pub tft_supply_cap: Amount<Tft>,
    /// Longest farm name, external transaction id or payment id, in bytes.
    pub max_text_len: u32,
    /// Most slices a custom node may declare.
    pub max_slices_per_node: u32,
    /// Most nodes one farm may register.
    pub max_nodes_per_farm: u32,
    /// Most open leases one account may hold.
    pub max_open_leases_per_account: u32,
    /// Longest lease duration in periods (bounds the billing schedule).
    pub max_lease_periods: u32,
    /// Exit pool: a position can be closed this long after it opened (default 30 days, §8).
    pub position_min_lock_s: i64,
    /// Exit pool: length of an auction round (default 7 days, §8).
    pub exit_round_period_s: i64,
    /// Exit pool: before a round closes, only price improvements are accepted in this window (default 1 h).
    pub exit_lock_window_s: i64,
    /// Exit pool: how long a round with bids that is due to close waits for a valid TFT price (default
    /// 86,400 s = 1 day; 0: close at once). `p_ref` is the price at the scheduled close (§8); when the
    /// oracle has none then (prices older than `oracle_max_age_s`, e.g. a `Tick` long after the last
    /// submission), the round stays closing (lock window in force) and clears at the first valid price, by
    /// the next `Tick` or the `SubmitPrice` that makes it valid; past this wait it closes with
    /// `price_unavailable` and releases the bids.
    pub exit_price_wait_s: i64,
    /// Exit pool: minimum discount against the oracle TFT price (default 2,000 bps = 20 %).
    pub exit_min_discount_bps: Bps,
    /// Exit pool cap A: this share of all USD value ever contributed, minus USDC already paid out
    /// (default 5,000 bps = 50 %; `None` switches it off).
    pub exit_cap_a_bps: Option<Bps>,
    /// Exit pool cap B: this share of the pool's USDC at close (default 500 bps = 5 %; `None` = off).
    pub exit_cap_b_bps: Option<Bps>,
    /// Exit pool: the marginal price level shares the rest of the cap pro rata (`false`: whole bids only).
    pub exit_allow_partial: bool,
    /// Position weight: `amount * (1 + k * min(age, cap) / year)`, k in bps (default 10,000 = 1).
    pub position_weight_k_bps: u32,
    /// Position weight: age cap (default 2 years).
    pub position_age_cap_s: i64,
    /// Seconds in the weight's year (365 days).
    pub year_s: i64,
    /// Most open exit bids in one round.
    pub max_exit_bids_per_round: u32,
    /// Round results kept in the state (older ones remain in the journal's events).
    pub exit_history_rounds: u32,
    /// Most slices one standing bid or capacity request may ask for.
    pub max_slices_per_bid: u32,
    /// Longest offer window of a capacity request (default 30 days).
    pub max_request_window_s: i64,
    /// Node rewards: whether minting periods close into reports (§11).
    pub minting_enabled: bool,
    /// The reward rule set: `v3` (exact) or `capacity` (§11).
    pub reward_rules: RewardRules,
    /// Uptime report rules (40-minute interval, 60 s grace, 120 s clock skew).
    pub uptime_rules: UptimeRules,
    /// Lock-up and vesting of minted rewards: the seed rule or `release_36m` (§11).
    pub vesting_rule: VestingRule,
    /// A period is closed at the first Tick this long after its end (the last report's credit may reach
    /// back one interval plus grace: 2,460 s).
    pub mint_close_delay_s: i64,
    /// Most uptime reports in one command.
    pub max_uptime_reports_per_command: u32,
    /// Most seconds one `Tick` may advance the state's time (decisions §13, §14; issue 10 item 3): a larger
    /// step is refused (`limit_exceeded`, `tick_advance`) and must be split into several ticks, so that no
    /// single command carries an unbounded amount of time-driven work. Default 35 days (3,024,000 s): a
    /// monthly step fits.
    pub max_tick_advance_s: i64,
    /// Fewest distinct guardian keys a production genesis needs (decisions §12): a node whose genesis has
    /// fewer refuses to start unless the genesis is in [`Params::dev_mode`]. Default 9.
    pub min_guardians: u32,
    /// Explicit single-key development mode (decisions §12), recorded in the genesis (`tfeco serve --dev`
    /// on a new data directory): the guardian set may be smaller than [`Params::min_guardians`] (e.g. the
    /// operator alone). `/v1/status`, the CLI and the web page show it. Default `false`.
    pub dev_mode: bool,
    /// Markets of the in-wallet exchange (§13): TFT/USDC by default; others registered by governance.
    pub markets: Vec<MarketSpec>,
    /// The published bid tiers the operator posts as standing bids (§9 "Seed tiers"): Standard Compute and
    /// Memory-Heavy.
    pub bid_tiers: Vec<BidTier>,
}

impl Default for Params {
    /// The `tfgrid4-2025` set with an all-zero operator key: the source of defaults for fields missing
    /// from a stored genesis (every real genesis names its operator).
    fn default() -> Self {
        Params::tfgrid4_2025(AccountKey([0; 32]))
    }
}

/// The reward rule set (spec §11), selected by parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RewardRules {
    /// The exact v3 rules (CU/SU/NU/IPv4, thresholds, linear scaling, certified bonus, connection price).
    V3(V3Rules),
    /// Per GB memory / TB SSD / TB HDD / TB network per month.
    Capacity(CapacityRules),
}

impl RewardRules {
    /// Stable name: `v3` or `capacity`.
    pub fn name(&self) -> &'static str {
        match self {
            RewardRules::V3(_) => "v3",
            RewardRules::Capacity(_) => "capacity",
        }
    }
}

impl Params {
    /// Guardian signatures needed: the configured threshold, or `ceil(2n/3)` (at least 1).
    pub fn guardian_threshold(&self) -> u32 {
        let n = u32::try_from(self.guardians.len()).unwrap_or(u32::MAX);
        self.guardian_threshold.unwrap_or_else(|| n.saturating_mul(2).div_ceil(3)).max(1)
    }

    /// Fresh oracle submissions needed: `oracle_quorum`, or the guardian threshold.
    pub fn oracle_quorum(&self) -> u32 {
        self.oracle_quorum.unwrap_or_else(|| self.guardian_threshold()).max(1)
    }

    /// `true` when `key` is a guardian.
    pub fn is_guardian(&self, key: &AccountKey) -> bool {
        self.guardians.contains(key)
    }

    /// The default parameter set `tfgrid4-2025` (the October 2025 economics) with the given operator key,
    /// which is also the only attestor, oracle submitter and fiat payment key until guardians exist.
    pub fn tfgrid4_2025(operator: AccountKey) -> Self {
        let price = |s: &str| s.parse::<Price>().expect("constant price");
        let cc = |s: &str| s.parse::<Amount<Cc>>().expect("constant amount");
        Params {
            set_name: "tfgrid4-2025".to_owned(),
            operator,
            guardians: vec![operator],
            guardian_threshold: None,
            oracle_quorum: None,
            param_delay_s: 86_400,
            oracle_max_age_s: 3_600,
            tft_usd_min: price("0.001"),
            tft_usd_max: price("1"),
            fiat_payment_keys: vec![operator],
            entry_tft_per_cc: Ratio::new(2, 1).expect("non-zero"),
            revenue_split: RevenueSplit::tfgrid4_2025(),
            lease_grace_s: 72 * 3_600,
            hour_s: 3_600,
            month_s: 720 * 3_600,
            hourly_premium_at_min_bps: 20_000,
            hourly_premium_at_max_bps: 15_000,
            min_passmark_per_gb: 200,
            min_mem_gb: 16,
            min_ssd_gb: 1_000,
            min_spec_applies_to_catalogue: false,
            custom_band_min_cc_per_gb: cc("0.3"),
            custom_band_max_cc_per_gb: cc("3"),
            custom_band_floor_mem_gb: 4,
            tft_supply_external: Amount::tokens(780_000_000),
            tft_supply_cap: Amount::tokens(1_000_000_000),
            max_text_len: 128,
            max_slices_per_node: 1_000,
            max_nodes_per_farm: 10_000,
            max_open_leases_per_account: 100_000,
            max_lease_periods: 100_000,
            position_min_lock_s: 30 * 86_400,
            exit_round_period_s: 7 * 86_400,
            exit_lock_window_s: 3_600,
            exit_price_wait_s: 86_400,
            exit_min_discount_bps: Bps::new(2_000).expect("below 10,000"),
            exit_cap_a_bps: Some(Bps::new(5_000).expect("below 10,000")),
            exit_cap_b_bps: Some(Bps::new(500).expect("below 10,000")),
            exit_allow_partial: true,
            position_weight_k_bps: 10_000,
            position_age_cap_s: 2 * 365 * 86_400,
            year_s: 365 * 86_400,
            max_exit_bids_per_round: 2_000_000,
            exit_history_rounds: 52,
            max_slices_per_bid: 100_000,
            max_request_window_s: 30 * 86_400,
            minting_enabled: true,
            reward_rules: RewardRules::V3(V3Rules::default()),
            uptime_rules: UptimeRules::default(),
            vesting_rule: VestingRule::Seed(SeedLockRule::default()),
            mint_close_delay_s: 2_460,
            max_uptime_reports_per_command: 1_000,
            max_tick_advance_s: 35 * 86_400,
            min_guardians: 9,
            dev_mode: false,
            markets: vec![MarketSpec::tft_usdc()],
            bid_tiers: default_bid_tiers(),
        }
    }

    /// `true` when `key` holds `role`.
    pub fn has_role(&self, key: &AccountKey, role: Role) -> bool {
        match role {
            Role::Operator => *key == self.operator,
            Role::Guardian => self.guardians.contains(key),
            Role::PaymentKey => self.fiat_payment_keys.contains(key),
        }
    }

    /// Seconds of one billing period.
    pub fn period_s(&self, billing: Billing) -> i64 {
        match billing {
            Billing::Hourly => self.hour_s,
            Billing::Monthly => self.month_s,
        }
    }

    /// Hours in a billing month (`month_s / hour_s`, 720; 0 if `hour_s` is not positive).
    pub fn hours_per_month(&self) -> i64 {
        self.month_s.checked_div(self.hour_s).unwrap_or(0)
    }

    /// The hourly-price rule's numbers.
    pub fn lease_pricing(&self) -> LeasePricing {
        LeasePricing {
            premium_at_min_bps: self.hourly_premium_at_min_bps,
            premium_at_max_bps: self.hourly_premium_at_max_bps,
            hours_per_month: u32::try_from(self.hours_per_month()).unwrap_or(0),
        }
    }

    /// The custom-node band rule's numbers.
    pub fn custom_band(&self) -> CustomBand {
        CustomBand {
            min_cc_per_gb: self.custom_band_min_cc_per_gb,
            max_cc_per_gb: self.custom_band_max_cc_per_gb,
            floor_mem_gb: self.custom_band_floor_mem_gb,
        }
    }

    /// The minimum node specs.
    pub fn min_spec(&self) -> MinSpec {
        MinSpec {
            passmark_per_gb: self.min_passmark_per_gb,
            mem_gb: self.min_mem_gb,
            ssd_gb: self.min_ssd_gb,
        }
    }

    /// The oracle's rules (freshness, quorum, clamp).
    pub fn oracle_rules(&self) -> OracleRules {
        OracleRules {
            max_age_s: self.oracle_max_age_s,
            quorum: self.oracle_quorum(),
            tft_usd_min: self.tft_usd_min,
            tft_usd_max: self.tft_usd_max,
        }
    }

    /// The exit pool's position weight (negative durations read as 0).
    pub fn weight_params(&self) -> WeightParams {
        WeightParams {
            k_bps: self.position_weight_k_bps,
            age_cap_s: u64::try_from(self.position_age_cap_s).unwrap_or(0),
            year_s: u64::try_from(self.year_s).unwrap_or(0),
        }
    }

    /// An exchange market by id.
    pub fn market(&self, id: MarketId) -> Option<&MarketSpec> {
        self.markets.iter().find(|m| m.id == id)
    }
}

/// The published bid tiers of `tfgrid4-2025` (spec `decisions.md` §9; `marketplace_and_nodes.md` §5.2):
/// Standard Compute (2,000 passmark, 4 GB per slice, 1.2 CC, 20,000 slices: 24,000 CC a month, vector
/// BID-1) and Memory-Heavy (8 GB per slice, 2.4 CC, 2,000 slices).
pub fn default_bid_tiers() -> Vec<BidTier> {
    let cc = |s: &str| s.parse::<Amount<Cc>>().expect("constant amount");
    vec![
        BidTier {
            name: "Standard Compute".to_owned(),
            requirements: Requirements { min_passmark: 2_000, min_mem_gb: 4, ..Requirements::default() },
            price_month: cc("1.2"),
            quantity: 20_000,
        },
        BidTier {
            name: "Memory-Heavy".to_owned(),
            requirements: Requirements { min_mem_gb: 8, ..Requirements::default() },
            price_month: cc("2.4"),
            quantity: 2_000,
        },
    ]
}

/// Longest duration a parameter change may set (10 years), so schedules never approach `i64` overflow.
pub const MAX_DURATION_S: i64 = 10 * 366 * 86_400;

/// A change of parameters, proposed and signed by guardians (spec `decisions.md` §12). Each variant is
/// checked when proposed and again when it takes effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParamUpdate {
    /// Replace the guardian set (threshold `None`: `ceil(2n/3)`).
    GuardianSet {
        /// New guardians, unique.
        guardians: Vec<AccountKey>,
        /// Signatures needed.
        threshold: Option<u32>,
    },
    /// A new revenue split (its version must be higher than the current one).
    RevenueSplit(RevenueSplit),
    /// The entry rate, TFT per CC.
    EntryTftPerCc(Ratio),
    /// Oracle freshness, seconds.
    OracleMaxAge(i64),
    /// Oracle TFT clamp.
    TftUsdClamp {
        /// Lower clamp.
        min: Price,
        /// Upper clamp.
        max: Price,
    },
    /// Lease grace, seconds.
    LeaseGrace(i64),
    /// Exit pool caps and discount.
    ExitRules {
        /// Cap A share of value contributed (`None`: off).
        cap_a_bps: Option<Bps>,
        /// Cap B share of the pool's USDC (`None`: off).
        cap_b_bps: Option<Bps>,
        /// Minimum discount.
        min_discount_bps: Bps,
    },
    /// The reward rule set.
    RewardRules(RewardRules),
    /// The vesting rule.
    VestingRule(VestingRule),
    /// Minting on or off.
    MintingEnabled(bool),
    /// The delay of later parameter changes, seconds.
    ParamDelay(i64),
    /// Registers a new exchange market (spec §13).
    RegisterMarket(MarketSpec),
}

/// Why a parameter change is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParamChangeProblem {
    /// The guardian set is empty or has duplicates.
    GuardianSetInvalid,
    /// The threshold is 0 or above the number of guardians.
    ThresholdOutOfRange,
    /// The split does not sum to 10,000 bps with exactly one farmer entry.
    SplitInvalid,
    /// The split's version is not higher than the current one.
    SplitVersionNotNewer,
    /// The entry rate is zero.
    EntryRateZero,
    /// A duration is not positive or longer than 10 years.
    DurationOutOfRange,
    /// The vesting rule has a zero month or lock.
    VestingRuleInvalid,
    /// The v3 rules have a zero connection price or period.
    RewardRulesInvalid,
    /// The clamp does not satisfy `0 < min <= max`.
    ClampInvalid,
    /// The market's assets or batch rules are invalid.
    MarketInvalid,
    /// A market with this id or these assets exists.
    MarketExists,
}

impl fmt::Display for ParamChangeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamChangeProblem::GuardianSetInvalid => {
                "the guardian set must be non-empty and without duplicates"
            }
            ParamChangeProblem::ThresholdOutOfRange => {
                "the threshold must be between 1 and the number of guardians"
            }
            ParamChangeProblem::SplitInvalid => {
                "the split must sum to 10,000 bps with exactly one farmer entry"
            }
            ParamChangeProblem::SplitVersionNotNewer => {
                "the split's version must be higher than the current one"
            }
            ParamChangeProblem::EntryRateZero => "the entry rate must be positive",
            ParamChangeProblem::DurationOutOfRange => "durations must be positive and at most 10 years",
            ParamChangeProblem::VestingRuleInvalid => "the vesting rule needs a positive month and lock",
            ParamChangeProblem::RewardRulesInvalid => "v3 rules need a positive connection price and period",
            ParamChangeProblem::ClampInvalid => "the clamp needs 0 < min <= max",
            ParamChangeProblem::MarketInvalid => {
                "the market needs two distinct transferable assets and sane batch rules"
            }
            ParamChangeProblem::MarketExists => "a market with this id or these assets exists",
        })
    }
}

impl ParamUpdate {
    /// Checks the update against the current parameters.
    pub fn check(&self, params: &Params) -> Result<(), ParamChangeProblem> {
        use ParamChangeProblem as P;
        let fail = |problem| Err(problem);
        match self {
            ParamUpdate::GuardianSet { guardians, threshold } => {
                let mut sorted = guardians.clone();
                sorted.sort();
                sorted.dedup();
                if guardians.is_empty() || sorted.len() != guardians.len() {
                    return fail(P::GuardianSetInvalid);
                }
                if threshold.is_some_and(|t| t == 0 || t as usize > guardians.len()) {
                    return fail(P::ThresholdOutOfRange);
                }
                Ok(())
            }
            ParamUpdate::RevenueSplit(split) if !split.is_valid() => fail(P::SplitInvalid),
            ParamUpdate::RevenueSplit(split) if split.version <= params.revenue_split.version => {
                fail(P::SplitVersionNotNewer)
            }
            ParamUpdate::EntryTftPerCc(ratio) if ratio.num() == 0 => fail(P::EntryRateZero),
            ParamUpdate::OracleMaxAge(s) | ParamUpdate::LeaseGrace(s) | ParamUpdate::ParamDelay(s)
                if *s <= 0 || *s > MAX_DURATION_S =>
            {
                fail(P::DurationOutOfRange)
            }
            ParamUpdate::VestingRule(VestingRule::Seed(seed))
                if seed.month_s <= 0 || seed.lock_months == 0 =>
            {
                fail(P::VestingRuleInvalid)
            }
            ParamUpdate::VestingRule(VestingRule::Release36m(r))
                if r.month_s <= 0 || r.release_months == 0 =>
            {
                fail(P::VestingRuleInvalid)
            }
            ParamUpdate::RewardRules(RewardRules::V3(rules))
                if rules.connection_price_musd == 0 || rules.period_s <= 0 =>
            {
                fail(P::RewardRulesInvalid)
            }
            ParamUpdate::TftUsdClamp { min, max } if min.is_zero() || min > max => fail(P::ClampInvalid),
            ParamUpdate::RegisterMarket(spec) if !spec.is_valid() => fail(P::MarketInvalid),
            ParamUpdate::RegisterMarket(spec)
                if params
                    .markets
                    .iter()
                    .any(|m| m.id == spec.id || (m.base == spec.base && m.quote == spec.quote)) =>
            {
                fail(P::MarketExists)
            }
            _ => Ok(()),
        }
    }

    /// Applies a checked update to `params`.
    pub fn apply_to(&self, params: &mut Params) {
        match self {
            ParamUpdate::GuardianSet { guardians, threshold } => {
                params.guardians = guardians.clone();
                params.guardian_threshold = *threshold;
            }
            ParamUpdate::RevenueSplit(split) => params.revenue_split = split.clone(),
            ParamUpdate::EntryTftPerCc(ratio) => params.entry_tft_per_cc = *ratio,
            ParamUpdate::OracleMaxAge(s) => params.oracle_max_age_s = *s,
            ParamUpdate::TftUsdClamp { min, max } => {
                params.tft_usd_min = *min;
                params.tft_usd_max = *max;
            }
            ParamUpdate::LeaseGrace(s) => params.lease_grace_s = *s,
            ParamUpdate::ExitRules { cap_a_bps, cap_b_bps, min_discount_bps } => {
                params.exit_cap_a_bps = *cap_a_bps;
                params.exit_cap_b_bps = *cap_b_bps;
                params.exit_min_discount_bps = *min_discount_bps;
            }
            ParamUpdate::RewardRules(rules) => params.reward_rules = rules.clone(),
            ParamUpdate::VestingRule(rule) => params.vesting_rule = *rule,
            ParamUpdate::MintingEnabled(on) => params.minting_enabled = *on,
            ParamUpdate::ParamDelay(s) => params.param_delay_s = *s,
            ParamUpdate::RegisterMarket(spec) => params.markets.push(spec.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_missing_from_a_stored_set_reads_as_its_default() {
        let params = Params::tfgrid4_2025(AccountKey([7; 32]));
        let mut json = serde_json::to_value(&params).expect("params serialize");
        let object = json.as_object_mut().expect("an object");
        object.remove("bid_tiers");
        object.remove("max_text_len");
        let read: Params = serde_json::from_value(json).expect("older sets still read");
        assert_eq!(read, params, "missing fields take the tfgrid4-2025 defaults; present ones are kept");
        assert_eq!(read.operator, AccountKey([7; 32]));
    }

    #[test]
    fn the_default_tiers_are_the_published_ones() {
        let tiers = default_bid_tiers();
        let escrow: Vec<String> = tiers.iter().map(|t| t.escrow().expect("fits").to_string()).collect();
        assert_eq!(escrow, ["24000", "4800"], "BID-1 and BID-2");
    }
}

/// A parameter of a genesis that is out of range: its name and the rule it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidParam {
    /// The parameter's field name in [`Params`].
    pub parameter: &'static str,
    /// The rule it breaks.
    pub rule: &'static str,
}

impl fmt::Display for InvalidParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter {}: {}", self.parameter, self.rule)
    }
}

impl std::error::Error for InvalidParam {}

impl Params {
    /// How many distinct keys the guardian set holds.
    pub fn distinct_guardians(&self) -> usize {
        self.guardians.iter().collect::<std::collections::BTreeSet<_>>().len()
    }

    /// Whether a node may run this genesis (decisions §12): in development mode always; otherwise the
    /// guardian set must hold at least [`Params::min_guardians`] distinct keys.
    ///
    /// Errors: [`InvalidParam`] on `guardians`, saying how many there are and how many are needed.
    pub fn check_production_guardians(&self) -> Result<(), InvalidParam> {
        if self.dev_mode || self.distinct_guardians() >= self.min_guardians as usize {
            return Ok(());
        }
        Err(InvalidParam {
            parameter: "guardians",
            rule:
                "at least min_guardians (default 9) distinct keys, unless the genesis is in development mode",
        })
    }

    /// Checks a whole parameter set (a genesis): every value inside the range the rules assume, so that no
    /// rule can meet a divisor of zero, an inverted clamp or a negative duration. Governance checks each
    /// later change ([`ParamUpdate::check`]) against the set in force.
    pub fn check(&self) -> Result<(), InvalidParam> {
        let fail = |parameter, rule| Err(InvalidParam { parameter, rule });
        let mut guardians = self.guardians.clone();
        guardians.sort();
        guardians.dedup();
        if self.guardians.is_empty() || guardians.len() != self.guardians.len() {
            return fail("guardians", "a non-empty set without duplicates");
        }
        let n = self.guardians.len();
        if self.guardian_threshold.is_some_and(|t| t == 0 || t as usize > n) {
            return fail("guardian_threshold", "between 1 and the number of guardians");
        }
        if self.oracle_quorum.is_some_and(|q| q == 0 || q as usize > n) {
            return fail("oracle_quorum", "between 1 and the number of guardians");
        }
        if !self.revenue_split.is_valid() {
            return fail("revenue_split", "shares summing to 10,000 bps with exactly one farmer entry");
        }
        if self.entry_tft_per_cc.num() == 0 {
            return fail("entry_tft_per_cc", "positive");
        }
        if self.tft_usd_min.is_zero() || self.tft_usd_min > self.tft_usd_max {
            return fail("tft_usd_min", "0 < tft_usd_min <= tft_usd_max");
        }
        self.check_durations()?;
        self.check_amounts()?;
        self.check_rule_sets()?;
        self.check_markets()
    }

    fn check_durations(&self) -> Result<(), InvalidParam> {
        let positive: [(&'static str, i64); 10] = [
            ("param_delay_s", self.param_delay_s),
            ("oracle_max_age_s", self.oracle_max_age_s),
            ("lease_grace_s", self.lease_grace_s),
            ("hour_s", self.hour_s),
            ("month_s", self.month_s),
            ("exit_round_period_s", self.exit_round_period_s),
            ("year_s", self.year_s),
            ("max_request_window_s", self.max_request_window_s),
            ("position_age_cap_s", self.position_age_cap_s),
            ("max_tick_advance_s", self.max_tick_advance_s),
        ];
        for (parameter, value) in positive {
            if value <= 0 || value > MAX_DURATION_S {
                return Err(InvalidParam { parameter, rule: "positive and at most 10 years" });
            }
        }
        let non_negative: [(&'static str, i64); 4] = [
            ("position_min_lock_s", self.position_min_lock_s),
            ("exit_lock_window_s", self.exit_lock_window_s),
            ("exit_price_wait_s", self.exit_price_wait_s),
            ("mint_close_delay_s", self.mint_close_delay_s),
        ];
        for (parameter, value) in non_negative {
            if !(0..=MAX_DURATION_S).contains(&value) {
                return Err(InvalidParam { parameter, rule: "between 0 and 10 years" });
            }
        }
        if self.month_s.checked_rem(self.hour_s) != Some(0) {
            return Err(InvalidParam { parameter: "month_s", rule: "a whole number of hours" });
        }
        if self.exit_lock_window_s >= self.exit_round_period_s {
            return Err(InvalidParam { parameter: "exit_lock_window_s", rule: "shorter than the round" });
        }
        Ok(())
    }

    fn check_amounts(&self) -> Result<(), InvalidParam> {
        let fail = |parameter, rule| Err(InvalidParam { parameter, rule });
        if self.hourly_premium_at_max_bps > self.hourly_premium_at_min_bps
            || self.hourly_premium_at_max_bps == 0
        {
            return fail("hourly_premium_at_max_bps", "positive and at most the premium at the minimum");
        }
        let (band_min, band_max) = (self.custom_band_min_cc_per_gb, self.custom_band_max_cc_per_gb);
        if !band_min.is_positive() || band_min > band_max || self.custom_band_floor_mem_gb == 0 {
            return fail("custom_band_min_cc_per_gb", "0 < min <= max, with a positive floor");
        }
        if self.tft_supply_external.units() < 0 || self.tft_supply_external > self.tft_supply_cap {
            return fail("tft_supply_external", "between 0 and tft_supply_cap");
        }
        let limits: [(&'static str, u32); 8] = [
            ("max_text_len", self.max_text_len),
            ("max_slices_per_node", self.max_slices_per_node),
            ("max_nodes_per_farm", self.max_nodes_per_farm),
            ("max_open_leases_per_account", self.max_open_leases_per_account),
            ("max_lease_periods", self.max_lease_periods),
            ("max_exit_bids_per_round", self.max_exit_bids_per_round),
            ("max_slices_per_bid", self.max_slices_per_bid),
            ("max_uptime_reports_per_command", self.max_uptime_reports_per_command),
        ];
        if let Some((parameter, _)) = limits.iter().find(|(_, v)| *v == 0) {
            return fail(parameter, "positive");
        }
        if self
            .bid_tiers
            .iter()
            .any(|t| !t.price_month.is_positive() || t.quantity == 0 || t.escrow().is_none())
        {
            return fail("bid_tiers", "positive prices and quantities");
        }
        Ok(())
    }

    fn check_rule_sets(&self) -> Result<(), InvalidParam> {
        let fail = |parameter, rule| Err(InvalidParam { parameter, rule });
        let uptime = &self.uptime_rules;
        if uptime.report_interval_s <= 0 || uptime.grace_s < 0 || uptime.clock_skew_s < 0 {
            return fail("uptime_rules", "a positive interval, non-negative grace and skew");
        }
        if let RewardRules::V3(rules) = &self.reward_rules {
            if rules.connection_price_musd == 0 || rules.period_s <= 0 {
                return fail("reward_rules", "a positive connection price and period");
            }
        }
        let update = ParamUpdate::VestingRule(self.vesting_rule);
        if update.check(self).is_err() {
            return fail("vesting_rule", "a positive month and lock");
        }
        Ok(())
    }

    fn check_markets(&self) -> Result<(), InvalidParam> {
        for (i, market) in self.markets.iter().enumerate() {
            let clash = self.markets[..i]
                .iter()
                .any(|m| m.id == market.id || (m.base == market.base && m.quote == market.quote));
            if !market.is_valid() || clash {
                return Err(InvalidParam { parameter: "markets", rule: "valid, distinct markets" });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;

    #[test]
    fn the_default_set_is_valid_and_broken_values_are_named() {
        let good = Params::tfgrid4_2025(AccountKey([1; 32]));
        assert_eq!(good.check(), Ok(()));
        let broken = |adjust: fn(&mut Params)| {
            let mut params = good.clone();
            adjust(&mut params);
            params.check().map_err(|e| e.parameter)
        };
        assert_eq!(broken(|p| p.tft_usd_max = Price::from_atto(1)), Err("tft_usd_min"));
        assert_eq!(broken(|p| p.hour_s = 0), Err("hour_s"));
        assert_eq!(broken(|p| p.uptime_rules.grace_s = -1), Err("uptime_rules"));
        assert_eq!(broken(|p| p.guardians.clear()), Err("guardians"));
        assert_eq!(broken(|p| p.oracle_quorum = Some(0)), Err("oracle_quorum"));
        assert_eq!(broken(|p| p.revenue_split.shares.clear()), Err("revenue_split"));
        assert_eq!(broken(|p| p.markets.push(MarketSpec::tft_usdc())), Err("markets"));
        assert_eq!(broken(|p| p.max_text_len = 0), Err("max_text_len"));
    }
}
