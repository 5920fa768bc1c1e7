//! `tfeco verify` is read-only (issue 11): on a SIGKILLed node's data directory (history in SQLite's WAL)
//! and on a cleanly stopped one, `verify` and `verify --signatures` leave every file as it was: none
//! created, deleted or modified (names, sizes, contents, permission bits), and still report the
//! acknowledged state.

use std::path::Path;

use crate::damage_kit::{changes, fingerprint, run_verify, young_node, Acked};
use crate::support::ServeProcess;

/// Concurrent transfers of the young node.
const TRANSFERS: u64 = 400;

/// Runs `verify` and `verify --signatures` on `dir`; returns every change each made and checks the reports.
fn verify_changes(dir: &Path, acked: &Acked, label: &str) -> Vec<String> {
    let mut found = Vec::new();
    for extra in [&[][..], &["--signatures"][..]] {
        let before = fingerprint(dir);
        let (code, stdout, stderr) = run_verify(dir, extra).expect("verify finishes");
        let after = fingerprint(dir);
        let changed = changes(&before, &after);
        eprintln!("verify {extra:?} on the {label} node: exit {code:?}, {} change(s)", changed.len());
        for change in &changed {
            eprintln!("  {change}");
            found.push(format!("{label}, verify {extra:?}: {change}"));
        }
        assert_eq!(code, Some(0), "verify {extra:?} on the {label} node:\n{stdout}\n{stderr}");
        let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON report");
        assert_eq!(report["entries"].as_u64(), Some(acked.seq), "{report}");
        assert_eq!(report["state_hash"].as_str(), Some(acked.state_hash.as_str()), "{report}");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_changes_no_byte_of_a_killed_or_stopped_data_dir() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let (node, acked) = young_node(&dir, temp.path(), TRANSFERS).await;
    node.kill();
    let wal = dir.join("journal.sqlite-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(wal_len > 0, "the killed node must leave a WAL ({} has {wal_len} bytes)", wal.display());
    let mut found = {
        let (dir, acked) = (dir.clone(), acked.clone());
        tokio::task::spawn_blocking(move || verify_changes(&dir, &acked, "killed"))
            .await
            .expect("verify thread")
    };

    // The same directory after a restart and a clean stop (SIGINT).
    let node = ServeProcess::start(&dir, temp.path(), "restarted").await;
    assert_eq!(Acked::of(&node.api).await, acked, "the restart serves the acknowledged state");
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");
    found.extend({
        let (dir, acked) = (dir.clone(), acked.clone());
        tokio::task::spawn_blocking(move || verify_changes(&dir, &acked, "stopped"))
            .await
            .expect("verify thread")
    });
    assert!(found.is_empty(), "tfeco verify changed the data directory:\n{}", found.join("\n"));
}
