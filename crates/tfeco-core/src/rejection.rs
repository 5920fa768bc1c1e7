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
use tfeco_money::{Amount, AnyAsset, Asset, Cc};

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
        }
    }
}

impl std::error::Error for Rejection {}
