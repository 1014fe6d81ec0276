//! Reference test: a real Alertmanager (Debian's prometheus-alertmanager) against the simulator.
//!
//! Starts Alertmanager on 127.0.0.1 at a free port (temporary storage, clustering disabled), with webhook
//! receivers pointing at a listener of this test, POSTs alerts to /api/v2/alerts, and compares what the
//! webhooks receive (per group: receiver, status, group key, group and common labels, alerts with status,
//! labels, times, fingerprints) with `dispatch::simulate_deliveries` fed the same POSTs: inhibition and its
//! release, resolution with and without send_resolved, mute and active time intervals, repeats. Only loopback
//! addresses are ever used.
//!
//! The binary is required: without it the test fails and says how to install it.

use ruletest::alertmanager::alert::Alert;
use ruletest::alertmanager::config::Config;
use ruletest::alertmanager::dispatch::simulate_deliveries;
use ruletest::alertmanager::notify::{json_time, webhook_payload, NotificationData};
use ruletest::alertmanager::sender::Delivery;
use ruletest::alertmanager::LabelSet;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn alertmanager_binary() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join("prometheus-alertmanager");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "prometheus-alertmanager not found on PATH: install Debian's prometheus-alertmanager \
         (`apt-get install -y prometheus-alertmanager`); this reference test does not skip"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Kills the Alertmanager this test started, whatever happens.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads one HTTP/1.1 request (headers + Content-Length body) and answers 200.
fn serve_one(mut stream: TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l
            .to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().to_string())
        {
            len = v.parse().ok()?;
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    String::from_utf8(body).ok()
}

fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let code = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, out))
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn post(port: u16, sends: &mut Vec<Delivery>, alerts: &[(LabelSet, i64, i64)]) {
    let at = now_ms();
    let body: Vec<serde_json::Value> = alerts
        .iter()
        .map(|(l, starts, ends)| {
            serde_json::json!({
                "labels": l,
                "annotations": {"summary": "test"},
                "startsAt": json_time(Some(*starts)),
                "endsAt": json_time(Some(*ends)),
                "generatorURL": "http://127.0.0.1/graph",
            })
        })
        .collect();
    let (code, resp) = http(
        port,
        "POST",
        "/api/v2/alerts",
        &serde_json::Value::Array(body).to_string(),
    )
    .expect("POST /api/v2/alerts");
    assert_eq!(code, 200, "{resp}");
    for (l, starts, ends) in alerts {
        sends.push(Delivery {
            at,
            alert: Alert {
                labels: l.clone(),
                annotations: labels(&[("summary", "test")]),
                starts_at: *starts,
                ends_at: Some(*ends),
                generator_url: "http://127.0.0.1/graph".into(),
                updated_at: at,
                timeout: false,
            },
        });
    }
}

/// The parts of a webhook body that must agree, grouped per group key in arrival order.
fn by_group(bodies: &[serde_json::Value]) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut out: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for b in bodies {
        let mut b = b.clone();
        if let Some(o) = b.as_object_mut() {
            o.remove("externalURL");
        }
        let key = b["groupKey"].as_str().unwrap_or("").to_string();
        out.entry(key).or_default().push(b);
    }
    out
}

const CONFIG: &str = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['team="mail"']
      receiver: quiet.team
    - matchers: ['team="night"']
      mute_time_intervals: [always]
    - matchers: ['team="past"']
      active_time_intervals: [last-century]
