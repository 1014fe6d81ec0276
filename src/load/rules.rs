//! Rule files: plain Prometheus rule files and the `spec` of PrometheusRule objects, turned into rule groups
//! and validated as Prometheus's `rulefmt` does, so that what passes here loads in Prometheus.
//!
//! Input: an [`Item`] of kind RuleFile or PrometheusRule. Output: a [`RuleFile`] (groups, rules, every field
//! with its position) and the diagnostics, with rulefmt's wording where Prometheus has one.

use crate::diag::Diagnostic;
use crate::load::documents::{Item, Kind};
pub use crate::load::fields::{closest, Spanned};
use crate::load::fields::{Codes, Fields};
use crate::promql::legacy_names::valid_label_name;
use crate::text::yaml::{Node, Pos, Style};
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct RuleFile {
    pub file: Arc<str>,
    /// `PrometheusRule monitoring/chat2sql-rules`, or empty for a plain file.
    pub origin: String,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub pos: Pos,
    /// Evaluation interval; `None` means the global default (1m).
    pub interval_ms: Option<i64>,
    pub query_offset_ms: Option<i64>,
    /// 0 means no limit.
    pub limit: u64,
    pub labels: Vec<(Spanned<String>, Spanned<String>)>,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Alerting,
    Recording,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: RuleKind,
    /// The alert name or the recorded metric name.
    pub name: Spanned<String>,
    pub expr: Spanned<String>,
    /// The expression parsed once, as rule files are read (the installed PromQL features, and experimental
    /// functions always: the `promql/experimental-function` check reports those); `None` when it does not
    /// parse (a `rule/bad-expr` error) or is empty. Lints and symbolic routing read it; evaluation prepares
    /// its own under the features the run installed.
    pub ast: Option<std::sync::Arc<crate::promql::Expr>>,
    /// How the expression was written in YAML (a `|` block keeps its lines; see [`Rule::expr_pos`]).
    pub expr_style: Style,
    pub for_ms: Option<Spanned<i64>>,
    pub keep_firing_for_ms: Option<Spanned<i64>>,
    pub labels: Vec<(Spanned<String>, Spanned<String>)>,
    pub annotations: Vec<(Spanned<String>, Spanned<String>)>,
    /// Position of the rule's mapping (its first key).
    pub pos: Pos,
}

impl Rule {
    /// Where byte `offset` of the expression stands in the file (`source`: the file's text, to check it).
    pub fn expr_pos(&self, offset: usize, source: Option<&str>) -> Pos {
        crate::text::scalar_pos::pos_at(
            self.expr.pos,
            self.expr_style,
            &self.expr.value,
            offset,
            source,
        )
    }

    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v.value.as_str())
    }
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v.value.as_str())
    }
    /// The parsed expression: the one the rule file was read into, or, where that did not parse (or the rule
    /// was built in code), a parse with this run's options, whose error says why.
    pub fn parsed_expr(
        &self,
    ) -> Result<std::borrow::Cow<'_, crate::promql::Expr>, crate::promql::ParseError> {
        match &self.ast {
            Some(a) => Ok(std::borrow::Cow::Borrowed(&**a)),
            None => crate::promql::parse(&self.expr.value).map(std::borrow::Cow::Owned),
        }
    }

    pub fn for_duration(&self) -> i64 {
        self.for_ms.as_ref().map_or(0, |f| f.value)
    }
    pub fn keep_firing_for(&self) -> i64 {
        self.keep_firing_for_ms.as_ref().map_or(0, |f| f.value)
    }
}

const FILE_FIELDS: &[&str] = &["groups"];
const GROUP_FIELDS: &[&str] = &[
    "name",
    "interval",
    "query_offset",
    "limit",
    "rules",
    "labels",
];
/// The Prometheus Operator's CRD also allows Thanos's `partial_response_strategy`.
const CRD_GROUP_FIELDS: &[&str] = &[
    "name",
    "interval",
    "query_offset",
    "limit",
    "rules",
    "labels",
    "partial_response_strategy",
];
const RULE_FIELDS: &[&str] = &[
    "record",
    "alert",
    "expr",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];

