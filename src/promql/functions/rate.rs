//! `rate`, `increase`, `delta` (extrapolated to the window's edges as Prometheus does) and `irate`,
//! `idelta` (last two samples).

use super::{
    arg_range, drop_name, map_windows, map_windows_with_starts, Context, EvalError, RangeArg,
    StepHists, StepSeries, Val,
};
use crate::promql::syntax::ast::Expr;
use crate::semantics::Difference;
use crate::series::histogram::{CounterResetHint, FloatHistogram};
use std::sync::Arc;

/// What a window of histogram samples made Prometheus say (reported with the metric name and the
/// argument's position).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HistogramNote {
    /// A mix of float and histogram samples: no value.
    MixedFloats,
    /// A mix of exponential and custom buckets: no value.
    MixedLayouts,
    /// `rate`/`increase`/`irate` over a gauge histogram.
    NotCounter,
    /// `delta`/`idelta` over a counter histogram.
    NotGauge,
    /// An info: custom bounds were reconciled during this operation (the value is kept).
    Reconciled(&'static str),
    /// A sample's start timestamp overlaps the sample before it.
    StartOverlap,
}

impl HistogramNote {
    pub(crate) fn text(self, metric: &str, pos: &str) -> String {
        match self {
            HistogramNote::MixedFloats => format!(
                "PromQL warning: encountered a mix of histograms and floats for metric name {metric:?} {pos}"
            ),
            HistogramNote::MixedLayouts => format!(
                "PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?} {pos}"
            ),
            HistogramNote::NotCounter => format!(
                "PromQL warning: this native histogram metric is not a counter: {metric:?} {pos}"
            ),
            HistogramNote::NotGauge => format!(
                "PromQL warning: this native histogram metric is not a gauge: {metric:?} {pos}"
            ),
            HistogramNote::Reconciled(what) => format!(
                "PromQL info: mismatched custom buckets were reconciled during {what} {pos}"
            ),
            HistogramNote::StartOverlap => super::start_time::overlap_warning(metric, pos),
        }
    }

    /// Reports the note as Prometheus does: a warning, or for reconciled bounds an info.
    pub(crate) fn report(self, ev: &mut dyn Context, metric: &str, pos: &str) {
        match self {
            HistogramNote::Reconciled(_) => ev.info(self.text(metric, pos)),
            _ => ev.warn(self.text(metric, pos)),
        }
    }
}

fn note(notes: &mut Vec<HistogramNote>, n: HistogramNote) {
    if !notes.contains(&n) {
        notes.push(n);
    }
}

