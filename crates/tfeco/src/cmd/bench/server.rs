//! The HTTP figures of the foundation and compare suites: a real node in-process (`tfeco_server::start` on
//! 127.0.0.1:0, manual clock, fresh data directory with its journal in SQLite or in a PostgreSQL database,
//! the simulator's HTTP operator), the simulator's load against its URL, then the node's journal reopened
//! after the stop: it must hold exactly the setup and the accepted requests. The node's own metrics count
//! its group commits during the timed phase.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use tfeco_journal::{Journal, JournalError, PostgresJournal, SqliteJournal};
use tfeco_server::datadir::JournalLocation;
use tfeco_server::{ClockMode, ReplayOptions, ServerConfig};
use tfeco_sim::bench::foundation::{HttpJournal, Sizes};
use tfeco_sim::bench::http::{http_operator_key, run_http_load, HttpLoad, HttpRun};
use tfeco_wallet::client::account_of;

use super::storage::temp_dir;

/// The name of the server's writer thread (its busy fraction is reported).
const WRITER_THREAD: &str = "tfeco-writer";

/// One HTTP load against a fresh node: the load's figures, and the node's journal after the stop.
pub(super) struct NodeRun {
    /// What the load measured.
    pub(super) http: HttpRun,
    /// The journal's head seq, read from the journal reopened after the node stopped.
    pub(super) journal_head: u64,
    /// The node's data directory, kept until the run's figures are read (deleted on drop).
    pub(super) _dir: tempfile::TempDir,
}

impl NodeRun {
    /// Whether the journal holds exactly the setup and the accepted requests.
    pub(super) fn journal_ok(&self) -> bool {
        self.journal_head == self.http.setup_entries + self.http.accepted as u64
    }
}

/// Starts a fresh node with its journal at `location` (an empty database for PostgreSQL), runs `clients`
/// clients posting `requests` transfers in all, stops the node and reads its journal's head.
pub(super) async fn run_node_load(
    location: &JournalLocation,
    clients: usize,
    requests: usize,
    threads: usize,
) -> anyhow::Result<NodeRun> {
    let dir = temp_dir("http")?;
    let operator = http_operator_key();
    let now_s = tfeco_server::now_unix_ms() / 1000;
    let mut genesis = tfeco_core::Genesis::tfgrid4_2025(account_of(&operator), now_s);
    genesis.params.dev_mode = true; // a throw-away single-key node
    let operator_key = operator.clone();
    let node = move || tfeco_server::datadir::NewNode { operator_key, genesis, datadir_id: rand::random() };
    let (opened_dir, opened_location) = (dir.path().to_owned(), location.clone());
    let (mut replica, _, _) = tokio::task::spawn_blocking(move || {
        tfeco_server::datadir::open_node_at(&opened_dir, &opened_location, node, ReplayOptions::default())
    })
    .await??;
    replica.set_operator_key(operator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let server = tfeco_server::start(replica, listener, config).await?;
    let url = format!("http://{}", server.addr);
    let metrics = server.app.metrics.clone();
    let group_commits = move || metrics.group_commits();
    let load = HttpLoad {
        url: &url,
        clients,
        requests,
        // The lean client needs a fraction of a core; more threads than half the machine's only add
        // context switches on the cores it shares with the node.
        threads: (threads / 2).max(1),
        now_s,
        writer_thread: WRITER_THREAD,
        group_commits: Some(&group_commits),
    };
    let run = run_http_load(load).await;
    server.stop().await?;
    let http = run?;
    let (head_dir, head_location) = (dir.path().to_owned(), location.clone());
    let journal_head = tokio::task::spawn_blocking(move || journal_head(&head_dir, &head_location)).await??;
    Ok(NodeRun { http, journal_head, _dir: dir })
}

/// How long to wait for a stopped node's last handles (e.g. a connection task) to release its SQLite
/// journal before giving up.
const RELEASE_WAIT: Duration = Duration::from_secs(30);

/// The head seq of the stopped node's journal, reopened from its storage (waiting while the stopped node's
/// last handles still hold the SQLite journal's lock).
fn journal_head(dir: &Path, location: &JournalLocation) -> anyhow::Result<u64> {
    Ok(match location {
        JournalLocation::DataDir => {
            let started = Instant::now();
            loop {
                match SqliteJournal::open(dir) {
                    Err(JournalError::Locked(_)) if started.elapsed() < RELEASE_WAIT => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    opened => break opened.context("reopening the node's SQLite journal")?.0.head().seq,
                }
            }
        }
        JournalLocation::Postgres(url) => {
            PostgresJournal::open_existing(url)
                .context("reopening the node's PostgreSQL journal")?
                .0
                .head()
                .seq
        }
    })
}

/// Starts a node on SQLite, runs the load, stops the node and reads its journal.
pub(super) async fn bench_http(sizes: Sizes, threads: usize) -> anyhow::Result<(HttpRun, HttpJournal)> {
    let run =
        run_node_load(&JournalLocation::DataDir, sizes.http_clients, sizes.http_requests, threads).await?;
    let seq_ok = run.journal_ok();
    // Counted by the writer itself (one per durable append): the manual clock stamps every batch with the
    // same time, so the journal's timestamps cannot tell batches apart.
    let commits = run.http.group_commits.context("the node's group commits were not counted")?;
    Ok((run.http, HttpJournal { seq_ok, commits }))
}
