//! Buyers' side of the capacity market (spec `decisions.md` §9): standing bids (ThreeFold's bid tiers and any
//! buyer's: the first month of the whole quantity escrowed, farmers fill them with eligible nodes), capacity
//! requests (reverse auctions: the max price escrowed, farmers offer during the window, the cheapest win when
//! `Tick` closes it; ties to the higher uptime score, then the lower node id), and the instant take of the
//! cheapest listed slices. Leases created here are billed monthly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Cc};

use super::leases::{check_periods, LeaseTerms};
use super::{CapacityMarket, Payments};
use crate::event::Event;
use crate::ids::{AccountKey, CapacityRequestId, LeaseId, NodeId, StandingBidId, SystemAccount};
use crate::ledger::{Posting, Slot};
use crate::rejection::{Limit, Rejection, TextField};
use crate::slices::Env;
use crate::types::{Billing, Requirements, SearchQuery, Shortfall};

/// A standing bid: buy up to `quantity` slices meeting `requirements` at `price_month`, monthly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingBid {
    /// Id.
    pub id: StandingBidId,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityOffer {
    /// The offering node.
    pub node_id: NodeId,
    /// CC per slice-month, at most the request's max price.
    pub price_month: Amount<Cc>,
}

/// The outcome of a closed capacity request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOutcome {
    /// Close time.
    pub closed_at: i64,
    /// Slices leased.
    pub filled: u32,
    /// Leases created.
    pub leases: Vec<LeaseId>,
    /// CC released back to the requester.
    pub refunded: Amount<Cc>,
    /// Why fewer slices than asked, one reason per blocking requirement.
    pub reasons: Vec<Shortfall>,
}

/// A capacity request (reverse auction): farmers offer during the window, the cheapest win at close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityRequest {
    /// Id.
    pub id: CapacityRequestId,
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

/// A standing bid's terms as posted.
pub(crate) struct BidTerms<'a> {
    /// A name.
    pub(crate) name: &'a str,
    /// Per-slice requirements.
    pub(crate) requirements: &'a Requirements,
    /// CC per slice-month.
    pub(crate) price_month: Amount<Cc>,
    /// Slices wanted.
    pub(crate) quantity: u32,
    /// Lease length in months.
    pub(crate) periods: Option<u32>,
}

/// A capacity request's terms as posted.
pub(crate) struct RequestTerms<'a> {
    /// Per-slice requirements.
    pub(crate) requirements: &'a Requirements,
    /// Slices wanted.
    pub(crate) n_slices: u32,
    /// Highest price per slice-month.
    pub(crate) max_price_month: Amount<Cc>,
    /// Lease length in months.
    pub(crate) periods: Option<u32>,
    /// Offer window, seconds.
    pub(crate) window_s: i64,
}

/// The reverse auction's tie-break score of a node (decisions §9: "ties: higher node uptime score, then lowest
/// node id"): its uptime of the last closed minting period in permill, 0 for a node absent from that period.
/// The rewards slice, below this one, owns uptime; `Tick` passes its reading in (see
/// `Rewards::uptime_score`), so this slice never reads a slice below it.
pub(crate) type UptimeScore<'a> = &'a dyn Fn(NodeId) -> u32;

fn cc_times(price: Amount<Cc>, n: u32) -> Result<Amount<Cc>, Rejection> {
    price.units().checked_mul(i128::from(n)).map(Amount::from_units).ok_or(Rejection::Overflow)
}

/// A CC transfer from `from` to `to`.
fn cc_move(from: Slot, to: Slot, units: i128) -> Posting {
    Posting::Transfer { asset: Asset::Cc, from, to, units, revenue: false }
}

const BIDS_ESCROW: Slot = Slot::System(SystemAccount::EscrowStandingBids);
const REQUESTS_ESCROW: Slot = Slot::System(SystemAccount::EscrowCapacityRequests);

