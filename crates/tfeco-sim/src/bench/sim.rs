//! `tfeco bench --suite sim`: the economy simulator's speed. (a) One run of the built-in scenario
//! `bench-large` (60 months, 10,000 nodes, 100,000 users), timed; (b) 100 Monte Carlo runs of `bench-mc`
//! (1,000 nodes) on all cores ([`crate::economy::monte_carlo::study`]), timed. Each reports seconds,
//! simulated months per second and core commands per second. Targets (a release build on the 2-core reference
//! machine): (a) under 60 s, (b) under 120 s.
//!
//! `--quick` and debug builds (where the core checks every invariant after each command) shrink the horizons
//! and the number of runs, and debug builds the population too ([`SimBenchSizes`], [`SMALL_POPULATION`]); the
//! report names the sizes played, and the targets are only judged at full size.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::measure::{build_kind, load_average, machine, round3};
use crate::economy::overrides::{self, Override};
use crate::economy::{monte_carlo, run, RunOutput, Scenario, Series};
use crate::Result;

/// The built-in scenario of the single large run.
pub const LARGE_SCENARIO: &str = "bench-large";
/// The built-in scenario of the Monte Carlo runs.
pub const MONTE_CARLO_SCENARIO: &str = "bench-mc";
/// The first seed of both parts.
const SEED: u64 = 1;
/// Target of the large run, seconds.
const LARGE_TARGET_S: f64 = 60.0;
/// Target of the 100 Monte Carlo runs, seconds.
const MONTE_CARLO_TARGET_S: f64 = 120.0;
/// Monte Carlo runs at full size.
const FULL_RUNS: u32 = 100;
/// The population of both scenarios in a debug build (overrides of the scenario), where every command
/// re-checks every invariant of the state: a few dozen users and nodes instead of 100,000 and 10,000.
pub const SMALL_POPULATION: &[&str] = &[
    "users.initial=30",
    "users.arrivals_per_month=3",
    "farmers.initial_nodes=12",
    "farmers.nodes_per_month=0",
    "exit.holders=2",
];

/// What the sim suite plays: `None` months keep the scenario's own horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimBenchSizes {
    /// Months of the large run.
    pub large_months: Option<u32>,
    /// Monte Carlo runs.
    pub monte_carlo_runs: u32,
    /// Months of each Monte Carlo run.
    pub monte_carlo_months: Option<u32>,
    /// Whether [`SMALL_POPULATION`] replaces the scenarios' population (debug builds).
    pub small_population: bool,
}

impl SimBenchSizes {
    /// Full size in a release build (the scenarios' horizons, 100 runs); `quick`: 3 and 2 months, 4 runs.
    /// Debug builds play [`SMALL_POPULATION`]: 6 and 3 months, 10 runs; with `quick` 1 month, 2 runs.
    pub fn new(quick: bool) -> SimBenchSizes {
        let debug = cfg!(debug_assertions);
        let (large, runs, months) = match (quick, debug) {
            (false, false) => (None, FULL_RUNS, None),
            (true, false) => (Some(3), 4, Some(2)),
            (false, true) => (Some(6), 10, Some(3)),
            (true, true) => (Some(1), 2, Some(1)),
        };
        SimBenchSizes {
            large_months: large,
            monte_carlo_runs: runs,
            monte_carlo_months: months,
            small_population: debug,
        }
    }

    /// Whether these are the full sizes (the targets are judged only then).
    pub fn full(self) -> bool {
        self.large_months.is_none()
            && self.monte_carlo_months.is_none()
            && self.monte_carlo_runs == FULL_RUNS
            && !self.small_population
    }
}

/// The built-in scenario `name`, its horizon set to `months` when given, its population shrunk when `small`.
fn scenario(name: &str, months: Option<u32>, small: bool) -> Result<Scenario> {
    let mut scenario = Scenario::builtin(name)?;
    if small {
        let shrink = SMALL_POPULATION.iter().map(|o| Override::parse(o)).collect::<Result<Vec<_>>>()?;
        scenario = overrides::apply(&scenario, &shrink)?;
    }
    if let Some(months) = months {
        scenario.months = months;
    }
    Ok(scenario)
}

/// The last month's value of the first of `keys` the series has (a population count), if any.
fn final_count(series: &Series, keys: &[&str]) -> Option<i128> {
    keys.iter().find_map(|key| series.values_of(key)?.last().copied())
}

/// The sizes a run played: months, nodes and users at the end, commands.
fn run_sizes(prefix: &str, output: &RunOutput, figures: &mut Map<String, Value>) {
    let series = &output.series;
    figures.insert(format!("{prefix}_months"), json!(series.months.len()));
    figures.insert(format!("{prefix}_nodes"), json!(final_count(series, &["nodes", "nodes_online"])));
    figures.insert(format!("{prefix}_users"), json!(final_count(series, &["users", "users_active"])));
}

/// `count / seconds`, rounded to a whole number.
fn per_s(count: u64, seconds: f64) -> u64 {
    (count as f64 / seconds.max(1e-9)).round() as u64
}

