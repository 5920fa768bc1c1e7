//! `tfeco demo`: the TFGrid economy's central loop on real data, through the real HTTP API with signed
//! requests. Farmers register nodes of catalogue models and price them inside the bands; users bring TFT
//! (attested deposits), enter Cloud Credits at 2 TFT/CC and lease capacity hourly or monthly; one `Tick` per
//! simulated day bills the leases and splits revenue 80/10/10. Time is a virtual clock (the operator's
//! signed `Tick`s, journaled). A second run on the same directory resumes and plays the next month.
//!
//! Demo assumptions (stated in the summary): TFT at 0.01 USD with a small deterministic daily drift; gold
//! from the latest row of the embedded series; demo keys derived from fixed seeds (so runs are reproducible
//! and the operator key of a demo directory is public: never use a demo directory for real value).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tfeco_core::{Billing, Command, FarmId, LeaseId, NodeId, NodeSpec, PriceFeed};
use tfeco_money::{Amount, Asset, Cc, Price, Tft};
use tfeco_server::{ClockMode, ServerConfig};
use tfeco_wallet::client::account_of;
use tfeco_wallet::{Client, ClientError};

/// Arguments of `tfeco demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Data directory (created fresh, or resumed).
    #[arg(long, default_value = "tfeco-demo")]
    data_dir: PathBuf,
    /// Address to serve on (default 127.0.0.1:8080; an ephemeral port with --no-serve).
    #[arg(long)]
    listen: Option<String>,
    /// Exit after the summary instead of serving.
    #[arg(long)]
    no_serve: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// 2025-11-01T00:00:00Z: the demo's virtual clock starts here.
const START: i64 = 1_761_955_200;
const DAY: i64 = 86_400;
const MONTH_DAYS: i64 = 30;
const N_FARMERS: usize = 10;
const N_USERS: usize = 50;
const N_GUARDIANS: usize = 9;
/// Uptime report interval of the nodes (v3: 40 minutes).
const REPORT_EVERY_S: i64 = 2_400;

fn demo_key(role: &str, index: usize) -> SigningKey {
    let seed = blake3::hash(format!("tfeco-demo/{role}/{index}").as_bytes());
    SigningKey::from_bytes(seed.as_bytes())
}

/// A signer with its next nonce, fetched once from the node.
struct Actor {
    key: SigningKey,
    next_nonce: Option<u64>,
}

struct Demo {
    client: Client,
    operator: Actor,
    farmers: Vec<Actor>,
    users: Vec<Actor>,
    guardians: Vec<Actor>,
    /// Node keys by node id, with the time of the node's last uptime report and its boot time.
    nodes: BTreeMap<u32, (Actor, i64, i64)>,
    rejections: BTreeMap<String, u64>,
    accepted: u64,
    deposit_counter: u64,
    rng: StdRng,
    gold: Price,
    tft_usd_atto: u128,
}

enum Who {
    Operator,
    Farmer(usize),
    User(usize),
    Guardian(usize),
    Node(u32),
}

impl Demo {
    fn actor(&mut self, who: &Who) -> &mut Actor {
        match who {
            Who::Operator => &mut self.operator,
            Who::Farmer(i) => &mut self.farmers[*i],
            Who::User(i) => &mut self.users[*i],
            Who::Guardian(i) => &mut self.guardians[*i],
            Who::Node(id) => &mut self.nodes.get_mut(id).expect("known demo node").0,
        }
    }

    /// Signs and submits; a rejection is counted by code (the economy refusing things is part of the
    /// story), a transport failure aborts the demo.
    async fn send(&mut self, who: Who, command: Command) -> anyhow::Result<Option<Value>> {
        let client = self.client.clone();
        let actor = self.actor(&who);
        let nonce = match actor.next_nonce {
            Some(n) => n,
            None => client.next_nonce(&account_of(&actor.key)).await?,
        };
        let key = actor.key.clone();
        match client.submit(&key, nonce, command).await {
            Ok(ok) => {
                self.actor(&who).next_nonce = Some(nonce + 1);
                self.accepted += 1;
                Ok(Some(ok.events))
            }
            Err(ClientError::Api { code, .. }) => {
                self.actor(&who).next_nonce = Some(nonce);
                *self.rejections.entry(code).or_default() += 1;
                Ok(None)
            }
            Err(error) => Err(error).context("talking to the node"),
        }
    }

