//! `tfeco wallet exit-pool`: the exit pool (Pool 3, spec `decisions.md` §8). Positions lock TFP for
//! time-weighted margin (`position open|close|list`); sealed exit bids sell a position's TFP for USDC at no
//! less than a min price in the round's Dutch auction (`bid`, `amend`, `cancel`, and your own `bids` through
//! a signed read); the current `round` and the published results (`history`).

use std::process::ExitCode;

use clap::Subcommand;
use tfeco_core::ids::{ExitBidId, PositionId};
use tfeco_core::{Command, RoundId};
use tfeco_money::{Amount, Price, Tfp, Usdc};
use tfeco_wallet::api::exit_pool::PositionsQuery;

use crate::connect::Session;
use crate::render;

/// `tfeco wallet exit-pool ...`.
#[derive(Subcommand)]
pub(crate) enum ExitPoolCommand {
    /// Positions: TFP locked for time-weighted margin.
    #[command(subcommand)]
    Position(PositionCommand),
    /// Place a sealed exit bid: sell TFP from a position for USDC at no less than a min price.
    Bid {
        /// Position id.
        #[arg(long)]
        position: u64,
        /// USDC wanted.
        #[arg(long)]
        usdc: Amount<Usdc>,
        /// Lowest acceptable price, USD per TFP.
        #[arg(long)]
        min_price: Price,
        /// Carry the unfilled part into the next round.
        #[arg(long)]
        carry_over: bool,
    },
    /// Change a bid (inside the lock window only a lower min price).
    Amend {
        /// Bid id.
        #[arg(long)]
        bid: u64,
        /// New USDC amount.
        #[arg(long)]
        usdc: Amount<Usdc>,
        /// New min price.
        #[arg(long)]
        min_price: Price,
    },
    /// Cancel a bid (not inside the lock window).
    Cancel {
        /// Bid id.
        #[arg(long)]
        bid: u64,
    },
    /// Your own open bids (a signed read: bids are sealed).
    Bids,
    /// The current round: times, aggregate counts, pool balances.
    Round,
    /// Published round results (all, or one with --round).
    History {
        /// A round id for its full per-bid result.
        #[arg(long)]
        round: Option<u64>,
    },
}

/// `tfeco wallet exit-pool position ...`.
#[derive(Subcommand)]
pub(crate) enum PositionCommand {
    /// Lock TFP as a new position.
    Open {
        /// TFP to lock.
        #[arg(long)]
        tfp: Amount<Tfp>,
    },
    /// Close a position (after the minimum lock), returning its TFP and earned TFP.
    Close {
        /// Position id.
        #[arg(long)]
        id: u64,
    },
    /// List this wallet's positions.
    List,
}

/// Runs `tfeco wallet exit-pool ...`.
pub(crate) async fn run(session: &Session, command: ExitPoolCommand) -> anyhow::Result<ExitCode> {
    let client = &session.client;
    let command = match command {
        ExitPoolCommand::Position(PositionCommand::List) => {
            let query = PositionsQuery { owner: Some(session.account()?) };
            return session.answer(client.exit_positions(&query).await, render::pretty);
        }
        ExitPoolCommand::Round => return session.answer(client.exit_round().await, render::pretty),
        ExitPoolCommand::History { round: Some(id) } => {
            return session.answer(client.exit_round_result(RoundId(id)).await, render::pretty);
        }
        ExitPoolCommand::History { round: None } => {
            return session.answer(client.exit_rounds().await, render::pretty);
        }
        ExitPoolCommand::Bids => {
            return session.answer(client.own_exit_bids(&session.unlock()?).await, render::pretty);
        }
        ExitPoolCommand::Position(PositionCommand::Open { tfp }) => Command::OpenPosition { tfp },
        ExitPoolCommand::Position(PositionCommand::Close { id }) => {
            Command::ClosePosition { position_id: PositionId(id) }
        }
        ExitPoolCommand::Bid { position, usdc, min_price, carry_over } => {
            Command::SubmitExitBid { position_id: PositionId(position), usdc, min_price, carry_over }
        }
        ExitPoolCommand::Amend { bid, usdc, min_price } => {
            Command::AmendExitBid { bid_id: ExitBidId(bid), usdc, min_price }
        }
        ExitPoolCommand::Cancel { bid } => Command::CancelExitBid { bid_id: ExitBidId(bid) },
    };
    session.submit(command).await
}
