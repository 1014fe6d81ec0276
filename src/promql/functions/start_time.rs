//! What start timestamps change in Prometheus 3's counter functions ([`crate::series::start_timestamps`]):
//! a start after the previous sample is a counter reset (`isStartTimestampReset`), a start before the
//! previous sample's time that is not the previous sample's own start overlaps it (a warning), and a start
//! inside a rate window stands for a zero sample there instead of extrapolating to the window's left edge.
//! Only a range selector directly under the function carries them; a subquery or an expression does not.
//!
//! Example: a delta series (each sample starts where the one before ended) of 60 every minute has an
//! `increase(x[5m])` of 300, where without start timestamps it would be 0.

/// Whether the sample at `cur_t`, starting at `cur_st`, follows a counter reset after the sample at
/// `prev_t` that started at `prev_st` (0: unknown).
pub(crate) fn is_reset(prev_st: i64, prev_t: i64, cur_st: i64, cur_t: i64) -> bool {
    if cur_st == 0 || cur_st >= cur_t || cur_st < prev_t {
        // Unknown, invalid (after the sample), OTel's "unknown start" (at the sample), or inside the
        // previous sample's interval.
        return false;
    }
    if cur_st > prev_t {
        return true;
    }
    // Starting exactly at the previous sample: a delta (a reset), unless the previous start is unknown or
    // invalid (a cumulative series with an unknown start).
    prev_st <= prev_t && prev_st != 0 && prev_st != prev_t
}

/// Whether `cur_st` overlaps the previous sample: before its time, and not its start.
pub(crate) fn overlaps(prev_st: i64, prev_t: i64, cur_st: i64) -> bool {
    cur_st != 0 && cur_st < prev_t && cur_st != prev_st
}

/// The warning for [`overlaps`].
pub(crate) fn overlap_warning(metric: &str, pos: &str) -> String {
    format!(
        "PromQL warning: sample has start time that overlaps with previous sample timestamp for metric {metric:?} {pos}"
    )
}

/// Prometheus's `extrapolatedRate` over one window's float samples with their start timestamps `sts`:
/// the value, and whether a start overlapped the sample before it.
pub(crate) fn extrapolated(
    samples: &[(i64, f64)],
    sts: &[i64],
    end: i64,
    range: i64,
    is_counter: bool,
    is_rate: bool,
) -> (Option<f64>, bool) {
    let n = samples.len();
    if n == 0 {
        return (None, false);
    }
    let (first, last) = (samples[0], samples[n - 1]);
    let mut result = last.1 - first.1;
    let mut overlap = false;
    if is_counter {
        for i in 1..n {
            let (prev, cur) = (samples[i - 1], samples[i]);
            let (prev_st, cur_st) = (sts.get(i - 1).copied(), sts.get(i).copied());
            if let (Some(ps), Some(cs)) = (prev_st, cur_st) {
                overlap |= overlaps(ps, prev.0, cs);
            }
            let st_reset = matches!((prev_st, cur_st), (Some(ps), Some(cs)) if is_reset(ps, prev.0, cs, cur.0));
            if cur.1 < prev.1 || st_reset {
                result += prev.1;
            }
        }
    }
    let range_start = end - range;
    let mut to_start = (first.0 - range_start) as f64 / 1000.0;
    let to_end = (end - last.0) as f64 / 1000.0;
    let mut sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg = if n > 1 { sampled / (n - 1) as f64 } else { 0.0 };
    let threshold = avg * 1.1;
    let first_st = sts.first().copied().unwrap_or(0);
    if is_counter && first_st != 0 && first_st > range_start && first_st < first.0 {
        // A zero sample at the first sample's start, instead of extrapolating to the left.
        to_start = 0.0;
        sampled = (last.0 - first_st) as f64 / 1000.0;
        result += first.1;
    } else if n == 1 {
        return (None, overlap);
    } else {
        if to_start >= threshold {
            to_start = avg / 2.0;
        }
        if is_counter && result > 0.0 && first.1 >= 0.0 {
            to_start = to_start.min(sampled * (first.1 / result));
        }
    }
    let factor = super::rate::extrapolation_factor(sampled, to_start, to_end, avg, range, is_rate);
    (Some(result * factor), overlap)
}

/// `irate` / `idelta` of a window's last two float samples with their starts (`instantValue`).
pub(crate) fn instant(last: [(i64, f64); 2], sts: [i64; 2], is_rate: bool) -> Option<f64> {
    let [(pt, pv), (lt, lv)] = last;
    let dt = lt - pt;
    if dt == 0 {
        return None;
    }
    let reset = is_rate && (lv < pv || is_reset(sts[0], pt, sts[1], lt));
    let mut v = if reset { lv } else { lv - pv };
    if is_rate {
        v /= dt as f64 / 1000.0;
    }
    Some(v)
}

/// `resets` of a window's float samples with their starts.
pub(crate) fn resets(samples: &[(i64, f64)], sts: &[i64]) -> usize {
    (1..samples.len())
        .filter(|&i| {
            let (prev, cur) = (samples[i - 1], samples[i]);
            cur.1 < prev.1
                || matches!((sts.get(i - 1), sts.get(i)), (Some(&ps), Some(&cs)) if is_reset(ps, prev.0, cs, cur.0))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_as_prometheus_tells_them() {
        // Unknown, at the sample, after the sample, inside the previous interval: no reset.
        assert!(!is_reset(0, 60, 0, 120));
        assert!(!is_reset(0, 60, 120, 120));
        assert!(!is_reset(0, 60, 130, 120));
        assert!(!is_reset(0, 60, 30, 120));
        // After the previous sample: a reset.
        assert!(is_reset(0, 60, 90, 120));
        // At the previous sample: a delta when the previous start is known and before it; a cumulative
        // series with an unknown start when it is unknown (0), at the sample, or invalid (after it).
        assert!(is_reset(1, 60, 60, 120));
        assert!(is_reset(30, 60, 60, 120));
        assert!(!is_reset(0, 60, 60, 120));
        assert!(!is_reset(60, 60, 60, 120));
        assert!(!is_reset(90, 60, 60, 120));
        assert!(overlaps(0, 60, 30) && !overlaps(30, 60, 30) && !overlaps(0, 60, 60));
    }

    #[test]
    fn a_delta_series_increases_by_its_samples() {
        // 60 every minute, each starting at the one before: increase over 5m is 300.
        let samples: Vec<(i64, f64)> = (5..=10).map(|k| (k * 60_000, 60.0)).collect();
        let sts: Vec<i64> = samples.iter().map(|(t, _)| t - 60_000).collect();
        let (v, overlap) = extrapolated(&samples[1..], &sts[1..], 600_000, 300_000, true, false);
        assert_eq!(v, Some(300.0));
        assert!(!overlap);
        assert_eq!(resets(&samples, &sts), 5);
        assert_eq!(
            instant([samples[4], samples[5]], [sts[4], sts[5]], true),
            Some(1.0)
        );
    }
}
