//! The in-wallet exchange (spec `decisions.md` §13): markets of attested assets, prefunded sealed limit
//! orders, and frequent batch auctions cleared by `Tick` every `batch_interval_s` at one uniform price (the
//! pure rule in [`crate::rules::batch_auction`]). Anti-bot rules: no cancel or reduction inside the lock
//! window before a batch closes (price improvements allowed), at most `max_orders_per_account_per_batch` new
//! orders per account per batch, a minimum order size, and an optional identity requirement per market.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;
use tfeco_money::{Amount, AnyAsset, Asset, Price};

use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, MarketId, OrderId, SystemAccount};
use crate::ledger::{Ledger, Posting, Slot};
use crate::rejection::{Limit, Rejection};
use crate::rules::batch_auction::{clear_batch, order_escrow, BatchOutcome, Order};
use crate::rules::oracle::PriceProblem;
use crate::slices::Env;
use crate::types::{MarketSpec, Role, Side};

/// An open order (sealed: only its owner sees it before the clear).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderRecord {
    /// Id.
    pub id: OrderId,
    /// Market.
    pub market_id: MarketId,
    /// Owner.
    pub owner: AccountKey,
    /// Buy or sell.
    pub side: Side,
    /// Base units still wanted.
    pub quantity: Amount<AnyAsset>,
    /// Limit, quote per whole base token.
    pub limit_price: Price,
    /// Escrowed base (sells) or quote (buys) units.
    pub escrow: Amount<AnyAsset>,
    /// The batch in which it was placed.
    pub placed_in_batch: u64,
    /// The last batch it takes part in.
    pub expires_after_batch: u64,
}

/// One order's result in a batch (published to its owner).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderFillRecord {
    /// The order.
    pub order_id: OrderId,
    /// Owner.
    pub owner: AccountKey,
    /// Side.
    pub side: Side,
    /// Base filled.
    pub filled: Amount<AnyAsset>,
    /// Quote paid (buy, fee included) or received (sell, fee deducted).
    pub quote: Amount<AnyAsset>,
    /// Fee, quote units.
    pub fee: Amount<AnyAsset>,
}

/// A published batch result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchRecord {
    /// Batch number.
    pub batch: u64,
    /// Clear time.
    pub cleared_at: i64,
    /// Uniform price, if anything crossed.
    pub price: Option<Price>,
    /// Base matched.
    pub volume: Amount<AnyAsset>,
    /// `|demand - supply|` at the price.
    pub imbalance: Amount<AnyAsset>,
    /// Orders in the batch.
    pub orders: u32,
    /// Fills (each owner sees its own through a signed read).
    pub fills: Vec<OrderFillRecord>,
    /// Resting depth after the clear: `(price, buy base, sell base)` per level.
    pub depth: Vec<(Price, Amount<AnyAsset>, Amount<AnyAsset>)>,
}

/// One market's live book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarketBook {
    /// Open orders by id.
    pub orders: BTreeMap<OrderId, OrderRecord>,
    /// The current batch number.
    pub batch: u64,
    /// When the current batch clears.
    pub next_clear_at: i64,
    /// Last clearing price.
    pub last_price: Option<Price>,
    /// Recent batches, oldest first.
    pub history: VecDeque<BatchRecord>,
    /// Orders placed per account in the current batch.
    pub placed_this_batch: BTreeMap<AccountKey, u32>,
}

/// All markets' books and verified accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Exchange {
    books: BTreeMap<MarketId, MarketBook>,
    verified: BTreeSet<AccountKey>,
    next_order_id: u64,
}

/// Batches kept per market in the state.
const HISTORY: usize = 100;

/// The order escrow account.
const ESCROW: Slot = Slot::System(SystemAccount::EscrowOrders);

/// An order's settlement after a clear: the postings, its published fill (if it traded), and what rests.
struct Settled {
    fill: Option<OrderFillRecord>,
    /// `(order, quantity left, escrow kept)`; a zero escrow ends the order.
    rest: (OrderId, i128, i128),
}

/// What an order of `side` escrows: its base (sells), or `ceil(quantity * limit)` quote plus its fee (buys).
fn escrow_units(side: Side, quantity: i128, limit: Price, spec: &MarketSpec) -> Option<i128> {
    let order = Order { id: 0, side, quantity: Amount::from_units(quantity), limit_price: limit };
    let escrow = order_escrow::<AnyAsset, AnyAsset>(&order, spec.fee_bps).ok()?;
    Some(if side == Side::Buy { escrow.quote.units() } else { escrow.base.units() })
}

