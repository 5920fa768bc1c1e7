//! A full disk (issue 11): a node whose data directory is on a 2 MiB tmpfs runs transfers until its writes
//! fail. It must stop accepting writes (fail-stop) without acknowledging anything it did not store; a copy
//! of the directory on a normal disk restarts with every acknowledged command, and `verify` either refuses
//! it or reports at least every acknowledged entry (never a silently shorter journal). Needs permission to
//! mount a tmpfs (root); where that is impossible the test says so and skips.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use tfeco_core::Command;
use tfeco_money::{Amount, AnyAsset, Asset};

use crate::damage_kit::{copy_dir, run_verify};
use crate::support::{account, hex_of, key, read_operator_key, signed, Api, ServeProcess};

const CLIENTS: usize = 4;
/// Size of the tmpfs.
const TMPFS_SIZE: &str = "size=2m";
/// Upper bound of requests per client (the disk fills long before).
const MAX_REQUESTS_PER_CLIENT: u64 = 100_000;

/// Unmounts the tmpfs when dropped (also when the test fails).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let plain = StdCommand::new("umount").arg(&self.0).status();
        if !plain.is_ok_and(|s| s.success()) {
            // A child may still hold a file open: detach lazily.
            let _ = StdCommand::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Mounts a small tmpfs on `at`, or says why not.
fn mount_tmpfs(at: &Path) -> Result<Mount, String> {
    std::fs::create_dir_all(at).map_err(|e| format!("{}: {e}", at.display()))?;
    let output = StdCommand::new("mount")
        .args(["-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs"])
        .arg(at)
        .output()
        .map_err(|e| format!("running mount: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "mount exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(Mount(at.to_owned()))
}

/// What one client saw: highest acknowledged nonce and seq, highest nonce sent, the refusal that ended it.
struct ClientReport {
    highest_ack: Option<(u64, u64)>,
    highest_sent: u64,
    refusal: Option<(StatusCode, serde_json::Value)>,
}

async fn client_loop(api: Api, me: SigningKey, to: SigningKey) -> ClientReport {
    let amount: Amount<AnyAsset> = "0.001".parse().expect("amount");
    let mut report = ClientReport { highest_ack: None, highest_sent: 1, refusal: None };
    for nonce in 2..2 + MAX_REQUESTS_PER_CLIENT {
        let body = signed(&me, nonce, Command::Transfer { asset: Asset::Tft, to: account(&to), amount });
        report.highest_sent = nonce;
        match api.try_post(&body).await {
            Ok((StatusCode::OK, answer)) => {
                report.highest_ack = Some((nonce, answer["seq"].as_u64().expect("seq")))
            }
            Ok((status, answer)) => {
                report.refusal = Some((status, answer));
                break;
            }
            Err(e) => panic!("the node stopped answering instead of refusing: {e}"),
        }
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_stops_writes_and_loses_no_acknowledged_command() {
    let temp = tempfile::tempdir().expect("temp dir");
    let mount = match mount_tmpfs(&temp.path().join("small")) {
        Ok(mount) => mount,
        Err(why) => {
            eprintln!("disk_full: skipped: cannot mount tmpfs: {why}");
            return;
        }
    };
    let dir = mount.0.join("data");
    let node = ServeProcess::start(&dir, temp.path(), "full").await;
    let api = node.api.clone();
    let operator = read_operator_key(&dir);
    let users: Vec<SigningKey> = (0..CLIENTS).map(|i| key(&format!("disk-full/user/{i}"))).collect();
    for (i, user) in users.iter().enumerate() {
        api.ok(&signed(user, 1, Command::RegisterAccount {})).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "1000".parse().expect("amount"),
            external_tx_id: format!("disk-full-deposit-{i}"),
        };
        api.submit(&operator, deposit).await;
    }
    let setup_seq = api.status().await["seq"].as_u64().expect("seq");
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(client_loop(api.clone(), users[i].clone(), users[(i + 1) % CLIENTS].clone())))
        .collect();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(
            tokio::time::timeout(Duration::from_secs(600), task)
                .await
                .expect("the disk fills")
                .expect("client"),
        );
    }
    let acks: usize = reports.iter().filter_map(|r| r.highest_ack.map(|(n, _)| n as usize - 1)).sum();
    for (i, report) in reports.iter().enumerate() {
        let (status, answer) =
            report.refusal.as_ref().unwrap_or_else(|| panic!("client {i} never saw the disk full"));
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "client {i}: {answer}");
    }
    // Fail-stop: nothing is accepted any more.
    let later = signed(&key("disk-full/late"), 1, Command::RegisterAccount {});
    let (status, answer) = api.try_post(&later).await.expect("the node still answers");
    assert_ne!(status, StatusCode::OK, "a write was accepted after the disk filled: {answer}");
    let highest_seq = reports
        .iter()
        .filter_map(|r| r.highest_ack.map(|(_, s)| s))
        .max()
        .unwrap_or(setup_seq)
        .max(setup_seq);
    eprintln!("disk_full: {acks} transfers acknowledged before the disk filled, highest seq {highest_seq}");
    node.kill();

    // Free space: copies on a normal disk.
    let (for_verify, for_serve) = (temp.path().join("copy-verify"), temp.path().join("copy-serve"));
    copy_dir(&dir, &for_verify);
    copy_dir(&dir, &for_serve);
    drop(mount);
    let verified =
        tokio::task::spawn_blocking(move || run_verify(&for_verify, &[])).await.expect("verify thread");
    let (code, stdout, stderr) = verified.expect("verify finishes");
    let node = ServeProcess::start(&for_serve, temp.path(), "after-full").await;
    let status = node.api.status().await;
    assert_eq!(status["invariants_ok"], true, "{status}");
    let head = status["seq"].as_u64().expect("seq");
    assert!(head >= highest_seq, "restart at seq {head} lost acknowledged entry {highest_seq}");
    for (i, (user, report)) in users.iter().zip(&reports).enumerate() {
        let last = node.api.account(&hex_of(user)).await["last_nonce"].as_u64().expect("last_nonce");
        let acked = report.highest_ack.map_or(1, |(n, _)| n);
        assert!(last >= acked, "client {i}: last_nonce {last} < acknowledged {acked}");
        assert!(last <= report.highest_sent, "client {i}: last_nonce {last} was never sent");
    }
    match code {
        Some(0) => {
            let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON report");
            assert_eq!(report["entries"].as_u64(), Some(head), "verify and the restart disagree: {report}");
            assert_eq!(report["state_hash"], status["state_hash"], "{report}");
            eprintln!("disk_full: verify of the copy: {head} entries, the restart's state");
        }
        Some(code) if code != 101 => {
            eprintln!("disk_full: verify refused the copy (exit {code}): {stdout}{stderr}")
        }
        other => panic!("verify crashed ({other:?}):\n{stdout}\n{stderr}"),
    }
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");
}
