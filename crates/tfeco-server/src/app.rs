//! The state every handler shares ([`AppState`]): the replica behind its lock, the writer's queue, the
//! limits, the [`ReplayCache`] of signed reads, the events of recent large answers ([`EventPages`]) and the
//! guardian checkpoints, and the metrics registry.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tfeco_core::Event;

use crate::checkpoints::SharedCheckpoints;
use crate::config::ServerConfig;
use crate::replica::Replica;
use crate::writer::WriterHandle;

/// Shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The replica, read-locked by readers; the writer holds the write lock only while applying and
    /// journaling.
    pub replica: Arc<RwLock<Replica>>,
    /// Sends work to the single writer.
    pub writer: WriterHandle,
    /// Limits and clocks.
    pub config: ServerConfig,
    /// The signatures of the signed reads accepted within the window (replays refused).
    pub read_replays: Arc<ReplayCache>,
    /// Events of the latest commands answered with more than one page.
    pub event_pages: EventPages,
    /// The guardian checkpoints of the data directory (`None`: a node without one, e.g. in-process tests).
    pub checkpoints: Option<SharedCheckpoints>,
    /// The event index and live stream (`/v1/events`, account histories).
    pub events: crate::events::EventLog,
    /// The node's metrics registry (`GET /metrics`), shared with the replica that records its commits.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// On a follower (`tfeco follow`): its primary and lag, shown by `/v1/status`; `None` on a primary.
    pub follower: Option<Arc<crate::follower::status::FollowerStatus>>,
}

/// The events of the latest commands whose answer did not hold them all (`GET /v1/tx/{seq}/events`), kept
/// in memory: at most [`EventPages::MAX_COMMANDS`] commands and [`EventPages::MAX_EVENTS`] events; the
/// oldest go first. Replay does not refill it: it serves the pages of answers given since the start.
#[derive(Clone, Default)]
pub struct EventPages(Arc<Mutex<VecDeque<KeptEvents>>>);

/// The events of one command, by its sequence number.
type KeptEvents = (u64, Arc<Vec<Event>>);

impl EventPages {
    /// Most commands kept.
    pub const MAX_COMMANDS: usize = 256;
    /// Most events kept over all commands.
    pub const MAX_EVENTS: usize = 1_000_000;

    /// Keeps `events` of the command at `seq`, dropping the oldest kept ones over the limits.
    pub fn keep(&self, seq: u64, events: Vec<Event>) {
        let mut kept = self.0.lock();
        kept.push_back((seq, Arc::new(events)));
        let mut total: usize = kept.iter().map(|(_, events)| events.len()).sum();
        while kept.len() > Self::MAX_COMMANDS || (total > Self::MAX_EVENTS && kept.len() > 1) {
            if let Some((_, events)) = kept.pop_front() {
                total -= events.len();
            }
        }
    }

    /// The events kept for `seq`, if any.
    pub fn get(&self, seq: u64) -> Option<Arc<Vec<Event>>> {
        self.0.lock().iter().rev().find(|(kept, _)| *kept == seq).map(|(_, events)| events.clone())
    }
}

impl AppState {
    /// The shared state of a server over `replica`.
    pub fn new(replica: Arc<RwLock<Replica>>, writer: WriterHandle, config: ServerConfig) -> Self {
        let read_replays = Arc::new(ReplayCache::new(config.signed_read_cache_max));
        let metrics = replica.read().metrics().clone();
        AppState {
            replica,
            writer,
            config,
            read_replays,
            event_pages: EventPages::default(),
            checkpoints: None,
            events: crate::events::EventLog::detached(),
            metrics,
            follower: None,
        }
    }

    /// This state as a follower's ([`crate::follower`]): `/v1/status` shows `status`.
    pub fn with_follower(mut self, status: Arc<crate::follower::status::FollowerStatus>) -> Self {
        self.follower = Some(status);
        self
    }

    /// This state with the node's event log ([`crate::events::EventLog::open`]).
    pub fn with_events(mut self, events: crate::events::EventLog) -> Self {
        self.events = events;
        self
    }

    /// This state with the data directory's checkpoints (the same store the writer proposes into).
    pub fn with_checkpoints(mut self, checkpoints: Option<SharedCheckpoints>) -> Self {
        self.checkpoints = checkpoints;
        self
    }
}

/// The signatures of accepted signed reads, each until its timestamp leaves the window (after which the
/// timestamp alone refuses it), so that a signed read is accepted once (issue 10, item 12). Bounded: at
/// most `max` signatures; when full after dropping the expired ones, a new read is refused, never an old
/// one forgotten.
pub struct ReplayCache {
    max: usize,
    inner: Mutex<ReplayEntries>,
}

#[derive(Default)]
struct ReplayEntries {
    /// Signature -> the unix second after which it expires.
    by_signature: HashMap<Vec<u8>, i64>,
    /// (expiry, signature), oldest first.
    by_expiry: BTreeSet<(i64, Vec<u8>)>,
}

/// Why [`ReplayCache::admit`] refused a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayRefusal {
    /// The signature was already accepted within its window.
    Replayed,
    /// The cache holds `max` unexpired signatures.
    Full,
}

impl ReplayCache {
    /// An empty cache of at most `max` signatures.
    pub fn new(max: usize) -> Self {
        ReplayCache { max, inner: Mutex::new(ReplayEntries::default()) }
    }

    /// Records `signature` as used until `expires_at` (unix seconds) after dropping every entry expired at
    /// `now_s`. Errors: [`ReplayRefusal::Replayed`] when it is already recorded, [`ReplayRefusal::Full`].
    pub fn admit(&self, signature: &[u8], expires_at: i64, now_s: i64) -> Result<(), ReplayRefusal> {
        let mut entries = self.inner.lock();
        while let Some((expiry, _)) = entries.by_expiry.first() {
            if *expiry >= now_s {
                break;
            }
            if let Some((_, old)) = entries.by_expiry.pop_first() {
                entries.by_signature.remove(&old);
            }
        }
        if entries.by_signature.contains_key(signature) {
            return Err(ReplayRefusal::Replayed);
        }
        if entries.by_signature.len() >= self.max {
            return Err(ReplayRefusal::Full);
        }
        entries.by_signature.insert(signature.to_vec(), expires_at);
        entries.by_expiry.insert((expires_at, signature.to_vec()));
        Ok(())
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().by_signature.len()
    }

    /// `true` when no signature is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_admitted_once_until_it_expires_and_the_cache_is_bounded() {
        let cache = ReplayCache::new(2);
        assert_eq!(cache.admit(b"a", 130, 100), Ok(()));
        assert_eq!(cache.admit(b"a", 130, 101), Err(ReplayRefusal::Replayed));
        assert_eq!(cache.admit(b"b", 140, 102), Ok(()));
        assert_eq!(cache.admit(b"c", 140, 103), Err(ReplayRefusal::Full));
        // At 131 the first has expired (its timestamp is outside the window): dropped, room for another.
        assert_eq!(cache.admit(b"c", 160, 131), Ok(()));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.admit(b"b", 140, 132), Err(ReplayRefusal::Replayed));
    }
}
