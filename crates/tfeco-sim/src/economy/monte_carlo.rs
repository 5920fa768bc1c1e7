//! Monte Carlo studies and parameter sweeps: the runs of a scenario over seeds, in parallel on a local
//! `rayon` pool, grouped in arms (the base scenario, or one arm per value of a `--sweep PATH=V1,V2,...`),
//! with the p5/p50/p95 bands of every arm.
//!
//! Determinism: run `i` of every arm uses the seed [`run_seed`]`(seed, i)`, runs are collected in seed order
//! whatever the scheduling, so a study is the same value with 1 thread or with 16. When a run fails, the runs
//! after it (in (arm, run) order) not yet started are skipped, the runs before it still play, and the study
//! fails with the first failing run in that order, its arm and seed named ([`SimError::Run`]): the same
//! error whatever the scheduling.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::overrides::{self, split_assignment, Override};
use super::runner::{self, Progress, RunOutput};
use super::scenario::Scenario;
use super::study::{run_seed, Arm, Bands, Study};
use crate::{Result, SimError};

/// A parameter sweep: one path and the values it takes, one arm each (`PATH=V1,V2,...`).
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// One override per value, in the order given.
    pub arms: Vec<Override>,
}

impl Sweep {
    /// Parses `PATH=V1,V2,...`: values are TOML values as in [`Override`], separated by commas outside
    /// quotes, arrays and inline tables (`burn=[1,2],[3,4]` has two values). Errors:
    /// [`SimError::Scenario`] for a missing `=`, a bad path, an empty, malformed or repeated value.
    pub fn parse(text: &str) -> Result<Sweep> {
        let bad = |why: String| SimError::Scenario(format!("--sweep {text:?}: {why}"));
        let (path, list) = split_assignment(text).ok_or_else(|| bad("expected PATH=V1,V2,...".into()))?;
        let values = split_values(list).map_err(bad)?;
        let mut arms: Vec<Override> = Vec::with_capacity(values.len());
        for value in values {
            if value.is_empty() {
                return Err(bad("an empty value (two commas, or a comma at an end)".into()));
            }
            let arm = Override::new(path, value)?;
            if arms.iter().any(|a| a.value == arm.value) {
                return Err(bad(format!("the value {value} is given twice")));
            }
            arms.push(arm);
        }
        Ok(Sweep { arms })
    }

    /// The swept path.
    pub fn path(&self) -> &str {
        self.arms.first().map_or("", |a| a.path.as_str())
    }
}

/// Splits `list` at the commas outside quotes, brackets and braces; values trimmed. Errors: unbalanced
/// brackets, braces or quotes.
fn split_values(list: &str) -> std::result::Result<Vec<&str>, String> {
    let (mut values, mut depth, mut quote, mut start) = (Vec::new(), Vec::new(), None, 0);
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth.push(if c == '[' { ']' } else { '}' }),
            (None, ']' | '}') if depth.last() == Some(&c) => {
                depth.pop();
            }
            (None, ']' | '}') => return Err(format!("an unbalanced {c:?} at byte {i} of the values")),
            (None, ',') if depth.is_empty() => {
                values.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if let Some(q) = quote {
        return Err(format!("an unclosed {q} in the values"));
    }
    if let Some(close) = depth.last() {
        return Err(format!("a missing {close:?} in the values"));
    }
    values.push(list[start..].trim());
    Ok(values)
}

/// Where a study is, for a progress bar: months simulated and runs finished over all arms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyProgress {
    /// Simulated months done (summed over runs).
    pub months_done: u64,
    /// Simulated months of the whole study.
    pub months_total: u64,
    /// Runs finished.
    pub runs_done: u64,
    /// Runs of the whole study (arms x runs).
    pub runs_total: u64,
}

/// The function that plays one run: [`runner::run`], or a stand-in in tests.
pub type RunFn = dyn Fn(&Scenario, u64, &mut dyn FnMut(Progress)) -> Result<RunOutput> + Sync;

