//! The HTML report (`dry-run --html`), checked in a real browser: Debian's headless `chromium` loads each page
//! from disk, runs its script, and dumps the DOM; the test reads the content back (alerts, receivers, counts),
//! checks that hostile strings from the user's files stay text, that the script ran without an error, and
//! saves a screenshot of each page under the test's output directory
//! (`target/tmp/html-report/`). Without chromium the browser part is skipped with a message; `.ci/run`
//! installs it.
//!
//! The page itself (written without a browser) is checked first: self-contained and escaped.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `ruletest dry-run ARGS --html FILE` and returns the page.
fn dry_run_html(args: &[&str], page: &Path) -> String {
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .arg("dry-run")
        .args(args)
        .arg("--html")
        .arg(page)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0),
        "dry-run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(page).unwrap()
}

fn example(page: &Path) -> String {
    dry_run_html(
        &[
            "--rules",
            "rules/",
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
            "--alertmanager",
            "rules/alertmanager-config.yaml",
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
        ],
        page,
    )
}

/// `tune --html` over the shipped example, with a known incident.
fn tune_page(dir: &Path, page: &Path) -> String {
    let incidents = dir.join("incidents.yml");
    std::fs::write(
        &incidents,
        "incidents:\n- start: 2026-11-02T11:00:00Z\n  end: 2026-11-02T11:30:00Z\n  labels: {pod: api-7d9f}\n",
    )
    .unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .current_dir(root())
        .args([
            "tune",
            "--rules",
            "rules/",
            "--series",
            "fixtures/chat2sql/crash-loop.yml",
            "--alertmanager",
            "rules/alertmanager-config.yaml",
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T12:00:00Z",
            "--alert",
            "PodCrashLooping",
            "--threshold",
            "0,0.001,0.002,0.003",
            "--for",
            "30s,5m,15m",
            "--incidents",
        ])
        .arg(&incidents)
        .arg("--html")
        .arg(page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tune failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(page).unwrap()
}

#[test]
fn the_tune_page_holds_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let html = tune_page(dir.path(), &dir.path().join("tune.html"));
    assert_self_contained(&html);
    assert!(html.contains("<b>12</b><span>combinations</span>"));
    // The rule's own setting (> 0, for 5m) is the highlighted row, and the table sorts.
    assert_eq!(html.matches("<tr class=\"current\">").count(), 1);
    assert!(html.contains("<span data-sort=\"0\">0</span> <span class=\"tag\">the rule's</span>"));
    assert!(html.contains("class=\"sortable\""));
    // One plot per threshold, the incident marked on each, with what each detected.
    assert_eq!(html.matches("<svg class=\"plot\"").count(), 4);
    assert_eq!(html.matches("class=\"span span-incident\"").count(), 4);
    assert!(html.contains("&gt; 0 (the rule's setting)"));
    assert!(html.contains("incidents detected: 1, mean time to detect: 5m"));
}

const FAILING_RULES: &str = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 1m\n    labels: {severity: page}\n    annotations: {summary: 'instance {{ $labels.instance }} is down'}\n  - record: job:up:sum\n    expr: sum by (job) (up)\n";

/// One group passes; one expects an alert on the wrong instance and a wrong recorded value.
const FAILING_TESTS: &str = r#"rule_files: [rules.yml]
evaluation_interval: 1m
tests:
- name: passes
  interval: 1m
  input_series:
  - series: 'up{job="api", instance="a"}'
    values: '0x5'
  alert_rule_test:
  - eval_time: 3m
    alertname: Down
    exp_alerts:
    - exp_labels: {severity: page, instance: a, job: api}
      exp_annotations: {summary: 'instance a is down'}
- name: fails
  interval: 1m
  input_series:
  - series: 'up{job="api", instance="a"}'
    values: '0x5'
  - series: 'up{job="api", instance="b"}'
    values: '1x5'
  alert_rule_test:
  - eval_time: 3m
    alertname: Down
    exp_alerts:
    - exp_labels: {severity: page, instance: b, job: api}
      exp_annotations: {summary: 'instance b is down'}
  promql_expr_test:
  - expr: job:up:sum
    eval_time: 3m
    exp_samples:
    - labels: 'job:up:sum{job="api"}'
      value: 2
"#;

fn test_page(dir: &Path, page: &Path) -> String {
    std::fs::write(dir.join("rules.yml"), FAILING_RULES).unwrap();
    std::fs::write(dir.join("rules_test.yml"), FAILING_TESTS).unwrap();
    let out = Command::cargo_bin("ruletest")
        .unwrap()
        .arg("test")
        .arg(dir.join("rules_test.yml"))
        .arg("--coverage")
        .arg("--html")
        .arg(page)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(page).unwrap()
}

