//! What a follower knows about its primary, for `GET /v1/status` and `/metrics`: the primary's URL, its
//! journal head as last announced on the stream, and the lag derived from them ([`FollowerStatus`]).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use prometheus::{Gauge, IntGauge};
use tfeco_api::ledger::{NodeRole, StatusView};
use tfeco_journal::Head;

/// A follower's view of its primary; shared by the stream reader (which updates it) and the handlers.
pub struct FollowerStatus {
    primary: String,
    primary_head_seq: AtomicU64,
    primary_head_ms: AtomicI64,
    lag_entries: IntGauge,
    lag_seconds: Gauge,
}

/// A follower's lag behind its primary.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lag {
    /// Entries the primary announced that the follower has not applied.
    pub entries: u64,
    /// 0 when caught up, else the primary head's commit time minus the follower head's, seconds.
    pub seconds: f64,
}

impl FollowerStatus {
    /// The status of a follower of `primary` (its base URL), its gauges registered in `metrics`.
    pub fn new(primary: &str, metrics: &crate::metrics::Metrics) -> Self {
        let lag_entries = IntGauge::new(
            "tfeco_follower_lag_entries",
            "Journal entries the primary has (as last announced on its stream) that this follower has not applied",
        )
        .expect("a valid gauge name");
        let lag_seconds = Gauge::new(
            "tfeco_follower_lag_seconds",
            "Seconds between the commit time of the primary's head and of this follower's head (0 when caught up)",
        )
        .expect("a valid gauge name");
        for gauge in [
            Box::new(lag_entries.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(lag_seconds.clone()),
        ] {
            if let Err(error) = metrics.register(gauge) {
                tracing::warn!(%error, "the follower's lag gauges are already registered");
            }
        }
        FollowerStatus {
            primary: primary.trim_end_matches('/').to_owned(),
            primary_head_seq: AtomicU64::new(0),
            primary_head_ms: AtomicI64::new(0),
            lag_entries,
            lag_seconds,
        }
    }

    /// The primary's base URL.
    pub fn primary(&self) -> &str {
        &self.primary
    }

    /// Records the primary's head as announced (a `head` line or an entry; never moves back), then the lag
    /// against the follower's `own` head.
    pub fn observe_primary(&self, seq: u64, timestamp_ms: i64, own: Head) -> Lag {
        if self.primary_head_seq.fetch_max(seq, Ordering::AcqRel) <= seq {
            self.primary_head_ms.fetch_max(timestamp_ms, Ordering::AcqRel);
        }
        self.update(own)
    }

    /// The primary's head as last announced: `(seq, timestamp_ms)`.
    pub fn primary_head(&self) -> (u64, i64) {
        (self.primary_head_seq.load(Ordering::Acquire), self.primary_head_ms.load(Ordering::Acquire))
    }

    /// The lag of a follower whose head is `own`.
    pub fn lag(&self, own: Head) -> Lag {
        let (seq, timestamp_ms) = self.primary_head();
        let entries = seq.saturating_sub(own.seq);
        let seconds = if entries == 0 {
            0.0
        } else {
            timestamp_ms.saturating_sub(own.timestamp_ms).max(0) as f64 / 1000.0
        };
        Lag { entries, seconds }
    }

    /// Sets the gauges from the lag of a follower whose head is `own`, and returns it.
    pub fn update(&self, own: Head) -> Lag {
        let lag = self.lag(own);
        self.lag_entries.set(i64::try_from(lag.entries).unwrap_or(i64::MAX));
        self.lag_seconds.set(lag.seconds);
        lag
    }

    /// Adds the follower's fields to `view` (the follower's head is `own`).
    pub fn describe(&self, view: &mut StatusView, own: Head) {
        let lag = self.update(own);
        view.role = NodeRole::Follower;
        view.primary = Some(self.primary.clone());
        view.lag_entries = Some(lag.entries);
        view.lag_seconds = Some(lag.seconds);
    }
}
