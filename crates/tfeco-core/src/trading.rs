//! The in-wallet exchange (spec `decisions.md` §13): markets of attested assets, prefunded sealed limit
//! orders, and frequent batch auctions cleared by `Tick` every `batch_interval_s` at one uniform price (the
//! pure rule in [`crate::exchange`]). Anti-bot rules: no cancel or reduction inside the lock window before a
//! batch closes (price improvements allowed), at most `max_orders_per_account_per_batch` new orders per
//! account per batch, a minimum order size, and an optional identity requirement per market.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Price};

use crate::event::Event;
use crate::exchange::{clear_batch, order_escrow, Order, Side};
use crate::ids::{AccountKey, SystemAccount};
use crate::ledger::{Posting, Slot};
use crate::rejection::Rejection;
use crate::state::State;

/// A market's definition (registered at genesis or by a guardian-approved parameter change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Id, unique.
    pub id: u32,
    /// The traded asset (e.g. TFT).
    pub base: Asset,
    /// The pricing asset (e.g. USDC); prices are quote per whole base token.
    pub quote: Asset,
    /// Seconds between batch clears (default 10).
    pub batch_interval_s: i64,
    /// Seconds before a clear in which orders cannot be cancelled or reduced (default 2).
    pub lock_window_s: i64,
    /// New orders one account may place per batch (default 10).
    pub max_orders_per_account_per_batch: u32,
    /// Smallest order, base units.
    pub min_order_base: Amount<AnyAsset>,
    /// Fee on both sides, in bps of the traded quote (default 0), to the treasury.
    pub fee_bps: Bps,
    /// Only verified accounts may trade.
    pub identity_required: bool,
    /// Batches an order lives by default (a `expires_after_batches` of `None`).
    pub default_order_batches: u32,
}

impl MarketSpec {
    /// The default TFT/USDC market (id 1).
    pub fn tft_usdc() -> Self {
        MarketSpec {
            id: 1,
            base: Asset::Tft,
            quote: Asset::Usdc,
            batch_interval_s: 10,
            lock_window_s: 2,
            max_orders_per_account_per_batch: 10,
            min_order_base: Amount::from_units(10_000_000),
            fee_bps: Bps::new(0).expect("zero"),
            identity_required: false,
            default_order_batches: 360,
        }
    }

    /// `true` when the market's assets may be traded (CC never is: it is not transferable).
    pub fn is_valid(&self) -> bool {
        self.base != self.quote
            && self.base != Asset::Cc
            && self.quote != Asset::Cc
            && self.batch_interval_s > 0
            && self.lock_window_s >= 0
            && self.lock_window_s < self.batch_interval_s
            && self.max_orders_per_account_per_batch > 0
            && self.min_order_base.units() > 0
            && self.default_order_batches > 0
    }
}

/// An open order (sealed: only its owner sees it before the clear).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderRecord {
    /// Id.
    pub id: u64,
    /// Market.
    pub market_id: u32,
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
    pub order_id: u64,
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
    pub orders: BTreeMap<u64, OrderRecord>,
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
    pub(crate) books: BTreeMap<u32, MarketBook>,
    pub(crate) verified: BTreeSet<AccountKey>,
    pub(crate) next_order_id: u64,
}

impl Exchange {
    /// Books by market id.
    pub fn books(&self) -> &BTreeMap<u32, MarketBook> {
        &self.books
    }
    /// `true` when the account passed identity verification.
    pub fn is_verified(&self, account: &AccountKey) -> bool {
        self.verified.contains(account)
    }
}

/// The unfilled rest of an order and the escrow it keeps, from the `held` units left after this batch's fill.
/// A sell keeps its rest of base. A buy keeps `ceil(rest * limit)` plus its fee; because the fills were charged
/// with their own rounding, `held` can fall a unit or two short of that, and then the rest shrinks to the
/// largest quantity its escrow still covers (at most a few base units less), so a later fill always settles
/// within the escrow. A rest below the market minimum ends the order.
fn rest_escrow(side: Side, rest: i128, limit: Price, held: i128, spec: &MarketSpec) -> (i128, i128) {
    let cost = |quantity: i128| {
        let order = Order { id: 0, side, quantity: Amount::from_units(quantity), limit_price: limit };
        order_escrow::<AnyAsset, AnyAsset>(&order, spec.fee_bps)
            .map(|e| if side == Side::Buy { e.quote.units() } else { e.base.units() })
            .unwrap_or(i128::MAX)
    };
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
            quantity -= 1;
            needed = cost(quantity);
        }
    }
    if quantity < spec.min_order_base.units() || needed > held {
        return (0, 0);
    }
    (quantity, needed)
}

