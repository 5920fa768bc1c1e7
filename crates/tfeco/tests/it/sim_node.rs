//! The simulator through a real node: `tfeco demo --scenario demo` plays the built-in short scenario through
//! the node it serves (every answer and the final state hash equal to the in-process core's, the journal
//! verified afterwards); `tfeco sim --through-node URL` plays it through a node opened with
//! `tfeco demo --scenario demo --no-play`, and refuses a node that is not at the scenario's genesis.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Output, Stdio};

use serde_json::Value;

use crate::support::{ServeProcess, BIN};

fn tfeco(args: &[&str]) -> Output {
    StdCommand::new(BIN).args(args).env("TFECO_LOG", "warn").stdin(Stdio::null()).output().expect("run tfeco")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `tfeco demo --scenario demo --no-play` serving `dir` on a free port, once `/v1/status` answers.
fn scenario_node(dir: &Path) -> (Child, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let child = StdCommand::new(BIN)
        .args([
            "demo",
            "--scenario",
            "demo",
            "--no-play",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("TFECO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tfeco demo");
    for _ in 0..300 {
        if tfeco(&["status", "--url", &url, "--json"]).status.success() {
            return (child, url);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the scenario node never answered on {url}");
}

#[test]
fn the_demo_scenario_plays_through_its_node_and_the_journal_verifies() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("node");
    let dir_text = dir.to_str().expect("utf-8 path");
    let output = tfeco(&["demo", "--scenario", "demo", "--no-serve", "--json", "--data-dir", dir_text]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tfeco demo --scenario failed: {stderr}");
    let view: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(view["scenario"], "demo");
    assert!(view["commands_accepted"].as_u64().expect("accepted") > 100, "{view}");
    assert_eq!(view["state_hash"], view["node_state_hash"], "{view}");
    assert!(view["last_month"].as_array().is_some_and(|rows| !rows.is_empty()), "{view}");
    let verify = tfeco(&["verify", "--data-dir", dir_text]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    // The same directory again: a scenario plays only on a new one.
    let again = tfeco(&["demo", "--scenario", "demo", "--no-serve", "--data-dir", dir_text]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("new data directory"));
}

#[test]
fn sim_through_node_plays_on_a_scenario_node_and_refuses_another() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (mut child, url) = scenario_node(&tmp.path().join("node"));
    let output = tfeco(&["sim", "--scenario", "demo", "--through-node", &url, "--json"]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let view: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(view["state_hash"], view["node_state_hash"], "{view}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let other = runtime.block_on(ServeProcess::start(&tmp.path().join("plain"), tmp.path(), "plain"));
    let refused = tfeco(&["sim", "--scenario", "demo", "--through-node", &other.api.base, "--json"]);
    drop(other);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not a fresh node of this scenario"), "{stderr}");
}
