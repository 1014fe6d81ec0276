//! The text of `ruletest test`: each file's groups with PASS / FAIL and what differed, the rule coverage
//! table, and JUnit XML for CI.

use crate::load::documents;
use crate::project::unittest::Tested;
use crate::report::human;
use crate::rules::coverage::{Reach, RuleCoverage};
use crate::rules::unittest::{AlertView, Failure, FileResult, SampleView};
use std::fmt::Write as _;

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub fn render_file(f: &FileResult, sources: &[documents::SourceFile], color: bool) -> String {
    let mut out = String::new();
    let style = human::Style { color };
    for d in &f.diagnostics {
        out.push_str(&human::render(d, sources, &style));
    }
    for g in &f.groups {
        if g.passed() {
            let _ = writeln!(
                out,
                "{}:{}: {} {:?}",
                f.file,
                g.line,
                paint(color, "32", "PASS"),
                g.name
            );
            continue;
        }
        let _ = writeln!(
            out,
            "{}:{}: {} {:?}",
            f.file,
            g.line,
            paint(color, "1;31", "FAIL"),
            g.name
        );
        for fail in &g.failures {
            out.push_str(&render_failure(&f.file, fail, color));
        }
    }
    out
}

fn fmt_map(m: &std::collections::BTreeMap<String, String>) -> String {
    super::labels::braces(m, &[])
}

fn render_alert(a: &AlertView) -> String {
    if a.annotations.is_empty() {
        fmt_map(&a.labels)
    } else {
        format!(
            "{} annotations {}",
            fmt_map(&a.labels),
            fmt_map(&a.annotations)
        )
    }
}

