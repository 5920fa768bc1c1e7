//! Metrics and logs of a real `tfeco serve --dev`: `GET /metrics` answers the Prometheus text exposition
//! format (every line checked strictly: each sample `name{labels} value` of a family announced by its HELP and
//! TYPE lines) with the journal head of `/v1/status` and the transfer just made; `--log-format json` (and
//! `TFECO_LOG_FORMAT=json`) writes only JSON lines on stderr, one per request with its route and status.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use serde_json::Value;
use tfeco_core::Command;
use tfeco_money::Asset;

use crate::support::{account, key, read_operator_key, Api, ServeProcess, BIN, POLL_STEP};

/// A metric or label name of the exposition format.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The labels of a sample (`{a="x",b="y"}` without the braces); panics on anything else. Label values of
/// this node never hold quotes, commas or backslashes (route templates, codes, assets, numbers).
fn labels(text: &str, line: &str) -> BTreeMap<String, String> {
    if text.is_empty() {
        return BTreeMap::new();
    }
    text.split(',')
        .map(|pair| {
            let (name, quoted) = pair.split_once('=').unwrap_or_else(|| panic!("label without '=': {line}"));
            assert!(is_name(name), "bad label name in {line}");
            let value = quoted.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            let value = value.unwrap_or_else(|| panic!("unquoted label value: {line}"));
            assert!(!value.contains(['"', '\\']), "unescaped label value: {line}");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// One sample: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Checks every line of an exposition strictly and returns its samples: `# HELP name text` and
/// `# TYPE name counter|gauge|histogram` once per family, before its samples; each sample
/// `name{labels} value` (or `name value`) of an announced family (a histogram's `_bucket`, `_sum` and
/// `_count`), a finite number or `+Inf` for a bucket bound.
fn parse_strictly(text: &str) -> Vec<Sample> {
    let (mut helped, mut typed) = (BTreeSet::new(), BTreeMap::new());
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| panic!("HELP without text: {line}"));
            assert!(is_name(name) && !help.is_empty() && helped.insert(name.to_owned()), "{line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("TYPE without kind: {line}"));
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                helped.contains(name) && typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample line: {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        assert!(value.is_finite(), "{line}");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, labels(rest.strip_suffix('}').expect("closing brace"), line)),
            None => (series, BTreeMap::new()),
        };
        assert!(is_name(name) && name.starts_with("tfeco_"), "{line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix).filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "a sample before its HELP and TYPE: {line}");
        samples.push((name.to_owned(), labels, value));
    }
    assert!(!samples.is_empty(), "no samples:\n{text}");
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> =
        labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    samples.iter().find(|(n, l, _)| n == name && *l == wanted).map(|(_, _, v)| *v)
}

async fn scrape(api: &Api) -> (String, String) {
    let response = reqwest::get(format!("{}/metrics", api.base)).await.expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII").to_owned();
    (content_type, response.text().await.expect("a text body"))
}

#[tokio::test]
async fn a_real_node_serves_prometheus_text_with_its_head_and_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = ServeProcess::start(&dir.path().join("data"), dir.path(), "metrics").await;
    let operator = read_operator_key(&dir.path().join("data"));
    let (alice, bob) = (key("metrics/alice"), key("metrics/bob"));
    for user in [&alice, &bob] {
        node.api.submit(user, Command::RegisterAccount {}).await;
    }
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: account(&alice),
        amount: "100".parse().expect("amount"),
        external_tx_id: "metrics-1".to_owned(),
    };
    node.api.submit(&operator, deposit).await;
    let transfer =
        Command::Transfer { asset: Asset::Tft, to: account(&bob), amount: "2.5".parse().expect("amount") };
    node.api.submit(&alice, transfer).await;

    let (content_type, text) = scrape(&node.api).await;
    assert_eq!(content_type, "text/plain; version=0.0.4");
    let samples = parse_strictly(&text);
    let head = node.api.status().await["seq"].as_u64().expect("seq");
    assert_eq!(value(&samples, "tfeco_journal_head_seq", &[]), Some(head as f64), "{text}");
    let tx = value(
        &samples,
        "tfeco_http_requests_total",
        &[("method", "POST"), ("route", "/v1/tx"), ("status", "200")],
    );
    assert_eq!(tx, Some(4.0), "two registrations, a deposit and a transfer:\n{text}");
    let account_reads = value(
        &samples,
        "tfeco_http_requests_total",
        &[("method", "GET"), ("route", "/v1/accounts/{key}"), ("status", "200")],
    );
    assert!(account_reads.is_some(), "reads counted by route template:\n{text}");
    let commits = value(&samples, "tfeco_journal_commit_entries_count", &[]).expect("commit sizes");
    assert!(commits >= 4.0, "{text}");
    let supply = node.api.get("/v1/supply").await;
    let tft: f64 = supply["assets"]["TFT"]["supply"].as_str().expect("supply").parse().expect("decimal");
    // A float of whole tokens: equal to the decimal amount up to the float's rounding.
    let gauge = value(&samples, "tfeco_supply_tokens", &[("asset", "TFT")]).expect("TFT supply");
    assert!((gauge - tft).abs() <= tft.abs() * 1e-12, "{gauge} vs {tft}:\n{text}");
    assert!(value(&samples, "tfeco_accounts", &[]).is_some_and(|n| n >= 3.0), "{text}");
    node.stop().await;
}

