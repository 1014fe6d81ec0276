//! Go's text/template builtins that gotmpl implements differently: `printf`, `print`, `println` (Go's fmt,
//! not Rust's float printing), `index` (zero value for a missing string-map key) and the comparison functions
//! `eq ne lt le gt ge` (Go's kind rules and error texts, e.g. "incompatible types for comparison").

use super::values::Dialect;
use super::values::{exec_err, go_type_name, struct_type, to_arg};
use crate::text::gofmt::{self, Arg};
use gotmpl::{FuncMap, Value, ValueFunc};
use std::cmp::Ordering;
use std::sync::Arc;

/// Go's own template builtins (text/template/funcs.go); `and`/`or` are evaluated lazily by gotmpl itself.
pub const GO_BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Go builtins whose gotmpl versions print or compare values differently from Go.
pub fn add_go_overrides(funcs: &mut FuncMap, dialect: Dialect) {
    let f: ValueFunc = Arc::new(move |args: &[Value]| {
        let format = match args.first() {
            Some(Value::String(s)) => s.to_string(),
            Some(other) => {
                return Err(exec_err(format!(
                    "wrong type for value; expected string; got {}",
                    go_type_name(other)
                )))
            }
            None => {
                return Err(exec_err(
                    "wrong number of args for printf: want at least 1 got 0".into(),
                ))
            }
        };
        let rest: Vec<Arg> = args[1..].iter().map(|a| to_arg(a, dialect)).collect();
        Ok(Value::String(gofmt::sprintf(&format, &rest).into()))
    });
    funcs.insert("printf".into(), f);
    let f: ValueFunc = Arc::new(move |args: &[Value]| {
        let a: Vec<Arg> = args.iter().map(|a| to_arg(a, dialect)).collect();
        Ok(Value::String(gofmt::sprint(&a).into()))
    });
    funcs.insert("print".into(), f);
    let f: ValueFunc = Arc::new(move |args: &[Value]| {
        let a: Vec<Arg> = args.iter().map(|a| to_arg(a, dialect)).collect();
        Ok(Value::String(gofmt::sprintln(&a).into()))
    });
    funcs.insert("println".into(), f);
    // html, js and urlquery escape fmt.Sprint of their arguments, so floats print the Go way first.
    type Escape = fn(&str) -> String;
    let escapers: [(&str, Escape); 3] = [
        ("html", gotmpl::html_escape),
        ("js", gotmpl::js_escape),
        ("urlquery", gotmpl::url_encode),
    ];
    for (name, escape) in escapers {
        let f: ValueFunc = Arc::new(move |args: &[Value]| {
            let a: Vec<Arg> = args.iter().map(|a| to_arg(a, dialect)).collect();
            Ok(Value::String(escape(&gofmt::sprint(&a)).into()))
        });
        funcs.insert(name.into(), f);
    }
    let f: ValueFunc = Arc::new(|args: &[Value]| go_len(args));
    funcs.insert("len".into(), f);
    let f: ValueFunc = Arc::new(|args: &[Value]| go_index(args));
    funcs.insert("index".into(), f);
    add_comparisons(funcs);
}

/// Go's `index`: a missing key of a string map yields "", an out-of-range list index is an error.
fn go_index(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    let Some(mut v) = args.first().cloned() else {
        return Err(exec_err(
            "wrong number of args for index: want at least 1 got 0".into(),
        ));
    };
    for idx in &args[1..] {
        v = match (&v, idx) {
            (Value::Map(m), Value::String(k)) if struct_type(&v).is_none() => {
                match m.get(k.as_ref()) {
                    Some(x) => x.clone(),
                    None if m.values().all(|x| matches!(x, Value::String(_))) => {
                        Value::String("".into())
                    }
                    None => Value::Nil,
                }
            }
            (Value::List(items), Value::Int(i)) => {
                if *i < 0 || *i as usize >= items.len() {
                    return Err(exec_err(format!("index out of range: {i}")));
                }
                items[*i as usize].clone()
            }
            (Value::String(s), Value::Int(i)) => match s.as_bytes().get(*i as usize) {
                Some(b) if *i >= 0 => Value::Int(i64::from(*b)),
                _ => return Err(exec_err(format!("index out of range: {i}"))),
            },
            (Value::Nil, _) => return Err(exec_err("index of untyped nil".into())),
            (other, _) => {
                return Err(exec_err(format!(
                    "can't index item of type {}",
                    go_type_name(other)
                )))
            }
        };
    }
    Ok(v)
}

