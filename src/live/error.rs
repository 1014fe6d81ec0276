//! What can go wrong talking to a server. Messages name the endpoint without credentials or query string,
//! and carry the server's own error text (`errorType: error`) when it sent one.

/// Why a live request failed. A failed call never returns partial data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    #[error("invalid Prometheus URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// Bad connection settings: unreadable token or CA file, malformed header, conflicting auth.
    #[error("{0}")]
    Config(String),
    /// Arguments the server would refuse anyway (end before start, step not positive, not a selector).
    #[error("{0}")]
    InvalidArgument(String),
    /// An https:// URL whose server speaks plain HTTP.
    #[error(
        "{endpoint}: the server answered in plain HTTP, not TLS: use http:// instead of https://"
    )]
    PlainHttp { endpoint: String },
    #[error("{endpoint}: cannot connect: {reason}")]
    Connect { endpoint: String, reason: String },
    #[error("{endpoint}: no complete answer within {timeout} (raise --timeout, or query a shorter range)")]
    Timeout { endpoint: String, timeout: String },
    /// The server answered with Prometheus's error JSON.
    #[error("{endpoint}: HTTP {status}: {error_type}: {error}")]
    Api {
        endpoint: String,
        status: u16,
        error_type: String,
        error: String,
    },
    /// The server answered an error status without Prometheus's error JSON (a proxy, a load balancer).
    #[error("{endpoint}: HTTP {status}: {body}")]
    Http {
        endpoint: String,
        status: u16,
        body: String,
    },
    #[error("{endpoint}: unreadable response: {reason}")]
    Decode { endpoint: String, reason: String },
    /// The whole command ran out of its `--deadline`.
    #[error("{endpoint}: no answer before the --deadline of {deadline} ran out (raise --deadline, or query a shorter range)")]
    Deadline { endpoint: String, deadline: String },
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp { attempts: u32, last: Box<LiveError> },
    /// A failure while fetching one selector of several. (The inner error is part of the message, not an error
    /// source: a source would be printed twice by `{:#}`.)
    #[error("recording {selector}: {cause}")]
    Selector {
        selector: String,
        cause: Box<LiveError>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl LiveError {
    /// Whether trying again may help: connection failures, 429 and 5xx answers. Timeouts are not retried:
    /// a query that took the whole timeout once will most likely do it again, and retrying multiplies the wait.
    pub fn is_retryable(&self) -> bool {
        match self {
            LiveError::Connect { .. } => true,
            LiveError::Api { status, .. } | LiveError::Http { status, .. } => {
                *status == 429 || *status >= 500
            }
            _ => false,
        }
    }
}
