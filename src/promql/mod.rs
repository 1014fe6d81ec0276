//! The PromQL stage: parsing (our own front end, [`syntax`]), the evaluator, and the `.test` script runner.

pub mod aggregate;
pub mod binary;
#[cfg(test)]
mod consistency;
pub mod context;
pub mod engine;
pub mod facts;
pub mod features;
pub mod functions;
mod histogram_stats;
pub mod instants;
pub mod legacy_names;
pub mod parse;
pub mod syntax;
pub mod testfile;
pub mod value;
mod xxhash;

pub use context::{EngineOptions, EvalError};
pub use engine::Engine;
pub use instants::{matrix_of_instants, range_equals_instants};
pub use parse::{parse, Expr, ParseError};
pub use value::{QueryResult, Sample, Series, Value};
