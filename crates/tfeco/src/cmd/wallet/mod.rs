//! `tfeco wallet`: the CLI wallet. The account key lives in an encrypted keystore (argon2id +
//! XChaCha20-Poly1305); the password comes from `TFECO_PASSWORD` or a prompt. Every command talks to a node
//! over HTTP with signed requests and has `--json` output.
//!
//! Recovery phrases: `wallet new --mnemonic` derives the key from a new 24-word BIP-39 phrase (English;
//! SLIP-0010 ed25519 path `m/44'/1952867683'/account'/0'/0'`, see `tfeco_wallet::mnemonic`) and shows the
//! words once, on the terminal (stderr) only: never on stdout, in the JSON or in a log. `wallet recover`
//! reads a phrase from `TFECO_MNEMONIC` or a hidden prompt and writes a new keystore for it. The optional
//! BIP-39 passphrase is used only with `--with-passphrase` and comes from `TFECO_MNEMONIC_PASSPHRASE` or a
//! prompt.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use tfeco_core::{AccountKey, Billing, Command, FarmId, LeaseId, NodeId, NodeSpec};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Tfp, Tft};
use tfeco_wallet::client::account_of;
use tfeco_wallet::keystore::{password_from_env_or_prompt, KdfParams, Keystore};
use tfeco_wallet::mnemonic::{account_path_string, Mnemonic, Zeroizing};
use tfeco_wallet::{Client, ClientError};

/// Arguments of `tfeco wallet`.
#[derive(Args)]
pub(crate) struct WalletArgs {
    /// Keystore file of the account key.
    #[arg(long, env = "TFECO_KEYSTORE", default_value = "tfeco-wallet.json", global = true)]
    keystore: PathBuf,
    /// Node URL (`--url`; `--node` is a node id in the subcommands that take one).
    #[arg(long = "url", env = "TFECO_NODE", default_value = "http://127.0.0.1:8080", global = true)]
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
        /// Derive the key from a new 24-word BIP-39 recovery phrase, shown once on the terminal (stderr).
        #[arg(long)]
        mnemonic: bool,
        /// With --mnemonic: add a BIP-39 passphrase (TFECO_MNEMONIC_PASSPHRASE or a prompt); the words
        /// alone then no longer recover the account.
        #[arg(long, requires = "mnemonic")]
        with_passphrase: bool,
        /// With --mnemonic: print the phrase to stderr without asking, even with --json or when stderr is
        /// not a terminal (it is never printed to stdout).
        #[arg(long, requires = "mnemonic")]
        show_mnemonic: bool,
    },
    /// Recreate an account key from its BIP-39 recovery phrase (TFECO_MNEMONIC or a hidden prompt) into a
    /// new encrypted keystore (password from TFECO_PASSWORD or a prompt); never overwrites a file.
    Recover {
        /// A label stored with the key.
        #[arg(long)]
        label: Option<String>,
        /// Use cheap key derivation (for tests only).
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
        /// The phrase was made with a BIP-39 passphrase (TFECO_MNEMONIC_PASSPHRASE or a prompt).
        #[arg(long)]
        with_passphrase: bool,
        /// Which account of the phrase (0 for the first, the one `wallet new --mnemonic` makes).
        #[arg(long, default_value_t = 0)]
        account_index: u32,
        /// Refuse unless the recovered account is this key (catches a mistyped passphrase, which no
        /// checksum can).
        #[arg(long)]
        expect_account: Option<AccountKey>,
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
    /// The in-wallet exchange: sealed limit orders cleared every batch at one uniform price (buy, sell,
    /// amend, cancel; your orders and fills; market status, last batches and depth).
    #[command(subcommand)]
    Trade(crate::trade_cmd::TradeCommand),
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

/// Where `wallet recover` reads the recovery phrase when set (else a hidden prompt).
const MNEMONIC_ENV: &str = "TFECO_MNEMONIC";
/// Where the BIP-39 passphrase is read when set and `--with-passphrase` is given (else a prompt).
const PASSPHRASE_ENV: &str = "TFECO_MNEMONIC_PASSPHRASE";

fn kdf_params(insecure_fast_kdf: bool) -> KdfParams {
    if insecure_fast_kdf {
        KdfParams::fast_for_tests()
    } else {
        KdfParams::interactive()
    }
}

/// Refuses early, before any secret is asked for or shown, when the keystore file exists
/// ([`Keystore::save`] refuses again, atomically, when it writes).
fn ensure_no_keystore(path: &Path) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() {
        bail!(
            "keystore {} already exists: refusing to overwrite it (choose another --keystore)",
            path.display()
        );
    }
    Ok(())
}

