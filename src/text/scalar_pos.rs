//! Where a character of a scalar's text stands in its file: a PromQL error or a lint finding at byte 40 of
//! an `expr: |` block belongs on the block's third line, not on the line of `expr:`.
//!
//! A literal block (`|`) keeps its lines as written, each after the block's indentation, so any offset maps.
//! Other styles map on their first line only: a folded block or a plain scalar over several lines joins
//! them, and a quoted one may hold escapes. When the file's text is at hand, the place found is checked
//! against it (the text there must be the text at the offset); where it cannot be placed, the answer is the
//! scalar's start.

use super::yaml::{Pos, Style};

/// The file position of byte `offset` of `text`, a scalar written in `style` whose content starts at
/// `origin` (see [`super::yaml::Node::content_origin`]). `source`: the file's text, to check the answer.
pub fn pos_at(origin: Pos, style: Style, text: &str, offset: usize, source: Option<&str>) -> Pos {
    placed(origin, style, text, offset, source).unwrap_or(origin)
}

/// [`pos_at`], or `None` where the offset cannot be placed.
fn placed(
    origin: Pos,
    style: Style,
    text: &str,
    offset: usize,
    source: Option<&str>,
) -> Option<Pos> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    // Past the last character ("unexpected end of input"): just after it, not on the line a block's final
    // line break opens.
    if text[offset..].trim().is_empty() {
        offset = text.trim_end().len().min(offset);
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count();
    if line > 0 && style != Style::Literal {
        return None;
    }
    let found = Pos::new(origin.line + line as u32, origin.col + col as u32);
    let Some(source) = source else {
        return Some(found);
    };
    // The rest of the offset's line in the scalar must stand at `found` in the file.
    let want: String = text[offset..]
        .chars()
        .take_while(|c| *c != '\n')
        .take(24)
        .collect();
    let at = source
        .lines()
        .nth(found.line.saturating_sub(1) as usize)
        .and_then(|l| {
            l.char_indices()
                .nth(found.col.saturating_sub(1) as usize)
                .map(|(b, _)| &l[b..])
                .or_else(|| (l.chars().count() + 1 == found.col as usize).then_some(""))
        });
    match at {
        Some(rest) if rest.starts_with(&want) => Some(found),
        _ => None,
    }
}

/// [`pos_at`] for a scalar known only by its node position (`pos`: a quoted scalar's opening quote, a block's
/// first content character) and its text: the style is read from the file, and the answer always checked
/// against it. Without the file's text, the node position.
pub fn pos_in_value(pos: Pos, text: &str, offset: usize, source: Option<&str>) -> Pos {
    let Some(source) = source else {
        return pos;
    };
    let first = source
        .lines()
        .nth(pos.line.saturating_sub(1) as usize)
        .and_then(|l| l.chars().nth(pos.col.saturating_sub(1) as usize));
    let (origin, style) = match first {
        Some('"' | '\'') => (Pos::new(pos.line, pos.col + 1), Style::Quoted),
        // A plain scalar maps as a literal block would on its first line; later lines are checked.
        _ => (pos, Style::Literal),
    };
    placed(origin, style, text, offset, Some(source)).unwrap_or(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_blocks_map_every_line() {
        let src = "- alert: A\n  expr: |\n    sum(\n      rate(x[5m])\n    ) > 1\n";
        let text = "sum(\n  rate(x[5m])\n) > 1\n";
        let origin = Pos::new(3, 5);
        let rate = text.find("rate").unwrap();
        assert_eq!(
            pos_at(origin, Style::Literal, text, rate, Some(src)),
            Pos::new(4, 7)
        );
        assert_eq!(
            pos_at(origin, Style::Literal, text, rate, None),
            Pos::new(4, 7)
        );
        let gt = text.find('>').unwrap();
        assert_eq!(
            pos_at(origin, Style::Literal, text, gt, Some(src)),
            Pos::new(5, 7)
        );
    }

    #[test]
    fn other_styles_map_their_first_line_when_the_file_agrees() {
        let src = "expr: rate(x[5m]) > 1\n";
        let text = "rate(x[5m]) > 1";
        let origin = Pos::new(1, 7);
        assert_eq!(
            pos_at(origin, Style::Plain, text, 12, Some(src)),
            Pos::new(1, 19)
        );
        // A plain scalar folded from two lines: the second line's text is not where the offset points.
        let src = "expr: rate(x[5m])\n  > 1\n";
        let text = "rate(x[5m]) > 1";
        assert_eq!(pos_at(origin, Style::Plain, text, 12, Some(src)), origin);
        // A quoted scalar with an escape before the offset.
        let src = "expr: \"x{a=\\\"b\\\"} > 1\"\n";
        let text = "x{a=\"b\"} > 1";
        assert_eq!(
            pos_at(Pos::new(1, 8), Style::Quoted, text, 9, Some(src)),
            Pos::new(1, 8)
        );
        // The end of a block's text is just after its last character.
        let src = "expr: |\n  up +\n";
        assert_eq!(
            pos_at(Pos::new(2, 3), Style::Literal, "up +\n", 5, Some(src)),
            Pos::new(2, 7)
        );
        // A value known by its node position: quoted, block, and a placed reference on a later block line.
        let src = "a: \"x {{ $value }}%\"\nb: |\n  one\n  two {{ $labels.pod }}\n";
        assert_eq!(
            pos_in_value(Pos::new(1, 4), "x {{ $value }}%", 2, Some(src)),
            Pos::new(1, 7)
        );
        assert_eq!(
            pos_in_value(
                Pos::new(3, 3),
                "one\ntwo {{ $labels.pod }}\n",
                11,
                Some(src)
            ),
            Pos::new(4, 10)
        );
        assert_eq!(
            pos_in_value(Pos::new(3, 3), "one\n", 1, None),
            Pos::new(3, 3)
        );
        // Lines after the first of a folded block are never guessed.
        assert_eq!(pos_at(origin, Style::Folded, "a\nb", 2, None), origin);
    }
}
