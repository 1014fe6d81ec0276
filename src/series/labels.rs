//! Label sets: a series' identity. Kept sorted by name and shared behind an `Arc` so cloning and
//! comparing are cheap; the evaluator hashes them (or subsets of them) to group and match series.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The reserved label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label pair.
pub type Label = (Arc<str>, Arc<str>);

/// A sorted, immutable label set. Empty values are never stored (Prometheus treats an empty value as
/// an absent label).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Labels(Arc<[Label]>);

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint());
    }
}

/// A small, fast, non-cryptographic hasher (FxHash's mixing step); label hashing is on the hot path of
/// every aggregation and binary operation.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
        self.add(bytes.len() as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
    }
}

/// `BuildHasher` for hash maps keyed by fingerprints or labels.
pub type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Hashes one label pair into `h` with separators so ("ab","c") and ("a","bc") differ.
fn hash_pair(h: &mut FxHasher, name: &str, value: &str) {
    h.write(name.as_bytes());
    h.add(0xff);
    h.write(value.as_bytes());
    h.add(0xfe);
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Arc::from(Vec::new()))
    }

    /// Builds from pairs in any order; later duplicates win; empty values are dropped.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut v: Vec<Label> = Vec::new();
        for (n, val) in pairs {
            let (n, val) = (n.as_ref(), val.as_ref());
            if let Some(pos) = v.iter().position(|(k, _)| &**k == n) {
                v.remove(pos);
            }
            if !val.is_empty() {
                v.push((Arc::from(n), Arc::from(val)));
            }
        }
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Labels(Arc::from(v))
    }

    /// Builds from already sorted, de-duplicated, non-empty pairs.
    fn from_sorted(v: Vec<Label>) -> Self {
        Labels(Arc::from(v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `name`, or None when the label is absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(name))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    /// The value of `name`, or "" when absent (Prometheus's view of a missing label).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The metric name, if any.
    pub fn name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    /// The shared pairs, for callers that want to keep the `Arc<str>`s.
    pub fn pairs(&self) -> &[Label] {
        &self.0
    }

    /// Drops the labels whose names are in `names`.
    pub fn without(&self, names: &[impl AsRef<str>]) -> Labels {
        let v: Vec<Label> = self
            .0
            .iter()
            .filter(|(k, _)| !names.iter().any(|n| n.as_ref() == &**k))
            .cloned()
            .collect();
        Labels::from_sorted(v)
    }

    /// Keeps only the labels whose names are in `names`.
    pub fn keep(&self, names: &[impl AsRef<str>]) -> Labels {
        let v: Vec<Label> = self
            .0
            .iter()
            .filter(|(k, _)| names.iter().any(|n| n.as_ref() == &**k))
            .cloned()
            .collect();
        Labels::from_sorted(v)
    }

    /// Sets `name` to `value`; an empty value removes the label.
    pub fn set(&self, name: &str, value: &str) -> Labels {
        let mut v: Vec<Label> = self.0.to_vec();
        match v.binary_search_by(|(k, _)| (**k).cmp(name)) {
            Ok(i) => {
                if value.is_empty() {
                    v.remove(i);
                } else {
                    v[i].1 = Arc::from(value);
                }
            }
            Err(i) => {
                if !value.is_empty() {
                    v.insert(i, (Arc::from(name), Arc::from(value)));
                }
            }
        }
        Labels::from_sorted(v)
    }

    /// Removes `name`.
    pub fn remove(&self, name: &str) -> Labels {
        if self.get(name).is_none() {
            return self.clone();
        }
        self.set(name, "")
    }

    /// The label set without the metric name.
    pub fn without_name(&self) -> Labels {
        self.remove(METRIC_NAME)
    }

    /// A 64-bit hash of the whole set.
    pub fn fingerprint(&self) -> u64 {
        let mut h = FxHasher::default();
        for (k, v) in self.0.iter() {
            hash_pair(&mut h, k, v);
        }
        h.finish()
    }

    /// Hash of the labels named in `names` only (`on(...)`, `by(...)`).
    pub fn hash_for_labels(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = FxHasher::default();
        for (k, v) in self.0.iter() {
            if names.iter().any(|n| n.as_ref() == &**k) {
                hash_pair(&mut h, k, v);
            }
        }
        h.finish()
    }

    /// Hash of every label except those in `names` and, when `drop_name`, the metric name
    /// (`ignoring(...)`, `without(...)`).
    pub fn hash_without_labels(&self, names: &[impl AsRef<str>], drop_name: bool) -> u64 {
        let mut h = FxHasher::default();
        for (k, v) in self.0.iter() {
            if (drop_name && &**k == METRIC_NAME) || names.iter().any(|n| n.as_ref() == &**k) {
                continue;
            }
            hash_pair(&mut h, k, v);
        }
        h.finish()
    }

    /// A builder seeded with this set.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder { v: self.0.to_vec() }
    }
}

