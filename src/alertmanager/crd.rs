//! Prometheus Operator `AlertmanagerConfig` objects (monitoring.coreos.com/v1alpha1) merged into a base
//! Alertmanager config the way the operator generates its config (`pkg/alertmanager/amcfg.go`): objects in
//! namespace/name order; each object's route becomes a child of the root, all of them before the base's own
//! children, with a `namespace="<ns>"` matcher appended and `continue: true` forced so later routes still see
//! the alert; receivers (and route references to them) renamed `<ns>/<name>/<receiver>`; inhibit rules get the
//! namespace matcher on both sides.
//!
//! Routing only: receivers are carried by name, their integrations (camelCase `slackConfigs`, ...) are not
//! converted, and `muteTimeIntervals`/`activeTimeIntervals`/`timeIntervals` are not supported (warned).
//!
//! Input: the base [`Config`] and [`Item`]s of kind `AlertmanagerConfigCrd`. Output: the merged [`Config`].

use super::config::{from_node, Config, GroupBy, Route};
use super::matcher::go_quote;
use crate::diag::Diagnostic;
use crate::load::documents::Item;
use crate::load::rules::closest;
use crate::text::duration::{format_duration, parse_duration};
use crate::text::yaml::{parse_stream, Node, Pos};
use serde_json::{json, Map, Value};
use std::sync::Arc;

const ROUTE_FIELDS: &[&str] = &[
    "receiver",
    "groupBy",
    "groupWait",
    "groupInterval",
    "repeatInterval",
    "matchers",
    "continue",
    "routes",
    "muteTimeIntervals",
    "activeTimeIntervals",
];
const MATCHER_FIELDS: &[&str] = &["name", "value", "matchType", "regex"];
const INHIBIT_FIELDS: &[&str] = &["sourceMatch", "targetMatch", "equal"];
/// Fields routing ignores but that may be present.
const UNSUPPORTED: &[&str] = &["muteTimeIntervals", "activeTimeIntervals"];

/// One object being converted.
struct Cx<'a> {
    file: &'a Arc<str>,
    /// `<ns>/<name>/`, the prefix of renamed receivers.
    prefix: String,
    namespace: String,
    diags: Vec<Diagnostic>,
    /// Positions of the converted routes, depth first (as [`Config::routes`] walks them).
    route_pos: Vec<Pos>,
    /// Receivers the routes name, as written, with their positions: checked against the object's own
    /// receivers once they are read, so an unknown one is reported at its line (not at the merged config).
    receiver_refs: Vec<(String, Pos)>,
}

