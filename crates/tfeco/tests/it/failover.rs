//! Failover with PostgreSQL streaming replication (issue 13 item 3; the procedure is docs/operations.md,
//! "Failover"). A writer on a primary whose synchronous standby (made with `pg_basebackup -R`) has every
//! commit before it returns: the writer is SIGKILLed under concurrent load and the primary crashes
//! (`pg_ctl stop -m immediate`); the standby is promoted and a new writer on another data directory (an
//! older copy: its anchor is behind, which is accepted because the journal is longer, never shorter)
//! continues at the next seq with every acknowledged command. `tfeco verify --journal` checks the promoted
//! database read-only without fencing the writer. The old primary, rejoined as a standby of the new one with
//! `pg_rewind`, refuses the old writer. And a database that lacks acknowledged entries (a standby promoted
//! from an older base backup) is refused by a writer whose data directory has the newest anchor.

use std::path::Path;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use tfeco_core::Command;
use tfeco_money::Asset;
use tfeco_testkit::postgres::{bin_dir, TempPostgres};

use crate::postgres::{
    every_acknowledged_command_is_there, load_then_crash, serve, state, users_with_deposits,
};
use crate::support::{account, run_cli, signed, BIN};

/// Unwraps a [`TempPostgres`] step, panicking with the tools' output.
fn pg<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// The database name at the end of a `postgres://.../DB` URL.
fn db_name(url: &str) -> &str {
    url.rsplit('/').next().expect("a database name")
}

/// `cp -a from to`: a copy of a data directory as an operator would take it.
fn copy_dir(from: &Path, to: &Path) {
    let copied = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().expect("run cp");
    assert!(copied.success(), "cp -a {} {}", from.display(), to.display());
}

/// `tfeco serve --journal URL --data-dir DIR`, which must refuse to start; returns its stderr.
async fn refused_start(dir: &Path, url: &str) -> String {
    let output = tokio::process::Command::new(BIN)
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--journal", url, "--data-dir"])
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run tfeco serve");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "tfeco serve must refuse to start: {stderr}");
    stderr
}

/// `tfeco verify --data-dir DIR --journal URL --json`: its exit code and report.
async fn verify(dir: &Path, url: &str) -> (Option<i32>, serde_json::Value) {
    let dir = dir.to_str().expect("utf-8 path");
    let run = run_cli(&["verify", "--data-dir", dir, "--journal", url, "--json"], &[]).await;
    (run.code, run.json())
}

/// A transfer of 0.001 TFT from `from` to `to`.
fn transfer(from: &SigningKey, to: &SigningKey, nonce: u64) -> serde_json::Value {
    let amount = "0.001".parse().expect("amount");
    signed(from, nonce, Command::Transfer { asset: Asset::Tft, to: account(to), amount })
}

