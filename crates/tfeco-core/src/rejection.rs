//! Rejections: every way a user can cause a command to be refused, as typed values with stable codes.
//!
//! Variants are declared in their order of precedence; a handler checks in this order, and the first failing
//! check decides the rejection:
//! 0. the node halted after a failed invariant (`Halted`, fail-stop);
//! 1. authority: the signer is registered (`AccountNotFound`, `AccountExists`, `WeakKey`), the nonce
//!    (`NonceOutOfRange`, `NonceReused`), the role (`NotAuthorized`), a retired command kind
//!    (`CommandRetired`);
//! 2. the shape of the input: amounts, texts, limits and formats (`AmountNotPositive`, `TextInvalid`,
//!    `LimitExceeded`, ...);
//! 3. referenced objects exist and belong to the signer (`*NotFound`, `NotOwner`);
//! 4. domain rules (`PriceOutOfBand`, `SlicesUnavailable`, `UnlockClosed`, `PriceUnavailable`, ...);
//! 5. funds (`BalanceLow`, `RevenueCcLow`, `PositionTfpLow`);
//! 6. arithmetic (`Overflow`).
//!
//! Payloads are typed (roles, fields, limits and reasons are enums, not text). Codes ([`RejectionCode`]) are
//! stable API: never renamed or reused.

use std::fmt;

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Tfp};

use crate::ids::{AccountKey, OrderId};
use crate::params::ParamChangeProblem;
use crate::rules::billing::MinSpecShortfall;
use crate::rules::minting::UptimeError;
use crate::rules::oracle::PriceProblem;
use crate::types::{PriceFeed, Role, Shortfall, Unmet};

/// A text field of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TextField {
    /// A farm's name.
    FarmName,
    /// A farming pool's name.
    FarmingPoolName,
    /// A standing bid's name.
    BidName,
    /// An external (bridge) transaction id.
    ExternalTxId,
    /// A fiat payment id.
    PaymentId,
    /// A treasury transfer's reference.
    TransferRef,
    /// A withdrawal's external destination address.
    Destination,
}

impl fmt::Display for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextField::FarmName => "farm name",
            TextField::FarmingPoolName => "pool name",
            TextField::BidName => "bid name",
            TextField::ExternalTxId => "external_tx_id",
            TextField::PaymentId => "payment_id",
            TextField::TransferRef => "transfer_ref",
            TextField::Destination => "destination",
        })
    }
}

/// A configured limit (the values are parameters, spec `architecture-and-style.md` "limit everything").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Nodes one farm may register.
    NodesPerFarm,
    /// Periods of one lease.
    LeasePeriods,
    /// Open leases of one account.
    OpenLeasesPerAccount,
    /// Slices of one standing bid.
    SlicesPerBid,
    /// Seconds of a capacity request's offer window.
    RequestWindowSeconds,
    /// Open exit bids in one round.
    ExitBidsPerRound,
    /// Uptime reports in one command.
    UptimeReportsPerCommand,
    /// Exchange orders one account may place in one batch.
    OrdersPerAccountPerBatch,
    /// The latest time a `Tick` may set (unix seconds).
    Time,
    /// Seconds one `Tick` may advance time (`max_tick_advance_s`, decisions §13/§14).
    TickAdvance,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::NodesPerFarm => "nodes per farm",
            Limit::LeasePeriods => "lease periods",
            Limit::OpenLeasesPerAccount => "open leases per account",
            Limit::SlicesPerBid => "slices per bid",
            Limit::RequestWindowSeconds => "seconds of request window",
            Limit::ExitBidsPerRound => "exit bids per round",
            Limit::UptimeReportsPerCommand => "uptime reports per command",
            Limit::OrdersPerAccountPerBatch => "orders per account per batch",
            Limit::Time => "unix seconds (time)",
            Limit::TickAdvance => "seconds advanced by one tick",
        })
    }
}

/// Why farming-pool rules are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PoolRulesProblem {
    /// A price range needs `0 < min <= max`.
    PriceRange,
    /// A pool with this name exists.
    NameTaken,
}

