//! Handlers of farming pools: `/v1/farming-pools`, `/v1/farming-pools/{id}`.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::farming_pool::{FarmingPoolDetail, FarmingPoolsView};
use tfeco_api::ErrorCode;
use tfeco_core::Rejection;

use crate::api::error::ApiError;
use crate::api::extract::PathParam;
use crate::app::AppState;
use crate::views;

/// `GET /v1/farming-pools`.
pub async fn pools(AxumState(app): AxumState<AppState>) -> Json<FarmingPoolsView> {
    Json(views::farming_pool::pools(app.replica.read().state()))
}

/// `GET /v1/farming-pools/{id}`.
pub async fn pool(
    AxumState(app): AxumState<AppState>,
    id: PathParam,
) -> Result<Json<FarmingPoolDetail>, ApiError> {
    let id: u64 = id.id(ErrorCode::InvalidId, "farming pool")?;
    let view = views::farming_pool::pool(app.replica.read().state(), tfeco_core::FarmingPoolId(id));
    view.map(Json).ok_or_else(|| ApiError::from_rejection(&Rejection::PoolNotFound))
}
