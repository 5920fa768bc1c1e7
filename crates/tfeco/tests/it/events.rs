//! The event stream and what follows it, against a real `tfeco serve`: a transfer reaches an account's
//! `GET /v1/events` stream within a second (latencies printed), a resumed stream (`Last-Event-ID`) neither
//! repeats nor skips, sealed orders never appear, `tfeco node agent` prints the provision and stop lines of a
//! lease on its node, and `tfeco wallet history` pages an account's events newest first.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use futures_util::StreamExt as _;
use serde_json::Value;
use tfeco_core::{Billing, Command, FarmId, LeaseId, MarketId, NodeId, NodeSpec, PriceFeed, Side};
use tfeco_money::{Amount, Asset};
use tfeco_wallet::api::events::EventEntry;
use tfeco_wallet::Client;

use crate::support::{account, hex_of, key, read_operator_key, run_cli, Api, ServeProcess};

/// Transfers whose delivery time is measured.
const TRANSFERS: usize = 20;
/// The bound on the delivery of a transfer's event.
const DELIVERY_BOUND: Duration = Duration::from_secs(1);

fn id_of(answer: &Value, field: &str) -> u64 {
    answer["events"]
        .as_array()
        .and_then(|events| events.iter().find_map(|e| e[field].as_u64()))
        .unwrap_or_else(|| panic!("no {field} in {answer}"))
}

/// Registers `user` when it is not yet, then deposits `amount` of `asset` to it.
async fn fund(api: &Api, operator: &SigningKey, user: &SigningKey, asset: Asset, amount: &str) {
    if api.try_get(&format!("/v1/accounts/{}", hex_of(user))).await.expect("GET account").0 != 200 {
        api.submit(user, Command::RegisterAccount {}).await;
    }
    let deposit = Command::AttestDeposit {
        asset,
        to: account(user),
        amount: amount.parse().expect("amount"),
        external_tx_id: format!("events-{}-{asset}", hex_of(user)),
    };
    api.submit(operator, deposit).await;
}

async fn prices(api: &Api, operator: &SigningKey) {
    let now = api.status().await["now"].as_i64().expect("now");
    for (feed, price) in [(PriceFeed::TftUsd, "0.01"), (PriceFeed::GoldUsdPerOz, "4228")] {
        let command = Command::SubmitPrice { feed, price: price.parse().expect("price"), observed_at: now };
        api.submit(operator, command).await;
    }
}

/// The next entry of `stream` within 5 s.
async fn next_entry(
    stream: &mut (impl futures_util::Stream<Item = Result<EventEntry, tfeco_wallet::CallError>> + Unpin),
) -> EventEntry {
    let next = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    next.expect("an entry within 5 s").expect("the stream is open").expect("a well-formed entry")
}

fn kinds(entry: &EventEntry) -> Vec<&'static str> {
    entry.events.iter().map(|e| e.kind()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_reaches_the_stream_within_a_second_and_a_resumed_stream_neither_repeats_nor_skips() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("node");
    let server = ServeProcess::start(&dir, temp.path(), "events").await;
    let api = &server.api;
    let operator = read_operator_key(&dir);
    let (alice, bob) = (key("events/alice"), key("events/bob"));
    fund(api, &operator, &alice, Asset::Tft, "1000").await;
    fund(api, &operator, &alice, Asset::Usdc, "100").await;
    fund(api, &operator, &bob, Asset::Tft, "10").await;

    let client = Client::new(&api.base);
    let query = format!("account={}", hex_of(&bob));
    let mut live = Box::pin(client.events(&query, None).await.expect("open the stream"));
    let mut latencies = Vec::new();
    let mut seqs = Vec::new();
    for n in 1..=TRANSFERS {
        let amount = format!("0.{n:02}").parse().expect("amount");
        let sent = Instant::now();
        let answer =
            api.submit(&alice, Command::Transfer { asset: Asset::Tft, to: account(&bob), amount }).await;
        let entry = next_entry(&mut live).await;
        latencies.push(sent.elapsed());
        assert_eq!(entry.seq, answer["seq"].as_u64().expect("seq"), "{answer}");
        assert_eq!(kinds(&entry), ["transferred"], "{entry:?}");
        seqs.push(entry.seq);
        // A sealed order of Alice's between two transfers: never in Bob's stream, nor in Alice's.
        if n == TRANSFERS / 2 {
            let order = Command::PlaceOrder {
                market_id: MarketId(1),
                side: Side::Buy,
                quantity: Amount::from_units(100 * 10_000_000),
                limit_price: "0.05".parse().expect("price"),
                expires_after_batches: None,
            };
            api.submit(&alice, order).await;
        }
    }
    latencies.sort();
    let (p50, max) = (latencies[TRANSFERS / 2], latencies[TRANSFERS - 1]);
    println!(
        "GET /v1/events: a transfer's event delivered in p50 {p50:?}, max {max:?} ({TRANSFERS} transfers)"
    );
    assert!(max < DELIVERY_BOUND, "a transfer took {max:?} to reach the stream");

    // Resuming after the fifth transfer gives exactly the fifteen after it, then closes at the head.
    let resumed = client.events(&format!("{query}&follow=false"), Some(seqs[4])).await.expect("resume");
    let resumed: Vec<EventEntry> = resumed.map(|e| e.expect("entry")).collect().await;
    assert_eq!(resumed.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs[5..], "{resumed:?}");

    // Alice's whole history from the start: her deposits and transfers, never the order.
    let all = format!("account={}&from=1&follow=false", hex_of(&alice));
    let history: Vec<EventEntry> =
        client.events(&all, None).await.expect("history").map(|e| e.expect("entry")).collect().await;
    let kinds: Vec<&str> = history.iter().flat_map(kinds).collect();
    assert!(kinds.contains(&"deposited") && kinds.contains(&"transferred"), "{kinds:?}");
    assert!(!kinds.iter().any(|k| k.starts_with("order")), "a sealed order was streamed: {kinds:?}");

    // A kind filter, and a bad filter refused with a typed 400 naming the parameter.
    let deposits = "kind=deposited&from=1&follow=false";
    let deposits: Vec<EventEntry> =
        client.events(deposits, None).await.expect("kind").map(|e| e.expect("entry")).collect().await;
    assert_eq!(deposits.len(), 3, "{deposits:?}");
    let (status, error) = api.try_get("/v1/events?node=x").await.expect("GET");
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "invalid_query", "{error}");
    drop(live);
    server.stop().await;
}

