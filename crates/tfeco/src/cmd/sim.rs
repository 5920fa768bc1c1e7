//! `tfeco sim`: the economy simulator. Plays a scenario (built in, or a TOML file) through the real core for
//! its horizon, `--runs` seeded runs per arm in parallel (`tfeco_sim::economy::monte_carlo`), one arm or one
//! per value of `--sweep PATH=V1,V2,...`, with `--set PATH=VALUE` overrides; writes the per-run CSV, the bands,
//! `summary.json`, the charts and `report.html` to `--out` (`tfeco_sim::economy::output`), and prints a short
//! summary (or the summary JSON with `--json`). A progress bar runs on stderr when it is a terminal.
//!
//! Exit codes: 0 done; 1 bad input (unknown scenario, unreadable file, bad override or sweep) or an output that
//! could not be written; 2 a run failed a check (an invariant of the core, or the scenario's own).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use tfeco_sim::economy::monte_carlo::{self, StudyProgress, Sweep};
use tfeco_sim::economy::overrides::{self, Override};
use tfeco_sim::economy::{output, Scenario, Study};
use tfeco_sim::SimError;

use crate::render;

/// Exit code of a run that failed a check.
const CHECK_FAILED: u8 = 2;

/// Arguments of `tfeco sim`.
#[derive(clap::Args)]
pub(crate) struct SimArgs {
    /// A built-in scenario (`tfeco sim --list`) or a scenario TOML file.
    #[arg(long, value_name = "NAME|FILE", default_value = "base")]
    scenario: String,
    /// Months to simulate (overrides the scenario's horizon).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1200))]
    months: Option<u32>,
    /// Seeded runs per arm (Monte Carlo); the bands are their p5 / p50 / p95.
    #[arg(long, value_name = "R", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    runs: u32,
    /// The first seed: run `i` of every arm uses `SEED + i`.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Compare values of one scenario field side by side, one arm each: `PATH=V1,V2,...` (TOML values;
    /// commas inside arrays, inline tables and quotes do not separate).
    #[arg(long, value_name = "PATH=V1,V2,...")]
    sweep: Option<String>,
    /// Override one scenario field: `PATH=VALUE` (a TOML value, or a bare word as a string); repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Threads of the simulation (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Where the outputs go (default `sim-out/<scenario>`): a new or empty directory, or the output of an
    /// earlier study, which is replaced.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the summary (`summary.json`) as one JSON object instead of the text; no progress bar.
    #[arg(long)]
    json: bool,
    /// Play one run through a running node as well (its HTTP API, signed commands): the node must be fresh
    /// and opened with the scenario's genesis (`tfeco demo --scenario NAME --no-play`); every answer and the
    /// final state hash are compared with the in-process core's (exit 2 when they differ).
    #[arg(long, value_name = "URL", conflicts_with = "sweep")]
    through_node: Option<String>,
    /// List the built-in scenarios with their descriptions and exit.
    #[arg(long, conflicts_with_all = ["sweep", "set", "out", "through_node", "months"])]
    list: bool,
}

