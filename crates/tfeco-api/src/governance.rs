//! Guardian governance: the guardian set and parameter changes (`GET /v1/guardians`,
//! `/v1/param-changes`).

use serde::{Deserialize, Serialize};
use tfeco_core::ParamUpdate;
use tfeco_core::{AccountKey, ParamChangeId};
use utoipa::{IntoParams, ToSchema};

/// `GET /v1/guardians`: the guardian set, the signature threshold and the oracle quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GuardiansView {
    /// The guardians.
    pub guardians: Vec<AccountKey>,
    /// Number of guardians.
    pub count: usize,
    /// Signatures needed (ceil(2n/3) unless configured).
    pub threshold: u32,
    /// The configured threshold (`null`: the default).
    pub threshold_configured: Option<u32>,
    /// Fresh oracle submissions needed for a valid price.
    pub oracle_quorum: u32,
    /// The configured quorum (`null`: the default).
    pub oracle_quorum_configured: Option<u32>,
    /// How old an oracle submission may be, seconds.
    pub oracle_max_age_s: i64,
    /// Delay between a change's approval and its effect, seconds.
    pub param_delay_s: i64,
    /// The operator.
    pub operator: AccountKey,
    /// Whether the operator is a guardian.
    pub operator_is_guardian: bool,
}

/// Where a parameter change stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamChangeStatus {
    /// Below the signature threshold.
    Pending,
    /// Approved; waiting for `effective_at`.
    Approved,
    /// Taken into account by a tick (or dropped then if it no longer validated).
    Applied,
}

/// `GET /v1/param-changes` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ParamChangesQuery {
    /// Only changes with this status.
    #[param(inline)]
    pub status: Option<ParamChangeStatus>,
}

/// A proposed parameter change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParamChangeView {
    /// Id.
    pub id: ParamChangeId,
    /// Where it stands.
    pub status: ParamChangeStatus,
    /// The update's kind, e.g. `revenue_split`.
    pub kind: String,
    /// The update, as proposed.
    pub update: ParamUpdate,
    /// The proposer.
    pub proposed_by: AccountKey,
    /// When it was proposed.
    pub proposed_at: i64,
    /// Guardians who signed.
    pub signers: Vec<AccountKey>,
    /// Signatures of current guardians.
    pub signatures: usize,
    /// Signatures needed.
    pub threshold: u32,
    /// When it reached the threshold.
    pub approved_at: Option<i64>,
    /// When it takes effect.
    pub effective_at: Option<i64>,
    /// When a tick applied it.
    pub applied_at: Option<i64>,
}

/// `GET /v1/param-changes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParamChangesView {
    /// The state's time.
    pub now: i64,
    /// Signatures needed.
    pub threshold: u32,
    /// Delay between approval and effect, seconds.
    pub param_delay_s: i64,
    /// Changes, by id.
    pub changes: Vec<ParamChangeView>,
}
