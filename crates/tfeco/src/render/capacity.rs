//! The capacity market for people: search results, the reasons capacity cannot be had, standing bids and
//! capacity requests (from the node's JSON views).

use std::fmt::Write as _;

use tfeco_wallet::api::capacity::{
    CapacityRequestView, CapacityRequestsView, ExplainView, SearchView, ShortfallView, StandingBidsView,
};

use super::{opt, short_key, wire_name};
use crate::args::BillingArg;
use crate::filter::requirements_text;

fn periods_text(periods: Option<u32>) -> String {
    periods.map_or_else(|| "until cancelled".to_owned(), |n| format!("{n} month(s)"))
}

pub(crate) fn search(view: &SearchView, billing: BillingArg) -> String {
    let mut out = String::new();
    if !view.results.is_empty() {
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:>5} {:>11} {:>10} {:>10}",
            "node", "model", "farm", "free slices", "CC/month", "CC/hour"
        );
    }
    for hit in &view.results {
        let mut model = hit.model.clone().unwrap_or_else(|| "custom".to_owned());
        if hit.certified {
            model.push_str(" (certified)");
        }
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:>5} {:>11} {:>10} {:>10}",
            hit.node_id.to_string(),
            model,
            hit.farm_id.to_string(),
            hit.free_slices,
            hit.price_month.to_string(),
            hit.price_hour.to_string(),
        );
    }
    let order = match billing {
        BillingArg::Monthly => "cheapest first",
        BillingArg::Hourly => "cheapest hourly price first",
    };
    match view.results.len() {
        0 => out.push_str("no listed node matches.\n"),
        n => {
            let _ = writeln!(out, "{n} node(s), {order}; prices per slice.");
        }
    }
    out
}

fn reason_lines(out: &mut String, reasons: &[ShortfallView]) {
    for reason in reasons {
        let _ = writeln!(out, "  - {}", reason.message);
    }
}

pub(crate) fn reasons(explain: &ExplainView) -> String {
    if explain.reasons.is_empty() {
        return "  enough listed capacity exists (tfeco capacity search lists it).\n".to_owned();
    }
    let mut out = String::from("  why not:\n");
    reason_lines(&mut out, &explain.reasons);
    out
}

pub(crate) fn standing_bids(view: &StandingBidsView) -> String {
    if view.standing_bids.is_empty() {
        return "no standing bids.\n".to_owned();
    }
    let mut out = String::new();
    let line = |cells: [&str; 8]| {
        let [id, name, price, filled, escrow, periods, buyer, reqs] = cells;
        format!(
            "{id:>4}  {name:<20} {price:>8} {filled:>15} {escrow:>12}  {periods:<16} {buyer:<10} {reqs}\n"
        )
    };
    out.push_str(&line([
        "bid",
        "name",
        "CC/month",
        "filled/quantity",
        "escrow CC",
        "periods",
        "buyer",
        "requirements",
    ]));
    for b in &view.standing_bids {
        out.push_str(&line([
            &b.id.to_string(),
            &b.name,
            &b.price_month.to_string(),
            &format!("{}/{}", b.filled, b.quantity),
            &b.escrow.to_string(),
            &periods_text(b.periods),
            &short_key(&b.buyer),
            &requirements_text(&b.requirements),
        ]));
    }
    out
}

pub(crate) fn requests(view: &CapacityRequestsView) -> String {
    if view.requests.is_empty() {
        return "no capacity requests.\n".to_owned();
    }
    let mut out = String::new();
    let line = |cells: [&str; 8]| {
        let [id, status, slices, max, offers, closes, filled, reqs] = cells;
        format!("{id:>4}  {status:<8} {slices:>6} {max:>10} {offers:>6} {closes:>11} {filled:>6}  {reqs}\n")
    };
    out.push_str(&line([
        "req",
        "status",
        "slices",
        "max CC",
        "offers",
        "closes at",
        "filled",
        "requirements",
    ]));
    for r in &view.requests {
        out.push_str(&line([
            &r.id.to_string(),
            &wire_name(&r.status),
            &r.n_slices.to_string(),
            &r.max_price_month.to_string(),
            &r.offers.len().to_string(),
            &r.closes_at.to_string(),
            &opt(r.outcome.as_ref().map(|o| o.filled)),
            &requirements_text(&r.requirements),
        ]));
    }
    out.push_str("`tfeco capacity request show --id ID` shows offers, outcome and reasons.\n");
    out
}