impl fmt::Display for PoolRulesProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolRulesProblem::PriceRange => "price range needs 0 < min <= max",
            PoolRulesProblem::NameTaken => "a pool with this name exists",
        })
    }
}

/// Why a farming-pool membership change does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MembershipProblem {
    /// The farm is already in a pool.
    AlreadyInPool,
    /// The farm is not a member.
    NotMember,
}

impl fmt::Display for MembershipProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MembershipProblem::AlreadyInPool => "the farm is already in a pool",
            MembershipProblem::NotMember => "the farm is not a member",
        })
    }
}

/// Why an uptime report is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UptimeReportProblem {
    /// The report time is not after the node's registration.
    NotAfterRegistration {
        /// The node's registration time.
        registered_at: i64,
    },
    /// The report time is after the state's current time.
    InFuture {
        /// The state's time.
        now: i64,
    },
    /// The report's minting period is already closed.
    PeriodClosed,
    /// The uptime tracker refused it.
    Tracker(UptimeError),
}

impl fmt::Display for UptimeReportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UptimeReportProblem::NotAfterRegistration { registered_at } => {
                write!(f, "the report time is not after the node's registration {registered_at}")
            }
            UptimeReportProblem::InFuture { now } => {
                write!(f, "the report time is after the current time {now}")
            }
            UptimeReportProblem::PeriodClosed => f.write_str("the report's minting period is already closed"),
            UptimeReportProblem::Tracker(error) => write!(f, "{error}"),
        }
    }
}

