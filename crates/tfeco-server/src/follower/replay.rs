//! The follower's recomputation of its own history at given entries, for the primary's checkpoints it has
//! already passed: the newest of its own snapshots at or before the first entry asked (verified against its
//! journal, as a node's start verifies one), else the genesis, then its own journal entries replayed page by
//! page. The replica is only read-locked for each page read, so applying new entries goes on meanwhile, and
//! the cost is bounded by the snapshot interval rather than the journal's length.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use parking_lot::RwLock;
use tfeco_core::{Genesis, State};
use tfeco_journal::EntryHash;

use crate::replica::{Replica, ReplicaError};

/// Entries read per page.
const PAGE: usize = 1_000;

/// The state to replay from for entry `seq`: the newest snapshot of `dir` at or before `seq` that matches
/// the journal, else the genesis state; with the seq of the next entry to apply.
fn start_for(replica: &RwLock<Replica>, dir: Option<&Path>, seq: u64) -> Result<(State, u64), ReplicaError> {
    if let Some(dir) = dir {
        let hash_at = |at: u64| {
            if at > seq {
                return None;
            }
            replica.read().read_entries(at, 1).ok()?.first().filter(|e| e.seq == at).map(|e| e.hash)
        };
        if let (Some((state, meta)), _) = crate::snapshots::load_newest(dir, hash_at) {
            return Ok((state, meta.seq + 1));
        }
    }
    let genesis = Genesis::decode(&replica.read().genesis_bytes()?)?;
    Ok((State::new(genesis), 1))
}

/// The hash of each entry of `seqs` and the state hash (hex) after it, recomputed from the follower's own
/// snapshots (in `dir`) and journal; seqs beyond the head are left out.
///
/// Errors: the journal's (corruption, I/O) and the replay's.
pub fn hashes_at(
    replica: &RwLock<Replica>,
    dir: Option<&Path>,
    seqs: &BTreeSet<u64>,
) -> Result<BTreeMap<u64, (EntryHash, String)>, ReplicaError> {
    let mut found = BTreeMap::new();
    let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) else { return Ok(found) };
    let (mut state, mut next) = start_for(replica, dir, first)?;
    while next <= last {
        let page = replica.read().read_entries(next, PAGE)?;
        let Some(end) = page.last().map(|e| e.seq) else { break };
        for entry in page.iter().take_while(|e| e.seq <= last) {
            Replica::replay_onto(&mut state, std::slice::from_ref(entry))?;
            if seqs.contains(&entry.seq) {
                found.insert(entry.seq, (entry.hash, state.state_hash()));
            }
        }
        next = end + 1;
    }
    Ok(found)
}
