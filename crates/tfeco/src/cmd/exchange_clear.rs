//! `tfeco exchange clear`: clears one batch of the in-wallet exchange offline, from a CSV book, with the
//! core's own [`clear_batch`] (spec `decisions.md` §13), so auditors can re-check a published batch.
//!
//! The book is `id,side,quantity,limit_price` ([`parse_book_csv`]); ids keep their original text in the
//! output. Human output: price, volume, demand, supply, imbalance, quote totals and one line per order.
//! `--json`: one object with `price` (decimal string or null), `volume` and `fills` (`[{id, filled, …}]`,
//! decimal strings, in file order) plus the other batch figures.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;
use tfeco_core::rules::batch_auction::{
    clear_batch, parse_book_csv, BatchOutcome, BookEntry, ExchangeError, Order, OrderFill, Side,
};
use tfeco_money::{AnyAsset, Bps, Price};

/// Arguments of `tfeco exchange`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: ExchangeCommand,
}

#[derive(Subcommand)]
enum ExchangeCommand {
    /// Clear one batch from a CSV book at one uniform price and print the price, volume and every fill.
    Clear(ClearArgs),
}

/// Arguments of `tfeco exchange clear`.
#[derive(clap::Args)]
struct ClearArgs {
    /// CSV book with the header `id,side,quantity,limit_price`: side buy|sell, quantity in base tokens (at
    /// most 7 decimals), limit price in quote per base token. Ids are any unique text.
    #[arg(long)]
    book: PathBuf,
    /// The reference price (decisions §13): the market's last clearing price, else the oracle's price of the
    /// base asset. Among prices equal in volume and imbalance, it is the price when it lies between the
    /// lowest and the highest of them, else the closest of them; without it, the lowest.
    #[arg(long, visible_alias = "last-price")]
    reference_price: Option<Price>,
    /// Fee per side in basis points of each order's quote amount, rounded up.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=10_000))]
    fee_bps: u16,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ExchangeCommand::Clear(clear) => run_clear(&clear),
    }
}

fn run_clear(args: &ClearArgs) -> anyhow::Result<ExitCode> {
    let (entries, outcome) = clear(args)?;
    // Fills come back in ascending id; the output follows the file.
    let fill_of = |entry: &BookEntry| -> &OrderFill<AnyAsset, AnyAsset> {
        let at = outcome.fills.binary_search_by_key(&entry.order.id, |fill| fill.id);
        &outcome.fills[at.expect("one fill per order")]
    };
    if args.json {
        print_json(args, &entries, &outcome, fill_of)?;
    } else {
        print_human(args, &entries, &outcome, fill_of);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the book and clears it with the core's rule: the entries in file order and the outcome.
fn clear(args: &ClearArgs) -> anyhow::Result<(Vec<BookEntry>, BatchOutcome<AnyAsset, AnyAsset>)> {
    let path = args.book.display();
    let text = std::fs::read_to_string(&args.book).with_context(|| format!("cannot read the book {path}"))?;
    let entries = parse_book_csv(&text).with_context(|| format!("invalid book {path}"))?;
    let fee = Bps::new(args.fee_bps).context("--fee-bps must be at most 10000")?;
    let orders: Vec<Order<AnyAsset>> = entries.iter().map(|entry| entry.order).collect();
    let outcome = clear_batch::<AnyAsset, AnyAsset>(&orders, args.reference_price, fee)
        .map_err(|error| anyhow::anyhow!(describe_error(&entries, error)))
        .with_context(|| format!("cannot clear the book {path}"))?;
    Ok((entries, outcome))
}

/// The core error with the order's original id and line instead of its numeric id.
fn describe_error(entries: &[BookEntry], error: ExchangeError) -> String {
    let id = match error {
        ExchangeError::DuplicateId { id }
        | ExchangeError::QuantityNotPositive { id }
        | ExchangeError::ZeroPrice { id }
        | ExchangeError::Overflow { id: Some(id) } => id,
        ExchangeError::Overflow { id: None } => return error.to_string(),
    };
    match entries.iter().find(|entry| entry.order.id == id) {
        Some(entry) => {
            let what = error.to_string();
            let what = what.split_once(": ").map_or(what.as_str(), |(_, rest)| rest);
            format!("line {}: order {:?}: {what}", entry.line, entry.label)
        }
        None => error.to_string(),
    }
}

/// The `--json` report; fields print in this order.
#[derive(Serialize)]
struct JsonReport<'a> {
    price: Option<String>,
    volume: String,
    demand: String,
    supply: String,
    imbalance: String,
    rationed: Option<String>,
    quote_volume: String,
    quote_dust: String,
    fees_total: String,
    fee_bps: u16,
    reference_price: Option<String>,
    orders: usize,
    fills: Vec<JsonFill<'a>>,
}

/// One order of the `--json` report.
#[derive(Serialize)]
struct JsonFill<'a> {
    id: &'a str,
    filled: String,
    side: String,
    quantity: String,
    limit_price: String,
    quote: String,
    fee: String,
    settled_quote: String,
    refund_base: String,
    refund_quote: String,
}

