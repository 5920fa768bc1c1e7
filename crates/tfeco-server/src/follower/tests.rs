//! Tests of the follower's checks: entries of a real primary replica reach the same state hash in the
//! follower's own journal and a restart resumes from it; a gap, a broken chain, a bad signature and a
//! checkpoint whose state hash differs (ahead of the head and behind it) each stop the follower with a typed
//! error naming the entry, after which nothing more is applied and the replica is halted.

use ed25519_dalek::SigningKey;
use tfeco_core::{AccountKey, Command, Genesis, Params};
use tfeco_money::{Amount, Asset};

use super::*;
use crate::replica::{BatchItem, SignedRequest};

const START: i64 = 1_761_955_200;

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

/// A primary with `users` registered and funded users (two entries each), and its entries.
fn primary_node(users: u8) -> (Replica, Vec<Entry>, Vec<u8>) {
    let operator = signing(1);
    let genesis = || Genesis {
        params: Params::tfgrid4_2025(account(&operator)),
        catalogue: tfeco_core::catalogue_q4_2025(),
        start_time: START,
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    let mut node = Replica::open(journal, genesis, ReplayOptions::default()).expect("open").0;
    for n in 0..users {
        let user = signing(10 + n);
        let register = SignedRequest::sign(&user, 1, START + 300, Command::RegisterAccount {});
        let deposit = Command::AttestDeposit {
            asset: Asset::Tft,
            to: account(&user),
            amount: Amount::from_units(100 * 10_000_000),
            external_tx_id: format!("deposit-{n}"),
        };
        let deposit = SignedRequest::sign(&operator, u64::from(n) + 1, START + 300, deposit);
        let batch = [BatchItem::Signed(register), BatchItem::Signed(deposit)];
        let outcomes = node.apply_batch(&batch, START * 1_000 + i64::from(n)).expect("append");
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    }
    let entries = node.read_entries(1, 1_000).expect("entries");
    let genesis = node.genesis_bytes().expect("genesis");
    (node, entries, genesis)
}

/// A follower in `dir` of the primary's `genesis`.
fn follower(dir: &Path, genesis: &[u8]) -> Follower {
    let (replica, _) = open_dir(dir, Some(genesis), [7; 16]).expect("open the follower's directory");
    let metrics = replica.metrics().clone();
    let status = Arc::new(FollowerStatus::new("http://primary.invalid", &metrics));
    Follower::new(Arc::new(RwLock::new(replica)), status)
}

fn checkpoint(seq: u64, journal_hash: [u8; 32], state_hash: String) -> PrimaryCheckpoint {
    PrimaryCheckpoint { seq, journal_hash: hex::encode(journal_hash), state_hash, is_final: true }
}

/// Re-hashes `entry` after a change of its fields, so that only the change itself is wrong.
fn rehash(entry: &mut Entry) {
    entry.hash = entry.view().compute_hash();
}

#[test]
fn a_follower_reaches_the_primarys_state_and_resumes_from_its_own_journal() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (primary, entries, genesis) = primary_node(3);
    let follower = follower(temp.path(), &genesis);
    let head = follower.apply(&entries[..2]).expect("first entries");
    assert_eq!(head.seq, 2);
    assert_eq!(
        follower.observe_primary(6, entries[5].timestamp_ms).entries,
        4,
        "lag against the primary's head"
    );
    let head = follower.apply(&entries[2..]).expect("the rest");
    assert_eq!(head, primary.head(), "the same chain, entry for entry");
    assert_eq!(follower.replica.read().state().state_hash(), primary.state().state_hash());
    assert_eq!(follower.status().lag(head), Lag { entries: 0, seconds: 0.0 });
    drop(follower);
    let reopened = super::tests::follower(temp.path(), &genesis);
    assert_eq!(reopened.head(), primary.head(), "a restarted follower resumes from its own journal");
    assert_eq!(reopened.replica.read().state().state_hash(), primary.state().state_hash());
    assert!(matches!(reopened.apply(&entries[5..]), Err(FollowError::Gap { expected: 7, found: 6 })));
    drop(reopened);
    let mut changed = genesis.clone();
    changed.push(b' ');
    let refused = open_dir(temp.path(), Some(&changed), [7; 16]).map(|_| ()).expect_err("another genesis");
    assert!(matches!(refused, FollowError::Genesis { .. }), "{refused}");
}

#[test]
fn a_broken_chain_stops_the_follower_before_anything_is_applied() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (_, mut entries, genesis) = primary_node(2);
    let follower = follower(temp.path(), &genesis);
    entries[2].prev_hash[0] ^= 1;
    rehash(&mut entries[2]);
    let error = follower.apply(&entries).expect_err("a broken chain");
    assert!(matches!(error, FollowError::ChainBroken { seq: 3, .. }), "{error}");
    assert_eq!(follower.head().seq, 0, "nothing of the batch was applied");
    assert!(follower.replica.read().has_failed(), "the halted replica is not served");
    assert!(matches!(follower.apply(&entries[..1]), Err(FollowError::Stopped(_))));
    let (_, mut entries, _) = primary_node(2);
    entries[1].payload.push(b' ');
    let other = tempfile::tempdir().expect("temp dir");
    let error = super::tests::follower(other.path(), &genesis).apply(&entries).expect_err("changed payload");
    assert!(matches!(error, FollowError::HashMismatch { seq: 2 }), "{error}");
}

