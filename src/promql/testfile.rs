//! Runner for Prometheus's PromQL engine test scripts (the `.test` format: `load`, `clear`, `eval instant`,
//! `eval range`, `expect ...` lines). Each eval is one case that passes, fails with a reason, or is
//! skipped with a named reason (what the engine does not evaluate yet: the `anchored` / `smoothed` range
//! modifiers). An instant eval is also run as a one-step range query, and with `@ t` pinned on its selectors
//! (unless it calls a function of the evaluation time, as Prometheus's runner excepts them), and must give
//! the same answer each way.

use super::engine::{Engine, EngineOptions, EvalError};
use super::parse::Expr;
use super::syntax::ast::At;
use super::value::{format_value, Value};
use crate::series::histogram::FloatHistogram;
use crate::series::labels::METRIC_NAME;
use crate::series::notation::{
    expand_samples, parse_series_descriptor_prefix, parse_series_sequence, Run,
};
use crate::series::number::parse_number;
use crate::series::store::stale_nan;
use crate::series::{Labels, Store};
use crate::text::duration::parse_duration;
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseStatus {
    Passed,
    Failed,
    Skipped,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Failed => "failed",
            CaseStatus::Skipped => "skipped",
        }
    }
}

/// The outcome of one eval command.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseResult {
    /// 1-based line of the eval command.
    pub line: usize,
    pub expr: String,
    pub status: CaseStatus,
    /// Why it failed or was skipped; empty when it passed.
    pub message: String,
}

#[derive(Clone, Debug)]
enum Query {
    Instant(i64),
    Range { start: i64, end: i64, step: i64 },
}

#[derive(Clone, Debug)]
enum MsgCheck {
    Any,
    Exact(String),
    Regex(String),
}

/// One value of a result or an expectation: a float, or a native histogram with whether its counter-reset
/// hint counts (an expectation compares the hint only when it spells one out, as Prometheus's runner does).
#[derive(Clone, Debug)]
enum Point {
    Float(f64),
    Histogram(Arc<FloatHistogram>, bool),
}

impl Point {
    fn matches(&self, got: &Point) -> bool {
        match (self, got) {
            (Point::Float(a), Point::Float(b)) => floats_equal(*a, *b),
            (Point::Histogram(a, hint), Point::Histogram(b, _)) => {
                a.matches(b, *hint, floats_equal)
            }
            _ => false,
        }
    }

    fn of_sample(v: f64, h: &Option<Arc<FloatHistogram>>) -> Point {
        match h {
            Some(h) => Point::Histogram(h.clone(), false),
            None => Point::Float(v),
        }
    }
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Point::Float(v) => f.write_str(&format_value(*v)),
            Point::Histogram(h, _) => f.write_str(&h.go_string()),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Expect {
    fail: Option<MsgCheck>,
    warn: Vec<MsgCheck>,
    info: Vec<MsgCheck>,
    no_warn: bool,
    no_info: bool,
    ordered: bool,
    string: Option<String>,
    scalar: Option<f64>,
    /// Expected series: labels and per-step values (`None` = no point).
    series: Vec<(Labels, Vec<Option<Point>>)>,
    range_vector: Option<(i64, i64, i64)>,
    skip: Option<String>,
}

fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(ms) = parse_duration(s) {
        return Ok(ms);
    }
    if let Some(stripped) = s.strip_prefix('-') {
        if let Ok(ms) = parse_duration(stripped) {
            return Ok(-ms);
        }
    }
    s.parse::<f64>()
        .map(|f| (f * 1000.0).round() as i64)
        .map_err(|_| format!("invalid time {s:?}"))
}

fn parse_msg_check(rest: &str) -> MsgCheck {
    let rest = rest.trim();
    if let Some(m) = rest.strip_prefix("msg:") {
        MsgCheck::Exact(m.trim().to_string())
    } else if let Some(r) = rest.strip_prefix("regex:") {
        MsgCheck::Regex(r.trim().to_string())
    } else {
        MsgCheck::Any
    }
}

