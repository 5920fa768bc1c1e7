//! Every HTTP path the CLI calls, and the query strings it sends: the one place to change when the API's
//! routes move (e.g. `/v1/market/*` becoming `/v1/capacity/*`) or when the typed client replaces them. The
//! capacity search sends the typed [`SearchQuery`] the filter parser built, encoded here into the node's
//! query parameters.

use tfeco_core::{AccountKey, Billing};
use tfeco_core::{Requirements, SearchQuery};
use tfeco_money::{Amount, Cc};

/// `GET`: the node's time, entry count, state hash, invariants.
pub(crate) const STATUS: &str = "/v1/status";
/// `GET`: nodes with prices and free slices.
pub(crate) const NODES: &str = "/v1/nodes";

/// `GET`: an account's balances and nonces.
pub(crate) fn account(account: &AccountKey) -> String {
    format!("/v1/accounts/{account}")
}

/// `GET`: a tenant's leases.
pub(crate) fn leases_of(tenant: &AccountKey) -> String {
    format!("/v1/leases?tenant={tenant}")
}

/// `GET`: a node's report key and uptime of its open minting periods.
pub(crate) fn node_uptime(node_id: u32) -> String {
    format!("/v1/nodes/{node_id}/uptime")
}

// The exchange.

/// `GET`: the exchange's markets with their status.
pub(crate) const EXCHANGE_MARKETS: &str = "/v1/exchange/markets";
/// Signed `GET`: the caller's open orders.
pub(crate) const EXCHANGE_ORDERS: &str = "/v1/exchange/orders";
/// Signed `GET`: the caller's fills in the recent batches.
pub(crate) const EXCHANGE_FILLS: &str = "/v1/exchange/fills";

/// `GET`: a market's last `limit` batches.
pub(crate) fn exchange_batches(market_id: u32, limit: u32) -> String {
    format!("/v1/exchange/markets/{market_id}/batches?limit={limit}")
}

/// `GET`: a market's depth after its last clear.
pub(crate) fn exchange_depth(market_id: u32) -> String {
    format!("/v1/exchange/markets/{market_id}/depth")
}

// The exit pool.

/// `GET`: an owner's exit-pool positions.
pub(crate) fn exit_positions(owner: &AccountKey) -> String {
    format!("/v1/exit/positions?owner={owner}")
}

/// `GET`: the current exit round.
pub(crate) const EXIT_ROUND: &str = "/v1/exit/round";
/// `GET`: the published exit rounds.
pub(crate) const EXIT_ROUNDS: &str = "/v1/exit/rounds";
/// Signed `GET`: the caller's open exit bids.
pub(crate) const EXIT_BIDS: &str = "/v1/exit/bids";

/// `GET`: one published exit round with its per-bid result.
pub(crate) fn exit_round(round_id: u64) -> String {
    format!("/v1/exit/rounds/{round_id}")
}

// The capacity market.

/// `GET`: the capacity requests with their offers.
pub(crate) const CAPACITY_REQUESTS: &str = "/v1/market/requests";
/// `GET`: the standing bids.
pub(crate) const STANDING_BIDS: &str = "/v1/market/standing-bids";

/// `GET`: one capacity request.
pub(crate) fn capacity_request(request_id: u64) -> String {
    format!("/v1/market/requests/{request_id}")
}

/// `GET`: a buyer's open standing bids.
pub(crate) fn open_standing_bids_of(buyer: &AccountKey) -> String {
    format!("/v1/market/standing-bids?buyer={buyer}&open=true")
}

/// `path?a=1&b=2` (every value is a number, a decimal or a word: nothing to escape).
fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

/// The query parameters of the requirements (zero, `false` and `None` mean no requirement and are left out).
fn requirement_pairs(r: &Requirements) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&'static str, String)> = [
        ("min_cores", r.min_cores),
        ("min_passmark", r.min_passmark),
        ("min_mem_gb", r.min_mem_gb),
        ("min_ssd_gb", r.min_ssd_gb),
        ("min_ai_mem_gb", r.min_ai_mem_gb),
        ("min_ai_tps", r.min_ai_tps),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| (name, n.to_string()))
    .collect();
    if r.certified_only {
        pairs.push(("certified_only", "true".to_owned()));
    }
    if let Some(farm) = r.farm_id {
        pairs.push(("farm", farm.to_string()));
    }
    pairs
}

