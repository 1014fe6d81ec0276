//! The dry-run half of `ruletest migrate-report`: the same rules over the same recorded series under
//! Prometheus 2 and Prometheus 3 semantics, and every alert whose episodes (when it went pending, fired,
//! resolved) differ, with the cause: the [`Difference`] that, switched on alone over Prometheus 3, gives
//! Prometheus 2's episodes. With an Alertmanager configuration, the alerts of each run go through the same
//! Alertmanager simulation as `dry-run`'s, and every notification group whose notifications differ is listed
//! the same way. Its text is [`crate::report::migrate`]'s.
//!
//! The unit-test half, [`unit_tests`]: every rule unit test group under both semantics, and each whose
//! verdict differs, with the differences that explain it.

use crate::alertmanager::config::Config;
use crate::alertmanager::feed;
use crate::alertmanager::route::labelset_string;
use crate::load::documents;
use crate::project::{check, inputs, Project};
use crate::promql::{Engine, EngineOptions};
use crate::rules::group::Mode;
use crate::rules::timeline::{self, AlertRecord, TimelineOptions};
use crate::rules::unittest::{self, Failure, FileResult};
use crate::semantics::{Difference, Semantics};
use crate::series::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What to run: the rules over the series in `[from_ms, to_ms]`.
pub struct Window<'a> {
    pub rules: &'a [PathBuf],
    pub series: &'a [PathBuf],
    /// Raw series fetched from a server ([`fetch`]), the same for every run.
    pub fetched: Option<&'a Store>,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Route the alerts of both runs through this Alertmanager configuration.
    pub alertmanager: Option<&'a Config>,
}

/// One episode: active, fired and resolved times (ms).
pub type Episode = (i64, Option<i64>, Option<i64>);

/// The episodes of every alert (alertname and labels), under one semantics.
type Episodes = BTreeMap<(String, BTreeMap<String, String>), Vec<Episode>>;

/// One notification: when it was sent, and the alerts it lists firing and resolved (their labels).
pub type Sent = (i64, Vec<String>, Vec<String>);

/// A notification group at one integration: receiver, integration (`webhook[0]`) and Alertmanager's group key.
pub type SendKey = (String, String, String);

/// The notifications of every group, under one semantics.
type Sends = BTreeMap<SendKey, Vec<Sent>>;

/// What one run gives: the alerts' episodes and, with an Alertmanager configuration, the notifications.
struct Run {
    episodes: Episodes,
    sends: Sends,
}

/// One notification group whose notifications differ.
pub struct NotificationChange {
    pub receiver: String,
    pub integration: String,
    pub group_key: String,
    pub prometheus2: Vec<Sent>,
    pub prometheus3: Vec<Sent>,
    /// The differences that alone give Prometheus 2's notifications.
    pub causes: Vec<Difference>,
}

/// One alert whose episodes differ.
pub struct AlertChange {
    pub alertname: String,
    pub labels: BTreeMap<String, String>,
    pub prometheus2: Vec<Episode>,
    pub prometheus3: Vec<Episode>,
    /// The differences that alone give Prometheus 2's episodes.
    pub causes: Vec<Difference>,
}

pub struct Comparison {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Alerts seen under either semantics.
    pub alerts: usize,
    pub changes: Vec<AlertChange>,
    /// Notification groups seen under either semantics (None without an Alertmanager configuration).
    pub groups: Option<usize>,
    pub notification_changes: Vec<NotificationChange>,
}

