//! `tfeco follow --primary URL --data-dir DIR --listen ADDR --key FILE`: a read-only follower of a primary
//! (docs/operations.md "Followers"). It fetches the primary's genesis (`GET /v1/journal/genesis`), opens or
//! creates its own data directory with it ([`tfeco_server::follower::open_dir`]), serves every read and
//! `/v1/events` from its own state with writes redirected to the primary ([`tfeco_server::follower::serve`]),
//! and streams the journal (`GET /v1/journal/stream`, a signed read by `--key`: a guardian's or the
//! operator's) from its own head: every batch of entries is checked (chain, hashes, signatures) and applied
//! by [`tfeco_server::follower::Follower::apply`]; the primary's checkpoints (`GET /v1/checkpoints`, polled
//! every second) are compared with its own hashes. A broken stream is reopened from the follower's head.
//!
//! With `--journal postgres://...` the entries are read straight from the primary's PostgreSQL journal (a
//! streaming replica of its database) instead, with the same checks.
//!
//! Exit: 0 when interrupted (or caught up, with `--until-caught-up`); 3 when the follower stopped because the
//! primary's history failed a check (the message names the entry, and both hashes at a checkpoint); an
//! error (non-zero) when the primary refuses the key.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use futures_util::StreamExt as _;
use tfeco_journal::{Entry, Head, Journal, JournalError, PostgresJournal};
use tfeco_server::checkpoints::audit::decode_entry;
use tfeco_server::datadir::JournalLocation;
use tfeco_server::follower::{self, Follower, PrimaryCheckpoint};
use tfeco_server::snapshots::SnapshotPolicy;
use tfeco_server::snapshotter::Snapshotter;
use tfeco_server::ServerConfig;
use tfeco_wallet::api::checkpoints::{JournalStreamItem, JournalStreamQuery};
use tfeco_wallet::keystore::{password_from_env_or_prompt, Keystore};
use tfeco_wallet::{CallError, Client};

/// Arguments of `tfeco follow`.
#[derive(clap::Args)]
pub(crate) struct FollowArgs {
    /// The primary's base URL, e.g. `http://10.0.0.1:8080`.
    #[arg(long)]
    pub primary: String,
    /// The follower's own data directory (its journal, anchor, snapshots and event index); created on first
    /// start with the primary's genesis. Never a primary's directory.
    #[arg(long, default_value = "tfeco-follower")]
    pub data_dir: PathBuf,
    /// Address to serve the follower's reads on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: String,
    /// The key that signs the journal reads: a guardian's or the operator's, as a file of 64 hex characters
    /// (like `operator.key`) or a wallet keystore (password from TFECO_PASSWORD or a prompt). Not needed
    /// with --journal.
    #[arg(long, required_unless_present = "journal")]
    pub key: Option<PathBuf>,
    /// Read the entries straight from the primary's PostgreSQL journal (`postgres://USER@HOST:PORT/DB`,
    /// typically a streaming replica of its database; read only) instead of `GET /v1/journal/stream`. The
    /// checks are the same; --primary is still where checkpoints are read and writes are redirected.
    #[arg(long, value_parser = JournalLocation::parse)]
    pub journal: Option<JournalLocation>,
    /// Exit (0) once caught up with the primary's head, after checking the primary's checkpoints (scripts,
    /// one-off audits); without it the follower keeps following until interrupted.
    #[arg(long)]
    pub until_caught_up: bool,
}

/// Exit code of a follower stopped by a failed check.
const EXIT_STOPPED: u8 = 3;
/// Wait before reopening a broken stream.
const RECONNECT: Duration = Duration::from_millis(500);
/// Between two reads of the primary's checkpoints.
const CHECKPOINT_POLL: Duration = Duration::from_secs(1);
/// Entries applied in one batch at most (one durable append of the follower's journal).
const APPLY_BATCH: usize = 2_048;
/// How often a caught-up follower reading a database looks for new commits.
const DATABASE_POLL: Duration = Duration::from_millis(100);

/// Why following ended.
enum Ended {
    /// Caught up (`--until-caught-up`).
    CaughtUp,
    /// A check failed: the follower stopped.
    Stopped(String),
    /// The primary refuses this follower's journal reads (not a guardian's or the operator's key, a clock
    /// too far from the primary's): a configuration error, not a finding about the primary.
    Refused(String),
}

