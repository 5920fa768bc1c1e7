//! The capacity market: farms, nodes, leases, search, explain, standing bids and capacity requests
//! (`GET /v1/farms`, `/v1/nodes`, `/v1/leases`, `/v1/capacity/*`). Prices are CC per slice-month unless
//! named `_hour`.

use serde::{Deserialize, Serialize};
use tfeco_core::Requirements;
use tfeco_core::{
    AccountKey, Billing, CapacityRequestId, CloseReason, FarmId, LeaseId, NodeId, Resources, Shortfall,
    StandingBidId,
};
use tfeco_money::{Amount, Cc};
use utoipa::{IntoParams, ToSchema};

/// Most search results one call returns.
pub const MAX_SEARCH_LIMIT: u32 = 10_000;

/// A farm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FarmView {
    /// Id.
    pub id: FarmId,
    /// The farmer.
    pub owner: AccountKey,
    /// Unique name.
    pub name: String,
    /// Its nodes.
    pub nodes: Vec<NodeId>,
}

/// `GET /v1/farms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FarmsView {
    /// Every farm, by id.
    pub farms: Vec<FarmView>,
}

/// `GET /v1/nodes` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NodesQuery {
    /// Only the nodes of this farm.
    #[param(minimum = 0, maximum = 4294967295_i64)]
    pub farm: Option<u32>,
}

/// A node: resources, slices and price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeView {
    /// Id.
    pub id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// Catalogue model (`null`: custom hardware).
    pub model: Option<String>,
    /// Certified hardware.
    pub certified: bool,
    /// Whole-node resources.
    pub resources: Resources,
    /// Slices it is cut into.
    pub slices: u32,
    /// Slices offered for lease.
    pub offered_slices: u32,
    /// Slices leased.
    pub leased_slices: u32,
    /// Slices free to lease.
    pub free_slices: u32,
    /// Band minimum.
    pub band_min: Amount<Cc>,
    /// Band maximum.
    pub band_max: Amount<Cc>,
    /// Listed price (`null`: not listed yet).
    pub price_month: Option<Amount<Cc>>,
    /// Hourly charge of one slice at the listed price.
    pub price_hour: Option<Amount<Cc>>,
}

/// `GET /v1/nodes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodesView {
    /// Nodes, by id.
    pub nodes: Vec<NodeView>,
}

/// `GET /v1/leases` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeasesQuery {
    /// Only the leases of this tenant.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{64}$")]
    pub tenant: Option<AccountKey>,
    /// Only open (`true`) or only closed (`false`) leases.
    pub open: Option<bool>,
}

/// Where a lease is in its life, tagged by `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum LeaseStatusView {
    /// Paid up to `next_charge_at`.
    Active,
    /// A charge could not be paid; closes at `since + grace` unless funds arrive.
    Grace {
        /// When the unpaid period began.
        since: i64,
    },
    /// Cancelled by the tenant; closes at the end of the paid period.
    Cancelling,
    /// Closed.
    Closed {
        /// Why.
        reason: CloseReason,
        /// When, unix seconds.
        at: i64,
    },
}

/// When and why a lease closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseClosed {
    /// Why.
    pub reason: CloseReason,
    /// When, unix seconds.
    pub at: i64,
}

/// A lease of slices of one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseView {
    /// Id.
    pub id: LeaseId,
    /// The paying user.
    pub tenant: AccountKey,
    /// The node.
    pub node_id: NodeId,
    /// Slices leased.
    pub n_slices: u32,
    /// Billing mode.
    pub billing: Billing,
    /// Listed monthly price per slice at opening.
    pub price_month: Amount<Cc>,
    /// CC charged each period.
    pub period_charge: Amount<Cc>,
    /// Opening time, unix seconds.
    pub opened_at: i64,
    /// Start of the next period to charge.
    pub next_charge_at: i64,
    /// When the lease expires (`null`: until cancelled).
    pub ends_at: Option<i64>,
    /// Status.
    pub status: LeaseStatusView,
    /// Periods charged so far.
    pub periods_paid: u64,
    /// CC paid so far.
    pub total_paid: Amount<Cc>,
    /// When and why it closed (only for a closed lease).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<LeaseClosed>,
}

