//! Routing an alert's labels through the route tree exactly as Alertmanager's `dispatch.Route.Match`: a node
//! whose matchers fail gives nothing; otherwise its children are tried in order, each match collected, stopping
//! at the first matching child without `continue`; a node none of whose children matched is itself the result.
//! Also the group key Alertmanager builds for an alert in a route, and the ASCII trees `amtool` draws.

use super::config::{Config, GroupBy, Route};
use super::matcher::{display_matchers, go_quote, matches_all};
use super::LabelSet;

/// The routes an alert with `labels` is delivered through, in tree order (not deduplicated).
pub fn match_routes<'a>(config: &'a Config, labels: &LabelSet) -> Vec<&'a Route> {
    match_route(&config.route, labels)
}

/// [`match_routes`] from any node.
pub fn match_route<'a>(route: &'a Route, labels: &LabelSet) -> Vec<&'a Route> {
    if !matches_all(&route.matchers, labels) {
        return Vec::new();
    }
    let mut all = Vec::new();
    for child in &route.routes {
        let found = match_route(child, labels);
        let matched = !found.is_empty();
        all.extend(found);
        if matched && !child.continue_matching {
            break;
        }
    }
    if all.is_empty() {
        all.push(route);
    }
    all
}

/// The receivers of the matched routes, comma-joined, as `amtool config routes test` prints them.
pub fn receivers_slug(config: &Config, labels: &LabelSet) -> String {
    match_routes(config, labels)
        .iter()
        .map(|r| r.receiver.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The labels an alert is grouped by in `route`.
pub fn group_labels(route: &Route, labels: &LabelSet) -> LabelSet {
    match &route.group_by {
        GroupBy::All => labels.clone(),
        GroupBy::Labels(names) => names
            .iter()
            .filter_map(|n| labels.get(n).map(|v| (n.clone(), v.clone())))
            .collect(),
    }
}

/// `{a="b", c="d"}` as Prometheus's `model.LabelSet.String()` prints it (sorted, `, ` separated).
pub fn labelset_string(labels: &LabelSet) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Alertmanager's group key: `routeKey:groupLabels`, e.g. `{}/{env="prod"}:{alertname="X", service="api"}`.
pub fn group_key(route: &Route, group_labels: &LabelSet) -> String {
    format!("{}:{}", route.key, labelset_string(group_labels))
}

fn slug(route: &Route, show_continue: bool, show_receiver: bool) -> String {
    let mut s = if route.matchers.is_empty() {
        "default-route".to_string()
    } else {
        display_matchers(&route.matchers)
    };
    if route.continue_matching && show_continue {
        s.push_str("  continue: true");
    }
    if show_receiver {
        s.push_str("  receiver: ");
        s.push_str(&route.receiver);
    }
    s
}

/// A minimal text tree in the format of the Go `treeprint` package amtool uses.
struct Tree {
    label: String,
    children: Vec<Tree>,
}

impl Tree {
    fn render(&self, out: &mut String, prefix: &str) {
        let n = self.children.len();
        for (i, c) in self.children.iter().enumerate() {
            let last = i + 1 == n;
            out.push_str(prefix);
            out.push_str(if last { "└── " } else { "├── " });
            out.push_str(&c.label);
            out.push('\n');
            // treeprint pads the continuing edge with two no-break spaces.
            let next = format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
            c.render(out, &next);
        }
    }
}

fn full_tree(route: &Route) -> Tree {
    Tree {
        label: slug(route, true, true),
        children: route.routes.iter().map(full_tree).collect(),
    }
}

/// `amtool config routes` (0.25): the whole tree with each route's matchers, continue and receiver.
pub fn render_tree(config: &Config) -> String {
    let root = Tree {
        label: ".".into(),
        children: vec![full_tree(&config.route)],
    };
    let mut out = String::from("Routing tree:\n.\n");
    root.render(&mut out, "");
    out.push('\n');
    out
}

fn matching_tree(route: &Route, labels: &LabelSet) -> Tree {
    let mut children = Vec::new();
    for c in &route.routes {
        if matches_all(&c.matchers, labels) {
            children.push(matching_tree(c, labels));
            if !c.continue_matching {
                break;
            }
        }
    }
    let label = slug(route, false, children.is_empty());
    Tree { label, children }
}

/// `amtool config routes test --tree`: the branch an alert takes, receivers on the leaves.
pub fn render_matching_tree(config: &Config, labels: &LabelSet) -> String {
    let root = Tree {
        label: ".".into(),
        children: vec![matching_tree(&config.route, labels)],
    };
    let mut out = String::from("Matching routes:\n.\n");
    root.render(&mut out, "");
    out.push_str("\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager::config::from_node;
    use crate::text::yaml::parse_stream;
    use std::sync::Arc;

    const CFG: &str = r#"
route:
  receiver: default
  group_by: [alertname, cluster]
  routes:
    - match: {severity: critical}
      match_re: {service: 'pg.*'}
      receiver: crit
      continue: true
      routes:
        - matchers: ['team="a b"', 'env!~"prod|stage"']
          receiver: teama
    - matchers: [team=b]
      receiver: teamb
      group_by: ['...']
    - receiver: x
      matchers: ["foo=~bar", 'baz=""']
receivers: [{name: default}, {name: crit}, {name: teama}, {name: teamb}, {name: x}]
"#;

    fn config() -> Config {
        let s = parse_stream(CFG).unwrap();
        let (c, d) = from_node(&s.documents[0].root, &Arc::from("a.yml"));
        assert!(d.is_empty(), "{d:?}");
        c.unwrap()
    }

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn routing_matches_amtool() {
        let c = config();
        // Expected outputs were printed by amtool 0.25 `config routes test` for the same config.
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    ("severity", "critical"),
                    ("service", "pgx"),
                    ("team", "a b"),
                ],
                "teama",
            ),
            (
                &[("severity", "critical"), ("service", "pgx"), ("team", "b")],
                "crit,teamb",
            ),
            (&[("team", "b")], "teamb"),
            (&[], "default"),
            (&[("foo", "bar")], "x"),
        ];
        for (labels, want) in cases {
            assert_eq!(receivers_slug(&c, &ls(labels)), *want, "{labels:?}");
        }
    }

    #[test]
    fn trees_match_amtool() {
        let c = config();
        // Copied from amtool 0.25 output for this config.
        let want = "Routing tree:\n.\n└── default-route  receiver: default\n    ├── {service=~\"^(?:pg.*)$\",severity=\"critical\"}  continue: true  receiver: crit\n    │\u{a0}\u{a0} └── {env!~\"prod|stage\",team=\"a b\"}  receiver: teama\n    ├── {team=\"b\"}  receiver: teamb\n    └── {baz=\"\",foo=~\"bar\"}  receiver: x\n\n";
        assert_eq!(render_tree(&c), want);
        let want = "Matching routes:\n.\n└── default-route\n    ├── {service=~\"^(?:pg.*)$\",severity=\"critical\"}  receiver: crit\n    └── {team=\"b\"}  receiver: teamb\n\n\n";
        let labels = ls(&[("severity", "critical"), ("service", "pgx"), ("team", "b")]);
        assert_eq!(render_matching_tree(&c, &labels), want);
    }

    #[test]
    fn group_keys_like_alertmanager() {
        let c = config();
        let labels = ls(&[
            ("alertname", "HighErrorRate"),
            ("cluster", "eu"),
            ("team", "b"),
            ("x", "1"),
        ]);
        let r = match_routes(&c, &labels)[0];
        assert_eq!(r.receiver, "teamb");
        let g = group_labels(r, &labels);
        assert_eq!(
            group_key(r, &g),
            "{}/{team=\"b\"}:{alertname=\"HighErrorRate\", cluster=\"eu\", team=\"b\", x=\"1\"}"
        );
        let root = &c.route;
        let g = group_labels(root, &labels);
        assert_eq!(
            group_key(root, &g),
            "{}:{alertname=\"HighErrorRate\", cluster=\"eu\"}"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::alertmanager::config::from_node;
    use crate::text::yaml::parse_stream;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn nested() -> Config {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/alertmanager/nested.yml"
        );
        let src =
            std::fs::read_to_string(path).expect("fixtures/alertmanager/nested.yml is missing");
        let s = parse_stream(&src).unwrap();
        let (c, d) = from_node(&s.documents[0].root, &Arc::from("nested.yml"));
        assert!(d.is_empty(), "{d:?}");
        c.unwrap()
    }

    proptest! {
        /// The root has no matchers, so every alert reaches at least one route; every matched route's
        /// matchers (and its ancestors') hold; group keys start with the route key.
        #[test]
        fn every_alert_is_routed_somewhere(
            env in prop::sample::select(vec!["prod", "staging", "dev", ""]),
            team in prop::sample::select(vec!["db", "web", "frontend", "ops", ""]),
            severity in prop::sample::select(vec!["critical", "warning", "info", "none", ""]),
            service in "[a-z]{0,8}",
        ) {
            let c = nested();
            let labels: LabelSet = [("env", env), ("team", team), ("severity", severity), ("service", service.as_str())]
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let routes = match_routes(&c, &labels);
            prop_assert!(!routes.is_empty());
            for r in routes {
                let mut node = &c.route;
                for i in &r.path {
                    prop_assert!(matches_all(&node.matchers, &labels));
                    node = &node.routes[*i];
                }
                prop_assert!(matches_all(&r.matchers, &labels));
                let key = group_key(r, &group_labels(r, &labels));
                let prefix = format!("{}:", r.key);
                prop_assert!(key.starts_with(&prefix));
            }
        }

        /// The order labels arrive in (and the order a label set is built in) changes nothing: the same
        /// routes, receivers, group labels and group keys.
        #[test]
        fn routing_ignores_label_order(
            env in prop::sample::select(vec!["prod", "staging", "dev", ""]),
            team in prop::sample::select(vec!["db", "web", "frontend", "ops", ""]),
            severity in prop::sample::select(vec!["critical", "warning", "info", "none", ""]),
            service in prop::sample::select(vec!["pg-main", "mysql-a", "api", ""]),
            alertname in prop::sample::select(vec!["Watchdog", "HighLatency", ""]),
            extra in prop::collection::vec(("[a-z]{1,6}", "[a-z0-9]{1,6}"), 0..4),
            order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
        ) {
            let c = nested();
            let mut pairs: Vec<(String, String)> = [("env", env), ("team", team), ("severity", severity), ("service", service), ("alertname", alertname)]
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain(extra.into_iter().filter(|(k, _)| !["env", "team", "severity", "service", "alertname"].contains(&k.as_str())))
                .collect();
            pairs.sort();
            pairs.dedup_by(|a, b| a.0 == b.0);
            let canonical: LabelSet = pairs.iter().cloned().collect();
            // A deterministic shuffle from the generated seed, then the set built by inserting one at a time.
            let mut shuffled = pairs.clone();
            let mut seed = order;
            for i in (1..shuffled.len()).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let mut inserted = LabelSet::new();
            for (k, v) in shuffled.iter().rev() {
                inserted.insert(k.clone(), v.clone());
            }
            let collected: LabelSet = shuffled.into_iter().collect();
            let routed = |ls: &LabelSet| -> Vec<(Vec<usize>, String, String)> {
                match_routes(&c, ls)
                    .into_iter()
                    .map(|r| (r.path.clone(), r.receiver.clone(), group_key(r, &group_labels(r, ls))))
                    .collect()
            };
            let want = routed(&canonical);
            prop_assert_eq!(routed(&collected), want.clone());
            prop_assert_eq!(routed(&inserted), want);
            prop_assert_eq!(receivers_slug(&c, &collected), receivers_slug(&c, &canonical));
        }
    }
}
