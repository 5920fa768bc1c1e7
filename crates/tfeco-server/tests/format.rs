//! Format compatibility of the journal's payloads (issue 9, "versioned wire format", `docs/journal.md`): a small
//! journal written by this version (`tests/fixtures/journal-v3/`, the testkit scenario that applies every command
//! kind) must replay, signatures verified, to its recorded state hash and totals. Every later format change
//! keeps this test green or adds a migration; the state hash may be re-recorded only together with a bump of
//! `STATE_ENCODING_VERSION`, the totals never. Unknown payload and genesis formats are refused, not guessed.
//!
//! To re-record the fixture (a deliberate act, reviewed in the diff): `TFECO_WRITE_FIXTURE=1 cargo test -p
//! tfeco-server --test format`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tfeco_core::{
    Command, RequestBody, SignedBody, COMMAND_INDEX, GENESIS_FORMAT, PAYLOAD_FORMAT, RETIRED_COMMANDS,
    STATE_ENCODING_VERSION,
};
use tfeco_journal::{Journal, MemoryJournal, NewEntry, SqliteJournal};
use tfeco_money::{Amount, AnyAsset, Asset};
use tfeco_server::replica::{BatchItem, ReplayOptions, Replica, ReplicaError, SignedRequest};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const JOURNAL_FILE: &str = "journal.sqlite";

/// What a replay of the fixture must give.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Recorded {
    payload_format: u8,
    genesis_format: u32,
    state_encoding_version: u32,
    entries: u64,
    state_hash: String,
    accounts: usize,
    /// Per asset code: deposited, minted, withdrawn, burned, supply (decimal strings).
    totals: BTreeMap<String, [String; 5]>,
    /// Every command kind in the journal (all of `COMMAND_INDEX`).
    kinds: Vec<String>,
}

/// The fixture journal of payload format `format` (`journal-v1` predates journaled command times).
fn fixture(format: u8) -> PathBuf {
    PathBuf::from(FIXTURES).join(format!("journal-v{format}"))
}

fn amount(units: i128) -> String {
    Amount::<AnyAsset>::from_units(units).to_string()
}

/// The recorded facts of a replayed replica and the kinds of its journal's commands.
fn recorded(replica: &Replica, (kinds, payload_format): (Vec<String>, u8)) -> Recorded {
    let state = replica.state();
    let ledger = state.ledger();
    let totals = Asset::ALL
        .iter()
        .map(|asset| {
            let t = ledger.totals(*asset);
            let row = [t.deposited, t.minted, t.withdrawn, t.burned, ledger.supply(*asset)].map(amount);
            (asset.code().to_owned(), row)
        })
        .collect();
    Recorded {
        payload_format,
        genesis_format: GENESIS_FORMAT,
        state_encoding_version: STATE_ENCODING_VERSION,
        entries: replica.head_seq(),
        state_hash: state.state_hash(),
        accounts: ledger.accounts().len(),
        totals,
        kinds,
    }
}

/// The command kinds of a journal, in `COMMAND_INDEX` order, each once, and the payload format of its
/// entries (all the same).
fn kinds_of(journal: &dyn Journal) -> (Vec<String>, u8) {
    let mut seen = std::collections::BTreeSet::new();
    let mut formats = std::collections::BTreeSet::new();
    journal
        .replay(1, &mut |entry| {
            let body = SignedBody::from_payload(entry.payload).expect("a fixture payload decodes");
            seen.insert(body.body().command.index());
            formats.insert(entry.payload[0]);
            Ok(())
        })
        .expect("the fixture replays");
    assert_eq!(formats.len(), 1, "one payload format per fixture");
    let kinds = COMMAND_INDEX.iter().filter(|(_, i)| seen.contains(i)).map(|(name, _)| (*name).to_owned());
    (kinds.collect(), formats.pop_first().unwrap_or_default())
}

