//! Tests of the replica's clock: commands are applied at their journaled time, and with the wall clock a
//! due exchange batch is cleared (by a journaled operator `Tick`) before any later command.

use ed25519_dalek::SigningKey;
use tfeco_core::{AccountKey, Command, Genesis, MarketId, Params, Rejection, Side};
use tfeco_money::{Amount, Asset, Price};

use super::*;

const START: i64 = 1_761_955_200;

fn signing(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn account(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

fn submit(node: &mut Replica, key: &SigningKey, command: Command, at: i64) -> Outcome {
    let nonce = node.state().ledger().account(&account(key)).map_or(1, |a| a.last_nonce + 1);
    let request = SignedRequest::sign(key, nonce, at + 300, command);
    node.apply_batch(&[BatchItem::Signed(request)], at * 1_000).unwrap().pop().unwrap()
}

fn order(side: Side, limit: &str) -> Command {
    Command::PlaceOrder {
        market_id: MarketId(1),
        side,
        quantity: Amount::from_units(10 * 10_000_000),
        limit_price: limit.parse::<Price>().unwrap(),
        expires_after_batches: None,
    }
}

/// Alice sells 10 TFT at 0.012 and Bob buys 10 at 0.013 at START, on a wall-clock node.
fn node_with_crossing_orders() -> Replica {
    let operator = signing(1);
    let genesis = || Genesis {
        params: Params::tfgrid4_2025(account(&operator)),
        catalogue: tfeco_core::catalogue_q4_2025(),
        start_time: START,
    };
    let journal = Box::new(tfeco_journal::MemoryJournal::new());
    let mut node = Replica::open(journal, genesis, ReplayOptions::default()).unwrap().0;
    node.set_operator_key(operator.clone());
    let (alice, bob) = (signing(2), signing(3));
    for (key, asset, id) in [(&alice, Asset::Tft, "a"), (&bob, Asset::Usdc, "b")] {
        assert!(submit(&mut node, key, Command::RegisterAccount {}, START).is_ok());
        let deposit = Command::AttestDeposit {
            asset,
            to: account(key),
            amount: Amount::from_units(100 * 10_000_000),
            external_tx_id: id.to_owned(),
        };
        assert!(submit(&mut node, &operator, deposit, START).is_ok());
    }
    assert!(submit(&mut node, &alice, order(Side::Sell, "0.012"), START).is_ok());
    assert!(submit(&mut node, &bob, order(Side::Buy, "0.013"), START).is_ok());
    node
}

/// Issue 10 item 3: the exchange ran once a minute (only inside the clock's `Tick`), so a command arriving
/// after a batch's scheduled close but before the next clock tick acted on a batch that should have
/// closed. Now the batch is cleared first, by a journaled `Tick` to the command's time.
#[test]
fn a_due_batch_clears_before_a_later_command_and_replays_the_same() {
    let mut node = node_with_crossing_orders();
    let due = node.state().next_exchange_clear().expect("the book can trade");
    let head = node.head_seq();
    let bob = signing(3);
    let transfer =
        Command::Transfer { asset: Asset::Usdc, to: account(&signing(2)), amount: Amount::from_units(1) };
    let outcome = submit(&mut node, &bob, transfer, due + 1);
    let (seq, _) = outcome.expect("accepted");
    assert_eq!(seq, head + 2, "the clearing Tick is journaled first");
    assert_eq!(node.state().now(), due + 1);
    assert_eq!(node.state().next_exchange_clear(), None, "the batch cleared: nothing can trade");
    let book = &node.state().exchange().books()[&MarketId(1)];
    assert!(book.last_price.is_some(), "a trade printed");
    assert_eq!(node.replay_hash().unwrap(), node.state().state_hash());
}

/// With the manual (virtual) clock nothing is injected: commands are stamped with the state's time.
#[test]
fn a_manual_clock_stamps_commands_with_the_state_time() {
    let mut node = node_with_crossing_orders();
    node.set_clock(ClockMode::Manual);
    let head = node.head_seq();
    let bob = signing(3);
    let buy = order(Side::Buy, "0.011");
    let (seq, _) = submit(&mut node, &bob, buy, START + 3_600).expect("accepted");
    assert_eq!(seq, head + 1, "no tick injected");
    assert_eq!(node.state().now(), START);
    assert_eq!(node.state().last_command_time(), START);
    let rejected = submit(&mut node, &bob, Command::Tick { now: START }, START);
    assert_eq!(rejected.unwrap_err(), Rejection::NotAuthorized { role: tfeco_core::Role::Operator });
}

/// Issue 11: a replay from the genesis checks every snapshot and checkpoint it passes.
#[test]
fn a_replay_checks_the_witnesses_it_passes() {
    let node = node_with_crossing_orders();
    let journal = node.journal.lock();
    let head = journal.head();
    let genesis = || Genesis::decode(&journal.genesis().unwrap().unwrap()).unwrap();
    let at_head = Witness {
        seq: head.seq,
        journal_hash: head.hash,
        state_hash: node.state().state_hash(),
        source: "checkpoint".into(),
    };
    let beyond = Witness { seq: head.seq + 10, ..at_head.clone() };
    let replay = |witnesses: &[Witness]| {
        replay_witnessed(State::new(genesis()), journal.as_ref(), ReplayOptions::default(), witnesses)
            .map(|(state, checked)| (state.state_hash(), checked))
    };
    assert_eq!(replay(&[at_head.clone(), beyond]).unwrap(), (node.state().state_hash(), 1));
    let wrong_state =
        Witness { seq: 2, journal_hash: journal.entry_hash(2).unwrap().unwrap(), ..at_head.clone() };
    assert!(matches!(replay(&[wrong_state]), Err(ReplicaError::Witness { seq: 2, what: "state hash", .. })));
    let wrong_entry = Witness { journal_hash: [7; 32], ..at_head };
    assert!(matches!(replay(&[wrong_entry]), Err(ReplicaError::Witness { what: "journal entry hash", .. })));
}
