//! Time-weighted utilization of each node, for the early release of locked rewards (spec `decisions.md` §11:
//! "for this rule a month is a minting period and its utilization is time-weighted: leased slice-seconds /
//! offered slice-seconds over the whole period; leases whose tenant is the node's farm owner, or the owner or
//! a member of the node's farming pool, do not count").
//!
//! Each node has a [`UtilizationMeter`], changed incrementally and never by scanning history:
//! - the *rate* is the number of slices of the node's **counted** leases right now;
//! - leased slice-seconds accrue at that rate into per-minting-period buckets up to `accrued_to`, and are
//!   brought forward whenever the rate changes (a lease opens, closes, enters or leaves grace, or a farming
//!   pool's membership changes who counts); a read for period `k` adds the part not yet accrued, so a period
//!   never needs a per-node update to be closed;
//! - a change dated before `accrued_to` (a lease that expired or fell into grace at a past period boundary
//!   and is processed by a later `Tick`) is applied retroactively to the buckets it covers, so the result is
//!   exact to the second;
//! - buckets of periods the rewards slice has closed are dropped (`Tick` moves the floor).
//!
//! Which leases count (the rulings, and the readings where the spec is silent):
//! - a lease counts while it is **active or cancelling** (the tenant paid for the period it is in);
//! - a lease in **grace** does not count while in grace; if the tenant pays (a top-up resumes the lease and
//!   the period that fell due is charged), the grace time counts retroactively from the unpaid period's
//!   start, since the tenant kept and paid for the slices. Grace that ends in closure for non-payment never
//!   counts: an unpaid lease is not utilization (otherwise one paid hour would buy 72 hours of utilization).
//!   Grace time resumed after its minting period's report closed stays out of that closed report;
//! - a lease does not count when its tenant is the node's farm owner, or the owner or a member (the owner of
//!   a member farm) of the node's farming pool; membership is judged continuously (a join or leave
//!   re-classifies the leases of the pool's nodes from that moment).
//!
//! Offered slice-seconds are the node's offered slices times the part of the period since its registration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CapacityMarket;
use crate::ids::{AccountKey, FarmId, FarmingPoolId, LeaseId, NodeId};
use crate::rules::minting::{period_end, period_of, period_start};
use crate::slices::farming_pool::FarmingPools;

/// One node's utilization meter (see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtilizationMeter {
    /// The node's open leases that are not in grace, each with `true` when it counts (tenant not the farm
    /// owner nor the owner or a member of the node's farming pool).
    live: BTreeMap<LeaseId, bool>,
    /// Slices of the counted live leases: the rate at which leased slice-seconds accrue.
    counted_slices: u32,
    /// Leased slice-seconds are accrued up to this time (unix seconds).
    accrued_to: i64,
    /// Counted leased slice-seconds accrued per minting period (periods at or above the floor only).
    leased_s: BTreeMap<u32, u64>,
}

impl UtilizationMeter {
    /// Slices of the counted leases now.
    pub fn counted_slices(&self) -> u32 {
        self.counted_slices
    }

    /// Adds (`add`) or removes `slices` x seconds over `[from, to)` to the buckets of the periods it covers,
    /// skipping periods below `floor` (already closed). Removal saturates at zero (it only removes what an
    /// earlier accrual added).
    fn accrue(&mut self, floor: u32, (from, to): (i64, i64), slices: u32, add: bool) {
        let mut t = from.max(period_start(floor));
        while slices != 0 && t < to {
            // `t >= period_start(floor)`: `None` only beyond period `u32::MAX`, far after `MAX_TIME`.
            let Some(period) = period_of(t) else { return };
            let end = to.min(period_end(period));
            let seconds = u64::try_from(end.saturating_sub(t)).unwrap_or(0);
            let amount = u64::from(slices).saturating_mul(seconds);
            let bucket = self.leased_s.entry(period).or_default();
            *bucket = if add { bucket.saturating_add(amount) } else { bucket.saturating_sub(amount) };
            if *bucket == 0 {
                self.leased_s.remove(&period);
            }
            t = end;
        }
    }

