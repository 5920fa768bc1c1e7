//! The fuzzers in the README's test command: `fuzz/run.sh` builds every `cargo fuzz` target (nightly and
//! cargo-fuzz are installed when missing) and runs each for a bounded time on its committed corpus; any
//! crash fails this test with the artifact and the commands that reproduce it. `TFECO_FUZZ_SECONDS` sets
//! the seconds per target (default [`SECONDS_PER_TARGET`]); `docs/testing.md` ("Fuzzing") has the long runs.

use std::path::Path;
use std::process::Command;

/// Seconds each target runs in the test command: long enough to mutate past the seeds, short enough that
/// the build and all the runs take a few minutes on two cores.
const SECONDS_PER_TARGET: &str = "10";

#[test]
fn every_fuzz_target_runs_for_a_bounded_time_without_a_crash() {
    let seconds = std::env::var("TFECO_FUZZ_SECONDS").unwrap_or_else(|_| SECONDS_PER_TARGET.to_owned());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/run.sh");
    let output = Command::new("bash").arg(&script).arg(&seconds).output().expect("bash runs fuzz/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    assert!(output.status.success(), "fuzz/run.sh {seconds} failed:\n{stdout}\n{}", tail.join("\n"));
    let ran = stdout.lines().filter(|line| line.ends_with(" ok")).count();
    assert_eq!(ran, tfeco_fuzz::TARGETS.len(), "not every target ran:\n{stdout}");
}
