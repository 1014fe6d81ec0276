//! The core of threshold tuning: an alert expression of the form `<lhs> <op> <number>` is split so the left
//! side is evaluated once; then, per threshold, each series' ticks where the condition holds are reduced to
//! runs, and per `for` / `keep_firing_for` the runs become episodes exactly as the alert state machine of
//! [`super::alerting`] would produce them (a property test checks the two agree).

use crate::promql::Expr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn parse(s: &str) -> Option<CmpOp> {
        Some(match s {
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// `5 < x` is `x > 5`.
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            o => o,
        }
    }

    /// Whether a sample passes the filter (PromQL comparisons are false for NaN).
    #[inline]
    pub fn holds(self, v: f64, t: f64) -> bool {
        match self {
            CmpOp::Gt => v > t,
            CmpOp::Ge => v >= t,
            CmpOp::Lt => v < t,
            CmpOp::Le => v <= t,
            CmpOp::Eq => v == t,
            CmpOp::Ne => v != t,
        }
    }

    /// Ordering of thresholds from most to least sensitive (more alerts first).
    pub fn more_sensitive(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Gt | CmpOp::Ge => a < b,
            CmpOp::Lt | CmpOp::Le => a > b,
            CmpOp::Eq | CmpOp::Ne => false,
        }
    }
}

/// An alert expression split at its final comparison.
#[derive(Clone, Debug)]
pub struct Split {
    pub lhs: String,
    pub op: CmpOp,
    pub threshold: f64,
}

/// Splits `<lhs> <op> <number>` (or `<number> <op> <rhs>`). Anything else is refused with the reason.
pub fn split_comparison(expr: &Expr) -> Result<Split, String> {
    use crate::promql::syntax::{ast::Expr as E, print, TokenKind};
    let E::Binary {
        op,
        lhs,
        rhs,
        return_bool,
        ..
    } = expr.without_parens()
    else {
        return Err("the expression does not end in a comparison with a number".into());
    };
    let op_text = op.text().unwrap_or_default();
    let op = CmpOp::parse(op_text)
        .ok_or_else(|| format!("the top-level operator is `{op_text}`, not a comparison"))?;
    if *return_bool {
        return Err("the comparison uses `bool`, so it does not filter series".into());
    }
    let number = |x: &Expr| -> Option<f64> {
        match x.without_parens() {
            E::Number { value, .. } => Some(*value),
            E::Unary {
                op: TokenKind::Sub,
                expr,
                ..
            } => match expr.without_parens() {
                E::Number { value, .. } => Some(-value),
                _ => None,
            },
            _ => None,
        }
    };
    if let Some(t) = number(rhs) {
        return Ok(Split {
            lhs: print(lhs),
            op,
            threshold: t,
        });
    }
    if let Some(t) = number(lhs) {
        return Ok(Split {
            lhs: print(rhs),
            op: op.flip(),
            threshold: t,
        });
    }
    Err("neither side of the final comparison is a number".into())
}

