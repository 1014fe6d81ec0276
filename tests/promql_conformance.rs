//! Runs `ruletest promql-test` over Prometheus 3.14's own engine tests (../shared/promqltest) and holds
//! the engine to at least 95% of the non-skipped cases passing in each listed file. Skipped cases (the
//! `anchored` / `smoothed` modifiers; none for native histograms) carry a reason and do not count either way; their
//! number is pinned too, so that a change which turns passes into skips is noticed. The other files' pass
//! counts are pinned as well, and no case may be skipped because its query does not parse.

use assert_cmd::Command;
use std::path::PathBuf;

/// (file, minimum passed, maximum skipped) as measured when native histograms landed (issue #15): nothing in
/// these files is skipped any more.
const FILES: &[(&str, usize, usize)] = &[
    ("aggregators", 160, 0),
    ("at_modifier", 78, 0),
    ("collision", 2, 0),
    ("functions", 431, 0),
    ("histograms", 185, 0),
    ("limit", 37, 0),
    ("literals", 25, 0),
    ("name_label_dropping", 30, 0),
    ("operators", 214, 0),
    ("range_queries", 18, 0),
    ("selectors", 31, 0),
    ("staleness", 17, 0),
    ("subquery", 34, 0),
    ("trig_functions", 19, 0),
];

/// The files outside the target, with the passes measured when native histograms landed (issue #15).
const OTHER_FILES: &[(&str, usize)] = &[
    ("duration_expression", 59),
    ("extended_vectors", 42),
    ("fill-modifier", 46),
    ("info", 53),
    ("native_histograms", 522),
    ("start_timestamps", 26),
    ("type_and_unit", 58),
];

fn corpus() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/promqltest");
    assert!(
        dir.is_dir(),
        "conformance corpus missing at {} (shared/ must sit beside the repo)",
        dir.display()
    );
    dir
}

/// Every `.test` file of the corpus, sorted.
fn test_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    files
}

/// `ruletest promql-test --format json` over `files`.
fn promql_test_json(files: &[PathBuf]) -> std::process::Output {
    Command::cargo_bin("ruletest")
        .unwrap()
        .args(["promql-test", "--format", "json"])
        .args(files)
        .output()
        .unwrap()
}

/// Parses the closing `N passed, M failed, K skipped` line.
fn counts(stdout: &str) -> (usize, usize, usize) {
    let last = stdout.lines().last().unwrap_or_default();
    let nums: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(nums.len(), 3, "unexpected closing line {last:?}");
    (nums[0], nums[1], nums[2])
}

#[test]
fn target_files_pass_at_least_95_percent() {
    let dir = corpus();
    let mut report = Vec::new();
    for &(name, min_passed, max_skipped) in FILES {
        let path = dir.join(format!("{name}.test"));
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .arg("promql-test")
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let (p, f, s) = counts(&stdout);
        let ratio = p as f64 / (p + f).max(1) as f64;
        report.push(format!(
            "{name}: {p} passed, {f} failed, {s} skipped ({:.1}%)",
            ratio * 100.0
        ));
        assert!(
            ratio >= 0.95,
            "{name}: pass ratio {ratio:.3} below 0.95\n{stdout}"
        );
        assert!(
            p >= min_passed,
            "{name}: {p} passed, fewer than the {min_passed} measured before\n{stdout}"
        );
        assert!(
            s <= max_skipped,
            "{name}: {s} skipped, more than the {max_skipped} measured before\n{stdout}"
        );
        // Exit status follows the failures.
        assert_eq!(
            out.status.code(),
            Some(if f > 0 { 1 } else { 0 }),
            "{name}: exit status"
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn json_format_has_one_object_per_case() {
    let out = promql_test_json(&[corpus().join("literals.test")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut n = 0;
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["file"].as_str().unwrap().ends_with("literals.test"));
        assert!(v["line"].as_u64().unwrap() > 0);
        assert!(["passed", "failed", "skipped"].contains(&v["status"].as_str().unwrap()));
        assert!(v["expr"].is_string() && v["message"].is_string());
        n += 1;
    }
    // literals.test holds 25 eval commands.
    assert_eq!(n, 25);
}

#[test]
fn failing_case_is_reported_with_location_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.test");
    std::fs::write(
        &p,
        "load 1m\n  m 1 2 3\n\neval instant at 2m m\n  m 4\n\neval instant at 2m m\n  m 3\n",
    )
    .unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("promql-test")
        .arg(&p)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("x.test:4: m: m: expected 4, got 3"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 passed, 1 failed, 0 skipped\n"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn other_files_keep_their_passes_and_nothing_is_skipped_for_syntax() {
    let dir = corpus();
    for &(name, min_passed) in OTHER_FILES {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .arg("promql-test")
            .arg(dir.join(format!("{name}.test")))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let (p, _, _) = counts(&stdout);
        assert!(
            p >= min_passed,
            "{name}: {p} passed, fewer than the {min_passed} measured before\n{stdout}"
        );
    }
    let out = promql_test_json(&test_files());
    let mut skipped = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        if case["status"] == "skipped" {
            skipped += 1;
            let why = case["message"].as_str().unwrap_or_default();
            assert!(
                !why.contains("parse error") && !why.contains("cannot parse"),
                "{}:{} skipped for syntax: {why}",
                case["file"],
                case["line"]
            );
            assert!(
                !why.contains("histogram"),
                "{}:{} skipped for native histograms: {why}",
                case["file"],
                case["line"]
            );
        }
    }
    assert!(
        skipped > 0,
        "the corpus has skipped cases (the anchored and smoothed modifiers)"
    );
}

#[test]
fn whole_corpus_runs_without_crashing() {
    // Every file, target or not, must run to its closing counts (exit 0 or 1, never a crash or usage
    // error), and the total must add up over the per-file lines.
    let files = test_files();
    assert!(
        files.len() >= 21,
        "expected the 21 engine test files, found {}",
        files.len()
    );
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("promql-test")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let closing: Vec<(usize, usize, usize)> = stdout
        .lines()
        .filter(|l| l.ends_with(" skipped") && l.contains(" passed, "))
        .map(counts)
        .collect();
    assert_eq!(closing.len(), files.len() + 1);
    let (sum_p, sum_f, sum_s) = closing[..files.len()]
        .iter()
        .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    assert_eq!(closing[files.len()], (sum_p, sum_f, sum_s));
}

/// The engine over a store with compact history (samples kept as XOR chunks, decoded for the queries)
/// answers every case of the corpus as it does over the plain store.
#[test]
fn a_store_with_compact_history_answers_as_the_plain_store() {
    use ruletest::promql::testfile::{run_script, run_script_on, CaseStatus};
    use ruletest::promql::EngineOptions;
    use ruletest::series::Store;
    ruletest::promql::features::Features::promqltest().install();
    let mut passed = 0;
    for path in test_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let plain = run_script(&text, EngineOptions::default());
        let compact = run_script_on(
            &text,
            EngineOptions::default(),
            Store::with_compact_history(),
        );
        assert_eq!(plain, compact, "{}", path.display());
        passed += plain
            .iter()
            .filter(|r| r.status == CaseStatus::Passed)
            .count();
    }
    assert!(passed > 2_000, "{passed}");
}
