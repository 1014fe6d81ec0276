//! The Alertmanager configuration model, built from the YAML tree and validated as Alertmanager 0.25+ does
//! (`config/config.go`): strict fields, route tree with inheritance resolved, receivers, inhibit rules, time
//! intervals and templates. Errors are diagnostics with Alertmanager's wording at the user's line and column.
//!
//! Input: a [`Node`] (the caller found it in a plain file or a ConfigMap). Output: [`Config`], used by
//! `route`, `inhibit` and `dispatch`.

use super::fields::{Reader, Secret};
use super::intervals::{read_time_interval, TimeInterval};
use super::matcher::{
    display_matchers, is_legacy_label_name, parse_matchers, sort_matchers, MatchType, Matcher,
};
use super::receivers::{self, read_fields, read_receiver, Receiver, Value};
use crate::diag::Diagnostic;
use crate::text::yaml::{Node, Pos};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use super::receivers::Integration;

/// Alertmanager's defaults for the root route.
pub const DEFAULT_GROUP_WAIT_MS: i64 = 30_000;
pub const DEFAULT_GROUP_INTERVAL_MS: i64 = 5 * 60_000;
pub const DEFAULT_REPEAT_INTERVAL_MS: i64 = 4 * 3_600_000;
pub const DEFAULT_RESOLVE_TIMEOUT_MS: i64 = 5 * 60_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// `group_by: ['...']`: every label of the alert.
    All,
    /// The listed labels (empty: one group per route).
    Labels(Vec<String>),
}

/// A route with its options resolved (inherited from its parent where it does not set them).
#[derive(Clone, Debug)]
pub struct Route {
    pub receiver: String,
    pub group_by: GroupBy,
    pub group_wait_ms: i64,
    pub group_interval_ms: i64,
    pub repeat_interval_ms: i64,
    /// Sorted as Alertmanager sorts them (name, value, operator).
    pub matchers: Vec<Matcher>,
    pub continue_matching: bool,
    /// Not inherited by children.
    pub mute_time_intervals: Vec<String>,
    /// Not inherited by children.
    pub active_time_intervals: Vec<String>,
    pub routes: Vec<Route>,
    /// Alertmanager's route key: parent key + `/` + matchers, root `{}`.
    pub key: String,
    /// Child indices from the root (empty for the root).
    pub path: Vec<usize>,
    pub pos: Pos,
    /// Whether the route sets these itself (lints care about explicit settings).
    pub explicit_receiver: bool,
    pub explicit_group_by: bool,
    /// Where the receiver is named (this route's `receiver:` value, else the route).
    pub receiver_pos: Pos,
}

/// One inhibit rule.
#[derive(Clone, Debug)]
pub struct InhibitRule {
    pub source_matchers: Vec<Matcher>,
    pub target_matchers: Vec<Matcher>,
    pub equal: Vec<String>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Global settings as written (secrets stay [`Secret`]).
    pub global: BTreeMap<String, Value>,
    pub resolve_timeout_ms: i64,
    pub route: Route,
    pub receivers: Vec<Receiver>,
    pub inhibit_rules: Vec<InhibitRule>,
    /// Both `time_intervals` and the older `mute_time_intervals`.
    pub time_intervals: Vec<TimeInterval>,
    /// Template file globs, as written.
    pub templates: Vec<String>,
    pub file: Arc<str>,
}

impl Config {
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// An integration by receiver name and Alertmanager's integration name (`email[0]`), as a
    /// `dispatch::Notification` names it.
    pub fn integration(&self, receiver: &str, integration: &str) -> Option<&Integration> {
        self.receiver(receiver)?
            .integrations
            .iter()
            .find(|i| i.name() == integration)
    }

    pub fn time_interval(&self, name: &str) -> Option<&TimeInterval> {
        self.time_intervals.iter().find(|t| t.name == name)
    }

    /// Every route, depth first in tree order.
    pub fn routes(&self) -> Vec<&Route> {
        fn walk<'a>(r: &'a Route, out: &mut Vec<&'a Route>) {
            out.push(r);
            for c in &r.routes {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.route, &mut out);
        out
    }
}

const TOP: &[&str] = &[
    "global",
    "route",
    "inhibit_rules",
    "receivers",
    "templates",
    "mute_time_intervals",
    "time_intervals",
    "tracing",
];

const ROUTE: &[&str] = &[
    "receiver",
    "group_by",
    "match",
    "match_re",
    "matchers",
    "mute_time_intervals",
    "active_time_intervals",
    "continue",
    "routes",
    "group_wait",
    "group_interval",
    "repeat_interval",
];

