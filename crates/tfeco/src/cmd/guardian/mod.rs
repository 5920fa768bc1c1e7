//! `tfeco guardian` and `tfeco node`: guardian governance and node uptime from the command line (spec
//! `decisions.md` §3, §11, §12). Keys come from an encrypted keystore (`--keystore`, password from
//! `TFECO_PASSWORD` or a prompt), as in `tfeco wallet`.
//!
//! `tfeco guardian`:
//! - `sign-report --period K [--hash H]`: signs a minting report. Without `--hash`, the guardian verifies
//!   first: it fetches the report, re-computes blake3 over the canonical JSON **locally**, checks that the
//!   total is the sum of the receipts and, for the `v3` rule set, re-computes every receipt's reward with
//!   the default v3 rules (`--skip-reward-check` to sign a report made with other rule parameters), and signs
//!   the hash it computed. A mismatch refuses to sign (exit 3, code `report_verification_failed`).
//! - `propose`: a parameter change, as JSON (`--update '{"param_delay": 3600}'`) or with one of the common
//!   forms: `--guardian-set KEY... [--threshold N]`, `--revenue-split farmer=8000,burn=1000,treasury=1000
//!   --version V`, `--param-delay S`, `--minting on|off`, `--vesting seed|release-36m`.
//! - `sign-change --id N`, `changes [--status pending|approved|applied]`, `show` (the set and thresholds);
//! - `attest-deposit`, `attest-withdrawal`, `price`: like `tfeco admin`, signed by the guardian's keystore.
//!
//! `tfeco node` (the node URL is `--url`, since `--node` is a node id here):
//! - `set-key --node N --key HEX`: the farmer (keystore) names the key its node reports uptime with;
//! - `report-uptime --node N --at T --uptime S [--at T --uptime S ...] | --file CSV`: the node (keystore
//!   of the node key) reports samples, in batches of at most 1,000 per request; the CSV has `at,uptime_s`
//!   lines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{ArgGroup, Subcommand, ValueEnum};
use serde_json::{json, Value};
use tfeco_core::governance::ParamUpdate;
use tfeco_core::minting::{
    v3_reward, Certification, NodeResources, Release36mRule, SeedLockRule, V3NodeInput, V3Rules, VestingRule,
};
use tfeco_core::rewards::UptimeSample;
use tfeco_core::{AccountKey, Command, NodeId, PriceFeed, RevenueSplit, SplitRecipient, WithdrawalId};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Price, Tft};

use tfeco_wallet::Client;

use crate::wallet::{report_error, show, submit_and_print};

/// Most uptime samples in one request (`max_uptime_reports_per_command` of `tfgrid4-2025`).
const MAX_SAMPLES_PER_REQUEST: usize = 1_000;

/// Arguments of `tfeco guardian`.
#[derive(clap::Args)]
pub(crate) struct GuardianArgs {
    /// Keystore file of the guardian key.
    #[arg(long, env = "TFECO_KEYSTORE", default_value = "tfeco-wallet.json", global = true)]
    keystore: PathBuf,
    /// Node URL.
    #[arg(long, env = "TFECO_NODE", default_value = "http://127.0.0.1:8080", global = true)]
    node: String,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: GuardianCommand,
}