/// Runs of consecutive ticks (inclusive tick indices) where `op threshold` holds for one series, given its
/// values per tick (`None` where the series has no point).
pub fn runs(values: &[f64], op: CmpOp, threshold: f64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (k, v) in values.iter().enumerate() {
        let on = super::tune::present(*v).is_some_and(|v| op.holds(v, threshold));
        match (on, start) {
            (true, None) => start = Some(k),
            (false, Some(s)) => {
                out.push((s, k - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, values.len() - 1));
    }
    out
}

/// One alert episode in tick indices: active, fired (if it fired) and resolved (if before the end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickEpisode {
    pub active: usize,
    pub fired: Option<usize>,
    pub resolved: Option<usize>,
}

/// Episodes of one series from its runs, with ticks every `step_ms`, `n` ticks in all.
pub fn episodes(
    runs: &[(usize, usize)],
    step_ms: i64,
    for_ms: i64,
    keep_firing_for_ms: i64,
    n: usize,
) -> Vec<TickEpisode> {
    let step = step_ms.max(1);
    let ceil = |d: i64| ((d + step - 1) / step) as usize;
    let for_ticks = ceil(for_ms);
    let keep = ceil(keep_firing_for_ms);
    let mut out = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let (s, e) = runs[i];
        let fire = s + for_ticks;
        if fire > e {
            // Pending only: dropped at the first tick the condition fails.
            out.push(TickEpisode {
                active: s,
                fired: None,
                resolved: if e + 1 < n { Some(e + 1) } else { None },
            });
            i += 1;
            continue;
        }
        // Firing from `fire`; runs that start before keep_firing_for runs out continue the episode.
        let mut end = e;
        while keep > 0 && i + 1 < runs.len() && runs[i + 1].0 <= end + 1 + keep {
            i += 1;
            end = runs[i].1;
        }
        let resolve = end + 1 + keep;
        out.push(TickEpisode {
            active: s,
            fired: Some(fire),
            resolved: if resolve < n { Some(resolve) } else { None },
        });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::alerting::{AlertingRuleState, Instance};
    use proptest::prelude::*;

    #[test]
    fn splits_comparisons() {
        let s = split_comparison(&crate::promql::parse("rate(x[5m]) > 0.9").unwrap()).unwrap();
        assert_eq!(
            (s.lhs.as_str(), s.op, s.threshold),
            ("rate(x[5m])", CmpOp::Gt, 0.9)
        );
        let s = split_comparison(&crate::promql::parse("(0.85 > acc)").unwrap()).unwrap();
        assert_eq!(
            (s.lhs.as_str(), s.op, s.threshold),
            ("acc", CmpOp::Lt, 0.85)
        );
        assert!(
            split_comparison(&crate::promql::parse("up == bool 0").unwrap())
                .unwrap_err()
                .contains("bool")
        );
        assert!(split_comparison(&crate::promql::parse("absent(up)").unwrap()).is_err());
        assert!(split_comparison(&crate::promql::parse("a > b").unwrap())
            .unwrap_err()
            .contains("number"));
    }

    #[test]
    fn runs_and_episodes() {
        use crate::rules::tune::ABSENT;
        let v = [1.0, 5.0, 6.0, ABSENT, 7.0, 1.0];
        assert_eq!(runs(&v, CmpOp::Gt, 4.0), vec![(1, 2), (4, 4)]);
        // A NaN value is a value (`!=` holds for it); a tick without one is not.
        let w = [1.0, f64::NAN, ABSENT, 1.0];
        assert_eq!(runs(&w, CmpOp::Ne, 1.0), vec![(1, 1)]);
        // for one tick: the first run fires at 2, resolves at 3; the second stays pending and drops at 5.
        let e = episodes(&[(1, 2), (4, 4)], 30_000, 30_000, 0, 6);
        assert_eq!(
            e,
            vec![
                TickEpisode {
                    active: 1,
                    fired: Some(2),
                    resolved: Some(3)
                },
                TickEpisode {
                    active: 4,
                    fired: None,
                    resolved: Some(5)
                }
            ]
        );
        // keep_firing_for 1m bridges the gap at 3.
        let e = episodes(&[(1, 2), (4, 4)], 30_000, 30_000, 60_000, 6);
        assert_eq!(
            e,
            vec![TickEpisode {
                active: 1,
                fired: Some(2),
                resolved: None
            }]
        );
    }

    proptest! {
        /// The run-based episodes equal what the alert state machine produces tick by tick.
        #[test]
        fn episodes_match_the_state_machine(
            on in prop::collection::vec(any::<bool>(), 1..80),
            for_ticks in 0i64..5,
            keep_ticks in 0i64..5,
            odd in any::<bool>(),
        ) {
            let step = 30_000;
            // Durations that are not multiples of the step round up, as the state machine's `>=` does.
            let extra = if odd { 10_000 } else { 0 };
            let for_ms = for_ticks * step + if for_ticks > 0 { extra } else { 0 };
            let keep_ms = keep_ticks * step + if keep_ticks > 0 { extra } else { 0 };
            let values: Vec<f64> = on.iter().map(|b| if *b { 1.0 } else { 0.0 }).collect();
            let fast = episodes(&runs(&values, CmpOp::Gt, 0.5), step, for_ms, keep_ms, values.len());
            let mut sm: AlertingRuleState<u8, ()> = AlertingRuleState::new(for_ms, keep_ms, 0).with_episodes();
            for (k, b) in on.iter().enumerate() {
                let inst = if *b { vec![Instance { key: 0u8, payload: () }] } else { vec![] };
                sm.eval(k as i64 * step, inst).unwrap();
            }
            let mut slow: Vec<TickEpisode> = sm
                .episodes()
                .iter()
                .map(|e| TickEpisode {
                    active: (e.active_at / step) as usize,
                    fired: e.fired_at.map(|f| (f / step) as usize),
                    resolved: e.resolved_at.map(|r| (r / step) as usize),
                })
                .collect();
            slow.sort_by_key(|e| e.active);
            prop_assert_eq!(fast, slow);
        }
    }
}
