//! `tfeco bench`: performance report (core, journal, replay, HTTP).
//!
//! `--suite foundation` (the default) runs what is described below; `--suite market` runs the exit auction,
//! capacity, minting and exchange measurements of `bench_market.rs` instead, and `--suite all` runs both
//! (the JSON report then carries the market figures in an object `market`).
//!
//! What is measured, and how (wall clock with `std::time::Instant`; no criterion, one run per figure):
//!
//! - **core**: `State::apply` of pre-built `Transfer` envelopes on one thread, on a state with 10,000
//!   registered accounts funded by operator `AttestDeposit`s; pseudo-random pairs from a fixed xorshift.
//!   Only the apply loop is timed (envelopes are built in untimed chunks of 100,000; every one must succeed).
//! - **journal**: `SqliteJournal::append` into a fresh journal in a temporary directory, batches of 1, 100 and
//!   1,000 entries (one transaction and one fsync per batch, as the node's group commit does). Entries are
//!   real signed transfers: payload `RequestBody::encode()`, 64-byte ed25519 signature.
//! - **replay**: `replay_into(State::new(genesis), &journal, ReplayOptions::default())` over a SQLite
//!   journal of registrations + deposits + transfers that were applied to a state when they were built (so
//!   every entry is valid on replay); the count includes the setup entries. The journal file is warm in the
//!   OS page cache (just written). The replayed state hash must equal the builder's. A breakdown (µs per
//!   entry) comes from the same replay over a `MemoryJournal` and from timing the pure steps (hash +
//!   checksum, decode) on the same entries.
//! - **http**: the real server in-process (`tfeco_server::start` on 127.0.0.1:0, manual clock, fresh SQLite
//!   data directory), 64 accounts registered and funded through the API, then 64 concurrent tasks, one per
//!   account, each posting its own pre-signed, pre-serialised transfers in nonce order over a shared
//!   keep-alive `reqwest` client. Client signing is outside the timer; the server still decodes and verifies
//!   every signature and journals every batch durably. The clients run on their own runtime
//!   (`bench-client` threads) so that per-thread CPU (Linux `/proc/self/task/*/schedstat`) splits client
//!   from server; both share the machine's cores. Latency p50/p99/max is per request, send to response.
//! - **micro**: ed25519 sign and verify, and the JSON decode of one signed request, in µs per call.
//!
//! The machine may be shared: `cpu_share` (this thread's CPU time / wall time of a single-threaded timing)
//! and the load average say how much, and `*_per_cpu_s` give the rate per CPU-second (an uncontended core).
//! Temporary data goes to the system temp directory (`TMPDIR` to move it: it must be a real disk for the
//! fsync figures to mean anything). Figures from a debug build are not meaningful: the core then checks
//! every invariant after each command; the report says `"build": "debug"` and the workloads are shrunk.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use tfeco_core::command::RequestBody;
use tfeco_core::{AccountKey, Command, Envelope, Genesis, State};
use tfeco_journal::{EntryRef, Journal, MemoryJournal, NewEntry, SqliteJournal, ZERO_HASH};
use tfeco_money::{Amount, Asset, Tft};
use tfeco_server::node::{replay_into, ReplayOptions};
use tfeco_server::{ClockMode, ServerConfig};
use tfeco_wallet::client::{account_of, sign_request};

/// Arguments of `tfeco bench`.
#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Smaller workloads (seconds instead of a minute).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Which measurements: `foundation` (core, journal, replay, HTTP), `market` (exit auction, capacity,
    /// minting, exchange) or `all`.
    #[arg(long, value_enum, default_value_t = Suite::Foundation)]
    suite: Suite,
}

/// The benchmark suites of `tfeco bench --suite`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Suite {
    /// Core apply, journal, replay, HTTP, micro (the default).
    Foundation,
    /// Exit auction, capacity requests, minting, exchange at scale (see `bench_market.rs`).
    Market,
    /// Both.
    All,
}

#[path = "bench_market.rs"]
mod market;

/// The targets the report compares against (2-core machine).
const TARGETS: [(&str, u64); 4] = [
    ("core_transfers_per_s", 1_000_000),
    ("journal_cmds_per_s_batch_1000", 100_000),
    ("replay_entries_per_s", 500_000),
    ("http_signed_requests_per_s", 10_000),
];

/// Core apply envelopes are built (untimed) and applied (timed) in chunks of this many.
const CORE_CHUNK: usize = 100_000;
/// The replay journal is written in batches of this many entries.
const REPLAY_WRITE_BATCH: usize = 10_000;
/// Bodies signed per parallel signing round (bounds the memory of unsigned bodies).
const SIGN_CHUNK: usize = 50_000;
/// Start time of the offline genesis (2025-11-01T00:00:00Z); the core never reads a clock.
const GENESIS_TIME: i64 = 1_761_955_200;
/// TFT deposited into every account before the transfers (transfers move at most 0.1 TFT each).
const FUNDING_TFT: i64 = 1_000_000;

