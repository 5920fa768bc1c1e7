//! Views of farming pools.

use std::collections::BTreeMap;

use tfeco_api::farming_pool::{
    FarmingPoolDetail, FarmingPoolView, FarmingPoolsView, MembershipParty, PendingMembership,
};
use tfeco_core::slices::farming_pool::FarmingPool;
use tfeco_core::{FarmId, State};

/// Farms whose join or leave one side signed (`true`: the farmer): who signed, whose signature completes it.
fn pending(pending: &BTreeMap<FarmId, bool>) -> Vec<PendingMembership> {
    pending
        .iter()
        .map(|(farm, by_farmer)| {
            let (signed_by, awaiting) = if *by_farmer {
                (MembershipParty::Farmer, MembershipParty::PoolOwner)
            } else {
                (MembershipParty::PoolOwner, MembershipParty::Farmer)
            };
            PendingMembership { farm_id: *farm, signed_by, awaiting }
        })
        .collect()
}

fn pool_view(pool: &FarmingPool) -> FarmingPoolView {
    FarmingPoolView {
        id: pool.id,
        owner: pool.owner,
        name: pool.name.clone(),
        rules: pool.rules,
        members: pool.members.iter().copied().collect(),
        pending_joins: pending(&pool.pending_joins),
        pending_leaves: pending(&pool.pending_leaves),
    }
}

/// `GET /v1/farming-pools`.
pub fn pools(state: &State) -> FarmingPoolsView {
    FarmingPoolsView { pools: state.farming_pools().pools().values().map(pool_view).collect() }
}

/// `GET /v1/farming-pools/{id}`; `None` when there is no such pool.
pub fn pool(state: &State, id: tfeco_core::FarmingPoolId) -> Option<FarmingPoolDetail> {
    let pool = state.farming_pools().pools().get(&id)?;
    let farms = state.capacity().farms();
    let member_nodes =
        pool.members.iter().filter_map(|f| farms.get(f)).flat_map(|f| f.nodes.iter().copied()).collect();
    Some(FarmingPoolDetail { pool: pool_view(pool), member_nodes })
}
