//! Which Prometheus ruletest predicts: 3 (the default) or 2. They differ in how windows treat their left
//! edge: Prometheus 3 leaves it out of range selectors, the lookback and subquery steps (`(t-r, t]`), Prometheus
//! 2 includes it (`[t-r, t]`), so a sample exactly `r` before the evaluation time counts in 2 and not in 3.
//! Suites written for promtool 2.x can fail under 3 for that alone. Commands install the choice
//! (`--semantics 2|3`) once at their start, as they install limits and features; `EngineOptions::default`
//! reads it. docs/semantics.md lists what the mode changes and what it does not yet.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Semantics {
    /// Prometheus 2.x: closed windows.
    Prometheus2,
    /// Prometheus 3.x: left-open windows.
    #[default]
    Prometheus3,
}

/// 0: none installed; 2 or 3: that version.
static ACTIVE: AtomicU8 = AtomicU8::new(0);

impl Semantics {
    fn code(self) -> u8 {
        match self {
            Semantics::Prometheus2 => 2,
            Semantics::Prometheus3 => 3,
        }
    }

    /// Makes this the semantics of this process; the first call wins. Returns whether this call did.
    pub fn install(self) -> bool {
        ACTIVE
            .compare_exchange(0, self.code(), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Switches the process to this semantics whatever was installed: for a command that evaluates the same
    /// files under both, one after the other (`migrate-report`). Nothing may be evaluating meanwhile.
    pub fn switch_to(self) {
        ACTIVE.store(self.code(), Ordering::SeqCst);
    }

    /// The installed semantics, or Prometheus 3 when none was installed.
    pub fn active() -> Semantics {
        match ACTIVE.load(Ordering::SeqCst) {
            2 => Semantics::Prometheus2,
            _ => Semantics::Prometheus3,
        }
    }
}

/// The `--semantics` flag, for `#[command(flatten)]` into every command that evaluates PromQL.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Prometheus version")]
pub struct SemanticsArgs {
    /// Predict Prometheus 2 or 3 (default 3). 2 includes the left edge of range selectors, the lookback and
    /// subqueries (`[t-5m, t]`), as Prometheus 2.x does; 3 leaves it out (`(t-5m, t]`).
    #[arg(long, value_name = "2|3", value_parser = ["2", "3"], default_value = "3")]
    pub semantics: String,
}

impl SemanticsArgs {
    pub fn semantics(&self) -> Semantics {
        if self.semantics == "2" {
            Semantics::Prometheus2
        } else {
            Semantics::Prometheus3
        }
    }

    /// Installs the flag's semantics for this process (see [`Semantics::install`]).
    pub fn install(&self) {
        self.semantics().install();
    }
}
