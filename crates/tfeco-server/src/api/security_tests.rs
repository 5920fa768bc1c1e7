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
    Replica::open(journal, genesis, None, ReplayOptions::default()).unwrap().0
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
    let body = json!({ "body": request.body, "signature": hex::encode(&request.signature) });
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
                "body": { "signer": point, "nonce": nonce + 1, "expiry": expiry, "command": command },
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