/// The study of `scenario`: `runs` seeded runs per arm ([`run_seed`]`(seed, i)`), one arm `base` or one per
/// value of `sweep`, on a local pool of `threads` threads (all cores when `None`); `progress` hears every
/// simulated month and every finished run, from the pool's threads. Errors: [`SimError::Scenario`] for
/// `runs == 0`, `threads == Some(0)` or a sweep value the scenario refuses; [`SimError::Run`] for a failed
/// run (its arm and seed named); [`SimError::Task`] when the pool cannot start.
pub fn study(
    scenario: &Scenario,
    runs: u32,
    seed: u64,
    sweep: Option<&Sweep>,
    threads: Option<usize>,
    progress: &(dyn Fn(StudyProgress) + Sync),
) -> Result<Study> {
    study_with(&runner::run, scenario, runs, seed, sweep, threads, progress)
}

/// [`study`] with the run function given.
pub fn study_with(
    run_fn: &RunFn,
    scenario: &Scenario,
    runs: u32,
    seed: u64,
    sweep: Option<&Sweep>,
    threads: Option<usize>,
    progress: &(dyn Fn(StudyProgress) + Sync),
) -> Result<Study> {
    if runs == 0 {
        return Err(SimError::Scenario("a study needs at least one run (--runs)".into()));
    }
    if threads == Some(0) {
        return Err(SimError::Scenario("a study needs at least one thread (--threads)".into()));
    }
    let arms = arm_scenarios(scenario, sweep)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .thread_name(|i| format!("tfeco-sim-{i}"))
        .build()
        .map_err(|e| SimError::Task(format!("the simulator's thread pool: {e}")))?;
    let counters = Counters::new(&arms, runs);
    let jobs: Vec<(usize, u32)> = (0..arms.len()).flat_map(|a| (0..runs).map(move |i| (a, i))).collect();
    let results: Vec<Option<Result<RunOutput>>> = pool.install(|| {
        let play = |(job, &(a, i)): (usize, &(usize, u32))| {
            counters.play(run_fn, job, &arms[a].1, run_seed(seed, i), progress)
        };
        jobs.par_iter().enumerate().map(play).collect()
    });
    let mut outputs: Vec<Vec<RunOutput>> = arms.iter().map(|_| Vec::with_capacity(runs as usize)).collect();
    for (&(a, i), result) in jobs.iter().zip(results) {
        match result {
            Some(Ok(output)) => outputs[a].push(output),
            Some(Err(error)) => {
                let (arm, seed) = (arms[a].0.clone(), run_seed(seed, i));
                return Err(SimError::Run { arm, run: i, seed, error: Box::new(error) });
            }
            None => {}
        }
    }
    let mut study_arms = Vec::with_capacity(arms.len());
    for ((label, _, overrides), runs) in arms.into_iter().zip(outputs) {
        let bands = Bands::over(&runs)?;
        study_arms.push(Arm { label, overrides, runs, bands });
    }
    Ok(Study { scenario: scenario.clone(), seed, runs_per_arm: runs, arms: study_arms })
}

/// An arm before it runs: its label, its scenario, its overrides as `(path, value)`.
type ArmScenario = (String, Scenario, Vec<(String, String)>);

/// The arms' scenarios: the base one, or one per sweep value (its override applied).
fn arm_scenarios(scenario: &Scenario, sweep: Option<&Sweep>) -> Result<Vec<ArmScenario>> {
    let Some(sweep) = sweep else {
        return Ok(vec![("base".to_owned(), scenario.clone(), Vec::new())]);
    };
    if sweep.arms.is_empty() {
        return Err(SimError::Scenario("a sweep needs at least one value".into()));
    }
    sweep
        .arms
        .iter()
        .map(|o| {
            let arm = overrides::apply(scenario, std::slice::from_ref(o))?;
            Ok((o.label(), arm, vec![(o.path.clone(), o.text.clone())]))
        })
        .collect()
}

/// The study's shared progress counters and the index of the first failed job (`usize::MAX`: none).
struct Counters {
    months_done: AtomicU64,
    runs_done: AtomicU64,
    months_total: u64,
    runs_total: u64,
    first_failed: AtomicUsize,
}

impl Counters {
    fn new(arms: &[ArmScenario], runs: u32) -> Counters {
        let months: u64 = arms.iter().map(|(_, s, _)| u64::from(s.months)).sum();
        Counters {
            months_done: AtomicU64::new(0),
            runs_done: AtomicU64::new(0),
            months_total: months * u64::from(runs),
            runs_total: arms.len() as u64 * u64::from(runs),
            first_failed: AtomicUsize::new(usize::MAX),
        }
    }

