//! Property test: random sequences of valid and invalid commands over a small world (the operator, five
//! users, two farmers with five nodes with their own keys, and one unregistered key; an exit-pool position
//! and a carry-over exit bid per user, a farming pool, an open capacity request and a standing bid; two
//! guardians, the operator and user 1, both needed), covering every `Command` variant: accounts,
//! transfers, attestations, oracle, entry and vault (§1-4), Pool 2 and settlement (§5-6), the exit pool
//! (§8), the marketplace, billing and capacity market (§7, §9), farming pools (§10), minting (§11),
//! governance (§12), the in-wallet exchange (§13) and time (§14). Parameters are the defaults except the
//! guardian set, the oracle quorum (1) and the position lock (1 h, so that sequences reach closes).
//!
//! Properties, checked by the harness after every command and here at the end:
//! - every invariant holds after every command (`check_invariants`);
//! - a rejected command leaves the state hash unchanged;
//! - replaying the accepted envelopes into a fresh state gives the same final state hash (determinism);
//! - conservation: per asset, the sum of all balances == deposited + minted - withdrawn - burned;
//! - re-sending an executed attestation (deposit, fiat payment, withdrawal) is a no-op (`AlreadyApplied`).
//! - a state restored from its snapshot at any point (`State::from_snapshot_bytes`) applies the rest of the
//!   sequence exactly like the original: same receipts, same hashes (a second property test).
//!
//! The proptest RNG seed is fixed (no randomness between runs) and nothing is persisted to disk. A second
//! test checks that the generator reaches every variant the `Command` enum has (listed at run time from
//! serde, so a variant added later makes it fail until the generator produces it too).

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestRng, TestRunner};
use tfeco_core::ledger::AssetTotals;
use tfeco_core::slices::capacity::LeaseStatus;
use tfeco_core::{
    AccountKey, AccountRef, Billing, CapacityRequestId, Command, Envelope, Event, ExitBidId, FarmId,
    FarmingPoolId, LeaseId, MarketId, MembershipChange, NodeId, NodeSpec, OrderId, ParamChangeId,
    ParamUpdate, PoolRules, PositionId, PriceFeed, PricePolicy, Receipt, Rejection, Requirements, Resources,
    RevenueSplit, SearchQuery, Settlement, Side, SplitRecipient, StandingBidId, SystemAccount,
    TreasuryDestination, UptimeSample, WithdrawalId,
};
use tfeco_money::{Amount, Asset, Bps, Cc, Price, Ratio, Tfp, Tft, Usdc};

use crate::harness::{account_of, any_units, price, signing_key, tokens, Harness, GRACE, HOUR, MONTH};

/// Actor 0 is the operator, 1..=5 users, 6..=7 farmers, 8 a key that starts unregistered.
const ACTORS: usize = 9;
const SEEDS: [u8; ACTORS] = [1, 10, 11, 12, 13, 14, 20, 21, 99];
const STRANGER: usize = 8;

const TFT_PRICES: [&str; 10] = ["0.0005", "0.01", "0.03", "0.0652", "0.07", "0.1", "0.12", "0.5", "3", "0"];
const GOLD_PRICES: [&str; 6] = ["1000", "3110.34768", "4058.33", "4228", "5000", "0"];
/// How old a submitted observation is (negative: in the future, refused).
const PRICE_AGES: [i64; 10] = [0, 0, 0, 0, 60, 1_800, 3_600, 3_601, 86_400, -5];

/// An amount: raw base units (zero, negative and huge included), or a percentage of the actor's balance of
/// the asset (above 100 % to also hit `balance_low`).
#[derive(Clone, Debug)]
enum Amt {
    Units(i128),
    Percent(u8),
}

/// A slice price: relative to the node's band, or any amount.
#[derive(Clone, Debug)]
enum BandPrice {
    Min,
    Max,
    Mid,
    BelowMin,
    AboveMax,
    Raw(i128),
}

#[derive(Clone, Debug)]
enum Op {
    Register {
        actor: usize,
    },
    Transfer {
        from: usize,
        to: usize,
        asset: usize,
        amount: Amt,
    },
    Deposit {
        by_operator: bool,
        to: usize,
        asset: usize,
        amount: Amt,
        id: u8,
    },
    RequestWithdrawal {
        actor: usize,
        asset: usize,
        amount: Amt,
    },
    AttestWithdrawal {
        by_operator: bool,
        withdrawal: u8,
        id: u8,
    },
    SubmitPrice {
        by_operator: bool,
        tft_feed: bool,
        value: u8,
        age: u8,
    },
    EnterWithTft {
        actor: usize,
        amount: Amt,
    },
    EnterWithFiat {
        by_operator: bool,
        to: usize,
        usd: Amt,
        id: u8,
    },
    LockTft {
        actor: usize,
        amount: Amt,
    },
    UnlockTfp {
        actor: usize,
        amount: Amt,
    },
    RegisterFarm {
        actor: usize,
        name: u8,
    },
    RegisterNode {
        actor: usize,
        farm: u8,
        spec: u8,
        offered: Option<u8>,
    },
    SetSlicePrice {
        actor: usize,
        node: u8,
        price: BandPrice,
    },
    OpenLease {
        actor: usize,
        node: u8,
        slices: u8,
        hourly: bool,
        periods: Option<u8>,
    },
    CancelLease {
        actor: usize,
        lease: u8,
    },
    /// A tick, optionally followed by the operator's fresh prices (indexes into the price lists).
    Tick {
        by_operator: bool,
        delta: i64,
        refresh: Option<(u8, u8)>,
    },
    /// Pool 2 (§5): revenue CC to TFP.
    ConvertCcToTfp {
        actor: usize,
        amount: Amt,
        allow_partial: bool,
    },
    /// Pool 2 (§5): TFP to ordinary CC.
    ConvertTfpToCc {
        actor: usize,
        amount: Amt,
    },
    /// Farmer settlement preference (§6).
    SetSettlement {
        actor: usize,
        tfp: bool,
    },
    /// Exit-pool funding (§8), by `kind % 3`: the retired `FundExitPool` (always refused), a guardian's
    /// approval of a treasury transfer, or a guardian's attestation of a USDC deposit into the pool.
    FundExitPool {
        by_operator: bool,
        amount: Amt,
        kind: u8,
    },
    OpenPosition {
        actor: usize,
        amount: Amt,
    },
    ClosePosition {
        actor: usize,
        position: u8,
    },
    SubmitExitBid {
        actor: usize,
        position: u8,
        usdc: Amt,
        min_price: u8,
        carry_over: bool,
    },
    AmendExitBid {
        actor: usize,
        bid: u8,
        usdc: Amt,
        min_price: u8,
    },
    CancelExitBid {
        actor: usize,
        bid: u8,
    },
    /// Capacity market (§9): a standing bid, filled by farmers.
    PostStandingBid {
        actor: usize,
        name: u8,
        requirements: u8,
        price: u8,
        quantity: u8,
        periods: Option<u8>,
    },
    FillStandingBid {
        actor: usize,
        bid: u8,
        node: u8,
        n_slices: u8,
    },
    CancelStandingBid {
        actor: usize,
        bid: u8,
    },
    /// Capacity market (§9): a reverse auction, offers by farmers, and taking listed prices at once.
    PostCapacityRequest {
        actor: usize,
        requirements: u8,
        n_slices: u8,
        price: u8,
        periods: Option<u8>,
        window: u8,
    },
    OfferCapacity {
        actor: usize,
        request: u8,
        node: u8,
        price: u8,
    },
    TakeCapacity {
        actor: usize,
        requirements: u8,
        price: Option<u8>,
        hourly: Option<bool>,
        n_slices: u8,
    },
    /// Farming pools (§10): creation, two-signature membership, pool-set prices.
    CreateFarmingPool {
        actor: usize,
        name: u8,
        fee: u8,
        policy: u8,
        lock: u8,
    },
    SignPoolMembership {
        actor: usize,
        pool: u8,
        farm: u8,
        leave: bool,
    },
    SetPoolPrice {
        actor: usize,
        node: u8,
        price: BandPrice,
    },
    /// Minting (§11): node keys, uptime reports, guardian signatures of a period report.
    SetNodeKey {
        actor: usize,
        node: u8,
        key: usize,
    },
    ReportUptime {
        node: u8,
        samples: u8,
        uptime: u8,
    },
    SignMintReport {
        by_operator: bool,
        period: u8,
        right_hash: bool,
    },
    /// Governance (§12): parameter changes proposed and signed by guardians, effective after a delay.
    ProposeParamChange {
        by_operator: bool,
        update: u8,
    },
    SignParamChange {
        by_operator: bool,
        change: u8,
    },
    /// The in-wallet exchange (§13): sealed prefunded orders, cleared by ticks every batch interval.
    PlaceOrder {
        actor: usize,
        market: u8,
        buy: bool,
        quantity: u8,
        limit: u8,
        expires: Option<u8>,
    },
    CancelOrder {
        actor: usize,
        order: u8,
    },
    AmendOrder {
        actor: usize,
        order: u8,
        quantity: u8,
        limit: u8,
    },
    /// The operator marks an account verified (identity-gated markets).
    SetVerified {
        by_operator: bool,
        actor: usize,
        verified: bool,
    },
    /// Re-sends an accepted attestation (deposit, fiat payment or withdrawal): must be a no-op.
    ReplayAttestation {
        pick: u8,
    },
    /// The other guardian co-signs an attestation recorded below the threshold (it executes).
    CoSignAttestation {
        pick: u8,
    },
}

