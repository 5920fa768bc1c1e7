//! `tfeco demo --no-serve --json`: one month on real data, then a resumed second month, then `verify`.

use serde_json::Value;

use crate::support::{run_cli, verify};

fn is_hex64(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn demo(dir: &str) -> Value {
    run_cli(&["demo", "--data-dir", dir, "--no-serve", "--json"], &[]).await.success_json("tfeco demo")
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

    let second = demo(dir).await;
    assert_eq!(second["resumed"], true, "{second}");
    assert_eq!(second["month_played"], 2, "{second}");
    assert!(second["entries"].as_u64().expect("entries") > entries, "{second}");
    assert_eq!(second["invariants_ok"], true, "{second}");
    assert_eq!(second["replay_matches"], true, "{second}");
    assert!(is_hex64(&second["state_hash"]), "{second}");
    assert_ne!(second["state_hash"], first["state_hash"]);
    assert!(second["virtual_time"].as_i64() > first["virtual_time"].as_i64(), "{first}\n{second}");

    let report = verify(std::path::Path::new(dir), true).await;
    assert_eq!(report["state_hash"], second["state_hash"], "{report}");
    assert_eq!(report["entries"], second["entries"], "{report}");
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
