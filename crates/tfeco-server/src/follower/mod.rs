//! A follower: a read-only node that replays a primary's journal as it is committed and serves every read
//! from its own state (`tfeco follow`, docs/operations.md "Followers"). This is how a guardian verifies the
//! operator continuously.
//!
//! - [`open_dir`]: the follower's own data directory: its own SQLite journal and anchor (created on first
//!   start with the primary's genesis; a restart resumes from its own journal and snapshots, and refuses a
//!   primary of another genesis).
//! - [`Follower::apply`]: each batch of entries received from the primary (`GET /v1/journal/stream`) is
//!   checked before anything is applied: the sequence follows this follower's head, every `prev_hash` links
//!   to the previous entry (the first to this follower's head) and every hash recomputes from its fields;
//!   then each entry is applied by the replay path of the node with its ed25519 signature verified
//!   ([`Replica::apply_replicated`]) and journaled. Guardian checkpoints of the primary
//!   ([`Follower::add_checkpoints`]) are compared with this follower's own journal hash and state hash at
//!   their seq: when the follower reaches a checkpoint's seq, or at once by replaying its own journal when
//!   the checkpoint is behind its head.
//! - Any failure (a gap, a broken chain, a bad signature, a rejected command, a checkpoint whose hash
//!   differs) STOPS the follower: a [`FollowError`] naming the entry (and both hashes for a checkpoint), the
//!   replica halted (every request answered 503 from then on) and every later call refused.
//! - [`serve`]: the server's router over the follower's replica with a detached writer, its own event log
//!   (`/v1/events`), `/v1/status` showing `role: follower`, the primary and the lag ([`status`]), and every
//!   write (any method but `GET`, `HEAD`, `OPTIONS`) answered `307 Temporary Redirect` to the same path on
//!   the primary; so are the reads of the primary's own records (its checkpoints, the event pages of its
//!   answers).

pub mod replay;
pub mod status;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State as AxumState};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use parking_lot::{Mutex, RwLock};
use tfeco_core::Genesis;
use tfeco_journal::anchor::ANCHOR_FILE;
use tfeco_journal::{AnchoredJournal, Entry, Head, Journal, JournalError, SqliteJournal};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use status::{FollowerStatus, Lag};

use crate::app::AppState;
use crate::config::ServerConfig;
use crate::datadir::{DataDirError, OPERATOR_KEY_FILE};
use crate::replica::{ReplayOptions, ReplayReport, Replica, ReplicaError};
use crate::writer::WriterHandle;

/// Why a follower stopped (or cannot start). Every variant names what was wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The data directory holds an operator key: it is a primary's, never a follower's.
    #[error(
        "{0}: holds `operator.key`: this is a primary's data directory; give the follower its own --data-dir"
    )]
    PrimaryDataDir(PathBuf),
    /// The follower's journal has another genesis than the primary's.
    #[error(
        "{dir}: this follower's journal starts from genesis root {ours}, the primary's from {primary}: it \
         follows another economy (use another --data-dir)"
    )]
    Genesis {
        /// The follower's directory.
        dir: PathBuf,
        /// The root of the follower's genesis (hex).
        ours: String,
        /// The root of the primary's genesis (hex).
        primary: String,
    },
    /// A new follower directory needs the primary's genesis, and the primary cannot be reached.
    #[error("{0}: a new follower needs the primary's genesis, and the primary cannot be reached")]
    NoGenesis(PathBuf),
    /// Opening or creating the data directory failed.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The primary sent an entry out of sequence.
    #[error("the primary sent entry {found} where entry {expected} was due (a gap or a repeat)")]
    Gap {
        /// The seq due.
        expected: u64,
        /// The seq received.
        found: u64,
    },
    /// An entry's `prev_hash` is not the hash of the entry before it in this follower's journal.
    #[error(
        "entry {seq}: the chain is broken: its prev_hash is {found}, the previous entry's hash is {expected}"
    )]
    ChainBroken {
        /// The entry.
        seq: u64,
        /// The previous entry's hash here (hex).
        expected: String,
        /// The entry's `prev_hash` (hex).
        found: String,
    },
    /// An entry's hash does not recompute from its fields.
    #[error(
        "entry {seq}: its hash does not recompute from its fields (altered in transit or at the primary)"
    )]
    HashMismatch {
        /// The entry.
        seq: u64,
    },
    /// An entry's ed25519 signature does not verify.
    #[error("entry {seq}: the signature does not verify (the primary's journal holds a command its signer did not sign)")]
    Signature {
        /// The entry.
        seq: u64,
    },
    /// An entry does not decode or is rejected by the rules on replay, an invariant fails, or the
    /// follower's own journal failed.
    #[error(transparent)]
    Replica(ReplicaError),
    /// The primary's checkpoint at `seq` states another journal hash or state hash than this follower's.
    #[error(
        "the primary's {kind} checkpoint at seq {seq} does not match this follower's replay: {what} is {checkpoint} \
         in the checkpoint and {ours} here; the follower stopped (its state is not served as current)"
    )]
    CheckpointMismatch {
        /// The checkpoint's seq.
        seq: u64,
        /// `final` (signed by the guardians' threshold) or `proposed`.
        kind: &'static str,
        /// Which hash differs: `state hash` or `journal hash`.
        what: &'static str,
        /// The checkpoint's (hex).
        checkpoint: String,
        /// This follower's (hex).
        ours: String,
    },
    /// The follower had already stopped.
    #[error("the follower stopped earlier: {0}")]
    Stopped(String),
}