#[derive(Subcommand)]
enum GuardianCommand {
    /// Sign a minting report's hash (verified locally first unless --hash is given).
    SignReport {
        /// The period.
        #[arg(long)]
        period: u32,
        /// Sign this hash as is (hex), without fetching and verifying the report.
        #[arg(long)]
        hash: Option<String>,
        /// Do not re-compute v3 rewards (for reports made with non-default v3 rule parameters).
        #[arg(long)]
        skip_reward_check: bool,
    },
    /// Propose a parameter change (your proposal counts as your signature).
    Propose(Box<ProposeArgs>),
    /// Sign a pending parameter change.
    SignChange {
        /// The change id.
        #[arg(long)]
        id: u64,
    },
    /// Parameter changes: pending, approved (waiting for their delay) and applied.
    Changes {
        /// Only changes with this status.
        #[arg(long, value_parser = ["pending", "approved", "applied"])]
        status: Option<String>,
    },
    /// The guardian set, the signature threshold and the oracle quorum.
    Show,
    /// Attest an external deposit of TFT or USDC (executes at the guardian threshold).
    AttestDeposit {
        /// Credited account.
        #[arg(long)]
        to: AccountKey,
        /// TFT or USDC.
        #[arg(long)]
        asset: Asset,
        /// Amount.
        #[arg(long)]
        amount: Amount<AnyAsset>,
        /// External transaction id (unique; the same for every guardian).
        #[arg(long)]
        tx_id: String,
    },
    /// Attest that a requested withdrawal was paid out (executes at the guardian threshold).
    AttestWithdrawal {
        /// Withdrawal id.
        #[arg(long)]
        id: u64,
        /// External transaction id.
        #[arg(long)]
        tx_id: String,
    },
    /// Submit an oracle price (observed now, or at --observed-at).
    Price {
        /// tft_usd or gold_usd_per_oz.
        #[arg(long, value_parser = ["tft_usd", "gold_usd_per_oz"])]
        feed: String,
        /// Price in USD.
        #[arg(long)]
        price: Price,
        /// Observation time, unix seconds (default: the node's current time).
        #[arg(long)]
        observed_at: Option<i64>,
    },
}

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
    fn into_update(self) -> anyhow::Result<ParamUpdate> {
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

/// Arguments of `tfeco node`.
#[derive(clap::Args)]
pub(crate) struct NodeArgs {
    /// Keystore file: the farmer's key for set-key, the node's key for report-uptime.
    #[arg(long, env = "TFECO_KEYSTORE", default_value = "tfeco-wallet.json", global = true)]
    keystore: PathBuf,
    /// Node URL (`--url`: here `--node` is a node id).
    #[arg(
        long = "url",
        id = "node_url",
        value_name = "URL",
        env = "TFECO_NODE",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    node_url: String,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: NodeCommand,
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Name the key a node signs its uptime reports with (signed by the farm owner).
    SetKey {
        /// The node id.
        #[arg(long)]
        node: u32,
        /// The node's account key (registered), 64 hex characters.
        #[arg(long)]
        key: AccountKey,
    },
    /// Report uptime samples (signed by the node's key): pairs of --at and --uptime, or a CSV file.
    #[command(group(ArgGroup::new("samples").required(true).args(["at", "file"])))]
    ReportUptime {
        /// The node id.
        #[arg(long)]
        node: u32,
        /// Report time, unix seconds (repeat, paired with --uptime).
        #[arg(long, requires = "uptime")]
        at: Vec<i64>,
        /// Seconds since boot at that time (repeat, paired with --at).
        #[arg(long)]
        uptime: Vec<u64>,
        /// A CSV file of `at,uptime_s` lines (a header line is allowed).
        #[arg(long, conflicts_with = "at")]
        file: Option<PathBuf>,
    },
}

use crate::wallet::unlock;

/// A refusal decided here (not by the node): printed like the node's, exit 3.
fn refuse(json_out: bool, code: &str, message: &str) -> ExitCode {
    if json_out {
        println!("{}", json!({ "error": { "code": code, "message": message } }));
    } else {
        eprintln!("refused ({code}): {message}");
    }
    ExitCode::from(3)
}

/// What a guardian checks before signing a report (the `GET /v1/mint/reports/{period}` view): returns
/// the hash it computed itself, or why it refuses.
pub(crate) fn verify_report(report: &Value, check_rewards: bool) -> Result<String, String> {
    let canonical = report["canonical_json"].as_str().ok_or("the report has no canonical_json")?;
    let hash = blake3::hash(canonical.as_bytes()).to_hex().to_string();
    let published = report["hash"].as_str().unwrap_or("");
    if hash != published {
        return Err(format!("blake3 of the canonical JSON is {hash}, but the node publishes {published}"));
    }
    let receipts: Vec<Value> = serde_json::from_str(canonical)
        .map_err(|e| format!("the canonical JSON is not a receipts array: {e}"))?;
    let amount = |v: &Value, field: &str| -> Result<Amount<Tft>, String> {
        v[field]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("receipt without a valid {field}"))
    };
    let mut total: i128 = 0;
    let scaled = report["scaled_to_cap"].as_bool().unwrap_or(false);
    let period = report["period"].as_u64();
    for r in &receipts {
        let (reward, unscaled) = (amount(r, "reward")?, amount(r, "reward_unscaled")?);
        let node = &r["node_id"];
        if r["period"].as_u64() != period {
            return Err(format!("node {node}: receipt of period {} in report {period:?}", r["period"]));
        }
        if reward.units() < 0 || reward > unscaled || (!scaled && reward != unscaled) {
            return Err(format!("node {node}: reward {reward} does not match the unscaled {unscaled}"));
        }
        total += reward.units();
        if check_rewards && report["rule_set"] == "v3" {
            let expected = v3_receipt_reward(r).map_err(|e| format!("node {node}: {e}"))?;
            if expected != unscaled {
                return Err(format!(
                    "node {node}: the v3 rules give {expected} TFT for these resources and uptime, the receipt says \
                     {unscaled} (use --skip-reward-check if the node runs other v3 rule parameters)"
                ));
            }
        }
    }
    let stated = amount(report, "total")?;
    if stated.units() != total {
        return Err(format!(
            "the total {stated} is not the sum of the receipts {}",
            Amount::<Tft>::from_units(total)
        ));
    }
    Ok(hash)
}

