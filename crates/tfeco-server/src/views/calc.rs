//! Views of the income calculator over the replica's catalogue.

use tfeco_api::calc::{CalcNodeView, CalcParamsView, CalcTableView};
use tfeco_core::rules::income::{self, Fraction, IncomeQuery, RoiError, RoiParams};
use tfeco_core::State;
use tfeco_money::Ratio;

/// `GET /v1/calc/node`: exactly `tfeco calc node --json`.
///
/// # Errors
/// The calculator's refusal (unknown model, price outside the band, offered slices out of range).
pub fn calc_node(
    state: &State,
    model: &str,
    income: &IncomeQuery,
    params: &RoiParams,
) -> Result<CalcNodeView, RoiError> {
    let model = income::find_model(state.catalogue(), model)?;
    let income = income::node_income(model, income, params)?;
    Ok(CalcNodeView(serde_json::to_value(income).unwrap_or_default()))
}

fn params_view(params: &RoiParams) -> CalcParamsView {
    let ratio = |r: Ratio| Fraction::from_ratio(r).map_or_else(|| r.to_string(), |f| f.to_exact_string());
    CalcParamsView {
        farmer_share_bps: params.farmer_share.get(),
        amortization_months: params.amortization_months,
        income_factor_min: ratio(params.income_factor_min),
        income_factor_max: ratio(params.income_factor_max),
        cc_usd: params.cc_usd,
        hw_cost_basis: params.hw_cost_basis,
    }
}

/// `GET /v1/calc/table`: the rows exactly as `tfeco calc table --json`.
///
/// # Errors
/// The calculator's refusal (invalid parameters, overflow).
pub fn calc_table(state: &State, params: &RoiParams) -> Result<CalcTableView, RoiError> {
    let rows = income::income_table(state.catalogue(), params)?;
    let rows = rows.iter().map(|row| serde_json::to_value(row).unwrap_or_default()).collect();
    Ok(CalcTableView { params: params_view(params), rows })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tfeco_core::rules::income::PriceChoice;

    use super::*;

    #[test]
    fn calc_views_match_roi_1() {
        let state = crate::views::capacity::tests::market(0, 0);
        let income = IncomeQuery {
            utilization: "0.3".parse().unwrap(),
            price: PriceChoice::Value("1.5".parse().unwrap()),
            offered_slices: None,
        };
        let params = RoiParams::tfgrid4_2025();
        let body = calc_node(&state, "Mini 3", &income, &params).unwrap().0;
        assert_eq!(
            (&body["gross"], &body["farmer_share"], &body["net"]),
            (&json!("11.25"), &json!("9"), &json!("-8"))
        );
        assert!(calc_node(&state, "Mini 9", &income, &params).is_err());
        let table = serde_json::to_value(calc_table(&state, &params).unwrap()).unwrap();
        assert_eq!(table["params"]["income_factor_min"], "1.3");
        let home = table["rows"].as_array().unwrap().iter().find(|r| r["model"] == "3Node Home").unwrap();
        assert_eq!(home["break_even_months_min_income"], "45.79");
    }
}