/// Prometheus's `histogramRate`: the increase (or for `delta`, the difference) between the window's first
/// and last histogram, with the histogram before each counter reset added back; `None` when the
/// histograms cannot be combined.
fn histogram_increase(
    hs: &[(i64, Arc<FloatHistogram>)],
    sts: Option<&[i64]>,
    is_counter: bool,
    notes: &mut Vec<HistogramNote>,
) -> Option<FloatHistogram> {
    // A reset told by the start timestamps between samples `k - 1` and `k`.
    let st_reset = |k: usize| {
        sts.is_some_and(|st| super::start_time::is_reset(st[k - 1], hs[k - 1].0, st[k], hs[k].0))
    };
    let first = &hs[0].1;
    let last = &hs[hs.len() - 1].1;
    let gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
    if is_counter && (gauge(first) || gauge(last)) {
        note(notes, HistogramNote::NotCounter);
    }
    let mut prev: FloatHistogram = (**first).clone();
    // A reset between the first two samples: the first is not needed, nor is its layout.
    if is_counter && (st_reset(1) || hs[1].1.detect_reset(first)) {
        prev = FloatHistogram {
            schema: hs[1].1.schema,
            custom_values: hs[1].1.custom_values.clone(),
            ..Default::default()
        };
    }
    let custom = prev.uses_custom_buckets();
    if last.uses_custom_buckets() != custom {
        note(notes, HistogramNote::MixedLayouts);
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    if is_counter {
        for (_, h) in &hs[1..hs.len() - 1] {
            if gauge(h) {
                note(notes, HistogramNote::NotCounter);
            }
            min_schema = min_schema.min(h.schema);
            if h.uses_custom_buckets() != custom {
                note(notes, HistogramNote::MixedLayouts);
                return None;
            }
        }
    }
    let last_at = last.to_schema(min_schema);
    if last_at.bounds_differ(&prev) {
        note(notes, HistogramNote::Reconciled("subtraction"));
    }
    let Ok((mut h, _)) = last_at.sub(&prev) else {
        note(notes, HistogramNote::MixedLayouts);
        return None;
    };
    if is_counter {
        for (k, pair) in hs.windows(2).enumerate() {
            let (before, curr) = (&pair[0].1, &pair[1].1);
            if let Some(st) = sts {
                if super::start_time::overlaps(st[k], pair[0].0, st[k + 1]) {
                    note(notes, HistogramNote::StartOverlap);
                }
            }
            let before: &FloatHistogram = if std::ptr::eq(before.as_ref(), first.as_ref()) {
                &prev
            } else {
                before
            };
            if st_reset(k + 1) || curr.detect_reset(before) {
                if h.bounds_differ(before) {
                    note(notes, HistogramNote::Reconciled("addition"));
                }
                match h.add(before) {
                    Ok((sum, _)) => h = sum,
                    Err(_) => {
                        note(notes, HistogramNote::MixedLayouts);
                        return None;
                    }
                }
            }
        }
    } else if !gauge(first) || !gauge(last) {
        note(notes, HistogramNote::NotGauge);
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    Some(h)
}

/// `extrapolatedRate` over a window of histogram samples: at least two, or one whose start timestamp lies
/// inside the window.
#[allow(clippy::too_many_arguments)]
fn histogram_extrapolated(
    hs: &[(i64, Arc<FloatHistogram>)],
    sts: Option<&[i64]>,
    end: i64,
    range: i64,
    is_counter: bool,
    is_rate: bool,
    notes: &mut Vec<HistogramNote>,
) -> Option<FloatHistogram> {
    let (first_t, last_t) = (hs[0].0, hs[hs.len() - 1].0);
    let start = end - range;
    // A start inside the window stands for a zero sample there (then one sample is enough).
    let first_st = sts.and_then(|st| st.first().copied()).unwrap_or(0);
    let zero_at_start = is_counter && first_st != 0 && first_st > start && first_st < first_t;
    let mut h = if hs.len() > 1 {
        histogram_increase(hs, sts, is_counter, notes)?
    } else if zero_at_start {
        FloatHistogram {
            schema: hs[0].1.schema,
            custom_values: hs[0].1.custom_values.clone(),
            ..Default::default()
        }
    } else {
        return None;
    };
    let mut to_start = (first_t - start) as f64 / 1000.0;
    let to_end = (end - last_t) as f64 / 1000.0;
    let mut sampled = (last_t - first_t) as f64 / 1000.0;
    let avg = if hs.len() > 1 {
        sampled / (hs.len() - 1) as f64
    } else {
        0.0
    };
    let threshold = avg * 1.1;
    if zero_at_start {
        to_start = 0.0;
        sampled = (last_t - first_st) as f64 / 1000.0;
        if h.bounds_differ(&hs[0].1) {
            note(notes, HistogramNote::Reconciled("addition"));
        }
        match h.add(&hs[0].1) {
            Ok((sum, _)) => h = sum,
            Err(_) => {
                note(notes, HistogramNote::MixedLayouts);
                return None;
            }
        }
        h.counter_reset_hint = CounterResetHint::Gauge;
    } else {
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        let first_count = hs[0].1.count;
        if is_counter && h.count > 0.0 && first_count >= 0.0 {
            to_start = to_start.min(sampled * (first_count / h.count));
        }
    }
    h.mul(extrapolation_factor(
        sampled, to_start, to_end, avg, range, is_rate,
    ));
    Some(h)
}

/// What stretches a window's sampled interval to the extrapolated one (the left side already worked out):
/// the right side is cut to half an average interval when the last sample is farther than 1.1 of them from
/// the window's end; `rate` then divides by the range.
pub(crate) fn extrapolation_factor(
    sampled: f64,
    to_start: f64,
    to_end: f64,
    avg: f64,
    range: i64,
    is_rate: bool,
) -> f64 {
    let to_end = if to_end >= avg * 1.1 {
        avg / 2.0
    } else {
        to_end
    };
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= range as f64 / 1000.0;
    }
    factor
}

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
    let to_end = (end - last.0) as f64 / 1000.0;
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
    result * extrapolation_factor(sampled, to_start, to_end, avg, range, is_rate)
}

