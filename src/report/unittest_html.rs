//! Rule unit test results as one HTML page (`test --html FILE`): a summary, every file's test groups with
//! their verdicts, and for each failure what was expected beside what the rules gave (alerts missing and
//! unexpected marked, samples whose value differs marked), then the coverage when it was asked for.
//!
//! Rendering only: everything shown is in the [`Tested`] result.

use super::html::{escape, labels, page, Table};
use super::Format;
use crate::project::unittest::Tested;
use crate::rules::unittest::{AlertView, Failure, SampleView};
use std::fmt::Write as _;

fn card(v: impl std::fmt::Display, what: &str) -> String {
    format!(
        "<div class=\"card\"><b>{}</b><span>{}</span></div>",
        escape(&v.to_string()),
        escape(what)
    )
}

fn alert(a: &AlertView, mark: &str) -> String {
    let ann: Vec<String> = a
        .annotations
        .iter()
        .map(|(k, v)| format!("<div><b>{}</b>: {}</div>", escape(k), escape(v)))
        .collect();
    format!(
        "<div class=\"alert {mark}\">{}{}{}</div>",
        if mark.is_empty() {
            String::new()
        } else {
            format!("<span class=\"tag {mark}\">{mark}</span> ")
        },
        labels(&a.labels, &[]),
        ann.join("")
    )
}

/// Expected beside got: each side's alerts, those only on one side marked.
fn alerts_side_by_side(expected: &[AlertView], got: &[AlertView]) -> String {
    let side = |these: &[AlertView], other: &[AlertView], mark: &str| {
        if these.is_empty() {
            return "<span class=\"note\">no alert</span>".to_string();
        }
        these
            .iter()
            .map(|a| alert(a, if other.contains(a) { "" } else { mark }))
            .collect::<String>()
    };
    format!(
        "<table class=\"diff\"><thead><tr><th>expected</th><th>got</th></tr></thead><tbody><tr><td>{}</td><td>{}</td></tr></tbody></table>",
        side(expected, got, "missing"),
        side(got, expected, "unexpected")
    )
}

fn sample(s: &SampleView) -> String {
    match &s.histogram {
        Some(h) => format!("{} {}", s.labels, h),
        None => format!("{} {}", s.labels, crate::text::gofmt::format_value(s.value)),
    }
}

fn samples_side_by_side(expected: &[SampleView], got: &[SampleView]) -> String {
    let side = |these: &[SampleView], other: &[SampleView], mark: &str| {
        if these.is_empty() {
            return "<span class=\"note\">no sample</span>".to_string();
        }
        these
            .iter()
            .map(|s| {
                let same = other.iter().any(|o| sample(o) == sample(s));
                format!(
                    "<div class=\"labels\">{}{}</div>",
                    if same {
                        String::new()
                    } else {
                        format!("<span class=\"tag {mark}\">{mark}</span> ")
                    },
                    escape(&sample(s))
                )
            })
            .collect::<String>()
    };
    format!(
        "<table class=\"diff\"><thead><tr><th>expected</th><th>got</th></tr></thead><tbody><tr><td>{}</td><td>{}</td></tr></tbody></table>",
        side(expected, got, "missing"),
        side(got, expected, "unexpected")
    )
}

fn failure(file: &str, f: &Failure) -> String {
    let at = |line: u32| format!("<code>{}:{line}</code>", escape(file));
    match f {
        Failure::Alerts {
            alertname,
            eval_time,
            line,
            expected,
            got,
        } => format!(
            "<div class=\"failure\"><p>{} alert <b>{}</b> at {}: the alerts differ</p>{}</div>",
            at(*line),
            escape(alertname),
            escape(eval_time),
            alerts_side_by_side(expected, got)
        ),
        Failure::Samples {
            expr,
            eval_time,
            line,
            expected,
            got,
        } => format!(
            "<div class=\"failure\"><p>{} <code>{}</code> at {}: the samples differ</p>{}</div>",
            at(*line),
            escape(expr),
            escape(eval_time),
            samples_side_by_side(expected, got)
        ),
        Failure::Query {
            expr,
            eval_time,
            line,
            message,
        } => format!(
            "<div class=\"failure\"><p>{} <code>{}</code> at {}: {}</p></div>",
            at(*line),
            escape(expr),
            escape(eval_time),
            escape(message)
        ),
        Failure::RuleEval {
            rule,
            at: place,
            time,
            message,
        } => format!(
            "<div class=\"failure\"><p>rule <b>{}</b> (<code>{}</code>) failed to evaluate at {}: {}</p></div>",
            escape(rule),
            escape(place),
            escape(time),
            escape(message)
        ),
        Failure::Template { alertname, message } => format!(
            "<div class=\"failure\"><p>alert <b>{}</b>: template error: {}</p></div>",
            escape(alertname),
            escape(message)
        ),
        Failure::Setup { message, line } => format!(
            "<div class=\"failure\"><p>{}: {}</p></div>",
            at(*line),
            escape(message)
        ),
        Failure::Route {
            line,
            labels: l,
            what,
            expected,
            got,
        } => format!(
            "<div class=\"failure\"><p>{} route test {}: {}</p><table class=\"diff\"><thead><tr><th>expected</th><th>got</th></tr></thead><tbody><tr><td>{}</td><td>{}</td></tr></tbody></table></div>",
            at(*line),
            labels(l, &[]),
            escape(what),
            escape(expected),
            escape(got)
        ),
    }
}

