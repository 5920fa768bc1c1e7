//! Handlers of the capacity market: `/v1/farms`, `/v1/nodes`, `/v1/leases` and `/v1/capacity/*` (search,
//! explain, standing bids, capacity requests). Query parameters are typed (`tfeco_api::capacity`); a bad
//! one answers 400 `invalid_query` naming it.

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::capacity::{
    CapacityRequestView, CapacityRequestsQuery, CapacityRequestsView, ExplainQuery, ExplainView, FarmsView,
    LeasesQuery, LeasesView, NodesQuery, NodesView, SearchQuery, SearchView, StandingBidsQuery,
    StandingBidsView, MAX_SEARCH_LIMIT,
};
use tfeco_api::ErrorCode;
use tfeco_core::Rejection;

use crate::api::error::ApiError;
use crate::api::extract::{check_range, PathParam, Query};
use crate::app::AppState;
use crate::views;

/// `GET /v1/farms`.
pub async fn farms(AxumState(app): AxumState<AppState>) -> Json<FarmsView> {
    Json(views::capacity::farms(app.replica.read().state()))
}

/// `GET /v1/nodes`.
pub async fn nodes(AxumState(app): AxumState<AppState>, Query(query): Query<NodesQuery>) -> Json<NodesView> {
    Json(views::capacity::nodes(app.replica.read().state(), query.farm))
}

/// `GET /v1/leases`.
pub async fn leases(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<LeasesQuery>,
) -> Json<LeasesView> {
    Json(views::capacity::leases(app.replica.read().state(), query.tenant, query.open))
}

/// The core's search query of a parsed `/v1/capacity/search` query.
///
/// # Errors
/// `limit` outside 1 to 10,000.
pub fn search_query(query: &SearchQuery) -> Result<tfeco_core::capacity::SearchQuery, ApiError> {
    let limit = check_range("limit", query.limit, 1, MAX_SEARCH_LIMIT)?;
    Ok(tfeco_core::capacity::SearchQuery {
        requirements: query.requirements(),
        max_price_month: query.max_price,
        billing: query.billing,
        min_free_slices: query.min_free.unwrap_or(0),
        limit: limit.unwrap_or(0),
    })
}

/// `GET /v1/capacity/search`.
pub async fn search(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchView>, ApiError> {
    let query = search_query(&query)?;
    // The hits are owned: the lock is released before they are serialized.
    let view = views::capacity::search(app.replica.read().state(), &query);
    Ok(Json(view))
}

/// `GET /v1/capacity/explain`.
pub async fn explain(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<ExplainQuery>,
) -> Result<Json<ExplainView>, ApiError> {
    let n_slices = check_range("n_slices", query.n_slices, 1, u32::MAX)?.unwrap_or(1);
    let replica = app.replica.read();
    Ok(Json(views::capacity::explain(replica.state(), &query.requirements(), n_slices, query.max_price)))
}

/// `GET /v1/capacity/standing-bids`.
pub async fn standing_bids(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<StandingBidsQuery>,
) -> Json<StandingBidsView> {
    Json(views::capacity::standing_bids(app.replica.read().state(), query.buyer, query.open))
}

/// `GET /v1/capacity/requests`.
pub async fn requests(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<CapacityRequestsQuery>,
) -> Json<CapacityRequestsView> {
    Json(views::capacity::requests(app.replica.read().state(), query.requester, query.open))
}

/// `GET /v1/capacity/requests/{id}`.
pub async fn request(
    AxumState(app): AxumState<AppState>,
    id: PathParam,
) -> Result<Json<CapacityRequestView>, ApiError> {
    let id: u64 = id.id(ErrorCode::InvalidId, "capacity request")?;
    let view = views::capacity::request(app.replica.read().state(), id);
    view.map(Json).ok_or_else(|| ApiError::from_rejection(&Rejection::CapacityRequestNotFound))
}
