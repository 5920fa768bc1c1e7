//! The exit pool (Pool 3, spec `decisions.md` §8): TFP positions (permanent, non-transferable records),
//! sealed exit bids per round, and the round close on `Tick`: uniform-price clearing (the pure rule in
//! [`crate::rules::exit_auction`]), USDC paid from `exit_pool.usdc`, TFP surrendered, the margin credited to
//! the positions that stayed, pro rata to their time weight, dust to the treasury. Farming-pool members'
//! bids are bounded by their pool's exit quota (§10).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Asset, Price, Rounding, Tfp, Usdc};

use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, ExitBidId, PositionId, RoundId, SystemAccount};
use crate::ledger::{Ledger, Posting, Slot};
use crate::rejection::{Limit, Rejection};
use crate::rules::exit_auction::{self, ClearingRules, ExitBid};
use crate::rules::oracle::PriceProblem;
use crate::slices::capacity::CapacityMarket;
use crate::slices::farming_pool::FarmingPools;
use crate::slices::oracle::Oracle;
use crate::slices::{to_units, Env};
use crate::types::PriceFeed;

/// A liquidity position: TFP locked in the exit pool (spec §8 "Positions").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Id.
    pub id: PositionId,
    /// Owner (not transferable).
    pub owner: AccountKey,
    /// TFP locked (reduced by TFP surrendered in exits).
    pub amount: Amount<Tfp>,
    /// TFP credited from other exits' margin.
    pub earned: Amount<Tfp>,
    /// TFP reserved by open exit bids.
    pub reserved: Amount<Tfp>,
    /// Opening time (unix seconds); the weight's age counts from here.
    pub opened_at: i64,
    /// USD value at opening (TFP × oracle TFT price, rounded down), never re-valued.
    pub value_usd_at_open: Amount<Usdc>,
}

impl Position {
    /// TFP the position holds (locked + earned).
    pub fn holding(&self) -> Amount<Tfp> {
        Amount::from_units(self.amount.units().saturating_add(self.earned.units()))
    }

    /// TFP free for new bids.
    pub fn free(&self) -> Amount<Tfp> {
        Amount::from_units(self.holding().units().saturating_sub(self.reserved.units()))
    }
}

/// An open exit bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitBidRecord {
    /// Id.
    pub id: ExitBidId,
    /// Position it sells from.
    pub position_id: PositionId,
    /// Owner.
    pub owner: AccountKey,
    /// USDC wanted.
    pub usdc: Amount<Usdc>,
    /// Lowest acceptable price, USD per TFP.
    pub min_price: Price,
    /// TFP reserved on the position: `ceil(usdc / min_price)`.
    pub reserved: Amount<Tfp>,
    /// Keep the unfilled part for the next round.
    pub carry_over: bool,
}

/// The round being collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// Id.
    pub id: RoundId,
    /// Opening time.
    pub opened_at: i64,
    /// Closing time.
    pub closes_at: i64,
}

/// One bid's outcome in a published round result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidResult {
    /// The bid.
    pub bid_id: ExitBidId,
    /// Its position.
    pub position_id: PositionId,
    /// Owner.
    pub owner: AccountKey,
    /// USDC requested.
    pub requested: Amount<Usdc>,
    /// Min price.
    pub min_price: Price,
    /// USDC filled (= paid).
    pub filled: Amount<Usdc>,
    /// TFP surrendered: `ceil(filled / clearing_price)`.
    pub surrendered: Amount<Tfp>,
    /// TFP released from the reservation (or kept for the next round when carried over).
    pub released: Amount<Tfp>,
    /// Excluded by the minimum discount.
    pub excluded: bool,
    /// Carried into the next round (its unfilled part).
    pub carried_over: bool,
}

