//! The route paths of the API (path parameters in braces, as in the OpenAPI document).

/// A small HTML page with links.
pub const INDEX: &str = "/";
/// This API's OpenAPI document.
pub const OPENAPI: &str = "/openapi.json";
/// Submit a signed command.
pub const TX: &str = "/v1/tx";
/// `GET`: a page of the events of the command journaled at `{seq}`.
pub const TX_EVENTS: &str = "/v1/tx/{seq}/events";
/// Journal head, state hash, time.
pub const STATUS: &str = "/v1/status";
/// Supply and flows per asset.
pub const SUPPLY: &str = "/v1/supply";
/// Oracle prices.
pub const PRICES: &str = "/v1/prices";
/// The node catalogue.
pub const CATALOGUE: &str = "/v1/catalogue";
/// One account (`{key}`: 64 hex).
pub const ACCOUNT: &str = "/v1/accounts/{key}";
/// System account balances.
pub const SYSTEM_ACCOUNTS: &str = "/v1/system-accounts";
/// Farms.
pub const FARMS: &str = "/v1/farms";
/// Nodes.
pub const NODES: &str = "/v1/nodes";
/// Leases.
pub const LEASES: &str = "/v1/leases";
/// Capacity search.
pub const CAPACITY_SEARCH: &str = "/v1/capacity/search";
/// Why capacity cannot be had.
pub const CAPACITY_EXPLAIN: &str = "/v1/capacity/explain";
/// Standing bids.
pub const CAPACITY_STANDING_BIDS: &str = "/v1/capacity/standing-bids";
/// Capacity requests.
pub const CAPACITY_REQUESTS: &str = "/v1/capacity/requests";
/// One capacity request (`{id}`).
pub const CAPACITY_REQUEST: &str = "/v1/capacity/requests/{id}";
/// Farming pools.
pub const FARMING_POOLS: &str = "/v1/farming-pools";
/// One farming pool (`{id}`).
pub const FARMING_POOL: &str = "/v1/farming-pools/{id}";
/// Pool 2.
pub const POOL2: &str = "/v1/pool2";
/// The treasury report.
pub const TREASURY: &str = "/v1/treasury";
/// The exit pool's open round.
pub const EXIT_POOL_ROUND: &str = "/v1/exit-pool/round";
/// Published exit rounds.
pub const EXIT_POOL_ROUNDS: &str = "/v1/exit-pool/rounds";
/// One published exit round (`{id}`).
pub const EXIT_POOL_ROUND_RESULT: &str = "/v1/exit-pool/rounds/{id}";
/// Exit-pool positions.
pub const EXIT_POOL_POSITIONS: &str = "/v1/exit-pool/positions";
/// One's own exit bids (signed read).
pub const EXIT_POOL_BIDS: &str = "/v1/exit-pool/bids";
/// The guardian set.
pub const GUARDIANS: &str = "/v1/guardians";
/// The parameters in force.
pub const PARAMS: &str = "/v1/params";
/// Parameter changes.
pub const PARAM_CHANGES: &str = "/v1/param-changes";
/// Minting reports.
pub const MINT_REPORTS: &str = "/v1/mint/reports";
/// One minting report (`{period}`).
pub const MINT_REPORT: &str = "/v1/mint/reports/{period}";
/// Vesting records.
pub const VESTING: &str = "/v1/vesting";
/// A node's uptime (`{id}`: node id).
pub const NODE_UPTIME: &str = "/v1/nodes/{id}/uptime";
/// Income of one catalogue model.
pub const CALC_NODE: &str = "/v1/calc/node";
/// The catalogue's income table.
pub const CALC_TABLE: &str = "/v1/calc/table";
/// Exchange markets.
pub const EXCHANGE_MARKETS: &str = "/v1/exchange/markets";
/// Published batches of a market (`{id}`: market id).
pub const EXCHANGE_BATCHES: &str = "/v1/exchange/markets/{id}/batches";
/// Depth after the latest clear (`{id}`: market id).
pub const EXCHANGE_DEPTH: &str = "/v1/exchange/markets/{id}/depth";
/// One's own open orders (signed read).
pub const EXCHANGE_ORDERS: &str = "/v1/exchange/orders";
/// One's own fills (signed read).
pub const EXCHANGE_FILLS: &str = "/v1/exchange/fills";
/// Guardian checkpoints: `GET` lists them, `POST` (the operator, a signed request) proposes one now.
pub const CHECKPOINTS: &str = "/v1/checkpoints";
/// `POST`: a guardian's signature of the checkpoint at `{seq}`.
pub const CHECKPOINT_SIGNATURES: &str = "/v1/checkpoints/{seq}/signatures";
/// A page of journal entries (a signed read by a guardian or the operator).
pub const JOURNAL: &str = "/v1/journal";
/// The journal's genesis and the root of its hash chain.
pub const JOURNAL_GENESIS: &str = "/v1/journal/genesis";
/// The journal as a stream of entries from `from` (a signed read by a guardian or the operator): NDJSON,
/// following new entries as they are committed unless `follow=false` (what `tfeco follow` reads).
pub const JOURNAL_STREAM: &str = "/v1/journal/stream";

/// `template` with its one `{...}` parameter replaced by `value` (e.g. `with_param(ACCOUNT, key)`).
pub fn with_param(template: &str, value: impl std::fmt::Display) -> String {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{value}{}", &template[..open], &template[close + 1..])
        }
        _ => template.to_owned(),
    }
}
/// `GET`: the live event stream (server-sent events), filterable and resumable.
pub const EVENTS: &str = "/v1/events";
/// `GET`: one account's events, newest first, paged (`{key}`: 64 hex).
pub const ACCOUNT_EVENTS: &str = "/v1/accounts/{key}/events";
/// The node's metrics in the Prometheus text exposition format.
pub const METRICS: &str = "/metrics";
