//! Compensated (Kahan–Neumaier) summation of float histograms, as Prometheus 3 sums them in `sum`, `avg`,
//! `sum_over_time` and `avg_over_time` (`FloatHistogram.KahanAdd`); floats are summed by [`super::kahan`].
//!
//! A histogram sum carries a second histogram of the same layout, the compensation: for every count (zero
//! bucket, each bucket, count) and the sum, the low-order part lost when adding. The result is the running
//! sum plus its compensation. This matters where large and small observations meet: a sum of `1e100`,
//! `1`, `-1e100` is `1`, not `0`.
//!
//! Averages follow Prometheus's choice (prometheus#16714): sum directly while the running sum stays finite,
//! then switch to an incremental mean, so that averaging histograms near `f64::MAX` does not overflow.
//!
//! Example: `HistogramSum::new(first, true)`, then `add` for each further histogram, then `finish` gives
//! their mean.

use super::histogram::{exponential_bound, target_idx, Buckets, FloatHistogram, HistogramError};
use super::kahan::inc;

/// `b` and its compensation `c` (kept at `b`'s offset and length), with `v` and its compensation `cv` added
/// at bucket `idx`. A bucket new to `b` takes both as they are, as `kahanAddBuckets` inserts it.
fn add_at(b: &mut Buckets, c: &mut Buckets, idx: i32, v: f64, cv: f64) {
    if b.counts.is_empty() {
        b.offset = idx;
        c.offset = idx;
        b.counts.push(v);
        c.counts.clear();
        c.counts.push(cv);
        return;
    }
    if idx < b.offset {
        let grow = (b.offset - idx) as usize;
        b.counts.splice(0..0, std::iter::repeat_n(0.0, grow));
        c.counts.splice(0..0, std::iter::repeat_n(0.0, grow));
        b.offset = idx;
        c.offset = idx;
        b.counts[0] = v;
        c.counts[0] = cv;
        return;
    }
    let k = (idx - b.offset) as usize;
    if k >= b.counts.len() {
        b.counts.resize(k + 1, 0.0);
        c.counts.resize(k + 1, 0.0);
        b.counts[k] = v;
        c.counts[k] = cv;
        return;
    }
    (b.counts[k], c.counts[k]) = inc(v, b.counts[k], c.counts[k]);
    if cv != 0.0 {
        (b.counts[k], c.counts[k]) = inc(cv, b.counts[k], c.counts[k]);
    }
}

/// `c` laid out as `b`: same offset and length, counts outside `b`'s range dropped (as it is when it already
/// has that layout, the usual case).
fn aligned(c: Buckets, b: &Buckets) -> Buckets {
    if c.offset == b.offset && c.counts.len() == b.counts.len() {
        return c;
    }
    let mut counts = vec![0.0; b.counts.len()];
    for (i, v) in c.iter() {
        if let Some(slot) = usize::try_from(i - b.offset)
            .ok()
            .and_then(|k| counts.get_mut(k))
        {
            *slot = v;
        }
    }
    Buckets {
        offset: b.offset,
        counts,
    }
}

/// Buckets and their compensations at the coarser schema `to` (`kahanReduceResolution`): merged buckets
/// are summed with compensation.
fn reduced(b: &Buckets, c: &Buckets, from: i32, to: i32) -> (Buckets, Buckets) {
    let (mut out, mut out_c) = (Buckets::default(), Buckets::default());
    for (k, (i, v)) in b.iter().enumerate() {
        let cv = c.counts.get(k).copied().unwrap_or(0.0);
        let t = target_idx(i, from, to);
        let last = out.offset + out.counts.len() as i32 - 1;
        if !out.counts.is_empty() && t == last {
            let n = out.counts.len() - 1;
            (out.counts[n], out_c.counts[n]) = inc(v, out.counts[n], out_c.counts[n]);
            (out.counts[n], out_c.counts[n]) = inc(cv, out.counts[n], out_c.counts[n]);
        } else {
            add_at(&mut out, &mut out_c, t, v, cv);
        }
    }
    (out, out_c)
}

impl FloatHistogram {
    /// A compensation histogram for a Kahan sum starting at this one: its layout, every count zero
    /// (`newCompensationHistogram`).
    pub fn compensation(&self) -> FloatHistogram {
        let zeros = |b: &Buckets| Buckets {
            offset: b.offset,
            counts: vec![0.0; b.counts.len()],
        };
        FloatHistogram {
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: 0.0,
            count: 0.0,
            sum: 0.0,
            positive: zeros(&self.positive),
            negative: zeros(&self.negative),
            custom_values: self.custom_values.clone(),
            counter_reset_hint: self.counter_reset_hint,
        }
    }

    /// Whether any count, the sum or a bound is infinite (`HasOverflow`).
    pub fn has_overflow(&self) -> bool {
        [self.zero_count, self.count, self.sum]
            .iter()
            .chain(&self.positive.counts)
            .chain(&self.negative.counts)
            .chain(&self.custom_values)
            .any(|v| v.is_infinite())
    }

