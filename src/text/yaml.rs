//! YAML with spans: the one place that reads YAML text.
//!
//! Every loader (rule files, PrometheusRule objects, ConfigMaps, Alertmanager configs, test files) works on the
//! [`Node`] tree built here, so that every item it produces knows the file, line and column it came from.
//! The tree is built from serde-saphyr's event parser (`granit_parser`) rather than through serde so that
//! scalars keep their exact source text (`yes`, `0755`, `1e3` stay what the user wrote, as Go's YAML decoders
//! hand them to a string field) and comments are kept for `# ruletest: ignore` suppressions.

use serde_saphyr::granit_parser::{Event, Options, Parser, ScalarStyle, ScanError};
use std::collections::HashMap;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

/// How a scalar was written: it matters for type resolution (a quoted `"10"` is a string in every schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    /// `|` literal block: its content starts on the next line.
    Literal,
    /// `>` folded block.
    Folded,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// Explicit tag suffix, e.g. `str` for `!!str`.
    pub tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// One YAML document of a (possibly multi-document) stream.
#[derive(Clone, Debug)]
pub struct Document {
    pub root: Node,
    /// Index of the document in its stream (0-based).
    pub index: usize,
}

/// A comment and the line it stands on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub pos: Pos,
    pub text: String,
}

/// A parsed stream: its documents and every comment in it.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub documents: Vec<Document>,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// Deepest nesting accepted; deeper input is refused instead of exhausting the stack.
const MAX_DEPTH: usize = 256;
/// Most nodes an alias expansion may produce in one document (alias bombs).
const MAX_ALIAS_NODES: usize = 1_000_000;

/// Parses a YAML stream. `origin` shifts every position: use it for YAML embedded in another file's
/// block scalar (line and column of the embedded text's first character).
pub fn parse_stream(src: &str) -> Result<Stream, YamlError> {
    parse_stream_at(src, Pos::new(1, 1))
}

pub fn parse_stream_at(src: &str, origin: Pos) -> Result<Stream, YamlError> {
    let mut b = Builder {
        origin,
        stack: Vec::new(),
        anchors: HashMap::new(),
        stream: Stream::default(),
        alias_nodes: 0,
    };
    let mut options = Options::default();
    options.set_emit_comments(true);
    let mut parser = Parser::new_from_str_with_options(src, options);
    while let Some(ev) = parser.next_event() {
        match ev {
            Ok((event, span)) => {
                let pos = b.shift(span.start.line(), span.start.col());
                b.event(event, pos)?;
            }
            Err(e) => return Err(scan_error(&b, &e)),
        }
    }
    Ok(b.stream)
}

fn scan_error(b: &Builder, e: &ScanError) -> YamlError {
    let m = e.marker();
    YamlError {
        pos: b.shift(m.line(), m.col()),
        message: e.info().to_string(),
    }
}

enum Frame {
    Seq(Vec<Node>, Pos, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Pos, usize),
}

struct Builder {
    origin: Pos,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    stream: Stream,
    alias_nodes: usize,
}

