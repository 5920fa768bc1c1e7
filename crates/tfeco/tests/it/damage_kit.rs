//! Shared pieces of the damage, read-only-verify, crash-point and disk-full tests: a young node driven
//! through a mixed workload (the acknowledged state it reached), a deterministic RNG, the files of a data
//! directory with their hashes, damage kinds (delete, truncate, bit flip) and the classification of what
//! `tfeco verify` and `tfeco serve` make of a (damaged) copy of a data directory: refused, the
//! acknowledged state, or something else served in silence.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use serde_json::Value;
use tfeco_core::{Command, PriceFeed};
use tfeco_money::Asset;

use tfeco_wallet::keystore::{KdfParams, Keystore};

use crate::support::{account, hex_of, key, read_operator_key, run_cli, signed, Api, ServeProcess, BIN};

/// Longest a `tfeco verify` or the start of a `tfeco serve` on a copy may take before it counts as hung.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// SplitMix64: a small deterministic generator (its sequence never changes with a dependency's version),
/// so that a seed printed by a failing run reproduces the same damaged copies.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        self.next_u64() % n
    }
}

/// The seed of a campaign: `TFECO_DAMAGE_SEED` (decimal or 0x-hex) when set, else `default`.
pub(crate) fn seed_from_env(default: u64) -> u64 {
    match std::env::var("TFECO_DAMAGE_SEED") {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            };
            parsed.unwrap_or_else(|e| panic!("TFECO_DAMAGE_SEED={text}: {e}"))
        }
        Err(_) => default,
    }
}

/// The acknowledged state of a node: what `GET /v1/status` answered once nothing was in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Acked {
    /// Journal head (`seq`).
    pub(crate) seq: u64,
    /// `state_hash`, hex.
    pub(crate) state_hash: String,
    /// The genesis operator (`operator`), hex.
    pub(crate) operator: String,
}

impl Acked {
    /// Reads `/v1/status`.
    pub(crate) async fn of(api: &Api) -> Acked {
        let status = api.status().await;
        assert_eq!(status["invariants_ok"], true, "{status}");
        Acked {
            seq: status["seq"].as_u64().expect("seq"),
            state_hash: status["state_hash"].as_str().expect("state_hash").to_owned(),
            operator: status["operator"].as_str().expect("operator").to_owned(),
        }
    }
}

async fn submit_prices(api: &Api, operator: &SigningKey) {
    let now = api.status().await["now"].as_i64().expect("now");
    for (feed, price) in [(PriceFeed::TftUsd, "0.01"), (PriceFeed::GoldUsdPerOz, "4228")] {
        let command = Command::SubmitPrice { feed, price: price.parse().expect("price"), observed_at: now };
        api.submit(operator, command).await;
    }
}

async fn tick_hour(api: &Api, operator: &SigningKey) {
    let now = api.status().await["now"].as_i64().expect("now");
    api.submit(operator, Command::Tick { now: now + 3_600 }).await;
    submit_prices(api, operator).await;
}

/// Users of the young node's workload.
const YOUNG_USERS: usize = 8;

/// Arguments of the campaign's nodes: a manual clock and a snapshot every 300 entries, so that the data
/// directory holds snapshots (damaged like every other file) and kills land during snapshot writes.
pub(crate) const SNAPSHOTTING: &[&str] = &["--clock", "manual", "--snapshot-every-entries", "300"];

/// Starts `tfeco serve --dev --clock manual` on `dir` and drives a mixed workload through the API: prices,
/// registrations, deposits attested by the operator (the dev guardian), TFT->CC entries, ticks, and
/// `transfers` concurrent transfers (rounded down to a multiple of the user count). Every request is
/// awaited, so nothing is in flight when it returns the running node and its acknowledged state.
pub(crate) async fn young_node(dir: &Path, log_dir: &Path, transfers: u64) -> (ServeProcess, Acked) {
    young_node_with(dir, log_dir, transfers, SNAPSHOTTING).await
}