/// Batches kept per market in the state.
const HISTORY: usize = 100;

impl State {
    fn market_spec(&self, market_id: u32) -> Result<&MarketSpec, Rejection> {
        self.params.markets.iter().find(|m| m.id == market_id).ok_or(Rejection::MarketNotFound)
    }

    /// The book of a market, created on first use (markets registered by governance get one lazily).
    fn book_mut(&mut self, market_id: u32) -> &mut MarketBook {
        let now = self.now;
        let interval =
            self.params.markets.iter().find(|m| m.id == market_id).map_or(10, |m| m.batch_interval_s);
        self.exchange.books.entry(market_id).or_insert_with(|| MarketBook {
            orders: BTreeMap::new(),
            batch: 1,
            next_clear_at: now + interval,
            last_price: None,
            history: VecDeque::new(),
            placed_this_batch: BTreeMap::new(),
        })
    }

    fn in_order_lock_window(&self, market_id: u32, spec: &MarketSpec) -> bool {
        self.exchange.books.get(&market_id).is_some_and(|b| self.now >= b.next_clear_at - spec.lock_window_s)
    }

    /// `PlaceOrder`: escrows the order's funds (sells: the base; buys: `ceil(qty * limit)` plus the fee).
    pub(crate) fn apply_place_order(
        &mut self,
        owner: AccountKey,
        market_id: u32,
        side: Side,
        quantity: Amount<AnyAsset>,
        limit_price: Price,
        expires_after_batches: Option<u32>,
    ) -> Result<Vec<Event>, Rejection> {
        let spec = self.market_spec(market_id)?.clone();
        if spec.identity_required && !self.exchange.verified.contains(&owner) {
            return Err(Rejection::IdentityRequired);
        }
        if quantity < spec.min_order_base {
            return Err(Rejection::OrderTooSmall { min: spec.min_order_base });
        }
        if limit_price.is_zero() {
            return Err(Rejection::PriceInvalid {
                reason: "limit price must be greater than zero".to_owned(),
            });
        }
        let placed = self
            .exchange
            .books
            .get(&market_id)
            .and_then(|b| b.placed_this_batch.get(&owner))
            .copied()
            .unwrap_or(0);
        if placed >= spec.max_orders_per_account_per_batch {
            return Err(Rejection::LimitExceeded {
                what: "orders per account per batch".to_owned(),
                limit: u64::from(spec.max_orders_per_account_per_batch),
            });
        }
        let order = Order { id: 0, side, quantity, limit_price };
        let escrow =
            order_escrow::<AnyAsset, AnyAsset>(&order, spec.fee_bps).map_err(|_| Rejection::Overflow)?;
        let (asset, units) = match side {
            Side::Sell => (spec.base, escrow.base.units()),
            Side::Buy => (spec.quote, escrow.quote.units()),
        };
        let from = self.ledger.slot_of(&owner).ok_or(Rejection::AccountNotFound { account: owner })?;
        let plan = [Posting::Transfer {
            asset,
            from,
            to: Slot::System(SystemAccount::EscrowOrders),
            units,
            revenue: false,
        }];
        self.ledger.validate(&plan)?;
        self.ledger.commit(&plan);
        self.exchange.next_order_id += 1;
        let id = self.exchange.next_order_id;
        let batches = u64::from(expires_after_batches.unwrap_or(spec.default_order_batches).max(1));
        let book = self.book_mut(market_id);
        let batch = book.batch;
        *book.placed_this_batch.entry(owner).or_default() += 1;
        book.orders.insert(
            id,
            OrderRecord {
                id,
                market_id,
                owner,
                side,
                quantity,
                limit_price,
                escrow: Amount::from_units(units),
                placed_in_batch: batch,
                expires_after_batch: batch + batches - 1,
            },
        );
        Ok(vec![Event::OrderPlaced { order_id: id, market_id, batch, escrow: Amount::from_units(units) }])
    }

