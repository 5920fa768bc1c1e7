//! Tests of the outputs with hand-built studies (no runner): files exist and parse, values are exact, the
//! same study gives byte-identical files, text from scenario files is escaped.

use std::path::Path;

use super::super::metrics::{Chart, Column, MonthValues, Series, Unit};
use super::super::runner::RunOutput;
use super::super::scenario::Scenario;
use super::super::study::{Arm, Bands, Study};
use super::csv::{bands_csv, parse_decimal, run_csv};
use super::summary::{Finding, FindingKind};
use super::*;

/// 1e30 base units: far beyond any real supply, still exact.
const HUGE: i128 = 1_000_000_000_000_000_000_000_000_000_000;

/// The scenario of the fixtures: read from TOML with only a name, a description and a horizon (every other
/// field takes its default), so the fixtures do not depend on the rest of the schema.
fn scenario(description: &str) -> Scenario {
    let mut table = toml::Table::new();
    table.insert("name".to_owned(), "hand-built".into());
    table.insert("description".to_owned(), description.into());
    table.insert("months".to_owned(), 3.into());
    Scenario::from_toml_str(&table.to_string()).unwrap()
}

/// A column of the fixtures.
fn column(key: &str, unit: Unit, decimals: u32, chart: Chart) -> Column {
    Column { key: key.to_owned(), label: key.replace('_', " "), unit, decimals, chart }
}

/// The fixtures' columns: cumulative TFT minted and burned, the exit pool's USDC, a price, a farmer's
/// cumulative net income and capex, and a count that is not drawn.
fn columns() -> Vec<Column> {
    vec![
        column("tft_minted", Unit::Tft, 7, Chart::TftSupply),
        column("tft_burned", Unit::Tft, 7, Chart::TftSupply),
        column("exit_pool_usdc", Unit::Usdc, 7, Chart::ExitPool),
        column("exit_clearing_price", Unit::Price, 18, Chart::ExitPool),
        column("farmer_net_cumulative.3Node Home", Unit::Usd, 7, Chart::FarmerIncome),
        column("farmer_capex.3Node Home", Unit::Usd, 7, Chart::FarmerIncome),
        column("users", Unit::Count, 0, Chart::None),
    ]
}

/// Month `m` of run `r`: burn overtakes minting in month 3, the farmer breaks even in month 2 (run 0) or 3.
fn row(m: u32, r: i128) -> Vec<i128> {
    let m128 = i128::from(m);
    vec![
        100_000_000 * m128 + r,
        [10_000_000, 90_000_000, 400_000_000][m as usize - 1] + r,
        50_000_000_000 - 20_000_000_000 * m128 - r,
        1_500_000_000_000_000 + r,
        [-900_0000000, 600_0000000 - 600_0000000 * r, 800_0000000][m as usize - 1],
        500_0000000,
        10 * m128 + r,
    ]
}

/// One run of the fixtures, `r` shifting its values a little. Built through serde from the fields the outputs
/// read, so fields the runner adds with a default do not break the fixture.
fn run(seed: u64, r: i128) -> RunOutput {
    let months: Vec<MonthValues> = (1..=3u32)
        .map(|m| MonthValues { month: m, at: 1_700_000_000 + i64::from(m) * 2_592_000, values: row(m, r) })
        .collect();
    let series = Series { columns: columns(), months };
    let run = serde_json::json!({
        "seed": seed,
        "series": serde_json::to_value(series).unwrap(),
        "state_hash": format!("{seed:064x}"),
        "commands": 1_000 + seed,
    });
    serde_json::from_value(run).unwrap()
}

