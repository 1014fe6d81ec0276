//! `ruletest promql-format`: Prometheus's canonical form of a query, split across lines when long; errors with
//! line and column, exit 1; standard input with `-`; formatting is idempotent.

use assert_cmd::Command;

fn format(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("ruletest").unwrap();
    cmd.arg("promql-format").args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn short_queries_print_on_one_line_in_canonical_form() {
    let (code, out, _) = format(
        &["sum by(job)(rate(x{b='2',a=\"1\"}[5m] offset 90s))"],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "sum by (job) (rate(x{a=\"1\",b=\"2\"}[5m] offset 1m30s))\n"
    );
}

#[test]
fn long_queries_split_as_prometheus_splits_them() {
    let q = "sum by(job)(rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m])) / sum by(job)(rate(http_requests_total{job=\"api\"}[5m])) > 0.05";
    let (code, out, _) = format(&[q], None);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "    sum by (job) (rate(http_requests_total{code=~\"5..\",job=\"api\"}[5m]))\n  /\n    sum by (job) (rate(http_requests_total{job=\"api\"}[5m]))\n>\n  0.05\n"
    );
    // Formatting the output again changes nothing.
    let (code, again, _) = format(&["-"], Some(&out));
    assert_eq!(code, 0);
    assert_eq!(again, out);
}

#[test]
fn invalid_queries_get_prometheus_errors_with_line_and_column() {
    let (code, out, err) = format(&["-"], Some("sum(\n  rate(x[5m]"));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(err.trim(), "2:13: parse error: unclosed left parenthesis");
    // Experimental syntax needs its feature, as in Prometheus.
    let (code, _, err) = format(&["x[5m * 2]"], None);
    assert_eq!(code, 1);
    assert!(
        err.contains("experimental duration expression is not enabled"),
        "{err}"
    );
    let (code, out, _) = format(
        &["--enable-feature", "promql-duration-expr", "x[5m*2]"],
        None,
    );
    assert_eq!((code, out.as_str()), (0, "x[5m * 2]\n"));
}
