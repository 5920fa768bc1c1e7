//! `tfeco bench`: performance report (core, journal, replay, HTTP).

use std::process::ExitCode;

/// Arguments of `tfeco bench`.
#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Smaller workloads (seconds instead of a minute).
    #[arg(long)]
    quick: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let _ = (args.quick, args.json);
    anyhow::bail!("not yet implemented")
}
