//! The exit auction at scale: the pure `auction::clear` on random bids, and the `Tick` that closes a round
//! over many positions.

use serde_json::{json, Value};
use tfeco_core::ids::PositionId;
use tfeco_core::rules::exit_auction::{self as auction, ClearingRules, ExitBid};
use tfeco_core::{AccountKey, Command, Event};
use tfeco_money::{Amount, Asset, Bps, Price, Tfp, Tft, Usdc};

use super::bed::{find_event, opened_position, Bed};
use super::{TFT_USD_ATTO, UNIT};
use crate::bench::measure::{round3, Span};
use crate::error::check;
use crate::keys::synthetic_account;
use crate::rng::{shuffled_id, XorShift};
use crate::{Result, SimError};

/// Random bids (ids in shuffled order, min prices around the 20 % discount ceiling so part of the book is
/// excluded) cleared under a cap at a quarter of the demand (partial fills).
pub(super) fn bench_exit_clear(n: usize) -> Result<Value> {
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    let bids: Vec<ExitBid> = (0..n)
        .map(|i| ExitBid {
            id: shuffled_id(i),
            usdc: Amount::from_units((1 + rng.below(10_000)) as i128 * 1_000_000),
            // 0.005 .. 0.0125 USD per TFP (the ceiling at 0.01 with a 20 % discount is 0.008).
            min_price: Price::from_atto(5_000_000_000_000_000 + rng.below(7_500) as u128 * 1_000_000_000_000),
        })
        .collect();
    let demand: i128 = bids.iter().map(|b| b.usdc.units()).sum();
    let rules = ClearingRules {
        cap_a: Some(Amount::from_units(demand / 4)),
        cap_b: None,
        ref_price: Some(Price::from_atto(TFT_USD_ATTO)),
        min_discount_bps: Bps::new(2_000).ok_or_else(|| SimError::Check("bps above 10,000".to_owned()))?,
        allow_partial: true,
    };
    let (clearing, span) = Span::measure(|| auction::clear(std::hint::black_box(&bids), &rules));
    let clearing = clearing.map_err(|e| SimError::Check(format!("exit clearing failed: {e:?}")))?;
    check!(clearing.clearing_price.is_some(), "the bench exit clearing filled nothing");
    let filled = clearing.fills.iter().filter(|f| f.filled.is_positive()).count();
    let excluded = clearing.fills.iter().filter(|f| f.excluded).count();
    Ok(json!({
        "exit_clear_1m_bids_ms": span.ms(),
        "exit_clear_bids": n,
        "exit_clear_filled_bids": filled,
        "exit_clear_excluded_bids": excluded,
        "exit_clear_cpu_share": span.cpu_share(),
    }))
}

/// Positions of 1,000 TFP per owner.
const POSITION_TFP: i64 = 1_000;
/// Positions per owner.
const PER_OWNER: usize = 100;

/// `positions` positions of [`POSITION_TFP`], [`PER_OWNER`] per owner: `(owner, position)` in order.
fn open_positions(bed: &mut Bed, positions: usize) -> Result<Vec<(AccountKey, PositionId)>> {
    let mut opened = Vec::with_capacity(positions);
    for o in 0..positions.div_ceil(PER_OWNER) {
        let owner = synthetic_account(1, o as u64);
        let count = PER_OWNER.min(positions - o * PER_OWNER);
        let tokens = POSITION_TFP * count as i64;
        bed.register(owner)?;
        bed.deposit(Asset::Tft, owner, tokens, format!("bench-exit-{o}"))?;
        bed.apply(owner, Command::LockTft { tft: Amount::<Tft>::tokens(tokens) })?;
        for _ in 0..count {
            let events =
                bed.apply(owner, Command::OpenPosition { tfp: Amount::<Tfp>::tokens(POSITION_TFP) })?;
            opened.push((owner, opened_position(&events)?));
        }
    }
    Ok(opened)
}

/// `bids` exit bids on positions spread over `opened`: 1..4 USDC at 0.005 .. 0.0085 USD per TFP (at most
/// 800 TFP reserved of 1,000; some above the ceiling); every other one carries over.
fn place_bids(bed: &mut Bed, opened: &[(AccountKey, PositionId)], bids: usize) -> Result<()> {
    let mut rng = XorShift(0xC0FF_EE12_3456_789B);
    let stride = (opened.len() / bids.max(1)).max(1);
    for b in 0..bids.min(opened.len()) {
        let (owner, position_id) = opened[b * stride];
        let usdc = Amount::<Usdc>::from_units(UNIT + rng.below(30_000_000) as i128);
        let min_price =
            Price::from_atto(5_000_000_000_000_000 + rng.below(3_500) as u128 * 1_000_000_000_000);
        bed.apply(owner, Command::SubmitExitBid { position_id, usdc, min_price, carry_over: b % 2 == 0 })?;
    }
    Ok(())
}

/// Positions, exit bids on spread positions, a funded exit pool and fresh prices; then the single `Tick` that
/// closes the round (clearing, payment, margin credited by weight to every staying position).
pub(super) fn bench_exit_round(positions: usize, bids: usize) -> Result<Value> {
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|_| {})?;
    bed.prices()?;
    let opened = open_positions(&mut bed, positions)?;
    // USDC into the treasury through a fiat entry, then into the exit pool (cap B = 5 % of it).
    let operator = bed.operator;
    bed.fiat(operator, 1_000_000, "bench-exit-fund".to_owned())?;
    let (usdc, to) = (Amount::<Usdc>::tokens(1_000_000), tfeco_core::TreasuryDestination::ExitPool);
    bed.op(Command::ApproveTreasuryTransfer { usdc, to, transfer_ref: "bench-exit-fund".to_owned() })?;
    place_bids(&mut bed, &opened, bids)?;
    let closes_at = bed.exit_round_closes_at();
    bed.tick(closes_at - 1_800)?; // Inside the lock window (no new bids), with prices fresh at the close.
    bed.prices()?;
    let setup_s = setup.elapsed().as_secs_f64();
    let (events, span) = Span::measure(|| bed.tick(closes_at));
    let events = events?;
    let (paid, margin) = find_event(&events, "ExitRoundClosed", |e| match e {
        Event::ExitRoundClosed { total_paid, margin_tfp, .. } => Some((*total_paid, *margin_tfp)),
        _ => None,
    })?;
    check!(paid.is_positive(), "the bench exit round paid nothing");
    Ok(json!({
        "exit_round_close_100k_positions_ms": span.ms(),
        "exit_round_positions": positions,
        "exit_round_bids": bids.min(positions),
        "exit_round_paid_usdc": paid.to_string(),
        "exit_round_margin_tfp": margin.to_string(),
        "exit_round_positions_credited": bed.positions_credited(),
        "exit_round_cpu_share": span.cpu_share(),
        "exit_round_setup_s": round3(setup_s),
    }))
}
