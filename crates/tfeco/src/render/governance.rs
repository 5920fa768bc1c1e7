//! Governance for people: parameter changes with their status (from `GET /v1/param-changes`).

use tfeco_wallet::api::governance::{ParamChangeStatus, ParamChangesView};

use super::{opt, wire_name};

/// One line per parameter change: id, status, kind, signatures or when it takes effect, the update.
pub(crate) fn changes(view: &ParamChangesView) -> String {
    if view.changes.is_empty() {
        return "no parameter change".to_owned();
    }
    view.changes
        .iter()
        .map(|c| {
            let when = match c.status {
                ParamChangeStatus::Pending => format!("{}/{} signatures", c.signatures, c.threshold),
                ParamChangeStatus::Approved => format!("effective at {}", opt(c.effective_at)),
                ParamChangeStatus::Applied => format!("applied at {}", opt(c.applied_at)),
            };
            format!(
                "change {}  {:<9} {:<15} {}  {}",
                c.id,
                wire_name(&c.status),
                c.kind,
                when,
                serde_json::to_string(&c.update).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use tfeco_core::{AccountKey, ParamChangeId, ParamUpdate};
    use tfeco_wallet::api::governance::ParamChangeView;

    use super::*;

    fn change(id: u64, status: ParamChangeStatus, kind: &str, update: ParamUpdate) -> ParamChangeView {
        ParamChangeView {
            id: ParamChangeId(id),
            status,
            kind: kind.to_owned(),
            update,
            proposed_by: AccountKey([1; 32]),
            proposed_at: 0,
            signers: vec![],
            signatures: 2,
            threshold: 6,
            approved_at: None,
            effective_at: (status == ParamChangeStatus::Approved).then_some(99),
            applied_at: None,
        }
    }

    #[test]
    fn changes_say_where_they_stand() {
        let changes = vec![
            change(1, ParamChangeStatus::Pending, "param_delay", ParamUpdate::ParamDelay(60)),
            change(2, ParamChangeStatus::Approved, "minting", ParamUpdate::MintingEnabled(true)),
        ];
        let view = ParamChangesView { now: 0, threshold: 6, param_delay_s: 60, changes };
        let text = super::changes(&view);
        assert!(
            text.contains("change 1  pending   param_delay     2/6 signatures  {\"param_delay\":60}"),
            "{text}"
        );
        assert!(text.contains("effective at 99"), "{text}");
        let empty = ParamChangesView { now: 0, threshold: 6, param_delay_s: 60, changes: vec![] };
        assert_eq!(super::changes(&empty), "no parameter change");
    }
}
