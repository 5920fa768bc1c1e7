//! Amounts: `i128` base units tagged with their asset, in the type ([`Amount<A>`]) or at run time
//! ([`AssetAmount`]); decimal parsing and printing.

use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Asset, DECIMALS, UNITS_PER_TOKEN};

/// A type-level asset tag. Implemented by the zero-sized markers [`Tft`], [`Tfp`], [`Cc`], [`Usdc`].
pub trait AssetKind: Copy + Clone + fmt::Debug + Default + PartialEq + Eq + Ord + 'static {
    /// The run-time asset this marker stands for.
    const ASSET: Asset;
}

macro_rules! asset_marker {
    ($name:ident, $asset:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name;
        impl AssetKind for $name {
            const ASSET: Asset = $asset;
        }
    };
}
asset_marker!(Tft, Asset::Tft, "Type tag for TFT amounts.");
asset_marker!(Tfp, Asset::Tfp, "Type tag for TFP amounts.");
asset_marker!(Cc, Asset::Cc, "Type tag for Cloud Credit amounts.");
asset_marker!(Usdc, Asset::Usdc, "Type tag for USDC amounts.");

/// Tag for an amount whose asset is a separate field (e.g. `Transfer { asset, amount }`). It has no
/// [`AssetKind`], so it cannot be used where a specific asset is required; pair it with its asset through
/// [`Amount::with_asset`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnyAsset;

impl Amount<AnyAsset> {
    /// Attaches the asset given beside the amount.
    pub fn with_asset(self, asset: Asset) -> AssetAmount {
        AssetAmount { asset, units: self.units }
    }
}

/// An amount of asset `A` in base units (10^-7 of a token). Mixing assets does not compile.
///
/// Arithmetic is checked: `checked_add`/`checked_sub` return `None` on `i128` overflow.
pub struct Amount<A> {
    units: i128,
    asset: PhantomData<A>,
}

impl<A> Clone for Amount<A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Amount<A> {}
impl<A> PartialEq for Amount<A> {
    fn eq(&self, other: &Self) -> bool {
        self.units == other.units
    }
}
impl<A> Eq for Amount<A> {}
impl<A> PartialOrd for Amount<A> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<A> Ord for Amount<A> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.units.cmp(&other.units)
    }
}
impl<A> std::hash::Hash for Amount<A> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.units.hash(state)
    }
}
impl<A: AssetKind> Default for Amount<A> {
    fn default() -> Self {
        Self::ZERO
    }
}

impl<A> Amount<A> {
    /// Zero of this asset.
    pub const ZERO: Self = Self { units: 0, asset: PhantomData };

    /// An amount from raw base units (10^-7 token).
    pub const fn from_units(units: i128) -> Self {
        Self { units, asset: PhantomData }
    }

    /// The raw base units.
    pub const fn units(self) -> i128 {
        self.units
    }

    /// `true` when zero.
    pub const fn is_zero(self) -> bool {
        self.units == 0
    }

    /// `true` when strictly positive.
    pub const fn is_positive(self) -> bool {
        self.units > 0
    }

    /// Sum, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.units.checked_add(other.units).map(Self::from_units)
    }

    /// Difference, or `None` on overflow.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.units.checked_sub(other.units).map(Self::from_units)
    }

    /// The smaller of two amounts.
    #[must_use]
    pub fn min(self, other: Self) -> Self {
        if self.units <= other.units {
            self
        } else {
            other
        }
    }
}

impl<A: AssetKind> Amount<A> {
    /// Whole tokens, e.g. `Amount::<Tft>::tokens(1000)` = 1,000 TFT. Panics only on a programming error
    /// (overflow of a constant), never on user input (user input goes through [`FromStr`]).
    pub const fn tokens(whole: i64) -> Self {
        Self::from_units(whole as i128 * UNITS_PER_TOKEN)
    }

    /// The run-time tagged form.
    pub fn erase(self) -> AssetAmount {
        AssetAmount { asset: A::ASSET, units: self.units }
    }

