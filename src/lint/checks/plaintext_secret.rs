//! `alertmanager/plaintext-secret`: passwords, tokens and secret URLs written into the config.

use crate::alertmanager::receivers::spec;
use crate::lint::registry::{Check, ConfigContext, Finding};
use crate::text::yaml::Node;

/// ## What it finds
/// A secret written inline where Alertmanager can read it from a file instead; the finding never quotes it.
///
/// The fields: `smtp_auth_password`
/// (`smtp_auth_password_file`), Slack `api_url` (`api_url_file`), PagerDuty `service_key` / `routing_key`,
/// webhook `url`, OpsGenie `api_key`, Telegram `bot_token`, HTTP `bearer_token`, `authorization.credentials`,
/// `basic_auth.password`, `oauth2.client_secret`, a TLS `key`, and the same in `global`.
///
/// ## Why it matters
/// The configuration ends up in Git, in a ConfigMap anyone with read access to the namespace can see, and in
/// support bundles; a webhook URL or integration key there lets anyone page your on-call. The `*_file` form
/// keeps the secret in a mounted Kubernetes Secret instead.
///
/// ## Example
/// ```yaml
/// global:
///   smtp_auth_password: hunter2
/// ```
///
/// ## Fix
/// Mount the secret and point at it: `smtp_auth_password_file: /etc/alertmanager/secrets/smtp-password`.
pub struct PlaintextSecret;

/// Global settings with a `_file` twin.
const GLOBAL: &[&str] = &[
    "smtp_auth_password",
    "smtp_auth_secret",
    "slack_api_url",
    "slack_app_token",
    "opsgenie_api_key",
    "wechat_api_secret",
    "victorops_api_key",
    "telegram_bot_token",
    "rocketchat_token",
    "rocketchat_token_id",
    "mattermost_webhook_url",
];

/// Secrets inside `http_config`, by the path below it, with their `_file` twin.
const HTTP: &[(&[&str], &str)] = &[
    (&["bearer_token"], "bearer_token_file"),
    (&["authorization", "credentials"], "credentials_file"),
    (&["basic_auth", "password"], "password_file"),
    (&["oauth2", "client_secret"], "client_secret_file"),
    (&["tls_config", "key"], "key_file"),
];

impl Check for PlaintextSecret {
    fn code(&self) -> &'static str {
        "alertmanager/plaintext-secret"
    }
    fn source(&self) -> &'static str {
        include_str!("plaintext_secret.rs")
    }
    fn check_alertmanager(&self, cx: &ConfigContext, out: &mut Vec<Finding>) {
        if cx.typed.is_none() {
            return;
        }
        let root = &cx.item.root;
        if let Some(global) = root.get("global") {
            for key in GLOBAL {
                flag(global, key, &format!("{key}_file"), "global", out);
            }
            http(global, "global", out);
        }
        for receiver in root.get("receivers").and_then(Node::as_seq).unwrap_or(&[]) {
            let name = receiver.get("name").and_then(Node::as_str).unwrap_or("?");
            for (key, list) in receiver.as_map().unwrap_or(&[]) {
                let Some(spec) = key.as_str().and_then(spec) else {
                    continue;
                };
                let secrets = spec.fields.iter().filter(|(f, kind)| {
                    *kind == crate::alertmanager::receivers::Kind::Secret
                        && spec.fields.iter().any(|(g, _)| *g == format!("{f}_file"))
                });
                let secrets: Vec<&str> = secrets.map(|(f, _)| *f).collect();
                for (i, item) in list.as_seq().unwrap_or(&[]).iter().enumerate() {
                    let place = format!("receiver `{name}`, {}[{i}]", spec.key);
                    for f in &secrets {
                        flag(item, f, &format!("{f}_file"), &place, out);
                    }
                    http(item, &place, out);
                }
            }
        }
    }
}

/// The secrets of an `http_config` under `node`.
fn http(node: &Node, place: &str, out: &mut Vec<Finding>) {
    let Some(h) = node.get("http_config") else {
        return;
    };
    for (path, file_key) in HTTP {
        let (last, parents) = path.split_last().unwrap_or((&"", &[]));
        let mut at = Some(h);
        for p in parents {
            at = at.and_then(|n| n.get(p));
        }
        if let Some(n) = at {
            flag(n, last, file_key, &format!("{place}, http_config"), out);
        }
    }
}

fn flag(node: &Node, key: &str, file_key: &str, place: &str, out: &mut Vec<Finding>) {
    let (Some(k), Some(v)) = (node.key(key), node.get(key)) else {
        return;
    };
    // An empty value holds no secret.
    if v.as_str().is_none_or(str::is_empty) {
        return;
    }
    out.push(Finding::new(
        k.pos,
        format!("`{key}` is written in the config ({place}); the secret is readable by anyone who can read the file"),
        format!("store it in a mounted secret file and use `{file_key}: /path/to/file` instead"),
    ));
}

#[cfg(test)]
mod tests {
    use crate::lint::checks::testing::{lines, lint_am};

    const CODE: &str = "alertmanager/plaintext-secret";

    #[test]
    fn flags_inline_secrets_without_quoting_them() {
        let am = "global:\n  smtp_auth_password: hunter2\nroute:\n  receiver: a\nreceivers:\n- name: a\n  slack_configs:\n  - api_url: https://hooks.slack.com/services/SECRET1\n    channel: '#x'\n  pagerduty_configs:\n  - routing_key: SECRET2\n  webhook_configs:\n  - url: http://example.com/SECRET3\n    http_config:\n      basic_auth: {username: u, password: SECRET4}\n";
        let d = lint_am(am, None, CODE);
        assert_eq!(lines(&d), vec![2, 8, 11, 13, 15]);
        for x in &d {
            for s in ["hunter2", "SECRET"] {
                assert!(
                    !x.message.contains(s) && !x.help.as_deref().unwrap_or("").contains(s),
                    "{x:?}"
                );
            }
        }
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .contains("smtp_auth_password_file"));
        assert!(d[4].help.as_deref().unwrap().contains("password_file"));
    }

    #[test]
    fn http_config_secrets_in_global_and_receivers() {
        let am = "global:\n  http_config:\n    authorization: {credentials: SECRET5}\nroute:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url_file: /s/u\n    http_config:\n      bearer_token: SECRET6\n  - url_file: /s/v\n    http_config:\n      oauth2: {client_id: c, client_secret: SECRET7, token_url: 'https://t.example.com/'}\n";
        let d = lint_am(am, None, CODE);
        assert_eq!(lines(&d), vec![3, 11, 14], "{d:?}");
        assert!(d[0].help.as_deref().unwrap().contains("credentials_file"));
        assert!(d[2]
            .message
            .contains("receiver `a`, webhook_configs[1], http_config"));
    }

    #[test]
    fn file_forms_and_non_secrets_pass() {
        let am = "global:\n  smtp_auth_password_file: /s/p\n  smtp_auth_username: u\nroute:\n  receiver: a\nreceivers:\n- name: a\n  slack_configs:\n  - api_url_file: /s/slack\n    channel: '#x'\n  email_configs:\n  - to: a@example.com\n";
        assert!(lint_am(am, None, CODE).is_empty());
    }
}
