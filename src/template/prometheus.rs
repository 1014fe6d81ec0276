//! Alerting-rule label and annotation templates, expanded as Prometheus 3 expands them.
//!
//! Prometheus (rules/alerting.go) prefixes every label and annotation value with
//! `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value :=
//! .Value}}`, names the template `__alert_<rule name>`, runs it with `missingkey=zero` and the function set of
//! template/template.go, and on failure uses `<error expanding template: ...>` as the value while logging the
//! error. We do the same, and also hand the error back so the caller can report it.

use super::engine::{Dialect, Engine, TemplateError};
use super::gotime;
use super::values::{
    arg_str, exec_err, go_type_name, string_map, struct_type, struct_value, want_args,
};
use crate::text::gofmt::{format_float, format_float_v};
use gotmpl::{FuncMap, Value, ValueFunc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The definitions Prometheus puts in front of every alert template (rules/alerting.go).
pub const ALERT_TEMPLATE_PREFIX: &str =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Go's type name for the data Prometheus passes (template.AlertTemplateData), used in error messages.
const DATA_TYPE: &str = "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }";

/// One sample of a `query` result.
#[derive(Clone, Debug, PartialEq)]
pub struct QuerySample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Runs the PromQL of a template's `query` function at the evaluation time.
pub trait QueryFn {
    fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<QuerySample>, String>;
}

/// Templates rarely nest queries; this bounds the re-runs needed to answer them.
const MAX_QUERY_PASSES: usize = 8;

/// What an alert template sees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertTemplateData {
    pub labels: BTreeMap<String, String>,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    pub value: f64,
    /// For an alert on a native histogram: the histogram as Go prints it (`FloatHistogram.String`), which
    /// `$value` then is (as in Prometheus, where `.Value` holds the histogram).
    pub histogram: Option<String>,
}

/// The outcome of an expansion: the text Prometheus would store, and the error it would log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expansion {
    pub text: String,
    pub error: Option<String>,
}

/// Expand one label or annotation value of the alerting rule `rule_name` (the template is named
/// `__alert_<rule_name>` as in Prometheus). `t_ms` is the evaluation time, used by `query` and `now`.
pub fn expand_alert_template(
    rule_name: &str,
    text: &str,
    data: &AlertTemplateData,
    t_ms: i64,
    query: Option<&dyn QueryFn>,
) -> Expansion {
    let name = format!("__alert_{rule_name}");
    match expand(&name, text, data, t_ms, query) {
        Ok(text) => Expansion { text, error: None },
        Err(e) => {
            let msg = e.to_string();
            Expansion {
                text: format!("<error expanding template: {msg}>"),
                error: Some(msg),
            }
        }
    }
}

fn expand(
    name: &str,
    text: &str,
    data: &AlertTemplateData,
    t_ms: i64,
    query: Option<&dyn QueryFn>,
) -> Result<String, TemplateError> {
    // The query callback lives only for this call; run queries eagerly through a shared cache so the
    // 'static template functions need not borrow it.
    let results: Arc<std::sync::Mutex<QueryCache>> =
        Arc::new(std::sync::Mutex::new(QueryCache::default()));
    let engine = Engine::new(
        Dialect::Prometheus,
        functions(
            t_ms,
            &data.external_url,
            results.clone(),
            prometheus2_functions(),
        ),
    );
    let full = format!("{ALERT_TEMPLATE_PREFIX}{text}");
    let set = engine
        .parse_into(engine.new_set(), name, name, &full)
        .map_err(|e| TemplateError::Exec(format!("error parsing template {name}: {e}")))?;
    let value = template_data(data);
    // Each pass records the queries the template asked for and could not yet get; we answer them and run
    // again (a query built from an earlier result needs one more pass). Without a callback `query` fails.
    let mut out = engine.execute(&set, name, &value);
    for _ in 0..MAX_QUERY_PASSES {
        let pending = results
            .lock()
            .map(|mut c| std::mem::take(&mut c.pending))
            .unwrap_or_default();
        let Some(q) = query else { break };
        if pending.is_empty() {
            break;
        }
        if let Ok(mut c) = results.lock() {
            for expr in pending {
                let r = q.query(&expr, t_ms);
                c.answers.insert(expr, r);
            }
        }
        out = engine.execute(&set, name, &value);
    }
    out.map_err(|e| TemplateError::Exec(format!("error executing template {name}: {e}")))
}

/// Parse-only check of a label or annotation value, with every Prometheus function defined, so unknown
/// functions, undefined variables and syntax errors are reported as Prometheus reports them. Positions are
/// inside `text`. Messages name the template `__alert_` (see [`check_alert_template`] for the rule's name).
pub fn check_syntax(text: &str) -> Result<(), TemplateError> {
    check_alert_template("", text)
}

