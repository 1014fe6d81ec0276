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
        original_config(&body, &endpoint)
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
