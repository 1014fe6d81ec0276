//! Time arguments of the commands that talk to a live server (`record`, `dry-run --prometheus`, `tune`):
//! absolute times (RFC3339, Unix seconds) and times relative to now (`now`, `-7d`, `now-2h`, `now+30m`).
//! Durations are Prometheus's (`1h30m`, `7d`, `250ms`), read by `text::duration`.

use crate::text::duration::parse_duration;

/// Reads a time and returns Unix milliseconds. `now_ms` is the caller's "now", so one command resolves all
/// its relative times against the same instant and tests can pin it.
///
/// Accepted: RFC3339 (`2024-05-01T12:00:00Z`, offsets and fractions allowed), Unix seconds (`1714564800`,
/// `1714564800.25`), `now`, `now-2h`, `now+15m`, and a bare negative duration (`-7d`, `-1h30m`) meaning that
/// long before now.
pub fn parse_time(s: &str, now_ms: i64) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty time".into());
    }
    if s == "now" {
        return Ok(now_ms);
    }
    if let Some(rest) = s.strip_prefix("now") {
        let (sign, dur) = if let Some(d) = rest.strip_prefix('-') {
            (-1, d)
        } else if let Some(d) = rest.strip_prefix('+') {
            (1, d)
        } else {
            return Err(format!(
                "invalid time {s:?}: after \"now\" expected -DURATION or +DURATION, like now-2h"
            ));
        };
        return offset(now_ms, sign, dur, s);
    }
    if let Some(dur) = s.strip_prefix('-') {
        // "-1.5" is a (negative) Unix time, "-7d" a duration before now: only a duration has a unit letter.
        if dur.bytes().any(|b| b.is_ascii_alphabetic()) {
            return offset(now_ms, -1, dur, s);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Some(ms) = unix_seconds(s) {
        return Ok(ms);
    }
    Err(format!(
        "invalid time {s:?}: expected RFC3339 (2024-05-01T12:00:00Z), Unix seconds, now, now-2h or -7d"
    ))
}

fn offset(now_ms: i64, sign: i64, dur: &str, whole: &str) -> Result<i64, String> {
    let ms = parse_duration(dur).map_err(|e| format!("invalid time {whole:?}: {e}"))?;
    now_ms
        .checked_add(sign * ms)
        .ok_or_else(|| format!("invalid time {whole:?}: out of range"))
}

/// Unix seconds with an optional fraction, as Prometheus's API reads a `time` parameter. Exponents, `inf`
/// and `nan` are refused (Rust's float parser would take them).
fn unix_seconds(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !ok(int) || !ok(frac) {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    let ms = (f * 1000.0).round();
    // i64 ms covers ±292 million years; anything beyond is a typo.
    (ms.abs() < 9.0e15).then_some(ms as i64)
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `start_timestamp`: Unix seconds (integer or fractional) or RFC3339, to Unix milliseconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(secs) = s.parse::<f64>() {
        return secs.is_finite().then(|| (secs * 1000.0).round() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn absolute_forms() {
        assert_eq!(parse_time("2023-11-14T22:13:20Z", NOW), Ok(NOW));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00", NOW), Ok(NOW));
        assert_eq!(parse_time("2023-11-14T22:13:20.250Z", NOW), Ok(NOW + 250));
        assert_eq!(parse_time("1700000000", 0), Ok(NOW));
        assert_eq!(parse_time("1700000000.5", 0), Ok(NOW + 500));
        assert_eq!(parse_time(".5", 0), Ok(500));
        assert_eq!(parse_time("0", 7), Ok(0));
        assert_eq!(parse_time("-1.5", 0), Ok(-1500));
    }

    #[test]
    fn relative_forms() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time(" now ", NOW), Ok(NOW));
        assert_eq!(parse_time("now-2h", NOW), Ok(NOW - 7_200_000));
        assert_eq!(parse_time("now+15m", NOW), Ok(NOW + 900_000));
        assert_eq!(parse_time("-7d", NOW), Ok(NOW - 7 * 86_400_000));
        assert_eq!(parse_time("-1h30m", NOW), Ok(NOW - 5_400_000));
        assert_eq!(parse_time("-250ms", NOW), Ok(NOW - 250));
    }

    #[test]
    fn rejects_with_reason() {
        for bad in [
            "",
            "yesterday",
            "now-",
            "now2h",
            "-1x",
            "1e9",
            "inf",
            "NaN",
            "5m",
            "1.2.3",
        ] {
            let e = parse_time(bad, NOW).unwrap_err();
            assert!(e.contains("time"), "{bad:?}: {e}");
        }
        // Prometheus durations: largest unit first, each once.
        assert!(parse_time("-30m1h", NOW)
            .unwrap_err()
            .contains("not a valid duration"));
    }
}