/// `GET /v1/leases`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeasesView {
    /// Leases, by id.
    pub leases: Vec<LeaseView>,
}

/// Declares a query struct with the per-slice requirement parameters and the given extra fields.
macro_rules! requirement_query {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Cores per slice, at least.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub min_cores: Option<u32>,
            /// PassMark score per slice, at least.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub min_passmark: Option<u32>,
            /// GB of memory per slice, at least.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub min_mem_gb: Option<u32>,
            /// GB of SSD per slice, at least.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub min_ssd_gb: Option<u32>,
            /// GB of AI accelerator memory per slice, at least.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub min_ai_mem_gb: Option<u32>,
            /// AI tokens per second per slice, at least.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub min_ai_tps: Option<u32>,
            /// Only certified nodes.
            pub certified_only: Option<bool>,
            /// Only nodes of this farm.
            #[param(minimum = 0, maximum = 4294967295_i64)]
            pub farm: Option<u32>,
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $name {
            /// The per-slice requirements (absent parameters: no requirement).
            pub fn requirements(&self) -> Requirements {
                Requirements {
                    min_cores: self.min_cores.unwrap_or(0),
                    min_passmark: self.min_passmark.unwrap_or(0),
                    min_mem_gb: self.min_mem_gb.unwrap_or(0),
                    min_ssd_gb: self.min_ssd_gb.unwrap_or(0),
                    min_ai_mem_gb: self.min_ai_mem_gb.unwrap_or(0),
                    min_ai_tps: self.min_ai_tps.unwrap_or(0),
                    certified_only: self.certified_only.unwrap_or(false),
                    farm_id: self.farm.map(FarmId),
                }
            }
        }
    };
}

requirement_query! {
    /// `GET /v1/capacity/search` query: the per-slice requirements, a price ceiling, billing, free slices
    /// and a limit. Every parameter is optional.
    SearchQuery {
        /// Highest price, CC per slice-month (for hourly billing the hourly price × 720).
        #[param(value_type = Option<String>, pattern = "^[0-9]{1,31}(\\.[0-9]{1,7})?$")]
        max_price: Option<Amount<Cc>>,
        /// Billing mode the price ceiling applies to.
        #[param(inline)]
        billing: Option<Billing>,
        /// Free slices a node must have, at least (default 1).
        #[param(minimum = 0, maximum = 4294967295_i64)]
        min_free: Option<u32>,
        /// Most results (1 to 10,000; default 100).
        #[param(minimum = 1, maximum = 10000)]
        limit: Option<u32>,
    }
}

requirement_query! {
    /// `GET /v1/capacity/explain` query: the per-slice requirements, the slices wanted and a price ceiling.
    ExplainQuery {
        /// Slices wanted (default 1).
        #[param(minimum = 1, maximum = 4294967295_i64)]
        n_slices: Option<u32>,
        /// Highest price, CC per slice-month (default: no ceiling).
        #[param(value_type = Option<String>, pattern = "^[0-9]{1,31}(\\.[0-9]{1,7})?$")]
        max_price: Option<Amount<Cc>>,
    }
}

/// One search result: a node with free slices meeting the requirements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchHitView {
    /// The node.
    pub node_id: NodeId,
    /// Its farm.
    pub farm_id: FarmId,
    /// Catalogue model (`null`: custom).
    pub model: Option<String>,
    /// Certified hardware.
    pub certified: bool,
    /// Listed price.
    pub price_month: Amount<Cc>,
    /// Hourly charge of one slice.
    pub price_hour: Amount<Cc>,
    /// The price compared with the ceiling (hourly × 720 for hourly billing).
    pub effective_month: Amount<Cc>,
    /// Free slices.
    pub free_slices: u32,
}

/// `GET /v1/capacity/search`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchView {
    /// Hits, cheapest first (ties: lower node id).
    pub results: Vec<SearchHitView>,
    /// Number of hits returned (at most the limit).
    pub count: usize,
}

/// `GET /v1/capacity/explain`: why the slices cannot be had, one reason per blocking requirement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExplainView {
    /// Reasons; none means the capacity exists.
    pub reasons: Vec<ShortfallView>,
    /// `true` when there are no reasons.
    pub satisfiable: bool,
    /// Slices wanted.
    pub n_slices: u32,
    /// The price ceiling (`null`: none).
    pub max_price: Option<Amount<Cc>>,
}

