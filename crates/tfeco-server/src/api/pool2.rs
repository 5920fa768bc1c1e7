//! The handler of Pool 2: `/v1/pool2`.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::pool2::Pool2View;

use crate::app::AppState;
use crate::views;

/// `GET /v1/pool2`.
pub async fn pool2(AxumState(app): AxumState<AppState>) -> Json<Pool2View> {
    Json(views::pool2::pool2(app.replica.read().state()))
}
