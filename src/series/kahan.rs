//! One step of compensated (Kahan–Neumaier) summation of floats, as Prometheus 3 sums in `sum`, `avg`,
//! `sum_over_time` and `avg_over_time` (`kahansum.Inc`). A sum of `1e100`, `1`, `-1e100` is `1`, not `0`.
//! Histogram sums build on it in [`super::histogram_sum`].

/// One step of Neumaier's improved Kahan summation: `sum + inc`, with the running compensation `c`
/// (`kahansum.Inc`). An infinite sum resets the compensation.
pub fn inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

#[cfg(test)]
mod tests {
    use super::inc;

    #[test]
    fn float_steps_keep_what_plain_addition_loses() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e100, 1.0, -1e100] {
            (s, c) = inc(v, s, c);
        }
        assert_eq!(s + c, 1.0);
        assert_eq!(1e100 + 1.0 - 1e100, 0.0);
    }

    #[test]
    fn an_infinite_sum_resets_the_compensation() {
        let (s, c) = inc(f64::INFINITY, 1.0, 0.5);
        assert_eq!((s, c), (f64::INFINITY, 0.0));
    }
}
