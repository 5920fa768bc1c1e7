//! The journal in PostgreSQL (issue 13): `tfeco serve --journal postgres://...` on a real server
//! (`tfeco_testkit::postgres`) keeps every acknowledged command across a SIGKILL under concurrent traffic
//! (same state hash after the restart as before the kill), and a database rolled back behind the data
//! directory's anchor is refused at start, like a rolled-back SQLite file; and a paused writer resumed after
//! another node took over the database is fenced (its command is never acknowledged).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use tfeco_core::Command;
use tfeco_money::{Amount, AnyAsset, Asset};

use crate::support::{account, hex_of, key, signed, Api, ServeProcess, BIN};

pub(crate) const CLIENTS: usize = 4;
/// Acknowledged transfers (all clients) after which the node is killed mid-traffic.
pub(crate) const KILL_AFTER_ACKS: usize = 120;

/// Sends transfers from `me` to `to` with nonces from `first_nonce` until the node stops answering;
/// returns the acknowledged nonces and the highest nonce sent.
pub(crate) async fn transfers(
    api: Api,
    me: SigningKey,
    to: SigningKey,
    first_nonce: u64,
    acked: Arc<AtomicUsize>,
) -> (Vec<u64>, u64) {
    let amount: Amount<AnyAsset> = "0.001".parse().expect("amount");
    let mut acks = Vec::new();
    for nonce in first_nonce..first_nonce + 10_000 {
        let body = signed(&me, nonce, Command::Transfer { asset: Asset::Tft, to: account(&to), amount });
        match api.try_post(&body).await {
            Ok((StatusCode::OK, _)) => {
                acks.push(nonce);
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Ok((status, answer)) => panic!("transfer refused ({status}): {answer}"),
            Err(_) => return (acks, nonce),
        }
    }
    panic!("the node was never killed")
}

/// Registers `CLIENTS` users and gives each 1000 TFT (operator deposits); returns their keys.
pub(crate) async fn users_with_deposits(api: &Api, dir: &std::path::Path, label: &str) -> Vec<SigningKey> {
    let operator = crate::support::read_operator_key(dir);
    let users: Vec<SigningKey> = (0..CLIENTS).map(|i| key(&format!("{label}/{i}"))).collect();
    for (i, user) in users.iter().enumerate() {
        api.ok(&signed(user, 1, Command::RegisterAccount {})).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "1000".parse().expect("amount"),
            external_tx_id: format!("{label}/deposit/{i}"),
        };
        api.submit(&operator, deposit).await;
    }
    users
}

/// Each client's acknowledged nonces and the highest nonce it sent.
pub(crate) type Reports = Vec<(Vec<u64>, u64)>;

/// Concurrent transfers (each user to the next) until `KILL_AFTER_ACKS` are acknowledged, then SIGKILL the
/// node and run `crash` (stop its database) at once; returns what each client saw.
pub(crate) async fn load_then_crash(
    node: ServeProcess,
    users: &[SigningKey],
    crash: impl FnOnce(),
) -> Reports {
    let acked = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let to = users[(i + 1) % CLIENTS].clone();
            tokio::spawn(transfers(node.api.clone(), users[i].clone(), to, 2, acked.clone()))
        })
        .collect();
    for _ in 0..3_000 {
        if acked.load(Ordering::SeqCst) >= KILL_AFTER_ACKS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = node.log_text();
    assert!(acked.load(Ordering::SeqCst) >= KILL_AFTER_ACKS, "too few acknowledged; log:\n{log}");
    assert!(!node.kill().success());
    crash();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(
            tokio::time::timeout(Duration::from_secs(60), task).await.expect("clients stop").expect("task"),
        );
    }
    reports
}

