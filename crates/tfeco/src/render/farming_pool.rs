//! Farming pools for people: the list of pools and one pool with its members and pending signatures.

use std::fmt::Write as _;

use serde_json::Value;

use super::{list, percent, short_key, text};

fn policy_text(policy: &Value) -> String {
    match policy {
        Value::String(s) if s == "pool_set" => "pool sets prices".to_owned(),
        Value::String(s) => s.clone(),
        Value::Object(map) => match map.get("range") {
            Some(range) => format!("range {}-{}", text(&range["min_month"]), text(&range["max_month"])),
            None => policy.to_string(),
        },
        other => other.to_string(),
    }
}

fn members_text(pool: &Value) -> String {
    let members: Vec<String> = list(&pool["members"]).iter().map(text).collect();
    if members.is_empty() {
        "none".to_owned()
    } else {
        members.join(", ")
    }
}

pub(crate) fn pools(value: &Value) -> String {
    let pools = list(&value["pools"]);
    if pools.is_empty() {
        return "no farming pools.\n".to_owned();
    }
    let mut out = String::new();
    let line = |cells: [&str; 8]| {
        let [id, name, owner, fee, policy, lock, quota, members] = cells;
        format!("{id:>4}  {name:<20} {owner:<10} {fee:>6}  {policy:<18} {lock:>11} {quota:>10}  {members}\n")
    };
    out.push_str(&line([
        "pool",
        "name",
        "owner",
        "fee",
        "price policy",
        "reward lock",
        "exit quota",
        "member farms",
    ]));
    for p in pools {
        let rules = &p["rules"];
        out.push_str(&line([
            &text(&p["id"]),
            &text(&p["name"]),
            &short_key(&p["owner"]),
            &percent(&rules["fee_bps"]),
            &policy_text(&rules["price_policy"]),
            &format!("{} mo", text(&rules["reward_lock_months"])),
            &percent(&rules["exit_quota_bps"]),
            &members_text(p),
        ]));
    }
    out
}

pub(crate) fn pool(p: &Value) -> String {
    let rules = &p["rules"];
    let mut out = String::new();
    let _ = writeln!(out, "farming pool {} \"{}\"", text(&p["id"]), text(&p["name"]));
    let _ = writeln!(out, "  owner         {}", text(&p["owner"]));
    let _ = writeln!(out, "  fee           {} of the members' farmer share", percent(&rules["fee_bps"]));
    let _ = writeln!(out, "  price policy  {}", policy_text(&rules["price_policy"]));
    let _ = writeln!(out, "  reward lock   {} month(s)", text(&rules["reward_lock_months"]));
    let _ =
        writeln!(out, "  exit quota    {} of a member's TFP per round", percent(&rules["exit_quota_bps"]));
    let _ = writeln!(out, "  member farms  {}", members_text(p));
    let nodes: Vec<String> = list(&p["member_nodes"]).iter().map(text).collect();
    if !nodes.is_empty() {
        let _ = writeln!(out, "  member nodes  {}", nodes.join(", "));
    }
    for (field, change) in [("pending_joins", "join"), ("pending_leaves", "leave")] {
        for pending in list(&p[field]) {
            let _ = writeln!(
                out,
                "  pending {change}  farm {}: signed by the {}, awaiting the {}",
                text(&pending["farm_id"]),
                text(&pending["signed_by"]).replace('_', " "),
                text(&pending["awaiting"]).replace('_', " "),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_pool_table_reads_well() {
        let list = json!({ "pools": [{ "id": 1, "name": "P", "owner": "0123456789abcdef0123", "members": [2],
            "rules": { "fee_bps": 1000, "price_policy": { "range": { "min_month": "1.5", "max_month": "3" } },
                "reward_lock_months": 6, "exit_quota_bps": 2500 } }] });
        let text = pools(&list);
        assert!(text.contains("range 1.5-3") && text.contains("10%") && text.contains("25%"), "{text}");
        assert_eq!(pools(&json!({ "pools": [] })), "no farming pools.\n");
    }
}
