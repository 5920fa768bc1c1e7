//! `tfeco node`: node uptime (spec `decisions.md` §11). `set-key --node N --key HEX`: the farmer (keystore)
//! names the key its node reports uptime with; `report-uptime --node N --at T --uptime S [--at T --uptime
//! S ...] | --file CSV`: the node (keystore of the node key) reports samples, in batches of at most the
//! node's limit per request (its parameter `max_uptime_reports_per_command`); the CSV has `at,uptime_s`
//! lines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{ArgGroup, Subcommand};
use tfeco_core::UptimeSample;
use tfeco_core::{AccountKey, Command, NodeId};

use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco node`.
#[derive(clap::Args)]
pub(crate) struct NodeArgs {
    // `--keystore`: the farmer's key for set-key, the node's key for report-uptime.
    #[command(flatten)]
    connect: ConnectOpts,
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
    /// Follow the node's events and print one JSON line per action its operator must take (provision,
    /// stop_scheduled, stop, grace_warning, grace_cleared); reconnects with Last-Event-ID.
    Agent(super::node_agent::AgentArgs),
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

/// The samples of the command line: the file's, or the `--at`/`--uptime` pairs.
fn samples_of(at: Vec<i64>, uptime: Vec<u64>, file: Option<PathBuf>) -> anyhow::Result<Vec<UptimeSample>> {
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
    Ok(samples)
}

/// Runs `tfeco node`.
pub(crate) async fn run(args: NodeArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    match args.command {
        NodeCommand::SetKey { node, key } => {
            session.submit(Command::SetNodeKey { node_id: NodeId(node), node_key: key }).await
        }
        NodeCommand::ReportUptime { node, at, uptime, file } => {
            report_uptime(&session, NodeId(node), samples_of(at, uptime, file)?).await
        }
        NodeCommand::Agent(agent) => super::node_agent::run(&session, agent).await,
    }
}

/// Reports `samples` in requests of at most the node's limit, in order; stops at the first refusal.
async fn report_uptime(
    session: &Session,
    node_id: NodeId,
    samples: Vec<UptimeSample>,
) -> anyhow::Result<ExitCode> {
    let signer = session.unlock()?;
    let limit = match session.client.params().await {
        Ok(params) => usize::try_from(params.max_uptime_reports_per_command).unwrap_or(usize::MAX).max(1),
        Err(error) => return Ok(render::call_error(session.json, &error)),
    };
    let mut code = ExitCode::SUCCESS;
    for batch in samples.chunks(limit) {
        let command = Command::ReportUptime { node_id, reports: batch.to_vec() };
        code = session.submit_as(&signer, command, render::accepted).await?;
        if code != ExitCode::SUCCESS {
            break;
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: NodeArgs,
    }

    #[test]
    fn report_uptime_needs_samples() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["node", "report-uptime", "--node", "3"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv).map(|_| ())
        };
        assert!(parse(&["--at", "10", "--uptime", "5", "--at", "20", "--uptime", "15"]).is_ok());
        assert!(parse(&["--at", "10", "--uptime", "5", "--url", "http://n:1"]).is_ok());
        assert!(parse(&[]).is_err());
        assert!(parse(&["--at", "10"]).is_err());
        assert!(parse(&["--file", "x.csv", "--at", "1", "--uptime", "1"]).is_err());
    }

    #[test]
    fn samples_come_in_pairs_or_from_a_file() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("uptime.csv");
        std::fs::write(&path, "at,uptime_s\n# a comment\n10,5\n\n20,15\n").unwrap();
        let samples = samples_of(Vec::new(), Vec::new(), Some(path.clone())).unwrap();
        assert_eq!(samples, [UptimeSample { at: 10, uptime_s: 5 }, UptimeSample { at: 20, uptime_s: 15 }]);
        std::fs::write(&path, "10,5\n20,x\n").unwrap();
        assert!(samples_of(Vec::new(), Vec::new(), Some(path)).unwrap_err().to_string().contains(":2:"));
        assert!(samples_of(vec![1, 2], vec![1], None).unwrap_err().to_string().contains("as many --uptime"));
    }
}
