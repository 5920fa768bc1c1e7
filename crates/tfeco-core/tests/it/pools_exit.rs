//! Issue 3 through the state machine: Pool 2 conversions (spec `decisions.md` §5), farmer settlement in
//! TFP (§6), and the exit pool (§8): positions, sealed exit bids, the lock window, and the round close on
//! `Tick` (uniform clearing, USDC paid, TFP surrendered, treasury share, margin to the staying positions,
//! carry-over). Every command goes through [`Harness`], which checks every invariant after each command
//! (including `TFP supply == vault TFT`) and that a rejection leaves the state hash unchanged.
//!
//! Expected values are recomputed here with plain `u128` integer arithmetic from the prices given, never
//! read back from the core.

use std::collections::BTreeMap;

use tfeco_core::rules::exit_auction::{self as auction, ClearingRules, ExitBid};
use tfeco_core::slices::exit_pool::{Position, RoundResult};
use tfeco_core::{
    AccountKey, Billing, Command, Event, ExitBidId, PositionId, Receipt, Rejection, Settlement,
    SystemAccount, TreasuryDestination,
};
use tfeco_money::{Amount, Asset, Bps, Cc, Tfp, Tft, Usdc};

use crate::harness::{price, tft_for_cc_floor, tokens, Harness, MONTH, START};

const DAY: i64 = 86_400;
/// Default exit round: 7 days.
const ROUND: i64 = 7 * DAY;
/// Default `position_min_lock`: 30 days.
const MIN_LOCK: i64 = 30 * DAY;
/// Default lock window before a round closes: 1 hour.
const LOCK_WINDOW: i64 = 3_600;
/// 365 days, the weight's year.
const YEAR: i64 = 365 * DAY;
/// 10^18: atto-USD per USD.
const ATTO: u128 = 1_000_000_000_000_000_000;
/// 31.1034768 g per troy ounce, times 10^7.
const TROY_OZ_G_E7: u128 = 311_034_768;

const GOLD: &str = "4228";

// ---------------------------------------------------------------------------------------------------
// Helpers (own arithmetic, independent of the core)
// ---------------------------------------------------------------------------------------------------

fn usdc(text: &str) -> Amount<Usdc> {
    text.parse().unwrap_or_else(|e| panic!("bad USDC amount {text:?}: {e:?}"))
}

fn cc_amount(units: i128) -> Amount<Cc> {
    Amount::from_units(units)
}

/// `ceil(usdc_units / price)` in TFP base units (both assets have 7 decimals).
fn tfp_ceil(usdc_units: i128, price_text: &str) -> i128 {
    let p = price(price_text).atto();
    (usdc_units as u128 * ATTO).div_ceil(p) as i128
}

/// `floor(tfp_units * tft_usd / cc_usd)` with `cc_usd = gold / 31.1034768 / 1000`:
/// `tfp * tft_atto * 311,034,768 / (gold_atto * 10^4)`.
fn cc_for_tfp_floor(tfp_units: i128, tft_usd: &str, gold: &str) -> i128 {
    let num = (tfp_units as u128) * price(tft_usd).atto();
    let num = num.checked_mul(TROY_OZ_G_E7).expect("test amounts stay small");
    let den = price(gold).atto() * 10_000;
    (num / den) as i128
}

/// `cc_units * cc_usd <= tfp_units * tft_usd`, exactly: the CC's value fits in `tfp_units` TFP.
fn cc_value_fits(cc_units: i128, tfp_units: i128, tft_usd: &str, gold: &str) -> bool {
    let left = (cc_units as u128) * price(gold).atto() * 10_000;
    let right = (tfp_units as u128) * price(tft_usd).atto() * TROY_OZ_G_E7;
    left <= right
}

/// A position's weight up to a constant factor: `amount * (year + min(age, 2 years))` (k = 1).
fn weight(amount_units: i128, age_s: i64) -> u128 {
    let age = age_s.clamp(0, 2 * YEAR) as u128;
    amount_units as u128 * (YEAR as u128 + age)
}

/// A registered user holding `tfp_units` free TFP (TFT deposited, then locked 1:1).
fn tfp_holder(h: &mut Harness, seed: u8, tfp_units: i128) -> AccountKey {
    let who = h.register(seed);
    if tfp_units > 0 {
        h.deposit(who, Asset::Tft, tfp_units);
        h.apply(who, Command::LockTft { tft: Amount::<Tft>::from_units(tfp_units) });
    }
    who
}

fn open_position(h: &mut Harness, who: AccountKey, tfp_units: i128) -> PositionId {
    let events = h.apply(who, Command::OpenPosition { tfp: Amount::from_units(tfp_units) });
    match events.as_slice() {
        [Event::PositionOpened { position_id, .. }] => *position_id,
        other => panic!("unexpected events {other:?}"),
    }
}

fn bid_command(position_id: PositionId, amount: &str, min_price: &str, carry_over: bool) -> Command {
    Command::SubmitExitBid { position_id, usdc: usdc(amount), min_price: price(min_price), carry_over }
}

fn submit_bid(
    h: &mut Harness,
    who: AccountKey,
    position_id: PositionId,
    amount: &str,
    min_price: &str,
    carry_over: bool,
) -> ExitBidId {
    let events = h.apply(who, bid_command(position_id, amount, min_price, carry_over));
    match events.as_slice() {
        [Event::ExitBidSubmitted { bid_id, reserved_tfp, .. }] => {
            assert_eq!(reserved_tfp.units(), tfp_ceil(usdc(amount).units(), min_price), "reservation");
            *bid_id
        }
        other => panic!("unexpected events {other:?}"),
    }
}

/// Credits the treasury with `usdc_units` USDC through a fiat entry, then moves it into the exit pool by a
/// guardian-approved treasury transfer (the operator is the default set's only guardian, threshold 1).
fn fund_exit_pool(h: &mut Harness, usdc_units: i128) {
    let operator = h.operator;
    h.enter_fiat(operator, usdc_units);
    let transfer_ref = h.external_id("transfer");
    let (usdc, to) = (Amount::from_units(usdc_units), TreasuryDestination::ExitPool);
    let events = h.apply(operator, Command::ApproveTreasuryTransfer { usdc, to, transfer_ref });
    assert!(matches!(events.as_slice(), [Event::ExitPoolFunded { .. }]), "{events:?}");
}

fn position(h: &Harness, id: PositionId) -> Position {
    h.state.exit_pool().positions()[&id].clone()
}

