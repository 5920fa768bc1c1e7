//! The wallet for people: an account's balances and the node list with prices and free slices.

use tfeco_money::{Amount, AnyAsset};
use tfeco_wallet::api::capacity::NodesView;
use tfeco_wallet::api::ledger::{AccountView, PerAsset};

use super::opt;

/// An account's balances (`GET /v1/accounts/{key}`): totals, and with the owner's signed read the part held
/// in open exchange orders.
pub(crate) fn balance(account: &AccountView) -> String {
    let b = &account.balances;
    // With the owner's signed read: the part of each total held in open exchange orders.
    let held = |pick: fn(&PerAsset<Amount<AnyAsset>>) -> Amount<AnyAsset>| match (
        &account.free,
        &account.escrowed,
    ) {
        (Some(free), Some(escrowed)) if pick(escrowed).is_positive() => {
            format!(" (free {}, in open orders {})", pick(free), pick(escrowed))
        }
        _ => String::new(),
    };
    format!(
        "account {}\nTFT  {}{}\nTFP  {}{}\nCC   {} (revenue {})\nUSDC {}{}",
        account.account,
        b.tft,
        held(|p| p.tft),
        b.tfp,
        held(|p| p.tfp),
        b.cc,
        account.revenue_cc,
        b.usdc,
        held(|p| p.usdc),
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
