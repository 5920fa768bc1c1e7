//! Rejections: each refused command gives its stable code, and the harness checks that the state hash
//! (and the command count) did not change.

use tfeco_core::rejection::Limit;
use tfeco_core::{Billing, Command, Event, NodeSpec, PriceFeed, Rejection, Resources, Role};
use tfeco_money::{Amount, Asset, Cc, Tfp, Tft, Usdc};

use crate::harness::{any_units, cc, price, tokens, Harness, HOUR, START};

/// A harness with fresh prices below parity (tft 0.01, gold 4228).
fn priced() -> Harness {
    let mut h = Harness::new();
    h.set_prices("0.01", "4228");
    h
}

fn custom(mem_gb: u32, ssd_gb: u32, passmark: u32) -> NodeSpec {
    let resources = Resources { cpu_cores: 16, passmark, mem_gb, ssd_gb, ai_mem_gb: 0, ai_tps: 0 };
    NodeSpec::Custom { resources, slices: 4 }
}

#[test]
fn cc_cannot_be_transferred_between_users() {
    let mut h = priced();
    let (alice, bob) = (h.register(10), h.register(11));
    h.enter(alice, tokens(100));
    let transfer = |units| Command::Transfer { asset: Asset::Cc, to: bob, amount: any_units(units) };
    assert_eq!(h.reject(alice, transfer(tokens(1))).code().as_str(), "cc_not_transferable");
    assert_eq!(h.reject(alice, transfer(0)).code().as_str(), "cc_not_transferable");
    assert_eq!(h.balance(alice, Asset::Cc), tokens(50));
    // The other assets do move.
    h.deposit(alice, Asset::Usdc, tokens(5));
    h.apply(alice, Command::Transfer { asset: Asset::Usdc, to: bob, amount: any_units(tokens(5)) });
    assert_eq!(h.balance(bob, Asset::Usdc), tokens(5));
}

#[test]
fn slice_price_outside_the_band_is_refused() {
    let mut h = Harness::new();
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "10"); // band 10..100, set at the exact minimum
    let set = |p: &str| Command::SetSlicePrice { node_id: node, price: cc(p) };
    let rejection = h.reject(farmer, set("100.0000001"));
    assert_eq!(rejection.code().as_str(), "price_out_of_band");
    assert_eq!(
        rejection,
        Rejection::PriceOutOfBand { min: cc("10"), max: cc("100"), got: cc("100.0000001") }
    );
    assert_eq!(h.reject(farmer, set("9.9999999")).code().as_str(), "price_out_of_band");
    assert_eq!(h.reject(farmer, set("0")).code().as_str(), "price_out_of_band");
    h.apply(farmer, set("100"));
    assert_eq!(h.state.capacity().nodes()[&node].price, Some(cc("100")));
}

#[test]
fn a_nonce_not_above_the_last_one_is_refused() {
    let mut h = Harness::new();
    let alice = h.register(10);
    let bob = h.register(11);
    h.deposit(alice, Asset::Tft, tokens(10));
    let pay = Command::Transfer { asset: Asset::Tft, to: bob, amount: any_units(1) };
    let last = h.next_nonce(alice) - 1;
    assert_eq!(last, 1, "RegisterAccount used nonce 1");

    let replay = h.envelope(alice, last, pay.clone());
    let rejection = h.submit(replay).unwrap_err();
    assert_eq!(rejection, Rejection::NonceReused { last: 1, got: 1 });
    assert_eq!(rejection.code().as_str(), "nonce_reused");
    assert_eq!(h.submit(h.envelope(alice, 0, pay.clone())).unwrap_err().code().as_str(), "nonce_reused");

    // Nonces may skip, but never go back.
    h.submit(h.envelope(alice, 7, pay.clone())).expect("a larger nonce is accepted");
    assert_eq!(h.submit(h.envelope(alice, 7, pay.clone())).unwrap_err().code().as_str(), "nonce_reused");
    assert_eq!(h.submit(h.envelope(alice, 5, pay)).unwrap_err().code().as_str(), "nonce_reused");
    assert_eq!(h.balance(bob, Asset::Tft), 1);
}

