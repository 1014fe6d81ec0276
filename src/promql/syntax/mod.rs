//! ruletest's own PromQL front end (issue #27), landing beside promql-parser in steps: the lexer (written from
//! Prometheus 3.14's and checked against its table) and a first parser for the 2.x grammar with spans, checked
//! against Prometheus's parser table (docs/conformance.md has the figures). Nothing in the engine uses it yet.

pub mod ast;
pub mod durations;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod token;

pub use ast::{Expr, Span};
pub use lexer::{Lexer, Token};
pub use parser::{parse, ParseError};
pub use printer::{pretty, print};
pub use token::TokenKind;
