//! Start timestamps (Prometheus 3's "created timestamps" of OpenTelemetry and other push sources): each sample
//! of a counter may carry the time its count started from. `0` means unknown; a start after the previous
//! sample says the counter was reset in between (a delta series' every sample does), which rate, increase,
//! irate and resets count, and a start inside a rate window replaces extrapolation towards its left edge.
//!
//! Test files give them on a line before the samples, as offsets from each sample's time:
//! `cumulative{type="st_resets"}@st _ _ -30s-1mx2 -1m-1mx2` (a slot `_` has none; `0` says the start is the
//! sample's own time; the runs `a+bxN` / `a-bxN` / `axN` step as the value notation does).
//!
//! Example: `-30s-1mx2` is -30s, -1m30s, -2m30s: each sample started 30 s, 90 s and 150 s before it.

use crate::text::duration::parse_duration;

/// A signed duration in ms: `-1m30s`, `+1m`, `0`, `1ms`.
fn signed(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let d = parse_duration(body)?;
    Ok(if neg { -d } else { d })
}

/// The offsets of an `@st` line's sequence, one per slot (`None` for `_`).
pub fn parse_offsets(text: &str) -> Result<Vec<Option<i64>>, String> {
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        let (item, times) = match tok.rsplit_once('x') {
            Some((item, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                let n: usize = n
                    .parse()
                    .map_err(|_| format!("repetition too large in {tok:?}"))?;
                (item, Some(n))
            }
            _ => (tok, None),
        };
        if item == "_" {
            out.extend(std::iter::repeat_n(None, times.unwrap_or(0) + 1));
            continue;
        }
        // `a+b` / `a-b`: the operator after the first character (which may be a sign).
        let op = item
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-');
        let (start, step) = match op {
            Some((i, c)) if times.is_some() => {
                let step =
                    parse_duration(&item[i + 1..]).map_err(|e| format!("in {tok:?}: {e}"))?;
                (&item[..i], if c == '-' { -step } else { step })
            }
            Some(_) => return Err(format!("{tok:?}: a step needs a count, as in -30s-1mx2")),
            None => (item, 0),
        };
        let start = signed(start).map_err(|e| format!("in {tok:?}: {e}"))?;
        for k in 0..=times.unwrap_or(0) as i64 {
            out.push(Some(start + k * step));
        }
    }
    Ok(out)
}

/// The start timestamp of a sample at `t` in slot `slot`, from the offsets (0: none).
pub fn at_slot(offsets: &[Option<i64>], slot: usize, t: i64) -> i64 {
    offsets.get(slot).copied().flatten().map_or(0, |o| t + o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_expand_as_the_value_notation_does() {
        let s = |v: &[i64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        assert_eq!(
            parse_offsets("-30s-1mx2").unwrap(),
            s(&[-30_000, -90_000, -150_000])
        );
        assert_eq!(parse_offsets("-1mx2").unwrap(), s(&[-60_000; 3]));
        assert_eq!(
            parse_offsets("0-1mx1 +1m 1ms -0msx1").unwrap(),
            s(&[0, -60_000, 60_000, 1, 0, 0])
        );
        assert_eq!(
            parse_offsets("_ _x1 -59999ms").unwrap(),
            vec![None, None, None, Some(-59_999)]
        );
        assert!(parse_offsets("-30s-1m").is_err());
        assert!(parse_offsets("abc").is_err());
        assert_eq!(at_slot(&[None, Some(-1000)], 1, 60_000), 59_000);
        assert_eq!(at_slot(&[None], 0, 60_000), 0);
        assert_eq!(at_slot(&[], 3, 60_000), 0);
    }
}
