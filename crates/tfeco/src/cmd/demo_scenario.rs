//! `tfeco demo --scenario NAME`: the demo as a short scenario of the economy simulator, driven through a
//! node. A new data directory is opened with the scenario's genesis (its operator and guardians are the
//! simulator's public synthetic keys) on a manual clock and served; the scenario runs in process and every
//! command it applied is signed and submitted to the node, whose answers and final state hash must be the
//! core's ([`tfeco_sim::economy::through_node`]). Exit 2 when they differ.

use std::process::ExitCode;

use serde::Serialize;
use tfeco_server::{ClockMode, ServerConfig};
use tfeco_sim::economy::{through_node, Scenario};

use super::demo::DemoArgs;
use crate::render;

/// What `tfeco demo --scenario` prints.
#[derive(Serialize)]
struct ScenarioDemo {
    scenario: String,
    seed: u64,
    months: u32,
    url: String,
    commands_accepted: u64,
    commands_refused: u64,
    state_hash: String,
    node_state_hash: String,
    /// The last month's value of every column of the run's series (exact decimals).
    last_month: Vec<(String, String)>,
}

/// Runs `tfeco demo --scenario NAME`.
pub(crate) async fn run(args: DemoArgs, name: &str) -> anyhow::Result<ExitCode> {
    let scenario = super::sim::load_scenario(name)?;
    let genesis = through_node::node_genesis(&scenario)?;
    let (replica, report, _) = super::serve::open(
        &args.data_dir,
        &args.journal.clone().unwrap_or_default(),
        Default::default(),
        scenario.start,
        through_node::operator_key,
        |params| *params = genesis.params.clone(),
    )?;
    anyhow::ensure!(
        report.entries == 0,
        "{} already holds a journal: a scenario plays on a new data directory",
        args.data_dir.display()
    );
    let default_listen = if args.no_serve { "127.0.0.1:0" } else { "127.0.0.1:8080" };
    let listener = super::serve::bind(args.listen.as_deref().unwrap_or(default_listen)).await?;
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let checkpoints = tfeco_server::checkpoints::open_checked(&args.data_dir, &replica)?;
    let server = tfeco_server::start_with_checkpoints(replica, Some(checkpoints), listener, config).await?;
    let url = format!("http://{}", server.addr);
    if !args.json {
        eprintln!("playing scenario {} (seed {}) through the node on {url} ...", scenario.name, args.seed);
    }
    let outcome = if args.no_play { None } else { Some(play(&url, &scenario, args.seed, args.json).await) };
    if let Some(Err(error)) = &outcome {
        eprintln!("error: {error:#}");
    }
    if args.no_serve {
        server.stop().await?;
    } else {
        eprintln!("\nserving on {url}: explore with e.g. `curl {url}/v1/supply`; Ctrl-C to stop.");
        server.run_until_stopped().await?;
    }
    Ok(match outcome {
        Some(Err(_)) => ExitCode::from(2),
        _ => ExitCode::SUCCESS,
    })
}

/// Plays `scenario` with `seed` through the node at `url` (fresh, at the scenario's genesis) and prints what
/// happened (one JSON object with `json`). Errors: the node unreachable or answering differently from the core.
pub(crate) async fn play(url: &str, scenario: &Scenario, seed: u64, json: bool) -> anyhow::Result<()> {
    let quiet = json;
    let mut progress = |p: tfeco_sim::economy::Progress| {
        if !quiet {
            eprintln!("  month {}/{} simulated", p.month, p.months);
        }
    };
    let run = through_node::play(url, scenario, seed, &mut progress).await?;
    let series = &run.output.series;
    let last_month = match series.months.last() {
        Some(last) => series
            .columns
            .iter()
            .zip(&last.values)
            .map(|(column, value)| (column.key.clone(), decimal(*value, column.decimals)))
            .collect(),
        None => Vec::new(),
    };
    let view = ScenarioDemo {
        scenario: scenario.name.clone(),
        seed,
        months: scenario.months,
        url: url.to_owned(),
        commands_accepted: run.accepted,
        commands_refused: run.refused,
        state_hash: run.output.state_hash.clone(),
        node_state_hash: run.node_state_hash.clone(),
        last_month,
    };
    render::view(json, &view, human)
}

/// `value / 10^decimals` as an exact decimal.
fn decimal(value: i128, decimals: u32) -> String {
    tfeco_sim::economy::output::decimal(value, decimals)
}

fn human(view: &ScenarioDemo) -> String {
    let mut out = format!(
        "scenario {} (seed {}, {} months) through the node at {}\n\
         commands: {} accepted, {} refused, each answered as the in-process core answered\n\
         state hash: {} (node and core agree)\n\nlast month:\n",
        view.scenario,
        view.seed,
        view.months,
        view.url,
        view.commands_accepted,
        view.commands_refused,
        view.node_state_hash
    );
    for (key, value) in &view.last_month {
        out.push_str(&format!("  {key:<40} {value}\n"));
    }
    out
}