/// A refused command. Nothing changed (except for [`Rejection::Halted`], see there). Variants in order of
/// precedence (module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Rejection {
    // 0. The node itself.
    /// The node halted: an invariant failed after a command (fail-stop, every build). The command that
    /// revealed it is refused with this (its effects are not journaled) and so is every later command
    /// until the node restarts and replays its journal.
    Halted {
        /// The failed invariant and the command after which it failed.
        reason: String,
    },
    // 1. Authority.
    /// The account (signer or receiver) is not registered.
    AccountNotFound {
        /// The unknown key.
        account: AccountKey,
    },
    /// `RegisterAccount` for a key that is already registered.
    AccountExists,
    /// `RegisterAccount` for a weak key: a point of small order or a non-canonical encoding
    /// (`crate::request::strict_key`, spec `decisions.md` §2). No signature can prove control of it.
    WeakKey,
    /// The nonce is at or above [`crate::request::NONCE_LIMIT`] (2^63, spec `decisions.md` §2).
    NonceOutOfRange {
        /// The bound: nonces are below it.
        limit: u64,
        /// Nonce of the request.
        got: u64,
    },
    /// The nonce is not greater than the last one this account used.
    NonceReused {
        /// Last nonce used by the account.
        last: u64,
        /// Nonce of the request.
        got: u64,
    },
    /// The signer lacks the role this command needs.
    NotAuthorized {
        /// The role needed.
        role: Role,
    },
    /// The command kind is retired for every signer ([`crate::RETIRED_COMMANDS`]); use `replaced_by`.
    CommandRetired {
        /// The retired kind, e.g. `fund_exit_pool`.
        command: String,
        /// The command to use instead, e.g. `approve_treasury_transfer`.
        replaced_by: String,
    },

    // 2. Shape of the input.
    /// An amount must be strictly positive.
    AmountNotPositive,
    /// Text (name, id, address) is empty, too long, or has control characters.
    TextInvalid {
        /// Which field.
        field: TextField,
        /// Maximum length in bytes.
        max_len: u32,
    },
    /// A configured limit would be exceeded.
    LimitExceeded {
        /// What is limited.
        what: Limit,
        /// The limit.
        limit: u64,
    },
    /// CC cannot be transferred between users (spec `decisions.md` §1).
    CcNotTransferable,
    /// The asset is not allowed for this operation (e.g. a TFP deposit).
    AssetNotAllowed {
        /// The asset.
        asset: Asset,
    },
    /// Sender and receiver are the same account.
    SelfTransfer,
    /// A price is zero, or an oracle submission is not newer than the submitter's previous one, or observed
    /// after the state's current time.
    PriceInvalid {
        /// Why.
        reason: PriceProblem,
    },
    /// The slice count is zero or above what the node (or bid) has.
    InvalidSliceCount {
        /// The most allowed.
        max: u32,
    },
    /// The farming pool's rules are invalid.
    InvalidPoolRules {
        /// Why.
        reason: PoolRulesProblem,
    },
    /// The parameter change is invalid.
    ParamChangeInvalid {
        /// Why.
        reason: ParamChangeProblem,
    },
    /// An uptime report was refused (the whole batch is).
    UptimeReportInvalid {
        /// Index of the first bad report in the batch.
        index: u32,
        /// Why.
        reason: UptimeReportProblem,
    },
    /// The order is below the market's minimum size.
    OrderTooSmall {
        /// Minimum, base units.
        min: Amount<AnyAsset>,
    },
    /// Time cannot go backwards.
    TimeRegression {
        /// Current time.
        now: i64,
        /// Time asked for.
        got: i64,
    },

    // 3. Referenced objects exist and belong to the signer.
    /// No such withdrawal request.
    WithdrawalNotFound,
    /// No such farm.
    FarmNotFound,
    /// No such node.
    NodeNotFound,
    /// No such lease.
    LeaseNotFound,
    /// No catalogue model has this name.
    UnknownModel {
        /// The name given.
        model: String,
    },
    /// No such position.
    PositionNotFound,
    /// No such exit bid in the current round.
    ExitBidNotFound,
    /// No such standing bid.
    StandingBidNotFound,
    /// No such capacity request.
    CapacityRequestNotFound,
    /// No such farming pool (or the node's farm is in none).
    PoolNotFound,
    /// No such minting report.
    ReportNotFound,
    /// No pending parameter change with this id.
    ParamChangeNotFound,
    /// No such exchange market.
    MarketNotFound,
    /// No such open order.
    OrderNotFound,
    /// The signer does not own the farm, node, lease, position, bid or order.
    NotOwner,
    /// The signer is not this node's key, or the key is already used by another node.
    NodeKeyMismatch,

    // 4. Domain rules.
    /// A farm with this name exists.
    FarmNameTaken,
    /// The node is below the minimum specs (spec §9).
    NodeBelowMinimumSpec {
        /// Which rule failed.
        shortfall: MinSpecShortfall,
    },
    /// The slice price is outside the node's band (spec §9).
    PriceOutOfBand {
        /// Band minimum, CC per slice-month.
        min: Amount<Cc>,
        /// Band maximum, CC per slice-month.
        max: Amount<Cc>,
        /// Price given.
        got: Amount<Cc>,
    },
    /// The node has no price set yet, so it cannot be leased.
    NodeNotListed,
    /// Not enough free slices on the node.
    SlicesUnavailable {
        /// Requested slices.
        requested: u32,
        /// Free slices.
        free: u32,
    },
    /// The lease is already closed or cancelling.
    LeaseNotOpen,
    /// No valid oracle price (too few fresh submissions, spec §3).
    PriceUnavailable {
        /// The feed.
        feed: PriceFeed,
    },
    /// Unlocking TFP is closed while TFT trades below the entry parity (spec §4).
    UnlockClosed,
    /// The same external transaction id or payment id was used with different facts.
    AttestationConflict {
        /// The id.
        id: String,
    },
    /// This guardian already signed this subject; a signature counts once.
    DuplicateSignature,
    /// The position cannot close before `until` (spec §8 `position_min_lock`).
    PositionLocked {
        /// Unix seconds.
        until: i64,
    },
    /// The position has open exit bids; cancel them first.
    PositionHasOpenBids,
    /// Inside the lock window before the round closes only a lower min price is accepted.
    ExitBidLocked,
    /// The farming pool's exit quota would be exceeded this round.
    ExitQuotaExceeded {
        /// TFP the member may reserve in this round.
        allowed: Amount<Tfp>,
        /// TFP the member's bids would reserve.
        requested: Amount<Tfp>,
    },
    /// The node does not meet the bid's or request's requirements.
    RequirementsUnmet {
        /// The first unmet requirement.
        unmet: Unmet,
        /// Its required value per slice.
        required: u32,
    },
    /// The request's offer window has closed.
    CapacityRequestClosed,
    /// The offer is above the request's max price.
    OfferAboveMaxPrice {
        /// The max.
        max: Amount<Cc>,
        /// The offer.
        got: Amount<Cc>,
    },
    /// No listed capacity matches; one reason per blocking requirement.
    NoCapacity {
        /// Reasons.
        reasons: Vec<Shortfall>,
    },
    /// The membership change does not apply.
    MembershipConflict {
        /// Why.
        reason: MembershipProblem,
    },
    /// The node's farming pool sets its prices.
    PriceSetByPool,
    /// The node's farming pool leaves prices to its members (policy `free` or `range`, spec §10): the pool
    /// owner cannot set them.
    PriceSetByMember,
    /// The price is outside the farming pool's range.
    PriceOutsidePoolPolicy {
        /// Pool minimum.
        min: Amount<Cc>,
        /// Pool maximum.
        max: Amount<Cc>,
        /// Price given.
        got: Amount<Cc>,
    },
    /// The signed hash is not the report's hash (an altered report does not mint).
    ReportHashMismatch {
        /// The report's hash.
        expected: String,
    },
    /// The report was already minted.
    ReportAlreadyMinted,
    /// The market trades only between verified accounts.
    IdentityRequired,
    /// Inside the lock window before a batch closes only price improvements are accepted.
    OrderLocked,
    /// The order would cross the signer's own resting order on the other side of the market (a buy whose
    /// limit is >= one of its own resting sells, or the reverse): self-trade prevention (decisions §13).
    SelfTrade {
        /// The signer's resting order it would cross.
        order_id: OrderId,
    },
    /// Pool 2's reserve cannot cover the conversion and no partial fill was allowed (spec §5).
    InsufficientPoolLiquidity {
        /// TFP needed.
        needed: Amount<AnyAsset>,
        /// TFP in `pool2.reserve`.
        available: Amount<AnyAsset>,
    },

    // 5. Funds.
    /// The free balance is too low.
    BalanceLow {
        /// The asset.
        asset: Asset,
        /// Needed amount.
        needed: Amount<AnyAsset>,
        /// Available amount.
        available: Amount<AnyAsset>,
    },
    /// Only revenue CC (farmer shares) can be converted to TFP (spec §5).
    RevenueCcLow {
        /// Revenue CC needed.
        needed: Amount<Cc>,
        /// Revenue CC held.
        available: Amount<Cc>,
    },
    /// The position's free TFP cannot cover the bid's reservation.
    PositionTfpLow {
        /// TFP needed.
        needed: Amount<Tfp>,
        /// TFP free.
        available: Amount<Tfp>,
    },

    // 6. Arithmetic.
    /// The result would overflow.
    Overflow,
}

