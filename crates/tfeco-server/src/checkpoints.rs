//! Guardian checkpoints (issue 11, item 4): `(seq, journal_hash, state_hash)`, the hash of journal entry
//! `seq` and the core state hash after entries 1 to `seq`, signed by guardians who replayed the journal
//! themselves ([`audit`]). They are about the journal, which the core does not know, so they are not core
//! commands: the node keeps them as files, `DIR/checkpoints/checkpoint-<seq, 20 digits>.json`, each written
//! atomically (temporary file, fsync, rename, fsync of the directory).
//!
//! A checkpoint is *final* when valid signatures of distinct guardians of the current guardian set (the
//! state's `Params::guardians`) reach `Params::guardian_threshold`. A final checkpoint is what lets anyone
//! outside the operator detect a rollback: [`CheckpointStore::check_journal`] refuses a journal shorter than
//! a final checkpoint or whose entry at its seq has another hash, and [`CheckpointStore::check_state`] a
//! state hash that differs at its seq.
//!
//! Signatures: ed25519 (strict, RFC 8032) over [`tfeco_api::checkpoints::checkpoint_signing_bytes`]. The
//! store is read-only until something is added: opening it never creates, changes or deletes a file (so
//! `tfeco verify` may open it).

pub mod audit;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tfeco_api::checkpoints::{
    checkpoint_signing_bytes, CheckpointSignatureView, CheckpointView, CheckpointsView, ProposedBy,
};
use tfeco_core::{AccountKey, Params, State};
use tfeco_journal::{EntryHash, Head};

use crate::replica::{Replica, ReplicaError};

/// The sub-directory of the data directory that holds the checkpoints.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// The root of the hash chain of a journal with this genesis: entry 1's `prev_hash`.
pub fn chain_root(genesis_bytes: &[u8]) -> [u8; 32] {
    tfeco_journal::genesis_root(genesis_bytes)
}

/// The guardians whose signatures count and how many are needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardianSet {
    /// The guardian keys.
    pub guardians: Vec<AccountKey>,
    /// Distinct valid signatures needed.
    pub threshold: u32,
}

impl GuardianSet {
    /// The set of `params` (the state's governance parameters): `guardians` and `guardian_threshold()`.
    pub fn of(params: &Params) -> Self {
        GuardianSet { guardians: params.guardians.clone(), threshold: params.guardian_threshold() }
    }

    /// `true` when `key` is in the set.
    pub fn contains(&self, key: &AccountKey) -> bool {
        self.guardians.contains(key)
    }
}

/// One guardian's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardianSignature {
    /// The guardian's key.
    pub guardian: AccountKey,
    /// ed25519 over the checkpoint's signing bytes.
    pub signature: [u8; 64],
}

/// A checkpoint as the node keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The journal sequence number it covers (entries 1 to `seq`).
    pub seq: u64,
    /// The hash of journal entry `seq`.
    pub journal_hash: EntryHash,
    /// The raw state hash (blake3, `State::state_hash` decoded) after entries 1 to `seq`.
    pub state_hash: [u8; 32],
    /// When the node proposed it, ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// Who proposed it.
    pub proposed_by: ProposedBy,
    /// Signatures that verify over this checkpoint, one per guardian key, in arrival order.
    pub signatures: Vec<GuardianSignature>,
}

impl Checkpoint {
    /// The bytes guardians sign ([`checkpoint_signing_bytes`]).
    pub fn signing_bytes(&self) -> Vec<u8> {
        checkpoint_signing_bytes(self.seq, &self.journal_hash, &self.state_hash)
    }

    /// Strict ed25519 verification of `signature` by `guardian` over this checkpoint.
    pub fn verifies(&self, guardian: &AccountKey, signature: &[u8]) -> bool {
        tfeco_core::request::verify_strictly(guardian, &self.signing_bytes(), signature).is_ok()
    }

    /// Signatures of distinct guardians of `set` (every kept signature verifies).
    pub fn valid_signatures(&self, set: &GuardianSet) -> u32 {
        let mut seen: Vec<&AccountKey> = Vec::new();
        for signature in &self.signatures {
            if set.contains(&signature.guardian) && !seen.contains(&&signature.guardian) {
                seen.push(&signature.guardian);
            }
        }
        u32::try_from(seen.len()).unwrap_or(u32::MAX)
    }

    /// `true` when the valid signatures of `set` reach its threshold.
    pub fn is_final(&self, set: &GuardianSet) -> bool {
        self.valid_signatures(set) >= set.threshold.max(1)
    }

