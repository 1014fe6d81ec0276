//! The user's project, read once: every document under the paths a command was given (rule files,
//! PrometheusRule objects, ConfigMaps / Secrets / Lists wrapping them, Alertmanager configurations,
//! AlertmanagerConfig objects, rule unit test files), each turned into its typed, span-carrying form a single
//! time. Commands ask for a [`Project`] and hand it to the library function that does their work
//! ([`check::run`], ...); nothing downstream reads or parses a document of the project again.
//!
//! Input: paths. Output: [`Project`] (the documents, their typed forms, what reading them found) or a
//! [`LoadError`] for a path that cannot be read at all (exit status 2).

pub mod capture;
pub mod check;
pub mod dry_run;
pub mod inputs;
pub mod migrate;
pub mod tune;
pub mod unittest;

use crate::alertmanager::config::Config;
use crate::diag::Diagnostic;
use crate::load::documents::{self, Kind, Loaded};
use crate::load::rules::{self, RuleFile, RuleKind};
use crate::load::testfile::TestFile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::load::documents::LoadError;

/// Everything under the paths, read and parsed once.
pub struct Project {
    /// The paths as given (lint settings are found from them).
    pub paths: Vec<PathBuf>,
    /// The documents, the source text of every file (for code frames), and what was skipped.
    pub loaded: Loaded,
    /// Rule files and PrometheusRule objects, in the order found.
    pub rule_files: Vec<RuleFile>,
    /// The typed form of each Alertmanager configuration document of [`Self::loaded`], in order; `None`
    /// where it has errors.
    pub alertmanager: Vec<Option<Config>>,
    /// Rule unit test files, with what reading each found.
    pub test_files: Vec<(TestFile, Vec<Diagnostic>)>,
    /// What reading the documents found: unreadable files, bad YAML, schema errors of rules, Alertmanager
    /// configurations and AlertmanagerConfig objects. (Test files keep their own, beside them.)
    pub diagnostics: Vec<Diagnostic>,
    /// Counts, for summaries.
    pub summary: Summary,
    /// What reading each of [`Self::rule_files`] found (also in [`Self::diagnostics`]).
    rule_diagnostics: Vec<Vec<Diagnostic>>,
    /// The files read, by their canonical path: how a test's `rule_files` finds them.
    canonical: HashMap<PathBuf, Arc<str>>,
}

/// What a project holds, for the summary line and the JSON output of `check`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub groups: usize,
    pub rules: usize,
    pub alerting_rules: usize,
    pub recording_rules: usize,
    pub alertmanager_configs: usize,
    pub receivers: usize,
    pub test_files: usize,
    /// Filled in by [`check::run`].
    pub errors: usize,
    pub warnings: usize,
}

impl Project {
    /// Reads every document under `paths` (files, or directories searched recursively for .yaml/.yml).
    pub fn load(paths: &[PathBuf]) -> Result<Project, LoadError> {
        let loaded = documents::load_paths(paths)?;
        let mut project = Project {
            paths: paths.to_vec(),
            diagnostics: loaded.diagnostics.clone(),
            summary: Summary {
                files: loaded.files.len(),
                ..Summary::default()
            },
            loaded: Loaded::default(),
            rule_files: Vec::new(),
            alertmanager: Vec::new(),
            test_files: Vec::new(),
            rule_diagnostics: Vec::new(),
            canonical: loaded
                .files
                .iter()
                .filter_map(|f| {
                    let c = std::fs::canonicalize(&*f.path).ok()?;
                    Some((c, f.path.clone()))
                })
                .collect(),
        };
        for item in &loaded.items {
            match item.kind {
                Kind::RuleFile | Kind::PrometheusRule => {
                    let (rf, d) = rules::load_rule_file(item);
                    project.diagnostics.extend(d.iter().cloned());
                    project.rule_diagnostics.push(d);
                    let s = &mut project.summary;
                    s.groups += rf.groups.len();
                    for r in rf.groups.iter().flat_map(|g| &g.rules) {
                        s.rules += 1;
                        match r.kind {
                            RuleKind::Alerting => s.alerting_rules += 1,
                            RuleKind::Recording => s.recording_rules += 1,
                        }
                    }
                    project.rule_files.push(rf);
                }
                Kind::Alertmanager => {
                    let (config, receivers, d) = crate::alertmanager::check_config(item);
                    project.summary.alertmanager_configs += 1;
                    project.summary.receivers += receivers;
                    project.diagnostics.extend(d);
                    project.alertmanager.push(config);
                }
                Kind::AlertmanagerConfigCrd => project
                    .diagnostics
                    .extend(crate::alertmanager::crd::check_alone(item)),
                Kind::TestFile => {
                    project.summary.test_files += 1;
                    project
                        .test_files
                        .push(crate::load::testfile::load_test_file(item));
                }
            }
        }
        project.loaded = loaded;
        Ok(project)
    }

    /// The rule file at `path` as this project read it, when it is one of the project's files: a rule unit
    /// test naming it takes it from here instead of reading it again.
    pub fn read_file(&self, path: &Path) -> Option<crate::rules::unittest::ReadFile> {
        let name = self.canonical.get(&std::fs::canonicalize(path).ok()?)?;
        let at_file = |d: &&Diagnostic| d.location.as_ref().is_some_and(|l| l.file == *name);
        Some(crate::rules::unittest::ReadFile {
            unreadable: None,
            diagnostics: self
                .loaded
                .diagnostics
                .iter()
                .filter(at_file)
                .cloned()
                .collect(),
            rule_files: self
                .rule_files
                .iter()
                .zip(&self.rule_diagnostics)
                .filter(|(rf, _)| rf.file == *name)
                .map(|(rf, d)| (rf.clone(), d.clone()))
                .collect(),
        })
    }

    /// The errors among [`Self::diagnostics`].
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
    }
}