macro_rules! rejection_codes {
    ($($variant:ident $code:literal),* $(,)?) => {
        /// The stable machine-readable code of a [`Rejection`] (its variant without payload), in the same
        /// precedence order. Serialized as the snake_case string, e.g. `"balance_low"`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum RejectionCode {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
        }

        impl RejectionCode {
            /// Every code, in precedence order.
            pub const ALL: &'static [RejectionCode] = &[$(RejectionCode::$variant),*];

            /// The code as text, e.g. `"balance_low"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RejectionCode::$variant => $code,)*
                }
            }
        }

        impl Rejection {
            /// The stable code of this rejection.
            pub fn code(&self) -> RejectionCode {
                match self {
                    $(Rejection::$variant { .. } => RejectionCode::$variant,)*
                }
            }
        }
    };
}

rejection_codes! {
    Halted "halted",
    AccountNotFound "account_not_found",
    AccountExists "account_exists",
    WeakKey "weak_key",
    NonceOutOfRange "nonce_out_of_range",
    NonceReused "nonce_reused",
    NotAuthorized "not_authorized",
    CommandRetired "command_retired",
    AmountNotPositive "amount_not_positive",
    TextInvalid "text_invalid",
    LimitExceeded "limit_exceeded",
    CcNotTransferable "cc_not_transferable",
    AssetNotAllowed "asset_not_allowed",
    SelfTransfer "self_transfer",
    PriceInvalid "price_invalid",
    InvalidSliceCount "invalid_slice_count",
    InvalidPoolRules "invalid_pool_rules",
    ParamChangeInvalid "param_change_invalid",
    UptimeReportInvalid "uptime_report_invalid",
    OrderTooSmall "order_too_small",
    TimeRegression "time_regression",
    WithdrawalNotFound "withdrawal_not_found",
    FarmNotFound "farm_not_found",
    NodeNotFound "node_not_found",
    LeaseNotFound "lease_not_found",
    UnknownModel "unknown_model",
    PositionNotFound "position_not_found",
    ExitBidNotFound "exit_bid_not_found",
    StandingBidNotFound "standing_bid_not_found",
    CapacityRequestNotFound "capacity_request_not_found",
    PoolNotFound "pool_not_found",
    ReportNotFound "report_not_found",
    ParamChangeNotFound "param_change_not_found",
    MarketNotFound "market_not_found",
    OrderNotFound "order_not_found",
    NotOwner "not_owner",
    NodeKeyMismatch "node_key_mismatch",
    FarmNameTaken "farm_name_taken",
    NodeBelowMinimumSpec "node_below_minimum_spec",
    PriceOutOfBand "price_out_of_band",
    NodeNotListed "node_not_listed",
    SlicesUnavailable "slices_unavailable",
    LeaseNotOpen "lease_not_open",
    PriceUnavailable "price_unavailable",
    UnlockClosed "unlock_closed",
    AttestationConflict "attestation_conflict",
    DuplicateSignature "duplicate_signature",
    PositionLocked "position_locked",
    PositionHasOpenBids "position_has_open_bids",
    ExitBidLocked "exit_bid_locked",
    ExitQuotaExceeded "exit_quota_exceeded",
    RequirementsUnmet "requirements_unmet",
    CapacityRequestClosed "capacity_request_closed",
    OfferAboveMaxPrice "offer_above_max_price",
    NoCapacity "no_capacity",
    MembershipConflict "membership_conflict",
    PriceSetByPool "price_set_by_pool",
    PriceSetByMember "price_set_by_member",
    PriceOutsidePoolPolicy "price_outside_pool_policy",
    ReportHashMismatch "report_hash_mismatch",
    ReportAlreadyMinted "report_already_minted",
    IdentityRequired "identity_required",
    OrderLocked "order_locked",
    SelfTrade "self_trade",
    InsufficientPoolLiquidity "insufficient_pool_liquidity",
    BalanceLow "balance_low",
    RevenueCcLow "revenue_cc_low",
    PositionTfpLow "position_tfp_low",
    Overflow "overflow",
}