fn check_msg(c: &MsgCheck, msg: &str) -> bool {
    match c {
        MsgCheck::Any => true,
        MsgCheck::Exact(m) => m == msg,
        MsgCheck::Regex(r) => Regex::new(r).map(|re| re.is_match(msg)).unwrap_or(false),
    }
}

/// Relative comparison the engine tests use.
pub fn floats_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    if a == 0.0 || b == 0.0 || a.is_infinite() || b.is_infinite() {
        return false;
    }
    ((a - b).abs() / (a.abs() + b.abs())) < 1e-6
}

struct Runner {
    engine: Engine,
    store: Store,
    results: Vec<CaseResult>,
}

/// Runs one script's text and returns one result per eval command.
pub fn run_script(text: &str, opts: EngineOptions) -> Vec<CaseResult> {
    run_script_on(text, opts, Store::new())
}

/// [`run_script`] over `store` (empty): a store with compact history keeps its samples compact and decodes
/// all of them again for the queries after each `load`.
pub fn run_script_on(text: &str, opts: EngineOptions, store: Store) -> Vec<CaseResult> {
    let mut r = Runner {
        engine: Engine::new(opts),
        store,
        results: Vec::new(),
    };
    // Loads then write each sample compact and shown (start timestamps need the samples shown).
    r.store.set_window(i64::MIN, i64::MAX);
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        // A block runs to the next blank line; comment lines inside are skipped.
        let start = i;
        let mut j = i + 1;
        let mut body: Vec<(usize, &str)> = Vec::new();
        let word = line.split_whitespace().next().unwrap_or("");
        while j < lines.len() && !lines[j].trim().is_empty() && word != "clear" {
            let l = lines[j].trim();
            let w = l.split_whitespace().next().unwrap_or("");
            if w == "clear" || w == "load" || w == "load_with_nhcb" || w.starts_with("eval") {
                break;
            }
            if !l.starts_with('#') {
                body.push((j + 1, l));
            }
            j += 1;
        }
        i = j;
        match word {
            "clear" => {
                r.store.clear();
                r.store.set_window(i64::MIN, i64::MAX);
            }
            "load" | "load_with_nhcb" => {
                // As Prometheus: the step is everything after the command word and must be a duration;
                // guessing one would run every eval below over the wrong data.
                let step = line[word.len()..].trim();
                match parse_duration(step) {
                    Ok(interval) if interval > 0 => {
                        r.load(&body, interval, word == "load_with_nhcb");
                        r.store.show_all();
                    }
                    Ok(_) => r.fail(
                        start + 1,
                        line,
                        format!("invalid step {step:?} in load command: must be positive"),
                    ),
                    Err(e) => r.fail(
                        start + 1,
                        line,
                        format!("invalid load command ({word} <step:duration>): {e}"),
                    ),
                }
            }
            w if w.starts_with("eval") => r.eval(start + 1, line, &body),
            _ => {
                r.results.push(CaseResult {
                    line: start + 1,
                    expr: line.to_string(),
                    status: CaseStatus::Failed,
                    message: format!("unknown command {word:?}"),
                });
            }
        }
    }
    r.results
}

impl Runner {
    fn fail(&mut self, line: usize, what: &str, message: String) {
        self.push(line, what, CaseStatus::Failed, message);
    }

