//! The router: every route of the API in one table ([`routes`]), the JSON
//! answers of unknown paths (404 `not_found`) and wrong methods (405 `method_not_allowed`, with `Allow`),
//! the body limit, the rate limit of signed requests, the refusal to serve after a storage failure, and the
//! request metrics and log lines ([`crate::metrics::track_requests`]) with `GET /metrics`.

use axum::extract::{DefaultBodyLimit, Request, State as AxumState};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Router};
use std::time::Duration;
use tfeco_api::paths;
use tfeco_api::ErrorCode;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::api::error::ApiError;
use crate::api::tx::TxRateLimit;
use crate::api::{
    calc, capacity, checkpoints, events, exchange, exit_pool, farming_pool, governance, ledger, pool2,
    rewards, treasury, tx, web,
};
use crate::app::AppState;

/// One route: its path (as in the OpenAPI document), its method and its handler.
pub struct Route {
    /// The path, with `{name}` parameters.
    pub path: &'static str,
    /// The one method it answers (besides the `HEAD` of a `GET`).
    pub method: Method,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Route {
    Route { path, method, handler }
}

/// Every route of the API.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, paths::INDEX, get(web::index)),
        route(M::GET, paths::OPENAPI, get(ledger::openapi)),
        route(M::POST, paths::TX, post(tx::submit_tx)),
        route(M::GET, paths::TX_EVENTS, get(tx::tx_events)),
        route(M::GET, paths::STATUS, get(ledger::status)),
        route(M::GET, paths::SUPPLY, get(ledger::supply)),
        route(M::GET, paths::PRICES, get(ledger::prices)),
        route(M::GET, paths::CATALOGUE, get(ledger::catalogue)),
        route(M::GET, paths::ACCOUNT, get(ledger::account)),
        route(M::GET, paths::SYSTEM_ACCOUNTS, get(ledger::system_accounts)),
        route(M::GET, paths::FARMS, get(capacity::farms)),
        route(M::GET, paths::NODES, get(capacity::nodes)),
        route(M::GET, paths::LEASES, get(capacity::leases)),
        route(M::GET, paths::CAPACITY_SEARCH, get(capacity::search)),
        route(M::GET, paths::CAPACITY_EXPLAIN, get(capacity::explain)),
        route(M::GET, paths::CAPACITY_STANDING_BIDS, get(capacity::standing_bids)),
        route(M::GET, paths::CAPACITY_REQUESTS, get(capacity::requests)),
        route(M::GET, paths::CAPACITY_REQUEST, get(capacity::request)),
        route(M::GET, paths::FARMING_POOLS, get(farming_pool::pools)),
        route(M::GET, paths::FARMING_POOL, get(farming_pool::pool)),
        route(M::GET, paths::POOL2, get(pool2::pool2)),
        route(M::GET, paths::TREASURY, get(treasury::treasury)),
        route(M::GET, paths::EXIT_POOL_ROUND, get(exit_pool::round)),
        route(M::GET, paths::EXIT_POOL_ROUNDS, get(exit_pool::rounds)),
        route(M::GET, paths::EXIT_POOL_ROUND_RESULT, get(exit_pool::round_result)),
        route(M::GET, paths::EXIT_POOL_POSITIONS, get(exit_pool::positions)),
        route(M::GET, paths::EXIT_POOL_BIDS, get(exit_pool::own_bids)),
        route(M::GET, paths::GUARDIANS, get(governance::guardians)),
        route(M::GET, paths::PARAMS, get(governance::params)),
        route(M::GET, paths::PARAM_CHANGES, get(governance::param_changes)),
        route(M::GET, paths::MINT_REPORTS, get(rewards::mint_reports)),
        route(M::GET, paths::MINT_REPORT, get(rewards::mint_report)),
        route(M::GET, paths::VESTING, get(rewards::vesting)),
        route(M::GET, paths::NODE_UPTIME, get(rewards::node_uptime)),
        route(M::GET, paths::CALC_NODE, get(calc::calc_node)),
        route(M::GET, paths::CALC_TABLE, get(calc::calc_table)),
        route(M::GET, paths::EXCHANGE_MARKETS, get(exchange::markets)),
        route(M::GET, paths::EXCHANGE_BATCHES, get(exchange::batches)),
        route(M::GET, paths::EXCHANGE_DEPTH, get(exchange::depth)),
        route(M::GET, paths::EXCHANGE_ORDERS, get(exchange::own_orders)),
        route(M::GET, paths::EXCHANGE_FILLS, get(exchange::own_fills)),
        route(M::GET, paths::CHECKPOINTS, get(checkpoints::list)),
        route(M::POST, paths::CHECKPOINTS, post(checkpoints::propose)),
        route(M::POST, paths::CHECKPOINT_SIGNATURES, post(checkpoints::sign)),
        route(M::GET, paths::JOURNAL, get(checkpoints::journal)),
        route(M::GET, paths::JOURNAL_GENESIS, get(checkpoints::genesis)),
        route(M::GET, paths::JOURNAL_STREAM, get(crate::api::journal_stream::stream)),
        route(M::GET, paths::EVENTS, get(events::stream)),
        route(M::GET, paths::ACCOUNT_EVENTS, get(events::account_events)),
        route(M::GET, paths::METRICS, get(metrics)),
    ]
}