#[test]
fn the_test_page_shows_expected_beside_actual() {
    let dir = tempfile::tempdir().unwrap();
    let html = test_page(dir.path(), &dir.path().join("test.html"));
    assert_self_contained(&html);
    assert!(html.contains("<b>1</b><span>groups passed</span>"));
    assert!(html.contains("<b>1</b><span>failed</span>"));
    // The failing group links to its failures: the alert expected on b is missing, the one on a unexpected,
    // and the recorded sample's value differs.
    assert!(html.contains("<a href=\"#group-0-1\">fails</a>"));
    assert_eq!(html.matches("<span class=\"tag missing\">").count(), 2);
    assert_eq!(html.matches("<span class=\"tag unexpected\">").count(), 2);
    assert!(html.contains("instance a is down") && html.contains("instance b is down"));
    assert!(html.contains("job:up:sum{job=&quot;api&quot;} 2"));
    assert!(html.contains("job:up:sum{job=&quot;api&quot;} 1"));
    assert!(html.contains("<h2 id=\"coverage\">Coverage</h2>"));
}

const HOSTILE_RULES: &str = r#"groups:
- name: hostile
  interval: 1m
  rules:
  - alert: Hostile
    expr: hostile_metric > 0
    labels:
      severity: page
      note: "\"quoted\" & <b>bold</b>"
    annotations:
      summary: "<script>document.documentElement.setAttribute('data-pwned', '1')</script> on {{ $labels.pod }}"
      description: "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned', '2')\"> ünïcödé ✓ 告警"
  - alert: HostileEcho
    expr: hostile_metric > 0
    labels:
      severity: info
"#;

const HOSTILE_SERIES: &str = r#"interval: 1m
input_series:
- series: 'hostile_metric{pod="<i>p\"o''d</i>", zone="東京"}'
  values: '0 0 1x20 0x10'
"#;

const HOSTILE_AM: &str = r#"route:
  receiver: "<script>x</script>"
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 5m
receivers:
- name: "<script>x</script>"
  webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]
inhibit_rules:
- source_matchers: [severity="page"]
  target_matchers: [severity="info"]
  equal: [pod]
"#;

fn hostile(dir: &Path, page: &Path) -> String {
    std::fs::write(dir.join("rules.yml"), HOSTILE_RULES).unwrap();
    std::fs::write(dir.join("series.yml"), HOSTILE_SERIES).unwrap();
    std::fs::write(dir.join("am.yml"), HOSTILE_AM).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    dry_run_html(
        &[
            "--rules",
            &p("rules.yml"),
            "--series",
            &p("series.yml"),
            "--alertmanager",
            &p("am.yml"),
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T10:40:00Z",
        ],
        page,
    )
}

/// A run with 10,000 notifications: 200 series firing for 100 minutes, each its own group, notified every
/// other minute (a repeat interval of 1m is due at the second group interval after a notification).
fn large(dir: &Path, page: &Path) -> String {
    let mut series = String::from("interval: 1m\ninput_series:\n");
    for i in 0..200 {
        series.push_str(&format!(
            "- series: 'load_metric{{instance=\"host-{i:03}\"}}'\n  values: '1x105'\n"
        ));
    }
    std::fs::write(dir.join("series.yml"), series).unwrap();
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n- name: load\n  interval: 1m\n  rules:\n  - alert: Loaded\n    expr: load_metric > 0\n    labels: {severity: page}\n    annotations: {summary: '{{ $labels.instance }} is loaded'}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("am.yml"),
        "route:\n  receiver: pager\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1m\n  repeat_interval: 1m\nreceivers:\n- name: pager\n  webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]\n",
    )
    .unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    dry_run_html(
        &[
            "--rules",
            &p("rules.yml"),
            "--series",
            &p("series.yml"),
            "--alertmanager",
            &p("am.yml"),
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T11:39:30Z",
        ],
        page,
    )
}

/// The page needs nothing from anywhere: no external script, style, image or font.
fn assert_self_contained(html: &str) {
    for needle in [
        "<script src",
        "<link",
        "<img",
        "@import",
        "url(http",
        "<iframe",
    ] {
        assert!(!html.contains(needle), "the page fetches: {needle}");
    }
    assert_eq!(html.matches("<script").count(), 1, "one inline script");
}

