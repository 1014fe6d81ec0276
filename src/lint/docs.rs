//! docs/checks.md, generated from the checks' doc comments so it cannot go stale: a test regenerates it and
//! compares (`RULETEST_BLESS=1 cargo test --test lint_cli` rewrites it).

use crate::lint::catalogue::{catalogue, FRAMEWORK_CODES, LOAD_WARNINGS};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Reads `code count` lines (the corpus counts file); `#` starts a comment.
pub fn parse_counts(text: &str) -> BTreeMap<String, usize> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let code = parts.next()?;
            let n = parts.next()?.parse().ok()?;
            Some((code.to_string(), n))
        })
        .collect()
}

/// The Markdown catalogue; `corpus` gives each code's finding count on awesome-prometheus-alerts.
pub fn render(corpus: &BTreeMap<String, usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Checks run by `ruletest check`\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the doc comments in src/lint/checks/*.rs: do not edit; run `RULETEST_BLESS=1 cargo test --test lint_cli` -->\n"
    );
    let _ = writeln!(
        out,
        "Every check has a stable code. Turn one off or change its severity in `.ruletest.yaml` in the checked \
directory (or `--config-file`):\n\n```yaml\nchecks:\n  promql/rate-gt-zero: off      # or error | warning | info\nrequired_labels: [severity, team]\nscrape_interval: 15s\n```\n\n\
Or for one rule, with a comment on the rule or the line above it (the reason is required):\n\n\
```yaml\n# ruletest: ignore promql/rate-gt-zero every restart of this job matters\n- alert: PodRestarted\n```\n"
    );
    let _ = writeln!(
        out,
        "The last column counts findings on the rules of awesome-prometheus-alerts (tests/lint_corpus.rs keeps it \
honest); each was reviewed as one a careful SRE would agree with.\n"
    );
    let _ = writeln!(out, "| code | default | what it finds | corpus |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    let infos = catalogue();
    for i in &infos {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} | {} |",
            i.code,
            anchor(i.code),
            i.severity.as_str(),
            i.summary().replace('|', "\\|"),
            corpus.get(i.code).copied().unwrap_or(0)
        );
    }
    for (code, sev, what) in FRAMEWORK_CODES.iter().chain(LOAD_WARNINGS) {
        let _ = writeln!(
            out,
            "| `{code}` | {} | {what} | {} |",
            sev.as_str(),
            corpus.get(*code).copied().unwrap_or(0)
        );
    }
    for i in &infos {
        let _ = writeln!(out, "\n## `{}`\n", i.code);
        let _ = writeln!(out, "Default severity: {}.\n", i.severity.as_str());
        // Demote the doc's own `##` headings under the check's heading.
        for line in i.doc.lines() {
            if let Some(rest) = line.strip_prefix("## ") {
                let _ = writeln!(out, "### {rest}");
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// GitHub's heading anchor for `## \`code\``.
fn anchor(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_check_with_its_count() {
        let counts =
            parse_counts("# c\npromql/rate-gt-zero 7\n\nalert/required-labels 2 # reviewed\n");
        assert_eq!(counts.get("promql/rate-gt-zero"), Some(&7));
        let md = render(&counts);
        assert!(md.contains("| [`promql/rate-gt-zero`](#promqlrate-gt-zero) | warning |"));
        assert!(md.contains("| 7 |"));
        assert!(md.contains("## `alert/value-in-labels`"));
        assert!(md.contains("### Why it matters"));
    }
}
