//! The HTTP load of the foundation suite, against a node the caller started (manual clock, fresh data
//! directory, operator [`http_operator_key`]): `clients` accounts registered and funded through the API, then
//! one concurrent task per account posting its own pre-signed, pre-serialised transfers in nonce order, one at
//! a time (no pipelining), over its own keep-alive HTTP/1.1 connection (hyper's client: the client's share of
//! the machine's cores stays small). Client signing and connecting are outside the timer; the server still
//! decodes and verifies every signature (each request is a distinct command signed by its account) and journals
//! every batch durably before it answers. The clients run on their own runtime (threads
//! named [`CLIENT_THREAD`]) so that per-thread CPU splits client from server; both share the machine's cores.
//! Latency p50/p99/max is per request, send to response.

use std::collections::BTreeMap;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use tfeco_core::{AccountKey, Command};
use tfeco_wallet::client::{account_of, sign_tx};
use tfeco_wallet::{CallError, Client};

use super::measure::{cpu_breakdown, rate, thread_cpu_ns, CpuBreakdown, Latency};
use super::workload::{bench_key, funding, Transfers};
use crate::{Result, SimError};

/// Name of the client runtime's threads.
pub const CLIENT_THREAD: &str = "bench-client";

/// The operator key the HTTP bench's node must be opened with (it funds the accounts).
pub fn http_operator_key() -> SigningKey {
    bench_key("http-operator", 0)
}

/// The load to run.
pub struct HttpLoad<'a> {
    /// The node's base URL, e.g. `http://127.0.0.1:40123`.
    pub url: &'a str,
    /// Concurrent clients, one account each.
    pub clients: usize,
    /// Transfers posted in all.
    pub requests: usize,
    /// Threads of the client runtime.
    pub threads: usize,
    /// The node's time, unix seconds (requests expire 15 minutes later).
    pub now_s: i64,
    /// Name of the server's writer thread (its busy fraction is reported).
    pub writer_thread: &'a str,
    /// The server's count of durable group commits so far (its `tfeco_journal_commit_entries` histogram's
    /// sample count), read before and after the timed phase; `None` when the caller cannot see it.
    pub group_commits: Option<&'a (dyn Fn() -> u64 + Send + Sync)>,
}

/// What the load measured.
#[derive(Debug)]
pub struct HttpRun {
    /// Accepted requests per second of the timed phase.
    pub requests_per_s: f64,
    /// Requests accepted.
    pub accepted: usize,
    /// Requests that failed.
    pub errors: usize,
    /// Failures by `"<status> <code>"` or `"transport: ..."`.
    pub error_codes: BTreeMap<String, usize>,
    /// The first five failures.
    pub first_errors: Vec<String>,
    /// Latency percentiles and maximum, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
    /// The timed phase, seconds.
    pub elapsed_s: f64,
    /// CPU by thread during the timed phase.
    pub cpu: CpuBreakdown,
    /// Entries the setup journaled before the timed phase (registrations and deposits).
    pub setup_entries: u64,
    /// Durable group commits (journal appends) the server made during the timed phase, when
    /// [`HttpLoad::group_commits`] was given.
    pub group_commits: Option<u64>,
}

fn transport(error: impl std::fmt::Display) -> SimError {
    SimError::Node(CallError::Unreachable(error.to_string()))
}

fn task(error: impl std::fmt::Display) -> SimError {
    SimError::Task(error.to_string())
}

/// Posts one signed body; `Err("<status> <code>")`, `Err("transport: ...")` or `Err("unreadable: ...")`
/// when not accepted.
async fn post(client: &Client, body: Vec<u8>) -> std::result::Result<(), String> {
    match client.submit_tx_json(body).await {
        Ok(_) => Ok(()),
        Err(CallError::Refused { status, error }) => Err(format!("{status} {}", error.code)),
        Err(CallError::Unreachable(error)) => Err(format!("transport: {error}")),
        Err(CallError::Decode(error)) => Err(format!("unreadable: {error}")),
    }
}