/// Polls `sql` on `server` until it prints `expected` (a standby catching up); panics after 60 s.
fn wait_for(server: &TempPostgres, db: &str, sql: &str, expected: &str) {
    let mut last = String::new();
    for _ in 0..600 {
        last = pg(server.query(db, sql));
        if last == expected {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(server.path().join("server.log")).unwrap_or_default();
    panic!("{sql} gave {last:?}, not {expected:?}, after 60 s; server log:\n{log}");
}

/// The whole failover: synchronous standby, writer and primary crash under load, promotion, a new writer
/// with an older data directory, read-only verify, and the old primary rejoined with `pg_rewind`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failover_to_a_promoted_synchronous_standby_loses_no_acknowledged_command() {
    let primary = pg(TempPostgres::start_primary(bin_dir()));
    let url = pg(primary.create_database());
    let db = db_name(&url).to_owned();
    let standby = pg(primary.start_standby("standby", true));
    let temp = tempfile::tempdir().expect("temp dir");
    let (dir_a, dir_b) = (temp.path().join("a"), temp.path().join("b"));

    let writer_a = serve(&dir_a, temp.path(), "writer-a", &url).await;
    let users = users_with_deposits(&writer_a.api, &dir_a, "failover/sync").await;
    let before_load = state(&writer_a.api).await;
    let epoch_a: u64 = pg(primary.query(&db, "SELECT epoch FROM writer")).parse().expect("epoch");
    // B's data directory: the keys, and an anchor that will be behind the journal.
    copy_dir(&dir_a, &dir_b);
    let reports = load_then_crash(writer_a, &users, || pg(primary.stop_immediate())).await;

    pg(standby.promote());
    assert_eq!(pg(standby.query("postgres", "SELECT pg_is_in_recovery()")), "f");
    let url_b = standby.url(&db);
    let writer_b = serve(&dir_b, temp.path(), "writer-b", &url_b).await;
    let (seq, _) = state(&writer_b.api).await;
    let acknowledged: usize = reports.iter().map(|(acks, _)| acks.len()).sum();
    assert!(seq >= before_load.0 + acknowledged as u64, "{seq} entries, {acknowledged} acknowledged");
    let nonces = every_acknowledged_command_is_there(&writer_b.api, &users, &reports).await;
    let epoch_b: u64 = pg(standby.query(&db, "SELECT epoch FROM writer")).parse().expect("epoch");
    assert_eq!(epoch_b, epoch_a + 1, "the lease row was replicated: B's epoch follows A's and fences it");
    let answer = writer_b.api.ok(&transfer(&users[0], &users[1], nonces[0] + 1)).await;
    assert_eq!(answer["seq"].as_u64(), Some(seq + 1), "the new writer continues at the next seq");

    // `tfeco verify --journal` reads the promoted database read-only: no lease taken, B keeps writing.
    let (code, report) = verify(&dir_b, &url_b).await;
    assert_eq!(code, Some(0), "{report}");
    assert_eq!((report["entries"].as_u64(), &report["invariants_ok"]), (Some(seq + 1), &true.into()));
    assert_eq!(
        pg(standby.query(&db, "SELECT epoch FROM writer")),
        epoch_b.to_string(),
        "verify fenced nobody"
    );
    let answer = writer_b.api.ok(&transfer(&users[0], &users[1], nonces[0] + 2)).await;
    assert_eq!(answer["seq"].as_u64(), Some(seq + 2));

    // The old primary rejoins as a standby of the new one (pg_rewind) and catches up; the old writer
    // started against it is refused (read-only), never acknowledged.
    pg(primary.rejoin_as_standby_of(&standby));
    let head = (seq + 2).to_string();
    wait_for(&primary, &db, "SELECT max(seq) FROM entries", &head);
    assert_eq!(pg(primary.query("postgres", "SELECT pg_is_in_recovery()")), "t");
    let stderr = refused_start(&dir_a, &url).await;
    assert!(stderr.contains("is a standby server (in recovery, read-only)"), "{stderr}");
    let (code, report) = verify(&dir_a, &url).await;
    assert_eq!(
        (code, &report["invariants_ok"]),
        (Some(0), &true.into()),
        "a standby can be verified: {report}"
    );
    assert_eq!(state(&writer_b.api).await.0, seq + 2, "the new writer is the only one");
    let stopped = writer_b.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");
}

/// The guard against lost history: a standby promoted from a base backup older than the acknowledged
/// commands (asynchronous replication can lose a tail the same way) is refused by a writer whose data
/// directory has the newest anchor (copied from the old writer), and `tfeco verify` says so; an older
/// anchor cannot see the loss, which is why the procedure brings the newest one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_promoted_standby_missing_acknowledged_commands_is_refused() {
    let primary = pg(TempPostgres::start_primary(bin_dir()));
    let url = pg(primary.create_database());
    let db = db_name(&url).to_owned();
    let temp = tempfile::tempdir().expect("temp dir");
    let (dir_a, dir_old, dir_b) = (temp.path().join("a"), temp.path().join("old"), temp.path().join("b"));

    let writer_a = serve(&dir_a, temp.path(), "writer-a", &url).await;
    let users = users_with_deposits(&writer_a.api, &dir_a, "failover/async").await;
    let before_load = state(&writer_a.api).await;
    let stale = pg(primary.base_backup("stale"));
    copy_dir(&dir_a, &dir_old);
    let reports = load_then_crash(writer_a, &users, || pg(primary.stop_immediate())).await;
    assert!(reports.iter().any(|(acks, _)| !acks.is_empty()));
    // The newest anchor: the old writer's data directory as it stopped.
    copy_dir(&dir_a, &dir_b);

    let stale = pg(stale.started());
    pg(stale.promote());
    let url_stale = stale.url(&db);
    let stderr = refused_start(&dir_b, &url_stale).await;
    assert!(stderr.contains("acknowledged history is missing"), "{stderr}");
    let stale_head = pg(stale.query(&db, "SELECT max(seq) FROM entries"));
    assert_eq!(stale_head, before_load.0.to_string(), "nothing was written to the stale database");
    let (code, report) = verify(&dir_b, &url_stale).await;
    assert_eq!(code, Some(2), "{report}");
    assert!(
        report["error"].as_str().is_some_and(|e| e.contains("acknowledged history is missing")),
        "{report}"
    );
    // With only an anchor from before the loss, the shorter history is indistinguishable from a full one.
    let (code, report) = verify(&dir_old, &url_stale).await;
    assert_eq!((code, report["entries"].as_u64()), (Some(0), Some(before_load.0)), "{report}");
}