/// Accumulates several edits and sorts once.
#[derive(Clone, Debug, Default)]
pub struct LabelsBuilder {
    v: Vec<Label>,
}

impl LabelsBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.v.retain(|(k, _)| &**k != name);
        if !value.is_empty() {
            self.v.push((Arc::from(name), Arc::from(value)));
        }
        self
    }
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.v.retain(|(k, _)| &**k != name);
        self
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.v.iter().find(|(k, _)| &**k == name).map(|(_, v)| &**v)
    }
    pub fn build(&self) -> Labels {
        let mut v = self.v.clone();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Labels::from_sorted(v)
    }
}

/// Whether `name` can be written bare in PromQL (`[a-zA-Z_][a-zA-Z0-9_]*`, plus `:` for metric names).
pub fn is_legacy_name(name: &str, metric: bool) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || (metric && c == ':') => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (metric && c == ':'))
}

/// Writes `s` as a Go-quoted string (as Prometheus's `strconv.Quote`).
pub fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Labels {
    /// Prometheus form: `metric{a="b", c="d"}`; names that are not valid identifiers are quoted, and a
    /// metric name that is not valid goes inside the braces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        let bare_name = name.filter(|n| is_legacy_name(n, true));
        if let Some(n) = bare_name {
            f.write_str(n)?;
        }
        let rest: Vec<(&str, &str)> = self.iter().filter(|(k, _)| *k != METRIC_NAME).collect();
        let quoted_name = name.filter(|n| !is_legacy_name(n, true));
        if rest.is_empty() && quoted_name.is_none() {
            if bare_name.is_none() {
                f.write_str("{}")?;
            }
            return Ok(());
        }
        f.write_char('{')?;
        let mut first = true;
        if let Some(n) = quoted_name {
            write_quoted(f, n)?;
            first = false;
        }
        for (k, v) in rest {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if is_legacy_name(k, false) {
                f.write_str(k)?;
            } else {
                write_quoted(f, k)?;
            }
            f.write_char('=')?;
            write_quoted(f, v)?;
        }
        f.write_char('}')
    }
}

use std::fmt::Write as _;

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_empty_values_dropped() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", "")]);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![("a", "1"), ("b", "2")]);
        assert_eq!(l.get("c"), None);
        assert_eq!(l.get_or_empty("c"), "");
    }

    #[test]
    fn display_prometheus_form() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "x"), ("a", "q\"")]);
        assert_eq!(l.to_string(), r#"up{a="q\"", job="x"}"#);
        assert_eq!(Labels::empty().to_string(), "{}");
        let l = Labels::from_pairs([("__name__", "metric.name"), ("a.b", "c")]);
        assert_eq!(l.to_string(), r#"{"metric.name", "a.b"="c"}"#);
        assert_eq!(Labels::from_pairs([("__name__", "up")]).to_string(), "up");
    }

    #[test]
    fn builder_ops() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "x"), ("i", "1")]);
        assert_eq!(l.without(&["job"]).to_string(), r#"up{i="1"}"#);
        assert_eq!(l.keep(&["job"]).to_string(), r#"{job="x"}"#);
        assert_eq!(l.set("z", "9").get("z"), Some("9"));
        assert_eq!(l.remove("__name__").name(), None);
        assert_eq!(l.set("job", "").get("job"), None);
    }

    #[test]
    fn subset_hashes() {
        let a = Labels::from_pairs([("__name__", "a"), ("job", "x"), ("i", "1")]);
        let b = Labels::from_pairs([("__name__", "b"), ("job", "x"), ("i", "2")]);
        assert_eq!(a.hash_for_labels(&["job"]), b.hash_for_labels(&["job"]));
        assert_ne!(a.hash_for_labels(&["i"]), b.hash_for_labels(&["i"]));
        assert_eq!(
            a.hash_without_labels(&["i"], true),
            b.hash_without_labels(&["i"], true)
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
