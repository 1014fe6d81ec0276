//! `alert/value-in-labels`: `$value` in an alert's labels.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::lint::template::value_ref;

/// ## What it finds
/// An alert label whose template uses `$value` (or `.Value`).
///
/// ## Why it matters
/// Labels identify an alert. When a label changes with the value, every evaluation makes a new alert: the old
/// one resolves, a new one starts pending again so `for` never completes, and Alertmanager sees a stream of
/// distinct alerts instead of one.
///
/// ## Example
/// ```yaml
/// labels:
///   severity: warning
///   current: "{{ $value }}"
/// ```
///
/// ## Fix
/// Move the value to an annotation (`annotations: {description: "now {{ $value }}"}`), which can change freely.
pub struct ValueInLabels;

impl Check for ValueInLabels {
    fn code(&self) -> &'static str {
        "alert/value-in-labels"
    }
    fn source(&self) -> &'static str {
        include_str!("value_in_labels.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        for (key, value) in &cx.rule.labels {
            let Some((at, text)) = value_ref(&value.value) else {
                continue;
            };
            let pos = cx.at_in(value, at);
            out.push(Finding::new(
                pos,
                format!("label `{}` uses `{text}`: each new value makes a new alert, so `for` restarts and the alert flaps", key.value),
                "move the value into an annotation; labels should only hold what identifies the alert".to_string(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{alert, lint, places};

    const CODE: &str = "alert/value-in-labels";

    #[test]
    fn flags_value_in_labels() {
        let d = lint(&alert("up == 0", "      current: \"{{ $value }}\"\n"), CODE);
        assert_eq!(places(&d), vec!["8:20"]);
        assert_eq!(
            lint(
                &alert("up == 0", "      v: \"{{ .Value | humanize }}\"\n"),
                CODE
            )
            .len(),
            1
        );
    }

    #[test]
    fn accepts_value_in_annotations() {
        let y = alert(
            "up == 0",
            "    annotations:\n      description: \"now {{ $value }}\"\n",
        );
        assert!(lint(&y, CODE).is_empty());
        assert!(lint(&alert("up == 0", "      team: db\n"), CODE).is_empty());
    }
}
