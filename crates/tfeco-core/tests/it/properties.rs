//! Property test: random sequences of valid and invalid commands over a small world (the operator, five
//! users, two farmers with five nodes, and one unregistered key), covering every `Command` variant.
//!
//! Properties, checked by the harness after every command and here at the end:
//! - every invariant holds after every command (`check_invariants`);
//! - a rejected command leaves the state hash unchanged;
//! - replaying the accepted envelopes into a fresh state gives the same final state hash (determinism);
//! - conservation: per asset, the sum of all balances == deposited + minted - withdrawn - burned.
//!
//! The proptest RNG seed is fixed (no randomness between runs) and nothing is persisted to disk.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestRng, TestRunner};
use tfeco_core::ledger::AssetTotals;
use tfeco_core::market::LeaseStatus;
use tfeco_core::{
    AccountKey, AccountRef, Billing, Command, Envelope, Event, FarmId, LeaseId, NodeId, NodeSpec, PriceFeed, Receipt,
    Rejection, Resources, SystemAccount, WithdrawalId,
};
use tfeco_money::{Amount, Asset, Price, Tfp, Tft, Usdc};

use crate::harness::{any_units, price, tokens, Harness, GRACE, HOUR, MONTH};

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
    Register { actor: usize },
    Transfer { from: usize, to: usize, asset: usize, amount: Amt },
    Deposit { by_operator: bool, to: usize, asset: usize, amount: Amt, id: u8 },
    RequestWithdrawal { actor: usize, asset: usize, amount: Amt },
    AttestWithdrawal { by_operator: bool, withdrawal: u8, id: u8 },
    SubmitPrice { by_operator: bool, tft_feed: bool, value: u8, age: u8 },
    EnterWithTft { actor: usize, amount: Amt },
    EnterWithFiat { by_operator: bool, to: usize, usd: Amt, id: u8 },
    LockTft { actor: usize, amount: Amt },
    UnlockTfp { actor: usize, amount: Amt },
    RegisterFarm { actor: usize, name: u8 },
    RegisterNode { actor: usize, farm: u8, spec: u8, offered: Option<u8> },
    SetSlicePrice { actor: usize, node: u8, price: BandPrice },
    OpenLease { actor: usize, node: u8, slices: u8, hourly: bool, periods: Option<u8> },
    CancelLease { actor: usize, lease: u8 },
    /// A tick, optionally followed by the operator's fresh prices (indexes into the price lists).
    Tick { by_operator: bool, delta: i64, refresh: Option<(u8, u8)> },
    /// Re-sends an accepted attestation (deposit, fiat payment or withdrawal): must be a no-op.
    ReplayAttestation { pick: u8 },
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

fn operator_mostly() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

