//! The real data scenarios play on. The Q4 2025 node catalogue, the monthly gold price series (ODC-PDDL-1.0,
//! see `data/gold-prices`) and the default genesis are the core's ([`tfeco_core::catalogue_q4_2025`],
//! [`tfeco_core::GOLD_MONTHLY_CSV`], [`tfeco_core::Genesis::tfgrid4_2025`]); this module reads the gold
//! series' latest month, the gold price the scenarios' guardians submit.

use tfeco_core::{parse_gold_csv, GOLD_MONTHLY_CSV};
use tfeco_money::Price;

use crate::{Result, SimError};

/// The latest month of the gold series, e.g. `("2026-06", 4228 USD per troy ounce)`. Errors:
/// [`SimError::Data`] when the embedded series does not parse or is empty.
pub fn latest_gold() -> Result<(String, Price)> {
    let months = parse_gold_csv(GOLD_MONTHLY_CSV).map_err(|e| SimError::Data(format!("gold series: {e}")))?;
    months.last().cloned().ok_or_else(|| SimError::Data("the gold series is empty".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_gold_month_is_a_positive_price() {
        let (month, price) = latest_gold().unwrap();
        assert_eq!(month.len(), 7, "{month}");
        assert!(!price.is_zero(), "{price}");
    }
}
