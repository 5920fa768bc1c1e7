//! Crash at many points (issue 11): one data directory goes through about twenty SIGKILL/restart cycles,
//! killed after 1, 7, 50 or 300 acknowledgements or at a seeded-random moment of the traffic. Every restart
//! must start (a crash never makes a data directory refused; a lag of one group commit is normal) and hold
//! every command acknowledged so far; at the end `verify --signatures` replays to the live state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use tfeco_core::Command;
use tfeco_money::{Amount, AnyAsset, Asset};

use crate::damage_kit::{seed_from_env, SplitMix64, SNAPSHOTTING};
use crate::support::{account, hex_of, key, read_operator_key, signed, verify, Api, ServeProcess};

/// Default seed of the random kill moments (override with `TFECO_DAMAGE_SEED`).
const SEED: u64 = 0xC4A5_4000_0000_0011;
const CLIENTS: usize = 4;
/// Where each cycle's kill falls.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// Once at least this many commands of the cycle were acknowledged.
    AfterAcks(usize),
    /// This many milliseconds after the cycle's traffic began (a random moment).
    AfterMs(u64),
}
/// The acknowledgement counts of the fixed kill points; random moments come between them.
const ACK_POINTS: [usize; 4] = [1, 7, 50, 300];
/// Cycles (kills) in all.
const CYCLES: usize = 20;
/// Longest random moment of a kill, milliseconds.
const MAX_RANDOM_MS: u64 = 400;
/// Bound of the wait for a cycle's kill point.
const CYCLE_DEADLINE: Duration = Duration::from_secs(30);

/// What one client saw in one cycle.
struct ClientReport {
    /// Highest acknowledged nonce and its seq.
    highest_ack: Option<(u64, u64)>,
    /// Highest nonce sent (acknowledged or not).
    highest_sent: u64,
}