#[test]
fn a_bad_signature_stops_the_follower_after_the_entries_before_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (_, mut entries, genesis) = primary_node(2);
    entries[2].signature[5] ^= 1;
    rehash(&mut entries[2]);
    for index in 3..entries.len() {
        entries[index].prev_hash = entries[index - 1].hash;
        rehash(&mut entries[index]);
    }
    let follower = follower(temp.path(), &genesis);
    let error = follower.apply(&entries).expect_err("a bad signature");
    assert!(matches!(error, FollowError::Signature { seq: 3 }), "{error}");
    assert_eq!(follower.head().seq, 2, "the entries before it are applied and journaled");
    assert!(follower.stopped().expect("stopped").contains("entry 3"));
}

#[test]
fn a_checkpoint_ahead_of_the_head_is_checked_when_the_head_reaches_it() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (_, entries, genesis) = primary_node(3);
    let (at_two, _, _) = primary_node(1);
    let good = checkpoint(2, entries[1].hash, at_two.state().state_hash());
    let follower = follower(temp.path(), &genesis);
    assert_eq!(follower.add_checkpoints(&[good]).expect("pending"), 0, "ahead: checked later");
    let wrong = checkpoint(4, entries[3].hash, "ab".repeat(32));
    follower.add_checkpoints(&[wrong]).expect("pending");
    let error = follower.apply(&entries).expect_err("the checkpoint at 4 differs");
    let FollowError::CheckpointMismatch { seq: 4, what: "state hash", ref checkpoint, ref ours, .. } = error
    else {
        panic!("{error}")
    };
    assert_eq!(checkpoint, &"ab".repeat(32));
    assert_ne!(ours, checkpoint);
    assert!(error.to_string().contains("seq 4") && error.to_string().contains(ours.as_str()), "{error}");
    assert_eq!(follower.checkpoints_checked(), 1, "the one at 2 matched on the way");
    assert_eq!(follower.head().seq, 4, "stopped at the checkpoint, nothing applied past it");
    assert!(follower.replica.read().has_failed());
}

#[test]
fn a_checkpoint_behind_the_head_is_checked_by_replaying_the_followers_journal() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (primary, entries, genesis) = primary_node(2);
    let follower = follower(temp.path(), &genesis);
    follower.apply(&entries).expect("apply");
    let good = checkpoint(4, entries[3].hash, primary.state().state_hash());
    assert_eq!(follower.add_checkpoints(std::slice::from_ref(&good)).expect("matches"), 1);
    assert_eq!(follower.add_checkpoints(&[good]).expect("known"), 0, "each checkpoint checked once");
    let wrong = checkpoint(2, [9; 32], "cd".repeat(32));
    let error = follower.add_checkpoints(&[wrong]).expect_err("the journal hash at 2 differs");
    assert!(matches!(error, FollowError::CheckpointMismatch { seq: 2, what: "journal hash", .. }), "{error}");
    assert!(matches!(follower.apply(&[]), Err(FollowError::Stopped(_))));
}

#[test]
fn a_passed_checkpoint_is_recomputed_from_the_newest_snapshot_at_or_before_it() {
    let (primary, entries, genesis) = primary_node(2);
    let (at_two, _, _) = primary_node(1);
    let good = checkpoint(4, entries[3].hash, primary.state().state_hash());
    let snapshot_of = |dir: &Path, index: usize| {
        let at = (entries[index].seq, entries[index].hash, entries[index].timestamp_ms);
        crate::snapshots::write(dir, at, at_two.state()).expect("write a snapshot");
    };
    let temp = tempfile::tempdir().expect("temp dir");
    let follower = follower(temp.path(), &genesis).with_snapshots(temp.path());
    follower.apply(&entries).expect("apply");
    snapshot_of(temp.path(), 1);
    assert_eq!(follower.add_checkpoints(std::slice::from_ref(&good)).expect("matches from the snapshot"), 1);
    // The state after entry 2 filed as the snapshot of entry 3: the recomputation starts from it (and so
    // cannot reproduce the primary's state at 4), which shows the snapshot is used.
    let other = tempfile::tempdir().expect("temp dir");
    let follower = super::tests::follower(other.path(), &genesis).with_snapshots(other.path());
    follower.apply(&entries).expect("apply");
    snapshot_of(other.path(), 2);
    assert!(follower.add_checkpoints(&[good]).is_err(), "recomputed from the (wrong) snapshot at 3");
}
