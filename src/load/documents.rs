//! Finding and classifying documents: which YAML documents under the user's paths are rule files,
//! PrometheusRule objects, Alertmanager configurations or rule test files, including those wrapped in
//! Kubernetes `List`s, ConfigMaps and Secrets. Everything else is skipped (and listed with `--verbose`).
//!
//! Input: paths from the command line. Output: [`Loaded`], the documents with their spans, the source text of
//! every file (for code frames), and the diagnostics of what could not be read.

use crate::diag::Diagnostic;
use crate::text::yaml::{self, Comment, Node, Pos};
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a document holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A plain Prometheus rule file (`groups:`).
    RuleFile,
    /// `spec` of a Kubernetes PrometheusRule object (`spec.groups`).
    PrometheusRule,
    /// An alertmanager.yml.
    Alertmanager,
    /// A Prometheus Operator AlertmanagerConfig object (monitoring.coreos.com/v1alpha1).
    AlertmanagerConfigCrd,
    /// A promtool-style rule unit test file (`rule_files:` / `tests:`).
    TestFile,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::RuleFile => "rule file",
            Kind::PrometheusRule => "PrometheusRule",
            Kind::Alertmanager => "Alertmanager config",
            Kind::AlertmanagerConfigCrd => "AlertmanagerConfig",
            Kind::TestFile => "rule test file",
        }
    }
}

/// One recognised document.
#[derive(Clone, Debug)]
pub struct Item {
    pub kind: Kind,
    pub file: Arc<str>,
    /// The node holding the content: the document root for plain files, `spec` for a PrometheusRule, the parsed
    /// value for a ConfigMap entry.
    pub root: Node,
    /// Where it came from, for messages: `PrometheusRule monitoring/chat2sql-rules`, `ConfigMap
    /// alertmanager-config, key alertmanager.yml`, or empty for a plain file.
    pub origin: String,
    /// Position of the document itself (the `kind:` object or the file start).
    pub pos: Pos,
    /// The text of the file it is in (positions inside values are checked against it).
    pub source: Arc<str>,
}

/// A document we do not handle, kept so `--verbose` can list it.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub file: Arc<str>,
    pub pos: Pos,
    pub what: String,
}

/// A file's text, kept for code frames in diagnostics.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: Arc<str>,
    pub text: String,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub files: Vec<SourceFile>,
    pub items: Vec<Item>,
    pub skipped: Vec<Skipped>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn source(&self, path: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| &*f.path == path)
    }

    pub fn items_of(&self, kind: Kind) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.kind == kind)
    }
}

/// An input that cannot be read: a path that does not exist or cannot be read, or a file whose content no
/// reader accepts (a fixture, an incidents list), with where in it the cause is. A usage / I/O error (exit
/// status 2). Problems inside the documents of a project are diagnostics instead, which travel with it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The content is at fault: `path:line:column: message` (line and column when the reader knows them).
    #[error("{}", content_text(path, *line, *column, message))]
    Content {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

impl LoadError {
    /// A reader's message about `path`'s content. Readers write a place as `line 4: ...` or
    /// `line 3, column 1: ...`; that becomes the error's line and column.
    pub fn content(path: &Path, message: &str) -> LoadError {
        let path = path.display().to_string();
        let at = |rest: &str| -> Option<(usize, Option<usize>, usize)> {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let line: usize = rest[..digits].parse().ok()?;
            let after = &rest[digits..];
            if let Some(col) = after.strip_prefix(", column ") {
                let d = col.bytes().take_while(u8::is_ascii_digit).count();
                let column: usize = col[..d].parse().ok()?;
                col[d..]
                    .starts_with(':')
                    .then_some((line, Some(column), digits + 9 + d + 1))
            } else {
                after.starts_with(':').then_some((line, None, digits + 1))
            }
        };
        if let Some(rest) = message.strip_prefix("line ") {
            if let Some((line, column, used)) = at(rest) {
                let tail = &rest[used..];
                return LoadError::Content {
                    path,
                    line: Some(line),
                    column,
                    message: tail.strip_prefix(' ').unwrap_or(tail).to_string(),
                };
            }
        }
        LoadError::Content {
            path,
            line: None,
            column: None,
            message: message.to_string(),
        }
    }

    /// Reading `path` failed: [`LoadError::NotFound`] when it does not exist, else [`LoadError::Io`].
    pub fn io(path: &Path, e: std::io::Error) -> LoadError {
        let path = path.display().to_string();
        match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound { path },
            _ => LoadError::Io { path, source: e },
        }
    }

    /// A problem at a known line of `path`.
    pub fn at_line(path: &Path, line: usize, message: impl Into<String>) -> LoadError {
        LoadError::Content {
            path: path.display().to_string(),
            line: Some(line),
            column: None,
            message: message.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            LoadError::NotFound { path } | LoadError::Io { path, .. } => path,
            LoadError::Content { path, .. } => path,
        }
    }
}