    fn owned_order(&self, owner: AccountKey, order_id: u64) -> Result<&OrderRecord, Rejection> {
        let order = self
            .exchange
            .books
            .values()
            .find_map(|b| b.orders.get(&order_id))
            .ok_or(Rejection::OrderNotFound)?;
        if order.owner != owner {
            return Err(Rejection::NotOwner);
        }
        Ok(order)
    }

    fn refund_order_escrow(&mut self, order: &OrderRecord, units: i128) {
        if units <= 0 {
            return;
        }
        let spec = self.market_spec(order.market_id).expect("orders belong to registered markets").clone();
        let asset = match order.side {
            Side::Sell => spec.base,
            Side::Buy => spec.quote,
        };
        let to = self.ledger.slot_of(&order.owner).expect("order owners are registered");
        let plan = [Posting::Transfer {
            asset,
            from: Slot::System(SystemAccount::EscrowOrders),
            to,
            units,
            revenue: false,
        }];
        self.ledger.validate(&plan).expect("the escrow holds every open order's funds");
        self.ledger.commit(&plan);
    }

    /// `CancelOrder`: refused inside the lock window; refunds the escrow.
    pub(crate) fn apply_cancel_order(
        &mut self,
        owner: AccountKey,
        order_id: u64,
    ) -> Result<Vec<Event>, Rejection> {
        let order = self.owned_order(owner, order_id)?.clone();
        let spec = self.market_spec(order.market_id)?.clone();
        if self.in_order_lock_window(order.market_id, &spec) {
            return Err(Rejection::OrderLocked);
        }
        self.exchange.books.get_mut(&order.market_id).expect("order's book").orders.remove(&order_id);
        self.refund_order_escrow(&order, order.escrow.units());
        Ok(vec![Event::OrderCancelled { order_id, refunded: order.escrow }])
    }

    /// `AmendOrder`: a new limit and quantity; inside the lock window only improvements (a buy's higher or a
    /// sell's lower limit, no smaller quantity). The escrow is adjusted.
    pub(crate) fn apply_amend_order(
        &mut self,
        owner: AccountKey,
        order_id: u64,
        quantity: Amount<AnyAsset>,
        limit_price: Price,
    ) -> Result<Vec<Event>, Rejection> {
        let order = self.owned_order(owner, order_id)?.clone();
        let spec = self.market_spec(order.market_id)?.clone();
        if quantity < spec.min_order_base {
            return Err(Rejection::OrderTooSmall { min: spec.min_order_base });
        }
        if limit_price.is_zero() {
            return Err(Rejection::PriceInvalid {
                reason: "limit price must be greater than zero".to_owned(),
            });
        }
        if self.in_order_lock_window(order.market_id, &spec) {
            let improves = match order.side {
                Side::Buy => limit_price >= order.limit_price,
                Side::Sell => limit_price <= order.limit_price,
            };
            if !improves || quantity < order.quantity {
                return Err(Rejection::OrderLocked);
            }
        }
        let new = Order { id: 0, side: order.side, quantity, limit_price };
        let escrow =
            order_escrow::<AnyAsset, AnyAsset>(&new, spec.fee_bps).map_err(|_| Rejection::Overflow)?;
        let needed = match order.side {
            Side::Sell => escrow.base.units(),
            Side::Buy => escrow.quote.units(),
        };
        let delta = needed - order.escrow.units();
        if delta > 0 {
            let asset = if order.side == Side::Sell { spec.base } else { spec.quote };
            let from = self.ledger.slot_of(&owner).ok_or(Rejection::AccountNotFound { account: owner })?;
            let plan = [Posting::Transfer {
                asset,
                from,
                to: Slot::System(SystemAccount::EscrowOrders),
                units: delta,
                revenue: false,
            }];
            self.ledger.validate(&plan)?;
            self.ledger.commit(&plan);
        } else {
            self.refund_order_escrow(&order, -delta);
        }
        let record = self
            .exchange
            .books
            .get_mut(&order.market_id)
            .expect("book")
            .orders
            .get_mut(&order_id)
            .expect("order");
        record.quantity = quantity;
        record.limit_price = limit_price;
        record.escrow = Amount::from_units(needed);
        Ok(vec![Event::OrderAmended { order_id, escrow: Amount::from_units(needed) }])
    }

