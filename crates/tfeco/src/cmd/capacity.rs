//! `tfeco market`: the capacity marketplace from the command line (spec `decisions.md` §9-10).
//!
//! - `search [FILTER...]` lists listed slices, cheapest first; `explain [FILTER...] --slices N` says why
//!   they cannot be had; `take [FILTER...] --slices N` leases the cheapest match at once (`TakeCapacity`);
//! - `bid post|fill|cancel` and `bids`: standing bids (bid tiers; farmers fill them);
//! - `request post|offer|show` and `requests`: capacity requests (reverse auctions closed by `Tick`);
//! - `pool create|join|leave|price|show` and `pools`: farming pools (join and leave need both the farmer's
//!   and the pool owner's signature: each runs the same command).
//!
//! A FILTER is an expression in the spirit of `vastai search offers 'gpu_ram>=24'`, per slice:
//! `cores>=N`, `passmark>=N`, `mem_gb>=N`, `ssd_gb>=N`, `ai_mem_gb>=N`, `ai_tps>=N` (minimums),
//! `certified=true|false`, `farm=ID`, `price<=CC` (CC per slice-month) and `free>=N` (free slices on the
//! node). Several may share one argument (`'mem_gb >= 8 passmark>=2000'`); each key at most once.
//!
//! Reads need only the node's URL: `tfeco market --url URL ...`, or `TFECO_NODE`
//! (after the subcommand, `--node` is a node id, as in `bid fill --node 3`). Writes are signed with the key
//! of `--keystore` (password from `TFECO_PASSWORD` or a prompt). Every command has `--json`; a node's
//! refusal exits 3 with its stable code, an unreachable node exits 4.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use serde_json::Value;
use tfeco_core::capacity::{Requirements, SearchQuery};
use tfeco_core::farming::{MembershipChange, PoolRules, PricePolicy};
use tfeco_core::{Billing, Command, FarmId, NodeId};
use tfeco_money::{Amount, Bps, Cc};

use tfeco_wallet::Client;

use crate::wallet::{report_error, submit_and_print};

/// Arguments of `tfeco market`.
#[derive(clap::Args)]
#[command(after_help = FILTER_HELP)]
pub(crate) struct Args {
    /// Keystore file of the account key (for commands that sign).
    #[arg(long, env = "TFECO_KEYSTORE", default_value = "tfeco-wallet.json", global = true)]
    keystore: PathBuf,
    /// Node URL (`--url`; `--node` is a node id, as in `bid fill --node 3`).
    #[arg(
        long = "url",
        id = "node_url",
        value_name = "URL",
        env = "TFECO_NODE",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    node_url: String,
    /// Print JSON (amounts as decimal strings).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: MarketCommand,
}

/// The filter language, shown under `tfeco market --help`.
const FILTER_HELP: &str = "\
FILTERS (per slice; quote them, an unquoted > or < is a shell redirection):
  cores>=N  passmark>=N  mem_gb>=N  ssd_gb>=N  ai_mem_gb>=N  ai_tps>=N   minimums per slice
  certified=true|false  farm=ID                                          exact values
  price<=CC                                                              CC per slice-month
  free>=N                                                                free slices on the node (search)
Example: tfeco market search 'mem_gb>=8' 'passmark>=2000' 'price<=2' --limit 10";

#[derive(Subcommand)]
enum MarketCommand {
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
    /// Farming pools: create, join, leave, set a member node's price, show one.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// List the farming pools.
    Pools,
}

/// Billing mode on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BillingArg {
    /// One-hour periods at the hourly price.
    Hourly,
    /// 720-hour periods at the monthly price.
    Monthly,
}

impl BillingArg {
    fn billing(self) -> Billing {
        match self {
            BillingArg::Hourly => Billing::Hourly,
            BillingArg::Monthly => Billing::Monthly,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BillingArg::Hourly => "hourly",
            BillingArg::Monthly => "monthly",
        }
    }
}

/// Arguments of `market search`.
#[derive(clap::Args)]
struct SearchArgs {
    /// Filters, quoted, e.g. 'mem_gb>=8' 'passmark>=2000' 'certified=true' 'price<=2' 'free>=2' (see
    /// `tfeco market --help`).
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

/// Arguments of `market explain`.
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

/// Arguments of `market take`.
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

#[derive(Subcommand)]
enum PoolCommand {
    /// Create a farming pool owned by you.
    Create {
        /// Pool name (unique).
        #[arg(long)]
        name: String,
        /// Share of the members' farmer share paid to you, basis points (1000 = 10%).
        #[arg(long, value_parser = parse_bps)]
        fee_bps: Bps,
        /// Who prices member nodes: free (members, in the node's band), pool (you, with `pool price`) or
        /// range:MIN-MAX (members, inside MIN..=MAX CC per slice-month).
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
}

// ---------------------------------------------------------------------------------------------------------
// Filter expressions
// ---------------------------------------------------------------------------------------------------------

/// A filter key, its only operator, and what its value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Cores,
    Passmark,
    MemGb,
    SsdGb,
    AiMemGb,
    AiTps,
    Certified,
    Farm,
    Price,
    Free,
}

impl Key {
    const ALL: [Key; 10] = [
        Key::Cores,
        Key::Passmark,
        Key::MemGb,
        Key::SsdGb,
        Key::AiMemGb,
        Key::AiTps,
        Key::Certified,
        Key::Farm,
        Key::Price,
        Key::Free,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Cores => "cores",
            Key::Passmark => "passmark",
            Key::MemGb => "mem_gb",
            Key::SsdGb => "ssd_gb",
            Key::AiMemGb => "ai_mem_gb",
            Key::AiTps => "ai_tps",
            Key::Certified => "certified",
            Key::Farm => "farm",
            Key::Price => "price",
            Key::Free => "free",
        }
    }

