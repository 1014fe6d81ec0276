//! `.ruletest.yaml`: the project's lint settings, read from the checked directory (or `--config-file`).
//!
//! ```yaml
//! checks:
//!   promql/rate-gt-zero: off        # or error | warning | info
//! required_labels: [severity, team]
//! scrape_interval: 15s
//! ```
//! Unknown keys and unknown check codes are errors with file:line, so a typo never silently disables nothing.

use crate::diag::{Diagnostic, Severity};
use crate::load::rules::closest;
use crate::text::duration::parse_duration;
use crate::text::yaml::{self, Node};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CONFIG_FILE_NAME: &str = ".ruletest.yaml";

const FIELDS: &[&str] = &["checks", "required_labels", "scrape_interval"];

#[derive(Clone, Debug, PartialEq)]
pub struct LintConfig {
    /// Per-code setting: `None` is `off`.
    pub severities: HashMap<String, Option<Severity>>,
    /// Labels every alerting rule must carry (its own or its group's).
    pub required_labels: Vec<String>,
    /// The scrape interval ranges are judged against.
    pub scrape_interval_ms: i64,
    /// Where the settings came from, if from a file.
    pub file: Option<Arc<str>>,
    /// The highest finite `le` of each classic histogram's `_bucket` metric, where known (from the input
    /// series of the unit tests under the checked paths, or `check --series` fixtures).
    pub bucket_bounds: HashMap<String, f64>,
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            severities: HashMap::new(),
            required_labels: vec!["severity".to_string()],
            scrape_interval_ms: 15_000,
            file: None,
            bucket_bounds: HashMap::new(),
        }
    }
}

impl LintConfig {
    /// The severity a check's findings get, or `None` when it is turned off.
    pub fn severity_of(&self, code: &str, default: Severity) -> Option<Severity> {
        match self.severities.get(code) {
            Some(s) => *s,
            None => Some(default),
        }
    }

    /// Whether the user set this code's severity explicitly.
    pub fn overrides(&self, code: &str) -> bool {
        self.severities.contains_key(code)
    }

    /// Parses a `.ruletest.yaml` text; problems come back as diagnostics located in `file`.
    pub fn parse(file: Arc<str>, text: &str, known: &[&str]) -> (LintConfig, Vec<Diagnostic>) {
        let mut cfg = LintConfig {
            file: Some(file.clone()),
            ..LintConfig::default()
        };
        let mut diags = Vec::new();
        let stream = match yaml::parse_stream(text) {
            Ok(s) => s,
            Err(e) => {
                diags.push(
                    Diagnostic::error("lint/config", format!("invalid YAML: {}", e.message))
                        .at(&file, e.pos),
                );
                return (cfg, diags);
            }
        };
        let Some(root) = stream.documents.first().map(|d| &d.root) else {
            return (cfg, diags);
        };
        if root.is_null() {
            return (cfg, diags);
        }
        let Some(entries) = root.as_map() else {
            diags.push(
                Diagnostic::error(
                    "lint/config",
                    format!("expected a mapping, found {}", root.kind_name()),
                )
                .at(&file, root.pos)
                .help("write `checks:`, `required_labels:` and `scrape_interval:` keys"),
            );
            return (cfg, diags);
        };
        for (k, v) in entries {
            match k.as_str() {
                Some("checks") => parse_checks(&file, v, known, &mut cfg, &mut diags),
                Some("required_labels") => match v.as_seq() {
                    Some(items) => {
                        cfg.required_labels = Vec::new();
                        for i in items {
                            match i.as_str() {
                                Some(s) if !s.is_empty() => cfg.required_labels.push(s.to_string()),
                                _ => diags.push(
                                    Diagnostic::error(
                                        "lint/config",
                                        "a required label must be a label name",
                                    )
                                    .at(&file, i.pos),
                                ),
                            }
                        }
                    }
                    None if v.is_null() => cfg.required_labels = Vec::new(),
                    None => diags.push(
                        Diagnostic::error(
                            "lint/config",
                            format!("`required_labels` must be a list, found {}", v.kind_name()),
                        )
                        .at(&file, v.pos)
                        .help("for example `required_labels: [severity, team]`"),
                    ),
                },
                Some("scrape_interval") => match v.as_str().map(parse_duration) {
                    Some(Ok(ms)) if ms > 0 => cfg.scrape_interval_ms = ms,
                    Some(Err(e)) => diags.push(
                        Diagnostic::error("lint/config", format!("`scrape_interval`: {e}"))
                            .at(&file, v.pos)
                            .help("write a Prometheus duration such as 15s or 1m"),
                    ),
                    _ => diags.push(
                        Diagnostic::error(
                            "lint/config",
                            "`scrape_interval` must be a positive duration",
                        )
                        .at(&file, v.pos)
                        .help("write a Prometheus duration such as 15s or 1m"),
                    ),
                },
                other => {
                    let name = other.unwrap_or("?");
                    let help = match closest(name, FIELDS) {
                        Some(c) => {
                            format!("did you mean `{c}`? The keys are {}", FIELDS.join(", "))
                        }
                        None => format!("the keys are {}", FIELDS.join(", ")),
                    };
                    diags.push(
                        Diagnostic::error(
                            "lint/config",
                            format!("unknown key `{name}` in {CONFIG_FILE_NAME}"),
                        )
                        .at(&file, k.pos)
                        .help(help),
                    );
                }
            }
        }
        (cfg, diags)
    }

