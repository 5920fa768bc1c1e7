//! Argument types several command groups share: billing modes, basis points, oracle feeds, the guardians'
//! attestations (deposits, withdrawals, exit-pool funding).

use clap::ValueEnum;
use tfeco_core::{AccountKey, Billing, Command, PriceFeed, TreasuryDestination, WithdrawalId};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Usdc};

/// Billing mode on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum BillingArg {
    /// One-hour periods at the hourly price.
    Hourly,
    /// 720-hour periods at the monthly price.
    Monthly,
}

impl BillingArg {
    pub(crate) fn billing(self) -> Billing {
        match self {
            BillingArg::Hourly => Billing::Hourly,
            BillingArg::Monthly => Billing::Monthly,
        }
    }
}

/// An oracle price feed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FeedArg {
    /// TFT in USD.
    #[value(name = "tft_usd")]
    TftUsd,
    /// Gold in USD per troy ounce.
    #[value(name = "gold_usd_per_oz")]
    GoldUsdPerOz,
}

impl FeedArg {
    pub(crate) fn feed(self) -> PriceFeed {
        match self {
            FeedArg::TftUsd => PriceFeed::TftUsd,
            FeedArg::GoldUsdPerOz => PriceFeed::GoldUsdPerOz,
        }
    }
}

/// Whole basis points from 0 to 10,000.
pub(crate) fn parse_bps(s: &str) -> Result<Bps, String> {
    s.trim().parse::<u16>().ok().and_then(Bps::new).ok_or_else(|| {
        format!("invalid basis points {s:?}: expected a whole number from 0 to 10000 (1000 = 10%)")
    })
}

/// An attestation of an external deposit (operator in `admin deposit`, guardian in `guardian attest-deposit`).
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct DepositArgs {
    /// Credited account.
    #[arg(long)]
    to: AccountKey,
    /// TFT or USDC.
    #[arg(long)]
    asset: Asset,
    /// Amount.
    #[arg(long)]
    amount: Amount<AnyAsset>,
    /// External transaction id (unique; the same for every guardian that attests it).
    #[arg(long)]
    tx_id: String,
}

impl DepositArgs {
    /// The `AttestDeposit` command.
    pub(crate) fn command(self) -> Command {
        Command::AttestDeposit {
            asset: self.asset,
            to: self.to,
            amount: self.amount,
            external_tx_id: self.tx_id,
        }
    }
}

/// An attestation that a requested withdrawal was paid out.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct WithdrawalArgs {
    /// Withdrawal id.
    #[arg(long)]
    id: u64,
    /// External transaction id.
    #[arg(long)]
    tx_id: String,
}

impl WithdrawalArgs {
    /// The `AttestWithdrawal` command.
    pub(crate) fn command(self) -> Command {
        Command::AttestWithdrawal { withdrawal_id: WithdrawalId(self.id), external_tx_id: self.tx_id }
    }
}

/// An attestation of external USDC whose destination is the exit pool itself (decisions §8): operator in
/// `admin exit-deposit`, guardian in `guardian attest-exit-deposit`. Every guardian attests the identical
/// amount and id; the USDC enters `exit_pool.usdc` at the guardian threshold.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct ExitPoolDepositArgs {
    /// USDC received, e.g. 25000 or 12.5.
    #[arg(long)]
    usdc: Amount<Usdc>,
    /// External transaction id (unique; the same for every guardian that attests it).
    #[arg(long)]
    tx_id: String,
}

impl ExitPoolDepositArgs {
    /// The `AttestExitPoolDeposit` command.
    pub(crate) fn command(self) -> Command {
        Command::AttestExitPoolDeposit { usdc: self.usdc, external_tx_id: self.tx_id }
    }
}

/// An approval of a treasury transfer into the exit pool (decisions §8, §12): operator in
/// `admin treasury-transfer`, guardian in `guardian approve-treasury-transfer`. Every guardian approves the
/// identical amount and reference; the USDC moves at the guardian threshold (refused with `balance_low`
/// while the treasury lacks it).
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct TreasuryTransferArgs {
    /// USDC to move from the treasury to the exit pool.
    #[arg(long)]
    usdc: Amount<Usdc>,
    /// The transfer's reference (unique; the same for every guardian that approves it).
    #[arg(long = "ref")]
    transfer_ref: String,
}

impl TreasuryTransferArgs {
    /// The `ApproveTreasuryTransfer` command (destination: the exit pool).
    pub(crate) fn command(self) -> Command {
        Command::ApproveTreasuryTransfer {
            usdc: self.usdc,
            to: TreasuryDestination::ExitPool,
            transfer_ref: self.transfer_ref,
        }
    }
}
