//! The real data scenarios play on, embedded at build time (copied into the repository's `data/`; nothing
//! reads `../shared`): the Q4 2025 node catalogue and the monthly gold price series (ODC-PDDL-1.0, see
//! `data/gold-prices`), and the default genesis built from them.

use tfeco_core::{parse_catalogue_csv, parse_gold_csv, AccountKey, Genesis, NodeModel, Params};
use tfeco_money::Price;

use crate::{Result, SimError};

/// The node catalogue CSV.
pub const CATALOGUE_CSV: &str = tfeco_core::CATALOGUE_Q4_2025_CSV;
/// The monthly gold price CSV (USD per troy ounce).
pub const GOLD_CSV: &str = tfeco_core::GOLD_MONTHLY_CSV;

/// The parsed catalogue. Errors: [`SimError::Data`] when the embedded file does not parse.
pub fn catalogue() -> Result<Vec<NodeModel>> {
    parse_catalogue_csv(CATALOGUE_CSV).map_err(|e| SimError::Data(format!("node catalogue: {e}")))
}

/// The latest month of the gold series, e.g. `("2026-06", 4228 USD per troy ounce)`. Errors:
/// [`SimError::Data`] when the embedded series does not parse or is empty.
pub fn latest_gold() -> Result<(String, Price)> {
    let months = parse_gold_csv(GOLD_CSV).map_err(|e| SimError::Data(format!("gold series: {e}")))?;
    months.last().cloned().ok_or_else(|| SimError::Data("the gold series is empty".to_owned()))
}

/// The default genesis (parameter set `tfgrid4-2025`, the embedded catalogue) for an operator key and a
/// start time in unix seconds.
pub fn genesis(operator: AccountKey, start_time: i64) -> Result<Genesis> {
    Ok(Genesis { params: Params::tfgrid4_2025(operator), catalogue: catalogue()?, start_time })
}
