//! Billing and leases (spec `decisions.md` §7, §9): charging at period start, hourly and monthly periods,
//! grace and resumption, closing, cancellation, expiry, and the revenue burn of TFT with its CC.

use tfeco_core::slices::capacity::LeaseStatus;
use tfeco_core::{AccountKey, Billing, CloseReason, Command, Event, NodeId, RevenueSplit, SystemAccount};
use tfeco_money::{Amount, Asset, Cc, Tft};

use crate::harness::{
    cc, charges, hourly_charge, model, split_charge, tft_for_cc_floor, tokens, Harness, GRACE, HOUR, MONTH,
    START, TOKEN,
};

const TFT_USD: &str = "0.01";
const GOLD: &str = "4228";

/// A market with fresh prices (below parity: 2 TFT per CC), one farmer with one listed node, and a
/// registered tenant without funds.
struct Setup {
    h: Harness,
    farmer: AccountKey,
    tenant: AccountKey,
    node: NodeId,
}

fn setup(model: &str, price_month: &str) -> Setup {
    let mut h = Harness::new();
    h.set_prices(TFT_USD, GOLD);
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, model, price_month);
    let tenant = h.register(30);
    Setup { h, farmer, tenant, node }
}

/// Gives `who` exactly `cc_units` CC through Pool 1 (below parity: 2 TFT per CC).
fn fund_cc(h: &mut Harness, who: AccountKey, cc_units: i128) {
    h.enter(who, 2 * cc_units);
}

/// `ceil(a / b)` for positive integers.
fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}

fn closed(h: &Harness, lease: tfeco_core::LeaseId) -> Option<(CloseReason, i64)> {
    match h.lease(lease).status {
        LeaseStatus::Closed { reason, at } => Some((reason, at)),
        _ => None,
    }
}

#[test]
fn monthly_lease_is_charged_at_opening_and_again_720_hours_later() {
    let Setup { mut h, farmer, tenant, node } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(200));
    let events = h.apply(
        tenant,
        Command::OpenLease { node_id: node, n_slices: 1, billing: Billing::Monthly, periods: None },
    );
    let lease = match events.first() {
        Some(Event::LeaseOpened { lease_id, period_charge, .. }) => {
            assert_eq!(*period_charge, cc("100"));
            *lease_id
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(charges(&events), vec![(lease, START, tokens(100))], "charged at opening");
    assert_eq!(h.lease(lease).next_charge_at, START + MONTH);
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(100));

    let events = h.tick_to(START + MONTH - 1);
    assert!(charges(&events).is_empty(), "nothing is due one second before the period ends");
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(100));

    let events = h.tick_to(START + MONTH);
    assert_eq!(charges(&events), vec![(lease, START + MONTH, tokens(100))]);
    assert_eq!(h.balance(tenant, Asset::Cc), 0);
    assert_eq!(h.balance(farmer, Asset::Cc), tokens(160));
    let l = h.lease(lease);
    assert_eq!((l.periods_paid, l.next_charge_at, l.total_paid), (2, START + 2 * MONTH, cc("200")));
    assert_eq!(l.status, LeaseStatus::Active);
}

#[test]
fn hourly_lease_is_charged_once_per_hour_by_a_daily_tick() {
    let Setup { mut h, farmer, tenant, node } = setup("Mini 1", "6");
    let m = model("Mini 1");
    let params = h.state.params().clone();
    let hourly =
        hourly_charge(cc("6"), m.slice_price_min_month, m.slice_price_max_month, 2, &params).unwrap();
    // 2 slices at 6 CC: 12 / 720 * premium(6) = 12 / 720 * (2 - 0.5 * 4.8 / 10.8) -> rounded up once.
    assert_eq!(hourly.units(), ceil_div(2 * 6 * TOKEN * (4 * 108 - 48), 1440 * 108));
    fund_cc(&mut h, tenant, tokens(10));
    let lease = h.open_lease(tenant, node, 2, Billing::Hourly, None);

    let events = h.advance(24 * HOUR);
    let expected: Vec<_> = (1..=24).map(|k| (lease, START + k * HOUR, hourly.units())).collect();
    assert_eq!(charges(&events), expected, "24 hourly charges, each at its period start");
    let l = h.lease(lease);
    assert_eq!((l.periods_paid, l.next_charge_at), (25, START + 25 * HOUR));
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(10) - 25 * hourly.units());
    let (farmer_share, _, _) = split_charge(hourly.units(), &RevenueSplit::tfgrid4_2025());
    assert_eq!(h.balance(farmer, Asset::Cc), 25 * farmer_share, "each period is split on its own");
}

