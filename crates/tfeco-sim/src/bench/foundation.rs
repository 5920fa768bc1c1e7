//! The foundation suite's workloads and report: core apply of transfers, the micro figures (ed25519, request
//! JSON), and the report that puts them together with the journal, replay and HTTP figures the binary
//! measures (it owns the journal and the server; see `tfeco bench`).

use std::collections::BTreeMap;

use ed25519_dalek::Signer;
use serde_json::{json, Value};
use tfeco_core::{Envelope, Genesis};
use tfeco_wallet::api::tx::TxRequest;
use tfeco_wallet::client::sign_tx;

use super::http::HttpRun;
use super::measure::{rate, round3, round_rate, Span};
use super::workload::{envelope_of, funded_state, Signers, Transfers, GENESIS_TIME};
use crate::error::check;
use crate::{Result, SimError};

/// The targets the report compares against (2-core machine).
const TARGETS: [(&str, u64); 4] = [
    ("core_transfers_per_s", 1_000_000),
    ("journal_cmds_per_s_batch_1000", 100_000),
    ("replay_entries_per_s", 500_000),
    ("http_signed_requests_per_s", 20_000), // issue 13 item 5: twice the first measurement
];

/// Core apply envelopes are built (untimed) and applied (timed) in chunks of this many.
const CORE_CHUNK: usize = 100_000;

/// Workload sizes of the foundation suite.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Funded accounts of the offline benches.
    pub accounts: usize,
    /// Transfers applied by the core bench.
    pub core_transfers: usize,
    /// Entries appended one per commit.
    pub journal_batch_1_entries: usize,
    /// Entries appended in batches of 100 and of 1,000.
    pub journal_entries: usize,
    /// Entries of the replay corpus (setup included).
    pub replay_entries: usize,
    /// Concurrent HTTP clients (one account each).
    pub http_clients: usize,
    /// Signed transfers posted over HTTP.
    pub http_requests: usize,
    /// Iterations of each micro figure.
    pub micro_iterations: usize,
}

impl Sizes {
    /// The full workloads, or the quick ones (seconds instead of a minute); shrunk in debug builds, where
    /// every apply re-checks every invariant (O(accounts)).
    pub fn new(quick: bool) -> Self {
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

/// `State::apply` of `n` pre-built transfers on one thread over a funded state: transfers per second and the
/// span of the timed apply loops (envelopes are built untimed, in chunks; every one must succeed).
pub fn bench_core(genesis: &Genesis, signers: &Signers, n: usize) -> Result<(f64, Span)> {
    let mut state = funded_state(genesis, signers)?;
    let mut transfers = Transfers::new(signers.user_ids(), 0x9E37_79B9_7F4A_7C15);
    let mut apply_chunk = |count: usize| -> Result<Span> {
        let chunk: Vec<Envelope> = (0..count).map(|_| envelope_of(&transfers.next_body(0).1)).collect();
        let (rejected, span) =
            Span::measure(|| chunk.iter().filter(|envelope| state.apply(envelope).is_err()).count());
        check!(rejected == 0, "{rejected} bench transfers were rejected by the core");
        Ok(span)
    };
    apply_chunk((n / 20).min(10_000))?; // Warm-up, untimed.
    let mut span = Span::default();
    let mut done = 0;
    while done < n {
        let count = CORE_CHUNK.min(n - done);
        span += apply_chunk(count)?;
        done += count;
    }
    Ok((rate(n, span.wall), span))
}

/// µs per call of ed25519 verify and sign and of the JSON decode of a signed request.
#[derive(Clone, Copy, Debug)]
pub struct Micro {
    /// ed25519 verify of a request payload.
    pub verify_us: f64,
    /// ed25519 sign.
    pub sign_us: f64,
    /// JSON decode of one signed request (the contract's `TxRequest`, then its body text, as the server
    /// decodes it).
    pub json_decode_us: f64,
    /// The three timings together.
    pub span: Span,
}

/// The micro figures, `iterations` calls each.
pub fn micro(signers: &Signers, iterations: usize) -> Result<Micro> {
    let mut transfers = Transfers::new(signers.user_ids(), 7);
    let (from, body) = transfers.next_body(GENESIS_TIME + 300);
    let key = signers.key(from);
    let signed = tfeco_core::SignedBody::encode(body.clone());
    let payload = signed.to_payload();
    let bytes = signed.signing_bytes();
    let signature = key.sign(&bytes).to_bytes();
    let request = sign_tx(key, body.nonce, body.expiry, body.command.clone());
    let json_bytes = serde_json::to_vec(&request).map_err(|e| SimError::Check(e.to_string()))?;
    let per_call = |span: Span| span.wall.as_secs_f64() * 1e6 / iterations.max(1) as f64;
    let (verified, verify) = Span::measure(|| {
        (0..iterations)
            .filter(|_| {
                tfeco_core::request::verify_payload(&body.signer, std::hint::black_box(&payload), &signature)
                    .is_ok()
            })
            .count()
    });
    check!(verified == iterations, "a bench signature does not verify");
    let ((), sign) = Span::measure(|| {
        for _ in 0..iterations {
            std::hint::black_box(key.sign(std::hint::black_box(&bytes)));
        }
    });
    let (decoded, decode) = Span::measure(|| {
        (0..iterations)
            .filter(|_| {
                serde_json::from_slice::<TxRequest>(std::hint::black_box(&json_bytes))
                    .ok()
                    .and_then(|request| tfeco_core::SignedBody::parse(request.body).ok())
                    .is_some()
            })
            .count()
    });
    check!(decoded == iterations, "a bench request does not decode");
    Ok(Micro {
        verify_us: per_call(verify),
        sign_us: per_call(sign),
        json_decode_us: per_call(decode),
        span: verify + sign + decode,
    })
}

/// Durable appends of one batch size: `entries` appended `batch` per commit in `span`.
#[derive(Clone, Copy, Debug)]
pub struct JournalFigure {
    /// Entries per append (one transaction and one fsync each).
    pub batch: usize,
    /// Entries appended.
    pub entries: usize,
    /// The appends.
    pub span: Span,
}

/// Where replay time goes, µs per entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplayBreakdown {
    /// Whole replay over the SQLite journal.
    pub total_us: f64,
    /// The same replay over an in-memory journal holding the same entries.
    pub memory_journal_us: f64,
    /// SQLite row reads: `total - memory_journal`.
    pub sqlite_read_us: f64,
    /// blake3 hash + crc32 recomputation of each entry.
    pub hash_crc_us: f64,
    /// `SignedBody::from_payload` (JSON text, strict).
    pub decode_us: f64,
    /// The rest (`State::apply`, envelope moves, final invariant check): `memory_journal - hash - decode`.
    pub apply_and_rest_us: f64,
}

impl ReplayBreakdown {
    /// The breakdown of `n` entries from the spans of the SQLite replay, the in-memory replay, the hash and
    /// checksum pass and the decode pass.
    pub fn from_spans(n: usize, sqlite: Span, memory: Span, hash_crc: Span, decode: Span) -> Self {
        let per_entry_us = |span: Span| span.wall.as_secs_f64() * 1e6 / n.max(1) as f64;
        let (total_us, memory_journal_us) = (per_entry_us(sqlite), per_entry_us(memory));
        let (hash_crc_us, decode_us) = (per_entry_us(hash_crc), per_entry_us(decode));
        ReplayBreakdown {
            total_us,
            memory_journal_us,
            sqlite_read_us: (total_us - memory_journal_us).max(0.0),
            hash_crc_us,
            decode_us,
            apply_and_rest_us: (memory_journal_us - hash_crc_us - decode_us).max(0.0),
        }
    }

