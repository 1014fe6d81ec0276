//! Go's `time.Time` and `time.Duration` as template values: `String()`, `Format(layout)` and the few methods
//! notification templates call (`.StartsAt.Format "..."`, `.StartsAt.Unix`, `.EndsAt.Sub`...).
//!
//! A time is a struct-like value (see [`super::structs::struct_value`]) holding seconds, nanoseconds, the
//! offset from UTC and the zone abbreviation, so `{{ .StartsAt }}` prints exactly like Go's
//! `2006-01-02 15:04:05.999999999 -0700 MST`.

use super::structs::{struct_type, struct_value};
use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Timelike, Utc};
use gotmpl::Value;
use std::fmt::Write as _;

const SECS: &str = "\u{0}secs";
const NSEC: &str = "\u{0}nsec";
const OFFSET: &str = "\u{0}offset";
const ZONE: &str = "\u{0}zone";
const NANOS: &str = "\u{0}nanos";

/// A `time.Time` in UTC from Unix milliseconds.
pub fn time_from_unix_ms(ms: i64) -> Value {
    time_value(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) * 1_000_000) as u32,
        0,
        "UTC",
    )
}

/// Go's zero `time.Time` (`0001-01-01 00:00:00 +0000 UTC`).
pub fn zero_time() -> Value {
    time_value(-62_135_596_800, 0, 0, "UTC")
}

/// A `time.Time` value: Unix seconds and nanoseconds, with the zone offset (seconds east) and abbreviation.
pub fn time_value(secs: i64, nsec: u32, offset: i32, zone: &str) -> Value {
    struct_value(
        "time.Time",
        vec![
            (SECS, Value::Int(secs)),
            (NSEC, Value::Int(i64::from(nsec))),
            (OFFSET, Value::Int(i64::from(offset))),
            (ZONE, Value::String(zone.into())),
        ],
    )
}

/// A `time.Duration` value.
pub fn duration_value(nanos: i64) -> Value {
    struct_value("time.Duration", vec![(NANOS, Value::Int(nanos))])
}

fn get_int(v: &Value, k: &str) -> i64 {
    match v {
        Value::Map(m) => match m.get(k) {
            Some(Value::Int(i)) => *i,
            _ => 0,
        },
        _ => 0,
    }
}

/// Nanoseconds of a duration value.
pub fn duration_nanos(v: &Value) -> i64 {
    get_int(v, NANOS)
}