/// An operation and whether it is sent with a stale nonce (the last used one, or 0).
type Step = (Op, Option<bool>);

fn amount() -> impl Strategy<Value = Amt> {
    prop_oneof![
        3 => (0u8..=120).prop_map(Amt::Percent),
        1 => prop_oneof![
            Just(0i128),
            Just(-1i128),
            Just(i128::MIN),
            Just(i128::MAX),
            Just(i128::MAX / 4),
            1i128..1_000,
            (1i128..100_000).prop_map(tokens),
        ]
        .prop_map(Amt::Units),
    ]
}

fn band_price() -> impl Strategy<Value = BandPrice> {
    prop_oneof![
        Just(BandPrice::Min),
        Just(BandPrice::Max),
        Just(BandPrice::Mid),
        Just(BandPrice::BelowMin),
        Just(BandPrice::AboveMax),
        prop_oneof![Just(0i128), 1i128..tokens(5_000), Just(i128::MAX)].prop_map(BandPrice::Raw),
    ]
}

/// An index into `Asset::ALL`, mostly the assets that move freely (TFT, USDC).
fn asset() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize), 2 => Just(3usize)]
}

fn actor() -> impl Strategy<Value = usize> {
    0..ACTORS
}

/// A slice count or quantity: 1 to 3 mostly, sometimes 0 (refused).
fn slice_count() -> impl Strategy<Value = u8> {
    prop_oneof![9 => 1u8..4, 1 => Just(0u8)]
}

fn operator_mostly() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

fn tick_delta() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => prop_oneof![Just(0i64), 1i64..600],
        4 => prop_oneof![600i64..HOUR, Just(HOUR), Just(6 * HOUR), Just(24 * HOUR), Just(72 * HOUR)],
        1 => prop_oneof![Just(MONTH), Just(MONTH + GRACE)],
        1 => prop_oneof![Just(-1i64), -HOUR..0i64],
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => prop_oneof![2 => Just(STRANGER), 1 => actor()].prop_map(|actor| Op::Register { actor }),
        4 => (actor(), actor(), asset(), amount())
            .prop_map(|(from, to, asset, amount)| Op::Transfer { from, to, asset, amount }),
        3 => (operator_mostly(), actor(), asset(), amount(), 0u8..6)
            .prop_map(|(by_operator, to, asset, amount, id)| Op::Deposit { by_operator, to, asset, amount, id }),
        2 => (actor(), asset(), amount())
            .prop_map(|(actor, asset, amount)| Op::RequestWithdrawal { actor, asset, amount }),
        2 => (operator_mostly(), any::<u8>(), 0u8..12)
            .prop_map(|(by_operator, withdrawal, id)| Op::AttestWithdrawal { by_operator, withdrawal, id }),
        4 => (operator_mostly(), any::<bool>(), any::<u8>(), any::<u8>())
            .prop_map(|(by_operator, tft_feed, value, age)| Op::SubmitPrice { by_operator, tft_feed, value, age }),
        5 => (actor(), amount()).prop_map(|(actor, amount)| Op::EnterWithTft { actor, amount }),
        2 => (operator_mostly(), actor(), amount(), 0u8..4)
            .prop_map(|(by_operator, to, usd, id)| Op::EnterWithFiat { by_operator, to, usd, id }),
        2 => (actor(), amount()).prop_map(|(actor, amount)| Op::LockTft { actor, amount }),
        2 => (actor(), amount()).prop_map(|(actor, amount)| Op::UnlockTfp { actor, amount }),
        1 => (actor(), 0u8..4).prop_map(|(actor, name)| Op::RegisterFarm { actor, name }),
        1 => (actor(), any::<u8>(), 0u8..14, prop::option::weighted(0.3, 0u8..30))
            .prop_map(|(actor, farm, spec, offered)| Op::RegisterNode { actor, farm, spec, offered }),
        2 => (actor(), any::<u8>(), band_price()).prop_map(|(actor, node, price)| Op::SetSlicePrice { actor, node, price }),
        8 => (actor(), any::<u8>(), slice_count(), any::<bool>(), prop::option::weighted(0.4, 0u8..4)).prop_map(
            |(actor, node, slices, hourly, periods)| Op::OpenLease { actor, node, slices, hourly, periods }
        ),
        2 => (actor(), any::<u8>()).prop_map(|(actor, lease)| Op::CancelLease { actor, lease }),
        9 => (operator_mostly(), tick_delta(), prop::option::weighted(0.6, any::<(u8, u8)>()))
            .prop_map(|(by_operator, delta, refresh)| Op::Tick { by_operator, delta, refresh }),
        1 => any::<u8>().prop_map(|pick| Op::ReplayAttestation { pick }),
        2 => any::<u8>().prop_map(|pick| Op::CoSignAttestation { pick }),
        1 => (actor(), any::<u8>(), actor()).prop_map(|(actor, node, key)| Op::SetNodeKey { actor, node, key }),
        2 => (any::<u8>(), 0u8..4, any::<u8>())
            .prop_map(|(node, samples, uptime)| Op::ReportUptime { node, samples, uptime }),
        1 => (operator_mostly(), any::<u8>(), prop::bool::weighted(0.8))
            .prop_map(|(by_operator, period, right_hash)| Op::SignMintReport { by_operator, period, right_hash }),
        1 => (operator_mostly(), any::<u8>())
            .prop_map(|(by_operator, update)| Op::ProposeParamChange { by_operator, update }),
        1 => (operator_mostly(), any::<u8>())
            .prop_map(|(by_operator, change)| Op::SignParamChange { by_operator, change }),
        1 => (actor(), 0u8..4, any::<u8>(), any::<u8>(), 0u8..13)
            .prop_map(|(actor, name, fee, policy, lock)| Op::CreateFarmingPool { actor, name, fee, policy, lock }),
        2 => (actor(), any::<u8>(), any::<u8>(), prop::bool::weighted(0.3))
            .prop_map(|(actor, pool, farm, leave)| Op::SignPoolMembership { actor, pool, farm, leave }),
        1 => (actor(), any::<u8>(), band_price()).prop_map(|(actor, node, price)| Op::SetPoolPrice { actor, node, price }),
        2 => (actor(), amount(), any::<bool>())
            .prop_map(|(actor, amount, allow_partial)| Op::ConvertCcToTfp { actor, amount, allow_partial }),
        1 => (actor(), amount()).prop_map(|(actor, amount)| Op::ConvertTfpToCc { actor, amount }),
        1 => (actor(), any::<bool>()).prop_map(|(actor, tfp)| Op::SetSettlement { actor, tfp }),
        2 => (operator_mostly(), amount(), any::<u8>())
            .prop_map(|(by_operator, amount, kind)| Op::FundExitPool { by_operator, amount, kind }),
        2 => (actor(), amount()).prop_map(|(actor, amount)| Op::OpenPosition { actor, amount }),
        2 => (actor(), any::<u8>()).prop_map(|(actor, position)| Op::ClosePosition { actor, position }),
        2 => (actor(), any::<u8>(), amount(), any::<u8>(), any::<bool>()).prop_map(
            |(actor, position, usdc, min_price, carry_over)| Op::SubmitExitBid {
                actor,
                position,
                usdc,
                min_price,
                carry_over
            }
        ),
        2 => (actor(), any::<u8>(), amount(), any::<u8>())
            .prop_map(|(actor, bid, usdc, min_price)| Op::AmendExitBid { actor, bid, usdc, min_price }),
        2 => (actor(), any::<u8>()).prop_map(|(actor, bid)| Op::CancelExitBid { actor, bid }),
        2 => (actor(), 0u8..4, any::<u8>(), any::<u8>(), slice_count(), prop::option::weighted(0.5, 0u8..4)).prop_map(
            |(actor, name, requirements, price, quantity, periods)| Op::PostStandingBid {
                actor,
                name,
                requirements,
                price,
                quantity,
                periods
            }
        ),
        2 => (actor(), any::<u8>(), any::<u8>(), slice_count())
            .prop_map(|(actor, bid, node, n_slices)| Op::FillStandingBid { actor, bid, node, n_slices }),
        1 => (actor(), any::<u8>()).prop_map(|(actor, bid)| Op::CancelStandingBid { actor, bid }),
        2 => (actor(), any::<u8>(), slice_count(), any::<u8>(), prop::option::weighted(0.5, 0u8..4), any::<u8>())
            .prop_map(|(actor, requirements, n_slices, price, periods, window)| Op::PostCapacityRequest {
                actor,
                requirements,
                n_slices,
                price,
                periods,
                window
            }),
        2 => (actor(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(actor, request, node, price)| Op::OfferCapacity { actor, request, node, price }),
        2 => (
            actor(),
            any::<u8>(),
            prop::option::weighted(0.5, any::<u8>()),
            prop::option::weighted(0.5, any::<bool>()),
            slice_count()
        )
            .prop_map(|(actor, requirements, price, hourly, n_slices)| Op::TakeCapacity {
                actor,
                requirements,
                price,
                hourly,
                n_slices
            }),
        10 => (actor(), any::<u8>(), any::<bool>(), any::<u8>(), any::<u8>(), prop::option::weighted(0.5, 0u8..4))
            .prop_map(|(actor, market, buy, quantity, limit, expires)| Op::PlaceOrder {
                actor,
                market,
                buy,
                quantity,
                limit,
                expires
            }),
        1 => (actor(), any::<u8>()).prop_map(|(actor, order)| Op::CancelOrder { actor, order }),
        1 => (actor(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(actor, order, quantity, limit)| Op::AmendOrder { actor, order, quantity, limit }),
        1 => (operator_mostly(), actor(), any::<bool>())
            .prop_map(|(by_operator, actor, verified)| Op::SetVerified { by_operator, actor, verified }),
    ]
}

