//! The anchor against the damage the issue measured: lost WAL (shorter journal), rewritten history,
//! another data directory's journal, a changed genesis, and what a crash may leave (one unanchored commit);
//! and a shared PostgreSQL journal longer than an older copy of the anchor (failover).

use std::path::Path;

use rusqlite::Connection;
use tfeco_journal::anchor::{ANCHOR_FILE, DATADIR_ID_KEY};
use tfeco_journal::{
    check_anchor, genesis_root, AnchorFile, AnchorMismatch, AnchoredJournal, CorruptReason, Journal,
    JournalError, NewEntry, SqliteJournal, FILE_NAME, WAL_FILE_NAME,
};

const ID: [u8; 16] = [9; 16];

fn entries(start: i64, count: u8) -> Vec<NewEntry> {
    (0..count)
        .map(|i| NewEntry {
            timestamp_ms: start + i64::from(i),
            signer: [i; 32],
            payload: vec![i; 40],
            signature: vec![1; 64],
        })
        .collect()
}

/// A new anchored journal in `dir` with genesis `b"genesis"` and `batches` commits of 3 entries.
fn node(dir: &Path, batches: u8) {
    let (mut journal, _) = SqliteJournal::open(dir).unwrap();
    journal.set_genesis(b"genesis").unwrap();
    let mut anchored = AnchoredJournal::create(journal, dir, ID).unwrap();
    for b in 0..batches {
        anchored.append(&entries(i64::from(b) * 10, 3)).unwrap();
    }
}

fn check(dir: &Path) -> Result<u64, JournalError> {
    let (journal, _) = SqliteJournal::open_existing(dir)?;
    let anchor = AnchorFile::read(dir)?;
    check_anchor(&journal, &anchor).map(|c| c.unanchored)
}

fn raw(dir: &Path, sql: &str) {
    Connection::open(dir.join(FILE_NAME)).unwrap().execute_batch(sql).unwrap();
}

#[test]
fn an_intact_journal_agrees_with_its_anchor() {
    let dir = tempfile::tempdir().unwrap();
    node(dir.path(), 4);
    assert_eq!(check(dir.path()), Ok(0));
    let anchor = AnchorFile::read(dir.path()).unwrap();
    assert_eq!((anchor.head.seq, anchor.commit_start, anchor.root), (12, 10, genesis_root(b"genesis")));
}

#[test]
fn a_journal_shorter_than_its_anchor_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    node(dir.path(), 4);
    // What a lost WAL leaves: a consistent, shorter prefix.
    raw(dir.path(), "DELETE FROM entries WHERE seq > 6");
    assert_eq!(
        check(dir.path()),
        Err(JournalError::Anchor(AnchorMismatch::Shorter { journal_seq: 6, anchor_seq: 12 }))
    );
}

#[test]
fn a_rewritten_history_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    node(dir.path(), 2);
    // Rewrite the last commit consistently (a forked history of the same length).
    raw(dir.path(), "DELETE FROM entries WHERE seq > 3");
    let (mut journal, _) = SqliteJournal::open_existing(dir.path()).unwrap();
    journal.append(&entries(100, 3)).unwrap();
    drop(journal);
    assert_eq!(check(dir.path()), Err(JournalError::Anchor(AnchorMismatch::Diverged { seq: 6 })));
}

#[test]
fn another_data_directorys_journal_is_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    node(a.path(), 2);
    node(b.path(), 2);
    // Same genesis and entries, but created for another directory: refused by the id.
    raw(b.path(), &format!("UPDATE meta SET value = x'{}' WHERE key = '{DATADIR_ID_KEY}'", "01".repeat(16)));
    for name in [FILE_NAME, WAL_FILE_NAME] {
        let _ = std::fs::remove_file(a.path().join(name));
        if b.path().join(name).exists() {
            std::fs::copy(b.path().join(name), a.path().join(name)).unwrap();
        }
    }
    assert_eq!(check(a.path()), Err(JournalError::Anchor(AnchorMismatch::OtherDataDir)));
}

#[test]
fn a_changed_genesis_breaks_the_chain_and_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    node(dir.path(), 2);
    raw(dir.path(), "UPDATE meta SET value = x'67656e65736973ff' WHERE key = 'genesis'");
    assert_eq!(check(dir.path()), Err(JournalError::Anchor(AnchorMismatch::Genesis)));
    let (journal, _) = SqliteJournal::open_existing(dir.path()).unwrap();
    let replay = journal.replay(1, &mut |_| Ok(()));
    assert_eq!(replay, Err(JournalError::Corrupt { seq: 1, reason: CorruptReason::ChainBroken }));
}