/// `path:line:column: message`, the form every diagnostic uses (editors and CI annotations jump to it).
fn content_text(path: &str, line: Option<usize>, column: Option<usize>, message: &str) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{path}:{l}:{c}: {message}"),
        (Some(l), None) => format!("{path}:{l}: {message}"),
        _ => format!("{path}: {message}"),
    }
}

/// Largest file we read; anything bigger is refused rather than exhausting memory.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Collects the YAML files under `paths` (directories recursively, `.yaml`/`.yml`, sorted; files named
/// explicitly are read whatever their extension).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| LoadError::io(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out).map_err(|e| LoadError::Io {
                path: p.display().to_string(),
                source: e,
            })?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Discovers and loads every document under `paths`.
pub fn load_paths(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let files = discover(paths)?;
    let mut loaded = Loaded::default();
    for f in files {
        load_file(&f, &mut loaded)?;
    }
    Ok(loaded)
}

/// Loads one file's documents into `loaded`. Problems with the content become diagnostics; only a file that
/// cannot be read is an error.
pub fn load_file(path: &Path, loaded: &mut Loaded) -> Result<(), LoadError> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Io {
        path: name.to_string(),
        source: e,
    })?;
    if meta.len() > MAX_FILE_BYTES {
        loaded.diagnostics.push(
            Diagnostic::error(
                "load/too-large",
                format!("file is larger than {} MiB", MAX_FILE_BYTES >> 20),
            )
            .at(&name, Pos::new(1, 1)),
        );
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| LoadError::Io {
        path: name.to_string(),
        source: e,
    })?;
    crate::load::reads::note(crate::load::reads::Read::File);
    load_bytes(name, &bytes, loaded);
    Ok(())
}

/// Loads a file's content (already read) into `loaded`.
pub fn load_bytes(name: Arc<str>, bytes: &[u8], loaded: &mut Loaded) {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t.to_string(),
        _ => {
            loaded.diagnostics.push(
                Diagnostic::error("load/not-text", "not a UTF-8 text file")
                    .at(&name, Pos::new(1, 1))
                    .help("rule files and Alertmanager configs are YAML text; remove this file from the checked paths"),
            );
            loaded.files.push(SourceFile {
                path: name,
                text: String::new(),
                comments: vec![],
            });
            return;
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let stream = match yaml::parse_stream(&text) {
        Ok(s) => s,
        Err(e) => {
            loaded.diagnostics.push(yaml_diag(&name, &e, &text));
            loaded.files.push(SourceFile {
                path: name,
                text,
                comments: vec![],
            });
            return;
        }
    };
    if stream.documents.is_empty() {
        loaded.diagnostics.push(
            Diagnostic::error("load/empty", "file holds no YAML document")
                .at(&name, Pos::new(1, 1))
                .help("an empty file loads as nothing in Prometheus; remove it or add rule groups"),
        );
    }
    let source: Arc<str> = Arc::from(text.as_str());
    // The file goes in first so that comments of YAML embedded in ConfigMaps can join it.
    loaded.files.push(SourceFile {
        path: name.clone(),
        text,
        comments: stream.comments,
    });
    let file = (name, source);
    for doc in &stream.documents {
        classify(&file, &doc.root, String::new(), loaded);
    }
}

fn yaml_diag(name: &Arc<str>, e: &yaml::YamlError, text: &str) -> Diagnostic {
    let mut d =
        Diagnostic::error("yaml/syntax", format!("invalid YAML: {}", e.message)).at(name, e.pos);
    let line = text
        .lines()
        .nth(e.pos.line.saturating_sub(1) as usize)
        .unwrap_or("");
    if line.contains('\t') || e.message.contains("tab") {
        d = d.help("YAML indentation must use spaces, not tabs");
    } else if e.message.contains("duplicate key") {
        d = d.help(
            "remove or rename one of the two keys; Prometheus and Alertmanager reject duplicates",
        );
    }
    d
}

fn str_at<'a>(node: &'a Node, path: &[&str]) -> Option<&'a str> {
    let mut n = node;
    for p in path {
        n = n.get(p)?;
    }
    n.as_str()
}

