//! The dry run as one HTML page (`dry-run --html FILE`): a summary; per alerting rule that had an alert, a
//! plot of its values against the threshold with the pending and firing spans, and its episodes; per
//! receiver, every notification (time, group key, why it was sent, the route that matched, the alerts, and
//! the rendered text per field, folded); what was inhibited or muted, and by what; the route tree.
//!
//! Rendering only: the values plotted come with the run (`DryRun::values`, filled by
//! `project::dry_run::values`), the texts too (`DryRun::texts`).

use super::dry_run::{receiver_stats, rfc3339, rule_stats, DryRun};
use super::html::{escape, labels, page, Table};
use super::plot::{Plot, Span, SpanKind, Threshold, Unit};
use super::Format;
use crate::alertmanager::config::{Config, Route};
use crate::alertmanager::dispatch::Suppression;
use crate::alertmanager::matcher::display_matchers;
use crate::rules::tune::present;
use crate::text::duration::format_duration;
use crate::text::gofmt::format_value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows a table shows at a time.
const PAGE: usize = 100;
/// Alerts listed in a notification's row before "and N more".
const ALERTS_IN_ROW: usize = 5;

fn time(ms: i64) -> String {
    let t = rfc3339(ms);
    format!(
        "<time datetime=\"{}\">{}</time>",
        escape(&t),
        escape(&t.replace('T', " ").replace('Z', ""))
    )
}

fn dur(ms: i64) -> String {
    escape(&format_duration(ms.max(0)))
}

fn card(value: impl std::fmt::Display, what: &str) -> String {
    format!(
        "<div class=\"card\"><b>{}</b><span>{}</span></div>",
        escape(&value.to_string()),
        escape(what)
    )
}

/// The route at `path` (child indices from the root).
fn route_at<'c>(config: &'c Config, path: &[usize]) -> Option<&'c Route> {
    let mut r = &config.route;
    for i in path {
        r = r.routes.get(*i)?;
    }
    Some(r)
}

fn route_id(path: &[usize]) -> String {
    let parts: Vec<String> = path.iter().map(|i| i.to_string()).collect();
    format!("route-{}", parts.join("-"))
}

fn route_name(path: &[usize]) -> String {
    if path.is_empty() {
        "root".into()
    } else {
        let parts: Vec<String> = path.iter().map(|i| (i + 1).to_string()).collect();
        format!("root › {}", parts.join(" › "))
    }
}

/// The page.
pub fn html(run: &DryRun) -> String {
    let mut b = String::new();
    let tl = &run.timeline;
    let fired: Vec<_> = tl.alerts.iter().filter(|a| a.fired_at.is_some()).collect();
    let notifications = run
        .simulation
        .as_ref()
        .map(|s| s.notifications.len())
        .unwrap_or(0);
    let problems = tl.errors.len() + tl.template_errors.len();
    let _ = write!(
        b,
        "<h1>Dry run</h1><p class=\"sub\">{} to {} (UTC), {}</p>",
        time(run.from),
        time(run.to),
        dur(run.to - run.from)
    );
    b.push_str("<div class=\"cards\" id=\"summary\">");
    b.push_str(&card(tl.rules.len(), "alerting rules"));
    b.push_str(&card(fired.len(), "alerts fired"));
    b.push_str(&card(
        tl.rules
            .iter()
            .enumerate()
            .filter(|(i, _)| fired.iter().any(|a| a.rule == *i))
            .count(),
        "rules that fired",
    ));
    if run.config.is_some() {
        b.push_str(&card(notifications, "notifications"));
        let stats = receiver_stats(run);
        b.push_str(&card(
            stats.iter().filter(|s| s.1 > 0).count(),
            "receivers notified",
        ));
    }
    b.push_str(&card(problems, "problems"));
    b.push_str("</div>");
    if problems > 0 {
        b.push_str("<h2 id=\"problems\">Problems</h2><ul>");
        for (rule, at, msg) in &tl.errors {
            let _ = write!(
                b,
                "<li><b>{}</b> at {}: {}</li>",
                escape(rule),
                time(*at),
                escape(msg)
            );
        }
        for (rule, msg) in &tl.template_errors {
            let _ = write!(b, "<li><b>{}</b>: {}</li>", escape(rule), escape(msg));
        }
        b.push_str("</ul>");
    }
    rules_section(run, &mut b);
    if let (Some(config), Some(_)) = (&run.config, &run.simulation) {
        receivers_section(run, config, &mut b);
        suppressions_section(run, &mut b);
        routes_section(config, &mut b);
    } else {
        b.push_str("<p class=\"note\">No Alertmanager configuration was given (<code>--alertmanager FILE</code>): the alerts are not routed.</p>");
    }
    page("ruletest dry run", &b)
}

