//! A guardian's own check of a journal before signing a checkpoint: from the genesis bytes and the entries
//! (as downloaded from `GET /v1/journal/genesis` and `GET /v1/journal`), recompute every entry hash
//! ([`tfeco_journal::EntryRef::compute_hash`]), check the `prev_hash` links from the genesis root
//! ([`super::chain_root`]) and the sequence numbers, then replay the entries into a fresh core state with
//! every ed25519 signature verified ([`crate::replica::replay_into`] with `verify_signatures`, over a
//! [`MemoryJournal`] holding them). The result is the journal hash and the state hash a checkpoint at the
//! last entry must carry; nothing the node says about them is trusted.

use tfeco_api::checkpoints::JournalEntryView;
use tfeco_core::{Genesis, State};
use tfeco_journal::{Entry, EntryHash, Journal, MemoryJournal, NewEntry};

use crate::replica::{replay_into, ReplayOptions, ReplicaError};

/// What a guardian computed from the journal itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audited {
    /// The last entry's seq.
    pub seq: u64,
    /// The last entry's hash (recomputed).
    pub journal_hash: EntryHash,
    /// The state hash after replaying entries 1 to `seq` (raw bytes).
    pub state_hash: [u8; 32],
}

/// Why a downloaded journal is not one to sign a checkpoint of.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The genesis does not decode.
    #[error("the genesis does not decode: {0}")]
    Genesis(#[from] tfeco_core::FormatError),
    /// The node's chain root is not the one its genesis gives.
    #[error("the node's chain root {found} is not {expected}, the root of its genesis")]
    Root {
        /// The root of the genesis bytes (hex).
        expected: String,
        /// The node's (hex).
        found: String,
    },
    /// A field of an entry is not hex of the right length.
    #[error("entry {seq}: {field} is not valid hex of the right length")]
    Malformed {
        /// The entry's seq as given.
        seq: u64,
        /// The field.
        field: &'static str,
    },
    /// No entry to check.
    #[error("the journal has no entry up to the checkpoint")]
    Empty,
    /// Sequence numbers are not 1, 2, 3, ...
    #[error("expected entry {expected}, got {found}")]
    Gap {
        /// The expected seq.
        expected: u64,
        /// The seq given.
        found: u64,
    },
    /// An entry's `prev_hash` is not the previous entry's hash (or the genesis root for entry 1).
    #[error("entry {seq}: prev_hash does not link to the previous entry")]
    ChainBroken {
        /// The seq.
        seq: u64,
    },
    /// An entry's hash does not recompute from its fields.
    #[error("entry {seq}: the hash does not recompute from its fields")]
    HashMismatch {
        /// The seq.
        seq: u64,
    },
    /// A payload does not decode, a signature does not verify, a command is rejected, or an invariant fails.
    #[error("replay: {0}")]
    Replay(#[from] ReplicaError),
}

fn fixed<const N: usize>(text: &str, seq: u64, field: &'static str) -> Result<[u8; N], AuditError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| AuditError::Malformed { seq, field })?;
    Ok(out)
}

/// Decodes one downloaded entry (hex fields) into an [`Entry`].
///
/// Errors: [`AuditError::Malformed`] naming the field.
pub fn decode_entry(view: &JournalEntryView) -> Result<Entry, AuditError> {
    let seq = view.seq;
    let bytes = |text: &str, field| hex::decode(text).map_err(|_| AuditError::Malformed { seq, field });
    Ok(Entry {
        seq,
        timestamp_ms: view.timestamp_ms,
        signer: fixed(&view.signer, seq, "signer")?,
        payload: bytes(&view.payload, "payload")?,
        signature: bytes(&view.signature, "signature")?,
        prev_hash: fixed(&view.prev_hash, seq, "prev_hash")?,
        hash: fixed(&view.hash, seq, "hash")?,
    })
}

/// Checks the chain of `entries` (seq 1, 2, ...; links from the root of `genesis_bytes`; every hash
/// recomputed) and returns the last hash.
fn check_chain(genesis_bytes: &[u8], entries: &[Entry]) -> Result<EntryHash, AuditError> {
    let mut prev = super::chain_root(genesis_bytes);
    let mut expected = 1u64;
    for entry in entries {
        if entry.seq != expected {
            return Err(AuditError::Gap { expected, found: entry.seq });
        }
        if entry.prev_hash != prev {
            return Err(AuditError::ChainBroken { seq: entry.seq });
        }
        if entry.view().compute_hash() != entry.hash {
            return Err(AuditError::HashMismatch { seq: entry.seq });
        }
        prev = entry.hash;
        expected = expected.saturating_add(1);
    }
    Ok(prev)
}

/// Verifies and replays the journal `entries` (from seq 1) of the genesis `genesis_bytes`: the chain
/// ([`AuditError::Gap`], [`AuditError::ChainBroken`], [`AuditError::HashMismatch`]), then every payload,
/// signature and command by replay into a fresh state ([`AuditError::Replay`]). `node_root`, when given, is
/// the root the node states for its genesis ([`AuditError::Root`] when it differs).
pub fn audit_journal(
    genesis_bytes: &[u8],
    node_root: Option<&EntryHash>,
    entries: &[Entry],
) -> Result<Audited, AuditError> {
    let genesis = Genesis::decode(genesis_bytes)?;
    let root = super::chain_root(genesis_bytes);
    if let Some(found) = node_root.filter(|found| **found != root) {
        return Err(AuditError::Root { expected: hex::encode(root), found: hex::encode(found) });
    }
    let last = entries.last().ok_or(AuditError::Empty)?;
    let journal_hash = check_chain(genesis_bytes, entries)?;
    let mut journal = MemoryJournal::new();
    journal.set_genesis(genesis_bytes).map_err(ReplicaError::from)?;
    let batch: Vec<NewEntry> = entries
        .iter()
        .map(|e| NewEntry {
            timestamp_ms: e.timestamp_ms,
            signer: e.signer,
            payload: e.payload.clone(),
            signature: e.signature.clone(),
        })
        .collect();
    let head = journal.append(&batch).map_err(ReplicaError::from)?;
    debug_assert_eq!(head.hash, journal_hash, "the same chain, recomputed by the journal's own code");
    let state = replay_into(State::new(genesis), &journal, ReplayOptions { verify_signatures: true })?;
    Ok(Audited { seq: last.seq, journal_hash, state_hash: super::state_hash_bytes(&state) })
}
