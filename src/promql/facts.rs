//! Facts about a parsed PromQL expression that several checks need: walking the tree, the metric name a
//! selector reads, which labels a result can carry, and the range of values a function can return.
//! Everything here is static: no series are read. The tree is our own front end's
//! ([`crate::promql::syntax`]), so a finding can point at the span of the sub-expression it is about.

use crate::promql::syntax::ast::{Card, Expr, MatchOp, ValueType, VectorMatching, VectorSelector};
use crate::promql::syntax::TokenKind;
use std::collections::BTreeSet;

pub use crate::promql::parse::{children, walk};

/// The expression without enclosing parentheses.
pub fn strip_paren(e: &Expr) -> &Expr {
    e.without_parens()
}

/// An operator as written (`/`, `>`, `and`, `sum`, `topk`, ...).
pub fn op_text(k: TokenKind) -> &'static str {
    k.text().unwrap_or("")
}

/// The comparison with its sides swapped: `t < x` is `x > t`.
pub fn flip_comparison(o: &str) -> &str {
    match o {
        ">" => "<",
        ">=" => "<=",
        "<" => ">",
        "<=" => ">=",
        other => other,
    }
}

pub fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | ">" | ">=" | "<" | "<=")
}

/// A binary operation's parts: (operator, left, right, `bool` modifier, vector matching).
pub fn binary(e: &Expr) -> Option<(&'static str, &Expr, &Expr, bool, Option<&VectorMatching>)> {
    match e {
        Expr::Binary {
            op,
            lhs,
            rhs,
            return_bool,
            matching,
        } => Some((op_text(*op), lhs, rhs, *return_bool, matching.as_ref())),
        _ => None,
    }
}

/// Whether `e` is a filtering comparison (no `bool` modifier), so the alert fires on the surviving series.
pub fn is_filter(e: &Expr) -> bool {
    binary(e).is_some_and(|(op, _, _, return_bool, _)| is_comparison(op) && !return_bool)
}

/// A number literal (possibly negated or parenthesised).
pub fn number(e: &Expr) -> Option<f64> {
    match strip_paren(e) {
        Expr::Number { value, .. } => Some(*value),
        Expr::Unary {
            op: TokenKind::Sub,
            expr,
            ..
        } => number(expr).map(|v| -v),
        Expr::Unary { expr, .. } => number(expr),
        _ => None,
    }
}

/// The metric name a vector or matrix selector reads, from `name{...}` or `{__name__="name"}`.
pub fn selector_name(e: &Expr) -> Option<&str> {
    match strip_paren(e) {
        Expr::Vector(vs) => vs.metric_name(),
        Expr::Matrix { selector, .. } => selector.metric_name(),
        _ => None,
    }
}

/// A recording rule's output (`job:http_requests:rate5m`): naming conventions say nothing about its type.
pub fn is_recorded_name(name: &str) -> bool {
    name.contains(':')
}

/// The function called and its arguments, if `e` is a call.
pub fn call(e: &Expr) -> Option<(&str, &[Expr])> {
    match strip_paren(e) {
        Expr::Call { func, args, .. } => Some((func, args)),
        _ => None,
    }
}

/// The aggregation operator (`sum`, `topk`, ...) and the aggregated expression, if `e` is an aggregation.
pub fn aggregate(e: &Expr) -> Option<(&'static str, &Expr)> {
    match e {
        Expr::Aggregate { op, expr, .. } => Some((op_text(*op), expr)),
        _ => None,
    }
}

/// The range of a call's matrix argument in milliseconds, e.g. 15m for `rate(x[15m])`.
pub fn range_arg_ms(args: &[Expr]) -> Option<i64> {
    args.iter().find_map(|a| match strip_paren(a) {
        Expr::Matrix { range_ms, .. } | Expr::Subquery { range_ms, .. } => Some(*range_ms),
        _ => None,
    })
}

/// Which labels a result can carry, as far as the expression proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelSet {
    /// Any label at all, except these (a selector returns whatever the series have).
    AnyExcept(BTreeSet<String>),
    /// At most these labels (after `sum by (...)`, `on (...)` and the like).
    AtMost(BTreeSet<String>),
}

impl LabelSet {
    fn any() -> Self {
        LabelSet::AnyExcept(BTreeSet::new())
    }

    fn none() -> Self {
        LabelSet::AtMost(BTreeSet::new())
    }

