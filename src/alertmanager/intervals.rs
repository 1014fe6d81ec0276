//! Time intervals (`time_intervals:` / `mute_time_intervals:`) read from the config and evaluated at a real
//! timestamp, after Alertmanager's `timeinterval` package: times `[start, end)` in minutes of the day, weekdays,
//! days of the month (negative counts from the month's end), months and years as inclusive ranges, all in the
//! interval's `location` (UTC by default). A named interval holds several specs; it contains an instant when
//! any spec does.

use super::fields::Reader;
use crate::text::yaml::{Node, Pos};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike};
use chrono_tz::Tz;

/// `start:end` inclusive, or a single value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub begin: i32,
    pub end: i32,
}

/// One entry of a named interval's `time_intervals` list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntervalSpec {
    /// Minutes of the day, `[start, end)`.
    pub times: Vec<(u32, u32)>,
    /// 0 = Sunday .. 6 = Saturday, as Go's `time.Weekday`.
    pub weekdays: Vec<Range>,
    pub days_of_month: Vec<Range>,
    pub months: Vec<Range>,
    pub years: Vec<Range>,
    pub location: Option<Tz>,
}

/// A named time interval.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeInterval {
    pub name: String,
    pub specs: Vec<IntervalSpec>,
    pub pos: Pos,
}

impl TimeInterval {
    /// Whether the instant `ts_ms` (Unix milliseconds) falls in this interval.
    pub fn contains(&self, ts_ms: i64) -> bool {
        self.specs.iter().any(|s| s.contains(ts_ms))
    }
}

fn days_in_month(year: i32, month: u32) -> i32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(year, month, 1),
        NaiveDate::from_ymd_opt(ny, nm, 1),
    ) {
        (Some(a), Some(b)) => (b - a).num_days() as i32,
        _ => 31,
    }
}