/// An id among the `count` existing ones (numbered from 1) for most draws; for one in five (raw < 51) the raw
/// value, which is often 0 or beyond the last id (an unknown object).
fn pick_id(raw: u8, count: usize) -> u64 {
    if count > 0 && raw >= 51 {
        (usize::from(raw) % count) as u64 + 1
    } else {
        u64::from(raw % 16)
    }
}

/// One of the existing ids (in `keys`) for most draws; for one in five (raw < 51), or when there are none,
/// the raw value, which is often an unknown id.
fn pick_key(raw: u8, keys: impl Iterator<Item = u64>) -> u64 {
    let keys: Vec<u64> = keys.collect();
    if !keys.is_empty() && raw >= 51 {
        keys[usize::from(raw) % keys.len()]
    } else {
        u64::from(raw % 16)
    }
}

/// A price relative to a band `[min, max]` (base units).
fn band_units(price: &BandPrice, min: i128, max: i128) -> Amount<Cc> {
    Amount::from_units(match price {
        BandPrice::Min => min,
        BandPrice::Max => max,
        BandPrice::Mid => (min + max) / 2,
        BandPrice::BelowMin => min - 1,
        BandPrice::AboveMax => max + 1,
        BandPrice::Raw(units) => *units,
    })
}

/// Buyer requirements: none, the seed tiers (Standard Compute, Memory-Heavy), certified, AI, one farm,
/// and one no node meets.
fn requirements_preset(raw: u8) -> Requirements {
    let mut r = Requirements::default();
    match raw % 7 {
        0 => {}
        1 => (r.min_passmark, r.min_mem_gb) = (2_000, 4),
        2 => r.min_mem_gb = 8,
        3 => r.certified_only = true,
        4 => r.min_ai_mem_gb = 1,
        5 => r.farm_id = Some(FarmId(1)),
        _ => r.min_mem_gb = 100_000,
    }
    r
}

/// Prices per slice-month offered or asked on the capacity market.
fn market_price(raw: u8) -> Amount<Cc> {
    const PRICES: [&str; 7] = ["1.2", "1.5", "2.4", "3", "6", "300", "0"];
    PRICES[usize::from(raw) % PRICES.len()].parse().expect("constant")
}

/// Windows of capacity requests (seconds; negative and zero are refused).
const REQUEST_WINDOWS: [i64; 8] = [0, 600, HOUR, 24 * HOUR, 72 * HOUR, 72 * HOUR, 72 * HOUR, -1];

/// Lowest prices of exit bids, USD per TFP (zero is refused).
const EXIT_MIN_PRICES: [&str; 7] = ["0.001", "0.005", "0.008", "0.01", "0.05", "0.1", "0"];

/// Exchange order quantities, base units: below the 1 TFT minimum, odd unit counts (so that pro-rata fills
/// and quotes round), and more than anyone holds.
const ORDER_QUANTITIES: [i128; 8] = [
    5_000_000,
    10_000_000,
    10_000_001,
    25_000_000,
    123_456_789,
    1_000_000_000,
    10_000_000_000,
    10_000_000_000_000,
];

/// Exchange limit prices, USDC per TFT (zero is refused), close together so that books cross.
const ORDER_LIMITS: [&str; 8] = ["0.009", "0.01", "0.0101", "0.0105", "0.011", "0.0123457", "0.013", "0"];

/// USDC asked by an exit bid: up to 0.6 USDC mostly (so the reservation fits a position), or any amount.
fn exit_usdc(amount: &Amt) -> Amount<Usdc> {
    match amount {
        Amt::Percent(p) => Amount::from_units(tokens(1) * i128::from(*p) / 200 + 1),
        Amt::Units(u) => Amount::from_units(*u),
    }
}

/// `Some(true)`: reuse the last nonce; `Some(false)`: nonce 0; `None`: the next nonce.
fn step() -> impl Strategy<Value = Step> {
    (op(), prop::option::weighted(0.08, any::<bool>()))
}

/// The world every sequence starts from.
struct World {
    h: Harness,
    actors: [AccountKey; ACTORS],
    /// The nodes' own keys (node `i + 1` reports uptime with `node_keys[i]`).
    node_keys: Vec<AccountKey>,
    /// Attestations (deposits, fiat payments, withdrawals) that executed: replaying one must be a no-op.
    executed: Vec<(AccountKey, Command)>,
    /// Attestations recorded below the threshold, with their signer: another guardian can co-sign them.
    pending: Vec<(AccountKey, Command)>,
}

/// An attested deposit signed by both guardians (the operator, then `second`).
fn deposit_by_both_guardians(h: &mut Harness, second: AccountKey, to: AccountKey, asset: Asset, units: i128) {
    let external_tx_id = h.external_id("deposit");
    let deposit = Command::AttestDeposit { asset, to, amount: any_units(units), external_tx_id };
    let operator = h.operator;
    h.apply(operator, deposit.clone());
    let events = h.apply(second, deposit);
    assert!(matches!(events.as_slice(), [Event::Deposited { .. }]), "{events:?}");
}

/// Seeds of the five setup nodes' keys.
const NODE_KEY_SEEDS: [u8; 5] = [40, 41, 42, 43, 44];