    fn operator(self) -> &'static str {
        match self {
            Key::Price => "<=",
            Key::Certified | Key::Farm => "=",
            _ => ">=",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Key::Certified => "true|false",
            Key::Farm => "ID",
            Key::Price => "CC",
            _ => "N",
        }
    }

    fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// `cores>=N, passmark>=N, ..., free>=N`: the accepted expressions, for error messages.
fn accepted_keys() -> String {
    let list: Vec<String> =
        Key::ALL.iter().map(|k| format!("{}{}{}", k.name(), k.operator(), k.example())).collect();
    format!("accepted: {}", list.join(", "))
}

/// One parsed filter expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    /// A per-slice minimum (cores, passmark, GB, tokens per second) or free slices.
    AtLeast(Key, u32),
    /// Certified nodes only (`true`) or no requirement (`false`).
    Certified(bool),
    /// Nodes of one farm.
    Farm(FarmId),
    /// Highest CC per slice-month.
    MaxPrice(Amount<Cc>),
}

impl Filter {
    fn key(self) -> Key {
        match self {
            Filter::AtLeast(key, _) => key,
            Filter::Certified(_) => Key::Certified,
            Filter::Farm(_) => Key::Farm,
            Filter::MaxPrice(_) => Key::Price,
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.key();
        write!(f, "{}{}", key.name(), key.operator())?;
        match self {
            Filter::AtLeast(_, n) => write!(f, "{n}"),
            Filter::Certified(b) => write!(f, "{b}"),
            Filter::Farm(id) => write!(f, "{id}"),
            Filter::MaxPrice(p) => write!(f, "{p}"),
        }
    }
}

const OPERATOR_CHARS: &[char] = &['<', '>', '=', '!'];

/// Parses one expression such as `mem_gb>=8` (no spaces).
fn parse_expression(text: &str) -> Result<Filter, String> {
    let Some(at) = text.find(OPERATOR_CHARS) else {
        return Err(format!(
            "{text:?} is not a filter: expected KEY OP VALUE such as 'mem_gb>=8' (quote it: in a shell an \
             unquoted > or < redirects); {}",
            accepted_keys()
        ));
    };
    let (name, rest) = text.split_at(at);
    let op_len = rest.find(|c| !OPERATOR_CHARS.contains(&c)).unwrap_or(rest.len());
    let (op, value) = rest.split_at(op_len);
    let key = Key::from_name(name).ok_or_else(|| {
        let what =
            if name.is_empty() { "a filter needs a key".to_owned() } else { format!("unknown key {name:?}") };
        format!("{what} in {text:?}; {}", accepted_keys())
    })?;
    if op != key.operator() {
        let meaning = match key.operator() {
            ">=" => "a minimum",
            "<=" => "a maximum",
            _ => "an exact value",
        };
        return Err(format!(
            "{name} takes only {} ({meaning}), not {op:?}: write {name}{}{}; {}",
            key.operator(),
            key.operator(),
            key.example(),
            accepted_keys()
        ));
    }
    if value.is_empty() {
        return Err(format!("{text:?} has no value: write {name}{op}{}", key.example()));
    }
    let invalid = |what: &str| format!("{text:?}: {name} expects {what}, got {value:?}");
    match key {
        Key::Certified => match value {
            "true" => Ok(Filter::Certified(true)),
            "false" => Ok(Filter::Certified(false)),
            _ => Err(invalid("true or false")),
        },
        Key::Farm => value.parse().map(|id| Filter::Farm(FarmId(id))).map_err(|_| invalid("a farm id")),
        Key::Price => value
            .parse::<Amount<Cc>>()
            .map(Filter::MaxPrice)
            .map_err(|e| format!("{text:?}: price expects CC per slice-month such as 2.5 ({e})")),
        _ => value.parse().map(|n| Filter::AtLeast(key, n)).map_err(|_| invalid("a whole number")),
    }
}

/// One command-line argument holding one or more filter expressions (spaces around operators allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
struct FilterArg(Vec<Filter>);

impl std::str::FromStr for FilterArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Glue `mem_gb >= 8` back into `mem_gb>=8`, then split on the remaining spaces.
        let mut expressions: Vec<String> = Vec::new();
        let mut glue = false;
        for token in s.split_whitespace() {
            match expressions.last_mut() {
                Some(last) if glue || token.starts_with(OPERATOR_CHARS) => last.push_str(token),
                _ => expressions.push(token.to_owned()),
            }
            glue = token.ends_with(OPERATOR_CHARS);
        }
        if expressions.is_empty() {
            return Err(format!("an empty filter; {}", accepted_keys()));
        }
        expressions.iter().map(|e| parse_expression(e)).collect::<Result<_, _>>().map(FilterArg)
    }
}

