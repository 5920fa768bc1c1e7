//! Crash durability: concurrent clients send signed transfers to a real `tfeco serve`, the process is
//! SIGKILLed mid-traffic, and after a restart every acknowledged (HTTP 200) command is still there.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use tfeco_core::Command;
use tfeco_money::{Amount, AnyAsset, Asset};

use crate::support::{account, hex_of, key, signed, verify, Api, ServeProcess};

const CLIENTS: usize = 8;
/// Acknowledged commands (all clients) after which the node is killed.
const KILL_AFTER_ACKS: usize = 500;
/// Upper bound of requests per client (the kill must come long before).
const MAX_REQUESTS_PER_CLIENT: u64 = 20_000;

/// One acknowledged request.
#[derive(Clone, Copy, Debug)]
struct Ack {
    nonce: u64,
    seq: u64,
}

/// How a client loop ended.
#[derive(Debug)]
enum End {
    /// The node stopped answering (expected after the kill).
    Transport,
    /// The node answered with a refusal: never expected here.
    Refused(StatusCode, serde_json::Value),
    /// The loop ran out of requests before the kill.
    Exhausted,
}

struct ClientReport {
    acks: Vec<Ack>,
    /// Highest nonce ever sent (acknowledged or not).
    highest_sent: u64,
    end: End,
}

async fn client_loop(
    api: Api,
    me: SigningKey,
    to: SigningKey,
    first_nonce: u64,
    acked: Arc<AtomicUsize>,
) -> ClientReport {
    let amount: Amount<AnyAsset> = "0.001".parse().expect("amount");
    let mut acks = Vec::new();
    let mut highest_sent = 0;
    for nonce in first_nonce..first_nonce + MAX_REQUESTS_PER_CLIENT {
        let body = signed(&me, nonce, Command::Transfer { asset: Asset::Tft, to: account(&to), amount });
        highest_sent = nonce;
        match api.try_post(&body).await {
            Ok((StatusCode::OK, answer)) => {
                let seq = answer["seq"].as_u64().expect("an accepted request has a seq");
                acks.push(Ack { nonce, seq });
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Ok((status, answer)) => {
                return ClientReport { acks, highest_sent, end: End::Refused(status, answer) }
            }
            Err(_) => return ClientReport { acks, highest_sent, end: End::Transport },
        }
    }
    ClientReport { acks, highest_sent, end: End::Exhausted }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_commands_survive_sigkill_and_verify_matches() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = ServeProcess::start(&dir, temp.path(), "first").await;
    let api = node.api.clone();
    let operator = crate::support::read_operator_key(&dir);
    assert_eq!(api.status().await["operator"].as_str(), Some(hex_of(&operator).as_str()));

    // Eight funded accounts.
    let users: Vec<SigningKey> = (0..CLIENTS).map(|i| key(&format!("crash/user/{i}"))).collect();
    for (i, user) in users.iter().enumerate() {
        api.ok(&signed(user, 1, Command::RegisterAccount {})).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "1000".parse().expect("amount"),
            external_tx_id: format!("crash-deposit-{i}"),
        };
        api.submit(&operator, deposit).await;
    }
    for user in &users {
        assert_eq!(api.account(&hex_of(user)).await["balances"]["TFT"], "1000");
    }

    // Concurrent clients, one account each, sending transfers until the node dies.
    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let to = users[(i + 1) % CLIENTS].clone();
        tasks.push(tokio::spawn(client_loop(api.clone(), users[i].clone(), to, 2, acked.clone())));
    }
    let mut reached = false;
    for _ in 0..3_000 {
        if acked.load(Ordering::SeqCst) >= KILL_AFTER_ACKS {
            reached = true;
            break;
        }
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = node.log_text();
    let killed = node.kill();
    assert!(
        reached,
        "only {} commands acknowledged before the kill; node log:\n{log}",
        acked.load(Ordering::SeqCst)
    );
    assert!(!killed.success(), "the node was killed, not stopped: {killed}");

    let mut reports = Vec::new();
    for task in tasks {
        let report = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("clients stop once the node is gone")
            .expect("client task");
        reports.push(report);
    }
    for (i, report) in reports.iter().enumerate() {
        match &report.end {
            End::Transport => {}
            End::Refused(status, answer) => panic!("client {i} was refused ({status}): {answer}"),
            End::Exhausted => panic!("client {i} sent all its requests before the kill"),
        }
    }
    let total: usize = reports.iter().map(|r| r.acks.len()).sum();
    assert!(total >= KILL_AFTER_ACKS, "{total} acknowledged");

    // Restart on the same directory: every acknowledged command is there, nothing beyond what was sent.
    let node = ServeProcess::start(&dir, temp.path(), "restarted").await;
    let api = node.api.clone();
    let status = api.status().await;
    assert_eq!(status["invariants_ok"], true, "{status}");
    let head = status["seq"].as_u64().expect("seq");
    let highest_ack_seq = reports.iter().flat_map(|r| r.acks.iter().map(|a| a.seq)).max().expect("acks");
    assert!(head >= highest_ack_seq, "head {head} lost acknowledged entry {highest_ack_seq}");
    let mut seqs = BTreeMap::new();
    for (i, report) in reports.iter().enumerate() {
        let record = api.account(&hex_of(&users[i])).await;
        let last_nonce = record["last_nonce"].as_u64().expect("last_nonce");
        let highest_ack = report.acks.iter().map(|a| a.nonce).max().unwrap_or(1);
        assert!(
            last_nonce >= highest_ack,
            "client {i}: last_nonce {last_nonce} < acknowledged nonce {highest_ack}"
        );
        assert!(last_nonce <= report.highest_sent, "client {i}: last_nonce {last_nonce} was never sent");
        for ack in &report.acks {
            assert!(ack.seq <= head);
            assert!(seqs.insert(ack.seq, (i, ack.nonce)).is_none(), "seq {} acknowledged twice", ack.seq);
        }
    }
    // Nonces are consecutive per client, so balances follow from the committed nonces: TFT conserved.
    let mut total_tft: Amount<AnyAsset> = Amount::ZERO;
    for user in &users {
        let balance: Amount<AnyAsset> = api.account(&hex_of(user)).await["balances"]["TFT"]
            .as_str()
            .expect("TFT")
            .parse()
            .expect("amount");
        total_tft = total_tft.checked_add(balance).expect("no overflow");
    }
    assert_eq!(total_tft, "8000".parse().expect("amount"), "transfers between the clients conserve TFT");
    let state_hash = status["state_hash"].as_str().expect("state_hash").to_owned();
    eprintln!("crash test: {total} acknowledged, highest seq {highest_ack_seq}, head after restart {head}");

    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop after SIGINT: {stopped}");

    let report = verify(&dir, true).await;
    assert_eq!(report["invariants_ok"], true, "{report}");
    assert_eq!(report["entries"].as_u64(), Some(head), "{report}");
    assert_eq!(report["state_hash"].as_str(), Some(state_hash.as_str()), "{report}");
    assert_eq!(report["error"], serde_json::Value::Null);
}
