//! The simulator's own guarantees: a seed gives the same report, a wrong reference model is caught, a
//! bounded set of seeds with faults passes, and a healthy disk never refuses or restarts.

use tfeco_vopr::disk::FaultRates;
use tfeco_vopr::{run, Config};

fn config(seed: u64, commands: u64) -> Config {
    Config { seed, commands, rates: None, mutate_model: false }
}

#[test]
fn the_same_seed_gives_the_same_report_byte_for_byte() {
    let first = serde_json::to_string(&run(&config(7, 400))).expect("json");
    let second = serde_json::to_string(&run(&config(7, 400))).expect("json");
    assert_eq!(first, second);
    let other = serde_json::to_string(&run(&config(8, 400))).expect("json");
    assert_ne!(first, other, "another seed is another run");
}

#[test]
fn a_wrong_reference_model_is_caught() {
    let report = run(&Config { mutate_model: true, rates: Some(FaultRates::NONE), ..config(3, 2_000) });
    assert!(
        report.violations.iter().any(|v| v.contains("model differs")),
        "the mutated model went unnoticed: {report:?}"
    );
}

#[test]
fn bounded_seeds_with_faults_pass() {
    let mut totals = (0, 0, 0);
    for seed in 0..20 {
        let report = run(&config(seed, 500));
        assert!(report.violations.is_empty(), "seed {seed}: {:?}", report.violations);
        assert_eq!(report.commands, 500);
        totals.0 += report.acknowledged;
        totals.1 += report.restarts;
        totals.2 += report.faults.values().sum::<u64>();
    }
    assert!(totals.0 > 1_000 && totals.1 > 0 && totals.2 > 0, "acknowledged, restarts, faults: {totals:?}");
}

#[test]
fn a_healthy_disk_never_refuses_or_restarts() {
    let report = run(&Config { rates: Some(FaultRates::NONE), ..config(11, 1_000) });
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!((report.restarts, report.refusals, report.crashes), (0, 0, 0));
    assert!(report.faults.is_empty());
    assert_eq!(report.head_seq, report.acknowledged);
}
