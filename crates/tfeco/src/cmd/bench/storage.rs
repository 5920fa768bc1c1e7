//! The journal and replay figures of the foundation suite, over the simulator's signed corpus: durable
//! appends (one transaction and one fsync per batch, then the anchor's write and sync, as the node's group
//! commit does) into a fresh SQLite journal, and a full `replay_into` from a fresh state with its breakdown
//! (the same replay over a `MemoryJournal`, and the pure hash, checksum and decode steps timed on the same
//! entries).

use std::path::Path;

use anyhow::{ensure, Context};
use tfeco_core::SignedBody;
use tfeco_core::{Genesis, State};
use tfeco_journal::{AnchoredJournal, EntryRef, Journal, MemoryJournal, NewEntry, SqliteJournal, ZERO_HASH};
use tfeco_server::replica::{replay_into, ReplayOptions};
use tfeco_sim::bench::foundation::{JournalFigure, ReplayBreakdown, ReplayFigure, Sizes};
use tfeco_sim::bench::measure::Span;
use tfeco_sim::bench::workload::Corpus;

/// The replay journal is written in batches of this many entries.
const REPLAY_WRITE_BATCH: usize = 10_000;

/// The corpus as journal entries.
pub(super) struct Entries {
    pub(super) all: Vec<NewEntry>,
    /// Setup entries at the start (registrations and deposits); transfers follow.
    pub(super) setup: usize,
}

/// The corpus as journal entries, and the hash of the state it builds.
pub(super) fn journal_entries(corpus: Corpus) -> (Entries, String) {
    let all = corpus
        .entries
        .into_iter()
        .map(|e| NewEntry {
            timestamp_ms: e.timestamp_ms,
            signer: e.signer,
            payload: e.payload,
            signature: e.signature,
        })
        .collect();
    (Entries { all, setup: corpus.setup_entries }, corpus.state_hash)
}

pub(super) fn temp_dir(what: &str) -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("tfeco-bench-{what}-"))
        .tempdir()
        .with_context(|| format!("creating a temporary directory in {}", std::env::temp_dir().display()))
}

pub(super) fn open_journal(dir: &Path) -> anyhow::Result<SqliteJournal> {
    Ok(SqliteJournal::open(dir).with_context(|| format!("opening a journal in {}", dir.display()))?.0)
}

/// Appends of the corpus's transfers in batches of 1, 100 and 1,000, each into a fresh journal.
pub(super) fn bench_journal(entries: &Entries, sizes: Sizes) -> anyhow::Result<[JournalFigure; 3]> {
    let transfers = &entries.all[entries.setup..];
    let mut figures = [1, 100, 1_000].map(|batch| JournalFigure { batch, entries: 0, span: Span::default() });
    for figure in &mut figures {
        let n = if figure.batch == 1 { sizes.journal_batch_1_entries } else { sizes.journal_entries };
        ensure!(transfers.len() >= n, "the corpus holds {} transfers, {n} needed", transfers.len());
        figure.entries = n;
        figure.span = append_all(&transfers[..n], figure.batch)?;
    }
    Ok(figures)
}

/// Durable appends of `entries` in batches of `batch` into a fresh journal, anchored as the node's is (one
/// journal commit and one anchor write, each synced, per batch).
fn append_all(entries: &[NewEntry], batch: usize) -> anyhow::Result<Span> {
    let dir = temp_dir("journal")?;
    let mut journal = open_journal(dir.path())?;
    journal.set_genesis(b"bench")?;
    let mut journal = AnchoredJournal::create(journal, dir.path(), [0; 16])?;
    let (appended, span) = Span::measure(|| -> anyhow::Result<()> {
        for chunk in entries.chunks(batch) {
            journal.append(chunk)?;
        }
        Ok(())
    });
    appended?;
    ensure!(journal.head().seq == entries.len() as u64, "the journal lost entries");
    Ok(span)
}

/// The pure steps of replay on every entry: hash and checksum, then decode.
fn time_pure_steps(entries: &[NewEntry]) -> anyhow::Result<(Span, Span)> {
    let ((), hash_span) = Span::measure(|| {
        for e in entries {
            let view = EntryRef {
                seq: 1,
                timestamp_ms: e.timestamp_ms,
                signer: &e.signer,
                payload: &e.payload,
                signature: &e.signature,
                prev_hash: &ZERO_HASH,
                hash: &ZERO_HASH,
            };
            std::hint::black_box(view.compute_checksum());
        }
    });
    let (decoded, decode_span) = Span::measure(|| {
        entries.iter().filter(|e| SignedBody::from_payload(std::hint::black_box(&e.payload)).is_ok()).count()
    });
    ensure!(decoded == entries.len(), "{} corpus payloads do not decode", entries.len() - decoded);
    Ok((hash_span, decode_span))
}

/// Writes the corpus to a SQLite journal (and a memory journal), reopens it and times a full replay; the
/// replayed state must be the one that built the corpus.
pub(super) fn bench_replay(
    genesis: &Genesis,
    entries: Entries,
    expected_hash: &str,
) -> anyhow::Result<ReplayFigure> {
    let dir = temp_dir("replay")?;
    let n = entries.all.len();
    let mut memory = MemoryJournal::new();
    {
        let mut journal = open_journal(dir.path())?;
        for chunk in entries.all.chunks(REPLAY_WRITE_BATCH) {
            journal.append(chunk)?;
            memory.append(chunk)?;
        }
    }
    let (hash_span, decode_span) = time_pure_steps(&entries.all)?;
    drop(entries);
    let check = |state: State| -> anyhow::Result<()> {
        let applied = state.commands_applied();
        ensure!(applied == n as u64, "replay applied {applied} of {n} entries");
        ensure!(
            state.state_hash() == expected_hash,
            "the replayed state differs from the state that built the log"
        );
        Ok(())
    };
    let (state, memory_span) =
        Span::measure(|| replay_into(State::new(genesis.clone()), &memory, ReplayOptions::default()));
    check(state?)?;
    drop(memory);
    let journal = open_journal(dir.path())?;
    let (state, span) =
        Span::measure(|| replay_into(State::new(genesis.clone()), &journal, ReplayOptions::default()));
    check(state?)?;
    let breakdown = ReplayBreakdown::from_spans(n, span, memory_span, hash_span, decode_span);
    Ok(ReplayFigure { entries: n, span, breakdown })
}