/// Nearest-rank bands of two runs, built by hand: p5 the smaller, p50 and p95 the larger.
fn bands(runs: &[RunOutput]) -> Bands {
    let pick = |m: usize, f: fn(i128, i128) -> i128| -> Vec<i128> {
        let (a, b) = (&runs[0].series.months[m].values, &runs[1].series.months[m].values);
        a.iter().zip(b).map(|(x, y)| f(*x, *y)).collect()
    };
    let months = runs[0].series.months.len();
    Bands {
        columns: columns(),
        months: runs[0].series.months.iter().map(|m| m.month).collect(),
        p5: (0..months).map(|m| pick(m, i128::min)).collect(),
        p50: (0..months).map(|m| pick(m, i128::max)).collect(),
        p95: (0..months).map(|m| pick(m, i128::max)).collect(),
    }
}

/// An arm labelled `label` with runs seeded 7 and 8, `shift` added to the second run.
fn arm(label: &str, overrides: Vec<(String, String)>, shift: i128) -> Arm {
    let runs = vec![run(7, 0), run(8, 1 + shift)];
    Arm { label: label.to_owned(), overrides, bands: bands(&runs), runs }
}

/// A one-arm study whose scenario has `description`.
fn study(description: &str) -> Study {
    Study { scenario: scenario(description), seed: 7, runs_per_arm: 2, arms: vec![arm("base", vec![], 0)] }
}

/// A two-arm sweep.
fn sweep() -> Study {
    let mut study = study("A sweep.");
    let over = vec![("params.revenue_split.burn_bps".to_owned(), "2000".to_owned())];
    study.arms.push(arm("params.revenue_split.burn_bps=2000", over, 5));
    study
}

/// Writes `study` into a fresh directory.
fn write(study: &Study) -> (tempfile::TempDir, Written) {
    let dir = tempfile::tempdir().unwrap();
    let written = write_study(study, dir.path(), &mut |_| {}).unwrap();
    (dir, written)
}

/// Reads a written file.
fn read(dir: &Path, relative: &str) -> Vec<u8> {
    std::fs::read(dir.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn decimals_are_exact_for_negative_large_and_extreme_values() {
    assert_eq!(decimal(0, 7), "0.0000000");
    assert_eq!(decimal(-15, 1), "-1.5");
    assert_eq!(decimal(5, 3), "0.005");
    assert_eq!(decimal(-5, 3), "-0.005");
    assert_eq!(decimal(42, 0), "42");
    assert_eq!(decimal(HUGE, 7), "100000000000000000000000.0000000");
    assert_eq!(decimal(-HUGE - 1, 18), "-1000000000000.000000000000000001");
    assert_eq!(decimal(i128::MIN, 0), "-170141183460469231731687303715884105728");
    for (value, decimals) in [(0, 7), (-1, 7), (HUGE + 3, 7), (-HUGE, 18), (i128::MAX, 5), (i128::MIN, 38)] {
        assert_eq!(parse_decimal(&decimal(value, decimals), decimals), Some(value), "{value} at {decimals}");
    }
    assert_eq!(parse_decimal("1.5", 7), Some(15_000_000));
    for bad in
        ["", "-", "1.2.3", "1e5", "+1", ".5", "1.12345678", "999999999999999999999999999999999999999999"]
    {
        assert_eq!(parse_decimal(bad, 7), None, "{bad:?}");
    }
}

#[test]
fn slugs_are_safe_file_names_and_unique() {
    let mut study = study("x");
    study.arms[0].label = "Params.Revenue_Split.burn_bps=2000".to_owned();
    study.arms.push(arm("../../etc", vec![], 0));
    study.arms.push(arm("params.revenue_split.burn_bps 2000", vec![], 0));
    study.arms.push(arm("", vec![], 0));
    let slugs = arm_slugs(&study);
    assert_eq!(
        slugs,
        ["params.revenue_split.burn_bps-2000", "etc", "params.revenue_split.burn_bps-2000-2", "arm"]
    );
}

#[test]
fn run_csv_round_trips_exact_values() {
    let mut run = run(7, 0);
    run.series.months[0].values[0] = HUGE;
    run.series.months[1].values[2] = -HUGE - 7;
    let bytes = run_csv(&run.series).unwrap();
    let mut reader = ::csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..3], ["month", "at", "tft_minted"]);
    assert_eq!(header[6], "farmer_net_cumulative.3Node Home");
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for (row, month) in rows.iter().zip(&run.series.months) {
        assert_eq!(row[0].parse::<u32>().unwrap(), month.month);
        assert_eq!(row[1].parse::<i64>().unwrap(), month.at);
        for (c, column) in run.series.columns.iter().enumerate() {
            assert_eq!(parse_decimal(&row[c + 2], column.decimals), Some(month.values[c]), "{}", column.key);
        }
    }
    assert_eq!(&rows[1][4], "-100000000000000000000000.0000007");
}

