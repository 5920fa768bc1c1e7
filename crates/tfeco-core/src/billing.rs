//! Billing (spec `decisions.md` §7, §9): charging lease periods at their start, grace and closing, the
//! versioned revenue split, and the revenue burn (CC burned with its TFT counterpart from the vault).

use tfeco_money::{Amount, Asset, Cc, Rounding, Tft};

use crate::event::{CloseReason, Event};
use crate::ids::{AccountKey, LeaseId, NodeId, SystemAccount};
use crate::ledger::{Outflow, Posting, Slot};
use crate::market::LeaseStatus;
use crate::params::SplitRecipient;
use crate::rejection::Rejection;
use crate::state::State;

/// The latest time a `Tick` may set: 9999-12-31T23:59:59Z.
pub const MAX_TIME: i64 = 253_402_300_799;

/// A validated charge: the postings and the split, ready to commit.
pub(crate) struct ChargePlan {
    postings: Vec<Posting>,
    farmer_key: AccountKey,
    pool: Option<(AccountKey, Amount<Cc>)>,
    charge: Amount<Cc>,
    farmer: Amount<Cc>,
    burned: Amount<Cc>,
    treasury: Amount<Cc>,
}

/// Splits `charge` by the revenue split: each share rounded down, the remainder to the farmer.
/// Returns `(farmer, burn, treasury)` in base units; they sum to `charge` exactly.
pub fn split_charge(charge: i128, split: &crate::params::RevenueSplit) -> (i128, i128, i128) {
    let (mut burn, mut treasury) = (0i128, 0i128);
    for (recipient, bps) in &split.shares {
        let share = bps.share_of(charge, Rounding::Down);
        match recipient {
            SplitRecipient::Farmer => {}
            SplitRecipient::Burn => burn += share,
            SplitRecipient::Treasury => treasury += share,
        }
    }
    (charge - burn - treasury, burn, treasury)
}

impl State {
    /// Plans the charge of one period: CC from the tenant, split to farmer (revenue CC), burn and treasury.
    /// Fails with `BalanceLow` when the tenant cannot pay.
    pub(crate) fn plan_charge(
        &self,
        tenant: AccountKey,
        node_id: NodeId,
        charge: Amount<Cc>,
    ) -> Result<ChargePlan, Rejection> {
        let from = self.ledger.slot_of(&tenant).ok_or(Rejection::AccountNotFound { account: tenant })?;
        self.plan_charge_from(from, node_id, charge)
    }

    /// Like [`State::plan_charge`] but paid from any slot (an escrow for standing bids and capacity
    /// requests).
    pub(crate) fn plan_charge_from(
        &self,
        from: Slot,
        node_id: NodeId,
        charge: Amount<Cc>,
    ) -> Result<ChargePlan, Rejection> {
        let (farmer, pool) = self.revenue_recipients(node_id);
        let to = self.ledger.slot_of(&farmer).ok_or(Rejection::AccountNotFound { account: farmer })?;
        let (farmer_units, burn_units, treasury_units) =
            split_charge(charge.units(), &self.params.revenue_split);
        let mut postings = Vec::with_capacity(4);
        // A farming pool takes its fee (rounded down) from the farmer share (spec §10).
        let pool_fee = pool.map(|(owner, fee_bps)| (owner, fee_bps.share_of(farmer_units, Rounding::Down)));
        let member_units = farmer_units - pool_fee.map_or(0, |(_, fee)| fee);
        // A payment to oneself (a farmer leasing its own node) moves nothing and creates no revenue CC.
        if let Some((owner, fee)) = pool_fee.filter(|(_, fee)| *fee > 0) {
            let pool_slot =
                self.ledger.slot_of(&owner).ok_or(Rejection::AccountNotFound { account: owner })?;
            if pool_slot != from {
                postings.push(Posting::Transfer {
                    asset: Asset::Cc,
                    from,
                    to: pool_slot,
                    units: fee,
                    revenue: true,
                });
            }
        }
        if member_units > 0 && to != from {
            postings.push(Posting::Transfer {
                asset: Asset::Cc,
                from,
                to,
                units: member_units,
                revenue: true,
            });
        }
        if burn_units > 0 {
            postings.push(Posting::Burn {
                asset: Asset::Cc,
                from,
                units: burn_units,
                outflow: Outflow::Burn,
            });
        }
        if treasury_units > 0 {
            let to = Slot::System(SystemAccount::Treasury);
            postings.push(Posting::Transfer {
                asset: Asset::Cc,
                from,
                to,
                units: treasury_units,
                revenue: false,
            });
        }
        self.ledger.validate(&postings)?;
        Ok(ChargePlan {
            postings,
            farmer_key: farmer,
            pool: pool_fee.map(|(owner, fee)| (owner, Amount::from_units(fee))),
            charge,
            farmer: Amount::from_units(member_units),
            burned: Amount::from_units(burn_units),
            treasury: Amount::from_units(treasury_units),
        })
    }