/// Workload sizes.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    accounts: usize,
    core_transfers: usize,
    journal_batch_1_entries: usize,
    journal_entries: usize,
    replay_entries: usize,
    http_clients: usize,
    http_requests: usize,
    micro_iterations: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        let mut sizes = if quick {
            Sizes {
                accounts: 10_000,
                core_transfers: 200_000,
                journal_batch_1_entries: 500,
                journal_entries: 50_000,
                replay_entries: 100_000,
                http_clients: 64,
                http_requests: 5_000,
                micro_iterations: 1_000,
            }
        } else {
            Sizes {
                accounts: 10_000,
                core_transfers: 1_000_000,
                journal_batch_1_entries: 2_000,
                journal_entries: 200_000,
                replay_entries: 500_000,
                http_clients: 64,
                http_requests: 20_000,
                micro_iterations: 5_000,
            }
        };
        if cfg!(debug_assertions) {
            // Every apply re-checks every invariant (O(accounts)) in debug builds: shrink the core-bound work.
            sizes.accounts = 1_000;
            sizes.core_transfers /= 20;
            sizes.replay_entries /= 20;
            sizes.journal_entries = sizes.journal_entries.min(sizes.replay_entries - 2 * sizes.accounts);
        }
        sizes
    }

    fn to_json(self) -> Value {
        json!({
            "accounts": self.accounts,
            "core_transfers": self.core_transfers,
            "journal_batch_1_entries": self.journal_batch_1_entries,
            "journal_batch_100_entries": self.journal_entries,
            "journal_batch_1000_entries": self.journal_entries,
            "replay_entries": self.replay_entries,
            "replay_setup_entries": 2 * self.accounts,
            "http_accounts": self.http_clients,
            "http_clients": self.http_clients,
            "http_requests": self.http_requests,
            "micro_iterations": self.micro_iterations,
        })
    }
}

/// A tiny deterministic xorshift64 generator (pairs and amounts only; nothing secret).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Two distinct indices below `n` (n >= 2).
    fn pair(&mut self, n: usize) -> (usize, usize) {
        let from = self.below(n);
        let to = (from + 1 + self.below(n - 1)) % n;
        (from, to)
    }
}

/// A deterministic bench key (public seeds: never use them for real value).
fn bench_key(role: &str, index: usize) -> SigningKey {
    let seed = blake3::hash(format!("tfeco-bench/{role}/{index}").as_bytes());
    SigningKey::from_bytes(seed.as_bytes())
}

/// CPU time of the calling thread, ns (Linux `/proc/thread-self/schedstat`; `None` elsewhere).
fn own_thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Wall time plus this thread's CPU time: `cpu / wall` below ~0.95 for a CPU-bound loop means other
/// processes took the core (the figures are then pessimistic).
#[derive(Clone, Copy, Default)]
struct Span {
    wall: Duration,
    cpu_ns: Option<u64>,
}

impl Span {
    fn measure<T>(f: impl FnOnce() -> T) -> (T, Span) {
        let cpu = own_thread_cpu_ns();
        let start = Instant::now();
        let value = f();
        let wall = start.elapsed();
        let cpu_ns = cpu.and_then(|before| Some(own_thread_cpu_ns()?.saturating_sub(before)));
        (value, Span { wall, cpu_ns })
    }

    fn add(self, other: Span) -> Span {
        let cpu_ns = match (self.cpu_ns, other.cpu_ns) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) if self.wall.is_zero() => b,
            _ => None,
        };
        Span { wall: self.wall + other.wall, cpu_ns }
    }

    fn cpu_share(self) -> Option<f64> {
        self.cpu_ns.map(|ns| round3(ns as f64 / self.wall.as_nanos().max(1) as f64))
    }
}

/// The 1-minute load average (Linux), a hint that other processes shared the machine.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn round_rate(rate: f64) -> u64 {
    rate.round() as u64
}

fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}

/// The signers of the offline benches: `accounts` user keys, then the operator (index `accounts`).
struct Signers {
    keys: Vec<SigningKey>,
    ids: Vec<AccountKey>,
}

impl Signers {
    fn new(accounts: usize) -> Self {
        let mut keys: Vec<SigningKey> = (0..accounts).map(|i| bench_key("account", i)).collect();
        keys.push(bench_key("operator", 0));
        let ids = keys.iter().map(account_of).collect();
        Signers { keys, ids }
    }

    fn users(&self) -> usize {
        self.keys.len() - 1
    }

    fn operator_index(&self) -> usize {
        self.keys.len() - 1
    }

    fn operator(&self) -> AccountKey {
        self.ids[self.operator_index()]
    }
}

/// Registrations (each account, nonce 1) then one operator deposit per account: `(signer index, body)`.
fn setup_bodies(signers: &Signers, expiry: i64) -> Vec<(usize, RequestBody)> {
    let mut bodies = Vec::with_capacity(2 * signers.users());
    for i in 0..signers.users() {
        let command = Command::RegisterAccount {};
        bodies.push((i, RequestBody { signer: signers.ids[i], nonce: 1, expiry, command }));
    }
    let operator = signers.operator_index();
    for i in 0..signers.users() {
        let command = Command::AttestDeposit {
            asset: Asset::Tft,
            to: signers.ids[i],
            amount: Amount::from_units(Amount::<Tft>::tokens(FUNDING_TFT).units()),
            external_tx_id: format!("bench-deposit-{i}"),
        };
        let nonce = i as u64 + 1;
        bodies.push((operator, RequestBody { signer: signers.ids[operator], nonce, expiry, command }));
    }
    bodies
}

/// Pseudo-random transfers between the users, with each signer's nonces in order (after registration's 1).
struct Transfers<'a> {
    ids: &'a [AccountKey],
    next_nonce: Vec<u64>,
    rng: XorShift,
}

impl<'a> Transfers<'a> {
    fn new(ids: &'a [AccountKey], seed: u64) -> Self {
        Transfers { ids, next_nonce: vec![2; ids.len()], rng: XorShift(seed) }
    }

