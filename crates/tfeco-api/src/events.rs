//! The event stream and account history: `GET /v1/events` (server-sent events, one message per journal
//! entry with matching events) and `GET /v1/accounts/{key}/events` (an account's events, newest first).
//!
//! Sealed content never appears here: the events of exit bids and exchange orders
//! (`tfeco_core::Event::is_sealed`) are left out of the stream and of every history; owners read their own
//! through the signed reads (`/v1/exit-pool/bids`, `/v1/exchange/orders`, `/v1/exchange/fills`).

use serde::{Deserialize, Serialize};
use tfeco_core::{AccountKey, Event};
use utoipa::{IntoParams, ToSchema};

/// The SSE event name of every message of `GET /v1/events` (`event: entry`).
pub const STREAM_EVENT: &str = "entry";
/// Seconds between keep-alive comments on an idle stream.
pub const KEEP_ALIVE_S: u64 = 15;
/// Values one filter parameter (`account`, `node`, `lease`, `kind`) may list in all.
pub const MAX_FILTER_VALUES: usize = 64;
/// Entries one history page holds by default.
pub const DEFAULT_HISTORY_LIMIT: u32 = 20;
/// Most entries one history page holds.
pub const MAX_HISTORY_LIMIT: u32 = 200;

/// One message of the stream (its `data`), and one item of a history page: the matching public events of
/// the journal entry `seq`, in the order the command produced them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventEntry {
    /// The journal entry (also the SSE `id`; resume after it with `Last-Event-ID`).
    pub seq: u64,
    /// The entry's time, unix seconds (the batch's timestamp).
    pub ts: i64,
    /// The events, each tagged by `event` (e.g. `"transferred"`).
    pub events: Vec<Event>,
}

/// `GET /v1/events` query. Each filter takes one or more values, repeated (`node=1&node=2`) or comma
/// separated (`node=1,2`); an event matches when it matches every filter given (any value of each). A
/// message carries only the matching events of its entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Accounts (64 hex): events naming the account, about its leases or its farms' nodes, or of commands
    /// it signed.
    #[param(value_type = Option<String>)]
    pub account: Option<String>,
    /// Node ids: events about the node or a lease on it.
    #[param(value_type = Option<String>)]
    pub node: Option<String>,
    /// Lease ids.
    #[param(value_type = Option<String>)]
    pub lease: Option<String>,
    /// Event kinds (the `event` tag, e.g. `transferred`, `lease_opened`).
    #[param(value_type = Option<String>)]
    pub kind: Option<String>,
    /// Start at this journal seq (inclusive) instead of now; `Last-Event-ID` (the last seq received) wins.
    #[param(minimum = 0)]
    pub from: Option<u64>,
    /// `false`: send the entries from `from` (or after `Last-Event-ID`) up to the journal head at the
    /// request, then close (for clients that cannot stream). Default `true`: then follow live.
    pub follow: Option<bool>,
}

/// `GET /v1/accounts/{key}/events` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountEventsQuery {
    /// Only entries before this journal seq (exclusive): the previous page's `next_before`.
    #[param(minimum = 0)]
    pub before: Option<u64>,
    /// Entries per page, 1 to 200 (default 20).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `GET /v1/accounts/{key}/events` answer: one page of the account's public events, newest entry first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountEventsPage {
    /// The account.
    pub account: AccountKey,
    /// Entries, newest first, each with the account's events only.
    pub entries: Vec<EventEntry>,
    /// `before` of the next (older) page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
    /// Path of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    /// The last journal seq the node's event index holds (the history is complete up to it).
    pub indexed_through: u64,
}

/// Path of the page of `account`'s events before `before` with `limit` entries.
pub fn history_path(account: &AccountKey, before: u64, limit: u32) -> String {
    format!("/v1/accounts/{account}/events?before={before}&limit={limit}")
}
