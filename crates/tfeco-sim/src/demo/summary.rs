//! The demo's summary: what one month did to the economy (entries, state hash and its replay, commands
//! accepted and refused, CC and TFT flows, leases, prices, minting, revenue per farmer) as one JSON object,
//! and its human form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};
use tfeco_wallet::client::account_of;

use super::Demo;
use crate::Result;

/// What the binary knows about the run that the node does not say.
pub struct SummaryContext<'a> {
    /// The node's data directory.
    pub data_dir: &'a Path,
    /// Whether the node had entries before this run.
    pub resumed: bool,
    /// The state hash of the node's journal replayed from scratch, or why the replay failed.
    pub replay_hash: std::result::Result<String, String>,
}

impl Demo {
    /// The summary after [`Demo::play`]: one JSON object (amounts as decimal strings). `invariants_ok`
    /// holds when the node's invariants hold and the replay succeeded; `replay_matches` when the replayed
    /// hash is the live one.
    pub async fn summary(&self, context: SummaryContext<'_>) -> Result<Value> {
        let status = self.driver.status().await?;
        let supply = self.driver.supply().await?;
        let system = self.driver.system_accounts().await?;
        let prices = self.driver.prices().await?;
        let leases = self.driver.leases(None).await?;
        let mint_reports = self.driver.mint_reports().await.unwrap_or(Value::Null);
        let mut farmers = Vec::new();
        for (i, farmer) in self.agents.farmers.iter().enumerate() {
            let account = account_of(farmer);
            let record = self.driver.account(&account).await?;
            farmers.push(json!({ "farmer": i + 1, "account": account, "revenue_cc": record["revenue_cc"] }));
        }
        let live_hash = status["state_hash"].as_str().unwrap_or_default().to_owned();
        let (replay_hash, replay_ok) = match context.replay_hash {
            Ok(hash) => (hash, true),
            Err(error) => (format!("replay failed: {error}"), false),
        };
        Ok(json!({
            "month_played": self.month_number(),
            "resumed": context.resumed,
            "virtual_time": status["now"],
            "entries": status["seq"],
            "state_hash": live_hash,
            "invariants_ok": status["invariants_ok"].as_bool() == Some(true) && replay_ok,
            "replay_state_hash": replay_hash,
            "replay_matches": replay_hash == live_hash,
            "commands_accepted": self.driver.accepted(),
            "commands_rejected": self.driver.refused(),
            "cc_minted": supply["assets"]["CC"]["minted"],
            "cc_burned": supply["assets"]["CC"]["burned"],
            "tft_locked_in_vault": supply["vault_tft"],
            "tft_burned": supply["assets"]["TFT"]["burned"],
            "tft_global_supply": supply["tft_global_supply"],
            "treasury_cc": system["treasury"]["CC"],
            "burn_owed_tft": supply["burn_owed_tft"],
            "revenue_per_farmer": farmers,
            "leases": leases_by_status(&leases),
            "prices": prices["current"],
            "minting_reports": mint_reports["reports"],
            "tft_rewards_minted": supply["assets"]["TFT"]["minted"],
            "vesting_locked_tft": system["vesting.locked"]["TFT"],
            "assumptions": {
                "tft_usd": "0.01 with a deterministic daily drift of up to ±2%",
                "gold_usd_per_oz": format!("{} ({}, latest row of the series)", self.gold, self.gold_month),
                "entry_tft_per_cc": "2",
                "revenue_split": "farmer 80% / burn 10% / treasury 10%",
            },
            "data_dir": context.data_dir,
        }))
    }
}

/// Leases counted by status (`open`, `grace`, ... or `closed_<reason>`).
fn leases_by_status(leases: &Value) -> BTreeMap<String, u64> {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for lease in leases["leases"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let key = match lease["closed"]["reason"].as_str() {
            Some(reason) => format!("closed_{reason}"),
            None => lease["status"]["status"].as_str().unwrap_or("open").to_owned(),
        };
        *by_status.entry(key).or_default() += 1;
    }
    by_status
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("?").to_owned()
}

/// The human form of a summary (several lines, ending with a newline).
pub fn render_summary(summary: &Value) -> String {
    let mut out = String::new();
    let resumed = if summary["resumed"] == true { " (resumed)" } else { "" };
    let _ = writeln!(out, "TFGrid Economy demo: month {} played{resumed}", summary["month_played"]);
    let _ = writeln!(out, "  journal entries      {}", summary["entries"]);
    let _ = writeln!(out, "  state hash           {}", text(&summary["state_hash"]));
    let replay = if summary["replay_matches"] == true { "same hash" } else { "MISMATCH" };
    let _ = writeln!(out, "  replay from scratch  {replay}");
    let invariants = if summary["invariants_ok"] == true { "OK" } else { "VIOLATED" };
    let _ = writeln!(out, "  invariants           {invariants}");
    let _ = writeln!(
        out,
        "  commands             {} accepted, rejected by code {}",
        summary["commands_accepted"], summary["commands_rejected"]
    );
    let _ = writeln!(out, "  CC minted            {}", text(&summary["cc_minted"]));
    let _ = writeln!(out, "  CC burned            {}", text(&summary["cc_burned"]));
    let _ = writeln!(out, "  TFT locked (vault)   {}", text(&summary["tft_locked_in_vault"]));
    let _ = writeln!(out, "  TFT burned           {}", text(&summary["tft_burned"]));
    let _ = writeln!(out, "  treasury             {} CC", text(&summary["treasury_cc"]));
    let _ = writeln!(out, "  leases               {}", summary["leases"]);
    let _ = writeln!(out, "  prices               {}", summary["prices"]);
    for report in summary["minting_reports"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let _ = writeln!(
            out,
            "  minting period {}     {} nodes, {} TFT, hash {}…, signed {}, {}",
            report["period"],
            report["nodes"],
            text(&report["total"]),
            &text(&report["hash"]).chars().take(16).collect::<String>(),
            report["signatures"],
            if report["minted_at"].is_null() { "pending" } else { "minted into vesting" }
        );
    }
    let _ = writeln!(out, "  TFT locked (vesting) {}", text(&summary["vesting_locked_tft"]));
    out.push_str("  revenue per farmer (CC):\n");
    for farmer in summary["revenue_per_farmer"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let _ = writeln!(
            out,
            "    farmer {:>2}  {:>14}  {}",
            farmer["farmer"],
            text(&farmer["revenue_cc"]),
            text(&farmer["account"])
        );
    }
    out
}