    /// Converts a run-time tagged amount back; `None` when the asset differs.
    pub fn from_erased(amount: AssetAmount) -> Option<Self> {
        (amount.asset == A::ASSET).then_some(Self::from_units(amount.units))
    }
}

impl<A> fmt::Debug for Amount<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = std::any::type_name::<A>().rsplit("::").next().unwrap_or("?");
        write!(f, "{} {}", format_units(self.units), tag.to_uppercase())
    }
}

impl<A> fmt::Display for Amount<A> {
    /// Decimal string without the asset code and without trailing zeros: `"12.5"`, `"0.0000001"`, `"0"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_units(self.units))
    }
}

impl<A> FromStr for Amount<A> {
    type Err = ParseAmountError;
    /// Parses a non-negative decimal string with at most 7 decimals (`"12.5"`, `"0.0000001"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_units(s).map(Self::from_units)
    }
}

impl<A> Serialize for Amount<A> {
    /// Human-readable formats (JSON) get the decimal string; binary formats (the journal) the raw `i128`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&format_units(self.units))
        } else {
            serializer.serialize_i128(self.units)
        }
    }
}

impl<'de, A> Deserialize<'de> for Amount<A> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            i128::deserialize(deserializer).map(Self::from_units)
        }
    }
}

/// An amount whose asset is known only at run time (e.g. the asset of a transfer is a field of the
/// command). Convert to [`Amount<A>`] with [`Amount::from_erased`].
///
/// JSON: `{"asset": "TFT", "amount": "12.5"}` (the amount a decimal string, like every amount, so no client
/// meets a number beyond 2^53); compact encodings (postcard): the asset then the `i128` base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AssetAmount {
    /// The asset.
    pub asset: Asset,
    /// Base units (10^-7 token).
    pub units: i128,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "AssetAmount", deny_unknown_fields)]
struct AssetAmountJson {
    asset: Asset,
    amount: Amount<AnyAsset>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "AssetAmount")]
struct AssetAmountCompact {
    asset: Asset,
    units: i128,
}

impl Serialize for AssetAmount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            AssetAmountJson { asset: self.asset, amount: Amount::from_units(self.units) }
                .serialize(serializer)
        } else {
            AssetAmountCompact { asset: self.asset, units: self.units }.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for AssetAmount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let json = AssetAmountJson::deserialize(deserializer)?;
            Ok(AssetAmount { asset: json.asset, units: json.amount.units() })
        } else {
            let compact = AssetAmountCompact::deserialize(deserializer)?;
            Ok(AssetAmount { asset: compact.asset, units: compact.units })
        }
    }
}

impl fmt::Display for AssetAmount {
    /// `"12.5 TFT"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_units(self.units), self.asset)
    }
}

/// Why a decimal amount string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseAmountError {
    /// The string is empty.
    #[error("empty amount")]
    Empty,
    /// The amount is negative.
    #[error("negative amounts are not allowed")]
    Negative,
    /// A character other than digits and one decimal point.
    #[error("invalid amount {0:?}: expected digits with an optional '.' and up to 7 decimals")]
    Invalid(String),
    /// More fractional digits than the asset has decimals.
    #[error("too many decimals in {input:?}: at most {max} allowed")]
    TooManyDecimals {
        /// The input.
        input: String,
        /// The maximum number of decimals (7).
        max: u32,
    },
    /// The amount does not fit in `i128` base units.
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

