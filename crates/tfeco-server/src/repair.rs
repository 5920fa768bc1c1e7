//! `tfeco repair`: what can be done about a data directory the node refuses, and doing it only when asked.
//!
//! [`diagnose`] reads a private copy (like `tfeco verify`) and returns a [`RepairPlan`]: nothing to do; a
//! safe re-anchoring (the anchor is missing, damaged or stale while the journal's whole chain and replay
//! verify: the journal then holds at least what was acknowledged, unless the anchor was lost together with
//! entries, which nothing on this machine can tell); dropping a damaged unacknowledged tail; or, only with
//! `accept_loss`, truncating to the last good entry and re-anchoring there, which gives up acknowledged
//! commands. [`apply`] carries a plan out in place.
//!
//! With the journal in PostgreSQL ([`diagnose_at`] with [`JournalLocation::Postgres`]) the diagnosis reads
//! the database in a read-only session (no writer lease taken). A journal that runs past the directory's
//! anchor is normal there (a later writer's entries, e.g. after a failover) and needs nothing. Every
//! deletion of rows needs `accept_loss`: a PostgreSQL commit is atomic, so a damaged row is storage damage
//! or tampering, not a torn write, and another writer may have acknowledged it; the finding first points to
//! the PostgreSQL procedure (a standby that has the history, a base backup with its WAL archive). Applying
//! a truncation takes the writer lease (a still-running writer is fenced).

use std::path::{Path, PathBuf};

use tfeco_core::{Genesis, State};
use tfeco_journal::anchor::{Anchor, AnchorFile, ANCHOR_FILE, DATADIR_ID_KEY};
use tfeco_journal::{
    check_anchor, AnchorMismatch, Journal, JournalError, PostgresJournal, SqliteJournal, Truncate,
};

use crate::datadir::JournalLocation;
use crate::replica::{replay_into, ReplayOptions, ReplicaError};

/// One step of a repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairAction {
    /// Delete the journal's entries after `seq` (`acknowledged` of them were acknowledged: lost).
    Truncate {
        /// Last entry kept.
        seq: u64,
        /// Entries dropped.
        dropped: u64,
        /// How many of the dropped entries had been acknowledged (per the anchor).
        acknowledged: u64,
    },
    /// Delete a snapshot of an entry beyond the history kept (a cache of entries given up).
    RemoveSnapshot {
        /// The snapshot's entry.
        seq: u64,
        /// Its file.
        path: PathBuf,
    },
    /// Write the anchor at the journal's head `seq` (a new file when it is missing or both copies are bad;
    /// the damaged file is kept as `anchor.damaged`).
    Reanchor {
        /// The head seq anchored.
        seq: u64,
        /// The anchor's head before (None: missing or unreadable).
        from: Option<u64>,
    },
}

/// What [`diagnose`] found and proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairPlan {
    /// The data directory.
    pub dir: PathBuf,
    /// Where its journal's entries are (`journal.sqlite`, or a PostgreSQL database).
    pub journal: JournalLocation,
    /// What is wrong, for a human.
    pub findings: Vec<String>,
    /// Steps in order; empty when nothing needs repair or nothing can be done.
    pub actions: Vec<RepairAction>,
    /// `false` when the directory cannot be repaired (without `accept_loss`, or at all).
    pub repairable: bool,
}

/// Why the journal could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RepairError(pub String);

fn err(context: &str) -> impl Fn(JournalError) -> RepairError + '_ {
    move |e| RepairError(format!("{context}: {e}"))
}

/// Finds how far the journal's chain and replay are sound: the last good seq (the head when all is well)
/// and the problem after it.
fn sound_prefix(journal: &dyn Journal) -> (u64, Option<String>) {
    let mut last_good = 0;
    let result = journal.replay(1, &mut |e| {
        last_good = e.seq;
        Ok(())
    });
    if let Err(e) = result {
        return (last_good, Some(e.to_string()));
    }
    let genesis = journal.genesis().ok().flatten().and_then(|b| Genesis::decode(&b).ok());
    let Some(genesis) = genesis else { return (0, Some("the genesis does not decode".to_owned())) };
    match replay_into(State::new(genesis), journal, ReplayOptions::default()) {
        Ok(_) => (journal.head().seq, None),
        // Entries before the one the replay refused are sound; an invariant failing at the end names none.
        Err(e) => {
            let refused = match &e {
                ReplicaError::Decode { seq, .. }
                | ReplicaError::Signature { seq }
                | ReplicaError::ReplayRejected { seq, .. } => Some(*seq),
                _ => None,
            };
            (refused.map_or(0, |seq| seq.saturating_sub(1)), Some(format!("replay: {e}")))
        }
    }
}