/// A farm with one Mini 1 node at 5 CC per slice-month; Alice holds CC. Returns the node id.
async fn market(api: &Api, operator: &SigningKey, farmer: &SigningKey, alice: &SigningKey) -> NodeId {
    prices(api, operator).await;
    fund(api, operator, farmer, Asset::Tft, "10").await;
    fund(api, operator, alice, Asset::Tft, "5000").await;
    let farm = api.submit(farmer, Command::RegisterFarm { name: "Agent Farm".to_owned() }).await;
    let farm_id = FarmId(u32::try_from(id_of(&farm, "farm_id")).expect("farm id"));
    let spec = NodeSpec::Model { model: "Mini 1".to_owned() };
    let registered = api.submit(farmer, Command::RegisterNode { farm_id, spec, offered_slices: None }).await;
    let node_id = NodeId(u32::try_from(id_of(&registered, "node_id")).expect("node id"));
    api.submit(farmer, Command::SetSlicePrice { node_id, price: "5".parse().expect("price") }).await;
    api.submit(alice, Command::EnterWithTft { tft: "1000".parse().expect("amount") }).await;
    node_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_agent_prints_what_the_node_must_do_and_the_wallet_pages_its_history() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("node");
    let server = ServeProcess::start(&dir, temp.path(), "agent").await;
    let api = &server.api;
    let operator = read_operator_key(&dir);
    let (farmer, alice) = (key("agent/farmer"), key("agent/alice"));
    let node_id = market(api, &operator, &farmer, &alice).await;
    let open = Command::OpenLease { node_id, n_slices: 2, billing: Billing::Hourly, periods: None };
    let lease_id = LeaseId(id_of(&api.submit(&alice, open).await, "lease_id"));
    api.submit(&alice, Command::CancelLease { lease_id }).await;
    let now = api.status().await["now"].as_i64().expect("now");
    api.submit(&operator, Command::Tick { now: now + 3_600 }).await;
    let head = api.status().await["seq"].as_u64().expect("seq");

    let node = node_id.0.to_string();
    let until = head.to_string();
    let args = ["node", "agent", "--url", &api.base, "--node", &node, "--from", "1", "--until-seq", &until];
    let run = run_cli(&args, &[]).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let lines: Vec<Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let actions: Vec<&str> = lines.iter().map(|l| l["action"].as_str().expect("action")).collect();
    assert_eq!(actions.first(), Some(&"provision"), "{}", run.stdout);
    assert!(actions.contains(&"stop"), "{}", run.stdout);
    let provision = &lines[0];
    assert_eq!(provision["lease_id"], lease_id.0, "{provision}");
    assert_eq!(provision["node_id"], node_id.0, "{provision}");
    assert_eq!(provision["n_slices"], 2, "{provision}");
    assert_eq!(provision["tenant"], hex_of(&alice), "{provision}");
    assert!(provision["resources"].is_object(), "{provision}");
    assert!(lines.iter().all(|l| l["lease_id"] == lease_id.0), "{}", run.stdout);

    // Alice's history, two entries a page, newest first; the second page continues where the first ended.
    let alice_hex = hex_of(&alice);
    let page = |before: Option<u64>| {
        let mut args: Vec<String> = ["wallet", "history", "--url", &api.base, "--account", &alice_hex]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--limit".into(), "2".into(), "--json".into()]);
        args.extend(before.map(|b| ["--before".to_owned(), b.to_string()]).into_iter().flatten());
        args
    };
    let first = page(None);
    let first = run_cli(&first.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    let first = first.success_json("tfeco wallet history");
    let seqs = |page: &Value| -> Vec<u64> {
        page["entries"].as_array().expect("entries").iter().map(|e| e["seq"].as_u64().expect("seq")).collect()
    };
    let top = seqs(&first);
    assert_eq!(top.len(), 2, "{first}");
    assert!(top[0] > top[1], "{first}");
    let before = first["next_before"].as_u64().expect("next_before");
    assert_eq!(before, top[1], "{first}");
    let second = page(Some(before));
    let second = run_cli(&second.iter().map(String::as_str).collect::<Vec<_>>(), &[]).await;
    let second = second.success_json("tfeco wallet history --before");
    assert!(seqs(&second).iter().all(|s| *s < before), "{second}");
    server.stop().await;
}
