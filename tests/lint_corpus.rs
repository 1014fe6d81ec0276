//! False positives, measured: `ruletest check` over awesome-prometheus-alerts (../shared/corpus) must find
//! exactly the reviewed number of findings per check (tests/lint_corpus_expected.txt). A check that starts
//! flagging more (or fewer) rules fails here, and its new findings must be reviewed before the count moves.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn corpus_findings_match_the_reviewed_counts() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus/awesome-prometheus-alerts");
    assert!(
        corpus.is_dir(),
        "corpus missing at {}: ../shared must sit beside the repository",
        corpus.display()
    );
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(&corpus)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for d in v["diagnostics"].as_array().unwrap() {
        *got.entry(d["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    // Every catalogue code has a line in the expected file, zero included, so a new check is reviewed too.
    let expected_text =
        std::fs::read_to_string(root.join("tests/lint_corpus_expected.txt")).unwrap();
    let expected = ruletest::lint::docs::parse_counts(&expected_text);
    for info in ruletest::lint::catalogue::catalogue() {
        assert!(
            expected.contains_key(info.code),
            "{} has no reviewed count in tests/lint_corpus_expected.txt",
            info.code
        );
    }
    let mut want = expected.clone();
    want.retain(|_, n| *n > 0);
    assert_eq!(
        got, want,
        "findings per code on the corpus changed: review them, then update the counts"
    );
    assert_eq!(
        v["summary"]["errors"], 0,
        "the corpus must stay free of errors"
    );
}
