//! Farming pools for people: the list of pools and one pool with its members and pending signatures.

use std::fmt::Write as _;

use tfeco_core::{FarmId, PricePolicy};
use tfeco_wallet::api::farming_pool::{FarmingPoolDetail, FarmingPoolView, FarmingPoolsView};

use super::{percent, short_key, wire_name};

fn policy_text(policy: &PricePolicy) -> String {
    match policy {
        PricePolicy::PoolSet => "pool sets prices".to_owned(),
        PricePolicy::Range { min_month, max_month } => format!("range {min_month}-{max_month}"),
        other => wire_name(other),
    }
}

fn members_text(members: &[FarmId]) -> String {
    if members.is_empty() {
        "none".to_owned()
    } else {
        members.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }
}

pub(crate) fn pools(view: &FarmingPoolsView) -> String {
    if view.pools.is_empty() {
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
    for p in &view.pools {
        let rules = &p.rules;
        out.push_str(&line([
            &p.id.to_string(),
            &p.name,
            &short_key(&p.owner),
            &percent(rules.fee_bps.get()),
            &policy_text(&rules.price_policy),
            &format!("{} mo", rules.reward_lock_months),
            &percent(rules.exit_quota_bps.get()),
            &members_text(&p.members),
        ]));
    }
    out
}

fn pending_lines(out: &mut String, pool: &FarmingPoolView) {
    for (pending, change) in [(&pool.pending_joins, "join"), (&pool.pending_leaves, "leave")] {
        for p in pending {
            let _ = writeln!(
                out,
                "  pending {change}  farm {}: signed by the {}, awaiting the {}",
                p.farm_id,
                wire_name(&p.signed_by).replace('_', " "),
                wire_name(&p.awaiting).replace('_', " "),
            );
        }
    }
}

pub(crate) fn pool(detail: &FarmingPoolDetail) -> String {
    let p = &detail.pool;
    let rules = &p.rules;
    let mut out = String::new();
    let _ = writeln!(out, "farming pool {} \"{}\"", p.id, p.name);
    let _ = writeln!(out, "  owner         {}", p.owner);
    let _ = writeln!(out, "  fee           {} of the members' farmer share", percent(rules.fee_bps.get()));
    let _ = writeln!(out, "  price policy  {}", policy_text(&rules.price_policy));
    let _ = writeln!(out, "  reward lock   {} month(s)", rules.reward_lock_months);
    let _ =
        writeln!(out, "  exit quota    {} of a member's TFP per round", percent(rules.exit_quota_bps.get()));
    let _ = writeln!(out, "  member farms  {}", members_text(&p.members));
    if !detail.member_nodes.is_empty() {
        let nodes: Vec<String> = detail.member_nodes.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  member nodes  {}", nodes.join(", "));
    }
    pending_lines(&mut out, p);
    out
}

#[cfg(test)]
mod tests {
    use tfeco_core::{AccountKey, FarmingPoolId, PoolRules};
    use tfeco_money::Bps;

    use super::*;

    #[test]
    fn the_pool_table_reads_well() {
        let bps = |v| Bps::new(v).unwrap();
        let price_policy =
            PricePolicy::Range { min_month: "1.5".parse().unwrap(), max_month: "3".parse().unwrap() };
        let pool = FarmingPoolView {
            id: FarmingPoolId(1),
            owner: AccountKey([0x01; 32]),
            name: "P".to_owned(),
            rules: PoolRules {
                fee_bps: bps(1000),
                price_policy,
                reward_lock_months: 6,
                exit_quota_bps: bps(2500),
            },
            members: vec![FarmId(2)],
            pending_joins: vec![],
            pending_leaves: vec![],
        };
        let text = pools(&FarmingPoolsView { pools: vec![pool] });
        assert!(text.contains("range 1.5-3") && text.contains("10%") && text.contains("25%"), "{text}");
        assert_eq!(pools(&FarmingPoolsView { pools: vec![] }), "no farming pools.\n");
    }
}
