//! ruletest's own PromQL front end: the lexer (written from Prometheus 3.14's and checked against its table),
//! the parser with spans and Prometheus's type checks and errors (checked against its parser table;
//! docs/conformance.md has the figures), the printer, and duration expressions resolved per query. Every
//! consumer reads this tree (issue #28): the engine, rule loading, lints, `tune`, live mode.

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