    fn next(&mut self, expiry: i64) -> (usize, RequestBody) {
        let (from, to) = self.rng.pair(self.ids.len());
        let nonce = self.next_nonce[from];
        self.next_nonce[from] += 1;
        let units = 1 + self.rng.below(1_000_000) as i128;
        let command =
            Command::Transfer { asset: Asset::Tft, to: self.ids[to], amount: Amount::from_units(units) };
        (from, RequestBody { signer: self.ids[from], nonce, expiry, command })
    }
}

fn envelope_of(body: &RequestBody) -> Envelope {
    Envelope { signer: body.signer, nonce: body.nonce, command: body.command.clone() }
}

/// Signs `bodies` on every core and returns the journal entries.
fn sign_entries(
    bodies: &[(usize, RequestBody)],
    keys: &[SigningKey],
    timestamp_ms: i64,
    threads: usize,
) -> Vec<NewEntry> {
    let chunk = bodies.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(signer, body)| {
                            let payload = body.encode();
                            let bytes = tfeco_core::command::signing_bytes_of_payload(&payload);
                            let signature = keys[*signer].sign(&bytes).to_bytes().to_vec();
                            NewEntry { timestamp_ms, signer: body.signer.0, payload, signature }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a signing thread panicked")).collect()
    })
}

/// A state with the setup applied (registrations and deposits).
fn funded_state(genesis: &Genesis, signers: &Signers) -> anyhow::Result<State> {
    let mut state = State::new(genesis.clone());
    for (_, body) in setup_bodies(signers, 0) {
        state.apply(&envelope_of(&body)).map_err(|r| anyhow::anyhow!("setup command rejected: {r}"))?;
    }
    Ok(state)
}

// ---------------------------------------------------------------------------------------------------------
// Offline benches: core, journal, replay, micro.

struct Offline {
    core_transfers_per_s: f64,
    core_span: Span,
    /// `(batch size, entries, span)`.
    journal_batch: [(usize, usize, Span); 3],
    replay_entries_per_s: f64,
    replay_span: Span,
    replay_breakdown: ReplayBreakdown,
    replay_entries: usize,
    corpus_build_s: f64,
    micro: Micro,
}

fn run_offline(sizes: Sizes, threads: usize) -> anyhow::Result<Offline> {
    let signers = Signers::new(sizes.accounts);
    let genesis = crate::data::genesis(signers.operator(), GENESIS_TIME)?;
    let micro = micro(&signers, sizes.micro_iterations)?;
    let (core_transfers_per_s, core_span) = bench_core(&genesis, &signers, sizes.core_transfers)?;

    let built = Instant::now();
    let (corpus, expected_hash) = build_corpus(&genesis, &signers, sizes.replay_entries, threads)?;
    let corpus_build_s = built.elapsed().as_secs_f64();

    // The journal benches append realistic signed transfers: the corpus's, after its setup part.
    let transfers = &corpus[2 * signers.users()..];
    let mut journal_batch = [(1, 0, Span::default()), (100, 0, Span::default()), (1_000, 0, Span::default())];
    for (batch, entries, span) in &mut journal_batch {
        let n = if *batch == 1 { sizes.journal_batch_1_entries } else { sizes.journal_entries };
        ensure!(transfers.len() >= n, "the corpus holds {} transfers, {n} needed", transfers.len());
        *entries = n;
        *span = bench_journal(&transfers[..n], *batch)?;
    }

    let replay_entries = corpus.len();
    let (replay_entries_per_s, replay_span, replay_breakdown) =
        bench_replay(&genesis, corpus, &expected_hash)?;
    Ok(Offline {
        core_transfers_per_s,
        core_span,
        journal_batch,
        replay_entries_per_s,
        replay_span,
        replay_breakdown,
        replay_entries,
        corpus_build_s,
        micro,
    })
}

/// µs per call of ed25519 verify and sign and of the JSON decode of a signed request.
struct Micro {
    verify_us: f64,
    sign_us: f64,
    json_decode_us: f64,
    span: Span,
}

fn micro(signers: &Signers, iterations: usize) -> anyhow::Result<Micro> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Decoded for the timing; mirrors the server's `SignedRequestDto`.
    struct SignedRequestDto {
        body: RequestBody,
        signature: String,
    }
    let mut transfers = Transfers::new(&signers.ids[..signers.users()], 7);
    let (from, body) = transfers.next(GENESIS_TIME + 300);
    let key = &signers.keys[from];
    let payload = body.encode();
    let bytes = tfeco_core::command::signing_bytes_of_payload(&payload);
    let signature = key.sign(&bytes).to_bytes();
    let json_bytes = serde_json::to_vec(&sign_request(key, body.nonce, body.expiry, body.command.clone()))?;
    let per_call = |span: Span| span.wall.as_secs_f64() * 1e6 / iterations.max(1) as f64;

    let (verified, verify) = Span::measure(|| {
        (0..iterations)
            .filter(|_| {
                tfeco_core::command::verify_payload(&body.signer, std::hint::black_box(&payload), &signature)
                    .is_ok()
            })
            .count()
    });
    ensure!(verified == iterations, "a bench signature does not verify");
    let ((), sign) = Span::measure(|| {
        for _ in 0..iterations {
            std::hint::black_box(key.sign(std::hint::black_box(&bytes)));
        }
    });
    let (decoded, decode) = Span::measure(|| {
        (0..iterations)
            .filter(|_| serde_json::from_slice::<SignedRequestDto>(std::hint::black_box(&json_bytes)).is_ok())
            .count()
    });
    ensure!(decoded == iterations, "a bench request does not decode");
    Ok(Micro {
        verify_us: per_call(verify),
        sign_us: per_call(sign),
        json_decode_us: per_call(decode),
        span: verify.add(sign).add(decode),
    })
}

