//! The node catalogue (Q4 2025 models with resources, slice counts and price bands) and the gold price
//! series, parsed from their CSV text. Parsing is pure: the shell reads the files and passes the text in.

use serde::{Deserialize, Serialize};
use tfeco_money::{Amount, Cc, Price};

/// The Q4 2025 node catalogue CSV (`data/node-catalogue/tfgrid-nodes-q4-2025.csv`), compiled in.
pub const CATALOGUE_Q4_2025_CSV: &str = include_str!("../../../data/node-catalogue/tfgrid-nodes-q4-2025.csv");
/// The monthly gold price series CSV (`data/gold-prices/monthly.csv`, USD per troy ounce, ODC-PDDL-1.0),
/// compiled in.
pub const GOLD_MONTHLY_CSV: &str = include_str!("../../../data/gold-prices/monthly.csv");

/// The Q4 2025 catalogue, parsed (a test proves the compiled-in file parses).
pub fn catalogue_q4_2025() -> Vec<NodeModel> {
    parse_catalogue_csv(CATALOGUE_Q4_2025_CSV).expect("the compiled-in catalogue parses (tested)")
}

/// Resources of a whole node (or of one slice, when divided).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resources {
    /// CPU cores.
    pub cpu_cores: u32,
    /// CPU benchmark score (Passmark).
    pub passmark: u32,
    /// Memory in GB.
    pub mem_gb: u32,
    /// SSD in GB.
    pub ssd_gb: u32,
    /// Accelerator memory in GB (0 when none).
    pub ai_mem_gb: u32,
    /// AI tokens per second (0 when none).
    pub ai_tps: u32,
}

/// One model of the catalogue (`data/node-catalogue/tfgrid-nodes-q4-2025.csv`, spec
/// `marketplace_and_nodes.md` §2-4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeModel {
    /// Model name, e.g. `"Mini 3"`.
    pub name: String,
    /// Category: `example`, `new` or `certified`.
    pub category: String,
    /// Certified hardware (BIOS-locked, certified Zero-OS).
    pub certified: bool,
    /// Estimated purchase cost in whole USD.
    pub capex_usd: u32,
    /// Whole-node resources.
    pub resources: Resources,
    /// Upper bound on slices.
    pub max_slices: u32,
    /// Typical active slices ("Nr slices"): per-slice resources = node / typical_slices.
    pub typical_slices: u32,
    /// Band minimum, CC per slice-month.
    pub slice_price_min_month: Amount<Cc>,
    /// Band maximum, CC per slice-month.
    pub slice_price_max_month: Amount<Cc>,
}

/// Why a CSV could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueError {
    /// 1-based line number (0 when the file itself is the problem).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CatalogueError {}

/// The 1-based file line of the record at 0-based `index` (line 1 is the header).
fn line_number(index: usize) -> usize {
    index.checked_add(2).expect("a record index is bounded by the text length, far below usize::MAX")
}

/// The 1-based column number of the 0-based column `index` (below 14).
fn column_number(index: usize) -> usize {
    index.checked_add(1).expect("a column index is below the 14 columns")
}

/// Parses the node catalogue CSV (header `model,category,certified,capex_usd,cpu_cores,passmark,mem_gb,
/// ssd_gb,ai_mem_gb,ai_tps,max_slices,typical_slices,slice_price_min_month,slice_price_max_month`).
pub fn parse_catalogue_csv(text: &str) -> Result<Vec<NodeModel>, CatalogueError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut models = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = line_number(index);
        let err = |message: String| CatalogueError { line, message };
        let record = record.map_err(|e| err(e.to_string()))?;
        if record.len() != 14 {
            return Err(err(format!("expected 14 columns, found {}", record.len())));
        }
        let int = |i: usize| -> Result<u32, CatalogueError> {
            record[i].trim().parse::<u32>().map_err(|e| err(format!("column {}: {e}", column_number(i))))
        };
        let cc = |i: usize| -> Result<Amount<Cc>, CatalogueError> {
            record[i]
                .trim()
                .parse::<Amount<Cc>>()
                .map_err(|e| err(format!("column {}: {e}", column_number(i))))
        };
        let certified = match record[2].trim() {
            "true" => true,
            "false" => false,
            other => return Err(err(format!("certified must be true or false, found {other:?}"))),
        };
        let model = NodeModel {
            name: record[0].trim().to_owned(),
            category: record[1].trim().to_owned(),
            certified,
            capex_usd: int(3)?,
            resources: Resources {
                cpu_cores: int(4)?,
                passmark: int(5)?,
                mem_gb: int(6)?,
                ssd_gb: int(7)?,
                ai_mem_gb: int(8)?,
                ai_tps: int(9)?,
            },
            max_slices: int(10)?,
            typical_slices: int(11)?,
            slice_price_min_month: cc(12)?,
            slice_price_max_month: cc(13)?,
        };
        if model.typical_slices == 0 || model.typical_slices > model.max_slices {
            return Err(err("typical_slices must be between 1 and max_slices".to_owned()));
        }
        if !model.slice_price_min_month.is_positive()
            || model.slice_price_min_month > model.slice_price_max_month
        {
            return Err(err("the price band needs 0 < min <= max".to_owned()));
        }
        models.push(model);
    }
    if models.is_empty() {
        return Err(CatalogueError { line: 0, message: "the catalogue has no models".to_owned() });
    }
    Ok(models)
}

/// One month of the gold series: `("2025-10", price in USD per troy ounce)`.
pub type GoldMonth = (String, Price);

/// Parses `data/gold-prices/monthly.csv` (`Date,Price`, `YYYY-MM`, USD per troy ounce), in file order.
pub fn parse_gold_csv(text: &str) -> Result<Vec<GoldMonth>, CatalogueError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut months = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = line_number(index);
        let err = |message: String| CatalogueError { line, message };
        let record = record.map_err(|e| err(e.to_string()))?;
        if record.len() != 2 {
            return Err(err(format!("expected 2 columns, found {}", record.len())));
        }
        let price = record[1].trim().parse::<Price>().map_err(|e| err(e.to_string()))?;
        months.push((record[0].trim().to_owned(), price));
    }
    if months.is_empty() {
        return Err(CatalogueError { line: 0, message: "the gold series is empty".to_owned() });
    }
    Ok(months)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_data_parses() {
        let catalogue = catalogue_q4_2025();
        assert!(catalogue.iter().any(|m| m.name == "Mini 1"));
        assert!(!parse_gold_csv(GOLD_MONTHLY_CSV).expect("the gold series parses").is_empty());
    }
}
