//! The in-wallet exchange's batch clearing (spec `decisions.md` §13): one frequent-batch-auction clear
//! (Budish, Cramton and Shim, 2015) of sealed, prefunded limit orders at one uniform price.
//!
//! Pure functions only: [`clear_batch`] takes the orders of one batch and returns every order's fill and
//! settlement amounts; [`order_escrow`] says what an order must lock at submission; [`parse_book_csv`]
//! reads the offline CSV book of `tfeco exchange clear`. Nothing here touches the ledger: the state machine
//! escrows, settles, refunds and routes `quote_dust` and fees from the returned numbers.
//!
//! # Units
//!
//! A market trades a *base* asset (e.g. TFT) against a *quote* asset (e.g. USDC). Quantities are
//! [`Amount<B>`] in base units of the base asset (10^-7 token); settlement amounts are [`Amount<Q>`] in
//! base units of the quote asset; a limit or clearing price is a [`Price`]: quote per whole base token,
//! 18 fractional digits. Both assets have 7 decimals, so `quote_units = base_units * price.atto() / 10^18`,
//! always computed with [`mul_div`] and an explicit rounding. The type parameters `B` and `Q` are only tags:
//! use `<Tft, Usdc>` for a market known at compile time, or `<AnyAsset, AnyAsset>` when the market's
//! assets are data (markets registered by governance); the raw units are the same.
//!
//! # The rule ([`clear_batch`])
//!
//! 1. Candidate prices are the distinct limit prices of the batch. At a candidate `p`:
//!    `demand(p)` = Σ quantity of buys with limit >= `p`,
//!    `supply(p)` = Σ quantity of sells with limit <= `p`,
//!    matched `volume(p)` = min(demand, supply), `imbalance(p)` = |demand − supply|.
//! 2. The clearing price (the uniform-price rule of continuous-auction exchanges such as Xetra): keep the
//!    candidates with the greatest volume, then those with the smallest imbalance. If one remains, it is the
//!    price. If several remain, the *reference price* (the caller's: the node passes the market's last
//!    clearing price, else the oracle's price of the base asset) is the price when it lies between the
//!    lowest and the highest of them (inclusive), even if it is no limit price of the book; otherwise the
//!    remaining candidate closest to it. Without a reference price, the **lowest** remaining candidate (a
//!    deterministic rule that favours buyers). Every price from the lowest to the highest remaining
//!    candidate matches the same greatest volume (demand only falls and supply only rises with the price),
//!    so the reference price never loses volume. A batch whose best volume is 0 does not trade
//!    (`price: None`). Example: buy 100 @ 0.013, sell 100 @ 0.010, reference 0.0125: both candidates match
//!    100 with no imbalance, so the price is 0.0125.
//! 3. Every trade of the batch is at that one price `p`. The *short* side (the side whose quantity at `p`
//!    equals the volume) fills fully: every buy with limit >= `p`, or every sell with limit <= `p`. On the
//!    *long* side, orders fill in price priority by whole price levels (buys from the highest limit, sells
//!    from the lowest); the marginal level, where the cumulated quantity first reaches the volume, shares
//!    what is left pro rata to quantity: each order gets `floor(q * left / level_total)`, then the base
//!    units still missing go one by one to the largest remainders, ties to the lower id. The marginal
//!    level is the level at `p` when the long side has orders there, else the first level past it (e.g. one
//!    buy of 10 at 5 and one sell of 5 at 3: volume 5 and imbalance 5 at both 3 and 5; without a reference
//!    `p` = 3 and the buy at 5 is the marginal level). Matched base is exactly equal on both sides.
//! 4. Settlement at `p` (spec `decisions.md` §15: charges up, payouts down): a buyer's `quote` is
//!    `ceil(filled * p)`, a seller's `quote` is `floor(filled * p)`. The difference over the batch, Σ buyer
//!    quote − Σ seller quote >= 0, is `quote_dust` for a sink the state machine names (the treasury).
//! 5. Fees: `fee_bps` (a [`Bps`], 0 = [`NO_FEE`]) is charged to both sides in the quote asset:
//!    `fee = ceil(quote * fee_bps / 10_000)` of the order's own `quote`. A buyer pays `quote + fee`; a seller
//!    receives `quote − fee` (never negative since `fee_bps <= 10_000`).
//! 6. Escrow and refunds ([`order_escrow`]): a buy locks `ceil(quantity * limit)` quote plus the fee on that
//!    (`ceil(escrow * fee_bps / 10_000)`) and gets back `escrow − quote − fee` (never negative, because
//!    `filled <= quantity` and `p <= limit`); a sell locks `quantity` base and gets back `quantity − filled`.
//!
//! Conservation, exactly: Σ buyer (`quote + fee`) = Σ seller (`quote − fee`) + `quote_dust` + `fees_total`,
//! and Σ buyer `filled` = Σ seller `filled` = `volume`.
//!
//! # Determinism and cost
//!
//! The outcome depends only on the set of orders, never on their order in the slice: fills come out in
//! ascending id and every tie is broken by price or id. O(n log n): one sort by id (duplicate check and
//! output order), one sort by price (levels and prefix sums), linear scans, and a sort of the marginal level
//! only. No hashing, no floats.

use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use tfeco_money::{mul_div, Amount, AnyAsset, Bps, Price, Rounding};

pub use crate::types::Side;

/// No trading fee (the default of `fee_bps`, spec `decisions.md` §13).
pub const NO_FEE: Bps = match Bps::new(0) {
    Some(bps) => bps,
    None => panic!("0 bps is a valid share"),
};

/// A sealed, prefunded limit order of one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Order<B> {
    /// Order id, unique within the batch. Breaks pro-rata remainder ties (the lower id first).
    pub id: u64,
    /// Buy or sell.
    pub side: Side,
    /// Base units of the base asset to buy or sell; must be positive.
    pub quantity: Amount<B>,
    /// Quote per whole base token: the most a buyer pays, the least a seller accepts; must be positive.
    pub limit_price: Price,
}

/// What an order locks at submission ([`order_escrow`]): base for a sell, quote for a buy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Escrow<B, Q> {
    /// Base locked: the quantity of a sell, 0 for a buy.
    pub base: Amount<B>,
    /// Quote locked: `ceil(quantity * limit)` plus the fee on it for a buy, 0 for a sell.
    pub quote: Amount<Q>,
}

/// One order's result of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct OrderFill<B, Q> {
    /// The order id.
    pub id: u64,
    /// The order side.
    pub side: Side,
    /// Base units matched (0 ..= quantity): received by a buyer, delivered by a seller.
    pub filled: Amount<B>,
    /// Quote at the clearing price before fees: `ceil(filled * p)` for a buy (paid), `floor(filled * p)`
    /// for a sell (earned). 0 when not filled.
    pub quote: Amount<Q>,
    /// Fee in quote: `ceil(quote * fee_bps / 10_000)`, on either side.
    pub fee: Amount<Q>,
    /// Base returned to the owner: `quantity − filled` for a sell, 0 for a buy.
    pub refund_base: Amount<B>,
    /// Quote returned to the owner: `escrow − quote − fee` for a buy, 0 for a sell.
    pub refund_quote: Amount<Q>,
}

impl<B, Q> OrderFill<B, Q> {
    /// The quote that moves for this order: what a buyer pays in total (`quote + fee`, taken from its
    /// escrow) or what a seller receives (`quote − fee`).
    ///
    /// # Panics
    /// Never for a fill of [`clear_batch`]: a buyer's `quote + fee` is at most its escrow (an `i128`), and a
    /// seller's `0 <= fee <= quote`. Only a hand-built fill outside those bounds can panic.
    pub fn settled_quote(&self) -> Amount<Q> {
        let (quote, fee) = (self.quote.units(), self.fee.units());
        Amount::from_units(match self.side {
            Side::Buy => quote.checked_add(fee).expect("a buyer's quote + fee is at most its escrow"),
            Side::Sell => quote.checked_sub(fee).expect("a seller's fee is between 0 and its quote"),
        })
    }
}

