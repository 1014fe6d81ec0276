//! YAML loading of every document kind: a file's bytes are classified (rule file, PrometheusRule, List,
//! ConfigMap/Secret with plain or base64 values, alertmanager.yml, AlertmanagerConfig, rule test file) and
//! each document is read by its own loader, as `check` does; a valid Alertmanager config, merged with any
//! AlertmanagerConfig objects, then routes one alert.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::alertmanager::{config, crd, routes_test, LabelSet};
use ruletest::load::documents::{load_bytes, Item, Kind, Loaded};
use ruletest::load::{rules, testfile};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let mut loaded = Loaded::default();
    load_bytes(Arc::from("fuzz.yaml"), data, &mut loaded);
    let crds: Vec<&Item> = loaded.items_of(Kind::AlertmanagerConfigCrd).collect();
    for item in &loaded.items {
        match item.kind {
            Kind::RuleFile | Kind::PrometheusRule => {
                let _ = rules::load_rule_file(item);
            }
            Kind::Alertmanager => {
                let (cfg, _) = config::from_node(&item.root, &item.file);
                let Some(cfg) = cfg else { continue };
                let cfg = if crds.is_empty() {
                    cfg
                } else {
                    match crd::merge(&cfg, &crds) {
                        (Some(merged), _) => merged,
                        (None, _) => cfg,
                    }
                };
                let labels: LabelSet = [("alertname", "Fuzz"), ("severity", "critical")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let _ = routes_test::evaluate(&cfg, &labels, std::slice::from_ref(&labels), 0);
            }
            Kind::AlertmanagerConfigCrd => {}
            Kind::TestFile => {
                let _ = testfile::load_test_file(item);
            }
        }
    }
});
