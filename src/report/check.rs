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

impl CheckReport<'_> {
    fn human(&self, style: Style) -> String {
        let mut out = String::new();
        for d in &self.checked.diagnostics {
            out.push_str(&human::render(d, &self.project.loaded.files, &style));
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
