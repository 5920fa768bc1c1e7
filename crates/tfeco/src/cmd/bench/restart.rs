//! `tfeco bench --suite restart`: how long a node takes to start on a large journal, from its newest
//! snapshot (the node's path: anchor check, snapshot load and verification, replay of the tail) and from the
//! genesis (a full replay), over the simulator's signed transfer corpus (1,000,000 entries; 100,000 with
//! `--quick`) in a real data directory.

use std::time::Instant;

use anyhow::{ensure, Context};
use serde_json::{json, Value};
use tfeco_core::State;
use tfeco_journal::Journal;
use tfeco_server::datadir::{open_node, NewNode};
use tfeco_server::replica::replay_into;
use tfeco_server::{snapshots, ReplayOptions};
use tfeco_sim::bench::workload::{bench_key, build_corpus, Signers, GENESIS_TIME};
use tfeco_wallet::client::account_of;

use super::storage::{journal_entries, temp_dir};

/// Entries after the snapshot, replayed at every restart (what a node with the default policy replays at
/// most is `every_entries`; this is a typical tail).
const TAIL: usize = 10_000;
/// Entries written per commit while building the journal.
const WRITE_BATCH: usize = 10_000;

fn never() -> NewNode {
    panic!("the benchmark's data directory exists")
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1_000.0
}

/// Builds the data directory and times both restarts. Runs on a blocking thread.
pub(super) fn bench_restart(quick: bool, threads: usize) -> anyhow::Result<Value> {
    let total = if quick { 100_000 } else { 1_000_000 };
    let signers = Signers::new(10_000);
    let operator_key = bench_key("operator", 0);
    ensure!(account_of(&operator_key) == signers.operator(), "the corpus's operator key");
    let mut genesis = tfeco_core::Genesis::tfgrid4_2025(signers.operator(), GENESIS_TIME);
    genesis.params.dev_mode = true; // a throw-away single-key node
    let corpus = build_corpus(&genesis, &signers, total, threads)?;
    let (entries, expected_hash) = journal_entries(corpus);
    let dir = temp_dir("restart")?;
    let new = || NewNode { operator_key, genesis: genesis.clone(), datadir_id: rand::random() };
    drop(open_node(dir.path(), new, ReplayOptions::default())?);
    let (mut journal, _) = tfeco_journal::open_anchored(dir.path())?;
    let cut = entries.all.len().saturating_sub(TAIL);
    for chunk in entries.all[..cut].chunks(WRITE_BATCH) {
        journal.append(chunk)?;
    }
    let state = replay_into(State::new(genesis.clone()), &journal, ReplayOptions::default())?;
    let head = journal.head();
    let written = Instant::now();
    let meta = snapshots::write(dir.path(), (head.seq, head.hash, head.timestamp_ms), &state)?;
    let snapshot_write_ms = ms(written);
    let snapshot_bytes = std::fs::metadata(&meta.path).context("the snapshot file")?.len();
    for chunk in entries.all[cut..].chunks(WRITE_BATCH) {
        journal.append(chunk)?;
    }
    drop((journal, state));

    let started = Instant::now();
    let (replica, report, _) = open_node(dir.path(), never, ReplayOptions::default())?;
    let from_snapshot_ms = ms(started);
    ensure!(report.from_snapshot == Some(meta.seq), "the restart did not use the snapshot");
    ensure!(replica.state().state_hash() == expected_hash, "the restarted state differs");
    drop(replica);
    std::fs::remove_dir_all(snapshots::snapshot_dir(dir.path()))?;
    let started = Instant::now();
    let (replica, report, _) = open_node(dir.path(), never, ReplayOptions::default())?;
    let full_replay_ms = ms(started);
    ensure!(report.from_snapshot.is_none() && replica.state().state_hash() == expected_hash, "full replay");
    Ok(json!({
        "entries": entries.all.len(),
        "snapshot_seq": meta.seq,
        "tail_entries": entries.all.len() - cut,
        "accounts": signers.users() + 1,
        "snapshot_bytes": snapshot_bytes,
        "snapshot_write_ms": snapshot_write_ms,
        "restart_from_snapshot_ms": from_snapshot_ms,
        "restart_full_replay_ms": full_replay_ms,
        "target_ms": 1_000,
        "ok": from_snapshot_ms < 1_000.0 || cfg!(debug_assertions),
    }))
}
