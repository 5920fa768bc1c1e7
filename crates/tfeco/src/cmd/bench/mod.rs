//! `tfeco bench`: the performance report. The workloads, their measurement and the reports live in
//! `tfeco_sim::bench`; this module wires what the simulator may not depend on: the journal (durable appends
//! and replay of the simulator's signed corpus, [`storage`]) and a real server for the HTTP load
//! ([`server`]).
//!
//! `--suite foundation` (the default): core apply of transfers, journal appends in batches of 1, 100 and
//! 1,000, replay (with a breakdown), HTTP signed requests against an in-process node, micro figures. `--suite
//! market`: the exit auction, capacity, minting and the exchange at scale. `--suite restart`: a node's
//! start on a 1,000,000-entry journal from its newest snapshot and from the genesis ([`restart`]). `--suite
//! compare`: the same transfer load on the node with SQLite, the node with PostgreSQL and PostgreSQL as a
//! plain ledger ([`compare`]; `--postgres URL`, else a temporary server). `--suite
//! scale`: one billing `Tick` over 1,000,000 open leases, memory per account and per lease, the snapshot
//! and the restart from it ([`scale`]). `--suite sim`: the economy simulator, one large run and 100 Monte
//! Carlo runs (`tfeco_sim::bench::sim`). `--suite
//! all`: foundation and market (the JSON report then carries the market figures in an object `market`). Temporary data goes to the system temp
//! directory (`TMPDIR` to move it: it must be a real disk for the fsync figures to mean anything). Exit 1
//! when a request was refused or the journal does not hold exactly the accepted requests.

mod compare;
mod pg;
mod restart;
mod scale;
mod server;
mod storage;

use std::process::ExitCode;
use std::time::Instant;

use serde_json::{json, Value};
use tfeco_sim::bench::foundation::{self, Foundation, FoundationRun, Sizes};
use tfeco_sim::bench::workload::{build_corpus, Signers, GENESIS_TIME};
use tfeco_sim::bench::{market, measure, report};

use crate::render;

/// Arguments of `tfeco bench`.
#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Smaller workloads (seconds instead of a minute).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Which measurements: `foundation` (core, journal, replay, HTTP), `market` (exit auction, capacity,
    /// minting, exchange), `all`, `restart`, `compare` (node on SQLite and PostgreSQL against a plain PostgreSQL
    /// ledger), `scale` (1,000,000 accounts and leases: tick, memory, snapshot) or `sim` (the economy
    /// simulator: one large run, 100 Monte Carlo runs).
    #[arg(long, value_enum, default_value_t = Suite::Foundation)]
    suite: Suite,
    /// `--suite compare`: an empty PostgreSQL database the bench may use (`postgres://USER@HOST:PORT/DB`; it
    /// gets the node's journal and the plain ledger's tables). Without it a temporary server is started.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
}

/// The benchmark suites of `tfeco bench --suite`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Suite {
    /// Core apply, journal, replay, HTTP, micro (the default).
    Foundation,
    /// Exit auction, capacity requests, minting, exchange at scale.
    Market,
    /// Foundation and market.
    All,
    /// A node's restart on a 1,000,000-entry journal, from a snapshot and from the genesis.
    Restart,
    /// The same transfer load against the node on SQLite, the node on PostgreSQL and PostgreSQL as a plain
    /// ledger, side by side.
    Compare,
    /// 1,000,000 accounts and open hourly leases: one billing `Tick`, memory per account and per lease,
    /// the snapshot and the restart from it.
    Scale,
    /// The economy simulator: one run of `bench-large` (60 months, 10,000 nodes, 100,000 users) and 100
    /// Monte Carlo runs of `bench-mc` (1,000 nodes) on all cores.
    Sim,
}

const DEBUG_WARNING: &str = "warning: debug build: the core checks every invariant after each command and \
                             workloads are shrunk; build with --release for meaningful figures";

/// Runs `tfeco bench`.
pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        eprintln!("{DEBUG_WARNING}");
    }
    if args.suite == Suite::Restart {
        return run_restart(&args).await;
    }
    if args.suite == Suite::Compare {
        return run_compare(args).await;
    }
    if args.suite == Suite::Scale {
        return run_scale(&args).await;
    }
    if args.suite == Suite::Sim {
        return run_sim(&args).await;
    }
    let foundation = match args.suite {
        Suite::Foundation | Suite::All => Some(run_foundation(&args).await?),
        Suite::Market | Suite::Restart | Suite::Compare | Suite::Scale | Suite::Sim => None,
    };
    let market = match args.suite {
        Suite::Market | Suite::All => Some(run_market(&args).await?),
        Suite::Foundation | Suite::Restart | Suite::Compare | Suite::Scale | Suite::Sim => None,
    };
    let ok = foundation.as_ref().is_none_or(|f| f.ok) && market.as_ref().is_none_or(|m| m["ok"] == true);
    let text = match (foundation, market) {
        (Some(f), None) if args.json => f.report.to_string(),
        (Some(f), None) => report::foundation_table(&f.report, &f.figures),
        (None, Some(m)) if args.json => m.to_string(),
        (None, Some(m)) => report::market_report_text(&m),
        (Some(mut f), Some(m)) => {
            for (field, from) in
                [("market", "market"), ("market_machine", "machine"), ("market_wall_s", "total_wall_s")]
            {
                f.report[field] = m[from].clone();
            }
            f.report["suite"] = json!("all");
            f.report["ok"] = json!(ok);
            if args.json {
                f.report.to_string()
            } else {
                report::foundation_table(&f.report, &f.figures) + &report::market_report_text(&m)
            }
        }
        (None, None) => String::new(),
    };
    render::emit_line(&text)?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The restart suite: its JSON object, or a short table.
