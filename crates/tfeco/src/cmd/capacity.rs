//! `tfeco capacity`: the capacity market from the command line (spec `decisions.md` §9).
//!
//! - `search [FILTER...]` lists listed slices, cheapest first; `explain [FILTER...] --slices N` says why
//!   they cannot be had; `take [FILTER...] --slices N` leases the cheapest match at once (`TakeCapacity`);
//! - `bid post|fill|cancel` and `bids`: standing bids (farmers fill them);
//! - `request post|offer|show` and `requests`: capacity requests (reverse auctions closed by `Tick`).
//!
//! A FILTER is an expression of the filter language (`crate::filter`): `'mem_gb>=8'`, `'price<=2'`, ...,
//! parsed into the core's typed `SearchQuery`. Reads need only the node's URL (`--url URL` or
//! `TFECO_NODE`); `--node` is a node id (`bid fill --node 3`). Writes are signed with the key of
//! `--keystore`. Every command has `--json`; a node's refusal exits 3 with its stable code, an unreachable
//! node exits 4.

use std::process::ExitCode;

use clap::Subcommand;
use tfeco_core::{CapacityRequestId, Command, NodeId, StandingBidId};
use tfeco_core::{Requirements, SearchQuery};
use tfeco_money::{Amount, Cc};
use tfeco_wallet::api::capacity::{self as api, CapacityRequestsQuery, StandingBidsQuery};
use tfeco_wallet::api::capacity::{ExplainView, SearchView};
use tfeco_wallet::{CallError, Client};

use crate::args::BillingArg;
use crate::connect::{ConnectOpts, Session};
use crate::filter::{parse_query, requirements_text, FilterArg, Key, FILTER_HELP};
use crate::render;

/// Arguments of `tfeco capacity`.
#[derive(clap::Args)]
#[command(after_help = FILTER_HELP)]
pub(crate) struct CapacityArgs {
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(subcommand)]
    command: CapacityCommand,
}

#[derive(Subcommand)]
enum CapacityCommand {
    /// List nodes whose slices meet the filters, cheapest first.
    Search(SearchArgs),
    /// Explain why N slices meeting the filters cannot be had (one reason per blocking requirement).
    Explain(ExplainArgs),
    /// Lease slices on the cheapest node meeting the filters, at its listed price (signed).
    Take(TakeArgs),
    /// Standing bids: post, fill (farmers) or cancel (signed).
    #[command(subcommand)]
    Bid(BidCommand),
    /// List the standing bids.
    Bids,
    /// Capacity requests (reverse auctions): post, offer (farmers) or show one.
    #[command(subcommand)]
    Request(RequestCommand),
    /// List the capacity requests with their offers.
    Requests,
}

/// Arguments of `capacity search`.
#[derive(clap::Args)]
struct SearchArgs {
    /// Filters, quoted, e.g. 'mem_gb>=8' 'passmark>=2000' 'certified=true' 'price<=2' 'free>=2' (see
    /// `tfeco capacity --help`).
    #[arg(value_name = "FILTER")]
    filters: Vec<FilterArg>,
    /// Compare prices as billed: monthly, or hourly (the hourly price x 720, so price<= is still per
    /// slice-month) [default: monthly].
    #[arg(long, value_enum)]
    billing: Option<BillingArg>,
    /// At most this many nodes, 1 to 10000 [default: 100].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: Option<u32>,
}

/// Arguments of `capacity explain`.
#[derive(clap::Args)]
struct ExplainArgs {
    /// Requirement filters (and price<=CC as an alternative to --max-price).
    #[arg(value_name = "FILTER")]
    filters: Vec<FilterArg>,
    /// Slices wanted.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    slices: u32,
    /// Highest CC per slice-month [default: no ceiling].
    #[arg(long)]
    max_price: Option<Amount<Cc>>,
}

/// Arguments of `capacity take`.
#[derive(clap::Args)]
struct TakeArgs {
    /// Requirement filters and price<=CC (the node must have --slices free).
    #[arg(value_name = "FILTER")]
    filters: Vec<FilterArg>,
    /// Slices to lease on one node.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    slices: u32,
    /// Billing of the lease [default: monthly].
    #[arg(long, value_enum)]
    billing: Option<BillingArg>,
    /// Periods (hours or months) until the lease expires [default: until cancelled].
    #[arg(long)]
    periods: Option<u32>,
}

