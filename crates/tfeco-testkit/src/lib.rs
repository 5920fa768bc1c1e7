//! The test kit of TFGrid Economy (a dev-dependency only): the repository's data compiled in, deterministic
//! keys, the default genesis, money literals, and the [`Harness`]: a [`State`] built from the `tfgrid4-2025`
//! parameters with a fixed operator key, the Q4 2025 catalogue and a fixed start time, plus helpers that sign
//! every request, apply it with the next nonce of its signer, and check after every command that:
//! - every invariant holds (`check_invariants`);
//! - a rejected command changed nothing (same state hash, same command count).
//!
//! Nothing here is random or reads a clock: keys come from fixed seeds, ids from counters. Used by the
//! core's integration tests, the server's and the binary's tests, and the fixture writer, so that no crate
//! copies setup code.

pub mod postgres;

use std::collections::BTreeMap;

use ed25519_dalek::{Signer, SigningKey};
use tfeco_core::slices::capacity::Lease;
use tfeco_core::{
    parse_catalogue_csv, AccountKey, AccountRef, Billing, Command, Envelope, Event, FarmId, Genesis, LeaseId,
    NodeId, NodeModel, NodeSpec, Params, PriceFeed, Receipt, Rejection, RequestBody, SignedBody, State,
    SystemAccount,
};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Price, Tft, Usdc};

/// 2025-11-01T00:00:00Z.
pub const START: i64 = 1_761_955_200;
/// Base units per token.
pub const TOKEN: i128 = 10_000_000;
pub const HOUR: i64 = 3_600;
/// A billing month: 720 hours.
pub const MONTH: i64 = 720 * HOUR;
/// Default grace of an unpaid lease: 72 hours.
pub const GRACE: i64 = 72 * HOUR;

/// The repository's copy of the Q4 2025 node catalogue (compiled in; nothing is read at run time).
pub const CATALOGUE_CSV: &str = tfeco_core::CATALOGUE_Q4_2025_CSV;
/// The repository's copy of the monthly gold price series.
pub const GOLD_CSV: &str = tfeco_core::GOLD_MONTHLY_CSV;

/// Seed of the operator's signing key.
pub const OPERATOR_SEED: u8 = 1;

pub fn catalogue() -> Vec<NodeModel> {
    parse_catalogue_csv(CATALOGUE_CSV).expect("the repository catalogue parses")
}

pub fn model(name: &str) -> NodeModel {
    catalogue().into_iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no model {name:?}"))
}

pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn account_of(key: &SigningKey) -> AccountKey {
    AccountKey(key.verifying_key().to_bytes())
}

pub fn price(text: &str) -> Price {
    text.parse().unwrap_or_else(|e| panic!("bad price {text:?}: {e}"))
}

pub fn cc(text: &str) -> Amount<Cc> {
    text.parse().unwrap_or_else(|e| panic!("bad CC amount {text:?}: {e}"))
}

pub fn tokens(whole: i128) -> i128 {
    whole * TOKEN
}

pub fn any_units(units: i128) -> Amount<AnyAsset> {
    Amount::from_units(units)
}

/// A core state with the keys of every account the test uses; see the crate docs.
pub struct Harness {
    pub state: State,
    pub genesis: Genesis,
    pub operator: AccountKey,
    keys: BTreeMap<AccountKey, SigningKey>,
    next_external_id: u64,
    /// Every accepted envelope, in order (the command log).
    pub accepted: Vec<Envelope>,
    /// The journaled time of each accepted envelope (decisions §2), in the same order.
    pub accepted_at: Vec<i64>,
    /// The node's clock for the next commands, unix seconds (`None`: the state's time). See [`Harness::at`].
    clock: Option<i64>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// Default parameters, the repository catalogue, start 2025-11-01.
    pub fn new() -> Self {
        Self::with_params(|_| {})
    }

