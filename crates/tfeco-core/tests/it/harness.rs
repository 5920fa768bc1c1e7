//! The core tests' harness: the shared test kit (`tfeco-testkit`) plus helpers only these tests use.

pub(crate) use tfeco_testkit::*;

use tfeco_core::{Event, LeaseId, Params, State};
use tfeco_money::{Amount, Cc};

/// The capacity search of `state` (the pure rule over its nodes with its parameters).
pub(crate) fn search(
    state: &State,
    query: &tfeco_core::SearchQuery,
) -> Vec<tfeco_core::rules::search::SearchHit> {
    state.capacity().search(query, state.params())
}

/// The hourly charge rule with the pricing numbers of `params`.
pub(crate) fn hourly_charge(
    price: Amount<Cc>,
    band_min: Amount<Cc>,
    band_max: Amount<Cc>,
    n_slices: u32,
    params: &Params,
) -> Option<Amount<Cc>> {
    tfeco_core::rules::billing::hourly_charge(price, band_min, band_max, n_slices, &params.lease_pricing())
}

/// The revenue split of `charge` as `(farmer, burn, treasury)`.
pub(crate) fn split_charge(charge: i128, split: &tfeco_core::RevenueSplit) -> (i128, i128, i128) {
    let shares = tfeco_core::rules::billing::split_charge(charge, split);
    (shares.farmer, shares.burn, shares.treasury)
}

/// The `LeaseCharged` events of a receipt: `(lease, period_start, charge units)`.
pub(crate) fn charges(events: &[Event]) -> Vec<(LeaseId, i64, i128)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::LeaseCharged { lease_id, period_start, charge, .. } => {
                Some((*lease_id, *period_start, charge.units()))
            }
            _ => None,
        })
        .collect()
}

/// Exact `floor(cc_units * cc_usd / tft_usd)` with `cc_usd = gold / 31.1034768 / 1000`, computed here
/// independently of the core: `cc * gold_atto * 10^4 / (tft_atto * 311,034,768)`.
pub(crate) fn tft_for_cc_floor(cc_units: i128, tft_usd: &str, gold: &str) -> i128 {
    let num = (cc_units as u128) * price(gold).atto();
    // Split the multiplication to stay inside u128: cc (<= 2^40) * gold_atto (<= 2^72) * 10^4 (< 2^14).
    let num = num.checked_mul(10_000).expect("test amounts stay small");
    let den = price(tft_usd).atto().checked_mul(311_034_768).expect("test prices stay small");
    (num / den) as i128
}
