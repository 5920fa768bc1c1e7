//! The exit pool (Pool 3, spec `decisions.md` §8): TFP positions (permanent, non-transferable records),
//! sealed exit bids per round, and the round close on `Tick`: uniform-price clearing (the pure rule in
//! [`crate::auction`]), USDC paid from `exit_pool.usdc`, TFP surrendered, margin credited to the positions
//! that stayed, pro rata to their time weight, dust to the treasury.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use tfeco_money::{Amount, Asset, Price, Rounding, Tfp, Usdc};

use crate::auction::{self, ClearingRules, ExitBid};
use crate::command::{Command, PriceFeed};
use crate::event::Event;
use crate::ids::{AccountKey, ExitBidId, PositionId, RoundId, SystemAccount};
use crate::ledger::{Posting, Slot};
use crate::rejection::Rejection;
use crate::state::State;

/// A liquidity position: TFP locked in the exit pool (spec §8 "Positions").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
        Amount::from_units(self.amount.units() + self.earned.units())
    }

    /// TFP free for new bids.
    pub fn free(&self) -> Amount<Tfp> {
        Amount::from_units(self.holding().units() - self.reserved.units())
    }
}

/// An open exit bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Round {
    /// Id.
    pub id: RoundId,
    /// Opening time.
    pub opened_at: i64,
    /// Closing time.
    pub closes_at: i64,
}

/// One bid's outcome in a published round result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// The exit pool's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExitPool {
    pub(crate) positions: BTreeMap<PositionId, Position>,
    pub(crate) bids: BTreeMap<ExitBidId, ExitBidRecord>,
    pub(crate) round: Round,
    pub(crate) history: VecDeque<RoundResult>,
    pub(crate) total_value_contributed: Amount<Usdc>,
    pub(crate) total_usdc_paid: Amount<Usdc>,
    pub(crate) next_position_id: u64,
    pub(crate) next_bid_id: u64,
}

