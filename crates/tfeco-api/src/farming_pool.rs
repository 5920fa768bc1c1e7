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
    pub owner: AccountKey,
    /// Name.
    pub name: String,
    /// Rules, as in `create_farming_pool`.
    pub rules: PoolRules,
    /// Member farms.
    pub members: Vec<FarmId>,
    /// Joins signed by one side.
    pub pending_joins: Vec<PendingMembership>,
    /// Leaves signed by one side.
    pub pending_leaves: Vec<PendingMembership>,
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
    pub member_nodes: Vec<NodeId>,
}
