//! `summary.json`: what a study found, as one serde value ([`Summary`]) that `tfeco sim --json` prints and
//! `report.html` renders: the scenario (with its TOML), per arm the final-month p5/p50/p95 of every column, each
//! run's final state hash and command count, the findings, and in a sweep each arm's final-month difference from
//! the first arm. Every amount is an exact decimal string with its unit.
//!
//! The findings are derived from whatever columns the runs produced, by key convention (a finding whose columns
//! are absent is skipped):
//!
//! - **burn outruns mint**: for every pair `<x>_burned` / `<x>_minted` of the same unit (e.g. `tft_burned`,
//!   `tft_minted`), the first month the median burned exceeds the median minted (its value: burned minus minted
//!   that month, or at the final month when burned never exceeds minted);
//! - **break-even**: for every `farmer_capex<S>.<model>` (e.g. `farmer_capex_cc_per_node.3Node Home`), the
//!   column `farmer_net_cumulative<S>.<model>` (cumulative) or else `farmer_net<S>.<model>` (monthly, summed
//!   here) of the same unit: each run's first month its cumulative net income reaches the capex, and the median
//!   of those months over the runs (nearest rank, a run that never breaks even counting as later than all).
//!   For a model of the core's catalogue with no capex column, `farmer_net_cc_per_node.<model>` (CC per node
//!   per month) is turned into USD at each month's CC price (0.001 g of gold: `gold_usd_per_oz`) and summed
//!   against the catalogue's `capex_usd` (one node earning the model's average net income from month 1);
//! - **lowest**: for every column whose key starts with `exit_pool_usdc` or `pool2_reserve`, the lowest p5 and
//!   p50 over the months (can the pool stay solvent);
//! - **highest**: for every column whose key ends with `burn_owed_tft`, the highest p95 and p50 over the months.

use serde::{Deserialize, Serialize};

use tfeco_core::rules::income::cc_to_usd;
use tfeco_core::rules::oracle::CcPrice;
use tfeco_money::{Amount, Cc, Price};

use super::super::metrics::{Column, Series, Unit};
use super::super::study::{Arm, Bands, Study};
use super::{arm_slugs, decimal, trimmed};

/// What a study found (the content of `summary.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The scenario as given (before any arm's override).
    pub scenario: ScenarioSummary,
    /// The study's first seed (run `i` uses `seed + i`).
    pub seed: u64,
    /// Runs per arm.
    pub runs_per_arm: u32,
    /// The arms, in study order (the first is the reference of a sweep).
    pub arms: Vec<ArmSummary>,
}

/// The scenario of a study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// Its name.
    pub name: String,
    /// What it asks.
    pub description: String,
    /// Months simulated.
    pub months: u32,
    /// Its assumptions in words, one per line.
    pub assumptions: Vec<String>,
    /// The scenario as TOML (loadable with `--scenario FILE`).
    pub toml: String,
}

/// One arm of a study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmSummary {
    /// The arm's label.
    pub label: String,
    /// The label's slug, used in the arm's file names.
    pub slug: String,
    /// The arm's overrides of the scenario (empty for the base arm).
    pub overrides: Vec<Override>,
    /// The last month of the bands (`None` when the runs have no month).
    pub final_month: Option<u32>,
    /// Every column's p5 / p50 / p95 at the final month, in column order.
    pub columns: Vec<ColumnFinal>,
    /// The runs, in seed order.
    pub runs: Vec<RunSummary>,
    /// What the arm's bands show (see the module doc).
    pub findings: Vec<Finding>,
    /// In a sweep, the final-month median of every column against the first arm's (empty for the first arm).
    pub against_first: Vec<Difference>,
}

/// One override of a sweep arm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The dotted path in the scenario, e.g. `params.revenue_split.burn_bps`.
    pub path: String,
    /// The value, as TOML.
    pub value: String,
}

/// A column's bands at the final month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFinal {
    /// The column's key.
    pub key: String,
    /// Its label.
    pub label: String,
    /// Its unit.
    pub unit: Unit,
    /// The 5th percentile over the runs, exact decimal.
    pub p5: String,
    /// The median.
    pub p50: String,
    /// The 95th percentile.
    pub p95: String,
}