fn bench_core(genesis: &Genesis, signers: &Signers, n: usize) -> anyhow::Result<(f64, Span)> {
    let mut state = funded_state(genesis, signers)?;
    let mut transfers = Transfers::new(&signers.ids[..signers.users()], 0x9E37_79B9_7F4A_7C15);
    let mut apply_chunk = |count: usize| -> anyhow::Result<Span> {
        let chunk: Vec<Envelope> = (0..count).map(|_| envelope_of(&transfers.next(0).1)).collect();
        let (rejected, span) =
            Span::measure(|| chunk.iter().filter(|envelope| state.apply(envelope).is_err()).count());
        ensure!(rejected == 0, "{rejected} bench transfers were rejected by the core");
        Ok(span)
    };
    apply_chunk((n / 20).min(10_000))?; // Warm-up, untimed.
    let mut span = Span::default();
    let mut done = 0;
    while done < n {
        let count = CORE_CHUNK.min(n - done);
        span = span.add(apply_chunk(count)?);
        done += count;
    }
    Ok((rate(n, span.wall), span))
}

/// Setup plus transfers, `total` entries in all, each applied to a state as it is built (so all are valid on
/// replay), signed on every core. Returns the entries and the built state's hash.
fn build_corpus(
    genesis: &Genesis,
    signers: &Signers,
    total: usize,
    threads: usize,
) -> anyhow::Result<(Vec<NewEntry>, String)> {
    let mut state = State::new(genesis.clone());
    let timestamp_ms = GENESIS_TIME * 1_000;
    let expiry = GENESIS_TIME + 3_600;
    let mut entries = Vec::with_capacity(total);
    let mut pending = setup_bodies(signers, expiry);
    ensure!(pending.len() < total, "the replay workload is smaller than its setup");
    let mut transfers = Transfers::new(&signers.ids[..signers.users()], 0x2545_F491_4F6C_DD1D);
    loop {
        for (_, body) in &pending {
            state.apply(&envelope_of(body)).map_err(|r| anyhow::anyhow!("corpus command rejected: {r}"))?;
        }
        entries.extend(sign_entries(&pending, &signers.keys, timestamp_ms, threads));
        let remaining = total - entries.len();
        if remaining == 0 {
            break;
        }
        pending = (0..SIGN_CHUNK.min(remaining)).map(|_| transfers.next(expiry)).collect();
    }
    Ok((entries, state.state_hash()))
}

fn temp_dir(what: &str) -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("tfeco-bench-{what}-"))
        .tempdir()
        .with_context(|| format!("creating a temporary directory in {}", std::env::temp_dir().display()))
}

fn open_journal(dir: &Path) -> anyhow::Result<SqliteJournal> {
    Ok(SqliteJournal::open(dir).with_context(|| format!("opening a journal in {}", dir.display()))?.0)
}

/// Durable appends of `entries` in batches of `batch` into a fresh journal: entries per second.
fn bench_journal(entries: &[NewEntry], batch: usize) -> anyhow::Result<Span> {
    let dir = temp_dir("journal")?;
    let mut journal = open_journal(dir.path())?;
    let (appended, span) = Span::measure(|| -> anyhow::Result<()> {
        for chunk in entries.chunks(batch) {
            journal.append(chunk)?;
        }
        Ok(())
    });
    appended?;
    ensure!(journal.head().seq == entries.len() as u64, "the journal lost entries");
    Ok(span)
}

/// Where replay time goes, µs per entry.
#[derive(Clone, Copy, Default)]
struct ReplayBreakdown {
    /// Whole `replay_into` over the SQLite journal.
    total_us: f64,
    /// The same replay over a `MemoryJournal` holding the same entries.
    memory_journal_us: f64,
    /// SQLite row reads: `total - memory_journal`.
    sqlite_read_us: f64,
    /// blake3 hash + crc32 recomputation of each entry (`ChainCheck`).
    hash_crc_us: f64,
    /// `RequestBody::decode` (postcard).
    decode_us: f64,
    /// The rest (`State::apply`, envelope moves, final invariant check): `memory_journal - hash - decode`.
    apply_and_rest_us: f64,
}

/// Writes the corpus to a SQLite journal, reopens it and times a full replay: entries per second, the
/// replay's span and a breakdown of its time (from a `MemoryJournal` replay and the pure steps).
fn bench_replay(
    genesis: &Genesis,
    corpus: Vec<NewEntry>,
    expected_hash: &str,
) -> anyhow::Result<(f64, Span, ReplayBreakdown)> {
    let dir = temp_dir("replay")?;
    let n = corpus.len();
    let mut memory = MemoryJournal::new();
    {
        let mut journal = open_journal(dir.path())?;
        for chunk in corpus.chunks(REPLAY_WRITE_BATCH) {
            journal.append(chunk)?;
            memory.append(chunk)?;
        }
    }
    let per_entry_us = |span: Span| span.wall.as_secs_f64() * 1e6 / n.max(1) as f64;
    let ((), hash_span) = Span::measure(|| {
        for e in &corpus {
            let view = EntryRef {
                seq: 1,
                timestamp_ms: e.timestamp_ms,
                signer: &e.signer,
                payload: &e.payload,
                signature: &e.signature,
                prev_hash: &ZERO_HASH,
                hash: &ZERO_HASH,
            };
            std::hint::black_box(view.compute_checksum());
        }
    });
    let (decoded, decode_span) = Span::measure(|| {
        corpus.iter().filter(|e| RequestBody::decode(std::hint::black_box(&e.payload)).is_ok()).count()
    });
    ensure!(decoded == n, "{} corpus payloads do not decode", n - decoded);
    drop(corpus);

    let check = |state: State| -> anyhow::Result<()> {
        ensure!(
            state.commands_applied() == n as u64,
            "replay applied {} of {n} entries",
            state.commands_applied()
        );
        ensure!(
            state.state_hash() == expected_hash,
            "the replayed state differs from the state that built the log"
        );
        Ok(())
    };
    let (state, memory_span) =
        Span::measure(|| replay_into(State::new(genesis.clone()), &memory, ReplayOptions::default()));
    check(state?)?;
    drop(memory);
    let journal = open_journal(dir.path())?;
    let (state, span) =
        Span::measure(|| replay_into(State::new(genesis.clone()), &journal, ReplayOptions::default()));
    check(state?)?;

    let total_us = per_entry_us(span);
    let memory_journal_us = per_entry_us(memory_span);
    let hash_crc_us = per_entry_us(hash_span);
    let decode_us = per_entry_us(decode_span);
    let breakdown = ReplayBreakdown {
        total_us,
        memory_journal_us,
        sqlite_read_us: (total_us - memory_journal_us).max(0.0),
        hash_crc_us,
        decode_us,
        apply_and_rest_us: (memory_journal_us - hash_crc_us - decode_us).max(0.0),
    };
    Ok((rate(n, span.wall), span, breakdown))
}

