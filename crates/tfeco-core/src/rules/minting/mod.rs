//! Minting, uptime, lock-up and vesting as pure functions (spec `decisions.md` §11, §1 supply cap;
//! `minting_and_governance.md` §2-3). No I/O, no clock, no floats: the state machine feeds reports and
//! times in and records what comes out.
//!
//! - [`period`]: v3 minting periods (`1,522,501,000 + k·2,630,880` s, half-open).
//! - [`v3`]: the exact v3 reward rule set (CU/SU/NU/IPv4 in permill integer arithmetic, farming policies,
//!   uptime thresholds and linear scaling, +25 % certified on policy 1, connection price). Vectors M1-M9.
//! - [`uptime`]: a per-node, O(1)-memory [`UptimeTracker`] crediting uptime per period and detecting the
//!   four report violations of spec §2.5 (too high, too low, invalid reboot, clock skew).
//! - [`capacity`]: the second rule set, per GB memory / TB SSD / TB HDD / TB network per month (INCA-1).
//! - [`vesting`]: the seed lock-up rule and the `release_36m` schedule.
//! - [`cap`]: scaling a minting report down pro rata so the 1,000,000,000 TFT cap is never crossed.
//!
//! Every rounding here is down (payouts and mints never exceed the exact value, `decisions.md` §15); where a
//! remainder exists its destination is documented on the function.

pub mod cap;
pub mod capacity;
pub mod period;
pub mod uptime;
pub mod v3;
pub mod vesting;

pub use cap::{mint_headroom, scale_to_cap, ScaledRewards};
pub use capacity::{
    capacity_monthly_reward, capacity_reward, CapacityRates, CapacityResources, CapacityRules,
};
pub use period::{period_end, period_of, period_start, FIRST_PERIOD_START, PERIOD_S};
pub use uptime::{
    Observation, PeriodUptime, UptimeError, UptimeReport, UptimeRules, UptimeTracker, Violation,
    ViolationKind,
};
pub use v3::{
    cloud_units_permill, engine_input, uptime_permill, v3_reward, Certification, CloudUnits, FarmingPolicy,
    NodeResources, UptimeScaling, V3NodeInput, V3Reward, V3Rules, ZeroReason, GIB,
};
pub use vesting::{
    meets_utilization, releasable, seed_unlock, utilization_bps, vested, Release36mRule, SeedLockRule,
    SeedUnlock, VestingRecord, VestingRule,
};

use std::fmt;

/// Why a reward, vesting or cap computation was refused. Pure functions return it; the state machine maps it
/// to a rejection (or treats it as a programming error where inputs were validated before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MintingError {
    /// The node names a farming policy the v3 rule set does not define.
    UnknownFarmingPolicy {
        /// The policy id asked for.
        id: u32,
    },
    /// The TFT connection price is zero (it is a divisor).
    ZeroConnectionPrice,
    /// An amount that must be non-negative is negative (field named).
    NegativeAmount {
        /// Which input.
        what: &'static str,
    },
    /// A vesting record has released more than it holds.
    ReleasedExceedsTotal,
    /// A utilization entry is above 10,000 basis points.
    UtilizationOutOfRange {
        /// Index of the month in the history (0 = first month).
        month: usize,
        /// The value given.
        bps: u16,
    },
    /// A rule parameter is unusable (e.g. a zero-length month or zero release months).
    InvalidRule {
        /// What is wrong.
        reason: &'static str,
    },
    /// An intermediate result does not fit the integer types (inputs far beyond any real node).
    Overflow,
}

impl fmt::Display for MintingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MintingError::UnknownFarmingPolicy { id } => write!(f, "unknown farming policy {id}"),
            MintingError::ZeroConnectionPrice => {
                f.write_str("the TFT connection price must be greater than 0")
            }
            MintingError::NegativeAmount { what } => write!(f, "{what} must not be negative"),
            MintingError::ReleasedExceedsTotal => {
                f.write_str("the vesting record has released more than its total")
            }
            MintingError::UtilizationOutOfRange { month, bps } => {
                write!(f, "utilization of month {month} is {bps} bps, above 10,000")
            }
            MintingError::InvalidRule { reason } => write!(f, "invalid rule: {reason}"),
            MintingError::Overflow => f.write_str("arithmetic overflow"),
        }
    }
}

impl std::error::Error for MintingError {}