    /// Whether the result can carry `label`.
    pub fn may_have(&self, label: &str) -> bool {
        match self {
            LabelSet::AnyExcept(ex) => !ex.contains(label),
            LabelSet::AtMost(s) => s.contains(label),
        }
    }

    fn add(mut self, label: &str) -> Self {
        match &mut self {
            LabelSet::AnyExcept(ex) => {
                ex.remove(label);
            }
            LabelSet::AtMost(s) => {
                s.insert(label.to_string());
            }
        }
        self
    }

    fn remove_all<'a>(mut self, labels: impl IntoIterator<Item = &'a String>) -> Self {
        for l in labels {
            match &mut self {
                LabelSet::AnyExcept(ex) => {
                    ex.insert(l.clone());
                }
                LabelSet::AtMost(s) => {
                    s.remove(l);
                }
            }
        }
        self
    }

    fn keep_only(self, labels: &[String]) -> Self {
        LabelSet::AtMost(
            labels
                .iter()
                .filter(|l| self.may_have(l))
                .cloned()
                .collect(),
        )
    }

    fn union(self, other: LabelSet) -> Self {
        match (self, other) {
            (LabelSet::AtMost(a), LabelSet::AtMost(b)) => {
                LabelSet::AtMost(a.union(&b).cloned().collect())
            }
            (LabelSet::AnyExcept(a), LabelSet::AnyExcept(b)) => {
                LabelSet::AnyExcept(a.intersection(&b).cloned().collect())
            }
            (LabelSet::AnyExcept(a), LabelSet::AtMost(b))
            | (LabelSet::AtMost(b), LabelSet::AnyExcept(a)) => {
                LabelSet::AnyExcept(a.difference(&b).cloned().collect())
            }
        }
    }
}

/// The labels the result of `e` can carry, following aggregations, vector matching and label functions the
/// way Prometheus builds result metrics.
pub fn labels_of(e: &Expr) -> LabelSet {
    // Down the left of an operator chain without recursion (`a + b + ...` is as deep as it is long), then
    // back up: each operator keeps, narrows or widens what its left operand carries.
    let mut chain: Vec<&Expr> = Vec::new();
    let mut e = e;
    loop {
        match e {
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } | Expr::Subquery { expr, .. } => {
                e = expr
            }
            Expr::Binary { lhs, .. } => {
                chain.push(e);
                e = lhs;
            }
            _ => break,
        }
    }
    let mut scalar = is_scalar(e);
    let mut out = match e {
        Expr::Number { .. } | Expr::String { .. } => LabelSet::none(),
        Expr::Aggregate { .. } => aggregate_labels(e),
        Expr::Call { func, args, .. } => call_labels(func, args),
        _ => LabelSet::any(),
    };
    for b in chain.into_iter().rev() {
        let Some((_, _, rhs, _, _)) = binary(b) else {
            continue;
        };
        let rhs_scalar = is_scalar(rhs);
        if scalar {
            // A scalar on the left: the result is the right operand's.
            out = if rhs_scalar {
                LabelSet::none()
            } else {
                labels_of(rhs)
            };
            scalar = rhs_scalar;
        } else {
            out = binary_labels(b, out);
        }
    }
    out
}

fn aggregate_labels(a: &Expr) -> LabelSet {
    let Expr::Aggregate {
        op,
        expr,
        param,
        grouping,
        without,
        ..
    } = a
    else {
        return LabelSet::any();
    };
    let inner = labels_of(expr);
    // These pick whole series and keep their labels.
    if matches!(
        op,
        TokenKind::Topk | TokenKind::Bottomk | TokenKind::Limitk | TokenKind::LimitRatio
    ) {
        return inner;
    }
    let grouped = if *without {
        inner.remove_all(grouping)
    } else if grouping.is_empty() {
        LabelSet::none()
    } else {
        inner.keep_only(grouping)
    };
    if *op == TokenKind::CountValues {
        if let Some(Expr::String { value, .. }) = param.as_deref() {
            return grouped.add(value);
        }
        return LabelSet::any();
    }
    grouped
}

