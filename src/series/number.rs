//! A number as the series notation writes it (promtool's `input_series`, the `.test` scripts' `load`
//! blocks, histogram descriptions): `1.5`, `1_000`, `Inf`, `-Inf`, `NaN`, `0x1F`, or a duration read as
//! seconds (`5m` is 300). Below both the notation and the histogram parser, which read numbers alike.

use crate::text::duration::parse_duration;

/// Parses one number as the notation allows: float, `Inf`/`-Inf`/`NaN`, hex, or a duration in seconds.
pub fn parse_number(tok: &str) -> Option<f64> {
    let (sign, body) = match tok.as_bytes().first() {
        Some(b'-') => (-1.0, &tok[1..]),
        Some(b'+') => (1.0, &tok[1..]),
        _ => (1.0, tok),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(|v| sign * v as f64);
    }
    if body.bytes().all(|b| {
        b.is_ascii_digit()
            || b == b'.'
            || b == b'e'
            || b == b'E'
            || b == b'+'
            || b == b'-'
            || b == b'_'
    }) && body.as_bytes()[0] != b'e'
    {
        let clean: String = body.chars().filter(|&c| c != '_').collect();
        if let Ok(v) = clean.parse::<f64>() {
            return Some(sign * v);
        }
    }
    if body.as_bytes()[0].is_ascii_digit() {
        if let Ok(ms) = parse_duration(body) {
            return Some(sign * ms as f64 / 1000.0);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn forms_of_a_number() {
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number("1_000"), Some(1000.0));
        assert_eq!(parse_number("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_number("0x1F"), Some(31.0));
        assert_eq!(parse_number("5m"), Some(300.0));
        assert_eq!(parse_number("-"), None);
        assert_eq!(parse_number("e5"), None);
        assert_eq!(parse_number("abc"), None);
    }
}
