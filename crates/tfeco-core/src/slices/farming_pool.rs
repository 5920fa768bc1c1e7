//! Farming pools (spec `decisions.md` §10): an owner, member farms, and rules: `fee_bps` taken from the
//! members' farmer share, a price policy, a reward lock (months, applied by vesting), and an exit quota (the
//! most of a member's TFP offered in one exit round). Joining and leaving need both the pool owner's and the
//! farmer's signature: each signs its own command, and the second one completes the change.
//!
//! This slice sits below the capacity market: it knows farms by id only. The composition passes the farm's
//! owner in; the capacity market asks it for price policies and fees.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Bps, Cc};

use crate::event::Event;
use crate::ids::{AccountKey, FarmId, FarmingPoolId};
use crate::rejection::{MembershipProblem, PoolRulesProblem, Rejection, TextField};
use crate::slices::Env;
use crate::types::{MembershipChange, PoolRules, PricePolicy};

/// A farming pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FarmingPool {
    /// Id.
    pub id: FarmingPoolId,
    /// Owner (receives the fee).
    pub owner: AccountKey,
    /// Name.
    pub name: String,
    /// Rules.
    pub rules: PoolRules,
    /// Member farms.
    pub members: BTreeSet<FarmId>,
    /// Farms whose join one side has signed: `true` when the farmer signed, `false` when the owner did.
    pub pending_joins: BTreeMap<FarmId, bool>,
    /// Farms whose leave one side has signed (same meaning).
    pub pending_leaves: BTreeMap<FarmId, bool>,
}

/// All farming pools and the farm → pool index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FarmingPools {
    pools: BTreeMap<FarmingPoolId, FarmingPool>,
    pool_of_farm: BTreeMap<FarmId, FarmingPoolId>,
}

impl FarmingPools {
    /// All pools.
    pub fn pools(&self) -> &BTreeMap<FarmingPoolId, FarmingPool> {
        &self.pools
    }

    /// The pool a farm belongs to.
    pub fn pool_of(&self, farm: FarmId) -> Option<&FarmingPool> {
        self.pool_of_farm.get(&farm).and_then(|id| self.pools.get(id))
    }

    /// The pool owner and fee that take a share of `farm`'s farmer revenue, if the farm is in a pool.
    pub(crate) fn fee_of(&self, farm: FarmId) -> Option<(AccountKey, Bps)> {
        self.pool_of(farm).map(|p| (p.owner, p.rules.fee_bps))
    }

    /// Months a member farm's minted rewards stay locked by its pool (0 outside pools).
    pub(crate) fn reward_lock_months(&self, farm: FarmId) -> u32 {
        self.pool_of(farm).map_or(0, |p| p.rules.reward_lock_months)
    }

    /// `CreateFarmingPool`: a pool owned by the signer.
    pub(crate) fn create(
        &mut self,
        env: &Env<'_>,
        owner: AccountKey,
        name: &str,
        rules: PoolRules,
    ) -> Result<Vec<Event>, Rejection> {
        env.check_text(name, TextField::FarmingPoolName)?;
        if let PricePolicy::Range { min_month, max_month } = rules.price_policy {
            if !min_month.is_positive() || min_month > max_month {
                return Err(Rejection::InvalidPoolRules { reason: PoolRulesProblem::PriceRange });
            }
        }
        if self.pools.values().any(|p| p.name == name) {
            return Err(Rejection::InvalidPoolRules { reason: PoolRulesProblem::NameTaken });
        }
        let next = u64::try_from(self.pools.len()).map_err(|_| Rejection::Overflow)?;
        let id = FarmingPoolId(next.saturating_add(1));
        let pool = FarmingPool {
            id,
            owner,
            name: name.to_owned(),
            rules,
            members: BTreeSet::new(),
            pending_joins: BTreeMap::new(),
            pending_leaves: BTreeMap::new(),
        };
        self.pools.insert(id, pool);
        Ok(vec![Event::FarmingPoolCreated { pool_id: id, owner }])
    }

