//! Commands (the only inputs that change state), their envelope, and the canonical bytes a client signs.
//!
//! The `Command` enum is the journaled wire format: its serde shape is versioned and only grows (new
//! variants at the end; never reorder or reuse). JSON uses externally tagged snake_case variants, e.g.
//! `{"transfer": {"asset": "TFT", "to": "ab…", "amount": "12.5"}}`; the journal uses postcard.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Price, Tfp, Tft, Usdc};

use crate::capacity::{Requirements, SearchQuery};
use crate::catalogue::Resources;
use crate::farming::{MembershipChange, PoolRules};
use crate::governance::ParamUpdate;
use crate::ids::{AccountKey, ExitBidId, FarmId, LeaseId, NodeId, PositionId, WithdrawalId};
use crate::rewards::UptimeSample;

/// An oracle price feed (spec `decisions.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// How a lease is billed (spec `decisions.md` §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// One-hour periods at the hourly price (monthly price / 720 × premium).
    Hourly,
    /// 720-hour periods at the listed monthly price; not refundable.
    Monthly,
}

/// What a node is: a catalogue model or custom resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// A state-changing command. Each is validated fully before anything changes; a rejection is a
/// [`crate::Rejection`] and leaves the state untouched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Registers the signer's key as an account.
    RegisterAccount {},
    /// Moves TFT, TFP or USDC to another registered account. CC is refused (`CcNotTransferable`).
    Transfer {
        /// The asset (TFT, TFP or USDC).
        asset: Asset,
        /// The receiving account.
        to: AccountKey,
        /// The amount, > 0.
        amount: Amount<AnyAsset>,
    },
    /// An attestor confirms an external deposit of TFT or USDC; executes once `attestation_threshold`
    /// attestors agree on the same facts; idempotent by `external_tx_id`.
    AttestDeposit {
        /// TFT or USDC.
        asset: Asset,
        /// The credited account.
        to: AccountKey,
        /// The amount, > 0.
        amount: Amount<AnyAsset>,
        /// The external (bridge) transaction id, unique.
        external_tx_id: String,
    },
    /// A user asks to withdraw TFT or USDC to an external address; the funds move to `escrow.withdrawals`.
    RequestWithdrawal {
        /// TFT or USDC.
        asset: Asset,
        /// The amount, > 0.
        amount: Amount<AnyAsset>,
        /// External destination address (opaque text).
        destination: String,
    },
    /// An attestor confirms that a requested withdrawal was paid out externally; the escrowed funds leave
    /// the system. Idempotent by `external_tx_id`.
    AttestWithdrawal {
        /// The withdrawal request.
        withdrawal_id: WithdrawalId,
        /// The external transaction id, unique.
        external_tx_id: String,
    },
    /// An oracle submitter reports a price observed at `observed_at` (unix seconds).
    SubmitPrice {
        /// The feed.
        feed: PriceFeed,
        /// USD per TFT, or USD per troy ounce of gold.
        price: Price,
        /// Observation time, unix seconds; not after the state's time.
        observed_at: i64,
    },
    /// Pool 1 entry: TFT locked in the vault, TFP minted into `pool2.reserve`, CC minted to the signer.
    EnterWithTft {
        /// TFT brought in, > 0.
        tft: Amount<Tft>,
    },
    /// Fiat entry attested by a payment key: mints `usd / cc_usd` CC to `to`, credits the USD as USDC to
    /// the treasury. Idempotent by `payment_id`.
    EnterWithFiat {
        /// The paying user.
        to: AccountKey,
        /// USD paid, 7 decimals.
        usd: Amount<Usdc>,
        /// Unique payment id from the payment processor.
        payment_id: String,
    },
    /// Locks TFT in the vault and mints the same TFP to the signer (1:1).
    LockTft {
        /// TFT to lock, > 0.
        tft: Amount<Tft>,
    },
    /// Burns TFP and releases the same TFT from the vault; only while `tft_usd >= cc_usd / entry_rate`.
    UnlockTfp {
        /// TFP to return, > 0.
        tfp: Amount<Tfp>,
    },
    /// Registers a farm owned by the signer.
    RegisterFarm {
        /// Display name, 1..=max_text_len bytes, unique.
        name: String,
    },
    /// Registers a node in one of the signer's farms.
    RegisterNode {
        /// The farm.
        farm_id: FarmId,
        /// Model or custom resources.
        spec: NodeSpec,
        /// Slices offered (default: all of the node's slices); at most the node's slices.
        offered_slices: Option<u32>,
    },
    /// Sets the price of one slice-month of a node, inside its band.
    SetSlicePrice {
        /// The node (of one of the signer's farms).
        node_id: NodeId,
        /// CC per slice-month.
        price: Amount<Cc>,
    },
    /// Leases `n_slices` of a node at its listed price; the first period is charged at once.
    OpenLease {
        /// The node.
        node_id: NodeId,
        /// Slices, 1..=free slices.
        n_slices: u32,
        /// Hourly or monthly periods.
        billing: Billing,
        /// Number of periods after which the lease expires (`None`: until cancelled).
        periods: Option<u32>,
    },
    /// Ends a lease at the end of its current (paid) period; a lease in grace closes at once.
    CancelLease {
        /// The lease (of the signer).
        lease_id: LeaseId,
    },
    /// Advances time to `now` (unix seconds) and runs everything due: billing, grace expiry, pending burns,
    /// exit rounds. Operator only.
    Tick {
        /// The new time, unix seconds, not before the current time.
        now: i64,
    },
    /// Pool 2: converts revenue CC to TFP at the oracle price; the CC is burned and
    /// `floor(cc * cc_usd / tft_usd)` TFP leave `pool2.reserve` (spec `decisions.md` §5).
    ConvertCcToTfp {
        /// Revenue CC to convert, > 0.
        cc: Amount<Cc>,
        /// Convert as much as the reserve allows instead of refusing a shortfall.
        allow_partial: bool,
    },
    /// Pool 2: TFP into `pool2.reserve`, `floor(tfp * tft_usd / cc_usd)` ordinary CC minted (spec §5).
    ConvertTfpToCc {
        /// TFP to convert, > 0.
        tfp: Amount<Tfp>,
    },
    /// A farmer's settlement preference: revenue stays CC, or converts to TFP when credited (spec §6).
    SetSettlement {
        /// CC or TFP.
        settle_in: Settlement,
    },
    /// Operator: moves USDC from the treasury into the exit pool (spec §8).
    FundExitPool {
        /// USDC, > 0.
        usdc: Amount<Usdc>,
    },
    /// Locks TFP in the exit pool as a permanent, non-transferable position (spec §8).
    OpenPosition {
        /// TFP, > 0.
        tfp: Amount<Tfp>,
    },
    /// Closes a position after `position_min_lock_s`, returning its TFP and earned TFP.
    ClosePosition {
        /// The position (of the signer).
        position_id: PositionId,
    },
    /// A sealed exit bid in the current round against one's position: sell TFP for `usdc` at no less than
    /// `min_price` USD per TFP; `ceil(usdc / min_price)` TFP is reserved on the position.
    SubmitExitBid {
        /// The position.
        position_id: PositionId,
        /// USDC wanted, > 0.
        usdc: Amount<Usdc>,
        /// Lowest acceptable price, USD per TFP, > 0.
        min_price: Price,
        /// Keep the unfilled part for the next round instead of releasing it.
        carry_over: bool,
    },
    /// Changes an exit bid: any change until the lock window; inside it only a lower min price.
    AmendExitBid {
        /// The bid.
        bid_id: ExitBidId,
        /// New USDC amount.
        usdc: Amount<Usdc>,
        /// New min price.
        min_price: Price,
    },
    /// Cancels an exit bid (not inside the lock window).
    CancelExitBid {
        /// The bid.
        bid_id: ExitBidId,
    },
    /// Posts a standing bid (a bid tier): up to `quantity` slices meeting `requirements` at `price_month`
    /// CC per slice-month, monthly; the first period of the whole quantity is escrowed (spec §9).
    PostStandingBid {
        /// A name, e.g. "Standard Compute".
        name: String,
        /// Per-slice requirements.
        requirements: Requirements,
        /// CC per slice-month.
        price_month: Amount<Cc>,
        /// Slices wanted.
        quantity: u32,
        /// Lease length in months (`None`: until cancelled).
        periods: Option<u32>,
    },
    /// A farmer fills a standing bid with slices of an eligible node (a lease at the bid price).
    FillStandingBid {
        /// The bid.
        bid_id: u64,
        /// The node (of the signer's farm).
        node_id: NodeId,
        /// Slices.
        n_slices: u32,
    },
    /// The buyer cancels a standing bid; the unused escrow is refunded.
    CancelStandingBid {
        /// The bid.
        bid_id: u64,
    },
    /// Posts a capacity request (reverse auction): `max_price_month * n_slices` CC escrowed; farmers offer
    /// during `window_s`; `Tick` closes it (spec §9).
    PostCapacityRequest {
        /// Per-slice requirements.
        requirements: Requirements,
        /// Slices wanted.
        n_slices: u32,
        /// Highest price per slice-month.
        max_price_month: Amount<Cc>,
        /// Lease length in months (`None`: until cancelled).
        periods: Option<u32>,
        /// Offer window, seconds.
        window_s: i64,
    },
    /// A farmer offers a node for a capacity request at `price_month <= max`.
    OfferCapacity {
        /// The request.
        request_id: u64,
        /// The node (of the signer's farm).
        node_id: NodeId,
        /// CC per slice-month.
        price_month: Amount<Cc>,
    },
    /// Creates a farming pool owned by the signer (spec §10).
    CreateFarmingPool {
        /// Name, unique.
        name: String,
        /// Rules.
        rules: PoolRules,
    },
    /// One side's signature (farm owner or pool owner) on a join or leave; the second completes it.
    SignPoolMembership {
        /// The pool.
        pool_id: u64,
        /// The farm.
        farm_id: FarmId,
        /// Join or leave.
        change: MembershipChange,
    },
    /// The pool owner sets a member node's slice price (inside the node's band).
    SetPoolPrice {
        /// The node.
        node_id: NodeId,
        /// CC per slice-month.
        price: Amount<Cc>,
    },
    /// The farmer names the registered key its node signs uptime reports with.
    SetNodeKey {
        /// The node.
        node_id: NodeId,
        /// The node's key.
        node_key: AccountKey,
    },
    /// A node reports uptime samples (signed by its node key), at most `max_uptime_reports_per_command`.
    ReportUptime {
        /// The node.
        node_id: NodeId,
        /// Samples in time order.
        reports: Vec<UptimeSample>,
    },
    /// A guardian signs a minting report's hash; the threshold mints (spec §11).
    SignMintReport {
        /// The period.
        period: u32,
        /// The report hash the guardian re-computed (hex).
        report_hash: String,
    },
    /// A guardian proposes a parameter change (its proposal is its signature).
    ProposeParamChange {
        /// The change.
        update: ParamUpdate,
    },
    /// A guardian signs a pending parameter change.
    SignParamChange {
        /// The change.
        change_id: u64,
    },
    /// Places a prefunded, sealed limit order in a market's next batch (spec §13).
    PlaceOrder {
        /// The market.
        market_id: u32,
        /// Buy or sell.
        side: crate::exchange::Side,
        /// Base units.
        quantity: Amount<AnyAsset>,
        /// Quote per whole base token.
        limit_price: Price,
        /// Batches the order lives (default: the market's).
        expires_after_batches: Option<u32>,
    },
    /// Cancels an order (not inside the lock window); the escrow is refunded.
    CancelOrder {
        /// The order.
        order_id: u64,
    },
    /// Changes an order; inside the lock window only improvements.
    AmendOrder {
        /// The order.
        order_id: u64,
        /// New quantity, base units.
        quantity: Amount<AnyAsset>,
        /// New limit.
        limit_price: Price,
    },
    /// The operator (identity provider) marks an account verified for identity-gated markets.
    SetVerified {
        /// The account.
        account: AccountKey,
        /// Verified or not.
        verified: bool,
    },
    /// Instant take: leases `n_slices` on the cheapest node matching the query at its listed price.
    TakeCapacity {
        /// Requirements, price ceiling and billing mode.
        query: SearchQuery,
        /// Slices.
        n_slices: u32,
        /// Periods until the lease expires (`None`: until cancelled).
        periods: Option<u32>,
    },
}

