//! `routes_test` cases of a ruletest test file, evaluated against an Alertmanager config: which receivers an
//! alert reaches (`route::match_routes`, tree order, as `amtool config routes test` prints them), whether one of
//! the `firing` alerts inhibits it, and whether every route it reaches is muted at the given instant. Also the
//! coverage of a set of cases: routes and receivers that no case reached and no alerting rule can reach.
//!
//! Input: a [`Config`] and the cases' labels. Output: [`Outcome`] per case and [`Coverage`].

use super::alert::Alert;
use super::config::{Config, Route};
use super::inhibit::inhibited_by;
use super::route::match_routes;
use super::LabelSet;
use crate::alertmanager::symbolic::{deliveries, AlertLabels, Tri};
use std::collections::BTreeSet;

/// What Alertmanager does with one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Receivers of the matched routes, in tree order, not deduplicated.
    pub receivers: Vec<String>,
    /// The labels of the firing alert that inhibits it, if any.
    pub inhibited_by: Option<LabelSet>,
    /// Whether every matched route is muted (outside its active intervals or inside a mute interval) at `at`.
    pub muted: bool,
}

fn firing_alert(labels: &LabelSet) -> Alert {
    Alert {
        labels: labels.clone(),
        annotations: LabelSet::new(),
        starts_at: i64::MIN / 2,
        // Never resolved: the case says it fires at `at`.
        ends_at: None,
        generator_url: String::new(),
        updated_at: 0,
        timeout: false,
    }
}

/// Whether `route` is muted at `at_ms`, as the dispatcher checks it at flush time: active intervals first (the
/// route is muted when it has some and none contains the instant), then mute intervals. An interval name the
/// config does not define cannot occur in a loaded config (validation rejects it).
pub fn route_muted(config: &Config, route: &Route, at_ms: i64) -> bool {
    let holds = |name: &String| {
        config
            .time_interval(name)
            .is_some_and(|t| t.contains(at_ms))
    };
    if !route.active_time_intervals.is_empty() && !route.active_time_intervals.iter().any(holds) {
        return true;
    }
    route.mute_time_intervals.iter().any(holds)
}

/// Evaluates one case.
pub fn evaluate(config: &Config, labels: &LabelSet, firing: &[LabelSet], at_ms: i64) -> Outcome {
    let routes = match_routes(config, labels);
    let sources: Vec<Alert> = firing.iter().map(firing_alert).collect();
    let inhibition = inhibited_by(&config.inhibit_rules, &sources, labels, at_ms);
    Outcome {
        receivers: routes.iter().map(|r| r.receiver.clone()).collect(),
        inhibited_by: inhibition.map(|i| i.source),
        muted: !routes.is_empty() && routes.iter().all(|r| route_muted(config, r, at_ms)),
    }
}

/// A route nobody reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreachedRoute {
    pub key: String,
    pub line: u32,
    pub receiver: String,
}

/// What neither the cases nor the loaded alerting rules reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub routes: Vec<UnreachedRoute>,
    pub receivers: Vec<String>,
}

impl Coverage {
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.receivers.is_empty()
    }
}