    async fn now(&self) -> anyhow::Result<i64> {
        self.client.get("/v1/status").await?["now"].as_i64().context("status without time")
    }

    /// The guardians' quorum (6 of 9) submits both prices.
    async fn submit_prices(&mut self, now: i64) -> anyhow::Result<()> {
        let tft = Price::from_atto(self.tft_usd_atto);
        let gold = self.gold;
        for g in 0..quorum() {
            let feed = PriceFeed::TftUsd;
            self.send(Who::Guardian(g), Command::SubmitPrice { feed, price: tft, observed_at: now }).await?;
            let feed = PriceFeed::GoldUsdPerOz;
            self.send(Who::Guardian(g), Command::SubmitPrice { feed, price: gold, observed_at: now }).await?;
        }
        Ok(())
    }

    /// Each node reports its uptime every 40 minutes from its last report up to `until` (in batches).
    async fn report_uptime(&mut self, until: i64) -> anyhow::Result<()> {
        let ids: Vec<u32> = self.nodes.keys().copied().collect();
        for id in ids {
            let (_, last, boot) = self.nodes[&id];
            let mut samples = Vec::new();
            let mut at = last + REPORT_EVERY_S;
            while at <= until {
                samples.push(tfeco_core::rewards::UptimeSample { at, uptime_s: (at - boot) as u64 });
                at += REPORT_EVERY_S;
            }
            for chunk in samples.chunks(500) {
                let reports = chunk.to_vec();
                self.send(Who::Node(id), Command::ReportUptime { node_id: NodeId(id), reports }).await?;
            }
            if let Some(sample) = samples.last() {
                self.nodes.get_mut(&id).expect("known").1 = sample.at;
            }
        }
        Ok(())
    }

    /// Guardians verify each unsigned minting report (re-computing its hash from the canonical JSON) and
    /// sign it until the threshold mints it.
    async fn sign_mint_reports(&mut self) -> anyhow::Result<()> {
        let reports = self.client.get("/v1/mint/reports").await?;
        for report in reports["reports"].as_array().cloned().unwrap_or_default() {
            if !report["minted_at"].is_null() {
                continue;
            }
            let period = report["period"].as_u64().context("period")? as u32;
            let full = self.client.get(&format!("/v1/mint/reports/{period}")).await?;
            let json = full["canonical_json"].as_str().context("canonical json")?;
            let hash = blake3::hash(json.as_bytes()).to_hex().to_string();
            for g in 0..quorum() {
                self.send(Who::Guardian(g), Command::SignMintReport { period, report_hash: hash.clone() })
                    .await?;
            }
        }
        Ok(())
    }

    async fn deposit_and_enter(
        &mut self,
        user: usize,
        tft_whole: i64,
        enter_whole: i64,
    ) -> anyhow::Result<()> {
        self.deposit_counter += 1;
        let to = account_of(&self.users[user].key);
        let external_tx_id = format!("demo-deposit-{}-{}", self.now().await?, self.deposit_counter);
        let amount = Amount::<Tft>::tokens(tft_whole).erase();
        // The bridge deposit executes once the guardians' threshold attested it.
        for g in 0..quorum() {
            let command = Command::AttestDeposit {
                asset: Asset::Tft,
                to,
                amount: Amount::from_units(amount.units),
                external_tx_id: external_tx_id.clone(),
            };
            self.send(Who::Guardian(g), command).await?;
        }
        self.send(Who::User(user), Command::EnterWithTft { tft: Amount::tokens(enter_whole) }).await?;
        Ok(())
    }