/// Reads and validates a rule file or PrometheusRule spec.
pub fn load_rule_file(item: &Item) -> (RuleFile, Vec<Diagnostic>) {
    crate::load::reads::note(crate::load::reads::Read::RuleFile);
    let mut cx = Cx::new(item.file.clone(), prefix(item), &RULE_CODES);
    cx.source = Some(item.source.clone());
    let mut rf = RuleFile {
        file: item.file.clone(),
        origin: item.origin.clone(),
        groups: Vec::new(),
    };
    let crd = item.kind == Kind::PrometheusRule;
    let root = &item.root;
    if root.as_map().is_none() {
        cx.error(
            "rule/not-a-mapping",
            root.pos,
            format!(
                "expected a mapping with `groups`, found {}",
                root.kind_name()
            ),
        );
        return (rf, cx.diags);
    }
    if !crd {
        cx.known_fields(root, FILE_FIELDS, "rule file");
    }
    let Some(groups) = root.get("groups") else {
        cx.error("rule/missing-field", root.pos, "field `groups` must be set");
        return (rf, cx.diags);
    };
    let Some(groups) = cx.seq(groups, "groups") else {
        return (rf, cx.diags);
    };
    let mut names = HashSet::new();
    for g in groups {
        if let Some(group) = load_group(&mut cx, g, crd) {
            if !names.insert(group.name.clone()) {
                cx.diags.push(
                    Diagnostic::error(
                        "rule/duplicate-group",
                        format!(
                            "{}groupname: \"{}\" is repeated in the same file",
                            cx.prefix, group.name
                        ),
                    )
                    .at(&cx.file, group.pos)
                    .help("group names must be unique within a file; rename or merge one of them"),
                );
            }
            rf.groups.push(group);
        }
    }
    duplicate_rules(&mut cx, &rf);
    (rf, cx.diags)
}

fn prefix(item: &Item) -> String {
    if item.origin.is_empty() {
        String::new()
    } else {
        format!("{}: ", item.origin)
    }
}

type Cx = Fields;

const RULE_CODES: Codes = Codes {
    unknown_field: "rule/unknown-field",
    wrong_type: "rule/wrong-type",
    bad_duration: "rule/bad-duration",
};

fn load_group(cx: &mut Cx, g: &Node, crd: bool) -> Option<Group> {
    if g.as_map().is_none() {
        cx.error(
            "rule/wrong-type",
            g.pos,
            format!("a rule group must be a mapping, found {}", g.kind_name()),
        );
        return None;
    }
    cx.known_fields(
        g,
        if crd { CRD_GROUP_FIELDS } else { GROUP_FIELDS },
        "rule group",
    );
    let name = g
        .get("name")
        .and_then(|n| cx.string(n, "name"))
        .map(|s| s.value)
        .unwrap_or_default();
    if name.is_empty() {
        cx.error_help(
            "rule/missing-field",
            g.pos,
            "Groupname must not be empty",
            "give the group a `name:`",
        );
    }
    if crd {
        partial_response_strategy(cx, g);
    }
    let interval_ms = g
        .get("interval")
        .and_then(|n| cx.duration(n, "interval"))
        .map(|d| d.value);
    let query_offset_ms = g
        .get("query_offset")
        .and_then(|n| cx.duration(n, "query_offset"))
        .map(|d| d.value);
    let limit = match g.get("limit") {
        None => 0,
        Some(n) if n.is_null() => 0,
        Some(n) => match n.as_i64() {
            Some(l) if l >= 0 => l as u64,
            _ => {
                cx.error(
                    "rule/wrong-type",
                    n.pos,
                    "`limit` must be a non-negative integer",
                );
                0
            }
        },
    };
    let labels = g
        .get("labels")
        .map(|n| cx.string_map(n, "labels"))
        .unwrap_or_default();
    for (k, v) in &labels {
        check_label(cx, "", k, v);
    }
    let mut group = Group {
        name,
        pos: g.pos,
        interval_ms,
        query_offset_ms,
        limit,
        labels,
        rules: Vec::new(),
    };
    let rules = match g.get("rules") {
        Some(r) => cx.seq(r, "rules").unwrap_or(&[]),
        None => &[],
    };
    for (i, r) in rules.iter().enumerate() {
        if let Some(rule) = load_rule(cx, r, &group.name, i + 1) {
            group.rules.push(rule);
        }
    }
    Some(group)
}

/// Thanos reads `partial_response_strategy` as `warn` or `abort` in any case (the operator's CRD schema has
/// the pattern `^(?i)(abort|warn)?$`); anything else is rejected when the object is applied.
fn partial_response_strategy(cx: &mut Cx, g: &Node) {
    let Some(n) = g.get("partial_response_strategy") else {
        return;
    };
    if n.is_null() {
        return;
    }
    let Some(s) = cx.string(n, "partial_response_strategy") else {
        return;
    };
    let v = s.value.to_ascii_lowercase();
    if !(v.is_empty() || v == "warn" || v == "abort") {
        cx.error_help(
            "rule/bad-value",
            s.pos,
            format!(
                "`partial_response_strategy` must be warn or abort, not {:?}",
                s.value
            ),
            "Thanos accepts `warn` (answer with what it has) or `abort` (fail the query)",
        );
    }
}

