//! `tfeco calc`: offline calculators over the embedded data (no node needed).
//!
//! - `calc node --model NAME --utilization U --price min|max|VALUE [--share-bps 8000] [--json]`: one node
//!   model's monthly gross, farmer share, hardware cost, net and break-even ([`income::node_income`]);
//! - `calc table [--json]`: the catalogue's income table ([`income::income_table`]).
//!
//! Formulas, units (CC incomes, USD costs, `--cc-usd` between them, default 1 as published) and rounding
//! are documented in `tfeco_core::rules::income`; this file only parses arguments and prints. Bad input (unknown
//! model, utilization outside 0..=100 %, a price outside the band, too many decimals) exits non-zero with a
//! readable message. (`calc mint-v3`, the v3 minting calculator, lives in `mint_v3.rs`.)

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use tfeco_core::rules::income::{
    self, Fraction, HwCostBasis, Income, IncomeQuery, IncomeRow, PriceBasis, PriceChoice, RoiParams,
    Utilization,
};
use tfeco_money::{Bps, Price, Ratio};

mod mint_v3;

/// Arguments of `tfeco calc`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: CalcCommand,
}

#[derive(Subcommand)]
enum CalcCommand {
    /// Monthly gross, farmer share, hardware cost, net and break-even of one node model at a utilization
    /// and a slice price.
    Node(NodeArgs),
    /// The catalogue's income table: hardware cost per month, min and max income per model.
    Table(TableArgs),
    /// v3 minting reward of one node for one period (exact v3 integer arithmetic).
    MintV3(mint_v3::MintV3Args),
}

/// Options shared by the calculators.
#[derive(clap::Args)]
struct CommonArgs {
    /// USD per CC, to compare CC income with USD hardware cost [default: 1, as the published tables, which
    /// read incomes as USD; the real CC price (0.001 g of gold) is about 0.13].
    #[arg(long, value_parser = parse_cc_usd)]
    cc_usd: Option<Price>,
    /// Months over which the hardware is amortized [default: 60].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    amortization_months: Option<u32>,
    /// Print JSON (decimal strings).
    #[arg(long)]
    json: bool,
}

/// Arguments of `tfeco calc node`.
#[derive(clap::Args)]
struct NodeArgs {
    /// Catalogue model, e.g. "Mini 3" (`tfeco calc table` lists them).
    #[arg(long)]
    model: String,
    /// Utilization (leased / offered slices): a fraction (0.3, at most 6 decimals) or a percentage (30%,
    /// at most 4 decimals), between 0 and 100%.
    #[arg(long, allow_hyphen_values = true)]
    utilization: Utilization,
    /// Slice price in CC per slice-month: min, max (the model's band) or a value inside the band (at most
    /// 7 decimals).
    #[arg(long, allow_hyphen_values = true)]
    price: PriceChoice,
    /// Farmer share in basis points, 0 to 10000 [default: 8000, the tfgrid4-2025 revenue split].
    #[arg(long, value_parser = parse_share_bps, allow_hyphen_values = true)]
    share_bps: Option<Bps>,
    /// Slices offered, 1 to the model's typical slices [default: the typical slices].
    #[arg(long)]
    offered_slices: Option<u32>,
    /// Hardware cost entering net: `whole` (capex / months rounded half up to whole USD, as the published
    /// table and the ROI vectors) or `exact` [default: whole].
    #[arg(long)]
    hw_cost: Option<HwCostBasis>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Arguments of `tfeco calc table`.
#[derive(clap::Args)]
struct TableArgs {
    /// Factor on the minimum income, `factor × typical slices × band min` [default: 1.3; spec §4.1,
    /// unexplained in the source].
    #[arg(long, value_parser = parse_factor)]
    income_factor_min: Option<Ratio>,
    /// Factor on the maximum income, `factor × typical slices × band max` [default: 1.5; spec §4.1,
    /// unexplained in the source].
    #[arg(long, value_parser = parse_factor)]
    income_factor_max: Option<Ratio>,
    #[command(flatten)]
    common: CommonArgs,
}

fn parse_cc_usd(s: &str) -> Result<Price, String> {
    let price = s.parse::<Price>().map_err(|e| e.to_string())?;
    if price.is_zero() {
        return Err("the CC price must be greater than 0".to_owned());
    }
    Ok(price)
}

fn parse_share_bps(s: &str) -> Result<Bps, String> {
    let invalid = || format!("invalid share {s:?}: expected whole basis points from 0 to 10000 (8000 = 80%)");
    let value = s.trim().parse::<u16>().map_err(|_| invalid())?;
    Bps::new(value).ok_or_else(invalid)
}

fn parse_factor(s: &str) -> Result<Ratio, String> {
    income::parse_factor(s).map_err(|e| format!("invalid factor: {e}"))
}

/// Runs `tfeco calc`.
pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        CalcCommand::Node(node) => run_node(node),
        CalcCommand::Table(table) => run_table(table),
        CalcCommand::MintV3(mint) => mint_v3::run_mint_v3(mint),
    }
}