/// [`young_node`] with other `serve` arguments (`args` replaces [`SNAPSHOTTING`]).
pub(crate) async fn young_node_with(
    dir: &Path,
    log_dir: &Path,
    transfers: u64,
    args: &[&str],
) -> (ServeProcess, Acked) {
    let node = ServeProcess::start_with(dir, log_dir, "young", args).await;
    let api = node.api.clone();
    let operator = read_operator_key(dir);
    submit_prices(&api, &operator).await;
    let users: Vec<SigningKey> = (0..YOUNG_USERS).map(|i| key(&format!("young/user/{i}"))).collect();
    for (i, user) in users.iter().enumerate() {
        api.ok(&signed(user, 1, Command::RegisterAccount {})).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "1000".parse().expect("amount"),
            external_tx_id: format!("young-deposit-{i}"),
        };
        api.submit(&operator, deposit).await;
    }
    for user in &users {
        api.ok(&signed(user, 2, Command::EnterWithTft { tft: "100".parse().expect("amount") })).await;
    }
    tick_hour(&api, &operator).await;

    let per_user = transfers / YOUNG_USERS as u64;
    let mut tasks = Vec::new();
    for i in 0..YOUNG_USERS {
        let (api, me, to) = (api.clone(), users[i].clone(), users[(i + 1) % YOUNG_USERS].clone());
        tasks.push(tokio::spawn(async move {
            let mut highest = 0;
            for nonce in 3..3 + per_user {
                let amount = "0.001".parse().expect("amount");
                let command = Command::Transfer { asset: Asset::Tft, to: account(&to), amount };
                let answer = api.ok(&signed(&me, nonce, command)).await;
                highest = highest.max(answer["seq"].as_u64().expect("seq"));
            }
            highest
        }));
    }
    let mut highest_transfer = 0;
    for task in tasks {
        highest_transfer = highest_transfer.max(task.await.expect("client task"));
    }
    tick_hour(&api, &operator).await;
    sign_a_checkpoint(dir, log_dir, &api.base, &operator).await;
    let acked = Acked::of(&api).await;
    assert!(acked.seq > highest_transfer, "{acked:?} after transfer seq {highest_transfer}");
    (node, acked)
}

/// The operator proposes a checkpoint at the head (`tfeco admin checkpoint`) and the dev node's only
/// guardian (the operator) signs it after its own replay (`tfeco guardian sign-checkpoint`): the data
/// directory then holds a final checkpoint file, damaged like every other file.
async fn sign_a_checkpoint(dir: &Path, log_dir: &Path, url: &str, operator: &SigningKey) {
    const PASSWORD: &str = "damage campaign password";
    let data_dir = dir.to_str().expect("utf-8 temp path");
    let proposed =
        run_cli(&["admin", "--data-dir", data_dir, "--url", url, "--json", "checkpoint"], &[]).await;
    proposed.success_json("propose a checkpoint");
    let name = dir.file_name().map_or("node".into(), |n| n.to_string_lossy().into_owned());
    let path = log_dir.join(format!("guardian-{name}.json"));
    let _ = std::fs::remove_file(&path);
    let store = Keystore::encrypt(operator, PASSWORD, KdfParams::fast_for_tests(), None).expect("encrypt");
    store.save(&path).expect("save keystore");
    let keystore = path.to_str().expect("utf-8 temp path");
    let args = ["guardian", "--keystore", keystore, "--url", url, "--json", "sign-checkpoint"];
    let signed = run_cli(&args, &[("TFECO_PASSWORD", PASSWORD)]).await.success_json("sign a checkpoint");
    assert_eq!(signed["final"], true, "{signed}");
}

