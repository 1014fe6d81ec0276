//! docs/checks.md, generated from the checks' doc comments so it cannot go stale: a test regenerates it and
//! compares (`RULETEST_BLESS=1 cargo test --test lint_cli` rewrites it).

use crate::lint::catalogue::{catalogue, FRAMEWORK_CODES, LOAD_WARNINGS};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The rule sets each check's findings are counted and reviewed on (tests/lint_corpus.rs), in the order of
/// the columns of tests/lint_corpus_expected.txt.
pub const CORPORA: [&str; 3] = [
    "awesome-prometheus-alerts",
    "kube-prometheus",
    "kubernetes-mixin",
];

/// One check's findings on one rule set: how many, and how many of them a reviewer judged real problems.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reviewed {
    pub found: usize,
    pub real: usize,
}

/// Reads `code found/real found/real found/real` lines (one pair per [`CORPORA`] entry; the reviewed counts
/// file); `#` starts a comment. A line that does not read so is an error naming it.
pub fn parse_reviewed(text: &str) -> Result<BTreeMap<String, [Reviewed; 3]>, String> {
    let mut out = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "line {}: expected `code found/real found/real found/real`, found {l:?}",
                i + 1
            )
        };
        let mut parts = l.split_whitespace();
        let code = parts.next().ok_or_else(bad)?;
        let mut row = [Reviewed::default(); 3];
        for r in &mut row {
            let (f, t) = parts
                .next()
                .and_then(|p| p.split_once('/'))
                .ok_or_else(bad)?;
            *r = Reviewed {
                found: f.parse().map_err(|_| bad())?,
                real: t.parse().map_err(|_| bad())?,
            };
            if r.real > r.found {
                return Err(bad());
            }
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        out.insert(code.to_string(), row);
    }
    Ok(out)
}

/// A code's findings on the corpora, `a / b / c`, and its precision over them all.
fn corpus_cells(r: Option<&[Reviewed; 3]>) -> (String, String) {
    let r = r.copied().unwrap_or_default();
    let found: usize = r.iter().map(|x| x.found).sum();
    let real: usize = r.iter().map(|x| x.real).sum();
    let counts = r
        .iter()
        .map(|x| x.found.to_string())
        .collect::<Vec<_>>()
        .join(" / ");
    let precision = (real * 100)
        .checked_div(found)
        .map_or("-".to_string(), |p| format!("{real}/{found} ({p}%)"));
    (counts, precision)
}

/// The Markdown catalogue; `corpus` gives each code's reviewed findings on the [`CORPORA`].
pub fn render(corpus: &BTreeMap<String, [Reviewed; 3]>) -> String {
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
        "Precision, measured: the corpus column counts each check's findings on three real rule sets \
(awesome-prometheus-alerts, 954 alerts; kube-prometheus's manifests, 234 rules; kubernetes-mixin's rendered alerts \
and rules), and the last column how many of them a reviewer judged real problems, a careful SRE's call on each \
(the reasons are comments in tests/lint_corpus_expected.txt). Measured with \
`cargo test --release --test lint_corpus`, which runs `ruletest check --format json` on each and fails when a \
count moves, so a new finding is reviewed before the figure changes. An info states a fact for the rule's author \
to confirm (`promql/rate-gt-zero`): its findings are accurate but none was a problem to fix.\n"
    );
    let _ = writeln!(
        out,
        "| code | default | what it finds | corpus (awesome / kube-prometheus / mixin) | real |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    let infos = catalogue();
    for i in &infos {
        let (counts, precision) = corpus_cells(corpus.get(i.code));
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} | {} | {} |",
            i.code,
            anchor(i.code),
            i.severity.as_str(),
            i.summary().replace('|', "\\|"),
            counts,
            precision
        );
    }
    for (code, sev, what) in FRAMEWORK_CODES.iter().chain(LOAD_WARNINGS) {
        let (counts, precision) = corpus_cells(corpus.get(*code));
        let _ = writeln!(
            out,
            "| `{code}` | {} | {what} | {counts} | {precision} |",
            sev.as_str(),
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
    fn renders_every_check_with_its_reviewed_findings() {
        let counts = parse_reviewed(
            "# c\npromql/rate-gt-zero 7/7 2/1 0/0\n\nalert/required-labels 2/0 0/0 0/0 # reviewed\n",
        )
        .unwrap();
        assert_eq!(
            counts["promql/rate-gt-zero"][1],
            Reviewed { found: 2, real: 1 }
        );
        let md = render(&counts);
        assert!(md.contains("| [`promql/rate-gt-zero`](#promqlrate-gt-zero) | info |"));
        assert!(md.contains("| 7 / 2 / 0 | 8/9 (88%) |"), "{md}");
        assert!(md.contains("| 0 / 0 / 0 | - |"));
        assert!(md.contains("## `alert/value-in-labels`"));
        assert!(md.contains("### Why it matters"));
    }

    #[test]
    fn a_line_that_does_not_read_is_an_error_naming_it() {
        for bad in [
            "promql/rate-gt-zero 7",
            "promql/rate-gt-zero 7/7 0/0",
            "promql/rate-gt-zero 1/2 0/0 0/0",
            "promql/rate-gt-zero x/1 0/0 0/0",
            "promql/rate-gt-zero 1/1 0/0 0/0 9/9",
        ] {
            let e = parse_reviewed(&format!("# ok\n{bad}\n")).unwrap_err();
            assert!(e.starts_with("line 2:"), "{e}");
        }
    }
}
