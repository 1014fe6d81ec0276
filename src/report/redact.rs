//! Redaction of secrets in anything we print that quotes the user's files (code frames, messages).
//!
//! Alertmanager shows secret fields as `<secret>`; so do we, wherever a line of a config is echoed back.

/// Keys whose values are secrets in Alertmanager and Prometheus configs.
const SECRET_KEYS: &[&str] = &[
    "password",
    "smtp_auth_password",
    "smtp_auth_secret",
    "auth_password",
    "auth_secret",
    "api_url",
    "slack_api_url",
    "service_key",
    "routing_key",
    "api_key",
    "apikey",
    "opsgenie_api_key",
    "victorops_api_key",
    "token",
    "bot_token",
    "user_key",
    "api_secret",
    "secret",
    "client_secret",
    "credentials",
    "webhook_url",
    "bearer_token",
    "access_key",
    "secret_key",
    "key",
    "pagerduty_url",
    "url",
];

/// True when a field of this name holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    if k.ends_with("_file") {
        return false;
    }
    if SECRET_KEYS.contains(&k.as_str()) {
        return true;
    }
    // Misspelled or unknown keys are quoted in error frames too: anything that looks like a secret's name.
    let words = [
        "pass",
        "secret",
        "token",
        "credential",
        "api_key",
        "apikey",
        "private",
        "routing_key",
        "service_key",
    ];
    words.iter().any(|w| k.contains(w))
        || SECRET_KEYS
            .iter()
            .filter(|s| s.len() >= 6)
            .any(|s| crate::load::fields::edit_distance(&k, s) <= 2)
}

/// Replaces the value of a `key: value` line whose key is a secret with `<secret>`. URLs are secrets in
/// webhook and Slack configs (they embed tokens); other URLs with credentials (`user:pass@`) are redacted too.
pub fn redact_line(line: &str) -> String {
    let trimmed = line.trim_start().trim_start_matches("- ");
    if let Some(colon) = trimmed.find(':') {
        let key = &trimmed[..colon];
        let value = trimmed[colon + 1..].trim();
        if is_secret_key(key)
            && !value.is_empty()
            && !value.starts_with('|')
            && !value.starts_with('>')
        {
            let keep = line.len() - trimmed.len() + colon + 1;
            return format!("{} <secret>", &line[..keep]);
        }
    }
    redact_url_credentials(line)
}

/// `scheme://user:pass@host` -> `scheme://<secret>@host`.
pub fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("<secret>");
                out.push_str(&tail[at..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secret_fields_and_credentials() {
        assert_eq!(
            redact_line("  smtp_auth_password: 'hunter2'"),
            "  smtp_auth_password: <secret>"
        );
        assert_eq!(
            redact_line("      - api_url: 'https://hooks.slack.com/x'"),
            "      - api_url: <secret>"
        );
        assert_eq!(redact_line("  service_key: abc"), "  service_key: <secret>");
        assert_eq!(
            redact_line("  password_file: /etc/p"),
            "  password_file: /etc/p"
        );
        assert_eq!(
            redact_line("  to: 'oncall@chat2sql.com'"),
            "  to: 'oncall@chat2sql.com'"
        );
        assert_eq!(
            redact_line("x http://u:p@host/a"),
            "x http://<secret>@host/a"
        ); // Misspelled secret keys (quoted by "unknown field" errors) are still redacted.
        assert_eq!(
            redact_line("  smtp_auth_pasword: 'x'"),
            "  smtp_auth_pasword: <secret>"
        );
        assert_eq!(
            redact_line("  - routing_kee: 'x'"),
            "  - routing_kee: <secret>"
        );
        assert_eq!(redact_line("    bot_tokn: x"), "    bot_tokn: <secret>");
        assert_eq!(
            redact_line("    channel: '#alerts'"),
            "    channel: '#alerts'"
        );
    }
}
