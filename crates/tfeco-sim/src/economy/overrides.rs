//! Overrides of a scenario's fields from the command line: `PATH=VALUE` (`tfeco sim --set`, each arm of a
//! `--sweep`).
//!
//! `PATH` is a TOML dotted key (`params.revenue_split.burn_bps`; quoted segments such as
//! `farmers."3Node Home".share` work; a number segment indexes an array of tables, `farmers.mix.0.share`).
//! `VALUE` is a TOML value (integer, float, bool, quoted string, array, inline table); anything else that is
//! not meant as one of those (it does not start with a quote, `[` or `{`) is taken as a string, so
//! `--set tft_price.kind=random_walk` needs no quotes.
//!
//! How: the scenario is serialized to a TOML table, the value is set at the path (missing tables on the way
//! are created), and the table is read back as a scenario by [`Scenario::from_toml_str`]: the scenario's own
//! schema decides, so a typo in a field name (`deny_unknown_fields`), a table where none is accepted, or a
//! value of the wrong type is refused with the override named in the error, and nothing changes.

use toml::{Table, Value};

use super::scenario::Scenario;
use crate::{Result, SimError};

/// One override: a dotted path and a TOML value (as typed).
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The path as typed, e.g. `params.revenue_split.burn_bps`.
    pub path: String,
    /// Its segments, e.g. `["params", "revenue_split", "burn_bps"]`.
    pub keys: Vec<String>,
    /// The value as typed (for labels and the report).
    pub text: String,
    /// The parsed value.
    pub value: Value,
}

impl Override {
    /// Parses `PATH=VALUE` (the first `=` outside quotes separates them). Errors: [`SimError::Scenario`]
    /// for a missing `=`, an empty or malformed path, or a malformed array, inline table or quoted string.
    pub fn parse(text: &str) -> Result<Override> {
        let (path, value) = split_assignment(text)
            .ok_or_else(|| SimError::Scenario(format!("override {text:?}: expected PATH=VALUE")))?;
        Override::new(path, value)
    }

    /// The override of `path` by `value` (both as typed). Errors as [`Override::parse`].
    pub fn new(path: &str, value: &str) -> Result<Override> {
        let path = path.trim();
        let keys = parse_path(path)?;
        let text = value.trim().to_owned();
        let value = parse_value(&text)
            .map_err(|e| SimError::Scenario(format!("override {path}={text}: not a TOML value: {e}")))?;
        Ok(Override { path: path.to_owned(), keys, text, value })
    }

    /// `PATH=VALUE`, as typed.
    pub fn label(&self) -> String {
        format!("{}={}", self.path, self.text)
    }
}

