//! The price paths a run plays: one gold price (USD per troy ounce) and one TFT price (USD) per simulated
//! month, computed before the run from the scenario and the run's seeded generator. Gold comes from the real
//! monthly series ([`tfeco_core::GOLD_MONTHLY_CSV`]: from the scenario's start month, or replayed from a
//! chosen month, constant after its last row), a constant, or a constant monthly drift; TFT is a constant, a
//! seeded random walk or a CSV. All arithmetic is exact (integer basis points on 18-decimal prices).

use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfeco_core::{parse_gold_csv, GOLD_MONTHLY_CSV};
use tfeco_money::{Price, Rounding};

use crate::{Result, SimError};

/// A USD price with 18 decimals, written in TOML as a decimal string (`"0.01"`), an integer or a float
/// (a float is read through its shortest decimal text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PriceValue(pub Price);

/// A decimal number in TOML: a string, an integer or a float.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum DecimalText {
    Text(String),
    Integer(i64),
    Float(f64),
}

impl DecimalText {
    pub(super) fn text(self) -> String {
        match self {
            DecimalText::Text(s) => s,
            DecimalText::Integer(i) => i.to_string(),
            DecimalText::Float(f) => f.to_string(),
        }
    }
}

impl Serialize for PriceValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for PriceValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = DecimalText::deserialize(deserializer)?.text();
        text.parse::<Price>().map(PriceValue).map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
    }
}

/// The gold price path (USD per troy ounce), one price per simulated month (`kind = ...`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GoldPrice {
    /// The real monthly series (`data/gold-prices`, embedded) from the start's month, then constant at its
    /// last month.
    #[default]
    Series,
    /// One price throughout: `usd_per_oz`.
    Constant {
        /// USD per troy ounce.
        usd_per_oz: PriceValue,
    },
    /// From `usd_per_oz` (default: the series' last month), moved by `bps_per_month` every month.
    Drift {
        /// The first month's price; default the series' last month.
        #[serde(default)]
        usd_per_oz: Option<PriceValue>,
        /// Change per month in basis points (negative: falling), at least -10,000.
        bps_per_month: i32,
    },
    /// History replayed from month `from` (`YYYY-MM`): month 1 plays that month's price, month 2 the next,
    /// then constant after the series' last month.
    Replay {
        /// The first month replayed, `YYYY-MM`.
        from: String,
    },
}

/// The TFT price path (USD), one price per simulated month (`kind = ...`). The oracle clamps it to
/// `params.tft_usd_min..=tft_usd_max` (0.001 to 1 USD by default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TftPrice {
    /// One price throughout.
    Constant {
        /// USD per TFT.
        usd: PriceValue,
    },
    /// A seeded random walk from `usd`: each month moves by `drift_bps + volatility_bps * z` (z of standard
    /// deviation 1, uniform), never below `floor_usd`.
    RandomWalk {
        /// The first month's price.
        usd: PriceValue,
        /// Monthly volatility in basis points (standard deviation of the monthly move).
        volatility_bps: u32,
        /// Monthly drift in basis points (negative: falling).
        #[serde(default)]
        drift_bps: i32,
        /// The lowest price the walk reaches (default 0.001 USD, the oracle's lower clamp).
        #[serde(default = "default_floor")]
        floor_usd: PriceValue,
    },
    /// Prices from a CSV: one row per month (USD in the last column; an optional month column and header),
    /// constant after its last row. Either inline (`data`) or a `path` relative to the scenario file, read
    /// when the scenario is loaded ([`Scenario::from_file`], which keeps the file's text in `data` next to
    /// the `path`), never during a run.
    Csv {
        /// The CSV text.
        #[serde(default)]
        data: Option<String>,
        /// A file relative to the scenario file.
        #[serde(default)]
        path: Option<String>,
    },
}

impl Default for TftPrice {
    fn default() -> Self {
        TftPrice::Constant { usd: PriceValue(Price::from_atto(10_000_000_000_000_000)) }
    }
}

fn default_floor() -> PriceValue {
    PriceValue(Price::from_atto(1_000_000_000_000_000))
}

pub(super) fn describe_gold(gold: &GoldPrice) -> String {
    match gold {
        GoldPrice::Series => "the real monthly series from the start month, then constant".to_owned(),
        GoldPrice::Constant { usd_per_oz } => format!("constant {} USD/oz", usd_per_oz.0),
        GoldPrice::Drift { usd_per_oz, bps_per_month } => match usd_per_oz {
            Some(p) => format!("{} USD/oz, {bps_per_month} bps per month", p.0),
            None => format!("the latest month, {bps_per_month} bps per month"),
        },
        GoldPrice::Replay { from } => format!("history replayed from {from}"),
    }
}