impl CapacityMarket {
    /// `PostStandingBid`: escrows the first month of the whole quantity.
    pub(crate) fn post_standing_bid(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        buyer: AccountKey,
        bid: BidTerms<'_>,
    ) -> Result<Vec<Event>, Rejection> {
        env.check_text(bid.name, TextField::BidName)?;
        if !bid.price_month.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if bid.quantity == 0 || bid.quantity > env.params.max_slices_per_bid {
            return Err(Rejection::LimitExceeded {
                what: Limit::SlicesPerBid,
                limit: u64::from(env.params.max_slices_per_bid),
            });
        }
        check_periods(env, bid.periods)?;
        let escrow = cc_times(bid.price_month, bid.quantity)?;
        let from = pay.ledger.user_slot(&buyer)?;
        let next = self.next_bid_id.checked_add(1).ok_or(Rejection::Overflow)?;
        pay.ledger.apply(&[cc_move(from, BIDS_ESCROW, escrow.units())])?;
        self.next_bid_id = next;
        let id = StandingBidId(next);
        let record = StandingBid {
            id,
            buyer,
            name: bid.name.to_owned(),
            requirements: bid.requirements.clone(),
            price_month: bid.price_month,
            remaining: bid.quantity,
            filled: 0,
            periods: bid.periods,
            escrow,
        };
        self.standing_bids.insert(id, record);
        Ok(vec![Event::StandingBidPosted {
            bid_id: id,
            quantity: bid.quantity,
            price_month: bid.price_month,
            escrow,
        }])
    }

    /// `FillStandingBid`: a farmer leases `n_slices` of an eligible node to the bid's buyer at the bid price;
    /// the first period is paid from the bid's escrow.
    pub(crate) fn fill_standing_bid(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        farmer: AccountKey,
        (bid_id, node_id, n_slices): (StandingBidId, NodeId, u32),
    ) -> Result<Vec<Event>, Rejection> {
        let bid = self.standing_bids.get(&bid_id).ok_or(Rejection::StandingBidNotFound)?;
        let node = self.owned_node(farmer, node_id)?;
        if let Some(unmet) = bid.requirements.unmet(node) {
            return Err(Rejection::RequirementsUnmet { unmet, required: bid.requirements.required(unmet) });
        }
        if n_slices == 0 || n_slices > bid.remaining {
            return Err(Rejection::InvalidSliceCount { max: bid.remaining });
        }
        if n_slices > node.free_slices() {
            return Err(Rejection::SlicesUnavailable { requested: n_slices, free: node.free_slices() });
        }
        let (tenant, price, periods) = (bid.buyer, bid.price_month, bid.periods);
        let charge = cc_times(price, n_slices)?;
        let terms = LeaseTerms {
            tenant,
            payer: BIDS_ESCROW,
            node_id,
            n_slices,
            billing: Billing::Monthly,
            price,
            charge,
            periods,
        };
        let mut events = self.open_lease_paid_by(env, pay, terms)?;
        let bid = self.standing_bids.get_mut(&bid_id).expect("checked above");
        bid.remaining = bid.remaining.saturating_sub(n_slices);
        bid.filled = bid.filled.saturating_add(n_slices);
        bid.escrow = Amount::from_units(bid.escrow.units().saturating_sub(charge.units()));
        events.push(Event::StandingBidFilled { bid_id, node_id, n_slices, remaining: bid.remaining });
        Ok(events)
    }

    /// `CancelStandingBid`: refunds the unused escrow; filled leases continue.
    pub(crate) fn cancel_standing_bid(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        buyer: AccountKey,
        bid_id: StandingBidId,
    ) -> Result<Vec<Event>, Rejection> {
        let bid = self.standing_bids.get(&bid_id).ok_or(Rejection::StandingBidNotFound)?;
        if bid.buyer != buyer {
            return Err(Rejection::NotOwner);
        }
        let refund = bid.escrow;
        if refund.is_positive() {
            let to = pay.ledger.user_slot(&buyer)?;
            pay.ledger.apply(&[cc_move(BIDS_ESCROW, to, refund.units())])?;
        }
        self.standing_bids.remove(&bid_id);
        let mut events = vec![Event::StandingBidCancelled { bid_id, refunded: refund }];
        self.resume_after_top_up(env, pay, buyer, &mut events);
        Ok(events)
    }

