//! Views of the in-wallet exchange: markets (counts only: orders are sealed), published batches, depth, and
//! one's own orders and fills.

use tfeco_api::exchange::{
    BatchView, BatchesView, DepthLevel, DepthView, ExchangeMarketView, ExchangeMarketsView, OwnFillView,
    OwnFillsView, OwnOrderView, OwnOrdersView, SideCounts,
};
use tfeco_core::slices::exchange::{BatchRecord, MarketBook};
use tfeco_core::Side;
use tfeco_core::{AccountKey, State};
use tfeco_core::{MarketId, MarketSpec};

/// One market: its rules, current batch, schedule, last price and open order counts per side as of the
/// last clear.
fn market_view(state: &State, spec: &MarketSpec) -> ExchangeMarketView {
    let book: Option<&MarketBook> = state.exchange().books().get(&spec.id);
    // Sealed orders (decisions §13): the counts as of the last clear, never moved by placing, amending or
    // cancelling an order.
    let public = book.map(|b| b.public).unwrap_or_default();
    let count = |side: Side| {
        let count = if side == Side::Buy { public.buy_orders } else { public.sell_orders };
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    // A market's book starts with its first order or tick after it was registered, its first batch closing
    // one interval after the state's time then: shown the same before, so that the first order changes
    // nothing others can read.
    let next_clear_at =
        Some(book.map_or(state.now().saturating_add(spec.batch_interval_s), |b| b.next_clear_at));
    ExchangeMarketView {
        id: spec.id,
        base: spec.base,
        quote: spec.quote,
        batch_interval_s: spec.batch_interval_s,
        lock_window_s: spec.lock_window_s,
        max_orders_per_account_per_batch: spec.max_orders_per_account_per_batch,
        min_order_base: spec.min_order_base,
        fee_bps: spec.fee_bps,
        identity_required: spec.identity_required,
        default_order_batches: spec.default_order_batches,
        batch: book.map_or(1, |b| b.batch),
        next_clear_at,
        lock_window_starts_at: next_clear_at.map(|t| t - spec.lock_window_s),
        in_lock_window: next_clear_at.is_some_and(|t| state.now() >= t - spec.lock_window_s),
        last_price: book.and_then(|b| b.last_price),
        open_orders: SideCounts { buy: count(Side::Buy), sell: count(Side::Sell) },
        batches_published: book.map_or(0, |b| b.history.len()),
    }
}

/// `GET /v1/exchange/markets`.
pub fn markets(state: &State) -> ExchangeMarketsView {
    let markets = state.params().markets.iter().map(|spec| market_view(state, spec)).collect();
    ExchangeMarketsView { now: state.now(), markets }
}

/// Whether market `id` exists.
pub fn market_exists(state: &State, id: MarketId) -> bool {
    state.params().markets.iter().any(|m| m.id == id)
}

fn depth_levels(record: &BatchRecord) -> Vec<DepthLevel> {
    record
        .depth
        .iter()
        .map(|(price, buy, sell)| DepthLevel { price: *price, buy: *buy, sell: *sell })
        .collect()
}

/// A published batch without its fills (each owner reads its own).
fn batch_view(market_id: MarketId, record: &BatchRecord) -> BatchView {
    BatchView {
        market_id,
        batch: record.batch,
        cleared_at: record.cleared_at,
        price: record.price,
        volume: record.volume,
        imbalance: record.imbalance,
        orders: record.orders,
        filled_orders: record.fills.len(),
        depth: depth_levels(record),
    }
}

/// `GET /v1/exchange/markets/{id}/batches`: the newest `limit` batches (market `id` must exist).
pub fn batches(state: &State, id: MarketId, limit: usize) -> BatchesView {
    let batches = state
        .exchange()
        .books()
        .get(&id)
        .map(|b| b.history.iter().rev().take(limit).map(|r| batch_view(id, r)).collect())
        .unwrap_or_default();
    BatchesView { market_id: id, batches }
}

/// `GET /v1/exchange/markets/{id}/depth` (market `id` must exist).
pub fn depth(state: &State, id: MarketId) -> DepthView {
    match state.exchange().books().get(&id).and_then(|b| b.history.back()) {
        Some(record) => DepthView {
            market_id: id,
            batch: Some(record.batch),
            cleared_at: Some(record.cleared_at),
            price: record.price,
            levels: depth_levels(record),
        },
        None => DepthView { market_id: id, batch: None, cleared_at: None, price: None, levels: Vec::new() },
    }
}

/// `GET /v1/exchange/orders` for `reader`.
pub fn own_orders(state: &State, reader: AccountKey) -> OwnOrdersView {
    let mut orders = Vec::new();
    for (market_id, book) in state.exchange().books() {
        let lock_window_s =
            state.params().markets.iter().find(|m| m.id == *market_id).map_or(0, |m| m.lock_window_s);
        for order in book.orders.values().filter(|o| o.owner == reader) {
            orders.push(OwnOrderView {
                id: order.id,
                market_id: order.market_id,
                owner: order.owner,
                side: order.side,
                quantity: order.quantity,
                limit_price: order.limit_price,
                escrow: order.escrow,
                placed_in_batch: order.placed_in_batch,
                expires_after_batch: order.expires_after_batch,
                next_clear_at: book.next_clear_at,
                locked: state.now() >= book.next_clear_at - lock_window_s,
            });
        }
    }
    OwnOrdersView { account: reader, now: state.now(), orders }
}

/// `GET /v1/exchange/fills` for `reader`: newest first; within a batch by market and order id.
pub fn own_fills(state: &State, reader: AccountKey) -> OwnFillsView {
    let mut fills = Vec::new();
    for (market_id, book) in state.exchange().books() {
        for record in &book.history {
            for fill in record.fills.iter().filter(|f| f.owner == reader) {
                fills.push(OwnFillView {
                    market_id: *market_id,
                    batch: record.batch,
                    cleared_at: record.cleared_at,
                    price: record.price,
                    order_id: fill.order_id,
                    side: fill.side,
                    filled: fill.filled,
                    quote: fill.quote,
                    fee: fill.fee,
                });
            }
        }
    }
    fills.sort_by(|a, b| {
        b.cleared_at.cmp(&a.cleared_at).then(a.market_id.cmp(&b.market_id)).then(a.order_id.cmp(&b.order_id))
    });
    OwnFillsView { account: reader, fills }
}
