//! Farming pools (spec `decisions.md` §10): an owner, member farms, and rules — `fee_bps` taken from the
//! members' farmer share, a price policy, a reward lock (months, applied by vesting), and an exit quota
//! (the most of a member's TFP offered in one exit round). Joining and leaving need both the pool owner's and
//! the farmer's signature: each signs its own command, and the second one completes the change.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Bps, Cc, Rounding, Tfp};

use crate::event::Event;
use crate::ids::{AccountKey, FarmId, NodeId, PositionId};
use crate::rejection::Rejection;
use crate::state::State;

/// Who sets the slice prices of member nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricePolicy {
    /// Members price freely inside the node's band.
    Free,
    /// Members price inside `[min_month, max_month]` (intersected with the node's band).
    Range {
        /// Lowest price per slice-month.
        min_month: Amount<Cc>,
        /// Highest price per slice-month.
        max_month: Amount<Cc>,
    },
    /// The pool owner sets member nodes' prices; members cannot.
    PoolSet,
}

/// A pool's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolRules {
    /// Share of the members' farmer share paid to the pool owner.
    pub fee_bps: Bps,
    /// Price policy.
    pub price_policy: PricePolicy,
    /// Months the members' minted rewards stay locked (applied by vesting).
    pub reward_lock_months: u32,
    /// Most of a member's TFP that may be reserved by exit bids in one round.
    pub exit_quota_bps: Bps,
}

/// A farming pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FarmingPool {
    /// Id.
    pub id: u64,
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FarmingPools {
    pub(crate) pools: BTreeMap<u64, FarmingPool>,
    pub(crate) pool_of_farm: BTreeMap<FarmId, u64>,
}

impl FarmingPools {
    /// All pools.
    pub fn pools(&self) -> &BTreeMap<u64, FarmingPool> {
        &self.pools
    }
    /// The pool a farm belongs to.
    pub fn pool_of(&self, farm: FarmId) -> Option<&FarmingPool> {
        self.pool_of_farm.get(&farm).and_then(|id| self.pools.get(id))
    }
}

/// Which membership change a command signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipChange {
    /// Join the pool.
    Join,
    /// Leave the pool.
    Leave,
}

impl State {
    pub(crate) fn apply_create_pool(
        &mut self,
        owner: AccountKey,
        name: &str,
        rules: PoolRules,
    ) -> Result<Vec<Event>, Rejection> {
        crate::market::validate_text(name, "pool name", &self.params)?;
        if let PricePolicy::Range { min_month, max_month } = rules.price_policy {
            if !min_month.is_positive() || min_month > max_month {
                return Err(Rejection::InvalidPoolRules {
                    reason: "price range needs 0 < min <= max".to_owned(),
                });
            }
        }
        if self.farming.pools.values().any(|p| p.name == name) {
            return Err(Rejection::InvalidPoolRules { reason: "a pool with this name exists".to_owned() });
        }
        let id = self.farming.pools.len() as u64 + 1;
        self.farming.pools.insert(
            id,
            FarmingPool {
                id,
                owner,
                name: name.to_owned(),
                rules,
                members: BTreeSet::new(),
                pending_joins: BTreeMap::new(),
                pending_leaves: BTreeMap::new(),
            },
        );
        Ok(vec![Event::FarmingPoolCreated { pool_id: id, owner }])
    }

    /// One side's signature on a join or leave; the second side completes it.
    pub(crate) fn apply_sign_membership(
        &mut self,
        signer: AccountKey,
        pool_id: u64,
        farm_id: FarmId,
        change: MembershipChange,
    ) -> Result<Vec<Event>, Rejection> {
        let pool = self.farming.pools.get(&pool_id).ok_or(Rejection::PoolNotFound)?;
        let farm = self.market.farms.get(&farm_id).ok_or(Rejection::FarmNotFound)?;
        let by_farmer = signer == farm.owner;
        let by_owner = signer == pool.owner;
        if !by_farmer && !by_owner {
            return Err(Rejection::NotOwner);
        }
        match change {
            MembershipChange::Join => {
                if self.farming.pool_of_farm.contains_key(&farm_id) {
                    return Err(Rejection::MembershipConflict {
                        reason: "the farm is already in a pool".to_owned(),
                    });
                }
            }
            MembershipChange::Leave => {
                if !pool.members.contains(&farm_id) {
                    return Err(Rejection::MembershipConflict {
                        reason: "the farm is not a member".to_owned(),
                    });
                }
            }
        }
        let pool = self.farming.pools.get_mut(&pool_id).expect("checked above");
        let pending = match change {
            MembershipChange::Join => &mut pool.pending_joins,
            MembershipChange::Leave => &mut pool.pending_leaves,
        };
        // Complete when the other side already signed (or when one key is both owner and farmer).
        let other_signed = match pending.get(&farm_id) {
            Some(farmer_signed) => *farmer_signed != by_farmer,
            None => false,
        };
        if other_signed || (by_farmer && by_owner) {
            pending.remove(&farm_id);
            match change {
                MembershipChange::Join => {
                    pool.members.insert(farm_id);
                    self.farming.pool_of_farm.insert(farm_id, pool_id);
                }
                MembershipChange::Leave => {
                    pool.members.remove(&farm_id);
                    self.farming.pool_of_farm.remove(&farm_id);
                }
            }
            return Ok(vec![Event::FarmingPoolMembershipChanged { pool_id, farm_id, change }]);
        }
        pending.insert(farm_id, by_farmer);
        Ok(vec![Event::FarmingPoolMembershipSigned { pool_id, farm_id, change, by_farmer }])
    }