/// The unfilled rest of an order and the escrow it keeps, from the `held` units left after this batch's fill.
/// A sell keeps its rest of base. A buy keeps `ceil(rest * limit)` plus its fee; because the fills were charged
/// with their own rounding, `held` can fall a unit or two short of that, and then the rest shrinks to the
/// largest quantity its escrow still covers (at most a few base units less), so a later fill always settles
/// within the escrow. A rest below the market minimum ends the order.
fn rest_escrow(side: Side, rest: i128, limit: Price, held: i128, spec: &MarketSpec) -> (i128, i128) {
    let cost = |quantity: i128| escrow_units(side, quantity, limit, spec).unwrap_or(i128::MAX);
    let mut quantity = rest;
    let mut needed = cost(quantity);
    if needed > held && side == Side::Buy {
        // First guess from the held funds, then step down until it fits.
        let guess = tfeco_money::mul_div(
            held.max(0).unsigned_abs(),
            Price::scale(),
            limit.atto().max(1),
            tfeco_money::Rounding::Down,
        )
        .and_then(|q| i128::try_from(q).ok())
        .unwrap_or(0);
        quantity = quantity.min(guess);
        needed = cost(quantity);
        while quantity > 0 && needed > held {
            quantity = quantity.saturating_sub(1);
            needed = cost(quantity);
        }
    }
    if quantity < spec.min_order_base.units() || needed > held {
        return (0, 0);
    }
    (quantity, needed)
}

/// The ids the pure rule sees for a batch's orders. It breaks exact ties (a pro-rata remainder unit) by id;
/// ids follow arrival, so the batch is cleared under ids drawn from a hash of (market, batch, owner, side,
/// quantity, limit): arrival order gives no edge, equal orders of different owners in either arrival order
/// draw the same tie ids, and the result stays deterministic. Returns the orders and the map back.
fn tie_ids(book: &MarketBook, market: MarketId) -> (Vec<Order<AnyAsset>>, BTreeMap<u64, OrderId>) {
    let mut real_id: BTreeMap<u64, OrderId> = BTreeMap::new();
    let orders = book
        .orders
        .values()
        .map(|o| {
            let mut hasher = blake3::Hasher::new();
            hasher.update(&market.0.to_le_bytes());
            hasher.update(&book.batch.to_le_bytes());
            hasher.update(o.owner.as_bytes());
            hasher.update(&[u8::from(o.side == Side::Buy)]);
            hasher.update(&o.quantity.units().to_le_bytes());
            hasher.update(&o.limit_price.atto().to_le_bytes());
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
            let mut tie_id = u64::from_le_bytes(bytes);
            while real_id.contains_key(&tie_id) {
                tie_id = tie_id.wrapping_add(1);
            }
            real_id.insert(tie_id, o.id);
            Order { id: tie_id, side: o.side, quantity: o.quantity, limit_price: o.limit_price }
        })
        .collect();
    (orders, real_id)
}

impl Exchange {
    /// Books by market id.
    pub fn books(&self) -> &BTreeMap<MarketId, MarketBook> {
        &self.books
    }
    /// `true` when the account passed identity verification.
    pub fn is_verified(&self, account: &AccountKey) -> bool {
        self.verified.contains(account)
    }

