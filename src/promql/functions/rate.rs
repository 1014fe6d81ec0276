//! `rate`, `increase`, `delta` (extrapolated to the window's edges as Prometheus does) and `irate`,
//! `idelta` (last two samples).

use super::{arg_range, drop_name, map_windows, Ev, EvalError, RangeArg, StepSeries, Val};
use crate::promql::semantics::Difference;
use crate::promql::syntax::ast::Expr;

/// Prometheus's `extrapolatedRate` over one window `(end-range, end]` (the per-window form; the engine
/// uses [`windows_extrapolated`]).
#[cfg(test)]
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
    let resets = if is_counter { reset_sum(samples) } else { 0.0 };
    Some(extrapolate(
        samples[0],
        samples[samples.len() - 1],
        samples.len(),
        resets,
        end,
        range,
        is_counter,
        is_rate,
        false,
    ))
}

/// Sum of the values before each counter reset in `samples`, added in order as Prometheus adds them.
fn reset_sum(samples: &[(i64, f64)]) -> f64 {
    let mut sum = 0.0;
    let mut prev = samples[0].1;
    for &(_, v) in &samples[1..] {
        if v < prev {
            sum += prev;
        }
        prev = v;
    }
    sum
}

/// The extrapolation itself, from a window's first and last samples, its sample count and the sum of
/// values lost to counter resets.
#[allow(clippy::too_many_arguments)]
fn extrapolate(
    first: (i64, f64),
    last: (i64, f64),
    n: usize,
    resets: f64,
    end: i64,
    range: i64,
    is_counter: bool,
    is_rate: bool,
    prometheus2: bool,
) -> f64 {
    let start = end - range;
    let mut result = last.1 - first.1;
    if is_counter {
        // Prometheus adds each reset's previous value to the running result.
        result += resets;
    }
    let mut to_start = (first.0 - start) as f64 / 1000.0;
    let mut to_end = (end - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg = sampled / (n - 1) as f64;
    let threshold = avg * 1.1;
    let zero_point = |to_start: f64| {
        if is_counter && result > 0.0 && first.1 >= 0.0 {
            to_start.min(sampled * (first.1 / result))
        } else {
            to_start
        }
    };
    if prometheus2 {
        // Before 2.51 (prometheus#13725) the zero point came first, then the half-interval rule.
        to_start = zero_point(to_start);
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
    } else {
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        to_start = zero_point(to_start);
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= range as f64 / 1000.0;
    }
    result * factor
}

/// rate/increase/delta over every step of every series. A prefix count of counter resets lets a window
/// without resets (the usual case) be computed from its two end samples, without rescanning it.
fn windows_extrapolated(
    ev: &Ev,
    ra: &RangeArg,
    is_counter: bool,
    is_rate: bool,
) -> Vec<StepSeries> {
    let mut out = Vec::with_capacity(ra.series.len());
    let mut resets_before: Vec<u32> = Vec::new();
    // With the window ends in time order (every query but some `@` and subquery cases) the windows' bounds
    // only grow, so the first and the last window span them all: no pass over the windows per series.
    let ends_in_order = ra.ends.windows(2).all(|e| e[0] <= e[1]);
    for s in &ra.series {
        let smp = &s.samples;
        // The prefix count covers only the samples some window holds (`lo..hi`): an instant query over a
        // long series must not cost the series' length.
        let (lo, hi) = if is_counter {
            match (s.win.first(), s.win.last()) {
                (Some(f), Some(l)) if ends_in_order => (f.0, l.1.max(f.0)),
                (Some(_), Some(_)) => {
                    let (lo, hi) = s
                        .win
                        .iter()
                        .fold((usize::MAX, 0), |(a, b), w| (a.min(w.0), b.max(w.1)));
                    (lo, hi.max(lo))
                }
                _ => (0, 0),
            }
        } else {
            (0, 0)
        };
        resets_before.clear();
        if is_counter {
            let mut c = 0u32;
            resets_before.push(0);
            for k in lo + 1..hi {
                if smp[k].1 < smp[k - 1].1 {
                    c += 1;
                }
                resets_before.push(c);
            }
        }
        let mut any = false;
        let vals: Vec<Option<f64>> = s
            .win
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                if b < a + 2 {
                    return None;
                }
                let resets = if is_counter && resets_before[b - 1 - lo] != resets_before[a - lo] {
                    reset_sum(&smp[a..b])
                } else {
                    0.0
                };
                any = true;
                Some(extrapolate(
                    smp[a],
                    smp[b - 1],
                    b - a,
                    resets,
                    ra.ends[i],
                    ra.range_ms,
                    is_counter,
                    is_rate,
                    ev.opts.prometheus2(Difference::RateExtrapolation),
                ))
            })
            .collect();
        if any {
            let mut st = StepSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                vals,
                hists: Vec::new(),
            };
            drop_name(ev, &mut st);
            out.push(st);
        }
    }
    out
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
            let out = windows_extrapolated(ev, &ra, true, is_rate);
            for s in &ra.series {
                if let Some(n) = s.labels.name() {
                    let counter_like = ["_total", "_sum", "_count", "_bucket"]
                        .iter()
                        .any(|suf| n.ends_with(suf));
                    if !counter_like && s.win.iter().any(|(a, b)| b - a >= 2) {
                        let msg = format!(
                            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {:?} {}",
                            n,
                            ev.pos_at(arg.span().start)
                        );
                        ev.info(msg);
                    }
                }
            }
            out
        }
        "delta" => windows_extrapolated(ev, &ra, false, false),
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