impl From<ReplicaError> for FollowError {
    fn from(error: ReplicaError) -> Self {
        match error {
            ReplicaError::Signature { seq } => FollowError::Signature { seq },
            other => FollowError::Replica(other),
        }
    }
}

/// A checkpoint as the primary publishes it (`GET /v1/checkpoints`), to be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryCheckpoint {
    /// The entry it covers.
    pub seq: u64,
    /// The hash of entry `seq` (hex).
    pub journal_hash: String,
    /// The state hash after entry `seq` (hex).
    pub state_hash: String,
    /// Signed by the guardians' threshold.
    pub is_final: bool,
}

impl PrimaryCheckpoint {
    /// Compares the checkpoint with this follower's hashes at its seq.
    fn check(&self, journal_hash: &[u8; 32], state_hash: &str) -> Result<(), FollowError> {
        let kind = if self.is_final { "final" } else { "proposed" };
        let ours = hex::encode(journal_hash);
        if !self.journal_hash.eq_ignore_ascii_case(&ours) {
            let checkpoint = self.journal_hash.clone();
            return Err(FollowError::CheckpointMismatch {
                seq: self.seq,
                kind,
                what: "journal hash",
                checkpoint,
                ours,
            });
        }
        if !self.state_hash.eq_ignore_ascii_case(state_hash) {
            let (checkpoint, ours) = (self.state_hash.clone(), state_hash.to_owned());
            return Err(FollowError::CheckpointMismatch {
                seq: self.seq,
                kind,
                what: "state hash",
                checkpoint,
                ours,
            });
        }
        Ok(())
    }
}

