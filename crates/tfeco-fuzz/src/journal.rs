//! Targets `journal_record`, `journal_stream` and `genesis`: the journal's records (their canonical
//! encoding, hash and checksum, and the payload inside), the NDJSON stream a follower reads from its
//! primary (`GET /v1/journal/stream`, decoded and audited as `tfeco follow` and `tfeco verify` do), and
//! the versioned genesis a journal starts from.
//!
//! `journal_record` frames the input as entries ([`frame_entries`]), appends them to a journal
//! ([`MemoryJournal`], sealed and verified by the same record code as SQLite and PostgreSQL) and asserts:
//! a batch whose stamps go backwards is refused whole; otherwise replay verifies and returns exactly the
//! entries appended (seq, link, fields), every hash recomputes, a change of any one byte changes both the
//! hash and the checksum, and a payload that decodes re-encodes to the same bytes.
//!
//! `journal_stream` asserts: no panic; a decoded entry re-encodes (lowercase hex) to the same entry; the
//! follower's chain check and, for a chain from the genesis root, the full audit (signatures, replay into a
//! fresh state) never panic, and an audit that passes names the last entry and its hash.
//!
//! `genesis` asserts: an accepted genesis re-encodes to bytes that decode to it and encode the same, and
//! a node started from it holds every invariant.

use tfeco_api::checkpoints::{JournalEntryView, JournalStreamItem};
use tfeco_core::{Genesis, SignedBody, State};
use tfeco_journal::{Entry, Head, Journal, JournalError, MemoryJournal, NewEntry};
use tfeco_server::checkpoints::audit::{audit_journal, decode_entry};
use tfeco_server::checkpoints::chain_root;
use tfeco_server::follower::check_chain;

use crate::Verdict;

/// The genesis bytes of the fuzzed journals ([`crate::request::genesis`], encoded).
pub fn genesis_bytes() -> Vec<u8> {
    crate::request::genesis().encode()
}

/// Reads entries from `data`: per entry a stamp step (i32, ms, so stamps may go backwards), the signer
/// (32 bytes), the payload length (u16) and payload, the signature length (u8) and signature. A last
/// incomplete entry is dropped.
pub fn frame_entries(data: &[u8]) -> Vec<NewEntry> {
    let mut entries = Vec::new();
    let mut rest = data;
    let mut timestamp_ms = crate::request::START * 1000;
    let take = |rest: &mut &[u8], n: usize| -> Option<Vec<u8>> {
        let (head, tail) = rest.split_at_checked(n)?;
        *rest = tail;
        Some(head.to_vec())
    };
    while let Some(step) = take(&mut rest, 4) {
        let Some(signer) = take(&mut rest, 32) else { break };
        let Some(len) = take(&mut rest, 2) else { break };
        let Some(payload) = take(&mut rest, usize::from(u16::from_le_bytes([len[0], len[1]]))) else { break };
        let Some(len) = take(&mut rest, 1) else { break };
        let Some(signature) = take(&mut rest, usize::from(len[0])) else { break };
        timestamp_ms += i64::from(i32::from_le_bytes(step.try_into().expect("4 bytes")));
        let signer = signer.try_into().expect("32 bytes");
        entries.push(NewEntry { timestamp_ms, signer, payload, signature });
    }
    entries
}

/// The inverse of [`frame_entries`] (seeds): entries whose stamps step by at most `i32::MAX` ms.
pub fn unframe_entries(entries: &[NewEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut timestamp_ms = crate::request::START * 1000;
    for entry in entries {
        let step = i32::try_from(entry.timestamp_ms - timestamp_ms).expect("a small stamp step");
        timestamp_ms = entry.timestamp_ms;
        out.extend_from_slice(&step.to_le_bytes());
        out.extend_from_slice(&entry.signer);
        let len = u16::try_from(entry.payload.len()).expect("a payload below 64 KiB");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&entry.payload);
        out.push(u8::try_from(entry.signature.len()).expect("a signature below 256 bytes"));
        out.extend_from_slice(&entry.signature);
    }
    out
}

