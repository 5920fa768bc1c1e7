//! The exit pool's Dutch auction as pure functions (spec `decisions.md` §8, `tokens_and_pools.md` §3-4):
//! uniform-price clearing of a bid book, position weights, pro-rata distribution, and the margin
//! settlement that sends the surrendered TFP to the treasury and to the positions that stay.
//!
//! Nothing here touches the state: the state machine gathers the bids and positions of a round, calls
//! [`clear`] and [`settle_margin`], and turns the results into postings. Every function is deterministic
//! and independent of the order of its input (results are ordered by id), uses integers only, and rounds
//! explicitly in the direction of `decisions.md` §15 (payouts down, TFP surrendered up, remainders to a
//! named account).
//!
//! Units: USDC and TFP amounts are `i128` base units (7 decimals); prices are atto-USD per whole token
//! ([`Price::atto`]). Because both assets have 7 decimals, `usdc / price` in tokens is
//! `usdc_units * 10^18 / price_atto` in TFP base units.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use tfeco_money::{cmp_products, mul_div, Amount, Bps, Price, Rounding, Tfp, Usdc};

/// Default minimum discount below the reference price: 20 % (spec `decisions.md` §8 step 1,
/// `exit_min_discount`).
pub const DEFAULT_MIN_DISCOUNT_BPS: u16 = 2_000;

/// One year for position weights: 365 days in seconds (spec `decisions.md` §8 "Weight").
pub const YEAR_S: u64 = 31_536_000;

/// One sealed exit bid: "pay me `usdc` if the uniform clearing price is at least `min_price`".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitBid {
    /// Caller-chosen id, unique within a book (e.g. the bid's sequence number in the round).
    pub id: u64,
    /// USDC asked for; must be strictly positive.
    pub usdc: Amount<Usdc>,
    /// Lowest acceptable price, USD per whole TFP; must be strictly positive.
    pub min_price: Price,
}

/// The rules of one clearing (spec `decisions.md` §8 steps 1-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingRules {
    /// Cap A in USDC: `0.5 * total value contributed - total USDC paid by past exits`; `None` = off.
    pub cap_a: Option<Amount<Usdc>>,
    /// Cap B in USDC: `5 % * exit_pool.usdc` at close; `None` = off.
    pub cap_b: Option<Amount<Usdc>>,
    /// Reference price `p_ref` (TFT/TFP market price at close); `None` = no exclusion by price.
    pub ref_price: Option<Price>,
    /// Minimum discount below `ref_price` a bid must accept (default [`DEFAULT_MIN_DISCOUNT_BPS`]).
    pub min_discount_bps: Bps,
    /// `true`: the first price level that does not fit shares the remaining cap pro rata; `false`: filling
    /// stops before that level.
    pub allow_partial: bool,
}

impl ClearingRules {
    /// Rules with cap A only, no reference price, the default discount and partial fills allowed.
    pub fn with_cap(cap_a: Amount<Usdc>) -> Self {
        Self {
            cap_a: Some(cap_a),
            cap_b: None,
            ref_price: None,
            min_discount_bps: Bps::new(DEFAULT_MIN_DISCOUNT_BPS).expect("20 % is a valid share"),
            allow_partial: true,
        }
    }

    /// The effective cap `min(cap_a, cap_b)` over the caps that are on.
    ///
    /// Errors: [`AuctionError::NoCap`] when both are off, [`AuctionError::CapNegative`] when the effective
    /// cap is below zero.
    pub fn cap(&self) -> Result<Amount<Usdc>, AuctionError> {
        let cap = match (self.cap_a, self.cap_b) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => return Err(AuctionError::NoCap),
        };
        if cap.units() < 0 {
            return Err(AuctionError::CapNegative { cap });
        }
        Ok(cap)
    }

    /// The price ceiling `floor(p_ref * (10000 - discount_bps) / 10000)` in atto-USD, or `None` without a
    /// reference price. Because prices are integers of atto-USD, `min_price <= ceiling` holds exactly when
    /// `min_price * 10000 <= p_ref * (10000 - discount_bps)`, the test [`clear`] applies.
    pub fn ceiling(&self) -> Option<Price> {
        let keep = u128::from(10_000u16.saturating_sub(self.min_discount_bps.get()));
        self.ref_price
            .map(|p| p.mul_ratio(keep, 10_000, Rounding::Down).expect("a share of at most 100 % fits"))
    }

    /// `true` when `min_price` is above the ceiling, compared exactly without rounding:
    /// `min_price * 10000 > p_ref * (10000 - discount_bps)`. Always `false` without a reference price.
    pub fn excludes(&self, min_price: Price) -> bool {
        let keep = u128::from(10_000u16.saturating_sub(self.min_discount_bps.get()));
        self.ref_price.is_some_and(|p_ref| {
            cmp_products(min_price.atto(), 10_000, p_ref.atto(), keep) == std::cmp::Ordering::Greater
        })
    }
}

/// What a bid got from a clearing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidFill {
    /// The bid's id.
    pub id: u64,
    /// USDC asked for (the bid's `usdc`).
    pub requested: Amount<Usdc>,
    /// USDC paid to the bidder; `0 <= filled <= requested`.
    pub filled: Amount<Usdc>,
    /// TFP the bidder gives up: `ceil(filled / p_clear)` (rounded up, `decisions.md` §15); 0 when unfilled.
    pub tfp_surrendered: Amount<Tfp>,
    /// The bid's min price is above the ceiling (`min_price > (1 - discount) * p_ref`); never filled.
    pub excluded: bool,
}

/// A bid's outcome in words, derived from a [`BidFill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillStatus {
    /// Above the price ceiling.
    Excluded,
    /// Filled in full.
    Full,
    /// Filled in part (the marginal price level, pro rata).
    Partial,
    /// Eligible but not filled.
    None,
}

impl FillStatus {
    /// The stable lowercase name: `excluded`, `full`, `partial`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            FillStatus::Excluded => "excluded",
            FillStatus::Full => "full",
            FillStatus::Partial => "partial",
            FillStatus::None => "none",
        }
    }
}

impl BidFill {
    /// Excluded, full, partial or none.
    pub fn status(&self) -> FillStatus {
        if self.excluded {
            FillStatus::Excluded
        } else if self.filled.is_zero() {
            FillStatus::None
        } else if self.filled == self.requested {
            FillStatus::Full
        } else {
            FillStatus::Partial
        }
    }
}

/// The result of [`clear`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearing {
    /// `p_clear`: the highest min price that received a fill; `None` when nothing was filled.
    pub clearing_price: Option<Price>,
    /// The effective cap `min(cap_a, cap_b)`.
    pub cap: Amount<Usdc>,
    /// USDC paid in total; `<= cap`, and `== cap` with partial fills when eligible demand reaches the cap.
    pub total_filled: Amount<Usdc>,
    /// TFP surrendered in total (the sum of the per-bid rounded-up amounts).
    pub total_tfp_surrendered: Amount<Tfp>,
    /// The price ceiling ([`ClearingRules::ceiling`]); `None` without a reference price.
    pub ceiling: Option<Price>,
    /// One entry per bid, in ascending id order.
    pub fills: Vec<BidFill>,
}

/// Why a clearing, weight or distribution could not be computed. Every variant is a caller error except
/// `Overflow`, which only amounts near `i128::MAX` can cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuctionError {
    /// Neither cap A nor cap B is given.
    NoCap,
    /// The effective cap is negative.
    CapNegative {
        /// The cap.
        cap: Amount<Usdc>,
    },
    /// Two bids share an id.
    DuplicateBidId {
        /// The repeated id.
        id: u64,
    },
    /// A bid's USDC amount is zero or negative.
    AmountNotPositive {
        /// The bid's id.
        id: u64,
    },
    /// A bid's min price is zero.
    PriceZero {
        /// The bid's id.
        id: u64,
    },
    /// The reference price is zero.
    RefPriceZero,
    /// An input amount (surrendered TFP, paid USDC, total to distribute) is negative.
    NegativeAmount {
        /// Which input.
        what: &'static str,
    },
    /// An intermediate or result does not fit in `i128`/`u128`.
    Overflow,
}

