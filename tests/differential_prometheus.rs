//! A differential test against the real thing: random series (counters with resets and gaps, gauges with NaN
//! and +Inf, a classic histogram, info-style series for joins) are backfilled into Debian's Prometheus 2.42
//! (`promtool tsdb create-blocks-from openmetrics`) on 127.0.0.1; at least 1,000 random instant queries over
//! much of PromQL, at times off the sample grid, and some range queries, go to the server and to ruletest's
//! engine (what `ruletest eval` runs) over the same samples. Every difference fails the test, except the
//! documented 2.x -> 3.x changes in `known_difference` (docs/differences.md).
//!
//! The seed is fixed unless `RULETEST_DIFF_SEED` says otherwise (`random`, or a number to replay a run); it is
//! printed. `RULETEST_DIFF_QUERIES=N` changes how many queries are tried. The data's times follow the clock
//! (the last four hours but one), so a run is repeatable in everything but its absolute times.
//!
//! Generated data and queries avoid what 2.42 does differently by design: no sample lies on a window's left
//! edge (samples at 7 s past each 15 s, query times with milliseconds, durations multiples of 15 s, `@` times
//! at 3 s past), so left-open and left-closed windows agree; no `@` inside subqueries; no experimental or
//! post-2.42 functions; `group_left` only with arithmetic; no `@` in range queries off the grid; stale markers are not
//! generated (OpenMetrics cannot carry them to promtool).

mod support;

