//! `tfeco archive`: export a stopped node's journal entries up to its newest snapshot, with their chain,
//! into a standalone journal file; or check such a file against the node's journal.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tfeco_server::archive;

use crate::render;

/// Arguments of `tfeco archive`.
#[derive(clap::Args)]
pub(crate) struct ArchiveArgs {
    /// Data directory of the (stopped) node.
    #[arg(long, default_value = "tfeco-data")]
    data_dir: PathBuf,
    /// The archive file to write (must not exist), or with `--check` the one to check.
    #[arg(long)]
    out: PathBuf,
    /// Last entry to archive (default: the newest valid snapshot's; never beyond it).
    #[arg(long)]
    upto: Option<u64>,
    /// Check an existing archive instead of writing one.
    #[arg(long)]
    check: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `tfeco archive`.
pub(crate) fn run(args: ArchiveArgs) -> anyhow::Result<ExitCode> {
    let report = if args.check {
        archive::check(&args.out, &args.data_dir)?
    } else {
        archive::export(&args.data_dir, &args.out, args.upto)?
    };
    let value = json!({
        "archive": report.path.display().to_string(),
        "entries": report.last,
        "last_hash": hex::encode(report.last_hash),
        "verified": true,
    });
    let text = format!(
        "{}: entries 1..={} with their chain, entry {} hashes to {} as in the journal",
        report.path.display(),
        report.last,
        report.last,
        hex::encode(report.last_hash)
    );
    render::emit_line(&if args.json { value.to_string() } else { text })?;
    Ok(ExitCode::SUCCESS)
}
