//! What a notification's templates see, as Alertmanager's `template.Data`: `.Receiver .Status .Alerts
//! (.Firing, .Resolved) .GroupLabels .CommonLabels .CommonAnnotations .ExternalURL`, each alert with `Status
//! Labels Annotations StartsAt EndsAt GeneratorURL Fingerprint`. Rendering is not done here: a [`Renderer`]
//! (the Go-template adapter in `template`) is plugged in by the caller. Also the webhook JSON body
//! (version 4), which the reference test compares with a real Alertmanager's.

use super::alert::{fingerprint_string, notification_order, Alert};
use super::dispatch::Notification;
use super::receivers::{self, Integration, Value};
use super::LabelSet;
use chrono::DateTime;
use serde_json::json;

/// One alert as templates see it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertData {
    /// `firing` or `resolved`.
    pub status: &'static str,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    /// Unix milliseconds.
    pub starts_at: i64,
    /// `None` for firing alerts (Go's zero time).
    pub ends_at: Option<i64>,
    pub generator_url: String,
    /// `%016x` of the label fingerprint.
    pub fingerprint: String,
}

/// The data of one notification (`template.Data`).
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationData {
    /// The receiver name escaped as Go's `regexp.QuoteMeta` does (Alertmanager does this: `web\.hook`).
    pub receiver: String,
    /// `firing` when any alert fires, else `resolved`.
    pub status: &'static str,
    pub alerts: Vec<AlertData>,
    pub group_labels: LabelSet,
    pub common_labels: LabelSet,
    pub common_annotations: LabelSet,
    pub external_url: String,
    pub group_key: String,
}

impl NotificationData {
    pub fn firing(&self) -> impl Iterator<Item = &AlertData> {
        self.alerts.iter().filter(|a| a.status == "firing")
    }

    pub fn resolved(&self) -> impl Iterator<Item = &AlertData> {
        self.alerts.iter().filter(|a| a.status == "resolved")
    }

    pub fn from_notification(n: &Notification, external_url: &str) -> NotificationData {
        let mut alerts: Vec<&Alert> = n.firing.iter().chain(&n.resolved).collect();
        alerts.sort_by(|a, b| notification_order(a, b));
        let data: Vec<AlertData> = alerts
            .iter()
            .map(|a| AlertData {
                status: if a.ends_at.is_some_and(|e| e <= n.at) {
                    "resolved"
                } else {
                    "firing"
                },
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                generator_url: a.generator_url.clone(),
                fingerprint: fingerprint_string(a.fingerprint()),
            })
            .collect();
        let common = |f: fn(&AlertData) -> &LabelSet| -> LabelSet {
            let mut it = data.iter();
            let Some(first) = it.next() else {
                return LabelSet::new();
            };
            let mut out = f(first).clone();
            for a in it {
                out.retain(|k, v| f(a).get(k) == Some(v));
            }
            out
        };
        let common_labels = common(|a| &a.labels);
        let common_annotations = common(|a| &a.annotations);
        NotificationData {
            receiver: quote_meta(&n.receiver),
            status: if data.iter().any(|a| a.status == "firing") {
                "firing"
            } else {
                "resolved"
            },
            alerts: data,
            group_labels: n.group_labels.clone(),
            common_labels,
            common_annotations,
            external_url: external_url.to_string(),
            group_key: n.group_key.clone(),
        }
    }
}

/// Go's `regexp.QuoteMeta`.
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

/// `Labels.SortedPairs`: `alertname` first, then by name.
pub fn sorted_pairs(labels: &LabelSet) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(labels.len());
    if let Some(v) = labels.get("alertname") {
        out.push(("alertname", v));
    }
    out.extend(
        labels
            .iter()
            .filter(|(k, _)| k.as_str() != "alertname")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    out
}

/// Go's `time.RFC3339Nano` in UTC, as its JSON encoding of `time.Time` prints it: the fraction loses its
/// trailing zeros (`17.5Z`, not `17.500Z`); zero time for `None`.
pub fn json_time(ms: Option<i64>) -> String {
    match ms.and_then(DateTime::from_timestamp_millis) {
        Some(t) => {
            let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            let nanos = t.timestamp_subsec_nanos();
            if nanos == 0 {
                format!("{base}Z")
            } else {
                let frac = format!("{nanos:09}");
                format!("{base}.{}Z", frac.trim_end_matches('0'))
            }
        }
        None => "0001-01-01T00:00:00Z".into(),
    }
}

