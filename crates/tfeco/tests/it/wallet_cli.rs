//! CLI wallet smoke test against an in-process node: new, show, register, balance, send, a refused CC send.

use tfeco_core::Command;
use tfeco_money::Asset;

use crate::support::{hex_of, in_process_server, run_cli, Api, CliRun};

const PASSWORD: &str = "correct horse battery staple";

/// `tfeco wallet --keystore K --url URL --json args...`, with `TFECO_PASSWORD` set when given.
async fn wallet(keystore: &str, url: &str, args: &[&str], password: Option<&str>) -> CliRun {
    let mut all = vec!["wallet", "--keystore", keystore, "--url", url, "--json"];
    all.extend_from_slice(args);
    match password {
        Some(password) => run_cli(&all, &[("TFECO_PASSWORD", password)]).await,
        None => run_cli(&all, &[]).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_new_show_register_balance_send_and_a_refused_cc_send() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (server, operator) = in_process_server(&temp.path().join("node")).await;
    let url = format!("http://{}", server.addr);
    let api = Api::new(&url);
    let keystore = temp.path().join("wallet.json");
    let keystore = keystore.to_str().expect("utf-8 temp path");
    let operator_hex = hex_of(&operator);
    let pw = Some(PASSWORD);

    let created = wallet(keystore, &url, &["new", "--insecure-fast-kdf", "--label", "smoke"], pw)
        .await
        .success_json("wallet new");
    let me = created["account"].as_str().expect("account").to_owned();
    assert!(me.len() == 64 && me.bytes().all(|b| b.is_ascii_hexdigit()), "{created}");
    assert!(std::path::Path::new(keystore).exists());
    // Creating over an existing keystore must not silently replace the key.
    let again = wallet(keystore, &url, &["new", "--insecure-fast-kdf"], pw).await;
    assert_ne!(again.code, Some(0), "a second `wallet new` overwrote the keystore: {}", again.stdout);

    let shown = wallet(keystore, &url, &["show"], None).await.success_json("wallet show");
    assert_eq!(shown["account"], me.as_str(), "{shown}");
    assert_eq!(shown["label"], "smoke", "{shown}");

    let registered = wallet(keystore, &url, &["register"], pw).await.success_json("wallet register");
    assert!(registered["seq"].as_u64().is_some_and(|s| s > 0), "{registered}");
    assert_eq!(registered["events"][0]["event"], "account_registered", "{registered}");
    assert_eq!(api.account(&me).await["last_nonce"], 1);

    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: me.parse().expect("account key"),
        amount: "25".parse().expect("amount"),
        external_tx_id: "wallet-deposit-1".to_owned(),
    };
    api.submit(&operator, deposit).await;
    let balance = wallet(keystore, &url, &["balance"], None).await.success_json("wallet balance");
    assert_eq!(balance["account"], me.as_str(), "{balance}");
    assert_eq!(balance["balances"]["TFT"], "25", "{balance}");
    assert_eq!(balance["balances"]["CC"], "0", "{balance}");

    let send_tft = ["send", "--asset", "TFT", "--to", &operator_hex, "--amount", "2.5"];
    let sent = wallet(keystore, &url, &send_tft, pw).await.success_json("wallet send TFT");
    assert_eq!(sent["events"][0]["event"], "transferred", "{sent}");
    assert_eq!(api.account(&me).await["balances"]["TFT"], "22.5");

    let before = api.status().await;
    let send_cc = ["send", "--asset", "CC", "--to", &operator_hex, "--amount", "1"];
    let refused = wallet(keystore, &url, &send_cc, pw).await;
    assert_ne!(refused.code, Some(0), "a CC send must fail: {}", refused.stdout);
    assert_eq!(refused.code, Some(3), "API refusals exit with 3: {}\n{}", refused.stdout, refused.stderr);
    let error = refused.json();
    assert_eq!(error["error"]["code"], "cc_not_transferable", "{error}");
    assert_eq!(error["error"]["status"], 422, "{error}");
    assert_eq!(api.status().await["state_hash"], before["state_hash"]);

    // A wrong password cannot sign.
    let send_one = ["send", "--asset", "TFT", "--to", &operator_hex, "--amount", "1"];
    let wrong = wallet(keystore, &url, &send_one, Some("wrong password")).await;
    assert_ne!(wrong.code, Some(0), "wrong password accepted: {}", wrong.stdout);
    assert_eq!(api.account(&me).await["balances"]["TFT"], "22.5");
    assert_eq!(api.account(&operator_hex).await["balances"]["TFT"], "2.5");
    server.stop().await.expect("clean stop");
}

/// The renamed groups answer through the real binary, with the shared `--url`/`--keystore`/`--json` before or
/// after the subcommand: `wallet exchange|exit-pool|pool2`, `capacity`, `farming-pool`, `mint`, `guardian`;
/// a refusal exits 3 with its code, and `--node` is a node id (`mint uptime --node`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renamed_groups_answer_through_the_binary() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (server, _operator) = in_process_server(&temp.path().join("node")).await;
    let url = format!("http://{}", server.addr);
    let keystore = temp.path().join("wallet.json");
    let keystore = keystore.to_str().expect("utf-8 temp path");
    let pw = Some(PASSWORD);
    wallet(keystore, &url, &["new", "--insecure-fast-kdf"], pw).await.success_json("wallet new");
    wallet(keystore, &url, &["register"], pw).await.success_json("wallet register");

    let market = wallet(keystore, &url, &["exchange", "market", "--market", "1"], None).await;
    let market = market.success_json("wallet exchange market");
    assert_eq!(market["market"]["id"], 1, "{market}");
    let fills =
        wallet(keystore, &url, &["exchange", "fills"], pw).await.success_json("wallet exchange fills");
    assert!(fills["fills"].as_array().is_some_and(Vec::is_empty), "{fills}");
    let round = wallet(keystore, &url, &["exit-pool", "round"], None).await.success_json("exit-pool round");
    assert!(round.is_object(), "{round}");
    let positions = wallet(keystore, &url, &["exit-pool", "position", "list"], None).await;
    positions.success_json("exit-pool position list");
    let refused = wallet(keystore, &url, &["pool2", "tfp-to-cc", "--tfp", "1"], pw).await;
    assert_eq!(refused.code, Some(3), "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.json()["error"]["code"].is_string(), "{}", refused.stdout);

    for args in [
        &["capacity", "search", "mem_gb>=1", "--limit", "3", "--json", "--url", &url][..],
        &["capacity", "--url", &url, "--json", "explain", "--slices", "2"],
        &["farming-pool", "list", "--url", &url, "--json"],
        &["mint", "reports", "--url", &url, "--json"],
        &["guardian", "show", "--url", &url, "--json"],
    ] {
        run_cli(args, &[]).await.success_json(&args[..2].join(" "));
    }
    let missing = run_cli(&["mint", "uptime", "--node", "999", "--url", &url, "--json"], &[]).await;
    assert_eq!(missing.code, Some(3), "{}\n{}", missing.stdout, missing.stderr);
    let old = run_cli(&["market", "search", "--url", &url], &[]).await;
    assert_eq!(old.code, Some(2), "`market` is now `capacity`: {}", old.stderr);
    server.stop().await.expect("clean stop");
}
