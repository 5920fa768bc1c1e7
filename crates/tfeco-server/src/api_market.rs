//! HTTP views of the capacity marketplace (spec `decisions.md` §9-10) and of the farmer income calculator:
//!
//! - `GET /v1/market/search`: listed slices meeting per-slice requirements, cheapest first
//!   ([`tfeco_core::capacity::search`]);
//! - `GET /v1/market/explain`: why `n_slices` at a price ceiling cannot be had, one reason per blocking
//!   requirement ([`tfeco_core::capacity::explain_shortfall`]);
//! - `GET /v1/market/standing-bids`, `/v1/market/requests`, `/v1/market/requests/{id}`: standing bids (bid
//!   tiers) and capacity requests (reverse auctions; offers are public, not sealed), with outcomes;
//! - `GET /v1/farming-pools`, `/v1/farming-pools/{id}`: farming pools, their rules and members;
//! - `GET /v1/calc/node`, `/v1/calc/table`: the numbers of `tfeco calc node` / `tfeco calc table`
//!   ([`tfeco_core::roi`]) over the node's own catalogue, so a web page can show them.
//!
//! Every route reads the state under the read lock without cloning it; the search is one pass over the
//! nodes, and its hits are serialized after the lock is released. Query parameters are parsed strictly: an
//! unknown, repeated or malformed parameter is a 400 with code `invalid_query` whose message starts with
//! the parameter's name (`min_mem_gb: expected a whole number ...`). Amounts are decimal strings.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use tfeco_core::capacity::{self, CapacityRequest, Requirements, SearchHit, SearchQuery, StandingBid};
use tfeco_core::farming::FarmingPool;
use tfeco_core::roi::{
    self, Fraction, HwCostBasis, IncomeQuery, PriceChoice, RoiError, RoiParams, Utilization,
};
use tfeco_core::{AccountKey, Billing, FarmId, Rejection, State};
use tfeco_money::{Amount, Bps, Cc, Price, Ratio};

use crate::api::{ApiError, AppState};

/// Most search results one call returns (the core's own ceiling).
pub const MAX_SEARCH_LIMIT: u32 = 10_000;

/// Query parameters naming a per-slice requirement ([`Requirements`]), shared by search and explain.
pub const REQUIREMENT_PARAMS: [&str; 8] = [
    "min_cores",
    "min_passmark",
    "min_mem_gb",
    "min_ssd_gb",
    "min_ai_mem_gb",
    "min_ai_tps",
    "certified_only",
    "farm",
];

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/market/search", get(search))
        .route("/v1/market/explain", get(explain))
        .route("/v1/market/standing-bids", get(standing_bids))
        .route("/v1/market/requests", get(requests))
        .route("/v1/market/requests/{id}", get(request))
        .route("/v1/farming-pools", get(pools))
        .route("/v1/farming-pools/{id}", get(pool))
        .route("/v1/calc/node", get(calc_node))
        .route("/v1/calc/table", get(calc_table))
}

// ---------------------------------------------------------------------------------------------------------
// Query parsing
// ---------------------------------------------------------------------------------------------------------

/// A refused query parameter: its name and what is wrong. Answered as 400 `invalid_query`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// The parameter (as written in the query string).
    pub param: String,
    /// What is wrong with it.
    pub reason: String,
}

impl QueryError {
    fn new(param: &str, reason: impl Into<String>) -> Self {
        QueryError { param: param.to_owned(), reason: reason.into() }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.param, self.reason)
    }
}

impl std::error::Error for QueryError {}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", error.to_string())
    }
}

/// Decoded query pairs (`?a=1&b=2` → `[("a", "1"), ("b", "2")]`), as the extractor hands them over.
type Pairs = Vec<(String, String)>;

/// The query string as pairs; a string that does not decode is a 400 `invalid_query`.
fn pairs(query: Result<Query<Pairs>, QueryRejection>) -> Result<Pairs, ApiError> {
    query.map(|Query(pairs)| pairs).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("the query string does not decode: {e}"),
        )
    })
}

/// The parameters of one call: each known to the endpoint and given at most once.
struct Params<'a> {
    values: BTreeMap<&'a str, &'a str>,
}

