//! v3 minting periods (spec `minting_and_governance.md` §2.1): period `k` is the half-open interval
//! `[FIRST_PERIOD_START + k·PERIOD_S, FIRST_PERIOD_START + (k+1)·PERIOD_S)` in unix seconds.
//!
//! `PERIOD_S = 86,400 × (365×3 + 366×2) / 60 = 2,630,880` s: 60 periods are exactly 5 calendar years with
//! two leap days, so one period is 1/12 of an average year. Period indices are `u32`, so every start and
//! end fits in `i64` without overflow.

/// Start of period 0, unix seconds (2018-03-31 12:56:40 UTC).
pub const FIRST_PERIOD_START: i64 = 1_522_501_000;

/// Length of one period in seconds: `86,400 × (365×3 + 366×2) / 60`.
pub const PERIOD_S: i64 = 86_400 * (365 * 3 + 366 * 2) / 60;

/// The period containing unix time `t`; `None` before [`FIRST_PERIOD_START`] or beyond period `u32::MAX`.
pub fn period_of(t: i64) -> Option<u32> {
    if t < FIRST_PERIOD_START {
        return None;
    }
    // `t >= FIRST_PERIOD_START > 0`, so the elapsed time is in `0..i64::MAX`.
    let elapsed = t.checked_sub(FIRST_PERIOD_START)?;
    u32::try_from(elapsed / PERIOD_S).ok()
}

/// First second of period `k` (inclusive), unix seconds.
pub const fn period_start(k: u32) -> i64 {
    // k × PERIOD_S < 2^32 × 2^22 = 2^54, and the start adds about 2^31: far inside i64 (module doc).
    let offset = (k as i64).checked_mul(PERIOD_S).expect("a u32 number of periods fits i64");
    FIRST_PERIOD_START.checked_add(offset).expect("every period start fits i64")
}

/// End of period `k` (exclusive): the first second of period `k + 1`.
pub const fn period_end(k: u32) -> i64 {
    period_start(k).checked_add(PERIOD_S).expect("every period end fits i64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_spec() {
        assert_eq!(PERIOD_S, 2_630_880);
        assert_eq!(60 * PERIOD_S, 86_400 * (5 * 365 + 2));
    }

    #[test]
    fn boundaries_are_half_open() {
        assert_eq!(period_of(FIRST_PERIOD_START - 1), None);
        assert_eq!(period_of(FIRST_PERIOD_START), Some(0));
        assert_eq!(period_of(FIRST_PERIOD_START + PERIOD_S - 1), Some(0));
        assert_eq!(period_of(FIRST_PERIOD_START + PERIOD_S), Some(1));
        assert_eq!(period_start(45), 1_522_501_000 + 45 * 2_630_880);
        assert_eq!(period_end(45), period_start(46));
        for k in [0u32, 1, 45, 72, 1000] {
            assert_eq!(period_of(period_start(k)), Some(k));
            assert_eq!(period_of(period_end(k) - 1), Some(k));
        }
        assert_eq!(period_of(period_start(u32::MAX)), Some(u32::MAX));
        assert_eq!(period_of(i64::MAX), None);
    }

    #[test]
    fn known_period_starts() {
        // Cycle 45 ("January 2022", tag v3.0.0) starts 2021-12-30 18:56:40 UTC.
        assert_eq!(period_start(45), 1_640_890_600);
        // The March 2024 GEP: a new minting period began 2024-03-31 22:32:40 UTC = 1,711,924,360.
        assert_eq!(period_of(1_711_924_360), Some(72));
        assert_eq!(period_start(72), 1_711_924_360);
    }
}