// ---------------------------------------------------------------------------------------------------------
// HTTP bench.

struct Http {
    requests_per_s: f64,
    accepted: usize,
    errors: usize,
    error_codes: BTreeMap<String, usize>,
    first_errors: Vec<String>,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    elapsed_s: f64,
    journal_seq_ok: bool,
    /// Group commits during the timed phase (distinct batch timestamps: a lower bound, batches within the
    /// same millisecond count once).
    commits: u64,
    cpu: CpuBreakdown,
}

/// A client's outcome: latencies in µs of accepted requests, error codes.
#[derive(Default)]
struct ClientRun {
    latencies_us: Vec<u32>,
    errors: Vec<String>,
}

async fn post(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<(), String> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("transport: {e}"))?;
    if status.is_success() {
        return Ok(());
    }
    let code = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    Err(format!("{} {code}", status.as_u16()))
}

fn signed_json(key: &SigningKey, nonce: u64, expiry: i64, command: Command) -> Vec<u8> {
    serde_json::to_vec(&sign_request(key, nonce, expiry, command)).expect("a JSON value always serialises")
}

async fn bench_http(sizes: Sizes, threads: usize) -> anyhow::Result<Http> {
    let clients = sizes.http_clients;
    let dir = temp_dir("http")?;
    let operator = bench_key("http-operator", 0);
    let now_s = tfeco_server::now_unix_ms() / 1000;
    let genesis = crate::data::genesis(account_of(&operator), now_s)?;
    let (mut node, _) = tfeco_server::datadir::open_node(dir.path(), || genesis, ReplayOptions::default())?;
    node.set_operator_key(operator.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1:0")?;
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let server = tfeco_server::start(node, listener, config).await?;
    let url = format!("http://{}/v1/tx", server.addr);
    let setup_http = reqwest::Client::new();
    let expiry = now_s + 900;

    // Setup through the API: every client registers itself (concurrently), then the operator funds each
    // (in nonce order, so sequentially).
    let keys: Vec<SigningKey> = (0..clients).map(|i| bench_key("http-client", i)).collect();
    let mut registrations = tokio::task::JoinSet::new();
    for key in &keys {
        let (http, url) = (setup_http.clone(), url.clone());
        let body = signed_json(key, 1, expiry, Command::RegisterAccount {});
        registrations.spawn(async move { post(&http, &url, body).await });
    }
    while let Some(result) = registrations.join_next().await {
        result?.map_err(|e| anyhow::anyhow!("registering a bench account: {e}"))?;
    }
    for (i, key) in keys.iter().enumerate() {
        let command = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account_of(key),
            amount: Amount::from_units(Amount::<Tft>::tokens(FUNDING_TFT).units()),
            external_tx_id: format!("bench-http-deposit-{i}"),
        };
        let body = signed_json(&operator, i as u64 + 1, expiry, command);
        post(&setup_http, &url, body).await.map_err(|e| anyhow::anyhow!("funding a bench account: {e}"))?;
    }
    let setup_seq = 2 * clients as u64;

    // Pre-sign and pre-serialise every request (untimed).
    let ids: Vec<AccountKey> = keys.iter().map(account_of).collect();
    let per_client: Vec<Vec<Vec<u8>>> = tokio::task::spawn_blocking(move || {
        let mut transfers = Transfers::new(&ids, 0xD1B5_4A32_D192_ED03);
        let mut bodies: Vec<Vec<Vec<u8>>> = vec![Vec::new(); ids.len()];
        for _ in 0..sizes.http_requests {
            let (from, body) = transfers.next(expiry);
            bodies[from].push(signed_json(&keys[from], body.nonce, body.expiry, body.command));
        }
        bodies
    })
    .await?;

    // The clients run on their own runtime (threads named `bench-client`) so that their CPU is told apart
    // from the server's (`tokio-rt-worker` for HTTP, JSON and signature checks; `tfeco-writer` for apply and
    // journal). Both share the machine's cores. The keep-alive connections are opened before the timer.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .context("starting the client runtime")?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build()?;
    let status_url = format!("http://{}/v1/status", server.addr);
    let warm: Vec<_> = (0..clients)
        .map(|_| {
            let (http, status_url) = (http.clone(), status_url.clone());
            client_rt.spawn(async move { http.get(status_url).send().await?.bytes().await })
        })
        .collect();
    for task in warm {
        task.await?.context("opening the client connections")?;
    }

    let cpu_before = thread_cpu_ns();
    let start = Instant::now();
    let tasks: Vec<_> = per_client
        .into_iter()
        .map(|requests| {
            let (http, url) = (http.clone(), url.clone());
            client_rt.spawn(async move {
                let mut run =
                    ClientRun { latencies_us: Vec::with_capacity(requests.len()), errors: Vec::new() };
                for body in requests {
                    let sent = Instant::now();
                    match post(&http, &url, body).await {
                        Ok(()) => run
                            .latencies_us
                            .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)),
                        Err(error) => run.errors.push(error),
                    }
                }
                run
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(sizes.http_requests);
    let mut errors = Vec::new();
    for task in tasks {
        let run = task.await?;
        latencies.extend(run.latencies_us);
        errors.extend(run.errors);
    }
    let elapsed = start.elapsed();
    let cpu_after = thread_cpu_ns();
    client_rt.shutdown_background();

    let journal_seq_ok = server.app.node.read().head_seq() == setup_seq + latencies.len() as u64;
    server.stop().await?;
    let commits = count_commits(dir.path(), setup_seq)?;

    latencies.sort_unstable();
    let percentile = |p: usize| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = (latencies.len() * p / 100).min(latencies.len() - 1);
        round3(f64::from(latencies[i]) / 1_000.0)
    };
    let mut error_codes = BTreeMap::new();
    for error in &errors {
        *error_codes.entry(error.clone()).or_insert(0) += 1;
    }
    let cpu = cpu_breakdown(&cpu_before, &cpu_after, latencies.len() + errors.len(), elapsed);
    Ok(Http {
        requests_per_s: rate(latencies.len(), elapsed),
        accepted: latencies.len(),
        errors: errors.len(),
        error_codes,
        first_errors: errors.into_iter().take(5).collect(),
        p50_ms: percentile(50),
        p99_ms: percentile(99),
        max_ms: latencies.last().map_or(0.0, |m| round3(f64::from(*m) / 1_000.0)),
        elapsed_s: elapsed.as_secs_f64(),
        journal_seq_ok,
        commits,
        cpu,
    })
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

/// CPU time on each live thread of this process, by thread id: `(name, ns)`. Empty where `/proc` is missing.
fn thread_cpu_ns() -> BTreeMap<u64, (String, u64)> {
    let mut threads = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return threads };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse::<u64>().ok()) else { continue };
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default().trim().to_owned();
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse::<u64>().ok()));
        if let Some(ns) = ns {
            threads.insert(tid, (name, ns));
        }
    }
    threads
}

