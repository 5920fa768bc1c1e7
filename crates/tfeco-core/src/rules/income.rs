//! Farmer income and ROI calculator: what one node model earns per month at a utilization and a slice
//! price, what its hardware costs, and how long it takes to pay back; plus the catalogue's income table.
//!
//! Sources: `decisions.md` §9-10 (they rule), `marketplace_and_nodes.md` §4 (income table), §4.1 (its
//! formulas), §4.2 (the ROI calculator and vectors ROI-1..4), §5.2 (bid tiers, BID-1/2), and
//! `data/node-catalogue/README.md` (the expected income table).
//!
//! # Formulas (per node-month)
//!
//! ```text
//! offered_slices = typical_slices                     (decisions §9; a farmer may offer fewer)
//! active_slices  = offered_slices × utilization       (decisions §9; §4.2 writes max_slices: see below)
//! gross          = active_slices × price               CC   (price: CC per slice-month, inside the band)
//! farmer_share   = gross × farmer_share_bps / 10,000   CC   (8,000 bps in the tfgrid4-2025 split, §7)
//! gross_usd      = gross × cc_usd                      USD
//! farmer_usd     = farmer_share × cc_usd               USD
//! hw_cost        = capex_usd / amortization_months     USD  (60 months; see HwCostBasis for the rounding)
//! net            = farmer_usd − hw_cost                USD
//! break_even_months         = capex_usd / farmer_usd        (payback on the farmer's share)
//! break_even_months_on_gross = capex_usd / gross_usd        (the node-spec page's looser reading)
//! ```
//!
//! Income table (`income_table`, spec §4.1): `min_income = income_factor_min × typical_slices × band_min`
//! (factor 1.3), `max_income = income_factor_max × typical_slices × band_max` (factor 1.5); the factors are
//! unexplained in the source [GAP] and are named parameters of [`RoiParams`]. The ROI-4 break-even lines of
//! the spec (3Node Home 45.8 months, Large 10.09 months) are `capex / min_income`: they are the table's
//! `break_even_months_min_income`, not the node calculator's `break_even_months`.
//!
//! # Readings
//!
//! - **Active slices on `typical_slices`.** The spec's §4.2 writes `max_slices × utilization`, but its own
//!   vector ROI-1 says "max slices 25 (typical active slices: 25)" for Mini 3, whose `typical_slices` and
//!   `max_slices` are both 25, so the vectors cannot tell the two apart. `decisions.md` §9 rules: active
//!   slices = *offered* slices × utilization, and a node offers `typical_slices`. For the other models the
//!   two readings differ (3Node Home: 7 vs 25); this module uses `typical_slices` (or fewer, when asked).
//! - **Units.** Slice prices and incomes are CC; capex and hardware cost are USD. The published tables
//!   compare them as if 1 CC = 1 USD ("All prices in USD", spec §4.1 "Units problem"). The conversion is the
//!   explicit parameter [`RoiParams::cc_usd`], default 1 ("as published"); the real peg (0.001 g of gold) is
//!   about 0.13 USD per CC, and `--cc-usd` changes it. CC and USD values are different types
//!   ([`Amount<Cc>`], [`Amount<Usd>`]) and never meet without the rate.
//! - **Hardware cost.** The published table and the ROI vectors use `capex / 60` rounded to whole USD
//!   (Mini 3: 16.67 → 17; ROI-1's net −8 = 9 − 17). [`HwCostBasis::WholeUsd`] (the default) reproduces
//!   them; [`HwCostBasis::Exact`] uses the exact `capex / 60`. Every output also carries the exact value.
//!
//! # Rounding (deliberate, documented)
//!
//! Every quantity is computed as an exact rational ([`Fraction`]) from the exact inputs, and rounded
//! **once**, at the end, for display:
//! - money values (CC and USD, 7 decimals): **down, toward −∞**, so no displayed income or net exceeds its
//!   exact value (ROI-1 with the exact hardware cost: net −7.666… → −7.6666667). Each value is rounded on
//!   its own, so a displayed `net` may differ by 10^-7 from the difference of the displayed
//!   `farmer_share_usd` and `hw_cost`;
//! - break-even months: **half up to 2 decimals** (a display value: 45.787… → "45.79", 10.094… →
//!   "10.09"), with the exact fraction alongside (`break_even_months_exact`);
//! - the whole-USD hardware cost: half up (16.67 → 17, 8.33 → 8).
//!
//! Inputs are exact decimals: utilization with at most 6 decimals as a fraction (`0.3`) or 4 as a
//! percentage (`30%`), i.e. parts per million; prices with at most 7 decimals (CC base units); `cc_usd` with
//! at most 18 (a [`Price`]). Everything is deterministic: no floats, no clock, no environment.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use tfeco_money::{
    cmp_products, mul_div, Amount, Bps, Cc, ParseAmountError, ParsePriceError, Price, Ratio, Rounding,
    DECIMALS, UNITS_PER_TOKEN,
};

use crate::catalogue::NodeModel;
use crate::rules::billing::RevenueSplit;

/// Type tag for US-dollar values in [`Amount<Usd>`]: 7 decimals like every amount, never mixed with CC.
///
/// Not an asset of the ledger (USDC is): it is the calculator's unit for capex, hardware cost, net income
/// and CC incomes converted at [`RoiParams::cc_usd`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usd;

// ---------------------------------------------------------------------------------------------------------
// Exact rationals
// ---------------------------------------------------------------------------------------------------------

/// An exact rational number `num / den` in lowest terms with `den > 0`.
///
/// Arithmetic is checked (`None` on `i128` overflow); common factors are cancelled before every product,
/// so realistic calculator inputs stay far from the bounds. JSON: a finite decimal string when the value
/// has one (`"7.5"`, `"-8"`), otherwise `"num/den"` (`"1000/9"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fraction {
    num: i128,
    den: i128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let r = a.checked_rem(b).expect("the loop runs while b is not zero");
        a = b;
        b = r;
    }
    a
}

/// `gcd` of two values where `den > 0`; the result divides both and fits `i128` (it is at most `den`).
fn gcd_i(a: i128, den: i128) -> i128 {
    // `den > 0`, so the gcd is between 1 and `den`: the cast back to i128 is lossless.
    gcd(a.unsigned_abs(), den.unsigned_abs()) as i128
}

/// `value / divisor` for a divisor returned by [`gcd_i`] (so at least 1, and dividing `value` exactly).
fn exact_div(value: i128, divisor: i128) -> i128 {
    value.checked_div(divisor).expect("a gcd with a positive denominator is at least 1")
}

impl Fraction {
    /// Zero.
    pub const ZERO: Fraction = Fraction { num: 0, den: 1 };