/// The reward of a v3 receipt re-computed with the default v3 rules, as the engine reads a node: memory and
/// SSD in GiB, no HDD, farming policy 1, no public traffic or IPv4, any violation zeroes.
fn v3_receipt_reward(receipt: &Value) -> Result<Amount<Tft>, String> {
    let r = &receipt["resources"];
    let field = |name: &str| r[name].as_u64().ok_or_else(|| format!("receipt without resources.{name}"));
    let cores = u32::try_from(field("cpu_cores")?).map_err(|_| "cpu_cores too large".to_owned())?;
    let resources =
        NodeResources::from_gib(cores, field("mem_gb")?, field("ssd_gb")?, 0).map_err(|e| e.to_string())?;
    let input = V3NodeInput {
        resources,
        nru_bytes: 0,
        ipv4_seconds: 0,
        certification: if receipt["certified"].as_bool().unwrap_or(false) {
            Certification::Certified
        } else {
            Certification::Diy
        },
        farming_policy_id: 1,
        uptime_permill: receipt["uptime_permill"].as_u64().and_then(|u| u32::try_from(u).ok()).unwrap_or(0),
        violation: receipt["violations"].as_u64().unwrap_or(0) > 0,
        virtualized: false,
    };
    v3_reward(&input, &V3Rules::default()).map(|r| r.payout_tft).map_err(|e| e.to_string())
}

/// Reads `at,uptime_s` lines (blank lines, `#` comments and a non-numeric header are skipped).
fn read_samples(path: &Path) -> anyhow::Result<Vec<UptimeSample>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (at, uptime) = line
            .split_once(',')
            .with_context(|| format!("{}:{}: expected at,uptime_s", path.display(), n + 1))?;
        match (at.trim().parse(), uptime.trim().parse()) {
            (Ok(at), Ok(uptime_s)) => samples.push(UptimeSample { at, uptime_s }),
            _ if n == 0 => continue, // header
            _ => bail!("{}:{}: expected two whole numbers, got {line:?}", path.display(), n + 1),
        }
    }
    Ok(samples)
}

