//! Expressions printed as Prometheus prints them (`promql/parser/printer.go`, `String()`): the canonical form
//! `promtool promql format` shows on one line, checked against Prometheus's printer table
//! (`tests/promql_syntax_printer.rs`).

use super::ast::*;
use super::lexer::go_quote;
use super::token::TokenKind as K;
use std::fmt::Write;

/// The expression as Prometheus's `String()` prints it.
pub fn print(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

/// Prometheus's `model.Duration` text of milliseconds: `1h30m`, `90d` (years and weeks only when exact), `0s`.
pub fn duration_text(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut ms = ms;
    let mut out = String::new();
    let units: [(&str, i64, bool); 7] = [
        ("y", 365 * 24 * 3_600_000, true),
        ("w", 7 * 24 * 3_600_000, true),
        ("d", 24 * 3_600_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1_000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in units {
        if exact && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            ms -= v * mult;
        }
    }
    out
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, as Prometheus prints numbers.
pub fn float_text(v: f64) -> String {
    crate::promql::value::format_value(v)
}

fn write_labels(out: &mut String, labels: &[String]) {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if crate::series::labels::is_legacy_name(l, false) {
            out.push_str(l);
        } else {
            out.push_str(&go_quote(l.as_bytes()));
        }
    }
}

fn op_text(k: K) -> &'static str {
    k.text().unwrap_or("?")
}

fn write_duration_node(out: &mut String, n: &DurationNode) {
    match n {
        DurationNode::Number {
            value, duration, ..
        } => {
            if *duration {
                let ms = (value.abs() * 1000.0).round() as i64;
                if *value < 0.0 {
                    out.push('-');
                }
                out.push_str(&duration_text(ms));
            } else {
                out.push_str(&float_text(*value));
            }
        }
        DurationNode::Expr(d) => write_duration_expr(out, d),
    }
}

fn write_duration_expr(out: &mut String, d: &DurationExpr) {
    if d.wrapped {
        out.push('(');
    }
    match d.op {
        K::Step => out.push_str("step()"),
        K::Range => out.push_str("range()"),
        K::MinOf | K::MaxOf => {
            out.push_str(op_text(d.op));
            out.push('(');
            if let Some(l) = &d.lhs {
                write_duration_node(out, l);
            }
            out.push_str(", ");
            if let Some(r) = &d.rhs {
                write_duration_node(out, r);
            }
            out.push(')');
        }
        op => match (&d.lhs, &d.rhs) {
            (None, Some(r)) => {
                if op == K::Sub {
                    out.push('-');
                }
                write_duration_node(out, r);
            }
            (Some(l), Some(r)) => {
                write_duration_node(out, l);
                out.push(' ');
                out.push_str(op_text(op));
                out.push(' ');
                write_duration_node(out, r);
            }
            _ => {}
        },
    }
    if d.wrapped {
        out.push(')');
    }
}

fn write_at(out: &mut String, at: &Option<At>) {
    match at {
        Some(At::Time(ms)) => {
            let _ = write!(out, " @ {:.3}", *ms as f64 / 1000.0);
        }
        Some(At::Start) => out.push_str(" @ start()"),
        Some(At::End) => out.push_str(" @ end()"),
        None => {}
    }
}

fn write_offset(out: &mut String, ms: i64, expr: &Option<DurationExpr>) {
    if let Some(d) = expr {
        out.push_str(" offset ");
        write_duration_expr(out, d);
    } else if ms > 0 {
        let _ = write!(out, " offset {}", duration_text(ms));
    } else if ms < 0 {
        let _ = write!(out, " offset -{}", duration_text(-ms));
    }
}

/// The selector without its modifiers: name and sorted matchers.
fn write_selector_body(out: &mut String, vs: &VectorSelector) {
    let mut matchers: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| {
            !(m.name == "__name__"
                && m.op == MatchOp::Equal
                && m.value == vs.name
                && !m.value.is_empty())
        })
        .map(|m| {
            let name = if crate::series::labels::is_legacy_name(&m.name, false) {
                m.name.clone()
            } else {
                go_quote(m.name.as_bytes())
            };
            let op = match m.op {
                MatchOp::Equal => "=",
                MatchOp::NotEqual => "!=",
                MatchOp::Regexp => "=~",
                MatchOp::NotRegexp => "!~",
            };
            format!("{name}{op}{}", go_quote(m.value.as_bytes()))
        })
        .collect();
    out.push_str(&vs.name);
    if !matchers.is_empty() {
        matchers.sort();
        out.push('{');
        out.push_str(&matchers.join(","));
        out.push('}');
    }
}