    /// The API view against `set`.
    pub fn view(&self, set: &GuardianSet) -> CheckpointView {
        CheckpointView {
            seq: self.seq,
            journal_hash: hex::encode(self.journal_hash),
            state_hash: hex::encode(self.state_hash),
            timestamp_ms: self.timestamp_ms,
            proposed_by: self.proposed_by,
            signatures: self.valid_signatures(set),
            threshold: set.threshold,
            is_final: self.is_final(set),
            signers: self
                .signatures
                .iter()
                .map(|s| CheckpointSignatureView {
                    guardian: s.guardian,
                    signature: hex::encode(s.signature),
                })
                .collect(),
        }
    }
}

/// Why a checkpoint operation failed, or why a journal contradicts a final checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A checkpoint file does not parse, or its content does not match its name.
    #[error(
        "{path}: damaged checkpoint file ({reason}); restore it from a guardian's copy (`GET /v1/checkpoints` \
         of another node, or the guardians' records) or move it away to start without it"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The journal ends before a final checkpoint: entries signed by the guardians are missing (rollback).
    #[error(
        "the journal ends at seq {head_seq}, before the checkpoint at seq {seq} signed by the guardians' \
         threshold: acknowledged history is missing (rollback); restore the journal from a backup that reaches \
         seq {seq}"
    )]
    Rollback {
        /// The final checkpoint's seq.
        seq: u64,
        /// The journal head's seq.
        head_seq: u64,
    },
    /// The journal's entry at a final checkpoint's seq has another hash: the history was rewritten.
    #[error(
        "journal entry {seq} has hash {found}, but the guardians signed {expected} for it: this journal is not \
         the history they checked"
    )]
    JournalMismatch {
        /// The seq.
        seq: u64,
        /// The signed journal hash (hex).
        expected: String,
        /// The journal's hash at `seq` (hex), or `missing`.
        found: String,
    },
    /// The state after a final checkpoint's seq has another hash.
    #[error("the state after entry {seq} has hash {found}, but the guardians signed {expected}")]
    StateMismatch {
        /// The seq.
        seq: u64,
        /// The signed state hash (hex).
        expected: String,
        /// The state hash found (hex).
        found: String,
    },
    /// No checkpoint at this seq.
    #[error("no checkpoint at seq {0}")]
    NotFound(u64),
    /// A checkpoint exists at this seq with other hashes.
    #[error("a checkpoint at seq {seq} already exists with other hashes")]
    Conflict {
        /// The seq.
        seq: u64,
    },
    /// The key is not a guardian of the current set.
    #[error("{0} is not a guardian of the current set")]
    NotGuardian(AccountKey),
    /// The signature does not verify over the checkpoint's hashes.
    #[error("the signature does not verify for this guardian over the checkpoint at seq {seq}")]
    BadSignature {
        /// The seq.
        seq: u64,
    },
    /// The guardian already signed this checkpoint.
    #[error("{guardian} already signed the checkpoint at seq {seq}")]
    Duplicate {
        /// The seq.
        seq: u64,
        /// The guardian.
        guardian: AccountKey,
    },
    /// Reading the journal failed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

/// A checkpoint file, as JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointFile {
    seq: u64,
    journal_hash: String,
    state_hash: String,
    timestamp_ms: i64,
    proposed_by: ProposedBy,
    signatures: Vec<SignatureFile>,
}

/// One signature in a checkpoint file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    guardian: String,
    signature: String,
}

/// The file name of the checkpoint at `seq`.
pub fn file_name(seq: u64) -> String {
    format!("checkpoint-{seq:020}.json")
}

/// The seq in a checkpoint file name, if `name` is one.
fn seq_of_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("checkpoint-")?.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
}

fn hash32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok().map(|()| out)
}