fn run_under(w: &Window<'_>, s: Semantics) -> anyhow::Result<Run> {
    s.switch_to();
    // Rules are loaded under each semantics: what parses can differ (`holt_winters`).
    let project = Project::load(w.rules)?;
    let checked = check::run(&project, &check::Options::default());
    if let Some(d) = checked.errors().next() {
        anyhow::bail!(
            "the rules have errors (`ruletest check` shows them all): {}",
            d.message
        );
    }
    // Fixtures are read under each semantics (scraped `le` values depend on it); fetched series are stored
    // data, the same for both.
    let mut store = w.fetched.cloned().unwrap_or_default();
    for path in w.series {
        inputs::load_series(path, w.from_ms, &mut store)?;
    }
    let engine = Engine::new(EngineOptions::default());
    let opts = TimelineOptions {
        from_ms: w.from_ms,
        to_ms: w.to_ms,
        external_labels: BTreeMap::new(),
        external_url: String::new(),
        mode: Mode::Auto,
    };
    let tl = timeline::build(&project.rule_files, &mut store, &engine, &opts)
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut sends: Sends = BTreeMap::new();
    if let Some(config) = w.alertmanager {
        // As `dry-run` feeds them.
        let fired = timeline::fired(&tl.alerts);
        let sim = feed::simulate_fired(config, &fired, w.from_ms, w.to_ms);
        for n in sim.notifications {
            let names = |alerts: &[crate::alertmanager::alert::Alert]| -> Vec<String> {
                alerts.iter().map(|a| labelset_string(&a.labels)).collect()
            };
            sends
                .entry((
                    n.receiver.clone(),
                    n.integration.clone(),
                    n.group_key.clone(),
                ))
                .or_default()
                .push((n.at, names(&n.firing), names(&n.resolved)));
        }
    }
    let mut out: Episodes = BTreeMap::new();
    for a in &tl.alerts {
        let AlertRecord {
            alertname,
            labels,
            active_at,
            fired_at,
            resolved_at,
            ..
        } = a;
        out.entry((alertname.clone(), labels.clone()))
            .or_default()
            .push((*active_at, *fired_at, *resolved_at));
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(Run {
        episodes: out,
        sends,
    })
}

/// The keys whose values differ between the two maps (a key missing from one counts as empty there), and
/// how many keys there are in all.
fn changed_keys<'m, K: Ord, V: PartialEq>(
    a: &'m BTreeMap<K, Vec<V>>,
    b: &'m BTreeMap<K, Vec<V>>,
) -> (Vec<&'m K>, usize) {
    let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    let empty = |m: &'m BTreeMap<K, Vec<V>>, k: &K| m.get(k).map_or(&[][..], Vec::as_slice);
    let changed = keys
        .iter()
        .copied()
        .filter(|k| empty(a, k) != empty(b, k))
        .collect();
    (changed, keys.len())
}

/// Fetches the raw series the rules select over the window (and their lookback) from a live server, once for
/// every run, as `dry-run --strategy local` does. The rules are read under Prometheus 3 semantics for this.
pub fn fetch(
    client: &crate::live::Client,
    rules: &[PathBuf],
    from_ms: i64,
    to_ms: i64,
) -> anyhow::Result<Store> {
    Semantics::PROMETHEUS3.switch_to();
    let project = Project::load(rules)?;
    let engine = Engine::new(EngineOptions::default());
    let mut store = Store::new();
    inputs::fetch_raw(
        client,
        &project.rule_files,
        from_ms,
        to_ms,
        &engine,
        &mut store,
    )?;
    for w in client.warnings() {
        eprintln!("warning: the server said: {w}");
    }
    Ok(store)
}

/// Runs the window under both semantics (and, when something changes, under each difference alone).
pub fn compare(w: &Window<'_>) -> anyhow::Result<Comparison> {
    let r2 = run_under(w, Semantics::PROMETHEUS2)?;
    let r3 = run_under(w, Semantics::PROMETHEUS3)?;
    let (changed, alerts) = changed_keys(&r2.episodes, &r3.episodes);
    let (changed_sends, groups) = changed_keys(&r2.sends, &r3.sends);
    let mut alone: Vec<(Difference, Run)> = Vec::new();
    if !changed.is_empty() || !changed_sends.is_empty() {
        for d in Difference::ALL {
            alone.push((d, run_under(w, Semantics::prometheus3_with(d))?));
        }
    }
    Semantics::PROMETHEUS3.switch_to();
    // The differences whose run alone gives Prometheus 2's value for `k`.
    fn causes<K: Ord, V: PartialEq>(
        alone: &[(Difference, Run)],
        pick: impl Fn(&Run) -> &BTreeMap<K, Vec<V>>,
        k: &K,
        p2: &[V],
    ) -> Vec<Difference> {
        alone
            .iter()
            .filter(|(_, r)| pick(r).get(k).map_or(&[][..], Vec::as_slice) == p2)
            .map(|(d, _)| *d)
            .collect()
    }
    let changes = changed
        .into_iter()
        .map(|k| {
            let p2 = r2.episodes.get(k).cloned().unwrap_or_default();
            AlertChange {
                alertname: k.0.clone(),
                labels: k.1.clone(),
                causes: causes(&alone, |r| &r.episodes, k, &p2),
                prometheus3: r3.episodes.get(k).cloned().unwrap_or_default(),
                prometheus2: p2,
            }
        })
        .collect();
    let notification_changes = changed_sends
        .into_iter()
        .map(|k| {
            let p2 = r2.sends.get(k).cloned().unwrap_or_default();
            NotificationChange {
                receiver: k.0.clone(),
                integration: k.1.clone(),
                group_key: k.2.clone(),
                causes: causes(&alone, |r| &r.sends, k, &p2),
                prometheus3: r3.sends.get(k).cloned().unwrap_or_default(),
                prometheus2: p2,
            }
        })
        .collect();
    Ok(Comparison {
        from_ms: w.from_ms,
        to_ms: w.to_ms,
        alerts,
        changes,
        groups: w.alertmanager.map(|_| groups),
        notification_changes,
    })
}

