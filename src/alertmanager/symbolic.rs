//! What the Alertmanager checks share: the typed config of a loaded document, the YAML node of a route,
//! reasoning about matchers (can they all hold at once? does one set imply another?), and routing a rule's
//! alerts through the route tree when only some of their labels are known.
//!
//! Not a check itself: the `alertmanager/*` and `routing/*` checks build on it, so the reasoning is written once.

use crate::alertmanager::config::{self, Config, Route};
use crate::alertmanager::matcher::{go_quote, MatchType, Matcher};
use crate::load::documents::Item;
use crate::load::rules::{RuleFile, RuleKind};
use crate::promql::facts::{labels_of, LabelSet};
use crate::text::yaml::{Node, Pos};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The typed config of an Alertmanager document, or `None` when it does not load (its errors are reported
/// elsewhere; linting a half-read config would only add noise).
pub fn typed(item: &Item) -> Option<Config> {
    config::from_node(&item.root, &item.file).0
}

/// The YAML mapping of the route at `path` (child indices from the root route).
pub fn route_node<'a>(root: &'a Node, path: &[usize]) -> Option<&'a Node> {
    let mut node = root.get("route")?;
    for &i in path {
        node = node.get("routes")?.as_seq()?.get(i)?;
    }
    Some(node)
}

/// Where a route's own key `key` is written, else the route itself.
pub fn key_pos(root: &Node, route: &Route, key: &str) -> Pos {
    route_node(root, &route.path)
        .and_then(|n| n.key(key))
        .map_or(route.pos, |k| k.pos)
}

/// A route's matchers as a user reads them: `{severity="critical"}`, or `the root route`.
pub fn describe_route(route: &Route) -> String {
    if route.path.is_empty() {
        return "the root route".to_string();
    }
    let ms: Vec<String> = route.matchers.iter().map(|m| m.to_string()).collect();
    format!("route {{{}}} (line {})", ms.join(", "), route.pos.line)
}

/// The value set a matcher allows when it is a finite list of literals: `=` one value, `=~` an alternation
/// of plain words (`critical|warning`, `^(?:critical|warning)$`). `None` when the set is open.
pub fn finite_values(m: &Matcher) -> Option<BTreeSet<String>> {
    match m.op {
        MatchType::Equal => Some(BTreeSet::from([m.value.clone()])),
        MatchType::Regexp => {
            let mut v = m.value.as_str();
            if let Some(inner) = v.strip_prefix("^(?:").and_then(|s| s.strip_suffix(")$")) {
                v = inner;
            }
            if let Some(inner) = v.strip_prefix("(?:").and_then(|s| s.strip_suffix(')')) {
                v = inner;
            }
            let meta = |c: char| "\\.+*?()[]{}^$".contains(c);
            let alts: BTreeSet<String> = v.split('|').map(str::to_string).collect();
            if alts.iter().any(|a| a.chars().any(meta)) {
                return None;
            }
            Some(alts)
        }
        MatchType::NotEqual | MatchType::NotRegexp => None,
    }
}

/// Whether the matchers (on any labels) provably cannot all hold for one alert: on some label, every value a
/// finite matcher allows is refused by another. Open-ended sets (`!=`, `!~`, general regexes) are never
/// called contradictory: that would need regex intersection, and a false alarm is worse than a miss here.
pub fn contradiction(ms: &[&Matcher]) -> Option<String> {
    let mut by_label: BTreeMap<&str, Vec<&Matcher>> = BTreeMap::new();
    for m in ms {
        by_label.entry(m.name.as_str()).or_default().push(m);
    }
    for (label, group) in by_label {
        let Some(values) = group
            .iter()
            .filter_map(|m| finite_values(m))
            .min_by_key(|s| s.len())
        else {
            continue;
        };
        if !values
            .iter()
            .any(|v| group.iter().all(|m| m.matches_value(v)))
        {
            let shown: Vec<String> = group.iter().map(|m| m.to_string()).collect();
            return Some(format!(
                "`{label}` cannot satisfy {} at once",
                shown.join(" and ")
            ));
        }
    }
    None
}

/// Whether every alert matching all of `by` also matches `m`.
pub fn implied(m: &Matcher, by: &[Matcher]) -> bool {
    by.iter().any(|b| {
        b == m
            || (b.name == m.name
                && finite_values(b).is_some_and(|vs| vs.iter().all(|v| m.matches_value(v))))
    })
}

/// A matcher list as YAML list items for `matchers:`, quoted so YAML keeps the text.
pub fn matchers_yaml(ms: &[String]) -> String {
    let items: Vec<String> = ms
        .iter()
        .map(|m| format!("'{}'", m.replace('\'', "''")))
        .collect();
    format!("[{}]", items.join(", "))
}

/// `name="value"` as a `matchers:` entry writes it.
pub fn matcher_text(name: &str, op: &str, value: &str) -> String {
    format!("{name}{op}{}", go_quote(value))
}

/// Three-valued truth: what we can prove about an alert from a rule whose labels are only partly known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tri {
    No,
    Maybe,
    Yes,
}