impl<'a> Params<'a> {
    /// Checks names against `accepted` (unknown or repeated names are refused).
    fn new(pairs: &'a [(String, String)], accepted: &[&str]) -> Result<Self, QueryError> {
        let mut values = BTreeMap::new();
        for (name, value) in pairs {
            if !accepted.contains(&name.as_str()) {
                return Err(QueryError::new(
                    name,
                    format!("unknown parameter; this endpoint accepts {}", accepted.join(", ")),
                ));
            }
            if values.insert(name.as_str(), value.as_str()).is_some() {
                return Err(QueryError::new(name, "given more than once"));
            }
        }
        Ok(Params { values })
    }

    /// The parameter parsed with `parse`, or `None` when absent.
    fn get<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, QueryError> {
        self.values
            .get(name)
            .map(|raw| parse(raw.trim()).map_err(|reason| QueryError::new(name, reason)))
            .transpose()
    }

    /// A required parameter.
    fn require<T>(&self, name: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, QueryError> {
        self.get(name, parse)?.ok_or_else(|| QueryError::new(name, "required"))
    }
}

fn whole(raw: &str) -> Result<u32, String> {
    raw.parse::<u32>().map_err(|_| format!("expected a whole number from 0 to {}, got {raw:?}", u32::MAX))
}

fn positive(raw: &str) -> Result<u32, String> {
    match whole(raw)? {
        0 => Err("must be at least 1".to_owned()),
        n => Ok(n),
    }
}

fn boolean(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, got {raw:?}")),
    }
}

fn cc(raw: &str) -> Result<Amount<Cc>, String> {
    raw.parse::<Amount<Cc>>().map_err(|e| format!("expected CC per slice-month such as 2.5: {e}"))
}

fn billing(raw: &str) -> Result<Billing, String> {
    match raw {
        "hourly" => Ok(Billing::Hourly),
        "monthly" => Ok(Billing::Monthly),
        _ => Err(format!("expected hourly or monthly, got {raw:?}")),
    }
}

fn parsed<T: FromStr>(raw: &str) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    raw.parse::<T>().map_err(|e| e.to_string())
}

fn requirements(params: &Params<'_>) -> Result<Requirements, QueryError> {
    Ok(Requirements {
        min_cores: params.get("min_cores", whole)?.unwrap_or(0),
        min_passmark: params.get("min_passmark", whole)?.unwrap_or(0),
        min_mem_gb: params.get("min_mem_gb", whole)?.unwrap_or(0),
        min_ssd_gb: params.get("min_ssd_gb", whole)?.unwrap_or(0),
        min_ai_mem_gb: params.get("min_ai_mem_gb", whole)?.unwrap_or(0),
        min_ai_tps: params.get("min_ai_tps", whole)?.unwrap_or(0),
        certified_only: params.get("certified_only", boolean)?.unwrap_or(false),
        farm_id: params.get("farm", whole)?.map(FarmId),
    })
}

