//! Events: past-tense facts produced by an applied command (the receipt returned to the caller), built only
//! from vocabulary types (ids, money, [`crate::types`]).

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AssetAmount, Cc, Price, Tfp, Tft, Usdc};

use crate::ids::{
    AccountKey, AccountRef, CapacityRequestId, ExitBidId, FarmId, FarmingPoolId, LeaseId, MarketId, NodeId,
    OrderId, ParamChangeId, PositionId, RoundId, StandingBidId, WithdrawalId,
};
use crate::types::{Billing, CloseReason, MembershipChange, PriceFeed, Settlement, Shortfall};

/// A fact that happened. Amounts are exact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// An account was registered.
    AccountRegistered {
        /// The account.
        account: AccountKey,
    },
    /// Value moved between accounts.
    Transferred {
        /// Sender.
        from: AccountRef,
        /// Receiver.
        to: AccountRef,
        /// Amount and asset.
        amount: AssetAmount,
    },
    /// An attestation was recorded but the threshold is not reached yet.
    AttestationRecorded {
        /// External id.
        external_tx_id: String,
        /// Attestations so far.
        count: u32,
        /// Needed.
        threshold: u32,
    },
    /// A repeated attestation or payment for an id that already executed; nothing moved.
    AlreadyApplied {
        /// The id.
        id: String,
    },
    /// External funds entered the system.
    Deposited {
        /// Credited account.
        to: AccountRef,
        /// Amount and asset.
        amount: AssetAmount,
        /// External id.
        external_tx_id: String,
    },
    /// A withdrawal was requested; funds are escrowed.
    WithdrawalRequested {
        /// The request.
        withdrawal_id: WithdrawalId,
        /// Amount and asset.
        amount: AssetAmount,
    },
    /// Escrowed funds left the system.
    Withdrawn {
        /// The request.
        withdrawal_id: WithdrawalId,
        /// Amount and asset.
        amount: AssetAmount,
        /// External id.
        external_tx_id: String,
    },
    /// A price submission was stored.
    PriceSubmitted {
        /// Feed.
        feed: PriceFeed,
        /// Submitted price.
        price: Price,
        /// Observation time.
        observed_at: i64,
    },
    /// Pool 1 entry with TFT.
    EnteredWithTft {
        /// The user.
        account: AccountKey,
        /// TFT locked in the vault (and TFP minted to `pool2.reserve`).
        tft_locked: Amount<Tft>,
        /// CC minted to the user.
        cc_minted: Amount<Cc>,
    },
    /// Fiat entry.
    EnteredWithFiat {
        /// The user.
        account: AccountKey,
        /// USD paid (credited as USDC to the treasury).
        usd: Amount<Usdc>,
        /// CC minted to the user.
        cc_minted: Amount<Cc>,
        /// Payment id.
        payment_id: String,
    },
    /// TFT locked for TFP 1:1.
    TftLocked {
        /// The user.
        account: AccountKey,
        /// Amount.
        tft: Amount<Tft>,
    },
    /// TFP returned, TFT released 1:1.
    TfpUnlocked {
        /// The user.
        account: AccountKey,
        /// Amount.
        tfp: Amount<Tfp>,
    },
    /// A farm was registered.
    FarmRegistered {
        /// The farm.
        farm_id: FarmId,
        /// Owner.
        owner: AccountKey,
    },
    /// A node was registered.
    NodeRegistered {
        /// The node.
        node_id: NodeId,
        /// Its farm.
        farm_id: FarmId,
        /// Slices offered.
        offered_slices: u32,
    },
    /// A node's slice price was set.
    SlicePriceSet {
        /// The node.
        node_id: NodeId,
        /// CC per slice-month.
        price: Amount<Cc>,
    },
    /// A lease opened.
    LeaseOpened {
        /// The lease.
        lease_id: LeaseId,
        /// Node.
        node_id: NodeId,
        /// Slices.
        n_slices: u32,
        /// Billing mode.
        billing: Billing,
        /// CC charged per period.
        period_charge: Amount<Cc>,
    },
    /// A lease period was charged and split.
    LeaseCharged {
        /// The lease.
        lease_id: LeaseId,
        /// Start of the paid period (unix seconds).
        period_start: i64,
        /// Total CC charged.
        charge: Amount<Cc>,
        /// Farmer share (revenue CC), after the farming pool's fee.
        farmer: Amount<Cc>,
        /// The farming pool's fee (0 outside pools).
        pool_fee: Amount<Cc>,
        /// CC burned.
        burned: Amount<Cc>,
        /// Treasury share.
        treasury: Amount<Cc>,
        /// Version of the revenue split used.
        split_version: u32,
    },
    /// A lease could not be charged and entered grace.
    LeaseGraceStarted {
        /// The lease.
        lease_id: LeaseId,
        /// Grace ends at this time unless funds arrive.
        grace_until: i64,
    },
    /// A lease in grace was paid and resumed.
    LeaseResumed {
        /// The lease.
        lease_id: LeaseId,
    },
    /// The tenant asked to end the lease at its period end.
    LeaseCancelRequested {
        /// The lease.
        lease_id: LeaseId,
        /// When it will close.
        ends_at: i64,
    },
    /// A lease closed; its slices are free again.
    LeaseClosed {
        /// The lease.
        lease_id: LeaseId,
        /// Why.
        reason: CloseReason,
        /// When (unix seconds).
        at: i64,
    },
    /// CC burned from revenue; its TFT counterpart burned from the vault (with TFP from `pool2.reserve`).
    RevenueBurned {
        /// CC whose TFT counterpart was settled.
        cc: Amount<Cc>,
        /// TFT (and the same TFP) burned.
        tft: Amount<Tft>,
        /// TFT the reserve could not cover, added to `burn_owed_tft`.
        tft_owed: Amount<Tft>,
    },
    /// Time advanced.
    Ticked {
        /// New time, unix seconds.
        now: i64,
    },
    /// Revenue CC converted to TFP through Pool 2 (CC burned, TFP from `pool2.reserve`).
    ConvertedCcToTfp {
        /// The account.
        account: AccountKey,
        /// CC burned.
        cc: Amount<Cc>,
        /// TFP received.
        tfp: Amount<Tfp>,
    },
    /// TFP converted to CC through Pool 2 (TFP into `pool2.reserve`, CC minted).
    ConvertedTfpToCc {
        /// The account.
        account: AccountKey,
        /// TFP given.
        tfp: Amount<Tfp>,
        /// CC minted.
        cc: Amount<Cc>,
    },
    /// A guardian approved a treasury transfer; the threshold is not reached yet (spec §8, §12).
    TreasuryTransferApproved {
        /// The transfer's reference.
        transfer_ref: String,
        /// USDC to move.
        usdc: Amount<Usdc>,
        /// Approvals so far (current guardians).
        count: u32,
        /// Needed.
        threshold: u32,
    },
    /// USDC moved from the treasury into the exit pool by a guardian-approved transfer (spec §8).
    ExitPoolFunded {
        /// USDC.
        usdc: Amount<Usdc>,
        /// The transfer's reference.
        transfer_ref: String,
    },
    /// A position opened.
    PositionOpened {
        /// The position.
        position_id: PositionId,
        /// Owner.
        owner: AccountKey,
        /// TFP locked.
        tfp: Amount<Tfp>,
        /// USD value at opening.
        value_usd_at_open: Amount<Usdc>,
    },
    /// A position closed; its TFP returned.
    PositionClosed {
        /// The position.
        position_id: PositionId,
        /// TFP returned from the locked amount.
        tfp: Amount<Tfp>,
        /// Earned TFP returned.
        earned: Amount<Tfp>,
    },
    /// An exit bid was placed.
    ExitBidSubmitted {
        /// The bid.
        bid_id: ExitBidId,
        /// Its round.
        round_id: RoundId,
        /// TFP reserved on the position.
        reserved_tfp: Amount<Tfp>,
    },
    /// An exit bid was changed.
    ExitBidAmended {
        /// The bid.
        bid_id: ExitBidId,
        /// TFP now reserved.
        reserved_tfp: Amount<Tfp>,
    },
    /// An exit bid was cancelled.
    ExitBidCancelled {
        /// The bid.
        bid_id: ExitBidId,
        /// TFP released.
        released_tfp: Amount<Tfp>,
    },
    /// An exit round closed (the full result is published in the round history).
    ExitRoundClosed {
        /// The round.
        round_id: RoundId,
        /// Uniform clearing price, if anything filled.
        clearing_price: Option<Price>,
        /// USDC paid.
        total_paid: Amount<Usdc>,
        /// TFP surrendered.
        tfp_surrendered: Amount<Tfp>,
        /// Margin credited to staying positions.
        margin_tfp: Amount<Tfp>,
    },
    /// A standing bid was posted; its first period is escrowed.
    StandingBidPosted {
        /// The bid.
        bid_id: StandingBidId,
        /// Slices wanted.
        quantity: u32,
        /// CC per slice-month.
        price_month: Amount<Cc>,
        /// CC escrowed.
        escrow: Amount<Cc>,
    },
    /// A farmer filled part of a standing bid.
    StandingBidFilled {
        /// The bid.
        bid_id: StandingBidId,
        /// The node.
        node_id: NodeId,
        /// Slices.
        n_slices: u32,
        /// Slices still wanted.
        remaining: u32,
    },
    /// A standing bid was cancelled.
    StandingBidCancelled {
        /// The bid.
        bid_id: StandingBidId,
        /// CC refunded.
        refunded: Amount<Cc>,
    },
    /// A capacity request was posted.
    CapacityRequestPosted {
        /// The request.
        request_id: CapacityRequestId,
        /// Slices wanted.
        n_slices: u32,
        /// Highest price per slice-month.
        max_price_month: Amount<Cc>,
        /// Offers close at.
        closes_at: i64,
        /// CC escrowed.
        escrow: Amount<Cc>,
    },
    /// A farmer offered a node.
    CapacityOffered {
        /// The request.
        request_id: CapacityRequestId,
        /// The node.
        node_id: NodeId,
        /// CC per slice-month.
        price_month: Amount<Cc>,
    },
    /// A capacity request closed.
    CapacityRequestClosed {
        /// The request.
        request_id: CapacityRequestId,
        /// Slices leased.
        filled: u32,
        /// CC released.
        refunded: Amount<Cc>,
        /// Why fewer slices than asked.
        reasons: Vec<Shortfall>,
    },
    /// A farming pool was created.
    FarmingPoolCreated {
        /// The pool.
        pool_id: FarmingPoolId,
        /// Owner.
        owner: AccountKey,
    },
    /// One side signed a membership change; the other side's signature completes it.
    FarmingPoolMembershipSigned {
        /// The pool.
        pool_id: FarmingPoolId,
        /// The farm.
        farm_id: FarmId,
        /// Join or leave.
        change: MembershipChange,
        /// Signed by the farmer (else by the pool owner).
        by_farmer: bool,
    },
    /// A farm joined or left a pool (both signatures collected).
    FarmingPoolMembershipChanged {
        /// The pool.
        pool_id: FarmingPoolId,
        /// The farm.
        farm_id: FarmId,
        /// Join or leave.
        change: MembershipChange,
    },
    /// A node's report key was set.
    NodeKeySet {
        /// The node.
        node_id: NodeId,
        /// The key.
        key: AccountKey,
    },
    /// Uptime reports were recorded.
    UptimeReported {
        /// The node.
        node_id: NodeId,
        /// Reports in the batch.
        reports: u32,
        /// Violations detected.
        violations: u32,
    },
    /// A minting period closed into a report awaiting guardian signatures.
    MintReportClosed {
        /// The period.
        period: u32,
        /// Nodes with a receipt.
        nodes: u32,
        /// Total to mint.
        total: Amount<Tft>,
        /// Report hash (hex).
        hash: String,
        /// Scaled down to stay under the supply cap.
        scaled_to_cap: bool,
    },
    /// A guardian signed a minting report.
    MintReportSigned {
        /// The period.
        period: u32,
        /// Valid signatures so far.
        signatures: u32,
        /// Needed.
        threshold: u32,
    },
    /// Rewards were minted into vesting.
    RewardsMinted {
        /// The period.
        period: u32,
        /// TFT minted.
        total: Amount<Tft>,
    },
    /// Vested rewards were released to a farm owner.
    RewardsReleased {
        /// The node.
        node_id: NodeId,
        /// The farm owner.
        owner: AccountKey,
        /// TFT released.
        tft: Amount<Tft>,
    },
    /// A parameter change was proposed.
    ParamChangeProposed {
        /// The change.
        change_id: ParamChangeId,
    },
    /// A guardian signed a parameter change.
    ParamChangeSigned {
        /// The change.
        change_id: ParamChangeId,
    },
    /// A parameter change reached the threshold.
    ParamChangeApproved {
        /// The change.
        change_id: ParamChangeId,
        /// When it takes effect.
        effective_at: i64,
    },
    /// A parameter change took effect.
    ParamChangeApplied {
        /// The change.
        change_id: ParamChangeId,
    },
    /// A parameter change no longer validated when due and was dropped.
    ParamChangeDropped {
        /// The change.
        change_id: ParamChangeId,
    },
    /// An order was placed (its funds escrowed).
    OrderPlaced {
        /// The order.
        order_id: OrderId,
        /// Market.
        market_id: MarketId,
        /// The batch it joins.
        batch: u64,
        /// Escrowed units (base for sells, quote for buys).
        escrow: tfeco_money::Amount<tfeco_money::AnyAsset>,
    },
    /// An order was cancelled.
    OrderCancelled {
        /// The order.
        order_id: OrderId,
        /// Units refunded.
        refunded: tfeco_money::Amount<tfeco_money::AnyAsset>,
    },
    /// An order's last batch closed with part of it unfilled: the rest of its escrow was refunded.
    OrderExpired {
        /// The order.
        order_id: OrderId,
        /// Units refunded (base for sells, quote for buys).
        refunded: tfeco_money::Amount<tfeco_money::AnyAsset>,
    },
    /// An order was amended.
    OrderAmended {
        /// The order.
        order_id: OrderId,
        /// Units now escrowed.
        escrow: tfeco_money::Amount<tfeco_money::AnyAsset>,
    },
    /// An account's identity flag changed.
    AccountVerified {
        /// The account.
        account: AccountKey,
        /// Verified or not.
        verified: bool,
    },
    /// A market's batch cleared at one uniform price.
    BatchCleared {
        /// Market.
        market_id: MarketId,
        /// Batch number.
        batch: u64,
        /// Price, if anything crossed.
        price: Option<Price>,
        /// Base matched.
        volume: tfeco_money::Amount<tfeco_money::AnyAsset>,
        /// Imbalance at the price.
        imbalance: tfeco_money::Amount<tfeco_money::AnyAsset>,
    },
    /// A farmer chose how revenue settles.
    SettlementSet {
        /// The account.
        account: AccountKey,
        /// CC or TFP.
        settle_in: Settlement,
    },
}