impl World {
    fn new() -> Self {
        // Guardians: the operator and user 1, both needed (threshold 2) for attestations, reports and
        // parameter changes; the operator alone is the oracle (quorum 1). Otherwise the default parameters.
        let user1 = account_of(&signing_key(SEEDS[1]));
        let mut h = Harness::with_params(|p| {
            p.guardians = vec![p.operator, user1];
            p.guardian_threshold = Some(2);
            p.oracle_quorum = Some(1);
            // Positions close after an hour instead of 30 days, so that sequences reach closes.
            p.position_min_lock_s = HOUR;
        });
        let actors = SEEDS.map(|seed| h.key(seed));
        for (i, seed) in SEEDS.iter().enumerate().skip(1) {
            if i != STRANGER {
                h.register(*seed);
            }
        }
        h.set_prices("0.01", "4228");
        for user in &actors[1..=5] {
            deposit_by_both_guardians(&mut h, user1, *user, Asset::Tft, tokens(20_000));
            deposit_by_both_guardians(&mut h, user1, *user, Asset::Usdc, tokens(1_000));
            h.apply(*user, Command::EnterWithTft { tft: Amount::<Tft>::from_units(tokens(20)) });
            h.apply(*user, Command::LockTft { tft: Amount::<Tft>::from_units(tokens(1_000)) });
            let events = h.apply(*user, Command::OpenPosition { tfp: Amount::from_units(tokens(200)) });
            let position_id = events
                .iter()
                .find_map(|e| match e {
                    Event::PositionOpened { position_id, .. } => Some(*position_id),
                    _ => None,
                })
                .expect("a position opened");
            // A standing exit bid that carries over from round to round.
            let bid = Command::SubmitExitBid {
                position_id,
                usdc: Amount::from_units(tokens(1) / 10),
                min_price: price("0.005"),
                carry_over: true,
            };
            h.apply(*user, bid);
        }
        h.enter_fiat(actors[1], tokens(100));
        let operator = h.operator;
        let (usdc, to) = (Amount::from_units(tokens(50)), TreasuryDestination::ExitPool);
        let transfer = Command::ApproveTreasuryTransfer { usdc, to, transfer_ref: "setup".to_owned() };
        h.apply(operator, transfer.clone());
        h.apply(user1, transfer);
        let (f1, f2) = (actors[6], actors[7]);
        for farmer in [f1, f2] {
            deposit_by_both_guardians(&mut h, user1, farmer, Asset::Tft, tokens(1_000));
            h.apply(farmer, Command::EnterWithTft { tft: Amount::<Tft>::from_units(tokens(40)) });
        }
        let farm1 = h.farm(f1);
        h.node(f1, farm1, "Mini AI 1", "30");
        h.node(f1, farm1, "Mini 1", "6");
        let farm2 = h.farm(f2);
        h.node(f2, farm2, "Mini 2", "3");
        h.node(f2, farm2, "Nvidia 6000 (1x)", "300");
        let resources =
            Resources { cpu_cores: 32, passmark: 40_000, mem_gb: 64, ssd_gb: 2_000, ai_mem_gb: 0, ai_tps: 0 };
        let events = h.apply(
            f2,
            Command::RegisterNode {
                farm_id: farm2,
                spec: NodeSpec::Custom { resources, slices: 8 },
                offered_slices: None,
            },
        );
        assert_eq!(events.len(), 1);
        h.apply(f2, Command::SetSlicePrice { node_id: NodeId(5), price: "2.4".parse().unwrap() });
        // A farming pool owned by user 3 with pool-set prices; farm 2 joins (both sides sign).
        let rules = PoolRules {
            fee_bps: Bps::new(500).expect("valid"),
            price_policy: PricePolicy::PoolSet,
            reward_lock_months: 0,
            exit_quota_bps: Bps::FULL,
        };
        h.apply(actors[3], Command::CreateFarmingPool { name: "pool".to_owned(), rules });
        let join = Command::SignPoolMembership {
            pool_id: FarmingPoolId(1),
            farm_id: farm2,
            change: MembershipChange::Join,
        };
        h.apply(actors[3], join.clone());
        h.apply(f2, join);
        assert_eq!(h.state.farming_pools().pool_of(farm2).map(|p| p.owner), Some(actors[3]));
        // Open business on the capacity market: a reverse auction and a standing bid.
        let request = Command::PostCapacityRequest {
            requirements: requirements_preset(1),
            n_slices: 2,
            max_price_month: market_price(3),
            periods: Some(2),
            window_s: 72 * HOUR,
        };
        h.apply(actors[1], request);
        let tier = Command::PostStandingBid {
            name: "standard compute".to_owned(),
            requirements: requirements_preset(1),
            price_month: market_price(1),
            quantity: 2,
            periods: None,
        };
        h.apply(actors[2], tier);
        // Every node has its own key for uptime reports.
        let mut node_keys = Vec::new();
        for (i, seed) in NODE_KEY_SEEDS.iter().enumerate() {
            let node_key = h.register(*seed);
            let node_id = NodeId(i as u32 + 1);
            let owner = if i < 2 { f1 } else { f2 };
            h.apply(owner, Command::SetNodeKey { node_id, node_key });
            node_keys.push(node_key);
        }
        World { h, actors, node_keys, executed: Vec::new(), pending: Vec::new() }
    }

    fn balance(&self, actor: usize, asset: Asset) -> i128 {
        self.h.balance(self.actors[actor], asset)
    }

    fn resolve(&self, amount: &Amt, actor: usize, asset: Asset) -> i128 {
        match amount {
            Amt::Units(units) => *units,
            Amt::Percent(percent) => self.balance(actor, asset) * i128::from(*percent) / 100,
        }
    }

    fn operator_or(&self, by_operator: bool, fallback: usize) -> AccountKey {
        if by_operator {
            self.h.operator
        } else {
            self.actors[fallback.max(1)]
        }
    }

    /// A guardian (the operator or user 1, by the parity of `pick`), or user 3 (not a guardian).
    fn guardian_or(&self, guardian: bool, pick: u8) -> AccountKey {
        match (guardian, pick % 2) {
            (true, 0) => self.h.operator,
            (true, _) => self.actors[1],
            (false, _) => self.actors[3],
        }
    }

