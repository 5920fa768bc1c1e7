//! Tests that show bugs in `tfeco-server/src/`. They fail today; `mod known_bugs` in `main.rs` is behind
//! `#[cfg(any())]` and should be enabled together with the fixes.

use reqwest::StatusCode;
use serde_json::json;
use tfeco_core::Command;
use tfeco_journal::{EntryRef, FaultyJournal, Head, Journal, JournalError, MemoryJournal, NewEntry};
use tfeco_money::Asset;

use crate::support::{
    account, hex_of, in_process_server, in_process_server_on, key, signed, Api, ServeProcess,
};

/// BUG (crates/tfeco-server/src/node.rs `Node::apply_batch`, crates/tfeco-server/src/writer.rs): the batch
/// is applied to the in-memory `State` before the journal append; when the append fails the writer thread
/// stops but the state keeps the unjournaled commands, and the HTTP readers (`/v1/status`,
/// `/v1/accounts/..`) go on serving that state. A client is told `503 unavailable` for its request while
/// others can already read its effect, which a restart then loses. Expected: reads show only durable state
/// (or the node answers 503 to reads as well once the writer failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_after_a_failed_append_show_only_durable_state() {
    let journal = FaultyJournal::new(MemoryJournal::new(), 1);
    let (server, _operator) = in_process_server_on(Box::new(journal)).await;
    let api = Api::new(&format!("http://{}", server.addr));
    let alice = key("bugs/alice");
    let carol = key("bugs/carol");
    api.ok(&signed(&alice, 1, Command::RegisterAccount {})).await;
    let durable = api.status().await;

    let (status, _) = api.try_post(&signed(&carol, 1, Command::RegisterAccount {})).await.expect("POST");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let (status, after) = api.try_get("/v1/status").await.expect("GET");
    if status == StatusCode::OK {
        assert_eq!(after["commands_applied"], durable["commands_applied"], "{after}");
        assert_eq!(after["state_hash"], durable["state_hash"], "{after}");
    }
    let (status, record) = api.try_get(&format!("/v1/accounts/{}", hex_of(&carol))).await.expect("GET");
    assert_ne!(status, StatusCode::OK, "an account that was never journaled is visible: {record}");
    let _ = server.stop().await;
}

/// A journal whose appends panic once its budget is used (stands for any panic in the writer thread).
struct PanickingJournal {
    inner: MemoryJournal,
    remaining: u64,
}

impl Journal for PanickingJournal {
    fn append(&mut self, batch: &[NewEntry]) -> Result<Head, JournalError> {
        assert!(batch.len() as u64 <= self.remaining, "injected panic in the writer");
        self.remaining -= batch.len() as u64;
        self.inner.append(batch)
    }
    fn head(&self) -> Head {
        self.inner.head()
    }
    fn replay(
        &self,
        from_seq: u64,
        visit: &mut dyn FnMut(EntryRef<'_>) -> Result<(), JournalError>,
    ) -> Result<Head, JournalError> {
        self.inner.replay(from_seq, visit)
    }
    fn put_meta(&mut self, key: &str, value: &[u8]) -> Result<(), JournalError> {
        self.inner.put_meta(key, value)
    }
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        self.inner.get_meta(key)
    }
}

/// BUG (crates/tfeco-server/src/lib.rs `RunningServer::stop`): the writer thread's join result is matched
/// with `Ok(Ok(Ok(result))) => result, _ => Ok(())`, so a writer that *panicked* (join returns `Err`) is
/// reported as a clean stop. `tfeco serve` then exits with status 0 after its writer died
/// (`run_until_stopped` -> `stop` -> `Ok`), e.g. on the known core panic of a farmer leasing its own node
/// without enough CC (crates/tfeco-core/tests/it/known_bugs.rs): the process logs the panic, answers 503 and
/// exits 0, so a supervisor restarting on failure does not restart it. Expected: `stop` returns an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_panic_is_reported_by_stop() {
    let journal = PanickingJournal { inner: MemoryJournal::new(), remaining: 1 };
    let (server, _operator) = in_process_server_on(Box::new(journal)).await;
    let api = Api::new(&format!("http://{}", server.addr));
    api.ok(&signed(&key("bugs/alice"), 1, Command::RegisterAccount {})).await;
    let (status, _) =
        api.try_post(&signed(&key("bugs/bob"), 1, Command::RegisterAccount {})).await.expect("POST");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(server.stop().await.is_err(), "a panicked writer must not look like a clean stop");
}

/// BUG (crates/tfeco-server/src/api.rs `decode_error`): the error code of a body that does not decode is
/// chosen by searching serde's error *text* for "negative", "too large", "too many decimals", and serde
/// echoes the offending input in that text. So the amount `"negative"` (not a number at all) is reported
/// as `amount_negative`, `"too large"` as `amount_overflow`, and a nonce given as the string
/// `"too many decimals"` as `amount_too_many_decimals`. Expected: `invalid_request` for each (classify on
/// the typed `ParseAmountError`, not on the message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_codes_do_not_depend_on_echoed_input() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (server, _operator) = in_process_server(temp.path()).await;
    let api = Api::new(&format!("http://{}", server.addr));
    let alice = key("bugs/decode/alice");
    let bob = key("bugs/decode/bob");
    let transfer =
        Command::Transfer { asset: Asset::Tft, to: account(&bob), amount: "1".parse().expect("amount") };
    let good = signed(&alice, 1, transfer);
    let mut cases = Vec::new();
    for amount in ["negative", "too large", "one too many decimals"] {
        let mut body = good.clone();
        body["body"]["command"]["transfer"]["amount"] = json!(amount);
        cases.push(body);
    }
    let mut body = good.clone();
    body["body"]["nonce"] = json!("too many decimals");
    cases.push(body);
    for body in cases {
        let (status, answer) = api.try_post(&body).await.expect("POST");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["code"], "invalid_request", "{body} -> {answer}");
    }
    let _ = server.stop().await;
}

/// BUG (crates/tfeco-server/src/lib.rs `run_until_stopped`, called last by crates/tfeco/src/serve.rs `run`):
/// the HTTP server is spawned and answers requests before the SIGINT handler exists, because
/// `tokio::signal::ctrl_c()` registers it only when `run_until_stopped` first polls it. A SIGINT in that
/// window kills the node with the default action (`signal: 2 (SIGINT)`) instead of a graceful stop; seen in
/// about 1 of 20 runs of the replay test under load before `ServeProcess::stop` learnt to wait for the
/// handler. Expected: the handler is installed before the listener serves, so once `/v1/status` answers
/// the node already catches SIGINT. (Intermittent today: it fails when the check lands in the window.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_catches_sigint_once_it_answers() {
    let temp = tempfile::tempdir().expect("temp dir");
    for round in 0..10 {
        let dir = temp.path().join(format!("data-{round}"));
        let node = ServeProcess::start(&dir, temp.path(), &format!("sigint-{round}")).await;
        assert!(node.catches_sigint(), "round {round}: answering HTTP but SIGINT would kill the node");
        let _ = node.kill();
    }
}