    async fn setup(&mut self, catalogue: &[tfeco_core::NodeModel]) -> anyhow::Result<()> {
        let now = self.now().await?;
        for g in 0..N_GUARDIANS {
            self.send(Who::Guardian(g), Command::RegisterAccount {}).await?;
        }
        self.submit_prices(now).await?;
        for i in 0..N_FARMERS {
            self.send(Who::Farmer(i), Command::RegisterAccount {}).await?;
            self.send(Who::Farmer(i), Command::RegisterFarm { name: format!("Demo Farm {:02}", i + 1) })
                .await?;
        }
        let farms = self.client.get("/v1/farms").await?;
        let farm_ids: BTreeMap<String, u32> = farms["farms"]
            .as_array()
            .context("farms list")?
            .iter()
            .filter_map(|f| Some((f["owner"].as_str()?.to_owned(), u32::try_from(f["id"].as_u64()?).ok()?)))
            .collect();
        for i in 0..N_FARMERS {
            let owner = account_of(&self.farmers[i].key).to_string();
            let farm_id = FarmId(*farm_ids.get(&owner).context("farm of a demo farmer")?);
            let n_nodes = if i % 2 == 0 { 2 } else { 1 };
            for k in 0..n_nodes {
                let model = &catalogue[(i + 3 * k) % catalogue.len()];
                let spec = NodeSpec::Model { model: model.name.clone() };
                let Some(events) = self
                    .send(Who::Farmer(i), Command::RegisterNode { farm_id, spec, offered_slices: None })
                    .await?
                else {
                    continue;
                };
                let node_id = events[0]["node_id"].as_u64().context("node id")?;
                // A price inside the band: min + (max - min) * step / 10, with step 0..4 by farmer.
                let (lo, hi) = (model.slice_price_min_month.units(), model.slice_price_max_month.units());
                let price = Amount::<Cc>::from_units(lo + (hi - lo) * ((i + k) % 5) as i128 / 10);
                let node_id = NodeId(u32::try_from(node_id)?);
                self.send(Who::Farmer(i), Command::SetSlicePrice { node_id, price }).await?;
                // The node's own key signs its uptime reports.
                self.nodes.insert(
                    node_id.0,
                    (Actor { key: demo_key("node", node_id.0 as usize), next_nonce: None }, now, now),
                );
                self.send(Who::Node(node_id.0), Command::RegisterAccount {}).await?;
                let node_key = account_of(&self.nodes[&node_id.0].0.key);
                self.send(Who::Farmer(i), Command::SetNodeKey { node_id, node_key }).await?;
            }
        }
        for j in 0..N_USERS {
            self.send(Who::User(j), Command::RegisterAccount {}).await?;
            let tft = 2_000 + 1_000 * (j as i64 % 10);
            let enter = tft * (6 + (j as i64 % 4)) / 10;
            self.deposit_and_enter(j, tft, enter).await?;
        }
        Ok(())
    }

