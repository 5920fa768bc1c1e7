//! The command's journaled time (decisions §2, §13, §14): checks that depend on when a command arrives
//! (the exchange's and the exit pool's lock windows) use it, not the last `Tick`; replay with the recorded
//! times gives the same state.

use tfeco_core::{Command, MarketId, Rejection, Side};
use tfeco_money::Asset;
use tfeco_testkit::{price, tokens, Harness};

const START: i64 = 1_761_955_200;

fn place(h: &mut Harness, who: tfeco_core::AccountKey, side: Side, limit: &str) -> tfeco_core::OrderId {
    let receipt = h.apply(
        who,
        Command::PlaceOrder {
            market_id: MarketId(1),
            side,
            quantity: tfeco_testkit::any_units(tokens(10)),
            limit_price: price(limit),
            expires_after_batches: None,
        },
    );
    receipt
        .iter()
        .find_map(|e| match e {
            tfeco_core::Event::OrderPlaced { order_id, .. } => Some(*order_id),
            _ => None,
        })
        .expect("placed")
}

/// Issue 10 item 3: with the operator ticking once a minute, a cancel two seconds before a batch closes was
/// judged by the last tick's time and accepted. Judged by the command's own time it is inside the window.
#[test]
fn a_cancel_two_seconds_before_the_clear_is_locked_whatever_the_last_tick() {
    let mut h = Harness::new();
    let alice = h.register(10);
    h.deposit(alice, Asset::Usdc, tokens(100));
    let buy = place(&mut h, alice, Side::Buy, "0.010");
    let close = h.state.exchange().books()[&MarketId(1)].next_clear_at;
    let window =
        h.state.params().markets.iter().find(|m| m.id == MarketId(1)).expect("TFT/USDC").lock_window_s;
    assert!(window >= 2, "the default lock window covers the last two seconds");
    // No Tick since the order was placed: the state's time is still START.
    assert_eq!(h.state.now(), START);
    h.at(close - 2);
    assert_eq!(h.reject(alice, Command::CancelOrder { order_id: buy }), Rejection::OrderLocked);
    // Before the window the same cancel is accepted.
    h.at(close - window - 1);
    h.apply(alice, Command::CancelOrder { order_id: buy });
}

/// A command's time is never before the state's time: the node's clock does not go back.
#[test]
fn a_command_time_before_the_state_time_is_refused() {
    let mut h = Harness::new();
    let alice = h.register(10);
    h.tick_to(START + 100);
    let envelope = h.envelope(
        alice,
        h.next_nonce(alice),
        Command::Transfer { asset: Asset::Tft, to: alice, amount: tfeco_money::Amount::from_units(1) },
    );
    assert_eq!(
        h.state.apply_at(&envelope, START + 99),
        Err(Rejection::TimeRegression { now: START + 100, got: START + 99 })
    );
}

/// The same log with the same journaled times replays to the same state.
#[test]
fn replay_with_the_recorded_times_gives_the_same_state() {
    let mut h = Harness::new();
    let alice = h.register(10);
    h.deposit(alice, Asset::Usdc, tokens(100));
    let buy = place(&mut h, alice, Side::Buy, "0.010");
    let close = h.state.exchange().books()[&MarketId(1)].next_clear_at;
    h.at(close - 1);
    assert_eq!(h.reject(alice, Command::CancelOrder { order_id: buy }), Rejection::OrderLocked);
    // Past the scheduled close but before the Tick that clears it: still locked.
    h.at(close + 5);
    assert_eq!(h.reject(alice, Command::CancelOrder { order_id: buy }), Rejection::OrderLocked);
    h.tick_to(close);
    h.at(close + 6);
    h.apply(alice, Command::CancelOrder { order_id: buy });
    assert_eq!(h.accepted_at.last(), Some(&(close + 6)));
    assert_eq!(h.replay_hash(), h.state.state_hash());
}
