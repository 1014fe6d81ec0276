//! Precision, measured: `ruletest check` over three real rule sets must find exactly the reviewed number of
//! findings per check (tests/lint_corpus_expected.txt, `found/real` per rule set). A check that starts
//! flagging more (or fewer) rules fails here, and its new findings must be reviewed before the count moves.
//! The figures are in docs/checks.md.
//!
//! - awesome-prometheus-alerts: ../shared/corpus (read at test time, not copied here);
//! - kube-prometheus: tests/data/kube-prometheus (its PrometheusRule manifests, Apache-2.0, README there);
//! - kubernetes-mixin: tests/data/kubernetes-mixin (rendered alerts and rules, Apache-2.0, README there).

use assert_cmd::Command;
use ruletest::lint::docs::{parse_reviewed, CORPORA};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The paths `check` reads for each of [`CORPORA`].
fn corpus_paths(root: &Path) -> [Vec<PathBuf>; 3] {
    let mixin = root.join("tests/data/kubernetes-mixin");
    [
        vec![root.join("../shared/corpus/awesome-prometheus-alerts")],
        vec![root.join("tests/data/kube-prometheus")],
        vec![
            mixin.join("prometheus_alerts.yaml"),
            mixin.join("prometheus_rules.yaml"),
        ],
    ]
}

/// Findings per code, and the number of rules read.
fn check(paths: &[PathBuf]) -> (BTreeMap<String, usize>, serde_json::Value) {
    for p in paths {
        assert!(
            p.exists(),
            "corpus missing at {}: ../shared must sit beside the repository",
            p.display()
        );
    }
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["check", "--format", "json"])
        .args(paths)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for d in v["diagnostics"].as_array().unwrap() {
        *got.entry(d["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(
        v["summary"]["errors"], 0,
        "the corpus must stay free of errors: {v}"
    );
    (got, v["summary"].clone())
}

#[test]
fn corpus_findings_match_the_reviewed_counts() {
    let root = root();
    let expected_text =
        std::fs::read_to_string(root.join("tests/lint_corpus_expected.txt")).unwrap();
    let expected = parse_reviewed(&expected_text).unwrap();
    // Every catalogue code has a line in the expected file, zero included, so a new check is reviewed too.
    for info in ruletest::lint::catalogue::catalogue() {
        assert!(
            expected.contains_key(info.code),
            "{} has no reviewed count in tests/lint_corpus_expected.txt",
            info.code
        );
    }
    for (k, paths) in corpus_paths(&root).iter().enumerate() {
        let (got, summary) = check(paths);
        let want: BTreeMap<String, usize> = expected
            .iter()
            .map(|(code, r)| (code.clone(), r[k].found))
            .filter(|(_, n)| *n > 0)
            .collect();
        assert_eq!(
            got, want,
            "findings per code on {} changed: review them, then update tests/lint_corpus_expected.txt",
            CORPORA[k]
        );
        // The rule sets are read whole: a corpus that loads nothing finds nothing, and passes for the wrong
        // reason.
        let rules = summary["rules"].as_u64().unwrap_or(0);
        assert!(
            rules >= 100,
            "{}: only {rules} rules read: {summary}",
            CORPORA[k]
        );
    }
}

/// The corpus as a user meets it: every file loads without an error, each rule counted.
#[test]
fn the_corpora_load_whole() {
    let root = root();
    let [awesome, kube, mixin] = corpus_paths(&root);
    let rules = |p: &[PathBuf]| check(p).1["rules"].as_u64().unwrap();
    assert_eq!(rules(&awesome), 954);
    assert_eq!(rules(&kube), 234);
    assert!(rules(&mixin) > 100);
}
