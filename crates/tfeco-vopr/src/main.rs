//! The `tfeco-vopr` command: runs the deterministic simulator for one seed (`--seed S`) or a range of
//! seeds (`--seeds A..B`, in parallel, each seed on one thread) and prints what it found; exit status 1
//! when any run broke a guarantee, after printing the shortest reproduction found.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Parser;
use rayon::prelude::*;
use tfeco_vopr::disk::FaultRates;
use tfeco_vopr::{run, shrink::shrink, Config, Report};

/// Deterministic simulation of the tfeco node: crashes, power loss, torn writes, bit flips and failed
/// I/O against the real journal and commit path, checked against a reference model.
#[derive(Parser, Debug)]
#[command(name = "tfeco-vopr", version)]
struct Args {
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run the seeds `A..B` (B excluded), in parallel.
    #[arg(long, value_parser = parse_range)]
    seeds: Option<(u64, u64)>,
    /// Commands per seed.
    #[arg(long, default_value_t = 10_000)]
    commands: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Run without any fault (a healthy disk).
    #[arg(long, conflicts_with = "rates")]
    no_faults: bool,
    /// Fault rates as JSON (parts per million, the fields of `FaultRates`), instead of the seed's own:
    /// what a shrunk reproduction prints.
    #[arg(long, value_parser = parse_rates)]
    rates: Option<FaultRates>,
    /// Measure speed: run the seeds one after another on one thread and add the wall time and the
    /// commands simulated per second per core to the summary (the only output that differs between runs).
    #[arg(long, requires = "seeds")]
    bench: bool,
}

fn parse_rates(text: &str) -> Result<FaultRates, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text.split_once("..").ok_or("expected A..B")?;
    let a: u64 = a.parse().map_err(|e| format!("{a}: {e}"))?;
    let b: u64 = b.parse().map_err(|e| format!("{b}: {e}"))?;
    if b <= a {
        return Err("the range is empty".into());
    }
    Ok((a, b))
}

/// The totals of a range of seeds.
#[derive(Default, serde::Serialize)]
struct Summary {
    seeds: u64,
    commands: u64,
    acknowledged: u64,
    crashes: u64,
    restarts: u64,
    refusals: u64,
    faults: BTreeMap<String, u64>,
    recoveries: BTreeMap<String, u64>,
    leases: BTreeMap<String, u64>,
    /// Seeds that played the scenario of every command kind, and how many times they played it whole.
    scenario_seeds: u64,
    scenario_rounds: u64,
    violations: u64,
    failing_seeds: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bench: Option<Bench>,
}

/// Speed of a `--bench` run: one thread, seeds one after another.
#[derive(serde::Serialize)]
struct Bench {
    threads: u32,
    wall_s: f64,
    commands_per_s_per_core: u64,
}

/// Runs the seeds `a..b`: in parallel, or (`bench`) on one thread, timed.
fn run_seeds(args: &Args, (a, b): (u64, u64)) -> (Vec<Report>, Option<Bench>) {
    let seeds = || (a..b).into_par_iter().map(|seed| run(&config(args, seed))).collect::<Vec<_>>();
    if !args.bench {
        return (seeds(), None);
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    let start = std::time::Instant::now();
    let reports = pool.install(seeds);
    let wall_s = start.elapsed().as_secs_f64();
    let commands: u64 = reports.iter().map(|r| r.commands).sum();
    let rate = (commands as f64 / wall_s.max(1e-9)) as u64;
    (reports, Some(Bench { threads: 1, wall_s, commands_per_s_per_core: rate }))
}

/// Writes a line to stdout (a closed pipe is not an error worth a panic).
fn out(line: String) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn config(args: &Args, seed: u64) -> Config {
    Config {
        seed,
        commands: args.commands,
        rates: if args.no_faults { Some(FaultRates::NONE) } else { args.rates },
        mutate_model: None,
        trace: std::env::var_os("VOPR_TRACE").is_some(),
    }
}

fn print_report(report: &Report, json: bool) {
    if json {
        out(serde_json::to_string_pretty(report).expect("a report encodes"));
    } else {
        out(format!(
            "seed {}: {} commands, {} acknowledged, {} crashes, {} restarts, {} refusals, faults {:?}, {} violations, state {}",
            report.seed,
            report.commands,
            report.acknowledged,
            report.crashes,
            report.restarts,
            report.refusals,
            report.faults,
            report.violations.len(),
            report.state_hash
        ));
        for violation in &report.violations {
            out(format!("  violation: {violation}"));
        }
    }
    for line in &report.trace {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// Prints the shortest reproduction of a failing seed.
fn print_shrunk(config: &Config) {
    if let Some((small, _)) = shrink(config) {
        let rates = serde_json::to_string(&small.rates).expect("rates encode");
        out(format!(
            "shortest reproduction: tfeco-vopr --seed {} --commands {} --rates '{rates}'",
            small.seed, small.commands
        ));
        let report = run(&Config { trace: true, ..small });
        out("its history (batches, outcomes, storage failures, restarts):".to_owned());
        for line in &report.trace {
            out(format!("  {line}"));
        }
        for violation in &report.violations {
            out(format!("  violation: {violation}"));
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some((a, b)) = args.seeds {
        let (reports, bench) = run_seeds(&args, (a, b));
        let mut summary = Summary { bench, ..Summary::default() };
        for report in &reports {
            summary.seeds += 1;
            summary.commands += report.commands;
            summary.acknowledged += report.acknowledged;
            summary.crashes += report.crashes;
            summary.restarts += report.restarts;
            summary.refusals += report.refusals;
            for (totals, counts) in [
                (&mut summary.faults, &report.faults),
                (&mut summary.recoveries, &report.recoveries),
                (&mut summary.leases, &report.leases),
            ] {
                for (kind, n) in counts {
                    *totals.entry(kind.clone()).or_insert(0) += n;
                }
            }
            if report.scenario.is_some() {
                summary.scenario_seeds += 1;
                summary.scenario_rounds += u64::from(report.rounds);
            }
            summary.violations += report.violations.len() as u64;
            if !report.violations.is_empty() {
                summary.failing_seeds.push(report.seed);
            }
        }
        out(serde_json::to_string_pretty(&summary).expect("a summary encodes"));
        for report in reports.iter().filter(|r| !r.violations.is_empty()) {
            print_report(report, false);
            print_shrunk(&config(&args, report.seed));
        }
        return if summary.violations == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    let seed = args.seed.unwrap_or(0);
    let report = run(&config(&args, seed));
    print_report(&report, args.json);
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        print_shrunk(&config(&args, seed));
        ExitCode::FAILURE
    }
}
