//! Oracle maths (spec `decisions.md` §3, §1): checking a submission, the effective price (median of fresh
//! submissions, quorum, clamp), and the exact conversions between TFT, CC and USD. Pure: the oracle slice
//! stores the submissions and calls these.

use std::fmt;

use serde::{Deserialize, Serialize};
use tfeco_money::{cmp_products, mul_div, Price, Ratio, Rounding};

use crate::types::PriceFeed;

/// Grams per troy ounce × 10^7 (31.1034768 g).
const TROY_OZ_G_E7: u128 = 311_034_768;

/// One price submission: a price observed at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Submitted price.
    pub price: Price,
    /// Observation time, unix seconds.
    pub observed_at: i64,
}

/// The rules that turn submissions into an effective price (spec `decisions.md` §3); the values come from
/// `Params` (`oracle_max_age_s`, `oracle_quorum()`, `tft_usd_min`, `tft_usd_max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleRules {
    /// A submission older than this (seconds) is ignored.
    pub max_age_s: i64,
    /// Fresh submissions needed (at least 1).
    pub quorum: u32,
    /// Lower clamp of the TFT price.
    pub tft_usd_min: Price,
    /// Upper clamp of the TFT price.
    pub tft_usd_max: Price,
}

/// Why a submission is refused (spec `decisions.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "problem")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PriceProblem {
    /// The price is zero.
    Zero,
    /// Observed after the state's current time.
    ObservedInFuture {
        /// The observation time given.
        observed_at: i64,
        /// The state's time.
        now: i64,
    },
    /// Not newer than the same submitter's previous submission.
    NotNewer {
        /// The previous observation time.
        previous: i64,
    },
}

impl fmt::Display for PriceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriceProblem::Zero => f.write_str("price must be greater than zero"),
            PriceProblem::ObservedInFuture { observed_at, now } => {
                write!(f, "observed_at {observed_at} is after the current time {now}")
            }
            PriceProblem::NotNewer { previous } => {
                write!(f, "observed_at must be after the previous submission ({previous})")
            }
        }
    }
}

/// Checks a submission against the submitter's previous one and the time `now`.
pub fn check_submission(
    submission: Submission,
    previous: Option<Submission>,
    now: i64,
) -> Result<(), PriceProblem> {
    if submission.price.is_zero() {
        return Err(PriceProblem::Zero);
    }
    if submission.observed_at > now {
        return Err(PriceProblem::ObservedInFuture { observed_at: submission.observed_at, now });
    }
    if let Some(previous) = previous {
        if submission.observed_at <= previous.observed_at {
            return Err(PriceProblem::NotNewer { previous: previous.observed_at });
        }
    }
    Ok(())
}

/// The effective price of a feed at `now` (spec `decisions.md` §3): the median of the given latest
/// submissions (one per current guardian) younger than `max_age_s`, if at least `quorum` of them; the TFT
/// price is clamped to `[tft_usd_min, tft_usd_max]` (bounds with `min > max`, which governance refuses,
/// give `tft_usd_max`). With an even count the lower median is used (no rounding needed). `None` when too
/// few are fresh.
pub fn effective_price(
    feed: PriceFeed,
    latest: impl IntoIterator<Item = Submission>,
    rules: &OracleRules,
    now: i64,
) -> Option<Price> {
    let mut fresh: Vec<Price> = latest
        .into_iter()
        .filter(|s| s.observed_at <= now && now.saturating_sub(s.observed_at) <= rules.max_age_s)
        .map(|s| s.price)
        .collect();
    if fresh.is_empty() || (fresh.len() as u64) < u64::from(rules.quorum.max(1)) {
        return None;
    }
    fresh.sort_unstable();
    let median = *fresh.get(fresh.len().saturating_sub(1) / 2)?;
    Some(match feed {
        // `max` then `min`: the same as `clamp` for `min <= max`, and no panic for inconsistent bounds.
        PriceFeed::TftUsd => median.max(rules.tft_usd_min).min(rules.tft_usd_max),
        PriceFeed::GoldUsdPerOz => median,
    })
}

/// The latest month of the compiled-in gold series (`data/gold-prices/monthly.csv`) and the CC price it
/// implies (decisions §1: 0.001 g of gold): `(month "YYYY-MM", gold USD per troy ounce, USD per CC)`. The
/// default CC price of the income calculators (issue 10 item 17); `None` only if the series were empty.
pub fn latest_gold_cc_usd() -> Option<(String, Price, Price)> {
    let months = crate::catalogue::parse_gold_csv(crate::catalogue::GOLD_MONTHLY_CSV).ok()?;
    let (month, gold) = months.last().cloned()?;
    Some((month, gold, CcPrice::from_gold(gold).usd()))
}

/// The CC price, kept exact as a ratio of the gold price: `cc_usd = gold_usd_per_oz / 31.1034768 / 1000`
/// (spec `decisions.md` §1). In atto-USD per CC it is `gold_atto * 10^4 / 311,034,768`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CcPrice {
    gold: Price,
}

impl CcPrice {
    /// From the gold price in USD per troy ounce.
    pub fn from_gold(gold: Price) -> Self {
        Self { gold }
    }