    /// Commits a planned charge for the period starting at the lease's `next_charge_at`.
    pub(crate) fn commit_charge(&mut self, lease_id: LeaseId, plan: ChargePlan, events: &mut Vec<Event>) {
        self.ledger.commit(&plan.postings);
        self.burn_pending_cc = Amount::from_units(self.burn_pending_cc.units() + plan.burned.units());
        let period_s = {
            let lease = &self.market.leases[&lease_id];
            self.period_s(lease.billing)
        };
        let lease = self.market.leases.get_mut(&lease_id).expect("charging a known lease");
        let period_start = lease.next_charge_at;
        lease.next_charge_at += period_s;
        lease.periods_paid += 1;
        lease.total_paid = Amount::from_units(lease.total_paid.units() + plan.charge.units());
        events.push(Event::LeaseCharged {
            lease_id,
            period_start,
            charge: plan.charge,
            farmer: plan.farmer,
            pool_fee: plan.pool.map_or(Amount::ZERO, |(_, fee)| fee),
            burned: plan.burned,
            treasury: plan.treasury,
            split_version: self.params.revenue_split.version,
        });
        // The burn's TFP leaves the reserve before a TFP-settling farmer's conversion draws on it.
        self.settle_pending_burn(events);
        self.settle_revenue(plan.farmer_key, plan.farmer, events);
        if let Some((owner, fee)) = plan.pool {
            self.settle_revenue(owner, fee, events);
        }
    }

    /// Burns the TFT counterpart of the CC burned so far (spec §7): `b = cc * cc_usd / tft_usd` rounded
    /// down; TFP from `pool2.reserve` and the same TFT from the vault. What the reserve cannot cover is added
    /// to `burn_owed_tft`. Without valid prices the CC stays pending until a later command has them.
    pub(crate) fn settle_pending_burn(&mut self, events: &mut Vec<Event>) {
        if !self.burn_pending_cc.is_positive() {
            return;
        }
        let Ok(prices) = self.oracle.prices(&self.params, self.now) else {
            return;
        };
        let cc = self.burn_pending_cc;
        let Some(owed_units) = prices.tft_for_cc(cc.units().unsigned_abs(), Rounding::Down) else {
            return;
        };
        let owed = i128::try_from(owed_units).unwrap_or(i128::MAX);
        let reserve = self.ledger.system_balance::<tfeco_money::Tfp>(SystemAccount::Pool2Reserve).units();
        let burn = owed.min(reserve);
        if burn > 0 {
            let plan = [
                Posting::Burn {
                    asset: Asset::Tfp,
                    from: Slot::System(SystemAccount::Pool2Reserve),
                    units: burn,
                    outflow: Outflow::Burn,
                },
                Posting::Burn {
                    asset: Asset::Tft,
                    from: Slot::System(SystemAccount::Vault),
                    units: burn,
                    outflow: Outflow::Burn,
                },
            ];
            self.ledger.validate(&plan).expect("the vault backs every TFP, so it holds at least the reserve");
            self.ledger.commit(&plan);
        }
        let short = owed - burn;
        self.burn_owed_tft = Amount::from_units(self.burn_owed_tft.units().saturating_add(short));
        self.burn_pending_cc = Amount::ZERO;
        events.push(Event::RevenueBurned {
            cc,
            tft: Amount::<Tft>::from_units(burn),
            tft_owed: Amount::from_units(short),
        });
    }

