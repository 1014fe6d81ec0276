//! The adapter over `gotmpl`: parse, rewrite, execute, and print values as Go does.
//!
//! `gotmpl` carries data as an untyped `Value` and has no reflection, so on its own it prints floats the Rust
//! way, renders a missing `map[string]string` key as `<no value>` instead of Go's zero value `""`, and cannot
//! call methods such as `.Alerts.Firing` or `.Labels.SortedPairs`. Rather than fork it, we rewrite the parsed
//! tree before handing it over:
//!
//! - every field access (`.A.B`, `$x.A`, `(expr).A`) becomes a call to our `__field`, which knows struct-like
//!   maps (tagged with [`TYPE_KEY`]), string maps (zero value on a missing key) and the methods of our types;
//! - a command that starts with a field chain and has arguments (`.Labels.Remove .GroupLabels.Names`) becomes
//!   a call to `__method`;
//! - a command that calls one of our functions becomes `__fn`, which adds Go's error context
//!   (`template: name:1:23: executing "name" at <humanize "x">: error calling humanize: ...`);
//! - every printed action ends in `__print`, which formats the result with Go's `%v` rules.
//!
//! Unknown functions are reported at parse time, as Go's parser does.

use super::gofmt::{self, Arg};
use super::gotime;
use gotmpl::parse::{
    BranchNode, CommandNode, Expr, ListNode, Node, Number, Parser, PipeNode, Pos, SmolStr,
};
use gotmpl::{FuncMap, Template, Value, ValueFunc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Key under which a struct-like map records its Go type name. The NUL keeps it out of any real label name.
pub const TYPE_KEY: &str = "\u{0}type";

/// Go's own template builtins (text/template/funcs.go); `and`/`or` are evaluated lazily by gotmpl itself.
pub const GO_BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Which product's data model the templates run against; it decides what a string map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Prometheus: label maps are plain `map[string]string`.
    Prometheus,
    /// Alertmanager: label maps are `template.KV`, with methods and a `String()` of `a=b, c=d`.
    Alertmanager,
}

/// A template error, in Go's wording where we can reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The text does not parse. `line`/`col` are 1-based inside the template text (col 0 when unknown).
    #[error("{message}")]
    Parse {
        message: String,
        line: usize,
        col: usize,
    },
    /// Execution failed.
    #[error("{0}")]
    Exec(String),
}