impl fmt::Display for AuctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuctionError::NoCap => f.write_str("no cap: give cap A, cap B or both"),
            AuctionError::CapNegative { cap } => write!(f, "the cap is negative ({cap} USDC)"),
            AuctionError::DuplicateBidId { id } => write!(f, "duplicate bid id {id}"),
            AuctionError::AmountNotPositive { id } => write!(f, "bid {id}: the USDC amount must be positive"),
            AuctionError::PriceZero { id } => write!(f, "bid {id}: the min price must be positive"),
            AuctionError::RefPriceZero => f.write_str("the reference price must be positive"),
            AuctionError::NegativeAmount { what } => write!(f, "{what} must not be negative"),
            AuctionError::Overflow => f.write_str("arithmetic overflow"),
        }
    }
}

impl std::error::Error for AuctionError {}

/// TFP base units worth `usdc` at `price`, rounded up: `ceil(usdc_units * 10^18 / price_atto)`. This is
/// what a filled bid surrenders at `p_clear`, and what a bid reserves at its own min price
/// (`decisions.md` §8 "Rounds"); since `p_clear >= min_price`, the surrender never exceeds the reservation.
///
/// Errors: [`AuctionError::PriceZero`] (id 0) for a zero price, [`AuctionError::NegativeAmount`],
/// [`AuctionError::Overflow`].
pub fn tfp_for_usdc(usdc: Amount<Usdc>, price: Price) -> Result<Amount<Tfp>, AuctionError> {
    if price.is_zero() {
        return Err(AuctionError::PriceZero { id: 0 });
    }
    let units = u128::try_from(usdc.units()).map_err(|_| AuctionError::NegativeAmount { what: "usdc" })?;
    let tfp = match units.checked_mul(Price::scale()) {
        // Fast path: the product fits in 128 bits.
        Some(product) => product.div_ceil(price.atto()),
        None => mul_div(units, Price::scale(), price.atto(), Rounding::Up).ok_or(AuctionError::Overflow)?,
    };
    i128::try_from(tfp).map(Amount::from_units).map_err(|_| AuctionError::Overflow)
}

/// Clears a bid book at a uniform price (spec `decisions.md` §8 "Clearing" steps 1-4).
///
/// 1. With a reference price, bids with `min_price * 10000 > p_ref * (10000 - discount_bps)` are
///    excluded (exact comparison).
/// 2. `cap = min(cap_a, cap_b)` over the caps that are on.
/// 3. Eligible bids are sorted by min price; each price level (all bids at one price) is filled whole
///    while it fits. At the first level that does not fit: with `allow_partial`, its bids share the
///    remaining cap pro rata to their amounts (each share floored, then the leftover base units go one by
///    one by largest remainder, ties to the lower id), so the cap is hit exactly; without it, filling
///    stops. Higher levels get nothing.
/// 4. `p_clear` is the highest min price that received a fill.
/// 5. Each filled bid surrenders `ceil(filled / p_clear)` TFP ([`tfp_for_usdc`]).
///
/// The result does not depend on the order of `bids`; `fills` is in ascending id order. Runs in
/// O(n log n) time and O(n) memory.
///
/// Errors, checked in this order: [`AuctionError::NoCap`], [`AuctionError::CapNegative`],
/// [`AuctionError::RefPriceZero`], then per bid in ascending id order [`AuctionError::DuplicateBidId`],
/// [`AuctionError::AmountNotPositive`], [`AuctionError::PriceZero`]; [`AuctionError::Overflow`] when
/// sums of amounts leave `i128`.
pub fn clear(bids: &[ExitBid], rules: &ClearingRules) -> Result<Clearing, AuctionError> {
    let cap = rules.cap()?;
    if rules.ref_price.is_some_and(Price::is_zero) {
        return Err(AuctionError::RefPriceZero);
    }

    // The bids in ascending id order, copied so that every later pass reads memory in sequence; a
    // position in this order identifies a bid from here on, and because ids are unique, ordering by
    // position is ordering by id.
    let mut sorted: Vec<ExitBid> = bids.to_vec();
    sorted.sort_unstable_by_key(|bid| bid.id);
    let mut fills = Vec::with_capacity(sorted.len());
    // (min price atto, position) of every eligible bid.
    let mut eligible: Vec<(u128, usize)> = Vec::with_capacity(sorted.len());
    for (pos, bid) in sorted.iter().enumerate() {
        if pos.checked_sub(1).is_some_and(|previous| sorted[previous].id == bid.id) {
            return Err(AuctionError::DuplicateBidId { id: bid.id });
        }
        if !bid.usdc.is_positive() {
            return Err(AuctionError::AmountNotPositive { id: bid.id });
        }
        if bid.min_price.is_zero() {
            return Err(AuctionError::PriceZero { id: bid.id });
        }
        let excluded = rules.excludes(bid.min_price);
        if !excluded {
            eligible.push((bid.min_price.atto(), pos));
        }
        fills.push(BidFill {
            id: bid.id,
            requested: bid.usdc,
            filled: Amount::ZERO,
            tfp_surrendered: Amount::ZERO,
            excluded,
        });
    }
    drop(sorted);
    eligible.sort_unstable();

    let (total, clearing_atto) = fill_levels(&mut fills, &eligible, cap.units(), rules.allow_partial)?;

    let clearing_price = clearing_atto.map(Price::from_atto);
    let mut total_tfp: i128 = 0;
    if let Some(p_clear) = clearing_price {
        for fill in fills.iter_mut().filter(|f| f.filled.is_positive()) {
            fill.tfp_surrendered = tfp_for_usdc(fill.filled, p_clear)?;
            total_tfp = total_tfp.checked_add(fill.tfp_surrendered.units()).ok_or(AuctionError::Overflow)?;
        }
    }
    Ok(Clearing {
        clearing_price,
        cap,
        total_filled: Amount::from_units(total),
        total_tfp_surrendered: Amount::from_units(total_tfp),
        ceiling: rules.ceiling(),
        fills,
    })
}

/// Step 3 of [`clear`]: fills the eligible bids (`(min price atto, position)`, sorted) level by level up to
/// `cap_units`, sharing the first level that does not fit pro rata when `allow_partial`. Returns the USDC
/// filled in total and the highest min price that received a fill. Errors: [`AuctionError::Overflow`] when
/// a level's total leaves `i128`.
fn fill_levels(
    fills: &mut [BidFill],
    eligible: &[(u128, usize)],
    cap_units: i128,
    allow_partial: bool,
) -> Result<(i128, Option<u128>), AuctionError> {
    let mut total: i128 = 0;
    let mut clearing_atto: Option<u128> = None;
    let mut start = 0;
    while start < eligible.len() && total < cap_units {
        let price = eligible[start].0;
        let mut end = start;
        let mut level_total: i128 = 0;
        while end < eligible.len() && eligible[end].0 == price {
            level_total = level_total
                .checked_add(fills[eligible[end].1].requested.units())
                .ok_or(AuctionError::Overflow)?;
            end = end.checked_add(1).expect("end < eligible.len()");
        }
        let level = &eligible[start..end];
        // The loop runs while 0 <= total < cap_units.
        let remaining = cap_units.checked_sub(total).expect("0 <= total < cap");
        if level_total <= remaining {
            for &(_, pos) in level {
                fills[pos].filled = fills[pos].requested;
            }
            total = total.checked_add(level_total).expect("level_total <= cap - total");
            clearing_atto = Some(price);
            start = end;
            continue;
        }
        if allow_partial {
            fill_pro_rata(fills, level, remaining, level_total);
            total = cap_units;
            clearing_atto = Some(price);
        }
        break;
    }
    Ok((total, clearing_atto))
}

