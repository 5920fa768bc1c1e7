//! Signed requests: the body of `POST /v1/tx` and its answer.
//!
//! Scheme v2 (issue 12): a client writes the JSON text of `{signer, nonce, expiry, command}` (a
//! `tfeco_core::RequestBody`, in any layout), signs with ed25519 the bytes `tfeco/v2/request\0` followed by
//! that text's UTF-8 bytes exactly as sent (`tfeco_core::SignedBody::signing_bytes`), and sends the text
//! and the hex signature. The node answers once the command is durable in its journal, which keeps the
//! text verbatim. `docs/api.md` has complete examples in Python and JavaScript.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_core::Event;
use utoipa::{IntoParams, ToSchema};

/// Events in the answer of `POST /v1/tx` and, by default, in one page of `GET /v1/tx/{seq}/events`.
pub const EVENT_PAGE_DEFAULT: u32 = 100;
/// Largest page of `GET /v1/tx/{seq}/events`.
pub const EVENT_PAGE_MAX: u32 = 1_000;

/// `POST /v1/tx` body: `{"body": "<JSON text of a RequestBody>", "signature": "<128 hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TxRequest {
    /// The JSON text of a `RequestBody` (`{"signer": "<64 hex>", "nonce": N, "expiry": UNIX_S, "command":
    /// {...}}`, schema `RequestBody`), in any layout. Parsed strictly: an unknown or duplicate field is
    /// refused. The signature covers `tfeco/v2/request\0` followed by this text's UTF-8 bytes exactly as
    /// sent.
    #[schema(example = json!("{\"signer\":\"<64 hex>\",\"nonce\":1,\"expiry\":1767225600,\"command\":{\"register_account\":{}}}"))]
    pub body: String,
    /// The ed25519 signature of the body: 64 bytes as 128 hex characters.
    #[schema(pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: String,
}

/// `POST /v1/tx` answer: the command is applied and durable. A command's events can be many (a `Tick`
/// bills every lease that fell due): the answer carries the first [`EVENT_PAGE_DEFAULT`], the total, a
/// count per event kind (the summary), and the path of the next page when there are more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxAccepted {
    /// Its sequence number in the journal.
    pub seq: u64,
    /// What happened, in order (the first page): each event tagged by its `event` field (e.g.
    /// `"transferred"`).
    pub events: Vec<Event>,
    /// How many events the command produced in all.
    #[serde(default)]
    pub events_total: u64,
    /// How many events of each kind (by `event` tag), over all of them.
    #[serde(default)]
    pub event_counts: BTreeMap<String, u64>,
    /// Path of the next page (`/v1/tx/{seq}/events?offset=N`) when `events` is not all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
}

impl TxAccepted {
    /// The answer for the command journaled at `seq` with `events`: the first `page` events, the total,
    /// the counts per kind and the next page's path.
    pub fn summarize(seq: u64, events: &[Event], page: usize) -> Self {
        let mut event_counts = BTreeMap::new();
        for event in events {
            *event_counts.entry(event_kind(event)).or_insert(0) += 1;
        }
        let shown = events.len().min(page);
        TxAccepted {
            seq,
            events: events[..shown].to_vec(),
            events_total: events.len() as u64,
            event_counts,
            next_page: (shown < events.len()).then(|| page_path(seq, shown as u64)),
        }
    }
}

/// The `event` tag of an event (e.g. `"lease_charged"`).
pub fn event_kind(event: &Event) -> String {
    match serde_json::to_value(event) {
        Ok(serde_json::Value::Object(map)) => {
            map.get("event").and_then(|v| v.as_str()).unwrap_or("").to_owned()
        }
        _ => String::new(),
    }
}

/// The path of the page of `seq`'s events that starts at `offset`.
pub fn page_path(seq: u64, offset: u64) -> String {
    format!("/v1/tx/{seq}/events?offset={offset}")
}

