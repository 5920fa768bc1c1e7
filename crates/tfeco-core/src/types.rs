//! The shared vocabulary: values that commands, events, rejections, rules and several slices all speak
//! (price feeds, billing modes, node specs and records, capacity requirements and shortfalls, farming-pool
//! rules, uptime samples, exchange sides and market specs, roles). Plain data: no state, no rules beyond
//! self-contained checks on the value itself.

use std::fmt;

use serde::de::{Error as _, SeqAccess};
use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Bps, Cc};

use crate::catalogue::Resources;
use crate::ids::{FarmId, MarketId, NodeId};

/// An oracle price feed (spec `decisions.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceFeed {
    /// TFT price in USD per TFT.
    TftUsd,
    /// Gold price in USD per troy ounce (the CC peg: 0.001 g of gold).
    GoldUsdPerOz,
}

impl PriceFeed {
    /// Both feeds, in canonical order.
    pub const ALL: [PriceFeed; 2] = [PriceFeed::TftUsd, PriceFeed::GoldUsdPerOz];

    /// Stable name: `tft_usd` or `gold_usd_per_oz`.
    pub fn name(self) -> &'static str {
        match self {
            PriceFeed::TftUsd => "tft_usd",
            PriceFeed::GoldUsdPerOz => "gold_usd_per_oz",
        }
    }
}

/// A role that some commands need (spec `decisions.md` §2, §12). One key may hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the node: submits `Tick`, verifies identities for the exchange.
    Operator,
    /// A member of the guardian set: attestations, oracle prices, minting reports, parameter changes.
    Guardian,
    /// A payment processor key allowed to attest fiat entries.
    PaymentKey,
}

impl Role {
    /// Stable name: `operator`, `guardian`, `payment_key`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Guardian => "guardian",
            Role::PaymentKey => "payment_key",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a lease is billed (spec `decisions.md` §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// One-hour periods at the hourly price (monthly price / 720 × premium).
    Hourly,
    /// 720-hour periods at the listed monthly price; not refundable.
    Monthly,
}

/// What a node is: a catalogue model or custom resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NodeSpec {
    /// A model of the catalogue, by exact name (e.g. `"Mini 3"`).
    Model {
        /// The model name.
        model: String,
    },
    /// Custom hardware: resources and the number of slices it is cut into. Never certified.
    Custom {
        /// Whole-node resources.
        resources: Resources,
        /// Slices the node is cut into (per-slice resources = resources / slices).
        slices: u32,
    },
}

/// A node offering slices in the capacity market (spec `decisions.md` §9). Owned by the capacity-market
/// slice; a plain record here because the pure search rules read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    /// Id.
    pub id: NodeId,
    /// Farm.
    pub farm_id: FarmId,
    /// Catalogue model name, or `None` for custom hardware.
    pub model: Option<String>,
    /// Certified hardware (catalogue models only).
    pub certified: bool,
    /// Whole-node resources.
    pub resources: Resources,
    /// Slices the node is cut into (per-slice resources = resources / slices).
    pub slices: u32,
    /// Slices offered for lease (at most `slices`).
    pub offered_slices: u32,
    /// Slices currently under open leases.
    pub leased_slices: u32,
    /// Band minimum, CC per slice-month.
    pub band_min: Amount<Cc>,
    /// Band maximum, CC per slice-month.
    pub band_max: Amount<Cc>,
    /// The listed price, CC per slice-month (`None` until the farmer sets one).
    pub price: Option<Amount<Cc>>,
    /// Registration time.
    pub registered_at: i64,
}

impl Node {
    /// Slices free to lease (`offered - leased`; never negative: the slice invariant keeps leased <= offered).
    pub fn free_slices(&self) -> u32 {
        self.offered_slices.saturating_sub(self.leased_slices)
    }

    /// `true` when `price` lies inside the node's band (spec §9, inclusive).
    pub fn in_band(&self, price: Amount<Cc>) -> bool {
        price >= self.band_min && price <= self.band_max
    }
}

/// Why a lease closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The tenant cancelled; the lease ran to the end of its paid period.
    Cancelled,
    /// The lease reached its number of periods.
    Expired,
    /// Grace ran out without funds (spec `decisions.md` §9).
    InsufficientFunds,
}