fn rules_section(run: &DryRun, b: &mut String) {
    let tl = &run.timeline;
    b.push_str("<h2 id=\"rules\">Alerting rules</h2>");
    let mut rows = Vec::new();
    for (i, r) in tl.rules.iter().enumerate() {
        let s = rule_stats(run, i);
        let name = if tl.alerts.iter().any(|a| a.rule == i) {
            format!("<a href=\"#rule-{i}\">{}</a>", escape(&r.alertname))
        } else {
            escape(&r.alertname)
        };
        rows.push(vec![
            name,
            format!("<code>{}:{}</code>", escape(&r.file), r.line),
            escape(&r.group),
            format!("<span data-sort=\"{}\">{}</span>", s.episodes, s.episodes),
            s.pending_only.to_string(),
            dur(s.firing_ms),
            dur(s.longest_ms),
            s.series.to_string(),
        ]);
    }
    b.push_str(
        &Table {
            id: "rules-table",
            headers: &[
                "alert",
                "rule",
                "group",
                "episodes",
                "pending only",
                "firing time",
                "longest",
                "series",
            ],
            rows,
            page: PAGE,
            sortable: true,
            row_class: vec![],
        }
        .html(),
    );
    let values: BTreeMap<usize, &crate::project::dry_run::RuleValues> =
        run.values.iter().map(|v| (v.rule, v)).collect();
    // Whether each alert was inhibited: `run.inhibited` counts the alerts that fired, in order.
    let mut inhibited = vec![false; tl.alerts.len()];
    for ((k, _), inh) in tl
        .alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.fired_at.is_some())
        .zip(&run.inhibited)
    {
        inhibited[k] = *inh;
    }
    for (i, r) in tl.rules.iter().enumerate() {
        let alerts: Vec<_> = tl
            .alerts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.rule == i)
            .collect();
        if alerts.is_empty() {
            continue;
        }
        let _ = write!(
            b,
            "<section class=\"rule\" id=\"rule-{i}\"><h3>{}</h3><p class=\"sub\"><code>{}:{}</code>, group {}, <code>for</code> {}, <code>keep_firing_for</code> {}, every {}</p>",
            escape(&r.alertname),
            escape(&r.file),
            r.line,
            escape(&r.group),
            dur(r.for_ms),
            dur(r.keep_firing_for_ms),
            dur(r.interval_ms)
        );
        if let Some(v) = values.get(&i) {
            let mut spans = Vec::new();
            for (_, a) in &alerts {
                let pending_end = a.fired_at.or(a.resolved_at).unwrap_or(run.to);
                spans.push(Span {
                    from: a.active_at,
                    to: pending_end,
                    kind: SpanKind::Pending,
                });
                if let Some(f) = a.fired_at {
                    spans.push(Span {
                        from: f,
                        to: a.resolved_at.unwrap_or(run.to),
                        kind: SpanKind::Firing,
                    });
                }
            }
            let series: Vec<(String, Vec<(i64, f64)>)> = v
                .lhs
                .series
                .iter()
                .map(|(l, vals)| {
                    let points = vals
                        .iter()
                        .enumerate()
                        .map(|(k, x)| (v.lhs.time(k), present(*x).unwrap_or(f64::NAN)))
                        .collect();
                    (l.to_string(), points)
                })
                .collect();
            let unit = Unit::guess(
                &v.query,
                v.lhs
                    .series
                    .iter()
                    .flat_map(|(_, x)| x.iter().copied().filter_map(present)),
            );
            let plot = Plot {
                title: v.query.clone(),
                unit,
                from: run.from,
                to: run.to,
                series,
                thresholds: v
                    .comparison
                    .iter()
                    .map(|(op, t)| Threshold {
                        value: *t,
                        label: format!("{} {}", op.as_str(), format_value(*t)),
                        main: true,
                    })
                    .collect(),
                spans,
            };
            b.push_str(&plot.svg());
            if v.total_series > v.lhs.series.len() {
                let _ = write!(
                    b,
                    "<p class=\"note\">{} of {} series shown: those nearest to the threshold.</p>",
                    v.lhs.series.len(),
                    v.total_series
                );
            }
        } else {
            b.push_str("<p class=\"note\">No plot: the values were not evaluated here (a live server evaluated the rules), or the expression returns none.</p>");
        }
        let mut rows = Vec::new();
        for (k, a) in &alerts {
            let inhibited = inhibited[*k];
            let state = match (a.fired_at, a.resolved_at) {
                (None, _) => "<span class=\"tag muted\">pending only</span>".to_string(),
                (Some(_), None) => "<span class=\"tag firing\">firing at the end</span>".into(),
                (Some(_), Some(_)) => "<span class=\"tag resolved\">resolved</span>".into(),
            };
            let state = if inhibited {
                format!("{state} <span class=\"tag inhibited\">inhibited</span>")
            } else {
                state
            };
            let ann: Vec<String> = a
                .annotations
                .iter()
                .map(|(k, v)| format!("<b>{}</b>: {}", escape(k), escape(v)))
                .collect();
            rows.push(vec![
                labels(&a.labels, &["alertname"]),
                time(a.active_at),
                a.fired_at.map(time).unwrap_or_default(),
                a.resolved_at.map(time).unwrap_or_default(),
                a.fired_at
                    .map(|f| dur(a.resolved_at.unwrap_or(run.to) - f))
                    .unwrap_or_default(),
                a.value_at_fire
                    .map(|v| {
                        format!(
                            "<span title=\"{}\">{}</span>",
                            escape(&format_value(v)),
                            escape(&Unit::None.format(v))
                        )
                    })
                    .unwrap_or_default(),
                state,
                if ann.is_empty() {
                    String::new()
                } else {
                    format!(
                        "<details><summary>annotations</summary><pre>{}</pre></details>",
                        ann.join("\n")
                    )
                },
            ]);
        }
        b.push_str(
            &Table {
                id: &format!("episodes-{i}"),
                headers: &[
                    "labels",
                    "pending from",
                    "fired",
                    "resolved",
                    "firing for",
                    "value at fire",
                    "state",
                    "annotations",
                ],
                rows,
                page: PAGE,
                sortable: false,
                row_class: vec![],
            }
            .html(),
        );
        b.push_str("</section>");
    }
}

