//! `tfeco mint`: minting reports, vesting and node uptime as the node sees them (spec `decisions.md` §11):
//!
//! - `report --period K`: one period's report: a receipts table (node, uptime ‰, violations, reward), the
//!   total, the hash, the guardian signatures `k/n`, minted or pending, and a note when the report was
//!   scaled down to stay under the 1,000,000,000 TFT cap;
//! - `reports`: every report, one line each, and the next period to close;
//! - `vesting [--owner KEY]`: the vesting records of the nodes of a key's farms (total, released, locked,
//!   vested and releasable now);
//! - `uptime --id N`: a node's report key and the running uptime of its open period(s).
//!
//! Read-only: only the node's URL is needed (`--node URL` or `TFECO_NODE`). Every command has `--json`
//! (the node's JSON as is). A refusal exits 3 with its stable code, an unreachable node 4.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::Value;
use tfeco_core::AccountKey;
use tfeco_wallet::Client;

use crate::wallet::report_error;

/// Arguments of `tfeco mint`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Node URL.
    #[arg(long, env = "TFECO_NODE", default_value = "http://127.0.0.1:8080", global = true)]
    node: String,
    /// Print the node's JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: MintCommand,
}

#[derive(Subcommand)]
enum MintCommand {
    /// One period's minting report: receipts, total, hash, signatures, minted or pending.
    Report {
        /// The v3 minting period.
        #[arg(long)]
        period: u32,
    },
    /// Every minting report, one line each.
    Reports,
    /// Vesting of minted rewards for the nodes of a key's farms (all nodes without --owner).
    Vesting {
        /// The farm owner's account key.
        #[arg(long)]
        owner: Option<AccountKey>,
    },
    /// A node's uptime in its open minting period(s).
    Uptime {
        /// The node id.
        #[arg(long)]
        id: u32,
    },
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// The human form of `GET /v1/mint/reports/{period}`.
pub(crate) fn render_report(report: &Value) -> String {
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
fn render_reports(list: &Value) -> String {
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
fn render_vesting(view: &Value) -> String {
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
fn render_uptime(view: &Value) -> String {
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

/// Runs `tfeco mint`.
pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.node);
    let (path, render): (String, fn(&Value) -> String) = match args.command {
        MintCommand::Report { period } => (format!("/v1/mint/reports/{period}"), render_report),
        MintCommand::Reports => ("/v1/mint/reports".to_owned(), render_reports),
        MintCommand::Vesting { owner } => {
            let path = match owner {
                Some(owner) => format!("/v1/vesting?owner={owner}"),
                None => "/v1/vesting".to_owned(),
            };
            (path, render_vesting)
        }
        MintCommand::Uptime { id } => (format!("/v1/nodes/{id}/uptime"), render_uptime),
    };
    Ok(match client.get(&path).await {
        Ok(value) => {
            if args.json {
                println!("{value}");
            } else {
                println!("{}", render(&value));
            }
            ExitCode::SUCCESS
        }
        Err(error) => report_error(args.json, &error),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_scaled_pending_report_renders_its_table_and_notes() {
        let report = json!({
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
        let text = render_report(&report);
        assert!(text.contains("clock_skew (3)"), "{text}");
        assert!(text.contains("16.3944723"), "{text}");
        assert!(text.contains("total      100 TFT"), "{text}");
        assert!(text.contains("signatures 5/6, pending: 1 more"), "{text}");
        assert!(text.contains("unscaled total 1723.125 TFT"), "{text}");
        let minted =
            json!({ "receipts": [], "total": "0", "signatures": 6, "threshold": 6, "minted_at": 77 });
        let text = render_report(&minted);
        assert!(text.contains("signatures 6/6, minted at 77") && !text.contains("note:"), "{text}");
    }
}