#[test]
fn unpaid_period_enters_grace_and_a_top_up_inside_grace_resumes_and_charges_it() {
    let Setup { mut h, farmer, tenant, node } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(100));
    let lease = h.open_lease(tenant, node, 1, Billing::Monthly, None);
    assert_eq!(h.balance(tenant, Asset::Cc), 0);

    let events = h.tick_to(START + MONTH);
    assert!(charges(&events).is_empty(), "nothing charged without funds");
    assert!(
        events.contains(&Event::LeaseGraceStarted { lease_id: lease, grace_until: START + MONTH + GRACE })
    );
    assert_eq!(h.lease(lease).status, LeaseStatus::Grace { since: START + MONTH });
    assert_eq!(h.balance(farmer, Asset::Cc), tokens(80), "the farmer is not paid for the unpaid period");
    assert_eq!(h.free_slices(node), 3, "the slice stays reserved during grace");

    h.tick_to(START + MONTH + GRACE - HOUR);
    assert_eq!(h.lease(lease).status, LeaseStatus::Grace { since: START + MONTH });
    h.set_prices(TFT_USD, GOLD); // entry needs fresh prices
    let events = h.enter(tenant, tokens(250)); // 125 CC
    assert!(events.contains(&Event::LeaseResumed { lease_id: lease }), "{events:?}");
    assert_eq!(charges(&events), vec![(lease, START + MONTH, tokens(100))], "the owed period is charged");
    let l = h.lease(lease);
    assert_eq!((l.status, l.next_charge_at, l.periods_paid), (LeaseStatus::Active, START + 2 * MONTH, 2));
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(25));
    assert_eq!(h.balance(farmer, Asset::Cc), tokens(160));
}

#[test]
fn grace_running_out_closes_the_lease_for_insufficient_funds_and_frees_its_slices() {
    let Setup { mut h, farmer, tenant, node } = setup("Mini AI 1", "25");
    fund_cc(&mut h, tenant, tokens(100));
    let lease = h.open_lease(tenant, node, 4, Billing::Monthly, None);
    assert_eq!(h.free_slices(node), 0);

    h.tick_to(START + MONTH);
    h.tick_to(START + MONTH + GRACE - 1);
    assert_eq!(h.lease(lease).status, LeaseStatus::Grace { since: START + MONTH });
    assert_eq!(h.free_slices(node), 0);

    let events = h.tick_to(START + MONTH + GRACE);
    let at = START + MONTH + GRACE;
    assert!(events.contains(&Event::LeaseClosed {
        lease_id: lease,
        reason: CloseReason::InsufficientFunds,
        at
    }));
    assert_eq!(closed(&h, lease), Some((CloseReason::InsufficientFunds, at)));
    assert_eq!(h.free_slices(node), 4, "the slices are free again");
    assert_eq!(h.balance(farmer, Asset::Cc), tokens(80), "only the paid period reached the farmer");
    assert_eq!(h.lease(lease).periods_paid, 1);

    // A top-up after the close does not revive it, and another tenant can take the slices.
    h.set_prices(TFT_USD, GOLD);
    let events = h.enter(tenant, tokens(400));
    assert!(charges(&events).is_empty());
    assert_eq!(closed(&h, lease), Some((CloseReason::InsufficientFunds, at)));
    let other = h.register(31);
    fund_cc(&mut h, other, tokens(100));
    h.open_lease(other, node, 4, Billing::Monthly, None);
    assert!(charges(&h.advance(MONTH - 2)).is_empty());
}