    /// The counted rate changes by `slices` (up when `add`) from time `at`: accrues the old rate up to `at`
    /// when `at` is ahead, or corrects `[at, accrued_to)` retroactively when it is behind.
    fn change_rate(&mut self, floor: u32, at: i64, slices: u32, add: bool) {
        if at > self.accrued_to {
            self.accrue(floor, (self.accrued_to, at), self.counted_slices, true);
            self.accrued_to = at;
        } else if at < self.accrued_to {
            self.accrue(floor, (at, self.accrued_to), slices, add);
        }
        self.counted_slices = if add {
            self.counted_slices.saturating_add(slices)
        } else {
            self.counted_slices.saturating_sub(slices)
        };
    }

    /// Counted leased slice-seconds in period `k` (exact for `k` at or above the floor): the accrued bucket
    /// plus the current rate over the part of the period after `accrued_to`.
    pub fn leased_slice_seconds(&self, k: u32) -> u64 {
        let accrued = self.leased_s.get(&k).copied().unwrap_or(0);
        let from = self.accrued_to.max(period_start(k));
        let seconds = u64::try_from(period_end(k).saturating_sub(from)).unwrap_or(0);
        accrued.saturating_add(u64::from(self.counted_slices).saturating_mul(seconds))
    }
}

impl CapacityMarket {
    /// The utilization meter of a node (`None` until its first lease).
    pub fn utilization_meter(&self, node: NodeId) -> Option<&UtilizationMeter> {
        self.meters.get(&node)
    }

    /// Counted leased slice-seconds of `node` in minting period `k` (module doc). Exact for periods the
    /// rewards slice has not closed yet.
    pub fn leased_slice_seconds(&self, node: NodeId, k: u32) -> u64 {
        self.meters.get(&node).map_or(0, |m| m.leased_slice_seconds(k))
    }

    /// Offered slice-seconds of `node` in minting period `k`: its offered slices times the part of the
    /// period since its registration (0 for an unknown node).
    pub fn offered_slice_seconds(&self, node: NodeId, k: u32) -> u64 {
        let Some(node) = self.nodes.get(&node) else { return 0 };
        let from = node.registered_at.max(period_start(k));
        let seconds = u64::try_from(period_end(k).saturating_sub(from)).unwrap_or(0);
        u64::from(node.offered_slices).saturating_mul(seconds)
    }

    /// `true` when a lease of `node_id` by `tenant` does not count for utilization (§11): the tenant is the
    /// node's farm owner, or the owner or a member (owner of a member farm) of the node's farming pool.
    pub(crate) fn is_self_lease(&self, farming: &FarmingPools, tenant: AccountKey, node_id: NodeId) -> bool {
        let Some(node) = self.nodes.get(&node_id) else { return false };
        if self.farm_owner(node.farm_id) == Some(tenant) {
            return true;
        }
        let Some(pool) = farming.pool_of(node.farm_id) else { return false };
        pool.owner == tenant || pool.members.iter().any(|farm| self.farm_owner(*farm) == Some(tenant))
    }

    /// Test-only corruption hooks: flips the utilization classification of the first live lease of the first
    /// meter (`meter`), or counts one more leased slice on the first node with a lease (otherwise).
    #[cfg(test)]
    pub(crate) fn corrupt_for_test(&mut self, meter: bool) {
        if meter {
            let live =
                self.meters.values_mut().find_map(|m| m.live.values_mut().next()).expect("a live lease");
            *live = !*live;
        } else {
            let node = self.nodes.values_mut().find(|n| n.leased_slices > 0).expect("a leased node");
            node.leased_slices = node.leased_slices.saturating_add(1);
        }
    }

