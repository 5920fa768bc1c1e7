//! The state machine: [`State`] composes the ledger and the domain slices, is built from a [`Genesis`], and is
//! changed only by [`State::apply`] of an [`Envelope`]. This module (with its children [`tick`],
//! [`invariants`] and [`hash`]) is the only place that sees every slice: it authenticates, routes each command
//! to its slice with split borrows of exactly what that slice may touch, and applies the cross-slice rules
//! (a CC top-up resumes leases in grace; a fresh price settles pending burns and clears an exit round that
//! waits for it).
//!
//! Handlers follow one pattern: validate everything (in the precedence order of [`crate::rejection`]), plan
//! ledger postings, validate the plan, then commit, which cannot fail. A rejection leaves the state untouched.

use serde::{Deserialize, Serialize};

use crate::catalogue::NodeModel;
use crate::command::{Command, Envelope};
use crate::event::Event;
use crate::genesis::Genesis;
use crate::ids::AccountKey;
use crate::ledger::Ledger;
use crate::params::Params;
use crate::rejection::Rejection;
use crate::rules::oracle::Prices;
use crate::slices::bridge::Bridge;
use crate::slices::capacity::bids::{BidTerms, RequestTerms};
use crate::slices::capacity::{CapacityMarket, Payments};
use crate::slices::entry::Entry;
use crate::slices::exchange::Exchange;
use crate::slices::exit_pool::ExitPool;
use crate::slices::farming_pool::FarmingPools;
use crate::slices::governance::Governance;
use crate::slices::oracle::Oracle;
use crate::slices::pool2::Pool2;
use crate::slices::rewards::{global_tft_supply, Rewards};

pub use hash::STATE_ENCODING_VERSION;
pub use snapshot::SnapshotError;
pub use tick::MAX_TIME;

/// The whole economic state. Deterministic: ordered maps only, integers only. Fields are private to this
/// module: each slice is changed only through its own functions. Its canonical encoding (postcard) is what
/// [`State::state_hash`] hashes and what a snapshot stores ([`State::snapshot_bytes`],
/// [`State::from_snapshot_bytes`], which also checks the hash and the invariants). Its `Deserialize` rebuilds
/// the derived lookups that the encoding leaves out (`snapshot.rs`), so a decoded state behaves like the one
/// encoded.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct State {
    now: i64,
    /// The journaled timestamp of the command being applied (transient: not state, not hashed).
    #[serde(skip)]
    at: i64,
    commands_applied: u64,
    ledger: Ledger,
    governance: Governance,
    oracle: Oracle,
    bridge: Bridge,
    entry: Entry,
    pool2: Pool2,
    farming_pools: FarmingPools,
    capacity: CapacityMarket,
    exit_pool: ExitPool,
    rewards: Rewards,
    exchange: Exchange,
    /// Why the state stopped accepting commands after a failed invariant (fail-stop, see
    /// `invariants.rs`); not encoded: a restart replays the journal, which never recorded that command.
    #[serde(skip)]
    halted: Option<String>,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.state_hash() == other.state_hash()
    }
}

/// Result of [`State::apply`]: the events of an applied command.
pub type Receipt = Vec<Event>;

/// Splits the state into the [`Env`] (parameters and time) and mutable borrows of each part, so that one
/// slice can be changed while lower slices are read.
macro_rules! split {
    ($state:ident) => {{
        let $crate::state::State {
            now,
            at,
            ledger,
            governance,
            oracle,
            bridge,
            entry,
            pool2,
            farming_pools,
            capacity,
            exit_pool,
            rewards,
            exchange,
            ..
        } = $state;
        let env = $crate::slices::Env { params: governance.params(), now: *now, at: *at };
        (env, ledger, oracle, bridge, entry, pool2, farming_pools, capacity, exit_pool, rewards, exchange)
    }};
}

mod hash;
mod invariants;
mod snapshot;
mod tick;

impl State {
    /// A fresh state: the operator's account is registered at genesis.
    pub fn new(genesis: Genesis) -> Self {
        let mut ledger = Ledger::default();
        ledger.register(genesis.params.operator, genesis.start_time);
        let exit_pool = ExitPool::new(genesis.start_time, genesis.params.exit_round_period_s);
        State {
            now: genesis.start_time,
            at: genesis.start_time,
            commands_applied: 0,
            ledger,
            oracle: Oracle::default(),
            bridge: Bridge::default(),
            entry: Entry::default(),
            pool2: Pool2::default(),
            farming_pools: FarmingPools::default(),
            capacity: CapacityMarket::new(genesis.catalogue),
            exit_pool,
            rewards: Rewards::default(),
            exchange: Exchange::default(),
            governance: Governance::new(genesis.params),
            halted: None,
        }
    }