    /// `num / den` in lowest terms; `None` when `den == 0` (or on the one overflow of negating `i128::MIN`).
    pub fn new(num: i128, den: i128) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let (num, den) = if den < 0 { (num.checked_neg()?, den.checked_neg()?) } else { (num, den) };
        let g = gcd_i(num, den);
        Some(Fraction { num: exact_div(num, g), den: exact_div(den, g) })
    }

    /// The integer `n`.
    pub const fn int(n: i128) -> Self {
        Fraction { num: n, den: 1 }
    }

    /// A [`Ratio`] (`num / den`, both `u128`); `None` when a part does not fit `i128`.
    pub fn from_ratio(ratio: Ratio) -> Option<Self> {
        Fraction::new(i128::try_from(ratio.num()).ok()?, i128::try_from(ratio.den()).ok()?)
    }

    /// An amount as a whole-token fraction (`units / 10^7`).
    pub fn from_amount<A>(amount: Amount<A>) -> Self {
        Fraction::new(amount.units(), UNITS_PER_TOKEN).expect("10^7 is not zero")
    }

    /// A price as a whole-USD fraction (`atto / 10^18`); `None` when it does not fit `i128`.
    pub fn from_price(price: Price) -> Option<Self> {
        Fraction::new(i128::try_from(price.atto()).ok()?, i128::try_from(Price::scale()).ok()?)
    }

    /// The numerator (sign of the value).
    pub const fn num(self) -> i128 {
        self.num
    }

    /// The denominator (always > 0).
    pub const fn den(self) -> i128 {
        self.den
    }

    /// `true` when strictly positive.
    pub const fn is_positive(self) -> bool {
        self.num > 0
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let g = gcd_i(self.den, other.den);
        let den = exact_div(self.den, g).checked_mul(other.den)?;
        let left = self.num.checked_mul(exact_div(other.den, g))?;
        let right = other.num.checked_mul(exact_div(self.den, g))?;
        Fraction::new(left.checked_add(right)?, den)
    }

    /// Difference, or `None` on overflow.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.checked_add(Fraction { num: other.num.checked_neg()?, den: other.den })
    }

    /// Product, or `None` on overflow (common factors are cancelled first).
    pub fn checked_mul(self, other: Self) -> Option<Self> {
        let g1 = gcd_i(self.num, other.den);
        let g2 = gcd_i(other.num, self.den);
        let num = exact_div(self.num, g1).checked_mul(exact_div(other.num, g2))?;
        let den = exact_div(self.den, g2).checked_mul(exact_div(other.den, g1))?;
        Fraction::new(num, den)
    }

    /// Quotient, or `None` when `other` is zero or on overflow.
    pub fn checked_div(self, other: Self) -> Option<Self> {
        self.checked_mul(Fraction::new(other.den, other.num)?)
    }

    /// `floor(self × 10^decimals)`: the value rounded **down (toward −∞)** to `decimals` decimals, as a
    /// scaled integer. `None` when the result does not fit `i128`.
    pub fn floor_scaled(self, decimals: u32) -> Option<i128> {
        let scale = 10u128.checked_pow(decimals)?;
        let den = self.den.unsigned_abs();
        if self.num >= 0 {
            i128::try_from(mul_div(self.num.unsigned_abs(), scale, den, Rounding::Down)?).ok()
        } else {
            i128::try_from(mul_div(self.num.unsigned_abs(), scale, den, Rounding::Up)?).ok()?.checked_neg()
        }
    }

    /// `self × 10^decimals` rounded **half away from zero** (half up for the non-negative values it is
    /// used on), as a scaled integer. `None` when the result does not fit `i128`.
    pub fn round_half_up_scaled(self, decimals: u32) -> Option<i128> {
        let scale = 10u128.checked_pow(decimals)?;
        let magnitude = self.num.unsigned_abs();
        let den = self.den.unsigned_abs();
        let down = mul_div(magnitude, scale, den, Rounding::Down)?;
        // Round up when magnitude × scale / den − down >= 1/2,
        // i.e. 2 × magnitude × scale >= (2 down + 1) × den.
        let twice_scale = scale.checked_mul(2)?;
        let threshold = down.checked_mul(2)?.checked_add(1)?;
        // `down + 1` cannot overflow: `2 × down` fitted `u128` just above.
        let rounded = if cmp_products(magnitude, twice_scale, threshold, den).is_ge() {
            down.checked_add(1)?
        } else {
            down
        };
        let rounded = i128::try_from(rounded).ok()?;
        // `rounded >= 0`, so its negation fits.
        Some(if self.num < 0 { rounded.checked_neg()? } else { rounded })
    }

    /// The value rounded half up to `decimals` decimals, printed with exactly that many decimals
    /// (`"45.79"`, `"10.09"`, `"3.00"`). `None` on overflow.
    pub fn to_string_half_up(self, decimals: u32) -> Option<String> {
        self.round_half_up_scaled(decimals).map(|v| format_scaled(v, decimals, false))
    }

    /// The exact value: a finite decimal without trailing zeros when one exists (`"7.5"`, `"-8"`,
    /// `"0.0000001"`), otherwise `"num/den"` (`"1000/9"`).
    pub fn to_exact_string(self) -> String {
        if self.den == 1 {
            return self.num.to_string();
        }
        // The denominator is 2^twos × 5^fives × rest; the value is a finite decimal when rest == 1.
        let (rest, twos) = strip_factor(self.den.unsigned_abs(), 2);
        let (rest, fives) = strip_factor(rest, 5);
        let decimals = twos.max(fives);
        if rest == 1 {
            let scaled = 10i128
                .checked_pow(decimals)
                .and_then(|s| s.checked_div(self.den))
                .and_then(|factor| self.num.checked_mul(factor));
            if let Some(scaled) = scaled {
                return format_scaled(scaled, decimals, true);
            }
        }
        format!("{}/{}", self.num, self.den)
    }
}

impl fmt::Display for Fraction {
    /// The exact string ([`Fraction::to_exact_string`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_exact_string())
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_exact_string())
    }
}

/// Divides `value` (> 0) by `factor` (>= 2) as often as it goes: `(rest, times)`.
fn strip_factor(mut value: u128, factor: u128) -> (u128, u32) {
    let mut times = 0u32;
    loop {
        match (value.checked_div(factor), value.checked_rem(factor)) {
            (Some(quotient), Some(0)) => {
                value = quotient;
                // `value > 0` and `factor >= 2`: at most 127 divisions before a remainder appears.
                times = times.checked_add(1).expect("a u128 has fewer than 128 factors of 2 or more");
            }
            _ => return (value, times),
        }
    }
}

/// Prints a scaled integer with `decimals` decimals; `trim` drops trailing fractional zeros.
fn format_scaled(value: i128, decimals: u32, trim: bool) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{magnitude}");
    }
    // Every caller scaled its value by 10^decimals in i128/u128 first, so `decimals <= 38` here.
    let scale = 10u128.checked_pow(decimals).expect("callers format at most 38 decimals");
    let whole = magnitude.checked_div(scale).expect("a power of ten is not zero");
    let fraction = magnitude.checked_rem(scale).expect("a power of ten is not zero");
    let digits = format!("{fraction:0width$}", width = decimals as usize);
    let digits = if trim { digits.trim_end_matches('0') } else { digits.as_str() };
    if digits.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{digits}")
    }
}

// ---------------------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------------------

/// Parts per million in one (100 %).
const PPM_FULL: u32 = 1_000_000;

/// Utilization of a node: leased slices / offered slices (decisions §9), exactly, in parts per million
/// (`0..=1,000,000`).
///
/// Parsed from a fraction with at most 6 decimals (`"0.3"`, `"1"`) or a percentage with at most 4 decimals
/// (`"30%"`, `"33.3333%"`). Above 100 % or negative is refused. Displays and serializes as the fraction
/// (`"0.3"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utilization {
    ppm: u32,
}

impl Utilization {
    /// 100 %.
    pub const FULL: Utilization = Utilization { ppm: PPM_FULL };

    /// From parts per million; `None` above 1,000,000.
    pub const fn from_ppm(ppm: u32) -> Option<Self> {
        if ppm <= PPM_FULL {
            Some(Utilization { ppm })
        } else {
            None
        }
    }

    /// Parts per million.
    pub const fn ppm(self) -> u32 {
        self.ppm
    }

    /// The exact fraction `ppm / 10^6`.
    pub fn as_fraction(self) -> Fraction {
        Fraction::new(i128::from(self.ppm), i128::from(PPM_FULL)).expect("non-zero denominator")
    }

    /// As a percentage string: `"30%"`, `"33.3333%"`.
    pub fn to_percent_string(self) -> String {
        format!("{}%", format_scaled(i128::from(self.ppm), 4, true))
    }
}

impl fmt::Display for Utilization {
    /// The fraction: `"0.3"`, `"1"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(i128::from(self.ppm), 6, true))
    }
}

