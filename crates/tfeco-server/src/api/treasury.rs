//! The handler of the treasury report: `/v1/treasury`.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::treasury::TreasuryView;

use crate::app::AppState;
use crate::views;

/// `GET /v1/treasury`.
pub async fn treasury(AxumState(app): AxumState<AppState>) -> Json<TreasuryView> {
    Json(views::treasury::treasury(app.replica.read().state()))
}
