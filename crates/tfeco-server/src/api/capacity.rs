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
pub fn search_query(query: &SearchQuery) -> Result<tfeco_core::SearchQuery, ApiError> {
    let limit = check_range("limit", query.limit, 1, MAX_SEARCH_LIMIT)?;
    Ok(tfeco_core::SearchQuery {
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
    let view = views::capacity::request(app.replica.read().state(), tfeco_core::CapacityRequestId(id));
    view.map(Json).ok_or_else(|| ApiError::from_rejection(&Rejection::CapacityRequestNotFound))
}

#[cfg(test)]
mod tests {
    use tfeco_core::Requirements;
    use tfeco_core::{Billing, FarmId};

    use super::*;
    use crate::api::extract::parse_query;

    fn search(text: &str) -> Result<tfeco_core::SearchQuery, ApiError> {
        search_query(&parse_query::<SearchQuery>(text)?)
    }

    fn refused<T: std::fmt::Debug>(result: Result<T, ApiError>) -> String {
        let error = result.expect_err("the query must be refused");
        assert_eq!(error.code(), ErrorCode::InvalidQuery);
        let body = axum::response::IntoResponse::into_response(error);
        assert_eq!(body.status(), axum::http::StatusCode::BAD_REQUEST);
        let bytes = futures_body(body);
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        json["message"].as_str().unwrap().to_owned()
    }

    fn futures_body(response: axum::response::Response) -> Vec<u8> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap().to_vec()
    }

    #[test]
    fn search_query_parses_every_parameter() {
        let query = search(
            "min_cores=2&min_passmark=2000&min_mem_gb=8&min_ssd_gb=100&min_ai_mem_gb=24&min_ai_tps=5\
             &certified_only=true&farm=3&max_price=2.0&billing=hourly&min_free=2&limit=20",
        )
        .unwrap();
        let expected = tfeco_core::SearchQuery {
            requirements: Requirements {
                min_cores: 2,
                min_passmark: 2000,
                min_mem_gb: 8,
                min_ssd_gb: 100,
                min_ai_mem_gb: 24,
                min_ai_tps: 5,
                certified_only: true,
                farm_id: Some(FarmId(3)),
            },
            max_price_month: Some("2".parse().unwrap()),
            billing: Some(Billing::Hourly),
            min_free_slices: 2,
            limit: 20,
        };
        assert_eq!(query, expected);
        assert_eq!(search("").unwrap(), tfeco_core::SearchQuery::default());
    }

    #[test]
    fn bad_search_parameters_are_named() {
        for (text, param, needle) in [
            ("min_mem_gb=eight", "min_mem_gb", "whole number"),
            ("min_mem_gb=-1", "min_mem_gb", "whole number"),
            ("min_mem_gb=4294967296", "min_mem_gb", "whole number"),
            ("certified_only=yes", "certified_only", "true or false"),
            ("max_price=1.123456789", "max_price", "decimals"),
            ("max_price=-1", "max_price", "negative"),
            ("billing=weekly", "billing", "hourly"),
            ("limit=0", "limit", "1 to 10000"),
            ("limit=10001", "limit", "1 to 10000"),
            ("farm=x", "farm", "whole number"),
            ("gpu_ram=24", "gpu_ram", "unknown parameter"),
            ("min_mem_gb=8&min_mem_gb=16", "min_mem_gb", "more than once"),
            ("n_slices=2", "n_slices", "unknown parameter"),
        ] {
            let message = refused(search(text));
            assert!(message.starts_with(&format!("{param}: ")), "{text}: {message}");
            assert!(message.contains(needle), "{needle} in {message}");
        }
        let unknown = refused(search("mem=8"));
        assert!(unknown.contains("min_mem_gb") && unknown.contains("limit"), "{unknown}");
    }

    #[test]
    fn explain_query_defaults_and_errors() {
        let query = parse_query::<ExplainQuery>("min_mem_gb=64&n_slices=4&max_price=2.0").unwrap();
        assert_eq!(query.requirements().min_mem_gb, 64);
        assert_eq!((query.n_slices, query.max_price), (Some(4), Some("2".parse().unwrap())));
        let query = parse_query::<ExplainQuery>("").unwrap();
        assert_eq!((query.n_slices, query.max_price), (None, None));
        assert!(refused(parse_query::<ExplainQuery>("limit=3")).starts_with("limit: "));
        assert!(refused(parse_query::<ExplainQuery>("billing=hourly")).starts_with("billing: "));
        let zero = parse_query::<ExplainQuery>("n_slices=0").unwrap();
        assert!(refused(check_range("n_slices", zero.n_slices, 1, u32::MAX)).starts_with("n_slices: "));
    }
}