use ruletest::live::{Client, ClientOptions};
use ruletest::promql::{Engine, EngineOptions, Value};
use ruletest::semantics::Semantics;
use ruletest::series::notation::parse_series_descriptor;
use ruletest::series::{Labels, Store};
use std::collections::BTreeMap;
use std::time::Duration;
use support::prometheus::PrometheusServer;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn float(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const STEP_MS: i64 = 15_000;
const SAMPLES: i64 = 4 * 240; // 4 hours at 15 s

/// `phase_ms`: how far past each 15 s boundary samples lie (7 s off the grid, 0 on it).
/// `resets_in_gaps`: counters may restart inside a gap (on the grid, where ruletest predicts 2.42 with
/// `--semantics 2`, including its order of rate's extrapolation limits).
fn series(rng: &mut Rng, t0: i64, phase_ms: i64, resets_in_gaps: bool) -> Store {
    let mut store = Store::new();
    let put = |store: &mut Store, desc: &str, vals: &[Option<f64>]| {
        let labels = parse_series_descriptor(desc).unwrap();
        for (k, v) in vals.iter().enumerate() {
            if let Some(v) = v {
                store.append(&labels, t0 + phase_ms + k as i64 * STEP_MS, *v);
            }
        }
    };
    let n = SAMPLES as usize;
    // Counters: steady growth at random rates, a reset now and then, a gap now and then.
    for job in ["api", "web"] {
        for instance in ["1", "2"] {
            for code in ["200", "500"] {
                let mut v = 0.0;
                let rate = 1.0 + rng.below(20) as f64;
                let mut vals = Vec::with_capacity(n);
                let gap_at = rng.below(n as u64) as usize;
                for k in 0..n {
                    v += rate * (0.5 + rng.float());
                    let in_gap = k >= gap_at && k < gap_at + 20 && code == "500";
                    // Off the grid no reset inside a gap or on the sample after it: a window starting in the
                    // gap would extrapolate towards the counter's zero point, which 2.51 changed (#13725).
                    // On the grid they happen more often there (one sample in five), to exercise that rule.
                    let after_gap = k >= gap_at && k <= gap_at + 20 && code == "500";
                    let reset = rng.chance(if after_gap && resets_in_gaps { 20 } else { 1 });
                    if reset && (resets_in_gaps || !after_gap) {
                        v = rng.below(5) as f64;
                    }
                    vals.push((!in_gap).then_some(v));
                }
                put(
                    &mut store,
                    &format!("http_requests_total{{job=\"{job}\",instance=\"{instance}\",code=\"{code}\"}}"),
                    &vals,
                );
            }
        }
    }
    // Gauges: random walks; one holds a NaN and a +Inf sample.
    for (i, room) in ["a", "b", "c"].iter().enumerate() {
        for instance in ["1", "2"] {
            let mut v = 15.0 + 5.0 * rng.float();
            let vals: Vec<Option<f64>> = (0..n)
                .map(|k| {
                    v += rng.float() - 0.5;
                    if i == 2 && instance == "1" && k == n / 2 {
                        Some(f64::NAN)
                    } else if i == 2 && instance == "2" && k == n / 3 {
                        Some(f64::INFINITY)
                    } else {
                        Some((v * 100.0).round() / 100.0)
                    }
                })
                .collect();
            put(
                &mut store,
                &format!("temperature{{job=\"api\",instance=\"{instance}\",room=\"{room}\"}}"),
                &vals,
            );
        }
    }
    // A classic histogram: cumulative buckets growing monotonically, with _sum and _count.
    for job in ["api", "web"] {
        let les = ["0.1", "0.5", "1", "+Inf"];
        let mut counts = [0.0f64; 4];
        let mut sum = 0.0;
        let mut rows: Vec<Vec<Option<f64>>> = (0..6).map(|_| Vec::with_capacity(n)).collect();
        for _ in 0..n {
            let mut add = 0.0;
            for (b, c) in counts.iter_mut().enumerate() {
                add += rng.below(4) as f64 * (b as f64 + 1.0);
                *c += add;
            }
            sum += rng.float() * 10.0;
            for (b, c) in counts.iter().enumerate() {
                rows[b].push(Some(*c));
            }
            rows[4].push(Some((sum * 1000.0).round() / 1000.0));
            rows[5].push(Some(counts[3]));
        }
        for (b, le) in les.iter().enumerate() {
            put(
                &mut store,
                &format!("latency_seconds_bucket{{job=\"{job}\",le=\"{le}\"}}"),
                &rows[b],
            );
        }
        put(
            &mut store,
            &format!("latency_seconds_sum{{job=\"{job}\"}}"),
            &rows[4],
        );
        put(
            &mut store,
            &format!("latency_seconds_count{{job=\"{job}\"}}"),
            &rows[5],
        );
    }
    // Info-style series for joins, and up.
    for (instance, version) in [("1", "1.2"), ("2", "1.3")] {
        put(
            &mut store,
            &format!("node_info{{instance=\"{instance}\",version=\"{version}\"}}"),
            &vec![Some(1.0); n],
        );
        for job in ["api", "web"] {
            let vals: Vec<Option<f64>> = (0..n)
                .map(|_| Some(if rng.chance(90) { 1.0 } else { 0.0 }))
                .collect();
            put(
                &mut store,
                &format!("up{{job=\"{job}\",instance=\"{instance}\"}}"),
                &vals,
            );
        }
    }
    store
}

struct Gen<'a> {
    rng: &'a mut Rng,
    /// `@` times: 3 s past a 15 s boundary, inside the data.
    at_times: Vec<f64>,
    /// Whether subqueries may hold `@` (their inner selector's, or their own) and an offset.
    at_in_subqueries: bool,
}

const COUNTERS: &[&str] = &[
    "http_requests_total",
    "http_requests_total{job=\"api\"}",
    "http_requests_total{code=~\"5..\"}",
    "latency_seconds_count",
];
const GAUGES: &[&str] = &[
    "temperature",
    "temperature{room!=\"c\"}",
    "up",
    "up{job=\"web\"}",
];
const RANGES: &[&str] = &["1m", "5m", "10m", "30m"];

