//! Human and JSON output: writing to stdout (a closed pipe is not an error), the typed answer of a read or a
//! submitted command, refusals and their exit codes, and the value formatting every table shares. One
//! module per command group renders the node's views for people.
//!
//! Exit codes: 0 success; 1 bad input or a local failure (from `main`); 2 a check failed (`verify`,
//! `demo`); 3 refused (by the node, with its stable code, or by a local check before signing); 4 the node
//! could not be reached or answered garbage.

pub(crate) mod capacity;
pub(crate) mod checkpoints;
pub(crate) mod exchange;
pub(crate) mod farming_pool;
pub(crate) mod generic;
pub(crate) mod governance;
pub(crate) mod mint;
pub(crate) mod time;
pub(crate) mod wallet;

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use tfeco_wallet::api::tx::TxAccepted;
use tfeco_wallet::api::ErrorBody;
use tfeco_wallet::CallError;

/// Exit code of a refusal.
pub(crate) const REFUSED: u8 = 3;
/// Exit code of an unreachable node or an unreadable answer.
pub(crate) const UNREACHABLE: u8 = 4;

/// Writes `text` to stdout; a closed pipe (`tfeco capacity search | head`) is not an error.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing to stdout")
        }
        _ => Ok(()),
    }
}

/// Writes one line (adds the newline unless `text` ends with one).
pub(crate) fn emit_line(text: &str) -> anyhow::Result<()> {
    if text.ends_with('\n') {
        emit(text)
    } else {
        emit(&format!("{text}\n"))
    }
}

/// Prints `view` as one line of compact JSON.
pub(crate) fn json<T: Serialize>(view: &T) -> anyhow::Result<()> {
    emit_line(&serde_json::to_string(view).context("encoding JSON")?)
}

/// Prints `view` as compact JSON (`--json`) or through `human`.
pub(crate) fn view<T: Serialize>(
    json_out: bool,
    view: &T,
    human: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    if json_out {
        json(view)
    } else {
        emit_line(&human(view))
    }
}

/// Prints the answer of a read: the view (see [`view`]) and exit 0, or the failure and its exit code.
pub(crate) fn answer<T: Serialize>(
    json_out: bool,
    result: Result<T, CallError>,
    human: impl FnOnce(&T) -> String,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(body) => view(json_out, &body, human).map(|()| ExitCode::SUCCESS),
        Err(error) => Ok(call_error(json_out, &error)),
    }
}

/// A view without a table of its own, for people (lines and tables, never raw JSON; see [`generic`]).
pub(crate) fn pretty<T: Serialize>(view: &T) -> String {
    generic::render(view)
}

/// The `--json` form of a failure: `{"error": {"status", "code", "message", "detail"}}`.
#[derive(Serialize)]
struct ErrorOut<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a tfeco_core::Rejection>,
    /// What to do next, when there is an obvious next step.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

/// What to do next after a failed call, when there is an obvious next step.
pub(crate) fn hint(error: &CallError) -> Option<&'static str> {
    use tfeco_wallet::api::ErrorCode;
    match error {
        CallError::Unreachable(_) => Some(
            "is the node running? start it with `tfeco serve` (or `tfeco demo`), or point --url (TFECO_NODE) at \
             it",
        ),
        CallError::Refused { error, .. } => match error.code {
            ErrorCode::AccountNotFound => {
                Some("an account must be registered first: `tfeco wallet register` (for your keystore's account)")
            }
            ErrorCode::PriceUnavailable => Some(
                "the oracle has no fresh quorum of prices: the guardians submit them (`tfeco guardian price`; on \
                 a development node `tfeco admin price --feed tft_usd|gold_usd_per_oz --price P`)",
            ),
            ErrorCode::BalanceLow => Some("see your balances with `tfeco wallet balance`"),
            ErrorCode::NonceReused => Some("another command of this account was accepted meanwhile: try again"),
            _ => None,
        },
        CallError::Decode(_) => Some("is --url (TFECO_NODE) the address of a tfeco node?"),
    }
}

