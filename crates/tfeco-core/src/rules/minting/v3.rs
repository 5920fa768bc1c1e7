//! The v3 reward rule set, exactly as the v3 minting code computes it (spec `minting_and_governance.md`
//! §2.2-2.4, `decisions.md` §11). Reproduces vectors M1-M9 of §2.7 in base units.
//!
//! Integer arithmetic, in this order (the order matters for the last digit):
//! 1. Cloud units in permill, from bytes (1 GiB = 2^30 bytes), dividing by 2^30 **last**:
//!    `cu = min(cru·2·GiB·10^6, (mru − GiB)·10^6 / 4, sru·10^6 / 50) / GiB`,
//!    `su = (hru·10^6 / 1200 + sru·10^6 / 250) / GiB`, `nu = nru·10^6 / GiB` (nru: public traffic bytes).
//! 2. `base_mUSD = (cu·policy.cu + su·policy.su + nu·policy.nu) / 10^6 + ipv4_seconds·policy.ipv4 / 3600`.
//! 3. Certified node on a bonus policy (policy 1): `base_mUSD · 5 / 4`.
//! 4. Virtualized node or any violation in the period: 0.
//! 5. `full_TFT_units = full_mUSD · 10^7 / connection_price_mUSD` (from the **unscaled** mUSD).
//! 6. Uptime: linear policies pay `full · uptime‰ / 1000` (mUSD and TFT units scaled separately, each
//!    floored), or 0 below the threshold (950‰ DIY, 980‰ certified). Threshold policies pay all or nothing.
//!
//! M4 shows why step 5 precedes step 6: `28,250 mUSD → 3,531,250,000 units`, then `× 985 / 1000` gives
//! `27,826 mUSD` and `3,478,281,250 units` (converting the scaled 27,826 mUSD would give 3,478,250,000).

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Ratio, Rounding, Tft, UNITS_PER_TOKEN};

use super::period::PERIOD_S;
use super::MintingError;

/// Bytes in one GiB (base 1024, confirmed by the "minting code v3.2" GEP).
pub const GIB: u64 = 1 << 30;
/// Permill scale of cloud units: 1 CU = 1,000,000.
const ONE_MILL: u128 = 1_000_000;
/// Seconds per hour (the IPv4 reward is per hour, usage is in seconds).
const HOUR_S: u128 = 3_600;
/// [`GIB`] as a `u128` divisor.
const GIB_U128: u128 = GIB as u128;

/// `a × b` for the v3 intermediates, which are bounded by their types: a `u32`/`u64` input times a
/// constant or a `u32` rate stays below 2^97 (see [`NodeResources`]), far inside `u128`.
fn product(a: u128, b: u128) -> u128 {
    a.checked_mul(b).expect("a u64 input times a u32 rate or a constant below 2^52 fits u128")
}

/// A node's capacity as registered: cores, and memory / SSD / HDD in bytes.
///
/// Bounds: `cru` is `u32` and bytes are `u64`, so every intermediate of [`v3_reward`] fits in `u128`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeResources {
    /// Logical CPU cores.
    pub cru: u32,
    /// Memory, bytes.
    pub mru_bytes: u64,
    /// SSD, bytes.
    pub sru_bytes: u64,
    /// HDD, bytes.
    pub hru_bytes: u64,
}

impl NodeResources {
    /// Resources given in bytes.
    pub const fn from_bytes(cru: u32, mru_bytes: u64, sru_bytes: u64, hru_bytes: u64) -> Self {
        Self { cru, mru_bytes, sru_bytes, hru_bytes }
    }

    /// Resources given in whole GiB (× 2^30 bytes). `Err(Overflow)` above 2^34 GiB (16 EiB).
    pub fn from_gib(cru: u32, mru_gib: u64, sru_gib: u64, hru_gib: u64) -> Result<Self, MintingError> {
        let bytes = |gib: u64| gib.checked_mul(GIB).ok_or(MintingError::Overflow);
        Ok(Self { cru, mru_bytes: bytes(mru_gib)?, sru_bytes: bytes(sru_gib)?, hru_bytes: bytes(hru_gib)? })
    }
}

/// Cloud units in permill (1 CU = 1,000,000), as the v3 code computes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudUnits {
    /// Compute units × 10^6.
    pub cu_permill: u64,
    /// Storage units × 10^6.
    pub su_permill: u64,
    /// Network units (GiB of public traffic) × 10^6.
    pub nu_permill: u64,
}