    /// The signer and command of an operation, in the current state.
    fn command(&self, op: &Op) -> (AccountKey, Command) {
        let now = self.h.state.now();
        let key = |i: usize| self.actors[i];
        match op {
            Op::Register { actor } => (key(*actor), Command::RegisterAccount {}),
            Op::Transfer { from, to, asset, amount } => {
                let asset = Asset::ALL[*asset];
                let units = self.resolve(amount, *from, asset);
                (key(*from), Command::Transfer { asset, to: key(*to), amount: any_units(units) })
            }
            Op::Deposit { by_operator, to, asset, amount, id } => {
                let asset = Asset::ALL[*asset];
                // A few fixed sizes, so that a repeated id often repeats the same facts (idempotent replay).
                let units = match amount {
                    Amt::Percent(p) => tokens(100 * i128::from(p % 3 + 1)),
                    Amt::Units(u) => *u,
                };
                let external_tx_id = format!("ext-{id}");
                let command =
                    Command::AttestDeposit { asset, to: key(*to), amount: any_units(units), external_tx_id };
                (self.guardian_or(*by_operator, *id), command)
            }
            Op::RequestWithdrawal { actor, asset, amount } => {
                let asset = Asset::ALL[*asset];
                let units = self.resolve(amount, *actor, asset);
                let command = Command::RequestWithdrawal {
                    asset,
                    amount: any_units(units),
                    destination: "GABC".to_owned(),
                };
                (key(*actor), command)
            }
            Op::AttestWithdrawal { by_operator, withdrawal, id } => {
                let withdrawal_id =
                    WithdrawalId(pick_id(*withdrawal, self.h.state.bridge().withdrawals().len()));
                let command =
                    Command::AttestWithdrawal { withdrawal_id, external_tx_id: format!("ext-{id}") };
                (self.guardian_or(*by_operator, *id), command)
            }
            Op::SubmitPrice { by_operator, tft_feed, value, age } => {
                let (feed, text) = if *tft_feed {
                    (PriceFeed::TftUsd, TFT_PRICES[usize::from(*value) % TFT_PRICES.len()])
                } else {
                    (PriceFeed::GoldUsdPerOz, GOLD_PRICES[usize::from(*value) % GOLD_PRICES.len()])
                };
                let observed_at = now - PRICE_AGES[usize::from(*age) % PRICE_AGES.len()];
                let price: Price = price(text);
                (self.operator_or(*by_operator, 2), Command::SubmitPrice { feed, price, observed_at })
            }
            Op::EnterWithTft { actor, amount } => {
                let in_grace = self.tenant_in_grace();
                let user = self.mostly(in_grace, *actor);
                // Small top-ups (a percentage of 1/200 of the TFT) so that tenants do run out of CC; ten
                // times more for a tenant in grace, so that it can resume.
                let share = if Some(user) == in_grace { 20 } else { 200 };
                let units = match amount {
                    Amt::Percent(p) => self.h.balance(user, Asset::Tft) * i128::from(*p) / 100 / share,
                    Amt::Units(u) => *u,
                };
                (user, Command::EnterWithTft { tft: Amount::<Tft>::from_units(units) })
            }
            Op::EnterWithFiat { by_operator, to, usd, id } => {
                let units = match usd {
                    Amt::Percent(p) => tokens(50 * i128::from(p % 3 + 1)),
                    Amt::Units(u) => *u,
                };
                let command = Command::EnterWithFiat {
                    to: self.mostly(self.tenant_in_grace(), *to),
                    usd: Amount::<Usdc>::from_units(units),
                    payment_id: format!("pay-{id}"),
                };
                (self.operator_or(*by_operator, *to), command)
            }
            Op::LockTft { actor, amount } => {
                let units = self.resolve(amount, *actor, Asset::Tft);
                (key(*actor), Command::LockTft { tft: Amount::<Tft>::from_units(units) })
            }
            Op::UnlockTfp { actor, amount } => {
                let units = self.resolve(amount, *actor, Asset::Tfp);
                (key(*actor), Command::UnlockTfp { tfp: Amount::<Tfp>::from_units(units) })
            }
            Op::RegisterFarm { actor, name } => {
                let name = if *name == 0 { String::new() } else { format!("farm {name}") };
                (key(*actor), Command::RegisterFarm { name })
            }
            Op::RegisterNode { actor, farm, spec, offered } => {
                let catalogue = self.h.state.catalogue();
                let spec = match usize::from(*spec) {
                    i if i < catalogue.len() => NodeSpec::Model { model: catalogue[i].name.clone() },
                    10 => NodeSpec::Model { model: "Mini 4".to_owned() },
                    11 => NodeSpec::Custom {
                        resources: Resources {
                            cpu_cores: 8,
                            passmark: 9_000,
                            mem_gb: 8,
                            ssd_gb: 1_000,
                            ai_mem_gb: 0,
                            ai_tps: 0,
                        },
                        slices: 2,
                    },
                    12 => NodeSpec::Custom {
                        resources: Resources {
                            cpu_cores: 16,
                            passmark: 20_000,
                            mem_gb: 32,
                            ssd_gb: 1_000,
                            ai_mem_gb: 0,
                            ai_tps: 0,
                        },
                        slices: 0,
                    },
                    _ => NodeSpec::Custom {
                        resources: Resources {
                            cpu_cores: 16,
                            passmark: 20_000,
                            mem_gb: 48,
                            ssd_gb: 1_000,
                            ai_mem_gb: 0,
                            ai_tps: 0,
                        },
                        slices: 6,
                    },
                };
                let capacity = self.h.state.capacity();
                let farm_id = FarmId(pick_id(*farm, capacity.farms().len()) as u32);
                let owner = capacity.farms().get(&farm_id).map(|f| f.owner);
                let command = Command::RegisterNode { farm_id, spec, offered_slices: offered.map(u32::from) };
                (self.mostly(owner, *actor), command)
            }
            Op::SetSlicePrice { actor, node, price } => {
                let capacity = self.h.state.capacity();
                let node_id = NodeId(pick_id(*node, capacity.nodes().len()) as u32);
                let owner = capacity.nodes().get(&node_id).map(|n| capacity.farms()[&n.farm_id].owner);
                let band = capacity.nodes().get(&node_id).map(|n| (n.band_min.units(), n.band_max.units()));
                let (min, max) = band.unwrap_or((tokens(1), tokens(10)));
                (
                    self.mostly(owner, *actor),
                    Command::SetSlicePrice { node_id, price: band_units(price, min, max) },
                )
            }
            Op::OpenLease { actor, node, slices, hourly, periods } => {
                let node_id = NodeId(pick_id(*node, self.h.state.capacity().nodes().len()) as u32);
                let tenant = self.not_owner_of(node_id, *actor);
                let billing = if *hourly { Billing::Hourly } else { Billing::Monthly };
                let command = Command::OpenLease {
                    node_id,
                    n_slices: u32::from(*slices),
                    billing,
                    periods: periods.map(u32::from),
                };
                (tenant, command)
            }
            Op::CancelLease { actor, lease } => {
                let leases = self.h.state.capacity().leases();
                let lease_id = LeaseId(pick_id(*lease, leases.len()));
                let tenant = leases.get(&lease_id).map(|l| l.tenant);
                (self.mostly(tenant, *actor), Command::CancelLease { lease_id })
            }
            Op::ConvertCcToTfp { actor, amount, allow_partial } => {
                // Mostly the revenue CC the actor holds (only revenue CC converts, §5).
                let user = key(*actor);
                let units = match amount {
                    Amt::Percent(p) => {
                        let revenue = self.h.state.ledger().account(&user).map_or(0, |a| a.revenue_cc);
                        revenue * i128::from(*p) / 100
                    }
                    Amt::Units(u) => *u,
                };
                let command =
                    Command::ConvertCcToTfp { cc: Amount::from_units(units), allow_partial: *allow_partial };
                (user, command)
            }
            Op::ConvertTfpToCc { actor, amount } => {
                let units = self.resolve(amount, *actor, Asset::Tfp) / 10;
                (key(*actor), Command::ConvertTfpToCc { tfp: Amount::from_units(units) })
            }
            Op::SetSettlement { actor, tfp } => {
                let settle_in = if *tfp { Settlement::Tfp } else { Settlement::Cc };
                (key(*actor), Command::SetSettlement { settle_in })
            }
            Op::FundExitPool { by_operator, amount, kind } => {
                let treasury = self.h.system(SystemAccount::Treasury, Asset::Usdc);
                let units = match amount {
                    Amt::Percent(p) => treasury * i128::from(*p) / 100,
                    Amt::Units(u) => *u,
                };
                let usdc = Amount::from_units(units);
                let command = match kind % 3 {
                    0 => Command::FundExitPool { usdc },
                    1 => {
                        let transfer_ref = format!("transfer-{units}");
                        Command::ApproveTreasuryTransfer {
                            usdc,
                            to: TreasuryDestination::ExitPool,
                            transfer_ref,
                        }
                    }
                    _ => Command::AttestExitPoolDeposit {
                        usdc,
                        external_tx_id: format!("exit-deposit-{units}"),
                    },
                };
                (self.guardian_or(*by_operator, *kind / 3), command)
            }
            Op::OpenPosition { actor, amount } => {
                let units = self.resolve(amount, *actor, Asset::Tfp) / 4;
                (key(*actor), Command::OpenPosition { tfp: Amount::from_units(units) })
            }
            Op::ClosePosition { actor, position } => {
                let positions = self.h.state.exit_pool().positions();
                let position_id = PositionId(pick_key(*position, positions.keys().map(|p| p.0)));
                let owner = positions.get(&position_id).map(|p| p.owner);
                (self.mostly(owner, *actor), Command::ClosePosition { position_id })
            }
            Op::SubmitExitBid { actor, position, usdc, min_price, carry_over } => {
                let positions = self.h.state.exit_pool().positions();
                let position_id = PositionId(pick_key(*position, positions.keys().map(|p| p.0)));
                let owner = positions.get(&position_id).map(|p| p.owner);
                let command = Command::SubmitExitBid {
                    position_id,
                    usdc: exit_usdc(usdc),
                    min_price: price(EXIT_MIN_PRICES[usize::from(*min_price) % EXIT_MIN_PRICES.len()]),
                    carry_over: *carry_over,
                };
                (self.mostly(owner, *actor), command)
            }
            Op::AmendExitBid { actor, bid, usdc, min_price } => {
                let bids = self.h.state.exit_pool().bids();
                let bid_id = ExitBidId(pick_key(*bid, bids.keys().map(|b| b.0)));
                let owner = bids.get(&bid_id).map(|b| b.owner);
                let command = Command::AmendExitBid {
                    bid_id,
                    usdc: exit_usdc(usdc),
                    min_price: price(EXIT_MIN_PRICES[usize::from(*min_price) % EXIT_MIN_PRICES.len()]),
                };
                (self.mostly(owner, *actor), command)
            }
            Op::CancelExitBid { actor, bid } => {
                let bids = self.h.state.exit_pool().bids();
                let bid_id = ExitBidId(pick_key(*bid, bids.keys().map(|b| b.0)));
                let owner = bids.get(&bid_id).map(|b| b.owner);
                (self.mostly(owner, *actor), Command::CancelExitBid { bid_id })
            }
            Op::PostStandingBid { actor, name, requirements, price, quantity, periods } => {
                let name = if *name == 0 { String::new() } else { format!("tier {name}") };
                let command = Command::PostStandingBid {
                    name,
                    requirements: requirements_preset(*requirements),
                    price_month: market_price(*price),
                    quantity: u32::from(*quantity),
                    periods: periods.map(u32::from),
                };
                (key(*actor), command)
            }
            Op::FillStandingBid { actor, bid, node, n_slices } => {
                let bids = self.h.state.capacity().standing_bids();
                let bid_id = StandingBidId(pick_key(*bid, bids.keys().map(|b| b.0)));
                let buyer = bids.get(&bid_id).map(|b| b.buyer);
                let (node_id, owner) = self.node_not_of(*node, buyer);
                let command = Command::FillStandingBid { bid_id, node_id, n_slices: u32::from(*n_slices) };
                (self.mostly(owner, *actor), command)
            }
            Op::CancelStandingBid { actor, bid } => {
                let bids = self.h.state.capacity().standing_bids();
                let bid_id = StandingBidId(pick_key(*bid, bids.keys().map(|b| b.0)));
                let buyer = bids.get(&bid_id).map(|b| b.buyer);
                (self.mostly(buyer, *actor), Command::CancelStandingBid { bid_id })
            }
            Op::PostCapacityRequest { actor, requirements, n_slices, price, periods, window } => {
                let command = Command::PostCapacityRequest {
                    requirements: requirements_preset(*requirements),
                    n_slices: u32::from(*n_slices),
                    max_price_month: market_price(*price),
                    periods: periods.map(u32::from),
                    window_s: REQUEST_WINDOWS[usize::from(*window) % REQUEST_WINDOWS.len()],
                };
                (key(*actor), command)
            }
            Op::OfferCapacity { actor, request, node, price } => {
                let requests = self.h.state.capacity().requests();
                let request_id = CapacityRequestId(pick_key(*request, requests.keys().map(|r| r.0)));
                let requester = requests.get(&request_id).map(|r| r.requester);
                let (node_id, owner) = self.node_not_of(*node, requester);
                // Mostly the node's band minimum (the likeliest to be in band and under the maximum).
                let band_min = self.h.state.capacity().nodes().get(&node_id).map(|n| n.band_min);
                let price_month = match band_min {
                    Some(min) if *price >= 64 => min,
                    _ => market_price(*price),
                };
                let command = Command::OfferCapacity { request_id, node_id, price_month };
                (self.mostly(owner, *actor), command)
            }
            Op::TakeCapacity { actor, requirements, price, hourly, n_slices } => {
                let taker = key(*actor);
                let mut requirements = requirements_preset(*requirements);
                // Only nodes of a farm whose charges do not pay the taker (see `not_owner_of`).
                let capacity = self.h.state.capacity();
                let pool_owner = |f: FarmId| self.h.state.farming_pools().pool_of(f).map(|p| p.owner);
                let other_farm = capacity
                    .farms()
                    .values()
                    .find(|f| f.owner != taker && pool_owner(f.id) != Some(taker))
                    .map(|f| f.id);
                requirements.farm_id = other_farm.or(Some(FarmId(0)));
                let query = SearchQuery {
                    requirements,
                    max_price_month: price.map(market_price),
                    billing: hourly.map(|h| if h { Billing::Hourly } else { Billing::Monthly }),
                    min_free_slices: 0,
                    limit: 10,
                };
                (taker, Command::TakeCapacity { query, n_slices: u32::from(*n_slices), periods: Some(2) })
            }
            Op::CreateFarmingPool { actor, name, fee, policy, lock } => {
                let name = if *name == 0 { String::new() } else { format!("pool {name}") };
                let cc = |text: &str| text.parse::<Amount<Cc>>().expect("constant");
                let price_policy = match policy % 4 {
                    0 => PricePolicy::Free,
                    1 => PricePolicy::Range { min_month: cc("1.2"), max_month: cc("12") },
                    2 => PricePolicy::Range { min_month: cc("5"), max_month: cc("1") },
                    _ => PricePolicy::PoolSet,
                };
                let bps = |v: u16| Bps::new(v).expect("at most 10,000");
                let rules = PoolRules {
                    fee_bps: bps([0, 500, 2_000, 6_000][usize::from(*fee) % 4]),
                    price_policy,
                    reward_lock_months: u32::from(*lock),
                    exit_quota_bps: bps([0, 2_500, 10_000][usize::from(*fee) % 3]),
                };
                (key(*actor), Command::CreateFarmingPool { name, rules })
            }
            Op::SignPoolMembership { actor, pool, farm, leave } => {
                let pools = self.h.state.farming_pools().pools();
                let pool_id = FarmingPoolId(pick_key(*pool, pools.keys().map(|p| p.0)));
                let pool_owner = pools.get(&pool_id).map(|p| p.owner);
                let farms = self.h.state.capacity().farms();
                let farm_id = FarmId(pick_id(*farm, farms.len()) as u32);
                let farm_owner = farms.get(&farm_id).map(|f| f.owner);
                // Either side signs: the pool owner for even actors, the farmer for odd ones.
                let rightful = if actor % 2 == 0 { pool_owner } else { farm_owner };
                let change = if *leave { MembershipChange::Leave } else { MembershipChange::Join };
                (self.mostly(rightful, *actor), Command::SignPoolMembership { pool_id, farm_id, change })
            }
            Op::SetPoolPrice { actor, node, price } => {
                let capacity = self.h.state.capacity();
                let node_id = NodeId(pick_id(*node, capacity.nodes().len()) as u32);
                let node = capacity.nodes().get(&node_id);
                let pool_owner =
                    node.and_then(|n| self.h.state.farming_pools().pool_of(n.farm_id)).map(|p| p.owner);
                let (min, max) =
                    node.map_or((tokens(1), tokens(10)), |n| (n.band_min.units(), n.band_max.units()));
                (
                    self.mostly(pool_owner, *actor),
                    Command::SetPoolPrice { node_id, price: band_units(price, min, max) },
                )
            }
            Op::SetNodeKey { actor, node, key: node_key } => {
                let capacity = self.h.state.capacity();
                let node_id = NodeId(pick_id(*node, capacity.nodes().len()) as u32);
                let owner = capacity.nodes().get(&node_id).map(|n| capacity.farms()[&n.farm_id].owner);
                (self.mostly(owner, *actor), Command::SetNodeKey { node_id, node_key: key(*node_key) })
            }
            Op::ReportUptime { node, samples, uptime } => {
                let capacity = self.h.state.capacity();
                let node_id = NodeId(pick_id(*node, capacity.nodes().len()) as u32);
                // The node's own key when one is set (else a farmer's key: `node_key_mismatch`).
                let rewards = self.h.state.rewards();
                let mut keys = self.node_keys.iter().chain(self.actors.iter()).copied();
                let signer = keys.find(|k| rewards.node_of_key(k) == Some(node_id));
                let uptime_s = [0u64, 600, 3_600, 86_400, 2_592_000, u64::MAX][usize::from(*uptime) % 6];
                let reports = (0..i64::from(*samples))
                    .map(|k| UptimeSample { at: now - 3_600 * (i64::from(*samples) - 1 - k), uptime_s })
                    .collect();
                (signer.unwrap_or(self.actors[6]), Command::ReportUptime { node_id, reports })
            }
            Op::SignMintReport { by_operator, period: pick, right_hash } => {
                let reports = self.h.state.rewards().reports();
                let period = pick_key(*pick, reports.keys().map(|p| u64::from(*p))) as u32;
                let hash = reports.get(&period).map(|r| r.hash.clone());
                let report_hash = match hash {
                    Some(hash) if *right_hash => hash,
                    _ => "00".repeat(32),
                };
                (self.guardian_or(*by_operator, *pick), Command::SignMintReport { period, report_hash })
            }
            Op::ProposeParamChange { by_operator, update } => {
                let command = Command::ProposeParamChange { update: self.param_update(*update) };
                (self.guardian_or(*by_operator, update / 10), command)
            }
            Op::SignParamChange { by_operator, change } => {
                let changes = self.h.state.governance().changes();
                let change_id = ParamChangeId(pick_key(*change, changes.keys().map(|c| c.0)));
                (self.guardian_or(*by_operator, *change), Command::SignParamChange { change_id })
            }
            Op::CoSignAttestation { pick } => match self.pending.len() {
                0 => (
                    self.actors[1],
                    Command::AttestWithdrawal {
                        withdrawal_id: WithdrawalId(0),
                        external_tx_id: "none".to_owned(),
                    },
                ),
                n => {
                    let (first, command) = &self.pending[usize::from(*pick) % n];
                    let other = if *first == self.h.operator { self.actors[1] } else { self.h.operator };
                    (other, command.clone())
                }
            },
            Op::ReplayAttestation { pick } => {
                let attestations = self.attestations();
                match attestations.len() {
                    0 => (
                        self.h.operator,
                        Command::AttestWithdrawal {
                            withdrawal_id: WithdrawalId(0),
                            external_tx_id: "none".to_owned(),
                        },
                    ),
                    n => attestations[usize::from(*pick) % n].clone(),
                }
            }
            Op::PlaceOrder { actor, market, buy, quantity, limit, expires } => {
                let side = if *buy { Side::Buy } else { Side::Sell };
                // Buys live one batch: a partly filled buy that rests can panic a later clear (see
                // `trading::known_bugs_lead`). Remove this detour once that is fixed.
                let expires_after_batches = if *buy { Some(1) } else { expires.map(u32::from) };
                let command = Command::PlaceOrder {
                    // Mostly the TFT/USDC market, sometimes an unregistered one.
                    market_id: MarketId(if *market < 20 { 2 } else { 1 }),
                    side,
                    quantity: any_units(ORDER_QUANTITIES[usize::from(*quantity) % ORDER_QUANTITIES.len()]),
                    limit_price: price(ORDER_LIMITS[usize::from(*limit) % ORDER_LIMITS.len()]),
                    expires_after_batches,
                };
                (key(*actor), command)
            }
            Op::CancelOrder { actor, order } => {
                let (order_id, owner) = self.pick_order(*order);
                (self.mostly(owner, *actor), Command::CancelOrder { order_id })
            }
            Op::AmendOrder { actor, order, quantity, limit } => {
                let (order_id, owner) = self.pick_order(*order);
                let command = Command::AmendOrder {
                    order_id,
                    quantity: any_units(ORDER_QUANTITIES[usize::from(*quantity) % ORDER_QUANTITIES.len()]),
                    limit_price: price(ORDER_LIMITS[usize::from(*limit) % ORDER_LIMITS.len()]),
                };
                (self.mostly(owner, *actor), command)
            }
            Op::SetVerified { by_operator, actor, verified } => {
                let command = Command::SetVerified { account: key(*actor), verified: *verified };
                (self.operator_or(*by_operator, 2), command)
            }
            Op::Tick { by_operator, delta, .. } => {
                (self.operator_or(*by_operator, 3), Command::Tick { now: now.saturating_add(*delta) })
            }
        }
    }