    /// Adds `other` in place with Kahan's compensation `comp` (a fresh one when `None`) and returns the
    /// updated compensation and whether custom bounds had to be reconciled (`KahanAdd`; a collision of
    /// counter-reset hints turns the hint to unknown, and callers that warn about it track the hints). Layouts reconcile
    /// as in [`FloatHistogram::add`]: the wider zero bucket, the coarser schema, the common custom bounds.
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        comp: Option<FloatHistogram>,
    ) -> Result<(FloatHistogram, bool), HistogramError> {
        self.check_schema_and_bounds(other)?;
        self.adjust_counter_reset(other);
        let reconciled = self.bounds_differ(other);
        let mut c = match comp {
            Some(mut c) => {
                c.positive = aligned(std::mem::take(&mut c.positive), &self.positive);
                c.negative = aligned(std::mem::take(&mut c.negative), &self.negative);
                c
            }
            None => self.compensation(),
        };
        if !self.uses_custom_buckets() {
            let (z, zc) = self.reconcile_zero_buckets(other, Some(&mut c));
            (self.zero_count, c.zero_count) = inc(z, self.zero_count, c.zero_count);
            (self.zero_count, c.zero_count) = inc(zc, self.zero_count, c.zero_count);
        }
        (self.count, c.count) = inc(other.count, self.count, c.count);
        (self.sum, c.sum) = inc(other.sum, self.sum, c.sum);
        if self.uses_custom_buckets() {
            if self.custom_values == other.custom_values {
                for (i, v) in other.positive.iter() {
                    add_at(&mut self.positive, &mut c.positive, i, v, 0.0);
                }
            } else {
                // Both map onto the bounds they have in common (`addCustomBucketsWithMismatches`).
                let common = self.common_bounds(other);
                let mut sums = vec![0.0; common.len() + 1];
                let mut comps = vec![0.0; common.len() + 1];
                for (k, (i, v)) in self.positive.iter().enumerate() {
                    let t = self.slot_on_bounds(i, &common);
                    (sums[t], comps[t]) = inc(v, sums[t], comps[t]);
                    let cv = c.positive.counts.get(k).copied().unwrap_or(0.0);
                    (sums[t], comps[t]) = inc(cv, sums[t], comps[t]);
                }
                for (i, v) in other.positive.iter() {
                    let t = other.slot_on_bounds(i, &common);
                    (sums[t], comps[t]) = inc(v, sums[t], comps[t]);
                }
                self.positive = Buckets {
                    offset: 0,
                    counts: sums,
                };
                c.positive = Buckets {
                    offset: 0,
                    counts: comps,
                };
                self.custom_values = common.clone();
                c.custom_values = common;
            }
            return Ok((c, reconciled));
        }
        let no_comp = Buckets::default();
        let (mut op, mut opc) = (other.positive.clone(), Buckets::default());
        let (mut on, mut onc) = (other.negative.clone(), Buckets::default());
        if other.schema < self.schema {
            (self.positive, c.positive) =
                reduced(&self.positive, &c.positive, self.schema, other.schema);
            (self.negative, c.negative) =
                reduced(&self.negative, &c.negative, self.schema, other.schema);
            self.schema = other.schema;
        } else if other.schema > self.schema {
            (op, opc) = reduced(&op, &no_comp, other.schema, self.schema);
            (on, onc) = reduced(&on, &no_comp, other.schema, self.schema);
        }
        let (schema, threshold) = (self.schema, self.zero_threshold);
        for (into, into_c, from, from_c) in [
            (&mut self.positive, &mut c.positive, &op, &opc),
            (&mut self.negative, &mut c.negative, &on, &onc),
        ] {
            // `other`'s lowest buckets inside the zero bucket were counted there (`kahanAddBuckets`).
            let mut below = true;
            for (k, (i, v)) in from.iter().enumerate() {
                if below && exponential_bound(i, schema) <= threshold {
                    continue;
                }
                below = false;
                let cv = from_c.counts.get(k).copied().unwrap_or(0.0);
                add_at(into, into_c, i, v, cv);
            }
        }
        c.schema = self.schema;
        c.zero_threshold = self.zero_threshold;
        Ok((c, reconciled))
    }
}

/// A running sum or mean of histograms as Prometheus's `sum`/`avg` aggregations and `sum_over_time`/
/// `avg_over_time` compute it.
pub struct HistogramSum {
    /// The direct sum (or, once `incremental`, the running mean).
    acc: FloatHistogram,
    comp: Option<FloatHistogram>,
    count: f64,
    mean: bool,
    incremental: bool,
}

