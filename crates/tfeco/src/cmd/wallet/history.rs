//! `tfeco wallet history`: the account's events, newest first, a page at a time
//! (`GET /v1/accounts/{key}/events`).

use std::process::ExitCode;

use clap::Args;
use tfeco_core::AccountKey;
use tfeco_wallet::api::events::{AccountEventsPage, AccountEventsQuery};

use crate::connect::Session;

/// Arguments of `tfeco wallet history`.
#[derive(Args)]
pub(crate) struct HistoryArgs {
    /// Entries per page (1 to 200; default 20).
    #[arg(long)]
    limit: Option<u32>,
    /// Only entries before this journal seq (the `next_before` of the previous page).
    #[arg(long)]
    before: Option<u64>,
    /// Another account's key (default: this wallet's).
    #[arg(long)]
    account: Option<AccountKey>,
}

/// Runs `tfeco wallet history`.
pub(crate) async fn run(session: &Session, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let account = match args.account {
        Some(account) => account,
        None => session.account()?,
    };
    let query = AccountEventsQuery { before: args.before, limit: args.limit };
    session.answer(session.client.account_events(&account, &query).await, render)
}

/// One line per event: `seq  time  kind  details`, then the next page's command.
fn render(page: &AccountEventsPage) -> String {
    let mut out = String::new();
    for entry in &page.entries {
        for event in &entry.events {
            let mut fields = serde_json::to_value(event).unwrap_or_default();
            if let Some(map) = fields.as_object_mut() {
                map.remove("event");
            }
            out.push_str(&format!("{:>8}  {}  {:<24} {}\n", entry.seq, entry.ts, event.kind(), fields));
        }
    }
    if page.entries.is_empty() {
        out.push_str("no events\n");
    }
    if let Some(before) = page.next_before {
        out.push_str(&format!("older: tfeco wallet history --before {before}\n"));
    }
    out
}
