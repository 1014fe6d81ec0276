//! JSON shapes shared by commands: a diagnostic as `{code, severity, message, file, line, column, help}`.
use crate::diag::Diagnostic;
use serde_json::{json, Value};

pub fn diagnostic(d: &Diagnostic) -> Value {
    let (file, line, column) = match &d.location {
        Some(l) => (
            Value::from(l.file.to_string()),
            Value::from(l.pos.line),
            Value::from(l.pos.col),
        ),
        None => (Value::Null, Value::Null, Value::Null),
    };
    json!({
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": crate::report::redact::redact_url_credentials(&d.message),
        "file": file,
        "line": line,
        "column": column,
        "help": d.help,
    })
}
