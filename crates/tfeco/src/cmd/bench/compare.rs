//! `tfeco bench --suite compare`: the same signed-transfer HTTP load (same clients, same request count) against
//! a fresh node with its journal in SQLite and against one with its journal in PostgreSQL, then the same
//! number of transfers by the same number of clients against PostgreSQL used as a plain ledger ([`pg`]: per
//! transfer one durable transaction of two balance updates and a journal insert), side by side with the
//! ratios node / plain. PostgreSQL is the empty database given by `--postgres URL` (the node's journal and
//! the plain ledger's tables then share it), or else a temporary server started for the run
//! (`tfeco_journal::temp_postgres`, one database each).

use serde_json::{json, Value};
use tfeco_journal::temp_postgres::TempPostgres;
use tfeco_server::datadir::JournalLocation;
use tfeco_sim::bench::measure;

use super::pg::{self, PlainRun};
use super::server::{run_node_load, NodeRun};

/// Clients and transfers of the compare suite: the foundation's HTTP load (64 clients; 20,000 requests, 5,000
/// with `--quick`), shrunk in debug builds (every apply there re-checks every invariant).
fn sizes(quick: bool) -> (usize, usize) {
    match (cfg!(debug_assertions), quick) {
        (false, false) => (64, 20_000),
        (false, true) => (64, 5_000),
        (true, false) => (8, 1_000),
        (true, true) => (4, 200),
    }
}

/// Where the PostgreSQL runs go: the node's journal database and the plain ledger's, and the temporary
/// server holding them (stopped on drop) when none was given.
struct Databases {
    node: String,
    plain: String,
    _server: Option<TempPostgres>,
}

fn databases(given: Option<String>) -> anyhow::Result<Databases> {
    if let Some(url) = given {
        return Ok(Databases { node: url.clone(), plain: url, _server: None });
    }
    let server = TempPostgres::start()?;
    let (node, plain) = (server.create_database()?, server.create_database()?);
    Ok(Databases { node, plain, _server: Some(server) })
}

/// Runs the three loads and returns the report (`ok` false when a request failed or a journal does not
/// hold exactly the accepted transfers).
pub(super) async fn bench_compare(
    quick: bool,
    postgres: Option<String>,
    progress: bool,
) -> anyhow::Result<Value> {
    let (clients, requests) = sizes(quick);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = measure::load_average();
    let say = |step: &str| {
        if progress {
            eprintln!("  {step}");
        }
    };
    let given = postgres.is_some();
    say(if given { "PostgreSQL: the given database" } else { "PostgreSQL: starting a temporary server" });
    let dbs = tokio::task::spawn_blocking(move || databases(postgres)).await??;
    say("node on SQLite...");
    let sqlite = run_node_load(&JournalLocation::DataDir, clients, requests, threads).await?;
    say("node on PostgreSQL...");
    let node_pg =
        run_node_load(&JournalLocation::Postgres(dbs.node.clone()), clients, requests, threads).await?;
    say("PostgreSQL as a plain ledger...");
    let plain_url = dbs.plain.clone();
    let plain =
        tokio::task::spawn_blocking(move || pg::bench_plain_ledger(&plain_url, clients, requests)).await??;
    drop(dbs);
    let mut report = report(&sqlite, &node_pg, &plain);
    report["quick"] = json!(quick);
    report["clients"] = json!(clients);
    report["requests"] = json!(requests);
    report["postgres"] = json!(if given { "given" } else { "temporary" });
    report["machine"] = measure::machine(load_before);
    Ok(report)
}

/// A node run's details: accepted, failures, whether its journal holds exactly them.
fn node_details(run: &NodeRun) -> Value {
    json!({
        "accepted": run.http.accepted,
        "errors": run.http.errors,
        "error_codes": run.http.error_codes,
        "first_errors": run.http.first_errors,
        "elapsed_s": run.http.elapsed_s,
        "latency_ms_max": run.http.max_ms,
        "journal_head": run.journal_head,
        "journal_ok": run.journal_ok(),
    })
}

fn report(sqlite: &NodeRun, node_pg: &NodeRun, plain: &PlainRun) -> Value {
    let ratio = |node: f64| measure::round3(node / plain.transfers_per_s.max(1e-9));
    let ok = [sqlite, node_pg].iter().all(|r| r.http.errors == 0 && r.journal_ok())
        && plain.errors.is_empty()
        && plain.journal_ok;
    json!({
        "suite": "compare",
        "build": measure::build_kind(),
        "ok": ok,
        "compare": {
            "node_sqlite_per_s": measure::round_rate(sqlite.http.requests_per_s),
            "node_postgres_per_s": measure::round_rate(node_pg.http.requests_per_s),
            "postgres_plain_ledger_per_s": measure::round_rate(plain.transfers_per_s),
            "node_sqlite_latency_ms_p50": sqlite.http.p50_ms,
            "node_sqlite_latency_ms_p99": sqlite.http.p99_ms,
            "node_postgres_latency_ms_p50": node_pg.http.p50_ms,
            "node_postgres_latency_ms_p99": node_pg.http.p99_ms,
            "postgres_plain_ledger_latency_ms_p50": plain.latency.p50_ms,
            "postgres_plain_ledger_latency_ms_p99": plain.latency.p99_ms,
            "node_sqlite_over_plain": ratio(sqlite.http.requests_per_s),
            "node_postgres_over_plain": ratio(node_pg.http.requests_per_s),
        },
        "node_sqlite": node_details(sqlite),
        "node_postgres": node_details(node_pg),
        "postgres_plain_ledger": plain.details(),
    })
}

/// The report as a short table.
pub(super) fn text(report: &Value) -> String {
    let c = &report["compare"];
    let row = |name: &str, key: &str| {
        format!(
            "  {name:<30} {:>8}/s   p50 {:>8} ms   p99 {:>8} ms\n",
            c[format!("{key}_per_s")],
            c[format!("{key}_latency_ms_p50")],
            c[format!("{key}_latency_ms_p99")],
        )
    };
    format!(
        "side by side: {} transfers by {} clients ({} build, PostgreSQL {})\n{}{}{}  node on SQLite / plain \
         ledger: {}\n  node on PostgreSQL / plain ledger: {}\n  ok: {}",
        report["requests"],
        report["clients"],
        report["build"].as_str().unwrap_or_default(),
        report["postgres"].as_str().unwrap_or_default(),
        row("node, journal in SQLite", "node_sqlite"),
        row("node, journal in PostgreSQL", "node_postgres"),
        row("PostgreSQL as a plain ledger", "postgres_plain_ledger"),
        c["node_sqlite_over_plain"],
        c["node_postgres_over_plain"],
        report["ok"],
    )
}
