//! Times for people: unix seconds as ISO-8601 UTC (`2026-12-07T10:00:00Z`), with the distance from the
//! node's time when it is known (`2026-12-07T10:00:00Z (in 3 h)`), and durations (`1h`, `90s`, `2d 3h`) on
//! the command line (humantime syntax). `--json` keeps unix seconds.

use std::time::{Duration, UNIX_EPOCH};

/// Unix seconds as ISO-8601 UTC, e.g. `2025-11-01T00:00:00Z`; a time outside the calendar's range stays
/// unix seconds (`@-5`).
pub(crate) fn iso(at: i64) -> String {
    let Ok(secs) = u64::try_from(at) else { return format!("@{at}") };
    match UNIX_EPOCH.checked_add(Duration::from_secs(secs)) {
        Some(time) if secs < 253_402_300_800 => humantime::format_rfc3339_seconds(time).to_string(),
        _ => format!("@{at}"),
    }
}

/// `iso(at)` with its distance from `now`: `2025-11-01T03:00:00Z (in 3 h)`, `... (2 min ago)`, `... (now)`.
pub(crate) fn iso_from(at: i64, now: i64) -> String {
    format!("{} ({})", iso(at), relative(at.saturating_sub(now)))
}

/// A signed distance in seconds for people: `in 3 h`, `5 min ago`, `now` (rounded down to the largest unit).
pub(crate) fn relative(delta: i64) -> String {
    if delta == 0 {
        return "now".to_owned();
    }
    let span = span(delta.unsigned_abs());
    if delta > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// A span in seconds in its largest whole unit: `45 s`, `3 min`, `3 h`, `2 d`.
pub(crate) fn span(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

/// Parses a duration on the command line (`1h`, `90s`, `2days 3h`, humantime syntax) as whole seconds,
/// at least one.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    let duration = humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration {s:?}: {e} (e.g. 90s, 10min, 1h, 7days)"))?;
    let secs = i64::try_from(duration.as_secs()).map_err(|_| format!("duration {s:?} is too long"))?;
    if secs == 0 {
        return Err(format!("duration {s:?} is shorter than one second"));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_iso_with_their_distance() {
        assert_eq!(iso(1_761_955_200), "2025-11-01T00:00:00Z");
        assert_eq!(iso(-5), "@-5");
        assert_eq!(iso_from(1_761_955_200 + 3 * 3_600, 1_761_955_200), "2025-11-01T03:00:00Z (in 3 h)");
        assert_eq!(relative(-150), "2 min ago");
        assert_eq!(relative(0), "now");
        assert_eq!(relative(2 * 86_400 + 5), "in 2 d");
        assert_eq!(parse_duration("1h"), Ok(3_600));
        assert_eq!(parse_duration("1day 2h"), Ok(93_600));
        assert!(parse_duration("soon").unwrap_err().contains("e.g. 90s"));
        assert!(parse_duration("0s").is_err());
    }
}
