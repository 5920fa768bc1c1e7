//! The acceptance test of the API contract: the independent fuzzer Schemathesis runs every check
//! (`--checks all`) against the real binary serving a demo month, from the node's own `/openapi.json`,
//! and must find nothing. Schemathesis is installed with pip when missing (`python3 -m pip install
//! schemathesis==4.32.5`, the pinned release). Settings (and the few documented exceptions) are in the repository's
//! `schemathesis.toml`; the number of examples per operation is bounded so the run takes a few minutes.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::support::{run_cli, ServeProcess};

/// Test cases Schemathesis generates per operation and phase.
const MAX_EXAMPLES: &str = "100";
/// The seed of the run (reproducible failures: `st run ... --seed 1`).
const SEED: &str = "1";
/// The longest a pip install or a Schemathesis run may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Runs `python3 args...` with `cwd`, bounded by [`STEP_TIMEOUT`]: exit status and combined output.
async fn python(args: &[&str], cwd: &Path) -> (bool, String) {
    let mut command = Command::new("python3");
    command.args(args).current_dir(cwd).env("PIP_DISABLE_PIP_VERSION_CHECK", "1").kill_on_drop(true);
    let output = tokio::time::timeout(STEP_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("python3 {args:?} did not finish in {STEP_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("python3 {args:?} cannot start (CPython 3 with pip is required): {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// The Schemathesis release the settings and this test are written for (its CLI and `schemathesis.toml` keys
/// change between major versions): installed when missing or different.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Installs Schemathesis with pip unless the pinned version is importable already.
async fn ensure_schemathesis(cwd: &Path) {
    let check = format!(
        "import importlib.metadata as m, schemathesis.cli; assert m.version('schemathesis') == '{SCHEMATHESIS_VERSION}'"
    );
    if python(&["-c", &check], cwd).await.0 {
        return;
    }
    let requirement = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    let (ok, output) = python(&["-m", "pip", "install", "--quiet", &requirement], cwd).await;
    assert!(ok, "pip install schemathesis failed:\n{output}");
    let (ok, output) = python(&["-c", "import schemathesis.cli"], cwd).await;
    assert!(ok, "schemathesis is not importable after pip install:\n{output}");
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_failure_in_the_api() {
    let temp = tempfile::tempdir().expect("temp dir");
    ensure_schemathesis(temp.path()).await;
    let dir = temp.path().join("node");
    let dir_text = dir.to_str().expect("utf-8 temp path");
    run_cli(&["demo", "--data-dir", dir_text, "--no-serve", "--json"], &[]).await.success_json("tfeco demo");
    let server = ServeProcess::start(&dir, temp.path(), "schemathesis").await;

    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemathesis.toml");
    let schema = format!("{}/openapi.json", server.api.base);
    let args = [
        "-m",
        "schemathesis.cli",
        "--config-file",
        config,
        "run",
        &schema,
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        // One worker: CPython 3.11's `ast.parse` (used by Hypothesis to describe strategies) is not
        // thread-safe ("AST constructor recursion depth mismatch" under concurrent workers).
        "--workers",
        "1",
        "--no-color",
    ];
    let (ok, output) = python(&args, temp.path()).await;
    println!("{}", tail(&output, 25));
    assert!(
        ok,
        "Schemathesis found failures (reproduce: st run {schema} --checks all --seed {SEED}):\n{output}"
    );
    assert!(output.contains("Tested: "), "Schemathesis did not test anything:\n{output}");
    let status = server.stop().await;
    assert!(status.success(), "the node did not stop cleanly: {status}");
}