/// The default parameters with the shared options applied.
fn params(common: &CommonArgs) -> RoiParams {
    let defaults = RoiParams::tfgrid4_2025();
    RoiParams {
        cc_usd: common.cc_usd.unwrap_or(defaults.cc_usd),
        amortization_months: common.amortization_months.unwrap_or(defaults.amortization_months),
        ..defaults
    }
}

fn run_node(args: NodeArgs) -> anyhow::Result<ExitCode> {
    let catalogue = tfeco_core::catalogue_q4_2025();
    let model = income::find_model(&catalogue, &args.model)?;
    let base = params(&args.common);
    let params = RoiParams {
        farmer_share: args.share_bps.unwrap_or(base.farmer_share),
        hw_cost_basis: args.hw_cost.unwrap_or(base.hw_cost_basis),
        ..base
    };
    let query =
        IncomeQuery { utilization: args.utilization, price: args.price, offered_slices: args.offered_slices };
    let income = income::node_income(model, &query, &params)?;
    if args.common.json {
        emit(&(serde_json::to_string_pretty(&income).context("encoding JSON")? + "\n"))
    } else {
        emit(&render_node(&income))
    }
}

fn run_table(args: TableArgs) -> anyhow::Result<ExitCode> {
    let catalogue = tfeco_core::catalogue_q4_2025();
    let base = params(&args.common);
    let params = RoiParams {
        income_factor_min: args.income_factor_min.unwrap_or(base.income_factor_min),
        income_factor_max: args.income_factor_max.unwrap_or(base.income_factor_max),
        ..base
    };
    let rows = income::income_table(&catalogue, &params)?;
    if args.common.json {
        emit(&(serde_json::to_string_pretty(&rows).context("encoding JSON")? + "\n"))
    } else {
        emit(&render_table(&rows, &params))
    }
}

/// Writes the report to stdout; a closed pipe (`tfeco calc table | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<ExitCode> {
    crate::render::emit(text).map(|()| ExitCode::SUCCESS)
}

/// Basis points as a percentage: 8000 → `"80%"`.
fn percent(bps: u16) -> String {
    Utilization::from_ppm(u32::from(bps) * 100)
        .map_or_else(|| format!("{bps} bps"), |u| u.to_percent_string())
}

/// A ratio as a decimal (`1.3`) or `num/den`.
fn ratio(r: Ratio) -> String {
    Fraction::from_ratio(r).map_or_else(|| r.to_string(), |f| f.to_exact_string())
}

fn months(m: Option<income::Months>) -> String {
    m.map_or_else(|| "never (no income)".to_owned(), |m| format!("{m} months"))
}