fn accepted(extra: &[&'static str]) -> Vec<&'static str> {
    REQUIREMENT_PARAMS.iter().chain(extra).copied().collect()
}

/// Parses the query of `/v1/market/search`: the requirement parameters ([`REQUIREMENT_PARAMS`]) and
/// `max_price` (CC per slice-month; for hourly billing the hourly price × 720), `billing` (`hourly` or
/// `monthly`), `min_free` (free slices per node, default 1) and `limit` (1 to 10,000, default 100).
///
/// # Errors
/// The first unknown, repeated or malformed parameter.
pub fn parse_search_query(pairs: &[(String, String)]) -> Result<SearchQuery, QueryError> {
    let params = Params::new(pairs, &accepted(&["max_price", "billing", "min_free", "limit"]))?;
    let limit = params.get("limit", |raw| match whole(raw)? {
        n @ 1..=MAX_SEARCH_LIMIT => Ok(n),
        _ => Err(format!("expected 1 to {MAX_SEARCH_LIMIT}, got {raw}")),
    })?;
    Ok(SearchQuery {
        requirements: requirements(&params)?,
        max_price_month: params.get("max_price", cc)?,
        billing: params.get("billing", billing)?,
        min_free_slices: params.get("min_free", whole)?.unwrap_or(0),
        limit: limit.unwrap_or(0),
    })
}

/// A parsed `/v1/market/explain` query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainQuery {
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// Slices wanted (default 1).
    pub n_slices: u32,
    /// Highest price per slice-month (`None`: no ceiling).
    pub max_price_month: Option<Amount<Cc>>,
}

/// Parses the query of `/v1/market/explain`: the requirement parameters, `n_slices` (default 1) and
/// `max_price` (CC per slice-month, default no ceiling).
///
/// # Errors
/// The first unknown, repeated or malformed parameter.
pub fn parse_explain_query(pairs: &[(String, String)]) -> Result<ExplainQuery, QueryError> {
    let params = Params::new(pairs, &accepted(&["n_slices", "max_price"]))?;
    Ok(ExplainQuery {
        requirements: requirements(&params)?,
        n_slices: params.get("n_slices", positive)?.unwrap_or(1),
        max_price_month: params.get("max_price", cc)?,
    })
}

// ---------------------------------------------------------------------------------------------------------
// Search and explain
// ---------------------------------------------------------------------------------------------------------

/// The body of `/v1/market/search`.
#[derive(Debug, Serialize)]
pub struct SearchResponse {
    /// Hits, cheapest first (ties: lower node id).
    pub results: Vec<SearchHit>,
    /// Number of hits returned (at most the limit).
    pub count: usize,
}

/// Runs a search on `state` (one pass over the nodes; nothing is cloned but the hits).
pub fn search_response(state: &State, query: &SearchQuery) -> SearchResponse {
    let results = capacity::search(state, query);
    SearchResponse { count: results.len(), results }
}

async fn search(
    AxumState(app): AxumState<AppState>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    let query = parse_search_query(&pairs(query)?)?;
    // The hits are owned: the lock is released before they are serialized.
    let response = search_response(app.node.read().state(), &query);
    Ok(Json(response))
}

/// The body of `/v1/market/explain` for a state: `{ "reasons": [...], "n_slices", "max_price" }`; no
/// reasons means the capacity exists.
pub fn explain_view(state: &State, query: &ExplainQuery) -> Value {
    // "No ceiling" as the core's instant take reads it: far above any price, far below overflow.
    let ceiling = query.max_price_month.unwrap_or(Amount::from_units(i128::MAX / 4));
    let reasons = capacity::explain_shortfall(state, &query.requirements, query.n_slices, ceiling);
    json!({
        "reasons": reasons,
        "satisfiable": reasons.is_empty(),
        "n_slices": query.n_slices,
        "max_price": query.max_price_month,
    })
}

async fn explain(
    AxumState(app): AxumState<AppState>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let query = parse_explain_query(&pairs(query)?)?;
    let node = app.node.read();
    Ok(Json(explain_view(node.state(), &query)))
}

// ---------------------------------------------------------------------------------------------------------
// Standing bids and capacity requests
// ---------------------------------------------------------------------------------------------------------

fn account(raw: &str) -> Result<AccountKey, String> {
    raw.parse::<AccountKey>().map_err(|e| e.to_string())
}

/// One standing bid: its fields plus `quantity` (remaining + filled) and `open` (slices still wanted).
pub fn standing_bid_view(bid: &StandingBid) -> Value {
    let mut view = serde_json::to_value(bid).unwrap_or(Value::Null);
    view["quantity"] = json!(u64::from(bid.remaining) + u64::from(bid.filled));
    view["open"] = json!(bid.remaining > 0);
    view
}

async fn standing_bids(
    AxumState(app): AxumState<AppState>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let pairs = pairs(query)?;
    let params = Params::new(&pairs, &["buyer", "open"])?;
    let buyer = params.get("buyer", account)?;
    let open = params.get("open", boolean)?;
    let node = app.node.read();
    let bids: Vec<Value> = node
        .state()
        .capacity()
        .standing_bids()
        .values()
        .filter(|b| buyer.is_none_or(|k| b.buyer == k))
        .filter(|b| open.is_none_or(|o| (b.remaining > 0) == o))
        .map(standing_bid_view)
        .collect();
    Ok(Json(json!({ "standing_bids": bids })))
}

/// Where a capacity request stands at `now`.
fn request_status(request: &CapacityRequest, now: i64) -> &'static str {
    if request.outcome.is_some() {
        "closed"
    } else if now >= request.closes_at {
        "closing"
    } else {
        "open"
    }
}

/// One capacity request at `now`: its fields, `status` (`open`, `closing`: the window ended and the next
/// `Tick` closes it, or `closed`), and `offers` as a list, cheapest first (the order they win in).
pub fn request_view(request: &CapacityRequest, now: i64) -> Value {
    let mut view = serde_json::to_value(request).unwrap_or(Value::Null);
    let mut offers: Vec<_> = request.offers.values().collect();
    offers.sort_by(|a, b| a.price_month.cmp(&b.price_month).then(a.node_id.cmp(&b.node_id)));
    view["offers"] = serde_json::to_value(offers).unwrap_or(Value::Null);
    view["status"] = json!(request_status(request, now));
    view
}

