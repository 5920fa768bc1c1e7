//! The web app in a real browser: every `crates/tfeco-server/web/tests/e2e-*.mjs` script (Playwright driving
//! Debian's Chromium, with axe-core) runs against a node serving a demo month with a manual clock. What is
//! missing is installed first: Chromium with `apt-get install -y chromium` when running as root, and the
//! scripts' npm packages with `npm ci` from their committed lock file. A script may ask for CLI steps
//! (operator deposits, ticks) by printing `@@cli JSON` (an array of arguments, or `{"args": [...], "env":
//! {...}}`); the harness runs `tfeco` and answers with one JSON line `{code, stdout, stderr}` on its stdin.
//! Every script also gets `TFECO_URL`, `TFECO_DATA_DIR`, `TFECO_ARTIFACTS`, `CHROMIUM`, the words of two funded
//! wallets (`TFECO_WORDS_A`: TFT, `TFECO_WORDS_B`: USDC) and `TFECO_TICK` (a shell command moving the node's
//! clock 10 s). Screenshots go to `target/browser-artifacts/` (the scripts print their paths).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::support::{run_cli, ServeProcess, BIN};

/// Where Debian installs Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest an install step or one script may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn web_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tfeco-server/web/tests")
}

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("browser-artifacts")
}

/// Runs `program args` in `cwd` to completion (bounded): success and combined output.
async fn run(program: &str, args: &[&str], cwd: &Path) -> (bool, String) {
    let mut command = Command::new(program);
    command.args(args).current_dir(cwd).stdin(Stdio::null()).kill_on_drop(true);
    command.env("DEBIAN_FRONTEND", "noninteractive");
    let output = tokio::time::timeout(STEP_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} did not finish in {STEP_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{program} {args:?} cannot start: {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Installs Debian's Chromium when it is missing (as root: `apt-get install -y chromium`, after an
/// `apt-get update` if the first attempt fails).
async fn ensure_chromium(cwd: &Path) {
    if Path::new(CHROMIUM).exists() {
        return;
    }
    let (ok, uid) = run("id", &["-u"], cwd).await;
    let root = ok && uid.trim() == "0";
    assert!(
        root,
        "{CHROMIUM} is missing: install it (`apt-get install -y chromium`) or run the tests as root"
    );
    if !run("apt-get", &["install", "-y", "chromium"], cwd).await.0 {
        let (ok, output) = run("apt-get", &["update"], cwd).await;
        assert!(ok, "apt-get update failed:\n{output}");
        let (ok, output) = run("apt-get", &["install", "-y", "chromium"], cwd).await;
        assert!(ok, "apt-get install -y chromium failed:\n{output}");
    }
    assert!(Path::new(CHROMIUM).exists(), "apt-get installed chromium but {CHROMIUM} is missing");
}

/// `npm ci` in the scripts' directory unless their packages are installed already.
async fn ensure_npm_packages(dir: &Path) {
    let installed = ["playwright-core", "axe-core"].iter().all(|p| dir.join("node_modules").join(p).is_dir());
    if installed {
        return;
    }
    let (ok, output) = run("npm", &["ci", "--no-audit", "--no-fund"], dir).await;
    assert!(ok, "npm ci in {} failed:\n{output}", dir.display());
}

/// Runs one CLI step a script asked for (`request`: an array of arguments or `{args, env}`).
async fn cli_step(request: &Value) -> Value {
    let (args, env) = match request {
        Value::Array(_) => (request.clone(), Value::Null),
        _ => (request["args"].clone(), request["env"].clone()),
    };
    let args: Vec<String> = serde_json::from_value(args).expect("@@cli: arguments are strings");
    let env: Vec<(String, String)> = match env {
        Value::Object(map) => {
            map.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect()
        }
        _ => Vec::new(),
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = run_cli(&args, &env).await;
    json!({ "code": run.code, "stdout": run.stdout, "stderr": run.stderr })
}

/// Two funded wallets for the scripts that trade (`TFECO_WORDS_A` holds TFT, `TFECO_WORDS_B` USDC): words of the
/// BIP-39 reference vectors, recovered and registered with the CLI, funded by operator deposits.
const FUNDED: [(&str, &str, &str, &str); 2] = [
    (
        "TFECO_WORDS_A",
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "TFT",
        "20000",
    ),
    (
        "TFECO_WORDS_B",
        "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
        "USDC",
        "500",
    ),
];
const PASSWORD: &str = "umber-kestrel-quarry-1987";

/// Recovers, registers and funds the [`FUNDED`] wallets on the node; returns the scripts' environment.
async fn funded_wallets(url: &str, data_dir: &Path, temp: &Path) -> Vec<(String, String)> {
    let dir = data_dir.to_str().expect("utf-8 temp path");
    let mut env = Vec::new();
    for (name, words, asset, amount) in FUNDED {
        let keystore = temp.join(format!("{name}.json"));
        let keystore = keystore.to_str().expect("utf-8 temp path");
        let secrets = [("TFECO_MNEMONIC", words), ("TFECO_PASSWORD", PASSWORD)];
        let recovered = run_cli(
            &["wallet", "--keystore", keystore, "recover", "--insecure-fast-kdf", "--json"],
            &secrets,
        )
        .await
        .success_json("tfeco wallet recover");
        let account = recovered["account"].as_str().expect("recovered account").to_owned();
        run_cli(&["wallet", "--keystore", keystore, "--url", url, "register", "--json"], &secrets)
            .await
            .success_json("tfeco wallet register");
        let tx_id = format!("browser-{name}");
        let deposit =
            ["admin", "--url", url, "--data-dir", dir, "deposit", "--to", &account, "--asset", asset];
        run_cli(&[&deposit[..], &["--amount", amount, "--tx-id", &tx_id, "--json"]].concat(), &[])
            .await
            .success_json("tfeco admin deposit");
        env.push((name.to_owned(), words.to_owned()));
    }
    let tick = format!("'{BIN}' admin --url {url} --data-dir '{dir}' tick --advance 10s --json");
    env.push(("TFECO_TICK".to_owned(), tick));
    env
}

/// Runs one script to its end, serving its CLI steps; panics with its output when it fails.
async fn run_script(script: &Path, url: &str, data_dir: &Path, artifacts: &Path, env: &[(String, String)]) {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(web_tests_dir())
        .env("TFECO_URL", url)
        .env("TFECO_DATA_DIR", data_dir)
        .env("TFECO_ARTIFACTS", artifacts)
        .env("CHROMIUM", CHROMIUM)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node is required for the browser tests");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let stderr = child.stderr.take().expect("stderr");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let name = script.file_name().and_then(|n| n.to_str()).unwrap_or("script").to_owned();
    let mut output = String::new();
    let drive = async {
        while let Some(line) = lines.next_line().await.expect("read the script's stdout") {
            if let Some(request) = line.strip_prefix("@@cli ") {
                let request: Value = serde_json::from_str(request).expect("@@cli: JSON");
                let answer = cli_step(&request).await;
                stdin.write_all(format!("{answer}\n").as_bytes()).await.expect("answer the script");
            } else {
                println!("[{name}] {line}");
                output.push_str(&line);
                output.push('\n');
            }
        }
        child.wait().await.expect("wait for the script")
    };
    let status = tokio::time::timeout(STEP_TIMEOUT, drive)
        .await
        .unwrap_or_else(|_| panic!("{name} did not finish in {STEP_TIMEOUT:?}:\n{output}"));
    let errors = errors.await.unwrap_or_default();
    assert!(status.success(), "{name} failed ({status}):\n{output}\n{errors}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_works_in_a_real_browser() {
    let tests = web_tests_dir();
    let temp = tempfile::tempdir().expect("temp dir");
    ensure_chromium(temp.path()).await;
    ensure_npm_packages(&tests).await;
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&tests)
        .expect("read web/tests")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("e2e-") && n.ends_with(".mjs"))
        })
        .collect();
    scripts.sort();
    assert!(
        scripts.iter().any(|p| p.ends_with("e2e-wallet.mjs")),
        "no e2e-wallet.mjs in {}",
        tests.display()
    );

    let dir = temp.path().join("node");
    let dir_text = dir.to_str().expect("utf-8 temp path");
    run_cli(&["demo", "--data-dir", dir_text, "--no-serve", "--json"], &[]).await.success_json("tfeco demo");
    let server = ServeProcess::start(&dir, temp.path(), "browser").await;
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("create target/browser-artifacts");
    let env = funded_wallets(&server.api.base, &dir, temp.path()).await;
    for script in &scripts {
        run_script(script, &server.api.base, &dir, &artifacts, &env).await;
    }
    println!("screenshots in {}", artifacts.display());
}