    /// Applies one command at the state's own time ([`State::now`]): [`State::apply_at`] with `at = now`.
    /// This is how commands of journal format 1 (which recorded no timestamp) are replayed.
    pub fn apply(&mut self, envelope: &Envelope) -> Result<Receipt, Rejection> {
        self.apply_at(envelope, self.now)
    }

    /// Applies one command accepted by the node at `at` (unix seconds, its journaled timestamp, decisions
    /// §2): the signer must be registered (except to register), the nonce must be above the account's last
    /// one, then the command's slice applies it. On success the nonce is consumed and the events are
    /// returned; on rejection nothing changed. After every command, in every build, the ledger's
    /// conservation is checked in O(1) (and everything after a minting report closes); a violation halts
    /// the state (fail-stop, `invariants.rs`). In debug builds and tests every invariant is asserted after
    /// each command.
    ///
    /// Errors: [`Rejection::Halted`] (first: the state halted after a failed invariant, or this command
    /// revealed one), [`Rejection::TimeRegression`] when `at` is before the state's time (the node's clock never
    /// decreases), [`Rejection::LimitExceeded`] past [`MAX_TIME`], then the command's own rejections.
    pub fn apply_at(&mut self, envelope: &Envelope, at: i64) -> Result<Receipt, Rejection> {
        if let Some(reason) = &self.halted {
            return Err(Rejection::Halted { reason: reason.clone() });
        }
        if at < self.now {
            return Err(Rejection::TimeRegression { now: self.now, got: at });
        }
        if at > MAX_TIME {
            return Err(Rejection::LimitExceeded {
                what: crate::rejection::Limit::Time,
                limit: MAX_TIME.unsigned_abs(),
            });
        }
        let at = match envelope.command {
            Command::Tick { now } => now.max(self.now),
            _ => at,
        };
        self.at = at;
        let signer = envelope.signer;
        let registered = self.ledger.account(&signer).is_some();
        match (&envelope.command, registered) {
            (Command::RegisterAccount {}, true) => return Err(Rejection::AccountExists),
            (Command::RegisterAccount {}, false) if !crate::request::is_strong_key(&signer) => {
                return Err(Rejection::WeakKey)
            }
            (Command::RegisterAccount {}, false) => {}
            (_, false) => return Err(Rejection::AccountNotFound { account: signer }),
            (_, true) => {}
        }
        if envelope.nonce >= crate::request::NONCE_LIMIT {
            let limit = crate::request::NONCE_LIMIT;
            return Err(Rejection::NonceOutOfRange { limit, got: envelope.nonce });
        }
        let last = self.ledger.last_nonce(&signer);
        if envelope.nonce <= last {
            return Err(Rejection::NonceReused { last, got: envelope.nonce });
        }
        let result = self.dispatch(signer, &envelope.command);
        if result.is_ok() {
            self.ledger.set_nonce(&signer, envelope.nonce);
            self.commands_applied = self.commands_applied.saturating_add(1);
        }
        self.fail_stop_checks(&envelope.command, result.as_deref().ok())?;
        let events = result?;
        #[cfg(debug_assertions)]
        if let Err(violation) = self.check_invariants() {
            panic!("invariant violated after {:?}: {violation}", envelope.command.kind());
        }
        Ok(events)
    }

