//! Parameters of the economy: every number of `decisions.md` as a named, documented field, with the
//! default set `tfgrid4-2025` built by [`Params::tfgrid4_2025`].

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Bps, Cc, Price, Ratio, Tft};

use crate::ids::AccountKey;
use crate::minting::{CapacityRules, SeedLockRule, UptimeRules, V3Rules, VestingRule};

/// Who receives a share of a capacity payment (spec `decisions.md` §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitRecipient {
    /// The node's farmer (credited as revenue CC). Also receives the rounding remainder.
    Farmer,
    /// Burned: the CC is burned, and TFT with it (§7).
    Burn,
    /// ThreeFold's treasury account.
    Treasury,
}

/// A versioned revenue split: ordered `(recipient, basis points)` summing to 10,000, with exactly one
/// `Farmer` entry (the rounding sink). Each share is rounded down; the remainder goes to the farmer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueSplit {
    /// Version number, recorded on every charge.
    pub version: u32,
    /// The shares, in order.
    pub shares: Vec<(SplitRecipient, Bps)>,
}

impl RevenueSplit {
    /// The October 2025 split: farmer 8,000 / burn 1,000 / treasury 1,000 bps.
    pub fn tfgrid4_2025() -> Self {
        let bps = |v| Bps::new(v).expect("constant below 10,000");
        RevenueSplit {
            version: 1,
            shares: vec![
                (SplitRecipient::Farmer, bps(8_000)),
                (SplitRecipient::Burn, bps(1_000)),
                (SplitRecipient::Treasury, bps(1_000)),
            ],
        }
    }

    /// `true` when the shares sum to 10,000 bps and there is exactly one farmer entry.
    pub fn is_valid(&self) -> bool {
        let total: u32 = self.shares.iter().map(|(_, b)| u32::from(b.get())).sum();
        let farmers = self.shares.iter().filter(|(r, _)| *r == SplitRecipient::Farmer).count();
        total == 10_000 && farmers == 1
    }
}

/// All parameters of the economy. Units are in the field names (`_s` seconds, `_gb` gigabytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Markets of the in-wallet exchange (§13): TFT/USDC by default; others registered by governance.
    pub markets: Vec<crate::trading::MarketSpec>,
}

/// The reward rule set (spec §11), selected by parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        let n = self.guardians.len() as u32;
        self.guardian_threshold.unwrap_or((2 * n).div_ceil(3)).max(1)
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
            markets: vec![crate::trading::MarketSpec::tft_usdc()],
        }
    }
}
