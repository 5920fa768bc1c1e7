//! `tfeco calc mint-v3`: the v3 minting reward of one node for one period, as the v3 minting code computes
//! it (spec `minting_and_governance.md` §2; `tfeco_core::rules::minting::v3_reward`). Offline: no node needed.

use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use tfeco_core::rules::minting::{
    v3_reward, Certification, NodeResources, V3NodeInput, V3Reward, V3Rules, ZeroReason, GIB,
};
use tfeco_money::{Amount, Tft};

/// Arguments of `tfeco calc mint-v3`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct MintV3Args {
    /// CPU cores (cru).
    #[arg(long)]
    cru: u32,
    /// Memory in GiB (mru; 1 GiB = 2^30 bytes).
    #[arg(long)]
    mru_gib: u64,
    /// SSD in GiB (sru).
    #[arg(long)]
    sru_gib: u64,
    /// HDD in GiB (hru).
    #[arg(long)]
    hru_gib: u64,
    /// Uptime over the period in percent, e.g. 98.5 (floored to 0.1 %, i.e. permill, as the v3 code does).
    #[arg(long, value_parser = parse_uptime_pct)]
    uptime_pct: u32,
    /// The node is certified (threshold 98 % instead of 95 %; +25 % on farming policy 1).
    #[arg(long)]
    certified: bool,
    /// Hours of public IPv4 use in the period, summed over addresses (720 = one IP all month).
    #[arg(long, default_value_t = 0)]
    ipv4_hours: u64,
    /// Public network traffic in the period, GiB (NU).
    #[arg(long, default_value_t = 0)]
    nu_gib: u64,
    /// Farming policy: 1 (DIY rates) or 2 (Certified rates).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=2))]
    farming_policy: u32,
    /// TFT connection price in mUSD (80 = $0.08 per TFT).
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u32).range(1..))]
    connection_price_musd: u32,
    /// Print one JSON object (integers: permill units, mUSD, TFT base units of 10^-7 TFT).
    #[arg(long)]
    json: bool,
}

/// The `--json` output.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct MintV3Output {
    rule_set: &'static str,
    farming_policy_id: u32,
    certified: bool,
    connection_price_musd: u32,
    cu_permill: u64,
    su_permill: u64,
    nu_permill: u64,
    uptime_permill: u32,
    full_payout_musd: u128,
    payout_musd: u128,
    payout_tft_units: i128,
    payout_tft: String,
    zeroed_reason: Option<&'static str>,
}

/// Parses a percentage with any number of decimals into permill, flooring (e.g. `"98.56"` → 985).
fn parse_uptime_pct(text: &str) -> Result<u32, String> {
    let invalid = || format!("invalid uptime {text:?}: expected a percentage from 0 to 100, e.g. 98.5");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return Err(invalid());
    }
    let whole: u32 = whole.parse().map_err(|_| invalid())?;
    let tenths = fraction.bytes().next().map_or(0, |b| u32::from(b - b'0'));
    let permill = whole * 10 + tenths;
    let beyond_100 = permill > 1_000 || (permill == 1_000 && fraction.bytes().skip(1).any(|b| b != b'0'));
    if beyond_100 {
        return Err(invalid());
    }
    Ok(permill)
}

/// Computes the reward for the arguments.
fn compute(args: &MintV3Args) -> anyhow::Result<(MintV3Output, V3Reward)> {
    let resources = NodeResources::from_gib(args.cru, args.mru_gib, args.sru_gib, args.hru_gib)
        .context("resources too large")?;
    let ipv4_seconds = args.ipv4_hours.checked_mul(3_600).context("--ipv4-hours too large")?;
    let nru_bytes = args.nu_gib.checked_mul(GIB).context("--nu-gib too large")?;
    let input = V3NodeInput {
        resources,
        nru_bytes,
        ipv4_seconds,
        certification: if args.certified { Certification::Certified } else { Certification::Diy },
        farming_policy_id: args.farming_policy,
        uptime_permill: args.uptime_pct,
        violation: false,
        virtualized: false,
    };
    let rules = V3Rules { connection_price_musd: args.connection_price_musd, ..V3Rules::default() };
    let reward = v3_reward(&input, &rules)?;
    let output = MintV3Output {
        rule_set: "v3",
        farming_policy_id: args.farming_policy,
        certified: args.certified,
        connection_price_musd: args.connection_price_musd,
        cu_permill: reward.cloud_units.cu_permill,
        su_permill: reward.cloud_units.su_permill,
        nu_permill: reward.cloud_units.nu_permill,
        uptime_permill: reward.uptime_permill,
        full_payout_musd: reward.full_payout_musd,
        payout_musd: reward.payout_musd,
        payout_tft_units: reward.payout_tft.units(),
        payout_tft: reward.payout_tft.to_string(),
        zeroed_reason: reward.zeroed.map(ZeroReason::code),
    };
    Ok((output, reward))
}