/// Reads `--key`: a 32-byte hex seed, else a keystore.
fn load_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading the key {}", path.display()))?;
    let mut seed = [0u8; 32];
    if hex::decode_to_slice(text.trim(), &mut seed).is_ok() {
        return Ok(SigningKey::from_bytes(&seed));
    }
    let keystore = Keystore::load(path).with_context(|| {
        format!("{}: neither 64 hex characters (a key seed) nor a wallet keystore", path.display())
    })?;
    let password =
        password_from_env_or_prompt("TFECO_PASSWORD", "Keystore password: ", false, &crate::connect::prompt)?;
    Ok(keystore.decrypt(&password)?)
}

/// The primary's genesis (its chain root checked), or `None` when the primary cannot be reached and `dir`
/// already holds a follower (it then serves its own state and keeps trying to reach the primary).
async fn primary_genesis(client: &Client, dir: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let view = match client.journal_genesis().await {
        Ok(view) => view,
        Err(CallError::Unreachable(error)) if dir.join(tfeco_journal::anchor::ANCHOR_FILE).exists() => {
            tracing::warn!(%error, "the primary cannot be reached; serving this follower's own state meanwhile");
            return Ok(None);
        }
        Err(error) => {
            return Err(error).with_context(|| format!("reading the genesis of {}", client.base_url()));
        }
    };
    let genesis = hex::decode(&view.genesis).context("the primary's genesis is not hex")?;
    let root = hex::encode(tfeco_server::checkpoints::chain_root(&genesis));
    anyhow::ensure!(
        root == view.root_hash,
        "the primary states chain root {} for a genesis whose root is {root}",
        view.root_hash
    );
    Ok(Some(genesis))
}

