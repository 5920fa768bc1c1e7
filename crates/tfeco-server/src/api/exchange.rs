//! Handlers of the in-wallet exchange: `/v1/exchange/markets`, `/markets/{id}/batches`,
//! `/markets/{id}/depth` and the signed reads `/orders` and `/fills`. Orders are placed, amended and
//! cancelled with signed `POST /v1/tx` commands.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::exchange::{
    BatchesQuery, BatchesView, DepthView, ExchangeMarketsView, OwnFillsView, OwnOrdersView,
    DEFAULT_BATCH_LIMIT, MAX_BATCH_LIMIT,
};
use tfeco_api::ErrorCode;
use tfeco_core::Rejection;

use crate::api::error::ApiError;
use crate::api::extract::{check_range, PathParam, Query};
use crate::api::signed_read::SignedReader;
use crate::app::AppState;
use crate::views;

/// `GET /v1/exchange/markets`.
pub async fn markets(AxumState(app): AxumState<AppState>) -> Json<ExchangeMarketsView> {
    Json(views::exchange::markets(app.replica.read().state()))
}

fn market_id(raw: &PathParam) -> Result<tfeco_core::MarketId, ApiError> {
    raw.id(ErrorCode::InvalidId, "market").map(tfeco_core::MarketId)
}

fn market_not_found() -> ApiError {
    ApiError::from_rejection(&Rejection::MarketNotFound)
}

/// `GET /v1/exchange/markets/{id}/batches`.
pub async fn batches(
    AxumState(app): AxumState<AppState>,
    id: PathParam,
    Query(query): Query<BatchesQuery>,
) -> Result<Json<BatchesView>, ApiError> {
    let id = market_id(&id)?;
    let limit = check_range("limit", query.limit, 1, MAX_BATCH_LIMIT)?.unwrap_or(DEFAULT_BATCH_LIMIT);
    let replica = app.replica.read();
    if !views::exchange::market_exists(replica.state(), id) {
        return Err(market_not_found());
    }
    Ok(Json(views::exchange::batches(replica.state(), id, limit as usize)))
}

/// `GET /v1/exchange/markets/{id}/depth`.
pub async fn depth(AxumState(app): AxumState<AppState>, id: PathParam) -> Result<Json<DepthView>, ApiError> {
    let id = market_id(&id)?;
    let replica = app.replica.read();
    if !views::exchange::market_exists(replica.state(), id) {
        return Err(market_not_found());
    }
    Ok(Json(views::exchange::depth(replica.state(), id)))
}

/// `GET /v1/exchange/orders` (signed read).
pub async fn own_orders(
    AxumState(app): AxumState<AppState>,
    SignedReader(reader): SignedReader,
) -> Json<OwnOrdersView> {
    Json(views::exchange::own_orders(app.replica.read().state(), reader))
}

/// `GET /v1/exchange/fills` (signed read).
pub async fn own_fills(
    AxumState(app): AxumState<AppState>,
    SignedReader(reader): SignedReader,
) -> Json<OwnFillsView> {
    Json(views::exchange::own_fills(app.replica.read().state(), reader))
}