/// Brings time to just before the current round's close, submits fresh prices, and ticks to the close.
/// Returns the closing tick's receipt.
fn close_round(h: &mut Harness, tft_usd: &str) -> Receipt {
    let closes_at = h.state.exit_pool().round().closes_at;
    if h.state.now() < closes_at - 600 {
        h.tick_to(closes_at - 600);
    }
    h.set_prices(tft_usd, GOLD);
    h.tick_to(closes_at)
}

fn last_result(h: &Harness) -> RoundResult {
    h.state.exit_pool().history().back().expect("a round closed").clone()
}

/// `(supply, totals)` of one asset.
fn supply_of(h: &Harness, asset: Asset) -> (i128, tfeco_core::ledger::AssetTotals) {
    (h.state.ledger().supply(asset), h.state.ledger().totals(asset))
}

fn assert_vault_backs_tfp(h: &Harness) {
    assert_eq!(
        h.state.ledger().supply(Asset::Tfp),
        h.system(SystemAccount::Vault, Asset::Tft),
        "TFP supply == vault TFT"
    );
}

// ---------------------------------------------------------------------------------------------------
// Pool 2 (spec §5) and farmer settlement (§6)
// ---------------------------------------------------------------------------------------------------

/// A world where a farmer earned 80 CC of revenue from one 100 CC monthly lease of a Mini AI 1 slice.
/// `whale_tft` TFT entered by a third user first fills `pool2.reserve`; the tenant enters `tenant_tft` TFT
/// (also into the reserve). Returns `(h, farmer, tenant)`.
fn revenue_world(
    tft_usd: &str,
    gold: &str,
    whale_tft: i128,
    tenant_tft: i128,
    farmer_settles_in_tfp: bool,
) -> (Harness, AccountKey, AccountKey) {
    let mut h = Harness::new();
    h.set_prices(tft_usd, gold);
    if whale_tft > 0 {
        let whale = h.register(50);
        h.enter(whale, whale_tft);
    }
    let farmer = h.register(51);
    if farmer_settles_in_tfp {
        h.apply(farmer, Command::SetSettlement { settle_in: Settlement::Tfp });
    }
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "100");
    let tenant = h.register(52);
    h.enter(tenant, tenant_tft);
    h.open_lease(tenant, node, 1, Billing::Monthly, None);
    (h, farmer, tenant)
}

fn revenue_cc(h: &Harness, who: AccountKey) -> i128 {
    h.state.ledger().account(&who).expect("registered").revenue_cc
}

#[test]
fn converting_revenue_cc_pays_exactly_floor_of_cc_times_cc_usd_over_tft_usd() {
    let cases = [
        ("0.01", "4228"),
        ("0.0123457", "3987.654321"),
        ("0.5", "2650.5"),
        ("0.0871", "1799.99"),
        ("1", "4228"),
    ];
    for (tft_usd, gold) in cases {
        let (mut h, farmer, _) = revenue_world(tft_usd, gold, tokens(10_000_000), tokens(20_000), false);
        let earned = tokens(80);
        assert_eq!(revenue_cc(&h, farmer), earned, "80 % of 100 CC is revenue CC");
        // Three conversions of odd sizes that together use the whole revenue.
        let parts = [333_333_337, 100, earned - 333_333_437];
        let mut tfp_total = 0;
        for part in parts {
            let expected = tft_for_cc_floor(part, tft_usd, gold);
            let reserve_before = h.system(SystemAccount::Pool2Reserve, Asset::Tfp);
            let burned_before = h.burned(Asset::Cc);
            let cc_before = h.balance(farmer, Asset::Cc);
            let revenue_before = revenue_cc(&h, farmer);
            let events =
                h.apply(farmer, Command::ConvertCcToTfp { cc: cc_amount(part), allow_partial: false });
            match events.as_slice() {
                [Event::ConvertedCcToTfp { cc, tfp, .. }] => {
                    assert_eq!((cc.units(), tfp.units()), (part, expected), "{tft_usd}/{gold}: {part}");
                }
                other => panic!("unexpected events {other:?}"),
            }
            tfp_total += expected;
            assert_eq!(h.balance(farmer, Asset::Tfp), tfp_total);
            assert_eq!(h.balance(farmer, Asset::Cc), cc_before - part, "the CC is taken");
            assert_eq!(h.burned(Asset::Cc), burned_before + part, "and burned");
            assert_eq!(revenue_cc(&h, farmer), revenue_before - part);
            assert_eq!(h.system(SystemAccount::Pool2Reserve, Asset::Tfp), reserve_before - expected);
            assert_vault_backs_tfp(&h);
        }
        assert_eq!(revenue_cc(&h, farmer), 0);
        let rejection = h.reject(farmer, Command::ConvertCcToTfp { cc: cc_amount(1), allow_partial: true });
        assert_eq!(rejection.code().as_str(), "revenue_cc_low");
    }
}

#[test]
fn cc_that_is_not_revenue_cannot_be_converted_to_tfp() {
    let (mut h, farmer, tenant) = revenue_world("0.01", GOLD, tokens(10_000_000), tokens(20_000), false);
    // The tenant's CC came from entry: none of it is revenue.
    assert!(h.balance(tenant, Asset::Cc) > tokens(1));
    for allow_partial in [false, true] {
        let r = h.reject(tenant, Command::ConvertCcToTfp { cc: cc_amount(tokens(1)), allow_partial });
        assert_eq!(r.code().as_str(), "revenue_cc_low");
    }
    // The farmer also enters TFP for ordinary CC: only the 80 revenue CC convert.
    h.enter(farmer, tokens(1_000));
    let ordinary = h.balance(farmer, Asset::Cc) - tokens(80);
    assert!(ordinary > 0);
    let too_much = Command::ConvertCcToTfp { cc: cc_amount(tokens(80) + 1), allow_partial: true };
    assert_eq!(h.reject(farmer, too_much).code().as_str(), "revenue_cc_low");
    h.apply(farmer, Command::ConvertCcToTfp { cc: cc_amount(tokens(80)), allow_partial: false });
    assert_eq!(h.balance(farmer, Asset::Cc), ordinary, "the ordinary CC is untouched");
    // CC minted by a TFP→CC conversion is ordinary CC too.
    let holder = tfp_holder(&mut h, 53, tokens(1_000));
    h.apply(holder, Command::ConvertTfpToCc { tfp: Amount::from_units(tokens(100)) });
    assert!(h.balance(holder, Asset::Cc) > 0);
    assert_eq!(revenue_cc(&h, holder), 0);
    let back = Command::ConvertCcToTfp { cc: cc_amount(1), allow_partial: false };
    assert_eq!(h.reject(holder, back).code().as_str(), "revenue_cc_low");
    // Zero is refused as such.
    let zero = Command::ConvertCcToTfp { cc: cc_amount(0), allow_partial: false };
    assert_eq!(h.reject(farmer, zero).code().as_str(), "amount_not_positive");
}