/// Where a farmer's revenue settles (spec `decisions.md` §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// Revenue stays as revenue CC (default).
    #[default]
    Cc,
    /// Revenue CC converts to TFP through Pool 2 when credited, as far as the reserve allows.
    Tfp,
}

impl Command {
    /// Stable name of the command kind (for logs and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            Command::RegisterAccount {} => "register_account",
            Command::Transfer { .. } => "transfer",
            Command::AttestDeposit { .. } => "attest_deposit",
            Command::RequestWithdrawal { .. } => "request_withdrawal",
            Command::AttestWithdrawal { .. } => "attest_withdrawal",
            Command::SubmitPrice { .. } => "submit_price",
            Command::EnterWithTft { .. } => "enter_with_tft",
            Command::EnterWithFiat { .. } => "enter_with_fiat",
            Command::LockTft { .. } => "lock_tft",
            Command::UnlockTfp { .. } => "unlock_tfp",
            Command::RegisterFarm { .. } => "register_farm",
            Command::RegisterNode { .. } => "register_node",
            Command::SetSlicePrice { .. } => "set_slice_price",
            Command::OpenLease { .. } => "open_lease",
            Command::CancelLease { .. } => "cancel_lease",
            Command::Tick { .. } => "tick",
            Command::ConvertCcToTfp { .. } => "convert_cc_to_tfp",
            Command::ConvertTfpToCc { .. } => "convert_tfp_to_cc",
            Command::SetSettlement { .. } => "set_settlement",
            Command::FundExitPool { .. } => "fund_exit_pool",
            Command::OpenPosition { .. } => "open_position",
            Command::ClosePosition { .. } => "close_position",
            Command::SubmitExitBid { .. } => "submit_exit_bid",
            Command::AmendExitBid { .. } => "amend_exit_bid",
            Command::CancelExitBid { .. } => "cancel_exit_bid",
            Command::PostStandingBid { .. } => "post_standing_bid",
            Command::FillStandingBid { .. } => "fill_standing_bid",
            Command::CancelStandingBid { .. } => "cancel_standing_bid",
            Command::PostCapacityRequest { .. } => "post_capacity_request",
            Command::OfferCapacity { .. } => "offer_capacity",
            Command::TakeCapacity { .. } => "take_capacity",
            Command::CreateFarmingPool { .. } => "create_farming_pool",
            Command::SignPoolMembership { .. } => "sign_pool_membership",
            Command::SetPoolPrice { .. } => "set_pool_price",
            Command::SetNodeKey { .. } => "set_node_key",
            Command::PlaceOrder { .. } => "place_order",
            Command::CancelOrder { .. } => "cancel_order",
            Command::AmendOrder { .. } => "amend_order",
            Command::SetVerified { .. } => "set_verified",
            Command::ReportUptime { .. } => "report_uptime",
            Command::SignMintReport { .. } => "sign_mint_report",
            Command::ProposeParamChange { .. } => "propose_param_change",
            Command::SignParamChange { .. } => "sign_param_change",
        }
    }
}

