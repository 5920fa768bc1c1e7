//! Oracle prices (spec `decisions.md` §3): the latest submission of each submitter per feed, the effective
//! price (median of fresh submissions, quorum, clamp), and the exact conversions between TFT, CC and USD.

use std::collections::BTreeMap;

use serde::Serialize;
use tfeco_money::{cmp_products, mul_div, Price, Ratio, Rounding};

use crate::command::PriceFeed;
use crate::ids::AccountKey;
use crate::params::Params;
use crate::rejection::Rejection;

/// Grams per troy ounce × 10^7 (31.1034768 g).
const TROY_OZ_G_E7: u128 = 311_034_768;

/// One stored submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Submission {
    /// Submitted price.
    pub price: Price,
    /// Observation time, unix seconds.
    pub observed_at: i64,
}

/// Latest submission per (feed, submitter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Oracle {
    latest: BTreeMap<(PriceFeed, AccountKey), Submission>,
}

impl Oracle {
    /// Validates a submission without storing it.
    pub(crate) fn validate(
        &self,
        feed: PriceFeed,
        submitter: AccountKey,
        submission: Submission,
        now: i64,
    ) -> Result<(), Rejection> {
        if submission.price.is_zero() {
            return Err(Rejection::PriceInvalid { reason: "price must be greater than zero".to_owned() });
        }
        if submission.observed_at > now {
            return Err(Rejection::PriceInvalid {
                reason: format!("observed_at {} is after the current time {now}", submission.observed_at),
            });
        }
        if let Some(previous) = self.latest.get(&(feed, submitter)) {
            if submission.observed_at <= previous.observed_at {
                return Err(Rejection::PriceInvalid {
                    reason: format!(
                        "observed_at must be after the previous submission ({})",
                        previous.observed_at
                    ),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn store(&mut self, feed: PriceFeed, submitter: AccountKey, submission: Submission) {
        self.latest.insert((feed, submitter), submission);
    }

    /// The effective price of a feed at `now`: the median of the latest submission of each allowed submitter
    /// younger than `oracle_max_age_s`, if at least `oracle_quorum` of them; the TFT price is clamped to
    /// `[tft_usd_min, tft_usd_max]`. With an even count the lower median is used (no rounding needed).
    pub fn effective(&self, feed: PriceFeed, params: &Params, now: i64) -> Result<Price, Rejection> {
        let mut fresh: Vec<Price> = params
            .guardians
            .iter()
            .filter_map(|key| self.latest.get(&(feed, *key)))
            .filter(|s| s.observed_at <= now && now - s.observed_at <= params.oracle_max_age_s)
            .map(|s| s.price)
            .collect();
        if fresh.is_empty() || (fresh.len() as u64) < u64::from(params.oracle_quorum()) {
            return Err(Rejection::PriceUnavailable { feed });
        }
        fresh.sort_unstable();
        let median = fresh[(fresh.len() - 1) / 2];
        Ok(match feed {
            PriceFeed::TftUsd => median.clamp(params.tft_usd_min, params.tft_usd_max),
            PriceFeed::GoldUsdPerOz => median,
        })
    }

    /// Both prices at `now`, or the first one missing.
    pub fn prices(&self, params: &Params, now: i64) -> Result<Prices, Rejection> {
        let tft_usd = self.effective(PriceFeed::TftUsd, params, now)?;
        let gold = self.effective(PriceFeed::GoldUsdPerOz, params, now)?;
        Ok(Prices { tft_usd, cc: CcPrice::from_gold(gold) })
    }

    /// All stored submissions (for the API).
    pub fn submissions(&self) -> impl Iterator<Item = (&(PriceFeed, AccountKey), &Submission)> {
        self.latest.iter()
    }
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
