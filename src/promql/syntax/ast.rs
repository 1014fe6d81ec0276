//! The syntax tree of our own PromQL front end: Prometheus's node types (`promql/parser/ast.go`), each with its
//! byte span in the query text.

use super::token::TokenKind;

/// A byte range `[start, end)` of the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A label matcher's operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regexp,
    NotRegexp,
}

impl MatchOp {
    /// Prometheus's name (`labels.MatchEqual`).
    pub fn name(self) -> &'static str {
        match self {
            MatchOp::Equal => "MatchEqual",
            MatchOp::NotEqual => "MatchNotEqual",
            MatchOp::Regexp => "MatchRegexp",
            MatchOp::NotRegexp => "MatchNotRegexp",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LabelMatcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

/// `@ T`, `@ start()` or `@ end()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum At {
    /// Milliseconds since the epoch.
    Time(i64),
    Start,
    End,
}

/// A duration written as arithmetic (`[5m * 2]`, `offset (1h - step())`, `max_of(range(), 5m)`), an
/// experimental feature of Prometheus 3 (`promql-duration-expr`): Prometheus's `DurationExpr`.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationNode {
    /// A number (seconds) or a duration literal (`duration`: written with a unit).
    Number {
        value: f64,
        duration: bool,
        span: Span,
    },
    Expr(DurationExpr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DurationExpr {
    /// `ADD` / `SUB` / `MUL` / `DIV` / `MOD` / `POW`, `STEP`, `RANGE`, `MAX_OF`, `MIN_OF`.
    pub op: TokenKind,
    pub lhs: Option<Box<DurationNode>>,
    pub rhs: Option<Box<DurationNode>>,
    /// Written in parentheses.
    pub wrapped: bool,
    /// For unary operators, `step()`, `range()`, `max_of` / `min_of` and wrapped literals: where they start
    /// and (but unary operators) end.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name written before the braces (or in them as a bare quoted name), or empty.
    pub name: String,
    pub matchers: Vec<LabelMatcher>,
    /// Offset in milliseconds as written (`offset 5m`, negative for `offset -5m`).
    pub offset_ms: i64,
    /// `offset` written as a duration expression.
    pub offset_expr: Option<DurationExpr>,
    pub at: Option<At>,
    pub anchored: bool,
    pub smoothed: bool,
    /// The second argument of `info()` may match everything (`info(x, {})`).
    pub bypass_empty_matcher_check: bool,
    pub span: Span,
}

/// How two vectors are matched in a binary operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    pub card: Card,
    pub matching_labels: Vec<String>,
    pub on: bool,
    pub include: Vec<String>,
    pub fill_lhs: Option<f64>,
    pub fill_rhs: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number {
        value: f64,
        span: Span,
    },
    String {
        value: String,
        span: Span,
    },
    Vector(VectorSelector),
    Matrix {
        selector: VectorSelector,
        range_ms: i64,
        range_expr: Option<DurationExpr>,
        /// Just past the closing bracket.
        end: usize,
    },
    Subquery {
        expr: Box<Expr>,
        range_ms: i64,
        range_expr: Option<DurationExpr>,
        step_ms: i64,
        step_expr: Option<DurationExpr>,
        offset_ms: i64,
        offset_expr: Option<DurationExpr>,
        at: Option<At>,
        end: usize,
    },
    Paren {
        expr: Box<Expr>,
        span: Span,
    },
    Unary {
        op: TokenKind,
        expr: Box<Expr>,
        start: usize,
    },
    Binary {
        op: TokenKind,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        /// `None` between two scalars (Prometheus leaves it nil there).
        matching: Option<VectorMatching>,
        return_bool: bool,
    },
    Call {
        func: String,
        args: Vec<Expr>,
        span: Span,
    },
    Aggregate {
        op: TokenKind,
        expr: Box<Expr>,
        param: Option<Box<Expr>>,
        grouping: Vec<String>,
        without: bool,
        span: Span,
    },
}

/// The type of an expression's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// Prometheus's word for it in messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
}

impl Expr {
    /// The expression's span, as Prometheus's `PositionRange()` gives it.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number { span, .. }
            | Expr::String { span, .. }
            | Expr::Paren { span, .. }
            | Expr::Call { span, .. }
            | Expr::Aggregate { span, .. } => *span,
            Expr::Vector(vs) => vs.span,
            Expr::Matrix { selector, end, .. } => Span::new(selector.span.start, *end),
            Expr::Subquery { expr, end, .. } => Span::new(expr.span().start, *end),
            Expr::Unary { expr, start, .. } => Span::new(*start, expr.span().end),
            Expr::Binary { lhs, rhs, .. } => Span::new(lhs.span().start, rhs.span().end),
        }
    }

    /// The type of value the expression yields.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number { .. } => ValueType::Scalar,
            Expr::String { .. } => ValueType::String,
            Expr::Vector(_) | Expr::Aggregate { .. } => ValueType::Vector,
            Expr::Matrix { .. } | Expr::Subquery { .. } => ValueType::Matrix,
            Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => expr.value_type(),
            Expr::Binary { lhs, rhs, .. } => {
                if lhs.value_type() == ValueType::Scalar && rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Call { func, .. } => super::functions::return_type(func),
        }
    }
}
