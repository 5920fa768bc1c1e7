//! A golden billing tick: one `Tick` over a mixed book of leases (hourly and monthly, a farmer settling in
//! TFP, a farming pool's fee, a self-lease, a tenant running out of funds into grace whose grace then ends,
//! a cancelled lease, an expiring one, eight periods caught up per hourly lease) gives exactly the recorded
//! events and state hash. The values were recorded before the billing path was optimized (issue 13 item 6)
//! and pin its rules and rounding: any change to what a tick charges, splits, burns, settles or emits
//! changes one of them.

use tfeco_core::{
    AccountKey, Billing, Command, Event, FarmId, FarmingPoolId, LeaseId, MembershipChange, PoolRules,
    PricePolicy, Settlement,
};
use tfeco_money::Bps;

use crate::harness::{tokens, Harness, HOUR, START};

/// A farmer with one farm and one listed node of `model` at `price` CC per slice-month.
fn farm_with_node(
    h: &mut Harness,
    seed: u8,
    model: &str,
    price: &str,
) -> (AccountKey, FarmId, tfeco_core::NodeId) {
    let farmer = h.register(seed);
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, model, price);
    (farmer, farm, node)
}

/// A pool owned by `owner` taking `fee_bps` of its members' farmer share, joined by `member`'s `farm`.
fn pool_of(
    h: &mut Harness,
    owner: AccountKey,
    member: AccountKey,
    farm: FarmId,
    fee_bps: u16,
) -> FarmingPoolId {
    let rules = PoolRules {
        fee_bps: Bps::new(fee_bps).expect("valid bps"),
        price_policy: PricePolicy::Free,
        reward_lock_months: 0,
        exit_quota_bps: Bps::new(10_000).expect("valid bps"),
    };
    let events = h.apply(owner, Command::CreateFarmingPool { name: "Golden pool".to_owned(), rules });
    let pool_id = match events.as_slice() {
        [Event::FarmingPoolCreated { pool_id, .. }] => *pool_id,
        other => panic!("unexpected events {other:?}"),
    };
    for who in [owner, member] {
        h.apply(who, Command::SignPoolMembership { pool_id, farm_id: farm, change: MembershipChange::Join });
    }
    pool_id
}

/// The lease id of an `OpenLease` receipt.
fn open(
    h: &mut Harness,
    tenant: AccountKey,
    node_id: tfeco_core::NodeId,
    n: u32,
    billing: Billing,
    periods: Option<u32>,
) -> LeaseId {
    h.open_lease(tenant, node_id, n, billing, periods)
}

/// blake3 of the events' debug forms, one per line.
fn digest(events: &[Event]) -> String {
    let mut hasher = blake3::Hasher::new();
    for event in events {
        hasher.update(format!("{event:?}\n").as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// The book, built up to one second before the golden tick's time, and that time.
fn book() -> (Harness, i64) {
    // Prices stay valid over the whole catch-up, and grace is short enough to end inside it.
    let mut h = Harness::with_params(|p| {
        p.oracle_max_age_s = 24 * HOUR;
        p.lease_grace_s = 2 * HOUR;
    });
    h.set_prices("0.01", "4228");
    let whale = h.register(40);
    h.enter(whale, tokens(1_000_000));
    let (plain, _, plain_node) = farm_with_node(&mut h, 41, "Mini 3", "9");
    let (tfp_farmer, _, tfp_node) = farm_with_node(&mut h, 42, "Mini AI 1", "100");
    h.apply(tfp_farmer, Command::SetSettlement { settle_in: Settlement::Tfp });
    let (member, member_farm, pooled_node) = farm_with_node(&mut h, 43, "Mini 1", "6");
    let owner = h.register(44);
    pool_of(&mut h, owner, member, member_farm, 1_234);

    let rich = h.register(50);
    h.enter(rich, tokens(20_000));
    for n in 1..=3 {
        open(&mut h, rich, plain_node, n, Billing::Hourly, None);
    }
    open(&mut h, rich, tfp_node, 1, Billing::Hourly, None);
    open(&mut h, rich, pooled_node, 2, Billing::Hourly, None);
    open(&mut h, rich, tfp_node, 1, Billing::Monthly, None);
    open(&mut h, rich, plain_node, 1, Billing::Hourly, Some(2));
    let cancelled = open(&mut h, rich, pooled_node, 1, Billing::Hourly, None);
    h.apply(rich, Command::CancelLease { lease_id: cancelled });
    // The farmer leasing its own node: pays nothing to itself.
    h.enter(plain, tokens(100));
    open(&mut h, plain, plain_node, 1, Billing::Hourly, None);
    // A tenant with a few hours of CC: runs dry during the catch-up (one lease into grace that ends, one into
    // grace).
    let poor = h.register(51);
    h.enter(poor, tokens(2));
    open(&mut h, poor, tfp_node, 1, Billing::Hourly, None);
    open(&mut h, poor, plain_node, 1, Billing::Hourly, None);
    (h, START + 8 * HOUR + 17)
}

#[test]
fn a_tick_over_a_mixed_book_gives_exactly_the_recorded_events_and_state() {
    let (mut h, at) = book();
    // New prices before the tick: every burn and TFP settlement of the catch-up uses them.
    h.set_prices("0.0125", "4300");
    let events = h.tick_to(at);
    let charged = events.iter().filter(|e| matches!(e, Event::LeaseCharged { .. })).count();
    let graced = events.iter().filter(|e| matches!(e, Event::LeaseGraceStarted { .. })).count();
    let closed = events.iter().filter(|e| matches!(e, Event::LeaseClosed { .. })).count();
    let converted = events.iter().filter(|e| matches!(e, Event::ConvertedCcToTfp { .. })).count();
    let burned = events.iter().filter(|e| matches!(e, Event::RevenueBurned { .. })).count();
    assert_eq!((events.len(), charged, graced, closed, converted, burned), (133, 58, 2, 3, 11, 58));
    assert_eq!(digest(&events), "17c633207386a8549b7b37afa69f3fdb7c759e0e0ed725dd87fcc02b1e8d57f5");
    assert_eq!(h.state.state_hash(), "e59584cd8370cb2083a598cc89e54676f8eb47a74d0131767b0f15ea2a7134d6");
}
