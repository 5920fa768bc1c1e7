//! `tfeco guardian`: guardian governance from the command line (spec `decisions.md` §3, §11, §12), signed
//! with the guardian's keystore (`--keystore`, password from `TFECO_PASSWORD` or a prompt).
//!
//! - `sign-report --period K [--hash H]`: signs a minting report. Without `--hash`, the guardian verifies
//!   first ([`report`]): it fetches the report, re-computes blake3 over the canonical JSON **locally**,
//!   checks that the total is the sum of the receipts and, for the `v3` rule set, re-computes every receipt's
//!   reward with the default v3 rules (`--skip-reward-check` to sign a report made with other rule
//!   parameters), and signs the hash it computed. A mismatch refuses to sign (exit 3, code
//!   `report_verification_failed`).
//! - `sign-checkpoint [--seq N]` ([`checkpoint`]): downloads the genesis and the journal, verifies and
//!   replays it here, and signs the node's checkpoint only when its journal and state hashes are the ones
//!   computed here (else exit 3, `checkpoint_verification_failed`, both hashes printed, nothing signed).
//! - `propose` ([`propose`]), `sign-change --id N`, `changes [--status pending|approved|applied]`, `show`
//!   (the set and thresholds);
//! - `attest-deposit`, `attest-withdrawal`, `price`: like `tfeco admin`, signed by the guardian's keystore;
//! - `attest-exit-deposit --usdc X --tx-id ID`: external USDC deposited into the exit pool itself, and
//!   `approve-treasury-transfer --usdc X --ref R`: treasury USDC into the exit pool (decisions §8; both
//!   execute when `guardian_threshold` guardians signed the identical facts).

pub(crate) mod checkpoint;
mod propose;
mod report;

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use tfeco_core::Command;
use tfeco_money::Price;
use tfeco_wallet::api::governance::{ParamChangeStatus, ParamChangesQuery};

use crate::args::{DepositArgs, ExitPoolDepositArgs, FeedArg, TreasuryTransferArgs, WithdrawalArgs};
use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco guardian`.
#[derive(clap::Args)]
pub(crate) struct GuardianArgs {
    #[command(flatten)]
    connect: ConnectOpts,
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
    /// Sign a guardian checkpoint after replaying the node's journal here (default: its newest checkpoint).
    SignCheckpoint {
        /// The checkpoint's journal sequence number.
        #[arg(long)]
        seq: Option<u64>,
    },
    /// Propose a parameter change (your proposal counts as your signature).
    Propose(Box<propose::ProposeArgs>),
    /// Sign a pending parameter change.
    SignChange {
        /// The change id.
        #[arg(long)]
        id: u64,
    },
    /// Parameter changes: pending, approved (waiting for their delay) and applied.
    Changes {
        /// Only changes with this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// The guardian set, the signature threshold and the oracle quorum.
    Show,
    /// Attest an external deposit of TFT or USDC (executes at the guardian threshold).
    AttestDeposit(DepositArgs),
    /// Attest that a requested withdrawal was paid out (executes at the guardian threshold).
    AttestWithdrawal(WithdrawalArgs),
    /// Attest external USDC deposited into the exit pool itself (executes at the guardian threshold).
    AttestExitDeposit(ExitPoolDepositArgs),
    /// Approve moving treasury USDC into the exit pool (executes at the guardian threshold).
    ApproveTreasuryTransfer(TreasuryTransferArgs),
    /// Submit an oracle price (observed now, or at --observed-at).
    Price {
        /// The feed.
        #[arg(long, value_enum)]
        feed: FeedArg,
        /// Price in USD.
        #[arg(long)]
        price: Price,
        /// Observation time, unix seconds (default: the node's current time).
        #[arg(long)]
        observed_at: Option<i64>,
    },
}

/// Where a parameter change stands, on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StatusArg {
    /// Waiting for guardian signatures.
    Pending,
    /// Signed; waiting for its delay.
    Approved,
    /// In force.
    Applied,
}

impl StatusArg {
    fn status(self) -> ParamChangeStatus {
        match self {
            StatusArg::Pending => ParamChangeStatus::Pending,
            StatusArg::Approved => ParamChangeStatus::Approved,
            StatusArg::Applied => ParamChangeStatus::Applied,
        }
    }
}

/// Runs `tfeco guardian`.
pub(crate) async fn run(args: GuardianArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    let client = &session.client;
    let command = match args.command {
        GuardianCommand::Show => return session.answer(client.guardians().await, render::pretty),
        GuardianCommand::Changes { status } => {
            let query = ParamChangesQuery { status: status.map(StatusArg::status) };
            return session.answer(client.param_changes(&query).await, render::governance::changes);
        }
        GuardianCommand::SignReport { period, hash: Some(hash), .. } => {
            Command::SignMintReport { period, report_hash: hash }
        }
        GuardianCommand::SignReport { period, hash: None, skip_reward_check } => {
            return sign_verified_report(&session, period, !skip_reward_check).await;
        }
        GuardianCommand::SignCheckpoint { seq } => return checkpoint::run(&session, seq).await,
        GuardianCommand::Propose(propose) => Command::ProposeParamChange { update: propose.into_update()? },
        GuardianCommand::SignChange { id } => {
            Command::SignParamChange { change_id: tfeco_core::ParamChangeId(id) }
        }
        GuardianCommand::AttestDeposit(deposit) => deposit.command(),
        GuardianCommand::AttestWithdrawal(withdrawal) => withdrawal.command(),
        GuardianCommand::AttestExitDeposit(deposit) => deposit.command(),
        GuardianCommand::ApproveTreasuryTransfer(transfer) => transfer.command(),
        GuardianCommand::Price { feed, price, observed_at } => {
            let observed_at = match observed_at {
                Some(t) => t,
                None => match session.node_now().await {
                    Ok(now) => now,
                    Err(error) => return Ok(render::call_error(session.json, &error)),
                },
            };
            Command::SubmitPrice { feed: feed.feed(), price, observed_at }
        }
    };
    session.submit(command).await
}

/// Fetches the report, verifies it locally ([`report::verify_report`]) and signs the hash it computed; a
/// mismatch refuses (exit 3, `report_verification_failed`) without signing.
async fn sign_verified_report(
    session: &Session,
    period: u32,
    check_rewards: bool,
) -> anyhow::Result<ExitCode> {
    let report = match session.client.mint_report(period).await {
        Ok(report) => report,
        Err(error) => return Ok(render::call_error(session.json, &error)),
    };
    match report::verify_report(&report, check_rewards) {
        Ok(hash) => {
            if !session.json {
                eprintln!("verified: blake3 {hash} over {} receipt(s)", report.summary.nodes);
            }
            session.submit(Command::SignMintReport { period, report_hash: hash }).await
        }
        Err(reason) => Ok(render::refuse(session.json, "report_verification_failed", &reason)),
    }
}
