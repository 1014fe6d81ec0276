//! `routes_test` cases in `ruletest test` files, through the real binary.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("test")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn chat2sql_routes_pass() {
    assert!(
        root().join("rules/alertmanager-config.yaml").exists(),
        "rules/alertmanager-config.yaml is missing"
    );
    let (code, out, err) = run(&["tests/rules/routes.test.yml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("tests/rules/routes.test.yml:9: PASS \"routes_test\""),
        "{out}"
    );
    assert!(out.ends_with("1 passed, 0 failed\n"), "{out}");
    // Every route and receiver is reached by a case: no coverage note.
    assert!(!out.contains("not-covered"), "{out}");
}

#[test]
fn failures_show_expected_and_got_with_lines() {
    let (code, out, err) = run(&["fixtures/alertmanager/routes_test/failing.test.yml"]);
    assert_eq!(code, 1, "{out}{err}");
    let f = "fixtures/alertmanager/routes_test/failing.test.yml";
    assert!(
        out.contains(&format!("{f}:5: FAIL \"routes_test\"")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{f}:5: routes_test {{alertname=\"Intrusion\", component=\"security\", severity=\"critical\"}}: unexpected receivers\n    - expected security-team\n    + got      critical-alerts\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{f}:7: routes_test {{alertname=\"A\", severity=\"warning\"}}: unexpected inhibited\n    - expected false\n    + got      true (by {{alertname=\"A\", severity=\"critical\"}})\n")),
        "{out}"
    );
    // The passing third case is not listed.
    assert!(!out.contains(&format!("{f}:10:")), "{out}");
    // Coverage: security-team is reached by no case (no rule files here).
    assert!(
        out.contains("info[test/route-not-covered] route {}/{component=\"security\"} (receiver security-team)"),
        "{out}"
    );
    assert!(
        out.contains("receivers reached by no routes_test case and no loaded rule: security-team"),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
}

#[test]
fn unknown_fields_are_errors_with_position() {
    let (code, out, err) = run(&["fixtures/alertmanager/routes_test/unknown-field.test.yml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("unknown-field.test.yml:4:5: error[test/unknown-field] field recievers not found in routes test"),
        "{out}"
    );
    assert!(out.contains("did you mean `receivers`?"), "{out}");
}

#[test]
fn standalone_file_with_time_intervals() {
    let (code, out, err) = run(&["fixtures/alertmanager/routes_test/timed.test.yml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("1 passed, 0 failed\n"), "{out}");
    // ghost and default are reached by no case.
    assert!(
        out.contains("route {}/{team=\"nobody\"} (receiver ghost)"),
        "{out}"
    );
    assert!(out.contains("no loaded rule: default, ghost"), "{out}");
}

#[test]
fn json_output_carries_route_failures() {
    let (code, out, err) = run(&[
        "--format",
        "json",
        "fixtures/alertmanager/routes_test/failing.test.yml",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let failures = &v["files"][0]["groups"][0]["failures"];
    assert_eq!(failures[0]["kind"], "route");
    assert_eq!(failures[0]["what"], "receivers");
    assert_eq!(failures[0]["expected"], "security-team");
    assert_eq!(failures[0]["got"], "critical-alerts");
    assert_eq!(failures[0]["line"], 5);
}

// ---- `ruletest routes --alertmanager.url` against a real Alertmanager ----

mod live {
    use super::root;
    use assert_cmd::Command;
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    fn alertmanager_binary() -> PathBuf {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = PathBuf::from(dir).join("prometheus-alertmanager");
            if p.is_file() {
                return p;
            }
        }
        panic!(
            "prometheus-alertmanager not found on PATH: install Debian's prometheus-alertmanager \
             (`apt-get install -y prometheus-alertmanager`); this test does not skip"
        );
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Kills the Alertmanager this test started, whatever happens; its storage directory goes with it.
    struct Running {
        child: Child,
        _dir: tempfile::TempDir,
    }
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn ready(port: u16) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /-/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200")
    }

    fn start(config: &str) -> (Running, u16) {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = std::process::Command::new(alertmanager_binary())
            .arg(format!("--config.file={}", root().join(config).display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager");
        let running = Running { child, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready(port) {
            assert!(
                Instant::now() < deadline,
                "Alertmanager did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        (running, port)
    }

    fn routes(args: &[&str]) -> (i32, String, String) {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .current_dir(root())
            .arg("routes")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().expect("killed by a signal"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn live_config_routes_like_the_file() {
        // chat2sql.yml has slack api_urls, which Alertmanager returns as `<secret>`.
        let file = "fixtures/alertmanager/chat2sql.yml";
        let (_am, port) = start(file);
        let url = format!("http://127.0.0.1:{port}");
        let (code, live_tree, err) = routes(&["tree", "--alertmanager.url", &url]);
        assert_eq!(code, 0, "{live_tree}{err}");
        let (code, file_tree, err) = routes(&["tree", "--config", file]);
        assert_eq!(code, 0, "{file_tree}{err}");
        assert_eq!(live_tree, file_tree);
        assert!(live_tree.contains("{component=\"security\"}  receiver: security-team"));
        for (labels, want) in [
            (
                &["severity=critical", "component=security"][..],
                "critical-alerts\n",
            ),
            (&["component=kubernetes"][..], "infrastructure-team\n"),
            (&["alertname=X"][..], "web.hook\n"),
        ] {
            let mut args = vec!["test", "--alertmanager.url", &url];
            args.extend(labels);
            let (code, out, err) = routes(&args);
            assert_eq!((code, out.as_str()), (0, want), "{labels:?}: {err}");
        }
        let (code, out, _) = routes(&[
            "test",
            "--alertmanager.url",
            &url,
            "--verify.receivers=security-team",
            "component=security",
            "severity=critical",
        ]);
        assert_eq!(code, 1);
        assert!(
            out.contains("WARNING: Expected receivers did not match"),
            "{out}"
        );
    }

    #[test]
    fn unreachable_server_is_an_error() {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let (code, out, err) = routes(&["tree", "--alertmanager.url", &url, "--timeout", "2s"]);
        assert_ne!(code, 0, "{out}");
        assert!(err.contains("/api/v2/status: cannot connect"), "{err}");
    }

    #[test]
    fn config_and_url_are_exclusive() {
        let (code, _, err) = routes(&[
            "tree",
            "--config",
            "fixtures/alertmanager/chat2sql.yml",
            "--alertmanager.url",
            "http://127.0.0.1:1",
        ]);
        assert_eq!(code, 2, "{err}");
        let (code, _, err) = routes(&["tree"]);
        assert_eq!(code, 2, "{err}");
    }
}

// ---- `ruletest routes --alertmanagerconfig`: Prometheus Operator objects merged into the tree ----

fn routes_cmd(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("routes")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn alertmanagerconfig_objects_are_merged_like_the_operator() {
    let base = "fixtures/alertmanager/crd/base.yml";
    let crds = "fixtures/alertmanager/crd/team-configs.yaml";
    let (code, out, err) = routes_cmd(&["tree", "--config", base, "--alertmanagerconfig", crds]);
    assert_eq!(code, 0, "{out}{err}");
    let want = "Routing tree:\n.\n└── default-route  receiver: default\n    ├── {namespace=\"payments\"}  continue: true  receiver: payments/pay-alerts/slack\n    │\u{a0}\u{a0} ├── {severity=\"critical\"}  continue: true  receiver: payments/pay-alerts/pager\n    │\u{a0}\u{a0} └── {team=~\"^(?:db|ops)$\"}  receiver: payments/pay-alerts/slack\n    ├── {namespace=\"shop\",team=\"frontend\"}  continue: true  receiver: shop/web/web-team\n    └── {severity=\"critical\"}  receiver: oncall\n\n";
    assert_eq!(out, want);
    let (code, out, err) = routes_cmd(&[
        "test",
        "--config",
        base,
        "--alertmanagerconfig",
        crds,
        "namespace=payments",
        "severity=critical",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (0, "payments/pay-alerts/pager,oncall\n"),
        "{err}"
    );
    // A path without any AlertmanagerConfig object is an error, not silently the base config.
    let (code, _, err) = routes_cmd(&["tree", "--config", base, "--alertmanagerconfig", base]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no AlertmanagerConfig object"), "{err}");
}
