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
//! (the node's view). A refusal exits 3 with its stable code, an unreachable node 4.

use std::process::ExitCode;

use clap::Subcommand;
use tfeco_core::{AccountKey, NodeId};
use tfeco_wallet::api::rewards::VestingQuery;

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

/// Runs `tfeco mint`.
pub(crate) async fn run(args: MintArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    let client = &session.client;
    match args.command {
        MintCommand::Report { period } => {
            session.answer(client.mint_report(period).await, render::mint::report)
        }
        MintCommand::Reports => session.answer(client.mint_reports().await, render::mint::reports),
        MintCommand::Vesting { owner } => {
            session.answer(client.vesting(&VestingQuery { owner }).await, render::mint::vesting)
        }
        MintCommand::Uptime { node } => {
            session.answer(client.node_uptime(NodeId(node)).await, render::mint::uptime)
        }
    }
}
