//! Calendar functions (`minute`, `hour`, `day_of_week`, `month`, `year`, ...) over sample values read as
//! Unix seconds in UTC; without an argument they read the evaluation time.

use super::{arg_vector, drop_name, Context, EvalError, StepHists, StepSeries, Val};
use crate::promql::syntax::ast::Expr;
use crate::series::Labels;

/// Go's `int64(f)` on amd64: truncation toward zero, and the "integer indefinite" `math.MinInt64` for NaN,
/// ±Inf and anything out of range (Rust's `as` saturates instead).
fn go_int64(f: f64) -> i64 {
    // 2^63: the first float past i64::MAX; -2^63 is i64::MIN itself.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&f) {
        f as i64
    } else {
        i64::MIN
    }
}

/// Seconds since Go's absolute zero year (-292277022399) for `time.Unix(sec, 0).UTC()`, wrapping as Go's
/// `uint64(sec + (unixToInternal + internalToAbsolute))` does, so values far out of range give what
/// Prometheus gives (`year(vector(NaN))` is 292277026596).
fn go_abs(sec: i64) -> u64 {
    const UNIX_TO_ABSOLUTE: i64 = 62_135_596_800 + 9_223_371_966_579_724_800;
    sec.wrapping_add(UNIX_TO_ABSOLUTE) as u64
}

const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;
const DAYS_BEFORE: [u64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Go's `absDate`: (year, month 1-12, day of month, day of year from 0).
fn go_date(abs: u64) -> (i64, u64, u64, u64) {
    const PER_400: u64 = 365 * 400 + 97;
    const PER_100: u64 = 365 * 100 + 24;
    const PER_4: u64 = 365 * 4 + 1;
    let mut d = abs / 86_400;
    let mut n = d / PER_400;
    let mut y = 400 * n;
    d -= PER_400 * n;
    n = d / PER_100;
    n -= n >> 2;
    y += 100 * n;
    d -= PER_100 * n;
    n = d / PER_4;
    y += 4 * n;
    d -= PER_4 * n;
    n = d / 365;
    n -= n >> 2;
    y += n;
    d -= 365 * n;
    let year = (y as i64).wrapping_add(ABSOLUTE_ZERO_YEAR);
    let yday = d;
    let mut day = yday;
    if is_leap(year) {
        if day > 31 + 29 - 1 {
            day -= 1;
        } else if day == 31 + 29 - 1 {
            return (year, 2, 29, yday);
        }
    }
    let mut month = (day / 31) as usize;
    let end = DAYS_BEFORE[month + 1];
    let begin = if day >= end {
        month += 1;
        end
    } else {
        DAYS_BEFORE[month]
    };
    (year, month as u64 + 1, day - begin + 1, yday)
}

/// One calendar component of `secs` read as Unix seconds in UTC, as Prometheus computes it with Go's
/// `time.Unix(int64(v), 0).UTC()`.
fn component(name: &str, secs: f64) -> f64 {
    let abs = go_abs(go_int64(secs));
    match name {
        "minute" => ((abs % 3_600) / 60) as f64,
        "hour" => ((abs % 86_400) / 3_600) as f64,
        // Go's absolute zero year began on a Monday.
        "day_of_week" => (((abs + 86_400) % 604_800) / 86_400) as f64,
        _ => {
            let (year, month, day, yday) = go_date(abs);
            match name {
                "day_of_month" => day as f64,
                "day_of_year" => (yday + 1) as f64,
                "month" => month as f64,
                "year" => year as f64,
                _ => {
                    // days_in_month
                    let len = DAYS_BEFORE[month as usize] - DAYS_BEFORE[month as usize - 1];
                    (len + u64::from(month == 2 && is_leap(year))) as f64
                }
            }
        }
    }
}

pub(crate) fn eval(
    ev: &mut dyn Context,
    name: &str,
    args: &[&Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let mut v = match args.first() {
        Some(a) => arg_vector(ev, a, ts)?,
        None => vec![StepSeries {
            labels: Labels::empty(),
            drop_name: false,
            vals: ts.iter().map(|&t| Some(t as f64 / 1000.0)).collect(),
            hists: StepHists::default(),
        }],
    };
    // Histogram samples are ignored.
    for s in &mut v {
        s.drop_histograms();
        for x in s.vals.iter_mut() {
            if let Some(f) = *x {
                *x = Some(component(name, f));
            }
        }
        drop_name(ev, s);
    }
    v.retain(StepSeries::any);
    Ok(Val::Vector(v))
}

#[cfg(test)]
mod tests {
    use super::component;
    use chrono::{DateTime, Datelike, Timelike};
    use proptest::prelude::*;

    /// What Prometheus 2.42 answers (promtool), for values Go's conversion wraps or chrono cannot hold.
    #[test]
    fn out_of_range_values_as_prometheus() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e19] {
            let got: Vec<f64> = [
                "minute",
                "hour",
                "day_of_week",
                "year",
                "month",
                "day_of_month",
                "day_of_year",
                "days_in_month",
            ]
            .iter()
            .map(|n| component(n, v))
            .collect();
            assert_eq!(
                got,
                [30.0, 15.0, 0.0, 292_277_026_596.0, 12.0, 4.0, 339.0, 31.0],
                "{v}"
            );
        }
        assert_eq!(component("year", 1e15), 31_690_708.0);
        assert_eq!(component("month", 1e15), 7.0);
        assert_eq!(component("year", -1e15), -31_686_769.0);
        assert_eq!(component("day_of_month", -1e15), 29.0);
    }

    proptest! {
        /// Within chrono's range the Go algorithm gives the ordinary calendar.
        #[test]
        fn agrees_with_chrono(secs in -8_000_000_000_000i64..8_000_000_000_000i64) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let f = secs as f64;
            prop_assert_eq!(component("minute", f), t.minute() as f64);
            prop_assert_eq!(component("hour", f), t.hour() as f64);
            prop_assert_eq!(component("day_of_week", f), t.weekday().num_days_from_sunday() as f64);
            prop_assert_eq!(component("day_of_month", f), t.day() as f64);
            prop_assert_eq!(component("day_of_year", f), t.ordinal() as f64);
            prop_assert_eq!(component("month", f), t.month() as f64);
            prop_assert_eq!(component("year", f), t.year() as f64);
        }
    }
}
