//! Facts about a parsed PromQL expression that several checks need: walking the tree, the metric name a
//! selector reads, which labels a result can carry, and the range of values a function can return.
//! Everything here is static: no series are read.

use promql_parser::label::MatchOp;
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, VectorMatchCardinality, VectorSelector,
};
use std::collections::BTreeSet;

/// The expression without enclosing parentheses.
pub fn strip_paren(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Direct sub-expressions, in source order.
pub fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Aggregate(a) => {
            let mut v: Vec<&Expr> = a.param.iter().map(|p| p.as_ref()).collect();
            v.push(&a.expr);
            v
        }
        Expr::Unary(u) => vec![&u.expr],
        Expr::Binary(b) => vec![&b.lhs, &b.rhs],
        Expr::Paren(p) => vec![&p.expr],
        Expr::Subquery(s) => vec![&s.expr],
        Expr::Call(c) => c.args.args.iter().map(|a| a.as_ref()).collect(),
        _ => vec![],
    }
}

/// Visits `e` and every sub-expression, parents first.
pub fn walk<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    for c in children(e) {
        walk(c, f);
    }
}

/// The operator of a binary expression as written (`/`, `>`, `and`, ...).
pub fn op(b: &BinaryExpr) -> String {
    b.op.to_string()
}

/// The aggregation operator as written (`sum`, `topk`, ...).
pub fn agg_op(a: &AggregateExpr) -> String {
    a.op.to_string()
}

pub fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | ">" | ">=" | "<" | "<=")
}

/// Whether a comparison filters (no `bool` modifier), so the alert fires on the surviving series.
pub fn is_filter(b: &BinaryExpr) -> bool {
    is_comparison(&op(b)) && !b.return_bool()
}

/// A number literal (possibly negated or parenthesised).
pub fn number(e: &Expr) -> Option<f64> {
    match strip_paren(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Unary(u) => number(&u.expr).map(|v| -v),
        _ => None,
    }
}

/// The metric name a vector or matrix selector reads, from `name{...}` or `{__name__="name"}`.
pub fn selector_name(e: &Expr) -> Option<&str> {
    match strip_paren(e) {
        Expr::VectorSelector(vs) => vector_selector_name(vs),
        Expr::MatrixSelector(ms) => vector_selector_name(&ms.vs),
        _ => None,
    }
}

pub fn vector_selector_name(vs: &VectorSelector) -> Option<&str> {
    if let Some(n) = &vs.name {
        return Some(n.as_str());
    }
    vs.matchers
        .matchers
        .iter()
        .find(|m| m.name == "__name__" && m.op == MatchOp::Equal)
        .map(|m| m.value.as_str())
}

/// A recording rule's output (`job:http_requests:rate5m`): naming conventions say nothing about its type.
pub fn is_recorded_name(name: &str) -> bool {
    name.contains(':')
}

/// The function called, if `e` is a call.
pub fn call(e: &Expr) -> Option<&Call> {
    match strip_paren(e) {
        Expr::Call(c) => Some(c),
        _ => None,
    }
}

