//! Guardian checkpoints for people: one line per checkpoint (seq, signatures of the threshold, final or
//! pending, who proposed it, short hashes).

use tfeco_wallet::api::checkpoints::{CheckpointView, CheckpointsView, ProposedBy};

/// One checkpoint in full.
pub(crate) fn one(view: &CheckpointView) -> String {
    let status = if view.is_final { "FINAL" } else { "pending" };
    let mut out = format!(
        "checkpoint at entry {}: {status}, {}/{} guardian signatures ({})\n",
        view.seq,
        view.signatures,
        view.threshold,
        proposer(view.proposed_by)
    );
    out.push_str(&format!("journal hash  {}\n", view.journal_hash));
    out.push_str(&format!("state hash    {}\n", view.state_hash));
    for signer in &view.signers {
        out.push_str(&format!("signed by     {}\n", signer.guardian));
    }
    out
}

fn proposer(by: ProposedBy) -> &'static str {
    match by {
        ProposedBy::PeriodClose => "minting period close",
        ProposedBy::Operator => "operator",
    }
}

/// Every checkpoint, oldest first.
pub(crate) fn list(view: &CheckpointsView) -> String {
    let mut out = format!("journal head entry {}; guardian threshold {}\n", view.head_seq, view.threshold);
    if view.checkpoints.is_empty() {
        out.push_str("no checkpoint yet (one follows each minting period close; `tfeco admin checkpoint` proposes one now)\n");
        return out;
    }
    out.push_str(&format!(
        "{:>10}  {:<8}  {:>10}  {:<20}  {:<16}  {:<16}\n",
        "entry", "status", "signatures", "proposed by", "journal hash", "state hash"
    ));
    for c in &view.checkpoints {
        out.push_str(&format!(
            "{:>10}  {:<8}  {:>10}  {:<20}  {:<16}  {:<16}\n",
            c.seq,
            if c.is_final { "final" } else { "pending" },
            format!("{}/{}", c.signatures, c.threshold),
            proposer(c.proposed_by),
            c.journal_hash.get(..16).unwrap_or(&c.journal_hash),
            c.state_hash.get(..16).unwrap_or(&c.state_hash),
        ));
    }
    out
}