/// Diagnoses `dir` without changing it. `accept_loss` allows plans that give up acknowledged entries. A
/// journal that cannot be read at all (no file, no tables, another format) is reported as not repairable.
/// Errors: copying the journal failed for another reason (e.g. locked).
pub fn diagnose(dir: &Path, accept_loss: bool) -> Result<RepairPlan, RepairError> {
    let mut plan = RepairPlan {
        dir: dir.to_owned(),
        journal: JournalLocation::DataDir,
        findings: Vec::new(),
        actions: Vec::new(),
        repairable: true,
    };
    let (journal, report, _copy) = match SqliteJournal::open_copy(dir) {
        Ok(opened) => opened,
        Err(
            error @ (JournalError::Io(_) | JournalError::Corrupt { .. } | JournalError::FormatVersion { .. }),
        ) => {
            plan.findings.push(format!(
                "the journal cannot be read ({error}): its history is in files that are missing or damaged \
                 (a deleted write-ahead log holds the newest commits). Restore journal.sqlite and \
                 journal.sqlite-wal from a backup or a follower"
            ));
            plan.repairable = false;
            return Ok(plan);
        }
        Err(error) => return Err(err("opening a copy of the journal")(error)),
    };
    let anchor = AnchorFile::read(dir);
    let head = report.head.seq;
    let (good, problem) = sound_prefix(&journal);
    if let Some(problem) = &problem {
        plan.findings.push(format!("the journal is sound up to entry {good} of {head}: {problem}"));
    }
    match (&anchor, problem) {
        (Err(e), None) => {
            plan.findings.push(format!("{e}"));
            plan.actions.push(RepairAction::Reanchor { seq: head, from: None });
        }
        (Ok(anchor), None) => match check_anchor(&journal, anchor) {
            Ok(check) if check.unanchored == 0 => plan.findings.push("the journal agrees with its anchor".into()),
            Ok(check) => plan.findings.push(format!(
                "{} entries of one unacknowledged commit follow the anchor (normal after a crash; `serve` keeps them)",
                check.unanchored
            )),
            Err(JournalError::Anchor(AnchorMismatch::Ahead { anchor_seq, .. })) => {
                plan.findings.push(format!("the journal runs past its anchor ({anchor_seq}) by more than one commit"));
                plan.actions.push(RepairAction::Reanchor { seq: head, from: Some(anchor_seq) });
            }
            Err(e) => {
                let kept = Kept { head, anchored: anchor.head.seq, keep: head };
                loss(&mut plan, e.to_string(), kept, accept_loss, SQLITE_RESTORE);
            }
        },
        (anchor, Some(_)) => {
            let anchored = anchor.as_ref().map_or(0, |a| a.head.seq);
            if report.bad_last_entry.is_some() && good + 1 == head && good >= anchored {
                plan.findings.push(format!("entry {head} (not acknowledged) is damaged"));
                plan.actions.push(RepairAction::Truncate { seq: good, dropped: 1, acknowledged: 0 });
                plan.actions.push(RepairAction::Reanchor { seq: good, from: Some(anchored) });
            } else {
                let what = format!("entry {} is damaged", good + 1);
                loss(&mut plan, what, Kept { head, anchored, keep: good }, accept_loss, SQLITE_RESTORE);
            }
        }
    }
    beyond_the_kept_history(dir, &mut plan);
    Ok(plan)
}

