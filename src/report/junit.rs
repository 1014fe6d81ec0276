//! JUnit XML output of `check --format junit`, for CI systems that show test reports: one test case per
//! checked file, one `<failure>` per error or warning in it (infos go to `<system-out>`).

use crate::diag::{Diagnostic, Severity};
use crate::load::documents::SourceFile;
use crate::report::redact::redact_url_credentials;
use std::fmt::Write as _;

/// The XML document; `files` lists every checked file so clean files show as passed tests.
pub fn render(diagnostics: &[Diagnostic], files: &[SourceFile]) -> String {
    let mut names: Vec<String> = files.iter().map(|f| f.path.to_string()).collect();
    for d in diagnostics {
        let name = d
            .location
            .as_ref()
            .map_or_else(String::new, |l| l.file.to_string());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let failing = |d: &&Diagnostic| d.severity >= Severity::Warning;
    let failed_cases = names
        .iter()
        .filter(|n| {
            diagnostics
                .iter()
                .filter(failing)
                .any(|d| file_of(d) == n.as_str())
        })
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ruletest check\" tests=\"{}\" failures=\"{failed_cases}\" errors=\"0\">",
        names.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"ruletest check\" tests=\"{}\" failures=\"{failed_cases}\" errors=\"0\" skipped=\"0\">",
        names.len()
    );
    for name in &names {
        let shown = if name.is_empty() {
            "(no file)"
        } else {
            name.as_str()
        };
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"ruletest.check\"",
            escape(shown)
        );
        let mine: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| file_of(d) == name.as_str())
            .collect();
        if mine.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let mut infos = String::new();
        for d in &mine {
            let place = d
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}: ", l.file, l.pos.line, l.pos.col))
                .unwrap_or_default();
            let mut body = format!(
                "{place}{}[{}] {}",
                d.severity.as_str(),
                d.code,
                redact_url_credentials(&d.message)
            );
            if let Some(h) = &d.help {
                body.push_str("\nhelp: ");
                body.push_str(h);
            }
            if d.severity >= Severity::Warning {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    escape(d.code),
                    escape(&format!("{place}{}", redact_url_credentials(&d.message))),
                    escape(&body)
                );
            } else {
                infos.push_str(&body);
                infos.push('\n');
            }
        }
        if !infos.is_empty() {
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&infos));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn file_of(d: &Diagnostic) -> &str {
    d.location.as_ref().map_or("", |l| &l.file)
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 cannot hold.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::Pos;
    use std::sync::Arc;

    fn source(path: &str) -> SourceFile {
        SourceFile {
            path: Arc::from(path),
            text: String::new(),
            comments: vec![],
        }
    }

    #[test]
    fn one_case_per_file_one_failure_per_diagnostic() {
        let a: Arc<str> = Arc::from("a.yaml");
        let d = vec![
            Diagnostic::warning("promql/rate-gt-zero", "x > 0 & <y>").at(&a, Pos::new(2, 3)),
            Diagnostic::error("rule/bad-expr", "bad").at(&a, Pos::new(5, 1)),
            Diagnostic::info("z/info", "fyi").at(&a, Pos::new(6, 1)),
        ];
        let xml = render(&d, &[source("a.yaml"), source("b.yaml")]);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert_eq!(xml.matches("<failure ").count(), 2);
        assert!(
            xml.contains("message=\"a.yaml:2:3: x &gt; 0 &amp; &lt;y&gt;\""),
            "{xml}"
        );
        assert!(xml.contains("<testcase name=\"b.yaml\" classname=\"ruletest.check\"/>"));
        assert!(xml.contains("<system-out>a.yaml:6:1: info[z/info] fyi&#10;</system-out>"));
    }
}