#[test]
fn one_tick_past_the_whole_grace_closes_the_lease_at_the_end_of_grace() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(100));
    let lease = h.open_lease(tenant, node, 1, Billing::Monthly, None);
    // One tick a day past the grace (a tick may advance at most `max_tick_advance_s`, 35 days).
    let events = h.tick_to(START + MONTH + GRACE + 24 * HOUR);
    assert!(charges(&events).is_empty());
    assert_eq!(closed(&h, lease), Some((CloseReason::InsufficientFunds, START + MONTH + GRACE)));
    assert_eq!(h.free_slices(node), 4);
}

#[test]
fn cancelling_a_monthly_lease_ends_it_at_the_period_end_without_refund() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(300));
    let lease = h.open_lease(tenant, node, 1, Billing::Monthly, None);
    h.tick_to(START + 10 * 24 * HOUR);

    let events = h.apply(tenant, Command::CancelLease { lease_id: lease });
    assert_eq!(events, vec![Event::LeaseCancelRequested { lease_id: lease, ends_at: START + MONTH }]);
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(200), "no refund of the running month");
    assert_eq!(h.lease(lease).status, LeaseStatus::Cancelling);
    assert_eq!(h.reject(tenant, Command::CancelLease { lease_id: lease }).code().as_str(), "lease_not_open");

    h.tick_to(START + MONTH - 1);
    assert_eq!(h.free_slices(node), 3, "the slice is used until the period ends");
    let events = h.tick_to(START + MONTH);
    assert!(charges(&events).is_empty(), "the next period is not charged");
    assert!(events.contains(&Event::LeaseClosed {
        lease_id: lease,
        reason: CloseReason::Cancelled,
        at: START + MONTH
    }));
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(200));
    assert_eq!(h.free_slices(node), 4);
    assert_eq!(h.reject(tenant, Command::CancelLease { lease_id: lease }).code().as_str(), "lease_not_open");
}

#[test]
fn cancelling_a_lease_in_grace_closes_it_at_once() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(100));
    let lease = h.open_lease(tenant, node, 1, Billing::Monthly, None);
    h.tick_to(START + MONTH + HOUR);
    let events = h.apply(tenant, Command::CancelLease { lease_id: lease });
    let at = START + MONTH + HOUR;
    assert_eq!(events, vec![Event::LeaseClosed { lease_id: lease, reason: CloseReason::Cancelled, at }]);
    assert_eq!(h.free_slices(node), 4);
}

#[test]
fn a_lease_of_n_periods_expires_after_n_charges() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "10");
    fund_cc(&mut h, tenant, tokens(100));
    let lease = h.open_lease(tenant, node, 1, Billing::Hourly, Some(3));
    let hourly = h.lease(lease).period_charge.units();
    assert_eq!(hourly, ceil_div(10 * TOKEN, 360), "band minimum: min / 360");
    assert_eq!(h.lease(lease).ends_at, Some(START + 3 * HOUR));

    let events = h.advance(5 * HOUR);
    assert_eq!(charges(&events), vec![(lease, START + HOUR, hourly), (lease, START + 2 * HOUR, hourly)]);
    assert!(events.contains(&Event::LeaseClosed {
        lease_id: lease,
        reason: CloseReason::Expired,
        at: START + 3 * HOUR
    }));
    assert_eq!(h.lease(lease).periods_paid, 3);
    assert_eq!(h.lease(lease).total_paid, Amount::<Cc>::from_units(3 * hourly));
    assert_eq!(h.balance(tenant, Asset::Cc), tokens(100) - 3 * hourly);
    assert_eq!(h.free_slices(node), 4);

    let monthly = h.open_lease(tenant, node, 1, Billing::Monthly, Some(2));
    let opened = h.state.now();
    h.tick_to(opened + MONTH);
    h.tick_to(opened + 2 * MONTH);
    assert_eq!(closed(&h, monthly), Some((CloseReason::Expired, opened + 2 * MONTH)));
    assert_eq!(h.lease(monthly).periods_paid, 2);
}

