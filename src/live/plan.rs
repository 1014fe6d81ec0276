//! How a long request is cut into smaller ones, and how their answers are put back together. Pure
//! functions, so the arithmetic is tested without a server.

use crate::series::Labels;
use std::collections::BTreeMap;

/// Smallest and largest raw-sample window (1 s, 1 d): below a second the request overhead dominates, above
/// a day a sparse selector's first dense stretch could blow the response size.
pub const MIN_WINDOW_MS: i64 = 1_000;
pub const MAX_WINDOW_MS: i64 = 86_400_000;
/// The first raw-sample window, before anything is known about the data's density.
pub const FIRST_WINDOW_MS: i64 = 3_600_000;

/// Splits a range query's steps `start, start+step, ... <= end` into consecutive (start, end) requests of at
/// most `max_points` steps each. Every chunk starts on the original step grid, so the union of the chunks'
/// steps is exactly the original query's.
pub fn range_chunks(start: i64, end: i64, step: i64, max_points: usize) -> Vec<(i64, i64)> {
    if step <= 0 || end < start {
        return Vec::new();
    }
    let per = (max_points.max(1) as i64).saturating_mul(step);
    let mut out = Vec::new();
    let mut s = start;
    while s <= end {
        let e = s.saturating_add(per - step).min(end);
        out.push((s, e));
        match s.checked_add(per) {
            Some(n) => s = n,
            None => break,
        }
    }
    out
}

/// Cuts `(after, end]` into windows of `window` ms: each (left exclusive, right inclusive). The last one
/// is shorter when the span does not divide evenly.
pub fn raw_windows(after: i64, end: i64, window: i64) -> Vec<(i64, i64)> {
    let window = window.max(1);
    let mut out = Vec::new();
    let mut left = after;
    while left < end {
        let right = left.saturating_add(window).min(end);
        out.push((left, right));
        left = right;
    }
    out
}

/// The window that should hold about `target` samples, given that `window` held `samples`.
pub fn window_for_density(samples: usize, window: i64, target: usize) -> i64 {
    if samples == 0 {
        return (window.saturating_mul(2)).clamp(MIN_WINDOW_MS, MAX_WINDOW_MS);
    }
    let w = (window as f64) * (target as f64) / (samples as f64);
    (w as i64).clamp(MIN_WINDOW_MS, MAX_WINDOW_MS)
}

/// One series with its samples of one kind (floats, or native histograms), ascending in time.
pub type Timed<V> = (Labels, Vec<(i64, V)>);

/// Merges per-request answers, given in time order, into one list sorted by labels. Each series' samples
/// are concatenated in request order; a sample at or before the series' last kept time is dropped (the
/// shared boundary of two windows when a server's range selector is closed on the left, as 2.x's is).
pub fn merge_in_order<V>(parts: Vec<Vec<Timed<V>>>) -> Vec<Timed<V>> {
    let mut by_labels: BTreeMap<Labels, Vec<(i64, V)>> = BTreeMap::new();
    for part in parts {
        for (labels, samples) in part {
            let acc = by_labels.entry(labels).or_default();
            for (t, v) in samples {
                if acc.last().is_none_or(|&(lt, _)| t > lt) {
                    acc.push((t, v));
                }
            }
        }
    }
    by_labels.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_chunks_keep_the_step_grid() {
        // 30 steps of 10 from 0 (0..=290 plus the unaligned end 295), at most 11 points per request.
        let c = range_chunks(0, 295, 10, 11);
        assert_eq!(c, vec![(0, 100), (110, 210), (220, 295)]);
        let steps: Vec<i64> = c
            .iter()
            .flat_map(|&(s, e)| (0..).map(move |i| s + i * 10).take_while(move |&t| t <= e))
            .collect();
        assert_eq!(steps, (0..=29).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(range_chunks(5, 5, 10, 11_000), vec![(5, 5)]);
        assert!(range_chunks(10, 5, 10, 11_000).is_empty());
        assert!(range_chunks(0, 5, 0, 11_000).is_empty());
        // 11,000 points exactly fit one request; 11,001 need two.
        assert_eq!(range_chunks(0, 10_999, 1, 11_000).len(), 1);
        assert_eq!(range_chunks(0, 11_000, 1, 11_000).len(), 2);
    }

    #[test]
    fn raw_windows_tile_the_span() {
        assert_eq!(raw_windows(-1, 25, 10), vec![(-1, 9), (9, 19), (19, 25)]);
        assert!(raw_windows(5, 5, 10).is_empty());
        assert_eq!(raw_windows(0, 1, 10), vec![(0, 1)]);
    }

    #[test]
    fn density_sizing() {
        // 1h held 36,000 samples (10/s); 250,000 want 25,000 s.
        assert_eq!(window_for_density(36_000, 3_600_000, 250_000), 25_000_000);
        assert_eq!(window_for_density(0, 3_600_000, 10), 7_200_000);
        assert_eq!(window_for_density(1, 3_600_000, 1_000_000), MAX_WINDOW_MS);
        assert_eq!(window_for_density(1_000_000_000, 1_000, 10), MIN_WINDOW_MS);
    }

    #[test]
    fn merge_orders_and_dedupes_boundaries() {
        let a = Labels::from_pairs([("__name__", "a")]);
        let b = Labels::from_pairs([("__name__", "b")]);
        let merged = merge_in_order(vec![
            vec![(b.clone(), vec![(1, 1.0), (10, 2.0)])],
            vec![
                (a.clone(), vec![(12, 5.0)]),
                (b.clone(), vec![(10, 2.0), (20, 3.0)]),
            ],
        ]);
        assert_eq!(
            merged,
            vec![
                (a, vec![(12, 5.0)]),
                (b, vec![(1, 1.0), (10, 2.0), (20, 3.0)])
            ]
        );
    }
}
