//! Lints: static checks of what `load` produced (rule files now, Alertmanager configs later) for mistakes that
//! load fine but page wrongly: division by a zero limit, `$value` shown as a percent of a ratio, `rate > 0`
//! alerts that fire for a whole window after one event, and so on.
//!
//! Input: the rule files and everything loaded (for comments and source text) plus a [`LintConfig`] read from
//! `.ruletest.yaml`. Output: [`Diagnostic`]s with the check's stable code, pointing at the rule's line. The
//! checks themselves live in `checks/`, one per file; `registry` lists them; `suppress` honours
//! `# ruletest: ignore <code> <reason>` comments.

pub mod catalogue;
pub mod checks;
pub mod config;
pub mod docs;
pub mod registry;
pub mod suppress;
pub mod template;

pub use catalogue::all_checks;
pub use config::{LintConfig, CONFIG_FILE_NAME};
pub use registry::{Check, CheckInfo, ConfigContext, Finding, ProjectContext, RuleContext};

use crate::diag::Diagnostic;
use crate::diag::Severity;
use crate::load::documents::{Kind, Loaded};
use crate::load::rules::{RuleFile, RuleKind};
use std::sync::Arc;

/// [`run`] over the rule files that loaded without errors: a file with a syntax or schema error gets that
/// error alone (as a compiler stops after a parse error), not lints about a half-read rule.
///
/// `typed`: the typed configuration of each Alertmanager document of `loaded`, in order (as the loader read
/// it; `None` where it did not load), so no document is read twice.
pub fn run_on_valid(
    rule_files: &[RuleFile],
    loaded: &Loaded,
    typed: &[Option<crate::alertmanager::config::Config>],
    config: &LintConfig,
    load_diagnostics: &[Diagnostic],
) -> Vec<Diagnostic> {
    let broken = |file: &str| {
        load_diagnostics.iter().any(|d| {
            d.severity == Severity::Error && d.location.as_ref().is_some_and(|l| &*l.file == file)
        })
    };
    let valid: Vec<RuleFile> = rule_files
        .iter()
        .filter(|rf| !broken(&rf.file))
        .cloned()
        .collect();
    run_checks_typed(&all_checks(), &valid, loaded, typed, config)
}

/// Runs every enabled check over every rule and returns the diagnostics, suppressions applied.
pub fn run(rule_files: &[RuleFile], loaded: &Loaded, config: &LintConfig) -> Vec<Diagnostic> {
    run_checks(&all_checks(), rule_files, loaded, config)
}

/// [`run`] with a given set of checks (tests, or a caller that wants a subset).
pub fn run_checks(
    checks: &[&dyn Check],
    rule_files: &[RuleFile],
    loaded: &Loaded,
    config: &LintConfig,
) -> Vec<Diagnostic> {
    let typed: Vec<_> = loaded
        .items_of(Kind::Alertmanager)
        .map(crate::alertmanager::symbolic::typed)
        .collect();
    run_checks_typed(checks, rule_files, loaded, &typed, config)
}

/// [`run_checks`] with the typed configuration of each Alertmanager document of `loaded` already read.
pub fn run_checks_typed(
    checks: &[&dyn Check],
    rule_files: &[RuleFile],
    loaded: &Loaded,
    typed: &[Option<crate::alertmanager::config::Config>],
    config: &LintConfig,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rf in rule_files {
        let source = loaded.source(&rf.file);
        let comments = source.map(|s| s.comments.as_slice()).unwrap_or(&[]);
        for group in &rf.groups {
            for rule in &group.rules {
                // An expression that does not parse is already an error from `load`; nothing to lint.
                let Some(ast) = rule.ast.as_deref() else {
                    continue;
                };
                let cx = RuleContext {
                    file: &rf.file,
                    group,
                    rule,
                    ast,
                    source: source.map(|s| s.text.as_str()),
                    config,
                };
                let span = suppress::rule_span(rule, comments);
                let suppressions = suppress::collect(&rf.file, span, comments, checks);
                out.extend(suppressions.diagnostics.iter().filter_map(|d| {
                    let severity = config.severity_of(d.code, d.severity)?;
                    Some(d.clone().with_severity(severity))
                }));
                for check in checks {
                    let Some(severity) = config.severity_of(check.code(), check.default_severity())
                    else {
                        continue;
                    };
                    if rule.kind == RuleKind::Recording && !check.applies_to_recording_rules() {
                        continue;
                    }
                    if suppressions.suppresses(check.code()) {
                        continue;
                    }
                    let mut findings = Vec::new();
                    check.check_rule(&cx, &mut findings);
                    out.extend(
                        findings
                            .into_iter()
                            .map(|f| to_diagnostic(*check, severity, config, &rf.file, f)),
                    );
                }
            }
        }
    }
    // Checks on Alertmanager configs, and on rules and Alertmanager together.
    let alertmanager: Vec<_> = loaded.items_of(Kind::Alertmanager).collect();
    debug_assert_eq!(alertmanager.len(), typed.len());
    let configs: Vec<_> = alertmanager
        .iter()
        .zip(typed)
        .filter_map(|(i, c)| Some((*i, c.as_ref()?)))
        .collect();
    let alert_labels = if configs.is_empty() {
        Vec::new()
    } else {
        crate::alertmanager::symbolic::AlertLabels::of_files(rule_files)
    };
    for check in checks {
        let Some(severity) = config.severity_of(check.code(), check.default_severity()) else {
            continue;
        };
        let mut findings = Vec::new();
        for (item, typed) in alertmanager.iter().zip(typed) {
            let cx = ConfigContext {
                item,
                typed: typed.as_ref(),
                source: loaded.source(&item.file).map(|s| s.text.as_str()),
                config,
            };
            let before = findings.len();
            check.check_alertmanager(&cx, &mut findings);
            for f in &mut findings[before..] {
                f.file.get_or_insert_with(|| item.file.clone());
            }
        }
        check.check_project(
            &ProjectContext {
                rule_files,
                alertmanager: alertmanager.clone(),
                configs: configs.clone(),
                alert_labels: &alert_labels,
                config,
            },
            &mut findings,
        );
        let unnamed: Arc<str> = Arc::from("");
        out.extend(
            findings
                .into_iter()
                .map(|f| to_diagnostic(*check, severity, config, &unnamed, f)),
        );
    }
    out
}

