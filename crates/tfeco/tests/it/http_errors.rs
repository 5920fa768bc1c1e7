//! Bad input through the real HTTP API of an in-process node: each request is refused with its stable
//! JSON `code` and HTTP status, and the state (hash and journal head) is unchanged.

use crate::support::{account, hex_of, in_process_server, key, now_s, signed, signed_at, with, Api};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tfeco_core::{Command, FarmId, NodeId, NodeSpec};
use tfeco_money::Asset;

/// The state hash and journal head.
async fn snapshot(api: &Api) -> (Value, Value) {
    let status = api.status().await;
    assert_eq!(status["invariants_ok"], true, "{status}");
    (status["state_hash"].clone(), status["seq"].clone())
}

/// Posts raw bytes; asserts the HTTP status, the JSON code (when given) and that nothing changed.
async fn expect_refused_raw(api: &Api, body: Vec<u8>, status: StatusCode, code: Option<&str>) -> Value {
    let before = snapshot(api).await;
    let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    let (got, answer) = api.try_post_raw(body).await.expect("POST /v1/tx");
    assert_eq!(got, status, "{shown} -> {answer}");
    if let Some(code) = code {
        assert_eq!(answer["code"], code, "{shown} -> {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    }
    assert_eq!(snapshot(api).await, before, "{shown} changed the state");
    answer
}

async fn expect_refused(api: &Api, body: &Value, status: StatusCode, code: &str) -> Value {
    expect_refused_raw(api, serde_json::to_vec(body).expect("JSON"), status, Some(code)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_stable_codes_and_change_nothing() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (server, operator) = in_process_server(temp.path()).await;
    let api = Api::new(&format!("http://{}", server.addr));
    let alice = key("http/alice");
    let bob = key("http/bob");
    for (i, user) in [&alice, &bob].into_iter().enumerate() {
        api.ok(&signed(user, 1, Command::RegisterAccount {})).await;
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(user),
            amount: "100".parse().expect("amount"),
            external_tx_id: format!("http-deposit-{i}"),
        };
        api.submit(&operator, deposit).await;
    }
    let transfer = |amount: &str| Command::Transfer {
        asset: Asset::Tft,
        to: account(&bob),
        amount: amount.parse().expect("amount"),
    };
    // A valid transfer, accepted: the template of most bad requests below.
    api.ok(&signed(&alice, 2, transfer("12.5"))).await;
    assert_eq!(api.account(&hex_of(&bob)).await["balances"]["TFT"], "112.5");
    let good = signed(&alice, 3, transfer("1"));
    let amount_path = ["body", "command", "transfer", "amount"];

    // Malformed JSON.
    for text in [
        "{\"body\": \"",
        "not json",
        "{\"body\": \"{}\", \"signature\": }",
        "",
        r#"{"body": "{\"signer\": ", "signature": ""}"#,
    ] {
        expect_refused_raw(&api, text.as_bytes().to_vec(), StatusCode::BAD_REQUEST, Some("malformed_json"))
            .await;
    }
    // Unknown fields at each level: envelope, body, command, and an unknown command.
    for body in [
        with(good.clone(), &["extra"], json!(1)),
        with(good.clone(), &["body", "memo"], json!("hi")),
        with(good.clone(), &["body", "command", "transfer", "memo"], json!("hi")),
        with(good.clone(), &["body", "command"], json!({ "mint_money": { "amount": "1" } })),
    ] {
        expect_refused(&api, &body, StatusCode::BAD_REQUEST, "unknown_field").await;
    }
    // Signatures: by another key, altered body, not hex, wrong length.
    let by_bob =
        with(signed_at(&bob, 3, now_s() + 300, transfer("1")), &["body", "signer"], json!(hex_of(&alice)));
    expect_refused(&api, &by_bob, StatusCode::UNAUTHORIZED, "bad_signature").await;
    expect_refused(
        &api,
        &with(good.clone(), &amount_path, json!("2")),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await;
    // A signature that is not hex is a bad signature like any other (401; it was 400 before the typed
    // contract gave every code one status).
    expect_refused(
        &api,
        &with(good.clone(), &["signature"], json!("zz")),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await;
    expect_refused(
        &api,
        &with(good.clone(), &["signature"], json!("abcd")),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await;
    // A weak (small-order) key with a forged all-zero signature: the core's non-strict check would accept
    // it for any message (found by Schemathesis); the server verifies strictly and refuses it.
    let forged = json!({
        "body": json!({
            "signer": "00".repeat(32),
            "nonce": 1,
            "expiry": now_s() + 60,
            "command": { "register_account": {} },
        })
        .to_string(),
        "signature": "00".repeat(64),
    });
    expect_refused(&api, &forged, StatusCode::UNAUTHORIZED, "bad_signature").await;
    // Reused nonces: the one just used, and an older one.
    expect_refused(&api, &signed(&alice, 2, transfer("1")), StatusCode::CONFLICT, "nonce_reused").await;
    expect_refused(&api, &signed(&alice, 1, transfer("1")), StatusCode::CONFLICT, "nonce_reused").await;
    // Expired, and too far in the future.
    let expired = signed_at(&alice, 3, now_s() - 10, transfer("1"));
    expect_refused(&api, &expired, StatusCode::UNAUTHORIZED, "request_expired").await;
    let far = signed_at(&alice, 3, now_s() + 100_000, transfer("1"));
    expect_refused(&api, &far, StatusCode::BAD_REQUEST, "expiry_too_far").await;
    // Amounts that do not parse.
    for (amount, code) in [
        ("1.00000001", "amount_too_many_decimals"),
        ("0.123456789", "amount_too_many_decimals"),
        ("-1", "amount_negative"),
        ("-0.5", "amount_negative"),
        ("999999999999999999999999999999999999999", "amount_overflow"),
        ("17014118346046923173168730371589", "amount_overflow"),
        ("17014118346046923173168730371588.9999999", "amount_overflow"),
    ] {
        expect_refused(&api, &with(good.clone(), &amount_path, json!(amount)), StatusCode::BAD_REQUEST, code)
            .await;
    }
    // Well-formed JSON of the wrong shape: a generic invalid_request.
    let no_signature = json!({ "body": good["body"].clone() });
    expect_refused(&api, &no_signature, StatusCode::BAD_REQUEST, "invalid_request").await;
    // The retired scheme v1 shape: the body as an object instead of the signed JSON text.
    let inner: Value = serde_json::from_str(good["body"].as_str().expect("text")).expect("JSON");
    let v1_shape = json!({ "body": inner, "signature": good["signature"].clone() });
    expect_refused(&api, &v1_shape, StatusCode::BAD_REQUEST, "invalid_request").await;
    expect_refused(
        &api,
        &with(good.clone(), &amount_path, json!("1e5")),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect_refused(
        &api,
        &with(good.clone(), &amount_path, json!(12.5)),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect_refused(
        &api,
        &with(good.clone(), &["body", "signer"], json!("zz")),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect_refused(
        &api,
        &with(good.clone(), &["body", "nonce"], json!(-1)),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    // A zero amount parses but is refused by the core.
    expect_refused(
        &api,
        &signed(&alice, 3, transfer("0")),
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_not_positive",
    )
    .await;
    // CC is not transferable (even with no CC at all).
    let cc = Command::Transfer { asset: Asset::Cc, to: account(&bob), amount: "1".parse().expect("amount") };
    expect_refused(&api, &signed(&alice, 3, cc), StatusCode::UNPROCESSABLE_ENTITY, "cc_not_transferable")
        .await;
    // Unregistered signer.
    let stranger = key("http/stranger");
    let from_stranger =
        Command::Transfer { asset: Asset::Tft, to: account(&bob), amount: "1".parse().expect("amount") };
    let answer = expect_refused(
        &api,
        &signed(&stranger, 1, from_stranger),
        StatusCode::NOT_FOUND,
        "account_not_found",
    )
    .await;
    assert_eq!(answer["detail"]["account"], hex_of(&stranger));
    // Unregistered receiver.
    let to_stranger =
        Command::Transfer { asset: Asset::Tft, to: account(&stranger), amount: "1".parse().expect("amount") };
    expect_refused(&api, &signed(&alice, 3, to_stranger), StatusCode::NOT_FOUND, "account_not_found").await;

    // Reads: a malformed key and an unknown account.
    let (status, answer) = api.try_get("/v1/accounts/not-a-key").await.expect("GET");
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_account")),
        "{answer}"
    );
    let (status, answer) = api.try_get(&format!("/v1/accounts/{}", hex_of(&stranger))).await.expect("GET");
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("account_not_found")),
        "{answer}"
    );

    // Slice price outside the band of a "Mini 1" node (1.2 to 12 CC per slice-month).
    let farm = api.submit(&alice, Command::RegisterFarm { name: "HTTP Farm".to_owned() }).await;
    let farm_id =
        FarmId(u32::try_from(farm["events"][0]["farm_id"].as_u64().expect("farm id")).expect("u32"));
    let spec = NodeSpec::Model { model: "Mini 1".to_owned() };
    let node = api.submit(&alice, Command::RegisterNode { farm_id, spec, offered_slices: None }).await;
    let node_id =
        NodeId(u32::try_from(node["events"][0]["node_id"].as_u64().expect("node id")).expect("u32"));
    let next = api.account(&hex_of(&alice)).await["next_nonce"].as_u64().expect("next_nonce");
    for price in ["100", "12.0000001", "1.1999999"] {
        let command = Command::SetSlicePrice { node_id, price: price.parse().expect("price") };
        let answer = expect_refused(
            &api,
            &signed(&alice, next, command),
            StatusCode::UNPROCESSABLE_ENTITY,
            "price_out_of_band",
        )
        .await;
        assert_eq!(answer["detail"]["min"], "1.2", "{answer}");
        assert_eq!(answer["detail"]["max"], "12", "{answer}");
    }
    api.ok(&signed(&alice, next, Command::SetSlicePrice { node_id, price: "12".parse().expect("price") }))
        .await;

    // A body over the 64 KiB limit: 413, whatever its content.
    let name = "x".repeat(70 * 1024);
    let huge = signed(&alice, next + 1, Command::RegisterFarm { name });
    expect_refused_raw(
        &api,
        serde_json::to_vec(&huge).expect("JSON"),
        StatusCode::PAYLOAD_TOO_LARGE,
        Some("payload_too_large"),
    )
    .await;

    // Unknown routes, wrong methods and bad query parameters answer JSON errors too.
    for (path, status, code) in [
        ("/v1/no-such-route", StatusCode::NOT_FOUND, "not_found"),
        ("/v1/nodes?farm=x", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/leases?tenant=zz", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/leases?mine=true", StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/farming-pools/1", StatusCode::NOT_FOUND, "pool_not_found"),
        ("/v1/tx", StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
    ] {
        let (got, answer) = api.try_get(path).await.expect("GET");
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{path}: {answer}");
    }

    // The node still works after all that.
    let (status, answer) = api.try_post(&signed(&alice, next + 1, transfer("1"))).await.expect("POST");
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(api.account(&hex_of(&bob)).await["balances"]["TFT"], "113.5");
    server.stop().await.expect("clean stop");
}
