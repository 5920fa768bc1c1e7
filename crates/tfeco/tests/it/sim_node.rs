//! The simulator through a real node: `tfeco demo --scenario demo` plays the built-in short scenario through
//! the node it serves (every answer and the final state hash equal to the in-process core's, the journal
//! verified afterwards); `tfeco sim --through-node URL` plays it through a node opened with
//! `tfeco demo --scenario demo --no-play`, and refuses a node that is not at the scenario's genesis.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Output, Stdio};

use serde_json::Value;

use crate::support::{ServeProcess, BIN};

fn tfeco(args: &[&str]) -> Output {
    StdCommand::new(BIN).args(args).env("TFECO_LOG", "warn").stdin(Stdio::null()).output().expect("run tfeco")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `tfeco demo --scenario demo --no-play` serving `dir` on a free port, once `/v1/status` answers.
fn scenario_node(dir: &Path) -> (Child, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = StdCommand::new(BIN)
        .args([
            "demo",
            "--scenario",
            "demo",
            "--no-play",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("TFECO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tfeco demo");
    for _ in 0..300 {
        if tfeco(&["status", "--url", &url, "--json"]).status.success() {
            return (child, url);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the scenario node never answered on {url}");
}

#[test]
fn the_demo_scenario_plays_through_its_node_and_the_journal_verifies() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("node");
    let dir_text = dir.to_str().expect("utf-8 path");
    let output = tfeco(&["demo", "--scenario", "demo", "--no-serve", "--json", "--data-dir", dir_text]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tfeco demo --scenario failed: {stderr}");
    let view: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(view["scenario"], "demo");
    assert!(view["commands_accepted"].as_u64().expect("accepted") > 100, "{view}");
    assert_eq!(view["state_hash"], view["node_state_hash"], "{view}");
    assert!(view["last_month"].as_array().is_some_and(|rows| !rows.is_empty()), "{view}");
    let verify = tfeco(&["verify", "--data-dir", dir_text]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    // The same directory again: a scenario plays only on a new one.
    let again = tfeco(&["demo", "--scenario", "demo", "--no-serve", "--data-dir", dir_text]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("new data directory"));
}

#[test]
fn sim_through_node_plays_on_a_scenario_node_and_refuses_another() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (mut child, url) = scenario_node(&tmp.path().join("node"));
    let output = tfeco(&["sim", "--scenario", "demo", "--through-node", &url, "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let view: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(view["state_hash"], view["node_state_hash"], "{view}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let other = runtime.block_on(ServeProcess::start(&tmp.path().join("plain"), tmp.path(), "plain"));
    let refused = tfeco(&["sim", "--scenario", "demo", "--through-node", &other.api.base, "--json"]);
    drop(other);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not a fresh node of this scenario"), "{stderr}");
}

/// A one-node, one-user scenario: `model` priced by `strategy`, the user leasing `leases` one-slice monthly
/// leases on it from the first day (a budget that never binds).
fn one_node_scenario(model: &str, strategy: &str, leases: u32) -> String {
    format!(
        r#"name = "calc-parity"
months = 1
guardians = 1
[gold]
kind = "constant"
usd_per_oz = "4000"
[tft_price]
kind = "constant"
usd = "0.01"
[users]
initial = 1
arrivals_per_month = 0
churn_bps = 0
fiat_share_bps = 10000
budget_cc_per_month = "1000"
budget_spread_bps = 0
max_leases = {leases}
[farmers]
initial_nodes = 1
nodes_per_month = 0
nodes_per_farmer = 1
price_strategy = "{strategy}"
models = [{{ name = "{model}", weight = 1 }}]
convert_revenue_bps = 0
[demand]
max_utilization_bps = 10000
slices_per_lease = 1
choice_width = 1
[exit]
holders = 0
usdc_per_month = "0"
"#
    )
}

/// The value of `key` in month 1 of the study's only run CSV under `out`.
fn month_one(out: &Path, key: &str) -> String {
    let runs = out.join("runs");
    let arm = std::fs::read_dir(&runs).expect("runs/").flatten().next().expect("one arm").path();
    let csv = std::fs::read_dir(arm).expect("arm dir").flatten().next().expect("one run").path();
    let text = std::fs::read_to_string(csv).expect("run csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("month 1").split(',').collect();
    let at = header.iter().position(|h| *h == key).unwrap_or_else(|| panic!("no column {key} in {header:?}"));
    row[at].to_owned()
}

#[test]
fn month_one_farmer_income_equals_tfeco_calc_node() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // (model, price strategy = calc --price, leases, utilization = leases / typical slices)
    let cases = [("Mini 3", "min", 2, "8%"), ("Mini 3", "max", 10, "40%"), ("3Node Home", "max", 7, "100%")];
    for (i, (model, strategy, leases, utilization)) in cases.into_iter().enumerate() {
        let file = tmp.path().join(format!("case-{i}.toml"));
        std::fs::write(&file, one_node_scenario(model, strategy, leases)).expect("write scenario");
        let out = tmp.path().join(format!("out-{i}"));
        let (file, out_text) = (file.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
        let sim = tfeco(&["sim", "--scenario", file, "--runs", "1", "--json", "--out", out_text]);
        assert!(sim.status.success(), "{}", String::from_utf8_lossy(&sim.stderr));
        let calc = tfeco(&[
            "calc",
            "node",
            "--model",
            model,
            "--utilization",
            utilization,
            "--price",
            strategy,
            "--json",
        ]);
        assert!(calc.status.success(), "{}", String::from_utf8_lossy(&calc.stderr));
        let calc: Value = serde_json::from_slice(&calc.stdout).expect("calc JSON");
        let expected = calc["farmer_share"].as_str().expect("farmer_share").to_owned();
        let slices = month_one(&out, "slices_leased");
        assert_eq!(slices, leases.to_string(), "{model}: the user leased {slices} slices");
        let simulated = month_one(&out, &format!("farmer_net_cc.{model}"));
        assert_eq!(trim(&simulated), trim(&expected), "{model} at {utilization}: the same exact decimal");
    }
}

/// A decimal without trailing zeros (`2.4000000` -> `2.4`).
fn trim(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}