/// Writes the fixture from the testkit scenario: a fresh SQLite journal, one durable batch per command,
/// stamped with the scenario's time; then the recorded facts.
fn write_fixture(dir: &Path) {
    std::fs::create_dir_all(dir).expect("fixture directory");
    for entry in std::fs::read_dir(dir).expect("fixture directory").flatten() {
        std::fs::remove_file(entry.path()).expect("old fixture file");
    }
    let harness = tfeco_testkit::every_command_kind();
    {
        let (journal, _) = SqliteJournal::open(dir).expect("a new journal");
        let genesis = harness.genesis.clone();
        let (mut replica, _) =
            Replica::open(Box::new(journal), || genesis, ReplayOptions::default()).expect("a new replica");
        for (now, body, signature) in harness.signed_log() {
            let kind = body.body().command.kind();
            let outcome =
                replica.apply_batch(&[BatchItem::Signed(SignedRequest { body, signature })], now * 1_000);
            let accepted = outcome.expect("a durable append").pop().expect("one outcome");
            assert!(accepted.is_ok(), "the scenario's {kind} is accepted again: {accepted:?}");
        }
        assert_eq!(replica.state().state_hash(), harness.state.state_hash(), "the journal is the scenario");
    }
    // Fold the write-ahead log into the one fixture file (a plain SQLite connection checkpoints on close).
    let raw = rusqlite::Connection::open(dir.join(JOURNAL_FILE)).expect("raw open");
    raw.pragma_update(None, "journal_mode", "DELETE").expect("leave WAL mode");
    drop(raw);
    for extra in ["anchor", "journal.sqlite-wal", "journal.sqlite-shm"] {
        let _ = std::fs::remove_file(dir.join(extra));
    }
    let (replica, kinds) = replay(dir);
    let text = serde_json::to_string_pretty(&recorded(&replica, kinds)).expect("json");
    std::fs::write(dir.join("recorded.json"), text + "\n").expect("recorded facts");
}

/// Replays a copy of the journal in `dir` with every signature verified.
fn replay(dir: &Path) -> (Replica, (Vec<String>, u8)) {
    let copy = tempfile::tempdir().expect("temp dir");
    std::fs::copy(dir.join(JOURNAL_FILE), copy.path().join(JOURNAL_FILE)).expect("the fixture journal");
    let (journal, report) = SqliteJournal::open(copy.path()).expect("the fixture journal opens");
    assert_eq!(report.bad_last_entry, None);
    let kinds = kinds_of(&journal);
    let options = ReplayOptions { verify_signatures: true };
    let no_genesis = || panic!("the fixture has its genesis");
    let (replica, _) = Replica::open(Box::new(journal), no_genesis, options).expect("the fixture replays");
    (replica, kinds)
}

/// Replays the fixture of `format` and compares it with its recorded facts.
fn check_fixture(format: u8) -> Recorded {
    let dir = fixture(format);
    let text = std::fs::read_to_string(dir.join("recorded.json")).expect("the recorded facts");
    let expected: Recorded = serde_json::from_str(&text).expect("recorded.json");
    let (replica, kinds) = replay(&dir);
    let actual = recorded(&replica, kinds);
    assert_eq!(actual, expected);
    assert_eq!(actual.payload_format, format);
    actual
}

/// The first release's journal (journal format 1, payload format 1) is refused with a clear reason, never
/// replayed under the changed rules into a state it never had: its file format is refused on open, and its
/// payloads would be refused as a retired format.
#[test]
fn the_v1_fixture_journal_is_refused_as_a_retired_format() {
    let copy = tempfile::tempdir().expect("temp dir");
    std::fs::copy(fixture(1).join(JOURNAL_FILE), copy.path().join(JOURNAL_FILE)).expect("the v1 journal");
    let error = SqliteJournal::open(copy.path()).expect_err("refused");
    assert_eq!(error, tfeco_journal::JournalError::FormatVersion { found: 1, expected: 2 });
    assert!(error.to_string().contains("not supported"), "{error}");
    // Its payload, in a journal of today's format, is refused as a retired format.
    let mut payloads = Vec::new();
    let raw = rusqlite::Connection::open(copy.path().join(JOURNAL_FILE)).expect("raw open");
    let mut rows = raw.prepare("SELECT payload FROM entries WHERE seq = 1").expect("prepare");
    for payload in rows.query_map([], |r| r.get::<_, Vec<u8>>(0)).expect("query") {
        payloads.push(payload.expect("payload"));
    }
    let payload = payloads.pop().expect("entry 1");
    let no_genesis = || panic!("the journal has its genesis");
    let error = Replica::open(Box::new(journal_with(payload)), no_genesis, ReplayOptions::default())
        .err()
        .expect("refused");
    assert!(
        matches!(&error, ReplicaError::Decode { seq: 1, reason } if reason.contains("payload format 1")),
        "{error}"
    );
}

