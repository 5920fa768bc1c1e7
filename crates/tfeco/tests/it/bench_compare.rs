//! `tfeco bench --suite compare` (issue 13): the same transfer load on the node with SQLite, the node with
//! PostgreSQL and PostgreSQL as a plain ledger, in one run. The quick debug workload is 200 transfers by 4
//! clients. Without `--postgres` the bench starts its own temporary server; with `--postgres URL` the
//! database afterwards holds exactly the node's journal (setup and accepted transfers) and the plain
//! ledger's accepted transfers, and a second run on the same database is refused (it holds a journal).

use serde_json::Value;

use crate::support::run_cli;

/// The quick debug workload (`tfeco bench --suite compare --quick` in a debug build).
const CLIENTS: u64 = 4;
const REQUESTS: u64 = 200;

/// The three rates are positive numbers, every run accepted every transfer and each journal holds exactly
/// them (the node's: 2 setup entries per client, registration and deposit, then the transfers).
fn check_report(report: &Value) {
    assert_eq!(report["suite"], "compare", "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!((report["clients"].as_u64(), report["requests"].as_u64()), (Some(CLIENTS), Some(REQUESTS)));
    let compare = &report["compare"];
    for field in ["node_sqlite_per_s", "node_postgres_per_s", "postgres_plain_ledger_per_s"] {
        let rate =
            compare[field].as_f64().unwrap_or_else(|| panic!("compare.{field} is not a number: {report}"));
        assert!(rate > 0.0, "compare.{field} = {rate}");
    }
    for field in ["node_sqlite_over_plain", "node_postgres_over_plain"] {
        assert!(compare[field].as_f64().is_some_and(|r| r > 0.0), "compare.{field}: {report}");
    }
    for node in ["node_sqlite", "node_postgres"] {
        let run = &report[node];
        assert_eq!((run["accepted"].as_u64(), run["errors"].as_u64()), (Some(REQUESTS), Some(0)), "{run}");
        assert_eq!(run["journal_head"].as_u64(), Some(2 * CLIENTS + REQUESTS), "{node}: {run}");
        assert_eq!(run["journal_ok"], true, "{run}");
    }
    let plain = &report["postgres_plain_ledger"];
    assert_eq!((plain["accepted"].as_u64(), plain["errors"].as_u64()), (Some(REQUESTS), Some(0)), "{plain}");
    assert_eq!(plain["journal_ok"], true, "{plain}");
}

#[tokio::test]
async fn compare_runs_the_same_load_on_both_nodes_and_the_plain_ledger_with_a_temporary_server() {
    // Installs PostgreSQL when missing (as root), which the bench's temporary server needs.
    let _ = tfeco_testkit::postgres::shared();
    let run = run_cli(&["bench", "--suite", "compare", "--quick", "--json"], &[]).await;
    check_report(&run.success_json("tfeco bench --suite compare --quick --json"));
}

#[tokio::test]
async fn compare_on_a_given_database_leaves_exactly_the_accepted_transfers_and_refuses_a_second_run() {
    let url = tfeco_testkit::postgres::fresh_database();
    let args = ["bench", "--suite", "compare", "--quick", "--json", "--postgres", &url];
    let run = run_cli(&args, &[]).await;
    check_report(&run.success_json("tfeco bench --suite compare --postgres URL"));
    let counts = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let count = |db: &mut postgres::Client, table: &str| -> i64 {
                db.query_one(&format!("SELECT count(*) FROM {table}"), &[]).expect(table).get(0)
            };
            (count(&mut db, "entries"), count(&mut db, "plain_ledger_transfers"))
        })
        .await
        .expect("count rows")
    };
    assert_eq!(
        counts,
        ((2 * CLIENTS + REQUESTS) as i64, REQUESTS as i64),
        "rows in entries, plain_ledger_transfers"
    );
    let again = run_cli(&args, &[]).await;
    assert_ne!(
        again.code,
        Some(0),
        "a second run on a database holding a journal must fail: {}",
        again.stdout
    );
    assert!(again.stderr.to_lowercase().contains("journal"), "unclear refusal: {}", again.stderr);
}
