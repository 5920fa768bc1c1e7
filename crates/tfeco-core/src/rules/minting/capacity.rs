//! The `capacity` reward rule set (spec `decisions.md` §11; rates from `minting_and_governance.md` §3.1,
//! the TFGrid v4 "capacity rewards"): a fixed reward per GB of memory, per TB of SSD, HDD and network per
//! month.
//!
//! Units and readings (where the spec is silent):
//! - Rates are amounts of the reward token per unit per month. The source states them in INCA; here they
//!   are minted as TFT at **1 INCA = 1 TFT** (change the rates to change that). Defaults: 8.0 per GB memory,
//!   31.5 per TB SSD, 7.0 per TB HDD, 30.0 per TB network; GPU is "TBD" in the source, so it has no default
//!   rate (GPU memory earns nothing until a rate is set).
//! - Sizes are decimal: 1 TB = 1,000 GB; inputs are whole GB.
//! - "TB network" is read as TB of public traffic served in the month (the source does not define how it
//!   is measured).
//! - One minting period counts as one month. The period's reward follows the v3 uptime rules: zero below
//!   [`CapacityRules::min_uptime_permill`] (default 950, the v3 DIY threshold) or with a violation,
//!   otherwise linear in uptime. Rounding: down, once, at the end.
//!
//! Vector INCA-1: 32 GB memory + 1 TB SSD → 256 + 31.5 = 287.5 per month.

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Tft};

use super::MintingError;

/// GB per TB (decimal).
const GB_PER_TB: i128 = 1_000;

/// Reward rates per month (reward token base units; INCA read as TFT 1:1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapacityRates {
    /// Per GB of memory per month (default 8.0).
    pub per_gb_memory: Amount<Tft>,
    /// Per TB of SSD per month (default 31.5).
    pub per_tb_ssd: Amount<Tft>,
    /// Per TB of HDD per month (default 7.0).
    pub per_tb_hdd: Amount<Tft>,
    /// Per TB of public network traffic in the month (default 30.0).
    pub per_tb_network: Amount<Tft>,
    /// Per GB of GPU memory per month; `None` while the source says "TBD" (default).
    pub per_gb_gpu: Option<Amount<Tft>>,
}

impl Default for CapacityRates {
    fn default() -> Self {
        // Tenths of a TFT are 10^6 base units (7 decimals).
        let tenths = |t: i128| Amount::from_units(t.checked_mul(1_000_000).expect("a default rate fits"));
        Self {
            per_gb_memory: tenths(80),
            per_tb_ssd: tenths(315),
            per_tb_hdd: tenths(70),
            per_tb_network: tenths(300),
            per_gb_gpu: None,
        }
    }
}

/// A node's rewarded resources for one month, in whole decimal GB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityResources {
    /// Memory, GB.
    pub memory_gb: u64,
    /// SSD, GB.
    pub ssd_gb: u64,
    /// HDD, GB.
    pub hdd_gb: u64,
    /// Public network traffic in the month, GB.
    pub network_gb: u64,
    /// GPU memory, GB.
    pub gpu_gb: u64,
}

/// Parameters of the `capacity` rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapacityRules {
    /// The rates.
    pub rates: CapacityRates,
    /// Below this uptime (permill) the period pays nothing (default 950).
    pub min_uptime_permill: u32,
}

impl Default for CapacityRules {
    fn default() -> Self {
        Self { rates: CapacityRates::default(), min_uptime_permill: 950 }
    }
}

/// The monthly reward at full uptime: `Σ GB × rate_per_GB + Σ GB × rate_per_TB / 1000`, one division,
/// rounded down. Errors: `NegativeAmount` (a negative rate), `Overflow` (beyond `i128`).
pub fn capacity_monthly_reward(
    resources: &CapacityResources,
    rates: &CapacityRates,
) -> Result<Amount<Tft>, MintingError> {
    let check = |rate: Amount<Tft>, what| {
        if rate.units() < 0 {
            Err(MintingError::NegativeAmount { what })
        } else {
            Ok(rate.units())
        }
    };
    let gpu_rate = rates.per_gb_gpu.map_or(Ok(0), |r| check(r, "per_gb_gpu"))?;
    // (GB, rate in base units per 1,000 GB)
    let terms = [
        (resources.memory_gb, check(rates.per_gb_memory, "per_gb_memory")?.checked_mul(GB_PER_TB)),
        (resources.ssd_gb, Some(check(rates.per_tb_ssd, "per_tb_ssd")?)),
        (resources.hdd_gb, Some(check(rates.per_tb_hdd, "per_tb_hdd")?)),
        (resources.network_gb, Some(check(rates.per_tb_network, "per_tb_network")?)),
        (resources.gpu_gb, gpu_rate.checked_mul(GB_PER_TB)),
    ];
    let mut numerator: i128 = 0;
    for (gb, rate_per_tb) in terms {
        let term = rate_per_tb.and_then(|r| r.checked_mul(i128::from(gb))).ok_or(MintingError::Overflow)?;
        numerator = numerator.checked_add(term).ok_or(MintingError::Overflow)?;
    }
    Ok(Amount::from_units(numerator / GB_PER_TB))
}

