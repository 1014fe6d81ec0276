//! The malformed-input corpus (fixtures/malformed/<kind>/): realistic broken files of every kind ruletest reads,
//! each run through the commands that read that kind. Every case must end with exit status 1 (problems found)
//! or 2 (the file cannot be read as its kind, or a usage error), name the file and line (and column where we
//! give one) with a fragment of the message, and never panic (no "panicked", never status 101).
//!
//! Locations: diagnostics print `path:line:col:`; `test` and `promql-test` failures and series fixtures
//! (`eval`, `export`, `dry-run`, `tune`) `path:line:` (`path:line:col:` for JSON syntax errors); Prometheus
//! API JSON with a wrong shape names a JSON path (`path: $.data.result[0].metric:`) or, for a server's error
//! response, only the file.

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const M: &str = "fixtures/malformed/";
const FROM: &str = "2026-11-02T10:00:00Z";
const TO: &str = "2026-11-02T12:00:00Z";
const CRASH_LOOP: &str = "fixtures/chat2sql/crash-loop.yml";

/// How a broken file is given to ruletest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cmd {
    /// `check FILE`
    Check,
    /// `test FILE`
    Test,
    /// `routes test --config FILE severity=critical`
    Routes,
    /// `routes tree --config FILE`
    Tree,
    /// `routes test` with a good base config and the file as `--alertmanagerconfig`
    Crd,
    /// `eval up --series FILE --at ...`
    Eval,
    /// `export --openmetrics --series FILE`
    Export,
    /// `dry-run --rules FILE` over a good fixture
    DryRules,
    /// `dry-run --series FILE` with the shipped rules
    DrySeries,
    /// `dry-run --alertmanager FILE` with the shipped rules and a good fixture
    DryAm,
    /// `tune --series FILE`
    TuneSeries,
    /// `tune --rules FILE`
    TuneRules,
    /// `tune --alertmanager FILE`
    TuneAm,
    /// `promql-test FILE`
    Promql,
}

use Cmd::{
    Check as CHECK, Crd as CRD, DryAm as DRYAM, DryRules as DRYRULES, DrySeries as DRYSERIES,
    Eval as EVAL, Export as EXPORT, Promql as PROMQL, Routes as ROUTES, Test as TEST, Tree as TREE,
    TuneAm as TUNEAM, TuneRules as TUNERULES, TuneSeries as TUNESERIES,
};

const ALL_COMMANDS: [Cmd; 14] = [
    CHECK, TEST, ROUTES, TREE, CRD, EVAL, EXPORT, DRYRULES, DRYSERIES, DRYAM, TUNESERIES,
    TUNERULES, TUNEAM, PROMQL,
];

impl Cmd {
    fn args(self, file: &str) -> Vec<String> {
        let window = ["--from", FROM, "--to", TO];
        let v: Vec<&str> = match self {
            Cmd::Check => vec!["check", file],
            Cmd::Test => vec!["test", file],
            Cmd::Routes => vec!["routes", "test", "--config", file, "severity=critical"],
            Cmd::Tree => vec!["routes", "tree", "--config", file],
            Cmd::Crd => vec![
                "routes",
                "test",
                "--config",
                "fixtures/alertmanager/crd/base.yml",
                "--alertmanagerconfig",
                file,
                "team=frontend",
                "namespace=shop",
            ],
            Cmd::Eval => vec!["eval", "up", "--series", file, "--at", FROM],
            Cmd::Export => vec!["export", "--openmetrics", "--series", file, "--start", FROM],
            Cmd::DryRules => [
                &["dry-run", "--rules", file, "--series", CRASH_LOOP][..],
                &window,
            ]
            .concat(),
            Cmd::DrySeries => [
                &["dry-run", "--rules", "rules/", "--series", file][..],
                &window,
            ]
            .concat(),
            Cmd::DryAm => [
                &[
                    "dry-run",
                    "--rules",
                    "rules/",
                    "--series",
                    CRASH_LOOP,
                    "--alertmanager",
                    file,
                ][..],
                &window,
            ]
            .concat(),
            Cmd::TuneSeries => [
                &[
                    "tune",
                    "--rules",
                    "rules/",
                    "--alert",
                    "PodCrashLooping",
                    "--series",
                    file,
                ][..],
                &window,
            ]
            .concat(),
            Cmd::TuneRules => [
                &[
                    "tune", "--rules", file, "--alert", "ApiDown", "--series", CRASH_LOOP,
                ][..],
                &window,
            ]
            .concat(),
            Cmd::TuneAm => [
                &[
                    "tune",
                    "--rules",
                    "rules/",
                    "--alert",
                    "PodCrashLooping",
                    "--series",
                    CRASH_LOOP,
                    "--alertmanager",
                    file,
                ][..],
                &window,
            ]
            .concat(),
            Cmd::Promql => vec!["promql-test", file],
        };
        v.into_iter().map(String::from).collect()
    }
}