    /// Routes a command to its slice.
    fn dispatch(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        match command {
            Command::RegisterAccount {} => {
                self.ledger.register(signer, self.now);
                Ok(vec![Event::AccountRegistered { account: signer }])
            }
            Command::Transfer { asset, to, amount } => self.ledger.transfer(signer, (*asset, *to, *amount)),
            Command::Tick { now } => self.tick(signer, *now),
            Command::ProposeParamChange { update } => self.governance.propose(signer, update, self.now),
            Command::SignParamChange { change_id } => self.governance.sign(signer, *change_id, self.now),
            Command::SubmitPrice { feed, price, observed_at } => {
                let (env, ledger, oracle, _, _, pool2, _, _, exit_pool, ..) = split!(self);
                let mut events = oracle.submit(&env, signer, *feed, *price, *observed_at)?;
                pool2.settle_pending_burn(&env, ledger, oracle, &mut events);
                // An exit round waiting for a valid reference price clears with the first one.
                exit_pool.run_rounds(&env, ledger, oracle, &mut events);
                Ok(events)
            }
            Command::AttestDeposit { .. }
            | Command::RequestWithdrawal { .. }
            | Command::AttestWithdrawal { .. }
            | Command::AttestExitPoolDeposit { .. }
            | Command::ApproveTreasuryTransfer { .. } => self.dispatch_bridge(signer, command),
            Command::EnterWithTft { .. }
            | Command::EnterWithFiat { .. }
            | Command::LockTft { .. }
            | Command::UnlockTfp { .. }
            | Command::ConvertCcToTfp { .. }
            | Command::ConvertTfpToCc { .. }
            | Command::SetSettlement { .. } => self.dispatch_entry_and_pool2(signer, command),
            Command::CreateFarmingPool { name, rules } => {
                let (env, .., farming_pools, _, _, _, _) = split!(self);
                farming_pools.create(&env, signer, name, *rules)
            }
            Command::SignPoolMembership { pool_id, farm_id, change } => {
                let farm = (*farm_id, self.capacity.farm_owner(*farm_id));
                let events = self.farming_pools.sign_membership(signer, *pool_id, farm, *change)?;
                if matches!(events.last(), Some(Event::FarmingPoolMembershipChanged { .. })) {
                    // Who counts as a self-lease changed (§11): re-classify the pool's leases from now.
                    self.capacity.reclassify_pool_leases(&self.farming_pools, (*pool_id, *farm_id), self.now);
                }
                Ok(events)
            }
            Command::FundExitPool { .. }
            | Command::OpenPosition { .. }
            | Command::ClosePosition { .. }
            | Command::SubmitExitBid { .. }
            | Command::AmendExitBid { .. }
            | Command::CancelExitBid { .. } => self.dispatch_exit_pool(signer, command),
            Command::SetNodeKey { .. } | Command::ReportUptime { .. } | Command::SignMintReport { .. } => {
                self.dispatch_rewards(signer, command)
            }
            Command::PlaceOrder { .. }
            | Command::CancelOrder { .. }
            | Command::AmendOrder { .. }
            | Command::SetVerified { .. } => self.dispatch_exchange(signer, command),
            _ => self.dispatch_capacity(signer, command),
        }
    }

    fn dispatch_bridge(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        let (env, ledger, _, bridge, ..) = split!(self);
        match command {
            Command::AttestDeposit { asset, to, amount, external_tx_id } => {
                bridge.attest_deposit(&env, ledger, signer, (*asset, *to, *amount), external_tx_id)
            }
            Command::RequestWithdrawal { asset, amount, destination } => {
                bridge.request_withdrawal(&env, ledger, signer, (*asset, *amount), destination)
            }
            Command::AttestWithdrawal { withdrawal_id, external_tx_id } => {
                bridge.attest_withdrawal(&env, ledger, signer, *withdrawal_id, external_tx_id)
            }
            Command::AttestExitPoolDeposit { usdc, external_tx_id } => {
                bridge.attest_exit_pool_deposit(&env, ledger, signer, *usdc, external_tx_id)
            }
            Command::ApproveTreasuryTransfer { usdc, to, transfer_ref } => {
                bridge.approve_treasury_transfer(&env, ledger, signer, (*usdc, *to), transfer_ref)
            }
            other => unreachable!("{} is not a bridge command", other.kind()),
        }
    }

    /// Entry and Pool 2; a command that adds CC to an account then resumes that account's leases in grace
    /// (spec §9: "a top-up inside grace resumes it").
    fn dispatch_entry_and_pool2(
        &mut self,
        signer: AccountKey,
        command: &Command,
    ) -> Result<Receipt, Rejection> {
        let (env, ledger, oracle, _, entry, pool2, farming, capacity, ..) = split!(self);
        let (mut events, topped_up) = match command {
            Command::EnterWithTft { tft } => {
                (Entry::enter_with_tft(&env, ledger, oracle, signer, *tft)?, Some(signer))
            }
            Command::EnterWithFiat { to, usd, payment_id } => {
                let events = entry.enter_with_fiat(&env, ledger, oracle, signer, (*to, *usd), payment_id)?;
                let credited = matches!(events.first(), Some(Event::EnteredWithFiat { .. }));
                (events, credited.then_some(*to))
            }
            Command::LockTft { tft } => (Entry::lock_tft(ledger, signer, *tft)?, None),
            Command::UnlockTfp { tfp } => (Entry::unlock_tfp(&env, ledger, oracle, signer, *tfp)?, None),
            Command::ConvertCcToTfp { cc, allow_partial } => {
                (Pool2::convert_cc_to_tfp(&env, ledger, oracle, signer, *cc, *allow_partial)?, None)
            }
            Command::ConvertTfpToCc { tfp } => {
                (Pool2::convert_tfp_to_cc(&env, ledger, oracle, signer, *tfp)?, Some(signer))
            }
            Command::SetSettlement { settle_in } => (pool2.set_settlement(signer, *settle_in), None),
            other => unreachable!("{} is not an entry or Pool 2 command", other.kind()),
        };
        if let Some(tenant) = topped_up {
            let mut pay = Payments { ledger, pool2, oracle, farming };
            capacity.resume_after_top_up(&env, &mut pay, tenant, &mut events);
        }
        Ok(events)
    }