    /// The gold price it derives from.
    pub fn gold(self) -> Price {
        self.gold
    }

    fn num(self) -> u128 {
        self.gold.atto().saturating_mul(10_000)
    }

    /// The CC price in USD, rounded down to 18 decimals (display and reports; conversions stay exact).
    pub fn usd(self) -> Price {
        Price::from_atto(mul_div(self.gold.atto(), 10_000, TROY_OZ_G_E7, Rounding::Down).unwrap_or(u128::MAX))
    }
}

/// A valid pair of prices at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prices {
    /// TFT in USD (clamped).
    pub tft_usd: Price,
    /// CC in USD (from gold).
    pub cc: CcPrice,
}

impl Prices {
    /// CC units worth `usd_units` USD (1 USDC unit = 10^-7 USD), rounded as asked:
    /// `usd / cc_usd = usd * 311,034,768 * 10^14 / gold_atto`.
    pub fn cc_for_usd(&self, usd_units: u128, rounding: Rounding) -> Option<u128> {
        mul_div(usd_units, TROY_OZ_G_E7 * 100_000_000_000_000, self.cc.gold.atto(), rounding)
    }

    /// CC units worth `tft_units` TFT at the market: `tft * tft_usd / cc_usd`.
    pub fn cc_for_tft(&self, tft_units: u128, rounding: Rounding) -> Option<u128> {
        let numerator = self.tft_usd.atto().checked_mul(TROY_OZ_G_E7)?;
        mul_div(tft_units, numerator, self.cc.num(), rounding)
    }

    /// TFT (or TFP) units worth `cc_units` CC: `cc * cc_usd / tft_usd`.
    pub fn tft_for_cc(&self, cc_units: u128, rounding: Rounding) -> Option<u128> {
        let denominator = self.tft_usd.atto().checked_mul(TROY_OZ_G_E7)?;
        mul_div(cc_units, self.cc.num(), denominator, rounding)
    }

    /// `true` while TFT trades below the entry parity: `tft_usd < cc_usd / entry_tft_per_cc`, i.e.
    /// `tft_usd * rate_num * 311,034,768 < gold_atto * 10^4 * rate_den` (exact).
    pub fn below_entry_parity(&self, entry_tft_per_cc: Ratio) -> bool {
        let left = self.tft_usd.atto().saturating_mul(TROY_OZ_G_E7);
        cmp_products(left, entry_tft_per_cc.num(), self.cc.num(), entry_tft_per_cc.den()).is_lt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(tft: &str, gold: &str) -> Prices {
        Prices { tft_usd: tft.parse().unwrap(), cc: CcPrice::from_gold(gold.parse().unwrap()) }
    }

    #[test]
    fn the_tft_clamp_applies_and_inconsistent_bounds_do_not_panic() {
        let price = |s: &str| s.parse::<Price>().unwrap();
        let latest = |p: &str| [Submission { price: price(p), observed_at: 90 }];
        let rules =
            OracleRules { max_age_s: 60, quorum: 1, tft_usd_min: price("0.01"), tft_usd_max: price("1") };
        assert_eq!(effective_price(PriceFeed::TftUsd, latest("0.001"), &rules, 100), Some(price("0.01")));
        assert_eq!(effective_price(PriceFeed::TftUsd, latest("0.5"), &rules, 100), Some(price("0.5")));
        assert_eq!(effective_price(PriceFeed::TftUsd, latest("7"), &rules, 100), Some(price("1")));
        // min > max used to panic in `Ord::clamp`; it now gives the upper bound.
        let inverted = OracleRules { tft_usd_min: price("2"), tft_usd_max: price("1"), ..rules };
        assert_eq!(effective_price(PriceFeed::TftUsd, latest("0.5"), &inverted, 100), Some(price("1")));
    }

    #[test]
    fn cc_price_from_the_2025_10_gold_row() {
        let cc = CcPrice::from_gold("4058.33".parse().unwrap());
        assert_eq!(cc.usd().to_string_rounded(5), "0.13048");
    }

    #[test]
    fn conversions_are_exact_and_round_as_asked() {
        // Gold chosen so that cc_usd is exactly 0.1: gold = 0.1 * 31103.4768 = 3110.34768.
        let p = prices("0.05", "3110.34768");
        assert_eq!(p.cc.usd().to_string(), "0.1");
        let one = 10_000_000u128;
        assert_eq!(p.cc_for_usd(one, Rounding::Down), Some(10 * one));
        assert_eq!(p.cc_for_tft(one, Rounding::Down), Some(one / 2));
        assert_eq!(p.tft_for_cc(one, Rounding::Down), Some(2 * one));
        assert!(!p.below_entry_parity(Ratio::new(2, 1).unwrap()));
        let cheap = prices("0.01", "3110.34768");
        assert!(cheap.below_entry_parity(Ratio::new(2, 1).unwrap()));
        let odd = prices("0.03", "3110.34768");
        assert_eq!(odd.tft_for_cc(1, Rounding::Down), Some(3));
        assert_eq!(odd.tft_for_cc(1, Rounding::Up), Some(4));
    }
}
