//! `tfeco guardian propose`: a parameter change, as JSON (`--update '{"param_delay": 3600}'`) or with one of
//! the common forms: `--guardian-set KEY... [--threshold N]`, `--revenue-split farmer=8000,burn=1000,
//! treasury=1000 --version V`, `--param-delay S`, `--minting on|off`, `--vesting seed|release-36m`.

use anyhow::{bail, Context};
use clap::{ArgGroup, ValueEnum};
use tfeco_core::rules::minting::{Release36mRule, SeedLockRule, VestingRule};
use tfeco_core::ParamUpdate;
use tfeco_core::{AccountKey, RevenueSplit, SplitRecipient};
use tfeco_money::Bps;

/// A vesting rule by name (default parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum VestingName {
    /// Locked 2 years from the first report, or until 3 months at >= 30 % utilization.
    Seed,
    /// 11 months locked, then 4 % per month.
    #[value(name = "release-36m")]
    Release36m,
}

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// Arguments of `tfeco guardian propose`: exactly one form of update.
#[derive(clap::Args)]
#[command(group(ArgGroup::new("update_form").required(true).multiple(false).args(
    ["update", "guardian_set", "revenue_split", "param_delay", "minting", "vesting"]
)))]
pub(crate) struct ProposeArgs {
    /// The update as JSON, e.g. '{"param_delay": 3600}' or '{"oracle_max_age": 1800}'.
    #[arg(long)]
    update: Option<String>,
    /// A new guardian set (keys separated by spaces or commas).
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    guardian_set: Option<Vec<AccountKey>>,
    /// With --guardian-set: the signature threshold (default ceil(2n/3)).
    #[arg(long, requires = "guardian_set")]
    threshold: Option<u32>,
    /// A new revenue split: recipient=bps pairs, e.g. farmer=8000,burn=1000,treasury=1000.
    #[arg(long, requires = "version")]
    revenue_split: Option<String>,
    /// With --revenue-split: its version (higher than the current one).
    #[arg(long, requires = "revenue_split")]
    version: Option<u32>,
    /// The delay of later parameter changes, seconds.
    #[arg(long)]
    param_delay: Option<i64>,
    /// Minting on or off.
    #[arg(long, value_enum)]
    minting: Option<Switch>,
    /// The vesting rule of minted rewards (default parameters).
    #[arg(long, value_enum)]
    vesting: Option<VestingName>,
}

/// Parses `farmer=8000,burn=1000,treasury=1000` into the shares of a split, in order.
fn parse_split(text: &str, version: u32) -> anyhow::Result<RevenueSplit> {
    let mut shares = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, bps) =
            part.split_once('=').with_context(|| format!("{part:?}: expected recipient=bps"))?;
        let recipient = match name.trim() {
            "farmer" => SplitRecipient::Farmer,
            "burn" => SplitRecipient::Burn,
            "treasury" => SplitRecipient::Treasury,
            other => bail!("unknown recipient {other:?}: expected farmer, burn or treasury"),
        };
        let bps: u16 = bps.trim().parse().with_context(|| format!("{part:?}: bps must be a whole number"))?;
        let bps = Bps::new(bps).with_context(|| format!("{part:?}: at most 10000 bps"))?;
        shares.push((recipient, bps));
    }
    let split = RevenueSplit { version, shares };
    if !split.is_valid() {
        bail!("the split must sum to 10000 bps with exactly one farmer entry");
    }
    Ok(split)
}

