//! `report.html`: one self-contained page (inline CSS, no script, no remote resource) that shows a study: the
//! scenario, its assumptions and TOML, the arms and their overrides, the findings, every chart (referenced as
//! `charts/<chart>.svg`, with a caption saying what it shows and in which units), the final-month p5/p50/p95 of
//! every column per arm, a sweep's differences, and how to reproduce the study. Every text taken from the study
//! (scenario names, descriptions, labels, values) goes through [`escape`].

use std::fmt::Write as _;

use super::super::scenario::Scenario;
use super::super::study::Study;
use super::charts::DrawnChart;
use super::summary::{unit_name, ArmSummary, Summary};

/// The page's style sheet.
const STYLE: &str = "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1100px;\
margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}h1{font-size:1.7em}h2{margin-top:2em;\
border-bottom:1px solid #ddd;padding-bottom:.2em}table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}td.n{text-align:right;\
font-variant-numeric:tabular-nums;white-space:nowrap}th{background:#f4f4f4}pre{background:#f6f8fa;\
padding:1em;overflow-x:auto;font-size:.85em}figure{margin:1.5em 0}figure img{max-width:100%;\
border:1px solid #eee}figcaption{color:#444;font-size:.9em}code{background:#f6f8fa;padding:0 .2em}\
.muted{color:#666}";

/// Escapes `text` for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report page of `study` (its `summary` and the charts drawn).
pub(crate) fn report(study: &Study, summary: &Summary, charts: &[DrawnChart]) -> String {
    let scenario = &summary.scenario;
    let mut page = String::new();
    let title = format!("Economy simulation: {}", scenario.name);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{}</p>\n",
        escape(&title),
        escape(&title),
        escape(&scenario.description)
    );
    let _ = writeln!(
        page,
        "<p class=\"muted\">{} months, {} runs per arm, first seed {}, {} arm(s). Data: \
         <a href=\"summary.json\">summary.json</a>, the <code>bands-*.csv</code> files and the per-run \
         <code>runs/*/run-*.csv</code> files.</p>",
        scenario.months,
        summary.runs_per_arm,
        summary.seed,
        summary.arms.len()
    );
    page.push_str("<h2>Assumptions</h2>\n<ul>\n");
    for line in &scenario.assumptions {
        let _ = writeln!(page, "<li>{}</li>", escape(line));
    }
    page.push_str("</ul>\n");
    arms_section(&mut page, summary);
    findings_section(&mut page, summary);
    charts_section(&mut page, charts);
    finals_section(&mut page, summary);
    differences_section(&mut page, summary);
    let _ = write!(page, "<h2>Scenario</h2>\n<pre>{}</pre>\n", escape(&scenario.toml));
    let _ = write!(page, "<h2>Reproduce</h2>\n<pre>{}</pre>\n", escape(&reproduce(study)));
    if !is_builtin(&study.scenario) {
        let _ = writeln!(
            page,
            "<p>The scenario is not a built-in one as shipped (or was changed with <code>--set</code>): save the \
             TOML above as <code>{}</code> first.</p>",
            escape(&scenario_file(&study.scenario.name))
        );
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// The arms and their overrides.
fn arms_section(page: &mut String, summary: &Summary) {
    page.push_str("<h2>Arms</h2>\n<table>\n<tr><th>Arm</th><th>Overrides</th><th>Runs (seeds)</th></tr>\n");
    for arm in &summary.arms {
        let overrides = if arm.overrides.is_empty() {
            "none (the scenario as given)".to_owned()
        } else {
            let items: Vec<String> = arm
                .overrides
                .iter()
                .map(|o| format!("<code>{} = {}</code>", escape(&o.path), escape(&o.value)))
                .collect();
            items.join("<br>")
        };
        let seeds: Vec<String> = arm.runs.iter().map(|r| r.seed.to_string()).collect();
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{overrides}</td><td>{} ({})</td></tr>",
            escape(&arm.label),
            arm.runs.len(),
            escape(&seeds_text(&seeds))
        );
    }
    page.push_str("</table>\n");
}

/// Seeds for a table cell: all of them up to 6, else the first and last.
fn seeds_text(seeds: &[String]) -> String {
    match seeds {
        [] => "none".to_owned(),
        [first, .., last] if seeds.len() > 6 => format!("{first} … {last}"),
        _ => seeds.join(", "),
    }
}

/// The findings, per arm.
fn findings_section(page: &mut String, summary: &Summary) {
    page.push_str("<h2>Findings</h2>\n");
    for arm in &summary.arms {
        if summary.arms.len() > 1 {
            let _ = writeln!(page, "<h3>{}</h3>", escape(&arm.label));
        }
        if arm.findings.is_empty() {
            page.push_str(
                "<p class=\"muted\">No finding: the runs have none of the columns the findings read.</p>\n",
            );
            continue;
        }
        page.push_str("<ul>\n");
        for finding in &arm.findings {
            let _ = writeln!(page, "<li>{}</li>", escape(&finding.text));
        }
        page.push_str("</ul>\n");
    }
}