    /// `SetVerified`: the operator (identity provider) marks an account verified or not.
    pub(crate) fn apply_set_verified(
        &mut self,
        signer: AccountKey,
        account: AccountKey,
        verified: bool,
    ) -> Result<Vec<Event>, Rejection> {
        if signer != self.params.operator {
            return Err(Rejection::NotAuthorized { role: "operator".to_owned() });
        }
        if self.ledger.account(&account).is_none() {
            return Err(Rejection::AccountNotFound { account });
        }
        if verified {
            self.exchange.verified.insert(account);
        } else {
            self.exchange.verified.remove(&account);
        }
        Ok(vec![Event::AccountVerified { account, verified }])
    }

    /// Clears every market whose batch time has come (called by `Tick`).
    pub(crate) fn clear_batches(&mut self, events: &mut Vec<Event>) {
        let specs = self.params.markets.clone();
        for spec in specs {
            self.book_mut(spec.id);
            while self.exchange.books[&spec.id].next_clear_at <= self.now {
                self.clear_market(&spec, events);
                let book = self.exchange.books.get_mut(&spec.id).expect("created above");
                book.batch += 1;
                book.next_clear_at += spec.batch_interval_s;
                book.placed_this_batch.clear();
                if book.orders.is_empty() && book.next_clear_at <= self.now {
                    // Skip empty batches in one step after a long gap between ticks.
                    let missed = (self.now - book.next_clear_at) / spec.batch_interval_s + 1;
                    book.batch += missed as u64;
                    book.next_clear_at += missed * spec.batch_interval_s;
                }
            }
        }
    }

