//! The typed client of `tfeco-wallet` against an in-process node: every typed method decodes what the
//! server answers (the server and the client share the `tfeco-api` types), refusals carry their
//! `ErrorCode`, signed reads work, accepted commands answer their typed events, and the former paths of
//! the capacity market and the exit pool are gone.

use tfeco_core::{Command, Event, NodeId, NodeSpec};
use tfeco_money::Asset;
use tfeco_wallet::api::capacity::{
    CapacityRequestsQuery, ExplainQuery, LeasesQuery, NodesQuery, SearchQuery, StandingBidsQuery,
};
use tfeco_wallet::api::exchange::BatchesQuery;
use tfeco_wallet::api::exit_pool::PositionsQuery;
use tfeco_wallet::api::governance::{ParamChangeStatus, ParamChangesQuery};
use tfeco_wallet::api::rewards::VestingQuery;
use tfeco_wallet::api::ErrorCode;
use tfeco_wallet::{CallError, Client};

use crate::support::{account, in_process_server, key, Api};

/// A refusal's code.
fn code<T: std::fmt::Debug>(result: Result<T, CallError>) -> ErrorCode {
    result.expect_err("refused").code().expect("a refusal with a code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_typed_method_decodes_the_servers_answer() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (server, operator) = in_process_server(temp.path()).await;
    let client = Client::new(&format!("http://{}", server.addr));
    let alice = key("typed/alice");

    // Writes: register, a deposit, a farm and a node.
    assert_eq!(client.account_next_nonce(&account(&alice)).await.expect("nonce"), 1);
    let accepted = client.submit_command_next(&alice, Command::RegisterAccount {}).await.expect("register");
    assert!(accepted.seq > 0);
    assert_eq!(accepted.events, vec![Event::AccountRegistered { account: account(&alice) }]);
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: account(&alice),
        amount: "100".parse().expect("amount"),
        external_tx_id: "typed-1".to_owned(),
    };
    client.submit_command_next(&operator, deposit).await.expect("deposit");
    client
        .submit_command_next(&alice, Command::RegisterFarm { name: "Typed Farm".to_owned() })
        .await
        .expect("farm");
    let spec = NodeSpec::Model { model: "Mini 3".to_owned() };
    let farm_id = client.farms().await.expect("farms").farms[0].id;
    let command = Command::RegisterNode { farm_id, spec, offered_slices: None };
    client.submit_command_next(&alice, command).await.expect("node");

    // Reads.
    let view = client.account(&account(&alice)).await.expect("account");
    assert_eq!((view.balances.tft.to_string(), view.next_nonce), ("100".to_owned(), 4));
    assert_eq!(client.status().await.expect("status").seq, 4);
    assert!(client.supply().await.expect("supply").invariants_ok);
    client.prices().await.expect("prices");
    assert!(!client.catalogue().await.expect("catalogue").models.is_empty());
    assert!(client.system_accounts().await.expect("system accounts").0.contains_key("vault"));
    let nodes = client.nodes(&NodesQuery { farm: Some(farm_id.0) }).await.expect("nodes").nodes;
    assert_eq!(nodes[0].model.as_deref(), Some("Mini 3"));
    client.leases(&LeasesQuery { tenant: Some(account(&alice)), open: Some(true) }).await.expect("leases");
    client
        .capacity_search(&SearchQuery { min_mem_gb: Some(1), ..SearchQuery::default() })
        .await
        .expect("search");
    let explain = client.capacity_explain(&ExplainQuery::default()).await.expect("explain");
    assert!(!explain.satisfiable, "no node is listed yet: {explain:?}");
    client.standing_bids(&StandingBidsQuery::default()).await.expect("standing bids");
    client.capacity_requests(&CapacityRequestsQuery::default()).await.expect("requests");
    client.farming_pools().await.expect("farming pools");
    client.pool2().await.expect("pool2");
    client.exit_round().await.expect("exit round");
    client.exit_rounds().await.expect("exit rounds");
    client.exit_positions(&PositionsQuery::default()).await.expect("positions");
    assert!(client.own_exit_bids(&alice).await.expect("own exit bids").bids.is_empty());
    assert_eq!(client.guardians().await.expect("guardians").operator, account(&operator));
    let params = client.params().await.expect("params");
    assert_eq!(params.operator, account(&operator));
    assert_eq!(params.bid_tiers.len(), 2, "the published tiers");
    let tiers: Vec<(String, String, u32)> =
        params.bid_tiers.iter().map(|t| (t.name.clone(), t.price_month.to_string(), t.quantity)).collect();
    assert_eq!(
        tiers,
        [
            ("Standard Compute".to_owned(), "1.2".to_owned(), 20_000),
            ("Memory-Heavy".to_owned(), "2.4".to_owned(), 2_000)
        ]
    );
    assert_eq!(params.max_uptime_reports_per_command, 1_000, "the samples one report may carry");
    let query = ParamChangesQuery { status: Some(ParamChangeStatus::Pending) };
    client.param_changes(&query).await.expect("param changes");
    client.mint_reports().await.expect("mint reports");
    client.vesting(&VestingQuery { owner: Some(account(&alice)) }).await.expect("vesting");
    assert_eq!(client.node_uptime(nodes[0].id).await.expect("uptime").node_id, nodes[0].id);
    let markets = client.exchange_markets().await.expect("markets").markets;
    client.exchange_batches(markets[0].id, &BatchesQuery { limit: Some(5) }).await.expect("batches");
    client.exchange_depth(markets[0].id).await.expect("depth");
    assert!(client.own_orders(&alice).await.expect("own orders").orders.is_empty());
    assert!(client.own_fills(&alice).await.expect("own fills").fills.is_empty());
    client.calc_table(&tfeco_wallet::api::calc::CalcTableQuery::default()).await.expect("calc table");

    // Refusals carry their code.
    assert_eq!(code(client.account(&account(&key("typed/nobody"))).await), ErrorCode::AccountNotFound);
    assert_eq!(
        code(client.capacity_request(tfeco_core::CapacityRequestId(9)).await),
        ErrorCode::CapacityRequestNotFound
    );
    assert_eq!(code(client.farming_pool(tfeco_core::FarmingPoolId(9)).await), ErrorCode::PoolNotFound);
    assert_eq!(code(client.exit_round_result(tfeco_core::RoundId(9)).await), ErrorCode::RoundNotFound);
    assert_eq!(code(client.mint_report(9).await), ErrorCode::ReportNotFound);
    assert_eq!(code(client.node_uptime(NodeId(99)).await), ErrorCode::NodeNotFound);
    assert_eq!(code(client.exchange_depth(tfeco_core::MarketId(99)).await), ErrorCode::MarketNotFound);
    let limit = BatchesQuery { limit: Some(0) };
    assert_eq!(code(client.exchange_batches(markets[0].id, &limit).await), ErrorCode::InvalidQuery);
    let cc =
        Command::Transfer { asset: Asset::Cc, to: account(&operator), amount: "1".parse().expect("amount") };
    assert_eq!(code(client.submit_command_next(&alice, cc).await), ErrorCode::CcNotTransferable);
    let send =
        Command::Transfer { asset: Asset::Tft, to: account(&operator), amount: "1".parse().expect("amount") };
    assert_eq!(code(client.submit_command(&alice, 1, send).await), ErrorCode::NonceReused);

    // The former paths of the capacity market and the exit pool are gone: 404 `not_found`.
    let api = Api::new(client.base_url());
    for former in ["/v1/market/standing-bids", "/v1/exit/round", "/v1/exit/bids"] {
        let (status, body) = api.try_get(former).await.expect("the node answers");
        assert_eq!(
            (status.as_u16(), &body["code"]),
            (404, &serde_json::json!("not_found")),
            "{former}: {body}"
        );
    }
    server.stop().await.expect("clean stop");
}