/// The reward of one node for one period (one month) under the `capacity` rule set: zero with a violation
/// or below [`CapacityRules::min_uptime_permill`], otherwise `monthly × uptime‰ / 1000` (down).
/// Uptime above 1000 counts as 1000. Errors as [`capacity_monthly_reward`].
pub fn capacity_reward(
    resources: &CapacityResources,
    rules: &CapacityRules,
    uptime_permill: u32,
    violation: bool,
) -> Result<Amount<Tft>, MintingError> {
    let monthly = capacity_monthly_reward(resources, &rules.rates)?;
    let uptime = uptime_permill.min(1_000);
    if violation || uptime < rules.min_uptime_permill {
        return Ok(Amount::ZERO);
    }
    let scaled = monthly.units().checked_mul(i128::from(uptime)).ok_or(MintingError::Overflow)? / 1_000;
    Ok(Amount::from_units(scaled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inca_vectors() {
        let rates = CapacityRates::default();
        let inca1 = CapacityResources { memory_gb: 32, ssd_gb: 1_000, ..Default::default() };
        let monthly = capacity_monthly_reward(&inca1, &rates).unwrap();
        assert_eq!(monthly, "287.5".parse().unwrap());
        assert_eq!(monthly.units() * 18, "5175".parse::<Amount<Tft>>().unwrap().units());
        let inca2 = CapacityResources { memory_gb: 128, ssd_gb: 4_000, ..Default::default() };
        assert_eq!(capacity_monthly_reward(&inca2, &rates).unwrap(), "1150".parse().unwrap());
    }

    #[test]
    fn hdd_network_gpu_and_rounding() {
        let mut rates = CapacityRates::default();
        let node = CapacityResources { hdd_gb: 1, network_gb: 2_500, gpu_gb: 24, ..Default::default() };
        // 7.0 / 1000 + 30 × 2.5 = 0.007 + 75; GPU has no rate.
        assert_eq!(capacity_monthly_reward(&node, &rates).unwrap(), "75.007".parse().unwrap());
        rates.per_gb_gpu = Some("31.5".parse().unwrap());
        assert_eq!(capacity_monthly_reward(&node, &rates).unwrap(), "831.007".parse().unwrap());
        rates.per_tb_hdd = Amount::from_units(1);
        let one_gb = CapacityResources { hdd_gb: 999, ..Default::default() };
        assert_eq!(capacity_monthly_reward(&one_gb, &rates).unwrap(), Amount::ZERO, "down");
    }

    #[test]
    fn uptime_and_violation() {
        let rules = CapacityRules::default();
        let inca1 = CapacityResources { memory_gb: 32, ssd_gb: 1_000, ..Default::default() };
        assert_eq!(capacity_reward(&inca1, &rules, 1000, false).unwrap(), "287.5".parse().unwrap());
        assert_eq!(capacity_reward(&inca1, &rules, 960, false).unwrap(), "276".parse().unwrap());
        assert_eq!(capacity_reward(&inca1, &rules, 949, false).unwrap(), Amount::ZERO);
        assert_eq!(capacity_reward(&inca1, &rules, 1000, true).unwrap(), Amount::ZERO);
    }

    #[test]
    fn errors() {
        let mut rates = CapacityRates { per_tb_ssd: Amount::from_units(-1), ..Default::default() };
        let node = CapacityResources { ssd_gb: 1, ..Default::default() };
        assert_eq!(
            capacity_monthly_reward(&node, &rates),
            Err(MintingError::NegativeAmount { what: "per_tb_ssd" })
        );
        rates.per_tb_ssd = Amount::from_units(i128::MAX / 2);
        let big = CapacityResources { ssd_gb: u64::MAX, ..Default::default() };
        assert_eq!(capacity_monthly_reward(&big, &rates), Err(MintingError::Overflow));
    }
}
