//! The dry-run half of `ruletest migrate-report`: the same rules over the same recorded series under
//! Prometheus 2 and Prometheus 3 semantics, and every alert whose episodes (when it went pending, fired,
//! resolved) differ, with the cause: the [`Difference`] that, switched on alone over Prometheus 3, gives
//! Prometheus 2's episodes.

use super::inputs;
use crate::diag::Severity;
use crate::promql::semantics::{Difference, Semantics};
use crate::promql::{Engine, EngineOptions};
use crate::rules::group::Mode;
use crate::rules::timeline::{self, AlertRecord, TimelineOptions};
use crate::series::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

/// What to run: the rules over the series in `[from_ms, to_ms]`.
pub struct Window<'a> {
    pub rules: &'a [PathBuf],
    pub series: &'a [PathBuf],
    pub from_ms: i64,
    pub to_ms: i64,
}

/// One episode: active, fired and resolved times (ms).
pub type Episode = (i64, Option<i64>, Option<i64>);

/// The episodes of every alert (alertname and labels), under one semantics.
type Episodes = BTreeMap<(String, BTreeMap<String, String>), Vec<Episode>>;

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
}

fn episodes_under(w: &Window<'_>, s: Semantics) -> anyhow::Result<Episodes> {
    s.switch_to();
    // Rules are loaded under each semantics: what parses can differ (`holt_winters`).
    let checked = super::check::check_paths(w.rules)?;
    if let Some(d) = checked
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error)
    {
        anyhow::bail!(
            "the rules have errors (`ruletest check` shows them all): {}",
            d.message
        );
    }
    let mut store = Store::new();
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
    let tl = timeline::build(&checked.rule_files, &mut store, &engine, &opts)
        .map_err(|e| anyhow::anyhow!(e))?;
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
    Ok(out)
}

/// Runs the window under both semantics (and, when something changes, under each difference alone).
pub fn compare(w: &Window<'_>) -> anyhow::Result<Comparison> {
    let e2 = episodes_under(w, Semantics::PROMETHEUS2)?;
    let e3 = episodes_under(w, Semantics::PROMETHEUS3)?;
    let keys: BTreeSet<&(String, BTreeMap<String, String>)> = e2.keys().chain(e3.keys()).collect();
    let none = Vec::new();
    let changed: Vec<&(String, BTreeMap<String, String>)> = keys
        .iter()
        .copied()
        .filter(|k| e2.get(*k).unwrap_or(&none) != e3.get(*k).unwrap_or(&none))
        .collect();
    let mut alone: Vec<(Difference, Episodes)> = Vec::new();
    if !changed.is_empty() {
        for d in Difference::ALL {
            alone.push((d, episodes_under(w, Semantics::prometheus3_with(d))?));
        }
    }
    Semantics::PROMETHEUS3.switch_to();
    let changes = changed
        .into_iter()
        .map(|k| {
            let p2 = e2.get(k).cloned().unwrap_or_default();
            AlertChange {
                alertname: k.0.clone(),
                labels: k.1.clone(),
                causes: alone
                    .iter()
                    .filter(|(_, m)| m.get(k).cloned().unwrap_or_default() == p2)
                    .map(|(d, _)| *d)
                    .collect(),
                prometheus3: e3.get(k).cloned().unwrap_or_default(),
                prometheus2: p2,
            }
        })
        .collect();
    Ok(Comparison {
        from_ms: w.from_ms,
        to_ms: w.to_ms,
        alerts: keys.len(),
        changes,
    })
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// `pending 10:00, fired 10:05, resolved 10:20; ...`, or `never active`.
pub fn episodes_text(eps: &[Episode]) -> String {
    if eps.is_empty() {
        return "never active".into();
    }
    eps.iter()
        .map(|(a, f, r)| {
            let mut s = format!("pending {}", time(*a));
            match f {
                Some(f) => {
                    let _ = write!(s, ", fired {}", time(*f));
                }
                None => s.push_str(", never fired"),
            }
            if let Some(r) = r {
                let _ = write!(s, ", resolved {}", time(*r));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn alert_text(c: &AlertChange) -> String {
    let labels: Vec<String> = c
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{}{{{}}}", c.alertname, labels.join(", "))
}

pub fn causes_text(c: &AlertChange) -> String {
    if c.causes.is_empty() {
        "not attributed to one difference: several together, or one ruletest does not list".into()
    } else {
        c.causes
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub fn human(c: &Comparison) -> String {
    let mut out = format!(
        "Prometheus 2 -> 3, dry run from {} to {}: {} alerts; {} change\n",
        time(c.from_ms),
        time(c.to_ms),
        c.alerts,
        c.changes.len()
    );
    for ch in &c.changes {
        let _ = writeln!(out, "{}", alert_text(ch));
        let _ = writeln!(out, "  Prometheus 2: {}", episodes_text(&ch.prometheus2));
        let _ = writeln!(out, "  Prometheus 3: {}", episodes_text(&ch.prometheus3));
        let _ = writeln!(out, "  cause: {}", causes_text(ch));
        for d in &ch.causes {
            let _ = writeln!(out, "    {}: {}", d.name(), d.explain());
        }
    }
    out
}

pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "### Prometheus 2 -> 3, dry run\n\n{} to {}: {} alerts; {} change.\n\n",
        time(c.from_ms),
        time(c.to_ms),
        c.alerts,
        c.changes.len()
    );
    if !c.changes.is_empty() {
        out.push_str("| alert | Prometheus 2 | Prometheus 3 | cause |\n|---|---|---|---|\n");
        for ch in &c.changes {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                alert_text(ch).replace('|', "\\|"),
                episodes_text(&ch.prometheus2),
                episodes_text(&ch.prometheus3),
                causes_text(ch)
            );
        }
    }
    out
}

pub fn json(c: &Comparison) -> serde_json::Value {
    let eps = |v: &[Episode]| -> Vec<serde_json::Value> {
        v.iter()
            .map(|(a, f, r)| serde_json::json!({"active_at": a, "fired_at": f, "resolved_at": r}))
            .collect()
    };
    serde_json::json!({
        "from": c.from_ms,
        "to": c.to_ms,
        "alerts": c.alerts,
        "changes": c.changes.iter().map(|ch| serde_json::json!({
            "alertname": ch.alertname,
            "labels": ch.labels,
            "prometheus2": eps(&ch.prometheus2),
            "prometheus3": eps(&ch.prometheus3),
            "causes": ch.causes.iter().map(|d| serde_json::json!({
                "difference": d.name(), "explanation": d.explain(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
