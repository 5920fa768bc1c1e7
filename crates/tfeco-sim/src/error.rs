//! The one error type of the simulator: a scenario or workload that could not run as designed.

use tfeco_core::Rejection;
use tfeco_wallet::CallError;

/// Why a scenario or a workload stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The embedded catalogue or gold series does not parse (a build with broken data).
    #[error("the embedded data is invalid: {0}")]
    Data(String),
    /// The node could not be reached, or answered something the driver cannot read.
    #[error("talking to the node: {0}")]
    Node(#[from] CallError),
    /// The in-process core refused a command the workload built to be valid.
    #[error("the core rejected {command}: {rejection}")]
    Rejected {
        /// The command's kind, e.g. `transfer`.
        command: &'static str,
        /// The core's refusal.
        rejection: Rejection,
    },
    /// A workload or scenario did not behave as designed (a check of its own outcome failed).
    #[error("{0}")]
    Check(String),
    /// A scenario (built in, a file, or an override) is invalid: the message names the field.
    #[error("scenario: {0}")]
    Scenario(String),
    /// Writing the simulator's outputs failed.
    #[error("writing {path}: {message}")]
    Output {
        /// The file or directory.
        path: String,
        /// What failed.
        message: String,
    },
    /// A background task or thread failed.
    #[error("a background task failed: {0}")]
    Task(String),
    /// The runs of an arm cannot be summarized in bands (see `economy::bands`).
    #[error("bands: {0}")]
    Bands(#[from] BandsError),
    /// A run of a study failed: its arm and seed are named, with the run's own error.
    #[error("arm {arm}, run {run} (seed {seed}): {error}")]
    Run {
        /// The arm's label (`base`, or the sweep's `PATH=VALUE`).
        arm: String,
        /// The run's index in the arm.
        run: u32,
        /// The run's seed.
        seed: u64,
        /// Why it failed.
        error: Box<SimError>,
    },
}

/// Why runs cannot be summarized together in percentile bands (`economy::bands`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BandsError {
    /// No run was given.
    #[error("no runs to summarize")]
    NoRuns,
    /// A run's columns differ from the first run's (key, unit, decimals or order).
    #[error("run {run} (seed {seed}) has other columns than run 0: {detail}")]
    ColumnsDiffer {
        /// The index of the run in the slice.
        run: usize,
        /// Its seed.
        seed: u64,
        /// The first difference.
        detail: String,
    },
    /// A run's months differ from the first run's (count or numbering).
    #[error("run {run} (seed {seed}) has months {months:?}, run 0 has {expected:?}")]
    MonthsDiffer {
        /// The index of the run in the slice.
        run: usize,
        /// Its seed.
        seed: u64,
        /// Its month numbers.
        months: Vec<u32>,
        /// The first run's month numbers.
        expected: Vec<u32>,
    },
    /// A month row does not hold one value per column.
    #[error("run {run} (seed {seed}), month {month}: {values} values for {columns} columns")]
    RowWidth {
        /// The index of the run in the slice.
        run: usize,
        /// Its seed.
        seed: u64,
        /// The month (1-based).
        month: u32,
        /// Values in the row.
        values: usize,
        /// Columns of the series.
        columns: usize,
    },
}

/// The simulator's result type.
pub type Result<T, E = SimError> = std::result::Result<T, E>;

/// Fails with [`SimError::Check`] unless `$cond` holds.
macro_rules! check {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err($crate::SimError::Check(format!($($message)+)));
        }
    };
}
pub(crate) use check;
