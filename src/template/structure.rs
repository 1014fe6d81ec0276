//! Block structure checks that Go's parser makes and gotmpl does not.
//!
//! gotmpl stops at a stray `{{end}}` or `{{else}}` and silently drops the rest of the text, and only notices
//! `{{break}}` outside a range at run time. Go's parser rejects all three (`unexpected {{end}}`,
//! `unexpected {{else}}`, `{{break}} outside {{range}}`). We scan the actions of the source for their
//! keyword and keep a stack of open blocks, which is all these checks need.

/// One open block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Block {
    If,
    Range,
    With,
    Define,
}

/// A structural error: Go's message without the `template: NAME:LINE: ` prefix, and the 1-based line and
/// column of the offending action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureError {
    pub message: String,
    pub line: usize,
    pub col: usize,
}

/// Check `src` (delimiters `{{` and `}}`).
pub fn check(src: &str) -> Result<(), StructureError> {
    let mut stack: Vec<Block> = Vec::new();
    for (offset, word) in actions(src) {
        let err = |message: &str| {
            let before = &src[..offset];
            let line = before.matches('\n').count() + 1;
            let col = before
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            StructureError {
                message: message.to_string(),
                line,
                col,
            }
        };
        match word {
            "if" => stack.push(Block::If),
            "range" => stack.push(Block::Range),
            "with" => stack.push(Block::With),
            "define" | "block" => stack.push(Block::Define),
            "else" => match stack.last() {
                Some(Block::If | Block::Range | Block::With) => {}
                _ => return Err(err("unexpected {{else}}")),
            },
            "end" if stack.pop().is_none() => return Err(err("unexpected {{end}}")),
            "break" | "continue" => {
                // A define starts a new template: a range outside it does not count.
                let in_range = stack
                    .iter()
                    .rev()
                    .take_while(|b| **b != Block::Define)
                    .any(|b| *b == Block::Range);
                if !in_range {
                    return Err(err(&format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        // Go's parser reaches the end still inside a block: it reports EOF on the last line.
        let line = src.matches('\n').count() + 1;
        let col = src.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        return Err(StructureError {
            message: "unexpected EOF".into(),
            line,
            col,
        });
    }
    Ok(())
}

/// The first word of the last action that starts before `offset` (for naming the action in messages).
pub fn action_word_before(src: &str, offset: usize) -> Option<&str> {
    actions(src)
        .into_iter()
        .take_while(|(o, _)| *o < offset)
        .last()
        .map(|(_, w)| w)
}

/// The actions of `src` as (byte offset of `{{`, first word), skipping comments and quoted text.
fn actions(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while let Some(rel) = src[i..].find("{{") {
        let start = i + rel;
        let mut j = start + 2;
        // Left trim marker "- " (Go requires the space).
        if src[j..].starts_with("- ") {
            j += 2;
        }
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if src[j..].starts_with("/*") {
            match src[j..].find("*/") {
                Some(e) => {
                    let after = j + e + 2;
                    i = src[after..].find("}}").map_or(b.len(), |k| after + k + 2);
                }
                None => break,
            }
            continue;
        }
        let word_end = src[j..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(src.len(), |k| j + k);
        out.push((start, &src[j..word_end]));
        // Find the closing delimiter outside quotes.
        let mut k = word_end;
        let mut closed = None;
        while k < b.len() {
            match b[k] {
                b'"' | b'\'' => {
                    let q = b[k];
                    k += 1;
                    while k < b.len() && b[k] != q {
                        if b[k] == b'\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    k += 1;
                }
                b'`' => {
                    k += 1;
                    while k < b.len() && b[k] != b'`' {
                        k += 1;
                    }
                    k += 1;
                }
                b'}' if src[k..].starts_with("}}") => {
                    closed = Some(k + 2);
                    break;
                }
                _ => k += 1,
            }
        }
        match closed {
            Some(e) => i = e,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_blocks_pass() {
        assert!(check("{{ if .A }}x{{ else if .B }}y{{ else }}z{{ end }}").is_ok());
        assert!(
            check("{{ range .L }}{{ if . }}{{ break }}{{ end }}{{ continue }}{{ end }}").is_ok()
        );
        assert!(check("{{- define \"x\" -}}{{ with .A }}{{ end }}{{- end }}").is_ok());
        assert!(check("{{ \"}}{{ end }}\" }}{{/* {{ end }} */}}").is_ok());
    }

    #[test]
    fn unclosed_block_is_eof() {
        let e = check("{{ if .A }}\nx").unwrap_err();
        assert_eq!((e.message.as_str(), e.line), ("unexpected EOF", 2));
        assert_eq!(action_word_before("{{ range }}", 5), Some("range"));
    }

    #[test]
    fn stray_keywords_fail_like_go() {
        let e = check("a\n b{{ end }}c").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.line, e.col),
            ("unexpected {{end}}", 2, 3)
        );
        assert_eq!(
            check("{{ else }}").unwrap_err().message,
            "unexpected {{else}}"
        );
        assert_eq!(
            check("{{ break }}").unwrap_err().message,
            "{{break}} outside {{range}}"
        );
        assert_eq!(
            check("{{ range . }}{{ define \"x\" }}{{ continue }}{{ end }}{{ end }}")
                .unwrap_err()
                .message,
            "{{continue}} outside {{range}}"
        );
    }
}