impl Tri {
    pub fn and(self, o: Tri) -> Tri {
        self.min(o)
    }
    pub fn or(self, o: Tri) -> Tri {
        self.max(o)
    }
    pub fn negate(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
            Tri::Yes => Tri::No,
        }
    }
}

/// A label's value on the alerts of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelValue {
    /// Written in the rule (or its group) without a template, or `alertname`; `""` means absent.
    Known(String),
    /// Templated, or kept from the series by the expression where that is visible (`sum by (team)`).
    Unknown,
}

/// An alerting rule seen from Alertmanager: the labels its alerts are routed with.
#[derive(Clone, Debug)]
pub struct AlertLabels {
    pub name: String,
    pub file: Arc<str>,
    pub pos: Pos,
    /// Group labels overridden by rule labels, plus `alertname`; `None` for a templated value.
    pub static_labels: BTreeMap<String, Option<String>>,
    /// The labels the expression's result can carry (`None` when it does not parse).
    pub expr_labels: Option<LabelSet>,
}

impl AlertLabels {
    /// Every alerting rule of the loaded files.
    pub fn of_files(files: &[RuleFile]) -> Vec<AlertLabels> {
        let mut out = Vec::new();
        for f in files {
            for g in &f.groups {
                for r in g.rules.iter().filter(|r| r.kind == RuleKind::Alerting) {
                    let mut labels = BTreeMap::new();
                    for (k, v) in g.labels.iter().chain(&r.labels) {
                        let value = (!v.value.contains("{{")).then(|| v.value.clone());
                        labels.insert(k.value.clone(), value);
                    }
                    labels.insert("alertname".to_string(), Some(r.name.value.clone()));
                    let expr_labels = r.ast.as_deref().map(labels_of);
                    out.push(AlertLabels {
                        name: r.name.value.clone(),
                        file: f.file.clone(),
                        pos: r.name.pos,
                        static_labels: labels,
                        expr_labels,
                    });
                }
            }
        }
        out
    }

    /// The value routing uses. A label the rule does not write is taken as absent unless the expression
    /// visibly keeps it (`by (team)`): a raw selector can carry any label, and assuming every one of them
    /// might be present would make every route "maybe" and every finding impossible, so those alerts are
    /// routed with their static labels (the documented approximation).
    pub fn value(&self, label: &str) -> LabelValue {
        match self.static_labels.get(label) {
            Some(Some(v)) => LabelValue::Known(v.clone()),
            Some(None) => LabelValue::Unknown,
            None => match &self.expr_labels {
                Some(LabelSet::AtMost(s)) if s.contains(label) => LabelValue::Unknown,
                _ => LabelValue::Known(String::new()),
            },
        }
    }

    /// Whether an alert of this rule can carry `label` at all (static, or possibly from the expression).
    pub fn may_carry(&self, label: &str) -> bool {
        self.static_labels.contains_key(label)
            || self.expr_labels.as_ref().is_none_or(|l| l.may_have(label))
    }

    pub fn matches(&self, m: &Matcher) -> Tri {
        match self.value(&m.name) {
            LabelValue::Known(v) if m.matches_value(&v) => Tri::Yes,
            LabelValue::Known(_) => Tri::No,
            LabelValue::Unknown => Tri::Maybe,
        }
    }

    pub fn matches_all(&self, ms: &[Matcher]) -> Tri {
        ms.iter().fold(Tri::Yes, |acc, m| acc.and(self.matches(m)))
    }

    /// The static labels as `{alertname="A", severity="warning"}` (templated values as `{{...}}`).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .static_labels
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={}", go_quote(v)),
                None => format!("{k}=<templated>"),
            })
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// The routes an alert of `rule` is delivered through, each with how sure that is, after Alertmanager's
/// `Route.Match`: children in order, stopping at the first matching child without `continue`, the node itself
/// when no child matched. A child that only maybe matched does not stop its later siblings.
pub fn deliveries<'a>(route: &'a Route, rule: &AlertLabels) -> Vec<(&'a Route, Tri)> {
    let mut out = Vec::new();
    visit(route, rule, Tri::Yes, &mut out);
    out
}

/// Visits `route`, reached with certainty `ctx`; returns whether its own matchers match (regardless of `ctx`).
fn visit<'a>(
    route: &'a Route,
    rule: &AlertLabels,
    ctx: Tri,
    out: &mut Vec<(&'a Route, Tri)>,
) -> Tri {
    let own = rule.matches_all(&route.matchers);
    if own == Tri::No {
        return Tri::No;
    }
    let here = ctx.and(own);
    // Both relative to this node being reached: whether the next child is still tried, whether one matched.
    let mut tried = Tri::Yes;
    let mut some_child = Tri::No;
    for child in &route.routes {
        if tried == Tri::No {
            break;
        }
        let matched = tried.and(visit(child, rule, here.and(tried), out));
        some_child = some_child.or(matched);
        if !child.continue_matching {
            tried = tried.and(matched.negate());
        }
    }
    let itself = here.and(some_child.negate());
    if itself != Tri::No {
        out.push((route, itself));
    }
    own
}

