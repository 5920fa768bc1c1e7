//! Handlers of the income calculator: `/v1/calc/node`, `/v1/calc/table` (the options of `tfeco calc node`
//! and `tfeco calc table` as query parameters).

use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::calc::{CalcNodeQuery, CalcNodeView, CalcTableQuery, CalcTableView, HW_COST_CHOICES};
use tfeco_api::ErrorCode;
use tfeco_core::rules::income::{
    self, HwCostBasis, IncomeQuery, PriceChoice, RoiError, RoiParams, Utilization,
};
use tfeco_money::Price;

use crate::api::error::ApiError;
use crate::api::extract::{check_range, Query};
use crate::app::AppState;
use crate::views;

/// A refused calculation: unknown model 404, anything else 422, with the calculator's stable code.
fn roi_error(error: &RoiError) -> ApiError {
    let code = match error {
        RoiError::UnknownModel { .. } => ErrorCode::UnknownModel,
        RoiError::PriceOutOfBand { .. } => ErrorCode::PriceOutOfBand,
        RoiError::OfferedSlicesOutOfRange { .. } => ErrorCode::OfferedSlicesOutOfRange,
        RoiError::InvalidParam { .. } => ErrorCode::InvalidParam,
        RoiError::Overflow => ErrorCode::Overflow,
    };
    ApiError::new(code, error.to_string())
}

fn cc_usd(value: Option<Price>) -> Result<Option<Price>, ApiError> {
    match value {
        Some(price) if price.is_zero() => {
            Err(ApiError::invalid_query("cc_usd", "the CC price must be greater than 0"))
        }
        other => Ok(other),
    }
}

/// `cc_usd` and `amortization_months` (shared by both calculators) over the tfgrid4-2025 defaults; without
/// `cc_usd`, the real CC price of the latest gold month (issue 10 item 17; `cc_usd=1` reproduces the
/// published tables).
fn base_params(cc: Option<Price>, amortization_months: Option<u32>) -> Result<RoiParams, ApiError> {
    let defaults = RoiParams::tfgrid4_2025();
    let real = tfeco_core::rules::oracle::latest_gold_cc_usd().map(|(_, _, cc_usd)| cc_usd);
    Ok(RoiParams {
        cc_usd: cc_usd(cc)?.or(real).unwrap_or(defaults.cc_usd),
        amortization_months: check_range("amortization_months", amortization_months, 1, u32::MAX)?
            .unwrap_or(defaults.amortization_months),
        ..defaults
    })
}

/// The price choice: `min`, `max` or a CC amount.
fn price_choice(raw: &str) -> Result<PriceChoice, ApiError> {
    let strict = matches!(raw, "min" | "max") || raw.starts_with(|c: char| c.is_ascii_digit());
    let parsed = if strict { raw.parse::<PriceChoice>().ok() } else { None };
    parsed.ok_or_else(|| {
        ApiError::invalid_query("price", format!("expected min, max or CC per slice-month, got {raw:?}"))
    })
}

/// Parses `/v1/calc/node`'s query into the model name, the income query and the parameters.
///
/// # Errors
/// 400 `invalid_query` naming the first malformed parameter.
pub fn calc_node_query(query: &CalcNodeQuery) -> Result<(String, IncomeQuery, RoiParams), ApiError> {
    let utilization: Utilization =
        query.utilization.parse().map_err(|e| ApiError::invalid_query("utilization", e))?;
    let income = IncomeQuery {
        utilization,
        price: price_choice(&query.price)?,
        offered_slices: check_range("offered_slices", query.offered_slices, 1, u32::MAX)?,
    };
    let base = base_params(query.cc_usd, query.amortization_months)?;
    let hw_cost_basis = match query.hw_cost.as_deref() {
        None => base.hw_cost_basis,
        Some(raw) if HW_COST_CHOICES.contains(&raw) => {
            raw.parse::<HwCostBasis>().map_err(|e| ApiError::invalid_query("hw_cost", e))?
        }
        Some(raw) => {
            return Err(ApiError::invalid_query("hw_cost", format!("expected whole or exact, got {raw:?}")))
        }
    };
    let params =
        RoiParams { farmer_share: query.share_bps.unwrap_or(base.farmer_share), hw_cost_basis, ..base };
    Ok((query.model.clone(), income, params))
}

