//! Percentile bands over the runs of an arm: for every month and every column, the p5, p50 and p95 of the
//! runs' exact integer values.
//!
//! **Definition** (nearest rank, no interpolation): sort the `n` values of one cell ascending; the `p`-th
//! percentile is the value of rank `max(1, ceil(p * n / 100))` (1-based). So every band value is a value some
//! run produced (no float enters, a median of two values is the lower one), and with one run all three bands
//! equal that run. For 100 runs: p5 is the 5th smallest value, p50 the 50th, p95 the 95th.

use super::metrics::Series;
use super::runner::RunOutput;
use super::study::Bands;
pub use crate::error::BandsError;
use crate::Result;

/// The nearest-rank `percent`-th percentile of `sorted` (ascending, non-empty): the value of rank
/// `max(1, ceil(percent * n / 100))`.
pub fn nearest_rank(sorted: &[i128], percent: u32) -> i128 {
    let n = sorted.len();
    let rank = (percent as usize * n).div_ceil(100).clamp(1, n);
    sorted[rank - 1]
}

impl Bands {
    /// The p5 / p50 / p95 bands of `runs` (see the module doc for the percentile definition). Errors
    /// ([`crate::SimError::Bands`]): no runs; runs whose columns or months differ from the first run's; a month
    /// row whose width is not the number of columns.
    pub fn over(runs: &[RunOutput]) -> Result<Bands> {
        let first = runs.first().ok_or(BandsError::NoRuns)?;
        let month_numbers = |series: &Series| series.months.iter().map(|m| m.month).collect::<Vec<_>>();
        let months = month_numbers(&first.series);
        let columns = first.series.columns.clone();
        for (run, output) in runs.iter().enumerate() {
            check_run(run, output, &columns, &months, month_numbers(&output.series))?;
        }
        let mut bands = Bands { columns, months, ..Bands::default() };
        let mut cell = Vec::with_capacity(runs.len());
        for month in 0..bands.months.len() {
            let (mut p5, mut p50, mut p95) = (Vec::new(), Vec::new(), Vec::new());
            for column in 0..bands.columns.len() {
                cell.clear();
                cell.extend(runs.iter().map(|r| r.series.months[month].values[column]));
                cell.sort_unstable();
                p5.push(nearest_rank(&cell, 5));
                p50.push(nearest_rank(&cell, 50));
                p95.push(nearest_rank(&cell, 95));
            }
            bands.p5.push(p5);
            bands.p50.push(p50);
            bands.p95.push(p95);
        }
        Ok(bands)
    }
}

