//! Alertmanager notification templates: the data a notifier sees, Alertmanager's function set, its default
//! template definitions, and user template files layered on top.
//!
//! Follows prometheus/alertmanager template/template.go: `Data` (Receiver passed through
//! `regexp.QuoteMeta`, Status, Alerts with `Firing`/`Resolved`, GroupLabels, CommonLabels,
//! CommonAnnotations, ExternalURL), `KV` with `SortedPairs` (alertname first), `Names`, `Values`, `Remove`,
//! and `ExecuteTextString` (empty text renders as empty, otherwise parsed as a template named "" with
//! `missingkey=zero` over a clone of the loaded set).

use super::engine::{Dialect, Engine, TemplateError};
use super::gotime;
use super::prometheus::{self, insert};
use super::values::{
    arg_str, exec_err, go_type_name, string_map, struct_type, struct_value, want_args, TYPE_KEY,
};
use crate::text::gofmt::format_float;
use gotmpl::{FuncMap, Template, Value};
use std::collections::BTreeMap;

/// Alertmanager's built-in template definitions (default.tmpl plus the email subject).
pub const DEFAULT_TEMPLATES: &str = include_str!("alertmanager_default.tmpl");

/// Whether an alert is firing or resolved at notification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// One alert as a notification template sees it (`template.Alert`).
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationAlert {
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Unix milliseconds, UTC.
    pub starts_at_ms: i64,
    /// Unix milliseconds, UTC; `None` is Go's zero time.
    pub ends_at_ms: Option<i64>,
    pub generator_url: String,
    /// `None`: computed from the labels as Alertmanager does (model.LabelSet.Fingerprint, `%016x`).
    pub fingerprint: Option<String>,
}

/// The data of one notification (`template.Data`).
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationData {
    /// The receiver name as configured; Alertmanager passes it through `regexp.QuoteMeta`.
    pub receiver: String,
    pub alerts: Vec<NotificationAlert>,
    pub group_labels: BTreeMap<String, String>,
    pub external_url: String,
    pub notification_reason: String,
}

impl NotificationData {
    /// "firing" when any alert fires, else "resolved" (types.Alerts.Status).
    pub fn status(&self) -> &'static str {
        if self.alerts.iter().any(|a| a.status == AlertStatus::Firing) {
            "firing"
        } else {
            "resolved"
        }
    }

    /// Labels equal across all alerts (template.Data: starts from the first alert and drops mismatches).
    pub fn common_labels(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.labels))
    }

    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.annotations))
    }

    /// The value templates run against.
    pub fn to_value(&self) -> Value {
        let alerts: Vec<Value> = self.alerts.iter().map(alert_value).collect();
        struct_value(
            "template.Data",
            vec![
                ("Receiver", Value::String(quote_meta(&self.receiver).into())),
                ("Status", Value::String(self.status().into())),
                ("Alerts", Value::List(alerts.into())),
                (
                    "NotificationReason",
                    Value::String(self.notification_reason.as_str().into()),
                ),
                ("GroupLabels", string_map(&self.group_labels)),
                ("CommonLabels", string_map(&self.common_labels())),
                ("CommonAnnotations", string_map(&self.common_annotations())),
                (
                    "ExternalURL",
                    Value::String(self.external_url.as_str().into()),
                ),
            ],
        )
    }
}

fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut out = first.clone();
    for m in maps {
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

fn alert_value(a: &NotificationAlert) -> Value {
    let fp = a
        .fingerprint
        .clone()
        .unwrap_or_else(|| fingerprint(&a.labels));
    struct_value(
        "template.Alert",
        vec![
            ("Status", Value::String(a.status.as_str().into())),
            ("Labels", string_map(&a.labels)),
            ("Annotations", string_map(&a.annotations)),
            ("StartsAt", gotime::time_from_unix_ms(a.starts_at_ms)),
            (
                "EndsAt",
                a.ends_at_ms
                    .map_or_else(gotime::zero_time, gotime::time_from_unix_ms),
            ),
            (
                "GeneratorURL",
                Value::String(a.generator_url.as_str().into()),
            ),
            ("Fingerprint", Value::String(fp.into())),
        ],
    )
}

/// model.LabelSet.Fingerprint: FNV-1a 64 over sorted `name 0xff value 0xff`, printed as `%016x`.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut h = OFFSET;
    let mut add = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    };
    for (k, v) in labels {
        k.bytes().for_each(&mut add);
        add(0xff);
        v.bytes().for_each(&mut add);
        add(0xff);
    }
    format!("{h:016x}")
}

