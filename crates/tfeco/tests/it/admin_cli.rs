//! `tfeco admin seed-bid-tiers` through the real binary against `tfeco serve`: the tiers come from the
//! node's parameters; without the first month's CC nothing is posted (`balance_low`, exit 3); funded, every
//! tier is posted with its escrow; a second run skips the tiers already open.

use serde_json::Value;

use crate::support::{hex_of, read_operator_key, run_cli, CliRun, ServeProcess};

/// `tfeco admin --data-dir DIR --url URL --json args...`.
async fn admin(dir: &str, url: &str, args: &[&str]) -> CliRun {
    let mut all = vec!["admin", "--data-dir", dir, "--url", url, "--json"];
    all.extend_from_slice(args);
    run_cli(&all, &[]).await
}

/// `(name, price_month, quantity, escrow)` of each posted tier of a `seed-bid-tiers` answer.
fn posted(answer: &Value) -> Vec<(String, String, u64, String)> {
    answer["posted"]
        .as_array()
        .unwrap_or_else(|| panic!("no posted list: {answer}"))
        .iter()
        .map(|p| {
            let text = |field: &str| p[field].as_str().unwrap_or_default().to_owned();
            (text("name"), text("price_month"), p["quantity"].as_u64().unwrap_or_default(), text("escrow"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_bid_tiers_posts_the_nodes_tiers_once_and_only_when_funded() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let node = ServeProcess::start(&dir, temp.path(), "admin").await;
    let (api, url) = (node.api.clone(), node.api.base.clone());
    let dir = dir.to_str().expect("utf-8 temp path").to_owned();
    let operator = hex_of(&read_operator_key(std::path::Path::new(&dir)));
    for (feed, price) in [("tft_usd", "0.01"), ("gold_usd_per_oz", "4228")] {
        admin(&dir, &url, &["price", "--feed", feed, "--price", price]).await.success_json("admin price");
    }

    // Without CC: refused before anything is posted.
    let before = api.status().await;
    let refused = admin(&dir, &url, &["seed-bid-tiers"]).await;
    assert_eq!(refused.code, Some(3), "{}\n{}", refused.stdout, refused.stderr);
    let error = refused.json();
    assert_eq!(error["error"]["code"], "balance_low", "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("28800 needed"), "{message}");
    assert_eq!(api.status().await["seq"], before["seq"], "nothing was journaled");

    // Funded through a fiat entry: both tiers are posted with their first month escrowed.
    let fiat = ["fiat", "--to", &operator, "--usd", "10000", "--payment-id", "admin-cli-1"];
    admin(&dir, &url, &fiat).await.success_json("admin fiat");
    let seeded =
        admin(&dir, &url, &["seed-bid-tiers", "--periods", "12"]).await.success_json("seed-bid-tiers");
    assert_eq!(
        posted(&seeded),
        [
            ("Standard Compute".to_owned(), "1.2".to_owned(), 20_000, "24000".to_owned()),
            ("Memory-Heavy".to_owned(), "2.4".to_owned(), 2_000, "4800".to_owned()),
        ],
        "{seeded}"
    );
    assert_eq!(seeded["escrowed"], "28800", "{seeded}");
    assert!(seeded["posted"][0]["bid_id"].as_u64().is_some(), "{seeded}");
    let bids = api.get(&format!("/v1/capacity/standing-bids?buyer={operator}&open=true")).await;
    assert_eq!(bids["standing_bids"].as_array().map(Vec::len), Some(2), "{bids}");

    // Again: the open tiers are skipped, nothing more is escrowed.
    let again = admin(&dir, &url, &["seed-bid-tiers"]).await.success_json("seed-bid-tiers again");
    assert!(posted(&again).is_empty(), "{again}");
    assert_eq!(again["skipped"].as_array().map(Vec::len), Some(2), "{again}");
    assert_eq!(again["skipped"][0]["bid_id"], seeded["posted"][0]["bid_id"], "{again}");
    assert_eq!(again["escrowed"], "0", "{again}");
    node.stop().await;
}