    /// `PostCapacityRequest`: escrows `max_price * n_slices` until the window closes.
    pub(crate) fn post_capacity_request(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        requester: AccountKey,
        request: RequestTerms<'_>,
    ) -> Result<Vec<Event>, Rejection> {
        let params = env.params;
        if !request.max_price_month.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if request.n_slices == 0 || request.n_slices > params.max_slices_per_bid {
            return Err(Rejection::InvalidSliceCount { max: params.max_slices_per_bid });
        }
        if request.window_s <= 0 || request.window_s > params.max_request_window_s {
            return Err(Rejection::LimitExceeded {
                what: Limit::RequestWindowSeconds,
                limit: params.max_request_window_s.unsigned_abs(),
            });
        }
        check_periods(env, request.periods)?;
        let escrow = cc_times(request.max_price_month, request.n_slices)?;
        let from = pay.ledger.user_slot(&requester)?;
        let next = self.next_request_id.checked_add(1).ok_or(Rejection::Overflow)?;
        let closes_at = env.now.checked_add(request.window_s).ok_or(Rejection::Overflow)?;
        pay.ledger.apply(&[cc_move(from, REQUESTS_ESCROW, escrow.units())])?;
        self.next_request_id = next;
        let id = CapacityRequestId(next);
        let record = CapacityRequest {
            id,
            requester,
            requirements: request.requirements.clone(),
            n_slices: request.n_slices,
            max_price_month: request.max_price_month,
            periods: request.periods,
            closes_at,
            escrow,
            offers: BTreeMap::new(),
            outcome: None,
        };
        self.requests.insert(id, record);
        Ok(vec![Event::CapacityRequestPosted {
            request_id: id,
            n_slices: request.n_slices,
            max_price_month: request.max_price_month,
            closes_at,
            escrow,
        }])
    }

    /// `OfferCapacity`: a farmer offers an eligible node at `price_month <= max`, inside the node's band; a
    /// later offer for the same node replaces the earlier one.
    pub(crate) fn offer_capacity(
        &mut self,
        env: &Env<'_>,
        farmer: AccountKey,
        (request_id, node_id, price_month): (CapacityRequestId, NodeId, Amount<Cc>),
    ) -> Result<Vec<Event>, Rejection> {
        let request = self.requests.get(&request_id).ok_or(Rejection::CapacityRequestNotFound)?;
        if request.outcome.is_some() || env.now >= request.closes_at {
            return Err(Rejection::CapacityRequestClosed);
        }
        let node = self.owned_node(farmer, node_id)?;
        if let Some(unmet) = request.requirements.unmet(node) {
            return Err(Rejection::RequirementsUnmet {
                unmet,
                required: request.requirements.required(unmet),
            });
        }
        if !price_month.is_positive() || price_month > request.max_price_month {
            return Err(Rejection::OfferAboveMaxPrice { max: request.max_price_month, got: price_month });
        }
        if !node.in_band(price_month) {
            return Err(Rejection::PriceOutOfBand {
                min: node.band_min,
                max: node.band_max,
                got: price_month,
            });
        }
        let request = self.requests.get_mut(&request_id).expect("checked above");
        request.offers.insert(node_id, CapacityOffer { node_id, price_month });
        Ok(vec![Event::CapacityOffered { request_id, node_id, price_month }])
    }

    /// The `Tick` phase closing every capacity request whose window ended; `uptime` scores the nodes for the
    /// price tie-break (the last closed minting period's uptime, [`UptimeScore`]).
    pub(crate) fn close_due_requests(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        uptime: UptimeScore<'_>,
        events: &mut Vec<Event>,
    ) {
        let due: Vec<CapacityRequestId> = self
            .requests
            .values()
            .filter(|r| r.outcome.is_none() && r.closes_at <= env.now)
            .map(|r| r.id)
            .collect();
        for request_id in due {
            self.close_request(env, pay, (request_id, uptime), events);
        }
    }

    /// Offers of a request cheapest first (ties: higher uptime score, then lower node id).
    fn ranked_offers(&self, request: &CapacityRequest, uptime: UptimeScore<'_>) -> Vec<(Amount<Cc>, NodeId)> {
        let mut offers: Vec<(Amount<Cc>, u32, NodeId)> = request
            .offers
            .values()
            .filter(|o| self.nodes.contains_key(&o.node_id))
            .map(|o| (o.price_month, uptime(o.node_id), o.node_id))
            .collect();
        offers.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        offers.into_iter().map(|(price, _, node)| (price, node)).collect()
    }

