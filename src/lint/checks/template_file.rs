//! `alertmanager/template-file`: a file under the config's `templates:` that does not parse, or a relative
//! pattern that matches no file.

use crate::lint::registry::{Check, ConfigContext, Finding};
use crate::template::TemplateSet;
use crate::text::yaml::Node;
use std::path::Path;

/// ## What it finds
/// A template file matched by the config's `templates:` globs that is not a valid Go template (an unclosed
/// action, an unknown function, an `{{end}}` too many), and a relative pattern that matches no file.
///
/// ## Why it matters
/// Alertmanager parses every template file when it loads its configuration and refuses the whole config if
/// one fails, so a typo in a template file stops the reload. A pattern matching nothing is allowed, but then
/// the `{{ template "..." }}` calls in receivers render an error in every notification instead of the text.
///
/// ## Example
/// ```yaml
/// templates:
/// - templates/*.tmpl      # templates/slack.tmpl: {{ define "slack.title" }}{{ .Status }{{ end }}
/// ```
///
/// ## Fix
/// Correct the template at the line given (run `ruletest routes` or `dry-run --show-text` to see it
/// rendered), or the pattern, relative to the config file's directory as Alertmanager resolves it.
/// Absolute patterns and configs inside ConfigMaps or Secrets name paths on the server, so only the files
/// found here are checked for them.
pub struct TemplateFile;

impl Check for TemplateFile {
    fn code(&self) -> &'static str {
        "alertmanager/template-file"
    }
    fn source(&self) -> &'static str {
        include_str!("template_file.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        let Some(list) = cx.item.root.get("templates").and_then(Node::as_seq) else {
            return;
        };
        let base = Path::new(&*cx.item.file).parent().unwrap_or(Path::new(""));
        for entry in list {
            let Some(pattern) = entry.as_str() else {
                continue;
            };
            let absolute = Path::new(pattern).is_absolute();
            let full = if absolute {
                pattern.to_string()
            } else {
                base.join(pattern).to_string_lossy().into_owned()
            };
            let Ok(paths) = glob::glob(&full) else {
                out.push(Finding::new(
                    entry.pos,
                    format!("`{pattern}` is not a valid glob pattern"),
                    "Alertmanager reads `templates:` entries as file globs (`*`, `?`, `[...]`)",
                ));
                continue;
            };
            let mut matched: Vec<_> = paths.filter_map(Result::ok).collect();
            matched.sort();
            if matched.is_empty() && !absolute && cx.item.origin.is_empty() {
                out.push(Finding::new(
                    entry.pos,
                    format!("`{pattern}` matches no file (looked in {})", base.display()),
                    "patterns are relative to the config file's directory; templates they should load are missing",
                ));
            }
            for path in matched {
                if let Err(e) = TemplateSet::load_files(std::slice::from_ref(&path), 0) {
                    let at = e
                        .position()
                        .map(|(l, c)| format!(":{l}:{c}"))
                        .unwrap_or_default();
                    let mut f = Finding::new(
                        entry.pos,
                        format!(
                            "template file {}{at} does not parse: {e}",
                            path.display()
                        ),
                        "Alertmanager refuses the whole configuration when a template file fails to parse",
                    );
                    f.severity = Some(crate::diag::Severity::Error);
                    out.push(f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/template-file";

    #[test]
    fn broken_template_files_and_empty_patterns_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.tmpl"),
            "{{ define \"x\" }}{{ .Status }}{{ end }}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("bad.tmpl"),
            "{{ define \"y\" }}\n{{ .Status }\n{{ end }}",
        )
        .unwrap();
        let d = dir.path().display();
        let am = format!("route:\n  receiver: a\nreceivers:\n- name: a\ntemplates:\n- '{d}/good.tmpl'\n- '{d}/bad.tmpl'\n- 'missing/*.tmpl'\n- '{d}/none/*.tmpl'\n");
        let found = lint_am(&am, None, CODE);
        // The broken file (line 7) and the relative pattern that matches nothing (line 8); not the good file,
        // and not the absolute pattern (a path on the server).
        assert_eq!(lines(&found), vec![7, 8], "{found:?}");
        assert!(
            found[0].message.contains("bad.tmpl:2:"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].severity, crate::diag::Severity::Error);
        assert!(
            found[1].message.contains("matches no file"),
            "{}",
            found[1].message
        );
    }

    #[test]
    fn configs_without_templates_are_quiet() {
        let am = "route:\n  receiver: a\nreceivers:\n- name: a\n";
        assert!(lint_am(am, None, CODE).is_empty());
    }
}
