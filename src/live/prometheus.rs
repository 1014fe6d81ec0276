//! The Prometheus HTTP API client: `query`, `query_range` and raw-sample download over `/api/v1/query` and
//! `/api/v1/query_range` only, so any compatible server answers (Prometheus, Thanos, Mimir, Cortex,
//! VictoriaMetrics).
//!
//! Long calls are split (11,000 points per series per range request; raw windows sized from the data's
//! density), run with bounded concurrency, retried with exponential backoff on connection errors, 429 and
//! 5xx, and merged in time order. One failed part fails the call: partial data is never returned as
//! complete. `AsyncClient` is the async API; `Client` wraps it with its own single-threaded runtime for the
//! command-line front ends (do not call `Client` from inside an async runtime).

use super::error::LiveError;
use super::options::{redact_url, ClientOptions};
use super::plan::{merge_in_order, range_chunks, raw_windows, window_for_density, FIRST_WINDOW_MS};
use super::progress::Progress;
use crate::promql::Expr;
use crate::series::api_json::{decode_response_with_histograms, parse_json, ApiJsonError, Decoded};
use crate::series::openmetrics::format_seconds;
use crate::series::Store;
use crate::text::duration::format_duration;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::series::api_json::SeriesSamples;

/// The longest wait between two attempts, whatever the backoff or a `Retry-After` header says.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Encoded parameters longer than this go in a POST body (Prometheus accepts both) so long selectors do
/// not hit URL length limits of proxies.
const MAX_GET_PARAMS: usize = 4_000;
const QUERY_PATH: &str = "/api/v1/query";
const QUERY_RANGE_PATH: &str = "/api/v1/query_range";

enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

struct Inner {
    http: reqwest::Client,
    /// Base URL without credentials, query or trailing slash.
    base: String,
    auth: Auth,
    opts: ClientOptions,
    warnings: Mutex<Vec<String>>,
    /// When `opts.deadline` runs out, counted from the client's creation.
    deadline_at: Option<tokio::time::Instant>,
}

/// One range query of [`AsyncClient::query_range_many`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RangeQuery {
    pub expr: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
}

/// One request of a split call; `keep` limits the answer to samples in (left, right].
#[derive(Clone)]
struct Job {
    path: &'static str,
    params: Vec<(&'static str, String)>,
    keep: Option<(i64, i64)>,
    /// Whether native histogram samples are wanted (raw series); queries refuse them.
    histograms: bool,
}

/// Async client; cheap to clone (shares its connection pool).
#[derive(Clone)]
pub struct AsyncClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncClient")
            .field("opts", &self.inner.opts)
            .finish()
    }
}

/// Answers of consecutive windows (in time order) as one: each series' samples merged in time order, series
/// without any left out.
fn merge_parts(parts: Vec<Decoded>) -> Decoded {
    let (floats, histograms): (Vec<_>, Vec<_>) =
        parts.into_iter().map(|d| (d.series, d.histograms)).unzip();
    let mut series = merge_in_order(floats);
    series.retain(|(_, s)| !s.is_empty());
    let mut histograms = merge_in_order(histograms);
    histograms.retain(|(_, s)| !s.is_empty());
    Decoded { series, histograms }
}