impl Gen<'_> {
    fn modifiers(&mut self) -> String {
        let mut s = String::new();
        if self.rng.chance(15) {
            s.push_str(&format!(
                " offset {}",
                self.rng.pick(&["5m", "1h", "-5m", "90s"])
            ));
        }
        if self.rng.chance(10) {
            let t = *self.rng.pick(&self.at_times);
            s.push_str(&format!(" @ {t:.3}"));
        }
        s
    }

    /// A subquery with `@` inside it or on it (offsets either way too), as 2.42's engine meets it in rules:
    /// `max_over_time(rate(x[5m] @ T offset D)[10m:1m] offset E)`, `min_over_time((g @ T)[5m:30s] @ U)`.
    fn at_subquery(&mut self) -> String {
        let at = |g: &mut Self| format!(" @ {:.3}", *g.rng.pick(&g.at_times));
        let offset = |g: &mut Self| {
            format!(
                " offset {}",
                g.rng.pick(&["90s", "4m", "-2m", "-4m30s", "1h"])
            )
        };
        let mut inner_mods = String::new();
        let mut outer_mods = String::new();
        match self.rng.below(3) {
            0 => inner_mods = at(self),
            1 => outer_mods = at(self),
            _ => {
                inner_mods = at(self);
                outer_mods = at(self);
            }
        }
        if self.rng.chance(50) {
            inner_mods.push_str(&offset(self));
        }
        if self.rng.chance(60) {
            outer_mods.push_str(&offset(self));
        }
        let inner = if self.rng.chance(50) {
            format!("rate({}[5m]{inner_mods})", self.selector(true))
        } else {
            format!("({}{inner_mods})", self.selector(false))
        };
        let f = *self.rng.pick(&[
            "max_over_time",
            "min_over_time",
            "sum_over_time",
            "count_over_time",
            "last_over_time",
        ]);
        format!(
            "{f}({inner}[{}:{}]{outer_mods})",
            self.rng.pick(&["5m", "10m", "30m"]),
            self.rng.pick(&["30s", "1m", "2m"])
        )
    }

    fn selector(&mut self, counter: bool) -> String {
        let base = if counter {
            *self.rng.pick(COUNTERS)
        } else {
            *self.rng.pick(GAUGES)
        };
        base.to_string()
    }

    fn range_fn(&mut self, depth: u32) -> String {
        let range = *self.rng.pick(RANGES);
        let counter = self.rng.chance(50);
        // A subquery now and then (never with `@` inside).
        if depth < 2 && self.rng.chance(12) {
            let inner_mods = if self.at_in_subqueries {
                self.modifiers()
            } else {
                String::new()
            };
            let inner = format!("rate({}[5m]{inner_mods})", self.selector(true));
            let outer_mods = if self.at_in_subqueries {
                self.modifiers()
            } else {
                String::new()
            };
            let f = *self.rng.pick(&[
                "max_over_time",
                "avg_over_time",
                "min_over_time",
                "sum_over_time",
            ]);
            return format!(
                "{f}({inner}[{range}:{}]{outer_mods})",
                self.rng.pick(&["30s", "1m", "2m"])
            );
        }
        let sel = format!("{}[{range}]{}", self.selector(counter), self.modifiers());
        let f = if counter {
            *self.rng.pick(&[
                "rate",
                "irate",
                "increase",
                "resets",
                "changes",
                "last_over_time",
                "count_over_time",
            ])
        } else {
            *self.rng.pick(&[
                "delta",
                "idelta",
                "deriv",
                "avg_over_time",
                "min_over_time",
                "max_over_time",
                "sum_over_time",
                "stddev_over_time",
                "stdvar_over_time",
                "present_over_time",
                "absent_over_time",
                "changes",
            ])
        };
        match self.rng.below(10) {
            0 => format!(
                "quantile_over_time({}, {sel})",
                self.rng.pick(&["0.5", "0.9", "0"])
            ),
            1 => format!("predict_linear({sel}, {})", self.rng.pick(&["60", "3600"])),
            _ => format!("{f}({sel})"),
        }
    }

    fn vector(&mut self, depth: u32) -> String {
        if depth >= 3 {
            return match self.rng.below(3) {
                0 => {
                    let counter = self.rng.chance(50);
                    format!("{}{}", self.selector(counter), self.modifiers())
                }
                _ => self.range_fn(depth),
            };
        }
        match self.rng.below(14) {
            0 | 1 => {
                let counter = self.rng.chance(40);
                format!("{}{}", self.selector(counter), self.modifiers())
            }
            2 | 3 => self.range_fn(depth),
            4 => {
                // Periodic functions only over stored values: over a computed value a difference in its last
                // bit (the summation order changed after 2.42) becomes a visible one.
                if self.rng.chance(20) {
                    let f = *self.rng.pick(&["sin", "cos", "tan"]);
                    return format!("{f}({})", self.selector(false));
                }
                let f = *self.rng.pick(&[
                    "abs",
                    "ceil",
                    "floor",
                    "round",
                    "sqrt",
                    "exp",
                    "ln",
                    "log2",
                    "log10",
                    "sgn",
                    "asin",
                    "acos",
                    "atan",
                    "sinh",
                    "cosh",
                    "tanh",
                    "asinh",
                    "acosh",
                    "atanh",
                    "deg",
                    "rad",
                    "timestamp",
                    "minute",
                    "hour",
                    "day_of_week",
                    "day_of_month",
                    "day_of_year",
                    "days_in_month",
                    "month",
                    "year",
                ]);
                format!("{f}({})", self.vector(depth + 1))
            }
            5 => {
                let inner = self.vector(depth + 1);
                match self.rng.below(6) {
                    0 => format!("clamp({inner}, 0, 10)"),
                    1 => format!("clamp_min({inner}, 1)"),
                    2 => format!("clamp_max({inner}, 5)"),
                    3 => format!("label_replace({inner}, \"dst\", \"x-$1\", \"job\", \"(a.*)\")"),
                    4 => format!("label_join({inner}, \"j\", \"-\", \"job\", \"instance\")"),
                    _ => format!("absent({inner})"),
                }
            }
            6 | 7 => {
                let op = *self.rng.pick(&[
                    "sum", "avg", "min", "max", "count", "stddev", "stdvar", "group",
                ]);
                let grouping = match self.rng.below(4) {
                    0 => String::new(),
                    1 => " by (job)".into(),
                    2 => " without (instance)".into(),
                    _ => " by (job, instance)".into(),
                };
                // topk / bottomk only at the top: among equal values either series may be kept, and a
                // tie broken otherwise below another operation would change more than labels.
                match self.rng.below(8) {
                    0 if depth == 0 => format!("topk{grouping}(2, {})", self.vector(depth + 1)),
                    1 if depth == 0 => format!("bottomk{grouping}(1, {})", self.vector(depth + 1)),
                    2 => format!("quantile{grouping}(0.5, {})", self.vector(depth + 1)),
                    // Values become label text: rounded, so that last-bit differences do not show.
                    3 => format!(
                        "count_values{grouping}(\"v\", round(clamp({}, -1000, 1000)))",
                        self.vector(depth + 1)
                    ),
                    _ => format!("{op}{grouping}({})", self.vector(depth + 1)),
                }
            }
            8 => {
                let by = self
                    .rng
                    .pick(&["sum by (le)", "sum by (le, job)"])
                    .to_string();
                format!(
                    "histogram_quantile({}, {by} (rate(latency_seconds_bucket[{}])))",
                    self.rng.pick(&["0.5", "0.9", "0.99", "1"]),
                    self.rng.pick(&["5m", "10m"])
                )
            }
            9 => {
                // vector op scalar
                let op = *self.rng.pick(&[
                    "+", "-", "*", "/", "%", "^", ">", "<", "==", "!=", ">= bool", "< bool",
                ]);
                // Ill-conditioned with a large or computed operand (`time() % x`, `(x ^ 7) % 2`: one ulp of
                // difference, where Go's and Rust's math libraries may differ, shows in the result): `%` only
                // of stored values by a literal, `^` only by a small literal.
                if op == "%" {
                    let k = *self.rng.pick(&["2", "0.5", "7"]);
                    let counter = self.rng.chance(50);
                    return format!("{} % {k}", self.selector(counter));
                }
                if op == "^" {
                    let k = *self.rng.pick(&["2", "0.5"]);
                    return format!("{} ^ {k}", self.vector(depth + 1));
                }
                if self.rng.chance(50) {
                    format!("{} {op} {}", self.vector(depth + 1), self.scalar(depth + 1))
                } else {
                    format!("{} {op} {}", self.scalar(depth + 1), self.vector(depth + 1))
                }
            }
            10 => {
                // vector op vector, one-to-one
                let op = *self.rng.pick(&["+", "-", "*", "/", ">", "<", "> bool"]);
                let m = *self
                    .rng
                    .pick(&["", " on(job, instance)", " ignoring(code)", " on(job)"]);
                format!(
                    "sum by (job, instance) ({}) {op}{m} sum by (job, instance) ({})",
                    self.vector(depth + 1),
                    self.vector(depth + 1)
                )
            }
            11 => {
                // info join: many-to-one with arithmetic only
                let op = *self.rng.pick(&["*", "+"]);
                format!(
                    "{} {op} on(instance) group_left(version) node_info",
                    self.vector(depth + 1)
                )
            }
            12 => {
                let op = *self.rng.pick(&["and", "or", "unless"]);
                let m = *self.rng.pick(&["", " on(job)", " ignoring(code)"]);
                format!(
                    "{} {op}{m} {}",
                    self.vector(depth + 1),
                    self.vector(depth + 1)
                )
            }
            _ => format!("vector({})", self.scalar(depth + 1)),
        }
    }

    fn scalar(&mut self, depth: u32) -> String {
        match self.rng.below(if depth >= 3 { 2 } else { 5 }) {
            0 => self
                .rng
                .pick(&["1", "0.5", "10", "-2", "0", "3e2"])
                .to_string(),
            1 => "time()".into(),
            2 => format!("scalar({})", self.vector(depth + 1)),
            3 => format!("({} * 2)", self.scalar(depth + 1)),
            _ => "pi()".into(),
        }
    }
}