/// Parses a checkpoint file; a signature that does not verify is dropped with a warning.
fn parse_file(path: &Path, seq: u64, bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let damaged = |reason: String| CheckpointError::Damaged { path: path.to_owned(), reason };
    let file: CheckpointFile = serde_json::from_slice(bytes).map_err(|e| damaged(e.to_string()))?;
    if file.seq != seq {
        return Err(damaged(format!("it holds seq {} under the name of seq {seq}", file.seq)));
    }
    let journal_hash =
        hash32(&file.journal_hash).ok_or_else(|| damaged("journal_hash: not 64 hex".into()))?;
    let state_hash = hash32(&file.state_hash).ok_or_else(|| damaged("state_hash: not 64 hex".into()))?;
    let mut checkpoint = Checkpoint {
        seq,
        journal_hash,
        state_hash,
        timestamp_ms: file.timestamp_ms,
        proposed_by: file.proposed_by,
        signatures: Vec::with_capacity(file.signatures.len()),
    };
    for signature in file.signatures {
        let guardian = signature.guardian.parse::<AccountKey>().ok();
        let mut bytes = [0u8; 64];
        let decoded = hex::decode_to_slice(&signature.signature, &mut bytes).is_ok();
        match guardian {
            Some(guardian)
                if decoded
                    && checkpoint.verifies(&guardian, &bytes)
                    && !checkpoint.signatures.iter().any(|s| s.guardian == guardian) =>
            {
                checkpoint.signatures.push(GuardianSignature { guardian, signature: bytes });
            }
            _ => tracing::warn!(
                path = %path.display(),
                guardian = %signature.guardian,
                "dropping a checkpoint signature that does not verify (or repeats a guardian)"
            ),
        }
    }
    Ok(checkpoint)
}

/// The JSON of a checkpoint file.
fn encode_file(checkpoint: &Checkpoint) -> Vec<u8> {
    let file = CheckpointFile {
        seq: checkpoint.seq,
        journal_hash: hex::encode(checkpoint.journal_hash),
        state_hash: hex::encode(checkpoint.state_hash),
        timestamp_ms: checkpoint.timestamp_ms,
        proposed_by: checkpoint.proposed_by,
        signatures: checkpoint
            .signatures
            .iter()
            .map(|s| SignatureFile { guardian: s.guardian.to_hex(), signature: hex::encode(s.signature) })
            .collect(),
    };
    serde_json::to_vec_pretty(&file).expect("a checkpoint always serializes to JSON")
}

/// Writes `bytes` to `dir/name` atomically: a temporary file in `dir`, fsync, rename over the name, fsync of
/// `dir`. A crash leaves the old file or the new one, never a mix (a stray temporary file is ignored).
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), CheckpointError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CheckpointError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut temp =
        tempfile::Builder::new().prefix(".checkpoint-").suffix(".tmp").tempfile_in(dir).map_err(io(dir))?;
    temp.write_all(bytes).map_err(io(temp.path()))?;
    temp.as_file().sync_all().map_err(io(temp.path()))?;
    let target = dir.join(name);
    temp.persist(&target).map_err(|e| CheckpointError::Io { path: target.clone(), source: e.error })?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// The checkpoints of one data directory, by seq.
#[derive(Debug)]
pub struct CheckpointStore {
    dir: PathBuf,
    checkpoints: BTreeMap<u64, Checkpoint>,
}

/// The store shared by the writer (automatic proposals) and the handlers.
pub type SharedCheckpoints = Arc<parking_lot::Mutex<CheckpointStore>>;

