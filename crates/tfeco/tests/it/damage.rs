//! The damage campaign (issue 11): a young node is SIGKILLed (its history still partly in SQLite's WAL);
//! for every file of its data directory, copies of the directory get that file deleted, truncated at
//! seeded-random points (0 and length-1 included) and single bits flipped. `tfeco verify` and `tfeco serve`
//! must refuse each copy or yield exactly the acknowledged state: never serve a shorter or different
//! history, or a fresh genesis, in silence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::damage_kit::{
    classify_serve, classify_verify, copy_dir, damages_for, files_of, more_transfers, seed_from_env,
    young_node, Acked, Damage, Outcome, SplitMix64, SNAPSHOTTING,
};
use crate::support::ServeProcess;

/// Default seed of the campaign (override with `TFECO_DAMAGE_SEED` to explore; a failure prints it).
const SEED: u64 = 0x7F3C_0011_DA4A_6E01;
/// Random truncation points per file, besides 0 and length-1 (`TFECO_DAMAGE_TRUNCATIONS` for a longer run).
const TRUNCATIONS_PER_FILE: usize = 8;
/// Random single-bit flips per file (`TFECO_DAMAGE_FLIPS` for a longer run).
const FLIPS_PER_FILE: usize = 24;

/// `name` from the environment as a count, or `default`.
fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
/// Concurrent transfers of the young node (plus about 40 setup commands).
const TRANSFERS: u64 = 800;
/// Copies checked at once (each runs `verify`, then `serve`).
const WORKERS: usize = 3;

/// One damaged copy and what both commands made of it.
struct Case {
    file: PathBuf,
    damage: Damage,
    verify: Option<Outcome>,
    serve: Option<Outcome>,
}

/// Runs one command on a fresh damaged copy of `source` under `work`.
fn on_damaged_copy(
    source: &Path,
    work: &Path,
    case: &Case,
    name: &str,
    run: impl FnOnce(&Path) -> Outcome,
) -> Outcome {
    let copy = work.join(name);
    copy_dir(source, &copy);
    case.damage.apply(&copy.join(&case.file));
    let outcome = run(&copy);
    let _ = std::fs::remove_dir_all(&copy);
    outcome
}

/// Runs every case on `WORKERS` threads.
fn run_campaign(source: &Path, work: &Path, acked: &Acked, cases: &mut [Case]) {
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let verify = on_damaged_copy(source, work, case, &format!("v{i}"), |copy| {
                    classify_verify(copy, acked)
                });
                let serve =
                    on_damaged_copy(source, work, case, &format!("s{i}"), |copy| classify_serve(copy, acked));
                results.lock().expect("results").push((i, verify, serve));
            });
        }
    });
    for (i, verify, serve) in results.into_inner().expect("results") {
        cases[i].verify = Some(verify);
        cases[i].serve = Some(serve);
    }
}

/// Prints the table (file x damage kind x outcome counts, for verify and serve) and every non-refused,
/// non-same case.
fn report(cases: &[Case], seed: u64, label: &str) {
    const COLUMNS: [&str; 4] = ["REFUSED", "SAME", "SILENT", "CRASHED"];
    let mut table: BTreeMap<(String, &str), [[usize; 4]; 2]> = BTreeMap::new();
    for case in cases {
        let row = table.entry((case.file.display().to_string(), case.damage.kind())).or_default();
        for (side, outcome) in [case.verify.as_ref(), case.serve.as_ref()].into_iter().enumerate() {
            let column = outcome.expect("ran").column();
            let index = COLUMNS.iter().position(|c| *c == column).expect("known column");
            row[side][index] += 1;
        }
    }
    eprintln!(
        "damage campaign ({label}): seed {seed:#x}, {} damaged copies, each run by verify and by serve",
        cases.len()
    );
    eprintln!(
        "{:<28} {:<9} | verify: {:>7} {:>5} {:>6} {:>7} | serve: {:>7} {:>5} {:>6} {:>7}",
        "file", "damage", "refused", "same", "SILENT", "CRASHED", "refused", "same", "SILENT", "CRASHED"
    );
    let mut totals = [[0usize; 4]; 2];
    for ((file, kind), counts) in &table {
        let [v, s] = counts;
        eprintln!(
            "{file:<28} {kind:<9} | verify: {:>7} {:>5} {:>6} {:>7} | serve: {:>7} {:>5} {:>6} {:>7}",
            v[0], v[1], v[2], v[3], s[0], s[1], s[2], s[3]
        );
        for side in 0..2 {
            for column in 0..4 {
                totals[side][column] += counts[side][column];
            }
        }
    }
    let [v, s] = totals;
    eprintln!(
        "{:<28} {:<9} | verify: {:>7} {:>5} {:>6} {:>7} | serve: {:>7} {:>5} {:>6} {:>7}",
        "TOTAL", "", v[0], v[1], v[2], v[3], s[0], s[1], s[2], s[3]
    );
    for case in cases {
        for (side, outcome) in [("verify", &case.verify), ("serve", &case.serve)] {
            match outcome.as_ref().expect("ran") {
                Outcome::Silent(why) | Outcome::Crashed(why) => {
                    eprintln!("  {side} {} [{}]: {why}", case.file.display(), case.damage)
                }
                Outcome::Refused(_) | Outcome::Same => {}
            }
        }
    }
}

