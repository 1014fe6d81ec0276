//! Native histograms (issue #15, first part): Prometheus's float histogram as a value, its notation in test
//! files (`{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3
//! n_buckets:[4.1 5] n_offset:-5 counter_reset_hint:gauge}}`, and the expanding forms `{{h}}xN`,
//! `{{a}}+{{b}}xN`, `{{a}}-{{b}}xN`), and addition and subtraction as `FloatHistogram.Add` / `Sub` define them
//! (schema reduction to the coarser schema, zero buckets reconciled to the wider threshold, counter-reset
//! hints combined). The store keeps histogram samples beside floats and the fixture loaders read them; the
//! engine does not evaluate them yet.
//!
//! Buckets are kept dense: from the first index that has a bucket, one count per index (Prometheus keeps
//! spans of populated indexes and deltas; the two hold the same buckets, with explicit zeros in the gaps).
//! Exponential schemas are -4..8: bucket `i` covers `(2^((i-1)/2^schema), 2^(i/2^schema)]`, negative buckets
//! the mirror image. Schema -53 holds custom bucket bounds (`custom_values`, NHCB), positive buckets only.
//!
//! Custom-bucket histograms with different bounds add over the bounds both have, as Prometheus does
//! ([`FloatHistogram::bounds_differ`] tells callers when to say so). Left: exact bounds for schemas above 0
//! (computed with `powf` here, where Prometheus reads a table; only the zero-bucket reconciliation of such
//! schemas uses them).

use std::fmt;

/// The schema of histograms with custom bucket bounds.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Prometheus's counter-reset hint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterResetHint {
    #[default]
    Unknown,
    CounterReset,
    NotCounterReset,
    Gauge,
}

/// Consecutive bucket counts from index `offset` on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets {
    pub offset: i32,
    pub counts: Vec<f64>,
}

impl Buckets {
    /// (index, count) of every bucket.
    pub fn iter(&self) -> impl Iterator<Item = (i32, f64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .map(|(k, &c)| (self.offset + k as i32, c))
    }

    /// Adds `count` at bucket `idx`, growing the range as needed.
    fn add_at(&mut self, idx: i32, count: f64) {
        if self.counts.is_empty() {
            self.offset = idx;
            self.counts.push(count);
            return;
        }
        if idx < self.offset {
            let grow = (self.offset - idx) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0.0, grow));
            self.offset = idx;
        }
        let k = (idx - self.offset) as usize;
        if k >= self.counts.len() {
            self.counts.resize(k + 1, 0.0);
        }
        self.counts[k] += count;
    }
}

/// A float histogram, as Prometheus's `histogram.FloatHistogram`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatHistogram {
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive: Buckets,
    pub negative: Buckets,
    /// Bucket bounds of schema -53 (custom buckets).
    pub custom_values: Vec<f64>,
    pub counter_reset_hint: CounterResetHint,
}

/// One bucket with its bounds, as Prometheus's bucket iterators give them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub count: f64,
}

impl Bucket {
    /// The share of the bucket's observations below `v`, interpolated linearly or, for exponential buckets,
    /// on a logarithmic scale (`Bucket.FractionBelow`).
    pub fn fraction_below(&self, v: f64, linear: bool) -> f64 {
        if linear {
            return (v - self.lower) / (self.upper - self.lower);
        }
        let (lo, up, lv) = (
            self.lower.abs().log2(),
            self.upper.abs().log2(),
            v.abs().log2(),
        );
        if v > 0.0 {
            (lv - lo) / (up - lo)
        } else {
            1.0 - ((lv - up) / (lo - up))
        }
    }
}

/// The middle of what survives a trim (`computeMidpoint`).
fn trim_midpoint(lower: f64, upper: f64, positive: bool, linear: bool) -> f64 {
    if lower.is_infinite() {
        if upper.is_infinite() {
            return 0.0;
        }
        return if upper > 0.0 { upper / 2.0 } else { upper };
    }
    if upper.is_infinite() {
        return lower;
    }
    if linear {
        return (lower + upper) / 2.0;
    }
    let g = (lower * upper).abs().sqrt();
    if positive {
        g
    } else {
        -g
    }
}

/// What an infinite bucket keeps of a trim at `rhs`, and the middle of it (`handleInfinityBuckets`).
fn trim_infinite(upper_trim: bool, b: &Bucket, rhs: f64) -> (f64, f64) {
    let zero_if_inf = |x: f64| if x.is_infinite() { 0.0 } else { x };
    if b.lower == f64::NEG_INFINITY {
        if upper_trim {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if rhs > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * rhs / b.upper, rhs / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, rhs);
            }
            return (0.0, zero_if_inf(b.upper));
        }
        if rhs <= b.lower {
            return (b.count, 0.0);
        }
        if rhs >= 0.0 && b.upper > rhs && b.upper.is_finite() {
            return (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0);
        }
        return (0.0, zero_if_inf(b.upper));
    }
    // Upper bound +Inf.
    if upper_trim {
        return (0.0, zero_if_inf(b.lower));
    }
    if rhs >= b.lower {
        return (b.count, rhs);
    }
    (0.0, zero_if_inf(b.lower))
}

/// What a bucket straddling `rhs` keeps of a trim, and the middle of it (`computeBucketTrim`).
fn trim_bucket(b: &Bucket, rhs: f64, upper_trim: bool, positive: bool, custom: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return trim_infinite(upper_trim, b, rhs);
    }
    let under = if rhs <= b.lower {
        0.0
    } else if rhs >= b.upper {
        b.count
    } else {
        b.count * b.fraction_below(rhs, custom)
    };
    if upper_trim {
        (under, trim_midpoint(b.lower, rhs, positive, custom))
    } else {
        (
            b.count - under,
            trim_midpoint(rhs, b.upper, positive, custom),
        )
    }
}