fn to_diagnostic(
    check: &dyn Check,
    severity: Severity,
    config: &LintConfig,
    rule_file: &Arc<str>,
    f: Finding,
) -> Diagnostic {
    let severity = if config.overrides(check.code()) {
        severity
    } else {
        f.severity.unwrap_or(severity)
    };
    let file = f.file.unwrap_or_else(|| rule_file.clone());
    let mut d = Diagnostic::warning(check.code(), f.message)
        .with_severity(severity)
        .at(&file, f.pos);
    if let Some(h) = f.help {
        d = d.help(h);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::documents::load_bytes;
    use crate::load::rules::load_rule_file;
    use proptest::prelude::*;

    /// PromQL built from the pieces the checks look at, so the generated rules reach every check.
    fn expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("up".to_string()),
            Just("x_total".to_string()),
            Just("mem_limit".to_string()),
            Just("rate(x_total[5m])".to_string()),
            Just("rate(node_memory_MemFree_bytes[10s])".to_string()),
            Just("increase(x_total[15m])".to_string()),
            Just("rate(x_bucket[5m])".to_string()),
            Just("count(up)".to_string()),
            Just("absent(up{job=\"a\"})".to_string()),
            Just("0".to_string()),
            Just("0.9".to_string()),
            Just("100".to_string()),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (
                    inner.clone(),
                    prop::sample::select(vec![
                        "/", "*", "+", "-", ">", "<", "==", "and", "unless", "or"
                    ]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
                (
                    prop::sample::select(vec!["sum", "max", "count"]),
                    prop::sample::select(vec!["", " by (job)", " by (le)", " without (pod)"]),
                    inner.clone()
                )
                    .prop_map(|(agg, m, a)| format!("{agg}{m} ({a})")),
                inner
                    .clone()
                    .prop_map(|a| format!("histogram_quantile(0.9, {a})")),
                inner.prop_map(|a| format!("clamp_min({a}, 1)")),
            ]
        })
    }

    /// A check on Alertmanager configs, to show the hook reaches them and places findings in their file.
    struct ReceiverCount;
    impl Check for ReceiverCount {
        fn code(&self) -> &'static str {
            "alertmanager/test-receivers"
        }
        fn source(&self) -> &'static str {
            "/// ## What it finds\n/// test\npub struct ReceiverCount;"
        }
        fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
            if let Some(r) = cx.item.root.get("receivers") {
                out.push(Finding::new(
                    r.pos,
                    format!("{} receivers", r.as_seq().map_or(0, |s| s.len())),
                    "none",
                ));
            }
        }
        fn check_project(&self, cx: &ProjectContext, out: &mut Vec<Finding>) {
            let rules: usize = cx
                .rule_files
                .iter()
                .flat_map(|f| &f.groups)
                .map(|g| g.rules.len())
                .sum();
            let mut f = Finding::new(
                crate::text::yaml::Pos::new(1, 1),
                format!("{rules} rules, {} configs", cx.alertmanager.len()),
                "none",
            );
            f.file = cx.alertmanager.first().map(|i| i.file.clone());
            out.push(f);
        }
    }

    #[test]
    fn alertmanager_and_project_hooks_see_their_documents() {
        let mut loaded = Loaded::default();
        load_bytes(
            Arc::from("am.yaml"),
            b"route: {receiver: a}\nreceivers:\n- name: a\n- name: b\n",
            &mut loaded,
        );
        load_bytes(
            Arc::from("r.yaml"),
            b"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n",
            &mut loaded,
        );
        let files: Vec<_> = loaded
            .items
            .iter()
            .filter(|i| i.kind == Kind::RuleFile)
            .map(|i| load_rule_file(i).0)
            .collect();
        let d = run_checks(&[&ReceiverCount], &files, &loaded, &LintConfig::default());
        let got: Vec<String> = d
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.location.as_ref().map_or("?".into(), |l| l.to_string()),
                    d.message
                )
            })
            .collect();
        assert_eq!(
            got,
            vec!["am.yaml:3:3 2 receivers", "am.yaml:1:1 1 rules, 1 configs"]
        );
    }

    proptest! {
        /// Whatever the expression, the checks do not panic and every finding points inside the rule.
        #[test]
        fn findings_stay_inside_the_rule(e in expr(), for_s in 0u32..20) {
            let text = format!(
                "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: A\n    expr: '{e}'\n    for: {}s\n    annotations:\n      d: '{{{{ $labels.pod }}}} {{{{ $value }}}}%'\n",
                for_s * 15
            );
            let mut loaded = Loaded::default();
            load_bytes(Arc::from("p.yaml"), text.as_bytes(), &mut loaded);
            let files: Vec<_> = loaded.items.iter().map(|i| load_rule_file(i).0).collect();
            for d in run(&files, &loaded, &LintConfig::default()) {
                let pos = d.location.as_ref().map(|l| l.pos).unwrap_or_default();
                prop_assert!((5..=9).contains(&pos.line) && pos.col >= 1, "{d:?} for {e}");
                prop_assert!(d.help.is_some(), "{d:?}");
            }
        }
    }
}
