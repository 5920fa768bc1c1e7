//! The HTTP client of the node API: builds and signs requests (ed25519 over the canonical body), submits
//! them, and reads the answers.
//!
//! One typed method per route ([`Client::status`], [`Client::account`], [`Client::capacity_search`], ...,
//! [`Client::submit_command`]): each returns the `tfeco-api` type of its route and fails with a
//! [`CallError`] carrying the node's [`ErrorCode`]. Paths come from [`tfeco_api::paths`].

use ed25519_dalek::{Signer, SigningKey};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tfeco_api::calc::{CalcNodeQuery, CalcNodeView, CalcTableQuery, CalcTableView};
use tfeco_api::capacity::{
    CapacityRequestView, CapacityRequestsQuery, CapacityRequestsView, ExplainQuery, ExplainView, FarmsView,
    LeasesQuery, LeasesView, NodesQuery, NodesView, SearchQuery, SearchView, StandingBidsQuery,
    StandingBidsView,
};
use tfeco_api::checkpoints::{
    CheckpointSignatureRequest, CheckpointView, CheckpointsView, JournalGenesisView, JournalPage,
    JournalQuery, JournalStreamItem,
};
use tfeco_api::exchange::{
    BatchesQuery, BatchesView, DepthView, ExchangeMarketsView, OwnFillsView, OwnOrdersView,
};
use tfeco_api::exit_pool::{
    ExitRoundResult, ExitRoundView, ExitRoundsView, OwnExitBidsView, PositionsQuery, PositionsView,
};
use tfeco_api::farming_pool::{FarmingPoolDetail, FarmingPoolsView};
use tfeco_api::governance::{GuardiansView, ParamChangesQuery, ParamChangesView};
use tfeco_api::ledger::{AccountView, CatalogueView, PricesView, StatusView, SupplyView, SystemAccountsView};
use tfeco_api::paths::{self, with_param};
use tfeco_api::pool2::Pool2View;
use tfeco_api::rewards::{MintReportDetail, MintReportsView, UptimeView, VestingQuery, VestingView};
use tfeco_api::signed_read::{HEADER_ACCOUNT, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use tfeco_api::treasury::TreasuryView;
use tfeco_api::tx::{EventPage, EventPageQuery, TxAccepted, TxRequest};
use tfeco_api::{ErrorBody, ErrorCode};
use tfeco_core::{AccountKey, CapacityRequestId, Command, FarmingPoolId, MarketId, NodeId, RoundId};
use tfeco_core::{RequestBody, SignedBody};

/// How long a request stays valid after signing, seconds.
pub const DEFAULT_EXPIRY_S: i64 = 300;

/// The signed body of `POST /v1/tx`: `command` from `key`'s account with `nonce`, valid until `expiry`
/// (unix seconds), written as compact JSON text and signed under scheme v2 (`tfeco/v2/request\0` + text).
pub fn sign_tx(key: &SigningKey, nonce: u64, expiry: i64, command: Command) -> TxRequest {
    let body = RequestBody { signer: AccountKey(key.verifying_key().to_bytes()), nonce, expiry, command };
    let body = SignedBody::encode(body);
    let signature = key.sign(&body.signing_bytes());
    TxRequest { body: body.text().to_owned(), signature: hex::encode(signature.to_bytes()) }
}

/// The account key of a signing key.
pub fn account_of(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

/// The four headers of a signed `GET path_and_query` by `key` at `timestamp`, with a fresh random nonce.
pub fn signed_read_headers(
    key: &SigningKey,
    path_and_query: &str,
    timestamp: i64,
) -> [(&'static str, String); 4] {
    signed_request_headers(key, "GET", path_and_query, timestamp)
}

/// The four headers of a signed request without a body (`method path_and_query`, e.g. the operator's
/// `POST /v1/checkpoints`) by `key` at `timestamp`, with a fresh random nonce.
pub fn signed_request_headers(
    key: &SigningKey,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
) -> [(&'static str, String); 4] {
    use rand::RngCore as _;
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let read = tfeco_core::request::ReadRequest { method, path, query, timestamp, nonce: &nonce };
    let signature = key.sign(&read.signing_bytes());
    [
        (HEADER_ACCOUNT, account_of(key).to_hex()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_NONCE, nonce),
        (HEADER_SIGNATURE, hex::encode(signature.to_bytes())),
    ]
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A client of one node.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Self {
        Self::with_http(base_url, reqwest::Client::new())
    }

    /// A client of the node at `base_url` over a configured `reqwest` client (e.g. a load generator's
    /// connection pool). Clones share the pool.
    pub fn with_http(base_url: &str, http: reqwest::Client) -> Self {
        Client { base: base_url.trim_end_matches('/').to_owned(), http }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}

/// A failed typed call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The node could not be reached or the connection failed.
    #[error("cannot reach the node: {0}")]
    Unreachable(String),
    /// The node refused the request: HTTP status and the error body with its stable [`ErrorCode`].
    #[error("{}: {}", .error.code, .error.message)]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error body.
        error: ErrorBody,
    },
    /// The answer was not the contract's JSON (e.g. an error code this client does not know).
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl CallError {
    /// The stable code of a refusal, if this is one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CallError::Refused { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

/// `path?query` (no `?` when the query has no parameter).
fn with_query<Q: Serialize>(path: &str, query: &Q) -> Result<String, CallError> {
    let query = serde_urlencoded::to_string(query).map_err(|e| CallError::Decode(e.to_string()))?;
    Ok(if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") })
}

impl Client {
    /// Reads a typed answer: the body as `T` on success, the error body otherwise.
    async fn answer<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, CallError> {
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| CallError::Decode(e.to_string()));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) => Err(CallError::Refused { status: status.as_u16(), error }),
            Err(_) => Err(CallError::Decode(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)))),
        }
    }

    /// `GET path_and_query` as `T`.
    async fn read<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, CallError> {
        let url = format!("{}{path_and_query}", self.base);
        let response = self.http.get(url).send().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        Self::answer(response).await
    }

    /// A signed read of `path_and_query` by `key` as `T`: headers account, timestamp, a fresh random
    /// nonce, and the signature over the method, path, query, timestamp and nonce
    /// (`tfeco_core::request::ReadRequest`). Each read is signed anew (the node accepts a signature once).
    async fn read_signed<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        key: &SigningKey,
    ) -> Result<T, CallError> {
        self.send_signed(reqwest::Method::GET, path_and_query, key).await
    }

    /// `method path_and_query` (no body) signed by `key` as a signed read is, as `T`.
    async fn send_signed<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        key: &SigningKey,
    ) -> Result<T, CallError> {
        let headers = signed_request_headers(key, method.as_str(), path_and_query, unix_now());
        let mut request = self.http.request(method, format!("{}{path_and_query}", self.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        Self::answer(response).await
    }

    /// `POST /v1/tx` of a signed request; the answer once the command is durable.
    pub async fn submit_tx(&self, request: &TxRequest) -> Result<TxAccepted, CallError> {
        let url = format!("{}{}", self.base, paths::TX);
        let response = self
            .http
            .post(url)
            .json(request)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        Self::answer(response).await
    }

    /// `POST /v1/tx` of a signed request already encoded as JSON (a [`TxRequest`], see [`sign_tx`]), for
    /// callers that sign and encode ahead of time (the benchmark's load); the answer once the command is
    /// durable.
    pub async fn submit_tx_json(&self, json: Vec<u8>) -> Result<TxAccepted, CallError> {
        let url = format!("{}{}", self.base, paths::TX);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        Self::answer(response).await
    }

    /// Signs `command` with `key` and `nonce` (valid for [`DEFAULT_EXPIRY_S`]) and submits it.
    pub async fn submit_command(
        &self,
        key: &SigningKey,
        nonce: u64,
        command: Command,
    ) -> Result<TxAccepted, CallError> {
        self.submit_tx(&sign_tx(key, nonce, unix_now() + DEFAULT_EXPIRY_S, command)).await
    }

    /// Looks up `key`'s next nonce, then signs and submits `command`.
    pub async fn submit_command_next(
        &self,
        key: &SigningKey,
        command: Command,
    ) -> Result<TxAccepted, CallError> {
        let nonce = self.account_next_nonce(&account_of(key)).await?;
        self.submit_command(key, nonce, command).await
    }

    /// The next nonce of an account (1 for an unregistered key).
    pub async fn account_next_nonce(&self, account: &AccountKey) -> Result<u64, CallError> {
        match self.account(account).await {
            Ok(view) => Ok(view.next_nonce),
            Err(error) if error.code() == Some(ErrorCode::AccountNotFound) => Ok(1),
            Err(error) => Err(error),
        }
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<StatusView, CallError> {
        self.read(paths::STATUS).await
    }

    /// `GET /v1/supply`.
    pub async fn supply(&self) -> Result<SupplyView, CallError> {
        self.read(paths::SUPPLY).await
    }

    /// `GET /v1/prices`.
    pub async fn prices(&self) -> Result<PricesView, CallError> {
        self.read(paths::PRICES).await
    }

    /// `GET /v1/catalogue`.
    pub async fn catalogue(&self) -> Result<CatalogueView, CallError> {
        self.read(paths::CATALOGUE).await
    }

    /// `GET /v1/accounts/{key}` (404 `account_not_found` for an unregistered key): totals per asset.
    pub async fn account(&self, account: &AccountKey) -> Result<AccountView, CallError> {
        self.read(&with_param(paths::ACCOUNT, account)).await
    }

    /// `GET /v1/accounts/{key}` as a signed read by `key`'s own account: totals plus the free and escrowed
    /// split that only the owner sees (sealed orders, decisions §13).
    pub async fn own_account(&self, key: &SigningKey) -> Result<AccountView, CallError> {
        self.read_signed(&with_param(paths::ACCOUNT, account_of(key)), key).await
    }

    /// `GET /v1/system-accounts`.
    pub async fn system_accounts(&self) -> Result<SystemAccountsView, CallError> {
        self.read(paths::SYSTEM_ACCOUNTS).await
    }

    /// `GET /v1/farms`.
    pub async fn farms(&self) -> Result<FarmsView, CallError> {
        self.read(paths::FARMS).await
    }

    /// `GET /v1/nodes`.
    pub async fn nodes(&self, query: &NodesQuery) -> Result<NodesView, CallError> {
        self.read(&with_query(paths::NODES, query)?).await
    }

    /// `GET /v1/leases`.
    pub async fn leases(&self, query: &LeasesQuery) -> Result<LeasesView, CallError> {
        self.read(&with_query(paths::LEASES, query)?).await
    }

    /// `GET /v1/capacity/search`.
    pub async fn capacity_search(&self, query: &SearchQuery) -> Result<SearchView, CallError> {
        self.read(&with_query(paths::CAPACITY_SEARCH, query)?).await
    }

    /// `GET /v1/capacity/explain`.
    pub async fn capacity_explain(&self, query: &ExplainQuery) -> Result<ExplainView, CallError> {
        self.read(&with_query(paths::CAPACITY_EXPLAIN, query)?).await
    }

    /// `GET /v1/capacity/standing-bids`.
    pub async fn standing_bids(&self, query: &StandingBidsQuery) -> Result<StandingBidsView, CallError> {
        self.read(&with_query(paths::CAPACITY_STANDING_BIDS, query)?).await
    }

    /// `GET /v1/capacity/requests`.
    pub async fn capacity_requests(
        &self,
        query: &CapacityRequestsQuery,
    ) -> Result<CapacityRequestsView, CallError> {
        self.read(&with_query(paths::CAPACITY_REQUESTS, query)?).await
    }

    /// `GET /v1/capacity/requests/{id}`.
    pub async fn capacity_request(&self, id: CapacityRequestId) -> Result<CapacityRequestView, CallError> {
        self.read(&with_param(paths::CAPACITY_REQUEST, id)).await
    }

    /// `GET /v1/farming-pools`.
    pub async fn farming_pools(&self) -> Result<FarmingPoolsView, CallError> {
        self.read(paths::FARMING_POOLS).await
    }

    /// `GET /v1/farming-pools/{id}`.
    pub async fn farming_pool(&self, id: FarmingPoolId) -> Result<FarmingPoolDetail, CallError> {
        self.read(&with_param(paths::FARMING_POOL, id)).await
    }

    /// `GET /v1/pool2`.
    pub async fn pool2(&self) -> Result<Pool2View, CallError> {
        self.read(paths::POOL2).await
    }

    /// `GET /v1/treasury`: the treasury report (revenue CC, fiat USDC, exit buy-backs, the burn, the exit
    /// pool's funding, balances).
    pub async fn treasury(&self) -> Result<TreasuryView, CallError> {
        self.read(paths::TREASURY).await
    }

    /// `GET /v1/exit-pool/round`.
    pub async fn exit_round(&self) -> Result<ExitRoundView, CallError> {
        self.read(paths::EXIT_POOL_ROUND).await
    }

    /// `GET /v1/exit-pool/rounds`.
    pub async fn exit_rounds(&self) -> Result<ExitRoundsView, CallError> {
        self.read(paths::EXIT_POOL_ROUNDS).await
    }

    /// `GET /v1/exit-pool/rounds/{id}`.
    pub async fn exit_round_result(&self, id: RoundId) -> Result<ExitRoundResult, CallError> {
        self.read(&with_param(paths::EXIT_POOL_ROUND_RESULT, id)).await
    }

    /// `GET /v1/exit-pool/positions`.
    pub async fn exit_positions(&self, query: &PositionsQuery) -> Result<PositionsView, CallError> {
        self.read(&with_query(paths::EXIT_POOL_POSITIONS, query)?).await
    }

    /// `GET /v1/exit-pool/bids`: `key`'s own bids in the open round (signed read).
    pub async fn own_exit_bids(&self, key: &SigningKey) -> Result<OwnExitBidsView, CallError> {
        self.read_signed(paths::EXIT_POOL_BIDS, key).await
    }

    /// `GET /v1/params`: the parameters in force.
    pub async fn params(&self) -> Result<tfeco_core::Params, CallError> {
        self.read(paths::PARAMS).await
    }

    /// `GET /v1/guardians`.
    pub async fn guardians(&self) -> Result<GuardiansView, CallError> {
        self.read(paths::GUARDIANS).await
    }

    /// `GET /v1/param-changes`.
    pub async fn param_changes(&self, query: &ParamChangesQuery) -> Result<ParamChangesView, CallError> {
        self.read(&with_query(paths::PARAM_CHANGES, query)?).await
    }

    /// `GET /v1/tx/{seq}/events`: a page of the events of a command whose answer did not hold them all.
    pub async fn tx_events(&self, seq: u64, query: &EventPageQuery) -> Result<EventPage, CallError> {
        self.read(&with_query(&with_param(paths::TX_EVENTS, seq), query)?).await
    }

    /// Every event of an accepted command: the answer's first page, then the pages the node keeps.
    pub async fn all_events(&self, accepted: &TxAccepted) -> Result<Vec<tfeco_core::Event>, CallError> {
        let mut events = accepted.events.clone();
        let mut next = accepted.next_page.is_some();
        while next {
            let query = EventPageQuery { offset: Some(events.len() as u64), limit: Some(1_000) };
            let page = self.tx_events(accepted.seq, &query).await?;
            next = page.next_page.is_some() && !page.events.is_empty();
            events.extend(page.events);
        }
        Ok(events)
    }

    /// `GET /v1/mint/reports`.
    pub async fn mint_reports(&self) -> Result<MintReportsView, CallError> {
        self.read(paths::MINT_REPORTS).await
    }

    /// `GET /v1/mint/reports/{period}`.
    pub async fn mint_report(&self, period: u32) -> Result<MintReportDetail, CallError> {
        self.read(&with_param(paths::MINT_REPORT, period)).await
    }

    /// `GET /v1/vesting`.
    pub async fn vesting(&self, query: &VestingQuery) -> Result<VestingView, CallError> {
        self.read(&with_query(paths::VESTING, query)?).await
    }

    /// `GET /v1/nodes/{id}/uptime`.
    pub async fn node_uptime(&self, node: NodeId) -> Result<UptimeView, CallError> {
        self.read(&with_param(paths::NODE_UPTIME, node)).await
    }

    /// `GET /v1/calc/node`.
    pub async fn calc_node(&self, query: &CalcNodeQuery) -> Result<CalcNodeView, CallError> {
        self.read(&with_query(paths::CALC_NODE, query)?).await
    }

    /// `GET /v1/calc/table`.
    pub async fn calc_table(&self, query: &CalcTableQuery) -> Result<CalcTableView, CallError> {
        self.read(&with_query(paths::CALC_TABLE, query)?).await
    }

    /// `GET /v1/exchange/markets`.
    pub async fn exchange_markets(&self) -> Result<ExchangeMarketsView, CallError> {
        self.read(paths::EXCHANGE_MARKETS).await
    }

    /// `GET /v1/exchange/markets/{id}/batches`.
    pub async fn exchange_batches(
        &self,
        market: MarketId,
        query: &BatchesQuery,
    ) -> Result<BatchesView, CallError> {
        self.read(&with_query(&with_param(paths::EXCHANGE_BATCHES, market), query)?).await
    }

    /// `GET /v1/exchange/markets/{id}/depth`.
    pub async fn exchange_depth(&self, market: MarketId) -> Result<DepthView, CallError> {
        self.read(&with_param(paths::EXCHANGE_DEPTH, market)).await
    }

    /// `GET /v1/exchange/orders`: `key`'s own open orders (signed read).
    pub async fn own_orders(&self, key: &SigningKey) -> Result<OwnOrdersView, CallError> {
        self.read_signed(paths::EXCHANGE_ORDERS, key).await
    }

    /// `GET /v1/exchange/fills`: `key`'s own fills (signed read).
    pub async fn own_fills(&self, key: &SigningKey) -> Result<OwnFillsView, CallError> {
        self.read_signed(paths::EXCHANGE_FILLS, key).await
    }
}

impl Client {
    /// `GET /v1/checkpoints`.
    pub async fn checkpoints(&self) -> Result<CheckpointsView, CallError> {
        self.read(paths::CHECKPOINTS).await
    }

    /// `POST /v1/checkpoints`: the operator (`key`) proposes a checkpoint at the journal head now.
    pub async fn propose_checkpoint(&self, key: &SigningKey) -> Result<CheckpointView, CallError> {
        self.send_signed(reqwest::Method::POST, paths::CHECKPOINTS, key).await
    }

    /// `POST /v1/checkpoints/{seq}/signatures`: a guardian's signature of the checkpoint at `seq`.
    pub async fn sign_checkpoint(
        &self,
        seq: u64,
        request: &CheckpointSignatureRequest,
    ) -> Result<CheckpointView, CallError> {
        let url = format!("{}{}", self.base, with_param(paths::CHECKPOINT_SIGNATURES, seq));
        let response = self
            .http
            .post(url)
            .json(request)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        Self::answer(response).await
    }

    /// `GET /v1/journal`: a page of entries, a signed read by `key` (a guardian or the operator).
    pub async fn journal(&self, query: &JournalQuery, key: &SigningKey) -> Result<JournalPage, CallError> {
        self.read_signed(&with_query(paths::JOURNAL, query)?, key).await
    }

    /// `GET /v1/journal/genesis`.
    pub async fn journal_genesis(&self) -> Result<JournalGenesisView, CallError> {
        self.read(paths::JOURNAL_GENESIS).await
    }

    /// `GET /v1/journal/stream`, a signed read by `key` (a guardian or the operator): the lines of the
    /// stream as they arrive (entries from `query.from`, and the node's head). The stream ends when the node
    /// closes it; an error item (the connection broke, a line that does not decode) ends it too.
    ///
    /// Errors: the node's refusal (e.g. 403 `signed_read_forbidden`, 503 `unavailable`), or no answer.
    pub async fn journal_stream(
        &self,
        query: &tfeco_api::checkpoints::JournalStreamQuery,
        key: &SigningKey,
    ) -> Result<impl futures_util::Stream<Item = Result<JournalStreamItem, CallError>>, CallError> {
        use futures_util::StreamExt as _;
        let path_and_query = with_query(paths::JOURNAL_STREAM, query)?;
        let headers = signed_read_headers(key, &path_and_query, unix_now());
        let mut request = self.http.get(format!("{}{path_and_query}", self.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Self::answer::<()>(response)
                .await
                .err()
                .unwrap_or(CallError::Decode("no error".into())));
        }
        let lines = ndjson_lines(response.bytes_stream().boxed());
        Ok(lines.map(|line| {
            line.and_then(|line| serde_json::from_slice(&line).map_err(|e| CallError::Decode(e.to_string())))
        }))
    }
}

/// The lines of a byte stream (each without its `\n`; empty lines skipped); a read error is the last item.
fn ndjson_lines<S, B>(bytes: S) -> impl futures_util::Stream<Item = Result<Vec<u8>, CallError>>
where
    S: futures_util::Stream<Item = reqwest::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    use futures_util::StreamExt as _;
    let state = (bytes, Vec::<u8>::new(), false);
    futures_util::stream::unfold(state, |(mut bytes, mut buffer, mut ended)| async move {
        loop {
            if let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).take(end).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some((Ok(line), (bytes, buffer, ended)));
            }
            if ended {
                return None;
            }
            match bytes.next().await {
                Some(Ok(chunk)) => buffer.extend_from_slice(chunk.as_ref()),
                Some(Err(error)) => {
                    ended = true;
                    buffer.clear();
                    return Some((Err(CallError::Unreachable(error.to_string())), (bytes, buffer, ended)));
                }
                None => {
                    ended = true;
                    buffer.push(b'\n');
                }
            }
        }
    })
}