/// `transfers` more concurrent transfers (rounded down to a multiple of the user count) between the users
/// of [`young_node`], from each one's next nonce; every request is awaited. Returns the acknowledged state.
pub(crate) async fn more_transfers(api: &Api, transfers: u64) -> Acked {
    let users: Vec<SigningKey> = (0..YOUNG_USERS).map(|i| key(&format!("young/user/{i}"))).collect();
    let per_user = transfers / YOUNG_USERS as u64;
    let mut tasks = Vec::new();
    for i in 0..YOUNG_USERS {
        let (api, me, to) = (api.clone(), users[i].clone(), users[(i + 1) % YOUNG_USERS].clone());
        tasks.push(tokio::spawn(async move {
            let first = api.account(&hex_of(&me)).await["next_nonce"].as_u64().expect("next_nonce");
            for nonce in first..first + per_user {
                let amount = "0.001".parse().expect("amount");
                api.ok(&signed(
                    &me,
                    nonce,
                    Command::Transfer { asset: Asset::Tft, to: account(&to), amount },
                ))
                .await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }
    Acked::of(api).await
}

/// One file or directory of a data directory, as [`fingerprint`] sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// A directory.
    Dir,
    /// A regular file: length, blake3 of the contents, permission bits.
    File { len: u64, hash: String, mode: u32 },
    /// Anything else (symlink, socket, ...), by its file type.
    Other(String),
}

/// Every entry under `dir` (recursively, relative paths) with its length, content hash and mode.
pub(crate) fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, Item> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap_or_else(|e| panic!("{}: {e}", current.display())) {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            let relative = path.strip_prefix(dir).expect("under dir").to_owned();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let item = if meta.is_dir() {
                pending.push(path.clone());
                Item::Dir
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                Item::File {
                    len: meta.len(),
                    hash: blake3::hash(&bytes).to_hex().to_string(),
                    mode: meta.permissions().mode(),
                }
            } else {
                Item::Other(format!("{:?}", meta.file_type()))
            };
            out.insert(relative, item);
        }
    }
    out
}

/// What changed between two fingerprints: one line per created, deleted or modified entry.
pub(crate) fn changes(before: &BTreeMap<PathBuf, Item>, after: &BTreeMap<PathBuf, Item>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in before {
        match after.get(path) {
            None => out.push(format!("deleted {} ({item:?})", path.display())),
            Some(now) if now != item => out.push(format!("modified {}: {item:?} -> {now:?}", path.display())),
            Some(_) => {}
        }
    }
    for (path, item) in after {
        if !before.contains_key(path) {
            out.push(format!("created {} ({item:?})", path.display()));
        }
    }
    out
}

/// Regular files under `dir`, relative, sorted.
pub(crate) fn files_of(dir: &Path) -> Vec<PathBuf> {
    fingerprint(dir)
        .into_iter()
        .filter(|(_, item)| matches!(item, Item::File { .. }))
        .map(|(path, _)| path)
        .collect()
}

/// Copies the directory tree `from` to `to` (created), preserving permission bits.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", entry.path().display(), target.display()));
        }
    }
}

/// One way to damage one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The file is deleted.
    Delete,
    /// The file is cut to this many bytes.
    Truncate(u64),
    /// One bit of one byte is inverted.
    FlipBit { offset: u64, bit: u8 },
}

impl Damage {
    /// The kind, for tables: `delete`, `truncate`, `bit flip`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Damage::Delete => "delete",
            Damage::Truncate(_) => "truncate",
            Damage::FlipBit { .. } => "bit flip",
        }
    }

    /// Applies the damage to `file`.
    pub(crate) fn apply(&self, file: &Path) {
        let result = match self {
            Damage::Delete => std::fs::remove_file(file),
            Damage::Truncate(len) => {
                std::fs::OpenOptions::new().write(true).open(file).and_then(|handle| handle.set_len(*len))
            }
            Damage::FlipBit { offset, bit } => std::fs::read(file).and_then(|mut bytes| {
                let index = usize::try_from(*offset).expect("offset fits usize");
                bytes[index] ^= 1 << bit;
                std::fs::write(file, bytes)
            }),
        };
        if let Err(e) = result {
            panic!("damaging {} ({self}): {e}", file.display());
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Delete => write!(f, "delete"),
            Damage::Truncate(len) => write!(f, "truncate to {len} bytes"),
            Damage::FlipBit { offset, bit } => write!(f, "flip bit {bit} of byte {offset}"),
        }
    }
}