/// Checks that run `run` has the first run's columns and months and full rows.
fn check_run(
    run: usize,
    output: &RunOutput,
    columns: &[super::metrics::Column],
    expected: &[u32],
    months: Vec<u32>,
) -> Result<(), BandsError> {
    let seed = output.seed;
    let theirs = &output.series.columns;
    if theirs.as_slice() != columns {
        let detail = match columns.iter().zip(theirs).position(|(a, b)| a != b) {
            Some(i) => format!("column {i} is {:?}, expected {:?}", theirs[i].key, columns[i].key),
            None => format!("{} columns, expected {}", theirs.len(), columns.len()),
        };
        return Err(BandsError::ColumnsDiffer { run, seed, detail });
    }
    if months != expected {
        return Err(BandsError::MonthsDiffer { run, seed, months, expected: expected.to_vec() });
    }
    if let Some(row) = output.series.months.iter().find(|m| m.values.len() != columns.len()) {
        let (month, values) = (row.month, row.values.len());
        return Err(BandsError::RowWidth { run, seed, month, values, columns: columns.len() });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::economy::metrics::{Chart, Column, MonthValues, Unit};
    use crate::SimError;

    fn column(key: &str) -> Column {
        Column { key: key.into(), label: key.into(), unit: Unit::Count, decimals: 0, chart: Chart::None }
    }

    /// A run with columns `a`, `b` and the rows `rows[month][column]`.
    fn run(seed: u64, rows: &[Vec<i128>]) -> RunOutput {
        let months = rows
            .iter()
            .enumerate()
            .map(|(i, values)| MonthValues { month: i as u32 + 1, at: i as i64, values: values.clone() })
            .collect();
        let series = Series { columns: vec![column("a"), column("b")], months };
        run_output(seed, series, String::new(), 0)
    }

    /// A run output built through serde (the series set after), so fields the runner adds with a default
    /// do not break the fixture.
    pub(crate) fn run_output(seed: u64, series: Series, state_hash: String, commands: u64) -> RunOutput {
        let value = serde_json::json!({
            "seed": seed,
            "series": Series::default(),
            "state_hash": state_hash,
            "commands": commands,
        });
        let mut output: RunOutput = serde_json::from_value(value).expect("a run output");
        output.series = series;
        output
    }

    #[test]
    fn nearest_rank_follows_its_definition() {
        let hundred: Vec<i128> = (1..=100).collect();
        assert_eq!([5, 50, 95].map(|p| nearest_rank(&hundred, p)), [5, 50, 95]);
        assert_eq!([5, 50, 95].map(|p| nearest_rank(&[7], p)), [7, 7, 7]);
        assert_eq!([5, 50, 95].map(|p| nearest_rank(&[1, 2], p)), [1, 1, 2]);
        assert_eq!([5, 50, 95].map(|p| nearest_rank(&[1, 2, 3], p)), [1, 2, 3]);
        let twenty: Vec<i128> = (1..=20).collect();
        assert_eq!([5, 50, 95].map(|p| nearest_rank(&twenty, p)), [1, 10, 19]);
    }

    #[test]
    fn bands_of_known_runs() {
        let runs: Vec<RunOutput> =
            (0..3).map(|s| run(s, &[vec![s as i128, -(s as i128)], vec![10 * s as i128, 5]])).collect();
        let bands = Bands::over(&runs).unwrap();
        assert_eq!(bands.months, [1, 2]);
        assert_eq!(bands.p5, [vec![0, -2], vec![0, 5]]);
        assert_eq!(bands.p50, [vec![1, -1], vec![10, 5]]);
        assert_eq!(bands.p95, [vec![2, 0], vec![20, 5]]);
    }

    #[test]
    fn runs_that_do_not_match_are_refused() {
        let bands_error = |runs: &[RunOutput]| match Bands::over(runs) {
            Err(SimError::Bands(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(bands_error(&[]), BandsError::NoRuns);
        let good = run(1, &[vec![1, 2]]);
        let mut renamed = run(2, &[vec![1, 2]]);
        renamed.series.columns[1] = column("c");
        assert!(matches!(
            bands_error(&[good.clone(), renamed]),
            BandsError::ColumnsDiffer { run: 1, seed: 2, .. }
        ));
        let longer = run(3, &[vec![1, 2], vec![3, 4]]);
        assert!(matches!(bands_error(&[good.clone(), longer]), BandsError::MonthsDiffer { run: 1, .. }));
        let narrow = run(4, &[vec![1]]);
        let error = bands_error(&[good, narrow]);
        assert_eq!(error, BandsError::RowWidth { run: 1, seed: 4, month: 1, values: 1, columns: 2 });
        assert!(SimError::from(error).to_string().contains("month 1: 1 values for 2 columns"));
    }

    proptest! {
        #[test]
        fn bands_are_ordered_and_values_of_some_run(
            cells in prop::collection::vec(prop::collection::vec(any::<i128>(), 6), 1..40),
        ) {
            // `cells[run]` holds 3 months x 2 columns.
            let runs: Vec<RunOutput> = cells
                .iter()
                .enumerate()
                .map(|(s, v)| run(s as u64, &[v[0..2].to_vec(), v[2..4].to_vec(), v[4..6].to_vec()]))
                .collect();
            let bands = Bands::over(&runs).unwrap();
            for month in 0..3 {
                for column in 0..2 {
                    let (p5, p50, p95) =
                        (bands.p5[month][column], bands.p50[month][column], bands.p95[month][column]);
                    prop_assert!(p5 <= p50 && p50 <= p95);
                    for p in [p5, p50, p95] {
                        prop_assert!(runs.iter().any(|r| r.series.months[month].values[column] == p));
                    }
                }
            }
        }
    }
}