impl HistogramSum {
    /// Starts at `first`; `mean` makes [`HistogramSum::finish`] give the mean instead of the sum.
    pub fn new(first: &FloatHistogram, mean: bool) -> HistogramSum {
        HistogramSum {
            acc: first.clone(),
            comp: None,
            count: 1.0,
            mean,
            incremental: false,
        }
    }

    /// Adds `h`; true when custom bounds had to be reconciled. An error (an exponential and a custom-bucket
    /// histogram) leaves the sum unusable.
    pub fn add(&mut self, h: &FloatHistogram) -> Result<bool, HistogramError> {
        self.count += 1.0;
        if !self.mean {
            let (c, reconciled) = self.acc.kahan_add(h, self.comp.take())?;
            self.comp = Some(c);
            return Ok(reconciled);
        }
        let n = self.count;
        if !self.incremental {
            let mut v = self.acc.clone();
            let (c, reconciled) = v.kahan_add(h, self.comp.clone())?;
            if !v.has_overflow() {
                self.acc = v;
                self.comp = Some(c);
                return Ok(reconciled);
            }
            // The direct sum would overflow: go on with the mean so far.
            self.incremental = true;
            self.acc.div(n - 1.0);
            if let Some(c) = &mut self.comp {
                c.div(n - 1.0);
            }
        }
        let q = (n - 1.0) / n;
        if let Some(c) = &mut self.comp {
            c.mul(q);
        }
        let mut to_add = h.clone();
        to_add.div(n);
        self.acc.mul(q);
        let (c, reconciled) = self.acc.kahan_add(&to_add, self.comp.take())?;
        self.comp = Some(c);
        Ok(reconciled)
    }

    /// The sum, or the mean, with the compensation added.
    pub fn finish(self) -> FloatHistogram {
        let mut acc = self.acc;
        let mut comp = self.comp;
        if self.mean && !self.incremental {
            acc.div(self.count);
            if let Some(c) = &mut comp {
                c.div(self.count);
            }
        }
        match comp {
            // Both have the sum's layout: adding them cannot fail.
            Some(c) => acc.add(&c).map(|(h, _)| h).unwrap_or(acc),
            None => acc,
        }
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
    fn histogram_sum_compensates_sum_and_buckets() {
        let big = h("{{schema:0 sum:1e100 count:1 buckets:[1e100]}}");
        let one = h("{{schema:0 sum:1 count:1 buckets:[1]}}");
        let minus = h("{{schema:0 sum:-1e100 count:1 buckets:[-1e100]}}");
        let mut s = HistogramSum::new(&big, false);
        s.add(&one).unwrap();
        s.add(&minus).unwrap();
        let got = s.finish();
        assert_eq!(got.sum, 1.0);
        assert_eq!(got.count, 3.0);
        assert_eq!(got.positive.counts, vec![1.0]);
        // Plain addition loses it.
        let plain = big.add(&one).unwrap().0.add(&minus).unwrap().0;
        assert_eq!(plain.sum, 0.0);
    }

    #[test]
    fn mean_switches_to_incremental_before_overflowing() {
        let a = h("{{schema:0 sum:1 count:1.5e308 buckets:[1.5e308]}}");
        let mut s = HistogramSum::new(&a, true);
        s.add(&a).unwrap();
        s.add(&a).unwrap();
        let got = s.finish();
        assert!(got.count.is_finite(), "{got:?}");
        assert!((got.count - 1.5e308).abs() / 1.5e308 < 1e-12);
        assert_eq!(got.sum, 1.0);
        assert!((got.positive.counts[0] - 1.5e308).abs() / 1.5e308 < 1e-12);
    }

    #[test]
    fn sums_across_schemas_and_zero_buckets() {
        let fine = h("{{schema:1 sum:2 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 1 1]}}");
        let coarse = h("{{schema:0 sum:3 count:3 z_bucket:1 z_bucket_w:0.5 buckets:[1 1]}}");
        let mut s = HistogramSum::new(&fine, false);
        s.add(&coarse).unwrap();
        let got = s.finish();
        let plain = fine.add(&coarse).unwrap().0;
        assert!(
            got.matches(&plain, true, |a, b| a == b),
            "{got:?} vs {plain:?}"
        );
    }

    #[test]
    fn custom_bounds_meet_on_common_bounds() {
        let a = h("{{schema:-53 sum:1 count:3 custom_values:[1 2] buckets:[1 1 1]}}");
        let b = h("{{schema:-53 sum:1 count:2 custom_values:[2] buckets:[1 1]}}");
        let mut s = HistogramSum::new(&a, false);
        s.add(&b).unwrap();
        let got = s.finish();
        assert_eq!(got.custom_values, vec![2.0]);
        assert_eq!(got.positive.counts, vec![3.0, 2.0]);
        let mixed = h("{{schema:0 sum:1 count:1 buckets:[1]}}");
        assert!(HistogramSum::new(&a, false).add(&mixed).is_err());
    }
}