async fn requests(
    AxumState(app): AxumState<AppState>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let pairs = pairs(query)?;
    let params = Params::new(&pairs, &["requester", "open"])?;
    let requester = params.get("requester", account)?;
    let open = params.get("open", boolean)?;
    let node = app.node.read();
    let state = node.state();
    let list: Vec<Value> = state
        .capacity()
        .requests()
        .values()
        .filter(|r| requester.is_none_or(|k| r.requester == k))
        .filter(|r| open.is_none_or(|o| r.outcome.is_none() == o))
        .map(|r| request_view(r, state.now()))
        .collect();
    Ok(Json(json!({ "now": state.now(), "requests": list })))
}

fn id_from_path(raw: &str, what: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_id", format!("{raw:?} is not a {what} id"))
    })
}

fn not_found(rejection: &Rejection) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, rejection.code(), rejection.to_string())
}

async fn request(
    AxumState(app): AxumState<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id_from_path(&id, "capacity request")?;
    let node = app.node.read();
    let state = node.state();
    let request =
        state.capacity().requests().get(&id).ok_or_else(|| not_found(&Rejection::CapacityRequestNotFound))?;
    Ok(Json(request_view(request, state.now())))
}

// ---------------------------------------------------------------------------------------------------------
// Farming pools
// ---------------------------------------------------------------------------------------------------------

/// Farms whose join or leave one side signed: who signed and whose signature completes it.
fn pending_view(pending: &BTreeMap<FarmId, bool>) -> Value {
    let list: Vec<Value> = pending
        .iter()
        .map(|(farm, by_farmer)| {
            let (signed, awaiting) =
                if *by_farmer { ("farmer", "pool_owner") } else { ("pool_owner", "farmer") };
            json!({ "farm_id": farm, "signed_by": signed, "awaiting": awaiting })
        })
        .collect();
    Value::Array(list)
}

/// One farming pool: id, owner, name, rules (as in `create_farming_pool`), members and pending changes.
pub fn pool_view(pool: &FarmingPool) -> Value {
    json!({
        "id": pool.id,
        "owner": pool.owner,
        "name": pool.name,
        "rules": pool.rules,
        "members": pool.members,
        "pending_joins": pending_view(&pool.pending_joins),
        "pending_leaves": pending_view(&pool.pending_leaves),
    })
}

async fn pools(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let list: Vec<Value> = node.state().farming().pools().values().map(pool_view).collect();
    Json(json!({ "pools": list }))
}

async fn pool(AxumState(app): AxumState<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = id_from_path(&id, "farming pool")?;
    let node = app.node.read();
    let state = node.state();
    let pool = state.farming().pools().get(&id).ok_or_else(|| not_found(&Rejection::PoolNotFound))?;
    let mut view = pool_view(pool);
    let farms = state.market().farms();
    let member_nodes: Vec<_> =
        pool.members.iter().filter_map(|f| farms.get(f)).flat_map(|f| f.nodes.iter().copied()).collect();
    view["member_nodes"] = json!(member_nodes);
    Ok(Json(view))
}

// ---------------------------------------------------------------------------------------------------------
// Income calculator
// ---------------------------------------------------------------------------------------------------------

/// A refused calculation: unknown model 404, anything else 422, with the calculator's stable code.
fn roi_error(error: &RoiError) -> ApiError {
    let (status, code) = match error {
        RoiError::UnknownModel { .. } => (StatusCode::NOT_FOUND, "unknown_model"),
        RoiError::PriceOutOfBand { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "price_out_of_band"),
        RoiError::OfferedSlicesOutOfRange { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "offered_slices_out_of_range")
        }
        RoiError::InvalidParam { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_param"),
        RoiError::Overflow => (StatusCode::UNPROCESSABLE_ENTITY, "overflow"),
    };
    ApiError::new(status, code, error.to_string())
}

fn cc_usd(raw: &str) -> Result<Price, String> {
    let price = parsed::<Price>(raw)?;
    if price.is_zero() {
        return Err("the CC price must be greater than 0".to_owned());
    }
    Ok(price)
}

fn share_bps(raw: &str) -> Result<Bps, String> {
    raw.parse::<u16>()
        .ok()
        .and_then(Bps::new)
        .ok_or_else(|| format!("expected whole basis points from 0 to 10000 (8000 = 80%), got {raw:?}"))
}