/// Where a farmer's revenue settles (spec `decisions.md` §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// Revenue stays as revenue CC (default).
    #[default]
    Cc,
    /// Revenue CC converts to TFP through Pool 2 when credited, as far as the reserve allows.
    Tfp,
}

/// Where a guardian-approved treasury transfer sends the treasury's USDC (spec `decisions.md` §8, §12). The
/// exit pool's USDC (`exit_pool.usdc`) is the only destination in this version; the field keeps the command
/// open to others without a new payload format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TreasuryDestination {
    /// The exit pool's USDC, which pays exits (spec §8).
    #[default]
    ExitPool,
}

impl fmt::Display for TreasuryDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TreasuryDestination::ExitPool => "exit_pool",
        })
    }
}

/// Per-slice requirements of a buyer. Zero / `false` / `None` means "no requirement".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Requirements {
    /// CPU cores per slice.
    pub min_cores: u32,
    /// Passmark per slice.
    pub min_passmark: u32,
    /// Memory per slice, GB.
    pub min_mem_gb: u32,
    /// SSD per slice, GB.
    pub min_ssd_gb: u32,
    /// Accelerator memory per slice, GB.
    pub min_ai_mem_gb: u32,
    /// AI tokens per second per slice.
    pub min_ai_tps: u32,
    /// Certified nodes only.
    pub certified_only: bool,
    /// Only nodes of this farm.
    pub farm_id: Option<FarmId>,
}

/// A requirement a node's slice does not meet, in the order they are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unmet {
    /// Not in the requested farm.
    Farm,
    /// Not certified.
    Certified,
    /// Too few cores per slice.
    Cores,
    /// Too little passmark per slice.
    Passmark,
    /// Too little memory per slice.
    Memory,
    /// Too little SSD per slice.
    Ssd,
    /// Too little accelerator memory per slice.
    AiMemory,
    /// Too few AI tokens per second per slice.
    AiTps,
}

impl Requirements {
    /// The first unmet requirement of one slice of `node`, in the order of [`Unmet`], or `None`.
    /// Per slice: `min_mem_gb = 8` is met when `mem_gb >= 8 * slices` (exact, no division).
    pub fn unmet(&self, node: &Node) -> Option<Unmet> {
        let slices = u64::from(node.slices);
        let r = &node.resources;
        let short = |have: u32, per_slice: u32| u64::from(have) < u64::from(per_slice).saturating_mul(slices);
        if self.farm_id.is_some_and(|f| f != node.farm_id) {
            Some(Unmet::Farm)
        } else if self.certified_only && !node.certified {
            Some(Unmet::Certified)
        } else if short(r.cpu_cores, self.min_cores) {
            Some(Unmet::Cores)
        } else if short(r.passmark, self.min_passmark) {
            Some(Unmet::Passmark)
        } else if short(r.mem_gb, self.min_mem_gb) {
            Some(Unmet::Memory)
        } else if short(r.ssd_gb, self.min_ssd_gb) {
            Some(Unmet::Ssd)
        } else if short(r.ai_mem_gb, self.min_ai_mem_gb) {
            Some(Unmet::AiMemory)
        } else if short(r.ai_tps, self.min_ai_tps) {
            Some(Unmet::AiTps)
        } else {
            None
        }
    }

    /// The required value of a requirement (the farm id for [`Unmet::Farm`], 1 for [`Unmet::Certified`]).
    pub fn required(&self, unmet: Unmet) -> u32 {
        match unmet {
            Unmet::Farm => self.farm_id.map_or(0, |f| f.0),
            Unmet::Certified => u32::from(self.certified_only),
            Unmet::Cores => self.min_cores,
            Unmet::Passmark => self.min_passmark,
            Unmet::Memory => self.min_mem_gb,
            Unmet::Ssd => self.min_ssd_gb,
            Unmet::AiMemory => self.min_ai_mem_gb,
            Unmet::AiTps => self.min_ai_tps,
        }
    }
}

