//! Tests of the checkpoint store (atomic files, signatures dropped on load, the threshold, rollback and
//! rewrite detection) and of a guardian's audit of a downloaded journal.

use ed25519_dalek::{Signer, SigningKey};
use tfeco_core::{AccountKey, Command, Genesis, Params};
use tfeco_journal::{Entry, Head, MemoryJournal};

use super::audit::{audit_journal, AuditError};
use super::*;
use crate::replica::{BatchItem, ReplayOptions, Replica, SignedRequest};

const START: i64 = 1_761_955_200;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

/// Three guardians (keys 11, 12, 13), threshold 2.
fn set() -> GuardianSet {
    GuardianSet { guardians: (11..=13).map(|n| account(&key(n))).collect(), threshold: 2 }
}

fn sign(checkpoint: &Checkpoint, guardian: &SigningKey) -> Vec<u8> {
    guardian.sign(&checkpoint.signing_bytes()).to_bytes().to_vec()
}

fn store_with(seq: u64, journal_hash: [u8; 32]) -> (tempfile::TempDir, CheckpointStore) {
    let temp = tempfile::tempdir().unwrap();
    let mut store = CheckpointStore::open(temp.path()).unwrap();
    store.propose(seq, journal_hash, [9; 32], 1_000, ProposedBy::Operator).unwrap();
    (temp, store)
}

/// Signs the checkpoint at `seq` with guardians 11 and 12: final for [`set`].
fn finalize(store: &mut CheckpointStore, seq: u64) {
    for n in [11, 12] {
        let signature = sign(store.get(seq).unwrap(), &key(n));
        store.add_signature(seq, account(&key(n)), &signature, &set()).unwrap();
    }
    assert!(store.get(seq).unwrap().is_final(&set()));
}

#[test]
fn opening_creates_nothing_and_a_proposal_is_one_atomic_file_that_reloads() {
    let temp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(temp.path()).unwrap();
    assert_eq!(store.checkpoints().count(), 0);
    assert!(!temp.path().join(CHECKPOINTS_DIR).exists(), "open is read-only");
    drop(store);
    let (temp, mut store) = store_with(7, [1; 32]);
    finalize(&mut store, 7);
    let dir = temp.path().join(CHECKPOINTS_DIR);
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, vec!["checkpoint-00000000000000000007.json".to_owned()], "no temporary file is left");
    // A crash between the temporary file and the rename leaves a stray temporary file: ignored.
    std::fs::write(dir.join(".checkpoint-abc.tmp"), b"{half").unwrap();
    let reloaded = CheckpointStore::open(temp.path()).unwrap();
    assert_eq!(reloaded.get(7), store.get(7));
    assert_eq!(reloaded.checkpoints().count(), 1);
    // The same proposal again is the existing checkpoint; other hashes at that seq are a conflict.
    assert_eq!(
        store.propose(7, [1; 32], [9; 32], 2_000, ProposedBy::PeriodClose).unwrap().signatures.len(),
        2
    );
    assert!(matches!(
        store.propose(7, [2; 32], [9; 32], 2_000, ProposedBy::PeriodClose),
        Err(CheckpointError::Conflict { seq: 7 })
    ));
}

#[test]
fn a_signature_that_does_not_verify_is_dropped_on_load() {
    let (temp, mut store) = store_with(3, [1; 32]);
    finalize(&mut store, 3);
    let path = temp.path().join(CHECKPOINTS_DIR).join(file_name(3));
    let good = hex::encode(store.get(3).unwrap().signatures[0].signature);
    let mut bad = good.clone().into_bytes();
    bad[10] = if bad[10] == b'0' { b'1' } else { b'0' };
    let text = std::fs::read_to_string(&path).unwrap().replace(&good, std::str::from_utf8(&bad).unwrap());
    std::fs::write(&path, text).unwrap();
    let reloaded = CheckpointStore::open(temp.path()).unwrap();
    let checkpoint = reloaded.get(3).unwrap();
    assert_eq!(checkpoint.signatures.len(), 1, "the flipped signature is dropped");
    assert_eq!(checkpoint.signatures[0].guardian, account(&key(12)));
    assert!(!checkpoint.is_final(&set()), "one signature of three, threshold 2");
}

#[test]
fn a_damaged_file_is_refused_with_its_path() {
    let (temp, _store) = store_with(3, [1; 32]);
    let dir = temp.path().join(CHECKPOINTS_DIR);
    let path = dir.join(file_name(3));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let error = CheckpointStore::open(temp.path()).unwrap_err();
    assert!(matches!(&error, CheckpointError::Damaged { path: p, .. } if *p == path), "{error}");
    // A file under another seq's name is damaged too.
    std::fs::write(&path, &text).unwrap();
    std::fs::rename(&path, dir.join(file_name(4))).unwrap();
    let error = CheckpointStore::open(temp.path()).unwrap_err();
    assert!(error.to_string().contains("under the name of seq 4"), "{error}");
}