fn signed_json(key: &SigningKey, nonce: u64, expiry: i64, command: Command) -> Vec<u8> {
    // A signed request always serialises; an empty body would be refused and counted as an error.
    serde_json::to_vec(&sign_tx(key, nonce, expiry, command)).unwrap_or_default()
}

/// Every client registers itself (concurrently), then the operator funds each (in nonce order).
async fn setup_accounts(url: &str, keys: &[SigningKey], expiry: i64) -> Result<()> {
    let client = Client::new(url);
    let mut registrations = tokio::task::JoinSet::new();
    for key in keys {
        let client = client.clone();
        let body = signed_json(key, 1, expiry, Command::RegisterAccount {});
        registrations.spawn(async move { post(&client, body).await });
    }
    while let Some(result) = registrations.join_next().await {
        result.map_err(task)?.map_err(|e| SimError::Check(format!("registering a bench account: {e}")))?;
    }
    let operator = http_operator_key();
    for (i, key) in keys.iter().enumerate() {
        let command = funding(account_of(key), format!("bench-http-deposit-{i}"));
        let body = signed_json(&operator, i as u64 + 1, expiry, command);
        post(&client, body).await.map_err(|e| SimError::Check(format!("funding a bench account: {e}")))?;
    }
    Ok(())
}

/// Each client's transfers, signed and serialised, in nonce order.
async fn presign(keys: Vec<SigningKey>, requests: usize, expiry: i64) -> Result<Vec<Vec<Vec<u8>>>> {
    tokio::task::spawn_blocking(move || {
        let ids: Vec<AccountKey> = keys.iter().map(account_of).collect();
        let mut transfers = Transfers::new(&ids, 0xD1B5_4A32_D192_ED03);
        let mut bodies: Vec<Vec<Vec<u8>>> = vec![Vec::new(); ids.len()];
        for _ in 0..requests {
            let (from, body) = transfers.next_body(expiry);
            bodies[from].push(signed_json(&keys[from], body.nonce, body.expiry, body.command));
        }
        bodies
    })
    .await
    .map_err(task)
}

/// One client's outcome: latencies in µs of accepted requests, failures.
#[derive(Default)]
struct ClientRun {
    latencies_us: Vec<u32>,
    errors: Vec<String>,
}

/// One client's keep-alive HTTP/1.1 connection of the timed phase (hyper's client, one request at a time:
/// no pipelining), opened before the clock starts.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    host: http::HeaderValue,
}

impl Connection {
    /// Connects to `addr` (`host:port`).
    async fn open(addr: &str) -> std::result::Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let host = http::HeaderValue::from_str(addr).map_err(|e| e.to_string())?;
        Ok(Connection { sender, host })
    }

    /// Posts one signed body to `POST /v1/tx`: `Ok` when accepted (200), else `Err("<status> <code>")`,
    /// `Err("transport: ...")` or `Err("unreadable: ...")`.
    async fn post(&mut self, body: Vec<u8>) -> std::result::Result<(), String> {
        use http_body_util::BodyExt;
        let request = http::Request::post(tfeco_wallet::api::paths::TX)
            .header(http::header::HOST, self.host.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|e| format!("transport: {e}"))?;
        self.sender.ready().await.map_err(|e| format!("transport: {e}"))?;
        let response = self.sender.send_request(request).await.map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| format!("transport: {e}"))?.to_bytes();
        if status == http::StatusCode::OK {
            return Ok(());
        }
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(error) => Err(format!("{} {}", status.as_u16(), error["code"].as_str().unwrap_or("?"))),
            Err(e) => Err(format!("unreadable: HTTP {status}: {e}")),
        }
    }
}

/// Posts one client's requests in order on its connection, timing each.
async fn client_run(mut connection: Connection, requests: Vec<Vec<u8>>) -> ClientRun {
    let mut run = ClientRun { latencies_us: Vec::with_capacity(requests.len()), errors: Vec::new() };
    for body in requests {
        let sent = Instant::now();
        match connection.post(body).await {
            Ok(()) => run.latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)),
            Err(error) => run.errors.push(error),
        }
    }
    run
}

