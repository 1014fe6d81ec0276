//! Rule unit tests in promtool's format: load a test file's rule files, feed each test group's input series
//! into a store, evaluate the rule groups tick by tick (range-native where possible) and compare the firing
//! alerts and PromQL results with the expectations, with promtool's verdicts.
//!
//! Input: a [`TestFile`] and the path it came from. Output: [`FileResult`] with one [`GroupResult`] per test
//! group, each failure described structurally so `report` can show a diff.

use crate::diag::{Diagnostic, Severity};
use crate::load::documents::{self, Kind, Loaded};
use crate::load::rules::{load_rule_file, RuleFile};
use crate::load::testfile::{TestFile, TestGroup};
use crate::promql::{Engine, EngineOptions, Value};
use crate::rules::group::{
    evaluate, render_annotations, Mode, RuleSet, Settings, StoreQuery, DEFAULT_CHUNK_TICKS,
};
use crate::series::notation::{
    expand_samples, parse_sequence, parse_series_descriptor, Expanded, Sequence,
};
use crate::series::store::Store;
use crate::series::Labels;
use crate::text::duration::format_duration;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// An alert as compared: labels and annotations, both sorted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct AlertView {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SampleView {
    pub labels: String,
    pub value: f64,
    /// A native histogram sample, in the test notation promtool compares (`value` is then 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// An alert test's firing alerts differ.
    Alerts {
        alertname: String,
        eval_time: String,
        line: u32,
        expected: Vec<AlertView>,
        got: Vec<AlertView>,
    },
    /// A PromQL expression test's result differs.
    Samples {
        expr: String,
        eval_time: String,
        line: u32,
        expected: Vec<SampleView>,
        got: Vec<SampleView>,
    },
    /// The expression of a PromQL test failed.
    Query {
        expr: String,
        eval_time: String,
        line: u32,
        message: String,
    },
    /// A rule failed to evaluate (promtool fails the test group on these).
    RuleEval {
        rule: String,
        /// `file:line` of the rule's expression.
        at: String,
        time: String,
        message: String,
    },
    /// A template error while rendering annotations (Prometheus puts the error text in the annotation).
    Template { alertname: String, message: String },
    /// The group could not be set up (bad input series, ...).
    Setup { message: String, line: u32 },
    /// A `routes_test` case got another verdict than expected (`what`: receivers, inhibited or muted).
    Route {
        line: u32,
        labels: BTreeMap<String, String>,
        what: String,
        expected: String,
        got: String,
    },
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct GroupResult {
    pub name: String,
    pub line: u32,
    pub failures: Vec<Failure>,
    /// Whether the rules were evaluated range-natively.
    pub range_native: bool,
}

impl GroupResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct FileResult {
    pub file: String,
    /// Problems that stop the whole file (unreadable, bad rule files): the file fails.
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
    pub groups: Vec<GroupResult>,
    /// With [`Options::coverage`]: how the groups that ran reach each rule of the file's rule files.
    #[serde(skip)]
    pub coverage: Vec<crate::rules::coverage::RuleCoverage>,
}

impl FileResult {
    pub fn passed(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
            && self.groups.iter().all(GroupResult::passed)
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only groups whose name matches one of these (all when empty).
    pub run: Vec<regex::Regex>,
    pub mode: Mode,
    /// Fields a test file does not know are not errors (promtool's `--ignore-unknown-fields`).
    pub ignore_unknown_fields: bool,
    /// Work out which rules the tests reach ([`crate::rules::coverage`]).
    pub coverage: bool,
}

/// Runs every test file found in `loaded` (the documents of the paths given).
pub fn run_loaded(loaded: &Loaded, opts: &Options) -> Vec<FileResult> {
    loaded
        .items_of(Kind::TestFile)
        .map(|item| {
            let (tf, diags) = crate::load::testfile::load_test_file(item);
            run_parsed(&tf, &diags, opts, &|_| None)
        })
        .collect()
}

/// A rule file read for a test: from disk ([`read_rule_file`]), or one its caller already read (a
/// project's), so a test naming it does not read it again.
#[derive(Default)]
pub struct ReadFile {
    /// Why the file could not be read at all.
    pub unreadable: Option<String>,
    /// What reading the file found (YAML errors, ...).
    pub diagnostics: Vec<Diagnostic>,
    /// Its rule files (one per PrometheusRule object in it), each with what reading it found.
    pub rule_files: Vec<(RuleFile, Vec<Diagnostic>)>,
}

/// Reads the rule file at `path` from disk.
pub fn read_rule_file(path: &Path) -> ReadFile {
    let mut loaded = Loaded::default();
    let unreadable = documents::load_file(path, &mut loaded)
        .err()
        .map(|e| e.to_string());
    let rule_files = loaded
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::RuleFile | Kind::PrometheusRule))
        .map(load_rule_file)
        .collect();
    ReadFile {
        unreadable,
        diagnostics: loaded.diagnostics,
        rule_files,
    }
}

