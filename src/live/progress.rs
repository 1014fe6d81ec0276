//! A progress bar on standard error for long live calls, drawn only when standard error is a terminal (so
//! logs, pipes and tests never see it) and the caller asked for one.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar of `total` units labelled `what`; inert unless `enabled` and stderr is a terminal.
    pub fn new(enabled: bool, total: u64, what: &str) -> Progress {
        Self::styled(
            enabled,
            total,
            what,
            "{msg} [{bar:30}] {percent:>3}% {elapsed}",
        )
    }

    /// As [`Progress::new`], showing the count done of the total ("rules 12/136"): for units a person
    /// counts, such as rule queries.
    pub fn counting(enabled: bool, total: u64, what: &str) -> Progress {
        Self::styled(
            enabled,
            total,
            what,
            "{msg} {pos}/{len} [{bar:30}] {elapsed}",
        )
    }

    fn styled(enabled: bool, total: u64, what: &str, template: &str) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what.to_string());
        Progress(Some(bar))
    }

    /// A bar that never draws.
    pub fn none() -> Progress {
        Progress(None)
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_bar_is_inert() {
        let p = Progress::new(false, 10, "x");
        assert!(p.0.is_none());
        p.inc(3);
        // Under the test harness stderr is captured, not a terminal: no bar even when asked.
        if !std::io::stderr().is_terminal() {
            assert!(Progress::new(true, 10, "x").0.is_none());
            assert!(Progress::counting(true, 10, "x").0.is_none());
        }
    }
}
