//! `tfeco admin`: operator commands (attested deposits and withdrawals, fiat entries, oracle prices,
//! ticks) signed with the node's `operator.key` from its data directory and sent over HTTP.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use tfeco_core::{AccountKey, Command, PriceFeed, WithdrawalId};
use tfeco_money::{Amount, AnyAsset, Asset, Price, Usdc};
use tfeco_server::datadir::OPERATOR_KEY_FILE;
use tfeco_wallet::Client;

/// Arguments of `tfeco admin`.
#[derive(Args)]
pub(crate) struct AdminArgs {
    /// The node's data directory (for `operator.key`).
    #[arg(long, default_value = "tfeco-data", global = true)]
    data_dir: PathBuf,
    /// Node URL.
    #[arg(long, env = "TFECO_NODE", default_value = "http://127.0.0.1:8080", global = true)]
    node: String,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Attest an external deposit of TFT or USDC.
    Deposit {
        /// Credited account.
        #[arg(long)]
        to: AccountKey,
        /// TFT or USDC.
        #[arg(long)]
        asset: Asset,
        /// Amount.
        #[arg(long)]
        amount: Amount<AnyAsset>,
        /// External transaction id (unique).
        #[arg(long)]
        tx_id: String,
    },
    /// Attest that a requested withdrawal was paid out.
    Withdrawal {
        /// Withdrawal id.
        #[arg(long)]
        id: u64,
        /// External transaction id.
        #[arg(long)]
        tx_id: String,
    },
    /// Attest a fiat payment: mints CC to the payer at the gold price.
    Fiat {
        /// Paying account.
        #[arg(long)]
        to: AccountKey,
        /// USD paid.
        #[arg(long)]
        usd: Amount<Usdc>,
        /// Payment id (unique).
        #[arg(long)]
        payment_id: String,
    },
    /// Submit an oracle price (observed now, or at --observed-at).
    Price {
        /// tft_usd or gold_usd_per_oz.
        #[arg(long, value_parser = ["tft_usd", "gold_usd_per_oz"])]
        feed: String,
        /// Price in USD.
        #[arg(long)]
        price: Price,
        /// Observation time, unix seconds (default: the node's current time).
        #[arg(long)]
        observed_at: Option<i64>,
    },
    /// Move USDC from the treasury into the exit pool.
    FundExitPool {
        /// USDC.
        #[arg(long)]
        usdc: Amount<Usdc>,
    },
    /// Advance the node's time (manual clock).
    Tick {
        /// New time, unix seconds.
        #[arg(long)]
        now: i64,
    },
}

pub(crate) async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let path = args.data_dir.join(OPERATOR_KEY_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .with_context(|| format!("{} is not a hex key", path.display()))?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let client = Client::new(&args.node);
    let command = match args.command {
        AdminCommand::Deposit { to, asset, amount, tx_id } => {
            Command::AttestDeposit { asset, to, amount, external_tx_id: tx_id }
        }
        AdminCommand::Withdrawal { id, tx_id } => {
            Command::AttestWithdrawal { withdrawal_id: WithdrawalId(id), external_tx_id: tx_id }
        }
        AdminCommand::Fiat { to, usd, payment_id } => Command::EnterWithFiat { to, usd, payment_id },
        AdminCommand::Price { feed, price, observed_at } => {
            let observed_at = match observed_at {
                Some(t) => t,
                None => client.get("/v1/status").await?["now"].as_i64().context("status without time")?,
            };
            let feed = if feed == "tft_usd" { PriceFeed::TftUsd } else { PriceFeed::GoldUsdPerOz };
            Command::SubmitPrice { feed, price, observed_at }
        }
        AdminCommand::Tick { now } => Command::Tick { now },
        AdminCommand::FundExitPool { usdc } => Command::FundExitPool { usdc },
    };
    Ok(crate::wallet::submit_and_print(&client, &key, command, args.json).await)
}