/// The published result of one batch (spec `decisions.md` §13: clearing price, volume, imbalance, and each
/// order's fill).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct BatchOutcome<B, Q> {
    /// The uniform clearing price (quote per whole base token); `None` when nothing crosses.
    pub price: Option<Price>,
    /// Base matched: Σ buy fills = Σ sell fills = min(demand, supply). 0 without a trade.
    pub volume: Amount<B>,
    /// Σ quantity of buys with limit >= price (0 without a trade).
    pub demand: Amount<B>,
    /// Σ quantity of sells with limit <= price (0 without a trade).
    pub supply: Amount<B>,
    /// |demand − supply| (0 without a trade).
    pub imbalance: Amount<B>,
    /// The long side, whose marginal price level was shared pro rata; `None` when demand equals supply
    /// or without a trade.
    pub rationed: Option<Side>,
    /// Σ buyer `quote` (before fees): the quote value of the batch.
    pub quote_volume: Amount<Q>,
    /// Rounding dust: Σ buyer `quote` − Σ seller `quote` (>= 0), for the sink the state machine names.
    pub quote_dust: Amount<Q>,
    /// Σ fees of both sides.
    pub fees_total: Amount<Q>,
    /// One entry per order, ascending id, unfilled orders included (their refunds are the whole escrow).
    pub fills: Vec<OrderFill<B, Q>>,
}

/// Why a batch (or an order) cannot be cleared. Checks run in this order, so the error never depends on the
/// order of the slice: duplicate ids (the lowest duplicated id); each order's quantity then price, in
/// ascending id; the side totals of quantity; then, in ascending id, each order's escrow and settlement
/// amounts and the running quote totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum ExchangeError {
    /// Two orders of the batch share this id.
    DuplicateId {
        /// The id.
        id: u64,
    },
    /// The quantity is zero or negative.
    QuantityNotPositive {
        /// The order.
        id: u64,
    },
    /// The limit price is zero.
    ZeroPrice {
        /// The order.
        id: u64,
    },
    /// An amount does not fit `i128` base units: the escrow of order `id`, or a batch total when `id` is
    /// `None`.
    Overflow {
        /// The order, when one order is the cause.
        id: Option<u64>,
    },
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeError::DuplicateId { id } => write!(f, "duplicate order id {id}"),
            ExchangeError::QuantityNotPositive { id } => {
                write!(f, "order {id}: the quantity must be positive")
            }
            ExchangeError::ZeroPrice { id } => write!(f, "order {id}: the limit price must be positive"),
            ExchangeError::Overflow { id: Some(id) } => write!(f, "order {id}: amount too large"),
            ExchangeError::Overflow { id: None } => write!(f, "batch totals too large"),
        }
    }
}

impl std::error::Error for ExchangeError {}

/// [`mul_div`] with a fast path when `a * b` fits in `u128` (the common case); the same exact result.
fn mul_div_fast(a: u128, b: u128, c: u128, rounding: Rounding) -> Option<u128> {
    // `None` when the product overflows or `c == 0`: the general routine decides.
    let fast = a.checked_mul(b).and_then(|product| Some((product.checked_div(c)?, product.checked_rem(c)?)));
    match fast {
        Some((quotient, remainder)) => {
            // An inexact quotient has `c >= 2`, so it is at most `u128::MAX / 2`: adding 1 never fails.
            quotient.checked_add(u128::from(remainder != 0 && rounding == Rounding::Up))
        }
        None => mul_div(a, b, c, rounding),
    }
}

/// `base_units * price / 10^18` in quote base units, rounded as asked; `None` if it does not fit `i128`.
/// `base_units` must be non-negative.
fn quote_of(base_units: i128, price: u128, rounding: Rounding) -> Option<i128> {
    let base = u128::try_from(base_units).ok()?;
    mul_div_fast(base, price, Price::scale(), rounding).and_then(|q| i128::try_from(q).ok())
}

/// `ceil(quote * fee / 10_000)` for a non-negative `quote`; never more than `quote`.
fn fee_of(quote: i128, fee: Bps) -> i128 {
    let share = mul_div_fast(quote.unsigned_abs(), u128::from(fee.get()), 10_000, Rounding::Up);
    i128::try_from(share.expect("at most 100 % of an i128")).expect("at most 100 % of an i128")
}

/// The shape checks of one order: positive quantity, then positive price.
fn check_shape<B>(order: &Order<B>) -> Result<(), ExchangeError> {
    if order.quantity.units() <= 0 {
        return Err(ExchangeError::QuantityNotPositive { id: order.id });
    }
    if order.limit_price.is_zero() {
        return Err(ExchangeError::ZeroPrice { id: order.id });
    }
    Ok(())
}

/// What `order` must lock at submission, with the fee parameter of its market: a sell locks its `quantity`
/// of base; a buy locks `ceil(quantity * limit_price)` of quote plus `ceil(that * fee_bps / 10_000)`, enough
/// for any fill at any clearing price <= its limit. Validates the order's shape.
///
/// Errors: [`ExchangeError::QuantityNotPositive`], [`ExchangeError::ZeroPrice`], and
/// [`ExchangeError::Overflow`] when the buy escrow does not fit `i128`.
pub fn order_escrow<B, Q>(order: &Order<B>, fee: Bps) -> Result<Escrow<B, Q>, ExchangeError> {
    check_shape(order)?;
    let (id, quantity) = (order.id, order.quantity.units());
    match order.side {
        Side::Sell => Ok(Escrow { base: order.quantity, quote: Amount::ZERO }),
        Side::Buy => {
            let overflow = ExchangeError::Overflow { id: Some(id) };
            let notional = quote_of(quantity, order.limit_price.atto(), Rounding::Up).ok_or(overflow)?;
            let total = notional.checked_add(fee_of(notional, fee)).ok_or(overflow)?;
            Ok(Escrow { base: Amount::ZERO, quote: Amount::from_units(total) })
        }
    }
}

/// Aggregated quantities at one distinct limit price.
struct Level {
    price: u128,
    buy: i128,
    sell: i128,
}

/// How one side fills: orders strictly better than `price` fill fully, orders at `price` share `left` of
/// `total` pro rata (fully when `left == total`), worse orders get nothing.
#[derive(Clone, Copy)]
struct SideRule {
    price: u128,
    left: i128,
    total: i128,
}

/// Clears one batch (spec `decisions.md` §13; the rule, units, rounding and fees are in the
/// [module documentation](self)).
///
/// - `orders`: the batch, in any order (the result does not depend on it); ids must be unique.
/// - `reference_price`: decides between candidates equal in volume and imbalance (step 2 of the rule): the
///   market's last clearing price, else the oracle's price of the base asset, or `None` (the lowest).
/// - `fee`: fee per side in basis points of the order's quote; [`NO_FEE`] for none.
///
/// Returns the clearing price, volume, demand, supply and imbalance at that price, and one [`OrderFill`]
/// per order in ascending id. Errors: [`ExchangeError`] (checked in its documented order).
pub fn clear_batch<B, Q>(
    orders: &[Order<B>],
    reference_price: Option<Price>,
    fee: Bps,
) -> Result<BatchOutcome<B, Q>, ExchangeError> {
    let (by_id, total_buy) = canonical_order(orders)?;
    let levels = price_levels(orders);
    let Some(best) = clearing_price(&levels, total_buy, reference_price) else {
        return no_trade(orders, &by_id, fee);
    };
    let (buy_rule, sell_rule, rationed) = side_rules(&levels, &best);
    let Candidate { price, volume, imbalance, demand, supply } = best;
    let marginal = match rationed {
        Some(Side::Buy) => pro_rata(orders, Side::Buy, buy_rule),
        Some(Side::Sell) => pro_rata(orders, Side::Sell, sell_rule),
        None => Vec::new(),
    };

    // Fills in ascending id, with settlement amounts and totals.
    let total_overflow = ExchangeError::Overflow { id: None };
    let mut fills = Vec::with_capacity(orders.len());
    let mut next_marginal = marginal.iter();
    let (mut paid, mut received, mut fees_total) = (0i128, 0i128, 0i128);
    let (mut filled_buy, mut filled_sell) = (0i128, 0i128);
    for &(id, index) in &by_id {
        let order = &orders[index];
        let limit = order.limit_price.atto();
        let (rule, better) = match order.side {
            Side::Buy => (buy_rule, limit > buy_rule.price),
            Side::Sell => (sell_rule, limit < sell_rule.price),
        };
        let filled = if better {
            order.quantity.units()
        } else if limit != rule.price {
            0
        } else if rule.left == rule.total {
            order.quantity.units()
        } else {
            let &(marginal_id, share) = next_marginal.next().expect("every marginal order has a share");
            debug_assert_eq!(marginal_id, id);
            share
        };
        let fill = settle_fill::<B, Q>(order, filled, price, fee)?;
        // Every fill is part of the volume, which fits.
        let (sum, filled_total) = match order.side {
            Side::Buy => (&mut paid, &mut filled_buy),
            Side::Sell => (&mut received, &mut filled_sell),
        };
        *sum = sum.checked_add(fill.quote.units()).ok_or(total_overflow)?;
        *filled_total = filled_total.checked_add(filled).expect("the fills of a side add up to the volume");
        fees_total = fees_total.checked_add(fill.fee.units()).ok_or(total_overflow)?;
        fills.push(fill);
    }
    debug_assert_eq!(filled_buy, volume);
    debug_assert_eq!(filled_sell, volume);
    Ok(BatchOutcome {
        price: Some(Price::from_atto(price)),
        volume: Amount::from_units(volume),
        demand: Amount::from_units(demand),
        supply: Amount::from_units(supply),
        imbalance: Amount::from_units(imbalance),
        rationed,
        quote_volume: Amount::from_units(paid),
        // Σ ceil(filled × p) over buys >= Σ floor(filled × p) over sells (same volume), both >= 0.
        quote_dust: Amount::from_units(paid.checked_sub(received).expect("0 <= received <= paid")),
        fees_total: Amount::from_units(fees_total),
        fills,
    })
}

