//! A real Prometheus (Debian's `prometheus` package: /usr/bin/prometheus and /usr/bin/promtool) serving a
//! fixture: the store is written as OpenMetrics, backfilled with `promtool tsdb create-blocks-from
//! openmetrics`, and served by a Prometheus on a free 127.0.0.1 port with an empty scrape config. Retention
//! is 100y so the backfilled blocks are kept; fixtures should still use recent timestamps (now-6h). The
//! server is killed when the value is dropped.

use ruletest::series::openmetrics::write_openmetrics;
use ruletest::series::Store;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str =
    "install Debian's `prometheus` package (apt-get install prometheus); .ci/run does this";

/// The path of a reference binary, failing the test (never skipping it) when it is missing.
pub fn binary(name: &str) -> PathBuf {
    let p = PathBuf::from("/usr/bin").join(name);
    assert!(p.exists(), "{} not found: {INSTALL}", p.display());
    p
}

pub struct PrometheusServer {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Backfills `store` and starts a server over it; waits until it is ready.
    pub fn start(store: &Store) -> PrometheusServer {
        let dir = tempfile::tempdir().unwrap();
        let om = dir.path().join("fixture.om");
        let mut f = std::fs::File::create(&om).unwrap();
        write_openmetrics(store, &mut f).unwrap();
        f.flush().unwrap();
        Self::start_from_openmetrics(dir, &om)
    }

    /// As [`PrometheusServer::start`], with a web config file (TLS, basic auth) for the HTTP endpoint. The
    /// text may refer to files in `tests/support/tls/` through `{tls}`.
    pub fn start_with_web_config(store: &Store, web_config: &str) -> PrometheusServer {
        let dir = tempfile::tempdir().unwrap();
        let om = dir.path().join("fixture.om");
        let mut f = std::fs::File::create(&om).unwrap();
        write_openmetrics(store, &mut f).unwrap();
        f.flush().unwrap();
        let tls = tls_dir();
        let web = dir.path().join("web.yml");
        std::fs::write(
            &web,
            web_config.replace("{tls}", &tls.display().to_string()),
        )
        .unwrap();
        Self::launch(dir, &om, Some(web), "https")
    }

    /// Backfills an OpenMetrics file (e.g. one `ruletest export` wrote) and starts a server over it.
    pub fn start_from_openmetrics(dir: tempfile::TempDir, om: &Path) -> PrometheusServer {
        Self::launch(dir, om, None, "http")
    }

    fn launch(
        dir: tempfile::TempDir,
        om: &Path,
        web_config: Option<PathBuf>,
        scheme: &str,
    ) -> PrometheusServer {
        let tsdb = dir.path().join("tsdb");
        let out = Command::new(binary("promtool"))
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(om)
            .arg(&tsdb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool tsdb create-blocks-from openmetrics failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            "global:\n  scrape_interval: 1h\nscrape_configs: []\n",
        )
        .unwrap();
        let mut last_log = String::new();
        // A free port can be taken between probing and binding: try a few.
        for attempt in 0..3 {
            let port = free_port();
            let log_path = dir.path().join(format!("prometheus-{attempt}.log"));
            let log = std::fs::File::create(&log_path).unwrap();
            let mut cmd = Command::new(binary("prometheus"));
            if let Some(web) = &web_config {
                cmd.arg(format!("--web.config.file={}", web.display()));
            }
            let mut child = cmd
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", tsdb.display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--storage.tsdb.retention.time=100y")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            if wait_ready(&mut child, port, &log_path, Duration::from_secs(60)) {
                return PrometheusServer {
                    child,
                    url: format!("{scheme}://127.0.0.1:{port}"),
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("prometheus did not become ready:\n{last_log}");
    }
}

/// Ready when `/-/ready` answers 200 over plain HTTP, or (for TLS) when the log says so.
fn wait_ready(child: &mut Child, port: u16, log: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if http_get_status(port, "/-/ready") == Some(200) {
            return true;
        }
        let logged = std::fs::read_to_string(log).unwrap_or_default();
        if logged.contains("Server is ready to receive web requests") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test-only CA and server certificate (see gen.sh there).
pub fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls")
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The status code of a plain GET, or None when nothing answers.
fn http_get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}
