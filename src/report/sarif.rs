//! SARIF 2.1.0 output of `check --format sarif`, for code-scanning tools (GitHub code scanning, IDEs):
//! `runs[0].tool.driver.rules` is the lint catalogue, each diagnostic one result with its file, line and column.

use crate::diag::{Diagnostic, Severity};
use crate::lint::catalogue::{catalogue, FRAMEWORK_CODES};
use crate::report::redact::redact_url_credentials;
use serde_json::{json, Value};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The whole SARIF log for one `check` run.
pub fn render(diagnostics: &[Diagnostic]) -> Value {
    let mut rules: Vec<Value> = catalogue()
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "shortDescription": {"text": c.summary()},
                "fullDescription": {"text": c.summary()},
                "help": {"text": c.doc, "markdown": c.doc},
                "defaultConfiguration": {"level": level(c.severity)},
            })
        })
        .collect();
    for (code, sev, what) in FRAMEWORK_CODES {
        rules.push(json!({
            "id": code,
            "shortDescription": {"text": what},
            "defaultConfiguration": {"level": level(*sev)},
        }));
    }
    // Codes of the loaders (yaml/syntax, rule/bad-expr, ...) get a descriptor too, so every ruleId resolves.
    for d in diagnostics {
        let known = rules.iter().any(|r| r["id"] == d.code);
        if !known {
            rules.push(json!({"id": d.code, "shortDescription": {"text": d.code}}));
        }
    }
    let index_of = |code: &str| rules.iter().position(|r| r["id"] == code);
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut text = redact_url_credentials(&d.message);
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let mut r = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": {"text": text},
            });
            if let Some(i) = index_of(d.code) {
                r["ruleIndex"] = json!(i);
            }
            if let Some(l) = &d.location {
                r["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&l.file)},
                        "region": {"startLine": l.pos.line.max(1), "startColumn": l.pos.col.max(1)},
                    }
                }]);
            }
            r
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ruletest",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// A relative URI reference for a path: `/` separators, and the characters a URI cannot hold escaped.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for c in path.replace('\\', "/").chars() {
        match c {
            'A'..='Z'
            | 'a'..='z'
            | '0'..='9'
            | '-'
            | '.'
            | '_'
            | '~'
            | '/'
            | ':'
            | '@'
            | '!'
            | '$'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | ';'
            | '=' => out.push(c),
            _ => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::Pos;
    use std::sync::Arc;

    #[test]
    fn results_point_at_files_and_rules() {
        let file: Arc<str> = Arc::from("rules/my rules.yaml");
        let d = vec![
            Diagnostic::warning("promql/rate-gt-zero", "fires for 10m")
                .at(&file, Pos::new(58, 9))
                .help("use increase"),
            Diagnostic::error("yaml/syntax", "bad"),
        ];
        let v = render(&d);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert!(rules.iter().any(|r| r["id"] == "promql/division-by-zero"));
        let r0 = &run["results"][0];
        assert_eq!(r0["ruleId"], "promql/rate-gt-zero");
        assert_eq!(r0["level"], "warning");
        assert_eq!(
            rules[r0["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "promql/rate-gt-zero"
        );
        let loc = &r0["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "rules/my%20rules.yaml");
        assert_eq!(loc["region"]["startLine"], 58);
        assert_eq!(loc["region"]["startColumn"], 9);
        assert!(r0["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("help: use increase"));
        let r1 = &run["results"][1];
        assert!(r1.get("locations").is_none());
        assert_eq!(
            rules[r1["ruleIndex"].as_u64().unwrap() as usize]["id"],
            "yaml/syntax"
        );
    }
}