/// Finds a rule file its caller already read, by the path a test's `rule_files` matched.
pub type Known<'a> = dyn Fn(&Path) -> Option<ReadFile> + 'a;

/// Runs one test file already read (`diagnostics`: what reading it found; a file with errors runs nothing).
/// The rule files it names are taken from `known` where it has them, else read from disk.
pub fn run_parsed(
    tf: &TestFile,
    diagnostics: &[Diagnostic],
    opts: &Options,
    known: &Known<'_>,
) -> FileResult {
    let mut diags = diagnostics.to_vec();
    if opts.ignore_unknown_fields {
        diags.retain(|d| d.code != "test/unknown-field");
    }
    let mut res = FileResult {
        file: tf.file.to_string(),
        diagnostics: diags,
        groups: Vec::new(),
        coverage: Vec::new(),
    };
    if !res
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        run_file(tf, &mut res, opts, known);
    }
    res
}

fn run_file(tf: &TestFile, res: &mut FileResult, opts: &Options, known: &Known<'_>) {
    let base = Path::new(&*tf.file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut rule_files: Vec<RuleFile> = Vec::new();
    for pattern in &tf.rule_files {
        let full = base.join(&pattern.value);
        let full_s = full.to_string_lossy().to_string();
        let matched: Vec<PathBuf> = match glob::glob(&full_s) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            Err(e) => {
                res.diagnostics.push(
                    Diagnostic::error(
                        "test/bad-glob",
                        format!("rule_files: bad pattern {:?}: {e}", pattern.value),
                    )
                    .at(&tf.file, pattern.pos),
                );
                continue;
            }
        };
        if matched.is_empty() {
            res.diagnostics.push(
                Diagnostic::error(
                    "test/no-rule-files",
                    format!("rule_files: {:?} matches no file", pattern.value),
                )
                .at(&tf.file, pattern.pos)
                .help("rule_files are relative to the test file; check the path"),
            );
            continue;
        }
        // promtool's --ignore-unknown-fields reaches the rule files too (`rulefmt.ParseFile`).
        let keep = |d: &Diagnostic| {
            d.severity == Severity::Error
                && !(opts.ignore_unknown_fields && d.code == "rule/unknown-field")
        };
        for p in matched {
            let read = known(&p).unwrap_or_else(|| read_rule_file(&p));
            if let Some(e) = read.unreadable {
                res.diagnostics
                    .push(Diagnostic::error("test/rule-file", e).at(&tf.file, pattern.pos));
            }
            res.diagnostics.extend(read.diagnostics);
            for (rf, d) in read.rule_files {
                res.diagnostics.extend(d.into_iter().filter(keep));
                rule_files.push(rf);
            }
        }
    }
    if res
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        return;
    }
    let set = match RuleSet::prepare(&rule_files, &tf.group_eval_order) {
        Ok(s) => s,
        Err(e) => {
            res.diagnostics
                .push(Diagnostic::error("test/rule-file", e.to_string()));
            return;
        }
    };
    let selected: Vec<&TestGroup> = tf
        .tests
        .iter()
        .filter(|g| opts.run.is_empty() || opts.run.iter().any(|r| r.is_match(&g.name)))
        .collect();
    // Test groups are independent (each has its own store): several run side by side, each on one thread;
    // a lone group keeps the cores for its own independent rules.
    let inner = if selected.len() > 1 {
        1
    } else {
        crate::parallel::threads()
    };
    res.groups.extend(crate::parallel::map(&selected, |g| {
        crate::parallel::with_threads(inner, || run_group(tf, g, &set, opts))
    }));
    if opts.coverage {
        res.coverage = crate::rules::coverage::of(&set, &selected);
    }
    if let Some(path) = &tf.alertmanager_config {
        if opts.run.is_empty() || opts.run.iter().any(|r| r.is_match(ROUTES_GROUP)) {
            run_routes_tests(tf, &base, path, &rule_files, res);
        }
    }
}

/// The name `routes_test` cases are reported under (one group per file).
pub const ROUTES_GROUP: &str = "routes_test";

