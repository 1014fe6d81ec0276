//! Template values with Go's types in mind: struct-like maps tagged with their Go type, string maps with
//! zero values, Alertmanager's KV and Pairs methods, and Go's `fmt.Fprint` printing of all of them.

use super::gotime;
pub use super::structs::{struct_type, struct_value, TYPE_KEY};
use crate::text::gofmt::{self, Arg};
use gotmpl::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which product's data model the templates run against; it decides what a string map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Prometheus: label maps are plain `map[string]string`.
    Prometheus,
    /// Alertmanager: label maps are `template.KV`, with methods and a `String()` of `a=b, c=d`.
    Alertmanager,
}

/// The Go type of a native histogram in a template (`$value` of an alert on a histogram); its field
/// `String` holds what its `String()` method returns, which is how Go prints it.
pub const HISTOGRAM_TYPE: &str = "*histogram.FloatHistogram";

/// A `map[string]string` value.
pub fn string_map(m: &BTreeMap<String, String>) -> Value {
    let mut out: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    for (k, v) in m {
        out.insert(k.as_str().into(), Value::String(v.as_str().into()));
    }
    Value::Map(Arc::new(out))
}

/// A string argument as Go would receive it: strings pass, nothing else converts.
pub fn arg_str<'a>(
    fname: &str,
    args: &'a [Value],
    i: usize,
) -> Result<&'a str, gotmpl::TemplateError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(exec_err(format!(
            "wrong type for value; expected string; got {}",
            go_type_name(other)
        ))),
        None => Err(exec_err(format!(
            "wrong number of args for {fname}: want {} got {}",
            i + 1,
            args.len()
        ))),
    }
}

