//! HTTP views of the in-wallet exchange (spec `decisions.md` §13): frequent batch auctions of sealed,
//! prefunded limit orders.
//!
//! - `GET /v1/exchange/markets`: every market's rules, its current batch, when it clears, when its lock
//!   window starts, the last clearing price and the number of open orders per side (orders are sealed:
//!   nobody else's order is shown before the clear, only these counts);
//! - `GET /v1/exchange/markets/{id}/batches?limit=N`: the published batches, newest first: price, volume,
//!   imbalance, order count and the resting depth after the clear (not the fills: each owner reads its own);
//! - `GET /v1/exchange/markets/{id}/depth`: the depth after the latest clear;
//! - `GET /v1/exchange/orders` (signed read): the reader's own open orders;
//! - `GET /v1/exchange/fills` (signed read): the reader's own fills in the batches the node keeps.
//!
//! Orders are placed, amended and cancelled with signed `POST /v1/tx` commands (`place_order`,
//! `amend_order`, `cancel_order`). Amounts and prices are decimal strings; prices are quote per whole base
//! token.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tfeco_core::exchange::Side;
use tfeco_core::trading::{BatchRecord, MarketBook, MarketSpec};
use tfeco_core::State;

use crate::api::{ApiError, AppState};
use crate::api_exit::signed_reader;

/// Published batches one call returns by default.
pub const DEFAULT_BATCH_LIMIT: usize = 20;
/// Most published batches one call returns (the node keeps 100 per market).
pub const MAX_BATCH_LIMIT: usize = 100;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/exchange/markets", get(markets))
        .route("/v1/exchange/markets/{id}/batches", get(batches))
        .route("/v1/exchange/markets/{id}/depth", get(depth))
        .route("/v1/exchange/orders", get(own_orders))
        .route("/v1/exchange/fills", get(own_fills))
}

/// One market: its rules, current batch, schedule, last price and open order counts per side (no orders).
pub fn market_view(state: &State, spec: &MarketSpec) -> Value {
    let book: Option<&MarketBook> = state.exchange().books().get(&spec.id);
    let mut view = serde_json::to_value(spec).unwrap_or_else(|_| json!({}));
    let count = |side: Side| book.map_or(0, |b| b.orders.values().filter(|o| o.side == side).count());
    let next_clear_at = book.map(|b| b.next_clear_at);
    view["batch"] = json!(book.map_or(1, |b| b.batch));
    // A market's book starts with its first order or tick after it was registered.
    view["next_clear_at"] = json!(next_clear_at);
    view["lock_window_starts_at"] = json!(next_clear_at.map(|t| t - spec.lock_window_s));
    view["in_lock_window"] = json!(next_clear_at.is_some_and(|t| state.now() >= t - spec.lock_window_s));
    view["last_price"] = json!(book.and_then(|b| b.last_price));
    view["open_orders"] = json!({ "buy": count(Side::Buy), "sell": count(Side::Sell) });
    view["batches_published"] = json!(book.map_or(0, |b| b.history.len()));
    view
}

fn depth_levels(record: &BatchRecord) -> Value {
    let levels: Vec<Value> = record
        .depth
        .iter()
        .map(|(price, buy, sell)| json!({ "price": price, "buy": buy, "sell": sell }))
        .collect();
    Value::Array(levels)
}

/// A published batch without its fills (each owner reads its own through `/v1/exchange/fills`).
pub fn batch_view(market_id: u32, record: &BatchRecord) -> Value {
    json!({
        "market_id": market_id,
        "batch": record.batch,
        "cleared_at": record.cleared_at,
        "price": record.price,
        "volume": record.volume,
        "imbalance": record.imbalance,
        "orders": record.orders,
        "filled_orders": record.fills.len(),
        "depth": depth_levels(record),
    })
}

fn market_id(raw: &str) -> Result<u32, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_id", format!("{raw:?} is not a market id"))
    })
}

fn spec_of(state: &State, id: u32) -> Result<&MarketSpec, ApiError> {
    state
        .params()
        .markets
        .iter()
        .find(|m| m.id == id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "market_not_found", format!("no market {id}")))
}