/// Parses `/v1/calc/table`'s query into the calculator's parameters.
///
/// # Errors
/// 400 `invalid_query` naming the first malformed parameter.
pub fn calc_table_query(query: &CalcTableQuery) -> Result<RoiParams, ApiError> {
    let base = base_params(query.cc_usd, query.amortization_months)?;
    let factor = |name: &str, raw: &Option<String>, default| match raw {
        None => Ok(default),
        Some(raw) => income::parse_factor(raw).map_err(|e| ApiError::invalid_query(name, e)),
    };
    Ok(RoiParams {
        income_factor_min: factor("income_factor_min", &query.income_factor_min, base.income_factor_min)?,
        income_factor_max: factor("income_factor_max", &query.income_factor_max, base.income_factor_max)?,
        ..base
    })
}

/// `GET /v1/calc/node`.
pub async fn calc_node(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<CalcNodeQuery>,
) -> Result<Json<CalcNodeView>, ApiError> {
    let (model, income, params) = calc_node_query(&query)?;
    let replica = app.replica.read();
    views::calc::calc_node(replica.state(), &model, &income, &params).map(Json).map_err(|e| roi_error(&e))
}

/// `GET /v1/calc/table`.
pub async fn calc_table(
    AxumState(app): AxumState<AppState>,
    Query(query): Query<CalcTableQuery>,
) -> Result<Json<CalcTableView>, ApiError> {
    let params = calc_table_query(&query)?;
    let replica = app.replica.read();
    views::calc::calc_table(replica.state(), &params).map(Json).map_err(|e| roi_error(&e))
}

#[cfg(test)]
mod tests {
    use tfeco_money::Ratio;

    use super::*;
    use crate::api::extract::parse_query;

    fn node(text: &str) -> Result<(String, IncomeQuery, RoiParams), ApiError> {
        calc_node_query(&parse_query::<CalcNodeQuery>(text)?)
    }

    fn table(text: &str) -> Result<RoiParams, ApiError> {
        calc_table_query(&parse_query::<CalcTableQuery>(text)?)
    }

    /// The parameter a refused query names (the message starts with `param: `).
    fn param_of<T: std::fmt::Debug>(result: Result<T, ApiError>) -> String {
        let error = result.expect_err("the query must be refused");
        assert_eq!(error.code(), ErrorCode::InvalidQuery);
        format!("{error:?}").split("message: \"").nth(1).unwrap().split(':').next().unwrap().to_owned()
    }

    #[test]
    fn calc_queries_parse_like_the_cli() {
        let (model, income, params) = node("model=Mini 3&utilization=0.3&price=1.5&share_bps=8000").unwrap();
        assert_eq!(model, "Mini 3");
        assert_eq!(income.price, PriceChoice::Value("1.5".parse().unwrap()));
        // Issue 10 item 17: without `cc_usd` the real CC price (gold 2026-06 at 4228 USD/oz), not 1.
        let real = tfeco_core::rules::oracle::latest_gold_cc_usd().unwrap().2;
        assert_eq!(real, "0.135933356492159101".parse().unwrap());
        assert_eq!(params, RoiParams { cc_usd: real, ..RoiParams::tfgrid4_2025() });
        let (_, _, published) = node("model=Mini 3&utilization=0.3&price=1.5&cc_usd=1").unwrap();
        assert_eq!(published, RoiParams::tfgrid4_2025(), "cc_usd=1 reproduces the published tables");
        assert_eq!(param_of(node("utilization=0.3&price=1.5")), "model");
        assert_eq!(param_of(node("model=Mini 3&price=1.5")), "utilization");
        for (text, param) in [
            ("model=x&utilization=1.5&price=min", "utilization"),
            ("model=x&utilization=0.3&price=cheap", "price"),
            ("model=x&utilization=0.3&price=MIN", "price"),
            ("model=x&utilization=0.3&price=min&share_bps=10001", "share_bps"),
            ("model=x&utilization=0.3&price=min&cc_usd=0", "cc_usd"),
            ("model=x&utilization=0.3&price=min&hw_cost=round", "hw_cost"),
            ("model=x&utilization=0.3&price=min&amortization_months=0", "amortization_months"),
        ] {
            assert_eq!(param_of(node(text)), param, "{text}");
        }
        let (_, _, params) = node("model=x&utilization=30%&price=max&hw_cost=exact").unwrap();
        assert_eq!(params.hw_cost_basis, HwCostBasis::Exact);
        let params = table("income_factor_min=1.2&cc_usd=0.128").unwrap();
        assert_eq!(params.income_factor_min, Ratio::new(6, 5).unwrap());
        assert_eq!(param_of(table("income_factor_max=x")), "income_factor_max");
        assert_eq!(param_of(table("model=Mini 3")), "model");
    }
}
