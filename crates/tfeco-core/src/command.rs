//! Commands: the only inputs that change state, as the journal stores them.
//!
//! `Command` is a wire format. Postcard (the journal) encodes a variant by its index, so every variant has a
//! fixed index, listed in [`COMMAND_INDEX`] and checked by a test: new variants go at the end, a variant is
//! never reordered, removed or reused (a retired one stays, refused by the rules). JSON (the HTTP API) uses
//! externally tagged snake_case names, e.g. `{"transfer": {"asset": "TFT", "to": "ab…", "amount": "12.5"}}`;
//! those names are stable too. Field shapes only change with a new payload format
//! ([`crate::request::PAYLOAD_FORMAT`]).

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Asset, Cc, Price, Tfp, Tft, Usdc};

use crate::ids::{
    AccountKey, CapacityRequestId, ExitBidId, FarmId, FarmingPoolId, LeaseId, MarketId, NodeId, OrderId,
    ParamChangeId, PositionId, StandingBidId, WithdrawalId,
};
use crate::params::ParamUpdate;
use crate::types::{
    Billing, MembershipChange, NodeSpec, PoolRules, PriceFeed, Requirements, SearchQuery, Settlement, Side,
    TreasuryDestination, UptimeSample,
};

/// A state-changing command. Each is validated fully before anything changes; a rejection is a
/// [`crate::Rejection`] and leaves the state untouched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Retired (spec `decisions.md` §8, §12: the treasury's money moves only by a guardian-approved,
    /// k-of-n transfer): refused for every signer with `command_retired`, naming
    /// [`Command::ApproveTreasuryTransfer`]. It keeps its wire index so that old journals still decode.
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
        bid_id: StandingBidId,
        /// The node (of the signer's farm).
        node_id: NodeId,
        /// Slices.
        n_slices: u32,
    },
    /// The buyer cancels a standing bid; the unused escrow is refunded.
    CancelStandingBid {
        /// The bid.
        bid_id: StandingBidId,
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
        request_id: CapacityRequestId,
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
        pool_id: FarmingPoolId,
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
        change_id: ParamChangeId,
    },
    /// Places a prefunded, sealed limit order in a market's next batch (spec §13).
    PlaceOrder {
        /// The market.
        market_id: MarketId,
        /// Buy or sell.
        side: Side,
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
        order_id: OrderId,
    },
    /// Changes an order; inside the lock window only improvements.
    AmendOrder {
        /// The order.
        order_id: OrderId,
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
    /// A guardian attests external USDC whose destination is the exit pool itself (spec `decisions.md` §8):
    /// the same k-of-n attestation as [`Command::AttestDeposit`] (every guardian signs the identical facts;
    /// at `guardian_threshold` the USDC enters the system into `exit_pool.usdc`). Idempotent by
    /// `external_tx_id`, which shares the namespace of every other attested deposit and withdrawal.
    AttestExitPoolDeposit {
        /// USDC received, > 0.
        usdc: Amount<Usdc>,
        /// The external (bridge) transaction id, unique.
        external_tx_id: String,
    },
    /// A guardian approves moving treasury USDC (its fiat-entry proceeds) to `to` (spec `decisions.md` §8,
    /// §12): every guardian approves the identical `(usdc, to, transfer_ref)`; at `guardian_threshold` the
    /// USDC moves, refused with `balance_low` if the treasury lacks it at that moment. Idempotent by
    /// `transfer_ref`. Replaces [`Command::FundExitPool`].
    ApproveTreasuryTransfer {
        /// USDC to move, > 0.
        usdc: Amount<Usdc>,
        /// The destination: the exit pool (the only one in this version).
        to: TreasuryDestination,
        /// The transfer's reference, unique among treasury transfers (e.g. a governance ticket).
        transfer_ref: String,
    },
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

/// Every command kind with its fixed wire index (its postcard variant index), in index order. The journal
/// depends on these numbers: append only.
pub const COMMAND_INDEX: [(&str, u32); 45] = [
    ("register_account", 0),
    ("transfer", 1),
    ("attest_deposit", 2),
    ("request_withdrawal", 3),
    ("attest_withdrawal", 4),
    ("submit_price", 5),
    ("enter_with_tft", 6),
    ("enter_with_fiat", 7),
    ("lock_tft", 8),
    ("unlock_tfp", 9),
    ("register_farm", 10),
    ("register_node", 11),
    ("set_slice_price", 12),
    ("open_lease", 13),
    ("cancel_lease", 14),
    ("tick", 15),
    ("convert_cc_to_tfp", 16),
    ("convert_tfp_to_cc", 17),
    ("set_settlement", 18),
    ("fund_exit_pool", 19),
    ("open_position", 20),
    ("close_position", 21),
    ("submit_exit_bid", 22),
    ("amend_exit_bid", 23),
    ("cancel_exit_bid", 24),
    ("post_standing_bid", 25),
    ("fill_standing_bid", 26),
    ("cancel_standing_bid", 27),
    ("post_capacity_request", 28),
    ("offer_capacity", 29),
    ("create_farming_pool", 30),
    ("sign_pool_membership", 31),
    ("set_pool_price", 32),
    ("set_node_key", 33),
    ("report_uptime", 34),
    ("sign_mint_report", 35),
    ("propose_param_change", 36),
    ("sign_param_change", 37),
    ("place_order", 38),
    ("cancel_order", 39),
    ("amend_order", 40),
    ("set_verified", 41),
    ("take_capacity", 42),
    ("attest_exit_pool_deposit", 43),
    ("approve_treasury_transfer", 44),
];

/// Command kinds that are retired: they keep their wire index (journals still decode them) but the rules
/// refuse them for every signer with [`crate::Rejection::CommandRetired`], naming the replacement.
pub const RETIRED_COMMANDS: [(&str, &str); 1] = [("fund_exit_pool", "approve_treasury_transfer")];

impl Command {
    /// The replacement of a retired command kind ([`RETIRED_COMMANDS`]), `None` for a live one.
    pub fn replaced_by(&self) -> Option<&'static str> {
        let kind = self.kind();
        RETIRED_COMMANDS.iter().find(|(retired, _)| *retired == kind).map(|(_, replacement)| *replacement)
    }

    /// The command's fixed wire index and stable snake_case name (see [`COMMAND_INDEX`]).
    pub fn tag(&self) -> (u32, &'static str) {
        match self {
            Command::RegisterAccount {} => (0, "register_account"),
            Command::Transfer { .. } => (1, "transfer"),
            Command::AttestDeposit { .. } => (2, "attest_deposit"),
            Command::RequestWithdrawal { .. } => (3, "request_withdrawal"),
            Command::AttestWithdrawal { .. } => (4, "attest_withdrawal"),
            Command::SubmitPrice { .. } => (5, "submit_price"),
            Command::EnterWithTft { .. } => (6, "enter_with_tft"),
            Command::EnterWithFiat { .. } => (7, "enter_with_fiat"),
            Command::LockTft { .. } => (8, "lock_tft"),
            Command::UnlockTfp { .. } => (9, "unlock_tfp"),
            Command::RegisterFarm { .. } => (10, "register_farm"),
            Command::RegisterNode { .. } => (11, "register_node"),
            Command::SetSlicePrice { .. } => (12, "set_slice_price"),
            Command::OpenLease { .. } => (13, "open_lease"),
            Command::CancelLease { .. } => (14, "cancel_lease"),
            Command::Tick { .. } => (15, "tick"),
            Command::ConvertCcToTfp { .. } => (16, "convert_cc_to_tfp"),
            Command::ConvertTfpToCc { .. } => (17, "convert_tfp_to_cc"),
            Command::SetSettlement { .. } => (18, "set_settlement"),
            Command::FundExitPool { .. } => (19, "fund_exit_pool"),
            Command::OpenPosition { .. } => (20, "open_position"),
            Command::ClosePosition { .. } => (21, "close_position"),
            Command::SubmitExitBid { .. } => (22, "submit_exit_bid"),
            Command::AmendExitBid { .. } => (23, "amend_exit_bid"),
            Command::CancelExitBid { .. } => (24, "cancel_exit_bid"),
            Command::PostStandingBid { .. } => (25, "post_standing_bid"),
            Command::FillStandingBid { .. } => (26, "fill_standing_bid"),
            Command::CancelStandingBid { .. } => (27, "cancel_standing_bid"),
            Command::PostCapacityRequest { .. } => (28, "post_capacity_request"),
            Command::OfferCapacity { .. } => (29, "offer_capacity"),
            Command::CreateFarmingPool { .. } => (30, "create_farming_pool"),
            Command::SignPoolMembership { .. } => (31, "sign_pool_membership"),
            Command::SetPoolPrice { .. } => (32, "set_pool_price"),
            Command::SetNodeKey { .. } => (33, "set_node_key"),
            Command::ReportUptime { .. } => (34, "report_uptime"),
            Command::SignMintReport { .. } => (35, "sign_mint_report"),
            Command::ProposeParamChange { .. } => (36, "propose_param_change"),
            Command::SignParamChange { .. } => (37, "sign_param_change"),
            Command::PlaceOrder { .. } => (38, "place_order"),
            Command::CancelOrder { .. } => (39, "cancel_order"),
            Command::AmendOrder { .. } => (40, "amend_order"),
            Command::SetVerified { .. } => (41, "set_verified"),
            Command::TakeCapacity { .. } => (42, "take_capacity"),
            Command::AttestExitPoolDeposit { .. } => (43, "attest_exit_pool_deposit"),
            Command::ApproveTreasuryTransfer { .. } => (44, "approve_treasury_transfer"),
        }
    }

    /// Stable name of the command kind (for logs, metrics and the JSON tag).
    pub fn kind(&self) -> &'static str {
        self.tag().1
    }

    /// The fixed wire index (postcard variant index) of the command kind.
    pub fn index(&self) -> u32 {
        self.tag().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Resources;
    use crate::types::PricePolicy;
    use tfeco_money::Bps;

    /// One command of every kind, in index order.
    fn one_of_each() -> Vec<Command> {
        let key = AccountKey([9; 32]);
        let any = Amount::<AnyAsset>::from_units(5);
        let price = Price::from_atto(7);
        let rules = PoolRules {
            fee_bps: Bps::ZERO,
            price_policy: PricePolicy::Free,
            reward_lock_months: 0,
            exit_quota_bps: Bps::FULL,
        };
        vec![
            Command::RegisterAccount {},
            Command::Transfer { asset: Asset::Tft, to: key, amount: any },
            Command::AttestDeposit { asset: Asset::Tft, to: key, amount: any, external_tx_id: "x".into() },
            Command::RequestWithdrawal { asset: Asset::Usdc, amount: any, destination: "d".into() },
            Command::AttestWithdrawal { withdrawal_id: WithdrawalId(1), external_tx_id: "x".into() },
            Command::SubmitPrice { feed: PriceFeed::TftUsd, price, observed_at: 1 },
            Command::EnterWithTft { tft: Amount::from_units(1) },
            Command::EnterWithFiat { to: key, usd: Amount::from_units(1), payment_id: "p".into() },
            Command::LockTft { tft: Amount::from_units(1) },
            Command::UnlockTfp { tfp: Amount::from_units(1) },
            Command::RegisterFarm { name: "f".into() },
            Command::RegisterNode {
                farm_id: FarmId(1),
                spec: NodeSpec::Custom { resources: Resources::default(), slices: 1 },
                offered_slices: None,
            },
            Command::SetSlicePrice { node_id: NodeId(1), price: Amount::from_units(1) },
            Command::OpenLease { node_id: NodeId(1), n_slices: 1, billing: Billing::Hourly, periods: None },
            Command::CancelLease { lease_id: LeaseId(1) },
            Command::Tick { now: 1 },
            Command::ConvertCcToTfp { cc: Amount::from_units(1), allow_partial: true },
            Command::ConvertTfpToCc { tfp: Amount::from_units(1) },
            Command::SetSettlement { settle_in: Settlement::Tfp },
            Command::FundExitPool { usdc: Amount::from_units(1) },
            Command::OpenPosition { tfp: Amount::from_units(1) },
            Command::ClosePosition { position_id: PositionId(1) },
            Command::SubmitExitBid {
                position_id: PositionId(1),
                usdc: Amount::from_units(1),
                min_price: price,
                carry_over: false,
            },
            Command::AmendExitBid { bid_id: ExitBidId(1), usdc: Amount::from_units(1), min_price: price },
            Command::CancelExitBid { bid_id: ExitBidId(1) },
            Command::PostStandingBid {
                name: "b".into(),
                requirements: Requirements::default(),
                price_month: Amount::from_units(1),
                quantity: 1,
                periods: None,
            },
            Command::FillStandingBid { bid_id: StandingBidId(1), node_id: NodeId(1), n_slices: 1 },
            Command::CancelStandingBid { bid_id: StandingBidId(1) },
            Command::PostCapacityRequest {
                requirements: Requirements::default(),
                n_slices: 1,
                max_price_month: Amount::from_units(1),
                periods: None,
                window_s: 60,
            },
            Command::OfferCapacity {
                request_id: CapacityRequestId(1),
                node_id: NodeId(1),
                price_month: Amount::from_units(1),
            },
            Command::CreateFarmingPool { name: "p".into(), rules },
            Command::SignPoolMembership {
                pool_id: FarmingPoolId(1),
                farm_id: FarmId(1),
                change: MembershipChange::Join,
            },
            Command::SetPoolPrice { node_id: NodeId(1), price: Amount::from_units(1) },
            Command::SetNodeKey { node_id: NodeId(1), node_key: key },
            Command::ReportUptime { node_id: NodeId(1), reports: vec![UptimeSample { at: 1, uptime_s: 1 }] },
            Command::SignMintReport { period: 1, report_hash: "h".into() },
            Command::ProposeParamChange { update: ParamUpdate::MintingEnabled(true) },
            Command::SignParamChange { change_id: ParamChangeId(1) },
            Command::PlaceOrder {
                market_id: MarketId(1),
                side: Side::Buy,
                quantity: any,
                limit_price: price,
                expires_after_batches: None,
            },
            Command::CancelOrder { order_id: OrderId(1) },
            Command::AmendOrder { order_id: OrderId(1), quantity: any, limit_price: price },
            Command::SetVerified { account: key, verified: true },
            Command::TakeCapacity { query: SearchQuery::default(), n_slices: 1, periods: None },
            Command::AttestExitPoolDeposit { usdc: Amount::from_units(1), external_tx_id: "x".into() },
            Command::ApproveTreasuryTransfer {
                usdc: Amount::from_units(1),
                to: TreasuryDestination::ExitPool,
                transfer_ref: "t".into(),
            },
        ]
    }

    #[test]
    fn every_command_keeps_its_wire_index_and_name() {
        let commands = one_of_each();
        assert_eq!(commands.len(), COMMAND_INDEX.len(), "one example per kind");
        for (position, (command, (name, index))) in commands.iter().zip(COMMAND_INDEX).enumerate() {
            assert_eq!(index as usize, position, "COMMAND_INDEX is in index order without gaps");
            assert_eq!(command.tag(), (index, name), "{command:?}");
            let bytes = postcard::to_allocvec(command).expect("encodes");
            assert_eq!(u32::from(bytes[0]), index, "postcard variant index of {name} (varint < 128)");
            let json = serde_json::to_value(command).expect("encodes");
            assert!(json.get(name).is_some(), "JSON tag of {name}: {json}");
            let back: Command = postcard::from_bytes(&bytes).expect("decodes");
            assert_eq!(&back, command);
        }
        let mut names: Vec<&str> = COMMAND_INDEX.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMAND_INDEX.len(), "names are unique");
    }
}