    fn report(&self, progress: &(dyn Fn(StudyProgress) + Sync)) {
        progress(StudyProgress {
            months_done: self.months_done.load(Ordering::Relaxed),
            months_total: self.months_total,
            runs_done: self.runs_done.load(Ordering::Relaxed),
            runs_total: self.runs_total,
        });
    }

    /// Plays job `job` unless a job before it failed (`None`); a failure (or a panic) skips the jobs after.
    fn play(
        &self,
        run_fn: &RunFn,
        job: usize,
        scenario: &Scenario,
        seed: u64,
        progress: &(dyn Fn(StudyProgress) + Sync),
    ) -> Option<Result<RunOutput>> {
        if self.first_failed.load(Ordering::Relaxed) < job {
            return None;
        }
        let mut month = |_: Progress| {
            self.months_done.fetch_add(1, Ordering::Relaxed);
            self.report(progress);
        };
        let result = catch_unwind(AssertUnwindSafe(|| run_fn(scenario, seed, &mut month)))
            .unwrap_or_else(|panic| Err(SimError::Task(format!("the run panicked: {}", panic_text(&panic)))));
        match &result {
            Ok(_) => {
                self.runs_done.fetch_add(1, Ordering::Relaxed);
                self.report(progress);
            }
            Err(_) => {
                self.first_failed.fetch_min(job, Ordering::Relaxed);
            }
        }
        Some(result)
    }
}