/// A command with who signed it and the nonce, as the core applies it. The journal stores the signed
/// request this was decoded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The signer (the account charged or acting).
    pub signer: AccountKey,
    /// The signer's nonce: strictly greater than the last one the account used.
    pub nonce: u64,
    /// The command.
    pub command: Command,
}

/// The body a client signs: signer, nonce, expiry and command. Its canonical encoding is
/// [`SIGNING_DOMAIN`] followed by the postcard encoding of this struct ([`RequestBody::signing_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// The signing account.
    pub signer: AccountKey,
    /// Per-account strictly increasing nonce.
    pub nonce: u64,
    /// Unix seconds after which the server refuses the request.
    pub expiry: i64,
    /// The command.
    pub command: Command,
}

/// Domain separation prefix of signed requests.
pub const SIGNING_DOMAIN: &[u8] = b"tfeco/v1/request\0";

/// Why a signed request could not be decoded or verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The bytes are not a valid encoding.
    Decode,
    /// The signer is not a valid ed25519 public key.
    BadKey,
    /// The signature does not verify.
    BadSignature,
}

impl RequestBody {
    /// The postcard encoding of this body (what the journal stores as the payload).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("encoding into a Vec cannot fail")
    }

    /// Decodes a payload written by [`RequestBody::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, RequestError> {
        postcard::from_bytes(bytes).map_err(|_| RequestError::Decode)
    }

    /// The exact bytes an ed25519 signature covers: domain prefix + [`RequestBody::encode`].
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes_of_payload(&self.encode())
    }

    /// Verifies `signature` (64 bytes) over this body with the signer's key.
    pub fn verify(&self, signature: &[u8]) -> Result<(), RequestError> {
        verify_payload(&self.signer, &self.encode(), signature)
    }

    /// The envelope the core applies.
    pub fn into_envelope(self) -> Envelope {
        Envelope { signer: self.signer, nonce: self.nonce, command: self.command }
    }
}