    /// As [`Harness::new`] with parameters adjusted by `adjust`.
    pub fn with_params(adjust: impl FnOnce(&mut Params)) -> Self {
        let operator_key = signing_key(OPERATOR_SEED);
        let operator = account_of(&operator_key);
        let mut params = Params::tfgrid4_2025(operator);
        adjust(&mut params);
        let genesis = Genesis { params, catalogue: catalogue(), start_time: START };
        let state = State::new(genesis.clone());
        state.check_invariants().expect("genesis satisfies the invariants");
        let mut keys = BTreeMap::new();
        keys.insert(operator, operator_key);
        Harness {
            state,
            genesis,
            operator,
            keys,
            next_external_id: 0,
            accepted: Vec::new(),
            accepted_at: Vec::new(),
            clock: None,
        }
    }

    /// The key of `seed` (seed 1 is the operator); not registered.
    pub fn key(&mut self, seed: u8) -> AccountKey {
        let signing = signing_key(seed);
        let account = account_of(&signing);
        self.keys.insert(account, signing);
        account
    }

    /// Registers the key of `seed`.
    pub fn register(&mut self, seed: u8) -> AccountKey {
        let account = self.key(seed);
        self.apply(account, Command::RegisterAccount {});
        account
    }

    /// The next nonce of `who`: one more than the last it used (1 for an unknown key).
    pub fn next_nonce(&self, who: AccountKey) -> u64 {
        self.state.ledger().account(&who).map_or(1, |a| a.last_nonce + 1)
    }

    /// A signed request, verified like the server does, turned into the envelope the core applies.
    pub fn envelope(&self, signer: AccountKey, nonce: u64, command: Command) -> Envelope {
        let body = SignedBody::encode(RequestBody { signer, nonce, expiry: self.state.now() + 300, command });
        let key = self.keys.get(&signer).expect("the harness knows every signer's key");
        let signature = key.sign(&body.signing_bytes());
        body.verify(&signature.to_bytes()).expect("a harness signature verifies");
        body.into_envelope()
    }

    /// Sets the node's clock: the following commands are applied at `at` (their journaled time, decisions
    /// §2), or at the state's time when that is later. `Tick`s still set the state's time.
    pub fn at(&mut self, at: i64) {
        self.clock = Some(at);
    }

    /// The accepted log as signed requests, each with the time (unix seconds) at which it was applied (its
    /// journaled time). Expiries are far in the future (the core does not read them).
    pub fn signed_log(&self) -> Vec<(i64, SignedBody, Vec<u8>)> {
        self.accepted
            .iter()
            .zip(&self.accepted_at)
            .map(|(envelope, &now)| {
                let body = SignedBody::encode(RequestBody {
                    signer: envelope.signer,
                    nonce: envelope.nonce,
                    expiry: now + 10 * 366 * 86_400,
                    command: envelope.command.clone(),
                });
                let key = self.keys.get(&envelope.signer).expect("the harness knows every signer's key");
                let signature = key.sign(&body.signing_bytes()).to_bytes().to_vec();
                (now, body, signature)
            })
            .collect()
    }

    /// Applies an envelope and checks the harness rules (invariants; a rejection changes nothing).
    pub fn submit(&mut self, envelope: Envelope) -> Result<Receipt, Rejection> {
        let hash_before = self.state.state_hash();
        let count_before = self.state.commands_applied();
        let at = self.clock.unwrap_or(0).max(self.state.now());
        let at = match envelope.command {
            Command::Tick { now } => now.max(self.state.now()),
            _ => at,
        };
        let result = self.state.apply_at(&envelope, at);
        if let Err(violation) = self.state.check_invariants() {
            panic!("invariant violated after {:?}: {violation}", envelope.command);
        }
        match &result {
            Ok(_) => {
                self.accepted.push(envelope);
                self.accepted_at.push(at);
            }
            Err(rejection) => {
                assert_eq!(
                    self.state.state_hash(),
                    hash_before,
                    "rejection {rejection:?} of {:?} changed the state",
                    envelope.command
                );
                assert_eq!(self.state.commands_applied(), count_before);
            }
        }
        result
    }

    /// Signs and applies `command` with the next nonce of `signer`.
    pub fn try_apply(&mut self, signer: AccountKey, command: Command) -> Result<Receipt, Rejection> {
        let envelope = self.envelope(signer, self.next_nonce(signer), command);
        self.submit(envelope)
    }