impl AsyncClient {
    /// Checks the options, reads the token and CA files, and sets up the connection pool. Credentials written
    /// in the URL (`https://user:pass@host`) become basic auth and leave the URL.
    pub fn new(opts: ClientOptions) -> Result<Self, LiveError> {
        if opts.timeout.is_zero() {
            return Err(LiveError::Config("the timeout must be positive".into()));
        }
        let shown = redact_url(&opts.url);
        let invalid = |reason: String| LiveError::InvalidUrl {
            url: shown.clone(),
            reason,
        };
        let mut url = reqwest::Url::parse(opts.url.trim()).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("expected an http:// or https:// URL".into()));
        }
        let url_basic = (!url.username().is_empty()).then(|| {
            (
                url.username().to_string(),
                url.password().unwrap_or("").to_string(),
            )
        });
        // Cannot fail on an http(s) URL with a host; ignoring keeps the credentials out of any message.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.set_fragment(None);
        let base = url.as_str().trim_end_matches('/').to_string();

        let token = match (&opts.bearer_token, &opts.bearer_token_file) {
            (Some(_), Some(_)) => {
                return Err(LiveError::Config(
                    "give the bearer token or its file, not both".into(),
                ))
            }
            (Some(t), None) => Some(t.trim().to_string()),
            (None, Some(path)) => {
                let t = std::fs::read_to_string(path).map_err(|e| {
                    LiveError::Config(format!(
                        "cannot read bearer token file {}: {e}",
                        path.display()
                    ))
                })?;
                Some(t.trim().to_string())
            }
            (None, None) => None,
        };
        let basic = opts.basic_auth.clone().or(url_basic);
        let auth = match (token, basic) {
            (Some(_), Some(_)) => {
                return Err(LiveError::Config(
                    "use a bearer token or basic auth, not both".into(),
                ))
            }
            (Some(t), None) => Auth::Bearer(t),
            (None, Some((u, p))) => Auth::Basic(u, p),
            (None, None) => Auth::None,
        };

        let mut headers = HeaderMap::new();
        for (name, value) in &opts.headers {
            let n = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| LiveError::Config(format!("invalid header name {name:?}")))?;
            let mut v = HeaderValue::from_str(value.trim())
                .map_err(|_| LiveError::Config(format!("invalid value for header {name:?}")))?;
            v.set_sensitive(true);
            headers.append(n, v);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .default_headers(headers)
            .user_agent(concat!("ruletest/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &opts.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                LiveError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                LiveError::Config(format!(
                    "CA file {} holds no usable PEM certificate: {}",
                    path.display(),
                    error_text(&e)
                ))
            })?;
            if certs.is_empty() {
                return Err(LiveError::Config(format!(
                    "CA file {} holds no PEM certificate",
                    path.display()
                )));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        if opts.insecure_skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| {
            LiveError::Config(format!("cannot set up the HTTP client: {}", error_text(&e)))
        })?;
        Ok(AsyncClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                deadline_at: opts.deadline.map(|d| tokio::time::Instant::now() + d),
                opts,
                warnings: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The options the client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.opts
    }

    /// Warnings the server attached to answers so far (deduplicated, in order of arrival).
    pub fn warnings(&self) -> Vec<String> {
        self.inner
            .warnings
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// An instant query at `t_ms`; a vector or matrix result as series (a vector's series hold one sample).
    pub async fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<SeriesSamples>, LiveError> {
        let job = Job {
            path: QUERY_PATH,
            params: vec![
                ("query", expr.to_string()),
                ("time", format_seconds(t_ms)),
                ("partial_response", "false".into()),
            ],
            keep: None,
            histograms: false,
        };
        Ok(self.call(&job).await?.series)
    }

    /// A range query over `[start_ms, end_ms]` every `step_ms`, split so no request asks for more than
    /// `max_points_per_request` points per series, merged into one result sorted by labels.
    pub async fn query_range(
        &self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<SeriesSamples>, LiveError> {
        if step_ms <= 0 {
            return Err(LiveError::InvalidArgument(
                "the query step must be positive".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(LiveError::InvalidArgument(
                "the end of the range is before its start".into(),
            ));
        }
        let jobs = self.range_jobs(expr, start_ms, end_ms, step_ms);
        let progress = Progress::new(self.inner.opts.progress, jobs.len() as u64, "query_range");
        let parts = self
            .run_bounded(jobs, &mut |_| progress.inc(1))
            .await
            .map_err(|(_, e)| e)?;
        Ok(merge_in_order(
            parts.into_iter().map(|d| d.series).collect(),
        ))
    }

    /// Several range queries at once, all their requests sharing one bound of `concurrency` in flight. The
    /// first failure that retries did not cure aborts every request still in flight and is returned with the
    /// index of its query, so a hung server costs one timeout, not one per query. `what` labels the progress
    /// bar, which counts queries answered.
    pub async fn query_range_many(
        &self,
        queries: &[RangeQuery],
        what: &str,
    ) -> Result<Vec<Vec<SeriesSamples>>, (usize, LiveError)> {
        let mut jobs = Vec::new();
        let mut owner = Vec::new();
        for (qi, q) in queries.iter().enumerate() {
            if q.step_ms <= 0 || q.end_ms < q.start_ms {
                let why = if q.step_ms <= 0 {
                    "the query step must be positive"
                } else {
                    "the end of the range is before its start"
                };
                return Err((qi, LiveError::InvalidArgument(why.into())));
            }
            for job in self.range_jobs(&q.expr, q.start_ms, q.end_ms, q.step_ms) {
                jobs.push(job);
                owner.push(qi);
            }
        }
        let mut left: Vec<usize> = vec![0; queries.len()];
        for &qi in &owner {
            left[qi] += 1;
        }
        let progress = Progress::counting(self.inner.opts.progress, queries.len() as u64, what);
        let parts = self
            .run_bounded(jobs, &mut |ji| {
                let qi = owner[ji];
                left[qi] -= 1;
                if left[qi] == 0 {
                    progress.inc(1);
                }
            })
            .await
            .map_err(|(ji, e)| (owner[ji], e))?;
        let mut per_query: Vec<Vec<Vec<SeriesSamples>>> = vec![Vec::new(); queries.len()];
        for (ji, part) in parts.into_iter().enumerate() {
            per_query[owner[ji]].push(part.series);
        }
        Ok(per_query.into_iter().map(merge_in_order).collect())
    }

    /// The requests of one range query, split so none asks for more than `max_points_per_request` points
    /// per series.
    fn range_jobs(&self, expr: &str, start_ms: i64, end_ms: i64, step_ms: i64) -> Vec<Job> {
        range_chunks(
            start_ms,
            end_ms,
            step_ms,
            self.inner.opts.max_points_per_request,
        )
        .into_iter()
        .map(|(s, e)| Job {
            path: QUERY_RANGE_PATH,
            params: vec![
                ("query", expr.to_string()),
                ("start", format_seconds(s)),
                ("end", format_seconds(e)),
                ("step", format_seconds(step_ms)),
                ("partial_response", "false".into()),
            ],
            keep: None,
            histograms: false,
        })
        .collect()
    }

    /// Every raw sample of the series `selector` matches in `[start_ms, end_ms]`, by instant queries of
    /// `selector[<window>]` at successive window ends. The first window (1h) is fetched alone (doubling while
    /// empty); then windows go in concurrent batches, each batch's windows sized from the densest window of the
    /// batch before to hold about `max_samples_per_request` samples.
    /// Each answer keeps only samples after its window's left edge, so a server whose range selectors are
    /// closed on the left (Prometheus 2.x) does not duplicate boundary samples.
    pub async fn raw_series(
        &self,
        selector: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Decoded, LiveError> {
        let mut parts = Vec::new();
        self.raw_series_batches(selector, start_ms, end_ms, &mut |d| parts.push(d))
            .await?;
        Ok(merge_parts(parts))
    }

    /// [`AsyncClient::raw_series`] handed over a batch at a time, in time order: `sink` gets each batch's
    /// answers merged (every series' samples of the batch, in time order; series without any left out), so
    /// a caller can store them as they come instead of holding the whole range. A failure after some batches
    /// were handed over is returned all the same: the caller must drop what it got.
    pub async fn raw_series_batches(
        &self,
        selector: &str,
        start_ms: i64,
        end_ms: i64,
        sink: &mut (dyn FnMut(Decoded) + Send),
    ) -> Result<(), LiveError> {
        check_selector(selector)?;
        if end_ms < start_ms {
            return Err(LiveError::InvalidArgument(
                "the end of the range is before its start".into(),
            ));
        }
        let target = self.inner.opts.max_samples_per_request.max(1);
        let limit = self.inner.opts.concurrency.max(1);
        let mut left = start_ms.saturating_sub(1);
        let mut window = FIRST_WINDOW_MS;
        let mut seen_data = false;
        let progress = Progress::new(
            self.inner.opts.progress,
            (end_ms - left).max(0) as u64,
            &format!("recording {selector}"),
        );
        // One window at a time until one holds data, then batches of `concurrency` windows; after each
        // batch the densest window of it sizes the next, so responses stay near the target as density changes.
        while left < end_ms {
            let batch: Vec<(i64, i64)> = raw_windows(left, end_ms, window)
                .into_iter()
                .take(if seen_data { limit } else { 1 })
                .collect();
            let jobs = batch
                .iter()
                .map(|&(l, r)| raw_job(selector, l, r))
                .collect();
            let answers = self
                .run_bounded(jobs, &mut |_| {})
                .await
                .map_err(|(_, e)| e)?;
            let mut densest: Option<(usize, i64)> = None;
            for (&(l, r), answer) in batch.iter().zip(&answers) {
                let n = answer.samples();
                // n / (r - l) above the best so far, compared without division.
                if densest.is_none_or(|(bn, bl)| {
                    (n as i128) * (bl as i128) > (bn as i128) * ((r - l) as i128)
                }) {
                    densest = Some((n, r - l));
                }
            }
            if let Some((n, len)) = densest {
                seen_data |= n > 0;
                window = window_for_density(n, len, target);
            }
            let next = batch.last().map_or(end_ms, |&(_, r)| r);
            progress.inc((next - left).max(0) as u64);
            left = next;
            let merged = merge_parts(answers);
            if !merged.series.is_empty() || !merged.histograms.is_empty() {
                sink(merged);
            }
        }
        Ok(())
    }

    /// Runs jobs with at most `concurrency` in flight; answers come back in job order, and `done` hears of
    /// each job answered. The first error aborts the jobs still running and is returned with its job's index.
    async fn run_bounded(
        &self,
        jobs: Vec<Job>,
        done: &mut dyn FnMut(usize),
    ) -> Result<Vec<Decoded>, (usize, LiveError)> {
        let n = jobs.len();
        let limit = self.inner.opts.concurrency.max(1);
        let mut results: Vec<Option<Decoded>> = vec![None; n];
        let mut set = tokio::task::JoinSet::new();
        let mut pending = jobs.into_iter().enumerate();
        let spawn = |set: &mut tokio::task::JoinSet<_>, (i, job): (usize, Job)| {
            let client = self.clone();
            set.spawn(async move { (i, client.call(&job).await) });
        };
        for _ in 0..limit {
            match pending.next() {
                Some(j) => spawn(&mut set, j),
                None => break,
            }
        }
        while let Some(joined) = set.join_next().await {
            let (i, answer) = joined
                .map_err(|e| (0, LiveError::Internal(format!("request task failed: {e}"))))?;
            // Returning drops the set, which aborts every request still running.
            let answer = answer.map_err(|e| (i, e))?;
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(answer);
            }
            done(i);
            if let Some(j) = pending.next() {
                spawn(&mut set, j);
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.ok_or_else(|| {
                    (
                        i,
                        LiveError::Internal("a request's answer is missing".into()),
                    )
                })
            })
            .collect()
    }

    /// One logical request with retries.
    async fn call(&self, job: &Job) -> Result<Decoded, LiveError> {
        let opts = &self.inner.opts;
        let attempts = opts.retries.saturating_add(1);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let answer = match self.inner.deadline_at {
                Some(at) => match tokio::time::timeout_at(at, self.attempt(job)).await {
                    Ok(answer) => answer,
                    Err(_) => return Err(self.deadline_error(job)),
                },
                None => self.attempt(job).await,
            };
            let err = match answer {
                Ok(mut answer) => {
                    if let Some((l, r)) = job.keep {
                        for (_, s) in &mut answer.series {
                            s.retain(|&(t, _)| t > l && t <= r);
                        }
                        for (_, s) in &mut answer.histograms {
                            s.retain(|&(t, _)| t > l && t <= r);
                        }
                    }
                    return Ok(answer);
                }
                Err(e) => e,
            };
            let (err, retry_after) = err;
            if !err.is_retryable() {
                return Err(err);
            }
            if attempt >= attempts {
                return Err(if attempt > 1 {
                    LiveError::GaveUp {
                        attempts: attempt,
                        last: Box::new(err),
                    }
                } else {
                    err
                });
            }
            let backoff = opts.backoff.saturating_mul(1u32 << (attempt - 1).min(16));
            let wake =
                tokio::time::Instant::now() + retry_after.unwrap_or(backoff).min(MAX_BACKOFF);
            if self.inner.deadline_at.is_some_and(|at| at <= wake) {
                return Err(self.deadline_error(job));
            }
            tokio::time::sleep_until(wake).await;
        }
    }

    fn deadline_error(&self, job: &Job) -> LiveError {
        LiveError::Deadline {
            endpoint: format!("{}{}", redact_url(&self.inner.base), job.path),
            deadline: format_duration(self.inner.opts.deadline.map_or(0, |d| d.as_millis() as i64)),
        }
    }

    /// One HTTP exchange. The error carries the server's `Retry-After`, if any.
    async fn attempt(&self, job: &Job) -> Result<Decoded, (LiveError, Option<Duration>)> {
        let inner = &self.inner;
        let endpoint = format!("{}{}", redact_url(&inner.base), job.path);
        let url = format!("{}{}", inner.base, job.path);
        let encoded_len: usize = job.params.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let mut req = if encoded_len > MAX_GET_PARAMS {
            inner.http.post(&url).form(&job.params)
        } else {
            inner.http.get(&url).query(&job.params)
        };
        req = match &inner.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
        };
        let transport = |e: reqwest::Error| (self.transport_error(&endpoint, &e), None);
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_capped(resp, inner.opts.max_response_bytes)
            .await
            .map_err(|e| match e {
                BodyError::Transport(e) => transport(e),
                BodyError::TooLarge(limit) => (
                    LiveError::Decode {
                        endpoint: endpoint.clone(),
                        reason: format!(
                            "the response is larger than {limit} bytes (raise the limit with --max-response-bytes, or query a shorter range)"
                        ),
                    },
                    None,
                ),
            })?;
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            let err = match parse_json(&text).ok().as_ref().and_then(error_fields) {
                Some((error_type, error)) => LiveError::Api {
                    endpoint,
                    status: status.as_u16(),
                    error_type,
                    error,
                },
                None => LiveError::Http {
                    endpoint,
                    status: status.as_u16(),
                    body: snippet(&text),
                },
            };
            return Err((err, retry_after));
        }
        let decode = |reason: String| LiveError::Decode {
            endpoint: endpoint.clone(),
            reason,
        };
        let doc = parse_json(&text).map_err(|e| (decode(e.to_string()), None))?;
        if let Some(ws) = doc.get("warnings").and_then(|w| w.as_array()) {
            if let Ok(mut acc) = inner.warnings.lock() {
                for w in ws.iter().filter_map(|w| w.as_str()) {
                    if !acc.iter().any(|x| x == w) {
                        acc.push(w.to_string());
                    }
                }
            }
        }
        let answer = decode_response_with_histograms(&doc).map_err(|e| {
            let err = match e {
                ApiJsonError::ServerError { error_type, error } => LiveError::Api {
                    endpoint: endpoint.clone(),
                    status: status.as_u16(),
                    error_type,
                    error,
                },
                other => decode(other.to_string()),
            };
            (err, None)
        })?;
        if let Some((labels, _)) = answer.histograms.first().filter(|_| !job.histograms) {
            return Err((
                decode(format!(
                    "series {labels} has native histogram samples, which the remote strategy does not read yet; use --strategy local (ruletest fetches the raw series and evaluates them itself)"
                )),
                None,
            ));
        }
        let points = answer.samples();
        let limit = inner.opts.max_points_per_response;
        if points > limit {
            return Err((
                decode(format!(
                    "the response holds {points} points, more than {limit} (raise the limit with --max-points, or query a shorter range)"
                )),
                None,
            ));
        }
        Ok(answer)
    }

    fn transport_error(&self, endpoint: &str, e: &reqwest::Error) -> LiveError {
        if e.is_timeout() {
            LiveError::Timeout {
                endpoint: endpoint.to_string(),
                timeout: format_duration(self.inner.opts.timeout.as_millis() as i64),
            }
        } else if e.is_decode() {
            LiveError::Decode {
                endpoint: endpoint.to_string(),
                reason: error_text(e),
            }
        } else {
            // Refused, reset, closed mid-answer, TLS failures: all worth another try.
            let reason = error_text(e);
            // rustls's words for a TLS handshake answered by a plain-HTTP server (its first bytes are
            // "HTTP/1.1", not a TLS record). Trying again cannot help.
            if endpoint.starts_with("https://")
                && (reason.contains("InvalidContentType") || reason.contains("corrupt message"))
            {
                return LiveError::PlainHttp {
                    endpoint: endpoint.to_string(),
                };
            }
            LiveError::Connect {
                endpoint: endpoint.to_string(),
                reason,
            }
        }
    }
}

