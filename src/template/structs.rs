//! Go structs as template values: a map of the fields, tagged with the struct's Go type name (which error
//! messages and method calls need).

use gotmpl::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Key under which a struct-like map records its Go type name. The NUL keeps it out of any real label name.
pub const TYPE_KEY: &str = "\u{0}type";

/// Build a struct-like value: fields plus the Go type name used in error messages.
pub fn struct_value(go_type: &str, fields: Vec<(&str, Value)>) -> Value {
    let mut m: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    m.insert(TYPE_KEY.into(), Value::String(go_type.into()));
    for (k, v) in fields {
        m.insert(k.into(), v);
    }
    Value::Map(Arc::new(m))
}

/// The Go type name of a struct-like value, if it is one.
pub fn struct_type(v: &Value) -> Option<&str> {
    match v {
        Value::Map(m) => match m.get(TYPE_KEY) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}
