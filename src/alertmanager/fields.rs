//! Reading typed fields out of the YAML tree for the Alertmanager config, with a diagnostic at the user's key
//! or value whenever something does not fit. Strict like Alertmanager (`yaml.UnmarshalStrict`): an unknown key
//! is an error.

use crate::diag::Diagnostic;
use crate::text::duration::parse_duration;
use crate::text::yaml::{Node, Pos};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// A value that must never be printed: passwords, tokens, API URLs with keys in them. Debug and Display show
/// `<secret>` as Alertmanager itself does; only [`Secret::expose`] gives the text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// The Alertmanager release the configuration is for (`check --alertmanager-version`), as major * 1000 + minor;
/// 0 when none was given (then every field any release knows is accepted, as the newest release accepts it).
static TARGET_VERSION: AtomicU32 = AtomicU32::new(0);

/// `0.25` or `0.25.1` as (major, minor).
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    match parts.next() {
        None => Some((major, minor)),
        Some(patch) => patch.parse::<u32>().ok().map(|_| (major, minor)),
    }
}

/// Reads configurations for Alertmanager `version` from now on: fields a later release added are errors.
pub fn set_target_version(version: &str) -> Result<(), String> {
    let (major, minor) = parse_version(version)
        .filter(|(_, minor)| *minor < 1000)
        .ok_or_else(|| format!("--alertmanager-version: {version:?} is not a release like 0.25"))?;
    TARGET_VERSION.store(major * 1000 + minor, Ordering::SeqCst);
    Ok(())
}

fn target_version() -> Option<(u32, u32)> {
    match TARGET_VERSION.load(Ordering::SeqCst) {
        0 => None,
        v => Some((v / 1000, v % 1000)),
    }
}

/// The Alertmanager release that added `key` to the section `what` (as [`Reader::map`] names sections), for
/// fields added after 0.25, the release the reference tests run (`amtool` 0.25). With `--alertmanager-version`
/// older than that release, the field is an error, as that Alertmanager refuses the configuration. From the `yaml:` tags of
/// `config/config.go` and `config/notifiers.go` in prometheus/alertmanager, release by release. A new
/// integration is named once, at its `*_configs` key; its own fields are not listed again.
pub fn newer_field(what: &str, key: &str) -> Option<&'static str> {
    let version = match (what, key) {
        ("receiver", "msteams_configs") => "0.26",
        ("receiver", "jira_configs" | "msteamsv2_configs" | "rocketchat_configs") => "0.28",
        ("receiver", "incidentio_configs") => "0.29",
        ("receiver", "mattermost_configs") => "0.30",
        ("receiver", "labels") => "0.33",
        ("the Alertmanager configuration", "tracing") => "0.30",
        ("the Alertmanager configuration", "event_recorder") => "0.33",
        ("inhibit rule", "name") => "0.30",
        ("global", "jira_api_url" | "smtp_tls_config") => "0.28",
        ("global", k) if k.starts_with("rocketchat_") => "0.28",
        ("global", "slack_app_token" | "slack_app_token_file" | "slack_app_url") => "0.30",
        (
            "global",
            "smtp_auth_secret_file"
            | "smtp_force_implicit_tls"
            | "telegram_bot_token"
            | "telegram_bot_token_file"
            | "wechat_api_secret_file",
        ) => "0.31",
        ("global", "mattermost_webhook_url" | "mattermost_webhook_url_file") => "0.32",
        ("msteams_configs", "summary" | "webhook_url_file") => "0.27",
        ("pushover_configs", "token_file" | "user_key_file" | "device") => "0.26",
        ("pushover_configs", "ttl") => "0.27",
        ("pushover_configs", "monospace") => "0.29",
        ("telegram_configs", "bot_token_file") => "0.26",
        ("telegram_configs", "message_thread_id") => "0.28",
        ("telegram_configs", "chat_id_file") => "0.31",
        ("webhook_configs", "url_file") => "0.26",
        ("webhook_configs", "timeout") => "0.28",
        ("webhook_configs", "payload") => "0.32",
        ("discord_configs", "webhook_url_file") => "0.27",
        ("discord_configs", "avatar_url" | "content" | "username") => "0.28",
        ("jira_configs", "api_type") => "0.29",
        ("email_configs", "threading") => "0.30",
        ("email_configs", "auth_secret_file" | "force_implicit_tls") => "0.31",
        ("pagerduty_configs", "timeout") => "0.30",
        ("slack_configs", "app_token" | "app_token_file" | "app_url" | "timeout") => "0.30",
        ("slack_configs", "message_text") => "0.31",
        ("slack_configs", "update_message") => "0.32",
        ("wechat_configs", "api_secret_file") => "0.31",
        ("sns_configs", "use_aws_http_client") => "0.33",
        _ => return None,
    };
    Some(version)
}

/// Collects diagnostics while reading one file.
pub struct Reader {
    pub file: Arc<str>,
    pub diags: Vec<Diagnostic>,
}

