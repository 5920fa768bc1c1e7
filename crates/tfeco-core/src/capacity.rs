//! Marketplace depth (spec `decisions.md` §9): capacity search by per-slice requirements, the reasons a
//! request cannot be met, standing bids (ThreeFold's bid tiers and any buyer's), and capacity requests
//! (reverse auctions closed by `Tick`).
//!
//! Requirements are per slice: a node meets `min_mem_gb = 8` when `mem_gb / slices >= 8`, checked exactly as
//! `mem_gb >= 8 * slices`. Standing-bid and reverse-auction leases are billed monthly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Cc};

use crate::command::Billing;
use crate::event::Event;
use crate::ids::{AccountKey, FarmId, NodeId, SystemAccount};
use crate::ledger::{Posting, Slot};
use crate::market::{hourly_charge, Node};
use crate::rejection::Rejection;
use crate::state::State;

/// Per-slice requirements of a buyer. Zero / `false` / `None` means "no requirement".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Requirements {
    /// CPU cores per slice.
    pub min_cores: u32,
    /// Passmark per slice.
    pub min_passmark: u32,
    /// Memory per slice, GB.
    pub min_mem_gb: u32,
    /// SSD per slice, GB.
    pub min_ssd_gb: u32,
    /// Accelerator memory per slice, GB.
    pub min_ai_mem_gb: u32,
    /// AI tokens per second per slice.
    pub min_ai_tps: u32,
    /// Certified nodes only.
    pub certified_only: bool,
    /// Only nodes of this farm.
    pub farm_id: Option<FarmId>,
}

/// The first requirement a node's slice does not meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmet {
    /// Not in the requested farm.
    Farm,
    /// Not certified.
    Certified,
    /// Too few cores per slice.
    Cores,
    /// Too little passmark per slice.
    Passmark,
    /// Too little memory per slice.
    Memory,
    /// Too little SSD per slice.
    Ssd,
    /// Too little accelerator memory per slice.
    AiMemory,
    /// Too few AI tokens per second per slice.
    AiTps,
}

impl Requirements {
    /// The first unmet requirement of one slice of `node`, in the order of [`Unmet`], or `None`.
    pub fn unmet(&self, node: &Node) -> Option<Unmet> {
        let slices = u64::from(node.slices);
        let r = &node.resources;
        let short = |have: u32, per_slice: u32| u64::from(have) < u64::from(per_slice) * slices;
        if self.farm_id.is_some_and(|f| f != node.farm_id) {
            Some(Unmet::Farm)
        } else if self.certified_only && !node.certified {
            Some(Unmet::Certified)
        } else if short(r.cpu_cores, self.min_cores) {
            Some(Unmet::Cores)
        } else if short(r.passmark, self.min_passmark) {
            Some(Unmet::Passmark)
        } else if short(r.mem_gb, self.min_mem_gb) {
            Some(Unmet::Memory)
        } else if short(r.ssd_gb, self.min_ssd_gb) {
            Some(Unmet::Ssd)
        } else if short(r.ai_mem_gb, self.min_ai_mem_gb) {
            Some(Unmet::AiMemory)
        } else if short(r.ai_tps, self.min_ai_tps) {
            Some(Unmet::AiTps)
        } else {
            None
        }
    }

    fn describe(&self, unmet: Unmet) -> String {
        match unmet {
            Unmet::Farm => format!("no node of farm {} is listed", self.farm_id.map_or(0, |f| f.0)),
            Unmet::Certified => "no certified node".to_owned(),
            Unmet::Cores => format!("no node has >= {} cores per slice", self.min_cores),
            Unmet::Passmark => format!("no node has >= {} passmark per slice", self.min_passmark),
            Unmet::Memory => format!("no node has >= {} GB memory per slice", self.min_mem_gb),
            Unmet::Ssd => format!("no node has >= {} GB SSD per slice", self.min_ssd_gb),
            Unmet::AiMemory => format!("no node has >= {} GB AI memory per slice", self.min_ai_mem_gb),
            Unmet::AiTps => format!("no node has >= {} AI tokens/s per slice", self.min_ai_tps),
        }
    }
}