    /// A parameter change: the revenue split, the entry rate, the oracle's age and clamp, the grace, minting
    /// on and off, the delay, the guardian set; some of them invalid.
    fn param_update(&self, raw: u8) -> ParamUpdate {
        let bps = |v: u16| Bps::new(v).expect("at most 10,000");
        match raw % 10 {
            0 => ParamUpdate::RevenueSplit(RevenueSplit {
                version: 2,
                shares: vec![
                    (SplitRecipient::Farmer, bps(7_000)),
                    (SplitRecipient::Burn, bps(2_000)),
                    (SplitRecipient::Treasury, bps(1_000)),
                ],
            }),
            1 => ParamUpdate::RevenueSplit(RevenueSplit {
                version: 3,
                shares: vec![(SplitRecipient::Burn, bps(5_000)), (SplitRecipient::Treasury, bps(5_000))],
            }),
            2 => ParamUpdate::EntryTftPerCc(Ratio::new(3, 1).expect("non-zero")),
            3 => ParamUpdate::OracleMaxAge(2 * HOUR),
            4 => ParamUpdate::OracleMaxAge(-1),
            5 => ParamUpdate::TftUsdClamp { min: price("0.002"), max: price("0.5") },
            6 => ParamUpdate::LeaseGrace(24 * HOUR),
            7 => ParamUpdate::MintingEnabled(raw >= 128),
            8 => ParamUpdate::ParamDelay(HOUR),
            // One or both guardians needed from then on.
            _ => ParamUpdate::GuardianSet {
                guardians: vec![self.h.operator, self.actors[1]],
                threshold: Some(1 + u32::from(raw % 20 >= 10)),
            },
        }
    }

