//! Reading typed fields out of the YAML tree with diagnostics at the right position: unknown keys (with a
//! "did you mean"), wrong types, durations. Shared by the rule-file and test-file loaders, each with its own
//! diagnostic codes.

use crate::diag::Diagnostic;
use crate::text::duration::parse_duration;
use crate::text::yaml::{Node, Pos, Value};
use std::sync::Arc;

/// A value with the position it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

/// The diagnostic codes a loader reports its structural problems under.
pub struct Codes {
    pub unknown_field: &'static str,
    pub wrong_type: &'static str,
    pub bad_duration: &'static str,
}

pub struct Fields {
    pub file: Arc<str>,
    pub diags: Vec<Diagnostic>,
    /// Put before every message (`PrometheusRule monitoring/x: `), or empty.
    pub prefix: String,
    pub codes: &'static Codes,
    /// The file's text, where positions inside a value are checked against it.
    pub source: Option<Arc<str>>,
}

impl Fields {
    pub fn new(file: Arc<str>, prefix: String, codes: &'static Codes) -> Fields {
        Fields {
            file,
            diags: Vec::new(),
            prefix,
            codes,
            source: None,
        }
    }

    pub fn error(&mut self, code: &'static str, pos: Pos, msg: impl AsRef<str>) {
        self.diags.push(
            Diagnostic::error(code, format!("{}{}", self.prefix, msg.as_ref())).at(&self.file, pos),
        );
    }

    pub fn error_help(
        &mut self,
        code: &'static str,
        pos: Pos,
        msg: impl AsRef<str>,
        help: impl Into<String>,
    ) {
        self.diags.push(
            Diagnostic::error(code, format!("{}{}", self.prefix, msg.as_ref()))
                .at(&self.file, pos)
                .help(help),
        );
    }

    /// Reports every key of the mapping `node` that is not in `allowed`. Returns false (after reporting)
    /// when `node` is not a mapping.
    pub fn known_fields(&mut self, node: &Node, allowed: &[&str], what: &str) -> bool {
        let Some(entries) = node.as_map() else {
            self.error(
                self.codes.wrong_type,
                node.pos,
                format!("a {what} must be a mapping, found {}", node.kind_name()),
            );
            return false;
        };
        for (k, _) in entries {
            let Some(name) = k.as_str() else {
                self.error(
                    self.codes.unknown_field,
                    k.pos,
                    format!("{what} keys must be strings"),
                );
                continue;
            };
            if !allowed.contains(&name) {
                let help = match closest(name, allowed) {
                    Some(c) => format!(
                        "did you mean `{c}`? A {what} has the fields {}",
                        allowed.join(", ")
                    ),
                    None => format!("a {what} has the fields {}", allowed.join(", ")),
                };
                self.error_help(
                    self.codes.unknown_field,
                    k.pos,
                    format!("field {name} not found in {what}"),
                    help,
                );
            }
        }
        true
    }

    /// A list (null reads as empty).
    pub fn seq<'a>(&mut self, node: &'a Node, what: &str) -> Option<&'a [Node]> {
        match &node.value {
            Value::Seq(s) => Some(s),
            Value::Null => Some(&[]),
            _ => {
                self.error(
                    self.codes.wrong_type,
                    node.pos,
                    format!("`{what}` must be a list, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    /// An optional list: absent, null or wrong reads as empty (wrong is reported).
    pub fn seq_opt<'a>(&mut self, node: Option<&'a Node>, what: &str) -> &'a [Node] {
        node.and_then(|n| self.seq(n, what)).unwrap_or(&[])
    }

    /// Any scalar as its text (null reads as "").
    pub fn string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar(s) => Some(Spanned {
                value: s.text.clone(),
                pos: node.pos,
            }),
            Value::Null => Some(Spanned {
                value: String::new(),
                pos: node.pos,
            }),
            _ => {
                self.error(
                    self.codes.wrong_type,
                    node.pos,
                    format!("`{what}` must be a string, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    /// A Prometheus duration, in milliseconds.
    pub fn duration(&mut self, node: &Node, what: &str) -> Option<Spanned<i64>> {
        let s = self.string(node, what)?;
        match parse_duration(&s.value) {
            Ok(ms) => Some(Spanned {
                value: ms,
                pos: s.pos,
            }),
            Err(e) => {
                self.error_help(
                    self.codes.bad_duration,
                    node.pos,
                    format!("`{what}`: {e}"),
                    "write a Prometheus duration such as 30s, 5m, 1h30m or 0 (units y w d h m s ms, largest first)",
                );
                None
            }
        }
    }

    /// A mapping of strings to strings (null reads as empty).
    pub fn string_map(
        &mut self,
        node: &Node,
        what: &str,
    ) -> Vec<(Spanned<String>, Spanned<String>)> {
        let mut out = Vec::new();
        match &node.value {
            Value::Null => {}
            Value::Map(entries) => {
                for (k, v) in entries {
                    let (Some(k), Some(v)) = (self.string(k, what), self.string(v, what)) else {
                        continue;
                    };
                    out.push((k, v));
                }
            }
            _ => self.error(
                self.codes.wrong_type,
                node.pos,
                format!("`{what}` must be a mapping, found {}", node.kind_name()),
            ),
        }
        out
    }
}

/// The allowed name nearest to `name` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance between two names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(
            closest("lables", &["labels", "annotations"]),
            Some("labels")
        );
        assert_eq!(
            closest("input_serie", &["input_series", "name"]),
            Some("input_series")
        );
        assert_eq!(closest("zzz", &["labels"]), None);
    }
}
