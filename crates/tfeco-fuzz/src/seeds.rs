//! The seed corpora: a handful of small, valid inputs per target, made by the real encoders (signed
//! bodies, journal entries, snapshot and anchor files as the node writes them, keystores as the wallet
//! writes them). `cargo run -p tfeco-fuzz --example write-corpus` writes them to `fuzz/corpus/<target>/`;
//! the tests check that every target accepts every seed, so the seeds reach each target's deep checks.

use ed25519_dalek::SigningKey;
use tfeco_core::{
    AccountKey, Billing, Command, FarmId, MarketId, NodeId, NodeSpec, PriceFeed, RequestBody, Side,
    SignedBody, State,
};
use tfeco_journal::anchor::{AnchorFile, ANCHOR_FILE};
use tfeco_journal::{Head, Journal, MemoryJournal, NewEntry};
use tfeco_money::{Amount, Asset};
use tfeco_wallet::keystore::{KdfParams, Keystore};
use tfeco_wallet::mnemonic::Mnemonic;

use crate::request::{account, operator_key, sign, START};

/// One seed: its file name and bytes.
pub type Seed = (String, Vec<u8>);

/// The seeds of target `name` (empty for an unknown name).
pub fn seeds(name: &str) -> Vec<Seed> {
    let texts = |items: &[(&str, &str)]| -> Vec<Seed> {
        items.iter().map(|(file, text)| ((*file).to_owned(), text.as_bytes().to_vec())).collect()
    };
    match name {
        "amounts" => amounts(),
        "signed_request" => signed_requests(),
        "request_body" => vec![("scenario".to_owned(), scenario_lines().join("\n").into_bytes())],
        "journal_record" => {
            vec![("entries".to_owned(), crate::journal::unframe_entries(&scenario_entries()))]
        }
        "journal_stream" => vec![("stream".to_owned(), journal_stream())],
        "genesis" => vec![("genesis".to_owned(), crate::journal::genesis_bytes())],
        "snapshot_state" => vec![
            ("genesis".to_owned(), genesis_state().snapshot_bytes()),
            ("scenario".to_owned(), scenario_state().snapshot_bytes()),
        ],
        "snapshot_file" => vec![("scenario".to_owned(), snapshot_file())],
        "anchor_file" => anchor_files(),
        "order_book_csv" => texts(&BOOKS),
        "bid_book_csv" => texts(&BID_BOOKS),
        "keystore" => keystores(),
        "mnemonic" => mnemonics(),
        "query_strings" => queries(),
        _ => Vec::new(),
    }
}

/// Amounts, prices, asset codes and JSON amounts; one seed of raw units (32 bytes and a rounding).
fn amounts() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = [
        "12.5",
        "0.0000001",
        "4058.33",
        "0.000000000000000001",
        "TFT",
        "usdc",
        "1.3",
        r#"{"asset":"CC","amount":"2.5"}"#,
        r#"{"num":2,"den":1}"#,
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| (format!("text-{i}"), text.as_bytes().to_vec()))
    .collect();
    let mut raw = 1_234_567_890_123i128.to_le_bytes().to_vec();
    raw.extend_from_slice(&130_478_090_000_000_000u128.to_le_bytes());
    raw.push(4);
    seeds.push(("raw-units".to_owned(), raw));
    seeds
}