pub(crate) fn request(r: &CapacityRequestView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "capacity request {} ({})", r.id, wire_name(&r.status));
    let _ = writeln!(out, "  requester     {}", r.requester);
    let _ = writeln!(
        out,
        "  wants         {} slice(s) of {} at <= {} CC per slice-month, {}",
        r.n_slices,
        requirements_text(&r.requirements),
        r.max_price_month,
        periods_text(r.periods),
    );
    let _ = writeln!(out, "  window        closes at {} (unix seconds)", r.closes_at);
    let _ = writeln!(out, "  escrow        {} CC", r.escrow);
    if r.offers.is_empty() {
        out.push_str("  offers        none\n");
    } else {
        out.push_str("  offers        (cheapest first)\n");
        for o in &r.offers {
            let _ = writeln!(
                out,
                "    node {:>6} at {} CC per slice-month",
                o.node_id.to_string(),
                o.price_month
            );
        }
    }
    let Some(outcome) = &r.outcome else { return out };
    let leases: Vec<String> = outcome.leases.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        out,
        "  outcome       {} of {} slice(s) leased at {}; leases {}; {} CC refunded",
        outcome.filled,
        r.n_slices,
        outcome.closed_at,
        if leases.is_empty() { "none".to_owned() } else { leases.join(", ") },
        outcome.refunded,
    );
    if !outcome.reasons.is_empty() {
        out.push_str("  why fewer slices than asked:\n");
        reason_lines(&mut out, &outcome.reasons);
    }
    out
}

#[cfg(test)]
mod tests {
    use tfeco_core::{AccountKey, CapacityRequestId, FarmId, NodeId, Requirements, Shortfall, Unmet};
    use tfeco_wallet::api::capacity::{
        CapacityOfferView, CapacityRequestStatus, RequestOutcomeView, SearchHitView,
    };

    use super::*;

    #[test]
    fn renderings_read_well() {
        let cc = |s: &str| s.parse().unwrap();
        let hit = SearchHitView {
            node_id: NodeId(7),
            farm_id: FarmId(2),
            model: Some("Mini 3".to_owned()),
            certified: false,
            price_month: cc("1.5"),
            price_hour: cc("0.0041667"),
            effective_month: cc("1.5"),
            free_slices: 25,
        };
        let text = search(&SearchView { results: vec![hit], count: 1 }, BillingArg::Monthly);
        assert!(
            text.contains("Mini 3")
                && text.contains("0.0041667")
                && text.contains("1 node(s), cheapest first"),
            "{text}"
        );
        let reason = Shortfall::Unmet { unmet: Unmet::Memory, required: 64 };
        let view = CapacityRequestView {
            id: CapacityRequestId(3),
            requester: AccountKey([0xab; 32]),
            requirements: Requirements { min_mem_gb: 64, ..Requirements::default() },
            n_slices: 4,
            max_price_month: cc("2"),
            periods: None,
            closes_at: 100,
            escrow: cc("0"),
            offers: vec![CapacityOfferView { node_id: NodeId(9), price_month: cc("1.8") }],
            outcome: Some(RequestOutcomeView {
                closed_at: 100,
                filled: 0,
                leases: vec![],
                refunded: cc("8"),
                reasons: vec![ShortfallView::from(&reason)],
            }),
            status: CapacityRequestStatus::Closed,
        };
        let text = request(&view);
        assert!(text.starts_with("capacity request 3 (closed)"), "{text}");
        assert!(
            text.contains("4 slice(s) of mem_gb>=64 at <= 2 CC per slice-month, until cancelled"),
            "{text}"
        );
        assert!(text.contains("0 of 4 slice(s) leased") && text.contains("8 CC refunded"), "{text}");
        assert!(text.contains(&format!("  - {reason}")), "{text}");
        let none = ExplainView { reasons: vec![], satisfiable: true, n_slices: 1, max_price: None };
        assert!(reasons(&none).contains("tfeco capacity search"));
    }
}
