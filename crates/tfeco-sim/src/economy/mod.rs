//! The economy simulator: years of the real state machine under scenarios (TOML), Monte Carlo bands and
//! parameter sweeps, with CSV, JSON, charts and an HTML report.
//!
//! Shape (see `docs/simulator.md`):
//!
//! - [`scenario`]: what a scenario fixes (horizon, gold and TFT price paths, users, farmers, demand, exit
//!   behaviour, minting rule set and lock-ups, `Params` overrides), read from TOML; the built-in scenarios;
//! - [`runner`]: one seeded run, agents acting through the core's own commands on an in-process
//!   [`tfeco_core::State`] (or mirrored to a real node), the metrics of every month, the invariants checked at
//!   every month's end;
//! - [`prices`]: the gold and TFT price paths a run plays (the real series, constants, drifts, seeded walks,
//!   CSVs);
//! - `agents` (private): guardians, farmers and nodes, users, exit holders, acting through commands;
//! - `collect` (private): the monthly metrics read from the state, and the conservation checks;
//! - [`metrics`]: the monthly series a run produces (exact integers with declared decimals);
//! - Monte Carlo, bands and sweeps; outputs (CSV, `summary.json`, PNG/SVG charts, `report.html`).

mod agents;
pub mod bands;
mod collect;
pub mod metrics;
pub mod monte_carlo;
pub mod output;
pub mod overrides;
pub mod prices;
pub mod runner;
pub mod scenario;
pub mod study;
pub mod through_node;

pub use self::bands::BandsError;
pub use self::metrics::{Chart, Column, MonthValues, Series, Unit};
pub use self::monte_carlo::{study, StudyProgress, Sweep};
pub use self::overrides::Override;
pub use self::runner::{run, Progress, RunOutput};
pub use self::scenario::Scenario;
pub use self::study::{run_seed, Arm, Bands, Study};