#[test]
fn ragged_series_are_refused() {
    let mut run = run(7, 0);
    run.series.months[1].values.pop();
    let error = run_csv(&run.series).unwrap_err().to_string();
    assert!(error.contains("month 2 has 6 values for 7 columns"), "{error}");
    let mut bands = study("x").arms[0].bands.clone();
    bands.p95.pop();
    assert!(bands_csv(&bands).is_err());
}

#[test]
fn bands_csv_has_three_columns_per_key() {
    let study = study("x");
    let bytes = bands_csv(&study.arms[0].bands).unwrap();
    let mut reader = ::csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[..4], ["month", "tft_minted.p5", "tft_minted.p50", "tft_minted.p95"]);
    assert_eq!(header.len(), 1 + 3 * columns().len());
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[2][0], "3");
    assert_eq!(&rows[2][1], "30.0000000");
    assert_eq!(&rows[2][2], "30.0000001");
}

#[test]
fn study_writes_csv_files_per_run_and_arm() {
    let (dir, written) = write(&sweep());
    for file in [
        "runs/base/run-7.csv",
        "runs/base/run-8.csv",
        "bands-base.csv",
        "runs/params.revenue_split.burn_bps-2000/run-8.csv",
        "bands-params.revenue_split.burn_bps-2000.csv",
    ] {
        assert!(written.files.iter().any(|f| f == file), "{file} not in {:?}", written.files);
        assert!(!read(dir.path(), file).is_empty());
    }
}

#[test]
fn the_same_study_gives_byte_identical_files() {
    let study = sweep();
    let (a, written_a) = write(&study);
    let (b, written_b) = write(&study);
    assert_eq!(written_a, written_b);
    for file in &written_a.files {
        assert_eq!(read(a.path(), file), read(b.path(), file), "{file} differs");
    }
}

#[test]
fn summary_json_parses_back_and_holds_the_finals() {
    let study = sweep();
    let (dir, written) = write(&study);
    assert!(written.files.iter().any(|f| f == "summary.json"));
    let parsed: Summary = serde_json::from_slice(&read(dir.path(), "summary.json")).unwrap();
    assert_eq!(parsed, summary(&study));
    assert_eq!(parsed.scenario.name, "hand-built");
    assert_eq!((parsed.seed, parsed.runs_per_arm, parsed.arms.len()), (7, 2, 2));
    let base = &parsed.arms[0];
    assert_eq!(base.final_month, Some(3));
    let minted = &base.columns[0];
    assert_eq!((minted.key.as_str(), minted.unit), ("tft_minted", Unit::Tft));
    assert_eq!((minted.p5.as_str(), minted.p50.as_str()), ("30.0000000", "30.0000001"));
    assert_eq!(base.runs[1].csv, "runs/base/run-8.csv");
    assert_eq!(base.runs[1].state_hash, format!("{:064x}", 8));
    assert!(base.against_first.is_empty());
    let swept = &parsed.arms[1];
    assert_eq!(swept.overrides[0].path, "params.revenue_split.burn_bps");
    assert_eq!(swept.overrides[0].value, "2000");
    let minted = &swept.against_first[0];
    assert_eq!((minted.first.as_str(), minted.arm.as_str()), ("30.0000001", "30.0000006"));
    assert_eq!(minted.difference, "0.0000005");
    let users = swept.against_first.iter().find(|d| d.key == "users").unwrap();
    assert_eq!(users.difference, "5");
}