/// Parses a non-negative decimal string into base units (7 decimals).
fn parse_units(s: &str) -> Result<i128, ParseAmountError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(ParseAmountError::Empty);
    }
    if text.starts_with('-') {
        return Err(ParseAmountError::Negative);
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits_only(whole)
        || !digits_only(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(ParseAmountError::Invalid(s.to_owned()));
    }
    if fraction.len() > DECIMALS as usize {
        return Err(ParseAmountError::TooManyDecimals { input: s.to_owned(), max: DECIMALS });
    }
    let overflow = || ParseAmountError::Overflow(s.to_owned());
    let mut units: i128 = 0;
    for b in whole.bytes() {
        units =
            units.checked_mul(10).and_then(|u| u.checked_add(i128::from(b - b'0'))).ok_or_else(overflow)?;
    }
    units = units.checked_mul(UNITS_PER_TOKEN).ok_or_else(overflow)?;
    let mut frac_units: i128 = 0;
    for b in fraction.bytes() {
        frac_units = frac_units * 10 + i128::from(b - b'0');
    }
    for _ in fraction.len()..DECIMALS as usize {
        frac_units *= 10;
    }
    units.checked_add(frac_units).ok_or_else(overflow)
}

/// Formats base units as a decimal string without trailing zeros.
pub(crate) fn format_units(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let magnitude = units.unsigned_abs();
    let per = UNITS_PER_TOKEN.unsigned_abs();
    let whole = magnitude / per;
    let fraction = magnitude % per;
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{fraction:0width$}", width = DECIMALS as usize);
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_examples() {
        let a: Amount<Tft> = "12.5".parse().unwrap();
        assert_eq!(a.units(), 125_000_000);
        assert_eq!(a.to_string(), "12.5");
        let b: Amount<Cc> = "0.0000001".parse().unwrap();
        assert_eq!(b.units(), 1);
        assert_eq!(b.to_string(), "0.0000001");
        assert_eq!("0".parse::<Amount<Cc>>().unwrap().units(), 0);
        assert_eq!("1000".parse::<Amount<Cc>>().unwrap().to_string(), "1000");
    }

    #[test]
    fn rejects_bad_input_with_typed_errors() {
        assert_eq!("".parse::<Amount<Tft>>(), Err(ParseAmountError::Empty));
        assert_eq!("-1".parse::<Amount<Tft>>(), Err(ParseAmountError::Negative));
        assert!(matches!("1.00000001".parse::<Amount<Tft>>(), Err(ParseAmountError::TooManyDecimals { .. })));
        assert!(matches!("1e5".parse::<Amount<Tft>>(), Err(ParseAmountError::Invalid(_))));
        assert!(matches!(".5".parse::<Amount<Tft>>(), Err(ParseAmountError::Invalid(_))));
        assert!(matches!("5.".parse::<Amount<Tft>>(), Err(ParseAmountError::Invalid(_))));
        assert!(matches!("+5".parse::<Amount<Tft>>(), Err(ParseAmountError::Invalid(_))));
        let huge = "9".repeat(40);
        assert!(matches!(huge.parse::<Amount<Tft>>(), Err(ParseAmountError::Overflow(_))));
    }

    #[test]
    fn serde_is_string_in_json_and_integer_in_binary() {
        let a: Amount<Usdc> = "3.25".parse().unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"3.25\"");
        let back: Amount<Usdc> = serde_json::from_str("\"3.25\"").unwrap();
        assert_eq!(back, a);
        assert!(serde_json::from_str::<Amount<Usdc>>("\"3.123456789\"").is_err());
        let bytes = postcard::to_allocvec(&a).unwrap();
        assert_eq!(postcard::from_bytes::<Amount<Usdc>>(&bytes).unwrap(), a);
    }

    #[test]
    fn erase_round_trips_only_for_the_same_asset() {
        let a = Amount::<Tft>::tokens(3);
        let erased = a.erase();
        assert_eq!(erased.to_string(), "3 TFT");
        assert_eq!(Amount::<Tft>::from_erased(erased), Some(a));
        assert_eq!(Amount::<Cc>::from_erased(erased), None);
    }

    proptest::proptest! {
        #[test]
        fn print_parse_round_trip(units in 0i128..i128::MAX / 2) {
            let a = Amount::<Tfp>::from_units(units);
            proptest::prop_assert_eq!(a.to_string().parse::<Amount<Tfp>>().unwrap(), a);
        }
    }
}
