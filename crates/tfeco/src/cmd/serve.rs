//! `tfeco serve` and `tfeco verify`: open a data directory (replaying its journal) and serve the API, or
//! replay it from scratch and report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use serde_json::json;
use tfeco_core::AccountKey;
use tfeco_server::datadir::{load_or_create_operator_key, open_replica};
use tfeco_server::{ClockMode, ReplayOptions, ReplayReport, Replica, ServerConfig};

/// Arguments of `tfeco serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Data directory (journal and operator key); created on first start.
    #[arg(long, default_value = "tfeco-data")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// `wall`: a clock task ticks with the system time; `manual`: only signed Tick commands move time.
    #[arg(long, default_value = "wall", value_parser = ["wall", "manual"])]
    pub clock: String,
    /// Seconds between automatic ticks (wall clock).
    #[arg(long, default_value_t = 60)]
    pub tick_interval: u64,
    /// Seconds a signed read's timestamp may be from this node's clock (each signature is accepted once).
    #[arg(long, default_value_t = ServerConfig::default().signed_read_window_s)]
    pub signed_read_window: i64,
    /// Seconds a client has to send a request's headers (also the idle timeout of a kept-alive connection).
    #[arg(long, default_value_t = ServerConfig::default().header_timeout_s)]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body after its headers.
    #[arg(long, default_value_t = ServerConfig::default().body_timeout_s)]
    pub body_timeout: u64,
    /// Most connections served at once (others wait until one closes).
    #[arg(long, default_value_t = ServerConfig::default().max_connections)]
    pub max_connections: usize,
    /// Single-key development mode (decisions §12): a new data directory's genesis has the operator as its
    /// only guardian and is marked as a development node (shown by `/v1/status`, the CLI and the web page).
    /// Without it a node needs a genesis with at least 9 guardians. Recorded at creation: an existing data
    /// directory keeps its mode.
    #[arg(long)]
    pub dev: bool,
}

/// Arguments of `tfeco verify`.
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// Data directory of the node.
    #[arg(long, default_value = "tfeco-data")]
    pub data_dir: PathBuf,
    /// Also verify every entry's ed25519 signature.
    #[arg(long)]
    pub signatures: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Opens the replica of `dir`, creating the operator key and genesis (the embedded data, changed by
/// `customize`) on first start.
pub(crate) fn open(
    dir: &Path,
    start_time: i64,
    fresh_key: impl FnOnce() -> SigningKey,
    customize: impl FnOnce(&mut tfeco_core::Params),
) -> anyhow::Result<(Replica, ReplayReport, SigningKey)> {
    let key = load_or_create_operator_key(dir, fresh_key)?;
    let mut genesis =
        tfeco_core::Genesis::tfgrid4_2025(AccountKey(key.verifying_key().to_bytes()), start_time);
    customize(&mut genesis.params);
    let (mut replica, report) = open_replica(dir, || genesis, ReplayOptions::default())
        .with_context(|| format!("opening the node in {}", dir.display()))?;
    replica.set_operator_key(key.clone());
    Ok((replica, report, key))
}

/// Binds the node's listening address; an address in use says to choose another with `--listen`.
pub(crate) async fn bind(listen: &str) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => Err(anyhow::anyhow!(
            "listening on {listen}: the address is in use (another node?); choose another with --listen, \
             e.g. --listen 127.0.0.1:8081"
        )),
        Err(error) => Err(error).with_context(|| format!("listening on {listen}")),
    }
}

/// Runs `tfeco serve`: replays the journal, then serves until Ctrl-C.
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let now = tfeco_server::now_unix_ms() / 1000;
    let dev = args.dev;
    let (replica, report, key) = open(
        &args.data_dir,
        now,
        || SigningKey::generate(&mut rand::rngs::OsRng),
        |params| params.dev_mode = dev,
    )?;
    let dev_mode = replica.state().params().dev_mode;
    let listener = bind(&args.listen).await?;
    let config = ServerConfig {
        clock: if args.clock == "wall" { ClockMode::Wall } else { ClockMode::Manual },
        tick_interval_s: args.tick_interval,
        signed_read_window_s: args.signed_read_window,
        header_timeout_s: args.header_timeout,
        body_timeout_s: args.body_timeout,
        max_connections: args.max_connections,
        ..ServerConfig::default()
    };
    let checkpoints =
        tfeco_server::checkpoints::open_checked(&args.data_dir, &replica).with_context(|| {
            format!("checking the node in {} against its guardian checkpoints", args.data_dir.display())
        })?;
    let server = tfeco_server::start_with_checkpoints(replica, Some(checkpoints), listener, config).await?;
    eprintln!(
        "tfeco node serving on http://{} (data {}, {} entries replayed, state {}, operator {})",
        server.addr,
        args.data_dir.display(),
        report.entries,
        report.state_hash,
        hex::encode(key.verifying_key().to_bytes()),
    );
    if dev_mode {
        eprintln!(
            "DEVELOPMENT MODE: single-key genesis (the operator may be the only guardian); not for real money"
        );
    }
    server.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// Replays `dir` from scratch (a fresh state from the stored genesis) and reports; exit 2 when the replay
/// or the invariants fail. Never creates a genesis.
pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let json_out = args.json;
    let outcome = replay_dir(&args.data_dir, args.signatures);
    let (ok, entries, state_hash, error) = match outcome {
        Ok((entries, state_hash, invariants)) => (invariants.is_ok(), entries, state_hash, invariants.err()),
        Err(error) => (false, 0, String::new(), Some(format!("{error:#}"))),
    };
    if json_out {
        println!(
            "{}",
            json!({ "entries": entries, "state_hash": state_hash, "invariants_ok": ok, "error": error })
        );
    } else if ok {
        println!("entries: {entries}\nstate_hash: {state_hash}\ninvariants: OK");
    } else {
        println!("verification FAILED: {}", error.unwrap_or_default());
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn replay_dir(dir: &Path, signatures: bool) -> anyhow::Result<(u64, String, Result<(), String>)> {
    use tfeco_journal::Journal;
    if !dir.join(tfeco_journal::FILE_NAME).exists() {
        anyhow::bail!("{} has no journal ({})", dir.display(), tfeco_journal::FILE_NAME);
    }
    let (journal, open_report) = tfeco_journal::SqliteJournal::open(dir)?;
    let genesis_bytes =
        journal.get_meta(tfeco_server::replica::GENESIS_META_KEY)?.context("the journal has no genesis")?;
    let genesis =
        tfeco_core::Genesis::decode(&genesis_bytes).context("the journal's genesis does not decode")?;
    let options = ReplayOptions { verify_signatures: signatures };
    let (replica, report) =
        Replica::open(Box::new(journal), || genesis, open_report.dropped_torn_entry, options)?;
    Ok((report.entries, report.state_hash, replica.state().check_invariants()))
}
