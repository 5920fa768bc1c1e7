//! The `xtask` command: prints the structural reports the tidy tests check.
//!
//! - `cargo run -p xtask -- long-functions`: the production functions over the line limit, as the full
//!   allow-list file (reasons already given are kept): redirect it to `crates/xtask/long-functions.txt` to
//!   regenerate the list.
//! - `cargo run -p xtask -- cycles`: the module cycles of every crate.
//! - `cargo run -p xtask -- longest [N]`: the N (default 10) longest production functions with their lengths,
//!   the figure the closing notes of restructures report.

use std::process::ExitCode;

use xtask::cycles::ModuleGraph;
use xtask::long_functions::{self, ALLOW_LIST};
use xtask::source::{repo_root, workspace_crates, CrateSources};

const USAGE: &str = "usage: cargo run -p xtask -- <long-functions | cycles | longest [N]>";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        Some("long-functions") => long_functions_report(),
        Some("cycles") => cycles_report(),
        Some("longest") => longest_report(std::env::args().nth(2)),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The production sources of the workspace, or the reason they cannot be read.
fn crates() -> Result<Vec<CrateSources>, String> {
    workspace_crates(&repo_root()).map_err(|e| e.to_string())
}

/// The allow-list file for today's tree.
fn long_functions_report() -> Result<String, String> {
    let files: Vec<_> = crates()?.into_iter().flat_map(|c| c.files).collect();
    let measured = long_functions::measure(&files);
    let text = std::fs::read_to_string(repo_root().join(ALLOW_LIST)).unwrap_or_default();
    let allowed = long_functions::parse_allow_list(&text).map_err(|e| e.to_string())?;
    Ok(long_functions::allow_list(&measured, &allowed))
}

/// The `count` longest production functions, longest first, as `lines name`.
fn longest_report(count: Option<String>) -> Result<String, String> {
    let count: usize = count.as_deref().unwrap_or("10").parse().map_err(|_| USAGE.to_owned())?;
    let files: Vec<_> = crates()?.into_iter().flat_map(|c| c.files).collect();
    let mut measured = long_functions::measure(&files);
    measured.sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.name.cmp(&b.name)));
    Ok(measured.iter().take(count).map(|f| format!("{:4} {}\n", f.lines, f.name)).collect())
}

/// One line per cycle and a summary line per crate.
fn cycles_report() -> Result<String, String> {
    let mut out = String::new();
    for krate in crates()? {
        let graph = ModuleGraph::of(&krate.files);
        let cycles = graph.cycles();
        for cycle in &cycles {
            out.push_str(&format!("{}: cycle of {}: {}\n", krate.name, cycle.len(), cycle.join(" ")));
        }
        out.push_str(&format!(
            "{}: {} modules, {} arrows, {} cycles\n",
            krate.name,
            graph.units.len(),
            graph.arrow_count(),
            cycles.len()
        ));
    }
    Ok(out)
}
