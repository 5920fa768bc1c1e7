//! Guardian checkpoints through the real binary against `tfeco serve --dev` (the operator is the only
//! guardian, threshold 1): the operator proposes one (`tfeco admin checkpoint`), the guardian signs it after
//! replaying the journal itself (`tfeco guardian sign-checkpoint`), `GET /v1/checkpoints` shows it final; a
//! checkpoint whose state hash the guardian cannot reproduce is refused without signing; and a node whose
//! journal is shorter than a final checkpoint (a rollback) refuses to start.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::Value;
use tfeco_core::Command;
use tfeco_wallet::keystore::{KdfParams, Keystore};

use crate::support::{key, read_operator_key, run_cli, CliRun, ServeProcess};

const PASSWORD: &str = "checkpoint test password";

/// Writes `signing`'s keystore (fast KDF) to `path`.
fn keystore(path: &Path, signing: &ed25519_dalek::SigningKey) -> String {
    let store = Keystore::encrypt(signing, PASSWORD, KdfParams::fast_for_tests(), None).expect("encrypt");
    store.save(path).expect("save keystore");
    path.to_str().expect("utf-8 temp path").to_owned()
}

/// `tfeco guardian --keystore K --url URL --json sign-checkpoint [args]`.
async fn sign_checkpoint(keystore: &str, url: &str, args: &[&str]) -> CliRun {
    let mut all = vec!["guardian", "--keystore", keystore, "--url", url, "--json", "sign-checkpoint"];
    all.extend_from_slice(args);
    run_cli(&all, &[("TFECO_PASSWORD", PASSWORD)]).await
}

/// `tfeco admin --data-dir DIR --url URL --json checkpoint`.
async fn propose(dir: &Path, url: &str) -> Value {
    let dir = dir.to_str().expect("utf-8 temp path");
    run_cli(&["admin", "--data-dir", dir, "--url", url, "--json", "checkpoint"], &[])
        .await
        .success_json("propose")
}

/// Registers `n` fresh accounts (journal entries to check).
async fn some_entries(api: &crate::support::Api, label: &str, n: usize) {
    for i in 0..n {
        api.submit(&key(&format!("{label}-{i}")), Command::RegisterAccount {}).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guardian_signs_a_checkpoint_it_replayed_and_refuses_one_it_cannot_reproduce() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = ServeProcess::start(&dir, temp.path(), "checkpoints").await;
    let (api, url) = (node.api.clone(), node.api.base.clone());
    some_entries(&api, "first", 3).await;
    let listed = run_cli(&["checkpoints", "--url", &url, "--json"], &[]).await.success_json("checkpoints");
    assert_eq!(listed["checkpoints"], serde_json::json!([]), "{listed}");

    let proposed = propose(&dir, &url).await;
    let seq = proposed["seq"].as_u64().expect("seq");
    assert_eq!(seq, api.status().await["seq"].as_u64().unwrap());
    assert_eq!((proposed["final"].as_bool(), proposed["threshold"].as_u64()), (Some(false), Some(1)));
    assert_eq!(proposed["proposed_by"], "operator");
    assert!(dir.join("checkpoints").join(format!("checkpoint-{seq:020}.json")).exists());

    // A key outside the guardian set may not even read the journal.
    let outsider = keystore(&temp.path().join("outsider.json"), &key("outsider"));
    let refused = sign_checkpoint(&outsider, &url, &[]).await;
    assert_eq!(refused.code, Some(3), "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("signed_read_forbidden"), "{}", refused.stdout);

    let guardian = keystore(&temp.path().join("guardian.json"), &read_operator_key(&dir));
    let signed = sign_checkpoint(&guardian, &url, &[]).await.success_json("sign-checkpoint");
    assert_eq!((signed["seq"].as_u64(), signed["final"].as_bool()), (Some(seq), Some(true)), "{signed}");
    let list = api.get("/v1/checkpoints").await;
    assert_eq!(list["latest_final"].as_u64(), Some(seq), "{list}");
    assert_eq!(list["checkpoints"][0]["signatures"].as_u64(), Some(1));
    let again = sign_checkpoint(&guardian, &url, &["--seq", &seq.to_string()]).await;
    assert_eq!(again.code, Some(3));
    assert!(again.stdout.contains("duplicate_signature"), "{}", again.stdout);

    // A second checkpoint, its state hash changed on disk while the node is down: the guardian's replay
    // gives another hash, so it prints both and signs nothing.
    some_entries(&api, "second", 2).await;
    let second = propose(&dir, &url).await["seq"].as_u64().expect("seq");
    assert!(second > seq);
    assert_eq!(node.stop().await.code(), Some(0));
    let path = dir.join("checkpoints").join(format!("checkpoint-{second:020}.json"));
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let honest = file["state_hash"].as_str().unwrap().to_owned();
    let forged = "ab".repeat(32);
    file["state_hash"] = Value::String(forged.clone());
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let node = ServeProcess::start(&dir, temp.path(), "checkpoints-2").await;
    let url = node.api.base.clone();
    let refused = sign_checkpoint(&guardian, &url, &["--seq", &second.to_string()]).await;
    assert_eq!(refused.code, Some(3), "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("checkpoint_verification_failed"), "{}", refused.stdout);
    assert!(refused.stdout.contains(&forged) && refused.stdout.contains(&honest), "{}", refused.stdout);
    let list = node.api.get("/v1/checkpoints").await;
    assert_eq!(list["checkpoints"][1]["signatures"].as_u64(), Some(0), "nothing was signed: {list}");
    assert_eq!(list["latest_final"].as_u64(), Some(seq), "the first stays final across a restart");
    let (status, body) = node.api.try_get("/v1/journal").await.unwrap();
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("signed_read_required")));
    assert_eq!(node.stop().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_to_start_on_a_journal_shorter_than_a_final_checkpoint() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = ServeProcess::start(&dir, temp.path(), "rollback").await;
    some_entries(&node.api, "early", 2).await;
    assert_eq!(node.stop().await.code(), Some(0));
    // The copy an attacker (or a bad restore) would put back later.
    let old = temp.path().join("old");
    std::fs::create_dir_all(&old).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), old.join(entry.file_name())).unwrap();
    }
    let node = ServeProcess::start(&dir, temp.path(), "rollback-2").await;
    some_entries(&node.api, "late", 2).await;
    let seq = propose(&dir, &node.api.base).await["seq"].as_u64().unwrap();
    let guardian = keystore(&temp.path().join("guardian.json"), &read_operator_key(&dir));
    sign_checkpoint(&guardian, &node.api.base, &[]).await.success_json("sign-checkpoint");
    assert_eq!(node.stop().await.code(), Some(0));

    // The old journal with the guardians' checkpoint: refused, and the message says why.
    let checkpoints = old.join("checkpoints");
    std::fs::create_dir_all(&checkpoints).unwrap();
    let name = format!("checkpoint-{seq:020}.json");
    std::fs::copy(dir.join("checkpoints").join(&name), checkpoints.join(&name)).unwrap();
    let old = old.to_str().unwrap();
    let args = ["serve", "--dev", "--clock", "manual", "--listen", "127.0.0.1:0", "--data-dir", old];
    let refused = run_cli(&args, &[]).await;
    assert_ne!(refused.code, Some(0), "a rolled-back journal was served:\n{}", refused.stderr);
    assert!(
        refused.stderr.contains("rollback") && refused.stderr.contains(&format!("seq {seq}")),
        "{}",
        refused.stderr
    );
}