/// [`check_syntax`] with the template named `__alert_<rule_name>`, as Prometheus's rule loader
/// (rulefmt testTemplateParsing) names it in its messages.
pub fn check_alert_template(rule_name: &str, text: &str) -> Result<(), TemplateError> {
    // Text without an action cannot fail to parse (Go's lexer only looks for `{{`).
    if !text.contains("{{") {
        return Ok(());
    }
    fn check_engine(prometheus2: bool) -> Engine {
        Engine::new(
            Dialect::Prometheus,
            functions(
                0,
                "",
                Arc::new(std::sync::Mutex::new(QueryCache::default())),
                prometheus2,
            ),
        )
    }
    thread_local! {
        // Building the function set is most of the cost of a check; parsing needs it only by name.
        static CHECK_ENGINE_3: Engine = check_engine(false);
        static CHECK_ENGINE_2: Engine = check_engine(true);
    }
    let name = format!("__alert_{rule_name}");
    let full = format!("{ALERT_TEMPLATE_PREFIX}{text}");
    let parse = |engine: &Engine| engine.parse_into(engine.new_set(), &name, &name, &full);
    let parsed = match prometheus2_functions() {
        true => CHECK_ENGINE_2.with(parse),
        false => CHECK_ENGINE_3.with(parse),
    };
    match parsed {
        Ok(_) => Ok(()),
        Err(TemplateError::Parse { message, line, col }) => {
            // The prefix sits on line 1: shift columns there back into the user's text.
            let col = if line == 1 {
                col.saturating_sub(ALERT_TEMPLATE_PREFIX.chars().count())
            } else {
                col
            };
            Err(TemplateError::Parse { message, line, col })
        }
        Err(other) => Err(other),
    }
}

fn template_data(d: &AlertTemplateData) -> Value {
    struct_value(
        DATA_TYPE,
        vec![
            ("Labels", string_map(&d.labels)),
            ("ExternalLabels", string_map(&d.external_labels)),
            ("ExternalURL", Value::String(d.external_url.as_str().into())),
            (
                "Value",
                match &d.histogram {
                    Some(text) => super::values::struct_value(
                        super::values::HISTOGRAM_TYPE,
                        vec![("String", Value::String(text.as_str().into()))],
                    ),
                    None => Value::Float(d.value),
                },
            ),
        ],
    )
}

#[derive(Default)]
struct QueryCache {
    pending: Vec<String>,
    answers: BTreeMap<String, Result<Vec<QuerySample>, String>>,
}

fn sample_value(s: &QuerySample) -> Value {
    struct_value(
        "*template.sample",
        vec![
            ("Labels", string_map(&s.labels)),
            ("Value", Value::Float(s.value)),
        ],
    )
}

/// Go's `ConvertToFloat` (prometheus/common helpers/templates).
pub fn convert_to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        Value::String(s) => parse_go_float(s),
        other if struct_type(other) == Some("time.Duration") => {
            Ok(gotime::duration_nanos(other) as f64 / 1e9)
        }
        other => Err(format!("can't convert {} to float", go_type_name(other))),
    }
}

/// `strconv.ParseFloat(s, 64)` with Go's error text.
fn parse_go_float(s: &str) -> Result<f64, String> {
    let t = s.strip_prefix('+').unwrap_or(s);
    let lower = t.trim_start_matches('-').to_ascii_lowercase();
    // Rust also accepts "infinity" and "nan" like Go; both reject surrounding spaces.
    let ok_word = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    let is_numeric = !lower.is_empty()
        && lower
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-' | '+' | '_'));
    if ok_word || is_numeric {
        if let Ok(f) = s.replace('_', "").parse::<f64>() {
            if !s.contains('_') {
                return Ok(f);
            }
        }
    }
    Err(format!(
        "strconv.ParseFloat: parsing {}: invalid syntax",
        crate::text::gofmt::go_quote(s)
    ))
}

fn float_arg(fname: &str, args: &[Value]) -> Result<f64, gotmpl::TemplateError> {
    want_args(fname, args, 1)?;
    convert_to_float(&args[0]).map_err(exec_err)
}

fn str_value(s: String) -> Value {
    Value::String(s.into())
}

/// `fmt.Sprintf("%.4g", v)`.
fn g4(v: f64) -> String {
    format_float(v, 'g', 4)
}

/// humanize: SI prefixes, 4 significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v.abs() >= 1.0 {
        let mut prefix = "";
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
        return format!("{}{prefix}", g4(v));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}", g4(v))
}