/// A group's or rule's label name; `prefix` names the rule (Prometheus names none for a group's labels).
fn check_label(cx: &mut Cx, prefix: &str, k: &Spanned<String>, _v: &Spanned<String>) {
    if !valid_label_name(&k.value) || k.value == "__name__" {
        cx.error(
            "rule/bad-label-name",
            k.pos,
            format!("{prefix}invalid label name: {}", k.value),
        );
    }
}

fn load_rule(cx: &mut Cx, r: &Node, group: &str, index: usize) -> Option<Rule> {
    if r.as_map().is_none() {
        cx.error(
            "rule/wrong-type",
            r.pos,
            format!("a rule must be a mapping, found {}", r.kind_name()),
        );
        return None;
    }
    cx.known_fields(r, RULE_FIELDS, "rule");
    let record = r
        .get("record")
        .and_then(|n| cx.string(n, "record"))
        .filter(|s| !s.value.is_empty());
    let alert = r
        .get("alert")
        .and_then(|n| cx.string(n, "alert"))
        .filter(|s| !s.value.is_empty());
    let label_for = |name: &str| format!("group \"{group}\", rule {index}, \"{name}\": ");
    let (kind, name) = match (record, alert) {
        (Some(_), Some(al)) => {
            let p = label_for(&al.value);
            cx.error_help(
                "rule/record-and-alert",
                al.pos,
                format!("{p}only one of 'record' and 'alert' must be set"),
                "a rule either records a series or raises an alert: split it into two rules",
            );
            return None;
        }
        (Some(rec), None) => (RuleKind::Recording, rec),
        (None, Some(al)) => (RuleKind::Alerting, al),
        (None, None) => {
            let p = label_for("");
            cx.error_help(
                "rule/missing-field",
                r.pos,
                format!("{p}one of 'record' or 'alert' must be set"),
                "add `alert: <AlertName>` or `record: <metric_name>`",
            );
            return None;
        }
    };
    let p = label_for(&name.value);
    let expr = match r.get("expr").and_then(|n| cx.string(n, "expr")) {
        Some(e) if !e.value.trim().is_empty() => {
            let pos = r.get("expr").map(Node::content_origin).unwrap_or(e.pos);
            Spanned {
                value: e.value,
                pos,
            }
        }
        _ => {
            let pos = r.get("expr").map_or(r.pos, |n| n.pos);
            cx.error(
                "rule/missing-field",
                pos,
                format!("{p}field 'expr' must be set in rule"),
            );
            Spanned {
                value: String::new(),
                pos,
            }
        }
    };
    let expr_style = r
        .get("expr")
        .and_then(Node::scalar)
        .map_or(Style::Plain, |s| s.style);
    let mut ast = None;
    if !expr.value.is_empty() {
        let options = crate::promql::parse::rule_file_options();
        match crate::promql::parse::parse_at(&expr.value, &options) {
            Ok(e) => ast = Some(std::sync::Arc::new(e)),
            Err((at, e)) => cx.error_help(
                "rule/bad-expr",
                crate::text::scalar_pos::pos_at(
                    expr.pos,
                    expr_style,
                    &expr.value,
                    at,
                    cx.source.as_deref(),
                ),
                format!("{p}could not parse expression: {}", e.trim()),
                "fix the PromQL; `ruletest eval` can try an expression against a fixture",
            ),
        }
    }
    let for_ms = r.get("for").and_then(|n| cx.duration(n, "for"));
    let keep_firing_for_ms = r
        .get("keep_firing_for")
        .and_then(|n| cx.duration(n, "keep_firing_for"));
    let labels = r
        .get("labels")
        .map(|n| cx.string_map(n, "labels"))
        .unwrap_or_default();
    let annotations = r
        .get("annotations")
        .map(|n| cx.string_map(n, "annotations"))
        .unwrap_or_default();
    if kind == RuleKind::Recording {
        let help = "recording rules take only record, expr and labels: move this to an alerting rule or remove it";
        if !annotations.is_empty() {
            cx.error_help(
                "rule/recording-field",
                name.pos,
                format!("{p}invalid field 'annotations' in recording rule"),
                help,
            );
        }
        if for_ms.as_ref().is_some_and(|f| f.value != 0) {
            cx.error_help(
                "rule/recording-field",
                name.pos,
                format!("{p}invalid field 'for' in recording rule"),
                help,
            );
        }
        if keep_firing_for_ms.as_ref().is_some_and(|f| f.value != 0) {
            cx.error_help(
                "rule/recording-field",
                name.pos,
                format!("{p}invalid field 'keep_firing_for' in recording rule"),
                help,
            );
        }
        if !crate::promql::legacy_names::valid_metric_name(&name.value) {
            // Prometheus 2 (`--semantics 2`): only `[a-zA-Z_:][a-zA-Z0-9_:]*`.
            cx.error(
                "rule/bad-record-name",
                name.pos,
                format!("{p}invalid recording rule name: {}", name.value),
            );
        } else if name.value.contains('{') || name.value.contains('}') {
            cx.error(
                "rule/bad-record-name",
                name.pos,
                format!(
                    "{p}braces present in the recording rule name; should it be in expr?: {}",
                    name.value
                ),
            );
        }
    }
    for (k, v) in &labels {
        check_label(cx, &p, k, v);
    }
    for (k, _) in &annotations {
        if !valid_label_name(&k.value) {
            cx.error(
                "rule/bad-annotation-name",
                k.pos,
                format!("{p}invalid annotation name: {}", k.value),
            );
        }
    }
    if kind == RuleKind::Alerting {
        for (what, entries) in [("label", &labels), ("annotation", &annotations)] {
            for (k, v) in entries.iter() {
                if let Err(e) = crate::template::check_alert_template(&name.value, &v.value) {
                    // The engine's message is Go's (`template: __alert_<rule>:<line>: ...`), as Prometheus's.
                    let msg = e.to_string();
                    cx.error_help(
                        "rule/bad-template",
                        v.pos,
                        format!("{p}{what} {:?}: {msg}", k.value),
                        "fix the Go template: every `{{` needs a matching `}}`, and only Prometheus's template functions exist",
                    );
                }
            }
        }
    }
    Some(Rule {
        expr_style,
        kind,
        name,
        expr,
        ast,
        for_ms,
        keep_firing_for_ms,
        labels,
        annotations,
        pos: r.pos,
    })
}

