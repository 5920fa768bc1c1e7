//! `tfeco farming-pool`: farming pools (spec `decisions.md` §10): create one (you own it), sign a farm's
//! joining or leaving (the farmer and the pool owner each run the same command; the second signature
//! completes it), set a member node's price as the owner, show one pool or list them all.

use std::process::ExitCode;

use clap::Subcommand;
use tfeco_core::{Command, FarmId, FarmingPoolId, NodeId};
use tfeco_core::{MembershipChange, PoolRules, PricePolicy};
use tfeco_money::{Amount, Bps, Cc};

use crate::args::parse_bps;
use crate::connect::{ConnectOpts, Session};
use crate::render;

/// Arguments of `tfeco farming-pool`.
#[derive(clap::Args)]
pub(crate) struct FarmingPoolArgs {
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(subcommand)]
    command: FarmingPoolCommand,
}

#[derive(Subcommand)]
enum FarmingPoolCommand {
    /// Create a farming pool owned by you.
    Create {
        /// Pool name (unique).
        #[arg(long)]
        name: String,
        /// Share of the members' farmer share paid to you, basis points (1000 = 10%).
        #[arg(long, value_parser = parse_bps)]
        fee_bps: Bps,
        /// Who prices member nodes: free (members, in the node's band), pool (you, with `farming-pool
        /// price`) or range:MIN-MAX (members, inside MIN..=MAX CC per slice-month).
        #[arg(long, value_parser = parse_price_policy)]
        price_policy: PricePolicy,
        /// Months members' minted rewards stay locked.
        #[arg(long)]
        reward_lock_months: u32,
        /// Most of a member's TFP its exit bids may reserve in one round, basis points.
        #[arg(long, value_parser = parse_bps)]
        exit_quota_bps: Bps,
    },
    /// Sign a farm's joining (the farmer and the pool owner each run this; the second completes it).
    Join {
        /// Pool id.
        #[arg(long)]
        pool: u64,
        /// Farm id.
        #[arg(long)]
        farm: u32,
    },
    /// Sign a farm's leaving (the farmer and the pool owner each run this; the second completes it).
    Leave {
        /// Pool id.
        #[arg(long)]
        pool: u64,
        /// Farm id.
        #[arg(long)]
        farm: u32,
    },
    /// As pool owner, set a member node's slice price (inside the node's band).
    Price {
        /// Node id.
        #[arg(long)]
        node: u32,
        /// CC per slice-month.
        #[arg(long)]
        price: Amount<Cc>,
    },
    /// Show one pool with its member nodes.
    Show {
        /// Pool id.
        #[arg(long)]
        id: u64,
    },
    /// List the farming pools.
    List,
}

/// `free`, `pool` (the owner sets prices) or `range:MIN-MAX` (CC per slice-month).
fn parse_price_policy(s: &str) -> Result<PricePolicy, String> {
    let text = s.trim();
    match text.to_ascii_lowercase().as_str() {
        "free" => return Ok(PricePolicy::Free),
        "pool" | "pool_set" | "pool-set" => return Ok(PricePolicy::PoolSet),
        _ => {}
    }
    let usage = "expected free, pool or range:MIN-MAX (CC per slice-month, e.g. range:1.5-3)";
    let range = text.strip_prefix("range:").ok_or_else(|| format!("invalid price policy {s:?}: {usage}"))?;
    let (min, max) =
        range.split_once('-').ok_or_else(|| format!("invalid price range {range:?}: {usage}"))?;
    let amount =
        |v: &str| v.trim().parse::<Amount<Cc>>().map_err(|e| format!("invalid price {v:?} in {s:?}: {e}"));
    let (min_month, max_month) = (amount(min)?, amount(max)?);
    if !min_month.is_positive() || min_month > max_month {
        return Err(format!("invalid price range {range:?}: needs 0 < MIN <= MAX"));
    }
    Ok(PricePolicy::Range { min_month, max_month })
}

/// Runs `tfeco farming-pool ...`.
pub(crate) async fn run(args: FarmingPoolArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    let command = match args.command {
        FarmingPoolCommand::List => {
            return session.answer(session.client.farming_pools().await, render::farming_pool::pools)
        }
        FarmingPoolCommand::Show { id } => {
            let pool = session.client.farming_pool(FarmingPoolId(id)).await;
            return session.answer(pool, render::farming_pool::pool);
        }
        FarmingPoolCommand::Create { name, fee_bps, price_policy, reward_lock_months, exit_quota_bps } => {
            let rules = PoolRules { fee_bps, price_policy, reward_lock_months, exit_quota_bps };
            Command::CreateFarmingPool { name, rules }
        }
        FarmingPoolCommand::Join { pool, farm } => Command::SignPoolMembership {
            pool_id: FarmingPoolId(pool),
            farm_id: FarmId(farm),
            change: MembershipChange::Join,
        },
        FarmingPoolCommand::Leave { pool, farm } => Command::SignPoolMembership {
            pool_id: FarmingPoolId(pool),
            farm_id: FarmId(farm),
            change: MembershipChange::Leave,
        },
        FarmingPoolCommand::Price { node, price } => Command::SetPoolPrice { node_id: NodeId(node), price },
    };
    session.submit(command).await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: FarmingPoolArgs,
    }

    fn parse_line(line: &str) -> Result<FarmingPoolArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("farming-pool").chain(line.split_whitespace()))
            .map(|cli| cli.args)
    }

    #[test]
    fn command_lines_parse() {
        for good in [
            "list",
            "list --json",
            "join --pool 1 --farm 2",
            "leave --pool 1 --farm 2",
            "price --node 4 --price 2.5",
            "show --id 1 --url http://n:1",
        ] {
            assert!(parse_line(good).is_ok(), "{good}: {:?}", parse_line(good).err());
        }
        assert!(parse_line("create --name P").is_err());
        let line = "create --name P --fee-bps 1000 --price-policy range:1.5-3 --reward-lock-months 6 \
                    --exit-quota-bps 2500";
        let args = parse_line(line).unwrap();
        let FarmingPoolCommand::Create { price_policy, fee_bps, .. } = args.command else { panic!("create") };
        assert_eq!(fee_bps.get(), 1000);
        assert_eq!(
            price_policy,
            PricePolicy::Range { min_month: "1.5".parse().unwrap(), max_month: "3".parse().unwrap() }
        );
    }

    #[test]
    fn price_policies_and_basis_points() {
        assert_eq!(parse_price_policy("free"), Ok(PricePolicy::Free));
        assert_eq!(parse_price_policy("pool"), Ok(PricePolicy::PoolSet));
        assert_eq!(parse_price_policy("Pool-Set"), Ok(PricePolicy::PoolSet));
        for (bad, needle) in [
            ("fixed", "expected free, pool or range:MIN-MAX"),
            ("range:3", "invalid price range"),
            ("range:3-1.5", "needs 0 < MIN <= MAX"),
            ("range:0-1", "needs 0 < MIN <= MAX"),
            ("range:a-2", "invalid price \"a\""),
        ] {
            let error = parse_price_policy(bad).unwrap_err();
            assert!(error.contains(needle), "{needle} in {error}");
        }
        assert_eq!(parse_bps("10000").unwrap().get(), 10_000);
        assert!(parse_bps("10001").unwrap_err().contains("0 to 10000"));
    }
}
