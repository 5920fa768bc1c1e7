//! HTTP views of guardian governance and minting (spec `decisions.md` §3, §11, §12):
//!
//! - `GET /v1/guardians`: the guardian set, the signature threshold and the oracle quorum;
//! - `GET /v1/param-changes`: parameter changes, pending and applied, with signers, `approved_at` and
//!   `effective_at` (`?status=pending|approved|applied`);
//! - `GET /v1/mint/reports`: minting reports (period, total, hash, signatures / threshold, minted or not,
//!   scaled to the cap); `GET /v1/mint/reports/{period}`: one report in full, with its receipts and the
//!   canonical JSON a guardian re-hashes before signing;
//! - `GET /v1/vesting?owner=KEY`: the vesting records of the nodes of the key's farms, with the amounts
//!   vested and releasable now ([`tfeco_core::minting::vested`], [`tfeco_core::minting::releasable`]);
//! - `GET /v1/nodes/{id}/uptime`: the node's report key, first report time and the running figures of its
//!   open minting period(s) ([`tfeco_core::minting::UptimeTracker::peek`]).
//!
//! Every route reads the state under the read lock; no rule lives here.
//!
//! `tfeco_core::rewards::Rewards` exposes no accessor for a node's uptime tracker or report key (they are
//! `pub(crate)` fields that only reach the outside through `Serialize`). Until the core offers one, the
//! uptime route extracts the single entry it needs with a small filtering serializer ([`pick_entries`]):
//! only the wanted map field of `Rewards` is walked, and only matching entries are converted to JSON, so a
//! request does not serialize the reports or the other nodes' trackers.

use axum::extract::{Path, Query, State as AxumState};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::ser::{self, Impossible, Serialize};
use serde::Deserialize;
use serde_json::{json, Value};
use tfeco_core::governance::ParamChange;
use tfeco_core::minting::{
    period_end, period_of, period_start, releasable, vested, PeriodUptime, UptimeTracker, VestingRule,
};
use tfeco_core::rewards::MintReport;
use tfeco_core::{AccountKey, NodeId, Params, Rejection, State};
use tfeco_money::{Amount, Tft};

use crate::api::{ApiError, AppState};

/// Routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/guardians", get(guardians))
        .route("/v1/param-changes", get(param_changes))
        .route("/v1/mint/reports", get(mint_reports))
        .route("/v1/mint/reports/{period}", get(mint_report))
        .route("/v1/vesting", get(vesting))
        .route("/v1/nodes/{id}/uptime", get(node_uptime))
}

fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn not_found(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, code, message)
}

// ---------------------------------------------------------------------------------------------------------
// Guardians and parameter changes
// ---------------------------------------------------------------------------------------------------------

/// The guardian set of `params` as JSON (also used by the CLI tests).
pub fn guardians_view(params: &Params) -> Value {
    json!({
        "guardians": params.guardians,
        "count": params.guardians.len(),
        "threshold": params.guardian_threshold(),
        "threshold_configured": params.guardian_threshold,
        "oracle_quorum": params.oracle_quorum(),
        "oracle_quorum_configured": params.oracle_quorum,
        "oracle_max_age_s": params.oracle_max_age_s,
        "param_delay_s": params.param_delay_s,
        "operator": params.operator,
        "operator_is_guardian": params.is_guardian(&params.operator),
    })
}

async fn guardians(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    Json(guardians_view(node.state().params()))
}

/// `pending` (below the threshold), `approved` (waiting for `effective_at`) or `applied` (taken into
/// account by a `Tick`; a change that no longer validated at that time was dropped, which the journal's
/// `param_change_dropped` event records).
fn change_status(change: &ParamChange) -> &'static str {
    match (change.approved_at, change.applied_at) {
        (None, _) => "pending",
        (Some(_), None) => "approved",
        (Some(_), Some(_)) => "applied",
    }
}

/// The variant name of a parameter update, e.g. `revenue_split`.
fn update_kind(update: &Value) -> String {
    match update {
        Value::Object(map) => map.keys().next().cloned().unwrap_or_default(),
        Value::String(name) => name.clone(),
        _ => String::new(),
    }
}

