//! Tests of the API through the real router (`oneshot`) and over TCP: typed views, JSON errors, sealed
//! exchange data and signed reads, the rate limit of signed requests, and the agreement of the router with
//! the OpenAPI document.

use ed25519_dalek::{Signer, SigningKey};
use tfeco_core::request::ReadRequest;
use tfeco_core::{AccountKey, Command, Genesis, Params as CoreParams};
use tfeco_money::{Amount, Asset, Price};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt as _;

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};
use tfeco_api::signed_read::{HEADER_ACCOUNT, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use tfeco_core::Side;

use crate::app::AppState;
use crate::replica::{BatchItem, SignedRequest};
use crate::{ClockMode, ReplayOptions, Replica, ServerConfig};

const CATALOGUE_CSV: &str = tfeco_core::CATALOGUE_Q4_2025_CSV;

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

fn now_s() -> i64 {
    crate::now_unix_ms() / 1000
}

/// A replica whose operator is key 1 (the only guardian), starting now.
fn node() -> Replica {
    let genesis = || Genesis {
        params: CoreParams::tfgrid4_2025(account(&signing(1))),
        catalogue: tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap(),
        start_time: now_s(),
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    Replica::open(journal, genesis, ReplayOptions::default()).unwrap().0
}

/// Applies `command` signed by `key` with its next nonce; it must be accepted.
fn apply(node: &mut Replica, key: &SigningKey, command: Command) {
    let nonce = node.state().ledger().account(&account(key)).map_or(1, |a| a.last_nonce + 1);
    let shown = format!("{command:?}");
    let request = SignedRequest::sign(key, nonce, now_s() + 300, command);
    let outcome = node.apply_batch(&[BatchItem::Signed(request)], crate::now_unix_ms()).unwrap();
    assert!(outcome[0].is_ok(), "{shown}: {:?}", outcome[0]);
}

fn place(side: Side, tokens: i128, limit: &str) -> Command {
    Command::PlaceOrder {
        market_id: tfeco_core::MarketId(1),
        side,
        quantity: Amount::from_units(tokens * 10_000_000),
        limit_price: limit.parse::<Price>().unwrap(),
        expires_after_batches: None,
    }
}

/// A fresh nonce for each signed read of these tests.
fn rand_nonce() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn router(node: Replica) -> Router {
    let node = std::sync::Arc::new(parking_lot::RwLock::new(node));
    let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms, None);
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    crate::api::router::router(AppState::new(node, writer, config))
}

async fn get(router: &Router, uri: &str, reader: Option<&SigningKey>) -> (StatusCode, Value) {
    let mut request = axum::http::Request::get(uri);
    if let Some(key) = reader {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let timestamp = now_s();
        let nonce = format!("{timestamp}-{}", rand_nonce());
        let read = ReadRequest { method: "GET", path, query, timestamp, nonce: &nonce };
        let signature = key.sign(&read.signing_bytes());
        request = request
            .header(HEADER_ACCOUNT, account(key).to_hex())
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_NONCE, nonce.clone())
            .header(HEADER_SIGNATURE, hex::encode(signature.to_bytes()));
    }
    let response = router.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// Alice sells 1,000 TFT at 0.012, Bob buys 1,000 at 0.013 and 500 more at 0.011 (rests), Carol sells
/// 10 TFT at 0.02 (rests); the batch clears at 0.012 (the lower of the two tied prices: no last price and
/// no oracle price to refer to).
#[tokio::test]
async fn market_views_are_sealed_and_signed_reads_show_only_ones_own() {
    let (operator, alice, bob, carol) = (signing(1), signing(2), signing(3), signing(4));
    let mut node = node();
    for key in [&alice, &bob, &carol] {
        apply(&mut node, key, Command::RegisterAccount {});
    }
    let deposit = |to: &SigningKey, asset: Asset, tokens: i128, id: &str| Command::AttestDeposit {
        asset,
        to: account(to),
        amount: Amount::from_units(tokens * 10_000_000),
        external_tx_id: id.to_owned(),
    };
    apply(&mut node, &operator, deposit(&alice, Asset::Tft, 1_000, "d1"));
    apply(&mut node, &operator, deposit(&carol, Asset::Tft, 1_000, "d2"));
    apply(&mut node, &operator, deposit(&bob, Asset::Usdc, 100, "d3"));
    apply(&mut node, &alice, place(Side::Sell, 1_000, "0.012"));
    apply(&mut node, &bob, place(Side::Buy, 1_000, "0.013"));
    apply(&mut node, &bob, place(Side::Buy, 500, "0.011"));
    apply(&mut node, &carol, place(Side::Sell, 10, "0.02"));
    let start = node.state().now();
    let next_clear_at = node.state().exchange().books()[&tfeco_core::MarketId(1)].next_clear_at;
    let router = router(node);

    // Before the clear: counts only, no orders, no depth.
    let (status, body) = get(&router, "/v1/exchange/markets", None).await;
    assert_eq!(status, StatusCode::OK);
    let market = &body["markets"][0];
    assert_eq!(
        (&market["id"], &market["base"], &market["quote"]),
        (&json!(1), &json!("TFT"), &json!("USDC"))
    );
    // Sealed: counts as of the last clear (none yet), not of the orders placed since (before: 2 and 2).
    assert_eq!(market["open_orders"], json!({ "buy": 0, "sell": 0 }));
    assert_eq!((&market["batch"], &market["next_clear_at"]), (&json!(1), &json!(next_clear_at)));
    assert_eq!(market["lock_window_starts_at"], json!(next_clear_at - 2));
    assert_eq!((&market["last_price"], &market["min_order_base"]), (&Value::Null, &json!("1")));
    let text = body.to_string();
    assert!(!text.contains("0.013") && !text.contains(&account(&bob).to_hex()), "sealed: {text}");
    let (_, body) = get(&router, "/v1/exchange/markets/1/depth", None).await;
    assert_eq!(body["levels"], json!([]));

    // Own orders through a signed read; without a signature it is refused.
    let (status, body) = get(&router, "/v1/exchange/orders", None).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("signed_read_required")));
    let (status, body) = get(&router, "/v1/exchange/orders", Some(&bob)).await;
    assert_eq!(status, StatusCode::OK);
    let orders = body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o["owner"] == json!(account(&bob)) && o["side"] == "buy"), "{body}");
    assert_eq!(orders[0]["escrow"], "13");
    assert_eq!(orders[0]["locked"], false);

    // The clear.
    let tick = SignedRequest::sign(&operator, 2_000, now_s() + 300, Command::Tick { now: start + 10 });
    {
        let response = router
            .clone()
            .oneshot(
                axum::http::Request::post("/v1/tx")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(
                        json!({ "body": tick.body.text(), "signature": hex::encode(&tick.signature) })
                            .to_string(),
                    ))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (_, body) = get(&router, "/v1/exchange/markets", None).await;
    let market = &body["markets"][0];
    assert_eq!((&market["batch"], &market["last_price"]), (&json!(2), &json!("0.012")));
    assert_eq!(market["open_orders"], json!({ "buy": 1, "sell": 1 }));
    let (status, body) = get(&router, "/v1/exchange/markets/1/batches?limit=5", None).await;
    assert_eq!(status, StatusCode::OK);
    let batch = &body["batches"][0];
    assert_eq!(
        (&batch["batch"], &batch["price"], &batch["volume"]),
        (&json!(1), &json!("0.012"), &json!("1000"))
    );
    assert_eq!(
        (&batch["imbalance"], &batch["orders"], &batch["filled_orders"]),
        (&json!("0"), &json!(4), &json!(2))
    );
    let depth = json!([{ "price": "0.011", "buy": "500", "sell": "0" }, { "price": "0.02", "buy": "0", "sell": "10" }]);
    assert_eq!(batch["depth"], depth);
    assert!(batch.get("fills").is_none(), "no fills of others in the public batch: {batch}");
    let (_, body) = get(&router, "/v1/exchange/markets/1/depth", None).await;
    assert_eq!((&body["batch"], &body["levels"]), (&json!(1), &depth));

    // Own fills: Bob's buy and Alice's sell at 0.012; Carol has none.
    let (_, body) = get(&router, "/v1/exchange/fills", Some(&bob)).await;
    let fills = body["fills"].as_array().unwrap();
    assert_eq!(fills.len(), 1, "{body}");
    assert_eq!(
        (&fills[0]["side"], &fills[0]["filled"], &fills[0]["quote"]),
        (&json!("buy"), &json!("1000"), &json!("12"))
    );
    assert_eq!(fills[0]["price"], "0.012");
    let (_, body) = get(&router, "/v1/exchange/fills", Some(&alice)).await;
    assert_eq!((&body["fills"][0]["side"], &body["fills"][0]["quote"]), (&json!("sell"), &json!("12")));
    let (_, body) = get(&router, "/v1/exchange/fills", Some(&carol)).await;
    assert_eq!(body["fills"], json!([]));
    let (_, body) = get(&router, "/v1/exchange/orders", Some(&carol)).await;
    assert_eq!(body["orders"][0]["limit_price"], "0.02");

    // Errors.
    for (uri, status, code) in [
        ("/v1/exchange/markets/7/batches", StatusCode::NOT_FOUND, "market_not_found"),
        ("/v1/exchange/markets/7/depth", StatusCode::NOT_FOUND, "market_not_found"),
        ("/v1/exchange/markets/x/depth", StatusCode::BAD_REQUEST, "invalid_id"),
        ("/v1/exchange/markets/1/batches?limit=0", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/exchange/markets/1/batches?limit=101", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/exchange/markets/1/batches?since=3", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        let (got, body) = get(&router, uri, None).await;
        assert_eq!((got, body["code"].as_str().unwrap()), (status, code), "{uri}");
    }
}

/// One raw HTTP/1.1 `POST /v1/tx` over TCP; returns the status code and the JSON body.
async fn post_tx(addr: std::net::SocketAddr, request: &SignedRequest) -> (u16, Value) {
    let body =
        json!({ "body": request.body.text(), "signature": hex::encode(&request.signature) }).to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/tx HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let json = response.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok());
    (status, json.unwrap_or(Value::Null))
}

