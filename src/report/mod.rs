//! Reports: how results look to a person (human) or a program (JSON, SARIF, JUnit, ...). Only this stage and
//! `main.rs` decide presentation; the stages hand over typed results.
//!
//! One interface for every command: a command's library function returns a result value, the value
//! implements [`Report`], and the front end prints [`Report::render`] in the format asked for. Reporters
//! render; they never compute (no evaluation, no loading, no counting that a command would need).
//!
//! To add a format: add it to [`Format`], and to the [`Report::formats`] and [`Report::render`] of each result
//! that has it. To add a result: implement [`Report`] for it in the module that renders it.

pub mod check;
pub mod dry_run;
pub mod dry_run_html;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod labels;
pub mod migrate;
pub mod plot;
pub mod query;
pub mod redact;
pub mod sarif;
pub mod table;
pub mod tune;
pub mod tune_html;
pub mod unittest;
pub mod unittest_html;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For a person at a terminal (tables, code frames; colour when [`Style::color`]).
    Human,
    /// For programs; each command's document is described in its docs page.
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// JUnit XML, for CI test tabs.
    Junit,
    /// Markdown, for a pull request comment.
    Markdown,
    /// Comma-separated values, for a spreadsheet.
    Csv,
    /// One self-contained HTML page (inline CSS, SVG and script), for a person to look at.
    Html,
}

impl Format {
    /// The name the command line uses.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Html => "html",
        }
    }
}

/// Where the output goes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// The output is a terminal that shows ANSI colours.
    pub color: bool,
}

impl Style {
    /// `text` in the ANSI colour `code` (like `1;31`) when colour is on.
    pub(crate) fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A result a command produced, rendered in the formats it has.
pub trait Report {
    /// The formats this result has.
    fn formats(&self) -> &'static [Format];
    /// The complete output in `format` (ending in a newline), or `None` when this result has no such form.
    fn render(&self, format: Format, style: Style) -> Option<String>;
}

/// `result` in `format`, or an error naming the formats it has.
pub fn render(result: &dyn Report, format: Format, style: Style) -> anyhow::Result<String> {
    result.render(format, style).ok_or_else(|| {
        let names: Vec<&str> = result.formats().iter().map(|f| f.name()).collect();
        anyhow::anyhow!(
            "no {} output for this result; it has {}",
            format.name(),
            names.join(", ")
        )
    })
}

/// A JSON document as the commands print it: indented, with a closing newline.
pub(crate) fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Only;
    impl Report for Only {
        fn formats(&self) -> &'static [Format] {
            &[Format::Human, Format::Csv]
        }
        fn render(&self, format: Format, _: Style) -> Option<String> {
            (format == Format::Human).then(|| "text\n".to_string())
        }
    }

    #[test]
    fn a_format_a_result_lacks_is_an_error_naming_those_it_has() {
        assert_eq!(
            render(&Only, Format::Human, Style::default()).unwrap(),
            "text\n"
        );
        let e = render(&Only, Format::Sarif, Style::default())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "no sarif output for this result; it has human, csv");
    }
}
