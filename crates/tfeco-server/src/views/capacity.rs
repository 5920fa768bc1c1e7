//! Views of the capacity market: farms, nodes, leases, search, explain, standing bids and capacity
//! requests.

use tfeco_api::capacity::{
    shortfall_views, CapacityOfferView, CapacityRequestStatus, CapacityRequestView, CapacityRequestsView,
    ExplainView, FarmView, FarmsView, LeaseClosed, LeaseStatusView, LeaseView, LeasesView, NodeView,
    NodesView, RequestOutcomeView, SearchHitView, SearchView, StandingBidView, StandingBidsView,
};
use tfeco_core::rules::billing::hourly_charge;
use tfeco_core::slices::capacity::{CapacityRequest, StandingBid};
use tfeco_core::slices::capacity::{Lease, LeaseStatus};
use tfeco_core::{AccountKey, State};
use tfeco_core::{Requirements, SearchQuery};
use tfeco_money::{Amount, Cc};

/// `GET /v1/farms`.
pub fn farms(state: &State) -> FarmsView {
    let farms = state
        .capacity()
        .farms()
        .values()
        .map(|f| FarmView { id: f.id, owner: f.owner, name: f.name.clone(), nodes: f.nodes.clone() })
        .collect();
    FarmsView { farms }
}

/// `GET /v1/nodes`, optionally of one farm.
pub fn nodes(state: &State, farm: Option<u32>) -> NodesView {
    let params = state.params();
    let nodes = state
        .capacity()
        .nodes()
        .values()
        .filter(|n| farm.is_none_or(|f| n.farm_id.0 == f))
        .map(|n| NodeView {
            id: n.id,
            farm_id: n.farm_id,
            model: n.model.clone(),
            certified: n.certified,
            resources: n.resources,
            slices: n.slices,
            offered_slices: n.offered_slices,
            leased_slices: n.leased_slices,
            free_slices: n.free_slices(),
            band_min: n.band_min,
            band_max: n.band_max,
            price_month: n.price,
            price_hour: n
                .price
                .and_then(|p| hourly_charge(p, n.band_min, n.band_max, 1, &params.lease_pricing())),
        })
        .collect();
    NodesView { nodes }
}

fn lease_view(lease: &Lease) -> LeaseView {
    let (status, closed) = match lease.status {
        LeaseStatus::Active => (LeaseStatusView::Active, None),
        LeaseStatus::Grace { since } => (LeaseStatusView::Grace { since }, None),
        LeaseStatus::Cancelling => (LeaseStatusView::Cancelling, None),
        LeaseStatus::Closed { reason, at } => {
            (LeaseStatusView::Closed { reason, at }, Some(LeaseClosed { reason, at }))
        }
    };
    LeaseView {
        id: lease.id,
        tenant: lease.tenant,
        node_id: lease.node_id,
        n_slices: lease.n_slices,
        billing: lease.billing,
        price_month: lease.price_month,
        period_charge: lease.period_charge,
        opened_at: lease.opened_at,
        next_charge_at: lease.next_charge_at,
        ends_at: lease.ends_at,
        status,
        periods_paid: lease.periods_paid,
        total_paid: lease.total_paid,
        closed,
    }
}

/// `GET /v1/leases`, optionally of one tenant and open or closed only.
pub fn leases(state: &State, tenant: Option<AccountKey>, open: Option<bool>) -> LeasesView {
    let leases = state
        .capacity()
        .leases()
        .values()
        .filter(|l| tenant.is_none_or(|t| l.tenant == t))
        .filter(|l| open.is_none_or(|open| l.is_open() == open))
        .map(lease_view)
        .collect();
    LeasesView { leases }
}