/// One reason why capacity cannot be had (spec `decisions.md` §9: "a request that gets nothing returns a
/// reason per requirement"). Serialized as `{"kind": ..., ...}`; [`fmt::Display`] gives the sentence.
///
/// Compact encodings (postcard: the state's canonical encoding) carry the tag then the variant's fields in
/// order; see [`deserialize_compact_tagged`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", remote = "Self")]
pub enum Shortfall {
    /// No node has a listed price.
    NoNodeListed,
    /// No listed node meets this requirement.
    Unmet {
        /// The requirement.
        unmet: Unmet,
        /// Its required value per slice (farm id for `farm`).
        required: u32,
    },
    /// Eligible nodes exist but all are above the max price.
    AllAboveMaxPrice {
        /// Eligible nodes.
        eligible: u32,
        /// The max price asked, CC per slice-month.
        max_price_month: Amount<Cc>,
        /// The cheapest eligible price.
        cheapest: Amount<Cc>,
    },
    /// Eligible, affordable nodes have too few free slices in total.
    FreeSlicesShort {
        /// Eligible nodes within the max price.
        eligible: u32,
        /// The max price asked.
        max_price_month: Amount<Cc>,
        /// Free slices on those nodes.
        free: u64,
        /// Slices requested.
        requested: u32,
    },
    /// Monthly prices fit, but the hourly rate times the month (with its short-rental premium) is above the
    /// max price.
    HourlyPremium {
        /// Hours per billing month (720).
        hours_per_month: i64,
        /// The max price asked.
        max_price_month: Amount<Cc>,
    },
    /// A capacity request closed with fewer offers than slices, although listed capacity exists.
    TooFewOffers {
        /// Slices filled by offers.
        filled: u32,
        /// Slices wanted.
        wanted: u32,
    },
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shortfall::NoNodeListed => f.write_str("no node is listed"),
            Shortfall::Unmet { unmet, required } => match unmet {
                Unmet::Farm => write!(f, "no node of farm {required} is listed"),
                Unmet::Certified => f.write_str("no certified node"),
                Unmet::Cores => write!(f, "no node has >= {required} cores per slice"),
                Unmet::Passmark => write!(f, "no node has >= {required} passmark per slice"),
                Unmet::Memory => write!(f, "no node has >= {required} GB memory per slice"),
                Unmet::Ssd => write!(f, "no node has >= {required} GB SSD per slice"),
                Unmet::AiMemory => write!(f, "no node has >= {required} GB AI memory per slice"),
                Unmet::AiTps => write!(f, "no node has >= {required} AI tokens/s per slice"),
            },
            Shortfall::AllAboveMaxPrice { eligible, max_price_month, cheapest } => write!(
                f,
                "{eligible} eligible nodes, all above max price {max_price_month} (cheapest {cheapest})"
            ),
            Shortfall::FreeSlicesShort { eligible, max_price_month, free, requested } => write!(
                f,
                "{eligible} eligible nodes within max price {max_price_month}, with {free} free slices in \
                 total ({requested} requested)"
            ),
            Shortfall::HourlyPremium { hours_per_month, max_price_month } => write!(
                f,
                "eligible nodes' hourly price x {hours_per_month} is above max price {max_price_month} \
                 (hourly billing carries a premium)"
            ),
            Shortfall::TooFewOffers { filled, wanted } => write!(
                f,
                "only {filled} offers for {wanted} slices; listed capacity exists: post a new request or take \
                 listed prices"
            ),
        }
    }
}

/// A capacity search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SearchQuery {
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// Highest price per slice-month (for hourly billing: the hourly price × 720).
    pub max_price_month: Option<Amount<Cc>>,
    /// Billing mode the prices are compared in (default monthly).
    pub billing: Option<Billing>,
    /// Nodes with at least this many free slices (default 1).
    pub min_free_slices: u32,
    /// At most this many results (default 100, at most 10,000).
    pub limit: u32,
}

/// Who sets the slice prices of a farming pool's member nodes (spec `decisions.md` §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PricePolicy {
    /// Members price freely inside the node's band.
    Free,
    /// Members price inside `[min_month, max_month]` (intersected with the node's band).
    Range {
        /// Lowest price per slice-month.
        min_month: Amount<Cc>,
        /// Highest price per slice-month.
        max_month: Amount<Cc>,
    },
    /// The pool owner sets member nodes' prices; members cannot.
    PoolSet,
}