/// humanize1024: binary prefixes.
pub fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// humanizeDuration (prometheus/common helpers/templates HumanizeDuration), seconds in.
pub fn humanize_duration(mut v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    if v.abs() >= 1.0 {
        let mut sign = "";
        if v < 0.0 {
            sign = "-";
            v = -v;
        }
        // Go's int64(v) truncates toward zero.
        let duration = v.trunc() as i64;
        let seconds = duration % 60;
        let minutes = (duration / 60) % 60;
        let hours = (duration / 60 / 60) % 24;
        let days = duration / 60 / 60 / 24;
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", g4(v));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

/// humanizePercentage: `%.4g%%` of v*100.
pub fn humanize_percentage(v: f64) -> String {
    format!("{}%", g4(v * 100.0))
}

/// Go's floatToTime: seconds to a UTC time at millisecond precision (model.TimeFromUnixNano truncates).
fn float_to_time(v: f64) -> Result<Value, String> {
    if v.is_nan() || v.is_infinite() {
        return Err("value is NaN or Inf".into());
    }
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            format_float_v(v)
        ));
    }
    let ms = (ns as i64) / 1_000_000;
    Ok(gotime::time_from_unix_ms(ms))
}

/// humanizeTimestamp: `fmt.Sprint` of the UTC time.
pub fn humanize_timestamp(v: f64) -> Result<String, String> {
    if v.is_nan() || v.is_infinite() {
        return Ok(g4(v));
    }
    float_to_time(v).map(|t| gotime::time_string(&t))
}

/// `strings.Title` as golang.org/x/text/cases.Title(language.AmericanEnglish, cases.NoLower) does it:
/// upper-case the first letter of each word, leave the rest alone.
pub fn title_no_lower(s: &str) -> String {
    title_impl(s, false)
}

/// Go's `strings.Title`, Prometheus's `title` before 3.2: the letter after a separator (anything but an ASCII
/// letter, digit or `_`; outside ASCII only spaces separate) is title-cased, the rest
/// is left alone. So `don't` gives `Don'T` where 3.2+ gives `Don't`. Title case is Go's simple mapping: the
/// four Latin digraphs have their own title form; a letter whose upper case is more than one letter (`ß`) stays.
pub fn go_strings_title(s: &str) -> String {
    fn is_separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        c.is_whitespace()
    }
    fn to_title(c: char) -> char {
        match c {
            '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
            '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
            '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
            '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
            _ => {
                let mut up = c.to_uppercase();
                match (up.next(), up.next()) {
                    (Some(u), None) => u,
                    _ => c,
                }
            }
        }
    }
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) { to_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// cases.Title(language.AmericanEnglish) (Alertmanager): first letter upper, rest of the word lower.
pub fn title_lower_rest(s: &str) -> String {
    title_impl(s, true)
}

/// golang.org/x/text/cases titleCaser.Transform: the first cased letter after a word break is title-cased,
/// later cased letters of the word lower-cased (unless NoLower). Letters, digits, '_' and the "mid"
/// punctuation of UAX #29 (apostrophe, '.', ':' ...) do not break a word; two mid characters in a row do.
/// A word starting with a digit therefore gets its first letter upper-cased ("3am" -> "3Am").
fn title_impl(s: &str, lower_rest: bool) -> String {
    fn is_mid(c: char) -> bool {
        matches!(
            c,
            '\'' | '.'
                | ':'
                | '\u{b7}'
                | '\u{387}'
                | '\u{5f4}'
                | '\u{2018}'
                | '\u{2019}'
                | '\u{2024}'
                | '\u{2027}'
                | '\u{fe13}'
                | '\u{fe52}'
                | '\u{fe55}'
                | '\u{ff07}'
                | '\u{ff0e}'
                | '\u{ff1a}'
        )
    }
    fn is_cased(c: char) -> bool {
        c.is_lowercase() || c.is_uppercase()
    }
    fn is_break(c: char) -> bool {
        !(c.is_alphanumeric() || c == '_' || is_mid(c))
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut mid_word = false;
    for (i, &c) in chars.iter().enumerate() {
        if is_cased(c) {
            if !mid_word {
                out.extend(upper_one(c));
                mid_word = true;
            } else if lower_rest {
                out.extend(lower_one(c));
            } else {
                out.push(c);
            }
        } else {
            out.push(c);
            if is_break(c) {
                mid_word = false;
            }
        }
        if is_mid(c) && chars.get(i + 1).is_some_and(|&n| is_mid(n)) {
            mid_word = false;
        }
    }
    out
}

/// Title case of one rune (Go maps rune to rune; Rust may expand, so keep single-rune mappings only).
fn upper_one(c: char) -> Vec<char> {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => vec![x],
        _ => vec![c],
    }
}

fn lower_one(c: char) -> Vec<char> {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => vec![x],
        _ => vec![c],
    }
}

