//! Replays the committed fuzz corpora on the stable toolchain: every seed (`fuzz/corpus/<target>/`) and
//! every fixed crash (`fuzz/regressions/<target>/`) through the same target body the fuzzer runs, so a
//! regression of a decoder fails `cargo test` without nightly. Also checks that the targets, their
//! `cargo fuzz` wrappers and their corpora match, and that every target accepts every generated seed.

use std::path::{Path, PathBuf};

use tfeco_fuzz::{seeds::seeds, Verdict, TARGETS};

/// The `fuzz/` directory of the repository.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted (none when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.expect("a directory entry").path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

#[test]
fn every_committed_corpus_file_and_fixed_crash_replays_without_a_violation() {
    let mut replayed = 0;
    for target in TARGETS {
        for kind in ["corpus", "regressions"] {
            for file in files(&fuzz_dir().join(kind).join(target.name)) {
                let bytes = std::fs::read(&file).expect("a corpus file");
                let outcome = std::panic::catch_unwind(|| (target.run)(&bytes));
                assert!(outcome.is_ok(), "{}: {} fails (see the panic above)", target.name, file.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed >= TARGETS.len(), "only {replayed} corpus files");
}

#[test]
fn every_target_has_a_cargo_fuzz_wrapper_and_a_committed_seed_corpus() {
    let wrappers: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|p| p.file_stem().expect("a name").to_string_lossy().into_owned())
        .collect();
    let mut names: Vec<String> = TARGETS.iter().map(|t| t.name.to_owned()).collect();
    names.sort();
    assert_eq!(wrappers, names, "fuzz/fuzz_targets/*.rs and tfeco_fuzz::TARGETS differ");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for target in TARGETS {
        assert!(manifest.contains(&format!("name = \"{}\"", target.name)), "{} has no [[bin]]", target.name);
        let corpus = files(&fuzz_dir().join("corpus").join(target.name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{}/ is empty: run the write-corpus example", target.name);
        let size: u64 = corpus.iter().map(|f| f.metadata().expect("a file").len()).sum();
        assert!(size <= 256 * 1024, "fuzz/corpus/{}/ is {size} bytes: keep seeds small", target.name);
    }
}

#[test]
fn every_target_accepts_each_of_its_generated_seeds() {
    let mut refused = Vec::new();
    for target in TARGETS {
        let seeds = seeds(target.name);
        assert!(!seeds.is_empty(), "{} has no seeds", target.name);
        for (name, bytes) in seeds {
            if (target.run)(&bytes) != Verdict::Accepted {
                refused.push(format!("{}: seed {name}: {}", target.name, String::from_utf8_lossy(&bytes)));
            }
        }
    }
    assert!(refused.is_empty(), "seeds refused by their target:\n{}", refused.join("\n"));
}