/// A farming pool's rules (spec `decisions.md` §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PoolRules {
    /// Share of the members' farmer share paid to the pool owner.
    pub fee_bps: Bps,
    /// Price policy.
    pub price_policy: PricePolicy,
    /// Months the members' minted rewards stay locked (applied by vesting).
    pub reward_lock_months: u32,
    /// Most of a member's TFP that may be reserved by exit bids in one round.
    pub exit_quota_bps: Bps,
}

/// Which farming-pool membership change a command signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MembershipChange {
    /// Join the pool.
    Join,
    /// Leave the pool.
    Leave,
}

/// One uptime sample of a node: at `at` (unix seconds) the node had been up `uptime_s` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UptimeSample {
    /// Report time, unix seconds (not after the state's time).
    pub at: i64,
    /// Seconds since boot.
    pub uptime_s: u64,
}

/// The side of an exchange order (spec `decisions.md` §13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Gives quote, receives base.
    Buy,
    /// Gives base, receives quote.
    Sell,
}

impl fmt::Display for Side {
    /// `"buy"` or `"sell"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    }
}

/// An exchange market's definition (registered at genesis or by a guardian-approved parameter change,
/// spec `decisions.md` §13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Id, unique.
    pub id: MarketId,
    /// The traded asset (e.g. TFT).
    pub base: Asset,
    /// The pricing asset (e.g. USDC); prices are quote per whole base token.
    pub quote: Asset,
    /// Seconds between batch clears (default 10).
    pub batch_interval_s: i64,
    /// Seconds before a clear in which orders cannot be cancelled or reduced (default 2).
    pub lock_window_s: i64,
    /// New orders one account may place per batch (default 10).
    pub max_orders_per_account_per_batch: u32,
    /// Smallest order, base units.
    pub min_order_base: Amount<AnyAsset>,
    /// Fee on both sides, in bps of the traded quote (default 0), to the treasury.
    pub fee_bps: Bps,
    /// Only verified accounts may trade.
    pub identity_required: bool,
    /// Batches an order lives by default (a `expires_after_batches` of `None`).
    pub default_order_batches: u32,
}

impl MarketSpec {
    /// The default TFT/USDC market (id 1): a batch every 10 s, a 2 s lock window, 10 orders per account
    /// per batch, orders of at least 1 TFT, no fee, orders live 360 batches (one hour).
    pub fn tft_usdc() -> Self {
        MarketSpec {
            id: MarketId(1),
            base: Asset::Tft,
            quote: Asset::Usdc,
            batch_interval_s: 10,
            lock_window_s: 2,
            max_orders_per_account_per_batch: 10,
            min_order_base: Amount::from_units(10_000_000),
            fee_bps: Bps::ZERO,
            identity_required: false,
            default_order_batches: 360,
        }
    }

    /// `true` when the market's assets may be traded (CC never is: it is not transferable) and its batch
    /// rules are sane (positive interval, lock window shorter than it, positive limits).
    pub fn is_valid(&self) -> bool {
        self.base != self.quote
            && self.base != Asset::Cc
            && self.quote != Asset::Cc
            && self.batch_interval_s > 0
            && self.lock_window_s >= 0
            && self.lock_window_s < self.batch_interval_s
            && self.max_orders_per_account_per_batch > 0
            && self.min_order_base.units() > 0
            && self.default_order_batches > 0
    }

    /// The asset an order of `side` escrows: the base for sells, the quote for buys.
    pub fn escrow_asset(&self, side: Side) -> Asset {
        match side {
            Side::Sell => self.base,
            Side::Buy => self.quote,
        }
    }
}

/// A published bid tier: a standing bid ThreeFold posts for a class of capacity (spec `decisions.md` §9
/// "Seed tiers"; `marketplace_and_nodes.md` §5.2). The operator posts them with `PostStandingBid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BidTier {
    /// Name, e.g. "Standard Compute".
    pub name: String,
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// CC per slice-month.
    pub price_month: Amount<Cc>,
    /// Slices wanted.
    pub quantity: u32,
}

