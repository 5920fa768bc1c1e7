//! `docs/api.md` is a contract a client can be written from: its Python (PyNaCl) and JavaScript
//! (`@noble/ed25519`) programs, taken verbatim from the page (the ```` ```python title="api_example.py" ````
//! and ```` ```js title="api_example.mjs" ```` blocks), register two accounts on a real `tfeco serve --dev`
//! node and transfer TFT between them (funded by the operator's `tfeco admin deposit`, as in the README);
//! every ```` ```json title="command" ```` block decodes strictly as the node's `Command`.
//!
//! Outside tools are installed when missing: PyNaCl with pip (the pinned release of
//! `examples/python/requirements.txt`), `@noble/ed25519` with `npm ci` from the committed lock file of
//! `examples/js/`. `python3` with pip and Node 20+ with npm must be on the machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::support::{hex_of, key, run_cli, ServeProcess};

/// The repository's root.
pub(crate) const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// The longest an install or an example run may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Runs `program args...` in `cwd` with `envs`, bounded by [`STEP_TIMEOUT`]: success, stdout, stderr.
pub(crate) async fn tool(
    program: &str,
    args: &[&str],
    cwd: &Path,
    envs: &[(&str, &str)],
) -> (bool, String, String) {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env_remove("TFECO_NODE")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = tokio::time::timeout(STEP_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} did not finish in {STEP_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{program} {args:?} cannot start (is it installed?): {e}"));
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

/// The PyNaCl requirement of `examples/python/requirements.txt` (e.g. `pynacl==1.6.2`).
fn pynacl_requirement() -> String {
    let path = format!("{REPO}/examples/python/requirements.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let line = text.lines().map(str::trim).find(|l| l.to_ascii_lowercase().starts_with("pynacl=="));
    line.unwrap_or_else(|| panic!("{path} pins no PyNaCl release")).to_owned()
}

/// Installs PyNaCl with pip unless the pinned release is importable already.
pub(crate) async fn ensure_pynacl(cwd: &Path) {
    let requirement = pynacl_requirement();
    let version = requirement.split("==").nth(1).unwrap_or_default().to_owned();
    let check =
        format!("import importlib.metadata as m, nacl.signing; assert m.version('pynacl') == '{version}'");
    if tool("python3", &["-c", &check], cwd, &[]).await.0 {
        return;
    }
    let (ok, out, err) = tool("python3", &["-m", "pip", "install", "--quiet", &requirement], cwd, &[]).await;
    assert!(ok, "pip install {requirement} failed:\n{out}{err}");
    let (ok, out, err) = tool("python3", &["-c", &check], cwd, &[]).await;
    assert!(ok, "{requirement} is not importable after pip install:\n{out}{err}");
}

/// A copy of `examples/js/` (package.json and its lock file) in `dir` with `npm ci` run in it.
async fn npm_project(dir: &Path) -> PathBuf {
    let project = dir.join("js");
    std::fs::create_dir_all(&project).expect("js dir");
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(format!("{REPO}/examples/js/{file}"), project.join(file))
            .expect("copy the npm project");
    }
    let (ok, out, err) =
        tool("npm", &["ci", "--no-audit", "--no-fund", "--prefer-offline"], &project, &[]).await;
    assert!(ok, "npm ci failed in {}:\n{out}{err}", project.display());
    project
}

/// The fenced blocks of `text` whose info string is exactly `info`, in order.
pub(crate) fn blocks<'t>(text: &'t str, info: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<Vec<&'t str>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(rest)) if rest.trim() == info => current = Some(Vec::new()),
            (Some(lines), Some("")) => {
                found.push(lines.join("\n") + "\n");
                current = None;
            }
            (Some(lines), _) => lines.push(line),
            _ => {}
        }
    }
    found
}

/// `docs/api.md`.
fn api_md() -> String {
    std::fs::read_to_string(format!("{REPO}/docs/api.md")).expect("docs/api.md")
}

/// The one block of `docs/api.md` with `info`.
fn the_block(info: &str) -> String {
    let mut found = blocks(&api_md(), info);
    assert_eq!(found.len(), 1, "docs/api.md must have exactly one ```{info} block");
    found.remove(0)
}

/// The JSON answer printed on the last line of an example's stdout; the run must succeed.
fn answer_of(what: &str, (ok, out, err): (bool, String, String)) -> Value {
    assert!(ok, "{what} failed:\nstdout:\n{out}\nstderr:\n{err}");
    let last = out.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{what} printed no JSON answer ({e}):\n{out}\n{err}"))
}

/// The kind of the first event of a `TxAccepted` answer.
fn first_event(answer: &Value) -> &str {
    answer["events"][0]["event"].as_str().unwrap_or_else(|| panic!("no event in {answer}"))
}

