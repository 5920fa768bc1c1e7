//! The in-wallet exchange (spec `decisions.md` §13): markets of attested assets, prefunded sealed limit
//! orders, and frequent batch auctions cleared by `Tick` every `batch_interval_s` at one uniform price (the
//! pure rule in [`crate::rules::batch_auction`]; the reference price that decides between candidates equal
//! in volume and imbalance is the market's last clearing price, else the oracle's price of the base asset).
//! Anti-bot rules: no cancel or reduction inside the lock
//! window before a batch closes (price improvements allowed), at most `max_orders_per_account_per_batch` new
//! orders per account per batch, a minimum order size, and an optional identity requirement per market.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Price};

use crate::event::Event;
use crate::ids::{AccountKey, AccountRef, MarketId, OrderId, SystemAccount};
use crate::ledger::{Ledger, Posting, Slot};
use crate::rejection::{Limit, Rejection};
use crate::rules::batch_auction::{clear_batch, order_escrow, BatchOutcome, Order};
use crate::rules::oracle::PriceProblem;
use crate::slices::oracle::Oracle;
use crate::slices::Env;
use crate::types::{MarketSpec, PriceFeed, Role, Side};

/// An open order (sealed: only its owner sees it before the clear).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
///
/// Batch `batch` closes at `next_clear_at`; later batches close every `batch_interval_s` after it (the
/// schedule is anchored when the book is created, whatever the time of the `Tick` that clears them). A batch
/// is cleared only when the book can trade (its best bid is >= its best ask); a run of batches in which
/// nothing can trade is passed over in one step, with no event and no record (decisions §13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketBook {
    /// Open orders by id.
    pub orders: BTreeMap<OrderId, OrderRecord>,
    /// The current batch number.
    pub batch: u64,
    /// When the current batch clears.
    pub next_clear_at: i64,
    /// Last clearing price.
    pub last_price: Option<Price>,
    /// Recent batches that traded, oldest first.
    pub history: VecDeque<BatchRecord>,
    /// Orders placed per account in the current batch.
    pub placed_this_batch: BTreeMap<AccountKey, u32>,
    /// What others may read of the book: its open orders as of the last clear (decisions §13: placing,
    /// amending or cancelling an order changes nothing that others can read).
    pub public: PublicBook,
    /// Lookups derived from `orders` (not part of the state's encoding; kept in step by every change).
    #[serde(skip)]
    index: BookIndex,
}

/// A book's open orders as of its last clear, the only figures of them that others may read: the count per
/// side and the escrow they held (base units for sells, quote units for buys). Taken after every clear;
/// unchanged by placing, amending, cancelling or expiring orders in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicBook {
    /// Open buy orders after the last clear.
    pub buy_orders: u64,
    /// Open sell orders after the last clear.
    pub sell_orders: u64,
    /// Base units escrowed by the open sells after the last clear.
    pub escrow_base: Amount<AnyAsset>,
    /// Quote units escrowed by the open buys after the last clear.
    pub escrow_quote: Amount<AnyAsset>,
}

impl Default for PublicBook {
    fn default() -> Self {
        PublicBook { buy_orders: 0, sell_orders: 0, escrow_base: Amount::ZERO, escrow_quote: Amount::ZERO }
    }
}

impl PublicBook {
    fn of(orders: &BTreeMap<OrderId, OrderRecord>) -> Self {
        let mut public = PublicBook::default();
        for order in orders.values() {
            let (count, escrow) = match order.side {
                Side::Buy => (&mut public.buy_orders, &mut public.escrow_quote),
                Side::Sell => (&mut public.sell_orders, &mut public.escrow_base),
            };
            *count = count.saturating_add(1);
            *escrow = Amount::from_units(escrow.units().saturating_add(order.escrow.units()));
        }
        public
    }
}

/// Lookups over a book's open orders, derived from them: best prices, each owner's orders, expiries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct BookIndex {
    /// `(side, limit, id)`: the best bid is the last buy, the best ask the first sell.
    quotes: BTreeSet<(Side, Price, OrderId)>,
    /// `(owner, side, limit, id)`: self-trade checks and an owner's orders.
    owners: BTreeSet<(AccountKey, Side, Price, OrderId)>,
    /// `(last batch, id)`: expiries in batch order.
    expiries: BTreeSet<(u64, OrderId)>,
}

impl BookIndex {
    fn add(&mut self, order: &OrderRecord) {
        self.quotes.insert((order.side, order.limit_price, order.id));
        self.owners.insert((order.owner, order.side, order.limit_price, order.id));
        self.expiries.insert((order.expires_after_batch, order.id));
    }

