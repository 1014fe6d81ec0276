//! The answer of a PromQL query, as `eval` prints it: the Prometheus HTTP API's JSON (`status`, `data`,
//! `warnings`, `infos`) for tools, and Prometheus's text form (`{labels} => value @[ts]`) for people.

use crate::promql::value::format_value;
use crate::promql::{QueryResult, Value};
use crate::text::gofmt::format_float_v;

/// The HTTP API's response body for a successful query.
pub fn json(result: &QueryResult) -> serde_json::Value {
    let mut obj = serde_json::json!({"status": "success", "data": value_json(&result.value)});
    if !result.warnings.is_empty() {
        obj["warnings"] = serde_json::json!(result.warnings);
    }
    if !result.infos.is_empty() {
        obj["infos"] = serde_json::json!(result.infos);
    }
    obj
}

fn ts_json(t: i64) -> serde_json::Value {
    let secs = t as f64 / 1000.0;
    serde_json::Number::from_f64(secs)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn labels_json(l: &crate::series::Labels) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> = l
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(m)
}

/// The Prometheus HTTP API's `data` for a value.
pub fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::json;
    match v {
        Value::Scalar { t, v } => {
            json!({"resultType": "scalar", "result": [ts_json(*t), format_value(*v)]})
        }
        Value::String { t, s } => json!({"resultType": "string", "result": [ts_json(*t), s]}),
        Value::Vector(samples) => json!({
            "resultType": "vector",
            "result": samples.iter().map(|s| match &s.h {
                Some(h) => json!({"metric": labels_json(&s.labels), "histogram": [ts_json(s.t), crate::series::api_json::histogram_json(h)]}),
                None => json!({"metric": labels_json(&s.labels), "value": [ts_json(s.t), format_value(s.v)]}),
            }).collect::<Vec<_>>(),
        }),
        Value::Matrix(series) => json!({
            "resultType": "matrix",
            "result": series.iter().map(|s| {
                let mut o = json!({"metric": labels_json(&s.labels)});
                if !s.points.is_empty() {
                    o["values"] = s.points.iter().map(|(t, v)| json!([ts_json(*t), format_value(*v)])).collect();
                }
                if !s.histograms.is_empty() {
                    o["histograms"] = s.histograms.iter().map(|(t, h)| json!([ts_json(*t), crate::series::api_json::histogram_json(h)])).collect();
                }
                o
            }).collect::<Vec<_>>(),
        }),
    }
}

/// Prometheus's text form of a value (`{labels} => value @[ts]`).
pub fn value_text(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Scalar { t, v } => out.push_str(&format!("scalar: {} @[{t}]\n", format_float_v(*v))),
        Value::String { t, s } => out.push_str(&format!("string: {s} @[{t}]\n")),
        Value::Vector(samples) => {
            for s in samples {
                let v = match &s.h {
                    Some(h) => h.go_string(),
                    None => format_float_v(s.v),
                };
                out.push_str(&format!("{} => {v} @[{}]\n", s.labels, s.t));
            }
        }
        Value::Matrix(series) => {
            for s in series {
                out.push_str(&format!("{} =>\n", s.labels));
                for (t, v) in &s.points {
                    out.push_str(&format!("{} @[{t}]\n", format_float_v(*v)));
                }
                for (t, h) in &s.histograms {
                    out.push_str(&format!("{} @[{t}]\n", h.go_string()));
                }
            }
        }
    }
    out
}

/// The answer of a query; human is Prometheus's text form (warnings and infos are the caller's to show).
impl super::Report for QueryResult {
    fn formats(&self) -> &'static [super::Format] {
        &[super::Format::Human, super::Format::Json]
    }

    fn render(&self, format: super::Format, _: super::Style) -> Option<String> {
        match format {
            super::Format::Human => Some(value_text(&self.value)),
            super::Format::Json => Some(format!("{}\n", json(self))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_go_prints_them() {
        for (v, text) in [
            (100.0, "100"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1e-5, "1e-05"),
            (0.5, "0.5"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(format_float_v(v), text);
        }
    }

    #[test]
    fn the_api_envelope_carries_warnings_only_when_there_are_some() {
        let mut r = QueryResult {
            value: Value::Scalar { t: 1500, v: 2.0 },
            warnings: Vec::new(),
            infos: Vec::new(),
        };
        assert_eq!(
            json(&r).to_string(),
            r#"{"data":{"result":[1.5,"2"],"resultType":"scalar"},"status":"success"}"#
        );
        r.warnings.push("w".into());
        assert_eq!(json(&r)["warnings"], serde_json::json!(["w"]));
        assert!(json(&r).get("infos").is_none());
        assert_eq!(value_text(&r.value), "scalar: 2 @[1500]\n");
    }
}
