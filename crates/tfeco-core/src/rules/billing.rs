//! Pricing and splitting a capacity payment (spec `decisions.md` §7, §9): the versioned revenue split,
//! the hourly charge with its short-rental premium, the charge of one lease period, the band of a custom
//! node, and the minimum node specs. Pure functions over explicit numbers (taken from `Params` by the
//! caller); every rounding is named and goes against the payer's favour only where the spec says so
//! (charges up, shares down, spec §15).

use std::fmt;

use serde::{Deserialize, Serialize};
use tfeco_money::{mul_div, Amount, Bps, Cc, Rounding};

use crate::catalogue::Resources;
use crate::types::Billing;

/// Who receives a share of a capacity payment (spec `decisions.md` §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SplitRecipient {
    /// The node's farmer (credited as revenue CC). Also receives the rounding remainder.
    Farmer,
    /// Burned: the CC is burned, and TFT with it (§7).
    Burn,
    /// ThreeFold's treasury account.
    Treasury,
}

/// A versioned revenue split: ordered `(recipient, basis points)` summing to 10,000, with exactly one
/// `Farmer` entry (the rounding sink). Each share is rounded down; the remainder goes to the farmer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevenueSplit {
    /// Version number, recorded on every charge.
    pub version: u32,
    /// The shares, in order.
    pub shares: Vec<(SplitRecipient, Bps)>,
}

impl RevenueSplit {
    /// The October 2025 split: farmer 8,000 / burn 1,000 / treasury 1,000 bps.
    pub fn tfgrid4_2025() -> Self {
        let bps = |v| Bps::new(v).expect("constant below 10,000");
        RevenueSplit {
            version: 1,
            shares: vec![
                (SplitRecipient::Farmer, bps(8_000)),
                (SplitRecipient::Burn, bps(1_000)),
                (SplitRecipient::Treasury, bps(1_000)),
            ],
        }
    }

    /// `true` when the shares sum to 10,000 bps and there is exactly one farmer entry.
    pub fn is_valid(&self) -> bool {
        // Checked: a split long enough to overflow the sum is invalid (a wrapped sum could look like 10,000).
        let total = self.shares.iter().try_fold(0u32, |sum, (_, b)| sum.checked_add(u32::from(b.get())));
        let farmers = self.shares.iter().filter(|(r, _)| *r == SplitRecipient::Farmer).count();
        total == Some(10_000) && farmers == 1
    }

    /// The farmer's nominal share in basis points (0 when the split has none).
    pub fn farmer_bps(&self) -> Bps {
        self.shares.iter().find(|(r, _)| *r == SplitRecipient::Farmer).map_or(Bps::ZERO, |(_, b)| *b)
    }
}

/// The three parts of one payment, in CC base units; they sum to the charge exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitShares {
    /// The farmer's share, including the rounding remainder.
    pub farmer: i128,
    /// Burned (spec §7).
    pub burn: i128,
    /// To the treasury.
    pub treasury: i128,
}

/// Splits `charge` (CC base units, >= 0) by the revenue split: each share rounded down, the remainder to the
/// farmer (spec `decisions.md` §7, vector RS-1: 100 CC -> 80 / 10 / 10).
pub fn split_charge(charge: i128, split: &RevenueSplit) -> SplitShares {
    let (mut burn, mut treasury) = (0i128, 0i128);
    for (recipient, bps) in &split.shares {
        // A share is at most the charge and the shares of a valid split sum to at most the charge.
        let share = bps.share_of(charge, Rounding::Down);
        match recipient {
            SplitRecipient::Farmer => {}
            SplitRecipient::Burn => burn = burn.saturating_add(share),
            SplitRecipient::Treasury => treasury = treasury.saturating_add(share),
        }
    }
    let farmer = charge.saturating_sub(burn).saturating_sub(treasury);
    SplitShares { farmer, burn, treasury }
}

