//! Lock-up and vesting of minted rewards (spec `decisions.md` §11; schedules in `minting_and_governance.md`
//! §3.2). A node's rewards go into a [`VestingRecord`]; [`releasable`] says how much may leave the lock at
//! `now`. The state machine calls it on `Tick` and records the release.
//!
//! Readings (where the spec is silent):
//! - **Months** are [`SeedLockRule::month_s`] / [`Release36mRule::month_s`] seconds, default one minting
//!   period (2,630,880 s = 1/12 of an average year), counted from the record's `start`. "2 years" is 24 such
//!   months (730.8 days).
//! - **Seed rule** (`start` = the node's first uptime report): everything is locked until `start + 24
//!   months`, or until the utilization history shows 3 consecutive months at >= 3,000 bps, whichever comes
//!   first. Once unlocked, the record stays unlocked: rewards deposited later are releasable at once.
//! - **`release_36m`** (`start` = the node's registration): months 1-11 locked; at the end of month `11 + j`
//!   (`j = 1..=25`), `j/25` of the total is vested (4 % per month; 100 % at the end of month 36).
//!   "Total" is **everything deposited into the record so far** (the source's "4 % of the total" is
//!   ambiguous, and the 18-month reward is not known when month 12 starts): a deposit made later follows the
//!   same curve, so the share already due is releasable at once and the rest follows month by month;
//!   deposits after month 36 are releasable at once.
//! - **Rounding**: the cumulative vested amount is `floor(total × j / 25)`; each month releases the growth
//!   of that floor. So each month's rounding remainder is carried into the next month (the vested amount is
//!   never a whole base unit behind the exact `j/25` share, never ahead of it), per-month amounts differ by
//!   at most one base unit, and the last month releases whatever remains: at `j = 25` the vested amount is
//!   exactly the total (no dust).

use serde::{Deserialize, Serialize};
use tfeco_money::{mul_div, Amount, Rounding, Tft};

use super::period::PERIOD_S;
use super::MintingError;

/// The seed lock-up rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedLockRule {
    /// Months after `start` when everything unlocks (24).
    pub lock_months: u32,
    /// Utilization (bps of offered slices leased, `decisions.md` §9) a month needs to count (3,000).
    pub utilization_threshold_bps: u16,
    /// Consecutive qualifying months that unlock early (3).
    pub consecutive_months: u32,
    /// Seconds in a month ([`PERIOD_S`]).
    pub month_s: i64,
}

impl Default for SeedLockRule {
    fn default() -> Self {
        Self { lock_months: 24, utilization_threshold_bps: 3_000, consecutive_months: 3, month_s: PERIOD_S }
    }
}

/// The `release_36m` schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Release36mRule {
    /// Months fully locked (11).
    pub locked_months: u32,
    /// Months over which the total is released in equal steps (25, i.e. 4 % per month).
    pub release_months: u32,
    /// Seconds in a month ([`PERIOD_S`]).
    pub month_s: i64,
}

impl Default for Release36mRule {
    fn default() -> Self {
        Self { locked_months: 11, release_months: 25, month_s: PERIOD_S }
    }
}

/// A named vesting rule, chosen by parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum VestingRule {
    /// Locked 2 years from the first report or until 30 % utilization for 3 consecutive months.
    Seed(SeedLockRule),
    /// 11 months locked, then 4 % of the total per month for 25 months.
    Release36m(Release36mRule),
}

/// One node's vesting record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VestingRecord {
    /// Everything deposited so far (minted rewards).
    pub total: Amount<Tft>,
    /// Everything released so far.
    pub released: Amount<Tft>,
    /// Start of the schedule, unix seconds (first report for the seed rule, registration for
    /// `release_36m`).
    pub start: i64,
    /// Utilization of each completed month since `start`, in bps (index 0 = month 1). Only the seed rule
    /// reads it; the caller appends one entry per completed month.
    pub utilization_bps: Vec<u16>,
}

