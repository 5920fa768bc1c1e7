//! The HTTP figures of the foundation suite: a real node in-process (`tfeco_server::start` on 127.0.0.1:0,
//! manual clock, fresh SQLite data directory, the simulator's HTTP operator), the simulator's load against
//! its URL, then the node's journal checked: it must hold exactly the setup and the accepted requests, and
//! its batch stamps count the group commits.

use std::path::Path;

use tfeco_journal::Journal;
use tfeco_server::{ClockMode, ReplayOptions, ServerConfig};
use tfeco_sim::bench::foundation::{HttpJournal, Sizes};
use tfeco_sim::bench::http::{http_operator_key, run_http_load, HttpLoad, HttpRun};
use tfeco_wallet::client::account_of;

use super::storage::{open_journal, temp_dir};

/// The name of the server's writer thread (its busy fraction is reported).
const WRITER_THREAD: &str = "tfeco-writer";

/// Starts a node, runs the load, stops the node and reads its journal.
pub(super) async fn bench_http(sizes: Sizes, threads: usize) -> anyhow::Result<(HttpRun, HttpJournal)> {
    let dir = temp_dir("http")?;
    let operator = http_operator_key();
    let now_s = tfeco_server::now_unix_ms() / 1000;
    let mut genesis = tfeco_core::Genesis::tfgrid4_2025(account_of(&operator), now_s);
    genesis.params.dev_mode = true; // a throw-away single-key node
    let node = || tfeco_server::datadir::NewNode {
        operator_key: operator.clone(),
        genesis,
        datadir_id: rand::random(),
    };
    let (mut replica, _, _) = tfeco_server::datadir::open_node(dir.path(), node, ReplayOptions::default())?;
    replica.set_operator_key(operator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let server = tfeco_server::start(replica, listener, config).await?;
    let url = format!("http://{}", server.addr);
    let load = HttpLoad {
        url: &url,
        clients: sizes.http_clients,
        requests: sizes.http_requests,
        threads,
        now_s,
        writer_thread: WRITER_THREAD,
    };
    let run = run_http_load(load).await;
    let head = server.app.replica.read().head_seq();
    server.stop().await?;
    let run = run?;
    let seq_ok = head == run.setup_entries + run.accepted as u64;
    let commits = count_commits(dir.path(), run.setup_entries)?;
    Ok((run, HttpJournal { seq_ok, commits }))
}

/// Group commits after entry `after_seq` of the stopped server's journal: each batch is stamped with one
/// `timestamp_ms`, so distinct consecutive stamps count batches (batches in the same millisecond merge).
fn count_commits(dir: &Path, after_seq: u64) -> anyhow::Result<u64> {
    let journal = open_journal(dir)?;
    let mut commits = 0u64;
    let mut last = None;
    journal.replay(after_seq + 1, &mut |entry| {
        if last != Some(entry.timestamp_ms) {
            commits += 1;
            last = Some(entry.timestamp_ms);
        }
        Ok(())
    })?;
    Ok(commits)
}
