//! Regression tests of bugs found in `src/` and fixed: a farmer leasing its own node, and times near the end
//! of `i64`.

use tfeco_core::{Billing, Command};

use crate::harness::{tokens, Harness};

/// Regression: a farmer leasing its own node once panicked (the farmer-share transfer went from the tenant
/// to itself, and validation looked only at net effects). Now a payment to oneself moves nothing: the farmer
/// pays only the burn and treasury shares (20 %) and gains no revenue CC (which only real revenue may be, §5),
/// and validation checks every debit in order, as commit applies them.
#[test]
fn a_farmer_leasing_its_own_node_pays_only_burn_and_treasury() {
    let mut h = Harness::new();
    h.set_prices("0.01", "4228");
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "100");
    h.enter(farmer, tokens(38)); // 19 CC: less than the 20 CC burn and treasury shares of a 100 CC charge
    let open = Command::OpenLease { node_id: node, n_slices: 1, billing: Billing::Monthly, periods: None };
    assert_eq!(h.reject(farmer, open.clone()).code().as_str(), "balance_low");
    h.enter(farmer, tokens(2)); // now exactly 20 CC
    h.apply(farmer, open);
    assert_eq!(h.free_slices(node), 3);
    let account = h.state.ledger().account(&farmer).expect("registered").clone();
    assert_eq!(account.balances[tfeco_money::Asset::Cc.index()], 0);
    assert_eq!(account.revenue_cc, 0);
}

/// Regression (operator input): `Tick` accepts any later time, and the schedules add periods to
/// it unchecked. Close to `i64::MAX`, `Tick` itself now overflows in the exit-round scheduling
/// (src/slices/exit_pool.rs, `opened_at + period`), and opening a lease overflows in `commit_charge`
/// (src/billing.rs, `lease.next_charge_at += period_s`): a panic ("attempt to add with overflow") in debug
/// builds, wrapped (negative) times in release builds, after which every `Tick` finds the lease due and
/// bills it period after period. `apply_open_lease` already checks `ends_at` for overflow; the other
/// schedule times (and `since + lease_grace_s` in `bill_lease`) need the same care, or `Tick` a bound.
///
/// Expected: either the far-future `Tick` or the `OpenLease` is refused, and nothing panics.
#[test]
fn opening_a_lease_near_the_end_of_time_is_refused_not_an_overflow() {
    let mut h = Harness::new();
    h.set_prices("0.01", "4228");
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "10");
    let tenant = h.register(30);
    h.enter(tenant, tokens(100));
    let operator = h.operator;
    if h.try_apply(operator, Command::Tick { now: i64::MAX - 1_000 }).is_err() {
        return; // time is bounded: fixed that way
    }
    let open = Command::OpenLease { node_id: node, n_slices: 1, billing: Billing::Monthly, periods: None };
    assert_eq!(h.reject(tenant, open).code().as_str(), "overflow");
}
