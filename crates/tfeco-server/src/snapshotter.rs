//! [`Snapshotter`]: writes the replica's snapshots in the background as the [`SnapshotPolicy`] asks, one at
//! a time, and prunes old ones. A failed snapshot is logged and changes nothing else: snapshots are a cache
//! of the journal (see [`crate::snapshots`]).

use std::path::PathBuf;
use std::thread::JoinHandle;

use tfeco_core::State;
use tfeco_journal::Head;

use crate::snapshots::{self, SnapshotPolicy};

/// Background snapshot writer of one data directory.
pub struct Snapshotter {
    dir: PathBuf,
    policy: SnapshotPolicy,
    /// Seq of the last snapshot (loaded at start or written since), 0 if none.
    last_seq: u64,
    /// Wall-clock ms of the last snapshot, or of the start.
    last_ms: i64,
    running: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Snapshotter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshotter").field("dir", &self.dir).field("last_seq", &self.last_seq).finish()
    }
}

impl Snapshotter {
    /// A snapshotter for data directory `dir` whose newest snapshot is at `last_seq` (0: none), started at
    /// `now_ms`.
    pub fn new(dir: PathBuf, policy: SnapshotPolicy, last_seq: u64, now_ms: i64) -> Self {
        Snapshotter { dir, policy, last_seq, last_ms: now_ms, running: None }
    }

    /// After a durable commit that left the journal at `head` and the state at `state`: when a snapshot
    /// is due and none is being written, clones the state and writes it (then prunes) on a thread of its
    /// own. Returns whether one was started.
    pub fn after_commit(&mut self, state: &State, head: Head, now_ms: i64) -> bool {
        let seconds = u64::try_from(now_ms.saturating_sub(self.last_ms) / 1000).unwrap_or(0);
        if !self.policy.due(head.seq.saturating_sub(self.last_seq), seconds) {
            return false;
        }
        if self.running.as_ref().is_some_and(|t| !t.is_finished()) {
            return false;
        }
        let (dir, keep, state) = (self.dir.clone(), self.policy.keep, state.clone());
        let spawned =
            std::thread::Builder::new().name("tfeco-snapshot".to_owned()).spawn(
                move || match snapshots::write(&dir, (head.seq, head.hash, head.timestamp_ms), &state) {
                    Ok(meta) => {
                        tracing::info!(seq = meta.seq, "snapshot written");
                        if let Err(error) = snapshots::prune(&dir, keep) {
                            tracing::warn!(%error, "pruning old snapshots failed");
                        }
                    }
                    Err(error) => tracing::warn!(%error, seq = head.seq, "writing a snapshot failed"),
                },
            );
        match spawned {
            Ok(thread) => {
                self.running = Some(thread);
                self.last_seq = head.seq;
                self.last_ms = now_ms;
                true
            }
            Err(error) => {
                tracing::warn!(%error, "cannot start the snapshot thread");
                false
            }
        }
    }

    /// Waits for a snapshot being written (at a clean stop, and in tests).
    pub fn wait(&mut self) {
        if let Some(thread) = self.running.take() {
            let _ = thread.join();
        }
    }
}