/// How hourly prices derive from monthly ones (spec `decisions.md` §9): `hourly = month / hours_per_month *
/// premium`, the premium linear from `premium_at_min_bps` at the band minimum to `premium_at_max_bps` at its
/// maximum (20,000 and 15,000 bps: hour_min = min/360, hour_max = max/480).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeasePricing {
    /// Premium at the band minimum, bps of `month / hours_per_month` (20,000 = 2.0).
    pub premium_at_min_bps: u32,
    /// Premium at the band maximum (15,000 = 1.5).
    pub premium_at_max_bps: u32,
    /// Hours in a billing month (720).
    pub hours_per_month: u32,
}

/// Price of one hour of `n_slices` slices, rounded up once (charges up, spec §15); `None` on overflow or a
/// negative input. The premium is kept as an exact fraction over the band width.
pub fn hourly_charge(
    price: Amount<Cc>,
    band_min: Amount<Cc>,
    band_max: Amount<Cc>,
    n_slices: u32,
    pricing: &LeasePricing,
) -> Option<Amount<Cc>> {
    let p = u128::try_from(price.units()).ok()?;
    let lo = u128::try_from(band_min.units()).ok()?;
    let hi = u128::try_from(band_max.units()).ok()?;
    let at_min = u128::from(pricing.premium_at_min_bps);
    let at_max = u128::from(pricing.premium_at_max_bps);
    // premium_bps = at_min - (at_min - at_max) * (p - lo) / (hi - lo), kept as a fraction over (hi - lo).
    let (premium_num, premium_den) = if hi == lo {
        (at_min, 1)
    } else {
        let width = hi.checked_sub(lo)?;
        let drop = at_min.checked_sub(at_max)?.checked_mul(p.checked_sub(lo)?)?;
        (at_min.checked_mul(width)?.checked_sub(drop)?, width)
    };
    let slices_price = p.checked_mul(u128::from(n_slices))?;
    let denominator = u128::from(pricing.hours_per_month).checked_mul(10_000)?.checked_mul(premium_den)?;
    let units = mul_div(slices_price, premium_num, denominator, Rounding::Up)?;
    i128::try_from(units).ok().map(Amount::from_units)
}

/// Charge of one period of a lease of `n_slices` at `price` per slice-month: monthly, `price * n`; hourly,
/// [`hourly_charge`] inside the node's band. `None` on overflow.
pub fn period_charge(
    price: Amount<Cc>,
    band: (Amount<Cc>, Amount<Cc>),
    n_slices: u32,
    billing: Billing,
    pricing: &LeasePricing,
) -> Option<Amount<Cc>> {
    match billing {
        Billing::Monthly => price.units().checked_mul(i128::from(n_slices)).map(Amount::from_units),
        Billing::Hourly => hourly_charge(price, band.0, band.1, n_slices, pricing),
    }
}

/// The band of custom hardware (spec `decisions.md` §9 via `docs/decisions.md`): per GB of slice memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomBand {
    /// Band minimum, CC per GB of slice memory per month (0.3).
    pub min_cc_per_gb: Amount<Cc>,
    /// Band maximum, CC per GB of slice memory per month (3).
    pub max_cc_per_gb: Amount<Cc>,
    /// A slice is priced as if it had at least this much memory (4 GB).
    pub floor_mem_gb: u32,
}

/// Band of a custom node: `max(floor_mem, mem / slices)` GB × the per-GB band, minimum rounded up and maximum
/// rounded down so the band stays inside the exact one. `None` for zero slices or on overflow.
pub fn custom_band(
    resources: &Resources,
    slices: u32,
    band: &CustomBand,
) -> Option<(Amount<Cc>, Amount<Cc>)> {
    let floor = u128::from(band.floor_mem_gb).checked_mul(u128::from(slices))?;
    let mem = u128::from(resources.mem_gb).max(floor);
    let per_gb_min = u128::try_from(band.min_cc_per_gb.units()).ok()?;
    let per_gb_max = u128::try_from(band.max_cc_per_gb.units()).ok()?;
    let min = mul_div(mem, per_gb_min, u128::from(slices), Rounding::Up)?;
    let max = mul_div(mem, per_gb_max, u128::from(slices), Rounding::Down)?;
    Some((Amount::from_units(i128::try_from(min).ok()?), Amount::from_units(i128::try_from(max).ok()?)))
}