/// An error combining histograms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistogramError(pub String);

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The upper bound of exponential bucket `idx` at `schema` (`getBoundExponential`).
pub fn exponential_bound(idx: i32, schema: i32) -> f64 {
    if schema <= 0 {
        // 2^(idx * 2^-schema), exact.
        let exp = i64::from(idx) << (-schema);
        if exp > 1024 {
            return f64::INFINITY;
        }
        if exp < -1074 {
            return 0.0;
        }
        2f64.powi(exp as i32)
    } else {
        2f64.powf(f64::from(idx) / f64::from(1 << schema))
    }
}

/// The bucket index at `to` that bucket `idx` at the finer schema `from` falls in (`targetIdx`).
pub(super) fn target_idx(idx: i32, from: i32, to: i32) -> i32 {
    ((idx - 1) >> (from - to)) + 1
}

impl FloatHistogram {
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// Whether both have custom buckets with different bounds: adding or subtracting them reconciles the
    /// bounds, which Prometheus reports as an info.
    pub fn bounds_differ(&self, other: &FloatHistogram) -> bool {
        self.uses_custom_buckets()
            && other.uses_custom_buckets()
            && self.custom_values != other.custom_values
    }

    /// The custom bounds both histograms have.
    pub(super) fn common_bounds(&self, other: &FloatHistogram) -> Vec<f64> {
        self.custom_values
            .iter()
            .copied()
            .filter(|b| other.custom_values.contains(b))
            .collect()
    }

    /// This custom-bucket histogram's counts on the coarser `bounds` (a subset of its own): each bucket goes
    /// to the first bound at or above its own, past the last to the +Inf bucket.
    fn on_bounds(&self, bounds: &[f64]) -> Vec<f64> {
        let mut counts = vec![0.0; bounds.len() + 1];
        for (i, c) in self.positive.iter() {
            counts[self.slot_on_bounds(i, bounds)] += c;
        }
        counts
    }

    /// Where this custom-bucket histogram's bucket `i` goes on the coarser `bounds`: the first bound at or
    /// above its own, past the last the +Inf bucket.
    pub(super) fn slot_on_bounds(&self, i: i32, bounds: &[f64]) -> usize {
        let own = usize::try_from(i)
            .ok()
            .and_then(|i| self.custom_values.get(i))
            .copied();
        match own {
            Some(b) => bounds.partition_point(|x| *x < b),
            None => bounds.len(),
        }
    }

    /// The upper bound of positive bucket `idx` (`getBound`): custom bounds, `-Inf` below the first,
    /// `+Inf` past the last; exponential bounds otherwise.
    pub fn bound(&self, idx: i32) -> f64 {
        if !self.uses_custom_buckets() {
            return exponential_bound(idx, self.schema);
        }
        let n = self.custom_values.len() as i32;
        match idx {
            i if i >= n => f64::INFINITY,
            i if i < 0 => f64::NEG_INFINITY,
            i => self.custom_values[i as usize],
        }
    }

    /// Every bucket in ascending order of its bounds, as `AllBucketIterator` gives them: the negative
    /// buckets from the most negative, the zero bucket when it holds observations, the positive buckets;
    /// bounds inside the zero bucket are moved to its edge. Empty buckets between populated ones included.
    pub fn all_buckets(&self) -> Vec<Bucket> {
        let zt = self.zero_threshold;
        let mut out =
            Vec::with_capacity(self.negative.counts.len() + self.positive.counts.len() + 1);
        for (i, c) in self.negative.iter().collect::<Vec<_>>().into_iter().rev() {
            let mut b = Bucket {
                lower: -self.bound(i),
                upper: -self.bound(i - 1),
                count: c,
            };
            if b.upper < 0.0 && b.upper > -zt {
                b.upper = -zt;
            }
            out.push(b);
        }
        if self.zero_count > 0.0 {
            out.push(Bucket {
                lower: -zt,
                upper: zt,
                count: self.zero_count,
            });
        }
        for (i, c) in self.positive.iter() {
            let mut b = Bucket {
                lower: self.bound(i - 1),
                upper: self.bound(i),
                count: c,
            };
            if b.lower > 0.0 && b.lower < zt {
                b.lower = zt;
            }
            out.push(b);
        }
        out
    }

    /// A copy at the coarser (or same) exponential `schema` (`CopyToSchema`).
    pub fn to_schema(&self, schema: i32) -> FloatHistogram {
        let mut h = self.clone();
        if self.uses_custom_buckets() || schema >= self.schema {
            return h;
        }
        h.positive = Self::reduced(&self.positive, self.schema, schema);
        h.negative = Self::reduced(&self.negative, self.schema, schema);
        h.schema = schema;
        h
    }

