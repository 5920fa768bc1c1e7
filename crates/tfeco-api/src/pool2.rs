//! Pool 2, the CC <-> TFP conversion pool (`GET /v1/pool2`).

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, AnyAsset, Tfp};
use utoipa::ToSchema;

/// The conversion rates at the current oracle prices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pool2Rates {
    /// TFP received for 1 CC (rounded down).
    pub tfp_per_cc: Amount<AnyAsset>,
    /// CC received for 1 TFP (rounded down).
    pub cc_per_tfp: Amount<AnyAsset>,
}

/// `GET /v1/pool2`: the reserve and the rates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pool2View {
    /// TFP in `pool2.reserve`.
    pub reserve_tfp: Amount<Tfp>,
    /// Rates (`null`: no valid oracle price).
    pub rates: Option<Pool2Rates>,
}
