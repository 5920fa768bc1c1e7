//! The node's shell: the HTTP API (axum), the single writer with group commit, the journal-backed node
//! with replay, the clock that submits `Tick`, and the data directory layout.
//!
//! Dependency direction: this crate uses `tfeco-core` (rules) and `tfeco-journal` (through its trait);
//! it holds no economic rule of its own.

pub mod api;
pub mod api_exit;
pub mod api_governance;
pub mod api_market;
pub mod api_trading;
pub mod datadir;
pub mod node;
pub mod openapi;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use api::{router, supply_view, ApiError, AppState};
pub use node::{BatchItem, Node, NodeError, ReplayOptions, ReplayReport, SignedRequest};

/// Wall-clock milliseconds since the Unix epoch (the shell's clock; the core never reads it).
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// A clock task submits `Tick { now: wall clock }` every `tick_interval_s`.
    Wall,
    /// No automatic ticks: the operator drives time with signed `Tick` commands (virtual clock, demo).
    Manual,
}

/// Limits and clocks of the server.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
    /// Furthest accepted request expiry, seconds ahead of now.
    pub max_expiry_s: i64,
    /// Most requests applied in one batch (one journal append).
    pub max_batch: usize,
    /// Depth of the writer's queue.
    pub queue_depth: usize,
    /// Clock mode.
    pub clock: ClockMode,
    /// Seconds between automatic ticks.
    pub tick_interval_s: u64,
    /// Signed requests (`POST /v1/tx`) one account may send per second, sustained; `None`: no limit. Over
    /// it: HTTP 429 `rate_limited`. The operator and the guardians are not limited.
    pub rate_limit_per_s: Option<u32>,
    /// Requests one account may send at once before the per-second rate applies.
    pub rate_limit_burst: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 64 * 1024,
            max_expiry_s: 3_600,
            max_batch: 1_024,
            queue_depth: 16_384,
            clock: ClockMode::Wall,
            tick_interval_s: 60,
            rate_limit_per_s: Some(200),
            rate_limit_burst: 400,
        }
    }
}

/// A started server.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// Shared state (for in-process readers such as the demo's summary).
    pub app: AppState,
    shutdown: watch::Sender<bool>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    writer_thread: std::thread::JoinHandle<Result<(), tfeco_journal::JournalError>>,
    /// SIGINT and SIGTERM, registered before the first request is served.
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

/// Why the server stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The HTTP listener failed.
    #[error("http: {0}")]
    Http(#[from] std::io::Error),
    /// The journal failed: the node stopped to protect durability.
    #[error("journal failure, node stopped: {0}")]
    Journal(#[from] tfeco_journal::JournalError),
    /// The writer thread panicked (a bug): the node stopped.
    #[error("the writer thread panicked; the node stopped (restart replays the durable journal)")]
    WriterPanicked,
}

/// Starts the writer, the clock (in `Wall` mode) and the HTTP server on `listener`.
pub async fn start(
    node: Node,
    listener: TcpListener,
    config: ServerConfig,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        Some((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
    };
    let node = Arc::new(RwLock::new(node));
    let (writer, writer_thread) =
        writer::spawn_writer(node.clone(), config.max_batch, config.queue_depth, now_unix_ms);
    let app = AppState { node, writer: writer.clone(), config };
    let (shutdown, mut shutdown_rx) = watch::channel(false);
    if config.clock == ClockMode::Wall {
        let mut clock_shutdown = shutdown.subscribe();
        let interval_s = config.tick_interval_s.max(1);
        let clock_app = app.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_secs(interval_s));
            loop {
                tokio::select! {
                    _ = interval.tick() => {}
                    _ = clock_shutdown.changed() => return,
                }
                let now = now_unix_ms() / 1000;
                if now <= clock_app.node.read().state().now() {
                    continue;
                }
                match clock_app.writer.submit_internal(tfeco_core::Command::Tick { now }).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(rejection)) => tracing::warn!(%rejection, "clock tick rejected"),
                    Err(_) => return,
                }
            }
        });
    }
    let router = api::router(app.clone());
    let http = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = shutdown_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        app,
        shutdown,
        http,
        writer_thread,
        #[cfg(unix)]
        signals,
    })
}

impl RunningServer {
    /// Asks the server to stop and waits for it; returns the first failure.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.shutdown.send(true);
        let http = self.http.await.unwrap_or(Ok(()));
        drop(self.app);
        // The writer ends once every handle is gone; do not wait forever on a handle still held elsewhere.
        let join = tokio::task::spawn_blocking(move || self.writer_thread.join());
        let writer = match tokio::time::timeout(std::time::Duration::from_secs(5), join).await {
            Ok(Ok(Ok(result))) => result.map_err(ServeError::from),
            Ok(Ok(Err(_panic))) => Err(ServeError::WriterPanicked),
            Ok(Err(_)) | Err(_) => Ok(()),
        };
        http?;
        writer?;
        Ok(())
    }

    /// Waits until the writer fails (journal error) or the process is interrupted (Ctrl-C).
    pub async fn run_until_stopped(mut self) -> Result<(), ServeError> {
        let writer_failed = {
            let app = self.app.clone();
            async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    if app.writer.is_closed() {
                        return;
                    }
                }
            }
        };
        #[cfg(unix)]
        {
            let mut signals = self.signals.take();
            let interrupted = async move {
                match signals.as_mut() {
                    Some((interrupt, terminate)) => {
                        tokio::select! {
                            _ = interrupt.recv() => {}
                            _ = terminate.recv() => {}
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = interrupted => {}
                _ = writer_failed => {}
            }
        }
        #[cfg(not(unix))]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = writer_failed => {}
        }
        self.stop().await
    }
}