impl CheckpointStore {
    /// Loads every checkpoint of `data_dir/checkpoints` (none when the directory does not exist). Reads
    /// only: creates, changes and deletes nothing. A signature that does not verify is dropped with a
    /// warning; other files than `checkpoint-<20 digits>.json` are ignored.
    ///
    /// Errors: [`CheckpointError::Io`] when the directory or a file cannot be read,
    /// [`CheckpointError::Damaged`] when a checkpoint file does not parse or names another seq.
    pub fn open(data_dir: &Path) -> Result<Self, CheckpointError> {
        let dir = data_dir.join(CHECKPOINTS_DIR);
        let mut checkpoints = BTreeMap::new();
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(CheckpointStore { dir, checkpoints })
            }
            Err(source) => return Err(CheckpointError::Io { path: dir, source }),
        };
        for item in listing {
            let item = item.map_err(|source| CheckpointError::Io { path: dir.clone(), source })?;
            let name = item.file_name();
            let Some(seq) = name.to_str().and_then(seq_of_name) else { continue };
            let path = item.path();
            let bytes =
                std::fs::read(&path).map_err(|source| CheckpointError::Io { path: path.clone(), source })?;
            checkpoints.insert(seq, parse_file(&path, seq, &bytes)?);
        }
        Ok(CheckpointStore { dir, checkpoints })
    }

    /// This store as a [`SharedCheckpoints`].
    pub fn shared(self) -> SharedCheckpoints {
        Arc::new(parking_lot::Mutex::new(self))
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every checkpoint, oldest first.
    pub fn checkpoints(&self) -> impl Iterator<Item = &Checkpoint> {
        self.checkpoints.values()
    }

    /// The checkpoint at `seq`.
    pub fn get(&self, seq: u64) -> Option<&Checkpoint> {
        self.checkpoints.get(&seq)
    }

    /// The newest checkpoint.
    pub fn latest(&self) -> Option<&Checkpoint> {
        self.checkpoints.values().next_back()
    }

    /// The checkpoints final for `set`, oldest first.
    pub fn final_checkpoints<'a>(
        &'a self,
        set: &'a GuardianSet,
    ) -> impl Iterator<Item = &'a Checkpoint> + 'a {
        self.checkpoints.values().filter(move |c| c.is_final(set))
    }

    fn save(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        write_atomically(&self.dir, &file_name(checkpoint.seq), &encode_file(checkpoint))
    }

    /// Records a checkpoint at `seq` (written before it is kept); the existing one when it has the same
    /// hashes.
    ///
    /// Errors: [`CheckpointError::Conflict`] when one exists at `seq` with other hashes (nothing changes),
    /// [`CheckpointError::Io`] when the file cannot be written (nothing is kept).
    pub fn propose(
        &mut self,
        seq: u64,
        journal_hash: EntryHash,
        state_hash: [u8; 32],
        timestamp_ms: i64,
        proposed_by: ProposedBy,
    ) -> Result<&Checkpoint, CheckpointError> {
        if let Some(existing) = self.checkpoints.get(&seq) {
            if existing.journal_hash != journal_hash || existing.state_hash != state_hash {
                return Err(CheckpointError::Conflict { seq });
            }
        } else {
            let checkpoint = Checkpoint {
                seq,
                journal_hash,
                state_hash,
                timestamp_ms,
                proposed_by,
                signatures: Vec::new(),
            };
            self.save(&checkpoint)?;
            self.checkpoints.insert(seq, checkpoint);
        }
        self.checkpoints.get(&seq).ok_or(CheckpointError::NotFound(seq))
    }

    /// Adds `guardian`'s `signature` to the checkpoint at `seq` and writes it.
    ///
    /// Errors, checked in this order, nothing changed: [`CheckpointError::NotFound`],
    /// [`CheckpointError::NotGuardian`] (not in `set`), [`CheckpointError::BadSignature`] (does not verify
    /// over the node's own hashes), [`CheckpointError::Duplicate`], [`CheckpointError::Io`].
    pub fn add_signature(
        &mut self,
        seq: u64,
        guardian: AccountKey,
        signature: &[u8],
        set: &GuardianSet,
    ) -> Result<&Checkpoint, CheckpointError> {
        let checkpoint = self.checkpoints.get(&seq).ok_or(CheckpointError::NotFound(seq))?;
        if !set.contains(&guardian) {
            return Err(CheckpointError::NotGuardian(guardian));
        }
        let bytes: [u8; 64] = signature.try_into().map_err(|_| CheckpointError::BadSignature { seq })?;
        if !checkpoint.verifies(&guardian, &bytes) {
            return Err(CheckpointError::BadSignature { seq });
        }
        if checkpoint.signatures.iter().any(|s| s.guardian == guardian) {
            return Err(CheckpointError::Duplicate { seq, guardian });
        }
        let mut signed = checkpoint.clone();
        signed.signatures.push(GuardianSignature { guardian, signature: bytes });
        self.save(&signed)?;
        self.checkpoints.insert(seq, signed);
        self.checkpoints.get(&seq).ok_or(CheckpointError::NotFound(seq))
    }

    /// Checks a journal against every checkpoint final for `set`: `head` must reach its seq and
    /// `hash_at(seq)` (the journal's entry hash at seq, `None` when missing) must equal its journal hash.
    ///
    /// Errors: [`CheckpointError::Rollback`] (the journal is shorter), [`CheckpointError::JournalMismatch`].
    pub fn check_journal(
        &self,
        set: &GuardianSet,
        head: Head,
        hash_at: impl Fn(u64) -> Option<EntryHash>,
    ) -> Result<(), CheckpointError> {
        for checkpoint in self.final_checkpoints(set) {
            let seq = checkpoint.seq;
            if head.seq < seq {
                return Err(CheckpointError::Rollback { seq, head_seq: head.seq });
            }
            let found = if head.seq == seq { Some(head.hash) } else { hash_at(seq) };
            if found != Some(checkpoint.journal_hash) {
                return Err(CheckpointError::JournalMismatch {
                    seq,
                    expected: hex::encode(checkpoint.journal_hash),
                    found: found.map_or_else(|| "missing".to_owned(), hex::encode),
                });
            }
        }
        Ok(())
    }

    /// Compares `state_hash` (hex, as `State::state_hash`) after entry `seq` with a checkpoint final for
    /// `set` at `seq`, if there is one (replay and `verify` call it at each seq they pass).
    ///
    /// Errors: [`CheckpointError::StateMismatch`].
    pub fn check_state(&self, set: &GuardianSet, seq: u64, state_hash: &str) -> Result<(), CheckpointError> {
        let Some(checkpoint) = self.checkpoints.get(&seq).filter(|c| c.is_final(set)) else { return Ok(()) };
        let expected = hex::encode(checkpoint.state_hash);
        if !expected.eq_ignore_ascii_case(state_hash) {
            return Err(CheckpointError::StateMismatch { seq, expected, found: state_hash.to_owned() });
        }
        Ok(())
    }

    /// Checks a replica's journal ([`Self::check_journal`]) and, at its head, its state
    /// ([`Self::check_state`]) against the checkpoints final for its current guardian set.
    pub fn check_replica(&self, replica: &Replica) -> Result<(), CheckpointError> {
        let set = GuardianSet::of(replica.state().params());
        let head = replica.head();
        let hash_at =
            |seq| replica.read_entries(seq, 1).ok()?.first().filter(|e| e.seq == seq).map(|e| e.hash);
        self.check_journal(&set, head, hash_at)?;
        self.check_state(&set, head.seq, &replica.state().state_hash())
    }

    /// `GET /v1/checkpoints` against the current `set`.
    pub fn view(&self, set: &GuardianSet, head_seq: u64) -> CheckpointsView {
        CheckpointsView {
            head_seq,
            threshold: set.threshold,
            latest_final: self.final_checkpoints(set).last().map(|c| c.seq),
            checkpoints: self.checkpoints().map(|c| c.view(set)).collect(),
        }
    }
}