/// The damages of one file of `len` bytes: deletion; truncation to 0, to `len - 1` and to `truncations`
/// other random lengths (distinct); `flips` random single-bit flips.
pub(crate) fn damages_for(len: u64, rng: &mut SplitMix64, truncations: usize, flips: usize) -> Vec<Damage> {
    let mut out = vec![Damage::Delete];
    if len == 0 {
        return out;
    }
    let mut cuts = BTreeSet::from([0, len - 1]);
    let wanted = truncations + cuts.len();
    // Bounded: a short file has fewer distinct lengths than asked.
    for _ in 0..truncations * 8 {
        if cuts.len() >= wanted || cuts.len() as u64 >= len {
            break;
        }
        cuts.insert(rng.below(len));
    }
    out.extend(cuts.into_iter().map(Damage::Truncate));
    for _ in 0..flips {
        out.push(Damage::FlipBit { offset: rng.below(len), bit: u8::try_from(rng.below(8)).expect("bit") });
    }
    out
}

/// What a command made of a copy of a data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Non-zero exit, or the node never started (the first line of its complaint).
    Refused(String),
    /// Exactly the acknowledged seq and state hash (and operator).
    Same,
    /// Started or verified with anything else, without refusing.
    Silent(String),
    /// A panic, a signal, or no answer in time: neither a clear refusal nor the acknowledged state.
    Crashed(String),
}

impl Outcome {
    /// Column name in the tables.
    pub(crate) fn column(&self) -> &'static str {
        match self {
            Outcome::Refused(_) => "REFUSED",
            Outcome::Same => "SAME",
            Outcome::Silent(_) => "SILENT",
            Outcome::Crashed(_) => "CRASHED",
        }
    }
}

/// The last non-empty line of a text (an error's summary), shortened.
fn summary(text: &str) -> String {
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    line.chars().take(160).collect()
}

fn panicked(code: Option<i32>, stderr: &str) -> Option<String> {
    match code {
        None => Some(format!("killed by a signal: {}", summary(stderr))),
        Some(101) => Some(format!("panicked (exit 101): {}", summary(stderr))),
        _ if stderr.contains("panicked at") => Some(format!("panicked: {}", summary(stderr))),
        _ => None,
    }
}

/// Runs `tfeco verify --data-dir dir --json [extra]` to completion (bounded): exit code, stdout, stderr;
/// `None` when it did not finish within the deadline (it is killed).
pub(crate) fn run_verify(dir: &Path, extra: &[&str]) -> Option<(Option<i32>, String, String)> {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let (out_path, err_path) = (out_dir.path().join("stdout"), out_dir.path().join("stderr"));
    let mut child = StdCommand::new(BIN)
        .arg("verify")
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(extra)
        .env("TFECO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn tfeco verify");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    status.map(|s| (s.code(), read(&out_path), read(&err_path)))
}

/// `tfeco verify --json` on `dir`, classified against `acked`.
pub(crate) fn classify_verify(dir: &Path, acked: &Acked) -> Outcome {
    let Some((code, stdout, stderr)) = run_verify(dir, &[]) else {
        return Outcome::Crashed(format!("verify did not finish in {RUN_DEADLINE:?}"));
    };
    if let Some(why) = panicked(code, &stderr) {
        return Outcome::Crashed(format!("verify {why}"));
    }
    if code != Some(0) {
        let report: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
        let why =
            report["error"].as_str().map(summary).unwrap_or_else(|| summary(&format!("{stdout}\n{stderr}")));
        return Outcome::Refused(why);
    }
    let report: Value = match serde_json::from_str(stdout.trim()) {
        Ok(report) => report,
        Err(e) => return Outcome::Silent(format!("verify exit 0 without a JSON report ({e}): {stdout}")),
    };
    let entries = report["entries"].as_u64();
    let hash = report["state_hash"].as_str();
    if entries == Some(acked.seq) && hash == Some(acked.state_hash.as_str()) {
        Outcome::Same
    } else {
        let shorter = match entries {
            Some(n) if n < acked.seq => format!(" ({} acknowledged entries missing)", acked.seq - n),
            _ => String::new(),
        };
        Outcome::Silent(format!(
            "verify exit 0: {} entries{shorter}, state {}",
            entries.map_or("?".to_owned(), |n| n.to_string()),
            hash.unwrap_or("?")
        ))
    }
}

