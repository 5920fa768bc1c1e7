//! Uptime reports, per-period uptime credit and the four report violations of spec
//! `minting_and_governance.md` §2.5 (`decisions.md` §11), as the v3 minting code applies them.
//!
//! A node reports `(timestamp, uptime_s)`: the time of the report (as the engine accepted it) and the
//! seconds since the node booted, as the node claims. The node's *implied boot time* is `timestamp -
//! uptime_s`. Constants ([`UptimeRules::default`]): report interval 40 min, grace 60 s, clock skew 120 s;
//! the credit of one report is capped at interval + grace = 2,460 s (the "allowed gap" of 41 min).
//!
//! Each report after the first is compared with the previous accepted one. With `Δt = timestamp -
//! prev.timestamp` (always > 0) and `Δu = uptime_s - prev.uptime_s`, the **first** matching rule decides:
//!
//! 1. **UptimeTooHigh** — `Δu > Δt + grace`: uptime grew faster than wall-clock time beyond the grace.
//!    Nothing is credited; the report becomes the new reference (as v3 does).
//! 2. **Continued** — `Δt - grace <= Δu <= Δt + grace` and `Δu > 0`: credit `min(Δu, interval + grace)`.
//!    In this band the **ClockSkew** check runs first: if the implied boot time differs from the *anchored*
//!    boot time by `>= clock_skew` (120 s; `>=` as in the v3 code, which the spec paraphrases as
//!    "exceeds"), a ClockSkew violation is flagged (the credit is still given, as v3 does). The boot time is
//!    anchored by the first report of each period and by every valid reboot (rule 3), as the v3 code, which
//!    starts each period without state, does; so the drift accumulates within a period and a boot: up to
//!    60 s per report passes the band check, but the boot time may not wander by 120 s in total. The first
//!    report of a period is not skew-checked (it sets the anchor).
//! 3. **Reboot** — otherwise, if `uptime_s <= Δt`: the node rebooted after the previous report (its boot
//!    time is not before it). Credit `min(uptime_s, interval + grace)`, re-anchor the boot time.
//! 4. **UptimeTooLow** — otherwise, if `uptime_s > prev.uptime_s`: the counter kept growing (so it is not a
//!    reboot) but by less than wall-clock time minus the grace. Nothing credited; the report is discarded
//!    (the previous report stays the reference, as v3 does).
//! 5. **InvalidReboot** — otherwise: the counter went back (a reboot) but the implied boot time falls
//!    before the previous report, when the node was already up. Nothing credited; report discarded.
//!
//! The first report of a tracker credits `min(uptime_s, timestamp - period start, interval + grace)` and
//! anchors the boot time. An UptimeTooHigh report becomes the reference but does not re-anchor the boot
//! time (unless it is the first of its period), so the next reports of the period also show a clock skew.
//!
//! **Periods.** The credit of a report covers `[timestamp - credit, timestamp)`. The part before the start
//! of the report's period goes to the previous period if that period is still open in the tracker (it has
//! not been closed with [`UptimeTracker::close_period`]); otherwise it is dropped. So the engine should
//! close period `k` no earlier than `period_end(k) + 2,460 s`, once every healthy node's first report of
//! `k + 1` carried the tail of `k`. A violation belongs to the period of the report that revealed it; the
//! first violation of a period is kept (with its data), later ones are counted. Reports cannot be for a
//! period already closed or earlier than the last report.
//!
//! **Memory.** O(1) per node: the last accepted report, the boot anchor, and at most two open periods.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::period::{period_of, period_start, PERIOD_S};
use super::v3::uptime_permill;

/// Constants of the uptime rules (spec §2.5), in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UptimeRules {
    /// Nodes report every 40 minutes (2,400 s).
    pub report_interval_s: i64,
    /// Tolerance on the uptime growth in either direction (60 s).
    pub grace_s: i64,
    /// Largest allowed drift of the implied boot time within one boot (120 s; `>=` is a violation).
    pub clock_skew_s: i64,
}

impl Default for UptimeRules {
    fn default() -> Self {
        Self { report_interval_s: 2_400, grace_s: 60, clock_skew_s: 120 }
    }
}

impl UptimeRules {
    /// Most seconds one report can credit: interval + grace (2,460 s = the allowed gap of 41 min).
    pub fn max_credit_s(&self) -> i64 {
        self.report_interval_s.saturating_add(self.grace_s)
    }
}