fn receivers_section(run: &DryRun, config: &Config, b: &mut String) {
    let Some(sim) = &run.simulation else { return };
    b.push_str("<h2 id=\"receivers\">Receivers</h2>");
    let stats = receiver_stats(run);
    let rows = stats
        .iter()
        .map(|(name, n, alerts, first, last, inhibited, muted)| {
            vec![
                if *n > 0 {
                    format!(
                        "<a href=\"#receiver-{}\">{}</a>",
                        escape(&slug(name)),
                        escape(name)
                    )
                } else {
                    escape(name)
                },
                n.to_string(),
                alerts.to_string(),
                first.map(time).unwrap_or_default(),
                last.map(time).unwrap_or_default(),
                inhibited.to_string(),
                muted.to_string(),
            ]
        })
        .collect();
    b.push_str(
        &Table {
            id: "receivers-table",
            headers: &[
                "receiver",
                "notifications",
                "alerts",
                "first",
                "last",
                "inhibited alerts",
                "muted flushes",
            ],
            rows,
            page: PAGE,
            sortable: true,
            row_class: vec![],
        }
        .html(),
    );
    let mut texts: BTreeMap<usize, Vec<(&str, &str)>> = BTreeMap::new();
    for (i, field, text) in &run.texts {
        texts.entry(*i).or_default().push((field, text));
    }
    if let Some(err) = texts.get(&usize::MAX) {
        for (_, e) in err {
            let _ = write!(
                b,
                "<p class=\"note\">The templates could not be read: {}</p>",
                escape(e)
            );
        }
    }
    for r in &config.receivers {
        let ns: Vec<(usize, _)> = sim
            .notifications
            .iter()
            .enumerate()
            .filter(|(_, n)| n.receiver == r.name)
            .collect();
        if ns.is_empty() {
            continue;
        }
        let _ = write!(
            b,
            "<section class=\"receiver\" id=\"receiver-{}\"><h3>{} <span class=\"note\">{} notifications</span></h3>",
            escape(&slug(&r.name)),
            escape(&r.name),
            ns.len()
        );
        let mut rows = Vec::new();
        for (i, n) in ns {
            let mut alerts = String::new();
            for (k, a) in n.firing.iter().chain(&n.resolved).enumerate() {
                if k == ALERTS_IN_ROW {
                    let _ = write!(
                        alerts,
                        "<div class=\"note\">and {} more</div>",
                        n.firing.len() + n.resolved.len() - ALERTS_IN_ROW
                    );
                    break;
                }
                let tag = if k < n.firing.len() {
                    "<span class=\"tag firing\">firing</span>"
                } else {
                    "<span class=\"tag resolved\">resolved</span>"
                };
                let _ = write!(
                    alerts,
                    "<div>{tag} <b>{}</b> {}</div>",
                    escape(a.labels.get("alertname").map(String::as_str).unwrap_or("")),
                    labels(&a.labels, &["alertname"])
                );
            }
            let route = format!(
                "<a href=\"#{}\">{}</a> <code>{}</code>",
                route_id(&n.route),
                escape(&route_name(&n.route)),
                escape(
                    &route_at(config, &n.route)
                        .map(|r| display_matchers(&r.matchers))
                        .unwrap_or_default()
                )
            );
            let text = match texts.get(&i) {
                Some(fields) => {
                    let mut t = String::from("<details><summary>text</summary>");
                    for (field, value) in fields {
                        let _ = write!(
                            t,
                            "<div><b>{}</b></div><pre>{}</pre>",
                            escape(field),
                            escape(value)
                        );
                    }
                    t.push_str("</details>");
                    t
                }
                None => String::new(),
            };
            rows.push(vec![
                time(n.at),
                escape(&n.integration),
                escape(n.reason.as_str()),
                format!("{} firing, {} resolved", n.firing.len(), n.resolved.len()),
                alerts,
                format!("<code>{}</code>", escape(&n.group_key)),
                route,
                text,
            ]);
        }
        b.push_str(
            &Table {
                id: &format!("notifications-{}", slug(&r.name)),
                headers: &[
                    "time",
                    "integration",
                    "reason",
                    "alerts",
                    "which",
                    "group key",
                    "route",
                    "text",
                ],
                rows,
                page: PAGE,
                sortable: false,
                row_class: vec![],
            }
            .html(),
        );
        b.push_str("</section>");
    }
}

