//! Leases of the capacity market (spec `decisions.md` §7, §9): opening (the first period charged at once),
//! cancelling (ends at the paid period's end; a lease in grace closes at once), charging a period with the
//! versioned revenue split (farmer, farming-pool fee, burn, treasury), billing every due period on `Tick`,
//! grace for unpaid periods, and resumption after a top-up.

use serde::de::{Error as _, SeqAccess};
use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Bps, Cc, Rounding};

use super::{CapacityMarket, Payments};
use crate::event::Event;
use crate::ids::{AccountKey, LeaseId, NodeId, SystemAccount};
use crate::ledger::{Ledger, Outflow, Posting, Slot};
use crate::rejection::{Limit, Rejection};
use crate::rules::billing::{period_charge, split_charge};
use crate::rules::oracle::Prices;
use crate::slices::oracle::Oracle;
use crate::slices::Env;
use crate::types::{deserialize_compact_tagged, Billing, CloseReason, CompactFields, CompactTagged};

/// Where a lease is in its life. JSON: `{"status": ..., ...}`; compact encodings (the state's canonical
/// encoding): the tag then the variant's fields (`crate::types::deserialize_compact_tagged`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", remote = "Self")]
pub enum LeaseStatus {
    /// Paid up to `next_charge_at`.
    Active,
    /// The charge due at `since` could not be paid; closes at `since + grace` unless funds arrive.
    Grace {
        /// When the unpaid period began.
        since: i64,
    },
    /// Cancelled by the tenant; closes at `next_charge_at` (end of the paid period).
    Cancelling,
    /// Closed.
    Closed {
        /// Why.
        reason: CloseReason,
        /// When.
        at: i64,
    },
}

impl Serialize for LeaseStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LeaseStatus::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for LeaseStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            LeaseStatus::deserialize(deserializer)
        } else {
            deserialize_compact_tagged(deserializer)
        }
    }
}

impl CompactTagged for LeaseStatus {
    const NAME: &'static str = "LeaseStatus";
    const VARIANTS: &'static [&'static str] = &["active", "grace", "cancelling", "closed"];
    const MAX_FIELDS: usize = 2;

    fn read_variant<'de, A: SeqAccess<'de>>(tag: &str, f: &mut CompactFields<A>) -> Result<Self, A::Error> {
        Ok(match tag {
            "active" => LeaseStatus::Active,
            "grace" => LeaseStatus::Grace { since: f.next()? },
            "cancelling" => LeaseStatus::Cancelling,
            "closed" => LeaseStatus::Closed { reason: f.next()?, at: f.next()? },
            other => return Err(A::Error::unknown_variant(other, Self::VARIANTS)),
        })
    }
}

/// A lease of slices of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Id.
    pub id: LeaseId,
    /// The paying user.
    pub tenant: AccountKey,
    /// The node.
    pub node_id: NodeId,
    /// Slices leased.
    pub n_slices: u32,
    /// Billing mode.
    pub billing: Billing,
    /// Listed monthly price per slice at opening (the lease keeps it).
    pub price_month: Amount<Cc>,
    /// CC charged each period (rounded up once from the exact price).
    pub period_charge: Amount<Cc>,
    /// Opening time.
    pub opened_at: i64,
    /// Start of the next period to charge.
    pub next_charge_at: i64,
    /// Time at which the lease expires (`None`: until cancelled).
    pub ends_at: Option<i64>,
    /// Status.
    pub status: LeaseStatus,
    /// Periods charged so far.
    pub periods_paid: u64,
    /// CC paid so far.
    pub total_paid: Amount<Cc>,
}

impl Lease {
    /// `true` unless closed.
    pub fn is_open(&self) -> bool {
        !matches!(self.status, LeaseStatus::Closed { .. })
    }
}

/// What a new lease is: its tenant, who pays the first period, the node, and its terms.
pub(crate) struct LeaseTerms {
    /// The tenant (pays later periods).
    pub(crate) tenant: AccountKey,
    /// Who pays the first period: the tenant, or an escrow.
    pub(crate) payer: Slot,
    /// The node.
    pub(crate) node_id: NodeId,
    /// Slices.
    pub(crate) n_slices: u32,
    /// Billing mode.
    pub(crate) billing: Billing,
    /// Price per slice-month the lease keeps.
    pub(crate) price: Amount<Cc>,
    /// CC charged per period.
    pub(crate) charge: Amount<Cc>,
    /// Periods until it expires (`None`: until cancelled).
    pub(crate) periods: Option<u32>,
}

