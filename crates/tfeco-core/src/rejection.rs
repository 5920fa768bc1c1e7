//! Rejections: every way a user can cause a command to be refused, as typed values with stable codes.
//!
//! Checks run in this order of precedence (the first failing check decides the rejection):
//! 1. authority: signer registered (`AccountNotFound`), nonce (`NonceReused`), role (`NotAuthorized`);
//! 2. shape of the input: limits and formats (`AmountNotPositive`, `TextInvalid`, `LimitExceeded`, …);
//! 3. referenced objects exist and belong to the signer (`*NotFound`, `NotOwner`);
//! 4. domain rules (`PriceOutOfBand`, `SlicesUnavailable`, `UnlockClosed`, `PriceUnavailable`, …);
//! 5. funds (`BalanceLow`) and arithmetic (`Overflow`).
//!
//! Codes are stable API: never renamed or reused.

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Tfp};

use crate::command::PriceFeed;
use crate::ids::AccountKey;

/// A refused command. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Rejection {
    /// The account (signer or receiver) is not registered.
    AccountNotFound {
        /// The unknown key.
        account: AccountKey,
    },
    /// `RegisterAccount` for a key that is already registered.
    AccountExists,
    /// The nonce is not greater than the last one this account used.
    NonceReused {
        /// Last nonce used by the account.
        last: u64,
        /// Nonce of the request.
        got: u64,
    },
    /// The signer lacks the role this command needs.
    NotAuthorized {
        /// The role needed (`operator`, `attestor`, `oracle`, `payment_key`).
        role: String,
    },
    /// An amount must be strictly positive.
    AmountNotPositive,
    /// Text (name, id, address) is empty, too long, or has control characters.
    TextInvalid {
        /// Which field.
        field: String,
        /// Maximum length in bytes.
        max_len: u32,
    },
    /// A configured limit would be exceeded.
    LimitExceeded {
        /// What is limited.
        what: String,
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
    /// The free balance is too low.
    BalanceLow {
        /// The asset.
        asset: Asset,
        /// Needed amount.
        needed: Amount<AnyAsset>,
        /// Available amount.
        available: Amount<AnyAsset>,
    },
    /// No valid oracle price (too few fresh submissions, spec §3).
    PriceUnavailable {
        /// The feed.
        feed: PriceFeed,
    },
    /// A submitted price is zero or not newer than the submitter's previous one, or observed after the
    /// state's current time.
    PriceInvalid {
        /// Why.
        reason: String,
    },
    /// Unlocking TFP is closed while TFT trades below the entry parity (spec §4).
    UnlockClosed,
    /// The same external transaction id or payment id was used with different facts.
    AttestationConflict {
        /// The id.
        id: String,
    },
    /// No such withdrawal request.
    WithdrawalNotFound,
    /// No such farm.
    FarmNotFound,
    /// A farm with this name exists.
    FarmNameTaken,
    /// No such node.
    NodeNotFound,
    /// No such lease.
    LeaseNotFound,
    /// The signer does not own the farm, node or lease.
    NotOwner,
    /// No catalogue model has this name.
    UnknownModel {
        /// The name given.
        model: String,
    },
    /// The node is below the minimum specs (spec §9).
    NodeBelowMinimumSpec {
        /// Which rule failed.
        reason: String,
    },
    /// The slice count is zero or above what the node has.
    InvalidSliceCount {
        /// The most allowed.
        max: u32,
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
    /// Time cannot go backwards.
    TimeRegression {
        /// Current time.
        now: i64,
        /// Time asked for.
        got: i64,
    },
    /// The result would overflow.
    Overflow,
    /// Only revenue CC (farmer shares) can be converted to TFP (spec §5).
    RevenueCcLow {
        /// Revenue CC needed.
        needed: Amount<Cc>,
        /// Revenue CC held.
        available: Amount<Cc>,
    },
    /// No such position.
    PositionNotFound,
    /// The position cannot close before `until` (spec §8 `position_min_lock`).
    PositionLocked {
        /// Unix seconds.
        until: i64,
    },
    /// The position has open exit bids; cancel them first.
    PositionHasOpenBids,
    /// The position's free TFP cannot cover the bid's reservation.
    PositionTfpLow {
        /// TFP needed.
        needed: Amount<Tfp>,
        /// TFP free.
        available: Amount<Tfp>,
    },
    /// No such exit bid in the current round.
    ExitBidNotFound,
    /// Inside the lock window before the round closes only a lower min price is accepted.
    ExitBidLocked,
    /// No such standing bid.
    StandingBidNotFound,
    /// The node does not meet the bid's or request's requirements.
    RequirementsUnmet {
        /// Which requirement, in words.
        reason: String,
    },
    /// No such capacity request.
    CapacityRequestNotFound,
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
        reasons: Vec<String>,
    },
    /// No such farming pool (or the node's farm is in none).
    PoolNotFound,
    /// The pool's rules are invalid.
    InvalidPoolRules {
        /// Why.
        reason: String,
    },
    /// The membership change does not apply (already a member, not a member).
    MembershipConflict {
        /// Why.
        reason: String,
    },
    /// The node's farming pool sets its prices.
    PriceSetByPool,
    /// The price is outside the farming pool's range.
    PriceOutsidePoolPolicy {
        /// Pool minimum.
        min: Amount<Cc>,
        /// Pool maximum.
        max: Amount<Cc>,
        /// Price given.
        got: Amount<Cc>,
    },
    /// The farming pool's exit quota would be exceeded this round.
    ExitQuotaExceeded {
        /// TFP the member may reserve in this round.
        allowed: Amount<Tfp>,
        /// TFP the member's bids would reserve.
        requested: Amount<Tfp>,
    },
    /// This guardian already signed this subject; a signature counts once.
    DuplicateSignature,
    /// No such minting report.
    ReportNotFound,
    /// The signed hash is not the report's hash (an altered report does not mint).
    ReportHashMismatch {
        /// The report's hash.
        expected: String,
    },
    /// The report was already minted.
    ReportAlreadyMinted,
    /// No pending parameter change with this id.
    ParamChangeNotFound,
    /// The parameter change is invalid.
    ParamChangeInvalid {
        /// Why.
        reason: String,
    },
    /// An uptime report was refused (not after the previous one, in a closed period, in the future, ...).
    UptimeReportInvalid {
        /// Index of the first bad report in the batch.
        index: u32,
        /// Why.
        reason: String,
    },
    /// The signer is not this node's key, or the key is already used by another node.
    NodeKeyMismatch,
    /// No such market.
    MarketNotFound,
    /// The market trades only between verified accounts.
    IdentityRequired,
    /// The order is below the market's minimum size.
    OrderTooSmall {
        /// Minimum, base units.
        min: Amount<AnyAsset>,
    },
    /// No such open order.
    OrderNotFound,
    /// Inside the lock window before a batch closes only price improvements are accepted.
    OrderLocked,
    /// Pool 2's reserve cannot cover the conversion and no partial fill was allowed (spec §5).
    InsufficientPoolLiquidity {
        /// TFP needed.
        needed: Amount<AnyAsset>,
        /// TFP in `pool2.reserve`.
        available: Amount<AnyAsset>,
    },
}