fn suppressions_section(run: &DryRun, b: &mut String) {
    let Some(sim) = &run.simulation else { return };
    let config = run.config.as_ref();
    if sim.suppressions.is_empty() {
        return;
    }
    b.push_str("<h2 id=\"suppressed\">Inhibited and muted</h2>");
    let rows = sim
        .suppressions
        .iter()
        .map(|s| match s {
            Suppression::Inhibited {
                at,
                group_key,
                receiver,
                by,
            } => vec![
                time(*at),
                escape(receiver),
                format!("<code>{}</code>", escape(group_key)),
                format!(
                    "<span class=\"tag inhibited\">inhibited</span> every alert of the group{}",
                    by.iter()
                        .map(|i| {
                            let rule = config.and_then(|c| c.inhibit_rules.get(i.rule));
                            format!(
                                "<div>by inhibit rule {}{} (source {} {})</div>",
                                i.rule + 1,
                                rule.map(|r| format!(", line {}", r.pos.line))
                                    .unwrap_or_default(),
                                escape(i.source.get("alertname").map(String::as_str).unwrap_or("")),
                                labels(&i.source, &["alertname"])
                            )
                        })
                        .collect::<String>()
                ),
            ],
            Suppression::Inactive {
                at,
                group_key,
                receiver,
            } => vec![
                time(*at),
                escape(receiver),
                format!("<code>{}</code>", escape(group_key)),
                "<span class=\"tag muted\">muted</span> outside the route's active time intervals"
                    .to_string(),
            ],
            Suppression::Muted {
                at,
                group_key,
                receiver,
                interval,
            } => vec![
                time(*at),
                escape(receiver),
                format!("<code>{}</code>", escape(group_key)),
                format!(
                    "<span class=\"tag muted\">muted</span> by time interval <b>{}</b>",
                    escape(interval)
                ),
            ],
        })
        .collect();
    b.push_str(
        &Table {
            id: "suppressed-table",
            headers: &["time", "receiver", "group key", "what"],
            rows,
            page: PAGE,
            sortable: false,
            row_class: vec![],
        }
        .html(),
    );
}