/// Plays and times both parts: the whole report, `{build, quick, suite, ok, sim: {...}, targets, machine,
/// total_wall_s}`. `threads` is the Monte Carlo pool's size; `progress` hears each part. Errors: a
/// missing built-in scenario, a failed run.
pub fn bench_sim(quick: bool, threads: usize, progress: &mut dyn FnMut(&str)) -> Result<Value> {
    let started = Instant::now();
    let load_before = load_average();
    let sizes = SimBenchSizes::new(quick);
    let mut sim = Map::new();
    let large = scenario(LARGE_SCENARIO, sizes.large_months, sizes.small_population)?;
    let timer = Instant::now();
    let output = run(&large, SEED, &mut |_| {})?;
    let large_s = timer.elapsed().as_secs_f64();
    progress("one large run");
    sim.insert("large_scenario".into(), json!(LARGE_SCENARIO));
    sim.insert("large_run_s".into(), json!(round3(large_s)));
    run_sizes("large", &output, &mut sim);
    sim.insert("large_commands".into(), json!(output.commands));
    sim.insert("large_months_per_s".into(), json!(round3(f64::from(large.months) / large_s.max(1e-9))));
    sim.insert("large_commands_per_s".into(), json!(per_s(output.commands, large_s)));
    sim.insert("large_state_hash".into(), json!(output.state_hash));
    drop(output);
    let mc = scenario(MONTE_CARLO_SCENARIO, sizes.monte_carlo_months, sizes.small_population)?;
    let runs = sizes.monte_carlo_runs;
    let timer = Instant::now();
    let study = monte_carlo::study(&mc, runs, SEED, None, Some(threads), &|_| {})?;
    let mc_s = timer.elapsed().as_secs_f64();
    progress("Monte Carlo runs");
    let outputs = &study.arms[0].runs;
    let commands: u64 = outputs.iter().map(|r| r.commands).sum();
    sim.insert("monte_carlo_scenario".into(), json!(MONTE_CARLO_SCENARIO));
    sim.insert("monte_carlo_100_runs_s".into(), json!(round3(mc_s)));
    sim.insert("monte_carlo_runs".into(), json!(runs));
    sim.insert("monte_carlo_threads".into(), json!(threads));
    run_sizes("monte_carlo", &outputs[0], &mut sim);
    sim.insert("monte_carlo_commands".into(), json!(commands));
    let months = u64::from(mc.months) * u64::from(runs);
    sim.insert("monte_carlo_months_per_s".into(), json!(round3(months as f64 / mc_s.max(1e-9))));
    sim.insert("monte_carlo_commands_per_s".into(), json!(per_s(commands, mc_s)));
    let met = |seconds: f64, target: f64| sizes.full().then_some(seconds <= target);
    let targets = json!({
        "large_run_s": { "target": LARGE_TARGET_S, "met": met(large_s, LARGE_TARGET_S) },
        "monte_carlo_100_runs_s": { "target": MONTE_CARLO_TARGET_S, "met": met(mc_s, MONTE_CARLO_TARGET_S) },
    });
    Ok(json!({
        "build": build_kind(),
        "quick": quick,
        "suite": "sim",
        "ok": true,
        "full_size": sizes.full(),
        "small_population": sizes.small_population,
        "sim": Value::Object(sim),
        "targets": targets,
        "machine": machine(load_before),
        "total_wall_s": round3(started.elapsed().as_secs_f64()),
    }))
}

/// The report as a short table.
pub fn sim_text(report: &Value) -> String {
    let s = &report["sim"];
    let f = |field: &str| s[field].as_f64().unwrap_or(f64::NAN);
    let size = match (report["full_size"] == true, report["small_population"] == true) {
        (true, _) => "full size",
        (false, true) => "shrunk: a debug build plays a few dozen users and nodes",
        (false, false) => "shrunk: --quick",
    };
    format!(
        "sim ({} build, {size})\n  \
         one run of {}: {} months, {} nodes, {} users: {:.3} s (target < 60 s at 60 months); \
         {:.1} months/s, {} commands/s\n  \
         {} Monte Carlo runs of {} on {} threads ({} months, {} nodes each): {:.3} s (target < 120 s for 100 \
         runs); {:.1} months/s, {} commands/s",
        report["build"].as_str().unwrap_or("?"),
        s["large_scenario"].as_str().unwrap_or("?"),
        s["large_months"],
        s["large_nodes"],
        s["large_users"],
        f("large_run_s"),
        f("large_months_per_s"),
        s["large_commands_per_s"],
        s["monte_carlo_runs"],
        s["monte_carlo_scenario"].as_str().unwrap_or("?"),
        s["monte_carlo_threads"],
        s["monte_carlo_months"],
        s["monte_carlo_nodes"],
        f("monte_carlo_100_runs_s"),
        f("monte_carlo_months_per_s"),
        s["monte_carlo_commands_per_s"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_release_build_without_quick_plays_full_size() {
        let full = SimBenchSizes::new(false);
        assert_eq!(full.full(), !cfg!(debug_assertions));
        let quick = SimBenchSizes::new(true);
        assert!(!quick.full());
        assert!(quick.monte_carlo_runs >= 2 && quick.large_months.is_some_and(|m| m <= 3));
    }

    #[test]
    fn the_text_names_every_figure() {
        let report = json!({
            "build": "release", "full_size": true,
            "sim": {
                "large_scenario": "bench-large", "large_months": 60, "large_nodes": 10000, "large_users": 100000,
                "large_run_s": 41.5, "large_months_per_s": 1.4, "large_commands_per_s": 123456,
                "monte_carlo_runs": 100, "monte_carlo_scenario": "bench-mc", "monte_carlo_threads": 2,
                "monte_carlo_months": 60, "monte_carlo_nodes": 1000, "monte_carlo_100_runs_s": 99.25,
                "monte_carlo_months_per_s": 60.4, "monte_carlo_commands_per_s": 654321,
            }
        });
        let text = sim_text(&report);
        for expected in
            ["41.500 s", "10000 nodes", "100000 users", "99.250 s", "654321 commands/s", "full size"]
        {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }
}
