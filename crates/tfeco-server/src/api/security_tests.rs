//! Attacks of issue 10 over HTTP on loopback, against the real server: nonces at or above 2^63, small-order
//! (weak) keys with forged signatures, replayed or re-targeted signed reads, and slow or oversized clients.
//! Each test says what the old code answered.

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use tfeco_core::{AccountKey, Command, Genesis, Params as CoreParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::replica::SignedRequest;
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

/// A replica whose operator is key 1, starting now.
fn node() -> Replica {
    let genesis = || Genesis {
        params: CoreParams::tfgrid4_2025(account(&signing(1))),
        catalogue: tfeco_core::parse_catalogue_csv(tfeco_core::CATALOGUE_Q4_2025_CSV).unwrap(),
        start_time: now_s(),
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    Replica::open(journal, genesis, ReplayOptions::default()).unwrap().0
}

/// A started server on loopback with a manual clock and `config`'s other settings.
async fn serve(config: ServerConfig) -> crate::RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    crate::start(node(), listener, ServerConfig { clock: ClockMode::Manual, ..config }).await.unwrap()
}

/// Sends raw bytes, reads to the end; returns the status code (0 when the server closed without answering)
/// and the JSON body.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let json = response.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok());
    (status, json.unwrap_or(Value::Null))
}

/// One `POST /v1/tx` of `body` (JSON text).
async fn post_json(addr: std::net::SocketAddr, body: &str) -> (u16, Value) {
    let head = format!(
        "POST /v1/tx HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    raw(addr, format!("{head}{body}").as_bytes()).await
}

async fn post_tx(addr: std::net::SocketAddr, request: &SignedRequest) -> (u16, Value) {
    let body = json!({ "body": request.body.text(), "signature": hex::encode(&request.signature) });
    post_json(addr, &body.to_string()).await
}

async fn get_json(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    raw(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await
}

/// Item 14: a correctly signed request with nonce `u64::MAX` was accepted (200), after which every later
/// request of the account was `nonce_reused` and `GET /v1/accounts/{key}` showed `next_nonce: 0` (wrapped).
/// Now: 422 `nonce_out_of_range` for any nonce >= 2^63, the account keeps working.
#[tokio::test]
async fn a_nonce_of_u64_max_is_refused_and_the_account_keeps_working() {
    let server = serve(ServerConfig::default()).await;
    let alice = signing(2);
    let expiry = now_s() + 300;
    assert_eq!(
        post_tx(server.addr, &SignedRequest::sign(&alice, 1, expiry, Command::RegisterAccount {})).await.0,
        200
    );
    for nonce in [u64::MAX, 1 << 63] {
        let request = SignedRequest::sign(&alice, nonce, expiry, Command::RegisterAccount {});
        let (status, body) = post_tx(server.addr, &request).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("nonce_out_of_range")), "{body}");
        assert_eq!(
            body["detail"],
            json!({ "code": "nonce_out_of_range", "limit": 1u64 << 63, "got": nonce })
        );
    }
    let (status, view) = get_json(server.addr, &format!("/v1/accounts/{}", account(&alice).to_hex())).await;
    assert_eq!((status, &view["last_nonce"], &view["next_nonce"]), (200, &json!(1), &json!(2)));
    let again = SignedRequest::sign(&alice, 2, expiry, Command::RegisterAccount {});
    assert_eq!(post_tx(server.addr, &again).await.1["code"], "account_exists", "nonce 2 is still usable");
    server.stop().await.unwrap();
}

/// The 8 points of small order, canonically encoded (the identity first).
const SMALL_ORDER_POINTS: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

/// Item 10: the identity-point attack as it was reported (signer = identity, R = identity, s = 0:
/// `RegisterAccount` then `RegisterFarm`, both answered 200 on the release), then every point of small
/// order with the same forged signature: each is 401 `bad_signature`, and no account exists afterwards.
#[tokio::test]
async fn small_order_keys_with_forged_signatures_are_refused_over_http() {
    let server = serve(ServerConfig::default()).await;
    let forged = format!("01{}", "00".repeat(63));
    let expiry = now_s() + 300;
    for (index, point) in SMALL_ORDER_POINTS.iter().enumerate() {
        let commands = [
            json!({ "register_account": {} }),
            json!({ "register_farm": { "name": format!("farm {index}") } }),
        ];
        for (nonce, command) in commands.into_iter().enumerate() {
            let body = json!({
                "body": json!({ "signer": point, "nonce": nonce + 1, "expiry": expiry, "command": command })
                    .to_string(),
                "signature": forged,
            });
            let (status, answer) = post_json(server.addr, &body.to_string()).await;
            assert_eq!((status, answer["code"].as_str()), (401, Some("bad_signature")), "{point}: {answer}");
        }
        let (status, _) = get_json(server.addr, &format!("/v1/accounts/{point}")).await;
        assert_eq!(status, 404, "{point} has no account");
    }
    server.stop().await.unwrap();
}

/// The raw headers of a signed read of `GET path?query` by `key` at `timestamp` with `nonce`.
fn read_headers(key: &SigningKey, path: &str, query: &str, timestamp: i64, nonce: &str) -> String {
    use ed25519_dalek::Signer as _;
    use tfeco_api::signed_read::{HEADER_ACCOUNT, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
    let read = tfeco_core::request::ReadRequest { method: "GET", path, query, timestamp, nonce };
    let signature = hex::encode(key.sign(&read.signing_bytes()).to_bytes());
    format!(
        "{HEADER_ACCOUNT}: {}\r\n{HEADER_TIMESTAMP}: {timestamp}\r\n{HEADER_NONCE}: {nonce}\r\n\
         {HEADER_SIGNATURE}: {signature}\r\n",
        account(key).to_hex()
    )
}

/// `GET target` with extra raw `headers`.
async fn get_with(addr: std::net::SocketAddr, target: &str, headers: &str) -> (u16, Value) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
    raw(addr, request.as_bytes()).await
}