/// Routes (delivering ones: a route is "reached" when an alert ends there, or passes through it to a child)
/// and receivers that no case's labels reach and no rule could reach with its static labels and alertname
/// (a templated label counts as possibly matching, like the routing lints).
pub fn coverage(config: &Config, cases: &[LabelSet], rules: &[AlertLabels]) -> Coverage {
    let mut reached_paths: BTreeSet<Vec<usize>> = BTreeSet::new();
    let mut reached_receivers: BTreeSet<String> = BTreeSet::new();
    let mut mark = |r: &Route| {
        // Every ancestor on the way is reached too.
        for n in 0..=r.path.len() {
            reached_paths.insert(r.path[..n].to_vec());
        }
        reached_receivers.insert(r.receiver.clone());
    };
    for labels in cases {
        for r in match_routes(config, labels) {
            mark(r);
        }
    }
    for rule in rules {
        for (r, tri) in deliveries(&config.route, rule) {
            if tri != Tri::No {
                mark(r);
            }
        }
    }
    let routes = config
        .routes()
        .into_iter()
        .filter(|r| !reached_paths.contains(&r.path))
        .map(|r| UnreachedRoute {
            key: r.key.clone(),
            line: r.pos.line,
            receiver: r.receiver.clone(),
        })
        .collect();
    let receivers = config
        .receivers
        .iter()
        .map(|r| r.name.clone())
        .filter(|n| !reached_receivers.contains(n))
        .collect();
    Coverage { routes, receivers }
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
  routes:
    - matchers: [severity=critical]
      receiver: pager
      continue: true
    - matchers: [team=db]
      receiver: db
      mute_time_intervals: [weekends]
    - matchers: [team=web]
      receiver: web
      active_time_intervals: [office]
    - matchers: [team=never]
      receiver: ghost
receivers: [{name: default}, {name: pager}, {name: db}, {name: web}, {name: ghost}, {name: unused}]
inhibit_rules:
  - source_matchers: [severity=critical]
    target_matchers: [severity=warning]
    equal: [alertname]
time_intervals:
  - name: weekends
    time_intervals: [{weekdays: [saturday, sunday]}]
  - name: office
    time_intervals: [{times: [{start_time: '09:00', end_time: '17:00'}]}]
"#;

    fn config() -> Config {
        let s = parse_stream(CFG).unwrap();
        let (c, d) = from_node(&s.documents[0].root, &Arc::from("am.yml"));
        assert!(d.is_empty(), "{d:?}");
        c.unwrap()
    }

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // 2024-01-06 is a Saturday; 2024-01-08 a Monday.
    const SATURDAY_NOON: i64 = 1_704_542_400_000;
    const MONDAY_NOON: i64 = 1_704_715_200_000;
    const MONDAY_NIGHT: i64 = 1_704_751_200_000;

    #[test]
    fn receivers_in_tree_order() {
        let c = config();
        let o = evaluate(&c, &ls(&[("severity", "critical"), ("team", "db")]), &[], 0);
        assert_eq!(o.receivers, vec!["pager", "db"]);
        assert_eq!(evaluate(&c, &ls(&[]), &[], 0).receivers, vec!["default"]);
    }

    #[test]
    fn inhibition_by_firing_alerts() {
        let c = config();
        let warn = ls(&[("severity", "warning"), ("alertname", "A")]);
        let crit = ls(&[("severity", "critical"), ("alertname", "A")]);
        let other = ls(&[("severity", "critical"), ("alertname", "B")]);
        assert_eq!(
            evaluate(&c, &warn, std::slice::from_ref(&crit), 0).inhibited_by,
            Some(crit)
        );
        assert_eq!(evaluate(&c, &warn, &[other], 0).inhibited_by, None);
    }

    #[test]
    fn muting_by_time_intervals() {
        let c = config();
        let db = ls(&[("team", "db")]);
        assert!(evaluate(&c, &db, &[], SATURDAY_NOON).muted);
        assert!(!evaluate(&c, &db, &[], MONDAY_NOON).muted);
        let web = ls(&[("team", "web")]);
        assert!(!evaluate(&c, &web, &[], MONDAY_NOON).muted);
        assert!(evaluate(&c, &web, &[], MONDAY_NIGHT).muted);
        // Muted only when every matched route is: pager is never muted.
        let both = ls(&[("team", "db"), ("severity", "critical")]);
        assert!(!evaluate(&c, &both, &[], SATURDAY_NOON).muted);
    }

    #[test]
    fn coverage_lists_what_nothing_reaches() {
        let c = config();
        let cov = coverage(&c, &[ls(&[("team", "db")]), ls(&[("team", "web")])], &[]);
        let keys: Vec<&str> = cov.routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            vec!["{}/{severity=\"critical\"}", "{}/{team=\"never\"}"]
        );
        assert_eq!(cov.receivers, vec!["default", "pager", "ghost", "unused"]);
        assert_eq!(cov.routes[1].line, 14);
    }
}