/// A published round result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundResult {
    /// Round.
    pub round_id: RoundId,
    /// Opened.
    pub opened_at: i64,
    /// Closed.
    pub closed_at: i64,
    /// Reference price (oracle TFT at close), if valid.
    pub ref_price: Option<Price>,
    /// Highest acceptable min price: `(1 - discount) * ref`.
    pub ceiling: Option<Price>,
    /// Uniform clearing price, if anything filled.
    pub clearing_price: Option<Price>,
    /// Cap A at close (None when off).
    pub cap_a: Option<Amount<Usdc>>,
    /// Cap B at close (None when off).
    pub cap_b: Option<Amount<Usdc>>,
    /// Cap used: min of the caps and the pool's USDC.
    pub cap: Amount<Usdc>,
    /// USDC paid.
    pub total_paid: Amount<Usdc>,
    /// TFP surrendered.
    pub tfp_surrendered: Amount<Tfp>,
    /// TFP to the treasury at reference value of the USDC it paid.
    pub treasury_tfp: Amount<Tfp>,
    /// TFP margin credited to staying positions.
    pub margin_tfp: Amount<Tfp>,
    /// Rounding dust sent to the treasury.
    pub dust_tfp: Amount<Tfp>,
    /// Why nothing cleared, if so (e.g. `price_unavailable`).
    pub note: Option<String>,
    /// Every bid's outcome, by bid id.
    pub bids: Vec<BidResult>,
}

/// One bid's fill at a round close: USDC filled, TFP surrendered, excluded by the discount.
type Fill = (Amount<Usdc>, Amount<Tfp>, bool);

/// The exit pool's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitPool {
    positions: BTreeMap<PositionId, Position>,
    bids: BTreeMap<ExitBidId, ExitBidRecord>,
    round: Round,
    history: VecDeque<RoundResult>,
    total_value_contributed: Amount<Usdc>,
    total_usdc_paid: Amount<Usdc>,
    treasury_tfp: Amount<Tfp>,
    next_position_id: u64,
    next_bid_id: u64,
}

/// `usdc / price` TFP, rounded as asked.
fn tfp_for_usdc(usdc: Amount<Usdc>, price: Price, rounding: Rounding) -> Result<Amount<Tfp>, Rejection> {
    let units = tfeco_money::mul_div(usdc.units().unsigned_abs(), Price::scale(), price.atto(), rounding)
        .ok_or(Rejection::Overflow)?;
    Ok(Amount::from_units(to_units(units)?))
}

/// `Ok` for a positive USDC amount and a non-zero price (the shape of an exit bid).
fn check_bid_shape(usdc: Amount<Usdc>, min_price: Price) -> Result<(), Rejection> {
    if !usdc.is_positive() {
        return Err(Rejection::AmountNotPositive);
    }
    if min_price.is_zero() {
        return Err(Rejection::PriceInvalid { reason: PriceProblem::Zero });
    }
    Ok(())
}

impl ExitPool {
    /// A pool whose first round opens at `start`.
    pub(crate) fn new(start: i64, period_s: i64) -> Self {
        ExitPool {
            positions: BTreeMap::new(),
            bids: BTreeMap::new(),
            round: Round { id: RoundId(1), opened_at: start, closes_at: start.saturating_add(period_s) },
            history: VecDeque::new(),
            total_value_contributed: Amount::ZERO,
            total_usdc_paid: Amount::ZERO,
            treasury_tfp: Amount::ZERO,
            next_position_id: 1,
            next_bid_id: 1,
        }
    }
    /// Open positions.
    pub fn positions(&self) -> &BTreeMap<PositionId, Position> {
        &self.positions
    }
    /// Open bids of the current round (sealed: the API shows each owner only its own).
    pub fn bids(&self) -> &BTreeMap<ExitBidId, ExitBidRecord> {
        &self.bids
    }
    /// The current round.
    pub fn round(&self) -> Round {
        self.round
    }
    /// Recent round results, oldest first.
    pub fn history(&self) -> &VecDeque<RoundResult> {
        &self.history
    }
    /// All USD value ever contributed (cap A basis).
    pub fn total_value_contributed(&self) -> Amount<Usdc> {
        self.total_value_contributed
    }
    /// All USDC paid by exits.
    pub fn total_usdc_paid(&self) -> Amount<Usdc> {
        self.total_usdc_paid
    }
    /// TFP the treasury received from exits, all time (spec §8 step 5: the USDC it paid at reference
    /// value, plus rounding dust): the TFT it bought back.
    pub fn treasury_tfp(&self) -> Amount<Tfp> {
        self.treasury_tfp
    }