/// What the filters of one command ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Selection {
    requirements: Requirements,
    max_price: Option<Amount<Cc>>,
    min_free: Option<u32>,
}

/// Combines the filters of a command. `price` and `free` are refused where they do not apply, with the
/// hint of `not_here`; a key given twice is refused.
fn select(args: &[FilterArg], not_here: &[(Key, &str)]) -> anyhow::Result<Selection> {
    let mut selection = Selection::default();
    let mut seen: Vec<Key> = Vec::new();
    for filter in args.iter().flat_map(|a| a.0.iter().copied()) {
        let key = filter.key();
        if let Some((_, hint)) = not_here.iter().find(|(k, _)| *k == key) {
            anyhow::bail!("the filter {filter} does not apply here: {hint}");
        }
        if seen.contains(&key) {
            anyhow::bail!("the filter key {} is given twice", key.name());
        }
        seen.push(key);
        let r = &mut selection.requirements;
        match filter {
            Filter::AtLeast(Key::Cores, n) => r.min_cores = n,
            Filter::AtLeast(Key::Passmark, n) => r.min_passmark = n,
            Filter::AtLeast(Key::MemGb, n) => r.min_mem_gb = n,
            Filter::AtLeast(Key::SsdGb, n) => r.min_ssd_gb = n,
            Filter::AtLeast(Key::AiMemGb, n) => r.min_ai_mem_gb = n,
            Filter::AtLeast(Key::AiTps, n) => r.min_ai_tps = n,
            Filter::AtLeast(_, n) => selection.min_free = Some(n),
            Filter::Certified(b) => r.certified_only = b,
            Filter::Farm(id) => r.farm_id = Some(id),
            Filter::MaxPrice(p) => selection.max_price = Some(p),
        }
    }
    Ok(selection)
}

/// The requirements as filter expressions (`passmark>=2000 mem_gb>=4`), `any` when there are none.
fn requirements_text(r: &Requirements) -> String {
    let mut parts: Vec<String> = [
        (Key::Cores, r.min_cores),
        (Key::Passmark, r.min_passmark),
        (Key::MemGb, r.min_mem_gb),
        (Key::SsdGb, r.min_ssd_gb),
        (Key::AiMemGb, r.min_ai_mem_gb),
        (Key::AiTps, r.min_ai_tps),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(k, n)| Filter::AtLeast(k, n).to_string())
    .collect();
    if r.certified_only {
        parts.push(Filter::Certified(true).to_string());
    }
    if let Some(farm) = r.farm_id {
        parts.push(Filter::Farm(farm).to_string());
    }
    if parts.is_empty() {
        "any".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The query-string pairs of the requirements (names of `/v1/market/search`).
fn requirement_pairs(r: &Requirements) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&'static str, String)> = [
        ("min_cores", r.min_cores),
        ("min_passmark", r.min_passmark),
        ("min_mem_gb", r.min_mem_gb),
        ("min_ssd_gb", r.min_ssd_gb),
        ("min_ai_mem_gb", r.min_ai_mem_gb),
        ("min_ai_tps", r.min_ai_tps),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| (name, n.to_string()))
    .collect();
    if r.certified_only {
        pairs.push(("certified_only", "true".to_owned()));
    }
    if let Some(farm) = r.farm_id {
        pairs.push(("farm", farm.to_string()));
    }
    pairs
}

/// `path?a=1&b=2` (every value is a number, a decimal or a word: nothing to escape).
fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

fn search_path(selection: &Selection, billing: Option<BillingArg>, limit: Option<u32>) -> String {
    let mut pairs = requirement_pairs(&selection.requirements);
    if let Some(price) = selection.max_price {
        pairs.push(("max_price", price.to_string()));
    }
    if let Some(billing) = billing {
        pairs.push(("billing", billing.name().to_owned()));
    }
    if let Some(free) = selection.min_free {
        pairs.push(("min_free", free.to_string()));
    }
    if let Some(limit) = limit {
        pairs.push(("limit", limit.to_string()));
    }
    with_query("/v1/market/search", &pairs)
}

fn explain_path(requirements: &Requirements, n_slices: u32, max_price: Option<Amount<Cc>>) -> String {
    let mut pairs = requirement_pairs(requirements);
    pairs.push(("n_slices", n_slices.to_string()));
    if let Some(price) = max_price {
        pairs.push(("max_price", price.to_string()));
    }
    with_query("/v1/market/explain", &pairs)
}

// ---------------------------------------------------------------------------------------------------------
// Other argument parsers
// ---------------------------------------------------------------------------------------------------------

fn parse_bps(s: &str) -> Result<Bps, String> {
    s.trim().parse::<u16>().ok().and_then(Bps::new).ok_or_else(|| {
        format!("invalid basis points {s:?}: expected a whole number from 0 to 10000 (1000 = 10%)")
    })
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

// ---------------------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------------------

use crate::wallet::unlock;

/// Writes to stdout; a closed pipe (`tfeco market search | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing to stdout")
        }
        _ => Ok(()),
    }
}

