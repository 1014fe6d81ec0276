//! The import rules of docs/architecture.md, checked on the source:
//! - each top-level module imports only modules of the layers below its own (so no circle can form among
//!   them), apart from the edges listed in [`KNOWN`], which are debts being paid off one by one: the list may
//!   only shrink, and an edge listed that no longer exists fails the test until it is taken off;
//! - no front end in `src/cli/` imports another (what two commands share lives in a library module, or in
//!   `cli/mod.rs` when it is about the command line itself).
//!
//! Imports are read as `crate::<module>` paths in code (comment lines are skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import any module of a lower layer, none of its own or a higher one.
const LAYERS: &[&[&str]] = &[
    &["text", "parallel"],
    &["diag", "limits", "semantics"],
    &["series"],
    &["promql"],
    &["template"],
    &["load"],
    &["alertmanager", "live"],
    &["rules"],
    &["lint"],
    &["project"],
    &["report"],
    &["cli"],
];

/// Imports against the layers that exist today, each with where it is: remove the entry with the import.
const KNOWN: &[(&str, &str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The `crate::<name>` paths in the code of `text` (comment lines skipped), with their line numbers.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            // `ruletest::crate::` cannot occur; `$crate::` in macros names this crate too.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((i + 1, name));
            }
        }
    }
    out
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

#[test]
fn every_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let missing: Vec<_> = modules.iter().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "modules without a layer (add them to LAYERS and to docs/architecture.md): {missing:?}"
    );
}