fn tick_delta() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => prop_oneof![Just(0i64), 1i64..600],
        3 => prop_oneof![600i64..HOUR, Just(HOUR), Just(24 * HOUR), Just(72 * HOUR)],
        2 => prop_oneof![Just(MONTH), Just(MONTH + GRACE)],
        1 => prop_oneof![Just(-1i64), -HOUR..0i64],
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => actor().prop_map(|actor| Op::Register { actor }),
        4 => (actor(), actor(), asset(), amount())
            .prop_map(|(from, to, asset, amount)| Op::Transfer { from, to, asset, amount }),
        3 => (operator_mostly(), actor(), asset(), amount(), 0u8..6)
            .prop_map(|(by_operator, to, asset, amount, id)| Op::Deposit { by_operator, to, asset, amount, id }),
        2 => (actor(), asset(), amount())
            .prop_map(|(actor, asset, amount)| Op::RequestWithdrawal { actor, asset, amount }),
        2 => (operator_mostly(), any::<u8>(), 0u8..12)
            .prop_map(|(by_operator, withdrawal, id)| Op::AttestWithdrawal { by_operator, withdrawal, id }),
        6 => (operator_mostly(), any::<bool>(), any::<u8>(), any::<u8>())
            .prop_map(|(by_operator, tft_feed, value, age)| Op::SubmitPrice { by_operator, tft_feed, value, age }),
        4 => (actor(), amount()).prop_map(|(actor, amount)| Op::EnterWithTft { actor, amount }),
        2 => (operator_mostly(), actor(), amount(), 0u8..4)
            .prop_map(|(by_operator, to, usd, id)| Op::EnterWithFiat { by_operator, to, usd, id }),
        2 => (actor(), amount()).prop_map(|(actor, amount)| Op::LockTft { actor, amount }),
        2 => (actor(), amount()).prop_map(|(actor, amount)| Op::UnlockTfp { actor, amount }),
        1 => (actor(), 0u8..4).prop_map(|(actor, name)| Op::RegisterFarm { actor, name }),
        1 => (actor(), any::<u8>(), 0u8..14, prop::option::weighted(0.3, 0u8..30))
            .prop_map(|(actor, farm, spec, offered)| Op::RegisterNode { actor, farm, spec, offered }),
        2 => (actor(), any::<u8>(), band_price()).prop_map(|(actor, node, price)| Op::SetSlicePrice { actor, node, price }),
        5 => (actor(), any::<u8>(), 0u8..6, any::<bool>(), prop::option::weighted(0.4, 0u8..4)).prop_map(
            |(actor, node, slices, hourly, periods)| Op::OpenLease { actor, node, slices, hourly, periods }
        ),
        2 => (actor(), any::<u8>()).prop_map(|(actor, lease)| Op::CancelLease { actor, lease }),
        6 => (operator_mostly(), tick_delta(), prop::option::weighted(0.6, any::<(u8, u8)>()))
            .prop_map(|(by_operator, delta, refresh)| Op::Tick { by_operator, delta, refresh }),
        1 => any::<u8>().prop_map(|pick| Op::ReplayAttestation { pick }),
    ]
}