impl Serialize for Utilization {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

/// Why a utilization string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseUtilizationError {
    /// Empty input.
    Empty,
    /// A negative value.
    Negative(String),
    /// Not a decimal number (with an optional `%`).
    Invalid(String),
    /// More decimals than the exact representation holds (6 as a fraction, 4 as a percentage).
    TooManyDecimals {
        /// The input.
        input: String,
        /// Decimals allowed in this form.
        max: u32,
    },
    /// Above 100 %.
    AboveFull(String),
}

impl fmt::Display for ParseUtilizationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FORMS: &str = "give a fraction between 0 and 1 (0.3) or a percentage (30%)";
        match self {
            Self::Empty => write!(f, "empty utilization: {FORMS}"),
            Self::Negative(s) => write!(f, "utilization {s:?} is negative: {FORMS}"),
            Self::Invalid(s) => write!(f, "invalid utilization {s:?}: {FORMS}"),
            Self::TooManyDecimals { input, max } => {
                write!(f, "too many decimals in utilization {input:?}: at most {max} in this form")
            }
            Self::AboveFull(s) => write!(f, "utilization {s:?} is above 100%: {FORMS}"),
        }
    }
}

impl std::error::Error for ParseUtilizationError {}

impl FromStr for Utilization {
    type Err = ParseUtilizationError;

    /// `"0.3"` (at most 6 decimals) or `"30%"` (at most 4 decimals); `0 ..= 100 %`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(ParseUtilizationError::Empty);
        }
        if text.starts_with('-') {
            return Err(ParseUtilizationError::Negative(s.to_owned()));
        }
        // Fraction: 10^6 ppm per unit, 6 decimals; percentage: 10^4 ppm per percent, 4 decimals.
        let (body, max_decimals) = match text.strip_suffix('%') {
            Some(body) => (body.trim_end(), 4u32),
            None => (text, 6u32),
        };
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || (body.contains('.') && fraction.is_empty())
        {
            return Err(ParseUtilizationError::Invalid(s.to_owned()));
        }
        if fraction.len() > max_decimals as usize {
            return Err(ParseUtilizationError::TooManyDecimals { input: s.to_owned(), max: max_decimals });
        }
        let above = || ParseUtilizationError::AboveFull(s.to_owned());
        let mut ppm: u64 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            let digit = u64::from(b.checked_sub(b'0').expect("only ASCII digits pass the check above"));
            ppm = ppm.checked_mul(10).and_then(|v| v.checked_add(digit)).ok_or_else(above)?;
        }
        let missing = max_decimals
            .checked_sub(fraction.len() as u32)
            .expect("fraction.len() <= max_decimals was checked");
        ppm = ppm.checked_mul(10u64.pow(missing)).ok_or_else(above)?;
        u32::try_from(ppm).ok().and_then(Utilization::from_ppm).ok_or_else(above)
    }
}

/// Which slice price to use: the band minimum, the band maximum, or a value (CC per slice-month, at most
/// 7 decimals) that must lie inside the model's band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceChoice {
    /// The band minimum (`slice_price_min_month`).
    Min,
    /// The band maximum (`slice_price_max_month`).
    Max,
    /// A price in CC per slice-month; outside the band → [`RoiError::PriceOutOfBand`].
    Value(Amount<Cc>),
}

/// Where the price of a calculation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceBasis {
    /// The band minimum.
    Min,
    /// The band maximum.
    Max,
    /// A value given by the caller.
    Value,
}

/// Why a price choice string was refused (it is neither `min`, `max` nor a CC amount).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePriceChoiceError(pub ParseAmountError);

impl fmt::Display for ParsePriceChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected min, max or a price in CC per slice-month: {}", self.0)
    }
}

impl std::error::Error for ParsePriceChoiceError {}

impl FromStr for PriceChoice {
    type Err = ParsePriceChoiceError;

    /// `"min"`, `"max"` (any case) or a non-negative decimal with at most 7 decimals.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "min" => Ok(PriceChoice::Min),
            "max" => Ok(PriceChoice::Max),
            _ => s.parse::<Amount<Cc>>().map(PriceChoice::Value).map_err(ParsePriceChoiceError),
        }
    }
}

impl PriceChoice {
    /// The price in CC per slice-month for `model`, and its basis.
    ///
    /// # Errors
    /// [`RoiError::PriceOutOfBand`] when a value lies outside `[band_min, band_max]`.
    pub fn resolve(self, model: &NodeModel) -> Result<(Amount<Cc>, PriceBasis), RoiError> {
        let (min, max) = (model.slice_price_min_month, model.slice_price_max_month);
        match self {
            PriceChoice::Min => Ok((min, PriceBasis::Min)),
            PriceChoice::Max => Ok((max, PriceBasis::Max)),
            PriceChoice::Value(got) if got < min || got > max => {
                Err(RoiError::PriceOutOfBand { model: model.name.clone(), min, max, got })
            }
            PriceChoice::Value(got) => Ok((got, PriceBasis::Value)),
        }
    }
}

/// Which monthly hardware cost enters `net`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HwCostBasis {
    /// `capex / amortization_months` rounded half up to whole USD, as the published table and the ROI
    /// vectors (Mini 3: 16.67 → 17; ROI-1 net = 9 − 17 = −8). The default ("as published").
    WholeUsd,
    /// The exact `capex / amortization_months` (Mini 3: 16.666…; ROI-1 net = −7.6666667).
    Exact,
}

/// Why a hardware-cost basis string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseHwCostBasisError(pub String);

impl fmt::Display for ParseHwCostBasisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid hardware cost basis {:?}: expected whole or exact", self.0)
    }
}

impl std::error::Error for ParseHwCostBasisError {}

impl FromStr for HwCostBasis {
    type Err = ParseHwCostBasisError;

    /// `"whole"` (or `"whole_usd"`) or `"exact"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "whole" | "whole_usd" | "whole-usd" => Ok(HwCostBasis::WholeUsd),
            "exact" => Ok(HwCostBasis::Exact),
            _ => Err(ParseHwCostBasisError(s.to_owned())),
        }
    }
}

/// Parses a non-negative decimal factor (`"1.3"`, at most 18 decimals) into a ratio in lowest terms
/// (`13/10`). Used for the income factors on the command line.
///
/// # Errors
/// The [`ParsePriceError`] of the decimal (empty, negative, invalid, too many decimals, too large).
pub fn parse_factor(s: &str) -> Result<Ratio, ParsePriceError> {
    let atto = s.parse::<Price>()?.atto();
    let g = gcd(atto, Price::scale());
    let reduce = |value: u128| value.checked_div(g).expect("the gcd with the non-zero scale is at least 1");
    Ok(Ratio::new(reduce(atto), reduce(Price::scale())).expect("the scale divided by a divisor is not zero"))
}

/// Parameters of the calculator. Every number is a named default of the `tfgrid4-2025` set
/// ([`RoiParams::tfgrid4_2025`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoiParams {
    /// The farmer's share of a payment (8,000 bps in the tfgrid4-2025 revenue split, decisions §7;
    /// `--share-bps` on the CLI, e.g. for a farming pool's members after its fee, decisions §10).
    pub farmer_share: Bps,
    /// Months over which the hardware is amortized (60 = 5 years, spec §4.1).
    pub amortization_months: u32,
    /// Factor on the minimum income of the income table: `1.3 × typical_slices × band_min` (spec §4.1,
    /// catalogue README; unexplained in the source [GAP]).
    pub income_factor_min: Ratio,
    /// Factor on the maximum income of the income table: `1.5 × typical_slices × band_max` (spec §4.1,
    /// catalogue README; unexplained in the source [GAP]).
    pub income_factor_max: Ratio,
    /// USD per CC used to compare CC income with USD hardware cost. Default 1: the published tables read
    /// incomes as USD ("All prices in USD"). The real CC price (0.001 g of gold) is about 0.13 USD. Must
    /// be > 0.
    pub cc_usd: Price,
    /// Which monthly hardware cost enters `net` (default: whole USD, as published).
    pub hw_cost_basis: HwCostBasis,
}