    /// Applies a command that must be accepted.
    #[track_caller]
    pub fn apply(&mut self, signer: AccountKey, command: Command) -> Receipt {
        let shown = format!("{command:?}");
        self.try_apply(signer, command).unwrap_or_else(|r| panic!("{shown} rejected: {r:?} ({r})"))
    }

    /// Applies a command that must be rejected; returns the rejection (the state is checked unchanged).
    #[track_caller]
    pub fn reject(&mut self, signer: AccountKey, command: Command) -> Rejection {
        let shown = format!("{command:?}");
        match self.try_apply(signer, command) {
            Ok(events) => panic!("{shown} was accepted: {events:?}"),
            Err(rejection) => rejection,
        }
    }

    /// A fresh external transaction id.
    pub fn external_id(&mut self, prefix: &str) -> String {
        self.next_external_id += 1;
        format!("{prefix}-{}", self.next_external_id)
    }

    /// An attested deposit by the operator, with a fresh external id.
    pub fn deposit(&mut self, to: AccountKey, asset: Asset, units: i128) -> Receipt {
        let external_tx_id = self.external_id("deposit");
        let operator = self.operator;
        self.apply(operator, Command::AttestDeposit { asset, to, amount: any_units(units), external_tx_id })
    }

    /// Submits both feeds observed now. If a submission observed now already exists (a submitter's
    /// observations must be strictly increasing), time first advances by one second.
    pub fn set_prices(&mut self, tft_usd: &str, gold_usd_per_oz: &str) {
        let now = self.state.now();
        let taken = self.state.oracle().submissions().any(|(_, s)| s.observed_at >= now);
        if taken {
            self.tick_to(now + 1);
        }
        self.submit_price(PriceFeed::TftUsd, tft_usd);
        self.submit_price(PriceFeed::GoldUsdPerOz, gold_usd_per_oz);
    }

    pub fn submit_price(&mut self, feed: PriceFeed, value: &str) -> Receipt {
        let observed_at = self.state.now();
        let operator = self.operator;
        self.apply(operator, Command::SubmitPrice { feed, price: price(value), observed_at })
    }

    pub fn tick_to(&mut self, now: i64) -> Receipt {
        let operator = self.operator;
        self.apply(operator, Command::Tick { now })
    }

    pub fn advance(&mut self, seconds: i64) -> Receipt {
        let now = self.state.now() + seconds;
        self.tick_to(now)
    }

    /// Deposits `tft_units` TFT for `user` and enters them all through Pool 1.
    pub fn enter(&mut self, user: AccountKey, tft_units: i128) -> Receipt {
        self.deposit(user, Asset::Tft, tft_units);
        self.apply(user, Command::EnterWithTft { tft: Amount::<Tft>::from_units(tft_units) })
    }

    /// A fiat entry attested by the operator.
    pub fn enter_fiat(&mut self, to: AccountKey, usd_units: i128) -> Receipt {
        let payment_id = self.external_id("payment");
        let operator = self.operator;
        self.apply(
            operator,
            Command::EnterWithFiat { to, usd: Amount::<Usdc>::from_units(usd_units), payment_id },
        )
    }

    /// Registers a farm for `farmer` (registered) with a fresh name.
    pub fn farm(&mut self, farmer: AccountKey) -> FarmId {
        let name = self.external_id("farm");
        let events = self.apply(farmer, Command::RegisterFarm { name });
        match events.as_slice() {
            [Event::FarmRegistered { farm_id, .. }] => *farm_id,
            other => panic!("unexpected events {other:?}"),
        }
    }

    /// Registers a catalogue node in `farm_id` and lists it at `price_month` CC per slice-month.
    pub fn node(&mut self, farmer: AccountKey, farm_id: FarmId, model: &str, price_month: &str) -> NodeId {
        let spec = NodeSpec::Model { model: model.to_owned() };
        let events = self.apply(farmer, Command::RegisterNode { farm_id, spec, offered_slices: None });
        let node_id = match events.as_slice() {
            [Event::NodeRegistered { node_id, .. }] => *node_id,
            other => panic!("unexpected events {other:?}"),
        };
        self.apply(farmer, Command::SetSlicePrice { node_id, price: cc(price_month) });
        node_id
    }