#[test]
fn a_reserve_shortfall_is_refused_or_partially_filled_with_the_largest_cc_that_fits() {
    let (tft_usd, gold) = ("0.01", GOLD);
    // No whale: the reserve holds only the 1,000 TFP of the tenant's entry, minus the TFT burned with the
    // burn share of the first charge; 80 revenue CC are worth more than that.
    let (mut h, farmer, _) = revenue_world(tft_usd, gold, 0, tokens(1_000), false);
    let reserve = h.system(SystemAccount::Pool2Reserve, Asset::Tfp);
    let earned = revenue_cc(&h, farmer);
    assert_eq!(earned, tokens(80));
    assert!(tft_for_cc_floor(earned, tft_usd, gold) > reserve, "the scenario needs a shortfall");
    let command = Command::ConvertCcToTfp { cc: cc_amount(earned), allow_partial: false };
    let rejection = h.reject(farmer, command);
    assert_eq!(rejection.code().as_str(), "insufficient_pool_liquidity");

    let events = h.apply(farmer, Command::ConvertCcToTfp { cc: cc_amount(earned), allow_partial: true });
    let (cc_burned, tfp_got) = match events.as_slice() {
        [Event::ConvertedCcToTfp { cc, tfp, .. }] => (cc.units(), tfp.units()),
        other => panic!("unexpected events {other:?}"),
    };
    assert!(tfp_got <= reserve, "never more than the reserve");
    assert!(cc_burned < earned, "a partial fill");
    assert_eq!(tfp_got, tft_for_cc_floor(cc_burned, tft_usd, gold), "at the oracle price, rounded down");
    // The largest CC amount whose value fits in the reserve.
    assert!(cc_value_fits(cc_burned, reserve, tft_usd, gold));
    assert!(!cc_value_fits(cc_burned + 1, reserve, tft_usd, gold));
    assert_eq!(h.system(SystemAccount::Pool2Reserve, Asset::Tfp), reserve - tfp_got);
    assert_eq!(revenue_cc(&h, farmer), earned - cc_burned, "the rest stays revenue CC");
    assert_eq!(h.balance(farmer, Asset::Tfp), tfp_got);
    assert_vault_backs_tfp(&h);
}

#[test]
fn converting_tfp_to_cc_mints_floor_of_tfp_times_tft_usd_over_cc_usd_as_ordinary_cc() {
    for (tft_usd, gold) in [("0.01", "4228"), ("0.0123457", "3987.654321"), ("0.73", "2650.5")] {
        let mut h = Harness::new();
        h.set_prices(tft_usd, gold);
        let holder = tfp_holder(&mut h, 60, tokens(1_000));
        let supply_before = h.state.ledger().supply(Asset::Tfp);
        let reserve_before = h.system(SystemAccount::Pool2Reserve, Asset::Tfp);
        let p = 1_234_567_891; // 123.4567891 TFP
        let expected = cc_for_tfp_floor(p, tft_usd, gold);
        let events = h.apply(holder, Command::ConvertTfpToCc { tfp: Amount::from_units(p) });
        match events.as_slice() {
            [Event::ConvertedTfpToCc { tfp, cc, .. }] => assert_eq!((tfp.units(), cc.units()), (p, expected)),
            other => panic!("unexpected events {other:?}"),
        }
        assert_eq!(h.balance(holder, Asset::Cc), expected, "{tft_usd}/{gold}");
        assert_eq!(h.balance(holder, Asset::Tfp), tokens(1_000) - p);
        assert_eq!(h.system(SystemAccount::Pool2Reserve, Asset::Tfp), reserve_before + p);
        assert_eq!(h.state.ledger().supply(Asset::Tfp), supply_before, "TFP only moves");
        assert_eq!(revenue_cc(&h, holder), 0, "minted CC is ordinary CC");
        assert_vault_backs_tfp(&h);
        // More TFP than held is refused.
        let r = h.reject(holder, Command::ConvertTfpToCc { tfp: Amount::from_units(tokens(1_000)) });
        assert_eq!(r.code().as_str(), "balance_low");
    }
}

#[test]
fn conversions_need_a_valid_price() {
    let (mut h, farmer, _) = revenue_world("0.01", GOLD, tokens(10_000_000), tokens(20_000), false);
    h.advance(2 * 3_600); // prices are now stale
    let r = h.reject(farmer, Command::ConvertCcToTfp { cc: cc_amount(tokens(1)), allow_partial: false });
    assert_eq!(r.code().as_str(), "price_unavailable");
    let holder = tfp_holder(&mut h, 60, tokens(10));
    let r = h.reject(holder, Command::ConvertTfpToCc { tfp: Amount::from_units(tokens(1)) });
    assert_eq!(r.code().as_str(), "price_unavailable");
}

#[test]
fn a_farmer_settling_in_tfp_receives_tfp_when_a_charge_credits_revenue() {
    let (tft_usd, gold) = ("0.01", GOLD);
    let (mut h, farmer, _) = revenue_world(tft_usd, gold, tokens(10_000_000), tokens(20_000), true);
    let first = tft_for_cc_floor(tokens(80), tft_usd, gold);
    assert_eq!(h.balance(farmer, Asset::Tfp), first, "80 CC converted at once");
    assert_eq!(h.balance(farmer, Asset::Cc), 0);
    assert_eq!(revenue_cc(&h, farmer), 0);
    // The renewal a month later, charged by Tick with fresh prices, converts too.
    h.tick_to(START + MONTH - 600);
    h.set_prices("0.02", gold);
    let receipt = h.tick_to(START + MONTH);
    assert!(receipt
        .iter()
        .any(|e| matches!(e, Event::ConvertedCcToTfp { account, .. } if *account == farmer)));
    let second = tft_for_cc_floor(tokens(80), "0.02", gold);
    assert_eq!(h.balance(farmer, Asset::Tfp), first + second);
    assert_eq!(h.balance(farmer, Asset::Cc), 0);
    // Without a valid price at the next renewal, the revenue stays CC.
    let receipt = h.tick_to(START + 2 * MONTH);
    assert!(!receipt.iter().any(|e| matches!(e, Event::ConvertedCcToTfp { .. })));
    assert_eq!(revenue_cc(&h, farmer), tokens(80));
    assert_eq!(h.balance(farmer, Asset::Tfp), first + second);
    assert_vault_backs_tfp(&h);
}