async fn markets(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let list: Vec<Value> = state.params().markets.iter().map(|spec| market_view(state, spec)).collect();
    Json(json!({ "now": state.now(), "markets": list }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchQuery {
    limit: Option<String>,
}

/// `limit`: a whole number 1..=[`MAX_BATCH_LIMIT`] (default [`DEFAULT_BATCH_LIMIT`]).
fn batch_limit(query: Result<Query<BatchQuery>, QueryRejection>) -> Result<usize, ApiError> {
    let invalid = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message);
    let Query(query) = query.map_err(|e| invalid(format!("the query string does not decode: {e}")))?;
    match query.limit {
        None => Ok(DEFAULT_BATCH_LIMIT),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_BATCH_LIMIT).contains(&n) => Ok(n),
            _ => Err(invalid(format!(
                "limit: expected a whole number from 1 to {MAX_BATCH_LIMIT}, got {text:?}"
            ))),
        },
    }
}

async fn batches(
    AxumState(app): AxumState<AppState>,
    Path(id): Path<String>,
    query: Result<Query<BatchQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = market_id(&id)?;
    let limit = batch_limit(query)?;
    let node = app.node.read();
    let state = node.state();
    spec_of(state, id)?;
    let list: Vec<Value> = state
        .exchange()
        .books()
        .get(&id)
        .map(|b| b.history.iter().rev().take(limit).map(|r| batch_view(id, r)).collect())
        .unwrap_or_default();
    Ok(Json(json!({ "market_id": id, "batches": list })))
}

async fn depth(AxumState(app): AxumState<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = market_id(&id)?;
    let node = app.node.read();
    let state = node.state();
    spec_of(state, id)?;
    let latest = state.exchange().books().get(&id).and_then(|b| b.history.back());
    Ok(Json(match latest {
        Some(record) => json!({
            "market_id": id,
            "batch": record.batch,
            "cleared_at": record.cleared_at,
            "price": record.price,
            "levels": depth_levels(record),
        }),
        None => json!({ "market_id": id, "batch": null, "cleared_at": null, "price": null, "levels": [] }),
    }))
}

async fn own_orders(
    AxumState(app): AxumState<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let reader = signed_reader(&headers, "/v1/exchange/orders")?;
    let node = app.node.read();
    let state = node.state();
    let mut list = Vec::new();
    for (market_id, book) in state.exchange().books() {
        let lock_window_s =
            state.params().markets.iter().find(|m| m.id == *market_id).map_or(0, |m| m.lock_window_s);
        for order in book.orders.values().filter(|o| o.owner == reader) {
            let mut view = serde_json::to_value(order).unwrap_or(Value::Null);
            view["next_clear_at"] = json!(book.next_clear_at);
            view["locked"] = json!(state.now() >= book.next_clear_at - lock_window_s);
            list.push(view);
        }
    }
    Ok(Json(json!({ "account": reader, "now": state.now(), "orders": list })))
}