/// As [`diagnose`] for a journal at `location`: `journal.sqlite` ([`diagnose`]) or a PostgreSQL database,
/// read in a read-only session (nothing changes, no writer lease is taken).
pub fn diagnose_at(
    dir: &Path,
    location: &JournalLocation,
    accept_loss: bool,
) -> Result<RepairPlan, RepairError> {
    let JournalLocation::Postgres(url) = location else { return diagnose(dir, accept_loss) };
    let mut plan = RepairPlan {
        dir: dir.to_owned(),
        journal: location.clone(),
        findings: Vec::new(),
        actions: Vec::new(),
        repairable: true,
    };
    let (journal, report) = match PostgresJournal::open_read_only(url) {
        Ok(opened) => opened,
        Err(
            error @ (JournalError::Io(_) | JournalError::Corrupt { .. } | JournalError::FormatVersion { .. }),
        ) => {
            plan.findings.push(format!(
                "the PostgreSQL journal cannot be read ({error}). Check that the server runs and the URL \
                 names the node's database; if the database is lost, restore it from a standby or a base \
                 backup (docs/operations.md, \"Failover\")"
            ));
            plan.repairable = false;
            return Ok(plan);
        }
        Err(error) => return Err(err("opening the PostgreSQL journal read-only")(error)),
    };
    let head = report.head.seq;
    let (good, problem) = sound_prefix(&journal);
    match (AnchorFile::read(dir), problem) {
        (Err(e), None) => {
            plan.findings.push(format!("{e}"));
            plan.actions.push(RepairAction::Reanchor { seq: head, from: None });
        }
        (Ok(anchor), None) => judge_shared_anchor(&mut plan, &journal, &anchor, accept_loss),
        (anchor, Some(problem)) => {
            plan.findings.push(format!("the journal is sound up to entry {good} of {head}: {problem}"));
            let anchored = anchor.as_ref().map_or(0, |a| a.head.seq);
            let what =
                format!("entry {} is damaged (a PostgreSQL commit is atomic: not a torn write)", good + 1);
            loss(&mut plan, what, Kept { head, anchored, keep: good }, accept_loss, POSTGRES_RESTORE);
        }
    }
    beyond_the_kept_history(dir, &mut plan);
    Ok(plan)
}

/// Judges a sound PostgreSQL journal against the directory's anchor: agreeing or longer (a later writer's
/// entries) needs nothing; shorter or different is a loss.
fn judge_shared_anchor(plan: &mut RepairPlan, journal: &PostgresJournal, anchor: &Anchor, accept_loss: bool) {
    let head = journal.head().seq;
    match check_anchor(journal, anchor) {
        Ok(check) if check.unanchored == 0 => plan.findings.push("the journal agrees with its anchor".into()),
        Ok(check) => plan.findings.push(format!(
            "{} entries of the last commit follow the anchor (`serve` verifies and anchors them)",
            check.unanchored
        )),
        Err(JournalError::Anchor(AnchorMismatch::Ahead { anchor_seq, .. })) => plan.findings.push(format!(
            "the journal runs {} entries past this directory's anchor (entry {anchor_seq}): a later writer's \
             (normal after a failover with an older copy of the directory); `serve` verifies and anchors them",
            head - anchor_seq
        )),
        Err(e) => {
            let kept = Kept { head, anchored: anchor.head.seq, keep: head };
            loss(plan, e.to_string(), kept, accept_loss, POSTGRES_RESTORE);
        }
    }
}

/// Snapshots and checkpoints of entries after the head a repair keeps: snapshots (a cache) are removed;
/// checkpoints are the guardians' statements and stay, so a final one still refuses the start.
fn beyond_the_kept_history(dir: &Path, plan: &mut RepairPlan) {
    let Some(kept) = plan.actions.iter().rev().find_map(|a| match a {
        RepairAction::Reanchor { seq, .. } => Some(*seq),
        _ => None,
    }) else {
        return;
    };
    for (seq, path) in crate::snapshots::list(dir).into_iter().filter(|(seq, _)| *seq > kept) {
        plan.actions.push(RepairAction::RemoveSnapshot { seq, path });
    }
    if let Ok(store) = crate::checkpoints::CheckpointStore::open(dir) {
        for checkpoint in store.checkpoints().filter(|c| c.seq > kept) {
            plan.findings.push(format!(
                "the guardian checkpoint of entry {} is beyond the history kept: if it is final, the node \
                 still refuses to start (a rollback past what the guardians signed)",
                checkpoint.seq
            ));
        }
    }
}

/// The journal's head, the anchored head, and the entry a repair that accepts a loss keeps up to.
struct Kept {
    head: u64,
    anchored: u64,
    keep: u64,
}

/// What to restore when a SQLite journal lost acknowledged history.
const SQLITE_RESTORE: &str =
    "Restore the journal files (journal.sqlite and journal.sqlite-wal) from a backup or a \
     follower; or, accepting the loss of acknowledged commands, run `tfeco repair --accept-loss`";