    fn to_json(self) -> Value {
        json!({
            "total": round3(self.total_us),
            "memory_journal_total": round3(self.memory_journal_us),
            "sqlite_read": round3(self.sqlite_read_us),
            "hash_and_checksum": round3(self.hash_crc_us),
            "decode": round3(self.decode_us),
            "apply_and_rest": round3(self.apply_and_rest_us),
        })
    }
}

/// A full replay of the corpus from a fresh state.
#[derive(Clone, Copy, Debug)]
pub struct ReplayFigure {
    /// Entries replayed (setup included).
    pub entries: usize,
    /// The SQLite replay.
    pub span: Span,
    /// Where its time went.
    pub breakdown: ReplayBreakdown,
}

/// What the HTTP bench's server journaled, read by the binary after the load.
#[derive(Clone, Copy, Debug)]
pub struct HttpJournal {
    /// The journal holds exactly the setup and the accepted requests.
    pub seq_ok: bool,
    /// Durable group commits (journal appends) during the timed phase, as the node's writer counted them.
    pub commits: u64,
}

/// Everything the foundation suite measured.
pub struct FoundationRun<'a> {
    /// `--quick`.
    pub quick: bool,
    /// The workload sizes.
    pub sizes: Sizes,
    /// Threads used to sign and to run the HTTP clients.
    pub threads: usize,
    /// The load average before the run.
    pub load_before: Option<f64>,
    /// Core transfers per second and their span.
    pub core: (f64, Span),
    /// Journal appends of batches of 1, 100 and 1,000.
    pub journal: [JournalFigure; 3],
    /// The replay.
    pub replay: ReplayFigure,
    /// Seconds to build and sign the corpus.
    pub corpus_build_s: f64,
    /// The micro figures.
    pub micro: Micro,
    /// The HTTP load.
    pub http: &'a HttpRun,
    /// The HTTP server's journal after the load.
    pub http_journal: HttpJournal,
    /// Wall time of the whole suite, seconds.
    pub total_wall_s: f64,
}

/// The foundation suite's report (one JSON object), its headline figures (per second), and whether every
/// HTTP request was accepted and journaled.
pub struct Foundation {
    /// The report.
    pub report: Value,
    /// The headline figures, by name.
    pub figures: BTreeMap<&'static str, u64>,
    /// Every HTTP request accepted, and the journal holds exactly them.
    pub ok: bool,
}