#[test]
fn the_threshold_counts_distinct_valid_signatures_of_the_current_set() {
    let (_temp, mut store) = store_with(5, [1; 32]);
    let checkpoint = store.get(5).unwrap().clone();
    let outsider = key(20);
    let refused = store.add_signature(5, account(&outsider), &sign(&checkpoint, &outsider), &set());
    assert!(matches!(refused, Err(CheckpointError::NotGuardian(_))));
    let forged = sign(&checkpoint, &key(12));
    let refused = store.add_signature(5, account(&key(11)), &forged, &set());
    assert!(matches!(refused, Err(CheckpointError::BadSignature { seq: 5 })));
    let mut other = checkpoint.clone();
    other.state_hash = [8; 32];
    let refused = store.add_signature(5, account(&key(11)), &sign(&other, &key(11)), &set());
    assert!(matches!(refused, Err(CheckpointError::BadSignature { .. })), "signed over other hashes");
    assert!(matches!(
        store.add_signature(6, account(&key(11)), &forged, &set()),
        Err(CheckpointError::NotFound(6))
    ));
    let first = store.add_signature(5, account(&key(11)), &sign(&checkpoint, &key(11)), &set()).unwrap();
    assert_eq!((first.valid_signatures(&set()), first.is_final(&set())), (1, false));
    let again = store.add_signature(5, account(&key(11)), &sign(&checkpoint, &key(11)), &set());
    assert!(matches!(again, Err(CheckpointError::Duplicate { .. })));
    let second = store.add_signature(5, account(&key(12)), &sign(&checkpoint, &key(12)), &set()).unwrap();
    assert!(second.is_final(&set()));
    assert_eq!(store.final_checkpoints(&set()).count(), 1);
    // After a guardian rotation without guardian 12, the checkpoint is no longer final.
    let rotated = GuardianSet { guardians: vec![account(&key(11)), account(&key(13))], threshold: 2 };
    assert!(!store.get(5).unwrap().is_final(&rotated));
    assert_eq!(store.view(&set(), 9).latest_final, Some(5));
}

#[test]
fn check_journal_detects_a_rollback_and_a_rewritten_entry() {
    let (_temp, mut store) = store_with(5, [1; 32]);
    // A proposal no one signed does not bind the journal.
    store.propose(9, [3; 32], [9; 32], 1_000, ProposedBy::PeriodClose).unwrap();
    let head = |seq, hash| Head { seq, hash, timestamp_ms: 0 };
    let nothing = |_| None;
    assert!(store.check_journal(&set(), head(2, [0; 32]), nothing).is_ok(), "not final yet");
    finalize(&mut store, 5);
    let error = store.check_journal(&set(), head(4, [0; 32]), nothing).unwrap_err();
    assert!(matches!(error, CheckpointError::Rollback { seq: 5, head_seq: 4 }), "{error}");
    assert!(error.to_string().contains("rollback"), "{error}");
    let error = store.check_journal(&set(), head(5, [2; 32]), nothing).unwrap_err();
    assert!(matches!(error, CheckpointError::JournalMismatch { seq: 5, .. }), "{error}");
    assert!(store.check_journal(&set(), head(5, [1; 32]), nothing).is_ok());
    let error = store.check_journal(&set(), head(8, [7; 32]), |_| Some([2; 32])).unwrap_err();
    assert!(error.to_string().contains(&hex::encode([2u8; 32])), "{error}");
    assert!(matches!(
        store.check_journal(&set(), head(8, [7; 32]), nothing),
        Err(CheckpointError::JournalMismatch { .. })
    ));
    assert!(store.check_journal(&set(), head(8, [7; 32]), |seq| (seq == 5).then_some([1; 32])).is_ok());
    assert!(store.check_state(&set(), 5, &hex::encode([9u8; 32])).is_ok());
    assert!(matches!(
        store.check_state(&set(), 5, &hex::encode([8u8; 32])),
        Err(CheckpointError::StateMismatch { seq: 5, .. })
    ));
    assert!(store.check_state(&set(), 9, &hex::encode([8u8; 32])).is_ok(), "seq 9 is not final");
}

/// A development replica (the operator, key 1, is the only guardian) with a few journaled commands.
fn replica() -> Replica {
    let operator = key(1);
    let genesis = || {
        let mut params = Params::tfgrid4_2025(account(&operator));
        params.dev_mode = true;
        Genesis { params, catalogue: tfeco_core::catalogue_q4_2025(), start_time: START }
    };
    let journal = Box::new(MemoryJournal::new());
    let mut node = Replica::open(journal, genesis, ReplayOptions::default()).unwrap().0;
    node.set_operator_key(operator.clone());
    for (n, user) in [2u8, 3, 4].into_iter().enumerate() {
        let request = SignedRequest::sign(&key(user), 1, START + 300, Command::RegisterAccount {});
        let tick = BatchItem::Internal(Command::Tick { now: START + 60 * (n as i64 + 1) });
        let ms = (START + 10 * n as i64) * 1_000;
        node.apply_batch(&[BatchItem::Signed(request), tick], ms).unwrap();
    }
    node
}