/// Item 12: before, a signed read covered only the path and a timestamp within ±300 s, so anyone who saw
/// the headers could repeat the read for 5 minutes, and on any query. Now it covers the method, the path,
/// the query and a nonce, its timestamp must be within the server's window (30 s by default), and a
/// signature is accepted once.
#[tokio::test]
async fn signed_reads_are_one_time_bound_to_their_request_and_short_lived() {
    let server = serve(ServerConfig::default()).await;
    let alice = signing(2);
    let expiry = now_s() + 300;
    assert_eq!(
        post_tx(server.addr, &SignedRequest::sign(&alice, 1, expiry, Command::RegisterAccount {})).await.0,
        200
    );
    let code = |answer: &(u16, Value)| (answer.0, answer.1["code"].as_str().unwrap_or("").to_owned());
    let now = now_s();

    // Accepted once; the same headers again are refused (before: 200 again, for 300 s).
    let headers = read_headers(&alice, "/v1/exchange/orders", "", now, "n1");
    assert_eq!(get_with(server.addr, "/v1/exchange/orders", &headers).await.0, 200);
    let replayed = get_with(server.addr, "/v1/exchange/orders", &headers).await;
    assert_eq!(code(&replayed), (401, "read_replayed".to_owned()));
    // A new nonce is a new read.
    let headers = read_headers(&alice, "/v1/exchange/orders", "", now, "n2");
    assert_eq!(get_with(server.addr, "/v1/exchange/orders", &headers).await.0, 200);

    // Signed for another path or another query: refused (before: the query was not signed).
    let for_fills = read_headers(&alice, "/v1/exchange/fills", "", now, "n3");
    assert_eq!(
        code(&get_with(server.addr, "/v1/exchange/orders", &for_fills).await),
        (401, "bad_signature".to_owned())
    );
    let with_query = read_headers(&alice, "/v1/exchange/orders", "since=1", now, "n4");
    let other_query = get_with(server.addr, "/v1/exchange/orders?since=2", &with_query).await;
    assert_eq!(code(&other_query), (401, "bad_signature".to_owned()));
    assert_eq!(get_with(server.addr, "/v1/exchange/orders?since=1", &with_query).await.0, 200);

    // Outside the 30 s window, either side: refused (before: accepted up to 300 s).
    for timestamp in [now - 60, now + 60] {
        let stale = read_headers(&alice, "/v1/exchange/orders", "", timestamp, "n5");
        assert_eq!(
            code(&get_with(server.addr, "/v1/exchange/orders", &stale).await),
            (401, "request_expired".to_owned())
        );
    }
    // A missing nonce is a missing header.
    let no_nonce: String = read_headers(&alice, "/v1/exchange/orders", "", now, "n6")
        .lines()
        .filter(|l| !l.starts_with("x-tfeco-nonce"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        code(&get_with(server.addr, "/v1/exchange/orders", &no_nonce).await),
        (401, "signed_read_required".to_owned())
    );
    server.stop().await.unwrap();
}

/// Reads from `stream` until the end of a response's headers or the end of the stream; the status code
/// (0 when the server closed without answering). Waits at most `limit_s` seconds, then panics.
async fn read_status(stream: &mut tokio::net::TcpStream, limit_s: u64) -> u16 {
    let read = async {
        let mut response = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&chunk[..n]),
            }
            if response.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&response).into_owned();
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    };
    tokio::time::timeout(std::time::Duration::from_secs(limit_s), read)
        .await
        .unwrap_or_else(|_| panic!("no answer and no close within {limit_s} s"))
}

/// Item 13: a client that sends its headers slowly is disconnected after the header timeout (1 s here).
/// Before: no timeout, the connection stayed open (this test's 10 s limit was reached).
#[tokio::test]
async fn a_client_sending_headers_slowly_is_disconnected() {
    let server = serve(ServerConfig { header_timeout_s: 1, ..ServerConfig::default() }).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let status = read_status(&mut stream, 10).await;
    assert!(status == 0 || status == 408, "closed (or 408) after the header timeout, got {status}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900), "not before the timeout");
    // An idle kept-alive connection that sends nothing at all is closed the same way.
    let mut idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(read_status(&mut idle, 10).await, 0);
    server.stop().await.unwrap();
}

/// Item 13: a request announcing a 100 MB body is answered 413 at once, from its `Content-Length`, with
/// no body byte sent. Before: the answer came only once body data arrived (here: never; the 5 s limit).
#[tokio::test]
async fn a_huge_content_length_is_refused_at_once() {
    let server = serve(ServerConfig::default()).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    assert_eq!(read_status(&mut stream, 5).await, 413);
    server.stop().await.unwrap();
}

/// Item 13: with `max_connections = 1`, a second client is not served while the first holds its
/// connection, and is served as soon as the first goes away. Before: no limit (the second client was
/// answered at once).
#[tokio::test]
async fn the_connection_limit_is_enforced() {
    let server = serve(ServerConfig { max_connections: 1, ..ServerConfig::default() }).await;
    let holder = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut second = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    second.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut chunk = [0u8; 64];
    let waited = tokio::time::timeout(std::time::Duration::from_millis(500), second.read(&mut chunk)).await;
    assert!(waited.is_err(), "the second connection must wait while the first holds the only slot");
    drop(holder);
    assert_eq!(read_status(&mut second, 5).await, 200);
    server.stop().await.unwrap();
}
