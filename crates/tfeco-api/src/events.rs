//! The event stream and account history: `GET /v1/events` (server-sent events, one message per journal
//! entry with matching events) and `GET /v1/accounts/{key}/events` (an account's events, newest first).
//!
//! Sealed content never appears here: the events of exit bids and exchange orders
//! (`tfeco_core::Event::is_sealed`) are left out of the stream and of every history; owners read their own
//! through the signed reads (`/v1/exit-pool/bids`, `/v1/exchange/orders`, `/v1/exchange/fills`).

use serde::{Deserialize, Serialize};
use tfeco_core::{AccountKey, Event};
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
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

/// One message of `GET /v1/events` as a server-sent event, as the stream's OpenAPI response describes it
/// (the SSE fields of each message, the convention of OpenAPI 3.2 and of Schemathesis): the `data` field
/// is the JSON text of an [`EventEntry`]. Documentation only: the node writes the SSE text itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StreamMessage {
    /// The journal seq of the entry, in decimal (a client sends it back as `Last-Event-ID`).
    #[schema(pattern = "^[0-9]+$")]
    pub id: String,
    /// Always `entry` ([`STREAM_EVENT`]).
    #[schema(pattern = "^entry$")]
    pub event: String,
    /// The entry: the JSON text of an `EventEntry` (`{seq, ts, events}`).
    #[schema(content_media_type = "application/json")]
    pub data: String,
}

/// `GET /v1/events` query. Each filter takes one or more values, repeated (`node=1&node=2`) or comma
/// separated (`node=1,2`); an event matches when it matches every filter given (any value of each). A
/// message carries only the matching events of its entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Accounts (64 hex): events naming the account, about its leases or its farms' nodes, or of commands
    /// it signed.
    #[param(schema_with = account_list)]
    pub account: Option<String>,
    /// Node ids: events about the node or a lease on it.
    #[param(schema_with = node_list)]
    pub node: Option<String>,
    /// Lease ids.
    #[param(schema_with = lease_list)]
    pub lease: Option<String>,
    /// Event kinds (the `event` tag, e.g. `transferred`, `lease_opened`).
    #[param(schema_with = kind_list)]
    pub kind: Option<String>,
    /// Start at this journal seq (inclusive) instead of now; `Last-Event-ID` (the last seq received) wins.
    #[param(minimum = 0)]
    pub from: Option<u64>,
    /// `false`: send the entries from `from` (or after `Last-Event-ID`) up to the journal head at the
    /// request, then close (for clients that cannot stream). Default `true`: then follow live.
    pub follow: Option<bool>,
}

/// The schema of one filter parameter: a list of 1 to [`MAX_FILTER_VALUES`] `items`, sent as the parameter
/// repeated (the OpenAPI default for a query array) or comma separated, with its `description` (utoipa's
/// `schema_with` drops a field's doc comment, so the schema carries it).
fn filter_list(items: ObjectBuilder, description: &str) -> Array {
    let description = format!("{description} One or more: the parameter repeated, or comma separated.");
    ArrayBuilder::new()
        .description(Some(description))
        .items(RefOr::<Schema>::from(items.build()))
        .min_items(Some(1))
        .max_items(Some(MAX_FILTER_VALUES))
        .build()
}

fn account_list() -> Array {
    let key = ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[0-9a-fA-F]{64}$"));
    filter_list(
        key,
        "Accounts (64 hex): events naming the account, about its leases or its farms' nodes, or of commands it signed.",
    )
}

fn id_list(maximum: f64, description: &str) -> Array {
    let id = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0.0)).maximum(Some(maximum));
    filter_list(id, description)
}

fn node_list() -> Array {
    id_list(f64::from(u32::MAX), "Node ids: events about the node or a lease on it.")
}

fn lease_list() -> Array {
    // u64::MAX is not exact as f64; the bound documented is the largest id JSON clients read exactly.
    id_list(9_007_199_254_740_991.0, "Lease ids.")
}

fn kind_list() -> Array {
    let kind = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(Event::KINDS.iter().copied()));
    filter_list(kind, "Event kinds (the `event` tag, e.g. `transferred`, `lease_opened`).")
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