/// One run's end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's seed.
    pub seed: u64,
    /// The core's state hash after the last month.
    pub state_hash: String,
    /// Commands applied.
    pub commands: u64,
    /// Its monthly CSV, relative to the output directory.
    pub csv: String,
    /// Commands the core refused, by `command_kind/rejection_code` (the agents build every command to be
    /// valid, so a refusal is something to look at).
    pub rejections: std::collections::BTreeMap<String, u64>,
}

/// What kind of answer a [`Finding`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The first month the median burned exceeds the median minted.
    BurnOutrunsMint,
    /// The median month a farmer model's cumulative net income reaches its capex.
    BreakEven,
    /// The lowest p5 of a stock over the months.
    Lowest,
    /// The highest p95 of a stock over the months.
    Highest,
}

/// A derived answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What it answers.
    pub kind: FindingKind,
    /// The columns it reads.
    pub columns: Vec<String>,
    /// The month it names (`None`: it did not happen within the horizon).
    pub month: Option<u32>,
    /// The amount it names, exact decimal in `unit`.
    pub value: Option<String>,
    /// The unit of `value`.
    pub unit: Unit,
    /// The answer in one sentence.
    pub text: String,
}

/// A column's final-month median in an arm against the first arm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The column's key.
    pub key: String,
    /// Its unit.
    pub unit: Unit,
    /// The first arm's final-month median.
    pub first: String,
    /// This arm's final-month median.
    pub arm: String,
    /// `arm - first`, exact.
    pub difference: String,
}

/// The summary of `study` (deterministic: the same study gives the same value).
pub fn summary(study: &Study) -> Summary {
    let scenario = &study.scenario;
    let toml = scenario
        .to_toml_string()
        .unwrap_or_else(|e| format!("# the scenario could not be written as TOML: {e}\n"));
    let slugs = arm_slugs(study);
    let first = study.arms.first();
    let arms = study.arms.iter().zip(&slugs).map(|(arm, slug)| arm_summary(arm, slug, first)).collect();
    Summary {
        scenario: ScenarioSummary {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            months: scenario.months,
            assumptions: scenario.assumptions(),
            toml,
        },
        seed: study.seed,
        runs_per_arm: study.runs_per_arm,
        arms,
    }
}

/// One arm's summary; `first` is the sweep's reference arm.
fn arm_summary(arm: &Arm, slug: &str, first: Option<&Arm>) -> ArmSummary {
    let bands = &arm.bands;
    let runs = arm
        .runs
        .iter()
        .map(|run| RunSummary {
            seed: run.seed,
            state_hash: run.state_hash.clone(),
            commands: run.commands,
            csv: format!("runs/{slug}/run-{}.csv", run.seed),
            rejections: run.rejections.clone(),
        })
        .collect();
    let mut findings = burn_outruns_mint(bands);
    findings.extend(break_even(arm));
    findings.extend(extremes(bands));
    let against_first = match first {
        Some(first) if !std::ptr::eq(first, arm) => differences(&first.bands, bands),
        _ => Vec::new(),
    };
    ArmSummary {
        label: arm.label.clone(),
        slug: slug.to_owned(),
        overrides: arm
            .overrides
            .iter()
            .map(|(p, v)| Override { path: p.clone(), value: v.clone() })
            .collect(),
        final_month: bands.months.last().copied(),
        columns: finals(bands),
        runs,
        findings,
        against_first,
    }
}

/// Index of the final month of `bands` whose three rows are complete, if any.
fn final_index(bands: &Bands) -> Option<usize> {
    let i = bands.months.len().checked_sub(1)?;
    let complete = [&bands.p5, &bands.p50, &bands.p95]
        .iter()
        .all(|rows| rows.get(i).is_some_and(|r| r.len() == bands.columns.len()));
    complete.then_some(i)
}