#[test]
fn revenue_burn_burns_tft_and_tfp_worth_the_burned_cc() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(100)); // 200 TFT into the vault and pool2.reserve
    h.open_lease(tenant, node, 1, Billing::Monthly, None);

    let burned_cc = h.burned(Asset::Cc);
    assert_eq!(burned_cc, tokens(10));
    let expected = tft_for_cc_floor(burned_cc, TFT_USD, GOLD);
    assert_eq!(expected, 1_359_333_564, "10 CC * 0.13593.. / 0.01 = 135.9333564.. TFT");
    assert_eq!(h.burned(Asset::Tft), expected);
    assert_eq!(h.burned(Asset::Tfp), expected);
    assert_eq!(h.system(SystemAccount::Pool2Reserve, Asset::Tfp), tokens(200) - expected);
    assert_eq!(h.system(SystemAccount::Vault, Asset::Tft), tokens(200) - expected);
    assert_eq!(h.state.pool2().burn_owed_tft(), Amount::ZERO);
    assert_eq!(h.state.pool2().burn_pending_cc(), Amount::ZERO);
    let external = h.state.params().tft_supply_external.units();
    assert_eq!(h.state.global_tft_supply(), external - expected, "the burn lowers the global supply");
}

#[test]
fn revenue_burn_waits_for_valid_prices_and_then_uses_them() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(200));
    h.open_lease(tenant, node, 1, Billing::Monthly, None);
    let tft_burned_at_open = h.burned(Asset::Tft);

    h.tick_to(START + MONTH); // prices are a month old: the charge happens, its TFT burn waits
    assert_eq!(h.burned(Asset::Cc), tokens(20));
    assert_eq!(h.state.pool2().burn_pending_cc(), cc("10"));
    assert_eq!(h.burned(Asset::Tft), tft_burned_at_open);

    h.set_prices("0.025", "4100");
    assert_eq!(h.state.pool2().burn_pending_cc(), Amount::ZERO);
    let expected = tft_for_cc_floor(tokens(10), "0.025", "4100");
    assert_eq!(expected, 527_272_243, "10 CC * (4100 / 31103.4768 / 1000) / 0.025, rounded down");
    assert_eq!(h.burned(Asset::Tft) - tft_burned_at_open, expected);
    assert_eq!(h.state.pool2().burn_owed_tft(), Amount::ZERO);
    assert_eq!(h.burned(Asset::Tfp), h.burned(Asset::Tft));
    // The treasury report's running totals of the revenue burn (issue 10 item 20).
    assert_eq!(h.state.pool2().burned_tft().units(), h.burned(Asset::Tft));
}

#[test]
fn a_renewal_charged_by_tick_with_fresh_prices_burns_its_tft_in_the_same_tick() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    fund_cc(&mut h, tenant, tokens(200));
    h.open_lease(tenant, node, 1, Billing::Monthly, None);
    let tft_burned_at_open = h.burned(Asset::Tft);
    h.tick_to(START + MONTH - 600);
    h.set_prices("0.025", "4100"); // ten minutes old at the renewal: still fresh

    let events = h.tick_to(START + MONTH);
    let expected = tft_for_cc_floor(tokens(10), "0.025", "4100");
    let burn =
        Event::RevenueBurned { cc: cc("10"), tft: Amount::from_units(expected), tft_owed: Amount::ZERO };
    assert!(events.contains(&burn), "{events:?}");
    assert_eq!(h.burned(Asset::Tft) - tft_burned_at_open, expected);
    assert_eq!(h.state.pool2().burn_pending_cc(), Amount::ZERO);
}

