//! The capacity marketplace (spec `decisions.md` §9): farms, nodes cut into slices, slice prices inside a
//! band, and leases. Billing of leases is in [`crate::billing`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tfeco_money::{mul_div, Amount, Cc, Rounding};

use crate::catalogue::{NodeModel, Resources};
use crate::command::{Billing, NodeSpec};
use crate::event::{CloseReason, Event};
use crate::ids::{AccountKey, FarmId, LeaseId, NodeId};
use crate::params::Params;
use crate::rejection::Rejection;
use crate::state::State;

/// A farm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Farm {
    /// Id.
    pub id: FarmId,
    /// Owner (receives the farmer share of its nodes' revenue).
    pub owner: AccountKey,
    /// Display name.
    pub name: String,
    /// Nodes of the farm, in registration order.
    pub nodes: Vec<NodeId>,
}

/// A node offering slices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Id.
    pub id: NodeId,
    /// Farm.
    pub farm_id: FarmId,
    /// Catalogue model name, or `None` for custom hardware.
    pub model: Option<String>,
    /// Certified hardware (catalogue models only).
    pub certified: bool,
    /// Whole-node resources.
    pub resources: Resources,
    /// Slices the node is cut into (per-slice resources = resources / slices).
    pub slices: u32,
    /// Slices offered for lease (at most `slices`).
    pub offered_slices: u32,
    /// Slices currently under open leases.
    pub leased_slices: u32,
    /// Band minimum, CC per slice-month.
    pub band_min: Amount<Cc>,
    /// Band maximum, CC per slice-month.
    pub band_max: Amount<Cc>,
    /// The listed price, CC per slice-month (`None` until the farmer sets one).
    pub price: Option<Amount<Cc>>,
    /// Registration time.
    pub registered_at: i64,
}

impl Node {
    /// Slices free to lease.
    pub fn free_slices(&self) -> u32 {
        self.offered_slices - self.leased_slices
    }
}

/// Where a lease is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
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

/// A lease of slices of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// Farms, nodes and leases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Market {
    pub(crate) farms: BTreeMap<FarmId, Farm>,
    pub(crate) nodes: BTreeMap<NodeId, Node>,
    pub(crate) leases: BTreeMap<LeaseId, Lease>,
    /// Leases not yet closed (billing iterates these in id order).
    pub(crate) open_leases: BTreeSet<LeaseId>,
    /// Open leases per tenant (bounded by `max_open_leases_per_account`).
    pub(crate) open_by_tenant: BTreeMap<AccountKey, u32>,
    /// Leases in grace, by tenant (a top-up resumes them).
    pub(crate) grace_leases: BTreeSet<(AccountKey, LeaseId)>,
}

impl Market {
    /// All farms by id.
    pub fn farms(&self) -> &BTreeMap<FarmId, Farm> {
        &self.farms
    }
    /// All nodes by id.
    pub fn nodes(&self) -> &BTreeMap<NodeId, Node> {
        &self.nodes
    }
    /// All leases (open and closed) by id.
    pub fn leases(&self) -> &BTreeMap<LeaseId, Lease> {
        &self.leases
    }

    /// Checks slice accounting: each node's leased slices equal the sum over its open leases.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut leased: BTreeMap<NodeId, u64> = BTreeMap::new();
        for id in &self.open_leases {
            let lease = self.leases.get(id).ok_or("open lease index names a missing lease")?;
            if !lease.is_open() {
                return Err(format!("lease {id} is closed but indexed as open"));
            }
            *leased.entry(lease.node_id).or_default() += u64::from(lease.n_slices);
        }
        for node in self.nodes.values() {
            let expected = leased.get(&node.id).copied().unwrap_or(0);
            if u64::from(node.leased_slices) != expected || node.leased_slices > node.offered_slices {
                return Err(format!("node {} slice accounting is off", node.id));
            }
        }
        Ok(())
    }
}