/// Go's regexp.QuoteMeta.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Loaded notification templates: Alertmanager's defaults plus user files, ready to render text.
#[derive(Clone)]
pub struct TemplateSet {
    engine: Engine,
    set: Template,
}

impl TemplateSet {
    /// The defaults only. `now_ms` is the clock `since` reads (a test run pins it).
    pub fn with_defaults(now_ms: i64) -> Result<TemplateSet, TemplateError> {
        let engine = Engine::new(Dialect::Alertmanager, functions(now_ms));
        let set = engine.parse_into(engine.new_set(), "default.tmpl", "", DEFAULT_TEMPLATES)?;
        Ok(TemplateSet { engine, set })
    }

    /// Add a user template file; its definitions replace same-named ones (Go's ParseGlob, last wins).
    /// `name` is used in error messages as Go uses the file's base name.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), TemplateError> {
        let set = std::mem::replace(&mut self.set, Template::new(""));
        let base = std::path::Path::new(name)
            .file_name()
            .map_or_else(|| name.to_string(), |b| b.to_string_lossy().into_owned());
        match self.engine.parse_into(set.clone(), &base, &base, text) {
            Ok(s) => {
                self.set = s;
                Ok(())
            }
            Err(e) => {
                self.set = set;
                Err(e)
            }
        }
    }

    /// Defaults plus the given files, read from disk in order.
    pub fn load_files(
        paths: &[std::path::PathBuf],
        now_ms: i64,
    ) -> Result<TemplateSet, TemplateError> {
        let mut ts = TemplateSet::with_defaults(now_ms)?;
        for p in paths {
            let text = std::fs::read_to_string(p).map_err(|e| TemplateError::Parse {
                message: format!("open {}: {e}", p.display()),
                line: 0,
                col: 0,
            })?;
            ts.add_file(&p.to_string_lossy(), &text)?;
        }
        Ok(ts)
    }

    /// Defaults plus the files matching the `templates:` globs of an Alertmanager config, relative patterns
    /// taken from `base_dir` (the config file's directory, as Alertmanager resolves them). Patterns are
    /// applied in order, matches in sorted order; a pattern matching nothing is allowed (FromGlob).
    pub fn load_globs(
        patterns: &[String],
        base_dir: &std::path::Path,
        now_ms: i64,
    ) -> Result<TemplateSet, TemplateError> {
        let mut files = Vec::new();
        for p in patterns {
            let full = if std::path::Path::new(p).is_absolute() {
                p.clone()
            } else {
                base_dir.join(p).to_string_lossy().into_owned()
            };
            let paths = glob::glob(&full).map_err(|e| TemplateError::Parse {
                message: format!("syntax error in pattern {p:?}: {}", e.msg),
                line: 0,
                col: 0,
            })?;
            let mut matched: Vec<std::path::PathBuf> = paths.filter_map(Result::ok).collect();
            matched.sort();
            files.extend(matched);
        }
        TemplateSet::load_files(&files, now_ms)
    }

    /// Alertmanager's ExecuteTextString: render `text` (which may call `{{ template "..." . }}`) over `data`.
    pub fn render(&self, text: &str, data: &NotificationData) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let set = self.engine.parse_into(self.set.clone(), "", "", text)?;
        self.engine.execute(&set, "", &data.to_value())
    }

    /// Execute one defined template by name, e.g. `email.default.subject`.
    pub fn render_named(
        &self,
        name: &str,
        data: &NotificationData,
    ) -> Result<String, TemplateError> {
        self.engine.execute(&self.set, name, &data.to_value())
    }

    /// Whether a template of that name is defined.
    pub fn has_template(&self, name: &str) -> bool {
        self.set.lookup(name).is_some()
    }
}