/// A capacity search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchQuery {
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// Highest price per slice-month (for hourly billing: the hourly price × 720).
    pub max_price_month: Option<Amount<Cc>>,
    /// Billing mode the prices are compared in (default monthly).
    pub billing: Option<Billing>,
    /// Nodes with at least this many free slices (default 1).
    pub min_free_slices: u32,
    /// At most this many results (default 100, at most 10,000).
    pub limit: u32,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// The node.
    pub node_id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// Catalogue model, if any.
    pub model: Option<String>,
    /// Certified.
    pub certified: bool,
    /// Listed price per slice-month.
    pub price_month: Amount<Cc>,
    /// Price of one slice-hour.
    pub price_hour: Amount<Cc>,
    /// The price compared (monthly, or hourly × 720 for hourly billing).
    pub effective_month: Amount<Cc>,
    /// Free slices.
    pub free_slices: u32,
}

/// Nodes that meet a query, cheapest first (ties: lower node id). Cost: one pass over the nodes, a partial
/// selection of the `limit` cheapest, and a sort of those only; the hourly price is computed per node only
/// for hourly billing (it is the compared price) and otherwise only for the returned hits.
pub fn search(state: &State, query: &SearchQuery) -> Vec<SearchHit> {
    let billing = query.billing.unwrap_or(Billing::Monthly);
    let min_free = query.min_free_slices.max(1);
    let hours = i128::from(state.params().month_s / state.params().hour_s);
    let limit = if query.limit == 0 { 100 } else { query.limit.min(10_000) } as usize;
    let hour_of = |n: &Node, p: Amount<Cc>| hourly_charge(p, n.band_min, n.band_max, 1, state.params());
    let mut candidates: Vec<(Amount<Cc>, NodeId, &Node)> = state
        .market()
        .nodes()
        .values()
        .filter(|n| n.free_slices() >= min_free && query.requirements.unmet(n).is_none())
        .filter_map(|n| {
            let price = n.price?;
            let effective = match billing {
                Billing::Monthly => price,
                Billing::Hourly => Amount::from_units(hour_of(n, price)?.units().checked_mul(hours)?),
            };
            if query.max_price_month.is_some_and(|max| effective > max) {
                return None;
            }
            Some((effective, n.id, n))
        })
        .collect();
    let order =
        |a: &(Amount<Cc>, NodeId, &Node), b: &(Amount<Cc>, NodeId, &Node)| a.0.cmp(&b.0).then(a.1.cmp(&b.1));
    if candidates.len() > limit {
        candidates.select_nth_unstable_by(limit - 1, order);
        candidates.truncate(limit);
    }
    candidates.sort_unstable_by(order);
    candidates
        .into_iter()
        .filter_map(|(effective, _, n)| {
            let price = n.price?;
            Some(SearchHit {
                node_id: n.id,
                farm_id: n.farm_id,
                model: n.model.clone(),
                certified: n.certified,
                price_month: price,
                price_hour: hour_of(n, price)?,
                effective_month: effective,
                free_slices: n.free_slices(),
            })
        })
        .collect()
}

/// Why `n_slices` at `max_price_month` cannot be had: one reason per blocking requirement, in order
/// (requirements, then price, then free slices). Empty when enough capacity exists.
pub fn explain_shortfall(
    state: &State,
    requirements: &Requirements,
    n_slices: u32,
    max_price_month: Amount<Cc>,
) -> Vec<String> {
    let listed: Vec<&Node> = state.market().nodes().values().filter(|n| n.price.is_some()).collect();
    if listed.is_empty() {
        return vec!["no node is listed".to_owned()];
    }
    let mut reasons = Vec::new();
    let mut counts: BTreeMap<Unmet, usize> = BTreeMap::new();
    let eligible: Vec<&Node> = listed
        .iter()
        .copied()
        .filter(|n| match requirements.unmet(n) {
            Some(unmet) => {
                *counts.entry(unmet).or_default() += 1;
                false
            }
            None => true,
        })
        .collect();
    if eligible.is_empty() {
        // The requirement that excluded the most nodes is the one to relax first; name each one that bit.
        for unmet in counts.keys() {
            reasons.push(requirements.describe(*unmet));
        }
        return reasons;
    }
    let affordable: Vec<&Node> =
        eligible.iter().copied().filter(|n| n.price.is_some_and(|p| p <= max_price_month)).collect();
    if affordable.is_empty() {
        let cheapest = eligible.iter().filter_map(|n| n.price).min().unwrap_or(Amount::ZERO);
        reasons.push(format!(
            "{} eligible nodes, all above max price {} (cheapest {})",
            eligible.len(),
            max_price_month,
            cheapest
        ));
        return reasons;
    }
    let free: u64 = affordable.iter().map(|n| u64::from(n.free_slices())).sum();
    if free < u64::from(n_slices) {
        reasons.push(format!(
            "{} eligible nodes within max price {}, with {} free slices in total ({} requested)",
            affordable.len(),
            max_price_month,
            free,
            n_slices
        ));
    }
    reasons
}

