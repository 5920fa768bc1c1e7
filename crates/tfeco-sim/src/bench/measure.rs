//! How the benchmarks measure: wall time with `std::time::Instant` plus the calling thread's CPU time (Linux
//! `/proc/thread-self/schedstat`), per-thread CPU of the whole process, the load average and peak memory.
//! The machine may be shared: `cpu / wall` below ~0.95 for a CPU-bound loop means other processes took the
//! core, and the figures are then pessimistic.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// CPU time of the calling thread, ns (Linux `/proc/thread-self/schedstat`; `None` elsewhere).
fn own_thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Wall time plus this thread's CPU time of one measured step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// Wall time.
    pub wall: Duration,
    /// CPU time of the measuring thread, ns (`None` where unknown).
    pub cpu_ns: Option<u64>,
}

impl Span {
    /// Runs `f` and measures it.
    pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Span) {
        let cpu = own_thread_cpu_ns();
        let start = Instant::now();
        let value = f();
        let wall = start.elapsed();
        let cpu_ns = cpu.and_then(|before| Some(own_thread_cpu_ns()?.saturating_sub(before)));
        (value, Span { wall, cpu_ns })
    }

    /// CPU time over wall time, 3 decimals.
    pub fn cpu_share(self) -> Option<f64> {
        self.cpu_ns.map(|ns| round3(ns as f64 / self.wall.as_nanos().max(1) as f64))
    }

    /// Wall time in ms, 3 decimals.
    pub fn ms(self) -> f64 {
        round3(self.wall.as_secs_f64() * 1_000.0)
    }

    /// `count` per second of this span's CPU time (what an uncontended core would do).
    pub fn per_cpu_s(self, count: usize) -> Option<u64> {
        self.cpu_ns.map(|ns| round_rate(count as f64 * 1e9 / ns.max(1) as f64))
    }
}

impl std::ops::Add for Span {
    type Output = Span;

    /// The sum of two spans (CPU unknown if either is, unless `self` is the empty span).
    fn add(self, other: Span) -> Span {
        let cpu_ns = match (self.cpu_ns, other.cpu_ns) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) if self.wall.is_zero() => b,
            _ => None,
        };
        Span { wall: self.wall + other.wall, cpu_ns }
    }
}

impl std::ops::AddAssign for Span {
    fn add_assign(&mut self, other: Span) {
        *self = *self + other;
    }
}

/// The 1-minute load average (Linux), a hint that other processes shared the machine.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// `count` per second of `elapsed`.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// A rate rounded to a whole number.
pub fn round_rate(rate: f64) -> u64 {
    rate.round() as u64
}

/// Latency percentiles (nearest rank) and maximum of a run, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
}

impl Latency {
    /// The percentiles of `latencies_us` (µs, sorted here); all zero when empty.
    pub fn of_us(latencies_us: &mut [u32]) -> Latency {
        latencies_us.sort_unstable();
        let ms = |us: u32| round3(f64::from(us) / 1_000.0);
        let percentile = |p: usize| -> f64 {
            let i = (latencies_us.len() * p / 100).min(latencies_us.len().saturating_sub(1));
            latencies_us.get(i).map_or(0.0, |us| ms(*us))
        };
        Latency {
            p50_ms: percentile(50),
            p99_ms: percentile(99),
            max_ms: latencies_us.last().map_or(0.0, |us| ms(*us)),
        }
    }
}

/// Three decimals.
pub fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}

/// `"debug"` or `"release"`: figures of a debug build are not meaningful (the core checks every invariant
/// after each command).
pub fn build_kind() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The machine a report was measured on, with the load average before and now.
pub fn machine(load_before: Option<f64>) -> Value {
    json!({
        "available_parallelism": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "load_average_1m_before": load_before,
        "load_average_1m_after": load_average(),
    })
}

/// `VmHWM` of this process in MiB (Linux).
pub fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(round3(kib / 1024.0))
}

/// Resets `VmHWM` to the current RSS (Linux >= 4.0); `false` when not possible.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time of every live thread of this process, by thread id: `(name, ns)`. Empty where `/proc` is missing.
pub fn thread_cpu_ns() -> BTreeMap<u64, (String, u64)> {
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

/// Where the CPU went during a timed phase, from two [`thread_cpu_ns`] readings (empty off Linux).
#[derive(Debug, Default)]
pub struct CpuBreakdown {
    /// µs per request by thread name, plus `client` (threads named `client_thread`), `server` (every other
    /// thread) and `total`.
    pub us_per_request: BTreeMap<String, f64>,
    /// Busy fraction of the thread named `writer_thread`.
    pub writer_busy: Option<f64>,
    /// CPU cores this process kept busy on average.
    pub cores_used: Option<f64>,
    /// Server CPU µs per request (all threads but the clients').
    pub server_us: Option<f64>,
}

/// The CPU of `requests` requests over `elapsed`, split by thread name between the client threads and the
/// rest (the server), with the writer thread's busy fraction.
pub fn cpu_breakdown(
    before: &BTreeMap<u64, (String, u64)>,
    after: &BTreeMap<u64, (String, u64)>,
    requests: usize,
    elapsed: Duration,
    (client_thread, writer_thread): (&str, &str),
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
    let client = by_name.get(client_thread).copied().unwrap_or(0);
    let mut us_per_request: BTreeMap<String, f64> =
        by_name.iter().map(|(name, ns)| (name.clone(), per_request(*ns))).collect();
    us_per_request.insert("client".to_owned(), per_request(client));
    us_per_request.insert("server".to_owned(), per_request(total - client));
    us_per_request.insert("total".to_owned(), per_request(total));
    CpuBreakdown {
        writer_busy: by_name.get(writer_thread).map(|ns| round3(*ns as f64 / wall_ns)),
        cores_used: Some(round3(total as f64 / wall_ns)),
        server_us: Some(per_request(total - client)),
        us_per_request,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_add_and_cpu_splits_by_thread() {
        let a = Span { wall: Duration::from_millis(10), cpu_ns: Some(5_000_000) };
        let b = Span { wall: Duration::from_millis(30), cpu_ns: Some(15_000_000) };
        let sum = Span::default() + a + b;
        assert_eq!(
            (sum.wall, sum.cpu_ns, sum.cpu_share()),
            (Duration::from_millis(40), Some(20_000_000), Some(0.5))
        );
        assert_eq!((a + Span { wall: Duration::from_millis(1), cpu_ns: None }).cpu_ns, None);
        assert_eq!(b.per_cpu_s(30), Some(2_000));
        let before: BTreeMap<u64, (String, u64)> =
            [(1, ("client".to_owned(), 0)), (2, ("writer".to_owned(), 1_000))].into();
        let after: BTreeMap<u64, (String, u64)> = [
            (1, ("client".to_owned(), 4_000_000)),
            (2, ("writer".to_owned(), 2_001_000)),
            (3, ("worker".to_owned(), 2_000_000)),
        ]
        .into();
        let cpu = cpu_breakdown(&before, &after, 1_000, Duration::from_millis(4), ("client", "writer"));
        assert_eq!(cpu.us_per_request["client"], 4.0);
        assert_eq!(cpu.us_per_request["server"], 4.0);
        assert_eq!((cpu.writer_busy, cpu.cores_used, cpu.server_us), (Some(0.5), Some(2.0), Some(4.0)));
    }
}
