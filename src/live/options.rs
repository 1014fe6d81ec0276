//! Connection settings for a Prometheus-compatible server. Secrets (bearer token, basic-auth password, header
//! values) never appear in `Debug` output or error messages.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach and query a server.
#[derive(Clone)]
pub struct ClientOptions {
    /// Base URL of the API, without `/api/v1` (`http://prometheus:9090`, `https://mimir/prometheus`).
    pub url: String,
    pub bearer_token: Option<String>,
    /// Read (and trimmed) when the client is built; set instead of `bearer_token`.
    pub bearer_token_file: Option<PathBuf>,
    /// (user, password).
    pub basic_auth: Option<(String, String)>,
    /// Extra request headers (`X-Scope-OrgID` for Mimir / Cortex tenants, ...).
    pub headers: Vec<(String, String)>,
    /// PEM file of extra CA certificates to trust.
    pub ca_file: Option<PathBuf>,
    /// Turns TLS certificate verification off. Nothing else does.
    pub insecure_skip_verify: bool,
    /// Per request; always set (a zero is refused).
    pub timeout: Duration,
    /// Further attempts after a retryable failure (connection error, 429, 5xx).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one (capped at 30 s).
    pub backoff: Duration,
    /// Requests in flight at once when a call is split.
    pub concurrency: usize,
    /// Points per series in one `query_range` request (Prometheus refuses more than 11,000).
    pub max_points_per_request: usize,
    /// Raw samples one `raw_series` request aims at; windows are sized from the data's density to stay near it.
    pub max_samples_per_request: usize,
    /// Bytes one response body may have; a larger body is refused while it streams in, before it is
    /// held in memory.
    pub max_response_bytes: usize,
    /// Points (samples over all series) one response may hold.
    pub max_points_per_response: usize,
    /// Draw a progress bar on stderr during long calls (only when stderr is a terminal).
    pub progress: bool,
    /// Time the client may spend on all its requests together, counted from its creation (`--deadline`);
    /// a request still unanswered then fails, and is not retried.
    pub deadline: Option<Duration>,
}

impl ClientOptions {
    /// Defaults: 2 minute timeout, 3 retries from 500 ms, 4 requests in flight, 11,000 points and 250,000
    /// raw samples per request; the response limits are the running command's (`--max-response-bytes`,
    /// `--max-points`, see [`crate::limits`]).
    pub fn new(url: impl Into<String>) -> Self {
        let limits = crate::limits::Limits::active();
        ClientOptions {
            url: url.into(),
            bearer_token: None,
            bearer_token_file: None,
            basic_auth: None,
            headers: Vec::new(),
            ca_file: None,
            insecure_skip_verify: false,
            timeout: Duration::from_secs(120),
            retries: 3,
            backoff: Duration::from_millis(500),
            concurrency: 4,
            max_points_per_request: 11_000,
            max_samples_per_request: 250_000,
            max_response_bytes: limits.max_response_bytes,
            max_points_per_response: limits.max_points,
            progress: false,
            deadline: None,
        }
    }
}

const REDACTED: &str = "<redacted>";

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, _)| (k.as_str(), REDACTED))
            .collect();
        f.debug_struct("ClientOptions")
            .field("url", &redact_url(&self.url))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| REDACTED),
            )
            .field("bearer_token_file", &self.bearer_token_file)
            .field(
                "basic_auth",
                &self
                    .basic_auth
                    .as_ref()
                    .map(|(u, _)| (u.as_str(), REDACTED)),
            )
            .field("headers", &headers)
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("concurrency", &self.concurrency)
            .field("max_points_per_request", &self.max_points_per_request)
            .field("max_samples_per_request", &self.max_samples_per_request)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_points_per_response", &self.max_points_per_response)
            .field("progress", &self.progress)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The URL with any `user:password@` and query string removed, for messages.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match scheme {
        Some(s) => format!("{s}://{host}{path}"),
        None => format!("{host}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_every_secret() {
        let mut o = ClientOptions::new("https://bob:hunter2@prom.example:9090/prom?token=abc");
        o.bearer_token = Some("s3cr3t-token".into());
        o.basic_auth = Some(("alice".into(), "pa55word".into()));
        o.headers = vec![("X-Api-Key".into(), "k3y-value".into())];
        let d = format!("{o:?}");
        for secret in [
            "hunter2",
            "s3cr3t-token",
            "pa55word",
            "k3y-value",
            "abc",
            "bob",
        ] {
            assert!(!d.contains(secret), "{secret} leaked in {d}");
        }
        assert!(d.contains("https://prom.example:9090/prom"), "{d}");
        assert!(d.contains("alice") && d.contains("X-Api-Key"), "{d}");
    }

    #[test]
    fn url_redaction() {
        assert_eq!(redact_url("http://h:1/a?x=1"), "http://h:1/a");
        assert_eq!(redact_url("http://u:p@h"), "http://h");
        assert_eq!(redact_url("h:9090"), "h:9090");
    }
}
