//! Issue 11, snapshots and archives end to end: a real node writes snapshots in the background, restarts
//! from the newest one (the same state as a full replay), `verify` checks every snapshot it passes, a
//! damaged newest snapshot falls back to an older one, and `tfeco archive` exports the covered entries with
//! their chain and checks them.

use crate::damage_kit::{young_node_with, Acked};
use crate::support::{run_cli, verify, ServeProcess};

const EVERY_100: &[&str] = &["--clock", "manual", "--snapshot-every-entries", "100", "--snapshot-keep", "3"];

fn snapshot_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("snapshots"))
        .map(|d| {
            d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "bin")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarts_from_its_newest_snapshot_and_archives_what_it_covers() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("node");
    let (node, acked) = young_node_with(&dir, temp.path(), 400, EVERY_100).await;
    assert!(node.stop().await.success(), "a clean stop");
    let files = snapshot_files(&dir);
    assert_eq!(files.len(), 3, "snapshots every 100 entries, the newest 3 kept: {files:?}");

    // Restart: from the newest snapshot, to the acknowledged state.
    let node = ServeProcess::start_with(&dir, temp.path(), "restart", EVERY_100).await;
    assert_eq!(Acked::of(&node.api).await, acked);
    let newest = files.last().expect("a snapshot").file_stem().expect("name").to_string_lossy().into_owned();
    let newest_seq: u64 = newest.trim_start_matches("snapshot-").parse().expect("seq");
    assert!(
        node.log_text().contains(&format!("replayed from the snapshot at {newest_seq}")),
        "{}",
        node.log_text()
    );
    assert!(node.stop().await.success(), "a clean stop");

    // verify replays from the genesis and reproduces every snapshot it passes.
    let report = verify(&dir, false).await;
    assert_eq!(
        (report["entries"].as_u64(), report["snapshots_checked"].as_u64()),
        (Some(acked.seq), Some(3))
    );

    // A damaged newest snapshot: skipped, the one before is used; verify warns about it.
    let newest_path = files.last().expect("a snapshot");
    let mut bytes = std::fs::read(newest_path).expect("read");
    bytes[200] ^= 0x04;
    std::fs::write(newest_path, bytes).expect("write");
    let node = ServeProcess::start_with(&dir, temp.path(), "fallback", &["--clock", "manual"]).await;
    assert_eq!(Acked::of(&node.api).await, acked);
    assert!(node.log_text().contains("replayed from the snapshot at"), "{}", node.log_text());
    assert!(node.stop().await.success(), "a clean stop");
    let report = verify(&dir, false).await;
    assert_eq!(report["snapshots_checked"].as_u64(), Some(2), "{report}");
    assert_eq!(report["snapshot_warnings"].as_array().map(Vec::len), Some(1), "{report}");

    // The archive: entries up to the newest valid snapshot, with their chain, checked against the journal.
    let archive = temp.path().join("archive.sqlite");
    let (data_dir, out) = (dir.to_str().expect("utf-8"), archive.to_str().expect("utf-8"));
    let written = run_cli(&["archive", "--data-dir", data_dir, "--out", out, "--json"], &[]).await;
    let written = written.success_json("tfeco archive");
    let covered = snapshot_files(&dir)[1].file_stem().expect("name").to_string_lossy().into_owned();
    let covered: u64 = covered.trim_start_matches("snapshot-").parse().expect("seq");
    assert_eq!(written["entries"].as_u64(), Some(covered), "{written}");
    let check = run_cli(&["archive", "--data-dir", data_dir, "--out", out, "--check", "--json"], &[]).await;
    assert_eq!(check.success_json("tfeco archive --check")["entries"], written["entries"]);
    let again = run_cli(&["archive", "--data-dir", data_dir, "--out", out], &[]).await;
    assert_ne!(again.code, Some(0), "an existing archive is never overwritten");
    let beyond = (covered + 1).to_string();
    let other = temp.path().join("beyond.sqlite");
    let args =
        ["archive", "--data-dir", data_dir, "--out", other.to_str().expect("utf-8"), "--upto", &beyond];
    let refused = run_cli(&args, &[]).await;
    assert_ne!(refused.code, Some(0), "entries no snapshot covers are not archived: {}", refused.stdout);
    assert!(refused.stderr.contains("snapshot covers"), "{}", refused.stderr);
}