    /// `SignPoolMembership`: one side's signature on a join or leave of `farm_id`, whose owner is
    /// `farm_owner` (`None`: no such farm); the second side completes it.
    pub(crate) fn sign_membership(
        &mut self,
        signer: AccountKey,
        pool_id: FarmingPoolId,
        (farm_id, farm_owner): (FarmId, Option<AccountKey>),
        change: MembershipChange,
    ) -> Result<Vec<Event>, Rejection> {
        let pool = self.pools.get(&pool_id).ok_or(Rejection::PoolNotFound)?;
        let farm_owner = farm_owner.ok_or(Rejection::FarmNotFound)?;
        let by_farmer = signer == farm_owner;
        let by_owner = signer == pool.owner;
        if !by_farmer && !by_owner {
            return Err(Rejection::NotOwner);
        }
        match change {
            MembershipChange::Join if self.pool_of_farm.contains_key(&farm_id) => {
                return Err(Rejection::MembershipConflict { reason: MembershipProblem::AlreadyInPool });
            }
            MembershipChange::Leave if !pool.members.contains(&farm_id) => {
                return Err(Rejection::MembershipConflict { reason: MembershipProblem::NotMember });
            }
            _ => {}
        }
        let pool = self.pools.get_mut(&pool_id).expect("checked above");
        let pending = match change {
            MembershipChange::Join => &mut pool.pending_joins,
            MembershipChange::Leave => &mut pool.pending_leaves,
        };
        // Complete when the other side already signed (or when one key is both owner and farmer).
        let other_signed = pending.get(&farm_id).is_some_and(|farmer_signed| *farmer_signed != by_farmer);
        let complete = other_signed || (by_farmer && by_owner);
        if !complete {
            pending.insert(farm_id, by_farmer);
            return Ok(vec![Event::FarmingPoolMembershipSigned { pool_id, farm_id, change, by_farmer }]);
        }
        pending.remove(&farm_id);
        match change {
            MembershipChange::Join => {
                pool.members.insert(farm_id);
                self.pool_of_farm.insert(farm_id, pool_id);
            }
            MembershipChange::Leave => {
                pool.members.remove(&farm_id);
                self.pool_of_farm.remove(&farm_id);
            }
        }
        Ok(vec![Event::FarmingPoolMembershipChanged { pool_id, farm_id, change }])
    }

    /// `SetPoolPrice` authority (spec §10: "members' prices set by the pool, or free inside the band"): `Ok`
    /// when `signer` owns the pool of `farm` **and** the pool's policy is [`PricePolicy::PoolSet`]. Errors, in
    /// precedence order: `PoolNotFound` (the farm is in no pool), `NotOwner` (the signer is not the pool's
    /// owner), `PriceSetByMember` (the policy is `Free` or `Range`: members price their own nodes and the
    /// owner cannot override them).
    pub(crate) fn check_pool_price_setter(&self, signer: AccountKey, farm: FarmId) -> Result<(), Rejection> {
        let pool = self.pool_of(farm).ok_or(Rejection::PoolNotFound)?;
        if pool.owner != signer {
            return Err(Rejection::NotOwner);
        }
        match pool.rules.price_policy {
            PricePolicy::PoolSet => Ok(()),
            PricePolicy::Free | PricePolicy::Range { .. } => Err(Rejection::PriceSetByMember),
        }
    }

    /// The pool's price policy for a member's own `SetSlicePrice` (spec §10).
    pub(crate) fn check_price_policy(&self, farm: FarmId, price: Amount<Cc>) -> Result<(), Rejection> {
        let Some(pool) = self.pool_of(farm) else { return Ok(()) };
        match pool.rules.price_policy {
            PricePolicy::Free => Ok(()),
            PricePolicy::PoolSet => Err(Rejection::PriceSetByPool),
            PricePolicy::Range { min_month, max_month } if price < min_month || price > max_month => {
                Err(Rejection::PriceOutsidePoolPolicy { min: min_month, max: max_month, got: price })
            }
            PricePolicy::Range { .. } => Ok(()),
        }
    }
}
