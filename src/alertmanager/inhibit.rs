//! Inhibition as Alertmanager's `inhibit.Inhibitor.Mutes`: an alert matching a rule's target matchers is muted
//! while some firing alert matches the rule's source matchers and has the same values for the `equal` labels
//! (a label missing on both sides counts as equal). An alert matching both sides of a rule is not muted by a
//! source that also matches the target side (no self-inhibition). Sources are every alert Alertmanager holds,
//! whatever their routing; resolved ones (at `now`) do not inhibit.

use super::alert::Alert;
use super::config::InhibitRule;
use super::matcher::matches_all;
use super::LabelSet;

/// Why an alert is inhibited: the rule (index into the config's `inhibit_rules`) and the source alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Inhibition {
    pub rule: usize,
    pub source: LabelSet,
}

/// The first inhibition muting `target` at `now`, if any.
pub fn inhibited_by<'a>(
    rules: &[InhibitRule],
    sources: impl IntoIterator<Item = &'a Alert> + Clone,
    target: &LabelSet,
    now: i64,
) -> Option<Inhibition> {
    for (i, rule) in rules.iter().enumerate() {
        if !matches_all(&rule.target_matchers, target) {
            continue;
        }
        let two_sided = matches_all(&rule.source_matchers, target);
        for a in sources.clone() {
            if a.resolved_at(now) || !matches_all(&rule.source_matchers, &a.labels) {
                continue;
            }
            let equal = rule.equal.iter().all(|l| a.labels.get(l) == target.get(l));
            if !equal {
                continue;
            }
            if two_sided && matches_all(&rule.target_matchers, &a.labels) {
                continue;
            }
            return Some(Inhibition {
                rule: i,
                source: a.labels.clone(),
            });
        }
    }
    None
}

/// Whether `target` is inhibited at `now`.
pub fn is_inhibited<'a>(
    rules: &[InhibitRule],
    sources: impl IntoIterator<Item = &'a Alert> + Clone,
    target: &LabelSet,
    now: i64,
) -> bool {
    inhibited_by(rules, sources, target, now).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager::config::from_node;
    use crate::text::yaml::parse_stream;
    use std::sync::Arc;

    fn rules(src: &str) -> Vec<InhibitRule> {
        let full =
            format!("route: {{receiver: x}}\nreceivers: [{{name: x}}]\ninhibit_rules:\n{src}");
        let s = parse_stream(&full).unwrap();
        let (c, d) = from_node(&s.documents[0].root, &Arc::from("i.yml"));
        assert!(d.is_empty(), "{d:?}");
        c.unwrap().inhibit_rules
    }

    fn alert(pairs: &[(&str, &str)], ends_at: Option<i64>) -> Alert {
        Alert {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: LabelSet::new(),
            starts_at: 0,
            ends_at,
            generator_url: String::new(),
            updated_at: 0,
            timeout: false,
        }
    }

    #[test]
    fn critical_inhibits_warning_with_equal_labels() {
        let r = rules("  - source_match: {severity: critical}\n    target_match: {severity: warning}\n    equal: [alertname, cluster]\n");
        let crit = alert(
            &[("severity", "critical"), ("alertname", "Down")],
            Some(100),
        );
        let warn = alert(&[("severity", "warning"), ("alertname", "Down")], Some(100));
        let other = alert(&[("severity", "warning"), ("alertname", "Up")], Some(100));
        let all = [crit.clone(), warn.clone(), other.clone()];
        // `cluster` is missing on both sides: equal.
        assert!(is_inhibited(&r, &all, &warn.labels, 50));
        assert!(!is_inhibited(&r, &all, &other.labels, 50));
        assert!(!is_inhibited(&r, &all, &crit.labels, 50));
        // A resolved source no longer inhibits.
        assert!(!is_inhibited(&r, &all, &warn.labels, 100));
    }

    #[test]
    fn no_self_inhibition_when_both_sides_match() {
        let r = rules("  - source_matchers: ['team=db']\n    target_matchers: ['team=db']\n    equal: [cluster]\n");
        let a = alert(&[("team", "db"), ("cluster", "c1")], None);
        let b = alert(&[("team", "db"), ("cluster", "c1"), ("x", "1")], None);
        assert!(!is_inhibited(&r, [&a, &b], &a.labels, 0));
        // A source-only alert still inhibits it.
        let r =
            rules("  - source_matchers: ['team=~\"db|ops\"']\n    target_matchers: ['team=db']\n");
        let ops = alert(&[("team", "ops")], None);
        assert!(is_inhibited(&r, [&a, &ops], &a.labels, 0));
        assert!(!is_inhibited(&r, [&a, &b], &a.labels, 0));
    }
}
