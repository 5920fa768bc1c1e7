//! `tfeco wallet trade`: the in-wallet exchange (spec `decisions.md` §13). Sealed, prefunded limit orders
//! (`buy`, `sell`, `amend`, `cancel`) cleared by frequent batch auctions at one uniform price; your own open
//! orders and fills through signed reads (`orders`, `history`); a market's status, last batches and depth
//! after each clear (`market`). Every subcommand has `--json`.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use tfeco_core::exchange::Side;
use tfeco_core::Command;
use tfeco_money::{Amount, AnyAsset, Price};
use tfeco_wallet::{Client, ClientError};

use crate::wallet::report_error;

/// `tfeco wallet trade ...`.
#[derive(Subcommand)]
pub(crate) enum TradeCommand {
    /// Place a buy order: the quote (e.g. USDC) for quantity x limit (plus the fee) is escrowed now.
    Buy(OrderArgs),
    /// Place a sell order: the quantity of the base asset (e.g. TFT) is escrowed now.
    Sell(OrderArgs),
    /// Cancel an open order and get its escrow back (refused in the lock window before a clear).
    Cancel {
        /// Order id.
        #[arg(long)]
        order: u64,
    },
    /// Change an order's quantity and limit (inside the lock window only a better price, no smaller
    /// quantity).
    Amend {
        /// Order id.
        #[arg(long)]
        order: u64,
        /// New quantity, base tokens.
        #[arg(long)]
        quantity: Amount<AnyAsset>,
        /// New limit, quote per base token.
        #[arg(long)]
        limit: Price,
    },
    /// Your own open orders (a signed read: orders are sealed).
    Orders,
    /// Your own fills in the recent batches (a signed read).
    History,
    /// A market's status, its last batches (price, volume, imbalance) and the depth after the last clear.
    Market {
        /// Market id.
        #[arg(long, default_value_t = 1)]
        market: u32,
        /// How many of the last batches to show.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
        batches: u32,
    },
}

/// A new order.
#[derive(clap::Args)]
pub(crate) struct OrderArgs {
    /// Market id (1: TFT/USDC).
    #[arg(long, default_value_t = 1)]
    market: u32,
    /// Quantity of the base asset, e.g. 1000 (TFT).
    #[arg(long)]
    quantity: Amount<AnyAsset>,
    /// Limit price, quote per base token, e.g. 0.012 (USDC per TFT): the most a buy pays, the least a sell
    /// accepts.
    #[arg(long)]
    limit: Price,
    /// Batches the order takes part in before the rest is refunded [default: the market's].
    #[arg(long)]
    batches: Option<u32>,
}

fn print(json_out: bool, value: &Value, human: impl FnOnce() -> String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// `(base, quote)` asset codes of each market, from `/v1/exchange/markets` (best effort, for display).
async fn asset_names(client: &Client) -> Vec<(u64, String, String)> {
    let Ok(value) = client.get("/v1/exchange/markets").await else { return Vec::new() };
    value["markets"]
        .as_array()
        .map(|markets| {
            markets
                .iter()
                .map(|m| (m["id"].as_u64().unwrap_or(0), text(&m["base"]), text(&m["quote"])))
                .collect()
        })
        .unwrap_or_default()
}

fn names_of(names: &[(u64, String, String)], market: u64) -> (String, String) {
    names
        .iter()
        .find(|(id, ..)| *id == market)
        .map(|(_, b, q)| (b.clone(), q.clone()))
        .unwrap_or_else(|| ("base".to_owned(), "quote".to_owned()))
}

fn event<'a>(events: &'a Value, name: &str) -> Option<&'a Value> {
    events.as_array()?.iter().find(|e| e["event"] == name)
}

