//! The CSV outputs: one file per run (a row per month) and one band file per arm, every value an exact decimal
//! string (see [`super::decimal`]), and [`parse_decimal`] to read them back exactly.

use super::super::metrics::Series;
use super::super::study::Bands;
use super::{decimal, output_error};
use crate::Result;

/// A run's series as CSV: the header `month,at,<column keys>`, then one row per month (`at` in unix seconds,
/// each value `value / 10^decimals` of its column). Errors: [`crate::SimError::Output`] if a row does not have
/// one value per column.
pub fn run_csv(series: &Series) -> Result<Vec<u8>> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let header = ["month", "at"].into_iter().chain(series.columns.iter().map(|c| c.key.as_str()));
    writer.write_record(header).map_err(|e| output_error("run CSV", e))?;
    for month in &series.months {
        check_width(month.values.len(), series.columns.len(), month.month)?;
        let values = month.values.iter().zip(&series.columns).map(|(v, c)| decimal(*v, c.decimals));
        let row = [month.month.to_string(), month.at.to_string()].into_iter().chain(values);
        writer.write_record(row).map_err(|e| output_error("run CSV", e))?;
    }
    writer.into_inner().map_err(|e| output_error("run CSV", e))
}

/// An arm's bands as CSV: the header `month,<key>.p5,<key>.p50,<key>.p95,...` (three columns per series column,
/// in column order), then one row per month. Errors: [`crate::SimError::Output`] if the bands are ragged.
pub fn bands_csv(bands: &Bands) -> Result<Vec<u8>> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["month".to_owned()];
    for column in &bands.columns {
        header.extend(["p5", "p50", "p95"].map(|p| format!("{}.{p}", column.key)));
    }
    writer.write_record(&header).map_err(|e| output_error("bands CSV", e))?;
    for (i, month) in bands.months.iter().enumerate() {
        let (p5, p50, p95) = band_rows(bands, i)?;
        let mut row = vec![month.to_string()];
        for (c, column) in bands.columns.iter().enumerate() {
            row.extend([p5[c], p50[c], p95[c]].map(|v| decimal(v, column.decimals)));
        }
        writer.write_record(&row).map_err(|e| output_error("bands CSV", e))?;
    }
    writer.into_inner().map_err(|e| output_error("bands CSV", e))
}

/// The p5, p50 and p95 rows of month index `i`, each checked to have one value per column.
pub(crate) fn band_rows(bands: &Bands, i: usize) -> Result<(&[i128], &[i128], &[i128])> {
    let month = bands.months.get(i).copied().unwrap_or_default();
    let row = |rows: &'_ [Vec<i128>]| -> Result<()> {
        check_width(rows.get(i).map_or(0, Vec::len), bands.columns.len(), month)
    };
    row(&bands.p5)?;
    row(&bands.p50)?;
    row(&bands.p95)?;
    Ok((&bands.p5[i], &bands.p50[i], &bands.p95[i]))
}

/// Fails unless a month's row has one value per column.
fn check_width(values: usize, columns: usize, month: u32) -> Result<()> {
    if values == columns {
        Ok(())
    } else {
        let message = format!("month {month} has {values} values for {columns} columns");
        Err(output_error("CSV", message))
    }
}

/// Parses an exact decimal string written by [`super::decimal`] back into base units of `decimals` decimals:
/// an optional `-`, digits, and an optional `.` with at most `decimals` digits. `None` for anything else or a
/// value outside `i128`. Example: `parse_decimal("-1.5", 7)` is `Some(-15_000_000)`.
pub fn parse_decimal(text: &str, decimals: u32) -> Option<i128> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || fraction.len() > decimals as usize
    {
        return None;
    }
    let padded = format!("{whole}{fraction:0<width$}", width = decimals as usize);
    let magnitude: u128 = padded.parse().ok()?;
    if negative {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).ok()
    }
}