/// Go's `len`: bytes of a string, entries of a list or map; anything else is an error.
fn go_len(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    let [v] = args else {
        return Err(exec_err(format!(
            "wrong number of args for len: want 1 got {}",
            args.len()
        )));
    };
    if struct_type(v).is_some() {
        return Err(exec_err(format!("len of type {}", go_type_name(v))));
    }
    let n = match v {
        Value::String(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Nil => return Err(exec_err("len of nil pointer".into())),
        other => return Err(exec_err(format!("len of type {}", go_type_name(other)))),
    };
    Ok(Value::Int(n as i64))
}

/// Go's basic kinds as far as templates meet them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Invalid,
    Other,
}

fn kind(v: &Value) -> Kind {
    if struct_type(v).is_some() {
        return Kind::Other;
    }
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Uint(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::Str,
        _ => Kind::Other,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const NO_COMPARISON: &str = "missing argument for comparison";

fn int_uint_cmp(i: i64, u: u64) -> Ordering {
    if i < 0 {
        Ordering::Less
    } else {
        (i as u64).cmp(&u)
    }
}

/// Go's `eq` for one pair.
fn eq_pair(a: &Value, b: &Value) -> Result<bool, String> {
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        return match (a, b) {
            (Value::Int(i), Value::Uint(u)) | (Value::Uint(u), Value::Int(i)) => {
                Ok(int_uint_cmp(*i, *u) == Ordering::Equal)
            }
            // Comparing with an invalid (nil) value is simply false.
            _ if ka == Kind::Invalid || kb == Kind::Invalid => Ok(false),
            _ => Err(BAD_COMPARISON.into()),
        };
    }
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Uint(x), Value::Uint(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        _ => {
            return Err(format!(
                "non-comparable type {}: {}",
                gofmt::format_v(&to_arg(b, Dialect::Prometheus)),
                go_type_name(b)
            ))
        }
    })
}

/// Go's `lt`: basic ordered kinds only.
fn lt_pair(a: &Value, b: &Value) -> Result<bool, String> {
    let (ka, kb) = (kind(a), kind(b));
    for k in [ka, kb] {
        if matches!(k, Kind::Invalid | Kind::Other) {
            return Err(BAD_COMPARISON_TYPE.into());
        }
    }
    if ka != kb {
        return match (a, b) {
            (Value::Int(i), Value::Uint(u)) => Ok(int_uint_cmp(*i, *u) == Ordering::Less),
            (Value::Uint(u), Value::Int(i)) => Ok(int_uint_cmp(*i, *u) == Ordering::Greater),
            _ => Err(BAD_COMPARISON.into()),
        };
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Uint(x), Value::Uint(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.into()),
    }
}