impl Builder {
    fn shift(&self, line: usize, col0: usize) -> Pos {
        let line = line.max(1) as u32;
        if line == 1 {
            Pos::new(self.origin.line, self.origin.col + col0 as u32)
        } else {
            Pos::new(
                self.origin.line + line - 1,
                col0 as u32 + 1 + (self.origin.col - 1),
            )
        }
    }

    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<(), YamlError> {
        match event {
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(..)
            | Event::Anchor(..) => Ok(()),
            Event::DocumentEnd => Ok(()),
            Event::Comment(text, _) => {
                self.stream.comments.push(Comment {
                    pos,
                    text: text.trim().to_string(),
                });
                Ok(())
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    pos,
                    message: "unknown alias".into(),
                })?;
                self.alias_nodes += count_nodes(&node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError {
                        pos,
                        message: "too many nodes produced by aliases".into(),
                    });
                }
                self.push(
                    Node {
                        value: node.value,
                        pos,
                    },
                    0,
                )
            }
            Event::UnresolvedAlias(name) => Err(YamlError {
                pos,
                message: format!("unknown alias *{name}"),
            }),
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let tag = tag.map(|t| t.suffix().to_string());
                let is_null = style == Style::Plain
                    && tag.is_none()
                    && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let value = if is_null {
                    Value::Null
                } else {
                    Value::Scalar(Scalar {
                        text: text.into_owned(),
                        style,
                        tag,
                    })
                };
                self.push(Node { value, pos }, anchor)
            }
            Event::SequenceStart(_, anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        pos,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                self.stack.push(Frame::Seq(Vec::new(), pos, anchor));
                Ok(())
            }
            Event::MappingStart(_, anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(YamlError {
                        pos,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                self.stack.push(Frame::Map(Vec::new(), None, pos, anchor));
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq(items, pos, anchor)) => self.push(
                    Node {
                        value: Value::Seq(items),
                        pos,
                    },
                    anchor,
                ),
                _ => Err(YamlError {
                    pos,
                    message: "unbalanced sequence".into(),
                }),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map(entries, _, pos, anchor)) => {
                    let entries = merge_keys(entries)?;
                    self.push(
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    )
                }
                _ => Err(YamlError {
                    pos,
                    message: "unbalanced mapping".into(),
                }),
            },
            _ => Ok(()),
        }
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            // An empty document (`---` with nothing after it) holds nothing to load.
            None if node.is_null() => Ok(()),
            None => {
                let index = self.stream.documents.len();
                self.stream.documents.push(Document { root: node, index });
                Ok(())
            }
            Some(Frame::Seq(items, _, _)) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map(entries, key, _, _)) => {
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => {
                        if let Some(name) = k.as_str() {
                            if name != "<<" && entries.iter().any(|(e, _)| e.as_str() == Some(name))
                            {
                                return Err(YamlError {
                                    pos: k.pos,
                                    message: format!("duplicate key `{name}` in this mapping"),
                                });
                            }
                        }
                        entries.push((k, node));
                    }
                }
                Ok(())
            }
        }
    }
}

fn count_nodes(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| count_nodes(k) + count_nodes(v))
            .sum(),
        _ => 0,
    }
}

/// Applies YAML merge keys (`<<: *base`): explicit keys win over merged ones.
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    if !entries.iter().any(|(k, _)| k.as_str() == Some("<<")) {
        return Ok(entries);
    }
    let mut out: Vec<(Node, Node)> = Vec::new();
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for (k, v) in entries {
        if k.as_str() == Some("<<") {
            let sources = match v.value {
                Value::Map(m) => vec![m],
                Value::Seq(items) => items
                    .into_iter()
                    .map(|i| match i.value {
                        Value::Map(m) => Ok(m),
                        _ => Err(YamlError {
                            pos: i.pos,
                            message: "merge key `<<` needs mappings".into(),
                        }),
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(YamlError {
                        pos: v.pos,
                        message: "merge key `<<` needs a mapping".into(),
                    })
                }
            };
            for m in sources {
                for (mk, mv) in m {
                    if !merged.iter().any(|(e, _)| e.as_str() == mk.as_str()) {
                        merged.push((mk, mv));
                    }
                }
            }
        } else {
            out.push((k, v));
        }
    }
    for (mk, mv) in merged {
        if !out.iter().any(|(e, _)| e.as_str() == mk.as_str()) {
            out.push((mk, mv));
        }
    }
    Ok(out)
}

