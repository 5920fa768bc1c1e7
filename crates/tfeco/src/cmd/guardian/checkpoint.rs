//! `tfeco guardian sign-checkpoint [--seq N]`: a guardian signs a checkpoint only after checking it alone.
//! It downloads the genesis (`GET /v1/journal/genesis`) and the journal up to the checkpoint's seq (`GET
//! /v1/journal`, signed reads by the guardian), verifies every entry hash, link and signature and replays it
//! into a fresh state ([`tfeco_server::checkpoints::audit::audit_journal`]), compares the journal hash and
//! the state hash it computed with the node's checkpoint, and only then signs its own hashes and submits the
//! signature. On any difference it prints both hashes and signs nothing (exit 3,
//! `checkpoint_verification_failed`). The demo's guardians sign through [`verify_and_sign`] too.

use std::process::ExitCode;

use ed25519_dalek::{Signer, SigningKey};
use tfeco_server::checkpoints::audit::{audit_journal, decode_entry, AuditError, Audited};
use tfeco_wallet::api::checkpoints::{
    checkpoint_signing_bytes, CheckpointSignatureRequest, CheckpointView, JournalQuery, JOURNAL_PAGE_MAX,
};
use tfeco_wallet::client::account_of;
use tfeco_wallet::{CallError, Client};

use crate::connect::Session;
use crate::render;

/// Why a guardian did not sign.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignCheckpointError {
    /// A call to the node failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The node has no checkpoint (at this seq).
    #[error("the node has no checkpoint{}", .0.map(|s| format!(" at seq {s}")).unwrap_or_default())]
    NoCheckpoint(Option<u64>),
    /// The downloaded journal does not verify or replay.
    #[error("the journal does not verify: {0}")]
    Audit(#[from] AuditError),
    /// The journal ends before the checkpoint.
    #[error("the node's journal ends at seq {got}, before the checkpoint at seq {seq}")]
    Short {
        /// The checkpoint's seq.
        seq: u64,
        /// The last seq downloaded.
        got: u64,
    },
    /// The hashes computed from the journal are not the checkpoint's.
    #[error(
        "the checkpoint at seq {seq} does not match the journal replayed here:\n  journal hash: node {node_journal}\n  \
                       computed {own_journal}\n  state hash:   node {node_state}\n                computed {own_state}"
    )]
    Mismatch {
        /// The seq.
        seq: u64,
        /// The node's journal hash.
        node_journal: String,
        /// The journal hash computed here.
        own_journal: String,
        /// The node's state hash.
        node_state: String,
        /// The state hash computed here.
        own_state: String,
    },
}

/// Downloads entries 1 to `seq` (pages of [`JOURNAL_PAGE_MAX`], each a signed read by `key`).
async fn download(
    client: &Client,
    key: &SigningKey,
    seq: u64,
) -> Result<Vec<tfeco_journal::Entry>, SignCheckpointError> {
    let mut entries = Vec::new();
    let mut from = 1u64;
    while from <= seq {
        let limit = u32::try_from(seq - from + 1).unwrap_or(JOURNAL_PAGE_MAX).min(JOURNAL_PAGE_MAX);
        let page = client.journal(&JournalQuery { from: Some(from), limit: Some(limit) }, key).await?;
        if page.entries.is_empty() {
            break;
        }
        for view in &page.entries {
            entries.push(decode_entry(view)?);
        }
        from = entries.last().map_or(from, |e| e.seq.saturating_add(1));
    }
    let got = entries.last().map_or(0, |e| e.seq);
    if got < seq {
        return Err(SignCheckpointError::Short { seq, got });
    }
    Ok(entries)
}

/// Checks `checkpoint` against the hashes `audited` computed from the journal.
fn compare(checkpoint: &CheckpointView, audited: &Audited) -> Result<(), SignCheckpointError> {
    let (own_journal, own_state) = (hex::encode(audited.journal_hash), hex::encode(audited.state_hash));
    let same = audited.seq == checkpoint.seq
        && own_journal.eq_ignore_ascii_case(&checkpoint.journal_hash)
        && own_state.eq_ignore_ascii_case(&checkpoint.state_hash);
    if same {
        return Ok(());
    }
    Err(SignCheckpointError::Mismatch {
        seq: checkpoint.seq,
        node_journal: checkpoint.journal_hash.clone(),
        own_journal,
        node_state: checkpoint.state_hash.clone(),
        own_state,
    })
}