impl Client {
    /// `GET /v1/accounts/{key}/events`: a page of `account`'s events, newest first.
    pub async fn account_events(
        &self,
        account: &AccountKey,
        query: &tfeco_api::events::AccountEventsQuery,
    ) -> Result<tfeco_api::events::AccountEventsPage, CallError> {
        self.read(&with_query(&with_param(paths::ACCOUNT_EVENTS, account), query)?).await
    }

    /// `GET /v1/events?{query}` (a raw query, e.g. `node=3`), resuming after `last_event_id`: the stream's
    /// messages as they arrive. The stream ends when the node closes it; an error item ends it too.
    ///
    /// Errors: the node's refusal (e.g. 400 `invalid_query`, 503 `unavailable`), or no answer.
    pub async fn events(
        &self,
        query: &str,
        last_event_id: Option<u64>,
    ) -> Result<impl futures_util::Stream<Item = Result<tfeco_api::events::EventEntry, CallError>>, CallError>
    {
        use futures_util::StreamExt as _;
        let separator = if query.is_empty() { "" } else { "?" };
        let mut request = self.http.get(format!("{}{}{separator}{query}", self.base, paths::EVENTS));
        if let Some(seq) = last_event_id {
            request = request.header("last-event-id", seq.to_string());
        }
        let response = request.send().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Self::answer::<()>(response)
                .await
                .err()
                .unwrap_or(CallError::Decode("no error".into())));
        }
        let messages = eventsource_stream::Eventsource::eventsource(response.bytes_stream());
        Ok(messages.filter_map(|message| async move {
            match message {
                Ok(event) if event.event == tfeco_api::events::STREAM_EVENT => {
                    Some(serde_json::from_str(&event.data).map_err(|e| CallError::Decode(e.to_string())))
                }
                Ok(_) => None,
                Err(error) => Some(Err(CallError::Unreachable(error.to_string()))),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use tfeco_api::capacity::SearchQuery;
    use tfeco_core::Billing;

    use super::*;

    #[test]
    fn queries_serialize_only_the_given_parameters() {
        assert_eq!(
            with_query("/v1/capacity/search", &SearchQuery::default()).unwrap(),
            "/v1/capacity/search"
        );
        let query = SearchQuery {
            min_mem_gb: Some(8),
            max_price: Some("2.5".parse().unwrap()),
            billing: Some(Billing::Hourly),
            ..SearchQuery::default()
        };
        assert_eq!(
            with_query("/v1/capacity/search", &query).unwrap(),
            "/v1/capacity/search?min_mem_gb=8&max_price=2.5&billing=hourly"
        );
        assert_eq!(with_param(paths::EXCHANGE_BATCHES, 3), "/v1/exchange/markets/3/batches");
    }

    #[test]
    fn a_signed_tx_verifies_and_encodes_as_body_and_signature() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let request = sign_tx(&key, 4, 1_000, Command::RegisterAccount {});
        let signature = hex::decode(&request.signature).unwrap();
        let body = SignedBody::parse(request.body.clone()).unwrap();
        assert!(body.verify(&signature).is_ok());
        assert_eq!(body.body().signer, account_of(&key));
        // The signature covers the domain, then the body text as sent (scheme v2).
        let mut message = b"tfeco/v2/request\0".to_vec();
        message.extend_from_slice(request.body.as_bytes());
        let key_check = ed25519_dalek::VerifyingKey::from_bytes(&account_of(&key).0).unwrap();
        let raw = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        assert!(key_check.verify_strict(&message, &raw).is_ok());
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["signature"], request.signature.as_str());
        let inner: serde_json::Value = serde_json::from_str(json["body"].as_str().unwrap()).unwrap();
        assert_eq!((inner["nonce"].as_u64(), inner["expiry"].as_i64()), (Some(4), Some(1_000)));
        assert_eq!(inner["signer"], account_of(&key).to_hex().as_str());
        let decoded: TxRequest = serde_json::from_value(json).unwrap();
        assert_eq!(decoded, request, "the JSON form decodes to the same signed request");
    }
}