/// Where the CPU went during the timed HTTP phase (Linux only; empty elsewhere).
#[derive(Default)]
struct CpuBreakdown {
    /// µs per request by thread name, plus `client` (`bench-client`), `server` (every other thread) and
    /// `total`.
    us_per_request: BTreeMap<String, f64>,
    /// Busy fraction of the writer thread.
    writer_busy: Option<f64>,
    /// CPU cores this process kept busy on average.
    cores_used: Option<f64>,
    /// Server CPU µs per request (all threads but the clients').
    server_us: Option<f64>,
}

fn cpu_breakdown(
    before: &BTreeMap<u64, (String, u64)>,
    after: &BTreeMap<u64, (String, u64)>,
    requests: usize,
    elapsed: Duration,
) -> CpuBreakdown {
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    for (tid, (name, ns)) in after {
        let base = before.get(tid).map_or(0, |(_, ns)| *ns);
        *by_name.entry(name.clone()).or_insert(0) += ns.saturating_sub(base);
    }
    by_name.retain(|_, ns| *ns > 0);
    if by_name.is_empty() {
        return CpuBreakdown::default();
    }
    let wall_ns = elapsed.as_nanos().max(1) as f64;
    let per_request = |ns: u64| round3(ns as f64 / 1_000.0 / requests.max(1) as f64);
    let total: u64 = by_name.values().sum();
    let client = by_name.get("bench-client").copied().unwrap_or(0);
    let mut us_per_request: BTreeMap<String, f64> =
        by_name.iter().map(|(name, ns)| (name.clone(), per_request(*ns))).collect();
    us_per_request.insert("client".to_owned(), per_request(client));
    us_per_request.insert("server".to_owned(), per_request(total - client));
    us_per_request.insert("total".to_owned(), per_request(total));
    CpuBreakdown {
        writer_busy: by_name.get("tfeco-writer").map(|ns| round3(*ns as f64 / wall_ns)),
        cores_used: Some(round3(total as f64 / wall_ns)),
        server_us: Some(per_request(total - client)),
        us_per_request,
    }
}