/// `GET path` over HTTP/1.0 (no client runtime needed in a worker thread): status code and JSON body.
pub(crate) fn http_get_json(addr: &str, path: &str) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| format!("receive: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no HTTP header end: {text}"))?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line: {head}"))?;
    Ok((code, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The public key (hex) of the operator key stored in `dir`, if it reads as one.
fn stored_operator(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("operator.key")).ok()?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).ok()?;
    Some(hex::encode(SigningKey::from_bytes(&seed).verifying_key().to_bytes()))
}

/// Starts `tfeco serve --dev --clock manual --listen 127.0.0.1:0` on `dir` (the command line the node was
/// created with), waits for its "serving on http://ADDR" line on stderr, reads `/v1/status`, kills it and
/// classifies against `acked`. A node that starts a fresh genesis (seq 0) is SILENT, and so is one that
/// serves the acknowledged state with an operator key that is not the genesis operator's.
pub(crate) fn classify_serve(dir: &Path, acked: &Acked) -> Outcome {
    let mut child = StdCommand::new(BIN)
        .args(["serve", "--dev", "--clock", "manual", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("TFECO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tfeco serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines_tx, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut log = String::new();
    let mut addr = None;
    while addr.is_none() {
        let left = RUN_DEADLINE.saturating_sub(started.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.split_once("serving on http://").map(|(_, r)| r) {
                    addr = rest.split_whitespace().next().map(str::to_owned);
                }
                log.push_str(&line);
                log.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Outcome::Crashed(format!(
                    "serve neither started nor exited in {RUN_DEADLINE:?}: {log}"
                ));
            }
        }
    }
    let Some(addr) = addr else {
        let status = child.wait().expect("reap serve");
        let _ = reader.join();
        if let Some(why) = panicked(status.code(), &log) {
            return Outcome::Crashed(format!("serve {why}"));
        }
        if status.success() {
            return Outcome::Crashed(format!("serve exited 0 without serving: {}", summary(&log)));
        }
        return Outcome::Refused(summary(&log));
    };
    let answer = http_get_json(&addr, "/v1/status");
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let status = match answer {
        Ok((200, status)) => status,
        Ok((code, body)) => {
            return Outcome::Silent(format!("serve started but /v1/status answered {code}: {body}"))
        }
        Err(e) => return Outcome::Silent(format!("serve started but /v1/status failed: {e}")),
    };
    let seq = status["seq"].as_u64();
    let hash = status["state_hash"].as_str();
    let operator = status["operator"].as_str();
    if seq == Some(0) && acked.seq > 0 {
        return Outcome::Silent(format!(
            "serve created a fresh genesis: seq 0 of {} acknowledged, operator {}",
            acked.seq,
            operator.unwrap_or("?")
        ));
    }
    if seq != Some(acked.seq) || hash != Some(acked.state_hash.as_str()) {
        let shorter = match seq {
            Some(n) if n < acked.seq => format!(" ({} acknowledged entries missing)", acked.seq - n),
            _ => String::new(),
        };
        return Outcome::Silent(format!(
            "serve at seq {}{shorter}, state {}",
            seq.map_or("?".to_owned(), |n| n.to_string()),
            hash.unwrap_or("?")
        ));
    }
    if operator != Some(acked.operator.as_str()) {
        return Outcome::Silent(format!("serve with genesis operator {operator:?}, not {}", acked.operator));
    }
    match stored_operator(dir) {
        Some(key) if key == acked.operator => Outcome::Same,
        other => Outcome::Silent(format!(
            "serve the acknowledged state with operator.key {} while the genesis operator is {}",
            other.as_deref().unwrap_or("(unreadable)"),
            acked.operator
        )),
    }
}
