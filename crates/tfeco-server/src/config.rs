//! The server's limits and clocks ([`ServerConfig`], [`ClockMode`]).

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
    /// Largest accepted request body, bytes; a larger `Content-Length` is answered 413 before any body byte
    /// is read (tower-http `RequestBodyLimitLayer`).
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
    /// How far a signed read's timestamp may be from the server's clock, seconds (either side); a
    /// signature is remembered this long after its timestamp, so it is accepted once.
    pub signed_read_window_s: i64,
    /// Most signed-read signatures remembered at once; when full (after dropping the expired ones) a new
    /// signed read is answered 429 `rate_limited` rather than forgetting one that could be replayed.
    pub signed_read_cache_max: usize,
    /// Seconds a client has to send a request's headers, counted from when the server starts waiting for
    /// them: on a kept-alive connection that is from the end of the previous response, so this is also the
    /// idle timeout. Past it the connection is closed (hyper's `header_read_timeout`).
    pub header_timeout_s: u64,
    /// Seconds a client has to send a request's body once its headers arrived; past it reading the body
    /// fails and the request is answered 400 `invalid_request` (tower-http `RequestBodyTimeoutLayer`).
    pub body_timeout_s: u64,
    /// Most connections served at once; further clients wait in the listen backlog until one closes.
    pub max_connections: usize,
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
            signed_read_window_s: tfeco_api::signed_read::DEFAULT_READ_WINDOW_S,
            signed_read_cache_max: 100_000,
            header_timeout_s: 10,
            body_timeout_s: 10,
            max_connections: 1_024,
        }
    }
}