impl VestingRecord {
    /// An empty record starting at `start`.
    pub fn new(start: i64) -> Self {
        Self { start, ..Self::default() }
    }

    /// Adds a deposit. Errors: `NegativeAmount`, `Overflow`.
    pub fn deposit(&mut self, amount: Amount<Tft>) -> Result<(), MintingError> {
        if amount.units() < 0 {
            return Err(MintingError::NegativeAmount { what: "deposit" });
        }
        self.total = self.total.checked_add(amount).ok_or(MintingError::Overflow)?;
        Ok(())
    }

    /// Still locked: `total - released`.
    ///
    /// Exact for a consistent record (`0 <= released <= total`, which [`VestingRecord::deposit`] and the
    /// state machine's releases keep). For an inconsistent hand-built record (which [`releasable`] refuses)
    /// the difference saturates at the `i128` bounds instead of overflowing.
    pub fn locked(&self) -> Amount<Tft> {
        Amount::from_units(self.total.units().saturating_sub(self.released.units()))
    }
}

/// Why a seed record is unlocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedUnlock {
    /// `lock_months` have passed since `start`.
    TimeElapsed,
    /// The months `first_month ..= last_month` (1-based) all reached the utilization threshold.
    Utilization {
        /// First month of the qualifying run.
        first_month: u32,
        /// Month that completed the run.
        last_month: u32,
    },
}

/// Whether (and why) a seed record is unlocked at `now`. The utilization run is found in the history
/// (earliest run wins). Errors: `InvalidRule`, `UtilizationOutOfRange`.
pub fn seed_unlock(
    rule: &SeedLockRule,
    record: &VestingRecord,
    now: i64,
) -> Result<Option<SeedUnlock>, MintingError> {
    if rule.month_s <= 0 {
        return Err(MintingError::InvalidRule { reason: "month_s must be positive" });
    }
    // The 1-based number of the month at `index`, saturating at u32::MAX for an absurdly long history.
    let month_number =
        |index: usize| u32::try_from(index).ok().and_then(|i| i.checked_add(1)).unwrap_or(u32::MAX);
    let mut run: u32 = 0;
    let mut by_utilization = None;
    for (month, &bps) in record.utilization_bps.iter().enumerate() {
        if bps > 10_000 {
            return Err(MintingError::UtilizationOutOfRange { month, bps });
        }
        // The run is only counted until it unlocks (every later entry is still range-checked).
        if by_utilization.is_some() || rule.consecutive_months == 0 {
            continue;
        }
        run = if bps >= rule.utilization_threshold_bps {
            // No unlock yet: the run so far is below `consecutive_months`, a u32.
            run.checked_add(1).expect("run < consecutive_months before this month")
        } else {
            0
        };
        if run >= rule.consecutive_months {
            // The run is the `run` months ending at index `month`: 1 <= run <= month + 1.
            let run_len = usize::try_from(run).expect("a run is at most the history length");
            let first_index =
                month.checked_add(1).and_then(|end| end.checked_sub(run_len)).expect("run <= month + 1");
            by_utilization = Some(SeedUnlock::Utilization {
                first_month: month_number(first_index),
                last_month: month_number(month),
            });
        }
    }
    if by_utilization.is_some() {
        return Ok(by_utilization);
    }
    // i64 + u32 × i64 is below 2^96 in magnitude: it fits i128.
    let unlock_at = i128::from(rule.lock_months)
        .checked_mul(i128::from(rule.month_s))
        .and_then(|lock| lock.checked_add(i128::from(record.start)))
        .expect("i64 + u32 × i64 fits i128");
    Ok((i128::from(now) >= unlock_at).then_some(SeedUnlock::TimeElapsed))
}

/// Whole months elapsed since `start` at `now` (0 before `start`); `month_s` must be positive.
fn months_elapsed(start: i64, now: i64, month_s: i64) -> u64 {
    let elapsed =
        i128::from(now).checked_sub(i128::from(start)).expect("a difference of i64 values fits i128");
    if elapsed <= 0 {
        return 0;
    }
    let months = elapsed.checked_div(i128::from(month_s)).expect("month_s > 0 (checked by the caller)");
    u64::try_from(months).unwrap_or(u64::MAX)
}