/// Every column's final-month bands.
fn finals(bands: &Bands) -> Vec<ColumnFinal> {
    let Some(i) = final_index(bands) else { return Vec::new() };
    let at = |rows: &[Vec<i128>], c: usize, column: &Column| decimal(rows[i][c], column.decimals);
    bands
        .columns
        .iter()
        .enumerate()
        .map(|(c, column)| ColumnFinal {
            key: column.key.clone(),
            label: column.label.clone(),
            unit: column.unit,
            p5: at(&bands.p5, c, column),
            p50: at(&bands.p50, c, column),
            p95: at(&bands.p95, c, column),
        })
        .collect()
}

/// The values of column `c` month by month in `rows` (`None` if a row is short).
fn column_of(rows: &[Vec<i128>], c: usize) -> Option<Vec<i128>> {
    rows.iter().map(|row| row.get(c).copied()).collect()
}

/// The burn-outruns-mint findings (see the module doc).
fn burn_outruns_mint(bands: &Bands) -> Vec<Finding> {
    let mut found = Vec::new();
    for (b, burned) in bands.columns.iter().enumerate() {
        let Some(prefix) = burned.key.strip_suffix("_burned") else { continue };
        let minted_key = format!("{prefix}_minted");
        let Some(m) = bands.columns.iter().position(|c| c.key == minted_key && c.unit == burned.unit) else {
            continue;
        };
        let (Some(burn), Some(mint)) = (column_of(&bands.p50, b), column_of(&bands.p50, m)) else { continue };
        let at = burn.iter().zip(&mint).position(|(b, m)| b > m);
        let month = at.and_then(|i| bands.months.get(i).copied());
        let gap = at.or(burn.len().checked_sub(1)).and_then(|i| burn[i].checked_sub(mint[i]));
        let text = match month {
            Some(month) => format!(
                "The median {} first exceeds the median {} in month {month}.",
                burned.label, bands.columns[m].label
            ),
            None => format!(
                "The median {} never exceeds the median {} within {} months.",
                burned.label,
                bands.columns[m].label,
                burn.len()
            ),
        };
        found.push(Finding {
            kind: FindingKind::BurnOutrunsMint,
            columns: vec![burned.key.clone(), minted_key],
            month,
            value: gap.map(|g| decimal(g, burned.decimals)),
            unit: burned.unit,
            text,
        });
    }
    found
}

/// The break-even findings (see the module doc), from each run's own series: the capex columns first, then
/// the catalogue's capex for the models no capex column covers.
fn break_even(arm: &Arm) -> Vec<Finding> {
    let columns = &arm.bands.columns;
    let mut found = Vec::new();
    let mut covered: Vec<&str> = Vec::new();
    for capex in columns {
        let Some((suffix, model)) = capex.key.strip_prefix("farmer_capex").and_then(|k| k.split_once('.'))
        else {
            continue;
        };
        let net_of = |base: String| {
            let key = format!("{base}.{model}");
            columns.iter().find(|c| c.key == key && c.unit == capex.unit && c.decimals == capex.decimals)
        };
        let cumulative = net_of(format!("farmer_net_cumulative{suffix}"));
        let Some((net, cumulative)) = cumulative
            .map(|c| (c, true))
            .or_else(|| net_of(format!("farmer_net{suffix}")).map(|c| (c, false)))
        else {
            continue;
        };
        let runs: Option<Vec<RunEven>> = arm
            .runs
            .iter()
            .map(|run| run_break_even(&run.series, &net.key, &capex.key, cumulative))
            .collect();
        let Some(runs) = runs else { continue };
        let basis = format!("cumulative {} against {}", net.label, capex.label);
        let columns = vec![net.key.clone(), capex.key.clone()];
        let finding = break_even_finding(model, &basis, columns, (capex.unit, capex.decimals), None, &runs);
        found.push(finding);
        covered.push(model);
    }
    found.extend(catalogue_break_even(arm, &covered));
    found
}

/// The per-node monthly net income column whose models the catalogue break-even reads.
const NET_PER_NODE: &str = "farmer_net_cc_per_node";

/// The gold price column (USD per troy ounce, 18 decimals) that sets each month's CC price.
const GOLD: &str = "gold_usd_per_oz";