impl RoiParams {
    /// The `tfgrid4-2025` defaults: farmer share from [`RevenueSplit::tfgrid4_2025`] (8,000 bps), 60
    /// months, factors 1.3 and 1.5, 1 USD per CC, whole-USD hardware cost.
    pub fn tfgrid4_2025() -> Self {
        let farmer_share = RevenueSplit::tfgrid4_2025().farmer_bps();
        RoiParams {
            farmer_share,
            amortization_months: 60,
            income_factor_min: Ratio::new(13, 10).expect("non-zero denominator"),
            income_factor_max: Ratio::new(3, 2).expect("non-zero denominator"),
            cc_usd: Price::usd(1),
            hw_cost_basis: HwCostBasis::WholeUsd,
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`RoiError::InvalidParam`] when `amortization_months` or `cc_usd` is zero.
    pub fn validate(&self) -> Result<(), RoiError> {
        if self.amortization_months == 0 {
            return Err(RoiError::InvalidParam { name: "amortization_months", reason: "must be at least 1" });
        }
        if self.cc_usd.is_zero() {
            return Err(RoiError::InvalidParam { name: "cc_usd", reason: "must be greater than 0" });
        }
        Ok(())
    }
}

impl Default for RoiParams {
    fn default() -> Self {
        Self::tfgrid4_2025()
    }
}

/// A refused calculation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum RoiError {
    /// No catalogue model has this name.
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The catalogue's model names, in catalogue order.
        known: Vec<String>,
    },
    /// The price lies outside the model's band (decisions §9, as `PriceOutOfBand` of the market).
    PriceOutOfBand {
        /// The model.
        model: String,
        /// Band minimum, CC per slice-month.
        min: Amount<Cc>,
        /// Band maximum, CC per slice-month.
        max: Amount<Cc>,
        /// The price given.
        got: Amount<Cc>,
    },
    /// Offered slices must be between 1 and the model's `typical_slices` (decisions §9).
    OfferedSlicesOutOfRange {
        /// The model.
        model: String,
        /// The number given.
        offered: u32,
        /// The model's `typical_slices`.
        typical: u32,
    },
    /// A parameter is out of range.
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A result does not fit the exact representation (absurdly large inputs).
    Overflow,
}

impl fmt::Display for RoiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownModel { name, known } => {
                write!(f, "unknown node model {name:?}; the catalogue has: {}", known.join(", "))
            }
            Self::PriceOutOfBand { model, min, max, got } => write!(
                f,
                "price {got} CC is outside the {model} band {min}..={max} CC per slice-month \
                 (use a value in the band, or min / max)"
            ),
            Self::OfferedSlicesOutOfRange { model, offered, typical } => write!(
                f,
                "{offered} offered slices is out of range for {model}: \
                 between 1 and its {typical} typical slices"
            ),
            Self::InvalidParam { name, reason } => write!(f, "invalid parameter {name}: {reason}"),
            Self::Overflow => f.write_str("the result is too large to compute exactly"),
        }
    }
}

impl std::error::Error for RoiError {}

/// Finds a model by name: exact match first, then a unique case-insensitive match.
///
/// # Errors
/// [`RoiError::UnknownModel`] with the list of known names.
pub fn find_model<'a>(catalogue: &'a [NodeModel], name: &str) -> Result<&'a NodeModel, RoiError> {
    let wanted = name.trim();
    if let Some(model) = catalogue.iter().find(|m| m.name == wanted) {
        return Ok(model);
    }
    let mut folded = catalogue.iter().filter(|m| m.name.eq_ignore_ascii_case(wanted));
    match (folded.next(), folded.next()) {
        (Some(model), None) => Ok(model),
        _ => Err(RoiError::UnknownModel {
            name: name.to_owned(),
            known: catalogue.iter().map(|m| m.name.clone()).collect(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------------

/// A number of months: an exact fraction, shown rounded half up to 2 decimals (`"45.79"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Months(Fraction);

impl Months {
    /// The exact number of months.
    pub const fn exact(self) -> Fraction {
        self.0
    }

    /// Rounded half up to `decimals` decimals (`to_string_rounded(1)` of 45.787… is `"45.8"`).
    pub fn to_string_rounded(self, decimals: u32) -> String {
        self.0.to_string_half_up(decimals).unwrap_or_else(|| self.0.to_exact_string())
    }
}

impl fmt::Display for Months {
    /// Half up to 2 decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_rounded(2))
    }
}

impl Serialize for Months {
    /// The 2-decimal display string (`"45.79"`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

/// The unit of each field of [`Income`], so a reader of the JSON never has to guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncomeUnits {
    /// `"CC per slice-month"`.
    pub price: &'static str,
    /// `"CC per month"` (gross, farmer_share).
    pub cc_income: &'static str,
    /// `"USD per month"` (gross_usd, farmer_share_usd, hw_cost, hw_cost_exact, net).
    pub usd_income: &'static str,
    /// `"USD"` (capex).
    pub capex: &'static str,
    /// `"USD per CC"` (cc_usd).
    pub cc_usd: &'static str,
    /// `"months"` (break_even_months*).
    pub break_even: &'static str,
}

const INCOME_UNITS: IncomeUnits = IncomeUnits {
    price: "CC per slice-month",
    cc_income: "CC per month",
    usd_income: "USD per month",
    capex: "USD",
    cc_usd: "USD per CC",
    break_even: "months",
};

/// One node-month of a model at a utilization and a price (see the module docs for the formulas and
/// the rounding). JSON field names are stable API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Income {
    /// Model name.
    pub model: String,
    /// Utilization (fraction, e.g. `"0.3"`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^(0(\.[0-9]{1,6})?|1)$"))]
    pub utilization: Utilization,
    /// Slice price, CC per slice-month.
    pub price: Amount<Cc>,
    /// Where the price came from (`min`, `max`, `value`).
    pub price_basis: PriceBasis,
    /// The model's band minimum, CC per slice-month.
    pub band_min: Amount<Cc>,
    /// The model's band maximum, CC per slice-month.
    pub band_max: Amount<Cc>,
    /// Slices offered (the model's `typical_slices` unless fewer were asked).
    pub offered_slices: u32,
    /// `offered_slices × utilization`, exact (`"7.5"`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^-?[0-9]+(\.[0-9]+|/[0-9]+)?$"))]
    pub active_slices: Fraction,
    /// Farmer share in basis points.
    pub farmer_share_bps: u16,
    /// USD per CC used for the USD values.
    pub cc_usd: Price,
    /// Gross income, CC per month (rounded down).
    pub gross: Amount<Cc>,
    /// The farmer's share of `gross`, CC per month (rounded down).
    pub farmer_share: Amount<Cc>,
    /// `gross × cc_usd`, USD per month (rounded down).
    pub gross_usd: Amount<Usd>,
    /// `farmer_share × cc_usd`, USD per month (rounded down).
    pub farmer_share_usd: Amount<Usd>,
    /// Purchase cost, USD.
    pub capex: Amount<Usd>,
    /// Amortization period, months.
    pub amortization_months: u32,
    /// Monthly hardware cost entering `net`, USD (per `hw_cost_basis`).
    pub hw_cost: Amount<Usd>,
    /// The exact `capex / amortization_months`, USD per month (rounded down to 7 decimals).
    pub hw_cost_exact: Amount<Usd>,
    /// Which hardware cost `hw_cost` is.
    pub hw_cost_basis: HwCostBasis,
    /// `farmer_share_usd − hw_cost`, USD per month (computed exactly, rounded toward −∞).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = r"^-?[0-9]{1,31}(\.[0-9]{1,7})?$")
    )]
    pub net: Amount<Usd>,
    /// `capex / farmer_share_usd`, months, 2 decimals half up; `null` without income.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+|/[0-9]+)?$"))]
    pub break_even_months: Option<Months>,
    /// The same, exact (`"1000/9"`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+|/[0-9]+)?$"))]
    pub break_even_months_exact: Option<Fraction>,
    /// `capex / gross_usd`, months, 2 decimals half up (the node-spec page's reading); `null` without
    /// income.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+|/[0-9]+)?$"))]
    pub break_even_months_on_gross: Option<Months>,
    /// Units of the fields.
    pub units: IncomeUnits,
}

