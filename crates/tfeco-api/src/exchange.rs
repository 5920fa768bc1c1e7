//! The in-wallet exchange: frequent batch auctions of sealed, prefunded limit orders
//! (`GET /v1/exchange/*`). Orders are sealed: nobody else's order is shown before its batch clears, only
//! counts; each owner reads its own orders and fills through signed reads. Prices are quote per whole
//! base token.

use serde::{Deserialize, Serialize};
use tfeco_core::Side;
use tfeco_core::{AccountKey, MarketId, OrderId};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Price};
use utoipa::{IntoParams, ToSchema};

/// Published batches one call returns by default.
pub const DEFAULT_BATCH_LIMIT: u32 = 20;
/// Most published batches one call returns (the node keeps 100 per market).
pub const MAX_BATCH_LIMIT: u32 = 100;

/// Open orders per side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SideCounts {
    /// Buy orders.
    pub buy: usize,
    /// Sell orders.
    pub sell: usize,
}

/// A market: its rules, current batch and schedule, last price and open order counts (no orders).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExchangeMarketView {
    /// Id.
    pub id: MarketId,
    /// The asset traded.
    pub base: Asset,
    /// The asset paid.
    pub quote: Asset,
    /// Seconds between clears.
    pub batch_interval_s: i64,
    /// Seconds before a clear during which only price improvements are accepted.
    pub lock_window_s: i64,
    /// Orders one account may place per batch.
    pub max_orders_per_account_per_batch: u32,
    /// Smallest order, base tokens.
    pub min_order_base: Amount<AnyAsset>,
    /// Fee on fills.
    pub fee_bps: Bps,
    /// Only verified accounts may trade.
    pub identity_required: bool,
    /// Batches an order lives by default.
    pub default_order_batches: u32,
    /// The current batch.
    pub batch: u64,
    /// When it clears (`null`: the book starts with its first order or tick).
    pub next_clear_at: Option<i64>,
    /// When its lock window starts.
    pub lock_window_starts_at: Option<i64>,
    /// Whether the lock window is on now.
    pub in_lock_window: bool,
    /// The last clearing price.
    pub last_price: Option<Price>,
    /// Open orders per side as of the last clear (sealed: placing, amending or cancelling changes nothing here).
    pub open_orders: SideCounts,
    /// Batches the node keeps.
    pub batches_published: usize,
}

/// `GET /v1/exchange/markets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExchangeMarketsView {
    /// The state's time.
    pub now: i64,
    /// Markets, by id.
    pub markets: Vec<ExchangeMarketView>,
}

/// Resting depth at one price after a clear, base tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepthLevel {
    /// The price.
    pub price: Price,
    /// Buy quantity resting.
    pub buy: Amount<AnyAsset>,
    /// Sell quantity resting.
    pub sell: Amount<AnyAsset>,
}

/// `GET /v1/exchange/markets/{id}/batches` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchesQuery {
    /// Most batches, newest first (1 to 100; default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A published batch, without its fills (each owner reads its own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchView {
    /// The market.
    pub market_id: MarketId,
    /// The batch.
    pub batch: u64,
    /// When it cleared.
    pub cleared_at: i64,
    /// Clearing price (`null`: nothing crossed).
    pub price: Option<Price>,
    /// Base tokens traded.
    pub volume: Amount<AnyAsset>,
    /// Unfilled quantity at the clearing price.
    pub imbalance: Amount<AnyAsset>,
    /// Orders in the batch.
    pub orders: u32,
    /// Orders filled (fully or partly).
    pub filled_orders: usize,
    /// Resting depth after the clear.
    pub depth: Vec<DepthLevel>,
}

/// `GET /v1/exchange/markets/{id}/batches`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchesView {
    /// The market.
    pub market_id: MarketId,
    /// Batches, newest first.
    pub batches: Vec<BatchView>,
}

/// `GET /v1/exchange/markets/{id}/depth`: the depth after the latest clear (all `null` and no levels
/// before the first clear).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepthView {
    /// The market.
    pub market_id: MarketId,
    /// The latest batch.
    pub batch: Option<u64>,
    /// When it cleared.
    pub cleared_at: Option<i64>,
    /// Its clearing price.
    pub price: Option<Price>,
    /// Resting depth.
    pub levels: Vec<DepthLevel>,
}

/// One of the reader's open orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnOrderView {
    /// Id.
    pub id: OrderId,
    /// The market.
    pub market_id: MarketId,
    /// Owner (the reader).
    pub owner: AccountKey,
    /// Side.
    pub side: Side,
    /// Base tokens still wanted.
    pub quantity: Amount<AnyAsset>,
    /// Limit price.
    pub limit_price: Price,
    /// Escrow held (quote for a buy, base for a sell).
    pub escrow: Amount<AnyAsset>,
    /// The batch it was placed in.
    pub placed_in_batch: u64,
    /// The last batch it takes part in.
    pub expires_after_batch: u64,
    /// When the market clears next.
    pub next_clear_at: i64,
    /// Whether the lock window is on (only price improvements accepted).
    pub locked: bool,
}

/// `GET /v1/exchange/orders` (signed read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnOrdersView {
    /// The reader.
    pub account: AccountKey,
    /// The state's time.
    pub now: i64,
    /// Open orders, by market and id.
    pub orders: Vec<OwnOrderView>,
}

/// One of the reader's fills.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnFillView {
    /// The market.
    pub market_id: MarketId,
    /// The batch.
    pub batch: u64,
    /// When it cleared.
    pub cleared_at: i64,
    /// Clearing price.
    pub price: Option<Price>,
    /// The order.
    pub order_id: OrderId,
    /// Side.
    pub side: Side,
    /// Base tokens filled.
    pub filled: Amount<AnyAsset>,
    /// Quote paid (buy) or received (sell).
    pub quote: Amount<AnyAsset>,
    /// Fee paid.
    pub fee: Amount<AnyAsset>,
}

/// `GET /v1/exchange/fills` (signed read): the reader's fills in the batches the node keeps, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnFillsView {
    /// The reader.
    pub account: AccountKey,
    /// Fills.
    pub fills: Vec<OwnFillView>,
}