/// The batch in ascending id (`(id, index in orders)`) and the total quantity of its buys, after the
/// checks of [`ExchangeError`]'s order: duplicate ids (the lowest), shapes (the lowest id's), side totals.
fn canonical_order<B>(orders: &[Order<B>]) -> Result<(Vec<(u64, usize)>, i128), ExchangeError> {
    // Canonical order: ascending id. Duplicates are adjacent.
    let mut by_id: Vec<(u64, usize)> = orders.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    by_id.sort_unstable();
    if let Some(pair) = by_id.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(ExchangeError::DuplicateId { id: pair[0].0 });
    }
    // Shapes and side totals in one sequential pass; the reported error is the lowest id's.
    let (mut total_buy, mut total_sell, mut overflow) = (0i128, 0i128, false);
    let mut shape_error: Option<(u64, ExchangeError)> = None;
    for order in orders {
        if let Err(error) = check_shape(order) {
            if shape_error.is_none_or(|(id, _)| order.id < id) {
                shape_error = Some((order.id, error));
            }
            continue;
        }
        let total = match order.side {
            Side::Buy => &mut total_buy,
            Side::Sell => &mut total_sell,
        };
        let (sum, overflowed) = total.overflowing_add(order.quantity.units());
        (*total, overflow) = (sum, overflow | overflowed);
    }
    if let Some((_, error)) = shape_error {
        return Err(error);
    }
    if overflow {
        // Positive terms: the sum overflows whatever their order.
        return Err(ExchangeError::Overflow { id: None });
    }
    Ok((by_id, total_buy))
}

/// Why the partial sums of [`price_levels`], [`clearing_price`], [`figures_at`] and [`marginal_rule`] cannot
/// overflow: each is a partial sum of one side's positive quantities, at most that side's total, which
/// [`canonical_order`] checked to fit `i128`.
const WITHIN_TOTAL: &str = "a partial sum of one side is at most the side total, which fits";

/// The distinct limit prices of a checked batch, ascending, with the buy and sell quantity at each.
fn price_levels<B>(orders: &[Order<B>]) -> Vec<Level> {
    // (price, signed quantity: buys positive, sells negative) sorted by price.
    let mut by_price: Vec<(u128, i128)> = orders
        .iter()
        .map(|o| {
            let quantity = o.quantity.units();
            let signed = match o.side {
                Side::Buy => quantity,
                Side::Sell => quantity.checked_neg().expect("quantities are positive (checked)"),
            };
            (o.limit_price.atto(), signed)
        })
        .collect();
    by_price.sort_unstable_by_key(|&(price, _)| price);
    let mut levels: Vec<Level> = Vec::new();
    for &(price, quantity) in &by_price {
        if levels.last().is_none_or(|level| level.price != price) {
            levels.push(Level { price, buy: 0, sell: 0 });
        }
        let level = levels.last_mut().expect("pushed above");
        if quantity > 0 {
            level.buy = level.buy.checked_add(quantity).expect(WITHIN_TOTAL);
        } else {
            level.sell = level.sell.checked_sub(quantity).expect(WITHIN_TOTAL);
        }
    }
    levels
}

/// A clearing price and its figures at that price.
struct Candidate {
    /// The price, quote atto per whole base token.
    price: u128,
    volume: i128,
    imbalance: i128,
    demand: i128,
    supply: i128,
}

/// The clearing price (step 2 of the rule): among the levels, the greatest volume, then the smallest
/// imbalance; one left is the price, several leave the reference price when it lies between the lowest and
/// the highest of them, else the one closest to it (the lowest without a reference). `None` when the best
/// volume is 0. One pass over the levels, then one for the figures at the price.
fn clearing_price(levels: &[Level], total_buy: i128, reference: Option<Price>) -> Option<Candidate> {
    // (volume, imbalance, lowest and highest level index with them)
    let mut best: Option<(i128, i128, usize, usize)> = None;
    let (mut buys_below, mut sells_through) = (0i128, 0i128);
    for (k, level) in levels.iter().enumerate() {
        sells_through = sells_through.checked_add(level.sell).expect(WITHIN_TOTAL);
        let demand = total_buy.checked_sub(buys_below).expect("buys below a price are part of the total");
        buys_below = buys_below.checked_add(level.buy).expect(WITHIN_TOTAL);
        let volume = demand.min(sells_through);
        // Both are in 0..=i128::MAX: their difference and its absolute value fit.
        let imbalance = demand.checked_sub(sells_through).and_then(i128::checked_abs).expect("both >= 0");
        best = match best {
            Some((v, i, low, _)) if (volume, Reverse(imbalance)) == (v, Reverse(i)) => Some((v, i, low, k)),
            Some((v, i, ..)) if (volume, Reverse(imbalance)) < (v, Reverse(i)) => best,
            _ => Some((volume, imbalance, k, k)),
        };
    }
    let (volume, _, low, high) = best.filter(|b| b.0 > 0)?;
    let (lowest, highest) = (levels[low].price, levels[high].price);
    let price = match reference.map(Price::atto) {
        Some(reference) => reference.clamp(lowest, highest),
        None => lowest,
    };
    let (demand, supply) = figures_at(levels, price);
    // Every price between two levels of the greatest volume matches that volume (demand >= demand at the
    // highest, supply >= supply at the lowest): the figures at `price` keep it.
    debug_assert_eq!(demand.min(supply), volume);
    let imbalance = demand.checked_sub(supply).and_then(i128::checked_abs).expect("both >= 0");
    Some(Candidate { price, volume: demand.min(supply), imbalance, demand, supply })
}

/// `(demand, supply)` at `price`: Σ buys with limit >= `price`, Σ sells with limit <= `price`.
fn figures_at(levels: &[Level], price: u128) -> (i128, i128) {
    levels.iter().fold((0i128, 0i128), |(demand, supply), level| {
        let demand =
            if level.price >= price { demand.checked_add(level.buy).expect(WITHIN_TOTAL) } else { demand };
        let supply =
            if level.price <= price { supply.checked_add(level.sell).expect(WITHIN_TOTAL) } else { supply };
        (demand, supply)
    })
}

/// The side rules at the clearing price and the rationed side: the short (or balanced) side fills fully at
/// the clearing price; the long side's marginal level is where the cumulated quantity, best price first,
/// first reaches the volume. The price need not be a level (a reference price between two levels).
fn side_rules(levels: &[Level], best: &Candidate) -> (SideRule, SideRule, Option<Side>) {
    let price = best.price;
    let at = levels.binary_search_by_key(&price, |level| level.price).ok().map(|k| &levels[k]);
    let (buy, sell) = at.map_or((0, 0), |level| (level.buy, level.sell));
    let buy_rule = SideRule { price, left: buy, total: buy };
    let sell_rule = SideRule { price, left: sell, total: sell };
    match best.demand.cmp(&best.supply) {
        Ordering::Greater => {
            let rule = marginal_rule(levels.iter().rev().map(|l| (l.price, l.buy)), best.volume);
            (rule, sell_rule, Some(Side::Buy))
        }
        Ordering::Less => {
            let rule = marginal_rule(levels.iter().map(|l| (l.price, l.sell)), best.volume);
            (buy_rule, rule, Some(Side::Sell))
        }
        Ordering::Equal => (buy_rule, sell_rule, None),
    }
}