type Points = BTreeMap<String, f64>;

fn ours(engine: &Engine, store: &Store, q: &str, t: i64) -> Result<Points, String> {
    let r = engine
        .instant_query(store, q, t)
        .map_err(|e| e.to_string())?;
    let mut out = Points::new();
    match r.value {
        Value::Vector(v) => {
            for s in v {
                out.insert(canonical(&s.labels), s.v);
            }
        }
        Value::Scalar { v, .. } => {
            out.insert("{}".into(), v);
        }
        other => return Err(format!("unexpected result {other:?}")),
    }
    Ok(out)
}

fn canonical(l: &Labels) -> String {
    let mut parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    parts.sort();
    format!("{{{}}}", parts.join(","))
}

fn theirs(client: &Client, q: &str, t: i64) -> Result<Points, String> {
    let series = client.query(q, t).map_err(|e| e.to_string())?;
    let mut out = Points::new();
    for (labels, samples) in series {
        if let Some(&(_, v)) = samples.last() {
            out.insert(canonical(&labels), v);
        }
    }
    Ok(out)
}

/// A range query's points, keyed by labels and time.
fn ours_range(
    engine: &Engine,
    store: &Store,
    q: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Points, String> {
    let r = engine
        .range_query(store, q, start, end, step)
        .map_err(|e| e.to_string())?;
    let mut out = Points::new();
    if let Value::Matrix(m) = r.value {
        for s in m {
            for (t, v) in s.points {
                out.insert(format!("{} @{t}", canonical(&s.labels)), v);
            }
        }
    }
    Ok(out)
}

fn theirs_range(
    client: &Client,
    q: &str,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Points, String> {
    let series = client
        .query_range(q, start, end, step)
        .map_err(|e| e.to_string())?;
    let mut out = Points::new();
    for (labels, samples) in series {
        for (t, v) in samples {
            out.insert(format!("{} @{t}", canonical(&labels)), v);
        }
    }
    Ok(out)
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-9
}

fn same(a: &Points, b: &Points) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && close(*va, *vb))
}

