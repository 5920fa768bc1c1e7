//! The Python example client (`examples/python/tfeco_client.py`) against a real `tfeco serve --dev` node: it
//! creates keys, registers, transfers, reads balances (its own account by a signed read, with `free`), the
//! account view and, when the node serves `/v1/accounts/{key}/events`, the account's history; refusals exit 3
//! with the node's typed error, an unreachable node 4. PyNaCl is installed with pip when missing.

use std::path::Path;

use serde_json::Value;

use crate::api_docs::{ensure_pynacl, REPO};
use crate::support::{run_cli, ServeProcess};

/// Runs `tfeco_client.py --url URL --key KEY args...` in `work`: exit code, stdout, stderr.
async fn client(work: &Path, url: &str, key: &str, args: &[&str]) -> (i32, String, String) {
    let script = format!("{REPO}/examples/python/tfeco_client.py");
    let mut all = vec![script.as_str(), "--url", url, "--key", key];
    all.extend_from_slice(args);
    let mut command = tokio::process::Command::new("python3");
    command.args(&all).current_dir(work).env_remove("TFECO_NODE").stdin(std::process::Stdio::null());
    let output = command.output().await.expect("python3 runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

/// The JSON stdout of a successful run.
fn ok_json(what: &str, (code, out, err): (i32, String, String)) -> Value {
    assert_eq!(code, 0, "{what} failed:\nstdout:\n{out}\nstderr:\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}):\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_client_registers_transfers_and_reads() {
    let temp = tempfile::tempdir().expect("temp dir");
    let work = temp.path();
    ensure_pynacl(work).await;
    let dir = work.join("node");
    let node = ServeProcess::start(&dir, work, "python-client").await;
    let url = node.api.base.clone();

    let alice = ok_json("new-key alice", client(work, &url, "alice.key", &["new-key"]).await);
    let bob = ok_json("new-key bob", client(work, &url, "bob.key", &["new-key"]).await);
    let (alice_hex, bob_hex) =
        (alice["account"].as_str().expect("account"), bob["account"].as_str().expect("account"));
    assert_eq!(alice_hex.len(), 64);
    let again = client(work, &url, "alice.key", &["new-key"]).await;
    assert_eq!(again.0, 1, "new-key must refuse to overwrite a key file: {again:?}");

    for who in ["alice.key", "bob.key"] {
        let registered = ok_json("register", client(work, &url, who, &["register"]).await);
        assert_eq!(registered["events"][0]["event"], "account_registered", "{registered}");
    }
    let twice = client(work, &url, "alice.key", &["register"]).await;
    assert_eq!(twice.0, 3, "a second registration is refused: {twice:?}");
    let refusal: Value = serde_json::from_str(twice.2.trim()).expect("the refusal is JSON on stderr");
    assert_eq!(refusal["error"]["code"], "account_exists", "{refusal}");

    let dir_text = dir.to_str().expect("utf-8 temp path");
    let deposit =
        ["admin", "--data-dir", dir_text, "--url", url.as_str(), "--json", "deposit", "--to", alice_hex];
    let deposit = [&deposit[..], &["--asset", "TFT", "--amount", "50", "--tx-id", "python-1"]].concat();
    run_cli(&deposit, &[]).await.success_json("tfeco admin deposit");

    let transfer = ["transfer", "--to", bob_hex, "--asset", "TFT", "--amount", "12.5"];
    let sent = ok_json("transfer", client(work, &url, "alice.key", &transfer).await);
    assert_eq!(sent["events"][0]["event"], "transferred", "{sent}");

    let balance = ok_json("balance", client(work, &url, "alice.key", &["balance"]).await);
    assert_eq!(
        (balance["balances"]["TFT"].as_str(), balance["free"]["TFT"].as_str()),
        (Some("37.5"), Some("37.5"))
    );
    let public =
        ok_json("balance of bob", client(work, &url, "alice.key", &["balance", "--account", bob_hex]).await);
    assert_eq!(
        (public["balances"]["TFT"].as_str(), &public["free"]),
        (Some("12.5"), &Value::Null),
        "{public}"
    );
    let view = ok_json("account", client(work, &url, "bob.key", &["account"]).await);
    assert_eq!((view["account"].as_str(), view["next_nonce"].as_u64()), (Some(bob_hex), Some(2)), "{view}");

    let overdraft = ["transfer", "--to", alice_hex, "--asset", "TFT", "--amount", "13"];
    let (code, _, err) = client(work, &url, "bob.key", &overdraft).await;
    assert_eq!(code, 3, "an overdraft is refused: {err}");
    assert!(err.contains("balance_low"), "{err}");

    let history_served =
        node.api.get("/openapi.json").await["paths"]["/v1/accounts/{key}/events"].is_object();
    if history_served {
        let history =
            ok_json("history", client(work, &url, "alice.key", &["history", "--limit", "10"]).await);
        assert!(history.to_string().contains("transferred"), "the transfer is in alice's history: {history}");
    }

    let status = node.stop().await;
    assert!(status.success(), "the node did not stop cleanly: {status}");
    let (code, _, err) = client(work, &url, "alice.key", &["balance"]).await;
    assert_eq!(code, 4, "a stopped node is unreachable: {err}");
}