/// Every acknowledged transfer is in the node behind `api` and nothing more than was sent: each client's
/// highest acknowledged nonce <= its `last_nonce` <= its highest sent nonce; the TFT total is conserved.
/// Returns the users' `last_nonce`s.
pub(crate) async fn every_acknowledged_command_is_there(
    api: &Api,
    users: &[SigningKey],
    reports: &Reports,
) -> Vec<u64> {
    let mut total: Amount<AnyAsset> = Amount::ZERO;
    let mut nonces = Vec::new();
    for (user, (acks, highest_sent)) in users.iter().zip(reports) {
        let record = api.account(&hex_of(user)).await;
        let last_nonce = record["last_nonce"].as_u64().expect("last_nonce");
        let highest_ack = acks.iter().copied().max().unwrap_or(1);
        assert!(last_nonce >= highest_ack, "acknowledged nonce {highest_ack} lost (last {last_nonce})");
        assert!(last_nonce <= *highest_sent, "nonce {last_nonce} was never sent");
        let balance: Amount<AnyAsset> =
            record["balances"]["TFT"].as_str().expect("TFT").parse().expect("amount");
        total = total.checked_add(balance).expect("no overflow");
        nonces.push(last_nonce);
    }
    let expected: Amount<AnyAsset> = (1000 * CLIENTS).to_string().parse().expect("amount");
    assert_eq!(total, expected, "transfers conserve TFT");
    nonces
}

/// `tfeco serve --dev --clock manual --journal URL --data-dir DIR`.
pub(crate) async fn serve(
    dir: &std::path::Path,
    logs: &std::path::Path,
    name: &str,
    url: &str,
) -> ServeProcess {
    ServeProcess::start_with(dir, logs, name, &["--clock", "manual", "--journal", url]).await
}

pub(crate) async fn state(api: &Api) -> (u64, String) {
    let status = api.status().await;
    assert_eq!(status["invariants_ok"], true, "{status}");
    (status["seq"].as_u64().expect("seq"), status["state_hash"].as_str().expect("state_hash").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_commands_in_postgres_survive_sigkill() {
    let url = tfeco_testkit::postgres::fresh_database();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = serve(&dir, temp.path(), "first", &url).await;
    let api = node.api.clone();
    assert!(!dir.join("journal.sqlite").exists(), "the entries live in PostgreSQL");
    let users = users_with_deposits(&api, &dir, "pg/user").await;

    // A quiet node: SIGKILL, restart, the same state.
    let before = state(&api).await;
    assert!(!node.kill().success());
    let node = serve(&dir, temp.path(), "second", &url).await;
    assert_eq!(state(&node.api).await, before, "same head and state hash after SIGKILL");

    // Concurrent transfers, SIGKILL mid-traffic: every acknowledged one is there after the restart.
    let reports = load_then_crash(node, &users, || {}).await;
    let node = serve(&dir, temp.path(), "third", &url).await;
    let after_kill = state(&node.api).await;
    every_acknowledged_command_is_there(&node.api, &users, &reports).await;

    // And once more, quiet: the restarted node's state survives another SIGKILL.
    assert!(!node.kill().success());
    let node = serve(&dir, temp.path(), "fourth", &url).await;
    assert_eq!(state(&node.api).await, after_kill);
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");

    // A database rolled back behind the anchor (its last entry gone) is refused, nothing served.
    // (The synchronous client runs its own runtime: off this test's runtime threads.)
    let rollback = url.clone();
    let deleted = tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&rollback, postgres::NoTls).expect("connect");
        client.execute("DELETE FROM entries WHERE seq = (SELECT max(seq) FROM entries)", &[]).expect("delete")
    })
    .await
    .expect("rollback task");
    assert_eq!(deleted, 1);
    let output = tokio::process::Command::new(BIN)
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--journal", &url, "--data-dir"])
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run tfeco serve");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a rolled-back journal must be refused: {stderr}");
    assert!(stderr.contains("acknowledged history is missing"), "{stderr}");
}

/// The pid of the running `tfeco serve` whose command line names `dir` (found in `/proc`).
fn serve_pid(dir: &std::path::Path) -> u32 {
    let dir = dir.to_str().expect("utf-8 path");
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            args.contains(&&b"serve"[..]) && args.contains(&dir.as_bytes())
        })
        .expect("the node's process")
}

fn signal(pid: u32, name: &str) {
    let sent = std::process::Command::new("kill").args([name, &pid.to_string()]).status().expect("run kill");
    assert!(sent.success(), "kill {name} {pid}");
}