    /// `Tick { now }`: advances time, bills every open lease that is due, handles grace and expiry, then
    /// settles pending burns.
    pub(crate) fn apply_tick(&mut self, now: i64) -> Result<Vec<Event>, Rejection> {
        if now < self.now {
            return Err(Rejection::TimeRegression { now: self.now, got: now });
        }
        // Schedules add periods to times: keep every time far from i64 overflow (year 9999).
        if now > MAX_TIME {
            return Err(Rejection::LimitExceeded {
                what: "unix seconds (time)".to_owned(),
                limit: MAX_TIME as u64,
            });
        }
        self.now = now;
        let mut events = vec![Event::Ticked { now }];
        // Parameter changes due by now apply first, so every charge billed by this Tick uses them.
        self.apply_due_param_changes(&mut events);
        let due: Vec<LeaseId> = self.market.open_leases.iter().copied().collect();
        for lease_id in due {
            self.bill_lease(lease_id, &mut events);
        }
        self.close_capacity_requests(&mut events);
        self.settle_pending_burn(&mut events);
        self.run_exit_rounds(&mut events);
        self.clear_batches(&mut events);
        self.close_minting_periods(&mut events);
        self.release_vesting(&mut events);
        Ok(events)
    }

    /// Runs one lease's schedule up to `now`.
    fn bill_lease(&mut self, lease_id: LeaseId, events: &mut Vec<Event>) {
        let now = self.now;
        let grace_s = self.params.lease_grace_s;
        loop {
            let lease = &self.market.leases[&lease_id];
            let node_id = lease.node_id;
            match lease.status {
                LeaseStatus::Closed { .. } => return,
                LeaseStatus::Active | LeaseStatus::Cancelling => {
                    let due = lease.next_charge_at;
                    if due > now {
                        return;
                    }
                    if lease.status == LeaseStatus::Cancelling {
                        events.push(self.close_lease(lease_id, CloseReason::Cancelled, due));
                        return;
                    }
                    if let Some(end) = lease.ends_at {
                        if due >= end {
                            events.push(self.close_lease(lease_id, CloseReason::Expired, end));
                            return;
                        }
                    }
                    match self.plan_charge(lease.tenant, node_id, lease.period_charge) {
                        Ok(plan) => self.commit_charge(lease_id, plan, events),
                        Err(_) => {
                            let tenant = lease.tenant;
                            self.market.leases.get_mut(&lease_id).expect("known").status =
                                LeaseStatus::Grace { since: due };
                            self.market.grace_leases.insert((tenant, lease_id));
                            events.push(Event::LeaseGraceStarted { lease_id, grace_until: due + grace_s });
                        }
                    }
                }
                LeaseStatus::Grace { since } => {
                    if now >= since + grace_s {
                        events.push(self.close_lease(
                            lease_id,
                            CloseReason::InsufficientFunds,
                            since + grace_s,
                        ));
                        return;
                    }
                    if !self.try_resume(lease_id, events) {
                        return;
                    }
                }
            }
        }
    }

    /// Charges the unpaid period of a lease in grace if the tenant can now pay; returns `true` if resumed.
    fn try_resume(&mut self, lease_id: LeaseId, events: &mut Vec<Event>) -> bool {
        let lease = &self.market.leases[&lease_id];
        let tenant = lease.tenant;
        let Ok(plan) = self.plan_charge(tenant, lease.node_id, lease.period_charge) else {
            return false;
        };
        self.market.leases.get_mut(&lease_id).expect("known").status = LeaseStatus::Active;
        self.market.grace_leases.remove(&(tenant, lease_id));
        events.push(Event::LeaseResumed { lease_id });
        self.commit_charge(lease_id, plan, events);
        true
    }

    /// After a top-up of `tenant`'s CC: resumes its leases in grace (oldest first) while funds last
    /// (spec §9: "a top-up inside grace resumes it and charges the period").
    pub(crate) fn resume_after_top_up(&mut self, tenant: AccountKey, events: &mut Vec<Event>) {
        let in_grace: Vec<LeaseId> = self
            .market
            .grace_leases
            .range((tenant, LeaseId(0))..=(tenant, LeaseId(u64::MAX)))
            .map(|(_, id)| *id)
            .collect();
        for lease_id in in_grace {
            if let LeaseStatus::Grace { since } = self.market.leases[&lease_id].status {
                if self.now < since + self.params.lease_grace_s && self.try_resume(lease_id, events) {
                    // Catch up periods that fell due while in grace at the next Tick.
                    continue;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::RevenueSplit;

    #[test]
    fn rs1_split_of_100_cc_is_80_10_10() {
        let split = RevenueSplit::tfgrid4_2025();
        assert_eq!(split_charge(1_000_000_000, &split), (800_000_000, 100_000_000, 100_000_000));
    }

    #[test]
    fn remainder_goes_to_the_farmer() {
        let split = RevenueSplit::tfgrid4_2025();
        assert_eq!(split_charge(7, &split), (7, 0, 0));
        assert_eq!(split_charge(19, &split), (17, 1, 1));
    }
}
