//! Shared helpers: the real `tfeco` binary as a child process (free loopback port, readiness by polling
//! `/v1/status`, graceful stop or SIGKILL), an in-process node on a temp dir, signed requests and JSON calls.

use std::fs::File;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, ExitStatus, Stdio};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use serde_json::Value;
use tfeco_core::{parse_catalogue_csv, AccountKey, Command, Genesis, Params};
use tfeco_journal::Journal;
use tfeco_server::datadir::{open_node, NewNode, OPERATOR_KEY_FILE};
use tfeco_server::{ClockMode, ReplayOptions, Replica, RunningServer, ServerConfig};
use tfeco_wallet::client::{account_of, sign_tx};

/// The node catalogue the binary embeds (same file).
pub(crate) const CATALOGUE_CSV: &str = tfeco_core::CATALOGUE_Q4_2025_CSV;

/// Path of the `tfeco` binary built for these tests.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tfeco");

/// Attempts of the readiness poll (each waits `POLL_STEP` after a failed attempt).
const READY_ATTEMPTS: u32 = 600;
/// Pause between two polls of a bounded wait.
pub(crate) const POLL_STEP: Duration = Duration::from_millis(20);
/// Attempts to find a free port before giving up.
const PORT_ATTEMPTS: u32 = 5;

/// Wall clock, unix seconds.
pub(crate) fn now_s() -> i64 {
    tfeco_server::now_unix_ms() / 1000
}

/// A deterministic test key.
pub(crate) fn key(label: &str) -> SigningKey {
    SigningKey::from_bytes(blake3::hash(format!("tfeco-it/{label}").as_bytes()).as_bytes())
}

/// Hex account of a key.
pub(crate) fn hex_of(key: &SigningKey) -> String {
    account_of(key).to_string()
}

/// The account of a key.
pub(crate) fn account(key: &SigningKey) -> AccountKey {
    account_of(key)
}

/// Reads `<dir>/operator.key` (hex seed).
pub(crate) fn read_operator_key(dir: &Path) -> SigningKey {
    let text = std::fs::read_to_string(dir.join(OPERATOR_KEY_FILE)).expect("operator.key exists");
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed).expect("operator.key is 64 hex characters");
    SigningKey::from_bytes(&seed)
}

/// A signed body valid until `expiry` (unix seconds), as JSON.
pub(crate) fn signed_at(key: &SigningKey, nonce: u64, expiry: i64, command: Command) -> Value {
    serde_json::to_value(sign_tx(key, nonce, expiry, command)).expect("a signed request encodes as JSON")
}

/// `body` (a signed request as JSON, its `body` field JSON text) with the field at `path` set to `value`.
/// A path under `"body"` edits inside the body text (then re-encoded, so the signature no longer covers it).
pub(crate) fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    if path.first() == Some(&"body") && path.len() > 1 {
        let text = body["body"].as_str().expect("a v2 request's body is JSON text");
        let inner: Value = serde_json::from_str(text).expect("the body text is JSON");
        body["body"] = Value::String(with(inner, &path[1..], value).to_string());
        return body;
    }
    let mut cursor = &mut body;
    for step in &path[..path.len() - 1] {
        cursor = &mut cursor[*step];
    }
    cursor[path[path.len() - 1]] = value;
    body
}

/// A signed body valid for five minutes.
pub(crate) fn signed(key: &SigningKey, nonce: u64, command: Command) -> Value {
    signed_at(key, nonce, now_s() + 300, command)
}

/// A JSON HTTP client of one node.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) base: String,
    http: reqwest::Client,
}

