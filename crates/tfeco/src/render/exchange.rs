//! The exchange for people: an order, a fill, a market's status with its last batches and depth (from the
//! node's JSON views). Markets are named by their assets (`TFT/USDC`), which the caller looks up once.

use serde_json::Value;

use super::{list, text};

/// `(market id, base, quote)` asset codes of the markets, for display.
pub(crate) type AssetNames = Vec<(u64, String, String)>;

/// The asset codes of `/v1/exchange/markets` (`{markets: [{id, base, quote, ...}]}`).
pub(crate) fn asset_names(markets: &Value) -> AssetNames {
    list(&markets["markets"])
        .iter()
        .map(|m| (m["id"].as_u64().unwrap_or(0), text(&m["base"]), text(&m["quote"])))
        .collect()
}

/// `(base, quote)` of a market, or `("base", "quote")` when unknown.
pub(crate) fn names_of(names: &[(u64, String, String)], market: u64) -> (String, String) {
    names
        .iter()
        .find(|(id, ..)| *id == market)
        .map(|(_, b, q)| (b.clone(), q.clone()))
        .unwrap_or_else(|| ("base".to_owned(), "quote".to_owned()))
}

/// The first event named `name` of an accepted command.
pub(crate) fn event<'a>(events: &'a Value, name: &str) -> Option<&'a Value> {
    list(events).iter().find(|e| e["event"] == name)
}

/// One open order (a sell escrows the base asset, a buy the quote).
pub(crate) fn order_line(order: &Value, names: &[(u64, String, String)]) -> String {
    let (base, quote) = names_of(names, order["market_id"].as_u64().unwrap_or(0));
    let escrow_asset = if order["side"] == "sell" { &base } else { &quote };
    format!(
        "order {:>5}  market {}  {:<4} {} {base} at {} {quote}/{base}  escrow {} {escrow_asset}  batches {}..={}{}",
        order["id"],
        order["market_id"],
        text(&order["side"]),
        text(&order["quantity"]),
        text(&order["limit_price"]),
        text(&order["escrow"]),
        order["placed_in_batch"],
        order["expires_after_batch"],
        if order["locked"] == true { "  (locked: clears soon)" } else { "" },
    )
}

/// One fill of the caller's orders.
pub(crate) fn fill_line(fill: &Value, names: &[(u64, String, String)]) -> String {
    let (base, quote) = names_of(names, fill["market_id"].as_u64().unwrap_or(0));
    let (verb, money) = if fill["side"] == "buy" { ("bought", "paid") } else { ("sold", "received") };
    format!(
        "batch {} of market {} (cleared at {}): order {} {verb} {} {base} at {} {quote}/{base}, {money} {} {quote} \
         (fee {})",
        fill["batch"],
        fill["market_id"],
        fill["cleared_at"],
        fill["order_id"],
        text(&fill["filled"]),
        text(&fill["price"]),
        text(&fill["quote"]),
        text(&fill["fee"]),
    )
}

/// The caller's open orders (`{orders: [...]}`).
pub(crate) fn orders(value: &Value, names: &[(u64, String, String)]) -> String {
    let orders = list(&value["orders"]);
    if orders.is_empty() {
        return "no open orders".to_owned();
    }
    orders.iter().map(|o| order_line(o, names)).collect::<Vec<_>>().join("\n")
}

/// The caller's fills (`{fills: [...]}`).
pub(crate) fn fills(value: &Value, names: &[(u64, String, String)]) -> String {
    let fills = list(&value["fills"]);
    if fills.is_empty() {
        return "no fills in the recent batches".to_owned();
    }
    fills.iter().map(|f| fill_line(f, names)).collect::<Vec<_>>().join("\n")
}

fn status_lines(now: &Value, status: &Value, base: &str, quote: &str) -> [String; 2] {
    let last_price = status["last_price"]
        .as_str()
        .map_or_else(|| "none yet".to_owned(), |p| format!("{p} {quote}/{base}"));
    [
        format!(
            "market {} {base}/{quote}: batch {} clears at {} (lock window from {}; node time {now}); every {} s",
            status["id"],
            status["batch"],
            status["next_clear_at"],
            status["lock_window_starts_at"],
            status["batch_interval_s"]
        ),
        format!(
            "last price {last_price}; open orders: {} buy, {} sell (sealed until the clear); min order {} {base}; fee {} \
             bps{}",
            status["open_orders"]["buy"],
            status["open_orders"]["sell"],
            text(&status["min_order_base"]),
            status["fee_bps"],
            if status["identity_required"] == true { "; verified accounts only" } else { "" }
        ),
    ]
}

