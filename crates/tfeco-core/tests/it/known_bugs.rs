//! Tests that show known bugs in `src/`. Compiled only when the `cfg(any())` on `mod known_bugs` in
//! `main.rs` is removed, which should be done together with the fix.

use tfeco_core::{Billing, Command};

use crate::harness::{tokens, Harness};

/// BUG: `State::plan_charge` (src/billing.rs) validates the charge by its *net* effect per account
/// (`Ledger::validate`, src/ledger.rs), but `Ledger::commit` applies the postings one by one and asserts
/// after each debit. When the tenant is also the node's farmer, the farmer-share transfer goes from the
/// tenant to itself: validation sees a net debit of only the burn + treasury shares (20 %), while commit
/// first debits the whole farmer share (80 %) and panics with "validated plan drove a balance negative".
///
/// Here the farmer holds 20 CC and opens a 100 CC lease of its own node: expected a rejection
/// (`balance_low`, the state unchanged), actual a panic inside `State::apply`. The same panic hits `Tick`
/// when a self-lease renews while the farmer holds between 20 % and 80 % of the charge.
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