/// One uptime report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UptimeReport {
    /// When the report was made, unix seconds (the engine's time of acceptance).
    pub timestamp: i64,
    /// Seconds since the node booted, as the node reports it.
    pub uptime_s: u64,
}

/// The kind of a violation, with a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ViolationKind {
    /// Uptime grew by more than wall-clock time plus the grace.
    UptimeTooHigh,
    /// Uptime grew by less than wall-clock time minus the grace, and it is not a reboot.
    UptimeTooLow,
    /// A reboot whose boot time falls before the previous report.
    InvalidReboot,
    /// The implied boot time drifted by 120 s or more within one boot.
    ClockSkew,
}

impl ViolationKind {
    /// Stable code, e.g. `"uptime_too_high"`.
    pub fn code(self) -> &'static str {
        match self {
            ViolationKind::UptimeTooHigh => "uptime_too_high",
            ViolationKind::UptimeTooLow => "uptime_too_low",
            ViolationKind::InvalidReboot => "invalid_reboot",
            ViolationKind::ClockSkew => "clock_skew",
        }
    }
}

/// A detected violation with the data that shows it (as the v3 receipts record it). Zeroes the period's
/// reward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Violation {
    /// Rule 1 of the module doc.
    UptimeTooHigh {
        /// The reference report.
        previous: UptimeReport,
        /// The offending report.
        reported: UptimeReport,
    },
    /// Rule 4 of the module doc.
    UptimeTooLow {
        /// The reference report.
        previous: UptimeReport,
        /// The offending report.
        reported: UptimeReport,
    },
    /// Rule 5 of the module doc.
    InvalidReboot {
        /// The reference report.
        previous: UptimeReport,
        /// The offending report.
        reported: UptimeReport,
    },
    /// Rule 2's skew check.
    ClockSkew {
        /// Boot time anchored at the last (re)boot, unix seconds.
        original_boot: i64,
        /// When that boot was detected.
        original_detected_at: i64,
        /// Boot time implied by the offending report.
        current_boot: i64,
        /// The offending report's timestamp.
        reported_at: i64,
    },
}

impl Violation {
    /// The kind.
    pub fn kind(&self) -> ViolationKind {
        match self {
            Violation::UptimeTooHigh { .. } => ViolationKind::UptimeTooHigh,
            Violation::UptimeTooLow { .. } => ViolationKind::UptimeTooLow,
            Violation::InvalidReboot { .. } => ViolationKind::InvalidReboot,
            Violation::ClockSkew { .. } => ViolationKind::ClockSkew,
        }
    }
}

/// The uptime result of one closed period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodUptime {
    /// Period index.
    pub period: u32,
    /// Credited seconds (may exceed the period length by the grace of a few reports; see
    /// [`PeriodUptime::uptime_permill`], which clamps).
    pub credited_s: u64,
    /// Reports received with a timestamp in the period (accepted or not).
    pub reports: u32,
    /// The first violation of the period, if any.
    pub violation: Option<Violation>,
    /// Number of violations detected in the period.
    pub violations: u32,
}

impl PeriodUptime {
    /// `min(1000, credited_s × 1000 / PERIOD_S)`.
    pub fn uptime_permill(&self) -> u32 {
        uptime_permill(self.credited_s, PERIOD_S)
    }
}

/// What one report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Seconds credited by this report (split between the report's period and the previous open one).
    pub credited_s: u64,
    /// The report was a valid reboot (rule 3); the boot time was re-anchored.
    pub rebooted: bool,
    /// A violation this report revealed.
    pub violation: Option<Violation>,
    /// A period the caller had not closed yet and that had to be finalized to make room (the tracker holds
    /// at most two open periods). The caller must record it as if it had been closed.
    pub evicted: Option<PeriodUptime>,
}

/// Why a report or a close was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UptimeError {
    /// The timestamp is before the first minting period.
    BeforeFirstPeriod {
        /// The timestamp.
        timestamp: i64,
    },
    /// The timestamp is not after the last accepted report's.
    NotAfterPrevious {
        /// Last accepted report's timestamp.
        previous: i64,
        /// This report's timestamp.
        timestamp: i64,
    },
    /// The period was already closed (or precedes the tracker's first period).
    PeriodClosed {
        /// The period.
        period: u32,
    },
    /// An earlier period with data is still open: close it first.
    EarlierPeriodOpen {
        /// The earlier period.
        period: u32,
    },
}

