//! `tfeco status`: the node's journal head, time, state hash, invariants, parameter set and operator, and
//! whether it is a single-key development node (decisions §12). Read-only; `--json` prints `GET /v1/status`
//! as is.

use std::process::ExitCode;

use tfeco_wallet::api::ledger::StatusView;

use crate::connect::{ConnectOpts, Session};
use crate::render::time::iso;

/// Arguments of `tfeco status`.
#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    connect: ConnectOpts,
}

/// Runs `tfeco status`.
pub(crate) async fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    session.answer(session.client.status().await, report)
}

/// The status as lines; a development node says so first.
fn report(view: &StatusView) -> String {
    let mut out = String::new();
    if view.dev_mode {
        out.push_str("DEVELOPMENT MODE: a single-key node (its guardian set may be the operator alone); not for real money\n");
    }
    out.push_str(&format!("journal head      entry {}\n", view.seq));
    out.push_str(&format!("time              {}\n", iso(view.now)));
    out.push_str(&format!("state hash        {}\n", view.state_hash));
    out.push_str(&format!("invariants        {}\n", if view.invariants_ok { "ok" } else { "VIOLATED" }));
    out.push_str(&format!("parameter set     {}\n", view.parameter_set));
    out.push_str(&format!("operator          {}\n", view.operator));
    if let Some(primary) = &view.primary {
        let lag_entries = view.lag_entries.unwrap_or(0);
        let lag_seconds = view.lag_seconds.unwrap_or(0.0);
        out.push_str(&format!(
            "follower of       {primary} (lag {lag_entries} entries, {lag_seconds:.3} s)\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_node_says_so_first() {
        let mut view = StatusView {
            seq: 3,
            now: 1_761_955_200,
            commands_applied: 3,
            state_hash: "ab".repeat(32),
            invariants_ok: true,
            parameter_set: "tfgrid4-2025".into(),
            operator: tfeco_core::AccountKey([7; 32]),
            dev_mode: false,
            role: Default::default(),
            primary: None,
            lag_entries: None,
            lag_seconds: None,
        };
        let production = report(&view);
        assert!(production.starts_with("journal head      entry 3\ntime              2025-11-01T00:00:00Z"));
        assert!(!production.contains("DEVELOPMENT"));
        view.dev_mode = true;
        assert!(report(&view).starts_with("DEVELOPMENT MODE"));
    }
}
