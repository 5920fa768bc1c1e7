//! Tests of the runner: determinism, invariants every month, a hand-computed income, every built-in.

use std::collections::BTreeMap;

use super::*;
use crate::economy::agents::MONTH;

/// A small scenario for debug-build tests.
fn small(months: u32) -> Scenario {
    let mut scenario = Scenario::builtin("demo").unwrap();
    scenario.months = months;
    scenario
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let scenario = small(2);
    let a = run(&scenario, 7, &mut |_| {}).unwrap();
    let b = run(&scenario, 7, &mut |_| {}).unwrap();
    assert_eq!(a, b);
    assert_eq!(serde_json::to_vec(&a).unwrap(), serde_json::to_vec(&b).unwrap());
    let c = run(&scenario, 8, &mut |_| {}).unwrap();
    assert_ne!(a.state_hash, c.state_hash);
    assert_eq!(a.series.months.len(), 2);
    assert!(a.commands > 100, "{}", a.commands);
}

/// One Mini 3 node priced at its band minimum (1.5 CC per slice-month), one fiat user with a budget of 3 CC
/// a month: two one-slice monthly leases, 3 CC charged each month, split 80 / 10 / 10.
const ONE_NODE_ONE_USER: &str = r#"
name = "one-node-one-user"
months = 4
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
budget_cc_per_month = "3"
budget_spread_bps = 0
[farmers]
initial_nodes = 1
nodes_per_month = 0
nodes_per_farmer = 1
price_strategy = "min"
models = [{ name = "Mini 3", weight = 1 }]
convert_revenue_bps = 0
[demand]
max_utilization_bps = 10000
choice_width = 1
[exit]
holders = 0
usdc_per_month = "0"
"#;

#[test]
fn one_node_one_user_earns_the_hand_computed_income_every_month() {
    let scenario = Scenario::from_toml_str(ONE_NODE_ONE_USER).unwrap();
    let out = run(&scenario, 3, &mut |_| {}).unwrap();
    let column = |key: &str| out.series.values_of(key).unwrap_or_else(|| panic!("no column {key}"));
    // 2 slices x 1.5 CC = 3 CC a month; the farmer's 80 % is 2.4 CC = 24,000,000 base units.
    assert_eq!(column("farmer_net_cc.Mini 3"), [24_000_000; 4]);
    assert_eq!(column("farmer_net_cc_per_node.Mini 3"), [24_000_000; 4]);
    // 10 % burned and 10 % to the treasury: 0.3 CC each, cumulative.
    assert_eq!(column("cc_burned_by_split"), [3_000_000, 6_000_000, 9_000_000, 12_000_000]);
    assert_eq!(column("treasury_cc"), [3_000_000, 6_000_000, 9_000_000, 12_000_000]);
    assert_eq!(column("leases_open"), [2; 4]);
    // 2 of Mini 3's 25 typical slices leased: 800 bps.
    assert_eq!(column("utilization_bps"), [800; 4]);
    assert_eq!(column("nodes.Mini 3"), [1; 4]);
    assert_eq!(column("tft_usd"), [10_000_000_000_000_000; 4]);
    assert_eq!(out.rejections, BTreeMap::new(), "nothing the agents built was refused");
}

#[test]
fn every_month_ends_with_the_invariants_and_cumulative_columns_checked() {
    let mut scenario = Scenario::builtin("base").unwrap();
    scenario.months = 3;
    let mut seen = Vec::new();
    let out = run(&scenario, 11, &mut |p| seen.push(p.month)).unwrap();
    assert_eq!(seen, [1, 2, 3]);
    let months: Vec<u32> = out.series.months.iter().map(|m| m.month).collect();
    assert_eq!(months, [1, 2, 3]);
    for key in ["tft_total", "cc_outstanding", "nodes", "users_active"] {
        assert!(out.series.values_of(key).unwrap().iter().all(|v| *v > 0), "{key}");
    }
    let total = out.series.values_of("tft_total").unwrap();
    let parts = ["tft_outside", "tft_circulating", "tft_vault", "tft_vesting"]
        .map(|k| out.series.values_of(k).unwrap());
    for m in 0..3 {
        assert_eq!(
            parts.iter().map(|p| p[m]).sum::<i128>(),
            total[m],
            "month {}: the split sums to the total",
            m + 1
        );
    }
    let at: Vec<i64> = out.series.months.iter().map(|m| m.at).collect();
    for (m, at) in at.iter().enumerate() {
        let t0 = scenario.start + m as i64 * MONTH;
        assert!(t0 < *at && *at < t0 + MONTH, "month {}: read at its last step", m + 1);
    }
}

#[test]
fn a_swept_burn_share_changes_the_burn_and_not_the_prices() {
    let burn = |bps: i64| {
        let mut value = toml::Value::try_from(small(2)).unwrap();
        let params = value.get_mut("params").unwrap().as_table_mut().unwrap();
        let mut split = toml::Table::new();
        split.insert("burn_bps".into(), toml::Value::Integer(bps));
        params.insert("revenue_split".into(), toml::Value::Table(split));
        let scenario: Scenario = value.try_into().unwrap();
        run(&scenario, 5, &mut |_| {}).unwrap()
    };
    let (low, high) = (burn(1_000), burn(2_000));
    let burned = |out: &RunOutput| out.series.values_of("cc_burned_by_split").unwrap();
    assert!(burned(&high)[1] > burned(&low)[1], "{:?} vs {:?}", burned(&high), burned(&low));
    for key in ["tft_usd", "gold_usd_per_oz", "nodes", "users_active"] {
        assert_eq!(high.series.values_of(key), low.series.values_of(key), "{key}");
    }
}

#[test]
fn every_builtin_runs_its_first_months_at_a_small_size() {
    for name in Scenario::builtin_names() {
        let mut scenario = Scenario::builtin(name).unwrap();
        // Debug builds check every invariant after every command: the same scenario, smaller.
        scenario.months = scenario.months.min(2);
        scenario.users.initial = scenario.users.initial.min(30);
        scenario.users.arrivals_per_month = scenario.users.arrivals_per_month.min(5);
        scenario.farmers.initial_nodes = scenario.farmers.initial_nodes.min(12);
        scenario.farmers.nodes_per_month = scenario.farmers.nodes_per_month.min(2);
        scenario.exit.holders = scenario.exit.holders.min(5);
        let out = run(&scenario, 1, &mut |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.series.months.len(), scenario.months as usize, "{name}");
        assert!(out.series.values_of("leases_open").unwrap().iter().any(|v| *v > 0), "{name}: leases");
    }
}

#[test]
fn an_unresolved_csv_path_is_refused_before_the_run() {
    let text = "months = 1\n[tft_price]\nkind = \"csv\"\npath = \"prices.csv\"\n";
    let scenario = Scenario::from_toml_str(text).unwrap();
    let error = run(&scenario, 1, &mut |_| {}).unwrap_err().to_string();
    assert!(error.contains("from_file"), "{error}");
}