#[test]
fn settlement_in_tfp_converts_only_as_far_as_the_reserve_allows() {
    let (tft_usd, gold) = ("0.01", GOLD);
    // A small reserve: only the tenant's 1,000 TFT entry, less than the ~1,087 TFP that 80 CC are worth.
    let mut h = Harness::new();
    h.set_prices(tft_usd, gold);
    let farmer = h.register(51);
    h.apply(farmer, Command::SetSettlement { settle_in: Settlement::Tfp });
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "100");
    let tenant = h.register(52);
    h.enter(tenant, tokens(1_000)); // 500 CC, 1,000 TFP into the reserve
    let reserve = h.system(SystemAccount::Pool2Reserve, Asset::Tfp);
    assert_eq!(reserve, tokens(1_000));
    assert!(tft_for_cc_floor(tokens(80), tft_usd, gold) > reserve, "the scenario needs a shortfall");
    h.open_lease(tenant, node, 1, Billing::Monthly, None);
    // The burn of the same charge (10 CC worth of TFP) leaves the reserve first, in full.
    let burned = h.state.ledger().totals(Asset::Tft).burned;
    assert_eq!(burned, tft_for_cc_floor(tokens(10), tft_usd, gold));
    assert_eq!(h.state.pool2().burn_owed_tft().units(), 0);
    let reserve = reserve - burned;
    let tfp = h.balance(farmer, Asset::Tfp);
    let converted = tokens(80) - revenue_cc(&h, farmer);
    assert!(tfp > 0 && tfp <= reserve);
    assert!(converted > 0 && converted < tokens(80), "a partial conversion");
    assert_eq!(tfp, tft_for_cc_floor(converted, tft_usd, gold));
    assert!(cc_value_fits(converted, reserve, tft_usd, gold));
    assert!(!cc_value_fits(converted + 1, reserve, tft_usd, gold));
    assert_eq!(h.balance(farmer, Asset::Cc), revenue_cc(&h, farmer), "the rest stays revenue CC");
    assert_vault_backs_tfp(&h);
}

// ---------------------------------------------------------------------------------------------------
// Exit pool (spec §8)
// ---------------------------------------------------------------------------------------------------