/// The route an alert of `rule` provably takes before reaching `target`: an earlier sibling on the way down
/// that matches it for sure and has no `continue`.
pub fn taken_before<'a>(root: &'a Route, target: &Route, rule: &AlertLabels) -> Option<&'a Route> {
    let mut node = root;
    for &step in &target.path {
        for earlier in node.routes.iter().take(step) {
            if !earlier.continue_matching && rule.matches_all(&earlier.matchers) == Tri::Yes {
                return Some(earlier);
            }
        }
        node = node.routes.get(step)?;
    }
    None
}

/// All matchers an alert must satisfy to reach `route`: its ancestors' and its own.
pub fn path_matchers<'a>(root: &'a Route, route: &Route) -> Vec<&'a Matcher> {
    let mut out: Vec<&Matcher> = root.matchers.iter().collect();
    let mut node = root;
    for &step in &route.path {
        let Some(next) = node.routes.get(step) else {
            break;
        };
        out.extend(next.matchers.iter());
        node = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager::matcher::parse_matcher;

    fn m(s: &str) -> Matcher {
        parse_matcher(s).unwrap()
    }

    #[test]
    fn contradictions_need_a_finite_side() {
        assert!(contradiction(&[&m("a=\"x\""), &m("a=\"y\"")]).is_some());
        assert!(contradiction(&[&m("a=\"x\""), &m("a!~\"x|y\"")]).is_some());
        assert!(contradiction(&[&m("a=~\"x|y\""), &m("a=~\"z|w\"")]).is_some());
        assert!(contradiction(&[&m("a=\"x\""), &m("b=\"y\"")]).is_none());
        assert!(contradiction(&[&m("a=~\"x|y\""), &m("a!=\"x\"")]).is_none());
        // Open-ended on both sides: not provable without regex intersection.
        assert!(contradiction(&[&m("a=~\"x.*\""), &m("a!~\"x.*\"")]).is_none());
    }

    #[test]
    fn implication_by_equal_or_finite_sets() {
        assert!(implied(&m("a=~\"x|y\""), &[m("a=\"x\"")]));
        assert!(implied(&m("a!=\"z\""), &[m("a=~\"x|y\"")]));
        assert!(!implied(&m("a=\"x\""), &[m("a=~\"x|y\"")]));
        assert!(!implied(&m("a=\"x\""), &[m("b=\"x\"")]));
        let re = Matcher::from_match_re("a", "x|y").unwrap();
        assert_eq!(finite_values(&re).unwrap().len(), 2);
    }

    fn rule(labels: &[(&str, Option<&str>)]) -> AlertLabels {
        AlertLabels {
            name: "A".into(),
            file: Arc::from("r.yml"),
            pos: Pos::new(1, 1),
            static_labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
            expr_labels: None,
        }
    }

    fn tree(yaml: &str) -> Config {
        let s = crate::text::yaml::parse_stream(yaml).unwrap();
        config::from_node(&s.documents[0].root, &Arc::from("am.yml"))
            .0
            .unwrap()
    }

    #[test]
    fn deliveries_follow_continue_and_uncertainty() {
        let c = tree("route:\n  receiver: d\n  routes:\n  - matchers: [s=\"crit\"]\n    receiver: p\n  - matchers: [c=\"k8s\"]\n    receiver: i\nreceivers:\n- name: d\n- name: p\n- name: i\n");
        let got = |r: &AlertLabels| -> Vec<(String, Tri)> {
            deliveries(&c.route, r)
                .into_iter()
                .map(|(r, t)| (r.receiver.clone(), t))
                .collect()
        };
        // Critical and k8s: the first route takes it for sure.
        let both = rule(&[("s", Some("crit")), ("c", Some("k8s"))]);
        assert_eq!(got(&both), vec![("p".to_string(), Tri::Yes)]);
        // Templated severity: maybe the first route, else the second. The root shows up as "maybe" too:
        // three-valued logic does not correlate the two cases. That over-approximation is safe, since only
        // definite facts are reported.
        let maybe = rule(&[("s", None), ("c", Some("k8s"))]);
        assert_eq!(
            got(&maybe),
            vec![
                ("p".to_string(), Tri::Maybe),
                ("i".to_string(), Tri::Maybe),
                ("d".to_string(), Tri::Maybe)
            ]
        );
        // Nothing matches: the root, for sure.
        let none = rule(&[("s", Some("warn"))]);
        assert_eq!(got(&none), vec![("d".to_string(), Tri::Yes)]);
        // A label the rule does not write counts as absent (`s` missing), unless templated.
        assert_eq!(got(&rule(&[])), vec![("d".to_string(), Tri::Yes)]);
    }

    #[test]
    fn tri_logic() {
        assert_eq!(Tri::Yes.and(Tri::Maybe), Tri::Maybe);
        assert_eq!(Tri::No.or(Tri::Maybe), Tri::Maybe);
        assert_eq!(Tri::Maybe.negate(), Tri::Maybe);
    }
}
