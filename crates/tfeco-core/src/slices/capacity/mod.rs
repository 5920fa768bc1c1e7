//! The capacity market (spec `decisions.md` §7, §9): the node catalogue, farms, nodes cut into slices, slice
//! prices inside a band, leases billed per period with grace, standing bids (ThreeFold's bid tiers and any
//! buyer's) and capacity requests (reverse auctions closed by `Tick`).
//!
//! - this file: the records, farms, nodes and prices, the read accessors and the slice invariant;
//! - [`leases`]: opening, cancelling and closing leases, charging periods (the revenue split), billing on
//!   `Tick`, grace and resumption after a top-up;
//! - [`bids`]: standing bids, capacity requests and the instant take;
//! - [`utilization`]: each node's time-weighted utilization meter (leased slice-seconds per minting period,
//!   self-leases excluded) for the early release of locked rewards (§11).
//!
//! Payments go through a [`Payments`] context: the ledger, Pool 2 (burns and TFP settlement of revenue), the
//! oracle and the farming pools (fees), all lower slices.

pub mod bids;
pub mod leases;
pub mod utilization;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Cc};

use crate::catalogue::NodeModel;
use crate::event::Event;
use crate::ids::{AccountKey, CapacityRequestId, FarmId, LeaseId, NodeId, StandingBidId};
use crate::ledger::Ledger;
use crate::rejection::{Limit, Rejection, TextField};
use crate::rules::billing::{check_min_spec, custom_band};
use crate::rules::search::{explain_shortfall, search, SearchHit};
use crate::slices::farming_pool::FarmingPools;
use crate::slices::oracle::Oracle;
use crate::slices::pool2::Pool2;
use crate::slices::Env;
use crate::types::{NodeSpec, Requirements, SearchQuery, Shortfall};

pub use crate::types::Node;
pub use bids::{CapacityOffer, CapacityRequest, RequestOutcome, StandingBid};
pub use leases::{Lease, LeaseStatus};
pub use utilization::UtilizationMeter;

/// A farm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// The lower slices and the ledger that a payment in the capacity market touches.
pub(crate) struct Payments<'a> {
    /// Balances.
    pub(crate) ledger: &'a mut Ledger,
    /// Burns and TFP settlement of revenue.
    pub(crate) pool2: &'a mut Pool2,
    /// Prices for the burn and the settlement.
    pub(crate) oracle: &'a Oracle,
    /// Farming-pool fees.
    pub(crate) farming: &'a FarmingPools,
}

/// The catalogue, farms, nodes, leases, standing bids and capacity requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityMarket {
    catalogue: Vec<NodeModel>,
    farms: BTreeMap<FarmId, Farm>,
    nodes: BTreeMap<NodeId, Node>,
    leases: BTreeMap<LeaseId, Lease>,
    /// Leases not yet closed (billing iterates these in id order).
    open_leases: BTreeSet<LeaseId>,
    /// Open leases per tenant (bounded by `max_open_leases_per_account`).
    open_by_tenant: BTreeMap<AccountKey, u32>,
    /// Leases in grace, by tenant (a top-up resumes them).
    grace_leases: BTreeSet<(AccountKey, LeaseId)>,
    standing_bids: BTreeMap<StandingBidId, StandingBid>,
    requests: BTreeMap<CapacityRequestId, CapacityRequest>,
    next_bid_id: u64,
    next_request_id: u64,
    /// Time-weighted utilization meters by node (created at the node's first lease).
    meters: BTreeMap<NodeId, UtilizationMeter>,
    /// The first minting period not yet closed by the rewards slice: meters keep buckets from it on.
    utilization_floor: u32,
    /// The ledger slot of each lease's tenant by lease id (`tenant_slots[id - 1]`: lease ids count from 1
    /// without gaps; `u32::MAX` when unknown), so that billing reaches a tenant's balance without a hash
    /// lookup per lease. Derived, so not encoded ([`CapacityMarket::rebuild_derived`]); a slot is used only
    /// after checking that it holds the tenant (`Ledger::user_slot_hinted`).
    #[serde(skip)]
    tenant_slots: Vec<u32>,
}

impl CapacityMarket {
    /// An empty market over the genesis catalogue.
    pub(crate) fn new(catalogue: Vec<NodeModel>) -> Self {
        CapacityMarket { catalogue, ..CapacityMarket::default() }
    }