#[test]
fn an_exit_round_pays_the_fills_takes_tfp_rounded_up_and_shares_the_margin_by_weight() {
    let p_ref = "0.1";
    let mut h = Harness::new();
    h.set_prices(p_ref, GOLD);
    let a = tfp_holder(&mut h, 40, tokens(1_000_000));
    let b = tfp_holder(&mut h, 41, tokens(500_000));
    let c = tfp_holder(&mut h, 42, tokens(2_000_000));
    let d = tfp_holder(&mut h, 43, tokens(1_000_000));
    let pa = open_position(&mut h, a, tokens(1_000_000));
    let pb = open_position(&mut h, b, tokens(500_000));
    let pc = open_position(&mut h, c, tokens(2_000_000));
    assert_eq!(position(&h, pa).value_usd_at_open.units(), tokens(100_000), "1,000,000 TFP at 0.1");
    fund_exit_pool(&mut h, tokens(1_000_000));
    // d opens two days later (a younger, lighter position).
    h.tick_to(START + 2 * DAY);
    h.set_prices(p_ref, GOLD);
    let d_opened = h.state.now();
    let pd = open_position(&mut h, d, tokens(1_000_000));
    assert_eq!(h.state.exit_pool().total_value_contributed().units(), tokens(450_000));

    // Ceiling 0.08; cap = min(cap_a 225,000, cap_b 5 % of 1,000,000 = 50,000) = 50,000.
    let b1 = submit_bid(&mut h, a, pa, "30000", "0.07", false);
    let b2 = submit_bid(&mut h, b, pb, "30000", "0.075", false);
    let b3 = submit_bid(&mut h, a, pa, "10000", "0.09", false); // above the ceiling
    let b4 = submit_bid(&mut h, d, pd, "1000", "0.0800001", false); // just above the ceiling

    // A position cannot reserve more than it holds.
    let r = h.reject(b, bid_command(pb, "100000", "0.07", false));
    assert_eq!(r.code().as_str(), "position_tfp_low");
    // Nor bid against someone else's position.
    assert_eq!(h.reject(b, bid_command(pa, "1", "0.07", false)).code().as_str(), "not_owner");

    let usdc_a = h.balance(a, Asset::Usdc);
    let usdc_b = h.balance(b, Asset::Usdc);
    let closes_at = h.state.exit_pool().round().closes_at;
    assert_eq!(closes_at, START + ROUND, "rounds run every 7 days from genesis");
    h.tick_to(closes_at - 600);
    h.set_prices(p_ref, GOLD);
    let tfp_before = supply_of(&h, Asset::Tfp);
    let usdc_before = supply_of(&h, Asset::Usdc);
    let treasury_tfp_before = h.system(SystemAccount::Treasury, Asset::Tfp);
    let receipt = h.tick_to(closes_at);
    assert!(receipt.iter().any(|e| matches!(e, Event::ExitRoundClosed { .. })));

    // Conservation: the round only moves TFP and USDC.
    assert_eq!(supply_of(&h, Asset::Tfp), tfp_before, "TFP supply and totals unchanged");
    assert_eq!(supply_of(&h, Asset::Usdc), usdc_before, "USDC supply and totals unchanged");

    let result = last_result(&h);
    let p_clear = "0.075";
    assert_eq!(result.ceiling, Some(price("0.08")));
    assert_eq!(result.clearing_price, Some(price(p_clear)));
    assert_eq!(result.cap, usdc("50000"));
    assert_eq!(result.cap_a, Some(usdc("225000")));
    assert_eq!(result.cap_b, Some(usdc("50000")));
    assert_eq!(result.ref_price, Some(price(p_ref)));

    let fills: BTreeMap<ExitBidId, i128> = [
        (b1, tokens(30_000)),
        (b2, tokens(20_000)), // the marginal level gets the rest of the cap
        (b3, 0),
        (b4, 0),
    ]
    .into_iter()
    .collect();
    let requested: BTreeMap<ExitBidId, (&str, &str)> = [
        (b1, ("30000", "0.07")),
        (b2, ("30000", "0.075")),
        (b3, ("10000", "0.09")),
        (b4, ("1000", "0.0800001")),
    ]
    .into_iter()
    .collect();
    assert_eq!(result.bids.len(), 4);
    let mut paid = 0;
    let mut surrendered_total = 0;
    for bid in &result.bids {
        let filled = fills[&bid.bid_id];
        let (amount, min_price) = requested[&bid.bid_id];
        let reserved = tfp_ceil(usdc(amount).units(), min_price);
        let surrendered = if filled > 0 { tfp_ceil(filled, p_clear) } else { 0 };
        assert_eq!(bid.requested, usdc(amount), "bid {}", bid.bid_id);
        assert_eq!(bid.min_price, price(min_price));
        assert_eq!(bid.filled.units(), filled, "bid {}", bid.bid_id);
        assert_eq!(bid.surrendered.units(), surrendered, "bid {}: ceil(filled / p_clear)", bid.bid_id);
        assert_eq!(bid.released.units(), reserved - surrendered, "bid {}", bid.bid_id);
        assert_eq!(bid.excluded, bid.bid_id == b3 || bid.bid_id == b4, "bid {}", bid.bid_id);
        assert!(!bid.carried_over);
        paid += filled;
        surrendered_total += surrendered;
    }
    assert_eq!(result.total_paid.units(), paid);
    assert_eq!(paid, tokens(50_000), "the cap is hit exactly");
    assert_eq!(result.tfp_surrendered.units(), surrendered_total);
    assert_eq!(h.balance(a, Asset::Usdc) - usdc_a, tokens(30_000));
    assert_eq!(h.balance(b, Asset::Usdc) - usdc_b, tokens(20_000));
    assert_eq!(h.system(SystemAccount::ExitPoolUsdc, Asset::Usdc), tokens(1_000_000) - paid);
    assert_eq!(h.state.exit_pool().total_usdc_paid().units(), paid);

    // Treasury: ceil(paid / p_ref) TFP plus the dust; the margin goes to c and d by weight.
    let treasury_share = tfp_ceil(paid, p_ref);
    assert_eq!(result.treasury_tfp.units(), treasury_share);
    let margin = surrendered_total - treasury_share;
    let wc = weight(tokens(2_000_000), closes_at - START);
    let wd = weight(tokens(1_000_000), closes_at - d_opened);
    let credit_c = (margin as u128 * wc / (wc + wd)) as i128;
    let credit_d = (margin as u128 * wd / (wc + wd)) as i128;
    let dust = margin - credit_c - credit_d;
    assert_eq!(position(&h, pc).earned.units(), credit_c);
    assert_eq!(position(&h, pd).earned.units(), credit_d, "an unfilled (excluded) bid does not exit");
    assert_eq!(result.margin_tfp.units(), credit_c + credit_d);
    assert_eq!(result.dust_tfp.units(), dust);
    assert_eq!(
        result.margin_tfp.units() + result.dust_tfp.units(),
        margin,
        "staying positions get the margin"
    );
    assert_eq!(
        h.system(SystemAccount::Treasury, Asset::Tfp) - treasury_tfp_before,
        treasury_share + dust,
        "treasury receives its share and the dust"
    );
    assert_eq!(treasury_share + credit_c + credit_d + dust, surrendered_total, "nothing created or lost");

    // Positions after the round.
    let after_a = position(&h, pa);
    assert_eq!(after_a.amount.units(), tokens(1_000_000) - tfp_ceil(tokens(30_000), p_clear));
    assert_eq!((after_a.earned.units(), after_a.reserved.units()), (0, 0), "exited: no margin");
    let after_b = position(&h, pb);
    assert_eq!(after_b.amount.units(), tokens(500_000) - tfp_ceil(tokens(20_000), p_clear));
    assert_eq!((after_b.earned.units(), after_b.reserved.units()), (0, 0));
    assert_eq!(position(&h, pc).amount.units(), tokens(2_000_000));
    assert_eq!(position(&h, pd).reserved.units(), 0);
    let held: i128 = h.state.exit_pool().positions().values().map(|p| p.holding().units()).sum();
    assert_eq!(h.system(SystemAccount::ExitPoolTfp, Asset::Tfp), held);
    assert!(h.state.exit_pool().bids().is_empty(), "no carry-over asked");
    assert_eq!(h.state.exit_pool().round().opened_at, closes_at);
    assert_eq!(h.state.exit_pool().round().closes_at, closes_at + ROUND);

    // Closing after the minimum lock returns the TFP and the earned TFP.
    h.tick_to(START + MIN_LOCK);
    let before = h.balance(c, Asset::Tfp);
    let events = h.apply(c, Command::ClosePosition { position_id: pc });
    match events.as_slice() {
        [Event::PositionClosed { tfp, earned, .. }] => {
            assert_eq!((tfp.units(), earned.units()), (tokens(2_000_000), credit_c));
        }
        other => panic!("unexpected events {other:?}"),
    }
    assert_eq!(h.balance(c, Asset::Tfp) - before, tokens(2_000_000) + credit_c);
    assert!(!h.state.exit_pool().positions().contains_key(&pc));
    assert_vault_backs_tfp(&h);
}

#[test]
fn a_bid_at_the_discount_ceiling_fills_and_bids_above_it_never_do() {
    let p_ref = "0.1";
    let mut h = Harness::new();
    h.set_prices(p_ref, GOLD);
    let a = tfp_holder(&mut h, 40, tokens(1_000_000));
    let pa = open_position(&mut h, a, tokens(1_000_000));
    let s = tfp_holder(&mut h, 41, tokens(1_000_000));
    open_position(&mut h, s, tokens(1_000_000));
    fund_exit_pool(&mut h, tokens(1_000_000)); // cap = min(100,000, 50,000)
    let at = submit_bid(&mut h, a, pa, "1000", "0.08", false);
    let above = submit_bid(&mut h, a, pa, "1000", "0.0800000000000001", false);
    let far = submit_bid(&mut h, a, pa, "1000", "0.5", false);
    close_round(&mut h, p_ref);
    let result = last_result(&h);
    let by_id: BTreeMap<ExitBidId, _> = result.bids.iter().map(|b| (b.bid_id, b.clone())).collect();
    assert_eq!(by_id[&at].filled, usdc("1000"));
    assert!(!by_id[&at].excluded);
    for id in [above, far] {
        assert!(by_id[&id].excluded, "bid {id}");
        assert!(by_id[&id].filled.is_zero(), "bid {id}");
        assert!(by_id[&id].surrendered.is_zero());
    }
    assert_eq!(result.clearing_price, Some(price("0.08")));
}