/// Price of one hour of `n_slices` slices, rounded up once (charges up, spec §15):
/// `hourly = month / 720 * premium`, premium linear from 2.0 at the band minimum to 1.5 at the maximum
/// (spec `decisions.md` §9; reproduces hour_min = min/360 and hour_max = max/480).
pub fn hourly_charge(
    price: Amount<Cc>,
    band_min: Amount<Cc>,
    band_max: Amount<Cc>,
    n_slices: u32,
    params: &Params,
) -> Option<Amount<Cc>> {
    let p = u128::try_from(price.units()).ok()?;
    let lo = u128::try_from(band_min.units()).ok()?;
    let hi = u128::try_from(band_max.units()).ok()?;
    let at_min = u128::from(params.hourly_premium_at_min_bps);
    let at_max = u128::from(params.hourly_premium_at_max_bps);
    let hours_per_month = u128::try_from(params.month_s / params.hour_s).ok()?;
    // premium_bps = at_min - (at_min - at_max) * (p - lo) / (hi - lo), kept as a fraction over (hi - lo).
    let (premium_num, premium_den) = if hi == lo {
        (at_min, 1)
    } else {
        let width = hi - lo;
        let drop = at_min.checked_sub(at_max)?.checked_mul(p.checked_sub(lo)?)?;
        (at_min.checked_mul(width)?.checked_sub(drop)?, width)
    };
    let slices_price = p.checked_mul(u128::from(n_slices))?;
    let denominator = hours_per_month.checked_mul(10_000)?.checked_mul(premium_den)?;
    let units = mul_div(slices_price, premium_num, denominator, Rounding::Up)?;
    i128::try_from(units).ok().map(Amount::from_units)
}

/// Charge of one period of a lease.
pub fn period_charge(
    node: &Node,
    price: Amount<Cc>,
    n_slices: u32,
    billing: Billing,
    params: &Params,
) -> Option<Amount<Cc>> {
    match billing {
        Billing::Monthly => price.units().checked_mul(i128::from(n_slices)).map(Amount::from_units),
        Billing::Hourly => hourly_charge(price, node.band_min, node.band_max, n_slices, params),
    }
}

/// Band of a custom node: `max(floor_mem, mem / slices)` GB × the per-GB band, minimum rounded up and
/// maximum rounded down so the band stays inside the exact one.
pub fn custom_band(resources: &Resources, slices: u32, params: &Params) -> Option<(Amount<Cc>, Amount<Cc>)> {
    let floor = u128::from(params.custom_band_floor_mem_gb) * u128::from(slices);
    let mem = u128::from(resources.mem_gb).max(floor);
    let per_gb_min = u128::try_from(params.custom_band_min_cc_per_gb.units()).ok()?;
    let per_gb_max = u128::try_from(params.custom_band_max_cc_per_gb.units()).ok()?;
    let min = mul_div(mem, per_gb_min, u128::from(slices), Rounding::Up)?;
    let max = mul_div(mem, per_gb_max, u128::from(slices), Rounding::Down)?;
    Some((Amount::from_units(i128::try_from(min).ok()?), Amount::from_units(i128::try_from(max).ok()?)))
}

/// Minimum specs (spec `decisions.md` §9): passmark / mem_gb >= 200, mem >= 16 GB, SSD >= 1 TB.
pub fn check_min_spec(resources: &Resources, params: &Params) -> Result<(), Rejection> {
    let fail = |reason: String| Err(Rejection::NodeBelowMinimumSpec { reason });
    if resources.mem_gb < params.min_mem_gb {
        return fail(format!("memory {} GB < {} GB", resources.mem_gb, params.min_mem_gb));
    }
    if resources.ssd_gb < params.min_ssd_gb {
        return fail(format!("SSD {} GB < {} GB", resources.ssd_gb, params.min_ssd_gb));
    }
    if u64::from(resources.passmark) < u64::from(params.min_passmark_per_gb) * u64::from(resources.mem_gb) {
        return fail(format!(
            "passmark per GB {} < {}",
            resources.passmark / resources.mem_gb.max(1),
            params.min_passmark_per_gb
        ));
    }
    Ok(())
}

pub(crate) fn validate_text(text: &str, field: &str, params: &Params) -> Result<(), Rejection> {
    if text.trim().is_empty()
        || text.len() > params.max_text_len as usize
        || text.chars().any(char::is_control)
    {
        return Err(Rejection::TextInvalid { field: field.to_owned(), max_len: params.max_text_len });
    }
    Ok(())
}

impl State {
    pub(crate) fn apply_register_farm(
        &mut self,
        owner: AccountKey,
        name: &str,
    ) -> Result<Vec<Event>, Rejection> {
        validate_text(name, "farm name", &self.params)?;
        if self.market.farms.values().any(|f| f.name == name) {
            return Err(Rejection::FarmNameTaken);
        }
        let id = FarmId(u32::try_from(self.market.farms.len() + 1).map_err(|_| Rejection::Overflow)?);
        self.market.farms.insert(id, Farm { id, owner, name: name.to_owned(), nodes: Vec::new() });
        Ok(vec![Event::FarmRegistered { farm_id: id, owner }])
    }

