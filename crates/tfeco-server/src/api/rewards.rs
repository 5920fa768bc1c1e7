//! Handlers of minting and vesting: `/v1/mint/reports`, `/v1/mint/reports/{period}`, `/v1/vesting`,
//! `/v1/nodes/{id}/uptime`.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::rewards::{MintReportDetail, MintReportsView, UptimeView, VestingQuery, VestingView};
use tfeco_api::ErrorCode;
use tfeco_core::{NodeId, Rejection};

use crate::api::error::ApiError;
use crate::api::extract::{PathParam, Query};
use crate::app::AppState;
use crate::views;

/// `GET /v1/mint/reports`.
pub async fn mint_reports(AxumState(app): AxumState<AppState>) -> Json<MintReportsView> {
    Json(views::rewards::mint_reports(app.replica.read().state()))
}

/// `GET /v1/mint/reports/{period}`.
pub async fn mint_report(
    AxumState(app): AxumState<AppState>,
    period: PathParam,
) -> Result<Json<MintReportDetail>, ApiError> {
    let period: u32 = period
        .0
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::InvalidPeriod, "the period must be a whole number"))?;
    let view = views::rewards::mint_report(app.replica.read().state(), period);
    view.map(Json).ok_or_else(|| ApiError::from_rejection(&Rejection::ReportNotFound))
}

/// `GET /v1/vesting`.
pub async fn vesting(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<VestingQuery>,
) -> Json<VestingView> {
    Json(views::rewards::vesting(app.replica.read().state(), query.owner))
}

/// `GET /v1/nodes/{id}/uptime`.
pub async fn node_uptime(
    AxumState(app): AxumState<AppState>,
    id: PathParam,
) -> Result<Json<UptimeView>, ApiError> {
    let id: u32 =
        id.0.parse()
            .map_err(|_| ApiError::new(ErrorCode::InvalidNode, "the node id must be a whole number"))?;
    let view = views::rewards::uptime(app.replica.read().state(), NodeId(id));
    view.map(Json).ok_or_else(|| ApiError::from_rejection(&Rejection::NodeNotFound))
}
