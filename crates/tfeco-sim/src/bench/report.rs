//! The human form of the bench reports: the foundation table (figures per second against their targets, then
//! latency, CPU and machine lines) and the market suite's table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// The foundation figures in table order.
const FOUNDATION_ORDER: [&str; 6] = [
    "core_transfers_per_s",
    "journal_cmds_per_s_batch_1",
    "journal_cmds_per_s_batch_100",
    "journal_cmds_per_s_batch_1000",
    "replay_entries_per_s",
    "http_signed_requests_per_s",
];

fn header(out: &mut String, title: &str, report: &Value) {
    let quick = if report["quick"] == true { ", quick" } else { "" };
    let _ = writeln!(out, "{title} ({} build{quick})", report["build"].as_str().unwrap_or("?"));
    if report["build"] == "debug" {
        out.push_str("  WARNING: debug build, figures are not meaningful (use --release)\n");
    }
}

/// The foundation report as a table (lines ending with a newline).
pub fn foundation_table(report: &Value, figures: &BTreeMap<&str, u64>) -> String {
    let mut out = String::new();
    header(&mut out, "tfeco bench", report);
    let _ = writeln!(out, "  {:<34} {:>12}  {:>10}", "figure", "per second", "target");
    for name in FOUNDATION_ORDER {
        let target = &report["targets"][name];
        let target_text = match target["target"].as_u64() {
            Some(t) => format!("{t} {}", if target["met"] == true { "ok" } else { "MISS" }),
            None => String::new(),
        };
        let figure = figures.get(name).copied().unwrap_or(0);
        let _ = writeln!(out, "  {name:<34} {figure:>12}  {target_text:>10}");
    }
    http_lines(&mut out, report);
    let _ = writeln!(out, "  replay µs per entry: {}", report["replay_us_per_entry"]);
    let _ = writeln!(
        out,
        "  per CPU-second of the timing thread: core {} transfers, replay {} entries; journal CPU µs per entry {}",
        report["core_transfers_per_cpu_s"], report["replay_entries_per_cpu_s"], report["journal_cpu_us_per_entry"]
    );
    let _ = writeln!(
        out,
        "  CPU share of the single-threaded timings (below ~0.95: the core was shared): {}",
        report["cpu_share"]
    );
    let _ = writeln!(
        out,
        "  micro: ed25519 verify {} µs, sign {} µs, request JSON decode {} µs; journal commit (batch 1) {} ms",
        report["ed25519_verify_us"],
        report["ed25519_sign_us"],
        report["request_json_decode_us"],
        report["journal_commit_ms_batch_1"]
    );
    let _ = writeln!(out, "  machine: {}", report["machine"]);
    let _ = writeln!(out, "  workload: {}", report["workload"]);
    let _ = writeln!(out, "  total wall time: {} s", report["total_wall_s"]);
    out
}

fn http_lines(out: &mut String, report: &Value) {
    let _ = writeln!(
        out,
        "  http latency: p50 {} ms, p99 {} ms, max {} ms; accepted {}, errors {}{}",
        report["http_latency_ms_p50"],
        report["http_latency_ms_p99"],
        report["http_latency_ms_max"],
        report["http_accepted"],
        report["http_errors"],
        if report["http_errors"] == 0 { "" } else { "  (NOT ALL REQUESTS ACCEPTED)" }
    );
    if report["http_error_codes"].as_object().is_some_and(|m| !m.is_empty()) {
        let _ = writeln!(out, "  http error codes: {}", report["http_error_codes"]);
    }
    if report["http_journal_seq_ok"] != true {
        out.push_str("  WARNING: the server's journal does not hold exactly the accepted requests\n");
    }
    let _ = writeln!(out, "  http CPU µs per request by thread: {}", report["http_cpu_us_per_request"]);
    let _ = writeln!(
        out,
        "  http cores used {}, writer thread busy fraction {}, server CPU-bound estimate {} requests/s",
        report["http_cpu_cores_used"],
        report["http_writer_busy_fraction"],
        report["http_server_cpu_bound_estimate_per_s"]
    );
    let _ = writeln!(
        out,
        "  http group commits {} ({} requests per commit, one every {} ms)",
        report["http_group_commits"], report["http_requests_per_commit"], report["http_commit_cycle_ms"]
    );
}

/// The market suite's report (`{build, quick, market, machine, total_wall_s}`) as a table.
pub fn market_report_text(report: &Value) -> String {
    let mut out = String::new();
    header(&mut out, "tfeco bench --suite market", report);
    out.push_str(&super::market::market_table(&report["market"]));
    let _ = writeln!(out, "  machine: {}", report["machine"]);
    let _ = writeln!(out, "  total wall time: {} s", report["total_wall_s"]);
    out
}