    fn market_spec<'p>(env: &Env<'p>, market_id: MarketId) -> Result<&'p MarketSpec, Rejection> {
        env.params.market(market_id).ok_or(Rejection::MarketNotFound)
    }

    /// The book of a market, created on first use (markets registered by governance get one lazily).
    fn book_mut(&mut self, env: &Env<'_>, market_id: MarketId) -> &mut MarketBook {
        let interval = env.params.market(market_id).map_or(10, |m| m.batch_interval_s);
        self.books.entry(market_id).or_insert_with(|| MarketBook {
            orders: BTreeMap::new(),
            batch: 1,
            next_clear_at: env.now.saturating_add(interval),
            last_price: None,
            history: VecDeque::new(),
            placed_this_batch: BTreeMap::new(),
        })
    }

    fn in_lock_window(&self, env: &Env<'_>, spec: &MarketSpec) -> bool {
        self.books.get(&spec.id).is_some_and(|b| env.at >= b.next_clear_at.saturating_sub(spec.lock_window_s))
    }

    /// `PlaceOrder`: escrows the order's funds (sells: the base; buys: `ceil(qty * limit)` plus the fee).
    pub(crate) fn place_order(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        owner: AccountKey,
        (market_id, side, quantity, limit_price): (MarketId, Side, Amount<AnyAsset>, Price),
        expires_after_batches: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let spec = Self::market_spec(env, market_id)?;
        if spec.identity_required && !self.verified.contains(&owner) {
            return Err(Rejection::IdentityRequired);
        }
        if quantity < spec.min_order_base {
            return Err(Rejection::OrderTooSmall { min: spec.min_order_base });
        }
        if limit_price.is_zero() {
            return Err(Rejection::PriceInvalid { reason: PriceProblem::Zero });
        }
        let placed =
            self.books.get(&market_id).and_then(|b| b.placed_this_batch.get(&owner)).copied().unwrap_or(0);
        if placed >= spec.max_orders_per_account_per_batch {
            return Err(Rejection::LimitExceeded {
                what: Limit::OrdersPerAccountPerBatch,
                limit: u64::from(spec.max_orders_per_account_per_batch),
            });
        }
        let units = escrow_units(side, quantity.units(), limit_price, spec).ok_or(Rejection::Overflow)?;
        let asset = spec.escrow_asset(side);
        let from = ledger.user_slot(&owner)?;
        let next_id = self.next_order_id.checked_add(1).ok_or(Rejection::Overflow)?;
        ledger.apply(&[Posting::Transfer { asset, from, to: ESCROW, units, revenue: false }])?;
        self.next_order_id = next_id;
        let id = OrderId(next_id);
        let batches = u64::from(expires_after_batches.unwrap_or(spec.default_order_batches).max(1));
        let book = self.book_mut(env, market_id);
        let batch = book.batch;
        let count = book.placed_this_batch.entry(owner).or_default();
        *count = count.saturating_add(1);
        let order = OrderRecord {
            id,
            market_id,
            owner,
            side,
            quantity,
            limit_price,
            escrow: Amount::from_units(units),
            placed_in_batch: batch,
            expires_after_batch: batch.saturating_add(batches).saturating_sub(1),
        };
        book.orders.insert(id, order);
        Ok(vec![Event::OrderPlaced { order_id: id, market_id, batch, escrow: Amount::from_units(units) }])
    }

    fn owned_order(&self, owner: AccountKey, order_id: OrderId) -> Result<&OrderRecord, Rejection> {
        let order =
            self.books.values().find_map(|b| b.orders.get(&order_id)).ok_or(Rejection::OrderNotFound)?;
        if order.owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(order)
    }

    /// `CancelOrder`: refused inside the lock window; refunds the escrow.
    pub(crate) fn cancel_order(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        owner: AccountKey,
        order_id: OrderId,
    ) -> Result<Vec<Event>, Rejection> {
        let order = self.owned_order(owner, order_id)?;
        let spec = Self::market_spec(env, order.market_id)?;
        if self.in_lock_window(env, spec) {
            return Err(Rejection::OrderLocked);
        }
        let (asset, refund) = (spec.escrow_asset(order.side), order.escrow);
        let to = ledger.user_slot(&owner)?;
        if refund.is_positive() {
            ledger.apply(&[Posting::Transfer {
                asset,
                from: ESCROW,
                to,
                units: refund.units(),
                revenue: false,
            }])?;
        }
        if let Some(book) = self.books.get_mut(&spec.id) {
            book.orders.remove(&order_id);
        }
        Ok(vec![Event::OrderCancelled { order_id, refunded: refund }])
    }

    /// `AmendOrder`: a new limit and quantity; inside the lock window only improvements (a buy's higher or a
    /// sell's lower limit, no smaller quantity). The escrow is topped up or refunded to match.
    pub(crate) fn amend_order(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        owner: AccountKey,
        (order_id, quantity, limit_price): (OrderId, Amount<AnyAsset>, Price),
    ) -> Result<Vec<Event>, Rejection> {
        let order = self.owned_order(owner, order_id)?;
        let spec = Self::market_spec(env, order.market_id)?;
        if quantity < spec.min_order_base {
            return Err(Rejection::OrderTooSmall { min: spec.min_order_base });
        }
        if limit_price.is_zero() {
            return Err(Rejection::PriceInvalid { reason: PriceProblem::Zero });
        }
        if self.in_lock_window(env, spec) {
            let improves = match order.side {
                Side::Buy => limit_price >= order.limit_price,
                Side::Sell => limit_price <= order.limit_price,
            };
            if !improves || quantity < order.quantity {
                return Err(Rejection::OrderLocked);
            }
        }
        let needed =
            escrow_units(order.side, quantity.units(), limit_price, spec).ok_or(Rejection::Overflow)?;
        let asset = spec.escrow_asset(order.side);
        let slot = ledger.user_slot(&owner)?;
        let delta = needed.saturating_sub(order.escrow.units());
        let posting = |from, to, units| Posting::Transfer { asset, from, to, units, revenue: false };
        if delta > 0 {
            ledger.apply(&[posting(slot, ESCROW, delta)])?;
        } else if delta < 0 {
            ledger.apply(&[posting(ESCROW, slot, delta.saturating_neg())])?;
        }
        let market_id = order.market_id;
        let record =
            self.books.get_mut(&market_id).and_then(|b| b.orders.get_mut(&order_id)).expect("checked above");
        record.quantity = quantity;
        record.limit_price = limit_price;
        record.escrow = Amount::from_units(needed);
        Ok(vec![Event::OrderAmended { order_id, escrow: Amount::from_units(needed) }])
    }

    /// `SetVerified`: the operator (identity provider) marks a registered account verified or not.
    pub(crate) fn set_verified(
        &mut self,
        env: &Env<'_>,
        ledger: &Ledger,
        signer: AccountKey,
        (account, verified): (AccountKey, bool),
    ) -> Result<Vec<Event>, Rejection> {
        env.require(signer, Role::Operator)?;
        ledger.user_slot(&account)?;
        if verified {
            self.verified.insert(account);
        } else {
            self.verified.remove(&account);
        }
        Ok(vec![Event::AccountVerified { account, verified }])
    }

    /// The `Tick` phase clearing every market whose batch time has come; runs of empty batches after a long
    /// gap are skipped in one step.
    pub(crate) fn clear_due(&mut self, env: &Env<'_>, ledger: &mut Ledger, events: &mut Vec<Event>) {
        for spec in &env.params.markets {
            let interval = spec.batch_interval_s.max(1);
            self.book_mut(env, spec.id);
            while self.books.get(&spec.id).is_some_and(|b| b.next_clear_at <= env.now) {
                self.clear_market(env, ledger, spec, events);
                let Some(book) = self.books.get_mut(&spec.id) else { break };
                book.batch = book.batch.saturating_add(1);
                book.next_clear_at = book.next_clear_at.saturating_add(interval);
                book.placed_this_batch.clear();
                if book.orders.is_empty() && book.next_clear_at <= env.now {
                    let missed =
                        env.now.saturating_sub(book.next_clear_at).checked_div(interval).unwrap_or(0);
                    let missed = missed.saturating_add(1);
                    book.batch = book.batch.saturating_add(missed.unsigned_abs());
                    book.next_clear_at = book.next_clear_at.saturating_add(missed.saturating_mul(interval));
                }
            }
        }
    }

    /// Clears one batch of a market: the pure clear, the settlement postings, the resting orders, the last
    /// price, the event and the published record.
    fn clear_market(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        spec: &MarketSpec,
        events: &mut Vec<Event>,
    ) {
        let Some(book) = self.books.get(&spec.id) else { return };
        let batch = book.batch;
        let (orders, real_id) = tie_ids(book, spec.id);
        let n_orders = u32::try_from(orders.len()).unwrap_or(u32::MAX);
        let Ok(outcome) = clear_batch::<AnyAsset, AnyAsset>(&orders, book.last_price, spec.fee_bps) else {
            return;
        };
        let mut plan = Vec::new();
        let mut fills = Vec::new();
        let mut rests = Vec::new();
        for fill in &outcome.fills {
            let Some(order) = real_id.get(&fill.id).and_then(|id| book.orders.get(id)) else { continue };
            let settled = settle_order(ledger, spec, batch, order, fill, &mut plan);
            fills.extend(settled.fill);
            rests.push(settled.rest);
        }
        let to_treasury = outcome.fees_total.units().saturating_add(outcome.quote_dust.units());
        if to_treasury > 0 {
            let treasury = Slot::System(SystemAccount::Treasury);
            plan.push(Posting::Transfer {
                asset: spec.quote,
                from: ESCROW,
                to: treasury,
                units: to_treasury,
                revenue: false,
            });
        }
        ledger.apply(&plan).expect("a batch settles within the escrowed funds");
        let Some(book) = self.books.get_mut(&spec.id) else { return };
        for (order_id, rest, keep) in rests {
            match book.orders.get_mut(&order_id) {
                Some(order) if keep > 0 => {
                    order.quantity = Amount::from_units(rest);
                    order.escrow = Amount::from_units(keep);
                }
                _ => {
                    book.orders.remove(&order_id);
                }
            }
        }
        if outcome.price.is_some() {
            book.last_price = outcome.price;
        }
        events.push(Event::BatchCleared {
            market_id: spec.id,
            batch,
            price: outcome.price,
            volume: outcome.volume,
            imbalance: outcome.imbalance,
        });
        book.history.push_back(batch_record(book, &outcome, (batch, env.now, n_orders), fills));
        while book.history.len() > HISTORY {
            book.history.pop_front();
        }
    }

    /// The order escrow account holds exactly the open orders' escrows, per asset.
    pub(crate) fn check(&self, params: &crate::params::Params, ledger: &Ledger) -> Result<(), String> {
        let mut expected = [0i128; 4];
        for (market_id, book) in &self.books {
            let Some(spec) = params.market(*market_id) else {
                return Err(format!("book of unknown market {market_id}"));
            };
            for order in book.orders.values() {
                let slot = &mut expected[spec.escrow_asset(order.side).index()];
                *slot = slot.saturating_add(order.escrow.units());
            }
        }
        for asset in Asset::ALL {
            let held = ledger.balance(AccountRef::System(SystemAccount::EscrowOrders), asset);
            if held != expected[asset.index()] {
                return Err(format!(
                    "order escrow holds {held} {asset} but open orders total {}",
                    expected[asset.index()]
                ));
            }
        }
        Ok(())
    }
}