pub(super) fn describe_tft(tft: &TftPrice) -> String {
    match tft {
        TftPrice::Constant { usd } => format!("constant {} USD", usd.0),
        TftPrice::RandomWalk { usd, volatility_bps, drift_bps, floor_usd } => format!(
            "seeded random walk from {} USD, {volatility_bps} bps monthly volatility, {drift_bps} bps drift, \
             floor {} USD",
            usd.0, floor_usd.0
        ),
        TftPrice::Csv { path: Some(path), .. } => format!("from the CSV {path}"),
        TftPrice::Csv { .. } => "from an inline CSV".to_owned(),
    }
}

/// The monthly gold series: `("YYYY-MM", price)` in order. Errors: [`SimError::Data`] when the embedded
/// series does not parse or is empty.
pub fn gold_series() -> Result<Vec<(String, Price)>> {
    let months = parse_gold_csv(GOLD_MONTHLY_CSV).map_err(|e| SimError::Data(format!("gold series: {e}")))?;
    if months.is_empty() {
        return Err(SimError::Data("the gold series is empty".to_owned()));
    }
    Ok(months)
}

/// The calendar month (`YYYY-MM`, UTC) of unix time `t` (Howard Hinnant's civil-from-days).
pub fn year_month(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}")
}

/// `price * (10,000 + bps) / 10,000`, rounded down; `bps` is at least -10,000 (checked by the scenario).
pub fn moved_by_bps(price: Price, bps: i64) -> Price {
    let factor = (10_000 + bps).max(0) as u128;
    price.mul_ratio(factor, 10_000, Rounding::Down).unwrap_or(price)
}

/// The gold price of each simulated month (index 0 = month 1) for a run starting at `start`. Errors:
/// [`SimError::Scenario`] when a replay month is not in the series.
pub fn gold_path(gold: &GoldPrice, start: i64, months: u32) -> Result<Vec<Price>> {
    let series = gold_series()?;
    let latest = series[series.len() - 1].1;
    let from_index = |month: &str| -> Result<usize> {
        series.iter().position(|(m, _)| m == month).ok_or_else(|| {
            let (first, last) = (&series[0].0, &series[series.len() - 1].0);
            SimError::Scenario(format!("gold.from: month {month:?} is not in the series ({first} to {last})"))
        })
    };
    let replay = |first: usize| -> Vec<Price> {
        (0..months as usize).map(|m| series.get(first + m).map_or(latest, |(_, p)| *p)).collect()
    };
    Ok(match gold {
        GoldPrice::Series => {
            let month = year_month(start);
            match series.iter().position(|(m, _)| *m >= month) {
                Some(first) => replay(first),
                None => vec![latest; months as usize],
            }
        }
        GoldPrice::Replay { from } => replay(from_index(from)?),
        GoldPrice::Constant { usd_per_oz } => vec![usd_per_oz.0; months as usize],
        GoldPrice::Drift { usd_per_oz, bps_per_month } => {
            let mut price = usd_per_oz.map_or(latest, |p| p.0);
            let mut path = Vec::with_capacity(months as usize);
            for _ in 0..months {
                path.push(price);
                price = moved_by_bps(price, i64::from(*bps_per_month));
            }
            path
        }
    })
}

/// The TFT price of each simulated month (index 0 = month 1). The random walk draws one step per month from
/// `rng`: `drift_bps + volatility_bps * z`, `z` uniform on `[-1.732, 1.732]` (standard deviation 1) in
/// thousandths, never below the floor. Errors: [`SimError::Scenario`] for a CSV that does not parse or an
/// unresolved CSV path.
pub fn tft_path(tft: &TftPrice, months: u32, rng: &mut StdRng) -> Result<Vec<Price>> {
    Ok(match tft {
        TftPrice::Constant { usd } => vec![usd.0; months as usize],
        TftPrice::RandomWalk { usd, volatility_bps, drift_bps, floor_usd } => {
            let floor = floor_usd.0;
            let mut price = usd.0;
            let mut path = Vec::with_capacity(months as usize);
            for _ in 0..months {
                path.push(price);
                let z_milli = rng.gen_range(-1_732i64..=1_732);
                let step = i64::from(*drift_bps) + i64::from(*volatility_bps) * z_milli / 1_000;
                price = moved_by_bps(price, step.max(-9_999));
                if price < floor {
                    price = floor;
                }
            }
            path
        }
        TftPrice::Csv { data, path } => {
            let Some(text) = data else {
                let path = path.as_deref().unwrap_or("");
                return Err(SimError::Scenario(format!(
                    "tft_price.path {path:?} was not read: load the scenario with Scenario::from_file"
                )));
            };
            let prices = parse_tft_csv(text)?;
            let last = *prices.last().expect("parse_tft_csv returns at least one price");
            (0..months as usize).map(|m| prices.get(m).copied().unwrap_or(last)).collect()
        }
    })
}