/// Issue 13 item 3 (fencing): a writer paused (SIGSTOP) while a second node takes over the same database
/// (with a copy of its data directory) can never append once resumed: its request is refused, never
/// acknowledged; the new writer continues at the next seq with every acknowledged command.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resumed_old_writer_cannot_append_after_another_took_over() {
    let url = tfeco_testkit::postgres::fresh_database();
    let temp = tempfile::tempdir().expect("temp dir");
    let (dir_a, dir_b) = (temp.path().join("a"), temp.path().join("b"));
    let old = serve(&dir_a, temp.path(), "old", &url).await;
    let operator = crate::support::read_operator_key(&dir_a);
    let (user, other) = (key("pg/fence/user"), key("pg/fence/other"));
    old.api.ok(&signed(&user, 1, Command::RegisterAccount {})).await;
    old.api.ok(&signed(&other, 1, Command::RegisterAccount {})).await;
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: account(&user),
        amount: "10".parse().expect("amount"),
        external_tx_id: "pg-fence".into(),
    };
    old.api.submit(&operator, deposit).await;
    let transfer = |nonce| {
        let amount = "1".parse().expect("amount");
        signed(&user, nonce, Command::Transfer { asset: Asset::Tft, to: account(&other), amount })
    };
    old.api.ok(&transfer(2)).await;
    let before = state(&old.api).await;

    let pid = serve_pid(&dir_a);
    signal(pid, "-STOP");
    let copied = std::process::Command::new("cp").arg("-a").arg(&dir_a).arg(&dir_b).status().expect("cp");
    assert!(copied.success());
    let new = serve(&dir_b, temp.path(), "new", &url).await;
    assert_eq!(state(&new.api).await, before, "the new writer has every acknowledged command");
    signal(pid, "-CONT");

    let (status, answer) = old.api.try_post(&transfer(3)).await.expect("the old writer answers");
    assert_ne!(status, StatusCode::OK, "a fenced writer acknowledged a command: {answer}");
    let answer = new.api.ok(&transfer(3)).await;
    assert_eq!(answer["seq"].as_u64(), Some(before.0 + 1), "the new writer continues at the next seq");
    assert_eq!(new.api.account(&hex_of(&other)).await["balances"]["TFT"], "2");
}

/// Issue 13 item 1: `tfeco demo --journal postgres://...` plays a month on PostgreSQL (invariants hold, a
/// replay from scratch matches), and resumes for a second month from the same database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_on_a_postgres_journal() {
    let url = tfeco_testkit::postgres::fresh_database();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("demo");
    let dir = dir.to_str().expect("utf-8 path");
    let args = ["demo", "--data-dir", dir, "--no-serve", "--json", "--journal", &url];
    let first = crate::support::run_cli(&args, &[]).await.success_json("tfeco demo --journal");
    assert_eq!((&first["invariants_ok"], &first["replay_matches"]), (&true.into(), &true.into()), "{first}");
    assert!(!std::path::Path::new(dir).join("journal.sqlite").exists(), "the entries live in PostgreSQL");
    let second = crate::support::run_cli(&args, &[]).await.success_json("tfeco demo --journal (resumed)");
    assert!(first["entries"].as_u64().is_some_and(|n| n > 0), "{first}");
    assert_eq!((&second["resumed"], &second["month_played"]), (&true.into(), &2.into()), "{second}");
    assert_eq!(second["invariants_ok"], true, "{second}");
}

/// Runs one SQL statement on `url` (off the test's runtime threads) and returns the rows it changed, or the
/// first column of its one row as text when it is a query.
async fn sql(url: &str, statement: &str) -> String {
    let (url, statement) = (url.to_owned(), statement.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        if statement.starts_with("SELECT") {
            let row = client.query_one(statement.as_str(), &[]).expect("query");
            row.try_get::<_, i64>(0).map(|n| n.to_string()).unwrap_or_else(|_| row.get::<_, String>(0))
        } else {
            client.execute(statement.as_str(), &[]).expect("statement").to_string()
        }
    })
    .await
    .expect("sql task")
}

