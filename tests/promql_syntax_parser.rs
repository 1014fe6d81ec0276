//! Prometheus's own parser table (`promql/parser/parse_test.go`'s `testExpr`, carried over as
//! tests/data/promql-syntax/parse.json with its licence) against our parser (`src/promql/syntax`): for each
//! input that Prometheus parses, the same tree (node types, operators, values, matchers, offsets, `@`, vector
//! matching, byte positions); for each it refuses, an error, and whether the errors are Prometheus's exactly
//! (message and position). The parser is being written in steps (issue #27): the test prints the figures and
//! holds them from going down; docs/conformance.md records them.

use ruletest::promql::syntax::ast::{
    At, Card, DurationExpr, DurationNode, Expr, MatchOp, VectorSelector,
};
use ruletest::promql::syntax::parser::{parse_with, Options};
use serde_json::{json, Map, Value};

const NS_PER_MS: i64 = 1_000_000;

fn pos(s: usize, e: usize) -> Value {
    json!({"$type": "PositionRange", "Start": s, "End": e})
}

fn float(v: f64) -> Value {
    if v.is_nan() {
        json!({"$float": "NaN"})
    } else if v.is_infinite() {
        json!({"$float": if v > 0.0 { "+Inf" } else { "-Inf" }})
    } else {
        json!(v)
    }
}

fn at_fields(m: &mut Map<String, Value>, at: &Option<At>) {
    match at {
        Some(At::Time(ms)) => {
            m.insert("Timestamp".into(), json!(ms));
        }
        Some(At::Start) => {
            m.insert("StartOrEnd".into(), json!({"$ident": "START"}));
        }
        Some(At::End) => {
            m.insert("StartOrEnd".into(), json!({"$ident": "END"}));
        }
        None => {}
    }
}

fn duration_node(n: &DurationNode) -> Value {
    match n {
        DurationNode::Number {
            value,
            duration,
            span,
        } => json!({"$type": "NumberLiteral", "Val": float(*value), "Duration": duration,
                    "PosRange": pos(span.start, span.end)}),
        DurationNode::Expr(d) => duration_expr(d),
    }
}

fn duration_expr(d: &DurationExpr) -> Value {
    json!({"$type": "DurationExpr", "Op": {"$ident": d.op.name()},
           "LHS": d.lhs.as_deref().map(duration_node), "RHS": d.rhs.as_deref().map(duration_node),
           "Wrapped": d.wrapped, "StartPos": d.start, "EndPos": d.end})
}

fn selector(vs: &VectorSelector) -> Value {
    let mut m = Map::new();
    m.insert("$type".into(), json!("VectorSelector"));
    m.insert("Name".into(), json!(vs.name));
    m.insert("OriginalOffset".into(), json!(vs.offset_ms * NS_PER_MS));
    m.insert(
        "OriginalOffsetExpr".into(),
        json!(vs.offset_expr.as_ref().map(duration_expr)),
    );
    at_fields(&mut m, &vs.at);
    let matchers: Vec<Value> = vs
        .matchers
        .iter()
        .map(|x| {
            let op = match x.op {
                MatchOp::Equal => "MatchEqual",
                MatchOp::NotEqual => "MatchNotEqual",
                MatchOp::Regexp => "MatchRegexp",
                MatchOp::NotRegexp => "MatchNotRegexp",
            };
            json!({"$matcher": [op, x.name, x.value]})
        })
        .collect();
    m.insert("LabelMatchers".into(), json!(matchers));
    m.insert("Anchored".into(), json!(vs.anchored));
    m.insert("Smoothed".into(), json!(vs.smoothed));
    m.insert(
        "BypassEmptyMatcherCheck".into(),
        json!(vs.bypass_empty_matcher_check),
    );
    m.insert("PosRange".into(), pos(vs.span.start, vs.span.end));
    Value::Object(m)
}

