//! The connection flags every live command shares (`record`, `dry-run --prometheus`, `tune`), as one clap
//! struct to `#[command(flatten)]`. Secrets are taken from files or environment variables, never from the
//! command line, where other users of the machine could read them.

use super::error::LiveError;
use super::options::ClientOptions;
use super::prometheus::Client;
use crate::text::duration::parse_duration;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variable holding a bearer token (instead of `--bearer-token-file`).
pub const TOKEN_ENV: &str = "RULETEST_BEARER_TOKEN";
/// Environment variable holding the basic-auth password (instead of `--basic-auth-password-file`).
pub const PASSWORD_ENV: &str = "RULETEST_BASIC_AUTH_PASSWORD";

#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// Base URL of a Prometheus-compatible API (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics), without
    /// /api/v1.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// File holding a bearer token (or set RULETEST_BEARER_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// Basic-auth user; the password comes from --basic-auth-password-file or RULETEST_BASIC_AUTH_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub basic_auth_user: Option<String>,
    /// File holding the basic-auth password.
    #[arg(long, value_name = "FILE", requires = "basic_auth_user")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// Extra request header, repeatable (e.g. "X-Scope-OrgID: tenant-1").
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// PEM file of CA certificates to trust besides the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the server's TLS certificate.
    #[arg(long)]
    pub insecure_skip_verify: bool,
    /// Timeout of each request (a Prometheus duration).
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub timeout: String,
    /// Further attempts after a connection error, 429 or 5xx.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Requests in flight at once (rule queries, the parts of a long range, raw-series windows).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Time all requests of the command may take together (a Prometheus duration, e.g. 10m); when it runs
    /// out the command fails at once. For CI jobs. No deadline unless given.
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
}

impl LiveArgs {
    /// Client options from the flags and the process environment; None when no --prometheus was given.
    pub fn client_options(&self) -> Result<Option<ClientOptions>, LiveError> {
        self.client_options_with_env(|k| std::env::var(k).ok())
    }

