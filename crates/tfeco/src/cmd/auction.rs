//! `tfeco auction clear`: offline uniform-price clearing of an exit-pool bid book for analysts and
//! auditors (spec `decisions.md` §8 "Clearing", `tokens_and_pools.md` §4). Reads a CSV book, runs the
//! core's pure [`tfeco_core::rules::exit_auction::clear`], and prints a table or one JSON object. No node, no state.
//!
//! The book's ids are free strings; row `i` of the file becomes bid id `i` for the core, and the output
//! shows the original strings, in file order.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;
use tfeco_core::rules::exit_auction::{
    self as auction, Clearing, ClearingRules, ExitBid, FillStatus, DEFAULT_MIN_DISCOUNT_BPS,
};
use tfeco_money::{Amount, Bps, Price, Tfp, Usdc};

/// Arguments of `tfeco auction`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: AuctionCommand,
}

#[derive(clap::Subcommand)]
enum AuctionCommand {
    /// Clear a bid book (CSV `id,usdc_amount,min_price`) at a uniform price and print every bid's fill.
    Clear(ClearArgs),
}

/// Arguments of `tfeco auction clear`.
#[derive(clap::Args)]
struct ClearArgs {
    /// The bid book: CSV with the header `id,usdc_amount,min_price`; ids are any unique strings, amounts
    /// USDC (at most 7 decimals), min prices USD per TFP. Lines starting with `#` are comments.
    #[arg(long, value_name = "FILE")]
    book: PathBuf,
    /// Cap A in USDC: the round's allowed maximum (0.5 x value contributed - USDC paid by past exits).
    #[arg(long, value_name = "USDC")]
    cap_usdc: Option<Amount<Usdc>>,
    /// Cap B in USDC (5 % of the pool's USDC at close); with both caps the tighter one applies.
    #[arg(long, value_name = "USDC")]
    cap_b_usdc: Option<Amount<Usdc>>,
    /// Reference price p_ref, USD per TFP: bids with min price above (1 - discount) x p_ref are excluded.
    #[arg(long, value_name = "USD")]
    ref_price: Option<Price>,
    /// Minimum discount below the reference price, in basis points (2000 = 20 %).
    #[arg(
        long,
        value_name = "BPS",
        default_value_t = DEFAULT_MIN_DISCOUNT_BPS,
        value_parser = clap::value_parser!(u16).range(0..=10_000)
    )]
    min_discount_bps: u16,
    /// Whole price levels only: stop before the first level that does not fit (no pro-rata partial fill).
    #[arg(long)]
    no_partial: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs `tfeco auction ...`. Bad input (unreadable file, bad CSV line, no cap) is an error with a