/// A validated charge: the postings and the split, ready to commit.
pub(crate) struct ChargePlan {
    postings: ChargePostings,
    farmer_key: AccountKey,
    pool: Option<(AccountKey, Amount<Cc>)>,
    charge: Amount<Cc>,
    farmer: Amount<Cc>,
    burned: Amount<Cc>,
    treasury: Amount<Cc>,
}

/// The postings of one charge, kept inline (no allocation per charge): at most four (the pool's fee, the
/// farmer's share, the burn, the treasury's share).
#[derive(Clone, Copy)]
struct ChargePostings {
    items: [Posting; 4],
    len: usize,
}

impl ChargePostings {
    fn new() -> Self {
        let unused = Posting::ConsumeRevenue { from: Slot::System(SystemAccount::Treasury), units: 0 };
        ChargePostings { items: [unused; 4], len: 0 }
    }

    /// Appends a posting; a charge plans at most four, by construction.
    fn push(&mut self, posting: Posting) {
        self.items[self.len] = posting;
        self.len = self.len.saturating_add(1);
    }

    fn as_slice(&self) -> &[Posting] {
        &self.items[..self.len]
    }
}

/// Who receives the revenue of a node's leases: the farmer (key and ledger slot) and, for a farming-pool
/// member, the pool's owner, its fee and the owner's slot (`None`: not registered).
#[derive(Clone, Copy)]
struct Recipients {
    node_id: NodeId,
    farmer: AccountKey,
    farmer_slot: Slot,
    pool: Option<(AccountKey, Bps, Option<Slot>)>,
}

/// What stays the same while one command charges leases, looked up once instead of per lease: the prices
/// (the oracle, the parameters and the time do not change inside a command) and the revenue recipients of
/// the last node charged (consecutive leases are often on one node; farms, pools and ledger slots do not
/// change while leases are charged). Create one per command and drop it with the command.
#[derive(Default)]
pub(crate) struct ChargeCache {
    prices: Option<Option<Prices>>,
    recipients: Option<Recipients>,
}

impl ChargeCache {
    /// The valid prices of the command (`None`: none), read from the oracle the first time.
    fn prices(&mut self, env: &Env<'_>, oracle: &Oracle) -> Option<Prices> {
        *self.prices.get_or_insert_with(|| oracle.prices_in(env).ok())
    }
}

/// The ledger slot of `tenant` as an index (`u32::MAX` when not registered), remembered per lease.
pub(super) fn slot_hint(ledger: &Ledger, tenant: &AccountKey) -> u32 {
    match ledger.slot_of(tenant) {
        Some(Slot::User(index)) => index,
        _ => u32::MAX,
    }
}

/// Checks an optional number of lease periods against `max_lease_periods`.
pub(crate) fn check_periods(env: &Env<'_>, periods: Option<u32>) -> Result<(), Rejection> {
    match periods {
        Some(n) if n == 0 || n > env.params.max_lease_periods => Err(Rejection::LimitExceeded {
            what: Limit::LeasePeriods,
            limit: u64::from(env.params.max_lease_periods),
        }),
        _ => Ok(()),
    }
}

impl CapacityMarket {
    /// `OpenLease`: `n_slices` of a node at its listed price, the first period charged at once.
    pub(crate) fn open_lease(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        tenant: AccountKey,
        (node_id, n_slices, billing): (NodeId, u32, Billing),
        periods: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let node = self.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        check_periods(env, periods)?;
        let price = node.price.ok_or(Rejection::NodeNotListed)?;
        if n_slices == 0 || n_slices > node.offered_slices {
            return Err(Rejection::InvalidSliceCount { max: node.offered_slices });
        }
        if n_slices > node.free_slices() {
            return Err(Rejection::SlicesUnavailable { requested: n_slices, free: node.free_slices() });
        }
        let band = (node.band_min, node.band_max);
        let charge = period_charge(price, band, n_slices, billing, &env.params.lease_pricing())
            .ok_or(Rejection::Overflow)?;
        let payer = pay.ledger.user_slot(&tenant)?;
        let terms = LeaseTerms { tenant, payer, node_id, n_slices, billing, price, charge, periods };
        self.open_lease_paid_by(env, pay, terms)
    }

