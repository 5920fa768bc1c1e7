//! The simulator's outputs: what `tfeco sim --out DIR` writes for a [`Study`].
//!
//! Layout of `DIR` (every path relative, `/`-separated, listed in [`Written::files`] in write order):
//!
//! - `runs/<arm>/run-<seed>.csv`: one row per simulated month of one run (`month,at,<column keys>`), values as
//!   exact decimal strings ([`decimal`]);
//! - `bands-<arm>.csv`: the p5 / p50 / p95 of every column at every month over the arm's runs;
//! - `summary.json`: the scenario, the arms, final-month bands, per-run state hashes and the findings
//!   ([`summary::Summary`]; the same value `tfeco sim --json` prints);
//! - `charts/<chart>.png` and `charts/<chart>.svg`: one chart per [`Chart`](super::Chart) group that has
//!   columns (p50 line and p5–p95 band per column, one colour per arm in a sweep);
//! - `report.html`: one self-contained page with the scenario, its assumptions, the findings, the charts and
//!   the final-month table.
//!
//! `<arm>` is the arm label's slug ([`arm_slugs`]). Everything written is a function of the [`Study`] alone (no
//! timestamps, no host names, stable order), so the same study gives byte-identical files. Values are exact
//! integers until a chart is drawn: floats exist only in [`charts`]' drawing code.

mod charts;
pub mod csv;
mod html;
pub mod summary;

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::study::Study;
use crate::{Result, SimError};

pub use self::summary::{summary, Summary};

/// The files [`write_study`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// Paths relative to the output directory, `/`-separated, in the order they were written.
    pub files: Vec<String>,
}

/// Writes every output of `study` under `dir` (created if missing; files already there are overwritten).
/// `progress` receives one line per step (for a progress bar or a log). Errors: [`SimError::Output`] naming the
/// file that could not be written or the chart that could not be drawn.
pub fn write_study(study: &Study, dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<Written> {
    let mut out = Out { dir, written: Written::default() };
    let slugs = arm_slugs(study);
    progress("writing the per-run and band CSV files");
    for (arm, slug) in study.arms.iter().zip(&slugs) {
        for run in &arm.runs {
            let bytes = csv::run_csv(&run.series)?;
            out.write(&format!("runs/{slug}/run-{}.csv", run.seed), &bytes)?;
        }
        out.write(&format!("bands-{slug}.csv"), &csv::bands_csv(&arm.bands)?)?;
    }
    progress("writing summary.json");
    let summary = summary(study);
    out.write("summary.json", &summary_json(&summary)?)?;
    let drawn = charts::write_charts(study, &mut out, progress)?;
    progress("writing report.html");
    out.write("report.html", html::report(study, &summary, &drawn).as_bytes())?;
    Ok(out.written)
}

/// `summary` as pretty JSON with a final newline (the bytes of `summary.json`).
pub fn summary_json(summary: &Summary) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(summary).map_err(|e| output_error("summary.json", e))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Where outputs go, and what was written so far.
pub(crate) struct Out<'a> {
    /// The output directory.
    dir: &'a Path,
    /// The files written so far.
    written: Written,
}

impl Out<'_> {
    /// Writes `bytes` to `relative` (a `/`-separated path under the output directory), creating its parent
    /// directories, and records it.
    pub(crate) fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(relative)?;
        fs::write(&path, bytes).map_err(|e| output_error(&path.display().to_string(), e))?;
        self.written.files.push(relative.to_owned());
        Ok(())
    }

    /// The full path of `relative`, its parent directory created. Errors: [`SimError::Output`].
    pub(crate) fn path(&self, relative: &str) -> Result<std::path::PathBuf> {
        let path = relative.split('/').fold(self.dir.to_path_buf(), |p, part| p.join(part));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| output_error(&parent.display().to_string(), e))?;
        }
        Ok(path)
    }

    /// Records a file written directly to [`Out::path`] (the PNG charts, drawn by the bitmap backend).
    pub(crate) fn record(&mut self, relative: &str) {
        self.written.files.push(relative.to_owned());
    }
}

/// A [`SimError::Output`] for `path`.
pub(crate) fn output_error(path: &str, error: impl std::fmt::Display) -> SimError {
    SimError::Output { path: path.to_owned(), message: error.to_string() }
}

/// `value / 10^decimals` as an exact decimal string with exactly `decimals` digits after the point (none and no
/// point when `decimals` is 0), a leading `-` for negative values. Exact for every `i128`, including
/// `i128::MIN`. Example: `decimal(-15, 1)` is `-1.5`, `decimal(5, 3)` is `0.005`.
pub fn decimal(value: i128, decimals: u32) -> String {
    let digits = value.unsigned_abs().to_string();
    let decimals = decimals as usize;
    let sign = if value < 0 { "-" } else { "" };
    if decimals == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    format!("{sign}{whole}.{fraction}")
}

/// `value / 10^decimals` exactly, without trailing zeros after the point (and without the point when nothing is
/// left after it), for sentences and tables: `trimmed(15_000_000, 7)` is `1.5`, `trimmed(-20, 1)` is `-2`.
pub fn trimmed(value: i128, decimals: u32) -> String {
    let full = decimal(value, decimals);
    if decimals == 0 {
        return full;
    }
    full.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The slug of each arm's label, in arm order: lower-case ASCII letters, digits, `.`, `_` and `-` kept, every
/// other run of characters one `-`, no leading or trailing `.`/`-` (so never `..` or a hidden name), `arm` when
/// nothing is left; a slug already taken gets `-2`, `-3`, ... so two arms never share a file.
pub fn arm_slugs(study: &Study) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::with_capacity(study.arms.len());
    for arm in &study.arms {
        let base = slug(&arm.label);
        let mut candidate = base.clone();
        let mut n = 2;
        while slugs.contains(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        slugs.push(candidate);
    }
    slugs
}

/// The slug of one label (see [`arm_slugs`]).
fn slug(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars().flat_map(char::to_lowercase) {
        let kept = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if kept {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c| c == '.' || c == '-');
    if trimmed.is_empty() {
        "arm".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests;
