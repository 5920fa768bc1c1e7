//! Scenarios: what a simulated economy assumes, read from TOML (built in, or a file). The docstrings of the
//! types below are the schema's reference; every section and field has a default, so a scenario states only
//! what it changes. Unknown fields are refused (a typo is an error, not a silent default).
//!
//! ```toml
//! name = "base"
//! description = "Two years of moderate growth."
//! months = 24
//! start = 1761955200            # unix seconds, default 2025-11-01T00:00:00Z
//! guardians = 3                 # the guardian set (threshold ceil(2n/3))
//!
//! [gold]                        # kind = series | constant | drift | replay
//! kind = "series"
//!
//! [tft_price]                   # kind = constant | random_walk | csv
//! kind = "random_walk"
//! usd = "0.01"
//! volatility_bps = 1000
//! drift_bps = 0
//! floor_usd = "0.001"
//!
//! [users]
//! initial = 50
//! arrivals_per_month = 10
//! churn_bps = 200
//! fiat_share_bps = 3000
//! budget_cc_per_month = "60"
//!
//! [farmers]
//! initial_nodes = 20
//! nodes_per_month = 2
//! price_strategy = "follow_demand"
//! models = [{ name = "Mini 3", weight = 3 }, { name = "3Node Home", weight = 1 }]
//!
//! [demand]
//! max_utilization_bps = 9000
//!
//! [exit]
//! holders = 5
//! bid_share_bps = 2000
//! discount_bps = 2500
//! usdc_per_month = "2000"
//!
//! [minting]
//! rules = "v3"                  # or "capacity"
//! lockup = "seed"               # or "release_36m"
//!
//! [params]                      # any tfeco_core::Params field, by name
//! exit_cap_b_bps = 1000
//! revenue_split = { burn_bps = 2000 }
//! ```

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfeco_core::rules::minting::{
    CapacityRules, Release36mRule, SeedLockRule, V3Rules, VestingRule, FIRST_PERIOD_START,
};
use tfeco_core::{AccountKey, Params, RevenueSplit, SplitRecipient};
use tfeco_money::{Amount, AnyAsset, Bps};

use super::prices::{describe_gold, describe_tft, DecimalText};
pub use super::prices::{GoldPrice, PriceValue, TftPrice};
use crate::{Result, SimError};

/// 2025-11-01T00:00:00Z, the default start (unix seconds).
pub const DEFAULT_START: i64 = 1_761_955_200;
/// The longest horizon a scenario may ask for (50 years).
pub const MAX_MONTHS: u32 = 600;

/// The built-in scenarios, `(name, TOML)`, embedded at compile time.
const BUILTIN: [(&str, &str); 8] = [
    ("base", include_str!("../../scenarios/base.toml")),
    ("burn-vs-mint", include_str!("../../scenarios/burn-vs-mint.toml")),
    ("farmer-break-even", include_str!("../../scenarios/farmer-break-even.toml")),
    ("exit-sell-off", include_str!("../../scenarios/exit-sell-off.toml")),
    ("release-36m", include_str!("../../scenarios/release-36m.toml")),
    ("demo", include_str!("../../scenarios/demo.toml")),
    ("bench-large", include_str!("../../scenarios/bench-large.toml")),
    ("bench-mc", include_str!("../../scenarios/bench-mc.toml")),
];

/// An amount of tokens (CC, TFT or USDC) with 7 decimals, written like [`PriceValue`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenValue(pub i128);

impl TokenValue {
    /// Whole tokens.
    pub const fn tokens(whole: i64) -> Self {
        TokenValue(Amount::<tfeco_money::Cc>::tokens(whole).units())
    }
}

impl Serialize for TokenValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&Amount::<AnyAsset>::from_units(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for TokenValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = DecimalText::deserialize(deserializer)?.text();
        text.parse::<Amount<AnyAsset>>()
            .map(|a| TokenValue(a.units()))
            .map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
    }
}