    /// Reads the settings: `explicit` if given, else `.ruletest.yaml` in the first checked directory (or the
    /// directory of the first checked file) that has one, else the defaults.
    pub fn discover(
        paths: &[PathBuf],
        explicit: Option<&Path>,
        known: &[&str],
    ) -> (LintConfig, Vec<Diagnostic>) {
        let candidate = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => paths
                .iter()
                .map(|p| {
                    if p.is_dir() {
                        p.join(CONFIG_FILE_NAME)
                    } else {
                        p.parent().unwrap_or(Path::new(".")).join(CONFIG_FILE_NAME)
                    }
                })
                .find(|c| c.is_file()),
        };
        let Some(path) = candidate else {
            return (LintConfig::default(), Vec::new());
        };
        let name: Arc<str> = Arc::from(path.display().to_string());
        match std::fs::read_to_string(&path) {
            Ok(text) => LintConfig::parse(name, &text, known),
            Err(e) => (
                LintConfig::default(),
                vec![
                    Diagnostic::error("lint/config", format!("cannot read {name}: {e}"))
                        .help("pass an existing file to --config-file, or remove the option"),
                ],
            ),
        }
    }
}

fn parse_checks(
    file: &Arc<str>,
    v: &Node,
    known: &[&str],
    cfg: &mut LintConfig,
    diags: &mut Vec<Diagnostic>,
) {
    if v.is_null() {
        return;
    }
    let Some(entries) = v.as_map() else {
        diags.push(
            Diagnostic::error(
                "lint/config",
                format!("`checks` must be a mapping, found {}", v.kind_name()),
            )
            .at(file, v.pos)
            .help("for example `checks: {promql/rate-gt-zero: off}`"),
        );
        return;
    };
    for (k, val) in entries {
        let code = k.as_str().unwrap_or("");
        if !known.contains(&code) {
            let help = match closest(code, known) {
                Some(c) => format!("did you mean `{c}`? docs/checks.md lists every code"),
                None => "docs/checks.md lists every code".to_string(),
            };
            diags.push(
                Diagnostic::error("lint/config", format!("unknown check `{code}`"))
                    .at(file, k.pos)
                    .help(help),
            );
            continue;
        }
        // YAML 1.1 readers turn a bare `off` into false; accept both spellings.
        let setting = match val.as_str() {
            Some("off") | Some("false") => Some(None),
            Some(s) => s.parse::<Severity>().ok().map(Some),
            None => None,
        };
        match setting {
            Some(s) => {
                cfg.severities.insert(code.to_string(), s);
            }
            None => diags.push(
                Diagnostic::error(
                    "lint/config",
                    format!("`{code}`: expected off, error, warning or info"),
                )
                .at(file, val.pos),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes these tests name (the catalogue's list is `lint::catalogue::known_codes`).
    const KNOWN: &[&str] = &[
        "promql/rate-gt-zero",
        "alert/required-labels",
        "promql/division-by-zero",
    ];

    #[test]
    fn reads_settings() {
        let (cfg, diags) = LintConfig::parse(
            Arc::from(".ruletest.yaml"),
            "checks:\n  promql/rate-gt-zero: off\n  alert/required-labels: error\nrequired_labels: [severity, team]\nscrape_interval: 30s\n",
            KNOWN,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            cfg.severity_of("promql/rate-gt-zero", Severity::Warning),
            None
        );
        assert_eq!(
            cfg.severity_of("alert/required-labels", Severity::Warning),
            Some(Severity::Error)
        );
        assert_eq!(
            cfg.severity_of("promql/division-by-zero", Severity::Warning),
            Some(Severity::Warning)
        );
        assert_eq!(cfg.required_labels, vec!["severity", "team"]);
        assert_eq!(cfg.scrape_interval_ms, 30_000);
    }

    #[test]
    fn unknown_codes_and_keys_are_errors_with_lines() {
        let (_, diags) = LintConfig::parse(
            Arc::from("c.yaml"),
            "checks:\n  promql/rate-gt-zer: off\n  promql/division-by-zero: loud\nscrape_intervall: 15s\n",
            KNOWN,
        );
        let lines: Vec<(u32, &str)> = diags
            .iter()
            .map(|d| (d.location.as_ref().unwrap().pos.line, d.message.as_str()))
            .collect();
        assert_eq!(lines.len(), 3, "{diags:?}");
        assert_eq!(lines[0], (2, "unknown check `promql/rate-gt-zer`"));
        assert!(diags[0]
            .help
            .as_deref()
            .unwrap()
            .contains("promql/rate-gt-zero"));
        assert_eq!(lines[1].0, 3);
        assert_eq!(lines[2].0, 4);
        assert!(diags.iter().all(|d| d.severity == Severity::Error));
    }
}