    /// `FundExitPool` is retired (spec `decisions.md` §8, §12): the operator alone no longer moves the
    /// treasury's money. Refused for every signer with [`Rejection::CommandRetired`] naming
    /// `approve_treasury_transfer` (guardian-approved, k-of-n, in the bridge slice).
    pub(crate) fn fund_retired(command: &crate::command::Command) -> Rejection {
        Rejection::CommandRetired {
            command: command.kind().to_owned(),
            replaced_by: command.replaced_by().unwrap_or("approve_treasury_transfer").to_owned(),
        }
    }

    /// `OpenPosition`: TFP locked as a position valued at the oracle TFT price (rounded down).
    pub(crate) fn open_position(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        owner: AccountKey,
        tfp: Amount<Tfp>,
    ) -> Result<Vec<Event>, Rejection> {
        if !tfp.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let tft_usd = oracle.effective(PriceFeed::TftUsd, env.params, env.now)?;
        let value_units =
            tfeco_money::mul_div(tfp.units().unsigned_abs(), tft_usd.atto(), Price::scale(), Rounding::Down)
                .ok_or(Rejection::Overflow)?;
        let value = Amount::<Usdc>::from_units(to_units(value_units)?);
        let total = self.total_value_contributed.checked_add(value).ok_or(Rejection::Overflow)?;
        let next_id = self.next_position_id.checked_add(1).ok_or(Rejection::Overflow)?;
        let slot = ledger.user_slot(&owner)?;
        ledger.apply(&[Posting::Transfer {
            asset: Asset::Tfp,
            from: slot,
            to: Slot::System(SystemAccount::ExitPoolTfp),
            units: tfp.units(),
            revenue: false,
        }])?;
        let id = PositionId(self.next_position_id);
        self.next_position_id = next_id;
        self.total_value_contributed = total;
        let position = Position {
            id,
            owner,
            amount: tfp,
            earned: Amount::ZERO,
            reserved: Amount::ZERO,
            opened_at: env.now,
            value_usd_at_open: value,
        };
        self.positions.insert(id, position);
        Ok(vec![Event::PositionOpened { position_id: id, owner, tfp, value_usd_at_open: value }])
    }

    fn owned_position(&self, owner: AccountKey, id: PositionId) -> Result<&Position, Rejection> {
        let position = self.positions.get(&id).ok_or(Rejection::PositionNotFound)?;
        if position.owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(position)
    }

    /// `ClosePosition`: after `position_min_lock_s` and with no open bids, returns its TFP and earned TFP.
    pub(crate) fn close_position(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        owner: AccountKey,
        id: PositionId,
    ) -> Result<Vec<Event>, Rejection> {
        let position = self.owned_position(owner, id)?;
        let unlocks_at = position.opened_at.saturating_add(env.params.position_min_lock_s);
        if env.now < unlocks_at {
            return Err(Rejection::PositionLocked { until: unlocks_at });
        }
        if position.reserved.is_positive() {
            return Err(Rejection::PositionHasOpenBids);
        }
        let holding = position.holding();
        let slot = ledger.user_slot(&owner)?;
        if holding.is_positive() {
            ledger.apply(&[Posting::Transfer {
                asset: Asset::Tfp,
                from: Slot::System(SystemAccount::ExitPoolTfp),
                to: slot,
                units: holding.units(),
                revenue: false,
            }])?;
        }
        let position = self.positions.remove(&id).expect("checked above");
        Ok(vec![Event::PositionClosed { position_id: id, tfp: position.amount, earned: position.earned }])
    }

    fn in_lock_window(&self, env: &Env<'_>) -> bool {
        env.at >= self.round.closes_at.saturating_sub(env.params.exit_lock_window_s)
    }

