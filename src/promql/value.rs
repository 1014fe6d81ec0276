//! Query results as callers see them: scalar, string, instant vector, range vector (matrix).

use crate::series::histogram::FloatHistogram;
use crate::series::Labels;
use std::sync::Arc;

/// One sample of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    /// Timestamp in ms.
    pub t: i64,
    /// The float value (0 for a histogram sample, as Prometheus's `Sample.F`).
    pub v: f64,
    /// The native histogram, for a histogram sample.
    pub h: Option<Arc<FloatHistogram>>,
}

/// One series of a matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// (timestamp ms, value), ascending.
    pub points: Vec<(i64, f64)>,
    /// (timestamp ms, native histogram), ascending; a timestamp is in `points` or here, not both.
    pub histograms: Vec<(i64, Arc<FloatHistogram>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

impl Value {
    /// The Prometheus API name of the value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// A query's value with the annotations Prometheus would attach, worded as Prometheus words them.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

pub use crate::text::gofmt::format_value;