/// The recovery phrase from `TFECO_MNEMONIC`, or else a hidden prompt on the terminal.
fn read_phrase() -> anyhow::Result<Zeroizing<String>> {
    if let Some(value) = std::env::var_os(MNEMONIC_ENV).filter(|v| !v.is_empty()) {
        return value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| anyhow!("{MNEMONIC_ENV} is not valid UTF-8"));
    }
    prompt("Recovery phrase (words separated by spaces; input hidden): ")
        .map(Zeroizing::new)
        .map_err(|e| anyhow!("reading the recovery phrase: {e} (without a terminal, set {MNEMONIC_ENV})"))
}

/// The BIP-39 passphrase: empty unless `--with-passphrase`; then `TFECO_MNEMONIC_PASSPHRASE` or a prompt
/// (asked twice when `confirm`).
fn read_passphrase(with_passphrase: bool, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if !with_passphrase {
        if std::env::var_os(PASSPHRASE_ENV).is_some_and(|v| !v.is_empty()) {
            eprintln!(
                "warning: {PASSPHRASE_ENV} is set but --with-passphrase was not given: no passphrase is used"
            );
        }
        return Ok(Zeroizing::new(String::new()));
    }
    let from_env = std::env::var_os(PASSPHRASE_ENV).is_some_and(|v| !v.is_empty());
    let passphrase = password_from_env_or_prompt(PASSPHRASE_ENV, "BIP-39 passphrase: ", false, &prompt)
        .context("reading the BIP-39 passphrase")?;
    if confirm && !from_env {
        let again =
            Zeroizing::new(prompt("Repeat BIP-39 passphrase: ").context("reading the BIP-39 passphrase")?);
        if *again != *passphrase {
            bail!("the BIP-39 passphrases do not match (nothing was created)");
        }
    }
    Ok(passphrase)
}

/// Checks the phrase (word list and checksum), derives account `account_index` and, when given, checks it
/// is `expect_account`.
fn recover_key(
    phrase: &str,
    passphrase: &str,
    account_index: u32,
    expect_account: Option<AccountKey>,
) -> anyhow::Result<SigningKey> {
    let mnemonic = Mnemonic::parse(phrase)?;
    let key = mnemonic.account_key(passphrase, account_index)?;
    if let Some(expected) = expect_account {
        let account = account_of(&key);
        if account != expected {
            bail!(
                "the phrase gives account {account} at index {account_index}, not {expected}: check the \
                 passphrase and the account index (nothing was written)"
            );
        }
    }
    Ok(key)
}

