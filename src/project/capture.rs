//! `capture` as a library function: recorded series and rules turned into a rule unit test file whose
//! expectations are what the rules did on that data (promtool's format). The series are selected, relabelled
//! and laid on the test's grid; the alerts (and, on request, recording rules' outputs) are checked at the
//! times asked for. The front end writes the text where the user asked.

use crate::load::rules::{RuleFile, RuleKind};
use crate::promql::syntax::ast::Expr;
use crate::rules::capture::{self, Capture};
use crate::series::histogram::FloatHistogram;
use crate::series::store::Store;
use crate::series::Labels;
use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What to capture.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The window (the test's time 0 and its last sample slot), Unix milliseconds.
    pub from_ms: i64,
    pub to_ms: i64,
    /// The test's sample and evaluation interval; a sample between two slots goes to the later one.
    pub interval_ms: i64,
    /// When to check the alerts, inside the window; empty: at `to_ms`.
    pub at_ms: Vec<i64>,
    /// Keep only the series these selectors match (all, when empty).
    pub matches: Vec<String>,
    /// Labels dropped from every series.
    pub drop_labels: Vec<String>,
    /// Labels renamed, (old, new).
    pub renames: Vec<(String, String)>,
    /// Also check every recording rule's output.
    pub recordings: bool,
    /// Also check the alerts that fire at none of the times (expected silent).
    pub all_alerts: bool,
    /// The test group's name.
    pub name: String,
    /// Where the test file will be written: its `rule_files` are relative to its directory (to the current
    /// directory without one).
    pub output: Option<PathBuf>,
    /// Where the series came from, for the file's header.
    pub sources: Vec<String>,
}

/// A captured test file.
pub struct Captured {
    pub text: String,
    /// Series written.
    pub series: usize,
    /// Samples off the grid, moved to the next slot.
    pub off_grid: usize,
    /// Times the alerts are checked at.
    pub checked_at: usize,
}

