//! Benchmark (not a test): `tune`'s sweep of 20 thresholds x 4 `for` values over 7 days at 30s steps for
//! 1,000 series, after the left side is evaluated (the data is synthetic: a daily cycle plus noise and
//! occasional spikes). Run: `cargo bench --bench tune_sweep`. Target: under 2 seconds.

use ruletest::rules::sweep::CmpOp;
use ruletest::rules::tune::{sweep, Lhs, SweepSpec};
use ruletest::series::Labels;
use std::time::Instant;

fn main() {
    let n = 7 * 24 * 120; // 7 days at 30s
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 10_000) as f64 / 10_000.0
    };
    let series: Vec<(Labels, Vec<f64>)> = (0..1000)
        .map(|i| {
            let vals = (0..n)
                .map(|k| {
                    let day = (k as f64 / 2880.0 * std::f64::consts::TAU).sin() * 0.2 + 0.5;
                    let spike = if rnd() > 0.999 { 0.4 } else { 0.0 };
                    day + rnd() * 0.1 + spike
                })
                .collect();
            (Labels::from_pairs([("pod", format!("pod-{i}"))]), vals)
        })
        .collect();
    let lhs = Lhs {
        start_ms: 0,
        step_ms: 30_000,
        n,
        series,
    };
    let thresholds: Vec<f64> = (0..20).map(|i| 0.5 + i as f64 * 0.025).collect();
    let fors = [0, 300_000, 600_000, 900_000];
    let spec = SweepSpec {
        op: CmpOp::Gt,
        thresholds: &thresholds,
        fors: &fors,
        keep_firing_fors: &[0],
        current: (0.8, 300_000, 0),
        incidents: &[],
    };
    let t = Instant::now();
    let rows = sweep(&lhs, &spec);
    let elapsed = t.elapsed();
    let episodes: usize = rows.iter().map(|r| r.episodes).sum();
    println!("tune_sweep: {} combinations x 1000 series x {n} steps in {:.3}s ({episodes} episodes in all)", rows.len(), elapsed.as_secs_f64());
}
