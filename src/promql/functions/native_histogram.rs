//! What PromQL's histogram functions compute from one native histogram: `histogram_quantile` and
//! `histogram_fraction` (Prometheus's `HistogramQuantile` / `HistogramFraction`: exponential interpolation in
//! exponential buckets, linear in custom buckets and the zero bucket), `histogram_count`, `_sum`, `_avg`,
//! `_stddev` and `_stdvar`. The engine-facing side (grouping, classic buckets, annotations' positions) is in
//! `histogram.rs`.

use super::kahan_sum_inc;
use crate::series::histogram::{Bucket, FloatHistogram};

/// What a quantile or fraction found about NaN observations (Prometheus reports them as infos).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NanNote {
    None,
    /// The quantile lies above every bucket: the result is NaN.
    QuantileNan,
    /// NaN observations push the quantile higher.
    QuantileSkew,
    /// NaN observations are left out of every fraction.
    FractionExcludes,
}

/// `HistogramQuantile`.
pub(crate) fn quantile(q: f64, h: &FloatHistogram) -> (f64, NanNote) {
    if q < 0.0 {
        return (f64::NEG_INFINITY, NanNote::None);
    }
    if q > 1.0 {
        return (f64::INFINITY, NanNote::None);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, NanNote::None);
    }
    let mut buckets = h.all_buckets();
    // NaN observations (sum NaN) make Prometheus walk upwards; otherwise the upper half walks down.
    let forward = h.sum.is_nan() || q < 0.5;
    if !forward {
        buckets.reverse();
    }
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    let mut at = 0;
    let mut bucket = Bucket {
        lower: 0.0,
        upper: 0.0,
        count: 0.0,
    };
    while at < buckets.len() {
        bucket = buckets[at];
        at += 1;
        if bucket.count == 0.0 {
            continue;
        }
        count += bucket.count;
        if count >= rank {
            break;
        }
    }
    let custom = h.uses_custom_buckets();
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative.counts.is_empty() && !h.positive.counts.is_empty() {
            bucket.lower = 0.0;
        } else if h.positive.counts.is_empty() && !h.negative.counts.is_empty() {
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return (bucket.upper, NanNote::None);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return (bucket.lower, NanNote::None);
        }
    }
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        if h.sum.is_nan() {
            return (f64::NAN, NanNote::QuantileNan);
        }
        return (bucket.upper, NanNote::None);
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    let mut note = NanNote::None;
    if h.sum.is_nan() {
        let rest: f64 = buckets[at..].iter().map(|b| b.count).sum();
        if count + rest < h.count {
            note = NanNote::QuantileSkew;
        }
    }
    let fraction = rank / bucket.count;
    if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return (
            bucket.lower + (bucket.upper - bucket.lower) * fraction,
            note,
        );
    }
    let log_lower = bucket.lower.abs().log2();
    let log_upper = bucket.upper.abs().log2();
    if bucket.lower > 0.0 {
        return (
            (log_lower + (log_upper - log_lower) * fraction).exp2(),
            note,
        );
    }
    (
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2(),
        note,
    )
}

/// `HistogramFraction`: the share of observations between `lower` and `upper`.
pub(crate) fn fraction(lower: f64, upper: f64, h: &FloatHistogram) -> (f64, NanNote) {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, NanNote::None);
    }
    if lower >= upper {
        return (0.0, NanNote::None);
    }
    let buckets = h.all_buckets();
    let custom = h.uses_custom_buckets();
    let (mut count, mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut at = 0;
    while at < buckets.len() {
        let mut b = buckets[at];
        at += 1;
        count += b.count;
        let mut zero_bucket = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero_bucket = true;
            if h.negative.counts.is_empty() && !h.positive.counts.is_empty() {
                b.lower = 0.0;
            } else if h.positive.counts.is_empty() && !h.negative.counts.is_empty() {
                b.upper = 0.0;
            }
        }
        let interpolate = |v: f64| {
            if custom || zero_bucket {
                if b.lower == f64::NEG_INFINITY {
                    return b.count;
                }
                rank + b.count * b.fraction_below(v, true)
            } else {
                rank + b.count * b.fraction_below(v, false)
            }
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += b.count;
    }
    let mut note = NanNote::None;
    if h.sum.is_nan() {
        count += buckets[at..].iter().map(|b| b.count).sum::<f64>();
        if count < h.count {
            note = NanNote::FractionExcludes;
        }
    } else {
        count = h.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    ((upper_rank - lower_rank) / h.count, note)
}

/// `histogramVariance`: the variance of the observations, each bucket's taken at its geometric mean
/// (arithmetic for custom buckets, zero in the zero bucket).
pub(crate) fn variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut var, mut c) = (0.0, 0.0);
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        let val = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 {
                -v
            } else {
                v
            }
        };
        let delta = val - mean;
        (var, c) = kahan_sum_inc(b.count * delta * delta, var, c);
    }
    (var + c) / h.count
}