impl Cx<'_> {
    fn error(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::error("alertmanager/crd", msg).at(self.file, pos));
    }

    fn check_fields(&mut self, node: &Node, allowed: &[&str], what: &str) -> bool {
        let Some(map) = node.as_map() else {
            self.error(node.pos, format!("{what} must be a mapping"));
            return false;
        };
        for (k, _) in map {
            let name = k.as_str().unwrap_or("");
            if !allowed.contains(&name) {
                let mut d = Diagnostic::error(
                    "alertmanager/crd",
                    format!("field {name} not found in {what}"),
                )
                .at(self.file, k.pos);
                if let Some(c) = closest(name, allowed) {
                    d = d.help(format!("did you mean `{c}`?"));
                }
                self.diags.push(d);
            } else if UNSUPPORTED.contains(&name) {
                self.diags.push(
                    Diagnostic::warning(
                        "alertmanager/crd-unsupported",
                        format!("`{name}` of an AlertmanagerConfig is ignored when routing"),
                    )
                    .at(self.file, k.pos),
                );
            }
        }
        true
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(node.pos, format!("`{what}` must be a string"));
                None
            }
        }
    }

    /// A matcher as the operator writes it: `name<op>"value"` with a matchType, else a legacy
    /// `match`/`match_re` entry (returned as `Err((name, value, regex))`).
    fn matcher(&mut self, node: &Node) -> Option<Result<String, (String, String, bool)>> {
        if !self.check_fields(node, MATCHER_FIELDS, "matcher") {
            return None;
        }
        let Some(name) = node.get("name").and_then(|n| self.text(n, "name")) else {
            self.error(node.pos, "a matcher needs a `name`");
            return None;
        };
        let value = node
            .get("value")
            .and_then(|n| self.text(n, "value"))
            .unwrap_or_default();
        let op = node
            .get("matchType")
            .and_then(|n| self.text(n, "matchType"))
            .unwrap_or_default();
        match op.as_str() {
            "" => {
                let regex = node.get("regex").and_then(Node::as_bool).unwrap_or(false);
                Some(Err((name, value, regex)))
            }
            "=" | "!=" | "=~" | "!~" => Some(Ok(format!("{name}{op}{}", go_quote(&value)))),
            other => {
                let pos = node.get("matchType").map_or(node.pos, |n| n.pos);
                self.error(
                    pos,
                    format!("matchType {other:?}: expected one of =, !=, =~, !~"),
                );
                None
            }
        }
    }

    fn receiver_name(&self, r: &str) -> String {
        if r.is_empty() {
            String::new()
        } else {
            format!("{}{r}", self.prefix)
        }
    }

    /// The route in alertmanager.yml form.
    fn route(&mut self, node: &Node, top: bool) -> Option<Value> {
        if !self.check_fields(node, ROUTE_FIELDS, "AlertmanagerConfig route") {
            return None;
        }
        self.route_pos.push(node.pos);
        let mut out = Map::new();
        if let Some(n) = node.get("receiver") {
            if let Some(r) = self.text(n, "receiver") {
                if !r.is_empty() {
                    self.receiver_refs.push((r.clone(), n.pos));
                    out.insert("receiver".into(), json!(self.receiver_name(&r)));
                }
            }
        }
        if let Some(g) = node.get("groupBy") {
            let labels: Vec<String> = g
                .as_seq()
                .unwrap_or(&[])
                .iter()
                .filter_map(|n| self.text(n, "groupBy"))
                .collect();
            out.insert("group_by".into(), json!(labels));
        }
        for (from, to) in [
            ("groupWait", "group_wait"),
            ("groupInterval", "group_interval"),
            ("repeatInterval", "repeat_interval"),
        ] {
            let Some(n) = node.get(from) else { continue };
            let Some(v) = self.text(n, from) else {
                continue;
            };
            // Checked here so the error points at the object's line; the merged config has no positions.
            if let Err(e) = parse_duration(&v) {
                self.diags.push(
                    Diagnostic::error("alertmanager/bad-duration", format!("`{from}`: {e}"))
                        .at(self.file, n.pos)
                        .help("write a duration such as 30s, 5m or 4h"),
                );
                continue;
            }
            out.insert(to.into(), json!(v));
        }
        let mut matchers = Vec::new();
        let mut matches = Map::new();
        let mut matches_re = Map::new();
        for m in node.get("matchers").and_then(Node::as_seq).unwrap_or(&[]) {
            match self.matcher(m) {
                Some(Ok(s)) => matchers.push(json!(s)),
                Some(Err((n, v, true))) => {
                    matches_re.insert(n, json!(v));
                }
                Some(Err((n, v, false))) => {
                    matches.insert(n, json!(v));
                }
                None => {}
            }
        }
        let mut cont = node
            .get("continue")
            .and_then(Node::as_bool)
            .unwrap_or(false);
        if top {
            // Only alerts of the object's own namespace; later routes still see the alert.
            matchers.push(json!(format!("namespace={}", go_quote(&self.namespace))));
            cont = true;
        }
        if !matchers.is_empty() {
            out.insert("matchers".into(), Value::Array(matchers));
        }
        if !matches.is_empty() {
            out.insert("match".into(), Value::Object(matches));
        }
        if !matches_re.is_empty() {
            out.insert("match_re".into(), Value::Object(matches_re));
        }
        if cont {
            out.insert("continue".into(), json!(true));
        }
        let children: Vec<Value> = node
            .get("routes")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| self.route(c, false))
            .collect();
        if !children.is_empty() {
            out.insert("routes".into(), Value::Array(children));
        }
        Some(Value::Object(out))
    }

    fn side(&mut self, node: Option<&Node>) -> Vec<Value> {
        let mut out = Vec::new();
        for m in node.and_then(Node::as_seq).unwrap_or(&[]) {
            match self.matcher(m) {
                Some(Ok(s)) => out.push(json!(s)),
                Some(Err((n, v, regex))) => {
                    let op = if regex { "=~" } else { "=" };
                    out.push(json!(format!("{n}{op}{}", go_quote(&v))));
                }
                None => {}
            }
        }
        out.push(json!(format!("namespace={}", go_quote(&self.namespace))));
        out
    }
}