async fn run_restart(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let (quick, threads) = (args.quick, std::thread::available_parallelism().map_or(1, |n| n.get()));
    if !args.json {
        eprintln!("tfeco bench --suite restart: building the journal and timing restarts...");
    }
    let report = tokio::task::spawn_blocking(move || restart::bench_restart(quick, threads)).await??;
    let ok = report["ok"] == true;
    let text = if args.json {
        report.to_string()
    } else {
        format!(
            "restart on a journal of {} entries ({} accounts)\n  from the snapshot at {} ({} bytes, written in \
             {:.0} ms) + {} tail entries: {:.0} ms (target < 1000 ms)\n  from the genesis (full replay): {:.0} ms",
            report["entries"],
            report["accounts"],
            report["snapshot_seq"],
            report["snapshot_bytes"],
            report["snapshot_write_ms"].as_f64().unwrap_or_default(),
            report["tail_entries"],
            report["restart_from_snapshot_ms"].as_f64().unwrap_or_default(),
            report["restart_full_replay_ms"].as_f64().unwrap_or_default(),
        )
    };
    render::emit_line(&text)?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The compare suite: its JSON object, or a short table.
async fn run_compare(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if !args.json {
        eprintln!(
            "tfeco bench --suite compare: node on SQLite, node on PostgreSQL, PostgreSQL as a plain ledger"
        );
    }
    let report = compare::bench_compare(args.quick, args.postgres, !args.json).await?;
    let ok = report["ok"] == true;
    render::emit_line(&if args.json { report.to_string() } else { compare::text(&report) })?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The scale suite: its JSON object, or a short table.
async fn run_scale(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let (quick, progress) = (args.quick, !args.json);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if progress {
        eprintln!("tfeco bench --suite scale: building the accounts and leases, timing the tick and the snapshot...");
    }
    let report = tokio::task::spawn_blocking(move || {
        let mut say = |step: &str| {
            if progress {
                eprintln!("  {step}: done");
            }
        };
        scale::bench_scale(quick, threads, &mut say)
    })
    .await??;
    let text = if args.json { report.to_string() } else { scale::scale_text(&report) };
    render::emit_line(&text)?;
    Ok(if report["ok"] == true { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The sim suite: its JSON object, or a short table.
async fn run_sim(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let (quick, progress) = (args.quick, !args.json);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if progress {
        eprintln!(
            "tfeco bench --suite sim: one large run, then the Monte Carlo runs on {threads} threads..."
        );
    }
    let report = tokio::task::spawn_blocking(move || {
        let mut say = |step: &str| {
            if progress {
                eprintln!("  {step}: done");
            }
        };
        tfeco_sim::bench::sim::bench_sim(quick, threads, &mut say)
    })
    .await??;
    let text = if args.json { report.to_string() } else { tfeco_sim::bench::sim::sim_text(&report) };
    render::emit_line(&text)?;
    Ok(if report["ok"] == true { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The market suite's report, on a blocking thread.
async fn run_market(args: &BenchArgs) -> anyhow::Result<Value> {
    let progress = !args.json;
    if progress {
        let quick = if args.quick { " --quick" } else { "" };
        eprintln!(
            "tfeco bench{quick} --suite market: running (exit auction, capacity, exchange, minting)..."
        );
    }
    let quick = args.quick;
    let report = tokio::task::spawn_blocking(move || {
        let mut say = |step: &str| {
            if progress {
                eprintln!("  {step}: done");
            }
        };
        market::market_report(quick, &mut say)
    })
    .await??;
    Ok(report)
}

/// The offline part of the foundation suite: core, micro, corpus, journal and replay.
struct Offline {
    core: (f64, measure::Span),
    micro: foundation::Micro,
    corpus_build_s: f64,
    journal: [foundation::JournalFigure; 3],
    replay: foundation::ReplayFigure,
}

fn run_offline(sizes: Sizes, threads: usize) -> anyhow::Result<Offline> {
    let signers = Signers::new(sizes.accounts);
    let genesis = tfeco_core::Genesis::tfgrid4_2025(signers.operator(), GENESIS_TIME);
    let micro = foundation::micro(&signers, sizes.micro_iterations)?;
    let core = foundation::bench_core(&genesis, &signers, sizes.core_transfers)?;
    let built = Instant::now();
    let corpus = build_corpus(&genesis, &signers, sizes.replay_entries, threads)?;
    let corpus_build_s = built.elapsed().as_secs_f64();
    let (entries, expected_hash) = storage::journal_entries(corpus);
    let journal = storage::bench_journal(&entries, sizes)?;
    let replay = storage::bench_replay(&genesis, entries, &expected_hash)?;
    Ok(Offline { core, micro, corpus_build_s, journal, replay })
}

async fn run_foundation(args: &BenchArgs) -> anyhow::Result<Foundation> {
    let started = Instant::now();
    let sizes = Sizes::new(args.quick);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !args.json {
        let quick = if args.quick { " --quick" } else { "" };
        eprintln!("tfeco bench{quick}: running (core, journal, replay, http)...");
    }
    let load_before = measure::load_average();
    let offline = tokio::task::spawn_blocking(move || run_offline(sizes, threads)).await??;
    let (http, http_journal) = server::bench_http(sizes, threads).await?;
    let run = FoundationRun {
        quick: args.quick,
        sizes,
        threads,
        load_before,
        core: offline.core,
        journal: offline.journal,
        replay: offline.replay,
        corpus_build_s: offline.corpus_build_s,
        micro: offline.micro,
        http: &http,
        http_journal,
        total_wall_s: started.elapsed().as_secs_f64(),
    };
    Ok(run.report())
}