/// The human-readable report of `calc node`.
fn render_node(i: &Income) -> String {
    let basis = match i.price_basis {
        PriceBasis::Min => "band minimum",
        PriceBasis::Max => "band maximum",
        PriceBasis::Value => "given",
    };
    let hw_basis = match i.hw_cost_basis {
        HwCostBasis::WholeUsd => "rounded half up to whole USD as published",
        HwCostBasis::Exact => "exact",
    };
    let share = percent(i.farmer_share_bps);
    let exact = i.break_even_months_exact.map(|f| format!(" = {f}")).unwrap_or_default();
    let lines = [
        ("slices offered / active", format!("{} / {}", i.offered_slices, i.active_slices)),
        ("gross", format!("{} CC/month = {} USD/month", i.gross, i.gross_usd)),
        (
            &format!("farmer share ({share})"),
            format!("{} CC/month = {} USD/month", i.farmer_share, i.farmer_share_usd),
        ),
        (
            "hardware cost",
            format!(
                "{} USD/month (capex {} USD / {} months = {}; {hw_basis})",
                i.hw_cost, i.capex, i.amortization_months, i.hw_cost_exact
            ),
        ),
        ("net", format!("{} USD/month (farmer share - hardware cost)", i.net)),
        (
            "break-even",
            format!("{} on the farmer share (capex / farmer share{exact})", months(i.break_even_months)),
        ),
        ("", format!("{} on gross (capex / gross)", months(i.break_even_months_on_gross))),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} utilization, {} CC per slice-month ({basis}; band {}..={}), farmer share {share}, {} USD per CC",
        i.model,
        i.utilization.to_percent_string(),
        i.price,
        i.band_min,
        i.band_max,
        i.cc_usd,
    );
    for (label, value) in lines {
        let _ = writeln!(out, "  {label:<25} {value}");
    }
    out
}