/// A young node, SIGKILLed: its whole history is still in SQLite's WAL (`journal.sqlite` holds only the
/// header page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_damaged_copy_is_refused_or_yields_the_acknowledged_state() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let (node, acked) = young_node(&dir, temp.path(), TRANSFERS).await;
    let killed = node.kill();
    assert!(!killed.success(), "the node was killed, not stopped: {killed}");
    campaign("young node", temp, acked).await;
}

/// A node stopped cleanly once (its history, genesis row included, checkpointed into `journal.sqlite`),
/// restarted, driven further and SIGKILLed: the older history is in the main file, the tail in the WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_damaged_copy_of_a_checkpointed_node_is_refused_or_yields_the_acknowledged_state() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("data");
    let (node, _) = young_node(&dir, temp.path(), TRANSFERS).await;
    let stopped = node.stop().await;
    assert!(stopped.success(), "graceful stop: {stopped}");
    let node = ServeProcess::start_with(&dir, temp.path(), "checkpointed", SNAPSHOTTING).await;
    let acked = more_transfers(&node.api, TRANSFERS / 4).await;
    let killed = node.kill();
    assert!(!killed.success(), "the node was killed, not stopped: {killed}");
    campaign("checkpointed node", temp, acked).await;
}

/// Damages copies of `temp/data` (killed at `acked`), runs verify and serve on each, prints the table and
/// asserts that none was SILENT or CRASHED.
async fn campaign(label: &str, temp: tempfile::TempDir, acked: Acked) {
    let seed = seed_from_env(SEED);
    let dir = temp.path().join("data");
    let files = files_of(&dir);
    let sizes: Vec<String> = files
        .iter()
        .map(|f| {
            format!(
                "{} ({} bytes)",
                f.display(),
                std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0)
            )
        })
        .collect();
    eprintln!(
        "damage campaign ({label}): killed at seq {} (state {}); files: {}",
        acked.seq,
        acked.state_hash,
        sizes.join(", ")
    );

    let acked_json =
        serde_json::json!({ "seq": acked.seq, "state_hash": acked.state_hash, "operator": acked.operator });
    std::fs::write(temp.path().join("acked.json"), acked_json.to_string()).expect("write acked.json");
    let work = temp.path().join("copies");
    std::fs::create_dir_all(&work).expect("work dir");
    let outcome = tokio::task::spawn_blocking({
        let (dir, work, acked) = (dir.clone(), work.clone(), acked.clone());
        move || {
            // The control: an undamaged copy gives exactly the acknowledged state to both commands.
            for (name, outcome) in [
                ("verify", {
                    let copy = work.join("control-v");
                    copy_dir(&dir, &copy);
                    classify_verify(&copy, &acked)
                }),
                ("serve", {
                    let copy = work.join("control-s");
                    copy_dir(&dir, &copy);
                    classify_serve(&copy, &acked)
                }),
            ] {
                assert_eq!(outcome, Outcome::Same, "{name} of the undamaged copy");
            }
            for control in ["control-v", "control-s"] {
                let _ = std::fs::remove_dir_all(work.join(control));
            }

            let mut rng = SplitMix64::new(seed);
            let mut cases = Vec::new();
            for file in &files {
                let len = std::fs::metadata(dir.join(file)).expect("metadata").len();
                for damage in damages_for(
                    len,
                    &mut rng,
                    count_from_env("TFECO_DAMAGE_TRUNCATIONS", TRUNCATIONS_PER_FILE),
                    count_from_env("TFECO_DAMAGE_FLIPS", FLIPS_PER_FILE),
                ) {
                    cases.push(Case { file: file.clone(), damage, verify: None, serve: None });
                }
            }
            run_campaign(&dir, &work, &acked, &mut cases);
            cases
        }
    })
    .await;
    let cases = outcome.expect("campaign thread");
    report(&cases, seed, label);

    let count = |side: usize, column: &str| {
        cases
            .iter()
            .filter(|c| [&c.verify, &c.serve][side].as_ref().map(Outcome::column) == Some(column))
            .count()
    };
    let (silent_verify, silent_serve) = (count(0, "SILENT"), count(1, "SILENT"));
    let (crashed_verify, crashed_serve) = (count(0, "CRASHED"), count(1, "CRASHED"));
    if silent_verify + silent_serve + crashed_verify + crashed_serve > 0 {
        // The young node is not bit-for-bit reproducible (wall-clock genesis, concurrent group commits):
        // keep the killed directory, so the seed and the damages listed above reproduce the failure.
        let kept = temp.keep();
        eprintln!(
            "damage campaign ({label}): kept the killed data directory in {} and its acknowledged state in {}",
            kept.join("data").display(),
            kept.join("acked.json").display()
        );
    }
    assert!(
        silent_verify == 0 && silent_serve == 0,
        "{label}, seed {seed:#x}: {silent_verify} of {n} damaged copies verified and {silent_serve} of {n} served in silence \
         with another state than the acknowledged one (seq {}, state {}); see the table above (--nocapture)",
        acked.seq,
        acked.state_hash,
        n = cases.len()
    );
    assert!(
        crashed_verify == 0 && crashed_serve == 0,
        "{label}, seed {seed:#x}: {crashed_verify} verify and {crashed_serve} serve runs panicked, died of a signal or hung \
         on a damaged copy (files are input: refuse with a clear error)"
    );
}
