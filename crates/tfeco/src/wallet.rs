//! `tfeco wallet`: the CLI wallet. The account key lives in an encrypted keystore (argon2id +
//! XChaCha20-Poly1305); the password comes from `TFECO_PASSWORD` or a prompt. Every command talks to a node
//! over HTTP with signed requests and has `--json` output.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use tfeco_core::{AccountKey, Billing, Command, FarmId, LeaseId, NodeId, NodeSpec};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Tfp, Tft};
use tfeco_wallet::client::account_of;
use tfeco_wallet::keystore::{password_from_env_or_prompt, KdfParams, Keystore};
use tfeco_wallet::{Client, ClientError};

/// Arguments of `tfeco wallet`.
#[derive(Args)]
pub(crate) struct WalletArgs {
    /// Keystore file of the account key.
    #[arg(long, env = "TFECO_KEYSTORE", default_value = "tfeco-wallet.json", global = true)]
    keystore: PathBuf,
    /// Node URL.
    #[arg(long, env = "TFECO_NODE", default_value = "http://127.0.0.1:8080", global = true)]
    node: String,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Create a new key in a new encrypted keystore (password from TFECO_PASSWORD or a prompt).
    New {
        /// A label stored with the key.
        #[arg(long)]
        label: Option<String>,
        /// Use cheap key derivation (for tests only).
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// Show the account key of the keystore.
    Show,
    /// Register the account on the node.
    Register,
    /// Show balances (of this wallet, or of `--account`).
    Balance {
        /// Another account's key.
        #[arg(long)]
        account: Option<AccountKey>,
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
    Lease(LeaseCommand),
    /// Farms and nodes (for farmers).
    #[command(subcommand)]
    Farm(FarmCommand),
    /// List nodes with prices and free slices.
    Nodes,
    /// Pool 2 conversions between revenue CC and TFP.
    #[command(subcommand)]
    Convert(ConvertCommand),
    /// How your farmer revenue settles: cc (default) or tfp (converted through Pool 2 when credited).
    Settle {
        /// cc or tfp.
        #[arg(long = "in", value_parser = ["cc", "tfp"])]
        settle_in: String,
    },
    /// Exit-pool positions (TFP locked for time-weighted margin).
    #[command(subcommand)]
    Position(PositionCommand),
    /// Exit-pool Dutch auction: sealed bids, round status and results.
    #[command(subcommand)]
    Exit(ExitCommand),
}

#[derive(Subcommand)]
enum ConvertCommand {
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
}

#[derive(Subcommand)]
enum PositionCommand {
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

#[derive(Subcommand)]
enum ExitCommand {
    /// Place a sealed exit bid: sell TFP from a position for USDC at no less than a min price.
    Bid {
        /// Position id.
        #[arg(long)]
        position: u64,
        /// USDC wanted.
        #[arg(long)]
        usdc: Amount<tfeco_money::Usdc>,
        /// Lowest acceptable price, USD per TFP.
        #[arg(long)]
        min_price: tfeco_money::Price,
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
        usdc: Amount<tfeco_money::Usdc>,
        /// New min price.
        #[arg(long)]
        min_price: tfeco_money::Price,
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

#[derive(Subcommand)]
enum LeaseCommand {
    /// Lease slices of a node at its listed price (first period charged at once).
    Open {
        /// Node id.
        #[arg(long)]
        node: u32,
        /// Number of slices.
        #[arg(long, default_value_t = 1)]
        slices: u32,
        /// hourly or monthly.
        #[arg(long, default_value = "monthly", value_parser = ["hourly", "monthly"])]
        billing: String,
        /// Periods until the lease expires (default: until cancelled).
        #[arg(long)]
        periods: Option<u32>,
    },
    /// Cancel a lease (it ends with its paid period).
    Cancel {
        /// Lease id.
        #[arg(long)]
        lease: u64,
    },
    /// List this wallet's leases.
    List,
}

#[derive(Subcommand)]
enum FarmCommand {
    /// Register a farm.
    Create {
        /// Farm name.
        #[arg(long)]
        name: String,
    },
    /// Register a node of a catalogue model in a farm.
    AddNode {
        /// Farm id.
        #[arg(long)]
        farm: u32,
        /// Catalogue model name, e.g. "Mini 3".
        #[arg(long)]
        model: String,
        /// Slices offered (default: the model's typical slices).
        #[arg(long)]
        offered: Option<u32>,
    },
    /// Set a node's slice price (CC per slice-month, inside the band).
    Price {
        /// Node id.
        #[arg(long)]
        node: u32,
        /// CC per slice-month.
        #[arg(long)]
        price: Amount<Cc>,
    },
}

fn prompt(text: &str) -> std::io::Result<String> {
    rpassword::prompt_password(text)
}

fn unlock(path: &PathBuf) -> anyhow::Result<SigningKey> {
    let keystore = Keystore::load(path).with_context(|| format!("reading keystore {}", path.display()))?;
    let password = password_from_env_or_prompt("TFECO_PASSWORD", "Keystore password: ", false, &prompt)?;
    Ok(keystore.decrypt(&password)?)
}

fn print(json_out: bool, value: &Value, human: impl FnOnce() -> String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

/// `GET path` and print it (pretty JSON for people, compact JSON with `--json`).
pub(crate) async fn show(client: &Client, path: &str, json_out: bool) -> ExitCode {
    match client.get(path).await {
        Ok(value) => {
            print(json_out, &value, || serde_json::to_string_pretty(&value).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(error) => report_error(json_out, &error),
    }
}

/// Prints an API error readably (or as JSON) and picks the exit code.
pub(crate) fn report_error(json_out: bool, error: &ClientError) -> ExitCode {
    match error {
        ClientError::Api { status, code, message } => {
            if json_out {
                println!("{}", json!({ "error": { "status": status, "code": code, "message": message } }));
            } else {
                eprintln!("refused ({code}): {message}");
            }
            ExitCode::from(3)
        }
        other => {
            if json_out {
                println!("{}", json!({ "error": { "code": "unreachable", "message": other.to_string() } }));
            } else {
                eprintln!("error: {other}");
            }
            ExitCode::from(4)
        }
    }
}

/// Submits a command and prints the outcome.
pub(crate) async fn submit_and_print(
    client: &Client,
    key: &SigningKey,
    command: Command,
    json_out: bool,
) -> ExitCode {
    match client.submit_next(key, command).await {
        Ok(ok) => {
            let value = json!({ "seq": ok.seq, "events": ok.events });
            print(json_out, &value, || {
                let kinds: Vec<String> = ok
                    .events
                    .as_array()
                    .map(|events| events.iter().map(|e| e.to_string()).collect())
                    .unwrap_or_default();
                format!("accepted as entry {}\n{}", ok.seq, kinds.join("\n"))
            });
            ExitCode::SUCCESS
        }
        Err(error) => report_error(json_out, &error),
    }
}

pub(crate) async fn run(args: WalletArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.node);
    let json_out = args.json;
    let command = match args.command {
        WalletCommand::New { label, insecure_fast_kdf } => {
            let password =
                password_from_env_or_prompt("TFECO_PASSWORD", "New keystore password: ", true, &prompt)?;
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let params =
                if insecure_fast_kdf { KdfParams::fast_for_tests() } else { KdfParams::interactive() };
            let keystore = Keystore::encrypt(&key, &password, params, label)?;
            keystore.save(&args.keystore).with_context(|| format!("writing {}", args.keystore.display()))?;
            let account = account_of(&key);
            let value = json!({ "account": account, "keystore": args.keystore });
            print(json_out, &value, || {
                format!(
                    "new account {account}\nkeystore {} (keep the password: it cannot be recovered)",
                    args.keystore.display()
                )
            });
            return Ok(ExitCode::SUCCESS);
        }
        WalletCommand::Show => {
            let keystore = Keystore::load(&args.keystore)?;
            let account = AccountKey(keystore.public_key()?.to_bytes());
            let value = json!({ "account": account, "label": keystore.label(), "keystore": args.keystore });
            print(json_out, &value, || format!("account {account}"));
            return Ok(ExitCode::SUCCESS);
        }
        WalletCommand::Balance { account } => {
            let account = match account {
                Some(account) => account,
                None => AccountKey(Keystore::load(&args.keystore)?.public_key()?.to_bytes()),
            };
            return Ok(match client.get(&format!("/v1/accounts/{account}")).await {
                Ok(value) => {
                    print(json_out, &value, || {
                        let b = &value["balances"];
                        format!(
                            "account {account}\nTFT  {}\nTFP  {}\nCC   {} (revenue {})\nUSDC {}",
                            b["TFT"].as_str().unwrap_or("?"),
                            b["TFP"].as_str().unwrap_or("?"),
                            b["CC"].as_str().unwrap_or("?"),
                            value["revenue_cc"].as_str().unwrap_or("?"),
                            b["USDC"].as_str().unwrap_or("?"),
                        )
                    });
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            });
        }
        WalletCommand::Nodes => {
            return Ok(match client.get("/v1/nodes").await {
                Ok(value) => {
                    print(json_out, &value, || {
                        let rows: Vec<String> = value["nodes"]
                            .as_array()
                            .map(|nodes| {
                                nodes
                                    .iter()
                                    .map(|n| {
                                        format!(
                                            "node {:>4}  {:<20} free {:>3}/{:<3} price {} CC/month",
                                            n["id"],
                                            n["model"].as_str().unwrap_or("custom"),
                                            n["free_slices"],
                                            n["offered_slices"],
                                            n["price_month"].as_str().unwrap_or("-")
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        rows.join("\n")
                    });
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            });
        }
        WalletCommand::Lease(LeaseCommand::List) => {
            let account = AccountKey(Keystore::load(&args.keystore)?.public_key()?.to_bytes());
            return Ok(match client.get(&format!("/v1/leases?tenant={account}")).await {
                Ok(value) => {
                    print(json_out, &value, || {
                        serde_json::to_string_pretty(&value["leases"]).unwrap_or_default()
                    });
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            });
        }
        WalletCommand::Position(PositionCommand::List) => {
            let account = AccountKey(Keystore::load(&args.keystore)?.public_key()?.to_bytes());
            return Ok(show(&client, &format!("/v1/exit/positions?owner={account}"), json_out).await);
        }
        WalletCommand::Exit(ExitCommand::Round) => return Ok(show(&client, "/v1/exit/round", json_out).await),
        WalletCommand::Exit(ExitCommand::History { round }) => {
            let path = match round {
                Some(id) => format!("/v1/exit/rounds/{id}"),
                None => "/v1/exit/rounds".to_owned(),
            };
            return Ok(show(&client, &path, json_out).await);
        }
        WalletCommand::Exit(ExitCommand::Bids) => {
            let key = unlock(&args.keystore)?;
            return Ok(match client.get_signed("/v1/exit/bids", &key).await {
                Ok(value) => {
                    print(json_out, &value, || serde_json::to_string_pretty(&value).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            });
        }
        WalletCommand::Convert(ConvertCommand::CcToTfp { cc, partial }) => {
            Command::ConvertCcToTfp { cc, allow_partial: partial }
        }
        WalletCommand::Convert(ConvertCommand::TfpToCc { tfp }) => Command::ConvertTfpToCc { tfp },
        WalletCommand::Settle { settle_in } => Command::SetSettlement {
            settle_in: if settle_in == "tfp" {
                tfeco_core::command::Settlement::Tfp
            } else {
                tfeco_core::command::Settlement::Cc
            },
        },
        WalletCommand::Position(PositionCommand::Open { tfp }) => Command::OpenPosition { tfp },
        WalletCommand::Position(PositionCommand::Close { id }) => {
            Command::ClosePosition { position_id: tfeco_core::ids::PositionId(id) }
        }
        WalletCommand::Exit(ExitCommand::Bid { position, usdc, min_price, carry_over }) => Command::SubmitExitBid {
            position_id: tfeco_core::ids::PositionId(position),
            usdc,
            min_price,
            carry_over,
        },
        WalletCommand::Exit(ExitCommand::Amend { bid, usdc, min_price }) => {
            Command::AmendExitBid { bid_id: tfeco_core::ids::ExitBidId(bid), usdc, min_price }
        }
        WalletCommand::Exit(ExitCommand::Cancel { bid }) => {
            Command::CancelExitBid { bid_id: tfeco_core::ids::ExitBidId(bid) }
        }
        WalletCommand::Register => Command::RegisterAccount {},
        WalletCommand::Send { asset, to, amount } => Command::Transfer { asset, to, amount },
        WalletCommand::Enter { tft } => Command::EnterWithTft { tft },
        WalletCommand::Lock { tft } => Command::LockTft { tft },
        WalletCommand::Unlock { tfp } => Command::UnlockTfp { tfp },
        WalletCommand::Withdraw { asset, amount, destination } => {
            Command::RequestWithdrawal { asset, amount, destination }
        }
        WalletCommand::Lease(LeaseCommand::Open { node, slices, billing, periods }) => Command::OpenLease {
            node_id: NodeId(node),
            n_slices: slices,
            billing: if billing == "hourly" { Billing::Hourly } else { Billing::Monthly },
            periods,
        },
        WalletCommand::Lease(LeaseCommand::Cancel { lease }) => {
            Command::CancelLease { lease_id: LeaseId(lease) }
        }
        WalletCommand::Farm(FarmCommand::Create { name }) => Command::RegisterFarm { name },
        WalletCommand::Farm(FarmCommand::AddNode { farm, model, offered }) => Command::RegisterNode {
            farm_id: FarmId(farm),
            spec: NodeSpec::Model { model },
            offered_slices: offered,
        },
        WalletCommand::Farm(FarmCommand::Price { node, price }) => {
            Command::SetSlicePrice { node_id: NodeId(node), price }
        }
    };
    let key = unlock(&args.keystore)?;
    Ok(submit_and_print(&client, &key, command, json_out).await)
}
