//! Human output of diagnostics: `file:line:col: severity[code] message`, a short code frame (secrets
//! redacted) and the help line, then a summary.

use crate::diag::{Diagnostic, Severity};
use crate::load::documents::SourceFile;
use crate::report::redact::redact_line;
use std::fmt::Write as _;

pub use super::Style;

/// Renders one diagnostic; `sources` gives the text for the code frame.
pub fn render(d: &Diagnostic, sources: &[SourceFile], style: &Style) -> String {
    let mut out = String::new();
    let sev = match d.severity {
        Severity::Error => style.paint("1;31", "error"),
        Severity::Warning => style.paint("1;33", "warning"),
        Severity::Info => style.paint("1;36", "info"),
    };
    let place = d
        .location
        .as_ref()
        .map(|l| format!("{l}: "))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{place}{sev}[{}] {}",
        d.code,
        redact_message(&d.message)
    );
    if let Some(loc) = &d.location {
        if let Some(src) = sources.iter().find(|s| s.path == loc.file) {
            if let Some(line) = src
                .text
                .lines()
                .nth(loc.pos.line.saturating_sub(1) as usize)
            {
                let shown = redact_line(line);
                let num = loc.pos.line.to_string();
                let pad = " ".repeat(num.len());
                let col = (loc.pos.col.max(1) - 1) as usize;
                let width = underline_width(line, col);
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{num} | {shown}");
                let caret_pad: String = line
                    .chars()
                    .take(col)
                    .map(|c| match c {
                        '\t' => "\t",
                        c if is_wide(c) => "  ",
                        _ => " ",
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{pad} | {caret_pad}{}",
                    style.paint("1;31", &"^".repeat(width))
                );
            }
        }
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

fn underline_width(line: &str, col: usize) -> usize {
    let w: usize = line
        .chars()
        .skip(col)
        .take_while(|c| !c.is_whitespace() && *c != ':')
        .map(|c| if is_wide(c) { 2 } else { 1 })
        .sum();
    w.clamp(1, 60)
}

/// Characters a terminal draws two columns wide (East Asian wide and fullwidth, most emoji), so carets stay
/// under the right character in lines of Chinese text.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

/// Messages can quote configuration values; URLs with credentials are masked there too.
fn redact_message(message: &str) -> String {
    crate::report::redact::redact_url_credentials(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::yaml::Pos;
    use std::sync::Arc;

    #[test]
    fn renders_location_frame_and_help() {
        let file: Arc<str> = Arc::from("am.yml");
        let sources = vec![SourceFile {
            path: file.clone(),
            text: "receivers:\n- name: x\n  email_configs:\n  - to: a@b\n    subject: hi\n".into(),
            comments: vec![],
        }];
        let d = Diagnostic::error(
            "alertmanager/unknown-field",
            "field subject not found in email config",
        )
        .at(&file, Pos::new(5, 5))
        .help("use headers");
        let text = render(&d, &sources, &Style { color: false });
        assert_eq!(
            text,
            "am.yml:5:5: error[alertmanager/unknown-field] field subject not found in email config\n  |\n5 |     subject: hi\n  |     ^^^^^^^\n  = help: use headers\n"
        );
    }

    #[test]
    fn carets_account_for_wide_characters() {
        let file: Arc<str> = Arc::from("r.yml");
        let sources = vec![SourceFile {
            path: file.clone(),
            text: "d: \"使用率: {{ $value }}%\"\n".into(),
            comments: vec![],
        }];
        // `{{` is the 10th character; before it `d: "` (4 columns), three wide characters (6) and `: ` (2),
        // so after the 4-column gutter the caret belongs in column 16.
        let d = Diagnostic::warning("x", "m").at(&file, Pos::new(1, 10));
        let text = render(&d, &sources, &Style { color: false });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[3].find('^'), Some(16), "{text}");
    }

    #[test]
    fn code_frames_never_show_secrets() {
        let file: Arc<str> = Arc::from("am.yml");
        let sources = vec![SourceFile {
            path: file.clone(),
            text: "global:\n  smtp_auth_password: hunter2\n".into(),
            comments: vec![],
        }];
        let d = Diagnostic::error("x", "bad").at(&file, Pos::new(2, 3));
        assert!(!render(&d, &sources, &Style { color: false }).contains("hunter2"));
    }
}
