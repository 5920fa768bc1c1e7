//! `tfeco admin`: operator commands (attested deposits and withdrawals, fiat entries, oracle prices,
//! ticks, the published bid tiers, identity verification for the exchange) signed with the node's
//! `operator.key` from its data directory and sent over HTTP.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tfeco_core::capacity::Requirements;
use tfeco_core::{AccountKey, Command, PriceFeed, WithdrawalId};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Price, Usdc};
use tfeco_server::datadir::OPERATOR_KEY_FILE;
use tfeco_wallet::Client;

/// Arguments of `tfeco admin`.
#[derive(Args)]
pub(crate) struct AdminArgs {
    /// The node's data directory (for `operator.key`).
    #[arg(long, default_value = "tfeco-data", global = true)]
    data_dir: PathBuf,
    /// Node URL (`--url`; `--node` is a node id in the subcommands that take one).
    #[arg(long = "url", env = "TFECO_NODE", default_value = "http://127.0.0.1:8080", global = true)]
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
    /// Mark an account verified (or not, with --unverify) for identity-gated exchange markets.
    Verify {
        /// The account.
        #[arg(long)]
        account: AccountKey,
        /// Remove the verification instead.
        #[arg(long)]
        unverify: bool,
    },
    /// Advance the node's time (manual clock).
    Tick {
        /// New time, unix seconds.
        #[arg(long)]
        now: i64,
    },
    /// Post the published bid tiers (Standard Compute, Memory-Heavy) as the operator's standing bids.
    ///
    /// Standard Compute: passmark>=2000 mem_gb>=4 per slice, 1.2 CC per slice-month, 20,000 slices;
    /// Memory-Heavy: mem_gb>=8, 2.4 CC, 2,000 slices. Their first month, 28,800 CC, is escrowed from the
    /// operator account (refused with balance_low, before anything is posted, when it holds less); a tier
    /// the operator already has open is skipped.
    SeedBidTiers {
        /// Lease length in months of the leases the bids create [default: until cancelled].
        #[arg(long)]
        periods: Option<u32>,
    },
}

/// A published bid tier (spec `marketplace_and_nodes.md` §5.2, issue 4).
struct BidTier {
    name: &'static str,
    requirements: Requirements,
    price_month: &'static str,
    quantity: u32,
}

/// The published tiers: Standard Compute (BID-1: 1.2 CC x 20,000 = 24,000 CC per month) and Memory-Heavy
/// (BID-2: 2.4 CC x 2,000 = 4,800 CC per month).
fn bid_tiers() -> [BidTier; 2] {
    [
        BidTier {
            name: "Standard Compute",
            requirements: Requirements { min_passmark: 2_000, min_mem_gb: 4, ..Requirements::default() },
            price_month: "1.2",
            quantity: 20_000,
        },
        BidTier {
            name: "Memory-Heavy",
            requirements: Requirements { min_mem_gb: 8, ..Requirements::default() },
            price_month: "2.4",
            quantity: 2_000,
        },
    ]
}

impl BidTier {
    fn price(&self) -> Amount<Cc> {
        self.price_month.parse().expect("constant price")
    }

    /// The first month's escrow, `price x quantity`.
    fn escrow(&self) -> Amount<Cc> {
        Amount::from_units(self.price().units() * i128::from(self.quantity))
    }
}

/// Posts the tiers the operator does not have open yet. The operator's CC is checked first, so that
/// either every missing tier is posted or none (`balance_low`, exit 3, as a refusal by the node).
async fn seed_bid_tiers(
    client: &Client,
    key: &ed25519_dalek::SigningKey,
    periods: Option<u32>,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    let operator = tfeco_wallet::client::account_of(key);
    let open = match client.get(&format!("/v1/market/standing-bids?buyer={operator}&open=true")).await {
        Ok(value) => value["standing_bids"].as_array().cloned().unwrap_or_default(),
        Err(error) => return Ok(crate::wallet::report_error(json_out, &error)),
    };
    let existing = |name: &str| open.iter().find(|b| b["name"] == name).and_then(|b| b["id"].as_u64());
    let (skipped, todo): (Vec<BidTier>, Vec<BidTier>) =
        bid_tiers().into_iter().partition(|t| existing(t.name).is_some());
    let needed = Amount::<Cc>::from_units(todo.iter().map(|t| t.escrow().units()).sum());
    let account = match client.get(&format!("/v1/accounts/{operator}")).await {
        Ok(value) => value,
        Err(error) => return Ok(crate::wallet::report_error(json_out, &error)),
    };
    let available: Amount<Cc> = account["balances"]["CC"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .context("the node's account view has no CC balance")?;
    if available < needed {
        let names: Vec<String> = todo.iter().map(|t| format!("{} {} CC", t.name, t.escrow())).collect();
        let message = format!(
            "insufficient CC: {needed} needed, {available} available (the first month of {}); fund the \
             operator account {operator} with CC first (e.g. tfeco admin fiat)",
            names.join(" + ")
        );
        let error = tfeco_wallet::ClientError::Api { status: 422, code: "balance_low".to_owned(), message };
        return Ok(crate::wallet::report_error(json_out, &error));
    }
    let mut posted = Vec::new();
    for tier in &todo {
        let command = Command::PostStandingBid {
            name: tier.name.to_owned(),
            requirements: tier.requirements.clone(),
            price_month: tier.price(),
            quantity: tier.quantity,
            periods,
        };
        match client.submit_next(key, command).await {
            Ok(ok) => {
                let events = ok.events.as_array().cloned().unwrap_or_default();
                let bid_id = events.iter().find_map(|e| e["bid_id"].as_u64());
                posted.push(json!({
                    "name": tier.name, "bid_id": bid_id, "seq": ok.seq, "price_month": tier.price(),
                    "quantity": tier.quantity, "escrow": tier.escrow(),
                }));
            }
            Err(error) => {
                if !json_out {
                    for p in &posted {
                        eprintln!("posted {} as standing bid {}", p["name"], p["bid_id"]);
                    }
                }
                return Ok(crate::wallet::report_error(json_out, &error));
            }
        }
    }
    let skipped: Vec<Value> =
        skipped.iter().map(|t| json!({ "name": t.name, "bid_id": existing(t.name) })).collect();
    if json_out {
        println!("{}", json!({ "posted": posted, "skipped": skipped, "escrowed": needed }));
    } else {
        for p in &posted {
            println!(
                "posted {} as standing bid {}: {} slices at {} CC per slice-month, {} CC escrowed (entry {})",
                p["name"],
                p["bid_id"],
                p["quantity"],
                p["price_month"].as_str().unwrap_or("?"),
                p["escrow"].as_str().unwrap_or("?"),
                p["seq"]
            );
        }
        for s in &skipped {
            println!("skipped {}: already open as standing bid {}", s["name"], s["bid_id"]);
        }
    }
    Ok(ExitCode::SUCCESS)
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
        AdminCommand::Verify { account, unverify } => Command::SetVerified { account, verified: !unverify },
        AdminCommand::FundExitPool { usdc } => Command::FundExitPool { usdc },
        AdminCommand::SeedBidTiers { periods } => {
            return seed_bid_tiers(&client, &key, periods, args.json).await;
        }
    };
    Ok(crate::wallet::submit_and_print(&client, &key, command, args.json).await)
}
