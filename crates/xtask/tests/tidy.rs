//! Tidy checks over the repository, run as an ordinary test: every Rust file opens with a `//!` doc, the
//! core names no forbidden dependency, no unfinished-code macros, ignored or panic-expecting tests, no
//! printing in library crates, no trailing whitespace, no production function over 80 lines outside the
//! shrinking allow-list `crates/xtask/long-functions.txt`, no module cycle in any crate.

use std::path::{Path, PathBuf};

use xtask::cycles::ModuleGraph;
use xtask::long_functions::{self, ALLOW_LIST};
use xtask::source::{repo_root, workspace_crates};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable source");
            (p, text)
        })
        .collect()
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = all_files()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading //! doc: {missing:#?}");
}

#[test]
fn the_core_depends_on_no_io_or_async_crate() {
    let manifest =
        std::fs::read_to_string(root().join("crates/tfeco-core/Cargo.toml")).expect("core manifest");
    let dependencies =
        manifest.split("[dependencies]").nth(1).unwrap_or("").split("\n[").next().unwrap_or("");
    for forbidden in
        ["tokio", "axum", "rusqlite", "sqlx", "reqwest", "hyper", "tfeco-journal", "tfeco-server", "rand"]
    {
        let named = dependencies.lines().any(|line| {
            line.trim_start().starts_with(&format!("{forbidden} "))
                || line.trim_start().starts_with(&format!("{forbidden}."))
                || line.trim_start().starts_with(&format!("{forbidden}="))
        });
        assert!(!named, "tfeco-core must not depend on {forbidden}");
    }
}

#[test]
fn no_forbidden_macros_or_attributes() {
    let needles = [
        concat!("to", "do!("),
        concat!("db", "g!("),
        concat!("#[", "ignore]"),
        concat!("#[", "should_panic"),
        concat!("unimpl", "emented!("),
    ];
    let mut found = Vec::new();
    for (path, text) in all_files() {
        for needle in needles {
            if text.contains(needle) {
                found.push(format!("{}: {needle}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "forbidden: {found:#?}");
}

#[test]
fn libraries_do_not_print() {
    let mut found = Vec::new();
    for (path, text) in all_files() {
        let p = path.to_string_lossy();
        let library = p.contains("/src/") && !p.contains("crates/tfeco/") && !p.contains("crates/xtask/");
        if library && (text.contains(concat!("print", "ln!(")) || text.contains(concat!("eprint", "ln!("))) {
            found.push(p.into_owned());
        }
    }
    assert!(found.is_empty(), "library crates must not print: {found:#?}");
}

#[test]
fn no_trailing_whitespace() {
    let mut found = Vec::new();
    for (path, text) in all_files() {
        for (i, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                found.push(format!("{}:{}", path.display(), i + 1));
            }
        }
    }
    assert!(found.is_empty(), "trailing whitespace: {found:#?}");
}

#[test]
fn no_production_function_is_over_the_limit_unless_allow_listed() {
    let crates = workspace_crates(&repo_root()).expect("every production file parses");
    let files: Vec<_> = crates.into_iter().flat_map(|c| c.files).collect();
    let measured = long_functions::measure(&files);
    let text = std::fs::read_to_string(repo_root().join(ALLOW_LIST)).expect("the allow-list exists");
    let allowed = long_functions::parse_allow_list(&text).expect("the allow-list is well formed");
    let problems = long_functions::problems(&measured, &allowed);
    assert!(
        problems.is_empty(),
        "function length (limit {}):\n{}",
        long_functions::LIMIT,
        problems.join("\n")
    );
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut problems = Vec::new();
    for krate in workspace_crates(&repo_root()).expect("every production file parses") {
        for cycle in ModuleGraph::of(&krate.files).cycles() {
            problems.push(format!("{}: module cycle: {} (break it)", krate.name, cycle.join(" ")));
        }
    }
    assert!(
        problems.is_empty(),
        "module cycles (see `cargo run -p xtask -- cycles`):\n{}",
        problems.join("\n")
    );
}
