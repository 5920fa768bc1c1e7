//! The clap tree of `tfeco`: one subcommand per group, each defined (with its own arguments) in its `cmd/`
//! module. Every group that talks to a node flattens the shared `ConnectOpts` (`--url`, `--keystore`,
//! `--json`); `--node` is always a node id.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd;

/// TFGrid Economy: the ledger, pools and capacity marketplace of the ThreeFold Grid.
#[derive(Parser)]
#[command(name = "tfeco", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Commands,
}

#[derive(Subcommand)]
pub(crate) enum Commands {
    /// Run the economy node: replay the journal, then serve the HTTP API.
    Serve(cmd::serve::ServeArgs),
    /// Follow a primary: stream its journal, check every hash, signature and guardian checkpoint, apply it
    /// to an own journal and state, and serve every read from it (writes are redirected to the primary).
    Follow(cmd::follow::FollowArgs),
    /// Play one month of the TFGrid economy through the real HTTP API on real data, then keep serving.
    Demo(cmd::demo::DemoArgs),
    /// Replay a data directory from its genesis and check it against its anchor, snapshots and checkpoints;
    /// reads a private copy and never changes a byte of the directory.
    Verify(cmd::serve::VerifyArgs),
    /// Say what is wrong with a data directory the node refuses and what repairing it would change; change
    /// it only when confirmed.
    Repair(cmd::repair::RepairArgs),
    /// Export a stopped node's journal entries up to its newest snapshot, with their chain, into a standalone
    /// journal file (`--check`: verify one against the node's journal).
    Archive(cmd::archive::ArchiveArgs),
    /// The CLI wallet: keys in an encrypted keystore, signed requests to a node; the exchange, the exit pool
    /// and Pool 2.
    Wallet(cmd::wallet::WalletArgs),
    /// The capacity market: search, explain, take, standing bids, capacity requests.
    Capacity(cmd::capacity::CapacityArgs),
    /// Farming pools: create, join, leave, set a member node's price, show, list.
    FarmingPool(cmd::farming_pool::FarmingPoolArgs),
    /// Minting reports, vesting of minted rewards and node uptime (read-only).
    Mint(cmd::mint::MintArgs),
    /// Guardian commands signed with a keystore: sign minting reports, propose and sign parameter changes,
    /// attest deposits and withdrawals, fund the exit pool, submit oracle prices.
    Guardian(cmd::guardian::GuardianArgs),
    /// The treasury report: revenue CC, fiat USDC, exit buy-backs, the revenue burn, the exit pool's funding
    /// and the treasury's balances (read-only).
    Treasury(cmd::treasury::TreasuryArgs),
    /// The node's status: journal head, time, state hash, invariants, and whether it is a single-key
    /// development node (read-only).
    Status(cmd::status::StatusArgs),
    /// Guardian checkpoints of the node: seq, journal and state hashes, signatures and whether each is final
    /// (read-only; guardians sign with `tfeco guardian sign-checkpoint`).
    Checkpoints(cmd::checkpoints::CheckpointsArgs),
    /// Node commands: name a node's report key (farmer), report uptime (node key).
    Node(cmd::node::NodeArgs),
    /// Operator commands signed with the node's operator key (deposits, prices, ticks, bid tiers).
    Admin(cmd::admin::AdminArgs),
    /// Exit-pool Dutch auction tools (offline clearing of a bid book for analysts and auditors).
    Auction(cmd::auction::Args),
    /// In-wallet exchange tools (offline clearing of a batch from a CSV book).
    Exchange(cmd::exchange_clear::Args),
    /// Calculators: farmer income and ROI, v3 minting rewards.
    Calc(cmd::calc::Args),
    /// Measure core, journal, replay and HTTP throughput and print a report.
    Bench(cmd::bench::BenchArgs),
    /// The economy simulator: years of the real state machine under a scenario, Monte Carlo bands, parameter
    /// sweeps; CSV, charts and an HTML report.
    Sim(cmd::sim::SimArgs),
    /// Client settings in named profiles: the node's URL, the keystore, JSON output (`config set url URL`,
    /// `config use NAME`, `--profile NAME` or TFECO_PROFILE on any command).
    Config(cmd::config::ConfigArgs),
    /// Print the shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(cmd::completions::CompletionsArgs),
}