/// The settlement of one order that fills `filled` (`0 ..= quantity`) base units at the clearing `price`
/// (steps 4-6 of the rule). Errors: [`ExchangeError::Overflow`] with the order's id when its escrow or
/// quote does not fit.
fn settle_fill<B, Q>(
    order: &Order<B>,
    filled: i128,
    price: u128,
    fee: Bps,
) -> Result<OrderFill<B, Q>, ExchangeError> {
    let id = order.id;
    let overflow = ExchangeError::Overflow { id: Some(id) };
    Ok(match order.side {
        Side::Buy => {
            let escrow = order_escrow::<B, Q>(order, fee)?.quote.units();
            let quote = quote_of(filled, price, Rounding::Up).ok_or(overflow)?;
            let fee = fee_of(quote, fee);
            // filled <= quantity and price <= limit, so quote + fee <= ceil(quantity × limit) + its fee.
            let refund = escrow
                .checked_sub(quote)
                .and_then(|rest| rest.checked_sub(fee))
                .expect("a buy's quote and fee are at most its escrow");
            OrderFill {
                id,
                side: Side::Buy,
                filled: Amount::from_units(filled),
                quote: Amount::from_units(quote),
                fee: Amount::from_units(fee),
                refund_base: Amount::ZERO,
                refund_quote: Amount::from_units(refund),
            }
        }
        Side::Sell => {
            let quote = quote_of(filled, price, Rounding::Down).ok_or(overflow)?;
            let fee = fee_of(quote, fee);
            let refund = order.quantity.units().checked_sub(filled).expect("0 <= filled <= quantity");
            OrderFill {
                id,
                side: Side::Sell,
                filled: Amount::from_units(filled),
                quote: Amount::from_units(quote),
                fee: Amount::from_units(fee),
                refund_base: Amount::from_units(refund),
                refund_quote: Amount::ZERO,
            }
        }
    })
}

/// The outcome of a batch where nothing crosses: every order refunded in full.
fn no_trade<B, Q>(
    orders: &[Order<B>],
    by_id: &[(u64, usize)],
    fee: Bps,
) -> Result<BatchOutcome<B, Q>, ExchangeError> {
    let mut fills = Vec::with_capacity(orders.len());
    for &(id, index) in by_id {
        let order = &orders[index];
        let escrow = order_escrow::<B, Q>(order, fee)?;
        fills.push(OrderFill {
            id,
            side: order.side,
            filled: Amount::ZERO,
            quote: Amount::ZERO,
            fee: Amount::ZERO,
            refund_base: escrow.base,
            refund_quote: escrow.quote,
        });
    }
    Ok(BatchOutcome {
        price: None,
        volume: Amount::ZERO,
        demand: Amount::ZERO,
        supply: Amount::ZERO,
        imbalance: Amount::ZERO,
        rationed: None,
        quote_volume: Amount::ZERO,
        quote_dust: Amount::ZERO,
        fees_total: Amount::ZERO,
        fills,
    })
}

/// The long side's rule: walks `(price, quantity)` levels from the best price and stops at the level where
/// the cumulated quantity first reaches `volume`. The caller guarantees the side holds more than `volume`.
fn marginal_rule(levels: impl Iterator<Item = (u128, i128)>, volume: i128) -> SideRule {
    // `before` and `reached` are partial sums of the side's quantities, at most its total (an `i128`).
    let mut before = 0i128;
    for (price, quantity) in levels {
        let reached = before.checked_add(quantity).expect(WITHIN_TOTAL);
        if quantity > 0 && reached >= volume {
            // The previous levels stayed below the volume: 0 <= before < volume.
            let left = volume.checked_sub(before).expect("0 <= before < volume");
            return SideRule { price, left, total: quantity };
        }
        before = reached;
    }
    unreachable!("the long side holds more than the volume")
}

/// Pro-rata shares of the marginal level `rule.price` of `side`: `floor(q * left / total)` each, then one
/// base unit more to the largest remainders (ties: lower id) until exactly `left` is shared. Returned in
/// ascending id.
fn pro_rata<B>(orders: &[Order<B>], side: Side, rule: SideRule) -> Vec<(u64, i128)> {
    let (left, total) = (rule.left as u128, rule.total as u128);
    // (id, share, remainder) with remainder = q * left − share * total, exact in wrapping u128 arithmetic
    // because the true value lies in 0..total < 2^127.
    let mut members: Vec<(u64, i128, u128)> = orders
        .iter()
        .filter(|order| order.side == side && order.limit_price.atto() == rule.price)
        .map(|order| {
            let quantity = order.quantity.units() as u128;
            let share =
                mul_div_fast(quantity, left, total, Rounding::Down).expect("a share is at most the quantity");
            let remainder = quantity.wrapping_mul(left).wrapping_sub(share.wrapping_mul(total));
            (order.id, share as i128, remainder)
        })
        .collect();
    // Σ floor(q × left / total) <= left, and each floor is at most its quantity.
    let shared = members
        .iter()
        .try_fold(0i128, |sum, &(_, share, _)| sum.checked_add(share))
        .expect("the shares add up to at most `left`");
    let missing = rule.left.checked_sub(shared).expect("the shares add up to at most `left`");
    let missing = usize::try_from(missing).expect("fewer missing units than members");
    members.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for member in members.iter_mut().take(missing) {
        // A member that gets a unit had a non-zero remainder, so its floor share is below its quantity.
        member.1 = member.1.checked_add(1).expect("a rounded-up share is at most the quantity");
    }
    members.sort_unstable_by_key(|&(id, ..)| id);
    members.into_iter().map(|(id, share, _)| (id, share)).collect()
}

/// One order of a CSV book: its line, its original id text, and the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookEntry {
    /// 1-based line of the CSV.
    pub line: u64,
    /// The id as written in the file.
    pub label: String,
    /// The order; its numeric `id` is described at [`parse_book_csv`].
    pub order: Order<AnyAsset>,
}

/// Why a CSV book was refused (the same error as the exit-auction book's).
pub use crate::rules::exit_auction::BookError;

/// The header a CSV book must start with.
pub const BOOK_HEADER: [&str; 4] = ["id", "side", "quantity", "limit_price"];