    /// The tenants for whom a lease of `node_id` is a self-lease ([`CapacityMarket::is_self_lease`] is
    /// `self_lessees(node).contains(tenant)`): the farm's owner, its pool's owner and the owners of the pool's
    /// member farms. Lets a check over many leases of one node classify each without lookups.
    fn self_lessees(&self, farming: &FarmingPools, node_id: NodeId) -> Vec<AccountKey> {
        let Some(node) = self.nodes.get(&node_id) else { return Vec::new() };
        let mut owners: Vec<AccountKey> = self.farm_owner(node.farm_id).into_iter().collect();
        if let Some(pool) = farming.pool_of(node.farm_id) {
            owners.push(pool.owner);
            owners.extend(pool.members.iter().filter_map(|farm| self.farm_owner(*farm)));
        }
        owners
    }

    /// A lease becomes live (opened, or resumed from grace) from time `at`: it joins its node's meter,
    /// counted unless it is a self-lease.
    pub(crate) fn meter_lease_live(&mut self, farming: &FarmingPools, lease_id: LeaseId, at: i64) {
        let Some(lease) = self.leases.get(&lease_id) else { return };
        let (node_id, slices) = (lease.node_id, lease.n_slices);
        let counted = !self.is_self_lease(farming, lease.tenant, node_id);
        let floor = self.utilization_floor;
        let meter = self
            .meters
            .entry(node_id)
            .or_insert_with(|| UtilizationMeter { accrued_to: at, ..UtilizationMeter::default() });
        if meter.live.insert(lease_id, counted).is_none() && counted {
            meter.change_rate(floor, at, slices, true);
        }
    }

    /// A lease stops being live (closed, or fell into grace) at time `at`: it leaves its node's meter.
    pub(crate) fn meter_lease_gone(&mut self, lease_id: LeaseId, at: i64) {
        let Some(lease) = self.leases.get(&lease_id) else { return };
        let (node_id, slices) = (lease.node_id, lease.n_slices);
        let floor = self.utilization_floor;
        let Some(meter) = self.meters.get_mut(&node_id) else { return };
        if meter.live.remove(&lease_id) == Some(true) {
            meter.change_rate(floor, at, slices, false);
        }
    }

    /// After a membership change of `pool_id` involving `farm_id` (joined or left), from time `at`: the
    /// leases of the nodes of the pool's member farms and of `farm_id` are classified again (a tenant may
    /// have become, or stopped being, a member of the node's pool).
    pub(crate) fn reclassify_pool_leases(
        &mut self,
        farming: &FarmingPools,
        (pool_id, farm_id): (FarmingPoolId, FarmId),
        at: i64,
    ) {
        let mut farms: Vec<FarmId> =
            farming.pools().get(&pool_id).map(|p| p.members.iter().copied().collect()).unwrap_or_default();
        farms.push(farm_id);
        let nodes: Vec<NodeId> =
            farms.iter().filter_map(|f| self.farms.get(f)).flat_map(|f| f.nodes.iter().copied()).collect();
        let floor = self.utilization_floor;
        for node_id in nodes {
            let Some(meter) = self.meters.get(&node_id) else { continue };
            let mut changes = Vec::new();
            for (lease_id, counted) in &meter.live {
                let Some(lease) = self.leases.get(lease_id) else { continue };
                let now_counted = !self.is_self_lease(farming, lease.tenant, node_id);
                if now_counted != *counted {
                    changes.push((*lease_id, lease.n_slices, now_counted));
                }
            }
            let Some(meter) = self.meters.get_mut(&node_id) else { continue };
            for (lease_id, slices, now_counted) in changes {
                meter.live.insert(lease_id, now_counted);
                meter.change_rate(floor, at, slices, now_counted);
            }
        }
    }

    /// The rewards slice closed every period before `floor`: their buckets are dropped and later changes
    /// no longer touch them. The floor only moves forward.
    pub(crate) fn set_utilization_floor(&mut self, floor: u32) {
        if floor <= self.utilization_floor {
            return;
        }
        self.utilization_floor = floor;
        for meter in self.meters.values_mut() {
            meter.leased_s = meter.leased_s.split_off(&floor);
        }
    }

