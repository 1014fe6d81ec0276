//! Reference test: `ruletest routes` against `amtool` (Debian's prometheus-alertmanager, 0.25) on the same
//! configs and generated label sets. Output must be byte-identical: receivers, `--tree`, `--verify.receivers`
//! exit status, and the full route tree.
//!
//! amtool is required: without it the test fails and says how to install it (CI installs it).

use assert_cmd::Command;
use std::path::PathBuf;
use std::process::Command as Process;

fn fixture(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/alertmanager")
        .join(name);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p
}

fn amtool() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join("amtool");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "amtool not found on PATH: install Debian's prometheus-alertmanager \
         (`apt-get install -y prometheus-alertmanager`); this reference test does not skip"
    );
}

/// Deterministic generator (xorshift64*) so a failure can be reproduced.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Label sets over a vocabulary: each label absent ("-") or one of its values.
fn label_sets(vocab: &[(&str, &[&str])], n: usize, seed: u64) -> Vec<Vec<String>> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            vocab
                .iter()
                .filter_map(|(k, vs)| {
                    let v = rng.pick(vs);
                    (v != "-").then(|| format!("{k}={v}"))
                })
                .collect()
        })
        .collect()
}

struct Outcome {
    stdout: String,
    code: i32,
}

fn run_amtool(args: &[String]) -> Outcome {
    let out = Process::new(amtool())
        .args(args)
        .output()
        .expect("amtool runs");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn run_ruletest(args: &[String]) -> Outcome {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn compare(config: &str, vocab: &[(&str, &[&str])], n: usize, seed: u64) -> usize {
    let path = fixture(config);
    let path_s = path.display().to_string();
    // The whole tree first.
    let a = run_amtool(&[
        "config".into(),
        "routes".into(),
        format!("--config.file={path_s}"),
    ]);
    let r = run_ruletest(&[
        "routes".into(),
        "tree".into(),
        "--config".into(),
        path_s.clone(),
    ]);
    assert_eq!(a.code, 0, "amtool failed on {config}");
    assert_eq!(r.stdout, a.stdout, "route tree of {config}");

    let mut distinct = std::collections::BTreeSet::new();
    for (i, labels) in label_sets(vocab, n, seed).into_iter().enumerate() {
        let mut am: Vec<String> = vec![
            "config".into(),
            "routes".into(),
            "test".into(),
            format!("--config.file={path_s}"),
        ];
        let mut rt: Vec<String> = vec![
            "routes".into(),
            "test".into(),
            "--config".into(),
            path_s.clone(),
        ];
        // Every fifth case also draws the matching tree; every seventh verifies a wrong expectation.
        if i % 5 == 0 {
            am.push("--tree".into());
            rt.push("--tree".into());
        }
        if i % 7 == 0 {
            am.push("--verify.receivers=nobody".into());
            rt.push("--verify.receivers=nobody".into());
        }
        am.extend(labels.iter().cloned());
        rt.extend(labels.iter().cloned());
        let a = run_amtool(&am);
        let r = run_ruletest(&rt);
        assert_eq!(r.stdout, a.stdout, "{config} {labels:?}");
        assert_eq!(r.code, a.code, "exit status, {config} {labels:?}");
        distinct.insert(a.stdout.lines().last().unwrap_or("").to_string());
    }
    distinct.len()
}

#[test]
fn chat2sql_routes_like_amtool() {
    let vocab: &[(&str, &[&str])] = &[
        ("alertname", &["HighLatency", "Chat2SQLDown", "-"]),
        ("severity", &["critical", "warning", "info", "-"]),
        ("component", &["kubernetes", "security", "database", "-"]),
        ("service", &["chat2sql-api", "postgres", "-"]),
    ];
    let distinct = compare("chat2sql.yml", vocab, 80, 0x9e37_79b9_7f4a_7c15);
    // The generated sets must exercise every route, not just the default.
    assert!(distinct >= 4, "only {distinct} distinct outcomes");
}

#[test]
fn nested_tree_with_continue_routes_like_amtool() {
    let vocab: &[(&str, &[&str])] = &[
        ("env", &["prod", "staging", "dev", "-"]),
        ("team", &["db", "frontend", "web", "ops", "-"]),
        ("severity", &["critical", "warning", "info", "none", "-"]),
        ("service", &["pgbouncer", "mysql-main", "redis", "-"]),
        ("alertname", &["Watchdog", "DiskFull", "-"]),
    ];
    let distinct = compare("nested.yml", vocab, 120, 0x1234_5678_9abc_def1);
    assert!(distinct >= 10, "only {distinct} distinct outcomes");
}

#[test]
fn matcher_lists_route_like_amtool() {
    let vocab: &[(&str, &[&str])] = &[
        ("region", &["eu west", "us-east", "eu-central", "apac", "-"]),
        ("tier", &["backend", "frontend", "frontdoor", "", "-"]),
        ("owner", &["ops", "dev", "", "-"]),
        ("alertname", &["DiskFull", "MemoryHigh", "CPUHigh", "-"]),
        ("host", &["db-12", "db-x", "db-\u{663}", "-"]),
    ];
    let distinct = compare("matchers.yml", vocab, 120, 0x0bad_cafe_f00d_beef);
    assert!(distinct >= 8, "only {distinct} distinct outcomes");
}

#[test]
fn configmap_routes_like_the_plain_file() {
    // The ConfigMap form of the Chat2SQL config must route exactly as amtool routes the plain file.
    let plain = fixture("chat2sql.yml");
    let text = std::fs::read_to_string(&plain).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cm = dir.path().join("cm.yaml");
    let indented: String = text.lines().map(|l| format!("    {l}\n")).collect();
    std::fs::write(
        &cm,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: am}}\ndata:\n  alertmanager.yml: |\n{indented}"),
    )
    .unwrap();
    for labels in [
        vec!["severity=critical", "component=kubernetes"],
        vec!["component=security"],
        vec!["component=kubernetes", "severity=warning"],
        vec![],
    ] {
        let mut am = vec![
            "config".to_string(),
            "routes".into(),
            "test".into(),
            format!("--config.file={}", plain.display()),
        ];
        let mut rt = vec![
            "routes".to_string(),
            "test".into(),
            "--config".into(),
            cm.display().to_string(),
        ];
        am.extend(labels.iter().map(|s| s.to_string()));
        rt.extend(labels.iter().map(|s| s.to_string()));
        assert_eq!(
            run_ruletest(&rt).stdout,
            run_amtool(&am).stdout,
            "{labels:?}"
        );
    }
}