/// `1234567` permill → `"1.234567"`.
fn permill_units(v: u64) -> String {
    format!("{}.{:06}", v / 1_000_000, v % 1_000_000)
}

/// mUSD → `"22.600"`.
fn musd(v: u128) -> String {
    format!("{}.{:03}", v / 1_000, v % 1_000)
}

/// Permill → `"98.5"`.
fn pct(permill: u32) -> String {
    format!("{}.{}", permill / 10, permill % 10)
}

/// Runs `tfeco calc mint-v3`.
pub(crate) fn run_mint_v3(args: MintV3Args) -> anyhow::Result<ExitCode> {
    let (output, reward) = compute(&args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(ExitCode::SUCCESS);
    }
    let policy = if args.farming_policy == 1 { "1 (DIY rates)" } else { "2 (Certified rates)" };
    let node = if args.certified { "certified" } else { "DIY" };
    let price = format!("{}.{:03}", args.connection_price_musd / 1_000, args.connection_price_musd % 1_000);
    let full_tft = i128::try_from(reward.full_payout_tft_units).map(Amount::<Tft>::from_units);
    println!("v3 minting reward: {node} node, farming policy {policy}, connection price {price} USD/TFT");
    println!("  CU       {}", permill_units(output.cu_permill));
    println!("  SU       {}", permill_units(output.su_permill));
    println!("  NU       {}", permill_units(output.nu_permill));
    println!("  uptime   {} % ({} permill)", pct(output.uptime_permill), output.uptime_permill);
    if let Ok(full_tft) = full_tft {
        println!("  at 100 % {} USD = {} TFT", musd(output.full_payout_musd), full_tft);
    }
    match reward.zeroed {
        None => println!("  payout   {} USD = {} TFT", musd(output.payout_musd), output.payout_tft),
        Some(ZeroReason::UptimeBelowThreshold { required_permill, actual_permill }) => println!(
            "  payout   0 TFT: uptime {} % is below the {} % threshold",
            pct(actual_permill),
            pct(required_permill)
        ),
        Some(reason) => println!("  payout   0 TFT ({})", reason.code()),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cru: u32, mru: u64, sru: u64, hru: u64, uptime: &str, certified: bool) -> MintV3Args {
        MintV3Args {
            cru,
            mru_gib: mru,
            sru_gib: sru,
            hru_gib: hru,
            uptime_pct: parse_uptime_pct(uptime).unwrap(),
            certified,
            ipv4_hours: 0,
            nu_gib: 0,
            farming_policy: 1,
            connection_price_musd: 80,
            json: true,
        }
    }

    #[test]
    fn uptime_percent_parses_to_permill_with_floor() {
        assert_eq!(parse_uptime_pct("100"), Ok(1_000));
        assert_eq!(parse_uptime_pct("100.0"), Ok(1_000));
        assert_eq!(parse_uptime_pct("98.5"), Ok(985));
        assert_eq!(parse_uptime_pct("97.99"), Ok(979));
        assert_eq!(parse_uptime_pct("0"), Ok(0));
        for bad in ["", "-1", "100.1", "101", "9x", "98.", ".5", "1e2", "1000"] {
            assert!(parse_uptime_pct(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn m4_and_m9_through_the_cli_path() {
        let (m4, _) = compute(&args(16, 32, 1000, 0, "98.5", true)).unwrap();
        assert_eq!((m4.cu_permill, m4.su_permill), (7_750_000, 4_000_000));
        assert_eq!((m4.payout_musd, m4.payout_tft_units), (27_826, 3_478_281_250));
        assert_eq!(m4.zeroed_reason, None);
        let mut m9 = args(16, 32, 1000, 0, "100", false);
        m9.ipv4_hours = 720;
        let (m9, _) = compute(&m9).unwrap();
        assert_eq!((m9.payout_musd, m9.payout_tft_units), (26_200, 3_275_000_000));
        let (m3, _) = compute(&args(16, 32, 1000, 0, "94", false)).unwrap();
        assert_eq!((m3.payout_tft_units, m3.zeroed_reason), (0, Some("uptime_below_threshold")));
        let json: serde_json::Value = serde_json::to_value(&m4).unwrap();
        for field in
            ["cu_permill", "su_permill", "nu_permill", "payout_musd", "payout_tft_units", "uptime_permill"]
        {
            assert!(json[field].is_u64(), "{field} must be an integer");
        }
        assert!(json["zeroed_reason"].is_null());
    }
}