/// The cumulative amount vested (allowed out of the lock) at `now`: `total` or 0 for the seed rule;
/// `floor(total × j / 25)` for `release_36m`. Errors: `InvalidRule`, `UtilizationOutOfRange`,
/// `NegativeAmount`.
pub fn vested(rule: &VestingRule, record: &VestingRecord, now: i64) -> Result<Amount<Tft>, MintingError> {
    if record.total.units() < 0 {
        return Err(MintingError::NegativeAmount { what: "total" });
    }
    match rule {
        VestingRule::Seed(seed) => {
            Ok(if seed_unlock(seed, record, now)?.is_some() { record.total } else { Amount::ZERO })
        }
        VestingRule::Release36m(schedule) => {
            if schedule.month_s <= 0 || schedule.release_months == 0 {
                return Err(MintingError::InvalidRule {
                    reason: "month_s and release_months must be positive",
                });
            }
            let months = months_elapsed(record.start, now, schedule.month_s);
            let steps = months.saturating_sub(u64::from(schedule.locked_months));
            let steps = steps.min(u64::from(schedule.release_months));
            let total = record.total.units().unsigned_abs();
            let vested =
                mul_div(total, u128::from(steps), u128::from(schedule.release_months), Rounding::Down)
                    .ok_or(MintingError::Overflow)?;
            Ok(Amount::from_units(i128::try_from(vested).map_err(|_| MintingError::Overflow)?))
        }
    }
}

/// The amount releasable now: `vested(now) - released` (never negative). Errors as [`vested`], plus
/// `ReleasedExceedsTotal` and `NegativeAmount` for an inconsistent record.
pub fn releasable(rule: &VestingRule, record: &VestingRecord, now: i64) -> Result<Amount<Tft>, MintingError> {
    if record.released.units() < 0 {
        return Err(MintingError::NegativeAmount { what: "released" });
    }
    if record.released > record.total {
        return Err(MintingError::ReleasedExceedsTotal);
    }
    let vested = vested(rule, record, now)?;
    // 0 <= vested <= total and 0 <= released <= total (checked above): the difference fits.
    let due = vested.units().checked_sub(record.released.units()).expect("both in 0..=total");
    Ok(Amount::from_units(due.max(0)))
}

/// A month's time-weighted utilization (spec `decisions.md` §11) in bps: `floor(leased_s × 10,000 /
/// offered_s)` over the month's leased and offered slice-seconds, at most 10,000; 0 when nothing was offered.
/// The record keeps this value per month; since thresholds are whole bps, `utilization_bps(l, o) >= t`
/// exactly when `l × 10,000 >= o × t` ([`meets_utilization`]): flooring never changes the decision.
pub fn utilization_bps(leased_s: u64, offered_s: u64) -> u16 {
    let scaled = u128::from(leased_s).checked_mul(10_000).expect("u64 × 10,000 fits u128");
    let bps = scaled.checked_div(u128::from(offered_s)).unwrap_or(0).min(10_000);
    u16::try_from(bps).expect("at most 10,000")
}