fn print_error(fields: ErrorFields<'_>) {
    println!("{}", serde_json::to_string(&ErrorOut { error: fields }).unwrap_or_default());
}

/// Prints a failed call (as `{"error": {...}}` with `--json`, else on stderr) and picks the exit code: a
/// refusal by the node exits 3 with its stable code, anything else 4.
pub(crate) fn call_error(json_out: bool, error: &CallError) -> ExitCode {
    match error {
        CallError::Refused { status, error: ErrorBody { code, message, detail } } => {
            if json_out {
                let (status, code) = (Some(*status), code.as_str());
                print_error(ErrorFields {
                    status,
                    code,
                    message,
                    detail: detail.as_deref(),
                    hint: hint(error),
                });
            } else {
                eprintln!("refused ({code}): {message}");
                if let Some(hint) = hint(error) {
                    eprintln!("hint: {hint}");
                }
            }
            ExitCode::from(REFUSED)
        }
        other => {
            if json_out {
                let message = other.to_string();
                print_error(ErrorFields {
                    status: None,
                    code: "unreachable",
                    message: &message,
                    detail: None,
                    hint: hint(other),
                });
            } else {
                eprintln!("error: {other}");
                if let Some(hint) = hint(other) {
                    eprintln!("hint: {hint}");
                }
            }
            ExitCode::from(UNREACHABLE)
        }
    }
}

/// A refusal decided here, before anything is signed (not by the node): printed like the node's, exit 3.
pub(crate) fn refuse(json_out: bool, code: &str, message: &str) -> ExitCode {
    if json_out {
        print_error(ErrorFields { status: None, code, message, detail: None, hint: None });
    } else {
        eprintln!("refused ({code}): {message}");
    }
    ExitCode::from(REFUSED)
}

/// The default human form of an accepted command: its entry and one sentence per event (decimal amounts,
/// ISO-8601 times, short keys; see [`event_line`]); when the answer holds only the first page of many
/// events, a count per kind and where the rest is.
pub(crate) fn accepted(accepted: &TxAccepted) -> String {
    let shown = accepted.events.len() as u64;
    if accepted.events_total > shown {
        let counts: Vec<String> =
            accepted.event_counts.iter().map(|(kind, n)| format!("  {n:>8} {kind}")).collect();
        let next = accepted.next_page.as_deref().unwrap_or("");
        return format!(
            "accepted as entry {}: {} events
{}
(the events themselves: GET {next}, or --json)",
            accepted.seq,
            accepted.events_total,
            counts.join(
                "
"
            )
        );
    }
    let lines: Vec<String> = accepted.events.iter().map(event_line).collect();
    format!("accepted as entry {}\n{}", accepted.seq, lines.join("\n"))
}

/// One event for people: its name, then its fields (`batch cleared: market 1, batch 1, price 0.012, volume
/// 1000, imbalance 0`). Amounts stay the decimal strings of the wire, `{asset, amount}` reads `2.5 TFT`,
/// times (`now`, `at`, `*_at`, `*_until`, `*_start`) read ISO-8601, account keys are shortened.
pub(crate) fn event_line(event: &tfeco_core::Event) -> String {
    let value = serde_json::to_value(event).unwrap_or_default();
    let Some(fields) = value.as_object() else { return value.to_string() };
    let name = fields.get("event").and_then(|v| v.as_str()).unwrap_or("event").replace('_', " ");
    let parts: Vec<String> = fields
        .iter()
        .filter(|(key, _)| key.as_str() != "event")
        .map(|(key, value)| format!("{} {}", key.replace('_', " "), field_text(key, value)))
        .collect();
    if parts.is_empty() {
        format!("  {name}")
    } else {
        format!("  {name}: {}", parts.join(", "))
    }
}