/// A standing bid: buy up to `quantity` slices meeting `requirements` at `price_month`, monthly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StandingBid {
    /// Id.
    pub id: u64,
    /// Buyer (the tenant of the leases it creates).
    pub buyer: AccountKey,
    /// A name, e.g. "Standard Compute".
    pub name: String,
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// CC per slice-month.
    pub price_month: Amount<Cc>,
    /// Slices still wanted.
    pub remaining: u32,
    /// Slices filled so far.
    pub filled: u32,
    /// Lease length in months (`None`: until cancelled).
    pub periods: Option<u32>,
    /// CC still escrowed: `price_month * remaining`.
    pub escrow: Amount<Cc>,
}

/// An offer in a capacity request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapacityOffer {
    /// The offering node.
    pub node_id: NodeId,
    /// CC per slice-month, at most the request's max price.
    pub price_month: Amount<Cc>,
}

/// The outcome of a closed capacity request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestOutcome {
    /// Close time.
    pub closed_at: i64,
    /// Slices leased.
    pub filled: u32,
    /// Leases created.
    pub leases: Vec<crate::ids::LeaseId>,
    /// CC released back to the requester.
    pub refunded: Amount<Cc>,
    /// Why fewer slices than asked, one reason per blocking requirement.
    pub reasons: Vec<String>,
}

/// A capacity request (reverse auction): farmers offer during the window, the cheapest win at close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapacityRequest {
    /// Id.
    pub id: u64,
    /// Requester (the tenant).
    pub requester: AccountKey,
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// Slices wanted.
    pub n_slices: u32,
    /// Highest acceptable price per slice-month.
    pub max_price_month: Amount<Cc>,
    /// Lease length in months (`None`: until cancelled).
    pub periods: Option<u32>,
    /// Offers close at this time.
    pub closes_at: i64,
    /// CC escrowed: `max_price_month * n_slices`.
    pub escrow: Amount<Cc>,
    /// Offers by node.
    pub offers: BTreeMap<NodeId, CapacityOffer>,
    /// Set once closed.
    pub outcome: Option<RequestOutcome>,
}

/// Standing bids and capacity requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CapacityBook {
    pub(crate) standing_bids: BTreeMap<u64, StandingBid>,
    pub(crate) requests: BTreeMap<u64, CapacityRequest>,
    pub(crate) next_bid_id: u64,
    pub(crate) next_request_id: u64,
}

impl CapacityBook {
    /// Standing bids (open and exhausted).
    pub fn standing_bids(&self) -> &BTreeMap<u64, StandingBid> {
        &self.standing_bids
    }
    /// Capacity requests (open and closed).
    pub fn requests(&self) -> &BTreeMap<u64, CapacityRequest> {
        &self.requests
    }

    /// Escrow accounts equal the sums of open bids and requests.
    pub(crate) fn check(&self, bids_escrow: i128, requests_escrow: i128) -> Result<(), String> {
        let bids: i128 = self.standing_bids.values().map(|b| b.escrow.units()).sum();
        if bids != bids_escrow {
            return Err(format!("standing-bid escrow holds {bids_escrow} but open bids total {bids}"));
        }
        let requests: i128 =
            self.requests.values().filter(|r| r.outcome.is_none()).map(|r| r.escrow.units()).sum();
        if requests != requests_escrow {
            return Err(format!("request escrow holds {requests_escrow} but open requests total {requests}"));
        }
        Ok(())
    }
}

/// Uptime score used to break price ties in reverse auctions (higher first). Equal for every node until
/// uptime reports exist (minting and governance).
pub fn uptime_score(_node: &Node) -> u32 {
    0
}

fn cc_times(price: Amount<Cc>, n: u32) -> Result<Amount<Cc>, Rejection> {
    price.units().checked_mul(i128::from(n)).map(Amount::from_units).ok_or(Rejection::Overflow)
}