fn factor(raw: &str) -> Result<Ratio, String> {
    roi::parse_factor(raw).map_err(|e| e.to_string())
}

/// `cc_usd` and `amortization_months` (shared by both calculators) over the tfgrid4-2025 defaults.
fn roi_params(params: &Params<'_>) -> Result<RoiParams, QueryError> {
    let defaults = RoiParams::tfgrid4_2025();
    Ok(RoiParams {
        cc_usd: params.get("cc_usd", cc_usd)?.unwrap_or(defaults.cc_usd),
        amortization_months: params
            .get("amortization_months", positive)?
            .unwrap_or(defaults.amortization_months),
        ..defaults
    })
}

/// A parsed `/v1/calc/node` query: the model name, what to calculate and the parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalcNodeQuery {
    /// Catalogue model name (exact, or a unique case-insensitive match).
    pub model: String,
    /// Utilization, price and offered slices.
    pub income: IncomeQuery,
    /// Calculator parameters.
    pub params: RoiParams,
}

/// Parses the query of `/v1/calc/node`, with the options of `tfeco calc node`: `model`, `utilization`
/// (`0.3` or `30%`) and `price` (`min`, `max` or CC per slice-month) required; `share_bps`,
/// `offered_slices`, `hw_cost` (`whole` or `exact`), `cc_usd` and `amortization_months` optional.
///
/// # Errors
/// The first unknown, repeated, missing or malformed parameter.
pub fn parse_calc_node_query(pairs: &[(String, String)]) -> Result<CalcNodeQuery, QueryError> {
    let params = Params::new(
        pairs,
        &[
            "model",
            "utilization",
            "price",
            "share_bps",
            "offered_slices",
            "hw_cost",
            "cc_usd",
            "amortization_months",
        ],
    )?;
    let model = params.require("model", |raw| Ok(raw.to_owned()))?;
    let income = IncomeQuery {
        utilization: params.require("utilization", parsed::<Utilization>)?,
        price: params.require("price", parsed::<PriceChoice>)?,
        offered_slices: params.get("offered_slices", positive)?,
    };
    let base = roi_params(&params)?;
    let roi_params = RoiParams {
        farmer_share: params.get("share_bps", share_bps)?.unwrap_or(base.farmer_share),
        hw_cost_basis: params.get("hw_cost", parsed::<HwCostBasis>)?.unwrap_or(base.hw_cost_basis),
        ..base
    };
    Ok(CalcNodeQuery { model, income, params: roi_params })
}

/// Parses the query of `/v1/calc/table`: `income_factor_min`, `income_factor_max`, `cc_usd` and
/// `amortization_months`, all optional (tfgrid4-2025 defaults: 1.3, 1.5, 1, 60).
///
/// # Errors
/// The first unknown, repeated or malformed parameter.
pub fn parse_calc_table_query(pairs: &[(String, String)]) -> Result<RoiParams, QueryError> {
    let params =
        Params::new(pairs, &["income_factor_min", "income_factor_max", "cc_usd", "amortization_months"])?;
    let base = roi_params(&params)?;
    Ok(RoiParams {
        income_factor_min: params.get("income_factor_min", factor)?.unwrap_or(base.income_factor_min),
        income_factor_max: params.get("income_factor_max", factor)?.unwrap_or(base.income_factor_max),
        ..base
    })
}

/// The calculator's parameters as JSON (factors as decimals, e.g. `"1.3"`).
fn roi_params_view(params: &RoiParams) -> Value {
    let ratio = |r: Ratio| Fraction::from_ratio(r).map_or_else(|| r.to_string(), |f| f.to_exact_string());
    json!({
        "farmer_share_bps": params.farmer_share.get(),
        "amortization_months": params.amortization_months,
        "income_factor_min": ratio(params.income_factor_min),
        "income_factor_max": ratio(params.income_factor_max),
        "cc_usd": params.cc_usd,
        "hw_cost_basis": params.hw_cost_basis,
    })
}

/// The body of `/v1/calc/node` over `state`'s catalogue: exactly `tfeco calc node --json`.
///
/// # Errors
/// The calculator's refusal (unknown model, price outside the band, offered slices out of range).
pub fn calc_node_view(state: &State, query: &CalcNodeQuery) -> Result<Value, ApiError> {
    let model = roi::find_model(state.catalogue(), &query.model).map_err(|e| roi_error(&e))?;
    let income = roi::node_income(model, &query.income, &query.params).map_err(|e| roi_error(&e))?;
    Ok(serde_json::to_value(income).unwrap_or(Value::Null))
}

