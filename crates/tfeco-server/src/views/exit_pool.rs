//! Views of the exit pool: the open round, published rounds, positions and one's own bids.

use tfeco_api::exit_pool::{
    ExitBidResult, ExitBidView, ExitRoundResult, ExitRoundSummary, ExitRoundView, ExitRoundsView,
    OwnExitBidsView, PositionView, PositionsView,
};
use tfeco_core::slices::exit_pool::{Position, RoundResult};
use tfeco_core::{AccountKey, State, SystemAccount};
use tfeco_money::{Tfp, Usdc};

/// `GET /v1/exit-pool/round`: the open round; no figure of its sealed bids.
pub fn round(state: &State) -> ExitRoundView {
    let exit = state.exit_pool();
    let round = exit.round();
    let params = state.params();
    let pool_usdc = state.ledger().system_balance::<Usdc>(SystemAccount::ExitPoolUsdc);
    // The caps as the close computes them (core `ExitPool::caps`), from the figures of now.
    let (cap_a, cap_b, cap_b_effective) = exit.caps(params, state.ledger());
    let cap = cap_a.map_or(cap_b_effective, |a| a.min(cap_b_effective));
    ExitRoundView {
        round_id: round.id,
        opened_at: round.opened_at,
        closes_at: round.closes_at,
        lock_window_starts_at: round.closes_at - state.params().exit_lock_window_s,
        pool_usdc,
        pool_tfp: state.ledger().system_balance::<Tfp>(SystemAccount::ExitPoolTfp),
        positions: exit.positions().len(),
        total_value_contributed_usd: exit.total_value_contributed(),
        total_usdc_paid: exit.total_usdc_paid(),
        awaiting_price: exit.awaiting_price(state.params(), state.oracle(), state.now()),
        cap_a,
        cap_b,
        cap,
        min_discount_bps: params.exit_min_discount_bps.get(),
    }
}

/// `GET /v1/exit-pool/rounds`.
pub fn rounds(state: &State) -> ExitRoundsView {
    let rounds = state
        .exit_pool()
        .history()
        .iter()
        .map(|r| ExitRoundSummary {
            round_id: r.round_id,
            closed_at: r.closed_at,
            ref_price: r.ref_price,
            clearing_price: r.clearing_price,
            cap: r.cap,
            total_paid: r.total_paid,
            tfp_surrendered: r.tfp_surrendered,
            margin_tfp: r.margin_tfp,
            bids: r.bids.len(),
            note: r.note.clone(),
        })
        .collect();
    ExitRoundsView { rounds }
}

fn round_result(r: &RoundResult) -> ExitRoundResult {
    let bids = r
        .bids
        .iter()
        .map(|b| ExitBidResult {
            bid_id: b.bid_id,
            position_id: b.position_id,
            owner: b.owner,
            requested: b.requested,
            min_price: b.min_price,
            filled: b.filled,
            surrendered: b.surrendered,
            released: b.released,
            excluded: b.excluded,
            carried_over: b.carried_over,
        })
        .collect();
    ExitRoundResult {
        round_id: r.round_id,
        opened_at: r.opened_at,
        closed_at: r.closed_at,
        ref_price: r.ref_price,
        ceiling: r.ceiling,
        clearing_price: r.clearing_price,
        cap_a: r.cap_a,
        cap_b: r.cap_b,
        cap: r.cap,
        total_paid: r.total_paid,
        tfp_surrendered: r.tfp_surrendered,
        treasury_tfp: r.treasury_tfp,
        margin_tfp: r.margin_tfp,
        dust_tfp: r.dust_tfp,
        note: r.note.clone(),
        bids,
    }
}

/// `GET /v1/exit-pool/rounds/{id}`; `None` when the node keeps no result of this round.
pub fn round_result_of(state: &State, id: u64) -> Option<ExitRoundResult> {
    state.exit_pool().history().iter().find(|r| r.round_id.0 == id).map(round_result)
}

/// A position's weight now as a multiple of its amount, in basis points (decisions §8).
fn weight_bps(state: &State, opened_at: i64) -> u64 {
    let weights = state.params().weight_params();
    let age = u64::try_from(state.now().saturating_sub(opened_at)).unwrap_or(0).min(weights.age_cap_s);
    let growth = u128::from(weights.k_bps) * u128::from(age) / u128::from(weights.year_s.max(1));
    10_000u64.saturating_add(u64::try_from(growth).unwrap_or(u64::MAX))
}

/// One position; `sealed` hides what open bids reserve (the public view while a round is open, decisions
/// §8), else (the owner's signed read) `reserved` and `free` are shown.
fn position_view(state: &State, p: &Position, sealed: bool) -> PositionView {
    PositionView {
        id: p.id,
        owner: p.owner,
        amount: p.amount,
        earned: p.earned,
        weight_bps: weight_bps(state, p.opened_at),
        reserved: (!sealed).then_some(p.reserved),
        opened_at: p.opened_at,
        value_usd_at_open: p.value_usd_at_open,
        free: (!sealed).then(|| p.free()),
    }
}

/// `GET /v1/exit-pool/positions`: amounts and weights; reservations are sealed.
pub fn positions(state: &State, owner: Option<AccountKey>) -> PositionsView {
    let positions = state
        .exit_pool()
        .positions()
        .values()
        .filter(|p| owner.is_none_or(|o| p.owner == o))
        .map(|p| position_view(state, p, true))
        .collect();
    PositionsView { positions }
}

/// `GET /v1/exit-pool/bids` for `reader`.
pub fn own_bids(state: &State, reader: AccountKey) -> OwnExitBidsView {
    let exit = state.exit_pool();
    let bids = exit
        .bids()
        .values()
        .filter(|b| b.owner == reader)
        .map(|b| ExitBidView {
            id: b.id,
            position_id: b.position_id,
            owner: b.owner,
            usdc: b.usdc,
            min_price: b.min_price,
            reserved: b.reserved,
            carry_over: b.carry_over,
        })
        .collect();
    let positions = exit
        .positions()
        .values()
        .filter(|p| p.owner == reader)
        .map(|p| position_view(state, p, false))
        .collect();
    OwnExitBidsView { round_id: exit.round().id, bids, positions }
}