fn change_view(change: &ParamChange, params: &Params) -> Value {
    let update = serde_json::to_value(&change.update).unwrap_or(Value::Null);
    let valid = change.signers.iter().filter(|k| params.is_guardian(k)).count();
    json!({
        "id": change.id,
        "status": change_status(change),
        "kind": update_kind(&update),
        "update": update,
        "proposed_by": change.proposed_by,
        "proposed_at": change.proposed_at,
        "signers": change.signers,
        "signatures": valid,
        "threshold": params.guardian_threshold(),
        "approved_at": change.approved_at,
        "effective_at": change.effective_at,
        "applied_at": change.applied_at,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeFilter {
    status: Option<String>,
}

async fn param_changes(
    AxumState(app): AxumState<AppState>,
    filter: Result<Query<ChangeFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = filter.map_err(|e| bad_request("invalid_query", e.body_text()))?;
    if let Some(status) = &filter.status {
        if !["pending", "approved", "applied"].contains(&status.as_str()) {
            return Err(bad_request("invalid_query", "status: expected pending, approved or applied"));
        }
    }
    let node = app.node.read();
    let state = node.state();
    let params = state.params();
    let changes: Vec<Value> = state
        .governance()
        .changes()
        .values()
        .filter(|c| filter.status.as_deref().is_none_or(|s| s == change_status(c)))
        .map(|c| change_view(c, params))
        .collect();
    Ok(Json(json!({
        "now": state.now(),
        "threshold": params.guardian_threshold(),
        "param_delay_s": params.param_delay_s,
        "changes": changes,
    })))
}

// ---------------------------------------------------------------------------------------------------------
// Minting reports
// ---------------------------------------------------------------------------------------------------------

/// Signatures of the report by current guardians (what counts toward the threshold).
fn valid_signatures(report: &MintReport, params: &Params) -> usize {
    report.signers.iter().filter(|k| params.is_guardian(k)).count()
}

fn report_summary(report: &MintReport, params: &Params) -> Value {
    json!({
        "period": report.period,
        "period_start": period_start(report.period),
        "period_end": period_end(report.period),
        "rule_set": report.rule_set,
        "nodes": report.receipts.len(),
        "total": report.total,
        "hash": report.hash,
        "signatures": valid_signatures(report, params),
        "threshold": params.guardian_threshold(),
        "signers": report.signers,
        "status": if report.minted_at.is_some() { "minted" } else { "pending" },
        "minted_at": report.minted_at,
        "scaled_to_cap": report.scaled_to_cap,
    })
}

async fn mint_reports(AxumState(app): AxumState<AppState>) -> Json<Value> {
    let node = app.node.read();
    let state = node.state();
    let params = state.params();
    let reports: Vec<Value> = state.rewards().reports().values().map(|r| report_summary(r, params)).collect();
    Json(json!({
        "now": state.now(),
        "minting_enabled": params.minting_enabled,
        "rule_set": params.reward_rules.name(),
        "next_period": state.rewards().next_period(),
        "next_close_at": state.rewards().next_period().map(|k| period_end(k) + params.mint_close_delay_s),
        "threshold": params.guardian_threshold(),
        "tft_global_supply": Amount::<Tft>::from_units(state.global_tft_supply()),
        "tft_supply_cap": params.tft_supply_cap,
        "reports": reports,
    }))
}

async fn mint_report(
    AxumState(app): AxumState<AppState>,
    Path(period): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let period: u32 =
        period.parse().map_err(|_| bad_request("invalid_period", "the period must be a whole number"))?;
    let node = app.node.read();
    let state = node.state();
    let report =
        state.rewards().reports().get(&period).ok_or_else(|| {
            not_found(Rejection::ReportNotFound.code(), Rejection::ReportNotFound.to_string())
        })?;
    let mut view = report_summary(report, state.params());
    view["receipts"] = serde_json::to_value(&report.receipts).unwrap_or(Value::Null);
    view["unscaled_total"] =
        json!(Amount::<Tft>::from_units(report.receipts.iter().map(|r| r.reward_unscaled.units()).sum()));
    view["canonical_json"] = json!(report.canonical_json);
    Ok(Json(view))
}

// ---------------------------------------------------------------------------------------------------------
// Vesting
// ---------------------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VestingFilter {
    owner: Option<String>,
}

fn rule_name(rule: &VestingRule) -> &'static str {
    match rule {
        VestingRule::Seed(_) => "seed",
        VestingRule::Release36m(_) => "release_36m",
    }
}

/// When the record unlocks by time (seed rule), or when its last step vests (`release_36m`).
fn schedule_end(rule: &VestingRule, start: i64) -> i64 {
    match rule {
        VestingRule::Seed(seed) => {
            start.saturating_add(i64::from(seed.lock_months).saturating_mul(seed.month_s))
        }
        VestingRule::Release36m(r) => start.saturating_add(
            i64::from(r.locked_months.saturating_add(r.release_months)).saturating_mul(r.month_s),
        ),
    }
}

/// The vesting view of the nodes of `owner`'s farms (all nodes when `None`).
pub fn vesting_view(state: &State, owner: Option<AccountKey>) -> Value {
    let rule = state.params().vesting_rule;
    let now = state.now();
    let market = state.market();
    let mut totals = [0i128; 5];
    let records: Vec<Value> = state
        .rewards()
        .vesting()
        .values()
        .filter_map(|v| {
            let node = market.nodes().get(&v.node_id)?;
            let farm_owner = market.farms().get(&node.farm_id)?.owner;
            if owner.is_some_and(|o| o != farm_owner) {
                return None;
            }
            let record = &v.record;
            let vested_now = vested(&rule, record, now).map(|a| a.units());
            let releasable_now = releasable(&rule, record, now).map(|a| a.units());
            for (slot, value) in totals.iter_mut().zip([
                record.total.units(),
                record.released.units(),
                record.locked().units(),
                *vested_now.as_ref().unwrap_or(&0),
                *releasable_now.as_ref().unwrap_or(&0),
            ]) {
                *slot += value;
            }
            let amount = |r: Result<i128, tfeco_core::minting::MintingError>| match r {
                Ok(units) => json!(Amount::<Tft>::from_units(units)),
                Err(e) => json!({ "error": e.to_string() }),
            };
            Some(json!({
                "node_id": v.node_id,
                "farm_id": node.farm_id,
                "owner": farm_owner,
                "total": record.total,
                "released": record.released,
                "locked": record.locked(),
                "start": record.start,
                "vested": amount(vested_now),
                "releasable": amount(releasable_now),
                "unlocks_by_time_at": schedule_end(&rule, record.start),
                "utilization_bps": record.utilization_bps,
            }))
        })
        .collect();
    let total = |i: usize| Amount::<Tft>::from_units(totals[i]);
    json!({
        "now": now,
        "owner": owner,
        "rule": rule_name(&rule),
        "rule_params": rule,
        "records": records,
        "totals": {
            "total": total(0), "released": total(1), "locked": total(2), "vested": total(3), "releasable": total(4),
        },
    })
}

async fn vesting(
    AxumState(app): AxumState<AppState>,
    filter: Result<Query<VestingFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = filter.map_err(|e| bad_request("invalid_query", e.body_text()))?;
    let owner: Option<AccountKey> = match filter.owner {
        Some(text) => {
            Some(text.parse().map_err(|_| bad_request("invalid_account", "owner: not a 64-hex key"))?)
        }
        None => None,
    };
    let node = app.node.read();
    Ok(Json(vesting_view(node.state(), owner)))
}

// ---------------------------------------------------------------------------------------------------------
// Node uptime
// ---------------------------------------------------------------------------------------------------------

fn period_view(summary: &PeriodUptime, status: &str) -> Value {
    json!({
        "period": summary.period,
        "period_start": period_start(summary.period),
        "period_end": period_end(summary.period),
        "status": status,
        "credited_s": summary.credited_s,
        "uptime_permill": summary.uptime_permill(),
        "reports": summary.reports,
        "violations": summary.violations,
        "violation": summary.violation.map(|v| v.kind().code()),
        "violation_detail": summary.violation,
    })
}

/// The uptime view of one node (`None` when the node does not exist).
pub fn uptime_view(state: &State, node_id: NodeId) -> Option<Value> {
    let node = state.market().nodes().get(&node_id)?;
    let rewards = state.rewards();
    let id = json!(node_id);
    let tracker: Option<UptimeTracker> = pick_entries(rewards, "trackers", &|k| *k == id, &|_| true)
        .ok()
        .and_then(|mut entries| entries.pop())
        .and_then(|(_, tracker)| serde_json::from_value(tracker).ok());
    let report_key = pick_entries(rewards, "node_keys", &|_| true, &|v| *v == id)
        .ok()
        .and_then(|mut entries| entries.pop())
        .map(|(key, _)| key);
    let params = state.params();
    let mut periods = Vec::new();
    if let Some(tracker) = &tracker {
        let open = tracker.open_period();
        if let Some(previous) = open.checked_sub(1).and_then(|p| tracker.peek(p)) {
            periods.push(period_view(&previous, "open"));
        }
        if let Some(current) = tracker.peek(open) {
            periods.push(period_view(&current, "open"));
        }
    }
    Some(json!({
        "node_id": node_id,
        "farm_id": node.farm_id,
        "registered_at": node.registered_at,
        "report_key": report_key,
        "reporting": tracker.as_ref().is_some_and(|t| t.first_report_at().is_some()),
        "first_report_at": tracker.as_ref().and_then(UptimeTracker::first_report_at),
        "last_report": tracker.as_ref().and_then(UptimeTracker::last_report),
        "open_period": tracker.as_ref().map(UptimeTracker::open_period),
        "periods": periods,
        "now": state.now(),
        "current_period": period_of(state.now()),
        "next_period_to_close": rewards.next_period(),
        "close_delay_s": params.mint_close_delay_s,
        "rules": params.uptime_rules,
        "vesting": rewards.vesting().get(&node_id).map(|v| &v.record),
    }))
}

async fn node_uptime(
    AxumState(app): AxumState<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: u32 =
        id.parse().map_err(|_| bad_request("invalid_node", "the node id must be a whole number"))?;
    let node = app.node.read();
    uptime_view(node.state(), NodeId(id))
        .map(Json)
        .ok_or_else(|| not_found(Rejection::NodeNotFound.code(), Rejection::NodeNotFound.to_string()))
}

// ---------------------------------------------------------------------------------------------------------
// A filtering serializer: one map field of a struct, matching entries only
// ---------------------------------------------------------------------------------------------------------

type KeyFilter<'a> = &'a dyn Fn(&Value) -> bool;

/// The entries `(key, value)` of the map field `field` of the struct `value` whose key passes `keep_key`
/// and whose value passes `keep_value`, as JSON. Only that field is walked; a value is converted to JSON
/// only when its key passed. Errors when `value` is not a struct, `field` is missing or not a map.
pub fn pick_entries<T: Serialize + ?Sized>(
    value: &T,
    field: &'static str,
    keep_key: KeyFilter<'_>,
    keep_value: KeyFilter<'_>,
) -> Result<Vec<(Value, Value)>, serde_json::Error> {
    value.serialize(FieldPicker { field, keep_key, keep_value })
}

struct FieldPicker<'a> {
    field: &'static str,
    keep_key: KeyFilter<'a>,
    keep_value: KeyFilter<'a>,
}

