//! The HTTP shape: routes, JSON views, signed-request checks and the mapping of rejections to status codes.
//! No economic rule lives here: every write goes to the single writer, every read is a view of the state.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tfeco_core::command::RequestBody;
use tfeco_core::market::{hourly_charge, LeaseStatus};
use tfeco_core::{AccountKey, AccountRef, Rejection, State, SystemAccount};
use tfeco_money::{Amount, Asset, Cc};

use crate::node::SignedRequest;
use crate::writer::{SubmitError, WriterHandle};
use crate::{now_unix_ms, ServerConfig};

/// Shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The node, read-locked by readers; the writer holds the write lock only while applying and journaling.
    pub node: Arc<parking_lot::RwLock<crate::node::Node>>,
    /// Sends work to the single writer.
    pub writer: WriterHandle,
    /// Limits and clocks.
    pub config: ServerConfig,
}

/// A JSON error: `{ "code": ..., "message": ... }` with a stable code.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    detail: Option<Value>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_owned(), message: message.into(), detail: None }
    }

    fn from_rejection(rejection: &Rejection) -> Self {
        let status = match rejection {
            Rejection::NotAuthorized { .. } => StatusCode::FORBIDDEN,
            Rejection::AccountNotFound { .. }
            | Rejection::WithdrawalNotFound
            | Rejection::FarmNotFound
            | Rejection::NodeNotFound
            | Rejection::LeaseNotFound
            | Rejection::UnknownModel { .. } => StatusCode::NOT_FOUND,
            Rejection::NonceReused { .. }
            | Rejection::AccountExists
            | Rejection::AttestationConflict { .. }
            | Rejection::FarmNameTaken => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError {
            status,
            code: rejection.code().to_owned(),
            message: rejection.to_string(),
            detail: serde_json::to_value(rejection).ok(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(detail) = self.detail {
            body["detail"] = detail;
        }
        (self.status, Json(body)).into_response()
    }
}

/// The router with every route.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/", get(index_page))
        .route("/openapi.json", get(openapi))
        .route("/v1/tx", post(submit_tx))
        .route("/v1/status", get(status))
        .route("/v1/supply", get(supply))
        .route("/v1/prices", get(prices))
        .route("/v1/catalogue", get(catalogue))
        .route("/v1/accounts/{key}", get(account))
        .route("/v1/system-accounts", get(system_accounts))
        .route("/v1/farms", get(farms))
        .route("/v1/nodes", get(nodes))
        .route("/v1/leases", get(leases))
        .merge(crate::api_exit::routes())
        .merge(crate::api_governance::routes())
        .merge(crate::api_market::routes())
        .merge(crate::api_trading::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), refuse_when_failed))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(TxRateLimit::new(&state.config)))
        .with_state(state)
}

/// After a failed journal append the in-memory state may hold changes that are not durable: nothing is served
/// from it (503) until the process stops and a restart replays the journal.
async fn refuse_when_failed(
    AxumState(app): AxumState<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if app.node.read().has_failed() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the node stopped after a storage failure",
        )
        .into_response();
    }
    next.run(request).await
}

/// `POST /v1/tx` body: `{ "body": { "signer", "nonce", "expiry", "command" }, "signature": hex }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedRequestDto {
    body: RequestBody,
    signature: String,
}