/// How `wallet new --mnemonic` may show the phrase.
#[derive(Debug, PartialEq, Eq)]
enum PhraseDisplay {
    /// Print it to stderr.
    Show,
    /// Ask on the terminal first (`--json` with a terminal and no `--show-mnemonic`).
    ConfirmFirst,
    /// Refuse before creating anything, for this reason.
    Refuse(&'static str),
}

/// The words only ever go to stderr. They are printed when stderr is a terminal, or anywhere when
/// `--show-mnemonic` says so; with `--json` (output likely read by a program) a person at a terminal
/// confirms first, and without a terminal `--show-mnemonic` is required.
fn phrase_display(json_out: bool, show_mnemonic: bool, stderr_tty: bool, stdin_tty: bool) -> PhraseDisplay {
    if show_mnemonic {
        PhraseDisplay::Show
    } else if !stderr_tty {
        PhraseDisplay::Refuse(
            "stderr is not a terminal, so the recovery phrase would land in a file or a log: run this in a \
             terminal, or pass --show-mnemonic to print it to stderr anyway (nothing was created)",
        )
    } else if !json_out {
        PhraseDisplay::Show
    } else if stdin_tty {
        PhraseDisplay::ConfirmFirst
    } else {
        PhraseDisplay::Refuse(
            "with --json the recovery phrase is printed to the terminal (stderr), never in the JSON: pass \
             --show-mnemonic to allow it (nothing was created)",
        )
    }
}

/// The warning banner and the numbered words, for stderr only. Written straight into one buffer with room
/// to spare, so no stray copy of a word is left in freed memory.
fn phrase_banner(mnemonic: &Mnemonic, derivation_path: &str, with_passphrase: bool) -> Zeroizing<String> {
    use std::fmt::Write as _;
    let rule = "=".repeat(78);
    let thin = "-".repeat(78);
    let count = mnemonic.word_count();
    let mut text = Zeroizing::new(String::with_capacity(4096));
    // Writing to a String cannot fail.
    let _ = writeln!(text, "{rule}");
    let _ = writeln!(text, "  RECOVERY PHRASE: write these {count} words down, in order, on paper.");
    let _ = writeln!(text, "  Anyone with them controls the account. They will not be shown again.");
    let _ = writeln!(text, "  tfeco keeps no copy; never type them into a website, a chat or a photo.");
    let _ = writeln!(text, "{thin}");
    for (i, word) in mnemonic.words().enumerate() {
        let last_in_row = i % 4 == 3 || i + 1 == count;
        let _ = if last_in_row {
            writeln!(text, "  {:>2}. {word}", i + 1)
        } else {
            write!(text, "  {:>2}. {word:<12}", i + 1)
        };
    }
    let _ = writeln!(text, "{thin}");
    let _ = writeln!(text, "  BIP-39 English words; key at SLIP-0010 ed25519 path {derivation_path}.");
    if with_passphrase {
        let _ =
            writeln!(text, "  A BIP-39 passphrase was added: the words alone do NOT recover this account.");
        let _ = writeln!(text, "  Keep the passphrase too, apart from the words; recover with");
        let _ = writeln!(text, "  `tfeco wallet recover --with-passphrase`.");
    } else {
        let _ = writeln!(text, "  Recover with `tfeco wallet recover`.");
    }
    let _ = writeln!(text, "{rule}");
    text
}

/// Options of `wallet new --mnemonic`.
struct NewFromPhrase {
    label: Option<String>,
    insecure_fast_kdf: bool,
    with_passphrase: bool,
    show_mnemonic: bool,
}

/// `wallet new --mnemonic`: decide how the words will be shown (or refuse) before anything is created;
/// generate the phrase, derive account 0, write the keystore; only then show the words, on stderr.
fn new_from_phrase(keystore_path: &Path, json_out: bool, options: NewFromPhrase) -> anyhow::Result<ExitCode> {
    ensure_no_keystore(keystore_path)?;
    let stderr_tty = std::io::stderr().is_terminal();
    let stdin_tty = std::io::stdin().is_terminal();
    match phrase_display(json_out, options.show_mnemonic, stderr_tty, stdin_tty) {
        PhraseDisplay::Show => {}
        PhraseDisplay::Refuse(reason) => bail!("{reason}"),
        PhraseDisplay::ConfirmFirst => {
            eprint!(
                "The recovery phrase will be shown on this terminal (stderr), not in the JSON output.\n\
                 Make sure nobody can see the screen. Show it? Type \"yes\": "
            );
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).context("reading the confirmation")?;
            if !answer.trim().eq_ignore_ascii_case("yes") {
                bail!("not confirmed: no key was created");
            }
        }
    }
    let passphrase = read_passphrase(options.with_passphrase, true)?;
    let password = password_from_env_or_prompt("TFECO_PASSWORD", "New keystore password: ", true, &prompt)?;

    let mnemonic = Mnemonic::generate();
    let key = mnemonic.account_key(&passphrase, 0)?;
    let keystore = Keystore::encrypt(&key, &password, kdf_params(options.insecure_fast_kdf), options.label)?;
    keystore.save(keystore_path).with_context(|| format!("writing {}", keystore_path.display()))?;

    let path = account_path_string(0)?;
    let banner = phrase_banner(&mnemonic, &path, options.with_passphrase);
    let mut stderr = std::io::stderr().lock();
    stderr
        .write_all(banner.as_bytes())
        .and_then(|()| stderr.flush())
        .context("showing the recovery phrase")?;
    drop(stderr);

    let account = account_of(&key);
    let value = json!({
        "account": account,
        "keystore": keystore_path,
        "mnemonic": {
            "words": mnemonic.word_count(),
            "wordlist": "english",
            "derivation_path": path,
            "passphrase": options.with_passphrase,
            "shown_on": "stderr",
        },
    });
    print(json_out, &value, || {
        format!(
            "new account {account}\nkeystore {} (keep the password: it cannot be recovered; the {} words \
             above recover the key)",
            keystore_path.display(),
            mnemonic.word_count()
        )
    });
    Ok(ExitCode::SUCCESS)
}