/// Writes the test of `rule_files` over `store`. Errors name the option to change: a `--match` that is not a
/// selector, two series that relabelling makes one, no rule file.
pub fn run(rule_files: &[RuleFile], store: &Store, opts: &Options) -> anyhow::Result<Captured> {
    let (from, to) = (opts.from_ms, opts.to_ms);
    let at = if opts.at_ms.is_empty() {
        vec![to]
    } else {
        opts.at_ms.clone()
    };
    // Rules: the files, and the names to check.
    let mut alertnames = BTreeSet::new();
    let mut recordings = BTreeSet::new();
    let mut rule_paths = BTreeSet::new();
    for rf in rule_files {
        rule_paths.insert(rf.file.to_string());
        for r in rf.groups.iter().flat_map(|g| &g.rules) {
            match r.kind {
                RuleKind::Alerting => alertnames.insert(r.name.value.clone()),
                RuleKind::Recording => recordings.insert(r.name.value.clone()),
            };
        }
    }
    if rule_paths.is_empty() {
        anyhow::bail!("--rules: no rule file or PrometheusRule object found");
    }
    let out_dir = match &opts.output {
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => PathBuf::new(),
    };
    let rule_files: Vec<String> = rule_paths
        .iter()
        .map(|p| relative(&out_dir, Path::new(p)))
        .collect();
    // Series: selected, relabelled.
    let ids: Vec<u32> = if opts.matches.is_empty() {
        (0..store.len() as u32).collect()
    } else {
        let mut ids = BTreeSet::new();
        for m in &opts.matches {
            let expr =
                crate::promql::parse(m).map_err(|e| anyhow::anyhow!("--match {m:?}: {e}"))?;
            let Expr::Vector(vs) = expr.without_parens() else {
                anyhow::bail!("--match {m:?}: not a series selector");
            };
            let matchers = crate::promql::engine::selector_matchers(vs)
                .map_err(|e| anyhow::anyhow!("--match {m:?}: {e}"))?;
            ids.extend(store.select(&matchers));
        }
        ids.into_iter().collect()
    };
    type Floats = Vec<(i64, f64)>;
    type Histograms = Vec<(i64, Arc<FloatHistogram>)>;
    let mut series: Vec<(Labels, Floats, Histograms)> = Vec::new();
    let mut seen: HashMap<Labels, Labels> = HashMap::new();
    for id in ids {
        let Some(s) = store.get(id) else { continue };
        let mut b = s.labels.builder();
        for d in &opts.drop_labels {
            b.del(d);
        }
        for (old, new) in &opts.renames {
            if let Some(v) = s.labels.get(old) {
                b.del(old);
                b.set(new, v);
            }
        }
        let labels = b.build();
        if let Some(other) = seen.insert(labels.clone(), s.labels.clone()) {
            anyhow::bail!(
                "{} and {} are both {} once labels are dropped or renamed; keep a label that tells them apart",
                other,
                s.labels,
                labels
            );
        }
        series.push((labels, s.samples.to_vec(), s.visible_histograms().to_vec()));
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let (series, histograms): (Vec<_>, Vec<_>) =
        series.into_iter().map(|(l, f, h)| ((l, f), h)).unzip();
    let file = opts
        .output
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "captured.test.yml".into());
    let rfc = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let header = format!(
        "Captured by `ruletest capture` from {} over {} to {} (time 0 is {}).\nThe expectations are what these rules did on this data: review them before committing.",
        opts.sources.join(", "),
        rfc(from),
        rfc(to),
        rfc(from)
    );
    let alertnames: Vec<String> = alertnames.into_iter().collect();
    let recordings: Vec<String> = if opts.recordings {
        recordings.into_iter().collect()
    } else {
        Vec::new()
    };
    let captured = capture::write(&Capture {
        file: &file,
        rule_files: &rule_files,
        alertnames: &alertnames,
        recordings: &recordings,
        series: &series,
        histograms: &histograms,
        from_ms: from,
        to_ms: to,
        interval_ms: opts.interval_ms,
        at_ms: &at,
        all_alerts: opts.all_alerts,
        name: &opts.name,
        header: &header,
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Captured {
        text: captured.text,
        series: series.len(),
        off_grid: captured.off_grid,
        checked_at: at.len(),
    })
}

/// `to` as a path from directory `from` (both made absolute against the current directory).
fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, to) = (
        abs(if from.as_os_str().is_empty() {
            Path::new(".")
        } else {
            from
        }),
        abs(to),
    );
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule file on disk (the captured test is run to find its expectations), and the test's path beside it.
    fn rule_file(dir: &Path) -> (RuleFile, PathBuf) {
        let text = "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 1\n  - record: job:up\n    expr: sum(up)\n";
        let path = dir.join("r.yml");
        std::fs::write(&path, text).unwrap();
        let mut loaded = crate::load::documents::Loaded::default();
        crate::load::documents::load_file(&path, &mut loaded).unwrap();
        let rf = crate::load::rules::load_rule_file(&loaded.items[0]).0;
        (rf, dir.join("captured.test.yml"))
    }

    fn store() -> Store {
        let mut s = Store::new();
        for inst in ["a", "b"] {
            let l = Labels::from_pairs([("__name__", "up"), ("job", "api"), ("instance", inst)]);
            s.add_series(l, vec![(0, 1.0), (60_000, 1.0)]);
        }
        s
    }

    fn opts() -> Options {
        Options {
            from_ms: 0,
            to_ms: 60_000,
            interval_ms: 60_000,
            name: "t".into(),
            ..Options::default()
        }
    }

    #[test]
    fn selects_relabels_and_checks_the_rules_alerts() {
        let dir = tempfile::tempdir().unwrap();
        let (rf, out) = rule_file(dir.path());
        let mut o = opts();
        o.output = Some(out);
        o.matches = vec![r#"up{instance="a"}"#.into()];
        o.renames = vec![("instance".into(), "host".into())];
        let c = run(&[rf], &store(), &o).unwrap();
        assert!(c.text.contains("  - \"r.yml\"\n"), "{}", c.text);
        assert_eq!((c.series, c.checked_at, c.off_grid), (1, 1, 0));
        assert!(
            c.text
                .contains(r#"- series: "up{host=\"a\", job=\"api\"}""#),
            "{}",
            c.text
        );
        assert!(!c.text.contains("instance"), "{}", c.text);
        assert!(c.text.contains(r#"alertname: "Up""#), "{}", c.text);
        assert!(
            c.text
                .contains(r#"exp_labels: {"host": "a", "job": "api"}"#),
            "{}",
            c.text
        );
    }

    #[test]
    fn relabelling_two_series_into_one_is_an_error_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let (rf, _) = rule_file(dir.path());
        let rule_file = || rf.clone();
        let mut o = opts();
        o.drop_labels = vec!["instance".into()];
        let e = run(&[rule_file()], &store(), &o).err().unwrap().to_string();
        assert!(
            e.contains(r#"instance="a""#) && e.contains(r#"instance="b""#),
            "{e}"
        );
        let mut o = opts();
        o.matches = vec!["sum(up)".into()];
        let e = run(&[rule_file()], &store(), &o).err().unwrap().to_string();
        assert!(e.contains("not a series selector"), "{e}");
        let e = run(&[], &store(), &opts()).err().unwrap().to_string();
        assert!(e.contains("no rule file"), "{e}");
    }
}