/// Opens the follower's data directory `dir`, or creates it with the primary's `genesis` (its stored
/// bytes) and the directory id `datadir_id` when `dir` holds none of a node's files: its own SQLite journal
/// and anchor; a restart replays from its newest valid snapshot. `genesis` is `None` when the primary cannot
/// be reached: an existing directory then opens with its own genesis (a primary of another one fails the
/// chain check at its first entry). Errors: [`FollowError::PrimaryDataDir`], [`FollowError::Genesis`],
/// [`FollowError::NoGenesis`], [`FollowError::DataDir`] (no anchor beside node files, an anchor mismatch,
/// corruption, a replay failure).
pub fn open_dir(
    dir: &Path,
    genesis: Option<&[u8]>,
    datadir_id: [u8; 16],
) -> Result<(Replica, ReplayReport), FollowError> {
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    if dir.join(OPERATOR_KEY_FILE).exists() {
        return Err(FollowError::PrimaryDataDir(dir.to_owned()));
    }
    if !dir.join(ANCHOR_FILE).exists() {
        let found = crate::datadir::node_files(dir);
        if !found.is_empty() {
            return Err(DataDirError::NoAnchor { dir: dir.to_owned(), found: found.join(", ") }.into());
        }
        let genesis = genesis.ok_or_else(|| FollowError::NoGenesis(dir.to_owned()))?;
        return create_dir(dir, genesis, datadir_id);
    }
    let (journal, open) = tfeco_journal::open_anchored(dir).map_err(journal_error)?;
    if let Some((first, last, problem)) = &open.dropped {
        tracing::warn!(first, last, %problem, "dropped an unacknowledged commit with a damaged last entry");
    }
    let ours =
        journal.genesis().map_err(journal_error)?.ok_or(ReplicaError::Genesis).map_err(DataDirError::from)?;
    if let Some(genesis) = genesis.filter(|genesis| *genesis != ours.as_slice()) {
        let root = |bytes: &[u8]| hex::encode(tfeco_journal::genesis_root(bytes));
        return Err(FollowError::Genesis { dir: dir.to_owned(), ours: root(&ours), primary: root(genesis) });
    }
    let decoded = Genesis::decode(&ours).map_err(|e| DataDirError::from(ReplicaError::from(e)))?;
    Ok(crate::datadir::resume_from_snapshot(dir, journal, decoded, ReplayOptions::default())?)
}

/// Creates the follower's journal with `genesis`, then its anchor (the commit point of creation).
fn create_dir(
    dir: &Path,
    genesis: &[u8],
    datadir_id: [u8; 16],
) -> Result<(Replica, ReplayReport), FollowError> {
    let journal_error = |e: JournalError| DataDirError::Replica(ReplicaError::Journal(e));
    let decoded = Genesis::decode(genesis).map_err(|e| DataDirError::from(ReplicaError::from(e)))?;
    std::fs::create_dir_all(dir).map_err(|source| DataDirError::Io { path: dir.to_owned(), source })?;
    let (mut journal, _) = SqliteJournal::open(dir).map_err(journal_error)?;
    journal.set_genesis(genesis).map_err(journal_error)?;
    let journal = AnchoredJournal::create(journal, dir, datadir_id).map_err(journal_error)?;
    let opened =
        Replica::open(Box::new(journal), || decoded, ReplayOptions::default()).map_err(DataDirError::from)?;
    Ok(opened)
}

/// Checks that `entries` continue the chain whose head is `head`: contiguous seqs, each `prev_hash` the
/// previous hash, each hash recomputed from the entry's fields.
pub fn check_chain(head: Head, entries: &[Entry]) -> Result<(), FollowError> {
    let (mut expected, mut prev) = (head.seq + 1, head.hash);
    for entry in entries {
        if entry.seq != expected {
            return Err(FollowError::Gap { expected, found: entry.seq });
        }
        if entry.prev_hash != prev {
            let (expected, found) = (hex::encode(prev), hex::encode(entry.prev_hash));
            return Err(FollowError::ChainBroken { seq: entry.seq, expected, found });
        }
        if entry.view().compute_hash() != entry.hash {
            return Err(FollowError::HashMismatch { seq: entry.seq });
        }
        (expected, prev) = (expected + 1, entry.hash);
    }
    Ok(())
}

/// The follower's checking and applying side, over the replica its server reads.
pub struct Follower {
    replica: Arc<RwLock<Replica>>,
    status: Arc<FollowerStatus>,
    inner: Mutex<Checks>,
    /// The data directory whose snapshots shorten the recomputation at a passed checkpoint.
    snapshots: Option<PathBuf>,
}

/// What the follower has checked, and whether it stopped.
#[derive(Default)]
struct Checks {
    /// Checkpoints beyond the head, checked when the head reaches them.
    pending: BTreeMap<u64, PrimaryCheckpoint>,
    /// Every checkpoint seq seen.
    known: BTreeSet<u64>,
    /// Checkpoints that matched.
    checked: usize,
    /// Why the follower stopped.
    stopped: Option<String>,
}

impl Follower {
    /// A follower applying to `replica`, reporting its lag to `status`.
    pub fn new(replica: Arc<RwLock<Replica>>, status: Arc<FollowerStatus>) -> Self {
        Follower { replica, status, inner: Mutex::new(Checks::default()), snapshots: None }
    }