/// Cloud units of a node (step 1 of the module doc). `nru_bytes` is the public traffic of the period.
///
/// Memory below 1 GiB gives `CU = 0` (the v3 code would underflow; here the subtraction saturates).
/// Never fails: with `cru: u32` and byte counts in `u64`, every value fits (CU ≤ 2·cru·10^6 < 2^64).
pub fn cloud_units_permill(resources: &NodeResources, nru_bytes: u64) -> CloudUnits {
    let gib = GIB_U128;
    let cru = u128::from(resources.cru);
    let mru = u128::from(resources.mru_bytes);
    let sru = u128::from(resources.sru_bytes);
    let hru = u128::from(resources.hru_bytes);
    // MIN before the division by GiB, so no rounding happens before the MIN (as the v3 code does).
    // Bounds: cru·2·GiB·10^6 < 2^83; (mru, sru, hru, nru)·10^6 < 2^84, so su < 2^85.
    let cu = product(product(product(cru, 2), gib), ONE_MILL)
        .min(product(mru.saturating_sub(gib), ONE_MILL) / 4)
        .min(product(sru, ONE_MILL) / 50);
    let su = (product(hru, ONE_MILL) / 1_200)
        .checked_add(product(sru, ONE_MILL) / 250)
        .expect("two terms below 2^84 add up below 2^85");
    let nu = product(u128::from(nru_bytes), ONE_MILL);
    let narrow = |v: u128| u64::try_from(v / GIB_U128).unwrap_or(u64::MAX);
    CloudUnits { cu_permill: narrow(cu), su_permill: narrow(su), nu_permill: narrow(nu) }
}

/// `min(1000, credited_s · 1000 / period_s)`, floored (spec §2.4). `period_s <= 0` gives 0.
pub fn uptime_permill(credited_s: u64, period_s: i64) -> u32 {
    let Ok(period) = u64::try_from(period_s) else { return 0 };
    if period == 0 {
        return 0;
    }
    let permill = product(u128::from(credited_s), 1_000)
        .checked_div(u128::from(period))
        .expect("the period is not zero (checked above)");
    u32::try_from(permill.min(1_000)).unwrap_or(1_000)
}

/// Node certification (tfchain `NodeCertification`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Certification {
    /// Do-it-yourself node: paid from 950‰ uptime.
    Diy,
    /// Certified hardware: paid from 980‰ uptime; +25 % on a bonus policy (policy 1).
    Certified,
}

/// How a farming policy turns uptime into payout (spec §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UptimeScaling {
    /// Policies 1 and 2: zero below the certification's threshold ([`V3Rules::diy_min_uptime_permill`],
    /// [`V3Rules::certified_min_uptime_permill`]), otherwise `full × uptime‰ / 1000`.
    Linear,
    /// Other policies: zero below `minimal_uptime_pct` (compared as percentages, i.e. `uptime‰ <
    /// pct × 10`; the v3 code compared permill with a percentage, a bug not reproduced), otherwise full.
    Threshold,
}

/// A farming policy: rewards per unit per period, in mUSD (1 USD = 1,000). Data, not code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FarmingPolicy {
    /// tfchain policy id (1 = DIY, 2 = Certified at genesis).
    pub id: u32,
    /// Display name.
    pub name: String,
    /// mUSD per CU per period.
    pub cu_musd: u32,
    /// mUSD per SU per period.
    pub su_musd: u32,
    /// mUSD per NU (GiB of public traffic).
    pub nu_musd: u32,
    /// mUSD per hour of one public IPv4 in use.
    pub ipv4_musd_per_hour: u32,
    /// Minimal uptime in percent (used by [`UptimeScaling::Threshold`]; 95 for both genesis policies).
    pub minimal_uptime_pct: u32,
    /// How uptime scales the payout.
    pub scaling: UptimeScaling,
}

impl FarmingPolicy {
    /// Genesis policy 1, DIY: 2400 / 1000 / 30 / 5 mUSD (CU / SU / NU / IPv4-hour), minimal uptime 95 %.
    pub fn diy() -> Self {
        Self {
            id: 1,
            name: "DIY".to_owned(),
            cu_musd: 2_400,
            su_musd: 1_000,
            nu_musd: 30,
            ipv4_musd_per_hour: 5,
            minimal_uptime_pct: 95,
            scaling: UptimeScaling::Linear,
        }
    }

