//! Views of guardian governance: the guardian set and parameter changes.

use tfeco_api::governance::{GuardiansView, ParamChangeStatus, ParamChangeView, ParamChangesView};
use tfeco_core::slices::governance::ParamChange;
use tfeco_core::{Params, State};

/// `GET /v1/guardians` for `params`.
pub fn guardians(params: &Params) -> GuardiansView {
    GuardiansView {
        guardians: params.guardians.clone(),
        count: params.guardians.len(),
        threshold: params.guardian_threshold(),
        threshold_configured: params.guardian_threshold,
        oracle_quorum: params.oracle_quorum(),
        oracle_quorum_configured: params.oracle_quorum,
        oracle_max_age_s: params.oracle_max_age_s,
        param_delay_s: params.param_delay_s,
        operator: params.operator,
        operator_is_guardian: params.is_guardian(&params.operator),
    }
}

/// `pending` (below the threshold), `approved` (waiting for `effective_at`) or `applied` (taken into
/// account by a `Tick`; a change that no longer validated then was dropped, which the journal's
/// `param_change_dropped` event records).
pub fn change_status(change: &ParamChange) -> ParamChangeStatus {
    match (change.approved_at, change.applied_at) {
        (None, _) => ParamChangeStatus::Pending,
        (Some(_), None) => ParamChangeStatus::Approved,
        (Some(_), Some(_)) => ParamChangeStatus::Applied,
    }
}

/// The variant name of a parameter update, e.g. `revenue_split`.
fn update_kind(change: &ParamChange) -> String {
    match serde_json::to_value(&change.update) {
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

fn change_view(change: &ParamChange, params: &Params) -> ParamChangeView {
    ParamChangeView {
        id: change.id,
        status: change_status(change),
        kind: update_kind(change),
        update: change.update.clone(),
        proposed_by: change.proposed_by,
        proposed_at: change.proposed_at,
        signers: change.signers.clone(),
        signatures: change.signers.iter().filter(|k| params.is_guardian(k)).count(),
        threshold: params.guardian_threshold(),
        approved_at: change.approved_at,
        effective_at: change.effective_at,
        applied_at: change.applied_at,
    }
}

/// `GET /v1/param-changes`, optionally with one status only.
pub fn param_changes(state: &State, status: Option<ParamChangeStatus>) -> ParamChangesView {
    let params = state.params();
    let changes = state
        .governance()
        .changes()
        .values()
        .filter(|c| status.is_none_or(|s| s == change_status(c)))
        .map(|c| change_view(c, params))
        .collect();
    ParamChangesView {
        now: state.now(),
        threshold: params.guardian_threshold(),
        param_delay_s: params.param_delay_s,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use tfeco_core::AccountKey;

    use super::*;

    #[test]
    fn change_status_follows_the_timestamps() {
        let change = |approved_at, applied_at| ParamChange {
            id: tfeco_core::ParamChangeId(1),
            update: tfeco_core::ParamUpdate::ParamDelay(60),
            proposed_by: AccountKey([1; 32]),
            proposed_at: 0,
            signers: vec![],
            approved_at,
            effective_at: approved_at.map(|t: i64| t + 60),
            applied_at,
        };
        assert_eq!(change_status(&change(None, None)), ParamChangeStatus::Pending);
        assert_eq!(change_status(&change(Some(5), None)), ParamChangeStatus::Approved);
        assert_eq!(change_status(&change(Some(5), Some(65))), ParamChangeStatus::Applied);
        assert_eq!(update_kind(&change(None, None)), "param_delay");
    }
}
