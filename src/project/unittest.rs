//! `test` as a library function: the rule unit tests under the paths (promtool's format; PrometheusRule
//! objects accepted as rule files), run, with a verdict per test group, what each file's reading found, and,
//! on request, which rules the tests reach. The result is a [`Tested`]; `report::unittest` renders it.

use crate::diag::{Diagnostic, Severity};
use crate::load::documents::{self, Kind, SourceFile};
use crate::rules::coverage::RuleCoverage;
use crate::rules::group::Mode;
use crate::rules::unittest::{self, FileResult};
use std::path::PathBuf;

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only the test groups whose name matches one of these (all, when empty).
    pub run: Vec<regex::Regex>,
    /// Every rule at every tick instead of range-natively (for cross-checking).
    pub per_tick: bool,
    /// Accept fields a test file or its rule files do not know, as promtool's --ignore-unknown-fields does.
    pub ignore_unknown_fields: bool,
    /// Measure which rules the tests reach.
    pub coverage: bool,
    /// Fewer rules covered than this percentage is a failure (implies `coverage`).
    pub coverage_min: Option<f64>,
}

/// Which rules the tests reach.
pub struct Coverage {
    pub rules: Vec<RuleCoverage>,
    /// Percentage of the rules covered.
    pub percent: f64,
    pub min: Option<f64>,
    pub below_min: bool,
}

/// What running the tests found.
pub struct Tested {
    /// Per file given: its test groups' verdicts, or why it could not run (a file holding no test says so).
    pub files: Vec<FileResult>,
    /// The files' text, for code frames.
    pub sources: Vec<SourceFile>,
    /// Test groups that passed.
    pub passed: usize,
    /// Test groups that failed, and files whose reading found errors.
    pub failed: usize,
    pub coverage: Option<Coverage>,
}

impl Tested {
    /// Everything passed (and coverage, if asked for a minimum, reached it).
    pub fn ok(&self) -> bool {
        self.failed == 0 && !self.coverage.as_ref().is_some_and(|c| c.below_min)
    }
}

/// Runs the tests under `paths`.
pub fn run(paths: &[PathBuf], opts: &Options) -> Result<Tested, documents::LoadError> {
    let loaded = documents::load_paths(paths)?;
    let coverage = opts.coverage || opts.coverage_min.is_some();
    let run_opts = unittest::Options {
        run: opts.run.clone(),
        mode: if opts.per_tick {
            Mode::PerTick
        } else {
            Mode::Auto
        },
        ignore_unknown_fields: opts.ignore_unknown_fields,
        coverage,
    };
    let mut files = unittest::run_loaded(&loaded, &run_opts);
    // Files given that hold no test: say so rather than pass silently.
    for f in &loaded.files {
        if !loaded.items_of(Kind::TestFile).any(|i| i.file == f.path) {
            let mut ds: Vec<Diagnostic> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.location.as_ref().is_some_and(|l| l.file == f.path))
                .cloned()
                .collect();
            if ds.is_empty() {
                ds.push(
                    Diagnostic::error("test/not-a-test-file", "no rule unit test in this file")
                        .at(&f.path, crate::text::yaml::Pos::new(1, 1))
                        .help("a test file has `rule_files:` and `tests:`, or `alertmanager_config:` and `routes_test:`"),
                );
            }
            files.push(FileResult {
                file: f.path.to_string(),
                diagnostics: ds,
                groups: Vec::new(),
                coverage: Vec::new(),
            });
        }
    }
    let groups = || files.iter().flat_map(|f| &f.groups);
    let passed = groups().filter(|g| g.passed()).count();
    let failed_groups = groups().filter(|g| !g.passed()).count();
    let failed_files = files
        .iter()
        .filter(|f| f.diagnostics.iter().any(|d| d.severity == Severity::Error))
        .count();
    let coverage = coverage.then(|| {
        let rules =
            crate::rules::coverage::merge(files.iter().flat_map(|f| f.coverage.iter().cloned()));
        let percent = crate::rules::coverage::percent(&rules);
        Coverage {
            below_min: opts.coverage_min.is_some_and(|min| percent < min),
            min: opts.coverage_min,
            rules,
            percent,
        }
    });
    Ok(Tested {
        files,
        sources: loaded.files,
        passed,
        failed: failed_groups + failed_files,
        coverage,
    })
}
