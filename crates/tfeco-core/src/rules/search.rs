//! Capacity search (spec `decisions.md` §9): the listed nodes that meet per-slice requirements, cheapest
//! first, and the reasons (typed [`Shortfall`]s) why a quantity cannot be had. Pure functions over the nodes
//! the capacity-market slice passes in.

use std::collections::BTreeMap;

use serde::Serialize;
use tfeco_money::{Amount, Cc};

use crate::ids::{FarmId, NodeId};
use crate::rules::billing::{hourly_charge, LeasePricing};
use crate::types::{Billing, Node, Requirements, SearchQuery, Shortfall, Unmet};

/// Most results one search returns.
pub const MAX_SEARCH_RESULTS: u32 = 10_000;
/// Results returned when a query asks for none in particular.
pub const DEFAULT_SEARCH_RESULTS: u32 = 100;

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
    /// The price compared (monthly, or hourly × hours per month for hourly billing).
    pub effective_month: Amount<Cc>,
    /// Free slices.
    pub free_slices: u32,
}

/// Nodes that meet a query, cheapest first (ties: lower node id). Cost: one pass over the nodes, a partial
/// selection of the `limit` cheapest, and a sort of those only; the hourly price is computed per node only
/// for hourly billing (it is the compared price) and otherwise only for the returned hits.
pub fn search<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    query: &SearchQuery,
    pricing: &LeasePricing,
) -> Vec<SearchHit> {
    let billing = query.billing.unwrap_or(Billing::Monthly);
    let min_free = query.min_free_slices.max(1);
    let hours = i128::from(pricing.hours_per_month);
    let limit = if query.limit == 0 { DEFAULT_SEARCH_RESULTS } else { query.limit.min(MAX_SEARCH_RESULTS) };
    let limit = limit as usize;
    let hour_of = |n: &Node, p: Amount<Cc>| hourly_charge(p, n.band_min, n.band_max, 1, pricing);
    let mut candidates: Vec<(Amount<Cc>, NodeId, &Node)> = nodes
        .into_iter()
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
        candidates.select_nth_unstable_by(limit.saturating_sub(1), order);
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

/// Why `n_slices` at `max_price_month` cannot be had among `nodes`: one reason per blocking requirement, in
/// order (requirements, then price, then free slices). Empty when enough capacity exists.
pub fn explain_shortfall<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    requirements: &Requirements,
    n_slices: u32,
    max_price_month: Amount<Cc>,
) -> Vec<Shortfall> {
    let listed: Vec<&Node> = nodes.into_iter().filter(|n| n.price.is_some()).collect();
    if listed.is_empty() {
        return vec![Shortfall::NoNodeListed];
    }
    let mut counts: BTreeMap<Unmet, usize> = BTreeMap::new();
    let eligible: Vec<&Node> = listed
        .iter()
        .copied()
        .filter(|n| match requirements.unmet(n) {
            Some(unmet) => {
                let count = counts.entry(unmet).or_default();
                *count = count.saturating_add(1);
                false
            }
            None => true,
        })
        .collect();
    if eligible.is_empty() {
        // Name each requirement that excluded a node, in check order.
        return counts
            .keys()
            .map(|unmet| Shortfall::Unmet { unmet: *unmet, required: requirements.required(*unmet) })
            .collect();
    }
    let count = |nodes: &[&Node]| u32::try_from(nodes.len()).unwrap_or(u32::MAX);
    let affordable: Vec<&Node> =
        eligible.iter().copied().filter(|n| n.price.is_some_and(|p| p <= max_price_month)).collect();
    if affordable.is_empty() {
        let cheapest = eligible.iter().filter_map(|n| n.price).min().unwrap_or(Amount::ZERO);
        return vec![Shortfall::AllAboveMaxPrice { eligible: count(&eligible), max_price_month, cheapest }];
    }
    let free: u64 = affordable.iter().map(|n| u64::from(n.free_slices())).sum();
    if free < u64::from(n_slices) {
        return vec![Shortfall::FreeSlicesShort {
            eligible: count(&affordable),
            max_price_month,
            free,
            requested: n_slices,
        }];
    }
    Vec::new()
}