impl State {
    /// `PostStandingBid`: escrows the first period of the whole quantity.
    pub(crate) fn apply_post_standing_bid(
        &mut self,
        buyer: AccountKey,
        name: &str,
        requirements: &Requirements,
        price_month: Amount<Cc>,
        quantity: u32,
        periods: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        crate::market::validate_text(name, "bid name", &self.params)?;
        if !price_month.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if quantity == 0 || quantity > self.params.max_slices_per_bid {
            return Err(Rejection::LimitExceeded {
                what: "slices per bid".to_owned(),
                limit: u64::from(self.params.max_slices_per_bid),
            });
        }
        self.check_periods(periods)?;
        let escrow = cc_times(price_month, quantity)?;
        let from = self.ledger.slot_of(&buyer).ok_or(Rejection::AccountNotFound { account: buyer })?;
        let plan = [Posting::Transfer {
            asset: Asset::Cc,
            from,
            to: Slot::System(SystemAccount::EscrowStandingBids),
            units: escrow.units(),
            revenue: false,
        }];
        self.ledger.validate(&plan)?;
        self.ledger.commit(&plan);
        self.capacity.next_bid_id += 1;
        let id = self.capacity.next_bid_id;
        self.capacity.standing_bids.insert(
            id,
            StandingBid {
                id,
                buyer,
                name: name.to_owned(),
                requirements: requirements.clone(),
                price_month,
                remaining: quantity,
                filled: 0,
                periods,
                escrow,
            },
        );
        Ok(vec![Event::StandingBidPosted { bid_id: id, quantity, price_month, escrow }])
    }

    fn check_periods(&self, periods: Option<u32>) -> Result<(), Rejection> {
        match periods {
            Some(n) if n == 0 || n > self.params.max_lease_periods => Err(Rejection::LimitExceeded {
                what: "lease periods".to_owned(),
                limit: u64::from(self.params.max_lease_periods),
            }),
            _ => Ok(()),
        }
    }

    fn node_of_owner(&self, owner: AccountKey, node_id: NodeId) -> Result<&Node, Rejection> {
        let node = self.market.nodes.get(&node_id).ok_or(Rejection::NodeNotFound)?;
        if self.market.farms[&node.farm_id].owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(node)
    }

    /// `FillStandingBid`: a farmer leases `n_slices` of an eligible node to the bid's buyer at the bid price;
    /// the first period is paid from the bid's escrow.
    pub(crate) fn apply_fill_standing_bid(
        &mut self,
        farmer: AccountKey,
        bid_id: u64,
        node_id: NodeId,
        n_slices: u32,
    ) -> Result<Vec<Event>, Rejection> {
        let bid = self.capacity.standing_bids.get(&bid_id).ok_or(Rejection::StandingBidNotFound)?;
        let node = self.node_of_owner(farmer, node_id)?;
        if let Some(unmet) = bid.requirements.unmet(node) {
            return Err(Rejection::RequirementsUnmet { reason: bid.requirements.describe(unmet) });
        }
        if n_slices == 0 || n_slices > bid.remaining {
            return Err(Rejection::InvalidSliceCount { max: bid.remaining });
        }
        if n_slices > node.free_slices() {
            return Err(Rejection::SlicesUnavailable { requested: n_slices, free: node.free_slices() });
        }
        let (buyer, price, periods) = (bid.buyer, bid.price_month, bid.periods);
        let charge = cc_times(price, n_slices)?;
        let escrow = Slot::System(SystemAccount::EscrowStandingBids);
        let mut events = self.open_lease_paid_by(
            buyer,
            escrow,
            node_id,
            n_slices,
            Billing::Monthly,
            price,
            charge,
            periods,
        )?;
        let bid = self.capacity.standing_bids.get_mut(&bid_id).expect("checked above");
        bid.remaining -= n_slices;
        bid.filled += n_slices;
        bid.escrow = Amount::from_units(bid.escrow.units() - charge.units());
        events.push(Event::StandingBidFilled { bid_id, node_id, n_slices, remaining: bid.remaining });
        Ok(events)
    }

