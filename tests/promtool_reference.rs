//! Reference check: promtool 2.42 (Debian's `prometheus` package, installed by .ci/run) and ruletest give the
//! same verdict for every test group of the project's own suites. promtool rejects PrometheusRule objects, so
//! the test unwraps `spec` into a plain rule file first, and runs each test group on its own so verdicts can be
//! compared group by group.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn promtool() -> PathBuf {
    let p = PathBuf::from("/usr/bin/promtool");
    assert!(
        p.exists(),
        "promtool not found: install Debian's `prometheus` package (apt-get install prometheus); .ci/run does this"
    );
    p
}

/// `promtool test rules file` (2.42) passes.
fn promtool_test_passes(file: &Path) {
    let p = std::process::Command::new(promtool())
        .args(["test", "rules"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        p.status.success(),
        "promtool 2.42 fails {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&p.stderr)
    );
}

/// `ruletest test --semantics <semantics> file`: exit status and standard output.
fn ruletest_test(file: &Path, semantics: &str) -> (Option<i32>, String) {
    let r = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["test", "--semantics", semantics])
        .arg(file)
        .output()
        .unwrap();
    (
        r.status.code(),
        String::from_utf8_lossy(&r.stdout).into_owned(),
    )
}

/// The PrometheusRule's `spec` as a plain rule file (the spec holds `groups:` indented by two spaces).
fn unwrap_prometheus_rule(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("spec:") {
            inside = true;
            continue;
        }
        if inside {
            out.push_str(line.strip_prefix("  ").unwrap_or(line));
            out.push('\n');
        }
    }
    out
}