/// The users (tenants): how many, how they enter and what they spend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Users {
    /// Users at the start.
    pub initial: u32,
    /// New users each month.
    pub arrivals_per_month: u32,
    /// Share of the active users who leave each month (they cancel their leases), bps.
    pub churn_bps: u32,
    /// Share of users who enter by fiat (`EnterWithFiat`, USD at the CC price); the others bring TFT
    /// (guardian-attested deposits, then `EnterWithTft`), bps.
    pub fiat_share_bps: u32,
    /// What a user spends on leases per month on average, CC.
    pub budget_cc_per_month: TokenValue,
    /// Each user's budget is drawn uniformly within ± this share of the average, bps.
    pub budget_spread_bps: u32,
    /// A user tops up this many months of budget at a time (fewer, larger entries).
    pub topup_months: u32,
    /// Most leases one user holds.
    pub max_leases: u32,
}

impl Default for Users {
    fn default() -> Self {
        Users {
            initial: 20,
            arrivals_per_month: 5,
            churn_bps: 200,
            fiat_share_bps: 3_000,
            budget_cc_per_month: TokenValue::tokens(50),
            budget_spread_bps: 5_000,
            topup_months: 3,
            max_leases: 10,
        }
    }
}

/// How farmers price their nodes' slices inside the model's band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceStrategy {
    /// The band's minimum.
    Min,
    /// The band's maximum.
    Max,
    /// `undercut_bps` below the cheapest listed price of the same model (the band's middle for the first).
    Undercut,
    /// Start at `start_position_bps` of the band; every month raise by `step_bps` when the node's
    /// utilization is at least `high_utilization_bps`, lower when at most `low_utilization_bps`.
    #[default]
    FollowDemand,
}

/// A catalogue model and its weight in the mix of nodes added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelWeight {
    /// A model of the Q4 2025 catalogue, e.g. `Mini 3`.
    pub name: String,
    /// Its relative weight (positive).
    pub weight: u32,
}

/// The farmers and their nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Farmers {
    /// Nodes at the start.
    pub initial_nodes: u32,
    /// Nodes added each month.
    pub nodes_per_month: u32,
    /// Nodes per farmer (one farm each): a new farmer registers when the last one is full.
    pub nodes_per_farmer: u32,
    /// The catalogue models of the nodes added, by weight (drawn from the seeded generator).
    pub models: Vec<ModelWeight>,
    /// The pricing strategy inside the band.
    pub price_strategy: PriceStrategy,
    /// `undercut`: basis points below the cheapest listed price.
    pub undercut_bps: u32,
    /// `follow_demand`: the starting price, bps of the band from its minimum (5,000: the middle).
    pub start_position_bps: u32,
    /// `follow_demand`: the price move per month, bps of the current price.
    pub step_bps: u32,
    /// `follow_demand`: raise at or above this node utilization (bps).
    pub high_utilization_bps: u32,
    /// `follow_demand`: lower at or below this node utilization (bps).
    pub low_utilization_bps: u32,
    /// Share of their revenue CC farmers convert to TFP through Pool 2 every month, bps.
    pub convert_revenue_bps: u32,
}

impl Default for Farmers {
    fn default() -> Self {
        Farmers {
            initial_nodes: 10,
            nodes_per_month: 1,
            nodes_per_farmer: 5,
            models: vec![ModelWeight { name: "Mini 3".to_owned(), weight: 1 }],
            price_strategy: PriceStrategy::FollowDemand,
            undercut_bps: 200,
            start_position_bps: 5_000,
            step_bps: 500,
            high_utilization_bps: 8_000,
            low_utilization_bps: 3_000,
            convert_revenue_bps: 5_000,
        }
    }
}

/// Demand for capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Demand {
    /// Users stop opening leases once this share of the offered slices is leased (bps).
    pub max_utilization_bps: u32,
    /// Slices per lease.
    pub slices_per_lease: u32,
    /// A user picks among this many of the cheapest nodes with a free slice (uniformly): 1 = always the
    /// cheapest.
    pub choice_width: u32,
}

impl Default for Demand {
    fn default() -> Self {
        Demand { max_utilization_bps: 9_000, slices_per_lease: 1, choice_width: 8 }
    }
}