fn eq_fn(args: &[Value]) -> Result<bool, String> {
    let Some((first, rest)) = args.split_first() else {
        return Err(NO_COMPARISON.into());
    };
    if rest.is_empty() {
        return Err(NO_COMPARISON.into());
    }
    for b in rest {
        if eq_pair(first, b)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn two<'a>(name: &str, args: &'a [Value]) -> Result<(&'a Value, &'a Value), String> {
    match args {
        [a, b] => Ok((a, b)),
        _ => Err(format!(
            "wrong number of args for {name}: want 2 got {}",
            args.len()
        )),
    }
}

fn add_comparisons(funcs: &mut FuncMap) {
    type Cmp = fn(&[Value]) -> Result<bool, String>;
    let table: [(&str, Cmp); 6] = [
        ("eq", eq_fn),
        ("ne", |a| {
            let (x, y) = two("ne", a)?;
            eq_pair(x, y).map(|t| !t)
        }),
        ("lt", |a| {
            let (x, y) = two("lt", a)?;
            lt_pair(x, y)
        }),
        ("le", |a| {
            let (x, y) = two("le", a)?;
            Ok(lt_pair(x, y)? || eq_pair(x, y)?)
        }),
        ("gt", |a| {
            let (x, y) = two("gt", a)?;
            Ok(!(lt_pair(x, y)? || eq_pair(x, y)?))
        }),
        ("ge", |a| {
            let (x, y) = two("ge", a)?;
            lt_pair(x, y).map(|t| !t)
        }),
    ];
    for (name, f) in table {
        let func: ValueFunc =
            Arc::new(move |args: &[Value]| f(args).map(Value::Bool).map_err(exec_err));
        funcs.insert(name.to_string(), func);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    // Expectations follow text/template/funcs.go: eq/lt compare within one basic kind, int and uint mix,
    // anything else is errBadComparison; lt on bool or non-basic values is errBadComparisonType.
    #[test]
    fn comparisons_follow_go_kind_rules() {
        assert_eq!(eq_fn(&[Value::Float(3.0), Value::Float(3.0)]), Ok(true));
        assert_eq!(eq_fn(&[s("a"), s("b"), s("a")]), Ok(true));
        assert_eq!(
            eq_fn(&[Value::Float(3.0), Value::Int(3)]),
            Err(BAD_COMPARISON.into())
        );
        assert_eq!(eq_fn(&[Value::Int(3), Value::Uint(3)]), Ok(true));
        assert_eq!(eq_fn(&[Value::Nil, s("")]), Ok(false));
        assert_eq!(eq_fn(&[s("a")]), Err(NO_COMPARISON.into()));
        assert_eq!(lt_pair(&Value::Int(-1), &Value::Uint(0)), Ok(true));
        assert_eq!(lt_pair(&s("a"), &s("b")), Ok(true));
        assert_eq!(
            lt_pair(&Value::Bool(true), &Value::Bool(false)),
            Err(BAD_COMPARISON_TYPE.into())
        );
        assert_eq!(
            lt_pair(&Value::Float(1.0), &Value::Int(2)),
            Err(BAD_COMPARISON.into())
        );
    }

    #[test]
    fn escapers_print_floats_as_go() {
        let mut funcs = FuncMap::new();
        add_go_overrides(&mut funcs, Dialect::Prometheus);
        let call = |name: &str, args: &[Value]| funcs[name](args).unwrap();
        assert_eq!(call("urlquery", &[Value::Float(1e6)]), s("1e%2B06"));
        assert_eq!(call("html", &[s("<a>"), Value::Int(1)]), s("&lt;a&gt;1"));
        assert_eq!(call("js", &[s("it's")]), s("it\\'s"));
    }

    #[test]
    fn len_counts_bytes_and_rejects_structs() {
        assert_eq!(go_len(&[s("中文")]).unwrap(), Value::Int(6));
        let st = super::super::values::struct_value("template.Data", vec![]);
        assert_eq!(
            go_len(&[st]).unwrap_err().to_string(),
            "execution error: len of type template.Data"
        );
        assert!(go_len(&[Value::Int(3)]).is_err());
    }

    #[test]
    fn index_zero_values() {
        let mut m = std::collections::BTreeMap::new();
        m.insert("a".to_string(), "x".to_string());
        let map = super::super::values::string_map(&m);
        assert_eq!(go_index(&[map.clone(), s("a")]).unwrap(), s("x"));
        assert_eq!(go_index(&[map, s("b")]).unwrap(), s(""));
        let list = Value::List(vec![s("p"), s("q")].into());
        assert_eq!(go_index(&[list.clone(), Value::Int(1)]).unwrap(), s("q"));
        assert_eq!(
            go_index(&[list, Value::Int(2)]).unwrap_err().to_string(),
            "execution error: index out of range: 2"
        );
    }
}