    fn remove(&mut self, order: &OrderRecord) {
        self.quotes.remove(&(order.side, order.limit_price, order.id));
        self.owners.remove(&(order.owner, order.side, order.limit_price, order.id));
        self.expiries.remove(&(order.expires_after_batch, order.id));
    }

    fn of(orders: &BTreeMap<OrderId, OrderRecord>) -> Self {
        let mut index = BookIndex::default();
        orders.values().for_each(|order| index.add(order));
        index
    }
}

/// The lowest and highest price and id, for range bounds.
const PRICE_MIN: Price = Price::from_atto(0);
const PRICE_MAX: Price = Price::from_atto(u128::MAX);
const ID_MIN: OrderId = OrderId(0);
const ID_MAX: OrderId = OrderId(u64::MAX);

impl MarketBook {
    fn new(batch_closes_at: i64) -> Self {
        MarketBook {
            orders: BTreeMap::new(),
            batch: 1,
            next_clear_at: batch_closes_at,
            last_price: None,
            history: VecDeque::new(),
            placed_this_batch: BTreeMap::new(),
            public: PublicBook::default(),
            index: BookIndex::default(),
        }
    }

    /// The highest buy limit and the lowest sell limit of the open orders.
    pub fn best_prices(&self) -> (Option<Price>, Option<Price>) {
        let mut bids =
            self.index.quotes.range((Side::Buy, PRICE_MIN, ID_MIN)..=(Side::Buy, PRICE_MAX, ID_MAX));
        let mut asks =
            self.index.quotes.range((Side::Sell, PRICE_MIN, ID_MIN)..=(Side::Sell, PRICE_MAX, ID_MAX));
        (bids.next_back().map(|q| q.1), asks.next().map(|q| q.1))
    }

    /// `true` when a batch of this book would trade: its best bid is at or above its best ask. After a clear
    /// a book cannot trade until an order is placed or amended.
    pub fn can_trade(&self) -> bool {
        matches!(self.best_prices(), (Some(bid), Some(ask)) if bid >= ask)
    }

    /// The open orders of `owner`, by side, limit and id.
    pub fn orders_of<'a>(&'a self, owner: &AccountKey) -> impl Iterator<Item = &'a OrderRecord> + 'a {
        let from = (*owner, Side::Buy, PRICE_MIN, ID_MIN);
        let to = (*owner, Side::Sell, PRICE_MAX, ID_MAX);
        self.index.owners.range(from..=to).filter_map(|key| self.orders.get(&key.3))
    }

    /// A resting order of `owner` on the other side that an order on `side` at `limit` would cross.
    fn own_crossing(&self, owner: AccountKey, side: Side, limit: Price) -> Option<OrderId> {
        let mut range = match side {
            Side::Buy => self
                .index
                .owners
                .range((owner, Side::Sell, PRICE_MIN, ID_MIN)..=(owner, Side::Sell, limit, ID_MAX)),
            Side::Sell => self
                .index
                .owners
                .range((owner, Side::Buy, limit, ID_MIN)..=(owner, Side::Buy, PRICE_MAX, ID_MAX)),
        };
        range.next().map(|key| key.3)
    }

    fn insert(&mut self, order: OrderRecord) {
        self.index.add(&order);
        self.orders.insert(order.id, order);
    }

    fn remove(&mut self, id: OrderId) -> Option<OrderRecord> {
        let order = self.orders.remove(&id)?;
        self.index.remove(&order);
        Some(order)
    }

    /// Changes an order's quantity, limit and escrow, keeping the lookups in step.
    fn amend(&mut self, id: OrderId, quantity: Amount<AnyAsset>, limit: Price, escrow: Amount<AnyAsset>) {
        if let Some(mut order) = self.remove(id) {
            order.quantity = quantity;
            order.limit_price = limit;
            order.escrow = escrow;
            self.insert(order);
        }
    }

    /// Removes and returns the orders whose last batch is `batch` or earlier.
    fn take_expired(&mut self, batch: u64) -> Vec<OrderRecord> {
        let due: Vec<OrderId> = self.index.expiries.range(..=(batch, ID_MAX)).map(|key| key.1).collect();
        due.into_iter().filter_map(|id| self.remove(id)).collect()
    }
}