impl Reader {
    pub fn new(file: &Arc<str>) -> Self {
        Reader {
            file: file.clone(),
            diags: Vec::new(),
        }
    }

    pub fn error(&mut self, code: &'static str, msg: impl Into<String>, pos: Pos) {
        self.diags
            .push(Diagnostic::error(code, msg).at(&self.file, pos));
    }

    pub fn error_help(
        &mut self,
        code: &'static str,
        msg: impl Into<String>,
        pos: Pos,
        help: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, msg).at(&self.file, pos).help(help));
    }

    pub fn has_errors(&self) -> bool {
        self.diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    }

    /// The entries of a mapping; reports unknown keys (those not in `allowed`). `None` for a non-mapping
    /// (reported) or null (not reported: an empty section).
    pub fn map<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&str],
        what: &str,
    ) -> Option<&'n [(Node, Node)]> {
        if node.is_null() {
            return None;
        }
        let Some(entries) = node.as_map() else {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be a mapping, not {}", node.kind_name()),
                node.pos,
            );
            return None;
        };
        for (k, _) in entries {
            let key = k.as_str().unwrap_or("");
            if !allowed.contains(&key) {
                self.unknown_field(k, key, what, allowed);
            } else if let (Some(version), Some(target)) = (newer_field(what, key), target_version())
            {
                if parse_version(version).is_some_and(|v| v > target) {
                    self.diags.push(
                        Diagnostic::error(
                            "alertmanager/newer-field",
                            format!(
                                "`{key}` in {what} needs Alertmanager {version} or newer (--alertmanager-version is {}.{})",
                                target.0, target.1
                            ),
                        )
                        .at(&self.file, k.pos)
                        .help(format!(
                            "Alertmanager before {version} refuses the whole configuration with \
                             `field {key} not found in type config.plain`: drop the field, or upgrade"
                        )),
                    );
                }
            }
        }
        Some(entries)
    }

    pub fn unknown_field(&mut self, k: &Node, key: &str, what: &str, allowed: &[&str]) {
        let d = Diagnostic::error(
            "alertmanager/unknown-field",
            format!("field {key} not found in {what}"),
        )
        .at(&self.file, k.pos);
        let d = match (what, key) {
            ("email_configs", "subject" | "body") => d.help(
                "Alertmanager puts the email subject in `headers: {Subject: ...}` and the body in `text` or `html`",
            ),
            _ => match crate::load::fields::closest(key, allowed) {
                Some(near) => d.help(format!("did you mean `{near}`?")),
                None => d,
            },
        };
        self.diags.push(d);
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        if node.is_null() {
            return Some(String::new());
        }
        match node.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.error(
                    "alertmanager/bad-type",
                    format!("{what} must be a string, not {}", node.kind_name()),
                    node.pos,
                );
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        if node.is_null() {
            return Some(false);
        }
        let b = node.as_bool();
        if b.is_none() {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be true or false"),
                node.pos,
            );
        }
        b
    }

    pub fn int(&mut self, node: &Node, what: &str) -> Option<i64> {
        let v = node.as_i64();
        if v.is_none() {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be an integer"),
                node.pos,
            );
        }
        v
    }

    /// A Prometheus duration, in milliseconds.
    pub fn duration(&mut self, node: &Node, what: &str) -> Option<i64> {
        let s = self.string(node, what)?;
        match parse_duration(&s) {
            Ok(ms) => Some(ms),
            Err(e) => {
                self.error("alertmanager/bad-duration", e, node.pos);
                None
            }
        }
    }

    pub fn string_list(&mut self, node: &Node, what: &str) -> Vec<(String, Pos)> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(items) = node.as_seq() else {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be a list, not {}", node.kind_name()),
                node.pos,
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|i| self.string(i, what).map(|s| (s, i.pos)))
            .collect()
    }

    pub fn string_map(&mut self, node: &Node, what: &str) -> Vec<(String, String, Pos)> {
        if node.is_null() {
            return Vec::new();
        }
        let Some(entries) = node.as_map() else {
            self.error(
                "alertmanager/bad-type",
                format!("{what} must be a mapping, not {}", node.kind_name()),
                node.pos,
            );
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| {
                let key = k.as_str()?.to_string();
                let val = self.string(v, what)?;
                Some((key, val, k.pos))
            })
            .collect()
    }

    /// The items of a list of mappings.
    pub fn seq<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        if node.is_null() {
            return &[];
        }
        match node.as_seq() {
            Some(s) => s,
            None => {
                self.error(
                    "alertmanager/bad-type",
                    format!("{what} must be a list, not {}", node.kind_name()),
                    node.pos,
                );
                &[]
            }
        }
    }
}

/// A string-keyed view of a mapping's entries.
pub fn entries_by_key(entries: &[(Node, Node)]) -> BTreeMap<&str, (&Node, &Node)> {
    entries
        .iter()
        .filter_map(|(k, v)| k.as_str().map(|s| (s, (k, v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<secret> <secret>");
        assert_eq!(s.expose(), "hunter2");
    }
}
