//! `ruletest test FILE...`: run rule unit tests in promtool's format (PrometheusRule objects accepted as rule
//! files), print failures as a diff of expected and actual alerts or samples, and a closing count.

use super::Status;
use crate::diag::Severity;
use crate::load::documents::{self, Kind};
use crate::report::human;
use crate::rules::coverage::{Reach, RuleCoverage};
use crate::rules::group::Mode;
use crate::rules::unittest::{self, AlertView, Failure, FileResult, Options, SampleView};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub eval: super::EvalArgs,
    /// Test files (or directories holding them).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run only test groups whose name matches this regex (repeatable).
    #[arg(long = "run", value_name = "REGEX")]
    pub run: Vec<String>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Evaluate every rule at every tick instead of range-natively (for cross-checking).
    #[arg(long, hide = true)]
    pub per_tick: bool,
    /// Accept fields a test file or its rule files do not know, as promtool's --ignore-unknown-fields does (unknown fields
    /// are errors otherwise, naming the field and the ones that exist).
    #[arg(long)]
    pub ignore_unknown_fields: bool,
    /// Report which rules of the rule files under test the tests reach: alerts expected to fire (or only
    /// expected silent), recordings read by a tested expression or feeding a tested alert, templates compared,
    /// rules no test reaches (docs/unit-testing.md).
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when fewer than this percentage of the rules are covered, listing the rules that are not
    /// (implies --coverage).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub coverage_min: Option<f64>,
}

fn percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentage from 0 to 100")),
    }
}

pub fn run(args: &Args) -> anyhow::Result<Status> {
    args.eval.install()?;
    let mut run = Vec::new();
    for r in &args.run {
        run.push(regex::Regex::new(r).map_err(|e| anyhow::anyhow!("--run {r:?}: {e}"))?);
    }
    let loaded = documents::load_paths(&args.files)?;
    let opts = Options {
        run,
        mode: if args.per_tick {
            Mode::PerTick
        } else {
            Mode::Auto
        },
        ignore_unknown_fields: args.ignore_unknown_fields,
        coverage: args.coverage || args.coverage_min.is_some(),
    };
    let mut results = unittest::run_loaded(&loaded, &opts);
    // Files given that hold no test: say so rather than pass silently.
    for f in &loaded.files {
        if !loaded.items_of(Kind::TestFile).any(|i| i.file == f.path) {
            let mut r = FileResult {
                file: f.path.to_string(),
                diagnostics: Vec::new(),
                groups: Vec::new(),
                coverage: Vec::new(),
            };
            let mut ds: Vec<_> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.location.as_ref().is_some_and(|l| l.file == f.path))
                .cloned()
                .collect();
            if ds.is_empty() {
                ds.push(
                    crate::diag::Diagnostic::error(
                        "test/not-a-test-file",
                        "no rule unit test in this file",
                    )
                    .at(&f.path, crate::load::yaml::Pos::new(1, 1))
                    .help("a test file has `rule_files:` and `tests:`, or `alertmanager_config:` and `routes_test:`"),
                );
            }
            r.diagnostics = ds;
            results.push(r);
        }
    }
    let passed = results
        .iter()
        .flat_map(|f| &f.groups)
        .filter(|g| g.passed())
        .count();
    let failed_groups = results
        .iter()
        .flat_map(|f| &f.groups)
        .filter(|g| !g.passed())
        .count();
    let failed_files = results
        .iter()
        .filter(|f| f.diagnostics.iter().any(|d| d.severity == Severity::Error))
        .count();
    let coverage =
        crate::rules::coverage::merge(results.iter().flat_map(|f| f.coverage.iter().cloned()));
    let covered = crate::rules::coverage::percent(&coverage);
    let below = args.coverage_min.is_some_and(|min| covered < min);
    let failed = failed_groups + failed_files;
    match args.format {
        Format::Human => {
            let color = std::io::stdout().is_terminal();
            for f in &results {
                print!("{}", render_file(f, &loaded.files, color));
            }
            println!("{passed} passed, {failed} failed");
            if opts.coverage {
                print!(
                    "{}",
                    coverage_text(&coverage, covered, args.coverage_min.filter(|_| below))
                );
            }
        }
        Format::Json => {
            let files: Vec<_> = results
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
            let mut out = serde_json::json!({"files": files, "passed": passed, "failed": failed});
            if opts.coverage {
                out["coverage"] = serde_json::json!({
                    "percent": covered,
                    "min": args.coverage_min,
                    "below_min": below,
                    "rules": coverage,
                });
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    if let Some(path) = &args.junit {
        std::fs::write(
            path,
            junit(&results, opts.coverage.then_some((&coverage[..], covered))),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(if failed > 0 || below {
        Status::Problems
    } else {
        Status::Ok
    })
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn render_file(f: &FileResult, sources: &[documents::SourceFile], color: bool) -> String {
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
    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
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

/// One failed check as `test` prints it (also used by `migrate-report`).
pub(crate) fn render_failure(file: &str, fail: &Failure, color: bool) -> String {
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

/// JUnit XML: one testsuite per file, one testcase per test group.
fn junit(results: &[FileResult], coverage: Option<(&[RuleCoverage], f64)>) -> String {
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
fn coverage_text(rules: &[RuleCoverage], percent: f64, below_min: Option<f64>) -> String {
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