/// Why a body could not be read whole.
enum BodyError {
    Transport(reqwest::Error),
    /// Longer than this many bytes.
    TooLarge(usize),
}

/// Reads a response body chunk by chunk, giving up as soon as it passes `limit` bytes, so a huge answer
/// is never held whole. A `Content-Length` above the limit is refused before any of the body is read.
async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| n > limit.try_into().unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn raw_job(selector: &str, left: i64, right: i64) -> Job {
    Job {
        path: QUERY_PATH,
        params: vec![
            (
                "query",
                format!("{selector}[{}]", format_duration(right - left)),
            ),
            ("time", format_seconds(right)),
            ("partial_response", "false".into()),
        ],
        keep: Some((left, right)),
        histograms: true,
    }
}

/// Refuses anything but a plain series selector, before a server sees it.
fn check_selector(selector: &str) -> Result<(), LiveError> {
    let bad = |why: &str| {
        LiveError::InvalidArgument(format!(
            "{selector:?} is not a series selector like up{{job=\"api\"}}: {why}"
        ))
    };
    match &crate::promql::parse(selector) {
        Ok(Expr::Vector(vs)) => {
            if vs.offset_ms != 0 || vs.offset_expr.is_some() || vs.at.is_some() {
                Err(bad("offset and @ are not allowed"))
            } else {
                Ok(())
            }
        }
        Ok(_) => Err(bad("it is an expression")),
        Err(e) => Err(bad(&e.to_string())),
    }
}