/// What to calculate for one model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncomeQuery {
    /// Utilization (leased / offered slices).
    pub utilization: Utilization,
    /// The slice price.
    pub price: PriceChoice,
    /// Slices offered; `None` = the model's `typical_slices` (decisions §9).
    pub offered_slices: Option<u32>,
}

fn to_amount<A>(value: Fraction) -> Result<Amount<A>, RoiError> {
    value.floor_scaled(DECIMALS).map(Amount::from_units).ok_or(RoiError::Overflow)
}

fn mul(a: Fraction, b: Fraction) -> Result<Fraction, RoiError> {
    a.checked_mul(b).ok_or(RoiError::Overflow)
}

/// `capex / income` in months when the income is positive.
fn months(capex: Fraction, income: Fraction) -> Result<Option<Months>, RoiError> {
    if !income.is_positive() {
        return Ok(None);
    }
    capex.checked_div(income).map(|m| Some(Months(m))).ok_or(RoiError::Overflow)
}

/// Exact monthly hardware cost `capex / amortization_months`, and the one of `basis`.
fn hw_costs(model: &NodeModel, params: &RoiParams) -> Result<(Fraction, Fraction), RoiError> {
    let exact = Fraction::new(i128::from(model.capex_usd), i128::from(params.amortization_months))
        .ok_or(RoiError::InvalidParam { name: "amortization_months", reason: "must be at least 1" })?;
    let used = match params.hw_cost_basis {
        HwCostBasis::Exact => exact,
        HwCostBasis::WholeUsd => Fraction::int(exact.round_half_up_scaled(0).ok_or(RoiError::Overflow)?),
    };
    Ok((exact, used))
}

/// Monthly income, hardware cost, net and break-even of one node of `model` (spec §4.2; decisions §9).
///
/// # Errors
/// [`RoiError::PriceOutOfBand`] for a price value outside the band, [`RoiError::OfferedSlicesOutOfRange`],
/// [`RoiError::InvalidParam`] for invalid parameters, [`RoiError::Overflow`] for absurd inputs.
pub fn node_income(model: &NodeModel, query: &IncomeQuery, params: &RoiParams) -> Result<Income, RoiError> {
    params.validate()?;
    let (price, price_basis) = query.price.resolve(model)?;
    let offered = query.offered_slices.unwrap_or(model.typical_slices);
    if offered == 0 || offered > model.typical_slices {
        return Err(RoiError::OfferedSlicesOutOfRange {
            model: model.name.clone(),
            offered,
            typical: model.typical_slices,
        });
    }
    let rate = Fraction::from_price(params.cc_usd).ok_or(RoiError::Overflow)?;
    let share = Fraction::new(i128::from(params.farmer_share.get()), 10_000).expect("non-zero denominator");
    let capex = Fraction::int(i128::from(model.capex_usd));

    let active = mul(Fraction::int(i128::from(offered)), query.utilization.as_fraction())?;
    let gross = mul(active, Fraction::from_amount(price))?;
    let farmer = mul(gross, share)?;
    let gross_usd = mul(gross, rate)?;
    let farmer_usd = mul(farmer, rate)?;
    let (hw_exact, hw_used) = hw_costs(model, params)?;
    let net = farmer_usd.checked_sub(hw_used).ok_or(RoiError::Overflow)?;
    let break_even = months(capex, farmer_usd)?;

    Ok(Income {
        model: model.name.clone(),
        utilization: query.utilization,
        price,
        price_basis,
        band_min: model.slice_price_min_month,
        band_max: model.slice_price_max_month,
        offered_slices: offered,
        active_slices: active,
        farmer_share_bps: params.farmer_share.get(),
        cc_usd: params.cc_usd,
        gross: to_amount(gross)?,
        farmer_share: to_amount(farmer)?,
        gross_usd: to_amount(gross_usd)?,
        farmer_share_usd: to_amount(farmer_usd)?,
        capex: to_amount(capex)?,
        amortization_months: params.amortization_months,
        hw_cost: to_amount(hw_used)?,
        hw_cost_exact: to_amount(hw_exact)?,
        hw_cost_basis: params.hw_cost_basis,
        net: to_amount(net)?,
        break_even_months: break_even,
        break_even_months_exact: break_even.map(Months::exact),
        break_even_months_on_gross: months(capex, gross_usd)?,
        units: INCOME_UNITS,
    })
}

/// One row of the income table (spec §4 "Hardware Cost and Income Potential", formulas §4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncomeRow {
    /// Model name.
    pub model: String,
    /// Catalogue category (`example`, `new`, `certified`).
    pub category: String,
    /// Certified hardware.
    pub certified: bool,
    /// Purchase cost, USD.
    pub capex: Amount<Usd>,
    /// Upper bound on slices.
    pub max_slices: u32,
    /// Typical active slices ("Nr slices"), the base of both incomes.
    pub typical_slices: u32,
    /// Band minimum, CC per slice-month.
    pub band_min: Amount<Cc>,
    /// Band maximum, CC per slice-month.
    pub band_max: Amount<Cc>,
    /// Exact `capex / amortization_months`, USD per month, rounded down to 7 decimals (`8.3333333`).
    pub hw_cost_month: Amount<Usd>,
    /// The same rounded half up to whole USD, as the published table prints it (`8`).
    pub hw_cost_month_rounded: Amount<Usd>,
    /// `income_factor_min × typical_slices × band_min`, CC per month (rounded down).
    pub min_income: Amount<Cc>,
    /// `income_factor_max × typical_slices × band_max`, CC per month (rounded down).
    pub max_income: Amount<Cc>,
    /// `min_income × cc_usd`, USD per month (rounded down).
    pub min_income_usd: Amount<Usd>,
    /// `max_income × cc_usd`, USD per month (rounded down).
    pub max_income_usd: Amount<Usd>,
    /// `capex / min_income_usd`, months, 2 decimals half up: the basis of the spec's ROI-4 lines
    /// (3Node Home 45.79; Large 10.09 with the published 7.62, 10.12 with the catalogue's 7.6).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+|/[0-9]+)?$"))]
    pub break_even_months_min_income: Option<Months>,
    /// `capex / max_income_usd`, months, 2 decimals half up ("best case").
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = r"^-?[0-9]+(\.[0-9]+|/[0-9]+)?$"))]
    pub break_even_months_max_income: Option<Months>,
}

/// The income-table row of one model.
///
/// # Errors
/// [`RoiError::InvalidParam`] for invalid parameters, [`RoiError::Overflow`] for absurd inputs.
pub fn income_row(model: &NodeModel, params: &RoiParams) -> Result<IncomeRow, RoiError> {
    params.validate()?;
    let rate = Fraction::from_price(params.cc_usd).ok_or(RoiError::Overflow)?;
    let factor = |ratio: Ratio| Fraction::from_ratio(ratio).ok_or(RoiError::Overflow);
    let capex = Fraction::int(i128::from(model.capex_usd));
    let slices = Fraction::int(i128::from(model.typical_slices));
    let min_income = mul(
        mul(factor(params.income_factor_min)?, slices)?,
        Fraction::from_amount(model.slice_price_min_month),
    )?;
    let max_income = mul(
        mul(factor(params.income_factor_max)?, slices)?,
        Fraction::from_amount(model.slice_price_max_month),
    )?;
    let min_usd = mul(min_income, rate)?;
    let max_usd = mul(max_income, rate)?;
    let whole = RoiParams { hw_cost_basis: HwCostBasis::WholeUsd, ..params.clone() };
    let (hw_exact, hw_whole) = hw_costs(model, &whole)?;
    Ok(IncomeRow {
        model: model.name.clone(),
        category: model.category.clone(),
        certified: model.certified,
        capex: to_amount(capex)?,
        max_slices: model.max_slices,
        typical_slices: model.typical_slices,
        band_min: model.slice_price_min_month,
        band_max: model.slice_price_max_month,
        hw_cost_month: to_amount(hw_exact)?,
        hw_cost_month_rounded: to_amount(hw_whole)?,
        min_income: to_amount(min_income)?,
        max_income: to_amount(max_income)?,
        min_income_usd: to_amount(min_usd)?,
        max_income_usd: to_amount(max_usd)?,
        break_even_months_min_income: months(capex, min_usd)?,
        break_even_months_max_income: months(capex, max_usd)?,
    })
}