/// What to do when a PostgreSQL journal lost acknowledged history.
const POSTGRES_RESTORE: &str = "Point --journal at a standby that has the history, or restore the database \
     from a base backup and its WAL archive (point-in-time recovery), then run `tfeco verify --journal` \
     (docs/operations.md, \"Failover\"); or, accepting the loss of acknowledged commands, stop every \
     writer and run `tfeco repair --journal URL --accept-loss` (it deletes the rows after the kept entry \
     and takes the writer lease)";

/// A problem that loses acknowledged history: repairable only by accepting the loss, which truncates the
/// journal after `kept.keep` (when it runs further) and anchors it there. `restore` says what to do instead.
fn loss(plan: &mut RepairPlan, what: String, kept: Kept, accept_loss: bool, restore: &str) {
    let Kept { head, anchored, keep } = kept;
    plan.findings.push(format!(
        "{what}: acknowledged history (up to entry {anchored}) is missing or different. {restore}"
    ));
    if !accept_loss {
        plan.repairable = false;
        return;
    }
    if keep < head {
        let acknowledged = anchored.saturating_sub(keep);
        plan.actions.push(RepairAction::Truncate { seq: keep, dropped: head - keep, acknowledged });
    }
    plan.actions.push(RepairAction::Reanchor { seq: keep, from: Some(anchored) });
}

/// Carries out `plan` in place. Errors: the journal or the anchor cannot be written; the journal changed
/// since the diagnosis (a truncation target beyond its head); PostgreSQL: the writer lease cannot be taken
/// (a standby, or another writer appended since).
pub fn apply(plan: &RepairPlan) -> Result<(), RepairError> {
    match &plan.journal {
        JournalLocation::DataDir => {
            let (mut journal, _) =
                SqliteJournal::open_existing(&plan.dir).map_err(err("opening the journal"))?;
            apply_to(plan, &mut journal)
        }
        JournalLocation::Postgres(url) => {
            let (mut journal, _) = PostgresJournal::open_existing(url).map_err(err("opening the journal"))?;
            if plan.actions.iter().any(|a| matches!(a, RepairAction::Truncate { .. })) {
                journal.take_lease().map_err(err("taking the journal's writer lease to truncate it"))?;
            }
            apply_to(plan, &mut journal)
        }
    }
}

/// Carries out `plan`'s actions on `journal` and the directory's anchor and snapshots.
fn apply_to(plan: &RepairPlan, journal: &mut impl Truncate) -> Result<(), RepairError> {
    let dir = &plan.dir;
    for action in &plan.actions {
        match action {
            &RepairAction::Truncate { seq, .. } => {
                journal.truncate_after(seq).map_err(err("truncating the journal"))?;
            }
            &RepairAction::Reanchor { seq, .. } => {
                if journal.head().seq != seq {
                    return Err(RepairError(format!("the journal's head is not {seq}; diagnose again")));
                }
                reanchor(dir, journal)?;
            }
            RepairAction::RemoveSnapshot { path, .. } => std::fs::remove_file(path)
                .map_err(|e| RepairError(format!("removing {}: {e}", path.display())))?,
        }
    }
    Ok(())
}

/// Writes the anchor at the journal's head, creating it (and keeping a damaged one as `anchor.damaged`).
fn reanchor(dir: &Path, journal: &mut impl Journal) -> Result<(), RepairError> {
    let head = journal.head();
    match AnchorFile::open(dir) {
        Ok(mut file) => file.write(head, journal.last_commit_start()).map_err(err("writing the anchor")),
        Err(_) => {
            let path = dir.join(ANCHOR_FILE);
            if path.exists() {
                std::fs::rename(&path, dir.join("anchor.damaged"))
                    .map_err(|e| RepairError(format!("keeping the damaged anchor: {e}")))?;
            }
            let id = match journal.get_meta(DATADIR_ID_KEY).map_err(err("reading the journal"))? {
                Some(bytes) => <[u8; 16]>::try_from(bytes.as_slice())
                    .map_err(|_| RepairError(format!("the journal's {DATADIR_ID_KEY} is not 16 bytes")))?,
                None => return Err(RepairError("the journal has no data-directory id".into())),
            };
            let mut file =
                AnchorFile::create(dir, id, journal.root(), head).map_err(err("creating the anchor"))?;
            file.write(head, journal.last_commit_start()).map_err(err("writing the anchor"))
        }
    }
}
