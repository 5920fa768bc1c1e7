//! `tfeco follow` beside a real `tfeco serve` under load (issue 13 item 2): the follower, started while
//! concurrent signed transfers run, reaches the primary's seq and state hash; its lag goes to 0 once the load
//! stops; reads it serves match the primary's; a write sent to it is redirected (307) to the primary; a
//! checkpoint the operator proposes is checked; a restarted follower resumes from its own journal; and
//! `--until-caught-up` exits once caught up. The catch-up time and the steady-state lag of single transfers
//! are measured and printed (never asserted: speed is shown, not timed by a test).

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use serde_json::Value;
use tfeco_core::Command;
use tfeco_money::Asset;
use tfeco_wallet::Client;

use crate::support::{account, hex_of, key, read_operator_key, signed, Api, ServeProcess, BIN};

/// Users sending transfers at once.
const USERS: usize = 16;
/// Transfers each user sends during the load.
const TRANSFERS_EACH: u64 = 80;
/// Transfers sent one at a time to measure the steady-state lag.
const PROBES: usize = 10;
/// Polls of a bounded wait (each 10 ms apart): at most a minute on a busy machine.
const POLLS: u32 = 6_000;
const POLL: Duration = Duration::from_millis(10);

/// A running `tfeco follow` child.
struct FollowProcess {
    child: Child,
    api: Api,
    log: std::path::PathBuf,
}

