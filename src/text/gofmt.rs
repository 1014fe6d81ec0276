//! Go's number and `fmt` formatting, byte for byte.
//!
//! Alert text is compared by humans and by golden tests against what Prometheus and Alertmanager print, and
//! those print through Go's `strconv.FormatFloat` and `fmt.Sprintf`. Rust's own float printing differs (no
//! exponent switch at 1e6, `inf` instead of `+Inf`, ...), so everything numeric that reaches a user goes
//! through here.
//!
//! Digit generation is delegated to Rust's exact formatter (`{:e}` gives the shortest round-trip digits,
//! `{:.N}`/`{:.Ne}` give correctly rounded digits, half-to-even on exact ties like Go's `decimal.Round`); the
//! layout rules (`%e` vs `%f` switch, exponent with at least two digits, `+Inf`) follow Go's `ftoa.go`.

use std::fmt::Write as _;

/// A value handed to [`sprintf`], mirroring the dynamic types a Go template can pass to `printf`.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    List(Vec<Arg>),
    /// A `map[string]...`, printed in key order as Go does.
    Map(Vec<(String, Arg)>),
}

impl Arg {
    /// The Go type name used in `%!d(string=...)` style error markers.
    pub fn go_type(&self) -> &'static str {
        match self {
            Arg::Nil => "<nil>",
            Arg::Bool(_) => "bool",
            Arg::Int(_) => "int",
            Arg::Uint(_) => "uint",
            Arg::Float(_) => "float64",
            Arg::Str(_) => "string",
            Arg::List(_) => "[]interface {}",
            Arg::Map(_) => "map[string]interface {}",
        }
    }
}

/// A float64 as Go prints it with `%v`, `fmt.Sprint` or `{{ $value }}`: `strconv.FormatFloat(f, 'g', -1, 64)`,
/// shortest round-trip digits, exponent form when the decimal exponent is < -4 or >= 6 (ftoa.go: "if
/// precision was the shortest possible, use precision 6 for this decision"; the 21 threshold belongs to
/// JavaScript, not Go). So `1e+06`, `100000`, `1e-05`, `0.0001`, `+Inf`, `NaN`.
pub fn format_float_v(f: f64) -> String {
    format_float(f, 'g', -1)
}

/// `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in `e`, `E`, `f`, `g`, `G`; `prec < 0` means shortest.
/// An unknown `fmt` yields `%` followed by it, as Go does.
pub fn format_float(f: f64, fmt: char, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let neg = f.is_sign_negative();
    let shortest = prec < 0;
    let prec = prec.min(MAX_WIDTH as i32);
    let (digits, dp, prec) = match fmt {
        'e' | 'E' => {
            if shortest {
                let (d, dp) = shortest_digits(f);
                let p = d.len() as i32 - 1;
                (d, dp, p.max(0))
            } else {
                let (d, dp) = sig_digits(f, prec as usize + 1);
                (d, dp, prec)
            }
        }
        'f' | 'F' => {
            if shortest {
                let (d, dp) = shortest_digits(f);
                let p = (d.len() as i32 - dp).max(0);
                (d, dp, p)
            } else {
                let (d, dp) = fixed_digits(f, prec as usize);
                (d, dp, prec)
            }
        }
        'g' | 'G' => {
            if shortest {
                let (d, dp) = shortest_digits(f);
                let p = d.len() as i32;
                (d, dp, p)
            } else {
                let p = if prec == 0 { 1 } else { prec };
                let (d, dp) = sig_digits(f, p as usize);
                (d, dp, p)
            }
        }
        other => return format!("%{other}"),
    };
    format_digits(neg, &digits, dp, shortest, prec, fmt)
}

/// Shortest digits that round-trip: (digits without leading/trailing zeros, decimal point position) where the
/// value is 0.d1d2d3... x 10^dp. Zero has no digits.
fn shortest_digits(f: f64) -> (Vec<u8>, i32) {
    parse_sci(&format!("{:e}", f.abs()))
}

/// `n` significant digits, correctly rounded.
fn sig_digits(f: f64, n: usize) -> (Vec<u8>, i32) {
    let n = n.max(1);
    parse_sci(&format!("{:.*e}", n - 1, f.abs()))
}

