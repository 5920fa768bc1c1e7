//! The view of Pool 2.

use tfeco_api::pool2::{Pool2Rates, Pool2View};
use tfeco_core::{State, SystemAccount};
use tfeco_money::{Amount, Rounding, Tfp, UNITS_PER_TOKEN};

/// `GET /v1/pool2`: the reserve and the rates of one whole token at the current prices.
pub fn pool2(state: &State) -> Pool2View {
    let reserve_tfp = state.ledger().system_balance::<Tfp>(SystemAccount::Pool2Reserve);
    let one = UNITS_PER_TOKEN.unsigned_abs();
    let units = |converted: Option<u128>| {
        Amount::from_units(converted.map_or(0, |u| i128::try_from(u).unwrap_or(i128::MAX)))
    };
    let rates = state.prices().ok().map(|p| Pool2Rates {
        tfp_per_cc: units(p.tft_for_cc(one, Rounding::Down)),
        cc_per_tfp: units(p.cc_for_tft(one, Rounding::Down)),
    });
    Pool2View { reserve_tfp, rates }
}