#[test]
fn bids_change_freely_before_the_lock_window_and_only_lower_their_min_price_inside_it() {
    let mut h = Harness::new();
    h.set_prices("0.1", GOLD);
    let a = tfp_holder(&mut h, 40, tokens(100_000));
    let pa = open_position(&mut h, a, tokens(100_000));
    let bid = submit_bid(&mut h, a, pa, "1000", "0.05", false);
    let other = submit_bid(&mut h, a, pa, "500", "0.05", false);
    let reserved = |h: &Harness| position(h, pa).reserved.units();
    assert_eq!(reserved(&h), tfp_ceil(tokens(1_500), "0.05"));

    // Before the window: amend anything, cancel.
    h.tick_to(START + ROUND - LOCK_WINDOW - 1);
    h.apply(a, Command::AmendExitBid { bid_id: bid, usdc: usdc("2000"), min_price: price("0.06") });
    assert_eq!(reserved(&h), tfp_ceil(tokens(2_000), "0.06") + tfp_ceil(tokens(500), "0.05"));
    h.apply(a, Command::AmendExitBid { bid_id: bid, usdc: usdc("1500"), min_price: price("0.065") });
    let events = h.apply(a, Command::CancelExitBid { bid_id: other });
    match events.as_slice() {
        [Event::ExitBidCancelled { released_tfp, .. }] => {
            assert_eq!(released_tfp.units(), tfp_ceil(tokens(500), "0.05"));
        }
        other => panic!("unexpected events {other:?}"),
    }
    assert_eq!(reserved(&h), tfp_ceil(tokens(1_500), "0.065"));
    // Someone else cannot touch the bid.
    let stranger = tfp_holder(&mut h, 41, 0);
    let r = h.reject(stranger, Command::CancelExitBid { bid_id: bid });
    assert_eq!(r.code().as_str(), "not_owner");

    // Inside the window (it starts exactly one hour before the close).
    h.tick_to(START + ROUND - LOCK_WINDOW);
    let locked = [
        Command::AmendExitBid { bid_id: bid, usdc: usdc("1500"), min_price: price("0.07") },
        Command::AmendExitBid { bid_id: bid, usdc: usdc("1500"), min_price: price("0.065") },
        Command::AmendExitBid { bid_id: bid, usdc: usdc("1400"), min_price: price("0.06") },
        Command::AmendExitBid { bid_id: bid, usdc: usdc("1600"), min_price: price("0.06") },
        Command::CancelExitBid { bid_id: bid },
        bid_command(pa, "10", "0.05", false),
    ];
    for command in locked {
        let shown = format!("{command:?}");
        assert_eq!(h.reject(a, command).code().as_str(), "exit_bid_locked", "{shown}");
    }
    // A lower min price with the same amount is accepted; the reservation grows to match.
    h.apply(a, Command::AmendExitBid { bid_id: bid, usdc: usdc("1500"), min_price: price("0.06") });
    assert_eq!(reserved(&h), tfp_ceil(tokens(1_500), "0.06"));
    assert_eq!(h.state.exit_pool().bids()[&bid].min_price, price("0.06"));
    // A lower price that the position cannot cover is still refused.
    let r = h.reject(a, Command::AmendExitBid { bid_id: bid, usdc: usdc("1500"), min_price: price("0.01") });
    assert_eq!(r.code().as_str(), "position_tfp_low");
}

#[test]
fn a_position_closes_only_after_the_minimum_lock_and_without_open_bids() {
    let mut h = Harness::new();
    h.set_prices("0.1", GOLD);
    let a = tfp_holder(&mut h, 40, tokens(1_000));
    let pa = open_position(&mut h, a, tokens(1_000));
    assert_eq!(h.balance(a, Asset::Tfp), 0);
    let r = h.reject(a, Command::ClosePosition { position_id: pa });
    assert_eq!(r, Rejection::PositionLocked { until: START + MIN_LOCK });
    // A bid that carries over (above the ceiling: it never fills) stays open round after round.
    let bid = submit_bid(&mut h, a, pa, "10", "0.5", true);
    h.tick_to(START + MIN_LOCK - 1);
    let r = h.reject(a, Command::ClosePosition { position_id: pa });
    assert_eq!(r.code().as_str(), "position_locked");
    h.tick_to(START + MIN_LOCK);
    assert!(h.state.exit_pool().bids().contains_key(&bid), "carried over four rounds");
    let r = h.reject(a, Command::ClosePosition { position_id: pa });
    assert_eq!(r.code().as_str(), "position_has_open_bids");
    let stranger = tfp_holder(&mut h, 41, 0);
    assert_eq!(h.reject(stranger, Command::ClosePosition { position_id: pa }).code().as_str(), "not_owner");
    h.apply(a, Command::CancelExitBid { bid_id: bid });
    h.apply(a, Command::ClosePosition { position_id: pa });
    assert_eq!(h.balance(a, Asset::Tfp), tokens(1_000));
    assert_eq!(h.system(SystemAccount::ExitPoolTfp, Asset::Tfp), 0);
    let r = h.reject(a, Command::ClosePosition { position_id: pa });
    assert_eq!(r.code().as_str(), "position_not_found");
}

#[test]
fn opening_a_position_needs_a_valid_tft_price_and_the_tfp() {
    let mut h = Harness::new();
    let a = tfp_holder(&mut h, 40, tokens(1_000));
    let r = h.reject(a, Command::OpenPosition { tfp: Amount::from_units(tokens(10)) });
    assert_eq!(r.code().as_str(), "price_unavailable");
    h.set_prices("0.1", GOLD);
    let r = h.reject(a, Command::OpenPosition { tfp: Amount::from_units(tokens(1_001)) });
    assert_eq!(r.code().as_str(), "balance_low");
    let r = h.reject(a, Command::OpenPosition { tfp: Amount::<Tfp>::ZERO });
    assert_eq!(r.code().as_str(), "amount_not_positive");
    // The operator alone no longer moves the treasury's money: `FundExitPool` is retired for everyone
    // (before: the operator's was accepted, anyone else's `not_authorized`).
    let operator = h.operator;
    h.enter_fiat(operator, tokens(10));
    for signer in [a, operator] {
        let r = h.reject(signer, Command::FundExitPool { usdc: usdc("1") });
        assert_eq!(
            r,
            Rejection::CommandRetired {
                command: "fund_exit_pool".to_owned(),
                replaced_by: "approve_treasury_transfer".to_owned()
            }
        );
    }
}