const INHIBIT: &[&str] = &[
    "source_match",
    "source_match_re",
    "source_matchers",
    "target_match",
    "target_match_re",
    "target_matchers",
    "equal",
    // 0.30+: names the rule in logs and metrics (`alertmanager/newer-field` warns).
    "name",
];

use receivers::Kind::{Bool as B, Duration as D, Http as H, Secret as S, Str as T, Tls as L};

const GLOBAL: &[(&str, receivers::Kind)] = &[
    ("resolve_timeout", D),
    ("http_config", H),
    ("smtp_from", T),
    ("smtp_hello", T),
    ("smtp_smarthost", T),
    ("smtp_auth_username", T),
    ("smtp_auth_password", S),
    ("smtp_auth_password_file", T),
    ("smtp_auth_secret", S),
    ("smtp_auth_secret_file", T),
    ("smtp_auth_identity", T),
    ("smtp_require_tls", B),
    ("smtp_tls_config", L),
    ("smtp_force_implicit_tls", B),
    ("slack_api_url", S),
    ("slack_api_url_file", T),
    ("slack_app_token", S),
    ("slack_app_token_file", T),
    ("slack_app_url", T),
    ("pagerduty_url", T),
    ("opsgenie_api_url", T),
    ("opsgenie_api_key", S),
    ("opsgenie_api_key_file", T),
    ("wechat_api_url", T),
    ("wechat_api_secret", S),
    ("wechat_api_secret_file", T),
    ("wechat_api_corp_id", T),
    ("victorops_api_url", T),
    ("victorops_api_key", S),
    ("victorops_api_key_file", T),
    ("telegram_api_url", T),
    ("telegram_bot_token", S),
    ("telegram_bot_token_file", T),
    ("webex_api_url", T),
    ("rocketchat_api_url", T),
    ("rocketchat_token", S),
    ("rocketchat_token_file", T),
    ("rocketchat_token_id", S),
    ("rocketchat_token_id_file", T),
    ("jira_api_url", T),
    ("mattermost_webhook_url", S),
    ("mattermost_webhook_url_file", T),
];

/// Builds and validates the config. Returns `None` when any error was found (the diagnostics say why).
pub fn from_node(root: &Node, file: &Arc<str>) -> (Option<Config>, Vec<Diagnostic>) {
    crate::load::reads::note(crate::load::reads::Read::AlertmanagerConfig);
    let mut r = Reader::new(file);
    let config = build(&mut r, root);
    let config = if r.has_errors() { None } else { config };
    (config, r.diags)
}