    fn load(&mut self, body: &[(usize, &str)], interval: i64, nhcb: bool) {
        use crate::series::nhcb::{classic_part, ClassicHistogram, ClassicPart};
        // With `load_with_nhcb`: per family (labels without `le`, the base name) and timestamp, the classic
        // histogram its series describe, converted after the block's lines are read.
        let mut classic: Vec<(Labels, std::collections::BTreeMap<i64, ClassicHistogram>)> =
            Vec::new();
        let mut classic_at: HashMap<Labels, usize> = HashMap::new();
        // A `metric@st <offsets>` line gives the start timestamps of the next line's samples.
        let mut pending_st: Option<StartOffsets> = None;
        for &(line_no, l) in body {
            if let Some(st) = start_timestamp_line(l) {
                match st {
                    Ok(st) => pending_st = Some(st),
                    Err(e) => self.fail(line_no, l, format!("cannot read @st line: {e}")),
                }
                continue;
            }
            let (labels, seq) = match parse_series_sequence(l) {
                Ok(x) => x,
                // Other start-timestamp syntax we do not read: ignored here, and evals over such data are
                // reported when they run.
                Err(_) if is_start_timestamp_line(l) => continue,
                // Anything else is a broken fixture line, an error in Prometheus too.
                Err(e) => {
                    self.fail(line_no, l, format!("cannot read load line: {e}"));
                    continue;
                }
            };
            let id = self.store.series_id(&labels);
            // Expanded once: stored, and read again below for `load_with_nhcb`.
            let expanded = expand_samples(&seq.runs, 0, interval);
            expanded.append_to(&mut self.store, id);
            seq.append_histograms_to(&mut self.store, id, 0, interval);
            if let Some((st_labels, offsets)) = pending_st.take() {
                if st_labels != labels {
                    self.fail(
                        line_no,
                        l,
                        format!("the @st line before it is for {st_labels}, not {labels}"),
                    );
                } else if let Some(s) = self.store.get(id) {
                    use crate::series::start_timestamps::at_slot;
                    let slot = |t: i64| usize::try_from(t / interval.max(1)).unwrap_or(0);
                    let st = crate::series::store::StartTimestamps {
                        floats: s
                            .samples
                            .iter()
                            .map(|&(t, _)| at_slot(&offsets, slot(t), t))
                            .collect(),
                        histograms: s
                            .visible_histograms()
                            .iter()
                            .map(|(t, _)| at_slot(&offsets, slot(*t), *t))
                            .collect(),
                    };
                    self.store.set_start_timestamps(id, st);
                }
            }
            if !nhcb {
                continue;
            }
            let Some((part, base)) = labels.name().and_then(classic_part) else {
                continue;
            };
            let le = match part {
                ClassicPart::Bucket => match labels.get("le").and_then(parse_number) {
                    Some(le) => Some(le),
                    None => continue,
                },
                _ => None,
            };
            let family = labels.remove("le").set(METRIC_NAME, base);
            let k = *classic_at.entry(family.clone()).or_insert_with(|| {
                classic.push((family, Default::default()));
                classic.len() - 1
            });
            for &(t, v) in expanded.samples.iter() {
                if crate::series::is_stale(v) {
                    continue;
                }
                let h = classic[k].1.entry(t).or_default();
                match (part, le) {
                    (ClassicPart::Bucket, Some(le)) => h.set_bucket(le, v),
                    (ClassicPart::Count, _) => h.set_count(v),
                    (ClassicPart::Sum, _) => h.set_sum(v),
                    _ => {}
                }
            }
        }
        for (family, by_time) in classic {
            for (t, h) in by_time {
                match h.convert() {
                    Ok(h) => self
                        .store
                        .append_histogram(&family, t, std::sync::Arc::new(h)),
                    Err(e) => {
                        let line = body.first().map_or(0, |b| b.0);
                        self.fail(
                            line,
                            "load_with_nhcb",
                            format!("cannot convert {family} to a native histogram: {e}"),
                        );
                        return;
                    }
                }
            }
        }
    }

    fn push(&mut self, line: usize, expr: &str, status: CaseStatus, message: String) {
        self.results.push(CaseResult {
            line,
            expr: expr.to_string(),
            status,
            message,
        });
    }

    fn eval(&mut self, line_no: usize, line: &str, body: &[(usize, &str)]) {
        let (query, expr, mut ex) = match parse_eval_line(line) {
            Ok(x) => x,
            Err(e) => {
                self.push(line_no, line, CaseStatus::Failed, e);
                return;
            }
        };
        for &(_, l) in body {
            if let Err(e) = parse_expect_line(l, &query, &mut ex) {
                self.push(line_no, &expr, CaseStatus::Failed, e);
                return;
            }
        }
        if let Some(reason) = ex.skip.clone() {
            self.push(line_no, &expr, CaseStatus::Skipped, reason);
            return;
        }
        let (status, msg) = match self.check(&query, &expr, &ex) {
            Ok(()) => (CaseStatus::Passed, String::new()),
            Err(Outcome::Skip(m)) => (CaseStatus::Skipped, m),
            Err(Outcome::Fail(m)) => (CaseStatus::Failed, m),
        };
        self.push(line_no, &expr, status, msg);
    }