impl fmt::Display for UptimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UptimeError::BeforeFirstPeriod { timestamp } => {
                write!(f, "timestamp {timestamp} is before the first minting period")
            }
            UptimeError::NotAfterPrevious { previous, timestamp } => {
                write!(f, "report at {timestamp} is not after the previous report at {previous}")
            }
            UptimeError::PeriodClosed { period } => write!(f, "minting period {period} is closed"),
            UptimeError::EarlierPeriodOpen { period } => {
                write!(f, "minting period {period} must be closed first")
            }
        }
    }
}

impl std::error::Error for UptimeError {}

/// One period being accumulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Accumulator {
    period: u32,
    credited_s: u64,
    reports: u32,
    violation: Option<Violation>,
    violations: u32,
}

impl Accumulator {
    fn new(period: u32) -> Self {
        Self { period, credited_s: 0, reports: 0, violation: None, violations: 0 }
    }

    fn has_data(&self) -> bool {
        self.credited_s > 0 || self.reports > 0 || self.violations > 0
    }

    fn summary(&self) -> PeriodUptime {
        PeriodUptime {
            period: self.period,
            credited_s: self.credited_s,
            reports: self.reports,
            violation: self.violation,
            violations: self.violations,
        }
    }
}

/// The boot time anchored at the last (re)boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct BootAnchor {
    boot: i64,
    detected_at: i64,
}

/// Per-node uptime state (O(1) memory): feed it reports in time order with [`UptimeTracker::observe`],
/// close periods in order with [`UptimeTracker::close_period`]. Rules in the module doc.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UptimeTracker {
    first_report_at: Option<i64>,
    last: Option<UptimeReport>,
    boot: Option<BootAnchor>,
    current: Accumulator,
    previous: Option<Accumulator>,
    closed_through: Option<u32>,
}

/// The outcome of comparing a report with the tracker's reference.
struct Step {
    credit: i64,
    violation: Option<Violation>,
    accept: bool,
    reboot: bool,
}

impl UptimeTracker {
    /// A tracker for a node registered in period `first_period` (reports from earlier periods are refused).
    pub fn new(first_period: u32) -> Self {
        Self {
            first_report_at: None,
            last: None,
            boot: None,
            current: Accumulator::new(first_period),
            previous: None,
            closed_through: None,
        }
    }

    /// Timestamp of the node's first report (the start of the seed lock-up), if any.
    pub fn first_report_at(&self) -> Option<i64> {
        self.first_report_at
    }

    /// The last accepted report (the reference for the next one).
    pub fn last_report(&self) -> Option<UptimeReport> {
        self.last
    }

    /// The period currently accumulating reports.
    pub fn open_period(&self) -> u32 {
        self.current.period
    }

    /// The running figures of an open period (`None` if the tracker does not hold it).
    pub fn peek(&self, period: u32) -> Option<PeriodUptime> {
        if self.current.period == period {
            return Some(self.current.summary());
        }
        self.previous.filter(|p| p.period == period).map(|p| p.summary())
    }