/// Check the argument count the way Go's `evalCall` does.
pub fn want_args(fname: &str, args: &[Value], n: usize) -> Result<(), gotmpl::TemplateError> {
    if args.len() != n {
        return Err(exec_err(format!(
            "wrong number of args for {fname}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// An execution error carrying our message verbatim.
pub fn exec_err(msg: String) -> gotmpl::TemplateError {
    gotmpl::TemplateError::Exec(msg)
}

/// The Go type name of a value, for error messages.
pub fn go_type_name(v: &Value) -> String {
    if let Some(t) = struct_type(v) {
        return t.to_string();
    }
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Uint(_) => "uint".into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::List(_) => "[]interface {}".into(),
        Value::Map(_) => "map[string]string".into(),
        Value::Function(_) => "func".into(),
    }
}

/// Convert a template value for [`gofmt::sprintf`]; structs with a `String()` method become their string.
pub fn to_arg(v: &Value, dialect: Dialect) -> Arg {
    if struct_type(v).is_some() {
        return Arg::Str(print_value(v, dialect));
    }
    match v {
        Value::Nil => Arg::Nil,
        Value::Bool(b) => Arg::Bool(*b),
        Value::Int(i) => Arg::Int(*i),
        Value::Uint(u) => Arg::Uint(*u),
        Value::Float(f) => Arg::Float(*f),
        Value::String(s) => Arg::Str(s.to_string()),
        Value::List(items) => {
            if dialect == Dialect::Alertmanager && is_pairs(items) {
                return Arg::Str(print_value(v, dialect));
            }
            Arg::List(items.iter().map(|i| to_arg(i, dialect)).collect())
        }
        Value::Map(m) => {
            if dialect == Dialect::Alertmanager && is_string_map(v) {
                return Arg::Str(print_value(v, dialect));
            }
            Arg::Map(
                m.iter()
                    .map(|(k, v)| (k.to_string(), to_arg(v, dialect)))
                    .collect(),
            )
        }
        Value::Function(_) => Arg::Str("<func>".into()),
    }
}

fn is_pairs(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| struct_type(i) == Some("template.Pair"))
}

fn is_string_map(v: &Value) -> bool {
    match v {
        Value::Map(m) => {
            !m.contains_key(TYPE_KEY) && m.values().all(|x| matches!(x, Value::String(_)))
        }
        _ => false,
    }
}

/// Print a value as Go's template engine prints an action's result (`fmt.Fprint` after indirection).
pub fn print_value(v: &Value, dialect: Dialect) -> String {
    match struct_type(v) {
        Some("time.Time") => return gotime::time_string(v),
        Some("time.Duration") => return gotime::duration_string(gotime::duration_nanos(v)),
        Some(HISTOGRAM_TYPE) => {
            return field_of(v, "String")
                .map(|x| print_value(&x, dialect))
                .unwrap_or_default()
        }
        Some("template.Pair") => {
            // Pair has no String(); Go prints a struct as {field field}.
            let f = |k: &str| {
                field_of(v, k)
                    .map(|x| print_value(&x, dialect))
                    .unwrap_or_default()
            };
            return format!("{{{} {}}}", f("Name"), f("Value"));
        }
        Some(_) => {
            if let Value::Map(m) = v {
                let parts: Vec<String> = m
                    .iter()
                    .filter(|(k, _)| k.as_ref() != TYPE_KEY)
                    .map(|(_, x)| print_nested(x, dialect))
                    .collect();
                return format!("{{{}}}", parts.join(" "));
            }
        }
        None => {}
    }
    match v {
        Value::Nil => "<no value>".into(),
        Value::String(s) => s.to_string(),
        Value::Float(f) => gofmt::format_float_v(*f),
        Value::List(items) => {
            if dialect == Dialect::Alertmanager && is_pairs(items) {
                return pairs_string(items);
            }
            let parts: Vec<String> = items.iter().map(|x| print_nested(x, dialect)).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(m) => {
            if dialect == Dialect::Alertmanager && is_string_map(v) {
                let pairs = sorted_pairs(v);
                return pairs_string(&pairs);
            }
            let parts: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{k}:{}", print_nested(x, dialect)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

/// Inside a container Go prints nil as `<nil>`, not `<no value>`.
fn print_nested(v: &Value, dialect: Dialect) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        other => print_value(other, dialect),
    }
}

fn field_of(v: &Value, k: &str) -> Option<Value> {
    match v {
        Value::Map(m) => m.get(k).cloned(),
        _ => None,
    }
}

/// Alertmanager's `KV.SortedPairs`: `alertname` first, the rest sorted by name.
pub fn sorted_pairs(kv: &Value) -> Vec<Value> {
    let Value::Map(m) = kv else {
        return Vec::new();
    };
    let mut keys: Vec<&Arc<str>> = m.keys().filter(|k| k.as_ref() != TYPE_KEY).collect();
    keys.sort_by(|a, b| {
        let an = a.as_ref() == "alertname";
        let bn = b.as_ref() == "alertname";
        bn.cmp(&an).then_with(|| a.cmp(b))
    });
    keys.into_iter()
        .map(|k| {
            struct_value(
                "template.Pair",
                vec![
                    ("Name", Value::String(k.clone())),
                    (
                        "Value",
                        m.get(k).cloned().unwrap_or(Value::String("".into())),
                    ),
                ],
            )
        })
        .collect()
}

/// `Pairs.String()`: `a=b, c=d`.
fn pairs_string(pairs: &[Value]) -> String {
    pairs
        .iter()
        .map(|p| {
            let n = field_of(p, "Name").map(|x| print_value(&x, Dialect::Alertmanager));
            let v = field_of(p, "Value").map(|x| print_value(&x, Dialect::Alertmanager));
            format!("{}={}", n.unwrap_or_default(), v.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn pair_column(pairs: &[Value], col: &str) -> Value {
    Value::List(
        pairs
            .iter()
            .map(|p| field_of(p, col).unwrap_or(Value::String("".into())))
            .collect::<Vec<_>>()
            .into(),
    )
}

/// Apply one method by name, if the receiver has it. `None` means "no such method".
pub(crate) fn call_method(
    recv: &Value,
    name: &str,
    args: &[Value],
    dialect: Dialect,
) -> Option<Result<Value, String>> {
    if let Some(t) = struct_type(recv) {
        return match t {
            "time.Time" => gotime::time_method(recv, name, args),
            "time.Duration" => gotime::duration_method(recv, name, args),
            _ => None,
        };
    }
    if dialect != Dialect::Alertmanager {
        return None;
    }
    let no_args = |v: Value| -> Result<Value, String> {
        if args.is_empty() {
            Ok(v)
        } else {
            Err(format!(
                "wrong number of args for {name}: want 0 got {}",
                args.len()
            ))
        }
    };
    match recv {
        Value::Map(_) if is_string_map(recv) || matches!(recv, Value::Map(m) if m.is_empty()) => {
            match name {
                "SortedPairs" => Some(no_args(Value::List(sorted_pairs(recv).into()))),
                "Names" => Some(no_args(pair_column(&sorted_pairs(recv), "Name"))),
                "Values" => Some(no_args(pair_column(&sorted_pairs(recv), "Value"))),
                "String" => Some(no_args(Value::String(print_value(recv, dialect).into()))),
                "Remove" => Some(kv_remove(recv, args)),
                _ => None,
            }
        }
        Value::List(items) => match name {
            "Firing" | "Resolved"
                if items
                    .iter()
                    .all(|a| struct_type(a) == Some("template.Alert")) =>
            {
                let want = if name == "Firing" {
                    "firing"
                } else {
                    "resolved"
                };
                let sel: Vec<Value> = items
                    .iter()
                    .filter(
                        |a| matches!(field_of(a, "Status"), Some(Value::String(s)) if &*s == want),
                    )
                    .cloned()
                    .collect();
                Some(no_args(Value::List(sel.into())))
            }
            "Names" if is_pairs(items) || items.is_empty() => {
                Some(no_args(pair_column(items, "Name")))
            }
            "Values" if is_pairs(items) || items.is_empty() => {
                Some(no_args(pair_column(items, "Value")))
            }
            "String" if is_pairs(items) => Some(no_args(Value::String(pairs_string(items).into()))),
            _ => None,
        },
        _ => None,
    }
}

fn kv_remove(recv: &Value, args: &[Value]) -> Result<Value, String> {
    if args.len() != 1 {
        return Err(format!(
            "wrong number of args for Remove: want 1 got {}",
            args.len()
        ));
    }
    let keys: Vec<String> = match &args[0] {
        Value::List(items) => items
            .iter()
            .map(|i| print_value(i, Dialect::Alertmanager))
            .collect(),
        other => {
            return Err(format!(
                "wrong type for value; expected []string; got {}",
                go_type_name(other)
            ))
        }
    };
    let Value::Map(m) = recv else {
        return Ok(recv.clone());
    };
    let out: BTreeMap<Arc<str>, Value> = m
        .iter()
        .filter(|(k, _)| !keys.iter().any(|r| r.as_str() == k.as_ref()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Value::Map(Arc::new(out)))
}

/// One step of a field chain with Go's rules: methods first, then struct fields, then map keys.
pub(crate) fn field_step(v: &Value, name: &str, dialect: Dialect) -> Result<Value, String> {
    if let Some(r) = call_method(v, name, &[], dialect) {
        return r;
    }
    if let Some(t) = struct_type(v) {
        return match field_of(v, name) {
            Some(x) if !name.starts_with('\u{0}') => Ok(x),
            _ => Err(format!("can't evaluate field {name} in type {t}")),
        };
    }
    match v {
        Value::Map(m) => match m.get(name) {
            Some(x) => Ok(x.clone()),
            // missingkey=zero: a string map yields "", an interface map yields nil.
            None if m.values().all(|x| matches!(x, Value::String(_))) => {
                Ok(Value::String("".into()))
            }
            None => Ok(Value::Nil),
        },
        Value::Nil => Err(format!("nil pointer evaluating interface {{}}.{name}")),
        other => Err(format!(
            "can't evaluate field {name} in type {}",
            go_type_name(other)
        )),
    }
}
