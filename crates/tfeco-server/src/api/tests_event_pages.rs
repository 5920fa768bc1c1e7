//! Issue 10 item 3: a command with many events (a `Tick` charging 110 leases) is answered with
//! a summary and its first page; the rest is read in pages from `GET /v1/tx/{seq}/events`.

use axum::http::StatusCode;
use axum::Router;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use tfeco_core::{AccountKey, Billing, Command};
use tower::ServiceExt as _;

use crate::app::AppState;
use crate::replica::{BatchItem, SignedRequest};
use crate::{ClockMode, ReplayOptions, Replica, ServerConfig};

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

/// A node whose Harness history is journaled: one farmer with 30 nodes, one tenant with 110 hourly
/// one-slice leases; the next hour's Tick charges every lease.
fn node_with_many_leases() -> Replica {
    let mut h = tfeco_testkit::Harness::new();
    h.set_prices("0.01", "4228");
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let tenant = h.register(30);
    h.enter(tenant, 2 * tfeco_testkit::tokens(20_000));
    let mut leases = 0;
    while leases < 110 {
        let node_id = h.node(farmer, farm, "Mini AI 1", "100");
        for _ in 0..h.free_slices(node_id) {
            h.open_lease(tenant, node_id, 1, Billing::Hourly, None);
            leases += 1;
        }
    }
    let genesis = h.genesis.clone();
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    let mut node = Replica::open(journal, || genesis, ReplayOptions::default()).unwrap().0;
    for (now, body, signature) in h.signed_log() {
        let item = BatchItem::Signed(SignedRequest { body, signature });
        let outcome = node.apply_batch(&[item], now * 1_000).unwrap();
        assert!(outcome[0].is_ok(), "{:?}", outcome[0]);
    }
    assert_eq!(node.state().state_hash(), h.state.state_hash());
    node
}

async fn call(router: &Router, request: axum::http::Request<axum::body::Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn get(uri: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap()
}

#[tokio::test]
async fn a_large_answer_is_a_summary_and_its_events_are_read_in_pages() {
    let mut node = node_with_many_leases();
    let next_hour = node.state().now() + 3_600;
    let nonce = node.state().ledger().account(&account(&signing(1))).map_or(1, |a| a.last_nonce + 1);
    node.set_clock(ClockMode::Manual);
    let node = std::sync::Arc::new(parking_lot::RwLock::new(node));
    let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms, None);
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let router = crate::api::router::router(AppState::new(node, writer, config));

    let expiry = crate::now_unix_ms() / 1000 + 300;
    let tick = SignedRequest::sign(&signing(1), nonce, expiry, Command::Tick { now: next_hour });
    let body = json!({ "body": tick.body.text(), "signature": hex::encode(&tick.signature) }).to_string();
    let post = axum::http::Request::post("/v1/tx")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let (status, answer) = call(&router, post).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let total = answer["events_total"].as_u64().unwrap();
    assert!(total > 110, "one event per lease charged at least: {total}");
    assert_eq!(answer["events"].as_array().unwrap().len(), 100, "the first page only");
    let counts = answer["event_counts"].as_object().unwrap();
    assert_eq!(counts.values().map(|n| n.as_u64().unwrap()).sum::<u64>(), total);
    assert_eq!(counts["ticked"], json!(1));
    let seq = answer["seq"].as_u64().unwrap();
    assert_eq!(answer["next_page"], json!(format!("/v1/tx/{seq}/events?offset=100")));

    let mut events: Vec<Value> = answer["events"].as_array().unwrap().clone();
    let mut next = answer["next_page"].as_str().map(|p| format!("{p}&limit=7"));
    while let Some(path) = next {
        let (status, page) = call(&router, get(&path)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["events_total"].as_u64(), Some(total));
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        next = page["next_page"].as_str().map(|p| format!("{p}&limit=7"));
    }
    assert_eq!(events.len() as u64, total, "every event once");
    assert_eq!(events[0]["event"], json!("ticked"));

    let (status, error) = call(&router, get(&format!("/v1/tx/{}/events", seq - 1))).await;
    assert_eq!((status, &error["code"]), (StatusCode::NOT_FOUND, &json!("events_not_found")));
    let (status, error) = call(&router, get("/v1/tx/x/events")).await;
    assert_eq!((status, &error["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_id")));
}