/// Runs `tfeco follow`.
pub(crate) async fn run(args: FollowArgs) -> anyhow::Result<ExitCode> {
    let primary = args.primary.trim_end_matches('/').to_owned();
    let client = Client::new(&primary);
    let dir = &args.data_dir;
    let (source, genesis) = match (&args.journal, &args.key) {
        (Some(JournalLocation::Postgres(url)), _) => {
            (Source::Database(url.clone()), Some(database_genesis(url, &client, dir).await?))
        }
        (_, Some(key)) => (Source::Stream(load_key(key)?), primary_genesis(&client, dir).await?),
        (_, None) => anyhow::bail!("--key FILE signs the reads of the primary's journal (or give --journal)"),
    };
    let (mut replica, report) = follower::open_dir(dir, genesis.as_deref(), rand::random())
        .with_context(|| format!("opening the follower's data directory {}", dir.display()))?;
    let start = report.from_snapshot.unwrap_or(0);
    replica.set_snapshotter(Snapshotter::new(
        dir.clone(),
        SnapshotPolicy::default(),
        start,
        tfeco_server::now_unix_ms(),
    ));
    let listener = crate::cmd::serve::bind(&args.listen).await?;
    let running = follower::serve(replica, dir, &primary, listener, ServerConfig::default()).await?;
    eprintln!(
        "tfeco follower serving on http://{} (primary {primary}, data {}, from entry {}, state {})",
        running.addr,
        dir.display(),
        report.entries,
        report.state_hash
    );
    let follower = running.follower.clone();
    let ended = tokio::select! {
        ended = source.follow(&client, &follower, args.until_caught_up) => Some(ended),
        ended = watch_checkpoints(&client, &follower) => Some(ended),
        () = interrupted() => None,
    };
    let head = follower.head();
    let state_hash = running.app.replica.read().state().state_hash();
    running.stop().await?;
    match ended {
        Some(Ended::Stopped(reason)) => {
            eprintln!("the follower STOPPED at entry {}: {reason}", head.seq);
            Ok(ExitCode::from(EXIT_STOPPED))
        }
        Some(Ended::Refused(reason)) => Err(anyhow::anyhow!(reason)),
        Some(Ended::CaughtUp) => {
            println!(
                "caught up with the primary at entry {} (state hash {state_hash}); guardian checkpoints checked: {}",
                head.seq,
                follower.checkpoints_checked()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Where the entries come from.
enum Source {
    /// `GET /v1/journal/stream` of the primary, signed by this key.
    Stream(SigningKey),
    /// The primary's PostgreSQL journal (a replica of its database), by URL.
    Database(String),
}

impl Source {
    /// Follows the source until the follower stops (or is caught up, with `until_caught_up`).
    async fn follow(&self, client: &Client, follower: &Arc<Follower>, until_caught_up: bool) -> Ended {
        match self {
            Source::Stream(key) => follow(client, key, follower, until_caught_up).await,
            Source::Database(url) => follow_database(client, url, follower, until_caught_up).await,
        }
    }
}

/// The genesis of the journal in the database at `url`; when the primary answers, its genesis must be the
/// same. Errors: the database holds no journal or another one than the primary's.
async fn database_genesis(url: &str, client: &Client, dir: &Path) -> anyhow::Result<Vec<u8>> {
    let target = url.to_owned();
    let read =
        tokio::task::spawn_blocking(move || PostgresJournal::open_existing(&target)?.0.genesis()).await?;
    let genesis = read
        .context("reading the genesis of the journal in the database")?
        .ok_or_else(|| anyhow::anyhow!("the database holds no journal (no genesis)"))?;
    if let Some(primary) = primary_genesis(client, dir).await? {
        anyhow::ensure!(
            primary == genesis,
            "the database holds another journal than the primary's (another genesis)"
        );
    }
    Ok(genesis)
}

/// Up to [`APPLY_BATCH`] entries of the database's journal from `from` (each verified by the journal's
/// replay: checksum, link, hash), with its head; `journal` is kept open while its cached head is ahead of
/// `from`, else reopened (to see new commits).
fn read_database(
    journal: Option<PostgresJournal>,
    url: &str,
    from: u64,
) -> Result<(Vec<Entry>, Head, PostgresJournal), JournalError> {
    let journal = match journal {
        Some(journal) if journal.head().seq >= from => journal,
        _ => PostgresJournal::open_existing(url)?.0,
    };
    let mut entries = Vec::new();
    let result = journal.replay(from, &mut |entry| {
        entries.push(entry.to_entry());
        if entries.len() >= APPLY_BATCH {
            Err(JournalError::Stopped)
        } else {
            Ok(())
        }
    });
    match result {
        Ok(_) | Err(JournalError::Stopped) => Ok((entries, journal.head(), journal)),
        Err(error) => Err(error),
    }
}

/// Follows the journal in the database at `url` (polling every [`DATABASE_POLL`] once caught up).
async fn follow_database(
    client: &Client,
    url: &str,
    follower: &Arc<Follower>,
    until_caught_up: bool,
) -> Ended {
    let mut journal = None;
    loop {
        let (target, from) = (url.to_owned(), follower.head().seq + 1);
        let read = tokio::task::spawn_blocking(move || read_database(journal, &target, from)).await;
        let (entries, head, open) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(error)) => {
                tracing::warn!(%error, "reading the journal in the database failed; retrying");
                journal = None;
                tokio::time::sleep(RECONNECT).await;
                continue;
            }
            Err(panic) => return Ended::Stopped(format!("reading the database panicked: {panic}")),
        };
        journal = Some(open);
        let idle = entries.is_empty();
        if !idle {
            let applier = follower.clone();
            match tokio::task::spawn_blocking(move || applier.apply(&entries)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => return Ended::Stopped(error.to_string()),
                Err(panic) => return Ended::Stopped(format!("applying entries panicked: {panic}")),
            }
        }
        let lag = follower.observe_primary(head.seq, head.timestamp_ms).entries;
        if until_caught_up && lag == 0 {
            return match check_checkpoints(client, follower).await {
                Err(reason) => Ended::Stopped(reason),
                Ok(()) => Ended::CaughtUp,
            };
        }
        if idle {
            tokio::time::sleep(DATABASE_POLL).await;
        }
    }
}

/// Waits for Ctrl-C or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Streams the journal from the follower's head and applies it, reopening a broken stream; returns when
/// the follower stopped, or when caught up with `until_caught_up`.
async fn follow(client: &Client, key: &SigningKey, follower: &Arc<Follower>, until_caught_up: bool) -> Ended {
    loop {
        let query = JournalStreamQuery { from: Some(follower.head().seq + 1), follow: Some(true) };
        let stream = match client.journal_stream(&query, key).await {
            Ok(stream) => stream,
            Err(CallError::Refused { status, error }) if status == 403 || status == 401 => {
                return Ended::Refused(format!(
                    "the primary refuses this follower's journal read ({status} {}): {} (--key must be a \
                     guardian's or the operator's, and this machine's clock within the primary's signed-read \
                     window)",
                    error.code.as_str(),
                    error.message
                ));
            }
            Err(error) => {
                tracing::warn!(%error, "the primary's journal stream is unavailable; retrying");
                tokio::time::sleep(RECONNECT).await;
                continue;
            }
        };
        let mut chunks = Box::pin(stream.ready_chunks(APPLY_BATCH));
        while let Some(items) = chunks.next().await {
            match apply_items(follower, items).await {
                Ok(Some(lag)) if until_caught_up && lag == 0 => {
                    return match check_checkpoints(client, follower).await {
                        Err(reason) => Ended::Stopped(reason),
                        Ok(()) => Ended::CaughtUp,
                    };
                }
                Ok(_) => {}
                Err(Some(reason)) => return Ended::Stopped(reason),
                Err(None) => break,
            }
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// Applies the entries of `items` and records the primary's head; the lag after a `head` line.
/// Errors: `Some(reason)` when the follower stopped, `None` when the stream broke (reopen it).
async fn apply_items(
    follower: &Arc<Follower>,
    items: Vec<Result<JournalStreamItem, CallError>>,
) -> Result<Option<u64>, Option<String>> {
    let mut entries = Vec::with_capacity(items.len());
    let (mut head, mut broken) = (None, false);
    for item in items {
        match item {
            Ok(JournalStreamItem::Entry(view)) => match decode_entry(&view) {
                Ok(entry) => entries.push(entry),
                Err(error) => return Err(Some(format!("the primary sent a malformed entry: {error}"))),
            },
            Ok(JournalStreamItem::Head { head_seq, timestamp_ms }) => head = Some((head_seq, timestamp_ms)),
            Err(error) => {
                tracing::warn!(%error, "the primary's journal stream broke; reopening it");
                broken = true;
                break;
            }
        }
    }
    if !entries.is_empty() {
        let applier = follower.clone();
        let applied = tokio::task::spawn_blocking(move || applier.apply(&entries)).await;
        match applied {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(Some(error.to_string())),
            Err(panic) => return Err(Some(format!("applying entries panicked: {panic}"))),
        }
    }
    if broken {
        return Err(None);
    }
    Ok(head.map(|(seq, timestamp_ms)| follower.observe_primary(seq, timestamp_ms).entries))
}

/// Reads the primary's checkpoints and checks the new ones. Errors: why the follower stopped.
async fn check_checkpoints(client: &Client, follower: &Arc<Follower>) -> Result<(), String> {
    let view = match client.checkpoints().await {
        Ok(view) => view,
        Err(error) => {
            tracing::warn!(%error, "reading the primary's checkpoints failed; retrying");
            return Ok(());
        }
    };
    let checkpoints: Vec<PrimaryCheckpoint> = view
        .checkpoints
        .into_iter()
        .map(|c| PrimaryCheckpoint {
            seq: c.seq,
            journal_hash: c.journal_hash,
            state_hash: c.state_hash,
            is_final: c.is_final,
        })
        .collect();
    let checker = follower.clone();
    match tokio::task::spawn_blocking(move || checker.add_checkpoints(&checkpoints)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(panic) => Err(format!("checking checkpoints panicked: {panic}")),
    }
}

/// Checks the primary's checkpoints every [`CHECKPOINT_POLL`]; returns when the follower stopped.
async fn watch_checkpoints(client: &Client, follower: &Arc<Follower>) -> Ended {
    loop {
        if let Err(reason) = check_checkpoints(client, follower).await {
            return Ended::Stopped(reason);
        }
        tokio::time::sleep(CHECKPOINT_POLL).await;
    }
}