#[test]
fn the_example_page_holds_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let html = example(&page);
    assert_self_contained(&html);
    // Summary: six alerting rules, one alert fired, ten notifications to one receiver.
    for card in [
        "<b>6</b><span>alerting rules</span>",
        "<b>1</b><span>alerts fired</span>",
        "<b>10</b><span>notifications</span>",
        "<b>1</b><span>receivers notified</span>",
    ] {
        assert!(html.contains(card), "{card}");
    }
    // The alert links to its rule's section, which names the file and line, and has its plot.
    assert!(html.contains("<a href=\"#rule-3\">PodCrashLooping</a>"));
    assert!(html.contains("<code>rules/chat2sql-prometheus-rules.yaml:56</code>"));
    assert_eq!(html.matches("<svg class=\"plot\"").count(), 1);
    assert!(html.contains("rate(kube_pod_container_status_restarts_total[15m])"));
    // Each notification links to the route that matched, and has its text.
    assert_eq!(
        html.matches("<a href=\"#route-0\">root › 1</a>").count(),
        10
    );
    assert!(html.contains("<li id=\"route-0\">"));
    assert_eq!(html.matches("<summary>text</summary>").count(), 10);
    // Secrets of the configuration are not on the page.
    assert!(!html.contains("smtp-password"));
}

#[test]
fn hostile_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hostile.html");
    let html = hostile(dir.path(), &page);
    assert_self_contained(&html);
    assert!(!html.contains("<script>document"));
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b>bold</b>") && !html.contains("<i>p"));
    assert!(html.contains("&lt;script&gt;document.documentElement.setAttribute("));
    assert!(html.contains("ünïcödé ✓ 告警") && html.contains("東京"));
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
    // The echo alert's group is inhibited, and the page says by which rule and which source alert.
    assert!(
        html.contains("<div>by inhibit rule 1, line 11 (source Hostile <span class=\"labels\">"),
        "{html}"
    );
    // In its rule's episode table, the echo alert (and only it) is tagged inhibited.
    assert_eq!(
        html.matches("resolved</span> <span class=\"tag inhibited\">inhibited</span>")
            .count(),
        1,
        "{html}"
    );
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RULETEST_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// What the browser made of a page: its DOM after the script ran, and its log.
struct Loaded {
    dom: String,
    log: String,
}

fn browser(chromium: &Path, profile: &Path, extra: &[String], page: &Path) -> (String, String) {
    // Bounded: a browser that hangs fails the test instead of holding the suite.
    let out = Process::new("timeout")
        .args(["--kill-after=5", "120"])
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn load(chromium: &Path, page: &Path, shot: &Path) -> Loaded {
    let profile = tempfile::tempdir().unwrap();
    let (dom, log) = browser(
        chromium,
        profile.path(),
        &["--dump-dom".into(), "--virtual-time-budget=5000".into()],
        page,
    );
    let (_, shot_log) = browser(
        chromium,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
            "--hide-scrollbars".into(),
        ],
        page,
    );
    assert!(
        shot.exists(),
        "no screenshot at {}: {shot_log}",
        shot.display()
    );
    Loaded { dom, log }
}

/// The script ran to its end, recorded no error, and the browser logged none.
fn assert_script_ran(l: &Loaded, what: &str) {
    assert!(
        l.dom.contains("data-ready=\"1\""),
        "{what}: the page's script did not run to its end: {}",
        &l.dom[..l.dom.len().min(400)]
    );
    assert!(
        !l.dom.contains("data-errors="),
        "{what}: script errors: {}",
        l.dom
    );
    for line in l.log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("Error"))),
            "{what}: console error: {line}"
        );
    }
}

/// The load time the page measured (`data-load-ms`: from navigation start to its `load` event, layout done).
fn load_ms(dom: &str) -> f64 {
    let at = dom
        .find("data-load-ms=\"")
        .expect("the page records its load time")
        + 14;
    let end = dom[at..].find('"').unwrap();
    dom[at..at + end].parse().unwrap()
}

/// The page with a script of the test's after its own: what a person's clicks would do.
fn with_script(html: &str, script: &str) -> String {
    assert_eq!(html.matches("</body>").count(), 1);
    html.replace("</body>", &format!("<script>{script}</script></body>"))
}

/// Sorts the sweep by "for" twice and records the sort keys in row order after each.
const SORT_BY_FOR: &str = r#"
(function () {
  var t = document.getElementById('sweep-table');
  var col = Array.prototype.map.call(t.tHead.rows[0].cells, function (h) { return h.textContent; }).indexOf('for');
  function keys() {
    return Array.prototype.map.call(t.tBodies[0].rows, function (r) {
      return r.cells[col].querySelector('[data-sort]').getAttribute('data-sort');
    }).join(',');
  }
  t.tHead.rows[0].cells[col].click();
  document.documentElement.setAttribute('data-up', keys());
  t.tHead.rows[0].cells[col].click();
  document.documentElement.setAttribute('data-down', keys());
})();
"#;

/// Clicks "next" under the notification table and records where the visible rows start and how many.
const NEXT_PAGE: &str = r#"
(function () {
  var t = document.querySelector('table.paged[id^="notifications-"]');
  t.parentNode.querySelector('.pager button:last-child').click();
  var rows = Array.prototype.slice.call(t.tBodies[0].rows);
  var first = rows.findIndex(function (r) { return !r.hidden; });
  var shown = rows.filter(function (r) { return !r.hidden; }).length;
  document.documentElement.setAttribute('data-visible', first + ',' + shown);
})();
"#;