/// The range of a call's matrix argument in milliseconds, e.g. 15m for `rate(x[15m])`.
pub fn range_arg_ms(c: &Call) -> Option<i64> {
    c.args.args.iter().find_map(|a| match strip_paren(a) {
        Expr::MatrixSelector(m) => Some(m.range.as_millis() as i64),
        Expr::Subquery(s) => Some(s.range.as_millis() as i64),
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
    match e {
        Expr::Paren(p) => labels_of(&p.expr),
        Expr::Unary(u) => labels_of(&u.expr),
        Expr::Subquery(s) => labels_of(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => LabelSet::none(),
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) | Expr::Extension(_) => LabelSet::any(),
        Expr::Aggregate(a) => aggregate_labels(a),
        Expr::Binary(b) => binary_labels(b),
        Expr::Call(c) => call_labels(c),
    }
}

fn aggregate_labels(a: &AggregateExpr) -> LabelSet {
    let inner = labels_of(&a.expr);
    let op = agg_op(a);
    // These pick whole series and keep their labels.
    if matches!(op.as_str(), "topk" | "bottomk" | "limitk" | "limit_ratio") {
        return inner;
    }
    let grouped = match &a.modifier {
        None => LabelSet::none(),
        Some(LabelModifier::Include(by)) => inner.keep_only(&by.labels),
        Some(LabelModifier::Exclude(without)) => inner.remove_all(&without.labels),
    };
    if op == "count_values" {
        if let Some(Expr::StringLiteral(s)) = a.param.as_deref() {
            return grouped.add(&s.val);
        }
        return LabelSet::any();
    }
    grouped
}

fn binary_labels(b: &BinaryExpr) -> LabelSet {
    let lhs_scalar = is_scalar(&b.lhs);
    let rhs_scalar = is_scalar(&b.rhs);
    if lhs_scalar && rhs_scalar {
        return LabelSet::none();
    }
    if lhs_scalar {
        return labels_of(&b.rhs);
    }
    if rhs_scalar {
        return labels_of(&b.lhs);
    }
    let o = op(b);
    match o.as_str() {
        "and" | "unless" => return labels_of(&b.lhs),
        "or" => return labels_of(&b.lhs).union(labels_of(&b.rhs)),
        _ => {}
    }
    let Some(m) = &b.modifier else {
        return labels_of(&b.lhs);
    };
    match &m.card {
        VectorMatchCardinality::ManyToOne(extra) => {
            let mut out = labels_of(&b.lhs);
            for l in &extra.labels {
                out = out.add(l);
            }
            out
        }
        VectorMatchCardinality::OneToMany(extra) => {
            let mut out = labels_of(&b.rhs);
            for l in &extra.labels {
                out = out.add(l);
            }
            out
        }
        // One-to-one: Prometheus keeps only the `on` labels, or drops the `ignoring` ones.
        _ => match &m.matching {
            Some(LabelModifier::Include(on)) => labels_of(&b.lhs).keep_only(&on.labels),
            Some(LabelModifier::Exclude(ign)) => labels_of(&b.lhs).remove_all(&ign.labels),
            None => labels_of(&b.lhs),
        },
    }
}

fn call_labels(c: &Call) -> LabelSet {
    let args = &c.args.args;
    let string_arg = |i: usize| match args.get(i).map(|a| strip_paren(a)) {
        Some(Expr::StringLiteral(s)) => Some(s.val.clone()),
        _ => None,
    };
    match c.func.name {
        "label_replace" | "label_join" => {
            let inner = args.first().map_or(LabelSet::any(), |a| labels_of(a));
            match string_arg(1) {
                Some(dst) => inner.add(&dst),
                None => LabelSet::any(),
            }
        }
        // absent() returns the labels of the selector's equality matchers, nothing else.
        "absent" | "absent_over_time" => match args.first().map(|a| strip_paren(a)) {
            Some(Expr::VectorSelector(vs)) => equality_labels(vs),
            Some(Expr::MatrixSelector(ms)) => equality_labels(&ms.vs),
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
            .find(|a| !is_scalar(a) && !matches!(strip_paren(a), Expr::StringLiteral(_)))
            .map_or(LabelSet::none(), |a| labels_of(a)),
    }
}

fn equality_labels(vs: &VectorSelector) -> LabelSet {
    LabelSet::AtMost(
        vs.matchers
            .matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && m.name != "__name__")
            .map(|m| m.name.clone())
            .collect(),
    )
}

/// Whether `e` is a scalar (a number, `scalar(...)`, `time()`, arithmetic of those).
pub fn is_scalar(e: &Expr) -> bool {
    match strip_paren(e) {
        Expr::NumberLiteral(_) => true,
        Expr::Unary(u) => is_scalar(&u.expr),
        Expr::Binary(b) => is_scalar(&b.lhs) && is_scalar(&b.rhs),
        Expr::Call(c) => matches!(c.func.name, "scalar" | "time" | "pi"),
        _ => false,
    }
}

/// The values an expression can provably take: `[lo, hi]`, or `None` when nothing is known.
pub fn value_range(e: &Expr) -> Option<(f64, f64)> {
    match strip_paren(e) {
        Expr::NumberLiteral(n) => Some((n.val, n.val)),
        Expr::Call(c) => match c.func.name {
            // These return 1 for each series they return, or nothing.
            "absent" | "absent_over_time" | "present_over_time" => Some((1.0, 1.0)),
            "count_over_time" => Some((1.0, f64::INFINITY)),
            "rate" | "irate" | "increase" | "resets" | "changes" => Some((0.0, f64::INFINITY)),
            _ => None,
        },
        Expr::Aggregate(a) => match agg_op(a).as_str() {
            // count() never returns 0: with nothing to count it returns no series at all.
            "count" => Some((1.0, f64::INFINITY)),
            "group" => Some((1.0, 1.0)),
            "sum" | "avg" | "min" | "max" | "topk" | "bottomk" => {
                let (lo, hi) = value_range(&a.expr)?;
                // Sums of non-negative values stay at least the smallest one; of anything else nothing is known.
                if lo < 0.0 {
                    return None;
                }
                if agg_op(a) == "sum" {
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

#[cfg(test)]
mod tests {
    use super::*;
    use promql_parser::parser::parse;

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