    /// Exit quota (spec §10): a farming-pool member may reserve at most `exit_quota_bps` of its TFP (free TFP
    /// plus its positions' holdings) in one round's exit bids. The strictest pool among the owner's farms
    /// applies; outside pools there is no quota.
    fn check_exit_quota(
        &self,
        ledger: &Ledger,
        (farming, capacity): (&FarmingPools, &CapacityMarket),
        owner: AccountKey,
        reserve: Amount<Tfp>,
    ) -> Result<(), Rejection> {
        let quota = capacity
            .farms_of(owner)
            .filter_map(|f| farming.pool_of(f.id))
            .map(|p| p.rules.exit_quota_bps)
            .min();
        let Some(quota) = quota else { return Ok(()) };
        let free = ledger.balance(AccountRef::User(owner), Asset::Tfp);
        let in_positions: i128 =
            self.positions.values().filter(|p| p.owner == owner).map(|p| p.holding().units()).sum();
        let allowed = quota.share_of(free.saturating_add(in_positions), Rounding::Down);
        let already: i128 = self.bids.values().filter(|b| b.owner == owner).map(|b| b.reserved.units()).sum();
        let requested = already.saturating_add(reserve.units());
        if requested > allowed {
            return Err(Rejection::ExitQuotaExceeded {
                allowed: Amount::from_units(allowed),
                requested: Amount::from_units(requested),
            });
        }
        Ok(())
    }

    /// `SubmitExitBid`: a sealed bid in the current round against one's position; `ceil(usdc / min_price)`
    /// TFP is reserved on it. Refused inside the lock window.
    pub(crate) fn submit_bid(
        &mut self,
        env: &Env<'_>,
        ledger: &Ledger,
        lower: (&FarmingPools, &CapacityMarket),
        owner: AccountKey,
        (position_id, usdc, min_price, carry_over): (PositionId, Amount<Usdc>, Price, bool),
    ) -> Result<Vec<Event>, Rejection> {
        check_bid_shape(usdc, min_price)?;
        if self.bids.len() >= env.params.max_exit_bids_per_round as usize {
            return Err(Rejection::LimitExceeded {
                what: Limit::ExitBidsPerRound,
                limit: u64::from(env.params.max_exit_bids_per_round),
            });
        }
        if self.in_lock_window(env) {
            return Err(Rejection::ExitBidLocked);
        }
        let position = self.owned_position(owner, position_id)?;
        let reserve = tfp_for_usdc(usdc, min_price, Rounding::Up)?;
        if reserve > position.free() {
            return Err(Rejection::PositionTfpLow { needed: reserve, available: position.free() });
        }
        self.check_exit_quota(ledger, lower, owner, reserve)?;
        let next_id = self.next_bid_id.checked_add(1).ok_or(Rejection::Overflow)?;
        let id = ExitBidId(self.next_bid_id);
        self.next_bid_id = next_id;
        let position = self.positions.get_mut(&position_id).expect("checked above");
        position.reserved = Amount::from_units(position.reserved.units().saturating_add(reserve.units()));
        let bid = ExitBidRecord { id, position_id, owner, usdc, min_price, reserved: reserve, carry_over };
        self.bids.insert(id, bid);
        Ok(vec![Event::ExitBidSubmitted { bid_id: id, round_id: self.round.id, reserved_tfp: reserve }])
    }

    fn owned_bid(&self, owner: AccountKey, bid_id: ExitBidId) -> Result<&ExitBidRecord, Rejection> {
        let bid = self.bids.get(&bid_id).ok_or(Rejection::ExitBidNotFound)?;
        if bid.owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(bid)
    }

