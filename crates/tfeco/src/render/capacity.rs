//! The capacity market for people: search results, the reasons capacity cannot be had, standing bids and
//! capacity requests (from the node's JSON views).

use std::fmt::Write as _;

use serde_json::Value;
use tfeco_core::Requirements;

use super::{list, short_key, text};
use crate::args::BillingArg;
use crate::filter::requirements_text;

/// The requirements of a bid or request view, as filter expressions.
fn requirements_of(view: &Value) -> String {
    serde_json::from_value::<Requirements>(view["requirements"].clone())
        .map_or_else(|_| view["requirements"].to_string(), |r| requirements_text(&r))
}

fn periods_text(periods: &Value) -> String {
    periods.as_u64().map_or_else(|| "until cancelled".to_owned(), |n| format!("{n} month(s)"))
}

pub(crate) fn search(value: &Value, billing: BillingArg) -> String {
    let mut out = String::new();
    let results = list(&value["results"]);
    if !results.is_empty() {
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:>5} {:>11} {:>10} {:>10}",
            "node", "model", "farm", "free slices", "CC/month", "CC/hour"
        );
    }
    for hit in results {
        let mut model = hit["model"].as_str().unwrap_or("custom").to_owned();
        if hit["certified"] == Value::Bool(true) {
            model.push_str(" (certified)");
        }
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:>5} {:>11} {:>10} {:>10}",
            text(&hit["node_id"]),
            model,
            text(&hit["farm_id"]),
            text(&hit["free_slices"]),
            text(&hit["price_month"]),
            text(&hit["price_hour"]),
        );
    }
    let order = match billing {
        BillingArg::Monthly => "cheapest first",
        BillingArg::Hourly => "cheapest hourly price first",
    };
    match results.len() {
        0 => out.push_str("no listed node matches.\n"),
        n => {
            let _ = writeln!(out, "{n} node(s), {order}; prices per slice.");
        }
    }
    out
}

pub(crate) fn reasons(explain: &Value) -> String {
    let reasons = list(&explain["reasons"]);
    if reasons.is_empty() {
        return "  enough listed capacity exists (tfeco capacity search lists it).\n".to_owned();
    }
    let mut out = String::from("  why not:\n");
    for reason in reasons {
        let _ = writeln!(out, "  - {}", text(reason));
    }
    out
}

pub(crate) fn standing_bids(value: &Value) -> String {
    let bids = list(&value["standing_bids"]);
    if bids.is_empty() {
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
    for b in bids {
        out.push_str(&line([
            &text(&b["id"]),
            &text(&b["name"]),
            &text(&b["price_month"]),
            &format!("{}/{}", text(&b["filled"]), text(&b["quantity"])),
            &text(&b["escrow"]),
            &periods_text(&b["periods"]),
            &short_key(&b["buyer"]),
            &requirements_of(b),
        ]));
    }
    out
}

pub(crate) fn requests(value: &Value) -> String {
    let requests = list(&value["requests"]);
    if requests.is_empty() {
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
    for r in requests {
        let filled = r["outcome"]["filled"].as_u64().map_or_else(|| "-".to_owned(), |n| n.to_string());
        out.push_str(&line([
            &text(&r["id"]),
            &text(&r["status"]),
            &text(&r["n_slices"]),
            &text(&r["max_price_month"]),
            &list(&r["offers"]).len().to_string(),
            &text(&r["closes_at"]),
            &filled,
            &requirements_of(r),
        ]));
    }
    out.push_str("`tfeco capacity request show --id ID` shows offers, outcome and reasons.\n");
    out
}

pub(crate) fn request(r: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "capacity request {} ({})", text(&r["id"]), text(&r["status"]));
    let _ = writeln!(out, "  requester     {}", text(&r["requester"]));
    let _ = writeln!(
        out,
        "  wants         {} slice(s) of {} at <= {} CC per slice-month, {}",
        text(&r["n_slices"]),
        requirements_of(r),
        text(&r["max_price_month"]),
        periods_text(&r["periods"]),
    );
    let _ = writeln!(out, "  window        closes at {} (unix seconds)", text(&r["closes_at"]));
    let _ = writeln!(out, "  escrow        {} CC", text(&r["escrow"]));
    let offers = list(&r["offers"]);
    if offers.is_empty() {
        out.push_str("  offers        none\n");
    } else {
        out.push_str("  offers        (cheapest first)\n");
        for o in offers {
            let _ = writeln!(
                out,
                "    node {:>6} at {} CC per slice-month",
                text(&o["node_id"]),
                text(&o["price_month"])
            );
        }
    }
    let outcome = &r["outcome"];
    if outcome.is_null() {
        return out;
    }
    let leases: Vec<String> = list(&outcome["leases"]).iter().map(text).collect();
    let _ = writeln!(
        out,
        "  outcome       {} of {} slice(s) leased at {}; leases {}; {} CC refunded",
        text(&outcome["filled"]),
        text(&r["n_slices"]),
        text(&outcome["closed_at"]),
        if leases.is_empty() { "none".to_owned() } else { leases.join(", ") },
        text(&outcome["refunded"]),
    );
    let reasons = list(&outcome["reasons"]);
    if !reasons.is_empty() {
        out.push_str("  why fewer slices than asked:\n");
        for reason in reasons {
            let _ = writeln!(out, "  - {}", text(reason));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renderings_read_well() {
        let found = json!({ "count": 1, "results": [{
            "node_id": 7, "farm_id": 2, "model": "Mini 3", "certified": false, "price_month": "1.5",
            "price_hour": "0.0041667", "effective_month": "1.5", "free_slices": 25 }] });
        let text = search(&found, BillingArg::Monthly);
        assert!(
            text.contains("Mini 3")
                && text.contains("0.0041667")
                && text.contains("1 node(s), cheapest first"),
            "{text}"
        );
        let view = json!({
            "id": 3, "status": "closed", "requester": "ab", "n_slices": 4, "max_price_month": "2",
            "periods": null, "closes_at": 100, "escrow": "0",
            "offers": [{ "node_id": 9, "price_month": "1.8" }],
            "requirements": { "min_cores": 0, "min_passmark": 0, "min_mem_gb": 64, "min_ssd_gb": 0,
                "min_ai_mem_gb": 0, "min_ai_tps": 0, "certified_only": false, "farm_id": null },
            "outcome": { "closed_at": 100, "filled": 0, "leases": [], "refunded": "8",
                "reasons": ["no node has >= 64 GB memory per slice"] } });
        let text = request(&view);
        assert!(
            text.contains("4 slice(s) of mem_gb>=64 at <= 2 CC per slice-month, until cancelled"),
            "{text}"
        );
        assert!(text.contains("0 of 4 slice(s) leased") && text.contains("8 CC refunded"), "{text}");
        assert!(text.contains("  - no node has >= 64 GB memory per slice"), "{text}");
        assert!(reasons(&json!({ "reasons": [] })).contains("tfeco capacity search"));
    }
}