/// The human-readable income table of `calc table`.
fn render_table(rows: &[IncomeRow], params: &RoiParams) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Income table per node-month: min income = {} x typical slices x band min; max income = {} x typical \
         slices x band max (CC);",
        ratio(params.income_factor_min),
        ratio(params.income_factor_max),
    );
    let _ = writeln!(
        out,
        "HW cost = capex / {} months (USD; rounded to whole USD as published, exact in brackets); break-even = \
         capex / income at {} USD per CC.",
        params.amortization_months, params.cc_usd,
    );
    let line = |cells: [&str; 8]| {
        let [model, capex, slices, band, hw, min, max, be] = cells;
        format!("{model:<20} {capex:>6} {slices:>7} {band:>9} {hw:>16} {min:>11} {max:>11} {be:>21}")
    };
    let header = ["model", "capex", "slices", "band CC", "HW cost USD", "min income", "max income"];
    let _ = writeln!(
        out,
        "{}",
        line([
            header[0],
            header[1],
            header[2],
            header[3],
            header[4],
            header[5],
            header[6],
            "break-even min / max"
        ])
    );
    for r in rows {
        let be = |m: Option<income::Months>| m.map_or_else(|| "-".to_owned(), |m| m.to_string());
        let cells = [
            r.model.clone(),
            r.capex.to_string(),
            format!("{}/{}", r.typical_slices, r.max_slices),
            format!("{}-{}", r.band_min, r.band_max),
            format!("{} ({})", r.hw_cost_month_rounded, r.hw_cost_month),
            r.min_income.to_string(),
            r.max_income.to_string(),
            format!("{} / {}", be(r.break_even_months_min_income), be(r.break_even_months_max_income)),
        ];
        let _ = writeln!(out, "{}", line(cells.each_ref().map(String::as_str)));
    }
    let _ = writeln!(out, "slices = typical (active) / max; break-even in months, 2 decimals half up.");
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// A stand-in for the binary's top level, so `calc` arguments parse exactly as on the command line.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("calc").chain(argv.iter().copied())).map(|cli| cli.args)
    }

    async fn run_err(argv: &[&str]) -> String {
        let args = parse(argv).expect("arguments parse");
        format!("{:#}", run(args).await.expect_err("the command must fail"))
    }

    #[tokio::test]
    async fn node_and_table_run() {
        let args = parse(&["node", "--model", "Mini 3", "--utilization", "0.3", "--price", "1.5", "--json"]);
        assert_eq!(run(args.unwrap()).await.unwrap(), ExitCode::SUCCESS);
        let args = parse(&["table"]).unwrap();
        assert_eq!(run(args).await.unwrap(), ExitCode::SUCCESS);
    }

    #[test]
    fn node_report_reads_roi_1() {
        let catalogue = tfeco_core::catalogue_q4_2025();
        let model = income::find_model(&catalogue, "Mini 3").unwrap();
        let query = IncomeQuery {
            utilization: "30%".parse().unwrap(),
            price: PriceChoice::Min,
            offered_slices: None,
        };
        let income = income::node_income(model, &query, &RoiParams::tfgrid4_2025()).unwrap();
        let text = render_node(&income);
        assert!(text.contains("  gross                     11.25 CC/month = 11.25 USD/month"), "{text}");
        assert!(text.contains("  farmer share (80%)        9 CC/month = 9 USD/month"), "{text}");
        assert!(text.contains("  hardware cost             17 USD/month"), "{text}");
        assert!(text.contains("  net                       -8 USD/month"), "{text}");
        assert!(text.contains("111.11 months on the farmer share"), "{text}");
    }

    #[test]
    fn table_report_has_every_model() {
        let params = RoiParams::tfgrid4_2025();
        let rows = income::income_table(&tfeco_core::catalogue_q4_2025(), &params).unwrap();
        let text = render_table(&rows, &params);
        assert_eq!(text.lines().count(), 3 + rows.len() + 1, "{text}");
        assert!(text.contains("1.3 x typical slices"), "{text}");
        let home = text.lines().find(|l| l.starts_with("3Node Home")).unwrap();
        for cell in ["500", "7/25", "1.2-12", "8 (8.3333333)", "10.92", "126", "45.79 / 3.97"] {
            assert!(home.contains(cell), "{cell} in {home}");
        }
    }

    #[tokio::test]
    async fn bad_input_fails_with_a_readable_message() {
        let message = run_err(&["node", "--model", "Mini 9", "--utilization", "0.3", "--price", "min"]).await;
        assert!(message.contains("unknown node model \"Mini 9\"") && message.contains("Mini 3"), "{message}");
        let message = run_err(&["node", "--model", "Mini 3", "--utilization", "0.3", "--price", "20"]).await;
        assert!(message.contains("outside the Mini 3 band 1.5..=14.9"), "{message}");
        let message = run_err(&[
            "node",
            "--model",
            "3Node Home",
            "--utilization",
            "1",
            "--price",
            "min",
            "--offered-slices",
            "8",
        ])
        .await;
        assert!(message.contains("between 1 and its 7 typical slices"), "{message}");
        // Refused by the argument parser (clap exits with status 2 and prints the message).
        for (argv, needle) in [
            (["--utilization", "1.5", "--price", "min"], "above 100%"),
            (["--utilization", "30", "--price", "min"], "above 100%"),
            (["--utilization", "-0.1", "--price", "min"], "is negative"),
            (["--utilization", "0.1234567", "--price", "min"], "too many decimals"),
            (["--utilization", "0.3", "--price", "1.55555555"], "too many decimals"),
            (["--utilization", "0.3", "--price", "cheap"], "expected min, max or a price"),
            (["--utilization", "0.3", "--price", "-1"], "negative"),
        ] {
            let full = [&["node", "--model", "Mini 3"][..], &argv[..]].concat();
            let error = parse(&full).err().unwrap_or_else(|| panic!("{full:?} must be refused"));
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains(needle), "{needle} in {error}");
        }
        let share = parse(&[
            "node",
            "--model",
            "Mini 3",
            "--utilization",
            "0.3",
            "--price",
            "min",
            "--share-bps",
            "10001",
        ]);
        assert!(share.err().unwrap().to_string().contains("0 to 10000"));
        let rate = parse(&["table", "--cc-usd", "0"]);
        assert!(rate.err().unwrap().to_string().contains("greater than 0"));
    }
}
