//! `tfeco serve` and `tfeco verify`: open a data directory (replaying its journal) and serve the API, or
//! replay it from scratch and report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use serde_json::json;
use tfeco_core::AccountKey;
use tfeco_server::checkpoints::{CheckpointStore, GuardianSet};
use tfeco_server::datadir::{open_node_at, JournalLocation, NewNode};
use tfeco_server::replica::{replay_witnessed, Witness};
use tfeco_server::snapshots::{self, SnapshotPolicy};
use tfeco_server::snapshotter::Snapshotter;
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
    /// Write a state snapshot (in `DIR/snapshots`) every this many journal entries (0: never by count).
    #[arg(long, default_value_t = SnapshotPolicy::default().every_entries)]
    pub snapshot_every_entries: u64,
    /// ... or every this many seconds while entries arrive (0: never by time).
    #[arg(long, default_value_t = SnapshotPolicy::default().every_seconds)]
    pub snapshot_every_seconds: u64,
    /// Snapshots kept (the newest ones).
    #[arg(long, default_value_t = SnapshotPolicy::default().keep)]
    pub snapshot_keep: usize,
    /// Single-key development mode (decisions §12): a new data directory's genesis has the operator as its
    /// only guardian and is marked as a development node (shown by `/v1/status`, the CLI and the web page).
    /// Without it a node needs a genesis with at least 9 guardians. Recorded at creation: an existing data
    /// directory keeps its mode.
    #[arg(long)]
    pub dev: bool,
    /// How log lines are written to stderr: `text` (for people) or `json` (one JSON object a line, for log
    /// collectors). Which lines is set by `TFECO_LOG` (e.g. `info`: one line per request).
    #[arg(long, value_enum, env = "TFECO_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Keep the journal's entries in a PostgreSQL database (`postgres://USER@HOST:PORT/DB`, no TLS) instead
    /// of `journal.sqlite`; the data directory still keeps the anchor, keys, snapshots and checkpoints.
    /// A new node needs an empty database; opening takes the journal's writer lease (fencing older writers).
    #[arg(long, value_parser = JournalLocation::parse)]
    pub journal: Option<JournalLocation>,
}

/// The format of the log lines on stderr (`tfeco serve --log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields` (with `message`).
    Json,
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
    /// The node's journal is in this PostgreSQL database (`postgres://USER@HOST:PORT/DB`), as given to
    /// `tfeco serve --journal`. It is read in a read-only session, without the writer lease (a running
    /// writer is not fenced); a hot standby can be verified too.
    #[arg(long, value_parser = JournalLocation::parse)]
    pub journal: Option<JournalLocation>,
}