    /// Creates a lease after the caller checked the node, the slices and the price, charging the first period
    /// from `terms.payer`. Validates the charge before creating anything.
    pub(crate) fn open_lease_paid_by(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        terms: LeaseTerms,
    ) -> Result<Vec<Event>, Rejection> {
        let LeaseTerms { tenant, payer, node_id, n_slices, billing, price, charge, periods } = terms;
        let period_s = env.params.period_s(billing);
        let ends_at = match periods {
            Some(n) => Some(
                env.now
                    .checked_add(period_s.checked_mul(i64::from(n)).ok_or(Rejection::Overflow)?)
                    .ok_or(Rejection::Overflow)?,
            ),
            None => None,
        };
        let open = self.open_by_tenant.get(&tenant).copied().unwrap_or(0);
        if open >= env.params.max_open_leases_per_account {
            return Err(Rejection::LimitExceeded {
                what: Limit::OpenLeasesPerAccount,
                limit: u64::from(env.params.max_open_leases_per_account),
            });
        }
        let node = self.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        if n_slices == 0 || n_slices > node.free_slices() {
            return Err(Rejection::SlicesUnavailable { requested: n_slices, free: node.free_slices() });
        }
        let next = u64::try_from(self.leases.len()).map_err(|_| Rejection::Overflow)?;
        let id = LeaseId(next.checked_add(1).ok_or(Rejection::Overflow)?);
        // Validate and plan the first charge before creating anything.
        let mut cache = ChargeCache::default();
        let plan = self.plan_charge(env, pay, payer, node_id, charge, &mut cache)?;
        let mut events =
            vec![Event::LeaseOpened { lease_id: id, node_id, n_slices, billing, period_charge: charge }];
        let lease = Lease {
            id,
            tenant,
            node_id,
            n_slices,
            billing,
            price_month: price,
            period_charge: charge,
            opened_at: env.now,
            next_charge_at: env.now,
            ends_at,
            status: LeaseStatus::Active,
            periods_paid: 0,
            total_paid: Amount::ZERO,
        };
        self.leases.insert(id, lease);
        if id.0.checked_sub(1) == Some(self.tenant_slots.len() as u64) {
            self.tenant_slots.push(slot_hint(pay.ledger, &tenant));
        }
        self.open_leases.insert(id);
        let count = self.open_by_tenant.entry(tenant).or_default();
        *count = count.saturating_add(1);
        if let Some(node) = self.nodes.get_mut(&node_id) {
            node.leased_slices = node.leased_slices.saturating_add(n_slices);
        }
        self.meter_lease_live(pay.farming, id, env.now);
        let _next_charge_at = self.commit_charge(env, pay, (id, plan), &mut events, &mut cache);
        let prices = cache.prices(env, pay.oracle);
        pay.pool2.settle_pending_burn_at(pay.ledger, prices.as_ref(), &mut events);
        Ok(events)
    }

    /// `CancelLease`: an active lease ends at its paid period's end; one in grace closes at once.
    pub(crate) fn cancel_lease(
        &mut self,
        env: &Env<'_>,
        tenant: AccountKey,
        lease_id: LeaseId,
    ) -> Result<Vec<Event>, Rejection> {
        let lease = self.leases.get_mut(&lease_id).ok_or(Rejection::LeaseNotFound)?;
        if lease.tenant != tenant {
            return Err(Rejection::NotOwner);
        }
        match lease.status {
            LeaseStatus::Active => {
                lease.status = LeaseStatus::Cancelling;
                Ok(vec![Event::LeaseCancelRequested { lease_id, ends_at: lease.next_charge_at }])
            }
            LeaseStatus::Grace { .. } => {
                Ok(vec![self.close_lease(lease_id, CloseReason::Cancelled, env.now)])
            }
            LeaseStatus::Cancelling | LeaseStatus::Closed { .. } => Err(Rejection::LeaseNotOpen),
        }
    }

