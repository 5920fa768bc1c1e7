//! A view without a renderer of its own, for people: scalars as `name: value` lines, lists of records as
//! aligned tables, nested records indented; amounts stay the wire's decimal strings, times read ISO-8601,
//! account keys are shortened (the same field rules as the events, [`super::field_text`]). Used instead of
//! raw JSON; `--json` prints the view itself.

use serde::Serialize;
use serde_json::{Map, Value};

/// The view as lines and tables (see the module doc).
pub(crate) fn render<T: Serialize>(view: &T) -> String {
    let value = serde_json::to_value(view).unwrap_or_default();
    let mut out = Vec::new();
    match &value {
        Value::Object(map) => object(map, "", &mut out),
        Value::Array(rows) => out.extend(table(rows, "")),
        other => out.push(super::field_text("", other)),
    }
    out.join("\n")
}

/// A record's fields, `indent`ed.
fn object(map: &Map<String, Value>, indent: &str, out: &mut Vec<String>) {
    for (key, value) in map {
        let name = key.replace('_', " ");
        match value {
            Value::Array(rows) if rows.is_empty() => out.push(format!("{indent}{name}: (none)")),
            Value::Array(rows) if rows.iter().any(Value::is_object) => {
                out.push(format!("{indent}{name}:"));
                out.extend(table(rows, &format!("{indent}  ")));
            }
            Value::Object(inner) if !is_amount(inner) => {
                out.push(format!("{indent}{name}:"));
                object(inner, &format!("{indent}  "), out);
            }
            other => out.push(format!("{indent}{name}: {}", super::field_text(key, other))),
        }
    }
}

/// `{asset, amount}`: read as one value (`2.5 TFT`).
fn is_amount(map: &Map<String, Value>) -> bool {
    map.len() == 2 && map.contains_key("asset") && map.contains_key("amount")
}

/// Rows of records as an aligned table (columns in the records' key order); `(none)` when empty.
fn table(rows: &[Value], indent: &str) -> Vec<String> {
    if rows.is_empty() {
        return vec![format!("{indent}(none)")];
    }
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        if let Value::Object(map) = row {
            for key in map.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    let cell = |row: &Value, key: &str| match row.get(key) {
        Some(value) => super::field_text(key, value),
        None if row.is_object() => String::new(),
        None => super::field_text(key, row),
    };
    let cells: Vec<Vec<String>> =
        rows.iter().map(|row| columns.iter().map(|c| cell(row, c)).collect()).collect();
    let headers: Vec<String> = columns.iter().map(|c| c.replace('_', " ")).collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            cells.iter().map(|r| r[i].chars().count()).chain([h.chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let line = |values: &[String]| {
        let padded: Vec<String> =
            values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}", w = *w)).collect();
        format!("{indent}{}", padded.join("  ").trim_end())
    };
    std::iter::once(line(&headers)).chain(cells.iter().map(|r| line(r))).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn views_read_as_lines_and_tables() {
        let view = json!({
            "round": 3,
            "closes_at": 1_761_955_200,
            "pool": { "usdc": "12.5" },
            "positions": [
                { "id": 1, "owner": "ab".repeat(32), "tfp": "100", "opened_at": 1_761_955_200 },
                { "id": 22, "owner": "cd".repeat(32), "tfp": "7.5", "opened_at": 1_761_958_800 },
            ],
            "bids": [],
        });
        let text = render(&view);
        assert!(text.ends_with("round: 3"), "{text}");
        assert!(text.contains("closes at: 2025-11-01T00:00:00Z"), "{text}");
        assert!(text.contains("pool:\n  usdc: 12.5"), "{text}");
        assert!(text.contains("positions:\n  id  opened at             owner      tfp\n"), "{text}");
        assert!(text.contains("  22  2025-11-01T01:00:00Z  cdcdcdcd…  7.5"), "{text}");
        assert!(text.contains("bids: (none)"), "{text}");
        assert!(!text.contains('{'), "no raw JSON: {text}");
    }
}