/// Exit behaviour: holders with positions in the exit pool, their sealed bids, and the pool's funding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exit {
    /// Holders at the start: each brings `holder_tft` TFT, locks it into TFP and opens one position.
    pub holders: u32,
    /// TFT each holder brings.
    pub holder_tft: TokenValue,
    /// Share of farmers' TFP (from Pool 2 conversions) they open as exit positions each month, bps.
    pub farmer_position_bps: u32,
    /// Share of the position holders (holders and farmers) who bid in each weekly round, bps.
    pub bid_share_bps: u32,
    /// A bid asks for the USDC value (at its minimum price) of this share of its position, bps.
    pub bid_size_bps: u32,
    /// A bid's minimum price is this far below the oracle TFT price, bps (at least the core's
    /// `exit_min_discount_bps`, 2,000 by default).
    pub discount_bps: u32,
    /// USDC attested into the exit pool each month (`AttestExitPoolDeposit`).
    pub usdc_per_month: TokenValue,
    /// USDC moved from the treasury into the exit pool each month (`ApproveTreasuryTransfer`, as far as the
    /// treasury holds USDC from fiat entries).
    pub treasury_usdc_per_month: TokenValue,
}

impl Default for Exit {
    fn default() -> Self {
        Exit {
            holders: 3,
            holder_tft: TokenValue::tokens(100_000),
            farmer_position_bps: 0,
            bid_share_bps: 3_000,
            bid_size_bps: 1_000,
            discount_bps: 2_500,
            usdc_per_month: TokenValue::tokens(1_000),
            treasury_usdc_per_month: TokenValue::tokens(0),
        }
    }
}

/// The reward rule set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// The exact v3 rules.
    #[default]
    V3,
    /// Per GB memory / TB SSD per month.
    Capacity,
}

/// The lock-up of minted rewards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lockup {
    /// Locked 2 years from the first report or until 30 % utilization for 3 consecutive months.
    #[default]
    Seed,
    /// 11 months locked, then 4 % per month for 25 months.
    #[serde(rename = "release_36m")]
    Release36m,
}

/// Minting: the rule set and the lock-up (both with the core's default rule parameters; finer changes go
/// through `params.reward_rules` / `params.vesting_rule`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Minting {
    /// `v3` or `capacity`.
    pub rules: RuleSet,
    /// `seed` or `release_36m`.
    pub lockup: Lockup,
}

/// A scenario: everything a run assumes. See the module doc for a complete example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its name (`base`, a file's stem, ...).
    #[serde(default)]
    pub name: String,
    /// What it asks, in one or two sentences.
    #[serde(default)]
    pub description: String,
    /// Months simulated (1 to 600). A month is 30 days (the billing month, 720 h).
    pub months: u32,
    /// The start, unix seconds (default 2025-11-01T00:00:00Z).
    #[serde(default = "default_start")]
    pub start: i64,
    /// Guardians (1 to 30): they attest deposits, submit prices and sign minting reports at the threshold
    /// `ceil(2n/3)`.
    #[serde(default = "default_guardians")]
    pub guardians: u32,
    /// The gold price path.
    #[serde(default)]
    pub gold: GoldPrice,
    /// The TFT price path.
    #[serde(default)]
    pub tft_price: TftPrice,
    /// Users.
    #[serde(default)]
    pub users: Users,
    /// Farmers and nodes.
    #[serde(default)]
    pub farmers: Farmers,
    /// Demand.
    #[serde(default)]
    pub demand: Demand,
    /// Exit behaviour.
    #[serde(default)]
    pub exit: Exit,
    /// Minting rule set and lock-up.
    #[serde(default)]
    pub minting: Minting,
    /// Overrides of [`tfeco_core::Params`] by field name (merged onto the defaults; nested tables merge).
    /// `revenue_split` may also be written `{ farmer_bps, burn_bps, treasury_bps }` (the farmer gets the
    /// rest when omitted). `operator`, `guardians` and `fiat_payment_keys` belong to the simulator's agents
    /// and cannot be overridden.
    #[serde(default)]
    pub params: toml::Table,
}