impl ExitPool {
    /// A pool whose first round opens at `start`.
    pub fn new(start: i64, period_s: i64) -> Self {
        ExitPool {
            positions: BTreeMap::new(),
            bids: BTreeMap::new(),
            round: Round { id: RoundId(1), opened_at: start, closes_at: start + period_s },
            history: VecDeque::new(),
            total_value_contributed: Amount::ZERO,
            total_usdc_paid: Amount::ZERO,
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

    /// Positions' TFP equals `exit_pool.tfp`; reservations equal open bids and fit their positions.
    pub(crate) fn check(&self, pool_tfp: i128) -> Result<(), String> {
        let held: i128 = self.positions.values().map(|p| p.holding().units()).sum();
        if held != pool_tfp {
            return Err(format!("positions hold {held} TFP but exit_pool.tfp has {pool_tfp}"));
        }
        let mut reserved: BTreeMap<PositionId, i128> = BTreeMap::new();
        for bid in self.bids.values() {
            *reserved.entry(bid.position_id).or_default() += bid.reserved.units();
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

/// `ceil(usdc / price)` TFP.
fn tfp_for_usdc(usdc: Amount<Usdc>, price: Price, rounding: Rounding) -> Result<Amount<Tfp>, Rejection> {
    let units = tfeco_money::mul_div(usdc.units().unsigned_abs(), Price::scale(), price.atto(), rounding)
        .and_then(|u| i128::try_from(u).ok())
        .ok_or(Rejection::Overflow)?;
    Ok(Amount::from_units(units))
}

impl State {
    pub(crate) fn apply_exit(
        &mut self,
        signer: AccountKey,
        command: &Command,
    ) -> Result<Vec<Event>, Rejection> {
        match command {
            Command::FundExitPool { usdc } => self.apply_fund_exit_pool(signer, *usdc),
            Command::OpenPosition { tfp } => self.apply_open_position(signer, *tfp),
            Command::ClosePosition { position_id } => self.apply_close_position(signer, *position_id),
            Command::SubmitExitBid { position_id, usdc, min_price, carry_over } => {
                self.apply_submit_exit_bid(signer, *position_id, *usdc, *min_price, *carry_over)
            }
            Command::AmendExitBid { bid_id, usdc, min_price } => {
                self.apply_amend_exit_bid(signer, *bid_id, *usdc, *min_price)
            }
            Command::CancelExitBid { bid_id } => self.apply_cancel_exit_bid(signer, *bid_id),
            _ => unreachable!("apply_exit is only called with exit-pool commands"),
        }
    }

    fn apply_fund_exit_pool(
        &mut self,
        signer: AccountKey,
        usdc: Amount<Usdc>,
    ) -> Result<Vec<Event>, Rejection> {
        if signer != self.params.operator {
            return Err(Rejection::NotAuthorized { role: "operator".to_owned() });
        }
        if !usdc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let plan = [Posting::Transfer {
            asset: Asset::Usdc,
            from: Slot::System(SystemAccount::Treasury),
            to: Slot::System(SystemAccount::ExitPoolUsdc),
            units: usdc.units(),
            revenue: false,
        }];
        self.ledger.validate(&plan)?;
        self.ledger.commit(&plan);
        Ok(vec![Event::ExitPoolFunded { usdc }])
    }

    fn apply_open_position(&mut self, owner: AccountKey, tfp: Amount<Tfp>) -> Result<Vec<Event>, Rejection> {
        if !tfp.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        let tft_usd = self.oracle.effective(PriceFeed::TftUsd, &self.params, self.now)?;
        let value_units =
            tfeco_money::mul_div(tfp.units().unsigned_abs(), tft_usd.atto(), Price::scale(), Rounding::Down)
                .and_then(|u| i128::try_from(u).ok())
                .ok_or(Rejection::Overflow)?;
        let value = Amount::<Usdc>::from_units(value_units);
        let total = self.exit.total_value_contributed.checked_add(value).ok_or(Rejection::Overflow)?;
        let slot = self.ledger.slot_of(&owner).ok_or(Rejection::AccountNotFound { account: owner })?;
        let plan = [Posting::Transfer {
            asset: Asset::Tfp,
            from: slot,
            to: Slot::System(SystemAccount::ExitPoolTfp),
            units: tfp.units(),
            revenue: false,
        }];
        self.ledger.validate(&plan)?;
        self.ledger.commit(&plan);
        let id = PositionId(self.exit.next_position_id);
        self.exit.next_position_id += 1;
        self.exit.total_value_contributed = total;
        self.exit.positions.insert(
            id,
            Position {
                id,
                owner,
                amount: tfp,
                earned: Amount::ZERO,
                reserved: Amount::ZERO,
                opened_at: self.now,
                value_usd_at_open: value,
            },
        );
        Ok(vec![Event::PositionOpened { position_id: id, owner, tfp, value_usd_at_open: value }])
    }

    fn owned_position(&self, owner: AccountKey, id: PositionId) -> Result<&Position, Rejection> {
        let position = self.exit.positions.get(&id).ok_or(Rejection::PositionNotFound)?;
        if position.owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(position)
    }

    fn apply_close_position(&mut self, owner: AccountKey, id: PositionId) -> Result<Vec<Event>, Rejection> {
        let position = self.owned_position(owner, id)?;
        let unlocks_at = position.opened_at + self.params.position_min_lock_s;
        if self.now < unlocks_at {
            return Err(Rejection::PositionLocked { until: unlocks_at });
        }
        if position.reserved.is_positive() {
            return Err(Rejection::PositionHasOpenBids);
        }
        let holding = position.holding();
        let slot = self.ledger.slot_of(&owner).ok_or(Rejection::AccountNotFound { account: owner })?;
        if holding.is_positive() {
            let plan = [Posting::Transfer {
                asset: Asset::Tfp,
                from: Slot::System(SystemAccount::ExitPoolTfp),
                to: slot,
                units: holding.units(),
                revenue: false,
            }];
            self.ledger.validate(&plan)?;
            self.ledger.commit(&plan);
        }
        let position = self.exit.positions.remove(&id).expect("checked above");
        Ok(vec![Event::PositionClosed { position_id: id, tfp: position.amount, earned: position.earned }])
    }

    fn in_lock_window(&self) -> bool {
        self.now >= self.exit.round.closes_at - self.params.exit_lock_window_s
    }

    fn apply_submit_exit_bid(
        &mut self,
        owner: AccountKey,
        position_id: PositionId,
        usdc: Amount<Usdc>,
        min_price: Price,
        carry_over: bool,
    ) -> Result<Vec<Event>, Rejection> {
        if !usdc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if min_price.is_zero() {
            return Err(Rejection::PriceInvalid { reason: "min price must be greater than zero".to_owned() });
        }
        if self.exit.bids.len() >= self.params.max_exit_bids_per_round as usize {
            return Err(Rejection::LimitExceeded {
                what: "exit bids per round".to_owned(),
                limit: u64::from(self.params.max_exit_bids_per_round),
            });
        }
        if self.in_lock_window() {
            return Err(Rejection::ExitBidLocked);
        }
        let position = self.owned_position(owner, position_id)?;
        let reserve = tfp_for_usdc(usdc, min_price, Rounding::Up)?;
        if reserve > position.free() {
            return Err(Rejection::PositionTfpLow { needed: reserve, available: position.free() });
        }
        self.check_exit_quota(owner, position_id, reserve)?;
        let id = ExitBidId(self.exit.next_bid_id);
        self.exit.next_bid_id += 1;
        let position = self.exit.positions.get_mut(&position_id).expect("checked above");
        position.reserved = Amount::from_units(position.reserved.units() + reserve.units());
        self.exit.bids.insert(
            id,
            ExitBidRecord { id, position_id, owner, usdc, min_price, reserved: reserve, carry_over },
        );
        Ok(vec![Event::ExitBidSubmitted { bid_id: id, round_id: self.exit.round.id, reserved_tfp: reserve }])
    }

    fn owned_bid(&self, owner: AccountKey, bid_id: ExitBidId) -> Result<&ExitBidRecord, Rejection> {
        let bid = self.exit.bids.get(&bid_id).ok_or(Rejection::ExitBidNotFound)?;
        if bid.owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(bid)
    }

    fn apply_amend_exit_bid(
        &mut self,
        owner: AccountKey,
        bid_id: ExitBidId,
        usdc: Amount<Usdc>,
        min_price: Price,
    ) -> Result<Vec<Event>, Rejection> {
        if !usdc.is_positive() {
            return Err(Rejection::AmountNotPositive);
        }
        if min_price.is_zero() {
            return Err(Rejection::PriceInvalid { reason: "min price must be greater than zero".to_owned() });
        }
        let bid = self.owned_bid(owner, bid_id)?;
        if self.in_lock_window() && (usdc != bid.usdc || min_price >= bid.min_price) {
            return Err(Rejection::ExitBidLocked);
        }
        let position = &self.exit.positions[&bid.position_id];
        let reserve = tfp_for_usdc(usdc, min_price, Rounding::Up)?;
        let free_after_release = Amount::<Tfp>::from_units(position.free().units() + bid.reserved.units());
        if reserve > free_after_release {
            return Err(Rejection::PositionTfpLow { needed: reserve, available: free_after_release });
        }
        let (position_id, old) = (bid.position_id, bid.reserved);
        if reserve > old {
            self.check_exit_quota(owner, position_id, Amount::from_units(reserve.units() - old.units()))?;
        }
        let position = self.exit.positions.get_mut(&position_id).expect("bid's position exists");
        position.reserved = Amount::from_units(position.reserved.units() - old.units() + reserve.units());
        let bid = self.exit.bids.get_mut(&bid_id).expect("checked above");
        bid.usdc = usdc;
        bid.min_price = min_price;
        bid.reserved = reserve;
        Ok(vec![Event::ExitBidAmended { bid_id, reserved_tfp: reserve }])
    }

    fn apply_cancel_exit_bid(
        &mut self,
        owner: AccountKey,
        bid_id: ExitBidId,
    ) -> Result<Vec<Event>, Rejection> {
        self.owned_bid(owner, bid_id)?;
        if self.in_lock_window() {
            return Err(Rejection::ExitBidLocked);
        }
        let bid = self.exit.bids.remove(&bid_id).expect("checked above");
        let position = self.exit.positions.get_mut(&bid.position_id).expect("bid's position exists");
        position.reserved = Amount::from_units(position.reserved.units() - bid.reserved.units());
        Ok(vec![Event::ExitBidCancelled { bid_id, released_tfp: bid.reserved }])
    }

    /// Closes every round whose end is at or before `now` (called by `Tick`).
    pub(crate) fn run_exit_rounds(&mut self, events: &mut Vec<Event>) {
        while self.exit.round.closes_at <= self.now {
            self.close_round(events);
            let period = self.params.exit_round_period_s;
            let previous = self.exit.round;
            self.exit.round = Round {
                id: RoundId(previous.id.0 + 1),
                opened_at: previous.closes_at,
                closes_at: previous.closes_at + period,
            };
            if self.exit.round.closes_at <= self.now && self.exit.bids.is_empty() {
                // Skip empty rounds in one step (a long gap between ticks).
                let missed = (self.now - self.exit.round.opened_at) / period;
                self.exit.round.id = RoundId(self.exit.round.id.0 + missed as u64);
                self.exit.round.opened_at += missed * period;
                self.exit.round.closes_at = self.exit.round.opened_at + period;
            }
        }
    }

    /// Clears the current round (spec §8 steps 1-6) and publishes its result.
    fn close_round(&mut self, events: &mut Vec<Event>) {
        let round = self.exit.round;
        let params = &self.params;
        let pool_usdc = self.ledger.system_balance::<Usdc>(SystemAccount::ExitPoolUsdc);
        let cap_a = params.exit_cap_a_bps.map(|bps| {
            let share = bps.share_of(self.exit.total_value_contributed.units(), Rounding::Down);
            Amount::<Usdc>::from_units((share - self.exit.total_usdc_paid.units()).max(0))
        });
        let cap_b = params
            .exit_cap_b_bps
            .map(|bps| Amount::<Usdc>::from_units(bps.share_of(pool_usdc.units(), Rounding::Down)));
        // The pool never pays more than it holds: its balance is always a cap.
        let cap_b_effective = Some(cap_b.map_or(pool_usdc, |c| c.min(pool_usdc)));
        let ref_price = self.oracle.effective(PriceFeed::TftUsd, params, self.now).ok();
        let bids: Vec<ExitBid> = self
            .exit
            .bids
            .values()
            .map(|b| ExitBid { id: b.id.0, usdc: b.usdc, min_price: b.min_price })
            .collect();
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
        let clearing = match ref_price {
            None => {
                result.note = Some("price_unavailable".to_owned());
                None
            }
            Some(p_ref) => {
                let rules = ClearingRules {
                    cap_a,
                    cap_b: cap_b_effective,
                    ref_price: Some(p_ref),
                    min_discount_bps: params.exit_min_discount_bps,
                    allow_partial: params.exit_allow_partial,
                };
                match auction::clear(&bids, &rules) {
                    Ok(clearing) => Some((p_ref, clearing)),
                    Err(error) => {
                        result.note = Some(format!("clearing_failed: {error}"));
                        None
                    }
                }
            }
        };
        let mut fills: BTreeMap<u64, (Amount<Usdc>, Amount<Tfp>, bool)> = BTreeMap::new();
        if let Some((p_ref, clearing)) = &clearing {
            result.ceiling = clearing.ceiling;
            result.clearing_price = clearing.clearing_price;
            result.cap = clearing.cap;
            for fill in &clearing.fills {
                fills.insert(fill.id, (fill.filled, fill.tfp_surrendered, fill.excluded));
            }
            self.settle_round(*p_ref, &fills, &mut result);
        }
        // Release or carry every bid.
        let bid_ids: Vec<ExitBidId> = self.exit.bids.keys().copied().collect();
        for bid_id in bid_ids {
            let bid = self.exit.bids.remove(&bid_id).expect("listed above");
            let (filled, surrendered, excluded) =
                fills.get(&bid_id.0).copied().unwrap_or((Amount::ZERO, Amount::ZERO, false));
            let remaining_usdc = Amount::<Usdc>::from_units(bid.usdc.units() - filled.units());
            let position = self.exit.positions.get_mut(&bid.position_id).expect("bid's position exists");
            let left_reserved = bid.reserved.units() - surrendered.units();
            let carry = bid.carry_over && remaining_usdc.is_positive();
            let mut released = left_reserved;
            if carry {
                let keep = tfp_for_usdc(remaining_usdc, bid.min_price, Rounding::Up)
                    .map_or(left_reserved, |t| t.units().min(left_reserved));
                released = left_reserved - keep;
                position.reserved =
                    Amount::from_units(position.reserved.units() - surrendered.units() - released);
                self.exit.bids.insert(
                    bid_id,
                    ExitBidRecord { usdc: remaining_usdc, reserved: Amount::from_units(keep), ..bid.clone() },
                );
            } else {
                position.reserved = Amount::from_units(position.reserved.units() - bid.reserved.units());
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
        events.push(Event::ExitRoundClosed {
            round_id: round.id,
            clearing_price: result.clearing_price,
            total_paid: result.total_paid,
            tfp_surrendered: result.tfp_surrendered,
            margin_tfp: result.margin_tfp,
        });
        self.exit.history.push_back(result);
        while self.exit.history.len() > self.params.exit_history_rounds as usize {
            self.exit.history.pop_front();
        }
    }

    /// Pays the fills, takes the surrendered TFP from the positions, and splits it between the treasury
    /// (the USDC it paid, at reference value) and the staying positions (the margin, by weight).
    fn settle_round(
        &mut self,
        p_ref: Price,
        fills: &BTreeMap<u64, (Amount<Usdc>, Amount<Tfp>, bool)>,
        result: &mut RoundResult,
    ) {
        let mut plan = Vec::new();
        let mut paid = 0i128;
        let mut surrendered_total = 0i128;
        let mut exited = std::collections::BTreeSet::new();
        for (bid_id, (filled, surrendered, _)) in fills {
            if !filled.is_positive() {
                continue;
            }
            let bid = &self.exit.bids[&ExitBidId(*bid_id)];
            let owner_slot = self.ledger.slot_of(&bid.owner).expect("bid owners are registered");
            plan.push(Posting::Transfer {
                asset: Asset::Usdc,
                from: Slot::System(SystemAccount::ExitPoolUsdc),
                to: owner_slot,
                units: filled.units(),
                revenue: false,
            });
            paid += filled.units();
            surrendered_total += surrendered.units();
            exited.insert(bid.position_id);
            let position = self.exit.positions.get_mut(&bid.position_id).expect("bid's position exists");
            // Surrender from the locked amount first, then from earned TFP.
            let from_amount = surrendered.units().min(position.amount.units());
            position.amount = Amount::from_units(position.amount.units() - from_amount);
            position.earned =
                Amount::from_units(position.earned.units() - (surrendered.units() - from_amount));
        }
        if paid == 0 {
            return;
        }
        let weight_params = auction::WeightParams::from(&self.params);
        let weights: Vec<(u64, u128)> = self
            .exit
            .positions
            .values()
            .filter(|p| !exited.contains(&p.id))
            .map(|p| {
                let age = (self.now - p.opened_at).max(0);
                (p.id.0, auction::position_weight(p.amount, age, &weight_params))
            })
            .collect();
        let settlement = auction::settle_margin(
            Amount::from_units(surrendered_total),
            Amount::from_units(paid),
            p_ref,
            &weights,
        )
        .expect("the reference price is positive and the amounts are not negative");
        for (position_id, credit) in &settlement.credits {
            let position =
                self.exit.positions.get_mut(&PositionId(*position_id)).expect("weighted positions exist");
            position.earned = Amount::from_units(position.earned.units() + credit.units());
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
        self.ledger.validate(&plan).expect("fills fit the pool's USDC and the positions' reservations");
        self.ledger.commit(&plan);
        self.exit.total_usdc_paid = Amount::from_units(self.exit.total_usdc_paid.units() + paid);
        result.total_paid = Amount::from_units(paid);
        result.tfp_surrendered = Amount::from_units(surrendered_total);
        result.treasury_tfp = settlement.treasury;
        result.margin_tfp = settlement.credited;
        result.dust_tfp = settlement.dust;
    }
}
