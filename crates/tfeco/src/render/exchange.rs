//! The exchange for people: an order, a fill, a market's status with its last batches and depth (from the
//! node's JSON views). Markets are named by their assets (`TFT/USDC`), which the caller looks up once.

use serde::Serialize;
use tfeco_core::{MarketId, Side};
use tfeco_wallet::api::exchange::{
    BatchView, DepthView, ExchangeMarketView, ExchangeMarketsView, OwnFillView, OwnFillsView, OwnOrderView,
    OwnOrdersView,
};

use super::opt;

/// `(market id, base, quote)` asset codes of the markets, for display.
pub(crate) type AssetNames = Vec<(MarketId, String, String)>;

/// A market's status, its last batches and its depth after the last clear, as one view (`wallet exchange
/// market`, also its `--json` output).
#[derive(Serialize)]
pub(crate) struct MarketOverview {
    /// The node's time, unix seconds.
    pub(crate) now: i64,
    /// The market's status.
    pub(crate) market: ExchangeMarketView,
    /// Its last batches, newest first.
    pub(crate) batches: Vec<BatchView>,
    /// The depth after its last clear.
    pub(crate) depth: DepthView,
}

/// The asset codes of `/v1/exchange/markets`.
pub(crate) fn asset_names(markets: &ExchangeMarketsView) -> AssetNames {
    markets.markets.iter().map(|m| (m.id, m.base.to_string(), m.quote.to_string())).collect()
}

/// `(base, quote)` of a market, or `("base", "quote")` when unknown.
pub(crate) fn names_of(names: &[(MarketId, String, String)], market: MarketId) -> (String, String) {
    names
        .iter()
        .find(|(id, ..)| *id == market)
        .map(|(_, b, q)| (b.clone(), q.clone()))
        .unwrap_or_else(|| ("base".to_owned(), "quote".to_owned()))
}

/// One open order (a sell escrows the base asset, a buy the quote).
pub(crate) fn order_line(order: &OwnOrderView, names: &[(MarketId, String, String)]) -> String {
    let (base, quote) = names_of(names, order.market_id);
    let escrow_asset = if order.side == Side::Sell { &base } else { &quote };
    format!(
        "order {}  market {}  {:<4} {} {base} at {} {quote}/{base}  escrow {} {escrow_asset}  batches {} to {}{}",
        order.id,
        order.market_id,
        order.side.to_string(),
        order.quantity,
        order.limit_price,
        order.escrow,
        order.placed_in_batch,
        order.expires_after_batch,
        if order.locked { "  (locked: clears soon)" } else { "" },
    )
}

/// One fill of the caller's orders.
pub(crate) fn fill_line(fill: &OwnFillView, names: &[(MarketId, String, String)]) -> String {
    let (base, quote) = names_of(names, fill.market_id);
    let (verb, money) = if fill.side == Side::Buy { ("bought", "paid") } else { ("sold", "received") };
    format!(
        "batch {} of market {} (cleared at {}): order {} {verb} {} {base} at {} {quote}/{base}, {money} {} {quote} \
         (fee {})",
        fill.batch,
        fill.market_id,
        super::time::iso(fill.cleared_at),
        fill.order_id,
        fill.filled,
        opt(fill.price),
        fill.quote,
        fill.fee,
    )
}

/// The caller's open orders.
pub(crate) fn orders(view: &OwnOrdersView, names: &[(MarketId, String, String)]) -> String {
    if view.orders.is_empty() {
        return "no open orders".to_owned();
    }
    view.orders.iter().map(|o| order_line(o, names)).collect::<Vec<_>>().join("\n")
}

/// The caller's fills.
pub(crate) fn fills(view: &OwnFillsView, names: &[(MarketId, String, String)]) -> String {
    if view.fills.is_empty() {
        return "no fills in the recent batches".to_owned();
    }
    view.fills.iter().map(|f| fill_line(f, names)).collect::<Vec<_>>().join("\n")
}

fn status_lines(now: i64, status: &ExchangeMarketView, base: &str, quote: &str) -> [String; 2] {
    let last_price =
        status.last_price.map_or_else(|| "none yet".to_owned(), |p| format!("{p} {quote}/{base}"));
    [
        format!(
            "market {} {base}/{quote}: batch {} clears at {} (lock window from {}; node time {}); every {} s",
            status.id,
            status.batch,
            status.next_clear_at.map_or_else(|| "-".to_owned(), |at| super::time::iso_from(at, now)),
            status.lock_window_starts_at.map_or_else(|| "-".to_owned(), super::time::iso),
            super::time::iso(now),
            status.batch_interval_s
        ),
        format!(
            "last price {last_price}; open orders: {} buy, {} sell (sealed until the clear); min order {} {base}; fee {} \
             bps{}",
            status.open_orders.buy,
            status.open_orders.sell,
            status.min_order_base,
            status.fee_bps.get(),
            if status.identity_required { "; verified accounts only" } else { "" }
        ),
    ]
}

