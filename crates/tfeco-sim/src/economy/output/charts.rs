//! The charts (`plotters`): one PNG and one SVG per [`Chart`] group that has columns, each a grid of panels.
//!
//! - One arm: the group's columns are split into panels by unit, then by order of magnitude (a column whose
//!   largest value is under 1/20 of the panel's largest gets a panel of its own, so a small flow is not
//!   flattened against a large stock); one colour per column.
//! - A sweep: one panel per column, one colour per arm, so the arms of each column sit side by side.
//!
//! Every line is the median (p50) over the arm's runs and the shaded area around it spans p5 to p95. The TFT
//! supply chart draws the supply cap (the `tft_cap` column if the runs have one, else the core's default
//! `tft_supply_cap`, 1 billion TFT) as a dashed line in the TFT panels whose values reach 1/5 of it. Text uses the embedded DejaVu Sans (registered once as
//! `sans-serif`), never a system font. Values become floats here, for drawing only.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::super::metrics::{Chart, Column, Unit};
use super::super::study::{Bands, Study};
use super::summary::unit_name;
use super::{output_error, Out};
use crate::Result;

/// The embedded font (see `assets/fonts/LICENSE`).
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The font family every text of the charts uses.
const FAMILY: &str = "sans-serif";

/// Width and height of one panel, in pixels.
const PANEL: (u32, u32) = (900, 380);

/// A column whose largest value is under 1/`SPLIT` of its panel's largest gets a panel of its own.
const SPLIT: f64 = 20.0;

/// The cap is drawn in a TFT panel whose largest value is at least 1/`CAP_NEAR` of it.
const CAP_NEAR: f64 = 5.0;

/// Height of the chart's title band, in pixels.
const TITLE_HEIGHT: u32 = 44;

/// Line colours, in order (colour-blind-safe Okabe–Ito, then greys).
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 94, 240),
    RGBColor(0, 0, 0),
    RGBColor(153, 153, 153),
    RGBColor(100, 60, 20),
];

/// A chart the report shows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DrawnChart {
    /// Its title.
    pub(crate) title: &'static str,
    /// The SVG, relative to the output directory.
    pub(crate) svg: String,
    /// The PNG, relative to the output directory.
    pub(crate) png: String,
    /// What it shows and its units, for the report.
    pub(crate) caption: String,
}

/// One line: a column of an arm, month by month.
struct Line {
    /// The legend text.
    label: String,
    /// Its colour.
    color: RGBColor,
    /// p5, p50 and p95 per month.
    p5: Vec<f64>,
    /// The medians.
    p50: Vec<f64>,
    /// The 95th percentiles.
    p95: Vec<f64>,
}

impl Line {
    /// The largest absolute value the line reaches (its band included).
    fn scale(&self) -> f64 {
        self.p5.iter().chain(&self.p95).chain(&self.p50).fold(0.0, |m, v| m.max(v.abs()))
    }
}

/// One panel: lines of one unit, on one y axis.
struct Panel {
    /// The panel's caption.
    title: String,
    /// The unit (the y axis' description).
    unit: Unit,
    /// Its lines.
    lines: Vec<Line>,
    /// The supply cap to draw, in TFT.
    cap: Option<f64>,
}

/// A chart to draw.
struct Plan {
    /// The chart's title.
    title: &'static str,
    /// The months (the x axis).
    months: Vec<f64>,
    /// Its panels, drawn left to right, top to bottom.
    panels: Vec<Panel>,
}

/// The file name, title and description of a chart group.
fn describe(chart: Chart) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match chart {
        Chart::TftSupply => ("tft_supply", "TFT supply", "TFT supply: external, minted, burned, locked in the vault and in vesting, against the 1 billion cap."),
        Chart::Cc => ("cc", "Cloud Credits", "Cloud Credits minted and burned (cumulative) and outstanding."),
        Chart::Pool2 => ("pool2", "Pool 2", "Pool 2: its reserve and the TFT it owes to the burn (burn_owed_tft)."),
        Chart::ExitPool => ("exit_pool", "Exit pool", "Exit pool: USDC in the pool, USDC paid out, and the rounds' clearing prices."),
        Chart::FarmerIncome => ("farmer_income", "Farmer net income", "Farmer net income by node model."),
        Chart::Utilization => ("utilization", "Utilization", "Utilization of the offered capacity."),
        Chart::Treasury => ("treasury", "Treasury", "The treasury: ThreeFold's revenue share and the exit rounds' treasury TFP."),
        Chart::Prices => ("prices", "Prices", "The price paths the runs played (TFT and gold)."),
        Chart::Population => ("population", "Population", "The population: nodes, users and open leases."),
        Chart::None => return None,
    })
}

