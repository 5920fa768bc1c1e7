//! `tfeco admin`: operator commands (attested deposits and withdrawals, exit-pool funding, fiat entries, oracle prices, ticks,
//! the node's published bid tiers, identity verification for the exchange, a guardian checkpoint now) signed with the node's
//! `operator.key` from its data directory (`--data-dir`; `--keystore` is not used) and sent over HTTP to
//! `--url`. Guardian commands (attestations, prices) are signed by the guardians this data directory holds,
//! up to the number needed (`admin_quorum`): the operator on a single-key node, the development quorum of a
//! demo node.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use tfeco_core::{AccountKey, BidTier, Command, Event, StandingBidId};
use tfeco_money::{Amount, Cc, Price, Usdc};
use tfeco_server::datadir::OPERATOR_KEY_FILE;
use tfeco_wallet::api::capacity::StandingBidsQuery;
use tfeco_wallet::api::{ErrorBody, ErrorCode};
use tfeco_wallet::client::account_of;
use tfeco_wallet::{CallError, Client};

use super::admin_quorum;
use crate::args::{DepositArgs, ExitPoolDepositArgs, FeedArg, TreasuryTransferArgs, WithdrawalArgs};
use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco admin`.
#[derive(Args)]
#[command(mut_arg("keystore", |arg| arg.hide(true)))]
pub(crate) struct AdminArgs {
    /// The node's data directory (for `operator.key`).
    #[arg(long, default_value = "tfeco-data", global = true)]
    data_dir: PathBuf,
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Attest an external deposit of TFT or USDC.
    Deposit(DepositArgs),
    /// Attest that a requested withdrawal was paid out.
    Withdrawal(WithdrawalArgs),
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
    /// Attest external USDC deposited into the exit pool itself (executes at the guardian threshold).
    ExitDeposit(ExitPoolDepositArgs),
    /// Approve moving treasury USDC into the exit pool (executes at the guardian threshold).
    TreasuryTransfer(TreasuryTransferArgs),
    /// Mark an account verified (or not, with --unverify) for identity-gated exchange markets.
    Verify {
        /// The account.
        #[arg(long)]
        account: AccountKey,
        /// Remove the verification instead.
        #[arg(long)]
        unverify: bool,
    },
    /// Advance the node's time (manual clock): to `--now`, or by `--advance` from the node's time.
    #[command(group(clap::ArgGroup::new("when").required(true).args(["now", "advance"])))]
    Tick {
        /// New time, unix seconds.
        #[arg(long)]
        now: Option<i64>,
        /// How far to advance from the node's current time, e.g. 10s, 1h, 7days (humantime syntax).
        #[arg(long, value_parser = render::time::parse_duration)]
        advance: Option<i64>,
    },
    /// Propose a guardian checkpoint at the journal head now (`POST /v1/checkpoints`); guardians then sign
    /// it with `tfeco guardian sign-checkpoint`.
    Checkpoint,
    /// Post the node's published bid tiers (its parameters' bid_tiers) as the operator's standing bids.
    ///
    /// The default tiers are Standard Compute (passmark>=2000 mem_gb>=4 per slice, 1.2 CC per slice-month,
    /// 20,000 slices) and Memory-Heavy (mem_gb>=8, 2.4 CC, 2,000 slices). The first month of each tier
    /// (price x quantity; 28,800 CC for the default tiers) is escrowed from the operator account (refused
    /// with balance_low, before anything is posted, when it holds less); a tier the operator already has
    /// open is skipped.
    SeedBidTiers {
        /// Lease length in months of the leases the bids create [default: until cancelled].
        #[arg(long)]
        periods: Option<u32>,
    },
}

/// The operator key of a data directory (`operator.key`, a hex seed).
fn operator_key(data_dir: &std::path::Path) -> anyhow::Result<SigningKey> {
    let path = data_dir.join(OPERATOR_KEY_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .with_context(|| format!("{} is not a hex key", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Runs `tfeco admin`.
pub(crate) async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let key = operator_key(&args.data_dir)?;
    let session = Session::new(&args.connect)?;
    let command = match args.command {
        AdminCommand::Deposit(deposit) => deposit.command(),
        AdminCommand::Withdrawal(withdrawal) => withdrawal.command(),
        AdminCommand::Fiat { to, usd, payment_id } => Command::EnterWithFiat { to, usd, payment_id },
        AdminCommand::Price { feed, price, observed_at } => {
            let observed_at = match observed_at {
                Some(t) => t,
                None => match session.node_now().await {
                    Ok(now) => now,
                    Err(error) => return Ok(render::call_error(session.json, &error)),
                },
            };
            Command::SubmitPrice { feed: feed.feed(), price, observed_at }
        }
        AdminCommand::Tick { now, advance } => {
            let now = match (now, advance) {
                (Some(now), _) => now,
                (None, advance) => match session.node_now().await {
                    Ok(node_now) => node_now.saturating_add(advance.unwrap_or_default()),
                    Err(error) => return Ok(render::call_error(session.json, &error)),
                },
            };
            Command::Tick { now }
        }
        AdminCommand::Verify { account, unverify } => Command::SetVerified { account, verified: !unverify },
        AdminCommand::ExitDeposit(deposit) => deposit.command(),
        AdminCommand::TreasuryTransfer(transfer) => transfer.command(),
        AdminCommand::SeedBidTiers { periods } => return seed_bid_tiers(&session, &key, periods).await,
        AdminCommand::Checkpoint => {
            let answer = session.client.propose_checkpoint(&key).await;
            return session.answer(answer, render::checkpoints::one);
        }
    };
    let guardian_command = matches!(
        command,
        Command::AttestDeposit { .. }
            | Command::AttestWithdrawal { .. }
            | Command::AttestExitPoolDeposit { .. }
            | Command::ApproveTreasuryTransfer { .. }
            | Command::SubmitPrice { .. }
    );
    if guardian_command {
        let params = match session.client.params().await {
            Ok(params) => params,
            Err(error) => return Ok(render::call_error(session.json, &error)),
        };
        if let Some(needed) = admin_quorum::needed(&params, &command) {
            return admin_quorum::submit(&session, &args.data_dir, &key, &params, (command, needed)).await;
        }
    }
    session.submit_as(&key, command, render::accepted).await
}

// The bid tiers.

/// A tier `seed-bid-tiers` posted.
#[derive(Serialize)]
struct PostedTier {
    name: String,
    bid_id: Option<StandingBidId>,
    seq: u64,
    price_month: Amount<Cc>,
    quantity: u32,
    escrow: Amount<Cc>,
}

/// A tier `seed-bid-tiers` skipped: the operator has it open already.
#[derive(Serialize)]
struct SkippedTier {
    name: String,
    bid_id: StandingBidId,
}

/// What `seed-bid-tiers` did (its `--json` output).
#[derive(Serialize)]
struct SeededTiers {
    posted: Vec<PostedTier>,
    skipped: Vec<SkippedTier>,
    escrowed: Amount<Cc>,
}

/// A refusal decided before signing, worded and coded as the node's.
fn refused(code: ErrorCode, message: String) -> CallError {
    CallError::Refused { status: code.http_status(), error: ErrorBody::new(code, message) }
}

/// A tier's first-month escrow, or the node's `overflow` refusal.
fn tier_escrow(tier: &BidTier) -> Result<Amount<Cc>, CallError> {
    tier.escrow()
        .ok_or_else(|| refused(ErrorCode::Overflow, format!("the escrow of {} overflows", tier.name)))
}

/// The operator's open standing bids by name: `(name, bid id)`.
async fn open_bids(client: &Client, operator: AccountKey) -> Result<Vec<(String, StandingBidId)>, CallError> {
    let query = StandingBidsQuery { buyer: Some(operator), open: Some(true) };
    let open = client.standing_bids(&query).await?;
    Ok(open.standing_bids.into_iter().map(|b| (b.name, b.id)).collect())
}

/// Refuses (`balance_low`, as the node would) unless the operator holds the first month of every tier in
/// `todo`; returns the CC escrowed in all.
async fn check_funds(
    client: &Client,
    operator: &AccountKey,
    todo: &[BidTier],
) -> Result<Amount<Cc>, CallError> {
    let mut needed = Amount::<Cc>::ZERO;
    for tier in todo {
        let overflow = || refused(ErrorCode::Overflow, "the bid tiers' escrow overflows".to_owned());
        needed = needed.checked_add(tier_escrow(tier)?).ok_or_else(overflow)?;
    }
    let balance = client.account(operator).await?.balances.cc;
    let available = Amount::<Cc>::from_units(balance.units());
    if available < needed {
        let names: Vec<String> =
            todo.iter().map(|t| format!("{} {} CC", t.name, t.escrow().unwrap_or_default())).collect();
        let message = format!(
            "insufficient CC: {needed} needed, {available} available (the first month of {}); fund the operator \
             account {operator} with CC first (e.g. tfeco admin fiat)",
            names.join(" + ")
        );
        return Err(refused(ErrorCode::BalanceLow, message));
    }
    Ok(needed)
}

/// The tiers to post and the ones skipped (open already), and the CC the posted ones escrow.
async fn plan_tiers(
    client: &Client,
    operator: AccountKey,
) -> Result<(Vec<BidTier>, Vec<SkippedTier>, Amount<Cc>), CallError> {
    let tiers = client.params().await?.bid_tiers;
    let open = open_bids(client, operator).await?;
    let existing = |name: &str| open.iter().find(|(n, _)| n == name).map(|(_, id)| *id);
    let mut todo = Vec::new();
    let mut skipped = Vec::new();
    for tier in tiers {
        match existing(&tier.name) {
            Some(bid_id) => skipped.push(SkippedTier { name: tier.name, bid_id }),
            None => todo.push(tier),
        }
    }
    let needed = check_funds(client, &operator, &todo).await?;
    Ok((todo, skipped, needed))
}

/// Posts the node's tiers the operator does not have open yet. The operator's CC is checked first, so that
/// either every missing tier is posted or none (`balance_low`, exit 3, as a refusal by the node).
async fn seed_bid_tiers(
    session: &Session,
    key: &SigningKey,
    periods: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let (client, json_out) = (&session.client, session.json);
    let (todo, skipped, escrowed) = match plan_tiers(client, account_of(key)).await {
        Ok(plan) => plan,
        Err(error) => return Ok(render::call_error(json_out, &error)),
    };
    let mut posted = Vec::new();
    for tier in todo {
        let escrow = tier.escrow().unwrap_or_default();
        let BidTier { name, requirements, price_month, quantity } = tier;
        let command =
            Command::PostStandingBid { name: name.clone(), requirements, price_month, quantity, periods };
        match client.submit_command_next(key, command).await {
            Ok(accepted) => {
                let bid_id = render::find_event(&accepted, |event| match event {
                    Event::StandingBidPosted { bid_id, .. } => Some(bid_id),
                    _ => None,
                });
                posted.push(PostedTier { name, bid_id, seq: accepted.seq, price_month, quantity, escrow });
            }
            Err(error) => {
                if !json_out {
                    posted.iter().for_each(|p| {
                        eprintln!("posted {:?} as standing bid {}", p.name, render::opt(p.bid_id));
                    });
                }
                return Ok(render::call_error(json_out, &error));
            }
        }
    }
    render::view(json_out, &SeededTiers { posted, skipped, escrowed }, seeded_text)?;
    Ok(ExitCode::SUCCESS)
}

/// The human form of `seed-bid-tiers`: one line per posted and per skipped tier.
fn seeded_text(outcome: &SeededTiers) -> String {
    let posted = outcome.posted.iter().map(|p| {
        format!(
            "posted {:?} as standing bid {}: {} slices at {} CC per slice-month, {} CC escrowed (entry {})",
            p.name,
            render::opt(p.bid_id),
            p.quantity,
            p.price_month,
            p.escrow,
            p.seq
        )
    });
    let skipped = outcome
        .skipped
        .iter()
        .map(|s| format!("skipped {:?}: already open as standing bid {}", s.name, s.bid_id));
    posted.chain(skipped).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: AdminArgs,
    }

    #[test]
    fn admin_takes_the_url_and_the_data_dir_not_a_keystore() {
        let cli = Cli::try_parse_from([
            "admin",
            "--data-dir",
            "d",
            "--url",
            "http://n:1",
            "--json",
            "tick",
            "--now",
            "5",
        ])
        .expect("parse");
        assert_eq!((cli.args.connect.url.as_deref(), cli.args.connect.json), (Some("http://n:1"), true));
        let help = Cli::command().render_help().to_string();
        assert!(
            help.contains("--data-dir") && help.contains("--url") && !help.contains("--keystore"),
            "{help}"
        );
        assert!(Cli::try_parse_from(["admin", "price", "--feed", "tft_usd", "--price", "0.01"]).is_ok());
        assert!(Cli::try_parse_from(["admin", "price", "--feed", "btc", "--price", "1"]).is_err());
        // Issue 10 item 18: `tick --advance 1h` (a duration from the node's time) besides `--now`; one of them.
        let cli = Cli::try_parse_from(["admin", "tick", "--advance", "1h"]).expect("parse");
        assert!(matches!(cli.args.command, AdminCommand::Tick { now: None, advance: Some(3_600) }));
        assert!(Cli::try_parse_from(["admin", "tick"]).is_err(), "--now or --advance");
        assert!(Cli::try_parse_from(["admin", "tick", "--now", "5", "--advance", "1h"]).is_err());
        assert!(Cli::try_parse_from(["admin", "tick", "--advance", "soon"]).is_err());
    }

    #[test]
    fn seeded_tiers_read_well() {
        let cc = |s: &str| s.parse().unwrap();
        let posted = PostedTier {
            name: "Memory-Heavy".to_owned(),
            bid_id: Some(StandingBidId(2)),
            seq: 9,
            price_month: cc("2.4"),
            quantity: 2000,
            escrow: cc("4800"),
        };
        let skipped = SkippedTier { name: "Standard Compute".to_owned(), bid_id: StandingBidId(1) };
        let outcome = SeededTiers { posted: vec![posted], skipped: vec![skipped], escrowed: cc("4800") };
        assert_eq!(
            seeded_text(&outcome),
            "posted \"Memory-Heavy\" as standing bid 2: 2000 slices at 2.4 CC per slice-month, 4800 CC escrowed \
             (entry 9)\nskipped \"Standard Compute\": already open as standing bid 1"
        );
    }
}
