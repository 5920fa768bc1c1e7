//! Target `amounts`: the decimal amounts and prices of every command, CSV book and command line
//! (`tfeco_money`), the asset codes, the income factors, and the JSON forms of asset amounts and ratios.
//!
//! Asserts: no panic; every accepted text round-trips (`parse(display(x)) == x`) and its display is
//! canonical (`display(parse(display(x))) == display(x)`); every amount and price (the first 32 bytes read
//! as raw units) displays as a string that parses back to it; a rounded price display parses and is
//! within half a unit of its last digit of the exact price.

use std::str::FromStr;

use tfeco_money::{Amount, AnyAsset, Asset, AssetAmount, Price, Ratio};

use crate::Verdict;

/// The body of target `amounts`.
pub fn amounts(data: &[u8]) -> Verdict {
    let raw = raw_units_round_trip(data);
    let Some(text) = crate::text(data) else { return Verdict::from_bool(raw) };
    let accepted = [
        text_round_trip::<Amount<AnyAsset>>(text),
        text_round_trip::<Price>(text),
        asset_round_trip(text),
        factor(text),
        json_round_trip::<AssetAmount>(text),
        json_round_trip::<Ratio>(text),
    ];
    Verdict::from_bool(raw || accepted.contains(&true))
}

/// `display` then `parse` gives the value back, for the amount and the price whose raw units are the
/// first 16 and the next 16 bytes; each rounded display of the price parses and is within half a unit.
/// `true` when the input has both (32 bytes or more).
fn raw_units_round_trip(data: &[u8]) -> bool {
    let word = |at: usize| -> Option<[u8; 16]> { data.get(at..at + 16)?.try_into().ok() };
    if let Some(bytes) = word(0) {
        let units = i128::from_le_bytes(bytes);
        let shown = Amount::<AnyAsset>::from_units(units).to_string();
        match shown.strip_prefix('-') {
            // `i128::MIN` has no positive counterpart: its magnitude is too large for an amount.
            Some(magnitude) => match units.checked_neg() {
                Some(positive) => {
                    let parsed = Amount::<AnyAsset>::from_str(magnitude).map(|a| a.units());
                    assert_eq!(parsed, Ok(positive), "{shown} does not parse back");
                }
                None => assert!(Amount::<AnyAsset>::from_str(magnitude).is_err()),
            },
            None => assert_eq!(shown.parse::<Amount<AnyAsset>>().map(|a| a.units()), Ok(units)),
        }
    }
    if let Some(bytes) = word(16) {
        let price = Price::from_atto(u128::from_le_bytes(bytes));
        assert_eq!(price.to_string().parse::<Price>(), Ok(price), "{price} does not parse back");
        let decimals = u32::from(data.get(32).copied().unwrap_or(0) % 19);
        rounded_display(price, decimals);
    }
    data.len() >= 32
}

/// [`Price::to_string_rounded`] parses and differs from the price by at most half of its last digit;
/// only a price within half a digit of the largest one may round up past it (then the text is too large
/// to parse as a price, which is right: the display is for reading).
fn rounded_display(price: Price, decimals: u32) {
    let shown = price.to_string_rounded(decimals);
    let half = 10u128.pow(18 - decimals) / 2;
    let parsed: Price = match shown.parse() {
        Ok(parsed) => parsed,
        Err(tfeco_money::ParsePriceError::Overflow(_)) if price.atto() >= u128::MAX - half => return,
        Err(e) => panic!("{shown:?} (rounded {price}) does not parse: {e}"),
    };
    let distance = parsed.atto().abs_diff(price.atto());
    assert!(distance <= half, "{price} rounded to {decimals} decimals is {shown}");
}

/// Parses `text` as a `T`; when accepted, its display parses back to it and is canonical.
fn text_round_trip<T>(text: &str) -> bool
where
    T: FromStr + std::fmt::Display + PartialEq + std::fmt::Debug,
    T::Err: std::fmt::Debug,
{
    let Ok(value) = text.parse::<T>() else { return false };
    let shown = value.to_string();
    let again =
        shown.parse::<T>().unwrap_or_else(|e| panic!("{text:?} displays as {shown:?}, refused: {e:?}"));
    assert_eq!(again, value, "{text:?} displays as {shown:?}, which parses to another value");
    assert_eq!(again.to_string(), shown, "the display of {text:?} is not canonical");
    true
}

/// An asset code (any case; `TFTF` is TFP's former code) parses back from its canonical code.
fn asset_round_trip(text: &str) -> bool {
    let Ok(asset) = text.parse::<Asset>() else { return false };
    assert_eq!(asset.code().parse::<Asset>(), Ok(asset));
    true
}

/// An income factor (`tfeco calc`) is a ratio equal to the decimal it was written as.
fn factor(text: &str) -> bool {
    let Ok(ratio) = tfeco_core::rules::income::parse_factor(text) else { return false };
    assert!(ratio.den() > 0, "{text:?}: a zero denominator");
    let price: Price = text.parse().expect("a factor is a decimal that a price parses");
    // ratio == atto / 10^18 exactly: num * 10^18 == atto * den (compared without overflow).
    let order = tfeco_money::cmp_products(ratio.num(), Price::scale(), price.atto(), ratio.den());
    assert_eq!(order, std::cmp::Ordering::Equal, "{text:?} became {}/{}", ratio.num(), ratio.den());
    true
}

/// JSON of a `T`; when accepted, its JSON encoding decodes back to it.
fn json_round_trip<T>(text: &str) -> bool
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let Ok(value) = serde_json::from_str::<T>(text) else { return false };
    let json = serde_json::to_string(&value).expect("an accepted value encodes");
    assert_eq!(serde_json::from_str::<T>(&json).ok(), Some(value), "{text:?} re-encodes as {json}");
    true
}
