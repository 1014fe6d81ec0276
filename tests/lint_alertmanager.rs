//! The Alertmanager and rules x Alertmanager lints through the real binary: what they report on the Chat2SQL
//! config (rules/), and one failing case per check (fixtures/lint/alertmanager/fail.yaml) next to its fixed twin.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Exit status, JSON diagnostics and the human output of `ruletest check <path>`.
fn check(path: &str) -> (i32, Vec<Value>, String) {
    assert!(root().join(path).exists(), "{path} is missing");
    let run = |format: &str| {
        Command::cargo_bin("ruletest")
            .unwrap()
            .current_dir(root())
            .args(["check", "--format", format, path])
            .output()
            .unwrap()
    };
    let json = run("json");
    let v: Value = serde_json::from_slice(&json.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json.stdout)));
    let human = String::from_utf8_lossy(&run("human").stdout).into_owned();
    (
        json.status.code().expect("ruletest was killed by a signal"),
        v["diagnostics"].as_array().unwrap().clone(),
        human,
    )
}

const FAMILIES: [&str; 2] = ["alertmanager/", "routing/"];

/// `(code, line)` of the Alertmanager and routing diagnostics, in output order.
fn am_findings(d: &[Value]) -> Vec<(String, u64)> {
    d.iter()
        .filter(|d| {
            FAMILIES
                .iter()
                .any(|f| d["code"].as_str().unwrap().starts_with(f))
        })
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(c, l)| (c.to_string(), *l)).collect()
}

#[test]
fn chat2sql_config_gets_exactly_these_findings() {
    let (code, d, human) = check("rules/");
    assert_eq!(code, 0, "warnings and notes keep exit status 0: {d:?}");
    let mut got = am_findings(&d);
    got.sort();
    let mut want = pairs(&[
        // smtp_auth_password, the web.hook webhook url, three Slack api_urls, the PagerDuty service_key.
        ("alertmanager/plaintext-secret", 15),
        ("alertmanager/plaintext-secret", 55),
        ("alertmanager/plaintext-secret", 72),
        ("alertmanager/plaintext-secret", 77),
        ("alertmanager/plaintext-secret", 87),
        ("alertmanager/plaintext-secret", 98),
        // The three `match:` routes, and the inhibit rule's source_match and target_match.
        ("alertmanager/deprecated-match", 26),
        ("alertmanager/deprecated-match", 32),
        ("alertmanager/deprecated-match", 38),
        ("alertmanager/deprecated-match", 45),
        ("alertmanager/deprecated-match", 47),
        // The four warnings (backend, database, resources x2) match no child route: root `receiver:` line.
        ("routing/default-receiver-only", 23),
        ("routing/default-receiver-only", 23),
        ("routing/default-receiver-only", 23),
        ("routing/default-receiver-only", 23),
        // No alertname comes with both severities: the critical -> warning inhibition never applies.
        ("routing/inhibit-never-matches", 45),
        // security-team: no component=security alert; infrastructure-team: PodCrashLooping is taken by the
        // critical route first.
        ("routing/unreachable-receiver", 81),
        ("routing/unreachable-receiver", 92),
    ]);
    want.sort();
    assert_eq!(got, want);
    for x in d.iter().filter(|x| {
        FAMILIES
            .iter()
            .any(|f| x["code"].as_str().unwrap().starts_with(f))
    }) {
        assert_eq!(x["file"], "rules/alertmanager-config.yaml", "{x}");
        assert!(x["help"].as_str().is_some_and(|h| !h.is_empty()), "{x}");
        let want = if x["code"] == "routing/default-receiver-only" {
            "info"
        } else {
            "warning"
        };
        assert_eq!(x["severity"], want, "{x}");
    }
    // Secret values never reach the output.
    for secret in [
        "smtp-password",
        "YOUR/SLACK/WEBHOOK",
        "your-pagerduty-service-key",
        "webhook-service:8080",
    ] {
        assert!(!human.contains(secret), "{secret} leaked:\n{human}");
    }
    // The reasons the brief names, in the user's words.
    assert!(human.contains("`PodCrashLooping` matches route {component=\"kubernetes\"} (line 38), but the earlier route {severity=\"critical\"} (line 26) takes it first"), "{human}");
    assert!(
        human
            .contains("receiver `security-team` is reached by none of the 6 loaded alerting rules"),
        "{human}"
    );
    assert!(
        human.contains("never carry the same `alertname`"),
        "{human}"
    );
    assert!(
        human.contains("write `matchers: ['severity=\"critical\"']`"),
        "{human}"
    );
}

#[test]
fn each_check_fails_its_fixture_once_at_its_line() {
    let (code, d, _) = check("fixtures/lint/alertmanager/fail.yaml");
    assert_eq!(code, 0, "{d:?}");
    assert_eq!(
        am_findings(&d),
        pairs(&[
            ("alertmanager/plaintext-secret", 7),
            ("routing/default-receiver-only", 9),
            ("routing/group-by-missing-label", 10),
            ("alertmanager/unreachable-route", 16),
            ("alertmanager/deprecated-match", 18),
            ("alertmanager/timing-order", 20),
            ("alertmanager/inhibit-never-applies", 22),
            ("routing/inhibit-never-matches", 24),
            ("routing/unreachable-receiver", 33),
            ("alertmanager/unused-receiver", 34),
            ("alertmanager/template-file", 35),
        ])
    );
    // Every Alertmanager and routing check of the catalogue is exercised here.
    let codes: Vec<&str> = ruletest::lint::all_checks()
        .iter()
        .map(|c| c.code())
        .filter(|c| FAMILIES.iter().any(|f| c.starts_with(f)))
        .collect();
    assert_eq!(codes.len(), 11);
    for c in codes {
        assert!(
            am_findings(&d).iter().any(|(g, _)| g == c),
            "{c} not exercised"
        );
    }
    let secret = d
        .iter()
        .find(|x| x["code"] == "alertmanager/plaintext-secret")
        .unwrap();
    assert!(
        !secret.to_string().contains("not-a-real-password"),
        "{secret}"
    );
}

#[test]
fn routing_checks_need_rules_loaded_with_the_config() {
    let (code, d, _) = check("rules/alertmanager-config.yaml");
    assert_eq!(code, 0);
    let codes: std::collections::BTreeSet<String> =
        am_findings(&d).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        vec![
            "alertmanager/deprecated-match".to_string(),
            "alertmanager/plaintext-secret".to_string()
        ]
    );
}

#[test]
fn the_fixed_twin_passes() {
    let (code, d, _) = check("fixtures/lint/alertmanager/pass.yaml");
    assert_eq!(code, 0);
    assert!(d.is_empty(), "{d:?}");
}