#[test]
fn revenue_burn_beyond_an_empty_reserve_is_reported_as_owed() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    h.enter_fiat(tenant, tokens(20)); // $20 of CC (~147 CC) and no TFP in pool2.reserve
    assert_eq!(h.system(SystemAccount::Pool2Reserve, Asset::Tfp), 0);
    h.open_lease(tenant, node, 1, Billing::Monthly, None);

    let owed = tft_for_cc_floor(tokens(10), TFT_USD, GOLD);
    assert_eq!(h.burned(Asset::Tft), 0);
    assert_eq!(h.burned(Asset::Tfp), 0);
    assert_eq!(h.state.pool2().burn_owed_tft(), Amount::<Tft>::from_units(owed));
    assert_eq!(h.state.pool2().burn_pending_cc(), Amount::ZERO);
    assert_eq!((h.state.pool2().burned_cc(), h.state.pool2().burned_tft()), (cc("10"), Amount::ZERO));
}

#[test]
fn revenue_burn_takes_what_the_reserve_holds_and_reports_the_rest_as_owed() {
    let Setup { mut h, tenant, node, .. } = setup("Mini AI 1", "100");
    h.enter(tenant, tokens(100)); // 50 CC, 100 TFP in pool2.reserve
    h.enter_fiat(tenant, tokens(10)); // ~73.6 CC more
    h.open_lease(tenant, node, 1, Billing::Monthly, None);

    let worth = tft_for_cc_floor(tokens(10), TFT_USD, GOLD); // ~135.93 TFT > 100 in the reserve
    assert_eq!(h.burned(Asset::Tft), tokens(100));
    assert_eq!(h.burned(Asset::Tfp), tokens(100));
    assert_eq!(h.system(SystemAccount::Pool2Reserve, Asset::Tfp), 0);
    assert_eq!(h.state.pool2().burn_owed_tft().units(), worth - tokens(100));
}

/// Issue 10 item 1, the grace reading of the time-weighted utilization (decisions §11, see
/// `slices/capacity/utilization.rs`): two tenants hold one slice each and both fall into grace when their
/// second month is due. `A` tops up inside grace: its grace time counts (it kept and paid for the slice);
/// `B` lets grace run out: its grace time never counts. Exact slice-seconds over the two minting periods.
#[test]
fn grace_counts_as_utilization_only_when_the_tenant_pays_for_it() {
    use tfeco_core::rules::minting::{period_end, period_of};
    let Setup { mut h, farmer: _, tenant: a, node } = setup("Mini AI 1", "100");
    let b = h.register(31);
    fund_cc(&mut h, a, tokens(100));
    fund_cc(&mut h, b, tokens(100));
    h.open_lease(a, node, 1, Billing::Monthly, None);
    h.open_lease(b, node, 1, Billing::Monthly, None);
    let k = period_of(START).expect("a minting period");
    let (end_k, end_next) = (period_end(k), period_end(k + 1));
    let due = START + MONTH;
    assert!(end_k < due && due + GRACE < end_next, "the grace lies inside period k + 1");

    h.tick_to(due);
    let meter = |h: &Harness, period| h.state.capacity().leased_slice_seconds(node, period);
    let pre_grace = (due - end_k) as u64;
    assert_eq!(meter(&h, k), 2 * (end_k - START) as u64);
    assert_eq!(meter(&h, k + 1), 2 * pre_grace, "nothing counts while both are in grace");

    h.tick_to(due + GRACE - HOUR);
    h.set_prices(TFT_USD, GOLD);
    let events = h.enter(a, tokens(250));
    assert!(events.iter().any(|e| matches!(e, Event::LeaseResumed { .. })));
    // A's grace counts back to the unpaid period's start, and A counts until the period's end.
    assert_eq!(meter(&h, k + 1), 2 * pre_grace + (end_next - due) as u64);
    h.tick_to(due + GRACE);
    assert_eq!(h.free_slices(node), 3, "B's lease closed for non-payment");
    assert_eq!(meter(&h, k + 1), 2 * pre_grace + (end_next - due) as u64, "B's grace never counts");
    assert_eq!(meter(&h, k), 2 * (end_k - START) as u64);
}
