//! `tfeco mint`: minting reports, vesting and node uptime as the node sees them (spec `decisions.md` §11):
//!
//! - `report --period K`: one period's report: a receipts table (node, uptime ‰, violations, reward), the
//!   total, the hash, the guardian signatures `k/n`, minted or pending, and a note when the report was
//!   scaled down to stay under the 1,000,000,000 TFT cap;
//! - `reports`: every report, one line each, and the next period to close;
//! - `vesting [--owner KEY]`: the vesting records of the nodes of a key's farms (total, released, locked,
//!   vested and releasable now);
//! - `uptime --node N`: a node's report key and the running uptime of its open period(s).
//!
//! Read-only: only the node's URL is needed (`--url URL` or `TFECO_NODE`). Every command has `--json`
//! (the node's JSON as is). A refusal exits 3 with its stable code, an unreachable node 4.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::Value;
use tfeco_core::AccountKey;
use tfeco_wallet::{Client, ClientError};

use super::paths;
use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco mint`.
#[derive(clap::Args)]
pub(crate) struct MintArgs {
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(subcommand)]
    command: MintCommand,
}

#[derive(Subcommand)]
enum MintCommand {
    /// One period's minting report: receipts, total, hash, signatures, minted or pending.
    Report {
        /// The v3 minting period.
        #[arg(long)]
        period: u32,
    },
    /// Every minting report, one line each.
    Reports,
    /// Vesting of minted rewards for the nodes of a key's farms (all nodes without --owner).
    Vesting {
        /// The farm owner's account key.
        #[arg(long)]
        owner: Option<AccountKey>,
    },
    /// A node's uptime in its open minting period(s).
    Uptime {
        /// The node id.
        #[arg(long)]
        node: u32,
    },
}

// Minting's HTTP calls.

async fn get_report(client: &Client, period: u32) -> Result<Value, ClientError> {
    client.get(&paths::mint_report(period)).await
}

async fn get_reports(client: &Client) -> Result<Value, ClientError> {
    client.get(paths::MINT_REPORTS).await
}

async fn get_vesting(client: &Client, owner: Option<&AccountKey>) -> Result<Value, ClientError> {
    client.get(&paths::vesting(owner)).await
}

async fn get_uptime(client: &Client, node_id: u32) -> Result<Value, ClientError> {
    client.get(&paths::node_uptime(node_id)).await
}

/// Runs `tfeco mint`.
pub(crate) async fn run(args: MintArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect);
    let client = &session.client;
    match args.command {
        MintCommand::Report { period } => {
            session.answer(get_report(client, period).await, render::mint::report)
        }
        MintCommand::Reports => session.answer(get_reports(client).await, render::mint::reports),
        MintCommand::Vesting { owner } => {
            session.answer(get_vesting(client, owner.as_ref()).await, render::mint::vesting)
        }
        MintCommand::Uptime { node } => session.answer(get_uptime(client, node).await, render::mint::uptime),
    }
}
