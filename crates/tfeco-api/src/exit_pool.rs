//! The exit pool (Pool 3): the current round (sealed: counts only), published round results, positions,
//! and one's own bids through a signed read (`GET /v1/exit-pool/*`).

use serde::{Deserialize, Serialize};
use tfeco_core::ids::{ExitBidId, PositionId, RoundId};
use tfeco_core::AccountKey;
use tfeco_money::{Amount, Price, Tfp, Usdc};
use utoipa::{IntoParams, ToSchema};

/// `GET /v1/exit-pool/round`: the open round, without its (sealed) bids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitRoundView {
    /// The round.
    pub round_id: RoundId,
    /// When it opened, unix seconds.
    pub opened_at: i64,
    /// When it closes.
    pub closes_at: i64,
    /// From then on only lower min prices are accepted.
    pub lock_window_starts_at: i64,
    /// USDC in the pool.
    pub pool_usdc: Amount<Usdc>,
    /// TFP in the pool.
    pub pool_tfp: Amount<Tfp>,
    /// Open positions.
    pub positions: usize,
    /// USD value contributed by all positions.
    pub total_value_contributed_usd: Amount<Usdc>,
    /// USDC paid out so far.
    pub total_usdc_paid: Amount<Usdc>,
    /// `true` while the round is past its scheduled close and waits (at most `exit_price_wait_s`) for a
    /// valid TFT price to clear with; its lock window stays in force meanwhile.
    #[serde(default)]
    pub awaiting_price: bool,
    /// Cap A if the round closed now: `exit_cap_a_bps` of the USD value all positions contributed, less the
    /// USDC paid so far (`null`: cap A is off).
    #[serde(default)]
    pub cap_a: Option<Amount<Usdc>>,
    /// Cap B if the round closed now: `exit_cap_b_bps` of the pool's USDC (`null`: cap B is off).
    #[serde(default)]
    pub cap_b: Option<Amount<Usdc>>,
    /// The cap the round would apply if it closed now: the least of the caps that are on, never more than
    /// the pool's USDC (the close recomputes it from the pool as it is then).
    #[serde(default)]
    pub cap: Amount<Usdc>,
    /// The smallest discount of the clearing price below the reference price, basis points.
    #[serde(default)]
    pub min_discount_bps: u16,
}

/// One published round in brief.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitRoundSummary {
    /// The round.
    pub round_id: RoundId,
    /// When it closed.
    pub closed_at: i64,
    /// Reference price (`null`: no valid price).
    pub ref_price: Option<Price>,
    /// Clearing price (`null`: nothing cleared).
    pub clearing_price: Option<Price>,
    /// USDC cap of the round.
    pub cap: Amount<Usdc>,
    /// USDC paid.
    pub total_paid: Amount<Usdc>,
    /// TFP surrendered by the filled bids.
    pub tfp_surrendered: Amount<Tfp>,
    /// TFP margin kept.
    pub margin_tfp: Amount<Tfp>,
    /// Bids in the round.
    pub bids: usize,
    /// Why nothing or little cleared, if anything is to say.
    pub note: Option<String>,
}

/// `GET /v1/exit-pool/rounds`: published rounds, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitRoundsView {
    /// Rounds the node keeps.
    pub rounds: Vec<ExitRoundSummary>,
}

/// The result of one bid in a closed round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitBidResult {
    /// The bid.
    pub bid_id: ExitBidId,
    /// Its position.
    pub position_id: PositionId,
    /// Its owner.
    pub owner: AccountKey,
    /// USDC asked for.
    pub requested: Amount<Usdc>,
    /// Lowest accepted price.
    pub min_price: Price,
    /// USDC received.
    pub filled: Amount<Usdc>,
    /// TFP given up.
    pub surrendered: Amount<Tfp>,
    /// TFP released back to the position.
    pub released: Amount<Tfp>,
    /// Excluded (min price above the clearing price).
    pub excluded: bool,
    /// Carried over to the next round.
    pub carried_over: bool,
}

/// `GET /v1/exit-pool/rounds/{id}`: one published round in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitRoundResult {
    /// The round.
    pub round_id: RoundId,
    /// When it opened.
    pub opened_at: i64,
    /// When it closed.
    pub closed_at: i64,
    /// Reference price.
    pub ref_price: Option<Price>,
    /// Highest clearing price allowed.
    pub ceiling: Option<Price>,
    /// Clearing price.
    pub clearing_price: Option<Price>,
    /// Cap A (share of the pool).
    pub cap_a: Option<Amount<Usdc>>,
    /// Cap B (share of the inflow).
    pub cap_b: Option<Amount<Usdc>>,
    /// The cap applied.
    pub cap: Amount<Usdc>,
    /// USDC paid.
    pub total_paid: Amount<Usdc>,
    /// TFP surrendered.
    pub tfp_surrendered: Amount<Tfp>,
    /// TFP to the treasury.
    pub treasury_tfp: Amount<Tfp>,
    /// TFP margin.
    pub margin_tfp: Amount<Tfp>,
    /// Rounding dust, TFP.
    pub dust_tfp: Amount<Tfp>,
    /// A note on the outcome.
    pub note: Option<String>,
    /// Every bid's result.
    pub bids: Vec<ExitBidResult>,
}

/// `GET /v1/exit-pool/positions` query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PositionsQuery {
    /// Only this owner's positions.
    #[param(value_type = Option<String>, pattern = "^[0-9a-fA-F]{64}$")]
    pub owner: Option<AccountKey>,
}

/// A position: TFP committed to the exit pool.
///
/// Exit bids are sealed (decisions §8): the public view (`GET /v1/exit-pool/positions`) shows amounts and
/// weights but not what open bids reserve; `reserved` and `free` are given only to the owner, in the signed
/// read `GET /v1/exit-pool/bids`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PositionView {
    /// Id.
    pub id: PositionId,
    /// Owner.
    pub owner: AccountKey,
    /// TFP committed.
    pub amount: Amount<Tfp>,
    /// TFP earned.
    pub earned: Amount<Tfp>,
    /// The position's weight now as a multiple of its amount, in basis points (decisions §8:
    /// `10,000 + k_bps * min(age, age_cap) / year`, so 10,000 for a new position and up to 30,000).
    pub weight_bps: u64,
    /// TFP reserved by open bids; only in the owner's signed read, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved: Option<Amount<Tfp>>,
    /// When it opened.
    pub opened_at: i64,
    /// USD value at opening.
    pub value_usd_at_open: Amount<Usdc>,
    /// TFP free for new bids; only in the owner's signed read, else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<Amount<Tfp>>,
}

/// `GET /v1/exit-pool/positions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PositionsView {
    /// Positions, by id.
    pub positions: Vec<PositionView>,
}

/// An exit bid of the current round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitBidView {
    /// Id.
    pub id: ExitBidId,
    /// Its position.
    pub position_id: PositionId,
    /// Owner.
    pub owner: AccountKey,
    /// USDC asked for.
    pub usdc: Amount<Usdc>,
    /// Lowest accepted price.
    pub min_price: Price,
    /// TFP reserved.
    pub reserved: Amount<Tfp>,
    /// Carry over to the next round when not filled.
    pub carry_over: bool,
}

/// `GET /v1/exit-pool/bids` (signed read): the reader's own bids in the current round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnExitBidsView {
    /// The current round.
    pub round_id: RoundId,
    /// The reader's bids.
    pub bids: Vec<ExitBidView>,
    /// The reader's positions, with what its bids reserve and what stays free.
    #[serde(default)]
    pub positions: Vec<PositionView>,
}
