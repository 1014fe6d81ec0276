//! Element-wise math functions (`abs`, `ln`, trigonometry, ...) and those with scalar parameters
//! (`round`, `clamp`, `clamp_min`, `clamp_max`).

use super::{arg_scalar, arg_vector, drop_name, Context, EvalError, Val};
use crate::promql::syntax::ast::Expr;

/// Go's `math.Max`: NaN wins over everything but is beaten by nothing.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a > 0.0 || b.is_infinite() && b > 0.0 {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    a.max(b)
}

/// Go's `math.Min`.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a < 0.0 || b.is_infinite() && b < 0.0 {
        return f64::NEG_INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    a.min(b)
}

pub(crate) fn unary(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |x| x * 180.0 / std::f64::consts::PI,
        "rad" => |x| x * std::f64::consts::PI / 180.0,
        "sgn" => |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        },
        _ => return None,
    })
}

pub(crate) fn eval_param(
    ev: &mut dyn Context,
    name: &str,
    args: &[&Expr],
    ts: &[i64],
) -> Result<Val, EvalError> {
    let mut v = arg_vector(ev, args[0], ts)?;
    let p: Vec<Vec<f64>> = args[1..]
        .iter()
        .map(|a| arg_scalar(ev, a, ts))
        .collect::<Result<_, _>>()?;
    for s in &mut v {
        // Histogram samples are ignored.
        s.drop_histograms();
        for (i, x) in s.vals.iter_mut().enumerate() {
            let Some(f) = *x else { continue };
            *x = match name {
                "round" => {
                    let to = p.first().map(|p| p[i]).unwrap_or(1.0);
                    let inv = 1.0 / to;
                    Some((f * inv + 0.5).floor() / inv)
                }
                "clamp" => {
                    let (lo, hi) = (p[0][i], p[1][i]);
                    if hi < lo {
                        None
                    } else {
                        Some(go_max(lo, go_min(hi, f)))
                    }
                }
                "clamp_min" => Some(go_max(p[0][i], f)),
                _ => Some(go_min(p[0][i], f)),
            };
        }
        drop_name(ev, s);
    }
    v.retain(|s| s.any());
    Ok(Val::Vector(v))
}