/// One broken file through one command.
struct Case {
    /// Under fixtures/malformed/.
    file: &'static str,
    cmd: Cmd,
    /// 1: problems found; 2: cannot be read as its kind (or usage).
    status: i32,
    /// The location printed, under fixtures/malformed/: `kind/file:line:col`, `kind/file:line`, ...
    at: &'static str,
    /// A fragment of the message at that location.
    says: &'static str,
}

const fn case(
    file: &'static str,
    cmd: Cmd,
    status: i32,
    at: &'static str,
    says: &'static str,
) -> Case {
    Case {
        file,
        cmd,
        status,
        at,
        says,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    case("rules/wrong-indentation.yaml", CHECK, 1, "rules/wrong-indentation.yaml:6:6", "invalid YAML: while parsing a block mapping, did not find expected"),
    case("rules/bad-for-duration.yaml", CHECK, 1, "rules/bad-for-duration.yaml:6:14", r#"`for`: not a valid duration string: "5mins""#),
    case("rules/negative-interval.yaml", CHECK, 1, "rules/negative-interval.yaml:3:15", r#"`interval`: not a valid duration string: "-1m""#),
    case("rules/typo-annotations.yaml", CHECK, 1, "rules/typo-annotations.yaml:7:9", "field annotaions not found in rule"),
    case("rules/duplicate-key.yaml", CHECK, 1, "rules/duplicate-key.yaml:7:9", "invalid YAML: duplicate key `expr` in this mapping"),
    case("rules/missing-expr.yaml", CHECK, 1, "rules/missing-expr.yaml:4:9", "field 'expr' must be set in rule"),
    case("rules/record-and-alert.yaml", CHECK, 1, "rules/record-and-alert.yaml:5:16", "only one of 'record' and 'alert' must be set"),
    case("rules/rate-without-range.yaml", CHECK, 1, "rules/rate-without-range.yaml:5:20", r#"could not parse expression: 1:6: parse error: expected type range vector in call to function "rate", got instant vector"#),
    case("rules/bad-regex.yaml", CHECK, 1, "rules/bad-regex.yaml:5:18", "could not parse expression: 1:4: parse error: error parsing regexp: unclosed group: `^(?s:api-(blue|green)$`"),
    case("rules/unclosed-template.yaml", CHECK, 1, "rules/unclosed-template.yaml:7:20", r#"annotation "summary": template: __alert_ApiDown:1: unclosed action"#),
    case("rules/labels-as-list.yaml", CHECK, 1, "rules/labels-as-list.yaml:7:11", "`labels` must be a mapping, found a list"),
    case("rules/empty-group-name.yaml", CHECK, 1, "rules/empty-group-name.yaml:2:5", "Groupname must not be empty"),
    case("rules/huge-limit.yaml", CHECK, 1, "rules/huge-limit.yaml:3:12", "`limit` must be a non-negative integer"),
    case("rules/undefined-alias.yaml", CHECK, 1, "rules/undefined-alias.yaml:8:17", "invalid YAML: while parsing node, found unknown anchor"),
    case("rules/recursive-alias.yaml", CHECK, 1, "rules/recursive-alias.yaml:6:17", "invalid YAML: unknown alias"),
    case("rules/latin1.yaml", CHECK, 1, "rules/latin1.yaml:1:1", "not a UTF-8 text file"),
    case("rules/only-comments.yaml", CHECK, 1, "rules/only-comments.yaml:1:1", "file holds no YAML document"),
    case("rules/recording-name-braces.yaml", CHECK, 1, "rules/recording-name-braces.yaml:4:17", "braces present in the recording rule name"),
    case("rules/recording-keep-firing.yaml", CHECK, 1, "rules/recording-keep-firing.yaml:4:17", "invalid field 'keep_firing_for' in recording rule"),
    case("rules/groups-not-a-list.yaml", CHECK, 1, "rules/groups-not-a-list.yaml:2:3", "`groups` must be a list, found a mapping"),
    case("rules/bad-query-offset.yaml", CHECK, 1, "rules/bad-query-offset.yaml:3:19", r#"`query_offset`: not a valid duration string: "30 seconds""#),
    case("rules/label-name-dunder.yaml", CHECK, 1, "rules/label-name-dunder.yaml:7:11", "invalid label name: __name__"),
    case("rules/for-wrong-unit-order.yaml", CHECK, 1, "rules/for-wrong-unit-order.yaml:6:14", r#"`for`: not a valid duration string: "30s5m""#),
    case("rules/unclosed-quote.yaml", CHECK, 1, "rules/unclosed-quote.yaml:5:24", "invalid YAML: invalid trailing content after double-quoted scalar"),
    case("rules/empty.yaml", CHECK, 1, "rules/empty.yaml:1:1", "file holds no YAML document"),
    case("series/empty.yml", EXPORT, 2, "series/empty.yml:1", "the file is empty"),
    case("series/empty.yml", EVAL, 2, "series/empty.yml:1", "the file is empty; a series fixture needs at least one series"),
    case("openmetrics/blank.om", DRYSERIES, 2, "openmetrics/blank.om:1", "the file is empty"),
    case("rules/bad-for-duration.yaml", DRYRULES, 1, "rules/bad-for-duration.yaml:6:14", r#"`for`: not a valid duration string: "5mins""#),
    case("rules/unclosed-quote.yaml", TUNERULES, 1, "rules/unclosed-quote.yaml:5:24", "invalid YAML: invalid trailing content after double-quoted scalar"),
    case("rules/missing-expr.yaml", TEST, 1, "rules/missing-expr.yaml:1:1", "no rule unit test in this file"),
    case("prometheusrule/spec-typo.yaml", CHECK, 1, "prometheusrule/spec-typo.yaml:7:3", "PrometheusRule monitoring/api: field `groups` must be set"),
    case("prometheusrule/bad-expr.yaml", CHECK, 1, "prometheusrule/bad-expr.yaml:10:106", r#"PrometheusRule api: group "api", rule 1, "ApiSlow": could not parse expression: 1:90: parse error: unclosed left parenthesis"#),
    case("prometheusrule/bad-partial-response.yaml", CHECK, 1, "prometheusrule/bad-partial-response.yaml:8:34", r#"`partial_response_strategy` must be warn or abort, not "sometimes""#),
    case("prometheusrule/rules-wrong-type.yaml", CHECK, 1, "prometheusrule/rules-wrong-type.yaml:8:14", "PrometheusRule api: `rules` must be a list, found a scalar"),
    case("wrapped/configmap-broken-rules.yaml", CHECK, 1, "wrapped/configmap-broken-rules.yaml:12:18", r#"ConfigMap prometheus-rules, key api.rules.yaml: `for`: not a valid duration string: "five minutes""#),
    case("wrapped/secret-bad-base64.yaml", CHECK, 1, "wrapped/secret-bad-base64.yaml:7:22", "Secret alertmanager-main: `data.alertmanager.yaml` is not valid base64"),
    case("wrapped/secret-bad-base64.yaml", DRYAM, 1, "wrapped/secret-bad-base64.yaml:7:22", "is not valid base64"),
    case("wrapped/list-bad-item.yaml", CHECK, 1, "wrapped/list-bad-item.yaml:12:15", "field 'expr' must be set in rule"),
    case("wrapped/configmap-am-undefined-receiver.yaml", CHECK, 1, "wrapped/configmap-am-undefined-receiver.yaml:11:21", r#"undefined receiver "dba-pager" used in route"#),
    case("wrapped/configmap-am-undefined-receiver.yaml", ROUTES, 1, "wrapped/configmap-am-undefined-receiver.yaml:11:21", r#"undefined receiver "dba-pager" used in route"#),
    case("wrapped/list-items-not-list.yaml", CHECK, 1, "wrapped/list-items-not-list.yaml:4:3", "List: `items` must be a list, found a mapping"),
    case("alertmanager/unknown-receiver.yml", CHECK, 1, "alertmanager/unknown-receiver.yml:5:17", r#"undefined receiver "pagerduty" used in route"#),
    case("alertmanager/unknown-receiver.yml", ROUTES, 1, "alertmanager/unknown-receiver.yml:5:17", r#"undefined receiver "pagerduty" used in route"#),
    case("alertmanager/matcher-bad-regex.yml", CHECK, 1, "alertmanager/matcher-bad-regex.yml:4:18", "error parsing regexp: unclosed group: `^(?:(api|web)$`"),
    case("alertmanager/matcher-bad-regex.yml", DRYAM, 1, "alertmanager/matcher-bad-regex.yml:4:18", "error parsing regexp: unclosed group: `^(?:(api|web)$`"),
    case("alertmanager/matcher-no-operator.yml", ROUTES, 1, "alertmanager/matcher-no-operator.yml:4:18", "bad matcher format: severity critical"),
    case("alertmanager/duplicate-receiver.yml", CHECK, 1, "alertmanager/duplicate-receiver.yml:5:5", r#"notification config name "team" is not unique"#),
    case("alertmanager/bad-group-wait.yml", TREE, 1, "alertmanager/bad-group-wait.yml:3:15", r#"not a valid duration string: "30 sec""#),
    case("alertmanager/negative-repeat-interval.yml", CHECK, 1, "alertmanager/negative-repeat-interval.yml:3:20", r#"not a valid duration string: "-4h""#),
    case("alertmanager/missing-route.yml", CHECK, 1, "alertmanager/missing-route.yml:1:1", "no routes provided"),
    case("alertmanager/typo-receivers.yml", CHECK, 1, "alertmanager/typo-receivers.yml:2:13", r#"undefined receiver "default" used in route"#),
    case("alertmanager/bad-weekday.yml", CHECK, 1, "alertmanager/bad-weekday.yml:12:32", "sundy is not a valid weekday"),
    case("alertmanager/bad-weekday.yml", TUNEAM, 1, "alertmanager/bad-weekday.yml:12:32", "sundy is not a valid weekday"),
    case("alertmanager/unknown-time-interval.yml", ROUTES, 1, "alertmanager/unknown-time-interval.yml:4:7", r#"undefined time interval "office-hours" used in route"#),
    case("alertmanager/inhibit-bad-matcher.yml", CHECK, 1, "alertmanager/inhibit-bad-matcher.yml:7:23", r#"matcher value contains unescaped double quote: ="warning""#),
    case("alertmanager/email-missing-to.yml", CHECK, 1, "alertmanager/email-missing-to.yml:9:9", "missing to address in email config"),
    case("alertmanager/webhook-bad-url.yml", CHECK, 1, "alertmanager/webhook-bad-url.yml:6:9", r#"unsupported scheme "" for URL"#),
    case("alertmanager/group-by-wrong-type.yml", CHECK, 1, "alertmanager/group-by-wrong-type.yml:3:13", "group_by must be a list, not a scalar"),
    case("alertmanager/bad-time-range.yml", CHECK, 1, "alertmanager/bad-time-range.yml:9:13", "couldn't parse timestamp 25:00, invalid format"),
    case("alertmanager/tab-indent.yml", ROUTES, 1, "alertmanager/tab-indent.yml:2:2", "tabs disallowed within this context (block indentation)"),
    case("crd/route-typo.yaml", CRD, 1, "crd/route-typo.yaml:8:5", "field reciever not found in AlertmanagerConfig route"),
    case("crd/bad-match-type.yaml", CRD, 1, "crd/bad-match-type.yaml:12:20", r#"matchType "==": expected one of =, !=, =~, !~"#),
    case("crd/undefined-receiver.yaml", CRD, 1, "crd/undefined-receiver.yaml:10:19", r#"AlertmanagerConfig shop/web: undefined receiver "web-pager" used in route"#),
    case("crd/bad-group-wait.yaml", CRD, 1, "crd/bad-group-wait.yaml:9:16", r#"`groupWait`: not a valid duration string: "10 seconds""#),
    // `check` validates AlertmanagerConfig objects on their own too.
    case("crd/route-typo.yaml", CHECK, 1, "crd/route-typo.yaml:8:5", "field reciever not found in AlertmanagerConfig route"),
    case("crd/bad-match-type.yaml", CHECK, 1, "crd/bad-match-type.yaml:12:20", r#"matchType "==": expected one of =, !=, =~, !~"#),
    case("crd/undefined-receiver.yaml", CHECK, 1, "crd/undefined-receiver.yaml:10:19", r#"undefined receiver "web-pager" used in route"#),
    case("crd/bad-group-wait.yaml", CHECK, 1, "crd/bad-group-wait.yaml:9:16", r#"`groupWait`: not a valid duration string: "10 seconds""#),
    case("testfile/glob-matches-nothing.test.yml", TEST, 1, "testfile/glob-matches-nothing.test.yml:2:5", r#"rule_files: "rules/*.yaml" matches no file"#),
    case("testfile/missing-rule-file.test.yml", TEST, 1, "testfile/missing-rule-file.test.yml:2:5", r#"rule_files: "api-rules.yaml" matches no file"#),
    case("testfile/values-bad-expansion.test.yml", TEST, 1, "testfile/values-bad-expansion.test.yml:7", r#"values "1+0x10 0x": column 10: invalid repetition count """#),
    case("testfile/values-word.test.yml", TEST, 1, "testfile/values-word.test.yml:7", r#"values "1 1 down 0": column 5: invalid value "down""#),
    case("testfile/series-unclosed-brace.test.yml", TEST, 1, "testfile/series-unclosed-brace.test.yml:6", "column 13: unexpected end of series descriptor"),
    case("testfile/bad-interval.test.yml", TEST, 1, "testfile/bad-interval.test.yml:4:15", r#"`interval`: not a valid duration string: "1 minute""#),
    case("testfile/typo-alert-rule-test.test.yml", TEST, 1, "testfile/typo-alert-rule-test.test.yml:8:5", "field alert_rules_test not found in test group"),
    case("testfile/exp-alerts-wrong-type.test.yml", TEST, 1, "testfile/exp-alerts-wrong-type.test.yml:12:11", "`exp_alerts` must be a list, found a mapping"),
    // promtool runs a test without `expr` as the empty query, which fails there (issue #29).
    case("testfile/promql-test-missing-expr.test.yml", TEST, 1, "testfile/promql-test-missing-expr.test.yml:9", "1:1: parse error: no expression found in input"),
    case("testfile/negative-eval-time.test.yml", TEST, 1, "testfile/negative-eval-time.test.yml:9:20", r#"`eval_time`: not a valid duration string: "-5m""#),
    case("testfile/bad-exp-samples-labels.test.yml", TEST, 1, "testfile/bad-exp-samples-labels.test.yml:9", r#"expected labels "up{job=api}": column 8: expected a quoted label value"#),
    case("testfile/eval-time-before-start.test.yml", TEST, 1, "testfile/eval-time-before-start.test.yml:11:20", r#"`eval_time`: not a valid duration string: "2026-11-02T09:00:00Z""#),
    case("testfile/group-eval-order-repeated.test.yml", TEST, 1, "testfile/group-eval-order-repeated.test.yml:5:5", "group name repeated in evaluation order: api"),
    case("testfile/typo-alert-rule-test.test.yml", CHECK, 1, "testfile/typo-alert-rule-test.test.yml:8:5", "field alert_rules_test not found in test group"),
    case("routes_test/missing-config.test.yml", TEST, 1, "routes_test/missing-config.test.yml:1:22", "routes_test/alertmanger.yml: No such file or directory"),
    case("routes_test/labels-as-string.test.yml", TEST, 1, "routes_test/labels-as-string.test.yml:3:13", "`labels` must be a mapping, found a scalar"),
    case("routes_test/config-broken.test.yml", TEST, 1, "routes_test/broken-alertmanager.yml:6:17", r#"undefined receiver "pagerduty" used in route"#),
    case("routes_test/receivers-typo.test.yml", TEST, 1, "routes_test/receivers-typo.test.yml:4:5", "field recievers not found in routes test"),
    case("routes_test/broken-alertmanager.yml", CHECK, 1, "routes_test/broken-alertmanager.yml:6:17", r#"undefined receiver "pagerduty" used in route"#),
    case("series/values-bad-expansion.yml", EVAL, 2, "series/values-bad-expansion.yml:4", r#"values "1x100 0+x20": column 9: invalid value """#),
    case("series/values-bad-expansion.yml", DRYSERIES, 2, "series/values-bad-expansion.yml:4", r#"values "1x100 0+x20": column 9: invalid value """#),
    case("series/series-bad-label.yml", EVAL, 2, "series/series-bad-label.yml:6", r#"series "up{job=api}": column 8: expected a quoted label value"#),
    case("series/bad-interval.yml", EXPORT, 2, "series/bad-interval.yml:2", r#"not a valid duration string: "15 seconds""#),
    case("series/huge-repeat.yml", TUNESERIES, 2, "series/huge-repeat.yml:4", r#"invalid repetition count "99999999999999999999""#),
    case("series/load-block-bad-interval.test", EVAL, 2, "series/load-block-bad-interval.test:1", r#"not a valid duration string: "5 minutes""#),
    case("openmetrics/missing-eof.om", EXPORT, 2, "openmetrics/missing-eof.om:2", r##"looks like Unix seconds: end an OpenMetrics file with a "# EOF" line"##),
    case("openmetrics/missing-eof.om", DRYSERIES, 2, "openmetrics/missing-eof.om:2", "read as Unix milliseconds is in January 1970"),
    case("openmetrics/no-timestamp.om", EXPORT, 2, "openmetrics/no-timestamp.om:3", "sample has no timestamp; a series fixture needs one on every sample"),
    case("openmetrics/bad-value.om", DRYSERIES, 2, "openmetrics/bad-value.om:3", r#"invalid value "one""#),
    case("openmetrics/unclosed-labels.om", EXPORT, 2, "openmetrics/unclosed-labels.om:2", "expected ',' or '}' at column 14"),
    case("openmetrics/after-eof.om", TUNESERIES, 2, "openmetrics/after-eof.om:4", r##"content after "# EOF""##),
    case("api_json/truncated.json", EXPORT, 2, "api_json/truncated.json:3:1", "invalid JSON: EOF while parsing a list"),
    case("api_json/error-response.json", TUNESERIES, 2, "api_json/error-response.json", r#"bad_data: invalid parameter "query""#),
    case("api_json/wrong-result-type.json", EXPORT, 2, "api_json/wrong-result-type.json: $.data.resultType", r#""scalar" results hold no series; expected "matrix" or "vector""#),
    case("api_json/bad-timestamp.json", DRYSERIES, 2, "api_json/bad-timestamp.json: $.data.result[0].values[1]", "time must be Unix seconds"),
    case("api_json/metric-not-object.json", EXPORT, 2, "api_json/metric-not-object.json: $.data.result[0].metric", "expected an object of label names to values"),
    case("promql_test/unknown-command.test", PROMQL, 1, "promql_test/unknown-command.test:4", r#"unknown command "evaluate""#),
    case("promql_test/load-bad-interval.test", PROMQL, 1, "promql_test/load-bad-interval.test:1", r#"invalid load command (load <step:duration>): not a valid duration string: "5 min""#),
    case("promql_test/eval-bad-time.test", PROMQL, 1, "promql_test/eval-bad-time.test:4", r#"invalid time "fifty""#),
    case("promql_test/load-bad-values.test", PROMQL, 1, "promql_test/load-bad-values.test:2", r#"cannot read load line: column 40: invalid value "a""#),
    case("promql_test/expected-bad-labels.test", PROMQL, 1, "promql_test/expected-bad-labels.test:4", "column 8: expected a quoted label value"),
    case("promql_test/eval-range-bad-step.test", PROMQL, 1, "promql_test/eval-range-bad-step.test:4", "zero or negative query resolution step widths are not accepted"),
    case("promql_test/series-outside-block.test", PROMQL, 1, "promql_test/series-outside-block.test:1", r#"unknown command "up{job=\"api\"}""#),
    case("promql_test/eval-missing-expr.test", PROMQL, 1, "promql_test/eval-missing-expr.test:4", "missing query"),
];

/// Valid files the broken ones lean on (a test file's rule file, a routing test's config).
const HELPERS: &[&str] = &["testfile/rules.yaml", "routes_test/alertmanager.yml"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The corpus files, relative to fixtures/malformed/. Fails loudly when the folder is missing.
fn corpus() -> BTreeSet<String> {
    let dir = root().join(M);
    assert!(dir.is_dir(), "corpus missing at {}", dir.display());
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    files
        .iter()
        .map(|p| {
            p.strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

/// `text` holds `want` not followed by another digit (so `x.yaml:6:1` does not match `x.yaml:6:14`).
fn contains_location(text: &str, want: &str) -> bool {
    text.match_indices(want).any(|(i, _)| {
        !text[i + want.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

#[test]
fn every_broken_file_fails_cleanly_at_its_line() {
    let mut problems = Vec::new();
    for c in CASES {
        let file = format!("{M}{}", c.file);
        let args = c.cmd.args(&file);
        let out = Command::cargo_bin("ruletest")
            .unwrap()
            .current_dir(root())
            .args(&args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let code = out.status.code();
        let mut wrong = Vec::new();
        if code == Some(101) || text.contains("panicked") {
            wrong.push("PANICKED".to_string());
        }
        if code != Some(c.status) {
            wrong.push(format!("exit status {code:?}, expected {}", c.status));
        }
        let at = format!("{M}{}", c.at);
        if !contains_location(&text, &at) {
            wrong.push(format!("no location `{at}`"));
        }
        if !text.contains(c.says) {
            wrong.push(format!("no message `{}`", c.says));
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "ruletest {}\n  {}\n{}",
                args.join(" "),
                wrong.join("; "),
                text.lines().take(8).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases wrong:\n\n{}",
        problems.len(),
        CASES.len(),
        problems.join("\n\n")
    );
}

#[test]
fn the_corpus_covers_every_kind_and_command() {
    let files = corpus();
    let used: BTreeSet<String> = CASES.iter().map(|c| c.file.to_string()).collect();
    for f in &files {
        assert!(
            used.contains(f) || HELPERS.contains(&f.as_str()),
            "{M}{f} is in the corpus but no case runs it"
        );
    }
    for f in &used {
        assert!(files.contains(f), "case names {M}{f}, which does not exist");
    }
    let broken = files.len() - HELPERS.len();
    assert!(broken >= 60, "only {broken} broken files");
    let mut per_kind = std::collections::BTreeMap::new();
    for f in files.iter().filter(|f| !HELPERS.contains(&f.as_str())) {
        let kind = f.split('/').next().unwrap().to_string();
        *per_kind.entry(kind).or_insert(0) += 1;
    }
    for kind in [
        "rules",
        "prometheusrule",
        "wrapped",
        "alertmanager",
        "crd",
        "testfile",
        "routes_test",
        "series",
        "openmetrics",
        "api_json",
        "promql_test",
    ] {
        let n = per_kind.get(kind).copied().unwrap_or(0);
        assert!(
            n >= 3,
            "kind {kind} has only {n} broken files: {per_kind:?}"
        );
    }
    let commands: BTreeSet<Cmd> = CASES.iter().map(|c| c.cmd).collect();
    for cmd in ALL_COMMANDS {
        assert!(commands.contains(&cmd), "no case runs {cmd:?}");
    }
    for c in CASES {
        assert!(
            c.status == 1 || c.status == 2,
            "{}: expected status must be 1 or 2",
            c.file
        );
    }
}