/// The page.
pub fn html(t: &Tested) -> String {
    let mut b = String::new();
    b.push_str("<h1>Rule unit tests</h1>");
    let _ = write!(
        b,
        "<p class=\"sub\">{}</p>",
        if t.ok() {
            "<span class=\"tag resolved\">passed</span>"
        } else {
            "<span class=\"tag firing\">failed</span>"
        }
    );
    b.push_str("<div class=\"cards\" id=\"summary\">");
    b.push_str(&card(t.files.len(), "files"));
    b.push_str(&card(t.passed, "groups passed"));
    b.push_str(&card(t.failed, "failed"));
    if let Some(c) = &t.coverage {
        b.push_str(&card(format!("{:.1}%", c.percent), "rules covered"));
    }
    b.push_str("</div>");
    for (fi, f) in t.files.iter().enumerate() {
        let _ = write!(
            b,
            "<section class=\"file\" id=\"file-{fi}\"><h2>{} {}</h2>",
            escape(&f.file),
            if f.passed() {
                "<span class=\"tag resolved\">passed</span>"
            } else {
                "<span class=\"tag firing\">failed</span>"
            }
        );
        if !f.diagnostics.is_empty() {
            b.push_str("<ul>");
            for d in &f.diagnostics {
                let place = d
                    .location
                    .as_ref()
                    .map(|l| format!("<code>{}</code> ", escape(&l.to_string())))
                    .unwrap_or_default();
                let _ = write!(
                    b,
                    "<li>{place}{}[{}]: {}</li>",
                    escape(d.severity.as_str()),
                    escape(d.code),
                    escape(&d.message)
                );
            }
            b.push_str("</ul>");
        }
        let rows = f
            .groups
            .iter()
            .enumerate()
            .map(|(gi, g)| {
                vec![
                    if g.passed() {
                        escape(&g.name)
                    } else {
                        format!("<a href=\"#group-{fi}-{gi}\">{}</a>", escape(&g.name))
                    },
                    format!("<code>{}:{}</code>", escape(&f.file), g.line),
                    if g.passed() {
                        "<span class=\"tag resolved\">passed</span>".into()
                    } else {
                        format!(
                            "<span class=\"tag firing\">failed</span> {} failure{}",
                            g.failures.len(),
                            if g.failures.len() == 1 { "" } else { "s" }
                        )
                    },
                ]
            })
            .collect();
        if !f.groups.is_empty() {
            b.push_str(
                &Table {
                    id: &format!("groups-{fi}"),
                    headers: &["test group", "where", "verdict"],
                    rows,
                    page: 100,
                    sortable: true,
                    row_class: vec![],
                }
                .html(),
            );
        }
        for (gi, g) in f.groups.iter().enumerate().filter(|(_, g)| !g.passed()) {
            let _ = write!(
                b,
                "<section class=\"group\" id=\"group-{fi}-{gi}\"><h3>{}</h3>",
                escape(&g.name)
            );
            for fail in &g.failures {
                b.push_str(&failure(&f.file, fail));
            }
            b.push_str("</section>");
        }
        b.push_str("</section>");
    }
    if let Some(c) = &t.coverage {
        b.push_str("<h2 id=\"coverage\">Coverage</h2>");
        let rows = c
            .rules
            .iter()
            .map(|r| {
                vec![
                    escape(r.kind),
                    escape(&r.name),
                    format!("<code>{}:{}</code>", escape(&r.file), r.line),
                    escape(&r.group),
                    escape(r.reach.as_str()),
                    match r.templates_compared {
                        Some(true) => "compared".into(),
                        Some(false) => "not compared".into(),
                        None => String::new(),
                    },
                ]
            })
            .collect();
        b.push_str(
            &Table {
                id: "coverage-table",
                headers: &["kind", "rule", "where", "group", "reached", "templates"],
                rows,
                page: 100,
                sortable: true,
                row_class: vec![],
            }
            .html(),
        );
        if c.below_min {
            let _ = write!(
                b,
                "<p><span class=\"tag firing\">below the minimum</span> {:.1}% is below --coverage-min {}%</p>",
                c.percent,
                c.min.unwrap_or(0.0)
            );
        }
    }
    page("ruletest test", &b)
}

/// Text, JSON and JUnit from `report::unittest`; the page from here.
impl super::Report for Tested {
    fn formats(&self) -> &'static [Format] {
        &[Format::Human, Format::Json, Format::Junit, Format::Html]
    }

    fn render(&self, format: Format, style: super::Style) -> Option<String> {
        match format {
            Format::Human => Some(super::unittest::human(self, style.color)),
            Format::Json => Some(super::pretty(&super::unittest::json(self))),
            Format::Junit => Some(super::unittest::junit_of(self)),
            Format::Html => Some(html(self)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn view(pairs: &[(&str, &str)], summary: &str) -> AlertView {
        AlertView {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: BTreeMap::from([("summary".to_string(), summary.to_string())]),
        }
    }

    #[test]
    fn only_the_alerts_on_one_side_are_marked() {
        let both = view(&[("alertname", "A"), ("pod", "a")], "a is down");
        let expected = vec![both.clone(), view(&[("alertname", "A"), ("pod", "b")], "b")];
        let got = vec![
            both,
            view(&[("alertname", "A"), ("pod", "<c>")], "<script>"),
        ];
        let html = alerts_side_by_side(&expected, &got);
        assert_eq!(html.matches("<span class=\"tag missing\">").count(), 1);
        assert_eq!(html.matches("<span class=\"tag unexpected\">").count(), 1);
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(html.contains("pod=&quot;&lt;c&gt;&quot;"), "{html}");
    }
}
