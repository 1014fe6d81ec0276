//! Differential test of our PromQL front end (`src/promql/syntax`) against promql-parser, the parser the engine
//! uses today: every expression of the shared corpora (Prometheus's engine tests in ../shared/promqltest, the
//! rules of ../shared/corpus, the shipped rules/) is parsed by both; where promql-parser accepts it, both trees
//! printed in Prometheus's form must be the same string (the mapping between the two trees is the printer), and
//! our parser must accept it too. Differences are failures unless listed in `KNOWN` with the reason.

use ruletest::load::documents::{self, Kind};
use ruletest::load::rules::load_rule_file;
use ruletest::promql::syntax::parser::{parse_with, Options};
use ruletest::promql::syntax::print;
use std::path::{Path, PathBuf};

/// Known differences: a piece of the expression, and why the two differ.
const KNOWN: &[(&str, &str)] = &[
    (
        "\\x",
        "a string literal holding bytes that are not UTF-8 (`\"\\xff\"`): Go strings hold them and Prometheus \
         accepts it; our parser refuses it (Rust strings hold UTF-8), promql-parser reads `\\xff` as U+00FF",
    ),
    (
        "+http_requests_total",
        "unary plus on a vector: Prometheus keeps it (`UnaryExpr`, printed `+x`), as ours does; promql-parser \
         drops it",
    ),
];

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// The expressions of a promqltest file: what follows the time spec of each `eval` line.
fn test_file_exprs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        let Some(rest) = l.strip_prefix("eval") else {
            continue;
        };
        let rest = rest.trim_start_matches(|c: char| c == '_' || c.is_ascii_alphabetic());
        let words: Vec<&str> = rest.split_whitespace().collect();
        let skip = match words.first() {
            Some(&"instant") => 3,
            Some(&"range") => 7,
            _ => continue,
        };
        if words.len() > skip {
            let prefix_len: usize = {
                // The byte offset of the (skip)th word in `rest`.
                let mut idx = 0;
                let mut count = 0;
                let bytes = rest.as_bytes();
                while idx < bytes.len() && count < skip {
                    while idx < bytes.len() && bytes[idx].is_ascii_whitespace() {
                        idx += 1;
                    }
                    while idx < bytes.len() && !bytes[idx].is_ascii_whitespace() {
                        idx += 1;
                    }
                    count += 1;
                }
                idx
            };
            out.push(rest[prefix_len..].trim().to_string());
        }
    }
    out
}

fn rule_exprs(paths: &[PathBuf]) -> Vec<String> {
    let loaded = documents::load_paths(paths).unwrap();
    let mut out = Vec::new();
    for item in loaded
        .items
        .iter()
        .filter(|i| matches!(i.kind, Kind::RuleFile | Kind::PrometheusRule))
    {
        let (rf, _) = load_rule_file(item);
        for g in &rf.groups {
            for r in &g.rules {
                out.push(r.expr.value.clone());
            }
        }
    }
    out
}

fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = shared().join("promqltest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for e in test_file_exprs(&std::fs::read_to_string(&f).unwrap()) {
            out.push((name.clone(), e));
        }
    }
    for e in rule_exprs(&[shared().join("corpus")]) {
        out.push(("corpus".into(), e));
    }
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    for e in rule_exprs(&[rules]) {
        out.push(("rules/".into(), e));
    }
    out
}

/// promql-parser prints infinity as `inf` / `Inf` where Prometheus (and our printer) print `+Inf`
/// (`strconv.FormatFloat`, `%v`): the one spelling the comparison maps.
fn same_infinity(s: &str) -> String {
    let re = regex::Regex::new(r"\+?\b[iI]nf\b").unwrap();
    re.replace_all(s, "Inf").into_owned()
}

#[test]
fn our_parser_agrees_with_promql_parser_on_the_corpora() {
    assert!(
        Path::new(&shared()).is_dir(),
        "../shared (the corpora) is missing"
    );
    let opts = Options {
        experimental_functions: true,
        duration_expr: true,
        extended_range_selectors: true,
        binop_fill_modifiers: true,
        prometheus2_functions: false,
    };
    let exprs = corpus();
    assert!(exprs.len() > 2_000, "{}", exprs.len());
    let (mut both, mut agree) = (0, 0);
    let mut differ = Vec::new();
    for (src, e) in &exprs {
        let Ok(theirs) = promql_parser::parser::parse(e) else {
            continue;
        };
        both += 1;
        match parse_with(e, &opts) {
            Ok(ours) => {
                let (a, b) = (
                    same_infinity(&print(&ours)),
                    same_infinity(&theirs.to_string()),
                );
                if a == b {
                    agree += 1;
                } else {
                    differ.push(format!("{src}: {e}\n  ours   {a}\n  theirs {b}"));
                }
            }
            Err(errs) => differ.push(format!("{src}: {e}\n  ours refused: {:?}", errs.first())),
        }
    }
    eprintln!(
        "differential: {} expressions, {both} accepted by promql-parser, {agree} printed the same by both, {} differ",
        exprs.len(),
        differ.len()
    );
    if std::env::var("RULETEST_SHOW_PARSER_DIFFS").is_ok() {
        for d in &differ {
            eprintln!("{d}");
        }
    }
    let unexplained: Vec<&String> = differ
        .iter()
        .filter(|d| {
            let expr = d.lines().next().unwrap_or("");
            !KNOWN.iter().any(|(piece, _)| expr.contains(piece))
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} differences not in KNOWN:\n{}",
        unexplained.len(),
        unexplained
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The corpora are large enough to mean something, and agreement may not shrink.
    assert!(both >= 2_800, "{both}");
    assert!(agree >= 2_868, "{agree}");
}
