//! The wallet for people: an account's balances and the node list with prices and free slices.

use tfeco_wallet::api::capacity::NodesView;
use tfeco_wallet::api::ledger::AccountView;

use super::opt;

/// An account's balances (`GET /v1/accounts/{key}`).
pub(crate) fn balance(account: &AccountView) -> String {
    let b = &account.balances;
    format!(
        "account {}\nTFT  {}\nTFP  {}\nCC   {} (revenue {})\nUSDC {}",
        account.account, b.tft, b.tfp, b.cc, account.revenue_cc, b.usdc,
    )
}

/// One line per node: id, model, free and offered slices, price (`GET /v1/nodes`).
pub(crate) fn nodes(view: &NodesView) -> String {
    view.nodes
        .iter()
        .map(|n| {
            format!(
                "node {}  {:<20} free {}/{} price {} CC/month",
                n.id,
                n.model.as_deref().unwrap_or("custom"),
                n.free_slices,
                n.offered_slices,
                opt(n.price_month)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
