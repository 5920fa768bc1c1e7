//! Governance for people: parameter changes with their status (from `GET /v1/param-changes`).

use serde_json::Value;

use super::list;

/// One line per parameter change: id, status, kind, signatures or when it takes effect, the update.
pub(crate) fn changes(view: &Value) -> String {
    let changes = list(&view["changes"]);
    if changes.is_empty() {
        return "no parameter change".to_owned();
    }
    changes
        .iter()
        .map(|c| {
            let when = match c["status"].as_str() {
                Some("pending") => format!("{}/{} signatures", c["signatures"], c["threshold"]),
                Some("approved") => format!("effective at {}", c["effective_at"]),
                _ => format!("applied at {}", c["applied_at"]),
            };
            format!(
                "change {:>3}  {:<9} {:<15} {}  {}",
                c["id"],
                c["status"].as_str().unwrap_or("?"),
                c["kind"].as_str().unwrap_or("?"),
                when,
                c["update"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_say_where_they_stand() {
        let view = json!({ "changes": [
            { "id": 1, "status": "pending", "kind": "param_delay", "signatures": 2, "threshold": 6,
              "update": { "param_delay": 60 } },
            { "id": 2, "status": "approved", "kind": "minting", "effective_at": 99, "update": {} }] });
        let text = changes(&view);
        assert!(text.contains("change 1  pending   param_delay     2/6 signatures"), "{text}");
        assert!(text.contains("effective at 99"), "{text}");
        assert_eq!(changes(&json!({ "changes": [] })), "no parameter change");
    }
}