/// `GET path`, then prints the body as compact JSON (`--json`) or through `human`.
async fn show(
    client: &Client,
    path: &str,
    json_out: bool,
    human: impl FnOnce(&Value) -> String,
) -> anyhow::Result<ExitCode> {
    match client.get(path).await {
        Ok(value) => {
            emit(&if json_out { format!("{value}\n") } else { human(&value) })?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(report_error(json_out, &error)),
    }
}

const NOT_A_NODE_FILTER: &str = "a lease takes --slices on one node, which must have them free";

/// Runs `tfeco market`.
pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.node_url);
    let json_out = args.json;
    let command = match args.command {
        MarketCommand::Search(search) => {
            let selection = select(&search.filters, &[])?;
            let path = search_path(&selection, search.billing, search.limit);
            return match client.get(&path).await {
                Ok(value) => {
                    if json_out {
                        emit(&format!("{value}\n"))?;
                    } else {
                        let mut text = render_search(&value, search.billing.unwrap_or(BillingArg::Monthly));
                        if value["count"].as_u64() == Some(0) {
                            // Say why, with the same requirements and price ceiling.
                            let n = selection.min_free.unwrap_or(1).max(1);
                            let why = explain_path(&selection.requirements, n, selection.max_price);
                            if let Ok(explain) = client.get(&why).await {
                                let hourly = search.billing == Some(BillingArg::Hourly);
                                if hourly && explain["satisfiable"] == Value::Bool(true) {
                                    // The reasons compare monthly prices; hourly billing costs more.
                                    text.push_str(
                                        "  why not: listed monthly prices are within the ceiling, but hourly \
                                         billing (the hourly price x 720) is above it; try --billing monthly.\n",
                                    );
                                } else {
                                    text.push_str(&render_reasons(&explain));
                                }
                            }
                        }
                        emit(&text)?;
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => Ok(report_error(json_out, &error)),
            };
        }
        MarketCommand::Explain(explain) => {
            let selection = select(&explain.filters, &[(Key::Free, "use --slices for the slices wanted")])?;
            if selection.max_price.is_some() && explain.max_price.is_some() {
                anyhow::bail!("give the price ceiling once: price<=CC or --max-price");
            }
            let max_price = selection.max_price.or(explain.max_price);
            let path = explain_path(&selection.requirements, explain.slices, max_price);
            return show(&client, &path, json_out, |value| {
                let mut text = format!(
                    "{} slice(s) of {}{}:\n",
                    explain.slices,
                    requirements_text(&selection.requirements),
                    max_price.map(|p| format!(" at <= {p} CC per slice-month")).unwrap_or_default()
                );
                text.push_str(&render_reasons(value));
                text
            })
            .await;
        }
        MarketCommand::Take(take) => {
            let selection = select(&take.filters, &[(Key::Free, NOT_A_NODE_FILTER)])?;
            Command::TakeCapacity {
                query: SearchQuery {
                    requirements: selection.requirements,
                    max_price_month: selection.max_price,
                    billing: take.billing.map(BillingArg::billing),
                    min_free_slices: 0,
                    limit: 0,
                },
                n_slices: take.slices,
                periods: take.periods,
            }
        }
        MarketCommand::Bid(BidCommand::Post { name, filters, price, quantity, periods }) => {
            let selection = select(
                &filters,
                &[(Key::Price, "the bid's price is --price"), (Key::Free, "farmers fill a bid node by node")],
            )?;
            Command::PostStandingBid {
                name,
                requirements: selection.requirements,
                price_month: price,
                quantity,
                periods,
            }
        }
        MarketCommand::Bid(BidCommand::Fill { bid, node, slices }) => {
            Command::FillStandingBid { bid_id: bid, node_id: NodeId(node), n_slices: slices }
        }
        MarketCommand::Bid(BidCommand::Cancel { bid }) => Command::CancelStandingBid { bid_id: bid },
        MarketCommand::Bids => return show(&client, "/v1/market/standing-bids", json_out, render_bids).await,
        MarketCommand::Request(RequestCommand::Post { filters, slices, max_price, window_s, periods }) => {
            let selection = select(
                &filters,
                &[(Key::Price, "the ceiling is --max-price"), (Key::Free, "farmers offer node by node")],
            )?;
            Command::PostCapacityRequest {
                requirements: selection.requirements,
                n_slices: slices,
                max_price_month: max_price,
                periods,
                window_s,
            }
        }
        MarketCommand::Request(RequestCommand::Offer { request, node, price }) => {
            Command::OfferCapacity { request_id: request, node_id: NodeId(node), price_month: price }
        }
        MarketCommand::Request(RequestCommand::Show { id }) => {
            return show(&client, &format!("/v1/market/requests/{id}"), json_out, render_request).await;
        }
        MarketCommand::Requests => {
            return show(&client, "/v1/market/requests", json_out, render_requests).await
        }
        MarketCommand::Pool(PoolCommand::Create {
            name,
            fee_bps,
            price_policy,
            reward_lock_months,
            exit_quota_bps,
        }) => Command::CreateFarmingPool {
            name,
            rules: PoolRules { fee_bps, price_policy, reward_lock_months, exit_quota_bps },
        },
        MarketCommand::Pool(PoolCommand::Join { pool, farm }) => Command::SignPoolMembership {
            pool_id: pool,
            farm_id: FarmId(farm),
            change: MembershipChange::Join,
        },
        MarketCommand::Pool(PoolCommand::Leave { pool, farm }) => Command::SignPoolMembership {
            pool_id: pool,
            farm_id: FarmId(farm),
            change: MembershipChange::Leave,
        },
        MarketCommand::Pool(PoolCommand::Price { node, price }) => {
            Command::SetPoolPrice { node_id: NodeId(node), price }
        }
        MarketCommand::Pool(PoolCommand::Show { id }) => {
            return show(&client, &format!("/v1/farming-pools/{id}"), json_out, render_pool).await;
        }
        MarketCommand::Pools => return show(&client, "/v1/farming-pools", json_out, render_pools).await,
    };
    let key = unlock(&args.keystore)?;
    Ok(submit_and_print(&client, &key, command, json_out).await)
}

// ---------------------------------------------------------------------------------------------------------
// Human-readable output (from the API's JSON)
// ---------------------------------------------------------------------------------------------------------

/// A JSON string or number as text (`-` when absent or null).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Basis points as a percentage: 1000 → `10%`, 1250 → `12.5%`.
fn percent(bps: &Value) -> String {
    let Some(bps) = bps.as_u64() else { return text(bps) };
    let fraction = format!("{:02}", bps % 100);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}%", bps / 100)
    } else {
        format!("{}.{fraction}%", bps / 100)
    }
}