/// Runs `tfeco guardian`.
pub(crate) async fn run_guardian(args: GuardianArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.node);
    let json_out = args.json;
    let command = match args.command {
        GuardianCommand::Show => return Ok(show(&client, "/v1/guardians", json_out).await),
        GuardianCommand::Changes { status } => {
            let path = match status {
                Some(status) => format!("/v1/param-changes?status={status}"),
                None => "/v1/param-changes".to_owned(),
            };
            return Ok(match client.get(&path).await {
                Ok(value) if !json_out => {
                    println!("{}", render_changes(&value));
                    ExitCode::SUCCESS
                }
                Ok(value) => {
                    println!("{value}");
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            });
        }
        GuardianCommand::SignReport { period, hash: Some(hash), .. } => {
            Command::SignMintReport { period, report_hash: hash }
        }
        GuardianCommand::SignReport { period, hash: None, skip_reward_check } => {
            let report = match client.get(&format!("/v1/mint/reports/{period}")).await {
                Ok(report) => report,
                Err(error) => return Ok(report_error(json_out, &error)),
            };
            match verify_report(&report, !skip_reward_check) {
                Ok(hash) => {
                    if !json_out {
                        eprintln!("verified: blake3 {hash} over {} receipt(s)", report["nodes"]);
                    }
                    Command::SignMintReport { period, report_hash: hash }
                }
                Err(reason) => return Ok(refuse(json_out, "report_verification_failed", &reason)),
            }
        }
        GuardianCommand::Propose(propose) => Command::ProposeParamChange { update: propose.into_update()? },
        GuardianCommand::SignChange { id } => Command::SignParamChange { change_id: id },
        GuardianCommand::AttestDeposit { to, asset, amount, tx_id } => {
            Command::AttestDeposit { asset, to, amount, external_tx_id: tx_id }
        }
        GuardianCommand::AttestWithdrawal { id, tx_id } => {
            Command::AttestWithdrawal { withdrawal_id: WithdrawalId(id), external_tx_id: tx_id }
        }
        GuardianCommand::Price { feed, price, observed_at } => {
            let observed_at = match observed_at {
                Some(t) => t,
                None => match client.get("/v1/status").await {
                    Ok(status) => status["now"].as_i64().context("status without time")?,
                    Err(error) => return Ok(report_error(json_out, &error)),
                },
            };
            let feed = if feed == "tft_usd" { PriceFeed::TftUsd } else { PriceFeed::GoldUsdPerOz };
            Command::SubmitPrice { feed, price, observed_at }
        }
    };
    let key = unlock(&args.keystore)?;
    Ok(submit_and_print(&client, &key, command, json_out).await)
}