/// `GET /v1/capacity/search` (one pass over the nodes; nothing is cloned but the hits).
pub fn search(state: &State, query: &SearchQuery) -> SearchView {
    let results: Vec<SearchHitView> = state
        .capacity()
        .search(query, state.params())
        .into_iter()
        .map(|hit| SearchHitView {
            node_id: hit.node_id,
            farm_id: hit.farm_id,
            model: hit.model,
            certified: hit.certified,
            price_month: hit.price_month,
            price_hour: hit.price_hour,
            effective_month: hit.effective_month,
            free_slices: hit.free_slices,
        })
        .collect();
    SearchView { count: results.len(), results }
}

/// `GET /v1/capacity/explain`: why `n_slices` meeting `requirements` at `max_price` cannot be had.
pub fn explain(
    state: &State,
    requirements: &Requirements,
    n_slices: u32,
    max_price: Option<Amount<Cc>>,
) -> ExplainView {
    // "No ceiling" as the core's instant take reads it: far above any price, far below overflow.
    let ceiling = max_price.unwrap_or(Amount::from_units(i128::MAX / 4));
    let reasons = state.capacity().explain(requirements, n_slices, ceiling);
    ExplainView { satisfiable: reasons.is_empty(), reasons: shortfall_views(&reasons), n_slices, max_price }
}

fn standing_bid_view(bid: &StandingBid) -> StandingBidView {
    StandingBidView {
        id: bid.id,
        buyer: bid.buyer,
        name: bid.name.clone(),
        requirements: bid.requirements.clone(),
        price_month: bid.price_month,
        remaining: bid.remaining,
        filled: bid.filled,
        periods: bid.periods,
        escrow: bid.escrow,
        quantity: u64::from(bid.remaining) + u64::from(bid.filled),
        open: bid.remaining > 0,
    }
}

/// `GET /v1/capacity/standing-bids`.
pub fn standing_bids(state: &State, buyer: Option<AccountKey>, open: Option<bool>) -> StandingBidsView {
    let standing_bids = state
        .capacity()
        .standing_bids()
        .values()
        .filter(|b| buyer.is_none_or(|k| b.buyer == k))
        .filter(|b| open.is_none_or(|o| (b.remaining > 0) == o))
        .map(standing_bid_view)
        .collect();
    StandingBidsView { standing_bids }
}

/// Where a capacity request stands at `now`.
fn request_status(request: &CapacityRequest, now: i64) -> CapacityRequestStatus {
    if request.outcome.is_some() {
        CapacityRequestStatus::Closed
    } else if now >= request.closes_at {
        CapacityRequestStatus::Closing
    } else {
        CapacityRequestStatus::Open
    }
}

/// One capacity request at `now`, its offers cheapest first (the order they win in).
pub fn request_view(request: &CapacityRequest, now: i64) -> CapacityRequestView {
    let mut offers: Vec<CapacityOfferView> = request
        .offers
        .values()
        .map(|o| CapacityOfferView { node_id: o.node_id, price_month: o.price_month })
        .collect();
    offers.sort_by(|a, b| a.price_month.cmp(&b.price_month).then(a.node_id.cmp(&b.node_id)));
    let outcome = request.outcome.as_ref().map(|o| RequestOutcomeView {
        closed_at: o.closed_at,
        filled: o.filled,
        leases: o.leases.clone(),
        refunded: o.refunded,
        reasons: shortfall_views(&o.reasons),
    });
    CapacityRequestView {
        id: request.id,
        requester: request.requester,
        requirements: request.requirements.clone(),
        n_slices: request.n_slices,
        max_price_month: request.max_price_month,
        periods: request.periods,
        closes_at: request.closes_at,
        escrow: request.escrow,
        offers,
        outcome,
        status: request_status(request, now),
    }
}

/// `GET /v1/capacity/requests`.
pub fn requests(state: &State, requester: Option<AccountKey>, open: Option<bool>) -> CapacityRequestsView {
    let requests = state
        .capacity()
        .requests()
        .values()
        .filter(|r| requester.is_none_or(|k| r.requester == k))
        .filter(|r| open.is_none_or(|o| r.outcome.is_none() == o))
        .map(|r| request_view(r, state.now()))
        .collect();
    CapacityRequestsView { now: state.now(), requests }
}

