//! `tfeco wallet exchange`: the in-wallet exchange (spec `decisions.md` §13). Sealed, prefunded limit orders
//! (`buy`, `sell`, `amend`, `cancel`) cleared by frequent batch auctions at one uniform price; your own open
//! orders and fills through signed reads (`orders`, `fills`); a market's status, last batches and depth
//! after each clear (`market`). A market is the exchange's trading pair (1: TFT/USDC). Every subcommand has
//! `--json`.

use std::process::ExitCode;

use clap::Subcommand;
use ed25519_dalek::SigningKey;
use tfeco_core::{Command, Event, MarketId, OrderId, Side};
use tfeco_money::{Amount, AnyAsset, Price};
use tfeco_wallet::api::exchange::BatchesQuery;
use tfeco_wallet::api::{ErrorBody, ErrorCode};
use tfeco_wallet::{CallError, Client};

use crate::connect::Session;
use crate::render;
use crate::render::exchange::{asset_names, names_of, AssetNames, MarketOverview};
use crate::render::find_event;

/// `tfeco wallet exchange ...`.
#[derive(Subcommand)]
pub(crate) enum ExchangeCommand {
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
    Fills,
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

/// The markets' asset codes (best effort, for display: none when the node does not answer).
async fn market_names(client: &Client) -> AssetNames {
    client.exchange_markets().await.map(|markets| asset_names(&markets)).unwrap_or_default()
}

/// A market's status, last batches and depth as one view: `{now, market, batches, depth}`.
async fn market_view(client: &Client, market: u32, batches: u32) -> Result<MarketOverview, CallError> {
    let markets = client.exchange_markets().await?;
    let Some(status) = markets.markets.into_iter().find(|m| m.id == MarketId(market)) else {
        let (code, message) = (ErrorCode::MarketNotFound, format!("no market {market}"));
        return Err(CallError::Refused { status: code.http_status(), error: ErrorBody::new(code, message) });
    };
    let history = client.exchange_batches(status.id, &BatchesQuery { limit: Some(batches) }).await?;
    let depth = client.exchange_depth(status.id).await?;
    Ok(MarketOverview { now: markets.now, market: status, batches: history.batches, depth })
}

/// Runs `wallet exchange ...`; every subcommand but `market` unlocks the keystore.
pub(crate) async fn run(session: &Session, command: ExchangeCommand) -> anyhow::Result<ExitCode> {
    let client = &session.client;
    match command {
        ExchangeCommand::Market { market, batches } => {
            session.answer(market_view(client, market, batches).await, render::exchange::market)
        }
        ExchangeCommand::Buy(args) => place(session, &session.unlock()?, Side::Buy, args).await,
        ExchangeCommand::Sell(args) => place(session, &session.unlock()?, Side::Sell, args).await,
        ExchangeCommand::Cancel { order } => cancel(session, &session.unlock()?, order).await,
        ExchangeCommand::Amend { order, quantity, limit } => {
            amend(session, &session.unlock()?, order, quantity, limit).await
        }
        ExchangeCommand::Orders => {
            let orders = client.own_orders(&session.unlock()?).await;
            let names = market_names(client).await;
            session.answer(orders, |v| render::exchange::orders(v, &names))
        }
        ExchangeCommand::Fills => {
            let fills = client.own_fills(&session.unlock()?).await;
            let names = market_names(client).await;
            session.answer(fills, |v| render::exchange::fills(v, &names))
        }
    }
}

async fn place(session: &Session, key: &SigningKey, side: Side, args: OrderArgs) -> anyhow::Result<ExitCode> {
    let OrderArgs { market, quantity, limit, batches } = args;
    let names = if session.json { Vec::new() } else { market_names(&session.client).await };
    let (base, quote) = names_of(&names, MarketId(market));
    let command = Command::PlaceOrder {
        market_id: MarketId(market),
        side,
        quantity,
        limit_price: limit,
        expires_after_batches: batches,
    };
    session
        .submit_as(key, command, |accepted| {
            let seq = accepted.seq;
            let placed = find_event(accepted, |event| match event {
                Event::OrderPlaced { order_id, batch, escrow, .. } => Some((order_id, batch, escrow)),
                _ => None,
            });
            let Some((order_id, batch, escrow)) = placed else { return format!("order placed (entry {seq})") };
            let escrow_asset = if side == Side::Sell { &base } else { &quote };
            format!(
                "order {order_id} placed: {side} {quantity} {base} at {limit} {quote}/{base} in batch {batch} of market \
                 {market}; {escrow} {escrow_asset} escrowed (entry {seq})"
            )
        })
        .await
}

async fn cancel(session: &Session, key: &SigningKey, order: u64) -> anyhow::Result<ExitCode> {
    let command = Command::CancelOrder { order_id: OrderId(order) };
    session
        .submit_as(key, command, |accepted| {
            let seq = accepted.seq;
            let refunded = find_event(accepted, |event| match event {
                Event::OrderCancelled { refunded, .. } => Some(refunded),
                _ => None,
            });
            match refunded {
                Some(refunded) => format!("order {order} cancelled; {refunded} refunded (entry {seq})"),
                None => format!("order {order} cancelled (entry {seq})"),
            }
        })
        .await
}

async fn amend(
    session: &Session,
    key: &SigningKey,
    order: u64,
    quantity: Amount<AnyAsset>,
    limit: Price,
) -> anyhow::Result<ExitCode> {
    let command = Command::AmendOrder { order_id: OrderId(order), quantity, limit_price: limit };
    session
        .submit_as(key, command, |accepted| {
            let seq = accepted.seq;
            let escrow = find_event(accepted, |event| match event {
                Event::OrderAmended { escrow, .. } => Some(escrow),
                _ => None,
            });
            match escrow {
                Some(escrow) => {
                    format!("order {order} now {quantity} at {limit}; {escrow} escrowed in all (entry {seq})")
                }
                None => format!("order {order} amended (entry {seq})"),
            }
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
        exchange: ExchangeCommand,
    }

    fn parse(args: &[&str]) -> Result<ExchangeCommand, clap::Error> {
        TestCli::try_parse_from(std::iter::once("exchange").chain(args.iter().copied()))
            .map(|cli| cli.exchange)
    }

    #[test]
    fn exchange_arguments_parse() {
        match parse(&["buy", "--quantity", "1000", "--limit", "0.013"]).expect("parse") {
            ExchangeCommand::Buy(args) => {
                assert_eq!((args.market, args.batches), (1, None));
                assert_eq!(args.quantity.units(), 10_000_000_000);
                assert_eq!(args.limit, "0.013".parse().unwrap());
            }
            _ => panic!("not buy"),
        }
        match parse(&["sell", "--market", "2", "--quantity", "0.5", "--limit", "1", "--batches", "3"])
            .unwrap()
        {
            ExchangeCommand::Sell(args) => assert_eq!((args.market, args.batches), (2, Some(3))),
            _ => panic!("not sell"),
        }
        assert!(parse(&["buy", "--quantity", "1"]).is_err(), "the limit is required");
        assert!(parse(&["buy", "--quantity", "1.12345678", "--limit", "1"]).is_err(), "8 decimals");
        assert!(matches!(parse(&["cancel", "--order", "7"]).unwrap(), ExchangeCommand::Cancel { order: 7 }));
        assert!(matches!(
            parse(&["amend", "--order", "7", "--quantity", "2", "--limit", "0.02"]).unwrap(),
            ExchangeCommand::Amend { order: 7, .. }
        ));
        assert!(matches!(parse(&["market"]).unwrap(), ExchangeCommand::Market { market: 1, batches: 5 }));
        assert!(parse(&["market", "--batches", "0"]).is_err());
        assert!(matches!(parse(&["orders"]).unwrap(), ExchangeCommand::Orders));
        assert!(matches!(parse(&["fills"]).unwrap(), ExchangeCommand::Fills));
        assert!(parse(&["history"]).is_err(), "fills, not history");
    }
}