/// `histogram_count`, `_sum`, `_avg`, `_stddev`, `_stdvar` of one histogram.
pub(crate) fn simple(name: &str, h: &FloatHistogram) -> f64 {
    match name {
        "histogram_count" => h.count,
        "histogram_sum" => h.sum,
        "histogram_avg" => h.sum / h.count,
        "histogram_stddev" => variance(h).sqrt(),
        _ => variance(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::histogram::parse_description;

    fn h(text: &str) -> FloatHistogram {
        parse_description(text).unwrap().histogram
    }

    #[test]
    fn quantiles_interpolate_exponentially_in_exponential_buckets() {
        // 4 observations in (1,2], 4 in (2,4]: the median is the top of (1,2].
        let x = h("{{schema:0 count:8 sum:20 offset:1 buckets:[4 4]}}");
        assert_eq!(quantile(0.5, &x).0, 2.0);
        // A quarter: halfway into (1,2] on a log scale, sqrt(2).
        assert!((quantile(0.25, &x).0 - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(quantile(1.5, &x).0, f64::INFINITY);
        assert!(quantile(0.5, &h("{{schema:0 count:0 sum:0}}")).0.is_nan());
    }

    #[test]
    fn quantiles_interpolate_linearly_in_custom_buckets() {
        let x = h("{{schema:-53 count:10 sum:30 custom_values:[2 4] buckets:[5 5]}}");
        assert_eq!(quantile(0.25, &x).0, 1.0);
        assert_eq!(quantile(0.75, &x).0, 3.0);
    }

    #[test]
    fn nan_observations_are_noted() {
        let x = h("{{schema:0 count:15 sum:NaN buckets:[12]}}");
        // Prometheus answers 0.7071067811865475; Go's Exp2 and Rust's may differ in the last bit.
        let (v, note) = quantile(0.4, &x);
        assert!((v - 0.7071067811865475).abs() < 1e-15);
        assert_eq!(note, NanNote::QuantileSkew);
        assert_eq!(quantile(0.81, &x).1, NanNote::QuantileNan);
        let (f, note) = fraction(f64::NEG_INFINITY, 0.7071067811865475, &x);
        assert!((f - 0.4).abs() < 1e-12);
        assert_eq!(note, NanNote::FractionExcludes);
    }

    #[test]
    fn fractions_are_the_inverse_of_quantiles() {
        let x = h("{{schema:0 count:8 sum:20 offset:1 buckets:[4 4]}}");
        assert!((fraction(f64::NEG_INFINITY, 2f64.sqrt(), &x).0 - 0.25).abs() < 1e-12);
        assert_eq!(fraction(1.0, 1.0, &x).0, 0.0);
        assert_eq!(fraction(f64::NEG_INFINITY, f64::INFINITY, &x).0, 1.0);
    }

    #[test]
    fn simple_functions() {
        let x = h("{{schema:-53 count:2 sum:4 custom_values:[2 4] buckets:[1 1]}}");
        assert_eq!(simple("histogram_count", &x), 2.0);
        assert_eq!(simple("histogram_avg", &x), 2.0);
        // Buckets at 1 (lower bound taken as 0) ... the first custom bucket reaches down to -Inf, so its
        // midpoint is -Inf and the variance infinite, as in Prometheus.
        assert!(simple("histogram_stdvar", &x).is_infinite());
    }
}