/// Go's `time.Time.String()` in UTC (`2006-01-02 15:04:05.999999999 -0700 MST`), what `{{ .StartsAt }}` prints.
pub fn go_time_string(ms: Option<i64>) -> String {
    match ms.and_then(DateTime::from_timestamp_millis) {
        Some(t) => {
            let frac = t.timestamp_subsec_millis();
            let base = t.format("%Y-%m-%d %H:%M:%S").to_string();
            if frac == 0 {
                format!("{base} +0000 UTC")
            } else {
                let f = format!("{frac:03}");
                format!("{base}.{} +0000 UTC", f.trim_end_matches('0'))
            }
        }
        None => "0001-01-01 00:00:00 +0000 UTC".into(),
    }
}

/// The body Alertmanager's webhook integration POSTs (version 4).
pub fn webhook_payload(d: &NotificationData, max_alerts: usize) -> serde_json::Value {
    let take = if max_alerts == 0 {
        d.alerts.len()
    } else {
        max_alerts.min(d.alerts.len())
    };
    let alerts: Vec<serde_json::Value> = d.alerts[..take]
        .iter()
        .map(|a| {
            json!({
                "status": a.status,
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": json_time(Some(a.starts_at)),
                "endsAt": json_time(a.ends_at),
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            })
        })
        .collect();
    json!({
        "receiver": d.receiver,
        "status": d.status,
        "alerts": alerts,
        "groupLabels": d.group_labels,
        "commonLabels": d.common_labels,
        "commonAnnotations": d.common_annotations,
        "externalURL": d.external_url,
        "version": "4",
        "groupKey": d.group_key,
        "truncatedAlerts": d.alerts.len() - take,
    })
}

/// Renders Go templates for a notification. The Go-template adapter in `template` implements this.
pub trait Renderer {
    fn render(&self, text: &str, data: &NotificationData) -> Result<String, String>;
}

/// One rendered field of an integration (`headers.Subject`, `title`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedField {
    pub field: String,
    pub text: Result<String, String>,
}

/// The template Alertmanager uses for a field the config leaves unset (config/notifiers.go defaults).
pub fn default_template(kind: &str, field: &str) -> Option<&'static str> {
    Some(match (kind, field) {
        ("email", "headers.Subject") => r#"{{ template "email.default.subject" . }}"#,
        ("email", "html") => r#"{{ template "email.default.html" . }}"#,
        ("slack", "title") => r#"{{ template "slack.default.title" . }}"#,
        ("slack", "text") => r#"{{ template "slack.default.text" . }}"#,
        ("slack", "username") => r#"{{ template "slack.default.username" . }}"#,
        ("slack", "fallback") => r#"{{ template "slack.default.fallback" . }}"#,
        ("slack", "title_link") => r#"{{ template "slack.default.titlelink" . }}"#,
        ("pagerduty", "description") => r#"{{ template "pagerduty.default.description" .}}"#,
        ("pagerduty", "client") => r#"{{ template "pagerduty.default.client" . }}"#,
        ("pagerduty", "client_url") => r#"{{ template "pagerduty.default.clientURL" . }}"#,
        ("opsgenie", "message") => r#"{{ template "opsgenie.default.message" . }}"#,
        ("opsgenie", "description") => r#"{{ template "opsgenie.default.description" . }}"#,
        ("msteams", "title") => r#"{{ template "msteams.default.title" . }}"#,
        ("msteams", "text") => r#"{{ template "msteams.default.text" . }}"#,
        ("discord", "title") => r#"{{ template "discord.default.title" . }}"#,
        ("discord", "message") => r#"{{ template "discord.default.message" . }}"#,
        ("telegram", "message") => r#"{{ template "telegram.default.message" . }}"#,
        ("webex", "message") => r#"{{ template "webex.default.message" . }}"#,
        ("pushover", "title") => r#"{{ template "pushover.default.title" . }}"#,
        ("pushover", "message") => r#"{{ template "pushover.default.message" . }}"#,
        ("sns", "subject") => r#"{{ template "sns.default.subject" . }}"#,
        ("sns", "message") => r#"{{ template "sns.default.message" . }}"#,
        ("victorops", "state_message") => r#"{{ template "victorops.default.state_message" . }}"#,
        ("wechat", "message") => r#"{{ template "wechat.default.message" . }}"#,
        _ => return None,
    })
}