/// Runs `tfeco sim`.
pub(crate) async fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        return list(args.json);
    }
    let (scenario, sweep) = prepare(&args)?;
    if let Some(url) = &args.through_node {
        let played = super::demo_scenario::play(url, &scenario, args.seed, args.json).await;
        return Ok(match played {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(CHECK_FAILED)
            }
        });
    }
    let out = args.out.clone().unwrap_or_else(|| Path::new("sim-out").join(dir_name(&scenario.name)));
    check_out_dir(&out)?;
    let bar = progress_bar(args.json);
    let (runs, seed, threads) = (args.runs, args.seed, args.threads.map(|t| t as usize));
    let task_bar = bar.clone();
    let result = tokio::task::spawn_blocking(move || {
        let study = play(&scenario, runs, seed, sweep.as_ref(), threads, &task_bar)?;
        task_bar.set_message("writing the outputs");
        clear_earlier_study(&out).map_err(|e| SimError::Output {
            path: out.display().to_string(),
            message: format!("removing the earlier study's outputs: {e}"),
        })?;
        let files =
            output::write_study(&study, &out, &mut |step| task_bar.set_message(step.to_owned()))?.files;
        Ok::<_, SimError>((study, out, files))
    })
    .await
    .context("the simulation thread")?;
    bar.finish_and_clear();
    let (study, out, files) = match result {
        Ok(done) => done,
        Err(error) => return failed(args.json, &error),
    };
    let summary = serde_json::to_value(output::summary(&study))?;
    if args.json {
        render::json(&summary)?;
    } else {
        render::emit(&summary_text(&summary, &out, &files))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The scenario with `--months` and `--set` applied, and the parsed sweep (checked against the scenario).
fn prepare(args: &SimArgs) -> anyhow::Result<(Scenario, Option<Sweep>)> {
    let mut scenario = load_scenario(&args.scenario)?;
    let sets = args.set.iter().map(|s| Override::parse(s)).collect::<Result<Vec<_>, _>>()?;
    scenario = overrides::apply(&scenario, &sets)?;
    if let Some(months) = args.months {
        scenario.months = months;
    }
    let sweep = args.sweep.as_deref().map(Sweep::parse).transpose()?;
    if let Some(sweep) = &sweep {
        for arm in &sweep.arms {
            overrides::apply(&scenario, std::slice::from_ref(arm))
                .with_context(|| format!("--sweep {}", arm.label()))?;
        }
    }
    Ok((scenario, sweep))
}

/// A built-in scenario by name, or a TOML file when `name` is an existing path or looks like one (read by
/// `Scenario::from_file`: its name defaults to the file's stem, a `tft_price.path` CSV is read next to it).
pub(crate) fn load_scenario(name: &str) -> anyhow::Result<Scenario> {
    let path = Path::new(name);
    let looks_like_a_file = name.contains(['/', '\\']) || name.ends_with(".toml");
    if path.is_file() || looks_like_a_file {
        return Ok(Scenario::from_file(path)?);
    }
    if !Scenario::builtin_names().contains(&name) {
        anyhow::bail!(
            "no built-in scenario {name:?} and no file of that name; the built-in ones are: {} \
             (`tfeco sim --list`)",
            Scenario::builtin_names().join(", ")
        );
    }
    Ok(Scenario::builtin(name)?)
}

/// The files and folders a study writes at the top of its output directory (`tfeco_sim::economy::output`).
fn is_study_output(name: &str) -> bool {
    matches!(name, "runs" | "charts" | "summary.json" | "report.html")
        || (name.starts_with("bands-") && name.ends_with(".csv"))
}

/// Refuses an output directory that is neither new, empty, nor the output of an earlier study (it holds a
/// `summary.json`), so that `--out` never mixes a study's files into an unrelated folder.
fn check_out_dir(dir: &Path) -> anyhow::Result<()> {
    let Ok(mut entries) = std::fs::read_dir(dir) else { return Ok(()) };
    if entries.next().is_none() || dir.join("summary.json").is_file() {
        return Ok(());
    }
    anyhow::bail!(
        "--out {}: the directory is not empty and holds no earlier study (summary.json); choose a new or \
         empty directory",
        dir.display()
    )
}

/// Removes an earlier study's outputs from `dir` (its run CSVs, bands, charts, summary and report), so no
/// stale file of a study with more runs or other arms remains; other files are kept.
fn clear_earlier_study(dir: &Path) -> std::io::Result<()> {
    if !dir.join("summary.json").is_file() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !is_study_output(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// A directory name for `name`: ASCII letters, digits, `-`, `_` and `.` kept, anything else `-`, no leading
/// dot (so `sim-out/<name>` never climbs out of `sim-out`).
fn dir_name(name: &str) -> String {
    let kept: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
    let trimmed = kept.trim_start_matches('.');
    if trimmed.is_empty() {
        "scenario".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The progress bar on stderr: simulated months over the whole study; hidden with `--json` or when stderr
/// is not a terminal.
fn progress_bar(json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} months, {msg} (eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message("starting");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Plays the study, moving `bar` (simulated months; the message counts finished runs).
fn play(
    scenario: &Scenario,
    runs: u32,
    seed: u64,
    sweep: Option<&Sweep>,
    threads: Option<usize>,
    bar: &ProgressBar,
) -> Result<Study, SimError> {
    let on_progress = |p: StudyProgress| {
        bar.set_length(p.months_total);
        if p.months_done > bar.position() {
            bar.set_position(p.months_done);
        }
        bar.set_message(format!("{}/{} runs", p.runs_done, p.runs_total));
    };
    monte_carlo::study(scenario, runs, seed, sweep, threads, &on_progress)
}

/// Reports a failed study: exit 2 when a run failed a check, else the error (exit 1 from `main`).
fn failed(json_out: bool, error: &SimError) -> anyhow::Result<ExitCode> {
    let check = matches!(error, SimError::Run { error, .. } if matches!(**error, SimError::Check(_)));
    let code = if check { "check_failed" } else { "simulation_failed" };
    if json_out {
        render::json(&json!({ "error": { "code": code, "message": error.to_string() } }))?;
    } else {
        eprintln!("error: {error}");
    }
    Ok(ExitCode::from(if check { CHECK_FAILED } else { 1 }))
}

/// The short human summary: where the files are, the arms, the findings.
fn summary_text(summary: &Value, out: &Path, files: &[String]) -> String {
    let s = &summary["scenario"];
    let arms = summary["arms"].as_array().cloned().unwrap_or_default();
    let labels: Vec<&str> = arms.iter().filter_map(|a| a["label"].as_str()).collect();
    let mut text = format!(
        "scenario {}: {} months, {} runs per arm from seed {}, arms: {}\n",
        s["name"].as_str().unwrap_or("?"),
        s["months"],
        summary["runs_per_arm"],
        summary["seed"],
        labels.join(", "),
    );
    let at = |relative: &str| out.join(relative).display().to_string();
    text += &format!("wrote {} files to {}\n", files.len(), out.display());
    if files.iter().any(|f| f == "report.html") {
        text += &format!("  report:  {}\n", at("report.html"));
    }
    text += &format!("  summary: {}\n", at("summary.json"));
    for chart in files.iter().filter(|f| f.starts_with("charts/") && f.ends_with(".png")) {
        text += &format!("  chart:   {} (and .svg)\n", at(chart));
    }
    for arm in &arms {
        let findings = arm["findings"].as_array().cloned().unwrap_or_default();
        if findings.is_empty() {
            continue;
        }
        text += &format!("findings ({}):\n", arm["label"].as_str().unwrap_or("?"));
        for finding in findings {
            text += &format!("  - {}\n", finding["text"].as_str().unwrap_or("?"));
        }
    }
    text
}

/// `tfeco sim --list`: the built-in scenarios, a table or a JSON array.
fn list(json_out: bool) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    for name in Scenario::builtin_names() {
        let scenario = Scenario::builtin(name)?;
        rows.push(json!({ "name": name, "months": scenario.months, "description": scenario.description }));
    }
    if json_out {
        render::json(&rows)?;
    } else {
        let width = Scenario::builtin_names().iter().map(|n| n.len()).max().unwrap_or(0);
        let mut text = String::new();
        for row in &rows {
            let (name, description) = (row["name"].as_str().unwrap_or(""), row["description"].as_str());
            let months = row["months"].as_u64().unwrap_or_default();
            text += &format!("{name:width$}  {months:>3} months  {}\n", description.unwrap_or(""));
        }
        render::emit(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_study_is_replaced_and_other_folders_are_refused() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("out");
        check_out_dir(&dir).expect("a new directory");
        std::fs::create_dir_all(dir.join("runs/base")).unwrap();
        check_out_dir(&dir).expect_err("not empty, no summary.json");
        for file in ["summary.json", "report.html", "bands-base.csv", "runs/base/run-9.csv", "notes.txt"] {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        check_out_dir(&dir).expect("an earlier study");
        clear_earlier_study(&dir).unwrap();
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        assert_eq!(left, ["notes.txt"], "only the study's outputs are removed");
    }

    #[test]
    fn directory_names_stay_inside_the_output_folder() {
        assert_eq!(dir_name("base"), "base");
        assert_eq!(dir_name("../../etc"), "-..-etc");
        assert_eq!(dir_name("..."), "scenario");
        assert_eq!(dir_name("release 36m/x"), "release-36m-x");
    }
}
