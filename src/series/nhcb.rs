//! Classic histograms (cumulative `_bucket` series with an `le` label, `_count`, `_sum`) turned into native
//! histograms with custom buckets (NHCB), as Prometheus's `convertnhcb` does for `load_with_nhcb` in its
//! engine tests and for the scrape option `convert_classic_histograms_to_nhcb`: the finite `le` bounds become
//! the custom bounds, the cumulative counts become per-bucket counts, a missing `+Inf` bucket is the count.

use super::histogram::{Buckets, FloatHistogram, CUSTOM_BUCKETS_SCHEMA};

/// One classic histogram at one timestamp, filled a series at a time (`TempHistogram`).
#[derive(Clone, Debug, Default)]
pub struct ClassicHistogram {
    /// (le, cumulative count), `le` ascending.
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
    err: Option<String>,
}

impl ClassicHistogram {
    /// The cumulative count of bucket `le` (`SetBucketCount`); a count that is not cumulative is an error.
    pub fn set_bucket(&mut self, le: f64, count: f64) {
        if self.err.is_some() {
            return;
        }
        if le.is_nan() {
            self.err = Some("histogram bucket label is NaN".into());
            return;
        }
        if count < 0.0 {
            self.err = Some(format!(
                "histogram bucket count must be non-negative: le={le}, count={count}"
            ));
            return;
        }
        let i = self.buckets.partition_point(|(b, _)| *b < le);
        if self.buckets.get(i).is_some_and(|(b, _)| *b == le) {
            return; // A duplicate sample.
        }
        if i > 0 && count < self.buckets[i - 1].1 {
            self.err = Some(format!(
                "count is not cumulative: {count} < {}",
                self.buckets[i - 1].1
            ));
            return;
        }
        if let Some(&(_, next)) = self.buckets.get(i) {
            if count > next {
                self.err = Some(format!("count is not cumulative: {count} > {next}"));
                return;
            }
        }
        self.buckets.insert(i, (le, count));
    }

    /// The `_count` sample (`SetCount`).
    pub fn set_count(&mut self, count: f64) {
        if self.err.is_none() && count < 0.0 {
            self.err = Some(format!("count must be non-negative: count={count}"));
        }
        self.count = Some(count);
    }

    /// The `_sum` sample.
    pub fn set_sum(&mut self, sum: f64) {
        self.sum = sum;
    }

    /// The native histogram with custom buckets (`Convert`).
    pub fn convert(mut self) -> Result<FloatHistogram, String> {
        if let Some(e) = self.err {
            return Err(e);
        }
        let count = match (self.count, self.buckets.last()) {
            (Some(c), _) => c,
            (None, Some(&(_, c))) => c,
            (None, None) => 0.0,
        };
        if self
            .buckets
            .last()
            .is_none_or(|(le, _)| *le != f64::INFINITY)
        {
            self.buckets.push((f64::INFINITY, count));
        }
        let last = self.buckets[self.buckets.len() - 1].1;
        if count != last {
            return Err(format!(
                "count mismatch: count={count} != le=+Inf count={last}"
            ));
        }
        let mut prev = 0.0;
        let mut counts = Vec::with_capacity(self.buckets.len());
        let mut custom_values = Vec::with_capacity(self.buckets.len() - 1);
        for &(le, c) in &self.buckets {
            counts.push(c - prev);
            prev = c;
            if le != f64::INFINITY {
                custom_values.push(le);
            }
        }
        Ok(FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum: self.sum,
            positive: Buckets { offset: 0, counts },
            custom_values,
            ..Default::default()
        })
    }
}

/// Which part of a classic histogram a metric name is, and the family's name (`GetHistogramMetricBaseName`).
pub fn classic_part(name: &str) -> Option<(ClassicPart, &str)> {
    if let Some(base) = name.strip_suffix("_bucket") {
        return Some((ClassicPart::Bucket, base));
    }
    if let Some(base) = name.strip_suffix("_sum") {
        return Some((ClassicPart::Sum, base));
    }
    name.strip_suffix("_count")
        .map(|base| (ClassicPart::Count, base))
}

/// A classic histogram's series kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassicPart {
    Bucket,
    Sum,
    Count,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_buckets_become_custom_buckets() {
        let mut c = ClassicHistogram::default();
        c.set_bucket(f64::INFINITY, 10.0);
        c.set_bucket(0.5, 4.0);
        c.set_bucket(0.1, 1.0);
        c.set_count(10.0);
        c.set_sum(3.5);
        let h = c.convert().unwrap();
        assert_eq!(h.custom_values, vec![0.1, 0.5]);
        assert_eq!(h.positive.counts, vec![1.0, 3.0, 6.0]);
        assert_eq!((h.count, h.sum), (10.0, 3.5));
        // Without a +Inf bucket, the count stands in for it.
        let mut c = ClassicHistogram::default();
        c.set_bucket(1.0, 2.0);
        c.set_count(5.0);
        assert_eq!(c.convert().unwrap().positive.counts, vec![2.0, 3.0]);
    }

    #[test]
    fn broken_histograms_are_refused() {
        let mut c = ClassicHistogram::default();
        c.set_bucket(1.0, 5.0);
        c.set_bucket(2.0, 3.0);
        assert!(c.convert().unwrap_err().contains("not cumulative"));
        let mut c = ClassicHistogram::default();
        c.set_bucket(f64::INFINITY, 5.0);
        c.set_count(6.0);
        assert!(c.convert().unwrap_err().contains("count mismatch"));
        assert_eq!(classic_part("x_bucket"), Some((ClassicPart::Bucket, "x")));
        assert_eq!(classic_part("x"), None);
    }
}
