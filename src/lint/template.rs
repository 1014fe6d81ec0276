//! What alert templates (labels and annotations, Go text/template) refer to: `$labels.X`, `.Labels.X`,
//! `index $labels "X"`, and `$value` / `.Value`. A textual scan, enough for the references people write.

use regex::Regex;
use std::sync::LazyLock;

static LABEL_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)|index\s+(?:\$labels|\.Labels)\s+"([A-Za-z_][A-Za-z0-9_]*)""#)
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

static VALUE_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$value\b|\.Value\b").unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// `{{ $value }}%`, `{{ .Value }} %`, `{{ $value | printf "%.1f" }}%`, `{{ printf "%.2f" $value }}%`: the
/// value printed as-is and followed by a percent sign.
static VALUE_AS_PERCENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\{\{-?\s*(?:(?:\$value|\.Value)(?:\s*\|\s*(?:printf\s+"[^"]*"|humanize))?|(?:printf\s+"[^"]*"|humanize)\s+(?:\$value|\.Value))\s*-?\}\}\s*%"#)
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// A label referred to, and where in the template text (byte offset) the reference starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRef {
    pub label: String,
    pub text: String,
    pub offset: usize,
}

/// Labels a template refers to, in order.
pub fn label_refs(template: &str) -> Vec<LabelRef> {
    LABEL_REF
        .captures_iter(template)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let label = c.get(1).or_else(|| c.get(2))?;
            Some(LabelRef {
                label: label.as_str().to_string(),
                text: whole.as_str().to_string(),
                offset: whole.start(),
            })
        })
        .collect()
}

/// The first `$value` / `.Value` in the template, and where it starts (byte offset).
pub fn value_ref(template: &str) -> Option<(usize, &str)> {
    VALUE_REF.find(template).map(|m| (m.start(), m.as_str()))
}

/// The first `{{ $value }}%` in the template.
pub fn value_as_percent(template: &str) -> Option<(usize, &str)> {
    VALUE_AS_PERCENT
        .find(template)
        .map(|m| (m.start(), m.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_label_references() {
        let refs = label_refs(
            r#"{{ $labels.pod }} in {{ .Labels.namespace }} / {{ index $labels "job" }}"#,
        );
        let names: Vec<_> = refs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(names, vec!["pod", "namespace", "job"]);
        assert_eq!(refs[0].text, "$labels.pod");
    }

    #[test]
    fn finds_value_printed_as_percent() {
        assert!(value_as_percent("当前: {{ $value }}%").is_some());
        assert!(value_as_percent(r#"{{ $value | printf "%.2f" }} %"#).is_some());
        assert!(value_as_percent(r#"{{ printf "%.1f" $value }}%"#).is_some());
        assert!(value_as_percent("{{ $value | humanizePercentage }}").is_none());
        assert!(value_as_percent("{{ $value | humanize }}%").is_some());
        assert!(value_as_percent("{{ humanize $value }} %").is_some());
        assert!(value_as_percent("{{ $value | humanizePercentage }}%").is_none());
        assert!(value_as_percent("{{ $value }}s").is_none());
        assert_eq!(value_ref("x {{ .Value }}"), Some((5, ".Value")));
        assert_eq!(value_ref("{{ $labels.value }}"), None);
    }
}