/// Alertmanager's DefaultFuncs.
fn functions(now_ms: i64) -> FuncMap {
    let mut m = FuncMap::new();
    prometheus::insert_string_funcs(&mut m);
    insert(&mut m, "title", |a| {
        Ok(Value::String(
            prometheus::title_lower_rest(arg_str("title", a, 0)?).into(),
        ))
    });
    insert(&mut m, "trimSpace", |a| {
        Ok(Value::String(arg_str("trimSpace", a, 0)?.trim().into()))
    });
    insert(&mut m, "join", |a| {
        want_args("join", a, 2)?;
        let sep = arg_str("join", a, 0)?;
        let Value::List(items) = &a[1] else {
            return Err(exec_err(format!(
                "wrong type for value; expected []string; got {}",
                go_type_name(&a[1])
            )));
        };
        let mut parts = Vec::with_capacity(items.len());
        for i in items.iter() {
            match i {
                Value::String(s) => parts.push(s.to_string()),
                other => {
                    return Err(exec_err(format!(
                        "wrong type for value; expected string; got {}",
                        go_type_name(other)
                    )))
                }
            }
        }
        Ok(Value::String(parts.join(sep).into()))
    });
    insert(&mut m, "safeUrl", |a| {
        Ok(Value::String(arg_str("safeUrl", a, 0)?.into()))
    });
    insert(&mut m, "stringSlice", |a| {
        for i in 0..a.len() {
            arg_str("stringSlice", a, i)?;
        }
        Ok(Value::List(a.to_vec().into()))
    });
    insert(&mut m, "date", |a| {
        want_args("date", a, 2)?;
        let layout = arg_str("date", a, 0)?;
        expect_time(&a[1])?;
        Ok(Value::String(gotime::format_time(&a[1], layout).into()))
    });
    insert(&mut m, "tz", |a| {
        want_args("tz", a, 2)?;
        let name = arg_str("tz", a, 0)?;
        expect_time(&a[1])?;
        gotime::in_zone(&a[1], name).map_err(exec_err)
    });
    insert(&mut m, "since", move |a| {
        want_args("since", a, 1)?;
        expect_time(&a[0])?;
        let (secs, nsec, _, _) = gotime::time_parts(&a[0]);
        let then = i128::from(secs) * 1_000_000_000 + i128::from(nsec);
        let now = i128::from(now_ms) * 1_000_000;
        let d = (now - then).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        Ok(gotime::duration_value(d))
    });
    insert(&mut m, "toJson", |a| {
        want_args("toJson", a, 1)?;
        let mut out = String::new();
        json(&a[0], &mut out).map_err(exec_err)?;
        Ok(Value::String(out.into()))
    });
    m
}

fn expect_time(v: &Value) -> gotmpl::Result<()> {
    if struct_type(v) == Some("time.Time") {
        Ok(())
    } else {
        Err(exec_err(format!(
            "wrong type for value; expected time.Time; got {}",
            go_type_name(v)
        )))
    }
}

/// JSON field names of the struct types, in declaration order (encoding/json follows struct order).
fn json_fields(go_type: &str) -> Option<&'static [(&'static str, &'static str)]> {
    match go_type {
        "template.Data" => Some(&[
            ("receiver", "Receiver"),
            ("status", "Status"),
            ("alerts", "Alerts"),
            ("notification_reason", "NotificationReason"),
            ("groupLabels", "GroupLabels"),
            ("commonLabels", "CommonLabels"),
            ("commonAnnotations", "CommonAnnotations"),
            ("externalURL", "ExternalURL"),
        ]),
        "template.Alert" => Some(&[
            ("status", "Status"),
            ("labels", "Labels"),
            ("annotations", "Annotations"),
            ("startsAt", "StartsAt"),
            ("endsAt", "EndsAt"),
            ("generatorURL", "GeneratorURL"),
            ("fingerprint", "Fingerprint"),
        ]),
        "template.Pair" => Some(&[("Name", "Name"), ("Value", "Value")]),
        _ => None,
    }
}

