//! The event log: every journal entry's public events, indexed by account, node, lease and kind, for the
//! live stream (`GET /v1/events`) and account histories (`GET /v1/accounts/{key}/events`).
//!
//! The replica hands each durable batch's events to a channel ([`crate::replica::EventSink`]); a background
//! thread ([`indexer`]) resolves what each event is about with the state (a lease's tenant and node, a node's
//! farm owner), drops sealed events ([`tfeco_core::Event::is_sealed`]), writes the entries to the index
//! ([`store`]: `DIR/events.sqlite`, or in memory without a data directory), then publishes them to the live
//! subscribers (a bounded `tokio::sync::broadcast`). The index is derived data, never part of the trust
//! chain: missing, damaged or behind the journal at start, it is rebuilt by replaying the journal from the
//! genesis in the background, before live entries are indexed.
//!
//! Submodules: [`filter`] (stream filters, parsing and matching), [`store`], [`indexer`] (resolution,
//! rebuild by replay, the thread).

pub mod filter;
pub mod indexer;
pub mod store;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tfeco_core::Event;
use tokio::sync::{broadcast, Semaphore};

pub use filter::{Filter, StreamQuery};
pub use store::Store;

/// File name of the index in the data directory.
pub const FILE_NAME: &str = "events.sqlite";
/// Entries the live channel holds for a subscriber that has not read them yet; one that falls further
/// behind is disconnected (it resumes from the index with `Last-Event-ID`).
pub const LIVE_CAPACITY: usize = 1_024;
/// Event streams served at once; more are answered 503 `unavailable`.
pub const MAX_STREAMS: usize = 256;

/// One public event with what it is about: index keys `a:<account hex>`, `n:<node>`, `l:<lease>`,
/// `k:<kind>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedEvent {
    /// The event.
    pub event: Event,
    /// Its keys, sorted.
    pub keys: Vec<String>,
}

/// The public events of one journal entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEntry {
    /// Journal seq.
    pub seq: u64,
    /// The entry's time, unix seconds.
    pub ts: i64,
    /// Its public events, in order (may be empty: then nothing is stored or sent).
    pub events: Vec<IndexedEvent>,
}

impl IndexedEntry {
    /// The entry as the API shows it with only the events `filter` matches; `None` when none does.
    pub fn view(&self, filter: &Filter) -> Option<tfeco_api::events::EventEntry> {
        let events: Vec<Event> =
            self.events.iter().filter(|e| filter.matches(&e.keys)).map(|e| e.event.clone()).collect();
        (!events.is_empty()).then_some(tfeco_api::events::EventEntry { seq: self.seq, ts: self.ts, events })
    }
}

/// The handle the HTTP handlers share: the index, the live channel and the stream permits.
#[derive(Clone)]
pub struct EventLog {
    /// The index.
    pub store: Arc<Store>,
    live: broadcast::Sender<Arc<IndexedEntry>>,
    /// One permit per stream served ([`MAX_STREAMS`]).
    pub streams: Arc<Semaphore>,
}

impl EventLog {
    /// A log over an empty in-memory index that nothing feeds (an [`crate::AppState`] built without
    /// [`EventLog::open`], e.g. by unit tests of other routes).
    pub fn detached() -> Self {
        Self::over(Store::memory())
    }

    fn over(store: Store) -> Self {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        EventLog { store: Arc::new(store), live, streams: Arc::new(Semaphore::new(MAX_STREAMS)) }
    }

    /// Opens the index of `data_dir` (`None`: in memory), installs the replica's event sink and returns the
    /// log with its indexer, to be started with [`indexer::Indexer::spawn`] once the replica is shared. A
    /// damaged index file is removed and rebuilt.
    pub fn open(data_dir: Option<&Path>, replica: &mut crate::Replica) -> (Self, indexer::Indexer) {
        let store = match data_dir {
            Some(dir) => Store::open_or_recreate(&dir.join(FILE_NAME)),
            None => Store::memory(),
        };
        let log = Self::over(store);
        let indexer = indexer::Indexer::install(log.clone(), replica);
        (log, indexer)
    }

    /// A receiver of the entries indexed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<IndexedEntry>> {
        self.live.subscribe()
    }

    /// Publishes entries just written to the index to the live subscribers.
    fn publish(&self, entries: &[Arc<IndexedEntry>]) {
        for entry in entries {
            // No subscriber is not an error.
            let _ = self.live.send(entry.clone());
        }
    }
}