/// Every drawn chart group, in report order.
const CHARTS: [Chart; 9] = [
    Chart::TftSupply,
    Chart::Cc,
    Chart::Pool2,
    Chart::ExitPool,
    Chart::FarmerIncome,
    Chart::Utilization,
    Chart::Treasury,
    Chart::Prices,
    Chart::Population,
];

/// Draws every chart group that has columns as `charts/<name>.png` and `.svg`. Errors:
/// [`crate::SimError::Output`] naming the chart.
pub(crate) fn write_charts(
    study: &Study,
    out: &mut Out<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<DrawnChart>> {
    register()?;
    let mut drawn = Vec::new();
    for chart in CHARTS {
        let Some((name, title, description)) = describe(chart) else { continue };
        let Some(plan) = plan(study, chart, title) else { continue };
        progress(&format!("drawing charts/{name}"));
        let svg_name = format!("charts/{name}.svg");
        let png_name = format!("charts/{name}.png");
        out.write(&svg_name, render_svg(&plan).map_err(|e| output_error(&svg_name, e))?.as_bytes())?;
        let png_path = out.path(&png_name)?;
        render_png(&plan, &png_path).map_err(|e| output_error(&png_name, e))?;
        out.record(&png_name);
        drawn.push(DrawnChart {
            title,
            svg: svg_name,
            png: png_name,
            caption: caption(study, &plan, description),
        });
    }
    Ok(drawn)
}

/// Registers the embedded font once. Errors: [`crate::SimError::Output`] if it does not load.
fn register() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(output_error("charts", "the embedded font DejaVuSans.ttf does not load"))
    }
}

/// The caption of a chart: what it shows, its units, what the lines and bands are.
fn caption(study: &Study, plan: &Plan, description: &str) -> String {
    let mut units: Vec<&str> = Vec::new();
    for panel in &plan.panels {
        let name = unit_label(panel.unit);
        if !units.contains(&name) {
            units.push(name);
        }
    }
    let runs = study.runs_per_arm;
    let arms = if study.arms.len() > 1 {
        format!(" One panel per column, one colour per arm ({} arms).", study.arms.len())
    } else {
        String::new()
    };
    let cap =
        if plan.panels.iter().any(|p| p.cap.is_some()) { " The dashed line is the supply cap." } else { "" };
    format!(
        "{description} Units: {}. Lines are the median (p50) over {runs} runs per arm; shaded areas span p5 to p95.{arms}{cap}",
        units.join(", ")
    )
}

/// The y axis' description of a unit.
fn unit_label(unit: Unit) -> &'static str {
    match unit {
        Unit::Price => "USD per unit",
        Unit::Count => "count",
        other => unit_name(other),
    }
}

/// The plan of chart group `chart`, or `None` when no column belongs to it.
fn plan(study: &Study, chart: Chart, title: &'static str) -> Option<Plan> {
    let first = &study.arms.first()?.bands;
    let columns: Vec<(usize, &Column)> =
        first.columns.iter().enumerate().filter(|(_, c)| c.chart == chart && c.key != CAP_KEY).collect();
    if columns.is_empty() || first.months.is_empty() {
        return None;
    }
    let months = first.months.iter().map(|m| f64::from(*m)).collect();
    let panels =
        if study.arms.len() > 1 { sweep_panels(study, &columns) } else { arm_panels(first, &columns) };
    let mut panels: Vec<Panel> = panels.into_iter().filter(|p| !p.lines.is_empty()).collect();
    if chart == Chart::TftSupply {
        add_cap(&mut panels, cap(first));
    }
    Some(Plan { title, months, panels })
}