    /// Meter accounting: every open lease not in grace is live in its node's meter and nothing else is; each
    /// live lease's classification is the current one; each meter's rate is the slices of its counted live
    /// leases.
    pub(crate) fn check_meters(&self, farming: &FarmingPools) -> Result<(), String> {
        let mut live = 0usize;
        for (node_id, meter) in &self.meters {
            let mut rate = 0u64;
            let self_lessees = self.self_lessees(farming, *node_id);
            for (lease_id, counted) in &meter.live {
                let lease = self.leases.get(lease_id).ok_or("a meter names a missing lease")?;
                let in_grace = matches!(lease.status, super::LeaseStatus::Grace { .. });
                if !lease.is_open() || in_grace || lease.node_id != *node_id {
                    return Err(format!(
                        "lease {lease_id} is live in node {node_id}'s meter but should not be"
                    ));
                }
                if *counted == self_lessees.contains(&lease.tenant) {
                    return Err(format!("lease {lease_id} is classified wrongly for utilization"));
                }
                if *counted {
                    rate = rate.saturating_add(u64::from(lease.n_slices));
                }
            }
            if rate != u64::from(meter.counted_slices) {
                return Err(format!("node {node_id}'s utilization rate {} != {rate}", meter.counted_slices));
            }
            live = live.saturating_add(meter.live.len());
        }
        let expected = self
            .open_leases
            .iter()
            .filter_map(|id| self.leases.get(id))
            .filter(|l| !matches!(l.status, super::LeaseStatus::Grace { .. }))
            .count();
        if live != expected {
            return Err(format!("{live} leases are live in meters, {expected} open leases are not in grace"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::minting::PERIOD_S;

    const S10: i64 = period_start(10);
    const S11: i64 = period_start(11);

    fn meter(at: i64) -> UtilizationMeter {
        UtilizationMeter { accrued_to: at, ..UtilizationMeter::default() }
    }

    #[test]
    fn slice_seconds_accrue_per_period_and_late_changes_correct_the_past_exactly() {
        let p = PERIOD_S as u64;
        let mut m = meter(S10 + 100);
        m.change_rate(0, S10 + 100, 2, true);
        assert_eq!((m.leased_slice_seconds(10), m.leased_slice_seconds(11)), (2 * (p - 100), 2 * p));
        // Another lease at S11 + 50 accrues the old rate over the boundary.
        m.change_rate(0, S11 + 50, 1, true);
        assert_eq!(m.leased_s, BTreeMap::from([(10, 2 * (p - 100)), (11, 100)]));
        // The first two slices in fact ended at S11 - 10 (processed late): corrected on both sides.
        m.change_rate(0, S11 - 10, 2, false);
        assert_eq!(m.counted_slices(), 1);
        assert_eq!(m.leased_slice_seconds(10), 2 * (p - 110));
        assert_eq!(m.leased_slice_seconds(11), p - 50);
        // A retroactive credit (a resumed grace) from S11 - 20.
        m.change_rate(0, S11 - 20, 1, true);
        assert_eq!(m.leased_slice_seconds(10), 2 * (p - 110) + 20);
        assert_eq!(m.leased_slice_seconds(11), 50 + 2 * (p - 50));
    }

    #[test]
    fn closed_periods_below_the_floor_are_never_touched_again() {
        let p = PERIOD_S as u64;
        let mut m = meter(S10);
        m.change_rate(0, S10, 3, true);
        m.change_rate(0, S11 + 10, 1, true);
        // Period 10 is closed: a late change dated inside it only corrects period 11.
        m.leased_s = m.leased_s.split_off(&11);
        m.change_rate(11, S10 + 5, 3, false);
        assert_eq!(m.leased_s, BTreeMap::new(), "30 slice-seconds of period 11 removed, none of period 10");
        assert_eq!(m.leased_slice_seconds(11), p - 10);
        // A long idle stretch at rate 0 creates no bucket.
        let mut idle = meter(S10);
        idle.change_rate(11, S10 + 50 * PERIOD_S, 1, true);
        assert!(idle.leased_s.is_empty());
    }
}
