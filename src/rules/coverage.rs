//! Which rules a file of rule unit tests reaches (issue #29): for every rule of the rule files under test,
//! whether a test can fail when the rule changes.
//!
//! - An alerting rule is **expected to fire** when some `alert_rule_test` lists alerts for it, **only expected
//!   silent** when its tests list none (they fail only if it starts firing), **untested** otherwise.
//! - A recording rule is **read by a tested expression** when a `promql_expr_test` selects its output, directly
//!   or through other recording rules; it **feeds a tested alert** when an alerting rule with any
//!   `alert_rule_test` reads it, directly or through other recording rules; **untested** otherwise.
//! - An alerting rule's label and annotation **templates are compared** when it is expected to fire: promtool
//!   compares the rendered labels and annotations of every expected alert.
//!
//! Covered, for the percentage: alerts expected to fire and recording rules read or feeding; an alert only
//! expected silent is not (its template and most of its expression could change unseen).
//!
//! Input: the prepared rule set of a test file and its test groups. Output: one [`RuleCoverage`] per rule;
//! [`merge`] joins the answers of several test files over the same rules.

use crate::load::rules::RuleKind;
use crate::load::testfile::TestGroup;
use crate::rules::group::{walk_selectors, RuleSet};
use std::collections::BTreeMap;

/// How a test reaches a rule, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// An alert some test expects to fire.
    ExpectedToFire,
    /// A recording a tested expression selects, directly or through other recordings.
    ReadByExpression,
    /// A recording a tested alert reads, directly or through other recordings.
    FeedsTestedAlert,
    /// An alert whose tests all expect no alert.
    OnlyExpectedSilent,
    /// No test reaches it.
    Untested,
}

impl Reach {
    /// Whether this counts as covered (see the module documentation).
    pub fn covered(self) -> bool {
        matches!(
            self,
            Reach::ExpectedToFire | Reach::ReadByExpression | Reach::FeedsTestedAlert
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reach::ExpectedToFire => "expected to fire",
            Reach::ReadByExpression => "read by a tested expression",
            Reach::FeedsTestedAlert => "feeds a tested alert",
            Reach::OnlyExpectedSilent => "only expected silent",
            Reach::Untested => "untested",
        }
    }
}

/// One rule's coverage.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuleCoverage {
    /// The rule file as loaded, and the line of the rule.
    pub file: String,
    pub line: u32,
    /// `alert` or `record`.
    pub kind: &'static str,
    pub name: String,
    pub group: String,
    pub reach: Reach,
    /// For alerting rules with a template in a label or annotation: whether a test compared their rendering.
    pub templates_compared: Option<bool>,
}

/// The coverage of `set`'s rules by `groups` (the test groups that ran).
pub fn of(set: &RuleSet, groups: &[&TestGroup]) -> Vec<RuleCoverage> {
    let n = set.rules.len();
    let mut fire: Vec<bool> = vec![false; n];
    let mut tested_alert: Vec<bool> = vec![false; n];
    for at in groups.iter().flat_map(|g| &g.alert_rule_tests) {
        for (i, r) in set.rules.iter().enumerate() {
            if r.rule.kind == RuleKind::Alerting && r.rule.name.value == at.alertname {
                tested_alert[i] = true;
                fire[i] |= !at.exp_alerts.is_empty();
            }
        }
    }
    let reads = set.reads();
    // Recordings the tested expressions select directly (an expression that does not parse reads nothing).
    let mut read = vec![false; n];
    for pt in groups.iter().flat_map(|g| &g.promql_expr_tests) {
        let Ok(expr) = crate::promql::parse(&pt.expr.value) else {
            continue;
        };
        walk_selectors(&expr, &mut |vs, _| {
            for j in set.writers(vs) {
                read[j] |= set.rules[j].rule.kind == RuleKind::Recording;
            }
        });
    }
    let read = closure(&reads, read, set);
    let feeds = closure(&reads, tested_alert.clone(), set);
    set.rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let alerting = r.rule.kind == RuleKind::Alerting;
            let reach = if alerting {
                match (fire[i], tested_alert[i]) {
                    (true, _) => Reach::ExpectedToFire,
                    (false, true) => Reach::OnlyExpectedSilent,
                    _ => Reach::Untested,
                }
            } else if read[i] {
                Reach::ReadByExpression
            } else if feeds[i] {
                Reach::FeedsTestedAlert
            } else {
                Reach::Untested
            };
            let templated = r
                .rule
                .labels
                .iter()
                .chain(&r.rule.annotations)
                .any(|(_, v)| v.value.contains("{{"));
            RuleCoverage {
                file: r.file.to_string(),
                line: r.rule.pos.line,
                kind: if alerting { "alert" } else { "record" },
                name: r.rule.name.value.clone(),
                group: set.groups[r.group].name.clone(),
                reach,
                templates_compared: (alerting && templated).then_some(fire[i]),
            }
        })
        .collect()
}