/// Break-even of one node of each catalogue model not in `covered`: its monthly net income per node
/// (`farmer_net_cc_per_node.<model>`, CC) turned into USD at each month's CC price (0.001 g of gold, from
/// `gold_usd_per_oz`), summed, against the model's `capex_usd` in the core's catalogue.
fn catalogue_break_even(arm: &Arm, covered: &[&str]) -> Vec<Finding> {
    let columns = &arm.bands.columns;
    let has_gold = columns.iter().any(|c| c.key == GOLD && c.unit == Unit::Price && c.decimals == 18);
    if !has_gold {
        return Vec::new();
    }
    let catalogue = tfeco_core::catalogue::catalogue_q4_2025();
    let mut found = Vec::new();
    for net in columns {
        let Some(model) = net.key.strip_prefix(NET_PER_NODE).and_then(|k| k.strip_prefix('.')) else {
            continue;
        };
        let Some(node) = catalogue.iter().find(|n| n.name == model) else { continue };
        if covered.contains(&model) || net.unit != Unit::Cc || net.decimals != 7 {
            continue;
        }
        let capex = i128::from(node.capex_usd) * 10_000_000;
        let runs: Option<Vec<RunEven>> =
            arm.runs.iter().map(|run| run_break_even_usd(&run.series, &net.key, capex)).collect();
        let Some(runs) = runs else { continue };
        let basis = format!(
            "one node's net income ({NET_PER_NODE}, in USD at each month's CC price) against its catalogue capex of {} USD",
            node.capex_usd
        );
        let columns = vec![net.key.clone(), GOLD.to_owned()];
        let capex = Some(decimal(capex, 7));
        found.push(break_even_finding(model, &basis, columns, (Unit::Usd, 7), capex, &runs));
    }
    found
}

/// A run's break-even: the first month its cumulative net income reaches the capex (`None`: not within the
/// horizon), and its cumulative net income at the last month.
type RunEven = (Option<u32>, i128);

/// The break-even of one run from its cumulative net income (`net`, summed when not `cumulative`) against its
/// capex column. `None` when a column is missing or a sum overflows.
fn run_break_even(series: &Series, net: &str, capex: &str, cumulative: bool) -> Option<RunEven> {
    let (n, k) = (series.column(net)?, series.column(capex)?);
    let (mut total, mut first): (i128, Option<u32>) = (0, None);
    for month in &series.months {
        let value = *month.values.get(n)?;
        total = if cumulative { value } else { total.checked_add(value)? };
        if first.is_none() && total >= *month.values.get(k)? {
            first = Some(month.month);
        }
    }
    Some((first, total))
}

/// The break-even of one run from its summed per-node net income `net` (CC), in USD (7 decimals) at each
/// month's CC price, against `capex` (USD, 7 decimals). `None` on a value the conversion cannot hold.
fn run_break_even_usd(series: &Series, net: &str, capex: i128) -> Option<RunEven> {
    let (n, g) = (series.column(net)?, series.column(GOLD)?);
    let (mut total, mut first): (i128, Option<u32>) = (0, None);
    for month in &series.months {
        let gold = Price::from_atto(u128::try_from(*month.values.get(g)?).ok()?);
        let cc_usd = CcPrice::from_gold(gold).usd();
        let usd = cc_to_usd(Amount::<Cc>::from_units(*month.values.get(n)?), cc_usd)?;
        total = total.checked_add(usd.units())?;
        if first.is_none() && total >= capex {
            first = Some(month.month);
        }
    }
    Some((first, total))
}

/// The finding of one farmer model from each run's break-even (`unit` and decimals of the net income); `value`
/// is the capex when the finding knows it.
fn break_even_finding(
    model: &str,
    basis: &str,
    columns: Vec<String>,
    (unit, decimals): (Unit, u32),
    value: Option<String>,
    runs: &[RunEven],
) -> Finding {
    let mut months: Vec<u32> = runs.iter().map(|(m, _)| m.unwrap_or(u32::MAX)).collect();
    let mut totals: Vec<i128> = runs.iter().map(|(_, total)| *total).collect();
    months.sort_unstable();
    totals.sort_unstable();
    let index = runs.len().div_ceil(2).saturating_sub(1);
    let median = months.get(index).copied().filter(|m| *m != u32::MAX);
    let total = totals.get(index).map_or_else(String::new, |t| {
        format!(
            "; the median cumulative net income at the horizon is {} {}",
            trimmed(*t, decimals),
            unit_name(unit)
        )
    });
    let reached = runs.iter().filter(|(m, _)| m.is_some()).count();
    let count = runs.len();
    let text = match median {
        Some(month) => format!(
            "{model}: the median run breaks even in month {month} ({reached} of {count} runs break even within \
             the horizon; {basis}{total})."
        ),
        None => format!(
            "{model}: the median run does not break even within the horizon ({reached} of {count} runs do; \
             {basis}{total})."
        ),
    };
    Finding { kind: FindingKind::BreakEven, columns, month: median, value, unit, text }
}