/// The line of column `c` of `bands` (`None` when a month's rows are short).
fn line(bands: &Bands, c: usize, label: String, color: RGBColor) -> Option<Line> {
    let decimals = bands.columns.get(c)?.decimals;
    let scale = 10f64.powi(i32::try_from(decimals).unwrap_or(i32::MAX));
    let values = |rows: &[Vec<i128>]| -> Option<Vec<f64>> {
        rows.iter().map(|row| row.get(c).map(|v| *v as f64 / scale)).collect()
    };
    Some(Line { label, color, p5: values(&bands.p5)?, p50: values(&bands.p50)?, p95: values(&bands.p95)? })
}

/// One arm's panels: by unit, then by order of magnitude; one colour per column.
fn arm_panels(bands: &Bands, columns: &[(usize, &Column)]) -> Vec<Panel> {
    let mut lines: Vec<(Unit, Line)> = Vec::new();
    for (n, (c, column)) in columns.iter().enumerate() {
        if let Some(line) = line(bands, *c, column.label.clone(), PALETTE[n % PALETTE.len()]) {
            lines.push((column.unit, line));
        }
    }
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|a, b| lines[*b].1.scale().total_cmp(&lines[*a].1.scale()));
    // (unit, the largest scale of the group, the group's line indices), largest scales first.
    let mut groups: Vec<(Unit, f64, Vec<usize>)> = Vec::new();
    for i in order {
        let (unit, scale) = (lines[i].0, lines[i].1.scale());
        match groups.iter_mut().find(|(u, top, _)| *u == unit && (scale == 0.0 || scale * SPLIT >= *top)) {
            Some(group) => group.2.push(i),
            None => groups.push((unit, scale, vec![i])),
        }
    }
    groups.iter_mut().for_each(|g| g.2.sort_unstable());
    groups.sort_by_key(|g| g.2[0]);
    let mut lines: Vec<Option<Line>> = lines.into_iter().map(|(_, line)| Some(line)).collect();
    let panel = |(unit, _, members): (Unit, f64, Vec<usize>)| Panel {
        title: unit_label(unit).to_owned(),
        unit,
        lines: members.iter().filter_map(|i| lines[*i].take()).collect(),
        cap: None,
    };
    groups.into_iter().map(panel).collect()
}

/// A sweep's panels: one per column, one colour per arm.
fn sweep_panels(study: &Study, columns: &[(usize, &Column)]) -> Vec<Panel> {
    let mut panels = Vec::new();
    for (_, column) in columns {
        let mut lines = Vec::new();
        for (n, arm) in study.arms.iter().enumerate() {
            let Some(c) = arm.bands.columns.iter().position(|k| k.key == column.key) else { continue };
            if let Some(line) = line(&arm.bands, c, arm.label.clone(), PALETTE[n % PALETTE.len()]) {
                lines.push(line);
            }
        }
        let title = format!("{} ({})", column.label, unit_label(column.unit));
        panels.push(Panel { title, unit: column.unit, lines, cap: None });
    }
    panels
}

/// The key of the column that holds the TFT supply cap, drawn as the cap line rather than as a series.
const CAP_KEY: &str = "tft_cap";

/// The supply cap in TFT: the largest median of the `tft_cap` column if the runs have it (a scenario may
/// override the cap), else the core's default `tft_supply_cap`.
fn cap(bands: &Bands) -> f64 {
    let column = bands.columns.iter().position(|c| c.key == CAP_KEY && c.unit == Unit::Tft);
    let from_column = column.and_then(|c| {
        let decimals = i32::try_from(bands.columns[c].decimals).ok()?;
        let largest = bands.p50.iter().filter_map(|row| row.get(c)).max()?;
        Some(*largest as f64 / 10f64.powi(decimals))
    });
    from_column.unwrap_or_else(|| tfeco_core::Params::default().tft_supply_cap.units() as f64 / 1e7)
}

/// Adds the supply cap (`cap` TFT) to the TFT panels whose values reach 1/[`CAP_NEAR`] of it.
fn add_cap(panels: &mut [Panel], cap: f64) {
    for panel in panels.iter_mut().filter(|p| p.unit == Unit::Tft) {
        let scale = panel.lines.iter().fold(0.0, |m: f64, l| m.max(l.scale()));
        if scale * CAP_NEAR >= cap {
            panel.cap = Some(cap);
        }
    }
}