/// The node's checkpoint at `seq`, or its newest one.
async fn checkpoint_at(client: &Client, seq: Option<u64>) -> Result<CheckpointView, SignCheckpointError> {
    let list = client.checkpoints().await?;
    let found = match seq {
        Some(seq) => list.checkpoints.into_iter().find(|c| c.seq == seq),
        None => list.checkpoints.into_iter().last(),
    };
    found.ok_or(SignCheckpointError::NoCheckpoint(seq))
}

/// Verifies the node's checkpoint at `seq` (default: its newest) by replaying the node's journal here, then
/// signs the hashes computed here with `key` and submits the signature; the node's answer.
pub(crate) async fn verify_and_sign(
    client: &Client,
    key: &SigningKey,
    seq: Option<u64>,
) -> Result<CheckpointView, SignCheckpointError> {
    let checkpoint = checkpoint_at(client, seq).await?;
    let genesis = client.journal_genesis().await?;
    let genesis_bytes =
        hex::decode(&genesis.genesis).map_err(|_| CallError::Decode("the genesis is not hex".to_owned()))?;
    let mut node_root = [0u8; 32];
    hex::decode_to_slice(&genesis.root_hash, &mut node_root)
        .map_err(|_| CallError::Decode("the root hash is not 64 hex".to_owned()))?;
    let entries = download(client, key, checkpoint.seq).await?;
    let audited =
        tokio::task::spawn_blocking(move || audit_journal(&genesis_bytes, Some(&node_root), &entries))
            .await
            .map_err(|e| CallError::Decode(format!("the replay stopped: {e}")))??;
    compare(&checkpoint, &audited)?;
    let bytes = checkpoint_signing_bytes(audited.seq, &audited.journal_hash, &audited.state_hash);
    let request = CheckpointSignatureRequest {
        guardian: account_of(key).to_hex(),
        signature: hex::encode(key.sign(&bytes).to_bytes()),
    };
    Ok(client.sign_checkpoint(audited.seq, &request).await?)
}

/// Runs `tfeco guardian sign-checkpoint`.
pub(super) async fn run(session: &Session, seq: Option<u64>) -> anyhow::Result<ExitCode> {
    let key = session.unlock()?;
    match verify_and_sign(&session.client, &key, seq).await {
        Ok(view) => {
            if !session.json {
                eprintln!("verified: replayed entries 1 to {} here; the hashes match", view.seq);
            }
            render::view(session.json, &view, render::checkpoints::one)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(SignCheckpointError::Call(error)) => Ok(render::call_error(session.json, &error)),
        Err(error) => Ok(render::refuse(session.json, "checkpoint_verification_failed", &error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfeco_wallet::api::checkpoints::ProposedBy;

    fn view(journal: [u8; 32], state: [u8; 32]) -> CheckpointView {
        CheckpointView {
            seq: 4,
            journal_hash: hex::encode(journal),
            state_hash: hex::encode(state),
            timestamp_ms: 0,
            proposed_by: ProposedBy::Operator,
            signatures: 0,
            threshold: 1,
            is_final: false,
            signers: vec![],
        }
    }

    #[test]
    fn a_checkpoint_is_signed_only_when_both_hashes_match() {
        let audited = Audited { seq: 4, journal_hash: [1; 32], state_hash: [2; 32] };
        assert!(compare(&view([1; 32], [2; 32]), &audited).is_ok());
        let error = compare(&view([1; 32], [3; 32]), &audited).unwrap_err();
        let text = error.to_string();
        assert!(text.contains(&hex::encode([3u8; 32])) && text.contains(&hex::encode([2u8; 32])), "{text}");
        assert!(compare(&view([9; 32], [2; 32]), &audited).is_err());
        assert!(compare(&view([1; 32], [2; 32]), &Audited { seq: 5, ..audited }).is_err());
    }
}
