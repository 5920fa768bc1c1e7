//! Prices (USD per whole token, fixed point with 18 fractional digits), exact ratios, basis points, and
//! the one multiply-divide with explicit rounding that every conversion uses.

use std::fmt;
use std::str::FromStr;

use ethnum::U256;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Direction of a rounding. Callers choose it so that the system never pays out more than the exact value
/// (spec `decisions.md` §15: charges up, payouts down, TFP surrendered up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Toward zero (floor for non-negative values): payouts, minted amounts.
    Down,
    /// Away from zero (ceiling): charges, amounts a user must give up.
    Up,
}

/// `a * b / c` computed exactly in 256 bits, rounded as asked. `None` when `c == 0` or the result does not
/// fit in `u128`. When `a * b` fits in `u128` (the usual case: amounts times prices) the same exact result
/// comes from one native division.
pub fn mul_div(a: u128, b: u128, c: u128, rounding: Rounding) -> Option<u128> {
    if c == 0 {
        return None;
    }
    if let Some(product) = a.checked_mul(b) {
        let quotient = product / c;
        let exact = quotient * c == product;
        return match rounding {
            // `quotient < u128::MAX` when inexact (then `c > 1`), so the increment cannot overflow.
            Rounding::Up if !exact => quotient.checked_add(1),
            _ => Some(quotient),
        };
    }
    mul_div_wide(a, b, c, rounding)
}

/// [`mul_div`] through a 256-bit product (`c != 0`).
fn mul_div_wide(a: u128, b: u128, c: u128, rounding: Rounding) -> Option<u128> {
    let product = U256::from(a) * U256::from(b);
    let divisor = U256::from(c);
    let quotient = product / divisor;
    let remainder = product % divisor;
    let rounded = match rounding {
        Rounding::Up if remainder != U256::ZERO => quotient + U256::ONE,
        _ => quotient,
    };
    u128::try_from(rounded).ok()
}

/// Compares `a * b` with `c * d` exactly (256-bit products).
pub fn cmp_products(a: u128, b: u128, c: u128, d: u128) -> std::cmp::Ordering {
    (U256::from(a) * U256::from(b)).cmp(&(U256::from(c) * U256::from(d)))
}

/// Fractional digits of a [`Price`].
pub(crate) const PRICE_DECIMALS: u32 = 18;
const PRICE_SCALE: u128 = 1_000_000_000_000_000_000;

/// A price in USD per whole token, as fixed point with 18 fractional digits ("atto-USD"). Never negative.
///
/// `Price::parse("0.01")` is one cent per token. Because every asset has 7 decimals, a price is also the
/// USD value of one base unit scaled by 10^7; conversions between assets use [`mul_div`] on the raw
/// [`Price::atto`] values, so they are exact up to the single rounding the caller chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price {
    atto: u128,
}

impl Price {
    /// A price from raw atto-USD per token.
    pub const fn from_atto(atto: u128) -> Self {
        Self { atto }
    }

    /// Raw atto-USD per token.
    pub const fn atto(self) -> u128 {
        self.atto
    }

    /// Whole USD per token.
    pub const fn usd(whole: u64) -> Self {
        Self { atto: whole as u128 * PRICE_SCALE }
    }

    /// `true` when zero.
    pub const fn is_zero(self) -> bool {
        self.atto == 0
    }

    /// The scale factor 10^18.
    pub const fn scale() -> u128 {
        PRICE_SCALE
    }

    /// This price times `num / den`, rounded as asked. `None` on overflow or `den == 0`.
    pub fn mul_ratio(self, num: u128, den: u128, rounding: Rounding) -> Option<Price> {
        mul_div(self.atto, num, den, rounding).map(Price::from_atto)
    }

    /// The price rounded to `decimals` fractional digits, half up, as a string (for display only).
    pub fn to_string_rounded(self, decimals: u32) -> String {
        let drop = PRICE_DECIMALS.saturating_sub(decimals);
        let factor = 10u128.pow(drop);
        // Half up without `atto + factor / 2`, which overflows for prices near `u128::MAX` atto.
        let round_up = self.atto % factor >= factor - factor / 2;
        let rounded = self.atto / factor + u128::from(round_up && factor > 1);
        format_fixed(rounded, decimals)
    }
}

