//! The kubernetes-mixin's own rule unit tests (tests/data/kubernetes-mixin, Apache-2.0), written for promtool 3:
//! ruletest passes every one with its default (Prometheus 3) semantics, and under `--semantics 2` fails exactly
//! the checks promtool 2.42 (Debian's, installed by .ci/run) fails, check by check: the same alert names or
//! expressions at the same evaluation times.

use assert_cmd::Command;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/kubernetes-mixin/tests")
}

fn suites() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    assert_eq!(v.len(), 8, "{v:?}");
    v
}

/// promtool's failed checks: `alertname: X, time: T` and `expr: "E", time: T`, sorted.
fn promtool_failures(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("alertname: ") {
                let (name, time) = rest.split_once(", time: ")?;
                Some(format!(
                    "alert {name} at {}",
                    time.trim_end_matches([',', ' '])
                ))
            } else if let Some(rest) = l.strip_prefix("expr: ") {
                let (expr, time) = rest.split_once(", time: ")?;
                let time = time.split(',').next()?.trim();
                Some(format!("expr {expr} at {time}"))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

/// ruletest's failed checks, in the same form: `FILE:LINE: alertname X, eval_time T: ...` and
/// `FILE:LINE: expr "E", eval_time T: ...`.
fn ruletest_failures(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.trim().split_once(": ")?;
            if let Some(rest) = rest.strip_prefix("alertname ") {
                let (name, rest) = rest.split_once(", eval_time ")?;
                let time = rest.split(':').next()?;
                Some(format!("alert {name} at {time}"))
            } else if let Some(rest) = rest.strip_prefix("expr ") {
                let (expr, rest) = rest.rsplit_once(", eval_time ")?;
                let time = rest.split(':').next()?;
                Some(format!("expr {expr} at {time}"))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

fn ruletest(suite: &PathBuf, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("test")
        .args(extra)
        .arg(suite)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_mixin_suite_passes_with_prometheus_3_semantics() {
    for suite in suites() {
        let (code, out) = ruletest(&suite, &[]);
        assert_eq!(code, 0, "{}:\n{out}", suite.display());
    }
}

#[test]
fn semantics_2_fails_what_promtool_2_42_fails() {
    let promtool = PathBuf::from("/usr/bin/promtool");
    assert!(
        promtool.exists(),
        "promtool not found: install Debian's `prometheus` package (.ci/run does)"
    );
    let mut failing_suites = 0;
    for suite in suites() {
        let p = std::process::Command::new(&promtool)
            .args(["test", "rules"])
            .arg(&suite)
            .output()
            .unwrap();
        let ptext =
            String::from_utf8_lossy(&p.stdout).into_owned() + &String::from_utf8_lossy(&p.stderr);
        let (code, rtext) = ruletest(&suite, &["--semantics", "2"]);
        assert_eq!(
            code == 0,
            p.status.success(),
            "{}: promtool 2.42 and ruletest --semantics 2 disagree\npromtool:\n{ptext}\nruletest:\n{rtext}",
            suite.display()
        );
        let (pf, rf) = (promtool_failures(&ptext), ruletest_failures(&rtext));
        assert_eq!(pf, rf, "{}: the failed checks differ", suite.display());
        if !pf.is_empty() {
            failing_suites += 1;
        }
    }
    // The comparison means something: 2.42 fails some of these suites (left-closed windows, 2.x functions).
    assert!(failing_suites >= 2, "{failing_suites}");
}

/// `migrate-report` over the mixin: the ten checks above, as test groups that fail on Prometheus 2 and pass on
/// 3 (exit 1: verdicts change); over the project's own suite, nothing changes (exit 0).
#[test]
fn migrate_report_lists_the_groups_whose_verdict_changes() {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["migrate-report", "--format", "json"])
        .arg(dir())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"], 8);
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 10, "{v:#}");
    assert!(changes
        .iter()
        .all(|c| c["prometheus2"] == "fails" && c["prometheus3"] == "passes"));
    // Every one for the same reason: 2.x's windows include their left edge.
    assert!(
        changes
            .iter()
            .all(|c| c["causes"][0]["difference"] == "closed-windows"
                && c["causes"].as_array().unwrap().len() == 1),
        "{v:#}"
    );
    let absent: Vec<&str> = changes
        .iter()
        .filter(|c| {
            c["file"]
                .as_str()
                .unwrap()
                .ends_with("absent_alert-test.yaml")
        })
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(absent.len(), 4, "{absent:?}");
    assert!(changes.iter().any(|c| c["failures"]
        .as_str()
        .unwrap()
        .contains("KubePodCrashLooping, eval_time 20m")));
    // Markdown for a pull request comment.
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["migrate-report", "--format", "markdown"])
        .arg(dir().join("absent_alert-test.yaml"))
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("| test group | Prometheus 2 | Prometheus 3 | cause | failed checks |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| fails | passes | closed-windows | line 28: alertname KubeAPIDown, eval_time 25m"
        ),
        "{md}"
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("migrate-report")
        .arg(root.join("tests/rules/chat2sql.test.yml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("6 test groups; 0 change verdict"), "{text}");
}

/// The etcd mixin's suite (tests/data/etcd-mixin, Apache-2.0), written for promtool 2.33: promtool 2.42 and
/// `--semantics 2` pass it; Prometheus 3 semantics fails exactly `etcdMembersDown` at 24m, and migrate-report
/// names the cause.
#[test]
fn etcd_mixin_passes_under_semantics_2_and_fails_under_3() {
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/etcd-mixin/test.yaml");
    let p = std::process::Command::new("/usr/bin/promtool")
        .args(["test", "rules"])
        .arg(&suite)
        .output()
        .unwrap();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stdout));
    let (code, out) = ruletest(&suite, &["--semantics", "2"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = ruletest(&suite, &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        ruletest_failures(&out),
        vec!["alert etcdMembersDown at 24m".to_string()]
    );
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["migrate-report", "--format", "json"])
        .arg(&suite)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v:#}");
    assert_eq!(changes[0]["prometheus2"], "passes");
    assert_eq!(changes[0]["causes"][0]["difference"], "closed-windows");
}

/// Which of the mixin's rules need Prometheus's tick loop, and why (docs/performance.md, "The
/// kubernetes-mixin's unit tests"): the reasons are pinned so a change in the analysis is seen.
#[test]
fn the_mixin_rules_that_need_the_tick_loop_and_why() {
    use ruletest::load::documents::load_bytes;
    use ruletest::load::rules::load_rule_file;
    use ruletest::rules::group::{RuleSet, Run, TickReason};
    use std::sync::Arc;
    let mut loaded = ruletest::load::documents::Loaded::default();
    for f in ["prometheus_alerts.yaml", "prometheus_rules.yaml"] {
        let bytes = std::fs::read(dir().join("..").join(f)).unwrap();
        load_bytes(Arc::from(f), &bytes, &mut loaded);
    }
    let files: Vec<_> = loaded.items.iter().map(|i| load_rule_file(i).0).collect();
    let set = RuleSet::prepare(&files, &[]).unwrap();
    let reasons = set.tick_reasons();
    let mut per_tick: Vec<String> = Vec::new();
    for (i, reason) in reasons.iter().enumerate() {
        if let Some(why) = reason {
            per_tick.push(format!("{}: {why}", set.rules[i].rule.name.value));
        }
    }
    eprintln!(
        "{} of {} rules need the tick loop:\n{}",
        per_tick.len(),
        reasons.len(),
        per_tick.join("\n")
    );
    assert!(!set.range_safe());
    // The alerts come first in the files, and read what the recording rules after them write.
    assert!(reasons
        .iter()
        .flatten()
        .all(|r| matches!(r, TickReason::ReadsLaterRecording(_))));
    // 8 of 136: KubeCPUOvercommit, KubeMemoryOvercommit, KubeAPIErrorBudgetBurn x4, KubeletPlegDurationHigh,
    // code_verb:apiserver_request_total:increase30d.
    assert_eq!((per_tick.len(), reasons.len()), (8, 136), "{per_tick:#?}");
    // Only those 8 run tick by tick; the 23 recordings they read are answered by range queries before the
    // loop and hidden from them up to their place in each tick; the 5 rules that read the ticked
    // code_verb:apiserver_request_total:increase30d (directly or not) run after the loop.
    let plan = set.schedule().unwrap();
    let count = |r: Run| plan.iter().filter(|&&p| p == r).count();
    let (before, ahead, tick, after) = (
        count(Run::Before),
        count(Run::Ahead),
        count(Run::Tick),
        count(Run::After),
    );
    eprintln!("schedule: {before} before, {ahead} ahead, {tick} tick by tick, {after} after");
    for (i, p) in plan.iter().enumerate() {
        if matches!(p, Run::Ahead | Run::After) {
            eprintln!("  {p:?}: {}", set.rules[i].rule.name.value);
        }
    }
    assert_eq!(tick, 8);
    assert_eq!((before, ahead, tick, after), (100, 23, 8, 5));
}