fn str_at<'a>(node: &'a Node, path: &[&str]) -> Option<&'a str> {
    let mut n = node;
    for p in path {
        n = n.get(p)?;
    }
    n.as_str()
}

/// What one object contributes.
struct Converted {
    file: Arc<str>,
    pos: Pos,
    route: Option<Value>,
    route_pos: Vec<Pos>,
    receivers: Vec<String>,
    inhibit_rules: Vec<Value>,
}

fn convert(item: &Item, diags: &mut Vec<Diagnostic>) -> Option<(String, Converted)> {
    let root = &item.root;
    let name = str_at(root, &["metadata", "name"]).unwrap_or("");
    let Some(namespace) = str_at(root, &["metadata", "namespace"]) else {
        diags.push(
            Diagnostic::error(
                "alertmanager/crd",
                format!("AlertmanagerConfig {name} has no `metadata.namespace`"),
            )
            .at(&item.file, item.pos)
            .help(
                "the operator scopes an AlertmanagerConfig's routes to its namespace; give it one",
            ),
        );
        return None;
    };
    let mut cx = Cx {
        file: &item.file,
        prefix: format!("{namespace}/{name}/"),
        namespace: namespace.to_string(),
        diags: Vec::new(),
        route_pos: Vec::new(),
        receiver_refs: Vec::new(),
    };
    let spec = root.get("spec");
    let route = spec
        .and_then(|s| s.get("route"))
        .and_then(|r| cx.route(r, true));
    let mut receivers = Vec::new();
    let mut declared = Vec::new();
    for r in spec
        .and_then(|s| s.get("receivers"))
        .and_then(Node::as_seq)
        .unwrap_or(&[])
    {
        match r.get("name").and_then(|n| cx.text(n, "name")) {
            Some(n) => {
                receivers.push(cx.receiver_name(&n));
                declared.push(n);
            }
            None => cx.error(r.pos, "a receiver needs a `name`"),
        }
    }
    // The operator rejects an object whose routes name a receiver it does not declare.
    for (r, pos) in std::mem::take(&mut cx.receiver_refs) {
        if !declared.contains(&r) {
            cx.diags.push(
                Diagnostic::error(
                    "alertmanager/undefined-receiver",
                    format!("AlertmanagerConfig {namespace}/{name}: undefined receiver {r:?} used in route"),
                )
                .at(&item.file, pos)
                .help(format!(
                    "an AlertmanagerConfig's routes may only use its own receivers: {}",
                    declared.join(", ")
                )),
            );
        }
    }
    let mut inhibit_rules = Vec::new();
    for r in spec
        .and_then(|s| s.get("inhibitRules"))
        .and_then(Node::as_seq)
        .unwrap_or(&[])
    {
        if !cx.check_fields(r, INHIBIT_FIELDS, "inhibit rule") {
            continue;
        }
        let source = cx.side(r.get("sourceMatch"));
        let target = cx.side(r.get("targetMatch"));
        let equal: Vec<String> = r
            .get("equal")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|n| cx.text(n, "equal"))
            .collect();
        inhibit_rules.push(json!({
            "source_matchers": source, "target_matchers": target, "equal": equal,
        }));
    }
    let route_pos = std::mem::take(&mut cx.route_pos);
    diags.append(&mut cx.diags);
    Some((
        format!("{namespace}/{name}"),
        Converted {
            file: item.file.clone(),
            pos: item.pos,
            route,
            route_pos,
            receivers,
            inhibit_rules,
        },
    ))
}