/// `GET /v1/capacity/standing-bids` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StandingBidsQuery {
    /// Only this buyer's bids.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{64}$")]
    pub buyer: Option<AccountKey>,
    /// Only bids still wanting slices (`true`) or only filled ones (`false`).
    pub open: Option<bool>,
}

/// A standing bid (a bid tier): slices wanted at a price, filled by farmers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StandingBidView {
    /// Id.
    pub id: StandingBidId,
    /// The buyer.
    pub buyer: AccountKey,
    /// Name.
    pub name: String,
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// Price per slice-month.
    pub price_month: Amount<Cc>,
    /// Slices still wanted.
    pub remaining: u32,
    /// Slices filled.
    pub filled: u32,
    /// Periods of each lease (`null`: until cancelled).
    pub periods: Option<u32>,
    /// CC held in escrow for the remaining slices.
    pub escrow: Amount<Cc>,
    /// Slices asked for in total (remaining + filled).
    pub quantity: u64,
    /// Whether slices are still wanted.
    pub open: bool,
}

/// `GET /v1/capacity/standing-bids`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StandingBidsView {
    /// Bids, by id.
    pub standing_bids: Vec<StandingBidView>,
}

/// `GET /v1/capacity/requests` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CapacityRequestsQuery {
    /// Only this requester's requests.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{64}$")]
    pub requester: Option<AccountKey>,
    /// Only requests without an outcome (`true`) or only closed ones (`false`).
    pub open: Option<bool>,
}

/// A farmer's offer on a capacity request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CapacityOfferView {
    /// The offered node.
    pub node_id: NodeId,
    /// The offered price per slice-month.
    pub price_month: Amount<Cc>,
}

/// How a capacity request closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestOutcomeView {
    /// When, unix seconds.
    pub closed_at: i64,
    /// Slices filled.
    pub filled: u32,
    /// Leases opened.
    pub leases: Vec<LeaseId>,
    /// CC refunded to the requester.
    pub refunded: Amount<Cc>,
    /// Why slices were left unfilled.
    pub reasons: Vec<ShortfallView>,
}

/// Where a capacity request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapacityRequestStatus {
    /// Offers are accepted.
    Open,
    /// The window ended; the next tick closes it.
    Closing,
    /// Closed, with an outcome.
    Closed,
}

/// A capacity request (a reverse auction; offers are public).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CapacityRequestView {
    /// Id.
    pub id: CapacityRequestId,
    /// The requester.
    pub requester: AccountKey,
    /// Per-slice requirements.
    pub requirements: Requirements,
    /// Slices wanted.
    pub n_slices: u32,
    /// Highest price per slice-month.
    pub max_price_month: Amount<Cc>,
    /// Periods of each lease (`null`: until cancelled).
    pub periods: Option<u32>,
    /// When the offer window closes, unix seconds.
    pub closes_at: i64,
    /// CC held in escrow.
    pub escrow: Amount<Cc>,
    /// Offers, cheapest first (the order they win in).
    pub offers: Vec<CapacityOfferView>,
    /// The outcome, once closed.
    pub outcome: Option<RequestOutcomeView>,
    /// Where it stands.
    pub status: CapacityRequestStatus,
}

/// `GET /v1/capacity/requests`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CapacityRequestsView {
    /// The state's time, unix seconds.
    pub now: i64,
    /// Requests, by id.
    pub requests: Vec<CapacityRequestView>,
}

/// One reason why capacity cannot be had: the typed reason (`kind` and its fields) and its sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShortfallView {
    /// The typed reason.
    #[serde(flatten)]
    pub reason: Shortfall,
    /// The reason in words, e.g. `no node has >= 9 GB memory per slice`.
    pub message: String,
}

impl From<&Shortfall> for ShortfallView {
    fn from(reason: &Shortfall) -> Self {
        ShortfallView { reason: reason.clone(), message: reason.to_string() }
    }
}

/// The views of a list of reasons.
pub fn shortfall_views(reasons: &[Shortfall]) -> Vec<ShortfallView> {
    reasons.iter().map(ShortfallView::from).collect()
}