/// Opens the checkpoints of `data_dir` ([`CheckpointStore::open`]) and checks `replica` against those final
/// for its guardian set ([`CheckpointStore::check_replica`]): what a node does before it serves.
///
/// Errors: the store's (a damaged file), [`CheckpointError::Rollback`], [`CheckpointError::JournalMismatch`],
/// [`CheckpointError::StateMismatch`].
pub fn open_checked(data_dir: &Path, replica: &Replica) -> Result<SharedCheckpoints, CheckpointError> {
    let store = CheckpointStore::open(data_dir)?;
    store.check_replica(replica)?;
    Ok(store.shared())
}

/// The raw bytes of a state hash (`State::state_hash` is 64 hex).
pub fn state_hash_bytes(state: &State) -> [u8; 32] {
    hash32(&state.state_hash()).unwrap_or([0; 32])
}

/// The last closed minting period of `state` (`None` before the first): compared before and after a batch,
/// it tells whether the batch closed a period.
pub fn last_closed_period(state: &State) -> Option<u32> {
    state.rewards().reports().keys().next_back().copied()
}

/// Records a checkpoint of `replica`'s durable head (its journal hash and state hash), proposed by `by`.
///
/// Errors: an empty journal ([`CheckpointError::NotFound`] of seq 0), the store's errors.
pub fn propose_at_head(
    store: &mut CheckpointStore,
    replica: &Replica,
    by: ProposedBy,
    timestamp_ms: i64,
) -> Result<Checkpoint, CheckpointError> {
    let head = replica.head();
    if head.seq == 0 {
        return Err(CheckpointError::NotFound(0));
    }
    let state_hash = state_hash_bytes(replica.state());
    store.propose(head.seq, head.hash, state_hash, timestamp_ms, by).cloned()
}

/// The writer's hook after a durable batch: when the batch closed a minting period (`period_before` is
/// [`last_closed_period`] before it), checkpoints the batch's last seq. A failure is logged, never fatal:
/// the journal is the source of truth and the operator can propose again.
pub fn after_batch(store: &SharedCheckpoints, replica: &Replica, period_before: Option<u32>, now_ms: i64) {
    let closed = last_closed_period(replica.state());
    if closed == period_before || replica.has_failed() {
        return;
    }
    match propose_at_head(&mut store.lock(), replica, ProposedBy::PeriodClose, now_ms) {
        Ok(checkpoint) => tracing::info!(seq = checkpoint.seq, period = ?closed, "checkpoint proposed"),
        Err(error) => tracing::error!(%error, "proposing the checkpoint of a minting period close failed"),
    }
}

#[cfg(test)]
mod tests;