impl Default for Scenario {
    /// Every section's default, 12 months, no name: what `months = 12` alone parses to (for code that builds
    /// a scenario with `Scenario { months: 2, ..Scenario::default() }`).
    fn default() -> Self {
        Scenario {
            name: String::new(),
            description: String::new(),
            months: 12,
            start: DEFAULT_START,
            guardians: default_guardians(),
            gold: GoldPrice::default(),
            tft_price: TftPrice::default(),
            users: Users::default(),
            farmers: Farmers::default(),
            demand: Demand::default(),
            exit: Exit::default(),
            minting: Minting::default(),
            params: toml::Table::new(),
        }
    }
}

fn default_start() -> i64 {
    DEFAULT_START
}

fn default_guardians() -> u32 {
    3
}

impl Scenario {
    /// The names of the built-in scenarios.
    pub fn builtin_names() -> &'static [&'static str] {
        &[
            "base",
            "burn-vs-mint",
            "farmer-break-even",
            "exit-sell-off",
            "release-36m",
            "demo",
            "bench-large",
            "bench-mc",
        ]
    }

    /// The built-in scenario `name`. Errors: [`SimError::Scenario`] naming the known ones.
    pub fn builtin(name: &str) -> Result<Scenario> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            let known = Self::builtin_names().join(", ");
            return Err(SimError::Scenario(format!("no built-in scenario {name:?} (known: {known})")));
        };
        let mut scenario = Self::from_toml_str(text)?;
        if scenario.name.is_empty() {
            scenario.name = name.to_owned();
        }
        Ok(scenario)
    }

    /// Parses and validates a scenario from TOML. Errors: [`SimError::Scenario`] with the field's path.
    pub fn from_toml_str(text: &str) -> Result<Scenario> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| SimError::Scenario(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads a scenario file: its name defaults to the file's stem, and a `tft_price.path` CSV is read
    /// (relative to the file's directory) and kept inline, so a run reads no file. Errors:
    /// [`SimError::Scenario`] naming the file.
    pub fn from_file(path: &Path) -> Result<Scenario> {
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .map_err(|e| SimError::Scenario(format!("reading {}: {e}", p.display())))
        };
        let text = read(path)?;
        let mut scenario: Scenario =
            toml::from_str(&text).map_err(|e| SimError::Scenario(format!("{}: {e}", path.display())))?;
        if scenario.name.is_empty() {
            scenario.name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        }
        if let TftPrice::Csv { data, path: Some(csv) } = &mut scenario.tft_price {
            if data.is_none() {
                let dir = path.parent().unwrap_or(Path::new("."));
                *data = Some(read(&dir.join(&*csv))?);
            }
        }
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario as TOML (what the report shows).
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| SimError::Scenario(e.to_string()))
    }

    /// The assumptions in words, one line each (for the report).
    pub fn assumptions(&self) -> Vec<String> {
        let u = &self.users;
        let f = &self.farmers;
        let e = &self.exit;
        let models: Vec<String> = f.models.iter().map(|m| format!("{} x{}", m.name, m.weight)).collect();
        let tokens = |v: TokenValue| Amount::<AnyAsset>::from_units(v.0).to_string();
        let mut lines = vec![
            format!("{} months of 30 days from {} (unix {})", self.months, super::prices::year_month(self.start), self.start),
            format!("gold: {}", describe_gold(&self.gold)),
            format!("TFT price: {}", describe_tft(&self.tft_price)),
            format!(
                "users: {} at the start, {} arrive per month, {} bps leave per month; {} bps enter by fiat, the \
                 rest with TFT; budget {} CC per month (± {} bps), topped up {} months at a time",
                u.initial, u.arrivals_per_month, u.churn_bps, u.fiat_share_bps, tokens(u.budget_cc_per_month),
                u.budget_spread_bps, u.topup_months
            ),
            format!(
                "farmers: {} nodes at the start, {} added per month, {} per farmer; models {}; price strategy {:?}; \
                 {} bps of revenue CC converted to TFP monthly",
                f.initial_nodes, f.nodes_per_month, f.nodes_per_farmer, models.join(", "), f.price_strategy,
                f.convert_revenue_bps
            ),
            format!(
                "demand: leases of {} slice(s), monthly billing, up to {} bps utilization",
                self.demand.slices_per_lease, self.demand.max_utilization_bps
            ),
            format!(
                "exit: {} holders of {} TFT; {} bps of position holders bid weekly for {} bps of their position \
                 at {} bps below the oracle; pool funded {} USDC per month (+{} from the treasury)",
                e.holders, tokens(e.holder_tft), e.bid_share_bps, e.bid_size_bps, e.discount_bps,
                tokens(e.usdc_per_month), tokens(e.treasury_usdc_per_month)
            ),
            format!("minting: {:?} rules, {:?} lock-up; {} guardians", self.minting.rules, self.minting.lockup, self.guardians),
        ];
        for (key, value) in &self.params {
            lines.push(format!("params.{key} = {value}"));
        }
        lines
    }

    /// Checks every field (ranges, known models, prices, the `params` overrides). Errors:
    /// [`SimError::Scenario`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let fail = |field: &str, rule: &str| Err(SimError::Scenario(format!("{field}: {rule}")));
        if self.months == 0 || self.months > MAX_MONTHS {
            return fail("months", "between 1 and 600");
        }
        if self.start < FIRST_PERIOD_START || self.start > 4_102_444_800 {
            return fail("start", "between 2018-03-31 (the first minting period) and 2100-01-01");
        }
        if self.guardians == 0 || self.guardians > 30 {
            return fail("guardians", "between 1 and 30");
        }
        self.validate_prices()?;
        self.validate_agents()?;
        // The runner's keys: the operator is role 0, the guardians role 1 (`agents::role`).
        let key = crate::keys::synthetic_account;
        let guardians: Vec<AccountKey> = (0..self.guardians).map(|g| key(1, u64::from(g))).collect();
        let params = self.params(key(0, 0), &guardians)?;
        if u32::from(params.exit_min_discount_bps.get()) > self.exit.discount_bps {
            return fail(
                "exit.discount_bps",
                "at least params.exit_min_discount_bps (the core refuses smaller discounts)",
            );
        }
        Ok(())
    }

    fn validate_prices(&self) -> Result<()> {
        let fail = |field: &str, rule: &str| Err(SimError::Scenario(format!("{field}: {rule}")));
        match &self.gold {
            GoldPrice::Constant { usd_per_oz } if usd_per_oz.0.is_zero() => {
                return fail("gold.usd_per_oz", "positive")
            }
            GoldPrice::Drift { usd_per_oz: Some(p), .. } if p.0.is_zero() => {
                return fail("gold.usd_per_oz", "positive")
            }
            GoldPrice::Drift { bps_per_month, .. } if *bps_per_month < -9_999 => {
                return fail("gold.bps_per_month", "above -10,000")
            }
            GoldPrice::Replay { .. } => {
                super::prices::gold_path(&self.gold, self.start, 1)?;
            }
            _ => {}
        }
        match &self.tft_price {
            TftPrice::Constant { usd } if usd.0.is_zero() => fail("tft_price.usd", "positive"),
            TftPrice::RandomWalk { usd, floor_usd, drift_bps, .. } => {
                if usd.0.is_zero() || floor_usd.0.is_zero() {
                    return fail("tft_price.usd", "positive, and so is floor_usd");
                }
                if *drift_bps < -9_999 {
                    return fail("tft_price.drift_bps", "above -10,000");
                }
                Ok(())
            }
            TftPrice::Csv { data: None, path: None } => fail("tft_price", "a CSV needs `data` or `path`"),
            TftPrice::Csv { data: Some(text), .. } => super::prices::parse_tft_csv(text).map(|_| ()),
            _ => Ok(()),
        }
    }

    fn validate_agents(&self) -> Result<()> {
        let fail = |field: &str, rule: &str| Err(SimError::Scenario(format!("{field}: {rule}")));
        let bps_fields = [
            ("users.churn_bps", self.users.churn_bps),
            ("users.fiat_share_bps", self.users.fiat_share_bps),
            ("users.budget_spread_bps", self.users.budget_spread_bps),
            ("farmers.undercut_bps", self.farmers.undercut_bps),
            ("farmers.start_position_bps", self.farmers.start_position_bps),
            ("farmers.step_bps", self.farmers.step_bps),
            ("farmers.high_utilization_bps", self.farmers.high_utilization_bps),
            ("farmers.low_utilization_bps", self.farmers.low_utilization_bps),
            ("farmers.convert_revenue_bps", self.farmers.convert_revenue_bps),
            ("demand.max_utilization_bps", self.demand.max_utilization_bps),
            ("exit.farmer_position_bps", self.exit.farmer_position_bps),
            ("exit.bid_share_bps", self.exit.bid_share_bps),
            ("exit.bid_size_bps", self.exit.bid_size_bps),
            ("exit.discount_bps", self.exit.discount_bps),
        ];
        if let Some((field, _)) = bps_fields.iter().find(|(_, v)| *v > 10_000) {
            return fail(field, "basis points, at most 10,000");
        }
        if self.exit.discount_bps >= 10_000 {
            return fail("exit.discount_bps", "below 10,000");
        }
        let positive = [
            ("users.topup_months", self.users.topup_months),
            ("users.max_leases", self.users.max_leases),
            ("farmers.nodes_per_farmer", self.farmers.nodes_per_farmer),
            ("demand.slices_per_lease", self.demand.slices_per_lease),
            ("demand.choice_width", self.demand.choice_width),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return fail(field, "at least 1");
        }
        let amounts = [
            ("users.budget_cc_per_month", self.users.budget_cc_per_month),
            ("exit.holder_tft", self.exit.holder_tft),
            ("exit.usdc_per_month", self.exit.usdc_per_month),
            ("exit.treasury_usdc_per_month", self.exit.treasury_usdc_per_month),
        ];
        if let Some((field, _)) = amounts.iter().find(|(_, v)| v.0 < 0) {
            return fail(field, "not negative");
        }
        if self.users.budget_cc_per_month.0 > TokenValue::tokens(1_000_000_000).0 {
            return fail("users.budget_cc_per_month", "at most 1,000,000,000 CC");
        }
        let catalogue = tfeco_core::catalogue_q4_2025();
        for (i, model) in self.farmers.models.iter().enumerate() {
            if !catalogue.iter().any(|m| m.name == model.name) {
                let names: Vec<&str> = catalogue.iter().map(|m| m.name.as_str()).collect();
                return Err(SimError::Scenario(format!(
                    "farmers.models[{i}].name: {:?} is not a catalogue model (known: {})",
                    model.name,
                    names.join(", ")
                )));
            }
            if model.weight == 0 {
                return fail(&format!("farmers.models[{i}].weight"), "at least 1");
            }
        }
        let adds_nodes = self.farmers.initial_nodes > 0 || self.farmers.nodes_per_month > 0;
        if adds_nodes && self.farmers.models.is_empty() {
            return fail("farmers.models", "at least one model when nodes are added");
        }
        Ok(())
    }

    /// The run's parameters: the `tfgrid4-2025` defaults with the simulator's operator, guardians and fiat
    /// payment key (the operator), the minting rule set and lock-up, then the `params` overrides, checked as
    /// a whole set ([`Params::check`]). Errors: [`SimError::Scenario`] naming an unknown or invalid field.
    pub fn params(&self, operator: AccountKey, guardians: &[AccountKey]) -> Result<Params> {
        let mut base = Params::tfgrid4_2025(operator);
        base.guardians = guardians.to_vec();
        base.reward_rules = match self.minting.rules {
            RuleSet::V3 => tfeco_core::params::RewardRules::V3(V3Rules::default()),
            RuleSet::Capacity => tfeco_core::params::RewardRules::Capacity(CapacityRules::default()),
        };
        base.vesting_rule = match self.minting.lockup {
            Lockup::Seed => VestingRule::Seed(SeedLockRule::default()),
            Lockup::Release36m => VestingRule::Release36m(Release36mRule::default()),
        };
        let mut json = serde_json::to_value(&base).map_err(|e| SimError::Scenario(format!("params: {e}")))?;
        let mut overrides =
            serde_json::to_value(&self.params).map_err(|e| SimError::Scenario(format!("params: {e}")))?;
        if let Some(split) = overrides.get_mut("revenue_split") {
            *split = revenue_split_override(split)?;
        }
        for reserved in ["operator", "guardians", "fiat_payment_keys"] {
            if overrides.get(reserved).is_some() {
                return Err(SimError::Scenario(format!(
                    "params.{reserved}: set by the simulator (its agents hold these keys)"
                )));
            }
        }
        merge(&mut json, overrides, "params")?;
        let params: Params =
            serde_json::from_value(json).map_err(|e| SimError::Scenario(format!("params: {e}")))?;
        params.check().map_err(|e| SimError::Scenario(format!("params: {e}")))?;
        Ok(params)
    }
}

