//! `alert/for-not-multiple-of-interval`: a `for` (or `keep_firing_for`) the group's evaluations cannot honour.

use crate::lint::registry::{Check, Finding, RuleContext};
use crate::text::duration::format_duration;

/// ## What it finds
/// In a group with an explicit `interval`, an alert whose `for` or `keep_firing_for` is shorter than the
/// interval or not a multiple of it. (Without `interval:` the group uses the server's global
/// evaluation_interval, which a rule file does not show, so nothing is checked.)
///
/// ## Why it matters
/// The rule is only evaluated every `interval`: `for: 45s` with `interval: 30s` really waits 60s, and
/// `for: 10s` waits a whole interval. The alert fires later than the rule says, and unit tests written from
/// the rule's text disagree with production.
///
/// ## Example
/// ```yaml
/// - name: api
///   interval: 30s
///   rules:
///   - alert: ApiDown
///     expr: up{job="api"} == 0
///     for: 45s
/// ```
///
/// ## Fix
/// Use a multiple of the interval (`for: 1m`), or change the group's interval.
pub struct ForNotMultipleOfInterval;

impl Check for ForNotMultipleOfInterval {
    fn code(&self) -> &'static str {
        "alert/for-not-multiple-of-interval"
    }
    fn source(&self) -> &'static str {
        include_str!("for_not_multiple_of_interval.rs")
    }
    fn check_rule(&self, cx: &RuleContext, out: &mut Vec<Finding>) {
        let Some(interval) = cx.group.interval_ms.filter(|i| *i > 0) else {
            return;
        };
        let fields = [
            ("for", &cx.rule.for_ms),
            ("keep_firing_for", &cx.rule.keep_firing_for_ms),
        ];
        for (field, value) in fields {
            let Some(v) = value else { continue };
            if v.value == 0 || v.value % interval == 0 {
                continue;
            }
            let effective = (v.value + interval - 1) / interval * interval;
            let (i, d, e) = (
                format_duration(interval),
                format_duration(v.value),
                format_duration(effective),
            );
            let what = if v.value < interval {
                "shorter than"
            } else {
                "not a multiple of"
            };
            out.push(Finding::new(
                v.pos,
                format!("`{field}: {d}` is {what} the group interval {i}: evaluated every {i}, it really takes {e}"),
                format!("write `{field}: {e}` (a multiple of {i}) so the rule says what happens"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lint, places};

    const CODE: &str = "alert/for-not-multiple-of-interval";

    fn group(interval: &str, extra: &str) -> String {
        format!("groups:\n- name: g\n{interval}  rules:\n  - alert: A\n    expr: up == 0\n{extra}")
    }

    #[test]
    fn flags_for_the_interval_cannot_honour() {
        let d = lint(&group("  interval: 30s\n", "    for: 45s\n"), CODE);
        assert_eq!(places(&d), vec!["7:10"]);
        assert!(d[0].message.contains("really takes 1m"), "{}", d[0].message);
        assert_eq!(
            lint(&group("  interval: 1m\n", "    for: 10s\n"), CODE).len(),
            1
        );
        assert_eq!(
            lint(
                &group("  interval: 1m\n", "    keep_firing_for: 90s\n"),
                CODE
            )
            .len(),
            1
        );
    }

    #[test]
    fn accepts_multiples_and_unknown_intervals() {
        assert!(lint(&group("  interval: 30s\n", "    for: 2m\n"), CODE).is_empty());
        assert!(lint(&group("", "    for: 45s\n"), CODE).is_empty());
        assert!(lint(&group("  interval: 30s\n", ""), CODE).is_empty());
    }
}