/// Renumbers `path` below `route` after children were inserted.
fn renumber(route: &mut Route, path: &[usize]) {
    route.path = path.to_vec();
    for (i, c) in route.routes.iter_mut().enumerate() {
        let mut p = path.to_vec();
        p.push(i);
        renumber(c, &p);
    }
}

fn set_positions(route: &mut Route, positions: &mut std::slice::Iter<'_, Pos>) {
    if let Some(p) = positions.next() {
        route.pos = *p;
        route.receiver_pos = *p;
    }
    for c in &mut route.routes {
        set_positions(c, positions);
    }
}

/// The base config with every AlertmanagerConfig object merged in as the operator does. Routes taken from an
/// object keep their positions in the object's file (the merged config's `file` stays the base's). `None`
/// when an object is invalid or the merged config does not validate.
pub fn merge(base: &Config, items: &[&Item]) -> (Option<Config>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut objects: Vec<(String, Converted)> = items
        .iter()
        .filter_map(|i| convert(i, &mut diags))
        .collect();
    if diags
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error)
    {
        return (None, diags);
    }
    objects.sort_by(|a, b| a.0.cmp(&b.0));

    // The converted pieces are validated by the ordinary config reader, under a root that carries the base
    // root's settings so inheritance comes out as it would in the operator's generated config.
    let group_by = match &base.route.group_by {
        GroupBy::All => json!(["..."]),
        GroupBy::Labels(l) => json!(l),
    };
    let mut receivers: Vec<Value> = base
        .receivers
        .iter()
        .map(|r| json!({"name": r.name}))
        .collect();
    let mut routes = Vec::new();
    let mut rules = Vec::new();
    for (_, o) in &objects {
        receivers.extend(o.receivers.iter().map(|n| json!({"name": n})));
        routes.extend(o.route.clone());
        rules.extend(o.inhibit_rules.iter().cloned());
    }
    let mini = json!({
        "route": {
            "receiver": base.route.receiver,
            "group_by": group_by,
            "group_wait": format_duration(base.route.group_wait_ms),
            "group_interval": format_duration(base.route.group_interval_ms),
            "repeat_interval": format_duration(base.route.repeat_interval_ms),
            "routes": routes,
        },
        "receivers": receivers,
        "inhibit_rules": rules,
    });
    let text = mini.to_string();
    let parsed = match parse_stream(&text) {
        Ok(s) => s,
        Err(e) => {
            diags.push(Diagnostic::error(
                "alertmanager/crd",
                format!(
                    "internal: merged AlertmanagerConfig objects do not parse: {}",
                    e.message
                ),
            ));
            return (None, diags);
        }
    };
    let Some(doc) = parsed.documents.first() else {
        return (None, diags);
    };
    let label: Arc<str> = Arc::from("AlertmanagerConfig objects");
    let (merged, errors) = from_node(&doc.root, &label);
    if !errors.is_empty() {
        // Positions in the generated text mean nothing to the user: point at the first object instead.
        let (file, pos) = objects
            .first()
            .map_or((label.clone(), Pos::new(1, 1)), |(_, o)| {
                (o.file.clone(), o.pos)
            });
        for e in errors {
            let mut d = Diagnostic::error(
                e.code,
                format!("merging AlertmanagerConfig objects: {}", e.message),
            )
            .at(&file, pos);
            d.severity = e.severity;
            diags.push(d);
        }
    }
    let Some(mut merged) = merged else {
        return (None, diags);
    };
    let mut config = base.clone();
    let mut new_routes = std::mem::take(&mut merged.route.routes);
    let mut i = 0;
    for (_, o) in &objects {
        if o.route.is_some() {
            if let Some(r) = new_routes.get_mut(i) {
                set_positions(r, &mut o.route_pos.iter());
            }
            i += 1;
        }
    }
    new_routes.append(&mut config.route.routes);
    config.route.routes = new_routes;
    renumber(&mut config.route, &[]);
    let base_names: Vec<String> = base.receivers.iter().map(|r| r.name.clone()).collect();
    config.receivers.extend(
        merged
            .receivers
            .into_iter()
            .filter(|r| !base_names.contains(&r.name)),
    );
    let mut rule_pos = objects
        .iter()
        .flat_map(|(_, o)| std::iter::repeat_n(o.pos, o.inhibit_rules.len()));
    for mut r in merged.inhibit_rules {
        r.pos = rule_pos.next().unwrap_or_default();
        config.inhibit_rules.push(r);
    }
    (Some(config), diags)
}