#[test]
fn findings_come_from_the_columns_that_exist() {
    let summary = summary(&study("x"));
    let findings = &summary.arms[0].findings;
    let kinds: Vec<FindingKind> = findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::BurnOutrunsMint, FindingKind::BreakEven, FindingKind::Lowest]);
    let burn = &findings[0];
    assert_eq!((burn.month, burn.value.as_deref()), (Some(3), Some("10.0000000")));
    assert_eq!(burn.columns, ["tft_burned", "tft_minted"]);
    let even = &findings[1];
    assert_eq!(even.month, Some(2), "{}", even.text);
    assert!(even.text.contains("3Node Home") && even.text.contains("2 of 2 runs"), "{}", even.text);
    let pool = &findings[2];
    assert_eq!((pool.month, pool.value.as_deref()), (Some(3), Some("-1000.0000001")));
    assert!(pool.text.contains("pool is empty"), "{}", pool.text);
    let mut bare = study("x");
    for arm in &mut bare.arms {
        arm.bands.columns.retain(|c| c.key == "users");
        for rows in [&mut arm.bands.p5, &mut arm.bands.p50, &mut arm.bands.p95] {
            rows.iter_mut().for_each(|row| row.drain(..6).for_each(drop));
        }
    }
    let bare = super::summary(&bare);
    assert!(bare.arms[0].findings.is_empty());
    assert_eq!(bare.arms[0].columns.len(), 1);
}

#[test]
fn break_even_sums_monthly_net_income_and_may_never_happen() {
    let mut study = study("x");
    let arm = &mut study.arms[0];
    arm.bands.columns[4].key = "farmer_net.3Node Home".to_owned();
    for run in &mut arm.runs {
        run.series.columns[4].key = "farmer_net.3Node Home".to_owned();
        for month in &mut run.series.months {
            month.values[4] = 200_0000000;
        }
    }
    let finding = summary(&study).arms[0].findings.iter().find(|f| f.kind == FindingKind::BreakEven).cloned();
    assert_eq!(finding.unwrap().month, Some(3), "200 + 200 + 200 reaches 500 in month 3");
    for run in &mut study.arms[0].runs {
        run.series.months.iter_mut().for_each(|m| m.values[4] = 1);
    }
    let finding = summary(&study).arms[0].findings.iter().find(|f| f.kind == FindingKind::BreakEven).cloned();
    let finding = finding.unwrap();
    assert_eq!(finding.month, None);
    assert!(finding.text.contains("0 of 2 runs"), "{}", finding.text);
}