    fn dispatch_capacity(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        let (env, ledger, oracle, _, _, pool2, farming, capacity, ..) = split!(self);
        let mut pay = Payments { ledger, pool2, oracle, farming };
        match command {
            Command::RegisterFarm { name } => capacity.register_farm(&env, signer, name),
            Command::RegisterNode { farm_id, spec, offered_slices } => {
                capacity.register_node(&env, signer, *farm_id, spec, *offered_slices)
            }
            Command::SetSlicePrice { node_id, price } => {
                capacity.set_slice_price(farming, signer, *node_id, *price)
            }
            Command::SetPoolPrice { node_id, price } => {
                capacity.set_pool_price(farming, signer, *node_id, *price)
            }
            Command::OpenLease { node_id, n_slices, billing, periods } => {
                capacity.open_lease(&env, &mut pay, signer, (*node_id, *n_slices, *billing), *periods)
            }
            Command::CancelLease { lease_id } => capacity.cancel_lease(&env, signer, *lease_id),
            Command::PostStandingBid { name, requirements, price_month, quantity, periods } => {
                let bid = BidTerms {
                    name,
                    requirements,
                    price_month: *price_month,
                    quantity: *quantity,
                    periods: *periods,
                };
                capacity.post_standing_bid(&env, &mut pay, signer, bid)
            }
            Command::FillStandingBid { bid_id, node_id, n_slices } => {
                capacity.fill_standing_bid(&env, &mut pay, signer, (*bid_id, *node_id, *n_slices))
            }
            Command::CancelStandingBid { bid_id } => {
                capacity.cancel_standing_bid(&env, &mut pay, signer, *bid_id)
            }
            Command::PostCapacityRequest { requirements, n_slices, max_price_month, periods, window_s } => {
                let request = RequestTerms {
                    requirements,
                    n_slices: *n_slices,
                    max_price_month: *max_price_month,
                    periods: *periods,
                    window_s: *window_s,
                };
                capacity.post_capacity_request(&env, &mut pay, signer, request)
            }
            Command::OfferCapacity { request_id, node_id, price_month } => {
                capacity.offer_capacity(&env, signer, (*request_id, *node_id, *price_month))
            }
            Command::TakeCapacity { query, n_slices, periods } => {
                capacity.take_capacity(&env, &mut pay, signer, query, (*n_slices, *periods))
            }
            other => unreachable!("{} is not a capacity-market command", other.kind()),
        }
    }

    fn dispatch_exit_pool(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        let (env, ledger, oracle, _, _, _, farming, capacity, exit_pool, ..) = split!(self);
        let lower = (&*farming, &*capacity);
        match command {
            Command::FundExitPool { .. } => Err(ExitPool::fund_retired(command)),
            Command::OpenPosition { tfp } => exit_pool.open_position(&env, ledger, oracle, signer, *tfp),
            Command::ClosePosition { position_id } => {
                exit_pool.close_position(&env, ledger, signer, *position_id)
            }
            Command::SubmitExitBid { position_id, usdc, min_price, carry_over } => exit_pool.submit_bid(
                &env,
                ledger,
                lower,
                signer,
                (*position_id, *usdc, *min_price, *carry_over),
            ),
            Command::AmendExitBid { bid_id, usdc, min_price } => {
                exit_pool.amend_bid(&env, ledger, lower, signer, (*bid_id, *usdc, *min_price))
            }
            Command::CancelExitBid { bid_id } => exit_pool.cancel_bid(&env, signer, *bid_id),
            other => unreachable!("{} is not an exit-pool command", other.kind()),
        }
    }