fn print_json<'a>(
    args: &ClearArgs,
    entries: &'a [BookEntry],
    outcome: &'a BatchOutcome<AnyAsset, AnyAsset>,
    fill_of: impl Fn(&'a BookEntry) -> &'a OrderFill<AnyAsset, AnyAsset>,
) -> anyhow::Result<()> {
    let fills = entries
        .iter()
        .map(|entry| {
            let fill = fill_of(entry);
            JsonFill {
                id: &entry.label,
                filled: fill.filled.to_string(),
                side: entry.order.side.to_string(),
                quantity: entry.order.quantity.to_string(),
                limit_price: entry.order.limit_price.to_string(),
                quote: fill.quote.to_string(),
                fee: fill.fee.to_string(),
                settled_quote: fill.settled_quote().to_string(),
                refund_base: fill.refund_base.to_string(),
                refund_quote: fill.refund_quote.to_string(),
            }
        })
        .collect();
    let report = JsonReport {
        price: outcome.price.map(|price| price.to_string()),
        volume: outcome.volume.to_string(),
        demand: outcome.demand.to_string(),
        supply: outcome.supply.to_string(),
        imbalance: outcome.imbalance.to_string(),
        rationed: outcome.rationed.map(|side| side.to_string()),
        quote_volume: outcome.quote_volume.to_string(),
        quote_dust: outcome.quote_dust.to_string(),
        fees_total: outcome.fees_total.to_string(),
        fee_bps: args.fee_bps,
        reference_price: args.reference_price.map(|price| price.to_string()),
        orders: entries.len(),
        fills,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn print_human<'a>(
    args: &ClearArgs,
    entries: &'a [BookEntry],
    outcome: &'a BatchOutcome<AnyAsset, AnyAsset>,
    fill_of: impl Fn(&'a BookEntry) -> &'a OrderFill<AnyAsset, AnyAsset>,
) {
    let buys = entries.iter().filter(|entry| entry.order.side == Side::Buy).count();
    let reference = args.reference_price.map_or_else(|| "none".to_owned(), |price| price.to_string());
    println!(
        "book        {} ({} orders: {buys} buy, {} sell), fee {} bps, reference price {reference}",
        args.book.display(),
        entries.len(),
        entries.len() - buys,
        args.fee_bps,
    );
    match outcome.price {
        None => println!("price       none: no buy crosses a sell, nothing trades, every escrow is refunded"),
        Some(price) => {
            let rationed = match outcome.rationed {
                Some(side) => format!(" ({side} side long: its marginal price level shares pro rata)"),
                None => " (balanced)".to_owned(),
            };
            println!("price       {price} (quote per base token, one price for every trade)");
            println!("volume      {}", outcome.volume);
            println!("demand      {}", outcome.demand);
            println!("supply      {}", outcome.supply);
            println!("imbalance   {}{rationed}", outcome.imbalance);
            println!(
                "quote       {} paid by buyers before fees, dust {} (buyers round up, sellers down), fees {}",
                outcome.quote_volume, outcome.quote_dust, outcome.fees_total
            );
        }
    }
    println!();
    let header = ["id", "side", "quantity", "limit", "filled", "quote", "fee", "settled", "refund"];
    let rows: Vec<[String; 9]> = entries
        .iter()
        .map(|entry| {
            let fill = fill_of(entry);
            let refund = match entry.order.side {
                Side::Buy => format!("{} quote", fill.refund_quote),
                Side::Sell => format!("{} base", fill.refund_base),
            };
            [
                entry.label.clone(),
                entry.order.side.to_string(),
                entry.order.quantity.to_string(),
                entry.order.limit_price.to_string(),
                fill.filled.to_string(),
                fill.quote.to_string(),
                fill.fee.to_string(),
                fill.settled_quote().to_string(),
                refund,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> =
            cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(&header.map(str::to_owned));
    for row in &rows {
        line(row);
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: ExchangeCommand,
    }

    fn clear_with(extra: &[&str]) -> BatchOutcome<AnyAsset, AnyAsset> {
        let book =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../tfeco-core/test_data/exchange/reference_price.csv");
        let args = [&["exchange", "clear", "--book", book][..], extra].concat();
        let ExchangeCommand::Clear(clear_args) = Cli::try_parse_from(args).expect("parses").command;
        clear(&clear_args).expect("clears").1
    }

    /// Issue 10 item 4: the offline clear follows the node's rule (decisions §13): buy 100 @ 0.013 and
    /// sell 100 @ 0.010 with the reference 0.0125 clear at 0.0125 (before: 0.013 with `--last-price
    /// 0.0125`, the closest limit price).
    #[test]
    fn the_offline_clear_uses_the_reference_price_rule() {
        let price = |outcome: BatchOutcome<AnyAsset, AnyAsset>| outcome.price.map(|p| p.to_string());
        assert_eq!(price(clear_with(&["--reference-price", "0.0125"])).as_deref(), Some("0.0125"));
        assert_eq!(price(clear_with(&["--last-price", "0.0125"])).as_deref(), Some("0.0125"), "the old name");
        assert_eq!(price(clear_with(&["--reference-price", "1"])).as_deref(), Some("0.013"), "the closest");
        assert_eq!(price(clear_with(&[])).as_deref(), Some("0.01"), "no reference: the lowest");
    }
}