#[test]
fn pages_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: no chromium (install Debian's chromium, or set RULETEST_CHROMIUM); .ci/run installs it"
        );
        return;
    };
    let out = out_dir();
    let dir = tempfile::tempdir().unwrap();

    // The shipped example.
    let page = out.join("dry-run-example.html");
    example(&page);
    let l = load(&chromium, &page, &out.join("dry-run-example.png"));
    assert_script_ran(&l, "example");
    assert!(l.dom.contains("PodCrashLooping"));
    assert!(l.dom.contains("critical-alerts"));
    assert!(l.dom.contains("<b>10</b><span>notifications</span>"));

    // Hostile strings: no script of theirs ran, no element of theirs exists; their text is there.
    let page = out.join("dry-run-hostile.html");
    hostile(dir.path(), &page);
    let l = load(&chromium, &page, &out.join("dry-run-hostile.png"));
    assert_script_ran(&l, "hostile");
    let html_tag = &l.dom[l.dom.find("<html").unwrap()..];
    let html_tag = &html_tag[..html_tag.find('>').unwrap()];
    assert!(html_tag.contains("data-ready"), "{html_tag}");
    assert!(
        !html_tag.contains("data-pwned"),
        "a hostile script ran: {html_tag}"
    );
    assert_eq!(l.dom.matches("<script").count(), 1);
    assert!(!l.dom.contains("<img") && !l.dom.contains("<b>bold"));
    assert!(l.dom.contains("&lt;script&gt;document.documentElement"));
    assert!(l.dom.contains("ünïcödé ✓ 告警"));

    // The sweep page runs clean.
    let page = out.join("tune-example.html");
    let html = tune_page(dir.path(), &page);
    let l = load(&chromium, &page, &out.join("tune-example.png"));
    assert_script_ran(&l, "tune");
    assert!(l.dom.contains("PodCrashLooping"));
    assert_eq!(l.dom.matches("<svg class=\"plot\"").count(), 4);
    // A click on "for" sorts by the duration (its sort key, not its text: "30s" is less than "5m"), and a
    // second click reverses it. The click is a script of the test's, run after the page's.
    let clicked = dir.path().join("tune-sorted.html");
    std::fs::write(&clicked, with_script(&html, SORT_BY_FOR)).unwrap();
    let l = load(&chromium, &clicked, &out.join("tune-sorted.png"));
    assert_script_ran(&l, "tune sorted");
    let order = |attr: &str| -> Vec<f64> {
        let at = l.dom.find(&format!("{attr}=\"")).expect(attr) + attr.len() + 2;
        let end = l.dom[at..].find('"').unwrap();
        l.dom[at..at + end]
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let (up, down) = (order("data-up"), order("data-down"));
    assert_eq!(up.len(), 12);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    assert_eq!((up[0], down[0]), (30_000.0, 900_000.0));

    // Unit test results.
    let page = out.join("test-failures.html");
    test_page(dir.path(), &page);
    let l = load(&chromium, &page, &out.join("test-failures.png"));
    assert_script_ran(&l, "test");
    assert!(l.dom.contains("instance b is down"));

    // 10,000 notifications: shown a page of 100 rows at a time, the rest hidden until asked for.
    let page = out.join("dry-run-large.html");
    let started = Instant::now();
    let html = large(dir.path(), &page);
    let generated = started.elapsed();
    assert!(
        html.contains("<b>10000</b><span>notifications</span>"),
        "the generated run has 10,000 notifications"
    );
    let l = load(&chromium, &page, &out.join("dry-run-large.png"));
    assert_script_ran(&l, "large");
    assert!(l.dom.contains("page 1 of 100 (10000 rows)"), "pager");
    let ms = load_ms(&l.dom);
    // "next" shows the second page: rows 101 to 200 visible, the first hundred hidden.
    let paged = dir.path().join("large-next.html");
    std::fs::write(&paged, with_script(&html, NEXT_PAGE)).unwrap();
    let l2 = load(&chromium, &paged, &out.join("dry-run-large-page-2.png"));
    assert_script_ran(&l2, "large, next page");
    assert!(l2.dom.contains("page 2 of 100 (10000 rows)"), "pager");
    assert!(
        l2.dom.contains("data-visible=\"100,100\""),
        "{}",
        &l2.dom[..300]
    );
    // A figure for docs/performance.md, not an assertion on time.
    eprintln!(
        "10,000-notification page: {} KiB, written in {:.2} s, loaded in headless chromium in {ms:.0} ms",
        html.len() / 1024,
        generated.as_secs_f64()
    );
    eprintln!("screenshots: {}", out.display());
}