/// A server with a limit of 1 request per second and bursts of 3 per signer: the 4th request of one
/// account in a burst is 429 `rate_limited`; another account is not affected; the operator (the node's
/// own clock and attestations) is never limited.
#[tokio::test]
async fn requests_beyond_the_burst_of_one_account_are_rate_limited() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServerConfig {
        clock: ClockMode::Manual,
        rate_limit_per_s: Some(1),
        rate_limit_burst: 3,
        ..ServerConfig::default()
    };
    let server = crate::start(node(), listener, config).await.unwrap();
    let (alice, bob, operator) = (signing(2), signing(3), signing(1));
    let expiry = now_s() + 300;
    let mut answers = Vec::new();
    for nonce in 1..=4 {
        let request = SignedRequest::sign(&alice, nonce, expiry, Command::RegisterAccount {});
        answers.push(post_tx(server.addr, &request).await);
    }
    let codes: Vec<(u16, &str)> =
        answers.iter().map(|(s, b)| (*s, b["code"].as_str().unwrap_or(""))).collect();
    assert_eq!(codes, [(200, ""), (409, "account_exists"), (409, "account_exists"), (429, "rate_limited")]);
    let message = answers[3].1["message"].as_str().unwrap();
    assert!(
        message.contains("at most 1 requests per second") && message.contains("bursts of 3"),
        "{message}"
    );
    // Another account has its own bucket.
    let (status, _) =
        post_tx(server.addr, &SignedRequest::sign(&bob, 1, expiry, Command::RegisterAccount {})).await;
    assert_eq!(status, 200);
    // A bad signature is refused before it counts (the limit is per verified signer).
    let mut forged = SignedRequest::sign(&bob, 2, expiry, Command::RegisterAccount {});
    forged.signature[0] ^= 1;
    for _ in 0..5 {
        assert_eq!(post_tx(server.addr, &forged).await.0, 401);
    }
    assert_eq!(
        post_tx(server.addr, &SignedRequest::sign(&bob, 2, expiry, Command::RegisterAccount {})).await.0,
        409
    );
    // The operator is not limited.
    let start = server.app.replica.read().state().now();
    for k in 1..=6 {
        let tick = SignedRequest::sign(&operator, k as u64, expiry, Command::Tick { now: start + k });
        assert_eq!(post_tx(server.addr, &tick).await.0, 200, "tick {k}");
    }
    server.stop().await.unwrap();
}