/// One test group whose verdict differs.
pub struct UnitChange {
    pub file: String,
    pub line: u32,
    pub name: String,
    pub passes_on_2: bool,
    pub passes_on_3: bool,
    /// The failed checks on the failing side.
    pub failures: Vec<Failure>,
    /// The differences that explain the change ([`causes`]).
    pub causes: Vec<Difference>,
    /// Whether no single difference does, and `causes` are those the change needs together.
    pub combined: bool,
}

/// Per test group (file, line): its name, whether it passed, and its failed checks.
type VerdictMap = BTreeMap<(String, u32), (String, bool, Vec<Failure>)>;

fn tests_under(loaded: &documents::Loaded, s: Semantics) -> Vec<FileResult> {
    s.switch_to();
    let opts = unittest::Options {
        run: Vec::new(),
        mode: Mode::Auto,
        ignore_unknown_fields: false,
        coverage: false,
    };
    unittest::run_loaded(loaded, &opts)
}

/// The unit-test half: every test group's verdict under both semantics.
pub struct UnitReport {
    /// Test files run.
    pub files: usize,
    /// Test groups run.
    pub groups: usize,
    /// The groups whose verdict differs.
    pub changes: Vec<UnitChange>,
}

/// Runs the rule unit tests under `paths` under Prometheus 2 and Prometheus 3 semantics and lists every test
/// group whose verdict differs, with the [`Difference`]s that explain it. Leaves Prometheus 3 semantics
/// switched on.
pub fn unit_tests(paths: &[PathBuf]) -> anyhow::Result<UnitReport> {
    let loaded = documents::load_paths(paths)?;
    let v2 = tests_under(&loaded, Semantics::PROMETHEUS2);
    let v3 = tests_under(&loaded, Semantics::PROMETHEUS3);
    let mut changes = Vec::new();
    let by_key = |results: &[FileResult]| -> VerdictMap {
        let mut m = BTreeMap::new();
        for f in results {
            for g in &f.groups {
                m.insert(
                    (f.file.clone(), g.line),
                    (g.name.clone(), g.passed(), g.failures.clone()),
                );
            }
        }
        m
    };
    let (m2, m3) = (by_key(&v2), by_key(&v3));
    // Verdicts with one difference at a time: on top of Prometheus 3 (which alone gives 2's verdict?) and taken
    // out of Prometheus 2 (which does 2's verdict need?). Only run when something changes.
    // Only the files with a change are run again.
    let changed: std::collections::HashSet<&str> = m2
        .iter()
        .filter(|(k, (_, p2, _))| m3.get(k).is_some_and(|(_, p3, _)| p3 != p2))
        .map(|(k, _)| k.0.as_str())
        .collect();
    let mut alone: Vec<(Difference, VerdictMap)> = Vec::new();
    let mut without: Vec<(Difference, VerdictMap)> = Vec::new();
    if !changed.is_empty() {
        let subset = documents::Loaded {
            files: loaded.files.clone(),
            items: loaded
                .items
                .iter()
                .filter(|i| changed.contains(&*i.file))
                .cloned()
                .collect(),
            ..Default::default()
        };
        for d in Difference::ALL {
            alone.push((
                d,
                by_key(&tests_under(&subset, Semantics::prometheus3_with(d))),
            ));
            without.push((
                d,
                by_key(&tests_under(&subset, Semantics::PROMETHEUS2.without(d))),
            ));
        }
        Semantics::PROMETHEUS3.switch_to();
    }
    let groups = m2.len();
    for (key, (name, pass2, fail2)) in &m2 {
        let Some((_, pass3, fail3)) = m3.get(key) else {
            continue;
        };
        if pass2 != pass3 {
            let verdict_in = |m: &VerdictMap| m.get(key).map(|(_, p, _)| *p);
            let mut causes: Vec<Difference> = alone
                .iter()
                .filter(|(_, m)| verdict_in(m) == Some(*pass2))
                .map(|(d, _)| *d)
                .collect();
            let combined = causes.is_empty();
            if combined {
                causes = without
                    .iter()
                    .filter(|(_, m)| verdict_in(m) == Some(*pass3))
                    .map(|(d, _)| *d)
                    .collect();
            }
            changes.push(UnitChange {
                file: key.0.clone(),
                line: key.1,
                name: name.clone(),
                passes_on_2: *pass2,
                passes_on_3: *pass3,
                failures: if *pass2 { fail3.clone() } else { fail2.clone() },
                causes,
                combined,
            });
        }
    }
    Ok(UnitReport {
        files: v3.len(),
        groups,
        changes,
    })
}