    pub(crate) fn apply_register_node(
        &mut self,
        owner: AccountKey,
        farm_id: FarmId,
        spec: &NodeSpec,
        offered_slices: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let params = &self.params;
        let farm = self.market.farms.get(&farm_id).ok_or(Rejection::FarmNotFound)?;
        if farm.owner != owner {
            return Err(Rejection::NotOwner);
        }
        if farm.nodes.len() >= params.max_nodes_per_farm as usize {
            return Err(Rejection::LimitExceeded {
                what: "nodes per farm".to_owned(),
                limit: u64::from(params.max_nodes_per_farm),
            });
        }
        let (model, certified, resources, slices, band) = match spec {
            NodeSpec::Model { model } => {
                let found: &NodeModel = self
                    .catalogue
                    .iter()
                    .find(|m| m.name == *model)
                    .ok_or_else(|| Rejection::UnknownModel { model: model.clone() })?;
                if params.min_spec_applies_to_catalogue {
                    check_min_spec(&found.resources, params)?;
                }
                let band = (found.slice_price_min_month, found.slice_price_max_month);
                (Some(found.name.clone()), found.certified, found.resources, found.typical_slices, band)
            }
            NodeSpec::Custom { resources, slices } => {
                if *slices == 0 || *slices > params.max_slices_per_node {
                    return Err(Rejection::InvalidSliceCount { max: params.max_slices_per_node });
                }
                check_min_spec(resources, params)?;
                let band = custom_band(resources, *slices, params).ok_or(Rejection::Overflow)?;
                (None, false, *resources, *slices, band)
            }
        };
        let offered = offered_slices.unwrap_or(slices);
        if offered == 0 || offered > slices {
            return Err(Rejection::InvalidSliceCount { max: slices });
        }
        let id = NodeId(u32::try_from(self.market.nodes.len() + 1).map_err(|_| Rejection::Overflow)?);
        let node = Node {
            id,
            farm_id,
            model,
            certified,
            resources,
            slices,
            offered_slices: offered,
            leased_slices: 0,
            band_min: band.0,
            band_max: band.1,
            price: None,
            registered_at: self.now,
        };
        self.market.nodes.insert(id, node);
        self.market.farms.get_mut(&farm_id).expect("checked above").nodes.push(id);
        Ok(vec![Event::NodeRegistered { node_id: id, farm_id, offered_slices: offered }])
    }

    pub(crate) fn apply_set_slice_price(
        &mut self,
        owner: AccountKey,
        node_id: NodeId,
        price: Amount<Cc>,
    ) -> Result<Vec<Event>, Rejection> {
        let node = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        let farm = &self.market.farms[&node.farm_id];
        if farm.owner != owner {
            return Err(Rejection::NotOwner);
        }
        if price < node.band_min || price > node.band_max {
            return Err(Rejection::PriceOutOfBand { min: node.band_min, max: node.band_max, got: price });
        }
        self.check_pool_price_policy(node.farm_id, price)?;
        self.market.nodes.get_mut(&node_id).expect("checked above").price = Some(price);
        Ok(vec![Event::SlicePriceSet { node_id, price }])
    }

    pub(crate) fn apply_open_lease(
        &mut self,
        tenant: AccountKey,
        node_id: NodeId,
        n_slices: u32,
        billing: Billing,
        periods: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let params = &self.params;
        let node = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        if let Some(periods) = periods {
            if periods == 0 || periods > params.max_lease_periods {
                return Err(Rejection::LimitExceeded {
                    what: "lease periods".to_owned(),
                    limit: u64::from(params.max_lease_periods),
                });
            }
        }
        let price = node.price.ok_or(Rejection::NodeNotListed)?;
        if n_slices == 0 || n_slices > node.offered_slices {
            return Err(Rejection::InvalidSliceCount { max: node.offered_slices });
        }
        if n_slices > node.free_slices() {
            return Err(Rejection::SlicesUnavailable { requested: n_slices, free: node.free_slices() });
        }
        let charge = period_charge(node, price, n_slices, billing, params).ok_or(Rejection::Overflow)?;
        let payer = self.ledger.slot_of(&tenant).ok_or(Rejection::AccountNotFound { account: tenant })?;
        self.open_lease_paid_by(tenant, payer, node_id, n_slices, billing, price, charge, periods)
    }