/// Prometheus's error JSON: (`errorType`, `error`).
fn error_fields(doc: &serde_json::Value) -> Option<(String, String)> {
    let error = doc.get("error")?.as_str()?.to_string();
    let error_type = doc
        .get("errorType")
        .and_then(|v| v.as_str())
        .unwrap_or("error")
        .to_string();
    Some((error_type, error))
}

/// The start of a non-JSON error body, on one line.
fn snippet(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        let cut: String = one_line.chars().take(300).collect();
        format!("{cut}...")
    } else if one_line.is_empty() {
        "(empty body)".into()
    } else {
        one_line
    }
}

/// A reqwest error and its causes on one line, without the URL (which could carry the query).
fn error_text(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        let msg = s.to_string();
        let msg = match msg.find(" for url (") {
            Some(i) => msg[..i].to_string(),
            None => msg,
        };
        if !parts.contains(&msg) {
            parts.push(msg);
        }
        src = s.source();
    }
    // reqwest and hyper wrap the cause in generic layers; the user needs the cause.
    let wrapper =
        |m: &String| m.starts_with("error sending request") || m.starts_with("client error (");
    if parts.iter().any(|m| !wrapper(m)) {
        parts.retain(|m| !wrapper(m));
    }
    parts.join(": ")
}

/// The blocking facade: an `AsyncClient` with its own single-threaded runtime.
#[derive(Debug)]
pub struct Client {
    rt: tokio::runtime::Runtime,
    inner: AsyncClient,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Self, LiveError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LiveError::Internal(format!("cannot start the I/O runtime: {e}")))?;
        let inner = {
            let _guard = rt.enter();
            AsyncClient::new(opts)?
        };
        Ok(Client { rt, inner })
    }

    /// The async client inside, for callers that run their own runtime.
    pub fn async_client(&self) -> &AsyncClient {
        &self.inner
    }

    /// See [`AsyncClient::warnings`].
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }

    /// See [`AsyncClient::query`].
    pub fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<SeriesSamples>, LiveError> {
        self.rt.block_on(self.inner.query(expr, t_ms))
    }

    /// See [`AsyncClient::query_range`].
    pub fn query_range(
        &self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<SeriesSamples>, LiveError> {
        self.rt
            .block_on(self.inner.query_range(expr, start_ms, end_ms, step_ms))
    }

    /// See [`AsyncClient::query_range_many`].
    pub fn query_range_many(
        &self,
        queries: &[RangeQuery],
        what: &str,
    ) -> Result<Vec<Vec<SeriesSamples>>, (usize, LiveError)> {
        self.rt.block_on(self.inner.query_range_many(queries, what))
    }

    /// Downloads the raw samples of every selector into `store` (series matched twice are merged), a batch
    /// of windows at a time; returns how many samples arrived. What `record` does, and what a dry run over
    /// live data needs first. On an error the store may hold part of the range: drop it.
    pub fn load_raw(
        &self,
        selectors: &[impl AsRef<str>],
        start_ms: i64,
        end_ms: i64,
        store: &mut Store,
    ) -> Result<usize, LiveError> {
        let mut n = 0;
        for selector in selectors {
            let selector = selector.as_ref();
            // Each batch goes into the store as it arrives (compact in a store with compact history), so
            // a month of raw samples is never held decoded whole. Batches come in time order: each series'
            // samples follow what the store holds.
            let result = self.rt.block_on(self.inner.raw_series_batches(
                selector,
                start_ms,
                end_ms,
                &mut |d: Decoded| {
                    n += d.samples();
                    for (labels, samples) in d.series {
                        store.add_series(labels, samples);
                    }
                    for (labels, hs) in d.histograms {
                        let id = store.series_id(&labels);
                        for (t, h) in hs {
                            store.append_histogram_id(id, t, h);
                        }
                    }
                },
            ));
            result.map_err(|e| match e {
                LiveError::InvalidArgument(_) => e,
                other => LiveError::Selector {
                    selector: selector.to_string(),
                    cause: Box::new(other),
                },
            })?;
        }
        Ok(n)
    }

    /// See [`AsyncClient::raw_series`].
    pub fn raw_series(
        &self,
        selector: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Decoded, LiveError> {
        self.rt
            .block_on(self.inner.raw_series(selector, start_ms, end_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_only() {
        assert!(check_selector("up{job=\"a\"}").is_ok());
        assert!(check_selector("{__name__=~\"a.*\"}").is_ok());
        for bad in ["rate(x[5m])", "x offset 5m", "x[5m]", "x{", "1"] {
            let e = check_selector(bad).unwrap_err().to_string();
            assert!(e.contains("is not a series selector"), "{bad}: {e}");
        }
    }

    #[test]
    fn options_are_checked_when_building() {
        let e = AsyncClient::new(ClientOptions::new("ftp://x")).unwrap_err();
        assert!(
            e.to_string()
                .contains("expected an http:// or https:// URL"),
            "{e}"
        );
        let e = AsyncClient::new(ClientOptions::new("not a url")).unwrap_err();
        assert!(matches!(e, LiveError::InvalidUrl { .. }), "{e}");
        let mut o = ClientOptions::new("http://127.0.0.1:1");
        o.timeout = Duration::ZERO;
        assert!(AsyncClient::new(o).is_err());
        let mut o = ClientOptions::new("http://u:p@127.0.0.1:1");
        o.bearer_token = Some("t".into());
        let e = AsyncClient::new(o).unwrap_err();
        assert_eq!(e.to_string(), "use a bearer token or basic auth, not both");
        let mut o = ClientOptions::new("http://127.0.0.1:1");
        o.headers = vec![("bad name".into(), "v".into())];
        assert!(AsyncClient::new(o).is_err());
        let mut o = ClientOptions::new("http://127.0.0.1:1");
        o.bearer_token_file = Some("/nonexistent/token".into());
        let e = AsyncClient::new(o).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("cannot read bearer token file /nonexistent/token"));
    }

    #[test]
    fn credentials_in_the_url_leave_it() {
        let c = Client::new(ClientOptions::new("http://alice:pw@127.0.0.1:9/prom/")).unwrap();
        assert_eq!(c.async_client().inner.base, "http://127.0.0.1:9/prom");
        assert!(
            matches!(&c.async_client().inner.auth, Auth::Basic(u, p) if u == "alice" && p == "pw")
        );
    }

    #[test]
    fn error_snippets() {
        assert_eq!(
            snippet("  <html>\n bad   gateway </html> "),
            "<html> bad gateway </html>"
        );
        assert_eq!(snippet(""), "(empty body)");
        assert_eq!(snippet(&"x".repeat(400)).len(), 303);
    }

    /// A one-connection HTTP server on a free port answering every request with `head` then `body`
    /// (called until it returns None or the client hangs up). Returns its base URL.
    fn serve(
        head: &'static str,
        mut body: impl FnMut(usize) -> Option<Vec<u8>> + Send + 'static,
    ) -> (String, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut req = [0u8; 4096];
            let _ = conn.read(&mut req);
            let mut sent = 0usize;
            if conn.write_all(head.as_bytes()).is_err() {
                return sent;
            }
            let mut i = 0;
            while let Some(chunk) = body(i) {
                i += 1;
                if conn.write_all(&chunk).is_err() {
                    break;
                }
                sent += chunk.len();
            }
            sent
        });
        (url, handle)
    }

    fn client(url: &str, adjust: impl FnOnce(&mut ClientOptions)) -> Client {
        let mut o = ClientOptions::new(url);
        o.retries = 0;
        o.timeout = Duration::from_secs(20);
        adjust(&mut o);
        Client::new(o).unwrap()
    }

    #[test]
    fn an_endless_body_is_refused_while_streaming() {
        // Chunked, no length: 64 KiB chunks for up to 1 GiB. The client must stop near its 100 KB limit.
        let (url, server) = serve(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            |i| {
                (i < 16_384).then(|| {
                    let data = vec![b' '; 65_536];
                    let mut c = format!("{:x}\r\n", data.len()).into_bytes();
                    c.extend_from_slice(&data);
                    c.extend_from_slice(b"\r\n");
                    c
                })
            },
        );
        let c = client(&url, |o| o.max_response_bytes = 100_000);
        let e = c.query("up", 0).unwrap_err();
        assert!(
            e.to_string().contains("the response is larger than 100000 bytes (raise the limit with --max-response-bytes"),
            "{e}"
        );
        drop(c);
        let sent = server.join().unwrap();
        assert!(sent < 64 << 20, "the server got to send {sent} bytes");
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let (url, server) = serve(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n",
            |i| (i == 0).then(|| b"{".to_vec()),
        );
        let e = client(&url, |o| o.max_response_bytes = 1000)
            .query("up", 0)
            .unwrap_err();
        assert!(e.to_string().contains("larger than 1000 bytes"), "{e}");
        server.join().unwrap();
    }

    #[test]
    fn a_response_with_too_many_points_is_refused() {
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up"},"values":[[1,"1"],[2,"1"],[3,"1"],[4,"1"]]}]}}"#;
        let head: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_boxed_str(),
        );
        let (url, server) = serve(head, move |i| (i == 0).then(|| body.as_bytes().to_vec()));
        let e = client(&url, |o| o.max_points_per_response = 3)
            .query("up[5s]", 4)
            .unwrap_err();
        assert!(
            e.to_string().contains(
                "the response holds 4 points, more than 3 (raise the limit with --max-points"
            ),
            "{e}"
        );
        server.join().unwrap();
        let (url, server) = serve(head, move |i| (i == 0).then(|| body.as_bytes().to_vec()));
        let got = client(&url, |o| o.max_points_per_response = 4)
            .query("up[5s]", 4)
            .unwrap();
        assert_eq!(got[0].1.len(), 4);
        server.join().unwrap();
    }
}