/// Issue 13: `tfeco verify --journal` checks a PostgreSQL journal read-only against the data directory
/// (a running writer keeps its lease); `tfeco repair --journal` on a damaged acknowledged entry refuses
/// without `--accept-loss` (pointing to the PostgreSQL procedure), changes nothing unconfirmed, and with
/// `--accept-loss --yes` deletes exactly the damaged row, after which the node starts and verify passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_and_repair_take_a_postgres_journal() {
    let url = tfeco_testkit::postgres::fresh_database();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = serve(&dir, temp.path(), "first", &url).await;
    let operator = crate::support::read_operator_key(&dir);
    let (user, other) = (key("pg/repair/user"), key("pg/repair/other"));
    node.api.ok(&signed(&user, 1, Command::RegisterAccount {})).await;
    node.api.ok(&signed(&other, 1, Command::RegisterAccount {})).await;
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: account(&user),
        amount: "10".parse().expect("amount"),
        external_tx_id: "pg-repair".into(),
    };
    node.api.submit(&operator, deposit).await;
    let amount = "1".parse().expect("amount");
    node.api
        .ok(&signed(&user, 2, Command::Transfer { asset: Asset::Tft, to: account(&other), amount }))
        .await;
    let (head, state_hash) = state(&node.api).await;
    let dir_arg = dir.to_str().expect("utf-8 path");
    let verify = ["verify", "--data-dir", dir_arg, "--journal", &url, "--json"];

    // Verify while the writer runs: same head and state, the lease untouched, the writer still appends.
    let epoch = sql(&url, "SELECT epoch FROM writer").await;
    let report = crate::support::run_cli(&verify, &[]).await.success_json("tfeco verify --journal");
    assert_eq!((report["entries"].as_u64(), report["state_hash"].as_str()), (Some(head), Some(&*state_hash)));
    assert_eq!(sql(&url, "SELECT epoch FROM writer").await, epoch, "verify took no writer lease");
    node.api
        .ok(&signed(&user, 3, Command::Transfer { asset: Asset::Tft, to: account(&other), amount }))
        .await;
    let head = head + 1;
    assert!(node.stop().await.success());

    // Damage the last, acknowledged entry: serve and verify refuse; repair needs the loss accepted.
    let damage = format!("UPDATE entries SET payload = payload || '\\x00'::bytea WHERE seq = {head}");
    assert_eq!(sql(&url, &damage).await, "1");
    let output = tokio::process::Command::new(BIN)
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--journal", &url, "--data-dir", dir_arg])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run tfeco serve");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains(&format!("corrupt at seq {head}")), "{stderr}");
    let failed = crate::support::run_cli(&verify, &[]).await;
    assert_eq!(failed.code, Some(2), "{}", failed.stdout);
    let repair = |extra: &'static [&'static str]| {
        let mut args = vec!["repair", "--data-dir", dir_arg, "--journal", url.as_str()];
        args.extend_from_slice(extra);
        async move { crate::support::run_cli(&args, &[]).await }
    };
    let refused = repair(&[]).await;
    assert_eq!(refused.code, Some(2), "{}", refused.stdout);
    assert!(refused.stdout.contains("a standby that has the history"), "{}", refused.stdout);
    let unconfirmed = repair(&["--accept-loss"]).await;
    assert_eq!(unconfirmed.code, Some(1), "{}", unconfirmed.stdout);
    assert!(unconfirmed.stdout.contains("1 of them were acknowledged"), "{}", unconfirmed.stdout);
    assert_eq!(sql(&url, "SELECT max(seq) FROM entries").await, head.to_string(), "nothing changed");
    let repaired = repair(&["--accept-loss", "--yes"]).await;
    assert_eq!(repaired.code, Some(0), "{}", repaired.stdout);
    assert_eq!(sql(&url, "SELECT max(seq) FROM entries").await, (head - 1).to_string());

    let report = crate::support::run_cli(&verify, &[]).await.success_json("tfeco verify after repair");
    assert_eq!(report["entries"].as_u64(), Some(head - 1), "{report}");
    let node = serve(&dir, temp.path(), "repaired", &url).await;
    assert_eq!(state(&node.api).await, (head - 1, state_hash), "the state before the lost transfer");
    assert!(repair(&[]).await.stdout.contains("nothing to repair"));
}
