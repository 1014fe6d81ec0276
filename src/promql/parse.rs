//! PromQL text to syntax tree, through our own front end ([`super::syntax`]) with the PromQL features and
//! the Prometheus version the running command set. Errors are Prometheus's, with its `line:column:` prefix.

use super::syntax::ast::Expr as E;
pub use super::syntax::Expr;

/// The parser's rejection of a query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Invalid(String),
}

/// Direct sub-expressions, in source order.
pub fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        E::Aggregate { expr, param, .. } => {
            let mut v: Vec<&Expr> = param.iter().map(|p| p.as_ref()).collect();
            v.push(expr);
            v
        }
        E::Unary { expr, .. } | E::Paren { expr, .. } | E::Subquery { expr, .. } => vec![expr],
        E::Binary { lhs, rhs, .. } => vec![lhs, rhs],
        E::Call { args, .. } => args.iter().collect(),
        _ => vec![],
    }
}

/// Visits `e` and every sub-expression, parents first (with a stack of its own: operator chains are as
/// deep as they are long).
pub fn walk<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        f(e);
        let c = children(e);
        stack.extend(c.into_iter().rev());
    }
}

/// Parses a PromQL expression (as an instant query: `step()` and `range()` in duration expressions are 0).
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    parse_for_query(text, 0, 0)
}

/// The parser options for the PromQL features and Prometheus version the running command installed.
pub fn active_options() -> super::syntax::parser::Options {
    options_for(
        super::features::Features::active(),
        crate::semantics::Semantics::active(),
    )
}

/// The options rule files are read with: the installed features, and experimental functions always (the
/// `promql/experimental-function` check reports those, with its advice).
pub fn rule_file_options() -> super::syntax::parser::Options {
    super::syntax::parser::Options {
        experimental_functions: true,
        ..active_options()
    }
}

/// The parser options for a set of PromQL features under a Prometheus version.
pub fn options_for(
    f: super::features::Features,
    semantics: crate::semantics::Semantics,
) -> super::syntax::parser::Options {
    use super::features::Feature;
    super::syntax::parser::Options {
        experimental_functions: f.has(Feature::ExperimentalFunctions),
        duration_expr: f.has(Feature::DurationExpr),
        extended_range_selectors: f.has(Feature::ExtendedRangeSelectors),
        binop_fill_modifiers: f.has(Feature::BinopFillModifiers),
        // Prometheus 2 has `holt_winters`, a stable function there.
        prometheus2_functions: semantics.has(crate::semantics::Difference::HoltWinters),
    }
}

/// Parses a PromQL expression for a query of the given step and range (ms), which duration expressions
/// such as `[step()*2]` depend on.
///
/// Experimental constructs need their feature ([`super::features`]): without it the text is refused with
/// Prometheus's parse error, as the server refuses such a rule.
pub fn parse_for_query(text: &str, step_ms: i64, range_ms: i64) -> Result<Expr, ParseError> {
    parse_inner(text, step_ms, range_ms, &active_options()).map_err(|(_, m)| ParseError::Invalid(m))
}

/// [`parse`] with `options`, and the byte offset in `text` an error points at (to place it in a rule file).
pub fn parse_at(
    text: &str,
    options: &super::syntax::parser::Options,
) -> Result<Expr, (usize, String)> {
    parse_inner(text, 0, 0, options)
}

fn parse_inner(
    text: &str,
    step_ms: i64,
    range_ms: i64,
    options: &super::syntax::parser::Options,
) -> Result<Expr, (usize, String)> {
    if let Some(e) = super::legacy_names::quoted_name_in_query(text) {
        return Err((0, e));
    }
    let mut expr =
        super::syntax::parser::parse_with(text, options).map_err(|errors| {
            match errors.first() {
                Some(e) => (e.start, e.text_in(text)),
                None => (0, "parse error".into()),
            }
        })?;
    super::syntax::durations::resolve(&mut expr, step_ms, range_ms).map_err(|m| (0, m))?;
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports() {
        assert!(parse("sum by (a) (rate(x[5m]))").is_ok());
        assert_eq!(
            parse("sum((").unwrap_err().to_string(),
            "1:6: parse error: unclosed left parenthesis"
        );
        // Errors point at the line and column inside a multi-line query.
        assert_eq!(
            parse("sum(\n  rate(x[5m]) +\n  )").unwrap_err().to_string(),
            "3:3: parse error: unexpected \")\""
        );
    }

    #[test]
    fn range_modifiers_need_their_feature_and_a_fitting_function() {
        let none = options_for(super::super::features::Features::none(), Default::default());
        let e =
            super::super::syntax::parser::parse_with("rate(foo[3m] smoothed)", &none).unwrap_err();
        assert_eq!(
            e[0].text_in("rate(foo[3m] smoothed)"),
            "1:6: parse error: smoothed modifier is experimental and not enabled"
        );
        // With the feature (library callers get every one), the misuse is refused when evaluated.
        assert!(parse("deriv(foo[3m] smoothed)").is_ok());
        let store = crate::series::Store::new();
        let err = crate::promql::Engine::default()
            .instant_query(&store, "deriv(foo[3m] smoothed)", 0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "smoothed modifier can only be used with: delta, increase, rate - not with deriv"
        );
    }

    #[test]
    fn children_and_walk_visit_in_source_order() {
        let e = parse("topk(2, a + b) or c").unwrap();
        let mut names = Vec::new();
        walk(&e, &mut |e| {
            if let E::Vector(vs) = e {
                names.push(vs.name.clone());
            }
        });
        assert_eq!(names, ["a", "b", "c"]);
    }
}
