//! GitHub Actions workflow commands (`check --format github`): each diagnostic becomes an annotation on the
//! pull request's diff, `::error file=rules.yaml,line=58,col=9,title=promql/rate-gt-zero::message`.

use crate::diag::{Diagnostic, Severity};
use crate::report::redact::redact_url_credentials;

/// One workflow command per diagnostic, each on its own line.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = &d.location {
            props.push(format!("file={}", property(&l.file)));
            props.push(format!("line={}", l.pos.line));
            props.push(format!("col={}", l.pos.col));
        }
        props.push(format!("title={}", property(d.code)));
        let mut text = redact_url_credentials(&d.message);
        if let Some(h) = &d.help {
            text.push_str("\nhelp: ");
            text.push_str(h);
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            data(&text)
        ));
    }
    out
}

/// Escapes a command's message as the Actions runner expects.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: also `:` and `,`, which separate properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::Pos;
    use std::sync::Arc;

    #[test]
    fn writes_escaped_workflow_commands() {
        let f: Arc<str> = Arc::from("rules/a,b.yaml");
        let d = vec![
            Diagnostic::warning("promql/rate-gt-zero", "50% of\nthe time")
                .at(&f, Pos::new(3, 7))
                .help("fix: it"),
            Diagnostic::info("x/y", "note"),
        ];
        assert_eq!(
            render(&d),
            "::warning file=rules/a%2Cb.yaml,line=3,col=7,title=promql/rate-gt-zero::50%25 of%0Athe time%0Ahelp: fix: it\n::notice title=x/y::note\n"
        );
    }
}
