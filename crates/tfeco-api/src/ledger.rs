//! Node status, supply, oracle prices, the node catalogue, accounts and system accounts
//! (`GET /v1/status`, `/v1/supply`, `/v1/prices`, `/v1/catalogue`, `/v1/accounts/{key}`,
//! `/v1/system-accounts`). Amounts are decimal strings (7 decimals), prices decimal strings (USD per token).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tfeco_core::{AccountKey, LeaseId, PriceFeed, Resources};
use tfeco_money::{Amount, AnyAsset, Cc, Price, Tfp, Tft};
use utoipa::ToSchema;

/// One value per asset: `{"TFT": ..., "TFP": ..., "CC": ..., "USDC": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerAsset<T> {
    /// ThreeFold Token.
    #[serde(rename = "TFT")]
    pub tft: T,
    /// Marketplace TFT.
    #[serde(rename = "TFP")]
    pub tfp: T,
    /// Cloud Credit.
    #[serde(rename = "CC")]
    pub cc: T,
    /// USD Coin.
    #[serde(rename = "USDC")]
    pub usdc: T,
}

impl<T> PerAsset<T> {
    /// From values in `tfeco_money::Asset::ALL` order (TFT, TFP, CC, USDC).
    pub fn from_array([tft, tfp, cc, usdc]: [T; 4]) -> Self {
        PerAsset { tft, tfp, cc, usdc }
    }
}

/// `GET /v1/status`: the journal head, time and state hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    /// Sequence number of the last journaled entry.
    pub seq: u64,
    /// The state's time, unix seconds.
    pub now: i64,
    /// Commands applied since genesis.
    pub commands_applied: u64,
    /// blake3 of the state's canonical encoding, hex.
    pub state_hash: String,
    /// Whether every invariant holds.
    pub invariants_ok: bool,
    /// Name of the parameter set of the genesis (e.g. `tfgrid4-2025`).
    pub parameter_set: String,
    /// The operator's account.
    pub operator: AccountKey,
    /// `true` for a single-key development node (decisions §12: its genesis may have fewer guardians than
    /// a production node needs).
    #[serde(default)]
    pub dev_mode: bool,
    /// `primary`: this node writes the journal; `follower`: it replays a primary's journal (`tfeco follow`)
    /// and serves reads from its own copy.
    #[serde(default)]
    pub role: NodeRole,
    /// A follower's primary (its base URL); absent on a primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// A follower's lag: journal entries the primary has that this follower has not applied yet (as of the
    /// primary's last word on the stream); absent on a primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_entries: Option<u64>,
    /// A follower's lag in seconds: 0 when caught up, else the commit time of the primary's head minus that
    /// of this follower's head (millisecond precision); absent on a primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
}

/// The role of a node in `GET /v1/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// The node that writes the journal (`tfeco serve`).
    #[default]
    Primary,
    /// A read-only node that follows a primary's journal (`tfeco follow`); writes are redirected.
    Follower,
}

/// The flows of one asset since genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetSupply {
    /// Sum of all balances.
    pub supply: Amount<AnyAsset>,
    /// Attested deposits.
    pub deposited: Amount<AnyAsset>,
    /// Minted.
    pub minted: Amount<AnyAsset>,
    /// Withdrawn.
    pub withdrawn: Amount<AnyAsset>,
    /// Burned.
    pub burned: Amount<AnyAsset>,
}

/// `GET /v1/supply`: supply and flows per asset, the vault, burns and the invariants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupplyView {
    /// Supply and flows per asset.
    pub assets: PerAsset<AssetSupply>,
    /// TFT in existence on this ledger and bridged out (checked against the cap).
    pub tft_global_supply: Amount<Tft>,
    /// The TFT supply cap.
    pub tft_supply_cap: Amount<Tft>,
    /// TFT locked in the vault (backs TFP one to one).
    pub vault_tft: Amount<Tft>,
    /// TFP supply.
    pub tfp_supply: Amount<Tfp>,
    /// CC waiting to be burned.
    pub burn_pending_cc: Amount<Cc>,
    /// TFT owed to the burn.
    pub burn_owed_tft: Amount<Tft>,
    /// Whether every invariant holds.
    pub invariants_ok: bool,
    /// The first invariant that does not hold, if any.
    pub invariant_error: Option<String>,
}