/// A difference explained by a documented change between Prometheus 2.42 and 3 (docs/differences.md).
/// Under `prometheus2` (ruletest's `--semantics 2`, compared on the grid) only tie orders of range queries may
/// differ: the other changes are what the mode reproduces.
fn known_difference(
    q: &str,
    ours: &Result<Points, String>,
    theirs: &Result<Points, String>,
    prometheus2: bool,
) -> Option<&'static str> {
    if prometheus2 {
        return tie_order(q, ours, theirs, true);
    }
    // stddev / stdvar of a group that starts with NaN or ±Inf is NaN since 3.0 (#14941); 2.42 answers 0,
    // which arithmetic around it may turn into another number. Every differing value must be NaN here.
    if q.contains("stddev") || q.contains("stdvar") {
        if let (Ok(a), Ok(b)) = (ours, theirs) {
            if a.keys().eq(b.keys())
                && a.iter()
                    .zip(b.values())
                    .all(|((_, x), y)| close(*x, *y) || x.is_nan())
            {
                return Some("stddev/stdvar of a lone NaN or Inf is NaN since 3.0 (#14941)");
            }
        }
    }
    if let Some(why) = tie_order(q, ours, theirs, false) {
        return Some(why);
    }
    // Since 3.9 a comparison used as a filter checks the matching's cardinality as arithmetic does
    // (#17668); 2.42 let a many-to-many filter through.
    if let (Err(e), Ok(_)) = (ours, theirs) {
        if e.starts_with("multiple matches for labels")
            && [" > ", " < ", " == ", " != ", " >= ", " <= "]
                .iter()
                .any(|op| q.contains(op))
        {
            return Some("cardinality checked in filter comparisons since 3.9 (#17668)");
        }
    }
    None
}

