//! The stream's filters: parsing the query of `GET /v1/events` (each filter repeatable or comma separated,
//! every value checked: a [`QueryError`] naming the parameter, answered 400 `invalid_query`) and matching an event's index keys.

use tfeco_api::events::MAX_FILTER_VALUES;
use tfeco_core::{AccountKey, Event};

/// A conjunction of filters, each a set of index keys (an event matches a filter when it has one of its
/// keys). No filter matches every event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// One key set per filter given.
    pub dims: Vec<Vec<String>>,
}

impl Filter {
    /// The filter of one account's events.
    pub fn account(account: &AccountKey) -> Self {
        Filter { dims: vec![vec![account_key(account)]] }
    }

    /// `true` when `keys` (an event's, sorted) meet every filter.
    pub fn matches(&self, keys: &[String]) -> bool {
        self.dims.iter().all(|dim| dim.iter().any(|key| keys.binary_search(key).is_ok()))
    }
}

/// A query parameter refused: its name and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// The parameter.
    pub param: String,
    /// Why.
    pub reason: String,
}

impl QueryError {
    fn new(param: &str, reason: impl std::fmt::Display) -> Self {
        QueryError { param: param.to_owned(), reason: reason.to_string() }
    }
}

/// The index key of an account.
pub fn account_key(account: &AccountKey) -> String {
    format!("a:{account}")
}

/// The parsed query of `GET /v1/events`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamQuery {
    /// The filters.
    pub filter: Filter,
    /// First seq to send (inclusive).
    pub from: Option<u64>,
    /// Follow live (default) or close at the head.
    pub follow: bool,
}

impl StreamQuery {
    /// Parses a raw query string (`account=..&node=1,2&kind=transferred&from=5&follow=false`).
    ///
    /// # Errors
    /// [`QueryError`] naming the parameter: an unknown one, a malformed value, `from` or `follow`
    /// given twice, more than [`MAX_FILTER_VALUES`] values of one filter.
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        let mut dims: [Vec<String>; 4] = Default::default();
        let (mut from, mut follow) = (None, None);
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            let slot = match name.as_ref() {
                "account" => 0,
                "node" => 1,
                "lease" => 2,
                "kind" => 3,
                "from" => {
                    let seq = value.parse::<u64>().map_err(|_| {
                        QueryError::new("from", format!("expected a journal seq, got {value:?}"))
                    })?;
                    once(&mut from, "from", seq)?;
                    continue;
                }
                "follow" => {
                    let on = value
                        .parse::<bool>()
                        .map_err(|_| QueryError::new("follow", "expected true or false"))?;
                    once(&mut follow, "follow", on)?;
                    continue;
                }
                other => {
                    let message =
                        "unknown parameter; this endpoint accepts account, node, lease, kind, from, follow";
                    return Err(QueryError::new(other, message));
                }
            };
            for part in value.split(',') {
                let key = key_of(slot, part.trim())?;
                if !dims[slot].contains(&key) {
                    dims[slot].push(key);
                }
                if dims[slot].len() > MAX_FILTER_VALUES {
                    let message = format!("at most {MAX_FILTER_VALUES} values");
                    return Err(QueryError::new(NAMES[slot], message));
                }
            }
        }
        let dims = dims.into_iter().filter(|dim| !dim.is_empty()).collect();
        Ok(StreamQuery { filter: Filter { dims }, from, follow: follow.unwrap_or(true) })
    }
}

const NAMES: [&str; 4] = ["account", "node", "lease", "kind"];

fn once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), QueryError> {
    if slot.replace(value).is_some() {
        return Err(QueryError::new(name, "given more than once"));
    }
    Ok(())
}

/// The index key of one filter value, checked.
fn key_of(slot: usize, value: &str) -> Result<String, QueryError> {
    let name = NAMES[slot];
    let bad = |what: &str| QueryError::new(name, format!("{value:?} is not {what}"));
    match slot {
        0 => value.parse::<AccountKey>().map(|key| account_key(&key)).map_err(|_| bad("an account (64 hex)")),
        1 => value.parse::<u32>().map(|id| format!("n:{id}")).map_err(|_| bad("a node id")),
        2 => value.parse::<u64>().map(|id| format!("l:{id}")).map_err(|_| bad("a lease id")),
        _ if Event::KINDS.contains(&value) => Ok(format!("k:{value}")),
        _ => Err(bad("an event kind (the `event` tag, e.g. transferred)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = list.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn filters_repeat_or_split_on_commas_and_all_must_match() {
        let account = "ab".repeat(32);
        let query =
            StreamQuery::parse(&format!("node=1,2&node=3&kind=lease_opened&account={account}")).unwrap();
        assert!(query.follow);
        assert_eq!(query.filter.dims.len(), 3);
        assert_eq!(query.filter.dims[1], ["n:1", "n:2", "n:3"]);
        let a = format!("a:{account}");
        assert!(query.filter.matches(&keys(&[&a, "n:2", "k:lease_opened", "l:9"])));
        assert!(!query.filter.matches(&keys(&[&a, "n:4", "k:lease_opened"])), "node differs");
        assert!(!query.filter.matches(&keys(&[&a, "n:2", "k:lease_closed"])), "kind differs");
        assert!(Filter::default().matches(&keys(&["k:ticked"])));
        let query = StreamQuery::parse("from=7&follow=false").unwrap();
        assert_eq!((query.from, query.follow), (Some(7), false));
    }

    #[test]
    fn bad_values_are_typed_400s_naming_the_parameter() {
        for (raw, param) in [
            ("node=x", "node"),
            ("node=1,,2", "node"),
            ("lease=-1", "lease"),
            ("account=zz", "account"),
            ("kind=transfered", "kind"),
            ("from=a", "from"),
            ("from=1&from=2", "from"),
            ("follow=yes", "follow"),
            ("colour=red", "colour"),
        ] {
            let error = StreamQuery::parse(raw).unwrap_err();
            assert_eq!(error.param, param, "{raw}: {error:?}");
        }
        let many = (0..=MAX_FILTER_VALUES).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert!(StreamQuery::parse(&format!("node={many}")).is_err());
    }
}