impl TemplateError {
    /// Line and column (1-based) inside the template, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            TemplateError::Parse { line, col, .. } if *line > 0 => Some((*line, *col)),
            _ => None,
        }
    }
}

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
fn call_method(
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
fn field_step(v: &Value, name: &str, dialect: Dialect) -> Result<Value, String> {
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

/// Error context baked into rewritten calls: Go's `name:line:col`, the executing template, the node text.
#[derive(Clone)]
struct Ctx {
    location: String,
    executing: String,
    node: String,
}

impl Ctx {
    fn encode(&self) -> String {
        format!("{}\u{0}{}\u{0}{}", self.location, self.executing, self.node)
    }
    fn decode(s: &str) -> Ctx {
        let mut it = s.splitn(3, '\u{0}');
        Ctx {
            location: it.next().unwrap_or_default().to_string(),
            executing: it.next().unwrap_or_default().to_string(),
            node: it.next().unwrap_or_default().to_string(),
        }
    }
    /// Go's `state.errorf` after `state.at(node)`: `template: loc: executing "name" at <node>: msg`.
    fn error(&self, msg: &str) -> gotmpl::TemplateError {
        let node = if self.node.chars().count() > 20 {
            format!("{}...", self.node.chars().take(20).collect::<String>())
        } else {
            self.node.clone()
        };
        exec_err(format!(
            "template: {}: executing \"{}\" at <{}>: {}",
            self.location, self.executing, node, msg
        ))
    }
}

/// A set of functions plus the dialect: everything needed to parse and run templates of one product.
#[derive(Clone)]
pub struct Engine {
    dialect: Dialect,
    funcs: Arc<FuncMap>,
}

impl Engine {
    /// `funcs` are the product's functions; Go's builtins that we must reimplement (printf, print, println,
    /// index) are added here, and our internal helpers too.
    pub fn new(dialect: Dialect, mut funcs: FuncMap) -> Engine {
        super::gobuiltins::add_go_overrides(&mut funcs, dialect);
        Engine {
            dialect,
            funcs: Arc::new(funcs),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether `name` is callable from a template (ours or a Go builtin).
    pub fn has_func(&self, name: &str) -> bool {
        self.funcs.contains_key(name) || GO_BUILTINS.contains(&name)
    }

    /// A fresh gotmpl template holding our functions and no trees.
    pub fn new_set(&self) -> Template {
        let mut all: FuncMap = (*self.funcs).clone();
        let funcs = self.funcs.clone();
        let dialect = self.dialect;
        let f: ValueFunc = Arc::new(move |args: &[Value]| fn_call(&funcs, args));
        all.insert("__fn".into(), f);
        let f: ValueFunc = Arc::new(move |args: &[Value]| field_call(args, dialect));
        all.insert("__field".into(), f);
        let f: ValueFunc = Arc::new(move |args: &[Value]| method_call(args, dialect));
        all.insert("__method".into(), f);
        let f: ValueFunc = Arc::new(move |args: &[Value]| {
            Ok(Value::String(
                print_value(args.last().unwrap_or(&Value::Nil), dialect).into(),
            ))
        });
        all.insert("__print".into(), f);
        Template::new("").funcs(all)
    }

    /// Parse `text` (named `parse_name` in error messages, run as `exec_name`) and add its trees to `set`.
    /// Definitions replace earlier ones of the same name, as in Go.
    pub fn parse_into(
        &self,
        set: Template,
        parse_name: &str,
        exec_name: &str,
        text: &str,
    ) -> Result<Template, TemplateError> {
        let parser = Parser::with_name(Some(parse_name), text, "{{", "}}")
            .map_err(|e| parse_err(e, parse_name))?;
        let (root, defines) = parser.parse().map_err(|e| parse_err(e, parse_name))?;
        super::structure::check(text).map_err(|e| TemplateError::Parse {
            message: format!("template: {}:{}: {}", parse_name, e.line, e.message),
            line: e.line,
            col: e.col,
        })?;
        let rw = Rewriter {
            engine: self,
            src: text,
            parse_name,
        };
        rw.check_funcs(&root)?;
        rw.check_vars(&root, &mut vec!["$".into()])?;
        for d in &defines {
            rw.check_funcs(&d.body)?;
            rw.check_vars(&d.body, &mut vec!["$".into()])?;
        }
        let mut set = set;
        for d in defines {
            let body = rw.list(&d.body, &d.name);
            // Go: an empty re-definition does not replace a non-empty one.
            if body.is_empty_tree() && set.lookup(&d.name).is_some() {
                continue;
            }
            set = set.add_parse_tree(&d.name, body);
        }
        if !exec_name.is_empty() || !root.is_empty_tree() {
            set = set.add_parse_tree(exec_name, rw.list(&root, exec_name));
        }
        Ok(set)
    }

    /// Run the template `name` of `set` over `data`.
    pub fn execute(
        &self,
        set: &Template,
        name: &str,
        data: &Value,
    ) -> Result<String, TemplateError> {
        set.execute_template_to_string(name, data)
            .map_err(|e| TemplateError::Exec(exec_message(e, name)))
    }
}

/// Turn a gotmpl execution error into Go's text. Our own errors carry their full text already.
fn exec_message(e: gotmpl::TemplateError, name: &str) -> String {
    match e {
        gotmpl::TemplateError::Exec(s) if s.starts_with("template: ") => s,
        gotmpl::TemplateError::Exec(s) => format!("template: {name}: {s}"),
        // Go: `executing "NAME" at <{{template "x"}}>: template "x" not defined` (gotmpl gives no position).
        gotmpl::TemplateError::UndefinedTemplate(t) => {
            format!(
                "template: {name}: executing \"{name}\" at <{{{{template \"{t}\"}}}}>: template \"{t}\" not defined"
            )
        }
        other => format!("template: {name}: {other}"),
    }
}

/// Go's parse errors read `template: NAME:LINE: message` (no column); we keep the column separately.
fn parse_err(e: gotmpl::TemplateError, name: &str) -> TemplateError {
    match e {
        gotmpl::TemplateError::Parse {
            line, col, message, ..
        }
        | gotmpl::TemplateError::Lex {
            line, col, message, ..
        } => TemplateError::Parse {
            message: format!("template: {name}:{line}: {message}"),
            line,
            col,
        },
        other => TemplateError::Parse {
            message: format!("template: {name}: {other}"),
            line: 0,
            col: 0,
        },
    }
}

fn fn_call(funcs: &FuncMap, args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    let ctx = Ctx::decode(args.first().and_then(Value::as_str).unwrap_or_default());
    let name = args.get(1).and_then(Value::as_str).unwrap_or_default();
    let Some(f) = funcs.get(name) else {
        return Err(ctx.error(&format!("\"{name}\" is not a defined function")));
    };
    f(&args[2.min(args.len())..]).map_err(|e| {
        let msg = match e {
            gotmpl::TemplateError::Exec(s) => s,
            other => other.to_string(),
        };
        // Argument-shape errors are Go's own (not "error calling").
        if msg.starts_with("wrong number of args") || msg.starts_with("wrong type for value") {
            ctx.error(&msg)
        } else {
            ctx.error(&format!("error calling {name}: {msg}"))
        }
    })
}

fn field_call(args: &[Value], dialect: Dialect) -> Result<Value, gotmpl::TemplateError> {
    let ctx = Ctx::decode(args.first().and_then(Value::as_str).unwrap_or_default());
    let mut v = args.get(1).cloned().unwrap_or(Value::Nil);
    for n in args.iter().skip(2) {
        let name = n.as_str().unwrap_or_default();
        v = field_step(&v, name, dialect).map_err(|m| ctx.error(&m))?;
    }
    Ok(v)
}

fn method_call(args: &[Value], dialect: Dialect) -> Result<Value, gotmpl::TemplateError> {
    let ctx = Ctx::decode(args.first().and_then(Value::as_str).unwrap_or_default());
    let recv = args.get(1).cloned().unwrap_or(Value::Nil);
    let name = args.get(2).and_then(Value::as_str).unwrap_or_default();
    let rest = &args[3.min(args.len())..];
    match call_method(&recv, name, rest, dialect) {
        Some(r) => r.map_err(|m| ctx.error(&m)),
        None => {
            // A field given arguments: Go's "can't give argument to non-function".
            let field = field_step(&recv, name, dialect).map_err(|m| ctx.error(&m))?;
            if rest.is_empty() {
                Ok(field)
            } else {
                Err(ctx.error(&format!(
                    "can't give argument to non-function {}",
                    ctx.node.split(' ').next().unwrap_or_default()
                )))
            }
        }
    }
}

/// Walks parsed trees, checks function names and rewrites nodes (see the module doc).
struct Rewriter<'a> {
    engine: &'a Engine,
    src: &'a str,
    parse_name: &'a str,
}

fn ident(pos: Pos, name: &str) -> Expr {
    Expr::Identifier(pos, SmolStr::new(name))
}

fn string_lit(pos: Pos, s: &str) -> Expr {
    Expr::String(pos, s.into())
}

fn pipe_expr(pos: Pos, args: Vec<Expr>) -> Expr {
    Expr::Pipe(
        pos,
        PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![CommandNode { pos, args }],
            is_assign: false,
        },
    )
}

impl Rewriter<'_> {
    /// Go's `ErrorContext` location: `name:line:col`, col a 0-based byte offset in the line.
    fn location(&self, pos: Pos) -> String {
        let off = pos.offset.min(self.src.len());
        let before = &self.src[..off];
        let line = before.matches('\n').count() + 1;
        let col = match before.rfind('\n') {
            Some(i) => off - i - 1,
            None => off,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    fn ctx(&self, pos: Pos, exec: &str, node: String) -> Expr {
        string_lit(
            pos,
            &Ctx {
                location: self.location(pos),
                executing: exec.to_string(),
                node,
            }
            .encode(),
        )
    }

    fn check_funcs(&self, list: &ListNode) -> Result<(), TemplateError> {
        let mut err = None;
        visit_list(list, &mut |e| {
            if let Expr::Identifier(pos, name) = e {
                if err.is_none() && !self.engine.has_func(name) {
                    let (line, col) = line_col(self.src, pos.offset);
                    err = Some(TemplateError::Parse {
                        message: format!(
                            "template: {}:{}: function \"{}\" not defined",
                            self.parse_name, line, name
                        ),
                        line,
                        col,
                    });
                }
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn undefined_var(&self, pos: Pos, name: &str) -> TemplateError {
        let (line, col) = line_col(self.src, pos.offset);
        TemplateError::Parse {
            message: format!(
                "template: {}:{}: undefined variable \"{}\"",
                self.parse_name, line, name
            ),
            line,
            col,
        }
    }

    /// Go's parser rejects variables not declared in an enclosing scope; gotmpl only notices at run time.
    /// A declaration is visible from its action to the `{{end}}` of the enclosing control structure.
    fn check_vars(&self, l: &ListNode, scope: &mut Vec<String>) -> Result<(), TemplateError> {
        for n in &l.nodes {
            match n {
                Node::Action(a) => self.check_pipe_vars(&a.pipe, scope)?,
                Node::If(b) | Node::Range(b) | Node::With(b) => {
                    let depth = scope.len();
                    self.check_pipe_vars(&b.pipe, scope)?;
                    self.check_vars(&b.body, scope)?;
                    if let Some(e) = &b.else_body {
                        self.check_vars(e, scope)?;
                    }
                    scope.truncate(depth);
                }
                Node::Template(t) => {
                    if let Some(p) = &t.pipe {
                        self.check_pipe_vars(p, scope)?;
                    }
                }
                Node::List(inner) => self.check_vars(inner, scope)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn check_pipe_vars(&self, p: &PipeNode, scope: &mut Vec<String>) -> Result<(), TemplateError> {
        for d in &p.decl {
            if p.is_assign {
                if !scope.iter().any(|v| v == d.as_str()) {
                    return Err(self.undefined_var(p.pos, d));
                }
            } else {
                scope.push(d.to_string());
            }
        }
        let mut err = None;
        for c in &p.commands {
            for a in &c.args {
                visit_expr(a, &mut |e| {
                    if let Expr::Variable(pos, name, _) = e {
                        if err.is_none() && !scope.iter().any(|v| v == name.as_str()) {
                            err = Some(self.undefined_var(*pos, name));
                        }
                    }
                });
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn list(&self, l: &ListNode, exec: &str) -> ListNode {
        ListNode {
            pos: l.pos,
            nodes: l.nodes.iter().map(|n| self.node(n, exec)).collect(),
        }
    }

    fn branch(&self, b: &BranchNode, exec: &str) -> BranchNode {
        BranchNode {
            pos: b.pos,
            pipe: self.pipe(&b.pipe, exec),
            body: self.list(&b.body, exec),
            else_body: b.else_body.as_ref().map(|e| self.list(e, exec)),
        }
    }

    fn node(&self, n: &Node, exec: &str) -> Node {
        match n {
            Node::Action(a) => {
                let mut pipe = self.pipe(&a.pipe, exec);
                if pipe.decl.is_empty() {
                    pipe.commands.push(CommandNode {
                        pos: a.pos,
                        args: vec![ident(a.pos, "__print")],
                    });
                }
                Node::Action(gotmpl::parse::ActionNode { pos: a.pos, pipe })
            }
            Node::If(b) => Node::If(self.branch(b, exec)),
            Node::Range(b) => Node::Range(self.branch(b, exec)),
            Node::With(b) => Node::With(self.branch(b, exec)),
            Node::Template(t) => Node::Template(gotmpl::parse::TemplateNode {
                pos: t.pos,
                name: t.name.clone(),
                pipe: t.pipe.as_ref().map(|p| self.pipe(p, exec)),
            }),
            Node::List(l) => Node::List(self.list(l, exec)),
            other => other.clone(),
        }
    }

    fn pipe(&self, p: &PipeNode, exec: &str) -> PipeNode {
        PipeNode {
            pos: p.pos,
            decl: p.decl.clone(),
            commands: p
                .commands
                .iter()
                .enumerate()
                .map(|(i, c)| self.command(c, exec, i > 0))
                .collect(),
            is_assign: p.is_assign,
        }
    }

    fn command(&self, c: &CommandNode, exec: &str, piped: bool) -> CommandNode {
        let text = command_text(c);
        let pos = c.pos;
        match c.args.first() {
            Some(Expr::Identifier(_, name)) if self.engine.funcs.contains_key(name.as_str()) => {
                let mut args = vec![
                    ident(pos, "__fn"),
                    self.ctx(pos, exec, text),
                    string_lit(pos, name),
                ];
                args.extend(c.args[1..].iter().map(|a| self.expr(a, exec)));
                CommandNode { pos, args }
            }
            Some(first) if (c.args.len() > 1 || piped) && split_chain(first).is_some() => {
                let (recv, last) = split_chain(first).unwrap_or((Expr::Dot(pos), SmolStr::new("")));
                let mut args = vec![
                    ident(pos, "__method"),
                    self.ctx(pos, exec, text),
                    self.expr(&recv, exec),
                    string_lit(pos, &last),
                ];
                args.extend(c.args[1..].iter().map(|a| self.expr(a, exec)));
                CommandNode { pos, args }
            }
            _ => CommandNode {
                pos,
                args: c.args.iter().map(|a| self.expr(a, exec)).collect(),
            },
        }
    }

    fn expr(&self, e: &Expr, exec: &str) -> Expr {
        match e {
            Expr::Field(pos, chain) => {
                self.field_chain(*pos, Expr::Dot(*pos), chain, exec, expr_text(e))
            }
            Expr::Variable(pos, v, chain) if !chain.is_empty() => self.field_chain(
                *pos,
                Expr::Variable(*pos, v.clone(), Vec::new()),
                chain,
                exec,
                expr_text(e),
            ),
            Expr::Chain(pos, inner, chain) => {
                let base = self.expr(inner, exec);
                self.field_chain(*pos, base, chain, exec, expr_text(e))
            }
            Expr::Pipe(pos, p) => Expr::Pipe(*pos, self.pipe(p, exec)),
            other => other.clone(),
        }
    }

    fn field_chain(
        &self,
        pos: Pos,
        base: Expr,
        chain: &[SmolStr],
        exec: &str,
        text: String,
    ) -> Expr {
        let mut args = vec![ident(pos, "__field"), self.ctx(pos, exec, text), base];
        args.extend(chain.iter().map(|n| string_lit(pos, n)));
        pipe_expr(pos, args)
    }
}

/// Split `.A.B` into (`.A`, `B`), `$x.A` into (`$x`, `A`); None for anything that is not a field chain.
fn split_chain(e: &Expr) -> Option<(Expr, SmolStr)> {
    match e {
        Expr::Field(pos, chain) if !chain.is_empty() => {
            let last = chain.last()?.clone();
            let rest = chain[..chain.len() - 1].to_vec();
            let recv = if rest.is_empty() {
                Expr::Dot(*pos)
            } else {
                Expr::Field(*pos, rest)
            };
            Some((recv, last))
        }
        Expr::Variable(pos, v, chain) if !chain.is_empty() => {
            let last = chain.last()?.clone();
            Some((
                Expr::Variable(*pos, v.clone(), chain[..chain.len() - 1].to_vec()),
                last,
            ))
        }
        Expr::Chain(pos, inner, chain) if !chain.is_empty() => {
            let last = chain.last()?.clone();
            let rest = chain[..chain.len() - 1].to_vec();
            let recv = if rest.is_empty() {
                (**inner).clone()
            } else {
                Expr::Chain(*pos, inner.clone(), rest)
            };
            Some((recv, last))
        }
        _ => None,
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let off = offset.min(src.len());
    let before = &src[..off];
    let line = before.matches('\n').count() + 1;
    let col = match before.rfind('\n') {
        Some(i) => before[i + 1..].chars().count() + 1,
        None => before.chars().count() + 1,
    };
    (line, col)
}

/// Go's `Node.String()` for the error context.
fn command_text(c: &CommandNode) -> String {
    c.args.iter().map(expr_text).collect::<Vec<_>>().join(" ")
}

fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Dot(_) => ".".into(),
        Expr::Field(_, chain) => chain.iter().map(|c| format!(".{c}")).collect(),
        Expr::Variable(_, v, chain) => {
            let mut s = v.to_string();
            for c in chain {
                s.push('.');
                s.push_str(c);
            }
            s
        }
        Expr::Identifier(_, n) => n.to_string(),
        Expr::String(_, s) => gofmt::go_quote(s),
        Expr::Number(_, n) => match n {
            Number::Int(i) => i.to_string(),
            Number::Uint(u) => u.to_string(),
            Number::Float(f) => gofmt::format_float_v(*f),
        },
        Expr::Bool(_, b) => b.to_string(),
        Expr::Nil(_) => "nil".into(),
        Expr::Pipe(_, p) => {
            let cmds: Vec<String> = p.commands.iter().map(command_text).collect();
            format!("({})", cmds.join(" | "))
        }
        Expr::Chain(_, inner, chain) => {
            let mut s = expr_text(inner);
            for c in chain {
                s.push('.');
                s.push_str(c);
            }
            s
        }
    }
}

fn visit_list(l: &ListNode, f: &mut dyn FnMut(&Expr)) {
    for n in &l.nodes {
        match n {
            Node::Action(a) => visit_pipe(&a.pipe, f),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                visit_pipe(&b.pipe, f);
                visit_list(&b.body, f);
                if let Some(e) = &b.else_body {
                    visit_list(e, f);
                }
            }
            Node::Template(t) => {
                if let Some(p) = &t.pipe {
                    visit_pipe(p, f);
                }
            }
            Node::List(l) => visit_list(l, f),
            _ => {}
        }
    }
}

fn visit_pipe(p: &PipeNode, f: &mut dyn FnMut(&Expr)) {
    for c in &p.commands {
        for a in &c.args {
            visit_expr(a, f);
        }
    }
}

fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Pipe(_, p) => visit_pipe(p, f),
        Expr::Chain(_, inner, _) => visit_expr(inner, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dialect: Dialect, text: &str, data: &Value) -> Result<String, TemplateError> {
        let e = Engine::new(dialect, FuncMap::new());
        let set = e.parse_into(e.new_set(), "t", "t", text)?;
        e.execute(&set, "t", data)
    }

    fn labels() -> Value {
        let mut m = BTreeMap::new();
        m.insert("pod".to_string(), "web-1".to_string());
        m.insert("alertname".to_string(), "Down".to_string());
        string_map(&m)
    }

    #[test]
    fn floats_print_as_go() {
        let data = struct_value(
            "x",
            vec![("V", Value::Float(1e6)), ("W", Value::Float(0.5))],
        );
        assert_eq!(
            run(
                Dialect::Prometheus,
                "{{ .V }} {{ .W }} {{ 100000.0 }}",
                &data
            )
            .unwrap(),
            "1e+06 0.5 100000"
        );
    }

    #[test]
    fn missing_string_map_key_is_empty() {
        let data = struct_value("x", vec![("L", labels())]);
        assert_eq!(
            run(Dialect::Prometheus, "[{{ .L.nope }}]{{ .L.pod }}", &data).unwrap(),
            "[]web-1"
        );
        assert_eq!(
            run(Dialect::Prometheus, "[{{ index .L \"nope\" }}]", &data).unwrap(),
            "[]"
        );
        assert_eq!(
            run(
                Dialect::Prometheus,
                "{{ if eq .L.nope \"\" }}empty{{ end }}",
                &data
            )
            .unwrap(),
            "empty"
        );
    }

    #[test]
    fn missing_struct_field_is_go_error() {
        let data = struct_value(
            "struct { Labels map[string]string }",
            vec![("Labels", labels())],
        );
        let err = run(Dialect::Prometheus, "ab{{ .Nope }}", &data).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: t:1:5: executing \"t\" at <.Nope>: can't evaluate field Nope in type struct { Labels map[string]string }"
        );
    }

    #[test]
    fn unknown_function_is_parse_error_with_line() {
        let err = run(Dialect::Prometheus, "x\n{{ nope 1 }}", &Value::Nil).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: t:2: function \"nope\" not defined"
        );
        assert_eq!(err.position(), Some((2, 4)));
    }

    #[test]
    fn undefined_variables_are_parse_errors() {
        let err = run(Dialect::Prometheus, "{{ $x := 1 }}{{ $y }}", &Value::Nil).unwrap_err();
        assert_eq!(err.to_string(), "template: t:1: undefined variable \"$y\"");
        // A range variable is visible in the body and the else branch, not after {{end}}.
        let list = Value::List(vec![Value::String("a".into()), Value::String("b".into())].into());
        let ok = run(
            Dialect::Prometheus,
            "{{ range $i, $v := . }}{{ $i }}{{ $v }}{{ end }}{{ len $ }}",
            &list,
        );
        assert_eq!(ok.unwrap(), "0a1b2");
        assert!(run(
            Dialect::Prometheus,
            "{{ range $i := 2 }}{{ end }}{{ $i }}",
            &Value::Nil
        )
        .is_err());
        assert!(run(Dialect::Prometheus, "{{ $z = 1 }}", &Value::Nil).is_err());
    }

    #[test]
    fn alertmanager_kv_methods() {
        let data = struct_value("template.Data", vec![("L", labels())]);
        assert_eq!(
            run(
                Dialect::Alertmanager,
                "{{ .L.SortedPairs }}|{{ .L.Names }}|{{ .L }}",
                &data
            )
            .unwrap(),
            "alertname=Down, pod=web-1|[alertname pod]|alertname=Down, pod=web-1"
        );
        assert_eq!(
            run(
                Dialect::Alertmanager,
                "{{ range .L.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}",
                &data
            )
            .unwrap(),
            "alertname=Down;pod=web-1;"
        );
        let data = struct_value(
            "template.Data",
            vec![
                ("L", labels()),
                (
                    "Keys",
                    Value::List(vec![Value::String("pod".into())].into()),
                ),
            ],
        );
        assert_eq!(
            run(Dialect::Alertmanager, "{{ .L.Remove .Keys }}", &data).unwrap(),
            "alertname=Down"
        );
        assert_eq!(
            run(
                Dialect::Alertmanager,
                "{{ (.L.Remove .Keys).Names }}",
                &data
            )
            .unwrap(),
            "[alertname]"
        );
        assert_eq!(
            run(Dialect::Alertmanager, "{{ .Keys | .L.Remove }}", &data).unwrap(),
            "alertname=Down"
        );
        // Prometheus label maps have no methods: .Names is just a missing key.
        assert_eq!(
            run(Dialect::Prometheus, "[{{ .L.Names }}]", &data).unwrap(),
            "[]"
        );
    }

    #[test]
    fn printf_uses_go_formatting() {
        let data = struct_value("x", vec![("V", Value::Float(2.0 / 3.0))]);
        assert_eq!(
            run(Dialect::Prometheus, "{{ printf \"%.2f\" .V }}", &data).unwrap(),
            "0.67"
        );
        assert_eq!(
            run(Dialect::Prometheus, "{{ printf \"%d\" .V }}", &data).unwrap(),
            "%!d(float64=0.6666666666666666)"
        );
        assert_eq!(
            run(Dialect::Prometheus, "{{ print 1.0 2 }}", &data).unwrap(),
            "1 2"
        );
    }
}
