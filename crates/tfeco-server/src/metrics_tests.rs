//! Tests of `/metrics` through the real router (`oneshot`): a transfer, a rejected transfer and a few reads,
//! then a scrape that must show them (request counter by route template, journal head, supply, group
//! commit sizes, rejections by code) in the text exposition format.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::Router;
use ed25519_dalek::SigningKey;
use serde_json::json;
use tfeco_core::{AccountKey, Command, Genesis, Params};
use tfeco_money::{Amount, Asset};
use tower::ServiceExt as _;

use crate::app::AppState;
use crate::replica::{BatchItem, SignedRequest};
use crate::{ClockMode, ReplayOptions, Replica, ServerConfig};

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

fn now_s() -> i64 {
    crate::now_unix_ms() / 1000
}

/// A replica whose operator is key 1; key 2 (Alice) holds 1,000 TFT and key 3 (Bob) is registered.
fn node() -> Replica {
    let genesis = || Genesis {
        params: Params::tfgrid4_2025(account(&signing(1))),
        catalogue: tfeco_core::parse_catalogue_csv(tfeco_core::CATALOGUE_Q4_2025_CSV).unwrap(),
        start_time: now_s(),
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    let mut node = Replica::open(journal, genesis, ReplayOptions::default()).unwrap().0;
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: account(&signing(2)),
        amount: Amount::from_units(1_000 * 10_000_000),
        external_tx_id: "d1".to_owned(),
    };
    let setup = [(2, 1, Command::RegisterAccount {}), (3, 1, Command::RegisterAccount {}), (1, 1, deposit)];
    for (key, nonce, command) in setup {
        let request = SignedRequest::sign(&signing(key), nonce, now_s() + 300, command);
        let outcome = node.apply_batch(&[BatchItem::Signed(request)], crate::now_unix_ms()).unwrap();
        assert!(outcome[0].is_ok(), "{outcome:?}");
    }
    node
}

fn transfer(tokens: i128, nonce: u64) -> serde_json::Value {
    let command = Command::Transfer {
        asset: Asset::Tft,
        to: account(&signing(3)),
        amount: Amount::from_units(tokens * 10_000_000),
    };
    let request = SignedRequest::sign(&signing(2), nonce, now_s() + 300, command);
    json!({ "body": request.body.text(), "signature": hex::encode(&request.signature) })
}

async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, String, String) {
    let request =
        axum::http::Request::builder().method(method).uri(uri).header("content-type", "application/json");
    let body = body.map_or(axum::body::Body::empty(), |body| axum::body::Body::from(body.to_string()));
    let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get("content-type").map_or("", |v| v.to_str().unwrap()).to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    (status, content_type, String::from_utf8(bytes.to_vec()).unwrap())
}

/// One sample: the metric name, its labels and its value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses every sample line (`name{label="value",...} number`) strictly; panics on any other line that is
/// not a `# HELP` or `# TYPE` comment.
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with("# HELP ") && !line.starts_with("# TYPE ")) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let rest = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let labels = rest
                    .split(',')
                    .map(|pair| {
                        let (key, quoted) =
                            pair.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
                        let value = quoted.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                        (key.to_owned(), value.unwrap_or_else(|| panic!("unquoted label: {line}")).to_owned())
                    })
                    .collect();
                (name, labels)
            }
        };
        out.push((name.to_owned(), labels, value));
    }
    out
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> =
        labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    samples.iter().find(|(n, l, _)| n == name && *l == wanted).map(|(_, _, v)| *v)
}