impl Commands {
    /// Runs the command; the exit code says how it went (see `render`).
    pub(crate) async fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Commands::Serve(args) => cmd::serve::run(args).await,
            Commands::Follow(args) => cmd::follow::run(args).await,
            Commands::Demo(args) => cmd::demo::run(args).await,
            Commands::Verify(args) => cmd::serve::verify(args),
            Commands::Repair(args) => cmd::repair::run(args),
            Commands::Archive(args) => cmd::archive::run(args),
            Commands::Wallet(args) => cmd::wallet::run(args).await,
            Commands::Capacity(args) => cmd::capacity::run(args).await,
            Commands::FarmingPool(args) => cmd::farming_pool::run(args).await,
            Commands::Mint(args) => cmd::mint::run(args).await,
            Commands::Guardian(args) => cmd::guardian::run(args).await,
            Commands::Treasury(args) => cmd::treasury::run(args).await,
            Commands::Status(args) => cmd::status::run(args).await,
            Commands::Checkpoints(args) => cmd::checkpoints::run(args).await,
            Commands::Node(args) => cmd::node::run(args).await,
            Commands::Admin(args) => cmd::admin::run(args).await,
            Commands::Auction(args) => cmd::auction::run(args).await,
            Commands::Exchange(args) => cmd::exchange_clear::run(args).await,
            Commands::Calc(args) => cmd::calc::run(args).await,
            Commands::Bench(args) => cmd::bench::run(args).await,
            Commands::Sim(args) => cmd::sim::run(args).await,
            Commands::Config(args) => cmd::config::run(args),
            Commands::Completions(args) => {
                cmd::completions::run(args, <Cli as clap::CommandFactory>::command())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every path of the tree, e.g. `["wallet", "lease", "open"]`.
    fn paths(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            out.push(path.clone());
            paths(sub, &path, out);
        }
    }

    /// Issue 10 item 15: `wallet lease open --node 3` panicked in clap ("Mismatch between definition and
    /// access of 'node'"): a global `--node` (the URL) of the group and a local `--node` (a node id) of the
    /// subcommand shared one id with two types. No argument may reuse the id of a global argument of an
    /// ancestor, and every subcommand's `--help` renders.
    #[test]
    fn no_argument_shadows_a_global_one_and_every_help_renders() {
        fn walk(command: &clap::Command, globals: &[(String, String)], clashes: &mut Vec<String>) {
            let mut inherited = globals.to_vec();
            for arg in command.get_arguments() {
                let id = arg.get_id().to_string();
                if let Some((_, owner)) = globals.iter().find(|(g, _)| *g == id) {
                    if !arg.is_global_set() {
                        clashes.push(format!("{} redefines --{id} of {owner}", command.get_name()));
                    }
                }
                if arg.is_global_set() && !inherited.iter().any(|(g, _)| *g == id) {
                    inherited.push((id, command.get_name().to_owned()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &inherited, clashes);
            }
        }
        let mut clashes = Vec::new();
        walk(&Cli::command(), &[], &mut clashes);
        assert!(clashes.is_empty(), "{clashes:#?}");

        let mut all = Vec::new();
        paths(&Cli::command(), &[], &mut all);
        assert!(all.len() > 80, "{} paths", all.len());
        for path in all {
            let argv =
                std::iter::once("tfeco".to_owned()).chain(path.iter().cloned()).chain(["--help".to_owned()]);
            match Cli::try_parse_from(argv) {
                Err(error) => {
                    assert_eq!(error.kind(), clap::error::ErrorKind::DisplayHelp, "{path:?}: {error}")
                }
                Ok(_) => panic!("{path:?} --help parsed as a command"),
            }
        }
    }

    /// Every option named `--node` is a node id (a number), in every subcommand that has one.
    #[test]
    fn every_node_option_takes_a_node_id() {
        let mut all = Vec::new();
        paths(&Cli::command(), &[], &mut all);
        let root = Cli::command();
        let mut checked = 0;
        for path in all {
            let mut command = &root;
            for name in &path {
                command = command.find_subcommand(name).expect("a path of the tree");
            }
            let Some(node) = command.get_arguments().find(|a| a.get_long() == Some("node")) else { continue };
            let mut argv: Vec<String> =
                std::iter::once("tfeco".to_owned()).chain(path.iter().cloned()).collect();
            argv.extend(["--node".to_owned(), "not-a-number".to_owned()]);
            let error = Cli::try_parse_from(&argv).err().unwrap_or_else(|| panic!("{argv:?} parsed"));
            assert_ne!(error.kind(), clap::error::ErrorKind::DisplayHelp, "{argv:?}");
            assert!(error.to_string().contains("--node"), "{argv:?}: {error} ({:?})", node.get_id());
            checked += 1;
        }
        assert!(checked >= 3, "{checked} subcommands take --node");
    }

    #[test]
    fn every_networked_group_takes_url_keystore_and_json() {
        for group in ["wallet", "capacity", "farming-pool", "mint", "guardian", "node"] {
            let command = Cli::command();
            let sub = command.find_subcommand(group).unwrap_or_else(|| panic!("no {group}"));
            for option in ["url", "keystore", "json"] {
                assert!(sub.get_arguments().any(|a| a.get_id() == option), "{group} lacks --{option}");
            }
        }
        let parsed = Cli::try_parse_from(["tfeco", "guardian", "show", "--url", "http://n:1"]);
        assert!(parsed.is_ok());
        assert!(Cli::try_parse_from(["tfeco", "guardian", "--node", "http://n:1", "show"]).is_err());
        assert!(
            Cli::try_parse_from(["tfeco", "mint", "uptime", "--node", "3", "--url", "http://n:1"]).is_ok()
        );
        assert!(Cli::try_parse_from(["tfeco", "market", "search"]).is_err(), "capacity, not market");
    }
}
