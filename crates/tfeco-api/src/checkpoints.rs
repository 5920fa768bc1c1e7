//! Guardian checkpoints and the journal read they need (`GET`/`POST /v1/checkpoints`,
//! `POST /v1/checkpoints/{seq}/signatures`, `GET /v1/journal`, `GET /v1/journal/genesis`).
//!
//! A checkpoint is `(seq, journal_hash, state_hash)`: the hash of journal entry `seq` and the core state hash
//! after applying entries 1 to `seq`. A guardian downloads the genesis and the journal, verifies and replays
//! them itself, and signs [`checkpoint_signing_bytes`] with ed25519; a checkpoint is final once the
//! signatures of distinct guardians of the current set reach the guardian threshold. Hashes are 64 hex
//! characters, signatures 128.

use serde::{Deserialize, Serialize};
use tfeco_core::AccountKey;
use utoipa::{IntoParams, ToSchema};

/// The domain tag of a checkpoint signature.
pub const CHECKPOINT_SIGNING_TAG: &[u8] = b"tfeco/v1/checkpoint\0";

/// Most journal entries one `GET /v1/journal` answers.
pub const JOURNAL_PAGE_MAX: u32 = 1_000;

/// The bytes a guardian signs for a checkpoint: [`CHECKPOINT_SIGNING_TAG`], `seq` (u64 little-endian),
/// the journal hash (32 bytes) and the state hash (32 bytes): 92 bytes.
pub fn checkpoint_signing_bytes(seq: u64, journal_hash: &[u8; 32], state_hash: &[u8; 32]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(CHECKPOINT_SIGNING_TAG.len() + 8 + 64);
    bytes.extend_from_slice(CHECKPOINT_SIGNING_TAG);
    bytes.extend_from_slice(&seq.to_le_bytes());
    bytes.extend_from_slice(journal_hash);
    bytes.extend_from_slice(state_hash);
    bytes
}

/// Who proposed a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposedBy {
    /// The node, after a batch that closed a minting period.
    PeriodClose,
    /// The operator, on demand (`POST /v1/checkpoints`).
    Operator,
}

/// One guardian's signature of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckpointSignatureView {
    /// The guardian's key.
    pub guardian: AccountKey,
    /// ed25519 over [`checkpoint_signing_bytes`], 128 hex.
    pub signature: String,
}

/// One checkpoint as the node holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckpointView {
    /// The journal sequence number it covers (entries 1 to `seq`).
    pub seq: u64,
    /// The hash of journal entry `seq`, 64 hex.
    pub journal_hash: String,
    /// The state hash after entries 1 to `seq`, 64 hex.
    pub state_hash: String,
    /// When the node proposed it, ms since the Unix epoch (the node's clock).
    pub timestamp_ms: i64,
    /// Who proposed it.
    pub proposed_by: ProposedBy,
    /// Valid signatures of guardians of the current set.
    pub signatures: u32,
    /// Signatures needed (the guardian threshold).
    pub threshold: u32,
    /// `true` once `signatures >= threshold`: a node refuses to start on a journal that contradicts it.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The signatures the node keeps (of current guardians or not).
    pub signers: Vec<CheckpointSignatureView>,
}

/// `GET /v1/checkpoints`: every checkpoint, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckpointsView {
    /// The journal head's sequence number.
    pub head_seq: u64,
    /// The guardian threshold of the current set.
    pub threshold: u32,
    /// The newest final checkpoint's sequence number, if any.
    pub latest_final: Option<u64>,
    /// The checkpoints, oldest first.
    pub checkpoints: Vec<CheckpointView>,
}

/// The body of `POST /v1/checkpoints/{seq}/signatures`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSignatureRequest {
    /// The guardian's key, 64 hex.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub guardian: String,
    /// ed25519 over [`checkpoint_signing_bytes`] of the node's checkpoint at `seq`, 128 hex.
    #[schema(pattern = "^[0-9a-fA-F]{128}$")]
    pub signature: String,
}

/// Query of `GET /v1/journal`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JournalQuery {
    /// First sequence number (default 1).
    #[param(minimum = 1)]
    pub from: Option<u64>,
    /// Entries per page: 1 to 1,000 (default 1,000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// One journal entry, every field as stored (the inputs of its hash, `docs/journal.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JournalEntryView {
    /// Sequence number (1-based).
    pub seq: u64,
    /// The writer's stamp, ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// The signer's ed25519 key, 64 hex.
    pub signer: String,
    /// The payload, hex: the format byte (3), then the request body's JSON text exactly as signed.
    pub payload: String,
    /// The signature, hex.
    pub signature: String,
    /// The previous entry's hash, 64 hex.
    pub prev_hash: String,
    /// This entry's hash, 64 hex.
    pub hash: String,
}

/// `GET /v1/journal`: a page of entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JournalPage {
    /// The journal head's sequence number when read.
    pub head_seq: u64,
    /// The entries, in order.
    pub entries: Vec<JournalEntryView>,
    /// The `from` of the next page; `null` at the head.
    pub next_from: Option<u64>,
}

/// Query of `GET /v1/journal/stream`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JournalStreamQuery {
    /// First sequence number sent (default 1).
    #[param(minimum = 1)]
    pub from: Option<u64>,
    /// `false`: send the entries up to the journal head at the request (the last line a `head` line), then
    /// close.
    /// Default `true`: then keep following new entries as they are committed.
    pub follow: Option<bool>,
}

/// Seconds between `head` lines of an idle `GET /v1/journal/stream`.
pub const JOURNAL_STREAM_HEARTBEAT_S: u64 = 1;

/// One line of `GET /v1/journal/stream` (`application/x-ndjson`: one JSON object per line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JournalStreamItem {
    /// The next journal entry, in order from `from`, without gaps or repeats.
    Entry(JournalEntryView),
    /// The primary's journal head when last read: after each run of entries and every
    /// [`JOURNAL_STREAM_HEARTBEAT_S`] while idle (a follower's lag is measured against it).
    Head {
        /// The head's sequence number.
        head_seq: u64,
        /// The head entry's timestamp, ms since the Unix epoch (0 for an empty journal).
        timestamp_ms: i64,
    },
}

/// `GET /v1/journal/genesis`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JournalGenesisView {
    /// The genesis exactly as stored (its versioned JSON encoding), hex.
    pub genesis: String,
    /// The root of the hash chain derived from it (entry 1's `prev_hash`), 64 hex.
    pub root_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_bytes_are_tag_seq_and_both_hashes() {
        let bytes = checkpoint_signing_bytes(0x0102, &[7; 32], &[9; 32]);
        assert_eq!(bytes.len(), 20 + 8 + 64);
        assert!(bytes.starts_with(b"tfeco/v1/checkpoint\0"));
        assert_eq!(&bytes[20..28], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[28..60], &[7; 32]);
        assert_eq!(&bytes[60..], &[9; 32]);
    }
}