/// Sets up the accounts, then runs and measures the load.
pub async fn run_http_load(load: HttpLoad<'_>) -> Result<HttpRun> {
    let expiry = load.now_s + 900;
    let keys: Vec<SigningKey> = (0..load.clients).map(|i| bench_key("http-client", i)).collect();
    setup_accounts(load.url, &keys, expiry).await?;
    let per_client = presign(keys, load.requests, expiry).await?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(load.threads)
        .thread_name(CLIENT_THREAD)
        .enable_all()
        .build()
        .map_err(task)?;
    // A runtime must not be dropped inside another: shut it down on every path.
    let run = timed_load(&client_rt, &load, per_client).await;
    client_rt.shutdown_background();
    run
}

/// Opens one keep-alive connection per client (untimed), then times every client's requests.
async fn timed_load(
    client_rt: &tokio::runtime::Runtime,
    load: &HttpLoad<'_>,
    per_client: Vec<Vec<Vec<u8>>>,
) -> Result<HttpRun> {
    let addr = load.url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let opening: Vec<_> = (0..load.clients)
        .map(|_| {
            let addr = addr.clone();
            client_rt.spawn(async move { Connection::open(&addr).await })
        })
        .collect();
    let mut connections = Vec::with_capacity(load.clients);
    for connection in opening {
        connections.push(connection.await.map_err(task)?.map_err(transport)?);
    }
    let commits_before = load.group_commits.map(|count| count());
    let cpu_before = thread_cpu_ns();
    let start = Instant::now();
    let tasks: Vec<_> = per_client
        .into_iter()
        .zip(connections)
        .map(|(requests, connection)| client_rt.spawn(client_run(connection, requests)))
        .collect();
    let mut latencies = Vec::with_capacity(load.requests);
    let mut errors = Vec::new();
    for client in tasks {
        let run = client.await.map_err(task)?;
        latencies.extend(run.latencies_us);
        errors.extend(run.errors);
    }
    let elapsed = start.elapsed();
    let cpu_after = thread_cpu_ns();
    let group_commits = load.group_commits.zip(commits_before).map(|(count, before)| count() - before);
    let names = (CLIENT_THREAD, load.writer_thread);
    let cpu = cpu_breakdown(&cpu_before, &cpu_after, latencies.len() + errors.len(), elapsed, names);
    let mut run = summarize(latencies, errors, elapsed, cpu, 2 * load.clients as u64);
    run.group_commits = group_commits;
    Ok(run)
}

fn summarize(
    mut latencies: Vec<u32>,
    errors: Vec<String>,
    elapsed: std::time::Duration,
    cpu: CpuBreakdown,
    setup_entries: u64,
) -> HttpRun {
    let latency = Latency::of_us(&mut latencies);
    let mut error_codes = BTreeMap::new();
    for error in &errors {
        *error_codes.entry(error.clone()).or_insert(0) += 1;
    }
    HttpRun {
        requests_per_s: rate(latencies.len(), elapsed),
        accepted: latencies.len(),
        errors: errors.len(),
        error_codes,
        p50_ms: latency.p50_ms,
        p99_ms: latency.p99_ms,
        max_ms: latency.max_ms,
        first_errors: errors.into_iter().take(5).collect(),
        elapsed_s: elapsed.as_secs_f64(),
        cpu,
        setup_entries,
        group_commits: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_summarize_into_percentiles_and_errors_by_code() {
        let latencies: Vec<u32> = (1..=100).map(|i| i * 1_000).collect();
        let errors =
            vec!["422 nonce_used".to_owned(), "422 nonce_used".to_owned(), "transport: x".to_owned()];
        let run = summarize(latencies, errors, std::time::Duration::from_secs(2), CpuBreakdown::default(), 8);
        assert_eq!((run.accepted, run.errors, run.requests_per_s), (100, 3, 50.0));
        assert_eq!((run.p50_ms, run.p99_ms, run.max_ms), (51.0, 100.0, 100.0));
        assert_eq!(run.error_codes["422 nonce_used"], 2);
        assert_eq!((run.first_errors.len(), run.setup_entries), (3, 8));
    }
}
