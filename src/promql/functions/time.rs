//! Calendar functions (`minute`, `hour`, `day_of_week`, `month`, `year`, ...) over sample values read as
//! Unix seconds in UTC; without an argument they read the evaluation time.

use super::{arg_vector, drop_name, Ev, EvalError, StepSeries, Val};
use crate::series::Labels;
use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use promql_parser::parser::Expr;

fn component(name: &str, secs: f64) -> Option<f64> {
    if !secs.is_finite() {
        return None;
    }
    let t = DateTime::from_timestamp(secs as i64, 0)?;
    Some(match name {
        "minute" => t.minute() as f64,
        "hour" => t.hour() as f64,
        "day_of_month" => t.day() as f64,
        "day_of_week" => t.weekday().num_days_from_sunday() as f64,
        "day_of_year" => t.ordinal() as f64,
        "month" => t.month() as f64,
        "year" => t.year() as f64,
        _ => {
            // days_in_month
            let (y, m) = (t.year(), t.month());
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            }?;
            let first = NaiveDate::from_ymd_opt(y, m, 1)?;
            (next - first).num_days() as f64
        }
    })
}

pub(crate) fn eval(ev: &mut Ev, name: &str, args: &[&Expr], ts: &[i64]) -> Result<Val, EvalError> {
    let mut v = match args.first() {
        Some(a) => arg_vector(ev, a, ts)?,
        None => vec![StepSeries {
            labels: Labels::empty(),
            drop_name: false,
            vals: ts.iter().map(|&t| Some(t as f64 / 1000.0)).collect(),
        }],
    };
    for s in &mut v {
        for x in s.vals.iter_mut() {
            if let Some(f) = *x {
                *x = Some(component(name, f).unwrap_or(f64::NAN));
            }
        }
        drop_name(ev, s);
    }
    Ok(Val::Vector(v))
}