    fn run_query(&self, query: &Query, expr: &str) -> Result<super::value::QueryResult, EvalError> {
        match *query {
            Query::Instant(t) => self.engine.instant_query(&self.store, expr, t),
            Query::Range { start, end, step } => {
                self.engine.range_query(&self.store, expr, start, end, step)
            }
        }
    }

    fn check(&self, query: &Query, expr: &str, ex: &Expect) -> Result<(), Outcome> {
        let res = self.run_query(query, expr);
        let res = match (res, &ex.fail) {
            (Err(e), Some(c)) => {
                let msg = e.to_string();
                return if check_msg(c, &msg) {
                    Ok(())
                } else {
                    Err(Outcome::Fail(format!("expected error {c:?}, got {msg:?}")))
                };
            }
            (Err(EvalError::Unsupported(m)), None) => {
                return Err(Outcome::Skip(format!("unsupported: {m}")))
            }
            (Err(e), None) => return Err(Outcome::Fail(format!("unexpected error: {e}"))),
            (Ok(_), Some(_)) => {
                return Err(Outcome::Fail(
                    "expected the query to fail, it succeeded".into(),
                ))
            }
            (Ok(r), None) => r,
        };
        check_annotations("warn", &ex.warn, ex.no_warn, &res.warnings)?;
        check_annotations("info", &ex.info, ex.no_info, &res.infos)?;
        compare(&res.value, query, ex)?;
        // The reference runner also runs an instant query as a one-step range query.
        if let Query::Instant(t) = *query {
            if matches!(res.value, Value::Vector(_) | Value::Scalar { .. }) {
                // step() and range() describe the query's shape, which differs by construction here.
                let lower = expr.to_ascii_lowercase();
                if lower.contains("step()") || lower.contains("range()") {
                    return Ok(());
                }
                let rr = self
                    .engine
                    .range_query(&self.store, expr, t, t, 60_000)
                    .map_err(|e| {
                        Outcome::Fail(format!("as a one-step range query: unexpected error: {e}"))
                    })?;
                let as_vec = matrix_at(&rr.value, t);
                let orig = vector_points(&res.value);
                if !same_points(&as_vec, &orig) {
                    return Err(Outcome::Fail(format!(
                        "as a one-step range query: got {} but the instant query got {}",
                        show_points(&as_vec),
                        show_points(&orig)
                    )));
                }
                // And with `@ t` pinned on every selector and subquery that has none, unless a function
                // whose value moves with the evaluation time takes part (Prometheus's runner skips those too).
                if let Some(mut pinned) = super::parse(expr).ok().filter(|e| !calls_at_unsafe(e)) {
                    pin_at(&mut pinned, t);
                    let pr = self
                        .engine
                        .instant_with_text(&self.store, &pinned, expr, t)
                        .map_err(|e| {
                            Outcome::Fail(format!("with @ pinned: unexpected error: {e}"))
                        })?;
                    let got = vector_points(&pr.value);
                    if !same_points(&got, &orig) {
                        return Err(Outcome::Fail(format!(
                            "with @ {} pinned: got {} but the plain query got {}",
                            t as f64 / 1000.0,
                            show_points(&got),
                            show_points(&orig)
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `e` calls a function Prometheus's runner does not check with `@` pinned
/// (`AtModifierUnsafeFunctions`: their result moves with the evaluation time, or is the argument's timestamp).
fn calls_at_unsafe(e: &Expr) -> bool {
    const UNSAFE: [&str; 15] = [
        "days_in_month",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "end",
        "hour",
        "minute",
        "month",
        "year",
        "predict_linear",
        "range",
        "start",
        "step",
        "time",
        "timestamp",
    ];
    let mut found = false;
    super::parse::walk(e, &mut |n| {
        if let Expr::Call { func, .. } = n {
            found |= UNSAFE.contains(&func.as_str());
        }
    });
    found
}

/// Sets `@ t` on every selector and subquery of `e` that has no `@` yet (not inside subqueries).
/// A series and the start-timestamp offsets of its samples, one per slot.
type StartOffsets = (Labels, Vec<Option<i64>>);

/// `metric{...}@st <offsets>`: the labels and the start-timestamp offsets of the next line's samples;
/// `None` for any other line.
fn start_timestamp_line(l: &str) -> Option<Result<StartOffsets, String>> {
    let (labels, end) = parse_series_descriptor_prefix(l).ok()?;
    let rest = l[end..].strip_prefix("@st")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(crate::series::start_timestamps::parse_offsets(rest).map(|o| (labels, o)))
}

/// `metric{...}@<start> values`: a series with a start timestamp (Prometheus 3.x test syntax).
fn is_start_timestamp_line(l: &str) -> bool {
    parse_series_descriptor_prefix(l)
        .map(|(_, end)| l[end..].trim_start().starts_with('@'))
        .unwrap_or(false)
        || l.split_whitespace()
            .next()
            .is_some_and(|first| first.contains('@'))
}

fn pin_at(e: &mut Expr, t: i64) {
    let at = || Some(At::Time(t));
    match e {
        Expr::Vector(vs) if vs.at.is_none() => vs.at = at(),
        Expr::Matrix { selector, .. } if selector.at.is_none() => selector.at = at(),
        // Selectors inside a subquery read at the subquery's own steps, so only the subquery is pinned.
        Expr::Subquery { at: a, .. } if a.is_none() => *a = at(),
        Expr::Aggregate { expr, param, .. } => {
            pin_at(expr, t);
            if let Some(p) = param {
                pin_at(p, t);
            }
        }
        Expr::Unary { expr, .. } | Expr::Paren { expr, .. } => pin_at(expr, t),
        Expr::Binary { lhs, rhs, .. } => {
            pin_at(lhs, t);
            pin_at(rhs, t);
        }
        Expr::Call { args, .. } => {
            for a in args {
                pin_at(a, t);
            }
        }
        _ => {}
    }
}

enum Outcome {
    Fail(String),
    Skip(String),
}

fn check_annotations(
    kind: &str,
    checks: &[MsgCheck],
    none: bool,
    got: &[String],
) -> Result<(), Outcome> {
    if none && !got.is_empty() {
        return Err(Outcome::Fail(format!(
            "expected no {kind} annotations, got {got:?}"
        )));
    }
    if checks.is_empty() {
        return Ok(());
    }
    if got.is_empty() {
        return Err(Outcome::Fail(format!(
            "expected {kind} annotations, got none"
        )));
    }
    for g in got {
        if !checks.iter().any(|c| check_msg(c, g)) {
            return Err(Outcome::Fail(format!("unexpected {kind} annotation {g:?}")));
        }
    }
    for c in checks {
        if !got.iter().any(|g| check_msg(c, g)) {
            return Err(Outcome::Fail(format!(
                "expected {kind} annotation {c:?}, got {got:?}"
            )));
        }
    }
    Ok(())
}

fn parse_eval_line(line: &str) -> Result<(Query, String, Expect), String> {
    let mut ex = Expect::default();
    let (cmd, rest) = line
        .split_once(char::is_whitespace)
        .ok_or("eval without a query")?;
    match cmd {
        "eval" => {}
        "eval_fail" => ex.fail = Some(MsgCheck::Any),
        "eval_warn" => ex.warn.push(MsgCheck::Any),
        "eval_info" => ex.info.push(MsgCheck::Any),
        "eval_ordered" => ex.ordered = true,
        other => return Err(format!("unknown command {other:?}")),
    }
    let rest = rest.trim_start();
    if let Some(r) = rest.strip_prefix("instant") {
        let r = r.trim_start();
        let r = r.strip_prefix("at").ok_or("expected \"at\"")?.trim_start();
        let (t, expr) = r.split_once(char::is_whitespace).ok_or("missing query")?;
        Ok((Query::Instant(parse_time(t)?), expr.trim().to_string(), ex))
    } else if let Some(r) = rest.strip_prefix("range") {
        let r = r
            .trim_start()
            .strip_prefix("from")
            .ok_or("expected \"from\"")?
            .trim_start();
        let (from, r) = r.split_once(" to ").ok_or("expected \"to\"")?;
        let (to, r) = r
            .trim_start()
            .split_once(" step ")
            .ok_or("expected \"step\"")?;
        let (step, expr) = r
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or("missing query")?;
        let q = Query::Range {
            start: parse_time(from)?,
            end: parse_time(to)?,
            step: parse_time(step)?,
        };
        Ok((q, expr.trim().to_string(), ex))
    } else {
        Err(format!("cannot read eval line {line:?}"))
    }
}

fn steps_of(q: &Query) -> usize {
    match *q {
        Query::Instant(_) => 1,
        Query::Range { start, end, step } if step > 0 && end >= start => {
            ((end - start) / step) as usize + 1
        }
        _ => 0,
    }
}

fn parse_expect_line(l: &str, q: &Query, ex: &mut Expect) -> Result<(), String> {
    if let Some(rest) = l.strip_prefix("expect ") {
        let rest = rest.trim();
        let (word, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        match word {
            "fail" => ex.fail = Some(parse_msg_check(tail)),
            "warn" => ex.warn.push(parse_msg_check(tail)),
            "info" => ex.info.push(parse_msg_check(tail)),
            "no_warn" => ex.no_warn = true,
            "no_info" => ex.no_info = true,
            "ordered" => ex.ordered = true,
            "string" => {
                let t = tail.trim();
                let s = t
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .or_else(|| t.strip_prefix('`').and_then(|t| t.strip_suffix('`')))
                    .unwrap_or(t);
                ex.string = Some(s.replace("\\\"", "\"").replace("\\\\", "\\"));
            }
            "range" => {
                // expect range vector from <t> to <t> step <d>
                let t = tail
                    .trim()
                    .strip_prefix("vector")
                    .ok_or("expected \"range vector\"")?
                    .trim();
                let t = t.strip_prefix("from").ok_or("expected \"from\"")?.trim();
                let (a, t) = t.split_once(" to ").ok_or("expected \"to\"")?;
                let (b, c) = t.split_once(" step ").ok_or("expected \"step\"")?;
                let (from, to, step) = (parse_time(a)?, parse_time(b)?, parse_time(c)?);
                // Prometheus's promqltest refuses these too; a start after the end once overflowed the
                // expected sample count (found by fuzzing).
                if to < from {
                    return Err(format!(
                        "invalid range vector: its start {} is after its end {}",
                        a.trim(),
                        b.trim()
                    ));
                }
                if step <= 0 {
                    return Err(format!(
                        "invalid range vector: step {} is not positive",
                        c.trim()
                    ));
                }
                ex.range_vector = Some((from, to, step));
            }
            other => return Err(format!("unknown expectation {other:?}")),
        }
        return Ok(());
    }
    if let Some(v) = parse_number(l) {
        ex.scalar = Some(v);
        return Ok(());
    }
    let (labels, seq) =
        parse_series_sequence(l).map_err(|e| format!("cannot read expected series {l:?}: {e}"))?;
    let n = match (ex.range_vector, q) {
        (Some((a, b, c)), _) if c > 0 => ((b - a) / c) as usize + 1,
        _ => steps_of(q),
    };
    let mut v: Vec<Option<Point>> = Vec::new();
    for run in &seq.runs {
        match *run {
            Run::Missing(k) => v.extend(std::iter::repeat_n(None, k as usize)),
            Run::Stale(k) => v.extend(std::iter::repeat_n(
                Some(Point::Float(stale_nan())),
                k as usize,
            )),
            Run::Floats { first, step, count } => {
                let mut x = first;
                for i in 0..count {
                    if i > 0 {
                        x += step;
                    }
                    v.push(Some(Point::Float(x)));
                }
            }
        }
    }
    for (slot, h, hint_set) in seq.histograms {
        if let Some(p) = v.get_mut(slot as usize) {
            *p = Some(Point::Histogram(h, hint_set));
        }
    }
    if v.len() < n {
        v.resize(n, None);
    }
    ex.series.push((labels, v));
    Ok(())
}

type Points = Vec<(Labels, Point)>;

fn vector_points(v: &Value) -> Points {
    match v {
        Value::Vector(s) => s
            .iter()
            .map(|s| (s.labels.clone(), Point::of_sample(s.v, &s.h)))
            .collect(),
        Value::Scalar { v, .. } => vec![(Labels::empty(), Point::Float(*v))],
        _ => Vec::new(),
    }
}

/// The points of a series in time order, floats and histograms together.
fn series_points(s: &super::value::Series) -> Vec<(i64, Point)> {
    let mut p: Vec<(i64, Point)> = s
        .points
        .iter()
        .map(|&(t, v)| (t, Point::Float(v)))
        .chain(
            s.histograms
                .iter()
                .map(|(t, h)| (*t, Point::Histogram(h.clone(), false))),
        )
        .collect();
    p.sort_by_key(|(t, _)| *t);
    p
}

fn matrix_at(v: &Value, t: i64) -> Points {
    match v {
        Value::Matrix(m) => m
            .iter()
            .filter_map(|s| {
                series_points(s)
                    .into_iter()
                    .find(|p| p.0 == t)
                    .map(|p| (s.labels.clone(), p.1))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn same_points(a: &Points, b: &Points) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(l, v)| b.iter().any(|(l2, v2)| l == l2 && v.matches(v2)))
}

fn show_points(p: &Points) -> String {
    let parts: Vec<String> = p.iter().map(|(l, v)| format!("{l} {v}")).collect();
    format!("[{}]", parts.join(", "))
}

fn compare(v: &Value, q: &Query, ex: &Expect) -> Result<(), Outcome> {
    let fail = |m: String| Err(Outcome::Fail(m));
    if let Some(s) = &ex.string {
        return match v {
            Value::String { s: got, .. } if got == s => Ok(()),
            other => fail(format!("expected string {s:?}, got {other:?}")),
        };
    }
    if let Some(x) = ex.scalar {
        return match v {
            Value::Scalar { v, .. } if floats_equal(*v, x) => Ok(()),
            Value::Scalar { v, .. } => fail(format!(
                "expected scalar {}, got {}",
                format_value(x),
                format_value(*v)
            )),
            other => fail(format!(
                "expected scalar {}, got {}",
                format_value(x),
                other.type_name()
            )),
        };
    }
    match v {
        Value::Scalar { v, .. } => fail(format!(
            "expected {} series, got scalar {}",
            ex.series.len(),
            format_value(*v)
        )),
        Value::String { s, .. } => fail(format!("expected series, got string {s:?}")),
        Value::Vector(got) => {
            if got.len() != ex.series.len() {
                return fail(format!(
                    "expected {} samples, got {}: {}",
                    ex.series.len(),
                    got.len(),
                    show_points(&vector_points(v))
                ));
            }
            for (k, (l, vals)) in ex.series.iter().enumerate() {
                let want = vals.first().cloned().flatten();
                let found = if ex.ordered {
                    got.get(k).filter(|s| &s.labels == l)
                } else {
                    got.iter().find(|s| &s.labels == l)
                };
                match (found, want) {
                    (Some(s), Some(w)) if w.matches(&Point::of_sample(s.v, &s.h)) => {}
                    (Some(s), Some(w)) => {
                        return fail(format!(
                            "{l}: expected {w}, got {}",
                            Point::of_sample(s.v, &s.h)
                        ))
                    }
                    (None, _) if ex.ordered => {
                        return fail(format!(
                            "expected {l} at position {k}: {}",
                            show_points(&vector_points(v))
                        ))
                    }
                    (None, _) => {
                        return fail(format!(
                            "expected {l}, not in result {}",
                            show_points(&vector_points(v))
                        ))
                    }
                    (Some(_), None) => return fail(format!("{l}: expected no value")),
                }
            }
            Ok(())
        }
        Value::Matrix(got) => {
            let (start, step) = match (ex.range_vector, q) {
                (Some((a, _, c)), _) => (a, c),
                (None, Query::Range { start, step, .. }) => (*start, *step),
                (None, Query::Instant(_)) => {
                    return fail("got a range vector where an instant result was expected".into())
                }
            };
            let expected_nonempty: Vec<&(Labels, Vec<Option<Point>>)> = ex
                .series
                .iter()
                .filter(|(_, v)| v.iter().any(Option::is_some))
                .collect();
            if got.len() != expected_nonempty.len() {
                let names: Vec<String> = got.iter().map(|s| s.labels.to_string()).collect();
                return fail(format!(
                    "expected {} series, got {}: {}",
                    expected_nonempty.len(),
                    got.len(),
                    names.join(", ")
                ));
            }
            for (l, vals) in expected_nonempty {
                let Some(s) = got.iter().find(|s| &s.labels == l) else {
                    return fail(format!("expected series {l} not in result"));
                };
                let want: Vec<(i64, Point)> = vals
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| v.clone().map(|v| (start + k as i64 * step, v)))
                    .collect();
                let got_points = series_points(s);
                let ok = want.len() == got_points.len()
                    && want
                        .iter()
                        .zip(&got_points)
                        .all(|(a, b)| a.0 == b.0 && a.1.matches(&b.1));
                if !ok {
                    let show = |p: &[(i64, Point)]| {
                        p.iter()
                            .map(|(t, v)| format!("{v}@{}", t / 1000))
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    return fail(format!(
                        "{l}: expected [{}], got [{}]",
                        show(&want),
                        show(&got_points)
                    ));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_script() {
        let text = "load 5m\n  x{a=\"1\"} 0+10x10\n  x{a=\"2\"} 0+20x10\n\neval instant at 10m sum(x)\n  {} 60\n\neval instant at 10m x{a=\"1\"}\n  x{a=\"1\"} 999\n\neval range from 0 to 10m step 5m x{a=\"1\"}\n  x{a=\"1\"} 0 10 20\n\neval instant at 0m foo(\n  expect fail\n";
        let r = run_script(text, EngineOptions::default());
        let st: Vec<CaseStatus> = r.iter().map(|c| c.status).collect();
        assert_eq!(
            st,
            vec![
                CaseStatus::Passed,
                CaseStatus::Failed,
                CaseStatus::Passed,
                CaseStatus::Passed
            ]
        );
        assert_eq!(r[1].line, 8);
    }

    #[test]
    fn broken_load_commands_fail_at_their_line() {
        let r = run_script("load 5 min\n  x 1 2\n", EngineOptions::default());
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].line, r[0].status), (1, CaseStatus::Failed));
        assert!(
            r[0].message.contains("invalid load command"),
            "{}",
            r[0].message
        );
        let r = run_script("load 1m\n  x 1 2\n  y 1 b\n", EngineOptions::default());
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].line, r[0].status), (3, CaseStatus::Failed));
        // Start-timestamp lines give the next line's starts; a sequence that is not one fails at its line.
        assert!(run_script(
            "load 1m\n  x{a=\"b\"}@st _ -1m\n  x{a=\"b\"} 1 2\n",
            EngineOptions::default()
        )
        .is_empty());
        let r = run_script("load 1m\n  x{a=\"b\"}@st _ 1\n", EngineOptions::default());
        assert_eq!((r[0].line, r[0].status), (2, CaseStatus::Failed));
        assert!(
            r[0].message.contains("cannot read @st line"),
            "{}",
            r[0].message
        );
    }
}