/// Every chart with its caption.
fn charts_section(page: &mut String, charts: &[DrawnChart]) {
    page.push_str("<h2>Charts</h2>\n");
    if charts.is_empty() {
        page.push_str("<p class=\"muted\">No chart: no column belongs to a chart.</p>\n");
    }
    for chart in charts {
        let _ = writeln!(
            page,
            "<figure>\n<img src=\"{}\" alt=\"{}\">\n<figcaption><b>{}.</b> {} (<a href=\"{}\">PNG</a>)\
             </figcaption>\n</figure>",
            escape(&chart.svg),
            escape(chart.title),
            escape(chart.title),
            escape(&chart.caption),
            escape(&chart.png)
        );
    }
}

/// The final-month bands of every column, one table per arm.
fn finals_section(page: &mut String, summary: &Summary) {
    page.push_str("<h2>Final month</h2>\n");
    for arm in &summary.arms {
        let month = arm.final_month.map_or_else(|| "no month".to_owned(), |m| format!("month {m}"));
        let _ = writeln!(page, "<h3>{} ({month})</h3>", escape(&arm.label));
        finals_table(page, arm);
    }
}

/// One arm's final-month table.
fn finals_table(page: &mut String, arm: &ArmSummary) {
    page.push_str("<table>\n<tr><th>Column</th><th>Unit</th><th>p5</th><th>p50</th><th>p95</th></tr>\n");
    for column in &arm.columns {
        let _ = writeln!(
            page,
            "<tr><td>{} <span class=\"muted\">(<code>{}</code>)</span></td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&column.label),
            escape(&column.key),
            unit_name(column.unit),
            escape(&tidy(&column.p5)),
            escape(&tidy(&column.p50)),
            escape(&tidy(&column.p95))
        );
    }
    page.push_str("</table>\n");
}

/// A sweep's final-month differences from the first arm (the columns that differ).
fn differences_section(page: &mut String, summary: &Summary) {
    let Some(first) = summary.arms.first() else { return };
    for arm in summary.arms.iter().skip(1) {
        let _ = writeln!(page, "<h2>{} against {}</h2>", escape(&arm.label), escape(&first.label));
        let changed: Vec<_> = arm.against_first.iter().filter(|d| !is_zero(&d.difference)).collect();
        let _ = writeln!(
            page,
            "<p>Final-month medians: {} of {} columns differ.</p>",
            changed.len(),
            arm.against_first.len()
        );
        if changed.is_empty() {
            continue;
        }
        page.push_str("<table>\n<tr><th>Column</th><th>Unit</th><th>First arm</th><th>This arm</th><th>Difference</th></tr>\n");
        for d in changed {
            let _ = writeln!(
                page,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td></tr>",
                escape(&d.key),
                unit_name(d.unit),
                escape(&tidy(&d.first)),
                escape(&tidy(&d.arm)),
                escape(&tidy(&d.difference))
            );
        }
        page.push_str("</table>\n");
    }
}

/// Whether an exact decimal string is zero.
fn is_zero(text: &str) -> bool {
    text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.')
}

/// An exact decimal string without trailing zeros after the point (`1.5000000` is `1.5`, `2.0` is `2`).
fn tidy(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

/// The file name a scenario that is not built in is saved under to reproduce the study: its name with every
/// run of characters other than ASCII letters, digits, `-` and `_` as one `-`, then `.toml`.
fn scenario_file(name: &str) -> String {
    let mut stem = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            stem.push(c);
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_matches('-');
    format!("{}.toml", if stem.is_empty() { "scenario" } else { stem })
}

/// Whether `scenario` is the built-in scenario of its name as shipped, up to its horizon (which `--months`
/// sets): otherwise (a file, or `--set` overrides) the report's TOML is what reproduces it.
pub(crate) fn is_builtin(scenario: &Scenario) -> bool {
    Scenario::builtin(&scenario.name).is_ok_and(|mut builtin| {
        builtin.months = scenario.months;
        builtin == *scenario
    })
}

/// The command line that reproduces `study` (shell-quoted): `--scenario NAME` for a built-in scenario as
/// shipped, else `--scenario NAME.toml` (the report's TOML saved under that name).
pub(crate) fn reproduce(study: &Study) -> String {
    let name = &study.scenario.name;
    let scenario = if is_builtin(&study.scenario) { name.clone() } else { scenario_file(name) };
    let mut args = vec![
        "tfeco".to_owned(),
        "sim".to_owned(),
        "--scenario".to_owned(),
        shell_quote(&scenario),
        "--months".to_owned(),
        study.scenario.months.to_string(),
        "--seed".to_owned(),
        study.seed.to_string(),
        "--runs".to_owned(),
        study.runs_per_arm.to_string(),
    ];
    for (path, values) in sweeps(study) {
        args.push("--sweep".to_owned());
        args.push(shell_quote(&format!("{path}={}", values.join(","))));
    }
    args.push("--out".to_owned());
    args.push("DIR".to_owned());
    args.join(" ")
}

/// The swept paths and their values in arm order, from the arms' overrides.
fn sweeps(study: &Study) -> Vec<(String, Vec<String>)> {
    let mut sweeps: Vec<(String, Vec<String>)> = Vec::new();
    for (path, value) in study.arms.iter().flat_map(|arm| &arm.overrides) {
        match sweeps.iter_mut().find(|(p, _)| p == path) {
            Some((_, values)) if !values.contains(value) => values.push(value.clone()),
            Some(_) => {}
            None => sweeps.push((path.clone(), vec![value.clone()])),
        }
    }
    sweeps
}

/// `text` quoted for a POSIX shell when it holds anything but letters, digits and `._-=,/:+`.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '=' | ',' | '/' | ':' | '+'));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