/// `GET /v1/tx/{seq}/events` query: a page of one command's events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventPageQuery {
    /// Index of the first event (default 0).
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    /// Events per page: 1 to 1,000 (default 100; more is answered as 1,000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// `GET /v1/tx/{seq}/events` answer: one page of the events of the command journaled at `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    /// The command's sequence number.
    pub seq: u64,
    /// Index of the first event of this page.
    pub offset: u64,
    /// The events of this page, in order.
    pub events: Vec<Event>,
    /// How many events the command produced in all.
    pub events_total: u64,
    /// Path of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
}

impl EventPage {
    /// The page of `events` (all of `seq`'s) that `query` asks for.
    pub fn of(seq: u64, events: &[Event], query: &EventPageQuery) -> Self {
        let total = events.len() as u64;
        let offset = query.offset.unwrap_or(0).min(total);
        let limit = u64::from(query.limit.unwrap_or(EVENT_PAGE_DEFAULT).clamp(1, EVENT_PAGE_MAX));
        let end = offset.saturating_add(limit).min(total);
        // Both bounds are at most `events.len()`, a usize.
        let page = &events[offset as usize..end as usize];
        EventPage {
            seq,
            offset,
            events: page.to_vec(),
            events_total: total,
            next_page: (end < total).then(|| page_path(seq, end)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;
    use tfeco_core::{Command, State};

    use super::*;

    /// The variants of the tagged enum schema `name` of the document, by tag (`tag_of` reads a variant's
    /// tag).
    fn documented_variants(name: &str, tag_of: fn(&Value) -> Option<&str>) -> BTreeMap<String, Value> {
        let document = serde_json::to_value(crate::openapi::document()).expect("encodes");
        let variants = document["components"]["schemas"][name]["oneOf"].as_array().expect("a oneOf").clone();
        variants.into_iter().map(|v| (tag_of(&v).expect("a tag").to_owned(), v)).collect()
    }

    /// Checks the keys of the JSON object `json` against the object schema `schema`: each is a documented
    /// property, and every required property is there.
    fn assert_keys_documented(json: &Value, schema: &Value) {
        let keys: BTreeSet<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
        let properties = schema["properties"].as_object().map(|p| p.keys().map(String::as_str).collect());
        let properties: BTreeSet<&str> = properties.unwrap_or_default();
        let required: BTreeSet<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        assert!(keys.is_subset(&properties), "{json} has keys the schema does not document: {schema}");
        assert!(required.is_subset(&keys), "{json} misses required keys of {schema}");
    }

    /// The tags of the events of the test kit's scenario that applies every command kind, checking on the
    /// way that each command and event has the documented keys, and that each event and each `TxAccepted`
    /// decodes from the JSON the node answers.
    fn event_kinds_of_every_command_kind() -> BTreeSet<String> {
        let events_documented =
            documented_variants("Event", |v| v["properties"]["event"]["enum"][0].as_str());
        let commands_documented = documented_variants("Command", |v| v["required"][0].as_str());
        let scenario = tfeco_testkit::every_command_kind();
        let mut state = State::new(scenario.genesis.clone());
        let mut kinds = BTreeSet::new();
        for (seq, envelope) in (1..).zip(&scenario.accepted) {
            let command = serde_json::to_value(&envelope.command).expect("encodes");
            let kind = envelope.command.kind();
            assert_keys_documented(&command[kind], &commands_documented[kind]["properties"][kind]);
            assert_eq!(serde_json::from_value::<Command>(command).expect("decodes"), envelope.command);
            let events = state.apply(envelope).expect("the scenario replays");
            for event in &events {
                let json = serde_json::to_value(event).expect("encodes");
                let tag = json["event"].as_str().expect("tagged by `event`").to_owned();
                assert_keys_documented(&json, &events_documented[&tag]);
                let back: Event =
                    serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json}: {e}"));
                assert_eq!(&back, event);
                kinds.insert(tag);
            }
            let accepted = TxAccepted::summarize(seq, &events, usize::MAX);
            let text = serde_json::to_string(&accepted).expect("encodes");
            assert_eq!(serde_json::from_str::<TxAccepted>(&text).expect("decodes"), accepted);
        }
        kinds
    }

    /// One event of each kind the scenario does not emit (repeats, grace, resumption, a pool signature
    /// awaiting the other side, dropped changes, vesting releases, order expiries).
    fn events_the_scenario_does_not_emit() -> Vec<Event> {
        use tfeco_core::{FarmId, FarmingPoolId, LeaseId, MembershipChange, NodeId, ParamChangeId};
        vec![
            Event::AlreadyApplied { id: "bridge-7".to_owned() },
            Event::FarmingPoolMembershipSigned {
                pool_id: FarmingPoolId(1),
                farm_id: FarmId(2),
                change: MembershipChange::Leave,
                by_farmer: true,
            },
            Event::LeaseGraceStarted { lease_id: LeaseId(3), grace_until: 1_762_000_000 },
            Event::LeaseResumed { lease_id: LeaseId(3) },
            Event::ParamChangeDropped { change_id: ParamChangeId(4) },
            Event::OrderExpired {
                order_id: tfeco_core::OrderId(8),
                refunded: "1.3".parse().expect("an amount"),
            },
            Event::RewardsReleased {
                node_id: NodeId(5),
                owner: tfeco_core::AccountKey([7; 32]),
                tft: "282.5".parse().expect("an amount"),
            },
        ]
    }

    /// Every event kind the document declares decodes from the JSON the node answers and has the
    /// documented keys: those of the scenario that applies every command kind (whose commands have the
    /// documented keys too), and one of each of the others.
    #[test]
    fn every_event_kind_round_trips_through_json_with_its_documented_keys() {
        let documented = documented_variants("Event", |v| v["properties"]["event"]["enum"][0].as_str());
        let mut seen = event_kinds_of_every_command_kind();
        assert!(seen.len() >= 50, "the scenario emits {} event kinds", seen.len());
        for event in events_the_scenario_does_not_emit() {
            let json = serde_json::to_value(&event).expect("encodes");
            let tag = json["event"].as_str().expect("tagged").to_owned();
            assert_keys_documented(&json, &documented[&tag]);
            assert_eq!(serde_json::from_value::<Event>(json.clone()).expect("decodes"), event);
            assert!(seen.insert(tag), "emitted already: {json}");
        }
        assert_eq!(seen, documented.into_keys().collect());
    }

    /// Issue 10 item 3: a command with many events is answered with a summary and its events in pages.
    #[test]
    fn many_events_are_summarized_and_paged() {
        let events: Vec<Event> = (0..250).map(|i| Event::Ticked { now: i }).collect();
        let accepted = TxAccepted::summarize(9, &events, 100);
        assert_eq!((accepted.events.len(), accepted.events_total), (100, 250));
        assert_eq!(accepted.event_counts, BTreeMap::from([("ticked".to_owned(), 250)]));
        assert_eq!(accepted.next_page.as_deref(), Some("/v1/tx/9/events?offset=100"));
        let mut seen = accepted.events.clone();
        let mut query = EventPageQuery { offset: Some(100), limit: None };
        loop {
            let page = EventPage::of(9, &events, &query);
            seen.extend(page.events);
            match page.next_page {
                Some(_) => query.offset = Some(page.offset + 100),
                None => break,
            }
        }
        assert_eq!(seen, events, "every event once, in order");
        let past = EventPage::of(9, &events, &EventPageQuery { offset: Some(u64::MAX), limit: Some(0) });
        assert_eq!((past.offset, past.events.len(), past.next_page), (250, 0, None));
        let few = TxAccepted::summarize(3, &events[..2], 100);
        assert_eq!((few.events.len(), few.next_page), (2, None));
    }
}