/// Domain separation prefix of signed reads (views of one's own sealed bids and orders).
pub const READ_SIGNING_DOMAIN: &[u8] = b"tfeco/v1/read\0";

/// The bytes a client signs to read `path` (without query) at `timestamp` (unix seconds): the domain
/// prefix, the path, a zero byte, and the timestamp in decimal.
pub fn read_signing_bytes(path: &str, timestamp: i64) -> Vec<u8> {
    let mut bytes = READ_SIGNING_DOMAIN.to_vec();
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(timestamp.to_string().as_bytes());
    bytes
}

/// Verifies a signed read.
pub fn verify_read(
    signer: &AccountKey,
    path: &str,
    timestamp: i64,
    signature: &[u8],
) -> Result<(), RequestError> {
    let key = VerifyingKey::from_bytes(signer.as_bytes()).map_err(|_| RequestError::BadKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| RequestError::BadSignature)?;
    key.verify(&read_signing_bytes(path, timestamp), &signature).map_err(|_| RequestError::BadSignature)
}

/// Domain prefix + payload.
pub fn signing_bytes_of_payload(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIGNING_DOMAIN.len() + payload.len());
    bytes.extend_from_slice(SIGNING_DOMAIN);
    bytes.extend_from_slice(payload);
    bytes
}

/// Verifies an ed25519 signature by `signer` over an encoded [`RequestBody`] payload.
pub fn verify_payload(signer: &AccountKey, payload: &[u8], signature: &[u8]) -> Result<(), RequestError> {
    let key = VerifyingKey::from_bytes(signer.as_bytes()).map_err(|_| RequestError::BadKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| RequestError::BadSignature)?;
    key.verify(&signing_bytes_of_payload(payload), &signature).map_err(|_| RequestError::BadSignature)
}