    /// The pool owner sets a member node's price (pool-set policy) inside the node's band.
    pub(crate) fn apply_set_pool_price(
        &mut self,
        signer: AccountKey,
        node_id: NodeId,
        price: Amount<Cc>,
    ) -> Result<Vec<Event>, Rejection> {
        let node = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        let pool = self.farming.pool_of(node.farm_id).ok_or(Rejection::PoolNotFound)?;
        if pool.owner != signer {
            return Err(Rejection::NotOwner);
        }
        if price < node.band_min || price > node.band_max {
            return Err(Rejection::PriceOutOfBand { min: node.band_min, max: node.band_max, got: price });
        }
        self.market.nodes.get_mut(&node_id).expect("checked above").price = Some(price);
        Ok(vec![Event::SlicePriceSet { node_id, price }])
    }

    /// The pool's price policy for a member's own `SetSlicePrice` (spec §10).
    pub(crate) fn check_pool_price_policy(
        &self,
        farm_id: FarmId,
        price: Amount<Cc>,
    ) -> Result<(), Rejection> {
        let Some(pool) = self.farming.pool_of(farm_id) else { return Ok(()) };
        match pool.rules.price_policy {
            PricePolicy::Free => Ok(()),
            PricePolicy::PoolSet => Err(Rejection::PriceSetByPool),
            PricePolicy::Range { min_month, max_month } => {
                if price < min_month || price > max_month {
                    Err(Rejection::PriceOutsidePoolPolicy { min: min_month, max: max_month, got: price })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Who receives a node's farmer share: `(farmer, Some((pool owner, fee_bps)))` for pool members.
    pub(crate) fn revenue_recipients(&self, node_id: NodeId) -> (AccountKey, Option<(AccountKey, Bps)>) {
        let node = &self.market.nodes[&node_id];
        let farmer = self.market.farms[&node.farm_id].owner;
        let pool = self.farming.pool_of(node.farm_id).map(|p| (p.owner, p.rules.fee_bps));
        (farmer, pool)
    }

    /// Exit quota (spec §10): a pool member may reserve at most `exit_quota_bps` of its TFP (free TFP plus
    /// its positions' holdings) in one round's exit bids. The strictest pool among the owner's farms applies.
    pub(crate) fn check_exit_quota(
        &self,
        owner: AccountKey,
        _position_id: PositionId,
        reserve: Amount<Tfp>,
    ) -> Result<(), Rejection> {
        let quota = self
            .market
            .farms
            .values()
            .filter(|f| f.owner == owner)
            .filter_map(|f| self.farming.pool_of(f.id))
            .map(|p| p.rules.exit_quota_bps)
            .min();
        let Some(quota) = quota else { return Ok(()) };
        let free = self.ledger.account(&owner).map_or(0, |a| a.balances[tfeco_money::Asset::Tfp.index()]);
        let in_positions: i128 =
            self.exit.positions.values().filter(|p| p.owner == owner).map(|p| p.holding().units()).sum();
        let allowed = quota.share_of(free + in_positions, Rounding::Down);
        let already: i128 =
            self.exit.bids.values().filter(|b| b.owner == owner).map(|b| b.reserved.units()).sum();
        if already + reserve.units() > allowed {
            return Err(Rejection::ExitQuotaExceeded {
                allowed: Amount::from_units(allowed),
                requested: Amount::from_units(already + reserve.units()),
            });
        }
        Ok(())
    }
}