#[test]
fn one_unanchored_commit_is_what_a_crash_leaves_and_is_accepted_but_two_are_not() {
    let dir = tempfile::tempdir().unwrap();
    node(dir.path(), 2);
    // The crash: the journal commit is durable, its anchor write never happened.
    let (mut journal, _) = SqliteJournal::open_existing(dir.path()).unwrap();
    journal.append(&entries(50, 5)).unwrap();
    drop(journal);
    assert_eq!(check(dir.path()), Ok(5));
    // Reopening anchors it.
    let (journal, _) = SqliteJournal::open_existing(dir.path()).unwrap();
    let mut anchored = AnchoredJournal::new(journal, AnchorFile::open(dir.path()).unwrap());
    anchored.anchor_head().unwrap();
    drop(anchored);
    assert_eq!(check(dir.path()), Ok(0));
    // Two commits beyond the anchor: not a crash (an old anchor copied in).
    let (mut journal, _) = SqliteJournal::open_existing(dir.path()).unwrap();
    journal.append(&entries(60, 2)).unwrap();
    journal.append(&entries(70, 2)).unwrap();
    drop(journal);
    assert_eq!(
        check(dir.path()),
        Err(JournalError::Anchor(AnchorMismatch::Ahead {
            journal_seq: 15,
            anchor_seq: 11,
            commit_start: 14
        }))
    );
}

#[test]
fn open_existing_never_creates_and_open_copy_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(SqliteJournal::open_existing(dir.path()), Err(JournalError::Io(_))));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing created");
    node(dir.path(), 3);
    let listing = |d: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = listing(dir.path());
    let (journal, report, _copy) = SqliteJournal::open_copy(dir.path()).unwrap();
    assert_eq!(report.head.seq, 9);
    assert_eq!(journal.replay(1, &mut |_| Ok(())).unwrap().seq, 9);
    drop(journal);
    assert_eq!(listing(dir.path()), before);
    assert!(dir.path().join(ANCHOR_FILE).exists());
}

/// Issue 13 (failover): a PostgreSQL journal is shared by successive writers, so a data directory whose
/// anchor is older (the new writer's copy) accepts a journal that runs any number of commits past it
/// (verified, then anchored by a writer), never one that ends before it; a read-only open (verify) takes
/// no writer lease, so the running writer is not fenced.
#[test]
fn a_shared_postgres_journal_may_run_past_an_older_anchor_but_never_end_before_it() {
    use tfeco_journal::{open_anchored_postgres, open_anchored_postgres_read_only, PostgresJournal};
    let url = tfeco_testkit::postgres::fresh_database();
    let temp = tempfile::tempdir().unwrap();
    let (a, b) = (temp.path().join("a"), temp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let mut journal = PostgresJournal::open_new(&url).unwrap();
    journal.set_genesis(b"genesis").unwrap();
    let mut writer_a = AnchoredJournal::create(journal, &a, ID).unwrap();
    writer_a.append(&entries(0, 3)).unwrap();
    std::fs::copy(a.join(ANCHOR_FILE), b.join(ANCHOR_FILE)).unwrap();
    writer_a.append(&entries(10, 3)).unwrap();
    writer_a.append(&entries(20, 3)).unwrap();

    let (reader, open) = open_anchored_postgres_read_only(&b, &url).unwrap();
    assert_eq!((open.caught_up, open.unanchored, reader.epoch()), (6, 0, 0));
    writer_a.append(&entries(30, 1)).unwrap();
    let (mut writer_b, open) = open_anchored_postgres(&b, &url).unwrap();
    assert_eq!((open.caught_up, writer_b.anchor().head.seq), (7, 10), "verified and anchored at the head");
    let fenced = writer_a.append(&entries(40, 1)).unwrap_err();
    assert!(matches!(fenced, JournalError::Fenced { .. }), "{fenced}");
    writer_b.append(&entries(40, 1)).unwrap();
    // One commit past an anchor (a's at 10, b appended 11) looks like a crash's unanchored commit: accepted too.
    let (_, open) = open_anchored_postgres_read_only(&a, &url).unwrap();
    assert_eq!((open.unanchored, open.caught_up), (1, 0));
    writer_b.append(&entries(50, 1)).unwrap();
    drop((writer_a, writer_b));

    // The database loses its last two commits (a standby that missed them): b's anchor refuses it.
    let (mut journal, _) = PostgresJournal::open(&url).unwrap();
    journal.truncate_after(7).unwrap();
    drop(journal);
    let shorter = AnchorMismatch::Shorter { journal_seq: 7, anchor_seq: 12 };
    let refused = open_anchored_postgres(&b, &url).unwrap_err();
    assert_eq!(refused, JournalError::Anchor(shorter.clone()));
    let refused = open_anchored_postgres_read_only(&b, &url).unwrap_err();
    assert_eq!(refused, JournalError::Anchor(shorter));
}

#[test]
fn every_opening_makes_the_newest_anchor_copy_durable_in_place() {
    // After a failed sync of the anchor and a restart, the newest copy read back may be only in the OS
    // cache (tfeco-vopr seeds 158 and 775; tfeco-vopr's tests play both with power losses): the opening
    // writes that copy again in place and syncs it, and never touches the older copy when the journal
    // has nothing new to anchor.
    let dir = tempfile::tempdir().unwrap();
    node(dir.path(), 2);
    let bytes = std::fs::read(dir.path().join(ANCHOR_FILE)).unwrap();
    let before = AnchorFile::read(dir.path()).unwrap();
    let (anchored, open) = tfeco_journal::open_anchored(dir.path()).unwrap();
    assert_eq!((open.unanchored, anchored.head()), (0, before.head));
    drop(anchored);
    assert_eq!(std::fs::read(dir.path().join(ANCHOR_FILE)).unwrap(), bytes, "same copies, same counters");
    assert_eq!(check(dir.path()), Ok(0));
}