#[test]
fn modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    // (from, to) -> first place.
    let mut upward: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in &files {
        let Some(from) = module_of(&src, f) else {
            continue;
        };
        let Some(from_layer) = layer_of(&from) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (line, to) in crate_paths(&text) {
            if to == from {
                continue;
            }
            let Some(to_layer) = layer_of(&to) else {
                continue;
            };
            if to_layer >= from_layer {
                let place = format!("{}:{line}", f.strip_prefix(&src).unwrap().display());
                upward.entry((from.clone(), to)).or_insert(place);
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<String> = upward
        .iter()
        .filter(|(k, _)| !known.contains(*k))
        .map(|((a, b), at)| format!("{a} -> {b} (src/{at})"))
        .collect();
    let paid: Vec<String> = known
        .iter()
        .filter(|k| !upward.contains_key(*k))
        .map(|(a, b)| format!("{a} -> {b}"))
        .collect();
    assert!(
        new.is_empty(),
        "imports against the layers of docs/architecture.md (a module may import only lower layers):\n{}",
        new.join("\n")
    );
    assert!(
        paid.is_empty(),
        "these known imports are gone: take them off KNOWN in tests/architecture.rs\n{}",
        paid.join("\n")
    );
}

#[test]
fn no_front_end_imports_another() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    let commands: BTreeSet<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|n| n != "mod")
        .collect();
    let mut found = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("mod.rs")) {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let bad = imports_a_front_end(code, &commands);
            if bad {
                found.push(format!("{}:{}: {code}", f.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "front ends importing other front ends (move what they share to a library module):\n{}",
        found.join("\n")
    );
}

/// Whether a line of code of a front end names another front end (`commands`: the modules of `src/cli/`).
fn imports_a_front_end(code: &str, commands: &BTreeSet<String>) -> bool {
    code.contains("crate::cli::")
        || commands.iter().any(|c| {
            code.contains(&format!("super::{c}::"))
                || code.contains(&format!("super::{c};"))
                || code.starts_with("use super::{")
                    && code
                        .trim_start_matches("use super::{")
                        .split([',', '}', ' '])
                        .any(|part| part == c)
        })
}

#[test]
fn the_reader_of_front_end_imports_finds_them() {
    let commands: BTreeSet<String> = ["check", "routes"].iter().map(|s| s.to_string()).collect();
    for bad in [
        "let c = super::check::run(&a);",
        "use super::routes;",
        "use super::{routes, Status};",
        "use super::{Status, check};",
        "crate::cli::check::run(a)",
    ] {
        assert!(imports_a_front_end(bad, &commands), "{bad}");
    }
    for fine in [
        "use super::Status;",
        "use super::{EvalArgs, Status};",
        "let c = crate::project::check::run(&p);",
        "super::load_alertmanager(path, &style)",
    ] {
        assert!(!imports_a_front_end(fine, &commands), "{fine}");
    }
}

#[test]
fn the_reader_of_imports_finds_them() {
    let text = "use crate::series::Store;\n// crate::rules in a comment\nlet x = crate::promql::parse(\"a\");\nfoo_crate::bar;\n";
    let got: Vec<_> = crate_paths(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(got, vec!["series", "promql"]);
    assert_eq!(layer_of("text"), Some(0));
    assert!(layer_of("cli") > layer_of("report"));
}

/// The PromQL engine's parts (functions, aggregations, binary operators) see the narrow evaluation context of
/// `promql::context`, not the engine that calls them: no circle between the engine and its parts.
#[test]
fn the_engines_parts_do_not_import_the_engine() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/promql");
    let mut files = vec![
        src.join("aggregate.rs"),
        src.join("binary.rs"),
        src.join("context.rs"),
    ];
    rust_files(&src.join("functions"), &mut files);
    assert!(files.len() > 5, "{files:?}");
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if names_the_engine(line) {
                found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these name promql::engine; use promql::context (and add to its Context what they need):\n{}",
        found.join("\n")
    );
}

/// Whether a line of code (not a comment) names the engine module.
fn names_the_engine(line: &str) -> bool {
    let code = line.trim_start();
    !code.starts_with("//")
        && (code.contains("super::engine")
            || code.contains("promql::engine")
            || code.contains("Ev<"))
}

#[test]
fn the_reader_of_engine_imports_finds_them() {
    for bad in [
        "use super::engine::{qerr, Ev};",
        "    s.labels = crate::promql::engine::drop_metric_name(&l);",
        "fn f(ev: &mut Ev<'_>) {}",
    ] {
        assert!(names_the_engine(bad), "{bad}");
    }
    for fine in [
        "use super::context::{qerr, Context};",
        "// the engine (super::engine) calls this",
        "fn f(ev: &mut dyn Context) {}",
    ] {
        assert!(!names_the_engine(fine), "{fine}");
    }
}

/// Inside `lint`, the settings and the `Check` interface sit below the checks and their table: `config` and
/// `registry` name neither `catalogue` nor `checks` (the catalogue imports the checks, the checks import the
/// registry, the registry reads the settings; the codes a settings file may name are handed to it).
#[test]
fn lint_settings_and_interface_do_not_import_the_checks() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lint");
    let mut found = Vec::new();
    for name in ["config.rs", "registry.rs"] {
        let text = std::fs::read_to_string(src.join(name)).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//")
                && (code.contains("lint::catalogue")
                    || code.contains("lint::checks")
                    || code.contains("super::catalogue")
                    || code.contains("super::checks"))
            {
                found.push(format!("src/lint/{name}:{}: {}", i + 1, code));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The modules directly in `src/<folder>/` and the siblings each names in code (`super::x`,
/// `crate::<folder>::x`).
fn sibling_imports(folder: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(folder);
    let names: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|x| x == "rs")).then_some(stem)
        })
        .filter(|n| n != "mod")
        .collect();
    let mut graph = BTreeMap::new();
    for name in &names {
        let file = dir.join(format!("{name}.rs"));
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut uses = BTreeSet::new();
        for line in without_test_modules(&text) {
            if line.starts_with("//") {
                continue;
            }
            for other in &names {
                let qualified = format!("crate::{folder}::{other}");
                if other != name
                    && (line.contains(&format!("super::{other}")) || line.contains(&qualified))
                {
                    uses.insert(other.clone());
                }
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

/// The lines of `text`, trimmed at the start, without the `#[cfg(test)] mod ... { ... }` blocks: a unit test
/// may use its folder's higher modules to build its input without making a circle in the code that ships.
fn without_test_modules(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|l| l.starts_with("mod ") && l.ends_with('{'))
        {
            // rustfmt closes a module at the top level with a `}` alone at the start of a line.
            lines.by_ref().find(|l| *l == "}");
            continue;
        }
        out.push(line.trim_start());
    }
    out
}

#[test]
fn test_modules_are_left_out_of_the_import_graph() {
    let text = "use super::a;\n#[cfg(test)]\nmod tests {\n    use super::b;\n    fn f() { g(\"}\"); }\n}\nuse super::c;\n";
    assert_eq!(
        without_test_modules(text),
        ["use super::a;", "use super::c;"]
    );
}

/// A circle in `graph`, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// Inside these folders the modules import each other without a circle too (the template engine's parts:
/// values, Go's time, builtins and the rewriter sit below the engine; the lint settings below the checks;
/// the engine's functions below the engine; float and histogram parsing and summation below the store).
/// Unit-test modules are left out: they may build their input with the folder's higher modules.
#[test]
fn no_circle_inside_these_folders() {
    for folder in ["template", "lint", "project", "report", "promql", "series"] {
        let graph = sibling_imports(folder);
        assert!(graph.len() > 3, "{folder}: {graph:?}");
        assert_eq!(find_circle(&graph), None, "{folder}");
    }
}

#[test]
fn the_circle_finder_finds_circles() {
    let g = |edges: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry(a.to_string()).or_default().insert(b.to_string());
            m.entry(b.to_string()).or_default();
        }
        m
    };
    assert_eq!(find_circle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        find_circle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
