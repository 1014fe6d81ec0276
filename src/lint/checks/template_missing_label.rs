//! `alert/template-missing-label`: a template uses `$labels.X` that the expression can never return.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::lint::template::label_refs;
use crate::promql::facts::labels_of;

/// ## What it finds
/// A label or annotation template referring to `$labels.X` (or `.Labels.X`, `index $labels "X"`) when the
/// expression provably drops `X`: aggregated away by `sum by (...)`/`without (...)`, cut by `on (...)` in a
/// one-to-one match, or never there (`absent(...)` returns only its equality matchers). Labels follow
/// `group_left`/`group_right`, `label_replace` and `label_join`. A plain selector can return any label, so it
/// is never flagged.
///
/// ## Why it matters
/// The template renders an empty string: "Pod  is crash looping" reaches the on-call with nothing to act on,
/// and a label used for routing (`team: {{ $labels.team }}`) routes to the default receiver.
///
/// ## Example
/// ```yaml
/// expr: sum by (namespace) (rate(errors_total[5m])) > 1
/// annotations:
///   summary: "errors in {{ $labels.namespace }}/{{ $labels.pod }}"
/// ```
///
/// ## Fix
/// Keep the label in the aggregation (`sum by (namespace, pod)`), or stop referring to it.
pub struct TemplateMissingLabel;

impl Check for TemplateMissingLabel {
    fn code(&self) -> &'static str {
        "alert/template-missing-label"
    }
    fn source(&self) -> &'static str {
        include_str!("template_missing_label.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let labels = labels_of(cx.ast);
        for (key, value) in cx.rule.labels.iter().chain(&cx.rule.annotations) {
            for r in label_refs(&value.value) {
                // `$labels` holds the expression's labels only: Prometheus builds it before adding the rule's
                // own labels, so those do not make a reference valid.
                if labels.may_have(&r.label) {
                    continue;
                }
                let pos = cx.at_in(value, r.offset);
                out.push(Finding::new(
                    pos,
                    format!("`{}` in `{}` is always empty: the expression's result has no `{}` label", r.text, key.value, r.label),
                    format!("keep `{}` in the expression's aggregation (e.g. `by (..., {})`), or remove the reference", r.label, r.label),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{alert, lint, places};

    const CODE: &str = "alert/template-missing-label";

    #[test]
    fn flags_labels_aggregated_away() {
        let y = alert(
            "sum by (namespace) (rate(errors_total[5m])) > 1",
            "    annotations:\n      summary: \"errors in {{ $labels.namespace }}/{{ $labels.pod }}\"\n",
        );
        let d = lint(&y, CODE);
        assert_eq!(places(&d), vec!["9:54"]);
        assert!(d[0].message.contains("no `pod` label"));
        let y = alert(
            "absent(up{job=\"x\"})",
            "    annotations:\n      s: \"{{ $labels.instance }}\"\n",
        );
        assert_eq!(lint(&y, CODE).len(), 1);
    }

    #[test]
    fn accepts_labels_that_can_be_there() {
        for (q, t) in [
            ("up == 0", "{{ $labels.pod }}"),
            ("sum by (pod) (up) == 0", "{{ $labels.pod }}"),
            ("sum without (instance) (up) == 0", "{{ $labels.pod }}"),
            (
                "sum by (job) (up) * on (job) group_left (team) team_info > 0",
                "{{ $labels.team }}",
            ),
            (
                "label_replace(sum(up), \"pod\", \"x\", \"\", \"\") > 0",
                "{{ .Labels.pod }}",
            ),
        ] {
            let y = alert(q, &format!("    annotations:\n      s: \"{t}\"\n"));
            assert!(lint(&y, CODE).is_empty(), "{q} {t}");
        }
    }
}