/// Nonces are below 2^63 (decisions §2). Before this rule a nonce of `u64::MAX` was accepted and used up
/// the account for good (every later nonce is "reused"), and the account view's `next_nonce` wrapped to 0.
#[test]
fn a_nonce_at_or_above_two_to_the_63_is_refused_and_bricks_nothing() {
    let mut h = Harness::new();
    let alice = h.register(10);
    let bob = h.register(11);
    h.deposit(alice, Asset::Tft, tokens(10));
    let pay = Command::Transfer { asset: Asset::Tft, to: bob, amount: any_units(1) };
    let limit = tfeco_core::request::NONCE_LIMIT;
    assert_eq!(limit, 1 << 63);
    for nonce in [u64::MAX, limit, limit + 1] {
        let rejection = h.submit(h.envelope(alice, nonce, pay.clone())).unwrap_err();
        assert_eq!(rejection, Rejection::NonceOutOfRange { limit, got: nonce });
        assert_eq!(rejection.code().as_str(), "nonce_out_of_range");
    }
    // Registration is held to the same bound.
    let carol = h.key(12);
    let register = h.envelope(carol, u64::MAX, Command::RegisterAccount {});
    assert_eq!(h.submit(register).unwrap_err().code().as_str(), "nonce_out_of_range");
    // The largest nonce below the bound is accepted, and the account is not bricked before it.
    h.submit(h.envelope(alice, limit - 2, pay.clone())).expect("a nonce below 2^63 is accepted");
    h.submit(h.envelope(alice, limit - 1, pay)).expect("the last nonce below 2^63 is accepted");
    assert_eq!(h.balance(bob, Asset::Tft), 2);
}

/// Item 10 of issue 10: the 8 points of small order (and a non-canonical encoding) cannot register, even
/// when a command reaches the core without a signature check (a replay without `--signatures`). Before:
/// `RegisterAccount` from the identity point was accepted (`account_registered`).
#[test]
fn small_order_and_non_canonical_keys_cannot_register() {
    let mut h = Harness::new();
    let small_order = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ];
    // y = p + 1: a non-canonical encoding of the identity.
    let others = ["eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"];
    for hex_key in small_order.iter().chain(&others) {
        let signer = tfeco_core::AccountKey(hex::decode(hex_key).unwrap().try_into().unwrap());
        let envelope = tfeco_core::Envelope { signer, nonce: 1, command: Command::RegisterAccount {} };
        let rejection = h.submit(envelope).unwrap_err();
        assert_eq!(
            (rejection.clone(), rejection.code().as_str()),
            (Rejection::WeakKey, "weak_key"),
            "{hex_key}"
        );
        assert!(h.state.ledger().account(&signer).is_none());
    }
    // An ordinary key still registers.
    let alice = h.register(10);
    assert!(h.state.ledger().account(&alice).is_some());
}

#[test]
fn unknown_accounts_are_refused() {
    let mut h = Harness::new();
    let alice = h.register(10);
    let stranger = h.key(99);
    h.deposit(alice, Asset::Tft, tokens(10));

    let from_stranger = h.reject(stranger, Command::LockTft { tft: Amount::<Tft>::from_units(1) });
    assert_eq!(from_stranger, Rejection::AccountNotFound { account: stranger });
    let to_stranger = Command::Transfer { asset: Asset::Tft, to: stranger, amount: any_units(1) };
    assert_eq!(h.reject(alice, to_stranger).code().as_str(), "account_not_found");
    let operator = h.operator;
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: stranger,
        amount: any_units(1),
        external_tx_id: "tx-to-nobody".to_owned(),
    };
    assert_eq!(h.reject(operator, deposit).code().as_str(), "account_not_found");
    assert_eq!(h.reject(alice, Command::RegisterAccount {}).code().as_str(), "account_exists");
}

#[test]
fn spending_more_than_the_free_balance_is_refused() {
    let mut h = priced();
    let (alice, bob) = (h.register(10), h.register(11));
    h.deposit(alice, Asset::Tft, tokens(10));
    let transfer = Command::Transfer { asset: Asset::Tft, to: bob, amount: any_units(tokens(10) + 1) };
    let rejection = h.reject(alice, transfer);
    assert_eq!(
        rejection,
        Rejection::BalanceLow {
            asset: Asset::Tft,
            needed: Amount::from_units(tokens(10) + 1),
            available: Amount::from_units(tokens(10)),
        }
    );
    let enter = Command::EnterWithTft { tft: Amount::<Tft>::from_units(tokens(11)) };
    assert_eq!(h.reject(alice, enter).code().as_str(), "balance_low");
    let lock = Command::LockTft { tft: Amount::<Tft>::from_units(tokens(11)) };
    assert_eq!(h.reject(alice, lock).code().as_str(), "balance_low");
    let unlock = Command::UnlockTfp { tfp: Amount::<Tfp>::from_units(1) };
    h.set_prices("0.5", "4228"); // above parity, so unlocking is open
    assert_eq!(h.reject(alice, unlock).code().as_str(), "balance_low");
    let tfp = Command::Transfer { asset: Asset::Tfp, to: bob, amount: any_units(1) };
    assert_eq!(h.reject(alice, tfp).code().as_str(), "balance_low");
    assert_eq!(h.balance(alice, Asset::Tft), tokens(10));
}