/// The signing key of the keystore at `path` (password from `TFECO_PASSWORD` or a prompt).
pub(crate) fn unlock(path: &Path) -> anyhow::Result<SigningKey> {
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
        WalletCommand::New { label, insecure_fast_kdf, mnemonic: true, with_passphrase, show_mnemonic } => {
            let options = NewFromPhrase { label, insecure_fast_kdf, with_passphrase, show_mnemonic };
            return new_from_phrase(&args.keystore, json_out, options);
        }
        WalletCommand::New { label, insecure_fast_kdf, .. } => {
            ensure_no_keystore(&args.keystore)?;
            let password =
                password_from_env_or_prompt("TFECO_PASSWORD", "New keystore password: ", true, &prompt)?;
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let keystore = Keystore::encrypt(&key, &password, kdf_params(insecure_fast_kdf), label)?;
            keystore.save(&args.keystore).with_context(|| format!("writing {}", args.keystore.display()))?;
            let account = account_of(&key);
            let value = json!({ "account": account, "keystore": args.keystore });
            print(json_out, &value, || {
                format!(
                    "new account {account}\nkeystore {} (keep the password: it cannot be recovered; no \
                     recovery phrase: back up the keystore file, or create keys with --mnemonic)",
                    args.keystore.display()
                )
            });
            return Ok(ExitCode::SUCCESS);
        }
        WalletCommand::Recover {
            label,
            insecure_fast_kdf,
            with_passphrase,
            account_index,
            expect_account,
        } => {
            ensure_no_keystore(&args.keystore)?;
            let phrase = read_phrase()?;
            let passphrase = read_passphrase(with_passphrase, false)?;
            let key = recover_key(&phrase, &passphrase, account_index, expect_account)?;
            drop(phrase);
            let password =
                password_from_env_or_prompt("TFECO_PASSWORD", "New keystore password: ", true, &prompt)?;
            let keystore = Keystore::encrypt(&key, &password, kdf_params(insecure_fast_kdf), label)?;
            keystore.save(&args.keystore).with_context(|| format!("writing {}", args.keystore.display()))?;
            let account = account_of(&key);
            let path = account_path_string(account_index)?;
            let value = json!({
                "account": account,
                "keystore": args.keystore,
                "derivation_path": path,
                "passphrase": with_passphrase,
            });
            print(json_out, &value, || {
                format!(
                    "recovered account {account}\nkeystore {} (path {path}{})",
                    args.keystore.display(),
                    if with_passphrase { ", with a BIP-39 passphrase" } else { "" }
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
        WalletCommand::Trade(command) => {
            return crate::trade_cmd::run(command, &client, &args.keystore, json_out).await;
        }
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
        WalletCommand::Exit(ExitCommand::Bid { position, usdc, min_price, carry_over }) => {
            Command::SubmitExitBid {
                position_id: tfeco_core::ids::PositionId(position),
                usdc,
                min_price,
                carry_over,
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use tfeco_wallet::mnemonic::MnemonicError;

    /// A public test phrase (BIP-39 reference entropy 00..00) and its pinned account 0 / account 1 keys
    /// without a passphrase (see the pinned test in `tfeco_wallet::mnemonic`).
    const PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                          abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                          abandon abandon abandon art";
    const ACCOUNT_0: &str = "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a";
    const ACCOUNT_1: &str = "fed60ae2d61ce49b446a224eba438e450b888105c004c271f30de2b826596a4a";

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
        assert!(args.json);
        match args.command {
            WalletCommand::Recover { label, with_passphrase, account_index, expect_account, .. } => {
                assert_eq!(label.as_deref(), Some("restored"));
                assert!(with_passphrase);
                assert_eq!(account_index, 2);
                assert_eq!(expect_account.map(|a| a.to_string()).as_deref(), Some(ACCOUNT_0));
            }
            _ => panic!("not recover"),
        }
        match parse(&["new", "--mnemonic", "--show-mnemonic"]).expect("parse").command {
            WalletCommand::New { mnemonic, show_mnemonic, with_passphrase, .. } => {
                assert!(mnemonic && show_mnemonic && !with_passphrase);
            }
            _ => panic!("not new"),
        }
        // The mnemonic options make no sense without --mnemonic.
        assert!(parse(&["new", "--show-mnemonic"]).is_err());
        assert!(parse(&["new", "--with-passphrase"]).is_err());
        // The phrase is never an argument (it would be visible in the process list and shell history).
        assert!(parse(&["recover", "--mnemonic", PHRASE]).is_err());
    }

    #[test]
    fn the_phrase_is_shown_only_where_it_should_be() {
        use PhraseDisplay::*;
        // (json, --show-mnemonic, stderr is a terminal, stdin is a terminal)
        assert_eq!(phrase_display(false, false, true, true), Show);
        assert_eq!(phrase_display(false, false, true, false), Show);
        assert_eq!(phrase_display(true, false, true, true), ConfirmFirst);
        assert!(
            matches!(phrase_display(true, false, true, false), Refuse(r) if r.contains("--show-mnemonic"))
        );
        // stderr redirected to a file or a pipe: never without --show-mnemonic.
        for json in [false, true] {
            for stdin_tty in [false, true] {
                assert!(
                    matches!(phrase_display(json, false, false, stdin_tty), Refuse(r) if r.contains("log"))
                );
                assert_eq!(phrase_display(json, true, false, stdin_tty), Show);
            }
        }
        assert_eq!(phrase_display(true, true, true, true), Show);
    }

    #[test]
    fn banner_warns_and_numbers_every_word() {
        let mnemonic = Mnemonic::generate();
        let path = account_path_string(0).expect("path");
        let banner = phrase_banner(&mnemonic, &path, false);
        for needle in [
            "write these 24 words down",
            "Anyone with them controls the account",
            "will not be shown again",
            "m/44'/1952867683'/0'/0'/0'",
            "tfeco wallet recover",
        ] {
            assert!(banner.contains(needle), "missing {needle:?}:\n{}", banner.as_str());
        }
        assert!(!banner.contains("passphrase"));
        // Every word, numbered, in order, four to a line.
        let mut found = Vec::new();
        for line in banner.lines() {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            if tokens.first().is_some_and(|t| t.ends_with('.') && t[..t.len() - 1].parse::<usize>().is_ok()) {
                assert_eq!(tokens.len(), 8, "{line}");
                for pair in tokens.chunks(2) {
                    found.push((pair[0].trim_end_matches('.').parse::<usize>().expect("number"), pair[1]));
                }
            }
        }
        let expected: Vec<(usize, &str)> = mnemonic.words().enumerate().map(|(i, w)| (i + 1, w)).collect();
        assert_eq!(found, expected);

        let with_passphrase = phrase_banner(&mnemonic, &path, true);
        assert!(with_passphrase.contains("the words alone do NOT recover"), "{}", with_passphrase.as_str());
        assert!(with_passphrase.contains("--with-passphrase"));
    }

    #[test]
    fn recover_key_checks_the_phrase_and_the_expected_account() {
        let key = recover_key(PHRASE, "", 0, None).expect("recover");
        assert_eq!(account_of(&key).to_string(), ACCOUNT_0);
        let key = recover_key(&PHRASE.to_uppercase(), "", 1, ACCOUNT_1.parse().ok()).expect("recover");
        assert_eq!(account_of(&key).to_string(), ACCOUNT_1);

        // A wrong word: the checksum error comes through typed.
        let wrong = PHRASE.replace(" art", " abandon");
        let error = recover_key(&wrong, "", 0, None).expect_err("refused");
        assert_eq!(error.downcast_ref::<MnemonicError>(), Some(&MnemonicError::Checksum));
        let error = recover_key(&PHRASE.replacen("abandon", "abandno", 1), "", 0, None).expect_err("refused");
        assert_eq!(error.downcast_ref::<MnemonicError>(), Some(&MnemonicError::UnknownWord { position: 1 }));
        assert!(!error.to_string().contains("abandno"), "{error}");

        // A mistyped passphrase gives another valid account: --expect-account catches it.
        let error = recover_key(PHRASE, "TREZRO", 0, ACCOUNT_0.parse().ok()).expect_err("refused");
        assert!(error.to_string().contains("check the passphrase"), "{error}");
    }

    #[test]
    fn recovered_key_round_trips_through_a_new_keystore_that_is_never_overwritten() {
        let temp = tempfile::tempdir().expect("tempdir");
        let path = temp.path().join("recovered.json");
        ensure_no_keystore(&path).expect("free");

        let generated = Mnemonic::generate();
        let original = generated.account_key("", 0).expect("derive");
        let key = recover_key(&generated.phrase(), "", 0, Some(account_of(&original))).expect("recover");
        let keystore =
            Keystore::encrypt(&key, "pw", kdf_params(true), Some("restored".to_owned())).expect("encrypt");
        keystore.save(&path).expect("save");
        let loaded = Keystore::load(&path).expect("load");
        assert_eq!(loaded.decrypt("pw").expect("decrypt").to_bytes(), original.to_bytes());

        let error = ensure_no_keystore(&path).expect_err("exists");
        assert!(error.to_string().contains("refusing to overwrite"), "{error}");
    }
}