    /// Opens a lease for `user` on a node with free slices that it can pay for a few periods.
    async fn open_some_lease(&mut self, user: usize) -> anyhow::Result<()> {
        let nodes = self.client.get("/v1/nodes").await?;
        let balance = self.client.get(&format!("/v1/accounts/{}", account_of(&self.users[user].key))).await?;
        let cc: Amount<Cc> =
            balance["balances"]["CC"].as_str().unwrap_or("0").parse().unwrap_or(Amount::ZERO);
        let candidates: Vec<(u32, Amount<Cc>)> = nodes["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter(|n| n["free_slices"].as_u64().unwrap_or(0) > 0)
                    .filter_map(|n| {
                        let price: Amount<Cc> = n["price_month"].as_str()?.parse().ok()?;
                        Some((u32::try_from(n["id"].as_u64()?).ok()?, price))
                    })
                    .filter(|(_, price)| price.units() * 2 <= cc.units())
                    .collect()
            })
            .unwrap_or_default();
        if candidates.is_empty() {
            return Ok(());
        }
        let (node, _) = candidates[self.rng.gen_range(0..candidates.len())];
        let billing = if self.rng.gen_bool(0.4) { Billing::Hourly } else { Billing::Monthly };
        let n_slices = if self.rng.gen_bool(0.2) { 2 } else { 1 };
        let periods = if self.rng.gen_bool(0.3) { Some(self.rng.gen_range(1..=3) * 24) } else { None };
        let periods = if billing == Billing::Monthly { periods.map(|_| 1) } else { periods };
        self.send(Who::User(user), Command::OpenLease { node_id: NodeId(node), n_slices, billing, periods })
            .await?;
        Ok(())
    }

    async fn play_month(&mut self, month: i64) -> anyhow::Result<()> {
        let month_start = START + month * MONTH_DAYS * DAY;
        for user in 0..N_USERS {
            if self.rng.gen_bool(if month == 0 { 0.9 } else { 0.3 }) {
                self.open_some_lease(user).await?;
            }
        }
        for day in 1..=MONTH_DAYS {
            let now = month_start + day * DAY;
            // TFT drifts by up to ±2% a day around 0.01 USD (deterministic; the clamp of the oracle applies).
            let drift = self.rng.gen_range(-200i64..=200);
            let next = (self.tft_usd_atto as i128) * (10_000 + drift as i128) / 10_000;
            self.tft_usd_atto = u128::try_from(next.clamp(5_000_000_000_000_000, 20_000_000_000_000_000))?;
            // When a minting period closes today, tick just after its end first so the nodes can report
            // the period's last hours before the close.
            let period = tfeco_core::minting::period_of(now - DAY).unwrap_or(0);
            let end = tfeco_core::minting::period_end(period);
            if end > now - DAY && end + 2_460 <= now {
                self.send(Who::Operator, Command::Tick { now: end }).await?;
                self.report_uptime(end).await?;
            }
            self.send(Who::Operator, Command::Tick { now }).await?;
            self.report_uptime(now).await?;
            self.submit_prices(now).await?;
            self.sign_mint_reports().await?;
            for _ in 0..2 {
                let user = self.rng.gen_range(0..N_USERS);
                if self.rng.gen_bool(0.5) {
                    let tft = self.rng.gen_range(5..=20) * 100;
                    self.deposit_and_enter(user, tft, tft).await?;
                } else {
                    self.open_some_lease(user).await?;
                }
            }
            if day % 7 == 0 {
                let user = self.rng.gen_range(0..N_USERS);
                let leases = self
                    .client
                    .get(&format!("/v1/leases?tenant={}&open=true", account_of(&self.users[user].key)))
                    .await?;
                if let Some(id) =
                    leases["leases"].as_array().and_then(|l| l.first()).and_then(|l| l["id"].as_u64())
                {
                    self.send(Who::User(user), Command::CancelLease { lease_id: LeaseId(id) }).await?;
                }
            }
        }
        Ok(())
    }
}