/// encoding/json.Marshal of a template value.
fn json(v: &Value, out: &mut String) -> Result<(), String> {
    match struct_type(v) {
        Some("time.Time") => {
            json_string(
                &gotime::format_time(v, "2006-01-02T15:04:05.999999999Z07:00"),
                out,
            );
            return Ok(());
        }
        Some("time.Duration") => {
            out.push_str(&gotime::duration_nanos(v).to_string());
            return Ok(());
        }
        Some(t) => {
            let Some(fields) = json_fields(t) else {
                return Err(format!("json: unsupported type: {t}"));
            };
            out.push('{');
            for (i, (json_name, field)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(json_name, out);
                out.push(':');
                let x = match v {
                    Value::Map(m) => m.get(*field).cloned().unwrap_or(Value::Nil),
                    _ => Value::Nil,
                };
                json(&x, out)?;
            }
            out.push('}');
            return Ok(());
        }
        None => {}
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::String(s) => json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(x, out)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            let mut first = true;
            for (k, x) in m.iter().filter(|(k, _)| k.as_ref() != TYPE_KEY) {
                if !first {
                    out.push(',');
                }
                first = false;
                json_string(k, out);
                out.push(':');
                json(x, out)?;
            }
            out.push('}');
        }
        Value::Function(_) => return Err("json: unsupported type: func".into()),
    }
    Ok(())
}

/// encoding/json float encoding: like ES6, `%e` only below 1e-6 or from 1e21, exponent without padding.
fn json_float(f: f64) -> Result<String, String> {
    if f.is_nan() || f.is_infinite() {
        return Err(format!(
            "json: unsupported value: {}",
            crate::text::gofmt::format_float_v(f)
        ));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_float(f, 'e', -1);
        // e-07 -> e-7, as encoding/json does.
        if let Some(i) = s.find("e-0") {
            return Ok(format!("{}e-{}", &s[..i], &s[i + 3..]));
        }
        if let Some(i) = s.find("e+0") {
            return Ok(format!("{}e+{}", &s[..i], &s[i + 3..]));
        }
        return Ok(s);
    }
    Ok(format_float(f, 'f', -1))
}