/// Prometheus's `getMatchingStr`: ` on (a) group_left (b) fill (0)` and the like.
fn write_matching(out: &mut String, vm: &VectorMatching) {
    let grouped = matches!(vm.card, Card::ManyToOne | Card::OneToMany);
    if !vm.matching_labels.is_empty() || vm.on || grouped {
        out.push_str(if vm.on { " on (" } else { " ignoring (" });
        write_labels(out, &vm.matching_labels);
        out.push(')');
    }
    if grouped {
        out.push_str(if vm.card == Card::ManyToOne {
            " group_left ("
        } else {
            " group_right ("
        });
        write_labels(out, &vm.include);
        out.push(')');
    }
    match (vm.fill_lhs, vm.fill_rhs) {
        (Some(l), Some(r)) if l == r => {
            let _ = write!(out, " fill ({})", float_text(l));
        }
        (l, r) => {
            if let Some(l) = l {
                let _ = write!(out, " fill_left ({})", float_text(l));
            }
            if let Some(r) = r {
                let _ = write!(out, " fill_right ({})", float_text(r));
            }
        }
    }
}

/// `sum by (a) ` / `sum without (b) ` / `sum`: an aggregation up to its opening parenthesis.
fn write_aggregate_head(out: &mut String, op: K, grouping: &[String], without: bool) {
    out.push_str(op_text(op));
    if without {
        out.push_str(" without (");
        write_labels(out, grouping);
        out.push_str(") ");
    } else if !grouping.is_empty() {
        out.push_str(" by (");
        write_labels(out, grouping);
        out.push_str(") ");
    }
}

/// A subquery's `[range:step]`, `@` and `offset` (Prometheus's `getSubqueryTimeSuffix`).
fn write_subquery_suffix(out: &mut String, e: &Expr) {
    let Expr::Subquery {
        range_ms,
        range_expr,
        step_ms,
        step_expr,
        offset_ms,
        offset_expr,
        at,
        ..
    } = e
    else {
        return;
    };
    out.push('[');
    match range_expr {
        Some(d) => write_duration_expr(out, d),
        None => out.push_str(&duration_text(*range_ms)),
    }
    out.push(':');
    if *step_ms != 0 {
        out.push_str(&duration_text(*step_ms));
    } else if let Some(d) = step_expr {
        write_duration_expr(out, d);
    }
    out.push(']');
    write_at(out, at);
    write_offset(out, *offset_ms, offset_expr);
}

