//! The market suite: the exit auction, capacity requests, minting and the exchange at scale, on states built
//! by applying commands straight to the core ([`crate::driver::CoreDriver`]; synthetic account keys, the
//! operator as the only guardian). Only the named step is timed (one run per figure; the capacity search is
//! the median of 20); setup is untimed and reported as `*_setup_s`.

mod bed;
mod capacity;
mod exchange;
mod exit;
mod minting;

use std::fmt::Write as _;
use std::time::Instant;

use serde_json::{json, Value};

use super::measure::{build_kind, load_average, machine, round3};
use crate::{Result, SimError};

/// 0.01 USD per TFT, the reference price of every workload (10^-18 USD).
const TFT_USD_ATTO: u128 = 10_000_000_000_000_000;
/// Base units per whole token (7 decimals).
const UNIT: i128 = 10_000_000;

/// Workload sizes of the market suite.
#[derive(Clone, Copy, Debug)]
pub struct MarketSizes {
    exit_clear_bids: usize,
    exit_positions: usize,
    exit_bids: usize,
    capacity_nodes: usize,
    capacity_requests: usize,
    minting_nodes: usize,
    exchange_clear_orders: usize,
    exchange_tick_orders: usize,
}

impl MarketSizes {
    /// The full workloads (100,000-scale states, 1,000,000-order books), or the quick ones; state-bound work
    /// is tiny in debug builds, where every apply re-checks every invariant.
    pub fn new(quick: bool) -> Self {
        let mut sizes = if quick {
            MarketSizes {
                exit_clear_bids: 200_000,
                exit_positions: 20_000,
                exit_bids: 1_000,
                capacity_nodes: 10_000,
                capacity_requests: 10_000,
                minting_nodes: 5_000,
                exchange_clear_orders: 200_000,
                exchange_tick_orders: 20_000,
            }
        } else {
            MarketSizes {
                exit_clear_bids: 1_000_000,
                exit_positions: 100_000,
                exit_bids: 1_000,
                capacity_nodes: 100_000,
                capacity_requests: 100_000,
                minting_nodes: 100_000,
                exchange_clear_orders: 1_000_000,
                exchange_tick_orders: 100_000,
            }
        };
        if cfg!(debug_assertions) {
            sizes.exit_positions = 1_000;
            sizes.exit_bids = 100;
            sizes.capacity_nodes = 1_000;
            sizes.capacity_requests = 1_000;
            sizes.minting_nodes = 100;
            sizes.exchange_tick_orders = 1_000;
        }
        sizes
    }
}

/// Runs every market measurement in order on the calling thread; `progress` hears the name of each step as
/// it finishes. Returns the `market` object of the report.
pub fn run_market(sizes: MarketSizes, progress: &mut dyn FnMut(&str)) -> Result<Value> {
    let mut market = serde_json::Map::new();
    let mut step = |name: &str, result: Result<Value>| -> Result<()> {
        let value = result.map_err(|e| SimError::Check(format!("market bench {name}: {e}")))?;
        progress(name);
        if let Value::Object(fields) = value {
            market.extend(fields);
        }
        Ok(())
    };
    step("exit_clear", exit::bench_exit_clear(sizes.exit_clear_bids))?;
    step("exit_round", exit::bench_exit_round(sizes.exit_positions, sizes.exit_bids))?;
    step("capacity", capacity::bench_capacity(sizes.capacity_nodes, sizes.capacity_requests))?;
    step("exchange_clear", exchange::bench_exchange_clear(sizes.exchange_clear_orders))?;
    step("exchange_tick", exchange::bench_exchange_tick(sizes.exchange_tick_orders))?;
    // Last, so that its peak-memory reading sees the least of the earlier workloads.
    step("minting", minting::bench_minting(sizes.minting_nodes))?;
    Ok(Value::Object(market))
}

/// The market suite's whole report: `{build, quick, suite, ok, market, machine, total_wall_s}`.
pub fn market_report(quick: bool, progress: &mut dyn FnMut(&str)) -> Result<Value> {
    let started = Instant::now();
    let load_before = load_average();
    let market = run_market(MarketSizes::new(quick), progress)?;
    Ok(json!({
        "build": build_kind(),
        "quick": quick,
        "suite": "market",
        "ok": true,
        "market": market,
        "machine": machine(load_before),
        "total_wall_s": round3(started.elapsed().as_secs_f64()),
    }))
}

