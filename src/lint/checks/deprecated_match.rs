//! `alertmanager/deprecated-match`: the old `match` / `match_re` / `source_match*` / `target_match*` maps.

use crate::alertmanager::symbolic::{matcher_text, matchers_yaml, route_node};
use crate::lint::registry::{Check, ConfigContext, Finding};
use crate::text::yaml::Node;

/// ## What it finds
/// A route's `match` or `match_re`, or an inhibit rule's `source_match`, `source_match_re`, `target_match` or
/// `target_match_re`.
///
/// ## Why it matters
/// Alertmanager deprecated these maps in 0.22 in favour of matcher lists, which can say `!=` and `!~` too and
/// read the same everywhere (amtool, silences, the UI). New configs should not start with them, and mixing both
/// styles in one route makes the effective matchers harder to read.
///
/// ## Example
/// ```yaml
/// routes:
/// - match:
///     severity: critical
///   receiver: pager
/// ```
///
/// ## Fix
/// Write the same matchers as a list: `matchers: ['severity="critical"']` (and `source_matchers:` /
/// `target_matchers:` in inhibit rules); a `match_re` value `a|b` becomes `'label=~"a|b"'`.
pub struct DeprecatedMatch;

/// The deprecated keys, what replaces them, and the operator their entries mean.
const KEYS: &[(&str, &str, &str)] = &[
    ("match", "matchers", "="),
    ("match_re", "matchers", "=~"),
    ("source_match", "source_matchers", "="),
    ("source_match_re", "source_matchers", "=~"),
    ("target_match", "target_matchers", "="),
    ("target_match_re", "target_matchers", "=~"),
];

impl Check for DeprecatedMatch {
    fn code(&self) -> &'static str {
        "alertmanager/deprecated-match"
    }
    fn source(&self) -> &'static str {
        include_str!("deprecated_match.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        let Some(config) = cx.typed else {
            return;
        };
        let root = &cx.item.root;
        for route in config.routes() {
            if let Some(node) = route_node(root, &route.path) {
                flag(node, &KEYS[..2], out);
            }
        }
        if let Some(rules) = root.get("inhibit_rules").and_then(Node::as_seq) {
            for rule in rules {
                flag(rule, &KEYS[2..], out);
            }
        }
    }
}

fn flag(node: &Node, keys: &[(&str, &str, &str)], out: &mut Vec<Finding>) {
    for (key, replacement, op) in keys {
        let (Some(k), Some(v)) = (node.key(key), node.get(key)) else {
            continue;
        };
        let entries: Vec<String> = v
            .as_map()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(n, val)| Some(matcher_text(n.as_str()?, op, val.as_str()?)))
            .collect();
        out.push(Finding::new(
            k.pos,
            format!("`{key}` is deprecated; use `{replacement}`"),
            format!("write `{replacement}: {}`", matchers_yaml(&entries)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/deprecated-match";

    #[test]
    fn flags_each_deprecated_key_with_its_replacement() {
        let am = "route:\n  receiver: a\n  routes:\n  - match: {severity: critical}\n    match_re:\n      team: 'db|web'\n    receiver: a\ninhibit_rules:\n- source_match: {severity: critical}\n  target_matchers: ['severity=\"warning\"']\nreceivers:\n- name: a\n";
        let d = lint_am(am, None, CODE);
        assert_eq!(lines(&d), vec![4, 5, 9]);
        assert_eq!(
            d[0].help.as_deref(),
            Some("write `matchers: ['severity=\"critical\"']`")
        );
        assert_eq!(
            d[1].help.as_deref(),
            Some("write `matchers: ['team=~\"db|web\"']`")
        );
        assert!(d[2].message.contains("`source_matchers`"));
    }

    #[test]
    fn matcher_lists_pass() {
        let am = "route:\n  receiver: a\n  routes:\n  - matchers: ['severity=\"critical\"']\n    receiver: a\ninhibit_rules:\n- source_matchers: ['severity=\"critical\"']\n  target_matchers: ['severity=\"warning\"']\n  equal: [alertname]\nreceivers:\n- name: a\n";
        assert!(lint_am(am, None, CODE).is_empty());
    }
}
