//! Minting at scale: nodes with node keys, ~1,096 uptime reports each (one every 40 minutes over the period)
//! sent as `ReportUptime` batches of 1,000 (ingestion timed), then the `Tick` that closes the period
//! (receipts, canonical JSON, blake3). The node count is scaled down when the ingestion would exceed
//! [`MINTING_BUDGET_S`]. Peak memory is the process's `VmHWM`, reset before the state is built when the
//! kernel allows it.

use serde_json::{json, Value};
use tfeco_core::rules::minting::{period_end, period_of, period_start};
use tfeco_core::UptimeSample;
use tfeco_core::{Command, Event, NodeId};

use super::bed::{custom_spec, farmer_of, find_event, Bed};
use crate::bench::measure::{peak_mib, reset_peak, round3, round_rate, Span};
use crate::bench::workload::GENESIS_TIME;
use crate::error::check;
use crate::keys::synthetic_account;
use crate::{Result, SimError};

/// Budget for the uptime ingestion before the workload is scaled down, seconds.
pub(super) const MINTING_BUDGET_S: f64 = 100.0;
/// Samples per `ReportUptime` (the parameter's limit).
const BATCH: usize = 1_000;

/// Node `i`'s own key (role 5).
fn node_key(i: usize) -> tfeco_core::AccountKey {
    synthetic_account(5, i as u64)
}

/// Registers `nodes` nodes and names each one's key; returns the ids and the span of the last 1,000
/// `SetNodeKey`s (its cost would grow with the keyed nodes if it scanned them).
fn keyed_nodes(bed: &mut Bed, nodes: usize) -> Result<(Vec<NodeId>, Span, usize)> {
    let ids = bed.nodes(nodes, custom_spec)?;
    let mut set_key_tail = Span::default();
    let tail_from = nodes.saturating_sub(1_000);
    for (i, node_id) in ids.iter().enumerate() {
        let node_key = node_key(i);
        bed.register(node_key)?;
        let command = Command::SetNodeKey { node_id: *node_id, node_key };
        let (result, span) = Span::measure(|| bed.apply(farmer_of(i), command));
        result?;
        if i >= tail_from {
            set_key_tail += span;
        }
    }
    Ok((ids, set_key_tail, nodes - tail_from))
}

/// What the ingestion did.
struct Ingest {
    span: Span,
    reports: usize,
    commands: usize,
    /// Nodes that reported (fewer than requested when scaled down).
    nodes: usize,
}

/// Every node reports every report interval over `start..end` (up since a day before genesis); after the
/// first 1,000 nodes the count is scaled to the budget.
fn ingest(bed: &mut Bed, ids: &[NodeId], (start, end): (i64, i64)) -> Result<Ingest> {
    let interval = bed.params().uptime_rules.report_interval_s;
    let boot = GENESIS_TIME - 86_400;
    let samples_of = |i: usize| -> Vec<UptimeSample> {
        let offset = 1 + (i % 600) as i64;
        (0..)
            .map(|j: i64| start + offset + j * interval)
            .take_while(|at| *at < end - 1)
            .map(|at| UptimeSample { at, uptime_s: (at - boot) as u64 })
            .collect()
    };
    let requested = ids.len();
    let calibrate = 1_000.min(requested);
    let mut run = Ingest { span: Span::default(), reports: 0, commands: 0, nodes: requested };
    for (i, node_id) in ids.iter().enumerate() {
        if i == run.nodes {
            break;
        }
        let samples = samples_of(i);
        for chunk in samples.chunks(BATCH) {
            let command = Command::ReportUptime { node_id: *node_id, reports: chunk.to_vec() };
            let (result, span) = Span::measure(|| bed.apply(node_key(i), command));
            result?;
            run.span += span;
            run.commands += 1;
        }
        run.reports += samples.len();
        if i + 1 == calibrate && calibrate < requested {
            let per_node = run.span.wall.as_secs_f64() / calibrate as f64;
            let fits = (MINTING_BUDGET_S / per_node.max(1e-9)) as usize / 1_000 * 1_000;
            run.nodes = requested.min(fits.max(calibrate));
        }
    }
    Ok(run)
}

pub(super) fn bench_minting(requested: usize) -> Result<Value> {
    let peak_reset = reset_peak();
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|_| {})?;
    let period = period_of(GENESIS_TIME)
        .ok_or_else(|| SimError::Check("the genesis is before the first minting period".to_owned()))?
        + 1;
    let (start, end) = (period_start(period), period_end(period));
    let (ids, set_key_tail, tail) = keyed_nodes(&mut bed, requested)?;
    bed.tick(end - 1)?;
    let setup_s = setup.elapsed().as_secs_f64();
    let ingested = ingest(&mut bed, &ids, (start, end))?;
    let nodes = ingested.nodes;

    let close_at = end + bed.params().mint_close_delay_s;
    let (events, span) = Span::measure(|| bed.tick(close_at));
    let events = events?;
    let receipts = find_event(&events, "MintReportClosed", |e| match e {
        Event::MintReportClosed { nodes, .. } => Some(*nodes as usize),
        _ => None,
    })?;
    let peak = peak_mib();
    check!(receipts == nodes, "the minting report has {receipts} receipts for {nodes} reporting nodes");
    let report_bytes = bed
        .report_json_bytes(period)
        .ok_or_else(|| SimError::Check("no minting report stored".to_owned()))?;
    let uptime_reports_per_s = ingested.reports as f64 / ingested.span.wall.as_secs_f64().max(1e-9);
    Ok(json!({
        "minting_close_100k_nodes_ms": span.ms(),
        "minting_peak_mib": peak,
        "minting_peak_reset_before_phase": peak_reset,
        "minting_nodes": nodes,
        "minting_nodes_requested": requested,
        "minting_scaled_down": nodes < requested,
        "minting_receipts": receipts,
        "minting_report_json_bytes": report_bytes,
        "minting_close_cpu_share": span.cpu_share(),
        "uptime_reports_per_s": round_rate(uptime_reports_per_s),
        "uptime_reports": ingested.reports,
        "uptime_commands": ingested.commands,
        "uptime_reports_per_node": ingested.reports / nodes.max(1),
        "uptime_ingest_s": round3(ingested.span.wall.as_secs_f64()),
        "uptime_ingest_cpu_share": ingested.span.cpu_share(),
        "minting_setup_s": round3(setup_s),
        "set_node_key_us_last_1000": round3(set_key_tail.wall.as_secs_f64() * 1e6 / tail.max(1) as f64),
    }))
}