    fn dispatch_rewards(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        let (env, ledger, _, _, _, _, _, capacity, _, rewards, _) = split!(self);
        match command {
            Command::SetNodeKey { node_id, node_key } => {
                rewards.set_node_key(ledger, capacity, signer, (*node_id, *node_key))
            }
            Command::ReportUptime { node_id, reports } => {
                rewards.report_uptime(&env, capacity, signer, *node_id, reports)
            }
            Command::SignMintReport { period, report_hash } => {
                rewards.sign_report(&env, ledger, capacity, signer, (*period, report_hash))
            }
            other => unreachable!("{} is not a rewards command", other.kind()),
        }
    }

    fn dispatch_exchange(&mut self, signer: AccountKey, command: &Command) -> Result<Receipt, Rejection> {
        let (env, ledger, .., exchange) = split!(self);
        match command {
            Command::PlaceOrder { market_id, side, quantity, limit_price, expires_after_batches } => exchange
                .place_order(
                    &env,
                    ledger,
                    signer,
                    (*market_id, *side, *quantity, *limit_price),
                    *expires_after_batches,
                ),
            Command::CancelOrder { order_id } => exchange.cancel_order(&env, ledger, signer, *order_id),
            Command::AmendOrder { order_id, quantity, limit_price } => {
                exchange.amend_order(&env, ledger, signer, (*order_id, *quantity, *limit_price))
            }
            Command::SetVerified { account, verified } => {
                exchange.set_verified(&env, ledger, signer, (*account, *verified))
            }
            other => unreachable!("{} is not an exchange command", other.kind()),
        }
    }
}

/// Read access: the parameters, the time and each part of the state (typed records; the server builds its
/// views from these).
impl State {
    /// Parameters in force.
    pub fn params(&self) -> &Params {
        self.governance.params()
    }
    /// Current time, unix seconds (the last `Tick`).
    pub fn now(&self) -> i64 {
        self.now
    }
    /// The journaled timestamp of the last command applied, unix seconds (never before [`State::now`]).
    pub fn last_command_time(&self) -> i64 {
        self.at.max(self.now)
    }
    /// Commands applied since genesis.
    pub fn commands_applied(&self) -> u64 {
        self.commands_applied
    }
    /// The ledger: accounts, balances, totals.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    /// Parameters and their changes.
    pub fn governance(&self) -> &Governance {
        &self.governance
    }
    /// Oracle submissions.
    pub fn oracle(&self) -> &Oracle {
        &self.oracle
    }
    /// Valid prices at the current time, if any.
    pub fn prices(&self) -> Result<Prices, Rejection> {
        self.oracle.prices(self.params(), self.now)
    }
    /// Attestations and withdrawal requests.
    pub fn bridge(&self) -> &Bridge {
        &self.bridge
    }
    /// Fiat payments credited.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }
    /// Pool 2: settlement preferences and the burn counters.
    pub fn pool2(&self) -> &Pool2 {
        &self.pool2
    }
    /// Farming pools.
    pub fn farming_pools(&self) -> &FarmingPools {
        &self.farming_pools
    }
    /// The capacity market: catalogue, farms, nodes, leases, standing bids, capacity requests.
    pub fn capacity(&self) -> &CapacityMarket {
        &self.capacity
    }
    /// The node catalogue.
    pub fn catalogue(&self) -> &[NodeModel] {
        self.capacity.catalogue()
    }
    /// The exit pool.
    pub fn exit_pool(&self) -> &ExitPool {
        &self.exit_pool
    }
    /// Minting reports, vesting and node keys.
    pub fn rewards(&self) -> &Rewards {
        &self.rewards
    }
    /// The exchange's books.
    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }

    /// The scheduled close time (unix seconds) of the earliest exchange batch in which something can trade
    /// (a book whose best bid is >= its best ask), or `None` when no book can trade (decisions §13). The node
    /// sends a `Tick` at that time so that the batch clears on schedule; batches that cannot trade need no
    /// `Tick` and cost nothing. See [`Exchange::next_clear_due`].
    pub fn next_exchange_clear(&self) -> Option<i64> {
        self.exchange.next_clear_due()
    }
    /// Global TFT supply: `tft_supply_external + rewards minted here - TFT burned here` (spec §1).
    pub fn global_tft_supply(&self) -> i128 {
        global_tft_supply(self.params(), &self.ledger, self.rewards.tft_minted())
    }
}