fn run_routes_tests(
    tf: &TestFile,
    base: &Path,
    path: &crate::load::rules::Spanned<String>,
    rule_files: &[RuleFile],
    res: &mut FileResult,
) {
    use crate::alertmanager::routes_test::{coverage, evaluate};
    let full = base.join(&path.value);
    let mut loaded = Loaded::default();
    if let Err(e) = documents::load_file(&full, &mut loaded) {
        res.diagnostics.push(
            Diagnostic::error("test/alertmanager-config", e.to_string())
                .at(&tf.file, path.pos)
                .help("alertmanager_config is relative to the test file"),
        );
        return;
    }
    res.diagnostics.extend(
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned(),
    );
    let Some(item) = loaded.items_of(Kind::Alertmanager).next() else {
        res.diagnostics.push(
            Diagnostic::error(
                "test/alertmanager-config",
                format!(
                    "{}: no Alertmanager configuration in this file",
                    full.display()
                ),
            )
            .at(&tf.file, path.pos)
            .help("give an alertmanager.yml, or a ConfigMap/Secret holding one"),
        );
        return;
    };
    let (config, diags) = crate::alertmanager::config::from_node(&item.root, &item.file);
    res.diagnostics
        .extend(diags.into_iter().filter(|d| d.severity == Severity::Error));
    let Some(config) = config else { return };
    let mut group = GroupResult {
        name: ROUTES_GROUP.into(),
        line: tf.routes_tests.first().map_or(1, |t| t.pos.line),
        failures: Vec::new(),
        range_native: false,
    };
    let mut case_labels = Vec::new();
    for case in &tf.routes_tests {
        let labels: BTreeMap<String, String> = case.labels.iter().cloned().collect();
        let firing: Vec<BTreeMap<String, String>> = case
            .firing
            .iter()
            .map(|f| f.iter().cloned().collect())
            .collect();
        let got = evaluate(&config, &labels, &firing, case.at_ms);
        let mut fail = |what: &str, expected: String, got: String| {
            group.failures.push(Failure::Route {
                line: case.pos.line,
                labels: labels.clone(),
                what: what.into(),
                expected,
                got,
            });
        };
        if let Some(want) = &case.receivers {
            if *want != got.receivers {
                fail("receivers", want.join(","), got.receivers.join(","));
            }
        }
        if let Some(want) = case.inhibited {
            if want != got.inhibited_by.is_some() {
                let got_text = match &got.inhibited_by {
                    Some(src) => format!(
                        "true (by {})",
                        crate::alertmanager::route::labelset_string(src)
                    ),
                    None => "false".into(),
                };
                fail("inhibited", want.to_string(), got_text);
            }
        }
        if let Some(want) = case.muted {
            if want != got.muted {
                fail("muted", want.to_string(), got.muted.to_string());
            }
        }
        case_labels.push(labels);
    }
    res.groups.push(group);
    let rules = crate::alertmanager::symbolic::AlertLabels::of_files(rule_files);
    let cov = coverage(&config, &case_labels, &rules);
    for r in &cov.routes {
        res.diagnostics.push(
            Diagnostic::info(
                "test/route-not-covered",
                format!(
                    "route {} (receiver {}) is reached by no routes_test case and no loaded rule",
                    r.key, r.receiver
                ),
            )
            .at(&item.file, crate::text::yaml::Pos::new(r.line, 1)),
        );
    }
    if !cov.receivers.is_empty() {
        res.diagnostics.push(
            Diagnostic::info(
                "test/receiver-not-covered",
                format!(
                    "receivers reached by no routes_test case and no loaded rule: {}",
                    cov.receivers.join(", ")
                ),
            )
            .at(&tf.file, path.pos),
        );
    }
}

/// Loads a test group's input series: values one per `interval` from the group's start.
fn load_input(g: &TestGroup, interval: i64, store: &mut Store) -> Result<(), Failure> {
    // Series with the same values text have the same samples (same start and interval in one group):
    // constant gauges and idle counters repeat across hundreds of series, so each distinct text is
    // expanded once and its samples shared (copied on write if anything appends to one of them).
    let mut distinct: Vec<Sequence> = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let mut series = Vec::with_capacity(g.input_series.len());
    for s in &g.input_series {
        let labels = parse_series_descriptor(&s.series.value).map_err(|e| Failure::Setup {
            message: format!("input series {:?}: {e}", s.series.value),
            line: s.series.pos.line,
        })?;
        let text = s.values.value.as_str();
        let k = match index_of.get(text) {
            Some(&k) => k,
            None => {
                let seq = parse_sequence(text).map_err(|e| Failure::Setup {
                    message: format!("values {:?}: {e}", s.values.value),
                    line: s.values.pos.line,
                })?;
                distinct.push(seq);
                index_of.insert(text, distinct.len() - 1);
                distinct.len() - 1
            }
        };
        series.push((labels, k));
    }
    // Expanding the runs into samples is most of the work for long series; it spreads over the cores.
    let expanded: Vec<Expanded> = crate::parallel::map(&distinct, |seq| {
        expand_samples(&seq.runs, g.start_ms, interval)
    });
    for (labels, k) in &series {
        let id = store.series_id(labels);
        expanded[*k].append_to(store, id);
        distinct[*k].append_histograms_to(store, id, g.start_ms, interval);
    }
    Ok(())
}