/// The parts of a time value: (unix seconds, nanoseconds, offset seconds, zone abbreviation).
pub fn time_parts(v: &Value) -> (i64, u32, i32, String) {
    let zone = match v {
        Value::Map(m) => match m.get(ZONE) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    (
        get_int(v, SECS),
        get_int(v, NSEC) as u32,
        get_int(v, OFFSET) as i32,
        zone,
    )
}

fn civil(v: &Value) -> Option<DateTime<FixedOffset>> {
    let (secs, nsec, off, _) = time_parts(v);
    let utc = DateTime::<Utc>::from_timestamp(secs, nsec)?;
    let fo = FixedOffset::east_opt(off)?;
    Some(utc.with_timezone(&fo))
}

/// Go's `Time.String()`.
pub fn time_string(v: &Value) -> String {
    format_time(v, "2006-01-02 15:04:05.999999999 -0700 MST")
}

/// Convert a time value to the named IANA zone (`tz` in Alertmanager, `Time.In`).
pub fn in_zone(v: &Value, name: &str) -> Result<Value, String> {
    let (secs, nsec, _, _) = time_parts(v);
    if name == "UTC" || name.is_empty() {
        return Ok(time_value(secs, nsec, 0, "UTC"));
    }
    if name == "Local" {
        // ruletest runs reproducibly: Local is UTC.
        return Ok(time_value(secs, nsec, 0, "UTC"));
    }
    let tz: chrono_tz::Tz = name
        .parse()
        .map_err(|_| format!("unknown time zone {name}"))?;
    let utc = DateTime::<Utc>::from_timestamp(secs, nsec).ok_or("time out of range")?;
    let local = tz.from_utc_datetime(&utc.naive_utc());
    let off = local.offset().fix().local_minus_utc();
    let abbr = local.format("%Z").to_string();
    Ok(time_value(secs, nsec, off, &abbr))
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Go's `Time.Format(layout)` for the standard layout elements (time/format.go `nextStdChunk`).
pub fn format_time(v: &Value, layout: &str) -> String {
    let Some(t) = civil(v) else {
        return String::new();
    };
    let (_, nsec, off, zone) = time_parts(v);
    let mut out = String::new();
    let b = layout.as_bytes();
    let mut i = 0;
    let starts = |i: usize, s: &str| layout[i..].starts_with(s);
    while i < b.len() {
        // Longest tokens first, in the order Go's nextStdChunk checks them.
        if starts(i, "January") {
            out.push_str(LONG_MONTHS[t.month0() as usize]);
            i += 7;
        } else if starts(i, "Jan") {
            out.push_str(&LONG_MONTHS[t.month0() as usize][..3]);
            i += 3;
        } else if starts(i, "Monday") {
            out.push_str(LONG_DAYS[t.weekday().num_days_from_sunday() as usize]);
            i += 6;
        } else if starts(i, "Mon") {
            out.push_str(&LONG_DAYS[t.weekday().num_days_from_sunday() as usize][..3]);
            i += 3;
        } else if starts(i, "MST") {
            if zone.is_empty() {
                push_offset(&mut out, off, false, false);
            } else {
                out.push_str(&zone);
            }
            i += 3;
        } else if starts(i, "2006") {
            let _ = write!(out, "{:04}", t.year());
            i += 4;
        } else if starts(i, "2") {
            let _ = write!(out, "{}", t.day());
            i += 1;
        } else if starts(i, "_2") && !starts(i, "_2006") {
            let _ = write!(out, "{:>2}", t.day());
            i += 2;
        } else if starts(i, "002") {
            let _ = write!(out, "{:03}", t.ordinal());
            i += 3;
        } else if starts(i, "01") {
            let _ = write!(out, "{:02}", t.month());
            i += 2;
        } else if starts(i, "02") {
            let _ = write!(out, "{:02}", t.day());
            i += 2;
        } else if starts(i, "03") {
            let _ = write!(out, "{:02}", hour12(t.hour()));
            i += 2;
        } else if starts(i, "04") {
            let _ = write!(out, "{:02}", t.minute());
            i += 2;
        } else if starts(i, "05") {
            let _ = write!(out, "{:02}", t.second());
            i += 2;
        } else if starts(i, "06") {
            let _ = write!(out, "{:02}", t.year().rem_euclid(100));
            i += 2;
        } else if starts(i, "15") {
            let _ = write!(out, "{:02}", t.hour());
            i += 2;
        } else if starts(i, "1") {
            let _ = write!(out, "{}", t.month());
            i += 1;
        } else if starts(i, "3") {
            let _ = write!(out, "{}", hour12(t.hour()));
            i += 1;
        } else if starts(i, "4") {
            let _ = write!(out, "{}", t.minute());
            i += 1;
        } else if starts(i, "5") {
            let _ = write!(out, "{}", t.second());
            i += 1;
        } else if starts(i, "PM") {
            out.push_str(if t.hour() >= 12 { "PM" } else { "AM" });
            i += 2;
        } else if starts(i, "pm") {
            out.push_str(if t.hour() >= 12 { "pm" } else { "am" });
            i += 2;
        } else if starts(i, "Z07:00") {
            zulu_or(&mut out, off, |o| push_offset(o, off, true, false));
            i += 6;
        } else if starts(i, "Z0700") {
            zulu_or(&mut out, off, |o| push_offset(o, off, false, false));
            i += 5;
        } else if starts(i, "Z07") {
            zulu_or(&mut out, off, |o| push_offset(o, off, false, true));
            i += 3;
        } else if starts(i, "-07:00") {
            push_offset(&mut out, off, true, false);
            i += 6;
        } else if starts(i, "-0700") {
            push_offset(&mut out, off, false, false);
            i += 5;
        } else if starts(i, "-07") {
            push_offset(&mut out, off, false, true);
            i += 3;
        } else if starts(i, ".0") || starts(i, ".9") || starts(i, ",0") || starts(i, ",9") {
            // Fractional seconds: .000 fixed width, .999 with trailing zeros trimmed.
            let sep = b[i] as char;
            let digit = b[i + 1];
            let n = b[i + 1..].iter().take_while(|&&c| c == digit).count();
            if b.get(i + 1 + n).is_some_and(u8::is_ascii_digit) {
                out.push(sep);
                i += 1;
                continue;
            }
            let frac = format!("{nsec:09}");
            let frac = &frac[..n.min(9)];
            if digit == b'0' {
                out.push(sep);
                out.push_str(frac);
            } else {
                let trimmed = frac.trim_end_matches('0');
                if !trimmed.is_empty() {
                    out.push(sep);
                    out.push_str(trimmed);
                }
            }
            i += 1 + n;
        } else {
            let ch = layout[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn hour12(h: u32) -> u32 {
    match h % 12 {
        0 => 12,
        x => x,
    }
}

fn zulu_or(out: &mut String, off: i32, f: impl FnOnce(&mut String)) {
    if off == 0 {
        out.push('Z');
    } else {
        f(out);
    }
}

fn push_offset(out: &mut String, off: i32, colon: bool, hours_only: bool) {
    out.push(if off < 0 { '-' } else { '+' });
    let a = off.unsigned_abs();
    let _ = write!(out, "{:02}", a / 3600);
    if hours_only {
        return;
    }
    if colon {
        out.push(':');
    }
    let _ = write!(out, "{:02}", (a % 3600) / 60);
}

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: ns, µs or ms with a fraction.
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac_string(u, div));
        out.push_str(unit);
    } else {
        let secs = u / 1_000_000_000;
        let h = secs / 3600;
        let m = (secs / 60) % 60;
        if h > 0 {
            let _ = write!(out, "{h}h");
        }
        if h > 0 || m > 0 {
            let _ = write!(out, "{m}m");
        }
        let rem = u % 60_000_000_000;
        out.push_str(&frac_string(rem, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

fn frac_string(v: u64, div: u64) -> String {
    let int = v / div;
    let frac = v % div;
    if frac == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{frac:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

/// Methods of `time.Time` that templates use. `None` when the name is not a method.
pub fn time_method(t: &Value, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    let (secs, nsec, off, _) = time_parts(t);
    let no_args = |v: Value| {
        if args.is_empty() {
            Ok(v)
        } else {
            Err(format!(
                "wrong number of args for {name}: want 0 got {}",
                args.len()
            ))
        }
    };
    let c = civil(t);
    Some(match name {
        "Format" => match args {
            [Value::String(layout)] => Ok(Value::String(format_time(t, layout).into())),
            _ => Err(format!(
                "wrong number of args for Format: want 1 got {}",
                args.len()
            )),
        },
        "String" => no_args(Value::String(time_string(t).into())),
        "Unix" => no_args(Value::Int(secs)),
        "UnixMilli" => no_args(Value::Int(secs * 1000 + i64::from(nsec / 1_000_000))),
        "UnixNano" => no_args(Value::Int(
            secs.saturating_mul(1_000_000_000) + i64::from(nsec),
        )),
        "UTC" | "Local" => no_args(time_value(secs, nsec, 0, "UTC")),
        "IsZero" => no_args(Value::Bool(secs == -62_135_596_800 && nsec == 0)),
        "Year" => no_args(Value::Int(c.map_or(0, |c| i64::from(c.year())))),
        "Day" => no_args(Value::Int(c.map_or(0, |c| i64::from(c.day())))),
        "Hour" => no_args(Value::Int(c.map_or(0, |c| i64::from(c.hour())))),
        "Minute" => no_args(Value::Int(c.map_or(0, |c| i64::from(c.minute())))),
        "Second" => no_args(Value::Int(c.map_or(0, |c| i64::from(c.second())))),
        "In" => match args {
            [Value::String(z)] => in_zone(t, z),
            _ => Err("wrong type for value; expected *time.Location".into()),
        },
        "Sub" => match args {
            [other] if struct_type(other) == Some("time.Time") => {
                let (s2, n2, _, _) = time_parts(other);
                let d =
                    (secs - s2).saturating_mul(1_000_000_000) + (i64::from(nsec) - i64::from(n2));
                Ok(duration_value(d))
            }
            _ => Err("wrong type for value; expected time.Time".into()),
        },
        "Add" => match args {
            [d] if struct_type(d) == Some("time.Duration") => {
                let total = i128::from(secs) * 1_000_000_000
                    + i128::from(nsec)
                    + i128::from(duration_nanos(d));
                let s = total.div_euclid(1_000_000_000) as i64;
                let n = total.rem_euclid(1_000_000_000) as u32;
                let (_, _, _, zone) = time_parts(t);
                Ok(time_value(s, n, off, &zone))
            }
            _ => Err("wrong type for value; expected time.Duration".into()),
        },
        _ => return None,
    })
}

/// Methods of `time.Duration`.
pub fn duration_method(d: &Value, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    if !args.is_empty() {
        return Some(Err(format!(
            "wrong number of args for {name}: want 0 got {}",
            args.len()
        )));
    }
    let n = duration_nanos(d);
    Some(Ok(match name {
        "String" => Value::String(duration_string(n).into()),
        "Seconds" => Value::Float(n as f64 / 1e9),
        "Minutes" => Value::Float(n as f64 / 6e10),
        "Hours" => Value::Float(n as f64 / 3.6e12),
        "Milliseconds" => Value::Int(n / 1_000_000),
        "Nanoseconds" => Value::Int(n),
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_string_matches_go() {
        // Go: time.Unix(1700000000, 0).UTC().String() == "2023-11-14 22:13:20 +0000 UTC"
        assert_eq!(
            time_string(&time_from_unix_ms(1_700_000_000_000)),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        // .999999999 trims trailing zeros: 250ms -> ".25"
        assert_eq!(
            time_string(&time_from_unix_ms(1_700_000_000_250)),
            "2023-11-14 22:13:20.25 +0000 UTC"
        );
        assert_eq!(time_string(&zero_time()), "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn format_layouts() {
        let t = time_from_unix_ms(1_700_000_000_123);
        assert_eq!(
            format_time(&t, "2006-01-02T15:04:05Z07:00"),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            format_time(&t, "2006-01-02 15:04:05.000"),
            "2023-11-14 22:13:20.123"
        );
        assert_eq!(format_time(&t, "Mon Jan _2 3:04PM"), "Tue Nov 14 10:13PM");
        assert_eq!(format_time(&t, "January 2, 2006"), "November 14, 2023");
        assert_eq!(format_time(&t, "15:04 -0700 MST"), "22:13 +0000 UTC");
    }

    #[test]
    fn zones() {
        let t = time_from_unix_ms(1_700_000_000_000);
        let berlin = in_zone(&t, "Europe/Berlin").unwrap();
        assert_eq!(time_string(&berlin), "2023-11-14 23:13:20 +0100 CET");
        assert!(in_zone(&t, "Nowhere/Special").is_err());
    }

    #[test]
    fn durations() {
        // Go: (90*time.Second).String() == "1m30s"; 1500*time.Millisecond == "1.5s"; 3h == "3h0m0s"
        assert_eq!(duration_string(90_000_000_000), "1m30s");
        assert_eq!(duration_string(1_500_000_000), "1.5s");
        assert_eq!(duration_string(3 * 3_600_000_000_000), "3h0m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(-2_000_000_000), "-2s");
        assert_eq!(duration_string(999), "999ns");
    }
}