/// Shares `remaining` (`0 < remaining < level_total`) among the bids of `level` pro rata to their requested
/// amounts: `floor(remaining * a_i / level_total)` each, then one base unit to each of the largest
/// remainders (ties to the lower position, i.e. the lower id) until the sum is `remaining` exactly.
///
/// No share exceeds its request: `remaining * a_i / level_total < a_i`, so the floored share is at most
/// `a_i - 1` before the extra unit.
fn fill_pro_rata(fills: &mut [BidFill], level: &[(u128, usize)], remaining: i128, level_total: i128) {
    let r = u128::try_from(remaining).expect("the remaining cap is positive");
    let l = u128::try_from(level_total).expect("a sum of positive amounts is positive");
    let mut assigned: u128 = 0;
    // (remainder of remaining * a_i / l, position).
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(level.len());
    for &(_, pos) in level {
        let a = u128::try_from(fills[pos].requested.units()).expect("bid amounts are positive");
        let share = mul_div(r, a, l, Rounding::Down).expect("a share of less than a bid fits");
        // The exact remainder r*a - share*l lies in [0, l), so computing both products modulo 2^128 and
        // subtracting modulo 2^128 gives it exactly.
        let remainder = r.wrapping_mul(a).wrapping_sub(share.wrapping_mul(l));
        remainders.push((remainder, pos));
        fills[pos].filled = Amount::from_units(share as i128);
        // Σ floor(r × a_i / l) <= r × Σ a_i / l = r.
        assigned = assigned.checked_add(share).expect("the floored shares add up to at most r");
    }
    let leftover = r.checked_sub(assigned).expect("the floored shares add up to at most r") as usize;
    debug_assert!(leftover < level.len(), "floors lose less than one unit per bid");
    if leftover == 0 {
        return;
    }
    // The `leftover` first in (remainder descending, position ascending) order; a total order, so the
    // selection is unique and deterministic.
    let by_largest = |x: &(u128, usize)| (Reverse(x.0), x.1);
    if leftover < remainders.len() {
        remainders.select_nth_unstable_by_key(leftover.checked_sub(1).expect("leftover > 0"), by_largest);
    }
    for &(_, pos) in &remainders[..leftover] {
        // The floored share is at most `a_i - 1` (see above), so one more unit is at most the request.
        let share = fills[pos].filled.units().checked_add(1).expect("a share plus one is at most its bid");
        fills[pos].filled = Amount::from_units(share);
    }
}

/// Parameters of a position's weight (spec `decisions.md` §8 "Weight"):
/// `weight = amount * (1 + k * min(age, age_cap) / year)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightParams {
    /// `k`, growth per year of age, in basis points (default 10,000 = 1: a one-year-old position weighs
    /// 2x a new one). May exceed 10,000.
    pub k_bps: u32,
    /// Age beyond which the weight stops growing, in seconds (default 2 years).
    pub age_cap_s: u64,
    /// Length of a year in seconds (default [`YEAR_S`], 365 days).
    pub year_s: u64,
}

impl Default for WeightParams {
    fn default() -> Self {
        Self { k_bps: 10_000, age_cap_s: 2 * YEAR_S, year_s: YEAR_S }
    }
}

/// A position's weight, exact, as `amount_units * (10,000 * year_s + k_bps * min(age_s, age_cap_s))`.
///
/// Unit: TFP base unit × second ÷ 10,000 (the factor 10,000 keeps `k` in basis points exact). So with the
/// defaults a new position of `a` base units weighs `a * 315,360,000,000` and one aged 2 years or more
/// weighs 3x that. Weights are only meaningful relative to each other ([`distribute_pro_rata`]), and all
/// weights computed with one [`WeightParams`] share one unit.
///
/// `age_s` is `now - opened_at` in seconds; a negative age (a position opened in the future) counts as 0,
/// and so does a negative amount. The product saturates at `u128::MAX`, which needs more than 10^26 TFP
/// base units (10^19 TFP) with the defaults, far above any supply.
pub fn position_weight(amount: Amount<Tfp>, age_s: i64, params: &WeightParams) -> u128 {
    let units = u128::try_from(amount.units()).unwrap_or(0);
    let age = u128::from(u64::try_from(age_s).unwrap_or(0).min(params.age_cap_s));
    // year_s × 10^4 < 2^78 and k_bps × age < 2^96: the factor is below 2^97, far inside u128.
    let factor = u128::from(params.year_s)
        .checked_mul(10_000)
        .zip(u128::from(params.k_bps).checked_mul(age))
        .and_then(|(base, growth)| base.checked_add(growth))
        .expect("u64 × 10^4 + u32 × u64 fits u128");
    units.saturating_mul(factor)
}

/// Splits `total` base units pro rata to `weights` (`(id, weight)` pairs): each share is
/// `floor(total * weight / sum_of_weights)`. Returns the shares in input order and the dust
/// `total - sum_of_shares` (`0 <= dust < number of positive weights`, or `total` when every weight is 0);
/// the caller sends the dust to `treasury` (spec `decisions.md` §8 step 5, §15).
///
/// Errors: [`AuctionError::NegativeAmount`] for a negative total, [`AuctionError::Overflow`] when the sum
/// of weights leaves `u128`.
pub fn distribute_pro_rata(
    total: i128,
    weights: &[(u64, u128)],
) -> Result<(Vec<(u64, i128)>, i128), AuctionError> {
    let t = u128::try_from(total).map_err(|_| AuctionError::NegativeAmount { what: "total" })?;
    let sum =
        weights.iter().try_fold(0u128, |acc, &(_, w)| acc.checked_add(w)).ok_or(AuctionError::Overflow)?;
    let mut shares = Vec::with_capacity(weights.len());
    let mut distributed: i128 = 0;
    for &(id, w) in weights {
        let share = if sum == 0 {
            0
        } else {
            // share <= total, so it fits in i128.
            mul_div(t, w, sum, Rounding::Down).expect("a share of at most the total fits") as i128
        };
        // Σ floor(total × w_i / sum) <= total.
        distributed = distributed.checked_add(share).expect("the shares add up to at most the total");
        shares.push((id, share));
    }
    Ok((shares, total.checked_sub(distributed).expect("0 <= distributed <= total")))
}

/// Where the TFP surrendered in a round goes (spec `decisions.md` §8 step 5). Sum check:
/// `treasury + credited + dust == surrendered`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginSettlement {
    /// TFP surrendered by the filled bids.
    pub surrendered: Amount<Tfp>,
    /// The treasury's value share: `ceil(paid_usdc / p_ref)`, capped at `surrendered` (the dust comes on
    /// top, see [`MarginSettlement::treasury_total`]).
    pub treasury: Amount<Tfp>,
    /// The margin: `surrendered - treasury`.
    pub margin: Amount<Tfp>,
    /// The margin credited to each staying position, pro rata to weight, in input order.
    pub credits: Vec<(u64, Amount<Tfp>)>,
    /// Sum of `credits`.
    pub credited: Amount<Tfp>,
    /// Rounding dust of the pro-rata split (the whole margin when no staying position has weight); goes to
    /// `treasury`.
    pub dust: Amount<Tfp>,
}

impl MarginSettlement {
    /// Everything the treasury receives: `treasury + dust`.
    ///
    /// # Panics
    /// Never for a settlement of [`settle_margin`], where `treasury + dust <= surrendered` (an `i128`);
    /// only a hand-built settlement whose sum leaves `i128` can panic.
    pub fn treasury_total(&self) -> Amount<Tfp> {
        let total = self.treasury.units().checked_add(self.dust.units());
        Amount::from_units(total.expect("treasury + dust is at most the TFP surrendered"))
    }
}

