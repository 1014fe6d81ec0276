//! Duration expressions (`x[5m * 2]`, `offset step()`, `[max_of(range(), 5m):]`) turned into the
//! milliseconds a query uses, for that query's step and range: Prometheus's `durationVisitor`
//! (`promql/durations.go`), which runs when a query is created, not when it is parsed.

use super::ast::{DurationExpr, DurationNode, Expr, VectorSelector};
use super::token::TokenKind as K;

/// Fills every selector's and subquery's offset, range and step from its duration expression, evaluated
/// with `step()` = `step_ms` and `range()` = `range_ms` (both 0 for an instant query). The error is
/// Prometheus's: `start:end: duration must be greater than 0` and the like, positions in bytes.
pub fn resolve(e: &mut Expr, step_ms: i64, range_ms: i64) -> Result<(), String> {
    let v = Visitor {
        step_s: step_ms as f64 / 1000.0,
        range_s: range_ms as f64 / 1000.0,
    };
    let mut stack: Vec<&mut Expr> = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Vector(vs) => v.selector(vs)?,
            Expr::Matrix {
                selector,
                range_ms,
                range_expr,
                ..
            } => {
                v.selector(selector)?;
                if let Some(d) = range_expr {
                    *range_ms = v.duration(d, false)?;
                }
            }
            Expr::Subquery {
                expr,
                range_ms,
                range_expr,
                step_ms,
                step_expr,
                offset_ms,
                offset_expr,
                ..
            } => {
                if let Some(d) = offset_expr {
                    *offset_ms = v.duration(d, true)?;
                }
                if let Some(d) = step_expr {
                    *step_ms = v.duration(d, false)?;
                }
                if let Some(d) = range_expr {
                    *range_ms = v.duration(d, false)?;
                }
                stack.push(expr);
            }
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => stack.push(expr),
            Expr::Binary { lhs, rhs, .. } => {
                stack.push(rhs);
                stack.push(lhs);
            }
            Expr::Call { args, .. } => stack.extend(args.iter_mut()),
            Expr::Aggregate { expr, param, .. } => {
                stack.push(expr);
                if let Some(p) = param {
                    stack.push(p);
                }
            }
            Expr::Number { .. } | Expr::String { .. } => {}
        }
    }
    Ok(())
}

struct Visitor {
    step_s: f64,
    range_s: f64,
}

impl Visitor {
    fn selector(&self, vs: &mut VectorSelector) -> Result<(), String> {
        if let Some(d) = &vs.offset_expr {
            vs.offset_ms = self.duration(d, true)?;
        }
        Ok(())
    }

    /// `calculateDuration`: the value in seconds, refused when not finite, not positive where it must be,
    /// or beyond what Go's `time.Duration` holds; then whole milliseconds (truncated, as Go converts).
    fn duration(&self, d: &DurationExpr, negative_allowed: bool) -> Result<i64, String> {
        let secs = self.expr(d)?;
        let span = span(d);
        let at = format!("{}:{}", span.0, span.1);
        if !secs.is_finite() {
            return Err(format!("{at}: duration is NaN or infinite"));
        }
        if secs <= 0.0 && !negative_allowed {
            return Err(format!("{at}: duration must be greater than 0"));
        }
        let limit = 9_223_372_036.854_776; // 2^63 ns in seconds
        if secs > limit || secs < -limit {
            return Err(format!("{at}: duration is out of range"));
        }
        Ok((secs * 1000.0) as i64)
    }

    fn node(&self, n: &DurationNode) -> Result<f64, String> {
        match n {
            DurationNode::Number { value, .. } => Ok(*value),
            DurationNode::Expr(d) => self.expr(d),
        }
    }

