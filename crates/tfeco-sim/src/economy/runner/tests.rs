//! Tests of the runner: determinism, invariants every month, a hand-computed income, every built-in.

use super::*;

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

#[test]
#[ignore = "prints a run's series and refusals; for inspection"]
fn print_a_demo_run() {
    let out = run(&small(3), 1, &mut |_| {}).unwrap();
    for (i, c) in out.series.columns.iter().enumerate() {
        let values: Vec<String> = out.series.months.iter().map(|m| m.values[i].to_string()).collect();
        println!("{:40} {}", c.key, values.join(" "));
    }
    println!("commands {} rejections {:?}", out.commands, out.rejections);
}
