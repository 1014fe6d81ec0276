//! Placing a finding on the exact line and column of a token inside a rule's expression or template, by
//! finding the token in the file's text from where the value starts. Falls back to the value's start.

use crate::load::yaml::Pos;

/// The position of the first `needle` at or after `start` within `max_lines` lines of `source`; `start` if
/// it is not there (a folded or escaped scalar can hide it).
pub fn find(source: Option<&str>, start: Pos, needle: &str, max_lines: usize) -> Pos {
    let Some(src) = source else {
        return start;
    };
    if needle.is_empty() {
        return start;
    }
    for (i, line) in src
        .lines()
        .skip(start.line.saturating_sub(1) as usize)
        .take(max_lines.max(1))
        .enumerate()
    {
        let skip_chars = if i == 0 {
            start.col.saturating_sub(1) as usize
        } else {
            0
        };
        let byte_start = line
            .char_indices()
            .nth(skip_chars)
            .map_or(line.len(), |(b, _)| b);
        if let Some(off) = line[byte_start..].find(needle) {
            let col = line[..byte_start + off].chars().count() as u32 + 1;
            return Pos::new(start.line + i as u32, col);
        }
    }
    start
}

/// How many lines a scalar value spans, to bound the search.
pub fn lines_of(text: &str) -> usize {
    text.lines().count().max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tokens_on_later_lines_and_after_the_start_column() {
        let src = "a: x\n  expr: |\n    rate(foo[5m])\n      / bar > 0\n";
        assert_eq!(find(Some(src), Pos::new(3, 5), "bar", 3), Pos::new(4, 9));
        assert_eq!(find(Some(src), Pos::new(3, 5), "foo", 3), Pos::new(3, 10));
        assert_eq!(
            find(Some(src), Pos::new(3, 5), "nothere", 3),
            Pos::new(3, 5)
        );
        assert_eq!(
            find(Some("x: é ab ab"), Pos::new(1, 7), "ab", 1),
            Pos::new(1, 9)
        );
    }
}