/// The body of target `journal_record`.
pub fn journal_record(data: &[u8]) -> Verdict {
    let batch = frame_entries(data);
    let mut journal = MemoryJournal::new();
    let root_head = journal.set_genesis(&genesis_bytes()).expect("a new journal takes a genesis");
    let head = match journal.append(&batch) {
        Ok(head) => head,
        Err(JournalError::TimestampRegression { .. }) => {
            assert_eq!(journal.head(), root_head, "a refused batch must leave nothing");
            return Verdict::Refused;
        }
        Err(other) => panic!("an in-memory append failed: {other}"),
    };
    assert_eq!(head.seq, batch.len() as u64);
    let mut stored = Vec::new();
    let mut keep = |e: tfeco_journal::EntryRef<'_>| {
        stored.push(e.to_entry());
        Ok(())
    };
    journal.replay(1, &mut keep).expect("a sealed journal verifies");
    assert_eq!(stored.len(), batch.len());
    let mut prev = root_head.hash;
    for ((entry, new), seq) in stored.iter().zip(&batch).zip(1u64..) {
        assert_eq!((entry.seq, entry.prev_hash, entry.timestamp_ms), (seq, prev, new.timestamp_ms));
        assert_eq!(
            (&entry.signer, &entry.payload, &entry.signature),
            (&new.signer, &new.payload, &new.signature)
        );
        assert_eq!(entry.view().compute_hash(), entry.hash, "entry {seq}'s hash does not recompute");
        a_changed_byte_is_caught(entry, data.len());
        if let Ok(body) = SignedBody::from_payload(&entry.payload) {
            assert_eq!(body.to_payload(), entry.payload, "a decoded payload re-encodes differently");
        }
        prev = entry.hash;
    }
    assert_eq!(journal.entry_hash(head.seq).ok().flatten(), Some(head.hash));
    Verdict::from_bool(!batch.is_empty())
}

/// Flipping one bit of the entry's encoded fields (chosen by `pick`) changes its hash and its checksum.
fn a_changed_byte_is_caught(entry: &Entry, pick: usize) {
    let checksum = entry.view().compute_checksum();
    let mut changed = entry.clone();
    let fields = changed.payload.len() + changed.signature.len();
    match pick % (fields + 2) {
        i if i < changed.payload.len() => changed.payload[i] ^= 1 << (pick % 8),
        i if i < fields => changed.signature[i - changed.payload.len()] ^= 1 << (pick % 8),
        i if i == fields => changed.timestamp_ms ^= 1 << (pick % 63),
        _ => changed.signer[pick % 32] ^= 1 << (pick % 8),
    }
    assert_ne!(changed.view().compute_hash(), entry.hash, "a changed entry kept its hash");
    assert_ne!(changed.view().compute_checksum(), checksum, "a changed entry kept its checksum");
}

/// The view of `entry` as the primary sends it (lowercase hex).
pub fn view_of(entry: &Entry) -> JournalEntryView {
    JournalEntryView {
        seq: entry.seq,
        timestamp_ms: entry.timestamp_ms,
        signer: hex::encode(entry.signer),
        payload: hex::encode(&entry.payload),
        signature: hex::encode(&entry.signature),
        prev_hash: hex::encode(entry.prev_hash),
        hash: hex::encode(entry.hash),
    }
}

/// The body of target `journal_stream`.
pub fn journal_stream(data: &[u8]) -> Verdict {
    let Some(text) = crate::text(data) else { return Verdict::Refused };
    let mut entries = Vec::new();
    for line in text.lines().take(256) {
        let Ok(JournalStreamItem::Entry(view)) = serde_json::from_str::<JournalStreamItem>(line) else {
            continue;
        };
        let Ok(entry) = decode_entry(&view) else { continue };
        assert_eq!(decode_entry(&view_of(&entry)).as_ref().ok(), Some(&entry), "the view round trip");
        entries.push(entry);
    }
    let Some(first) = entries.first() else { return Verdict::Refused };
    if let Some(seq) = first.seq.checked_sub(1) {
        let head = Head { seq, hash: first.prev_hash, timestamp_ms: first.timestamp_ms };
        let chained = check_chain(head, &entries).is_ok();
        let genesis = genesis_bytes();
        if chained && seq == 0 && first.prev_hash == chain_root(&genesis) {
            if let Ok(audited) = audit_journal(&genesis, None, &entries) {
                let last = entries.last().expect("not empty");
                assert_eq!((audited.seq, audited.journal_hash), (last.seq, last.hash));
            }
        }
    }
    Verdict::Accepted
}

/// The body of target `genesis`.
pub fn genesis(data: &[u8]) -> Verdict {
    let Ok(genesis) = Genesis::decode(data) else { return Verdict::Refused };
    let bytes = genesis.encode();
    let again = Genesis::decode(&bytes).unwrap_or_else(|e| panic!("a re-encoded genesis is refused: {e:?}"));
    assert_eq!(again, genesis, "a re-encoded genesis decodes to another");
    assert_eq!(again.encode(), bytes, "the genesis encoding is not stable");
    let state = State::new(genesis);
    if let Err(broken) = state.check_invariants() {
        panic!("a node started from an accepted genesis breaks an invariant: {broken}");
    }
    Verdict::Accepted
}
