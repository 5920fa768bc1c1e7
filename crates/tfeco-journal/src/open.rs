//! Opening a data directory's journal against its anchor: [`open_anchored`] for the node (in place,
//! ready to append; [`open_anchored_postgres`] when the entries live in PostgreSQL) and [`open_anchored_copy`] for `tfeco verify` (a private copy: the directory is not
//! changed by a byte; [`open_anchored_postgres_read_only`] for a PostgreSQL journal). All refuse what the anchor contradicts ([`check_anchor`]) and drop only a damaged
//! commit the anchor does not cover, which was never acknowledged.

use std::path::Path;

use crate::anchor::{check_anchor, Anchor, AnchorFile, AnchoredJournal};
use crate::{AnchorMismatch, Journal, JournalError, OpenReport, PostgresJournal, SqliteJournal, Truncate};

/// What opening found besides the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchoredOpen {
    /// The anchor as read (before any re-anchoring).
    pub anchor: Anchor,
    /// Entries kept beyond the anchor: one commit whose anchor write a crash prevented (never
    /// acknowledged, chain-verified, now anchored by [`open_anchored`]).
    pub unanchored: u64,
    /// Entries dropped: `(first, last, problem)` of an unacknowledged commit whose last entry is damaged.
    pub dropped: Option<(u64, u64, JournalError)>,
    /// PostgreSQL only: entries after the anchor beyond one commit, appended by a later writer (this data
    /// directory is an older copy, e.g. the new writer's after a failover). A shared journal may be longer
    /// than a directory's anchor, never shorter: they are chain-verified and, by a writer, anchored.
    pub caught_up: u64,
}

/// Checks `journal` against `anchor` and drops a damaged unacknowledged last commit.
fn reconcile(
    journal: &mut impl Truncate,
    report: OpenReport,
    anchor: Anchor,
) -> Result<AnchoredOpen, JournalError> {
    let check = check_anchor(journal, &anchor)?;
    let mut open = AnchoredOpen { anchor, unanchored: check.unanchored, dropped: None, caught_up: 0 };
    if let Some((seq, problem)) = report.bad_last_entry {
        if seq <= anchor.head.seq {
            return Err(problem);
        }
        tracing::warn!(seq, %problem, "dropping an unacknowledged commit whose last entry is damaged");
        journal.truncate_after(anchor.head.seq)?;
        open.dropped = Some((anchor.head.seq + 1, seq, problem));
        open.unanchored = 0;
    }
    if open.unanchored > 0 {
        // Verify the kept commit's chain before anchoring it, and make it durable: after a process crash
        // it may be only in the OS cache (found by tfeco-vopr, seed 132).
        journal.replay(anchor.head.seq + 1, &mut |_| Ok(()))?;
        journal.make_durable()?;
    }
    Ok(open)
}

/// Opens the journal of the data directory `dir` in place against its anchor, for appending: never
/// creates a file. A kept unanchored commit is anchored before returning.
///
/// Errors: `AnchorFile` (anchor missing or both copies damaged), `Anchor` (the journal contradicts it),
/// `Corrupt` (an acknowledged entry is damaged), `Io`, `Locked`, `FormatVersion`.
pub fn open_anchored(dir: &Path) -> Result<(AnchoredJournal<SqliteJournal>, AnchoredOpen), JournalError> {
    let anchor_file = AnchorFile::open(dir)?;
    let (mut journal, report) = SqliteJournal::open_existing(dir)?;
    let open = reconcile(&mut journal, report, anchor_file.anchor())?;
    journal.set_checkpoint_on_close(true);
    let mut anchored = AnchoredJournal::new(journal, anchor_file);
    anchored.anchor_head()?;
    Ok((anchored, open))
}

/// Opens `journal` (just opened by its backend, which reported `report`) in place against the anchor in
/// `anchor_file`, for appending: the checks and the one repair of [`open_anchored`] (a damaged
/// unacknowledged last commit is dropped), then a kept unanchored commit is anchored. For backends other
/// than SQLite, e.g. the simulated storage of `tfeco-vopr`.
///
/// Errors: as [`open_anchored`].
pub fn open_anchored_with<J: Truncate>(
    mut journal: J,
    report: OpenReport,
    anchor_file: AnchorFile,
) -> Result<(AnchoredJournal<J>, AnchoredOpen), JournalError> {
    let open = reconcile(&mut journal, report, anchor_file.anchor())?;
    let mut anchored = AnchoredJournal::new(journal, anchor_file);
    anchored.anchor_head()?;
    Ok((anchored, open))
}

