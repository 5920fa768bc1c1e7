//! The single writer: one OS thread that takes requests from a queue in arrival order, applies them in
//! batches (group commit: one durable journal append per batch) and only then answers each caller.

use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::RwLock;
use tfeco_core::Command;
use tfeco_journal::JournalError;
use tokio::sync::{mpsc, oneshot};

use crate::checkpoints::SharedCheckpoints;
use crate::replica::{BatchItem, Outcome, Replica, SignedRequest};

struct Job {
    item: BatchItem,
    reply: oneshot::Sender<Outcome>,
}

/// Why a submission got no outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The writer stopped (shutdown or a fatal journal error).
    Unavailable,
}

/// Cloneable handle to the writer's queue.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Job>,
    /// The replica's failure flag ([`Replica::failure_flag`]).
    failed: Arc<std::sync::atomic::AtomicBool>,
}

impl WriterHandle {
    /// Queues a verified client request and waits until it is applied and durable (or rejected).
    pub async fn submit(&self, request: SignedRequest) -> Result<Outcome, SubmitError> {
        self.send(BatchItem::Signed(request)).await
    }

    /// Queues a server-internal command (signed with the operator key when applied).
    pub async fn submit_internal(&self, command: Command) -> Result<Outcome, SubmitError> {
        self.send(BatchItem::Internal(command)).await
    }

    /// `true` once the writer thread has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// `true` after a journal append failed ([`Replica::has_failed`]), read without the replica's lock.
    pub fn storage_failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn send(&self, item: BatchItem) -> Result<Outcome, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { item, reply }).await.map_err(|_| SubmitError::Unavailable)?;
        answer.await.map_err(|_| SubmitError::Unavailable)
    }
}

/// Starts the writer thread. It runs until every handle is dropped (`Ok`) or the journal fails (`Err`):
/// then the in-memory state may be ahead of the durable log, so the process must stop (fail-stop) and
/// a restart replays the durable prefix. With `checkpoints`, a batch that closes a minting period is
/// checkpointed at its last seq ([`crate::checkpoints::after_batch`]).
pub fn spawn_writer(
    replica: Arc<RwLock<Replica>>,
    max_batch: usize,
    queue_depth: usize,
    clock_ms: fn() -> i64,
    checkpoints: Option<SharedCheckpoints>,
) -> (WriterHandle, JoinHandle<Result<(), JournalError>>) {
    let (tx, mut rx) = mpsc::channel::<Job>(queue_depth);
    let failed = replica.read().failure_flag();
    let thread = std::thread::Builder::new()
        .name("tfeco-writer".to_owned())
        .spawn(move || -> Result<(), JournalError> {
            let mut items = Vec::with_capacity(max_batch);
            let mut replies = Vec::with_capacity(max_batch);
            while let Some(first) = rx.blocking_recv() {
                items.push(first.item);
                replies.push(first.reply);
                while items.len() < max_batch {
                    match rx.try_recv() {
                        Ok(job) => {
                            items.push(job.item);
                            replies.push(job.reply);
                        }
                        Err(_) => break,
                    }
                }
                let outcomes = {
                    let mut replica = replica.write();
                    let period_before = crate::checkpoints::last_closed_period(replica.state());
                    let outcomes = match replica.apply_batch(&items, clock_ms()) {
                        Ok(outcomes) => outcomes,
                        Err(error) => {
                            tracing::error!(%error, "journal append failed; stopping the writer (fail-stop)");
                            return Err(error);
                        }
                    };
                    // The fields are only computed when debug lines are on.
                    tracing::debug!(
                        requests = items.len(),
                        accepted = outcomes.iter().filter(|outcome| outcome.is_ok()).count(),
                        head = replica.head_seq(),
                        "writer batch committed"
                    );
                    if let Some(store) = &checkpoints {
                        crate::checkpoints::after_batch(store, &replica, period_before, clock_ms());
                    }
                    outcomes
                };
                for (reply, outcome) in replies.drain(..).zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                items.clear();
            }
            Ok(())
        })
        .expect("spawning the writer thread");
    (WriterHandle { tx, failed }, thread)
}

impl WriterHandle {
    /// A handle to no writer: every submission answers [`SubmitError::Unavailable`]. A follower's handlers
    /// hold it (a follower never writes: its writes are redirected to the primary); `failed` is its
    /// replica's [`Replica::failure_flag`], so a halted follower answers 503 like a failed writer.
    pub fn detached(failed: Arc<std::sync::atomic::AtomicBool>) -> Self {
        let (tx, _) = mpsc::channel::<Job>(1);
        WriterHandle { tx, failed }
    }
}