    /// An open exchange order (picked like other ids; sometimes an unknown id) and its owner.
    fn pick_order(&self, raw: u8) -> (OrderId, Option<AccountKey>) {
        let books = self.h.state.exchange().books();
        let open = || books.values().flat_map(|b| b.orders.values());
        let order_id = OrderId(pick_key(raw, open().map(|o| o.id.0)));
        (order_id, open().find(|o| o.id == order_id).map(|o| o.owner))
    }

    /// The attestations that executed so far (deposits, fiat payments, withdrawals).
    fn attestations(&self) -> &[(AccountKey, Command)] {
        &self.executed
    }

    /// The tenant of a lease in grace, if any (top-ups are aimed at it, to exercise resumption).
    fn tenant_in_grace(&self) -> Option<AccountKey> {
        let leases = self.h.state.capacity().leases().values();
        leases.filter(|l| matches!(l.status, LeaseStatus::Grace { .. })).map(|l| l.tenant).next()
    }

    /// `rightful` (the owner of the object an operation names) for most actors drawn, so that operations on
    /// owned objects are also accepted; the drawn actor otherwise (or when there is no such object).
    fn mostly(&self, rightful: Option<AccountKey>, actor: usize) -> AccountKey {
        match rightful {
            Some(key) if actor < 6 => key,
            _ => self.actors[actor],
        }
    }

    /// A node (picked like other ids) whose farm `buyer` does not own, and its owner; `NodeId(0)` (unknown)
    /// when the pick is owned by `buyer` (see `not_owner_of`).
    fn node_not_of(&self, raw: u8, buyer: Option<AccountKey>) -> (NodeId, Option<AccountKey>) {
        let capacity = self.h.state.capacity();
        let node_id = NodeId(pick_id(raw, capacity.nodes().len()) as u32);
        let owner = capacity.nodes().get(&node_id).map(|n| capacity.farms()[&n.farm_id].owner);
        match buyer {
            Some(buyer) if self.paid_by_node(node_id).contains(&buyer) => (NodeId(0), None),
            _ => (node_id, owner),
        }
    }

    /// Who a charge for `node_id` pays: the farm's owner and its farming pool's owner.
    fn paid_by_node(&self, node_id: NodeId) -> Vec<AccountKey> {
        let capacity = self.h.state.capacity();
        let Some(node) = capacity.nodes().get(&node_id) else { return Vec::new() };
        let mut keys = vec![capacity.farms()[&node.farm_id].owner];
        keys.extend(self.h.state.farming_pools().pool_of(node.farm_id).map(|p| p.owner));
        keys
    }

    /// The actor, or the next actor that a charge for the node does not pay (see [`World::paid_by_node`]).
    ///
    /// A tenant paying itself is kept out of this test: it panics in `Ledger::commit` when the tenant's CC
    /// is below its own share of the charge (see `known_bugs` in `main.rs`). For the same reason pool fees
    /// stay below 62.5 % (a fee above half the charge could trip it when a tenant's farm joins its pool).
    /// Remove these detours once that is fixed.
    fn not_owner_of(&self, node_id: NodeId, actor: usize) -> AccountKey {
        let paid = self.paid_by_node(node_id);
        (0..ACTORS)
            .map(|k| self.actors[(actor + k) % ACTORS])
            .find(|key| !paid.contains(key))
            .expect("at least one actor is not paid by the node")
    }

    /// Applies one step through the harness (which checks the invariants and the unchanged hash on
    /// rejection) and counts what happened in `tally`: `<variant>:accepted` or `<variant>:rejected`, and
    /// `event:<name>` for each event (`event:lease_closed:<reason>` for closes).
    fn run(&mut self, (op, stale_nonce): &Step, tally: &mut Tally) {
        let (signer, command) = self.command(op);
        let next = self.h.next_nonce(signer);
        let nonce = match stale_nonce {
            None => next,
            Some(true) => next - 1,
            Some(false) => 0,
        };
        let replay = matches!(op, Op::ReplayAttestation { .. }) && !self.attestations().is_empty();
        let balances_before = self.balances();
        let result = self.send(signer, nonce, command, tally);
        if stale_nonce.is_some() {
            assert!(result.is_err(), "a stale nonce {nonce} was accepted");
        }
        if replay && stale_nonce.is_none() {
            match &result {
                Ok(events) => {
                    assert!(
                        matches!(events.as_slice(), [Event::AlreadyApplied { .. }]),
                        "a replayed attestation did something: {events:?}"
                    );
                    assert_eq!(self.balances(), balances_before, "a replayed attestation moved funds");
                }
                Err(rejection) => panic!("a replayed attestation was refused: {rejection:?}"),
            }
        }
        if let Op::Tick { refresh: Some((tft, gold)), .. } = op {
            // The operator's heartbeat: fresh prices right after the tick.
            let operator = self.h.operator;
            let now = self.h.state.now();
            for (feed, text) in [
                (PriceFeed::TftUsd, TFT_PRICES[usize::from(*tft) % TFT_PRICES.len()]),
                (PriceFeed::GoldUsdPerOz, GOLD_PRICES[usize::from(*gold) % GOLD_PRICES.len()]),
            ] {
                let command = Command::SubmitPrice { feed, price: price(text), observed_at: now };
                let _ = self.send(operator, self.h.next_nonce(operator), command, tally);
            }
        }
    }