fn format_fixed(value: u128, decimals: u32) -> String {
    let scale = 10u128.pow(decimals);
    let whole = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = decimals as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl fmt::Display for Price {
    /// Exact decimal string without trailing zeros, e.g. `"0.13047809"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_fixed(self.atto, PRICE_DECIMALS))
    }
}

/// Why a price string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParsePriceError {
    /// Empty input.
    #[error("empty price")]
    Empty,
    /// Negative input.
    #[error("negative prices are not allowed")]
    Negative,
    /// Not a plain decimal number.
    #[error("invalid price {0:?}: expected a decimal number")]
    Invalid(String),
    /// More than 18 fractional digits.
    #[error("too many decimals in price {0:?}: at most 18 allowed")]
    TooManyDecimals(String),
    /// Too large for the fixed-point representation.
    #[error("price {0:?} is too large")]
    Overflow(String),
}

fn parse_fixed(s: &str, decimals: u32) -> Result<u128, ParsePriceError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(ParsePriceError::Empty);
    }
    if text.starts_with('-') {
        return Err(ParsePriceError::Negative);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits_only(whole)
        || !digits_only(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(ParsePriceError::Invalid(s.to_owned()));
    }
    if fraction.len() > decimals as usize {
        return Err(ParsePriceError::TooManyDecimals(s.to_owned()));
    }
    let overflow = || ParsePriceError::Overflow(s.to_owned());
    let mut value: u128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        value =
            value.checked_mul(10).and_then(|v| v.checked_add(u128::from(b - b'0'))).ok_or_else(overflow)?;
    }
    let missing = decimals - fraction.len() as u32;
    value.checked_mul(10u128.pow(missing)).ok_or_else(overflow)
}

impl FromStr for Price {
    type Err = ParsePriceError;
    /// Parses a non-negative decimal with at most 18 fractional digits: `"0.01"`, `"4058.33"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fixed(s, PRICE_DECIMALS).map(Price::from_atto)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_string())
        } else {
            serializer.serialize_u128(self.atto)
        }
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            u128::deserialize(deserializer).map(Price::from_atto)
        }
    }
}

/// An exact non-negative ratio `num / den` (e.g. the entry rate of 2 TFT per CC is `Ratio::new(2, 1)`). The
/// denominator is never zero, also when deserialized (`{"num": 1, "den": 0}` is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RatioParts")]
pub struct Ratio {
    num: u128,
    den: u128,
}

/// The serialized fields of a [`Ratio`], checked by `TryFrom` before a `Ratio` exists.
#[derive(Deserialize)]
struct RatioParts {
    num: u128,
    den: u128,
}

impl TryFrom<RatioParts> for Ratio {
    type Error = &'static str;
    fn try_from(parts: RatioParts) -> Result<Self, Self::Error> {
        Ratio::new(parts.num, parts.den).ok_or("a ratio's denominator must not be zero")
    }
}

impl Ratio {
    /// `num / den`; `None` when `den == 0`.
    pub const fn new(num: u128, den: u128) -> Option<Self> {
        if den == 0 {
            None
        } else {
            Some(Self { num, den })
        }
    }

    /// The numerator.
    pub const fn num(self) -> u128 {
        self.num
    }

    /// The denominator (never zero).
    pub const fn den(self) -> u128 {
        self.den
    }

    /// `value * num / den` rounded as asked; `None` on overflow.
    pub fn apply(self, value: u128, rounding: Rounding) -> Option<u128> {
        mul_div(value, self.num, self.den, rounding)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// Basis points: 1/10,000. Valid values are `0..=10_000` (checked on construction and deserialization).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Bps(u16);

impl<'de> Deserialize<'de> for Bps {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u16::deserialize(deserializer)?;
        Bps::new(value)
            .ok_or_else(|| serde::de::Error::custom(format!("{value} bps is above 10,000 (100 %)")))
    }
}

impl Bps {
    /// 0 %.
    pub const ZERO: Bps = Bps(0);
    /// 100 %.
    pub const FULL: Bps = Bps(10_000);

    /// A share in basis points; `None` above 10,000.
    pub const fn new(bps: u16) -> Option<Self> {
        if bps <= 10_000 {
            Some(Self(bps))
        } else {
            None
        }
    }

