//! Minting for people: one period's report (receipts, total, hash, signatures, the cap note), every report,
//! vesting records and a node's uptime (from the node's JSON views).

use std::fmt::Write as _;

use tfeco_wallet::api::rewards::{
    MintReceiptView, MintReportDetail, MintReportsView, UptimeView, VestingView,
};

use super::{opt, wire_name};

fn receipt_line(out: &mut String, r: &MintReceiptView, scaled: bool) {
    let violations = match r.violations {
        0 => "-".to_owned(),
        n => format!("{} ({n})", r.violation.as_deref().unwrap_or("?")),
    };
    let _ = write!(
        out,
        "  {:>6}  {:>5}  {:>8}  {:<24}  {:>20}",
        r.node_id.to_string(),
        r.farm_id.to_string(),
        r.uptime_permill.to_string(),
        violations,
        r.reward.to_string()
    );
    if scaled {
        let _ = write!(out, "  {:>16}", r.reward_unscaled.to_string());
    }
    out.push('\n');
}

/// The human form of `GET /v1/mint/reports/{period}`.
pub(crate) fn report(report: &MintReportDetail) -> String {
    let mut out = String::new();
    let summary = &report.summary;
    let _ = writeln!(
        out,
        "minting report, period {} ({} .. {}), rule set {}, {} node(s)",
        summary.period,
        summary.period_start,
        summary.period_end,
        summary.rule_set,
        report.receipts.len()
    );
    let scaled = summary.scaled_to_cap;
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
    for r in &report.receipts {
        receipt_line(&mut out, r, scaled);
    }
    let _ = writeln!(out, "total      {} TFT", summary.total);
    let _ = writeln!(out, "hash       {} (blake3 of the canonical JSON)", summary.hash);
    let (signatures, threshold) = (summary.signatures, summary.threshold);
    let status = match summary.minted_at {
        Some(at) => format!("minted at {at}"),
        None => {
            let missing = (threshold as usize).saturating_sub(signatures);
            format!("pending: {missing} more guardian signature(s) needed")
        }
    };
    let _ = writeln!(out, "signatures {signatures}/{threshold}, {status}");
    if scaled {
        let _ = writeln!(
            out,
            "note: scaled down pro rata so the global TFT supply stays under the 1,000,000,000 TFT cap \
             (unscaled total {} TFT)",
            report.unscaled_total
        );
    }
    out.trim_end().to_owned()
}

/// The human form of `GET /v1/mint/reports`.
pub(crate) fn reports(list: &MintReportsView) -> String {
    let mut out = String::new();
    if list.reports.is_empty() {
        out.push_str("no minting report yet\n");
    }
    for r in &list.reports {
        let _ = writeln!(
            out,
            "period {:>5}  {:>5} node(s)  total {:>20} TFT  signatures {}/{}  {}{}  hash {}",
            r.period.to_string(),
            r.nodes.to_string(),
            r.total.to_string(),
            r.signatures,
            r.threshold,
            wire_name(&r.status),
            if r.scaled_to_cap { " (scaled to cap)" } else { "" },
            r.hash
        );
    }
    let _ = write!(
        out,
        "next period to close: {} (at {}); minting {}; global supply {} / {} TFT",
        opt(list.next_period),
        opt(list.next_close_at),
        if list.minting_enabled { "on" } else { "off" },
        list.tft_global_supply,
        list.tft_supply_cap
    );
    out
}

/// The human form of `GET /v1/vesting`.
pub(crate) fn vesting(view: &VestingView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "vesting rule {} at {}", view.rule, view.now);
    let _ = writeln!(
        out,
        "  {:>6}  {:>18}  {:>18}  {:>18}  {:>18}  {:>12}",
        "node", "total", "released", "locked", "releasable", "start"
    );
    for r in &view.records {
        let _ = writeln!(
            out,
            "  {:>6}  {:>18}  {:>18}  {:>18}  {:>18}  {:>12}",
            r.node_id.to_string(),
            r.total.to_string(),
            r.released.to_string(),
            r.locked.to_string(),
            wire_name(&r.releasable),
            r.start.to_string()
        );
    }
    let t = &view.totals;
    let _ = write!(
        out,
        "total {} TFT: {} released, {} locked, {} vested, {} releasable now",
        t.total, t.released, t.locked, t.vested, t.releasable
    );
    out
}

/// The human form of `GET /v1/nodes/{id}/uptime`.
pub(crate) fn uptime(view: &UptimeView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "node {} (farm {}), report key {}, first report {}",
        view.node_id,
        view.farm_id,
        opt(view.report_key),
        opt(view.first_report_at)
    );
    for p in &view.periods {
        let _ = writeln!(
            out,
            "  period {}: {} s credited ({} ‰ so far), {} report(s), violations {}{}",
            p.period,
            p.credited_s,
            p.uptime_permill,
            p.reports,
            p.violations,
            p.violation.as_ref().map(|v| format!(" (first: {v})")).unwrap_or_default()
        );
    }
    let _ = write!(out, "next period to close: {}", opt(view.next_period_to_close));
    out
}

#[cfg(test)]
mod tests {
    use tfeco_core::{FarmId, NodeId, Resources};
    use tfeco_wallet::api::rewards::{MintReportSummary, MintStatus};

    use super::*;

    fn receipt(
        node: u32,
        violations: u32,
        violation: Option<&str>,
        reward: &str,
        unscaled: &str,
    ) -> MintReceiptView {
        MintReceiptView {
            node_id: NodeId(node),
            farm_id: FarmId(1),
            period: 91,
            resources: Resources::default(),
            certified: false,
            credited_s: 0,
            uptime_permill: 1000,
            violations,
            violation: violation.map(str::to_owned),
            reward_unscaled: unscaled.parse().unwrap(),
            reward: reward.parse().unwrap(),
        }
    }

    fn detail(
        receipts: Vec<MintReceiptView>,
        total: &str,
        signatures: usize,
        minted_at: Option<i64>,
    ) -> MintReportDetail {
        MintReportDetail {
            summary: MintReportSummary {
                period: 91,
                period_start: 1,
                period_end: 2,
                rule_set: "v3".to_owned(),
                nodes: receipts.len(),
                total: total.parse().unwrap(),
                hash: "ab".to_owned(),
                signatures,
                threshold: 6,
                signers: vec![],
                status: if minted_at.is_some() { MintStatus::Minted } else { MintStatus::Pending },
                minted_at,
                scaled_to_cap: minted_at.is_none(),
            },
            receipts,
            unscaled_total: "1723.125".parse().unwrap(),
            canonical_json: "[]".to_owned(),
        }
    }

    #[test]
    fn a_scaled_pending_report_renders_its_table_and_notes() {
        let receipts =
            vec![receipt(1, 0, None, "16.3944723", "282.5"), receipt(2, 3, Some("clock_skew"), "0", "0")];
        let text = report(&detail(receipts, "100", 5, None));
        assert!(text.contains("clock_skew (3)"), "{text}");
        assert!(text.contains("16.3944723"), "{text}");
        assert!(text.contains("total      100 TFT"), "{text}");
        assert!(text.contains("signatures 5/6, pending: 1 more"), "{text}");
        assert!(text.contains("unscaled total 1723.125 TFT"), "{text}");
        let text = report(&detail(vec![], "0", 6, Some(77)));
        assert!(text.contains("signatures 6/6, minted at 77") && !text.contains("note:"), "{text}");
    }
}
