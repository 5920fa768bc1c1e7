//! `tfeco calc`: offline calculators over the embedded data (no node needed).
//!
//! - `calc node --model NAME --utilization U --price min|max|VALUE [--share-bps 8000] [--json]`: one node
//!   model's monthly gross, farmer share, hardware cost, net and break-even ([`income::node_income`]);
//! - `calc table [--json]`: the catalogue's income table ([`income::income_table`]).
//!
//! Formulas, units (CC incomes, USD costs, `--cc-usd` between them) and rounding are documented in `tfeco_core::rules::income`; this file only parses arguments and prints. Bad input (unknown
//! model, utilization outside 0..=100 %, a price outside the band, too many decimals) exits non-zero with a
//! readable message. The CC price defaults to the real one (0.001 g of gold at the latest month of the embedded
//! gold series, `cc_usd = gold_usd_per_oz / 31.1034768 / 1000`, decisions §1); `--cc-usd 1` reproduces the
//! published tables, which read CC incomes as USD, and the report says which one it used. (`calc mint-v3`, the v3 minting calculator, lives in `mint_v3.rs`.)

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
    /// USD per CC, to compare CC income with USD hardware cost [default: the real CC price, 0.001 g of gold
    /// at the latest month of the embedded gold series; 1 reproduces the published tables, which read CC
    /// incomes as USD].
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

/// Where a report's CC price comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum CcUsdSource {
    /// The real CC price: 0.001 g of gold at `gold` USD per troy ounce, the gold series' month `month`.
    Gold { month: String, gold: Price },
    /// Given with `--cc-usd`.
    Given,
}

impl CcUsdSource {
    /// One phrase for the report: where `cc_usd` comes from.
    fn describe(&self, cc_usd: Price) -> String {
        match self {
            CcUsdSource::Gold { month, gold } => format!(
                "the real CC price: 0.001 g of gold at {gold} USD/oz, gold series {month}; --cc-usd 1 \
                 reproduces the published tables"
            ),
            CcUsdSource::Given if cc_usd == Price::usd(1) => {
                "--cc-usd 1: the published tables' convention, CC incomes read as USD; the real CC price \
                 (0.001 g of gold) is lower"
                    .to_owned()
            }
            CcUsdSource::Given => "given with --cc-usd".to_owned(),
        }
    }
}

/// The real CC price from the latest month of the compiled-in gold series (decisions §1:
/// `cc_usd = gold_usd_per_oz / 31.1034768 / 1000`, rounded down to 18 decimals).
fn real_cc_usd() -> anyhow::Result<(Price, CcUsdSource)> {
    let (month, gold, cc_usd) =
        tfeco_core::rules::oracle::latest_gold_cc_usd().context("the compiled-in gold series is empty")?;
    Ok((cc_usd, CcUsdSource::Gold { month, gold }))
}

/// The default parameters with the shared options applied, and where the CC price comes from.
fn params(common: &CommonArgs) -> anyhow::Result<(RoiParams, CcUsdSource)> {
    let defaults = RoiParams::tfgrid4_2025();
    let (cc_usd, source) = match common.cc_usd {
        Some(given) => (given, CcUsdSource::Given),
        None => real_cc_usd()?,
    };
    let amortization_months = common.amortization_months.unwrap_or(defaults.amortization_months);
    Ok((RoiParams { cc_usd, amortization_months, ..defaults }, source))
}

/// `calc node --json`: the income and where its CC price comes from.
#[derive(serde::Serialize)]
struct NodeReport<'a> {
    #[serde(flatten)]
    income: &'a Income,
    /// `gold` (the real CC price from the gold series) or `given` (`--cc-usd`).
    cc_usd_source: &'static str,
    /// The gold series' month, when `cc_usd_source` is `gold`.
    #[serde(skip_serializing_if = "Option::is_none")]
    gold_month: Option<&'a str>,
}

fn run_node(args: NodeArgs) -> anyhow::Result<ExitCode> {
    emit(&node_report(args)?)
}

/// The report of `calc node`: the human text, or the JSON with `--json`.
fn node_report(args: NodeArgs) -> anyhow::Result<String> {
    let catalogue = tfeco_core::catalogue_q4_2025();
    let model = income::find_model(&catalogue, &args.model)?;
    let (base, source) = params(&args.common)?;
    let params = RoiParams {
        farmer_share: args.share_bps.unwrap_or(base.farmer_share),
        hw_cost_basis: args.hw_cost.unwrap_or(base.hw_cost_basis),
        ..base
    };
    let query =
        IncomeQuery { utilization: args.utilization, price: args.price, offered_slices: args.offered_slices };
    let income = income::node_income(model, &query, &params)?;
    if !args.common.json {
        return Ok(render_node(&income, &source));
    }
    let (cc_usd_source, gold_month) = match &source {
        CcUsdSource::Gold { month, .. } => ("gold", Some(month.as_str())),
        CcUsdSource::Given => ("given", None),
    };
    let report = NodeReport { income: &income, cc_usd_source, gold_month };
    Ok(serde_json::to_string_pretty(&report).context("encoding JSON")? + "\n")
}