/// Our tree in the shape of the Go literals of the table.
fn to_go(e: &Expr) -> Value {
    match e {
        Expr::Number { value, span } => {
            json!({"$type": "NumberLiteral", "Val": float(*value), "PosRange": pos(span.start, span.end)})
        }
        Expr::String { value, span } => {
            json!({"$type": "StringLiteral", "Val": value, "PosRange": pos(span.start, span.end)})
        }
        Expr::Vector(vs) => selector(vs),
        Expr::Matrix {
            selector: vs,
            range_ms,
            range_expr,
            end,
        } => json!({"$type": "MatrixSelector", "VectorSelector": selector(vs),
                    "Range": range_ms * NS_PER_MS,
                    "RangeExpr": range_expr.as_ref().map(duration_expr), "EndPos": end}),
        Expr::Subquery {
            expr,
            range_ms,
            range_expr,
            step_ms,
            step_expr,
            offset_ms,
            offset_expr,
            at,
            end,
        } => {
            let mut m = Map::new();
            m.insert("$type".into(), json!("SubqueryExpr"));
            m.insert("Expr".into(), to_go(expr));
            m.insert("Range".into(), json!(range_ms * NS_PER_MS));
            m.insert("Step".into(), json!(step_ms * NS_PER_MS));
            m.insert("OriginalOffset".into(), json!(offset_ms * NS_PER_MS));
            m.insert(
                "RangeExpr".into(),
                json!(range_expr.as_ref().map(duration_expr)),
            );
            m.insert(
                "StepExpr".into(),
                json!(step_expr.as_ref().map(duration_expr)),
            );
            m.insert(
                "OriginalOffsetExpr".into(),
                json!(offset_expr.as_ref().map(duration_expr)),
            );
            at_fields(&mut m, at);
            m.insert("EndPos".into(), json!(end));
            Value::Object(m)
        }
        Expr::Paren { expr, span } => {
            json!({"$type": "ParenExpr", "Expr": to_go(expr), "PosRange": pos(span.start, span.end)})
        }
        Expr::Unary { op, expr, start } => {
            json!({"$type": "UnaryExpr", "Op": {"$ident": op.name()}, "Expr": to_go(expr), "StartPos": start})
        }
        Expr::Binary {
            op,
            lhs,
            rhs,
            matching,
            return_bool,
        } => {
            let vm = matching.as_ref().map(|m| {
                let card = match m.card {
                    Card::OneToOne => "CardOneToOne",
                    Card::ManyToOne => "CardManyToOne",
                    Card::OneToMany => "CardOneToMany",
                    Card::ManyToMany => "CardManyToMany",
                };
                json!({"$type": "VectorMatching", "Card": {"$ident": card},
                       "MatchingLabels": m.matching_labels, "On": m.on, "Include": m.include})
            });
            json!({"$type": "BinaryExpr", "Op": {"$ident": op.name()}, "LHS": to_go(lhs),
                   "RHS": to_go(rhs), "VectorMatching": vm, "ReturnBool": return_bool})
        }
        Expr::Call { func, args, span } => {
            let args: Vec<Value> = args.iter().map(to_go).collect();
            json!({"$type": "Call", "Func": {"$function": func}, "Args": args,
                   "PosRange": pos(span.start, span.end)})
        }
        Expr::Aggregate {
            op,
            expr,
            param,
            grouping,
            without,
            span,
        } => json!({"$type": "AggregateExpr", "Op": {"$ident": op.name()}, "Expr": to_go(expr),
                    "Param": param.as_ref().map(|p| to_go(p)), "Grouping": grouping,
                    "Without": without, "PosRange": pos(span.start, span.end)}),
    }
}

/// Go literals leave zero values out: drop them on both sides, and compare numbers as floats.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let x = normalize(x);
                let zero = match &x {
                    // Zero values of Go types: CardOneToOne is 0, an empty Expressions{} is no arguments.
                    Value::Object(o)
                        if o.get("$ident").and_then(Value::as_str) == Some("CardOneToOne")
                            || (o.len() == 1
                                && o.get("$type").and_then(Value::as_str)
                                    == Some("Expressions")) =>
                    {
                        true
                    }
                    Value::Null => true,
                    Value::Bool(b) => !b,
                    Value::Number(n) => n.as_f64() == Some(0.0),
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    Value::Object(_) => false,
                };
                // Grouping: []string{} and a missing list are the same tree.
                if !zero {
                    out.insert(k.clone(), x);
                }
            }
            Value::Object(out)
        }
        // `labels.MetricName` / `model.MetricNameLabel` in the Go literals.
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| match x.get("$ident").and_then(Value::as_str) {
                    Some("MetricName" | "MetricNameLabel") => json!("__name__"),
                    _ => normalize(x),
                })
                .collect(),
        ),
        Value::Number(n) => json!(n.as_f64().unwrap()),
        other => other.clone(),
    }
}

