//! What `check` found, in every format it has: human (code frames and a summary line), JSON (documented in
//! docs/output.md), SARIF, GitHub annotations and JUnit.

use super::{github, human, json, junit, pretty, sarif, Format, Report, Style};
use crate::project::check::Checked;
use crate::project::Project;
use serde_json::json;
use std::fmt::Write as _;

/// A check's findings with the project they are about (its text gives the code frames).
pub struct CheckReport<'a> {
    pub project: &'a Project,
    pub checked: &'a Checked,
    /// Also list the documents that were skipped (human output).
    pub verbose: bool,
}

impl Report for CheckReport<'_> {
    fn formats(&self) -> &'static [Format] {
        &[
            Format::Human,
            Format::Json,
            Format::Sarif,
            Format::Github,
            Format::Junit,
        ]
    }

    fn render(&self, format: Format, style: Style) -> Option<String> {
        let (project, checked) = (self.project, self.checked);
        Some(match format {
            Format::Human => self.human(style),
            Format::Json => pretty(&json!({
                "version": 1,
                "summary": checked.summary,
                "diagnostics": checked.diagnostics.iter().map(json::diagnostic).collect::<Vec<_>>(),
                "skipped": project.loaded.skipped.iter().map(|s| json!({
                    "file": s.file.to_string(), "line": s.pos.line, "what": s.what,
                })).collect::<Vec<_>>(),
            })),
            Format::Sarif => pretty(&sarif::render(&checked.diagnostics)),
            Format::Github => github::render(&checked.diagnostics),
            Format::Junit => junit::render(&checked.diagnostics, &project.loaded.files),
            _ => return None,
        })
    }
}

/// Identical findings from this many on are grouped in the human output.
const GROUP_FROM: usize = 3;

impl<'a> CheckReport<'a> {
    fn human(&self, style: Style) -> String {
        let mut out = String::new();
        let diags = &self.checked.diagnostics;
        // The same finding (code, severity, message, fix) in many places, boilerplate copied across rules,
        // is shown once with its code frame, then the other places one per line.
        type Key<'a> = (&'a str, crate::diag::Severity, &'a str, Option<&'a str>);
        let key = |d: &'a crate::diag::Diagnostic| -> Key<'a> {
            (d.code, d.severity, d.message.as_str(), d.help.as_deref())
        };
        let mut count: std::collections::HashMap<Key, usize> = Default::default();
        for d in diags {
            *count.entry(key(d)).or_default() += 1;
        }
        let mut shown: std::collections::HashSet<Key> = Default::default();
        for d in diags {
            let k = key(d);
            let n = count[&k];
            if n < GROUP_FROM {
                out.push_str(&human::render(d, &self.project.loaded.files, &style));
                continue;
            }
            if !shown.insert(k) {
                continue;
            }
            out.push_str(&human::render(d, &self.project.loaded.files, &style));
            let _ = writeln!(out, "  = the same in {} more places:", n - 1);
            for other in diags.iter().filter(|o| key(o) == k).skip(1) {
                if let Some(l) = &other.location {
                    let _ = writeln!(out, "    {}:{}:{}", l.file, l.pos.line, l.pos.col);
                }
            }
        }
        if self.verbose {
            for s in &self.project.loaded.skipped {
                let _ = writeln!(out, "{}:{}: skipped {}", s.file, s.pos.line, s.what);
            }
        }
        let s = &self.checked.summary;
        let _ = writeln!(
            out,
            "checked {} {}: {} {}, {} {} ({} alerting, {} recording), {} Alertmanager {} ({} {}), {} test {}; {} {}, {} {}",
            s.files,
            plural(s.files, "file", "files"),
            s.groups,
            plural(s.groups, "group", "groups"),
            s.rules,
            plural(s.rules, "rule", "rules"),
            s.alerting_rules,
            s.recording_rules,
            s.alertmanager_configs,
            plural(s.alertmanager_configs, "config", "configs"),
            s.receivers,
            plural(s.receivers, "receiver", "receivers"),
            s.test_files,
            plural(s.test_files, "file", "files"),
            s.errors,
            plural(s.errors, "error", "errors"),
            s.warnings,
            plural(s.warnings, "warning", "warnings"),
        );
        out
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}