impl BidTier {
    /// The CC a tier escrows for its first month: `price_month * quantity` (`None` on overflow).
    pub fn escrow(&self) -> Option<Amount<Cc>> {
        self.price_month.units().checked_mul(i128::from(self.quantity)).map(Amount::from_units)
    }
}

impl Serialize for Shortfall {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Shortfall::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for Shortfall {
    /// JSON: `{"kind": ..., ...}`; compact formats: [`deserialize_compact_tagged`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            Shortfall::deserialize(deserializer)
        } else {
            deserialize_compact_tagged(deserializer)
        }
    }
}

impl CompactTagged for Shortfall {
    const NAME: &'static str = "Shortfall";
    const VARIANTS: &'static [&'static str] = &[
        "no_node_listed",
        "unmet",
        "all_above_max_price",
        "free_slices_short",
        "hourly_premium",
        "too_few_offers",
    ];
    const MAX_FIELDS: usize = 4;

    fn read_variant<'de, A: SeqAccess<'de>>(tag: &str, f: &mut CompactFields<A>) -> Result<Self, A::Error> {
        Ok(match tag {
            "no_node_listed" => Shortfall::NoNodeListed,
            "unmet" => Shortfall::Unmet { unmet: f.next()?, required: f.next()? },
            "all_above_max_price" => Shortfall::AllAboveMaxPrice {
                eligible: f.next()?,
                max_price_month: f.next()?,
                cheapest: f.next()?,
            },
            "free_slices_short" => Shortfall::FreeSlicesShort {
                eligible: f.next()?,
                max_price_month: f.next()?,
                free: f.next()?,
                requested: f.next()?,
            },
            "hourly_premium" => {
                Shortfall::HourlyPremium { hours_per_month: f.next()?, max_price_month: f.next()? }
            }
            "too_few_offers" => Shortfall::TooFewOffers { filled: f.next()?, wanted: f.next()? },
            other => return Err(A::Error::unknown_variant(other, Self::VARIANTS)),
        })
    }
}

/// An internally tagged enum (`#[serde(tag = ...)]`) as a compact, non-self-describing format (postcard)
/// writes it: serde's derive emits a struct whose first field is the tag (the variant's serialized name, a
/// string) followed by the variant's fields in declaration order. serde's derived `Deserialize` of such an
/// enum needs a self-describing format, so these types read their compact form through this trait.
pub(crate) trait CompactTagged: Sized {
    /// The type's name (error messages).
    const NAME: &'static str;
    /// The serialized variant names.
    const VARIANTS: &'static [&'static str];
    /// The most fields any variant has.
    const MAX_FIELDS: usize;
    /// Reads the fields of the variant named `tag`. Errors: an unknown tag, or a field that does not decode.
    fn read_variant<'de, A: SeqAccess<'de>>(
        tag: &str,
        fields: &mut CompactFields<A>,
    ) -> Result<Self, A::Error>;
}

/// The fields after the tag of a [`CompactTagged`] value, read in order.
pub(crate) struct CompactFields<A> {
    seq: A,
    read: usize,
}

impl<'de, A: SeqAccess<'de>> CompactFields<A> {
    /// The next field. Errors: the input ends, or the field does not decode.
    pub(crate) fn next<T: Deserialize<'de>>(&mut self) -> Result<T, A::Error> {
        self.read = self.read.saturating_add(1);
        self.seq.next_element()?.ok_or_else(|| A::Error::invalid_length(self.read, &"more fields"))
    }
}

/// Reads a [`CompactTagged`] value from a compact deserializer: the tag, then the variant's fields.
pub(crate) fn deserialize_compact_tagged<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: CompactTagged,
{
    struct TaggedVisitor<T>(std::marker::PhantomData<T>);
    impl<'de, T: CompactTagged> serde::de::Visitor<'de> for TaggedVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} (tag then fields)", T::NAME)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            let tag: String = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
            T::read_variant(&tag, &mut CompactFields { seq, read: 0 })
        }
    }
    let len = T::MAX_FIELDS.saturating_add(1);
    deserializer.deserialize_tuple(len, TaggedVisitor(std::marker::PhantomData))
}
