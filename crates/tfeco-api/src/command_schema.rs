//! The schema of `tfeco_core::Command` (the `command` of a signed request), written as schema-only mirror
//! types with the same serde shape, until the core derives `utoipa::ToSchema` itself.
//!
//! TODO(core-openapi): delete this module once `Command` and its vocabulary types derive their schemas;
//! `schema::command` then refers to the core's. The acceptance test checks the mirror against the real
//! decoder: Schemathesis generates commands from this schema, and any it generates that the node's strict
//! decoder refuses (400 instead of 401 for the fuzzer's signature) fails the run.

// The mirror types are never built: only their derived schemas are used.
#![allow(dead_code)]

use std::borrow::Cow;

use tfeco_money::{Amount, AnyAsset, Asset, Bps, Cc, Price, Ratio, Tfp, Tft, Usdc};
use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// Unsigned integers with their real bounds (the integer formats of `utoipa` carry none).
macro_rules! unsigned {
    ($($name:ident = $max:expr),*) => {$(
        struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Integer))
                    .minimum(Some(0))
                    .maximum(Some($max))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

unsigned!(U16 = u64::from(u16::MAX), U32 = u64::from(u32::MAX), U64 = u64::MAX);

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum PriceFeed {
    TftUsd,
    GoldUsdPerOz,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum Billing {
    Hourly,
    Monthly,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum Settlement {
    Cc,
    Tfp,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum Side {
    Buy,
    Sell,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum MembershipChange {
    Join,
    Leave,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct Resources {
    cpu_cores: U32,
    passmark: U32,
    mem_gb: U32,
    ssd_gb: U32,
    ai_mem_gb: U32,
    ai_tps: U32,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum NodeSpec {
    Model { model: String },
    Custom { resources: Resources, slices: U32 },
}

/// Every field may be left out (the core's `Requirements` defaults each); only `farm_id` may be `null`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct Requirements {
    #[serde(default)]
    min_cores: U32,
    #[serde(default)]
    min_passmark: U32,
    #[serde(default)]
    min_mem_gb: U32,
    #[serde(default)]
    min_ssd_gb: U32,
    #[serde(default)]
    min_ai_mem_gb: U32,
    #[serde(default)]
    min_ai_tps: U32,
    #[serde(default)]
    certified_only: bool,
    farm_id: Option<U32>,
}

/// Every field may be left out (the core's `SearchQuery` defaults each).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    #[serde(default)]
    requirements: Requirements,
    max_price_month: Option<Amount<Cc>>,
    billing: Option<Billing>,
    #[serde(default)]
    min_free_slices: U32,
    #[serde(default)]
    limit: U32,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum PricePolicy {
    Free,
    Range { min_month: Amount<Cc>, max_month: Amount<Cc> },
    PoolSet,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct PoolRules {
    fee_bps: Bps,
    price_policy: PricePolicy,
    reward_lock_months: U32,
    exit_quota_bps: Bps,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct UptimeSample {
    at: i64,
    uptime_s: U64,
}

/// A `(recipient, bps)` pair of a revenue split: a two-item array.
struct SplitShare;

impl PartialSchema for SplitShare {
    fn schema() -> RefOr<Schema> {
        let recipient = crate::schema::one_of_strings(&["farmer", "burn", "treasury"], "A split recipient");
        let bps = match <Bps as PartialSchema>::schema() {
            RefOr::T(schema) => schema,
            RefOr::Ref(_) => Schema::default(),
        };
        ArrayBuilder::new()
            .prefix_items([recipient, bps])
            .items(ArrayItems::False)
            .min_items(Some(2))
            .max_items(Some(2))
            .into()
    }
}

impl ToSchema for SplitShare {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SplitShare")
    }
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct RevenueSplit {
    version: U32,
    shares: Vec<SplitShare>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum UptimeScaling {
    Linear,
    Threshold,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct FarmingPolicy {
    id: U32,
    name: String,
    cu_musd: U32,
    su_musd: U32,
    nu_musd: U32,
    ipv4_musd_per_hour: U32,
    minimal_uptime_pct: U32,
    scaling: UptimeScaling,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct V3Rules {
    policies: Vec<FarmingPolicy>,
    diy_min_uptime_permill: U32,
    certified_min_uptime_permill: U32,
    certified_bonus_policy_ids: Vec<U32>,
    certified_bonus: Ratio,
    connection_price_musd: U32,
    period_s: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct CapacityRates {
    per_gb_memory: Amount<Tft>,
    per_tb_ssd: Amount<Tft>,
    per_tb_hdd: Amount<Tft>,
    per_tb_network: Amount<Tft>,
    per_gb_gpu: Option<Amount<Tft>>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct CapacityRules {
    rates: CapacityRates,
    min_uptime_permill: U32,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum RewardRules {
    V3(V3Rules),
    Capacity(CapacityRules),
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct SeedLockRule {
    lock_months: U32,
    utilization_threshold_bps: U16,
    consecutive_months: U32,
    month_s: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct Release36mRule {
    locked_months: U32,
    release_months: U32,
    month_s: i64,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum VestingRule {
    Seed(SeedLockRule),
    Release36m(Release36mRule),
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
struct MarketSpec {
    id: U32,
    base: Asset,
    quote: Asset,
    batch_interval_s: i64,
    lock_window_s: i64,
    max_orders_per_account_per_batch: U32,
    min_order_base: Amount<AnyAsset>,
    fee_bps: Bps,
    identity_required: bool,
    default_order_batches: U32,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
enum ParamUpdate {
    GuardianSet {
        #[schema(schema_with = crate::schema::account_keys)]
        guardians: Vec<String>,
        threshold: Option<U32>,
    },
    RevenueSplit(RevenueSplit),
    EntryTftPerCc(Ratio),
    OracleMaxAge(i64),
    TftUsdClamp {
        min: Price,
        max: Price,
    },
    LeaseGrace(i64),
    ExitRules {
        cap_a_bps: Option<Bps>,
        cap_b_bps: Option<Bps>,
        min_discount_bps: Bps,
    },
    RewardRules(RewardRules),
    VestingRule(VestingRule),
    MintingEnabled(bool),
    ParamDelay(i64),
    RegisterMarket(MarketSpec),
}

/// An account key field.
type Key = String;

/// The commands, externally tagged in snake_case (`{"transfer": {...}}`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    RegisterAccount {},
    Transfer {
        asset: Asset,
        #[schema(schema_with = crate::schema::account_key)]
        to: Key,
        amount: Amount<AnyAsset>,
    },
    AttestDeposit {
        asset: Asset,
        #[schema(schema_with = crate::schema::account_key)]
        to: Key,
        amount: Amount<AnyAsset>,
        external_tx_id: String,
    },
    RequestWithdrawal {
        asset: Asset,
        amount: Amount<AnyAsset>,
        destination: String,
    },
    AttestWithdrawal {
        withdrawal_id: U64,
        external_tx_id: String,
    },
    SubmitPrice {
        feed: PriceFeed,
        price: Price,
        observed_at: i64,
    },
    EnterWithTft {
        tft: Amount<Tft>,
    },
    EnterWithFiat {
        #[schema(schema_with = crate::schema::account_key)]
        to: Key,
        usd: Amount<Usdc>,
        payment_id: String,
    },
    LockTft {
        tft: Amount<Tft>,
    },
    UnlockTfp {
        tfp: Amount<Tfp>,
    },
    RegisterFarm {
        name: String,
    },
    RegisterNode {
        farm_id: U32,
        spec: NodeSpec,
        offered_slices: Option<U32>,
    },
    SetSlicePrice {
        node_id: U32,
        price: Amount<Cc>,
    },
    OpenLease {
        node_id: U32,
        n_slices: U32,
        billing: Billing,
        periods: Option<U32>,
    },
    CancelLease {
        lease_id: U64,
    },
    Tick {
        now: i64,
    },
    ConvertCcToTfp {
        cc: Amount<Cc>,
        allow_partial: bool,
    },
    ConvertTfpToCc {
        tfp: Amount<Tfp>,
    },
    SetSettlement {
        settle_in: Settlement,
    },
    FundExitPool {
        usdc: Amount<Usdc>,
    },
    OpenPosition {
        tfp: Amount<Tfp>,
    },
    ClosePosition {
        position_id: U64,
    },
    SubmitExitBid {
        position_id: U64,
        usdc: Amount<Usdc>,
        min_price: Price,
        carry_over: bool,
    },
    AmendExitBid {
        bid_id: U64,
        usdc: Amount<Usdc>,
        min_price: Price,
    },
    CancelExitBid {
        bid_id: U64,
    },
    PostStandingBid {
        name: String,
        requirements: Requirements,
        price_month: Amount<Cc>,
        quantity: U32,
        periods: Option<U32>,
    },
    FillStandingBid {
        bid_id: U64,
        node_id: U32,
        n_slices: U32,
    },
    CancelStandingBid {
        bid_id: U64,
    },
    PostCapacityRequest {
        requirements: Requirements,
        n_slices: U32,
        max_price_month: Amount<Cc>,
        periods: Option<U32>,
        window_s: i64,
    },
    OfferCapacity {
        request_id: U64,
        node_id: U32,
        price_month: Amount<Cc>,
    },
    CreateFarmingPool {
        name: String,
        rules: PoolRules,
    },
    SignPoolMembership {
        pool_id: U64,
        farm_id: U32,
        change: MembershipChange,
    },
    SetPoolPrice {
        node_id: U32,
        price: Amount<Cc>,
    },
    SetNodeKey {
        node_id: U32,
        #[schema(schema_with = crate::schema::account_key)]
        node_key: Key,
    },
    ReportUptime {
        node_id: U32,
        reports: Vec<UptimeSample>,
    },
    SignMintReport {
        period: U32,
        report_hash: String,
    },
    ProposeParamChange {
        update: ParamUpdate,
    },
    SignParamChange {
        change_id: U64,
    },
    PlaceOrder {
        market_id: U32,
        side: Side,
        quantity: Amount<AnyAsset>,
        limit_price: Price,
        expires_after_batches: Option<U32>,
    },
    CancelOrder {
        order_id: U64,
    },
    AmendOrder {
        order_id: U64,
        quantity: Amount<AnyAsset>,
        limit_price: Price,
    },
    SetVerified {
        #[schema(schema_with = crate::schema::account_key)]
        account: Key,
        verified: bool,
    },
    TakeCapacity {
        query: SearchQuery,
        n_slices: U32,
        periods: Option<U32>,
    },
}

/// Closes every object of a command schema (`additionalProperties: false`): the decoder refuses unknown
/// fields and unknown commands, and an externally tagged command is an object with exactly one key.
fn closed(schema: RefOr<Schema>) -> RefOr<Schema> {
    fn close(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                let is_object = map.get("type").and_then(|t| t.as_str()) == Some("object");
                if is_object && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".to_owned(), serde_json::Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::to_value(&schema) else { return schema };
    close(&mut value);
    serde_json::from_value(value).unwrap_or(schema)
}

/// The schema of a command (and every schema it refers to), to register in the document's components.
pub(crate) fn command_schemas() -> (RefOr<Schema>, Vec<(String, RefOr<Schema>)>) {
    let mut schemas = Vec::new();
    <Command as ToSchema>::schemas(&mut schemas);
    let schemas = schemas.into_iter().map(|(name, schema)| (name, closed(schema))).collect();
    (closed(<Command as PartialSchema>::schema()), schemas)
}