/// The grid of a chart with `panels` panels: (rows, columns).
fn grid(panels: usize) -> (usize, usize) {
    let columns = if panels > 2 { 2 } else { 1 };
    (panels.div_ceil(columns).max(1), columns)
}

/// The size in pixels of a plan's image.
fn size(plan: &Plan) -> (u32, u32) {
    let (rows, columns) = grid(plan.panels.len());
    let (rows, columns) = (u32::try_from(rows).unwrap_or(1), u32::try_from(columns).unwrap_or(1));
    (PANEL.0 * columns, PANEL.1 * rows + TITLE_HEIGHT)
}

/// The plan drawn as an SVG document. Errors: the backend's, as text.
fn render_svg(plan: &Plan) -> std::result::Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size(plan)).into_drawing_area();
        draw(&root, plan).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The plan drawn as a PNG file at `path`. Errors: the backend's, as text.
fn render_png(plan: &Plan, path: &std::path::Path) -> std::result::Result<(), String> {
    let root = BitMapBackend::new(path, size(plan)).into_drawing_area();
    draw(&root, plan).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Draws the plan's title and panels on `root`.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plan: &Plan,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let body = root.titled(plan.title, (FAMILY, 26).into_font().color(&BLACK))?;
    let areas = body.split_evenly(grid(plan.panels.len()));
    for (panel, area) in plan.panels.iter().zip(&areas) {
        draw_panel(area, &plan.months, panel)?;
    }
    Ok(())
}

/// The x and y ranges of a panel: the months, and the values with 0 and the cap included, 15% headroom above
/// (room for the legend) and 5% below negative values.
fn ranges(months: &[f64], panel: &Panel) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let first = months.first().copied().unwrap_or(0.0);
    let last = months.last().copied().unwrap_or(first);
    let x = if last > first { first..last } else { first - 0.5..first + 0.5 };
    let values = panel.lines.iter().flat_map(|l| l.p5.iter().chain(&l.p50).chain(&l.p95));
    let (low, high) =
        values.chain(panel.cap.iter()).fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = if high > low { high - low } else { 1.0 };
    let low = if low < 0.0 { low - span * 0.05 } else { low };
    (x, low..high + span * 0.15)
}

/// Draws one panel: the p5–p95 bands, the p50 lines, the cap, the legend.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    months: &[f64],
    panel: &Panel,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x, y) = ranges(months, panel);
    let (x0, x1) = (x.start, x.end);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FAMILY, 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc("month")
        .y_desc(unit_label(panel.unit))
        .x_labels(months.len().clamp(2, 13))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| short_number(*v))
        .light_line_style(RGBColor(240, 240, 240))
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 14))
        .draw()?;
    for line in &panel.lines {
        if line.p5.iter().zip(&line.p95).any(|(a, b)| a != b) {
            let upper = months.iter().zip(&line.p95).map(|(m, v)| (*m, *v));
            let lower = months.iter().zip(&line.p5).rev().map(|(m, v)| (*m, *v));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                line.color.mix(0.18).filled(),
            )))?;
        }
    }
    for line in &panel.lines {
        let color = line.color;
        let points = months.iter().zip(&line.p50).map(|(m, v)| (*m, *v));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    if let Some(cap) = panel.cap {
        let style = RGBColor(200, 0, 0).stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(vec![(x0, cap), (x1, cap)], 10, 6, style))?
            .label(format!("supply cap ({} TFT)", short_number(cap)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

/// A number for an axis: at most 4 significant digits with k, M, B or T suffixes (`1.5M`, `-20k`, `0.012`).
fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = match magnitude {
        m if m >= 1e12 => (value / 1e12, "T"),
        m if m >= 1e9 => (value / 1e9, "B"),
        m if m >= 1e6 => (value / 1e6, "M"),
        m if m >= 1e4 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    let text = if scaled == 0.0 {
        "0".to_owned()
    } else {
        let digits = (3 - scaled.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{scaled:.digits$}")
    };
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(1_500_000.0), "1.5M");
        assert_eq!(short_number(-20_000.0), "-20k");
        assert_eq!(short_number(1e9), "1B");
        assert_eq!(short_number(0.012), "0.012");
        assert_eq!(short_number(2_345.0), "2345");
        assert_eq!(short_number(3e13), "30T");
    }
}