/// promtool's `duplicate-rules` lint: rules with the same name and the same labels in one file, unless
/// their series can never be the same: both keep a label whose values their selectors split
/// (`sum by (code) (x{code=~"2.."})` and `sum by (code) (x{code=~"3.."})` record one name, not one series).
fn duplicate_rules(cx: &mut Cx, rf: &RuleFile) {
    type Key<'a> = (&'a Rule, Vec<(&'a str, &'a str)>);
    let mut seen: Vec<Key> = Vec::new();
    for g in &rf.groups {
        for r in &g.rules {
            let mut labels: Vec<(&str, &str)> = r
                .labels
                .iter()
                .map(|(k, v)| (k.value.as_str(), v.value.as_str()))
                .collect();
            labels.sort();
            let set: Vec<&str> = labels.iter().map(|(k, _)| *k).collect();
            let apart = |other: &Rule| match (&r.ast, &other.ast) {
                (Some(a), Some(b)) => crate::promql::facts::tell_apart(a, b, &set).is_some(),
                _ => false,
            };
            let same = seen
                .iter()
                .find(|(o, l)| o.name.value == r.name.value && *l == labels && !apart(o));
            if let Some((first, _)) = same {
                let first = first.name.pos;
                cx.diags.push(
                    Diagnostic::warning(
                        "rule/duplicate",
                        format!("{}duplicate rule: `{}` with the same labels is also defined at line {}", cx.prefix, r.name.value, first.line),
                    )
                    .at(&cx.file, r.name.pos)
                    .help("both rules produce the same series; remove one or give them distinguishing labels"),
                );
            } else {
                seen.push((r, labels));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::documents::{load_bytes, Loaded};

    fn load(text: &str) -> (Vec<RuleFile>, Vec<Diagnostic>) {
        let mut l = Loaded::default();
        load_bytes(Arc::from("r.yaml"), text.as_bytes(), &mut l);
        let mut files = Vec::new();
        let mut diags = l.diagnostics.clone();
        for item in &l.items {
            let (rf, d) = load_rule_file(item);
            files.push(rf);
            diags.extend(d);
        }
        (files, diags)
    }

    #[test]
    fn loads_groups_and_rules_with_positions() {
        let (files, diags) = load(
            "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: A\n    expr: |\n      up == 0\n    for: 5m\n    labels: {severity: page}\n    annotations: {summary: down}\n  - record: job:up:sum\n    expr: sum by (job) (up)\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let g = &files[0].groups[0];
        assert_eq!(g.interval_ms, Some(30_000));
        assert_eq!(g.rules.len(), 2);
        let a = &g.rules[0];
        assert_eq!(a.kind, RuleKind::Alerting);
        assert_eq!(a.expr.pos, Pos::new(7, 7));
        assert_eq!(a.for_duration(), 300_000);
        assert_eq!(a.label("severity"), Some("page"));
        assert_eq!(g.rules[1].kind, RuleKind::Recording);
    }

    #[test]
    fn reports_what_rulefmt_reports() {
        let (_, diags) = load(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(\n  - record: r\n    expr: up\n    for: 5m\n  - expr: up\n  - alert: B\n    expr: up\n    for: 5x\n    labelz: {}\n- name: g\n",
        );
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![
                "rule/bad-expr",
                "rule/recording-field",
                "rule/missing-field",
                "rule/unknown-field",
                "rule/bad-duration",
                "rule/duplicate-group"
            ]
        );
        let unknown = &diags[3];
        assert_eq!(unknown.location.as_ref().unwrap().pos, Pos::new(13, 5));
        assert!(unknown
            .help
            .as_deref()
            .unwrap()
            .contains("did you mean `labels`"));
        assert_eq!(diags[0].location.as_ref().unwrap().pos.line, 5);
        assert!(diags[5]
            .message
            .contains("groupname: \"g\" is repeated in the same file"));
    }

    #[test]
    fn duplicate_rules_are_warnings() {
        let (_, diags) = load("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n  - alert: A\n    expr: up > 1\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "rule/duplicate");
        assert_eq!(diags[0].severity, crate::diag::Severity::Warning);
    }

    #[test]
    fn one_name_over_series_split_by_a_kept_label_is_no_duplicate() {
        let file = |a: &str, b: &str| {
            format!("groups:\n- name: g\n  rules:\n  - record: r\n    expr: '{a}'\n  - record: r\n    expr: '{b}'\n")
        };
        let dups = |a: &str, b: &str| {
            load(&file(a, b))
                .1
                .iter()
                .filter(|d| d.code == "rule/duplicate")
                .count()
        };
        // Apart: the kept label's values cannot meet.
        for (a, b) in [
            (
                r#"sum by (code) (rate(x{code=~"2.."}[5m]))"#,
                r#"sum by (code) (rate(x{code=~"3.."}[5m]))"#,
            ),
            (
                r#"sum by (code) (x{code="200"})"#,
                r#"sum by (code) (x{code="500"})"#,
            ),
            (r#"x{code="200"}"#, r#"x{code=~"5.."}"#),
            (r#"x{code=~"200|201"}"#, r#"x{code=~"500|503"}"#),
            (r#"x{code="200"}"#, r#"x{code!="200"}"#),
        ] {
            assert_eq!(dups(a, b), 0, "{a} / {b}");
        }
        // The same series can come from both.
        for (a, b) in [
            ("up", "up > 1"),
            // `code` is summed away: both give one series per job.
            (
                r#"sum by (job) (x{code="200"})"#,
                r#"sum by (job) (x{code="500"})"#,
            ),
            (r#"x{code=~"2.."}"#, r#"x{code=~"20."}"#),
            (r#"x{code=~".*"}"#, r#"x{code="500"}"#),
            (r#"x{code="200"}"#, r#"x{code=~"2.."}"#),
            // Two selectors: no proof attempted.
            (r#"x{code="200"} + y"#, r#"x{code="500"} + y"#),
            (
                r#"label_replace(x{code="200"}, "code", "1", "", "")"#,
                r#"label_replace(x{code="500"}, "code", "1", "", "")"#,
            ),
        ] {
            assert_eq!(dups(a, b), 1, "{a} / {b}");
        }
    }

    #[test]
    fn prometheus_rule_allows_partial_response_strategy() {
        let (files, diags) = load(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: x}\nspec:\n  groups:\n  - name: g\n    partial_response_strategy: warn\n    rules: []\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(files[0].groups[0].name, "g");
    }

    #[test]
    fn partial_response_strategy_must_be_warn_or_abort() {
        let text = |v: &str| {
            format!("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{name: x}}\nspec:\n  groups:\n  - name: g\n    partial_response_strategy: {v}\n    rules: []\n")
        };
        assert!(load(&text("ABORT")).1.is_empty());
        let (_, d) = load(&text("sometimes"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "rule/bad-value");
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(7, 32));
        assert!(d[0].message.contains("\"sometimes\""), "{}", d[0].message);
    }
}