    /// Genesis policy 2, Certified: 3000 / 1250 / 38 / 6 mUSD, minimal uptime 95 %.
    pub fn certified() -> Self {
        Self {
            id: 2,
            name: "Certified".to_owned(),
            cu_musd: 3_000,
            su_musd: 1_250,
            nu_musd: 38,
            ipv4_musd_per_hour: 6,
            minimal_uptime_pct: 95,
            scaling: UptimeScaling::Linear,
        }
    }
}

/// Parameters of the `v3` rule set. [`V3Rules::default`] is the tfchain genesis / March 2024 GEP set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct V3Rules {
    /// Farming policies by id.
    pub policies: Vec<FarmingPolicy>,
    /// Linear policies: a DIY node below this uptime gets 0 (950‰).
    pub diy_min_uptime_permill: u32,
    /// Linear policies: a certified node below this uptime gets 0 (980‰).
    pub certified_min_uptime_permill: u32,
    /// Policies on which a certified node gets [`V3Rules::certified_bonus`] (`[1]`: Titans on policy 1).
    pub certified_bonus_policy_ids: Vec<u32>,
    /// The certified bonus factor (5/4 = +25 %), applied with rounding down.
    pub certified_bonus: Ratio,
    /// TFT price in mUSD used to convert the payout (80 = $0.08; the v3 receipts hardcode 80).
    pub connection_price_musd: u32,
    /// Period length the credited uptime is divided by ([`PERIOD_S`]).
    pub period_s: i64,
}

impl Default for V3Rules {
    fn default() -> Self {
        Self {
            policies: vec![FarmingPolicy::diy(), FarmingPolicy::certified()],
            diy_min_uptime_permill: 950,
            certified_min_uptime_permill: 980,
            certified_bonus_policy_ids: vec![1],
            certified_bonus: Ratio::new(5, 4).expect("constant non-zero denominator"),
            connection_price_musd: 80,
            period_s: PERIOD_S,
        }
    }
}

impl V3Rules {
    /// The policy with this id.
    pub fn policy(&self, id: u32) -> Option<&FarmingPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }
}

/// What the v3 rule set needs to know about one node for one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct V3NodeInput {
    /// Registered capacity.
    pub resources: NodeResources,
    /// Public traffic in the period, bytes (NU).
    pub nru_bytes: u64,
    /// Seconds of public IPv4 use in the period, summed over addresses (720 h of one IP = 2,592,000).
    pub ipv4_seconds: u64,
    /// DIY or certified.
    pub certification: Certification,
    /// Farming policy id (looked up in [`V3Rules::policies`]).
    pub farming_policy_id: u32,
    /// Uptime of the period in permill (see [`uptime_permill`]); values above 1000 count as 1000.
    pub uptime_permill: u32,
    /// A report violation was detected in the period ([`super::uptime::Violation`]).
    pub violation: bool,
    /// The node runs in a VM (never paid).
    pub virtualized: bool,
}

/// Why a reward is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroReason {
    /// The node is virtualized.
    Virtualized,
    /// A violation was detected in the period.
    Violation,
    /// Uptime below the policy's or certification's threshold.
    UptimeBelowThreshold {
        /// Threshold, permill.
        required_permill: u32,
        /// Uptime of the period, permill.
        actual_permill: u32,
    },
}

impl ZeroReason {
    /// Stable code: `"virtualized"`, `"violation"` or `"uptime_below_threshold"`.
    pub fn code(self) -> &'static str {
        match self {
            ZeroReason::Virtualized => "virtualized",
            ZeroReason::Violation => "violation",
            ZeroReason::UptimeBelowThreshold { .. } => "uptime_below_threshold",
        }
    }
}

/// The v3 reward of one node for one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct V3Reward {
    /// Cloud units (computed even when the payout is zero).
    pub cloud_units: CloudUnits,
    /// Payout at 100 % uptime, after the certified bonus, mUSD (0 when virtualized or violated; kept when
    /// only the uptime is below the threshold).
    pub full_payout_musd: u128,
    /// `full_payout_musd × 10^7 / connection price`, TFT base units.
    pub full_payout_tft_units: u128,
    /// Uptime used, permill (clamped to 1000).
    pub uptime_permill: u32,
    /// The payout, mUSD.
    pub payout_musd: u128,
    /// The payout in TFT (base units, 10^-7 TFT): the amount to mint.
    pub payout_tft: Amount<Tft>,
    /// Why the payout is zero, if it is.
    pub zeroed: Option<ZeroReason>,
}

