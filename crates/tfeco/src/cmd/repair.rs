//! `tfeco repair`: says what is wrong with a data directory the node refuses and what it would change, and
//! changes it only when confirmed (`--yes`, or `y` on a terminal). `tfeco verify` never changes anything.
//! With `--journal postgres://...` the database is diagnosed read-only; deleting rows there needs
//! `--accept-loss` and the same confirmation.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tfeco_server::datadir::JournalLocation;
use tfeco_server::repair::{apply, diagnose_at, RepairAction};

/// Arguments of `tfeco repair`.
#[derive(clap::Args)]
pub(crate) struct RepairArgs {
    /// Data directory of the (stopped) node.
    #[arg(long, default_value = "tfeco-data")]
    pub data_dir: PathBuf,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    /// Also propose repairs that give up acknowledged commands (truncate to the last good entry and
    /// re-anchor there). Without it such a directory is reported as not repairable.
    #[arg(long)]
    pub accept_loss: bool,
    /// The node's journal is in this PostgreSQL database (`postgres://USER@HOST:PORT/DB`), as given to
    /// `tfeco serve --journal`. Diagnosed in a read-only session; a truncation (only with --accept-loss)
    /// takes the writer lease, so stop every writer first.
    #[arg(long, value_parser = JournalLocation::parse)]
    pub journal: Option<JournalLocation>,
}

fn describe(action: &RepairAction) -> String {
    match action {
        RepairAction::Truncate { seq, dropped, acknowledged } => format!(
            "delete the {dropped} journal entries after entry {seq} ({acknowledged} of them were acknowledged \
             to clients and are LOST)"
        ),
        RepairAction::Reanchor { seq, from: Some(from) } => {
            format!("rewrite the anchor from entry {from} to the journal's head, entry {seq}")
        }
        RepairAction::RemoveSnapshot { seq, path } => {
            format!("delete the snapshot of entry {seq} ({}), beyond the history kept", path.display())
        }
        RepairAction::Reanchor { seq, from: None } => {
            format!("write a new anchor at the journal's head, entry {seq} (a damaged one is kept as anchor.damaged)")
        }
    }
}

/// Runs `tfeco repair`: exit 0 when there is nothing to do or the repair was applied, 1 when not confirmed,
/// 2 when the directory cannot be repaired.
pub(crate) fn run(args: RepairArgs) -> anyhow::Result<ExitCode> {
    let location = args.journal.clone().unwrap_or_default();
    let plan = diagnose_at(&args.data_dir, &location, args.accept_loss)?;
    println!("data directory: {}", args.data_dir.display());
    for finding in &plan.findings {
        println!("found: {finding}");
    }
    if !plan.repairable {
        println!("not repairable here: nothing was changed");
        return Ok(ExitCode::from(2));
    }
    if plan.actions.is_empty() {
        println!("nothing to repair");
        return Ok(ExitCode::SUCCESS);
    }
    println!("repair would:");
    for action in &plan.actions {
        println!("  - {}", describe(action));
    }
    if !args.yes && !confirm()? {
        println!("not confirmed: nothing was changed (run again with --yes to apply)");
        return Ok(ExitCode::from(1));
    }
    apply(&plan)?;
    let journal = match &location {
        JournalLocation::DataDir => String::new(),
        JournalLocation::Postgres(_) => " --journal URL".to_owned(),
    };
    println!("repaired; check with `tfeco verify --data-dir {}{journal}`", args.data_dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; without one (a script, CI) the answer is no.
fn confirm() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    print!("apply? [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