/// Opens the node in `dir` (its journal at `journal`), creating it on first start (a new operator key from `fresh_key`, the embedded
/// genesis changed by `customize`, a random data-directory id).
pub(crate) fn open(
    dir: &Path,
    journal: &JournalLocation,
    policy: SnapshotPolicy,
    start_time: i64,
    fresh_key: impl FnOnce() -> SigningKey,
    customize: impl FnOnce(&mut tfeco_core::Params),
) -> anyhow::Result<(Replica, ReplayReport, SigningKey)> {
    let fresh = || {
        let operator_key = fresh_key();
        let mut genesis = tfeco_core::Genesis::tfgrid4_2025(
            AccountKey(operator_key.verifying_key().to_bytes()),
            start_time,
        );
        customize(&mut genesis.params);
        NewNode { operator_key, genesis, datadir_id: rand::random() }
    };
    let (mut replica, report, key) = open_node_at(dir, journal, fresh, ReplayOptions::default())
        .with_context(|| format!("opening the node in {}", dir.display()))?;
    replica.set_operator_key(key.clone());
    let last_snapshot = report.from_snapshot.unwrap_or(0);
    replica.set_snapshotter(Snapshotter::new(
        dir.to_owned(),
        policy,
        last_snapshot,
        tfeco_server::now_unix_ms(),
    ));
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
    let policy = SnapshotPolicy {
        every_entries: args.snapshot_every_entries,
        every_seconds: args.snapshot_every_seconds,
        keep: args.snapshot_keep,
    };
    let (replica, report, key) = open(
        &args.data_dir,
        &args.journal.clone().unwrap_or_default(),
        policy,
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
    let start = report
        .from_snapshot
        .map_or("from the genesis".to_owned(), |seq| format!("from the snapshot at {seq}"));
    let checkpoints =
        tfeco_server::checkpoints::open_checked(&args.data_dir, &replica).with_context(|| {
            format!("checking the node in {} against its guardian checkpoints", args.data_dir.display())
        })?;
    // Announced before the server starts: the listener is bound, so a client that reads this line and
    // connects at once waits in the accept queue, and a line-reading supervisor never sees answers first.
    let addr = listener.local_addr()?;
    announce(
        args.log_format,
        &format!(
            "tfeco node serving on http://{} (data {}, {} entries, replayed {start}, state {}, operator {})",
            addr,
            args.data_dir.display(),
            report.entries,
            report.state_hash,
            hex::encode(key.verifying_key().to_bytes()),
        ),
    );
    if dev_mode {
        announce(
            args.log_format,
            "DEVELOPMENT MODE: single-key genesis (the operator may be the only guardian); not for real money",
        );
    }
    let server = tfeco_server::start_with_checkpoints(replica, Some(checkpoints), listener, config).await?;
    server.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a line the operator always sees (whatever `TFECO_LOG`) to stderr: as it is, or with `--log-format
/// json` as a JSON log line of level `INFO` and target `tfeco::serve`, so stderr holds only JSON lines.
fn announce(format: LogFormat, message: &str) {
    match format {
        LogFormat::Text => eprintln!("{message}"),
        LogFormat::Json => eprintln!(
            "{}",
            json!({
                "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
                "level": "INFO",
                "fields": { "message": message },
                "target": "tfeco::serve",
            })
        ),
    }
}

/// What `tfeco verify` found.
#[derive(serde::Serialize, Default)]
struct VerifyReport {
    /// Entries replayed (the journal's head).
    entries: u64,
    /// State hash after the replay.
    state_hash: String,
    /// `true` when everything checked out.
    invariants_ok: bool,
    /// Why verification failed.
    error: Option<String>,
    /// The anchored (acknowledged) head.
    anchor_seq: u64,
    /// Entries of one unacknowledged commit beyond the anchor (a crash before its anchor write).
    unanchored: u64,
    /// Entries of an unacknowledged commit with a damaged last entry that `serve` will drop.
    would_drop: u64,
    /// PostgreSQL journal: entries after this directory's anchor appended by a later writer (this directory
    /// is an older copy, e.g. after a failover), verified; `serve` anchors them.
    caught_up: u64,
    /// Snapshots whose state the replay from the genesis reproduced at their entry.
    snapshots_checked: usize,
    /// Snapshots that could not be used (damaged, another version, beyond the head): `serve` skips them.
    snapshot_warnings: Vec<String>,
    /// Checkpoints (`DIR/checkpoints`) whose journal and state hashes the replay reproduced.
    checkpoints_checked: usize,
    /// Of them, those final (signed by the guardians' threshold of the state after the replay).
    final_checkpoints: usize,
}

/// Replays `dir` from its genesis (on a private copy of the journal: `dir` is not changed by a byte) and
/// reports; exit 2 when the anchor, the chain, the replay or the invariants fail. Never creates anything.
pub(crate) fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let location = args.journal.clone().unwrap_or_default();
    let report = match replay_dir(&args.data_dir, &location, args.signatures) {
        Ok(report) => report,
        Err(error) => VerifyReport { error: Some(format!("{error:#}")), ..VerifyReport::default() },
    };
    if args.json {
        println!("{}", json!(report));
    } else if report.invariants_ok {
        println!(
            "entries: {}\nstate_hash: {}\nanchored: {} (unacknowledged beyond it: {})\ninvariants: OK",
            report.entries, report.state_hash, report.anchor_seq, report.unanchored
        );
        println!("snapshots checked: {}", report.snapshots_checked);
        println!("checkpoints checked: {} ({} final)", report.checkpoints_checked, report.final_checkpoints);
        for warning in &report.snapshot_warnings {
            println!("warning: unusable snapshot: {warning}");
        }
        if report.caught_up > 0 {
            println!(
                "note: the journal runs {} entries past this directory's anchor (a later writer's, verified)",
                report.caught_up
            );
        }
        if report.would_drop > 0 {
            println!(
                "note: the node will drop {} unacknowledged entries with a damaged tail",
                report.would_drop
            );
        }
    } else {
        println!("verification FAILED: {}", report.error.unwrap_or_default());
    }
    Ok(if report.invariants_ok { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// The journal of `dir` opened for verification against its anchor, changing nothing: a private copy of
/// `journal.sqlite` (the guard deletes it), or the PostgreSQL journal in a read-only session.
type VerifyJournal =
    (Box<dyn tfeco_journal::Journal>, tfeco_journal::AnchoredOpen, Option<tempfile::TempDir>);

fn open_for_verify(dir: &Path, location: &JournalLocation) -> anyhow::Result<VerifyJournal> {
    let context = || format!("checking the journal of {} against its anchor", dir.display());
    match location {
        JournalLocation::DataDir => {
            if !dir.join(tfeco_journal::FILE_NAME).exists() {
                anyhow::bail!("{} has no journal ({})", dir.display(), tfeco_journal::FILE_NAME);
            }
            let (journal, open, copy) = tfeco_journal::open_anchored_copy(dir).with_context(context)?;
            Ok((Box::new(journal), open, Some(copy)))
        }
        JournalLocation::Postgres(url) => {
            let (journal, open) =
                tfeco_journal::open_anchored_postgres_read_only(dir, url).with_context(context)?;
            Ok((Box::new(journal), open, None))
        }
    }
}

fn replay_dir(dir: &Path, location: &JournalLocation, signatures: bool) -> anyhow::Result<VerifyReport> {
    use tfeco_journal::Journal;
    let (journal, open, _copy) = open_for_verify(dir, location)?;
    let genesis_bytes = journal.genesis()?.context("the journal has no genesis")?;
    let genesis =
        tfeco_core::Genesis::decode(&genesis_bytes).context("the journal's genesis does not decode")?;
    let options = ReplayOptions { verify_signatures: signatures };
    let (mut witnesses, snapshot_warnings) = snapshot_witnesses(dir);
    let snapshots_checked = witnesses.len();
    let store = CheckpointStore::open(dir).context("reading the guardian checkpoints")?;
    witnesses.extend(store.checkpoints().map(|checkpoint| Witness {
        seq: checkpoint.seq,
        journal_hash: checkpoint.journal_hash,
        state_hash: hex::encode(checkpoint.state_hash),
        source: format!("checkpoint of entry {}", checkpoint.seq),
    }));
    let head = journal.head().seq;
    if let Some(beyond) = witnesses.iter().find(|w| w.seq > head) {
        anyhow::bail!(
            "the {} is beyond the journal's head (entry {head}): acknowledged history is missing",
            beyond.source
        );
    }
    // Every witness is within the journal, so the replay checks each one or fails.
    let (state, checked) = replay_witnessed(tfeco_core::State::new(genesis), &*journal, options, &witnesses)?;
    anyhow::ensure!(
        checked == witnesses.len(),
        "the replay checked {checked} of {} witnesses",
        witnesses.len()
    );
    let set = GuardianSet::of(state.params());
    let final_checkpoints = store.checkpoints().filter(|c| c.is_final(&set)).count();
    let invariants = state.check_invariants();
    Ok(VerifyReport {
        entries: journal.head().seq,
        state_hash: state.state_hash(),
        invariants_ok: invariants.is_ok(),
        error: invariants.err(),
        anchor_seq: open.anchor.head.seq,
        unanchored: open.unanchored,
        would_drop: open.dropped.map_or(0, |(first, last, _)| last - first + 1),
        caught_up: open.caught_up,
        snapshots_checked,
        snapshot_warnings,
        checkpoints_checked: checked - snapshots_checked,
        final_checkpoints,
    })
}

/// Every readable snapshot of `dir` as a witness for the replay, and a warning for each unreadable one.
fn snapshot_witnesses(dir: &Path) -> (Vec<Witness>, Vec<String>) {
    let (mut witnesses, mut warnings) = (Vec::new(), Vec::new());
    for (_, path) in snapshots::list(dir) {
        match snapshots::load(&path, None) {
            Ok((_, meta)) => witnesses.push(Witness {
                seq: meta.seq,
                journal_hash: meta.journal_hash,
                state_hash: meta.state_hash,
                source: format!("snapshot {}", path.display()),
            }),
            Err(error) => warnings.push(error.to_string()),
        }
    }
    (witnesses, warnings)
}