    /// Whether going from `previous` to this histogram is a counter reset (`DetectReset`): the hint says so,
    /// or the count, the zero bucket or any bucket (at this histogram's schema and above its zero bucket)
    /// went down, or the schema got finer, the zero bucket narrower, the kind of buckets changed. Custom
    /// buckets with different bounds are compared on the bounds both have.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            _ => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() != previous.uses_custom_buckets() {
            return true;
        }
        if self.bounds_differ(previous) {
            // A reset when any bucket went down on the bounds both have.
            let common = self.common_bounds(previous);
            return self
                .on_bounds(&common)
                .into_iter()
                .zip(previous.on_bounds(&common))
                .any(|(now, before)| now < before);
        }
        if !self.uses_custom_buckets() {
            if self.schema > previous.schema || self.zero_threshold < previous.zero_threshold {
                return true;
            }
            let (prev_zero, threshold, _) =
                previous.zero_count_for_larger_threshold(self.zero_threshold, None);
            if threshold != self.zero_threshold || self.zero_count < prev_zero {
                return true;
            }
        }
        let prev = previous.to_schema(self.schema);
        let above_zero = |i: i32| {
            self.uses_custom_buckets()
                || self.zero_threshold == 0.0
                || self.bound(i) > self.zero_threshold
        };
        for (cur, old) in [
            (&self.positive, &prev.positive),
            (&self.negative, &prev.negative),
        ] {
            for (i, c) in old.iter() {
                if c == 0.0 || !above_zero(i) {
                    continue;
                }
                let now = i
                    .checked_sub(cur.offset)
                    .and_then(|k| usize::try_from(k).ok())
                    .and_then(|k| cur.counts.get(k).copied());
                match now {
                    Some(n) if n >= c => {}
                    _ => return true,
                }
            }
        }
        false
    }

    /// Keeps the observations below `rhs` (`upper`: the `</` operator) or above it (`>/`), interpolating
    /// in the bucket that holds it; when anything was cut, count and sum are estimated again from what is
    /// left, each bucket's observations at its middle (`TrimBuckets`).
    pub fn trim(&mut self, rhs: f64, upper: bool) {
        let custom = self.uses_custom_buckets();
        let (mut count, mut sum, mut trimmed) = (0.0, 0.0, false);
        let (mut has_pos, mut has_neg) = (false, false);
        for positive in [true, false] {
            let (offset, n) = if positive {
                (self.positive.offset, self.positive.counts.len())
            } else {
                (self.negative.offset, self.negative.counts.len())
            };
            for k in 0..n {
                let idx = offset + k as i32;
                let c = if positive {
                    self.positive.counts[k]
                } else {
                    self.negative.counts[k]
                };
                if c == 0.0 {
                    continue;
                }
                let b = if positive {
                    has_pos = true;
                    Bucket {
                        lower: self.bound(idx - 1),
                        upper: self.bound(idx),
                        count: c,
                    }
                } else {
                    has_neg = true;
                    Bucket {
                        lower: -self.bound(idx),
                        upper: -self.bound(idx - 1),
                        count: c,
                    }
                };
                let (all_kept, straddles) = if upper {
                    (b.upper <= rhs, b.lower < rhs)
                } else {
                    (b.lower >= rhs, b.upper > rhs)
                };
                let new = if all_kept {
                    count += c;
                    sum += trim_midpoint(b.lower, b.upper, positive, custom) * c;
                    c
                } else if straddles {
                    let (keep, mid) = trim_bucket(&b, rhs, upper, positive, custom);
                    count += keep;
                    sum += mid * keep;
                    keep
                } else {
                    0.0
                };
                if new != c {
                    trimmed = true;
                    if positive {
                        self.positive.counts[k] = new;
                    } else {
                        self.negative.counts[k] = new;
                    }
                }
            }
        }
        if self.zero_count > 0.0 {
            let (mut lower, mut up) = (-self.zero_threshold, self.zero_threshold);
            if has_neg && !has_pos {
                up = 0.0;
            }
            if has_pos && !has_neg {
                lower = 0.0;
            }
            let (keep, mid) = if upper {
                if rhs <= lower {
                    (0.0, 0.0)
                } else if rhs >= up {
                    (self.zero_count, (lower + up) / 2.0)
                } else {
                    (
                        self.zero_count * (rhs - lower) / (up - lower),
                        (lower + rhs) / 2.0,
                    )
                }
            } else if rhs <= lower {
                (self.zero_count, (lower + up) / 2.0)
            } else if rhs >= up {
                (0.0, 0.0)
            } else {
                (
                    self.zero_count * (up - rhs) / (up - lower),
                    (rhs + up) / 2.0,
                )
            };
            if keep != self.zero_count {
                self.zero_count = keep;
                trimmed = true;
            }
            sum += mid * keep;
            count += keep;
        }
        if trimmed {
            self.count = count;
            self.sum = sum;
        }
    }

    /// Scales every count and the sum by `factor` (`Mul`); a negative factor makes the histogram a gauge.
    pub fn mul(&mut self, factor: f64) {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        for c in self
            .positive
            .counts
            .iter_mut()
            .chain(&mut self.negative.counts)
        {
            *c *= factor;
        }
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// Divides every count and the sum by `scalar` (`Div`): dividing by zero drops the buckets.
    pub fn div(&mut self, scalar: f64) {
        self.zero_count /= scalar;
        self.count /= scalar;
        self.sum /= scalar;
        if scalar == 0.0 {
            self.positive = Buckets::default();
            self.negative = Buckets::default();
            return;
        }
        for c in self
            .positive
            .counts
            .iter_mut()
            .chain(&mut self.negative.counts)
        {
            *c /= scalar;
        }
        if scalar < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// The histogram as Prometheus's `FloatHistogram.String` writes it (what `{{ $value }}` prints):
    /// `{count:4, sum:10, [-2,-1):1, [-0.001,0.001]:1, (1,2]:2}`, populated buckets only, negative ones
    /// from the lowest.
    pub fn go_string(&self) -> String {
        use crate::text::gofmt::format_float_v as g;
        let mut out = format!("{{count:{}, sum:{}", g(self.count), g(self.sum));
        let custom = self.uses_custom_buckets();
        let bucket = |out: &mut String, lower: f64, upper: f64, idx: i32, c: f64| {
            let (li, ui) = if custom {
                (idx == 0, true)
            } else {
                (lower < 0.0, upper > 0.0)
            };
            out.push_str(&format!(
                ", {}{},{}{}:{}",
                if li { '[' } else { '(' },
                g(lower),
                g(upper),
                if ui { ']' } else { ')' },
                g(c)
            ));
        };
        for (i, c) in self.negative.iter().collect::<Vec<_>>().into_iter().rev() {
            if c != 0.0 {
                bucket(&mut out, -self.bound(i), -self.bound(i - 1), i, c);
            }
        }
        if self.zero_count != 0.0 && !custom {
            out.push_str(&format!(
                ", [{},{}]:{}",
                g(-self.zero_threshold),
                g(self.zero_threshold),
                g(self.zero_count)
            ));
        }
        for (i, c) in self.positive.iter() {
            if c != 0.0 {
                bucket(&mut out, self.bound(i - 1), self.bound(i), i, c);
            }
        }
        out.push('}');
        out
    }

    /// The histogram in the test notation as Prometheus writes it (`TestExpression`, what promtool compares
    /// `exp_samples` `histogram:` by): zero fields left out, one run of buckets per side without empty
    /// buckets at either end, the hint unless unknown.
    pub fn test_expression(&self) -> String {
        use crate::text::gofmt::format_float_v as g;
        let mut parts: Vec<String> = Vec::new();
        if self.schema != 0 {
            parts.push(format!("schema:{}", self.schema));
        }
        for (key, v) in [
            ("count", self.count),
            ("sum", self.sum),
            ("z_bucket", self.zero_count),
            ("z_bucket_w", self.zero_threshold),
        ] {
            if v != 0.0 {
                parts.push(format!("{key}:{}", g(v)));
            }
        }
        if self.uses_custom_buckets() {
            let cv: Vec<String> = self.custom_values.iter().map(|v| g(*v)).collect();
            parts.push(format!("custom_values:[{}]", cv.join(" ")));
        }
        match self.counter_reset_hint {
            CounterResetHint::Unknown => {}
            CounterResetHint::CounterReset => parts.push("counter_reset_hint:reset".into()),
            CounterResetHint::NotCounterReset => parts.push("counter_reset_hint:not_reset".into()),
            CounterResetHint::Gauge => parts.push("counter_reset_hint:gauge".into()),
        }
        for (b, buckets_key, offset_key) in [
            (&self.positive, "buckets", "offset"),
            (&self.negative, "n_buckets", "n_offset"),
        ] {
            let Some(first) = b.counts.iter().position(|c| *c != 0.0) else {
                continue;
            };
            let last = b.counts.iter().rposition(|c| *c != 0.0).unwrap_or(first);
            let offset = b.offset + first as i32;
            if offset != 0 {
                parts.push(format!("{offset_key}:{offset}"));
            }
            let counts: Vec<String> = b.counts[first..=last].iter().map(|c| g(*c)).collect();
            parts.push(format!("{buckets_key}:[{}]", counts.join(" ")));
        }
        format!("{{{{{}}}}}", parts.join(" "))
    }

    /// Whether the two hold the same buckets, as Prometheus's test framework compares them after
    /// `Compact(0)`: schema, zero threshold and custom bounds equal; count, sum, zero count and each
    /// populated bucket (empty buckets do not count) equal within `close`; the counter-reset hint only when
    /// `with_hint`.
    pub fn matches(
        &self,
        other: &FloatHistogram,
        with_hint: bool,
        close: impl Fn(f64, f64) -> bool,
    ) -> bool {
        let populated =
            |b: &Buckets| -> Vec<(i32, f64)> { b.iter().filter(|(_, c)| *c != 0.0).collect() };
        let same_buckets = |a: &Buckets, b: &Buckets| {
            let (a, b) = (populated(a), populated(b));
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && close(x.1, y.1))
        };
        self.schema == other.schema
            && close(self.count, other.count)
            && close(self.sum, other.sum)
            && (!self.uses_custom_buckets() || self.custom_values == other.custom_values)
            && self.zero_threshold == other.zero_threshold
            && close(self.zero_count, other.zero_count)
            && same_buckets(&self.negative, &other.negative)
            && same_buckets(&self.positive, &other.positive)
            && (!with_hint || self.counter_reset_hint == other.counter_reset_hint)
    }

    /// The buckets at the coarser `schema`.
    fn reduced(b: &Buckets, from: i32, to: i32) -> Buckets {
        let mut out = Buckets::default();
        for (i, c) in b.iter() {
            out.add_at(target_idx(i, from, to), c);
        }
        out
    }

    /// The zero count (and threshold, widened to a populated bucket's bound when `larger` falls inside it)
    /// this histogram has with a zero bucket at least `larger` wide, summed with Kahan's compensation, and
    /// the compensation of that count: starting from `comp`'s zero count and adding its compensations of the
    /// merged buckets when given (`zeroCountForLargerThreshold`; `comp` has this histogram's layout).
    fn zero_count_for_larger_threshold(
        &self,
        mut larger: f64,
        comp: Option<&FloatHistogram>,
    ) -> (f64, f64, f64) {
        let comp_zero = comp.map_or(0.0, |c| c.zero_count);
        if larger == self.zero_threshold {
            return (self.zero_count, larger, comp_zero);
        }
        let comp_at = |b: fn(&FloatHistogram) -> &Buckets, k: usize| {
            comp.and_then(|c| b(c).counts.get(k)).copied()
        };
        'outer: loop {
            let (mut count, mut c_count) = (self.zero_count, comp_zero);
            for (k, (i, c)) in self.positive.iter().enumerate() {
                let (lower, upper) = (
                    exponential_bound(i - 1, self.schema),
                    exponential_bound(i, self.schema),
                );
                if lower >= larger {
                    break;
                }
                (count, c_count) = super::kahan::inc(c, count, c_count);
                if let Some(cc) = comp_at(|h| &h.positive, k) {
                    (count, c_count) = super::kahan::inc(cc, count, c_count);
                }
                if upper > larger {
                    if c != 0.0 {
                        larger = upper;
                    }
                    break;
                }
            }
            for (k, (i, c)) in self.negative.iter().enumerate() {
                let (lower, upper) = (
                    -exponential_bound(i, self.schema),
                    -exponential_bound(i - 1, self.schema),
                );
                if upper <= -larger {
                    break;
                }
                (count, c_count) = super::kahan::inc(c, count, c_count);
                if let Some(cc) = comp_at(|h| &h.negative, k) {
                    (count, c_count) = super::kahan::inc(cc, count, c_count);
                }
                if lower < -larger {
                    if c != 0.0 {
                        larger = -lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (count, larger, c_count);
        }
    }

    /// Empties the buckets now inside the zero bucket, and the same buckets of the compensation `comp`
    /// (`trimBucketsInZeroBucket`).
    fn trim_buckets_in_zero_bucket(&mut self, mut comp: Option<&mut FloatHistogram>) {
        // A bucket is inside when its bound nearer zero is below the threshold (the same test for the
        // positive buckets' lower and the negative buckets' upper bound).
        let (schema, t) = (self.schema, self.zero_threshold);
        let inside = |b: &Buckets| {
            (0..b.counts.len())
                .take_while(|&k| exponential_bound(b.offset + k as i32 - 1, schema) < t)
                .count()
        };
        for negative in [false, true] {
            let b = if negative {
                &mut self.negative
            } else {
                &mut self.positive
            };
            let n = inside(b);
            b.counts[..n].fill(0.0);
            if let Some(c) = comp.as_deref_mut() {
                let cb = if negative {
                    &mut c.negative
                } else {
                    &mut c.positive
                };
                let n = n.min(cb.counts.len());
                cb.counts[..n].fill(0.0);
            }
        }
    }

    /// Makes the two zero buckets equally wide (the wider one wins); returns `other`'s zero count at that
    /// width and that count's Kahan compensation (`reconcileZeroBuckets`). `comp`, the compensation of this
    /// histogram in a Kahan sum, follows the change.
    pub(super) fn reconcile_zero_buckets(
        &mut self,
        other: &FloatHistogram,
        mut comp: Option<&mut FloatHistogram>,
    ) -> (f64, f64) {
        let (mut other_count, mut other_comp) = (other.zero_count, 0.0);
        let mut other_threshold = other.zero_threshold;
        while other_threshold != self.zero_threshold {
            if self.zero_threshold > other_threshold {
                (other_count, other_threshold, other_comp) =
                    other.zero_count_for_larger_threshold(self.zero_threshold, None);
            }
            if other_threshold > self.zero_threshold {
                let c_zero;
                (self.zero_count, self.zero_threshold, c_zero) =
                    self.zero_count_for_larger_threshold(other_threshold, comp.as_deref());
                if let Some(c) = comp.as_deref_mut() {
                    c.zero_count = c_zero;
                    c.zero_threshold = self.zero_threshold;
                }
                self.trim_buckets_in_zero_bucket(comp.as_deref_mut());
            }
        }
        (other_count, other_comp)
    }

    /// Combines the counter-reset hints as `adjustCounterReset` does; true on a collision of "reset" and "not
    /// reset" (Prometheus then warns).
    pub(super) fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        match (self.counter_reset_hint, other.counter_reset_hint) {
            (a, b) if a == b => false,
            (Gauge, _) | (Unknown, _) => false,
            (_, Gauge) => {
                self.counter_reset_hint = Gauge;
                false
            }
            (_, Unknown) => {
                self.counter_reset_hint = Unknown;
                false
            }
            _ => {
                self.counter_reset_hint = Unknown;
                true
            }
        }
    }

    /// Refuses to combine an exponential with a custom-bucket histogram (`checkSchemaAndBounds`).
    pub(super) fn check_schema_and_bounds(
        &self,
        other: &FloatHistogram,
    ) -> Result<(), HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError(
                "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas"
                    .into(),
            ));
        }
        Ok(())
    }

    /// `self + other` (`negate`: `self - other`), and whether the counter-reset hints collided.
    fn combine(
        &self,
        other: &FloatHistogram,
        negate: bool,
    ) -> Result<(FloatHistogram, bool), HistogramError> {
        self.check_schema_and_bounds(other)?;
        let sign = if negate { -1.0 } else { 1.0 };
        let mut h = self.clone();
        let collision = h.adjust_counter_reset(other);
        if !h.uses_custom_buckets() {
            let (z, _) = h.reconcile_zero_buckets(other, None);
            h.zero_count += sign * z;
        }
        h.count += sign * other.count;
        h.sum += sign * other.sum;
        let add =
            |into: &mut Buckets, from: &Buckets, schema: i32, threshold: f64, exponential: bool| {
                // `other`'s lowest buckets inside the zero bucket were counted there (`addBuckets`).
                let mut below = exponential;
                for (i, c) in from.iter() {
                    if below && exponential_bound(i, schema) <= threshold {
                        continue;
                    }
                    below = false;
                    into.add_at(i, sign * c);
                }
            };
        if h.uses_custom_buckets() {
            if h.custom_values != other.custom_values {
                // Prometheus adds over the bounds both have (`intersectCustomBucketBounds`).
                let common = self.common_bounds(other);
                let counts: Vec<f64> = self
                    .on_bounds(&common)
                    .into_iter()
                    .zip(other.on_bounds(&common))
                    .map(|(a, b)| a + sign * b)
                    .collect();
                h.custom_values = common;
                h.positive = Buckets { offset: 0, counts };
                return Ok((h, collision));
            }
            let mut pos = h.positive.clone();
            add(&mut pos, &other.positive, h.schema, h.zero_threshold, false);
            h.positive = pos;
            return Ok((h, collision));
        }
        let (mut op, mut on) = (other.positive.clone(), other.negative.clone());
        if other.schema < h.schema {
            h.positive = Self::reduced(&h.positive, h.schema, other.schema);
            h.negative = Self::reduced(&h.negative, h.schema, other.schema);
            h.schema = other.schema;
        } else if other.schema > h.schema {
            op = Self::reduced(&op, other.schema, h.schema);
            on = Self::reduced(&on, other.schema, h.schema);
        }
        let (schema, threshold) = (h.schema, h.zero_threshold);
        add(&mut h.positive, &op, schema, threshold, true);
        add(&mut h.negative, &on, schema, threshold, true);
        Ok((h, collision))
    }

    /// `self + other`, and whether the counter-reset hints collided.
    pub fn add(&self, other: &FloatHistogram) -> Result<(FloatHistogram, bool), HistogramError> {
        self.combine(other, false)
    }

    /// `self - other`, and whether the counter-reset hints collided.
    pub fn sub(&self, other: &FloatHistogram) -> Result<(FloatHistogram, bool), HistogramError> {
        self.combine(other, true)
    }
}