/// Configs with one mistake each: `amtool check-config` and our loader must report the same message.
#[test]
fn validation_messages_match_amtool_check_config() {
    let cases = [
        "route: {receiver: x}\nreceivers: [{name: y}]\n",
        "route: {receiver: x, continue: true}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, matchers: [a=b]}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, mute_time_intervals: [a]}\nreceivers: [{name: x}]\ntime_intervals: [{name: a}]\n",
        "route: {group_wait: 1s}\nreceivers: [{name: x}]\n",
        "route: {receiver: x}\nreceivers: [{name: x}, {name: x}]\n",
        "route: {receiver: x, group_by: [a, '...']}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, group_by: [a, a]}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, group_interval: 0s}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, repeat_interval: 0s}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, group_wait: 5x}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, routes: [{active_time_intervals: [nope]}]}\nreceivers: [{name: x}]\n",
        "route: {receiver: x}\nreceivers: [{}]\n",
        "route: {receiver: x}\ntime_intervals: [{name: a}, {name: a}]\nreceivers: [{name: x}]\n",
        "route: {receiver: x}\nmute_time_intervals: [{name: a}]\ntime_intervals: [{name: a}]\nreceivers: [{name: x}]\n",
        // (`match: {'a-b': x}` is left out: 0.25 refuses it, Alertmanager 0.27+ accepts UTF-8 label names
        // and ruletest follows the newer behaviour with a warning.)
        "route: {receiver: x, routes: [{matchers: ['a b']}]}\nreceivers: [{name: x}]\n",
        "route: {receiver: x, routes: [{matchers: ['a=\"b\"c']}]}\nreceivers: [{name: x}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, email_configs: [{to: a@b}]}]\n",
        "route: {receiver: x}\nglobal: {smtp_smarthost: 'h:25'}\nreceivers: [{name: x, email_configs: [{to: a@b}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, slack_configs: [{channel: a}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, pagerduty_configs: [{}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, opsgenie_configs: [{}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, pushover_configs: [{token: t}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, victorops_configs: [{routing_key: r}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, wechat_configs: [{corp_id: c}]}]\n",
        "receivers: [{name: x}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, slack_configs: [{api_url: 'http://a/', api_url_file: /x, channel: a}]}]\n",
        "route: {receiver: x}\nglobal: {slack_api_url: 'http://a/', slack_api_url_file: /x}\nreceivers: [{name: x}]\n",
        "route: {receiver: x}\nglobal: {smtp_auth_password: a, smtp_auth_password_file: /x}\nreceivers: [{name: x}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, pagerduty_configs: [{routing_key: a, routing_key_file: /x}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, opsgenie_configs: [{api_key: a, api_key_file: /x}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{url: 'http://a/', http_config: {basic_auth: {username: a, password: b}, bearer_token: c}}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{url: 'http://a/', http_config: {basic_auth: {username: a, password: b, password_file: /x}}}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{url: 'ftp://a/'}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{url: notaurl}]}]\n",
        "route: {receiver: x}\nreceivers: [{name: x, slack_configs: [{api_url: notaurl}]}]\n",
    ];
    let intervals = [
        "weekdays: [funday]",
        "weekdays: ['friday:monday']",
        "times: [{start_time: '10:00', end_time: '09:00'}]",
        "times: [{start_time: '10:00'}]",
        "times: [{start_time: '25:00', end_time: '26:00'}]",
        "times: [{start_time: '1000', end_time: '11:00'}]",
        "times: [{start_time: '9:00', end_time: '10:00'}]",
        "times: [{start_time: '23:00', end_time: '24:01'}]",
        "days_of_month: ['0']",
        "days_of_month: ['-32']",
        "days_of_month: ['5:1']",
        "days_of_month: ['-1:-5']",
        "days_of_month: ['-3:5']",
        "months: ['foo']",
        "months: ['march:january']",
        "years: ['2020:2019']",
        "years: ['abc']",
        "location: 'Mars/Olympus'",
    ];
    let interval_cases: Vec<String> = intervals
        .iter()
        .map(|i| {
            format!("route: {{receiver: x}}\nreceivers: [{{name: x}}]\ntime_intervals:\n  - name: t\n    time_intervals:\n      - {i}\n")
        })
        .collect();
    let cases: Vec<&str> = cases
        .iter()
        .copied()
        .chain(interval_cases.iter().map(String::as_str))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let failed = regex::Regex::new(r"FAILED: (.*)").unwrap();
    for (i, src) in cases.iter().enumerate() {
        let f = dir.path().join(format!("c{i}.yml"));
        std::fs::write(&f, src).unwrap();
        let out = Process::new(amtool())
            .arg("check-config")
            .arg(&f)
            .output()
            .expect("amtool runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let want = failed
            .captures(&text)
            .map(|c| c[1].trim().to_string())
            .unwrap_or_else(|| panic!("amtool accepted {src:?}: {text}"));
        let diags = match ruletest::project::inputs::alertmanager_from_text("c.yml", src) {
            Ok(ruletest::project::inputs::AlertmanagerFile::Errors { errors, .. }) => errors,
            _ => panic!("{src:?} was accepted"),
        };
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        // Alertmanager stops at its first error; we report them all, so its message must be among ours.
        assert!(
            msgs.contains(&want.as_str()),
            "{src:?}: amtool {want:?}, ours {msgs:?}"
        );
    }
}

/// Fields Alertmanager added after 0.25 (tests/data/alertmanager-versions/newer-fields.yml): amtool 0.25 refuses
/// the configuration at exactly the lines where `check --alertmanager-version 0.25` reports
/// `alertmanager/newer-field`, naming the same keys; without the flag (or for 0.31) the file is accepted.
#[test]
fn newer_fields_are_the_ones_amtool_0_25_refuses() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/alertmanager-versions/newer-fields.yml");
    let out = std::process::Command::new(amtool())
        .arg("check-config")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // `  line 4: field slack_app_url not found in type config.plain`
    let refused: Vec<(u32, String)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("line ")?;
            let (line, rest) = rest.split_once(": field ")?;
            let key = rest.strip_suffix(" not found in type config.plain")?;
            Some((line.parse().ok()?, key.to_string()))
        })
        .collect();
    assert_eq!(refused.len(), 7, "{text}");
    let check = |args: &[&str]| {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .arg("check")
            .args(args)
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    for args in [&[][..], &["--alertmanager-version", "0.31"]] {
        let (code, text) = check(args);
        assert_eq!(code, Some(0), "{args:?}: {text}");
        assert!(!text.contains("[alertmanager/newer-field]"), "{text}");
    }
    let (code, ours) = check(&["--alertmanager-version", "0.25"]);
    assert_eq!(code, Some(1), "{ours}");
    // `newer-fields.yml:4:3: error[alertmanager/newer-field] `slack_app_url` in global needs ...`
    let warned: Vec<(u32, String)> = ours
        .lines()
        .filter(|l| l.contains("error[alertmanager/newer-field]"))
        .filter_map(|l| {
            let (_, pos) = l.split_once("newer-fields.yml:")?;
            let line = pos.split(':').next()?.parse().ok()?;
            let key = l.split('`').nth(1)?.to_string();
            Some((line, key))
        })
        .collect();
    assert_eq!(warned, refused, "{ours}");
}