    /// Closes one request: the cheapest eligible offers become leases paid from the escrow, the rest of the
    /// escrow is released, and the reasons for any shortfall are published.
    fn close_request(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        (request_id, uptime): (CapacityRequestId, UptimeScore<'_>),
        events: &mut Vec<Event>,
    ) {
        let Some(request) = self.requests.get(&request_id) else { return };
        let offers = self.ranked_offers(request, uptime);
        let (requester, periods, wanted, max_price, escrow) =
            (request.requester, request.periods, request.n_slices, request.max_price_month, request.escrow);
        let requirements = request.requirements.clone();
        let mut remaining = wanted;
        let mut spent = 0i128;
        let mut leases = Vec::new();
        for (price, node_id) in offers {
            if remaining == 0 {
                break;
            }
            let Some(node) = self.nodes.get(&node_id) else { continue };
            let take = remaining.min(node.free_slices());
            if requirements.unmet(node).is_some() || take == 0 {
                continue;
            }
            let Ok(charge) = cc_times(price, take) else { continue };
            let terms = LeaseTerms {
                tenant: requester,
                payer: REQUESTS_ESCROW,
                node_id,
                n_slices: take,
                billing: Billing::Monthly,
                price,
                charge,
                periods,
            };
            let Ok(mut lease_events) = self.open_lease_paid_by(env, pay, terms) else { continue };
            if let Some(Event::LeaseOpened { lease_id, .. }) = lease_events.first() {
                leases.push(*lease_id);
            }
            events.append(&mut lease_events);
            remaining = remaining.saturating_sub(take);
            spent = spent.saturating_add(charge.units());
        }
        let refund = escrow.units().saturating_sub(spent);
        if refund > 0 {
            let to = pay.ledger.user_slot(&requester).expect("requesters are registered");
            pay.ledger.apply(&[cc_move(REQUESTS_ESCROW, to, refund)]).expect("the escrow covers the request");
        }
        let reasons = self.shortfall_at_close(&requirements, (wanted, remaining), max_price);
        let filled = wanted.saturating_sub(remaining);
        let refunded = Amount::from_units(refund);
        if let Some(request) = self.requests.get_mut(&request_id) {
            request.escrow = Amount::ZERO;
            let outcome =
                RequestOutcome { closed_at: env.now, filled, leases, refunded, reasons: reasons.clone() };
            request.outcome = Some(outcome);
        }
        events.push(Event::CapacityRequestClosed { request_id, filled, refunded, reasons });
        self.resume_after_top_up(env, pay, requester, events);
    }

    /// Why a request closed short: the market's shortfall for the remaining slices, or too few offers.
    fn shortfall_at_close(
        &self,
        requirements: &Requirements,
        (wanted, remaining): (u32, u32),
        max_price: Amount<Cc>,
    ) -> Vec<Shortfall> {
        if remaining == 0 {
            return Vec::new();
        }
        let mut reasons = self.explain(requirements, remaining, max_price);
        if reasons.is_empty() {
            reasons.push(Shortfall::TooFewOffers { filled: wanted.saturating_sub(remaining), wanted });
        }
        reasons
    }

    /// `TakeCapacity`: leases `n_slices` on the cheapest eligible node at its listed price (instant take), or
    /// [`Rejection::NoCapacity`] with the reasons.
    pub(crate) fn take_capacity(
        &mut self,
        env: &Env<'_>,
        pay: &mut Payments<'_>,
        tenant: AccountKey,
        query: &SearchQuery,
        (n_slices, periods): (u32, Option<u32>),
    ) -> Result<Vec<Event>, Rejection> {
        let billing = query.billing.unwrap_or(Billing::Monthly);
        let query = SearchQuery { min_free_slices: n_slices.max(1), limit: 1, ..query.clone() };
        let Some(hit) = self.search(&query, env.params).into_iter().next() else {
            let max = query.max_price_month.unwrap_or(Amount::from_units(i128::MAX / 4));
            let mut reasons = self.explain(&query.requirements, n_slices.max(1), max);
            if reasons.is_empty() {
                // Monthly prices fit, so the hourly rate (with its short-rental premium) is what is too high.
                let hours_per_month = env.params.hours_per_month();
                reasons.push(Shortfall::HourlyPremium { hours_per_month, max_price_month: max });
            }
            return Err(Rejection::NoCapacity { reasons });
        };
        self.open_lease(env, pay, tenant, (hit.node_id, n_slices, billing), periods)
    }

    /// The standing-bid and request escrows hold exactly the open bids' and open requests' escrows.
    pub(crate) fn check_escrows(&self, bids_escrow: i128, requests_escrow: i128) -> Result<(), String> {
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
