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
    /// The matchers compiled for the store, filled by the engine the first time the selector is evaluated,
    /// so a rule evaluated at every tick compiles them once.
    pub compiled: CompiledMatchers,
}

/// A selector's matchers as the store uses them (regexes compiled), or the error compiling them gave. A
/// clone starts empty (a copy may be changed before it is evaluated), and two are always equal: the cache
/// is no part of what the query says.
#[derive(Default)]
pub struct CompiledMatchers(
    std::sync::OnceLock<Result<std::sync::Arc<[crate::series::Matcher]>, String>>,
);

impl CompiledMatchers {
    /// The compiled matchers, made by `compile` the first time.
    pub fn get_or_compile(
        &self,
        compile: impl FnOnce() -> Result<Vec<crate::series::Matcher>, String>,
    ) -> Result<std::sync::Arc<[crate::series::Matcher]>, String> {
        self.0.get_or_init(|| compile().map(Into::into)).clone()
    }
}

impl Clone for CompiledMatchers {
    fn clone(&self) -> Self {
        CompiledMatchers::default()
    }
}

impl PartialEq for CompiledMatchers {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for CompiledMatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "CompiledMatchers(compiled)"
        } else {
            "CompiledMatchers"
        })
    }
}

impl VectorSelector {
    /// The metric name it reads: written before the braces, or as `{__name__="name"}`.
    pub fn metric_name(&self) -> Option<&str> {
        if !self.name.is_empty() {
            return Some(&self.name);
        }
        self.matchers
            .iter()
            .find(|m| m.name == "__name__" && m.op == MatchOp::Equal)
            .map(|m| m.value.as_str())
    }

    /// A selector with nothing set, to take another's place.
    pub fn empty() -> VectorSelector {
        VectorSelector {
            name: String::new(),
            matchers: Vec::new(),
            offset_ms: 0,
            offset_expr: None,
            at: None,
            anchored: false,
            smoothed: false,
            bypass_empty_matcher_check: false,
            span: Span::new(0, 0),
            compiled: CompiledMatchers::default(),
        }
    }
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
        Span::new(self.start(), self.end())
    }

    /// Where the expression starts: found along its left edge without recursion (a chain of 100,000
    /// operators is as deep as it is long).
    fn start(&self) -> usize {
        let mut e = self;
        loop {
            match e {
                Expr::Binary { lhs, .. } => e = lhs,
                Expr::Subquery { expr, .. } => e = expr,
                Expr::Matrix { selector, .. } => return selector.span.start,
                Expr::Unary { start, .. } => return *start,
                Expr::Vector(vs) => return vs.span.start,
                Expr::Number { span, .. }
                | Expr::String { span, .. }
                | Expr::Paren { span, .. }
                | Expr::Call { span, .. }
                | Expr::Aggregate { span, .. } => return span.start,
            }
        }
    }

    /// Where the expression ends, found along its right edge without recursion.
    fn end(&self) -> usize {
        let mut e = self;
        loop {
            match e {
                Expr::Binary { rhs, .. } => e = rhs,
                Expr::Unary { expr, .. } => e = expr,
                Expr::Matrix { end, .. } | Expr::Subquery { end, .. } => return *end,
                Expr::Vector(vs) => return vs.span.end,
                Expr::Number { span, .. }
                | Expr::String { span, .. }
                | Expr::Paren { span, .. }
                | Expr::Call { span, .. }
                | Expr::Aggregate { span, .. } => return span.end,
            }
        }
    }

    /// The type of value the expression yields. Operator chains are walked with a stack of their own, not
    /// by recursion.
    pub fn value_type(&self) -> ValueType {
        let mut e = self;
        loop {
            match e {
                Expr::Number { .. } => return ValueType::Scalar,
                Expr::String { .. } => return ValueType::String,
                Expr::Vector(_) | Expr::Aggregate { .. } => return ValueType::Vector,
                Expr::Matrix { .. } | Expr::Subquery { .. } => return ValueType::Matrix,
                Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => e = expr,
                Expr::Call { func, .. } => return super::functions::return_type(func),
                Expr::Binary { .. } => break,
            }
        }
        // A binary operation is a scalar when every operand is one (through parentheses and signs).
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            match x {
                Expr::Binary { lhs, rhs, .. } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                Expr::Paren { expr, .. } | Expr::Unary { expr, .. } => stack.push(expr),
                leaf if leaf.value_type() == ValueType::Scalar => {}
                _ => return ValueType::Vector,
            }
        }
        ValueType::Scalar
    }
}

impl Expr {
    /// The expression inside any enclosing parentheses.
    pub fn without_parens(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren { expr, .. } = e {
            e = expr;
        }
        e
    }

    /// A leaf without a place in any text, to stand where a sub-expression is taken out for a moment.
    pub(crate) fn placeholder() -> Expr {
        Expr::Number {
            value: 0.0,
            span: Span::new(0, 0),
        }
    }
}

impl Drop for Expr {
    /// Takes operator chains and nestings apart with a stack of its own: the compiler's drop would recurse as
    /// deep as the tree is (100,000 levels for `up + up + ...`), past the end of the thread's stack.
    fn drop(&mut self) {
        let mut stack: Vec<Expr> = Vec::new();
        take_children(self, &mut stack);
        while let Some(mut child) = stack.pop() {
            take_children(&mut child, &mut stack);
            // `child` now has no boxed children and drops without recursion.
        }
    }
}

/// Moves `e`'s boxed sub-expressions that have children of their own onto `stack`, leaving cheap leaves in
/// their place. Calls and aggregations keep theirs: they nest only as deep as the parser allows.
fn take_children(e: &mut Expr, stack: &mut Vec<Expr>) {
    fn take(child: &mut Box<Expr>, stack: &mut Vec<Expr>) {
        if !matches!(
            **child,
            Expr::Number { .. } | Expr::String { .. } | Expr::Vector(_) | Expr::Matrix { .. }
        ) {
            stack.push(*std::mem::replace(child, Box::new(Expr::placeholder())));
        }
    }
    match e {
        Expr::Binary { lhs, rhs, .. } => {
            take(lhs, stack);
            take(rhs, stack);
        }
        Expr::Paren { expr, .. } | Expr::Unary { expr, .. } | Expr::Subquery { expr, .. } => {
            take(expr, stack)
        }
        _ => {}
    }
}
