//! Reading typed fields out of the YAML tree for the Alertmanager config, with a diagnostic at the user's key
//! or value whenever something does not fit. Strict like Alertmanager (`yaml.UnmarshalStrict`): an unknown key
//! is an error.

use crate::diag::Diagnostic;
use crate::load::duration::parse_duration;
use crate::load::yaml::{Node, Pos};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A value that must never be printed: passwords, tokens, API URLs with keys in them. Debug and Display show
/// `<secret>` as Alertmanager itself does; only [`Secret::expose`] gives the text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// Collects diagnostics while reading one file.
pub struct Reader {
    pub file: Arc<str>,
    pub diags: Vec<Diagnostic>,
}

impl Reader {
    pub fn new(file: &Arc<str>) -> Self {
        Reader {
            file: file.clone(),
            diags: Vec::new(),
        }
    }

    pub fn error(&mut self, code: &'static str, msg: impl Into<String>, pos: Pos) {
        self.diags
            .push(Diagnostic::error(code, msg).at(&self.file, pos));
    }

    pub fn error_help(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        pos: Pos,
        help: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, msg).at(&self.file, pos).help(help));
    }

    pub fn has_errors(&self) -> bool {
        self.diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    }

    /// The entries of a mapping; reports unknown keys (those not in `allowed`). `None` for a non-mapping
    /// (reported) or null (not reported: an empty section).
    pub fn map<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&str],
        what: &str,
    ) -> Option<&'n [(Node, Node)]> {
        if node.is_null() {
            return None;
        }
        let Some(entries) = node.as_map() else {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be a mapping, not {}", node.kind_name()),
                node.pos,
            );
            return None;
        };
        for (k, _) in entries {
            let key = k.as_str().unwrap_or("");
            if !allowed.contains(&key) {
                self.unknown_field(k, key, what, allowed);
            }
        }
        Some(entries)
    }

    pub fn unknown_field(&mut self, k: &Node, key: &str, what: &str, allowed: &[&str]) {
        let d = Diagnostic::error(
            "alertmanager/unknown-field",
            format!("field {key} not found in {what}"),
        )
        .at(&self.file, k.pos);
        let d = match (what, key) {
            ("email_configs", "subject" | "body") => d.help(
                "Alertmanager puts the email subject in `headers: {Subject: ...}` and the body in `text` or `html`",
            ),
            _ => match crate::load::fields::closest(key, allowed) {
                Some(near) => d.help(format!("did you mean `{near}`?")),
                None => d,
            },
        };
        self.diags.push(d);
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        if node.is_null() {
            return Some(String::new());
        }
        match node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(
                    "alertmanager/bad-type",
                    format!("{what} must be a string, not {}", node.kind_name()),
                    node.pos,
                );
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        if node.is_null() {
            return Some(false);
        }
        let b = node.as_bool();
        if b.is_none() {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be true or false"),
                node.pos,
            );
        }
        b
    }

    pub fn int(&mut self, node: &Node, what: &str) -> Option<i64> {
        let v = node.as_i64();
        if v.is_none() {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be an integer"),
                node.pos,
            );
        }
        v
    }

    /// A Prometheus duration, in milliseconds.
    pub fn duration(&mut self, node: &Node, what: &str) -> Option<i64> {
        let s = self.string(node, what)?;
        match parse_duration(&s) {
            Ok(ms) => Some(ms),
            Err(e) => {
                self.error("alertmanager/bad-duration", e, node.pos);
                None
            }
        }
    }

    pub fn string_list(&mut self, node: &Node, what: &str) -> Vec<(String, Pos)> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(items) = node.as_seq() else {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be a list, not {}", node.kind_name()),
                node.pos,
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|i| self.string(i, what).map(|s| (s, i.pos)))
            .collect()
    }

    pub fn string_map(&mut self, node: &Node, what: &str) -> Vec<(String, String, Pos)> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(entries) = node.as_map() else {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be a mapping, not {}", node.kind_name()),
                node.pos,
            );
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| {
                let key = k.as_str()?.to_string();
                let val = self.string(v, what)?;
                Some((key, val, k.pos))
            })
            .collect()
    }

    /// The items of a list of mappings.
    pub fn seq<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        if node.is_null() {
            return &[];
        }
        match node.as_seq() {
            Some(s) => s,
            None => {
                self.error(
                    "alertmanager/bad-type",
                    format!("{what} must be a list, not {}", node.kind_name()),
                    node.pos,
                );
                &[]
            }
        }
    }
}

/// A string-keyed view of a mapping's entries.
pub fn entries_by_key(entries: &[(Node, Node)]) -> BTreeMap<&str, (&Node, &Node)> {
    entries
        .iter()
        .filter_map(|(k, v)| k.as_str().map(|s| (s, (k, v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<secret> <secret>");
        assert_eq!(s.expose(), "hunter2");
    }
}