    /// Opens a lease that must be accepted; returns its id.
    pub fn open_lease(
        &mut self,
        tenant: AccountKey,
        node_id: NodeId,
        n_slices: u32,
        billing: Billing,
        periods: Option<u32>,
    ) -> LeaseId {
        let events = self.apply(tenant, Command::OpenLease { node_id, n_slices, billing, periods });
        events
            .iter()
            .find_map(|e| match e {
                Event::LeaseOpened { lease_id, .. } => Some(*lease_id),
                _ => None,
            })
            .expect("an accepted OpenLease reports LeaseOpened")
    }

    pub fn lease(&self, id: LeaseId) -> &Lease {
        &self.state.capacity().leases()[&id]
    }

    pub fn free_slices(&self, node_id: NodeId) -> u32 {
        self.state.capacity().nodes()[&node_id].free_slices()
    }

    /// Balance of a user in base units.
    pub fn balance(&self, who: AccountKey, asset: Asset) -> i128 {
        self.state.ledger().balance(AccountRef::User(who), asset)
    }

    /// Balance of a system account in base units.
    pub fn system(&self, account: SystemAccount, asset: Asset) -> i128 {
        self.state.ledger().balance(AccountRef::System(account), asset)
    }

    pub fn burned(&self, asset: Asset) -> i128 {
        self.state.ledger().totals(asset).burned
    }

    /// Replays the accepted log into a fresh state from the same genesis; returns its final hash.
    pub fn replay_hash(&self) -> String {
        let mut fresh = State::new(self.genesis.clone());
        for (i, (envelope, &at)) in self.accepted.iter().zip(&self.accepted_at).enumerate() {
            if let Err(r) = fresh.apply_at(envelope, at) {
                panic!(
                    "replay: envelope {i} ({:?}) accepted live but rejected on replay: {r:?}",
                    envelope.command
                );
            }
        }
        fresh.state_hash()
    }
}

/// A scenario that applies at least one accepted command of every live kind ([`tfeco_core::COMMAND_INDEX`]
/// without [`tfeco_core::RETIRED_COMMANDS`], which every signer is refused), with two
/// guardians (threshold 2, oracle quorum 1), about a month of time, leases, conversions, an exit round,
/// standing bids, a capacity request, a farming pool, the exchange, a minting report and a parameter change.
/// The fixture journal of the format compatibility test is this scenario's accepted log.
pub fn every_command_kind() -> Harness {
    let mut h = Harness::with_params(|p| {
        let second = account_of(&signing_key(GUARDIAN_SEED));
        p.guardians = vec![p.operator, second];
        p.guardian_threshold = Some(2);
        p.oracle_quorum = Some(1);
    });
    let op = h.operator;
    let (alice, bob, farmer, guardian) =
        (h.register(2), h.register(3), h.register(4), h.register(GUARDIAN_SEED));
    let node_key = h.register(6);
    h.set_prices("0.1", "4000");
    scenario_money(&mut h, [op, guardian, alice, bob]);
    let node = scenario_capacity(&mut h, alice, bob, farmer, node_key);
    scenario_pools_and_exchange(&mut h, [op, guardian, alice, bob], farmer, node);
    // A month later: billing, the request close, exit rounds, batches and the minting period close.
    h.advance(31 * 86_400);
    let (period, report) = h
        .state
        .rewards()
        .reports()
        .iter()
        .next_back()
        .map(|(period, report)| (*period, report.hash.clone()))
        .expect("the minting period closed");
    for signer in [op, guardian] {
        h.apply(signer, Command::SignMintReport { period, report_hash: report.clone() });
    }
    let position = *h.state.exit_pool().positions().keys().next().expect("alice's position");
    h.apply(alice, Command::ClosePosition { position_id: position });
    h
}

/// Seed of the second guardian of [`every_command_kind`].
pub const GUARDIAN_SEED: u8 = 5;