/// Parses a CSV book `id,side,quantity,limit_price` (header required; `side` is `buy` or `sell`, any case;
/// `quantity` a decimal amount of the base asset with at most 7 decimals; `limit_price` a decimal price in
/// quote per whole base token with at most 18 decimals; blank lines and lines starting with `#` skipped).
/// Entries come back in file order.
///
/// Ids are text. When every id is a plain decimal `u64` (as the node's order ids), that number is the order
/// id; otherwise each order's id is the rank of its text in byte order (so the pro-rata tie-break "lower id
/// first" means "lower text first", and the result never depends on the line order).
///
/// Errors ([`BookError`], with the line): missing header, wrong column count, empty or duplicate id (the
/// first line is named), unknown side, bad or non-positive quantity or price.
pub fn parse_book_csv(text: &str) -> Result<Vec<BookEntry>, BookError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| BookError { line: 1, message: e.to_string() })?.clone();
    let header_line = header.position().map_or(1, |p| p.line());
    if !header.iter().map(str::to_ascii_lowercase).eq(BOOK_HEADER.iter().map(|h| (*h).to_owned())) {
        return Err(BookError {
            line: header_line,
            message: format!(
                "expected the header {:?}, found {:?}",
                BOOK_HEADER.join(","),
                header.iter().collect::<Vec<_>>().join(",")
            ),
        });
    }
    let mut entries = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = record
            .map_err(|e| BookError { line: e.position().map_or(0, |p| p.line()), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let err = |message: String| BookError { line, message };
        if record.len() != 4 {
            return Err(err(format!(
                "expected 4 columns (id,side,quantity,limit_price), found {}",
                record.len()
            )));
        }
        let label = record[0].to_owned();
        if label.is_empty() {
            return Err(err("empty id".to_owned()));
        }
        if let Some(first) = seen.insert(label.clone(), line) {
            return Err(err(format!("duplicate id {label:?} (first on line {first})")));
        }
        let side = match record[1].to_ascii_lowercase().as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(err(format!("side must be buy or sell, found {other:?}"))),
        };
        let quantity: Amount<AnyAsset> =
            record[2].parse().map_err(|e| err(format!("quantity {:?}: {e}", &record[2])))?;
        if !quantity.is_positive() {
            return Err(err("the quantity must be positive".to_owned()));
        }
        let limit_price: Price =
            record[3].parse().map_err(|e| err(format!("limit_price {:?}: {e}", &record[3])))?;
        if limit_price.is_zero() {
            return Err(err("the limit price must be positive".to_owned()));
        }
        entries.push(BookEntry { line, label, order: Order { id: 0, side, quantity, limit_price } });
    }
    let numeric =
        entries.iter().all(|e| e.label.bytes().all(|b| b.is_ascii_digit()) && e.label.parse::<u64>().is_ok());
    if numeric {
        let mut ids: BTreeMap<u64, u64> = BTreeMap::new();
        for entry in &mut entries {
            let id = entry.label.parse::<u64>().expect("checked numeric");
            if let Some(first) = ids.insert(id, entry.line) {
                return Err(BookError {
                    line: entry.line,
                    message: format!("duplicate id {id} (first on line {first}, written differently)"),
                });
            }
            entry.order.id = id;
        }
    } else {
        // `seen` iterates its text ids in byte order: the rank is the position there.
        let ranks: BTreeMap<&str, u64> =
            seen.keys().zip(0u64..).map(|(label, rank)| (label.as_str(), rank)).collect();
        for entry in &mut entries {
            entry.order.id = ranks[entry.label.as_str()];
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};
    use tfeco_money::{Tft, Usdc};

    use super::*;

    fn tft(text: &str) -> Amount<Tft> {
        text.parse().unwrap()
    }

    fn usdc(text: &str) -> Amount<Usdc> {
        text.parse().unwrap()
    }

    fn px(text: &str) -> Price {
        text.parse().unwrap()
    }

    fn order(id: u64, side: Side, quantity: &str, limit: &str) -> Order<Tft> {
        Order { id, side, quantity: tft(quantity), limit_price: px(limit) }
    }

    fn bps(value: u16) -> Bps {
        Bps::new(value).unwrap()
    }

    /// The book of `test_data/exchange/sample.csv`.
    fn sample_book() -> Vec<Order<Tft>> {
        vec![
            order(1, Side::Buy, "100", "0.31"),
            order(2, Side::Buy, "60", "0.30"),
            order(3, Side::Buy, "30", "0.30"),
            order(4, Side::Sell, "80", "0.29"),
            order(5, Side::Sell, "70", "0.30"),
            order(6, Side::Sell, "50", "0.32"),
        ]
    }

    fn filled(outcome: &BatchOutcome<Tft, Usdc>) -> Vec<(u64, i128)> {
        outcome.fills.iter().map(|f| (f.id, f.filled.units())).collect()
    }

    #[test]
    fn hand_checked_batch() {
        // Candidates (TFT): 0.29: demand 190, supply  80 -> volume  80
        //                   0.30: demand 190, supply 150 -> volume 150, imbalance 40   <- max volume
        //                   0.31: demand 100, supply 150 -> volume 100
        //                   0.32: demand   0             -> volume   0
        // Buys are long by 40. Buy 1 (0.31 > 0.30) fills 100; buys 2 and 3 at 0.30 share 150 - 100 = 50 of
        // their 90: 60*50/90 = 33.3333333|33 and 30*50/90 = 16.6666666|67 (units: 333_333_333 rem 1/3,
        // 166_666_666 rem 2/3); one unit is missing and goes to the larger remainder, buy 3.
        // Sells 4 and 5 (<= 0.30) fill fully; sell 6 (0.32) does not trade.
        let outcome = clear_batch::<Tft, Usdc>(&sample_book(), None, NO_FEE).unwrap();
        assert_eq!(outcome.price, Some(px("0.30")));
        assert_eq!(outcome.volume, tft("150"));
        assert_eq!(outcome.demand, tft("190"));
        assert_eq!(outcome.supply, tft("150"));
        assert_eq!(outcome.imbalance, tft("40"));
        assert_eq!(outcome.rationed, Some(Side::Buy));
        assert_eq!(
            filled(&outcome),
            vec![
                (1, 1_000_000_000),
                (2, 333_333_333),
                (3, 166_666_667),
                (4, 800_000_000),
                (5, 700_000_000),
                (6, 0)
            ]
        );
        // Quote at 0.30, buyers rounded up, sellers down:
        //   buy 1: 100 * 0.30 = 30;  buy 2: 33.3333333 * 0.30 = 9.99999999 -> 10;
        //   buy 3: 16.6666667 * 0.30 = 5.00000001 -> 5.0000001;  sell 4: 24;  sell 5: 21.
        // Buyers 45.0000001, sellers 45: dust 0.0000001 USDC.
        let quotes: Vec<Amount<Usdc>> = outcome.fills.iter().map(|f| f.quote).collect();
        let expected = ["30", "10", "5.0000001", "24", "21", "0"].map(usdc);
        assert_eq!(quotes, expected);
        assert_eq!(outcome.quote_volume, usdc("45.0000001"));
        assert_eq!(outcome.quote_dust, usdc("0.0000001"));
        assert_eq!(outcome.fees_total, Amount::ZERO);
        // Refunds: escrows 100*0.31 = 31, 60*0.30 = 18, 30*0.30 = 9 USDC; sells get unsold TFT back.
        let refunds: Vec<(i128, i128)> =
            outcome.fills.iter().map(|f| (f.refund_base.units(), f.refund_quote.units())).collect();
        assert_eq!(
            refunds,
            vec![(0, 10_000_000), (0, 80_000_000), (0, 39_999_999), (0, 0), (0, 0), (500_000_000, 0)]
        );
    }

    #[test]
    fn hand_checked_fees() {
        // 30 bps on each side's own quote, rounded up (units of 10^-7 USDC):
        //   buy 1: 300_000_000 * 0.003 = 900_000;   escrow 310_000_000 + 930_000 = 310_930_000
        //   buy 2: 100_000_000 * 0.003 = 300_000;   escrow 180_000_000 + 540_000 = 180_540_000
        //   buy 3:  50_000_001 * 0.003 = 150_000.003 -> 150_001; escrow 90_000_000 + 270_000 = 90_270_000
        //   sell 4: 240_000_000 * 0.003 = 720_000;  sell 5: 210_000_000 * 0.003 = 630_000
        // Total 2_700_001. Buyers pay 451_350_002; sellers receive 448_650_000; + dust 1 + fees 2_700_001.
        let outcome = clear_batch::<Tft, Usdc>(&sample_book(), None, bps(30)).unwrap();
        let fees: Vec<i128> = outcome.fills.iter().map(|f| f.fee.units()).collect();
        assert_eq!(fees, vec![900_000, 300_000, 150_001, 720_000, 630_000, 0]);
        let refunds: Vec<i128> = outcome.fills.iter().map(|f| f.refund_quote.units()).collect();
        assert_eq!(refunds, vec![10_030_000, 80_240_000, 40_119_998, 0, 0, 0]);
        let settled: Vec<i128> = outcome.fills.iter().map(|f| f.settled_quote().units()).collect();
        assert_eq!(settled, vec![300_900_000, 100_300_000, 50_150_002, 239_280_000, 209_370_000, 0]);
        assert_eq!(outcome.fees_total.units(), 2_700_001);
        assert_eq!(outcome.quote_dust.units(), 1);
        assert_eq!(451_350_002, 448_650_000 + 1 + 2_700_001);
        let escrow = order_escrow::<Tft, Usdc>(&sample_book()[2], bps(30)).unwrap();
        assert_eq!((escrow.base, escrow.quote.units()), (Amount::ZERO, 90_270_000));
        let escrow = order_escrow::<Tft, Usdc>(&sample_book()[5], bps(30)).unwrap();
        assert_eq!((escrow.base, escrow.quote), (tft("50"), Amount::ZERO));
    }

    #[test]
    fn remainder_ties_go_to_the_lower_id() {
        // Two equal buys of 1 unit share 1 unit: both floors 0, equal remainders: id 3 before id 7.
        let book = vec![order(7, Side::Buy, "0.0000001", "1"), order(3, Side::Buy, "0.0000001", "1")];
        let book = [book, vec![order(5, Side::Sell, "0.0000001", "1")]].concat();
        let outcome = clear_batch::<Tft, Usdc>(&book, None, NO_FEE).unwrap();
        assert_eq!(filled(&outcome), vec![(3, 1), (5, 1), (7, 0)]);
    }

    #[test]
    fn ties_smallest_imbalance_then_the_reference_price() {
        // Imbalance: at 1, demand 15 / supply 10 (imbalance 5); at 2, 10 / 10 (imbalance 0): price 2.
        let book = vec![
            order(1, Side::Buy, "10", "2"),
            order(2, Side::Buy, "5", "1"),
            order(3, Side::Sell, "10", "1"),
        ];
        let outcome = clear_batch::<Tft, Usdc>(&book, None, NO_FEE).unwrap();
        assert_eq!((outcome.price, outcome.imbalance, outcome.rationed), (Some(px("2")), Amount::ZERO, None));
        assert_eq!(filled(&outcome), vec![(1, 100_000_000), (2, 0), (3, 100_000_000)]);
        // A reference price never overrides volume or imbalance: 1.5 lies between the levels, but only 2
        // remains after the imbalance step.
        let outcome = clear_batch::<Tft, Usdc>(&book, Some(px("1.5")), NO_FEE).unwrap();
        assert_eq!(outcome.price, Some(px("2")));

        // Buy 10 at 5, sell 5 at 3: volume 5 and imbalance 5 at both 3 and 5.
        let book = vec![order(1, Side::Buy, "10", "5"), order(2, Side::Sell, "5", "3")];
        let price = |last: Option<&str>| clear_batch::<Tft, Usdc>(&book, last.map(px), NO_FEE).unwrap().price;
        assert_eq!(price(None), Some(px("3")), "no reference price: the lowest candidate");
        assert_eq!(price(Some("4.5")), Some(px("4.5")), "between the candidates: the reference itself");
        assert_eq!(price(Some("3")), Some(px("3")));
        assert_eq!(price(Some("5")), Some(px("5")));
        assert_eq!(price(Some("100")), Some(px("5")), "above them: the closest, the highest");
        assert_eq!(price(Some("0.5")), Some(px("3")), "below them: the closest, the lowest");
        // At 3 the only buy (at 5) is the marginal level: it gets the whole volume, at 3.
        let outcome = clear_batch::<Tft, Usdc>(&book, None, NO_FEE).unwrap();
        assert_eq!(filled(&outcome), vec![(1, 50_000_000), (2, 50_000_000)]);
        assert_eq!(outcome.fills[0].quote, usdc("15"));
        // At the reference 4.5: the same fills, both at 4.5; the buy is refunded 50 - 22.5.
        let outcome = clear_batch::<Tft, Usdc>(&book, Some(px("4.5")), NO_FEE).unwrap();
        assert_eq!(filled(&outcome), vec![(1, 50_000_000), (2, 50_000_000)]);
        assert_eq!(
            (outcome.volume, outcome.imbalance, outcome.rationed),
            (tft("5"), tft("5"), Some(Side::Buy))
        );
        let quotes: Vec<Amount<Usdc>> = outcome.fills.iter().map(|f| f.quote).collect();
        assert_eq!(quotes, vec![usdc("22.5"), usdc("22.5")]);
        assert_eq!(outcome.fills[0].refund_quote, usdc("27.5"));
    }

    /// The reference-price rule of decisions §13, case by case: `(book, reference, price, volume,
    /// imbalance)`; a book is `side quantity@limit` separated by commas.
    #[test]
    fn reference_price_rule_table() {
        /// `(book, reference, price, volume, imbalance)`.
        type Case = (&'static str, Option<&'static str>, Option<&'static str>, &'static str, &'static str);
        let cases: &[Case] = &[
            // decisions §13's example (issue 10 item 4: 0.013 before the fix).
            ("buy 100@0.013, sell 100@0.010", Some("0.0125"), Some("0.0125"), "100", "0"),
            ("buy 100@0.013, sell 100@0.010", Some("0.010"), Some("0.010"), "100", "0"),
            ("buy 100@0.013, sell 100@0.010", Some("0.02"), Some("0.013"), "100", "0"),
            ("buy 100@0.013, sell 100@0.010", Some("0.001"), Some("0.010"), "100", "0"),
            ("buy 100@0.013, sell 100@0.010", None, Some("0.010"), "100", "0"),
            // One candidate: the reference has no say.
            ("buy 100@0.012, sell 100@0.012", Some("0.0125"), Some("0.012"), "100", "0"),
            // 0.010 matches only 60, so 0.012 and 0.013 remain: the reference between them, or the closer.
            ("buy 100@0.013, sell 60@0.010, sell 40@0.012", Some("0.0125"), Some("0.0125"), "100", "0"),
            ("buy 100@0.013, sell 60@0.010, sell 40@0.012", Some("0.011"), Some("0.012"), "100", "0"),
            // Four candidates (0.010 to 0.013), each volume 100 and imbalance 100: the reference between
            // them is the price, though no order names it; there only the outer buy and sell trade.
            (
                "buy 100@0.013, sell 100@0.010, buy 100@0.011, sell 100@0.012",
                Some("0.0115"),
                Some("0.0115"),
                "100",
                "0",
            ),
            (
                "buy 100@0.013, sell 100@0.010, buy 100@0.011, sell 100@0.012",
                Some("0.0105"),
                Some("0.0105"),
                "100",
                "100",
            ),
            // A candidate with a larger imbalance is dropped, and the reference is judged against the rest.
            ("buy 10@0.02, buy 5@0.01, sell 10@0.01", Some("0.001"), Some("0.02"), "10", "0"),
            // Nothing crosses: no price, whatever the reference.
            ("buy 10@0.009, sell 7@0.010", Some("0.0095"), None, "0", "0"),
        ];
        for &(book, reference, price, volume, imbalance) in cases {
            let orders: Vec<Order<Tft>> = book
                .split(", ")
                .enumerate()
                .map(|(i, text)| {
                    let (side, rest) = text.split_once(' ').unwrap();
                    let (quantity, limit) = rest.split_once('@').unwrap();
                    let side = if side == "buy" { Side::Buy } else { Side::Sell };
                    order(i as u64 + 1, side, quantity, limit)
                })
                .collect();
            let outcome = clear_batch::<Tft, Usdc>(&orders, reference.map(px), NO_FEE).unwrap();
            let case = format!("{book} (reference {reference:?})");
            assert_eq!(outcome.price, price.map(px), "{case}");
            assert_eq!((outcome.volume, outcome.imbalance), (tft(volume), tft(imbalance)), "{case}");
        }
    }

    #[test]
    fn no_cross_and_empty_book_do_not_trade() {
        let book = vec![order(1, Side::Buy, "10", "0.09"), order(2, Side::Sell, "7", "0.10")];
        let outcome = clear_batch::<Tft, Usdc>(&book, Some(px("0.1")), bps(10)).unwrap();
        assert_eq!(outcome.price, None);
        assert_eq!(outcome.volume, Amount::ZERO);
        assert_eq!(outcome.fills[0].refund_quote, usdc("0.9009"), "10 * 0.09 = 0.9, plus 10 bps");
        assert_eq!(outcome.fills[1].refund_base, tft("7"));
        let empty = clear_batch::<Tft, Usdc>(&[], None, NO_FEE).unwrap();
        assert_eq!((empty.price, empty.fills.len()), (None, 0));
        let one_side = vec![order(1, Side::Sell, "1", "1"), order(2, Side::Sell, "1", "2")];
        assert_eq!(clear_batch::<Tft, Usdc>(&one_side, None, NO_FEE).unwrap().price, None);
    }

    #[test]
    fn large_order_fills_every_unit_at_the_batch_price() {
        // A buy of 3000 TFT against 300 TFT of sells (10x the rest of the book). Volume 300 at 0.12 and at
        // 1.00 (imbalance 2700 at both); no reference price, so the lowest, 0.12. Each seller is paid 0.12, and the
        // whale pays 0.12 for every TFT: its 300th costs the same as its first, with no slippage curve.
        let whale = order(100, Side::Buy, "3000", "1.00");
        let rest = vec![
            order(1, Side::Sell, "100", "0.10"),
            order(2, Side::Sell, "100", "0.11"),
            order(3, Side::Sell, "100", "0.12"),
        ];
        let book = [rest.clone(), vec![whale]].concat();
        let outcome = clear_batch::<Tft, Usdc>(&book, None, NO_FEE).unwrap();
        let price = px("0.12");
        assert_eq!(outcome.price, Some(price));
        let fill = outcome.fills.iter().find(|f| f.id == 100).unwrap();
        assert_eq!(fill.filled, tft("300"));
        assert_eq!(fill.quote, usdc("36"));
        let per_token = quote_of(tft("1").units(), price.atto(), Rounding::Up).unwrap();
        let first = per_token;
        let last = fill.quote.units() - quote_of(tft("299").units(), price.atto(), Rounding::Up).unwrap();
        assert_eq!((first, last), (1_200_000, 1_200_000), "0.12 USDC for the first and for the last TFT");
        for seller in outcome.fills.iter().filter(|f| f.side == Side::Sell) {
            assert_eq!(seller.quote, usdc("12"), "every seller at the one price");
        }

        // The mirror: a sell of 3000 at 0.05 against 300 of buys. Volume 300 at 0.05 and 0.10 (imbalance
        // 2700): the reference (last) price 0.10 decides. Every TFT of the whale sells at 0.10.
        let book = vec![
            order(1, Side::Buy, "100", "0.12"),
            order(2, Side::Buy, "100", "0.11"),
            order(3, Side::Buy, "100", "0.10"),
            order(100, Side::Sell, "3000", "0.05"),
        ];
        let outcome = clear_batch::<Tft, Usdc>(&book, Some(px("0.10")), NO_FEE).unwrap();
        assert_eq!(outcome.price, Some(px("0.10")));
        let fill = outcome.fills.iter().find(|f| f.id == 100).unwrap();
        assert_eq!((fill.filled, fill.quote, fill.refund_base), (tft("300"), usdc("30"), tft("2700")));
        for buyer in outcome.fills.iter().filter(|f| f.side == Side::Buy) {
            assert_eq!(buyer.quote, usdc("10"), "every buyer at the one price");
        }
    }

    #[test]
    fn typed_errors_in_a_deterministic_order() {
        let clear = |book: &[Order<Tft>]| clear_batch::<Tft, Usdc>(book, None, NO_FEE).map(|_| ());
        let book = vec![
            order(9, Side::Buy, "1", "1"),
            order(4, Side::Sell, "1", "1"),
            order(9, Side::Sell, "1", "1"),
        ];
        assert_eq!(clear(&book), Err(ExchangeError::DuplicateId { id: 9 }));
        let zero = Order { id: 8, side: Side::Buy, quantity: Amount::ZERO, limit_price: px("1") };
        let negative =
            Order { id: 5, side: Side::Sell, quantity: Amount::from_units(-1), limit_price: px("1") };
        let free = order(7, Side::Sell, "1", "0");
        assert_eq!(clear(&[zero, free]), Err(ExchangeError::ZeroPrice { id: 7 }), "lowest id first");
        assert_eq!(clear(&[free, zero, negative]), Err(ExchangeError::QuantityNotPositive { id: 5 }));
        let huge = Order {
            id: 1,
            side: Side::Buy,
            quantity: Amount::from_units(i128::MAX / 2),
            limit_price: px("3"),
        };
        assert_eq!(clear(&[huge]), Err(ExchangeError::Overflow { id: Some(1) }));
        let half = Order {
            id: 1,
            side: Side::Sell,
            quantity: Amount::from_units(i128::MAX / 2 + 1),
            limit_price: px("1"),
        };
        assert_eq!(clear(&[half, Order { id: 2, ..half }]), Err(ExchangeError::Overflow { id: None }));
        assert_eq!(
            ExchangeError::ZeroPrice { id: 7 }.to_string(),
            "order 7: the limit price must be positive"
        );
    }

    #[test]
    fn sample_csv_clears_as_hand_checked() {
        let entries = parse_book_csv(include_str!("../../test_data/exchange/sample.csv")).unwrap();
        assert_eq!(entries.len(), 6);
        assert_eq!((entries[0].line, entries[0].label.as_str(), entries[0].order.id), (4, "1", 1));
        let orders: Vec<Order<AnyAsset>> = entries.iter().map(|e| e.order).collect();
        let outcome = clear_batch::<AnyAsset, AnyAsset>(&orders, None, NO_FEE).unwrap();
        let typed = clear_batch::<Tft, Usdc>(&sample_book(), None, NO_FEE).unwrap();
        assert_eq!(outcome.price, typed.price);
        let units = |o: &BatchOutcome<AnyAsset, AnyAsset>| -> Vec<(u64, i128)> {
            o.fills.iter().map(|f| (f.id, f.filled.units())).collect()
        };
        assert_eq!(units(&outcome), filled(&typed));

        let entries = parse_book_csv(include_str!("../../test_data/exchange/pro_rata_tie.csv")).unwrap();
        let ids: Vec<(&str, u64)> = entries.iter().map(|e| (e.label.as_str(), e.order.id)).collect();
        assert_eq!(ids, vec![("c", 2), ("b", 1), ("a", 0), ("s", 3)]);
        let orders: Vec<Order<AnyAsset>> = entries.iter().map(|e| e.order).collect();
        let outcome = clear_batch::<AnyAsset, AnyAsset>(&orders, None, NO_FEE).unwrap();
        assert_eq!(units(&outcome), vec![(0, 1), (1, 1), (2, 0), (3, 2)], "a and b get the missing units");

        for (file, price) in [
            (include_str!("../../test_data/exchange/large_order.csv"), Some(px("0.12"))),
            (include_str!("../../test_data/exchange/no_cross.csv"), None),
        ] {
            let orders: Vec<Order<AnyAsset>> =
                parse_book_csv(file).unwrap().iter().map(|e| e.order).collect();
            assert_eq!(clear_batch::<AnyAsset, AnyAsset>(&orders, None, NO_FEE).unwrap().price, price);
        }
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = |text: &str| parse_book_csv(text).unwrap_err().to_string();
        let header = "id,side,quantity,limit_price\n";
        assert_eq!(
            err(&format!("{header}a,buy,1,1\n\nb,sell,1,1\na,sell,2,1\n")),
            "line 5: duplicate id \"a\" (first on line 2)"
        );
        assert_eq!(
            err(&format!("{header}1,buy,1.00000001,1\n")),
            "line 2: quantity \"1.00000001\": too many decimals in \"1.00000001\": at most 7 allowed"
        );
        assert!(err(&format!("{header}1,buy,1,1\n2,buy,1,abc\n")).starts_with("line 3: limit_price \"abc\""));
        assert_eq!(err(&format!("{header}1,hold,1,1\n")), "line 2: side must be buy or sell, found \"hold\"");
        assert_eq!(err(&format!("{header}1,buy,0,1\n")), "line 2: the quantity must be positive");
        assert_eq!(err(&format!("{header}1,buy,1,0\n")), "line 2: the limit price must be positive");
        assert_eq!(
            err(&format!("{header}1,buy,1\n")),
            "line 2: expected 4 columns (id,side,quantity,limit_price), found 3"
        );
        assert_eq!(
            err(&format!("{header}7,buy,1,1\n07,sell,1,1\n")),
            "line 3: duplicate id 7 (first on line 2, written differently)"
        );
        assert!(err("side,id,quantity,limit_price\n").starts_with("line 1: expected the header"));
        // Text ids mixed with numbers rank as text; upper-case sides and spaces are accepted.
        let entries = parse_book_csv(&format!("{header}10, BUY ,1,1\n9,Sell,1,1\nx,buy,1,1\n")).unwrap();
        let ids: Vec<u64> = entries.iter().map(|e| e.order.id).collect();
        assert_eq!(ids, vec![0, 1, 2], "\"10\" < \"9\" < \"x\" in byte order");
    }

    // ---- properties over random books ----

    /// A price step whose multiples make quote amounts inexact (so rounding dust appears).
    const STEP: u128 = 12_345_678_901_234_567;

    fn arb_book() -> impl Strategy<Value = Vec<Order<AnyAsset>>> {
        let quantity = prop_oneof![1i128..=40, 1i128..=100_000_000_000];
        prop::collection::vec((any::<bool>(), quantity, 1u128..=8, 0u64..4), 0..40).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (buy, quantity, level, salt))| Order {
                    id: i as u64 * 4 + salt,
                    side: if buy { Side::Buy } else { Side::Sell },
                    quantity: Amount::from_units(quantity),
                    limit_price: Price::from_atto(level * STEP),
                })
                .collect()
        })
    }

    fn arb_last() -> impl Strategy<Value = Option<Price>> {
        prop::option::of((1u128..=9 * 2).prop_map(|half_steps| Price::from_atto(half_steps * STEP / 2)))
    }

    fn config() -> Config {
        Config { cases: 512, failure_persistence: None, rng_seed: RngSeed::Fixed(13), ..Config::default() }
    }

    /// Brute force: (price, volume, imbalance, demand, supply) by the rule of decisions §13: every candidate
    /// scored, the best kept, then the reference price clamped between the lowest and highest kept.
    fn reference(orders: &[Order<AnyAsset>], last: Option<Price>) -> Option<(u128, i128, i128, i128, i128)> {
        let figures = |price: u128| -> (i128, i128) {
            let sum = |side: Side, accept: &dyn Fn(u128) -> bool| -> i128 {
                orders
                    .iter()
                    .filter(|o| o.side == side && accept(o.limit_price.atto()))
                    .map(|o| o.quantity.units())
                    .sum()
            };
            (sum(Side::Buy, &|limit| limit >= price), sum(Side::Sell, &|limit| limit <= price))
        };
        let scored: Vec<(u128, i128, i128)> = orders
            .iter()
            .map(|o| {
                let (demand, supply) = figures(o.limit_price.atto());
                (o.limit_price.atto(), demand.min(supply), (demand - supply).abs())
            })
            .collect();
        let volume = scored.iter().map(|c| c.1).max().filter(|v| *v > 0)?;
        let imbalance = scored.iter().filter(|c| c.1 == volume).map(|c| c.2).min().unwrap();
        let kept: Vec<u128> =
            scored.iter().filter(|c| (c.1, c.2) == (volume, imbalance)).map(|c| c.0).collect();
        let (low, high) = (*kept.iter().min().unwrap(), *kept.iter().max().unwrap());
        let price = match last {
            Some(reference) if reference.atto() >= low && reference.atto() <= high => reference.atto(),
            Some(reference) => *kept.iter().min_by_key(|p| p.abs_diff(reference.atto())).unwrap(),
            None => low,
        };
        let (demand, supply) = figures(price);
        Some((price, demand.min(supply), (demand - supply).abs(), demand, supply))
    }

    fn check(orders: &[Order<AnyAsset>], last: Option<Price>, fee: Bps) -> Result<(), TestCaseError> {
        let outcome = clear_batch::<AnyAsset, AnyAsset>(orders, last, fee).unwrap();
        let expected = reference(orders, last);
        prop_assert_eq!(outcome.price.map(Price::atto), expected.map(|e| e.0), "price");
        let (volume, imbalance, demand, supply) = expected.map_or((0, 0, 0, 0), |e| (e.1, e.2, e.3, e.4));
        prop_assert_eq!(outcome.volume.units(), volume, "volume is maximal");
        prop_assert_eq!(
            (outcome.imbalance.units(), outcome.demand.units(), outcome.supply.units()),
            (imbalance, demand, supply)
        );
        prop_assert_eq!(outcome.fills.len(), orders.len());
        prop_assert!(outcome.fills.windows(2).all(|w| w[0].id < w[1].id), "ascending id");
        let price = outcome.price.map_or(0, Price::atto);
        let by_id: BTreeMap<u64, &Order<AnyAsset>> = orders.iter().map(|o| (o.id, o)).collect();
        let (mut bought, mut sold, mut paid, mut received, mut fees) = (0i128, 0i128, 0i128, 0i128, 0i128);
        let (mut buy_left, mut sell_left) = (false, false);
        for fill in &outcome.fills {
            let order = by_id[&fill.id];
            let (q, f, limit) = (order.quantity.units(), fill.filled.units(), order.limit_price.atto());
            prop_assert_eq!(fill.side, order.side);
            prop_assert!((0..=q).contains(&f));
            prop_assert_eq!(fill.fee.units(), fee_of(fill.quote.units(), fee));
            let escrow = order_escrow::<AnyAsset, AnyAsset>(order, fee).unwrap();
            match order.side {
                Side::Buy => {
                    prop_assert!(f == 0 || limit >= price, "no buy trades above its limit");
                    prop_assert_eq!(
                        fill.quote.units(),
                        quote_of(f, price, Rounding::Up).unwrap(),
                        "one price"
                    );
                    prop_assert!(
                        fill.quote.units() <= quote_of(f, limit, Rounding::Up).unwrap(),
                        "pays <= limit"
                    );
                    prop_assert!(fill.refund_quote.units() >= 0);
                    prop_assert_eq!(
                        escrow.quote.units(),
                        fill.quote.units() + fill.fee.units() + fill.refund_quote.units()
                    );
                    prop_assert_eq!(fill.refund_base.units(), 0);
                    bought += f;
                    paid += fill.settled_quote().units();
                    buy_left |= limit >= price && f < q;
                }
                Side::Sell => {
                    prop_assert!(f == 0 || limit <= price, "no sell trades below its limit");
                    prop_assert_eq!(
                        fill.quote.units(),
                        quote_of(f, price, Rounding::Down).unwrap(),
                        "one price"
                    );
                    prop_assert!(
                        fill.quote.units() >= quote_of(f, limit, Rounding::Down).unwrap(),
                        "gets >= limit"
                    );
                    prop_assert!(fill.settled_quote().units() >= 0);
                    prop_assert_eq!(escrow.base.units(), f + fill.refund_base.units());
                    prop_assert_eq!(fill.refund_quote.units(), 0);
                    sold += f;
                    received += fill.settled_quote().units();
                    sell_left |= limit <= price && f < q;
                }
            }
            fees += fill.fee.units();
        }
        if outcome.price.is_some() {
            prop_assert!(!(buy_left && sell_left), "nothing crosses unmatched");
        }
        prop_assert_eq!((bought, sold), (volume, volume), "matched base equal on both sides");
        prop_assert_eq!(fees, outcome.fees_total.units());
        prop_assert!(outcome.quote_dust.units() >= 0);
        prop_assert_eq!(paid, received + outcome.quote_dust.units() + fees, "quote conserved");
        // Price priority and pro rata: an order not fully filled means every worse order on its side got
        // nothing, and orders at one price level get within one base unit of their exact share.
        for a in outcome.fills.iter() {
            let order_a = by_id[&a.id];
            if a.filled < order_a.quantity {
                for b in outcome.fills.iter().filter(|b| b.side == a.side) {
                    let order_b = by_id[&b.id];
                    let worse = match a.side {
                        Side::Buy => order_b.limit_price < order_a.limit_price,
                        Side::Sell => order_b.limit_price > order_a.limit_price,
                    };
                    prop_assert!(!worse || b.filled.is_zero(), "price priority");
                    if order_b.limit_price == order_a.limit_price && b.filled < order_b.quantity {
                        // filled_a / q_a and filled_b / q_b differ by less than 1/q_a + 1/q_b.
                        let lhs = (a.filled.units() * order_b.quantity.units()
                            - b.filled.units() * order_a.quantity.units())
                        .abs();
                        prop_assert!(lhs < order_a.quantity.units() + order_b.quantity.units(), "pro rata");
                    }
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn random_books_clear_by_the_rule(book in arb_book(), last in arb_last(), fee in 0u16..=300) {
            check(&book, last, bps(fee))?;
        }

        #[test]
        fn submission_order_never_changes_a_fill(
            (book, shuffled) in arb_book()
                .prop_flat_map(|book| (Just(book.clone()), Just(book).prop_shuffle())),
            last in arb_last(),
            fee in 0u16..=300,
        ) {
            let a = clear_batch::<AnyAsset, AnyAsset>(&book, last, bps(fee)).unwrap();
            let b = clear_batch::<AnyAsset, AnyAsset>(&shuffled, last, bps(fee)).unwrap();
            prop_assert_eq!(a, b);
        }
    }
}
