//! Handlers of the exit pool: `/v1/exit-pool/round`, `/rounds`, `/rounds/{id}`, `/positions` and the
//! signed read `/bids`.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::exit_pool::{
    ExitRoundResult, ExitRoundView, ExitRoundsView, OwnExitBidsView, PositionsQuery, PositionsView,
};
use tfeco_api::ErrorCode;

use crate::api::error::ApiError;
use crate::api::extract::{PathParam, Query};
use crate::api::signed_read::SignedReader;
use crate::app::AppState;
use crate::views;

/// `GET /v1/exit-pool/round`.
pub async fn round(AxumState(app): AxumState<AppState>) -> Json<ExitRoundView> {
    Json(views::exit_pool::round(app.replica.read().state()))
}

/// `GET /v1/exit-pool/rounds`.
pub async fn rounds(AxumState(app): AxumState<AppState>) -> Json<ExitRoundsView> {
    Json(views::exit_pool::rounds(app.replica.read().state()))
}

/// `GET /v1/exit-pool/rounds/{id}`.
pub async fn round_result(
    AxumState(app): AxumState<AppState>,
    id: PathParam,
) -> Result<Json<ExitRoundResult>, ApiError> {
    let id: u64 = id.id(ErrorCode::InvalidId, "round")?;
    let view = views::exit_pool::round_result_of(app.replica.read().state(), id);
    view.map(Json)
        .ok_or_else(|| ApiError::new(ErrorCode::RoundNotFound, "no published result for this round"))
}

/// `GET /v1/exit-pool/positions`.
pub async fn positions(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<PositionsQuery>,
) -> Json<PositionsView> {
    Json(views::exit_pool::positions(app.replica.read().state(), query.owner))
}

/// `GET /v1/exit-pool/bids` (signed read).
pub async fn own_bids(
    AxumState(app): AxumState<AppState>,
    SignedReader(reader): SignedReader,
) -> Json<OwnExitBidsView> {
    Json(views::exit_pool::own_bids(app.replica.read().state(), reader))
}
