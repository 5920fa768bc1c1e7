//! `tfeco wallet`: the CLI wallet. The account key lives in an encrypted keystore ([`keys`]); every other
//! command talks to a node over HTTP with signed requests: balances, transfers, entry into the marketplace,
//! withdrawals, leases and farms ([`leases`]), and the wallet's markets: the exchange (`wallet exchange`),
//! the exit pool (`wallet exit-pool`) and Pool 2 (`wallet pool2`). Every command has `--json`.

mod history;
mod keys;
mod leases;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use tfeco_core::{AccountKey, Command};
use tfeco_money::{Amount, AnyAsset, Asset, Tfp, Tft};
use tfeco_wallet::api::capacity::NodesQuery;

use super::{exchange, exit_pool, pool2};
use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco wallet`.
#[derive(Args)]
pub(crate) struct WalletArgs {
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Create a new key in a new encrypted keystore (password from TFECO_PASSWORD or a prompt).
    New(keys::NewArgs),
    /// Recreate an account key from its BIP-39 recovery phrase (TFECO_MNEMONIC or a hidden prompt) into a
    /// new encrypted keystore (password from TFECO_PASSWORD or a prompt); never overwrites a file.
    Recover(keys::RecoverArgs),
    /// Show the account key of the keystore.
    Show,
    /// Register the account on the node.
    Register,
    /// Show balances (of this wallet, or of `--account`): the total per asset, free plus held in open
    /// exchange orders (sealed: others see only totals).
    Balance {
        /// Another account's key.
        #[arg(long)]
        account: Option<AccountKey>,
        /// Also show this wallet's free and escrowed split (a signed read: unlocks the keystore).
        #[arg(long, conflicts_with = "account")]
        detail: bool,
    },
    /// Send TFT, TFP or USDC to another account (CC is not transferable).
    Send {
        /// Asset: TFT, TFP or USDC.
        #[arg(long)]
        asset: Asset,
        /// Receiving account key.
        #[arg(long)]
        to: AccountKey,
        /// Amount, e.g. 12.5.
        #[arg(long)]
        amount: Amount<AnyAsset>,
    },
    /// Enter the marketplace: lock TFT and receive Cloud Credits (Pool 1).
    Enter {
        /// TFT to bring in.
        #[arg(long)]
        tft: Amount<Tft>,
    },
    /// Lock TFT for the same TFP.
    Lock {
        /// TFT to lock.
        #[arg(long)]
        tft: Amount<Tft>,
    },
    /// Return TFP for the locked TFT (open only above the entry parity).
    Unlock {
        /// TFP to return.
        #[arg(long)]
        tfp: Amount<Tfp>,
    },
    /// Ask to withdraw TFT or USDC to an external address.
    Withdraw {
        /// TFT or USDC.
        #[arg(long)]
        asset: Asset,
        /// Amount.
        #[arg(long)]
        amount: Amount<AnyAsset>,
        /// External address.
        #[arg(long)]
        destination: String,
    },
    /// Leases of capacity.
    #[command(subcommand)]
    Lease(leases::LeaseCommand),
    /// Farms and nodes (for farmers).
    #[command(subcommand)]
    Farm(leases::FarmCommand),
    /// List nodes with prices and free slices.
    Nodes,
    /// The in-wallet exchange: sealed limit orders cleared every batch at one uniform price (buy, sell,
    /// amend, cancel; your orders and fills; a market's status, last batches and depth).
    #[command(subcommand)]
    Exchange(exchange::ExchangeCommand),
    /// The exit pool (Pool 3): positions of locked TFP, sealed exit bids, Dutch-auction rounds.
    #[command(subcommand)]
    ExitPool(exit_pool::ExitPoolCommand),
    /// Pool 2: conversions between revenue CC and TFP, and how farmer revenue settles.
    #[command(subcommand)]
    Pool2(pool2::Pool2Command),
    /// The account's events, newest first, a page at a time (sealed bids and orders are not shown: see
    /// `wallet exchange orders` and `wallet exit-pool bids`).
    History(history::HistoryArgs),
}

/// Runs `tfeco wallet ...`.
pub(crate) async fn run(args: WalletArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    let session = &session;
    match args.command {
        WalletCommand::New(new) => keys::new(session, new),
        WalletCommand::Recover(recover) => keys::recover(session, recover),
        WalletCommand::Show => keys::show(session),
        WalletCommand::Balance { account, detail } => {
            if detail {
                let view = session.client.own_account(&session.unlock()?).await;
                return session.answer(view, render::wallet::balance);
            }
            let account = match account {
                Some(account) => account,
                None => session.account()?,
            };
            session.answer(session.client.account(&account).await, render::wallet::balance)
        }
        WalletCommand::Nodes => {
            session.answer(session.client.nodes(&NodesQuery::default()).await, render::wallet::nodes)
        }
        WalletCommand::Register => session.submit(Command::RegisterAccount {}).await,
        WalletCommand::Send { asset, to, amount } => {
            session.submit(Command::Transfer { asset, to, amount }).await
        }
        WalletCommand::Enter { tft } => session.submit(Command::EnterWithTft { tft }).await,
        WalletCommand::Lock { tft } => session.submit(Command::LockTft { tft }).await,
        WalletCommand::Unlock { tfp } => session.submit(Command::UnlockTfp { tfp }).await,
        WalletCommand::Withdraw { asset, amount, destination } => {
            session.submit(Command::RequestWithdrawal { asset, amount, destination }).await
        }
        WalletCommand::Lease(command) => leases::run_lease(session, command).await,
        WalletCommand::Farm(command) => leases::run_farm(session, command).await,
        WalletCommand::Exchange(command) => exchange::run(session, command).await,
        WalletCommand::ExitPool(command) => exit_pool::run(session, command).await,
        WalletCommand::Pool2(command) => pool2::run(session, command).await,
        WalletCommand::History(args) => history::run(session, args).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    const ACCOUNT_0: &str = "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a";

    #[derive(Parser)]
    struct TestCli {
        #[command(flatten)]
        wallet: WalletArgs,
    }

    fn parse(args: &[&str]) -> Result<WalletArgs, clap::Error> {
        TestCli::try_parse_from(std::iter::once("wallet").chain(args.iter().copied())).map(|cli| cli.wallet)
    }

    #[test]
    fn recover_and_new_arguments_parse() {
        let args = parse(&[
            "--json",
            "recover",
            "--with-passphrase",
            "--account-index",
            "2",
            "--expect-account",
            ACCOUNT_0,
            "--label",
            "restored",
        ])
        .expect("parse");
        assert!(args.connect.json);
        match args.command {
            WalletCommand::Recover(keys::RecoverArgs {
                label,
                with_passphrase,
                account_index,
                expect_account,
                ..
            }) => {
                assert_eq!(label.as_deref(), Some("restored"));
                assert!(with_passphrase);
                assert_eq!(account_index, 2);
                assert_eq!(expect_account.map(|a| a.to_string()).as_deref(), Some(ACCOUNT_0));
            }
            _ => panic!("not recover"),
        }
        match parse(&["new", "--mnemonic", "--show-mnemonic"]).expect("parse").command {
            WalletCommand::New(keys::NewArgs { mnemonic, show_mnemonic, with_passphrase, .. }) => {
                assert!(mnemonic && show_mnemonic && !with_passphrase);
            }
            _ => panic!("not new"),
        }
        // The mnemonic options make no sense without --mnemonic.
        assert!(parse(&["new", "--show-mnemonic"]).is_err());
        assert!(parse(&["new", "--with-passphrase"]).is_err());
        // The phrase is never an argument (it would be visible in the process list and shell history).
        assert!(parse(&["recover", "--mnemonic", "abandon"]).is_err());
    }

    /// `--url` is the node's URL and `--node` a node id, before or after the subcommand (`wallet lease open
    /// --node 3` used to panic on the clash of the two).
    #[test]
    fn url_and_node_id_never_clash() {
        let args =
            parse(&["--url", "http://n:1", "lease", "open", "--node", "3", "--slices", "2"]).expect("parse");
        assert_eq!(args.connect.url.as_deref(), Some("http://n:1"));
        assert!(matches!(
            args.command,
            WalletCommand::Lease(leases::LeaseCommand::Open { node: 3, slices: 2, .. })
        ));
        let args = parse(&["lease", "open", "--node", "4", "--url", "http://m:2", "--json"]).expect("parse");
        assert!(args.connect.json && args.connect.url.as_deref() == Some("http://m:2"));
        assert!(parse(&["lease", "open", "--node", "http://n:1"]).is_err(), "--node is a node id");
    }

    #[test]
    fn the_wallet_groups_have_their_names() {
        for line in [
            "exchange buy --quantity 1 --limit 0.01",
            "exchange fills",
            "exchange market --market 1",
            "exit-pool position open --tfp 10",
            "exit-pool position list",
            "exit-pool bid --position 1 --usdc 1 --min-price 0.008",
            "exit-pool bids",
            "exit-pool round",
            "exit-pool history --round 2",
            "pool2 cc-to-tfp --cc 5 --partial",
            "pool2 tfp-to-cc --tfp 5",
            "pool2 settle --in tfp",
        ] {
            let words: Vec<&str> = line.split(' ').collect();
            assert!(parse(&words).is_ok(), "{line}: {:?}", parse(&words).err());
        }
        for old in [
            "trade buy --quantity 1 --limit 0.01",
            "position list",
            "exit round",
            "convert tfp-to-cc --tfp 1",
        ] {
            let words: Vec<&str> = old.split(' ').collect();
            assert!(parse(&words).is_err(), "{old} is gone");
        }
    }
}
