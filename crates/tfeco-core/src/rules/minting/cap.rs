//! The 1,000,000,000 TFT supply cap applied to a minting report (spec `decisions.md` §1, §11): when the
//! report's rewards exceed what may still be minted, they are scaled down pro rata so that the report
//! mints exactly up to the cap, never beyond.
//!
//! Rounding (largest remainder, deterministic): each reward becomes `floor(r × headroom / Σr)`; the units
//! this leaves short (fewer than the number of rewards) go one each to the rewards with the largest
//! remainders `r × headroom mod Σr`, ties by id ascending, then by position in the input. So the scaled
//! rewards sum to the headroom exactly, none exceeds its unscaled value, and none is more than one unit
//! above its exact pro-rata share.

use tfeco_money::{mul_div, Amount, Rounding, Tft};

use super::MintingError;

/// What may still be minted: `max(0, cap - global_supply)`, where the global supply is, per §1,
/// `tft_supply_external + minted here - burned here`.
pub fn mint_headroom(cap: Amount<Tft>, global_supply: Amount<Tft>) -> Amount<Tft> {
    Amount::from_units(cap.units().saturating_sub(global_supply.units()).max(0))
}

/// The result of [`scale_to_cap`]: the rewards (input order) and whether they were scaled down.
pub type ScaledRewards<Id> = (Vec<(Id, Amount<Tft>)>, bool);