/// topk / bottomk among equal values (or NaNs): the same values, other labels. ruletest keeps the series
/// Prometheus's heap keeps, reading its input in the order Prometheus does (label order from a block), with
/// 2.42's algorithm under `--semantics 2` and 3's otherwise (2.44 changed it). Accepted only where that
/// cannot be predicted or is a 2.x -> 3.x change: off the grid (Prometheus 3's algorithm against 2.42's), and
/// in range queries, whose inner results Prometheus collects in a Go map (random order) before aggregating.
fn tie_order(
    q: &str,
    ours: &Result<Points, String>,
    theirs: &Result<Points, String>,
    on_grid: bool,
) -> Option<&'static str> {
    let is_range = |p: &Points| p.keys().any(|k| k.contains(" @"));
    if (q.contains("topk") || q.contains("bottomk"))
        && (!on_grid || matches!(theirs, Ok(b) if is_range(b)))
    {
        if let (Ok(a), Ok(b)) = (ours, theirs) {
            let values = |p: &Points| {
                // NaNs of either sign sort together.
                let mut v: Vec<f64> = p
                    .values()
                    .map(|x| if x.is_nan() { f64::NAN } else { *x })
                    .collect();
                v.sort_by(|x, y| x.total_cmp(y));
                v
            };
            let (va, vb) = (values(a), values(b));
            if va.len() == vb.len() && va.iter().zip(&vb).all(|(x, y)| close(*x, *y)) {
                return Some("topk/bottomk tie order");
            }
        }
    }
    None
}

#[test]
fn ruletest_agrees_with_prometheus_on_random_queries() {
    differential(false);
}

/// On the sample grid: samples, query times and `@` times all on 15 s boundaries, so windows' left edges hold
/// samples. Prometheus 2.42 counts them (closed windows); ruletest does under `--semantics 2`.
#[test]
fn on_the_grid_semantics_2_agrees_with_prometheus_2() {
    differential(true);
}