/// The routes through the real router: strict parameters answer 400 `invalid_query` as JSON.
#[tokio::test]
async fn routes_answer_json_errors_and_views() {
    use tower::ServiceExt as _;

    let genesis = || Genesis {
        params: CoreParams::tfgrid4_2025(account(&signing(1))),
        catalogue: tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap(),
        start_time: 0,
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    let (node, _) = Replica::open(journal, genesis, ReplayOptions::default()).unwrap();
    let node = std::sync::Arc::new(parking_lot::RwLock::new(node));
    let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms, None);
    let router = crate::api::router::router(AppState::new(node, writer, ServerConfig::default()));
    let get = |uri: &str| {
        let request = axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let (status, body) = get("/v1/capacity/search?min_mem_gb=8&limit=5").await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({ "results": [], "count": 0 })));
    let (status, body) = get("/v1/capacity/search?min_mem_gb=lots").await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_query")));
    assert!(body["message"].as_str().unwrap().starts_with("min_mem_gb: "), "{body}");
    let (_, body) = get("/v1/capacity/explain?n_slices=2").await;
    assert_eq!(body["reasons"], json!([{ "kind": "no_node_listed", "message": "no node is listed" }]));
    for (uri, field) in [
        ("/v1/capacity/standing-bids", "standing_bids"),
        ("/v1/capacity/requests?open=true", "requests"),
        ("/v1/farming-pools", "pools"),
    ] {
        let (status, body) = get(uri).await;
        assert_eq!((status, &body[field]), (StatusCode::OK, &json!([])), "{uri}");
    }
    // The former paths of the capacity market and the exit pool are gone.
    for former in
        ["/v1/market/requests?open=true", "/v1/market/search", "/v1/exit/round", "/v1/exit/positions"]
    {
        let (status, body) = get(former).await;
        assert_eq!((status, &body["code"]), (StatusCode::NOT_FOUND, &json!("not_found")), "{former}");
    }
    let (status, body) = get("/v1/capacity/requests/7").await;
    assert_eq!((status, &body["code"]), (StatusCode::NOT_FOUND, &json!("capacity_request_not_found")));
    let (status, body) = get("/v1/farming-pools/x").await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_id")));
    // The published tables' convention (1 USD per CC) on request; the default is the real CC price.
    let published = "/v1/calc/node?model=Mini%203&utilization=0.3&price=1.5&share_bps=8000&cc_usd=1";
    let (status, body) = get(published).await;
    assert_eq!(
        (status, &body["net"], &body["break_even_months"]),
        (StatusCode::OK, &json!("-8"), &json!("111.11"))
    );
    let real = "/v1/calc/node?model=Mini%203&utilization=0.3&price=1.5&share_bps=8000";
    let (status, body) = get(real).await;
    assert_eq!(
        (status, &body["net"], &body["cc_usd"]),
        (StatusCode::OK, &json!("-15.7765998"), &json!("0.135933356492159101"))
    );
    let (status, body) = get("/v1/calc/node?model=Mini%209&utilization=0.3&price=1.5").await;
    assert_eq!((status, &body["code"]), (StatusCode::NOT_FOUND, &json!("unknown_model")));
    let (status, body) = get("/v1/calc/node?model=Mini%203&utilization=0.3&price=20").await;
    assert_eq!((status, &body["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("price_out_of_band")));
    let (status, body) = get("/v1/calc/table?cc_usd=0.128").await;
    assert_eq!((status, &body["params"]["cc_usd"]), (StatusCode::OK, &json!("0.128")));
}

/// The documented operations of the OpenAPI document: `(path, METHOD)`.
fn documented_operations() -> std::collections::BTreeSet<(String, String)> {
    let document = serde_json::to_value(tfeco_api::openapi::document()).unwrap();
    let mut operations = std::collections::BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
                .contains(&method.as_str())
            {
                operations.insert((path.clone(), method.to_uppercase()));
            }
        }
    }
    operations
}

