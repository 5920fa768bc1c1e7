//! `tfeco sim` through the real binary: a short Monte Carlo study of the built-in `base` scenario writes its
//! outputs (summary, per-run and band CSV, charts, report) and prints the summary JSON, the same files on one
//! thread and on all; bad sweeps, bad overrides and unknown scenarios are refused with a clear message, a
//! non-zero exit and nothing written; `--list` names the built-in scenarios; `tfeco bench --suite sim --quick`
//! reports the simulator's figures.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command as StdCommand, Output};

use serde_json::Value;

use crate::support::BIN;

/// Runs `tfeco` with `args` (no stdin, in `dir`).
fn tfeco(dir: &Path, args: &[&str]) -> Output {
    StdCommand::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("TFECO_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run tfeco")
}

/// Every file under `dir`, by relative path, with its bytes.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
                out.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn a_short_study_writes_its_outputs_and_prints_the_summary() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let args = ["sim", "--scenario", "base", "--months", "3", "--runs", "2", "--json", "--out"];
    let output = tfeco(tmp.path(), &[&args[..], &["one"]].concat());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tfeco sim failed: {stderr}");
    let summary: Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert_eq!(summary["scenario"]["name"], "base", "{summary}");
    assert_eq!(
        (summary["scenario"]["months"].as_u64(), summary["runs_per_arm"].as_u64()),
        (Some(3), Some(2))
    );
    let arms = summary["arms"].as_array().expect("arms");
    assert_eq!(arms.len(), 1, "no sweep, one arm");
    assert_eq!(arms[0]["label"], "base");
    let runs = arms[0]["runs"].as_array().expect("runs");
    let seeds: Vec<u64> = runs.iter().filter_map(|r| r["seed"].as_u64()).collect();
    assert_eq!(seeds, [1, 2], "runs in seed order from the default seed 1");
    for run in runs {
        assert!(run["state_hash"].as_str().is_some_and(|h| h.len() >= 32), "{run}");
        assert!(run["commands"].as_u64().is_some_and(|c| c > 0), "{run}");
    }
    let out = tmp.path().join("one");
    let written: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary.json"))
            .expect("JSON");
    assert_eq!(written, summary, "summary.json is what --json prints");
    let files = files_under(&out);
    assert!(files.contains_key("report.html"), "{:?}", files.keys());
    let report = String::from_utf8_lossy(&files["report.html"]);
    assert!(report.contains("<html") && report.contains("base"), "report.html");
    assert!(files.keys().any(|f| f.starts_with("runs/") && f.ends_with(".csv")), "{:?}", files.keys());
    assert!(files.keys().any(|f| f.starts_with("bands") && f.ends_with(".csv")), "{:?}", files.keys());
    for ext in [".png", ".svg"] {
        assert!(
            files.keys().any(|f| f.starts_with("charts/") && f.ends_with(ext)),
            "{ext}: {:?}",
            files.keys()
        );
    }
    // The same study on one thread writes the same bytes.
    let again = tfeco(tmp.path(), &[&args[..], &["two", "--threads", "1"]].concat());
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(again.stdout, output.stdout);
    assert!(
        files == files_under(&tmp.path().join("two")),
        "the outputs differ between runs of the same study"
    );
    // A smaller study into the same directory replaces the earlier one: no stale run file remains.
    let smaller =
        tfeco(tmp.path(), &["sim", "--scenario", "base", "--months", "2", "--runs", "1", "--out", "one"]);
    assert!(smaller.status.success(), "{}", String::from_utf8_lossy(&smaller.stderr));
    let left = files_under(&out);
    let runs: Vec<&String> = left.keys().filter(|f| f.starts_with("runs/")).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
}

#[test]
fn bad_sweeps_overrides_and_scenarios_are_refused_and_write_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--sweep", "months=1,,2"], &["--sweep", "empty value"]),
        (&["--sweep", "months"], &["--sweep", "PATH=V1,V2"]),
        (&["--sweep", "months=[1,2"], &["--sweep", "missing ']'"]),
        (&["--set", "monthz=3"], &["monthz"]),
        (
            &["--scenario", "no-such-scenario"],
            &["no built-in scenario \"no-such-scenario\"", "base", "--list"],
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["sim", "--months", "1", "--runs", "1", "--out", "out"];
        args.extend_from_slice(extra);
        let output = tfeco(tmp.path(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        for text in expected {
            assert!(stderr.contains(text), "{args:?}: {text:?} not in {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!tmp.path().join("out").exists(), "{args:?} wrote outputs");
    }
    std::fs::create_dir_all(tmp.path().join("notes")).expect("dir");
    std::fs::write(tmp.path().join("notes/todo.txt"), "mine").expect("write");
    let output = tfeco(tmp.path(), &["sim", "--months", "1", "--runs", "1", "--out", "notes"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(std::fs::read_dir(tmp.path().join("notes")).expect("notes").count(), 1, "nothing written");
}

#[test]
fn list_names_the_built_in_scenarios() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = tfeco(tmp.path(), &["sim", "--list"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.lines().any(|l| l.starts_with("base ")), "{text}");
    let output = tfeco(tmp.path(), &["sim", "--list", "--json"]);
    assert!(output.status.success());
    let list: Vec<Value> = serde_json::from_slice(&output.stdout).expect("a JSON array");
    let names: Vec<&str> = list.iter().filter_map(|s| s["name"].as_str()).collect();
    for name in ["base", "bench-large", "bench-mc"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    for scenario in &list {
        assert!(scenario["description"].as_str().is_some_and(|d| !d.is_empty()), "{scenario}");
        assert!(scenario["months"].as_u64().is_some_and(|m| m > 0), "{scenario}");
    }
    assert_eq!(text.lines().count(), list.len(), "one line per scenario");
}

#[test]
fn the_quick_sim_bench_reports_its_figures() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = tfeco(tmp.path(), &["bench", "--suite", "sim", "--quick", "--json"]);
    assert!(output.status.success(), "tfeco bench failed: {}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert_eq!((report["suite"].as_str(), report["ok"].as_bool()), (Some("sim"), Some(true)), "{report}");
    assert_eq!((report["quick"].as_bool(), report["full_size"].as_bool()), (Some(true), Some(false)));
    let sim = &report["sim"];
    for field in ["large_run_s", "monte_carlo_100_runs_s"] {
        assert!(sim[field].as_f64().is_some_and(|s| s > 0.0 && s < 600.0), "sim.{field} in {sim}");
    }
    let int = |field: &str| sim[field].as_u64().unwrap_or_else(|| panic!("sim.{field} in {sim}"));
    assert!(int("large_months") >= 1 && int("monte_carlo_months") >= 1, "{sim}");
    assert!(int("monte_carlo_runs") >= 2, "{sim}");
    assert!(int("large_commands") > 0 && int("monte_carlo_commands") > 0, "{sim}");
    assert!(int("large_commands_per_s") > 0 && int("monte_carlo_commands_per_s") > 0, "{sim}");
    for target in ["large_run_s", "monte_carlo_100_runs_s"] {
        assert!(report["targets"][target]["target"].is_number(), "targets.{target} in {report}");
        assert!(report["targets"][target]["met"].is_null(), "not judged when shrunk: {report}");
    }
}