    /// `evaluateDurationExpr`.
    fn expr(&self, d: &DurationExpr) -> Result<f64, String> {
        let lhs = d.lhs.as_deref().map(|n| self.node(n)).transpose()?;
        let rhs = d
            .rhs
            .as_deref()
            .map(|n| self.node(n))
            .transpose()?
            .unwrap_or(0.0);
        let at = || {
            let s = span(d);
            format!("{}:{}", s.0, s.1)
        };
        Ok(match d.op {
            K::Step => self.step_s,
            K::Range => self.range_s,
            K::MinOf => lhs.unwrap_or(0.0).min(rhs),
            K::MaxOf => lhs.unwrap_or(0.0).max(rhs),
            K::Add => lhs.map_or(rhs, |l| l + rhs),
            K::Sub => lhs.map_or(-rhs, |l| l - rhs),
            K::Mul => lhs.unwrap_or(0.0) * rhs,
            K::Div if rhs == 0.0 => return Err(format!("{}: division by zero", at())),
            K::Div => lhs.unwrap_or(0.0) / rhs,
            K::Mod if rhs == 0.0 => return Err(format!("{}: modulo by zero", at())),
            K::Mod => go_mod(lhs.unwrap_or(0.0), rhs),
            K::Pow => lhs.unwrap_or(0.0).powf(rhs),
            other => return Err(format!("unexpected duration expression operator {other:?}")),
        })
    }
}

/// Go's `math.Mod`: the remainder with the dividend's sign (Rust's `%` on floats is the same).
fn go_mod(a: f64, b: f64) -> f64 {
    a % b
}

/// The expression's byte range, as Prometheus's `DurationExpr.PositionRange()`.
fn span(d: &DurationExpr) -> (usize, usize) {
    fn node(n: &DurationNode) -> (usize, usize) {
        match n {
            DurationNode::Number { span, .. } => (span.start, span.end),
            DurationNode::Expr(d) => span(d),
        }
    }
    let lhs = d.lhs.as_deref().map(node);
    let rhs = d.rhs.as_deref().map(node);
    match (lhs, rhs) {
        (Some(l), Some(r)) if d.start == 0 && d.end == 0 => (l.0, r.1),
        (None, Some(r)) if d.end == 0 => (d.start, r.1),
        _ => (d.start, d.end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::syntax::parser::{parse_with, Options};

    fn resolved(q: &str, step_ms: i64, range_ms: i64) -> Result<Expr, String> {
        let opts = Options {
            duration_expr: true,
            ..Options::default()
        };
        let mut e = parse_with(q, &opts).map_err(|e| e[0].message.clone())?;
        resolve(&mut e, step_ms, range_ms)?;
        Ok(e)
    }

    #[test]
    fn arithmetic_step_and_range() {
        match &resolved("rate(x[5m * 2] offset (1h - step()))", 60_000, 0).unwrap() {
            Expr::Call { args, .. } => match &args[0] {
                Expr::Matrix {
                    range_ms, selector, ..
                } => {
                    assert_eq!(*range_ms, 600_000);
                    assert_eq!(selector.offset_ms, 3_540_000);
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        match &resolved(
            "max_over_time(x[max_of(range(), 5m):step()])",
            30_000,
            3_600_000,
        )
        .unwrap()
        {
            Expr::Call { args, .. } => match &args[0] {
                Expr::Subquery {
                    range_ms, step_ms, ..
                } => assert_eq!((*range_ms, *step_ms), (3_600_000, 30_000)),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prometheus_errors() {
        // An instant query's step() is 0: a range of it is refused, with the expression's position.
        assert_eq!(
            resolved("x[step()]", 0, 0).unwrap_err(),
            "2:8: duration must be greater than 0"
        );
        assert_eq!(
            resolved("x offset (5m - 10m)", 0, 0).map(|_| ()),
            Ok(()),
            "negative offsets are allowed"
        );
        assert!(resolved("x[1m % (step() - step())]", 60_000, 0)
            .unwrap_err()
            .ends_with(": modulo by zero"));
        assert!(resolved("x[(1e300 * 1e300)]", 0, 0)
            .unwrap_err()
            .ends_with("duration is NaN or infinite"));
        assert!(resolved("x[1e10 * 2]", 0, 0)
            .unwrap_err()
            .ends_with("duration is out of range"));
    }
}