    /// Rebuilds what is derived from the encoded leases and so not encoded (a state snapshot): the tenants'
    /// ledger slots, exactly as opening the leases recorded them.
    pub(crate) fn rebuild_derived(&mut self, ledger: &Ledger) {
        self.tenant_slots.clear();
        for (id, lease) in &self.leases {
            if id.0.checked_sub(1) != Some(self.tenant_slots.len() as u64) {
                break;
            }
            self.tenant_slots.push(leases::slot_hint(ledger, &lease.tenant));
        }
    }

    /// The remembered tenant slots (test-only view of a derived lookup).
    #[cfg(test)]
    pub(crate) fn tenant_slots_for_test(&self) -> &[u32] {
        &self.tenant_slots
    }

    /// Node models of the catalogue.
    pub fn catalogue(&self) -> &[NodeModel] {
        &self.catalogue
    }
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
    /// Standing bids (open and exhausted).
    pub fn standing_bids(&self) -> &BTreeMap<StandingBidId, StandingBid> {
        &self.standing_bids
    }
    /// Capacity requests (open and closed).
    pub fn requests(&self) -> &BTreeMap<CapacityRequestId, CapacityRequest> {
        &self.requests
    }

    /// The owner of a farm.
    pub fn farm_owner(&self, farm: FarmId) -> Option<AccountKey> {
        self.farms.get(&farm).map(|f| f.owner)
    }

    /// The owner of a node's farm.
    pub fn node_owner(&self, node: NodeId) -> Option<AccountKey> {
        self.nodes.get(&node).and_then(|n| self.farm_owner(n.farm_id))
    }

    /// Farms owned by `owner`.
    pub fn farms_of(&self, owner: AccountKey) -> impl Iterator<Item = &Farm> {
        self.farms.values().filter(move |f| f.owner == owner)
    }

    /// Listed nodes meeting `query`, cheapest first ([`crate::rules::search::search`]).
    pub fn search(&self, query: &SearchQuery, params: &crate::params::Params) -> Vec<SearchHit> {
        search(self.nodes.values(), query, &params.lease_pricing())
    }

    /// Why `n_slices` at `max_price_month` cannot be had ([`crate::rules::search::explain_shortfall`]).
    pub fn explain(
        &self,
        requirements: &Requirements,
        n_slices: u32,
        max_price_month: Amount<Cc>,
    ) -> Vec<Shortfall> {
        explain_shortfall(self.nodes.values(), requirements, n_slices, max_price_month)
    }

    /// A node of a farm `owner` owns, else `NodeNotFound` or `NotOwner`.
    fn owned_node(&self, owner: AccountKey, node_id: NodeId) -> Result<&Node, Rejection> {
        let node = self.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        if self.farm_owner(node.farm_id) != Some(owner) {
            return Err(Rejection::NotOwner);
        }
        Ok(node)
    }

    /// `RegisterFarm`: a farm owned by the signer, with a unique name.
    pub(crate) fn register_farm(
        &mut self,
        env: &Env<'_>,
        owner: AccountKey,
        name: &str,
    ) -> Result<Vec<Event>, Rejection> {
        env.check_text(name, TextField::FarmName)?;
        if self.farms.values().any(|f| f.name == name) {
            return Err(Rejection::FarmNameTaken);
        }
        let next = u32::try_from(self.farms.len()).map_err(|_| Rejection::Overflow)?;
        let id = FarmId(next.checked_add(1).ok_or(Rejection::Overflow)?);
        self.farms.insert(id, Farm { id, owner, name: name.to_owned(), nodes: Vec::new() });
        Ok(vec![Event::FarmRegistered { farm_id: id, owner }])
    }

