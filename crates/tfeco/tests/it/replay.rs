//! Replay: a batch of varied commands through a live `tfeco serve`; the live state hash equals the hash
//! `tfeco verify` computes by replaying the stopped node's data directory from scratch.

use reqwest::StatusCode;
use serde_json::Value;
use tfeco_core::{Billing, Command, FarmId, LeaseId, NodeId, NodeSpec, PriceFeed, WithdrawalId};
use tfeco_money::Asset;

use crate::support::{account, hex_of, key, run_cli, signed, verify, Api, ServeProcess};

fn id_of(answer: &Value, field: &str) -> u64 {
    answer["events"]
        .as_array()
        .and_then(|events| events.iter().find_map(|e| e[field].as_u64()))
        .unwrap_or_else(|| panic!("no {field} in {answer}"))
}

async fn prices(api: &Api, operator: &ed25519_dalek::SigningKey) {
    let now = api.status().await["now"].as_i64().expect("now");
    for (feed, price) in [(PriceFeed::TftUsd, "0.01"), (PriceFeed::GoldUsdPerOz, "4228")] {
        let command = Command::SubmitPrice { feed, price: price.parse().expect("price"), observed_at: now };
        api.submit(operator, command).await;
    }
}

/// A refused request must not change the journal head nor the state hash.
async fn refused(api: &Api, body: &Value, code: &str) {
    let before = api.status().await;
    let (status, answer) = api.try_post(body).await.expect("POST");
    assert_ne!(status, StatusCode::OK, "{body} was accepted: {answer}");
    assert_eq!(answer["code"], code, "{answer}");
    let after = api.status().await;
    assert_eq!(before["seq"], after["seq"]);
    assert_eq!(before["state_hash"], after["state_hash"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_state_hash_equals_verify_of_the_stopped_data_dir() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = ServeProcess::start(&dir, temp.path(), "replay").await;
    let api = node.api.clone();
    let operator = crate::support::read_operator_key(&dir);
    let farmer = key("replay/farmer");
    let alice = key("replay/alice");
    let bob = key("replay/bob");
    let start = api.status().await;
    assert_eq!(start["seq"], 0);

    // The first prices through `tfeco admin` (operator.key read from the data directory).
    let dir_text = dir.to_str().expect("utf-8 temp path");
    for (feed, price) in [("tft_usd", "0.01"), ("gold_usd_per_oz", "4228")] {
        let admin = [
            "admin",
            "--data-dir",
            dir_text,
            "--url",
            &api.base,
            "--json",
            "price",
            "--feed",
            feed,
            "--price",
            price,
        ];
        let answer = run_cli(&admin, &[]).await.success_json("tfeco admin price");
        assert_eq!(answer["events"][0]["event"], "price_submitted", "{answer}");
    }
    let valid = api.get("/v1/prices").await;
    assert_eq!(valid["current"]["valid"], true, "{valid}");
    for (i, user) in [&farmer, &alice, &bob].into_iter().enumerate() {
        api.submit(user, Command::RegisterAccount {}).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "5000".parse().expect("amount"),
            external_tx_id: format!("replay-deposit-{i}"),
        };
        api.submit(&operator, deposit).await;
    }
    // A repeated attestation is accepted as a no-op (and journaled).
    let again = Command::AttestDeposit {
        asset: Asset::Tft,
        to: account(&alice),
        amount: "5000".parse().expect("amount"),
        external_tx_id: "replay-deposit-1".to_owned(),
    };
    api.submit(&operator, again).await;
    assert_eq!(api.account(&hex_of(&alice)).await["balances"]["TFT"], "5000");

    let farm = api.submit(&farmer, Command::RegisterFarm { name: "Replay Farm".to_owned() }).await;
    let farm_id = FarmId(u32::try_from(id_of(&farm, "farm_id")).expect("farm id"));
    let spec = NodeSpec::Model { model: "Mini 1".to_owned() };
    let registered = api.submit(&farmer, Command::RegisterNode { farm_id, spec, offered_slices: None }).await;
    let node_id = NodeId(u32::try_from(id_of(&registered, "node_id")).expect("node id"));
    api.submit(&farmer, Command::SetSlicePrice { node_id, price: "5".parse().expect("price") }).await;

    for user in [&alice, &bob] {
        api.submit(user, Command::EnterWithTft { tft: "1000".parse().expect("amount") }).await;
    }
    api.submit(&alice, Command::LockTft { tft: "100".parse().expect("amount") }).await;
    api.submit(
        &alice,
        Command::Transfer { asset: Asset::Tfp, to: account(&bob), amount: "25.5".parse().expect("amount") },
    )
    .await;
    api.submit(
        &bob,
        Command::Transfer {
            asset: Asset::Tft,
            to: account(&alice),
            amount: "0.0000001".parse().expect("amount"),
        },
    )
    .await;
    let hourly = Command::OpenLease { node_id, n_slices: 2, billing: Billing::Hourly, periods: None };
    let lease = api.submit(&alice, hourly).await;
    let hourly_id = LeaseId(id_of(&lease, "lease_id"));
    let monthly = Command::OpenLease { node_id, n_slices: 1, billing: Billing::Monthly, periods: Some(1) };
    api.submit(&bob, monthly).await;
    let withdrawal = Command::RequestWithdrawal {
        asset: Asset::Tft,
        amount: "10".parse().expect("amount"),
        destination: "stellar:GDEST".to_owned(),
    };
    let requested = api.submit(&bob, withdrawal).await;
    let withdrawal_id = WithdrawalId(id_of(&requested, "withdrawal_id"));
    api.submit(
        &operator,
        Command::AttestWithdrawal { withdrawal_id, external_tx_id: "replay-out-1".to_owned() },
    )
    .await;

    // Time moves in three hourly steps: the hourly lease is billed, then cancelled.
    for _ in 0..3 {
        let now = api.status().await["now"].as_i64().expect("now");
        api.submit(&operator, Command::Tick { now: now + 3_600 }).await;
        prices(&api, &operator).await;
    }
    api.submit(&alice, Command::CancelLease { lease_id: hourly_id }).await;
    let now = api.status().await["now"].as_i64().expect("now");
    api.submit(&operator, Command::Tick { now: now + 3_600 }).await;

    // Refusals are not journaled.
    let next = |v: &Value| v["next_nonce"].as_u64().expect("next_nonce");
    let bob_next = next(&api.account(&hex_of(&bob)).await);
    let too_much = Command::Transfer {
        asset: Asset::Tft,
        to: account(&alice),
        amount: "1000000".parse().expect("amount"),
    };
    refused(&api, &signed(&bob, bob_next, too_much), "balance_low").await;
    refused(&api, &signed(&bob, bob_next, Command::Tick { now: now + 7_200 }), "not_authorized").await;
    refused(&api, &signed(&bob, bob_next - 1, Command::RegisterAccount {}), "account_exists").await;

    let status = api.status().await;
    assert_eq!(status["invariants_ok"], true, "{status}");
    let seq = status["seq"].as_u64().expect("seq");
    assert_eq!(seq, status["commands_applied"].as_u64().expect("commands_applied"));
    assert!(seq >= 30, "{status}");
    let live_hash = status["state_hash"].as_str().expect("state_hash").to_owned();
    assert_eq!(live_hash.len(), 64);
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");

    let report = verify(&dir, false).await;
    assert_eq!(report["entries"].as_u64(), Some(seq), "{report}");
    assert_eq!(report["state_hash"].as_str(), Some(live_hash.as_str()), "{report}");
    assert_eq!(report["invariants_ok"], true, "{report}");
    let with_signatures = verify(&dir, true).await;
    assert_eq!(with_signatures["state_hash"], report["state_hash"]);

    // A restarted node replays to the same state.
    let node = ServeProcess::start(&dir, temp.path(), "replay-restarted").await;
    let restarted = node.api.status().await;
    assert_eq!(restarted["state_hash"].as_str(), Some(live_hash.as_str()));
    assert_eq!(restarted["seq"].as_u64(), Some(seq));
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop of the restarted node: {stopped}");
}

/// With `--clock wall` the node journals its own `Tick`s, signed with the operator key; they replay (with
/// signatures) to the live hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_clock_ticks_are_journaled_and_replay() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node =
        ServeProcess::start_with(&dir, temp.path(), "wall", &["--clock", "wall", "--tick-interval", "1"])
            .await;
    let api = node.api.clone();
    let start = api.status().await;
    let start_now = start["now"].as_i64().expect("now");
    let mut status = start.clone();
    // Bounded wait for the clock task's first journaled tick (one per second once the wall clock moved on).
    for _ in 0..1_500 {
        status = api.status().await;
        if status["seq"].as_u64() >= Some(2) {
            break;
        }
        tokio::time::sleep(crate::support::POLL_STEP).await;
    }
    let seq = status["seq"].as_u64().expect("seq");
    assert!(seq >= 2, "no clock ticks were journaled: {status}");
    assert!(status["now"].as_i64().expect("now") > start_now, "{status}");
    let operator = crate::support::read_operator_key(&dir);
    assert!(api.account(&hex_of(&operator)).await["last_nonce"].as_u64() >= Some(2));
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");

    // Ticks may have been applied between the last read and the stop: replay a fresh node to compare.
    let report = verify(&dir, true).await;
    assert_eq!(report["invariants_ok"], true, "{report}");
    let entries = report["entries"].as_u64().expect("entries");
    assert!(entries >= seq, "{report}");
    let node = ServeProcess::start(&dir, temp.path(), "wall-replayed").await;
    let replayed = node.api.status().await;
    assert_eq!(replayed["seq"].as_u64(), Some(entries));
    assert_eq!(replayed["state_hash"], report["state_hash"]);
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop of the restarted node: {stopped}");
}