/// Submits `command`; on success prints `human(events)` (or `{seq, events}` with `--json`).
async fn submit(
    client: &Client,
    key: &SigningKey,
    command: Command,
    json_out: bool,
    human: impl FnOnce(&Value) -> String,
) -> ExitCode {
    match client.submit_next(key, command).await {
        Ok(ok) => {
            let value = json!({ "seq": ok.seq, "events": ok.events });
            print(json_out, &value, || format!("{} (entry {})", human(&ok.events), ok.seq));
            ExitCode::SUCCESS
        }
        Err(error) => report_error(json_out, &error),
    }
}

fn order_line(order: &Value, names: &[(u64, String, String)]) -> String {
    let (base, quote) = names_of(names, order["market_id"].as_u64().unwrap_or(0));
    let escrow_asset = if order["side"] == "sell" { &base } else { &quote };
    format!(
        "order {:>5}  market {}  {:<4} {} {base} at {} {quote}/{base}  escrow {} {escrow_asset}  batches {}..={}{}",
        order["id"],
        order["market_id"],
        text(&order["side"]),
        text(&order["quantity"]),
        text(&order["limit_price"]),
        text(&order["escrow"]),
        order["placed_in_batch"],
        order["expires_after_batch"],
        if order["locked"] == true { "  (locked: clears soon)" } else { "" },
    )
}

fn fill_line(fill: &Value, names: &[(u64, String, String)]) -> String {
    let (base, quote) = names_of(names, fill["market_id"].as_u64().unwrap_or(0));
    let (verb, money) = if fill["side"] == "buy" { ("bought", "paid") } else { ("sold", "received") };
    format!(
        "batch {} of market {} (cleared at {}): order {} {verb} {} {base} at {} {quote}/{base}, {money} {} {quote} \
         (fee {})",
        fill["batch"],
        fill["market_id"],
        fill["cleared_at"],
        fill["order_id"],
        text(&fill["filled"]),
        text(&fill["price"]),
        text(&fill["quote"]),
        text(&fill["fee"]),
    )
}

