//! `tfeco wallet pool2`: Pool 2 (spec `decisions.md` §5, §6): revenue CC to TFP and TFP to CC at the oracle
//! price, and how a farmer's revenue settles (in CC, or in TFP converted through Pool 2 when credited).

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use tfeco_core::Command;
use tfeco_core::Settlement;
use tfeco_money::{Amount, Cc, Tfp};

use crate::connect::Session;

/// `tfeco wallet pool2 ...`.
#[derive(Subcommand)]
pub(crate) enum Pool2Command {
    /// Revenue CC to TFP at the oracle price.
    CcToTfp {
        /// CC to convert.
        #[arg(long)]
        cc: Amount<Cc>,
        /// Convert what the reserve allows instead of refusing a shortfall.
        #[arg(long)]
        partial: bool,
    },
    /// TFP to CC at the oracle price.
    TfpToCc {
        /// TFP to convert.
        #[arg(long)]
        tfp: Amount<Tfp>,
    },
    /// How your farmer revenue settles: cc (default) or tfp (converted through Pool 2 when credited).
    Settle {
        /// cc or tfp.
        #[arg(long = "in", value_enum)]
        settle_in: SettleIn,
    },
}

/// The asset farmer revenue settles in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SettleIn {
    /// Cloud Credits.
    Cc,
    /// TFP, converted through Pool 2 when the revenue is credited.
    Tfp,
}

/// Runs `tfeco wallet pool2 ...`.
pub(crate) async fn run(session: &Session, command: Pool2Command) -> anyhow::Result<ExitCode> {
    let command = match command {
        Pool2Command::CcToTfp { cc, partial } => Command::ConvertCcToTfp { cc, allow_partial: partial },
        Pool2Command::TfpToCc { tfp } => Command::ConvertTfpToCc { tfp },
        Pool2Command::Settle { settle_in } => Command::SetSettlement {
            settle_in: match settle_in {
                SettleIn::Cc => Settlement::Cc,
                SettleIn::Tfp => Settlement::Tfp,
            },
        },
    };
    session.submit(command).await
}