fn build(r: &mut Reader, root: &Node) -> Option<Config> {
    let entries = r.map(root, TOP, "the Alertmanager configuration")?;
    let get = |k: &str| entries.iter().find(|(n, _)| n.as_str() == Some(k));

    let mut global = BTreeMap::new();
    if let Some((_, g)) = get("global") {
        read_fields(r, g, GLOBAL, "global", "", &mut global);
    }
    let resolve_timeout_ms = match global.get("resolve_timeout") {
        Some(Value::Duration(d)) => *d,
        _ => DEFAULT_RESOLVE_TIMEOUT_MS,
    };

    let mut templates = Vec::new();
    if let Some((_, t)) = get("templates") {
        templates = r
            .string_list(t, "templates")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
    }

    let mut receivers = Vec::new();
    if let Some((_, rs)) = get("receivers") {
        for item in r.seq(rs, "receivers") {
            if let Some(rc) = read_receiver(r, item) {
                receivers.push(rc);
            }
        }
    }
    check_exclusive_and_urls(r, &global, root.get("global").map_or(root.pos, |g| g.pos));
    let mut seen = BTreeSet::new();
    for rc in &receivers {
        if !seen.insert(rc.name.clone()) {
            r.error(
                "alertmanager/duplicate-receiver",
                format!("notification config name {:?} is not unique", rc.name),
                rc.pos,
            );
        }
        check_integrations(r, rc, &global);
    }

    let mut time_intervals = Vec::new();
    for key in ["mute_time_intervals", "time_intervals"] {
        if let Some((_, list)) = get(key) {
            for item in r.seq(list, key) {
                if let Some(ti) = read_time_interval(r, item) {
                    time_intervals.push(ti);
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    for ti in &time_intervals {
        if !seen.insert(ti.name.clone()) {
            r.error(
                "alertmanager/duplicate-time-interval",
                format!("time interval {:?} is not unique", ti.name),
                ti.pos,
            );
        }
    }

    let mut inhibit_rules = Vec::new();
    if let Some((_, list)) = get("inhibit_rules") {
        for item in r.seq(list, "inhibit_rules") {
            if let Some(rule) = read_inhibit_rule(r, item) {
                inhibit_rules.push(rule);
            }
        }
    }

    let Some((route_key, route_node)) = get("route") else {
        r.error("alertmanager/no-route", "no routes provided", root.pos);
        return None;
    };
    if route_node.is_null() {
        r.error("alertmanager/no-route", "no routes provided", route_key.pos);
        return None;
    }
    let route = read_route(r, route_node, None, Vec::new())?;
    check_root(r, &route, route_node);

    let receiver_names: BTreeSet<&str> = receivers.iter().map(|x| x.name.as_str()).collect();
    let interval_names: BTreeSet<&str> = time_intervals.iter().map(|x| x.name.as_str()).collect();
    check_references(r, &route, &receiver_names, &interval_names, true);

    Some(Config {
        global,
        resolve_timeout_ms,
        route,
        receivers,
        inhibit_rules,
        time_intervals,
        templates,
        file: r.file.clone(),
    })
}

fn check_root(r: &mut Reader, route: &Route, node: &Node) {
    let at = |k: &str| node.key(k).map(|n| n.pos).unwrap_or(node.pos);
    if !route.explicit_receiver {
        r.error_help(
            "alertmanager/root-route",
            "root route must specify a default receiver",
            node.pos,
            "add `receiver: <name>` to the top-level route: alerts no child route catches go there",
        );
    }
    if !route.matchers.is_empty() {
        let pos = ["match", "match_re", "matchers"]
            .iter()
            .find_map(|k| node.key(k))
            .map(|n| n.pos)
            .unwrap_or(node.pos);
        r.error_help(
            "alertmanager/root-route",
            "root route must not have any matchers",
            pos,
            "the root route catches every alert; move the matchers to a child route",
        );
    }
    if route.continue_matching {
        r.error(
            "alertmanager/root-route",
            "cannot have continue in root route",
            at("continue"),
        );
    }
    if !route.mute_time_intervals.is_empty() {
        r.error(
            "alertmanager/root-route",
            "root route must not have any mute time intervals",
            at("mute_time_intervals"),
        );
    }
    if !route.active_time_intervals.is_empty() {
        r.error(
            "alertmanager/root-route",
            "root route must not have any active time intervals",
            at("active_time_intervals"),
        );
    }
}

fn check_references(
    r: &mut Reader,
    route: &Route,
    receivers: &BTreeSet<&str>,
    intervals: &BTreeSet<&str>,
    is_root: bool,
) {
    if (route.explicit_receiver || is_root)
        && !route.receiver.is_empty()
        && !receivers.contains(route.receiver.as_str())
    {
        let known: Vec<&str> = receivers.iter().copied().collect();
        r.error_help(
            "alertmanager/undefined-receiver",
            format!("undefined receiver {:?} used in route", route.receiver),
            route.receiver_pos,
            format!("defined receivers: {}", known.join(", ")),
        );
    }
    for name in route
        .mute_time_intervals
        .iter()
        .chain(&route.active_time_intervals)
    {
        if !intervals.contains(name.as_str()) {
            r.error(
                "alertmanager/undefined-time-interval",
                format!("undefined time interval {name:?} used in route"),
                route.pos,
            );
        }
    }
    for c in &route.routes {
        check_references(r, c, receivers, intervals, false);
    }
}

/// Reads `match`, `match_re` and `matchers` into one list (classic maps first, as Alertmanager appends them).
fn read_matchers(
    r: &mut Reader,
    node: &Node,
    eq_key: &str,
    re_key: &str,
    list_key: &str,
) -> Vec<Matcher> {
    let mut out = Vec::new();
    if let Some(v) = node.get(eq_key) {
        for (k, val, pos) in r.string_map(v, eq_key) {
            if !check_label_name(r, &k, pos, "") {
                continue;
            }
            match Matcher::new(MatchType::Equal, &k, &val) {
                Ok(m) => out.push(m),
                Err(e) => r.error("alertmanager/bad-matcher", e.to_string(), pos),
            }
        }
    }
    if let Some(v) = node.get(re_key) {
        for (k, val, pos) in r.string_map(v, re_key) {
            if !check_label_name(r, &k, pos, "") {
                continue;
            }
            match Matcher::from_match_re(&k, &val) {
                Ok(m) => out.push(m),
                Err(e) => r.error("alertmanager/bad-matcher", e.to_string(), pos),
            }
        }
    }
    if let Some(v) = node.get(list_key) {
        for (s, pos) in r.string_list(v, list_key) {
            match parse_matchers(&s) {
                Ok(ms) => out.extend(ms),
                Err(e) => r.error("alertmanager/bad-matcher", e.to_string(), pos),
            }
        }
    }
    out
}

fn read_route(
    r: &mut Reader,
    node: &Node,
    parent: Option<&Route>,
    path: Vec<usize>,
) -> Option<Route> {
    let entries = r.map(node, ROUTE, "route")?;
    let has = |k: &str| entries.iter().any(|(n, _)| n.as_str() == Some(k));
    let mut matchers = read_matchers(r, node, "match", "match_re", "matchers");
    sort_matchers(&mut matchers);

    // An empty `receiver:` is unset in Go: the parent's receiver applies.
    let own_receiver = node
        .get("receiver")
        .and_then(|v| r.string(v, "receiver"))
        .filter(|s| !s.is_empty());
    let explicit_receiver = own_receiver.is_some();
    let receiver =
        own_receiver.unwrap_or_else(|| parent.map(|p| p.receiver.clone()).unwrap_or_default());

    let explicit_group_by = has("group_by");
    let group_by = match node.get("group_by") {
        Some(v) => read_group_by(r, v),
        None => parent
            .map(|p| p.group_by.clone())
            .unwrap_or(GroupBy::Labels(Vec::new())),
    };

    let mut duration = |key: &str, default: i64| -> i64 {
        match node.get(key) {
            Some(v) => {
                let d = r.duration(v, key).unwrap_or(default);
                if d == 0 && key != "group_wait" {
                    r.error(
                        "alertmanager/zero-interval",
                        format!("{key} cannot be zero"),
                        v.pos,
                    );
                }
                d
            }
            None => default,
        }
    };
    let group_wait_ms = duration(
        "group_wait",
        parent.map_or(DEFAULT_GROUP_WAIT_MS, |p| p.group_wait_ms),
    );
    let group_interval_ms = duration(
        "group_interval",
        parent.map_or(DEFAULT_GROUP_INTERVAL_MS, |p| p.group_interval_ms),
    );
    let repeat_interval_ms = duration(
        "repeat_interval",
        parent.map_or(DEFAULT_REPEAT_INTERVAL_MS, |p| p.repeat_interval_ms),
    );

    let continue_matching = match node.get("continue") {
        Some(v) => r.bool(v, "continue").unwrap_or(false),
        None => false,
    };
    let names = |r: &mut Reader, k: &str| -> Vec<String> {
        node.get(k)
            .map(|v| r.string_list(v, k).into_iter().map(|(s, _)| s).collect())
            .unwrap_or_default()
    };
    let mute_time_intervals = names(r, "mute_time_intervals");
    let active_time_intervals = names(r, "active_time_intervals");

    let key = match parent {
        Some(p) => format!("{}/{}", p.key, display_matchers(&matchers)),
        None => display_matchers(&matchers),
    };
    let mut route = Route {
        receiver,
        group_by,
        group_wait_ms,
        group_interval_ms,
        repeat_interval_ms,
        matchers,
        continue_matching,
        mute_time_intervals,
        active_time_intervals,
        routes: Vec::new(),
        key,
        path: path.clone(),
        pos: node.pos,
        explicit_receiver,
        explicit_group_by,
        receiver_pos: node.get("receiver").map_or(node.pos, |n| n.pos),
    };
    if let Some(children) = node.get("routes") {
        let items = r.seq(children, "routes");
        let mut built = Vec::new();
        for (i, c) in items.iter().enumerate() {
            let mut p = path.clone();
            p.push(i);
            if let Some(child) = read_route(r, c, Some(&route), p) {
                built.push(child);
            }
        }
        route.routes = built;
    }
    Some(route)
}

/// Label names in `match`, `match_re`, `group_by` and `equal`. Alertmanager 0.27+ (UTF-8 mode, the default)
/// accepts any non-empty UTF-8 name; 0.25/0.26 only classic names. An empty name is an error; a non-classic
/// name a warning, since older Alertmanagers refuse the whole config for it.
fn check_label_name(r: &mut Reader, name: &str, pos: Pos, context: &str) -> bool {
    if name.is_empty() {
        r.error(
            "alertmanager/bad-label-name",
            format!("invalid label name {name:?}{context}"),
            pos,
        );
        return false;
    }
    if !is_legacy_label_name(name) {
        r.diags.push(
            Diagnostic::warning(
                "alertmanager/utf8-label-name",
                format!("label name {name:?}{context} is not a classic label name"),
            )
            .at(&r.file, pos)
            .help("Alertmanager 0.27+ accepts UTF-8 label names; 0.25 and 0.26 refuse the config with `invalid label name`"),
        );
    }
    true
}

fn read_group_by(r: &mut Reader, v: &Node) -> GroupBy {
    let items = r.string_list(v, "group_by");
    let mut labels: Vec<String> = Vec::new();
    let mut all = false;
    for (s, pos) in &items {
        if s == "..." {
            all = true;
            continue;
        }
        check_label_name(r, s, *pos, " in group_by list");
        if labels.contains(s) {
            r.error(
                "alertmanager/bad-group-by",
                format!("duplicated label {s:?} in group_by"),
                *pos,
            );
            continue;
        }
        labels.push(s.clone());
    }
    if all && (items.len() > 1) {
        r.error_help(
            "alertmanager/bad-group-by",
            "cannot have wildcard group_by (`...`) and other other labels at the same time",
            v.pos,
            "use `group_by: ['...']` alone to group by every label, or list the labels",
        );
    }
    if all {
        GroupBy::All
    } else {
        GroupBy::Labels(labels)
    }
}

fn read_inhibit_rule(r: &mut Reader, node: &Node) -> Option<InhibitRule> {
    r.map(node, INHIBIT, "inhibit rule")?;
    let mut source_matchers = read_matchers(
        r,
        node,
        "source_match",
        "source_match_re",
        "source_matchers",
    );
    let mut target_matchers = read_matchers(
        r,
        node,
        "target_match",
        "target_match_re",
        "target_matchers",
    );
    sort_matchers(&mut source_matchers);
    sort_matchers(&mut target_matchers);
    let mut equal = Vec::new();
    if let Some(v) = node.get("equal") {
        for (s, pos) in r.string_list(v, "equal") {
            check_label_name(r, &s, pos, "");
            equal.push(s);
        }
    }
    Some(InhibitRule {
        source_matchers,
        target_matchers,
        equal,
        pos: node.pos,
    })
}

fn global_set(global: &BTreeMap<String, Value>, key: &str) -> bool {
    match global.get(key) {
        Some(Value::Text(s)) => !s.is_empty(),
        Some(Value::Secret(s)) => !s.is_empty(),
        Some(_) => true,
        None => false,
    }
}

/// Fields holding URLs Alertmanager parses as `config.URL`/`SecretURL` (http or https, with a host).
const URL_FIELDS: &[&str] = &[
    "url",
    "api_url",
    "webhook_url",
    "slack_api_url",
    "pagerduty_url",
    "opsgenie_api_url",
    "wechat_api_url",
    "victorops_api_url",
    "telegram_api_url",
    "webex_api_url",
    "jira_api_url",
    "rocketchat_api_url",
    "mattermost_webhook_url",
];

/// The scheme of a URL as Go's `url.Parse` finds it (empty when there is none).
fn url_scheme(u: &str) -> &str {
    match u.split_once(':') {
        Some((s, _))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            s
        }
        _ => "",
    }
}

fn url_host(u: &str) -> &str {
    let rest = u.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host
}

/// `at most one of x & x_file`, HTTP auth exclusivity and URL schemes, with Alertmanager's messages.
/// Never quotes a value: URLs here are often secrets.
fn check_exclusive_and_urls(r: &mut Reader, values: &BTreeMap<String, Value>, pos: Pos) {
    let set = |k: &str| match values.get(k) {
        Some(Value::Text(s)) => !s.is_empty(),
        Some(Value::Secret(s)) => !s.is_empty(),
        Some(_) => true,
        None => false,
    };
    let mut msgs: Vec<String> = Vec::new();
    for k in values.keys() {
        if let Some(base) = k.strip_suffix("_file") {
            if set(base) && set(k) && !base.contains("http_config.") {
                msgs.push(format!("at most one of {base} & {k} must be configured"));
            }
        }
    }
    let h = |k: &str| format!("http_config.{k}");
    let has_prefix = |p: &str| values.keys().any(|k| k.starts_with(p));
    let basic = has_prefix("http_config.basic_auth.");
    let oauth = has_prefix("http_config.oauth2.");
    let bearer = set(&h("bearer_token")) || set(&h("bearer_token_file"));
    let authz = has_prefix("http_config.authorization.");
    if [basic, oauth, bearer].iter().filter(|b| **b).count() > 1
        || (set(&h("bearer_token")) && set(&h("bearer_token_file")))
    {
        msgs.push("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into());
    } else if authz && (basic || oauth || bearer) {
        msgs.push("at most one of basic_auth, oauth2 & authorization must be configured".into());
    }
    if set(&h("basic_auth.password")) && set(&h("basic_auth.password_file")) {
        msgs.push("at most one of basic_auth password & password_file must be configured".into());
    }
    for f in URL_FIELDS {
        let text = match values.get(*f) {
            Some(Value::Text(s)) => s.as_str(),
            Some(Value::Secret(s)) => s.expose(),
            _ => continue,
        };
        // `<secret>` is how a running Alertmanager shows a secret URL (its /api/v2/status); it accepts the
        // value back as it is.
        if text.is_empty() || text == "<secret>" {
            continue;
        }
        let scheme = url_scheme(text).to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            msgs.push(format!("unsupported scheme {scheme:?} for URL"));
        } else if url_host(text).is_empty() {
            msgs.push("missing host for URL".into());
        }
    }
    for m in msgs {
        r.error("alertmanager/bad-setting", m, pos);
    }
}

/// Required settings of each integration, with Alertmanager's messages, after global defaults.
fn check_integrations(r: &mut Reader, rc: &Receiver, global: &BTreeMap<String, Value>) {
    for i in &rc.integrations {
        check_exclusive_and_urls(r, &i.values, i.pos);
        let set = |f: &str| i.is_set(f);
        let g = |f: &str| global_set(global, f);
        let missing: Option<(&str, Option<&str>)> = match i.kind {
            "email" if !set("to") => Some(("missing to address in email config", None)),
            "email" if !set("smarthost") && !g("smtp_smarthost") => Some((
                "no global SMTP smarthost set",
                Some("set `smtp_smarthost` under `global:` or `smarthost` in this email config"),
            )),
            "email" if !set("from") && !g("smtp_from") => Some((
                "no global SMTP from set",
                Some("set `smtp_from` under `global:` or `from` in this email config"),
            )),
            "slack"
                if !set("api_url")
                    && !set("api_url_file")
                    && !g("slack_api_url")
                    && !g("slack_api_url_file") =>
            {
                Some((
                    "no global Slack API URL set either inline or in a file",
                    Some("set `slack_api_url` under `global:` or `api_url` in this slack config"),
                ))
            }
            "pagerduty"
                if !set("routing_key")
                    && !set("routing_key_file")
                    && !set("service_key")
                    && !set("service_key_file") =>
            {
                Some(("missing service or routing key in PagerDuty config", None))
            }
            "webhook" if !set("url") && !set("url_file") => {
                Some(("missing URL in webhook config", None))
            }
            "opsgenie"
                if !set("api_key")
                    && !set("api_key_file")
                    && !g("opsgenie_api_key")
                    && !g("opsgenie_api_key_file") =>
            {
                Some((
                    "no global OpsGenie API Key set either inline or in a file",
                    None,
                ))
            }
            "wechat" if !set("api_secret") && !g("wechat_api_secret") => {
                Some(("no global Wechat ApiSecret set", None))
            }
            "wechat" if !set("corp_id") && !g("wechat_api_corp_id") => {
                Some(("no global Wechat CorpID set", None))
            }
            "victorops"
                if !set("api_key")
                    && !set("api_key_file")
                    && !g("victorops_api_key")
                    && !g("victorops_api_key_file") =>
            {
                Some(("no global VictorOps API Key set", None))
            }
            "victorops" if !set("routing_key") => {
                Some(("missing Routing key in VictorOps config", None))
            }
            "pushover" if !set("user_key") && !set("user_key_file") => {
                Some(("missing user key in Pushover config", None))
            }
            "pushover" if !set("token") && !set("token_file") => {
                Some(("missing token in Pushover config", None))
            }
            "telegram"
                if !set("bot_token") && !set("bot_token_file") && !g("telegram_bot_token") =>
            {
                Some((
                    "missing bot_token or bot_token_file on telegram_config",
                    None,
                ))
            }
            "telegram" if !set("chat_id") && !set("chat_id_file") => {
                Some(("missing chat_id on telegram_config", None))
            }
            "discord" | "msteams" | "msteamsv2"
                if !set("webhook_url") && !set("webhook_url_file") =>
            {
                Some((
                    "one of webhook_url or webhook_url_file must be configured",
                    None,
                ))
            }
            "mattermost"
                if !set("webhook_url")
                    && !set("webhook_url_file")
                    && !g("mattermost_webhook_url")
                    && !g("mattermost_webhook_url_file") =>
            {
                Some((
                    "one of webhook_url or webhook_url_file must be configured",
                    None,
                ))
            }
            "webex" if !set("room_id") => Some(("missing room_id on webex_config", None)),
            "webex"
                if !set("http_config.authorization.credentials")
                    && !set("http_config.authorization.credentials_file") =>
            {
                Some(("missing webex_configs.http_config.authorization", None))
            }
            "sns" if !set("target_arn") && !set("topic_arn") && !set("phone_number") => Some((
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
                None,
            )),
            "jira" if !set("project") => Some(("missing project in jira_config", None)),
            "jira" if !set("issue_type") => Some(("missing issue_type in jira_config", None)),
            _ => None,
        };
        if let Some((msg, help)) = missing {
            match help {
                Some(h) => r.error_help("alertmanager/missing-field", msg, i.pos, h),
                None => r.error("alertmanager/missing-field", msg, i.pos),
            }
        }
    }
}

/// A global secret, if set (for callers that need e.g. the default Slack URL without printing it).
pub fn global_secret<'a>(c: &'a Config, key: &str) -> Option<&'a Secret> {
    match c.global.get(key)? {
        Value::Secret(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::parse_stream;

    fn load(src: &str) -> (Option<Config>, Vec<Diagnostic>) {
        let s = parse_stream(src).unwrap();
        let file: Arc<str> = Arc::from("am.yml");
        from_node(&s.documents[0].root, &file)
    }

    /// A running Alertmanager reports secret URLs as `<secret>` (/api/v2/status) and reads them back as
    /// they are; so do we, and other URLs are still validated.
    #[test]
    fn unknown_fields_suggest_the_near_one() {
        let (_, d) = load("route:\n  reciever: a\n  receiver: a\nreceivers:\n- name: a\n  slack_configs:\n  - chanel: '#a'\n");
        let help: Vec<_> = d
            .iter()
            .map(|x| x.help.clone().unwrap_or_default())
            .collect();
        assert!(
            help.contains(&"did you mean `receiver`?".to_string()),
            "{d:?}"
        );
        assert!(
            help.contains(&"did you mean `channel`?".to_string()),
            "{d:?}"
        );
    }

    #[test]
    fn masked_secret_urls_load() {
        let (c, d) = load("route: {receiver: s}\nreceivers:\n- name: s\n  slack_configs:\n  - api_url: <secret>\n    channel: '#a'\n  webhook_configs:\n  - url: <secret>\n");
        assert!(c.is_some(), "{d:?}");
        let (c, _) = load(
            "route: {receiver: s}\nreceivers:\n- name: s\n  webhook_configs:\n  - url: ftp://x/\n",
        );
        assert!(c.is_none());
    }

    fn errors(src: &str) -> Vec<(String, u32)> {
        let (c, d) = load(src);
        assert!(c.is_none() || d.is_empty());
        d.into_iter()
            .map(|d| (d.message, d.location.map(|l| l.pos.line).unwrap_or(0)))
            .collect()
    }

    #[test]
    fn inheritance_and_defaults() {
        let (c, d) = load(
            "route:\n  receiver: a\n  group_by: [alertname]\n  group_wait: 10s\n  routes:\n    - match: {team: x}\n      repeat_interval: 1h\n      mute_time_intervals: [night]\n      routes:\n        - matchers: ['env=\"prod\"']\n          receiver: b\n          group_by: []\nreceivers: [{name: a}, {name: b}]\ntime_intervals: [{name: night, time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]}]\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let c = c.unwrap();
        assert!(c.integration("a", "email[0]").is_none());
        let child = &c.route.routes[0];
        assert_eq!(child.receiver, "a");
        assert_eq!(child.group_by, GroupBy::Labels(vec!["alertname".into()]));
        assert_eq!(child.group_wait_ms, 10_000);
        assert_eq!(child.group_interval_ms, DEFAULT_GROUP_INTERVAL_MS);
        assert_eq!(child.repeat_interval_ms, 3_600_000);
        assert_eq!(child.key, "{}/{team=\"x\"}");
        let grandchild = &child.routes[0];
        assert_eq!(grandchild.receiver, "b");
        assert_eq!(grandchild.group_by, GroupBy::Labels(vec![]));
        assert_eq!(grandchild.repeat_interval_ms, 3_600_000);
        // Mute intervals are not inherited.
        assert!(grandchild.mute_time_intervals.is_empty());
        assert_eq!(grandchild.key, "{}/{team=\"x\"}/{env=\"prod\"}");
        assert_eq!(grandchild.pos, Pos::new(10, 11));
    }

    #[test]
    fn alertmanager_validation_wording() {
        // Each message is what `amtool check-config` 0.25 printed for the same file.
        let cases: &[(&str, &str, u32)] = &[
            ("route: {receiver: x}\nreceivers: [{name: y}]\n", "undefined receiver \"x\" used in route", 1),
            ("route: {receiver: x, continue: true}\nreceivers: [{name: x}]\n", "cannot have continue in root route", 1),
            ("route: {receiver: x, matchers: [a=b]}\nreceivers: [{name: x}]\n", "root route must not have any matchers", 1),
            ("route: {receiver: x, mute_time_intervals: [a]}\nreceivers: [{name: x}]\ntime_intervals: [{name: a}]\n", "root route must not have any mute time intervals", 1),
            ("route: {group_wait: 1s}\nreceivers: [{name: x}]\n", "root route must specify a default receiver", 1),
            ("route: {receiver: x}\nreceivers: [{name: x},\n  {name: x}]\n", "notification config name \"x\" is not unique", 3),
            ("route: {receiver: x, group_by: [a, '...']}\nreceivers: [{name: x}]\n", "cannot have wildcard group_by (`...`) and other other labels at the same time", 1),
            ("route: {receiver: x, group_by: [a, a]}\nreceivers: [{name: x}]\n", "duplicated label \"a\" in group_by", 1),
            ("route: {receiver: x, group_interval: 0s}\nreceivers: [{name: x}]\n", "group_interval cannot be zero", 1),
            ("route: {receiver: x, repeat_interval: 0s}\nreceivers: [{name: x}]\n", "repeat_interval cannot be zero", 1),
            ("route: {receiver: x, group_wait: 5x}\nreceivers: [{name: x}]\n", "not a valid duration string: \"5x\"", 1),
            ("route: {receiver: x, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: x}]\n", "undefined time interval \"nope\" used in route", 1),
            ("route: {receiver: x}\nreceivers: [{}]\n", "missing name in receiver", 2),
            ("route: {receiver: x}\ntime_intervals: [{name: a}, {name: a}]\nreceivers: [{name: x}]\n", "time interval \"a\" is not unique", 2),
            ("route: {receiver: x}\nreceivers: [{name: x, email_configs: [{to: a@b}]}]\n", "no global SMTP smarthost set", 2),
            ("route: {receiver: x}\nreceivers: [{name: x, slack_configs: [{channel: a}]}]\n", "no global Slack API URL set either inline or in a file", 2),
            ("route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{}]}]\n", "missing URL in webhook config", 2),
            ("route: {receiver: x}\nreceivers: [{name: x, pagerduty_configs: [{}]}]\n", "missing service or routing key in PagerDuty config", 2),
            ("receivers: [{name: x}]\n", "no routes provided", 1),
            ("route: {receiver: x, routes: [{receiver: x, matchers: ['a b']}]}\nreceivers: [{name: x}]\n", "bad matcher format: a b", 1),
        ];
        for (src, msg, line) in cases {
            let errs = errors(src);
            assert!(
                errs.iter().any(|(m, l)| m == msg && l == line),
                "{src}\nexpected {msg:?} at line {line}, got {errs:?}"
            );
        }
    }

    #[test]
    fn utf8_label_names_are_a_warning() {
        let (c, d) = load("route: {receiver: x, routes: [{match: {\"a-b\": x}, group_by: ['service.name']}]}\nreceivers: [{name: x}]\n");
        assert!(c.is_some());
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.code == "alertmanager/utf8-label-name"
            && d.severity == crate::diag::Severity::Warning));
        let (c, d) = load("route: {receiver: x, group_by: ['']}\nreceivers: [{name: x}]\n");
        assert!(c.is_none());
        assert_eq!(d[0].message, "invalid label name \"\" in group_by list");
    }

    #[test]
    fn unknown_fields_point_at_the_key() {
        let (c, d) = load("route:\n  receiver: x\n  foo: 1\nreceivers: [{name: x}]\n");
        assert!(c.is_none());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "alertmanager/unknown-field");
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(3, 3));
    }

    #[test]
    fn global_secrets_are_hidden() {
        let (c, d) = load(
            "global:\n  smtp_smarthost: 'mail:25'\n  smtp_from: a@b\n  smtp_auth_password: hunter2\n  slack_api_url: https://hooks.slack.com/services/T0/B0/XYZ\nroute: {receiver: x}\nreceivers: [{name: x, email_configs: [{to: c@d}], slack_configs: [{channel: '#a'}]}]\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let text = format!("{:?}", c.unwrap());
        assert!(!text.contains("hunter2") && !text.contains("XYZ"), "{text}");
    }
}