/// All markets' books and verified accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The `order_expired` event when its last batch ends it with a rest unfilled.
    expired: Option<Event>,
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
    /// Units per asset (indexed by [`Asset::index`]) that `owner`'s open orders hold in `escrow.orders`:
    /// the part of its balance that is not free. Only the owner may read it (a signed read).
    pub fn escrowed_by(&self, params: &crate::params::Params, owner: &AccountKey) -> [i128; 4] {
        let mut held = [0i128; 4];
        for (market_id, book) in &self.books {
            let Some(spec) = params.market(*market_id) else { continue };
            for order in book.orders_of(owner) {
                let slot = &mut held[spec.escrow_asset(order.side).index()];
                *slot = slot.saturating_add(order.escrow.units());
            }
        }
        held
    }

    /// The public figure of `escrow.orders` per asset (indexed by [`Asset::index`]): every book's escrow as
    /// of its last clear ([`PublicBook`]), so that no order placed, amended or cancelled since shows.
    pub fn public_escrow(&self, params: &crate::params::Params) -> [i128; 4] {
        let mut held = [0i128; 4];
        for (market_id, book) in &self.books {
            let Some(spec) = params.market(*market_id) else { continue };
            for (asset, units) in
                [(spec.base, book.public.escrow_base), (spec.quote, book.public.escrow_quote)]
            {
                let slot = &mut held[asset.index()];
                *slot = slot.saturating_add(units.units());
            }
        }
        held
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
        self.books.entry(market_id).or_insert_with(|| MarketBook::new(env.now.saturating_add(interval)))
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
        self.check_self_trade(market_id, owner, (side, limit_price))?;
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
        book.insert(order);
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

    /// Self-trade prevention (decisions §13): [`Rejection::SelfTrade`] when an order of `owner` on `side` at
    /// `limit` would cross one of its own resting orders on the other side of `market_id` (a buy whose limit
    /// is >= its own resting sell's, or a sell whose limit is <= its own resting buy's; an amended order is
    /// never compared with itself, which is on its own side). Quotes on both sides that do not cross pass.
    /// O(log n) in the book's orders.
    fn check_self_trade(
        &self,
        market_id: MarketId,
        owner: AccountKey,
        (side, limit): (Side, Price),
    ) -> Result<(), Rejection> {
        let crossing = self.books.get(&market_id).and_then(|book| book.own_crossing(owner, side, limit));
        match crossing {
            Some(order_id) => Err(Rejection::SelfTrade { order_id }),
            None => Ok(()),
        }
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
            book.remove(order_id);
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
        self.check_self_trade(order.market_id, owner, (order.side, limit_price))?;
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
        if let Some(book) = self.books.get_mut(&market_id) {
            book.amend(order_id, quantity, limit_price, Amount::from_units(needed));
        }
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

    /// The `Tick` phase closing every market's batches due by `env.now` (decisions §13). A batch in which the
    /// book can trade is cleared (one `batch_cleared` event and record); a run of batches in which nothing can
    /// trade (the book does not cross, and no command arrives inside a `Tick`) is passed over in one step, in
    /// O(1) whatever the elapsed time. Orders whose last batch closed are refunded (one `order_expired` each),
    /// found through the expiry index. Close times stay anchored: batch `b + k` closes at
    /// `next_clear_at + k * batch_interval_s`, whenever the `Tick` comes.
    pub(crate) fn clear_due(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        events: &mut Vec<Event>,
    ) {
        for spec in &env.params.markets {
            let interval = spec.batch_interval_s.max(1);
            self.book_mut(env, spec.id);
            while let Some(book) = self.books.get(&spec.id).filter(|b| b.next_clear_at <= env.now) {
                let close = book.next_clear_at;
                // Batches closing by now: the current one and every later one.
                let due = env.now.saturating_sub(close).checked_div(interval).unwrap_or(0).saturating_add(1);
                let closed = if book.can_trade() {
                    self.clear_market(env, ledger, oracle, spec, events);
                    1
                } else {
                    due.unsigned_abs()
                };
                let Some(book) = self.books.get_mut(&spec.id) else { break };
                let last = book.batch.saturating_add(closed).saturating_sub(1);
                let expired = book.take_expired(last);
                refund_expired(ledger, spec, &expired, events);
                book.batch = last.saturating_add(1);
                let steps = i64::try_from(closed).unwrap_or(i64::MAX);
                book.next_clear_at = close.saturating_add(steps.saturating_mul(interval));
                book.placed_this_batch.clear();
            }
        }
    }

    /// The scheduled close time of the earliest batch in which something can trade: the current batch's close
    /// of the first book whose best bid is >= its best ask; `None` when no book can trade. The node sends a
    /// `Tick` at that time (decisions §13); books that cannot trade need none (their expiries are refunded by
    /// whatever `Tick` comes next, each at the close of its last batch in the schedule).
    pub fn next_clear_due(&self) -> Option<i64> {
        self.books.values().filter(|book| book.can_trade()).map(|book| book.next_clear_at).min()
    }

    /// Clears one batch of a market: the pure clear, the settlement postings, the resting orders, the last
    /// price, the event and the published record.
    fn clear_market(
        &mut self,
        env: &Env<'_>,
        ledger: &mut Ledger,
        oracle: &Oracle,
        spec: &MarketSpec,
        events: &mut Vec<Event>,
    ) {
        let Some(book) = self.books.get(&spec.id) else { return };
        let (batch, close) = (book.batch, book.next_clear_at);
        let (orders, real_id) = tie_ids(book, spec.id);
        let n_orders = u32::try_from(orders.len()).unwrap_or(u32::MAX);
        let reference = book.last_price.or_else(|| oracle_reference(env, oracle, spec));
        let Ok(outcome) = clear_batch::<AnyAsset, AnyAsset>(&orders, reference, spec.fee_bps) else {
            return;
        };
        let mut plan = Vec::new();
        let mut fills = Vec::new();
        let mut rests = Vec::new();
        let mut expired = Vec::new();
        for fill in &outcome.fills {
            let Some(order) = real_id.get(&fill.id).and_then(|id| book.orders.get(id)) else { continue };
            let settled = settle_order(ledger, spec, batch, order, fill, &mut plan);
            fills.extend(settled.fill);
            rests.push(settled.rest);
            expired.extend(settled.expired);
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
                    book.remove(order_id);
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
        events.extend(expired);
        book.public = PublicBook::of(&book.orders);
        book.history.push_back(batch_record(book, &outcome, (batch, close, n_orders), fills));
        while book.history.len() > HISTORY {
            book.history.pop_front();
        }
    }

    /// Rebuilds each book's lookups (not encoded) from its orders, exactly as placing them built them (a state
    /// snapshot, see `state/snapshot.rs`). Errors: an order filed under another id or market than its own (no
    /// command sequence produces one; the lookups would point at the wrong order).
    pub(crate) fn rebuild_derived(&mut self) -> Result<(), String> {
        for (market_id, book) in &mut self.books {
            let misfiled =
                book.orders.iter().find(|(id, order)| order.id != **id || order.market_id != *market_id);
            if let Some((id, _)) = misfiled {
                return Err(format!("order {id} is filed under another id or market than its own"));
            }
            book.index = BookIndex::of(&book.orders);
        }
        Ok(())
    }

    /// The order escrow account holds exactly the open orders' escrows, per asset, and every book's lookups
    /// match its orders.
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
            if book.index != BookIndex::of(&book.orders) {
                return Err(format!("the order lookups of market {market_id} differ from its orders"));
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

/// The oracle's price of a market's base asset in its quote asset, the reference price of a market that has
/// not cleared yet (decisions §13): USD per unit of each asset (TFT and TFP, backed 1:1 by locked TFT, at the
/// oracle's `tft_usd`; USDC at 1), base over quote. `None` when the oracle has no valid price or an asset has
/// none (CC never trades on the exchange).
fn oracle_reference(env: &Env<'_>, oracle: &Oracle, spec: &MarketSpec) -> Option<Price> {
    let usd = |asset: Asset| -> Option<Price> {
        match asset {
            Asset::Tft | Asset::Tfp => oracle.effective(PriceFeed::TftUsd, env.params, env.now).ok(),
            Asset::Usdc => Some(Price::from_atto(Price::scale())),
            Asset::Cc => None,
        }
    };
    let (base, quote) = (usd(spec.base)?, usd(spec.quote)?);
    let atto = tfeco_money::mul_div(base.atto(), Price::scale(), quote.atto(), tfeco_money::Rounding::Down)?;
    Some(Price::from_atto(atto)).filter(|price| !price.is_zero())
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
    let unfilled = order.quantity.units() > fill.filled.units();
    let expired = (unfilled && batch >= order.expires_after_batch)
        .then(|| Event::OrderExpired { order_id: order.id, refunded: Amount::from_units(refund) });
    Settled { fill: published, rest: (order.id, rest, keep), expired }
}

/// Refunds the escrow of orders whose last batch closed without a clear, one `order_expired` event each.
fn refund_expired(ledger: &mut Ledger, spec: &MarketSpec, expired: &[OrderRecord], events: &mut Vec<Event>) {
    for order in expired {
        let refund = order.escrow;
        if refund.is_positive() {
            let to = ledger.user_slot(&order.owner).expect("order owners are registered");
            let asset = spec.escrow_asset(order.side);
            let posting =
                Posting::Transfer { asset, from: ESCROW, to, units: refund.units(), revenue: false };
            ledger.apply(&[posting]).expect("an open order's escrow is held in escrow.orders");
        }
        events.push(Event::OrderExpired { order_id: order.id, refunded: refund });
    }
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