/// encoding/json string escaping, with its default HTML-safe escapes.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, instance: &str, status: AlertStatus) -> NotificationAlert {
        NotificationAlert {
            status,
            labels: BTreeMap::from([
                ("alertname".to_string(), name.to_string()),
                ("instance".to_string(), instance.to_string()),
                ("severity".to_string(), "critical".to_string()),
            ]),
            annotations: BTreeMap::from([("summary".to_string(), format!("{instance} down"))]),
            starts_at_ms: 1_700_000_000_000,
            ends_at_ms: None,
            generator_url: "http://prom/graph".into(),
            fingerprint: None,
        }
    }

    fn data() -> NotificationData {
        NotificationData {
            receiver: "team-x.pager".into(),
            alerts: vec![
                alert("InstanceDown", "a:9100", AlertStatus::Firing),
                alert("InstanceDown", "b:9100", AlertStatus::Firing),
            ],
            group_labels: BTreeMap::from([("alertname".to_string(), "InstanceDown".to_string())]),
            external_url: "http://am:9093".into(),
            notification_reason: String::new(),
        }
    }

    #[test]
    fn subject_for_two_firing_alerts() {
        let ts = TemplateSet::with_defaults(0).unwrap();
        // __subject: [FIRING:2] + group label values + (common labels minus group labels, values joined).
        assert_eq!(
            ts.render_named("email.default.subject", &data()).unwrap(),
            "[FIRING:2] InstanceDown (critical)"
        );
        assert_eq!(
            ts.render("{{ template \"__alertmanagerURL\" . }}", &data())
                .unwrap(),
            "http://am:9093/#/alerts?receiver=team-x%5C.pager"
        );
    }

    #[test]
    fn data_model_methods() {
        let ts = TemplateSet::with_defaults(1_700_000_060_000).unwrap();
        let d = data();
        assert_eq!(ts.render("{{ .Receiver }}", &d).unwrap(), "team-x\\.pager");
        assert_eq!(
            ts.render("{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}", &d)
                .unwrap(),
            "2/0"
        );
        assert_eq!(
            ts.render("{{ (index .Alerts 0).Labels.SortedPairs }}", &d)
                .unwrap(),
            "alertname=InstanceDown, instance=a:9100, severity=critical"
        );
        assert_eq!(
            ts.render("{{ .CommonLabels.Names | join \",\" }}", &d)
                .unwrap(),
            "alertname,severity"
        );
        assert_eq!(
            ts.render("{{ (index .Alerts 0).StartsAt }}", &d).unwrap(),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(
            ts.render("{{ (index .Alerts 0).EndsAt }}", &d).unwrap(),
            "0001-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            ts.render(
                "{{ (index .Alerts 0).StartsAt | since | humanizeDuration }}",
                &d
            )
            .unwrap(),
            "1m 0s"
        );
        assert_eq!(
            ts.render("{{ (index .Alerts 0).StartsAt.Format \"15:04\" }} {{ date \"2006\" (index .Alerts 0).StartsAt }}", &d)
                .unwrap(),
            "22:13 2023"
        );
        assert_eq!(
            ts.render(
                "{{ .CommonLabels.missing }}|{{ title \"hELLO world\" }}",
                &d
            )
            .unwrap(),
            "|Hello World"
        );
        assert_eq!(
            ts.render("{{ stringSlice \"a\" \"b\" | join \"-\" }}", &d)
                .unwrap(),
            "a-b"
        );
        assert_eq!(ts.render("", &d).unwrap(), "");
    }

    #[test]
    fn to_json_matches_encoding_json() {
        let ts = TemplateSet::with_defaults(0).unwrap();
        assert_eq!(
            ts.render("{{ .GroupLabels | toJson }}", &data()).unwrap(),
            "{\"alertname\":\"InstanceDown\"}"
        );
        assert_eq!(json_float(1e21).unwrap(), "1e+21");
        assert_eq!(json_float(1e20).unwrap(), "100000000000000000000");
        assert_eq!(json_float(1e-7).unwrap(), "1e-7");
        assert_eq!(json_float(0.5).unwrap(), "0.5");
        let mut s = String::new();
        json_string("<a&b>", &mut s);
        assert_eq!(s, "\"\\u003ca\\u0026b\\u003e\"");
    }

    #[test]
    fn user_files_override_defaults() {
        let mut ts = TemplateSet::with_defaults(0).unwrap();
        ts.add_file(
            "/etc/am/custom.tmpl",
            "{{ define \"__subject\" }}custom {{ .Status }}{{ end }}",
        )
        .unwrap();
        assert_eq!(
            ts.render_named("email.default.subject", &data()).unwrap(),
            "custom firing"
        );
        let err = ts
            .add_file("bad.tmpl", "{{ define \"x\" }}{{ nosuch }}{{ end }}")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: bad.tmpl:1: function \"nosuch\" not defined"
        );
        // A failed file leaves the set as it was.
        assert_eq!(
            ts.render_named("email.default.subject", &data()).unwrap(),
            "custom firing"
        );
    }

    #[test]
    fn globs_load_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.tmpl"), "{{ define \"x\" }}A{{ end }}").unwrap();
        std::fs::write(dir.path().join("b.tmpl"), "{{ define \"x\" }}B{{ end }}").unwrap();
        let ts = TemplateSet::load_globs(
            &["*.tmpl".to_string(), "none/*.tmpl".to_string()],
            dir.path(),
            0,
        )
        .unwrap();
        // b.tmpl sorts after a.tmpl, so its definition wins.
        assert_eq!(ts.render("{{ template \"x\" . }}", &data()).unwrap(), "B");
        assert!(TemplateSet::load_globs(&["[".to_string()], dir.path(), 0).is_err());
    }

    #[test]
    fn template_set_is_shareable_across_threads() {
        fn check<T: Send + Sync>() {}
        check::<TemplateSet>();
        let ts = std::sync::Arc::new(TemplateSet::with_defaults(0).unwrap());
        let t2 = ts.clone();
        let h =
            std::thread::spawn(move || t2.render_named("email.default.subject", &data()).unwrap());
        assert_eq!(
            h.join().unwrap(),
            ts.render_named("email.default.subject", &data()).unwrap()
        );
    }

    #[test]
    fn fingerprint_matches_model() {
        // Empty label set: FNV-1a offset basis, as model.emptyLabelSignature.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        // prometheus/common model TestMetricToFingerprint = 5799056148416392346, printed %016x.
        let fp = fingerprint(&BTreeMap::from([
            ("name".to_string(), "garland, briggs".to_string()),
            ("fear".to_string(), "love is not enough".to_string()),
        ]));
        assert_eq!(fp, format!("{:016x}", 5_799_056_148_416_392_346_u64));
    }
}