/// `revenue_split` written as `{ farmer_bps, burn_bps, treasury_bps }` becomes the core's shape (version 2,
/// farmer first; the farmer gets the rest when `farmer_bps` is omitted); the core's own shape passes as is.
fn revenue_split_override(value: &serde_json::Value) -> Result<serde_json::Value> {
    let Some(table) = value.as_object() else {
        return Err(SimError::Scenario("params.revenue_split: a table".to_owned()));
    };
    let friendly = ["farmer_bps", "burn_bps", "treasury_bps"];
    if !table.keys().any(|k| friendly.contains(&k.as_str())) {
        return Ok(value.clone());
    }
    if let Some(unknown) = table.keys().find(|k| !friendly.contains(&k.as_str())) {
        return Err(SimError::Scenario(format!(
            "params.revenue_split.{unknown}: unknown (use farmer_bps, burn_bps, treasury_bps)"
        )));
    }
    let read = |key: &str, default: u64| -> Result<u64> {
        match table.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|v| *v <= 10_000)
                .ok_or_else(|| SimError::Scenario(format!("params.revenue_split.{key}: 0 to 10,000 bps"))),
        }
    };
    let (burn, treasury) = (read("burn_bps", 1_000)?, read("treasury_bps", 1_000)?);
    let rest = 10_000u64.checked_sub(burn + treasury);
    let farmer = match (table.get("farmer_bps"), rest) {
        (Some(_), _) => read("farmer_bps", 0)?,
        (None, Some(rest)) => rest,
        (None, None) => u64::MAX,
    };
    if rest != Some(farmer) {
        return Err(SimError::Scenario("params.revenue_split: the shares must sum to 10,000 bps".to_owned()));
    }
    let bps = |v: u64| Bps::new(v as u16).expect("checked <= 10,000");
    let split = RevenueSplit {
        version: 2,
        shares: vec![
            (SplitRecipient::Farmer, bps(farmer)),
            (SplitRecipient::Burn, bps(burn)),
            (SplitRecipient::Treasury, bps(treasury)),
        ],
    };
    serde_json::to_value(split).map_err(|e| SimError::Scenario(format!("params.revenue_split: {e}")))
}

/// Merges `over` onto `base`: objects merge key by key (a key `base` does not have is an error naming its
/// path), except that an enum-shaped object (one key, e.g. `{"v3": {...}}`) given another variant is
/// replaced; any other value replaces.
fn merge(base: &mut serde_json::Value, over: serde_json::Value, path: &str) -> Result<()> {
    use serde_json::Value;
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            let enum_like = base.len() == 1 && over.len() == 1 && over.keys().all(|k| !base.contains_key(k));
            if enum_like {
                *base = over;
                return Ok(());
            }
            for (key, value) in over {
                let here = format!("{path}.{key}");
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value, &here)?,
                    None => return Err(SimError::Scenario(format!("{here}: unknown parameter"))),
                }
            }
            Ok(())
        }
        (slot, value) => {
            *slot = value;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
