//! `tfeco demo`: opens (or resumes) a demo data directory with the demo's operator key and guardians, serves
//! it on a manual clock, and plays the month of the `tfeco_sim::demo` scenario through the real HTTP API;
//! then its guardians sign the latest checkpoint after replaying the journal themselves, the journal is
//! replayed from scratch next to the live node, the summary is printed, and the node keeps serving (unless
//! `--no-serve`). Exit 2 when the invariants or the replay fail.

use std::path::PathBuf;
use std::process::ExitCode;

use tfeco_server::{ClockMode, ServerConfig};
use tfeco_sim::demo::{self, Demo, SummaryContext};

use crate::render;

/// Arguments of `tfeco demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Data directory (created fresh, or resumed).
    #[arg(long, default_value = "tfeco-demo")]
    pub(crate) data_dir: PathBuf,
    /// Address to serve on (default 127.0.0.1:8080; an ephemeral port with --no-serve).
    #[arg(long)]
    pub(crate) listen: Option<String>,
    /// Exit after the summary instead of serving.
    #[arg(long)]
    pub(crate) no_serve: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// Keep the journal's entries in a PostgreSQL database (`postgres://USER@HOST:PORT/DB`) instead of
    /// `journal.sqlite` in the data directory (see `tfeco serve --journal`).
    #[arg(long, value_parser = tfeco_server::datadir::JournalLocation::parse)]
    pub(crate) journal: Option<tfeco_server::datadir::JournalLocation>,
    /// Play this scenario of the economy simulator through the node instead of the demo's month: a built-in
    /// name (`tfeco sim --list`, e.g. `demo`) or a TOML file; the data directory must be new.
    #[arg(long)]
    pub(crate) scenario: Option<String>,
    /// The scenario's seed (with --scenario).
    #[arg(long, default_value_t = 1, requires = "scenario")]
    pub(crate) seed: u64,
    /// With --scenario: open and serve the scenario's node without playing it (for `tfeco sim --through-node`).
    #[arg(long, requires = "scenario")]
    pub(crate) no_play: bool,
}

/// The demo's guardians sign the node's latest checkpoint (the operator proposes one at the head when there
/// is none), each through the same download, verification, replay and comparison as `tfeco guardian
/// sign-checkpoint`, until the threshold is reached. A guardian who signed it in an earlier run is skipped.
async fn sign_latest_checkpoint(url: &str, operator: &ed25519_dalek::SigningKey) -> anyhow::Result<()> {
    let client = tfeco_wallet::Client::new(url);
    let list = client.checkpoints().await?;
    let mut latest = match list.checkpoints.last() {
        Some(latest) => latest.clone(),
        None => client.propose_checkpoint(operator).await?,
    };
    for guardian in demo::guardian_keys() {
        if latest.is_final {
            break;
        }
        let account = tfeco_wallet::client::account_of(&guardian);
        if latest.signers.iter().any(|s| s.guardian == account) {
            continue;
        }
        latest = super::guardian::checkpoint::verify_and_sign(&client, &guardian, Some(latest.seq)).await?;
    }
    Ok(())
}

/// Runs `tfeco demo`.
pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = args.scenario.clone() {
        return super::demo_scenario::run(args, &name).await;
    }
    let (replica, report, operator) = super::serve::open(
        &args.data_dir,
        &args.journal.clone().unwrap_or_default(),
        Default::default(),
        demo::START,
        demo::operator_key,
        demo::configure,
    )?;
    // The demo's guardians are a development quorum: their keys stay next to the journal, so the operator's
    // `tfeco admin` gathers their threshold alone (deposits, prices).
    tfeco_server::datadir::save_dev_guardians(&args.data_dir, &demo::guardian_keys())?;
    let resumed = report.entries > 0;
    let default_listen = if args.no_serve { "127.0.0.1:0" } else { "127.0.0.1:8080" };
    let listen = args.listen.as_deref().unwrap_or(default_listen);
    let listener = super::serve::bind(listen).await?;
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let checkpoints = tfeco_server::checkpoints::open_checked(&args.data_dir, &replica)?;
    let server = tfeco_server::start_with_checkpoints(replica, Some(checkpoints), listener, config).await?;
    let url = format!("http://{}", server.addr);
    let mut demo = Demo::connect(&url, operator.clone()).await?;
    if !args.json {
        let verb = if resumed { "resuming" } else { "starting" };
        let (dir, month) = (args.data_dir.display(), demo.month_number());
        eprintln!("{verb} the demo in {dir} (month {month}) on {url} ...");
    }
    demo.play().await?;
    sign_latest_checkpoint(&url, &operator).await?;

    // Replay the journal from scratch next to the live node: the hashes must match.
    let replica = server.app.replica.clone();
    let replay = tokio::task::spawn_blocking(move || replica.read().replay_hash()).await?;
    let replay_hash = replay.map_err(|error| error.to_string());
    let context = SummaryContext { data_dir: &args.data_dir, resumed, replay_hash };
    let summary = demo.summary(context).await?;
    render::view(args.json, &summary, demo::render_summary)?;
    let ok = summary.invariants_ok && summary.replay_matches;
    if args.no_serve {
        server.stop().await?;
    } else {
        eprintln!(
            "\nserving on {url}: explore with e.g. `curl {url}/v1/supply` or `tfeco wallet --url {url} nodes`; \
             Ctrl-C to stop."
        );
        server.run_until_stopped().await?;
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
