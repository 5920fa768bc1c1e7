//! Journal failures under a live in-process server: the failing request and every later one are answered
//! `503 unavailable` (never `200`), and stopping the server reports the journal error (fail-stop).

use reqwest::StatusCode;
use tfeco_core::Command;
use tfeco_journal::{FaultyJournal, MemoryJournal};
use tfeco_server::ServeError;

use crate::support::{in_process_server_on, key, signed, Api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_append_is_never_acknowledged_and_stop_reports_it() {
    let journal = FaultyJournal::new(MemoryJournal::new(), 2);
    let (server, _operator) = in_process_server_on(Box::new(journal)).await;
    let api = Api::new(&format!("http://{}", server.addr));
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(|n| key(&format!("faults/{n}")));
    api.ok(&signed(&alice, 1, Command::RegisterAccount {})).await;
    api.ok(&signed(&bob, 1, Command::RegisterAccount {})).await;
    assert_eq!(api.status().await["seq"], 2);

    // The third entry exceeds the budget: the append fails and the writer stops.
    let (status, answer) = api.try_post(&signed(&carol, 1, Command::RegisterAccount {})).await.expect("POST");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["code"], "unavailable", "{answer}");
    // Nothing is accepted any more.
    let later = signed(&key("faults/dave"), 1, Command::RegisterAccount {});
    let (status, answer) = api.try_post(&later).await.expect("POST");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    // Reads refuse too: the in-memory state may hold the failed batch, which is not durable.
    let (status, answer) = api.try_get("/v1/status").await.expect("GET");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");

    match server.stop().await {
        Err(ServeError::Journal(error)) => assert!(error.to_string().contains("injected"), "{error}"),
        other => panic!("stop must report the journal failure, got {other:?}"),
    }
}