impl FoundationRun<'_> {
    fn figures(&self) -> BTreeMap<&'static str, u64> {
        let journal_rate = |i: usize| round_rate(rate(self.journal[i].entries, self.journal[i].span.wall));
        [
            ("core_transfers_per_s", round_rate(self.core.0)),
            ("journal_cmds_per_s_batch_1", journal_rate(0)),
            ("journal_cmds_per_s_batch_100", journal_rate(1)),
            ("journal_cmds_per_s_batch_1000", journal_rate(2)),
            ("replay_entries_per_s", round_rate(rate(self.replay.entries, self.replay.span.wall))),
            ("http_signed_requests_per_s", round_rate(self.http.requests_per_s)),
        ]
        .into_iter()
        .collect()
    }

    fn offline_json(&self) -> Value {
        let journal_cpu_us = |i: usize| {
            let figure = self.journal[i];
            figure.span.cpu_ns.map(|ns| round3(ns as f64 / 1_000.0 / figure.entries.max(1) as f64))
        };
        let batch_1 = self.journal[0];
        json!({
            "journal_commit_ms_batch_1":
                round3(batch_1.span.wall.as_secs_f64() * 1_000.0 / batch_1.entries.max(1) as f64),
            "journal_cpu_us_per_entry": {
                "batch_1": journal_cpu_us(0),
                "batch_100": journal_cpu_us(1),
                "batch_1000": journal_cpu_us(2),
            },
            "core_transfers_per_cpu_s": self.core.1.per_cpu_s(self.sizes.core_transfers),
            "replay_entries_per_cpu_s": self.replay.span.per_cpu_s(self.replay.entries),
            "replay_us_per_entry": self.replay.breakdown.to_json(),
            "ed25519_verify_us": round3(self.micro.verify_us),
            "ed25519_sign_us": round3(self.micro.sign_us),
            "request_json_decode_us": round3(self.micro.json_decode_us),
            "cpu_share": {
                "core": self.core.1.cpu_share(),
                "replay": self.replay.span.cpu_share(),
                "micro": self.micro.span.cpu_share(),
            },
            "replay_entries": self.replay.entries,
            "corpus_build_s": round3(self.corpus_build_s),
        })
    }

    fn http_json(&self) -> Value {
        let http = self.http;
        let commits = self.http_journal.commits.max(1) as f64;
        // What the server alone could sustain on this machine's cores if CPU were the only limit.
        let server_cpu_bound_per_s =
            http.cpu.server_us.filter(|us| *us > 0.0).map(|us| round_rate(self.threads as f64 * 1e6 / us));
        json!({
            "http_latency_ms_p50": http.p50_ms,
            "http_latency_ms_p99": http.p99_ms,
            "http_latency_ms_max": http.max_ms,
            "http_accepted": http.accepted,
            "http_errors": http.errors,
            "http_error_codes": http.error_codes,
            "http_first_errors": http.first_errors,
            "http_all_accepted": http.errors == 0,
            "http_journal_seq_ok": self.http_journal.seq_ok,
            "http_group_commits": self.http_journal.commits,
            "http_requests_per_commit": round3(http.accepted as f64 / commits),
            "http_commit_cycle_ms": round3(http.elapsed_s * 1_000.0 / commits),
            "http_elapsed_s": round3(http.elapsed_s),
            "http_cpu_us_per_request": http.cpu.us_per_request,
            "http_cpu_cores_used": http.cpu.cores_used,
            "http_writer_busy_fraction": http.cpu.writer_busy,
            "http_server_cpu_bound_estimate_per_s": server_cpu_bound_per_s,
        })
    }

    /// The report: every figure, the targets met or missed, the machine and the workload.
    pub fn report(&self) -> Foundation {
        let figures = self.figures();
        let ok = self.http.errors == 0 && self.http_journal.seq_ok;
        let targets: serde_json::Map<String, Value> = TARGETS
            .iter()
            .map(|(name, target)| {
                let measured = figures.get(name).copied().unwrap_or(0);
                ((*name).to_owned(), json!({ "target": target, "met": measured >= *target }))
            })
            .collect();
        let mut machine = super::measure::machine(self.load_before);
        machine["temp_dir"] = json!(std::env::temp_dir().display().to_string());
        let mut report = json!({
            "build": super::measure::build_kind(),
            "quick": self.quick,
            "ok": ok,
            "machine": machine,
            "workload": self.sizes.to_json(),
            "targets": targets,
            "total_wall_s": round3(self.total_wall_s),
        });
        for part in [self.offline_json(), self.http_json()] {
            if let (Some(report), Value::Object(fields)) = (report.as_object_mut(), part) {
                report.extend(fields);
            }
        }
        for (name, value) in &figures {
            report[*name] = json!(value);
        }
        Foundation { report, figures, ok }
    }
}