/// Step 2 of the module doc: `(cu·policy.cu + su·policy.su + nu·policy.nu) / 10^6 + ipv4_seconds·policy.ipv4
/// / 3600` mUSD. Never fails: three `u64 × u32` products (each below 2^96) and a fourth one divided by
/// 3,600 add up below 2^98.
fn base_musd(cloud_units: &CloudUnits, ipv4_seconds: u64, policy: &FarmingPolicy) -> u128 {
    let sum = "a few u64 × u32 products add up below 2^98";
    let units = product(u128::from(cloud_units.cu_permill), u128::from(policy.cu_musd))
        .checked_add(product(u128::from(cloud_units.su_permill), u128::from(policy.su_musd)))
        .and_then(|v| v.checked_add(product(u128::from(cloud_units.nu_permill), u128::from(policy.nu_musd))))
        .expect(sum);
    let ip = product(u128::from(ipv4_seconds), u128::from(policy.ipv4_musd_per_hour)) / HOUR_S;
    (units / ONE_MILL).checked_add(ip).expect(sum)
}

/// The v3 reward of one node for one period (steps 1-6 of the module doc).
///
/// Errors: [`MintingError::UnknownFarmingPolicy`], [`MintingError::ZeroConnectionPrice`]. Nothing else can
/// fail: every intermediate fits in `u128` for any `u32`/`u64` input (bounded in the type of each field).
pub fn v3_reward(input: &V3NodeInput, rules: &V3Rules) -> Result<V3Reward, MintingError> {
    let policy = rules
        .policy(input.farming_policy_id)
        .ok_or(MintingError::UnknownFarmingPolicy { id: input.farming_policy_id })?;
    if rules.connection_price_musd == 0 {
        return Err(MintingError::ZeroConnectionPrice);
    }
    let cloud_units = cloud_units_permill(&input.resources, input.nru_bytes);
    let uptime = input.uptime_permill.min(1_000);
    let zero = |reason| V3Reward {
        cloud_units,
        full_payout_musd: 0,
        full_payout_tft_units: 0,
        uptime_permill: uptime,
        payout_musd: 0,
        payout_tft: Amount::ZERO,
        zeroed: Some(reason),
    };
    if input.virtualized {
        return Ok(zero(ZeroReason::Virtualized));
    }
    if input.violation {
        return Ok(zero(ZeroReason::Violation));
    }
    let base = base_musd(&cloud_units, input.ipv4_seconds, policy);
    let bonus = input.certification == Certification::Certified
        && rules.certified_bonus_policy_ids.contains(&input.farming_policy_id);
    let full_musd = if bonus {
        rules.certified_bonus.apply(base, Rounding::Down).ok_or(MintingError::Overflow)?
    } else {
        base
    };
    let full_tft = full_musd
        .checked_mul(UNITS_PER_TOKEN.unsigned_abs())
        .ok_or(MintingError::Overflow)?
        .checked_div(u128::from(rules.connection_price_musd))
        .expect("the connection price is not zero (checked above)");
    // Below the threshold: nothing is paid, the full figures stay visible in the receipt.
    let below = |required| V3Reward {
        cloud_units,
        full_payout_musd: full_musd,
        full_payout_tft_units: full_tft,
        uptime_permill: uptime,
        payout_musd: 0,
        payout_tft: Amount::ZERO,
        zeroed: Some(ZeroReason::UptimeBelowThreshold { required_permill: required, actual_permill: uptime }),
    };
    let (musd, tft) = match policy.scaling {
        UptimeScaling::Linear => {
            let required = match input.certification {
                Certification::Diy => rules.diy_min_uptime_permill,
                Certification::Certified => rules.certified_min_uptime_permill,
            };
            if uptime < required {
                return Ok(below(required));
            }
            let scale = |v: u128| v.checked_mul(u128::from(uptime)).map(|x| x / 1_000);
            (scale(full_musd).ok_or(MintingError::Overflow)?, scale(full_tft).ok_or(MintingError::Overflow)?)
        }
        UptimeScaling::Threshold => {
            let required = policy.minimal_uptime_pct.saturating_mul(10);
            if uptime < required {
                return Ok(below(required));
            }
            (full_musd, full_tft)
        }
    };
    let payout_tft = Amount::from_units(i128::try_from(tft).map_err(|_| MintingError::Overflow)?);
    Ok(V3Reward {
        cloud_units,
        full_payout_musd: full_musd,
        full_payout_tft_units: full_tft,
        uptime_permill: uptime,
        payout_musd: musd,
        payout_tft,
        zeroed: None,
    })
}