/// A histogram of the notation, and whether it set `counter_reset_hint` itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Described {
    pub histogram: FloatHistogram,
    pub hint_set: bool,
}

/// Reads one `{{...}}` description (the braces included), as Prometheus's series parser builds it
/// (`buildHistogramFromMap`): bucket lists are absolute counts, `offset` the first bucket's index.
pub fn parse_description(text: &str) -> Result<Described, String> {
    let inner = text
        .trim()
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        .ok_or_else(|| format!("a histogram is written {{{{...}}}}, found {text:?}"))?;
    let mut h = FloatHistogram::default();
    let mut hint_set = false;
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once(':').ok_or_else(|| {
            format!("histogram description key expected, e.g. buckets:[5 10 7], found {rest:?}")
        })?;
        let key = key.trim();
        let after = after.trim_start();
        let (value, tail) = if after.starts_with('[') {
            let end = after
                .find(']')
                .ok_or_else(|| format!("unclosed list after {key}:"))?;
            (&after[..=end], &after[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        rest = tail.trim_start();
        let number = |v: &str| {
            super::number::parse_number(v).ok_or_else(|| format!("error parsing {key} number: {v}"))
        };
        let list = |v: &str| -> Result<Vec<f64>, String> {
            v.trim_start_matches('[')
                .trim_end_matches(']')
                .split_whitespace()
                .map(|x| {
                    super::number::parse_number(x)
                        .ok_or_else(|| format!("error parsing {key} float array: {x}"))
                })
                .collect()
        };
        let int = |v: &str| {
            v.parse::<i32>()
                .map_err(|_| format!("error parsing {key} number: {v}"))
        };
        match key {
            "schema" => h.schema = int(value)?,
            "sum" => h.sum = number(value)?,
            "count" => h.count = number(value)?,
            "z_bucket" => h.zero_count = number(value)?,
            "z_bucket_w" => h.zero_threshold = number(value)?,
            "custom_values" => h.custom_values = list(value)?,
            "buckets" => pos = list(value)?,
            "n_buckets" => neg = list(value)?,
            "offset" => offset = int(value)?,
            "n_offset" => n_offset = int(value)?,
            "counter_reset_hint" => {
                hint_set = true;
                h.counter_reset_hint = match value {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    other => {
                        return Err(format!(
                            "error parsing counter_reset_hint: unknown value {other}"
                        ))
                    }
                };
            }
            other => return Err(format!("unexpected histogram description key {other:?}")),
        }
    }
    if !pos.is_empty() {
        h.positive = Buckets {
            offset,
            counts: pos,
        };
    }
    if !neg.is_empty() {
        h.negative = Buckets {
            offset: n_offset,
            counts: neg,
        };
    }
    Ok(Described {
        histogram: h,
        hint_set,
    })
}

/// Reads one item of a value sequence that holds histograms: `{{h}}`, `{{h}}xN` (N+1 times), `{{a}}+{{b}}xN`
/// or `{{a}}-{{b}}xN` (a, then b added or subtracted N times; `histogramsSeries`).
pub fn parse_sequence_item(tok: &str) -> Result<Vec<Described>, String> {
    let tok = tok.trim();
    let first_end = tok
        .find("}}")
        .map(|p| p + 2)
        .ok_or_else(|| format!("a histogram is written {{{{...}}}}, found {tok:?}"))?;
    let base = parse_description(&tok[..first_end])?;
    let rest = &tok[first_end..];
    if rest.is_empty() {
        return Ok(vec![base]);
    }
    let count = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("invalid repetition count {s:?}"))
    };
    if let Some(n) = rest.strip_prefix('x') {
        let n = count(n)?;
        return Ok(std::iter::repeat_n(base, n as usize + 1).collect());
    }
    let (negate, tail) = match rest.as_bytes()[0] {
        b'+' => (false, &rest[1..]),
        b'-' => (true, &rest[1..]),
        _ => return Err(format!("unexpected {rest:?} after a histogram")),
    };
    let inc_end = tail
        .find("}}")
        .map(|p| p + 2)
        .ok_or_else(|| format!("a histogram is written {{{{...}}}}, found {tail:?}"))?;
    let inc = parse_description(&tail[..inc_end])?;
    let n = count(
        tail[inc_end..]
            .strip_prefix('x')
            .ok_or_else(|| format!("expected xN after {tok:?}"))?,
    )?;
    // Every value takes the hint flag of the increment, as Prometheus captures it after parsing it.
    let hint_set = inc.hint_set;
    let mut out = vec![Described {
        histogram: base.histogram.clone(),
        hint_set,
    }];
    let mut cur = base.histogram;
    for _ in 0..n {
        if cur.schema > inc.histogram.schema {
            return Err(format!(
                "error combining histograms: cannot merge from schema {} to {}",
                inc.histogram.schema, cur.schema
            ));
        }
        cur = if negate {
            cur.sub(&inc.histogram)
        } else {
            cur.add(&inc.histogram)
        }
        .map_err(|e| e.to_string())?
        .0;
        out.push(Described {
            histogram: cur.clone(),
            hint_set,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_prometheus_writes_it() {
        let x = h(
            "{{schema:0 sum:10 count:6 z_bucket:1 z_bucket_w:0.001 buckets:[1 0 2] n_buckets:[1]}}",
        );
        assert_eq!(
            x.go_string(),
            "{count:6, sum:10, [-1,-0.5):1, [-0.001,0.001]:1, (0.5,1]:1, (2,4]:2}"
        );
        let c = h("{{schema:-53 sum:3 count:3 custom_values:[1 5] buckets:[1 1 1]}}");
        assert_eq!(
            c.go_string(),
            "{count:3, sum:3, [-Inf,1]:1, (1,5]:1, (5,+Inf]:1}"
        );
    }

    #[test]
    fn test_expressions_round_trip() {
        for text in [
            "{{schema:1 count:32.1 sum:-0.3 z_bucket:7.1 z_bucket_w:0.05 offset:-3 buckets:[5.1 10 7] n_offset:-5 n_buckets:[4.1 5]}}",
            "{{count:2 sum:3 counter_reset_hint:not_reset buckets:[2]}}",
            "{{schema:-53 count:3 custom_values:[1 5] buckets:[1 1 1]}}",
            "{{}}",
        ] {
            assert_eq!(h(text).test_expression(), text);
        }
        // Empty buckets at either end are dropped, the offset moves with them.
        assert_eq!(
            h("{{count:1 offset:-1 buckets:[0 1 0]}}").test_expression(),
            "{{count:1 buckets:[1]}}"
        );
    }

    #[test]
    fn custom_buckets_with_different_bounds_add_over_the_common_bounds() {
        let a = h("{{schema:-53 sum:1 count:6 custom_values:[1 2 5] buckets:[1 2 3 0]}}");
        let b = h("{{schema:-53 sum:1 count:4 custom_values:[2 10] buckets:[1 2 1]}}");
        assert!(a.bounds_differ(&b));
        let (s, _) = a.add(&b).unwrap();
        assert_eq!(s.custom_values, vec![2.0]);
        // a: (..1] and (1,2] go to (..2], (2,5] to +Inf; b: (..2] to (..2], (2,10] and +Inf to +Inf.
        assert_eq!(s.positive.counts, vec![4.0, 6.0]);
        assert_eq!(s.count, 10.0);
        let (d, _) = a.sub(&b).unwrap();
        assert_eq!(d.positive.counts, vec![2.0, 0.0]);
    }

    #[test]
    fn trimming_keeps_one_side_and_estimates_count_and_sum_again() {
        let x = h("{{schema:0 count:8 sum:20 offset:1 buckets:[4 4]}}");
        let mut below = x.clone();
        below.trim(2.0, true);
        assert_eq!(below.count, 4.0);
        assert!((below.sum - 4.0 * 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(below.positive.counts, vec![4.0, 0.0]);
        let mut above = x.clone();
        above.trim(2.0, false);
        assert_eq!(above.count, 4.0);
        assert!((above.sum - 4.0 * 8f64.sqrt()).abs() < 1e-12);
        // Halfway (on a log scale) into (2,4]: half its observations stay.
        let mut mid = x.clone();
        mid.trim(8f64.sqrt(), true);
        assert!((mid.count - 6.0).abs() < 1e-12);
        // Nothing cut: count and sum stay as they were.
        let mut all = x.clone();
        all.trim(4.0, true);
        assert_eq!((all.count, all.sum), (8.0, 20.0));
    }

    #[test]
    fn scaling_and_dividing() {
        let mut x = h("{{schema:0 sum:10 count:6 z_bucket:1 buckets:[1 0 2]}}");
        x.mul(-2.0);
        assert_eq!((x.count, x.sum, x.zero_count), (-12.0, -20.0, -2.0));
        assert_eq!(x.positive.counts, vec![-2.0, 0.0, -4.0]);
        assert_eq!(x.counter_reset_hint, CounterResetHint::Gauge);
        x.div(0.0);
        assert!(x.positive.counts.is_empty());
        assert_eq!(x.count, f64::NEG_INFINITY);
    }

    #[test]
    fn matching_ignores_empty_buckets_and_unasked_hints() {
        let a = h("{{schema:0 sum:1 count:1 buckets:[0 1 0]}}");
        let b = h("{{schema:0 sum:1 count:1 offset:1 buckets:[1] counter_reset_hint:gauge}}");
        let eq = |x: f64, y: f64| x == y;
        assert!(a.matches(&b, false, eq));
        assert!(!a.matches(&b, true, eq));
        let c = h("{{schema:0 sum:1 count:1 offset:2 buckets:[1]}}");
        assert!(!a.matches(&c, false, eq));
    }

    fn h(text: &str) -> FloatHistogram {
        parse_description(text).unwrap().histogram
    }

    #[test]
    fn the_description_reads_every_key() {
        let d = parse_description("{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5 counter_reset_hint:gauge}}").unwrap();
        assert!(d.hint_set);
        let x = d.histogram;
        assert_eq!((x.schema, x.sum, x.count), (1, -0.3, 32.1));
        assert_eq!((x.zero_count, x.zero_threshold), (7.1, 0.05));
        assert_eq!(
            x.positive,
            Buckets {
                offset: -3,
                counts: vec![5.1, 10.0, 7.0]
            }
        );
        assert_eq!(
            x.negative,
            Buckets {
                offset: -5,
                counts: vec![4.1, 5.0]
            }
        );
        assert_eq!(x.counter_reset_hint, CounterResetHint::Gauge);
        let nhcb = h("{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}");
        assert!(nhcb.uses_custom_buckets());
        assert_eq!(nhcb.custom_values, vec![5.0, 10.0]);
        assert_eq!(h("{{}}"), FloatHistogram::default());
        assert!(!parse_description("{{}}").unwrap().hint_set);
        assert_eq!(
            parse_description("{{schema:0 colour:red}}").unwrap_err(),
            "unexpected histogram description key \"colour\""
        );
        assert!(parse_description("{{counter_reset_hint:sometimes}}").is_err());
    }

    #[test]
    fn expanding_forms_add_and_subtract() {
        let v = parse_sequence_item("{{schema:0 sum:0 count:0 buckets:[0 0 0]}}+{{schema:0 sum:1 count:2 buckets:[1 1 1]}}x5").unwrap();
        assert_eq!(v.len(), 6);
        let last = &v[5].histogram;
        assert_eq!((last.sum, last.count), (5.0, 10.0));
        assert_eq!(last.positive.counts, vec![5.0, 5.0, 5.0]);
        let rep = parse_sequence_item("{{sum:2 count:2}}x3").unwrap();
        assert_eq!(rep.len(), 4);
        let down =
            parse_sequence_item("{{sum:10 count:10 buckets:[10]}}-{{sum:1 count:1 buckets:[1]}}x2")
                .unwrap();
        assert_eq!(down[2].histogram.positive.counts, vec![8.0]);
        assert!(parse_sequence_item("{{schema:1}}+{{schema:0}}x2")
            .unwrap_err()
            .contains("cannot merge from schema 0 to 1"));
    }

    #[test]
    fn adding_a_coarser_histogram_reduces_the_schema() {
        // Schema 1 buckets 1..4 merge pairwise into schema 0 buckets 1 and 2 (targetIdx).
        let fine = h("{{schema:1 count:10 sum:10 buckets:[1 2 3 4] offset:1}}");
        let coarse = h("{{schema:0 count:1 sum:1 buckets:[1] offset:1}}");
        let (sum, collision) = fine.add(&coarse).unwrap();
        assert!(!collision);
        assert_eq!(sum.schema, 0);
        assert_eq!(
            sum.positive,
            Buckets {
                offset: 1,
                counts: vec![4.0, 7.0]
            }
        );
        assert_eq!((sum.count, sum.sum), (11.0, 11.0));
        // The other way round, the receiver keeps the coarser schema.
        let (sum2, _) = coarse.add(&fine).unwrap();
        assert_eq!(sum2.schema, 0);
        assert_eq!(sum2.positive, sum.positive);
    }

    #[test]
    fn a_wider_zero_bucket_takes_in_the_buckets_below_it() {
        // Schema 0: bucket 0 is (0.5, 1], bucket 1 is (1, 2]. A zero bucket 1 wide takes in bucket 0.
        let narrow = h("{{schema:0 count:5 z_bucket:1 z_bucket_w:0.5 buckets:[2 2] offset:0}}");
        let wide = h("{{schema:0 count:1 z_bucket:1 z_bucket_w:1}}");
        let (sum, _) = narrow.add(&wide).unwrap();
        assert_eq!((sum.zero_threshold, sum.zero_count), (1.0, 4.0));
        assert_eq!(
            sum.positive
                .iter()
                .filter(|&(_, c)| c != 0.0)
                .collect::<Vec<_>>(),
            vec![(1, 2.0)]
        );
        assert_eq!(sum.count, 6.0);
    }

    #[test]
    fn counter_reset_hints_combine_as_prometheus_does() {
        let gauge = h("{{counter_reset_hint:gauge}}");
        let reset = h("{{counter_reset_hint:reset}}");
        let not_reset = h("{{counter_reset_hint:not_reset}}");
        assert_eq!(
            reset.add(&gauge).unwrap().0.counter_reset_hint,
            CounterResetHint::Gauge
        );
        let (x, collision) = reset.add(&not_reset).unwrap();
        assert!(collision);
        assert_eq!(x.counter_reset_hint, CounterResetHint::Unknown);
        let nhcb = h("{{schema:-53 custom_values:[1]}}");
        assert!(nhcb.add(&gauge).is_err());
    }

    #[test]
    fn exponential_bounds() {
        assert_eq!(exponential_bound(1, 0), 2.0);
        assert_eq!(exponential_bound(0, 0), 1.0);
        assert_eq!(exponential_bound(-1, 0), 0.5);
        assert_eq!(exponential_bound(1, -2), 16.0);
        assert!((exponential_bound(1, 1) - std::f64::consts::SQRT_2).abs() < 1e-15);
        assert_eq!(exponential_bound(2000, -4), f64::INFINITY);
    }
}
