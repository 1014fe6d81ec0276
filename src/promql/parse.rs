//! PromQL text to syntax tree, through promql-parser 0.11. Its error text is kept; where it rejects
//! syntax newer Prometheus versions accept, the error says so.

pub use promql_parser::parser::Expr;

/// The parser's rejection of a query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported syntax: {0}")]
    Unsupported(String),
}

/// Parses a PromQL expression.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    promql_parser::parser::parse(text).map_err(|msg| {
        // Syntax promql-parser 0.11 does not know (duration arithmetic, fill modifiers written in
        // newer forms, ...) surfaces as a generic error; name the likely cause.
        let newer = [
            "step()",
            "range()",
            "fill(",
            "fill_left",
            "fill_right",
            "smoothed",
            "anchored",
        ];
        if newer.iter().any(|k| text.contains(k)) {
            ParseError::Unsupported(format!(
                "{msg} (query uses syntax newer than promql-parser 0.11 reads)"
            ))
        } else {
            ParseError::Invalid(msg)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports() {
        assert!(parse("sum by (a) (rate(x[5m]))").is_ok());
        assert!(matches!(parse("sum(("), Err(ParseError::Invalid(_))));
    }
}