/// Scales `rewards` so their sum is at most `headroom` (rules in the module doc). Returns the rewards in the
/// input order and `true` when they were scaled (their sum exceeded the headroom); otherwise the rewards
/// unchanged and `false`.
///
/// Errors: `NegativeAmount` (a negative reward or headroom), `Overflow` (the sum exceeds `i128`).
pub fn scale_to_cap<Id: Ord + Copy>(
    rewards: &[(Id, Amount<Tft>)],
    headroom: Amount<Tft>,
) -> Result<ScaledRewards<Id>, MintingError> {
    if headroom.units() < 0 {
        return Err(MintingError::NegativeAmount { what: "headroom" });
    }
    let mut total: u128 = 0;
    for (_, reward) in rewards {
        let units =
            u128::try_from(reward.units()).map_err(|_| MintingError::NegativeAmount { what: "reward" })?;
        total = total.checked_add(units).ok_or(MintingError::Overflow)?;
    }
    let cap = headroom.units().unsigned_abs();
    if total <= cap {
        return Ok((rewards.to_vec(), false));
    }
    // total > cap >= 0, so total > 0.
    let mut scaled = Vec::with_capacity(rewards.len());
    let mut remainders = Vec::with_capacity(rewards.len());
    let mut given: u128 = 0;
    for (index, (id, reward)) in rewards.iter().enumerate() {
        let units = reward.units().unsigned_abs();
        let floor = mul_div(units, cap, total, Rounding::Down).ok_or(MintingError::Overflow)?;
        // Σ floor(r × cap / total) <= cap × Σr / total = cap.
        given = given.checked_add(floor).expect("the floors add up to at most the headroom");
        scaled.push((*id, floor));
        remainders.push((mul_mod(units, cap, total), *id, index));
    }
    let short = cap.checked_sub(given).expect("the floors add up to at most the headroom");
    let short = usize::try_from(short).map_err(|_| MintingError::Overflow)?;
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for &(_, _, index) in remainders.iter().take(short) {
        // cap < total, so each floor is below its reward (an i128): one unit more still fits.
        scaled[index].1 = scaled[index].1.checked_add(1).expect("a floor below its reward, plus one, fits");
    }
    let out = scaled
        .into_iter()
        .map(|(id, units)| i128::try_from(units).map(|u| (id, Amount::from_units(u))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| MintingError::Overflow)?;
    Ok((out, true))
}

/// `a × b mod m` without overflow for any `m > 0`: a fast path, else double-and-add.
///
/// # Panics
/// When `m == 0` (the caller passes the positive total of the rewards).
fn mul_mod(a: u128, b: u128, m: u128) -> u128 {
    let modulo = |value: u128| value.checked_rem(m).expect("the modulus is positive");
    if let Some(product) = a.checked_mul(b) {
        return modulo(product);
    }
    let a = modulo(a);
    let mut result: u128 = 0;
    for bit in (0..128).rev() {
        result = add_mod(result, result, m);
        if (b >> bit) & 1 == 1 {
            result = add_mod(result, a, m);
        }
    }
    result
}

/// `(x + y) mod m` for `x, y < m`, without overflow.
fn add_mod(x: u128, y: u128, m: u128) -> u128 {
    let gap = m.checked_sub(y).expect("y < m");
    match x.checked_sub(gap) {
        // x >= m - y: the sum wraps once.
        Some(wrapped) => wrapped,
        // x < m - y: the sum stays below m.
        None => x.checked_add(y).expect("x + y < m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tft(s: &str) -> Amount<Tft> {
        s.parse().unwrap()
    }

    #[test]
    fn a_report_crossing_one_billion_is_scaled_exactly_to_the_cap() {
        let cap = tft("1000000000");
        let external = tft("780000000");
        let minted_before = tft("219999000");
        let supply = external.checked_add(minted_before).unwrap();
        let headroom = mint_headroom(cap, supply);
        assert_eq!(headroom, tft("1000"));
        let report = [(7u32, tft("600")), (3, tft("900")), (11, tft("500.0000001"))];
        let (scaled, was_scaled) = scale_to_cap(&report, headroom).unwrap();
        assert!(was_scaled);
        let minted: i128 = scaled.iter().map(|(_, a)| a.units()).sum();
        assert_eq!(minted, headroom.units());
        assert_eq!(supply.units() + minted, cap.units(), "exactly the cap, not one unit more");
        assert_eq!(scaled.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![7, 3, 11], "input order");
        for ((_, before), (_, after)) in report.iter().zip(&scaled) {
            assert!(after <= before);
        }
        // Floors 299.9999999 (remainder .85 unit), 449.9999999 (.775), 250 (.375): two units short, given
        // to the two largest remainders.
        assert_eq!(scaled[0].1, tft("300"));
        assert_eq!(scaled[1].1, tft("450"));
        assert_eq!(scaled[2].1, tft("250"));
        // After the cap, nothing more is minted.
        assert_eq!(mint_headroom(cap, cap), Amount::ZERO);
        let (none, scaled_again) = scale_to_cap(&report, Amount::ZERO).unwrap();
        assert!(scaled_again && none.iter().all(|(_, a)| a.is_zero()));
    }

    #[test]
    fn under_the_cap_nothing_changes() {
        let report = [(1u32, tft("5")), (2, tft("5"))];
        assert_eq!(scale_to_cap(&report, tft("10")).unwrap(), (report.to_vec(), false));
        assert_eq!(scale_to_cap::<u32>(&[], tft("0")).unwrap(), (vec![], false));
    }

    #[test]
    fn ties_go_to_the_lower_id() {
        let one = Amount::from_units(1);
        let report = [(3u32, one), (1, one), (2, one)];
        let (scaled, _) = scale_to_cap(&report, Amount::from_units(2)).unwrap();
        assert_eq!(scaled, vec![(3, Amount::ZERO), (1, one), (2, one)]);
    }

    #[test]
    fn errors_are_typed() {
        let report = [(1u32, Amount::from_units(-1))];
        assert_eq!(scale_to_cap(&report, tft("1")), Err(MintingError::NegativeAmount { what: "reward" }));
        let report = [(1u32, tft("1"))];
        assert_eq!(
            scale_to_cap(&report, Amount::from_units(-1)),
            Err(MintingError::NegativeAmount { what: "headroom" })
        );
        let huge = [(1u32, Amount::from_units(i128::MAX)), (2, Amount::from_units(i128::MAX))];
        let (scaled, _) = scale_to_cap(&huge, Amount::from_units(i128::MAX)).unwrap();
        assert_eq!(scaled[0].1.units(), 1 << 126, "tie: the lower id gets the unit");
        assert_eq!(scaled[1].1.units(), (1 << 126) - 1);
    }

    #[test]
    fn mul_mod_is_exact_beyond_u128_products() {
        assert_eq!(mul_mod(7, 9, 5), 63 % 5);
        let m = 1_000_000_007u128;
        for (a, b) in [(1u128 << 100, 1u128 << 100), (u128::MAX, u128::MAX - 5), (3 << 120, 12_345 << 100)] {
            assert_eq!(mul_mod(a, b, m), (a % m) * (b % m) % m);
        }
        // 2^128 ≡ 1 mod 2^128 - 1, so 2^127 · 2^127 = 2^254 ≡ 2^126.
        assert_eq!(mul_mod(1 << 127, 1 << 127, u128::MAX), 1 << 126);
        assert_eq!(mul_mod(u128::MAX - 1, u128::MAX - 1, u128::MAX), 1);
    }

    proptest::proptest! {
        #[test]
        fn sums_to_the_headroom_and_never_exceeds_a_reward(
            units in proptest::collection::vec(0i128..1_000_000_000_000_000, 0..40),
            headroom in 0i128..10_000_000_000_000_000,
        ) {
            let report: Vec<(usize, Amount<Tft>)> =
                units.iter().enumerate().map(|(i, u)| (i, Amount::from_units(*u))).collect();
            let total: i128 = units.iter().sum();
            let (scaled, was_scaled) = scale_to_cap(&report, Amount::from_units(headroom)).unwrap();
            let sum: i128 = scaled.iter().map(|(_, a)| a.units()).sum();
            proptest::prop_assert_eq!(sum, total.min(headroom));
            proptest::prop_assert_eq!(was_scaled, total > headroom);
            for ((_, before), (_, after)) in report.iter().zip(&scaled) {
                proptest::prop_assert!(after <= before);
                if was_scaled {
                    let floor = before.units() * headroom / total;
                    proptest::prop_assert!(after.units() == floor || after.units() == floor + 1);
                }
            }
        }
    }
}