    /// `CancelStandingBid`: refunds the unused escrow; filled leases continue.
    pub(crate) fn apply_cancel_standing_bid(
        &mut self,
        buyer: AccountKey,
        bid_id: u64,
    ) -> Result<Vec<Event>, Rejection> {
        let bid = self.capacity.standing_bids.get(&bid_id).ok_or(Rejection::StandingBidNotFound)?;
        if bid.buyer != buyer {
            return Err(Rejection::NotOwner);
        }
        let refund = bid.escrow;
        if refund.is_positive() {
            let to = self.ledger.slot_of(&buyer).ok_or(Rejection::AccountNotFound { account: buyer })?;
            let plan = [Posting::Transfer {
                asset: Asset::Cc,
                from: Slot::System(SystemAccount::EscrowStandingBids),
                to,
                units: refund.units(),
                revenue: false,
            }];
            self.ledger.validate(&plan)?;
            self.ledger.commit(&plan);
        }
        self.capacity.standing_bids.remove(&bid_id);
        let mut events = vec![Event::StandingBidCancelled { bid_id, refunded: refund }];
        self.resume_after_top_up(buyer, &mut events);
        Ok(events)
    }

    /// `PostCapacityRequest`: escrows `max_price * n_slices` until the window closes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_post_capacity_request(
        &mut self,
        requester: AccountKey,
        requirements: &Requirements,
        n_slices: u32,
        max_price_month: Amount<Cc>,
        periods: Option<u32>,
        window_s: i64,
    ) -> Result<Vec<Event>, Rejection> {
        if !max_price_month.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if n_slices == 0 || n_slices > self.params.max_slices_per_bid {
            return Err(Rejection::InvalidSliceCount { max: self.params.max_slices_per_bid });
        }
        if window_s <= 0 || window_s > self.params.max_request_window_s {
            return Err(Rejection::LimitExceeded {
                what: "seconds of request window".to_owned(),
                limit: self.params.max_request_window_s.unsigned_abs(),
            });
        }
        self.check_periods(periods)?;
        let escrow = cc_times(max_price_month, n_slices)?;
        let from =
            self.ledger.slot_of(&requester).ok_or(Rejection::AccountNotFound { account: requester })?;
        let plan = [Posting::Transfer {
            asset: Asset::Cc,
            from,
            to: Slot::System(SystemAccount::EscrowCapacityRequests),
            units: escrow.units(),
            revenue: false,
        }];
        self.ledger.validate(&plan)?;
        self.ledger.commit(&plan);
        self.capacity.next_request_id += 1;
        let id = self.capacity.next_request_id;
        let closes_at = self.now + window_s;
        self.capacity.requests.insert(
            id,
            CapacityRequest {
                id,
                requester,
                requirements: requirements.clone(),
                n_slices,
                max_price_month,
                periods,
                closes_at,
                escrow,
                offers: BTreeMap::new(),
                outcome: None,
            },
        );
        Ok(vec![Event::CapacityRequestPosted {
            request_id: id,
            n_slices,
            max_price_month,
            closes_at,
            escrow,
        }])
    }

    /// `OfferCapacity`: a farmer offers an eligible node at `price_month <= max`; a later offer for the same
    /// node replaces the earlier one.
    pub(crate) fn apply_offer_capacity(
        &mut self,
        farmer: AccountKey,
        request_id: u64,
        node_id: NodeId,
        price_month: Amount<Cc>,
    ) -> Result<Vec<Event>, Rejection> {
        let request = self.capacity.requests.get(&request_id).ok_or(Rejection::CapacityRequestNotFound)?;
        if request.outcome.is_some() || self.now >= request.closes_at {
            return Err(Rejection::CapacityRequestClosed);
        }
        let node = self.node_of_owner(farmer, node_id)?;
        if let Some(unmet) = request.requirements.unmet(node) {
            return Err(Rejection::RequirementsUnmet { reason: request.requirements.describe(unmet) });
        }
        if !price_month.is_positive() || price_month > request.max_price_month {
            return Err(Rejection::OfferAboveMaxPrice { max: request.max_price_month, got: price_month });
        }
        if price_month < node.band_min || price_month > node.band_max {
            return Err(Rejection::PriceOutOfBand {
                min: node.band_min,
                max: node.band_max,
                got: price_month,
            });
        }
        let request = self.capacity.requests.get_mut(&request_id).expect("checked above");
        request.offers.insert(node_id, CapacityOffer { node_id, price_month });
        Ok(vec![Event::CapacityOffered { request_id, node_id, price_month }])
    }

    /// Closes every capacity request whose window ended (called by `Tick`): lowest prices win (ties: higher
    /// uptime score, then lower node id); leases are paid from the escrow; the rest is released.
    pub(crate) fn close_capacity_requests(&mut self, events: &mut Vec<Event>) {
        let due: Vec<u64> = self
            .capacity
            .requests
            .values()
            .filter(|r| r.outcome.is_none() && r.closes_at <= self.now)
            .map(|r| r.id)
            .collect();
        for request_id in due {
            self.close_capacity_request(request_id, events);
        }
    }

    fn close_capacity_request(&mut self, request_id: u64, events: &mut Vec<Event>) {
        let request = &self.capacity.requests[&request_id];
        let mut offers: Vec<(Amount<Cc>, u32, NodeId)> = request
            .offers
            .values()
            .filter_map(|o| {
                let node = self.market.nodes.get(&o.node_id)?;
                Some((o.price_month, uptime_score(node), o.node_id))
            })
            .collect();
        offers.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let (requester, periods, requirements, wanted, max_price) = (
            request.requester,
            request.periods,
            request.requirements.clone(),
            request.n_slices,
            request.max_price_month,
        );
        let escrow_slot = Slot::System(SystemAccount::EscrowCapacityRequests);
        let mut remaining = wanted;
        let mut spent = 0i128;
        let mut leases = Vec::new();
        for (price, _, node_id) in offers {
            if remaining == 0 {
                break;
            }
            let Some(node) = self.market.nodes.get(&node_id) else { continue };
            if requirements.unmet(node).is_some() {
                continue;
            }
            let take = remaining.min(node.free_slices());
            if take == 0 {
                continue;
            }
            let Ok(charge) = cc_times(price, take) else { continue };
            match self.open_lease_paid_by(
                requester,
                escrow_slot,
                node_id,
                take,
                Billing::Monthly,
                price,
                charge,
                periods,
            ) {
                Ok(mut lease_events) => {
                    if let Some(Event::LeaseOpened { lease_id, .. }) = lease_events.first() {
                        leases.push(*lease_id);
                    }
                    events.append(&mut lease_events);
                    remaining -= take;
                    spent += charge.units();
                }
                Err(_) => continue,
            }
        }
        let request = &self.capacity.requests[&request_id];
        let refund = request.escrow.units() - spent;
        if refund > 0 {
            let to = self.ledger.slot_of(&requester).expect("requesters are registered");
            let plan = [Posting::Transfer {
                asset: Asset::Cc,
                from: escrow_slot,
                to,
                units: refund,
                revenue: false,
            }];
            self.ledger.validate(&plan).expect("the escrow covers the request");
            self.ledger.commit(&plan);
        }
        let reasons = if remaining > 0 {
            let mut reasons = explain_shortfall(self, &requirements, remaining, max_price);
            if reasons.is_empty() {
                reasons.push(format!("only {} offers for {} slices; listed capacity exists: post a new request or take listed prices", wanted - remaining, wanted));
            }
            reasons
        } else {
            Vec::new()
        };
        let filled = wanted - remaining;
        let request = self.capacity.requests.get_mut(&request_id).expect("known");
        request.escrow = Amount::ZERO;
        request.outcome = Some(RequestOutcome {
            closed_at: self.now,
            filled,
            leases,
            refunded: Amount::from_units(refund),
            reasons: reasons.clone(),
        });
        events.push(Event::CapacityRequestClosed {
            request_id,
            filled,
            refunded: Amount::from_units(refund),
            reasons,
        });
        self.resume_after_top_up(requester, events);
    }

    /// `TakeCapacity`: leases `n_slices` on the cheapest eligible node at its listed price (instant take).
    pub(crate) fn apply_take_capacity(
        &mut self,
        tenant: AccountKey,
        query: &SearchQuery,
        n_slices: u32,
        periods: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let billing = query.billing.unwrap_or(Billing::Monthly);
        let query = SearchQuery { min_free_slices: n_slices.max(1), limit: 1, ..query.clone() };
        let Some(hit) = search(self, &query).into_iter().next() else {
            let max = query.max_price_month.unwrap_or(Amount::from_units(i128::MAX / 4));
            let mut reasons = explain_shortfall(self, &query.requirements, n_slices.max(1), max);
            if reasons.is_empty() {
                // Monthly prices fit, so the hourly rate (with its short-rental premium) is what is too high.
                reasons.push(format!(
                    "eligible nodes' hourly price x {} is above max price {max} (hourly billing carries a premium)",
                    self.params.month_s / self.params.hour_s
                ));
            }
            return Err(Rejection::NoCapacity { reasons });
        };
        self.apply_open_lease(tenant, hit.node_id, n_slices, billing, periods)
    }
}