/// Digits rounded at `prec` places after the decimal point.
fn fixed_digits(f: f64, prec: usize) -> (Vec<u8>, i32) {
    let s = format!("{:.*}", prec, f.abs());
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, fr)) => (i, fr),
        None => (s.as_str(), ""),
    };
    let mut all: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let mut dp = int_part.len() as i32;
    // Drop leading zeros, moving the decimal point with them.
    let lead = all.iter().take_while(|&&b| b == b'0').count();
    all.drain(..lead);
    dp -= lead as i32;
    trim_zeros(all, dp)
}

/// Parse Rust's `d.ddde[-]x` into Go's decimal form.
fn parse_sci(s: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    trim_zeros(digits, exp + 1)
}

fn trim_zeros(mut digits: Vec<u8>, dp: i32) -> (Vec<u8>, i32) {
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() || digits.iter().all(|&b| b == b'0') {
        return (Vec::new(), 0);
    }
    (digits, dp)
}

/// Go's `formatDigits`.
fn format_digits(neg: bool, d: &[u8], dp: i32, shortest: bool, prec: i32, fmt: char) -> String {
    let nd = d.len() as i32;
    match fmt {
        'e' | 'E' => fmt_e(neg, d, dp, prec, fmt),
        'f' | 'F' => fmt_f(neg, d, dp, prec),
        _ => {
            let mut eprec = prec;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            let e = if fmt == 'G' { 'E' } else { 'e' };
            if exp < -4 || exp >= eprec {
                let p = if prec > nd { nd } else { prec };
                return fmt_e(neg, d, dp, p - 1, e);
            }
            let p = if prec > dp { nd } else { prec };
            fmt_f(neg, d, dp, (p - dp).max(0))
        }
    }
}

fn fmt_e(neg: bool, d: &[u8], dp: i32, prec: i32, fmt: char) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push(d.first().map_or('0', |&b| b as char));
    if prec > 0 {
        out.push('.');
        let m = d.len().min(prec as usize + 1);
        for &b in d.iter().take(m).skip(1) {
            out.push(b as char);
        }
        for _ in m.max(1)..=prec as usize {
            out.push('0');
        }
    }
    out.push(fmt);
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    let _ = write!(out, "{exp}");
    out
}

fn fmt_f(neg: bool, d: &[u8], dp: i32, prec: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if dp > 0 {
        let m = (d.len() as i32).min(dp) as usize;
        for &b in &d[..m] {
            out.push(b as char);
        }
        for _ in m as i32..dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            let j = dp + i;
            let ch = if j >= 0 && (j as usize) < d.len() {
                d[j as usize] as char
            } else {
                '0'
            };
            out.push(ch);
        }
    }
    out
}

/// Go's `%v` of any argument: strings as is, floats via [`format_float_v`], lists as `[a b]`, maps as
/// `map[k:v]`, nil as `<nil>`.
pub fn format_v(a: &Arg) -> String {
    match a {
        Arg::Nil => "<nil>".to_string(),
        Arg::Bool(b) => b.to_string(),
        Arg::Int(i) => i.to_string(),
        Arg::Uint(u) => u.to_string(),
        Arg::Float(f) => format_float_v(*f),
        Arg::Str(s) => s.clone(),
        Arg::List(items) => {
            let parts: Vec<String> = items.iter().map(format_v).collect();
            format!("[{}]", parts.join(" "))
        }
        Arg::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}:{}", format_v(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// `fmt.Sprint`: operands printed with `%v`, a space added between two operands when neither is a string.
pub fn sprint(args: &[Arg]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Arg::Str(_));
        if i > 0 && !is_str && !matches!(args[i - 1], Arg::Str(_)) {
            out.push(' ');
        }
        out.push_str(&format_v(a));
    }
    out
}

/// `fmt.Sprintln`: operands always separated by spaces, newline appended.
pub fn sprintln(args: &[Arg]) -> String {
    let parts: Vec<String> = args.iter().map(format_v).collect();
    format!("{}\n", parts.join(" "))
}

/// Formats a float as Prometheus prints sample values (Go's `strconv.FormatFloat(f, 'f', -1, 64)` for
/// the API, `+Inf`/`-Inf`/`NaN` spelled as Go does).
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Rust's shortest round-trip Display matches Go's 'f', -1 for finite values.
        format!("{v}")
    }
}