/// Starts `tfeco serve --dev` with `args` and `env` (and `TFECO_LOG=info`), reads `/v1/status` once it
/// answers, waits for its serving line, stops it and returns its stderr.
async fn stderr_of_serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let log = dir.join(format!("serve-{port}.log"));
    let mut child = StdCommand::new(BIN)
        .args(["serve", "--dev", "--clock", "manual", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join(format!("data-{port}")))
        .args(args)
        .env("TFECO_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
        .spawn()
        .expect("spawn tfeco serve");
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    let mut ready = false;
    for _ in 0..600 {
        if matches!(api.try_get("/v1/status").await, Ok((status, _)) if status == 200) {
            ready = true;
            break;
        }
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        tokio::time::sleep(POLL_STEP).await;
    }
    // The node answers HTTP slightly before it prints the line that says where it serves: wait for it too.
    for _ in 0..600 {
        if !ready || std::fs::read_to_string(&log).is_ok_and(|text| text.contains("tfeco node serving on")) {
            break;
        }
        tokio::time::sleep(POLL_STEP).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).expect("the log");
    assert!(ready, "tfeco serve did not answer:\n{text}");
    text
}

fn assert_json_lines(text: &str) {
    let lines: Vec<Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{text}"))
        })
        .collect();
    for line in &lines {
        assert!(
            line["timestamp"].is_string() && line["level"].is_string() && line["target"].is_string(),
            "{line}"
        );
        assert!(line["fields"]["message"].is_string(), "{line}");
    }
    assert!(lines.iter().any(|l| l["target"] == "tfeco::serve"), "the serving line:\n{text}");
    let request = lines
        .iter()
        .find(|l| l["target"] == "tfeco::http" && l["fields"]["route"] == "/v1/status")
        .unwrap_or_else(|| panic!("no request line for /v1/status:\n{text}"));
    assert_eq!(request["fields"]["status"], 200, "{request}");
    assert_eq!(request["fields"]["method"], "GET", "{request}");
    assert!(request["fields"]["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{request}");
}

#[tokio::test]
async fn log_format_json_writes_only_json_lines_one_per_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_json_lines(&stderr_of_serve(dir.path(), &["--log-format", "json"], &[]).await);
    assert_json_lines(&stderr_of_serve(dir.path(), &[], &[("TFECO_LOG_FORMAT", "json")]).await);
    // The default stays text for people.
    let text = stderr_of_serve(dir.path(), &[], &[]).await;
    assert!(text.lines().any(|line| line.starts_with("tfeco node serving on")), "{text}");
    assert!(text.lines().all(|line| serde_json::from_str::<Value>(line).is_err()), "{text}");
}
