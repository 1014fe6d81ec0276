//! Prometheus durations (`1h30m`, `5m`, `0`, `1d`, `250ms`), parsed and printed as Prometheus's
//! `model.ParseDuration` / `model.Duration.String` do. Units must come from largest to smallest, each at
//! most once; a bare `0` is allowed; the result is in milliseconds.

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses a Prometheus duration into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty duration string".into());
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    let mut last_unit = 0usize; // index into UNITS of the next allowed unit
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(format!("not a valid duration string: {s:?}"));
        }
        let num: i64 = s[start..i]
            .parse()
            .map_err(|_| format!("duration out of range: {s:?}"))?;
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let idx = UNITS
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(|| format!("not a valid duration string: {s:?}"))?;
        if idx < last_unit {
            return Err(format!("not a valid duration string: {s:?}"));
        }
        last_unit = idx + 1;
        let part = num
            .checked_mul(UNITS[idx].1)
            .ok_or_else(|| format!("duration out of range: {s:?}"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("duration out of range: {s:?}"))?;
    }
    Ok(total)
}

/// Prints milliseconds as Prometheus prints a duration (`1h30m`, `0s`, `1d`, `1w`, `250ms`): years and weeks
/// only when they divide it exactly (`90d`, not `12w6d`), as `model.Duration.String` does.
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    // unsigned_abs: negating i64::MIN would overflow.
    let mut rest = ms.unsigned_abs();
    for (unit, size) in UNITS {
        let size = size.unsigned_abs();
        if matches!(unit, "y" | "w") && !rest.is_multiple_of(size) {
            continue;
        }
        if rest >= size {
            out.push_str(&format!("{}{}", rest / size, unit));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_years_and_weeks_only_when_exact() {
        assert_eq!(format_duration(90 * 86_400_000), "90d");
        assert_eq!(format_duration(14 * 86_400_000), "2w");
        assert_eq!(format_duration(365 * 86_400_000), "1y");
        assert_eq!(format_duration(366 * 86_400_000), "366d");
        assert_eq!(format_duration(7 * 86_400_000 + 3_600_000), "7d1h");
        assert_eq!(format_duration(5_400_000), "1h30m");
    }

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("1m30s500ms"), Ok(90_500));
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        for bad in ["", "5", "1.5m", "30m1h", "1h1h", "5 m", "-5m", "5min", "m"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
        assert!(parse_duration("99999999999999999y").is_err());
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(300_000), "5m");
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(86_400_000), "1d");
        assert_eq!(format_duration(7 * 86_400_000), "1w");
        assert_eq!(format_duration(90_500), "1m30s500ms");
    }
}
