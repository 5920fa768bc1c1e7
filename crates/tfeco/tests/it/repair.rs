//! Issue 11, `tfeco repair`: it says what is wrong and what it would change, changes nothing unless
//! confirmed (no terminal and no `--yes`: no), re-anchors a sound journal whose anchor was lost, refuses a
//! journal that lost acknowledged entries unless told to accept the loss, and even then the guardians' final
//! checkpoint keeps the node from serving the shorter history.

use std::path::Path;

use crate::damage_kit::{
    changes, classify_serve, classify_verify, copy_dir, fingerprint, more_transfers, young_node, Outcome,
    SNAPSHOTTING,
};
use crate::support::{run_cli, verify, ServeProcess};

async fn repair(dir: &Path, extra: &[&str]) -> crate::support::CliRun {
    let mut args = vec!["repair", "--data-dir", dir.to_str().expect("utf-8 temp path")];
    args.extend_from_slice(extra);
    run_cli(&args, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_asks_re_anchors_a_sound_journal_and_never_hides_lost_acknowledged_entries() {
    let temp = tempfile::tempdir().expect("temp dir");
    let node_dir = temp.path().join("node");
    let (node, young) = young_node(&node_dir, temp.path(), 200).await;
    // Stopped cleanly (the WAL folded into the database file), restarted, then killed after more commands:
    // the newest commits are in the WAL again.
    assert!(node.stop().await.success());
    let node = ServeProcess::start_with(&node_dir, temp.path(), "again", SNAPSHOTTING).await;
    let acked = more_transfers(&node.api, 96).await;
    let _ = node.kill();

    // Nothing wrong: nothing to do.
    let intact = repair(&node_dir, &[]).await;
    assert_eq!(intact.code, Some(0), "{}{}", intact.stdout, intact.stderr);
    assert!(intact.stdout.contains("nothing to repair"), "{}", intact.stdout);

    // The anchor lost: refused; repair proposes a new anchor and does nothing without a confirmation.
    let lost_anchor = temp.path().join("lost-anchor");
    copy_dir(&node_dir, &lost_anchor);
    std::fs::remove_file(lost_anchor.join("anchor")).expect("remove anchor");
    assert!(matches!(classify_serve(&lost_anchor, &acked), Outcome::Refused(_)));
    let before = fingerprint(&lost_anchor);
    let asked = repair(&lost_anchor, &[]).await;
    assert_eq!(asked.code, Some(1), "{}{}", asked.stdout, asked.stderr);
    assert!(asked.stdout.contains("write a new anchor at the journal's head"), "{}", asked.stdout);
    assert!(asked.stdout.contains("not confirmed: nothing was changed"), "{}", asked.stdout);
    assert_eq!(changes(&before, &fingerprint(&lost_anchor)), Vec::<String>::new());
    let applied = repair(&lost_anchor, &["--yes"]).await;
    assert_eq!(applied.code, Some(0), "{}{}", applied.stdout, applied.stderr);
    assert_eq!(classify_serve(&lost_anchor, &acked), Outcome::Same);
    assert_eq!(classify_verify(&lost_anchor, &acked), Outcome::Same);

    // The WAL lost (acknowledged entries gone): not repairable, nothing changed.
    let lost_wal = temp.path().join("lost-wal");
    copy_dir(&node_dir, &lost_wal);
    std::fs::remove_file(lost_wal.join("journal.sqlite-wal")).expect("remove WAL");
    assert!(matches!(classify_serve(&lost_wal, &acked), Outcome::Refused(_)));
    let before = fingerprint(&lost_wal);
    let refused = repair(&lost_wal, &["--yes"]).await;
    assert_eq!(refused.code, Some(2), "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("not repairable"), "{}", refused.stdout);
    assert_eq!(changes(&before, &fingerprint(&lost_wal)), Vec::<String>::new());
    // Accepting the loss re-anchors the shorter journal (the history before the restart), and says so.
    let accepted = repair(&lost_wal, &["--yes", "--accept-loss"]).await;
    assert_eq!(accepted.code, Some(0), "{}{}", accepted.stdout, accepted.stderr);
    assert!(accepted.stdout.contains("acknowledged history"), "{}", accepted.stdout);
    let report = verify(&lost_wal, false).await;
    assert_eq!(report["entries"].as_u64(), Some(young.seq), "{report}");
    assert!(young.seq < acked.seq);

    // A young node's lost WAL held everything: the journal file has no table; not repairable, said plainly.
    let young_dir = temp.path().join("young");
    let (node, _) = young_node(&young_dir, temp.path(), 40).await;
    let _ = node.kill();
    std::fs::remove_file(young_dir.join("journal.sqlite-wal")).expect("remove WAL");
    let refused = repair(&young_dir, &["--yes", "--accept-loss"]).await;
    assert_eq!(refused.code, Some(2), "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("cannot be read"), "{}", refused.stdout);
}