/// Classifies a JSON decoding error into a stable code.
fn decode_error(error: &serde_json::Error) -> ApiError {
    let text = error.to_string();
    // Classify on serde's and our own wording only: quoted parts echo the client's input and are removed.
    let mut wording = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' | '`' => quoted = !quoted,
            _ if !quoted => wording.push(c),
            _ => {}
        }
    }
    let text_for_code = wording;
    let code = if text_for_code.contains("unknown field") {
        "unknown_field"
    } else if text_for_code.contains("unknown variant") && text.contains("`register_account`") {
        // An unknown command name is an unknown key of the `command` object.
        "unknown_field"
    } else if text_for_code.contains("too many decimals") {
        "amount_too_many_decimals"
    } else if text_for_code.contains("negative amounts are not allowed") {
        "amount_negative"
    } else if text_for_code.contains("is too large") {
        "amount_overflow"
    } else if error.is_syntax() || error.is_eof() {
        "malformed_json"
    } else {
        "invalid_request"
    };
    ApiError::new(StatusCode::BAD_REQUEST, code, text)
}

/// The per-signer limit of `POST /v1/tx`: a keyed GCRA token bucket (`governor`) of
/// [`ServerConfig::rate_limit_per_s`] requests per second with bursts of [`ServerConfig::rate_limit_burst`],
/// installed by [`router`] (one per server). Counted after the signature verifies, so only a key's holder
/// spends its budget. The operator and the guardians (the node's clock, attestations, prices) are not
/// limited.
#[derive(Clone)]
struct TxRateLimit(Option<Arc<governor::DefaultKeyedRateLimiter<AccountKey>>>);

/// Above this many tracked signers, the buckets that are full again are dropped.
const RATE_LIMIT_TRACKED_MAX: usize = 100_000;

impl TxRateLimit {
    fn new(config: &ServerConfig) -> Self {
        let quota = config.rate_limit_per_s.and_then(std::num::NonZeroU32::new).map(|per_s| {
            let burst = std::num::NonZeroU32::new(config.rate_limit_burst).unwrap_or(per_s);
            governor::Quota::per_second(per_s).allow_burst(burst)
        });
        TxRateLimit(quota.map(|quota| Arc::new(governor::RateLimiter::keyed(quota))))
    }

    /// `Some(429 rate_limited)` with `Retry-After` when `signer` is over its budget.
    fn refusal(&self, app: &AppState, signer: &AccountKey) -> Option<Response> {
        use governor::clock::{Clock, DefaultClock};
        let limiter = self.0.as_ref()?;
        if limiter.len() > RATE_LIMIT_TRACKED_MAX {
            limiter.retain_recent();
        }
        let not_until = limiter.check_key(signer).err()?;
        let exempt = {
            let node = app.node.read();
            let params = node.state().params();
            *signer == params.operator || params.is_guardian(signer)
        };
        if exempt {
            return None;
        }
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let message = format!(
            "too many requests from this account: at most {} requests per second (bursts of {}); retry in {} ms",
            app.config.rate_limit_per_s.unwrap_or(0),
            app.config.rate_limit_burst,
            wait.as_millis().max(1)
        );
        let mut response =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).into_response();
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds.max(1)));
        Some(response)
    }
}

async fn submit_tx(
    AxumState(app): AxumState<AppState>,
    axum::Extension(rate_limit): axum::Extension<TxRateLimit>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dto: SignedRequestDto = serde_json::from_slice(&body).map_err(|e| decode_error(&e))?;
    let signature = hex::decode(&dto.signature)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_signature", "signature is not hex"))?;
    let now_s = now_unix_ms() / 1000;
    if dto.body.expiry < now_s {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "request_expired",
            "the request's expiry has passed",
        ));
    }
    if dto.body.expiry > now_s + app.config.max_expiry_s {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "expiry_too_far",
            format!("expiry may be at most {} s ahead", app.config.max_expiry_s),
        ));
    }
    dto.body.verify(&signature).map_err(|_| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the signature does not verify for this signer",
        )
    })?;
    if let Some(response) = rate_limit.refusal(&app, &dto.body.signer) {
        return Ok(response);
    }
    let request = SignedRequest { body: dto.body, signature };
    match app.writer.submit(request).await {
        Ok(Ok((seq, events))) => {
            Ok((StatusCode::OK, Json(json!({ "seq": seq, "events": events }))).into_response())
        }
        Ok(Err(rejection)) => Err(ApiError::from_rejection(&rejection)),
        Err(SubmitError::Unavailable) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the node is stopping; retry later",
        )),
    }
}

fn amounts(units: [i128; 4]) -> Value {
    let mut map = serde_json::Map::new();
    for asset in Asset::ALL {
        map.insert(
            asset.code().to_owned(),
            json!(Amount::<Cc>::from_units(units[asset.index()]).to_string()),
        );
    }
    Value::Object(map)
}

fn units_string(units: i128) -> String {
    Amount::<Cc>::from_units(units).to_string()
}

async fn status(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    Json(json!({
        "seq": node.head_seq(),
        "now": state.now(),
        "commands_applied": state.commands_applied(),
        "state_hash": state.state_hash(),
        "invariants_ok": state.check_invariants().is_ok(),
        "parameter_set": state.params().set_name,
        "operator": state.params().operator,
    }))
}

/// Supply and invariant summary of a state (also used by the demo's summary).
pub fn supply_view(state: &State) -> Value {
    let ledger = state.ledger();
    let mut assets = serde_json::Map::new();
    for asset in Asset::ALL {
        let totals = ledger.totals(asset);
        assets.insert(
            asset.code().to_owned(),
            json!({
                "supply": units_string(ledger.supply(asset)),
                "deposited": units_string(totals.deposited),
                "minted": units_string(totals.minted),
                "withdrawn": units_string(totals.withdrawn),
                "burned": units_string(totals.burned),
            }),
        );
    }
    let invariants = state.check_invariants();
    json!({
        "assets": assets,
        "tft_global_supply": units_string(state.global_tft_supply()),
        "tft_supply_cap": state.params().tft_supply_cap.to_string(),
        "vault_tft": units_string(ledger.balance(AccountRef::System(SystemAccount::Vault), Asset::Tft)),
        "tfp_supply": units_string(ledger.supply(Asset::Tfp)),
        "burn_pending_cc": state.burn_pending_cc().to_string(),
        "burn_owed_tft": state.burn_owed_tft().to_string(),
        "invariants_ok": invariants.is_ok(),
        "invariant_error": invariants.err(),
    })
}

async fn supply(AxumState(app): AxumState<AppState>) -> Json<Value> {
    Json(supply_view(app.node.read().state()))
}

async fn prices(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let submissions: Vec<Value> = state
        .oracle()
        .submissions()
        .map(|((feed, submitter), s)| {
            json!({ "feed": feed, "submitter": submitter, "price": s.price, "observed_at": s.observed_at })
        })
        .collect();
    let current = match state.prices() {
        Ok(p) => json!({
            "valid": true,
            "tft_usd": p.tft_usd,
            "gold_usd_per_oz": p.cc.gold(),
            "cc_usd": p.cc.usd().to_string_rounded(8),
        }),
        Err(rejection) => json!({ "valid": false, "reason": rejection.to_string() }),
    };
    Json(json!({ "now": state.now(), "current": current, "submissions": submissions }))
}

async fn catalogue(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let params = state.params();
    let models: Vec<Value> = state
        .catalogue()
        .iter()
        .map(|m| {
            let (lo, hi) = (m.slice_price_min_month, m.slice_price_max_month);
            json!({
                "model": m.name, "category": m.category, "certified": m.certified, "capex_usd": m.capex_usd,
                "resources": m.resources, "max_slices": m.max_slices, "typical_slices": m.typical_slices,
                "slice_price_min_month": lo, "slice_price_max_month": hi,
                "slice_price_min_hour": hourly_charge(lo, lo, hi, 1, params),
                "slice_price_max_hour": hourly_charge(hi, lo, hi, 1, params),
            })
        })
        .collect();
    Json(json!({ "models": models }))
}

async fn account(
    AxumState(app): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key: AccountKey = key.parse().map_err(|e: tfeco_core::ids::InvalidAccountKey| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_account", e.to_string())
    })?;
    let node = app.node.read();
    let state = node.state();
    let record = state
        .ledger()
        .account(&key)
        .ok_or_else(|| ApiError::from_rejection(&Rejection::AccountNotFound { account: key }))?;
    let leases: Vec<u64> =
        state.market().leases().values().filter(|l| l.tenant == key && l.is_open()).map(|l| l.id.0).collect();
    Ok(Json(json!({
        "account": key,
        "registered_at": record.registered_at,
        "last_nonce": record.last_nonce,
        "next_nonce": record.last_nonce + 1,
        "balances": amounts(record.balances),
        "revenue_cc": units_string(record.revenue_cc),
        "open_leases": leases,
    })))
}

async fn system_accounts(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let ledger = node.state().ledger();
    let mut map = serde_json::Map::new();
    for system in SystemAccount::ALL {
        let units = Asset::ALL.map(|a| ledger.balance(AccountRef::System(system), a));
        map.insert(system.name().to_owned(), amounts(units));
    }
    Json(Value::Object(map))
}

async fn farms(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let farms: Vec<Value> = node
        .state()
        .market()
        .farms()
        .values()
        .map(|f| json!({ "id": f.id, "owner": f.owner, "name": f.name, "nodes": f.nodes }))
        .collect();
    Json(json!({ "farms": farms }))
}

#[derive(Deserialize)]
struct NodeFilter {
    farm: Option<u32>,
}

async fn nodes(AxumState(app): AxumState<AppState>, Query(filter): Query<NodeFilter>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let params = state.params();
    let nodes: Vec<Value> = state
        .market()
        .nodes()
        .values()
        .filter(|n| filter.farm.is_none_or(|f| n.farm_id.0 == f))
        .map(|n| {
            let hourly = n.price.and_then(|p| hourly_charge(p, n.band_min, n.band_max, 1, params));
            json!({
                "id": n.id, "farm_id": n.farm_id, "model": n.model, "certified": n.certified,
                "resources": n.resources, "slices": n.slices, "offered_slices": n.offered_slices,
                "leased_slices": n.leased_slices, "free_slices": n.free_slices(),
                "band_min": n.band_min, "band_max": n.band_max,
                "price_month": n.price, "price_hour": hourly,
            })
        })
        .collect();
    Json(json!({ "nodes": nodes }))
}

#[derive(Deserialize)]
struct LeaseFilter {
    tenant: Option<String>,
    open: Option<bool>,
}

#[derive(Serialize)]
struct LeaseView<'a> {
    #[serde(flatten)]
    lease: &'a tfeco_core::market::Lease,
}

async fn leases(
    AxumState(app): AxumState<AppState>,
    Query(filter): Query<LeaseFilter>,
) -> Result<Json<Value>, ApiError> {
    let tenant: Option<AccountKey> = match filter.tenant {
        Some(text) => Some(text.parse().map_err(|e: tfeco_core::ids::InvalidAccountKey| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_account", e.to_string())
        })?),
        None => None,
    };
    let node = app.node.read();
    let leases: Vec<Value> = node
        .state()
        .market()
        .leases()
        .values()
        .filter(|l| tenant.is_none_or(|t| l.tenant == t))
        .filter(|l| filter.open.is_none_or(|open| l.is_open() == open))
        .map(|l| {
            let mut view = serde_json::to_value(LeaseView { lease: l }).unwrap_or(Value::Null);
            if let LeaseStatus::Closed { reason, at } = l.status {
                view["closed"] = json!({ "reason": reason, "at": at });
            }
            view
        })
        .collect();
    Ok(Json(json!({ "leases": leases })))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::document().to_string())
}

async fn index_page(AxumState(app): AxumState<AppState>) -> Html<String> {
    let node = app.node.read();
    let state = node.state();
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>TFGrid Economy node</title></head><body>\
         <h1>TFGrid Economy node</h1><p>Entries: {}. State hash: <code>{}</code>. Time: {}.</p>\
         <p>JSON API: <a href=/v1/status>/v1/status</a>, <a href=/v1/supply>/v1/supply</a>, \
         <a href=/v1/prices>/v1/prices</a>, <a href=/v1/catalogue>/v1/catalogue</a>, \
         <a href=/v1/nodes>/v1/nodes</a>, <a href=/v1/leases>/v1/leases</a>, \
         <a href=/openapi.json>/openapi.json</a>.</p></body></html>",
        node.head_seq(),
        state.state_hash(),
        state.now()
    ))
}