/// A user's key of the scenario.
fn user_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// The commands of a small scenario, signed and numbered: `(key, nonce, command)`.
fn scenario() -> Vec<(SigningKey, u64, Command)> {
    let (operator, alice, bob) = (operator_key(), user_key(1), user_key(2));
    let (alice_id, bob_id) = (account(&alice), account(&bob));
    let amount = |text: &str| -> Amount<tfeco_money::AnyAsset> { text.parse().expect("an amount") };
    vec![
        (alice.clone(), 1, Command::RegisterAccount {}),
        (bob.clone(), 1, Command::RegisterAccount {}),
        (
            operator.clone(),
            1,
            Command::SubmitPrice {
                feed: PriceFeed::TftUsd,
                price: "0.01".parse().expect("a price"),
                observed_at: START,
            },
        ),
        (
            operator.clone(),
            2,
            Command::AttestDeposit {
                asset: Asset::Tft,
                to: alice_id,
                amount: amount("5000"),
                external_tx_id: "deposit-1".to_owned(),
            },
        ),
        (alice.clone(), 2, Command::Transfer { asset: Asset::Tft, to: bob_id, amount: amount("12.5") }),
        (alice.clone(), 3, Command::EnterWithTft { tft: "1000".parse().expect("an amount") }),
        (bob.clone(), 2, Command::RegisterFarm { name: "farm".to_owned() }),
        (
            bob.clone(),
            3,
            Command::RegisterNode {
                farm_id: FarmId(1),
                spec: NodeSpec::Model { model: "Mini 3".to_owned() },
                offered_slices: None,
            },
        ),
        (
            alice.clone(),
            4,
            Command::OpenLease { node_id: NodeId(1), n_slices: 1, billing: Billing::Hourly, periods: None },
        ),
        (
            bob,
            4,
            Command::PlaceOrder {
                market_id: MarketId(1),
                side: Side::Sell,
                quantity: amount("10"),
                limit_price: "0.012".parse().expect("a price"),
                expires_after_batches: None,
            },
        ),
        (operator, 3, Command::Tick { now: START + 86_400 }),
    ]
}

/// The scenario's signed bodies.
fn scenario_bodies() -> Vec<(SigningKey, SignedBody)> {
    let expiry = START + 365 * 86_400;
    scenario()
        .into_iter()
        .map(|(key, nonce, command)| {
            let body = RequestBody { signer: account(&key), nonce, expiry, command };
            (key, SignedBody::encode(body))
        })
        .collect()
}

/// The scenario's body texts, one per line.
fn scenario_lines() -> Vec<String> {
    scenario_bodies().iter().map(|(_, body)| body.text().to_owned()).collect()
}

/// A few signed envelopes of the scenario, one per seed.
fn signed_requests() -> Vec<Seed> {
    scenario_bodies()
        .iter()
        .step_by(3)
        .enumerate()
        .map(|(i, (key, body))| {
            (format!("tx-{i}"), serde_json::to_vec(&sign(key, body)).expect("an envelope encodes"))
        })
        .collect()
}

/// The scenario as journal entries a minute apart.
fn scenario_entries() -> Vec<NewEntry> {
    (0i64..)
        .zip(scenario_bodies())
        .map(|(i, (key, body))| {
            let request = sign(&key, &body);
            NewEntry {
                timestamp_ms: (START + 60 * i) * 1000,
                signer: key.verifying_key().to_bytes(),
                payload: body.to_payload(),
                signature: hex::decode(request.signature).expect("hex"),
            }
        })
        .collect()
}

/// The scenario's journal as the primary streams it: entry lines, then a head line.
fn journal_stream() -> Vec<u8> {
    let mut journal = MemoryJournal::new();
    journal.set_genesis(&crate::journal::genesis_bytes()).expect("a genesis");
    let head = journal.append(&scenario_entries()).expect("the scenario appends");
    let mut lines = Vec::new();
    journal
        .replay(1, &mut |e| {
            let item =
                tfeco_api::checkpoints::JournalStreamItem::Entry(crate::journal::view_of(&e.to_entry()));
            lines.push(serde_json::to_string(&item).expect("a line encodes"));
            Ok(())
        })
        .expect("the scenario replays");
    let item = tfeco_api::checkpoints::JournalStreamItem::Head {
        head_seq: head.seq,
        timestamp_ms: head.timestamp_ms,
    };
    lines.push(serde_json::to_string(&item).expect("a line encodes"));
    (lines.join("\n") + "\n").into_bytes()
}

/// The state of the fuzzed genesis.
fn genesis_state() -> State {
    State::new(crate::request::genesis())
}

/// The state after the scenario (rejected commands change nothing).
fn scenario_state() -> State {
    let mut state = genesis_state();
    for (i, (_, body)) in (0i64..).zip(scenario_bodies()) {
        let _ = state.apply_at(&body.into_envelope(), START + 60 * i);
    }
    state
}

/// The scenario state's snapshot file as the node writes it.
fn snapshot_file() -> Vec<u8> {
    let dir = crate::snapshot::scratch_dir();
    let meta = tfeco_server::snapshots::write(dir.path(), (11, [3; 32], START * 1000), &scenario_state())
        .expect("a snapshot is written");
    std::fs::read(meta.path).expect("the snapshot reads back")
}