/// Splits a test file into one file per test group: the header (everything before `tests:`) and each `- name:`
/// item of the list.
fn split_groups(text: &str) -> (String, Vec<(String, String)>) {
    let (header, tests) = text.split_once("\ntests:\n").expect("a tests: list");
    let mut groups: Vec<(String, String)> = Vec::new();
    for line in tests.lines() {
        if let Some(name) = line.strip_prefix("  - name: ") {
            groups.push((name.trim_matches('"').to_string(), String::new()));
        }
        if let Some((_, body)) = groups.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    (header.to_string(), groups)
}

fn verdicts(suite: &str) -> Vec<(String, bool, bool)> {
    let dir = tempfile::tempdir().unwrap();
    let rules =
        std::fs::read_to_string(root().join("rules/chat2sql-prometheus-rules.yaml")).unwrap();
    std::fs::write(dir.path().join("rules.yml"), unwrap_prometheus_rule(&rules)).unwrap();
    let text = std::fs::read_to_string(root().join("tests/rules").join(suite)).unwrap();
    let text = text.replace("../../rules/chat2sql-prometheus-rules.yaml", "rules.yml");
    let (header, groups) = split_groups(&text);
    assert!(!groups.is_empty());
    let mut out = Vec::new();
    for (i, (name, body)) in groups.iter().enumerate() {
        let file = dir.path().join(format!("g{i}.test.yml"));
        std::fs::write(&file, format!("{header}\ntests:\n{body}")).unwrap();
        let p = std::process::Command::new(promtool())
            .args(["test", "rules"])
            .arg(&file)
            .output()
            .unwrap();
        let r = Command::cargo_bin("ruletest")
            .unwrap()
            .arg("test")
            .arg(&file)
            .output()
            .unwrap();
        let ruletest_code = r.status.code().unwrap();
        // Prometheus 2 semantics gives promtool 2.42's verdict too (the suites avoid the 2/3 differences,
        // so both semantics agree with it).
        let r2 = Command::cargo_bin("ruletest")
            .unwrap()
            .args(["test", "--semantics", "2"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            r2.status.success(),
            p.status.success(),
            "--semantics 2 disagrees with promtool 2.42 on {name}:\n{}",
            String::from_utf8_lossy(&r2.stdout)
        );
        assert!(
            ruletest_code == 0 || ruletest_code == 1,
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        out.push((name.clone(), p.status.success(), ruletest_code == 0));
        if p.status.success() != (ruletest_code == 0) {
            eprintln!(
                "disagreement on {name}:\npromtool:\n{}{}\nruletest:\n{}",
                String::from_utf8_lossy(&p.stdout),
                String::from_utf8_lossy(&p.stderr),
                String::from_utf8_lossy(&r.stdout)
            );
        }
    }
    out
}

#[test]
fn promtool_agrees_on_the_chat2sql_suite() {
    let v = verdicts("chat2sql.test.yml");
    assert_eq!(v.len(), 6);
    for (name, promtool, ruletest) in &v {
        assert_eq!(promtool, ruletest, "verdicts differ on {name}");
        assert!(ruletest, "{name} should pass");
    }
}

#[test]
fn promtool_agrees_on_the_failing_suite() {
    let v = verdicts("failing.test.yml");
    let got: Vec<(&str, bool)> = v.iter().map(|(n, p, _)| (n.as_str(), *p)).collect();
    for (name, promtool, ruletest) in &v {
        assert_eq!(promtool, ruletest, "verdicts differ on {name}");
    }
    assert_eq!(
        got,
        vec![
            ("wrong annotation and a missing alert", false),
            ("alert expected before its for has elapsed", false),
            ("wrong sample value", false),
            ("this one passes", true)
        ]
    );
}

/// More evaluations than Prometheus's HTTP API answers in one query (14,460 ticks): promtool evaluates them tick
/// by tick, ruletest in pieces; both must pass the same expectations.
#[test]
fn promtool_agrees_on_the_long_window_suite() {
    let v = verdicts("long-window.test.yml");
    assert_eq!(v.len(), 1);
    for (name, promtool, ruletest) in &v {
        assert_eq!(promtool, ruletest, "verdicts differ on {name}");
        assert!(ruletest, "{name} should pass");
    }
}

#[test]
fn unwrapping_keeps_the_groups() {
    let rules =
        std::fs::read_to_string(root().join("rules/chat2sql-prometheus-rules.yaml")).unwrap();
    let plain = unwrap_prometheus_rule(&rules);
    assert!(plain.starts_with("groups:"), "{plain}");
    assert!(Path::new(&root().join("rules")).is_dir());
}

/// `@ start()` / `@ end()` in rules and `@` inside subqueries (tests/data/at-modifier): promtool 2.42 passes
/// the suite, and so does ruletest under both semantics. Before, rule evaluation pinned `@ start()` to the
/// first tick of the whole window and decided the subquery quirk once for all ticks.
#[test]
fn promtool_agrees_on_at_modifiers_in_rules() {
    let file = root().join("tests/data/at-modifier/at.test.yml");
    let p = std::process::Command::new(promtool())
        .args(["test", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        p.status.success(),
        "promtool 2.42 fails the suite:\n{}{}",
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&p.stderr)
    );
    for semantics in ["2", "3"] {
        let r = Command::cargo_bin("ruletest")
            .unwrap()
            .args(["test", "--semantics", semantics])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            r.status.code(),
            Some(0),
            "semantics {semantics}:\n{}{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
    }
}

/// `promtool check rules` (2.42) and `ruletest check --semantics 2` refuse the same `count` lines of `file`
/// with the same messages, at the positions promtool gives where it gives one; `ruletest check` (Prometheus 3)
/// accepts the file.
fn check_refusals_agree(file: &Path, count: usize) {
    let p = std::process::Command::new(promtool())
        .args(["check", "rules"])
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(p.status.code(), Some(1));
    let promtool = String::from_utf8_lossy(&p.stderr).into_owned();
    let base = format!("{}: ", file.file_name().unwrap().to_string_lossy());
    // `rules.yml: 6:17: group "otel", ...` or `rules.yml: group "otel", ...`.
    let refusals: Vec<(Option<String>, String)> = promtool
        .lines()
        .filter_map(|l| l.split_once(&base).map(|(_, rest)| rest))
        .map(|l| match l.split_once(": group ") {
            Some((pos, rest)) => (Some(pos.to_string()), format!("group {rest}")),
            None => (None, l.to_string()),
        })
        .collect();
    assert_eq!(refusals.len(), count, "{promtool}");
    let r = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["check", "--semantics", "2"])
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let ours = String::from_utf8_lossy(&r.stdout).into_owned();
    let errors: Vec<&str> = ours.lines().filter(|l| l.contains(": error[")).collect();
    assert_eq!(errors.len(), count, "{ours}");
    for (pos, message) in &refusals {
        let line = errors
            .iter()
            .find(|l| l.ends_with(&format!("] {message}")))
            .unwrap_or_else(|| panic!("ruletest does not say {message:?}:\n{ours}"));
        if let Some(pos) = pos {
            let at = format!("{}:{pos}: ", base.trim_end_matches(": "));
            assert!(line.contains(&at), "{line} at {pos}");
        }
    }
    let r = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("check")
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
}

/// UTF-8 metric and label names (tests/data/legacy-names): Prometheus 3 reads the rule file; promtool 2.42
/// refuses four of its lines, and so does `ruletest check --semantics 2`.
#[test]
fn promtool_agrees_on_legacy_names() {
    check_refusals_agree(&root().join("tests/data/legacy-names/rules.yml"), 4);
}

/// Template functions Prometheus 3 added (`now`, `toDuration`, `urlQueryEscape`) are unknown to 2.42's rule
/// loader, and to `ruletest check --semantics 2`.
#[test]
fn promtool_agrees_on_new_template_functions() {
    check_refusals_agree(
        &root().join("tests/data/template-functions/new-functions.yml"),
        3,
    );
}

/// `title` and `parseDuration` expand as 2.42 expands them under `--semantics 2` (promtool passes the suite,
/// whose expected annotations include a template error), and as 3.x does by default.
#[test]
fn promtool_agrees_on_template_expansion() {
    let file = root().join("tests/data/template-functions/2.test.yml");
    promtool_test_passes(&file);
    let run = |semantics: &str| ruletest_test(&file, semantics);
    assert_eq!(run("2").0, Some(0), "{}", run("2").1);
    let (code, three) = run("3");
    assert_eq!(code, Some(1));
    assert!(
        three.contains(r#"+ {alertname="Titled", severity="info"} annotations {ahead="5400", back="-300", summary="Don't Panic: It's Fine, Ünïcode Ok"}"#),
        "{three}"
    );
}

/// The shipped example's one change from Prometheus 2 to 3 (docs/semantics.md): over
/// fixtures/chat2sql/sql-latency.yml, `HighSQLQueryLatency` goes pending at 11:00:30 and fires at 11:02:30 under
/// promtool 2.42 and `--semantics 2`, 30 s earlier under Prometheus 3 (`migrate-report` names closed-windows).
#[test]
fn promtool_agrees_on_the_shipped_examples_migration_change() {
    let dir = tempfile::tempdir().unwrap();
    let rules =
        std::fs::read_to_string(root().join("rules/chat2sql-prometheus-rules.yaml")).unwrap();
    std::fs::write(dir.path().join("rules.yml"), unwrap_prometheus_rule(&rules)).unwrap();
    let fixture =
        std::fs::read_to_string(root().join("fixtures/chat2sql/sql-latency.yml")).unwrap();
    let (_, series) = fixture.split_once("input_series:\n").unwrap();
    let alerts = |at: &str, state: &str| {
        format!(
            "      - expr: ALERTS{{alertname=\"HighSQLQueryLatency\"}}\n        eval_time: {at}\n        exp_samples:\n          - labels: 'ALERTS{{alertname=\"HighSQLQueryLatency\", alertstate=\"{state}\", component=\"backend\", query_type=\"select\", severity=\"warning\", status=\"ok\"}}'\n            value: 1\n"
        )
    };
    let test = format!(
        "rule_files: [rules.yml]\nevaluation_interval: 30s\ntests:\n  - interval: 15s\n    input_series:\n{}    promql_expr_test:\n{}{}",
        series.lines().map(|l| format!("  {l}\n")).collect::<String>(),
        // 11:02:00 and 11:02:30, counted from the fixture's start at 10:00.
        alerts("62m", "pending"),
        alerts("62m30s", "firing"),
    );
    let file = dir.path().join("t.test.yml");
    std::fs::write(&file, test).unwrap();
    promtool_test_passes(&file);
    let run = |semantics: &str| ruletest_test(&file, semantics).0;
    assert_eq!(run("2"), Some(0));
    assert_eq!(run("3"), Some(1));
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "migrate-report",
            "--format",
            "json",
            "--rules",
            "rules/",
            "--series",
            "fixtures/chat2sql/sql-latency.yml",
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["dry_run"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v:#}");
    assert_eq!(changes[0]["alertname"], "HighSQLQueryLatency");
    assert_eq!(
        changes[0]["prometheus2"][0]["fired_at"],
        1_793_617_350_000i64
    );
    assert_eq!(
        changes[0]["prometheus3"][0]["fired_at"],
        1_793_617_320_000i64
    );
    assert_eq!(changes[0]["causes"][0]["difference"], "closed-windows");
}

/// `@` inside subqueries with offsets either way, nested, and on subqueries themselves
/// (tests/data/at-modifier/subqueries.test.yml, expectations from promtool 2.42): `--semantics 2` agrees at every
/// evaluation time, including the quirk where a selector reads shifted by its subquery's offset.
#[test]
fn promtool_agrees_on_at_inside_subqueries() {
    let file = root().join("tests/data/at-modifier/subqueries.test.yml");
    promtool_test_passes(&file);
    let (code, out) = ruletest_test(&file, "2");
    assert_eq!(code, Some(0), "{out}");
}
