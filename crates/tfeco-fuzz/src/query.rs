//! Target `query_strings`: the query string of every route that takes one, parsed as the node parses it
//! (`tfeco_server::api::extract::parse_query` into the route's `tfeco_api` query type: unknown, repeated
//! and malformed parameters refused with a typed error naming the parameter), and the filter query of
//! `GET /v1/events` (`StreamQuery::parse`).
//!
//! The first byte picks the route ([`ROUTES`]), the rest is the query string (what follows `?`). Asserts:
//! no panic, also when an error message is worded; an accepted query encoded again (`serde_urlencoded`)
//! parses to the same value; the events filter parses the same text to the same value twice.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tfeco_api::{calc, capacity, checkpoints, events, exchange, exit_pool, governance, rewards, tx};
use tfeco_server::api::extract::parse_query;
use tfeco_server::events::filter::StreamQuery;

use crate::Verdict;

/// Parses `query` as a `T`; when accepted, its encoding parses back to it.
fn round_trip<T>(query: &str) -> bool
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let Ok(value) = parse_query::<T>(query) else { return false };
    let encoded = serde_urlencoded::to_string(&value)
        .unwrap_or_else(|e| panic!("an accepted query {query:?} ({value:?}) does not encode: {e}"));
    let again = parse_query::<T>(&encoded)
        .unwrap_or_else(|e| panic!("{query:?} re-encoded as {encoded:?} is refused: {e:?}"));
    assert_eq!(again, value, "{query:?} re-encoded as {encoded:?} parses to another value");
    true
}

/// A route with a typed query: its path (for the reader) and its parser ([`round_trip`] of its type).
pub type Route = (&'static str, fn(&str) -> bool);

/// The routes with a typed query, in selector order.
pub const ROUTES: &[Route] = &[
    ("/v1/accounts/{key}/events", round_trip::<events::AccountEventsQuery>),
    ("/v1/events (documented parameters)", round_trip::<events::EventsQuery>),
    ("/v1/exchange/markets/{id}/batches", round_trip::<exchange::BatchesQuery>),
    ("/v1/calc/node", round_trip::<calc::CalcNodeQuery>),
    ("/v1/calc/table", round_trip::<calc::CalcTableQuery>),
    ("/v1/capacity/requests", round_trip::<capacity::CapacityRequestsQuery>),
    ("/v1/tx/{seq}/events", round_trip::<tx::EventPageQuery>),
    ("/v1/capacity/explain", round_trip::<capacity::ExplainQuery>),
    ("/v1/journal", round_trip::<checkpoints::JournalQuery>),
    ("/v1/journal/stream", round_trip::<checkpoints::JournalStreamQuery>),
    ("/v1/leases", round_trip::<capacity::LeasesQuery>),
    ("/v1/nodes", round_trip::<capacity::NodesQuery>),
    ("/v1/param-changes", round_trip::<governance::ParamChangesQuery>),
    ("/v1/exit-pool/positions", round_trip::<exit_pool::PositionsQuery>),
    ("/v1/capacity/search", round_trip::<capacity::SearchQuery>),
    ("/v1/capacity/standing-bids", round_trip::<capacity::StandingBidsQuery>),
    ("/v1/vesting", round_trip::<rewards::VestingQuery>),
];

/// The body of target `query_strings`.
pub fn query_strings(data: &[u8]) -> Verdict {
    let Some((&selector, rest)) = data.split_first() else { return Verdict::Refused };
    let Some(query) = crate::text(rest) else { return Verdict::Refused };
    let (_, parse) = ROUTES[usize::from(selector) % ROUTES.len()];
    let typed = parse(query);
    let events = StreamQuery::parse(query).ok();
    assert_eq!(StreamQuery::parse(query).ok(), events, "the events filter is not a function of its text");
    Verdict::from_bool(typed)
}