    fn clear_market(&mut self, spec: &MarketSpec, events: &mut Vec<Event>) {
        let book = &self.exchange.books[&spec.id];
        let batch = book.batch;
        // The pure rule breaks exact ties (a pro-rata remainder unit) by order id. Ids follow arrival, so the
        // batch is cleared under ids drawn from a hash of (market, batch, owner, side, quantity, limit):
        // arrival order gives no edge, and the result stays deterministic.
        let mut real_id: BTreeMap<u64, u64> = BTreeMap::new();
        let orders: Vec<Order<AnyAsset>> = book
            .orders
            .values()
            .map(|o| {
                let mut hasher = blake3::Hasher::new();
                hasher.update(&spec.id.to_le_bytes());
                hasher.update(&batch.to_le_bytes());
                // The order's content, not its id: equal orders of different owners in either arrival order
                // draw the same tie ids.
                hasher.update(o.owner.as_bytes());
                hasher.update(&[u8::from(o.side == Side::Buy)]);
                hasher.update(&o.quantity.units().to_le_bytes());
                hasher.update(&o.limit_price.atto().to_le_bytes());
                let bytes: [u8; 8] = hasher.finalize().as_bytes()[..8].try_into().expect("8 bytes");
                let mut tie_id = u64::from_le_bytes(bytes);
                while real_id.contains_key(&tie_id) {
                    tie_id = tie_id.wrapping_add(1);
                }
                real_id.insert(tie_id, o.id);
                Order { id: tie_id, side: o.side, quantity: o.quantity, limit_price: o.limit_price }
            })
            .collect();
        let n_orders = orders.len() as u32;
        let outcome = match clear_batch::<AnyAsset, AnyAsset>(&orders, book.last_price, spec.fee_bps) {
            Ok(outcome) => outcome,
            Err(_) => return,
        };
        let escrow = Slot::System(SystemAccount::EscrowOrders);
        let treasury = Slot::System(SystemAccount::Treasury);
        let mut plan = Vec::new();
        let mut fills = Vec::new();
        let mut remaining: Vec<(u64, i128, i128)> = Vec::new();
        for fill in &outcome.fills {
            let order_id = real_id[&fill.id];
            let order = &self.exchange.books[&spec.id].orders[&order_id];
            let owner = self.ledger.slot_of(&order.owner).expect("order owners are registered");
            let settled = fill.settled_quote().units();
            if fill.filled.is_positive() {
                match fill.side {
                    Side::Buy => plan.push(Posting::Transfer {
                        asset: spec.base,
                        from: escrow,
                        to: owner,
                        units: fill.filled.units(),
                        revenue: false,
                    }),
                    Side::Sell => {
                        if settled > 0 {
                            plan.push(Posting::Transfer {
                                asset: spec.quote,
                                from: escrow,
                                to: owner,
                                units: settled,
                                revenue: false,
                            });
                        }
                    }
                }
                fills.push(OrderFillRecord {
                    order_id,
                    owner: order.owner,
                    side: fill.side,
                    filled: fill.filled,
                    quote: Amount::from_units(settled),
                    fee: fill.fee,
                });
            }
            // What stays escrowed for the unfilled rest (buys: the rest at the limit plus its fee).
            let rest = order.quantity.units() - fill.filled.units();
            let used = match fill.side {
                Side::Buy => settled,
                Side::Sell => fill.filled.units(),
            };
            let held = order.escrow.units() - used;
            let (rest, keep) = if rest <= 0 || batch >= order.expires_after_batch {
                (0, 0)
            } else {
                rest_escrow(fill.side, rest, order.limit_price, held, spec)
            };
            let refund = held - keep;
            if refund > 0 {
                let asset = if fill.side == Side::Buy { spec.quote } else { spec.base };
                plan.push(Posting::Transfer {
                    asset,
                    from: escrow,
                    to: owner,
                    units: refund,
                    revenue: false,
                });
            }
            remaining.push((order_id, rest, keep));
        }
        let to_treasury = outcome.fees_total.units() + outcome.quote_dust.units();
        if to_treasury > 0 {
            plan.push(Posting::Transfer {
                asset: spec.quote,
                from: escrow,
                to: treasury,
                units: to_treasury,
                revenue: false,
            });
        }
        self.ledger.validate(&plan).expect("a batch settles within the escrowed funds");
        self.ledger.commit(&plan);
        let book = self.exchange.books.get_mut(&spec.id).expect("book");
        for (order_id, rest, keep) in remaining {
            if keep > 0 {
                let order = book.orders.get_mut(&order_id).expect("order");
                order.quantity = Amount::from_units(rest);
                order.escrow = Amount::from_units(keep);
            } else {
                book.orders.remove(&order_id);
            }
        }
        if outcome.price.is_some() {
            book.last_price = outcome.price;
        }
        let mut levels: BTreeMap<Price, (i128, i128)> = BTreeMap::new();
        for order in book.orders.values() {
            let level = levels.entry(order.limit_price).or_default();
            match order.side {
                Side::Buy => level.0 += order.quantity.units(),
                Side::Sell => level.1 += order.quantity.units(),
            }
        }
        let depth =
            levels.into_iter().map(|(p, (b, s))| (p, Amount::from_units(b), Amount::from_units(s))).collect();
        events.push(Event::BatchCleared {
            market_id: spec.id,
            batch,
            price: outcome.price,
            volume: outcome.volume,
            imbalance: outcome.imbalance,
        });
        book.history.push_back(BatchRecord {
            batch,
            cleared_at: self.now,
            price: outcome.price,
            volume: outcome.volume,
            imbalance: outcome.imbalance,
            orders: n_orders,
            fills,
            depth,
        });
        while book.history.len() > HISTORY {
            book.history.pop_front();
        }
    }

    /// The order escrow account holds exactly the open orders' escrows, per asset.
    pub(crate) fn check_orders(&self) -> Result<(), String> {
        let mut expected = [0i128; 4];
        for (market_id, book) in &self.exchange.books {
            let Some(spec) = self.params.markets.iter().find(|m| m.id == *market_id) else {
                return Err(format!("book of unknown market {market_id}"));
            };
            for order in book.orders.values() {
                let asset = if order.side == Side::Sell { spec.base } else { spec.quote };
                expected[asset.index()] += order.escrow.units();
            }
        }
        for asset in Asset::ALL {
            let held =
                self.ledger.balance(crate::ids::AccountRef::System(SystemAccount::EscrowOrders), asset);
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
