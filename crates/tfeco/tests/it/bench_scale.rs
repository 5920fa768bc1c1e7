//! `tfeco bench --suite scale --quick --json`: the real binary builds the quick economy (10,000 accounts and
//! leases; 1,000 in a debug build), and its report carries every `scale.` figure, consistent with the sizes:
//! every lease charged by the one tick, the invariants held, the restarted snapshot's state hash equal.

use std::process::Command as StdCommand;

use serde_json::Value;

use crate::support::BIN;

/// The `Mini 3` nodes' typical slices: one lease each.
const SLICES_PER_NODE: u64 = 25;

#[test]
fn the_quick_scale_suite_reports_consistent_figures() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = StdCommand::new(BIN)
        .args(["bench", "--suite", "scale", "--quick", "--json"])
        .env("TMPDIR", tmp.path())
        .output()
        .expect("run tfeco bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tfeco bench failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert_eq!((report["suite"].as_str(), report["ok"].as_bool()), (Some("scale"), Some(true)), "{report}");
    assert_eq!(report["quick"], true);
    let expected = if report["build"] == "release" { 10_000 } else { 1_000 };
    let scale = &report["scale"];
    let int = |field: &str| scale[field].as_u64().unwrap_or_else(|| panic!("scale.{field} in {scale}"));
    let seconds = |field: &str| scale[field].as_f64().unwrap_or_else(|| panic!("scale.{field} in {scale}"));
    assert_eq!((int("accounts"), int("leases")), (expected, expected), "{scale}");
    assert_eq!(int("tick_leases_charged"), expected, "the one tick charges every open lease");
    assert!(int("tick_events") >= expected, "{scale}");
    assert_eq!(int("nodes"), expected.div_ceil(SLICES_PER_NODE));
    assert_eq!(
        (scale["invariants_ok"].as_bool(), scale["restart_state_hash_ok"].as_bool()),
        (Some(true), Some(true))
    );
    for field in ["tick_s", "snapshot_write_s", "restart_s", "invariants_s"] {
        assert!(seconds(field) > 0.0 && seconds(field) < 600.0, "scale.{field} in {scale}");
    }
    // Each account and each lease names a 32-byte key in the state's encoding.
    assert!(int("snapshot_bytes") > 32 * (int("accounts") + int("leases")), "{scale}");
    if cfg!(target_os = "linux") {
        for field in ["bytes_per_account", "bytes_per_lease"] {
            assert!(seconds(field) >= 0.0, "scale.{field} in {scale}");
        }
    }
    for target in ["tick_s", "bytes_per_account", "bytes_per_lease"] {
        assert!(report["targets"][target]["target"].is_number(), "targets.{target} in {report}");
    }
}