/// The minimum node specs (spec `decisions.md` §9): passmark / mem_gb >= 200, mem >= 16 GB, SSD >= 1 TB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinSpec {
    /// Passmark per GB of memory.
    pub passmark_per_gb: u32,
    /// Memory, GB.
    pub mem_gb: u32,
    /// SSD, GB.
    pub ssd_gb: u32,
}

/// Which minimum spec a node misses, with what it has and what is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MinSpecShortfall {
    /// Too little memory.
    Memory {
        /// GB the node has.
        have: u32,
        /// GB needed.
        min: u32,
    },
    /// Too little SSD.
    Ssd {
        /// GB the node has.
        have: u32,
        /// GB needed.
        min: u32,
    },
    /// Too little passmark per GB of memory.
    PassmarkPerGb {
        /// Passmark per GB the node has (rounded down).
        have: u32,
        /// Passmark per GB needed.
        min: u32,
    },
}

impl fmt::Display for MinSpecShortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinSpecShortfall::Memory { have, min } => write!(f, "memory {have} GB < {min} GB"),
            MinSpecShortfall::Ssd { have, min } => write!(f, "SSD {have} GB < {min} GB"),
            MinSpecShortfall::PassmarkPerGb { have, min } => write!(f, "passmark per GB {have} < {min}"),
        }
    }
}

/// Checks the minimum specs in order: memory, SSD, passmark per GB (exact: `passmark >= min * mem_gb`).
pub fn check_min_spec(resources: &Resources, spec: &MinSpec) -> Result<(), MinSpecShortfall> {
    if resources.mem_gb < spec.mem_gb {
        return Err(MinSpecShortfall::Memory { have: resources.mem_gb, min: spec.mem_gb });
    }
    if resources.ssd_gb < spec.ssd_gb {
        return Err(MinSpecShortfall::Ssd { have: resources.ssd_gb, min: spec.ssd_gb });
    }
    let needed = u64::from(spec.passmark_per_gb).saturating_mul(u64::from(resources.mem_gb));
    if u64::from(resources.passmark) < needed {
        let have = resources.passmark.checked_div(resources.mem_gb.max(1)).unwrap_or(0);
        return Err(MinSpecShortfall::PassmarkPerGb { have, min: spec.passmark_per_gb });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs1_split_of_100_cc_is_80_10_10() {
        let split = RevenueSplit::tfgrid4_2025();
        let shares = split_charge(1_000_000_000, &split);
        assert_eq!((shares.farmer, shares.burn, shares.treasury), (800_000_000, 100_000_000, 100_000_000));
    }

    #[test]
    fn a_split_whose_sum_overflows_is_invalid() {
        // 429,497 × 10,000 + 7,296 = 2^32 + 10,000: a wrapping u32 sum would read exactly 10,000.
        let full = Bps::new(10_000).unwrap();
        let mut shares = vec![(SplitRecipient::Burn, full); 429_497];
        shares[0].0 = SplitRecipient::Farmer;
        shares.push((SplitRecipient::Treasury, Bps::new(7_296).unwrap()));
        assert!(!RevenueSplit { version: 2, shares }.is_valid());
        assert!(RevenueSplit::tfgrid4_2025().is_valid());
    }

    #[test]
    fn remainder_goes_to_the_farmer() {
        let split = RevenueSplit::tfgrid4_2025();
        let shares = split_charge(7, &split);
        assert_eq!((shares.farmer, shares.burn, shares.treasury), (7, 0, 0));
        let shares = split_charge(19, &split);
        assert_eq!((shares.farmer, shares.burn, shares.treasury), (17, 1, 1));
    }
}