/// The body of `/v1/calc/table` over `state`'s catalogue: `{ "params": {...}, "rows": [...] }`, the rows
/// exactly as `tfeco calc table --json`.
///
/// # Errors
/// The calculator's refusal (invalid parameters, overflow).
pub fn calc_table_view(state: &State, params: &RoiParams) -> Result<Value, ApiError> {
    let rows = roi::income_table(state.catalogue(), params).map_err(|e| roi_error(&e))?;
    Ok(json!({ "params": roi_params_view(params), "rows": rows }))
}

async fn calc_node(
    AxumState(app): AxumState<AppState>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let query = parse_calc_node_query(&pairs(query)?)?;
    let node = app.node.read();
    calc_node_view(node.state(), &query).map(Json)
}

async fn calc_table(
    AxumState(app): AxumState<AppState>,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let params = parse_calc_table_query(&pairs(query)?)?;
    let node = app.node.read();
    calc_table_view(node.state(), &params).map(Json)
}

#[cfg(test)]
mod tests {
    use tfeco_core::command::NodeSpec;
    use tfeco_core::{Command, Envelope, Genesis, NodeId, Params as CoreParams, Resources};

    use super::*;

    const CATALOGUE_CSV: &str = include_str!("../../../data/node-catalogue/tfgrid-nodes-q4-2025.csv");