/// The lowest and highest findings (see the module doc).
fn extremes(bands: &Bands) -> Vec<Finding> {
    let mut found = Vec::new();
    for (c, column) in bands.columns.iter().enumerate() {
        let lowest = ["exit_pool_usdc", "pool2_reserve"].iter().any(|p| column.key.starts_with(p));
        let highest = column.key.ends_with("burn_owed_tft");
        if !(lowest || highest) {
            continue;
        }
        let (tail, kind, tail_name) = if lowest {
            (&bands.p5, FindingKind::Lowest, "p5")
        } else {
            (&bands.p95, FindingKind::Highest, "p95")
        };
        let (Some(tail), Some(median)) = (column_of(tail, c), column_of(&bands.p50, c)) else { continue };
        let (Some((t_at, t)), Some((m_at, m))) = (extreme(&tail, lowest), extreme(&median, lowest)) else {
            continue;
        };
        let month = |i: usize| bands.months.get(i).copied().unwrap_or_default();
        let word = if lowest { "lowest" } else { "highest" };
        let unit = unit_name(column.unit);
        let mut text = format!(
            "{}: {word} {tail_name} {} {unit} in month {}, {word} median {} {unit} in month {}.",
            column.label,
            trimmed(t, column.decimals),
            month(t_at),
            trimmed(m, column.decimals),
            month(m_at)
        );
        if lowest && t <= 0 {
            text.push_str(" At the p5 the pool is empty.");
        }
        found.push(Finding {
            kind,
            columns: vec![column.key.clone()],
            month: Some(month(t_at)),
            value: Some(decimal(t, column.decimals)),
            unit: column.unit,
            text,
        });
    }
    found
}

/// The index and value of the smallest (`lowest`) or largest value, the earliest on ties.
fn extreme(values: &[i128], lowest: bool) -> Option<(usize, i128)> {
    let better = |candidate: i128, best: i128| if lowest { candidate < best } else { candidate > best };
    let mut best: Option<(usize, i128)> = None;
    for (i, v) in values.iter().enumerate() {
        if best.is_none_or(|(_, b)| better(*v, b)) {
            best = Some((i, *v));
        }
    }
    best
}

/// Every column of `arm` that the first arm also has, final-month medians compared.
fn differences(first: &Bands, arm: &Bands) -> Vec<Difference> {
    let (Some(fi), Some(ai)) = (final_index(first), final_index(arm)) else { return Vec::new() };
    let mut found = Vec::new();
    for (c, column) in arm.columns.iter().enumerate() {
        let Some(f) = first.columns.iter().position(|k| k.key == column.key && k.decimals == column.decimals)
        else {
            continue;
        };
        let (a, b) = (first.p50[fi][f], arm.p50[ai][c]);
        found.push(Difference {
            key: column.key.clone(),
            unit: column.unit,
            first: decimal(a, column.decimals),
            arm: decimal(b, column.decimals),
            difference: b
                .checked_sub(a)
                .map_or_else(|| "overflow".to_owned(), |d| decimal(d, column.decimals)),
        });
    }
    found
}

/// The unit's name for people (`USD` for prices, empty for counts).
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Tft => "TFT",
        Unit::Tfp => "TFP",
        Unit::Cc => "CC",
        Unit::Usdc => "USDC",
        Unit::Usd | Unit::Price => "USD",
        Unit::Bps => "bps",
        Unit::Count => "",
    }
}
