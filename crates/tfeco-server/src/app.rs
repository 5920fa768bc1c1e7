//! The state every handler shares ([`AppState`]): the replica behind its lock, the writer's queue, the
//! limits, and the events of recent large answers ([`EventPages`]).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tfeco_core::Event;

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
    /// Events of the latest commands answered with more than one page.
    pub event_pages: EventPages,
}

/// The events of the latest commands whose answer did not hold them all (`GET /v1/tx/{seq}/events`), kept
/// in memory: at most [`EventPages::MAX_COMMANDS`] commands and [`EventPages::MAX_EVENTS`] events; the
/// oldest go first. Replay does not refill it: it serves the pages of answers given since the start.
#[derive(Clone, Default)]
pub struct EventPages(Arc<Mutex<VecDeque<(u64, Arc<Vec<Event>>)>>>);

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
        AppState { replica, writer, config, event_pages: EventPages::default() }
    }
}