#[derive(Subcommand)]
enum BidCommand {
    /// Post a standing bid: up to --quantity slices meeting the filters at --price CC per slice-month,
    /// billed monthly; the first month of the whole quantity is escrowed.
    Post {
        /// A name, e.g. "Standard Compute".
        #[arg(long)]
        name: String,
        /// Requirement filters (per slice).
        #[arg(value_name = "FILTER")]
        filters: Vec<FilterArg>,
        /// CC per slice-month.
        #[arg(long)]
        price: Amount<Cc>,
        /// Slices wanted.
        #[arg(long)]
        quantity: u32,
        /// Lease length in months [default: until cancelled].
        #[arg(long)]
        periods: Option<u32>,
    },
    /// Fill a standing bid with slices of one of your nodes (a lease at the bid price).
    Fill {
        /// Bid id.
        #[arg(long)]
        bid: u64,
        /// Node id (of your farm).
        #[arg(long)]
        node: u32,
        /// Slices.
        #[arg(long)]
        slices: u32,
    },
    /// Cancel your standing bid; the unused escrow is refunded, filled leases continue.
    Cancel {
        /// Bid id.
        #[arg(long)]
        bid: u64,
    },
}

#[derive(Subcommand)]
enum RequestCommand {
    /// Post a capacity request: --slices slices meeting the filters at no more than --max-price CC per
    /// slice-month; max price x slices is escrowed; farmers offer during the window; the cheapest win.
    Post {
        /// Requirement filters (per slice).
        #[arg(value_name = "FILTER")]
        filters: Vec<FilterArg>,
        /// Slices wanted.
        #[arg(long)]
        slices: u32,
        /// Highest CC per slice-month.
        #[arg(long)]
        max_price: Amount<Cc>,
        /// Offer window in seconds.
        #[arg(long)]
        window_s: i64,
        /// Lease length in months [default: until cancelled].
        #[arg(long)]
        periods: Option<u32>,
    },
    /// Offer one of your nodes for a capacity request (a later offer for the node replaces it).
    Offer {
        /// Request id.
        #[arg(long)]
        request: u64,
        /// Node id (of your farm).
        #[arg(long)]
        node: u32,
        /// CC per slice-month, at most the request's max price and inside the node's band.
        #[arg(long)]
        price: Amount<Cc>,
    },
    /// Show one request: offers, outcome, and the reasons when fewer slices than asked were leased.
    Show {
        /// Request id.
        #[arg(long)]
        id: u64,
    },
}

// The capacity market's queries: the filter parser's typed query as the node's query parameters.