    /// `AmendExitBid`: any change until the lock window; inside it only a lower min price, same amount.
    pub(crate) fn amend_bid(
        &mut self,
        env: &Env<'_>,
        ledger: &Ledger,
        lower: (&FarmingPools, &CapacityMarket),
        owner: AccountKey,
        (bid_id, usdc, min_price): (ExitBidId, Amount<Usdc>, Price),
    ) -> Result<Vec<Event>, Rejection> {
        check_bid_shape(usdc, min_price)?;
        let bid = self.owned_bid(owner, bid_id)?;
        if self.in_lock_window(env) && (usdc != bid.usdc || min_price >= bid.min_price) {
            return Err(Rejection::ExitBidLocked);
        }
        let position = self.positions.get(&bid.position_id).expect("a bid's position exists");
        let reserve = tfp_for_usdc(usdc, min_price, Rounding::Up)?;
        let free_after_release =
            Amount::<Tfp>::from_units(position.free().units().saturating_add(bid.reserved.units()));
        if reserve > free_after_release {
            return Err(Rejection::PositionTfpLow { needed: reserve, available: free_after_release });
        }
        let (position_id, old) = (bid.position_id, bid.reserved);
        if reserve > old {
            let more = Amount::from_units(reserve.units().saturating_sub(old.units()));
            self.check_exit_quota(ledger, lower, owner, more)?;
        }
        let position = self.positions.get_mut(&position_id).expect("a bid's position exists");
        let reserved = position.reserved.units().saturating_sub(old.units()).saturating_add(reserve.units());
        position.reserved = Amount::from_units(reserved);
        let bid = self.bids.get_mut(&bid_id).expect("checked above");
        bid.usdc = usdc;
        bid.min_price = min_price;
        bid.reserved = reserve;
        Ok(vec![Event::ExitBidAmended { bid_id, reserved_tfp: reserve }])
    }

    /// `CancelExitBid`: refused inside the lock window; releases the reservation.
    pub(crate) fn cancel_bid(
        &mut self,
        env: &Env<'_>,
        owner: AccountKey,
        bid_id: ExitBidId,
    ) -> Result<Vec<Event>, Rejection> {
        self.owned_bid(owner, bid_id)?;
        if self.in_lock_window(env) {
            return Err(Rejection::ExitBidLocked);
        }
        let bid = self.bids.remove(&bid_id).expect("checked above");
        let position = self.positions.get_mut(&bid.position_id).expect("a bid's position exists");
        position.reserved =
            Amount::from_units(position.reserved.units().saturating_sub(bid.reserved.units()));
        Ok(vec![Event::ExitBidCancelled { bid_id, released_tfp: bid.reserved }])
    }

    /// Closes every round whose end is at or before `now` (the `Tick` phase; also run after a price
    /// submission, which may be the valid price a closing round waits for). A round with bids and no valid
    /// reference price waits, closing, for up to `exit_price_wait_s` ([`ExitPool::reference_price`]); runs
    /// of empty rounds after a long gap are skipped in one step.
    pub(crate) fn run_rounds(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        events: &mut Vec<Event>,
    ) {
        let period = env.params.exit_round_period_s.max(1);
        while self.round.closes_at <= env.now {
            let ref_price = self.reference_price(env, oracle);
            let waited = env.now.saturating_sub(self.round.closes_at);
            if ref_price.is_none() && !self.bids.is_empty() && waited < env.params.exit_price_wait_s {
                return;
            }
            self.close_round(env, ledger, ref_price, events);
            let previous = self.round;
            self.round = Round {
                id: RoundId(previous.id.0.saturating_add(1)),
                opened_at: previous.closes_at,
                closes_at: previous.closes_at.saturating_add(period),
            };
            if self.round.closes_at <= env.now && self.bids.is_empty() {
                let missed = env.now.saturating_sub(self.round.opened_at).checked_div(period).unwrap_or(0);
                self.round.id = RoundId(self.round.id.0.saturating_add(missed.unsigned_abs()));
                self.round.opened_at = self.round.opened_at.saturating_add(missed.saturating_mul(period));
                self.round.closes_at = self.round.opened_at.saturating_add(period);
            }
        }
    }

    /// The caps at close (spec §8 step 2): cap A and cap B as published, and cap B bounded by the pool's USDC
    /// (the pool never pays more than it holds).
    fn caps_at_close(
        &self,
        env: &Env<'_>,
        ledger: &Ledger,
    ) -> (Option<Amount<Usdc>>, Option<Amount<Usdc>>, Amount<Usdc>) {
        self.caps(env.params, ledger)
    }