/// The postcard-signed journal (payload format 2, signing scheme v1) is refused as a retired format, and the
/// same scenario signed under scheme v2 (payload format 3: the JSON text as signed) records exactly the
/// state it recorded: the signing scheme changed, the state did not.
#[test]
fn the_postcard_fixture_is_refused_and_the_json_fixture_records_the_same_state() {
    let copy = tempfile::tempdir().expect("temp dir");
    std::fs::copy(fixture(2).join(JOURNAL_FILE), copy.path().join(JOURNAL_FILE)).expect("the v2 journal");
    let (journal, _) = SqliteJournal::open(copy.path()).expect("the journal file format is today's");
    let no_genesis = || panic!("the journal has its genesis");
    let error =
        Replica::open(Box::new(journal), no_genesis, ReplayOptions::default()).err().expect("refused");
    assert!(
        matches!(&error, ReplicaError::Decode { seq: 1, reason } if reason.contains("scheme v1")),
        "{error}"
    );
    let read = |format: u8| -> Recorded {
        let text = std::fs::read_to_string(fixture(format).join("recorded.json")).expect("recorded facts");
        serde_json::from_str(&text).expect("recorded.json")
    };
    let (postcard, json) = (read(2), read(3));
    assert_eq!((postcard.payload_format, json.payload_format), (2, 3));
    assert_eq!(Recorded { payload_format: 3, ..postcard }, json);
}

#[test]
fn the_current_fixture_journal_replays_to_its_recorded_state() {
    if std::env::var_os("TFECO_WRITE_FIXTURE").is_some() {
        write_fixture(&fixture(PAYLOAD_FORMAT));
    }
    let recorded = check_fixture(PAYLOAD_FORMAT);
    let live = COMMAND_INDEX.iter().filter(|(name, _)| RETIRED_COMMANDS.iter().all(|(old, _)| old != name));
    let live: Vec<String> = live.map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(recorded.kinds, live, "the fixture holds every command kind that is not retired");
}

/// A journal with the genesis of the scenario and one entry whose payload is `payload`.
fn journal_with(payload: Vec<u8>) -> MemoryJournal {
    let harness = tfeco_testkit::Harness::new();
    let mut journal = MemoryJournal::new();
    journal.set_genesis(&harness.genesis.encode()).expect("genesis");
    let signer = harness.operator.0;
    journal.append(&[NewEntry { timestamp_ms: 0, signer, payload, signature: vec![0; 64] }]).expect("append");
    journal
}

#[test]
fn unknown_payload_and_genesis_formats_are_refused() {
    let harness = tfeco_testkit::Harness::new();
    let body = SignedBody::encode(RequestBody {
        signer: harness.operator,
        nonce: 1,
        expiry: 0,
        command: Command::Tick { now: 0 },
    });
    let mut payload = body.to_payload();
    payload[0] = PAYLOAD_FORMAT + 1;
    let open = |journal: MemoryJournal| {
        Replica::open(Box::new(journal), || panic!("stored genesis"), ReplayOptions::default()).map(|_| ())
    };
    match open(journal_with(payload)) {
        Err(ReplicaError::Decode { seq: 1, reason }) => assert_eq!(reason, "unknown payload format"),
        other => panic!("an unknown payload format must be refused: {other:?}"),
    }
    match open(journal_with(body.to_payload()[1..].to_vec())) {
        Err(ReplicaError::Decode { seq: 1, .. }) => {}
        other => panic!("an unversioned payload must be refused: {other:?}"),
    }
    // Format 2: the retired postcard scheme v1 (a version byte, then postcard bytes).
    let mut retired = vec![2];
    retired.extend(postcard::to_allocvec(body.body()).expect("postcard"));
    match open(journal_with(retired)) {
        Err(ReplicaError::Decode { seq: 1, reason }) => assert!(reason.contains("scheme v1"), "{reason}"),
        other => panic!("a postcard-signed payload must be refused: {other:?}"),
    }
    let mut journal = MemoryJournal::new();
    journal.set_genesis(br#"{"format":2,"genesis":{}}"#).expect("genesis");
    match open(journal) {
        Err(ReplicaError::GenesisFormat(tfeco_core::FormatError::UnknownVersion(2))) => {}
        other => panic!("an unknown genesis format must be refused: {other:?}"),
    }
}
