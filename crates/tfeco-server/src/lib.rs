//! The server's shell: the HTTP API (axum, typed by `tfeco-api`), the single writer with group commit, the
//! journal-backed [`Replica`] with replay, the clock that submits `Tick`, and the data directory layout.
//!
//! Modules, in dependency order (no module imports one to its right): [`config`], [`metrics`] (the
//! Prometheus registry of `/metrics` and the HTTP layer that feeds it), [`snapshots`] (state
//! snapshot files), [`snapshotter`] (background snapshots), [`replica`], [`events`] (the event index and live stream), [`checkpoints`] (guardian
//! checkpoints), [`writer`], [`datadir`] (opening a data directory against its anchor), [`repair`],
//! [`archive`], [`app`] (the shared handler state), [`views`] (every conversion from core state to API types),
//! [`api`] (extractors, errors, one module of handlers per domain, the router), [`follower`] (a read-only
//! node that replays a primary's journal, `tfeco follow`).
//!
//! Dependency direction: this crate uses `tfeco-core` (rules), `tfeco-api` (the contract) and
//! `tfeco-journal` (through its trait); it holds no economic rule of its own.

pub mod api;
pub mod app;
pub mod archive;
pub mod checkpoints;
pub mod config;
pub mod datadir;
pub mod events;
pub mod follower;
pub mod metrics;
pub mod repair;
pub mod replica;
pub mod snapshots;
pub mod snapshotter;
pub mod views;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use api::error::ApiError;
pub use api::router::router;
pub use app::AppState;
pub use config::{ClockMode, ServerConfig};
pub use replica::{BatchItem, ReplayOptions, ReplayReport, Replica, ReplicaError, SignedRequest};

/// Wall-clock milliseconds since the Unix epoch (the shell's clock; the core never reads it).
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How long the clock task sleeps: until the next exchange batch that can trade is due (decisions §13: a
/// batch closes at its scheduled time), at most `interval_s`.
fn clock_wait(app: &AppState, interval_s: u64) -> std::time::Duration {
    let interval = std::time::Duration::from_secs(interval_s);
    let due_s = app.replica.read().state().next_exchange_clear();
    let Some(due_s) = due_s else { return interval };
    let until_ms = due_s.saturating_mul(1000).saturating_sub(now_unix_ms()).max(0);
    interval.min(std::time::Duration::from_millis(until_ms.unsigned_abs()))
}

/// Ticks the state up to the wall clock, in steps of at most `max_tick_advance_s` (a node that was down
/// for longer catches up step by step). `false` once the writer has stopped.
async fn catch_up(app: &AppState) -> bool {
    let wall = now_unix_ms() / 1000;
    loop {
        let (now, max_advance) = {
            let replica = app.replica.read();
            (replica.state().now(), replica.state().params().max_tick_advance_s.max(1))
        };
        if wall <= now {
            return true;
        }
        let target = wall.min(now.saturating_add(max_advance));
        match app.writer.submit_internal(tfeco_core::Command::Tick { now: target }).await {
            Ok(Ok(_)) => {}
            Ok(Err(rejection)) => {
                tracing::warn!(%rejection, "clock tick rejected");
                return true;
            }
            Err(_) => return false,
        }
    }
}

/// Serves HTTP/1.1 on `listener` until `shutdown` turns true, then lets the open connections finish their
/// requests. Connections are limited to [`ServerConfig::max_connections`] (a connection is accepted only
/// with a free permit) and must send their headers within [`ServerConfig::header_timeout_s`] (hyper's
/// header read timeout, also the keep-alive idle timeout).
pub(crate) async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    config: ServerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(config.header_timeout_s.max(1)));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            accepted = async {
                let permit = permits.clone().acquire_owned().await;
                (permit, listener.accept().await)
            } => accepted,
        };
        let (Ok(permit), accepted) = accepted else { break };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
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
    /// The journal failed: the server stopped to protect durability.
    #[error("journal failure, server stopped: {0}")]
    Journal(#[from] tfeco_journal::JournalError),
    /// The writer thread panicked (a bug): the server stopped.
    #[error("the writer thread panicked; the server stopped (restart replays the durable journal)")]
    WriterPanicked,
}

/// Starts the writer, the clock (in `Wall` mode) and the HTTP server on `listener`, without checkpoints.
pub async fn start(
    replica: Replica,
    listener: TcpListener,
    config: ServerConfig,
) -> std::io::Result<RunningServer> {
    start_with_checkpoints(replica, None, listener, config).await
}

/// [`start`] with the data directory's guardian checkpoints: the writer proposes one after each batch that
/// closes a minting period, and `/v1/checkpoints` serves and signs them.
pub async fn start_with_checkpoints(
    replica: Replica,
    checkpoints: Option<checkpoints::SharedCheckpoints>,
    listener: TcpListener,
    config: ServerConfig,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        Some((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
    };
    let mut replica = replica;
    replica.set_clock(config.clock);
    let data_dir =
        checkpoints.as_ref().and_then(|store| store.lock().dir().parent().map(|dir| dir.to_path_buf()));
    let (events, indexer) = events::EventLog::open(data_dir.as_deref(), &mut replica);
    let replica = Arc::new(RwLock::new(replica));
    indexer.spawn(replica.clone());
    let (writer, writer_thread) = writer::spawn_writer(
        replica.clone(),
        config.max_batch,
        config.queue_depth,
        now_unix_ms,
        checkpoints.clone(),
    );
    let app = AppState::new(replica, writer, config).with_checkpoints(checkpoints).with_events(events);
    let (shutdown, shutdown_rx) = watch::channel(false);
    if config.clock == ClockMode::Wall {
        let mut clock_shutdown = shutdown.subscribe();
        let interval_s = config.tick_interval_s.max(1);
        let clock_app = app.clone();
        tokio::spawn(async move {
            loop {
                let wait = clock_wait(&clock_app, interval_s);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = clock_shutdown.changed() => return,
                }
                if !catch_up(&clock_app).await {
                    return;
                }
            }
        });
    }
    let router = api::router::router(app.clone());
    let http = tokio::spawn(serve_http(listener, router, config, shutdown_rx));
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
