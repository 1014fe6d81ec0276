//! Test helpers for checks: load a rule file from text and run the lints over it.

use crate::diag::Diagnostic;
use crate::lint::{run, LintConfig};
use crate::load::documents::{load_bytes, Kind, Loaded};
use crate::load::rules::load_rule_file;
use std::sync::Arc;

/// Diagnostics of check `code` on a rule file written in `yaml`.
pub fn lint_with(yaml: &str, code: &str, config: &LintConfig) -> Vec<Diagnostic> {
    let mut loaded = Loaded::default();
    load_bytes(Arc::from("rules.yaml"), yaml.as_bytes(), &mut loaded);
    let files: Vec<_> = loaded.items.iter().map(|i| load_rule_file(i).0).collect();
    run(&files, &loaded, config)
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

/// Diagnostics of check `code` on several rule files, each `(name, yaml)`.
pub fn lint_files(files: &[(&str, &str)], code: &str) -> Vec<Diagnostic> {
    let mut loaded = Loaded::default();
    for (name, yaml) in files {
        load_bytes(Arc::from(*name), yaml.as_bytes(), &mut loaded);
    }
    let rule_files: Vec<_> = loaded.items.iter().map(|i| load_rule_file(i).0).collect();
    run(&rule_files, &loaded, &LintConfig::default())
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

pub fn lint(yaml: &str, code: &str) -> Vec<Diagnostic> {
    lint_with(yaml, code, &LintConfig::default())
}

/// A one-rule file: an alert with `expr`, a severity label, then the given extra YAML lines (more labels,
/// `for:`, `annotations:`).
pub fn alert(expr: &str, extra: &str) -> String {
    format!("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: {expr}\n    labels:\n      severity: page\n{extra}")
}

/// Diagnostics of `code` on a single alert with `expr`.
pub fn lint_expr(expr: &str, code: &str) -> Vec<Diagnostic> {
    lint(&alert(expr, ""), code)
}

/// `line:col` of each diagnostic.
pub fn places(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .map(|d| {
            let p = d.location.as_ref().map(|l| l.pos).unwrap_or_default();
            format!("{}:{}", p.line, p.col)
        })
        .collect()
}

/// Diagnostics of `code` for an Alertmanager config `am` and, if given, a rule file `rules`.
pub fn lint_am(am: &str, rules: Option<&str>, code: &str) -> Vec<Diagnostic> {
    let mut loaded = Loaded::default();
    load_bytes(Arc::from("am.yml"), am.as_bytes(), &mut loaded);
    if let Some(r) = rules {
        load_bytes(Arc::from("rules.yml"), r.as_bytes(), &mut loaded);
    }
    assert!(
        loaded.items.iter().any(|i| i.kind == Kind::Alertmanager),
        "not read as an Alertmanager config: {:?}",
        loaded.diagnostics
    );
    let files: Vec<_> = loaded
        .items
        .iter()
        .filter(|i| i.kind == Kind::RuleFile)
        .map(|i| load_rule_file(i).0)
        .collect();
    run(&files, &loaded, &LintConfig::default())
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

/// `line:col` of each diagnostic.
pub fn lines(d: &[Diagnostic]) -> Vec<u32> {
    d.iter()
        .map(|d| d.location.as_ref().map_or(0, |l| l.pos.line))
        .collect()
}