/// `true` for a field that holds unix seconds.
fn is_time_field(key: &str) -> bool {
    key == "now" || key == "at" || key.ends_with("_at") || key.ends_with("_until") || key.ends_with("_start")
}

/// One field's value for people (see [`event_line`]).
pub(crate) fn field_text(key: &str, value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Number(n) if is_time_field(key) => n.as_i64().map_or_else(|| n.to_string(), time::iso),
        Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => short_key(s),
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        Value::Object(map) => match (map.get("amount"), map.get("asset")) {
            (Some(Value::String(amount)), Some(Value::String(asset))) if map.len() == 2 => {
                format!("{amount} {asset}")
            }
            _ => value.to_string(),
        },
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| field_text(key, v)).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// The first event of an accepted command that `pick` selects.
pub(crate) fn find_event<T>(
    accepted: &TxAccepted,
    pick: impl Fn(tfeco_core::Event) -> Option<T>,
) -> Option<T> {
    accepted.events.iter().cloned().find_map(pick)
}

/// An optional value as text (`-` when absent).
pub(crate) fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The name a value has on the wire: a unit variant's snake-case name (`pool_set`, `insufficient_funds`),
/// or the compact JSON of anything else.
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}

/// Basis points as a percentage: 1000 → `10%`, 1250 → `12.5%`.
pub(crate) fn percent(bps: u16) -> String {
    let fraction = format!("{:02}", bps % 100);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}%", bps / 100)
    } else {
        format!("{}.{fraction}%", bps / 100)
    }
}

/// A key shortened for tables: `ab12cd34…`.
pub(crate) fn short_key(key: &impl std::fmt::Display) -> String {
    let key = key.to_string();
    if key.len() > 12 {
        format!("{}…", &key[..8])
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tfeco_core::{CloseReason, Event, PricePolicy, StandingBidId};

    use super::*;

    #[test]
    fn values_read_well() {
        assert_eq!(
            (percent(1000), percent(1250), percent(5)),
            ("10%".into(), "12.5%".into(), "0.05%".into())
        );
        assert_eq!(opt(None::<u32>), "-");
        assert_eq!(opt(Some("1.5")), "1.5");
        assert_eq!(short_key(&"0123456789abcdef0123"), "01234567…");
        let ticked = Event::Ticked { now: 5 };
        let answer = TxAccepted::summarize(7, &[ticked], 100);
        assert_eq!(accepted(&answer), "accepted as entry 7\n  ticked: now 1970-01-01T00:00:05Z");
        assert_eq!(wire_name(&CloseReason::InsufficientFunds), "insufficient_funds");
        assert_eq!(wire_name(&PricePolicy::PoolSet), "pool_set");
    }

    #[test]
    fn events_of_an_answer_decode_as_the_cores() {
        let events = json!([
            { "event": "account_registered", "account": "00".repeat(32) },
            { "event": "standing_bid_posted", "bid_id": 2, "quantity": 2000, "price_month": "2.4", "escrow": "4800" },
            { "event": "transferred", "from": "vault", "to": "01".repeat(32),
                "amount": { "asset": "TFT", "amount": "2.5" } },
        ]);
        let events: Vec<Event> = serde_json::from_value(events).expect("the node's events");
        let answer = TxAccepted::summarize(4, &events, 100);
        let moved = find_event(&answer, |event| match event {
            Event::Transferred { from, amount, .. } => Some((from.to_string(), amount.to_string())),
            _ => None,
        });
        assert_eq!(moved, Some(("vault".to_owned(), "2.5 TFT".to_owned())));
        let posted = find_event(&answer, |event| match event {
            Event::StandingBidPosted { bid_id, escrow, .. } => Some((bid_id, escrow.to_string())),
            _ => None,
        });
        assert_eq!(posted, Some((StandingBidId(2), "4800".to_owned())));
        let cancelled = find_event(&answer, |event| match event {
            Event::OrderCancelled { refunded, .. } => Some(refunded),
            _ => None,
        });
        assert_eq!(cancelled, None);
    }
}
