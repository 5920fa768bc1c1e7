//! Targets `snapshot_state`, `snapshot_file` and `anchor_file`: the state's canonical encoding
//! ([`State::from_snapshot_bytes`]), the snapshot files a node starts from (`DIR/snapshots/`, read with
//! [`snapshots::load`]) and the anchor (superblock) file of a data directory ([`AnchorFile`]).
//!
//! `snapshot_state` passes the bytes with their own hash, so that every input reaches the decoder, the
//! rebuild of the derived lookups and the invariant checks; it asserts: no panic; an accepted state
//! re-encodes to exactly the input bytes and has the expected hash; it applies the operator's next
//! command (a clock tick) keeping every invariant.
//!
//! `snapshot_file` loads the file as given, and once more with its body length, state hash and trailing
//! checksum made consistent (so that changed bodies reach the state decoder). Asserts: no panic; an
//! accepted file's header names the loaded state's hash, and writing that state again gives the same bytes.
//!
//! `anchor_file` reads the file as given, and once more with each slot's checksum made consistent.
//! Asserts: no panic; an accepted anchor can be opened for writing, and the next write records the same
//! head with a counter one higher, which is what the next read returns (an anchor never goes backwards).

use std::path::{Path, PathBuf};

use tfeco_core::command::{Command, Envelope};
use tfeco_core::State;
use tfeco_journal::anchor::{AnchorFile, ANCHOR_FILE, SLOT_LEN};
use tfeco_server::snapshots;

use crate::Verdict;

/// A fresh scratch directory: on `/dev/shm` where there is one (no disk I/O), else the system's.
pub fn scratch_dir() -> tempfile::TempDir {
    let builder = tempfile::Builder::new().prefix("tfeco-fuzz-").tempdir_in("/dev/shm");
    builder.or_else(|_| tempfile::tempdir()).expect("a scratch directory")
}

/// The body of target `snapshot_state`.
pub fn snapshot_state(data: &[u8]) -> Verdict {
    let _ = postcard::from_bytes::<State>(data);
    let expected = State::hash_of_snapshot_bytes(data);
    let Ok(mut state) = State::from_snapshot_bytes(data, &expected) else { return Verdict::Refused };
    assert_eq!(state.snapshot_bytes(), data, "an accepted snapshot re-encodes differently");
    assert_eq!(state.state_hash(), expected);
    let operator = state.params().operator;
    let nonce = state.ledger().account(&operator).map_or(1, |a| a.last_nonce.saturating_add(1));
    let tick = Command::Tick { now: state.now().saturating_add(3600) };
    let _ = state.apply_at(&Envelope { signer: operator, nonce, command: tick }, state.now());
    if let Err(broken) = state.check_invariants() {
        panic!("a decoded state breaks an invariant after a tick: {broken}");
    }
    Verdict::Accepted
}

/// Little-endian field offsets of the snapshot header (`tfeco_server::snapshots`' module doc).
const HEADER_LEN: usize = 112;

/// `file` with the body length, the state hash and the trailing checksum made consistent with its body.
fn consistent_snapshot(file: &[u8]) -> Option<Vec<u8>> {
    let body_end = file.len().checked_sub(32)?;
    let body = file.get(HEADER_LEN..body_end)?;
    let mut fixed = file.to_vec();
    fixed[104..112].copy_from_slice(&(body.len() as u64).to_le_bytes());
    let state_hash = hex::decode(State::hash_of_snapshot_bytes(body)).expect("a state hash is hex");
    fixed[64..96].copy_from_slice(&state_hash);
    let checksum = blake3::hash(&fixed[..body_end]);
    fixed[body_end..].copy_from_slice(checksum.as_bytes());
    Some(fixed)
}

/// Where a snapshot file with `bytes` goes in data directory `dir`: named after the header's seq.
fn snapshot_file_path(dir: &Path, bytes: &[u8]) -> PathBuf {
    let seq = bytes.get(24..32).map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    snapshots::snapshot_path(dir, seq)
}

/// Loads `bytes` as a snapshot file; when accepted, checks the header and the re-written file.
fn load_snapshot_file(bytes: &[u8]) -> bool {
    let dir = scratch_dir();
    let path = snapshot_file_path(dir.path(), bytes);
    std::fs::create_dir_all(snapshots::snapshot_dir(dir.path())).expect("a scratch snapshot directory");
    std::fs::write(&path, bytes).expect("a scratch file");
    let Ok((state, meta)) = snapshots::load(&path, None) else { return false };
    assert_eq!(meta.state_hash, state.state_hash(), "the header names another state");
    let again = scratch_dir();
    let written = snapshots::write(again.path(), (meta.seq, meta.journal_hash, meta.timestamp_ms), &state)
        .expect("a scratch snapshot is written");
    assert_eq!(std::fs::read(&written.path).expect("the written snapshot"), bytes, "an unstable snapshot");
    true
}

/// The body of target `snapshot_file`.
pub fn snapshot_file(data: &[u8]) -> Verdict {
    let as_given = load_snapshot_file(data);
    let fixed = consistent_snapshot(data).is_some_and(|fixed| fixed != data && load_snapshot_file(&fixed));
    Verdict::from_bool(as_given || fixed)
}

/// The offsets of the anchor's two slots (`tfeco_journal::anchor`'s module doc).
const SLOT_OFFSETS: [usize; 2] = [0, 4096];

/// `file` with the blake3 checksum of each complete slot recomputed.
fn consistent_anchor(file: &[u8]) -> Vec<u8> {
    let mut fixed = file.to_vec();
    for offset in SLOT_OFFSETS {
        if let Some(slot) = fixed.get_mut(offset..offset + SLOT_LEN) {
            let sum = blake3::hash(&slot[..SLOT_LEN - 32]);
            slot[SLOT_LEN - 32..].copy_from_slice(sum.as_bytes());
        }
    }
    fixed
}

/// Reads `bytes` as an anchor file; when accepted, writes the next copy and reads it back.
fn read_anchor_file(bytes: &[u8]) -> bool {
    let dir = scratch_dir();
    std::fs::write(dir.path().join(ANCHOR_FILE), bytes).expect("a scratch anchor file");
    let Ok(anchor) = AnchorFile::read(dir.path()) else { return false };
    let mut file = AnchorFile::open(dir.path()).expect("a readable anchor opens for writing");
    assert_eq!(file.anchor(), anchor, "open and read disagree on the newest copy");
    if file.write(anchor.head, anchor.commit_start).is_ok() {
        let next = AnchorFile::read(dir.path()).expect("a written anchor reads back");
        assert_eq!(
            (next.head, next.commit_start, next.root, next.datadir_id),
            (anchor.head, anchor.commit_start, anchor.root, anchor.datadir_id)
        );
        assert!(
            next.counter > anchor.counter,
            "the anchor went backwards: {} after {}",
            next.counter,
            anchor.counter
        );
    }
    true
}

/// The body of target `anchor_file`.
pub fn anchor_file(data: &[u8]) -> Verdict {
    let as_given = read_anchor_file(data);
    let fixed = consistent_anchor(data);
    let fixed = fixed != data && read_anchor_file(&fixed);
    Verdict::from_bool(as_given || fixed)
}