impl RejectionCode {
    /// `true` for the codes that say a referenced object does not exist (`*_not_found`, `unknown_model`):
    /// HTTP answers them with 404.
    pub fn is_not_found(self) -> bool {
        self.as_str().ends_with("_not_found") || self == RejectionCode::UnknownModel
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Halted { reason } => {
                write!(f, "the node halted ({reason}); it accepts no command until it restarts and replays")
            }
            Rejection::AccountNotFound { account } => write!(f, "account {account} is not registered"),
            Rejection::AccountExists => f.write_str("this account is already registered"),
            Rejection::WeakKey => f.write_str(
                "this key cannot hold an account: it is a small-order or non-canonical ed25519 key",
            ),
            Rejection::NonceOutOfRange { limit, got } => {
                write!(f, "nonce {got} is out of range: nonces must be below {limit} (2^63)")
            }
            Rejection::NonceReused { last, got } => {
                write!(f, "nonce {got} already used: the next nonce must be greater than {last}")
            }
            Rejection::NotAuthorized { role } => write!(f, "only the {role} may do this"),
            Rejection::CommandRetired { command, replaced_by } => {
                write!(f, "{command} is retired: use {replaced_by} (guardian-approved, k-of-n)")
            }
            Rejection::AmountNotPositive => f.write_str("the amount must be greater than zero"),
            Rejection::TextInvalid { field, max_len } => {
                write!(f, "{field} must be 1 to {max_len} bytes of printable text")
            }
            Rejection::LimitExceeded { what, limit } => write!(f, "limit exceeded: at most {limit} {what}"),
            Rejection::CcNotTransferable => f.write_str("Cloud Credits cannot be transferred between users"),
            Rejection::AssetNotAllowed { asset } => write!(f, "{asset} is not allowed for this operation"),
            Rejection::SelfTransfer => f.write_str("sender and receiver are the same account"),
            Rejection::PriceInvalid { reason } => write!(f, "price refused: {reason}"),
            Rejection::InvalidSliceCount { max } => write!(f, "slice count must be between 1 and {max}"),
            Rejection::InvalidPoolRules { reason } => write!(f, "invalid pool rules: {reason}"),
            Rejection::ParamChangeInvalid { reason } => write!(f, "invalid parameter change: {reason}"),
            Rejection::UptimeReportInvalid { index, reason } => {
                write!(f, "uptime report {index} refused: {reason}")
            }
            Rejection::OrderTooSmall { min } => write!(f, "the order is below the market minimum of {min}"),
            Rejection::TimeRegression { now, got } => {
                write!(f, "time {got} is before the current time {now}")
            }
            Rejection::WithdrawalNotFound => f.write_str("no such withdrawal request"),
            Rejection::FarmNotFound => f.write_str("no such farm"),
            Rejection::NodeNotFound => f.write_str("no such node"),
            Rejection::LeaseNotFound => f.write_str("no such lease"),
            Rejection::UnknownModel { model } => write!(f, "no catalogue model named {model:?}"),
            Rejection::PositionNotFound => f.write_str("no such position"),
            Rejection::ExitBidNotFound => f.write_str("no such exit bid in this round"),
            Rejection::StandingBidNotFound => f.write_str("no such standing bid"),
            Rejection::CapacityRequestNotFound => f.write_str("no such capacity request"),
            Rejection::PoolNotFound => f.write_str("no such farming pool"),
            Rejection::ReportNotFound => f.write_str("no such minting report"),
            Rejection::ParamChangeNotFound => f.write_str("no pending parameter change with this id"),
            Rejection::MarketNotFound => f.write_str("no such market"),
            Rejection::OrderNotFound => f.write_str("no such open order"),
            Rejection::NotOwner => f.write_str("the signer does not own this object"),
            Rejection::NodeKeyMismatch => {
                f.write_str("the signer is not this node's key (or the key is taken)")
            }
            other => other.fmt_domain(f),
        }
    }
}

