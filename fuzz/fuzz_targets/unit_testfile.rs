//! promtool-style rule unit test files: loaded (`load::testfile`) and run (`rules::unittest`) against the
//! repository's real rule files and Alertmanager configs. The input poses as `tests/rules/fuzz.test.yml`, so
//! the seeds' `rule_files: [../../rules/...]` resolve. Paths that could wander the disk (absolute, `**`,
//! a glob combined with `..`) are not run: a glob over the whole filesystem is slow, not a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruletest::load::documents::{load_bytes, Kind, Loaded};
use ruletest::load::testfile::load_test_file;
use ruletest::rules::group::Mode;
use ruletest::rules::unittest::{run_loaded, Options};
use std::sync::Arc;

const NAME: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/rules/fuzz.test.yml");

fn stays_in_repo(path: &str) -> bool {
    let globbing = path.contains(['*', '?', '[']);
    !(path.starts_with('/')
        || path.contains('\\')
        || path.contains("**")
        || path.contains('\0')
        || (globbing && path.contains(".."))
        || path.matches("..").count() > 2)
}

fuzz_target!(|data: &[u8]| {
    let mut loaded = Loaded::default();
    load_bytes(Arc::from(NAME), data, &mut loaded);
    let mut runnable = true;
    for item in loaded.items_of(Kind::TestFile) {
        let (tf, _) = load_test_file(item);
        runnable &= tf.rule_files.iter().all(|p| stays_in_repo(&p.value));
        runnable &= tf
            .alertmanager_config
            .as_ref()
            .is_none_or(|p| stays_in_repo(&p.value));
    }
    if runnable {
        let opts = Options {
            run: Vec::new(),
            mode: Mode::Auto,
        };
        let _ = run_loaded(&loaded, &opts);
    }
});