impl ProposeArgs {
    /// The parameter update the options describe (exactly one form; a split must be valid and versioned).
    pub(super) fn into_update(self) -> anyhow::Result<ParamUpdate> {
        if let Some(json) = self.update {
            return serde_json::from_str(&json)
                .with_context(|| format!("--update is not a parameter update: {json}"));
        }
        if let Some(guardians) = self.guardian_set {
            return Ok(ParamUpdate::GuardianSet { guardians, threshold: self.threshold });
        }
        if let Some(text) = self.revenue_split {
            let version = self.version.context("--revenue-split needs --version")?;
            return Ok(ParamUpdate::RevenueSplit(parse_split(&text, version)?));
        }
        if let Some(delay) = self.param_delay {
            return Ok(ParamUpdate::ParamDelay(delay));
        }
        if let Some(switch) = self.minting {
            return Ok(ParamUpdate::MintingEnabled(switch == Switch::On));
        }
        match self.vesting {
            Some(VestingName::Seed) => {
                Ok(ParamUpdate::VestingRule(VestingRule::Seed(SeedLockRule::default())))
            }
            Some(VestingName::Release36m) => {
                Ok(ParamUpdate::VestingRule(VestingRule::Release36m(Release36mRule::default())))
            }
            None => bail!("nothing to propose"),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        propose: ProposeArgs,
    }

    fn propose(args: &[&str]) -> anyhow::Result<ParamUpdate> {
        Cli::try_parse_from(std::iter::once("propose").chain(args.iter().copied()))?.propose.into_update()
    }

    #[test]
    fn proposals_parse_into_parameter_updates() {
        let key = |b: u8| AccountKey([b; 32]);
        let (a, b) = (key(1).to_hex(), key(2).to_hex());
        assert_eq!(
            propose(&["--guardian-set", &a, &b, "--threshold", "2"]).unwrap(),
            ParamUpdate::GuardianSet { guardians: vec![key(1), key(2)], threshold: Some(2) }
        );
        assert_eq!(
            propose(&["--guardian-set", &format!("{a},{b}")]).unwrap(),
            ParamUpdate::GuardianSet { guardians: vec![key(1), key(2)], threshold: None }
        );
        let bps = |v| Bps::new(v).unwrap();
        assert_eq!(
            propose(&["--revenue-split", "farmer=7000,burn=2000,treasury=1000", "--version", "2"]).unwrap(),
            ParamUpdate::RevenueSplit(RevenueSplit {
                version: 2,
                shares: vec![
                    (SplitRecipient::Farmer, bps(7_000)),
                    (SplitRecipient::Burn, bps(2_000)),
                    (SplitRecipient::Treasury, bps(1_000))
                ],
            })
        );
        assert_eq!(propose(&["--param-delay", "3600"]).unwrap(), ParamUpdate::ParamDelay(3_600));
        assert_eq!(propose(&["--minting", "off"]).unwrap(), ParamUpdate::MintingEnabled(false));
        assert!(matches!(
            propose(&["--vesting", "release-36m"]).unwrap(),
            ParamUpdate::VestingRule(VestingRule::Release36m(_))
        ));
        assert_eq!(
            propose(&["--update", r#"{"oracle_max_age": 1800}"#]).unwrap(),
            ParamUpdate::OracleMaxAge(1_800)
        );
        // Exactly one form; the split must be valid and versioned.
        assert!(propose(&[]).is_err());
        assert!(propose(&["--param-delay", "1", "--minting", "on"]).is_err());
        assert!(propose(&["--revenue-split", "farmer=8000,burn=1000,treasury=1000"]).is_err());
        assert!(propose(&["--revenue-split", "farmer=8000,burn=1000", "--version", "2"]).is_err());
        assert!(propose(&["--revenue-split", "farmer=8000,burn=20000", "--version", "2"]).is_err());
        assert!(propose(&["--threshold", "2"]).is_err());
        assert!(propose(&["--update", "{\"nope\": 1}"]).is_err());
    }

    #[test]
    fn splits_parse_in_order() {
        let split = parse_split("farmer=8000, burn=1000, treasury=1000", 3).unwrap();
        assert_eq!(split.version, 3);
        assert_eq!(split.shares[1], (SplitRecipient::Burn, Bps::new(1_000).unwrap()));
        assert!(parse_split("farmer=8000,cat=2000", 2).is_err());
        assert!(parse_split("farmer=x", 2).is_err());
    }
}