    /// This follower, recomputing its history at a passed checkpoint from the snapshots of `dir` when one
    /// is at or before it ([`replay::hashes_at`]).
    pub fn with_snapshots(mut self, dir: &Path) -> Self {
        self.snapshots = Some(dir.to_owned());
        self
    }

    /// The follower's journal head.
    pub fn head(&self) -> Head {
        self.replica.read().head()
    }

    /// The primary's status as this follower knows it.
    pub fn status(&self) -> &Arc<FollowerStatus> {
        &self.status
    }

    /// Checkpoints that matched so far.
    pub fn checkpoints_checked(&self) -> usize {
        self.inner.lock().checked
    }

    /// Why the follower stopped, if it did.
    pub fn stopped(&self) -> Option<String> {
        self.inner.lock().stopped.clone()
    }

    /// Records the primary's head as announced on the stream; returns the lag.
    pub fn observe_primary(&self, seq: u64, timestamp_ms: i64) -> Lag {
        self.status.observe_primary(seq, timestamp_ms, self.head())
    }

    /// Checks and applies `entries`, the next ones from the primary (module docs), checking every pending
    /// checkpoint they reach. Returns the new head. Errors: the [`FollowError`] that stopped the follower.
    pub fn apply(&self, entries: &[Entry]) -> Result<Head, FollowError> {
        let mut checks = self.inner.lock();
        if let Some(reason) = &checks.stopped {
            return Err(FollowError::Stopped(reason.clone()));
        }
        let result = self.apply_checked(&mut checks, entries);
        match result {
            Ok(head) => {
                if let Some(last) = entries.last() {
                    self.status.observe_primary(last.seq, last.timestamp_ms, head);
                }
                Ok(head)
            }
            Err(error) => Err(self.stop(&mut checks, error)),
        }
    }

    fn apply_checked(&self, checks: &mut Checks, entries: &[Entry]) -> Result<Head, FollowError> {
        let mut head = self.head();
        check_chain(head, entries)?;
        let mut rest = entries;
        while let (Some(first), Some(last)) = (rest.first(), rest.last()) {
            let cut = checks.pending.range(first.seq..=last.seq).next().map(|(seq, _)| *seq);
            let count =
                cut.map_or(rest.len(), |seq| usize::try_from(seq - first.seq + 1).unwrap_or(rest.len()));
            let (now, later) = rest.split_at(count);
            head = self.replica.write().apply_replicated(now)?;
            if let Some(checkpoint) = cut.and_then(|seq| checks.pending.remove(&seq)) {
                let state_hash = self.replica.read().state().state_hash();
                checkpoint.check(&head.hash, &state_hash)?;
                checks.checked += 1;
                tracing::info!(
                    seq = checkpoint.seq,
                    "the primary's checkpoint matches this follower's replay"
                );
            }
            rest = later;
        }
        Ok(head)
    }

    /// Takes the primary's checkpoints: each new one beyond this follower's head is checked when the head
    /// reaches it; each at or behind the head at once, by recomputing the follower's own history there
    /// ([`replay::hashes_at`], while new entries go on being applied). Returns how many were checked now.
    /// Errors: the [`FollowError`] that stopped the follower.
    pub fn add_checkpoints(&self, checkpoints: &[PrimaryCheckpoint]) -> Result<usize, FollowError> {
        let passed = {
            let mut checks = self.inner.lock();
            if let Some(reason) = &checks.stopped {
                return Err(FollowError::Stopped(reason.clone()));
            }
            let head = self.head().seq;
            let mut passed = Vec::new();
            for checkpoint in checkpoints {
                if !checks.known.insert(checkpoint.seq) {
                    continue;
                }
                if checkpoint.seq <= head {
                    passed.push(checkpoint.clone());
                } else {
                    checks.pending.insert(checkpoint.seq, checkpoint.clone());
                }
            }
            passed
        };
        let result = self.check_passed(&passed);
        let mut checks = self.inner.lock();
        match result {
            Ok(count) => {
                checks.checked += count;
                Ok(count)
            }
            Err(error) => Err(self.stop(&mut checks, error)),
        }
    }