/// Go's `strconv.Quote`: double-quoted with Go escapes; printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Cap on widths and precisions: Go would allocate whatever is asked, but a template must not be able to
/// make us build gigabyte strings, and Rust's formatter rejects precisions above u16::MAX.
const MAX_WIDTH: usize = u16::MAX as usize;

/// One parsed `%` directive.
#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf` for the verbs alert templates use: `%s %q %v %d %f %F %e %E %g %G %x %X %o %b %c %t %%`,
/// flags `+ - # 0 space`, width and precision (also `*`). Mismatches print Go's markers: `%!d(string=x)`,
/// `%!s(MISSING)`, `%!(EXTRA int=1)`, `%!(NOVERB)`.
pub fn sprintf(format: &str, args: &[Arg]) -> String {
    let mut out = String::new();
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    let mut argi = 0;
    // Go's pp.reordered: once an explicit [n] index is used, unused arguments are not reported as EXTRA.
    let mut reordered = false;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        let mut good_index = true;
        // Flags.
        while i < chars.len() {
            match chars[i] {
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = !spec.minus,
                _ => break,
            }
            i += 1;
        }
        let mut after_index = arg_index(
            &chars,
            &mut i,
            &mut argi,
            args.len(),
            &mut good_index,
            &mut reordered,
        );
        // Width.
        if i < chars.len() && chars[i] == '*' {
            i += 1;
            match args.get(argi) {
                Some(Arg::Int(n)) => {
                    if *n < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some((n.unsigned_abs() as usize).min(MAX_WIDTH));
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
            after_index = false;
        } else {
            let (n, next) = parse_num(&chars, i);
            if after_index && n.is_some() {
                good_index = false; // "%[3]2d"
            }
            spec.width = n;
            i = next;
        }
        // Precision.
        if i + 1 < chars.len() && chars[i] == '.' {
            i += 1;
            if after_index {
                good_index = false; // "%[3].2d"
            }
            after_index = arg_index(
                &chars,
                &mut i,
                &mut argi,
                args.len(),
                &mut good_index,
                &mut reordered,
            );
            if i < chars.len() && chars[i] == '*' {
                i += 1;
                match args.get(argi) {
                    Some(Arg::Int(n)) if *n >= 0 => spec.prec = Some((*n as usize).min(MAX_WIDTH)),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
                after_index = false;
            } else {
                let (n, next) = parse_num(&chars, i);
                spec.prec = Some(n.unwrap_or(0));
                i = next;
            }
        }
        if !after_index {
            arg_index(
                &chars,
                &mut i,
                &mut argi,
                args.len(),
                &mut good_index,
                &mut reordered,
            );
        }
        if i >= chars.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = chars[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_index {
            let _ = write!(out, "%!{verb}(BADINDEX)");
            continue;
        }
        match args.get(argi) {
            None => {
                let _ = write!(out, "%!{verb}(MISSING)");
            }
            Some(a) => {
                out.push_str(&format_one(verb, &spec, a));
                argi += 1;
            }
        }
    }
    if !reordered && argi < args.len() {
        out.push_str("%!(EXTRA ");
        let parts: Vec<String> = args[argi..]
            .iter()
            .map(|a| match a {
                Arg::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.go_type(), format_v(a)),
            })
            .collect();
        out.push_str(&parts.join(", "));
        out.push(')');
    }
    out
}

/// Go's `argNumber`: an explicit `[n]` selects argument n (1-based). Returns whether one was consumed.
fn arg_index(
    chars: &[char],
    i: &mut usize,
    argi: &mut usize,
    nargs: usize,
    good: &mut bool,
    reordered: &mut bool,
) -> bool {
    if chars.get(*i) != Some(&'[') {
        return false;
    }
    *reordered = true;
    let Some(close) = chars[*i..].iter().position(|&c| c == ']') else {
        // No closing bracket: Go marks the index bad and skips the rest of the directive text.
        *good = false;
        return false;
    };
    let digits: String = chars[*i + 1..*i + close].iter().collect();
    *i += close + 1;
    match digits.parse::<usize>() {
        Ok(n) if n >= 1 && n <= nargs => {
            *argi = n - 1;
            true
        }
        _ => {
            *good = false;
            true
        }
    }
}

fn parse_num(chars: &[char], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while i < chars.len() && chars[i].is_ascii_digit() {
        n = n
            .saturating_mul(10)
            .saturating_add(chars[i] as usize - '0' as usize);
        i += 1;
    }
    if i == start {
        (None, i)
    } else {
        (Some(n.min(MAX_WIDTH)), i)
    }
}

fn bad_verb(verb: char, a: &Arg) -> String {
    match a {
        Arg::Nil => format!("%!{verb}(<nil>)"),
        a => format!("%!{verb}({}={})", a.go_type(), format_v(a)),
    }
}

/// Format a single operand for one verb, applying width/padding.
fn format_one(verb: char, spec: &Spec, a: &Arg) -> String {
    // Lists format element by element for every verb except %v/%s on byte-less data, as Go's printValue does.
    if verb == 'v' && spec.sharp {
        return pad(&go_syntax(a), spec);
    }
    if let Arg::List(items) = a {
        let parts: Vec<String> = items
            .iter()
            .map(|it| {
                format_one(
                    verb,
                    &Spec {
                        width: None,
                        ..*spec
                    },
                    it,
                )
            })
            .collect();
        return pad(&format!("[{}]", parts.join(" ")), spec);
    }
    match verb {
        'v' => match a {
            Arg::Float(f) => num_pad(
                float_with_prec(*f, 'g', spec.prec.map(|p| p as i32).unwrap_or(-1)),
                spec,
                f.is_finite(),
            ),
            Arg::Int(n) => num_pad(n.to_string(), spec, true),
            Arg::Uint(n) => num_pad(n.to_string(), spec, true),
            Arg::Str(s) => pad(&truncate(s, spec.prec), spec),
            other => pad(&format_v(other), spec),
        },
        's' => match a {
            Arg::Str(s) => pad(&truncate(s, spec.prec), spec),
            Arg::Map(_) => pad(&format_v(a), spec),
            other => bad_verb(verb, other),
        },
        'q' => match a {
            Arg::Str(s) => pad(&go_quote(s), spec),
            Arg::Int(n) => match char::from_u32(*n as u32) {
                Some(c) if *n >= 0 => pad(&format!("'{c}'"), spec),
                _ => pad("'\u{fffd}'", spec),
            },
            other => bad_verb(verb, other),
        },
        't' => match a {
            Arg::Bool(b) => pad(&b.to_string(), spec),
            other => bad_verb(verb, other),
        },
        'd' | 'x' | 'X' | 'o' | 'b' | 'c' => match a {
            Arg::Int(n) => int_verb(verb, spec, *n < 0, n.unsigned_abs()),
            Arg::Uint(n) => int_verb(verb, spec, false, *n),
            Arg::Str(s) if verb == 'x' || verb == 'X' => {
                let mut h = String::new();
                for b in s.bytes() {
                    if verb == 'x' {
                        let _ = write!(h, "{b:02x}");
                    } else {
                        let _ = write!(h, "{b:02X}");
                    }
                }
                pad(&h, spec)
            }
            other => bad_verb(verb, other),
        },
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
            let f = match a {
                Arg::Float(f) => *f,
                other => return bad_verb(verb, other),
            };
            let prec = match (verb, spec.prec) {
                (_, Some(p)) => p as i32,
                ('g' | 'G', None) => -1,
                _ => 6,
            };
            num_pad(float_with_prec(f, verb, prec), spec, f.is_finite())
        }
        other => bad_verb(other, a),
    }
}

/// `%#v`: a Go-syntax representation of the value.
fn go_syntax(a: &Arg) -> String {
    match a {
        Arg::Nil => "<nil>".into(),
        Arg::Str(s) => go_quote(s),
        Arg::Uint(u) => format!("0x{u:x}"),
        Arg::List(items) => {
            let parts: Vec<String> = items.iter().map(go_syntax).collect();
            format!("[]interface {{}}{{{}}}", parts.join(", "))
        }
        Arg::Map(entries) => {
            let all_str = entries.iter().all(|(_, v)| matches!(v, Arg::Str(_)));
            let ty = if all_str {
                "map[string]string"
            } else {
                "map[string]interface {}"
            };
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_syntax(v)))
                .collect();
            format!("{ty}{{{}}}", parts.join(", "))
        }
        other => format_v(other),
    }
}

