//! Minting for people: one period's report (receipts, total, hash, signatures, the cap note), every report,
//! vesting records and a node's uptime (from the node's JSON views).

use std::fmt::Write as _;

use serde_json::Value;

use super::text;

/// The human form of `GET /v1/mint/reports/{period}`.
pub(crate) fn report(report: &Value) -> String {
    let mut out = String::new();
    let receipts = report["receipts"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(
        out,
        "minting report, period {} ({} .. {}), rule set {}, {} node(s)",
        text(&report["period"]),
        text(&report["period_start"]),
        text(&report["period_end"]),
        text(&report["rule_set"]),
        receipts.len()
    );
    let scaled = report["scaled_to_cap"].as_bool().unwrap_or(false);
    let _ = writeln!(
        out,
        "  {:>6}  {:>5}  {:>8}  {:<24}  {:>20}{}",
        "node",
        "farm",
        "uptime ‰",
        "violations",
        "reward TFT",
        if scaled { "      unscaled TFT" } else { "" }
    );
    for r in &receipts {
        let violations = match r["violations"].as_u64().unwrap_or(0) {
            0 => "-".to_owned(),
            n => format!("{} ({n})", r["violation"].as_str().unwrap_or("?")),
        };
        let _ = write!(
            out,
            "  {:>6}  {:>5}  {:>8}  {:<24}  {:>20}",
            text(&r["node_id"]),
            text(&r["farm_id"]),
            text(&r["uptime_permill"]),
            violations,
            text(&r["reward"])
        );
        if scaled {
            let _ = write!(out, "  {:>16}", text(&r["reward_unscaled"]));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "total      {} TFT", text(&report["total"]));
    let _ = writeln!(out, "hash       {} (blake3 of the canonical JSON)", text(&report["hash"]));
    let signatures = report["signatures"].as_u64().unwrap_or(0);
    let threshold = report["threshold"].as_u64().unwrap_or(0);
    let status = match report["minted_at"].as_i64() {
        Some(at) => format!("minted at {at}"),
        None => {
            format!("pending: {} more guardian signature(s) needed", threshold.saturating_sub(signatures))
        }
    };
    let _ = writeln!(out, "signatures {signatures}/{threshold}, {status}");
    if scaled {
        let _ = writeln!(
            out,
            "note: scaled down pro rata so the global TFT supply stays under the 1,000,000,000 TFT cap \
             (unscaled total {} TFT)",
            text(&report["unscaled_total"])
        );
    }
    out.trim_end().to_owned()
}

/// The human form of `GET /v1/mint/reports`.
pub(crate) fn reports(list: &Value) -> String {
    let mut out = String::new();
    let reports = list["reports"].as_array().cloned().unwrap_or_default();
    if reports.is_empty() {
        out.push_str("no minting report yet\n");
    }
    for r in &reports {
        let _ = writeln!(
            out,
            "period {:>5}  {:>5} node(s)  total {:>20} TFT  signatures {}/{}  {}{}  hash {}",
            text(&r["period"]),
            text(&r["nodes"]),
            text(&r["total"]),
            text(&r["signatures"]),
            text(&r["threshold"]),
            text(&r["status"]),
            if r["scaled_to_cap"].as_bool().unwrap_or(false) { " (scaled to cap)" } else { "" },
            text(&r["hash"])
        );
    }
    let _ = write!(
        out,
        "next period to close: {} (at {}); minting {}; global supply {} / {} TFT",
        text(&list["next_period"]),
        text(&list["next_close_at"]),
        if list["minting_enabled"].as_bool().unwrap_or(false) { "on" } else { "off" },
        text(&list["tft_global_supply"]),
        text(&list["tft_supply_cap"])
    );
    out
}

/// The human form of `GET /v1/vesting`.
pub(crate) fn vesting(view: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "vesting rule {} at {}", text(&view["rule"]), text(&view["now"]));
    let _ = writeln!(
        out,
        "  {:>6}  {:>18}  {:>18}  {:>18}  {:>18}  {:>12}",
        "node", "total", "released", "locked", "releasable", "start"
    );
    for r in view["records"].as_array().cloned().unwrap_or_default() {
        let _ = writeln!(
            out,
            "  {:>6}  {:>18}  {:>18}  {:>18}  {:>18}  {:>12}",
            text(&r["node_id"]),
            text(&r["total"]),
            text(&r["released"]),
            text(&r["locked"]),
            text(&r["releasable"]),
            text(&r["start"])
        );
    }
    let t = &view["totals"];
    let _ = write!(
        out,
        "total {} TFT: {} released, {} locked, {} vested, {} releasable now",
        text(&t["total"]),
        text(&t["released"]),
        text(&t["locked"]),
        text(&t["vested"]),
        text(&t["releasable"])
    );
    out
}

/// The human form of `GET /v1/nodes/{id}/uptime`.
pub(crate) fn uptime(view: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "node {} (farm {}), report key {}, first report {}",
        text(&view["node_id"]),
        text(&view["farm_id"]),
        text(&view["report_key"]),
        text(&view["first_report_at"])
    );
    for p in view["periods"].as_array().cloned().unwrap_or_default() {
        let _ = writeln!(
            out,
            "  period {}: {} s credited ({} ‰ so far), {} report(s), violations {}{}",
            text(&p["period"]),
            text(&p["credited_s"]),
            text(&p["uptime_permill"]),
            text(&p["reports"]),
            text(&p["violations"]),
            p["violation"].as_str().map(|v| format!(" (first: {v})")).unwrap_or_default()
        );
    }
    let _ = write!(out, "next period to close: {}", text(&view["next_period_to_close"]));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_scaled_pending_report_renders_its_table_and_notes() {
        let view = json!({
            "period": 91, "period_start": 1, "period_end": 2, "rule_set": "v3", "scaled_to_cap": true,
            "receipts": [
                { "node_id": 1, "farm_id": 1, "uptime_permill": 1000, "violations": 0, "violation": null,
                  "reward": "16.3944723", "reward_unscaled": "282.5" },
                { "node_id": 2, "farm_id": 1, "uptime_permill": 999, "violations": 3, "violation": "clock_skew",
                  "reward": "0", "reward_unscaled": "0" },
            ],
            "total": "100", "unscaled_total": "1723.125", "hash": "ab", "signatures": 5, "threshold": 6,
            "minted_at": null,
        });
        let text = report(&view);
        assert!(text.contains("clock_skew (3)"), "{text}");
        assert!(text.contains("16.3944723"), "{text}");
        assert!(text.contains("total      100 TFT"), "{text}");
        assert!(text.contains("signatures 5/6, pending: 1 more"), "{text}");
        assert!(text.contains("unscaled total 1723.125 TFT"), "{text}");
        let minted =
            json!({ "receipts": [], "total": "0", "signatures": 6, "threshold": 6, "minted_at": 77 });
        let text = report(&minted);
        assert!(text.contains("signatures 6/6, minted at 77") && !text.contains("note:"), "{text}");
    }
}