    /// The caps a close would apply with the figures of now (spec §8 step 2), in USDC: cap A
    /// (`exit_cap_a_bps` of the USD value all positions contributed, less the USDC paid so far; `None` when
    /// off), cap B (`exit_cap_b_bps` of the pool's USDC; `None` when off), and cap B bounded by the pool's
    /// USDC (the pool never pays more than it holds). Shares round down (the pool's favour).
    pub fn caps(
        &self,
        params: &crate::params::Params,
        ledger: &Ledger,
    ) -> (Option<Amount<Usdc>>, Option<Amount<Usdc>>, Amount<Usdc>) {
        let pool_usdc = ledger.system_balance::<Usdc>(SystemAccount::ExitPoolUsdc);
        let cap_a = params.exit_cap_a_bps.map(|bps| {
            let share = bps.share_of(self.total_value_contributed.units(), Rounding::Down);
            Amount::<Usdc>::from_units(share.saturating_sub(self.total_usdc_paid.units()).max(0))
        });
        let cap_b = params
            .exit_cap_b_bps
            .map(|bps| Amount::<Usdc>::from_units(bps.share_of(pool_usdc.units(), Rounding::Down)));
        let cap_b_effective = cap_b.map_or(pool_usdc, |c| c.min(pool_usdc));
        (cap_a, cap_b, cap_b_effective)
    }

    /// `true` while the current round is due to close but waits for a valid reference price (it has bids,
    /// the oracle has no valid TFT price, and `exit_price_wait_s` has not passed); the lock window is in
    /// force meanwhile.
    pub fn awaiting_price(&self, params: &crate::params::Params, oracle: &Oracle, now: i64) -> bool {
        let env = Env { params, now, at: now };
        self.round.closes_at <= now
            && !self.bids.is_empty()
            && self.reference_price(&env, oracle).is_none()
            && now.saturating_sub(self.round.closes_at) < params.exit_price_wait_s
    }

    /// The round's reference price `p_ref` (spec §8): the oracle's effective TFT price at the scheduled
    /// close; when it had none then, the first valid one after it (at `now`). Before issue 10 the close read
    /// the oracle only at the `Tick`'s time, so a tick a day after the last prices closed every round with
    /// `price_unavailable` although the guardians submitted valid prices every day.
    fn reference_price(&self, env: &Env<'_>, oracle: &Oracle) -> Option<Price> {
        let at_close = oracle.effective(PriceFeed::TftUsd, env.params, self.round.closes_at);
        at_close.or_else(|_| oracle.effective(PriceFeed::TftUsd, env.params, env.now)).ok()
    }

    /// Clears the current round (spec §8 steps 1-6) at the reference price `ref_price` and publishes its
    /// result; without one nothing clears (note `price_unavailable`) and the bids are released.
    fn close_round(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        ref_price: Option<Price>,
        events: &mut Vec<Event>,
    ) {
        let round = self.round;
        let (cap_a, cap_b, cap_b_effective) = self.caps_at_close(env, ledger);
        let mut result = RoundResult {
            round_id: round.id,
            opened_at: round.opened_at,
            closed_at: round.closes_at,
            ref_price,
            ceiling: None,
            clearing_price: None,
            cap_a,
            cap_b,
            cap: Amount::ZERO,
            total_paid: Amount::ZERO,
            tfp_surrendered: Amount::ZERO,
            treasury_tfp: Amount::ZERO,
            margin_tfp: Amount::ZERO,
            dust_tfp: Amount::ZERO,
            note: None,
            bids: Vec::new(),
        };
        let mut fills: BTreeMap<ExitBidId, Fill> = BTreeMap::new();
        match ref_price {
            None => result.note = Some("price_unavailable".to_owned()),
            Some(p_ref) => {
                let rules = ClearingRules {
                    cap_a,
                    cap_b: Some(cap_b_effective),
                    ref_price: Some(p_ref),
                    min_discount_bps: env.params.exit_min_discount_bps,
                    allow_partial: env.params.exit_allow_partial,
                };
                let bids: Vec<ExitBid> = self
                    .bids
                    .values()
                    .map(|b| ExitBid { id: b.id.0, usdc: b.usdc, min_price: b.min_price })
                    .collect();
                match exit_auction::clear(&bids, &rules) {
                    Ok(clearing) => {
                        result.ceiling = clearing.ceiling;
                        result.clearing_price = clearing.clearing_price;
                        result.cap = clearing.cap;
                        for fill in &clearing.fills {
                            fills.insert(
                                ExitBidId(fill.id),
                                (fill.filled, fill.tfp_surrendered, fill.excluded),
                            );
                        }
                        self.settle_round(env, ledger, p_ref, &fills, &mut result);
                    }
                    Err(error) => result.note = Some(format!("clearing_failed: {error}")),
                }
            }
        }
        self.release_or_carry(&fills, &mut result);
        events.push(Event::ExitRoundClosed {
            round_id: round.id,
            clearing_price: result.clearing_price,
            total_paid: result.total_paid,
            tfp_surrendered: result.tfp_surrendered,
            margin_tfp: result.margin_tfp,
        });
        self.history.push_back(result);
        while self.history.len() > env.params.exit_history_rounds as usize {
            self.history.pop_front();
        }
    }