fn float_with_prec(f: f64, verb: char, prec: i32) -> String {
    let fmt = if verb == 'F' { 'f' } else { verb };
    format_float(f, fmt, prec)
}

fn int_verb(verb: char, spec: &Spec, neg: bool, mag: u64) -> String {
    let body = match verb {
        'd' => mag.to_string(),
        'x' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        'o' => format!("{mag:o}"),
        'b' => format!("{mag:b}"),
        _ => {
            // %c
            let c = char::from_u32(mag as u32).unwrap_or('\u{fffd}');
            return pad(&c.to_string(), spec);
        }
    };
    // Precision on integers is a minimum digit count.
    let body = match spec.prec {
        Some(p) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
        _ => body,
    };
    let prefix = if spec.sharp {
        match verb {
            'x' => "0x",
            'X' => "0X",
            'o' => "0",
            'b' => "0b",
            _ => "",
        }
    } else {
        ""
    };
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let s = format!("{sign}{prefix}{body}");
    // Go ignores the 0 flag for integers when a precision is given.
    let zero_ok = spec.prec.is_none();
    num_pad_signed(s, sign.len() + prefix.len(), spec, zero_ok)
}

/// Pad a formatted float (which may start with '-') honouring `+`, space and `0` flags.
fn num_pad(mut s: String, spec: &Spec, finite: bool) -> String {
    let has_sign = s.starts_with('-') || s.starts_with('+');
    if !has_sign {
        if spec.plus {
            s.insert(0, '+');
        } else if spec.space {
            s.insert(0, ' ');
        }
    }
    let sign_len = usize::from(s.starts_with(['-', '+', ' ']));
    // Go pads infinities and NaN with spaces even under the 0 flag.
    num_pad_signed(s, sign_len, spec, finite)
}