#[test]
fn carry_over_keeps_the_unfilled_remainder_for_the_next_round_and_plain_bids_are_released() {
    let p_ref = "0.1";
    let mut h = Harness::new();
    h.set_prices(p_ref, GOLD);
    let a = tfp_holder(&mut h, 40, tokens(1_000_000));
    let b = tfp_holder(&mut h, 41, tokens(1_000_000));
    let s = tfp_holder(&mut h, 42, tokens(1_000_000));
    let pa = open_position(&mut h, a, tokens(1_000_000));
    let pb = open_position(&mut h, b, tokens(1_000_000));
    let ps = open_position(&mut h, s, tokens(1_000_000));
    fund_exit_pool(&mut h, tokens(200_000)); // cap_b 10,000; cap_a 150,000
    let carry = submit_bid(&mut h, a, pa, "25000", "0.05", true);
    let plain = submit_bid(&mut h, b, pb, "25000", "0.05", false);

    close_round(&mut h, p_ref);
    let first = last_result(&h);
    assert_eq!(first.cap, usdc("10000"));
    let by_id: BTreeMap<ExitBidId, _> = first.bids.iter().map(|r| (r.bid_id, r.clone())).collect();
    // One price level shares the cap pro rata: 5,000 each.
    for id in [carry, plain] {
        assert_eq!(by_id[&id].filled, usdc("5000"), "bid {id}");
        assert_eq!(by_id[&id].surrendered.units(), tfp_ceil(tokens(5_000), "0.05"));
    }
    assert!(by_id[&carry].carried_over);
    assert_eq!(by_id[&carry].released.units(), 0, "the whole rest stays reserved");
    assert!(!by_id[&plain].carried_over);
    assert_eq!(
        by_id[&plain].released.units(),
        tfp_ceil(tokens(25_000), "0.05") - tfp_ceil(tokens(5_000), "0.05")
    );
    // Only the carried bid is in the next round, with its unfilled remainder.
    let bids = h.state.exit_pool().bids();
    assert_eq!(bids.keys().copied().collect::<Vec<_>>(), vec![carry]);
    assert_eq!(bids[&carry].usdc, usdc("20000"));
    assert_eq!(bids[&carry].reserved.units(), tfp_ceil(tokens(20_000), "0.05"));
    assert_eq!(position(&h, pa).reserved.units(), tfp_ceil(tokens(20_000), "0.05"));
    assert_eq!(position(&h, pb).reserved.units(), 0);
    // s stayed alone: it gets the whole margin (no dust with one weight).
    let surrendered = 2 * tfp_ceil(tokens(5_000), "0.05");
    let margin = surrendered - tfp_ceil(tokens(10_000), p_ref);
    assert_eq!(position(&h, ps).earned.units(), margin);
    assert_eq!(first.dust_tfp.units(), 0);

    // Round 2: the remainder fills up to the new cap (5 % of 190,000 = 9,500) and still carries.
    close_round(&mut h, p_ref);
    let second = last_result(&h);
    assert_eq!(second.cap, usdc("9500"));
    assert_eq!(second.bids.len(), 1);
    let row = &second.bids[0];
    assert_eq!((row.bid_id, row.requested, row.filled), (carry, usdc("20000"), usdc("9500")));
    assert!(row.carried_over);
    assert_eq!(h.state.exit_pool().bids()[&carry].usdc, usdc("10500"));
    assert_eq!(position(&h, pa).reserved.units(), tfp_ceil(tokens(10_500), "0.05"));
    assert_eq!(
        position(&h, pa).amount.units(),
        tokens(1_000_000) - tfp_ceil(tokens(5_000), "0.05") - tfp_ceil(tokens(9_500), "0.05")
    );
}

#[test]
fn without_a_valid_price_within_the_wait_nothing_clears_and_plain_bids_are_released() {
    let mut h = Harness::new();
    h.set_prices("0.1", GOLD);
    let a = tfp_holder(&mut h, 40, tokens(1_000));
    let pa = open_position(&mut h, a, tokens(1_000));
    fund_exit_pool(&mut h, tokens(1_000));
    submit_bid(&mut h, a, pa, "1", "0.05", false);
    h.tick_to(START + ROUND); // the prices are days old: the round waits for one, closing
    assert!(h.state.exit_pool().history().is_empty());
    let params = h.state.params().clone();
    assert!(h.state.exit_pool().awaiting_price(&params, h.state.oracle(), h.state.now()));
    let bid_id = *h.state.exit_pool().bids().keys().next().expect("the bid waits");
    let r = h.reject(a, Command::CancelExitBid { bid_id });
    assert_eq!(r.code().as_str(), "exit_bid_locked", "the lock window is in force while it waits");
    h.tick_to(START + ROUND + params.exit_price_wait_s); // still no price: the wait is over
    let result = last_result(&h);
    assert_eq!(result.note.as_deref(), Some("price_unavailable"));
    assert!(result.total_paid.is_zero());
    assert!(h.state.exit_pool().bids().is_empty());
    assert_eq!(position(&h, pa).reserved.units(), 0);
    assert_eq!(h.system(SystemAccount::ExitPoolUsdc, Asset::Usdc), tokens(1_000));
}

/// The DA-1 book (A-H), amounts scaled by 1/100 to fit the default caps: 8 positions of 100,000 TFP at
/// 0.15 USD (cap A = 50 % of 120,000 = 60,000), a pool of 600,000 USDC (cap B = 30,000), ceiling 0.12.
const DA1: [(&str, &str); 8] = [
    ("5000", "0.088"),
    ("6000", "0.090"),
    ("4000", "0.092"),
    ("7000", "0.095"),
    ("3000", "0.098"),
    ("2000", "0.100"),
    ("5000", "0.105"),
    ("4000", "0.110"),
];

/// Runs the scaled DA-1 round through the state; returns the harness, the bid ids in A-H order and the
/// positions in A-H order.
fn da1_round(allow_partial: bool) -> (Harness, Vec<ExitBidId>, Vec<PositionId>) {
    let mut h = Harness::with_params(|p| p.exit_allow_partial = allow_partial);
    h.set_prices("0.15", GOLD);
    let mut owners = Vec::new();
    let mut positions = Vec::new();
    for i in 0..8u8 {
        let who = tfp_holder(&mut h, 40 + i, tokens(100_000));
        positions.push(open_position(&mut h, who, tokens(100_000)));
        owners.push(who);
    }
    fund_exit_pool(&mut h, tokens(600_000));
    // Submitted out of order: H, C, A, G, E, B, F, D.
    let mut ids = vec![ExitBidId(0); 8];
    for i in [7usize, 2, 0, 6, 4, 1, 5, 3] {
        let (amount, min_price) = DA1[i];
        ids[i] = submit_bid(&mut h, owners[i], positions[i], amount, min_price, false);
    }
    close_round(&mut h, "0.15");
    (h, ids, positions)
}

