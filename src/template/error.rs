//! What can go wrong with a template: it does not parse, or it fails while it runs.

/// A template error, in Go's wording where we can reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The text does not parse. `line`/`col` are 1-based inside the template text (col 0 when unknown).
    #[error("{message}")]
    Parse {
        message: String,
        line: usize,
        col: usize,
    },
    /// Execution failed.
    #[error("{0}")]
    Exec(String),
}

impl TemplateError {
    /// Line and column (1-based) inside the template, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            TemplateError::Parse { line, col, .. } if *line > 0 => Some((*line, *col)),
            _ => None,
        }
    }
}
