//! The error contract: every `code` the node can answer ([`ErrorCode`]), its HTTP status, and the error
//! body `{code, message, detail?}` ([`ErrorBody`]).
//!
//! Codes are stable API: never renamed or reused. Rejection codes are the core's
//! (`tfeco_core::Rejection::code`); the others are answered by the HTTP layer (transport, parsing,
//! authentication, limits) or by the income calculator.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tfeco_core::Rejection;
use utoipa::ToSchema;

/// Declares [`ErrorCode`] with its stable code strings and HTTP statuses, in one table.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal => $status:literal,)*) => {
        /// Every error code the node answers, with its HTTP status ([`ErrorCode::http_status`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable code, e.g. `"balance_low"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status the node answers with this code.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    // --- Transport and parsing (400) ---
    /// The body is not JSON (or is cut short).
    MalformedJson = "malformed_json" => 400,
    /// An object has a field the contract does not define, or a command name is unknown.
    UnknownField = "unknown_field" => 400,
    /// Well-formed JSON of the wrong shape (missing field, wrong type, bad key, ...).
    InvalidRequest = "invalid_request" => 400,
    /// An amount has more than 7 decimals.
    AmountTooManyDecimals = "amount_too_many_decimals" => 400,
    /// An amount is negative.
    AmountNegative = "amount_negative" => 400,
    /// An amount does not fit.
    AmountOverflow = "amount_overflow" => 400,
    /// A query parameter is unknown, repeated, malformed or out of range; the message names it.
    InvalidQuery = "invalid_query" => 400,
    /// An account key in the path or a header is not 64 hex characters.
    InvalidAccount = "invalid_account" => 400,
    /// A numeric id in the path is not a whole number.
    InvalidId = "invalid_id" => 400,
    /// A minting period in the path is not a whole number.
    InvalidPeriod = "invalid_period" => 400,
    /// A node id in the path is not a whole number.
    InvalidNode = "invalid_node" => 400,
    /// The request's expiry is further ahead than the node accepts.
    ExpiryTooFar = "expiry_too_far" => 400,
    // --- Authentication (401) ---
    /// The signature is not hex or does not verify for the signer (and path, for a signed read).
    BadSignature = "bad_signature" => 401,
    /// The request's expiry has passed, or a signed read's timestamp is outside the window.
    RequestExpired = "request_expired" => 401,
    /// A signed read without its `x-tfeco-*` headers.
    SignedReadRequired = "signed_read_required" => 401,
    /// A signed request by an account that may not make it (e.g. a journal read by neither a guardian nor
    /// the operator, a checkpoint proposed by another account than the operator).
    SignedReadForbidden = "signed_read_forbidden" => 403,
    /// A signed read of another account's sealed details (only the account itself may read them).
    SignedReadNotOwner = "signed_read_not_owner" => 403,
    /// A signed read whose signature the node already accepted (signed reads are one-time).
    ReadReplayed = "read_replayed" => 401,
    // --- Routing and limits ---
    /// No route has this path.
    NotFound = "not_found" => 404,
    /// No published result for this exit round.
    RoundNotFound = "round_not_found" => 404,
    /// This node keeps no events for this sequence number (not a command it answered with more than one
    /// page, or an older one).
    EventsNotFound = "events_not_found" => 404,
    /// No checkpoint at this sequence number.
    CheckpointNotFound = "checkpoint_not_found" => 404,
    /// This node keeps no checkpoints (it runs without a data directory).
    CheckpointsDisabled = "checkpoints_disabled" => 404,
    /// The path exists but not with this method.
    MethodNotAllowed = "method_not_allowed" => 405,
    /// The body is larger than the node accepts.
    PayloadTooLarge = "payload_too_large" => 413,
    /// More signed requests from this account than its rate allows, or more signed reads at once than
    /// the node tracks (see `Retry-After`).
    RateLimited = "rate_limited" => 429,
    /// The node could not write a file of its data directory (e.g. a checkpoint); nothing changed.
    StorageFailed = "storage_failed" => 500,
    /// The node is stopping, or stopped after a storage failure.
    Unavailable = "unavailable" => 503,
    /// The node halted after an invariant failed (fail-stop): it accepts no command until an operator
    /// restarts it (the restart replays the journal, which never recorded the violating command).
    Halted = "halted" => 503,
    // --- Income calculator (422) ---
    /// The offered slices are outside 1 to the model's maximum.
    OfferedSlicesOutOfRange = "offered_slices_out_of_range" => 422,
    /// A calculator parameter is invalid (e.g. a minimum factor above the maximum).
    InvalidParam = "invalid_param" => 422,
    // --- Rejections of the core (`tfeco_core::Rejection::code`) ---
    /// The account (signer or receiver) is not registered.
    AccountNotFound = "account_not_found" => 404,
    /// The account is already registered.
    AccountExists = "account_exists" => 409,
    /// The key cannot register: small order or non-canonical (decisions §2).
    WeakKey = "weak_key" => 422,
    /// The nonce is at or above 2^63 (nonces are below it).
    NonceOutOfRange = "nonce_out_of_range" => 422,
    /// The nonce is not greater than the account's last one.
    NonceReused = "nonce_reused" => 409,
    /// The signer lacks the role the command needs.
    NotAuthorized = "not_authorized" => 403,
    /// The command kind is retired for everyone (e.g. `fund_exit_pool`); the detail names its replacement.
    CommandRetired = "command_retired" => 410,
    /// An amount must be strictly positive.
    AmountNotPositive = "amount_not_positive" => 422,
    /// Text is empty, too long, or has control characters.
    TextInvalid = "text_invalid" => 422,
    /// A configured limit would be exceeded.
    LimitExceeded = "limit_exceeded" => 422,
    /// CC cannot be transferred between users.
    CcNotTransferable = "cc_not_transferable" => 422,
    /// The asset is not allowed for this operation.
    AssetNotAllowed = "asset_not_allowed" => 422,
    /// Sender and receiver are the same account.
    SelfTransfer = "self_transfer" => 422,
    /// The free balance is too low.
    BalanceLow = "balance_low" => 422,
    /// No valid oracle price.
    PriceUnavailable = "price_unavailable" => 422,
    /// A submitted price is refused.
    PriceInvalid = "price_invalid" => 422,
    /// Unlocking TFP is closed while TFT trades below the entry parity.
    UnlockClosed = "unlock_closed" => 422,
    /// An external id was already used with different facts.
    AttestationConflict = "attestation_conflict" => 409,
    /// No such withdrawal request.
    WithdrawalNotFound = "withdrawal_not_found" => 404,
    /// No such farm.
    FarmNotFound = "farm_not_found" => 404,
    /// A farm with this name exists.
    FarmNameTaken = "farm_name_taken" => 409,
    /// No such node.
    NodeNotFound = "node_not_found" => 404,
    /// No such lease.
    LeaseNotFound = "lease_not_found" => 404,
    /// The signer does not own the farm, node or lease.
    NotOwner = "not_owner" => 422,
    /// No catalogue model has this name.
    UnknownModel = "unknown_model" => 404,
    /// The node is below the minimum specs.
    NodeBelowMinimumSpec = "node_below_minimum_spec" => 422,
    /// The slice count is zero or above what the node has.
    InvalidSliceCount = "invalid_slice_count" => 422,
    /// The slice price is outside the node's (or model's) band.
    PriceOutOfBand = "price_out_of_band" => 422,
    /// The node has no price yet.
    NodeNotListed = "node_not_listed" => 422,
    /// Not enough free slices on the node.
    SlicesUnavailable = "slices_unavailable" => 422,
    /// The lease is already closed or cancelling.
    LeaseNotOpen = "lease_not_open" => 422,
    /// Time cannot go backwards.
    TimeRegression = "time_regression" => 422,
    /// The result would overflow.
    Overflow = "overflow" => 422,
    /// Only revenue CC can be converted to TFP.
    RevenueCcLow = "revenue_cc_low" => 422,
    /// Pool 2's reserve cannot cover the conversion.
    InsufficientPoolLiquidity = "insufficient_pool_liquidity" => 422,
    /// No such exit-pool position.
    PositionNotFound = "position_not_found" => 404,
    /// The position cannot close yet.
    PositionLocked = "position_locked" => 422,
    /// The position has open exit bids.
    PositionHasOpenBids = "position_has_open_bids" => 422,
    /// The position's free TFP cannot cover the bid.
    PositionTfpLow = "position_tfp_low" => 422,
    /// No such exit bid in the current round.
    ExitBidNotFound = "exit_bid_not_found" => 404,
    /// Inside the lock window only a lower min price is accepted.
    ExitBidLocked = "exit_bid_locked" => 422,
    /// No such standing bid.
    StandingBidNotFound = "standing_bid_not_found" => 404,
    /// The node does not meet the requirements.
    RequirementsUnmet = "requirements_unmet" => 422,
    /// No such capacity request.
    CapacityRequestNotFound = "capacity_request_not_found" => 404,
    /// The request's offer window has closed.
    CapacityRequestClosed = "capacity_request_closed" => 422,
    /// The offer is above the request's max price.
    OfferAboveMaxPrice = "offer_above_max_price" => 422,
    /// No listed capacity matches.
    NoCapacity = "no_capacity" => 422,
    /// A guardian signature counts once.
    DuplicateSignature = "duplicate_signature" => 422,
    /// No such exchange market.
    MarketNotFound = "market_not_found" => 404,
    /// The market trades only between verified accounts.
    IdentityRequired = "identity_required" => 422,
    /// The order is below the market's minimum size.
    OrderTooSmall = "order_too_small" => 422,
    /// No such open order.
    OrderNotFound = "order_not_found" => 404,
    /// Inside the lock window only price improvements are accepted.
    OrderLocked = "order_locked" => 422,
    /// The order would cross the signer's own resting order (self-trade prevention).
    SelfTrade = "self_trade" => 409,
    /// No such minting report.
    ReportNotFound = "report_not_found" => 404,
    /// The signed hash is not the report's hash.
    ReportHashMismatch = "report_hash_mismatch" => 422,
    /// The report was already minted.
    ReportAlreadyMinted = "report_already_minted" => 422,
    /// No pending parameter change with this id.
    ParamChangeNotFound = "param_change_not_found" => 404,
    /// The parameter change is invalid.
    ParamChangeInvalid = "param_change_invalid" => 422,
    /// An uptime report was refused.
    UptimeReportInvalid = "uptime_report_invalid" => 422,
    /// The signer is not this node's key, or the key is used by another node.
    NodeKeyMismatch = "node_key_mismatch" => 422,
    /// No such farming pool.
    PoolNotFound = "pool_not_found" => 404,
    /// The pool's rules are invalid.
    InvalidPoolRules = "invalid_pool_rules" => 422,
    /// The membership change does not apply.
    MembershipConflict = "membership_conflict" => 422,
    /// The node's farming pool sets its prices.
    PriceSetByPool = "price_set_by_pool" => 422,
    /// The node's farming pool leaves prices to its members; its owner cannot set them.
    PriceSetByMember = "price_set_by_member" => 422,
    /// The price is outside the farming pool's range.
    PriceOutsidePoolPolicy = "price_outside_pool_policy" => 422,
    /// The farming pool's exit quota would be exceeded this round.
    ExitQuotaExceeded = "exit_quota_exceeded" => 422,
}

