//! `rate`, `increase`, `delta` (extrapolated to the window's edges as Prometheus does) and `irate`,
//! `idelta` (last two samples).

use super::{arg_range, map_windows, Ev, EvalError, Val};
use promql_parser::parser::Expr;

/// Prometheus's `extrapolatedRate` over one window `(end-range, end]`.
pub(crate) fn extrapolated(
    samples: &[(i64, f64)],
    end: i64,
    range: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let start = end - range;
    let first = samples[0];
    let last = samples[samples.len() - 1];
    let mut result = last.1 - first.1;
    if is_counter {
        let mut prev = first.1;
        for &(_, v) in &samples[1..] {
            if v < prev {
                result += prev;
            }
            prev = v;
        }
    }
    let mut to_start = (first.0 - start) as f64 / 1000.0;
    let mut to_end = (end - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg = sampled / (samples.len() - 1) as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= range as f64 / 1000.0;
    }
    Some(result * factor)
}

fn instant(samples: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (pt, pv) = samples[samples.len() - 2];
    let (lt, lv) = samples[samples.len() - 1];
    let mut v = if is_rate && lv < pv { lv } else { lv - pv };
    let dt = lt - pt;
    if dt == 0 {
        return None;
    }
    if is_rate {
        v /= dt as f64 / 1000.0;
    }
    Some(v)
}

pub(crate) fn eval(ev: &mut Ev, name: &str, arg: &Expr, ts: &[i64]) -> Result<Val, EvalError> {
    let ra = arg_range(ev, arg, ts)?;
    let out = match name {
        "rate" | "increase" => {
            let is_rate = name == "rate";
            let out = map_windows(ev, &ra, false, |w, i| {
                extrapolated(w, ra.ends[i], ra.range_ms, true, is_rate)
            });
            for s in &ra.series {
                if let Some(n) = s.labels.name() {
                    let counter_like = ["_total", "_sum", "_count", "_bucket"]
                        .iter()
                        .any(|suf| n.ends_with(suf));
                    if !counter_like && s.win.iter().any(|(a, b)| b - a >= 2) {
                        let msg = format!(
                            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {:?} {}",
                            n,
                            ev.pos_of(n)
                        );
                        ev.info(msg);
                    }
                }
            }
            out
        }
        "delta" => map_windows(ev, &ra, false, |w, i| {
            extrapolated(w, ra.ends[i], ra.range_ms, false, false)
        }),
        "irate" => map_windows(ev, &ra, false, |w, _| instant(w, true)),
        _ => map_windows(ev, &ra, false, |w, _| instant(w, false)),
    };
    Ok(Val::Vector(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_extrapolates_like_prometheus() {
        // Counter 0,10,...,50 every 60s in window (0, 300s] at end=300s: samples at 60..300 (left-open),
        // increase 40 over 240s sampled; to_start=60s >= 1.1*60? no (60 < 66) so kept; to_zero=240*(10/40)=60;
        // factor (240+60+0)/240 -> increase 50, rate 50/300.
        let s: Vec<(i64, f64)> = (1..=5).map(|i| (i * 60_000, i as f64 * 10.0)).collect();
        let inc = extrapolated(&s, 300_000, 300_000, true, false).unwrap();
        assert!((inc - 50.0).abs() < 1e-9);
        let r = extrapolated(&s, 300_000, 300_000, true, true).unwrap();
        assert!((r - 50.0 / 300.0).abs() < 1e-12);
    }

    #[test]
    fn counter_reset_adds_previous() {
        let s = vec![(0, 5.0), (10_000, 1.0)];
        // 1 - 5 + 5 = 1 over 10s sampled, window exactly covers it.
        assert_eq!(
            extrapolated(&s, 10_000, 10_001, true, false).map(|v| v > 0.0),
            Some(true)
        );
    }
}