    /// Closes an open lease and frees its slices.
    fn close_lease(&mut self, lease_id: LeaseId, reason: CloseReason, at: i64) -> Event {
        self.meter_lease_gone(lease_id, at);
        let lease = self.leases.get_mut(&lease_id).expect("closing a known lease");
        assert!(lease.is_open(), "closing a closed lease");
        lease.status = LeaseStatus::Closed { reason, at };
        let (node_id, n_slices, tenant) = (lease.node_id, lease.n_slices, lease.tenant);
        self.open_leases.remove(&lease_id);
        self.grace_leases.remove(&(tenant, lease_id));
        if let Some(open) = self.open_by_tenant.get_mut(&tenant) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                self.open_by_tenant.remove(&tenant);
            }
        }
        if let Some(node) = self.nodes.get_mut(&node_id) {
            node.leased_slices =
                node.leased_slices.checked_sub(n_slices).expect("a lease's slices are leased");
        }
        Event::LeaseClosed { lease_id, reason, at }
    }

    /// [`CapacityMarket::revenue_recipients`] of `node_id` with the ledger slots, from `cache` when it holds
    /// that node's. Errors as [`CapacityMarket::plan_charge`]: an unknown node or farm, an unregistered farmer.
    fn recipients(
        &self,
        pay: &Payments<'_>,
        node_id: NodeId,
        cache: &mut ChargeCache,
    ) -> Result<Recipients, Rejection> {
        if let Some(known) = cache.recipients.filter(|r| r.node_id == node_id) {
            return Ok(known);
        }
        let (farmer, pool) = self.revenue_recipients(pay, node_id)?;
        let farmer_slot = pay.ledger.user_slot(&farmer)?;
        let pool = pool.map(|(owner, fee_bps)| (owner, fee_bps, pay.ledger.slot_of(&owner)));
        let recipients = Recipients { node_id, farmer, farmer_slot, pool };
        cache.recipients = Some(recipients);
        Ok(recipients)
    }

    /// The ledger slot of a lease's tenant: the remembered one ([`CapacityMarket::rebuild_derived`]) when it
    /// holds the tenant, else looked up by key; [`Rejection::AccountNotFound`] if not registered.
    fn tenant_slot(
        &self,
        ledger: &Ledger,
        lease_id: LeaseId,
        tenant: &AccountKey,
    ) -> Result<Slot, Rejection> {
        let index = usize::try_from(lease_id.0).ok().and_then(|id| id.checked_sub(1));
        let hint = index.and_then(|i| self.tenant_slots.get(i)).copied().unwrap_or(u32::MAX);
        ledger.user_slot_hinted(hint, tenant)
    }

    /// Who receives a node's farmer share: `(farmer, Some((pool owner, fee_bps)))` for farming-pool members.
    fn revenue_recipients(
        &self,
        pay: &Payments<'_>,
        node_id: NodeId,
    ) -> Result<(AccountKey, Option<(AccountKey, Bps)>), Rejection> {
        let node = self.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        let farmer = self.farm_owner(node.farm_id).ok_or(Rejection::FarmNotFound)?;
        Ok((farmer, pay.farming.fee_of(node.farm_id)))
    }

    /// Plans the charge of one period paid from `from` (the tenant, or an escrow): CC split to the farmer
    /// (revenue CC, less a farming pool's fee), burn and treasury. Fails with `BalanceLow` when the payer
    /// cannot pay. A payment to oneself (a farmer leasing its own node) moves nothing and creates no revenue.
    pub(crate) fn plan_charge(
        &self,
        env: &Env<'_>,
        pay: &Payments<'_>,
        from: Slot,
        node_id: NodeId,
        charge: Amount<Cc>,
        cache: &mut ChargeCache,
    ) -> Result<ChargePlan, Rejection> {
        let Recipients { farmer, farmer_slot: to, pool, .. } = self.recipients(pay, node_id, cache)?;
        let shares = split_charge(charge.units(), &env.params.revenue_split);
        let mut postings = ChargePostings::new();
        // A farming pool takes its fee (rounded down) from the farmer share (spec §10).
        let pool_fee =
            pool.map(|(owner, fee_bps, slot)| (owner, slot, fee_bps.share_of(shares.farmer, Rounding::Down)));
        let member_units = shares.farmer.saturating_sub(pool_fee.map_or(0, |(_, _, fee)| fee));
        let revenue =
            |to: Slot, units: i128| Posting::Transfer { asset: Asset::Cc, from, to, units, revenue: true };
        if let Some((owner, slot, fee)) = pool_fee.filter(|(_, _, fee)| *fee > 0) {
            let pool_slot = slot.ok_or(Rejection::AccountNotFound { account: owner })?;
            if pool_slot != from {
                postings.push(revenue(pool_slot, fee));
            }
        }
        if member_units > 0 && to != from {
            postings.push(revenue(to, member_units));
        }
        if shares.burn > 0 {
            postings.push(Posting::Burn {
                asset: Asset::Cc,
                from,
                units: shares.burn,
                outflow: Outflow::Burn,
            });
        }
        if shares.treasury > 0 {
            let to = Slot::System(SystemAccount::Treasury);
            postings.push(Posting::Transfer {
                asset: Asset::Cc,
                from,
                to,
                units: shares.treasury,
                revenue: false,
            });
        }
        pay.ledger.validate(postings.as_slice())?;
        Ok(ChargePlan {
            postings,
            farmer_key: farmer,
            pool: pool_fee.map(|(owner, _, fee)| (owner, Amount::from_units(fee))),
            charge,
            farmer: Amount::from_units(member_units),
            burned: Amount::from_units(shares.burn),
            treasury: Amount::from_units(shares.treasury),
        })
    }

    /// Commits a planned charge for the period starting at the lease's `next_charge_at`; the burn's TFP
    /// leaves the reserve before a TFP-settling farmer's conversion draws on it. Returns the lease's new
    /// `next_charge_at`.
    fn commit_charge(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        (lease_id, plan): (LeaseId, ChargePlan),
        events: &mut Vec<Event>,
        cache: &mut ChargeCache,
    ) -> i64 {
        pay.ledger.commit(plan.postings.as_slice());
        pay.pool2.add_burned_cc(plan.burned);
        let lease = self.leases.get_mut(&lease_id).expect("charging a known lease");
        let period_start = lease.next_charge_at;
        lease.next_charge_at = period_start.saturating_add(env.params.period_s(lease.billing));
        lease.periods_paid = lease.periods_paid.saturating_add(1);
        lease.total_paid = Amount::from_units(lease.total_paid.units().saturating_add(plan.charge.units()));
        let next_charge_at = lease.next_charge_at;
        events.push(Event::LeaseCharged {
            lease_id,
            period_start,
            charge: plan.charge,
            farmer: plan.farmer,
            pool_fee: plan.pool.map_or(Amount::ZERO, |(_, fee)| fee),
            burned: plan.burned,
            treasury: plan.treasury,
            split_version: env.params.revenue_split.version,
        });
        let prices = cache.prices(env, pay.oracle);
        pay.pool2.settle_pending_burn_at(pay.ledger, prices.as_ref(), events);
        pay.pool2.settle_revenue_at(pay.ledger, prices.as_ref(), (plan.farmer_key, plan.farmer), events);
        if let Some(pool) = plan.pool {
            pay.pool2.settle_revenue_at(pay.ledger, prices.as_ref(), pool, events);
        }
        next_charge_at
    }

    /// The `Tick` phase of billing: runs every open lease's schedule up to `now`, in lease id order.
    pub(crate) fn bill_due(&mut self, env: &Env<'_>, pay: &mut Payments<'_>, events: &mut Vec<Event>) {
        let open: Vec<LeaseId> = self.open_leases.iter().copied().collect();
        let mut cache = ChargeCache::default();
        for lease_id in open {
            self.bill_lease(env, pay, lease_id, events, &mut cache);
        }
    }

    /// Runs one lease's schedule up to `now`: closes it when cancelled or expired, charges due periods,
    /// enters grace when the tenant cannot pay, and closes it when grace runs out.
    fn bill_lease(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        lease_id: LeaseId,
        events: &mut Vec<Event>,
        cache: &mut ChargeCache,
    ) {
        let grace_s = env.params.lease_grace_s;
        while let Some(lease) = self.leases.get(&lease_id) {
            let (tenant, node_id, due) = (lease.tenant, lease.node_id, lease.next_charge_at);
            match lease.status {
                LeaseStatus::Closed { .. } => return,
                LeaseStatus::Grace { since } => {
                    let grace_end = since.saturating_add(grace_s);
                    if env.now >= grace_end {
                        events.push(self.close_lease(lease_id, CloseReason::InsufficientFunds, grace_end));
                        return;
                    }
                    if !self.try_resume(env, pay, lease_id, events, cache) {
                        return;
                    }
                }
                _ if due > env.now => return,
                LeaseStatus::Cancelling => {
                    events.push(self.close_lease(lease_id, CloseReason::Cancelled, due));
                    return;
                }
                LeaseStatus::Active => {
                    if let Some(end) = lease.ends_at.filter(|end| due >= *end) {
                        events.push(self.close_lease(lease_id, CloseReason::Expired, end));
                        return;
                    }
                    let from = self.tenant_slot(pay.ledger, lease_id, &tenant);
                    let charge = lease.period_charge;
                    let plan = from.and_then(|from| self.plan_charge(env, pay, from, node_id, charge, cache));
                    match plan {
                        Ok(plan) => {
                            // Still active: nothing more is due before `next` (saves a lookup per lease).
                            let next = self.commit_charge(env, pay, (lease_id, plan), events, cache);
                            if next > env.now {
                                return;
                            }
                        }
                        Err(_) => self.start_grace(env, lease_id, events),
                    }
                }
            }
        }
    }

    fn start_grace(&mut self, env: &Env<'_>, lease_id: LeaseId, events: &mut Vec<Event>) {
        let Some(lease) = self.leases.get(&lease_id) else { return };
        let since = lease.next_charge_at;
        // Unpaid from `since`: not utilization unless the tenant pays (see `utilization`).
        self.meter_lease_gone(lease_id, since);
        let Some(lease) = self.leases.get_mut(&lease_id) else { return };
        lease.status = LeaseStatus::Grace { since };
        self.grace_leases.insert((lease.tenant, lease_id));
        events.push(Event::LeaseGraceStarted {
            lease_id,
            grace_until: since.saturating_add(env.params.lease_grace_s),
        });
    }

    /// Charges the unpaid period of a lease in grace if the tenant can now pay; returns `true` if resumed.
    fn try_resume(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        lease_id: LeaseId,
        events: &mut Vec<Event>,
        cache: &mut ChargeCache,
    ) -> bool {
        let Some(lease) = self.leases.get(&lease_id) else { return false };
        let (tenant, node_id, charge) = (lease.tenant, lease.node_id, lease.period_charge);
        let LeaseStatus::Grace { since } = lease.status else { return false };
        let Ok(from) = self.tenant_slot(pay.ledger, lease_id, &tenant) else { return false };
        let Ok(plan) = self.plan_charge(env, pay, from, node_id, charge, cache) else { return false };
        if let Some(lease) = self.leases.get_mut(&lease_id) {
            lease.status = LeaseStatus::Active;
        }
        // The tenant kept the slices and now pays the period that fell due: the grace time counts.
        self.meter_lease_live(pay.farming, lease_id, since);
        self.grace_leases.remove(&(tenant, lease_id));
        events.push(Event::LeaseResumed { lease_id });
        let _next_charge_at = self.commit_charge(env, pay, (lease_id, plan), events, cache);
        true
    }

    /// After a top-up of `tenant`'s CC: resumes its leases in grace (oldest first) while funds last (spec §9:
    /// "a top-up inside grace resumes it and charges the period"); periods that fell due while in grace are
    /// caught up by the next `Tick`.
    pub(crate) fn resume_after_top_up(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        tenant: AccountKey,
        events: &mut Vec<Event>,
    ) {
        let in_grace: Vec<LeaseId> = self
            .grace_leases
            .range((tenant, LeaseId(0))..=(tenant, LeaseId(u64::MAX)))
            .map(|(_, id)| *id)
            .collect();
        let mut cache = ChargeCache::default();
        for lease_id in in_grace {
            let Some(lease) = self.leases.get(&lease_id) else { continue };
            if let LeaseStatus::Grace { since } = lease.status {
                if env.now < since.saturating_add(env.params.lease_grace_s) {
                    self.try_resume(env, pay, lease_id, events, &mut cache);
                }
            }
        }
    }
}
