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