/// Settles the margin of a clearing (spec `decisions.md` §8 step 5): of the `surrendered` TFP, the
/// treasury takes the reference value of the USDC it paid, `paid / p_ref`, **rounded up** (it is the
/// value the treasury paid for) and capped at `surrendered` (the treasury never takes TFP that was not
/// surrendered, e.g. when `p_ref` is below `p_clear` because no discount rule applied); the rest, the
/// margin, is split over `staying` (`(position id, weight)` of the positions that did not exit this round,
/// see [`position_weight`]) by [`distribute_pro_rata`]; the dust goes to the treasury.
///
/// Nothing is created or lost: `treasury + credited + dust == surrendered`.
///
/// Errors: [`AuctionError::RefPriceZero`], [`AuctionError::NegativeAmount`], [`AuctionError::Overflow`].
pub fn settle_margin(
    surrendered: Amount<Tfp>,
    paid: Amount<Usdc>,
    ref_price: Price,
    staying: &[(u64, u128)],
) -> Result<MarginSettlement, AuctionError> {
    if ref_price.is_zero() {
        return Err(AuctionError::RefPriceZero);
    }
    if surrendered.units() < 0 {
        return Err(AuctionError::NegativeAmount { what: "surrendered" });
    }
    if paid.units() < 0 {
        return Err(AuctionError::NegativeAmount { what: "paid" });
    }
    let treasury = tfp_for_usdc(paid, ref_price)?.min(surrendered);
    // 0 <= treasury <= surrendered (a minimum of non-negative amounts), and 0 <= dust <= margin.
    let margin = surrendered.units().checked_sub(treasury.units()).expect("0 <= treasury <= surrendered");
    let margin = Amount::<Tfp>::from_units(margin);
    let (shares, dust) = distribute_pro_rata(margin.units(), staying)?;
    let credited = Amount::from_units(margin.units().checked_sub(dust).expect("0 <= dust <= margin"));
    let credits = shares.into_iter().map(|(id, units)| (id, Amount::from_units(units))).collect();
    Ok(MarginSettlement { surrendered, treasury, margin, credits, credited, dust: Amount::from_units(dust) })
}

/// A bid book read from CSV: `bids[i].id == i` (the row's index in the file), and `labels[i]` is the id
/// string written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BidBook {
    /// The id strings of the file, in file order.
    pub labels: Vec<String>,
    /// The bids, in file order, with ids `0..n`.
    pub bids: Vec<ExitBid>,
}

/// Why a bid book CSV was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookError {
    /// 1-based line number in the file (0 when the file itself is the problem).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for BookError {}