impl IntervalSpec {
    pub fn contains(&self, ts_ms: i64) -> bool {
        let tz = self.location.unwrap_or(Tz::UTC);
        let Some(utc) = DateTime::from_timestamp_millis(ts_ms) else {
            return false;
        };
        let t = tz.from_utc_datetime(&utc.naive_utc());
        if !self.times.is_empty() {
            let m = t.hour() * 60 + t.minute();
            if !self.times.iter().any(|(s, e)| m >= *s && m < *e) {
                return false;
            }
        }
        if !self.days_of_month.is_empty() {
            let dim = days_in_month(t.year(), t.month());
            let day = t.day() as i32;
            let inside = self.days_of_month.iter().any(|r| {
                let begin = if r.begin < 0 {
                    dim + r.begin + 1
                } else {
                    r.begin
                };
                let end = if r.end < 0 { dim + r.end + 1 } else { r.end };
                // A range starting after this month's last day does not apply to this month.
                if begin > dim {
                    return false;
                }
                let end = end.clamp(-dim, dim);
                let begin = begin.clamp(-dim, dim);
                day >= begin && day <= end
            });
            if !inside {
                return false;
            }
        }
        let within =
            |rs: &[Range], v: i32| rs.is_empty() || rs.iter().any(|r| v >= r.begin && v <= r.end);
        within(&self.weekdays, t.weekday().num_days_from_sunday() as i32)
            && within(&self.months, t.month() as i32)
            && within(&self.years, t.year())
    }
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn parse_clock(s: &str) -> Result<u32, String> {
    // Alertmanager accepts exactly HH:MM, 00:00 to 24:00; anything else is "invalid format".
    let bad = || format!("couldn't parse timestamp {s}, invalid format");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Which list a range belongs to: Alertmanager words the reversed-range error differently for each.
#[derive(Clone, Copy, PartialEq)]
enum RangeKind {
    Weekday,
    DayOfMonth,
    Month,
    Year,
}

fn parse_range(
    s: &str,
    kind: RangeKind,
    one: &dyn Fn(&str) -> Result<i32, String>,
) -> Result<Range, String> {
    let (a, b, a_text, b_text) = match s.split_once(':') {
        Some((a, b)) => (one(a)?, one(b)?, a, b),
        None => {
            let v = one(s)?;
            (v, v, s, s)
        }
    };
    match kind {
        RangeKind::Weekday if a > b => Err("start day cannot be before end day".into()),
        RangeKind::DayOfMonth if a < 0 && b > 0 => {
            Err("end day must be negative if start day is negative".into())
        }
        // Mixed signs (`1:-1`) are fine: the end counts from the month's end.
        RangeKind::DayOfMonth if (a >= 0) == (b >= 0) && a > b => {
            Err(format!("end day {b} is always before start day {a}"))
        }
        RangeKind::Month if a > b => Err(format!(
            "end month {} is before start month {}",
            b_text.trim(),
            a_text.trim()
        )),
        RangeKind::Year if a > b => Err(format!("end year {b} is before start year {a}")),
        _ => Ok(Range { begin: a, end: b }),
    }
}

fn named(s: &str, names: &[&str], base: i32, what: &str) -> Result<i32, String> {
    let l = s.trim().to_lowercase();
    if let Some(i) = names.iter().position(|n| *n == l) {
        return Ok(i as i32 + base);
    }
    Err(format!("{s} is not a valid {what}"))
}

/// Reads `time_intervals` / `mute_time_intervals` entries.
pub fn read_time_interval(r: &mut Reader, node: &Node) -> Option<TimeInterval> {
    let entries = r.map(node, &["name", "time_intervals"], "time interval")?;
    let mut name = String::new();
    let mut specs = Vec::new();
    for (k, v) in entries {
        match k.as_str() {
            Some("name") => name = r.string(v, "name").unwrap_or_default(),
            Some("time_intervals") => {
                for item in r.seq(v, "time_intervals") {
                    if let Some(s) = read_spec(r, item) {
                        specs.push(s);
                    }
                }
            }
            _ => {}
        }
    }
    if name.is_empty() {
        r.error(
            "alertmanager/missing-name",
            "missing name in time interval",
            node.pos,
        );
        return None;
    }
    Some(TimeInterval {
        name,
        specs,
        pos: node.pos,
    })
}

fn read_spec(r: &mut Reader, node: &Node) -> Option<IntervalSpec> {
    let entries = r.map(
        node,
        &[
            "times",
            "weekdays",
            "days_of_month",
            "months",
            "years",
            "location",
        ],
        "time interval",
    )?;
    let mut spec = IntervalSpec::default();
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        if key == "times" {
            for t in r.seq(v, "times") {
                let Some(e) = r.map(t, &["start_time", "end_time"], "times") else {
                    continue;
                };
                let get = |n: &str| {
                    e.iter()
                        .find(|(k, _)| k.as_str() == Some(n))
                        .and_then(|(_, v)| v.as_str())
                };
                match (get("start_time"), get("end_time")) {
                    (Some(s), Some(en)) => match (parse_clock(s), parse_clock(en)) {
                        (Ok(a), Ok(b)) if a < b => spec.times.push((a, b)),
                        (Ok(_), Ok(_)) => r.error(
                            "alertmanager/bad-time-interval",
                            "start time cannot be equal or greater than end time",
                            t.pos,
                        ),
                        (Err(e), _) | (_, Err(e)) => {
                            r.error("alertmanager/bad-time-interval", e, t.pos)
                        }
                    },
                    _ => r.error(
                        "alertmanager/bad-time-interval",
                        "both start and end times must be provided",
                        t.pos,
                    ),
                }
            }
            continue;
        }
        if key == "location" {
            let Some(s) = r.string(v, key) else { continue };
            // Go's LoadLocation: "Local" means the machine's zone; we have no such notion and treat it as UTC.
            match s.as_str() {
                "" | "UTC" | "Local" => spec.location = Some(Tz::UTC),
                name => match name.parse::<Tz>() {
                    Ok(tz) => spec.location = Some(tz),
                    Err(_) => r.error(
                        "alertmanager/bad-time-interval",
                        format!("unknown time zone {name}"),
                        v.pos,
                    ),
                },
            }
            continue;
        }
        let list = r.string_list(v, key);
        for (s, pos) in list {
            let parsed = match key {
                "weekdays" => parse_range(&s, RangeKind::Weekday, &|x| {
                    named(x, &WEEKDAYS, 0, "weekday")
                }),
                // Alertmanager takes any integer month (a month outside 1..12 just never matches).
                "months" => parse_range(&s, RangeKind::Month, &|x| {
                    x.trim()
                        .parse::<i32>()
                        .map(Ok)
                        .unwrap_or_else(|_| named(x, &MONTHS, 1, "month"))
                }),
                "days_of_month" => parse_range(&s, RangeKind::DayOfMonth, &|x| {
                    let d: i32 = x.trim().parse().map_err(|_| {
                        format!("strconv.Atoi: parsing {:?}: invalid syntax", x.trim())
                    })?;
                    if d == 0 || !(-31..=31).contains(&d) {
                        return Err(format!("{d} is not a valid day of the month: out of range"));
                    }
                    Ok(d)
                }),
                _ => parse_range(&s, RangeKind::Year, &|x| {
                    x.trim().parse::<i32>().map_err(|_| {
                        format!("strconv.Atoi: parsing {:?}: invalid syntax", x.trim())
                    })
                }),
            };
            match parsed {
                Ok(range) => match key {
                    "weekdays" => spec.weekdays.push(range),
                    "months" => spec.months.push(range),
                    "days_of_month" => spec.days_of_month.push(range),
                    _ => spec.years.push(range),
                },
                Err(e) => r.error("alertmanager/bad-time-interval", e, pos),
            }
        }
    }
    Some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::parse_stream;
    use std::sync::Arc;

    fn interval(src: &str) -> TimeInterval {
        let s = parse_stream(src).unwrap();
        let file: Arc<str> = Arc::from("t.yml");
        let mut r = Reader::new(&file);
        let ti = read_time_interval(&mut r, &s.documents[0].root).unwrap();
        assert!(r.diags.is_empty(), "{:?}", r.diags);
        ti
    }

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn business_hours_in_a_zone() {
        let ti = interval(
            "name: work\ntime_intervals:\n  - times: [{start_time: '09:00', end_time: '17:00'}]\n    weekdays: ['monday:friday']\n    location: Europe/Berlin\n",
        );
        // 2026-11-24 is a Tuesday; Berlin is UTC+1 in November.
        assert!(ti.contains(ts("2026-11-24T08:00:00Z"))); // 09:00 local: start inclusive
        assert!(!ti.contains(ts("2026-11-24T07:59:00Z")));
        assert!(!ti.contains(ts("2026-11-24T16:00:00Z"))); // 17:00 local: end exclusive
        assert!(!ti.contains(ts("2026-11-28T10:00:00Z"))); // Saturday
    }

    #[test]
    fn negative_days_of_month_count_from_the_end() {
        let ti = interval("name: eom\ntime_intervals:\n  - days_of_month: ['-3:-1']\n");
        assert!(ti.contains(ts("2026-02-26T12:00:00Z"))); // Feb 2026 has 28 days: 26..28
        assert!(!ti.contains(ts("2026-02-25T12:00:00Z")));
        assert!(ti.contains(ts("2026-03-31T00:00:00Z")));
        assert!(!ti.contains(ts("2026-03-28T23:59:00Z")));
    }

    #[test]
    fn months_years_and_whole_day_end() {
        let ti = interval(
            "name: x\ntime_intervals:\n  - months: ['december', '1:2']\n    years: ['2026:2027']\n    times: [{start_time: '22:00', end_time: '24:00'}]\n",
        );
        assert!(ti.contains(ts("2026-12-01T23:59:00Z")));
        assert!(ti.contains(ts("2027-01-15T22:00:00Z")));
        assert!(!ti.contains(ts("2026-11-30T23:00:00Z")));
        assert!(!ti.contains(ts("2028-01-15T23:00:00Z")));
    }

    #[test]
    fn bad_values_are_reported() {
        let s = parse_stream(
            "name: x\ntime_intervals:\n  - weekdays: [funday]\n    times: [{start_time: '10:00', end_time: '09:00'}]\n    days_of_month: ['0']\n",
        )
        .unwrap();
        let file: Arc<str> = Arc::from("t.yml");
        let mut r = Reader::new(&file);
        read_time_interval(&mut r, &s.documents[0].root);
        let msgs: Vec<&str> = r.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs
            .iter()
            .any(|m| m.contains("funday is not a valid weekday")));
        assert!(msgs
            .iter()
            .any(|m| m.contains("start time cannot be equal or greater")));
    }
}