/// strings.ToUpper / ToLower: rune by rune, as Go's unicode tables do.
pub fn go_to_upper(s: &str) -> String {
    s.chars().flat_map(upper_one).collect()
}

pub fn go_to_lower(s: &str) -> String {
    s.chars().flat_map(lower_one).collect()
}

/// net.SplitHostPort, returning None where Go returns an error.
fn split_host_port(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = after.strip_prefix(':')?;
        if port.contains([':', '[', ']']) {
            return None;
        }
        return Some((host.to_string(), port.to_string()));
    }
    let i = s.rfind(':')?;
    let host = &s[..i];
    let port = &s[i + 1..];
    if host.contains([':', '[', ']']) || port.contains(['[', ']']) {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub fn strip_port(s: &str) -> String {
    match split_host_port(s) {
        Some((h, _)) => h,
        None => s.to_string(),
    }
}

pub fn strip_domain(s: &str) -> String {
    let (host, port) = split_host_port(s).unwrap_or_else(|| (s.to_string(), String::new()));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return s.to_string();
    }
    let first = host.split('.').next().unwrap_or_default().to_string();
    if port.is_empty() {
        first
    } else {
        join_host_port(&first, &port)
    }
}

/// url.QueryEscape.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// url.QueryUnescape, with Go's error text.
pub fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).and_then(|&c| hex(c)),
                    b.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        let end = (i + 3).min(b.len());
                        return Err(format!(
                            "invalid URL escape {}",
                            crate::text::gofmt::go_quote(&String::from_utf8_lossy(&b[i..end]))
                        ));
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The path of an external URL (url.URL.Path).
fn url_path(u: &str) -> String {
    let after_scheme = match u.find("://") {
        Some(i) => &u[i + 3..],
        None => return u.split(['?', '#']).next().unwrap_or_default().to_string(),
    };
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..]
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
        None => String::new(),
    }
}

/// Go's regexp.MustCompile panics on a bad pattern and text/template turns the panic into the call's error.
fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        format!(
            "regexp: Compile({}): {}",
            crate::text::gofmt::go_quote(pattern),
            go_regex_error(pattern, &e)
        )
    })
}

/// Go's regexp/syntax error text (`error parsing regexp: <code>: `<expr>``) for the common mistakes; Rust's
/// own description otherwise. Go quotes the offending part; we quote the whole pattern for the group errors
/// as Go does, and approximate the rest.
pub(crate) fn go_regex_error(pattern: &str, e: &regex::Error) -> String {
    let detail = e.to_string();
    let last = detail.lines().last().unwrap_or_default().trim();
    let last = last.strip_prefix("error: ").unwrap_or(last);
    let (code, expr) = match last {
        "unclosed group" => ("missing closing )", pattern.to_string()),
        "unopened group" => ("unexpected )", pattern.to_string()),
        "unclosed character class" => (
            "missing closing ]",
            pattern[pattern.rfind('[').unwrap_or(0)..].to_string(),
        ),
        "repetition operator missing expression" => (
            "missing argument to repetition operator",
            pattern
                .chars()
                .find(|c| "*+?".contains(*c))
                .map(String::from)
                .unwrap_or_default(),
        ),
        "incomplete escape sequence, reached end of pattern prematurely" => {
            ("trailing backslash at end of expression", String::new())
        }
        other => return format!("error parsing regexp: {other}: `{pattern}`"),
    };
    format!("error parsing regexp: {code}: `{expr}`")
}

/// Functions shared with Alertmanager's set.
pub(crate) fn insert(
    m: &mut FuncMap,
    name: &str,
    f: impl Fn(&[Value]) -> gotmpl::Result<Value> + Send + Sync + 'static,
) {
    let f: ValueFunc = Arc::new(f);
    m.insert(name.to_string(), f);
}