/// An id among the `count` existing ones (numbered from 1) for most draws; for one draw in five the raw
/// value, which is often 0 or beyond the last id (an unknown object).
fn pick_id(raw: u8, count: usize) -> u64 {
    if count > 0 && raw % 5 != 0 {
        (usize::from(raw) % count) as u64 + 1
    } else {
        u64::from(raw % 16)
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
}

impl World {
    fn new() -> Self {
        let mut h = Harness::new();
        let actors = SEEDS.map(|seed| h.key(seed));
        for (i, seed) in SEEDS.iter().enumerate().skip(1) {
            if i != STRANGER {
                h.register(*seed);
            }
        }
        h.set_prices("0.01", "4228");
        for user in &actors[1..=5] {
            h.deposit(*user, Asset::Tft, tokens(20_000));
            h.deposit(*user, Asset::Usdc, tokens(1_000));
            h.apply(*user, Command::EnterWithTft { tft: Amount::<Tft>::from_units(tokens(20)) });
            h.apply(*user, Command::LockTft { tft: Amount::<Tft>::from_units(tokens(1_000)) });
        }
        let (f1, f2) = (actors[6], actors[7]);
        for farmer in [f1, f2] {
            h.deposit(farmer, Asset::Tft, tokens(1_000));
        }
        let farm1 = h.farm(f1);
        h.node(f1, farm1, "Mini AI 1", "30");
        h.node(f1, farm1, "Mini 1", "6");
        let farm2 = h.farm(f2);
        h.node(f2, farm2, "Mini 2", "3");
        h.node(f2, farm2, "Nvidia 6000 (1x)", "300");
        let resources = Resources { cpu_cores: 32, passmark: 40_000, mem_gb: 64, ssd_gb: 2_000, ai_mem_gb: 0, ai_tps: 0 };
        let events = h.apply(f2, Command::RegisterNode { farm_id: farm2, spec: NodeSpec::Custom { resources, slices: 8 }, offered_slices: None });
        assert_eq!(events.len(), 1);
        h.apply(f2, Command::SetSlicePrice { node_id: NodeId(5), price: "2.4".parse().unwrap() });
        World { h, actors }
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
                let command = Command::AttestDeposit { asset, to: key(*to), amount: any_units(units), external_tx_id };
                (self.operator_or(*by_operator, *to), command)
            }
            Op::RequestWithdrawal { actor, asset, amount } => {
                let asset = Asset::ALL[*asset];
                let units = self.resolve(amount, *actor, asset);
                let command =
                    Command::RequestWithdrawal { asset, amount: any_units(units), destination: "GABC".to_owned() };
                (key(*actor), command)
            }
            Op::AttestWithdrawal { by_operator, withdrawal, id } => {
                let withdrawal_id = WithdrawalId(pick_id(*withdrawal, self.h.state.withdrawals().len()));
                let command = Command::AttestWithdrawal {
                    withdrawal_id,
                    external_tx_id: format!("ext-{id}"),
                };
                (self.operator_or(*by_operator, 1), command)
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
                let user = self.mostly(self.tenant_in_grace(), *actor);
                // Small top-ups (a percentage of 1/200 of the TFT), so tenants do run out of CC.
                let units = match amount {
                    Amt::Percent(p) => self.h.balance(user, Asset::Tft) * i128::from(*p) / 100 / 200,
                    Amt::Units(u) => *u,
                };
                (user, Command::EnterWithTft { tft: Amount::<Tft>::from_units(units) })
            }
            Op::EnterWithFiat { by_operator, to, usd, id } => {
                let units = match usd {
                    Amt::Percent(p) => tokens(10 * i128::from(p % 3 + 1)),
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
                        resources: Resources { cpu_cores: 8, passmark: 9_000, mem_gb: 8, ssd_gb: 1_000, ai_mem_gb: 0, ai_tps: 0 },
                        slices: 2,
                    },
                    12 => NodeSpec::Custom {
                        resources: Resources { cpu_cores: 16, passmark: 20_000, mem_gb: 32, ssd_gb: 1_000, ai_mem_gb: 0, ai_tps: 0 },
                        slices: 0,
                    },
                    _ => NodeSpec::Custom {
                        resources: Resources { cpu_cores: 16, passmark: 20_000, mem_gb: 48, ssd_gb: 1_000, ai_mem_gb: 0, ai_tps: 0 },
                        slices: 6,
                    },
                };
                let market = self.h.state.market();
                let farm_id = FarmId(pick_id(*farm, market.farms().len()) as u32);
                let owner = market.farms().get(&farm_id).map(|f| f.owner);
                let command = Command::RegisterNode { farm_id, spec, offered_slices: offered.map(u32::from) };
                (self.mostly(owner, *actor), command)
            }
            Op::SetSlicePrice { actor, node, price } => {
                let market = self.h.state.market();
                let node_id = NodeId(pick_id(*node, market.nodes().len()) as u32);
                let owner = market.nodes().get(&node_id).map(|n| market.farms()[&n.farm_id].owner);
                let band = self.h.state.market().nodes().get(&node_id).map(|n| (n.band_min.units(), n.band_max.units()));
                let (min, max) = band.unwrap_or((tokens(1), tokens(10)));
                let units = match price {
                    BandPrice::Min => min,
                    BandPrice::Max => max,
                    BandPrice::Mid => (min + max) / 2,
                    BandPrice::BelowMin => min - 1,
                    BandPrice::AboveMax => max + 1,
                    BandPrice::Raw(units) => *units,
                };
                (self.mostly(owner, *actor), Command::SetSlicePrice { node_id, price: Amount::from_units(units) })
            }
            Op::OpenLease { actor, node, slices, hourly, periods } => {
                let node_id = NodeId(pick_id(*node, self.h.state.market().nodes().len()) as u32);
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
                let leases = self.h.state.market().leases();
                let lease_id = LeaseId(pick_id(*lease, leases.len()));
                let tenant = leases.get(&lease_id).map(|l| l.tenant);
                (self.mostly(tenant, *actor), Command::CancelLease { lease_id })
            }
            Op::ReplayAttestation { pick } => {
                let attestations = self.attestations();
                match attestations.len() {
                    0 => (self.h.operator, Command::AttestWithdrawal {
                        withdrawal_id: WithdrawalId(0),
                        external_tx_id: "none".to_owned(),
                    }),
                    n => {
                        let original = attestations[usize::from(*pick) % n];
                        (original.signer, original.command.clone())
                    }
                }
            }
            Op::Tick { by_operator, delta, .. } => {
                (self.operator_or(*by_operator, 3), Command::Tick { now: now.saturating_add(*delta) })
            }
        }
    }

    /// The accepted attestations so far (deposits, fiat payments, withdrawals).
    fn attestations(&self) -> Vec<&Envelope> {
        let attestation = |e: &&Envelope| {
            matches!(
                e.command,
                Command::AttestDeposit { .. } | Command::EnterWithFiat { .. } | Command::AttestWithdrawal { .. }
            )
        };
        self.h.accepted.iter().filter(attestation).collect()
    }

    /// The tenant of a lease in grace, if any (top-ups are aimed at it, to exercise resumption).
    fn tenant_in_grace(&self) -> Option<AccountKey> {
        let leases = self.h.state.market().leases().values();
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

    /// The actor, or the next actor that does not own the node's farm.
    ///
    /// A farmer leasing its own node is kept out of this test: it panics in `Ledger::commit` when the
    /// farmer's CC is below the farmer share of the charge (see `known_bugs` in `main.rs`). Remove this
    /// detour once that is fixed.
    fn not_owner_of(&self, node_id: NodeId, actor: usize) -> AccountKey {
        let market = self.h.state.market();
        let owner = market.nodes().get(&node_id).map(|n| market.farms()[&n.farm_id].owner);
        (0..ACTORS)
            .map(|k| self.actors[(actor + k) % ACTORS])
            .find(|key| Some(*key) != owner)
            .expect("at least one actor is not the owner")
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
        let kind = variant_name(&command);
        assert_eq!(kind, command.kind(), "the core names the variant the same way");
        let envelope: Envelope = self.h.envelope(signer, nonce, command);
        let result = self.h.submit(envelope);
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
    assert_eq!(world.h.replay_hash(), world.h.state.state_hash(), "replaying the accepted log gives the same state");
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

/// Every `Command` variant.
const ALL_VARIANTS: [&str; 16] = [
    "register_account",
    "transfer",
    "attest_deposit",
    "request_withdrawal",
    "attest_withdrawal",
    "submit_price",
    "enter_with_tft",
    "enter_with_fiat",
    "lock_tft",
    "unlock_tfp",
    "register_farm",
    "register_node",
    "set_slice_price",
    "open_lease",
    "cancel_lease",
    "tick",
];

/// The variant's name. The match is exhaustive on purpose: a new `Command` variant does not compile
/// here until it is added to [`ALL_VARIANTS`] and to the generator.
fn variant_name(command: &Command) -> &'static str {
    match command {
        Command::RegisterAccount {} => ALL_VARIANTS[0],
        Command::Transfer { .. } => ALL_VARIANTS[1],
        Command::AttestDeposit { .. } => ALL_VARIANTS[2],
        Command::RequestWithdrawal { .. } => ALL_VARIANTS[3],
        Command::AttestWithdrawal { .. } => ALL_VARIANTS[4],
        Command::SubmitPrice { .. } => ALL_VARIANTS[5],
        Command::EnterWithTft { .. } => ALL_VARIANTS[6],
        Command::EnterWithFiat { .. } => ALL_VARIANTS[7],
        Command::LockTft { .. } => ALL_VARIANTS[8],
        Command::UnlockTfp { .. } => ALL_VARIANTS[9],
        Command::RegisterFarm { .. } => ALL_VARIANTS[10],
        Command::RegisterNode { .. } => ALL_VARIANTS[11],
        Command::SetSlicePrice { .. } => ALL_VARIANTS[12],
        Command::OpenLease { .. } => ALL_VARIANTS[13],
        Command::CancelLease { .. } => ALL_VARIANTS[14],
        Command::Tick { .. } => ALL_VARIANTS[15],
    }
}

/// The generator reaches every command variant, each is both accepted and rejected somewhere in a fixed
/// batch of sequences, and the billing paths (charge, grace, resume, every close reason, burns) happen: so
/// the property test exercises the success paths, not only refusals.
#[test]
fn the_generator_covers_every_command_variant_and_the_billing_paths() {
    let mut runner = TestRunner::new_with_rng(config(1, 0), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = prop::collection::vec(step(), 60);
    let mut tally = Tally::new();
    for _ in 0..64 {
        let steps = strategy.new_tree(&mut runner).expect("a value").current();
        run_sequence(&steps, &mut tally);
    }
    let mut expected: Vec<String> = Vec::new();
    for kind in ALL_VARIANTS {
        expected.push(format!("{kind}:accepted"));
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
    ] {
        expected.push(format!("event:{event}"));
    }
    for key in expected {
        assert!(tally.contains_key(&key), "{key} never happened: {tally:#?}");
    }
}