/// `true` when `leased_s / offered_s >= threshold_bps / 10,000`, in exact integers (`leased_s × 10,000 >=
/// offered_s × threshold_bps`); `false` when nothing was offered.
pub fn meets_utilization(leased_s: u64, offered_s: u64, threshold_bps: u16) -> bool {
    let leased = u128::from(leased_s).checked_mul(10_000).expect("u64 × 10,000 fits u128");
    let needed = u128::from(offered_s).checked_mul(u128::from(threshold_bps)).expect("u64 × u16 fits u128");
    offered_s != 0 && leased >= needed
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_700_000_000;
    const M: i64 = PERIOD_S;

    #[test]
    fn stored_bps_decide_exactly_like_the_exact_ratio() {
        let offered = 7 * PERIOD_S as u64;
        // 30 % exactly, one slice-second below, one above; a tiny share; nothing offered.
        let exact = offered * 3 / 10;
        for leased in [exact - 1, exact, exact + 1, 0, 1, offered, 3 * 3600] {
            let bps = utilization_bps(leased, offered);
            for threshold in [0u16, 1, 2_999, 3_000, 3_001, 10_000] {
                assert_eq!(
                    bps >= threshold,
                    meets_utilization(leased, offered, threshold),
                    "{leased} {threshold}"
                );
            }
        }
        assert_eq!(utilization_bps(exact, offered), 3_000);
        assert_eq!(utilization_bps(exact - 1, offered), 2_999);
        // The attack: 3 of 7 slices for about an hour of a period is 5 bps (~0.06 %).
        assert_eq!(utilization_bps(3 * 3600, offered), 5);
        assert_eq!(utilization_bps(5, 0), 0);
        assert!(!meets_utilization(0, 0, 0));
        assert_eq!(utilization_bps(u64::MAX, 1), 10_000);
    }

    fn tft(s: &str) -> Amount<Tft> {
        s.parse().unwrap()
    }

    fn record(total: Amount<Tft>) -> VestingRecord {
        let mut r = VestingRecord::new(START);
        r.deposit(total).unwrap();
        r
    }

    /// Releases what is releasable at `now` into the record; returns it.
    fn release(rule: &VestingRule, r: &mut VestingRecord, now: i64) -> Amount<Tft> {
        let out = releasable(rule, r, now).unwrap();
        r.released = r.released.checked_add(out).unwrap();
        out
    }

    #[test]
    fn seed_releases_after_two_years_exactly() {
        let rule = VestingRule::Seed(SeedLockRule::default());
        let mut r = record(tft("1000"));
        r.utilization_bps = vec![5_000, 5_000, 0, 2_999, 10_000, 10_000]; // never 3 in a row
        assert_eq!(release(&rule, &mut r, START + 24 * M - 1), Amount::ZERO);
        assert_eq!(release(&rule, &mut r, START + 24 * M), tft("1000"));
        assert_eq!(r.locked(), Amount::ZERO);
        // Later rewards are released at once.
        r.deposit(tft("7")).unwrap();
        assert_eq!(release(&rule, &mut r, START + 24 * M + 1), tft("7"));
        assert_eq!(
            seed_unlock(&SeedLockRule::default(), &r, START + 24 * M).unwrap(),
            Some(SeedUnlock::TimeElapsed)
        );
    }

    #[test]
    fn seed_releases_early_after_three_months_at_thirty_percent() {
        let seed = SeedLockRule::default();
        let rule = VestingRule::Seed(seed);
        let mut r = record(tft("500"));
        r.utilization_bps = vec![3_000, 3_500];
        assert_eq!(release(&rule, &mut r, START + 2 * M), Amount::ZERO, "two months are not enough");
        r.utilization_bps.push(2_999);
        assert_eq!(release(&rule, &mut r, START + 3 * M), Amount::ZERO, "the run broke");
        r.utilization_bps.extend([3_000, 9_000]);
        assert_eq!(release(&rule, &mut r, START + 5 * M), Amount::ZERO);
        r.utilization_bps.push(3_000);
        assert_eq!(
            seed_unlock(&seed, &r, START + 6 * M).unwrap(),
            Some(SeedUnlock::Utilization { first_month: 4, last_month: 6 })
        );
        assert_eq!(release(&rule, &mut r, START + 6 * M), tft("500"));
        // Utilization dropping later does not re-lock.
        r.utilization_bps.push(0);
        r.deposit(tft("1")).unwrap();
        assert_eq!(release(&rule, &mut r, START + 7 * M), tft("1"));
    }

    #[test]
    fn release_36m_pays_nothing_for_eleven_months_then_four_percent() {
        let rule = VestingRule::Release36m(Release36mRule::default());
        // REL-1: 287.5 per month for 18 months = 5,175 committed up front.
        let mut r = record(tft("5175"));
        for month in 1..=11 {
            assert_eq!(release(&rule, &mut r, START + month * M), Amount::ZERO, "month {month}");
        }
        for month in 12..=36 {
            assert_eq!(release(&rule, &mut r, START + month * M - 1), Amount::ZERO, "mid month {month}");
            assert_eq!(release(&rule, &mut r, START + month * M), tft("207"), "month {month}");
        }
        assert_eq!(r.released, tft("5175"));
        assert_eq!(release(&rule, &mut r, START + 60 * M), Amount::ZERO);
    }

    #[test]
    fn release_36m_leaves_no_dust_and_carries_the_remainder_forward() {
        let rule = VestingRule::Release36m(Release36mRule::default());
        for total in [1i128, 7, 24, 26, 1_000_000_007, 123_456_789_012_345] {
            let mut r = record(Amount::from_units(total));
            let mut per_month = Vec::new();
            for month in 1..=40 {
                per_month.push(release(&rule, &mut r, START + month * M).units());
            }
            assert_eq!(r.released.units(), total, "total {total}");
            assert!(per_month[..11].iter().all(|&x| x == 0));
            assert!(per_month[36..].iter().all(|&x| x == 0));
            let step = total / 25;
            assert!(per_month[11..36].iter().all(|&x| x == step || x == step + 1), "{per_month:?}");
            let mut cumulative = 0;
            for (j, amount) in (1i128..).zip(&per_month[11..36]) {
                cumulative += amount;
                // Never ahead of the exact share, and less than one unit behind it.
                assert!(cumulative * 25 <= total * j && total * j - cumulative * 25 < 25, "j {j}");
            }
        }
    }

    #[test]
    fn release_36m_later_deposits_follow_the_curve() {
        let rule = VestingRule::Release36m(Release36mRule::default());
        let mut r = record(tft("100"));
        assert_eq!(release(&rule, &mut r, START + 12 * M), tft("4"));
        r.deposit(tft("100")).unwrap();
        assert_eq!(release(&rule, &mut r, START + 12 * M + 1), tft("4"), "catch-up of the new deposit");
        assert_eq!(release(&rule, &mut r, START + 13 * M), tft("8"));
        r.deposit(tft("50")).unwrap();
        assert_eq!(release(&rule, &mut r, START + 40 * M), tft("234"));
        assert_eq!(r.released, tft("250"));
    }

    #[test]
    fn rules_and_records_round_trip_through_postcard() {
        for rule in [VestingRule::Seed(SeedLockRule::default()), VestingRule::Release36m(Default::default())]
        {
            let bytes = postcard::to_allocvec(&rule).unwrap();
            assert_eq!(postcard::from_bytes::<VestingRule>(&bytes).unwrap(), rule);
        }
        let mut r = record(tft("12.5"));
        r.utilization_bps = vec![1, 2, 3];
        let bytes = postcard::to_allocvec(&r).unwrap();
        assert_eq!(postcard::from_bytes::<VestingRecord>(&bytes).unwrap(), r);
    }

    #[test]
    fn inconsistent_records_and_rules_are_refused() {
        let rule = VestingRule::Release36m(Release36mRule::default());
        let mut r = record(tft("1"));
        r.released = tft("2");
        assert_eq!(releasable(&rule, &r, START), Err(MintingError::ReleasedExceedsTotal));
        let bad = VestingRule::Release36m(Release36mRule { release_months: 0, ..Default::default() });
        assert!(matches!(releasable(&bad, &record(tft("1")), START), Err(MintingError::InvalidRule { .. })));
        let mut r = record(tft("1"));
        r.utilization_bps = vec![10_001];
        let seed = VestingRule::Seed(SeedLockRule::default());
        assert_eq!(
            releasable(&seed, &r, START),
            Err(MintingError::UtilizationOutOfRange { month: 0, bps: 10_001 })
        );
        assert_eq!(
            VestingRecord::new(0).deposit(Amount::from_units(-1)),
            Err(MintingError::NegativeAmount { what: "deposit" })
        );
    }
}