/// An AlertmanagerConfig object on its own: converted and merged as the operator would merge it into an
/// Alertmanager config (here a minimal one with a single receiver), so its own mistakes (unknown fields, bad
/// matchers and durations, undefined receivers) are reported at its lines. Relating it to the real base
/// config and to the rules is `routes --alertmanagerconfig`'s job.
pub fn check_alone(item: &Item) -> Vec<Diagnostic> {
    let base_file: Arc<str> = Arc::from("<base config>");
    let Ok(stream) =
        crate::text::yaml::parse_stream("route: {receiver: base}\nreceivers: [{name: base}]\n")
    else {
        return Vec::new();
    };
    let Some(doc) = stream.documents.first() else {
        return Vec::new();
    };
    let (Some(base), _) = from_node(&doc.root, &base_file) else {
        return Vec::new();
    };
    let (_, diags) = merge(&base, &[item]);
    // What points into the stand-in base config says nothing about the user's file.
    diags
        .into_iter()
        .filter(|d| d.location.as_ref().is_none_or(|l| *l.file != *base_file))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager::route::receivers_slug;
    use crate::alertmanager::LabelSet;
    use crate::load::documents::{load_file, Kind, Loaded};

    fn fixture() -> (Config, Loaded) {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/alertmanager/crd");
        assert!(dir.is_dir(), "fixtures/alertmanager/crd is missing");
        let mut loaded = Loaded::default();
        load_file(&dir.join("base.yml"), &mut loaded).unwrap();
        load_file(&dir.join("team-configs.yaml"), &mut loaded).unwrap();
        let base = loaded
            .items_of(Kind::Alertmanager)
            .next()
            .expect("base config");
        let (c, d) = from_node(&base.root, &base.file);
        assert!(d.is_empty(), "{d:?}");
        (c.unwrap(), loaded)
    }

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn objects_become_first_children_scoped_to_their_namespace() {
        let (base, loaded) = fixture();
        let items: Vec<&Item> = loaded.items_of(Kind::AlertmanagerConfigCrd).collect();
        assert_eq!(items.len(), 2);
        let (c, d) = merge(&base, &items);
        assert!(d.is_empty(), "{d:?}");
        let c = c.unwrap();
        // Sorted by namespace/name: payments before shop, both before the base's own routes.
        let keys: Vec<&str> = c.route.routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "{}/{namespace=\"payments\"}",
                "{}/{namespace=\"shop\",team=\"frontend\"}",
                "{}/{severity=\"critical\"}",
            ]
        );
        assert!(c.route.routes[0].continue_matching && c.route.routes[1].continue_matching);
        assert_eq!(c.route.routes[2].path, vec![2]);
        // continue: true on the objects' routes, so the base still sees the alert.
        let crit_pay = ls(&[("namespace", "payments"), ("severity", "critical")]);
        assert_eq!(
            receivers_slug(&c, &crit_pay),
            "payments/pay-alerts/pager,oncall"
        );
        let warn_pay = ls(&[("namespace", "payments"), ("severity", "warning")]);
        assert_eq!(receivers_slug(&c, &warn_pay), "payments/pay-alerts/slack");
        // Another namespace's alert does not reach the object's routes.
        let other = ls(&[("namespace", "other"), ("team", "frontend")]);
        assert_eq!(receivers_slug(&c, &other), "default");
        let shop = ls(&[("namespace", "shop"), ("team", "frontend")]);
        assert_eq!(receivers_slug(&c, &shop), "shop/web/web-team");
        // A child without a receiver inherits the object's route receiver, and its group_by; positions point
        // into the object's file.
        let r = &c.route.routes[0];
        assert_eq!(r.routes[0].receiver, "payments/pay-alerts/pager");
        assert_eq!(r.routes[1].receiver, "payments/pay-alerts/slack");
        assert_eq!(
            r.routes[1].group_by,
            GroupBy::Labels(vec!["alertname".into(), "service".into()])
        );
        assert_eq!(r.group_wait_ms, 10_000);
        assert_eq!(r.pos.line, 24);
        assert_eq!(r.routes[1].pos.line, 34);
        let db = ls(&[("namespace", "payments"), ("team", "ops")]);
        assert_eq!(receivers_slug(&c, &db), "payments/pay-alerts/slack");
        // Inhibit rules get the namespace on both sides.
        assert_eq!(c.inhibit_rules.len(), base.inhibit_rules.len() + 1);
        let rule = c.inhibit_rules.last().unwrap();
        assert!(rule
            .source_matchers
            .iter()
            .any(|m| m.name == "namespace" && m.value == "payments"));
        assert!(rule
            .target_matchers
            .iter()
            .any(|m| m.name == "namespace" && m.value == "payments"));
    }

    #[test]
    fn unknown_route_fields_are_errors_with_position() {
        let (base, _) = fixture();
        let mut loaded = Loaded::default();
        crate::load::documents::load_bytes(
            Arc::from("bad.yaml"),
            b"apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\nmetadata: {name: a, namespace: n}\nspec:\n  route:\n    reciever: x\n  receivers: [{name: x}]\n",
            &mut loaded,
        );
        let items: Vec<&Item> = loaded.items_of(Kind::AlertmanagerConfigCrd).collect();
        let (c, d) = merge(&base, &items);
        assert!(c.is_none());
        assert_eq!(
            d[0].message,
            "field reciever not found in AlertmanagerConfig route"
        );
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(6, 5));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `receiver`?"));
    }

    #[test]
    fn bad_durations_and_unknown_receivers_point_at_their_lines() {
        let (base, _) = fixture();
        let mut loaded = Loaded::default();
        crate::load::documents::load_bytes(
            Arc::from("bad.yaml"),
            b"apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\nmetadata: {name: a, namespace: n}\nspec:\n  route:\n    receiver: x\n    groupWait: 10 seconds\n    routes:\n    - receiver: y\n  receivers: [{name: x}]\n",
            &mut loaded,
        );
        let items: Vec<&Item> = loaded.items_of(Kind::AlertmanagerConfigCrd).collect();
        let (c, d) = merge(&base, &items);
        assert!(c.is_none());
        let found: Vec<(&str, Pos)> = d
            .iter()
            .map(|d| (d.code, d.location.as_ref().unwrap().pos))
            .collect();
        assert_eq!(
            found,
            [
                ("alertmanager/bad-duration", Pos::new(7, 16)),
                ("alertmanager/undefined-receiver", Pos::new(9, 17)),
            ]
        );
        assert!(d[1].message.contains("\"y\""), "{}", d[1].message);
    }
}