struct FieldPickerStruct<'a> {
    picker: FieldPicker<'a>,
    out: Option<Vec<(Value, Value)>>,
}

struct MapPicker<'a> {
    keep_key: KeyFilter<'a>,
    keep_value: KeyFilter<'a>,
}

struct MapPickerEntries<'a> {
    picker: MapPicker<'a>,
    key: Option<Value>,
    out: Vec<(Value, Value)>,
}

fn unexpected(what: &str) -> serde_json::Error {
    ser::Error::custom(format!("pick_entries: unexpected {what}"))
}

/// The methods of `ser::Serializer` that a picker refuses.
macro_rules! refuse {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<Self::Ok, Self::Error> { Err(unexpected(stringify!($method))) })*
    };
}

/// Everything of a `ser::Serializer` but `serialize_struct` (or `serialize_map`), refused.
macro_rules! refuse_all_but {
    () => {
        refuse! {
            serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32); serialize_i64(i64);
            serialize_u8(u8); serialize_u16(u16); serialize_u32(u32); serialize_u64(u64); serialize_f32(f32);
            serialize_f64(f64); serialize_char(char); serialize_str(&str); serialize_bytes(&[u8]);
            serialize_none(); serialize_unit(); serialize_unit_struct(&'static str);
            serialize_unit_variant(&'static str, u32, &'static str);
        }
        fn serialize_some<V: Serialize + ?Sized>(self, _: &V) -> Result<Self::Ok, Self::Error> {
            Err(unexpected("option"))
        }
        fn serialize_newtype_struct<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &V,
        ) -> Result<Self::Ok, Self::Error> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<V: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<Self::Ok, Self::Error> {
            Err(unexpected("enum"))
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
            Err(unexpected("sequence"))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
            Err(unexpected("tuple"))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Self::Error> {
            Err(unexpected("tuple struct"))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            Err(unexpected("enum"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Self::Error> {
            Err(unexpected("enum"))
        }
    };
}

impl<'a> ser::Serializer for FieldPicker<'a> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = Impossible<Self::Ok, Self::Error>;
    type SerializeStruct = FieldPickerStruct<'a>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    refuse_all_but!();

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(unexpected("map"))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Self::Error> {
        Ok(FieldPickerStruct { picker: self, out: None })
    }
}

impl ser::SerializeStruct for FieldPickerStruct<'_> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), Self::Error> {
        if key == self.picker.field {
            let picker = MapPicker { keep_key: self.picker.keep_key, keep_value: self.picker.keep_value };
            self.out = Some(value.serialize(picker)?);
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.out.ok_or_else(|| unexpected("struct without the field"))
    }
}

impl<'a> ser::Serializer for MapPicker<'a> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Self::Ok, Self::Error>;
    type SerializeTuple = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Self::Error>;
    type SerializeMap = MapPickerEntries<'a>;
    type SerializeStruct = Impossible<Self::Ok, Self::Error>;
    type SerializeStructVariant = Impossible<Self::Ok, Self::Error>;

    refuse_all_but!();

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Ok(MapPickerEntries { picker: self, key: None, out: Vec::new() })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Self::Error> {
        Err(unexpected("struct"))
    }
}

