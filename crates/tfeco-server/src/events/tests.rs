//! Tests of the event log: live indexing through the replica's sink, sealed events never indexed, filters
//! and account pages, a rebuild by replay equal to live indexing, and a damaged index file recreated.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use parking_lot::RwLock;
use tfeco_core::{AccountKey, Command, Genesis, Params, Side};
use tfeco_money::{Amount, Asset, Price};

use super::{EventLog, Filter, IndexedEntry, StreamQuery};
use crate::replica::{BatchItem, SignedRequest};
use crate::{ReplayOptions, Replica};

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

fn node() -> Replica {
    let genesis = || Genesis {
        params: Params::tfgrid4_2025(account(&signing(1))),
        catalogue: tfeco_core::parse_catalogue_csv(tfeco_core::CATALOGUE_Q4_2025_CSV).unwrap(),
        start_time: crate::now_unix_ms() / 1000,
    };
    Replica::open(Box::new(tfeco_journal::MemoryJournal::new()), genesis, ReplayOptions::default()).unwrap().0
}

fn apply(node: &RwLock<Replica>, key: &SigningKey, command: Command) {
    let mut node = node.write();
    let nonce = node.state().ledger().account(&account(key)).map_or(1, |a| a.last_nonce + 1);
    let shown = format!("{command:?}");
    let request = SignedRequest::sign(key, nonce, crate::now_unix_ms() / 1000 + 300, command);
    let outcome = node.apply_batch(&[BatchItem::Signed(request)], crate::now_unix_ms()).unwrap();
    assert!(outcome[0].is_ok(), "{shown}: {:?}", outcome[0]);
}