fn run_group(tf: &TestFile, g: &TestGroup, set: &RuleSet, opts: &Options) -> GroupResult {
    let mut result = GroupResult {
        name: g.name.clone(),
        line: g.pos.line,
        failures: Vec::new(),
        range_native: false,
    };
    let eval_interval = tf.evaluation_interval_ms.max(1);
    let input_interval = g.interval_ms.unwrap_or(eval_interval).max(1);
    let mut store = Store::new();
    if let Err(f) = load_input(g, input_interval, &mut store) {
        result.failures.push(f);
        return result;
    }
    let max_eval = g
        .alert_rule_tests
        .iter()
        .map(|a| a.eval_time_ms)
        .chain(g.promql_expr_tests.iter().map(|p| p.eval_time_ms))
        .max()
        .unwrap_or(0);
    // An alert test at eval_time is checked after the tick `ts` with ts <= eval_time < ts + interval.
    let tick_of = |eval_time: i64| g.start_ms + eval_time.div_euclid(eval_interval) * eval_interval;
    let settings = Settings {
        start_ms: g.start_ms,
        end_ms: g.start_ms + max_eval,
        interval_ms: eval_interval,
        external_labels: g.external_labels.iter().cloned().collect(),
        external_url: g.external_url.clone(),
        mode: opts.mode,
        episodes: false,
        snapshot_at: g
            .alert_rule_tests
            .iter()
            .map(|a| tick_of(a.eval_time_ms))
            .collect(),
        chunk_ticks: DEFAULT_CHUNK_TICKS,
    };
    let engine = Engine::new(EngineOptions::default());
    let ev = evaluate(set, &mut store, &engine, &settings);
    result.range_native = ev.range_native;
    let mut reported = std::collections::HashSet::new();
    for e in &ev.errors {
        if reported.insert((e.rule, e.message.clone())) {
            let r = &set.rules[e.rule];
            result.failures.push(Failure::RuleEval {
                rule: r.rule.name.value.clone(),
                at: format!("{}:{}", r.file, r.rule.expr.pos.line),
                time: format_duration(e.t - g.start_ms),
                message: e.message.clone(),
            });
        }
    }
    let query = StoreQuery {
        store: &store,
        engine: &engine,
    };
    for at in &g.alert_rule_tests {
        if at.alertname.is_empty() {
            // promtool's words; the group fails, the others run.
            result.failures.push(Failure::Setup {
                message: format!(
                    "an item under alert_rule_test misses required attribute alertname at eval_time {}",
                    format_duration(at.eval_time_ms)
                ),
                line: at.pos.line,
            });
            continue;
        }
        let tick = tick_of(at.eval_time_ms);
        let mut got = Vec::new();
        let mut template_failures = Vec::new();
        for (ri, r) in set.rules.iter().enumerate() {
            if r.rule.name.value != at.alertname {
                continue;
            }
            for a in ev
                .snapshots
                .get(&(tick, ri))
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                let (annotations, errors) =
                    render_annotations(r, &a.payload, &settings, Some(&query));
                for message in errors {
                    template_failures.push(Failure::Template {
                        alertname: at.alertname.clone(),
                        message,
                    });
                }
                got.push(AlertView {
                    labels: a
                        .labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    annotations: annotations.into_iter().collect(),
                });
            }
        }
        let mut expected: Vec<AlertView> = at
            .exp_alerts
            .iter()
            .map(|e| {
                let mut labels: BTreeMap<String, String> = e.exp_labels.iter().cloned().collect();
                labels.insert("alertname".into(), at.alertname.clone());
                AlertView {
                    labels,
                    annotations: e.exp_annotations.iter().cloned().collect(),
                }
            })
            .collect();
        got.sort();
        expected.sort();
        // A template error puts its text in the annotation, as Prometheus does; a test that expects that text
        // passes, as under promtool. Otherwise the error is reported beside the difference.
        if got != expected {
            result.failures.append(&mut template_failures);
            result.failures.push(Failure::Alerts {
                alertname: at.alertname.clone(),
                eval_time: format_duration(at.eval_time_ms),
                line: at.pos.line,
                expected,
                got,
            });
        }
    }
    for pt in &g.promql_expr_tests {
        let t = g.start_ms + pt.eval_time_ms;
        let eval_time = format_duration(pt.eval_time_ms);
        let got = match engine.instant_query(&store, &pt.expr.value, t) {
            Ok(r) => match r.value {
                Value::Vector(v) => v
                    .into_iter()
                    .map(|s| {
                        let h = s.h.map(|h| h.test_expression());
                        (s.labels, s.v, h)
                    })
                    .collect::<Vec<_>>(),
                Value::Scalar { v, .. } => vec![(Labels::empty(), v, None)],
                other => {
                    result.failures.push(Failure::Query {
                        expr: pt.expr.value.clone(),
                        eval_time,
                        line: pt.pos.line,
                        message: format!(
                            "expression returned a {}, expected a vector or scalar",
                            other.type_name()
                        ),
                    });
                    continue;
                }
            },
            Err(e) => {
                result.failures.push(Failure::Query {
                    expr: pt.expr.value.clone(),
                    eval_time,
                    line: pt.pos.line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let mut expected = Vec::new();
        let mut bad = None;
        for s in &pt.exp_samples {
            // promtool compares histograms by their test notation, written back from what it read.
            let histogram = match &s.histogram {
                None => None,
                Some(text) => match crate::series::histogram::parse_description(text) {
                    Ok(d) => Some(d.histogram.test_expression()),
                    Err(e) => {
                        bad = Some(format!("expected histogram {text:?}: {e}"));
                        continue;
                    }
                },
            };
            let value = if histogram.is_some() { 0.0 } else { s.value };
            match parse_series_descriptor(&s.labels) {
                Ok(l) => expected.push((l, value, histogram)),
                Err(e) if s.labels.trim().is_empty() => {
                    let _ = e;
                    expected.push((Labels::empty(), value, histogram))
                }
                Err(e) => bad = Some(format!("expected labels {:?}: {e}", s.labels)),
            }
        }
        if let Some(message) = bad {
            result.failures.push(Failure::Query {
                expr: pt.expr.value.clone(),
                eval_time,
                line: pt.pos.line,
                message,
            });
            continue;
        }
        let mut got = got;
        got.sort_by(|a, b| a.0.cmp(&b.0));
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let same = got.len() == expected.len()
            && got.iter().zip(&expected).all(|(g, e)| {
                g.0 == e.0
                    && g.2 == e.2
                    && (g.2.is_some() || values_equal(g.1, e.1, tf.fuzzy_compare))
            });
        if !same {
            let view = |v: &[(Labels, f64, Option<String>)]| {
                v.iter()
                    .map(|(l, x, h)| SampleView {
                        labels: l.to_string(),
                        value: *x,
                        histogram: h.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            result.failures.push(Failure::Samples {
                expr: pt.expr.value.clone(),
                eval_time,
                line: pt.pos.line,
                expected: view(&expected),
                got: view(&got),
            });
        }
    }
    result
}

/// promtool compares exactly, or with `fuzzy_compare` allows one ULP either way (its comparer:
/// `x == y || math.Nextafter(x, -Inf) == y || math.Nextafter(x, +Inf) == y`), not a relative tolerance.
fn values_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    a == b || (fuzzy && (a.next_down() == b || a.next_up() == b))
}

#[cfg(test)]
mod fuzzy_compare_tests {
    use super::values_equal;

    /// promtool's `fuzzy_compare`: one ULP either way, nothing more (0.1 + 0.2 is one ULP above 0.3).
    #[test]
    fn one_ulp_either_way() {
        assert!(!values_equal(0.1 + 0.2, 0.3, false));
        assert!(values_equal(0.1 + 0.2, 0.3, true));
        assert!(values_equal(0.3, 0.1 + 0.2, true));
        let x = 1234.5678f64;
        assert!(values_equal(x, x.next_up(), true));
        assert!(!values_equal(x, x.next_up().next_up(), true));
        // A relative 1e-6 is not enough any more.
        assert!(!values_equal(1.0, 1.0 + 1e-9, true));
        assert!(values_equal(0.0, 0.0f64.next_down(), true));
        assert!(values_equal(f64::NAN, f64::NAN, true));
    }
}