/// Parses a bid book: header `id,usdc_amount,min_price`, then one bid per row, e.g. `G,500000,0.105`. The
/// id is any non-empty string, unique in the file; `usdc_amount` a positive decimal with at most 7
/// decimals; `min_price` a positive decimal USD per TFP with at most 18 decimals. Fields are trimmed
/// and may be quoted (on one line: a quoted field running over lines is refused); blank lines and lines
/// starting with `#` are skipped. An empty book (header only) is valid.
///
/// Errors carry the 1-based line number in `text`: wrong header, wrong column count, empty or duplicate
/// id, bad, zero or negative amount or price; line 0 for a file without a header.
pub fn parse_bid_book_csv(text: &str) -> Result<BidBook, BookError> {
    // The csv reader does not count the blank and comment lines it skips, so they are replaced by a
    // one-field record `#` (skipped below) to keep the reader's line numbers equal to the file's.
    let normalized: Vec<&str> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                "#"
            } else {
                line
            }
        })
        .collect();
    let normalized = normalized.join("\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(normalized.as_bytes());
    let mut labels = Vec::new();
    let mut bids = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut header_seen = false;
    for record in reader.records() {
        let record = record.map_err(|e| BookError {
            line: e.position().map_or(0, csv::Position::line),
            message: e.to_string(),
        })?;
        if record.len() == 1 && &record[0] == "#" {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let err = |message: String| BookError { line, message };
        if record.iter().any(|field| field.contains(['\n', '\r'])) {
            return Err(err("a quoted field must end on the line it starts on".to_owned()));
        }
        if !header_seen {
            header_seen = true;
            if !record.iter().map(str::to_ascii_lowercase).eq(["id", "usdc_amount", "min_price"]) {
                let found: Vec<&str> = record.iter().collect();
                return Err(err(format!("expected the header id,usdc_amount,min_price, found {found:?}")));
            }
            continue;
        }
        if record.len() != 3 {
            return Err(err(format!(
                "expected 3 columns (id,usdc_amount,min_price), found {}",
                record.len()
            )));
        }
        let label = &record[0];
        if label.is_empty() {
            return Err(err("empty id".to_owned()));
        }
        if let Some(first) = seen.insert(label.to_owned(), line) {
            return Err(err(format!("duplicate id {label:?} (first on line {first})")));
        }
        let usdc: Amount<Usdc> = record[1].parse().map_err(|e| err(format!("usdc_amount: {e}")))?;
        if !usdc.is_positive() {
            return Err(err("usdc_amount must be positive".to_owned()));
        }
        let min_price: Price = record[2].parse().map_err(|e| err(format!("min_price: {e}")))?;
        if min_price.is_zero() {
            return Err(err("min_price must be positive".to_owned()));
        }
        bids.push(ExitBid { id: bids.len() as u64, usdc, min_price });
        labels.push(label.to_owned());
    }
    if !header_seen {
        return Err(BookError {
            line: 0,
            message: "empty file: expected the header id,usdc_amount,min_price".to_owned(),
        });
    }
    Ok(BidBook { labels, bids })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

    fn usdc(s: &str) -> Amount<Usdc> {
        s.parse().unwrap()
    }

    fn tfp(s: &str) -> Amount<Tfp> {
        s.parse().unwrap()
    }

    fn price(s: &str) -> Price {
        s.parse().unwrap()
    }

    fn bid(id: u64, amount: &str, min_price: &str) -> ExitBid {
        ExitBid { id, usdc: usdc(amount), min_price: price(min_price) }
    }

    /// The A-H book of `tokens_and_pools.md` §4.4 (ids 0..8 for A..H).
    fn da1_book() -> Vec<ExitBid> {
        vec![
            bid(0, "500000", "0.088"),
            bid(1, "600000", "0.090"),
            bid(2, "400000", "0.092"),
            bid(3, "700000", "0.095"),
            bid(4, "300000", "0.098"),
            bid(5, "200000", "0.100"),
            bid(6, "500000", "0.105"),
            bid(7, "400000", "0.110"),
        ]
    }

    fn filled(clearing: &Clearing) -> Vec<Amount<Usdc>> {
        clearing.fills.iter().map(|f| f.filled).collect()
    }

    #[test]
    fn da1_partial_fills_a_to_f_and_300k_of_g_at_0_105() {
        let clearing = clear(&da1_book(), &ClearingRules::with_cap(usdc("3000000"))).unwrap();
        let expected = ["500000", "600000", "400000", "700000", "300000", "200000", "300000", "0"];
        assert_eq!(filled(&clearing), expected.map(usdc).to_vec());
        assert_eq!(clearing.clearing_price, Some(price("0.105")));
        assert_eq!(clearing.total_filled, usdc("3000000"));
        assert_eq!(clearing.cap, usdc("3000000"));
        assert_eq!(clearing.ceiling, None);
        let statuses: Vec<_> = clearing.fills.iter().map(BidFill::status).collect();
        use FillStatus::{Full, None as Unfilled, Partial};
        assert_eq!(statuses, [Full, Full, Full, Full, Full, Full, Partial, Unfilled]);
        // Each pays ceil(filled / 0.105): A 500,000 / 0.105 = 4,761,904.7619047.6.. -> ...048.
        assert_eq!(clearing.fills[0].tfp_surrendered, tfp("4761904.7619048"));
        assert_eq!(clearing.fills[6].tfp_surrendered, tfp("2857142.8571429"));
        let sum: i128 = clearing.fills.iter().map(|f| f.tfp_surrendered.units()).sum();
        assert_eq!(clearing.total_tfp_surrendered.units(), sum);
    }

    #[test]
    fn da1_without_partial_stops_at_f_with_2_7m_at_0_100() {
        let rules = ClearingRules { allow_partial: false, ..ClearingRules::with_cap(usdc("3000000")) };
        let clearing = clear(&da1_book(), &rules).unwrap();
        let expected = ["500000", "600000", "400000", "700000", "300000", "200000", "0", "0"];
        assert_eq!(filled(&clearing), expected.map(usdc).to_vec());
        assert_eq!(clearing.clearing_price, Some(price("0.100")));
        assert_eq!(clearing.total_filled, usdc("2700000"));
        // 2,700,000 / 0.1 = 27,000,000 TFP exactly, bid by bid.
        assert_eq!(clearing.total_tfp_surrendered, tfp("27000000"));
    }

    #[test]
    fn da1_with_ref_price_0_125_excludes_g_and_h() {
        let rules =
            ClearingRules { ref_price: Some(price("0.125")), ..ClearingRules::with_cap(usdc("3000000")) };
        let clearing = clear(&da1_book(), &rules).unwrap();
        assert_eq!(clearing.ceiling, Some(price("0.1")));
        assert_eq!(clearing.clearing_price, Some(price("0.1")));
        assert_eq!(clearing.total_filled, usdc("2700000"));
        assert!(clearing.fills[6].excluded && clearing.fills[7].excluded);
        assert!(!clearing.fills[5].excluded, "a bid exactly at the ceiling is eligible");
        assert_eq!(clearing.fills[6].status(), FillStatus::Excluded);
    }

    #[test]
    fn variant_b_example_fills_x_and_20k_of_y_at_0_075() {
        let book = [bid(1, "30000", "0.070"), bid(2, "40000", "0.075"), bid(3, "10000", "0.085")];
        // cap_b = 5 % of 1,000,000 USDC in the pool.
        let cap_b =
            Amount::from_units(Bps::new(500).unwrap().share_of(usdc("1000000").units(), Rounding::Down));
        let rules = ClearingRules {
            cap_a: None,
            cap_b: Some(cap_b),
            ref_price: Some(price("0.10")),
            min_discount_bps: Bps::new(2_000).unwrap(),
            allow_partial: true,
        };
        let clearing = clear(&book, &rules).unwrap();
        assert_eq!(clearing.cap, usdc("50000"));
        assert_eq!(clearing.ceiling, Some(price("0.08")));
        assert_eq!(filled(&clearing), ["30000", "20000", "0"].map(usdc).to_vec());
        assert!(clearing.fills[2].excluded);
        assert_eq!(clearing.clearing_price, Some(price("0.075")));
        assert_eq!(clearing.total_filled, usdc("50000"));
        assert_eq!(clearing.fills[0].tfp_surrendered, tfp("400000"));
        assert_eq!(clearing.fills[1].tfp_surrendered, tfp("266666.6666667"));
        assert_eq!(clearing.total_tfp_surrendered, tfp("666666.6666667"));
        assert_eq!(clearing.total_tfp_surrendered.to_string(), "666666.6666667");
        // "666,666.67" in the spec is the same amount rounded to cents.
        assert_eq!((clearing.total_tfp_surrendered.units() + 50_000) / 100_000, 66_666_667);

        // Margin: the treasury paid 50,000 USDC = 500,000 TFP at p_ref 0.10; the margin
        // 166,666.6666667 TFP goes to two staying positions weighing 1:2 (dust 1 unit to the treasury).
        let settlement = settle_margin(
            clearing.total_tfp_surrendered,
            clearing.total_filled,
            price("0.10"),
            &[(10, 1), (11, 2)],
        )
        .unwrap();
        assert_eq!(settlement.treasury, tfp("500000"));
        assert_eq!(settlement.margin, tfp("166666.6666667"));
        assert_eq!(settlement.credits, vec![(10, tfp("55555.5555555")), (11, tfp("111111.1111111"))]);
        assert_eq!(settlement.dust, tfp("0.0000001"));
        assert_eq!(settlement.treasury_total(), tfp("500000.0000001"));
        assert_eq!(
            settlement.treasury.units() + settlement.credited.units() + settlement.dust.units(),
            clearing.total_tfp_surrendered.units()
        );
    }

    #[test]
    fn the_tighter_cap_applies() {
        let rules =
            ClearingRules { cap_b: Some(usdc("1000000")), ..ClearingRules::with_cap(usdc("3000000")) };
        let clearing = clear(&da1_book(), &rules).unwrap();
        assert_eq!(clearing.cap, usdc("1000000"));
        assert_eq!(filled(&clearing)[..3], ["500000", "500000", "0"].map(usdc));
        assert_eq!(clearing.clearing_price, Some(price("0.09")));
    }

    #[test]
    fn a_level_that_exactly_fits_sets_the_price_and_the_next_level_gets_nothing() {
        let clearing = clear(&da1_book(), &ClearingRules::with_cap(usdc("2700000"))).unwrap();
        assert_eq!(clearing.clearing_price, Some(price("0.1")));
        assert_eq!(clearing.fills[6].filled, Amount::ZERO);
        assert_eq!(clearing.total_filled, usdc("2700000"));
    }

    #[test]
    fn zero_cap_or_empty_book_fills_nothing() {
        let clearing = clear(&da1_book(), &ClearingRules::with_cap(Amount::ZERO)).unwrap();
        assert_eq!(clearing.clearing_price, None);
        assert_eq!(clearing.total_filled, Amount::ZERO);
        assert!(clearing.fills.iter().all(|f| f.status() == FillStatus::None));
        let clearing = clear(&[], &ClearingRules::with_cap(usdc("1"))).unwrap();
        assert_eq!(clearing.clearing_price, None);
        assert!(clearing.fills.is_empty());
    }

    #[test]
    fn the_marginal_level_shares_pro_rata_with_leftover_units_by_largest_remainder_then_lower_id() {
        // Three equal bids share 10 units: 3 each, the leftover unit to the lowest id.
        let book = [bid(9, "1", "0.1"), bid(4, "1", "0.1"), bid(7, "1", "0.1")];
        let clearing = clear(&book, &ClearingRules::with_cap(Amount::from_units(10))).unwrap();
        let units: Vec<(u64, i128)> = clearing.fills.iter().map(|f| (f.id, f.filled.units())).collect();
        assert_eq!(units, [(4, 4), (7, 3), (9, 3)]);
        // Amounts 1:2 sharing 1 unit: exact shares 1/3 and 2/3; the larger remainder (id 2) gets it.
        let book = [bid(1, "0.0000001", "0.1"), bid(2, "0.0000002", "0.1")];
        let clearing = clear(&book, &ClearingRules::with_cap(Amount::from_units(1))).unwrap();
        assert_eq!(filled(&clearing), [Amount::ZERO, Amount::from_units(1)]);
        assert_eq!(clearing.clearing_price, Some(price("0.1")));
        // A whole lower level fills before the marginal level shares what is left.
        let book = [bid(1, "100", "0.05"), bid(2, "300", "0.06"), bid(3, "100", "0.06"), bid(4, "9", "0.07")];
        let clearing = clear(&book, &ClearingRules::with_cap(usdc("300"))).unwrap();
        assert_eq!(filled(&clearing), ["100", "150", "50", "0"].map(usdc).to_vec());
        assert_eq!(clearing.clearing_price, Some(price("0.06")));
    }

    #[test]
    fn input_order_does_not_matter_and_fills_are_in_id_order() {
        let mut book = da1_book();
        book.reverse();
        let rules = ClearingRules::with_cap(usdc("3000000"));
        let clearing = clear(&book, &rules).unwrap();
        assert_eq!(clearing, clear(&da1_book(), &rules).unwrap());
        assert!(clearing.fills.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn bad_input_gets_typed_errors() {
        let no_cap = ClearingRules { cap_a: None, ..ClearingRules::with_cap(Amount::ZERO) };
        assert_eq!(clear(&da1_book(), &no_cap), Err(AuctionError::NoCap));
        let negative = ClearingRules::with_cap(Amount::from_units(-1));
        assert_eq!(clear(&[], &negative), Err(AuctionError::CapNegative { cap: Amount::from_units(-1) }));
        let rules = ClearingRules::with_cap(usdc("10"));
        let dup = [bid(3, "1", "0.1"), bid(5, "1", "0.1"), bid(3, "2", "0.2")];
        assert_eq!(clear(&dup, &rules), Err(AuctionError::DuplicateBidId { id: 3 }));
        assert_eq!(clear(&[bid(1, "0", "0.1")], &rules), Err(AuctionError::AmountNotPositive { id: 1 }));
        let negative_bid = ExitBid { id: 2, usdc: Amount::from_units(-5), min_price: price("0.1") };
        assert_eq!(clear(&[negative_bid], &rules), Err(AuctionError::AmountNotPositive { id: 2 }));
        assert_eq!(clear(&[bid(6, "1", "0")], &rules), Err(AuctionError::PriceZero { id: 6 }));
        let zero_ref = ClearingRules { ref_price: Some(Price::from_atto(0)), ..rules };
        assert_eq!(clear(&[], &zero_ref), Err(AuctionError::RefPriceZero));
        let huge = Amount::from_units(i128::MAX);
        let overflow = [
            ExitBid { id: 1, usdc: huge, min_price: price("1") },
            ExitBid { id: 2, usdc: huge, min_price: price("1") },
        ];
        assert_eq!(clear(&overflow, &rules), Err(AuctionError::Overflow));
        assert_eq!(AuctionError::NoCap.to_string(), "no cap: give cap A, cap B or both");
    }

    #[test]
    fn the_exclusion_compares_exactly() {
        // p_ref 0.1000000000000000001 (atto 100000000000000001) * 0.8 = 80000000000000000.8 atto: a bid at
        // 80000000000000000 atto is in, one at ...001 is out (the product comparison has no rounding).
        let rules = ClearingRules {
            ref_price: Some(Price::from_atto(100_000_000_000_000_001)),
            ..ClearingRules::with_cap(usdc("1"))
        };
        assert!(!rules.excludes(Price::from_atto(80_000_000_000_000_000)));
        assert!(rules.excludes(Price::from_atto(80_000_000_000_000_001)));
        assert_eq!(rules.ceiling(), Some(Price::from_atto(80_000_000_000_000_000)));
        let full_discount = ClearingRules { min_discount_bps: Bps::FULL, ..rules };
        assert!(full_discount.excludes(Price::from_atto(1)));
    }

    #[test]
    fn surrender_and_reservation_round_up() {
        assert_eq!(tfp_for_usdc(usdc("1"), price("3")).unwrap(), tfp("0.3333334"));
        assert_eq!(tfp_for_usdc(usdc("3"), price("3")).unwrap(), tfp("1"));
        assert_eq!(tfp_for_usdc(Amount::ZERO, price("3")).unwrap(), Amount::ZERO);
        // Above the 128-bit fast path: i128::MAX units at 2 USD.
        let big = tfp_for_usdc(Amount::from_units(i128::MAX), Price::usd(2)).unwrap();
        assert_eq!(big.units(), i128::MAX / 2 + 1);
        assert_eq!(
            tfp_for_usdc(Amount::from_units(i128::MAX), Price::from_atto(1)),
            Err(AuctionError::Overflow)
        );
        assert_eq!(tfp_for_usdc(usdc("1"), Price::from_atto(0)), Err(AuctionError::PriceZero { id: 0 }));
    }

    #[test]
    fn weight_grows_with_age_up_to_three_times() {
        let params = WeightParams::default();
        let amount = tfp("1000");
        let new = position_weight(amount, 0, &params);
        assert_eq!(new, 10_000_000_000 * 31_536_000 * 10_000);
        assert_eq!(position_weight(amount, (YEAR_S / 2) as i64, &params), new / 2 * 3);
        assert_eq!(position_weight(amount, YEAR_S as i64, &params), 2 * new);
        assert_eq!(position_weight(amount, 2 * YEAR_S as i64, &params), 3 * new);
        assert_eq!(position_weight(amount, 10 * YEAR_S as i64, &params), 3 * new);
        assert_eq!(position_weight(amount, -5, &params), new, "a future open date counts as age 0");
        // k = 0.5: a 2-year-old position weighs 2x.
        let half = WeightParams { k_bps: 5_000, ..params };
        assert_eq!(position_weight(amount, 3 * YEAR_S as i64, &half), 2 * new);
        assert_eq!(position_weight(Amount::ZERO, YEAR_S as i64, &params), 0);
        assert_eq!(position_weight(Amount::from_units(-1), 0, &params), 0);
        assert_eq!(position_weight(Amount::from_units(i128::MAX), 0, &params), u128::MAX);
    }

    #[test]
    fn pro_rata_floors_and_returns_the_dust() {
        let (shares, dust) = distribute_pro_rata(10, &[(1, 1), (2, 1), (3, 1)]).unwrap();
        assert_eq!(shares, [(1, 3), (2, 3), (3, 3)]);
        assert_eq!(dust, 1);
        let (shares, dust) = distribute_pro_rata(100, &[(5, 0), (6, 3)]).unwrap();
        assert_eq!(shares, [(5, 0), (6, 100)]);
        assert_eq!(dust, 0);
        let (shares, dust) = distribute_pro_rata(7, &[(1, 0)]).unwrap();
        assert_eq!((shares, dust), (vec![(1, 0)], 7));
        assert_eq!(distribute_pro_rata(7, &[]).unwrap(), (vec![], 7));
        assert_eq!(distribute_pro_rata(-1, &[]), Err(AuctionError::NegativeAmount { what: "total" }));
        assert_eq!(distribute_pro_rata(1, &[(1, u128::MAX), (2, 1)]), Err(AuctionError::Overflow));
    }

    #[test]
    fn margin_settlement_caps_the_treasury_at_the_surrendered_tfp() {
        // No discount rule: p_ref 0.05 below p_clear 0.1; 100 USDC paid bought 1,000 TFP surrendered, and
        // 100 USDC at 0.05 would be 2,000 TFP: the treasury takes all 1,000, the margin is 0.
        let settlement = settle_margin(tfp("1000"), usdc("100"), price("0.05"), &[(1, 5)]).unwrap();
        assert_eq!(settlement.treasury, tfp("1000"));
        assert_eq!(settlement.margin, Amount::ZERO);
        assert_eq!(settlement.credits, vec![(1, Amount::ZERO)]);
        // No staying positions: the whole margin is dust for the treasury.
        let settlement = settle_margin(tfp("1000"), usdc("50"), price("0.1"), &[]).unwrap();
        assert_eq!(settlement.treasury, tfp("500"));
        assert_eq!(settlement.dust, tfp("500"));
        assert_eq!(settlement.treasury_total(), tfp("1000"));
        // The treasury's value share rounds up: 1 USDC at 3 USD = 0.3333334 TFP.
        let settlement = settle_margin(tfp("1"), usdc("1"), price("3"), &[(1, 1)]).unwrap();
        assert_eq!(settlement.treasury, tfp("0.3333334"));
        assert_eq!(settlement.credited, tfp("0.6666666"));
        assert_eq!(
            settle_margin(tfp("1"), usdc("1"), Price::from_atto(0), &[]),
            Err(AuctionError::RefPriceZero)
        );
        assert!(matches!(
            settle_margin(Amount::from_units(-1), usdc("1"), price("1"), &[]),
            Err(AuctionError::NegativeAmount { .. })
        ));
    }

    #[test]
    fn da1_csv_book_parses_and_clears() {
        let book = parse_bid_book_csv(include_str!("../../test_data/auction/da1.csv")).unwrap();
        assert_eq!(book.labels, ["A", "B", "C", "D", "E", "F", "G", "H"]);
        assert_eq!(book.bids, da1_book());
        let clearing = clear(&book.bids, &ClearingRules::with_cap(usdc("3000000"))).unwrap();
        assert_eq!(clearing.clearing_price, Some(price("0.105")));
        assert_eq!(clearing.fills[6].filled, usdc("300000"));
        let book = parse_bid_book_csv(include_str!("../../test_data/auction/variant_b.csv")).unwrap();
        assert_eq!(book.labels, ["X", "Y", "Z"]);
        assert_eq!(book.bids[2].min_price, price("0.085"));
    }

    /// Found by the fuzzer (`fuzz/regressions/bid_book_csv/`): a quote left open ran on over the next
    /// lines, whose blank and comment lines the parser had already rewritten, so the id was mangled text and
    /// the book, written back, did not parse.
    #[test]
    fn a_quoted_field_over_several_lines_is_refused() {
        let text = "id,usdc_amount,min_price\nG,1,0.1\n\"H\n# not a comment\n\",2,0.2\n";
        let error = parse_bid_book_csv(text).unwrap_err();
        assert_eq!(
            (error.line, error.message.as_str()),
            (3, "a quoted field must end on the line it starts on")
        );
        assert_eq!(
            parse_bid_book_csv("id,usdc_amount,min_price\n\"H, quoted\",2,0.2\n").unwrap().labels,
            ["H, quoted"]
        );
    }

    #[test]
    fn bad_csv_is_refused_with_line_numbers() {
        let err = |text: &str| parse_bid_book_csv(text).unwrap_err().to_string();
        assert_eq!(parse_bid_book_csv("id,usdc_amount,min_price\n").unwrap().bids, vec![]);
        assert!(err("").starts_with("empty file"));
        assert!(err("# only a comment\nid,amount\n").starts_with("line 2: expected the header"));
        assert!(err("\n\nid,usdc_amount,min_price\r\n\r\nA,1,0.1\r\nA,1,0.1\r\n")
            .starts_with("line 6: duplicate id"));
        let quoted = parse_bid_book_csv("id,usdc_amount,min_price\n\"lp, one\", 5 ,0.1\n").unwrap();
        assert_eq!(quoted.labels, ["lp, one"]);
        assert_eq!(quoted.bids[0].usdc, usdc("5"));
        assert!(err("name,amount,price\nA,1,0.1\n").starts_with("line 1: expected the header"));
        assert_eq!(
            err("id,usdc_amount,min_price\nA,1,0.1\nB,2,0.1\nA,3,0.1\n"),
            "line 4: duplicate id \"A\" (first on line 2)"
        );
        assert!(
            err("id,usdc_amount,min_price\nA,1,0.1\nB,1.00000001,0.1\n").starts_with("line 3: usdc_amount:")
        );
        assert!(err("id,usdc_amount,min_price\n# comment\nA,abc,0.1\n").starts_with("line 3: usdc_amount:"));
        assert_eq!(err("id,usdc_amount,min_price\nA,0,0.1\n"), "line 2: usdc_amount must be positive");
        assert!(err("id,usdc_amount,min_price\nA,-1,0.1\n").starts_with("line 2: usdc_amount: negative"));
        assert_eq!(err("id,usdc_amount,min_price\nA,1,0\n"), "line 2: min_price must be positive");
        assert!(err("id,usdc_amount,min_price\nA,1,x\n").starts_with("line 2: min_price:"));
        assert!(err("id,usdc_amount,min_price\nA,1\n").starts_with("line 2:"));
        assert_eq!(err("id,usdc_amount,min_price\n,1,0.1\n"), "line 2: empty id");
    }

    /// An independent, slow clearing: level by level with exact rationals, for comparison.
    fn reference_fills(bids: &[ExitBid], rules: &ClearingRules) -> Vec<(u64, i128)> {
        let cap = rules.cap().unwrap().units();
        let mut eligible: Vec<&ExitBid> = bids.iter().filter(|b| !rules.excludes(b.min_price)).collect();
        eligible.sort_by_key(|b| b.min_price);
        let mut out: Vec<(u64, i128)> = bids.iter().map(|b| (b.id, 0)).collect();
        let mut total = 0i128;
        let mut prices: Vec<Price> = eligible.iter().map(|b| b.min_price).collect();
        prices.dedup();
        for p in prices {
            let level: Vec<&&ExitBid> = eligible.iter().filter(|b| b.min_price == p).collect();
            let level_total: i128 = level.iter().map(|b| b.usdc.units()).sum();
            let set = |out: &mut Vec<(u64, i128)>, id: u64, v: i128| {
                out.iter_mut().find(|e| e.0 == id).unwrap().1 = v;
            };
            if total + level_total <= cap {
                for b in &level {
                    set(&mut out, b.id, b.usdc.units());
                }
                total += level_total;
                continue;
            }
            if rules.allow_partial {
                let rem = cap - total;
                // Hamilton's method: floors, then leftover by (remainder desc, id asc).
                let mut parts: Vec<(i128, i128, u64)> = level
                    .iter()
                    .map(|b| (rem * b.usdc.units() / level_total, rem * b.usdc.units() % level_total, b.id))
                    .collect();
                let mut left = rem - parts.iter().map(|p| p.0).sum::<i128>();
                parts.sort_by_key(|p| (Reverse(p.1), p.2));
                for p in &mut parts {
                    if left > 0 {
                        p.0 += 1;
                        left -= 1;
                    }
                }
                for p in parts {
                    set(&mut out, p.2, p.0);
                }
            }
            break;
        }
        out.sort_unstable();
        out
    }

    #[derive(Clone, Debug)]
    struct Case {
        bids: Vec<ExitBid>,
        rules: ClearingRules,
        staying: Vec<(u64, u128)>,
    }

    /// Random books: unique ids, amounts from one unit to 10^6 USDC, prices on a 0.005 grid (so levels
    /// hold several bids, and the 0.08 ceiling of p_ref 0.1 at 20 % falls on a level) or arbitrary atto
    /// values; caps from 0 to 120 % of the demand.
    fn case() -> impl Strategy<Value = Case> {
        let bid_parts = (
            prop_oneof![1i128..=100, 1i128..=10_000_000_000_000],
            prop_oneof![
                3 => (1u128..=24).prop_map(|k| k * 5_000_000_000_000_000),
                1 => 1u128..=200_000_000_000_000_000,
            ],
        );
        (
            prop::collection::vec(bid_parts, 0..40),
            prop::collection::btree_set(0u64..1_000, 40),
            prop::option::of(prop_oneof![1u128..=150_000_000_000_000_000, Just(100_000_000_000_000_000u128)]),
            prop_oneof![Just(2_000u16), 0u16..=3_000, Just(10_000u16)],
            any::<bool>(),
            0u32..=1_200,
            prop::option::of(0u32..=1_500),
            prop::collection::vec(0u128..=1_000_000_000_000_000_000_000, 0..8),
        )
            .prop_map(
                |(parts, ids, ref_atto, bps, allow_partial, cap_permille, cap_b_permille, weights)| {
                    let bids: Vec<ExitBid> = parts
                        .iter()
                        .zip(ids.iter())
                        .map(|(&(units, atto), &id)| ExitBid {
                            id,
                            usdc: Amount::from_units(units),
                            min_price: Price::from_atto(atto),
                        })
                        .collect();
                    let demand: i128 = bids.iter().map(|b| b.usdc.units()).sum();
                    let cap = |permille: u32| Amount::from_units(demand * i128::from(permille) / 1_000);
                    let rules = ClearingRules {
                        cap_a: Some(cap(cap_permille)),
                        cap_b: cap_b_permille.map(cap),
                        ref_price: ref_atto.map(Price::from_atto),
                        min_discount_bps: Bps::new(bps).unwrap(),
                        allow_partial,
                    };
                    let staying =
                        weights.into_iter().enumerate().map(|(i, w)| (5_000 + i as u64, w)).collect();
                    Case { bids, rules, staying }
                },
            )
    }

    fn config() -> Config {
        Config {
            cases: 512,
            failure_persistence: None,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(0xa0c7_10a5),
            ..Config::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn shuffled_input_gives_the_same_clearing(
            (case, shuffled) in case().prop_flat_map(|c| {
                let bids = c.bids.clone();
                (Just(c), Just(bids).prop_shuffle())
            })
        ) {
            prop_assert_eq!(clear(&case.bids, &case.rules).unwrap(), clear(&shuffled, &case.rules).unwrap());
        }

        #[test]
        fn clearing_obeys_the_rules(case in case()) {
            let Case { bids, rules, staying } = case;
            let c = clear(&bids, &rules).unwrap();
            let cap = rules.cap().unwrap();
            prop_assert_eq!(c.cap, cap);
            prop_assert_eq!(c.fills.len(), bids.len());
            prop_assert!(c.fills.windows(2).all(|w| w[0].id < w[1].id));
            let bid_of = |id: u64| bids.iter().find(|b| b.id == id).unwrap();

            // Same result as the slow reference.
            let got: Vec<(u64, i128)> = c.fills.iter().map(|f| (f.id, f.filled.units())).collect();
            prop_assert_eq!(&got, &reference_fills(&bids, &rules));

            // Totals and the cap.
            let total: i128 = c.fills.iter().map(|f| f.filled.units()).sum();
            prop_assert_eq!(total, c.total_filled.units());
            prop_assert!(c.total_filled <= cap);
            let eligible_demand: i128 =
                c.fills.iter().filter(|f| !f.excluded).map(|f| f.requested.units()).sum();
            if rules.allow_partial {
                prop_assert_eq!(total, eligible_demand.min(cap.units()));
            }
            let tfp_total: i128 = c.fills.iter().map(|f| f.tfp_surrendered.units()).sum();
            prop_assert_eq!(tfp_total, c.total_tfp_surrendered.units());

            // Exclusion is exact and excluded bids get nothing.
            for f in &c.fills {
                let b = bid_of(f.id);
                let keep = u128::from(10_000 - rules.min_discount_bps.get());
                let above = rules.ref_price.is_some_and(|p| {
                    cmp_products(b.min_price.atto(), 10_000, p.atto(), keep) == std::cmp::Ordering::Greater
                });
                prop_assert_eq!(f.excluded, above);
                if f.excluded {
                    prop_assert_eq!(f.filled, Amount::ZERO);
                }
                prop_assert!(f.filled.units() >= 0 && f.filled <= f.requested);
            }

            match c.clearing_price {
                None => {
                    prop_assert_eq!(total, 0);
                    prop_assert_eq!(tfp_total, 0);
                }
                Some(p_clear) => {
                    let filled: Vec<&BidFill> = c.fills.iter().filter(|f| f.filled.is_positive()).collect();
                    // p_clear is the highest min price with a fill; every filled bid clears at or above its
                    // min price.
                    prop_assert_eq!(filled.iter().map(|f| bid_of(f.id).min_price).max(), Some(p_clear));
                    for f in &c.fills {
                        let b = bid_of(f.id);
                        if !f.excluded && b.min_price < p_clear {
                            prop_assert_eq!(f.filled, f.requested, "below p_clear fills fully");
                        }
                        if b.min_price > p_clear {
                            prop_assert_eq!(f.filled, Amount::ZERO, "above p_clear gets nothing");
                        }
                        if !rules.allow_partial && !f.excluded && b.min_price <= p_clear {
                            prop_assert_eq!(f.filled, f.requested, "no partial fills");
                        }
                    }
                    // TFP surrendered: ceil(filled / p_clear), at least the exact value, less than one unit
                    // above it, and within the bid's reservation at its own min price.
                    let scale = Price::scale();
                    for f in &c.fills {
                        let filled = f.filled.units() as u128;
                        let tfp = f.tfp_surrendered.units() as u128;
                        prop_assert_eq!(tfp, mul_div(filled, scale, p_clear.atto(), Rounding::Up).unwrap());
                        prop_assert!(cmp_products(tfp, p_clear.atto(), filled, scale).is_ge());
                        if tfp > 0 {
                            prop_assert!(cmp_products(tfp - 1, p_clear.atto(), filled, scale).is_lt());
                        }
                        let reservation = tfp_for_usdc(f.requested, bid_of(f.id).min_price).unwrap();
                        prop_assert!(f.tfp_surrendered <= reservation);
                    }
                    // Pro rata at the margin: |filled_i - R * a_i / L| < 1 for the level at p_clear.
                    let level: Vec<&BidFill> =
                        c.fills.iter().filter(|f| !f.excluded && bid_of(f.id).min_price == p_clear).collect();
                    let r: i128 = level.iter().map(|f| f.filled.units()).sum();
                    let l: i128 = level.iter().map(|f| f.requested.units()).sum();
                    for f in &level {
                        prop_assert!((f.filled.units() * l - r * f.requested.units()).abs() < l);
                    }
                    // Maximality without partial fills: the next eligible level would not have fit.
                    if !rules.allow_partial {
                        let next = c.fills.iter().filter(|f| !f.excluded).map(|f| bid_of(f.id).min_price)
                            .filter(|&p| p > p_clear).min();
                        if let Some(next) = next {
                            let next_total: i128 = c.fills.iter()
                                .filter(|f| !f.excluded && bid_of(f.id).min_price == next)
                                .map(|f| f.requested.units()).sum();
                            prop_assert!(total + next_total > cap.units());
                        }
                    }
                }
            }

            // Margin settlement conserves TFP exactly.
            if let Some(p_ref) = rules.ref_price {
                let s = settle_margin(c.total_tfp_surrendered, c.total_filled, p_ref, &staying).unwrap();
                prop_assert_eq!(
                    s.treasury.units() + s.credited.units() + s.dust.units(),
                    c.total_tfp_surrendered.units()
                );
                let credited: i128 = s.credits.iter().map(|(_, a)| a.units()).sum();
                prop_assert_eq!(credited, s.credited.units());
                prop_assert!(s.treasury <= s.surrendered && s.dust.units() >= 0);
                prop_assert!(s.credits.iter().all(|(_, a)| a.units() >= 0));
                let exact = tfp_for_usdc(c.total_filled, p_ref).unwrap();
                prop_assert_eq!(s.treasury, exact.min(c.total_tfp_surrendered));
                let positive = staying.iter().filter(|(_, w)| *w > 0).count() as i128;
                if positive > 0 {
                    prop_assert!(s.dust.units() < positive);
                }
            }
        }

        #[test]
        fn equal_bids_at_the_margin_differ_by_at_most_one_unit_and_lower_ids_get_the_extra_units(
            ids in prop::collection::btree_set(any::<u64>(), 2..30)
                .prop_map(|set| set.into_iter().collect::<Vec<_>>())
                .prop_shuffle(),
            amount in 1i128..=1_000,
            cap_share in 0u32..1_000,
        ) {
            let n = ids.len() as i128;
            let cap = amount * n * i128::from(cap_share) / 1_000;
            let bids: Vec<ExitBid> = ids
                .iter()
                .map(|&id| ExitBid { id, usdc: Amount::from_units(amount), min_price: price("0.05") })
                .collect();
            let c = clear(&bids, &ClearingRules::with_cap(Amount::from_units(cap))).unwrap();
            prop_assert_eq!(c.total_filled.units(), cap);
            // fills are in ascending id order: the first cap % n bids get one unit more.
            for (rank, fill) in c.fills.iter().enumerate() {
                let extra = i128::from((rank as i128) < cap % n);
                prop_assert_eq!(fill.filled.units(), cap / n + extra);
            }
        }

        #[test]
        fn pro_rata_shares_are_floors_and_the_dust_closes_the_sum(
            total in 0i128..=1_000_000_000_000_000,
            weights in prop::collection::vec(0u128..=1_000_000_000_000_000_000_000_000, 0..20),
        ) {
            let input: Vec<(u64, u128)> = weights.iter().enumerate().map(|(i, &w)| (i as u64, w)).collect();
            let (shares, dust) = distribute_pro_rata(total, &input).unwrap();
            let sum_w: u128 = weights.iter().sum();
            prop_assert_eq!(shares.iter().map(|s| s.1).sum::<i128>() + dust, total);
            for ((id, share), (wid, w)) in shares.iter().zip(&input) {
                prop_assert_eq!(id, wid);
                let expected =
                    if sum_w == 0 { 0 } else { mul_div(total as u128, *w, sum_w, Rounding::Down).unwrap() };
                prop_assert_eq!(*share as u128, expected);
            }
            prop_assert!(dust >= 0);
        }
    }
}