// ---------------------------------------------------------------------------------------------------------
// The report.

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let foundation = match args.suite {
        Suite::Foundation | Suite::All => Some(run_foundation(&args).await?),
        Suite::Market => None,
    };
    let market = match args.suite {
        Suite::Market | Suite::All => Some(run_market(&args).await?),
        Suite::Foundation => None,
    };
    let ok = foundation.as_ref().is_none_or(|f| f.ok) && market.as_ref().is_none_or(|m| m["ok"] == true);
    match (foundation, market) {
        (Some(f), None) => {
            if args.json {
                println!("{}", f.report);
            } else {
                print_table(&f.report, &f.figures);
            }
        }
        (None, Some(m)) => {
            if args.json {
                println!("{m}");
            } else {
                print_market_report(&m);
            }
        }
        (Some(mut f), Some(m)) => {
            f.report["suite"] = json!("all");
            f.report["market"] = m["market"].clone();
            f.report["market_machine"] = m["machine"].clone();
            f.report["market_wall_s"] = m["total_wall_s"].clone();
            f.report["ok"] = json!(ok);
            if args.json {
                println!("{}", f.report);
            } else {
                print_table(&f.report, &f.figures);
                print_market_report(&m);
            }
        }
        (None, None) => unreachable!("every suite runs something"),
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The market suite's report: `{build, quick, suite, ok, market: {...}, machine, total_wall_s}`.
async fn run_market(args: &BenchArgs) -> anyhow::Result<Value> {
    let started = Instant::now();
    let sizes = market::MarketSizes::new(args.quick);
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build: the core checks every invariant after each command and workloads are shrunk; build with --release for meaningful figures");
    }
    let progress = !args.json;
    if progress {
        eprintln!(
            "tfeco bench{} --suite market: running (exit auction, capacity, exchange, minting)...",
            if args.quick { " --quick" } else { "" }
        );
    }
    let load_before = load_average();
    let market = tokio::task::spawn_blocking(move || market::run_market(sizes, progress)).await??;
    Ok(json!({
        "build": build,
        "quick": args.quick,
        "suite": "market",
        "ok": true,
        "market": market,
        "machine": {
            "available_parallelism": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "load_average_1m_before": load_before,
            "load_average_1m_after": load_average(),
        },
        "total_wall_s": round3(started.elapsed().as_secs_f64()),
    }))
}

fn print_market_report(report: &Value) {
    println!(
        "tfeco bench --suite market ({} build{})",
        report["build"].as_str().unwrap_or("?"),
        if report["quick"] == true { ", quick" } else { "" }
    );
    if report["build"] == "debug" {
        println!("  WARNING: debug build, figures are not meaningful (use --release)");
    }
    market::print_market_table(&report["market"]);
    println!("  machine: {}", report["machine"]);
    println!("  total wall time: {} s", report["total_wall_s"]);
}

/// The foundation suite's report, its headline figures, and whether every HTTP request was accepted.
struct Foundation {
    report: Value,
    figures: BTreeMap<&'static str, u64>,
    ok: bool,
}

async fn run_foundation(args: &BenchArgs) -> anyhow::Result<Foundation> {
    let started = Instant::now();
    let sizes = Sizes::new(args.quick);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build: the core checks every invariant after each command and workloads are shrunk; build with --release for meaningful figures");
    }
    if !args.json {
        eprintln!(
            "tfeco bench{}: running (core, journal, replay, http)...",
            if args.quick { " --quick" } else { "" }
        );
    }
    let load_before = load_average();
    let offline = tokio::task::spawn_blocking(move || run_offline(sizes, threads)).await??;
    let http = bench_http(sizes, threads).await?;
    let total_wall_s = started.elapsed().as_secs_f64();

    let journal_rate = |i: usize| {
        let (_, entries, span): (usize, usize, Span) = offline.journal_batch[i];
        round_rate(rate(entries, span.wall))
    };
    // Rates per second of this thread's CPU: what an uncontended core would do (other processes may share
    // the machine; see `cpu_share`).
    let per_cpu_s =
        |count: usize, span: Span| span.cpu_ns.map(|ns| round_rate(count as f64 * 1e9 / ns.max(1) as f64));
    let journal_cpu_us = |i: usize| {
        let (_, entries, span): (usize, usize, Span) = offline.journal_batch[i];
        span.cpu_ns.map(|ns| round3(ns as f64 / 1_000.0 / entries.max(1) as f64))
    };
    let journal_commit_ms = {
        let (_, entries, span) = offline.journal_batch[0];
        round3(span.wall.as_secs_f64() * 1_000.0 / entries.max(1) as f64)
    };
    let figures: BTreeMap<&str, u64> = [
        ("core_transfers_per_s", round_rate(offline.core_transfers_per_s)),
        ("journal_cmds_per_s_batch_1", journal_rate(0)),
        ("journal_cmds_per_s_batch_100", journal_rate(1)),
        ("journal_cmds_per_s_batch_1000", journal_rate(2)),
        ("replay_entries_per_s", round_rate(offline.replay_entries_per_s)),
        ("http_signed_requests_per_s", round_rate(http.requests_per_s)),
    ]
    .into_iter()
    .collect();
    let ok = http.errors == 0 && http.journal_seq_ok;
    let targets: serde_json::Map<String, Value> = TARGETS
        .iter()
        .map(|(name, target)| {
            let measured = figures.get(name).copied().unwrap_or(0);
            ((*name).to_owned(), json!({ "target": target, "met": measured >= *target }))
        })
        .collect();
    let breakdown = offline.replay_breakdown;
    // What the server alone could sustain on this machine's cores if CPU were the only limit.
    let server_cpu_bound_per_s =
        http.cpu.server_us.filter(|us| *us > 0.0).map(|us| round_rate(threads as f64 * 1e6 / us));
    let mut report = json!({
        "build": build,
        "quick": args.quick,
        "ok": ok,
        "http_latency_ms_p50": http.p50_ms,
        "http_latency_ms_p99": http.p99_ms,
        "http_latency_ms_max": http.max_ms,
        "http_accepted": http.accepted,
        "http_errors": http.errors,
        "http_error_codes": http.error_codes,
        "http_first_errors": http.first_errors,
        "http_all_accepted": http.errors == 0,
        "http_journal_seq_ok": http.journal_seq_ok,
        "http_group_commits_min": http.commits,
        "http_requests_per_commit_max": round3(http.accepted as f64 / http.commits.max(1) as f64),
        "http_commit_cycle_ms_max": round3(http.elapsed_s * 1_000.0 / http.commits.max(1) as f64),
        "http_elapsed_s": round3(http.elapsed_s),
        "http_cpu_us_per_request": http.cpu.us_per_request,
        "http_cpu_cores_used": http.cpu.cores_used,
        "http_writer_busy_fraction": http.cpu.writer_busy,
        "http_server_cpu_bound_estimate_per_s": server_cpu_bound_per_s,
        "journal_commit_ms_batch_1": journal_commit_ms,
        "journal_cpu_us_per_entry": {
            "batch_1": journal_cpu_us(0),
            "batch_100": journal_cpu_us(1),
            "batch_1000": journal_cpu_us(2),
        },
        "core_transfers_per_cpu_s": per_cpu_s(sizes.core_transfers, offline.core_span),
        "replay_entries_per_cpu_s": per_cpu_s(offline.replay_entries, offline.replay_span),
        "replay_us_per_entry": {
            "total": round3(breakdown.total_us),
            "memory_journal_total": round3(breakdown.memory_journal_us),
            "sqlite_read": round3(breakdown.sqlite_read_us),
            "hash_and_checksum": round3(breakdown.hash_crc_us),
            "decode": round3(breakdown.decode_us),
            "apply_and_rest": round3(breakdown.apply_and_rest_us),
        },
        "ed25519_verify_us": round3(offline.micro.verify_us),
        "ed25519_sign_us": round3(offline.micro.sign_us),
        "request_json_decode_us": round3(offline.micro.json_decode_us),
        "cpu_share": {
            "core": offline.core_span.cpu_share(),
            "replay": offline.replay_span.cpu_share(),
            "micro": offline.micro.span.cpu_share(),
        },
        "replay_entries": offline.replay_entries,
        "corpus_build_s": round3(offline.corpus_build_s),
        "machine": {
            "available_parallelism": threads,
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "load_average_1m_before": load_before,
            "load_average_1m_after": load_average(),
            "temp_dir": std::env::temp_dir().display().to_string(),
        },
        "workload": sizes.to_json(),
        "targets": targets,
        "total_wall_s": round3(total_wall_s),
    });
    for (name, value) in &figures {
        report[*name] = json!(value);
    }
    Ok(Foundation { report, figures, ok })
}

