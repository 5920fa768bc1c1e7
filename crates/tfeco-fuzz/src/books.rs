//! Targets `order_book_csv` and `bid_book_csv`: the CSV books that `tfeco exchange clear --book` and
//! `tfeco auction clear --book` read ([`parse_book_csv`], [`parse_bid_book_csv`]) and clear with the
//! node's own rules.
//!
//! Both assert: no panic; an accepted book written back as CSV (every field quoted) parses to the same
//! ids and orders; clearing it never panics, and a clearing that succeeds has one fill per order that the
//! command line can find (it indexes them), fills no larger than their orders and totals that add up
//! (order book: as much base bought as sold, the volume; bid book: the filled total, within the cap).

use tfeco_core::rules::batch_auction::{clear_batch, parse_book_csv, BookEntry, Order, Side};
use tfeco_core::rules::exit_auction::{self, parse_bid_book_csv, BidBook, ClearingRules};
use tfeco_money::{Amount, AnyAsset, Bps, Price};

use crate::Verdict;

/// `rows` as CSV text with every field quoted.
fn csv_text(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut writer = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(Vec::new());
    writer.write_record(header).expect("a CSV header is written");
    for row in rows {
        writer.write_record(&row).expect("a CSV row is written");
    }
    String::from_utf8(writer.into_inner().expect("CSV in memory")).expect("CSV of UTF-8 fields")
}

/// The body of target `order_book_csv`.
pub fn order_book_csv(data: &[u8]) -> Verdict {
    let Some(text) = crate::text(data) else { return Verdict::Refused };
    let Ok(entries) = parse_book_csv(text) else { return Verdict::Refused };
    let rows = entries.iter().map(|entry| {
        let side = if entry.order.side == Side::Buy { "buy" } else { "sell" };
        let order = entry.order;
        vec![entry.label.clone(), side.to_owned(), order.quantity.to_string(), order.limit_price.to_string()]
    });
    let written = csv_text(&["id", "side", "quantity", "limit_price"], rows);
    let again = parse_book_csv(&written)
        .unwrap_or_else(|e| panic!("the book written back is refused: {e}\n{written}"));
    let key = |entries: &[BookEntry]| -> Vec<(String, Order<AnyAsset>)> {
        entries.iter().map(|entry| (entry.label.clone(), entry.order)).collect()
    };
    assert_eq!(key(&again), key(&entries), "the book written back parses differently");
    let orders: Vec<Order<AnyAsset>> = entries.iter().map(|entry| entry.order).collect();
    clear_orders(&orders, None, Bps::new(0).expect("0 bps"));
    let reference = orders.first().map(|order| order.limit_price);
    clear_orders(&orders, reference, Bps::new(30).expect("30 bps"));
    Verdict::Accepted
}

/// Clears `orders` and checks the outcome (module doc).
fn clear_orders(orders: &[Order<AnyAsset>], reference: Option<Price>, fee: Bps) {
    let Ok(outcome) = clear_batch::<AnyAsset, AnyAsset>(orders, reference, fee) else { return };
    assert_eq!(outcome.fills.len(), orders.len(), "one fill per order");
    let (mut bought, mut sold) = (Some(0i128), Some(0i128));
    for order in orders {
        let at = outcome.fills.binary_search_by_key(&order.id, |fill| fill.id);
        let fill = &outcome.fills[at.unwrap_or_else(|_| panic!("no fill for order {}", order.id))];
        assert!(fill.filled.units() >= 0 && fill.filled <= order.quantity, "order {} overfilled", order.id);
        match order.side {
            Side::Buy => bought = bought.and_then(|sum| sum.checked_add(fill.filled.units())),
            Side::Sell => {
                sold = sold.and_then(|sum| sum.checked_add(fill.filled.units()));
                let refund = order.quantity.units() - fill.filled.units();
                assert_eq!(fill.refund_base.units(), refund, "order {}: base refund", order.id);
            }
        }
    }
    if let (Some(bought), Some(sold)) = (bought, sold) {
        assert_eq!(bought, sold, "base bought and sold differ");
        assert_eq!(bought, outcome.volume.units(), "the volume is not what was bought");
    }
}

/// The body of target `bid_book_csv`.
pub fn bid_book_csv(data: &[u8]) -> Verdict {
    let Some(text) = crate::text(data) else { return Verdict::Refused };
    let Ok(book) = parse_bid_book_csv(text) else { return Verdict::Refused };
    let rows = book
        .labels
        .iter()
        .zip(&book.bids)
        .map(|(label, bid)| vec![label.clone(), bid.usdc.to_string(), bid.min_price.to_string()]);
    let written = csv_text(&["id", "usdc_amount", "min_price"], rows);
    let again = parse_bid_book_csv(&written)
        .unwrap_or_else(|e| panic!("the book written back is refused: {e}\n{written}"));
    assert_eq!(again, book, "the book written back parses differently");
    let cap: Amount<tfeco_money::Usdc> = "1000000".parse().expect("a cap");
    let reference = book.bids.first().map(|bid| bid.min_price);
    clear_bids(
        &book,
        &ClearingRules {
            cap_a: Some(cap),
            cap_b: None,
            ref_price: reference,
            min_discount_bps: Bps::new(500).expect("500 bps"),
            allow_partial: true,
        },
    );
    clear_bids(
        &book,
        &ClearingRules {
            cap_a: None,
            cap_b: Some(cap),
            ref_price: None,
            min_discount_bps: Bps::new(0).expect("0 bps"),
            allow_partial: false,
        },
    );
    Verdict::Accepted
}

/// Clears the bid book and checks the outcome (module doc).
fn clear_bids(book: &BidBook, rules: &ClearingRules) {
    let Ok(clearing) = exit_auction::clear(&book.bids, rules) else { return };
    assert_eq!(clearing.fills.len(), book.bids.len(), "one fill per bid");
    let mut total = Some(0i128);
    for fill in &clearing.fills {
        let row = usize::try_from(fill.id).ok().filter(|row| *row < book.labels.len());
        let row = row.unwrap_or_else(|| panic!("fill {} names no row of the book", fill.id));
        assert_eq!(book.bids[row].usdc, fill.requested, "fill {} requested another amount", fill.id);
        assert!(fill.filled.units() >= 0 && fill.filled <= fill.requested, "bid {} overfilled", fill.id);
        total = total.and_then(|sum| sum.checked_add(fill.filled.units()));
    }
    if let Some(total) = total {
        assert_eq!(total, clearing.total_filled.units(), "the filled total does not add up");
    }
    assert!(clearing.total_filled <= clearing.cap, "more filled than the cap");
}