time_intervals:
  - name: always
    time_intervals: [{times: [{start_time: '00:00', end_time: '24:00'}]}]
  - name: last-century
    time_intervals: [{years: ['1999']}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
receivers:
  - name: hook
    webhook_configs:
      - url: 'http://127.0.0.1:WEBHOOK_PORT/hook'
  - name: quiet.team
    webhook_configs:
      - url: 'http://127.0.0.1:WEBHOOK_PORT/quiet'
        send_resolved: false
"#;

/// A running Alertmanager with a webhook listener.
struct Harness {
    _am: Running,
    _dir: tempfile::TempDir,
    port: u16,
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    config: Config,
}

/// Starts Alertmanager for `config_template` (WEBHOOK_PORT replaced by the listener's port).
fn start(config_template: &str) -> Harness {
    let binary = alertmanager_binary();
    let dir = tempfile::tempdir().unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_port = listener.local_addr().unwrap().port();
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::new(Mutex::new(Vec::new()));
    {
        let received = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(body) = serve_one(stream) {
                    if let Ok(v) = serde_json::from_str(&body) {
                        received.lock().unwrap().push(v);
                    }
                }
            }
        });
    }

    let config_text = config_template.replace("WEBHOOK_PORT", &hook_port.to_string());
    let config_path = dir.path().join("am.yml");
    std::fs::write(&config_path, &config_text).unwrap();
    let config = match ruletest::project::inputs::alertmanager_from_text("am.yml", &config_text) {
        Ok(ruletest::project::inputs::AlertmanagerFile::Config {
            config, warnings, ..
        }) if warnings.is_empty() => *config,
        _ => panic!("the scenario's config does not load cleanly"),
    };

    let port = free_port();
    let am = Running(
        Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
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
            .expect("start prometheus-alertmanager"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(http(port, "GET", "/-/ready", ""), Some((200, _))) {
        assert!(
            Instant::now() < deadline,
            "Alertmanager did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Harness {
        _am: am,
        _dir: dir,
        port,
        received,
        config,
    }
}

/// Compares what the webhooks received with the simulator's prediction for the same POSTs.
fn compare(h: &Harness, sends: &[Delivery], from: i64, to: i64) -> Vec<serde_json::Value> {
    let got = h.received.lock().unwrap().clone();
    let sim = simulate_deliveries(&h.config, sends, from, to);
    let want: Vec<serde_json::Value> = sim
        .notifications
        .iter()
        .map(|n| webhook_payload(&NotificationData::from_notification(n, ""), 0))
        .collect();
    assert!(!want.is_empty(), "the simulator predicted no notification");
    let summary = |v: &[serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|b| {
                let alerts: Vec<String> = b["alerts"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| format!("{}:{}", x["labels"], x["status"]))
                            .collect()
                    })
                    .unwrap_or_default();
                format!("{} {}", b["groupKey"], alerts.join(" "))
            })
            .collect()
    };
    eprintln!(
        "from {from} to {to}\nAlertmanager: {:#?}\nsimulator: {:#?}\nsimulated flushes at: {:?}",
        summary(&got),
        summary(&want),
        sim.notifications
            .iter()
            .map(|n| n.at - from)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        serde_json::to_string_pretty(&by_group(&got)).unwrap(),
        serde_json::to_string_pretty(&by_group(&want)).unwrap(),
        "webhook bodies (left: Alertmanager, right: simulator)"
    );
    got
}

#[test]
fn inhibition_release_and_resolution_match_alertmanager() {
    let h = start(CONFIG);
    let mut sends = Vec::new();
    let t0 = now_ms();
    let hour = 3_600_000;
    let crit = labels(&[("alertname", "Down"), ("severity", "critical")]);
    let warn = labels(&[("alertname", "Down"), ("severity", "warning")]);
    let other = labels(&[("alertname", "Other"), ("severity", "warning")]);
    let mail = labels(&[("alertname", "Mail"), ("team", "mail")]);
    // Routed to a muted route and to a route outside its active interval: nothing may be sent for them.
    let night = labels(&[("alertname", "Night"), ("team", "night")]);
    let past = labels(&[("alertname", "Past"), ("team", "past")]);
    // t0: critical + warning of the same alertname (warning inhibited), an unrelated warning, a mail alert.
    post(
        h.port,
        &mut sends,
        &[
            (crit.clone(), t0, t0 + hour),
            (warn.clone(), t0, t0 + hour),
            (other.clone(), t0, t0 + hour),
            (mail.clone(), t0, t0 + hour),
            (night, t0, t0 + hour),
            (past, t0, t0 + hour),
        ],
    );
    // Between the first flush (~1s) and the second (~3s): the critical resolves, releasing the warning;
    // the mail alert resolves too (its receiver has send_resolved: false, so only the log learns it).
    std::thread::sleep(Duration::from_millis(2000));
    let t1 = now_ms();
    post(h.port, &mut sends, &[(crit, t0, t1), (mail, t0, t1)]);
    std::thread::sleep(Duration::from_millis(3500));
    let got = compare(&h, &sends, t0, now_ms());
    // The scenario must have exercised a resolved notification.
    let texts = serde_json::to_string(&got).unwrap();
    assert!(texts.contains("\"resolved\""), "{texts}");
    assert_eq!(got.len(), 4, "{texts}");
}

#[test]
fn repeat_goes_out_on_the_first_tick_after_repeat_interval() {
    let h = start(
        "route:\n  receiver: hook\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1s500ms\nreceivers:\n  - name: hook\n    webhook_configs: [{url: 'http://127.0.0.1:WEBHOOK_PORT/'}]\n",
    );
    let mut sends = Vec::new();
    let t0 = now_ms();
    post(
        h.port,
        &mut sends,
        &[(labels(&[("alertname", "Flappy")]), t0, t0 + 3_600_000)],
    );
    // Flushes at ~1s, 2s, 3s, 4s, 5s; a repeat needs the last notification older than 1.5s: notifications
    // at 1s, 3s and 5s. (A repeat_interval equal to group_interval is left out: real Alertmanager compares
    // wall-clock times there and the outcome depends on milliseconds of scheduling.)
    std::thread::sleep(Duration::from_millis(5500));
    let got = compare(&h, &sends, t0, now_ms());
    assert_eq!(got.len(), 3);
}