/// Every route registered in the router is in the OpenAPI document with its method, and every documented
/// operation is routed: the real router answers each documented path and method from a handler (not the
/// 404 or 405 fallbacks), and answers any other method on that path 405 `method_not_allowed` with `Allow`.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let documented = documented_operations();
    let routed: std::collections::BTreeSet<(String, String)> = crate::api::router::routes()
        .iter()
        .map(|route| (route.path.to_owned(), route.method.to_string()))
        .collect();
    assert_eq!(routed, documented, "routes and documented operations differ");

    let router = router(node());
    let call = |method: &str, uri: &str| {
        let request = axum::http::Request::builder().method(method).uri(uri).body(axum::body::Body::empty());
        let router = router.clone();
        async move {
            let response = router.oneshot(request.unwrap()).await.unwrap();
            let status = response.status();
            let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (status, allow, body)
        }
    };
    for (path, method) in &documented {
        let mut uri = path.replace("{key}", &"ab".repeat(32)).replace("{id}", "1").replace("{period}", "1");
        if path == tfeco_api::paths::EVENTS {
            uri.push_str("?follow=false"); // a live stream never ends; this one closes at the head
        }
        let (status, _, body) = call(method, &uri).await;
        let code = body["code"].as_str().unwrap_or("");
        assert!(!["not_found", "method_not_allowed"].contains(&code), "{method} {uri}: {status} {body}");
        let other = if method == "GET" { "DELETE" } else { "PUT" };
        let (status, allow, body) = call(other, &uri).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
        );
        assert!(allow.is_some_and(|a| a.contains(method.as_str())), "{other} {uri}");
    }
    let (status, _, body) = call("GET", "/v1/no-such-route").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