/// The recording rules that `start`'s rules read, directly or through other recordings (the rules in `start`
/// included).
fn closure(reads: &[Vec<(usize, bool)>], start: Vec<bool>, set: &RuleSet) -> Vec<bool> {
    let mut seen = start;
    let mut stack: Vec<usize> = (0..seen.len()).filter(|&i| seen[i]).collect();
    while let Some(i) = stack.pop() {
        for &(j, _) in &reads[i] {
            if !seen[j] && set.rules[j].rule.kind == RuleKind::Recording {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    seen
}

/// Joins the coverage several test files give: per rule (its file, made canonical where it exists, and line)
/// the best reach any of them gives. In file and line order.
pub fn merge(all: impl IntoIterator<Item = RuleCoverage>) -> Vec<RuleCoverage> {
    let mut by: BTreeMap<(String, u32), RuleCoverage> = BTreeMap::new();
    for c in all {
        let key = std::fs::canonicalize(&c.file)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| c.file.clone());
        by.entry((key, c.line))
            .and_modify(|have| {
                have.reach = have.reach.min(c.reach);
                have.templates_compared = match (have.templates_compared, c.templates_compared) {
                    (Some(a), Some(b)) => Some(a || b),
                    (a, b) => a.or(b),
                };
            })
            .or_insert(c);
    }
    by.into_values().collect()
}

/// The share of covered rules, in percent (100 when there are none).
pub fn percent(rules: &[RuleCoverage]) -> f64 {
    if rules.is_empty() {
        return 100.0;
    }
    let covered = rules.iter().filter(|r| r.reach.covered()).count();
    100.0 * covered as f64 / rules.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::documents::{load_bytes, Loaded};
    use crate::load::rules::load_rule_file;
    use crate::load::testfile::load_test_file;
    use std::sync::Arc;

    const RULES: &str = "groups:
- name: g
  rules:
  - record: job:errors:rate5m
    expr: sum by (job) (rate(errors_total[5m]))
  - record: job:errors:ratio
    expr: job:errors:rate5m / on(job) job:requests:rate5m
  - record: job:requests:rate5m
    expr: sum by (job) (rate(requests_total[5m]))
  - alert: HighErrors
    expr: job:errors:ratio > 0.1
    annotations: {summary: '{{ $labels.job }} fails'}
  - alert: Quiet
    expr: up == 0
  - alert: Never
    expr: absent(up)
    labels: {team: '{{ $labels.job }}'}
  - record: unused:sum
    expr: sum(up)
  - record: read:directly
    expr: sum(up)
  - record: read:by_name_matcher
    expr: max(up)
";

    fn coverage(tests: &str) -> Vec<RuleCoverage> {
        let mut l = Loaded::default();
        load_bytes(Arc::from("r.yml"), RULES.as_bytes(), &mut l);
        let files: Vec<_> = l.items.iter().map(|i| load_rule_file(i).0).collect();
        let set = RuleSet::prepare(&files, &[]).unwrap();
        let mut t = Loaded::default();
        load_bytes(Arc::from("t.yml"), tests.as_bytes(), &mut t);
        let (tf, d) = load_test_file(&t.items[0]);
        assert!(d.is_empty(), "{d:?}");
        let groups: Vec<&TestGroup> = tf.tests.iter().collect();
        of(&set, &groups)
    }

    #[test]
    fn each_rule_gets_how_a_test_reaches_it() {
        let c = coverage(
            "rule_files: [r.yml]
tests:
- alert_rule_test:
  - {eval_time: 5m, alertname: HighErrors, exp_alerts: [{exp_labels: {job: a}}]}
  - {eval_time: 5m, alertname: Quiet}
  promql_expr_test:
  - {expr: 'read:directly', eval_time: 1m}
  - {expr: 'count({__name__=~\"read:by_.*\"})', eval_time: 1m}
",
        );
        let got: Vec<(&str, Reach, Option<bool>)> = c
            .iter()
            .map(|r| (r.name.as_str(), r.reach, r.templates_compared))
            .collect();
        assert_eq!(
            got,
            vec![
                ("job:errors:rate5m", Reach::FeedsTestedAlert, None),
                ("job:errors:ratio", Reach::FeedsTestedAlert, None),
                ("job:requests:rate5m", Reach::FeedsTestedAlert, None),
                ("HighErrors", Reach::ExpectedToFire, Some(true)),
                ("Quiet", Reach::OnlyExpectedSilent, None),
                ("Never", Reach::Untested, Some(false)),
                ("unused:sum", Reach::Untested, None),
                ("read:directly", Reach::ReadByExpression, None),
                ("read:by_name_matcher", Reach::ReadByExpression, None),
            ]
        );
        assert_eq!((c[3].file.as_str(), c[3].line), ("r.yml", 10));
        // 6 of 9 covered: the three feeding recordings, the two read ones, HighErrors.
        assert!((percent(&c) - 600.0 / 9.0).abs() < 1e-9);
    }

    #[test]
    fn a_recording_read_through_another_is_read_too_and_files_merge_best_first() {
        let a = coverage(
            "rule_files: [r.yml]\ntests:\n- promql_expr_test:\n  - {expr: 'job:errors:ratio', eval_time: 1m}\n",
        );
        assert_eq!(a[0].reach, Reach::ReadByExpression);
        assert_eq!(a[2].reach, Reach::ReadByExpression);
        assert_eq!(a[3].reach, Reach::Untested);
        let b = coverage(
            "rule_files: [r.yml]\ntests:\n- alert_rule_test:\n  - {eval_time: 5m, alertname: Never, exp_alerts: [{}]}\n",
        );
        let m = merge(a.into_iter().chain(b));
        assert_eq!(m.len(), 9);
        let never = m.iter().find(|r| r.name == "Never").unwrap();
        assert_eq!(
            (never.reach, never.templates_compared),
            (Reach::ExpectedToFire, Some(true))
        );
        assert_eq!(
            m.iter()
                .find(|r| r.name == "job:errors:ratio")
                .unwrap()
                .reach,
            Reach::ReadByExpression
        );
        assert_eq!(percent(&[]), 100.0);
    }
}
