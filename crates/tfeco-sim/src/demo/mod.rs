//! The demo scenario: one month of the TFGrid economy on real data, through the real HTTP API with signed
//! requests, exercising every mechanism. Farmers register nodes of catalogue models and price them inside
//! the bands, some of them inside a farming pool whose owner sets their prices; users bring TFT (attested
//! deposits by the guardians), enter Cloud Credits and lease capacity hourly or monthly, or post capacity
//! requests (reverse auctions) that farmers offer on; the operator posts the seed bid tiers (standing bids)
//! that farmers fill; traders cross TFT/USDC orders on the exchange; liquidity providers lock TFP into exit
//! positions and bid in the weekly exit rounds of a USDC-funded exit pool; farmers convert revenue CC to TFP
//! (Pool 2); nodes report uptime; guardians submit prices and sign minting reports; the operator's `Tick`
//! moves a virtual clock one day at a time (never more), which bills the leases, splits and burns revenue,
//! clears the exchange's batches, closes capacity requests and exit rounds. A second run on the same node
//! plays the next month.
//!
//! Assumptions (stated in the summary): TFT at 0.01 USD with a small deterministic daily drift; gold from the
//! latest row of the embedded series; keys derived from fixed public seeds (so runs are reproducible and the
//! operator key of a demo node is public: never use a demo directory for real value).
//!
//! The binary opens the node with [`START`], [`operator_key`] and [`configure`], serves it, and hands its URL
//! to [`Demo::connect`]; then [`Demo::play`] and [`Demo::summary`].

mod agents;
mod exit;
mod markets;
mod month;
mod render;
mod sections;
mod summary;

use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tfeco_core::{NodeModel, Params};
use tfeco_money::Price;
use tfeco_wallet::client::account_of;

use self::agents::Agents;
use crate::driver::HttpDriver;
use crate::Result;

pub use self::render::render_summary;
pub use self::sections::{
    Activity, Burns, CapacitySection, ExchangeSection, ExitSection, FarmingPoolLine, FarmingPoolsSection,
    Flows, MintingSection, StandingBidsSection,
};
pub use self::summary::{Assumptions, CheckpointSection, FarmerRevenue, Summary, SummaryContext};

/// 2025-11-01T00:00:00Z: the demo's virtual clock starts here (unix seconds).
pub const START: i64 = 1_761_955_200;
/// One day, seconds.
const DAY: i64 = 86_400;
/// Days in a demo month.
const MONTH_DAYS: i64 = 30;
/// Farmers (each with one or two nodes).
const N_FARMERS: usize = 10;
/// Users (tenants).
const N_USERS: usize = 50;
/// Guardians (the bridge, the oracle and minting sign at their threshold).
const N_GUARDIANS: usize = 9;
/// Traders on the TFT/USDC exchange.
const N_TRADERS: usize = 4;
/// Liquidity providers of the exit pool.
const N_LPS: usize = 3;
/// Seed of the agents' choices; month `m` plays with `SEED + m`.
const SEED: u64 = 0x7f6_2025;
/// The starting TFT price, USD in 10^-18 (0.01 USD).
const TFT_USD_ATTO: u128 = 10_000_000_000_000_000;
/// Namespace of the demo's key seeds.
const KEY_NAMESPACE: &str = "tfeco-demo";

/// The operator's key of a demo node (from a public seed).
pub fn operator_key() -> SigningKey {
    crate::keys::seeded_key(KEY_NAMESPACE, "operator", 0)
}

/// The demo's guardian keys (from public seeds), in the order of the genesis guardians: the binary keeps
/// them in the demo's data directory as a marked development quorum (`dev-guardians.json`).
pub fn guardian_keys() -> Vec<SigningKey> {
    (0..N_GUARDIANS).map(agents::guardian_key).collect()
}

/// The demo's changes to the genesis parameters: its nine guardians.
pub fn configure(params: &mut Params) {
    params.guardians = (0..N_GUARDIANS).map(|g| account_of(&agents::guardian_key(g))).collect();
}

/// A demo in progress against one node.
pub struct Demo {
    driver: HttpDriver,
    agents: Agents,
    catalogue: Vec<NodeModel>,
    /// The month played, 0 for the first.
    month: i64,
    /// Signatures the guardians give for anything at their threshold.
    quorum: usize,
    deposits: u64,
    rng: StdRng,
    gold: Price,
    gold_month: String,
    tft_usd_atto: u128,
    /// The node's figures when this run started (the month's figures are the differences).
    baseline: Option<summary::Baseline>,
    /// What the agents did this run.
    activity: Activity,
}

impl Demo {
    /// Connects to the demo node at `url` (opened with [`START`], [`operator_key`] and [`configure`]) and
    /// picks the month to play from the node's time.
    pub async fn connect(url: &str, operator: SigningKey) -> Result<Demo> {
        let (gold_month, gold) = crate::data::latest_gold()?;
        let mut params = Params::tfgrid4_2025(account_of(&operator));
        configure(&mut params);
        let driver = HttpDriver::new(url);
        let now = driver.now().await?;
        let month = (now - START).max(0) / (MONTH_DAYS * DAY);
        Ok(Demo {
            driver,
            agents: Agents::new(operator),
            catalogue: tfeco_core::catalogue_q4_2025(),
            month,
            quorum: params.guardian_threshold() as usize,
            deposits: 0,
            rng: StdRng::seed_from_u64(SEED + month as u64),
            gold,
            gold_month,
            tft_usd_atto: TFT_USD_ATTO,
            baseline: None,
            activity: Activity::default(),
        })
    }

    /// The month this run plays, 1 for the first.
    pub fn month_number(&self) -> i64 {
        self.month + 1
    }

    /// Sets the economy up on a fresh node (or finds the nodes of a resumed one), then plays the month.
    /// Errors: the node unreachable, or an answer the scenario cannot read.
    pub async fn play(&mut self) -> Result<()> {
        self.baseline = Some(self.baseline().await?);
        if self.driver.client().farms().await?.farms.is_empty() {
            self.setup().await?;
        } else {
            self.resume().await?;
        }
        self.play_month().await
    }

    /// The first second of the month this run plays and the last.
    fn month_window(&self) -> (i64, i64) {
        let start = START + self.month * MONTH_DAYS * DAY;
        (start, start + MONTH_DAYS * DAY)
    }
}