fn run_table(args: TableArgs) -> anyhow::Result<ExitCode> {
    let catalogue = tfeco_core::catalogue_q4_2025();
    let (base, source) = params(&args.common)?;
    let params = RoiParams {
        income_factor_min: args.income_factor_min.unwrap_or(base.income_factor_min),
        income_factor_max: args.income_factor_max.unwrap_or(base.income_factor_max),
        ..base
    };
    let rows = income::income_table(&catalogue, &params)?;
    if args.common.json {
        emit(&(serde_json::to_string_pretty(&rows).context("encoding JSON")? + "\n"))
    } else {
        emit(&render_table(&rows, &params, &source))
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
fn render_node(i: &Income, source: &CcUsdSource) -> String {
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
        "{}: {} utilization, {} CC per slice-month ({basis}; band {} to {}), farmer share {share}, {} USD per CC \
         ({})",
        i.model,
        i.utilization.to_percent_string(),
        i.price,
        i.band_min,
        i.band_max,
        i.cc_usd.to_string_rounded(6),
        source.describe(i.cc_usd),
    );
    for (label, value) in lines {
        let _ = writeln!(out, "  {label:<25} {value}");
    }
    out
}

/// The human-readable income table of `calc table`.
fn render_table(rows: &[IncomeRow], params: &RoiParams, source: &CcUsdSource) -> String {
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
         capex / income at {} USD per CC ({}).",
        params.amortization_months,
        params.cc_usd.to_string_rounded(6),
        source.describe(params.cc_usd),
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
        let text = render_node(&income, &CcUsdSource::Given);
        assert!(text.contains("  gross                     11.25 CC/month = 11.25 USD/month"), "{text}");
        assert!(text.contains("  farmer share (80%)        9 CC/month = 9 USD/month"), "{text}");
        assert!(text.contains("  hardware cost             17 USD/month"), "{text}");
        assert!(text.contains("  net                       -8 USD/month"), "{text}");
        assert!(text.contains("111.11 months on the farmer share"), "{text}");
    }

    /// Issue 10 item 17: `calc node` used 1 USD per CC unless told otherwise, and so overstated a farmer's
    /// income about sevenfold (Mini 3 at 30% and the band maximum: +72.4 USD/month before; -4.847558 at the
    /// real CC price, 4228 USD/oz gold in 2026-06, the default now). `--cc-usd 1` still reproduces the published tables, and says so.
    #[test]
    fn calc_node_defaults_to_the_real_cc_price() {
        let argv = ["node", "--model", "Mini 3", "--utilization", "0.3", "--price", "max"];
        let Ok(Args { command: CalcCommand::Node(args) }) = parse(&argv) else { panic!("parse") };
        let text = node_report(args).unwrap();
        let (_, CcUsdSource::Gold { month, gold }) = real_cc_usd().unwrap() else { panic!("gold") };
        assert!(text.contains("  net                       -4.847558 USD/month"), "{text}");
        let source = format!("0.001 g of gold at {gold} USD/oz, gold series {month}");
        assert!(text.contains(&source) && text.contains("--cc-usd 1 reproduces"), "{text}");
        let published = [&argv[..], &["--cc-usd", "1"]].concat();
        let Ok(Args { command: CalcCommand::Node(args) }) = parse(&published) else { panic!("parse") };
        let text = node_report(args).unwrap();
        assert!(text.contains("  net                       72.4 USD/month"), "{text}");
        assert!(text.contains("1 USD per CC (--cc-usd 1: the published tables' convention"), "{text}");
        let json = [&argv[..], &["--json"]].concat();
        let Ok(Args { command: CalcCommand::Node(args) }) = parse(&json) else { panic!("parse") };
        let value: serde_json::Value = serde_json::from_str(&node_report(args).unwrap()).unwrap();
        assert_eq!(
            (value["cc_usd_source"].as_str(), value["gold_month"].as_str()),
            (Some("gold"), Some(&*month))
        );
        assert_eq!(value["net"], "-4.847558", "{value}");
    }

    #[test]
    fn table_report_has_every_model() {
        let params = RoiParams::tfgrid4_2025();
        let rows = income::income_table(&tfeco_core::catalogue_q4_2025(), &params).unwrap();
        let text = render_table(&rows, &params, &CcUsdSource::Given);
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
