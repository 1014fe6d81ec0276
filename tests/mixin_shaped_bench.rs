//! The kubernetes-mixin-shaped benchmark suite (`bench/gen_mixin_shaped.py`, issue #16) is a real test: its
//! expected alerts and values are right by promtool 2.42 (Debian's, installed by .ci/run) and by ruletest, both
//! as scheduled and tick by tick, and its rules have the shape it claims (alerts reading later recordings, a
//! meta alert on `ALERTS`, chained recordings), so the benchmark measures what real suites make ruletest do.

use assert_cmd::Command;
use ruletest::rules::group::{RuleSet, Run, TickReason};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generates a small suite (`groups` test groups of `hours` hours) into a new temporary directory.
fn generate(groups: usize, hours: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("python3")
        .arg(root().join("bench/gen_mixin_shaped.py"))
        .arg(dir.path())
        .arg(groups.to_string())
        .arg(hours.to_string())
        .status()
        .expect("python3 runs the generator");
    assert!(st.success());
    dir
}

fn ruletest(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(dir)
        .arg("test")
        .args(extra)
        .arg("tests.yml")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_generated_suite_passes_under_promtool_and_ruletest() {
    let dir = generate(7, 5);
    let p = std::process::Command::new("/usr/bin/promtool")
        .current_dir(dir.path())
        .args(["test", "rules", "tests.yml"])
        .output()
        .expect("promtool (Debian's prometheus package; .ci/run installs it)");
    assert!(
        p.status.success(),
        "promtool 2.42 fails the generated suite:\n{}{}",
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&p.stderr)
    );
    for extra in [&[][..], &["--per-tick"], &["--semantics", "2"]] {
        let (code, out) = ruletest(dir.path(), extra);
        assert_eq!(code, Some(0), "ruletest test {extra:?}:\n{out}");
        assert!(out.contains("7 passed, 0 failed"), "{out}");
    }
    // The suite can fail: one expected alert changed, one group fails under both.
    let tests = dir.path().join("tests.yml");
    let text = std::fs::read_to_string(&tests).unwrap();
    std::fs::write(
        &tests,
        text.replacen(
            "has warnings and no critical alert'",
            "has warnings and a critical alert'",
            1,
        ),
    )
    .unwrap();
    let (code, out) = ruletest(dir.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("6 passed, 1 failed"), "{out}");
    let p = std::process::Command::new("/usr/bin/promtool")
        .current_dir(dir.path())
        .args(["test", "rules", "tests.yml"])
        .output()
        .unwrap();
    assert!(!p.status.success());
}

#[test]
fn the_generated_rules_have_the_mixin_shape() {
    let dir = generate(1, 4);
    let mut loaded = ruletest::load::documents::Loaded::default();
    for f in ["alerts.yml", "records.yml"] {
        let bytes = std::fs::read(dir.path().join(f)).unwrap();
        ruletest::load::documents::load_bytes(Arc::from(f), &bytes, &mut loaded);
    }
    let files: Vec<_> = loaded
        .items
        .iter()
        .map(|i| ruletest::load::rules::load_rule_file(i).0)
        .collect();
    let set = RuleSet::prepare(&files, &[]).unwrap();
    let name = |i: usize| set.rules[i].rule.name.value.as_str();
    let reasons = set.tick_reasons();
    let ticked: Vec<(&str, &TickReason)> = reasons
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().map(|r| (name(i), r)))
        .collect();
    // The meta alert reads ALERTS; the alerts on recordings read rules written after them.
    assert_eq!(
        ticked,
        vec![
            (
                "WarningWithoutCritical",
                &TickReason::ReadsAlerts("ALERTS".into())
            ),
            (
                "ErrorBudgetBurn",
                &TickReason::ReadsLaterRecording("job:http_errors:burnrate5m".into())
            ),
            (
                "HighErrorRatio",
                &TickReason::ReadsLaterRecording("job:http_errors:ratio_rate5m".into())
            ),
            (
                "SlowRequests",
                &TickReason::ReadsLaterRecording("job:http_request_duration_seconds:p99".into())
            ),
            (
                "JobDegraded",
                &TickReason::ReadsLaterRecording("job:up:ratio".into())
            ),
        ]
    );
    // InstanceDown reads input only, but the meta alert reads its ALERTS as of the previous tick; it and the
    // recordings the alerts read are answered before the loop and hidden up to their place in each tick; the
    // rest before the loop.
    let plan = set.schedule().unwrap();
    let of = |r: Run| -> Vec<&str> {
        set.order()
            .into_iter()
            .filter(|&i| plan[i] == r)
            .map(name)
            .collect()
    };
    assert_eq!(
        of(Run::Tick),
        vec![
            "WarningWithoutCritical",
            "ErrorBudgetBurn",
            "HighErrorRatio",
            "SlowRequests",
            "JobDegraded"
        ]
    );
    assert_eq!(
        of(Run::Ahead),
        vec![
            "InstanceDown",
            "job:http_errors:ratio_rate5m",
            "job:http_errors:ratio_rate30m",
            "job:http_request_duration_seconds:p99",
            "job:http_errors:burnrate5m",
            "job:up:ratio"
        ]
    );
    assert_eq!(of(Run::After), Vec::<&str>::new());
    assert_eq!(of(Run::Before).len(), 5);
}