    /// Releases every bid's reservation after a clear, or carries its unfilled part into the next round
    /// (spec §8 step 6), recording each bid's outcome.
    fn release_or_carry(&mut self, fills: &BTreeMap<ExitBidId, Fill>, result: &mut RoundResult) {
        let bids = std::mem::take(&mut self.bids);
        for (bid_id, bid) in bids {
            let (filled, surrendered, excluded) =
                fills.get(&bid_id).copied().unwrap_or((Amount::ZERO, Amount::ZERO, false));
            let remaining_usdc = Amount::<Usdc>::from_units(bid.usdc.units().saturating_sub(filled.units()));
            let position = self.positions.get_mut(&bid.position_id).expect("a bid's position exists");
            let left_reserved = bid.reserved.units().saturating_sub(surrendered.units());
            let carry = bid.carry_over && remaining_usdc.is_positive();
            let mut released = left_reserved;
            if carry {
                let keep = tfp_for_usdc(remaining_usdc, bid.min_price, Rounding::Up)
                    .map_or(left_reserved, |t| t.units().min(left_reserved));
                released = left_reserved.saturating_sub(keep);
                let reserved =
                    position.reserved.units().saturating_sub(surrendered.units()).saturating_sub(released);
                position.reserved = Amount::from_units(reserved);
                let carried =
                    ExitBidRecord { usdc: remaining_usdc, reserved: Amount::from_units(keep), ..bid.clone() };
                self.bids.insert(bid_id, carried);
            } else {
                position.reserved =
                    Amount::from_units(position.reserved.units().saturating_sub(bid.reserved.units()));
            }
            result.bids.push(BidResult {
                bid_id,
                position_id: bid.position_id,
                owner: bid.owner,
                requested: bid.usdc,
                min_price: bid.min_price,
                filled,
                surrendered,
                released: Amount::from_units(released),
                excluded,
                carried_over: carry,
            });
        }
    }

    /// Plans the USDC payments of the fills and takes the surrendered TFP from the bids' positions (locked
    /// amount first, then earned). Returns the postings, the USDC paid, the TFP surrendered and the positions
    /// that exited (they take no share of the margin).
    fn take_surrendered(
        &mut self,
        ledger: &Ledger,
        fills: &BTreeMap<ExitBidId, Fill>,
    ) -> (Vec<Posting>, i128, i128, BTreeSet<PositionId>) {
        let mut plan = Vec::new();
        let (mut paid, mut surrendered_total) = (0i128, 0i128);
        let mut exited = BTreeSet::new();
        for (bid_id, (filled, surrendered, _)) in fills {
            if !filled.is_positive() {
                continue;
            }
            let bid = self.bids.get(bid_id).expect("fills name open bids");
            let owner_slot = ledger.user_slot(&bid.owner).expect("bid owners are registered");
            plan.push(Posting::Transfer {
                asset: Asset::Usdc,
                from: Slot::System(SystemAccount::ExitPoolUsdc),
                to: owner_slot,
                units: filled.units(),
                revenue: false,
            });
            paid = paid.saturating_add(filled.units());
            surrendered_total = surrendered_total.saturating_add(surrendered.units());
            exited.insert(bid.position_id);
            let position = self.positions.get_mut(&bid.position_id).expect("a bid's position exists");
            let from_amount = surrendered.units().min(position.amount.units());
            position.amount = Amount::from_units(position.amount.units().saturating_sub(from_amount));
            let from_earned = surrendered.units().saturating_sub(from_amount);
            position.earned = Amount::from_units(position.earned.units().saturating_sub(from_earned));
        }
        (plan, paid, surrendered_total, exited)
    }