/// The v3 input of a node as this engine reads it (the engine has no HDD, public-traffic or IPv4 data):
/// memory and SSD in GiB from the node's resources, no HDD, farming policy 1, no traffic, no IPv4, not
/// virtualized; certified when the catalogue model is. The rewards slice and anyone re-computing a minting
/// report's receipt (guardians) use this one function. Errors: [`MintingError`] for resources too large.
pub fn engine_input(
    resources: &crate::catalogue::Resources,
    certified: bool,
    uptime_permill: u32,
    violation: bool,
) -> Result<V3NodeInput, MintingError> {
    let resources = NodeResources::from_gib(
        resources.cpu_cores,
        u64::from(resources.mem_gb),
        u64::from(resources.ssd_gb),
        0,
    )?;
    Ok(V3NodeInput {
        resources,
        nru_bytes: 0,
        ipv4_seconds: 0,
        certification: if certified { Certification::Certified } else { Certification::Diy },
        farming_policy_id: 1,
        uptime_permill,
        violation,
        virtualized: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vector {
        name: &'static str,
        cru: u32,
        mru_gib: u64,
        sru_gib: u64,
        hru_gib: u64,
        certified: bool,
        uptime_permill: u32,
        ipv4_hours: u64,
        cu: Option<u64>,
        su: Option<u64>,
        musd: u128,
        units: i128,
    }

    /// Spec `minting_and_governance.md` §2.7, DIY policy values, connection price 80.
    #[rustfmt::skip]
    const VECTORS: [Vector; 9] = [
        Vector { name: "M1", cru: 16, mru_gib: 32, sru_gib: 1000, hru_gib: 0, certified: false,
            uptime_permill: 1000, ipv4_hours: 0, cu: Some(7_750_000), su: Some(4_000_000),
            musd: 22_600, units: 2_825_000_000 },
        Vector { name: "M2", cru: 16, mru_gib: 32, sru_gib: 1000, hru_gib: 0, certified: false,
            uptime_permill: 960, ipv4_hours: 0, cu: Some(7_750_000), su: Some(4_000_000),
            musd: 21_696, units: 2_712_000_000 },
        Vector { name: "M3", cru: 16, mru_gib: 32, sru_gib: 1000, hru_gib: 0, certified: false,
            uptime_permill: 940, ipv4_hours: 0, cu: None, su: None, musd: 0, units: 0 },
        Vector { name: "M4", cru: 16, mru_gib: 32, sru_gib: 1000, hru_gib: 0, certified: true,
            uptime_permill: 985, ipv4_hours: 0, cu: Some(7_750_000), su: Some(4_000_000),
            musd: 27_826, units: 3_478_281_250 },
        Vector { name: "M5", cru: 16, mru_gib: 32, sru_gib: 1000, hru_gib: 0, certified: true,
            uptime_permill: 979, ipv4_hours: 0, cu: None, su: None, musd: 0, units: 0 },
        Vector { name: "M6", cru: 24, mru_gib: 128, sru_gib: 4000, hru_gib: 0, certified: false,
            uptime_permill: 1000, ipv4_hours: 0, cu: Some(31_750_000), su: Some(16_000_000),
            musd: 92_200, units: 11_525_000_000 },
        Vector { name: "M7", cru: 36, mru_gib: 512, sru_gib: 4000, hru_gib: 0, certified: false,
            uptime_permill: 1000, ipv4_hours: 0, cu: Some(72_000_000), su: Some(16_000_000),
            musd: 188_800, units: 23_600_000_000 },
        Vector { name: "M8", cru: 4, mru_gib: 16, sru_gib: 500, hru_gib: 2000, certified: false,
            uptime_permill: 1000, ipv4_hours: 0, cu: Some(3_750_000), su: Some(3_666_666),
            musd: 12_666, units: 1_583_250_000 },
        Vector { name: "M9", cru: 16, mru_gib: 32, sru_gib: 1000, hru_gib: 0, certified: false,
            uptime_permill: 1000, ipv4_hours: 720, cu: Some(7_750_000), su: Some(4_000_000),
            musd: 26_200, units: 3_275_000_000 },
    ];

    fn input(v: &Vector) -> V3NodeInput {
        V3NodeInput {
            resources: NodeResources::from_gib(v.cru, v.mru_gib, v.sru_gib, v.hru_gib).unwrap(),
            nru_bytes: 0,
            ipv4_seconds: v.ipv4_hours * 3_600,
            certification: if v.certified { Certification::Certified } else { Certification::Diy },
            farming_policy_id: 1,
            uptime_permill: v.uptime_permill,
            violation: false,
            virtualized: false,
        }
    }

    #[test]
    fn minting_vectors_m1_to_m9_exactly() {
        let rules = V3Rules::default();
        for v in &VECTORS {
            let r = v3_reward(&input(v), &rules).unwrap();
            if let Some(cu) = v.cu {
                assert_eq!(r.cloud_units.cu_permill, cu, "{} CU", v.name);
            }
            if let Some(su) = v.su {
                assert_eq!(r.cloud_units.su_permill, su, "{} SU", v.name);
            }
            assert_eq!(r.payout_musd, v.musd, "{} mUSD", v.name);
            assert_eq!(r.payout_tft.units(), v.units, "{} TFT units", v.name);
            assert_eq!(r.zeroed.is_some(), v.units == 0, "{} zeroed", v.name);
        }
    }

    #[test]
    fn thresholds_are_per_certification_and_inclusive() {
        let rules = V3Rules::default();
        let mut diy = input(&VECTORS[0]);
        diy.uptime_permill = 950;
        assert_eq!(v3_reward(&diy, &rules).unwrap().payout_musd, 22_600 * 950 / 1000);
        diy.uptime_permill = 949;
        let r = v3_reward(&diy, &rules).unwrap();
        assert_eq!(
            r.zeroed,
            Some(ZeroReason::UptimeBelowThreshold { required_permill: 950, actual_permill: 949 })
        );
        let mut cert = input(&VECTORS[3]);
        cert.uptime_permill = 980;
        assert_eq!(v3_reward(&cert, &rules).unwrap().payout_musd, 28_250 * 980 / 1000);
        cert.uptime_permill = 2_000; // clamped
        assert_eq!(v3_reward(&cert, &rules).unwrap().payout_musd, 28_250);
    }

    #[test]
    fn bonus_only_on_policy_one_and_policy_two_uses_its_own_rates() {
        let rules = V3Rules::default();
        let mut node = input(&VECTORS[0]);
        node.certification = Certification::Certified;
        node.farming_policy_id = 2;
        // 7.75 × 3000 + 4 × 1250 = 28,250 mUSD: the certified policy equals DIY × 5/4 for this node.
        let r = v3_reward(&node, &rules).unwrap();
        assert_eq!(r.payout_musd, 28_250);
        assert_eq!(r.payout_tft.units(), 3_531_250_000);
        node.certification = Certification::Diy;
        node.farming_policy_id = 1;
        assert_eq!(v3_reward(&node, &rules).unwrap().payout_musd, 22_600);
    }

    #[test]
    fn violation_and_virtualization_zero_the_period() {
        let rules = V3Rules::default();
        let mut node = input(&VECTORS[0]);
        node.violation = true;
        let r = v3_reward(&node, &rules).unwrap();
        assert_eq!((r.payout_musd, r.payout_tft, r.zeroed), (0, Amount::ZERO, Some(ZeroReason::Violation)));
        assert_eq!(r.cloud_units.cu_permill, 7_750_000);
        node.violation = false;
        node.virtualized = true;
        assert_eq!(v3_reward(&node, &rules).unwrap().zeroed, Some(ZeroReason::Virtualized));
    }

    #[test]
    fn network_units_and_threshold_policies() {
        let mut rules = V3Rules::default();
        let mut node = input(&VECTORS[0]);
        node.nru_bytes = 100 * GIB; // 100 NU × 30 mUSD = 3,000 mUSD
        let r = v3_reward(&node, &rules).unwrap();
        assert_eq!(r.cloud_units.nu_permill, 100_000_000);
        assert_eq!(r.payout_musd, 25_600);
        let mut gold = FarmingPolicy::diy();
        gold.id = 3;
        gold.scaling = UptimeScaling::Threshold;
        rules.policies.push(gold);
        node.farming_policy_id = 3;
        node.uptime_permill = 951;
        assert_eq!(v3_reward(&node, &rules).unwrap().payout_musd, 25_600, "all or nothing");
        node.uptime_permill = 949;
        assert_eq!(v3_reward(&node, &rules).unwrap().payout_musd, 0);
    }

    #[test]
    fn errors_are_typed() {
        let mut rules = V3Rules::default();
        let mut node = input(&VECTORS[0]);
        node.farming_policy_id = 9;
        assert_eq!(v3_reward(&node, &rules), Err(MintingError::UnknownFarmingPolicy { id: 9 }));
        node.farming_policy_id = 1;
        rules.connection_price_musd = 0;
        assert_eq!(v3_reward(&node, &rules), Err(MintingError::ZeroConnectionPrice));
        assert_eq!(NodeResources::from_gib(1, u64::MAX, 0, 0), Err(MintingError::Overflow));
    }

    #[test]
    fn bytes_and_gib_agree_and_small_memory_saturates() {
        let a = NodeResources::from_gib(16, 32, 1000, 0).unwrap();
        let b = NodeResources::from_bytes(16, 32 * 1_073_741_824, 1000 * 1_073_741_824, 0);
        assert_eq!(a, b);
        let tiny = NodeResources::from_bytes(4, GIB / 2, 500 * GIB, 0);
        assert_eq!(cloud_units_permill(&tiny, 0).cu_permill, 0);
        // Non-whole GiB: the division by GiB comes last (mru = 32.5 GiB → CU = 31.5 / 4 = 7.875).
        let half = NodeResources::from_bytes(16, 32 * GIB + GIB / 2, 1000 * GIB, 0);
        assert_eq!(cloud_units_permill(&half, 0).cu_permill, 7_875_000);
    }

    #[test]
    fn rules_and_rewards_round_trip_through_postcard() {
        let rules = V3Rules::default();
        let bytes = postcard::to_allocvec(&rules).unwrap();
        assert_eq!(postcard::from_bytes::<V3Rules>(&bytes).unwrap(), rules);
        let reward = v3_reward(&input(&VECTORS[2]), &rules).unwrap();
        let bytes = postcard::to_allocvec(&reward).unwrap();
        assert_eq!(postcard::from_bytes::<V3Reward>(&bytes).unwrap(), reward);
    }

    #[test]
    fn uptime_permill_floors_and_clamps() {
        assert_eq!(uptime_permill(PERIOD_S as u64, PERIOD_S), 1000);
        assert_eq!(uptime_permill(PERIOD_S as u64 * 2, PERIOD_S), 1000);
        assert_eq!(uptime_permill(PERIOD_S as u64 * 985 / 1000, PERIOD_S), 984, "floor");
        assert_eq!(uptime_permill(2_591_417, PERIOD_S), 985);
        assert_eq!(uptime_permill(10, 0), 0);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_scaled_never_exceeds_full(
            cru in proptest::prelude::any::<u32>(),
            mru in proptest::prelude::any::<u64>(),
            sru in proptest::prelude::any::<u64>(),
            hru in proptest::prelude::any::<u64>(),
            nru in proptest::prelude::any::<u64>(),
            ips in proptest::prelude::any::<u64>(),
            up in 0u32..1200,
            certified in proptest::prelude::any::<bool>(),
        ) {
            let node = V3NodeInput {
                resources: NodeResources::from_bytes(cru, mru, sru, hru),
                nru_bytes: nru,
                ipv4_seconds: ips,
                certification: if certified { Certification::Certified } else { Certification::Diy },
                farming_policy_id: 1,
                uptime_permill: up,
                violation: false,
                virtualized: false,
            };
            let r = v3_reward(&node, &V3Rules::default()).unwrap();
            proptest::prop_assert!(r.payout_musd <= r.full_payout_musd);
            proptest::prop_assert!(r.payout_tft.units() as u128 <= r.full_payout_tft_units);
        }
    }
}