    /// `RegisterNode`: a catalogue model (its band, certification and typical slices) or custom hardware
    /// (minimum specs, per-GB band, never certified) in one of the signer's farms.
    pub(crate) fn register_node(
        &mut self,
        env: &Env<'_>,
        owner: AccountKey,
        farm_id: FarmId,
        spec: &NodeSpec,
        offered_slices: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let params = env.params;
        let farm = self.farms.get(&farm_id).ok_or(Rejection::FarmNotFound)?;
        if farm.owner != owner {
            return Err(Rejection::NotOwner);
        }
        if farm.nodes.len() >= params.max_nodes_per_farm as usize {
            return Err(Rejection::LimitExceeded {
                what: Limit::NodesPerFarm,
                limit: u64::from(params.max_nodes_per_farm),
            });
        }
        let below = |shortfall| Rejection::NodeBelowMinimumSpec { shortfall };
        let (model, certified, resources, slices, band) = match spec {
            NodeSpec::Model { model } => {
                let found = self
                    .catalogue
                    .iter()
                    .find(|m| m.name == *model)
                    .ok_or_else(|| Rejection::UnknownModel { model: model.clone() })?;
                if params.min_spec_applies_to_catalogue {
                    check_min_spec(&found.resources, &params.min_spec()).map_err(below)?;
                }
                let band = (found.slice_price_min_month, found.slice_price_max_month);
                (Some(found.name.clone()), found.certified, found.resources, found.typical_slices, band)
            }
            NodeSpec::Custom { resources, slices } => {
                if *slices == 0 || *slices > params.max_slices_per_node {
                    return Err(Rejection::InvalidSliceCount { max: params.max_slices_per_node });
                }
                check_min_spec(resources, &params.min_spec()).map_err(below)?;
                let band =
                    custom_band(resources, *slices, &params.custom_band()).ok_or(Rejection::Overflow)?;
                (None, false, *resources, *slices, band)
            }
        };
        let offered = offered_slices.unwrap_or(slices);
        if offered == 0 || offered > slices {
            return Err(Rejection::InvalidSliceCount { max: slices });
        }
        let next = u32::try_from(self.nodes.len()).map_err(|_| Rejection::Overflow)?;
        let id = NodeId(next.checked_add(1).ok_or(Rejection::Overflow)?);
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
            registered_at: env.now,
        };
        self.nodes.insert(id, node);
        if let Some(farm) = self.farms.get_mut(&farm_id) {
            farm.nodes.push(id);
        }
        Ok(vec![Event::NodeRegistered { node_id: id, farm_id, offered_slices: offered }])
    }

    /// `SetSlicePrice`: the farmer prices a node inside its band and its farming pool's policy.
    pub(crate) fn set_slice_price(
        &mut self,
        farming: &FarmingPools,
        owner: AccountKey,
        node_id: NodeId,
        price: Amount<Cc>,
    ) -> Result<Vec<Event>, Rejection> {
        let node = self.owned_node(owner, node_id)?;
        if !node.in_band(price) {
            return Err(Rejection::PriceOutOfBand { min: node.band_min, max: node.band_max, got: price });
        }
        farming.check_price_policy(node.farm_id, price)?;
        self.set_price(node_id, price)
    }

    /// `SetPoolPrice`: the owner of a `PoolSet` farming pool prices a member node inside its band (spec §10).
    /// Errors: `NodeNotFound`, `PoolNotFound`, `NotOwner`, `PriceSetByMember` (the pool's policy leaves prices
    /// to its members), `PriceOutOfBand`.
    pub(crate) fn set_pool_price(
        &mut self,
        farming: &FarmingPools,
        signer: AccountKey,
        node_id: NodeId,
        price: Amount<Cc>,
    ) -> Result<Vec<Event>, Rejection> {
        let node = self.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        farming.check_pool_price_setter(signer, node.farm_id)?;
        if !node.in_band(price) {
            return Err(Rejection::PriceOutOfBand { min: node.band_min, max: node.band_max, got: price });
        }
        self.set_price(node_id, price)
    }

    fn set_price(&mut self, node_id: NodeId, price: Amount<Cc>) -> Result<Vec<Event>, Rejection> {
        let node = self.nodes.get_mut(&node_id).ok_or(Rejection::NodeNotFound)?;
        node.price = Some(price);
        Ok(vec![Event::SlicePriceSet { node_id, price }])
    }

    /// Slice accounting: each node's leased slices equal the sum over its open leases and never exceed its
    /// offered slices; the open-lease indexes name open leases only.
    pub(crate) fn check(&self) -> Result<(), String> {
        // Counted in a hash map (one entry per node, order irrelevant): O(1) per open lease.
        let mut leased: rustc_hash::FxHashMap<NodeId, u64> = rustc_hash::FxHashMap::default();
        leased.reserve(self.nodes.len());
        for id in &self.open_leases {
            let lease = self.leases.get(id).ok_or("open lease index names a missing lease")?;
            if !lease.is_open() {
                return Err(format!("lease {id} is closed but indexed as open"));
            }
            let slices = leased.entry(lease.node_id).or_default();
            *slices = slices.saturating_add(u64::from(lease.n_slices));
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
