//! The monthly series of a run: named columns (unit, decimals, the chart they belong to) and one row of exact
//! integers per simulated month. Every value is an integer in the column's base units (`value / 10^decimals`
//! is the displayed quantity); floats appear only when a chart is drawn.

use serde::{Deserialize, Serialize};

/// What a column counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// TFT, 7 decimals.
    Tft,
    /// TFP, 7 decimals.
    Tfp,
    /// Cloud Credits, 7 decimals.
    Cc,
    /// USDC, 7 decimals.
    Usdc,
    /// US dollars (a valuation, not an asset), 7 decimals.
    Usd,
    /// A price (USD per TFT or per troy ounce), 18 decimals.
    Price,
    /// Basis points (utilization, shares), 0 decimals.
    Bps,
    /// A count (nodes, users, leases, bids), 0 decimals.
    Count,
}

/// The chart of the report a column is drawn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    /// TFT supply: external, minted, burned, locked in the vault and in vesting, against the 1 billion cap.
    TftSupply,
    /// CC minted and burned (cumulative), CC outstanding.
    Cc,
    /// Pool 2: its reserve and `burn_owed_tft`.
    Pool2,
    /// Exit pool: USDC in the pool, USDC paid out, clearing prices.
    ExitPool,
    /// Farmer net income by node model.
    FarmerIncome,
    /// Utilization of the offered capacity.
    Utilization,
    /// The treasury (ThreeFold's revenue share and the exit rounds' treasury TFP).
    Treasury,
    /// The price paths the run played (TFT and gold).
    Prices,
    /// The population: nodes, users, open leases.
    Population,
    /// Not drawn (kept in the CSV and `summary.json`).
    None,
}

/// One column: a stable key (`snake_case`, the CSV header), a label for humans, its unit, its decimals, its
/// chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The CSV header and JSON key, e.g. `tft_minted` or `farmer_net_cc.3Node Home`.
    pub key: String,
    /// A label for charts and the report.
    pub label: String,
    /// What it counts.
    pub unit: Unit,
    /// Decimals of its integer values.
    pub decimals: u32,
    /// Where it is drawn.
    pub chart: Chart,
}

/// One simulated month's values, in the order of [`Series::columns`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthValues {
    /// 1-based month of the run (month 1 ends one month after the start).
    pub month: u32,
    /// The core's time when the month's row was read: its last step (unix seconds).
    pub at: i64,
    /// One value per column, in base units.
    pub values: Vec<i128>,
}

/// A run's monthly series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// The columns, in CSV order.
    pub columns: Vec<Column>,
    /// One entry per month, in order.
    pub months: Vec<MonthValues>,
}

impl Series {
    /// The index of the column `key`, if any.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }

    /// The values of column `key` month by month, if the column exists.
    pub fn values_of(&self, key: &str) -> Option<Vec<i128>> {
        let i = self.column(key)?;
        Some(self.months.iter().map(|m| m.values[i]).collect())
    }
}
