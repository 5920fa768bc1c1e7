//! One seeded run of a scenario through the real core, in process.
//!
//! The run is a fixed sequence of commands (so the same seed gives the same run, byte for byte):
//!
//! 1. **Setup** at the start time: guardians register and submit the first prices; the initial nodes
//!    (farms, models drawn by weight, prices, report keys), users and exit holders arrive.
//! 2. **Every month** (30 days from `t0`): the boundary step at `t0` (the `Tick` that bills the leases due at
//!    the month's start belongs to the month), then the month's decisions: new nodes, re-pricing, Pool 2
//!    conversions and farmers' exit positions, churn, arrivals, top-ups and leases, the exit pool's
//!    funding; then days 1 to 29 and a last step one second before the next month.
//! 3. **Every day step** to `now`: any minting period whose close time (`period_end + mint_close_delay_s`)
//!    falls in the step is closed first (a `Tick` one second before it, the nodes' uptime reports up to
//!    then, the closing `Tick`, the guardians' signatures); then a `Tick` 10 minutes before `now`, fresh
//!    prices, the `Tick` to `now` (billing, burns, exit rounds, vesting run there), weekly uptime reports,
//!    and exit bids on the day before a round closes.
//! 4. **Every month's end**: the metrics row ([`super::collect`]), the core's invariants and the simulator's
//!    conservation checks ([`SimError::Check`] naming the month).
//!
//! Randomness: one `StdRng` seeded from the seed draws the price walk first, then every agent's choice in
//! the order above; collections are `Vec`s and `BTreeMap`s.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::agents::{World, DAY, MONTH};
use super::collect::Collector;
use super::metrics::Series;
use super::prices;
use super::scenario::Scenario;
use crate::driver::Recorded;
use crate::Result;

/// The guardians' prices are observed this long before each day's tick (the oracle's max age is 1 h).
const PRICE_LEAD_S: i64 = 600;

/// Where a run is, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Months done.
    pub month: u32,
    /// Months in the run.
    pub months: u32,
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOutput {
    /// The run's seed.
    pub seed: u64,
    /// The monthly series.
    pub series: Series,
    /// The core's state hash at the end (the same seed gives the same hash).
    pub state_hash: String,
    /// Commands applied.
    pub commands: u64,
    /// Commands the core refused, by `command_kind/rejection_code` (e.g. `open_lease/cc_balance_low`): an
    /// agent built each to be valid, so every refusal is visible here.
    #[serde(default)]
    pub rejections: BTreeMap<String, u64>,
}

/// Plays `scenario` with `seed`; `progress` is called after each month. Errors: [`SimError::Scenario`] for
/// a scenario the core refuses, [`SimError::Check`] when an invariant fails.
pub fn run(scenario: &Scenario, seed: u64, progress: &mut dyn FnMut(Progress)) -> Result<RunOutput> {
    Ok(run_with(scenario, seed, false, progress)?.0)
}

/// [`run`], keeping every command applied and its outcome, to play them through a node
/// ([`super::through_node`]). Errors: as [`run`].
pub fn run_recorded(
    scenario: &Scenario,
    seed: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(RunOutput, Vec<Recorded>)> {
    run_with(scenario, seed, true, progress)
}

fn run_with(
    scenario: &Scenario,
    seed: u64,
    record: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<(RunOutput, Vec<Recorded>)> {
    scenario.validate()?;
    let mut rng = StdRng::seed_from_u64(seed);
    let gold = prices::gold_path(&scenario.gold, scenario.start, scenario.months)?;
    let tft = prices::tft_path(&scenario.tft_price, scenario.months, &mut rng)?;
    let mut world = World::new(scenario, rng, gold, tft)?;
    if record {
        world.driver.start_recording();
    }
    let names: Vec<String> = world.models.iter().map(|m| m.name.clone()).collect();
    let mut collector = Collector::new(&names);
    setup(&mut world);
    for month in 1..=scenario.months {
        let t0 = scenario.start + i64::from(month - 1) * MONTH;
        world.month = month;
        world.flows.reset();
        if month > 1 {
            day_step(&mut world, t0);
        }
        month_decisions(&mut world, month);
        for day in 1..30 {
            day_step(&mut world, t0 + i64::from(day) * DAY);
        }
        day_step(&mut world, t0 + MONTH - 1);
        collector.record(&world, month, t0)?;
        progress(Progress { month, months: scenario.months });
    }
    let log = world.driver.take_log();
    let output = RunOutput {
        seed,
        series: collector.into_series(),
        state_hash: world.state().state_hash(),
        commands: world.tally.applied,
        rejections: world.tally.rejected,
    };
    Ok((output, log))
}

/// The economy at the start: guardians and prices, nodes, users, holders.
fn setup(world: &mut World<'_>) {
    world.register_guardians();
    world.submit_prices();
    world.add_nodes(world.scenario.farmers.initial_nodes);
    world.add_users(world.scenario.users.initial);
    world.add_holders();
}

/// The month's decisions at its start.
fn month_decisions(world: &mut World<'_>, month: u32) {
    if month > 1 {
        world.add_nodes(world.scenario.farmers.nodes_per_month);
        world.reprice_nodes();
        world.farmers_convert_and_hold();
        world.churn_users();
        world.add_users(world.scenario.users.arrivals_per_month);
    }
    world.users_spend();
    world.fund_exit_pool();
}

/// One step of the clock to `now` (see the module doc).
fn day_step(world: &mut World<'_>, now: i64) {
    close_minting_periods(world, now);
    world.tick(now - PRICE_LEAD_S);
    world.submit_prices();
    world.tick(now);
    let day = (now - world.scenario.start).div_euclid(DAY);
    if day % 7 == 0 {
        world.report_uptime(now);
    }
    world.sign_mint_reports();
    world.bid_for_exit();
}

/// Closes every minting period whose close time falls in `(state's time, now]`: the nodes report up to one
/// second before it, then the closing `Tick`, then the guardians sign.
fn close_minting_periods(world: &mut World<'_>, now: i64) {
    use tfeco_core::rules::minting::{period_end, period_of};
    let delay = world.state().params().mint_close_delay_s;
    loop {
        let Some(next) = world.state().rewards().next_period() else { return };
        let close = period_end(next).saturating_add(delay);
        if close > now || close <= world.now() || period_of(close).is_none() {
            return;
        }
        world.tick(close - 1);
        world.report_uptime(close - 1);
        world.tick(close);
        world.submit_prices();
        world.sign_mint_reports();
        if world.state().rewards().next_period() == Some(next) {
            return;
        }
    }
}

impl super::agents::MonthFlows {
    /// Zero for a new month (keeping one slot per model).
    pub(super) fn reset(&mut self) {
        let models = self.farmer_cc.len();
        *self = super::agents::MonthFlows {
            farmer_cc: vec![0; models],
            reward_tft: vec![0; models],
            ..Default::default()
        };
    }
}

#[cfg(test)]
mod tests;