#[test]
fn unlocking_tfp_is_closed_below_parity_and_open_at_or_above_it() {
    let mut h = priced();
    let alice = h.register(10);
    h.deposit(alice, Asset::Tft, tokens(100));
    h.apply(alice, Command::LockTft { tft: Amount::<Tft>::from_units(tokens(100)) });
    assert_eq!((h.balance(alice, Asset::Tft), h.balance(alice, Asset::Tfp)), (0, tokens(100)));
    let unlock = |units| Command::UnlockTfp { tfp: Amount::<Tfp>::from_units(units) };
    assert_eq!(h.reject(alice, unlock(tokens(40))), Rejection::UnlockClosed);
    assert_eq!(h.reject(alice, unlock(tokens(40))).code().as_str(), "unlock_closed");

    // Exactly at parity: tft_usd = cc_usd / 2 with gold 3110.34768 (cc_usd = 0.1) is tft_usd = 0.05.
    h.set_prices("0.0499999999", "3110.34768");
    assert_eq!(h.reject(alice, unlock(tokens(40))).code().as_str(), "unlock_closed");
    h.set_prices("0.05", "3110.34768");
    h.apply(alice, unlock(tokens(40)));
    assert_eq!((h.balance(alice, Asset::Tft), h.balance(alice, Asset::Tfp)), (tokens(40), tokens(60)));
}

#[test]
fn price_dependent_commands_are_unavailable_without_fresh_prices() {
    let mut h = Harness::new();
    let alice = h.register(10);
    h.deposit(alice, Asset::Tft, tokens(100));
    let enter = |whole| Command::EnterWithTft { tft: Amount::<Tft>::from_units(tokens(whole)) };
    assert_eq!(h.reject(alice, enter(10)), Rejection::PriceUnavailable { feed: PriceFeed::TftUsd });

    h.set_prices("0.01", "4228");
    h.tick_to(START + HOUR); // exactly one hour old: still valid
    h.apply(alice, enter(10));
    h.tick_to(START + HOUR + 1); // older than one hour: stale
    assert_eq!(h.reject(alice, enter(10)).code().as_str(), "price_unavailable");
    let unlock = Command::UnlockTfp { tfp: Amount::<Tfp>::from_units(1) };
    assert_eq!(h.reject(alice, unlock).code().as_str(), "price_unavailable");
    let operator = h.operator;
    let fiat = Command::EnterWithFiat {
        to: alice,
        usd: Amount::<Usdc>::from_units(tokens(1)),
        payment_id: "p".to_owned(),
    };
    assert_eq!(h.reject(operator, fiat), Rejection::PriceUnavailable { feed: PriceFeed::GoldUsdPerOz });

    // Only one feed fresh is not enough for a TFT entry.
    h.submit_price(PriceFeed::TftUsd, "0.01");
    assert_eq!(h.reject(alice, enter(10)), Rejection::PriceUnavailable { feed: PriceFeed::GoldUsdPerOz });
    h.submit_price(PriceFeed::GoldUsdPerOz, "4228");
    h.apply(alice, enter(10));
}

#[test]
fn invalid_price_submissions_are_refused() {
    let mut h = Harness::new();
    let operator = h.operator;
    let submit =
        |p: &str, observed_at| Command::SubmitPrice { feed: PriceFeed::TftUsd, price: price(p), observed_at };
    assert_eq!(h.reject(operator, submit("0", START)).code().as_str(), "price_invalid");
    assert_eq!(
        h.reject(operator, submit("0.01", START + 1)).code().as_str(),
        "price_invalid",
        "observed in the future"
    );
    h.apply(operator, submit("0.01", START));
    assert_eq!(h.reject(operator, submit("0.02", START)).code().as_str(), "price_invalid", "not newer");
}