    /// Pays the fills, takes the surrendered TFP from the positions, and splits it between the treasury (the
    /// USDC it paid, at reference value) and the staying positions (the margin, by weight; spec §8 step 5).
    fn settle_round(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        p_ref: Price,
        fills: &BTreeMap<ExitBidId, Fill>,
        result: &mut RoundResult,
    ) {
        let (mut plan, paid, surrendered_total, exited) = self.take_surrendered(ledger, fills);
        if paid == 0 {
            return;
        }
        let weight_params = env.params.weight_params();
        let weights: Vec<(u64, u128)> = self
            .positions
            .values()
            .filter(|p| !exited.contains(&p.id))
            .map(|p| {
                let age = env.now.saturating_sub(p.opened_at).max(0);
                (p.id.0, exit_auction::position_weight(p.amount, age, &weight_params))
            })
            .collect();
        let (surrendered, paid_usdc) = (Amount::from_units(surrendered_total), Amount::from_units(paid));
        let settlement = exit_auction::settle_margin(surrendered, paid_usdc, p_ref, &weights)
            .expect("the reference price is positive and the amounts are not negative");
        for (position_id, credit) in &settlement.credits {
            let position =
                self.positions.get_mut(&PositionId(*position_id)).expect("weighted positions exist");
            position.earned = Amount::from_units(position.earned.units().saturating_add(credit.units()));
        }
        let to_treasury = settlement.treasury_total().units();
        if to_treasury > 0 {
            plan.push(Posting::Transfer {
                asset: Asset::Tfp,
                from: Slot::System(SystemAccount::ExitPoolTfp),
                to: Slot::System(SystemAccount::Treasury),
                units: to_treasury,
                revenue: false,
            });
        }
        ledger.apply(&plan).expect("fills fit the pool's USDC and the positions' reservations");
        self.total_usdc_paid = Amount::from_units(self.total_usdc_paid.units().saturating_add(paid));
        self.treasury_tfp = Amount::from_units(self.treasury_tfp.units().saturating_add(to_treasury));
        result.total_paid = paid_usdc;
        result.tfp_surrendered = surrendered;
        result.treasury_tfp = settlement.treasury;
        result.margin_tfp = settlement.credited;
        result.dust_tfp = settlement.dust;
    }

    /// Positions' TFP equals `exit_pool.tfp`; reservations equal open bids and fit their positions.
    pub(crate) fn check(&self, ledger: &Ledger) -> Result<(), String> {
        let pool_tfp = ledger.balance(AccountRef::System(SystemAccount::ExitPoolTfp), Asset::Tfp);
        let held: i128 = self.positions.values().map(|p| p.holding().units()).sum();
        if held != pool_tfp {
            return Err(format!("positions hold {held} TFP but exit_pool.tfp has {pool_tfp}"));
        }
        let mut reserved: BTreeMap<PositionId, i128> = BTreeMap::new();
        for bid in self.bids.values() {
            let total = reserved.entry(bid.position_id).or_default();
            *total = total.saturating_add(bid.reserved.units());
        }
        for position in self.positions.values() {
            let r = reserved.get(&position.id).copied().unwrap_or(0);
            if r != position.reserved.units() || position.free().units() < 0 || position.amount.units() < 0 {
                return Err(format!("position {} reservations are off", position.id));
            }
        }
        Ok(())
    }
}
