//! Capacity at scale: custom nodes (1 in 10 a catalogue model) in farms of 1,000, priced inside their bands;
//! one-slice capacity requests (1,000 per requester) with one or two offers each; `capacity::search` with a
//! memory filter (median of 20, limit 100); the `Tick` that closes every request (each must fill).

use serde_json::{json, Value};
use tfeco_core::{Command, Event, NodeId, NodeSpec};
use tfeco_core::{Requirements, SearchQuery};
use tfeco_money::{Amount, Cc};

use super::bed::{custom_spec, farmer_of, find_event, Bed};
use super::UNIT;
use crate::bench::measure::{round3, Span};
use crate::error::check;
use crate::keys::synthetic_account;
use crate::rng::XorShift;
use crate::{Result, SimError};

/// Requests per requester account.
const PER_REQUESTER: usize = 1_000;

/// `nodes` nodes, each priced somewhere in the lower half of its band: `(node, price)` in order.
fn priced_nodes(bed: &mut Bed, nodes: usize) -> Result<Vec<(NodeId, Amount<Cc>)>> {
    let model = bed
        .sliced_model()
        .ok_or_else(|| SimError::Check("the catalogue has no model with slices".to_owned()))?;
    let spec = |i: usize| {
        if i % 10 == 9 {
            NodeSpec::Model { model: model.clone() }
        } else {
            custom_spec(i)
        }
    };
    let ids = bed.nodes(nodes, spec)?;
    let mut rng = XorShift(0xABCD_EF01_2345_6789);
    let mut priced = Vec::with_capacity(nodes);
    for (i, node_id) in ids.into_iter().enumerate() {
        let (lo, hi) = bed.band(node_id).ok_or_else(|| SimError::Check(format!("no node {node_id}")))?;
        let (lo, hi) = (lo.units(), hi.units());
        let price = Amount::from_units(lo + (hi - lo) * rng.below(50) as i128 / 100);
        bed.apply(farmer_of(i), Command::SetSlicePrice { node_id, price })?;
        priced.push((node_id, price));
    }
    Ok(priced)
}

/// `requests` one-slice requests at most 1,000 CC, each offered by one node and every other one by a second:
/// the number of offers.
fn post_requests(bed: &mut Bed, priced: &[(NodeId, Amount<Cc>)], requests: usize) -> Result<usize> {
    let max_price = Amount::from_units(1_000 * UNIT);
    let mut offers = 0usize;
    for r in 0..requests {
        let requester = synthetic_account(4, (r / PER_REQUESTER) as u64);
        if r % PER_REQUESTER == 0 {
            bed.register(requester)?;
            // ~7.4 M CC at ~0.136 USD per CC: covers 1,000 escrows of 1,000 CC.
            bed.fiat(requester, 1_000_000, format!("bench-capacity-{}", r / PER_REQUESTER))?;
        }
        let requirements = Requirements { min_mem_gb: 4, ..Requirements::default() };
        let command = Command::PostCapacityRequest {
            requirements,
            n_slices: 1,
            max_price_month: max_price,
            periods: Some(1),
            window_s: 3_600,
        };
        let events = bed.apply(requester, command)?;
        let request_id = find_event(&events, "CapacityRequestPosted", |e| match e {
            Event::CapacityRequestPosted { request_id, .. } => Some(*request_id),
            _ => None,
        })?;
        let nodes = priced.len();
        let mut chosen = vec![r % nodes];
        if r % 2 == 0 {
            chosen.push((r.wrapping_mul(7_919) + 13) % nodes);
        }
        for i in chosen {
            let (node_id, price_month) = priced[i];
            bed.apply(farmer_of(i), Command::OfferCapacity { request_id, node_id, price_month })?;
            offers += 1;
        }
    }
    Ok(offers)
}

/// The search, 20 times (memory filter 8 or 16 GB per slice, limit 100): sorted times in ms, and the hits of
/// the last.
fn time_searches(bed: &Bed) -> (Vec<f64>, usize) {
    let mut search_ms = Vec::with_capacity(20);
    let mut hits = 0;
    for s in 0..20 {
        let min_mem_gb = if s % 2 == 0 { 8 } else { 16 };
        let requirements = Requirements { min_mem_gb, ..Requirements::default() };
        let query = SearchQuery { requirements, limit: 100, ..SearchQuery::default() };
        let (found, span) = Span::measure(|| bed.search(std::hint::black_box(&query)));
        hits = found.len();
        search_ms.push(span.wall.as_secs_f64() * 1_000.0);
    }
    search_ms.sort_by(f64::total_cmp);
    (search_ms, hits)
}

pub(super) fn bench_capacity(nodes: usize, requests: usize) -> Result<Value> {
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|_| {})?;
    bed.prices()?;
    let priced = priced_nodes(&mut bed, nodes)?;
    let offers = post_requests(&mut bed, &priced, requests)?;
    let setup_s = setup.elapsed().as_secs_f64();
    let (search_ms, hits) = time_searches(&bed);

    let now = bed.now();
    let (events, span) = Span::measure(|| bed.tick(now + 3_600));
    let events = events?;
    let closed = events.iter().filter(|e| matches!(e, Event::CapacityRequestClosed { .. })).count();
    let filled =
        events.iter().filter(|e| matches!(e, Event::CapacityRequestClosed { filled: 1, .. })).count();
    let leases = events.iter().filter(|e| matches!(e, Event::LeaseOpened { .. })).count();
    check!(closed == requests, "the bench Tick closed {closed} of {requests} capacity requests");
    check!(filled == requests, "only {filled} of {requests} bench capacity requests filled");
    Ok(json!({
        "capacity_tick_100k_requests_ms": span.ms(),
        "capacity_search_100k_nodes_ms": round3(search_ms[search_ms.len() / 2]),
        "capacity_search_max_ms": round3(search_ms[search_ms.len() - 1]),
        "capacity_search_hits": hits,
        "capacity_nodes": nodes,
        "capacity_requests": requests,
        "capacity_requesters": requests.div_ceil(PER_REQUESTER),
        "capacity_offers": offers,
        "capacity_requests_filled": filled,
        "capacity_leases_opened": leases,
        "capacity_tick_events": events.len(),
        "capacity_tick_cpu_share": span.cpu_share(),
        "capacity_setup_s": round3(setup_s),
    }))
}