impl Node {
    /// The scalar text, for any scalar (quoted or not).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The key node of `key` in a mapping (for pointing at the key rather than the value).
    pub fn key(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k)
    }

    /// A plain scalar read as a YAML 1.1 boolean, as Go's yaml decoders do for bool fields.
    pub fn as_bool(&self) -> Option<bool> {
        let s = self.scalar()?;
        if s.style == Style::Quoted {
            return None;
        }
        match s.text.as_str() {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Some(false),
            _ => None,
        }
    }

    /// A plain scalar read as an integer.
    pub fn as_i64(&self) -> Option<i64> {
        let s = self.scalar()?;
        if s.style == Style::Quoted {
            return None;
        }
        let t = s.text.replace('_', "");
        if let Some(h) = t.strip_prefix("0x") {
            return i64::from_str_radix(h, 16).ok();
        }
        if let Some(o) = t.strip_prefix("0o") {
            return i64::from_str_radix(o, 8).ok();
        }
        t.parse().ok()
    }

    /// A plain scalar read as a float (`.inf`, `.nan` included).
    pub fn as_f64(&self) -> Option<f64> {
        let s = self.scalar()?;
        if s.style == Style::Quoted {
            return None;
        }
        match s.text.as_str() {
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
            t => t.parse().ok().or_else(|| self.as_i64().map(|i| i as f64)),
        }
    }

    /// A short name of the node's kind for error messages ("a mapping", "a list", ...).
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar(_) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Where the content of a block scalar (`|`, `>`) starts in the source; the node's own position otherwise.
    /// Used to place YAML embedded in a ConfigMap value back into the outer file.
    pub fn content_origin(&self) -> Pos {
        match self.scalar() {
            // The parser places a block scalar at its content's first character already.
            Some(s) if matches!(s.style, Style::Literal | Style::Folded) => self.pos,
            Some(s) if s.style == Style::Quoted => Pos::new(self.pos.line, self.pos.col + 1),
            _ => self.pos,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_scalar_text_and_positions() {
        let s = parse_stream("a: yes\nb:\n  c: '30s'\n  d: [x, 0755]\n").unwrap();
        let root = &s.documents[0].root;
        assert_eq!(root.get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(root.get("a").unwrap().as_bool(), Some(true));
        let b = root.get("b").unwrap();
        assert_eq!(b.get("c").unwrap().pos, Pos::new(3, 6));
        let d = b.get("d").unwrap().as_seq().unwrap();
        assert_eq!(d[1].as_str(), Some("0755"));
        assert_eq!(root.key("b").unwrap().pos, Pos::new(2, 1));
    }

    #[test]
    fn multi_document_and_comments() {
        let s = parse_stream("# top\na: 1\n---\nb: 2 # trailing\n---\n").unwrap();
        assert_eq!(s.documents.len(), 2);
        assert_eq!(s.documents[1].root.pos.line, 4);
        assert_eq!(s.comments.len(), 2);
        assert_eq!(s.comments[1].text, "trailing");
        assert_eq!(s.comments[1].pos.line, 4);
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let e = parse_stream("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos::new(3, 1));
        assert!(e.message.contains("duplicate key `a`"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_stream("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        let e = parse_stream("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1);
    }

    #[test]
    fn null_and_empty() {
        assert!(parse_stream("").unwrap().documents.is_empty());
        let s = parse_stream("a:\nb: ~\nc: ''\n").unwrap();
        let r = &s.documents[0].root;
        assert!(r.get("a").unwrap().is_null());
        assert!(r.get("b").unwrap().is_null());
        assert_eq!(r.get("c").unwrap().as_str(), Some(""));
    }

    #[test]
    fn aliases_and_merge_keys() {
        let s = parse_stream("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n").unwrap();
        let o = s.documents[0].root.get("other").unwrap();
        assert_eq!(o.get("x").unwrap().as_str(), Some("1"));
        assert_eq!(o.get("y").unwrap().as_str(), Some("3"));
    }

    #[test]
    fn embedded_block_positions() {
        let src = "data:\n  am.yml: |\n    route:\n      receiver: x\n";
        let s = parse_stream(src).unwrap();
        let v = s.documents[0]
            .root
            .get("data")
            .unwrap()
            .get("am.yml")
            .unwrap();
        let origin = v.content_origin();
        assert_eq!(origin, Pos::new(3, 5));
        let inner = parse_stream_at(v.as_str().unwrap(), origin).unwrap();
        let recv = inner.documents[0]
            .root
            .get("route")
            .unwrap()
            .get("receiver")
            .unwrap();
        assert_eq!(recv.pos, Pos::new(4, 17));
    }
}
