//! A study: the runs of a scenario (Monte Carlo over seeds), possibly in several arms of a parameter sweep, and
//! the percentile bands of every column over each arm's runs.

use serde::{Deserialize, Serialize};

use super::metrics::Column;
use super::runner::RunOutput;
use super::scenario::Scenario;

/// The p5 / p50 / p95 of every column at every month over an arm's runs (nearest-rank percentiles of the
/// exact values, so every band value is a value some run produced).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bands {
    /// The columns (those of the runs' series).
    pub columns: Vec<Column>,
    /// The months (1-based).
    pub months: Vec<u32>,
    /// `p5[month_index][column_index]`.
    pub p5: Vec<Vec<i128>>,
    /// The medians, same shape.
    pub p50: Vec<Vec<i128>>,
    /// `p95[month_index][column_index]`.
    pub p95: Vec<Vec<i128>>,
}

/// One arm of a study: the scenario with its overrides applied, its runs and their bands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arm {
    /// A label, e.g. `base` or `params.revenue_split.burn_bps=2000`.
    pub label: String,
    /// The overrides of this arm (dotted path, TOML value), empty for the base arm.
    pub overrides: Vec<(String, String)>,
    /// The runs, in seed order.
    pub runs: Vec<RunOutput>,
    /// Their bands.
    pub bands: Bands,
}

/// A whole study: what `tfeco sim` computes and writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// The scenario as given (before any arm's override).
    pub scenario: Scenario,
    /// The first seed; run `i` of every arm uses the seed [`run_seed`]`(seed, i)`.
    pub seed: u64,
    /// Runs per arm.
    pub runs_per_arm: u32,
    /// The arms (one, `base`, without a sweep).
    pub arms: Vec<Arm>,
}

/// The seed of run `index` of a study seeded `seed`: `seed + index` (wrapping), the same in every arm, so a
/// sweep's arms differ only by their overrides.
pub fn run_seed(seed: u64, index: u32) -> u64 {
    seed.wrapping_add(u64::from(index))
}