impl ser::SerializeMap for MapPickerEntries<'_> {
    type Ok = Vec<(Value, Value)>;
    type Error = serde_json::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Self::Error> {
        let key = serde_json::to_value(key)?;
        self.key = (self.picker.keep_key)(&key).then_some(key);
        Ok(())
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Self::Error> {
        if let Some(key) = self.key.take() {
            let value = serde_json::to_value(value)?;
            if (self.picker.keep_value)(&value) {
                self.out.push((key, value));
            }
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(serde::Serialize)]
    struct Sample {
        before: Vec<u8>,
        map: BTreeMap<u32, (u8, String)>,
        after: String,
    }

    #[test]
    fn pick_entries_returns_only_matching_entries_of_the_field() {
        let sample = Sample {
            before: vec![1, 2],
            map: [(1, (7, "a".to_owned())), (2, (8, "b".to_owned())), (3, (7, "c".to_owned()))].into(),
            after: "x".to_owned(),
        };
        let by_key = pick_entries(&sample, "map", &|k| *k == json!(2), &|_| true).unwrap();
        assert_eq!(by_key, vec![(json!(2), json!([8, "b"]))]);
        let by_value = pick_entries(&sample, "map", &|_| true, &|v| v[0] == json!(7)).unwrap();
        assert_eq!(by_value.into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![json!(1), json!(3)]);
        assert!(pick_entries(&sample, "missing", &|_| true, &|_| true).is_err());
        assert!(pick_entries(&sample, "after", &|_| true, &|_| true).is_err());
        assert!(pick_entries(&5u8, "map", &|_| true, &|_| true).is_err());
    }

    /// One node reports a whole period 91 (the operator is the only guardian, threshold 1); built with
    /// envelopes applied directly (no signatures are needed at this level). Returns the state before the
    /// period closes, and the same state after it closed and the operator signed it.
    fn reporting_then_minted() -> (State, State, NodeId, AccountKey) {
        use tfeco_core::rewards::UptimeSample;
        use tfeco_core::{Command, Envelope, Genesis, NodeSpec};
        const CATALOGUE_CSV: &str = include_str!("../../../data/node-catalogue/tfgrid-nodes-q4-2025.csv");
        let operator = AccountKey([1; 32]);
        let farmer = AccountKey([2; 32]);
        let node_key = AccountKey([3; 32]);
        let start = period_start(91);
        let genesis = Genesis {
            params: Params::tfgrid4_2025(operator),
            catalogue: tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap(),
            start_time: start,
        };
        let mut state = State::new(genesis);
        let mut nonce = 0;
        let mut apply = |state: &mut State, signer, command| {
            nonce += 1;
            state.apply(&Envelope { signer, nonce, command }).unwrap()
        };
        apply(&mut state, farmer, Command::RegisterAccount {});
        apply(&mut state, node_key, Command::RegisterAccount {});
        apply(&mut state, farmer, Command::RegisterFarm { name: "f".to_owned() });
        let spec = NodeSpec::Model { model: "3Node Home".to_owned() };
        apply(
            &mut state,
            farmer,
            Command::RegisterNode { farm_id: tfeco_core::FarmId(1), spec, offered_slices: None },
        );
        let node = NodeId(1);
        apply(&mut state, farmer, Command::SetNodeKey { node_id: node, node_key });
        let samples: Vec<UptimeSample> = (0..)
            .map(|i| start + 5 + i * 2_400)
            .take_while(|t| *t < period_end(91) + 2_400)
            .map(|t| UptimeSample { at: t, uptime_s: (t - start + 1_000) as u64 })
            .collect();
        apply(&mut state, operator, Command::Tick { now: period_end(91) + 2_405 });
        for batch in samples.chunks(1_000) {
            apply(&mut state, node_key, Command::ReportUptime { node_id: node, reports: batch.to_vec() });
        }
        let reporting = state.clone();
        apply(&mut state, operator, Command::Tick { now: period_end(91) + 2_460 });
        let hash = state.rewards().reports()[&91].hash.clone();
        apply(&mut state, operator, Command::SignMintReport { period: 91, report_hash: hash });
        (reporting, state, node, node_key)
    }

    #[test]
    fn uptime_and_vesting_views_read_the_trackers_and_records() {
        let (reporting, minted, node, node_key) = reporting_then_minted();
        let view = uptime_view(&reporting, node).unwrap();
        assert_eq!(view["report_key"], json!(node_key));
        assert_eq!(view["first_report_at"], json!(period_start(91) + 5));
        assert_eq!(view["open_period"], json!(92));
        assert_eq!(view["periods"][0]["period"], json!(91));
        assert_eq!(view["periods"][0]["credited_s"], json!(2_630_880));
        assert_eq!(view["periods"][0]["uptime_permill"], json!(1_000));
        assert_eq!(view["periods"][0]["violation"], Value::Null);
        assert_eq!(view["periods"][1]["period"], json!(92));
        assert_eq!(view["periods"][1]["reports"], json!(1));
        assert!(uptime_view(&reporting, NodeId(2)).is_none());

        let view = uptime_view(&minted, node).unwrap();
        assert_eq!(view["periods"].as_array().map(Vec::len), Some(1), "period 91 is closed");
        assert_eq!(view["vesting"]["total"], json!("282.5"));
        let vesting = vesting_view(&minted, Some(AccountKey([2; 32])));
        assert_eq!(vesting["rule"], "seed");
        let record = &vesting["records"][0];
        assert_eq!((record["total"].clone(), record["locked"].clone()), (json!("282.5"), json!("282.5")));
        assert_eq!((record["vested"].clone(), record["releasable"].clone()), (json!("0"), json!("0")));
        assert_eq!(record["unlocks_by_time_at"], json!(period_start(91) + 5 + 24 * 2_630_880));
        assert_eq!(vesting["totals"]["locked"], json!("282.5"));
        assert_eq!(vesting_view(&minted, Some(AccountKey([9; 32])))["records"], json!([]));
    }

    #[test]
    fn change_status_follows_the_timestamps() {
        let change = |approved_at, applied_at| ParamChange {
            id: 1,
            update: tfeco_core::governance::ParamUpdate::ParamDelay(60),
            proposed_by: AccountKey([1; 32]),
            proposed_at: 0,
            signers: vec![],
            approved_at,
            effective_at: approved_at.map(|t: i64| t + 60),
            applied_at,
        };
        assert_eq!(change_status(&change(None, None)), "pending");
        assert_eq!(change_status(&change(Some(5), None)), "approved");
        assert_eq!(change_status(&change(Some(5), Some(65))), "applied");
        assert_eq!(update_kind(&serde_json::to_value(&change(None, None).update).unwrap()), "param_delay");
    }
}