fn batch_line(b: &Value, base: &str) -> String {
    format!(
        "batch {:>6} at {}: price {}, volume {} {base}, imbalance {} {base}, {} orders ({} filled)",
        b["batch"],
        b["cleared_at"],
        b["price"].as_str().unwrap_or("none (nothing crossed)"),
        text(&b["volume"]),
        text(&b["imbalance"]),
        b["orders"],
        b["filled_orders"]
    )
}

fn depth_lines(depth: &Value, base: &str, quote: &str) -> Vec<String> {
    if depth["batch"].is_null() {
        return vec!["depth: no clear yet".to_owned()];
    }
    let mut lines = vec![format!("depth after batch {} ({quote}/{base}):", depth["batch"])];
    let levels = list(&depth["levels"]);
    if levels.is_empty() {
        lines.push("  (empty book)".to_owned());
    }
    lines.extend(levels.iter().map(|l| {
        format!(
            "  {:>12}  buy {:>14} {base}  sell {:>14} {base}",
            text(&l["price"]),
            text(&l["buy"]),
            text(&l["sell"])
        )
    }));
    lines
}

/// A market's status, last batches and depth (`{now, market, batches, depth}`).
pub(crate) fn market(value: &Value) -> String {
    let status = &value["market"];
    let (base, quote) = (text(&status["base"]), text(&status["quote"]));
    let mut lines = status_lines(&value["now"], status, &base, &quote).to_vec();
    let batches = list(&value["batches"]);
    if batches.is_empty() {
        lines.push("no batch published yet".to_owned());
    }
    lines.extend(batches.iter().map(|b| batch_line(b, &base)));
    lines.extend(depth_lines(&value["depth"], &base, &quote));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_name_the_assets_of_the_market() {
        let names = vec![(1, "TFT".to_owned(), "USDC".to_owned())];
        let fill = json!({ "market_id": 1, "batch": 4, "cleared_at": 100, "order_id": 9, "side": "buy",
            "filled": "1000", "price": "0.012", "quote": "12", "fee": "0" });
        assert_eq!(
            fill_line(&fill, &names),
            "batch 4 of market 1 (cleared at 100): order 9 bought 1000 TFT at 0.012 USDC/TFT, paid 12 USDC (fee 0)"
        );
        let order = json!({ "id": 3, "market_id": 1, "side": "sell", "quantity": "10", "limit_price": "0.02",
            "escrow": "10", "placed_in_batch": 1, "expires_after_batch": 360, "locked": true });
        let line = order_line(&order, &names);
        assert!(
            line.contains("sell 10 TFT at 0.02 USDC/TFT  escrow 10 TFT  batches 1..=360  (locked"),
            "{line}"
        );
    }

    #[test]
    fn a_market_shows_status_batches_and_depth() {
        let view = json!({ "now": 5, "market": { "id": 1, "base": "TFT", "quote": "USDC", "batch": 2,
            "next_clear_at": 20, "lock_window_starts_at": 18, "batch_interval_s": 10, "last_price": "0.012",
            "open_orders": { "buy": 1, "sell": 0 }, "min_order_base": "1", "fee_bps": 0 },
            "batches": [{ "batch": 1, "cleared_at": 10, "price": "0.012", "volume": "1000", "imbalance": "0",
                "orders": 2, "filled_orders": 2 }],
            "depth": { "batch": 1, "levels": [] } });
        let text = market(&view);
        assert!(
            text.starts_with("market 1 TFT/USDC: batch 2 clears at 20 (lock window from 18; node time 5)")
        );
        assert!(text.contains("last price 0.012 USDC/TFT; open orders: 1 buy, 0 sell"), "{text}");
        assert!(text.contains("batch 1 at 10: price 0.012, volume 1000 TFT"), "{text}");
        assert!(text.contains("depth after batch 1 (USDC/TFT):\n  (empty book)"), "{text}");
    }
}