/// rate/increase/delta over every step of every series. A prefix count of counter resets lets a window
/// without resets (the usual case) be computed from its two end samples, without rescanning it.
fn windows_extrapolated(
    ev: &mut dyn Context,
    ra: &RangeArg,
    is_counter: bool,
    is_rate: bool,
    at: usize,
) -> Vec<StepSeries> {
    let mut out = Vec::with_capacity(ra.series.len());
    let mut resets_before: Vec<u32> = Vec::new();
    // With the window ends in time order (every query but some `@` and subquery cases) the windows' bounds
    // only grow, so the first and the last window span them all: no pass over the windows per series.
    let ends_in_order = ra.ends.windows(2).all(|e| e[0] <= e[1]);
    for s in &ra.series {
        let smp = &s.samples;
        let float_sts = s.float_starts();
        // The prefix count covers only the samples some window holds (`lo..hi`): an instant query over a
        // long series must not cost the series' length. Windows read with start timestamps need none.
        let (lo, hi) = if is_counter && float_sts.is_none() {
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
        if is_counter && float_sts.is_none() {
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
        let mut overlap = false;
        let vals: Vec<Option<f64>> = s
            .win
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                if let Some(sts) = float_sts {
                    // With start timestamps, Prometheus's own reading of the window (rare: no shortcuts).
                    let (v, o) = super::start_time::extrapolated(
                        &smp[a..b],
                        &sts[a..b],
                        ra.ends[i],
                        ra.range_ms,
                        is_counter,
                        is_rate,
                    );
                    overlap |= o;
                    any |= v.is_some();
                    return v;
                }
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
                    ev.opts().prometheus2(Difference::RateExtrapolation),
                ))
            })
            .collect();
        if overlap {
            let pos = ev.pos_at(at);
            ev.warn(super::start_time::overlap_warning(
                s.labels.name().unwrap_or(""),
                &pos,
            ));
        }
        let mut vals = vals;
        let mut hists = Vec::new();
        if s.hists.is_some() {
            let mut notes = Vec::new();
            hists = vec![None; vals.len()];
            for (i, v) in vals.iter_mut().enumerate() {
                let hw = s.hist_window(i);
                if hw.is_empty() {
                    continue;
                }
                let (a, b) = s.win[i];
                if b > a {
                    note(&mut notes, HistogramNote::MixedFloats);
                    *v = None;
                    continue;
                }
                let sts = s.hist_starts(i);
                if hw.len() < 2 && sts.is_none() {
                    continue;
                }
                hists[i] = histogram_extrapolated(
                    hw,
                    sts,
                    ra.ends[i],
                    ra.range_ms,
                    is_counter,
                    is_rate,
                    &mut notes,
                )
                .map(Arc::new);
                any |= hists[i].is_some();
            }
            let metric = s.labels.name().unwrap_or("");
            if !notes.is_empty() {
                let pos = ev.pos_at(at);
                for n in notes {
                    n.report(ev, metric, &pos);
                }
            }
        }
        if any {
            let mut st = StepSeries {
                labels: s.labels.clone(),
                drop_name: s.drop_name,
                vals,
                hists: hists.into(),
            };
            drop_name(ev, &mut st);
            if st.any() {
                out.push(st);
            }
        }
    }
    out
}