/// The labels of binary operation `b` whose left operand (a vector) carries `lhs`.
fn binary_labels(b: &Expr, lhs: LabelSet) -> LabelSet {
    let Some((o, _, rhs, _, matching)) = binary(b) else {
        return lhs;
    };
    if is_scalar(rhs) {
        return lhs;
    }
    match o {
        "and" | "unless" => return lhs,
        "or" => return lhs.union(labels_of(rhs)),
        _ => {}
    }
    let Some(m) = matching else {
        return lhs;
    };
    match m.card {
        Card::ManyToOne => m.include.iter().fold(lhs, |out, l| out.add(l)),
        Card::OneToMany => m.include.iter().fold(labels_of(rhs), |out, l| out.add(l)),
        // One-to-one: Prometheus keeps only the `on` labels, or drops the `ignoring` ones.
        _ if m.on => lhs.keep_only(&m.matching_labels),
        _ => lhs.remove_all(&m.matching_labels),
    }
}

fn call_labels(func: &str, args: &[Expr]) -> LabelSet {
    let string_arg = |i: usize| match args.get(i).map(strip_paren) {
        Some(Expr::String { value, .. }) => Some(value.clone()),
        _ => None,
    };
    match func {
        "label_replace" | "label_join" => {
            let inner = args.first().map_or(LabelSet::any(), labels_of);
            match string_arg(1) {
                Some(dst) => inner.add(&dst),
                None => LabelSet::any(),
            }
        }
        // absent() returns the labels of the selector's equality matchers, nothing else.
        "absent" | "absent_over_time" => match args.first().map(strip_paren) {
            Some(Expr::Vector(vs)) => equality_labels(vs),
            Some(Expr::Matrix { selector, .. }) => equality_labels(selector),
            _ => LabelSet::any(),
        },
        "vector" | "time" | "pi" | "scalar" => LabelSet::none(),
        "histogram_quantile" | "histogram_fraction" => args
            .iter()
            .rev()
            .find(|a| !is_scalar(a))
            .map_or(LabelSet::any(), |a| {
                labels_of(a).remove_all(&["le".to_string()])
            }),
        _ => args
            .iter()
            .find(|a| !is_scalar(a) && !matches!(strip_paren(a), Expr::String { .. }))
            .map_or(LabelSet::none(), labels_of),
    }
}

fn equality_labels(vs: &VectorSelector) -> LabelSet {
    LabelSet::AtMost(
        vs.matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && m.name != "__name__")
            .map(|m| m.name.clone())
            .collect(),
    )
}

/// Every string a label matcher's regex matches, when there are few (at most 64) and the regex says
/// exactly which: `1(\\.0)?` matches `1` and `1.0`, `a|b` matches `a` and `b`; `a.*` matches too many to list
/// (None). Prometheus anchors the regex at both ends, as this reads it.
pub fn regex_strings(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::Extractor;
    let hir = regex_syntax::ParserBuilder::new()
        .dot_matches_new_line(true)
        .build()
        .parse(pattern)
        .ok()?;
    let seq = Extractor::new().extract(&hir);
    if !seq.is_exact() {
        return None;
    }
    let lits = seq.literals()?;
    if lits.len() > 64 {
        return None;
    }
    lits.iter()
        .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok())
        .collect()
}