    /// As [`LiveArgs::client_options`], reading environment variables through `env`.
    pub fn client_options_with_env(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ClientOptions>, LiveError> {
        let Some(url) = &self.prometheus else {
            return Ok(None);
        };
        let mut o = ClientOptions::new(url.clone());
        let timeout_ms = parse_duration(self.timeout.trim())
            .map_err(|e| LiveError::Config(format!("--timeout: {e}")))?;
        if timeout_ms <= 0 {
            return Err(LiveError::Config("--timeout must be positive".into()));
        }
        o.timeout = Duration::from_millis(timeout_ms as u64);
        o.retries = self.retries;
        if self.concurrency == 0 {
            return Err(LiveError::Config("--concurrency must be at least 1".into()));
        }
        o.concurrency = self.concurrency;
        if let Some(d) = &self.deadline {
            let ms = parse_duration(d.trim())
                .map_err(|e| LiveError::Config(format!("--deadline: {e}")))?;
            if ms <= 0 {
                return Err(LiveError::Config("--deadline must be positive".into()));
            }
            o.deadline = Some(Duration::from_millis(ms as u64));
        }
        o.bearer_token_file = self.bearer_token_file.clone();
        if o.bearer_token_file.is_none() {
            o.bearer_token = env(TOKEN_ENV).filter(|t| !t.trim().is_empty());
        }
        if let Some(user) = &self.basic_auth_user {
            let password = match &self.basic_auth_password_file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| {
                        LiveError::Config(format!(
                            "cannot read basic-auth password file {}: {e}",
                            path.display()
                        ))
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
                None => env(PASSWORD_ENV).unwrap_or_default(),
            };
            o.basic_auth = Some((user.clone(), password));
        }
        // A malformed header is named by its position, never quoted: its text is often a credential.
        for (i, h) in self.headers.iter().enumerate() {
            let which = format!("--header number {} (text not shown)", i + 1);
            let (name, value) = h
                .split_once(':')
                .or_else(|| h.split_once('='))
                .ok_or_else(|| LiveError::Config(format!("{which}: expected \"Name: value\"")))?;
            if name.trim().is_empty() {
                return Err(LiveError::Config(format!("{which}: empty name")));
            }
            o.headers
                .push((name.trim().to_string(), value.trim().to_string()));
        }
        o.ca_file = self.ca_file.clone();
        o.insecure_skip_verify = self.insecure_skip_verify;
        // Drawn only when stderr is a terminal.
        o.progress = true;
        Ok(Some(o))
    }

    /// A blocking client; None when no --prometheus was given.
    pub fn client(&self) -> Result<Option<Client>, LiveError> {
        self.client_options()?.map(Client::new).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cmd {
        #[command(flatten)]
        live: LiveArgs,
    }

    fn opts(args: &[&str], env: &[(&str, &str)]) -> Result<Option<ClientOptions>, LiveError> {
        let cmd = Cmd::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap();
        cmd.live.client_options_with_env(|k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn no_url_no_client() {
        assert!(opts(&[], &[]).unwrap().is_none());
    }

    #[test]
    fn flags_and_environment() {
        let o = opts(
            &[
                "--prometheus",
                "http://p:9090",
                "--header",
                "X-Scope-OrgID: t1",
                "--header",
                "A=b",
                "--timeout",
                "1m30s",
                "--retries",
                "0",
                "--insecure-skip-verify",
            ],
            &[(TOKEN_ENV, "tok\n")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.url, "http://p:9090");
        assert_eq!(
            o.headers,
            vec![
                ("X-Scope-OrgID".into(), "t1".into()),
                ("A".into(), "b".into())
            ]
        );
        assert_eq!(o.timeout, Duration::from_secs(90));
        assert_eq!(o.retries, 0);
        assert!(o.insecure_skip_verify);
        assert_eq!(o.bearer_token.as_deref(), Some("tok\n"));

        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let o = opts(
            &[
                "--prometheus",
                "http://p",
                "--basic-auth-user",
                "bob",
                "--basic-auth-password-file",
                pw.to_str().unwrap(),
            ],
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.basic_auth, Some(("bob".into(), "s3cret".into())));
        let o = opts(
            &["--prometheus", "http://p", "--basic-auth-user", "bob"],
            &[(PASSWORD_ENV, "envpw")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.basic_auth, Some(("bob".into(), "envpw".into())));
    }

    #[test]
    fn bad_flags_are_reported() {
        let e = opts(&["--prometheus", "http://p", "--header", "novalue"], &[]).unwrap_err();
        assert!(e.to_string().contains("expected \"Name: value\""), "{e}");
        // The header's text may be a token pasted without its name: it is never echoed.
        let e = opts(
            &[
                "--prometheus",
                "http://p",
                "--header",
                "X: y",
                "--header",
                "Bearer s3cr3t",
            ],
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("--header number 2 "), "{e}");
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let e = opts(&["--prometheus", "http://p", "--timeout", "0"], &[]).unwrap_err();
        assert_eq!(e.to_string(), "--timeout must be positive");
        let e = opts(&["--prometheus", "http://p", "--timeout", "soon"], &[]).unwrap_err();
        assert!(e.to_string().starts_with("--timeout: "), "{e}");
        let e = opts(&["--prometheus", "http://p", "--concurrency", "0"], &[]).unwrap_err();
        assert_eq!(e.to_string(), "--concurrency must be at least 1");
        let e = opts(&["--prometheus", "http://p", "--deadline", "0s"], &[]).unwrap_err();
        assert_eq!(e.to_string(), "--deadline must be positive");
        let e = opts(&["--prometheus", "http://p", "--deadline", "later"], &[]).unwrap_err();
        assert!(e.to_string().starts_with("--deadline: "), "{e}");
        let o = opts(
            &[
                "--prometheus",
                "http://p",
                "--concurrency",
                "9",
                "--deadline",
                "10m",
            ],
            &[],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (o.concurrency, o.deadline),
            (9, Some(Duration::from_secs(600)))
        );
    }
}