fn print_table(report: &Value, figures: &BTreeMap<&str, u64>) {
    let order = [
        "core_transfers_per_s",
        "journal_cmds_per_s_batch_1",
        "journal_cmds_per_s_batch_100",
        "journal_cmds_per_s_batch_1000",
        "replay_entries_per_s",
        "http_signed_requests_per_s",
    ];
    println!(
        "tfeco bench ({} build{})",
        report["build"].as_str().unwrap_or("?"),
        if report["quick"] == true { ", quick" } else { "" }
    );
    if report["build"] == "debug" {
        println!("  WARNING: debug build, figures are not meaningful (use --release)");
    }
    println!("  {:<34} {:>12}  {:>10}", "figure", "per second", "target");
    for name in order {
        let target = &report["targets"][name];
        let target_text = match target["target"].as_u64() {
            Some(t) => format!("{t} {}", if target["met"] == true { "ok" } else { "MISS" }),
            None => String::new(),
        };
        println!("  {:<34} {:>12}  {:>10}", name, figures.get(name).copied().unwrap_or(0), target_text);
    }
    println!(
        "  http latency: p50 {} ms, p99 {} ms, max {} ms; accepted {}, errors {}{}",
        report["http_latency_ms_p50"],
        report["http_latency_ms_p99"],
        report["http_latency_ms_max"],
        report["http_accepted"],
        report["http_errors"],
        if report["http_errors"] == 0 { "" } else { "  (NOT ALL REQUESTS ACCEPTED)" }
    );
    if report["http_error_codes"].as_object().is_some_and(|m| !m.is_empty()) {
        println!("  http error codes: {}", report["http_error_codes"]);
    }
    if report["http_journal_seq_ok"] != true {
        println!("  WARNING: the server's journal does not hold exactly the accepted requests");
    }
    println!("  http CPU µs per request by thread: {}", report["http_cpu_us_per_request"]);
    println!(
        "  http cores used {}, writer thread busy fraction {}, server CPU-bound estimate {} requests/s",
        report["http_cpu_cores_used"],
        report["http_writer_busy_fraction"],
        report["http_server_cpu_bound_estimate_per_s"]
    );
    println!(
        "  http group commits >= {} (<= {} requests per commit, one every <= {} ms)",
        report["http_group_commits_min"],
        report["http_requests_per_commit_max"],
        report["http_commit_cycle_ms_max"]
    );
    println!("  replay µs per entry: {}", report["replay_us_per_entry"]);
    println!(
        "  per CPU-second of the timing thread: core {} transfers, replay {} entries; journal CPU µs per entry {}",
        report["core_transfers_per_cpu_s"], report["replay_entries_per_cpu_s"], report["journal_cpu_us_per_entry"]
    );
    println!(
        "  CPU share of the single-threaded timings (below ~0.95: the core was shared): {}",
        report["cpu_share"]
    );
    println!(
        "  micro: ed25519 verify {} µs, sign {} µs, request JSON decode {} µs; journal commit (batch 1) {} ms",
        report["ed25519_verify_us"],
        report["ed25519_sign_us"],
        report["request_json_decode_us"],
        report["journal_commit_ms_batch_1"]
    );
    println!("  machine: {}", report["machine"]);
    println!("  workload: {}", report["workload"]);
    println!("  total wall time: {} s", report["total_wall_s"]);
}
