//! The node's metrics ([`Metrics`]), served by `GET /metrics` in the Prometheus text exposition format
//! ([`CONTENT_TYPE`]) from a `prometheus` registry of its own (not the crate's global one, so two nodes in
//! one process, e.g. in tests, never mix their numbers). Every name starts with `tfeco_` and carries its
//! unit; the list with labels is in `docs/operations.md`.
//!
//! - HTTP ([`track_requests`], a layer of the router): requests by route, method and status, and a latency
//!   histogram per route and method. The route is the matched path template (`/v1/accounts/{key}`), never the
//!   raw path, `unmatched` for a path no route answers, and the method one of the standard ones or `other`,
//!   so the label sets stay bounded whatever clients send. Each request is also logged at `info` (target
//!   `tfeco::http`) with its route, method, status and latency.
//! - The writer and the journal ([`Metrics::observe_commit`], [`Metrics::count_rejection`], called by the
//!   replica): entries per group commit, seconds per durable journal append, commands rejected by the rules
//!   by rejection code.
//! - Scrape-time gauges ([`Metrics::render`], under the replica's read lock): the journal head, supply per
//!   asset, open leases, accounts, and the event streams open.
//!
//! A follower (`tfeco follow`, [`crate::follower`]) registers two more gauges with [`Metrics::register`]:
//! `tfeco_follower_lag_entries` (entries between the primary's head and the follower's) and
//! `tfeco_follower_lag_seconds`; a primary does not export them.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State as AxumState};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tfeco_core::State;
use tfeco_money::{Asset, UNITS_PER_TOKEN};

/// The content type of the text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The `route` label of a request that no route matched (404 from the fallback).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The node's registry and its collectors. Shared (`Arc`) by the replica (the writer's side) and the
/// handlers ([`crate::app::AppState::metrics`]).
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    commit_entries: Histogram,
    append_duration: Histogram,
    rejections: IntCounterVec,
    journal_head: IntGauge,
    supply: GaugeVec,
    leases_open: IntGauge,
    accounts: IntGauge,
    event_streams_open: IntGauge,
}

/// Seconds: from 0.5 ms to 10 s (HTTP latency).
const HTTP_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Seconds: from 50 µs to 2.5 s (one durable journal append, an fsync included).
const APPEND_BUCKETS: &[f64] =
    &[0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
/// Entries: powers of two from 1 to 1024 (entries per group commit).
const COMMIT_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];

const HELP_HTTP_REQUESTS: &str = "HTTP requests answered, by route template, method and status";
const HELP_HTTP_DURATION: &str =
    "Seconds from a request's arrival to its response headers, by route template \
     and method (a stream's lifetime is not included)";
const HELP_COMMIT: &str = "Journal entries per group commit (one durable append per writer batch)";
const HELP_APPEND: &str = "Seconds per durable journal append (write and fsync) of one group commit";
const HELP_REJECTIONS: &str =
    "Commands the writer rejected by the rules, by rejection code (nothing journaled)";