fn batch_line(b: &BatchView, base: &str) -> String {
    format!(
        "batch {} at {}: price {}, volume {} {base}, imbalance {} {base}, {} orders ({} filled)",
        b.batch,
        super::time::iso(b.cleared_at),
        b.price.map_or_else(|| "none (nothing crossed)".to_owned(), |p| p.to_string()),
        b.volume,
        b.imbalance,
        b.orders,
        b.filled_orders
    )
}

fn depth_lines(depth: &DepthView, base: &str, quote: &str) -> Vec<String> {
    let Some(batch) = depth.batch else { return vec!["depth: no clear yet".to_owned()] };
    let mut lines = vec![format!("depth after batch {batch} ({quote}/{base}):")];
    if depth.levels.is_empty() {
        lines.push("  (empty book)".to_owned());
    }
    lines.extend(depth.levels.iter().map(|l| {
        format!(
            "  {:>12}  buy {:>14} {base}  sell {:>14} {base}",
            l.price.to_string(),
            l.buy.to_string(),
            l.sell.to_string()
        )
    }));
    lines
}

/// A market's status, last batches and depth.
pub(crate) fn market(view: &MarketOverview) -> String {
    let status = &view.market;
    let (base, quote) = (status.base.to_string(), status.quote.to_string());
    let mut lines = status_lines(view.now, status, &base, &quote).to_vec();
    if view.batches.is_empty() {
        lines.push("no batch published yet".to_owned());
    }
    lines.extend(view.batches.iter().map(|b| batch_line(b, &base)));
    lines.extend(depth_lines(&view.depth, &base, &quote));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use tfeco_core::{AccountKey, OrderId};
    use tfeco_money::{Asset, Bps};
    use tfeco_wallet::api::exchange::SideCounts;

    use super::*;

    fn names() -> AssetNames {
        vec![(MarketId(1), "TFT".to_owned(), "USDC".to_owned())]
    }

    #[test]
    fn lines_name_the_assets_of_the_market() {
        let amount = |s: &str| s.parse().unwrap();
        let fill = OwnFillView {
            market_id: MarketId(1),
            batch: 4,
            cleared_at: 100,
            price: Some("0.012".parse().unwrap()),
            order_id: OrderId(9),
            side: Side::Buy,
            filled: amount("1000"),
            quote: amount("12"),
            fee: amount("0"),
        };
        assert_eq!(
            fill_line(&fill, &names()),
            "batch 4 of market 1 (cleared at 1970-01-01T00:01:40Z): order 9 bought 1000 TFT at 0.012 USDC/TFT, paid 12 USDC (fee 0)"
        );
        let order = OwnOrderView {
            id: OrderId(3),
            market_id: MarketId(1),
            owner: AccountKey([1; 32]),
            side: Side::Sell,
            quantity: amount("10"),
            limit_price: "0.02".parse().unwrap(),
            escrow: amount("10"),
            placed_in_batch: 1,
            expires_after_batch: 360,
            next_clear_at: 20,
            locked: true,
        };
        let line = order_line(&order, &names());
        assert!(
            line.contains("sell 10 TFT at 0.02 USDC/TFT  escrow 10 TFT  batches 1 to 360  (locked"),
            "{line}"
        );
    }

    #[test]
    fn a_market_shows_status_batches_and_depth() {
        let amount = |s: &str| s.parse().unwrap();
        let market = ExchangeMarketView {
            id: MarketId(1),
            base: Asset::Tft,
            quote: Asset::Usdc,
            batch_interval_s: 10,
            lock_window_s: 2,
            max_orders_per_account_per_batch: 10,
            min_order_base: amount("1"),
            fee_bps: Bps::new(0).unwrap(),
            identity_required: false,
            default_order_batches: 360,
            batch: 2,
            next_clear_at: Some(20),
            lock_window_starts_at: Some(18),
            in_lock_window: false,
            last_price: Some("0.012".parse().unwrap()),
            open_orders: SideCounts { buy: 1, sell: 0 },
            batches_published: 1,
        };
        let batch = BatchView {
            market_id: MarketId(1),
            batch: 1,
            cleared_at: 10,
            price: Some("0.012".parse().unwrap()),
            volume: amount("1000"),
            imbalance: amount("0"),
            orders: 2,
            filled_orders: 2,
            depth: vec![],
        };
        let depth = DepthView {
            market_id: MarketId(1),
            batch: Some(1),
            cleared_at: Some(10),
            price: None,
            levels: vec![],
        };
        let text = super::market(&MarketOverview { now: 5, market, batches: vec![batch], depth });
        assert!(
            text.starts_with(
                "market 1 TFT/USDC: batch 2 clears at 1970-01-01T00:00:20Z (in 15 s) (lock window from \
                 1970-01-01T00:00:18Z; node time 1970-01-01T00:00:05Z)"
            ),
            "{text}"
        );
        assert!(text.contains("last price 0.012 USDC/TFT; open orders: 1 buy, 0 sell"), "{text}");
        assert!(text.contains("batch 1 at 1970-01-01T00:00:10Z: price 0.012, volume 1000 TFT"), "{text}");
        assert!(text.contains("depth after batch 1 (USDC/TFT):\n  (empty book)"), "{text}");
    }
}