fn depth_lines(levels: &Value, base: &str) -> Vec<String> {
    levels
        .as_array()
        .map(|levels| {
            levels
                .iter()
                .map(|l| {
                    format!(
                        "  {:>12}  buy {:>14} {base}  sell {:>14} {base}",
                        text(&l["price"]),
                        text(&l["buy"]),
                        text(&l["sell"])
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `wallet trade market`: status, last batches and depth.
async fn market(client: &Client, market: u32, batches: u32, json_out: bool) -> ExitCode {
    let markets = match client.get("/v1/exchange/markets").await {
        Ok(value) => value,
        Err(error) => return report_error(json_out, &error),
    };
    let Some(status) =
        markets["markets"].as_array().and_then(|l| l.iter().find(|m| m["id"] == market)).cloned()
    else {
        let error = ClientError::Api {
            status: 404,
            code: "market_not_found".to_owned(),
            message: format!("no market {market}"),
        };
        return report_error(json_out, &error);
    };
    let history = match client.get(&format!("/v1/exchange/markets/{market}/batches?limit={batches}")).await {
        Ok(value) => value["batches"].clone(),
        Err(error) => return report_error(json_out, &error),
    };
    let depth = match client.get(&format!("/v1/exchange/markets/{market}/depth")).await {
        Ok(value) => value,
        Err(error) => return report_error(json_out, &error),
    };
    let value = json!({ "now": markets["now"], "market": status, "batches": history, "depth": depth });
    print(json_out, &value, || {
        let (base, quote) = (text(&status["base"]), text(&status["quote"]));
        let mut lines = vec![
            format!(
                "market {market} {base}/{quote}: batch {} clears at {} (lock window from {}; node time {}); \
                 every {} s",
                status["batch"],
                status["next_clear_at"],
                status["lock_window_starts_at"],
                markets["now"],
                status["batch_interval_s"]
            ),
            format!(
                "last price {}; open orders: {} buy, {} sell (sealed until the clear); min order {} {base}; fee {} \
                 bps{}",
                status["last_price"].as_str().map_or_else(|| "none yet".to_owned(), |p| format!("{p} {quote}/{base}")),
                status["open_orders"]["buy"],
                status["open_orders"]["sell"],
                text(&status["min_order_base"]),
                status["fee_bps"],
                if status["identity_required"] == true { "; verified accounts only" } else { "" }
            ),
        ];
        let list = history.as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            lines.push("no batch published yet".to_owned());
        }
        for b in &list {
            lines.push(format!(
                "batch {:>6} at {}: price {}, volume {} {base}, imbalance {} {base}, {} orders ({} filled)",
                b["batch"],
                b["cleared_at"],
                b["price"].as_str().unwrap_or("none (nothing crossed)"),
                text(&b["volume"]),
                text(&b["imbalance"]),
                b["orders"],
                b["filled_orders"]
            ));
        }
        if depth["batch"].is_null() {
            lines.push("depth: no clear yet".to_owned());
        } else {
            lines.push(format!("depth after batch {} ({quote}/{base}):", depth["batch"]));
            let levels = depth_lines(&depth["levels"], &base);
            if levels.is_empty() {
                lines.push("  (empty book)".to_owned());
            }
            lines.extend(levels);
        }
        lines.join("\n")
    });
    ExitCode::SUCCESS
}

/// Runs `wallet trade ...`; the keystore is unlocked for every subcommand but `market`.
pub(crate) async fn run(
    command: TradeCommand,
    client: &Client,
    keystore: &Path,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    if let TradeCommand::Market { market: id, batches } = command {
        return Ok(market(client, id, batches, json_out).await);
    }
    let key = crate::wallet::unlock(keystore)?;
    let key = &key;
    Ok(match command {
        TradeCommand::Market { .. } => unreachable!("answered above"),
        TradeCommand::Buy(args) => place(client, key, Side::Buy, args, json_out).await,
        TradeCommand::Sell(args) => place(client, key, Side::Sell, args, json_out).await,
        TradeCommand::Cancel { order } => {
            let command = Command::CancelOrder { order_id: order };
            submit(client, key, command, json_out, |events| match event(events, "order_cancelled") {
                Some(e) => format!("order {order} cancelled; {} refunded", text(&e["refunded"])),
                None => format!("order {order} cancelled"),
            })
            .await
        }
        TradeCommand::Amend { order, quantity, limit } => {
            let command = Command::AmendOrder { order_id: order, quantity, limit_price: limit };
            submit(client, key, command, json_out, |events| match event(events, "order_amended") {
                Some(e) => {
                    format!("order {order} now {quantity} at {limit}; {} escrowed in all", text(&e["escrow"]))
                }
                None => format!("order {order} amended"),
            })
            .await
        }
        TradeCommand::Orders => {
            let names = asset_names(client).await;
            match client.get_signed("/v1/exchange/orders", key).await {
                Ok(value) => {
                    print(json_out, &value, || {
                        let orders = value["orders"].as_array().cloned().unwrap_or_default();
                        if orders.is_empty() {
                            return "no open orders".to_owned();
                        }
                        orders.iter().map(|o| order_line(o, &names)).collect::<Vec<_>>().join("\n")
                    });
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            }
        }
        TradeCommand::History => {
            let names = asset_names(client).await;
            match client.get_signed("/v1/exchange/fills", key).await {
                Ok(value) => {
                    print(json_out, &value, || {
                        let fills = value["fills"].as_array().cloned().unwrap_or_default();
                        if fills.is_empty() {
                            return "no fills in the recent batches".to_owned();
                        }
                        fills.iter().map(|f| fill_line(f, &names)).collect::<Vec<_>>().join("\n")
                    });
                    ExitCode::SUCCESS
                }
                Err(error) => report_error(json_out, &error),
            }
        }
    })
}

async fn place(client: &Client, key: &SigningKey, side: Side, args: OrderArgs, json_out: bool) -> ExitCode {
    let OrderArgs { market, quantity, limit, batches } = args;
    let names = if json_out { Vec::new() } else { asset_names(client).await };
    let (base, quote) = names_of(&names, u64::from(market));
    let command = Command::PlaceOrder {
        market_id: market,
        side,
        quantity,
        limit_price: limit,
        expires_after_batches: batches,
    };
    submit(client, key, command, json_out, |events| match event(events, "order_placed") {
        Some(e) => {
            let escrow_asset = if side == Side::Sell { &base } else { &quote };
            format!(
                "order {} placed: {side} {quantity} {base} at {limit} {quote}/{base} in batch {} of market {market}; {} \
                 {escrow_asset} escrowed",
                e["order_id"],
                e["batch"],
                text(&e["escrow"])
            )
        }
        None => "order placed".to_owned(),
    })
    .await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct TestCli {
        #[command(subcommand)]
        trade: TradeCommand,
    }

    fn parse(args: &[&str]) -> Result<TradeCommand, clap::Error> {
        TestCli::try_parse_from(std::iter::once("trade").chain(args.iter().copied())).map(|cli| cli.trade)
    }

    #[test]
    fn trade_arguments_parse() {
        match parse(&["buy", "--quantity", "1000", "--limit", "0.013"]).expect("parse") {
            TradeCommand::Buy(args) => {
                assert_eq!((args.market, args.batches), (1, None));
                assert_eq!(args.quantity.units(), 10_000_000_000);
                assert_eq!(args.limit, "0.013".parse().unwrap());
            }
            _ => panic!("not buy"),
        }
        match parse(&["sell", "--market", "2", "--quantity", "0.5", "--limit", "1", "--batches", "3"])
            .unwrap()
        {
            TradeCommand::Sell(args) => assert_eq!((args.market, args.batches), (2, Some(3))),
            _ => panic!("not sell"),
        }
        assert!(parse(&["buy", "--quantity", "1"]).is_err(), "the limit is required");
        assert!(parse(&["buy", "--quantity", "1.12345678", "--limit", "1"]).is_err(), "8 decimals");
        assert!(matches!(parse(&["cancel", "--order", "7"]).unwrap(), TradeCommand::Cancel { order: 7 }));
        assert!(matches!(
            parse(&["amend", "--order", "7", "--quantity", "2", "--limit", "0.02"]).unwrap(),
            TradeCommand::Amend { order: 7, .. }
        ));
        assert!(matches!(parse(&["market"]).unwrap(), TradeCommand::Market { market: 1, batches: 5 }));
        assert!(parse(&["market", "--batches", "0"]).is_err());
        assert!(matches!(parse(&["orders"]).unwrap(), TradeCommand::Orders));
        assert!(matches!(parse(&["history"]).unwrap(), TradeCommand::History));
    }

    #[test]
    fn lines_name_the_assets_of_the_market() {
        let names = vec![(1, "TFT".to_owned(), "USDC".to_owned())];
        let fill = json!({ "market_id": 1, "batch": 4, "cleared_at": 100, "order_id": 9, "side": "buy",
            "filled": "1000", "price": "0.012", "quote": "12", "fee": "0" });
        assert_eq!(
            fill_line(&fill, &names),
            "batch 4 of market 1 (cleared at 100): order 9 bought 1000 TFT at 0.012 USDC/TFT, paid 12 USDC (fee 0)"
        );
        let order = json!({ "id": 3, "market_id": 1, "side": "sell", "quantity": "10", "limit_price": "0.02",
            "escrow": "10", "placed_in_batch": 1, "expires_after_batch": 360, "locked": true });
        let line = order_line(&order, &names);
        assert!(
            line.contains("sell 10 TFT at 0.02 USDC/TFT  escrow 10 TFT  batches 1..=360  (locked"),
            "{line}"
        );
    }
}
