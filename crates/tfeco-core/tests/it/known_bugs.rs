//! Tests that show known bugs in `src/`. Compiled only when the `cfg(any())` on `mod known_bugs` in
//! `main.rs` is removed, which should be done together with the fix.

use tfeco_core::{Billing, Command};

use crate::harness::{tokens, Harness};

/// BUG: `State::plan_charge_from` (src/billing.rs) builds the charge's postings and `Ledger::validate`
/// (src/ledger.rs) checks them by their *net* effect per account, but `Ledger::commit` applies them one by
/// one and asserts after each debit (`Ledger::debit`: "validated plan drove a balance negative"). When the
/// tenant is also the node's farmer, the farmer-share transfer goes from the tenant to itself: validation
/// sees a net debit of only the burn + treasury shares (20 %), while commit first debits the whole farmer
/// share (80 %) and panics. The same holds when the tenant owns the node's farming pool (the pool-fee
/// transfer goes from the tenant to itself).
///
/// Here the farmer holds 20 CC and opens a 100 CC lease of its own node: expected a rejection
/// (`balance_low`, the state unchanged), actual a panic inside `State::apply`. The same panic hits `Tick`
/// when a self-lease renews while the farmer holds between 20 % and 80 % of the charge (a tenant paying
/// itself is also a way to turn ordinary CC into revenue CC, which only revenue may convert to TFP, §5).
#[test]
fn a_farmer_leasing_its_own_node_without_enough_cc_is_refused_not_a_panic() {
    let mut h = Harness::new();
    h.set_prices("0.01", "4228");
    let farmer = h.register(20);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini AI 1", "100");
    h.enter(farmer, tokens(40)); // 20 CC, a fifth of the 100 CC charge
    let open = Command::OpenLease { node_id: node, n_slices: 1, billing: Billing::Monthly, periods: None };
    let rejection = h.reject(farmer, open);
    assert_eq!(rejection.code(), "balance_low");
    assert_eq!(h.free_slices(node), 4);
}

/// BUG (lower severity, operator input): `Tick` accepts any later time, and the schedules add periods to
/// it unchecked. Close to `i64::MAX`, `Tick` itself now overflows in the exit-round scheduling
/// (src/exit.rs, `opened_at + period`), and opening a lease overflows in `State::commit_charge`
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
    assert_eq!(h.reject(tenant, open).code(), "overflow");
}
