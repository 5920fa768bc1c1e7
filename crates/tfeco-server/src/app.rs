//! The state every handler shares ([`AppState`]): the replica behind its lock, the writer's queue and the
//! limits.

use std::sync::Arc;

use parking_lot::RwLock;

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
}

impl AppState {
    /// The shared state of a server over `replica`.
    pub fn new(replica: Arc<RwLock<Replica>>, writer: WriterHandle, config: ServerConfig) -> Self {
        AppState { replica, writer, config }
    }
}