impl ErrorCode {
    /// The code of a core rejection.
    ///
    /// A test checks that every rejection code of the core has a variant here; a code missing from this
    /// enum would be a bug of this crate, answered as [`ErrorCode::InvalidRequest`].
    pub fn of_rejection(rejection: &tfeco_core::Rejection) -> ErrorCode {
        rejection.code().as_str().parse().unwrap_or(ErrorCode::InvalidRequest)
    }

    /// The codes answered with `status`.
    pub fn with_status(status: u16) -> impl Iterator<Item = ErrorCode> {
        ErrorCode::ALL.iter().copied().filter(move |code| code.http_status() == status)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a known [`ErrorCode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownErrorCode(pub String);

impl fmt::Display for UnknownErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown error code {:?}", self.0)
    }
}

impl std::error::Error for UnknownErrorCode {}

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// The body of every error answer: `{"code": "balance_low", "message": "...", "detail": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The stable code.
    pub code: ErrorCode,
    /// A human-readable explanation (wording may change; match on `code`).
    pub message: String,
    /// For a core rejection: the rejection itself, `{"code": ..., <fields>}` (e.g. `needed` and
    /// `available` of `balance_low`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<Rejection>>,
}

impl ErrorBody {
    /// An error without detail.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody { code, message: message.into(), detail: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde_and_from_str() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), *code);
            assert_eq!(code.as_str().parse::<ErrorCode>().unwrap(), *code);
        }
        assert!("no_such_code".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn every_not_found_is_404() {
        for code in ErrorCode::ALL {
            if code.as_str().ends_with("_not_found") || *code == ErrorCode::UnknownModel {
                assert_eq!(code.http_status(), 404, "{code}");
            }
        }
    }

    /// Rejections with each kind of payload (none, ids, amounts, roles, limits, nested tagged reasons, a
    /// list of shortfalls): the error body carrying one decodes back to the same rejection, with the keys
    /// the document gives that rejection.
    #[test]
    fn an_error_body_with_a_rejection_round_trips_through_json() {
        use tfeco_core::rejection::{Limit, TextField, UptimeReportProblem};
        use tfeco_core::rules::billing::MinSpecShortfall;
        use tfeco_core::rules::minting::UptimeError;
        use tfeco_core::rules::oracle::PriceProblem;
        use tfeco_core::{AccountKey, Role, Shortfall, Unmet};
        let amount =
            |text: &str| -> tfeco_money::Amount<tfeco_money::Cc> { text.parse().expect("an amount") };
        let rejections = [
            Rejection::AccountExists,
            Rejection::AccountNotFound { account: AccountKey([3; 32]) },
            Rejection::NotAuthorized { role: Role::Guardian },
            Rejection::CommandRetired {
                command: "fund_exit_pool".to_owned(),
                replaced_by: "approve_treasury_transfer".to_owned(),
            },
            Rejection::TextInvalid { field: TextField::FarmName, max_len: 64 },
            Rejection::LimitExceeded { what: Limit::Time, limit: u64::MAX },
            Rejection::PriceInvalid { reason: PriceProblem::ObservedInFuture { observed_at: 9, now: 8 } },
            Rejection::UptimeReportInvalid {
                index: 2,
                reason: UptimeReportProblem::Tracker(UptimeError::PeriodClosed { period: 91 }),
            },
            Rejection::NodeBelowMinimumSpec { shortfall: MinSpecShortfall::Memory { have: 2, min: 4 } },
            Rejection::NoCapacity {
                reasons: vec![
                    Shortfall::Unmet { unmet: Unmet::Memory, required: 8 },
                    Shortfall::AllAboveMaxPrice {
                        eligible: 2,
                        max_price_month: amount("1"),
                        cheapest: amount("1.5"),
                    },
                ],
            },
            Rejection::BalanceLow {
                asset: tfeco_money::Asset::Tft,
                needed: "12.5".parse().expect("an amount"),
                available: "0.0000001".parse().expect("an amount"),
            },
            Rejection::Overflow,
        ];
        let document = serde_json::to_value(crate::openapi::document()).expect("encodes");
        let documented = document["components"]["schemas"]["Rejection"]["oneOf"].as_array().expect("a oneOf");
        for rejection in rejections {
            let body = ErrorBody {
                code: ErrorCode::of_rejection(&rejection),
                message: rejection.to_string(),
                detail: Some(Box::new(rejection.clone())),
            };
            let json = serde_json::to_value(&body).expect("encodes");
            assert_eq!(json["detail"]["code"], json["code"], "{json}");
            let variant = documented
                .iter()
                .find(|v| v["properties"]["code"]["enum"][0] == json["code"])
                .expect("a documented rejection");
            let keys = json["detail"].as_object().expect("an object").keys();
            let properties = variant["properties"].as_object().expect("properties");
            assert!(keys.into_iter().all(|k| properties.contains_key(k)), "{json} against {variant}");
            assert_eq!(serde_json::from_value::<ErrorBody>(json.clone()).expect("decodes"), body, "{json}");
        }
    }

    /// Every code `tfeco_core::Rejection::code` can return has an [`ErrorCode`] (so a new rejection without
    /// one fails here), and none is a transport error.
    #[test]
    fn every_rejection_code_of_the_core_has_an_error_code() {
        assert!(tfeco_core::RejectionCode::ALL.len() > 60);
        for code in tfeco_core::RejectionCode::ALL {
            let parsed = code.as_str().parse::<ErrorCode>().unwrap_or_else(|e| panic!("{e}"));
            assert_ne!(parsed.http_status(), 400, "{code}: a rejection is not a transport error");
            assert_eq!(parsed.as_str(), code.as_str());
        }
    }
}