/// The requirements of a bid or request view, as filter expressions.
fn requirements_of(view: &Value) -> String {
    serde_json::from_value::<Requirements>(view["requirements"].clone())
        .map_or_else(|_| view["requirements"].to_string(), |r| requirements_text(&r))
}

fn periods_text(periods: &Value) -> String {
    periods.as_u64().map_or_else(|| "until cancelled".to_owned(), |n| format!("{n} month(s)"))
}

/// A key shortened for tables: `ab12cd34…`.
fn short_key(key: &Value) -> String {
    let key = text(key);
    if key.len() > 12 {
        format!("{}…", &key[..8])
    } else {
        key
    }
}

fn render_search(value: &Value, billing: BillingArg) -> String {
    let mut out = String::new();
    let results = list(&value["results"]);
    if !results.is_empty() {
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:>5} {:>11} {:>10} {:>10}",
            "node", "model", "farm", "free slices", "CC/month", "CC/hour"
        );
    }
    for hit in results {
        let mut model = hit["model"].as_str().unwrap_or("custom").to_owned();
        if hit["certified"] == Value::Bool(true) {
            model.push_str(" (certified)");
        }
        let _ = writeln!(
            out,
            "{:>6}  {:<24} {:>5} {:>11} {:>10} {:>10}",
            text(&hit["node_id"]),
            model,
            text(&hit["farm_id"]),
            text(&hit["free_slices"]),
            text(&hit["price_month"]),
            text(&hit["price_hour"]),
        );
    }
    let order = match billing {
        BillingArg::Monthly => "cheapest first",
        BillingArg::Hourly => "cheapest hourly price first",
    };
    match results.len() {
        0 => out.push_str("no listed node matches.\n"),
        n => {
            let _ = writeln!(out, "{n} node(s), {order}; prices per slice.");
        }
    }
    out
}

fn render_reasons(explain: &Value) -> String {
    let reasons = list(&explain["reasons"]);
    if reasons.is_empty() {
        return "  enough listed capacity exists (tfeco market search lists it).\n".to_owned();
    }
    let mut out = String::from("  why not:\n");
    for reason in reasons {
        let _ = writeln!(out, "  - {}", text(reason));
    }
    out
}

fn render_bids(value: &Value) -> String {
    let bids = list(&value["standing_bids"]);
    if bids.is_empty() {
        return "no standing bids.\n".to_owned();
    }
    let mut out = String::new();
    let line = |cells: [&str; 8]| {
        let [id, name, price, filled, escrow, periods, buyer, reqs] = cells;
        format!(
            "{id:>4}  {name:<20} {price:>8} {filled:>15} {escrow:>12}  {periods:<16} {buyer:<10} {reqs}\n"
        )
    };
    out.push_str(&line([
        "bid",
        "name",
        "CC/month",
        "filled/quantity",
        "escrow CC",
        "periods",
        "buyer",
        "requirements",
    ]));
    for b in bids {
        out.push_str(&line([
            &text(&b["id"]),
            &text(&b["name"]),
            &text(&b["price_month"]),
            &format!("{}/{}", text(&b["filled"]), text(&b["quantity"])),
            &text(&b["escrow"]),
            &periods_text(&b["periods"]),
            &short_key(&b["buyer"]),
            &requirements_of(b),
        ]));
    }
    out
}