/// Anchor files as a data directory has them: just created, and after one more commit.
fn anchor_files() -> Vec<Seed> {
    let dir = crate::snapshot::scratch_dir();
    let head = Head { seq: 4, hash: [5; 32], timestamp_ms: START * 1000 };
    let mut file = AnchorFile::create(dir.path(), [1; 16], [2; 32], head).expect("an anchor is created");
    let created = std::fs::read(dir.path().join(ANCHOR_FILE)).expect("the anchor reads back");
    file.write(Head { seq: 9, hash: [6; 32], timestamp_ms: START * 1000 + 5 }, 5).expect("an anchor write");
    let written = std::fs::read(dir.path().join(ANCHOR_FILE)).expect("the anchor reads back");
    vec![("created".to_owned(), created), ("written".to_owned(), written)]
}

/// Order books for `tfeco exchange clear`.
const BOOKS: [(&str, &str); 3] = [
    ("numeric-ids", "id,side,quantity,limit_price\n1,buy,1000,0.013\n2,sell,1000,0.012\n3,sell,250.5,0.0125\n"),
    ("text-ids", "# a comment\nid,side,quantity,limit_price\nalice,BUY,10,1.5\n\"bob, jr\",sell,4,1.25\ncarol,sell,7,1.6\n"),
    ("header-only", "id,side,quantity,limit_price\n"),
];

/// Bid books for `tfeco auction clear`.
const BID_BOOKS: [(&str, &str); 2] = [
    (
        "bids",
        "id,usdc_amount,min_price\nG,500000,0.105\nH,250000.5,0.11\n# skipped\n\n\"I, quoted\",1000,0.2\n",
    ),
    ("header-only", "id,usdc_amount,min_price\n"),
];

/// Keystores as the wallet writes them (cheap Argon2 costs so the target can decrypt them).
fn keystores() -> Vec<Seed> {
    [None, Some("alice".to_owned())]
        .into_iter()
        .enumerate()
        .map(|(i, label)| {
            let keystore =
                Keystore::encrypt(&user_key(1), crate::wallet::PASSWORD, KdfParams::fast_for_tests(), label)
                    .expect("a keystore encrypts");
            (format!("keystore-{i}"), keystore.to_json().into_bytes())
        })
        .collect()
}

/// Phrases of 12 and 24 words, one typed with odd case and spacing.
fn mnemonics() -> Vec<Seed> {
    let twelve = Mnemonic::from_entropy(&[0x5a; 16]).expect("16 bytes").phrase().to_string();
    let twenty_four = Mnemonic::from_entropy(&[0xc3; 32]).expect("32 bytes").phrase().to_string();
    let typed = format!("  {}\n", twelve.to_uppercase().replace(' ', "\t "));
    vec![
        ("twelve".to_owned(), twelve.into_bytes()),
        ("twenty-four".to_owned(), twenty_four.into_bytes()),
        ("typed".to_owned(), typed.into_bytes()),
    ]
}

/// One query per route (the first byte selects the route, `crate::query::ROUTES`).
fn queries() -> Vec<Seed> {
    let key = AccountKey([9; 32]).to_hex();
    let queries = [
        "limit=5&before=10".to_owned(),
        format!("account={key}&node=1,2&kind=lease_opened&from=1&follow=false"),
        "limit=10".to_owned(),
        "model=Mini%203&utilization=0.5&price=min".to_owned(),
        "income_factor_min=1&income_factor_max=1.3&cc_usd=0.1&amortization_months=60".to_owned(),
        "open=true".to_owned(),
        "limit=100&offset=0".to_owned(),
        "min_mem_gb=64&n_slices=4&max_price=2.0".to_owned(),
        "from=1&limit=1000".to_owned(),
        "from=5&follow=false".to_owned(),
        format!("tenant={key}&open=true"),
        "farm=1".to_owned(),
        "status=pending".to_owned(),
        format!("owner={key}"),
        "min_cores=2&max_price=10&billing=hourly&limit=3".to_owned(),
        "open=true".to_owned(),
        format!("owner={key}"),
    ];
    (0u8..)
        .zip(queries)
        .map(|(route, query)| {
            let mut bytes = vec![route];
            bytes.extend_from_slice(query.as_bytes());
            (format!("route-{route:02}"), bytes)
        })
        .collect()
}
