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

/// Replaces the value of every `key: value` pair on a line whose key is a secret with `<secret>`: the block
/// pair the line starts with (after indentation and `- `) and pairs of flow mappings
/// (`http_config: {bearer_token: x}`). URLs are secrets in webhook and Slack configs (they embed tokens);
/// other URLs with credentials (`user:pass@`) are redacted too, and so is a value that is one long base64
/// blob (a Kubernetes Secret's `data`, which decodes to the whole config).
pub fn redact_line(line: &str) -> String {
    redact_url_credentials(&redact_pairs(line))
}

/// Where a key can start: after indentation and sequence dashes at the start, or after `{` / `,` inside a
/// flow mapping (outside quotes).
fn redact_pairs(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    let mut depth = 0usize;
    let mut at_key = true;
    while i < bytes.len() {
        if at_key {
            // Skip what may precede a key: spaces and block sequence dashes.
            let rest = &line[i..];
            let skip = rest.len() - rest.trim_start_matches([' ', '\t', '-']).len();
            // A dash is a sequence marker only when followed by a space (else `-1m` is a value).
            let skip = if rest[..skip].ends_with('-') && !rest[skip..].is_empty() {
                rest[..skip].trim_end_matches('-').len()
            } else {
                skip
            };
            out.push_str(&rest[..skip]);
            i += skip;
            at_key = false;
            if let Some((key_len, value_start)) = key_at(&line[i..]) {
                let key = &line[i..i + key_len];
                let value_end = i + value_start + value_len(&line[i + value_start..], depth > 0);
                let raw = &line[i + value_start..value_end];
                let value = raw.trim();
                let space = raw.len() - raw.trim_start().len();
                out.push_str(&line[i..i + value_start + space]);
                if !value.is_empty()
                    && !value.starts_with('|')
                    && !value.starts_with('>')
                    && (is_secret_key(key) || (depth == 0 && is_base64_blob(value)))
                {
                    out.push_str("<secret>");
                    // Keep the flow mapping's closing characters and what follows.
                    i = value_end;
                } else {
                    i += value_start + space;
                }
                continue;
            }
            continue;
        }
        let c = bytes[i];
        match c {
            b'\'' | b'"' => {
                let end = quoted_end(line, i);
                out.push_str(&line[i..end]);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                at_key = c == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth > 0 => at_key = true,
            _ => {}
        }
        // Copy the whole character (`i` is always on a character boundary here).
        let ch = line[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `key:` at the start of `s` (plain or quoted key, then a colon followed by a space or the end): the key's
/// length and where the value starts (after the colon).
fn key_at(s: &str) -> Option<(usize, usize)> {
    let key_len = if s.starts_with('"') || s.starts_with('\'') {
        quoted_end(s, 0)
    } else {
        s.find(|c: char| {
            c == ':' || c == ',' || c == '{' || c == '}' || c == '[' || c == ']' || c == '#'
        })?
    };
    if key_len == 0 || !s[key_len..].starts_with(':') {
        return None;
    }
    let after = &s[key_len + 1..];
    if !(after.is_empty() || after.starts_with(' ') || after.starts_with('\t')) {
        return None;
    }
    Some((key_len, key_len + 1))
}

/// The length of a value: to the end of the line in block context, to the next `,` or `}` at this level in a
/// flow mapping (quotes and nested brackets respected).
fn value_len(s: &str, flow: bool) -> usize {
    if !flow {
        return s.len();
    }
    let mut depth = 0usize;
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                i = quoted_end(s, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return i,
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// The end (exclusive) of the quoted string starting at `start` (YAML's `''` and `\"` escapes), or the end
/// of the line when it is not closed.
fn quoted_end(s: &str, start: usize) -> usize {
    let bytes = s.as_bytes();
    let q = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if q == b'"' && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == q {
            if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    s.len()
}

/// One token of 40 or more base64 characters: what a Secret's `data` value looks like. Nothing in a rule
/// file or an Alertmanager config is written that way (names carry `_`, `.` or `-`; URLs carry `:`).
fn is_base64_blob(value: &str) -> bool {
    let v = value.trim_matches(|c| c == '"' || c == '\'');
    v.len() >= 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
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

    #[test]
    fn redacts_pairs_of_flow_mappings() {
        assert_eq!(
            redact_line("    http_config: {bearer_token: 'tok, en', follow_redirects: maybe}"),
            "    http_config: {bearer_token: <secret>, follow_redirects: maybe}"
        );
        assert_eq!(
            redact_line("  - {routing_key: abc, severity: [x]}"),
            "  - {routing_key: <secret>, severity: [x]}"
        );
        assert_eq!(
            redact_line("  - {name: x, webhook_configs: [{url: 'http://h/p'}]}"),
            "  - {name: x, webhook_configs: [{url: <secret>}]}"
        );
    }

    #[test]
    fn leaves_expressions_templates_and_durations_alone() {
        for line in [
            "        expr: sum by (job) (rate(x{code=~\"5..\"}[5m:1m])) > 0",
            "          summary: '{{ $labels.password }} on {{ $labels.instance }}'",
            "    interval: -1m",
            "- matchers: ['severity=\"critical\"']",
            "    labels: {severity: page, team: db}",
        ] {
            assert_eq!(redact_line(line), line);
        }
    }

    #[test]
    fn redacts_base64_blobs_and_keeps_other_characters() {
        assert_eq!(
            redact_line(
                "  alertmanager.yaml: cm91dGU6CiAgcmVjZWl2ZXI6IGRlZmF1bHQKcmVjZWl2ZXJzOgo="
            ),
            "  alertmanager.yaml: <secret>"
        );
        assert_eq!(
            redact_line("      summary: \"AI模型准确率下降 {{ $value }}\""),
            "      summary: \"AI模型准确率下降 {{ $value }}\""
        );
    }
}
