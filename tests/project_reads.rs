//! A run reads every document of the project once: a project with rules, an Alertmanager configuration, a
//! rule unit test naming the rule file, and a fixture is loaded, checked (lints and unit tests), and given
//! its fixture, as `check` and `dry-run` do; the loader's counters say how often each kind was read.

use ruletest::load::reads::{Counts, Read};
use ruletest::project::{check, inputs, Project};
use ruletest::series::Store;

const RULES: &str = "\
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 1m
    labels: {severity: page}
    annotations: {summary: 'instance {{ $labels.instance }} is down'}
";

const ALERTMANAGER: &str = "\
route: {receiver: team, group_by: [alertname]}
receivers: [{name: team}]
";

/// The expectation holds only when the rule file's alert is evaluated: the test really runs on the rules.
const TESTS: &str = "\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
- interval: 1m
  input_series:
  - series: 'up{instance=\"a\"}'
    values: '0x5'
  alert_rule_test:
  - eval_time: 3m
    alertname: Down
    exp_alerts:
    - exp_labels: {severity: page, instance: a}
      exp_annotations: {summary: 'instance a is down'}
";

const FIXTURE: &str = "\
interval: 1m
input_series:
- series: 'up{instance=\"a\"}'
  values: '0x5'
";

#[test]
fn every_document_is_read_and_parsed_once() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("project");
    std::fs::create_dir(&project_dir).unwrap();
    std::fs::write(project_dir.join("rules.yml"), RULES).unwrap();
    std::fs::write(project_dir.join("alertmanager.yml"), ALERTMANAGER).unwrap();
    std::fs::write(project_dir.join("rules_test.yml"), TESTS).unwrap();
    let fixture = dir.path().join("fixture.yml");
    std::fs::write(&fixture, FIXTURE).unwrap();

    let before = Counts::now();
    let mut store = Store::new();
    inputs::load_series(&fixture, 0, &mut store).unwrap();
    let project = Project::load(&[project_dir]).unwrap();
    let checked = check::run(
        &project,
        &check::Options {
            config_file: None,
            series: Some(&store),
        },
    );
    let after = Counts::now();

    // What was found is what was written, and the unit test ran on the rules and passed.
    assert_eq!(project.summary.rules, 1);
    assert_eq!(project.summary.alertmanager_configs, 1);
    assert_eq!(project.summary.test_files, 1);
    assert!(store.iter().count() == 1);
    assert_eq!(
        checked
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "{:#?}",
        checked.diagnostics
    );

    // Each document once: three project files from disk, the fixture through its own loader.
    let reads = |what| after.since(&before, what);
    assert_eq!(reads(Read::File), 3, "files read from disk");
    assert_eq!(reads(Read::RuleFile), 1, "rule files parsed");
    assert_eq!(reads(Read::TestFile), 1, "test files parsed");
    assert_eq!(
        reads(Read::AlertmanagerConfig),
        1,
        "Alertmanager configs parsed"
    );
    assert_eq!(reads(Read::Fixture), 1, "fixtures read");
}

#[test]
fn a_failing_unit_test_of_the_project_is_an_error_at_its_group() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    // The same test, expecting the alert where it cannot be firing yet (`for: 1m` from 0m).
    let failing = TESTS.replace("eval_time: 3m", "eval_time: 0m");
    std::fs::write(dir.path().join("rules_test.yml"), failing).unwrap();
    let before = Counts::now();
    let project = Project::load(&[dir.path().to_path_buf()]).unwrap();
    let checked = check::run(&project, &check::Options::default());
    let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["test/failed"]);
    assert_eq!(Counts::now().since(&before, Read::RuleFile), 1);
}