impl Rejection {
    /// The messages of the domain-rule, funds and arithmetic rejections (groups 4-6).
    fn fmt_domain(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::FarmNameTaken => f.write_str("a farm with this name exists"),
            Rejection::NodeBelowMinimumSpec { shortfall } => {
                write!(f, "node below minimum specs: {shortfall}")
            }
            Rejection::PriceOutOfBand { min, max, got } => {
                write!(f, "price {got} CC is outside the band {min} to {max} CC per slice-month")
            }
            Rejection::NodeNotListed => f.write_str("the node has no slice price yet"),
            Rejection::SlicesUnavailable { requested, free } => {
                write!(f, "{requested} slices requested but only {free} free")
            }
            Rejection::LeaseNotOpen => f.write_str("the lease is not open"),
            Rejection::PriceUnavailable { feed } => {
                write!(f, "no valid {} price (too few fresh oracle submissions)", feed.name())
            }
            Rejection::UnlockClosed => {
                f.write_str("unlocking TFP is closed while TFT trades below the entry parity")
            }
            Rejection::AttestationConflict { id } => {
                write!(f, "id {id:?} was already used with different facts")
            }
            Rejection::DuplicateSignature => f.write_str("this guardian already signed this subject"),
            Rejection::PositionLocked { until } => write!(f, "the position is locked until {until}"),
            Rejection::PositionHasOpenBids => f.write_str("the position has open exit bids"),
            Rejection::ExitBidLocked => {
                f.write_str("inside the lock window only a lower min price (same amount) is accepted")
            }
            Rejection::ExitQuotaExceeded { allowed, requested } => write!(
                f,
                "the pool's exit quota allows {allowed} TFP this round, bids would reserve {requested}"
            ),
            Rejection::RequirementsUnmet { unmet, required } => write!(
                f,
                "the node does not meet the requirements: {}",
                Shortfall::Unmet { unmet: *unmet, required: *required }
            ),
            Rejection::CapacityRequestClosed => f.write_str("the request's offer window has closed"),
            Rejection::OfferAboveMaxPrice { max, got } => {
                write!(f, "offer {got} CC is above the max price {max} CC")
            }
            Rejection::NoCapacity { reasons } => {
                let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                write!(f, "no matching capacity: {}", reasons.join("; "))
            }
            Rejection::MembershipConflict { reason } => write!(f, "membership change refused: {reason}"),
            Rejection::PriceSetByPool => f.write_str("this node's farming pool sets its prices"),
            Rejection::PriceSetByMember => f.write_str(
                "this node's farming pool leaves prices to its members; the pool owner cannot set them",
            ),
            Rejection::PriceOutsidePoolPolicy { min, max, got } => {
                write!(f, "price {got} CC is outside the pool's range {min} to {max} CC")
            }
            Rejection::ReportHashMismatch { expected } => {
                write!(f, "the signed hash is not the report's hash {expected}")
            }
            Rejection::ReportAlreadyMinted => f.write_str("the report was already minted"),
            Rejection::IdentityRequired => f.write_str("this market trades only between verified accounts"),
            Rejection::OrderLocked => f.write_str(
                "inside the lock window before the batch closes only price improvements are accepted",
            ),
            Rejection::SelfTrade { order_id } => write!(
                f,
                "the order would trade with your own resting order {order_id} (self-trade prevention): \
                 cancel or amend that order first"
            ),
            _ => self.fmt_funds(f),
        }
    }

    /// Messages of the funds rejections (balances, liquidity, overflow).
    fn fmt_funds(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::InsufficientPoolLiquidity { needed, available } => {
                write!(f, "pool2.reserve holds {available} TFP, {needed} needed")
            }
            Rejection::BalanceLow { asset, needed, available } => {
                write!(f, "insufficient {asset}: {needed} needed, {available} available")
            }
            Rejection::RevenueCcLow { needed, available } => {
                write!(f, "only revenue CC converts to TFP: {needed} needed, {available} available")
            }
            Rejection::PositionTfpLow { needed, available } => {
                write!(f, "the position has {available} TFP free, {needed} needed")
            }
            Rejection::Overflow => f.write_str("the amount is too large"),
            _ => f.write_str(self.code().as_str()),
        }
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_serialize_as_their_text() {
        let mut seen = std::collections::BTreeSet::new();
        for code in RejectionCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert_eq!(serde_json::to_value(code).expect("serializes"), code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        let rejection = Rejection::NotAuthorized { role: Role::Guardian };
        let json = serde_json::to_value(&rejection).expect("serializes");
        assert_eq!(json, serde_json::json!({"code": "not_authorized", "role": "guardian"}));
        assert_eq!(rejection.code(), RejectionCode::NotAuthorized);
        assert!(RejectionCode::NodeNotFound.is_not_found() && RejectionCode::UnknownModel.is_not_found());
        assert!(!RejectionCode::NotOwner.is_not_found());
    }
}