/// Whether the first token `e` prints is the literal `+Inf`. Prometheus prints a positive infinity as `+Inf`,
/// which reads back as a unary `+` where it starts the left operand of `^` (`Inf ^ x` would print as
/// `+Inf ^ x`, read as `+(Inf ^ x)`, printed `++Inf ^ x`, and so on). There the printer writes `Inf`, so
/// printing is idempotent (the one place it differs from Prometheus's printer; docs/conformance.md).
fn leftmost_is_positive_inf(e: &Expr) -> bool {
    match e {
        Expr::Number { value, .. } => *value == f64::INFINITY,
        Expr::Binary { lhs, .. } => leftmost_is_positive_inf(lhs),
        Expr::Subquery { expr, .. } => leftmost_is_positive_inf(expr),
        _ => false,
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match e {
        Expr::Number { value, .. } => out.push_str(&float_text(*value)),
        Expr::String { value, .. } => out.push_str(&go_quote(value.as_bytes())),
        Expr::Vector(vs) => {
            write_selector_body(out, vs);
            write_at(out, &vs.at);
            if vs.anchored {
                out.push_str(" anchored");
            } else if vs.smoothed {
                out.push_str(" smoothed");
            }
            write_offset(out, vs.offset_ms, &vs.offset_expr);
        }
        Expr::Matrix {
            selector,
            range_ms,
            range_expr,
            ..
        } => {
            write_selector_body(out, selector);
            out.push('[');
            match range_expr {
                Some(d) => write_duration_expr(out, d),
                None => out.push_str(&duration_text(*range_ms)),
            }
            out.push(']');
            if selector.anchored {
                out.push_str(" anchored");
            } else if selector.smoothed {
                out.push_str(" smoothed");
            }
            write_at(out, &selector.at);
            write_offset(out, selector.offset_ms, &selector.offset_expr);
        }
        Expr::Subquery { expr, .. } => {
            write_expr(out, expr);
            write_subquery_suffix(out, e);
        }
        Expr::Paren { expr, .. } => {
            out.push('(');
            write_expr(out, expr);
            out.push(')');
        }
        Expr::Unary { op, expr, .. } => {
            out.push_str(op_text(*op));
            write_expr(out, expr);
        }
        Expr::Binary {
            op,
            lhs,
            rhs,
            matching,
            return_bool,
        } => {
            let at = out.len();
            write_expr(out, lhs);
            if *op == K::Pow && leftmost_is_positive_inf(lhs) {
                out.remove(at);
            }
            out.push(' ');
            out.push_str(op_text(*op));
            if *return_bool {
                out.push_str(" bool");
            }
            if let Some(vm) = matching {
                write_matching(out, vm);
            }
            out.push(' ');
            write_expr(out, rhs);
        }
        Expr::Call { func, args, .. } => {
            out.push_str(func);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            out.push(')');
        }
        Expr::Aggregate {
            op,
            expr,
            param,
            grouping,
            without,
            ..
        } => {
            write_aggregate_head(out, *op, grouping, *without);
            out.push('(');
            if let Some(p) = param {
                write_expr(out, p);
                out.push_str(", ");
            }
            write_expr(out, expr);
            out.push(')');
        }
    }
}

/// The expression as `promtool promql format` prints it (Prometheus's `Prettify`): on one line when it fits in
/// `width` characters (Prometheus uses 100), otherwise split at its widest nodes, two spaces per level.
pub fn pretty(e: &Expr, width: usize) -> String {
    let mut lens = Lens::default();
    lens.measure(e);
    pretty_at(e, 0, width, &lens)
}

/// The printed length of every node, measured once bottom-up (asking `print` at every node would print each
/// subtree again: quadratic on a long chain of operators).
#[derive(Default)]
struct Lens(std::collections::HashMap<*const Expr, usize>);

impl Lens {
    fn get(&self, e: &Expr) -> usize {
        self.0.get(&(e as *const Expr)).copied().unwrap_or(0)
    }

    fn measure(&mut self, e: &Expr) -> usize {
        let n = match e {
            Expr::Paren { expr, .. } => 2 + self.measure(expr),
            Expr::Unary { op, expr, .. } => op_text(*op).len() + self.measure(expr),
            Expr::Binary {
                op,
                lhs,
                rhs,
                matching,
                return_bool,
            } => {
                let mut mid = String::new();
                if *return_bool {
                    mid.push_str(" bool");
                }
                if let Some(vm) = matching {
                    write_matching(&mut mid, vm);
                }
                self.measure(lhs) + 2 + op_text(*op).len() + mid.len() + self.measure(rhs)
            }
            Expr::Call { func, args, .. } => {
                let inner: usize = args.iter().map(|a| self.measure(a)).sum();
                func.len() + 2 + inner + 2 * args.len().saturating_sub(1)
            }
            Expr::Aggregate {
                op,
                expr,
                param,
                grouping,
                without,
                ..
            } => {
                let mut head = String::new();
                write_aggregate_head(&mut head, *op, grouping, *without);
                let p = param.as_ref().map_or(0, |p| self.measure(p) + 2);
                head.len() + 2 + p + self.measure(expr)
            }
            Expr::Subquery { expr, .. } => {
                let inner = self.measure(expr);
                let mut suffix = String::new();
                write_subquery_suffix(&mut suffix, e);
                inner + suffix.len()
            }
            Expr::Vector(_) | Expr::Matrix { .. } | Expr::Number { .. } | Expr::String { .. } => {
                print(e).len()
            }
        };
        self.0.insert(e as *const Expr, n);
        n
    }
}

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

fn pretty_at(e: &Expr, level: usize, width: usize, lens: &Lens) -> String {
    let fits = lens.get(e) <= width;
    match e {
        // A subquery that fits is not indented (Prometheus's quirk); a unary operator follows its operand.
        Expr::Subquery { .. } if fits => return print(e),
        Expr::Unary { .. } | Expr::Subquery { .. } => {}
        _ if fits => return indent(level) + &print(e),
        _ => {}
    }
    match e {
        Expr::Aggregate {
            op,
            expr,
            param,
            grouping,
            without,
            ..
        } => {
            let mut s = indent(level);
            write_aggregate_head(&mut s, *op, grouping, *without);
            s.push_str("(\n");
            if let Some(p) = param {
                s.push_str(&pretty_at(p, level + 1, width, lens));
                s.push_str(",\n");
            }
            s.push_str(&pretty_at(expr, level + 1, width, lens));
            s.push('\n');
            s.push_str(&indent(level));
            s.push(')');
            s
        }
        Expr::Binary {
            op,
            lhs,
            rhs,
            return_bool,
            matching,
        } => {
            let mut op_line = indent(level);
            op_line.push_str(op_text(*op));
            if *return_bool {
                op_line.push_str(" bool");
            }
            if let Some(vm) = matching {
                write_matching(&mut op_line, vm);
            }
            let mut left = pretty_at(lhs, level + 1, width, lens);
            if *op == K::Pow && leftmost_is_positive_inf(lhs) {
                left = left.replacen("+Inf", "Inf", 1);
            }
            format!(
                "{}\n{}\n{}",
                left,
                op_line,
                pretty_at(rhs, level + 1, width, lens)
            )
        }
        Expr::Call { func, args, .. } => {
            let parts: Vec<String> = args
                .iter()
                .map(|a| pretty_at(a, level + 1, width, lens))
                .collect();
            format!(
                "{}{func}(\n{}\n{})",
                indent(level),
                parts.join(",\n"),
                indent(level)
            )
        }
        Expr::Paren { expr, .. } => {
            format!(
                "{}(\n{}\n{})",
                indent(level),
                pretty_at(expr, level + 1, width, lens),
                indent(level)
            )
        }
        Expr::Subquery { expr, .. } => {
            // Prometheus indents a subquery only through its inner expression.
            let mut suffix = String::new();
            write_subquery_suffix(&mut suffix, e);
            format!("{}{suffix}", pretty_at(expr, level, width, lens))
        }
        Expr::Unary { op, expr, .. } => {
            let child = pretty_at(expr, level, width, lens);
            format!("{}{}{}", indent(level), op_text(*op), child.trim())
        }
        Expr::Vector(_) | Expr::Matrix { .. } | Expr::Number { .. } | Expr::String { .. } => {
            indent(level) + &print(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_prometheus_prints_them() {
        assert_eq!(duration_text(0), "0s");
        assert_eq!(duration_text(5_400_000), "1h30m");
        assert_eq!(duration_text(90 * 24 * 3_600_000), "90d");
        assert_eq!(duration_text(14 * 24 * 3_600_000), "2w");
        assert_eq!(duration_text(1_500), "1s500ms");
        assert_eq!(float_text(0.5), "0.5");
        assert_eq!(float_text(f64::INFINITY), "+Inf");
        assert_eq!(float_text(1e21), "1000000000000000000000");
    }

    #[test]
    fn positive_infinity_before_pow_prints_without_its_sign() {
        // Found by tests/promql_syntax_printer.rs: `+Inf ^ x` reads back as `+(Inf ^ x)`.
        for (query, printed) in [
            ("Inf ^ sum", "Inf ^ sum"),
            ("(Inf ^ 2) * 3", "(Inf ^ 2) * 3"),
            ("Inf ^ 2 * 3", "Inf ^ 2 * 3"),
            ("Inf * 2", "+Inf * 2"),
            ("x ^ Inf", "x ^ +Inf"),
            ("+Inf ^ 2", "+Inf ^ 2"),
        ] {
            let e = super::super::parse(query).unwrap();
            let once = print(&e);
            assert_eq!(once, printed, "{query}");
            let again = print(&super::super::parse(&once).unwrap());
            assert_eq!(again, once, "{query}");
            assert_eq!(
                pretty(&e, 5).replace(['\n', ' '], ""),
                printed.replace(' ', "")
            );
        }
    }
}
