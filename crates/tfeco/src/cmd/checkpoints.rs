//! `tfeco checkpoints`: the node's guardian checkpoints (`GET /v1/checkpoints`): seq, journal and state
//! hashes, signatures of the threshold and whether each is final. Read-only; `--json` prints the view as is.

use std::process::ExitCode;

use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco checkpoints`.
#[derive(clap::Args)]
pub(crate) struct CheckpointsArgs {
    #[command(flatten)]
    connect: ConnectOpts,
}

/// Runs `tfeco checkpoints`.
pub(crate) async fn run(args: CheckpointsArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    session.answer(session.client.checkpoints().await, render::checkpoints::list)
}