    /// Applies one report (rules in the module doc). Errors leave the tracker unchanged.
    pub fn observe(&mut self, report: UptimeReport, rules: &UptimeRules) -> Result<Observation, UptimeError> {
        let timestamp = report.timestamp;
        let period = period_of(timestamp).ok_or(UptimeError::BeforeFirstPeriod { timestamp })?;
        if let Some(last) = self.last {
            if timestamp <= last.timestamp {
                return Err(UptimeError::NotAfterPrevious { previous: last.timestamp, timestamp });
            }
        }
        if self.closed_through.is_some_and(|c| period <= c) || period < self.current.period {
            return Err(UptimeError::PeriodClosed { period });
        }
        let first = self.last.is_none();
        let first_in_period = period > self.current.period || self.current.reports == 0;
        let step = self.evaluate(report, period, !first_in_period, rules);

        let evicted = if period > self.current.period { self.roll_to(period) } else { None };
        // The credit covers [timestamp - credit, timestamp); split it at the period start.
        let since_start = since_period_start(timestamp, period);
        // 0 <= in_period <= credit (the credit is clamped to 0..=cap), so the rest is in 0..=credit.
        let in_period = step.credit.min(since_start);
        let before = step.credit.checked_sub(in_period).expect("0 <= in_period <= credit");
        self.current.credited_s = self.current.credited_s.saturating_add(to_u64(in_period));
        if before > 0 {
            let adjacent = |p: &&mut Accumulator| p.period.checked_add(1) == Some(period);
            if let Some(previous) = self.previous.as_mut().filter(adjacent) {
                previous.credited_s = previous.credited_s.saturating_add(to_u64(before));
            }
        }
        self.current.reports = self.current.reports.saturating_add(1);
        if let Some(violation) = step.violation {
            self.current.violations = self.current.violations.saturating_add(1);
            self.current.violation.get_or_insert(violation);
        }
        if step.accept {
            self.last = Some(report);
        }
        if step.reboot || (step.accept && first_in_period) {
            self.boot = Some(BootAnchor { boot: implied_boot(report), detected_at: timestamp });
        }
        self.first_report_at.get_or_insert(timestamp);
        Ok(Observation {
            credited_s: to_u64(step.credit),
            rebooted: step.reboot && !first,
            violation: step.violation,
            evicted,
        })
    }

    /// Closes period `k` and returns its uptime. Periods close in order; a period without reports returns
    /// zero uptime. Errors: `PeriodClosed` (already closed), `EarlierPeriodOpen` (an earlier period with
    /// data was not closed). Errors leave the tracker unchanged.
    pub fn close_period(&mut self, k: u32) -> Result<PeriodUptime, UptimeError> {
        if self.closed_through.is_some_and(|c| k <= c) {
            return Err(UptimeError::PeriodClosed { period: k });
        }
        for acc in self.previous.iter().chain(std::iter::once(&self.current)) {
            if acc.period < k && acc.has_data() {
                return Err(UptimeError::EarlierPeriodOpen { period: acc.period });
            }
        }
        let summary = if let Some(previous) = self.previous.filter(|p| p.period == k) {
            self.previous = None;
            previous.summary()
        } else if self.current.period == k {
            let summary = self.current.summary();
            self.current = Accumulator::new(k.saturating_add(1));
            summary
        } else {
            Accumulator::new(k).summary()
        };
        if self.previous.is_some_and(|p| p.period <= k) {
            self.previous = None;
        }
        if self.current.period < k {
            self.current = Accumulator::new(k.saturating_add(1));
        }
        self.closed_through = Some(k);
        Ok(summary)
    }

    /// Moves the open period to `previous` and opens `period`; returns an unclosed period pushed out.
    fn roll_to(&mut self, period: u32) -> Option<PeriodUptime> {
        let old = std::mem::replace(&mut self.current, Accumulator::new(period));
        let pushed_out = self.previous.replace(old);
        pushed_out.filter(Accumulator::has_data).map(|p| p.summary())
    }

    /// Compares `report` with the reference (rules 1-5 of the module doc); `check_skew` is false for the
    /// first report of a period.
    fn evaluate(&self, report: UptimeReport, period: u32, check_skew: bool, rules: &UptimeRules) -> Step {
        let cap = i128::from(rules.max_credit_s());
        let grace = i128::from(rules.grace_s);
        let uptime = i128::from(report.uptime_s);
        // `max(0, min(v, cap))`: the same as `v.clamp(0, cap)` for a cap >= 0, and 0 (instead of a panic)
        // for rules whose interval + grace is negative.
        let clamp = |v: i128| i64::try_from(v.min(cap).max(0)).unwrap_or(0);
        let Some(prev) = self.last else {
            let since_start = i128::from(since_period_start(report.timestamp, period));
            return Step {
                credit: clamp(uptime.min(since_start)),
                violation: None,
                accept: true,
                reboot: true,
            };
        };
        // Differences and sums of i64 and u64 values, computed in i128, cannot overflow.
        let report_delta = wide(i128::from(report.timestamp).checked_sub(i128::from(prev.timestamp)));
        let uptime_delta = wide(uptime.checked_sub(i128::from(prev.uptime_s)));
        if uptime_delta > wide(report_delta.checked_add(grace)) {
            let violation = Violation::UptimeTooHigh { previous: prev, reported: report };
            return Step { credit: 0, violation: Some(violation), accept: true, reboot: false };
        }
        let mut skew = None;
        if uptime_delta >= wide(report_delta.checked_sub(grace)) {
            if let Some(anchor) = self.boot.filter(|_| check_skew) {
                let current_boot = implied_boot(report);
                let drift = wide(i128::from(current_boot).checked_sub(i128::from(anchor.boot))).abs();
                if drift >= i128::from(rules.clock_skew_s) {
                    skew = Some(Violation::ClockSkew {
                        original_boot: anchor.boot,
                        original_detected_at: anchor.detected_at,
                        current_boot,
                        reported_at: report.timestamp,
                    });
                }
            }
            if uptime_delta > 0 {
                return Step { credit: clamp(uptime_delta), violation: skew, accept: true, reboot: false };
            }
        }
        if uptime <= report_delta {
            return Step { credit: clamp(uptime), violation: skew, accept: true, reboot: true };
        }
        let violation = if uptime > i128::from(prev.uptime_s) {
            Violation::UptimeTooLow { previous: prev, reported: report }
        } else {
            Violation::InvalidReboot { previous: prev, reported: report }
        };
        Step { credit: 0, violation: Some(skew.unwrap_or(violation)), accept: false, reboot: false }
    }
}