/// Over the limit, a body is refused with JSON 413 `payload_too_large`, and the connection, which still
/// holds the unread body, is closed (`Connection: close`) rather than offered for the next request.
#[tokio::test]
async fn an_oversized_body_is_refused_as_json() {
    let router = router(node());
    let body = vec![b' '; ServerConfig::default().max_body_bytes + 1];
    let request = axum::http::Request::post("/v1/tx")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.headers().get("connection").and_then(|v| v.to_str().ok()), Some("close"));
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "payload_too_large");
}

/// Issue 10 item 20: `GET /v1/treasury` reports the fiat USDC the treasury received, the exit pool's
/// funding by attested deposit and by guardian-approved treasury transfer, and the balances after both
/// (before: no such route, 404 `not_found`).
#[tokio::test]
async fn the_treasury_report_shows_fiat_usdc_exit_pool_funding_and_balances() {
    let mut node = node();
    let (operator, payer) = (signing(1), signing(2));
    let start = node.state().now();
    apply(&mut node, &payer, Command::RegisterAccount {});
    for (feed, price) in
        [(tfeco_core::PriceFeed::TftUsd, "0.1"), (tfeco_core::PriceFeed::GoldUsdPerOz, "4000")]
    {
        let command = Command::SubmitPrice { feed, price: price.parse().unwrap(), observed_at: start };
        apply(&mut node, &operator, command);
    }
    let usdc = |whole: i128| Amount::<tfeco_money::Usdc>::from_units(whole * 10_000_000);
    let payment_id = "card-1".to_owned();
    apply(&mut node, &operator, Command::EnterWithFiat { to: account(&payer), usd: usdc(100), payment_id });
    let external_tx_id = "usdc-in-1".to_owned();
    apply(&mut node, &operator, Command::AttestExitPoolDeposit { usdc: usdc(30), external_tx_id });
    let (to, transfer_ref) = (tfeco_core::TreasuryDestination::ExitPool, "fund-1".to_owned());
    apply(&mut node, &operator, Command::ApproveTreasuryTransfer { usdc: usdc(40), to, transfer_ref });
    let router = router(node);
    let (status, body) = get(&router, "/v1/treasury", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fiat_usdc_received"], json!("100"));
    assert_eq!(
        body["exit_pool_funding"],
        json!({
            "attested_deposits_usdc": "30",
            "treasury_transfers_usdc": "40",
            "total_usdc": "70",
            "pool_usdc": "70",
        })
    );
    assert_eq!(body["balances"]["usdc"], json!("60"));
    assert_eq!(body["revenue_cc_received"], json!("0"));
    assert_eq!(body["burn"]["burn_owed_tft"], json!("0"));
    assert_eq!(body["buyback"]["tfp_received"], json!("0"));
    let view: tfeco_api::treasury::TreasuryView = serde_json::from_value(body).expect("the typed view");
    assert_eq!(view.now, start);
}

/// What others read at `paths`, without the fields every accepted command moves (nonces).
async fn public_views(router: &Router, paths: &[String]) -> Vec<(String, Value)> {
    let mut views = Vec::new();
    for path in paths {
        let (status, mut body) = get(router, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        if let Some(object) = body.as_object_mut() {
            object.remove("last_nonce");
            object.remove("next_nonce");
        }
        views.push((path.clone(), body));
    }
    views
}

/// Issue 10 item 11 (decisions §8, §13): placing, amending and cancelling orders and exit bids changes
/// nothing that others can read. Before the fix Alice's public balance dropped by quantity x limit when she
/// placed a buy, `escrow.orders` and the market's order counts moved with each order, and
/// `/v1/exit-pool/positions` showed each position's reservation. The owner still sees the split by a signed
/// read; another account's signed read of it is refused.
#[tokio::test]
async fn orders_and_exit_bids_change_no_public_view() {
    let (operator, alice, bob) = (signing(1), signing(2), signing(3));
    let mut node = node();
    for key in [&alice, &bob] {
        apply(&mut node, key, Command::RegisterAccount {});
    }
    let now = node.state().now();
    for (feed, price) in
        [(tfeco_core::PriceFeed::TftUsd, "0.01"), (tfeco_core::PriceFeed::GoldUsdPerOz, "2650")]
    {
        let price = price.parse::<Price>().unwrap();
        apply(&mut node, &operator, Command::SubmitPrice { feed, price, observed_at: now });
    }
    for (asset, tokens, id) in [(Asset::Tft, 1_000, "a1"), (Asset::Usdc, 100, "a2")] {
        let amount = Amount::from_units(tokens * 10_000_000);
        apply(
            &mut node,
            &operator,
            Command::AttestDeposit { asset, to: account(&alice), amount, external_tx_id: id.to_owned() },
        );
    }
    apply(&mut node, &alice, Command::LockTft { tft: Amount::from_units(500 * 10_000_000) });
    apply(&mut node, &alice, Command::OpenPosition { tfp: Amount::from_units(400 * 10_000_000) });
    let position_id = *node.state().exit_pool().positions().keys().next().unwrap();
    let public_paths = [
        format!("/v1/accounts/{}", account(&alice).to_hex()),
        "/v1/system-accounts".to_owned(),
        "/v1/supply".to_owned(),
        "/v1/exchange/markets".to_owned(),
        "/v1/exchange/markets/1/depth".to_owned(),
        "/v1/exchange/markets/1/batches".to_owned(),
        "/v1/exit-pool/positions".to_owned(),
        "/v1/exit-pool/round".to_owned(),
    ];
    let shared = std::sync::Arc::new(parking_lot::RwLock::new(node));
    let router_of = |node: &std::sync::Arc<parking_lot::RwLock<Replica>>| {
        let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms, None);
        let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
        crate::api::router::router(AppState::new(node.clone(), writer, config))
    };
    let before = public_views(&router_of(&shared), &public_paths).await;
    {
        let mut guard = shared.write();
        let node = &mut *guard;
        apply(node, &alice, place(Side::Buy, 100, "0.013"));
        apply(node, &alice, place(Side::Sell, 10, "0.5"));
        let usdc = Amount::from_units(10_000_000);
        let min_price = "0.005".parse::<Price>().unwrap();
        apply(node, &alice, Command::SubmitExitBid { position_id, usdc, min_price, carry_over: false });
    }
    let router = router_of(&shared);
    let after = public_views(&router, &public_paths).await;
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{path} moved with a sealed order or bid");
    }
    // The public position view has the amount and the weight, no reservation.
    let position = &after[6].1["positions"][0];
    assert_eq!((&position["amount"], &position["weight_bps"]), (&json!("400"), &json!(10_000)));
    assert!(position.get("reserved").is_none() && position.get("free").is_none(), "{position}");
    assert!(after[7].1.get("open_bids").is_none());

    // The owner's signed reads: the free / escrowed split, the position's reservation.
    let path = format!("/v1/accounts/{}", account(&alice).to_hex());
    let (status, body) = get(&router, &path, Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["balances"]["USDC"], &body["free"]["USDC"]), (&json!("100"), &json!("98.7")));
    assert_eq!((&body["escrowed"]["USDC"], &body["escrowed"]["TFT"]), (&json!("1.3"), &json!("10")));
    assert_eq!((&body["balances"]["TFT"], &body["free"]["TFT"]), (&json!("500"), &json!("490")));
    let (status, body) = get(&router, &path, Some(&bob)).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("signed_read_not_owner")));
    let (status, body) = get(&router, "/v1/exit-pool/bids", Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let own = &body["positions"][0];
    assert_eq!((&own["reserved"], &own["free"]), (&json!("200"), &json!("200")), "{body}");
}