const HELP_SUPPLY: &str =
    "Supply of each asset (all balances, users' and system accounts') in whole tokens as a \
     float, exact to the base unit below about 9e8 tokens; the exact amounts are in GET /v1/supply";

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every collector registered and at zero. The names, labels and buckets are constants
    /// (valid by construction, checked by the tests), so building them cannot fail on any input.
    pub fn new() -> Self {
        let metrics = Metrics {
            registry: Registry::new(),
            http_requests: counters(
                "tfeco_http_requests_total",
                HELP_HTTP_REQUESTS,
                &["route", "method", "status"],
            ),
            http_duration: histograms(
                histogram("tfeco_http_request_duration_seconds", HELP_HTTP_DURATION, HTTP_BUCKETS),
                &["route", "method"],
            ),
            commit_entries: one_histogram(histogram(
                "tfeco_journal_commit_entries",
                HELP_COMMIT,
                COMMIT_BUCKETS,
            )),
            append_duration: one_histogram(histogram(
                "tfeco_journal_append_duration_seconds",
                HELP_APPEND,
                APPEND_BUCKETS,
            )),
            rejections: counters("tfeco_rejections_total", HELP_REJECTIONS, &["code"]),
            journal_head: gauge(
                "tfeco_journal_head_seq",
                "Sequence number of the last durable journal entry",
            ),
            supply: gauges("tfeco_supply_tokens", HELP_SUPPLY, &["asset"]),
            leases_open: gauge(
                "tfeco_leases_open",
                "Capacity leases not closed (active, in grace or cancelling)",
            ),
            accounts: gauge("tfeco_accounts", "Registered user accounts"),
            event_streams_open: gauge(
                "tfeco_event_streams_open",
                "Event streams (GET /v1/events) being served",
            ),
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 10] = [
            Box::new(self.http_requests.clone()),
            Box::new(self.http_duration.clone()),
            Box::new(self.commit_entries.clone()),
            Box::new(self.append_duration.clone()),
            Box::new(self.rejections.clone()),
            Box::new(self.journal_head.clone()),
            Box::new(self.supply.clone()),
            Box::new(self.leases_open.clone()),
            Box::new(self.accounts.clone()),
            Box::new(self.event_streams_open.clone()),
        ];
        for collector in collectors {
            self.registry.register(collector).expect("each metric name registered once");
        }
    }

    /// Registers one more collector (a follower's lag gauges). Errors: a name already registered.
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// Records one answered request: `route` is the matched path template (or [`UNMATCHED_ROUTE`]).
    pub fn observe_request(&self, route: &str, method: &Method, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let formatted;
        let status = match status_label(status) {
            Some(label) => label,
            None => {
                formatted = status.to_string();
                &formatted
            }
        };
        self.http_requests.with_label_values(&[route, method, status]).inc();
        self.http_duration.with_label_values(&[route, method]).observe(elapsed.as_secs_f64());
    }

    /// Records one durable group commit of `entries` entries whose journal append took `append`.
    pub fn observe_commit(&self, entries: usize, append: Duration) {
        self.commit_entries.observe(entries as f64);
        self.append_duration.observe(append.as_secs_f64());
    }

    /// Durable group commits recorded so far (the sample count of `tfeco_journal_commit_entries`).
    pub fn group_commits(&self) -> u64 {
        self.commit_entries.get_sample_count()
    }

    /// Counts one command rejected by the rules with `code` (a `RejectionCode`'s text).
    pub fn count_rejection(&self, code: &str) {
        self.rejections.with_label_values(&[code]).inc();
    }

    /// Sets the scrape-time gauges from `state` (whose last durable entry is `head_seq`) and `streams_open`,
    /// then encodes every metric in the text format. Call it under the replica's read lock; it reads each
    /// account and lease once. Errors: the encoder's (not expected for valid metrics).
    pub fn render(
        &self,
        state: &State,
        head_seq: u64,
        streams_open: usize,
    ) -> Result<String, prometheus::Error> {
        self.journal_head.set(i64::try_from(head_seq).unwrap_or(i64::MAX));
        let ledger = state.ledger();
        for asset in Asset::ALL {
            // Whole tokens as a float (HELP_SUPPLY): a gauge, not a ledger.
            let tokens = ledger.supply(asset) as f64 / UNITS_PER_TOKEN as f64;
            self.supply.with_label_values(&[asset.code()]).set(tokens);
        }
        let open = state.capacity().leases().values().filter(|lease| lease.is_open()).count();
        self.leases_open.set(i64::try_from(open).unwrap_or(i64::MAX));
        self.accounts.set(i64::try_from(ledger.accounts().len()).unwrap_or(i64::MAX));
        self.event_streams_open.set(i64::try_from(streams_open).unwrap_or(i64::MAX));
        TextEncoder::new().encode_to_string(&self.registry.gather())
    }
}

// The constructors below only fail on an invalid name, label or bucket list: ours are constants.

fn counters(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric definition")
}

fn gauges(name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    GaugeVec::new(Opts::new(name, help), labels).expect("a valid metric definition")
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).expect("a valid metric definition")
}

fn histograms(opts: HistogramOpts, labels: &[&str]) -> HistogramVec {
    HistogramVec::new(opts, labels).expect("a valid metric definition")
}

fn one_histogram(opts: HistogramOpts) -> Histogram {
    Histogram::with_opts(opts).expect("a valid metric definition")
}

fn histogram(name: &str, help: &str, buckets: &[f64]) -> HistogramOpts {
    HistogramOpts::new(name, help).buckets(buckets.to_vec())
}

/// The label of a status this node answers often, without formatting it per request (`None`: another).
fn status_label(status: u16) -> Option<&'static str> {
    Some(match status {
        200 => "200",
        400 => "400",
        401 => "401",
        404 => "404",
        409 => "409",
        413 => "413",
        422 => "422",
        429 => "429",
        503 => "503",
        _ => return None,
    })
}

/// The method as a label: a standard method's name, `other` for any extension method (bounded).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    const NAMES: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.iter().position(|known| known == method).map_or("other", |i| NAMES[i])
}

/// The router layer that counts and times every request by route template, method and status, and logs it
/// at `info` (target `tfeco::http`). The route is read from axum's [`MatchedPath`], which the router sets
/// before its per-route layers run.
pub async fn track_requests(
    AxumState(metrics): AxumState<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    // The matched path is shared (`Arc<str>`): cloning it copies no text.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = matched.as_ref().map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    metrics.observe_request(route, &method, status, elapsed);
    tracing::info!(
        target: "tfeco::http",
        route = %route,
        method = method_label(&method),
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