#[test]
fn a_node_below_the_minimum_specs_is_refused() {
    let mut h = Harness::new();
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = |spec| Command::RegisterNode { farm_id: farm, spec, offered_slices: None };
    let rejection = h.reject(farmer, node(custom(8, 1_000, 10_000)));
    assert_eq!(rejection.code().as_str(), "node_below_minimum_spec");
    assert_eq!(h.reject(farmer, node(custom(32, 999, 10_000))).code().as_str(), "node_below_minimum_spec");
    assert_eq!(h.reject(farmer, node(custom(32, 1_000, 6_399))).code().as_str(), "node_below_minimum_spec");
    let events = h.apply(farmer, node(custom(32, 1_000, 6_400)));
    assert!(matches!(events.as_slice(), [Event::NodeRegistered { offered_slices: 4, .. }]));
    // Custom band: max(4 GB, 32 / 4 GB) per slice x 0.3..3 CC per GB = 2.4..24 CC.
    let registered = h.state.capacity().nodes().values().next().unwrap();
    assert_eq!((registered.band_min, registered.band_max), (cc("2.4"), cc("24")));
    // 16 GB in 8 slices is 2 GB per slice, priced as the 4 GB floor: 1.2..12 CC.
    let small =
        Resources { cpu_cores: 8, passmark: 3_200, mem_gb: 16, ssd_gb: 1_000, ai_mem_gb: 0, ai_tps: 0 };
    h.apply(farmer, node(NodeSpec::Custom { resources: small, slices: 8 }));
    let registered = h.state.capacity().nodes().values().last().unwrap();
    assert_eq!((registered.band_min, registered.band_max, registered.slices), (cc("1.2"), cc("12"), 8));
    let unknown = node(NodeSpec::Model { model: "Mini 4".to_owned() });
    assert_eq!(h.reject(farmer, unknown).code().as_str(), "unknown_model");
}

#[test]
fn operator_only_commands_are_refused_to_others() {
    let mut h = priced();
    let alice = h.register(10);
    let now = h.state.now();
    assert_eq!(
        h.reject(alice, Command::Tick { now: now + 1 }),
        Rejection::NotAuthorized { role: Role::Operator }
    );
    let submit = Command::SubmitPrice { feed: PriceFeed::TftUsd, price: price("0.02"), observed_at: now };
    assert_eq!(h.reject(alice, submit).code().as_str(), "not_authorized");
    let deposit = Command::AttestDeposit {
        asset: Asset::Tft,
        to: alice,
        amount: any_units(1),
        external_tx_id: "x".to_owned(),
    };
    assert_eq!(h.reject(alice, deposit).code().as_str(), "not_authorized");
    let fiat =
        Command::EnterWithFiat { to: alice, usd: Amount::<Usdc>::from_units(1), payment_id: "x".to_owned() };
    assert_eq!(h.reject(alice, fiat).code().as_str(), "not_authorized");
    assert_eq!(h.state.now(), now);
}

#[test]
fn time_cannot_go_backwards() {
    let mut h = Harness::new();
    h.tick_to(START + 10);
    let operator = h.operator;
    let rejection = h.reject(operator, Command::Tick { now: START + 9 });
    assert_eq!(rejection, Rejection::TimeRegression { now: START + 10, got: START + 9 });
    assert_eq!(rejection.code().as_str(), "time_regression");
    h.tick_to(START + 10); // the same time is allowed
    assert_eq!(h.state.now(), START + 10);
}

/// Issue 10 item 3: one `Tick` advances at most `max_tick_advance_s` (default 35 days); a longer step is
/// refused (`limit_exceeded`, `tick_advance`) and changes nothing (before: a +100-year tick was accepted).
#[test]
fn one_tick_advances_at_most_the_parameter() {
    let mut h = Harness::new();
    let operator = h.operator;
    let max = h.state.params().max_tick_advance_s;
    assert_eq!(max, 35 * 86_400);
    let rejection = h.reject(operator, Command::Tick { now: START + max + 1 });
    assert_eq!(rejection, Rejection::LimitExceeded { what: Limit::TickAdvance, limit: 3_024_000 });
    assert_eq!(rejection.code().as_str(), "limit_exceeded");
    assert_eq!(h.state.now(), START);
    h.tick_to(START + max); // exactly the bound is allowed
    h.tick_to(START + 2 * max);
    assert_eq!(h.state.now(), START + 2 * max);
}

#[test]
fn leasing_more_slices_than_are_free_is_refused() {
    let mut h = priced();
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "10");
    let (alice, bob) = (h.register(10), h.register(11));
    h.enter(alice, tokens(200));
    h.enter(bob, tokens(200));
    h.open_lease(alice, node, 3, Billing::Monthly, None);
    let open = |n| Command::OpenLease { node_id: node, n_slices: n, billing: Billing::Hourly, periods: None };
    assert_eq!(h.reject(bob, open(2)), Rejection::SlicesUnavailable { requested: 2, free: 1 });
    assert_eq!(h.reject(bob, open(5)).code().as_str(), "invalid_slice_count");
    assert_eq!(h.reject(bob, open(0)).code().as_str(), "invalid_slice_count");
    h.open_lease(bob, node, 1, Billing::Hourly, None);
    assert_eq!(h.reject(bob, open(1)), Rejection::SlicesUnavailable { requested: 1, free: 0 });
}