/// The literal prefixes every string a regex matches starts with, when they are few (at most 64): `2..`
/// starts with `2`, `5..|429` with `5` or `429`; `.*` may start with anything (None).
fn regex_prefixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .dot_matches_new_line(true)
        .build()
        .parse(pattern)
        .ok()?;
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix);
    let seq = ex.extract(&hir);
    let lits = seq.literals()?;
    (lits.len() <= 64).then(|| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// Whether no label value satisfies both matchers (on the same label).
fn matchers_disjoint(
    a: &crate::promql::syntax::ast::LabelMatcher,
    b: &crate::promql::syntax::ast::LabelMatcher,
) -> bool {
    let matches = |pattern: &str, v: &str| {
        crate::series::matcher::compile_anchored(pattern).is_ok_and(|r| r.is_match(v))
    };
    match (a.op, b.op) {
        (MatchOp::Equal, MatchOp::Equal) => a.value != b.value,
        (MatchOp::Equal, MatchOp::NotEqual) | (MatchOp::NotEqual, MatchOp::Equal) => {
            a.value == b.value
        }
        (MatchOp::Equal, MatchOp::Regexp) => !matches(&b.value, &a.value),
        (MatchOp::Regexp, MatchOp::Equal) => !matches(&a.value, &b.value),
        (MatchOp::Equal, MatchOp::NotRegexp) => matches(&b.value, &a.value),
        (MatchOp::NotRegexp, MatchOp::Equal) => matches(&a.value, &b.value),
        (MatchOp::Regexp, MatchOp::NotRegexp) | (MatchOp::NotRegexp, MatchOp::Regexp) => {
            a.value == b.value
        }
        (MatchOp::Regexp, MatchOp::Regexp) => {
            if let (Some(x), Some(y)) = (regex_strings(&a.value), regex_strings(&b.value)) {
                return !x.iter().any(|v| y.contains(v));
            }
            // Every match of each starts with one of its prefixes: no prefix of one may begin the other's.
            match (regex_prefixes(&a.value), regex_prefixes(&b.value)) {
                (Some(x), Some(y)) => !x
                    .iter()
                    .any(|p| y.iter().any(|q| p.starts_with(q) || q.starts_with(p))),
                _ => false,
            }
        }
        _ => false,
    }
}

/// A label by which the series of two expressions can never be the same: both keep it from their one
/// selector, and their selectors' matchers on it have no value in common (`sum by (code) (x{code=~"2.."})`
/// and `sum by (code) (x{code=~"3.."})`). Labels in `set` (set by the rule, the same on both) are no proof.
/// None when no such label is found, which includes every expression with more than one selector or a label
/// function.
pub fn tell_apart(a: &Expr, b: &Expr, set: &[&str]) -> Option<String> {
    fn one_selector(e: &Expr) -> Option<&VectorSelector> {
        let mut found: Vec<&VectorSelector> = Vec::new();
        let mut rewrites = false;
        walk(e, &mut |x| match x {
            Expr::Vector(vs) => found.push(vs),
            Expr::Matrix { selector, .. } => found.push(selector),
            Expr::Call { func, .. } if func.starts_with("label_") => rewrites = true,
            _ => {}
        });
        (found.len() == 1 && !rewrites).then(|| found[0])
    }
    let (sa, sb) = (one_selector(a)?, one_selector(b)?);
    let (la, lb) = (labels_of(a), labels_of(b));
    let mut names: Vec<&str> = sa.matchers.iter().map(|m| m.name.as_str()).collect();
    names.sort();
    names.dedup();
    names.into_iter().find_map(|l| {
        if l == "__name__" || set.contains(&l) || !la.may_have(l) || !lb.may_have(l) {
            return None;
        }
        let ma: Vec<_> = sa.matchers.iter().filter(|m| m.name == l).collect();
        let mb: Vec<_> = sb.matchers.iter().filter(|m| m.name == l).collect();
        ma.iter()
            .any(|x| mb.iter().any(|y| matchers_disjoint(x, y)))
            .then(|| l.to_string())
    })
}

/// Whether a selector's matchers on `label` pick one value of it, up to how a number is written: `le="1"`,
/// or `le=~"1(\\.0)?"` (the bound as Prometheus 2 and 3 write it). The numbers compare as floats.
pub fn one_number_value(
    matchers: &[crate::promql::syntax::ast::LabelMatcher],
    label: &str,
) -> bool {
    let as_number = |s: &str| -> Option<f64> {
        match s {
            "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
            "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
            _ => s.parse::<f64>().ok(),
        }
    };
    matchers
        .iter()
        .filter(|m| m.name == label)
        .any(|m| match m.op {
            MatchOp::Equal => true,
            MatchOp::Regexp => regex_strings(&m.value).is_some_and(|all| {
                let nums: Option<Vec<f64>> = all.iter().map(|s| as_number(s)).collect();
                nums.is_some_and(|n| {
                    !n.is_empty() && n.iter().all(|x| x.to_bits() == n[0].to_bits())
                })
            }),
            _ => false,
        })
}

/// Whether `e` is a scalar (a number, `scalar(...)`, `time()`, arithmetic of those).
pub fn is_scalar(e: &Expr) -> bool {
    e.value_type() == ValueType::Scalar
}

/// The values an expression can provably take: `[lo, hi]`, or `None` when nothing is known.
pub fn value_range(e: &Expr) -> Option<(f64, f64)> {
    match strip_paren(e) {
        Expr::Number { value, .. } => Some((*value, *value)),
        Expr::Call { func, .. } => match func.as_str() {
            // These return 1 for each series they return, or nothing.
            "absent" | "absent_over_time" | "present_over_time" => Some((1.0, 1.0)),
            "count_over_time" => Some((1.0, f64::INFINITY)),
            "rate" | "irate" | "increase" | "resets" | "changes" => Some((0.0, f64::INFINITY)),
            _ => None,
        },
        Expr::Aggregate { op, expr, .. } => match op {
            // count() never returns 0: with nothing to count it returns no series at all.
            TokenKind::Count => Some((1.0, f64::INFINITY)),
            TokenKind::Group => Some((1.0, 1.0)),
            TokenKind::Sum
            | TokenKind::Avg
            | TokenKind::Min
            | TokenKind::Max
            | TokenKind::Topk
            | TokenKind::Bottomk => {
                let (lo, hi) = value_range(expr)?;
                // Sums of non-negative values stay at least the smallest one; of anything else nothing is known.
                if lo < 0.0 {
                    return None;
                }
                if *op == TokenKind::Sum {
                    Some((lo, f64::INFINITY))
                } else {
                    Some((lo, hi))
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether `e` uses an experimental function (or the experimental `limitk` / `limit_ratio` aggregations):
/// what Prometheus refuses to parse unless started with `--enable-feature=promql-experimental-functions`.
pub fn uses_experimental(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        found |= match x {
            Expr::Call { func, .. } => {
                crate::promql::syntax::functions::get(func).is_some_and(|f| f.experimental)
            }
            Expr::Aggregate { op, .. } => matches!(op, TokenKind::Limitk | TokenKind::LimitRatio),
            _ => false,
        };
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_strings_lists_a_finite_regex_and_nothing_else() {
        let s = |p: &str| {
            regex_strings(p).map(|mut v| {
                v.sort();
                v
            })
        };
        assert_eq!(s(r"1(\.0)?"), Some(vec!["1".into(), "1.0".into()]));
        assert_eq!(s("a|b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(s("api"), Some(vec!["api".into()]));
        assert_eq!(s("a.*"), None);
        assert_eq!(s("0.5"), None, "`.` is any character");
        assert_eq!(s("[0-9]+"), None);
        assert_eq!(s("("), None, "not a regex");
    }

    #[test]
    fn experimental_constructs_are_found_anywhere() {
        let p = |t: &str| {
            crate::promql::parse::parse_at(t, &crate::promql::parse::rule_file_options()).unwrap()
        };
        assert!(uses_experimental(&p("sum(sort_by_label(up, \"job\"))")));
        assert!(uses_experimental(&p("limitk(2, up) > 0")));
        assert!(!uses_experimental(&p("sum by (job) (rate(x[5m])) > 0")));
        assert!(!uses_experimental(&p("topk(2, up)")));
    }
    use crate::promql::parse;

    fn labels(q: &str) -> LabelSet {
        labels_of(&parse(q).unwrap())
    }

    #[test]
    fn labels_follow_aggregation_and_matching() {
        assert!(labels("up").may_have("pod"));
        assert!(!labels("sum by (job) (up)").may_have("pod"));
        assert!(labels("sum by (job) (up)").may_have("job"));
        assert!(!labels("sum without (pod) (up)").may_have("pod"));
        assert!(labels("sum without (pod) (up)").may_have("node"));
        assert!(!labels("sum(up) > 0").may_have("job"));
        assert!(
            labels("label_replace(sum by (job) (up), \"pod\", \"$1\", \"job\", \"(.*)\")")
                .may_have("pod")
        );
        assert!(labels("sum by (job) (up) * on (job) group_left (team) info").may_have("team"));
        assert!(!labels("a / on (job) b").may_have("pod"));
        assert!(labels("a / ignoring (x) b").may_have("pod"));
        assert!(!labels("a / ignoring (x) b").may_have("x"));
        assert!(labels("absent(up{job=\"x\"})").may_have("job"));
        assert!(!labels("absent(up{job=\"x\"})").may_have("instance"));
        assert!(
            !labels("histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))")
                .may_have("le")
        );
        assert!(labels("sum by (job) (up) or sum by (pod) (up)").may_have("pod"));
        assert!(labels("topk(3, sum by (job, pod) (up))").may_have("pod"));
        assert!(!labels("count_values(\"version\", build_info)").may_have("job"));
        assert!(labels("count_values(\"version\", build_info)").may_have("version"));
    }

    #[test]
    fn value_ranges() {
        assert_eq!(
            value_range(&parse("count(up)").unwrap()),
            Some((1.0, f64::INFINITY))
        );
        assert_eq!(value_range(&parse("absent(up)").unwrap()), Some((1.0, 1.0)));
        assert_eq!(
            value_range(&parse("sum(rate(x_total[5m]))").unwrap()),
            Some((0.0, f64::INFINITY))
        );
        assert_eq!(value_range(&parse("up").unwrap()), None);
        assert_eq!(value_range(&parse("sum(delta(x[5m]))").unwrap()), None);
    }
}