#[test]
fn replica_reads_give_the_head_the_genesis_and_pages_of_entries() {
    let node = replica();
    let head = node.head();
    assert_eq!(head.seq, 6);
    let all = node.read_entries(1, 100).unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(all.last().unwrap().hash, head.hash);
    assert_eq!(node.read_entries(3, 2).unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert!(node.read_entries(7, 10).unwrap().is_empty());
    assert!(node.read_entries(1, 0).unwrap().is_empty());
    assert!(Genesis::decode(&node.genesis_bytes().unwrap()).is_ok());
}

#[test]
fn an_audit_reproduces_the_nodes_hashes_and_refuses_a_tampered_journal() {
    let node = replica();
    let genesis = node.genesis_bytes().unwrap();
    let entries = node.read_entries(1, 100).unwrap();
    let audited = audit_journal(&genesis, Some(&chain_root(&genesis)), &entries).unwrap();
    assert_eq!((audited.seq, audited.journal_hash), (6, node.head().hash));
    assert_eq!(audited.state_hash, state_hash_bytes(node.state()));
    let prefix = audit_journal(&genesis, None, &entries[..4]).unwrap();
    assert_eq!(prefix.journal_hash, entries[3].hash);

    let tamper = |change: &dyn Fn(&mut Vec<Entry>)| {
        let mut copy = entries.clone();
        change(&mut copy);
        audit_journal(&genesis, None, &copy).unwrap_err()
    };
    let error = tamper(&|e| e[2].payload[5] ^= 1);
    assert!(matches!(error, AuditError::HashMismatch { seq: 3 }), "{error}");
    // A rewritten entry with its hash recomputed: the next link breaks.
    let error = tamper(&|e| {
        e[2].timestamp_ms += 1;
        e[2].hash = e[2].view().compute_hash();
    });
    assert!(matches!(error, AuditError::ChainBroken { seq: 4 }), "{error}");
    // The last entry rewritten consistently: its signature no longer verifies on replay.
    let error = tamper(&|e| {
        let last = e.last_mut().unwrap();
        last.payload[5] ^= 1;
        last.hash = last.view().compute_hash();
    });
    assert!(matches!(error, AuditError::Replay(_)), "{error}");
    assert!(matches!(tamper(&|e| drop(e.remove(1))), AuditError::Gap { expected: 2, found: 3 }));
    assert!(matches!(tamper(&|e| e.clear()), AuditError::Empty));
    let error = audit_journal(&genesis, Some(&[5; 32]), &entries).unwrap_err();
    assert!(matches!(error, AuditError::Root { .. }), "{error}");
    // Another genesis, even one differing only in its start time: the chain's root differs, so entry 1 no
    // longer links to it.
    let mut other_genesis = Genesis::decode(&genesis).unwrap();
    other_genesis.start_time += 1;
    let error = audit_journal(&other_genesis.encode(), None, &entries).unwrap_err();
    assert!(matches!(error, AuditError::ChainBroken { seq: 1 }), "{error}");
}

#[test]
fn a_replica_is_checked_against_its_final_checkpoints_and_the_hook_proposes_on_a_period_close() {
    let node = replica();
    let temp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(temp.path()).unwrap().shared();
    // No period closed during the batch: nothing proposed.
    after_batch(&store, &node, last_closed_period(node.state()), 5);
    assert_eq!(store.lock().checkpoints().count(), 0);
    // A batch that closed a period (the period before differs): the head is checkpointed.
    after_batch(&store, &node, Some(u32::MAX), 5);
    let checkpoint = store.lock().latest().cloned().unwrap();
    assert_eq!((checkpoint.seq, checkpoint.proposed_by), (6, ProposedBy::PeriodClose));
    let set = GuardianSet::of(node.state().params());
    assert_eq!(set.threshold, 1);
    let signature = sign(&checkpoint, &key(1));
    store.lock().add_signature(6, account(&key(1)), &signature, &set).unwrap();
    assert!(store.lock().check_replica(&node).is_ok());
    // A shorter journal (the same history without its last batch) is refused.
    let genesis_bytes = node.genesis_bytes().unwrap();
    let genesis = Genesis::decode(&genesis_bytes).unwrap();
    let mut journal = MemoryJournal::new();
    tfeco_journal::Journal::set_genesis(&mut journal, &genesis_bytes).unwrap();
    let batch: Vec<tfeco_journal::NewEntry> = node
        .read_entries(1, 4)
        .unwrap()
        .iter()
        .map(|e| tfeco_journal::NewEntry {
            timestamp_ms: e.timestamp_ms,
            signer: e.signer,
            payload: e.payload.clone(),
            signature: e.signature.clone(),
        })
        .collect();
    tfeco_journal::Journal::append(&mut journal, &batch).unwrap();
    let (short, _) = Replica::open(Box::new(journal), || genesis, ReplayOptions::default()).unwrap();
    let error = store.lock().check_replica(&short).unwrap_err();
    assert!(matches!(error, CheckpointError::Rollback { seq: 6, head_seq: 4 }), "{error}");
}
