//! `check` as a library function: validate a [`Project`] as Prometheus and Alertmanager would, run the
//! lints and the rule unit tests it holds, and give every problem found with file:line.
//!
//! ```no_run
//! let project = ruletest::project::Project::load(&["rules/".into()])?;
//! let checked = ruletest::project::check::run(&project, &Default::default());
//! for d in &checked.diagnostics {
//!     println!("{} {}", d.code, d.message);
//! }
//! # Ok::<(), ruletest::project::LoadError>(())
//! ```

use super::{Project, Summary};
use crate::diag::{Diagnostic, Severity};
use crate::series::Store;
use std::collections::HashMap;
use std::path::PathBuf;

/// How to check.
#[derive(Default)]
pub struct Options<'a> {
    /// Lint settings; without it, `.ruletest.yaml` in the first checked directory that has one.
    pub config_file: Option<PathBuf>,
    /// Fixture series the lints may learn from (the bucket bounds of classic histograms).
    pub series: Option<&'a Store>,
}

/// What checking found.
pub struct Checked {
    /// Every problem, the project's own and the lints' and the unit tests', sorted by place.
    pub diagnostics: Vec<Diagnostic>,
    /// The project's counts, with the errors and warnings found.
    pub summary: Summary,
}

impl Checked {
    /// Whether anything at `threshold` or above was found.
    pub fn has(&self, threshold: Severity) -> bool {
        self.diagnostics.iter().any(|d| d.severity >= threshold)
    }

    /// The errors found.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

/// Checks `project`: its reading problems, the lints over the rule files that read without errors, and its
/// rule unit tests (a failing group is an error at the group's line).
pub fn run(project: &Project, opts: &Options<'_>) -> Checked {
    let mut diagnostics = project.diagnostics.clone();
    let (mut lint_config, config_diags) = crate::lint::LintConfig::discover(
        &project.paths,
        opts.config_file.as_deref(),
        &crate::lint::catalogue::known_codes(),
    );
    diagnostics.extend(config_diags);
    lint_config.bucket_bounds = bucket_bounds(project, opts.series);
    let lints = crate::lint::run_on_valid(
        &project.rule_files,
        &project.loaded,
        &project.alertmanager,
        &lint_config,
        &diagnostics,
    );
    diagnostics.extend(lints);
    diagnostics.extend(run_tests(project));
    diagnostics.sort_by(|a, b| a.location.cmp(&b.location).then(a.code.cmp(b.code)));
    let count = |s: Severity| diagnostics.iter().filter(|d| d.severity == s).count();
    let summary = Summary {
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        ..project.summary.clone()
    };
    Checked {
        diagnostics,
        summary,
    }
}

/// The highest finite `le` per `_bucket` metric in the fixtures and in the input series of the test files.
fn bucket_bounds(project: &Project, series: Option<&Store>) -> HashMap<String, f64> {
    let mut out: HashMap<String, f64> = HashMap::new();
    let mut note = |labels: &crate::series::Labels| {
        let (Some(name), Some(le)) = (labels.name(), labels.get("le")) else {
            return;
        };
        let Ok(le) = le.parse::<f64>() else { return };
        if name.ends_with("_bucket") && le.is_finite() {
            let e = out.entry(name.to_string()).or_insert(le);
            *e = e.max(le);
        }
    };
    for s in series.into_iter().flat_map(Store::iter) {
        note(&s.labels);
    }
    for (tf, _) in &project.test_files {
        for g in &tf.tests {
            for s in &g.input_series {
                if let Ok(l) = crate::series::notation::parse_series_descriptor(&s.series.value) {
                    note(&l);
                }
            }
        }
    }
    out
}

/// The project's rule unit tests; a failing group is an error at the group's line.
fn run_tests(project: &Project) -> Vec<Diagnostic> {
    let opts = crate::rules::unittest::Options {
        run: Vec::new(),
        mode: crate::rules::group::Mode::Auto,
        ignore_unknown_fields: false,
        coverage: false,
    };
    let mut out = Vec::new();
    for (tf, diags) in &project.test_files {
        let f = crate::rules::unittest::run_parsed(tf, diags, &opts, &|p| project.read_file(p));
        out.extend(f.diagnostics.iter().cloned());
        let file: std::sync::Arc<str> = std::sync::Arc::from(f.file.as_str());
        for g in f.groups.iter().filter(|g| !g.passed()) {
            out.push(
                Diagnostic::error(
                    "test/failed",
                    format!(
                        "rule unit test {:?} failed ({} failing check(s))",
                        g.name,
                        g.failures.len()
                    ),
                )
                .at(&file, crate::text::yaml::Pos::new(g.line, 3))
                .help(format!("`ruletest test {}` shows the differences", f.file)),
            );
        }
    }
    out
}