    /// The raw value.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// `units * bps / 10_000`, rounded as asked. Exact for any non-negative `units` that fits `i128`.
    pub fn share_of(self, units: i128, rounding: Rounding) -> i128 {
        let magnitude = units.unsigned_abs();
        let share = mul_div(magnitude, u128::from(self.0), 10_000, rounding)
            .expect("a share of at most 100% of an i128 fits in u128");
        let share = i128::try_from(share).expect("a share never exceeds the whole");
        if units < 0 {
            -share
        } else {
            share
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_ratio_with_a_zero_denominator_does_not_deserialize() {
        let ratio: Ratio = serde_json::from_str(r#"{"num": 2, "den": 1}"#).expect("a ratio");
        assert_eq!(ratio, Ratio::new(2, 1).expect("non-zero"));
        assert!(serde_json::from_str::<Ratio>(r#"{"num": 1, "den": 0}"#).is_err());
        let bytes = postcard::to_allocvec(&ratio).expect("postcard");
        assert_eq!(postcard::from_bytes::<Ratio>(&bytes).expect("round trip"), ratio);
    }
    use super::*;

    #[test]
    fn mul_div_rounds_as_asked_and_uses_wide_intermediate() {
        assert_eq!(mul_div(10, 1, 3, Rounding::Down), Some(3));
        assert_eq!(mul_div(10, 1, 3, Rounding::Up), Some(4));
        assert_eq!(mul_div(9, 1, 3, Rounding::Up), Some(3));
        assert_eq!(mul_div(u128::MAX, 2, 2, Rounding::Down), Some(u128::MAX));
        assert_eq!(mul_div(u128::MAX, 3, 2, Rounding::Down), None);
        assert_eq!(mul_div(1, 1, 0, Rounding::Down), None);
    }

    proptest::proptest! {
        /// The native path (product within `u128`) gives exactly the 256-bit result, both roundings.
        #[test]
        fn mul_div_native_path_equals_the_wide_one(
            a in proptest::prop_oneof![0..u128::from(u64::MAX), proptest::num::u128::ANY],
            b in proptest::prop_oneof![0..u128::from(u64::MAX), proptest::num::u128::ANY],
            c in proptest::prop_oneof![1..1_000u128, 1..u128::from(u64::MAX), 1..u128::MAX],
        ) {
            for rounding in [Rounding::Down, Rounding::Up] {
                proptest::prop_assert_eq!(mul_div(a, b, c, rounding), mul_div_wide(a, b, c, rounding));
            }
        }
    }

    #[test]
    fn price_parse_and_display() {
        let p: Price = "0.01".parse().unwrap();
        assert_eq!(p.atto(), 10_000_000_000_000_000);
        assert_eq!(p.to_string(), "0.01");
        let gold: Price = "4058.33".parse().unwrap();
        assert_eq!(gold.to_string(), "4058.33");
        assert!(matches!("-1".parse::<Price>(), Err(ParsePriceError::Negative)));
        assert!(matches!("0.1234567890123456789".parse::<Price>(), Err(ParsePriceError::TooManyDecimals(_))));
        assert!(matches!("abc".parse::<Price>(), Err(ParsePriceError::Invalid(_))));
        assert_eq!(Price::from_atto(130_478_090_000_000_000).to_string_rounded(5), "0.13048");
        assert_eq!(Price::from_atto(5).to_string_rounded(17), "0.00000000000000001");
        assert_eq!(Price::from_atto(4).to_string_rounded(17), "0");
        assert_eq!(Price::from_atto(7).to_string_rounded(18), "0.000000000000000007");
    }

    /// Found by the fuzzer (`fuzz/regressions/amounts/`): rounding added half a unit before dividing, which
    /// overflowed for prices near `u128::MAX` atto (a panic in debug builds, a tiny price in release).
    #[test]
    fn the_largest_prices_round_without_overflow() {
        let max = Price::from_atto(u128::MAX);
        assert_eq!(max.to_string_rounded(0), "340282366920938463463");
        assert_eq!(max.to_string_rounded(2), "340282366920938463463.37");
        assert_eq!(
            Price::from_atto(u128::MAX - 1_000).to_string_rounded(17),
            "340282366920938463463.37460743176821046"
        );
    }

    #[test]
    fn bps_share() {
        let bps = Bps::new(8_000).unwrap();
        assert_eq!(bps.share_of(1_000_000_000, Rounding::Down), 800_000_000);
        assert_eq!(Bps::new(1_000).unwrap().share_of(7, Rounding::Down), 0);
        assert_eq!(Bps::new(1_000).unwrap().share_of(7, Rounding::Up), 1);
        assert!(Bps::new(10_001).is_none());
    }
}
