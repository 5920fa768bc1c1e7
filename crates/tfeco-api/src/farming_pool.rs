//! Farming pools (`GET /v1/farming-pools`, `/v1/farming-pools/{id}`): rules, member farms and the joins
//! and leaves that one side signed.

use serde::{Deserialize, Serialize};
use tfeco_core::PoolRules;
use tfeco_core::{AccountKey, FarmId, FarmingPoolId, NodeId};
use utoipa::ToSchema;

/// Who signs a membership change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipParty {
    /// The farm's owner.
    Farmer,
    /// The pool's owner.
    PoolOwner,
}

/// A join or leave signed by one side, waiting for the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingMembership {
    /// The farm.
    #[schema(value_type = u32)]
    pub farm_id: FarmId,
    /// Who signed.
    pub signed_by: MembershipParty,
    /// Whose signature completes it.
    pub awaiting: MembershipParty,
}

/// A farming pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FarmingPoolView {
    /// Id.
    pub id: FarmingPoolId,
    /// The pool's owner.
    // TODO(core-openapi): AccountKey.
    #[schema(schema_with = crate::schema::account_key)]
    pub owner: AccountKey,
    /// Name.
    pub name: String,
    /// Rules, as in `create_farming_pool`.
    // TODO(core-openapi): PoolRules.
    #[schema(schema_with = farming_pool_rules)]
    pub rules: PoolRules,
    /// Member farms.
    #[schema(value_type = Vec<u32>)]
    pub members: Vec<FarmId>,
    /// Joins signed by one side.
    pub pending_joins: Vec<PendingMembership>,
    /// Leaves signed by one side.
    pub pending_leaves: Vec<PendingMembership>,
}

fn farming_pool_rules() -> utoipa::openapi::schema::Schema {
    crate::schema::object(
        "Pool rules: fee_bps, price_policy (\"free\", \"pool_set\" or {\"range\": {min_month, max_month}}), \
         reward_lock_months, exit_quota_bps",
    )
}

/// `GET /v1/farming-pools`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FarmingPoolsView {
    /// Pools, by id.
    pub pools: Vec<FarmingPoolView>,
}

/// `GET /v1/farming-pools/{id}`: the pool and the nodes of its member farms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FarmingPoolDetail {
    /// The pool.
    #[serde(flatten)]
    pub pool: FarmingPoolView,
    /// Nodes of the member farms.
    #[schema(value_type = Vec<u32>)]
    pub member_nodes: Vec<NodeId>,
}