/// Opens a private copy of the journal of `dir` against its anchor (read only: nothing in `dir` changes).
/// The guard deletes the copy on drop. Errors: as [`open_anchored`].
pub fn open_anchored_copy(
    dir: &Path,
) -> Result<(SqliteJournal, AnchoredOpen, tempfile::TempDir), JournalError> {
    let anchor = AnchorFile::read(dir)?;
    let (mut journal, report, copy) = SqliteJournal::open_copy(dir)?;
    let open = reconcile(&mut journal, report, anchor)?;
    Ok((journal, open, copy))
}

/// Checks a PostgreSQL journal against a data directory's `anchor`, changing nothing: same directory,
/// genesis, the anchored entry unchanged and present (never shorter). Unlike a directory's own SQLite file,
/// the database is shared by successive writers (and replicated), so it may run any number of commits past
/// this directory's anchor: those entries are chain-verified and reported in `caught_up`. A damaged last
/// entry is never dropped here (a PostgreSQL commit is atomic, so damage is not a torn write, and another
/// writer may have acknowledged it): it is refused.
///
/// Errors: `Anchor` (rolled back, diverged, another directory or genesis), `Corrupt`, `Io`.
fn reconcile_shared(
    journal: &PostgresJournal,
    report: OpenReport,
    anchor: Anchor,
) -> Result<AnchoredOpen, JournalError> {
    let (unanchored, caught_up) = match check_anchor(journal, &anchor) {
        Ok(check) => (check.unanchored, 0),
        Err(JournalError::Anchor(AnchorMismatch::Ahead { journal_seq, anchor_seq, .. })) => {
            (0, journal_seq - anchor_seq)
        }
        Err(error) => return Err(error),
    };
    if let Some((_, problem)) = report.bad_last_entry {
        return Err(problem);
    }
    if unanchored + caught_up > 0 {
        journal.replay(anchor.head.seq + 1, &mut |_| Ok(()))?;
    }
    if caught_up > 0 {
        tracing::info!(
            anchor_seq = anchor.head.seq,
            journal_seq = journal.head().seq,
            "the journal runs past this data directory's anchor (a later writer appended): verified"
        );
    }
    Ok(AnchoredOpen { anchor, unanchored, dropped: None, caught_up })
}

/// Opens the PostgreSQL journal at `url` against the anchor of the data directory `dir` (which keeps the
/// anchor, keys and snapshots; only the entries live in the database), for appending: never creates the
/// schema. The anchor checks of a shared journal: a database rolled back behind the anchor (a standby
/// that missed acknowledged commits), another economy's or another directory's journal is refused, a
/// journal longer than the anchor (a later writer's entries) is verified and accepted; all before the
/// writer lease is taken, so a refused opener fences nobody. Taking the writer lease then fences any
/// earlier writer; the anchor is moved to the journal's head.
///
/// Errors: as [`open_anchored`]; `Io` when the server is a standby (read-only).
pub fn open_anchored_postgres(
    dir: &Path,
    url: &str,
) -> Result<(AnchoredJournal<PostgresJournal>, AnchoredOpen), JournalError> {
    let anchor_file = AnchorFile::open(dir)?;
    let (mut journal, report) = PostgresJournal::open_existing(url)?;
    let open = reconcile_shared(&journal, report, anchor_file.anchor())?;
    journal.take_lease()?;
    let mut anchored = AnchoredJournal::new(journal, anchor_file);
    anchored.anchor_head()?;
    Ok((anchored, open))
}

/// Opens the PostgreSQL journal at `url` read-only against the anchor of `dir` (for `tfeco verify`): the
/// checks of [`open_anchored_postgres`] in a read-only session, without the writer lease (a running writer
/// is not fenced) and without writing the anchor. Works on a hot standby.
///
/// Errors: as [`open_anchored_postgres`].
pub fn open_anchored_postgres_read_only(
    dir: &Path,
    url: &str,
) -> Result<(PostgresJournal, AnchoredOpen), JournalError> {
    let anchor = AnchorFile::read(dir)?;
    let (journal, report) = PostgresJournal::open_read_only(url)?;
    let open = reconcile_shared(&journal, report, anchor)?;
    Ok((journal, open))
}