/// The income table of a catalogue, one row per model in catalogue order.
///
/// # Errors
/// As [`income_row`].
pub fn income_table(catalogue: &[NodeModel], params: &RoiParams) -> Result<Vec<IncomeRow>, RoiError> {
    catalogue.iter().map(|model| income_row(model, params)).collect()
}

/// Monthly value of a standing bid tier: `price × quantity` CC (spec §5.2: 1.2 CC × 20,000 slices =
/// 24,000 CC; 2.4 CC × 2,000 = 4,800 CC). Exact; `None` on overflow.
pub fn bid_tier_total(price: Amount<Cc>, quantity: u64) -> Option<Amount<Cc>> {
    price.units().checked_mul(i128::from(quantity)).map(Amount::from_units)
}

/// A CC amount in USD at `cc_usd` USD per CC, rounded down to 7 decimals (24,000 CC at 0.128 = 3,072 USD).
/// `None` on overflow.
pub fn cc_to_usd(amount: Amount<Cc>, cc_usd: Price) -> Option<Amount<Usd>> {
    let value = Fraction::from_amount(amount).checked_mul(Fraction::from_price(cc_usd)?)?;
    value.floor_scaled(DECIMALS).map(Amount::from_units)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::parse_catalogue_csv;
    use serde::Deserialize;

    const CATALOGUE_CSV: &str = crate::catalogue::CATALOGUE_Q4_2025_CSV;
    const INCOME_TABLE_JSON: &str = include_str!("../../test_data/roi/income_table.json");
    const NODE_VECTORS_JSON: &str = include_str!("../../test_data/roi/node_income.json");

    fn catalogue() -> Vec<NodeModel> {
        parse_catalogue_csv(CATALOGUE_CSV).expect("the catalogue parses")
    }

    fn model(name: &str) -> NodeModel {
        find_model(&catalogue(), name).expect("model in the catalogue").clone()
    }

    fn cc(s: &str) -> Amount<Cc> {
        s.parse().expect("CC amount")
    }

    /// A USD amount; unlike [`Amount`]'s parser, accepts a leading `-` (net income can be negative).
    fn usd(s: &str) -> Amount<Usd> {
        match s.strip_prefix('-') {
            Some(magnitude) => {
                Amount::from_units(-magnitude.parse::<Amount<Usd>>().expect("USD amount").units())
            }
            None => s.parse().expect("USD amount"),
        }
    }

    fn util(s: &str) -> Utilization {
        s.parse().expect("utilization")
    }

    fn query(utilization: &str, price: &str) -> IncomeQuery {
        IncomeQuery {
            utilization: util(utilization),
            price: price.parse().expect("price"),
            offered_slices: None,
        }
    }

    fn frac(num: i128, den: i128) -> Fraction {
        Fraction::new(num, den).expect("non-zero denominator")
    }

    /// One row of `test_data/roi/income_table.json`: the README's expected income table.
    #[derive(Deserialize)]
    struct TableVector {
        model: String,
        reading: String,
        band_min: Option<String>,
        band_max: Option<String>,
        hw_cost_rounded: String,
        hw_cost_exact: String,
        min_income: String,
        max_income: String,
    }

    #[derive(Deserialize)]
    struct TableVectors {
        rows: Vec<TableVector>,
    }

    /// One row of `test_data/roi/node_income.json`: ROI-1..3 of spec §4.2 and derived cases.
    #[derive(Deserialize)]
    struct NodeVector {
        id: String,
        model: String,
        utilization: String,
        price: String,
        share_bps: u16,
        hw_cost_basis: String,
        cc_usd: String,
        active_slices: String,
        gross: String,
        farmer_share: String,
        gross_usd: String,
        farmer_share_usd: String,
        hw_cost: String,
        net: String,
        break_even_months: String,
        break_even_months_exact: String,
    }

    #[derive(Deserialize)]
    struct NodeVectors {
        vectors: Vec<NodeVector>,
    }

    #[test]
    fn readme_income_table_row_by_row() {
        let vectors: TableVectors =
            serde_json::from_str(INCOME_TABLE_JSON).expect("income_table.json parses");
        let params = RoiParams::tfgrid4_2025();
        let mut seen = std::collections::BTreeSet::new();
        for v in &vectors.rows {
            let mut m = model(&v.model);
            if let Some(min) = &v.band_min {
                m.slice_price_min_month = cc(min);
            }
            if let Some(max) = &v.band_max {
                m.slice_price_max_month = cc(max);
            }
            let row = income_row(&m, &params).unwrap();
            let at = format!("{} ({})", v.model, v.reading);
            assert_eq!(row.hw_cost_month_rounded, usd(&v.hw_cost_rounded), "HW cost rounded, {at}");
            assert_eq!(row.hw_cost_month, usd(&v.hw_cost_exact), "HW cost exact, {at}");
            assert_eq!(row.min_income, cc(&v.min_income), "min income, {at}");
            assert_eq!(row.max_income, cc(&v.max_income), "max income, {at}");
            // cc_usd = 1 by default: the USD columns equal the CC ones, as published.
            assert_eq!(row.min_income_usd.units(), row.min_income.units(), "{at}");
            if v.reading == "catalogue" {
                seen.insert(v.model.clone());
            }
        }
        // Every README row is covered by a catalogue reading (Large TFGrid Node 2 is not in the README
        // table).
        assert_eq!(seen.len(), 9);
        let table = income_table(&catalogue(), &params).unwrap();
        assert_eq!(table.len(), 10);
        for row in &table {
            assert!(seen.contains(&row.model) || row.model == "Large TFGrid Node 2", "{}", row.model);
        }
    }

    #[test]
    fn readme_two_readings_and_anomalies() {
        let params = RoiParams::tfgrid4_2025();
        // Large: 197.6 with the catalogue's 7.6; the printed 198.12 comes from an unrounded 7.62.
        let mut large = model("Large TFGrid Node");
        assert_eq!(income_row(&large, &params).unwrap().min_income, cc("197.6"));
        large.slice_price_min_month = cc("7.62");
        assert_eq!(income_row(&large, &params).unwrap().min_income, cc("198.12"));
        // Mini 3: 48.75 / 558.75 with the catalogue's 1.5 / 14.9; 48.36 / 558 with 1.488 / 14.88.
        let mut mini3 = model("Mini 3");
        let row = income_row(&mini3, &params).unwrap();
        assert_eq!((row.min_income, row.max_income), (cc("48.75"), cc("558.75")));
        mini3.slice_price_min_month = cc("1.488");
        mini3.slice_price_max_month = cc("14.88");
        let row = income_row(&mini3, &params).unwrap();
        assert_eq!((row.min_income, row.max_income), (cc("48.36"), cc("558")));
        // Mini 2: 23.4 exactly; the table prints it as the whole 23.
        let mini2 = income_row(&model("Mini 2"), &params).unwrap();
        assert_eq!(mini2.min_income, cc("23.4"));
        assert_eq!(Fraction::from_amount(mini2.min_income).to_string_half_up(0).unwrap(), "23");
        // Mini 1: its own capex gives 5.83 (350 / 60); the published 8 is the 3Node Home value (a copy).
        let mini1 = income_row(&model("Mini 1"), &params).unwrap();
        let home = income_row(&model("3Node Home"), &params).unwrap();
        assert_eq!(Fraction::from_amount(mini1.hw_cost_month).to_string_half_up(2).unwrap(), "5.83");
        assert_eq!(mini1.hw_cost_month_rounded, usd("6"));
        assert_eq!(home.hw_cost_month_rounded, usd("8"));
        assert_ne!(mini1.hw_cost_month_rounded, home.hw_cost_month_rounded);
        assert_eq!((mini1.min_income, mini1.max_income), (home.min_income, home.max_income));
        // The published HW-cost column, in README order (Mini 1 as published = 3Node Home's).
        let published = ["3Node Home", "Large TFGrid Node", "3Node Home", "Mini 2", "Mini 3", "Mini AI 1"];
        let published: Vec<Amount<Usd>> = published
            .iter()
            .chain(&["Nvidia 6000 (1x)", "Nvidia 6000 (2x)", "Tenstorrent 8x"])
            .map(|name| income_row(&model(name), &params).unwrap().hw_cost_month_rounded)
            .collect();
        let expected: Vec<Amount<Usd>> = [8, 33, 8, 13, 17, 33, 250, 500, 500]
            .map(|whole: i128| Amount::from_units(whole * UNITS_PER_TOKEN))
            .to_vec();
        assert_eq!(published, expected);
    }

    #[test]
    fn roi_4_break_even_on_min_income() {
        let params = RoiParams::tfgrid4_2025();
        let home = income_row(&model("3Node Home"), &params).unwrap();
        let months = home.break_even_months_min_income.unwrap();
        assert_eq!(months.exact(), frac(500 * 100, 1092)); // 500 / 10.92 = 45.787…
        assert_eq!(months.to_string(), "45.79");
        assert_eq!(months.to_string_rounded(1), "45.8");
        let mut large = model("Large TFGrid Node");
        large.slice_price_min_month = cc("7.62");
        let months = income_row(&large, &params).unwrap().break_even_months_min_income.unwrap();
        assert_eq!(months.exact(), frac(2000 * 100, 19812)); // 2000 / 198.12 = 10.094…
        assert_eq!(months.to_string(), "10.09");
        // With the catalogue's own 7.6: 2000 / 197.6 = 10.12.
        let months = income_row(&model("Large TFGrid Node"), &params).unwrap().break_even_months_min_income;
        assert_eq!(months.unwrap().to_string(), "10.12");
        // Best case at max income (spec: "1 month" for Large): 2000 / 2286 = 0.87.
        let best = income_row(&model("Large TFGrid Node"), &params).unwrap().break_even_months_max_income;
        assert_eq!(best.unwrap().to_string(), "0.87");
    }

    #[test]
    fn node_income_vectors() {
        let vectors: NodeVectors = serde_json::from_str(NODE_VECTORS_JSON).expect("node_income.json parses");
        assert!(vectors.vectors.len() >= 4);
        for v in &vectors.vectors {
            let params = RoiParams {
                farmer_share: Bps::new(v.share_bps).unwrap(),
                hw_cost_basis: v.hw_cost_basis.parse().unwrap(),
                cc_usd: v.cc_usd.parse().unwrap(),
                ..RoiParams::tfgrid4_2025()
            };
            let got = node_income(&model(&v.model), &query(&v.utilization, &v.price), &params).unwrap();
            let id = &v.id;
            assert_eq!(got.active_slices.to_string(), v.active_slices, "{id} active");
            assert_eq!(got.gross, cc(&v.gross), "{id} gross");
            assert_eq!(got.farmer_share, cc(&v.farmer_share), "{id} farmer");
            assert_eq!(got.gross_usd, usd(&v.gross_usd), "{id} gross usd");
            assert_eq!(got.farmer_share_usd, usd(&v.farmer_share_usd), "{id} farmer usd");
            assert_eq!(got.hw_cost, usd(&v.hw_cost), "{id} hw");
            assert_eq!(got.net.to_string(), v.net, "{id} net");
            assert_eq!(got.break_even_months.unwrap().to_string(), v.break_even_months, "{id} months");
            assert_eq!(got.break_even_months_exact.unwrap().to_string(), v.break_even_months_exact, "{id}");
        }
    }

    #[test]
    fn roi_1_mini_3_json_shape() {
        let got = node_income(&model("Mini 3"), &query("0.3", "1.5"), &RoiParams::tfgrid4_2025()).unwrap();
        let json = serde_json::to_value(&got).unwrap();
        assert_eq!(json["gross"], "11.25");
        assert_eq!(json["farmer_share"], "9");
        assert_eq!(json["hw_cost"], "17");
        assert_eq!(json["hw_cost_exact"], "16.6666666");
        assert_eq!(json["net"], "-8");
        assert_eq!(json["break_even_months"], "111.11");
        assert_eq!(json["break_even_months_exact"], "1000/9");
        assert_eq!(json["break_even_months_on_gross"], "88.89");
        assert_eq!(json["active_slices"], "7.5");
        assert_eq!(json["utilization"], "0.3");
        assert_eq!(json["price"], "1.5");
        assert_eq!(json["price_basis"], "value");
        assert_eq!(json["units"]["cc_income"], "CC per month");
        // The same through `min` and through a percentage.
        let same = node_income(&model("Mini 3"), &query("30%", "min"), &RoiParams::tfgrid4_2025()).unwrap();
        assert_eq!((same.gross, same.net), (got.gross, got.net));
        assert_eq!(same.price_basis, PriceBasis::Min);
    }

    #[test]
    fn real_cc_price_never_mixes_units() {
        let params = RoiParams { cc_usd: "0.13".parse().unwrap(), ..RoiParams::tfgrid4_2025() };
        let got = node_income(&model("Mini 3"), &query("0.3", "1.5"), &params).unwrap();
        assert_eq!(got.gross, cc("11.25")); // CC values do not depend on the rate
        assert_eq!(got.gross_usd, usd("1.4625"));
        assert_eq!(got.farmer_share_usd, usd("1.17"));
        assert_eq!(got.net, usd("-15.83"));
        assert_eq!(got.break_even_months.unwrap().exact(), frac(100_000, 117)); // 1000 / 1.17
    }

    #[test]
    fn zero_utilization_has_no_break_even() {
        let got = node_income(&model("Mini 3"), &query("0", "max"), &RoiParams::tfgrid4_2025()).unwrap();
        assert_eq!(got.gross, Amount::ZERO);
        assert_eq!(got.net, usd("-17"));
        assert_eq!(got.break_even_months, None);
        assert_eq!(serde_json::to_value(&got).unwrap()["break_even_months"], serde_json::Value::Null);
    }

    #[test]
    fn offered_slices_default_and_range() {
        let params = RoiParams::tfgrid4_2025();
        let home = model("3Node Home"); // typical 7, max 25: active slices use the 7 offered (decisions §9)
        let got = node_income(&home, &query("1", "12"), &params).unwrap();
        assert_eq!((got.offered_slices, got.gross), (7, cc("84")));
        let fewer = IncomeQuery { offered_slices: Some(5), ..query("1", "12") };
        assert_eq!(node_income(&home, &fewer, &params).unwrap().gross, cc("60"));
        for offered in [0, 8, 25] {
            let q = IncomeQuery { offered_slices: Some(offered), ..query("1", "12") };
            assert!(matches!(
                node_income(&home, &q, &params),
                Err(RoiError::OfferedSlicesOutOfRange { typical: 7, .. })
            ));
        }
    }

    #[test]
    fn bid_tier_totals() {
        let standard = bid_tier_total(cc("1.2"), 20_000).unwrap();
        let memory = bid_tier_total(cc("2.4"), 2_000).unwrap();
        assert_eq!(standard, cc("24000"));
        assert_eq!(memory, cc("4800"));
        let rate: Price = "0.128".parse().unwrap();
        assert_eq!(cc_to_usd(standard, rate).unwrap(), usd("3072"));
        assert_eq!(cc_to_usd(memory, rate).unwrap(), usd("614.4"));
        assert_eq!(bid_tier_total(Amount::from_units(i128::MAX), 2), None);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let cat = catalogue();
        let params = RoiParams::tfgrid4_2025();
        match find_model(&cat, "Mini 9") {
            Err(RoiError::UnknownModel { name, known }) => {
                assert_eq!(name, "Mini 9");
                assert_eq!(known.len(), 10);
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        assert_eq!(find_model(&cat, "mini 3").unwrap().name, "Mini 3");
        // Utilization: above 100 %, negative, too many decimals, not a number.
        assert!(matches!("1.01".parse::<Utilization>(), Err(ParseUtilizationError::AboveFull(_))));
        assert!(matches!("30".parse::<Utilization>(), Err(ParseUtilizationError::AboveFull(_))));
        assert!(matches!("100.0001%".parse::<Utilization>(), Err(ParseUtilizationError::AboveFull(_))));
        assert!(matches!("-0.1".parse::<Utilization>(), Err(ParseUtilizationError::Negative(_))));
        assert!(matches!(
            "0.1234567".parse::<Utilization>(),
            Err(ParseUtilizationError::TooManyDecimals { max: 6, .. })
        ));
        assert!(matches!(
            "12.34567%".parse::<Utilization>(),
            Err(ParseUtilizationError::TooManyDecimals { max: 4, .. })
        ));
        assert!(matches!("abc".parse::<Utilization>(), Err(ParseUtilizationError::Invalid(_))));
        assert!(matches!("".parse::<Utilization>(), Err(ParseUtilizationError::Empty)));
        assert!(matches!(
            "99999999999999999999".parse::<Utilization>(),
            Err(ParseUtilizationError::AboveFull(_))
        ));
        assert_eq!(util("100%"), Utilization::FULL);
        assert_eq!(util("33.3333%").ppm(), 333_333);
        assert_eq!(util(" 0.3 ").to_percent_string(), "30%");
        // Price: outside the band (with the band in the error), too many decimals, garbage.
        let mini3 = model("Mini 3");
        match node_income(&mini3, &query("0.3", "20"), &params) {
            Err(e @ RoiError::PriceOutOfBand { .. }) => {
                assert_eq!(
                    e,
                    RoiError::PriceOutOfBand {
                        model: "Mini 3".into(),
                        min: cc("1.5"),
                        max: cc("14.9"),
                        got: cc("20")
                    }
                );
                assert!(e.to_string().contains("1.5..=14.9"), "{e}");
            }
            other => panic!("expected PriceOutOfBand, got {other:?}"),
        }
        assert!(matches!(
            node_income(&mini3, &query("0.3", "1.4999999"), &params),
            Err(RoiError::PriceOutOfBand { .. })
        ));
        assert!(node_income(&mini3, &query("0.3", "14.9"), &params).is_ok());
        assert!(matches!(
            "1.55555555".parse::<PriceChoice>(),
            Err(ParsePriceChoiceError(ParseAmountError::TooManyDecimals { .. }))
        ));
        assert!(matches!(
            "cheap".parse::<PriceChoice>(),
            Err(ParsePriceChoiceError(ParseAmountError::Invalid(_)))
        ));
        assert!(matches!(
            "-2".parse::<PriceChoice>(),
            Err(ParsePriceChoiceError(ParseAmountError::Negative))
        ));
        // Parameters.
        let zero_rate = RoiParams { cc_usd: Price::from_atto(0), ..params.clone() };
        assert!(matches!(
            node_income(&mini3, &query("0.3", "min"), &zero_rate),
            Err(RoiError::InvalidParam { name: "cc_usd", .. })
        ));
        let zero_months = RoiParams { amortization_months: 0, ..params };
        assert!(matches!(income_row(&mini3, &zero_months), Err(RoiError::InvalidParam { .. })));
        assert!("sometimes".parse::<HwCostBasis>().is_err());
    }

    #[test]
    fn factors_are_named_parameters() {
        assert_eq!(parse_factor("1.3").unwrap(), Ratio::new(13, 10).unwrap());
        assert_eq!(parse_factor("1.5").unwrap(), Ratio::new(3, 2).unwrap());
        assert_eq!(parse_factor("1").unwrap(), Ratio::new(1, 1).unwrap());
        let params = RoiParams::tfgrid4_2025();
        assert_eq!(params.income_factor_min, parse_factor("1.3").unwrap());
        assert_eq!(params.income_factor_max, parse_factor("1.5").unwrap());
        assert_eq!(params.farmer_share.get(), 8_000);
        // Without the factors, the table is the plain typical_slices × band.
        let plain = RoiParams {
            income_factor_min: parse_factor("1").unwrap(),
            income_factor_max: parse_factor("1").unwrap(),
            ..params
        };
        let row = income_row(&model("3Node Home"), &plain).unwrap();
        assert_eq!((row.min_income, row.max_income), (cc("8.4"), cc("84")));
    }

    #[test]
    fn fraction_rounding_and_printing() {
        assert_eq!(frac(-23, 3).floor_scaled(7), Some(-76_666_667));
        assert_eq!(frac(23, 3).floor_scaled(7), Some(76_666_666));
        assert_eq!(frac(1, 2).round_half_up_scaled(0), Some(1));
        assert_eq!(frac(-1, 2).round_half_up_scaled(0), Some(-1));
        assert_eq!(frac(49, 100).round_half_up_scaled(0), Some(0));
        assert_eq!(frac(3, 1).to_string_half_up(2).unwrap(), "3.00");
        assert_eq!(frac(15, 2).to_exact_string(), "7.5");
        assert_eq!(frac(-8, 1).to_exact_string(), "-8");
        assert_eq!(frac(1, 10_000_000).to_exact_string(), "0.0000001");
        assert_eq!(frac(1000, 9).to_exact_string(), "1000/9");
        assert_eq!(frac(2, -4), frac(-1, 2));
        assert_eq!(Fraction::new(1, 0), None);
        assert_eq!(frac(1, 3).checked_add(frac(1, 6)), Some(frac(1, 2)));
        assert_eq!(frac(1, 3).checked_sub(frac(1, 2)), Some(frac(-1, 6)));
        assert_eq!(frac(2, 3).checked_div(frac(4, 9)), Some(frac(3, 2)));
        assert_eq!(frac(2, 3).checked_div(Fraction::ZERO), None);
        assert_eq!(Fraction::int(i128::MAX).checked_mul(Fraction::int(2)), None);
    }

    proptest::proptest! {
        /// Exactness and consistency: gross = active × price exactly before rounding, farmer ≤ gross, and
        /// net is the floor of the exact difference (so within 10^-7 of the displayed difference).
        #[test]
        fn income_is_consistent(
            ppm in 0u32..=1_000_000,
            price_units in 15_000_000i128..=149_000_000,
            bps in 0u16..=10_000,
        ) {
            let m = model("Mini 3");
            let q = IncomeQuery {
                utilization: Utilization::from_ppm(ppm).unwrap(),
                price: PriceChoice::Value(Amount::from_units(price_units)),
                offered_slices: None,
            };
            let params = RoiParams { farmer_share: Bps::new(bps).unwrap(), ..RoiParams::tfgrid4_2025() };
            let got = node_income(&m, &q, &params).unwrap();
            // gross units = floor(25 × ppm × price_units / 10^6)
            let exact = 25 * i128::from(ppm) * price_units;
            proptest::prop_assert_eq!(got.gross.units(), exact / 1_000_000);
            proptest::prop_assert!(got.farmer_share <= got.gross);
            let shown = got.farmer_share_usd.units() - got.hw_cost.units();
            proptest::prop_assert!(got.net.units() == shown || got.net.units() == shown - 1);
        }
    }
}