impl FollowProcess {
    /// Starts `tfeco follow` of `primary` in `dir` with the operator's key of `primary_dir`, and waits until
    /// it answers `/v1/status`.
    async fn start(primary: &str, dir: &Path, primary_dir: &Path, log: &Path) -> FollowProcess {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let child = StdCommand::new(BIN)
            .args(["follow", "--primary", primary, "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir)
            .arg("--key")
            .arg(primary_dir.join("operator.key"))
            .env("TFECO_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(File::create(log).expect("log file")))
            .spawn()
            .expect("spawn tfeco follow");
        let mut process =
            FollowProcess { child, api: Api::new(&format!("http://127.0.0.1:{port}")), log: log.to_owned() };
        for _ in 0..POLLS {
            assert!(
                process.child.try_wait().expect("try_wait").is_none(),
                "tfeco follow exited:\n{}",
                process.log_text()
            );
            if let Ok((StatusCode::OK, _)) = process.api.try_get("/v1/status").await {
                return process;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("tfeco follow never answered:\n{}", process.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGINT, then the exit status.
    async fn stop(mut self) -> std::process::ExitStatus {
        // Like `tfeco serve`, the follower answers HTTP slightly before it catches SIGINT (a flaky stop).
        assert!(
            crate::support::await_sigint_handler(&mut self.child).await,
            "tfeco follow never installed a SIGINT handler:\n{}",
            self.log_text()
        );
        let pid = self.child.id().to_string();
        assert!(StdCommand::new("kill").args(["-INT", &pid]).status().expect("kill").success());
        for _ in 0..POLLS {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("tfeco follow did not stop:\n{}", self.log_text());
    }
}

impl Drop for FollowProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until the follower's status shows the primary's `seq` and `state_hash`; returns its status and the
/// time it took.
async fn caught_up(follower: &Api, seq: u64, state_hash: &str) -> (Value, Duration) {
    let started = Instant::now();
    for _ in 0..POLLS {
        if let Ok((StatusCode::OK, status)) = follower.try_get("/v1/status").await {
            if status["seq"].as_u64() == Some(seq) && status["lag_entries"].as_u64() == Some(0) {
                assert_eq!(status["state_hash"], state_hash, "the same seq, another state: {status}");
                return (status, started.elapsed());
            }
        }
        tokio::time::sleep(POLL).await;
    }
    let status = follower.try_get("/v1/status").await.map(|(_, s)| s).unwrap_or_default();
    panic!("the follower did not reach seq {seq}: {status}");
}

/// Registers and funds `users` with TFT from the operator.
async fn fund(api: &Api, operator: &SigningKey, users: &[SigningKey]) {
    for (n, user) in users.iter().enumerate() {
        api.submit(user, Command::RegisterAccount {}).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "1000".parse().expect("amount"),
            external_tx_id: format!("follow-{n}"),
        };
        api.submit(operator, deposit).await;
    }
}

/// Each user sends `TRANSFERS_EACH` transfers to the next user, all users at once.
async fn load(api: &Api, users: &[SigningKey]) {
    let mut tasks = Vec::new();
    for (n, user) in users.iter().enumerate() {
        let (api, user, to) = (api.clone(), user.clone(), account(&users[(n + 1) % users.len()]));
        tasks.push(tokio::spawn(async move {
            let first = api.account(&hex_of(&user)).await["next_nonce"].as_u64().expect("next_nonce");
            for nonce in first..first + TRANSFERS_EACH {
                let command =
                    Command::Transfer { asset: Asset::Tft, to, amount: "0.01".parse().expect("amount") };
                api.ok(&signed(&user, nonce, command)).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("a load task");
    }
}

/// Sends single transfers and measures how long the follower takes to show each one's seq.
async fn steady_lag(primary: &Api, follower: &Api, user: &SigningKey, to: &SigningKey) -> Vec<Duration> {
    let mut lags = Vec::new();
    for _ in 0..PROBES {
        let nonce = primary.account(&hex_of(user)).await["next_nonce"].as_u64().expect("next_nonce");
        let command =
            Command::Transfer { asset: Asset::Tft, to: account(to), amount: "0.01".parse().expect("amount") };
        let seq = primary.ok(&signed(user, nonce, command)).await["seq"].as_u64().expect("seq");
        let acknowledged = Instant::now();
        for _ in 0..POLLS {
            if follower.status().await["seq"].as_u64().is_some_and(|s| s >= seq) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags.push(acknowledged.elapsed());
    }
    lags
}

/// Reads of the follower equal the primary's (accounts, supply, an account's event history).
async fn same_reads(primary: &Api, follower: &Api, users: &[SigningKey]) {
    for path in ["/v1/supply".to_owned(), "/v1/system-accounts".to_owned()]
        .into_iter()
        .chain(users.iter().map(|u| format!("/v1/accounts/{}", hex_of(u))))
        .chain(users.iter().take(2).map(|u| format!("/v1/accounts/{}/events?limit=50", hex_of(u))))
    {
        assert_eq!(follower.get(&path).await, primary.get(&path).await, "GET {path} differs");
    }
}

/// A POST to the follower is answered 307 with the same path on the primary.
async fn write_is_redirected(follower: &Api, primary: &str, operator: &SigningKey) {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let body = signed(operator, 1, Command::RegisterAccount {});
    let response = http.post(format!("{}/v1/tx", follower.base)).json(&body).send().await.expect("POST");
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = response.headers()[reqwest::header::LOCATION].to_str().expect("location").to_owned();
    assert_eq!(location, format!("{primary}/v1/tx"));
    let response = http.get(format!("{}/v1/checkpoints", follower.base)).send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT, "the primary's checkpoints are read there");
    assert_eq!(response.headers()[reqwest::header::LOCATION], format!("{primary}/v1/checkpoints").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_beside_a_loaded_primary_reaches_its_state_and_follows_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    let primary_dir = temp.path().join("primary");
    let server = ServeProcess::start(&primary_dir, temp.path(), "follow-primary").await;
    let (primary, base) = (&server.api, server.api.base.clone());
    let operator = read_operator_key(&primary_dir);
    let users: Vec<SigningKey> = (0..USERS).map(|n| key(&format!("follow/{n}"))).collect();
    fund(primary, &operator, &users).await;

    let follower_dir = temp.path().join("follower");
    let loaded = tokio::spawn({
        let (api, users) = (primary.clone(), users.clone());
        async move { load(&api, &users).await }
    });
    let follower =
        FollowProcess::start(&base, &follower_dir, &primary_dir, &temp.path().join("follower.log")).await;
    let started_at = primary.status().await["seq"].as_u64().expect("seq");
    let still_loading = !loaded.is_finished();
    loaded.await.expect("the load");
    let load_end = Instant::now();
    let behind = follower.api.status().await["lag_entries"].clone();
    let status = primary.status().await;
    let (seq, state_hash) =
        (status["seq"].as_u64().expect("seq"), status["state_hash"].as_str().expect("hash"));
    let (followed, _) = caught_up(&follower.api, seq, state_hash).await;
    eprintln!(
        "follow: follower started at primary seq {started_at} (load still running: {still_loading}); load of {} \
         concurrent transfers ended at seq {seq} with the follower {behind} entries behind; caught up {:?} after \
         the load stopped",
        USERS as u64 * TRANSFERS_EACH,
        load_end.elapsed()
    );
    assert_eq!(followed["role"], "follower");
    assert_eq!(followed["primary"], base.as_str());
    assert_eq!(followed["lag_seconds"].as_f64(), Some(0.0));
    assert_eq!(status["role"], "primary");
    let metrics = reqwest::get(format!("{}/metrics", follower.api.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("tfeco_follower_lag_entries 0"), "{metrics}");
    assert!(metrics.contains("tfeco_follower_lag_seconds 0"), "{metrics}");

    let mut lags = steady_lag(primary, &follower.api, &users[0], &users[1]).await;
    lags.sort();
    eprintln!(
        "follow: steady-state lag of single transfers: median {:?}, max {:?}",
        lags[lags.len() / 2],
        lags[lags.len() - 1]
    );
    same_reads(primary, &follower.api, &users).await;
    write_is_redirected(&follower.api, &base, &operator).await;

    // A checkpoint the operator proposes now is behind the follower's head: checked by replaying its journal.
    let proposed = Client::new(&base).propose_checkpoint(&operator).await.expect("propose a checkpoint");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let status = primary.status().await;
    caught_up(&follower.api, status["seq"].as_u64().expect("seq"), status["state_hash"].as_str().expect("h"))
        .await;
    assert!(proposed.seq > 0);

    let stopped_at = follower.api.status().await["seq"].as_u64().expect("seq");
    let stopped = follower.stop().await;
    assert!(stopped.success(), "the follower stops cleanly on SIGINT: {stopped}");
    load(primary, &users[..2]).await;
    let restarted =
        FollowProcess::start(&base, &follower_dir, &primary_dir, &temp.path().join("follower-2.log")).await;
    let status = primary.status().await;
    caught_up(
        &restarted.api,
        status["seq"].as_u64().expect("seq"),
        status["state_hash"].as_str().expect("h"),
    )
    .await;
    let log = restarted.log_text();
    assert!(
        log.contains(&format!("from entry {stopped_at},")),
        "a restarted follower resumes from its own journal:\n{log}"
    );
    restarted.stop().await;
    // The follower's own journal is a verifiable copy of the primary's history.
    let follower_path = follower_dir.to_str().expect("UTF-8 path");
    let verified = crate::support::run_cli(&["verify", "--data-dir", follower_path, "--json"], &[]).await;
    let verified = verified.success_json("tfeco verify of the follower's directory");
    assert_eq!(
        (verified["entries"].clone(), verified["state_hash"].clone()),
        (status["seq"].clone(), status["state_hash"].clone())
    );
    assert_eq!(verified["invariants_ok"], true, "{verified}");

    let run = tokio::process::Command::new(BIN)
        .args(["follow", "--primary", &base, "--listen", "127.0.0.1:0", "--until-caught-up", "--data-dir"])
        .arg(temp.path().join("audit"))
        .arg("--key")
        .arg(primary_dir.join("operator.key"))
        .env("TFECO_LOG", "warn")
        .output()
        .await
        .expect("run tfeco follow --until-caught-up");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains(&format!("caught up with the primary at entry {}", status["seq"])), "{stdout}");
    assert!(stdout.contains("guardian checkpoints checked: 1"), "{stdout}");

    // With the primary down, a restarted follower serves its own state (and keeps trying to reach it).
    assert!(server.stop().await.success());
    let alone =
        FollowProcess::start(&base, &follower_dir, &primary_dir, &temp.path().join("follower-3.log")).await;
    let own = alone.api.status().await;
    assert_eq!(
        (own["seq"].clone(), own["state_hash"].clone()),
        (status["seq"].clone(), status["state_hash"].clone())
    );
    assert_eq!(own["role"], "follower");
    assert!(alone.stop().await.success());
}

/// The primary's operator publishes a checkpoint whose state hash its journal contradicts (a proposed,
/// unsigned checkpoint file changed while the node was stopped: the node starts, since only final
/// checkpoints refuse a start, and serves it): the follower stops with exit 3 and names the seq and both
/// hashes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_stops_at_a_checkpoint_its_replay_contradicts() {
    let temp = tempfile::tempdir().expect("temp dir");
    let primary_dir = temp.path().join("primary");
    let server = ServeProcess::start(&primary_dir, temp.path(), "follow-forged").await;
    let operator = read_operator_key(&primary_dir);
    let users: Vec<SigningKey> = (0..2).map(|n| key(&format!("follow-forged/{n}"))).collect();
    fund(&server.api, &operator, &users).await;
    let proposed = Client::new(&server.api.base).propose_checkpoint(&operator).await.expect("propose");
    let true_state = server.api.status().await["state_hash"].as_str().expect("hash").to_owned();
    assert_eq!(proposed.state_hash, true_state);
    assert!(server.stop().await.success());
    let file = primary_dir.join("checkpoints").join(format!("checkpoint-{:020}.json", proposed.seq));
    let forged_state = "ab".repeat(32);
    let text = std::fs::read_to_string(&file).expect("the checkpoint file");
    std::fs::write(&file, text.replace(&true_state, &forged_state)).expect("forge the checkpoint");

    let server = ServeProcess::start(&primary_dir, temp.path(), "follow-forged-2").await;
    let stranger = temp.path().join("stranger.key");
    std::fs::write(&stranger, hex::encode(key("follow-forged/stranger").to_bytes())).expect("key file");
    let refused = tokio::process::Command::new(BIN)
        .args(["follow", "--primary", &server.api.base, "--listen", "127.0.0.1:0", "--until-caught-up"])
        .arg("--data-dir")
        .arg(temp.path().join("stranger"))
        .arg("--key")
        .arg(&stranger)
        .env("TFECO_LOG", "off")
        .output()
        .await
        .expect("run tfeco follow");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && refused.status.code() != Some(3), "{:?}: {stderr}", refused.status);
    assert!(
        stderr.contains("signed_read_forbidden"),
        "a key that may not read the journal is an error:\n{stderr}"
    );
    let served = server.api.get("/v1/checkpoints").await;
    assert_eq!(served["checkpoints"][0]["state_hash"], forged_state.as_str(), "{served}");
    let run = tokio::process::Command::new(BIN)
        .args(["follow", "--primary", &server.api.base, "--listen", "127.0.0.1:0", "--until-caught-up"])
        .arg("--data-dir")
        .arg(temp.path().join("follower"))
        .arg("--key")
        .arg(primary_dir.join("operator.key"))
        .env("TFECO_LOG", "off")
        .output()
        .await
        .expect("run tfeco follow");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "a follower stopped by a check exits 3:\n{stderr}");
    assert!(stderr.contains(&format!("checkpoint at seq {}", proposed.seq)), "{stderr}");
    assert!(stderr.contains(&forged_state) && stderr.contains(&true_state), "both hashes named:\n{stderr}");
    eprintln!("follow: a forged checkpoint stops the follower: {}", stderr.trim());
}

/// `tfeco follow --journal postgres://...`: the entries read straight from the primary's PostgreSQL journal
/// (here its database itself, as a streaming replica would hold it), without a journal-read key; the follower
/// reaches the primary's seq and state hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_reads_the_journal_straight_from_postgresql() {
    let url = tfeco_testkit::postgres::fresh_database();
    let temp = tempfile::tempdir().expect("temp dir");
    let primary_dir = temp.path().join("primary");
    let args = ["--clock", "manual", "--journal", url.as_str()];
    let server = ServeProcess::start_with(&primary_dir, temp.path(), "follow-postgres", &args).await;
    let operator = read_operator_key(&primary_dir);
    let users: Vec<SigningKey> = (0..4).map(|n| key(&format!("follow-postgres/{n}"))).collect();
    fund(&server.api, &operator, &users).await;
    load(&server.api, &users).await;
    let status = server.api.status().await;
    let run = tokio::process::Command::new(BIN)
        .args(["follow", "--primary", &server.api.base, "--listen", "127.0.0.1:0", "--until-caught-up"])
        .args(["--journal", &url, "--data-dir"])
        .arg(temp.path().join("follower"))
        .env("TFECO_LOG", "warn")
        .output()
        .await
        .expect("run tfeco follow --journal");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let expected = format!(
        "caught up with the primary at entry {} (state hash {})",
        status["seq"],
        status["state_hash"].as_str().expect("state hash")
    );
    assert!(stdout.contains(&expected), "{stdout}");
}
