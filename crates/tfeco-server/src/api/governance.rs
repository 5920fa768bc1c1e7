//! Handlers of guardian governance: `/v1/guardians`, `/v1/param-changes`.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::governance::{GuardiansView, ParamChangesQuery, ParamChangesView};

use crate::api::extract::Query;
use crate::app::AppState;
use crate::views;

/// `GET /v1/params`: the parameters in force.
pub async fn params(AxumState(app): AxumState<AppState>) -> Json<tfeco_core::Params> {
    Json(app.replica.read().state().params().clone())
}

/// `GET /v1/guardians`.
pub async fn guardians(AxumState(app): AxumState<AppState>) -> Json<GuardiansView> {
    Json(views::governance::guardians(app.replica.read().state().params()))
}

/// `GET /v1/param-changes`.
pub async fn param_changes(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<ParamChangesQuery>,
) -> Json<ParamChangesView> {
    Json(views::governance::param_changes(app.replica.read().state(), query.status))
}
