//! The farmer income calculator over the node's catalogue (`GET /v1/calc/node`, `/v1/calc/table`): the
//! numbers of `tfeco calc node` and `tfeco calc table`.

use serde::{Deserialize, Serialize};
use tfeco_core::rules::income::{HwCostBasis, Income, IncomeRow};
use tfeco_money::{Bps, Price};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

/// The pattern of a utilization: a fraction `0` to `1` (6 decimals) or a percentage `0%` to `100%`
/// (4 decimals).
pub const UTILIZATION_PATTERN: &str =
    r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?|([0-9]{1,2}(\.[0-9]{1,4})?|100(\.0{1,4})?)%)$";
/// The pattern of a price choice: `min`, `max` or CC per slice-month (7 decimals).
pub const PRICE_CHOICE_PATTERN: &str = r"^(min|max|[0-9]{1,31}(\.[0-9]{1,7})?)$";

/// `GET /v1/calc/node` query: the options of `tfeco calc node`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalcNodeQuery {
    /// Catalogue model name (exact, or a unique case-insensitive match).
    pub model: String,
    /// Utilization: `0.3` or `30%`.
    #[param(pattern = r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?|([0-9]{1,2}(\.[0-9]{1,4})?|100(\.0{1,4})?)%)$")]
    pub utilization: String,
    /// Slice price: `min`, `max` or CC per slice-month (inside the model's band).
    #[param(pattern = r"^(min|max|[0-9]{1,31}(\.[0-9]{1,7})?)$")]
    pub price: String,
    /// The farmer's share, basis points (default 8,000).
    #[param(value_type = Option<u16>, minimum = 0, maximum = 10000)]
    pub share_bps: Option<Bps>,
    /// Slices offered (1 to the model's maximum; default: the model's typical slices).
    #[param(minimum = 1, maximum = 4294967295_i64)]
    pub offered_slices: Option<u32>,
    /// Which monthly hardware cost enters `net`: `whole` USD (default; also `whole_usd`) or `exact`.
    #[param(schema_with = hw_cost_choice)]
    pub hw_cost: Option<String>,
    /// USD per CC, greater than 0 (default: the real CC price, 0.001 g of gold at the latest month of the
    /// gold series; `1` reproduces the published tables).
    #[param(value_type = Option<String>, schema_with = positive_price)]
    pub cc_usd: Option<Price>,
    /// Months of amortization (default 60).
    #[param(minimum = 1, maximum = 4294967295_i64)]
    pub amortization_months: Option<u32>,
}

fn hw_cost_choice() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(HW_COST_CHOICES))
        .description(Some("Which monthly hardware cost enters net"))
        .into()
}

/// A price greater than zero: a price string (`tfeco_money::Price`) with a non-zero digit.
fn positive_price() -> Schema {
    let non_zero =
        ObjectBuilder::new().schema_type(Type::String).pattern(Some("[1-9]")).description(Some("Not zero"));
    AllOfBuilder::new()
        .item(<Price as utoipa::PartialSchema>::schema())
        .item(non_zero)
        .description(Some("A price greater than zero"))
        .into()
}

/// The accepted values of `hw_cost`.
pub const HW_COST_CHOICES: [&str; 3] = ["whole", "whole_usd", "exact"];

/// `GET /v1/calc/table` query: the options of `tfeco calc table`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalcTableQuery {
    /// Factor on the minimum income (default 1.3).
    #[param(pattern = r"^[0-9]{1,20}(\.[0-9]{1,18})?$")]
    pub income_factor_min: Option<String>,
    /// Factor on the maximum income (default 1.5).
    #[param(pattern = r"^[0-9]{1,20}(\.[0-9]{1,18})?$")]
    pub income_factor_max: Option<String>,
    /// USD per CC, greater than 0 (default: the real CC price, 0.001 g of gold at the latest month of the
    /// gold series; `1` reproduces the published tables).
    #[param(value_type = Option<String>, schema_with = positive_price)]
    pub cc_usd: Option<Price>,
    /// Months of amortization (default 60).
    #[param(minimum = 1, maximum = 4294967295_i64)]
    pub amortization_months: Option<u32>,
}

/// The calculator's parameters of a table (factors as decimals, e.g. `"1.3"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalcParamsView {
    /// The farmer's share, basis points.
    pub farmer_share_bps: u16,
    /// Months of amortization.
    pub amortization_months: u32,
    /// Factor on the minimum income.
    pub income_factor_min: String,
    /// Factor on the maximum income.
    pub income_factor_max: String,
    /// USD per CC.
    pub cc_usd: Price,
    /// Which monthly hardware cost enters `net`.
    pub hw_cost_basis: HwCostBasis,
}

/// `GET /v1/calc/node`: one model's income and return, exactly `tfeco calc node --json`: the JSON of
/// [`Income`] (schema `Income`). Carried as JSON because the core's `Income` only serializes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Income)]
pub struct CalcNodeView(pub serde_json::Value);

/// `GET /v1/calc/table`: the catalogue's income table, the rows exactly `tfeco calc table --json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CalcTableView {
    /// The parameters used.
    pub params: CalcParamsView,
    /// One row per model: the JSON of [`IncomeRow`] (schema `IncomeRow`), which only serializes.
    #[schema(value_type = Vec<IncomeRow>)]
    pub rows: Vec<serde_json::Value>,
}