#[test]
fn a_da1_round_through_the_state_matches_the_vector_and_the_pure_clearing() {
    let (h, ids, positions) = da1_round(true);
    let result = last_result(&h);
    assert_eq!(result.cap, usdc("30000"));
    assert_eq!(result.clearing_price, Some(price("0.105")));
    let expected = ["5000", "6000", "4000", "7000", "3000", "2000", "3000", "0"];
    for (i, id) in ids.iter().enumerate() {
        let row = result.bids.iter().find(|r| r.bid_id == *id).expect("every bid is published");
        assert_eq!(row.filled, usdc(expected[i]), "LP {}", (b'A' + i as u8) as char);
    }
    assert_eq!(result.total_paid, usdc("30000"));

    // The same book through the pure rule gives the same fills and surrenders.
    let book: Vec<ExitBid> = ids
        .iter()
        .zip(DA1)
        .map(|(id, (amount, min_price))| ExitBid {
            id: id.0,
            usdc: usdc(amount),
            min_price: price(min_price),
        })
        .collect();
    let rules = ClearingRules {
        cap_a: Some(usdc("60000")),
        cap_b: Some(usdc("30000")),
        ref_price: Some(price("0.15")),
        min_discount_bps: Bps::new(2_000).expect("valid"),
        allow_partial: true,
    };
    let pure = auction::clear(&book, &rules).expect("the book clears");
    assert_eq!(pure.clearing_price, result.clearing_price);
    assert_eq!(pure.total_filled, result.total_paid);
    assert_eq!(pure.total_tfp_surrendered, result.tfp_surrendered);
    for fill in &pure.fills {
        let row = result.bids.iter().find(|r| r.bid_id.0 == fill.id).expect("same ids");
        assert_eq!((row.filled, row.surrendered), (fill.filled, fill.tfp_surrendered), "bid {}", fill.id);
    }
    // H stayed alone: it receives the whole margin.
    let treasury = tfp_ceil(tokens(30_000), "0.15");
    assert_eq!(result.treasury_tfp.units(), treasury);
    assert_eq!(position(&h, positions[7]).earned.units(), result.tfp_surrendered.units() - treasury);
}

#[test]
fn a_da1_round_without_partial_fills_clears_at_0_100_and_pays_27_000() {
    let (h, ids, _) = da1_round(false);
    let result = last_result(&h);
    assert_eq!(result.clearing_price, Some(price("0.1")));
    assert_eq!(result.total_paid, usdc("27000"));
    for (i, id) in ids.iter().enumerate() {
        let row = result.bids.iter().find(|r| r.bid_id == *id).expect("published");
        let want = if i < 6 { usdc(DA1[i].0) } else { Amount::ZERO };
        assert_eq!(row.filled, want, "LP {}", (b'A' + i as u8) as char);
    }
}

// ---------------------------------------------------------------------------------------------------
// Bugs found while writing these tests. Enable after the fix (remove the `cfg`).
// ---------------------------------------------------------------------------------------------------

mod known_bugs_lead {
    use super::*;

    /// BUG (low severity, misleading rejection): converting an amount of revenue CC worth less than one TFP
    /// base unit is refused as `insufficient_pool_liquidity` ("needed 0.0000001 TFP, available 10,000,000
    /// TFP") although the reserve is full. In `plan_cc_to_tfp` (src/pools.rs) a zero `tfp_units` falls
    /// into the liquidity branch (`if cc_units <= 0 || tfp_units <= 0`). `ConvertTfpToCc` refuses the same
    /// situation as `amount_not_positive`.
    ///
    /// Expected: `amount_not_positive` (nothing would be received). Actual: `insufficient_pool_liquidity`.
    #[test]
    fn converting_cc_worth_less_than_one_tfp_unit_is_refused_as_amount_not_positive() {
        // At TFT 1 USD, 1 CC base unit is worth about 0.136 TFP base units.
        let (mut h, farmer, _) = revenue_world("1", GOLD, tokens(10_000_000), tokens(20_000), false);
        assert_eq!(tft_for_cc_floor(1, "1", GOLD), 0);
        let r = h.reject(farmer, Command::ConvertCcToTfp { cc: cc_amount(1), allow_partial: false });
        assert_eq!(r.code().as_str(), "amount_not_positive");
    }
}

/// Issue 10 item 2: rounds closed with `price_unavailable` although the guardians submitted valid prices
/// every day, because the close read the oracle at the `Tick`'s time, a day after the last submission (the
/// demo's pattern: tick, then prices). Before: the tick at the close published `note: price_unavailable`,
/// paid 0 USDC and released the bid. Now the round waits, closing, and clears with the day's prices: the
/// bid is paid in USDC.
#[test]
fn a_funded_round_clears_with_the_prices_submitted_after_the_closing_tick_and_pays_usdc() {
    let mut h = Harness::new();
    h.set_prices("0.1", GOLD);
    let a = tfp_holder(&mut h, 40, tokens(1_000));
    let pa = open_position(&mut h, a, tokens(1_000));
    let _b = {
        let b = tfp_holder(&mut h, 41, tokens(1_000));
        open_position(&mut h, b, tokens(1_000))
    };
    fund_exit_pool(&mut h, tokens(1_000));
    let bid = submit_bid(&mut h, a, pa, "2", "0.05", false);
    // Daily ticks, each followed by the day's prices, up to the round's close.
    for day in 1..=7 {
        let events = h.tick_to(START + day * DAY);
        assert!(!events.iter().any(|e| matches!(e, Event::ExitRoundClosed { .. })), "day {day}: {events:?}");
        h.set_prices("0.1", GOLD);
    }
    let result = last_result(&h);
    assert_eq!(result.note, None, "{result:?}");
    assert_eq!(result.ref_price, Some(price("0.1")));
    assert_eq!(result.clearing_price, Some(price("0.05")));
    assert_eq!(result.total_paid, usdc("2"));
    let row = result.bids.iter().find(|r| r.bid_id == bid).expect("the bid's outcome");
    assert_eq!(row.filled, usdc("2"));
    assert_eq!(h.balance(a, Asset::Usdc), tokens(2));
    assert_eq!(h.system(SystemAccount::ExitPoolUsdc, Asset::Usdc), tokens(998));
    assert!(h.state.exit_pool().bids().is_empty());
    assert_eq!(h.state.exit_pool().round().opened_at, START + ROUND, "the schedule is kept");
    // The treasury report's running total of buy-backs (issue 10 item 20).
    assert_eq!(
        h.state.exit_pool().treasury_tfp().units(),
        result.treasury_tfp.units() + result.dust_tfp.units()
    );
    assert_eq!(h.state.exit_pool().treasury_tfp().units(), h.system(SystemAccount::Treasury, Asset::Tfp));
}