/// Parses a TFT price CSV: one row per month in order (month 1 first), the price in USD in the last column
/// (an optional first column, e.g. the month, is ignored); an optional header row. Errors:
/// [`SimError::Scenario`] naming the line, or when there is no price.
pub fn parse_tft_csv(text: &str) -> Result<Vec<Price>> {
    let mut prices = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() > 2 {
            return Err(SimError::Scenario(format!(
                "tft_price CSV line {}: expected 1 or 2 columns, found {}",
                index + 1,
                fields.len()
            )));
        }
        let last = fields[fields.len() - 1];
        match last.parse::<Price>() {
            Ok(price) if !price.is_zero() => prices.push(price),
            Ok(_) => {
                return Err(SimError::Scenario(format!("tft_price CSV line {}: a zero price", index + 1)))
            }
            Err(_) if prices.is_empty() && !last.starts_with(|c: char| c.is_ascii_digit()) => {} // header
            Err(e) => {
                return Err(SimError::Scenario(format!("tft_price CSV line {}: {last:?}: {e}", index + 1)))
            }
        }
    }
    if prices.is_empty() {
        return Err(SimError::Scenario("tft_price CSV: no price".to_owned()));
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn calendar_months_of_unix_times() {
        assert_eq!(year_month(1_761_955_200), "2025-11");
        assert_eq!(year_month(0), "1970-01");
        assert_eq!(year_month(951_782_400), "2000-02-29".get(..7).unwrap());
        assert_eq!(year_month(1_704_067_199), "2023-12");
    }

    #[test]
    fn gold_paths_follow_the_series_replay_constant_and_drift() {
        let series = gold_series().unwrap();
        let at = |m: &str| series.iter().find(|(k, _)| k == m).unwrap().1;
        let replay = gold_path(&GoldPrice::Replay { from: "2008-01".into() }, 0, 3).unwrap();
        assert_eq!(replay, vec![at("2008-01"), at("2008-02"), at("2008-03")]);
        let latest = series.last().unwrap().1;
        let far = gold_path(&GoldPrice::Series, 4_102_444_800, 2).unwrap();
        assert_eq!(far, vec![latest, latest], "after the series: constant at its last month");
        let drift = GoldPrice::Drift { usd_per_oz: Some(PriceValue(p("1000"))), bps_per_month: 100 };
        assert_eq!(gold_path(&drift, 0, 3).unwrap(), vec![p("1000"), p("1010"), p("1020.1")]);
        let missing = gold_path(&GoldPrice::Replay { from: "1700-01".into() }, 0, 1).unwrap_err();
        assert!(missing.to_string().contains("1700-01"), "{missing}");
    }

    #[test]
    fn the_random_walk_is_seeded_and_floored() {
        let walk = TftPrice::RandomWalk {
            usd: PriceValue(p("0.01")),
            volatility_bps: 3_000,
            drift_bps: -500,
            floor_usd: PriceValue(p("0.005")),
        };
        let path = |seed| tft_path(&walk, 40, &mut StdRng::seed_from_u64(seed)).unwrap();
        assert_eq!(path(1), path(1));
        assert_ne!(path(1), path(2));
        assert_eq!(path(1)[0], p("0.01"));
        assert!(path(3).iter().all(|price| *price >= p("0.005")));
    }

    #[test]
    fn csv_prices_with_or_without_month_and_header() {
        let csv = "month,usd\n1,0.01\n2, 0.02\n";
        assert_eq!(parse_tft_csv(csv).unwrap(), vec![p("0.01"), p("0.02")]);
        assert_eq!(parse_tft_csv("0.5\n0.25").unwrap(), vec![p("0.5"), p("0.25")]);
        assert!(parse_tft_csv("0.01\n1,abc").unwrap_err().to_string().contains("line 2"));
        assert!(parse_tft_csv("usd\n").is_err());
        let from_csv = TftPrice::Csv { data: Some("0.01\n0.02".into()), path: None };
        let path = tft_path(&from_csv, 3, &mut StdRng::seed_from_u64(0)).unwrap();
        assert_eq!(path, vec![p("0.01"), p("0.02"), p("0.02")]);
    }
}