#[test]
fn every_command_example_decodes_as_a_command() {
    let commands = blocks(&api_md(), "json title=\"command\"");
    let mut kinds = Vec::new();
    for text in &commands {
        let command: tfeco_core::Command = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("docs/api.md command {text} does not decode: {e}"));
        kinds.push(command.kind().to_owned());
    }
    for needed in
        ["register_account", "transfer", "enter_with_tft", "open_lease", "submit_exit_bid", "place_order"]
    {
        assert!(kinds.iter().any(|k| k == needed), "docs/api.md shows no {needed} command: {kinds:?}");
    }
    assert!(blocks("```js title=\"x\"\na\n```\n```js\nb\n```\n", "js title=\"x\"") == ["a\n"]);
}

#[test]
fn the_answer_and_error_examples_decode_as_the_contract_types() {
    use tfeco_wallet::api::{error::ErrorBody, tx::TxAccepted};
    let answer = the_block("json title=\"answer\"");
    let accepted: TxAccepted = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{answer}: {e}"));
    assert_eq!((accepted.events.len(), accepted.events_total), (1, 1));
    let error = the_block("json title=\"error\"");
    let body: ErrorBody = serde_json::from_str(&error).unwrap_or_else(|e| panic!("{error}: {e}"));
    assert_eq!(body.code.as_str(), "balance_low");
    assert!(body.detail.is_some(), "the example shows a rejection's detail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_written_from_the_docs_registers_and_transfers() {
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    ensure_pynacl(work).await;
    let js = npm_project(work).await;
    let python_example = work.join("api_example.py");
    std::fs::write(&python_example, the_block("python title=\"api_example.py\""))
        .expect("write the Python example");
    std::fs::write(js.join("api_example.mjs"), the_block("js title=\"api_example.mjs\""))
        .expect("write the JS example");

    let dir = work.join("node");
    let node = ServeProcess::start(&dir, work, "api-docs").await;
    let (api, url) = (node.api.clone(), node.api.base.clone());
    let (alice, bob) = (key("api-docs/alice"), key("api-docs/bob"));
    let (alice_hex, bob_hex) = (hex_of(&alice), hex_of(&bob));
    let (alice_seed, bob_seed) = (hex::encode(alice.to_bytes()), hex::encode(bob.to_bytes()));
    let python = |args: Vec<String>| {
        let (url, seed, example) = (url.clone(), alice_seed.clone(), python_example.clone());
        async move {
            let mut all = vec![example.to_str().expect("utf-8 path").to_owned()];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            tool("python3", &all, work, &[("TFECO_NODE", url.as_str()), ("TFECO_SEED", seed.as_str())]).await
        }
    };
    let node_js = |args: Vec<String>| {
        let (url, seed, js) = (url.clone(), bob_seed.clone(), js.clone());
        async move {
            let mut all = vec!["api_example.mjs".to_owned()];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            tool("node", &all, &js, &[("TFECO_NODE", url.as_str()), ("TFECO_SEED", seed.as_str())]).await
        }
    };

    let registered = answer_of("the Python example's register", python(vec!["register".into()]).await);
    assert_eq!(first_event(&registered), "account_registered", "{registered}");
    assert_eq!(registered["events"][0]["account"], alice_hex.as_str());
    let registered = answer_of("the JavaScript example's register", node_js(vec!["register".into()]).await);
    assert_eq!(first_event(&registered), "account_registered", "{registered}");
    assert_eq!(registered["events"][0]["account"], bob_hex.as_str());

    let dir_text = dir.to_str().expect("utf-8 temp path");
    let deposit =
        ["admin", "--data-dir", dir_text, "--url", url.as_str(), "--json", "deposit", "--to", &alice_hex];
    let deposit = [&deposit[..], &["--asset", "TFT", "--amount", "100", "--tx-id", "api-docs-1"]].concat();
    run_cli(&deposit, &[]).await.success_json("tfeco admin deposit");

    let sent = python(vec!["transfer".into(), bob_hex.clone(), "12.5".into()]).await;
    let sent = answer_of("the Python example's transfer", sent);
    assert_eq!(first_event(&sent), "transferred", "{sent}");
    let back = node_js(vec!["transfer".into(), alice_hex.clone(), "2.5".into()]).await;
    let back = answer_of("the JavaScript example's transfer", back);
    assert_eq!(first_event(&back), "transferred", "{back}");
    assert!(back["seq"].as_u64() > sent["seq"].as_u64(), "{sent} then {back}");

    let alice_view = api.account(&alice_hex).await;
    let bob_view = api.account(&bob_hex).await;
    assert_eq!(alice_view["balances"]["TFT"], "90", "{alice_view}");
    assert_eq!(bob_view["balances"]["TFT"], "10", "{bob_view}");
    assert_eq!((alice_view["next_nonce"].as_u64(), bob_view["next_nonce"].as_u64()), (Some(3), Some(3)));

    // A refusal reaches the caller as the typed error the page describes, and changes nothing.
    let (ok, _, err) = python(vec!["transfer".into(), bob_hex.clone(), "1000".into()]).await;
    assert!(!ok && err.contains("balance_low"), "an overdraft must be refused with balance_low:\n{err}");
    assert_eq!(api.account(&alice_hex).await["balances"]["TFT"], "90");
    let status = node.stop().await;
    assert!(status.success(), "the node did not stop cleanly: {status}");
}