    /// Compares checkpoints at or behind the head with the follower's recomputed hashes.
    fn check_passed(&self, passed: &[PrimaryCheckpoint]) -> Result<usize, FollowError> {
        if passed.is_empty() {
            return Ok(0);
        }
        let seqs: BTreeSet<u64> = passed.iter().map(|c| c.seq).collect();
        let hashes = replay::hashes_at(&self.replica, self.snapshots.as_deref(), &seqs)?;
        for checkpoint in passed {
            let (journal_hash, state_hash) =
                hashes.get(&checkpoint.seq).ok_or_else(|| ReplicaError::Witness {
                    seq: checkpoint.seq,
                    by: "checkpoint".to_owned(),
                    what: "journal entry (missing from this follower's journal)",
                })?;
            checkpoint.check(journal_hash, state_hash)?;
            tracing::info!(seq = checkpoint.seq, "the primary's checkpoint matches this follower's history");
        }
        Ok(passed.len())
    }

    /// Stops the follower for `error`: halts the replica (nothing served from then on) and remembers why.
    fn stop(&self, checks: &mut Checks, error: FollowError) -> FollowError {
        tracing::error!(%error, "the follower stopped");
        checks.stopped = Some(error.to_string());
        self.replica.write().halt();
        error
    }
}

/// `true` for a read of the primary's own records rather than of the state: its guardian checkpoints (kept
/// in its data directory) and the event pages of the answers it gave (`/v1/tx/{seq}/events`).
fn reads_primary_records(path: &str) -> bool {
    path == tfeco_api::paths::CHECKPOINTS || (path.starts_with("/v1/tx/") && path.ends_with("/events"))
}

/// Answers every write, and every read of the primary's own records ([`reads_primary_records`]), with
/// `307 Temporary Redirect` to the same path and query on the primary (`primary`: its base URL), so that a
/// client re-sends it there with the same method and body.
async fn redirect_writes(AxumState(primary): AxumState<Arc<str>>, request: Request, next: Next) -> Response {
    let read = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if read && !reads_primary_records(request.uri().path()) {
        return next.run(request).await;
    }
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("{primary}{path}");
    let message = format!("this node is a read-only follower: send writes to its primary, {location}\n");
    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)], message).into_response()
}

/// A started follower server.
pub struct RunningFollower {
    /// The bound address.
    pub addr: SocketAddr,
    /// The shared state its handlers read.
    pub app: AppState,
    /// The checking and applying side (fed by the stream reader).
    pub follower: Arc<Follower>,
    shutdown: watch::Sender<bool>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves the follower's `replica` (its data directory `dir`, for the event index) on `listener` with
/// `config`'s limits: every read of the API and `/v1/events` from its own state, every write redirected to
/// `primary` (module docs).
pub async fn serve(
    replica: Replica,
    dir: &Path,
    primary: &str,
    listener: TcpListener,
    config: ServerConfig,
) -> std::io::Result<RunningFollower> {
    let addr = listener.local_addr()?;
    let mut replica = replica;
    let (events, indexer) = crate::events::EventLog::open(Some(dir), &mut replica);
    let failed = replica.failure_flag();
    let replica = Arc::new(RwLock::new(replica));
    indexer.spawn(replica.clone());
    let app = AppState::new(replica.clone(), WriterHandle::detached(failed), config).with_events(events);
    let status = Arc::new(FollowerStatus::new(primary, &app.metrics));
    let app = app.with_follower(status.clone());
    let follower = Arc::new(Follower::new(replica, status).with_snapshots(dir));
    let primary: Arc<str> = Arc::from(primary.trim_end_matches('/'));
    let router = crate::api::router::router(app.clone())
        .layer(middleware::from_fn_with_state(primary, redirect_writes));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let http = tokio::spawn(crate::serve_http(listener, router, config, shutdown_rx));
    Ok(RunningFollower { addr, app, follower, shutdown, http })
}

impl RunningFollower {
    /// Stops serving and waits for the open requests (at most 10 s).
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.http.await.unwrap_or(Ok(()))
    }
}