/// irate/idelta where a window holds histogram samples (`instantValue`): the last two samples of either
/// kind; two histograms give their difference (for `irate`, per second and nothing subtracted across a
/// reset), a float and a histogram give nothing and a warning.
fn instant_histograms(
    ev: &mut dyn Context,
    ra: &RangeArg,
    mut out: Vec<StepSeries>,
    is_rate: bool,
    at: usize,
) -> Vec<StepSeries> {
    if ra.series.iter().all(|s| s.hists.is_none()) {
        return out;
    }
    let n = ra.ends.len();
    let mut computed = Vec::new();
    for s in &ra.series {
        if s.hists.is_none() {
            continue;
        }
        let mut st = StepSeries {
            labels: s.labels.clone(),
            drop_name: s.drop_name,
            vals: vec![None; n],
            hists: StepHists::nones(n),
        };
        drop_name(ev, &mut st);
        let mut notes = Vec::new();
        for i in 0..n {
            let (a, b) = s.win[i];
            let fw = &s.samples[a..b];
            let hw = s.hist_window(i);
            if fw.len() + hw.len() < 2 {
                continue;
            }
            // The last two samples of either kind, oldest first.
            let mut last: Vec<super::TimedValue> = fw[fw.len().saturating_sub(2)..]
                .iter()
                .map(|&(t, v)| (t, Some(v), None))
                .chain(
                    hw[hw.len().saturating_sub(2)..]
                        .iter()
                        .map(|(t, h)| (*t, None, Some(h))),
                )
                .collect();
            last.sort_by_key(|p| p.0);
            let (p0, p1) = (last[last.len() - 2], last[last.len() - 1]);
            let dt = p1.0 - p0.0;
            if dt == 0 {
                continue;
            }
            match (p0, p1) {
                ((_, Some(x), _), (_, Some(y), _)) => {
                    let mut v = if is_rate && y < x { y } else { y - x };
                    if is_rate {
                        v /= dt as f64 / 1000.0;
                    }
                    st.vals[i] = Some(v);
                }
                ((_, _, Some(h0)), (_, _, Some(h1))) => {
                    let gauge =
                        |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
                    if is_rate && (gauge(h0) || gauge(h1)) {
                        note(&mut notes, HistogramNote::NotCounter);
                    }
                    if !is_rate && (!gauge(h0) || !gauge(h1)) {
                        note(&mut notes, HistogramNote::NotGauge);
                    }
                    let mut r = (**h1).clone();
                    let st_reset = s.hist_starts(i).is_some_and(|st| {
                        let n = st.len();
                        n >= 2 && super::start_time::is_reset(st[n - 2], p0.0, st[n - 1], p1.0)
                    });
                    if !is_rate || !(st_reset || h1.detect_reset(h0)) {
                        if r.bounds_differ(h0) {
                            note(&mut notes, HistogramNote::Reconciled("subtraction"));
                        }
                        match r.sub(h0) {
                            Ok((d, _)) => r = d,
                            Err(_) => {
                                note(&mut notes, HistogramNote::MixedLayouts);
                                continue;
                            }
                        }
                    }
                    r.counter_reset_hint = CounterResetHint::Gauge;
                    if is_rate {
                        r.div(dt as f64 / 1000.0);
                    }
                    st.hists[i] = Some(Arc::new(r));
                }
                _ => note(&mut notes, HistogramNote::MixedFloats),
            }
        }
        let metric = s.labels.name().unwrap_or("");
        if !notes.is_empty() {
            let pos = ev.pos_at(at);
            for n in notes {
                n.report(ev, metric, &pos);
            }
        }
        computed.push(st);
    }
    // A series with histograms is answered here, in place of what the float pass made of it (one pass, not
    // one per series).
    let replaced: std::collections::HashSet<&crate::series::Labels> =
        computed.iter().map(|st| &st.labels).collect();
    out.retain(|o| !replaced.contains(&o.labels));
    out.extend(computed.into_iter().filter(StepSeries::any));
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

pub(crate) fn eval(
    ev: &mut dyn Context,
    name: &str,
    arg: &Expr,
    ts: &[i64],
) -> Result<Val, EvalError> {
    let ra = arg_range(ev, arg, ts)?;
    let at = arg.span().start;
    let out = match name {
        "rate" | "increase" => {
            let is_rate = name == "rate";
            let out = windows_extrapolated(ev, &ra, true, is_rate, at);
            for s in &ra.series {
                // Histogram samples are counters by their hint, not by their name.
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
        "delta" => windows_extrapolated(ev, &ra, false, false, at),
        "irate" | "idelta" => {
            let is_rate = name == "irate";
            let out = map_windows_with_starts(ev, &ra, false, |w, sts, _| match sts {
                Some(sts) if w.len() >= 2 => {
                    let n = w.len();
                    super::start_time::instant(
                        [w[n - 2], w[n - 1]],
                        [sts[n - 2], sts[n - 1]],
                        is_rate,
                    )
                }
                _ => instant(w, is_rate),
            });
            instant_histograms(ev, &ra, out, is_rate, at)
        }
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
