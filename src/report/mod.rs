//! Reports: how diagnostics and results look to a person (human) or a program (json, ...).
//! Only this stage and `main.rs` decide presentation; the stages hand over typed results.
pub mod dry_run;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod migrate;
pub mod query;
pub mod redact;
pub mod sarif;
pub mod table;
pub mod tune;
pub mod unittest;