/// One failed check as `test` prints it (and `migrate-report`).
pub fn render_failure(file: &str, fail: &Failure, color: bool) -> String {
    let mut out = String::new();
    match fail {
        Failure::Alerts {
            alertname,
            eval_time,
            line,
            expected,
            got,
        } => {
            let _ = writeln!(out, "  {file}:{line}: alertname {alertname}, eval_time {eval_time}: firing alerts differ");
            let _ = writeln!(
                out,
                "    {} expected   {} got",
                paint(color, "32", "-"),
                paint(color, "31", "+")
            );
            for e in expected {
                if got.contains(e) {
                    let _ = writeln!(out, "      {}", render_alert(e));
                } else if let Some(g) = got.iter().find(|g| g.labels == e.labels) {
                    let _ = writeln!(out, "    {} {}", paint(color, "32", "-"), render_alert(e));
                    let _ = writeln!(out, "    {} {}", paint(color, "31", "+"), render_alert(g));
                } else {
                    let _ = writeln!(out, "    {} {}", paint(color, "32", "-"), render_alert(e));
                }
            }
            for g in got {
                if !expected.iter().any(|e| e.labels == g.labels) {
                    let _ = writeln!(out, "    {} {}", paint(color, "31", "+"), render_alert(g));
                }
            }
            if expected.is_empty() && got.is_empty() {
                let _ = writeln!(out, "    (no alerts)");
            }
        }
        Failure::Samples {
            expr,
            eval_time,
            line,
            expected,
            got,
        } => {
            let _ = writeln!(
                out,
                "  {file}:{line}: expr {expr:?}, eval_time {eval_time}: samples differ"
            );
            let show = |s: &SampleView| match &s.histogram {
                Some(h) => format!("{} {h}", s.labels),
                None => format!(
                    "{} {}",
                    s.labels,
                    crate::promql::value::format_value(s.value)
                ),
            };
            for e in expected {
                let mark = if got.contains(e) {
                    " ".to_string()
                } else {
                    paint(color, "32", "-")
                };
                let _ = writeln!(out, "    {mark} {}", show(e));
            }
            for g in got.iter().filter(|g| !expected.contains(g)) {
                let _ = writeln!(out, "    {} {}", paint(color, "31", "+"), show(g));
            }
        }
        Failure::Query {
            expr,
            eval_time,
            line,
            message,
        } => {
            let _ = writeln!(
                out,
                "  {file}:{line}: expr {expr:?}, eval_time {eval_time}: {message}"
            );
        }
        Failure::RuleEval {
            rule,
            at,
            time,
            message,
        } => {
            let _ = writeln!(out, "  rule {rule} ({at}), time {time}: {message}");
        }
        Failure::Template { alertname, message } => {
            let _ = writeln!(out, "  alert {alertname}: template error: {message}");
        }
        Failure::Setup { message, line } => {
            let _ = writeln!(out, "  {file}:{line}: {message}");
        }
        Failure::Route {
            line,
            labels,
            what,
            expected,
            got,
        } => {
            let _ = writeln!(
                out,
                "  {file}:{line}: routes_test {}: unexpected {what}",
                fmt_map(labels)
            );
            let _ = writeln!(out, "    {} {expected}", paint(color, "32", "- expected"));
            let _ = writeln!(out, "    {} {got}", paint(color, "31", "+ got     "));
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `test`'s text: each file, the count, and the coverage table when measured.
pub fn human(t: &Tested, color: bool) -> String {
    let mut out = String::new();
    for f in &t.files {
        out.push_str(&render_file(f, &t.sources, color));
    }
    let _ = writeln!(out, "{} passed, {} failed", t.passed, t.failed);
    if let Some(c) = &t.coverage {
        out.push_str(&coverage_text(
            &c.rules,
            c.percent,
            c.min.filter(|_| c.below_min),
        ));
    }
    out
}

/// `test --format json` (docs/unit-testing.md).
pub fn json(t: &Tested) -> serde_json::Value {
    let files: Vec<_> = t
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "file": f.file,
                "passed": f.passed(),
                "errors": f.diagnostics.iter().map(crate::report::json::diagnostic).collect::<Vec<_>>(),
                "groups": f.groups.iter().map(|g| serde_json::json!({
                    "name": g.name, "line": g.line, "passed": g.passed(), "failures": g.failures,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut out = serde_json::json!({"files": files, "passed": t.passed, "failed": t.failed});
    if let Some(c) = &t.coverage {
        out["coverage"] = serde_json::json!({
            "percent": c.percent,
            "min": c.min,
            "below_min": c.below_min,
            "rules": c.rules,
        });
    }
    out
}

/// `test --junit FILE`: [`junit`] of a run.
pub fn junit_of(t: &Tested) -> String {
    junit(
        &t.files,
        t.coverage.as_ref().map(|c| (&c.rules[..], c.percent)),
    )
}

/// JUnit XML: one testsuite per file, one testcase per test group.
pub fn junit(results: &[FileResult], coverage: Option<(&[RuleCoverage], f64)>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ruletest\">\n",
    );
    // Coverage as properties of a suite of its own, which CI systems list beside the tests.
    if let Some((rules, percent)) = coverage {
        let _ = writeln!(
            out,
            "  <testsuite name=\"coverage\" tests=\"0\" failures=\"0\" errors=\"0\">\n    <properties>\n      <property name=\"coverage.percent\" value=\"{percent:.1}\"/>"
        );
        for r in rules {
            let _ = writeln!(
                out,
                "      <property name=\"coverage.rule\" value=\"{}:{} {} {}: {}\"/>",
                xml_escape(&r.file),
                r.line,
                r.kind,
                xml_escape(&r.name),
                r.reach.as_str()
            );
        }
        out.push_str("    </properties>\n  </testsuite>\n");
    }
    for f in results {
        let failures = f.groups.iter().filter(|g| !g.passed()).count();
        // Only errors stop a file from running; warnings and infos (a duplicate rule, say) are not failures.
        let load_errors: Vec<&str> = f
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .map(|d| d.message.as_str())
            .collect();
        let errors = usize::from(!load_errors.is_empty());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
            xml_escape(&f.file),
            f.groups.len()
        );
        if errors > 0 {
            let _ = writeln!(
                out,
                "    <testcase name=\"load\" classname=\"{}\"><error message=\"{}\"/></testcase>",
                xml_escape(&f.file),
                xml_escape(&load_errors.join("; "))
            );
        }
        for g in &f.groups {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml_escape(&g.name),
                xml_escape(&f.file)
            );
            if g.passed() {
                out.push_str("/>\n");
            } else {
                let text: String = g
                    .failures
                    .iter()
                    .map(|x| render_failure(&f.file, x, false))
                    .collect();
                let _ = writeln!(
                    out,
                    "><failure message=\"{} failure(s)\">{}</failure></testcase>",
                    g.failures.len(),
                    xml_escape(&text)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The human coverage report: the figures as a table (`percent` covered), then the rules not covered, each at
/// file:line, and the threshold the share is below, if it is.
pub fn coverage_text(rules: &[RuleCoverage], percent: f64, below_min: Option<f64>) -> String {
    use tabled::builder::Builder;
    let count = |kind: &str, reach: Reach| {
        rules
            .iter()
            .filter(|r| r.kind == kind && r.reach == reach)
            .count()
            .to_string()
    };
    let total = |kind: &str| rules.iter().filter(|r| r.kind == kind).count().to_string();
    let templated: Vec<&RuleCoverage> = rules
        .iter()
        .filter(|r| r.templates_compared.is_some())
        .collect();
    let compared = templated
        .iter()
        .filter(|r| r.templates_compared == Some(true))
        .count();
    let mut b = Builder::default();
    b.push_record(["rules".to_string(), "count".to_string()]);
    for (what, n) in [
        ("alerting rules", total("alert")),
        ("  expected to fire", count("alert", Reach::ExpectedToFire)),
        (
            "  only expected silent",
            count("alert", Reach::OnlyExpectedSilent),
        ),
        ("  untested", count("alert", Reach::Untested)),
        ("recording rules", total("record")),
        (
            "  read by a tested expression",
            count("record", Reach::ReadByExpression),
        ),
        (
            "  feeding a tested alert",
            count("record", Reach::FeedsTestedAlert),
        ),
        ("  untested", count("record", Reach::Untested)),
        (
            "alerts with label or annotation templates",
            templated.len().to_string(),
        ),
        ("  rendered and compared", compared.to_string()),
    ] {
        b.push_record([what.to_string(), n]);
    }
    let mut out = format!(
        "\ncoverage: {percent:.1}% of {} rules\n{}\n",
        rules.len(),
        b.build().with(tabled::settings::Style::psql())
    );
    let missing: Vec<&RuleCoverage> = rules.iter().filter(|r| !r.reach.covered()).collect();
    if !missing.is_empty() {
        out.push_str("not covered:\n");
        for r in &missing {
            let _ = writeln!(
                out,
                "  {}:{}: {} {} ({})",
                r.file,
                r.line,
                r.kind,
                r.name,
                r.reach.as_str()
            );
        }
    }
    if let Some(min) = below_min {
        let _ = writeln!(out, "coverage {percent:.1}% is below --coverage-min {min}%");
    }
    out
}
