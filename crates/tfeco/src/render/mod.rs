//! Human and JSON output: writing to stdout (a closed pipe is not an error), the answer of a read or a
//! submitted command, refusals and their exit codes, and the value formatting every table shares. One
//! module per command group renders the node's views for people.
//!
//! Exit codes: 0 success; 1 bad input or a local failure (from `main`); 2 a check failed (`verify`,
//! `demo`); 3 refused (by the node, with its stable code, or by a local check before signing); 4 the node
//! could not be reached or answered garbage.

pub(crate) mod capacity;
pub(crate) mod exchange;
pub(crate) mod farming_pool;
pub(crate) mod governance;
pub(crate) mod mint;
pub(crate) mod wallet;

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{json, Value};
use tfeco_wallet::ClientError;

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

/// Prints `value` as compact JSON (`--json`) or through `human`.
pub(crate) fn value(
    json_out: bool,
    value: &Value,
    human: impl FnOnce(&Value) -> String,
) -> anyhow::Result<()> {
    if json_out {
        emit_line(&value.to_string())
    } else {
        emit_line(&human(value))
    }
}

/// Prints the answer of a read: the value (see [`value`]) and exit 0, or the failure and its exit code.
pub(crate) fn answer(
    json_out: bool,
    result: Result<Value, ClientError>,
    human: impl FnOnce(&Value) -> String,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(body) => value(json_out, &body, human).map(|()| ExitCode::SUCCESS),
        Err(error) => Ok(client_error(json_out, &error)),
    }
}

/// Pretty JSON, for views without a table of their own.
pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Prints a failed call (as `{"error": {...}}` with `--json`, else on stderr) and picks the exit code: a
/// refusal by the node exits 3 with its stable code, anything else 4.
pub(crate) fn client_error(json_out: bool, error: &ClientError) -> ExitCode {
    match error {
        ClientError::Api { status, code, message } => {
            if json_out {
                println!("{}", json!({ "error": { "status": status, "code": code, "message": message } }));
            } else {
                eprintln!("refused ({code}): {message}");
            }
            ExitCode::from(REFUSED)
        }
        other => {
            if json_out {
                println!("{}", json!({ "error": { "code": "unreachable", "message": other.to_string() } }));
            } else {
                eprintln!("error: {other}");
            }
            ExitCode::from(UNREACHABLE)
        }
    }
}

/// A refusal decided here, before anything is signed (not by the node): printed like the node's, exit 3.
pub(crate) fn refuse(json_out: bool, code: &str, message: &str) -> ExitCode {
    if json_out {
        println!("{}", json!({ "error": { "code": code, "message": message } }));
    } else {
        eprintln!("refused ({code}): {message}");
    }
    ExitCode::from(REFUSED)
}

/// The default human form of an accepted command: its entry and one line per event.
pub(crate) fn accepted(seq: u64, events: &Value) -> String {
    let lines: Vec<String> = list(events).iter().map(Value::to_string).collect();
    format!("accepted as entry {seq}\n{}", lines.join("\n"))
}

/// A JSON string or number as text (`-` when absent or null).
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// The elements of a JSON array (none when it is not one).
pub(crate) fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Basis points as a percentage: 1000 → `10%`, 1250 → `12.5%`.
pub(crate) fn percent(bps: &Value) -> String {
    let Some(bps) = bps.as_u64() else { return text(bps) };
    let fraction = format!("{:02}", bps % 100);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}%", bps / 100)
    } else {
        format!("{}.{fraction}%", bps / 100)
    }
}

/// A key shortened for tables: `ab12cd34…`.
pub(crate) fn short_key(key: &Value) -> String {
    let key = text(key);
    if key.len() > 12 {
        format!("{}…", &key[..8])
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_well() {
        assert_eq!(
            (percent(&json!(1000)), percent(&json!(1250)), percent(&json!(5))),
            ("10%".into(), "12.5%".into(), "0.05%".into())
        );
        assert_eq!(text(&Value::Null), "-");
        assert_eq!(text(&json!("1.5")), "1.5");
        assert_eq!(short_key(&json!("0123456789abcdef0123")), "01234567…");
        assert_eq!(accepted(7, &json!([{ "event": "x" }])), "accepted as entry 7\n{\"event\":\"x\"}");
    }
}