/// `timestamp - uptime_s`, saturating (an uptime beyond the epoch gives a very early boot).
fn implied_boot(report: UptimeReport) -> i64 {
    let boot = wide(i128::from(report.timestamp).checked_sub(i128::from(report.uptime_s)));
    i64::try_from(boot).unwrap_or(i64::MIN)
}

/// The result of a checked `i128` operation on operands widened from `i64` or `u64` (or a difference of
/// two such values): every such sum or difference is below 2^66 in magnitude, so it never fails.
fn wide(result: Option<i128>) -> i128 {
    result.expect("sums and differences of i64/u64 values fit i128")
}

/// Seconds from the start of `period` to `timestamp`, for `period == period_of(timestamp)` (so
/// `period_start(period) <= timestamp` and both are positive: the difference is in `0..i64::MAX`).
fn since_period_start(timestamp: i64, period: u32) -> i64 {
    timestamp.checked_sub(period_start(period)).expect("a timestamp is at or after the start of its period")
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::minting::period::period_end;

    const P: u32 = 80;

    fn r(timestamp: i64, uptime_s: u64) -> UptimeReport {
        UptimeReport { timestamp, uptime_s }
    }

    /// Feeds reports; returns the observations.
    fn feed(tracker: &mut UptimeTracker, reports: &[UptimeReport]) -> Vec<Observation> {
        let rules = UptimeRules::default();
        reports.iter().map(|rep| tracker.observe(*rep, &rules).unwrap()).collect()
    }

    #[test]
    fn rules_with_a_negative_credit_cap_credit_nothing_instead_of_panicking() {
        // interval + grace < 0 used to reach `i128::clamp(0, cap)` with `cap < 0`, which panics.
        let rules = UptimeRules { report_interval_s: -100, grace_s: 0, clock_skew_s: 120 };
        let mut tracker = UptimeTracker::new(P);
        let start = period_start(P);
        for (t, up) in [(start + 600, 600), (start + 3_000, 3_000), (start + 4_000, 100)] {
            assert_eq!(tracker.observe(r(t, up), &rules).unwrap().credited_s, 0);
        }
        assert_eq!(tracker.close_period(P).unwrap().credited_s, 0);
    }

    #[test]
    fn clean_month_gives_full_uptime() {
        let start = period_start(P);
        let boot = start - 1_000;
        let mut tracker = UptimeTracker::new(P);
        let rules = UptimeRules::default();
        let mut t = start + 5;
        let mut reports = 0;
        while t < period_end(P) + 2_400 {
            let obs = tracker.observe(r(t, (t - boot) as u64), &rules).unwrap();
            assert_eq!(obs.violation, None);
            t += 2_400;
            reports += 1;
        }
        assert!(reports > 1_096);
        let closed = tracker.close_period(P).unwrap();
        assert_eq!(closed.credited_s, PERIOD_S as u64, "the first report of P+1 carried the tail of P");
        assert_eq!(closed.uptime_permill(), 1000);
        assert_eq!(closed.violation, None);
        assert_eq!(tracker.first_report_at(), Some(start + 5));
    }

    #[test]
    fn a_ten_hour_outage_and_reboot_costs_exactly_the_outage() {
        let start = period_start(P);
        let rules = UptimeRules::default();
        let mut tracker = UptimeTracker::new(P);
        let first_boot = start - 100;
        let last_before_crash = start + 10 + 400 * 2_400;
        let mut t = start + 10;
        while t <= last_before_crash {
            assert_eq!(tracker.observe(r(t, (t - first_boot) as u64), &rules).unwrap().violation, None);
            t += 2_400;
        }
        // Down for 10 hours after the last report, then boots and reports 500 s later.
        let boot = last_before_crash + 36_000;
        let mut t = boot + 500;
        let obs = tracker.observe(r(t, 500), &rules).unwrap();
        assert!(obs.rebooted && obs.violation.is_none() && obs.credited_s == 500);
        while t < period_end(P) + 2_400 {
            t += 2_400;
            assert_eq!(tracker.observe(r(t, (t - boot) as u64), &rules).unwrap().violation, None);
        }
        let closed = tracker.close_period(P).unwrap();
        assert_eq!(PERIOD_S as u64 - closed.credited_s, 36_000);
        assert_eq!(closed.uptime_permill(), 986);
    }

    #[test]
    fn uptime_too_high_is_detected() {
        let t0 = period_start(P) + 10_000;
        let mut tracker = UptimeTracker::new(P);
        let obs = feed(&mut tracker, &[r(t0, 5_000), r(t0 + 2_400, 5_000 + 2_400 + 60)]);
        assert_eq!(obs[1].violation, None, "60 s of grace is allowed");
        let obs = feed(&mut tracker, &[r(t0 + 4_800, 5_000 + 4_800 + 60 + 61)]);
        assert_eq!(obs[0].violation.map(|v| v.kind()), Some(ViolationKind::UptimeTooHigh));
        assert_eq!(obs[0].credited_s, 0);
        assert_eq!(tracker.last_report(), Some(r(t0 + 4_800, 9_921)), "becomes the reference");
        let closed = tracker.close_period(P).unwrap();
        assert_eq!(closed.violation.map(|v| v.kind()), Some(ViolationKind::UptimeTooHigh));
    }

    #[test]
    fn uptime_too_low_is_detected() {
        let t0 = period_start(P) + 10_000;
        let mut tracker = UptimeTracker::new(P);
        // Grew by 2,339 s in 2,400 s: below Δt - grace, yet 102,339 > Δt so it is no reboot.
        let obs = feed(&mut tracker, &[r(t0, 100_000), r(t0 + 2_400, 102_339)]);
        let Some(Violation::UptimeTooLow { previous, reported }) = obs[1].violation else {
            panic!("expected UptimeTooLow, got {:?}", obs[1].violation)
        };
        assert_eq!((previous, reported), (r(t0, 100_000), r(t0 + 2_400, 102_339)));
        assert_eq!(obs[1].credited_s, 0);
        assert_eq!(tracker.last_report(), Some(r(t0, 100_000)), "discarded");
        // 2,340 is exactly Δt - grace: fine.
        let mut ok = UptimeTracker::new(P);
        let obs = feed(&mut ok, &[r(t0, 100_000), r(t0 + 2_400, 102_340)]);
        assert_eq!((obs[1].violation, obs[1].credited_s), (None, 2_340));
    }

    #[test]
    fn invalid_reboot_is_detected_and_a_valid_reboot_is_not() {
        let t0 = period_start(P) + 10_000;
        let mut tracker = UptimeTracker::new(P);
        // Uptime went back (a reboot), but 5,000 s before t0 + 2,400 is before the previous report at t0.
        let obs = feed(&mut tracker, &[r(t0, 100_000), r(t0 + 2_400, 5_000)]);
        assert_eq!(obs[1].violation.map(|v| v.kind()), Some(ViolationKind::InvalidReboot));
        assert_eq!(obs[1].credited_s, 0);

        let mut valid = UptimeTracker::new(P);
        let obs = feed(&mut valid, &[r(t0, 100_000), r(t0 + 2_400, 600)]);
        assert_eq!(obs[1].violation, None);
        assert!(obs[1].rebooted);
        assert_eq!(obs[1].credited_s, 600);
        // Boot exactly at the previous report is still valid.
        let obs = feed(&mut valid, &[r(t0 + 4_800, 2_400)]);
        assert!(obs[0].rebooted && obs[0].violation.is_none());
    }

    #[test]
    fn clock_skew_is_detected() {
        let t0 = period_start(P) + 10_000;
        let mut tracker = UptimeTracker::new(P);
        // The node's clock runs fast: +40 s per report, inside the 60 s grace each time.
        let obs = feed(
            &mut tracker,
            &[r(t0, 50_000), r(t0 + 2_400, 52_440), r(t0 + 4_800, 54_880), r(t0 + 7_200, 57_320)],
        );
        assert_eq!(obs[1].violation, None, "drift 40");
        assert_eq!(obs[2].violation, None, "drift 80");
        assert_eq!(
            obs[3].violation,
            Some(Violation::ClockSkew {
                original_boot: t0 - 50_000,
                original_detected_at: t0,
                current_boot: t0 - 50_120,
                reported_at: t0 + 7_200,
            }),
            "drift 120 reaches the limit"
        );
        assert_eq!(obs[3].credited_s, 2_440, "credited, but the period is zeroed by the violation");
        assert_eq!(tracker.close_period(P).unwrap().violations, 1);
    }

    #[test]
    fn reboot_reanchors_the_boot_time() {
        let t0 = period_start(P) + 10_000;
        let mut tracker = UptimeTracker::new(P);
        let obs = feed(
            &mut tracker,
            &[
                r(t0, 50_000),
                r(t0 + 2_400, 52_440),
                r(t0 + 4_800, 54_880), // drift 80
                r(t0 + 7_200, 1_000),  // reboot
                r(t0 + 9_600, 3_440),  // drift 40 from the new anchor
                r(t0 + 12_000, 5_880), // drift 80
            ],
        );
        assert!(obs.iter().all(|o| o.violation.is_none()), "{obs:?}");
        assert!(obs[3].rebooted);
    }

    #[test]
    fn the_first_report_of_a_period_reanchors_the_boot_time() {
        let t0 = period_end(P) - 4_800;
        let mut tracker = UptimeTracker::new(P);
        let obs = feed(
            &mut tracker,
            &[
                r(t0, 50_000),
                r(t0 + 2_400, 52_450),  // drift 50
                r(t0 + 4_800, 54_900),  // drift 100, first report of P+1: not checked, re-anchors
                r(t0 + 7_200, 57_350),  // drift 50 from the new anchor
                r(t0 + 9_600, 59_800),  // drift 100
                r(t0 + 12_000, 62_250), // drift 150: violation
            ],
        );
        assert!(obs[..5].iter().all(|o| o.violation.is_none() && !o.rebooted), "{obs:?}");
        assert_eq!(obs[5].violation.map(|v| v.kind()), Some(ViolationKind::ClockSkew));
        assert_eq!(tracker.close_period(P).unwrap().violations, 0);
        assert_eq!(tracker.close_period(P + 1).unwrap().violations, 1);
    }

    #[test]
    fn violations_are_per_period_and_the_first_is_kept() {
        let t0 = period_end(P) - 4_800;
        let mut tracker = UptimeTracker::new(P);
        let obs = feed(
            &mut tracker,
            &[
                r(t0, 10_000),
                r(t0 + 2_400, 20_000),            // too high
                r(t0 + 4_800, 1_000_000),         // too high again (new period)
                r(t0 + 7_200, 1_000_000 + 2_400), // clean
            ],
        );
        assert_eq!(obs[2].violation.map(|v| v.kind()), Some(ViolationKind::UptimeTooHigh));
        let p = tracker.close_period(P).unwrap();
        assert_eq!((p.violations, p.violation.map(|v| v.kind())), (1, Some(ViolationKind::UptimeTooHigh)));
        let q = tracker.close_period(P + 1).unwrap();
        assert_eq!(q.violations, 1);
        assert_eq!(q.credited_s, 2_400);
    }

    #[test]
    fn the_tail_is_lost_when_a_period_is_closed_before_the_next_report() {
        let end = period_end(P);
        let mut early = UptimeTracker::new(P);
        feed(&mut early, &[r(end - 2_000, 100_000)]);
        let closed = early.close_period(P).unwrap();
        assert_eq!(closed.credited_s, 2_460, "first report: min(uptime, since start, cap)");
        let obs = feed(&mut early, &[r(end + 400, 102_400)]);
        assert_eq!(obs[0].credited_s, 2_400);
        assert_eq!(early.peek(P + 1).unwrap().credited_s, 400, "the 2,000 s before the boundary are dropped");

        let mut late = UptimeTracker::new(P);
        feed(&mut late, &[r(end - 2_000, 100_000), r(end + 400, 102_400)]);
        assert_eq!(late.close_period(P).unwrap().credited_s, 2_460 + 2_000);
        assert_eq!(late.close_period(P + 1).unwrap().credited_s, 400);
    }

    #[test]
    fn errors_are_typed_and_change_nothing() {
        let rules = UptimeRules::default();
        let t0 = period_start(P) + 100;
        let mut tracker = UptimeTracker::new(P);
        assert_eq!(
            tracker.observe(r(1_000, 10), &rules),
            Err(UptimeError::BeforeFirstPeriod { timestamp: 1_000 })
        );
        tracker.observe(r(t0, 10), &rules).unwrap();
        let before = tracker.clone();
        assert_eq!(
            tracker.observe(r(t0, 20), &rules),
            Err(UptimeError::NotAfterPrevious { previous: t0, timestamp: t0 })
        );
        assert_eq!(
            tracker.observe(r(period_start(P - 1), 20), &rules),
            Err(UptimeError::NotAfterPrevious { previous: t0, timestamp: period_start(P - 1) })
        );
        assert_eq!(tracker, before);
        assert_eq!(tracker.close_period(P + 1), Err(UptimeError::EarlierPeriodOpen { period: P }));
        tracker.close_period(P).unwrap();
        assert_eq!(tracker.close_period(P), Err(UptimeError::PeriodClosed { period: P }));
        assert_eq!(tracker.observe(r(t0 + 60, 70), &rules), Err(UptimeError::PeriodClosed { period: P }));
        let mut fresh = UptimeTracker::new(P);
        assert_eq!(
            fresh.observe(r(t0 - PERIOD_S, 1), &rules),
            Err(UptimeError::PeriodClosed { period: P - 1 })
        );
    }

    #[test]
    fn silent_periods_close_with_zero_and_unclosed_ones_are_evicted() {
        let rules = UptimeRules::default();
        let mut tracker = UptimeTracker::new(P);
        assert_eq!(tracker.close_period(P).unwrap().credited_s, 0);
        tracker.observe(r(period_start(P + 1) + 5_000, 9_000), &rules).unwrap();
        tracker.observe(r(period_start(P + 2) + 5_000, 1_000), &rules).unwrap();
        let obs = tracker.observe(r(period_start(P + 3) + 5_000, 1_000), &rules).unwrap();
        let evicted = obs.evicted.expect("P+1 was never closed");
        assert_eq!((evicted.period, evicted.credited_s), (P + 1, 2_460));
    }

    #[test]
    fn tracker_round_trips_through_postcard_and_json() {
        let t0 = period_start(P) + 10_000;
        let mut tracker = UptimeTracker::new(P);
        feed(&mut tracker, &[r(t0, 5_000), r(t0 + 2_400, 9_000)]);
        let bytes = postcard::to_allocvec(&tracker).unwrap();
        assert_eq!(postcard::from_bytes::<UptimeTracker>(&bytes).unwrap(), tracker);
        let summary = tracker.peek(P).unwrap();
        let json = serde_json::to_string(&summary).unwrap();
        assert!(json.contains("\"uptime_too_high\""), "{json}");
        assert_eq!(serde_json::from_str::<PeriodUptime>(&json).unwrap(), summary);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_credits_are_bounded(
            steps in proptest::collection::vec((1i64..10_000, 0u64..200_000), 1..200),
        ) {
            let rules = UptimeRules::default();
            let mut tracker = UptimeTracker::new(P);
            let mut t = period_start(P);
            for (dt, up) in steps {
                t += dt;
                let obs = tracker.observe(r(t, up), &rules).unwrap();
                proptest::prop_assert!(obs.credited_s <= 2_460);
            }
            let closed = tracker.close_period(P).unwrap();
            proptest::prop_assert!(closed.uptime_permill() <= 1000);
        }
    }
}