    /// Signs and submits one command through the harness (which checks the invariants, and the unchanged
    /// hash on a rejection) and counts what happened in `tally`: `<variant>:accepted` or
    /// `<variant>:rejected`, `code:<variant>:<code>` for rejections, and `event:<name>` for each event
    /// (`event:lease_closed:<reason>` for closes).
    fn send(
        &mut self,
        signer: AccountKey,
        nonce: u64,
        command: Command,
        tally: &mut Tally,
    ) -> Result<Receipt, Rejection> {
        let kind = command.kind();
        let envelope: Envelope = self.h.envelope(signer, nonce, command.clone());
        let result = self.h.submit(envelope);
        let executed = |e: &Event| {
            matches!(
                e,
                Event::Deposited { .. }
                    | Event::EnteredWithFiat { .. }
                    | Event::Withdrawn { .. }
                    | Event::ExitPoolFunded { .. }
            )
        };
        let recorded = |e: &Event| {
            matches!(e, Event::AttestationRecorded { .. } | Event::TreasuryTransferApproved { .. })
        };
        if result.as_ref().is_ok_and(|events| events.iter().any(executed)) {
            self.executed.push((signer, command));
        } else if result.as_ref().is_ok_and(|events| events.iter().any(recorded)) {
            self.pending.push((signer, command));
        }
        let mut count = |key: String| *tally.entry(key).or_default() += 1;
        match &result {
            Ok(events) => {
                count(format!("{kind}:accepted"));
                for event in events {
                    let json = serde_json::to_value(event).expect("events serialize");
                    let name = json["event"].as_str().expect("events are tagged");
                    match json.get("reason").and_then(|r| r.as_str()) {
                        Some(reason) => count(format!("event:{name}:{reason}")),
                        None => count(format!("event:{name}")),
                    }
                    if name == "batch_cleared" && !json["price"].is_null() {
                        count("event:batch_cleared:traded".to_owned());
                    }
                }
            }
            Err(rejection) => {
                count(format!("{kind}:rejected"));
                count(format!("code:{kind}:{}", rejection.code()));
            }
        }
        result
    }

    /// Every balance and total of the ledger.
    fn balances(&self) -> (Vec<[i128; 4]>, Vec<AssetTotals>) {
        let ledger = self.h.state.ledger();
        let users = ledger.accounts().iter().map(|a| a.balances).collect();
        (users, Asset::ALL.iter().map(|a| ledger.totals(*a)).collect())
    }

    /// Conservation per asset, computed from the balances here and compared with the ledger's totals.
    fn check_conservation(&self) {
        let ledger = self.h.state.ledger();
        for asset in Asset::ALL {
            let users: i128 = ledger.accounts().iter().map(|a| a.balances[asset.index()]).sum();
            let system: i128 =
                SystemAccount::ALL.iter().map(|s| ledger.balance(AccountRef::System(*s), asset)).sum();
            let totals = ledger.totals(asset);
            assert_eq!(users + system, ledger.supply(asset), "{asset}: supply is the sum of all balances");
            assert_eq!(
                users + system,
                totals.deposited + totals.minted - totals.withdrawn - totals.burned,
                "{asset}: balances == deposited + minted - withdrawn - burned ({totals:?})"
            );
        }
        let vault = ledger.balance(AccountRef::System(SystemAccount::Vault), Asset::Tft);
        assert_eq!(ledger.supply(Asset::Tfp), vault, "TFP supply == TFT in the vault");
        let external = self.h.state.params().tft_supply_external.units();
        assert_eq!(self.h.state.global_tft_supply(), external - ledger.totals(Asset::Tft).burned);
    }
}

/// Counts of what a run did (see [`World::run`]).
type Tally = BTreeMap<String, u32>;

/// Runs a sequence from a fresh world; checks conservation and replay determinism at the end.
fn run_sequence(steps: &[Step], tally: &mut Tally) {
    let mut world = World::new();
    for step in steps {
        world.run(step, tally);
    }
    world.check_conservation();
    assert_eq!(
        world.h.replay_hash(),
        world.h.state.state_hash(),
        "replaying the accepted log gives the same state"
    );
}

fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(64, 0x7f6e_c0de))]

    #[test]
    fn random_command_sequences_keep_invariants_leave_rejections_unchanged_and_replay_identically(
        steps in prop::collection::vec(step(), 1..=60)
    ) {
        run_sequence(&steps, &mut Tally::new());
    }
}

/// Runs a sequence, replacing the state by its decoded snapshot (`State::from_snapshot_bytes`) after `cut`
/// steps; the rest runs on the decoded state with every harness check. Then the accepted commands after the
/// cut are applied to the original state and to a second decoded copy: identical receipts and hashes after
/// every command (an un-rebuilt lookup would show here), and the same final state as the world's.
fn run_sequence_through_snapshot(steps: &[Step], cut: usize) {
    let mut world = World::new();
    let mut tally = Tally::new();
    let cut = cut % (steps.len() + 1);
    for step in &steps[..cut] {
        world.run(step, &mut tally);
    }
    let original = world.h.state.clone();
    let (bytes, hash) = (original.snapshot_bytes(), original.state_hash());
    let decode = || tfeco_core::State::from_snapshot_bytes(&bytes, &hash).expect("a state round-trips");
    world.h.state = decode();
    let accepted_before = world.h.accepted.len();
    for step in &steps[cut..] {
        world.run(step, &mut tally);
    }
    world.check_conservation();
    assert_eq!(world.h.replay_hash(), world.h.state.state_hash(), "replay from genesis agrees");
    let (mut original, mut decoded) = (original, decode());
    let after = world.h.accepted.iter().zip(&world.h.accepted_at).skip(accepted_before);
    for (envelope, &at) in after {
        let (a, b) = (original.apply_at(envelope, at), decoded.apply_at(envelope, at));
        assert_eq!(a, b, "{:?} on the original and on the decoded snapshot", envelope.command);
        assert!(a.is_ok(), "accepted live, accepted again: {a:?}");
        assert_eq!(original.state_hash(), decoded.state_hash());
    }
    assert_eq!(original.state_hash(), world.h.state.state_hash());
}

proptest! {
    #![proptest_config(config(32, 0x5a9_5407))]

    #[test]
    fn a_state_restored_from_its_snapshot_continues_exactly_like_the_original(
        steps in prop::collection::vec(step(), 1..=60),
        cut in 0usize..61,
    ) {
        run_sequence_through_snapshot(&steps, cut);
    }
}

/// The names of all `Command` variants, read at run time from serde's "unknown variant" error, so that a
/// variant added later is seen here without a list to maintain.
fn command_variants() -> Vec<String> {
    let error = serde_json::from_str::<Command>(r#"{"no_such_command": {}}"#).expect_err("unknown variant");
    let message = error.to_string();
    let (_, names) = message.split_once("expected one of").expect("serde lists the variants");
    names.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The generator reaches every command variant, each is both accepted and rejected somewhere in a fixed
/// batch of sequences, and the billing paths (charge, grace, resume, every close reason, burns) and exchange
/// batches that trade happen: so the property test exercises the success paths, not only refusals.
#[test]
fn the_generator_covers_every_command_variant_and_the_billing_paths() {
    let mut runner = TestRunner::new_with_rng(config(1, 0), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = prop::collection::vec(step(), 150);
    let mut tally = Tally::new();
    for _ in 0..32 {
        let steps = strategy.new_tree(&mut runner).expect("a value").current();
        run_sequence(&steps, &mut tally);
    }
    let variants = command_variants();
    assert!(variants.len() >= 16 && variants.contains(&"tick".to_owned()), "{variants:?}");
    let mut expected: Vec<String> = Vec::new();
    for kind in variants {
        // A retired kind (`fund_exit_pool`) is refused for everyone.
        if !tfeco_core::RETIRED_COMMANDS.iter().any(|(retired, _)| *retired == kind) {
            expected.push(format!("{kind}:accepted"));
        }
        expected.push(format!("{kind}:rejected"));
    }
    for event in [
        "lease_charged",
        "lease_grace_started",
        "lease_resumed",
        "lease_closed:cancelled",
        "lease_closed:expired",
        "lease_closed:insufficient_funds",
        "revenue_burned",
        "already_applied",
        "withdrawn",
        "exit_pool_funded",
        "treasury_transfer_approved",
        "order_placed",
        "order_amended",
        "order_cancelled",
        "account_verified",
        "batch_cleared:traded",
    ] {
        expected.push(format!("event:{event}"));
    }
    for key in expected {
        assert!(tally.contains_key(&key), "{key} never happened: {tally:#?}");
    }
}