#[test]
fn a_lease_the_tenant_cannot_pay_is_refused() {
    let mut h = priced();
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "100");
    let alice = h.register(10);
    h.enter(alice, tokens(200) - 2); // 99.9999999 CC
    let open = Command::OpenLease { node_id: node, n_slices: 1, billing: Billing::Monthly, periods: None };
    assert_eq!(h.reject(alice, open).code().as_str(), "balance_low");
    assert_eq!(h.free_slices(node), 4);
}

#[test]
fn attested_deposits_are_idempotent_by_external_id() {
    let mut h = Harness::new();
    let (alice, bob) = (h.register(10), h.register(11));
    let operator = h.operator;
    let deposit = |to, units| Command::AttestDeposit {
        asset: Asset::Tft,
        to,
        amount: any_units(units),
        external_tx_id: "stellar-tx-1".to_owned(),
    };
    h.apply(operator, deposit(alice, tokens(100)));
    let again = h.apply(operator, deposit(alice, tokens(100)));
    assert_eq!(again, vec![Event::AlreadyApplied { id: "stellar-tx-1".to_owned() }]);
    assert_eq!(h.balance(alice, Asset::Tft), tokens(100), "credited once");
    assert_eq!(h.state.ledger().totals(Asset::Tft).deposited, tokens(100));

    let conflict = h.reject(operator, deposit(alice, tokens(101)));
    assert_eq!(conflict, Rejection::AttestationConflict { id: "stellar-tx-1".to_owned() });
    assert_eq!(conflict.code().as_str(), "attestation_conflict");
    assert_eq!(h.reject(operator, deposit(bob, tokens(100))).code().as_str(), "attestation_conflict");
    let usdc = Command::AttestDeposit {
        asset: Asset::Usdc,
        to: alice,
        amount: any_units(tokens(100)),
        external_tx_id: "stellar-tx-1".to_owned(),
    };
    assert_eq!(h.reject(operator, usdc).code().as_str(), "attestation_conflict");
    let tfp = Command::AttestDeposit {
        asset: Asset::Tfp,
        to: alice,
        amount: any_units(1),
        external_tx_id: "stellar-tx-2".to_owned(),
    };
    assert_eq!(h.reject(operator, tfp).code().as_str(), "asset_not_allowed");
}

#[test]
fn fiat_entries_are_idempotent_by_payment_id() {
    let mut h = priced();
    let alice = h.register(10);
    let operator = h.operator;
    let fiat = |units| Command::EnterWithFiat {
        to: alice,
        usd: Amount::<Usdc>::from_units(units),
        payment_id: "stripe-pi-1".to_owned(),
    };
    let events = h.apply(operator, fiat(tokens(10)));
    let minted = match events.first() {
        Some(Event::EnteredWithFiat { cc_minted, .. }) => *cc_minted,
        other => panic!("{other:?}"),
    };
    // $10 / (4228 / 31103.4768 / 1000) = 73.5654607.. CC, rounded down.
    assert_eq!(minted, Amount::<Cc>::from_units(735_654_607));
    let again = h.apply(operator, fiat(tokens(10)));
    assert_eq!(again, vec![Event::AlreadyApplied { id: "stripe-pi-1".to_owned() }]);
    assert_eq!(h.balance(alice, Asset::Cc), minted.units(), "minted once");
    let treasury = tfeco_core::AccountRef::System(tfeco_core::SystemAccount::Treasury);
    assert_eq!(h.state.ledger().balance(treasury, Asset::Usdc), tokens(10), "USDC credited once");
    assert_eq!(h.reject(operator, fiat(tokens(11))).code().as_str(), "attestation_conflict");
}

#[test]
fn non_positive_amounts_are_refused() {
    let mut h = priced();
    let (alice, bob) = (h.register(10), h.register(11));
    h.deposit(alice, Asset::Tft, tokens(10));
    for units in [0, -1, i128::MIN] {
        let transfer = Command::Transfer { asset: Asset::Tft, to: bob, amount: any_units(units) };
        assert_eq!(h.reject(alice, transfer).code().as_str(), "amount_not_positive");
        let lock = Command::LockTft { tft: Amount::<Tft>::from_units(units) };
        assert_eq!(h.reject(alice, lock).code().as_str(), "amount_not_positive");
    }
    // One base unit of TFT is worth less than one base unit of CC at 2 TFT per CC: nothing to mint.
    let dust = Command::EnterWithTft { tft: Amount::<Tft>::from_units(1) };
    assert_eq!(h.reject(alice, dust).code().as_str(), "amount_not_positive");
}