/// The effective prices now (`valid: true`), or why there are none (`valid: false` and `reason`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CurrentPrices {
    /// Whether the oracle has a valid price for both feeds.
    pub valid: bool,
    /// TFT in USD (clamped), when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tft_usd: Option<Price>,
    /// Gold in USD per troy ounce, when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_usd_per_oz: Option<Price>,
    /// CC in USD (0.001 g of gold), rounded to 8 decimals, when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc_usd: Option<String>,
    /// Why there is no valid price, when not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One oracle's latest submission for one feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceSubmission {
    /// The feed.
    pub feed: PriceFeed,
    /// The submitting guardian.
    pub submitter: AccountKey,
    /// The price (USD per TFT, or USD per troy ounce of gold).
    pub price: Price,
    /// When it was observed, unix seconds.
    pub observed_at: i64,
}

/// `GET /v1/prices`: the effective prices and every oracle's latest submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PricesView {
    /// The state's time, unix seconds.
    pub now: i64,
    /// The effective prices.
    pub current: CurrentPrices,
    /// Latest submission per feed and guardian.
    pub submissions: Vec<PriceSubmission>,
}

/// A node model of the catalogue with its slice price band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogueModel {
    /// Model name (e.g. `Mini 3`).
    pub model: String,
    /// Category.
    pub category: String,
    /// Certified hardware.
    pub certified: bool,
    /// Hardware cost, USD.
    pub capex_usd: u32,
    /// Whole-node resources.
    pub resources: Resources,
    /// Most slices the node can be cut into.
    pub max_slices: u32,
    /// Slices a typical node offers.
    pub typical_slices: u32,
    /// Band minimum, CC per slice-month.
    pub slice_price_min_month: Amount<Cc>,
    /// Band maximum, CC per slice-month.
    pub slice_price_max_month: Amount<Cc>,
    /// Hourly charge of one slice at the band minimum (`null` on overflow).
    pub slice_price_min_hour: Option<Amount<Cc>>,
    /// Hourly charge of one slice at the band maximum (`null` on overflow).
    pub slice_price_max_hour: Option<Amount<Cc>>,
}

/// `GET /v1/catalogue`: the node models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogueView {
    /// Models, in catalogue order.
    pub models: Vec<CatalogueModel>,
}

/// `GET /v1/accounts/{key}`: balances, nonce and open leases of a registered account.
///
/// Sealed orders stay sealed (decisions §13): `balances` is the account's total per asset, free plus held
/// in its open exchange orders, so placing, amending or cancelling an order changes nothing here. The split
/// (`free`, `escrowed`) is given only to the owner, on a signed read of this path by the account itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// The account.
    pub account: AccountKey,
    /// When it registered, unix seconds.
    pub registered_at: i64,
    /// The last nonce it used (0: none).
    pub last_nonce: u64,
    /// The nonce its next request must use at least.
    pub next_nonce: u64,
    /// Total per asset: free plus escrowed in the account's open exchange orders.
    pub balances: PerAsset<Amount<AnyAsset>>,
    /// Free (spendable) per asset; only on the owner's signed read, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<PerAsset<Amount<AnyAsset>>>,
    /// Held in the account's open exchange orders per asset; only on the owner's signed read, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrowed: Option<PerAsset<Amount<AnyAsset>>>,
    /// CC earned as revenue (convertible to TFP).
    pub revenue_cc: Amount<Cc>,
    /// Ids of its leases that are not closed.
    pub open_leases: Vec<LeaseId>,
}

/// `GET /v1/system-accounts`: balances of each system account (vault, pool2.reserve, treasury, ...), by name.
/// `escrow.orders` is shown as of each market's last clear (sealed orders, decisions §13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct SystemAccountsView(pub BTreeMap<String, PerAsset<Amount<AnyAsset>>>);
