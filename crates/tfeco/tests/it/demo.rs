//! `tfeco demo --no-serve`: one month on real data (`--json`: every mechanism's figures non-zero), then a
//! resumed second month in human form (every section of the story), then `verify`.

use serde_json::Value;

use crate::support::{run_cli, verify};

fn is_hex64(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn demo(dir: &str) -> Value {
    run_cli(&["demo", "--data-dir", dir, "--no-serve", "--json"], &[]).await.success_json("tfeco demo")
}

/// A figure of the demo's JSON as a number: a JSON number, or a decimal string.
fn figure(summary: &Value, path: &str) -> f64 {
    let value = path.split('.').fold(summary, |v, key| &v[key]);
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{path} is not a number or a decimal string: {value}"))
}

/// The value after `label` on a line of the human summary.
fn line_value<'a>(text: &'a str, label: &str) -> &'a str {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("{label}:\n{text}"));
    line.trim_start()[label.len()..].trim()
}

/// Every mechanism of the economy ran in the first month (issue 10, item 19). Before this change the demo's
/// JSON had none of these sections and its exit pool held 0 USDC, so no round could clear.
fn assert_every_mechanism_ran(first: &Value) {
    for path in [
        "exit.rounds_cleared",
        "exit.usdc_paid",
        "exit.margin_tfp",
        "exit.deposited_usdc",
        "exit.from_treasury_usdc",
        "exchange.volume_tft",
        "exchange.batches_with_trades",
        "capacity.requests_filled",
        "standing_bids.slices_filled",
        "month.capacity_paid_cc",
        "burns.revenue_share_cc",
        "burns.converted_cc",
        "burns.tft_burned",
        "minting.tft_minted",
        "farming_pools.prices_set",
    ] {
        assert!(figure(first, path) > 0.0, "{path} is zero: {first}");
    }
    let pool = &first["farming_pools"]["pools"][0];
    assert!(pool["member_farms"].as_u64() > Some(0) && figure(pool, "owner_revenue_cc") > 0.0, "{first}");
    assert_eq!(first["month"]["cc_burned"], first["cumulative"]["cc_burned"], "the first month is all of it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_plays_a_month_resumes_the_next_and_verifies() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("demo");
    let dir = dir.to_str().expect("utf-8 temp path");

    let first = demo(dir).await;
    let entries = first["entries"].as_u64().expect("entries");
    assert!(entries > 0, "{first}");
    assert_eq!(first["invariants_ok"], true, "{first}");
    assert_eq!(first["replay_matches"], true, "{first}");
    assert_eq!(first["resumed"], false, "{first}");
    assert_eq!(first["month_played"], 1, "{first}");
    assert!(is_hex64(&first["state_hash"]), "{first}");
    assert_eq!(first["state_hash"], first["replay_state_hash"]);
    assert!(first["commands_accepted"].as_u64().is_some_and(|n| n > 0 && n <= entries), "{first}");
    assert_every_mechanism_ran(&first);

    let run = run_cli(&["demo", "--data-dir", dir, "--no-serve"], &[]).await;
    assert_eq!(run.code, Some(0), "second month:\n{}\n{}", run.stdout, run.stderr);
    let second = run.stdout;
    assert!(second.contains("month 2 played (resumed)"), "{second}");
    for section in [
        "The month in figures",
        "What was burned and why",
        "Exit pool",
        "Exchange (TFT/USDC",
        "Capacity requests",
        "Standing bids",
        "Farming pools",
        "Minting",
    ] {
        assert!(second.contains(section), "no {section:?} section:\n{second}");
    }
    assert_eq!(line_value(&second, "replay from scratch"), "same hash", "{second}");
    assert_eq!(line_value(&second, "invariants"), "OK", "{second}");
    let (hash, second_entries) = (line_value(&second, "state hash"), line_value(&second, "journal entries"));
    assert!(second_entries.parse::<u64>().expect("entries") > entries, "{second}");
    assert_ne!(hash, first["state_hash"].as_str().expect("hash"));

    let report = verify(std::path::Path::new(dir), true).await;
    assert_eq!(report["state_hash"], hash, "{report}");
    assert_eq!(report["entries"].to_string(), second_entries, "{report}");
    assert_eq!(report["invariants_ok"], true, "{report}");
}

/// `verify` of a directory without a journal fails (exit 2) and says why, creating nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_of_an_empty_directory_fails_without_creating_a_journal() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().to_str().expect("utf-8 temp path");
    let run = run_cli(&["verify", "--data-dir", dir, "--json"], &[]).await;
    assert_eq!(run.code, Some(2), "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["invariants_ok"], false, "{report}");
    assert!(report["error"].as_str().is_some_and(|e| e.contains("no journal")), "{report}");
    assert_eq!(std::fs::read_dir(temp.path()).expect("read dir").count(), 0, "verify created files");
}