/// Renders every templated field an integration sets (plus the defaults Alertmanager fills in for the main
/// fields it leaves unset).
pub fn render_integration(
    renderer: &dyn Renderer,
    integration: &Integration,
    data: &NotificationData,
) -> Vec<RenderedField> {
    let mut out = Vec::new();
    let Some(spec) = receivers::spec(integration.kind) else {
        return out;
    };
    for (name, kind) in spec.fields {
        match (kind, integration.values.get(*name)) {
            (receivers::Kind::Tmpl, Some(Value::Text(t))) => out.push(RenderedField {
                field: name.to_string(),
                text: renderer.render(t, data),
            }),
            (receivers::Kind::TmplMap, Some(Value::Map(m))) => {
                for (k, t) in m {
                    out.push(RenderedField {
                        field: format!("{name}.{k}"),
                        text: renderer.render(t, data),
                    });
                }
            }
            _ => {}
        }
    }
    for field in [
        "headers.Subject",
        "html",
        "title",
        "text",
        "description",
        "message",
        "subject",
    ] {
        if out.iter().any(|f| f.field == field) {
            continue;
        }
        // Email renders `html` only when neither html nor text is set.
        if integration.kind == "email" && field == "html" && integration.is_set("text") {
            continue;
        }
        if let Some(t) = default_template(integration.kind, field) {
            out.push(RenderedField {
                field: field.to_string(),
                text: renderer.render(t, data),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertmanager::dispatch::Reason;

    fn alert(name: &str, inst: &str, ends_at: Option<i64>) -> Alert {
        Alert {
            labels: [
                ("alertname".to_string(), name.to_string()),
                ("instance".to_string(), inst.to_string()),
                ("severity".to_string(), "critical".to_string()),
            ]
            .into(),
            annotations: [("summary".to_string(), format!("{inst} down"))].into(),
            starts_at: 1_764_000_000_000,
            ends_at,
            generator_url: "http://prom/graph".into(),
            updated_at: 0,
            timeout: false,
        }
    }

    fn notification() -> Notification {
        Notification {
            at: 1_764_000_600_000,
            receiver: "web.hook".into(),
            integration: "webhook[0]".into(),
            group_key: "{}:{alertname=\"Down\"}".into(),
            group_labels: [("alertname".to_string(), "Down".to_string())].into(),
            route: vec![],
            firing: vec![alert("Down", "b", None)],
            resolved: vec![alert("Down", "a", Some(1_764_000_300_000))],
            reason: Reason::SomeAlertsResolved,
        }
    }

    #[test]
    fn template_data_like_alertmanager() {
        let d = NotificationData::from_notification(&notification(), "http://am:9093");
        assert_eq!(d.receiver, "web\\.hook");
        assert_eq!(d.status, "firing");
        // Sorted by instance: a (resolved) before b (firing).
        let st: Vec<&str> = d.alerts.iter().map(|a| a.status).collect();
        assert_eq!(st, ["resolved", "firing"]);
        assert_eq!(d.firing().count(), 1);
        assert_eq!(d.common_labels.len(), 2); // alertname, severity; instance differs
        assert!(d.common_annotations.is_empty());
    }

    #[test]
    fn webhook_body_and_times() {
        let d = NotificationData::from_notification(&notification(), "http://am:9093");
        let v = webhook_payload(&d, 1);
        assert_eq!(v["version"], "4");
        assert_eq!(v["truncatedAlerts"], 1);
        assert_eq!(v["alerts"][0]["startsAt"], "2025-11-24T16:00:00Z");
        assert_eq!(json_time(None), "0001-01-01T00:00:00Z");
        // Go trims the fraction's trailing zeros (seen in a real Alertmanager's webhook body).
        assert_eq!(json_time(Some(1_500)), "1970-01-01T00:00:01.5Z");
        assert_eq!(json_time(Some(1_230)), "1970-01-01T00:00:01.23Z");
        assert_eq!(
            go_time_string(Some(1_500)),
            "1970-01-01 00:00:01.5 +0000 UTC"
        );
    }

    struct Echo;
    impl Renderer for Echo {
        fn render(&self, text: &str, d: &NotificationData) -> Result<String, String> {
            Ok(format!("{}|{text}", d.alerts.len()))
        }
    }

    #[test]
    fn renders_set_fields_and_defaults() {
        use crate::text::yaml::parse_stream;
        use std::sync::Arc;
        let s = parse_stream(
            "route: {receiver: r}\nglobal: {smtp_smarthost: 'h:25', smtp_from: a@b}\nreceivers:\n  - name: r\n    email_configs: [{to: x@y, headers: {Subject: 'S {{ .Status }}'}}]\n",
        )
        .unwrap();
        let (c, d) =
            crate::alertmanager::config::from_node(&s.documents[0].root, &Arc::from("n.yml"));
        assert!(d.is_empty(), "{d:?}");
        let c = c.unwrap();
        let data = NotificationData::from_notification(&notification(), "");
        let integration = c.integration("r", "email[0]").unwrap();
        let f = render_integration(&Echo, integration, &data);
        let names: Vec<&str> = f.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(names, ["to", "headers.Subject", "html"]);
        assert_eq!(f[1].text, Ok("2|S {{ .Status }}".into()));
    }
}
