//! ruletest's own PromQL front end (issue #27), landing beside promql-parser in steps: so far the lexer,
//! written from Prometheus 3.14's and checked against its table. Nothing in the engine uses it yet.

pub mod lexer;
pub mod token;

pub use lexer::{Lexer, Token};
pub use token::TokenKind;