/// readable message; the binary then exits with status 1.
pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        AuctionCommand::Clear(args) => {
            let text = tokio::fs::read_to_string(&args.book)
                .await
                .with_context(|| format!("cannot read the bid book {}", args.book.display()))?;
            let report = clear_book(&text, &args)
                .with_context(|| format!("cannot clear the bid book {}", args.book.display()))?;
            if args.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_table(&args.book));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--json` output: amounts and prices as decimal strings, absent values as `null`.
#[derive(Serialize)]
struct JsonReport<'a> {
    /// `p_clear`, or `null` when nothing was filled.
    clearing_price: Option<Price>,
    total_filled: Amount<Usdc>,
    total_tfp_surrendered: Amount<Tfp>,
    /// The effective cap `min(cap_a, cap_b)`.
    cap: Amount<Usdc>,
    cap_a: Option<Amount<Usdc>>,
    cap_b: Option<Amount<Usdc>>,
    ref_price: Option<Price>,
    min_discount_bps: u16,
    /// `floor((1 - discount) * ref_price)`, or `null` without a reference price.
    ceiling: Option<Price>,
    allow_partial: bool,
    /// Number of bids in the book.
    bids: usize,
    total_requested: Amount<Usdc>,
    /// Requested by bids that were not excluded by the price ceiling.
    total_eligible: Amount<Usdc>,
    /// One entry per bid, in file order.
    fills: Vec<JsonFill<'a>>,
}

/// One bid of [`JsonReport::fills`].
#[derive(Serialize)]
struct JsonFill<'a> {
    /// The id string of the file.
    id: &'a str,
    min_price: Price,
    requested: Amount<Usdc>,
    filled: Amount<Usdc>,
    tfp_surrendered: Amount<Tfp>,
    /// `excluded`, `full`, `partial` or `none`.
    status: FillStatus,
}

/// A cleared book: the file's id strings, the bids, the rules and the result.
struct Report {
    labels: Vec<String>,
    bids: Vec<ExitBid>,
    rules: ClearingRules,
    clearing: Clearing,
}

/// The rules given on the command line.
fn rules_of(args: &ClearArgs) -> anyhow::Result<ClearingRules> {
    if args.cap_usdc.is_none() && args.cap_b_usdc.is_none() {
        anyhow::bail!("no cap: give --cap-usdc (cap A), --cap-b-usdc (cap B) or both");
    }
    if args.ref_price.is_some_and(Price::is_zero) {
        anyhow::bail!("--ref-price must be positive");
    }
    Ok(ClearingRules {
        cap_a: args.cap_usdc,
        cap_b: args.cap_b_usdc,
        ref_price: args.ref_price,
        min_discount_bps: Bps::new(args.min_discount_bps)
            .context("--min-discount-bps must be at most 10000")?,
        allow_partial: !args.no_partial,
    })
}

/// Parses the CSV text and clears it with the rules of `args`.
fn clear_book(text: &str, args: &ClearArgs) -> anyhow::Result<Report> {
    let rules = rules_of(args)?;
    let book = auction::parse_bid_book_csv(text)?;
    let clearing = auction::clear(&book.bids, &rules)?;
    Ok(Report { labels: book.labels, bids: book.bids, rules, clearing })
}

impl Report {
    /// Total requested and eligible (not excluded) USDC.
    fn demand(&self) -> (Amount<Usdc>, Amount<Usdc>) {
        let mut requested = 0i128;
        let mut eligible = 0i128;
        for fill in &self.clearing.fills {
            requested += fill.requested.units();
            if !fill.excluded {
                eligible += fill.requested.units();
            }
        }
        (Amount::from_units(requested), Amount::from_units(eligible))
    }

    /// The JSON report (pretty-printed, fields in a fixed order); amounts and prices are decimal strings,
    /// `fills` in file order.
    fn to_json(&self) -> String {
        let (total_requested, total_eligible) = self.demand();
        // Bid ids are the row indexes, and `fills` is in id order: fills[i] is row i.
        let fills = self
            .clearing
            .fills
            .iter()
            .map(|fill| {
                let row = fill.id as usize;
                JsonFill {
                    id: &self.labels[row],
                    min_price: self.bids[row].min_price,
                    requested: fill.requested,
                    filled: fill.filled,
                    tfp_surrendered: fill.tfp_surrendered,
                    status: fill.status(),
                }
            })
            .collect();
        let report = JsonReport {
            clearing_price: self.clearing.clearing_price,
            total_filled: self.clearing.total_filled,
            total_tfp_surrendered: self.clearing.total_tfp_surrendered,
            cap: self.clearing.cap,
            cap_a: self.rules.cap_a,
            cap_b: self.rules.cap_b,
            ref_price: self.rules.ref_price,
            min_discount_bps: self.rules.min_discount_bps.get(),
            ceiling: self.clearing.ceiling,
            allow_partial: self.rules.allow_partial,
            bids: self.bids.len(),
            total_requested,
            total_eligible,
            fills,
        };
        serde_json::to_string_pretty(&report).expect("the report serializes")
    }

    /// The human report: the rules, one row per bid in file order, then the clearing price and totals.
    fn to_table(&self, book: &Path) -> String {
        let off = || "off".to_owned();
        let mut out = String::new();
        let (requested, eligible) = self.demand();
        out.push_str(&format!("Exit-pool auction: {} bids from {}\n", self.bids.len(), book.display()));
        out.push_str(&format!(
            "cap A {}, cap B {} -> cap {} USDC\n",
            self.rules.cap_a.map_or_else(off, |c| format!("{c} USDC")),
            self.rules.cap_b.map_or_else(off, |c| format!("{c} USDC")),
            self.clearing.cap,
        ));
        match (self.rules.ref_price, self.clearing.ceiling) {
            (Some(p_ref), Some(ceiling)) => out.push_str(&format!(
                "reference price {p_ref} USD/TFP, min discount {} bps -> price ceiling {ceiling} USD/TFP\n",
                self.rules.min_discount_bps.get()
            )),
            _ => out.push_str("no reference price: no bid is excluded by price\n"),
        }
        out.push_str(if self.rules.allow_partial {
            "partial fills: the marginal price level shares the rest of the cap pro rata\n\n"
        } else {
            "partial fills: off (whole price levels only)\n\n"
        });

        let header = ["id", "min price", "requested USDC", "filled USDC", "TFP surrendered", "status"];
        let rows: Vec<[String; 6]> = self
            .clearing
            .fills
            .iter()
            .map(|fill| {
                let row = fill.id as usize;
                [
                    self.labels[row].clone(),
                    self.bids[row].min_price.to_string(),
                    fill.requested.to_string(),
                    fill.filled.to_string(),
                    fill.tfp_surrendered.to_string(),
                    fill.status().as_str().to_owned(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 6]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .enumerate()
                // Text columns left-aligned, numbers right-aligned.
                .map(|(column, (cell, width))| match column {
                    0 | 5 => format!("{cell:<width$}"),
                    _ => format!("{cell:>width$}"),
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        out.push_str(&line(header));
        for row in &rows {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]));
        }
        out.push('\n');
        match self.clearing.clearing_price {
            Some(price) => out.push_str(&format!("clearing price: {price} USD/TFP\n")),
            None => out.push_str("clearing price: none (nothing filled)\n"),
        }
        out.push_str(&format!(
            "total filled:   {} USDC of the {} USDC cap (eligible {} USDC, requested {} USDC)\n",
            self.clearing.total_filled, self.clearing.cap, eligible, requested
        ));
        out.push_str(&format!("TFP surrendered: {}\n", self.clearing.total_tfp_surrendered));
        out
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::Value;

    use super::*;

    const DA1: &str = include_str!("../../../tfeco-core/test_data/auction/da1.csv");
    const VARIANT_B: &str = include_str!("../../../tfeco-core/test_data/auction/variant_b.csv");

    /// The CLI surface, as `main.rs` mounts it.
    #[derive(Parser)]
    struct TestCli {
        #[command(subcommand)]
        command: TestCommand,
    }

    #[derive(clap::Subcommand)]
    enum TestCommand {
        Auction(Args),
    }

    fn clear_args(argv: &[&str]) -> ClearArgs {
        let argv = ["tfeco", "auction", "clear", "--book", "book.csv"].iter().chain(argv);
        let TestCommand::Auction(Args { command: AuctionCommand::Clear(args) }) =
            TestCli::try_parse_from(argv).unwrap().command;
        args
    }

    fn json(report: &Report) -> Value {
        let text = report.to_json();
        assert!(text.starts_with("{\n  \"clearing_price\": "), "clearing_price comes first: {text}");
        serde_json::from_str(&text).unwrap()
    }

    fn filled_by_id(report: &Value) -> Vec<(String, String)> {
        report["fills"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f["filled"].as_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn da1_book_clears_through_the_cli_path() {
        let args = clear_args(&["--cap-usdc", "3000000", "--json"]);
        assert!(args.json && !args.no_partial && args.min_discount_bps == 2_000);
        let report = json(&clear_book(DA1, &args).unwrap());
        assert_eq!(report["clearing_price"], "0.105");
        assert_eq!(report["total_filled"], "3000000");
        assert_eq!(report["ceiling"], Value::Null);
        let expected = [
            ("A", "500000"),
            ("B", "600000"),
            ("C", "400000"),
            ("D", "700000"),
            ("E", "300000"),
            ("F", "200000"),
            ("G", "300000"),
            ("H", "0"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(id, f)| ((*id).to_owned(), (*f).to_owned())).collect();
        assert_eq!(filled_by_id(&report), expected);
        assert_eq!(report["fills"][6]["status"], "partial");

        let report = json(&clear_book(DA1, &clear_args(&["--cap-usdc", "3000000", "--no-partial"])).unwrap());
        assert_eq!(report["clearing_price"], "0.1");
        assert_eq!(report["total_filled"], "2700000");
        assert_eq!(report["fills"][6]["filled"], "0");
        assert_eq!(report["total_tfp_surrendered"], "27000000");
    }

    #[test]
    fn variant_b_book_clears_through_the_cli_path() {
        let args = clear_args(&["--cap-b-usdc", "50000", "--ref-price", "0.10"]);
        let report = clear_book(VARIANT_B, &args).unwrap();
        let json = json(&report);
        assert_eq!(json["clearing_price"], "0.075");
        assert_eq!(json["ceiling"], "0.08");
        assert_eq!(json["cap_a"], Value::Null);
        assert_eq!(json["total_filled"], "50000");
        assert_eq!(json["total_tfp_surrendered"], "666666.6666667");
        assert_eq!(json["fills"][2]["status"], "excluded");
        let table = report.to_table(Path::new("variant_b.csv"));
        assert!(table.contains("price ceiling 0.08 USD/TFP"), "{table}");
        assert!(table.contains("TFP surrendered: 666666.6666667"), "{table}");
        assert!(table.lines().any(|l| l.starts_with('Z') && l.ends_with("excluded")), "{table}");
    }

    #[test]
    fn bad_input_is_a_readable_error() {
        let error =
            |text: &str, argv: &[&str]| format!("{:#}", clear_book(text, &clear_args(argv)).err().unwrap());
        assert_eq!(error(DA1, &[]), "no cap: give --cap-usdc (cap A), --cap-b-usdc (cap B) or both");
        let duplicate = "id,usdc_amount,min_price\nA,1,0.1\nA,2,0.1\n";
        assert_eq!(error(duplicate, &["--cap-usdc", "1"]), "line 3: duplicate id \"A\" (first on line 2)");
        let bad = "id,usdc_amount,min_price\nA,1.5x,0.1\n";
        assert!(error(bad, &["--cap-usdc", "1"]).starts_with("line 2: usdc_amount: invalid amount"));
        assert_eq!(error(DA1, &["--cap-usdc", "1", "--ref-price", "0"]), "--ref-price must be positive");
        let rejected = |argv: &[&str]| {
            let argv = ["tfeco", "auction", "clear", "--book", "b.csv"].iter().chain(argv);
            TestCli::try_parse_from(argv).is_err()
        };
        assert!(rejected(&["--cap-usdc", "-5"]));
        assert!(rejected(&["--cap-usdc", "1.00000001"]));
        assert!(rejected(&["--min-discount-bps", "10001"]));
        assert!(rejected(&["--ref-price", "abc"]));
    }
}