#[test]
fn charts_are_png_and_svg_per_group_with_columns() {
    let (dir, written) = write(&study("x"));
    for name in ["tft_supply", "exit_pool", "farmer_income"] {
        let png = read(dir.path(), &format!("charts/{name}.png"));
        assert_eq!(png[..8], [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A], "{name}.png");
        let svg = String::from_utf8(read(dir.path(), &format!("charts/{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{name}.svg");
        assert_eq!(svg.matches("<svg").count(), 1);
    }
    let svg = String::from_utf8(read(dir.path(), "charts/tft_supply.svg")).unwrap();
    assert!(svg.contains("\nTFT supply\n") && svg.contains("\ntft minted\n"), "{svg}");
    assert!(!svg.contains("supply cap"), "the cap is far above 40 TFT: no cap line");
    let svg = String::from_utf8(read(dir.path(), "charts/exit_pool.svg")).unwrap();
    assert!(svg.contains("\nExit pool\n") && svg.contains("\nUSDC\n") && svg.contains("\nUSD per unit\n"));
    assert!(!written
        .files
        .iter()
        .any(|f| f.starts_with("charts/population") || f.starts_with("charts/none")));
}

#[test]
fn the_supply_chart_draws_the_cap_near_the_supply() {
    let mut study = study("x");
    for run in &mut study.arms[0].runs {
        run.series.months.iter_mut().for_each(|m| m.values[0] = 800_000_000 * 10_000_000);
    }
    study.arms[0].bands = bands(&study.arms[0].runs);
    let (dir, _) = write(&study);
    let svg = String::from_utf8(read(dir.path(), "charts/tft_supply.svg")).unwrap();
    assert!(svg.contains("supply cap (1B TFT)"), "{svg}");
    assert_eq!(svg.matches("<svg").count(), 1, "one panel grid, one document");
    // A `tft_cap` column is the cap line, not a series.
    let mut capped = study.clone();
    let cap = column("tft_cap", Unit::Tft, 7, Chart::TftSupply);
    for arm in &mut capped.arms {
        for run in &mut arm.runs {
            run.series.columns.push(cap.clone());
            run.series.months.iter_mut().for_each(|m| m.values.push(900_000_000 * 10_000_000));
        }
        arm.bands = bands(&arm.runs);
        arm.bands.columns.push(cap.clone());
    }
    let (dir, _) = write(&capped);
    let svg = String::from_utf8(read(dir.path(), "charts/tft_supply.svg")).unwrap();
    assert!(svg.contains("supply cap (900M TFT)") && !svg.contains("\ntft cap\n"), "{svg}");
}

#[test]
fn the_report_shows_the_study_and_escapes_its_text() {
    let mut study = sweep();
    study.scenario.name = "x<script>alert(1)</script>".to_owned();
    study.arms[1].label = "<b onmouseover=\"alert(2)\">".to_owned();
    study.arms[1].overrides[0].1 = "'a' & <i>".to_owned();
    study.scenario.description = "Does <script>alert(3)</script> & 'this' \"escape\"?".to_owned();
    let (dir, written) = write(&study);
    assert_eq!(written.files.last().map(String::as_str), Some("report.html"));
    let page = String::from_utf8(read(dir.path(), "report.html")).unwrap();
    assert!(!page.contains("<script") && !page.contains("<b onmouseover") && !page.contains("<i>"), "{page}");
    assert!(
        page.contains("Does &lt;script&gt;alert(3)&lt;/script&gt; &amp; &#39;this&#39; &quot;escape&quot;?")
    );
    assert!(page.contains("&lt;b onmouseover=&quot;alert(2)&quot;&gt;"));
    for chart in ["tft_supply", "exit_pool", "farmer_income"] {
        assert!(page.contains(&format!("<img src=\"charts/{chart}.svg\"")), "{chart}");
        assert!(written.files.contains(&format!("charts/{chart}.svg")));
    }
    assert!(page.contains("Lines are the median (p50) over 2 runs per arm"));
    for line in study.scenario.assumptions() {
        assert!(page.contains(&format!("<li>{}</li>", super::html::escape(&line))), "the assumption {line}");
    }
    assert!(page.contains("name = &quot;x&lt;script&gt;"), "the TOML, escaped");
    assert!(page.contains("The median tft burned first exceeds the median tft minted in month 3."));
    assert!(page.contains("<td class=\"n\">30.0000006</td>"), "final-month table");
    assert!(page.contains("<td><code>tft_minted</code></td>"), "sweep differences");
    let command = "tfeco sim --scenario x-script-alert-1-script.toml --months 3 --seed 7 --runs 2 \
                   --sweep &#39;params.revenue_split.burn_bps=&#39;\\&#39;&#39;a&#39;\\&#39;&#39; &amp; &lt;i&gt;&#39; --out DIR";
    assert!(page.contains(command), "{page}");
}

#[test]
fn the_reproduce_command_names_the_sweep() {
    let study = sweep();
    assert_eq!(
        super::html::reproduce(&study),
        "tfeco sim --scenario hand-built.toml --months 3 --seed 7 --runs 2 \
         --sweep params.revenue_split.burn_bps=2000 --out DIR"
    );
    assert_eq!(super::html::escape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
}

#[test]
fn break_even_of_a_catalogue_model_uses_its_capex_and_the_gold_backed_cc_price() {
    // Gold at 3,110.34768 USD per ounce makes 1 CC (0.001 g) worth exactly 0.1 USD.
    let gold = 3_110_347_680_000_000_000_000i128;
    let per_node = |cc: i128| cc * 10_000_000;
    let mut study = study("x");
    let arm = &mut study.arms[0];
    let extra = [
        column("farmer_net_cc_per_node.3Node Home", Unit::Cc, 7, Chart::FarmerIncome),
        column("farmer_net_cc_per_node.Mini 1", Unit::Cc, 7, Chart::FarmerIncome),
        column("farmer_net_cc_per_node.Not In The Catalogue", Unit::Cc, 7, Chart::FarmerIncome),
        column("gold_usd_per_oz", Unit::Price, 18, Chart::Prices),
    ];
    for run in &mut arm.runs {
        run.series.columns.extend(extra.iter().cloned());
        for month in &mut run.series.months {
            month.values.extend([per_node(2_000), per_node(1_000), per_node(1_000_000), gold]);
        }
    }
    arm.bands = bands(&arm.runs);
    arm.bands.columns.extend(extra.iter().cloned());
    let findings = summary(&study).arms[0].findings.clone();
    let even: Vec<&Finding> = findings.iter().filter(|f| f.kind == FindingKind::BreakEven).collect();
    assert_eq!(even.len(), 2, "3Node Home from its capex column, Mini 1 from the catalogue: {even:?}");
    assert!(even[0].text.starts_with("3Node Home:"), "the capex column wins over the catalogue");
    let mini = even[1];
    // 1,000 CC a month at 0.1 USD = 100 USD a month against 350 USD: month 4, past the 3-month horizon.
    assert_eq!(mini.month, None, "{}", mini.text);
    assert_eq!((mini.value.as_deref(), mini.unit), (Some("350.0000000"), Unit::Usd));
    assert!(
        mini.text.contains("catalogue capex of 350 USD") && mini.text.contains("0 of 2 runs"),
        "{}",
        mini.text
    );
    for run in &mut study.arms[0].runs {
        run.series.months.iter_mut().for_each(|m| m.values[8] = per_node(1_200));
    }
    let findings = summary(&study).arms[0].findings.clone();
    let mini = findings.iter().filter(|f| f.kind == FindingKind::BreakEven).nth(1).unwrap();
    assert_eq!(mini.month, Some(3), "120 USD a month reaches 350 USD in month 3: {}", mini.text);
}

#[test]
fn empty_and_one_month_studies_are_written_without_panicking() {
    let mut empty = study("Nothing ran.");
    empty.arms.clear();
    let (dir, written) = write(&empty);
    assert_eq!(written.files, ["summary.json", "report.html"]);
    let page = String::from_utf8(read(dir.path(), "report.html")).unwrap();
    assert!(page.contains("No chart"));
    let mut one = study("One month.");
    for arm in &mut one.arms {
        arm.runs.iter_mut().for_each(|run| run.series.months.truncate(1));
        arm.bands = bands(&arm.runs);
        // An all-zero column draws as a flat line.
        for rows in [&mut arm.bands.p5, &mut arm.bands.p50, &mut arm.bands.p95] {
            rows[0][2] = 0;
        }
    }
    let (dir, written) = write(&one);
    assert!(written.files.iter().any(|f| f == "charts/exit_pool.png"));
    let parsed: Summary = serde_json::from_slice(&read(dir.path(), "summary.json")).unwrap();
    assert_eq!(parsed.arms[0].final_month, Some(1));
}

#[test]
fn a_builtin_scenario_reproduces_by_name_unless_it_was_changed() {
    for name in Scenario::builtin_names() {
        let mut study = study("x");
        study.scenario = Scenario::builtin(name).unwrap();
        study.scenario.months = 2;
        let command = super::html::reproduce(&study);
        assert!(command.starts_with(&format!("tfeco sim --scenario {name} --months 2 ")), "{command}");
        study.scenario.description.push_str(" (changed)");
        let command = super::html::reproduce(&study);
        assert!(command.contains(&format!("--scenario {name}.toml ")), "{command}");
    }
}
