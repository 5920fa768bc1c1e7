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

/// What one event names directly: the accounts (user keys only, never system accounts), nodes and leases
/// it is about. The server's event index adds what needs the state to know (a lease's tenant and node, a
/// node's farm owner); this list is what the event itself says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touches {
    /// User accounts named by the event.
    pub accounts: Vec<AccountKey>,
    /// Nodes named by the event.
    pub nodes: Vec<NodeId>,
    /// Leases named by the event.
    pub leases: Vec<LeaseId>,
}

impl Touches {
    fn account(account: AccountKey) -> Self {
        Touches { accounts: vec![account], ..Touches::default() }
    }

    fn refs(refs: &[&AccountRef]) -> Self {
        let accounts = refs
            .iter()
            .filter_map(|r| match r {
                AccountRef::User(key) => Some(*key),
                AccountRef::System(_) => None,
            })
            .collect();
        Touches { accounts, ..Touches::default() }
    }

    fn node(node: NodeId) -> Self {
        Touches { nodes: vec![node], ..Touches::default() }
    }

    fn lease(lease: LeaseId) -> Self {
        Touches { leases: vec![lease], ..Touches::default() }
    }
}

impl Event {
    /// Every event kind: the serde `event` tag of each variant, sorted (the values the event stream's
    /// `kind` filter accepts).
    pub const KINDS: &'static [&'static str] = &[
        "account_registered",
        "account_verified",
        "already_applied",
        "attestation_recorded",
        "batch_cleared",
        "capacity_offered",
        "capacity_request_closed",
        "capacity_request_posted",
        "converted_cc_to_tfp",
        "converted_tfp_to_cc",
        "deposited",
        "entered_with_fiat",
        "entered_with_tft",
        "exit_bid_amended",
        "exit_bid_cancelled",
        "exit_bid_submitted",
        "exit_pool_funded",
        "exit_round_closed",
        "farm_registered",
        "farming_pool_created",
        "farming_pool_membership_changed",
        "farming_pool_membership_signed",
        "lease_cancel_requested",
        "lease_charged",
        "lease_closed",
        "lease_grace_started",
        "lease_opened",
        "lease_resumed",
        "mint_report_closed",
        "mint_report_signed",
        "node_key_set",
        "node_registered",
        "order_amended",
        "order_cancelled",
        "order_expired",
        "order_placed",
        "param_change_applied",
        "param_change_approved",
        "param_change_dropped",
        "param_change_proposed",
        "param_change_signed",
        "position_closed",
        "position_opened",
        "price_submitted",
        "revenue_burned",
        "rewards_minted",
        "rewards_released",
        "settlement_set",
        "slice_price_set",
        "standing_bid_cancelled",
        "standing_bid_filled",
        "standing_bid_posted",
        "tfp_unlocked",
        "tft_locked",
        "ticked",
        "transferred",
        "treasury_transfer_approved",
        "withdrawal_requested",
        "withdrawn",
    ];

    /// The event's kind: its serde `event` tag (e.g. `"transferred"`), one of [`Event::KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            Event::AccountRegistered { .. } => "account_registered",
            Event::Transferred { .. } => "transferred",
            Event::AttestationRecorded { .. } => "attestation_recorded",
            Event::AlreadyApplied { .. } => "already_applied",
            Event::Deposited { .. } => "deposited",
            Event::WithdrawalRequested { .. } => "withdrawal_requested",
            Event::Withdrawn { .. } => "withdrawn",
            Event::PriceSubmitted { .. } => "price_submitted",
            Event::EnteredWithTft { .. } => "entered_with_tft",
            Event::EnteredWithFiat { .. } => "entered_with_fiat",
            Event::TftLocked { .. } => "tft_locked",
            Event::TfpUnlocked { .. } => "tfp_unlocked",
            Event::FarmRegistered { .. } => "farm_registered",
            Event::NodeRegistered { .. } => "node_registered",
            Event::SlicePriceSet { .. } => "slice_price_set",
            Event::LeaseOpened { .. } => "lease_opened",
            Event::LeaseCharged { .. } => "lease_charged",
            Event::LeaseGraceStarted { .. } => "lease_grace_started",
            Event::LeaseResumed { .. } => "lease_resumed",
            Event::LeaseCancelRequested { .. } => "lease_cancel_requested",
            Event::LeaseClosed { .. } => "lease_closed",
            Event::RevenueBurned { .. } => "revenue_burned",
            Event::Ticked { .. } => "ticked",
            Event::ConvertedCcToTfp { .. } => "converted_cc_to_tfp",
            Event::ConvertedTfpToCc { .. } => "converted_tfp_to_cc",
            Event::TreasuryTransferApproved { .. } => "treasury_transfer_approved",
            Event::ExitPoolFunded { .. } => "exit_pool_funded",
            Event::PositionOpened { .. } => "position_opened",
            Event::PositionClosed { .. } => "position_closed",
            Event::ExitBidSubmitted { .. } => "exit_bid_submitted",
            Event::ExitBidAmended { .. } => "exit_bid_amended",
            Event::ExitBidCancelled { .. } => "exit_bid_cancelled",
            Event::ExitRoundClosed { .. } => "exit_round_closed",
            Event::StandingBidPosted { .. } => "standing_bid_posted",
            Event::StandingBidFilled { .. } => "standing_bid_filled",
            Event::StandingBidCancelled { .. } => "standing_bid_cancelled",
            Event::CapacityRequestPosted { .. } => "capacity_request_posted",
            Event::CapacityOffered { .. } => "capacity_offered",
            Event::CapacityRequestClosed { .. } => "capacity_request_closed",
            Event::FarmingPoolCreated { .. } => "farming_pool_created",
            Event::FarmingPoolMembershipSigned { .. } => "farming_pool_membership_signed",
            Event::FarmingPoolMembershipChanged { .. } => "farming_pool_membership_changed",
            Event::NodeKeySet { .. } => "node_key_set",
            Event::UptimeReported { .. } => "uptime_reported",
            Event::MintReportClosed { .. } => "mint_report_closed",
            Event::MintReportSigned { .. } => "mint_report_signed",
            Event::RewardsMinted { .. } => "rewards_minted",
            Event::RewardsReleased { .. } => "rewards_released",
            Event::ParamChangeProposed { .. } => "param_change_proposed",
            Event::ParamChangeSigned { .. } => "param_change_signed",
            Event::ParamChangeApproved { .. } => "param_change_approved",
            Event::ParamChangeApplied { .. } => "param_change_applied",
            Event::ParamChangeDropped { .. } => "param_change_dropped",
            Event::OrderPlaced { .. } => "order_placed",
            Event::OrderCancelled { .. } => "order_cancelled",
            Event::OrderExpired { .. } => "order_expired",
            Event::OrderAmended { .. } => "order_amended",
            Event::AccountVerified { .. } => "account_verified",
            Event::BatchCleared { .. } => "batch_cleared",
            Event::SettlementSet { .. } => "settlement_set",
        }
    }

    /// `true` when the event carries sealed content (decisions §8, §13): an exit bid's placement, change or
    /// cancellation (its reserved TFP reveals the bid's size before the round's result is published) and an
    /// exchange order's placement, change, cancellation or expiry (its escrow and refund reveal the order's
    /// quantity and limit, which the public views never show per order). Such an event must not appear in
    /// any public stream or history; its owner reads it through the signed reads of bids, orders and fills.
    pub fn is_sealed(&self) -> bool {
        matches!(
            self,
            Event::ExitBidSubmitted { .. }
                | Event::ExitBidAmended { .. }
                | Event::ExitBidCancelled { .. }
                | Event::OrderPlaced { .. }
                | Event::OrderAmended { .. }
                | Event::OrderCancelled { .. }
                | Event::OrderExpired { .. }
        )
    }

    /// The accounts, nodes and leases the event names ([`Touches`]).
    pub fn touches(&self) -> Touches {
        match self {
            Event::AccountRegistered { account }
            | Event::EnteredWithTft { account, .. }
            | Event::EnteredWithFiat { account, .. }
            | Event::TftLocked { account, .. }
            | Event::TfpUnlocked { account, .. }
            | Event::ConvertedCcToTfp { account, .. }
            | Event::ConvertedTfpToCc { account, .. }
            | Event::AccountVerified { account, .. }
            | Event::SettlementSet { account, .. } => Touches::account(*account),
            Event::FarmRegistered { owner, .. }
            | Event::PositionOpened { owner, .. }
            | Event::FarmingPoolCreated { owner, .. } => Touches::account(*owner),
            Event::Transferred { from, to, .. } => Touches::refs(&[from, to]),
            Event::Deposited { to, .. } => Touches::refs(&[to]),
            Event::NodeRegistered { node_id, .. }
            | Event::SlicePriceSet { node_id, .. }
            | Event::CapacityOffered { node_id, .. }
            | Event::StandingBidFilled { node_id, .. }
            | Event::UptimeReported { node_id, .. } => Touches::node(*node_id),
            Event::NodeKeySet { node_id, key } => {
                Touches { accounts: vec![*key], nodes: vec![*node_id], leases: Vec::new() }
            }
            Event::RewardsReleased { node_id, owner, .. } => {
                Touches { accounts: vec![*owner], nodes: vec![*node_id], leases: Vec::new() }
            }
            Event::LeaseOpened { lease_id, node_id, .. } => {
                Touches { accounts: Vec::new(), nodes: vec![*node_id], leases: vec![*lease_id] }
            }
            Event::LeaseCharged { lease_id, .. }
            | Event::LeaseGraceStarted { lease_id, .. }
            | Event::LeaseResumed { lease_id }
            | Event::LeaseCancelRequested { lease_id, .. }
            | Event::LeaseClosed { lease_id, .. } => Touches::lease(*lease_id),
            _ => Touches::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Event> {
        let key = AccountKey([7; 32]);
        vec![
            Event::AccountRegistered { account: key },
            Event::Transferred {
                from: AccountRef::User(key),
                to: AccountRef::System(crate::ids::SystemAccount::Vault),
                amount: AssetAmount { asset: tfeco_money::Asset::Tft, units: 5 },
            },
            Event::LeaseOpened {
                lease_id: LeaseId(3),
                node_id: NodeId(4),
                n_slices: 2,
                billing: Billing::Monthly,
                period_charge: Amount::from_units(9),
            },
            Event::LeaseClosed { lease_id: LeaseId(3), reason: CloseReason::Cancelled, at: 10 },
            Event::Ticked { now: 5 },
            Event::ExitBidSubmitted {
                bid_id: ExitBidId(1),
                round_id: RoundId(1),
                reserved_tfp: Amount::from_units(1),
            },
            Event::OrderPlaced {
                order_id: OrderId(1),
                market_id: MarketId(0),
                batch: 1,
                escrow: Amount::from_units(1),
            },
            Event::NodeKeySet { node_id: NodeId(4), key },
        ]
    }

    #[test]
    fn kinds_are_the_serde_tags_sorted_and_unique() {
        for event in samples() {
            let json = serde_json::to_value(&event).expect("serializes");
            assert_eq!(json["event"], event.kind(), "{event:?}");
            assert!(Event::KINDS.contains(&event.kind()));
        }
        assert!(Event::KINDS.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
        assert_eq!(Event::KINDS.len(), 59);
    }

    #[test]
    fn touches_name_users_nodes_and_leases_and_never_system_accounts() {
        let events = samples();
        let key = AccountKey([7; 32]);
        assert_eq!(events[1].touches(), Touches { accounts: vec![key], ..Touches::default() });
        assert_eq!(events[2].touches().nodes, vec![NodeId(4)]);
        assert_eq!(events[2].touches().leases, vec![LeaseId(3)]);
        assert_eq!(events[3].touches().leases, vec![LeaseId(3)]);
        assert_eq!(events[4].touches(), Touches::default());
        assert_eq!(
            events[7].touches(),
            Touches { accounts: vec![key], nodes: vec![NodeId(4)], leases: vec![] }
        );
    }

    #[test]
    fn exit_bids_and_orders_are_sealed_and_nothing_else_of_the_samples() {
        let sealed: Vec<&str> = samples().iter().filter(|e| e.is_sealed()).map(Event::kind).collect();
        assert_eq!(sealed, ["exit_bid_submitted", "order_placed"]);
    }
}