impl Rejection {
    /// The stable machine-readable code, e.g. `"balance_low"`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::AccountNotFound { .. } => "account_not_found",
            Rejection::AccountExists => "account_exists",
            Rejection::NonceReused { .. } => "nonce_reused",
            Rejection::NotAuthorized { .. } => "not_authorized",
            Rejection::AmountNotPositive => "amount_not_positive",
            Rejection::TextInvalid { .. } => "text_invalid",
            Rejection::LimitExceeded { .. } => "limit_exceeded",
            Rejection::CcNotTransferable => "cc_not_transferable",
            Rejection::AssetNotAllowed { .. } => "asset_not_allowed",
            Rejection::SelfTransfer => "self_transfer",
            Rejection::BalanceLow { .. } => "balance_low",
            Rejection::PriceUnavailable { .. } => "price_unavailable",
            Rejection::PriceInvalid { .. } => "price_invalid",
            Rejection::UnlockClosed => "unlock_closed",
            Rejection::AttestationConflict { .. } => "attestation_conflict",
            Rejection::WithdrawalNotFound => "withdrawal_not_found",
            Rejection::FarmNotFound => "farm_not_found",
            Rejection::FarmNameTaken => "farm_name_taken",
            Rejection::NodeNotFound => "node_not_found",
            Rejection::LeaseNotFound => "lease_not_found",
            Rejection::NotOwner => "not_owner",
            Rejection::UnknownModel { .. } => "unknown_model",
            Rejection::NodeBelowMinimumSpec { .. } => "node_below_minimum_spec",
            Rejection::InvalidSliceCount { .. } => "invalid_slice_count",
            Rejection::PriceOutOfBand { .. } => "price_out_of_band",
            Rejection::NodeNotListed => "node_not_listed",
            Rejection::SlicesUnavailable { .. } => "slices_unavailable",
            Rejection::LeaseNotOpen => "lease_not_open",
            Rejection::TimeRegression { .. } => "time_regression",
            Rejection::Overflow => "overflow",
            Rejection::RevenueCcLow { .. } => "revenue_cc_low",
            Rejection::InsufficientPoolLiquidity { .. } => "insufficient_pool_liquidity",
            Rejection::PositionNotFound => "position_not_found",
            Rejection::PositionLocked { .. } => "position_locked",
            Rejection::PositionHasOpenBids => "position_has_open_bids",
            Rejection::PositionTfpLow { .. } => "position_tfp_low",
            Rejection::ExitBidNotFound => "exit_bid_not_found",
            Rejection::ExitBidLocked => "exit_bid_locked",
            Rejection::StandingBidNotFound => "standing_bid_not_found",
            Rejection::RequirementsUnmet { .. } => "requirements_unmet",
            Rejection::CapacityRequestNotFound => "capacity_request_not_found",
            Rejection::CapacityRequestClosed => "capacity_request_closed",
            Rejection::OfferAboveMaxPrice { .. } => "offer_above_max_price",
            Rejection::NoCapacity { .. } => "no_capacity",
            Rejection::DuplicateSignature => "duplicate_signature",
            Rejection::MarketNotFound => "market_not_found",
            Rejection::IdentityRequired => "identity_required",
            Rejection::OrderTooSmall { .. } => "order_too_small",
            Rejection::OrderNotFound => "order_not_found",
            Rejection::OrderLocked => "order_locked",
            Rejection::ReportNotFound => "report_not_found",
            Rejection::ReportHashMismatch { .. } => "report_hash_mismatch",
            Rejection::ReportAlreadyMinted => "report_already_minted",
            Rejection::ParamChangeNotFound => "param_change_not_found",
            Rejection::ParamChangeInvalid { .. } => "param_change_invalid",
            Rejection::UptimeReportInvalid { .. } => "uptime_report_invalid",
            Rejection::NodeKeyMismatch => "node_key_mismatch",
            Rejection::PoolNotFound => "pool_not_found",
            Rejection::InvalidPoolRules { .. } => "invalid_pool_rules",
            Rejection::MembershipConflict { .. } => "membership_conflict",
            Rejection::PriceSetByPool => "price_set_by_pool",
            Rejection::PriceOutsidePoolPolicy { .. } => "price_outside_pool_policy",
            Rejection::ExitQuotaExceeded { .. } => "exit_quota_exceeded",
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::AccountNotFound { account } => write!(f, "account {account} is not registered"),
            Rejection::AccountExists => f.write_str("this account is already registered"),
            Rejection::NonceReused { last, got } => {
                write!(f, "nonce {got} already used: the next nonce must be greater than {last}")
            }
            Rejection::NotAuthorized { role } => write!(f, "only the {role} may do this"),
            Rejection::AmountNotPositive => f.write_str("the amount must be greater than zero"),
            Rejection::TextInvalid { field, max_len } => {
                write!(f, "{field} must be 1 to {max_len} bytes of printable text")
            }
            Rejection::LimitExceeded { what, limit } => write!(f, "limit exceeded: at most {limit} {what}"),
            Rejection::CcNotTransferable => f.write_str("Cloud Credits cannot be transferred between users"),
            Rejection::AssetNotAllowed { asset } => write!(f, "{asset} is not allowed for this operation"),
            Rejection::SelfTransfer => f.write_str("sender and receiver are the same account"),
            Rejection::BalanceLow { asset, needed, available } => {
                write!(f, "insufficient {asset}: {needed} needed, {available} available")
            }
            Rejection::PriceUnavailable { feed } => {
                write!(f, "no valid {} price (too few fresh oracle submissions)", feed.name())
            }
            Rejection::PriceInvalid { reason } => write!(f, "price refused: {reason}"),
            Rejection::UnlockClosed => {
                f.write_str("unlocking TFP is closed while TFT trades below the entry parity")
            }
            Rejection::AttestationConflict { id } => {
                write!(f, "id {id:?} was already used with different facts")
            }
            Rejection::WithdrawalNotFound => f.write_str("no such withdrawal request"),
            Rejection::FarmNotFound => f.write_str("no such farm"),
            Rejection::FarmNameTaken => f.write_str("a farm with this name exists"),
            Rejection::NodeNotFound => f.write_str("no such node"),
            Rejection::LeaseNotFound => f.write_str("no such lease"),
            Rejection::NotOwner => f.write_str("the signer does not own this object"),
            Rejection::UnknownModel { model } => write!(f, "no catalogue model named {model:?}"),
            Rejection::NodeBelowMinimumSpec { reason } => write!(f, "node below minimum specs: {reason}"),
            Rejection::InvalidSliceCount { max } => write!(f, "slice count must be between 1 and {max}"),
            Rejection::PriceOutOfBand { min, max, got } => {
                write!(f, "price {got} CC is outside the band {min} to {max} CC per slice-month")
            }
            Rejection::NodeNotListed => f.write_str("the node has no slice price yet"),
            Rejection::SlicesUnavailable { requested, free } => {
                write!(f, "{requested} slices requested but only {free} free")
            }
            Rejection::LeaseNotOpen => f.write_str("the lease is not open"),
            Rejection::TimeRegression { now, got } => {
                write!(f, "time {got} is before the current time {now}")
            }
            Rejection::Overflow => f.write_str("the amount is too large"),
            Rejection::RevenueCcLow { needed, available } => {
                write!(f, "only revenue CC converts to TFP: {needed} needed, {available} available")
            }
            Rejection::PositionNotFound => f.write_str("no such position"),
            Rejection::PositionLocked { until } => write!(f, "the position is locked until {until}"),
            Rejection::PositionHasOpenBids => f.write_str("the position has open exit bids"),
            Rejection::PositionTfpLow { needed, available } => {
                write!(f, "the position has {available} TFP free, {needed} needed")
            }
            Rejection::ExitBidNotFound => f.write_str("no such exit bid in this round"),
            Rejection::ExitBidLocked => {
                f.write_str("inside the lock window only a lower min price (same amount) is accepted")
            }
            Rejection::StandingBidNotFound => f.write_str("no such standing bid"),
            Rejection::RequirementsUnmet { reason } => {
                write!(f, "the node does not meet the requirements: {reason}")
            }
            Rejection::CapacityRequestNotFound => f.write_str("no such capacity request"),
            Rejection::CapacityRequestClosed => f.write_str("the request's offer window has closed"),
            Rejection::OfferAboveMaxPrice { max, got } => {
                write!(f, "offer {got} CC is above the max price {max} CC")
            }
            Rejection::NoCapacity { reasons } => write!(f, "no matching capacity: {}", reasons.join("; ")),
            Rejection::DuplicateSignature => f.write_str("this guardian already signed this subject"),
            Rejection::MarketNotFound => f.write_str("no such market"),
            Rejection::IdentityRequired => f.write_str("this market trades only between verified accounts"),
            Rejection::OrderTooSmall { min } => write!(f, "the order is below the market minimum of {min}"),
            Rejection::OrderNotFound => f.write_str("no such open order"),
            Rejection::OrderLocked => f.write_str(
                "inside the lock window before the batch closes only price improvements are accepted",
            ),
            Rejection::ReportNotFound => f.write_str("no such minting report"),
            Rejection::ReportHashMismatch { expected } => {
                write!(f, "the signed hash is not the report's hash {expected}")
            }
            Rejection::ReportAlreadyMinted => f.write_str("the report was already minted"),
            Rejection::ParamChangeNotFound => f.write_str("no pending parameter change with this id"),
            Rejection::ParamChangeInvalid { reason } => write!(f, "invalid parameter change: {reason}"),
            Rejection::UptimeReportInvalid { index, reason } => {
                write!(f, "uptime report {index} refused: {reason}")
            }
            Rejection::NodeKeyMismatch => {
                f.write_str("the signer is not this node's key (or the key is taken)")
            }
            Rejection::PoolNotFound => f.write_str("no such farming pool"),
            Rejection::InvalidPoolRules { reason } => write!(f, "invalid pool rules: {reason}"),
            Rejection::MembershipConflict { reason } => write!(f, "membership change refused: {reason}"),
            Rejection::PriceSetByPool => f.write_str("this node's farming pool sets its prices"),
            Rejection::PriceOutsidePoolPolicy { min, max, got } => {
                write!(f, "price {got} CC is outside the pool's range {min} to {max} CC")
            }
            Rejection::ExitQuotaExceeded { allowed, requested } => {
                write!(
                    f,
                    "the pool's exit quota allows {allowed} TFP this round, bids would reserve {requested}"
                )
            }
            Rejection::InsufficientPoolLiquidity { needed, available } => {
                write!(f, "pool2.reserve holds {available} TFP, {needed} needed")
            }
        }
    }
}

impl std::error::Error for Rejection {}