/// A file: its name and its text.
type FileText = (Arc<str>, Arc<str>);

fn classify(file_text: &FileText, root: &Node, origin: String, loaded: &mut Loaded) {
    let file = &file_text.0;
    let push = |loaded: &mut Loaded, kind: Kind, node: &Node, origin: String| {
        loaded.items.push(Item {
            kind,
            file: file.clone(),
            root: node.clone(),
            origin,
            pos: root.pos,
            source: file_text.1.clone(),
        });
    };
    if root.as_map().is_none() {
        loaded.skipped.push(Skipped {
            file: file.clone(),
            pos: root.pos,
            what: format!("{} (not a mapping)", root.kind_name()),
        });
        return;
    }
    if let Some(kind) = str_at(root, &["kind"]) {
        let api = str_at(root, &["apiVersion"]).unwrap_or("");
        let name = str_at(root, &["metadata", "name"]).unwrap_or("");
        let ns = str_at(root, &["metadata", "namespace"])
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        let what = format!("{kind} {ns}{name}");
        match kind {
            "PrometheusRule" => match root.get("spec") {
                Some(spec) => push(loaded, Kind::PrometheusRule, spec, what),
                None => loaded.diagnostics.push(
                    Diagnostic::error("load/missing-spec", format!("{what} has no `spec`"))
                        .at(file, root.pos)
                        .help("a PrometheusRule holds its rule groups under `spec.groups`"),
                ),
            },
            "AlertmanagerConfig" if api.starts_with("monitoring.coreos.com/") => {
                push(loaded, Kind::AlertmanagerConfigCrd, root, what)
            }
            "ConfigMap" | "Secret" => {
                classify_config_map(file_text, root, kind == "Secret", &what, loaded)
            }
            k if k == "List" || k.ends_with("List") => match root.get("items") {
                Some(items) if items.as_seq().is_some() => {
                    for item in items.as_seq().unwrap_or(&[]) {
                        classify(file_text, item, String::new(), loaded);
                    }
                }
                // kubectl rejects a List whose `items` is not a list; dropping it silently would hide rules.
                Some(items) if !items.is_null() => loaded.diagnostics.push(
                    Diagnostic::error(
                        "load/wrong-type",
                        format!(
                            "{}: `items` must be a list, found {}",
                            what.trim_end(),
                            items.kind_name()
                        ),
                    )
                    .at(file, items.pos)
                    .help("write each object as a list entry under `items:` (`- kind: ...`)"),
                ),
                _ => {}
            },
            _ => loaded.skipped.push(Skipped {
                file: file.clone(),
                pos: root.pos,
                what,
            }),
        }
        return;
    }
    if root.get("groups").is_some() {
        push(loaded, Kind::RuleFile, root, origin);
    } else if root.get("tests").is_some()
        || root.get("rule_files").is_some()
        || root.get("routes_test").is_some()
    {
        push(loaded, Kind::TestFile, root, origin);
    } else if ["route", "receivers", "inhibit_rules", "global"]
        .iter()
        .any(|k| root.get(k).is_some())
    {
        push(loaded, Kind::Alertmanager, root, origin);
    } else {
        let keys: Vec<&str> = root
            .as_map()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .take(5)
            .collect();
        loaded.skipped.push(Skipped {
            file: file.clone(),
            pos: root.pos,
            what: format!("document with keys {}", keys.join(", ")),
        });
    }
}

