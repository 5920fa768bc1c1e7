//! Plays one run of a built-in scenario in process and reports its time and refusals, for measuring the
//! simulator's speed (`tfeco bench` has the benchmark proper) and for inspecting a run's series:
//!
//! ```text
//! cargo run --release -p tfeco-sim --example sim_run -- bench-large [MONTHS] [--series]
//! ```
//!
//! Prints each month's elapsed time on stderr, then the run's months, commands, wall time and refusals, and
//! with `--series` every column's monthly values.

use std::time::Instant;

use tfeco_sim::economy::{run, Scenario};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("bench-mc", String::as_str);
    let mut scenario = Scenario::builtin(name)?;
    if let Some(months) = args.get(1).and_then(|m| m.parse().ok()) {
        scenario.months = months;
    }
    let started = Instant::now();
    let output = run(&scenario, 1, &mut |p| {
        eprintln!("month {} of {}: {:.1} s", p.month, p.months, started.elapsed().as_secs_f64());
    })?;
    let seconds = started.elapsed().as_secs_f64();
    if args.iter().any(|a| a == "--series") {
        for (i, column) in output.series.columns.iter().enumerate() {
            let values: Vec<String> = output.series.months.iter().map(|m| m.values[i].to_string()).collect();
            println!("{:44} {}", column.key, values.join(" "));
        }
    }
    println!(
        "{name}: {} months, {} commands in {seconds:.2} s; refusals {:?}",
        scenario.months, output.commands, output.rejections
    );
    Ok(())
}