async fn own_fills(AxumState(app): AxumState<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let reader = signed_reader(&headers, "/v1/exchange/fills")?;
    let node = app.node.read();
    let state = node.state();
    let mut list: Vec<(i64, u32, u64, Value)> = Vec::new();
    for (market_id, book) in state.exchange().books() {
        for record in &book.history {
            for fill in record.fills.iter().filter(|f| f.owner == reader) {
                let view = json!({
                    "market_id": market_id,
                    "batch": record.batch,
                    "cleared_at": record.cleared_at,
                    "price": record.price,
                    "order_id": fill.order_id,
                    "side": fill.side,
                    "filled": fill.filled,
                    "quote": fill.quote,
                    "fee": fill.fee,
                });
                list.push((record.cleared_at, *market_id, fill.order_id, view));
            }
        }
    }
    // Newest first; within a batch by market and order id.
    list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let fills: Vec<Value> = list.into_iter().map(|(.., view)| view).collect();
    Ok(Json(json!({ "account": reader, "fills": fills })))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use tfeco_core::command::read_signing_bytes;
    use tfeco_core::{AccountKey, Command, Genesis, Params as CoreParams};
    use tfeco_money::{Amount, Asset, Price};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower::ServiceExt as _;

    use super::*;
    use crate::node::{BatchItem, SignedRequest};
    use crate::{ClockMode, Node, ReplayOptions, ServerConfig};

    const CATALOGUE_CSV: &str = include_str!("../../../data/node-catalogue/tfgrid-nodes-q4-2025.csv");

    fn signing(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn account(key: &SigningKey) -> AccountKey {
        AccountKey(key.verifying_key().to_bytes())
    }

    fn now_s() -> i64 {
        crate::now_unix_ms() / 1000
    }

    /// A node whose operator is key 1 (the only guardian), starting now.
    fn node() -> Node {
        let genesis = || Genesis {
            params: CoreParams::tfgrid4_2025(account(&signing(1))),
            catalogue: tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap(),
            start_time: now_s(),
        };
        let journal = Box::new(tfeco_journal::MemoryJournal::new());
        Node::open(journal, genesis, None, ReplayOptions::default()).unwrap().0
    }

    /// Applies `command` signed by `key` with its next nonce; it must be accepted.
    fn apply(node: &mut Node, key: &SigningKey, command: Command) {
        let nonce = node.state().ledger().account(&account(key)).map_or(1, |a| a.last_nonce + 1);
        let shown = format!("{command:?}");
        let request = SignedRequest::sign(key, nonce, now_s() + 300, command);
        let outcome = node.apply_batch(&[BatchItem::Signed(request)], crate::now_unix_ms()).unwrap();
        assert!(outcome[0].is_ok(), "{shown}: {:?}", outcome[0]);
    }

    fn place(side: Side, tokens: i128, limit: &str) -> Command {
        Command::PlaceOrder {
            market_id: 1,
            side,
            quantity: Amount::from_units(tokens * 10_000_000),
            limit_price: limit.parse::<Price>().unwrap(),
            expires_after_batches: None,
        }
    }

    fn router(node: Node) -> Router {
        let node = std::sync::Arc::new(parking_lot::RwLock::new(node));
        let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms);
        let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
        crate::api::router(AppState { node, writer, config })
    }

    async fn get(router: &Router, uri: &str, reader: Option<&SigningKey>) -> (StatusCode, Value) {
        let mut request = axum::http::Request::get(uri);
        if let Some(key) = reader {
            let path = uri.split('?').next().unwrap();
            let timestamp = now_s();
            let signature = key.sign(&read_signing_bytes(path, timestamp));
            request = request
                .header(crate::api_exit::HEADER_ACCOUNT, account(key).to_hex())
                .header(crate::api_exit::HEADER_TIMESTAMP, timestamp.to_string())
                .header(crate::api_exit::HEADER_SIGNATURE, hex::encode(signature.to_bytes()));
        }
        let response =
            router.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// Alice sells 1,000 TFT at 0.012, Bob buys 1,000 at 0.013 and 500 more at 0.011 (rests), Carol sells
    /// 10 TFT at 0.02 (rests); the batch clears at 0.012 (the lower of the two tied prices).
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
        let next_clear_at = node.state().exchange().books()[&1].next_clear_at;
        let router = router(node);

        // Before the clear: counts only, no orders, no depth.
        let (status, body) = get(&router, "/v1/exchange/markets", None).await;
        assert_eq!(status, StatusCode::OK);
        let market = &body["markets"][0];
        assert_eq!(
            (&market["id"], &market["base"], &market["quote"]),
            (&json!(1), &json!("TFT"), &json!("USDC"))
        );
        assert_eq!(market["open_orders"], json!({ "buy": 2, "sell": 2 }));
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
                            json!({ "body": tick.body, "signature": hex::encode(&tick.signature) })
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
        let body = json!({ "body": request.body, "signature": hex::encode(&request.signature) }).to_string();
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
        assert_eq!(
            codes,
            [(200, ""), (409, "account_exists"), (409, "account_exists"), (429, "rate_limited")]
        );
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
        let start = server.app.node.read().state().now();
        for k in 1..=6 {
            let tick = SignedRequest::sign(&operator, k as u64, expiry, Command::Tick { now: start + k });
            assert_eq!(post_tx(server.addr, &tick).await.0, 200, "tick {k}");
        }
        server.stop().await.unwrap();
    }
}