fn num_pad_signed(s: String, sign_len: usize, spec: &Spec, zero_ok: bool) -> String {
    let width = spec.width.unwrap_or(0);
    let len = s.chars().count();
    if len >= width {
        return s;
    }
    let fill = width - len;
    if spec.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero && zero_ok {
        format!("{}{}{}", &s[..sign_len], "0".repeat(fill), &s[sign_len..])
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

fn truncate(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

/// Pad a non-numeric operand; Go pads strings with zeros too when the 0 flag is set.
fn pad(s: &str, spec: &Spec) -> String {
    let width = spec.width.unwrap_or(0);
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let fill = width - len;
    if spec.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero {
        format!("{}{s}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values follow Go's strconv/ftoa.go rules worked by hand: shortest digits of the float64, then
    // %e when exp < -4 || exp >= 6 (shortest) or >= prec; exponent written with a sign and at least 2 digits.
    #[test]
    fn v_format_switches_to_exponent_at_1e6() {
        assert_eq!(format_float_v(1e6), "1e+06"); // digits "1", dp=7, exp=6 >= 6
        assert_eq!(format_float_v(100000.0), "100000"); // exp=5 < 6 -> %f
        assert_eq!(format_float_v(1234567.0), "1.234567e+06");
        assert_eq!(format_float_v(123456.7), "123456.7");
        assert_eq!(format_float_v(1e21), "1e+21");
        assert_eq!(format_float_v(1e-5), "1e-05"); // exp=-5 < -4
        assert_eq!(format_float_v(0.0001), "0.0001"); // exp=-4
        assert_eq!(format_float_v(0.000123), "0.000123");
        assert_eq!(format_float_v(1e-9), "1e-09");
        assert_eq!(format_float_v(0.0), "0");
        assert_eq!(format_float_v(-0.0), "-0");
        assert_eq!(format_float_v(1.0), "1");
        assert_eq!(format_float_v(0.1), "0.1");
        assert_eq!(format_float_v(-2.5), "-2.5");
        assert_eq!(format_float_v(15.0), "15");
        assert_eq!(format_float_v(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_float_v(f64::INFINITY), "+Inf");
        assert_eq!(format_float_v(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float_v(f64::NAN), "NaN");
        assert_eq!(format_float_v(1.5e300), "1.5e+300");
        assert_eq!(format_float_v(5e-324), "5e-324");
    }

    #[test]
    fn format_float_fixed_precisions() {
        assert_eq!(format_float(4.56789, 'f', 2), "4.57");
        assert_eq!(format_float(2.5, 'f', 0), "2"); // exact tie: half to even
        assert_eq!(format_float(3.5, 'f', 0), "4");
        assert_eq!(format_float(0.125, 'f', 2), "0.12"); // 0.125 is exact in binary: tie -> even
        assert_eq!(format_float(1e6, 'f', -1), "1000000");
        assert_eq!(format_float(-0.001, 'f', 1), "-0.0");
        assert_eq!(format_float(1234.5678, 'e', 3), "1.235e+03");
        assert_eq!(format_float(0.0, 'e', 2), "0.00e+00");
        assert_eq!(format_float(1e100, 'e', -1), "1e+100");
        assert_eq!(format_float(1.0, 'x', 2), "%x");
    }

    #[test]
    fn g_with_precision_rounds_before_choosing_layout() {
        // %.4g: 4 significant digits; the %e switch uses the rounded exponent.
        assert_eq!(format_float(1234567.0, 'g', 4), "1.235e+06");
        assert_eq!(format_float(9999.5, 'g', 4), "1e+04"); // rounds to 1.000e4, trailing zeros trimmed
        assert_eq!(format_float(1234.0, 'g', 4), "1234");
        assert_eq!(format_float(0.0, 'g', 4), "0");
        assert_eq!(format_float(123.0, 'g', 4), "123");
        assert_eq!(format_float(0.000123, 'g', 4), "0.000123");
        assert_eq!(format_float(1.2345e-5, 'g', 4), "1.234e-05"); // 1.2345e-5 is below the tie in binary
        assert_eq!(format_float(100.0, 'g', 4), "100");
        assert_eq!(format_float(1.0, 'g', 0), "1");
    }

    #[test]
    fn sprintf_common_verbs() {
        assert_eq!(sprintf("%.2f", &[Arg::Float(4.56789)]), "4.57");
        assert_eq!(sprintf("%5.2f|", &[Arg::Float(4.56789)]), " 4.57|");
        assert_eq!(sprintf("%-6.1f|", &[Arg::Float(2.25)]), "2.2   |");
        assert_eq!(sprintf("%06.2f", &[Arg::Float(-1.5)]), "-01.50");
        assert_eq!(sprintf("%+.1f", &[Arg::Float(1.0)]), "+1.0");
        assert_eq!(sprintf("%d items", &[Arg::Int(42)]), "42 items");
        assert_eq!(sprintf("%05d", &[Arg::Int(-42)]), "-0042");
        assert_eq!(
            sprintf("%x %X %#x", &[Arg::Int(255), Arg::Int(255), Arg::Int(255)]),
            "ff FF 0xff"
        );
        assert_eq!(
            sprintf("%s=%q", &[Arg::Str("a".into()), Arg::Str("b\"c".into())]),
            "a=\"b\\\"c\""
        );
        assert_eq!(sprintf("%v %v", &[Arg::Float(1e6), Arg::Int(3)]), "1e+06 3");
        assert_eq!(sprintf("%g", &[Arg::Float(100000.0)]), "100000");
        assert_eq!(sprintf("%e", &[Arg::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(sprintf("%f", &[Arg::Float(1.0)]), "1.000000");
        assert_eq!(sprintf("100%%", &[]), "100%");
        assert_eq!(sprintf("%t", &[Arg::Bool(true)]), "true");
        assert_eq!(sprintf("%x", &[Arg::Str("hi".into())]), "6869");
        assert_eq!(sprintf("%.3s", &[Arg::Str("abcdef".into())]), "abc");
        assert_eq!(
            sprintf("%8s|%-4s|", &[Arg::Str("ab".into()), Arg::Str("c".into())]),
            "      ab|c   |"
        );
        assert_eq!(sprintf("%*d", &[Arg::Int(4), Arg::Int(7)]), "   7");
        assert_eq!(sprintf("%.2f", &[Arg::Float(f64::INFINITY)]), "+Inf");
        assert_eq!(
            sprintf("%v", &[Arg::List(vec![Arg::Int(1), Arg::Str("a".into())])]),
            "[1 a]"
        );
    }

    #[test]
    fn sprintf_mismatches_print_go_markers() {
        assert_eq!(sprintf("%d", &[Arg::Str("abc".into())]), "%!d(string=abc)");
        assert_eq!(sprintf("%f", &[Arg::Int(5)]), "%!f(int=5)");
        assert_eq!(sprintf("%s", &[Arg::Int(5)]), "%!s(int=5)");
        assert_eq!(sprintf("%s", &[Arg::Float(1.5)]), "%!s(float64=1.5)");
        assert_eq!(sprintf("%d", &[Arg::Nil]), "%!d(<nil>)");
        assert_eq!(sprintf("%s %s", &[Arg::Str("a".into())]), "a %!s(MISSING)");
        assert_eq!(
            sprintf("%s", &[Arg::Str("a".into()), Arg::Int(1)]),
            "a%!(EXTRA int=1)"
        );
        assert_eq!(
            sprintf("x", &[Arg::Str("a".into()), Arg::Float(2.0)]),
            "x%!(EXTRA string=a, float64=2)"
        );
        assert_eq!(sprintf("%", &[]), "%!(NOVERB)");
        assert_eq!(sprintf("%z", &[Arg::Int(1)]), "%!z(int=1)");
    }

    #[test]
    fn huge_widths_are_capped_not_fatal() {
        assert_eq!(
            sprintf("%.99999999f", &[Arg::Float(1.0)]).len(),
            2 + MAX_WIDTH
        );
        assert_eq!(sprintf("%99999999d", &[Arg::Int(1)]).len(), MAX_WIDTH);
        assert_eq!(
            format_float(1.5, 'e', 100),
            format!("{:.100e}", 1.5).replace("e0", "e+00")
        );
    }

    #[test]
    fn sharp_v_is_go_syntax() {
        // fmt: %#v quotes strings, prints uints in hex, and spells out container types.
        assert_eq!(sprintf("%#v", &[Arg::Str("a\"b".into())]), "\"a\\\"b\"");
        assert_eq!(sprintf("%#v", &[Arg::Float(1e6)]), "1e+06");
        assert_eq!(
            sprintf("%#v", &[Arg::Map(vec![("a".into(), Arg::Str("b".into()))])]),
            "map[string]string{\"a\":\"b\"}"
        );
        assert_eq!(
            sprintf("%#v", &[Arg::List(vec![Arg::Int(1), Arg::Str("x".into())])]),
            "[]interface {}{1, \"x\"}"
        );
    }

    #[test]
    fn sprintf_explicit_argument_indexes() {
        // fmt docs: Sprintf("%[2]d %[1]d", 11, 22) == "22 11"; "%[3]*.[2]*[1]f", 12.0, 2, 6 == " 12.00".
        assert_eq!(
            sprintf("%[2]d %[1]d", &[Arg::Int(11), Arg::Int(22)]),
            "22 11"
        );
        assert_eq!(
            sprintf(
                "%[3]*.[2]*[1]f",
                &[Arg::Float(12.0), Arg::Int(2), Arg::Int(6)]
            ),
            " 12.00"
        );
        assert_eq!(
            sprintf("%[1]s %s", &[Arg::Str("a".into()), Arg::Str("b".into())]),
            "a b"
        );
        assert_eq!(sprintf("%[5]d", &[Arg::Int(1)]), "%!d(BADINDEX)");
        // Reordered formats do not complain about unused arguments.
        assert_eq!(sprintf("%[2]d", &[Arg::Int(1), Arg::Int(2)]), "2");
    }

    #[test]
    fn sprint_spacing_matches_go() {
        // Space only between two operands that are both non-strings.
        assert_eq!(sprint(&[Arg::Int(1), Arg::Int(2)]), "1 2");
        assert_eq!(sprint(&[Arg::Str("a".into()), Arg::Int(2)]), "a2");
        assert_eq!(sprint(&[Arg::Float(1e6), Arg::Str("x".into())]), "1e+06x");
        assert_eq!(sprintln(&[Arg::Str("a".into()), Arg::Int(2)]), "a 2\n");
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(go_quote("a\nb\t\"c\"\\"), "\"a\\nb\\t\\\"c\\\"\\\\\"");
        assert_eq!(go_quote("\u{1}"), "\"\\x01\"");
        assert_eq!(go_quote("中文"), "\"中文\"");
    }
}