/// Splits `PATH=VALUE` at the first `=` outside quotes (a quoted key may hold `=`).
pub(crate) fn split_assignment(text: &str) -> Option<(&str, &str)> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '=') => return Some((&text[..i], &text[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The segments of a TOML dotted key, read by the TOML parser itself (quoted segments included).
fn parse_path(path: &str) -> Result<Vec<String>> {
    let bad = |why: String| SimError::Scenario(format!("override path {path:?}: {why}"));
    if path.is_empty() {
        return Err(bad("empty".into()));
    }
    let table: Table = toml::from_str(&format!("{path} = 0")).map_err(|e| bad(first_line(&e.to_string())))?;
    let mut keys = Vec::new();
    let mut node = &table;
    loop {
        let (key, value) = node.iter().next().ok_or_else(|| bad("no key".into()))?;
        keys.push(key.clone());
        match value {
            Value::Table(inner) => node = inner,
            _ => return Ok(keys),
        }
    }
}

/// A TOML value; a text that is none and does not start like a structured one is a string.
fn parse_value(text: &str) -> std::result::Result<Value, String> {
    match toml::from_str::<Table>(&format!("v = {text}")) {
        Ok(mut table) => table.remove("v").ok_or_else(|| "no value".into()),
        Err(_) if text.is_empty() => Ok(Value::String(String::new())),
        Err(e) if text.starts_with(['"', '\'', '[', '{']) => Err(first_line(&e.to_string())),
        Err(_) => Ok(Value::String(text.to_owned())),
    }
}

/// The first line of a multi-line parser message.
fn first_line(message: &str) -> String {
    message.lines().find(|l| !l.trim().is_empty()).unwrap_or(message).trim().to_owned()
}

/// `scenario` with `overrides` applied in order. Errors: [`SimError::Scenario`] naming the override, when a
/// path crosses a value that is not a table (or an array index out of range), or when the scenario's schema
/// refuses the result (unknown field, wrong type, invalid value).
pub fn apply(scenario: &Scenario, overrides: &[Override]) -> Result<Scenario> {
    apply_to(scenario, overrides, Scenario::from_toml_str)
}

/// [`apply`] for any serializable document `value`, read back by `read` (which owns the schema).
fn apply_to<T: serde::Serialize + Clone>(
    value: &T,
    overrides: &[Override],
    read: impl Fn(&str) -> Result<T>,
) -> Result<T> {
    if overrides.is_empty() {
        return Ok(value.clone());
    }
    let mut root = Value::try_from(value)
        .map_err(|e| SimError::Scenario(format!("the scenario does not serialize: {e}")))?;
    for o in overrides {
        set(&mut root, &o.keys, o.value.clone())
            .map_err(|why| SimError::Scenario(format!("{}: {why}", o.label())))?;
    }
    let labels: Vec<String> = overrides.iter().map(Override::label).collect();
    let text =
        toml::to_string(&root).map_err(|e| SimError::Scenario(format!("{}: {e}", labels.join(" "))))?;
    read(&text).map_err(|e| {
        let message = match e {
            SimError::Scenario(message) => message,
            other => other.to_string(),
        };
        SimError::Scenario(format!("{}: {}", labels.join(" "), parser_reason(&message)))
    })
}

/// The reason of a TOML parser's message without its excerpt of the document (a document the overrides
/// rebuilt, which the user never wrote): its last line, e.g. ``unknown field `monthz`, expected ...``.
fn parser_reason(message: &str) -> &str {
    let message = message.trim_end();
    if message.starts_with("TOML parse error") {
        message.lines().last().unwrap_or(message).trim()
    } else {
        message
    }
}

/// Sets `value` at `keys` under `node`, creating missing tables.
fn set(node: &mut Value, keys: &[String], value: Value) -> std::result::Result<(), String> {
    let Some((key, rest)) = keys.split_first() else {
        *node = value;
        return Ok(());
    };
    let child = match node {
        Value::Table(table) if rest.is_empty() => {
            table.insert(key.clone(), value);
            return Ok(());
        }
        Value::Table(table) => table.entry(key.clone()).or_insert_with(|| Value::Table(Table::new())),
        Value::Array(items) => {
            let index: usize = key.parse().map_err(|_| format!("{key:?} is not an index of an array"))?;
            let len = items.len();
            items.get_mut(index).ok_or_else(|| format!("index {index} is out of range (length {len})"))?
        }
        other => return Err(format!("{key:?} is under a {}, not a table", other.type_str())),
    };
    set(child, rest, value)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    /// A small scenario schema, strict like the real one.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Small {
        name: String,
        months: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<SmallParams>,
        #[serde(default)]
        mix: Vec<Share>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SmallParams {
        #[serde(default)]
        burn_bps: u32,
        #[serde(default)]
        prices: Vec<f64>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Share {
        model: String,
        share: u32,
    }

    fn small() -> Small {
        let mix = vec![Share { model: "a".into(), share: 60 }, Share { model: "b b".into(), share: 40 }];
        Small { name: "small".into(), months: 12, params: None, mix }
    }

    fn read(text: &str) -> Result<Small> {
        toml::from_str(text).map_err(|e| SimError::Scenario(e.to_string()))
    }

    fn set_all(texts: &[&str]) -> Result<Small> {
        let overrides = texts.iter().map(|t| Override::parse(t)).collect::<Result<Vec<_>>>()?;
        apply_to(&small(), &overrides, read)
    }

    #[test]
    fn values_are_toml_or_bare_words() {
        let value = |text: &str| Override::new("x", text).unwrap().value;
        assert_eq!(value("12"), Value::Integer(12));
        assert_eq!(value("-3"), Value::Integer(-3));
        assert_eq!(value("0.25"), Value::Float(0.25));
        assert_eq!(value("true"), Value::Boolean(true));
        assert_eq!(value("\"a b\""), Value::String("a b".into()));
        assert_eq!(value("random_walk"), Value::String("random_walk".into()));
        assert_eq!(value("2024-13"), Value::String("2024-13".into()));
        assert_eq!(value("[1, 2]"), Value::Array(vec![Value::Integer(1), Value::Integer(2)]));
        let table = value("{ a = 1 }");
        assert_eq!(table.get("a"), Some(&Value::Integer(1)));
        for bad in ["[1, 2", "\"open", "{ a = }"] {
            let error = Override::new("x", bad).unwrap_err().to_string();
            assert!(error.contains("not a TOML value"), "{bad}: {error}");
        }
    }

    #[test]
    fn paths_are_dotted_keys() {
        let keys = |text: &str| Override::parse(text).unwrap().keys;
        assert_eq!(keys("a.b.c=1"), ["a", "b", "c"]);
        assert_eq!(keys("farmers.\"3Node Home\".share=1"), ["farmers", "3Node Home", "share"]);
        assert_eq!(keys("a.\"x=y\".b=2"), ["a", "x=y", "b"]);
        assert_eq!(Override::parse("a.\"x=y\".b=2").unwrap().text, "2");
        for bad in ["no-equals", "=1", "a..b=1", "a b=1"] {
            assert!(Override::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_set_fields_and_nothing_else() {
        let changed = set_all(&["months=36"]).unwrap();
        assert_eq!(Small { months: 12, ..changed.clone() }, small());
        assert_eq!(changed.months, 36);
        // A missing table the schema accepts is created; later overrides see earlier ones.
        let params = set_all(&["params.burn_bps=2000", "params.prices=[1.5, 2]"]).unwrap().params.unwrap();
        assert_eq!(params, SmallParams { burn_bps: 2000, prices: vec![1.5, 2.0] });
        let mix = set_all(&["mix.1.share=45", "mix.0.model=c"]).unwrap().mix;
        assert_eq!((mix[0].model.as_str(), mix[1].share), ("c", 45));
        assert_eq!(set_all(&[]).unwrap(), small());
    }

    #[test]
    fn the_schema_refuses_typos_wrong_types_and_tables_it_does_not_accept() {
        for (text, expected) in [
            ("monthz=3", "monthz"),
            ("months=many", "string"),
            ("months=-1", "months"),
            ("params.burn_bsp=1", "burn_bsp"),
            ("nowhere.deep.key=1", "nowhere"),
            ("mix.0.share=\"half\"", "string"),
        ] {
            let error = set_all(&[text]).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(error.contains(text), "the override is named: {error}");
            assert!(!error.contains("parse error") && !error.contains('\n'), "the reason alone: {error}");
        }
        let error = set_all(&["months.x=1"]).unwrap_err().to_string();
        assert!(error.contains("not a table") && error.contains("months.x=1"), "{error}");
        let error = set_all(&["mix.5.share=1"]).unwrap_err().to_string();
        assert!(error.contains("out of range"), "{error}");
        let error = set_all(&["mix.first.share=1"]).unwrap_err().to_string();
        assert!(error.contains("not an index"), "{error}");
    }

    /// Every built-in scenario takes an override of its horizon and only that changes.
    #[test]
    fn built_in_scenarios_take_overrides() {
        for name in Scenario::builtin_names() {
            let scenario = Scenario::builtin(name).unwrap();
            let months = scenario.months + 1;
            let changed = apply(&scenario, &[Override::new("months", &months.to_string()).unwrap()]).unwrap();
            assert_eq!(changed.months, months);
            assert_eq!(Scenario { months: scenario.months, ..changed }, scenario);
            assert!(apply(&scenario, &[Override::parse("no_such_field=1").unwrap()]).is_err(), "{name}");
        }
    }
}