fn routes_section(config: &Config, b: &mut String) {
    b.push_str("<h2 id=\"routes\">Routes</h2><ul class=\"routes\">");
    fn walk(r: &Route, path: &mut Vec<usize>, b: &mut String) {
        let _ = write!(
            b,
            "<li id=\"{}\"><b>{}</b> → {} <code>{}</code> <span class=\"note\">line {}; group_by {}; wait {}, interval {}, repeat {}{}</span>",
            route_id(path),
            escape(&route_name(path)),
            escape(&r.receiver),
            escape(&display_matchers(&r.matchers)),
            r.pos.line,
            escape(&match &r.group_by {
                crate::alertmanager::config::GroupBy::All => "[...]".to_string(),
                crate::alertmanager::config::GroupBy::Labels(l) => format!("[{}]", l.join(", ")),
            }),
            dur(r.group_wait_ms),
            dur(r.group_interval_ms),
            dur(r.repeat_interval_ms),
            if r.continue_matching { "; continue" } else { "" }
        );
        if !r.routes.is_empty() {
            b.push_str("<ul>");
            for (i, c) in r.routes.iter().enumerate() {
                path.push(i);
                walk(c, path, b);
                path.pop();
            }
            b.push_str("</ul>");
        }
        b.push_str("</li>");
    }
    walk(&config.route, &mut Vec::new(), b);
    b.push_str("</ul>");
}

/// Text and JSON from `report::dry_run`, the page from here.
impl super::Report for DryRun {
    fn formats(&self) -> &'static [Format] {
        &[Format::Human, Format::Json, Format::Html]
    }

    fn render(&self, format: Format, style: super::Style) -> Option<String> {
        match format {
            Format::Human => Some(super::dry_run::human(self, style.color)),
            Format::Json => Some(super::pretty(&super::dry_run::json(self))),
            Format::Html => Some(html(self)),
            _ => None,
        }
    }
}

/// A name usable in an element id: letters, digits and `-`; anything else as `_xx`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}", c as u32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ids() {
        assert_eq!(slug("team-a"), "team-a");
        assert_eq!(slug("a b\"<"), "a_20b_22_3c");
        assert_eq!(route_id(&[0, 2]), "route-0-2");
        assert_eq!(route_name(&[0, 2]), "root › 1 › 3");
        assert_eq!(route_name(&[]), "root");
    }
}
