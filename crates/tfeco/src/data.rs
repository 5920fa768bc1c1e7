//! Data the binary embeds at build time (copied into the repository's `data/`; nothing reads `../shared`):
//! the Q4 2025 node catalogue and the monthly gold price series (ODC-PDDL-1.0, see `data/gold-prices`).

use anyhow::Context;
use tfeco_core::{parse_catalogue_csv, parse_gold_csv, Genesis, NodeModel, Params};
use tfeco_money::Price;

/// The node catalogue CSV.
pub(crate) const CATALOGUE_CSV: &str = include_str!("../../../data/node-catalogue/tfgrid-nodes-q4-2025.csv");
/// The monthly gold price CSV (USD per troy ounce).
pub(crate) const GOLD_CSV: &str = include_str!("../../../data/gold-prices/monthly.csv");

/// The parsed catalogue.
pub(crate) fn catalogue() -> anyhow::Result<Vec<NodeModel>> {
    parse_catalogue_csv(CATALOGUE_CSV).context("parsing the embedded node catalogue")
}

/// The latest month of the gold series: `("2026-06", 4228)`.
pub(crate) fn latest_gold() -> anyhow::Result<(String, Price)> {
    let months = parse_gold_csv(GOLD_CSV).context("parsing the embedded gold series")?;
    months.last().cloned().context("the gold series is empty")
}

/// The default genesis for an operator key.
pub(crate) fn genesis(operator: tfeco_core::AccountKey, start_time: i64) -> anyhow::Result<Genesis> {
    Ok(Genesis { params: Params::tfgrid4_2025(operator), catalogue: catalogue()?, start_time })
}
