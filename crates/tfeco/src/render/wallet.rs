//! The wallet for people: an account's balances and the node list with prices and free slices.

use serde_json::Value;

use super::list;

/// An account's balances (`GET /v1/accounts/{key}`).
pub(crate) fn balance(account: &Value) -> String {
    let b = &account["balances"];
    let amount = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    format!(
        "account {}\nTFT  {}\nTFP  {}\nCC   {} (revenue {})\nUSDC {}",
        amount(&account["account"]),
        amount(&b["TFT"]),
        amount(&b["TFP"]),
        amount(&b["CC"]),
        amount(&account["revenue_cc"]),
        amount(&b["USDC"]),
    )
}

/// One line per node: id, model, free and offered slices, price (`GET /v1/nodes`).
pub(crate) fn nodes(value: &Value) -> String {
    list(&value["nodes"])
        .iter()
        .map(|n| {
            format!(
                "node {:>4}  {:<20} free {:>3}/{:<3} price {} CC/month",
                n["id"],
                n["model"].as_str().unwrap_or("custom"),
                n["free_slices"],
                n["offered_slices"],
                n["price_month"].as_str().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