fn render_requests(value: &Value) -> String {
    let requests = list(&value["requests"]);
    if requests.is_empty() {
        return "no capacity requests.\n".to_owned();
    }
    let mut out = String::new();
    let line = |cells: [&str; 8]| {
        let [id, status, slices, max, offers, closes, filled, reqs] = cells;
        format!("{id:>4}  {status:<8} {slices:>6} {max:>10} {offers:>6} {closes:>11} {filled:>6}  {reqs}\n")
    };
    out.push_str(&line([
        "req",
        "status",
        "slices",
        "max CC",
        "offers",
        "closes at",
        "filled",
        "requirements",
    ]));
    for r in requests {
        let filled = r["outcome"]["filled"].as_u64().map_or_else(|| "-".to_owned(), |n| n.to_string());
        out.push_str(&line([
            &text(&r["id"]),
            &text(&r["status"]),
            &text(&r["n_slices"]),
            &text(&r["max_price_month"]),
            &list(&r["offers"]).len().to_string(),
            &text(&r["closes_at"]),
            &filled,
            &requirements_of(r),
        ]));
    }
    out.push_str("`tfeco market request show --id ID` shows offers, outcome and reasons.\n");
    out
}

fn render_request(r: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "capacity request {} ({})", text(&r["id"]), text(&r["status"]));
    let _ = writeln!(out, "  requester     {}", text(&r["requester"]));
    let _ = writeln!(
        out,
        "  wants         {} slice(s) of {} at <= {} CC per slice-month, {}",
        text(&r["n_slices"]),
        requirements_of(r),
        text(&r["max_price_month"]),
        periods_text(&r["periods"]),
    );
    let _ = writeln!(out, "  window        closes at {} (unix seconds)", text(&r["closes_at"]));
    let _ = writeln!(out, "  escrow        {} CC", text(&r["escrow"]));
    let offers = list(&r["offers"]);
    if offers.is_empty() {
        out.push_str("  offers        none\n");
    } else {
        out.push_str("  offers        (cheapest first)\n");
        for o in offers {
            let _ = writeln!(
                out,
                "    node {:>6} at {} CC per slice-month",
                text(&o["node_id"]),
                text(&o["price_month"])
            );
        }
    }
    let outcome = &r["outcome"];
    if outcome.is_null() {
        return out;
    }
    let leases: Vec<String> = list(&outcome["leases"]).iter().map(text).collect();
    let _ = writeln!(
        out,
        "  outcome       {} of {} slice(s) leased at {}; leases {}; {} CC refunded",
        text(&outcome["filled"]),
        text(&r["n_slices"]),
        text(&outcome["closed_at"]),
        if leases.is_empty() { "none".to_owned() } else { leases.join(", ") },
        text(&outcome["refunded"]),
    );
    let reasons = list(&outcome["reasons"]);
    if !reasons.is_empty() {
        out.push_str("  why fewer slices than asked:\n");
        for reason in reasons {
            let _ = writeln!(out, "  - {}", text(reason));
        }
    }
    out
}

fn policy_text(policy: &Value) -> String {
    match policy {
        Value::String(s) if s == "pool_set" => "pool sets prices".to_owned(),
        Value::String(s) => s.clone(),
        Value::Object(map) => match map.get("range") {
            Some(range) => format!("range {}-{}", text(&range["min_month"]), text(&range["max_month"])),
            None => policy.to_string(),
        },
        other => other.to_string(),
    }
}

fn members_text(pool: &Value) -> String {
    let members: Vec<String> = list(&pool["members"]).iter().map(text).collect();
    if members.is_empty() {
        "none".to_owned()
    } else {
        members.join(", ")
    }
}

fn render_pools(value: &Value) -> String {
    let pools = list(&value["pools"]);
    if pools.is_empty() {
        return "no farming pools.\n".to_owned();
    }
    let mut out = String::new();
    let line = |cells: [&str; 8]| {
        let [id, name, owner, fee, policy, lock, quota, members] = cells;
        format!("{id:>4}  {name:<20} {owner:<10} {fee:>6}  {policy:<18} {lock:>11} {quota:>10}  {members}\n")
    };
    out.push_str(&line([
        "pool",
        "name",
        "owner",
        "fee",
        "price policy",
        "reward lock",
        "exit quota",
        "member farms",
    ]));
    for p in pools {
        let rules = &p["rules"];
        out.push_str(&line([
            &text(&p["id"]),
            &text(&p["name"]),
            &short_key(&p["owner"]),
            &percent(&rules["fee_bps"]),
            &policy_text(&rules["price_policy"]),
            &format!("{} mo", text(&rules["reward_lock_months"])),
            &percent(&rules["exit_quota_bps"]),
            &members_text(p),
        ]));
    }
    out
}

