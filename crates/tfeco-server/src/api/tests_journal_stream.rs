//! Tests of `GET /v1/journal/stream` through the real router: the finite form (`follow=false`) sends the
//! entries from `from` and one `head` line, then ends; the live form sends a new entry once it is committed;
//! only a guardian or the operator may read it (signed read).

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::StreamExt as _;
use parking_lot::RwLock;
use tfeco_api::checkpoints::JournalStreamItem;
use tfeco_api::signed_read::{HEADER_ACCOUNT, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use tfeco_core::request::ReadRequest;
use tfeco_core::{AccountKey, Command, Genesis, Params};
use tower::ServiceExt as _;

use crate::app::AppState;
use crate::replica::{BatchItem, SignedRequest};
use crate::{ReplayOptions, Replica, ServerConfig};

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn now_s() -> i64 {
    crate::now_unix_ms() / 1000
}

/// A node of operator key 1 with `users` registered accounts (one entry each).
fn node(users: u8) -> Arc<RwLock<Replica>> {
    let operator = AccountKey(signing(1).verifying_key().to_bytes());
    let genesis = || Genesis {
        params: Params::tfgrid4_2025(operator),
        catalogue: tfeco_core::catalogue_q4_2025(),
        start_time: now_s(),
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    let mut node = Replica::open(journal, genesis, ReplayOptions::default()).expect("open").0;
    for n in 0..users {
        register(&mut node, 10 + n);
    }
    Arc::new(RwLock::new(node))
}

fn register(node: &mut Replica, seed: u8) {
    let request = SignedRequest::sign(&signing(seed), 1, now_s() + 300, Command::RegisterAccount {});
    let outcome = node.apply_batch(&[BatchItem::Signed(request)], crate::now_unix_ms()).expect("append");
    assert!(outcome[0].is_ok(), "{outcome:?}");
}

fn router(node: &Arc<RwLock<Replica>>) -> axum::Router {
    let app = AppState::new(
        node.clone(),
        crate::writer::WriterHandle::detached(node.read().failure_flag()),
        ServerConfig::default(),
    );
    crate::api::router::router(app)
}

/// `GET uri`, signed by `reader` when given.
async fn call(router: &axum::Router, uri: &str, reader: Option<&SigningKey>) -> axum::response::Response {
    let mut request = axum::http::Request::get(uri);
    if let Some(key) = reader {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let (timestamp, nonce) = (now_s(), format!("n-{}", crate::now_unix_ms()));
        let read = ReadRequest { method: "GET", path, query, timestamp, nonce: &nonce };
        request = request
            .header(HEADER_ACCOUNT, AccountKey(key.verifying_key().to_bytes()).to_hex())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_NONCE, nonce.clone())
            .header(HEADER_SIGNATURE, hex::encode(key.sign(&read.signing_bytes()).to_bytes()));
    }
    router.clone().oneshot(request.body(axum::body::Body::empty()).expect("request")).await.expect("answer")
}

fn items(bytes: &[u8]) -> Vec<JournalStreamItem> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    text.lines().map(|line| serde_json::from_str(line).expect("one item per line")).collect()
}

fn seq(item: &JournalStreamItem) -> u64 {
    match item {
        JournalStreamItem::Entry(entry) => entry.seq,
        JournalStreamItem::Head { head_seq, .. } => *head_seq,
    }
}

#[tokio::test]
async fn the_finite_stream_sends_the_entries_from_from_and_the_head_then_ends() {
    let node = node(3);
    let router = router(&node);
    let response = call(&router, "/v1/journal/stream?from=2&follow=false", Some(&signing(1))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    let items = items(&bytes);
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(matches!(&items[0], JournalStreamItem::Entry(e) if e.seq == 2));
    assert!(matches!(&items[1], JournalStreamItem::Entry(e) if e.seq == 3));
    let head = node.read().head();
    assert_eq!(items[2], JournalStreamItem::Head { head_seq: 3, timestamp_ms: head.timestamp_ms });
    let JournalStreamItem::Entry(last) = &items[1] else { unreachable!() };
    assert_eq!(last.hash, hex::encode(head.hash), "entries carry their hashes as stored");
}

#[tokio::test]
async fn only_guardians_and_the_operator_read_the_stream() {
    let node = node(1);
    let router = router(&node);
    let stranger = call(&router, "/v1/journal/stream?follow=false", Some(&signing(10))).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    let unsigned = call(&router, "/v1/journal/stream?follow=false", None).await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let bad = call(&router, "/v1/journal/stream?from=0&follow=false", Some(&signing(1))).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "from starts at 1");
}

/// The next chunk of the body within 10 s.
async fn next_chunk(body: &mut axum::body::BodyDataStream) -> axum::body::Bytes {
    let chunk = tokio::time::timeout(Duration::from_secs(10), body.next()).await;
    chunk.expect("a line within 10 s").expect("open").expect("bytes")
}

#[tokio::test]
async fn the_live_stream_sends_an_entry_once_it_is_committed() {
    let node = node(1);
    let router = router(&node);
    let response = call(&router, "/v1/journal/stream?from=1", Some(&signing(1))).await;
    let mut body = response.into_body().into_data_stream();
    let mut seen = Vec::new();
    while !seen.iter().any(|item| matches!(item, JournalStreamItem::Head { head_seq: 1, .. })) {
        seen.extend(items(&next_chunk(&mut body).await));
    }
    register(&mut node.write(), 11);
    let mut live = Vec::new();
    while !live.iter().any(|item| matches!(item, JournalStreamItem::Entry(e) if e.seq == 2)) {
        live.extend(items(&next_chunk(&mut body).await));
    }
    assert!(live.iter().all(|item| seq(item) >= 1), "{live:?}");
    assert_eq!(seen.iter().filter(|item| matches!(item, JournalStreamItem::Entry(_))).count(), 1);
}