/// Deposits (attested by both guardians), a transfer, a withdrawal, entries, lock and unlock.
fn scenario_money(h: &mut Harness, [op, guardian, alice, bob]: [AccountKey; 4]) {
    let attest = |h: &mut Harness, asset, to, tokens: i128, id: &str| {
        for signer in [op, guardian] {
            let amount = any_units(tokens * TOKEN);
            h.apply(signer, Command::AttestDeposit { asset, to, amount, external_tx_id: id.to_owned() });
        }
    };
    attest(h, Asset::Tft, alice, 100_000, "tft-alice");
    attest(h, Asset::Usdc, bob, 1_000, "usdc-bob");
    h.apply(alice, Command::Transfer { asset: Asset::Tft, to: bob, amount: any_units(10 * TOKEN) });
    let destination = "stellar:bob".to_owned();
    h.apply(
        bob,
        Command::RequestWithdrawal { asset: Asset::Usdc, amount: any_units(10 * TOKEN), destination },
    );
    let withdrawal_id = *h.state.bridge().withdrawals().keys().next().expect("requested");
    for signer in [op, guardian] {
        let external_tx_id = "payout-bob".to_owned();
        h.apply(signer, Command::AttestWithdrawal { withdrawal_id, external_tx_id });
    }
    h.apply(alice, Command::EnterWithTft { tft: Amount::from_units(50_000 * TOKEN) });
    let usd = Amount::<Usdc>::from_units(100 * TOKEN);
    h.apply(op, Command::EnterWithFiat { to: bob, usd, payment_id: "card-1".to_owned() });
    h.apply(alice, Command::LockTft { tft: Amount::from_units(1_000 * TOKEN) });
    h.apply(alice, Command::UnlockTfp { tfp: Amount::from_units(100 * TOKEN) });
}

/// A farm and a node, leases (one cancelled), standing bids, a capacity request and an instant take, Pool 2
/// conversions and the settlement preference. Returns the node.
fn scenario_capacity(
    h: &mut Harness,
    alice: AccountKey,
    bob: AccountKey,
    farmer: AccountKey,
    node_key: AccountKey,
) -> NodeId {
    let farm = h.farm(farmer);
    let node = h.node(farmer, farm, "Mini 1", "2");
    h.open_lease(alice, node, 1, Billing::Monthly, None);
    let hourly = h.open_lease(alice, node, 1, Billing::Hourly, None);
    h.apply(alice, Command::CancelLease { lease_id: hourly });
    h.advance(HOUR);
    let revenue = Amount::<Cc>::from_units(TOKEN);
    h.apply(farmer, Command::ConvertCcToTfp { cc: revenue, allow_partial: true });
    h.apply(farmer, Command::SetSettlement { settle_in: tfeco_core::Settlement::Tfp });
    h.apply(alice, Command::ConvertTfpToCc { tfp: Amount::from_units(10 * TOKEN) });
    let bid = tfeco_core::Requirements::default();
    let post = Command::PostStandingBid {
        name: "tier".to_owned(),
        requirements: bid.clone(),
        price_month: cc("2"),
        quantity: 2,
        periods: Some(1),
    };
    h.apply(bob, post);
    let bid_id = *h.state.capacity().standing_bids().keys().next_back().expect("posted");
    h.apply(farmer, Command::FillStandingBid { bid_id, node_id: node, n_slices: 1 });
    h.apply(bob, Command::CancelStandingBid { bid_id });
    let request = Command::PostCapacityRequest {
        requirements: bid,
        n_slices: 1,
        max_price_month: cc("3"),
        periods: Some(1),
        window_s: HOUR,
    };
    h.apply(bob, request);
    let request_id = *h.state.capacity().requests().keys().next_back().expect("posted");
    h.apply(farmer, Command::OfferCapacity { request_id, node_id: node, price_month: cc("2.5") });
    h.apply(
        alice,
        Command::TakeCapacity { query: tfeco_core::SearchQuery::default(), n_slices: 1, periods: Some(2) },
    );
    h.apply(farmer, Command::SetNodeKey { node_id: node, node_key });
    let at = h.state.now();
    let reports = vec![
        tfeco_core::UptimeSample { at: at - 3_000, uptime_s: 600 },
        tfeco_core::UptimeSample { at, uptime_s: 3_600 },
    ];
    h.apply(node_key, Command::ReportUptime { node_id: node, reports });
    node
}