fn render_pool(p: &Value) -> String {
    let rules = &p["rules"];
    let mut out = String::new();
    let _ = writeln!(out, "farming pool {} \"{}\"", text(&p["id"]), text(&p["name"]));
    let _ = writeln!(out, "  owner         {}", text(&p["owner"]));
    let _ = writeln!(out, "  fee           {} of the members' farmer share", percent(&rules["fee_bps"]));
    let _ = writeln!(out, "  price policy  {}", policy_text(&rules["price_policy"]));
    let _ = writeln!(out, "  reward lock   {} month(s)", text(&rules["reward_lock_months"]));
    let _ =
        writeln!(out, "  exit quota    {} of a member's TFP per round", percent(&rules["exit_quota_bps"]));
    let _ = writeln!(out, "  member farms  {}", members_text(p));
    let nodes: Vec<String> = list(&p["member_nodes"]).iter().map(text).collect();
    if !nodes.is_empty() {
        let _ = writeln!(out, "  member nodes  {}", nodes.join(", "));
    }
    for (field, change) in [("pending_joins", "join"), ("pending_leaves", "leave")] {
        for pending in list(&p[field]) {
            let _ = writeln!(
                out,
                "  pending {change}  farm {}: signed by the {}, awaiting the {}",
                text(&pending["farm_id"]),
                text(&pending["signed_by"]).replace('_', " "),
                text(&pending["awaiting"]).replace('_', " "),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    /// A stand-in for the binary's top level, so `market` arguments parse exactly as on the command line.
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("market").chain(argv.iter().copied())).map(|cli| cli.args)
    }

    fn filters(args: &[&str]) -> Result<Vec<FilterArg>, String> {
        args.iter().map(|a| a.parse::<FilterArg>()).collect()
    }

    #[test]
    fn every_key_parses_with_its_operator() {
        let parsed = filters(&[
            "cores>=2",
            "passmark>=2000",
            "mem_gb>=8",
            "ssd_gb>=100",
            "ai_mem_gb>=24",
            "ai_tps>=5",
            "certified=true",
            "farm=3",
            "price<=2.0",
            "free>=2",
        ])
        .unwrap();
        let selection = select(&parsed, &[]).unwrap();
        let expected = Selection {
            requirements: Requirements {
                min_cores: 2,
                min_passmark: 2000,
                min_mem_gb: 8,
                min_ssd_gb: 100,
                min_ai_mem_gb: 24,
                min_ai_tps: 5,
                certified_only: true,
                farm_id: Some(FarmId(3)),
            },
            max_price: Some("2".parse().unwrap()),
            min_free: Some(2),
        };
        assert_eq!(selection, expected);
        assert_eq!(
            search_path(&selection, Some(BillingArg::Hourly), Some(20)),
            "/v1/market/search?min_cores=2&min_passmark=2000&min_mem_gb=8&min_ssd_gb=100&min_ai_mem_gb=24\
             &min_ai_tps=5&certified_only=true&farm=3&max_price=2&billing=hourly&min_free=2&limit=20"
        );
        assert_eq!(
            requirements_text(&selection.requirements),
            "cores>=2 passmark>=2000 mem_gb>=8 ssd_gb>=100 ai_mem_gb>=24 ai_tps>=5 certified=true farm=3"
        );
        assert_eq!(search_path(&Selection::default(), None, None), "/v1/market/search");
        assert_eq!(explain_path(&Requirements::default(), 4, None), "/v1/market/explain?n_slices=4");
    }

    #[test]
    fn spaces_and_several_expressions_per_argument() {
        let one = "mem_gb >= 8 passmark>=2000  certified= true farm =3".parse::<FilterArg>().unwrap();
        assert_eq!(
            one.0,
            [
                Filter::AtLeast(Key::MemGb, 8),
                Filter::AtLeast(Key::Passmark, 2000),
                Filter::Certified(true),
                Filter::Farm(FarmId(3))
            ]
        );
        assert_eq!(
            " price <=1.5 ".parse::<FilterArg>().unwrap().0,
            [Filter::MaxPrice("1.5".parse().unwrap())]
        );
    }

    #[test]
    fn bad_expressions_are_refused_with_the_accepted_keys() {
        for (arg, needles) in [
            ("gpu_ram>=24", &["unknown key \"gpu_ram\"", "accepted: cores>=N", "price<=CC", "free>=N"][..]),
            ("mem_gb<=8", &["mem_gb takes only >= (a minimum)", "not \"<=\"", "accepted:"]),
            ("mem_gb>8", &["mem_gb takes only >=", "not \">\""]),
            ("mem_gb=8", &["mem_gb takes only >="]),
            ("price>=2", &["price takes only <= (a maximum)"]),
            ("price<2", &["price takes only <="]),
            ("certified>=true", &["certified takes only = (an exact value)"]),
            ("farm!=3", &["farm takes only ="]),
            ("mem_gb>=", &["has no value"]),
            ("mem_gb>=eight", &["mem_gb expects a whole number, got \"eight\""]),
            ("mem_gb>=-1", &["whole number"]),
            ("certified=yes", &["certified expects true or false"]),
            ("farm=x", &["farm expects a farm id"]),
            ("price<=1.123456789", &["price expects CC per slice-month", "decimals"]),
            ("mem_gb", &["is not a filter", "quote it", "accepted:"]),
            (">=8", &["a filter needs a key"]),
            ("  ", &["an empty filter"]),
        ] {
            let error = arg.parse::<FilterArg>().expect_err(arg);
            for needle in needles {
                assert!(error.contains(needle), "{needle:?} in {error:?}");
            }
        }
    }

    #[test]
    fn selections_refuse_repeats_and_misplaced_keys() {
        let twice = filters(&["mem_gb>=8", "passmark>=1 mem_gb>=16"]).unwrap();
        assert!(select(&twice, &[]).unwrap_err().to_string().contains("mem_gb is given twice"));
        let price = filters(&["price<=2"]).unwrap();
        let error = select(&price, &[(Key::Price, "the ceiling is --max-price")]).unwrap_err().to_string();
        assert_eq!(error, "the filter price<=2 does not apply here: the ceiling is --max-price");
    }

    /// Parses a command line split on spaces (`_` stands for a space inside an argument).
    fn parse_line(line: &str) -> Result<Args, clap::Error> {
        let words: Vec<String> = line.split(' ').map(|w| w.replace('_', " ")).collect();
        parse(&words.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn command_lines_parse() {
        let args = parse(&["search", "mem_gb>=8", "passmark >= 2000", "--billing", "hourly", "--limit", "5"])
            .unwrap();
        let MarketCommand::Search(search) = args.command else { panic!("search") };
        assert_eq!(search.filters.len(), 2);
        assert_eq!((search.billing, search.limit), (Some(BillingArg::Hourly), Some(5)));
        let error = parse(&["search", "gpu_ram>=24"]).err().unwrap();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("unknown key \"gpu_ram\""), "{error}");
        for bad in ["search --limit 0", "take passmark>=8", "explain --slices 0", "pool create --name P"] {
            assert!(parse_line(bad).is_err(), "{bad} must be refused");
        }
        for good in [
            "take passmark>=8 --slices 2 --billing hourly --periods 3 --json",
            "explain passmark>=64 --slices 4 --max-price 2.0",
            "bid post --name Standard_Compute passmark>=2000 --price 1.2 --quantity 20000 --periods 12",
            "bid fill --bid 1 --node 3 --slices 2",
            "bid cancel --bid 1",
            "request post passmark>=8 --slices 4 --max-price 2 --window-s 3600",
            "request offer --request 1 --node 3 --price 1.8",
            "request show --id 1",
            "bids --json",
            "requests",
            "pools",
            "pool join --pool 1 --farm 2",
            "pool leave --pool 1 --farm 2",
            "pool price --node 4 --price 2.5",
            "pool show --id 1",
        ] {
            assert!(parse_line(good).is_ok(), "{good}: {:?}", parse_line(good).err());
        }
        let line = "pool create --name P --fee-bps 1000 --price-policy range:1.5-3 --reward-lock-months 6 \
                    --exit-quota-bps 2500";
        let args = parse_line(&line.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap();
        let MarketCommand::Pool(PoolCommand::Create { price_policy, fee_bps, .. }) = args.command else {
            panic!("pool create")
        };
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
        assert_eq!(
            (percent(&json!(1000)), percent(&json!(1250)), percent(&json!(5))),
            ("10%".into(), "12.5%".into(), "0.05%".into())
        );
    }

    #[test]
    fn renderings_read_well() {
        let search = json!({ "count": 1, "results": [{
            "node_id": 7, "farm_id": 2, "model": "Mini 3", "certified": false, "price_month": "1.5",
            "price_hour": "0.0041667", "effective_month": "1.5", "free_slices": 25 }] });
        let text = render_search(&search, BillingArg::Monthly);
        assert!(
            text.contains("Mini 3")
                && text.contains("0.0041667")
                && text.contains("1 node(s), cheapest first"),
            "{text}"
        );
        let request = json!({
            "id": 3, "status": "closed", "requester": "ab", "n_slices": 4, "max_price_month": "2",
            "periods": null, "closes_at": 100, "escrow": "0",
            "offers": [{ "node_id": 9, "price_month": "1.8" }],
            "requirements": { "min_cores": 0, "min_passmark": 0, "min_mem_gb": 64, "min_ssd_gb": 0,
                "min_ai_mem_gb": 0, "min_ai_tps": 0, "certified_only": false, "farm_id": null },
            "outcome": { "closed_at": 100, "filled": 0, "leases": [], "refunded": "8",
                "reasons": ["no node has >= 64 GB memory per slice"] } });
        let text = render_request(&request);
        assert!(
            text.contains("4 slice(s) of mem_gb>=64 at <= 2 CC per slice-month, until cancelled"),
            "{text}"
        );
        assert!(text.contains("0 of 4 slice(s) leased") && text.contains("8 CC refunded"), "{text}");
        assert!(text.contains("  - no node has >= 64 GB memory per slice"), "{text}");
        let pools = json!({ "pools": [{ "id": 1, "name": "P", "owner": "0123456789abcdef0123", "members": [2],
            "rules": { "fee_bps": 1000, "price_policy": { "range": { "min_month": "1.5", "max_month": "3" } },
                "reward_lock_months": 6, "exit_quota_bps": 2500 } }] });
        let text = render_pools(&pools);
        assert!(text.contains("range 1.5-3") && text.contains("10%") && text.contains("25%"), "{text}");
    }
}
