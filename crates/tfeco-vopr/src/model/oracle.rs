//! The reference model's oracle and the conversions that use its prices (spec `decisions.md` §1 CC = 1/1000
//! g of gold, §3 oracle, §4 entry, §7 burn), written with its own arithmetic: every price is an exact
//! fraction reduced by its greatest common divisor (`tfeco_money::Price` is only read for its raw value),
//! and every conversion rounds down once.
//!
//! The model covers one guardian (the operator, quorum 1), which is how the simulator's genesis is made:
//! a feed's price is valid while its latest submission is at most `oracle_max_age_s` old and not in the
//! future, and the TFT price is clamped to the genesis bounds.

use tfeco_core::{Genesis, PriceFeed};
use tfeco_money::Price;

/// Grams of gold in a troy ounce, times 10^7 (31.1034768 g).
const TROY_OUNCE_G_E7: u128 = 311_034_768;

/// An exact non-negative fraction, kept reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Frac {
    num: u128,
    den: u128,
}

impl Frac {
    /// `num / den` reduced; `None` for a zero denominator.
    fn new(num: u128, den: u128) -> Option<Frac> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Frac { num: num / g, den: den / g })
    }

    /// A price in USD per token.
    fn of_price(price: Price) -> Frac {
        Frac::new(price.atto(), Price::scale()).expect("a non-zero scale")
    }

    /// `self × other`, reduced (`None` on overflow).
    fn times(self, other: Frac) -> Option<Frac> {
        let a = Frac::new(self.num, other.den)?;
        let b = Frac::new(other.num, self.den)?;
        Frac::new(a.num.checked_mul(b.num)?, a.den.checked_mul(b.den)?)
    }

    /// One.
    pub(super) fn one() -> Frac {
        Frac { num: 1, den: 1 }
    }

    /// `self / other` (`None` when `other` is zero or on overflow).
    pub(super) fn over(self, other: Frac) -> Option<Frac> {
        self.times(Frac::new(other.den, other.num)?)
    }

    /// `units × self`, rounded down (`None` on overflow).
    pub(super) fn of_units(self, units: u128) -> Option<u128> {
        let g = gcd(units, self.den).max(1);
        (units / g).checked_mul(self.num).map(|n| n / (self.den / g))
    }

    /// `self < other`, exactly.
    fn less_than(self, other: Frac) -> bool {
        // Cross-multiplied; both sides are small once reduced, and a product that overflows is the larger.
        match (self.num.checked_mul(other.den), other.num.checked_mul(self.den)) {
            (Some(a), Some(b)) => a < b,
            (None, Some(_)) => false,
            (Some(_), None) => true,
            (None, None) => false,
        }
    }

    fn clamp(self, min: Frac, max: Frac) -> Frac {
        let at_least = if self.less_than(min) { min } else { self };
        if max.less_than(at_least) {
            max
        } else {
            at_least
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Valid prices at one time: USD per TFT (clamped) and USD per CC.
#[derive(Clone, Copy, Debug)]
pub(super) struct Prices {
    tft_usd: Frac,
    cc_usd: Frac,
}

impl Prices {
    /// CC worth `tft` TFT units: `tft × tft_usd / cc_usd`, rounded down.
    pub(super) fn cc_for_tft(self, tft: u128) -> Option<u128> {
        self.tft_usd.over(self.cc_usd)?.of_units(tft)
    }

    /// TFT units worth `cc` CC units: `cc × cc_usd / tft_usd`, rounded down.
    pub(super) fn tft_for_cc(self, cc: u128) -> Option<u128> {
        self.cc_usd.over(self.tft_usd)?.of_units(cc)
    }
}

/// The oracle: the latest submission of each feed by the one guardian, and the rule numbers.
#[derive(Clone, Debug)]
pub(super) struct Oracle {
    max_age_s: i64,
    tft_min: Frac,
    tft_max: Frac,
    /// TFT per CC at the entry parity.
    entry_tft_per_cc: Frac,
    /// Latest `(price, observed_at)` of the TFT and gold feeds.
    tft: Option<(Frac, i64)>,
    gold: Option<(Frac, i64)>,
}

impl Oracle {
    /// The oracle at `genesis`, which must have one guardian and an oracle quorum of one (the simulator's).
    pub(super) fn new(genesis: &Genesis) -> Oracle {
        let p = &genesis.params;
        assert!(p.guardians.len() == 1 && p.oracle_quorum() == 1, "the model covers one guardian");
        let rate = Frac::new(p.entry_tft_per_cc.num(), p.entry_tft_per_cc.den()).expect("a valid ratio");
        Oracle {
            max_age_s: p.oracle_max_age_s,
            tft_min: Frac::of_price(p.tft_usd_min),
            tft_max: Frac::of_price(p.tft_usd_max),
            entry_tft_per_cc: rate,
            tft: None,
            gold: None,
        }
    }

    /// `SubmitPrice` by the guardian at the state's time `now`: a non-zero price observed no later than
    /// `now` and after the feed's previous submission.
    pub(super) fn submit(&mut self, feed: PriceFeed, price: Price, observed_at: i64, now: i64) -> bool {
        let latest = match feed {
            PriceFeed::TftUsd => &mut self.tft,
            PriceFeed::GoldUsdPerOz => &mut self.gold,
        };
        let newer = latest.is_none_or(|(_, previous)| observed_at > previous);
        if price.is_zero() || observed_at > now || !newer {
            return false;
        }
        *latest = Some((Frac::of_price(price), observed_at));
        true
    }

    fn fresh(&self, latest: Option<(Frac, i64)>, now: i64) -> Option<Frac> {
        latest.filter(|(_, at)| *at <= now && now - at <= self.max_age_s).map(|(price, _)| price)
    }

    /// USD per CC at `now`, from the gold price alone: `gold_usd_per_oz × 10^4 / 311,034,768`.
    pub(super) fn cc_usd(&self, now: i64) -> Option<Frac> {
        let gold = self.fresh(self.gold, now)?;
        gold.times(Frac::new(10_000, TROY_OUNCE_G_E7)?)
    }

    /// Both prices at `now`, or `None` when either feed has no fresh submission.
    pub(super) fn prices(&self, now: i64) -> Option<Prices> {
        let tft_usd = self.fresh(self.tft, now)?.clamp(self.tft_min, self.tft_max);
        Some(Prices { tft_usd, cc_usd: self.cc_usd(now)? })
    }

    /// `true` while TFT trades below the entry parity: `tft_usd × entry_tft_per_cc < cc_usd`.
    pub(super) fn below_parity(&self, prices: Prices) -> bool {
        prices.tft_usd.times(self.entry_tft_per_cc).is_some_and(|value| value.less_than(prices.cc_usd))
    }

    /// CC minted for `tft` units entering: at the entry rate below parity (`tft / entry_tft_per_cc`), else
    /// at the market (`tft × tft_usd / cc_usd`), rounded down.
    pub(super) fn entry_cc(&self, prices: Prices, tft: u128) -> Option<u128> {
        if self.below_parity(prices) {
            Frac::new(self.entry_tft_per_cc.den, self.entry_tft_per_cc.num)?.of_units(tft)
        } else {
            prices.cc_for_tft(tft)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_reduce_and_round_down() {
        let half = Frac::new(50, 100).expect("fraction");
        assert_eq!(half, Frac { num: 1, den: 2 });
        assert_eq!(half.of_units(7), Some(3));
        assert!(half.less_than(Frac::new(2, 3).expect("fraction")));
        let cc_usd =
            Frac::new(311_034_768, 100_000).and_then(|g| g.times(Frac::new(10_000, TROY_OUNCE_G_E7)?));
        assert_eq!(cc_usd, Frac::new(1, 10), "gold at 3,110.34768 USD/oz: 0.1 USD per CC");
    }
}
