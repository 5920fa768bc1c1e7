//! The capacity filter language: per-slice requirement expressions in the spirit of `vastai search offers
//! 'gpu_ram>=24'`, parsed into the core's typed [`SearchQuery`] (the one parser of the vocabulary; the HTTP
//! encoding of the query is in `cmd/paths.rs`), and requirements printed back as expressions.
//!
//! Keys, each with its only operator: `cores>=N`, `passmark>=N`, `mem_gb>=N`, `ssd_gb>=N`, `ai_mem_gb>=N`,
//! `ai_tps>=N` (minimums per slice), `certified=true|false`, `farm=ID`, `price<=CC` (CC per slice-month) and
//! `free>=N` (free slices on the node). Several may share one argument (`'mem_gb >= 8 passmark>=2000'`);
//! each key at most once per command.

use std::fmt;

use tfeco_core::FarmId;
use tfeco_core::{Requirements, SearchQuery};
use tfeco_money::{Amount, Cc};

/// The filter language, shown under `tfeco capacity --help`.
pub(crate) const FILTER_HELP: &str = "\
FILTERS (per slice; quote them, an unquoted > or < is a shell redirection):
  cores>=N  passmark>=N  mem_gb>=N  ssd_gb>=N  ai_mem_gb>=N  ai_tps>=N   minimums per slice
  certified=true|false  farm=ID                                          exact values
  price<=CC                                                              CC per slice-month
  free>=N                                                                free slices on the node (search)
Example: tfeco capacity search 'mem_gb>=8' 'passmark>=2000' 'price<=2' --limit 10";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
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
pub(crate) enum Filter {
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
pub(crate) struct FilterArg(Vec<Filter>);

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

/// Combines the filters of a command into a typed query: the requirements, `price<=` as
/// `max_price_month`, `free>=` as `min_free_slices` (0 when absent: the search's default of one); billing and
/// limit are left to the command. `price` and `free` are refused where they do not apply (`not_here` says
/// why); a key given twice is refused.
pub(crate) fn parse_query(args: &[FilterArg], not_here: &[(Key, &str)]) -> anyhow::Result<SearchQuery> {
    let mut query = SearchQuery::default();
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
        let r = &mut query.requirements;
        match filter {
            Filter::AtLeast(Key::Cores, n) => r.min_cores = n,
            Filter::AtLeast(Key::Passmark, n) => r.min_passmark = n,
            Filter::AtLeast(Key::MemGb, n) => r.min_mem_gb = n,
            Filter::AtLeast(Key::SsdGb, n) => r.min_ssd_gb = n,
            Filter::AtLeast(Key::AiMemGb, n) => r.min_ai_mem_gb = n,
            Filter::AtLeast(Key::AiTps, n) => r.min_ai_tps = n,
            Filter::AtLeast(_, n) => query.min_free_slices = n,
            Filter::Certified(b) => r.certified_only = b,
            Filter::Farm(id) => r.farm_id = Some(id),
            Filter::MaxPrice(p) => query.max_price_month = Some(p),
        }
    }
    Ok(query)
}

/// The requirements as filter expressions (`passmark>=2000 mem_gb>=4`), `any` when there are none.
pub(crate) fn requirements_text(r: &Requirements) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(args: &[&str]) -> Result<Vec<FilterArg>, String> {
        args.iter().map(|a| a.parse::<FilterArg>()).collect()
    }

    #[test]
    fn every_key_parses_with_its_operator_into_the_typed_query() {
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
        let query = parse_query(&parsed, &[]).unwrap();
        let expected = SearchQuery {
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
            max_price_month: Some("2".parse().unwrap()),
            min_free_slices: 2,
            ..SearchQuery::default()
        };
        assert_eq!(query, expected);
        assert_eq!(
            requirements_text(&query.requirements),
            "cores>=2 passmark>=2000 mem_gb>=8 ssd_gb>=100 ai_mem_gb>=24 ai_tps>=5 certified=true farm=3"
        );
        assert_eq!(requirements_text(&Requirements::default()), "any");
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
    fn queries_refuse_repeats_and_misplaced_keys() {
        let twice = filters(&["mem_gb>=8", "passmark>=1 mem_gb>=16"]).unwrap();
        assert!(parse_query(&twice, &[]).unwrap_err().to_string().contains("mem_gb is given twice"));
        let price = filters(&["price<=2"]).unwrap();
        let error =
            parse_query(&price, &[(Key::Price, "the ceiling is --max-price")]).unwrap_err().to_string();
        assert_eq!(error, "the filter price<=2 does not apply here: the ceiling is --max-price");
    }
}