/// The main figures, in table order, with the size each is measured at.
const TABLE: [(&str, &str); 10] = [
    ("exit_clear_1m_bids_ms", "exit_clear_bids"),
    ("exit_round_close_100k_positions_ms", "exit_round_positions"),
    ("capacity_tick_100k_requests_ms", "capacity_requests"),
    ("capacity_search_100k_nodes_ms", "capacity_nodes"),
    ("uptime_reports_per_s", "uptime_reports"),
    ("minting_close_100k_nodes_ms", "minting_nodes"),
    ("minting_peak_mib", "minting_nodes"),
    ("exchange_clear_1m_orders_ms", "exchange_clear_orders"),
    ("exchange_tick_100k_orders_ms", "exchange_tick_orders"),
    ("exchange_tick_volume_tft", "exchange_tick_orders"),
];

/// A JSON value as table text (strings without quotes).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `market` object as a table with its checks (lines ending with a newline).
pub fn market_table(market: &Value) -> String {
    let mut out = String::from("  market suite\n");
    let _ = writeln!(out, "  {:<36} {:>14}  {:>10}", "figure", "value", "size");
    for (name, size) in TABLE {
        let _ = writeln!(out, "  {:<36} {:>14}  {:>10}", name, text(&market[name]), market[size]);
    }
    if market["minting_scaled_down"] == true {
        let _ = writeln!(
            out,
            "  minting scaled down to {} of {} nodes (ingestion budget ~{} s)",
            market["minting_nodes"],
            market["minting_nodes_requested"],
            minting::MINTING_BUDGET_S
        );
    }
    let _ = writeln!(
        out,
        "  checks: exit round paid {} USDC, margin {} TFP to {} positions; capacity {} of {} filled ({} offers); minting {} receipts, report {} bytes; exchange clear {} orders filled",
        text(&market["exit_round_paid_usdc"]),
        text(&market["exit_round_margin_tfp"]),
        market["exit_round_positions_credited"],
        market["capacity_requests_filled"],
        market["capacity_requests"],
        market["capacity_offers"],
        market["minting_receipts"],
        market["minting_report_json_bytes"],
        market["exchange_clear_filled_orders"]
    );
    let _ = writeln!(
        out,
        "  setup s: exit {}, capacity {}, exchange {}, minting {}; peak memory is process-wide (VmHWM, reset before minting: {})",
        market["exit_round_setup_s"],
        market["capacity_setup_s"],
        market["exchange_tick_setup_s"],
        market["minting_setup_s"],
        market["minting_peak_reset_before_phase"]
    );
    let _ = writeln!(
        out,
        "  SetNodeKey at {} keyed nodes: {} µs per command (it scans every node key)",
        market["minting_nodes_requested"], market["set_node_key_us_last_1000"]
    );
    let shares: serde_json::Map<String, Value> = market
        .as_object()
        .map(|m| {
            m.iter().filter(|(k, _)| k.ends_with("cpu_share")).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  CPU share of the timings (below ~0.95: the core was shared): {}",
        Value::Object(shares)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every workload at a tiny size: each checks its own outcome (rounds pay, requests fill, batches
    /// cross, reports have a receipt per node), so a workload the core no longer accepts fails here.
    #[test]
    fn every_workload_runs_and_checks_itself_at_a_tiny_size() {
        let exit = exit::bench_exit_clear(2_000).unwrap();
        assert!(exit["exit_clear_filled_bids"].as_u64() > Some(0), "{exit}");
        let round = exit::bench_exit_round(300, 30).unwrap();
        assert_eq!(round["exit_round_bids"], 30, "{round}");
        let capacity = capacity::bench_capacity(30, 20).unwrap();
        assert_eq!(
            (capacity["capacity_requests_filled"].as_u64(), capacity["capacity_offers"].as_u64()),
            (Some(20), Some(30))
        );
        let clear = exchange::bench_exchange_clear(2_000).unwrap();
        assert!(clear["exchange_clear_filled_orders"].as_u64() > Some(0), "{clear}");
        let tick = exchange::bench_exchange_tick(300).unwrap();
        assert!(tick["exchange_tick_events"].as_u64() > Some(1), "{tick}");
        let minting = minting::bench_minting(5).unwrap();
        assert_eq!(
            (minting["minting_receipts"].as_u64(), minting["minting_scaled_down"].as_bool()),
            (Some(5), Some(false))
        );
        let table = market_table(&minting);
        assert!(table.contains("minting_close_100k_nodes_ms"), "{table}");
    }
}