fn errors_of(case: &Value) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for e in case["errors"].as_array().into_iter().flatten() {
        if let Some(r) = e.get("repeat") {
            let n = r["count"].as_u64().unwrap() as usize;
            for k in 0..n {
                let s = r["start"].as_u64().unwrap() as usize
                    + k * r["start_step"].as_u64().unwrap() as usize;
                let en = r["end"].as_u64().unwrap() as usize
                    + k * r["end_step"].as_u64().unwrap() as usize;
                out.push((s, en, r["message"].as_str().unwrap().to_string()));
            }
        } else {
            out.push((
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
                e["message"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

#[test]
fn prometheus_parser_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/promql-syntax/parse.json"
    );
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), 356);
    let (mut trees, mut tree_total, mut failed_ok, mut errors_exact, mut fail_total) =
        (0, 0, 0, 0, 0);
    let mut wrong_trees = Vec::new();
    let mut wrong_errors: Vec<String> = Vec::new();
    let mut wrongly_accepted = Vec::new();
    for case in &cases {
        // Inputs that are not UTF-8 cannot reach ruletest as text; they are the lexer table's business.
        let Some(input) = case["input"].as_str() else {
            continue;
        };
        let input = input.to_string();
        let got = std::thread::Builder::new()
            // Deep enough for the table's 20,000-term operator chain in a debug build: type checking and
            // dropping the tree still recurse (iterative versions are future work, issue #27).
            .stack_size(512 << 20)
            .spawn({
                let input = input.clone();
                // The table runs with experimental functions on (TestParseExpressions' parser options).
                move || {
                    parse_with(
                        &input,
                        &Options {
                            experimental_functions: true,
                            duration_expr: true,
                            extended_range_selectors: true,
                            binop_fill_modifiers: false,
                            prometheus2_functions: false,
                        },
                    )
                }
            })
            .unwrap()
            .join()
            .expect("the parser must not panic");
        if case["fail"].as_bool().unwrap() {
            fail_total += 1;
            match got {
                Ok(_) => wrongly_accepted.push(input.chars().take(80).collect::<String>()),
                Err(errs) => {
                    failed_ok += 1;
                    let ours: Vec<(usize, usize, String)> = errs
                        .into_iter()
                        .map(|e| (e.start, e.end, e.message))
                        .collect();
                    let want = errors_of(case);
                    if ours == want {
                        errors_exact += 1;
                    } else {
                        wrong_errors.push(format!("{input}\n  want {want:?}\n  got  {ours:?}"));
                    }
                }
            }
        } else {
            tree_total += 1;
            let want = normalize(&case["expected"]);
            match got {
                Ok(e) if normalize(&to_go(&e)) == want => trees += 1,
                Ok(e) => wrong_trees.push(format!(
                    "{input}\n  want {want}\n  got  {}",
                    normalize(&to_go(&e))
                )),
                Err(errs) => wrong_trees.push(format!("{input}\n  refused: {:?}", errs.first())),
            }
        }
    }
    eprintln!(
        "parser table: {trees} of {tree_total} trees equal Prometheus's; {failed_ok} of {fail_total} refusals refused, {errors_exact} with Prometheus's exact errors; accepted but refused by Prometheus: {}",
        wrongly_accepted.len()
    );
    if std::env::var("RULETEST_SHOW_PARSER_DIFFS").is_ok() {
        for w in &wrong_trees {
            eprintln!("{w}");
        }
        for w in &wrongly_accepted {
            eprintln!("accepted: {w}");
        }
        for w in &wrong_errors {
            eprintln!("error: {w}");
        }
    }
    // Held from going down while the parser grows (issue #27); raise them as it does. What is left: string
    // literals holding bytes that are not UTF-8, the end position of a signed `min_of` / `max_of` after
    // `offset`, and the exact wording and position of some syntax errors.
    assert!(
        trees >= 205,
        "{trees} trees equal Prometheus's, fewer than before"
    );
    assert!(failed_ok >= 146, "{failed_ok} refusals, fewer than before");
    assert!(
        errors_exact >= 139,
        "{errors_exact} exact errors, fewer than before"
    );
    assert!(
        wrongly_accepted.is_empty(),
        "accepted what Prometheus refuses: {wrongly_accepted:?}"
    );
}