/// `GET`: the capacity search for a typed query (defaults are left out).
pub(crate) fn capacity_search(query: &SearchQuery) -> String {
    let mut pairs = requirement_pairs(&query.requirements);
    if let Some(price) = query.max_price_month {
        pairs.push(("max_price", price.to_string()));
    }
    if let Some(billing) = query.billing {
        let name = match billing {
            Billing::Hourly => "hourly",
            Billing::Monthly => "monthly",
        };
        pairs.push(("billing", name.to_owned()));
    }
    if query.min_free_slices > 0 {
        pairs.push(("min_free", query.min_free_slices.to_string()));
    }
    if query.limit > 0 {
        pairs.push(("limit", query.limit.to_string()));
    }
    with_query("/v1/market/search", &pairs)
}

/// `GET`: why `n_slices` meeting the requirements at no more than `max_price` cannot be had.
pub(crate) fn capacity_explain(
    requirements: &Requirements,
    n_slices: u32,
    max_price: Option<Amount<Cc>>,
) -> String {
    let mut pairs = requirement_pairs(requirements);
    pairs.push(("n_slices", n_slices.to_string()));
    if let Some(price) = max_price {
        pairs.push(("max_price", price.to_string()));
    }
    with_query("/v1/market/explain", &pairs)
}

// Farming pools.

/// `GET`: the farming pools.
pub(crate) const FARMING_POOLS: &str = "/v1/farming-pools";

/// `GET`: one farming pool with its member nodes.
pub(crate) fn farming_pool(pool_id: u64) -> String {
    format!("/v1/farming-pools/{pool_id}")
}

// Governance and minting.

/// `GET`: the guardian set, the threshold and the oracle quorum.
pub(crate) const GUARDIANS: &str = "/v1/guardians";

/// `GET`: parameter changes, all or of one status.
pub(crate) fn param_changes(status: Option<&str>) -> String {
    match status {
        Some(status) => format!("/v1/param-changes?status={status}"),
        None => "/v1/param-changes".to_owned(),
    }
}

/// `GET`: every minting report, one line each.
pub(crate) const MINT_REPORTS: &str = "/v1/mint/reports";

/// `GET`: one period's minting report with its canonical JSON.
pub(crate) fn mint_report(period: u32) -> String {
    format!("/v1/mint/reports/{period}")
}

/// `GET`: vesting records, of one farm owner's nodes or of all.
pub(crate) fn vesting(owner: Option<&AccountKey>) -> String {
    match owner {
        Some(owner) => format!("/v1/vesting?owner={owner}"),
        None => "/v1/vesting".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use tfeco_core::FarmId;

    use super::*;

    #[test]
    fn a_typed_search_query_becomes_the_node_query_string() {
        let query = SearchQuery {
            requirements: Requirements {
                min_cores: 2,
                min_passmark: 2000,
                min_mem_gb: 8,
                min_ssd_gb: 100,
                min_ai_mem_gb: 24,
                min_ai_tps: 5,
                certified_only: true,
                farm_id: Some(FarmId(3)),
            },
            max_price_month: Some("2".parse().unwrap()),
            billing: Some(Billing::Hourly),
            min_free_slices: 2,
            limit: 20,
        };
        assert_eq!(
            capacity_search(&query),
            "/v1/market/search?min_cores=2&min_passmark=2000&min_mem_gb=8&min_ssd_gb=100&min_ai_mem_gb=24\
             &min_ai_tps=5&certified_only=true&farm=3&max_price=2&billing=hourly&min_free=2&limit=20"
        );
        assert_eq!(capacity_search(&SearchQuery::default()), "/v1/market/search");
        assert_eq!(capacity_explain(&Requirements::default(), 4, None), "/v1/market/explain?n_slices=4");
    }
}
