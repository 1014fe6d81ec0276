//! The series stage: label sets, label matchers, the in-memory sample store the evaluator reads and the
//! rule evaluator writes, and promtool's series notation used by test fixtures.

pub mod api_json;
pub mod chunk;
pub mod fixture;
pub mod formats;
pub mod histogram;
pub mod histogram_sum;
pub mod kahan;
pub mod labels;
pub mod matcher;
pub mod nhcb;
pub mod notation;
pub mod number;
pub mod openmetrics;
pub mod start_timestamps;
pub mod store;

pub use labels::{Labels, LabelsBuilder};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use store::{is_stale, Store, STALE_NAN_BITS};