async fn client_loop(
    api: Api,
    me: SigningKey,
    to: SigningKey,
    first_nonce: u64,
    acked: Arc<AtomicUsize>,
) -> ClientReport {
    let amount: Amount<AnyAsset> = "0.001".parse().expect("amount");
    let mut report = ClientReport { highest_ack: None, highest_sent: first_nonce.saturating_sub(1) };
    for nonce in first_nonce.. {
        let body = signed(&me, nonce, Command::Transfer { asset: Asset::Tft, to: account(&to), amount });
        report.highest_sent = nonce;
        match api.try_post(&body).await {
            Ok((StatusCode::OK, answer)) => {
                report.highest_ack = Some((nonce, answer["seq"].as_u64().expect("seq")));
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Ok((status, answer)) => panic!("client refused ({status}): {answer}"),
            Err(_) => break,
        }
    }
    report
}

/// Per client: highest acknowledged nonce so far, highest nonce ever sent.
#[derive(Clone, Copy, Default)]
struct Ledger {
    acked_nonce: u64,
    sent_nonce: u64,
}

/// Checks that the node holds every acknowledged command; returns each client's next nonce.
async fn check_restart(
    api: &Api,
    users: &[SigningKey],
    ledgers: &[Ledger],
    highest_seq: u64,
    cycle: usize,
) -> Vec<u64> {
    let status = api.status().await;
    assert_eq!(status["invariants_ok"], true, "cycle {cycle}: {status}");
    let head = status["seq"].as_u64().expect("seq");
    assert!(head >= highest_seq, "cycle {cycle}: head {head} lost acknowledged entry {highest_seq}");
    let mut next = Vec::new();
    let mut total: Amount<AnyAsset> = Amount::ZERO;
    for (i, (user, ledger)) in users.iter().zip(ledgers).enumerate() {
        let record = api.account(&hex_of(user)).await;
        let last = record["last_nonce"].as_u64().expect("last_nonce");
        assert!(
            last >= ledger.acked_nonce,
            "cycle {cycle}, client {i}: last_nonce {last} < acknowledged {}",
            ledger.acked_nonce
        );
        assert!(
            last <= ledger.sent_nonce.max(1),
            "cycle {cycle}, client {i}: last_nonce {last} was never sent"
        );
        next.push(record["next_nonce"].as_u64().expect("next_nonce"));
        let balance: Amount<AnyAsset> =
            record["balances"]["TFT"].as_str().expect("TFT").parse().expect("amount");
        total = total.checked_add(balance).expect("no overflow");
    }
    assert_eq!(total, "4000".parse().expect("amount"), "cycle {cycle}: transfers conserve TFT");
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_restart_after_a_kill_at_any_point_holds_every_acknowledged_command() {
    let seed = seed_from_env(SEED);
    let mut rng = SplitMix64::new(seed);
    let points: Vec<KillPoint> = (0..CYCLES)
        .map(|c| {
            if c % 2 == 0 {
                KillPoint::AfterAcks(ACK_POINTS[(c / 2) % ACK_POINTS.len()])
            } else {
                KillPoint::AfterMs(rng.below(MAX_RANDOM_MS))
            }
        })
        .collect();
    eprintln!("crash points: seed {seed:#x}, kill points {points:?}");

    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = ServeProcess::start_with(&dir, temp.path(), "cycle-setup", SNAPSHOTTING).await;
    let operator = read_operator_key(&dir);
    let users: Vec<SigningKey> = (0..CLIENTS).map(|i| key(&format!("crash-points/user/{i}"))).collect();
    for (i, user) in users.iter().enumerate() {
        node.api.ok(&signed(user, 1, Command::RegisterAccount {})).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "1000".parse().expect("amount"),
            external_tx_id: format!("crash-points-deposit-{i}"),
        };
        node.api.submit(&operator, deposit).await;
    }
    let mut ledgers = vec![Ledger { acked_nonce: 1, sent_nonce: 1 }; CLIENTS];
    let mut highest_seq = node.api.status().await["seq"].as_u64().expect("seq");
    let mut node = Some(node);
    let mut total_acks = 0;
    for (cycle, point) in points.iter().enumerate() {
        let running = node.take().expect("a running node");
        let next = check_restart(&running.api, &users, &ledgers, highest_seq, cycle).await;
        let acked = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let to = users[(i + 1) % CLIENTS].clone();
                tokio::spawn(client_loop(running.api.clone(), users[i].clone(), to, next[i], acked.clone()))
            })
            .collect();
        let began = Instant::now();
        loop {
            let due = match point {
                KillPoint::AfterAcks(n) => acked.load(Ordering::SeqCst) >= *n,
                KillPoint::AfterMs(ms) => began.elapsed() >= Duration::from_millis(*ms),
            };
            assert!(began.elapsed() < CYCLE_DEADLINE, "cycle {cycle}: kill point {point:?} not reached");
            if due {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let killed = running.kill();
        assert!(!killed.success(), "cycle {cycle}: killed, not stopped: {killed}");
        for (i, task) in tasks.into_iter().enumerate() {
            let report = tokio::time::timeout(Duration::from_secs(60), task)
                .await
                .expect("clients stop once the node is gone")
                .expect("client task");
            ledgers[i].sent_nonce = ledgers[i].sent_nonce.max(report.highest_sent);
            if let Some((nonce, seq)) = report.highest_ack {
                ledgers[i].acked_nonce = ledgers[i].acked_nonce.max(nonce);
                highest_seq = highest_seq.max(seq);
            }
        }
        let cycle_acks = acked.load(Ordering::SeqCst);
        total_acks += cycle_acks;
        eprintln!(
            "crash points: cycle {cycle} ({point:?}): {cycle_acks} acknowledged, highest seq {highest_seq}"
        );
        // The restart must start: a crash never leaves a refused data directory.
        node =
            Some(ServeProcess::start_with(&dir, temp.path(), &format!("cycle-{cycle}"), SNAPSHOTTING).await);
    }
    let running = node.take().expect("a running node");
    check_restart(&running.api, &users, &ledgers, highest_seq, CYCLES).await;
    let status = running.api.status().await;
    let head = status["seq"].as_u64().expect("seq");
    let state_hash = status["state_hash"].as_str().expect("state_hash").to_owned();
    let stopped = running.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");
    let report = verify(&dir, true).await;
    assert_eq!(report["entries"].as_u64(), Some(head), "{report}");
    assert_eq!(report["state_hash"].as_str(), Some(state_hash.as_str()), "{report}");
    eprintln!("crash points: {CYCLES} kills, {total_acks} acknowledged, head {head}, verify matches");
}
