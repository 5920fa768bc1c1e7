//! The exchange at scale: the pure `exchange::clear_batch` on random orders around 0.01 USDC/TFT, and the
//! `Tick` that clears one TFT/USDC batch of placed orders through the state (escrow settlement included).

use serde_json::{json, Value};
use tfeco_core::rules::batch_auction::{self as exchange, Order, NO_FEE};
use tfeco_core::Side;
use tfeco_core::{Command, Event};
use tfeco_money::{Amount, AnyAsset, Asset, Price, Tft};

use super::bed::{find_event, Bed};
use super::{TFT_USD_ATTO, UNIT};
use crate::bench::measure::{round3, Span};
use crate::error::check;
use crate::keys::synthetic_account;
use crate::rng::{shuffled_id, XorShift};
use crate::{Result, SimError};

/// Side, quantity (1..=500 TFT in base units) and limit (0.009 .. 0.011 USDC per TFT).
fn random_order(rng: &mut XorShift) -> (Side, i128, Price) {
    let side = if rng.next().is_multiple_of(2) { Side::Buy } else { Side::Sell };
    let quantity = (1 + rng.below(500) as i128) * UNIT;
    let limit = Price::from_atto(9_000_000_000_000_000 + rng.below(2_000) as u128 * 1_000_000_000_000);
    (side, quantity, limit)
}

pub(super) fn bench_exchange_clear(n: usize) -> Result<Value> {
    let mut rng = XorShift(0x5151_7A7A_0F0F_3C3C);
    let orders: Vec<Order<AnyAsset>> = (0..n)
        .map(|i| {
            let (side, quantity, limit_price) = random_order(&mut rng);
            Order { id: shuffled_id(i), side, quantity: Amount::from_units(quantity), limit_price }
        })
        .collect();
    let last = Some(Price::from_atto(TFT_USD_ATTO));
    let (outcome, span) = Span::measure(|| {
        exchange::clear_batch::<AnyAsset, AnyAsset>(std::hint::black_box(&orders), last, NO_FEE)
    });
    let outcome = outcome.map_err(|e| SimError::Check(format!("batch clearing failed: {e:?}")))?;
    check!(outcome.price.is_some(), "the bench batch did not cross");
    Ok(json!({
        "exchange_clear_1m_orders_ms": span.ms(),
        "exchange_clear_orders": n,
        "exchange_clear_filled_orders": outcome.fills.iter().filter(|f| f.filled.is_positive()).count(),
        "exchange_clear_cpu_share": span.cpu_share(),
    }))
}

pub(super) fn bench_exchange_tick(orders: usize) -> Result<Value> {
    const PER_TRADER: usize = 100;
    let setup = std::time::Instant::now();
    let mut bed = Bed::new(|g| {
        for market in &mut g.params.markets {
            market.max_orders_per_account_per_batch = PER_TRADER as u32;
        }
    })?;
    let market_id =
        bed.params().markets.first().ok_or_else(|| SimError::Check("no exchange market".to_owned()))?.id;
    let mut rng = XorShift(0x0DD0_BEEF_CAFE_F00D);
    for t in 0..orders.div_ceil(PER_TRADER) {
        let trader = synthetic_account(6, t as u64);
        bed.register(trader)?;
        bed.deposit(Asset::Tft, trader, 100_000, format!("bench-ex-tft-{t}"))?;
        bed.deposit(Asset::Usdc, trader, 10_000, format!("bench-ex-usdc-{t}"))?;
        // One side per trader: an order crossing its owner's own resting order is refused (self-trade
        // prevention, decisions §13), so a trader quotes one side only.
        let trader_side = if t % 2 == 0 { Side::Buy } else { Side::Sell };
        for _ in 0..PER_TRADER.min(orders - t * PER_TRADER) {
            let (_, quantity, limit_price) = random_order(&mut rng);
            let side = trader_side;
            let quantity = Amount::from_units(quantity);
            let command =
                Command::PlaceOrder { market_id, side, quantity, limit_price, expires_after_batches: None };
            bed.apply(trader, command)?;
        }
    }
    let setup_s = setup.elapsed().as_secs_f64();
    let next = bed.next_clear_at(market_id).ok_or_else(|| SimError::Check("no order book".to_owned()))?;
    let (events, span) = Span::measure(|| bed.tick(next));
    let events = events?;
    let volume = find_event(&events, "BatchCleared with a price", |e| match e {
        Event::BatchCleared { volume, price: Some(_), .. } => Some(*volume),
        _ => None,
    })?;
    check!(volume.is_positive(), "the bench batch matched nothing");
    Ok(json!({
        "exchange_tick_100k_orders_ms": span.ms(),
        "exchange_tick_orders": orders,
        "exchange_tick_volume_tft": Amount::<Tft>::from_units(volume.units()).to_string(),
        "exchange_tick_events": events.len(),
        "exchange_tick_cpu_share": span.cpu_share(),
        "exchange_tick_setup_s": round3(setup_s),
    }))
}
