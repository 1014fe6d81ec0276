//! Reading the configuration a running Alertmanager has loaded: `GET /api/v2/status`, field
//! `config.original` (the YAML text, with secrets shown as `<secret>` by Alertmanager itself), for
//! `ruletest routes --alertmanager.url`. One request with a timeout; no retries (a person is waiting).

use super::error::LiveError;
use super::options::redact_url;
use std::time::Duration;

const STATUS_PATH: &str = "/api/v2/status";

/// The `/api/v2/status` endpoint of the Alertmanager at `url` (any path prefix kept, query dropped).
fn status_endpoint(url: &str) -> Result<reqwest::Url, LiveError> {
    let invalid = |reason: String| LiveError::InvalidUrl {
        url: redact_url(url),
        reason,
    };
    let mut u = reqwest::Url::parse(url.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(invalid("expected an http:// or https:// URL".into()));
    }
    u.set_query(None);
    u.set_fragment(None);
    let path = format!("{}{STATUS_PATH}", u.path().trim_end_matches('/'));
    u.set_path(&path);
    Ok(u)
}

/// Extracts `config.original` from a `/api/v2/status` answer.
pub fn original_config(body: &str, endpoint: &str) -> Result<String, LiveError> {
    let decode = |reason: String| LiveError::Decode {
        endpoint: endpoint.to_string(),
        reason,
    };
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| decode(e.to_string()))?;
    v.get("config")
        .and_then(|c| c.get("original"))
        .and_then(|o| o.as_str())
        .map(str::to_string)
        .ok_or_else(|| decode("no `config.original` in the status answer".into()))
}

/// A stand-in for a URL Alertmanager masked: any valid http(s) URL does, routing never reads it.
pub const SECRET_URL_PLACEHOLDER: &str = "https://secret.invalid/";

/// Alertmanager masks secret URLs (`api_url`, `webhook_url`, ...) as `<secret>`, and accepts that token back
/// without URL validation when it reads such a config (`SecretURL.UnmarshalYAML`). Our config reader checks
/// URLs, so the masked ones are swapped for a valid placeholder here; only keys ending in `url` are touched,
/// so masked passwords and keys stay `<secret>`.
pub fn unmask_secret_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let masked = body
            .trim_start()
            .trim_start_matches("- ")
            .split_once(": ")
            .is_some_and(|(k, v)| k.ends_with("url") && v.trim() == "<secret>");
        if masked {
            let end = &line[body.len()..];
            let cut = body.rfind("<secret>").unwrap_or(body.len());
            out.push_str(&body[..cut]);
            out.push_str(SECRET_URL_PLACEHOLDER);
            out.push_str(end);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Fetches the loaded configuration's YAML text from the Alertmanager at `url`.
pub fn fetch_config(url: &str, timeout: Duration) -> Result<String, LiveError> {
    if timeout.is_zero() {
        return Err(LiveError::Config("the timeout must be positive".into()));
    }
    let endpoint_url = status_endpoint(url)?;
    let endpoint = redact_url(endpoint_url.as_str());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LiveError::Internal(format!("cannot start the I/O runtime: {e}")))?;
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| LiveError::Config(format!("cannot set up the HTTP client: {e}")))?;
        let resp = http.get(endpoint_url).send().await.map_err(|e| {
            if e.is_timeout() {
                LiveError::Timeout {
                    endpoint: endpoint.clone(),
                    timeout: format!("{timeout:?}"),
                }
            } else {
                LiveError::Connect {
                    endpoint: endpoint.clone(),
                    reason: e.without_url().to_string(),
                }
            }
        })?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| LiveError::Decode {
            endpoint: endpoint.clone(),
            reason: e.without_url().to_string(),
        })?;
        if status != 200 {
            return Err(LiveError::Http {
                endpoint,
                status,
                body: body.chars().take(500).collect(),
            });
        }
        original_config(&body, &endpoint).map(|t| unmask_secret_urls(&t))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_prefix_drops_query() {
        let u = status_endpoint("http://127.0.0.1:9093/am/?x=1").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9093/am/api/v2/status");
        let u = status_endpoint("http://h:9093").unwrap();
        assert_eq!(u.as_str(), "http://h:9093/api/v2/status");
        assert!(matches!(
            status_endpoint("ftp://h"),
            Err(LiveError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn reads_config_original() {
        let body =
            r#"{"cluster":{"status":"disabled"},"config":{"original":"route:\n  receiver: x\n"}}"#;
        assert_eq!(
            original_config(body, "e").unwrap(),
            "route:\n  receiver: x\n"
        );
        assert!(matches!(
            original_config("{}", "e"),
            Err(LiveError::Decode { .. })
        ));
        assert!(matches!(
            original_config("<html>", "e"),
            Err(LiveError::Decode { .. })
        ));
    }

    #[test]
    fn masked_urls_get_a_placeholder_other_secrets_stay() {
        let t = "  slack_configs:\n  - api_url: <secret>\n    webhook_url: <secret>\r\n  smtp_auth_password: <secret>\n  url: http://x/\n";
        assert_eq!(
            unmask_secret_urls(t),
            "  slack_configs:\n  - api_url: https://secret.invalid/\n    webhook_url: https://secret.invalid/\r\n  smtp_auth_password: <secret>\n  url: http://x/\n"
        );
    }

    #[test]
    fn connection_refused_is_an_error_not_a_panic() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Nothing listens there any more.
        let e =
            fetch_config(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap_err();
        assert!(matches!(e, LiveError::Connect { .. }), "{e:?}");
    }
}