pub(crate) fn insert_string_funcs(m: &mut FuncMap) {
    insert(m, "toUpper", |a| {
        Ok(str_value(go_to_upper(arg_str("toUpper", a, 0)?)))
    });
    insert(m, "toLower", |a| {
        Ok(str_value(go_to_lower(arg_str("toLower", a, 0)?)))
    });
    insert(m, "match", |a| {
        want_args("match", a, 2)?;
        let pattern = arg_str("match", a, 0)?;
        let re = regex::Regex::new(pattern).map_err(|e| exec_err(go_regex_error(pattern, &e)))?;
        Ok(Value::Bool(re.is_match(arg_str("match", a, 1)?)))
    });
    insert(m, "reReplaceAll", |a| {
        want_args("reReplaceAll", a, 3)?;
        let re = compile_regex(arg_str("reReplaceAll", a, 0)?).map_err(exec_err)?;
        let repl = arg_str("reReplaceAll", a, 1)?;
        let text = arg_str("reReplaceAll", a, 2)?;
        Ok(str_value(re.replace_all(text, repl).into_owned()))
    });
    insert(m, "safeHtml", |a| {
        Ok(str_value(arg_str("safeHtml", a, 0)?.to_string()))
    });
    insert(m, "urlUnescape", |a| {
        want_args("urlUnescape", a, 1)?;
        query_unescape(arg_str("urlUnescape", a, 0)?)
            .map(str_value)
            .map_err(exec_err)
    });
    insert(m, "humanizeDuration", |a| {
        Ok(str_value(humanize_duration(float_arg(
            "humanizeDuration",
            a,
        )?)))
    });
}

/// Whether templates have Prometheus 2's function set (`--semantics 2`): see [`functions`].
fn prometheus2_functions() -> bool {
    use crate::semantics::{Difference, Semantics};
    Semantics::active().has(Difference::TemplateFunctions)
}

