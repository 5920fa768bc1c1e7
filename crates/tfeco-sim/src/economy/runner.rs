//! One seeded run of a scenario through the real core, in process.
//!
//! The run is a fixed sequence of commands (so the same seed gives the same run, byte for byte):
//!
//! 1. **Setup** at the start time: guardians register and submit the first prices; the initial nodes
//!    (farms, models drawn by weight, prices, report keys), users and exit holders arrive.
//! 2. **Every month** (30 days from `t0`): the boundary step at `t0` (its `Tick` bills the leases due at the
//!    month's start, so that charge belongs to the month), then the month's decisions (new nodes,
//!    re-pricing, Pool 2 conversions and farmers' exit positions, churn, arrivals, top-ups and leases, the
//!    exit pool's funding), then the month's steps (below). The month's row is read after its last step.
//! 3. **Steps** are the times something is due, at most a week apart: every exit round's close, every
//!    minting period's close (`period_end + mint_close_delay_s`, with a step one second before it, so the
//!    nodes report the period's last hours first). At each step: the operator's `Tick`
//!    (billing, burns, exit rounds, minting closes and vesting run there), the guardians' fresh prices
//!    (observed then: an exit round due at that tick clears at that price), the nodes' uptime reports since
//!    their last (every 2,460 s), the guardians' signatures on closed minting reports, and each holder's
//!    bid in the round now open (once per round). The core bills every open lease at every tick, so
//!    stepping only when something is due is what keeps long runs fast; leases are monthly and opened at a
//!    month's start, so they fall due exactly at the boundary steps.
//! 4. **Every month's end**: the metrics row (`collect.rs`), the core's invariants and the simulator's
//!    conservation checks ([`crate::SimError::Check`] naming the month).
//!
//! Randomness: one `StdRng` seeded from the seed draws the price walk first, then every agent's choice in
//! the order above; collections are `Vec`s and `BTreeMap`s.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::agents::{World, MONTH};
use super::collect::Collector;
use super::metrics::Series;
use super::prices;
use super::scenario::Scenario;
use crate::driver::Recorded;
use crate::Result;

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
            step(&mut world, t0);
        }
        month_decisions(&mut world, month);
        for now in month_steps(&world, t0) {
            step(&mut world, now);
        }
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

/// The month's steps after `t0`, in order: exit round closes and minting period closes (and one second
/// before each) before the next month.
fn month_steps(world: &World<'_>, t0: i64) -> Vec<i64> {
    use tfeco_core::rules::minting::{period_end, period_of};
    let end = t0 + MONTH - 1;
    let mut steps = Vec::new();
    let state = world.state();
    let every = state.params().exit_round_period_s.max(1);
    let mut close = state.exit_pool().round().closes_at;
    while close <= end {
        if close > t0 {
            steps.push(close);
        }
        close += every;
    }
    let delay = state.params().mint_close_delay_s;
    let first = state.rewards().next_period().or_else(|| period_of(t0));
    let mut period = first.unwrap_or(u32::MAX);
    while period < u32::MAX {
        let close = period_end(period).saturating_add(delay);
        if close > end {
            break;
        }
        if close - 1 > t0 {
            steps.extend([close - 1, close]);
        }
        period += 1;
    }
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// One step of the clock to `now` (see the module doc).
fn step(world: &mut World<'_>, now: i64) {
    world.tick(now);
    world.submit_prices();
    world.report_uptime(now);
    world.sign_mint_reports();
    world.bid_for_exit();
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
