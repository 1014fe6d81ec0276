//! Receivers and their integrations (email, Slack, PagerDuty, webhook ...): which fields each integration
//! accepts, which of them are secrets (never printed), which are Go templates rendered per notification, and
//! the `send_resolved` default of each, all after Alertmanager's `config/notifiers.go`.
//!
//! Integrations are kept as a table of typed values rather than one struct per kind: the simulator only needs
//! the kind, `send_resolved` and the templated texts, and a table lets every kind be validated the same way.

use super::fields::{Reader, Secret};
use crate::text::yaml::{Node, Pos};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    /// A Go template rendered with the notification data.
    Tmpl,
    Secret,
    Bool,
    Int,
    Duration,
    StrList,
    /// A mapping of strings to Go templates (headers, details, custom fields ...).
    TmplMap,
    /// Free-form structure we keep but do not validate field by field (Slack actions, Jira fields ...).
    Any,
    Http,
    Tls,
}

use Kind::*;

type Field = (&'static str, Kind);

/// An integration kind: its key in a receiver, its short name, its `send_resolved` default and its fields.
pub struct Spec {
    pub key: &'static str,
    pub name: &'static str,
    pub send_resolved: bool,
    pub fields: &'static [Field],
}

const EMAIL: &[Field] = &[
    ("to", Tmpl),
    ("from", Tmpl),
    ("hello", Str),
    ("smarthost", Str),
    ("auth_username", Str),
    ("auth_password", Secret),
    ("auth_password_file", Str),
    ("auth_secret", Secret),
    ("auth_secret_file", Str),
    ("auth_identity", Str),
    ("headers", TmplMap),
    ("html", Tmpl),
    ("text", Tmpl),
    ("require_tls", Bool),
    ("force_implicit_tls", Bool),
    ("tls_config", Tls),
    ("threading", Any),
    ("send_resolved", Bool),
];

const SLACK: &[Field] = &[
    ("api_url", Secret),
    ("api_url_file", Str),
    ("app_token", Secret),
    ("app_token_file", Str),
    ("app_url", Str),
    ("channel", Tmpl),
    ("username", Tmpl),
    ("color", Tmpl),
    ("title", Tmpl),
    ("title_link", Tmpl),
    ("pretext", Tmpl),
    ("text", Tmpl),
    ("message_text", Tmpl),
    ("fields", Any),
    ("short_fields", Bool),
    ("footer", Tmpl),
    ("fallback", Tmpl),
    ("callback_id", Tmpl),
    ("icon_emoji", Tmpl),
    ("icon_url", Tmpl),
    ("image_url", Tmpl),
    ("thumb_url", Tmpl),
    ("link_names", Bool),
    ("mrkdwn_in", StrList),
    ("actions", Any),
    ("timeout", Duration),
    ("update_message", Bool),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const PAGERDUTY: &[Field] = &[
    ("routing_key", Secret),
    ("routing_key_file", Str),
    ("service_key", Secret),
    ("service_key_file", Str),
    ("url", Str),
    ("client", Tmpl),
    ("client_url", Tmpl),
    ("description", Tmpl),
    ("details", TmplMap),
    ("images", Any),
    ("links", Any),
    ("source", Tmpl),
    ("severity", Tmpl),
    ("class", Tmpl),
    ("component", Tmpl),
    ("group", Tmpl),
    ("timeout", Duration),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const WEBHOOK: &[Field] = &[
    ("url", Secret),
    ("url_file", Str),
    ("max_alerts", Int),
    ("timeout", Duration),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const OPSGENIE: &[Field] = &[
    ("api_key", Secret),
    ("api_key_file", Str),
    ("api_url", Str),
    ("message", Tmpl),
    ("description", Tmpl),
    ("source", Tmpl),
    ("details", TmplMap),
    ("entity", Tmpl),
    ("responders", Any),
    ("actions", Tmpl),
    ("tags", Tmpl),
    ("note", Tmpl),
    ("priority", Tmpl),
    ("update_alerts", Bool),
    ("visible_to", Any),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const WECHAT: &[Field] = &[
    ("api_secret", Secret),
    ("api_secret_file", Str),
    ("api_url", Str),
    ("corp_id", Str),
    ("message", Tmpl),
    ("message_type", Str),
    ("agent_id", Tmpl),
    ("to_user", Tmpl),
    ("to_party", Tmpl),
    ("to_tag", Tmpl),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const PUSHOVER: &[Field] = &[
    ("user_key", Secret),
    ("user_key_file", Str),
    ("token", Secret),
    ("token_file", Str),
    ("title", Tmpl),
    ("message", Tmpl),
    ("url", Tmpl),
    ("url_title", Tmpl),
    ("device", Tmpl),
    ("sound", Tmpl),
    ("priority", Tmpl),
    ("retry", Duration),
    ("expire", Duration),
    ("ttl", Duration),
    ("html", Bool),
    ("monospace", Bool),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const VICTOROPS: &[Field] = &[
    ("api_key", Secret),
    ("api_key_file", Str),
    ("api_url", Str),
    ("routing_key", Tmpl),
    ("message_type", Tmpl),
    ("entity_display_name", Tmpl),
    ("state_message", Tmpl),
    ("monitoring_tool", Tmpl),
    ("custom_fields", TmplMap),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const SNS: &[Field] = &[
    ("api_url", Str),
    ("sigv4", Any),
    ("topic_arn", Tmpl),
    ("phone_number", Tmpl),
    ("target_arn", Tmpl),
    ("subject", Tmpl),
    ("message", Tmpl),
    ("attributes", TmplMap),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const TELEGRAM: &[Field] = &[
    ("api_url", Str),
    ("bot_token", Secret),
    ("bot_token_file", Str),
    ("chat_id", Int),
    ("chat_id_file", Str),
    ("message_thread_id", Int),
    ("message", Tmpl),
    ("disable_notifications", Bool),
    ("parse_mode", Str),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const DISCORD: &[Field] = &[
    ("webhook_url", Secret),
    ("webhook_url_file", Str),
    ("title", Tmpl),
    ("message", Tmpl),
    ("content", Tmpl),
    ("username", Tmpl),
    ("avatar_url", Tmpl),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const WEBEX: &[Field] = &[
    ("api_url", Str),
    ("room_id", Tmpl),
    ("message", Tmpl),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const MSTEAMS: &[Field] = &[
    ("webhook_url", Secret),
    ("webhook_url_file", Str),
    ("title", Tmpl),
    ("summary", Tmpl),
    ("text", Tmpl),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const MSTEAMSV2: &[Field] = &[
    ("webhook_url", Secret),
    ("webhook_url_file", Str),
    ("title", Tmpl),
    ("text", Tmpl),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const JIRA: &[Field] = &[
    ("api_url", Str),
    ("api_type", Str),
    ("project", Tmpl),
    ("summary", Tmpl),
    ("description", Tmpl),
    ("labels", StrList),
    ("priority", Tmpl),
    ("issue_type", Tmpl),
    ("reopen_transition", Str),
    ("resolve_transition", Str),
    ("wont_fix_resolution", Str),
    ("reopen_duration", Duration),
    ("fields", Any),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const ROCKETCHAT: &[Field] = &[
    ("api_url", Str),
    ("channel", Tmpl),
    ("token", Secret),
    ("token_file", Str),
    ("token_id", Secret),
    ("token_id_file", Str),
    ("color", Tmpl),
    ("emoji", Tmpl),
    ("icon_url", Tmpl),
    ("text", Tmpl),
    ("title", Tmpl),
    ("title_link", Tmpl),
    ("fields", Any),
    ("short_fields", Bool),
    ("image_url", Tmpl),
    ("thumb_url", Tmpl),
    ("link_names", Bool),
    ("actions", Any),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const MATTERMOST: &[Field] = &[
    ("webhook_url", Secret),
    ("webhook_url_file", Str),
    ("channel", Tmpl),
    ("username", Tmpl),
    ("text", Tmpl),
    ("icon_url", Tmpl),
    ("icon_emoji", Tmpl),
    ("attachments", Any),
    ("props", Any),
    ("priority", Any),
    ("http_config", Http),
    ("send_resolved", Bool),
];

const INCIDENTIO: &[Field] = &[
    ("url", Secret),
    ("url_file", Str),
    ("alert_source_token", Secret),
    ("alert_source_token_file", Str),
    ("max_alerts", Int),
    ("timeout", Duration),
    ("http_config", Http),
    ("send_resolved", Bool),
];

/// Every integration kind, in the order Alertmanager's `Receiver` struct lists them.
pub const SPECS: &[Spec] = &[
    Spec {
        key: "discord_configs",
        name: "discord",
        send_resolved: true,
        fields: DISCORD,
    },
    Spec {
        key: "email_configs",
        name: "email",
        send_resolved: false,
        fields: EMAIL,
    },
    Spec {
        key: "incidentio_configs",
        name: "incidentio",
        send_resolved: true,
        fields: INCIDENTIO,
    },
    Spec {
        key: "pagerduty_configs",
        name: "pagerduty",
        send_resolved: true,
        fields: PAGERDUTY,
    },
    Spec {
        key: "slack_configs",
        name: "slack",
        send_resolved: false,
        fields: SLACK,
    },
    Spec {
        key: "webhook_configs",
        name: "webhook",
        send_resolved: true,
        fields: WEBHOOK,
    },
    Spec {
        key: "opsgenie_configs",
        name: "opsgenie",
        send_resolved: true,
        fields: OPSGENIE,
    },
    Spec {
        key: "wechat_configs",
        name: "wechat",
        send_resolved: false,
        fields: WECHAT,
    },
    Spec {
        key: "pushover_configs",
        name: "pushover",
        send_resolved: true,
        fields: PUSHOVER,
    },
    Spec {
        key: "victorops_configs",
        name: "victorops",
        send_resolved: true,
        fields: VICTOROPS,
    },
    Spec {
        key: "sns_configs",
        name: "sns",
        send_resolved: true,
        fields: SNS,
    },
    Spec {
        key: "telegram_configs",
        name: "telegram",
        send_resolved: true,
        fields: TELEGRAM,
    },
    Spec {
        key: "webex_configs",
        name: "webex",
        send_resolved: true,
        fields: WEBEX,
    },
    Spec {
        key: "msteams_configs",
        name: "msteams",
        send_resolved: true,
        fields: MSTEAMS,
    },
    Spec {
        key: "msteamsv2_configs",
        name: "msteamsv2",
        send_resolved: true,
        fields: MSTEAMSV2,
    },
    Spec {
        key: "jira_configs",
        name: "jira",
        send_resolved: true,
        fields: JIRA,
    },
    Spec {
        key: "rocketchat_configs",
        name: "rocketchat",
        send_resolved: false,
        fields: ROCKETCHAT,
    },
    Spec {
        key: "mattermost_configs",
        name: "mattermost",
        send_resolved: true,
        fields: MATTERMOST,
    },
];

pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name || s.key == name)
}

/// The fields of an integration kind that Alertmanager renders as templates for each notification.
pub fn templated_fields(name: &str) -> Vec<&'static str> {
    spec(name)
        .map(|s| {
            s.fields
                .iter()
                .filter(|(_, k)| matches!(k, Tmpl | TmplMap))
                .map(|(n, _)| *n)
                .collect()
        })
        .unwrap_or_default()
}

/// A configured value of an integration field.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Secret(Secret),
    Bool(bool),
    Int(i64),
    /// Milliseconds.
    Duration(i64),
    List(Vec<String>),
    Map(Vec<(String, String)>),
    /// Kept but not interpreted.
    Other,
}

/// One integration of a receiver (one item of e.g. `email_configs`).
#[derive(Clone, Debug)]
pub struct Integration {
    /// Short name: `email`, `slack`, `webhook` ...
    pub kind: &'static str,
    /// Index within its `*_configs` list, as Alertmanager names integrations (`email[0]`).
    pub index: usize,
    pub send_resolved: bool,
    /// Fields as written; nested HTTP/TLS settings under dotted names (`http_config.basic_auth.password`).
    pub values: BTreeMap<String, Value>,
    pub pos: Pos,
}

impl Integration {
    pub fn text(&self, field: &str) -> Option<&str> {
        match self.values.get(field)? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_set(&self, field: &str) -> bool {
        match self.values.get(field) {
            Some(Value::Text(s)) => !s.is_empty(),
            Some(Value::Secret(s)) => !s.is_empty(),
            Some(_) => true,
            None => false,
        }
    }

    /// `email[0]`, as Alertmanager names an integration in its logs and metrics.
    pub fn name(&self) -> String {
        format!("{}[{}]", self.kind, self.index)
    }
}

/// A receiver: a name and its integrations.
#[derive(Clone, Debug)]
pub struct Receiver {
    pub name: String,
    pub integrations: Vec<Integration>,
    pub pos: Pos,
}

const HTTP_FIELDS: &[Field] = &[
    ("authorization", Any),
    ("basic_auth", Any),
    ("oauth2", Any),
    ("bearer_token", Secret),
    ("bearer_token_file", Str),
    ("tls_config", Tls),
    ("proxy_url", Secret),
    ("no_proxy", Str),
    ("proxy_from_environment", Bool),
    ("proxy_connect_header", Any),
    ("follow_redirects", Bool),
    ("enable_http2", Bool),
    ("http_headers", Any),
];

const AUTHORIZATION: &[Field] = &[
    ("type", Str),
    ("credentials", Secret),
    ("credentials_file", Str),
];
const BASIC_AUTH: &[Field] = &[
    ("username", Str),
    ("username_file", Str),
    ("password", Secret),
    ("password_file", Str),
];
const OAUTH2: &[Field] = &[
    ("client_id", Str),
    ("client_secret", Secret),
    ("client_secret_file", Str),
    ("scopes", StrList),
    ("token_url", Str),
    ("endpoint_params", TmplMap),
    ("tls_config", Tls),
    ("proxy_url", Secret),
    ("no_proxy", Str),
    ("proxy_from_environment", Bool),
    ("proxy_connect_header", Any),
];
const TLS_FIELDS: &[Field] = &[
    ("ca", Str),
    ("cert", Str),
    ("key", Secret),
    ("ca_file", Str),
    ("cert_file", Str),
    ("key_file", Str),
    ("server_name", Str),
    ("insecure_skip_verify", Bool),
    ("min_version", Str),
    ("max_version", Str),
];

/// Reads a mapping of `fields` into `out` under `prefix`; used for integrations and for global settings.
pub fn read_fields(
    r: &mut Reader,
    node: &Node,
    fields: &[Field],
    what: &str,
    prefix: &str,
    out: &mut BTreeMap<String, Value>,
) {
    let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    let Some(entries) = r.map(node, &names, what) else {
        return;
    };
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        let Some((_, kind)) = fields.iter().find(|(n, _)| *n == key) else {
            continue;
        };
        let full = format!("{prefix}{key}");
        let value = match kind {
            Str | Tmpl => r.string(v, key).map(Value::Text),
            Secret => r
                .string(v, key)
                .map(|s| Value::Secret(super::fields::Secret::new(s))),
            Bool => r.bool(v, key).map(Value::Bool),
            Int => {
                // Telegram's chat_id and similar accept quoted numbers in practice; keep them as text then.
                match v.as_i64() {
                    Some(i) => Some(Value::Int(i)),
                    None => r.string(v, key).map(Value::Text),
                }
            }
            Duration => r.duration(v, key).map(Value::Duration),
            StrList => Some(Value::List(
                r.string_list(v, key).into_iter().map(|(s, _)| s).collect(),
            )),
            TmplMap => Some(Value::Map(
                r.string_map(v, key)
                    .into_iter()
                    .map(|(k, v, _)| (k, v))
                    .collect(),
            )),
            Any => {
                let sub: Option<&[Field]> = match key {
                    "authorization" => Some(AUTHORIZATION),
                    "basic_auth" => Some(BASIC_AUTH),
                    "oauth2" => Some(OAUTH2),
                    _ => None,
                };
                match sub {
                    Some(sub) => {
                        read_fields(r, v, sub, key, &format!("{full}."), out);
                        None
                    }
                    None => Some(Value::Other),
                }
            }
            Http => {
                read_fields(r, v, HTTP_FIELDS, key, &format!("{full}."), out);
                None
            }
            Tls => {
                read_fields(r, v, TLS_FIELDS, key, &format!("{full}."), out);
                None
            }
        };
        if let Some(value) = value {
            out.insert(full, value);
        }
    }
}

/// Reads one receiver. Validation that needs the global section happens in `config`.
pub fn read_receiver(r: &mut Reader, node: &Node) -> Option<Receiver> {
    let mut allowed: Vec<&str> = vec!["name"];
    allowed.extend(SPECS.iter().map(|s| s.key));
    let entries = r.map(node, &allowed, "receiver")?;
    let mut name = None;
    let mut integrations = Vec::new();
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        if key == "name" {
            name = r.string(v, "name");
            continue;
        }
        let Some(spec) = SPECS.iter().find(|s| s.key == key) else {
            continue;
        };
        for (index, item) in r.seq(v, key).iter().enumerate() {
            let mut values = BTreeMap::new();
            read_fields(r, item, spec.fields, key, "", &mut values);
            let send_resolved = match values.get("send_resolved") {
                Some(Value::Bool(b)) => *b,
                _ => spec.send_resolved,
            };
            integrations.push(Integration {
                kind: spec.name,
                index,
                send_resolved,
                values,
                pos: item.pos,
            });
        }
    }
    let name = name.unwrap_or_default();
    if name.is_empty() {
        r.error(
            "alertmanager/missing-name",
            "missing name in receiver",
            node.pos,
        );
        return None;
    }
    Some(Receiver {
        name,
        integrations,
        pos: node.pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::parse_stream;
    use std::sync::Arc;

    fn read(src: &str) -> (Option<Receiver>, Vec<crate::diag::Diagnostic>) {
        let s = parse_stream(src).unwrap();
        let file: Arc<str> = Arc::from("r.yml");
        let mut r = Reader::new(&file);
        let rc = read_receiver(&mut r, &s.documents[0].root);
        (rc, r.diags)
    }

    #[test]
    fn send_resolved_defaults_follow_alertmanager() {
        let (rc, d) = read(
            "name: x\nemail_configs: [{to: a@b}]\nwebhook_configs: [{url: http://h/}]\nslack_configs: [{channel: c, send_resolved: true}]\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let rc = rc.unwrap();
        let by: Vec<(&str, bool)> = rc
            .integrations
            .iter()
            .map(|i| (i.kind, i.send_resolved))
            .collect();
        assert_eq!(by, [("email", false), ("webhook", true), ("slack", true)]);
    }

    #[test]
    fn email_subject_is_refused_with_the_fix() {
        let (_, d) = read("name: x\nemail_configs:\n  - to: a@b\n    subject: hi\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "alertmanager/unknown-field");
        assert_eq!(d[0].location.as_ref().unwrap().pos, Pos::new(4, 5));
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .contains("headers: {Subject: ...}"));
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let (rc, d) = read(
            "name: x\nwebhook_configs:\n  - url: http://u:pw@h/\n    http_config: {basic_auth: {username: u, password: s3cr3t}}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let text = format!("{:?}", rc.unwrap());
        assert!(!text.contains("s3cr3t") && !text.contains("pw@"), "{text}");
        assert!(text.contains("<secret>"));
    }

    #[test]
    fn templated_fields_are_listed() {
        let f = templated_fields("email");
        assert!(f.contains(&"headers") && f.contains(&"html") && !f.contains(&"smarthost"));
        assert!(templated_fields("slack").contains(&"title"));
    }
}