/// `n`, or `None` for zero (no requirement: the parameter is left out).
fn nonzero(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

/// The node's search query of a parsed filter query (zero, `false` and `None` are left out).
fn search_query(query: &SearchQuery) -> api::SearchQuery {
    let r = &query.requirements;
    api::SearchQuery {
        min_cores: nonzero(r.min_cores),
        min_passmark: nonzero(r.min_passmark),
        min_mem_gb: nonzero(r.min_mem_gb),
        min_ssd_gb: nonzero(r.min_ssd_gb),
        min_ai_mem_gb: nonzero(r.min_ai_mem_gb),
        min_ai_tps: nonzero(r.min_ai_tps),
        certified_only: r.certified_only.then_some(true),
        farm: r.farm_id.map(|farm| farm.0),
        max_price: query.max_price_month,
        billing: query.billing,
        min_free: nonzero(query.min_free_slices),
        limit: nonzero(query.limit),
    }
}

/// The node's explain query: why `n_slices` meeting `r` at no more than `max_price` cannot be had.
fn explain_query(r: &Requirements, n_slices: u32, max_price: Option<Amount<Cc>>) -> api::ExplainQuery {
    api::ExplainQuery {
        min_cores: nonzero(r.min_cores),
        min_passmark: nonzero(r.min_passmark),
        min_mem_gb: nonzero(r.min_mem_gb),
        min_ssd_gb: nonzero(r.min_ssd_gb),
        min_ai_mem_gb: nonzero(r.min_ai_mem_gb),
        min_ai_tps: nonzero(r.min_ai_tps),
        certified_only: r.certified_only.then_some(true),
        farm: r.farm_id.map(|farm| farm.0),
        n_slices: Some(n_slices),
        max_price,
    }
}

async fn explain(
    client: &Client,
    requirements: &Requirements,
    n_slices: u32,
    max_price: Option<Amount<Cc>>,
) -> Result<ExplainView, CallError> {
    client.capacity_explain(&explain_query(requirements, n_slices, max_price)).await
}

const NOT_A_NODE_FILTER: &str = "a lease takes --slices on one node, which must have them free";

/// Runs `tfeco capacity`.
pub(crate) async fn run(args: CapacityArgs) -> anyhow::Result<ExitCode> {
    let session = Session::new(&args.connect)?;
    let client = &session.client;
    let command = match args.command {
        CapacityCommand::Search(args) => return run_search(&session, args).await,
        CapacityCommand::Explain(args) => return run_explain(&session, args).await,
        CapacityCommand::Bids => {
            let bids = client.standing_bids(&StandingBidsQuery::default()).await;
            return session.answer(bids, render::capacity::standing_bids);
        }
        CapacityCommand::Requests => {
            let requests = client.capacity_requests(&CapacityRequestsQuery::default()).await;
            return session.answer(requests, render::capacity::requests);
        }
        CapacityCommand::Take(take) => {
            let mut query = parse_query(&take.filters, &[(Key::Free, NOT_A_NODE_FILTER)])?;
            query.billing = take.billing.map(BillingArg::billing);
            Command::TakeCapacity { query, n_slices: take.slices, periods: take.periods }
        }
        CapacityCommand::Bid(command) => bid_command(command)?,
        CapacityCommand::Request(command) => return run_request(&session, command).await,
    };
    session.submit(command).await
}

/// `capacity search`: the results, and when nothing matches, why (with the same requirements and ceiling).
async fn run_search(session: &Session, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let mut query = parse_query(&args.filters, &[])?;
    query.billing = args.billing.map(BillingArg::billing);
    query.limit = args.limit.unwrap_or(0);
    let found: SearchView = match session.client.capacity_search(&search_query(&query)).await {
        Ok(found) => found,
        Err(error) => return Ok(render::call_error(session.json, &error)),
    };
    if session.json {
        render::json(&found)?;
        return Ok(ExitCode::SUCCESS);
    }
    let billing = args.billing.unwrap_or(BillingArg::Monthly);
    let mut text = render::capacity::search(&found, billing);
    if found.count == 0 {
        let n_slices = query.min_free_slices.max(1);
        if let Ok(why) = explain(&session.client, &query.requirements, n_slices, query.max_price_month).await
        {
            if billing == BillingArg::Hourly && why.satisfiable {
                // The reasons compare monthly prices; hourly billing costs more.
                text.push_str(
                    "  why not: listed monthly prices are within the ceiling, but hourly billing (the hourly \
                     price x 720) is above it; try --billing monthly.\n",
                );
            } else {
                text.push_str(&render::capacity::reasons(&why));
            }
        }
    }
    render::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `capacity explain`: the reasons, under a line saying what was asked.
async fn run_explain(session: &Session, args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let query = parse_query(&args.filters, &[(Key::Free, "use --slices for the slices wanted")])?;
    if query.max_price_month.is_some() && args.max_price.is_some() {
        anyhow::bail!("give the price ceiling once: price<=CC or --max-price");
    }
    let max_price = query.max_price_month.or(args.max_price);
    let why = explain(&session.client, &query.requirements, args.slices, max_price).await;
    session.answer(why, |view| {
        let ceiling = max_price.map(|p| format!(" at <= {p} CC per slice-month")).unwrap_or_default();
        let asked =
            format!("{} slice(s) of {}{ceiling}:\n", args.slices, requirements_text(&query.requirements));
        asked + &render::capacity::reasons(view)
    })
}

fn bid_command(command: BidCommand) -> anyhow::Result<Command> {
    Ok(match command {
        BidCommand::Post { name, filters, price, quantity, periods } => {
            let not_here =
                [(Key::Price, "the bid's price is --price"), (Key::Free, "farmers fill a bid node by node")];
            let query = parse_query(&filters, &not_here)?;
            Command::PostStandingBid {
                name,
                requirements: query.requirements,
                price_month: price,
                quantity,
                periods,
            }
        }
        BidCommand::Fill { bid, node, slices } => {
            Command::FillStandingBid { bid_id: StandingBidId(bid), node_id: NodeId(node), n_slices: slices }
        }
        BidCommand::Cancel { bid } => Command::CancelStandingBid { bid_id: StandingBidId(bid) },
    })
}

/// `capacity request ...`: show one (a read), or post and offer (signed).
async fn run_request(session: &Session, command: RequestCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        RequestCommand::Show { id } => {
            let request = session.client.capacity_request(CapacityRequestId(id)).await;
            return session.answer(request, render::capacity::request);
        }
        RequestCommand::Post { filters, slices, max_price, window_s, periods } => {
            let not_here =
                [(Key::Price, "the ceiling is --max-price"), (Key::Free, "farmers offer node by node")];
            let query = parse_query(&filters, &not_here)?;
            Command::PostCapacityRequest {
                requirements: query.requirements,
                n_slices: slices,
                max_price_month: max_price,
                periods,
                window_s,
            }
        }
        RequestCommand::Offer { request, node, price } => Command::OfferCapacity {
            request_id: CapacityRequestId(request),
            node_id: NodeId(node),
            price_month: price,
        },
    };
    session.submit(command).await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// A stand-in for the binary's top level, so `capacity` arguments parse exactly as on the command line.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CapacityArgs,
    }

    fn parse(argv: &[&str]) -> Result<CapacityArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("capacity").chain(argv.iter().copied())).map(|cli| cli.args)
    }

    /// Parses a command line split on spaces (`_` stands for a space inside an argument).
    fn parse_line(line: &str) -> Result<CapacityArgs, clap::Error> {
        let words: Vec<String> = line.split(' ').map(|w| w.replace('_', " ")).collect();
        parse(&words.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn a_typed_search_query_becomes_the_node_query() {
        let query = SearchQuery {
            requirements: Requirements {
                min_cores: 2,
                min_passmark: 2000,
                min_mem_gb: 8,
                min_ssd_gb: 100,
                min_ai_mem_gb: 24,
                min_ai_tps: 5,
                certified_only: true,
                farm_id: Some(tfeco_core::FarmId(3)),
            },
            max_price_month: Some("2".parse().unwrap()),
            billing: Some(tfeco_core::Billing::Hourly),
            min_free_slices: 2,
            limit: 20,
        };
        assert_eq!(
            search_query(&query),
            api::SearchQuery {
                min_cores: Some(2),
                min_passmark: Some(2000),
                min_mem_gb: Some(8),
                min_ssd_gb: Some(100),
                min_ai_mem_gb: Some(24),
                min_ai_tps: Some(5),
                certified_only: Some(true),
                farm: Some(3),
                max_price: Some("2".parse().unwrap()),
                billing: Some(tfeco_core::Billing::Hourly),
                min_free: Some(2),
                limit: Some(20),
            }
        );
        assert_eq!(search_query(&SearchQuery::default()), api::SearchQuery::default());
        assert_eq!(
            explain_query(&Requirements::default(), 4, None),
            api::ExplainQuery { n_slices: Some(4), ..api::ExplainQuery::default() }
        );
    }

    #[test]
    fn command_lines_parse() {
        let args = parse(&["search", "mem_gb>=8", "passmark >= 2000", "--billing", "hourly", "--limit", "5"])
            .unwrap();
        let CapacityCommand::Search(search) = args.command else { panic!("search") };
        assert_eq!(search.filters.len(), 2);
        assert_eq!((search.billing, search.limit), (Some(BillingArg::Hourly), Some(5)));
        let error = parse(&["search", "gpu_ram>=24"]).err().unwrap();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("unknown key \"gpu_ram\""), "{error}");
        for bad in
            ["search --limit 0", "take passmark>=8", "explain --slices 0", "pool create --name P", "pools"]
        {
            assert!(parse_line(bad).is_err(), "{bad} must be refused");
        }
        for good in [
            "take passmark>=8 --slices 2 --billing hourly --periods 3 --json",
            "explain passmark>=64 --slices 4 --max-price 2.0",
            "bid post --name Standard_Compute passmark>=2000 --price 1.2 --quantity 20000 --periods 12",
            "bid fill --bid 1 --node 3 --slices 2",
            "bid fill --bid 1 --node 3 --slices 2 --url http://n:1",
            "bid cancel --bid 1",
            "request post passmark>=8 --slices 4 --max-price 2 --window-s 3600",
            "request offer --request 1 --node 3 --price 1.8",
            "request show --id 1",
            "bids --json",
            "requests",
        ] {
            assert!(parse_line(good).is_ok(), "{good}: {:?}", parse_line(good).err());
        }
    }
}