/// The message of a panic payload.
fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (None, Some(text)) => text.clone(),
        (None, None) => "a non-text panic".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::economy::bands::tests::run_output;
    use crate::economy::metrics::{Chart, Column, MonthValues, Series, Unit};

    fn scenario(months: u32) -> Scenario {
        Scenario::from_toml_str(&format!("name = \"fake\"\ndescription = \"a fake\"\nmonths = {months}\n"))
            .unwrap()
    }

    /// A stand-in run: two columns derived from the seed and the month, `scenario.months` months.
    fn fake_run(scenario: &Scenario, seed: u64, progress: &mut dyn FnMut(Progress)) -> Result<RunOutput> {
        let column = |key: &str| Column {
            key: key.into(),
            label: key.into(),
            unit: Unit::Count,
            decimals: 0,
            chart: Chart::None,
        };
        let mut months = Vec::new();
        for month in 1..=scenario.months {
            let mixed = i128::from(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(month) % 1_000);
            months.push(MonthValues { month, at: i64::from(month), values: vec![i128::from(seed), mixed] });
            progress(Progress { month, months: scenario.months });
        }
        let series = Series { columns: vec![column("seed"), column("mixed")], months };
        Ok(run_output(seed, series, format!("{seed:x}"), u64::from(scenario.months)))
    }

    fn quiet(_: StudyProgress) {}

    #[test]
    fn the_same_study_on_one_or_two_threads_is_equal() {
        let sweep = Sweep::parse("months=2,3").unwrap();
        let one = study_with(&fake_run, &scenario(4), 9, 40, Some(&sweep), Some(1), &quiet).unwrap();
        let two = study_with(&fake_run, &scenario(4), 9, 40, Some(&sweep), Some(2), &quiet).unwrap();
        assert_eq!(one, two);
        let seeds: Vec<u64> = (0..9).map(|i| run_seed(40, i)).collect();
        for arm in &one.arms {
            assert_eq!(arm.runs.iter().map(|r| r.seed).collect::<Vec<_>>(), seeds, "{}", arm.label);
            assert_eq!(arm.bands, Bands::over(&arm.runs).unwrap());
        }
        let labels: Vec<&str> = one.arms.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["months=2", "months=3"]);
        assert_eq!(one.arms[1].overrides, [("months".to_owned(), "3".to_owned())]);
        assert_eq!(one.arms.iter().map(|a| a.bands.months.len()).collect::<Vec<_>>(), [2, 3]);
        assert_eq!((one.scenario.months, one.seed, one.runs_per_arm), (4, 40, 9));
        let base = study_with(&fake_run, &scenario(4), 3, 40, None, None, &quiet).unwrap();
        assert_eq!(base.arms.len(), 1);
        assert_eq!((base.arms[0].label.as_str(), base.arms[0].overrides.len()), ("base", 0));
        let same = Sweep::parse("months=4").unwrap();
        let swept = study_with(&fake_run, &scenario(4), 3, 40, Some(&same), None, &quiet).unwrap();
        assert_eq!(
            base.arms[0].runs, swept.arms[0].runs,
            "an arm differs from the base only by its override"
        );
    }

    #[test]
    fn progress_counts_every_month_and_run() {
        let seen = Mutex::new(Vec::new());
        let record = |p: StudyProgress| seen.lock().unwrap().push(p);
        let sweep = Sweep::parse("months=2,5").unwrap();
        study_with(&fake_run, &scenario(4), 3, 1, Some(&sweep), Some(2), &record).unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 3 * (2 + 5) + 6);
        let last = seen.iter().max_by_key(|p| (p.runs_done, p.months_done)).unwrap();
        assert_eq!(*last, StudyProgress { months_done: 21, months_total: 21, runs_done: 6, runs_total: 6 });
    }

    #[test]
    fn a_failed_run_stops_the_study_naming_its_arm_and_seed() {
        let failing = |s: &Scenario, seed: u64, p: &mut dyn FnMut(Progress)| {
            if s.months == 3 && seed >= 12 {
                return Err(SimError::Check(format!("invariant broken at seed {seed}")));
            }
            fake_run(s, seed, p)
        };
        let sweep = Sweep::parse("months=2,3").unwrap();
        for threads in [1, 2] {
            let error =
                study_with(&failing, &scenario(4), 5, 10, Some(&sweep), Some(threads), &quiet).unwrap_err();
            match &error {
                SimError::Run { arm, run, seed, error } => {
                    assert_eq!((arm.as_str(), *run, *seed), ("months=3", 2, 12), "{threads} threads");
                    assert!(error.to_string().contains("invariant broken at seed 12"));
                }
                other => panic!("{other:?}"),
            }
            assert!(error.to_string().starts_with("arm months=3, run 2 (seed 12): "), "{error}");
        }
        let panicking =
            |_: &Scenario, _: u64, _: &mut dyn FnMut(Progress)| -> Result<RunOutput> { panic!("boom") };
        let error = study_with(&panicking, &scenario(1), 1, 0, None, Some(1), &quiet).unwrap_err();
        assert!(error.to_string().contains("panicked: boom"), "{error}");
    }

    #[test]
    fn bad_studies_are_refused() {
        let refused = |runs, threads, sweep: Option<&Sweep>| {
            study_with(&fake_run, &scenario(1), runs, 0, sweep, threads, &quiet).unwrap_err().to_string()
        };
        assert!(refused(0, None, None).contains("at least one run"));
        assert!(refused(1, Some(0), None).contains("at least one thread"));
        let wrong = Sweep::parse("months=1,many").unwrap();
        assert!(refused(1, None, Some(&wrong)).contains("months=many"));
    }

    #[test]
    fn sweep_values_split_at_top_level_commas() {
        let texts = |text: &str| -> Vec<String> {
            Sweep::parse(text).unwrap().arms.iter().map(|a| a.text.clone()).collect()
        };
        assert_eq!(texts("a.b=1, 2,3"), ["1", "2", "3"]);
        assert_eq!(texts("a=[1,2],[3, 4]"), ["[1,2]", "[3, 4]"]);
        assert_eq!(texts("a={x=1,y=[2,3]},{x=4,y=[]}"), ["{x=1,y=[2,3]}", "{x=4,y=[]}"]);
        assert_eq!(texts("a=\"x,y\",'z,]',w"), ["\"x,y\"", "'z,]'", "w"]);
        assert_eq!(texts("a=only"), ["only"]);
        assert_eq!(Sweep::parse("a.b=1,2").unwrap().path(), "a.b");
        for (bad, why) in [
            ("a", "expected PATH=V1"),
            ("a=", "empty value"),
            ("a=1,,2", "empty value"),
            ("a=1,2,", "empty value"),
            ("a=[1,2", "missing ']'"),
            ("a=1],2", "unbalanced"),
            ("a=[1,2},3", "unbalanced"),
            ("a=\"x,y", "unclosed"),
            ("a=1,2,1", "given twice"),
            ("a b=1,2", "override path"),
        ] {
            let error = Sweep::parse(bad).unwrap_err().to_string();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