/// Waits (at most 10 s) until the index holds the journal's head.
fn wait_indexed(log: &EventLog, node: &RwLock<Replica>) {
    let head = node.read().head_seq();
    for _ in 0..1_000 {
        if log.store.head().unwrap() >= head {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the index did not reach {head}");
}

fn all(log: &EventLog) -> Vec<IndexedEntry> {
    log.store.page_after(0, u64::MAX, &Filter::default(), 10_000).unwrap().0
}

/// Alice and Bob registered and funded; Alice sends Bob 7 TFT, places two sealed orders and a sealed exit bid.
fn economy(node: &RwLock<Replica>) {
    let (operator, alice, bob) = (signing(1), signing(2), signing(3));
    for key in [&alice, &bob] {
        apply(node, key, Command::RegisterAccount {});
    }
    let now = node.read().state().now();
    for (feed, price) in
        [(tfeco_core::PriceFeed::TftUsd, "0.01"), (tfeco_core::PriceFeed::GoldUsdPerOz, "2650")]
    {
        let price = price.parse::<Price>().unwrap();
        apply(node, &operator, Command::SubmitPrice { feed, price, observed_at: now });
    }
    for (asset, tokens, id) in [(Asset::Tft, 1_000, "a1"), (Asset::Usdc, 100, "a2")] {
        let amount = Amount::from_units(tokens * 10_000_000);
        let to = account(&alice);
        apply(node, &operator, Command::AttestDeposit { asset, to, amount, external_tx_id: id.to_owned() });
    }
    let amount = Amount::from_units(7 * 10_000_000);
    apply(node, &alice, Command::Transfer { asset: Asset::Tft, to: account(&bob), amount });
    apply(node, &alice, Command::LockTft { tft: Amount::from_units(500 * 10_000_000) });
    apply(node, &alice, Command::OpenPosition { tfp: Amount::from_units(400 * 10_000_000) });
    let position_id = *node.read().state().exit_pool().positions().keys().next().unwrap();
    let order = |side, tokens: i128, limit: &str| Command::PlaceOrder {
        market_id: tfeco_core::MarketId(1),
        side,
        quantity: Amount::from_units(tokens * 10_000_000),
        limit_price: limit.parse::<Price>().unwrap(),
        expires_after_batches: None,
    };
    apply(node, &alice, order(Side::Buy, 100, "0.013"));
    apply(node, &alice, order(Side::Sell, 10, "0.5"));
    let (usdc, min_price) = (Amount::from_units(10_000_000), "0.005".parse::<Price>().unwrap());
    apply(node, &alice, Command::SubmitExitBid { position_id, usdc, min_price, carry_over: false });
}

fn started(mut replica: Replica) -> (EventLog, Arc<RwLock<Replica>>) {
    let (log, indexer) = EventLog::open(None, &mut replica);
    let node = Arc::new(RwLock::new(replica));
    indexer.spawn(node.clone());
    (log, node)
}

#[test]
fn live_entries_are_indexed_with_their_keys_and_sealed_events_never_are() {
    let (log, node) = started(node());
    let mut live = log.subscribe();
    economy(&node);
    wait_indexed(&log, &node);
    let entries = all(&log);
    let kinds: Vec<&str> = entries.iter().flat_map(|e| e.events.iter().map(|e| e.event.kind())).collect();
    assert!(kinds.contains(&"transferred") && kinds.contains(&"position_opened"), "{kinds:?}");
    assert!(entries.iter().flat_map(|e| &e.events).all(|e| !e.event.is_sealed()), "{kinds:?}");
    let text = serde_json::to_string(&entries.iter().flat_map(|e| &e.events).collect::<Vec<_>>()).unwrap();
    for sealed in ["order_placed", "exit_bid_submitted", "0.013", "\"200\""] {
        assert!(!text.contains(sealed), "{sealed} leaked: {text}");
    }
    // The transfer names both accounts (and the signer); the live channel saw the same entries in order.
    let (alice, bob) = (account(&signing(2)), account(&signing(3)));
    let transfer = entries.iter().find(|e| e.events.iter().any(|e| e.event.kind() == "transferred")).unwrap();
    let keys = &transfer.events[0].keys;
    assert!(keys.contains(&format!("a:{alice}")) && keys.contains(&format!("a:{bob}")), "{keys:?}");
    let mut seen = Vec::new();
    while let Ok(entry) = live.try_recv() {
        seen.push(entry.seq);
    }
    assert_eq!(seen, (1..=node.read().head_seq()).collect::<Vec<_>>(), "every entry, in order, once");
    // Bob's history: registration and the transfer only, newest first.
    let (page, _) = log.store.page_before(u64::MAX, &Filter::account(&bob), 10).unwrap();
    let views: Vec<_> = page.iter().filter_map(|e| e.view(&Filter::account(&bob))).collect();
    let kinds: Vec<Vec<&str>> = views.iter().map(|v| v.events.iter().map(|e| e.kind()).collect()).collect();
    assert_eq!(kinds, [vec!["transferred"], vec!["account_registered"]]);
    // A kind filter keeps only that kind's events of an entry.
    let filter = StreamQuery::parse(&format!("account={alice}&kind=deposited")).unwrap().filter;
    let (page, _) = log.store.page_after(0, u64::MAX, &filter, 100).unwrap();
    let views: Vec<_> = page.iter().filter_map(|e| e.view(&filter)).collect();
    assert_eq!(views.len(), 2);
    assert!(views.iter().flat_map(|v| &v.events).all(|e| e.kind() == "deposited"));
}

#[test]
fn a_rebuild_by_replay_gives_what_live_indexing_gave() {
    let (live_log, node) = started(node());
    economy(&node);
    wait_indexed(&live_log, &node);
    let live = all(&live_log);
    // A node restarted over the same journal with an empty index rebuilds it from the genesis.
    // The indexer holds the replica only for the moment it indexes a batch.
    let mut node = node;
    let mut replica = loop {
        match Arc::try_unwrap(node) {
            Ok(replica) => break replica.into_inner(),
            Err(shared) => node = shared,
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let (log, indexer) = EventLog::open(None, &mut replica);
    let node = Arc::new(RwLock::new(replica));
    indexer.spawn(node.clone());
    wait_indexed(&log, &node);
    assert_eq!(all(&log), live);
}

#[test]
fn an_index_file_is_reused_and_a_damaged_one_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(super::FILE_NAME);
    let store = super::Store::open_or_recreate(&path);
    store.reset(b"root").unwrap();
    store.insert(&[], 5, b"hash").unwrap();
    drop(store);
    assert_eq!(super::Store::open_or_recreate(&path).head().unwrap(), 5);
    std::fs::write(&path, b"not a database at all, but long enough to be read as one's header....").unwrap();
    let _ = std::fs::remove_file(dir.path().join("events.sqlite-wal"));
    let store = super::Store::open_or_recreate(&path);
    assert_eq!(store.head().unwrap(), 0, "recreated empty");
}