/// Settles one order's fill at the clear: what it receives (buys: base; sells: quote net of fee), what it
/// keeps escrowed for its unfilled rest (nothing once it expires), and the refund of the remainder.
fn settle_order(
    ledger: &Ledger,
    spec: &MarketSpec,
    batch: u64,
    order: &OrderRecord,
    fill: &crate::rules::batch_auction::OrderFill<AnyAsset, AnyAsset>,
    plan: &mut Vec<Posting>,
) -> Settled {
    let owner = ledger.user_slot(&order.owner).expect("order owners are registered");
    let settled = fill.settled_quote().units();
    let mut published = None;
    if fill.filled.is_positive() {
        let (asset, units) = match fill.side {
            Side::Buy => (spec.base, fill.filled.units()),
            Side::Sell => (spec.quote, settled),
        };
        if units > 0 {
            plan.push(Posting::Transfer { asset, from: ESCROW, to: owner, units, revenue: false });
        }
        published = Some(OrderFillRecord {
            order_id: order.id,
            owner: order.owner,
            side: fill.side,
            filled: fill.filled,
            quote: Amount::from_units(settled),
            fee: fill.fee,
        });
    }
    let rest = order.quantity.units().saturating_sub(fill.filled.units());
    let used = match fill.side {
        Side::Buy => settled,
        Side::Sell => fill.filled.units(),
    };
    let held = order.escrow.units().saturating_sub(used);
    let (rest, keep) = if rest <= 0 || batch >= order.expires_after_batch {
        (0, 0)
    } else {
        rest_escrow(fill.side, rest, order.limit_price, held, spec)
    };
    let refund = held.saturating_sub(keep);
    if refund > 0 {
        let asset = spec.escrow_asset(fill.side);
        plan.push(Posting::Transfer { asset, from: ESCROW, to: owner, units: refund, revenue: false });
    }
    Settled { fill: published, rest: (order.id, rest, keep) }
}

/// The published record of a cleared batch, with the resting depth per price level after the clear.
fn batch_record(
    book: &MarketBook,
    outcome: &BatchOutcome<AnyAsset, AnyAsset>,
    (batch, cleared_at, orders): (u64, i64, u32),
    fills: Vec<OrderFillRecord>,
) -> BatchRecord {
    let mut levels: BTreeMap<Price, (i128, i128)> = BTreeMap::new();
    for order in book.orders.values() {
        let level = levels.entry(order.limit_price).or_default();
        match order.side {
            Side::Buy => level.0 = level.0.saturating_add(order.quantity.units()),
            Side::Sell => level.1 = level.1.saturating_add(order.quantity.units()),
        }
    }
    let depth =
        levels.into_iter().map(|(p, (b, s))| (p, Amount::from_units(b), Amount::from_units(s))).collect();
    BatchRecord {
        batch,
        cleared_at,
        price: outcome.price,
        volume: outcome.volume,
        imbalance: outcome.imbalance,
        orders,
        fills,
        depth,
    }
}
