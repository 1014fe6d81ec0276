//! Inputs the fuzz targets in `fuzz/` found to crash, hang or exhaust memory, fed to the same library entry
//! points on the stable toolchain. Each test names its target and states what the library now returns.
//! docs/robustness.md lists the campaign these came from.

use ruletest::text::duration::{format_duration, parse_duration};

/// fuzz target `duration`: `format_duration` negated its argument, which overflows for i64::MIN (the
/// target reads the first 8 input bytes as an i64).
#[test]
fn duration_format_of_i64_min_does_not_overflow() {
    let input = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x0d];
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&input[..8]);
    let ms = i64::from_le_bytes(raw);
    assert_eq!(ms, i64::MIN);
    assert_eq!(format_duration(ms), "-106751991167d7h12m55s808ms");
    assert_eq!(format_duration(i64::MAX), "106751991167d7h12m55s807ms");
    assert_eq!(format_duration(-90_000), "-1m30s");
    // Durations never parse negative, so the printed form of a negative one does not read back.
    assert!(parse_duration(&format_duration(ms)).is_err());
}

/// fuzz target `promql_eval`: the duration-expression rewrite that runs before parsing compared the next six
/// bytes with `offset` by slicing the string, which panics when the slice ends inside a multi-byte
/// character. Now the text reaches the parser, which rejects the character.
#[test]
fn promql_offset_lookahead_inside_multibyte_character() {
    use ruletest::promql::{Engine, EvalError};
    use ruletest::series::Store;
    let text = std::str::from_utf8(b"avg(foo) \xc3\xbe 52").unwrap();
    let engine = Engine::default();
    let store = Store::new();
    for result in [
        engine.instant_query(&store, text, 0),
        engine.range_query(&store, text, 0, 60_000, 15_000),
    ] {
        match result {
            Err(EvalError::Parse(e)) => assert!(!e.to_string().is_empty()),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }
    // A duration expression right after a multi-byte character in a string still gets rewritten.
    let ok = engine.instant_query(&store, r#"foo{a="þ"} offset (1m + 1m)"#, 300_000);
    assert!(ok.is_ok(), "{ok:?}");
}

/// Found while writing the `promql_eval` target: a huge negative offset expression saturates to i64::MIN
/// milliseconds, and printing it as `-<n>ms` negated it.
#[test]
fn promql_huge_negative_offset_expression() {
    use ruletest::promql::Engine;
    use ruletest::promql::EvalError;
    use ruletest::series::Store;
    let engine = Engine::default();
    // -1e300 s saturates to i64::MIN ms; the rewritten `offset -9223372036854775808ms` is then refused by
    // the parser (before the fix, negating it panicked).
    let r = engine.instant_query(&Store::new(), "foo offset -(1e300)", 0);
    assert!(matches!(r, Err(EvalError::Parse(_))), "{r:?}");
    // An ordinary negative offset expression still evaluates.
    let r = engine.instant_query(&Store::new(), "foo offset -(30m * 2)", 0);
    assert!(r.is_ok(), "{r:?}");
}

/// Found while writing the `notation` target: `_x<n>` and `stalex<n>` had no bound on `n`, so
/// `_x99999999999` asked for a 1.6 TB vector (abort, not an error), and many `a+bx9999999` items together
/// had none either. The whole sequence is now bounded.
#[test]
fn notation_repetition_is_bounded_per_sequence() {
    use ruletest::series::notation::{parse_values, MAX_SEQUENCE_LEN};
    use ruletest::series::{fixture, Store};
    for text in [
        "_x99999999999",
        "stalex99999999999",
        "1+1x18446744073709551615",
        "0x5000000 1x5000000",
    ] {
        let e = parse_values(text).unwrap_err();
        assert!(
            e.message
                .contains(&format!("longer than {MAX_SEQUENCE_LEN} samples")),
            "{text}: {e}"
        );
    }
    // The column names the item that went over.
    assert_eq!(parse_values("0x5000000 1x5000000").unwrap_err().column, 11);
    // Up to the bound is fine: N+1 slots for `axN`.
    assert_eq!(
        parse_values("0x4999999 _x5000000").map(|v| v.len()),
        Ok(MAX_SEQUENCE_LEN)
    );
    // The fixture loader reports the line.
    let mut store = Store::new();
    let e = fixture::load_block("load 1m\n  up _x99999999999\n", &mut store).unwrap_err();
    assert_eq!(e.line, 2);
}

/// fuzz target `promql_eval`: a plain number used as a duration went to promql-parser's
/// `Duration::from_secs_f64`, which panics on values a Duration cannot hold. They are a parse error, now
/// our own parser's (Prometheus's wording).
#[test]
fn promql_number_duration_out_of_range() {
    use ruletest::promql::{parse, ParseError};
    let crash = "d (fo[3333333333333333333333] smdotxed)";
    assert!(matches!(parse(crash), Err(ParseError::Invalid(_))));
    for text in [
        "foo[3333333333333333333333]",
        "foo[Inf]",
        "foo[NaN]",
        "foo[1e400]",
        "rate(foo[5m:1e30])",
        "foo offset 1e30",
        "foo offset -Inf",
    ] {
        match parse(text) {
            Err(ParseError::Invalid(m)) => assert!(
                m.contains("parse error: duration out of range")
                    || m.contains("parse error: unexpected character in duration expression"),
                "{text}: {m}"
            ),
            other => panic!("{text}: expected an invalid-duration error, got {other:?}"),
        }
    }
    // Numbers a duration holds still parse, and so do numbers in strings, label values and comments.
    for text in [
        "foo[300]",
        "foo[5:10]",
        "foo offset 60",
        r#"foo{a="[Inf]"}"#,
        "foo # [Inf]\n",
        "foo[5m] offset 1e3",
        "job:foo:rate5m[1h]",
        // Names in duration position (duration expressions) and octal/hex numbers are not floats.
        "foo[max_of(1m, 2m)]",
        "foo[0x10]",
        "foo[010]",
    ] {
        assert!(parse(text).is_ok(), "{text}: {:?}", parse(text));
    }
}

/// fuzz target `promql_eval`: a subquery whose step is longer than its range (`[5m:23m]`) can have no inner
/// evaluation time; the matrix selector inside then spanned (0, -1], a sample at time 0 put the window's
/// start index past its end, and `to - from` overflowed (a panic in debug builds; in release a wrapped
/// count that failed the query with "too many samples").
#[test]
fn promql_subquery_without_inner_steps() {
    use ruletest::promql::{Engine, Value};
    use ruletest::series::{fixture, Store};
    let mut store = Store::new();
    fixture::load_block(
        "load 30s\n  http_requests_total{job=\"api\"} 0+10x60\n",
        &mut store,
    )
    .unwrap();
    let engine = Engine::default();
    let text = "absent_over_time(rate(http_requests_total[4m])[5m:23m])";
    // At 15m no multiple of 23m lies in (10m, 15m]: the subquery is empty, so absent_over_time gives 1.
    let r = engine.instant_query(&store, text, 15 * 60 * 1000).unwrap();
    match &r.value {
        Value::Vector(v) => {
            assert_eq!(v.len(), 1, "{r:?}");
            assert_eq!(v[0].v, 1.0);
            assert!(v[0].labels.is_empty(), "{r:?}");
        }
        other => panic!("expected a vector, got {other:?}"),
    }
    // At 25m the window (20m, 25m] holds the step at 23m, where the rate has data: no output.
    let r = engine.instant_query(&store, text, 25 * 60 * 1000).unwrap();
    assert!(
        matches!(&r.value, Value::Vector(v) if v.is_empty()),
        "{r:?}"
    );
    // The range query over the same stretch succeeds as well.
    assert!(engine
        .range_query(&store, text, 0, 30 * 60 * 1000, 60 * 1000)
        .is_ok());
}

/// fuzz target `promql_testfile`: `expect range vector from 96s to 1m step 10s` (a start after the end) made
/// the expected sample count overflow ("capacity overflow", exit 101). Prometheus's promqltest refuses such a
/// range; so does ruletest now, naming the file and line (exit 1).
#[test]
fn promql_test_range_vector_start_after_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.test");
    // Runs `promql-test` over `script`; returns its exit status and output.
    let run = |script: &str| {
        std::fs::write(&path, script).unwrap();
        let out = assert_cmd::Command::cargo_bin("ruletest")
            .unwrap()
            .arg("promql-test")
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = run("load 10s\n  x 1 2 3 4 5 6 7 8 9 10\n\neval range from 0 to 1m step 10s x\n  expect range vector from 96s to 1m step 10s\n  x 1 2 3\n");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("bad.test:4: x: invalid range vector: its start 96s is after its end 1m"),
        "{stdout}"
    );
    // A step that is not positive is refused the same way.
    let (code, stdout) = run("load 10s\n  x 1 2 3\n\neval range from 0 to 20s step 10s x\n  expect range vector from 0 to 20s step 0s\n  x 1 2 3\n");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("step 0s is not positive"), "{stdout}");
}

/// `promql_syntax` (campaign of 2026-12-07): the lexer lets `2e` through as a number before `)`, `+` and the
/// like, where Go's `strconv` refuses it; our parser read it as NaN, so `[24m+((1.5*2e)+2m)]` printed as
/// `(1.5 * NaN)`, which does not parse. Prometheus reports `error parsing number`, and so do we now.
#[test]
fn promql_syntax_exponent_without_digits() {
    use ruletest::promql::syntax::parser::{parse_with, Options};
    let opts = Options {
        duration_expr: true,
        ..Options::default()
    };
    for (query, at) in [
        ("changes(http_requests[24m+((1.5*2e)+2m)])", 32),
        ("2e + 1", 0),
        ("(2e)", 1),
    ] {
        let Err(errors) = parse_with(query, &opts) else {
            panic!("{query} parsed")
        };
        assert_eq!(errors[0].start, at, "{query}: {errors:?}");
        assert_eq!(
            errors[0].message,
            "error parsing number: strconv.ParseFloat: parsing \"2e\": invalid syntax",
            "{query}"
        );
    }
}
