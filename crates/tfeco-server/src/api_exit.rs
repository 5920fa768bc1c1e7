//! HTTP views of Pool 2 and the exit pool: the reserve and conversion rates, positions, the current round
//! (sealed: aggregate counts only), published round results, and one's own bids through a signed read.

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tfeco_core::{AccountKey, SystemAccount};
use tfeco_money::{Rounding, Tfp, Usdc};

use crate::api::{ApiError, AppState};
use crate::now_unix_ms;

/// Header carrying the reading account (hex key).
pub const HEADER_ACCOUNT: &str = "x-tfeco-account";
/// Header carrying the unix timestamp of a signed read.
pub const HEADER_TIMESTAMP: &str = "x-tfeco-timestamp";
/// Header carrying the hex signature of a signed read.
pub const HEADER_SIGNATURE: &str = "x-tfeco-signature";
/// How far a signed read's timestamp may be from the server's clock, seconds.
pub const READ_WINDOW_S: i64 = 300;

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/pool2", get(pool2))
        .route("/v1/exit/round", get(round))
        .route("/v1/exit/rounds", get(rounds))
        .route("/v1/exit/rounds/{id}", get(round_result))
        .route("/v1/exit/positions", get(positions))
        .route("/v1/exit/bids", get(own_bids))
}

/// Checks a signed read of `path` and returns the reader.
pub fn signed_reader(headers: &HeaderMap, path: &str) -> Result<AccountKey, ApiError> {
    let header = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "signed_read_required", format!("missing header {name}"))
        })
    };
    let account: AccountKey = header(HEADER_ACCOUNT)?
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_account", "bad account header"))?;
    let timestamp: i64 = header(HEADER_TIMESTAMP)?
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "bad timestamp header"))?;
    if (now_unix_ms() / 1000 - timestamp).abs() > READ_WINDOW_S {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "request_expired",
            "the signed read is too old or too new",
        ));
    }
    let signature = hex::decode(header(HEADER_SIGNATURE)?)
        .map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", "signature is not hex"))?;
    tfeco_core::command::verify_read(&account, path, timestamp, &signature).map_err(|_| {
        ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", "the read signature does not verify")
    })?;
    Ok(account)
}

async fn pool2(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let reserve = state.ledger().system_balance::<Tfp>(SystemAccount::Pool2Reserve);
    let rates = state.prices().ok().map(|p| {
        let one = 10_000_000u128;
        json!({
            "tfp_per_cc": tfeco_money::Amount::<Tfp>::from_units(p.tft_for_cc(one, Rounding::Down).map_or(0, |u| u as i128)),
            "cc_per_tfp": tfeco_money::Amount::<Tfp>::from_units(p.cc_for_tft(one, Rounding::Down).map_or(0, |u| u as i128)),
        })
    });
    Json(json!({ "reserve_tfp": reserve, "rates": rates }))
}

async fn round(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let exit = state.exit_pool();
    let round = exit.round();
    Json(json!({
        "round_id": round.id,
        "opened_at": round.opened_at,
        "closes_at": round.closes_at,
        "lock_window_starts_at": round.closes_at - state.params().exit_lock_window_s,
        "open_bids": exit.bids().len(),
        "pool_usdc": state.ledger().system_balance::<Usdc>(SystemAccount::ExitPoolUsdc),
        "pool_tfp": state.ledger().system_balance::<Tfp>(SystemAccount::ExitPoolTfp),
        "positions": exit.positions().len(),
        "total_value_contributed_usd": exit.total_value_contributed(),
        "total_usdc_paid": exit.total_usdc_paid(),
    }))
}

async fn rounds(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let list: Vec<Value> = node
        .state()
        .exit_pool()
        .history()
        .iter()
        .map(|r| {
            json!({
                "round_id": r.round_id, "closed_at": r.closed_at, "ref_price": r.ref_price,
                "clearing_price": r.clearing_price, "cap": r.cap, "total_paid": r.total_paid,
                "tfp_surrendered": r.tfp_surrendered, "margin_tfp": r.margin_tfp, "bids": r.bids.len(), "note": r.note,
            })
        })
        .collect();
    Json(json!({ "rounds": list }))
}

async fn round_result(
    AxumState(app): AxumState<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let node = app.node.read();
    let result = node.state().exit_pool().history().iter().find(|r| r.round_id.0 == id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "round_not_found", "no published result for this round")
    })?;
    Ok(Json(serde_json::to_value(result).unwrap_or(Value::Null)))
}

#[derive(Deserialize)]
struct OwnerFilter {
    owner: Option<String>,
}

async fn positions(
    AxumState(app): AxumState<AppState>,
    Query(filter): Query<OwnerFilter>,
) -> Result<Json<Value>, ApiError> {
    let owner: Option<AccountKey> = match filter.owner {
        Some(text) => Some(
            text.parse()
                .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_account", "bad owner key"))?,
        ),
        None => None,
    };
    let node = app.node.read();
    let list: Vec<Value> = node
        .state()
        .exit_pool()
        .positions()
        .values()
        .filter(|p| owner.is_none_or(|o| p.owner == o))
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            v["free"] = json!(p.free());
            v
        })
        .collect();
    Ok(Json(json!({ "positions": list })))
}

async fn own_bids(AxumState(app): AxumState<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let reader = signed_reader(&headers, "/v1/exit/bids")?;
    let node = app.node.read();
    let list: Vec<Value> = node
        .state()
        .exit_pool()
        .bids()
        .values()
        .filter(|b| b.owner == reader)
        .map(|b| serde_json::to_value(b).unwrap_or(Value::Null))
        .collect();
    Ok(Json(json!({ "round_id": node.state().exit_pool().round().id, "bids": list })))
}
