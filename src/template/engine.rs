//! The adapter over `gotmpl`: parse, rewrite, execute, and print values as Go does.
//!
//! `gotmpl` carries data as an untyped `Value` and has no reflection, so on its own it prints floats the Rust
//! way, renders a missing `map[string]string` key as `<no value>` instead of Go's zero value `""`, and cannot
//! call methods such as `.Alerts.Firing` or `.Labels.SortedPairs`. Rather than fork it, we rewrite the parsed
//! tree before handing it over:
//!
//! - every field access (`.A.B`, `$x.A`, `(expr).A`) becomes a call to our `__field`, which knows struct-like
//!   maps (tagged with [`super::values::TYPE_KEY`]), string maps (zero value on a missing key) and the methods of our types;
//! - a command that starts with a field chain and has arguments (`.Labels.Remove .GroupLabels.Names`) becomes
//!   a call to `__method`;
//! - a command that calls one of our functions becomes `__fn`, which adds Go's error context
//!   (`template: name:1:23: executing "name" at <humanize "x">: error calling humanize: ...`);
//! - every printed action ends in `__print`, which formats the result with Go's `%v` rules.
//!
//! Unknown functions are reported at parse time, as Go's parser does.

pub use super::error::TemplateError;
pub use super::gobuiltins::GO_BUILTINS;
use super::rewrite::{Ctx, Rewriter};
pub use super::values::Dialect;
use super::values::{call_method, exec_err, field_step, print_value, struct_type};
use gotmpl::parse::Parser;
use gotmpl::{FuncMap, Template, Value, ValueFunc};
use std::sync::Arc;

/// A set of functions plus the dialect: everything needed to parse and run templates of one product.
#[derive(Clone)]
pub struct Engine {
    dialect: Dialect,
    funcs: Arc<FuncMap>,
    /// Bytes one execution may write; `None` takes the running command's `--template-max-output`.
    max_output: Option<usize>,
}

impl Engine {
    /// `funcs` are the product's functions; Go's builtins that we must reimplement (printf, print, println,
    /// index) are added here, and our internal helpers too.
    pub fn new(dialect: Dialect, mut funcs: FuncMap) -> Engine {
        super::gobuiltins::add_go_overrides(&mut funcs, dialect);
        Engine {
            dialect,
            funcs: Arc::new(funcs),
            max_output: None,
        }
    }

