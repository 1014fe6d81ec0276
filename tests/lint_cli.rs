//! `ruletest check` lints through the real binary: the Chat2SQL rules, one failing and one passing rule per
//! check, suppressions, `.ruletest.yaml`, the SARIF / GitHub / JUnit formats, and docs/checks.md.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("ruletest was killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_diagnostics(args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = check(&all);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v["diagnostics"].as_array().unwrap().clone())
}

/// `(code, line)` of each diagnostic.
fn codes_and_lines(d: &[Value]) -> Vec<(String, u64)> {
    d.iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn chat2sql_rules_get_their_real_mistakes_and_nothing_else() {
    let (code, d) = json_diagnostics(&["rules/"]);
    assert_eq!(code, 0, "warnings alone keep exit status 0: {d:?}");
    // The rule file's own findings; what the Alertmanager config gets is tests/lint_alertmanager.rs's.
    let d: Vec<Value> = d
        .into_iter()
        .filter(|x| x["file"] == "rules/chat2sql-prometheus-rules.yaml")
        .collect();
    assert_eq!(
        codes_and_lines(&d),
        vec![
            // DatabaseConnectionPoolExhaustion: `{{ $value }}%` of connections / 100 > 0.9.
            ("alert/percent-of-ratio".to_string(), 50),
            // PodCrashLooping: rate(restarts[15m]) > 0 with for: 5m.
            ("promql/rate-gt-zero".to_string(), 58),
            // HighMemoryUsage: divided by a limit that is 0 for containers without one.
            ("promql/division-by-zero".to_string(), 70),
        ]
    );
    for x in &d {
        // rate-gt-zero is an info: it says what the rule does, for its author to confirm.
        let want = if x["code"] == "promql/rate-gt-zero" {
            "info"
        } else {
            "warning"
        };
        assert_eq!(x["severity"], want, "{x}");
        assert_eq!(x["file"], "rules/chat2sql-prometheus-rules.yaml");
        assert!(x["help"].as_str().is_some_and(|h| !h.is_empty()), "{x}");
    }
    assert_eq!(d[0]["column"], 42);
    assert!(d[0]["help"]
        .as_str()
        .unwrap()
        .contains("humanizePercentage"));
    assert_eq!(d[2]["column"], 47);
    assert!(d[2]["message"]
        .as_str()
        .unwrap()
        .contains("container_spec_memory_limit_bytes"));
}

#[test]
fn human_output_names_file_line_and_fix() {
    let (code, out, _) = check(&["rules/"]);
    assert_eq!(code, 0);
    // The wording a person reads is reviewed when it changes.
    insta::assert_snapshot!("chat2sql_human", out);
    assert!(
        out.contains("rules/chat2sql-prometheus-rules.yaml:58:9: info[promql/rate-gt-zero]"),
        "{out}"
    );
    assert!(out.contains("= help: guard the denominator"), "{out}");
    // 2 on the rules, 14 on the Alertmanager config (and 5 notes: rate-gt-zero's, 4 on the config).
    assert!(out.contains("0 errors, 16 warnings"), "{out}");
}

/// The check each rule of fixtures/lint/fail.yaml trips, in file order.
const FAILING: &[(&str, u64)] = &[
    ("promql/division-by-zero", 7),
    ("promql/histogram-quantile-without-le", 10),
    ("promql/rate-on-non-counter", 13),
    ("promql/counter-without-rate", 16),
    ("promql/range-too-short", 19),
    ("promql/rate-gt-zero", 22),
    ("promql/constant-comparison", 26),
    ("promql/experimental-function", 29),
    ("alert/for-not-multiple-of-interval", 33),
    ("alert/template-missing-label", 39),
    ("alert/percent-of-ratio", 44),
    ("alert/required-labels", 45),
    ("alert/value-in-labels", 51),
    ("promql/join-never-matches", 53),
];

#[test]
fn every_check_fails_its_failing_rule_and_only_that() {
    let (code, d) = json_diagnostics(&["fixtures/lint/fail.yaml"]);
    // histogram-quantile-without-le and experimental-function are errors by default.
    assert_eq!(code, 1);
    let got = codes_and_lines(&d);
    let want: Vec<(String, u64)> = FAILING.iter().map(|(c, l)| (c.to_string(), *l)).collect();
    assert_eq!(got, want);
    let catalogue: Vec<&str> = FAILING.iter().map(|(c, _)| *c).collect();
    assert_eq!(catalogue.len(), 14, "one failing rule per check");
}

/// awesome-prometheus-alerts' KubernetesCronjobTooLong, which promql/join-never-matches flags: over a job
/// that started two hours ago and never completed it returns nothing; matched `on ()`, it returns the job.
#[test]
fn the_join_the_check_flags_returns_nothing_and_its_fix_returns_the_job() {
    let eval = |expr: &str| {
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .current_dir(root())
            .args([
                "eval",
                "--series",
                "fixtures/lint/cronjob-too-long.yml",
                "--at",
                "2h",
                "--format",
                "json",
            ])
            .arg(expr)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let flagged = "kube_job_status_start_time > 0 and absent(kube_job_status_completion_time) and (time() - kube_job_status_start_time) > 3600";
    let fixed = "kube_job_status_start_time > 0 and on () absent(kube_job_status_completion_time) and (time() - kube_job_status_start_time) > 3600";
    let (a, b) = (eval(flagged), eval(fixed));
    assert_eq!(a["data"]["result"].as_array().unwrap().len(), 0, "{a}");
    let r = b["data"]["result"].as_array().unwrap();
    assert_eq!(r.len(), 1, "{b}");
    assert_eq!(r[0]["metric"]["job_name"], "backup-1");
}

#[test]
fn passing_rules_pass_every_check() {
    let (code, d) = json_diagnostics(&["fixtures/lint/pass.yaml"]);
    assert_eq!(code, 0);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn suppressions_and_config_file_in_the_checked_directory() {
    let (code, d) = json_diagnostics(&["fixtures/lint/suppressed"]);
    assert_eq!(
        codes_and_lines(&d),
        vec![
            // The ignore comment has no reason: still suppresses, but says so.
            ("lint/suppression-without-reason".to_string(), 11),
            // .ruletest.yaml makes this an error ...
            ("promql/range-too-short".to_string(), 17),
        ]
    );
    assert_eq!(d[1]["severity"], "error");
    // ... and turns required-labels off, so DiskFull passes; the error makes the exit status 1.
    assert_eq!(code, 1);
}

#[test]
fn explicit_config_file_wins_and_unknown_codes_are_errors_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("lint.yaml");
    std::fs::write(
        &cfg,
        "checks:\n  promql/rate-gt-zero: off\n  promql/no-such-check: off\n",
    )
    .unwrap();
    let (code, d) = json_diagnostics(&["--config-file", cfg.to_str().unwrap(), "rules/"]);
    assert_eq!(code, 1);
    let got = codes_and_lines(&d);
    assert!(got.contains(&("lint/config".to_string(), 3)), "{got:?}");
    assert!(
        !got.iter().any(|(c, _)| c == "promql/rate-gt-zero"),
        "{got:?}"
    );
    let bad = d.iter().find(|x| x["code"] == "lint/config").unwrap();
    assert_eq!(bad["file"], cfg.to_str().unwrap());
    assert!(bad["message"]
        .as_str()
        .unwrap()
        .contains("promql/no-such-check"));
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let schema_path = root().join("fixtures/lint/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&schema_path)
            .unwrap_or_else(|e| panic!("SARIF schema missing at {}: {e}", schema_path.display())),
    )
    .unwrap();
    let (code, out, _) = check(&["--format", "sarif", "fixtures/lint/fail.yaml"]);
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema does bite: a level SARIF does not know is rejected.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for (c, _) in FAILING {
        assert!(
            rules.iter().any(|r| r["id"] == *c),
            "{c} missing from the catalogue"
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), FAILING.len());
    let r = &results[0];
    assert_eq!(r["ruleId"], "promql/division-by-zero");
    assert_eq!(r["level"], "warning");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "fixtures/lint/fail.yaml");
    assert_eq!(loc["region"]["startLine"], 7);
    assert_eq!(loc["region"]["startColumn"], 48);
}

/// A finding on a sub-expression in the third line of an `expr: |` block is placed on that line and column
/// (not on the line of `expr:`), in text and SARIF; so is a syntax error there.
#[test]
fn findings_inside_a_block_point_at_their_line_and_column() {
    let (code, out, _) = check(&["fixtures/lint/multiline.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("fixtures/lint/multiline.yaml:10:29: warning[promql/division-by-zero] `container_spec_memory_limit_bytes`"),
        "{out}"
    );
    let (_, out, _) = check(&["--format", "sarif", "fixtures/lint/multiline.yaml"]);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let r = &sarif["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "promql/division-by-zero");
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (&region["startLine"], &region["startColumn"]),
        (&Value::from(10), &Value::from(29))
    );

    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          sum(\n            rate(x[5m])\n          ) by (job) +\n",
    )
    .unwrap();
    let (code, out, _) = check(&[bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("bad.yaml:8:23: error[rule/bad-expr]")
            && out
                .contains("could not parse expression: 4:1: parse error: unexpected end of input"),
        "{out}"
    );
}

#[test]
fn github_format_writes_workflow_commands() {
    let (code, out, _) = check(&["--format", "github", "rules/"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    // 3 findings on the rules, 18 on the Alertmanager config.
    assert_eq!(lines.len(), 21, "{out}");
    let rate = lines
        .iter()
        .find(|l| l.contains("title=promql/rate-gt-zero::"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(rate.starts_with(
        "::notice file=rules/chat2sql-prometheus-rules.yaml,line=58,col=9,title=promql/rate-gt-zero::"
    ), "{out}");
    assert!(rate.contains("%0Ahelp: "), "{out}");
}

#[test]
fn junit_format_has_a_case_per_file_and_a_failure_per_diagnostic() {
    let (code, out, _) = check(&["--format", "junit", "rules/"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("<?xml"), "{out}");
    assert_eq!(out.matches("<testcase ").count(), 2, "{out}");
    // 2 warnings on the rules, 14 on the Alertmanager config (notes are not failures: rate-gt-zero's on the
    // rules, 4 on the config).
    assert_eq!(out.matches("<failure ").count(), 16, "{out}");
    assert!(
        out.contains(
            "<testcase name=\"rules/alertmanager-config.yaml\" classname=\"ruletest.check\">"
        ),
        "{out}"
    );
    assert!(out.contains("type=\"promql/division-by-zero\""), "{out}");
}

#[test]
fn docs_checks_md_is_generated_from_the_doc_comments() {
    let counts_file = root().join("tests/lint_corpus_expected.txt");
    let counts =
        ruletest::lint::docs::parse_reviewed(&std::fs::read_to_string(&counts_file).unwrap())
            .unwrap();
    let generated = ruletest::lint::docs::render(&counts);
    let path = root().join("docs/checks.md");
    if std::env::var_os("RULETEST_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/checks.md is stale: run `RULETEST_BLESS=1 cargo test --test lint_cli` and commit it"
    );
}

/// What each lint says about Prometheus is checked against Prometheus: promtool evaluates the flagged rules
/// (fixtures/lint/promtool/claims.yaml) and its unit test asserts the misbehaviour the lint describes.
#[test]
fn promtool_confirms_what_the_lints_claim() {
    let out = std::process::Command::new("promtool")
        .args(["test", "rules", "fixtures/lint/promtool/claims_test.yaml"])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool not found ({e}): .ci/run installs Debian's prometheus package")
        });
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And ruletest flags exactly the rules promtool shows misbehaving, not their fixed twins.
    let (_, d) = json_diagnostics(&["fixtures/lint/promtool"]);
    assert_eq!(
        codes_and_lines(&d),
        vec![
            ("promql/division-by-zero".to_string(), 7),
            ("promql/constant-comparison".to_string(), 14),
            ("promql/rate-gt-zero".to_string(), 21),
            ("alert/template-missing-label".to_string(), 29),
            ("alert/percent-of-ratio".to_string(), 35),
        ]
    );
}

#[test]
fn fixed_rules_are_valid_for_promtool() {
    let out = std::process::Command::new("promtool")
        .args(["check", "rules", "fixtures/lint/pass.yaml"])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool not found ({e}): .ci/run installs Debian's prometheus package")
        });
    assert!(
        out.status.success(),
        "the suggested fixes must load in Prometheus: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The same finding on many rules (a template copied into each) is shown once with its code frame, then the
/// other places one per line; two alike are still shown in full; JSON keeps every finding.
#[test]
fn boilerplate_findings_are_grouped_in_the_human_output() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |name: &str| {
        format!("  - alert: {name}\n    expr: sum(rate(errors_total[5m])) > 1\n    labels: {{severity: page}}\n    annotations: {{summary: 'errors on {{{{ $labels.instance }}}}'}}\n")
    };
    let mut text = String::from("groups:\n- name: g\n  rules:\n");
    for n in ["A", "B", "C", "D"] {
        text.push_str(&rule(n));
    }
    let path = dir.path().join("rules.yaml");
    std::fs::write(&path, &text).unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = check(&[p]);
    assert_eq!(code, 0);
    assert_eq!(
        out.matches("warning[alert/template-missing-label]").count(),
        1,
        "{out}"
    );
    assert!(out.contains("  = the same in 3 more places:\n"), "{out}");
    for line in [11, 15, 19] {
        assert!(out.contains(&format!("{p}:{line}:")), "line {line}: {out}");
    }
    let (_, d) = json_diagnostics(&[p]);
    assert_eq!(d.len(), 4);
    // Two alike are shown in full.
    let two: String = text.lines().take(11).collect::<Vec<_>>().join("\n") + "\n";
    std::fs::write(&path, &two).unwrap();
    let (_, out, _) = check(&[p]);
    assert_eq!(
        out.matches("warning[alert/template-missing-label]").count(),
        2,
        "{out}"
    );
    assert!(!out.contains("the same in"), "{out}");
}