/// Signatures needed by the demo's guardian set: ceil(2 * 9 / 3) = 6.
fn quorum() -> usize {
    (2 * N_GUARDIANS).div_ceil(3)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("?").to_owned()
}

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let catalogue = crate::data::catalogue()?;
    let (gold_month, gold) = crate::data::latest_gold()?;
    let guardians: Vec<SigningKey> = (0..N_GUARDIANS).map(|g| demo_key("guardian", g)).collect();
    let guardian_keys: Vec<tfeco_core::AccountKey> = guardians.iter().map(account_of).collect();
    let (node, report, operator) = crate::serve::open(
        &args.data_dir,
        START,
        || demo_key("operator", 0),
        |params| {
            params.guardians = guardian_keys;
        },
    )?;
    let resumed = report.entries > 0;
    let listen = args.listen.clone().unwrap_or_else(|| {
        if args.no_serve {
            "127.0.0.1:0".to_owned()
        } else {
            "127.0.0.1:8080".to_owned()
        }
    });
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
    let config = ServerConfig { clock: ClockMode::Manual, ..ServerConfig::default() };
    let server = tfeco_server::start(node, listener, config).await?;
    let client = Client::new(&format!("http://{}", server.addr));
    let now = client.get("/v1/status").await?["now"].as_i64().context("status")?;
    let month = (now - START).max(0) / (MONTH_DAYS * DAY);
    let mut demo = Demo {
        client: client.clone(),
        operator: Actor { key: operator, next_nonce: None },
        farmers: (0..N_FARMERS).map(|i| Actor { key: demo_key("farmer", i), next_nonce: None }).collect(),
        users: (0..N_USERS).map(|i| Actor { key: demo_key("user", i), next_nonce: None }).collect(),
        guardians: guardians.into_iter().map(|key| Actor { key, next_nonce: None }).collect(),
        nodes: BTreeMap::new(),
        rejections: BTreeMap::new(),
        accepted: 0,
        deposit_counter: 0,
        rng: StdRng::seed_from_u64(0x7f6_2025 + month as u64),
        gold,
        tft_usd_atto: 10_000_000_000_000_000,
    };
    if !args.json {
        eprintln!(
            "{} the demo in {} (month {}) on http://{} ...",
            if resumed { "resuming" } else { "starting" },
            args.data_dir.display(),
            month + 1,
            server.addr
        );
    }
    let farms = client.get("/v1/farms").await?;
    if farms["farms"].as_array().is_none_or(|f| f.is_empty()) {
        demo.setup(&catalogue).await?;
    } else {
        // Resume: the nodes' keys are derived from their ids; their last report is the state's time.
        let nodes = client.get("/v1/nodes").await?;
        for node in nodes["nodes"].as_array().cloned().unwrap_or_default() {
            let id = node["id"].as_u64().context("node id")? as u32;
            demo.nodes
                .insert(id, (Actor { key: demo_key("node", id as usize), next_nonce: None }, now, START));
        }
    }
    demo.play_month(month).await?;

    let summary =
        summary(server.app.node.clone(), &demo, &client, &args, &gold_month, month, resumed).await?;
    if args.json {
        println!("{summary}");
    } else {
        print_summary(&summary);
    }
    let ok =
        summary["invariants_ok"].as_bool() == Some(true) && summary["replay_matches"].as_bool() == Some(true);
    if args.no_serve {
        server.stop().await?;
    } else {
        eprintln!(
            "\nserving on http://{}: explore with e.g. `curl http://{}/v1/supply` or \
             `tfeco wallet --url http://{} nodes`; Ctrl-C to stop.",
            server.addr, server.addr, server.addr
        );
        server.run_until_stopped().await?;
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

async fn summary(
    node: std::sync::Arc<parking_lot::RwLock<tfeco_server::Node>>,
    demo: &Demo,
    client: &Client,
    args: &DemoArgs,
    gold_month: &str,
    month: i64,
    resumed: bool,
) -> anyhow::Result<Value> {
    let status = client.get("/v1/status").await?;
    let supply = client.get("/v1/supply").await?;
    let system = client.get("/v1/system-accounts").await?;
    let prices = client.get("/v1/prices").await?;
    let leases = client.get("/v1/leases").await?;
    let mint_reports = client.get("/v1/mint/reports").await.unwrap_or(Value::Null);
    let mut farmers = Vec::new();
    for (i, farmer) in demo.farmers.iter().enumerate() {
        let account = account_of(&farmer.key);
        let record = client.get(&format!("/v1/accounts/{account}")).await?;
        farmers.push(json!({ "farmer": i + 1, "account": account, "revenue_cc": record["revenue_cc"] }));
    }
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for lease in leases["leases"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let key = match lease["closed"]["reason"].as_str() {
            Some(reason) => format!("closed_{reason}"),
            None => lease["status"]["status"].as_str().unwrap_or("open").to_owned(),
        };
        *by_status.entry(key).or_default() += 1;
    }
    // Replay the journal from scratch next to the live node: the hashes must match.
    let live_hash = status["state_hash"].as_str().unwrap_or_default().to_owned();
    let replay = tokio::task::spawn_blocking(move || node.read().replay_hash()).await?;
    let (replay_hash, replay_ok) = match replay {
        Ok(hash) => (hash, true),
        Err(error) => (format!("replay failed: {error}"), false),
    };
    Ok(json!({
        "month_played": month + 1,
        "resumed": resumed,
        "virtual_time": status["now"],
        "entries": status["seq"],
        "state_hash": live_hash,
        "invariants_ok": status["invariants_ok"].as_bool() == Some(true) && replay_ok,
        "replay_state_hash": replay_hash,
        "replay_matches": replay_hash == live_hash,
        "commands_accepted": demo.accepted,
        "commands_rejected": demo.rejections,
        "cc_minted": supply["assets"]["CC"]["minted"],
        "cc_burned": supply["assets"]["CC"]["burned"],
        "tft_locked_in_vault": supply["vault_tft"],
        "tft_burned": supply["assets"]["TFT"]["burned"],
        "tft_global_supply": supply["tft_global_supply"],
        "treasury_cc": system["treasury"]["CC"],
        "burn_owed_tft": supply["burn_owed_tft"],
        "revenue_per_farmer": farmers,
        "leases": by_status,
        "prices": prices["current"],
        "minting_reports": mint_reports["reports"],
        "tft_rewards_minted": supply["assets"]["TFT"]["minted"],
        "vesting_locked_tft": system["vesting.locked"]["TFT"],
        "assumptions": {
            "tft_usd": "0.01 with a deterministic daily drift of up to ±2%",
            "gold_usd_per_oz": format!("{} ({gold_month}, latest row of the series)", demo.gold),
            "entry_tft_per_cc": "2",
            "revenue_split": "farmer 80% / burn 10% / treasury 10%",
        },
        "data_dir": args.data_dir,
    }))
}

fn print_summary(summary: &Value) {
    println!(
        "TFGrid Economy demo: month {} played{}",
        summary["month_played"],
        if summary["resumed"] == true { " (resumed)" } else { "" }
    );
    println!("  journal entries      {}", summary["entries"]);
    println!("  state hash           {}", text(&summary["state_hash"]));
    println!(
        "  replay from scratch  {}",
        if summary["replay_matches"] == true { "same hash" } else { "MISMATCH" }
    );
    println!("  invariants           {}", if summary["invariants_ok"] == true { "OK" } else { "VIOLATED" });
    println!(
        "  commands             {} accepted, rejected by code {}",
        summary["commands_accepted"], summary["commands_rejected"]
    );
    println!("  CC minted            {}", text(&summary["cc_minted"]));
    println!("  CC burned            {}", text(&summary["cc_burned"]));
    println!("  TFT locked (vault)   {}", text(&summary["tft_locked_in_vault"]));
    println!("  TFT burned           {}", text(&summary["tft_burned"]));
    println!("  treasury             {} CC", text(&summary["treasury_cc"]));
    println!("  leases               {}", summary["leases"]);
    println!("  prices               {}", summary["prices"]);
    for report in summary["minting_reports"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!(
            "  minting period {}     {} nodes, {} TFT, hash {}…, signed {}, {}",
            report["period"],
            report["nodes"],
            text(&report["total"]),
            &text(&report["hash"]).chars().take(16).collect::<String>(),
            report["signatures"],
            if report["minted_at"].is_null() { "pending" } else { "minted into vesting" }
        );
    }
    println!("  TFT locked (vesting) {}", text(&summary["vesting_locked_tft"]));
    println!("  revenue per farmer (CC):");
    for farmer in summary["revenue_per_farmer"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!(
            "    farmer {:>2}  {:>14}  {}",
            farmer["farmer"],
            text(&farmer["revenue_cc"]),
            text(&farmer["account"])
        );
    }
}
