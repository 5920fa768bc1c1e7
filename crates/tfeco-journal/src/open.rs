//! Opening a data directory's journal against its anchor: [`open_anchored`] for the node (in place,
//! ready to append; [`open_anchored_postgres`] when the entries live in PostgreSQL) and [`open_anchored_copy`] for `tfeco verify` (a private copy: the directory is not
//! changed by a byte). Both refuse what the anchor contradicts ([`check_anchor`]) and drop only a damaged
//! commit the anchor does not cover, which was never acknowledged.

use std::path::Path;

use crate::anchor::{check_anchor, Anchor, AnchorFile, AnchoredJournal};
use crate::{JournalError, OpenReport, PostgresJournal, SqliteJournal, Truncate};

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
}

/// Checks `journal` against `anchor` and drops a damaged unacknowledged last commit.
fn reconcile(
    journal: &mut impl Truncate,
    report: OpenReport,
    anchor: Anchor,
) -> Result<AnchoredOpen, JournalError> {
    let check = check_anchor(journal, &anchor)?;
    let mut open = AnchoredOpen { anchor, unanchored: check.unanchored, dropped: None };
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
        // Verify the kept commit's chain before anchoring it.
        journal.replay(anchor.head.seq + 1, &mut |_| Ok(()))?;
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

/// Opens the PostgreSQL journal at `url` against the anchor of the data directory `dir` (which keeps the
/// anchor, keys and snapshots; only the entries live in the database), for appending: never creates the
/// schema. The same checks as [`open_anchored`]: a database rolled back behind the anchor, another
/// economy's or another directory's journal is refused (before the writer lease is taken, so a refused
/// opener fences nobody). Taking the writer lease then fences any earlier writer.
///
/// Errors: as [`open_anchored`].
pub fn open_anchored_postgres(
    dir: &Path,
    url: &str,
) -> Result<(AnchoredJournal<PostgresJournal>, AnchoredOpen), JournalError> {
    let anchor_file = AnchorFile::open(dir)?;
    let (mut journal, report) = PostgresJournal::open_existing(url)?;
    // Checked first (read only), so that a refused opener does not fence the running writer.
    check_anchor(&journal, &anchor_file.anchor())?;
    journal.take_lease()?;
    let open = reconcile(&mut journal, report, anchor_file.anchor())?;
    let mut anchored = AnchoredJournal::new(journal, anchor_file);
    anchored.anchor_head()?;
    Ok((anchored, open))
}