impl Api {
    pub(crate) fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
        Api { base: base.trim_end_matches('/').to_owned(), http }
    }

    /// `GET path`: status and JSON body (or `Null` when the body is not JSON).
    pub(crate) async fn try_get(&self, path: &str) -> reqwest::Result<(StatusCode, Value)> {
        let response = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// `GET path`, which must answer 200 with JSON.
    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.try_get(path).await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// `GET /v1/status`.
    pub(crate) async fn status(&self) -> Value {
        self.get("/v1/status").await
    }

    /// `GET /v1/accounts/{key}`.
    pub(crate) async fn account(&self, key: &str) -> Value {
        self.get(&format!("/v1/accounts/{key}")).await
    }

    /// `POST /v1/tx` with raw bytes: status and JSON body (or `Null`).
    pub(crate) async fn try_post_raw(&self, body: Vec<u8>) -> reqwest::Result<(StatusCode, Value)> {
        let response = self
            .http
            .post(format!("{}/v1/tx", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// `POST /v1/tx` with a JSON value.
    pub(crate) async fn try_post(&self, body: &Value) -> reqwest::Result<(StatusCode, Value)> {
        self.try_post_raw(serde_json::to_vec(body).expect("JSON encodes")).await
    }

    /// `POST /v1/tx` that must be accepted; returns the answer (`seq`, `events`).
    pub(crate) async fn ok(&self, body: &Value) -> Value {
        let (status, answer) = self.try_post(body).await.expect("POST /v1/tx reaches the node");
        assert_eq!(status, StatusCode::OK, "request {body} refused: {answer}");
        answer
    }

    /// Signs `command` with the account's next nonce (looked up on the node) and submits it; must succeed.
    pub(crate) async fn submit(&self, key: &SigningKey, command: Command) -> Value {
        let (status, record) =
            self.try_get(&format!("/v1/accounts/{}", hex_of(key))).await.expect("GET account");
        let nonce =
            if status == StatusCode::OK { record["next_nonce"].as_u64().expect("next_nonce") } else { 1 };
        self.ok(&signed(key, nonce, command)).await
    }
}

/// Binds 127.0.0.1:0 to learn a free port, then releases it for the child to take.
fn free_port() -> u16 {
    let listener = StdListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A `tfeco serve` child process; killed on drop if still running.
pub(crate) struct ServeProcess {
    child: Child,
    pub(crate) api: Api,
    log: PathBuf,
}

impl ServeProcess {
    /// Starts `tfeco serve --data-dir dir --listen 127.0.0.1:P --clock manual` on a free port and waits
    /// until `/v1/status` answers. The child's stderr goes to `log_dir/<name>.log`.
    pub(crate) async fn start(dir: &Path, log_dir: &Path, name: &str) -> ServeProcess {
        Self::start_with(dir, log_dir, name, &["--clock", "manual"]).await
    }

    /// Like [`ServeProcess::start`] with other clock arguments (`clock` replaces `--clock manual`).
    pub(crate) async fn start_with(dir: &Path, log_dir: &Path, name: &str, clock: &[&str]) -> ServeProcess {
        let mut last_log = String::new();
        for attempt in 0..PORT_ATTEMPTS {
            let port = free_port();
            let log = log_dir.join(format!("{name}-{attempt}.log"));
            let stderr = File::create(&log).expect("create log file");
            let child = StdCommand::new(BIN)
                .arg("serve")
                .arg("--dev")
                .args(clock)
                .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
                .arg(dir)
                .env("TFECO_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(stderr))
                .spawn()
                .expect("spawn tfeco serve");
            let mut process = ServeProcess { child, api: Api::new(&format!("http://127.0.0.1:{port}")), log };
            match process.wait_ready().await {
                Ok(()) => return process,
                Err(log) => {
                    // Another process may have taken the port between our probe and the child's bind.
                    if log.contains("listening on") {
                        last_log = log;
                        continue;
                    }
                    panic!("tfeco serve did not become ready:\n{log}");
                }
            }
        }
        panic!("tfeco serve found no free port in {PORT_ATTEMPTS} attempts:\n{last_log}");
    }

    /// Polls `/v1/status` a bounded number of times; `Err(log)` if the child exited or never answered.
    async fn wait_ready(&mut self) -> Result<(), String> {
        for _ in 0..READY_ATTEMPTS {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Err(format!("exited with {status}:\n{}", self.log_text()));
            }
            if let Ok((StatusCode::OK, body)) = self.api.try_get("/v1/status").await {
                if body["state_hash"].is_string() {
                    return Ok(());
                }
            }
            tokio::time::sleep(POLL_STEP).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(format!("no answer on {} after {READY_ATTEMPTS} polls:\n{}", self.api.base, self.log_text()))
    }

    /// The child's stderr so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL (what `Child::kill` sends on unix), then reap.
    pub(crate) fn kill(mut self) -> ExitStatus {
        self.child.kill().expect("SIGKILL the node");
        self.child.wait().expect("reap the node")
    }

    /// SIGINT (the node's graceful stop), then waits a bounded time for the exit status. The node answers
    /// HTTP slightly before it installs its SIGINT handler (see `known_bugs`), so wait for the handler first.
    pub(crate) async fn stop(mut self) -> ExitStatus {
        assert!(
            await_sigint_handler(&mut self.child).await,
            "tfeco serve never installed a SIGINT handler:\n{}",
            self.log_text()
        );
        let pid = self.child.id().to_string();
        let sent = StdCommand::new("kill").args(["-INT", &pid]).status().expect("run kill -INT");
        assert!(sent.success(), "kill -INT {pid} failed");
        for _ in 0..READY_ATTEMPTS {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            tokio::time::sleep(POLL_STEP).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("tfeco serve did not stop after SIGINT:\n{}", self.log_text());
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Output of one CLI run.
pub(crate) struct CliRun {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl CliRun {
    /// Stdout parsed as one JSON value.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    /// Asserts exit code 0 and returns the JSON stdout.
    pub(crate) fn success_json(&self, what: &str) -> Value {
        assert_eq!(self.code, Some(0), "{what} failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self.json()
    }
}

/// A configuration directory with no `config.toml`: the CLI under test never reads the user's profiles.
pub(crate) const NO_CONFIG_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/tfeco-no-config");

/// Runs `tfeco args...` to completion with `envs` (TFECO_NODE, TFECO_KEYSTORE, TFECO_PASSWORD, TFECO_PROFILE
/// cleared first; no configuration file, unless `envs` sets TFECO_CONFIG_DIR).
pub(crate) async fn run_cli(args: &[&str], envs: &[(&str, &str)]) -> CliRun {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .env_remove("TFECO_NODE")
        .env_remove("TFECO_KEYSTORE")
        .env_remove("TFECO_PASSWORD")
        .env_remove("TFECO_PROFILE")
        .env("TFECO_CONFIG_DIR", NO_CONFIG_DIR)
        .env("TFECO_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("tfeco {args:?} did not finish in 120 s"))
        .expect("run tfeco");
    CliRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `tfeco verify --data-dir dir --json [--signatures]`, which must exit 0.
pub(crate) async fn verify(dir: &Path, signatures: bool) -> Value {
    let dir = dir.to_str().expect("utf-8 temp path");
    let mut args = vec!["verify", "--data-dir", dir, "--json"];
    if signatures {
        args.push("--signatures");
    }
    run_cli(&args, &[]).await.success_json("tfeco verify")
}

/// The default genesis (`tfgrid4-2025`, the embedded catalogue) for `operator`, starting now.
pub(crate) fn genesis(operator: &SigningKey) -> Genesis {
    Genesis {
        params: Params::tfgrid4_2025(account(operator)),
        catalogue: parse_catalogue_csv(CATALOGUE_CSV).expect("catalogue parses"),
        start_time: now_s(),
    }
}

/// An in-process node on `dir` (genesis: `tfgrid4-2025`, the embedded catalogue, the wall clock) serving
/// on 127.0.0.1:0 with a manual clock. Returns the server and the operator key.
pub(crate) async fn in_process_server(dir: &Path) -> (RunningServer, SigningKey) {
    let operator = key(&format!("operator/{}", dir.display()));
    let mut genesis = genesis(&operator);
    genesis.params.dev_mode = true; // a single-key test node (decisions §12)
    let datadir_id: [u8; 16] =
        blake3::hash(dir.display().to_string().as_bytes()).as_bytes()[..16].try_into().expect("16 bytes");
    let new = || NewNode { operator_key: operator.clone(), genesis, datadir_id };
    let (node, report, _) = open_node(dir, new, ReplayOptions::default()).expect("open replica");
    assert_eq!(report.entries, 0, "a fresh directory has no entries");
    serve_node(node, operator).await
}

/// An in-process node on `journal` (e.g. a `FaultyJournal`), otherwise like [`in_process_server`].
pub(crate) async fn in_process_server_on(journal: Box<dyn Journal>) -> (RunningServer, SigningKey) {
    let operator = key("operator/in-memory");
    let genesis = genesis(&operator);
    let (node, report) = Replica::open(journal, || genesis, ReplayOptions::default()).expect("open replica");
    assert_eq!(report.entries, 0, "a fresh journal has no entries");
    serve_node(node, operator).await
}

async fn serve_node(mut node: Replica, operator: SigningKey) -> (RunningServer, SigningKey) {
    node.set_operator_key(operator.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let server = tfeco_server::start(node, listener, config).await.expect("start server");
    (server, operator)
}

/// `true` once process `pid` catches SIGINT (Linux: bit 1 of `SigCgt` in `/proc/<pid>/status`).
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

/// Waits a bounded time until `child` catches SIGINT (or has exited): a `tfeco serve` or `tfeco follow`
/// answers HTTP slightly before it installs its SIGINT handler (see `known_bugs`), and a SIGINT before
/// that kills it. `true` when it catches SIGINT (always `true` without procfs, where this cannot be seen).
pub(crate) async fn await_sigint_handler(child: &mut Child) -> bool {
    let procfs = Path::new("/proc/self/status").exists();
    for _ in 0..READY_ATTEMPTS {
        if !procfs || catches_sigint(child.id()) || child.try_wait().expect("try_wait").is_some() {
            break;
        }
        tokio::time::sleep(POLL_STEP).await;
    }
    !procfs || catches_sigint(child.id())
}