    /// The same engine with its own output limit instead of the command's.
    pub fn with_max_output(mut self, bytes: usize) -> Engine {
        self.max_output = Some(bytes);
        self
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
        let f: ValueFunc = Arc::new(move |args: &[Value]| {
            let v = args.last().cloned().unwrap_or(Value::Nil);
            if struct_type(&v).is_some() {
                return Err(exec_err(format!(
                    "range can't iterate over {}",
                    print_value(&v, dialect)
                )));
            }
            Ok(v)
        });
        all.insert("__rangeable".into(), f);
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
            .map_err(|e| parse_err(e, parse_name, text))?;
        let (root, defines) = parser.parse().map_err(|e| parse_err(e, parse_name, text))?;
        super::structure::check(text).map_err(|e| TemplateError::Parse {
            message: format!("template: {}:{}: {}", parse_name, e.line, e.message),
            line: e.line,
            col: e.col,
        })?;
        let rw = Rewriter {
            funcs: &self.funcs,
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

    /// Run the template `name` of `set` over `data`. Output beyond the byte limit stops the execution
    /// (a `{{range}}` over a big number would otherwise build a string as large as memory allows).
    pub fn execute(
        &self,
        set: &Template,
        name: &str,
        data: &Value,
    ) -> Result<String, TemplateError> {
        let limit = self
            .max_output
            .unwrap_or_else(|| crate::limits::Limits::active().template_max_output);
        let mut out = CappedWriter {
            buf: String::new(),
            limit,
            exceeded: false,
        };
        match set.execute_template_fmt(&mut out, name, data) {
            Ok(()) => Ok(out.buf),
            // gotmpl turns the writer's refusal into a generic write error; the flag tells us why.
            Err(_) if out.exceeded => Err(TemplateError::Exec(format!(
                "template: {name}: output is larger than {limit} bytes (raise the limit with --template-max-output)"
            ))),
            Err(gotmpl::TemplateError::RecursionLimit) => Err(TemplateError::Exec(format!(
                "template: {name}: exceeded maximum template depth ({})",
                crate::limits::TEMPLATE_MAX_DEPTH
            ))),
            Err(gotmpl::TemplateError::RangeIterLimit) => Err(TemplateError::Exec(format!(
                "template: {name}: more than {} range iterations in one execution (a fixed limit)",
                crate::limits::TEMPLATE_MAX_RANGE_ITERATIONS
            ))),
            Err(e) => Err(TemplateError::Exec(exec_message(e, name))),
        }
    }
}

/// A string that refuses to grow past `limit` bytes.
struct CappedWriter {
    buf: String,
    limit: usize,
    exceeded: bool,
}

impl std::fmt::Write for CappedWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.buf.len().saturating_add(s.len()) > self.limit {
            self.exceeded = true;
            return Err(std::fmt::Error);
        }
        self.buf.push_str(s);
        Ok(())
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

/// Go's parse errors read `template: NAME:LINE: message` (no column); we keep the column separately and
/// reword gotmpl's messages where Go says it differently.
fn parse_err(e: gotmpl::TemplateError, name: &str, src: &str) -> TemplateError {
    match e {
        gotmpl::TemplateError::Parse {
            line, col, message, ..
        }
        | gotmpl::TemplateError::Lex {
            line, col, message, ..
        } => {
            let message = go_parse_message(&message, src, line, col);
            TemplateError::Parse {
                message: format!("template: {name}:{line}: {message}"),
                line,
                col,
            }
        }
        other => TemplateError::Parse {
            message: format!("template: {name}: {other}"),
            line: 0,
            col: 0,
        },
    }
}

/// Go's wording for the parse errors gotmpl words differently (text/template/parse).
fn go_parse_message(message: &str, src: &str, line: usize, col: usize) -> String {
    if message == "empty command" {
        // Go: "missing value for if|range|with|command", named after the action being parsed.
        let offset = offset_of(src, line, col);
        let word = super::structure::action_word_before(src, offset).unwrap_or("command");
        let context = if matches!(word, "if" | "range" | "with") {
            word
        } else {
            "command"
        };
        return format!("missing value for {context}");
    }
    if message == "unterminated string" {
        return "unterminated quoted string".into();
    }
    if let Some(c) = message
        .strip_prefix("unexpected character: '")
        .and_then(|r| r.strip_suffix('\''))
        .and_then(|r| {
            let mut it = r.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        })
    {
        return format!("bad character U+{:04X} '{c}'", c as u32);
    }
    message.to_string()
}

/// Byte offset of a 1-based line and (character) column.
fn offset_of(src: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off
                + l.char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(l.len(), |(b, _)| b);
        }
        off += l.len();
    }
    src.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::values::{string_map, struct_value};
    use std::collections::BTreeMap;

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
    fn range_over_struct_is_an_error() {
        let data = struct_value("template.Data", vec![("L", labels())]);
        let err = run(Dialect::Alertmanager, "{{ range . }}x{{ end }}", &data).unwrap_err();
        assert!(
            err.to_string().contains("range can't iterate over"),
            "{err}"
        );
        assert_eq!(
            run(
                Dialect::Alertmanager,
                "{{ range $k, $v := .L }}{{ $k }}{{ end }}",
                &data
            )
            .unwrap(),
            "alertnamepod"
        );
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

    #[test]
    fn output_beyond_the_limit_is_an_error_not_a_huge_string() {
        let e = Engine::new(Dialect::Prometheus, FuncMap::new()).with_max_output(100);
        let set = e
            .parse_into(
                e.new_set(),
                "t",
                "t",
                "{{range 1000000000}}xxxxxxxxxx{{end}}",
            )
            .unwrap();
        let err = e.execute(&set, "t", &Value::Nil).unwrap_err().to_string();
        assert_eq!(
            err,
            "template: t: output is larger than 100 bytes (raise the limit with --template-max-output)"
        );
        // Exactly at the limit is fine.
        let set = e
            .parse_into(e.new_set(), "t", "t", "{{range 10}}xxxxxxxxxx{{end}}")
            .unwrap();
        assert_eq!(e.execute(&set, "t", &Value::Nil).unwrap().len(), 100);
    }

    #[test]
    fn recursive_templates_stop_at_the_depth_limit() {
        for text in [
            r#"{{define "a"}}{{template "a"}}{{end}}{{template "a"}}"#,
            r#"{{define "a"}}x{{template "b" .}}{{end}}{{define "b"}}{{if true}}{{template "a" .}}{{end}}{{end}}{{template "a" .}}"#,
        ] {
            let err = run(Dialect::Prometheus, text, &Value::Nil)
                .unwrap_err()
                .to_string();
            assert_eq!(
                err, "template: t: exceeded maximum template depth (200)",
                "{text}"
            );
        }
    }

    #[test]
    fn a_range_over_a_huge_number_stops() {
        let err = run(
            Dialect::Prometheus,
            "{{range 100000000000}}{{end}}",
            &Value::Nil,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "template: t: more than 10000000 range iterations in one execution (a fixed limit)"
        );
    }

    #[test]
    fn huge_printf_widths_are_capped() {
        let out = run(
            Dialect::Prometheus,
            r#"{{printf "%0999999999d" 1}}"#,
            &Value::Nil,
        )
        .unwrap();
        assert!(out.len() < 1_000_000, "{}", out.len());
    }
}