    fn q(text: &str) -> Pairs {
        text.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn err<T: fmt::Debug>(result: Result<T, QueryError>) -> QueryError {
        result.expect_err("the query must be refused")
    }

    #[test]
    fn search_query_parses_every_parameter() {
        let query = parse_search_query(&q(
            "min_cores=2&min_passmark=2000&min_mem_gb=8&min_ssd_gb=100&min_ai_mem_gb=24&min_ai_tps=5\
             &certified_only=true&farm=3&max_price=2.0&billing=hourly&min_free=2&limit=20",
        ))
        .unwrap();
        let expected = SearchQuery {
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
        assert_eq!(parse_search_query(&q("")).unwrap(), SearchQuery::default());
    }

    #[test]
    fn bad_search_parameters_are_named() {
        for (text, param, needle) in [
            ("min_mem_gb=eight", "min_mem_gb", "whole number"),
            ("min_mem_gb=-1", "min_mem_gb", "whole number"),
            ("min_mem_gb=4294967296", "min_mem_gb", "whole number"),
            ("certified_only=yes", "certified_only", "true or false"),
            ("max_price=1.123456789", "max_price", "decimals"),
            ("max_price=-1", "max_price", "CC per slice-month"),
            ("billing=weekly", "billing", "hourly or monthly"),
            ("limit=0", "limit", "1 to 10000"),
            ("limit=10001", "limit", "1 to 10000"),
            ("farm=x", "farm", "whole number"),
            ("gpu_ram=24", "gpu_ram", "unknown parameter"),
            ("min_mem_gb=8&min_mem_gb=16", "min_mem_gb", "more than once"),
            ("n_slices=2", "n_slices", "unknown parameter"),
        ] {
            let error = err(parse_search_query(&q(text)));
            assert_eq!(error.param, param, "{text}");
            assert!(error.reason.contains(needle), "{needle} in {error}");
            assert!(error.to_string().starts_with(&format!("{param}: ")), "{error}");
        }
        let unknown = err(parse_search_query(&q("mem=8")));
        assert!(unknown.reason.contains("min_mem_gb") && unknown.reason.contains("limit"), "{unknown}");
    }

    #[test]
    fn explain_query_defaults_and_errors() {
        let query = parse_explain_query(&q("min_mem_gb=64&n_slices=4&max_price=2.0")).unwrap();
        assert_eq!(query.requirements.min_mem_gb, 64);
        assert_eq!((query.n_slices, query.max_price_month), (4, Some("2".parse().unwrap())));
        let query = parse_explain_query(&q("")).unwrap();
        assert_eq!((query.n_slices, query.max_price_month), (1, None));
        assert_eq!(err(parse_explain_query(&q("n_slices=0"))).param, "n_slices");
        assert_eq!(err(parse_explain_query(&q("limit=3"))).param, "limit");
        assert_eq!(err(parse_explain_query(&q("billing=hourly"))).param, "billing");
    }

    #[test]
    fn calc_queries_parse_like_the_cli() {
        let query =
            parse_calc_node_query(&q("model=Mini 3&utilization=0.3&price=1.5&share_bps=8000")).unwrap();
        assert_eq!(query.model, "Mini 3");
        assert_eq!(query.income.price, PriceChoice::Value("1.5".parse().unwrap()));
        assert_eq!(query.params, RoiParams::tfgrid4_2025());
        assert_eq!(err(parse_calc_node_query(&q("utilization=0.3&price=1.5"))).param, "model");
        assert_eq!(
            err(parse_calc_node_query(&q("model=Mini 3&price=1.5"))).to_string(),
            "utilization: required"
        );
        for (text, param) in [
            ("model=x&utilization=1.5&price=min", "utilization"),
            ("model=x&utilization=0.3&price=cheap", "price"),
            ("model=x&utilization=0.3&price=min&share_bps=10001", "share_bps"),
            ("model=x&utilization=0.3&price=min&cc_usd=0", "cc_usd"),
            ("model=x&utilization=0.3&price=min&hw_cost=round", "hw_cost"),
            ("model=x&utilization=0.3&price=min&amortization_months=0", "amortization_months"),
        ] {
            assert_eq!(err(parse_calc_node_query(&q(text))).param, param, "{text}");
        }
        let params = parse_calc_table_query(&q("income_factor_min=1.2&cc_usd=0.128")).unwrap();
        assert_eq!(params.income_factor_min, Ratio::new(6, 5).unwrap());
        assert_eq!(err(parse_calc_table_query(&q("income_factor_max=x"))).param, "income_factor_max");
        assert_eq!(err(parse_calc_table_query(&q("model=Mini 3"))).param, "model");
    }

    fn key(n: u8) -> AccountKey {
        AccountKey(ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes())
    }

    /// A state with `farms` farms of `per_farm` custom nodes each (32 GB cut in 4 slices: 2 cores, 4,000
    /// passmark, 8 GB and 400 GB SSD per slice; band 2.4..=24 CC), node `i` at `2.4 + (i mod 100) / 100` CC.
    fn market(farms: u32, per_farm: u32) -> State {
        let operator = key(1);
        let farmer = key(2);
        let catalogue = tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap();
        let mut state =
            State::new(Genesis { params: CoreParams::tfgrid4_2025(operator), catalogue, start_time: 0 });
        let mut nonce = 0;
        let mut apply = |state: &mut State, command: Command| {
            nonce += 1;
            state.apply(&Envelope { signer: farmer, nonce, command }).unwrap();
        };
        apply(&mut state, Command::RegisterAccount {});
        let resources =
            Resources { cpu_cores: 8, passmark: 16_000, mem_gb: 32, ssd_gb: 1_600, ai_mem_gb: 0, ai_tps: 0 };
        let mut node = 0u32;
        for farm in 1..=farms {
            apply(&mut state, Command::RegisterFarm { name: format!("farm {farm}") });
            for _ in 0..per_farm {
                node += 1;
                apply(
                    &mut state,
                    Command::RegisterNode {
                        farm_id: FarmId(farm),
                        spec: NodeSpec::Custom { resources, slices: 4 },
                        offered_slices: None,
                    },
                );
                let price = Amount::<Cc>::from_units(24_000_000 + i128::from(node % 100) * 100_000);
                apply(&mut state, Command::SetSlicePrice { node_id: NodeId(node), price });
            }
        }
        state
    }

    #[test]
    fn search_and_explain_views() {
        let state = market(2, 5);
        let query = parse_search_query(&q("min_mem_gb=8&max_price=2.43&limit=2")).unwrap();
        let response = search_response(&state, &query);
        assert_eq!(response.count, 2);
        let ids: Vec<u32> = response.results.iter().map(|h| h.node_id.0).collect();
        assert_eq!(ids, [1, 2]);
        let body = serde_json::to_value(&response).unwrap();
        assert_eq!(body["results"][1]["price_month"], "2.42");
        assert_eq!(body["count"], 2);
        // 8 GB per slice is all a 32 GB node cut in 4 has.
        let none = parse_search_query(&q("min_mem_gb=9")).unwrap();
        assert_eq!(search_response(&state, &none).count, 0);
        let explain = explain_view(&state, &parse_explain_query(&q("min_mem_gb=9&n_slices=4")).unwrap());
        assert_eq!(explain["reasons"], json!(["no node has >= 9 GB memory per slice"]));
        assert_eq!(explain["satisfiable"], false);
        let explain = explain_view(&state, &parse_explain_query(&q("max_price=0.5")).unwrap());
        assert!(explain["reasons"][0].as_str().unwrap().contains("all above max price 0.5"), "{explain}");
        let explain = explain_view(&state, &parse_explain_query(&q("n_slices=40")).unwrap());
        assert_eq!(explain["satisfiable"], true, "{explain}");
    }

    #[test]
    fn calc_views_match_roi_1() {
        let state = market(0, 0);
        let query = parse_calc_node_query(&q("model=Mini 3&utilization=0.3&price=1.5")).unwrap();
        let body = calc_node_view(&state, &query).unwrap();
        assert_eq!(
            (&body["gross"], &body["farmer_share"], &body["net"]),
            (&json!("11.25"), &json!("9"), &json!("-8"))
        );
        let unknown = parse_calc_node_query(&q("model=Mini 9&utilization=0.3&price=1.5")).unwrap();
        assert!(calc_node_view(&state, &unknown).is_err());
        let table = calc_table_view(&state, &RoiParams::tfgrid4_2025()).unwrap();
        assert_eq!(table["params"]["income_factor_min"], "1.3");
        let home = table["rows"].as_array().unwrap().iter().find(|r| r["model"] == "3Node Home").unwrap();
        assert_eq!(home["break_even_months_min_income"], "45.79");
    }

    /// The routes through the real router: strict parameters answer 400 `invalid_query` as JSON.
    #[tokio::test]
    async fn routes_answer_json_errors_and_views() {
        use tower::ServiceExt as _;

        let genesis = || Genesis {
            params: CoreParams::tfgrid4_2025(key(1)),
            catalogue: tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap(),
            start_time: 0,
        };
        let journal = Box::new(tfeco_journal::MemoryJournal::new());
        let (node, _) = crate::Node::open(journal, genesis, None, crate::ReplayOptions::default()).unwrap();
        let node = std::sync::Arc::new(parking_lot::RwLock::new(node));
        let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms);
        let router = crate::api::router(AppState { node, writer, config: crate::ServerConfig::default() });
        let get = |uri: &str| {
            let request = axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            }
        };
        let (status, body) = get("/v1/market/search?min_mem_gb=8&limit=5").await;
        assert_eq!((status, &body), (StatusCode::OK, &json!({ "results": [], "count": 0 })));
        let (status, body) = get("/v1/market/search?min_mem_gb=lots").await;
        assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_query")));
        assert!(body["message"].as_str().unwrap().starts_with("min_mem_gb: "), "{body}");
        let (_, body) = get("/v1/market/explain?n_slices=2").await;
        assert_eq!(body["reasons"], json!(["no node is listed"]));
        for (uri, field) in [
            ("/v1/market/standing-bids", "standing_bids"),
            ("/v1/market/requests?open=true", "requests"),
            ("/v1/farming-pools", "pools"),
        ] {
            let (status, body) = get(uri).await;
            assert_eq!((status, &body[field]), (StatusCode::OK, &json!([])), "{uri}");
        }
        let (status, body) = get("/v1/market/requests/7").await;
        assert_eq!((status, &body["code"]), (StatusCode::NOT_FOUND, &json!("capacity_request_not_found")));
        let (status, body) = get("/v1/farming-pools/x").await;
        assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_id")));
        let (status, body) =
            get("/v1/calc/node?model=Mini%203&utilization=0.3&price=1.5&share_bps=8000").await;
        assert_eq!(
            (status, &body["net"], &body["break_even_months"]),
            (StatusCode::OK, &json!("-8"), &json!("111.11"))
        );
        let (status, body) = get("/v1/calc/node?model=Mini%209&utilization=0.3&price=1.5").await;
        assert_eq!((status, &body["code"]), (StatusCode::NOT_FOUND, &json!("unknown_model")));
        let (status, body) = get("/v1/calc/node?model=Mini%203&utilization=0.3&price=20").await;
        assert_eq!((status, &body["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("price_out_of_band")));
        let (status, body) = get("/v1/calc/table?cc_usd=0.128").await;
        assert_eq!((status, &body["params"]["cc_usd"]), (StatusCode::OK, &json!("0.128")));
    }
}