/// Moves every node of a tree to `at`.
fn pin_positions(node: &mut Node, at: Pos) {
    node.pos = at;
    match &mut node.value {
        yaml::Value::Seq(items) => items.iter_mut().for_each(|n| pin_positions(n, at)),
        yaml::Value::Map(entries) => {
            for (k, v) in entries {
                pin_positions(k, at);
                pin_positions(v, at);
            }
        }
        yaml::Value::Null | yaml::Value::Scalar(_) => {}
    }
}

/// ConfigMap and Secret values that hold a rule file or an alertmanager.yml are parsed in place, so their
/// positions point into the outer file (exactly for block scalars, at the value for base64 `data`).
fn classify_config_map(
    file_text: &FileText,
    root: &Node,
    secret: bool,
    what: &str,
    loaded: &mut Loaded,
) {
    let file = &file_text.0;
    let mut found = false;
    for (section, base64) in [
        ("data", secret),
        ("stringData", false),
        ("binaryData", true),
    ] {
        let Some(entries) = root.get(section).and_then(Node::as_map) else {
            continue;
        };
        for (key, value) in entries {
            let key_name = key.as_str().unwrap_or("");
            if !(key_name.ends_with(".yml")
                || key_name.ends_with(".yaml")
                || key_name.ends_with(".rules"))
            {
                continue;
            }
            let Some(raw) = value.as_str() else { continue };
            // Decoded base64 has no lines in the outer file: everything in it points at the value.
            let (text, origin, pin) = if base64 {
                let cleaned: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
                match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
                    Ok(b) => match String::from_utf8(b) {
                        Ok(t) => (t, Pos::new(1, 1), Some(value.pos)),
                        Err(_) => continue,
                    },
                    Err(e) => {
                        loaded.diagnostics.push(
                            Diagnostic::error(
                                "load/bad-base64",
                                format!("{what}: `{section}.{key_name}` is not valid base64: {e}"),
                            )
                            .at(file, value.pos),
                        );
                        continue;
                    }
                }
            } else {
                (raw.to_string(), value.content_origin(), None)
            };
            let inner = match yaml::parse_stream_at(&text, origin) {
                Ok(mut s) => {
                    if let Some(at) = pin {
                        for d in &mut s.documents {
                            pin_positions(&mut d.root, at);
                        }
                        for c in &mut s.comments {
                            c.pos = at;
                        }
                    }
                    s
                }
                Err(e) => {
                    let (pos, inside) = match pin {
                        Some(at) => (at, format!(" (line {} of the decoded value)", e.pos.line)),
                        None => (e.pos, String::new()),
                    };
                    loaded.diagnostics.push(
                        Diagnostic::error(
                            "yaml/syntax",
                            format!(
                                "invalid YAML in {what}, key {key_name}{inside}: {}",
                                e.message
                            ),
                        )
                        .at(file, pos),
                    );
                    found = true;
                    continue;
                }
            };
            // An inner document we do not recognise is listed as skipped by `classify` itself.
            for doc in inner.documents {
                found = true;
                classify(
                    file_text,
                    &doc.root,
                    format!("{what}, key {key_name}"),
                    loaded,
                );
            }
            if let Some(source) = loaded.files.iter_mut().find(|f| &f.path == file) {
                source.comments.extend(inner.comments);
            }
        }
    }
    if !found {
        loaded.skipped.push(Skipped {
            file: file.clone(),
            pos: root.pos,
            what: what.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Loaded {
        let mut l = Loaded::default();
        load_bytes(Arc::from("t.yaml"), text.as_bytes(), &mut l);
        l
    }

    #[test]
    fn classifies_plain_and_kubernetes_documents() {
        let l = load(
            "groups: []\n---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r, namespace: m}\nspec:\n  groups: []\n---\nkind: Deployment\nmetadata: {name: d}\n---\nroute: {receiver: x}\nreceivers: [{name: x}]\n---\nrule_files: [a.yml]\ntests: []\n",
        );
        let kinds: Vec<Kind> = l.items.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::RuleFile,
                Kind::PrometheusRule,
                Kind::Alertmanager,
                Kind::TestFile
            ]
        );
        assert_eq!(l.items[1].origin, "PrometheusRule m/r");
        assert_eq!(l.skipped.len(), 1);
        assert_eq!(l.skipped[0].what, "Deployment d");
    }

    #[test]
    fn config_map_values_keep_outer_positions() {
        let text = "kind: ConfigMap\nmetadata: {name: am}\ndata:\n  alertmanager.yml: |\n    route:\n      receiver: x\n";
        let l = load(text);
        assert_eq!(l.items.len(), 1);
        let item = &l.items[0];
        assert_eq!(item.kind, Kind::Alertmanager);
        assert_eq!(item.origin, "ConfigMap am, key alertmanager.yml");
        assert_eq!(
            item.root.get("route").unwrap().get("receiver").unwrap().pos,
            Pos::new(6, 17)
        );
    }

    #[test]
    fn secret_base64_and_lists() {
        // base64 of "groups: []\n"
        let text = "kind: List\nitems:\n- kind: Secret\n  metadata: {name: s}\n  data:\n    rules.yaml: Z3JvdXBzOiBbXQo=\n";
        let l = load(text);
        assert_eq!(l.items.len(), 1);
        assert_eq!(l.items[0].kind, Kind::RuleFile);
    }

    #[test]
    fn binary_and_empty_files() {
        let mut l = Loaded::default();
        load_bytes(Arc::from("b.yaml"), &[0xff, 0x00, 0x12], &mut l);
        assert_eq!(l.diagnostics[0].code, "load/not-text");
        let l = load("");
        assert_eq!(l.diagnostics[0].code, "load/empty");
        let l = load("a: [1\n");
        assert_eq!(l.diagnostics[0].code, "yaml/syntax");
        assert_eq!(l.diagnostics[0].location.as_ref().unwrap().pos.line, 1);
    }

    #[test]
    fn a_list_whose_items_is_not_a_list_is_an_error() {
        let l = load("apiVersion: v1\nkind: List\nitems:\n  kind: PrometheusRule\n");
        assert!(l.items.is_empty());
        assert_eq!(l.diagnostics.len(), 1, "{:?}", l.diagnostics);
        let d = &l.diagnostics[0];
        assert_eq!(d.code, "load/wrong-type");
        assert_eq!(d.message, "List: `items` must be a list, found a mapping");
        assert_eq!(d.location.as_ref().unwrap().pos, Pos::new(4, 3));
    }

    #[test]
    fn base64_values_point_at_the_value_not_past_the_file() {
        // data.rules.yaml = "groups:\n- name: g\n  rules: []\n"
        let l = load("kind: Secret\nmetadata: {name: s}\ndata:\n  rules.yaml: Z3JvdXBzOgotIG5hbWU6IGcKICBydWxlczogW10K\n");
        assert_eq!(l.items.len(), 1);
        let at = Pos::new(4, 15);
        let group = &l.items[0].root.get("groups").unwrap().as_seq().unwrap()[0];
        assert_eq!(group.pos, at);
        assert_eq!(group.get("rules").unwrap().pos, at);
        // A syntax error inside says where in the decoded text, and points at the value.
        let l = load("kind: Secret\nmetadata: {name: s}\ndata:\n  rules.yaml: Z3JvdXBzOgogIC0ge25hbWU6Cg==\n");
        assert_eq!(l.diagnostics.len(), 1, "{:?}", l.diagnostics);
        assert_eq!(l.diagnostics[0].location.as_ref().unwrap().pos, at);
        assert!(
            l.diagnostics[0].message.contains("of the decoded value"),
            "{}",
            l.diagnostics[0].message
        );
    }
}