fn differential(on_grid: bool) {
    // A fixed seed by default, so CI is repeatable; `RULETEST_DIFF_SEED=random` draws one (printed) to explore.
    let seed: u64 = match std::env::var("RULETEST_DIFF_SEED").ok().as_deref() {
        Some("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
        Some(s) => s.parse().expect("RULETEST_DIFF_SEED: a number or `random`"),
        None => 20_261_206,
    };
    let queries: usize = std::env::var("RULETEST_DIFF_QUERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    eprintln!(
        "differential seed {seed}, on the grid: {on_grid} (replay: RULETEST_DIFF_SEED={seed})"
    );
    let mut rng = Rng(seed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Four hours of data ending an hour ago, on a minute boundary.
    let t0 = (now - 5 * 3_600_000) / 60_000 * 60_000;
    let store = series(&mut rng, t0, if on_grid { 0 } else { 7_000 }, on_grid);
    let server = PrometheusServer::start(&store);
    let mut o = ClientOptions::new(&server.url);
    o.timeout = Duration::from_secs(30);
    o.retries = 1;
    let client = Client::new(o).unwrap();
    // Prometheus 2.42 has no delayed name removal and no experimental functions.
    let engine = Engine::new(EngineOptions {
        delayed_name_removal: false,
        semantics: if on_grid {
            Semantics::PROMETHEUS2
        } else {
            Semantics::PROMETHEUS3
        },
        ..EngineOptions::default()
    });
    // Every window, offset and subquery reaches at most 2h15m back: query and `@` times start 2h30m into
    // the data, so no window holds a series' first sample (where 2.51 changed rate's extrapolation, #13725).
    let at_times: Vec<f64> = (0..8)
        .map(|k| (t0 + 9_000_000 + k * 600_000 + if on_grid { 0 } else { 3_000 }) as f64 / 1000.0)
        .collect();
    let mut gen = Gen {
        rng: &mut rng,
        at_times,
        at_in_subqueries: on_grid && std::env::var("RULETEST_DIFF_AT_SUBQUERIES").is_ok(),
    };
    let mut differences = Vec::new();
    let mut known = BTreeMap::<&str, usize>::new();
    let mut agreed_errors = 0;
    let (mut ranges, mut ranges_left) = (0, queries / 10);
    let mut nonempty = 0;
    // Prometheus's `timestamp(x @ T offset D)` quirk, at every `@` time with offsets below, at and beyond
    // the lookback and negative ones, at an ordinary time and as a range query.
    let mut fixed: Vec<String> = Vec::new();
    for at in gen.at_times.clone() {
        for d in ["90s", "4m", "5m", "1h", "-1m", "-5m"] {
            for sel in ["up", "http_requests_total{code=\"500\"}"] {
                fixed.push(format!("timestamp({sel} offset {d} @ {at:.3})"));
            }
        }
    }
    // On the grid (Prometheus 2 semantics), 2.42's sliding `@` ranges in calls that are not step-invariant
    // (prometheus#13559), as range queries below.
    if on_grid {
        for at in gen.at_times.clone() {
            fixed.push(format!("predict_linear(temperature[10m] @ {at:.3}, 600)"));
            fixed.push(format!(
                "predict_linear(http_requests_total{{code=\"500\"}}[5m] @ {at:.3} offset 1m, 0)"
            ));
            fixed.push(format!(
                "quantile_over_time(scalar(max(up)) / 2, temperature[15m] @ {at:.3})"
            ));
        }
        // `@` inside and on subqueries (2.42 asks its storage for ranges computed from the subqueries'
        // offsets and `@`, part of what 2.51 changed, prometheus#13559).
        for _ in 0..queries / 20 {
            fixed.push(gen.at_subquery());
        }
        // atan2 keeps the metric name before 2.47.
        for q in [
            "temperature atan2 2",
            "3 atan2 temperature",
            "temperature atan2 temperature",
            "up atan2 on(job, instance) temperature{room=\"a\"}",
        ] {
            fixed.push(q.to_string());
        }
    }
    let t_fixed = t0 + 9_000_000 + 1_234_567;
    let mut fixed_nonempty = 0;
    for q in &fixed {
        for (a, b) in [
            (
                ours(&engine, &store, q, t_fixed),
                theirs(&client, q, t_fixed),
            ),
            (
                ours_range(&engine, &store, q, t_fixed - 600_000, t_fixed, 60_000),
                theirs_range(&client, q, t_fixed - 600_000, t_fixed, 60_000),
            ),
        ] {
            let agree = match (&a, &b) {
                (Ok(x), Ok(y)) => same(x, y),
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if !agree {
                differences.push(format!(
                    "{q}\n  at {t_fixed}\n  ruletest:   {a:?}\n  prometheus: {b:?}"
                ));
            } else if matches!(&a, Ok(x) if !x.is_empty()) {
                fixed_nonempty += 1;
            }
        }
    }
    // Queries with `@` inside a subquery, or on one (the generator's subqueries end in `:30s]`, `:1m]`, `:2m]`).
    let mut at_subqueries = 0;
    for _ in 0..queries {
        let q = gen.vector(0);
        if q.contains(" @ ") && [":30s]", ":1m]", ":2m]"].iter().any(|s| q.contains(s)) {
            at_subqueries += 1;
        }
        // A time with milliseconds, in the last 90 minutes of data.
        let t = if on_grid {
            t0 + 9_000_000 + gen.rng.below(360) as i64 * STEP_MS
        } else {
            t0 + 9_000_000 + gen.rng.below(5_400) as i64 * 1000 + 1 + gen.rng.below(998) as i64
        };
        // Every tenth query also as a range query: 20 steps of 37 s, starting off the grid (30 s on it).
        // Off the grid (Prometheus 3 semantics) range queries leave `@` out: 2.42 slides an `@` range inside a
        // call that is not step-invariant (`predict_linear(x[5m] @ T, 60)`) with the step, which 2.51 fixed
        // (prometheus#13559); `--semantics 2` reproduces it, so the run on the grid keeps them.
        let (a, b) = if ranges_left > 0 && (on_grid || !q.contains(" @ ")) && gen.rng.chance(10) {
            ranges_left -= 1;
            ranges += 1;
            let step = if on_grid { 30_000 } else { 37_000 };
            let start = t - 19 * step;
            (
                ours_range(&engine, &store, &q, start, t, step),
                theirs_range(&client, &q, start, t, step),
            )
        } else {
            (ours(&engine, &store, &q, t), theirs(&client, &q, t))
        };
        let agree = match (&a, &b) {
            (Ok(x), Ok(y)) => same(x, y),
            (Err(_), Err(_)) => {
                agreed_errors += 1;
                true
            }
            _ => false,
        };
        if agree {
            if matches!(&a, Ok(x) if !x.is_empty()) {
                nonempty += 1;
            }
            continue;
        }
        match known_difference(&q, &a, &b, on_grid) {
            Some(why) => *known.entry(why).or_default() += 1,
            None => differences.push(format!(
                "{q}\n  at {t}\n  ruletest:   {a:?}\n  prometheus: {b:?}"
            )),
        }
    }
    eprintln!(
        "{queries} queries ({ranges} of them range queries, {at_subqueries} with `@` and a subquery): {nonempty} non-empty answers agreed, {agreed_errors} errors on both sides, known differences {known:?}, {} unexplained; {} fixed queries (instant and range): {fixed_nonempty} non-empty answers agreed",
        differences.len(),
        fixed.len()
    );
    // The generator must exercise the engine, not just agree on empty answers.
    assert!(nonempty * 2 > queries, "only {nonempty} non-empty answers");
    assert!(
        differences.is_empty(),
        "seed {seed}: {} differences (replay: RULETEST_DIFF_SEED={seed}):\n{}",
        differences.len(),
        differences
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