/// The human form of `GET /v1/param-changes`.
fn render_changes(view: &Value) -> String {
    let changes = view["changes"].as_array().cloned().unwrap_or_default();
    if changes.is_empty() {
        return "no parameter change".to_owned();
    }
    changes
        .iter()
        .map(|c| {
            let when = match c["status"].as_str() {
                Some("pending") => format!("{}/{} signatures", c["signatures"], c["threshold"]),
                Some("approved") => format!("effective at {}", c["effective_at"]),
                _ => format!("applied at {}", c["applied_at"]),
            };
            format!(
                "change {:>3}  {:<9} {:<15} {}  {}",
                c["id"],
                c["status"].as_str().unwrap_or("?"),
                c["kind"].as_str().unwrap_or("?"),
                when,
                c["update"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `tfeco node`.
pub(crate) async fn run_node(args: NodeArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.node_url);
    let json_out = args.json;
    match args.command {
        NodeCommand::SetKey { node, key } => {
            let signer = unlock(&args.keystore)?;
            let command = Command::SetNodeKey { node_id: NodeId(node), node_key: key };
            Ok(submit_and_print(&client, &signer, command, json_out).await)
        }
        NodeCommand::ReportUptime { node, at, uptime, file } => {
            let samples = match file {
                Some(path) => read_samples(&path)?,
                None => {
                    if at.len() != uptime.len() {
                        bail!("give as many --uptime as --at ({} and {})", uptime.len(), at.len());
                    }
                    at.into_iter().zip(uptime).map(|(at, uptime_s)| UptimeSample { at, uptime_s }).collect()
                }
            };
            if samples.is_empty() {
                bail!("no uptime sample to report");
            }
            let signer = unlock(&args.keystore)?;
            let mut code = ExitCode::SUCCESS;
            for batch in samples.chunks(MAX_SAMPLES_PER_REQUEST) {
                let command = Command::ReportUptime { node_id: NodeId(node), reports: batch.to_vec() };
                code = submit_and_print(&client, &signer, command, json_out).await;
                if code != ExitCode::SUCCESS {
                    break;
                }
            }
            Ok(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Subcommand)]
    enum Top {
        Guardian(GuardianArgs),
        Node(NodeArgs),
    }

    fn propose(args: &[&str]) -> anyhow::Result<ParamUpdate> {
        let mut argv = vec!["tfeco", "guardian", "propose"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Top::Guardian(GuardianArgs { command: GuardianCommand::Propose(p), .. }) => p.into_update(),
            _ => bail!("not a proposal"),
        }
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
    fn report_uptime_needs_samples() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["tfeco", "node", "report-uptime", "--node", "3"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).map(|_| ())
        };
        assert!(parse(&["--at", "10", "--uptime", "5", "--at", "20", "--uptime", "15"]).is_ok());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--at", "10"]).is_err());
        assert!(parse(&["--file", "x.csv", "--at", "1", "--uptime", "1"]).is_err());
    }

    fn report_view(receipts: Value, total: &str, scaled: bool) -> Value {
        let canonical = receipts.to_string();
        json!({
            "period": 91, "rule_set": "v3", "total": total, "scaled_to_cap": scaled,
            "hash": blake3::hash(canonical.as_bytes()).to_hex().to_string(), "canonical_json": canonical,
        })
    }

    fn receipt(reward: &str, unscaled: &str, uptime: u32, violations: u32) -> Value {
        json!({
            "node_id": 1, "farm_id": 1, "period": 91, "certified": false, "credited_s": 0,
            "resources": { "cpu_cores": 16, "passmark": 22000, "mem_gb": 32, "ssd_gb": 1000, "ai_mem_gb": 0, "ai_tps": 0 },
            "uptime_permill": uptime, "violations": violations, "violation": null,
            "reward_unscaled": unscaled, "reward": reward,
        })
    }

    #[test]
    fn a_guardian_verifies_hash_total_and_v3_rewards_before_signing() {
        // 16 cores, 32 GB, 1,000 GB at 100 %: 22,600 mUSD = 282.5 TFT.
        let good = report_view(json!([receipt("282.5", "282.5", 1_000, 0)]), "282.5", false);
        let hash = verify_report(&good, true).unwrap();
        assert_eq!(hash, good["hash"].as_str().unwrap());
        // The node publishes a hash that is not blake3 of its canonical JSON.
        let mut tampered = good.clone();
        tampered["canonical_json"] = json!(good["canonical_json"].as_str().unwrap().replace("282.5", "2825"));
        assert!(verify_report(&tampered, true).unwrap_err().contains("blake3"));
        // A consistent report whose reward is not what the v3 rules give.
        let inflated = report_view(json!([receipt("300", "300", 1_000, 0)]), "300", false);
        assert!(verify_report(&inflated, true).unwrap_err().contains("282.5"));
        assert!(verify_report(&inflated, false).is_ok(), "--skip-reward-check");
        // A violation zeroes the reward.
        let violated = report_view(json!([receipt("282.5", "282.5", 1_000, 1)]), "282.5", false);
        assert!(verify_report(&violated, true).is_err());
        // Totals must add up; a scaled reward must not exceed the unscaled one.
        let bad_total = report_view(json!([receipt("282.5", "282.5", 1_000, 0)]), "282.6", false);
        assert!(verify_report(&bad_total, true).unwrap_err().contains("sum"));
        let scaled = report_view(json!([receipt("100", "282.5", 1_000, 0)]), "100", true);
        assert!(verify_report(&scaled, true).is_ok());
        let unscaled_mismatch = report_view(json!([receipt("100", "282.5", 1_000, 0)]), "100", false);
        assert!(verify_report(&unscaled_mismatch, true).is_err());
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