/// Prometheus's template functions. With `prometheus2`, those of 2.x: no `now`, `toDuration` (3.6) or
/// `urlQueryEscape` (3.8), `title` is Go's `strings.Title` (3.2 moved to golang.org/x/text/cases) and
/// `parseDuration` refuses a negative duration (3.6 accepts one).
fn functions(
    t_ms: i64,
    external_url: &str,
    cache: Arc<std::sync::Mutex<QueryCache>>,
    prometheus2: bool,
) -> FuncMap {
    let mut m = FuncMap::new();
    insert_string_funcs(&mut m);
    match prometheus2 {
        true => insert(&mut m, "title", |a| {
            Ok(str_value(go_strings_title(arg_str("title", a, 0)?)))
        }),
        false => insert(&mut m, "title", |a| {
            Ok(str_value(title_no_lower(arg_str("title", a, 0)?)))
        }),
    }
    insert(&mut m, "query", move |a| {
        want_args("query", a, 1)?;
        let expr = arg_str("query", a, 0)?.to_string();
        let mut c = cache
            .lock()
            .map_err(|_| exec_err("query cache poisoned".into()))?;
        match c.answers.get(&expr) {
            Some(Ok(samples)) => Ok(Value::List(
                samples.iter().map(sample_value).collect::<Vec<_>>().into(),
            )),
            Some(Err(e)) => Err(exec_err(e.clone())),
            None => {
                c.pending.push(expr);
                Err(exec_err("no query engine available to the template".into()))
            }
        }
    });
    insert(&mut m, "first", |a| {
        want_args("first", a, 1)?;
        match &a[0] {
            Value::List(items) => items
                .first()
                .cloned()
                .ok_or_else(|| exec_err("first() called on vector with no elements".into())),
            other => Err(exec_err(format!(
                "wrong type for value; expected template.queryResult; got {}",
                go_type_name(other)
            ))),
        }
    });
    insert(&mut m, "label", |a| {
        want_args("label", a, 2)?;
        let name = arg_str("label", a, 0)?;
        Ok(sample_labels(&a[1])?
            .get(name)
            .cloned()
            .unwrap_or(Value::String("".into())))
    });
    insert(&mut m, "value", |a| {
        want_args("value", a, 1)?;
        sample_field(&a[0], "Value")
    });
    insert(&mut m, "strvalue", |a| {
        want_args("strvalue", a, 1)?;
        Ok(sample_labels(&a[0])?
            .get("__value__")
            .cloned()
            .unwrap_or(Value::String("".into())))
    });
    insert(&mut m, "sortByLabel", |a| {
        want_args("sortByLabel", a, 2)?;
        let label = arg_str("sortByLabel", a, 0)?.to_string();
        let Value::List(items) = &a[1] else {
            return Err(exec_err(format!(
                "wrong type for value; expected template.queryResult; got {}",
                go_type_name(&a[1])
            )));
        };
        let mut v: Vec<Value> = items.to_vec();
        let key = |s: &Value| -> String {
            sample_labels(s)
                .ok()
                .and_then(|l| {
                    l.get(label.as_str())
                        .and_then(|x| x.as_str().map(str::to_string))
                })
                .unwrap_or_default()
        };
        v.sort_by_key(key); // stable, as sort.Stable
        Ok(Value::List(v.into()))
    });
    insert(&mut m, "args", |a| {
        let mut out: BTreeMap<Arc<str>, Value> = BTreeMap::new();
        for (i, v) in a.iter().enumerate() {
            out.insert(format!("arg{i}").into(), v.clone());
        }
        // map[string]interface{}: Go gives nil for a missing key. We can only tell it from a string map by
        // its values, so an args map of strings alone answers "" instead of <no value> (documented gap).
        Ok(Value::Map(Arc::new(out)))
    });
    insert(&mut m, "graphLink", |a| {
        Ok(str_value(format!(
            "/graph?g0.expr={}&g0.tab=0",
            query_escape(arg_str("graphLink", a, 0)?)
        )))
    });
    insert(&mut m, "tableLink", |a| {
        Ok(str_value(format!(
            "/graph?g0.expr={}&g0.tab=1",
            query_escape(arg_str("tableLink", a, 0)?)
        )))
    });
    insert(&mut m, "stripPort", |a| {
        Ok(str_value(strip_port(arg_str("stripPort", a, 0)?)))
    });
    insert(&mut m, "stripDomain", |a| {
        Ok(str_value(strip_domain(arg_str("stripDomain", a, 0)?)))
    });
    insert(&mut m, "humanize", |a| {
        Ok(str_value(humanize(float_arg("humanize", a)?)))
    });
    insert(&mut m, "humanize1024", |a| {
        Ok(str_value(humanize1024(float_arg("humanize1024", a)?)))
    });
    insert(&mut m, "humanizePercentage", |a| {
        Ok(str_value(humanize_percentage(float_arg(
            "humanizePercentage",
            a,
        )?)))
    });
    insert(&mut m, "humanizeTimestamp", |a| {
        humanize_timestamp(float_arg("humanizeTimestamp", a)?)
            .map(str_value)
            .map_err(exec_err)
    });
    insert(&mut m, "toTime", |a| {
        float_to_time(float_arg("toTime", a)?).map_err(exec_err)
    });
    if !prometheus2 {
        insert(&mut m, "toDuration", |a| {
            let v = float_arg("toDuration", a)?;
            Ok(gotime::duration_value((v * 1e9) as i64))
        });
        insert(&mut m, "now", move |a| {
            want_args("now", a, 0)?;
            Ok(Value::Float(t_ms as f64 / 1000.0))
        });
        insert(&mut m, "urlQueryEscape", |a| {
            want_args("urlQueryEscape", a, 1)?;
            Ok(str_value(query_escape(arg_str("urlQueryEscape", a, 0)?)))
        });
    }
    let url = external_url.to_string();
    let path = url_path(external_url);
    insert(&mut m, "pathPrefix", move |_| Ok(str_value(path.clone())));
    insert(&mut m, "externalURL", move |_| Ok(str_value(url.clone())));
    insert(&mut m, "parseDuration", move |a| {
        want_args("parseDuration", a, 1)?;
        let text = arg_str("parseDuration", a, 0)?;
        // model.ParseDurationAllowNegative (3.6+): a leading `-` negates what follows.
        let (sign, text) = match text.strip_prefix('-') {
            Some(rest) if !prometheus2 => (-1.0, rest),
            _ => (1.0, text),
        };
        let ms = crate::text::duration::parse_duration(text).map_err(exec_err)?;
        Ok(Value::Float(sign * ms as f64 / 1000.0))
    });
    m
}

fn sample_field(s: &Value, k: &str) -> gotmpl::Result<Value> {
    if struct_type(s) != Some("*template.sample") {
        return Err(exec_err(format!(
            "wrong type for value; expected *template.sample; got {}",
            go_type_name(s)
        )));
    }
    match s {
        Value::Map(m) => Ok(m.get(k).cloned().unwrap_or(Value::Nil)),
        _ => Ok(Value::Nil),
    }
}