#[tokio::test]
async fn a_transfer_then_a_scrape_shows_requests_commits_head_supply_and_rejections() {
    let node = std::sync::Arc::new(parking_lot::RwLock::new(node()));
    let (writer, _thread) = crate::writer::spawn_writer(node.clone(), 16, 16, crate::now_unix_ms, None);
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let router = crate::api::router::router(AppState::new(node.clone(), writer, config));

    let (status, _, body) = call(&router, "POST", "/v1/tx", Some(transfer(10, 2))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // More than Alice holds: rejected by the rules (balance_low), nothing journaled.
    let (status, _, body) = call(&router, "POST", "/v1/tx", Some(transfer(5_000, 3))).await;
    assert!(status.is_client_error(), "{body}");
    let bob = format!("/v1/accounts/{}", account(&signing(3)).to_hex());
    assert_eq!(call(&router, "GET", &bob, None).await.0, StatusCode::OK);
    assert_eq!(call(&router, "GET", "/no/such/path", None).await.0, StatusCode::NOT_FOUND);

    let (status, content_type, text) = call(&router, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4");
    let samples = samples(&text);
    let requests = |route: &str, method: &str, status: &str| {
        value(
            &samples,
            "tfeco_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(requests("/v1/tx", "POST", "200"), Some(1.0), "{text}");
    // The route is the template, never the raw path; an unknown path is `unmatched`.
    assert_eq!(requests("/v1/accounts/{key}", "GET", "200"), Some(1.0), "{text}");
    assert_eq!(requests("unmatched", "GET", "404"), Some(1.0), "{text}");
    assert!(!text.contains(&account(&signing(3)).to_hex()), "a raw path in the labels: {text}");
    let latency = value(
        &samples,
        "tfeco_http_request_duration_seconds_count",
        &[("route", "/v1/tx"), ("method", "POST")],
    );
    assert_eq!(latency, Some(2.0), "{text}");

    let (head, supply, accounts) = {
        let replica = node.read();
        let ledger = replica.state().ledger();
        (replica.head_seq(), ledger.supply(Asset::Tft), ledger.accounts().len())
    };
    assert_eq!(head, 4, "three setup entries and the transfer");
    assert_eq!(value(&samples, "tfeco_journal_head_seq", &[]), Some(head as f64));
    assert_eq!(value(&samples, "tfeco_supply_tokens", &[("asset", "TFT")]), Some(supply as f64 / 1e7));
    assert_eq!(value(&samples, "tfeco_accounts", &[]), Some(accounts as f64), "{text}");
    assert_eq!(value(&samples, "tfeco_leases_open", &[]), Some(0.0));
    assert_eq!(value(&samples, "tfeco_event_streams_open", &[]), Some(0.0));
    // Four group commits of one entry each: three in the setup, one for the transfer; the rejected
    // transfer appended nothing.
    assert_eq!(value(&samples, "tfeco_journal_commit_entries_count", &[]), Some(4.0), "{text}");
    assert_eq!(value(&samples, "tfeco_journal_commit_entries_sum", &[]), Some(4.0));
    assert_eq!(value(&samples, "tfeco_journal_commit_entries_bucket", &[("le", "1")]), Some(4.0));
    assert_eq!(value(&samples, "tfeco_journal_append_duration_seconds_count", &[]), Some(4.0));
    assert_eq!(value(&samples, "tfeco_rejections_total", &[("code", "balance_low")]), Some(1.0), "{text}");
}

/// Every metric has its HELP and TYPE lines, a `tfeco_` name, and every sample line parses.
#[test]
fn every_metric_has_help_and_type_and_every_sample_parses() {
    let metrics = crate::metrics::Metrics::new();
    metrics.observe_request("/v1/status", &axum::http::Method::GET, 200, std::time::Duration::from_millis(3));
    metrics.observe_request("/", &axum::http::Method::from_bytes(b"BREW").unwrap(), 405, Default::default());
    metrics.observe_commit(3, std::time::Duration::from_micros(700));
    metrics.count_rejection("balance_low");
    let node = node();
    let text = metrics.render(node.state(), node.head_seq(), 2).unwrap();
    let samples = samples(&text);
    for family in [
        "tfeco_http_requests_total",
        "tfeco_http_request_duration_seconds",
        "tfeco_journal_commit_entries",
        "tfeco_journal_append_duration_seconds",
        "tfeco_rejections_total",
        "tfeco_journal_head_seq",
        "tfeco_supply_tokens",
        "tfeco_leases_open",
        "tfeco_accounts",
        "tfeco_event_streams_open",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "no HELP for {family}: {text}");
        assert!(text.contains(&format!("# TYPE {family} ")), "no TYPE for {family}: {text}");
    }
    assert!(samples.iter().all(|(name, _, _)| name.starts_with("tfeco_")));
    // An extension method is counted as `other` (bounded labels).
    let other = value(
        &samples,
        "tfeco_http_requests_total",
        &[("route", "/"), ("method", "other"), ("status", "405")],
    );
    assert_eq!(other, Some(1.0), "{text}");
    assert_eq!(value(&samples, "tfeco_event_streams_open", &[]), Some(2.0));
    for asset in Asset::ALL {
        assert!(value(&samples, "tfeco_supply_tokens", &[("asset", asset.code())]).is_some(), "{text}");
    }
}

/// The pre-formatted status labels are exactly the status codes' decimal text, and the group commits
/// counted are the commits observed.
#[test]
fn status_labels_are_the_codes_text_and_commits_are_counted() {
    for status in 100..600u16 {
        if let Some(label) = super::status_label(status) {
            assert_eq!(label, status.to_string());
        }
    }
    let metrics = super::Metrics::new();
    assert_eq!(metrics.group_commits(), 0);
    metrics.observe_commit(3, std::time::Duration::from_micros(200));
    metrics.observe_commit(1, std::time::Duration::from_micros(100));
    assert_eq!(metrics.group_commits(), 2);
}
