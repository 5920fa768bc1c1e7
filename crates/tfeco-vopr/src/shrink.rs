//! Shrinking a failing run: the fewest commands that still fail (the run of a seed with fewer commands is
//! a prefix of the longer one), then as few fault kinds as possible (each rate set to zero in turn, kept at
//! zero while the run still fails). Deterministic: the same failing seed always shrinks to the same run.

use crate::disk::FaultRates;
use crate::runner::{drawn_rates, run, Config, Report};

/// The shortest failing configuration found for a failing `config`, with its report; `None` when the
/// run does not fail.
pub fn shrink(config: &Config) -> Option<(Config, Report)> {
    let fails = |c: &Config| {
        let report = run(c);
        (!report.violations.is_empty()).then_some(report)
    };
    let mut best = fails(config)?;
    let mut current = config.clone();
    current.rates = Some(current.rates.unwrap_or(drawn_rates(config)));
    let (mut low, mut high) = (0u64, current.commands);
    while low + 1 < high {
        let mid = low + (high - low) / 2;
        match fails(&Config { commands: mid, ..current.clone() }) {
            Some(report) => {
                high = mid;
                best = report;
            }
            None => low = mid,
        }
    }
    current.commands = high;
    for zero in ZEROES {
        let mut rates = current.rates.expect("set above");
        zero(&mut rates);
        let candidate = Config { rates: Some(rates), ..current.clone() };
        if let Some(report) = fails(&candidate) {
            current = candidate;
            best = report;
        }
    }
    Some((current, best))
}

type Zero = fn(&mut FaultRates);

const ZEROES: [Zero; 8] = [
    |r| r.bit_flip = 0,
    |r| r.write_fail = 0,
    |r| r.sync_fail = 0,
    |r| r.crash_in_write = 0,
    |r| r.crash_before_sync = 0,
    |r| r.crash_in_anchor = 0,
    |r| r.torn = 0,
    |r| r.power_loss = 0,
];