/// A farming pool setting its member's price, the exit pool (funding, a position, bids), a parameter change
/// signed by both guardians, identity verification and exchange orders.
fn scenario_pools_and_exchange(
    h: &mut Harness,
    [op, guardian, alice, bob]: [AccountKey; 4],
    farmer: AccountKey,
    node: NodeId,
) {
    let rules = tfeco_core::PoolRules {
        fee_bps: tfeco_money::Bps::new(500).expect("5 %"),
        price_policy: tfeco_core::PricePolicy::PoolSet,
        reward_lock_months: 0,
        exit_quota_bps: tfeco_money::Bps::FULL,
    };
    h.apply(farmer, Command::CreateFarmingPool { name: "pool".to_owned(), rules });
    let pool_id = *h.state.farming_pools().pools().keys().next().expect("created");
    let farm_id = h.state.capacity().nodes()[&node].farm_id;
    let join = tfeco_core::MembershipChange::Join;
    h.apply(farmer, Command::SignPoolMembership { pool_id, farm_id, change: join });
    h.apply(farmer, Command::SetPoolPrice { node_id: node, price: cc("2.2") });
    // The exit pool's USDC: a guardian-attested deposit into the pool and a guardian-approved treasury
    // transfer (of the fiat entry's USDC), each signed by both guardians (decisions §8).
    for signer in [op, guardian] {
        let usdc = Amount::from_units(30 * TOKEN);
        h.apply(signer, Command::AttestExitPoolDeposit { usdc, external_tx_id: "usdc-exit-pool".to_owned() });
    }
    for signer in [op, guardian] {
        let (usdc, to) = (Amount::from_units(50 * TOKEN), tfeco_core::TreasuryDestination::ExitPool);
        h.apply(signer, Command::ApproveTreasuryTransfer { usdc, to, transfer_ref: "fund-1".to_owned() });
    }
    h.apply(alice, Command::OpenPosition { tfp: Amount::from_units(500 * TOKEN) });
    let position_id = *h.state.exit_pool().positions().keys().next().expect("opened");
    let usdc = Amount::from_units(TOKEN);
    h.apply(alice, Command::SubmitExitBid { position_id, usdc, min_price: price("0.05"), carry_over: false });
    let bid_id = *h.state.exit_pool().bids().keys().next().expect("submitted");
    h.apply(alice, Command::AmendExitBid { bid_id, usdc, min_price: price("0.04") });
    h.apply(alice, Command::CancelExitBid { bid_id });
    h.apply(alice, Command::SubmitExitBid { position_id, usdc, min_price: price("0.05"), carry_over: false });
    let update = tfeco_core::ParamUpdate::MintingEnabled(true);
    h.apply(op, Command::ProposeParamChange { update });
    let change_id = *h.state.governance().changes().keys().next_back().expect("proposed");
    h.apply(guardian, Command::SignParamChange { change_id });
    h.apply(op, Command::SetVerified { account: alice, verified: true });
    let market_id = tfeco_core::MarketId(1);
    let order = |side, limit: &str| Command::PlaceOrder {
        market_id,
        side,
        quantity: any_units(10 * TOKEN),
        limit_price: price(limit),
        expires_after_batches: None,
    };
    h.apply(alice, order(tfeco_core::Side::Sell, "0.09"));
    let order_id = *h.state.exchange().books()[&market_id].orders.keys().next_back().expect("placed");
    h.apply(
        alice,
        Command::AmendOrder { order_id, quantity: any_units(20 * TOKEN), limit_price: price("0.095") },
    );
    h.apply(alice, Command::CancelOrder { order_id });
    h.apply(alice, order(tfeco_core::Side::Sell, "0.09"));
    h.apply(bob, order(tfeco_core::Side::Buy, "0.1"));
}