/// The router with every route, its fallbacks and its layers.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let mut router = Router::new();
    for route in routes() {
        router = router.route(route.path, route.handler);
    }
    // The web app's static files: not API operations, so not in `routes()` nor the OpenAPI document.
    router = router.route(web::ASSETS_ROUTE, get(web::asset));
    router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), refuse_when_failed))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(state.config.body_timeout_s.max(1))))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(close_after_unread_body))
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(TxRateLimit::new(&state.config)))
        .layer(Extension(crate::api::tx::KeyCache::default()))
        .layer(middleware::from_fn_with_state(state.metrics.clone(), crate::metrics::track_requests))
        .with_state(state)
}

/// `GET /metrics`: the Prometheus text exposition format ([`crate::metrics`]); the scrape-time gauges are
/// read under a short read lock of the replica.
async fn metrics(AxumState(app): AxumState<AppState>) -> Result<Response, ApiError> {
    let streams_open = crate::events::MAX_STREAMS.saturating_sub(app.events.streams.available_permits());
    let text = {
        let replica = app.replica.read();
        app.metrics.render(replica.state(), replica.head_seq(), streams_open)
    };
    let text = text.map_err(|error| ApiError::new(ErrorCode::Unavailable, format!("metrics: {error}")))?;
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no route {}", request.uri().path()))
}

/// After a failed journal append the in-memory state may hold changes that are not durable: nothing is served
/// from it (503) until the process stops and a restart replays the journal.
async fn refuse_when_failed(AxumState(app): AxumState<AppState>, request: Request, next: Next) -> Response {
    if app.writer.storage_failed() {
        return ApiError::new(ErrorCode::Unavailable, "the server stopped after a storage failure")
            .into_response();
    }
    next.run(request).await
}

/// A request refused before its body was read to the end (413 too large, 408 too slow) leaves unread bytes
/// on its connection, which can then carry no other request: the answer says `Connection: close`, so that
/// the client opens a new connection rather than sending its next request on one the server closes (found
/// as a flaky "error sending request" right after a 413 in the HTTP error test).
async fn close_after_unread_body(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if matches!(response.status(), StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT) {
        response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    response
}

/// Error answers made by the framework (a wrong method, a body it could not read) get the JSON error body;
/// their status and headers (e.g. `Allow`) are kept.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            (ErrorCode::MethodNotAllowed, "this path does not answer this method")
        }
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "the request body is too large"),
        StatusCode::SERVICE_UNAVAILABLE => (ErrorCode::Unavailable, "the server is unavailable"),
        _ => (ErrorCode::InvalidRequest, "the request could not be read"),
    };
    let (mut parts, _) = response.into_parts();
    let body = ApiError::new(code, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    let (_, json) = body.into_parts();
    Response::from_parts(parts, json)
}