    /// Creates a lease after the caller checked the node, the slices and the price, charging the first period
    /// from `payer` (the tenant, or an escrow). Validates the charge before creating anything.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open_lease_paid_by(
        &mut self,
        tenant: AccountKey,
        payer: crate::ledger::Slot,
        node_id: NodeId,
        n_slices: u32,
        billing: Billing,
        price: Amount<Cc>,
        charge: Amount<Cc>,
        periods: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let period_s = self.period_s(billing);
        let ends_at = match periods {
            Some(n) => Some(
                self.now
                    .checked_add(period_s.checked_mul(i64::from(n)).ok_or(Rejection::Overflow)?)
                    .ok_or(Rejection::Overflow)?,
            ),
            None => None,
        };
        let open = self.market.open_by_tenant.get(&tenant).copied().unwrap_or(0);
        if open >= self.params.max_open_leases_per_account {
            return Err(Rejection::LimitExceeded {
                what: "open leases per account".to_owned(),
                limit: u64::from(self.params.max_open_leases_per_account),
            });
        }
        let node = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        if n_slices == 0 || n_slices > node.free_slices() {
            return Err(Rejection::SlicesUnavailable { requested: n_slices, free: node.free_slices() });
        }
        let id = LeaseId(self.market.leases.len() as u64 + 1);
        // Validate and plan the first charge before creating anything.
        let plan = self.plan_charge_from(payer, node_id, charge)?;
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
            opened_at: self.now,
            next_charge_at: self.now,
            ends_at,
            status: LeaseStatus::Active,
            periods_paid: 0,
            total_paid: Amount::ZERO,
        };
        self.market.leases.insert(id, lease);
        self.market.open_leases.insert(id);
        *self.market.open_by_tenant.entry(tenant).or_default() += 1;
        self.market.nodes.get_mut(&node_id).expect("checked above").leased_slices += n_slices;
        self.commit_charge(id, plan, &mut events);
        self.settle_pending_burn(&mut events);
        Ok(events)
    }

    pub(crate) fn apply_cancel_lease(
        &mut self,
        tenant: AccountKey,
        lease_id: LeaseId,
    ) -> Result<Vec<Event>, Rejection> {
        let lease = self.market.leases.get(&lease_id).ok_or(Rejection::LeaseNotFound)?;
        if lease.tenant != tenant {
            return Err(Rejection::NotOwner);
        }
        match lease.status {
            LeaseStatus::Active => {
                let ends_at = lease.next_charge_at;
                self.market.leases.get_mut(&lease_id).expect("checked above").status =
                    LeaseStatus::Cancelling;
                Ok(vec![Event::LeaseCancelRequested { lease_id, ends_at }])
            }
            LeaseStatus::Grace { .. } => {
                let now = self.now;
                Ok(vec![self.close_lease(lease_id, CloseReason::Cancelled, now)])
            }
            LeaseStatus::Cancelling | LeaseStatus::Closed { .. } => Err(Rejection::LeaseNotOpen),
        }
    }

    /// Closes a lease and frees its slices.
    pub(crate) fn close_lease(&mut self, lease_id: LeaseId, reason: CloseReason, at: i64) -> Event {
        let lease = self.market.leases.get_mut(&lease_id).expect("closing a known lease");
        assert!(lease.is_open(), "closing a closed lease");
        lease.status = LeaseStatus::Closed { reason, at };
        let (node_id, n_slices, tenant) = (lease.node_id, lease.n_slices, lease.tenant);
        self.market.open_leases.remove(&lease_id);
        self.market.grace_leases.remove(&(tenant, lease_id));
        let open = self.market.open_by_tenant.get_mut(&tenant).expect("tenant has open leases");
        *open -= 1;
        if *open == 0 {
            self.market.open_by_tenant.remove(&tenant);
        }
        self.market.nodes.get_mut(&node_id).expect("lease node exists").leased_slices -= n_slices;
        Event::LeaseClosed { lease_id, reason, at }
    }

    pub(crate) fn period_s(&self, billing: Billing) -> i64 {
        match billing {
            Billing::Hourly => self.params.hour_s,
            Billing::Monthly => self.params.month_s,
        }
    }
}
