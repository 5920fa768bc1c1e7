//! The `tfeco` binary: argument parsing, logging and exit codes around the library crates. Subcommands:
//! `serve` (the node), `demo` (the central loop on real data), `verify` (replay a data directory), `wallet`
//! (the CLI wallet), `admin` (operator commands), `bench` (performance report).

mod admin;
mod auction_cmd;
mod bench;
mod calc_cmd;
mod data;
mod demo;
mod exchange_cmd;
mod guardian_cmd;
mod market_cmd;
mod mint_cmd;
mod mint_report_cmd;
mod serve;
mod trade_cmd;
mod wallet;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TFGrid Economy: the ledger, pools and capacity marketplace of the ThreeFold Grid.
#[derive(Parser)]
#[command(name = "tfeco", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Run the economy node: replay the journal, then serve the HTTP API.
    Serve(serve::ServeArgs),
    /// Play one month of the TFGrid economy through the real HTTP API on real data, then keep serving.
    Demo(demo::DemoArgs),
    /// Replay a data directory from scratch and report entries, state hash and invariants.
    Verify {
        /// Data directory of the node.
        #[arg(long, default_value = "tfeco-data")]
        data_dir: PathBuf,
        /// Also verify every entry's ed25519 signature.
        #[arg(long)]
        signatures: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The CLI wallet: keys in an encrypted keystore, signed requests to a node.
    Wallet(wallet::WalletArgs),
    /// Operator commands signed with the node's operator key (deposits, prices, ticks).
    Admin(admin::AdminArgs),
    /// Measure core, journal, replay and HTTP throughput and print a report.
    Bench(bench::BenchArgs),
    /// Exit-pool Dutch auction tools (offline clearing of a bid book for analysts and auditors).
    Auction(auction_cmd::Args),
    /// In-wallet exchange tools (offline clearing of a batch from a CSV book).
    Exchange(exchange_cmd::Args),
    /// Calculators: farmer income and ROI, v3 minting rewards.
    Calc(calc_cmd::Args),
    /// Capacity marketplace: search, take, standing bids, capacity requests, farming pools.
    Market(market_cmd::Args),
    /// Minting reports, vesting of minted rewards and node uptime (read-only).
    Mint(mint_report_cmd::Args),
    /// Guardian commands signed with a keystore: sign minting reports, propose and sign parameter changes,
    /// attest deposits and withdrawals, submit oracle prices.
    Guardian(guardian_cmd::GuardianArgs),
    /// Node commands: name a node's report key (farmer), report uptime (node key).
    Node(guardian_cmd::NodeArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TFECO_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Commands::Serve(args) => serve::run(args).await,
            Commands::Demo(args) => demo::run(args).await,
            Commands::Verify { data_dir, signatures, json } => serve::verify(&data_dir, signatures, json),
            Commands::Wallet(args) => wallet::run(args).await,
            Commands::Admin(args) => admin::run(args).await,
            Commands::Bench(args) => bench::run(args).await,
            Commands::Auction(args) => auction_cmd::run(args).await,
            Commands::Exchange(args) => exchange_cmd::run(args).await,
            Commands::Calc(args) => calc_cmd::run(args).await,
            Commands::Market(args) => market_cmd::run(args).await,
            Commands::Mint(args) => mint_report_cmd::run(args).await,
            Commands::Guardian(args) => guardian_cmd::run_guardian(args).await,
            Commands::Node(args) => guardian_cmd::run_node(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