/// `GET /v1/capacity/requests/{id}`; `None` when there is no such request.
pub fn request(state: &State, id: tfeco_core::CapacityRequestId) -> Option<CapacityRequestView> {
    state.capacity().requests().get(&id).map(|r| request_view(r, state.now()))
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;
    use tfeco_core::NodeSpec;
    use tfeco_core::{Command, Envelope, FarmId, Genesis, NodeId, Params, Resources};

    use super::*;

    const CATALOGUE_CSV: &str = tfeco_core::CATALOGUE_Q4_2025_CSV;

    fn key(n: u8) -> AccountKey {
        AccountKey(ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes())
    }

    /// A state with `farms` farms of `per_farm` custom nodes each (32 GB cut in 4 slices: 2 cores, 4,000
    /// passmark, 8 GB and 400 GB SSD per slice; band 2.4..=24 CC), node `i` at `2.4 + (i mod 100) / 100` CC.
    pub(crate) fn market(farms: u32, per_farm: u32) -> State {
        let (operator, farmer) = (key(1), key(2));
        let catalogue = tfeco_core::parse_catalogue_csv(CATALOGUE_CSV).unwrap();
        let mut state =
            State::new(Genesis { params: Params::tfgrid4_2025(operator), catalogue, start_time: 0 });
        let mut nonce = 0;
        let mut apply = |state: &mut State, command: Command| {
            nonce += 1;
            state.apply(&Envelope { signer: farmer, nonce, command }).unwrap();
        };
        apply(&mut state, Command::RegisterAccount {});
        let resources =
            Resources { cpu_cores: 8, passmark: 16_000, mem_gb: 32, ssd_gb: 1_600, ai_mem_gb: 0, ai_tps: 0 };
        let mut node = 0u32;
        for farm in 1..=farms {
            apply(&mut state, Command::RegisterFarm { name: format!("farm {farm}") });
            for _ in 0..per_farm {
                node += 1;
                let spec = NodeSpec::Custom { resources, slices: 4 };
                apply(
                    &mut state,
                    Command::RegisterNode { farm_id: FarmId(farm), spec, offered_slices: None },
                );
                let price = Amount::<Cc>::from_units(24_000_000 + i128::from(node % 100) * 100_000);
                apply(&mut state, Command::SetSlicePrice { node_id: NodeId(node), price });
            }
        }
        state
    }

    fn requirements(min_mem_gb: u32) -> Requirements {
        Requirements { min_mem_gb, ..Requirements::default() }
    }

    #[test]
    fn search_and_explain_views() {
        let state = market(2, 5);
        let query = SearchQuery {
            requirements: requirements(8),
            max_price_month: Some("2.43".parse().unwrap()),
            limit: 2,
            ..SearchQuery::default()
        };
        let response = search(&state, &query);
        assert_eq!(response.count, 2);
        let ids: Vec<u32> = response.results.iter().map(|h| h.node_id.0).collect();
        assert_eq!(ids, [1, 2]);
        let body = serde_json::to_value(&response).unwrap();
        assert_eq!(body["results"][1]["price_month"], "2.42");
        assert_eq!(body["count"], 2);
        // 8 GB per slice is all a 32 GB node cut in 4 has.
        let none = SearchQuery { requirements: requirements(9), ..SearchQuery::default() };
        assert_eq!(search(&state, &none).count, 0);
        let view = explain(&state, &requirements(9), 4, None);
        let texts: Vec<&str> = view.reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(texts, ["no node has >= 9 GB memory per slice"]);
        assert!(!view.satisfiable);
        let view = explain(&state, &Requirements::default(), 1, Some("0.5".parse().unwrap()));
        assert!(view.reasons[0].message.contains("all above max price 0.5"), "{view:?}");
        let view = explain(&state, &Requirements::default(), 40, None);
        assert!(view.satisfiable, "{view:?}");
        assert_eq!(serde_json::to_value(&view).unwrap()["max_price"], json!(null));
    }
}