fn sample_labels(s: &Value) -> gotmpl::Result<Arc<BTreeMap<Arc<str>, Value>>> {
    match sample_field(s, "Labels")? {
        Value::Map(m) => Ok(m),
        _ => Ok(Arc::new(BTreeMap::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(value: f64) -> AlertTemplateData {
        let mut labels = BTreeMap::new();
        labels.insert("pod".into(), "api-7f9c".into());
        labels.insert("instance".into(), "node1.example.com:9100".into());
        AlertTemplateData {
            labels,
            external_labels: BTreeMap::from([("cluster".to_string(), "prod".to_string())]),
            external_url: "http://prom.example.com:9090/prometheus".into(),
            value,
            histogram: None,
        }
    }

    fn ok(text: &str, value: f64) -> String {
        let e = expand_alert_template("R", text, &data(value), 1_700_000_000_000, None);
        assert_eq!(e.error, None, "{text}");
        e.text
    }

    #[test]
    fn humanize_values_follow_go() {
        // humanize: 1234567 -> /1000 twice -> 1.234567 -> %.4g -> "1.235" + "M".
        assert_eq!(humanize(1234567.0), "1.235M");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(0.000123), "123u"); // *1000 twice -> 123 (prefix u)
        assert_eq!(humanize(1e-9), "1n");
        assert_eq!(humanize(f64::NAN), "NaN");
        assert_eq!(humanize(f64::INFINITY), "+Inf");
        assert_eq!(humanize(999.9), "999.9");
        assert_eq!(humanize(-1500.0), "-1.5k");
        assert_eq!(humanize1024(1024.0), "1ki");
        assert_eq!(humanize1024(1.0), "1");
        assert_eq!(humanize1024(1_073_741_824.0), "1Gi");
        assert_eq!(humanize_percentage(0.5), "50%");
        assert_eq!(humanize_percentage(0.123456), "12.35%");
    }

    #[test]
    fn humanize_duration_follows_go() {
        assert_eq!(humanize_duration(0.5), "500ms");
        assert_eq!(humanize_duration(59.0), "59s");
        assert_eq!(humanize_duration(3600.5), "1h 0m 0s");
        assert_eq!(humanize_duration(86400.0 * 3.0 + 1.0), "3d 0h 0m 1s");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(humanize_duration(1.23456), "1.235s");
        assert_eq!(humanize_duration(-61.0), "-1m 1s");
        assert_eq!(humanize_duration(f64::NAN), "NaN");
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            humanize_timestamp(1_700_000_000.0).unwrap(),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        // model.TimeFromUnixNano keeps milliseconds only.
        assert_eq!(
            humanize_timestamp(1.2345678).unwrap(),
            "1970-01-01 00:00:01.234 +0000 UTC"
        );
        assert_eq!(humanize_timestamp(f64::INFINITY).unwrap(), "+Inf");
    }

    #[test]
    fn expansion_uses_prefix_variables() {
        assert_eq!(
            ok("{{ $labels.pod }} is {{ $value }}", 1e6),
            "api-7f9c is 1e+06"
        );
        assert_eq!(
            ok("{{ $externalLabels.cluster }}|{{ $externalURL }}", 1.0),
            "prod|http://prom.example.com:9090/prometheus"
        );
        assert_eq!(ok("[{{ $labels.missing }}]", 1.0), "[]");
        assert_eq!(ok("{{ .Value | humanize }}", 1234567.0), "1.235M");
        assert_eq!(
            ok(
                "{{ $labels.instance | stripPort }} {{ $labels.instance | stripDomain }}",
                0.0
            ),
            "node1.example.com node1:9100"
        );
        assert_eq!(ok("{{ pathPrefix }} {{ now }}", 0.0), "/prometheus 1.7e+09");
        assert_eq!(ok("{{ \"1h30m\" | parseDuration }}", 0.0), "5400");
        assert_eq!(
            ok("{{ toTime 1700000000 }}", 0.0),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(ok("{{ toDuration 90 }}", 0.0), "1m30s");
        assert_eq!(ok("{{ \"a%20b+c\" | urlUnescape }}", 0.0), "a b c");
        assert_eq!(
            ok("{{ graphLink \"up == 0\" }}", 0.0),
            "/graph?g0.expr=up+%3D%3D+0&g0.tab=0"
        );
        assert_eq!(ok("{{ title \"hello wORLD\" }}", 0.0), "Hello WORLD");
        // x/text/cases word rules: '_' and '.' inside a word, '-' breaks, digits do not start a word.
        assert_eq!(
            title_no_lower("foo_bar foo-bar it's node.example 3am"),
            "Foo_bar Foo-Bar It's Node.example 3Am"
        );
        assert_eq!(title_lower_rest("hELLO wORLD"), "Hello World");
        assert_eq!(
            ok(
                "{{ with args 1 \"x\" }}{{ .arg1 }}{{ .arg5 }}{{ end }}",
                0.0
            ),
            "x<no value>"
        );
    }

    #[test]
    fn errors_read_like_prometheus() {
        let e = expand_alert_template("HighLatency", "{{ humanize \"abc\" }}", &data(1.0), 0, None);
        let prefix = ALERT_TEMPLATE_PREFIX.len();
        assert_eq!(
            e.error.as_deref(),
            Some(
                format!(
                    "error executing template __alert_HighLatency: template: __alert_HighLatency:1:{}: executing \"__alert_HighLatency\" at <humanize \"abc\">: error calling humanize: strconv.ParseFloat: parsing \"abc\": invalid syntax",
                    prefix + 3
                )
                .as_str()
            )
        );
        assert!(e.text.starts_with(
            "<error expanding template: error executing template __alert_HighLatency: "
        ));
        let e = expand_alert_template("R", "{{ nosuch 1 }}", &data(1.0), 0, None);
        assert_eq!(
            e.text,
            "<error expanding template: error parsing template __alert_R: template: __alert_R:1: function \"nosuch\" not defined>"
        );
    }

    struct FakeQuery;
    impl QueryFn for FakeQuery {
        fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<QuerySample>, String> {
            if expr == "bad" {
                return Err("parse error".into());
            }
            Ok(vec![
                QuerySample {
                    labels: BTreeMap::from([("job".to_string(), "b".to_string())]),
                    value: t_ms as f64,
                },
                QuerySample {
                    labels: BTreeMap::from([("job".to_string(), "a".to_string())]),
                    value: 2.5,
                },
            ])
        }
    }

    #[test]
    fn query_functions() {
        let run = |t: &str| expand_alert_template("R", t, &data(0.0), 1000, Some(&FakeQuery));
        assert_eq!(run("{{ query \"up\" | first | value }}").text, "1000");
        assert_eq!(run("{{ range query \"up\" | sortByLabel \"job\" }}{{ .Labels.job }}={{ .Value }} {{ end }}").text, "a=2.5 b=1000 ");
        assert_eq!(
            run("{{ with query \"up\" }}{{ . | first | label \"job\" }}{{ end }}").text,
            "b"
        );
        let e = run("{{ query \"bad\" }}");
        assert!(e
            .error
            .unwrap_or_default()
            .ends_with("error calling query: parse error"));
        let none = expand_alert_template("R", "{{ query \"up\" }}", &data(0.0), 0, None);
        assert!(none.error.is_some());
    }

    #[test]
    fn strings_title_is_gos() {
        // Go 1.19's strings.Title on each input (Prometheus 2's `title`).
        for (input, want) in [
            ("don't panic", "Don'T Panic"),
            ("hello_world foo-bar", "Hello_world Foo-Bar"),
            ("ünïcode ok", "Ünïcode Ok"),
            ("3am x.y", "3am X.Y"),
            ("ǆungla", "ǅungla"),
            ("ßtraße", "ßtraße"),
        ] {
            assert_eq!(go_strings_title(input), want, "{input}");
        }
        assert_eq!(title_no_lower("don't panic"), "Don't Panic");
    }

    #[test]
    fn prometheus_2_lacks_the_newer_functions() {
        let cache = || Arc::new(std::sync::Mutex::new(QueryCache::default()));
        let two = functions(0, "", cache(), true);
        let three = functions(60_000, "", cache(), false);
        for name in ["now", "toDuration", "urlQueryEscape"] {
            assert!(
                !two.contains_key(name) && three.contains_key(name),
                "{name}"
            );
        }
        let arg = [Value::String("a b&c/ü".into())];
        let escaped = three["urlQueryEscape"](&arg).unwrap();
        assert!(matches!(escaped, Value::String(s) if &*s == "a+b%26c%2F%C3%BC"));
        let arg = [Value::String("-1m30s".into())];
        assert!(matches!(three["parseDuration"](&arg).unwrap(), Value::Float(v) if v == -90.0));
        let e = two["parseDuration"](&arg).unwrap_err().to_string();
        assert!(e.contains("not a valid duration string: \"-1m30s\""), "{e}");
    }

    #[test]
    fn check_syntax_positions() {
        assert!(check_syntax("{{ $labels.pod | humanize }}").is_ok());
        let e = check_syntax("ok {{ nosuch }}").unwrap_err();
        assert_eq!(e.position(), Some((1, 7)));
        assert!(e.to_string().contains("function \"nosuch\" not defined"));
        let e = check_syntax("a\n{{ .Labels ").unwrap_err();
        assert_eq!(e.position().map(|p| p.0), Some(2));
        // `tmpl` exists only for console templates (ExpandHTML), not alert text.
        assert!(check_syntax("{{ tmpl \"x\" . }}").is_err());
        let e = check_alert_template("HighLatency", "{{ $value | humanise }}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: __alert_HighLatency:1: function \"humanise\" not defined"
        );
        assert!(check_syntax("x{{ end }}").is_err());
    }
}
