//! Which Prometheus ruletest predicts: 3 (the default) or 2. They differ in a handful of places, each a
//! [`Difference`]: most visibly how windows treat their left edge (Prometheus 3 leaves it out of range
//! selectors, the lookback and subquery steps, `(t-r, t]`; Prometheus 2 includes it, `[t-r, t]`), so a sample
//! exactly `r` before the evaluation time counts in 2 and not in 3. Suites written for promtool 2.x can fail
//! under 3 for that alone. Commands install the choice (`--semantics 2|3`) once at their start, as they install
//! limits and features; `EngineOptions::default` reads it. A semantics is a set of differences, so
//! `migrate-report` can switch them on one at a time and tell which one changes a verdict. docs/semantics.md
//! lists them with their sources.

use std::sync::atomic::{AtomicU16, Ordering};

/// One way Prometheus 2 behaves differently from Prometheus 3, as ruletest reproduces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Difference {
    /// Range selectors, the lookback and subquery steps include the window's left edge (3.0).
    ClosedWindows,
    /// `holt_winters` is a stable function; `double_exponential_smoothing` does not exist (3.0).
    HoltWinters,
    /// Regex `.` does not match a newline (3.0).
    RegexDotNewline,
    /// `rate` / `increase` limit extrapolation to the counter's zero point before the half-interval rule
    /// (2.51, prometheus#13725).
    RateExtrapolation,
    /// `stddev` / `stdvar` of a lone NaN or ±Inf is 0 (3.0, prometheus#14941).
    StddevNonFinite,
    /// Comparison filters check one-to-one matching only for the pairs they keep (3.9, prometheus#17668).
    FilterMatching,
    /// An `@` range inside a call that is not step-invariant slides with the step (2.51, prometheus#13559).
    SlidingAtRanges,
    /// `topk` / `bottomk` chose among equal values (and NaN) with another heap algorithm (2.44).
    TopkTies,
    /// `atan2` keeps the metric name (2.47).
    Atan2KeepsName,
    /// Metric and label names are the legacy ones: no quoted names, no UTF-8 (3.0).
    LegacyNames,
    /// Templates have 2.x's functions: no `now`, `toDuration`, `urlQueryEscape`; `title` is `strings.Title`;
    /// `parseDuration` refuses negative durations (3.2, 3.6, 3.8).
    TemplateFunctions,
    /// `le` / `quantile` values of scraped classic histograms and summaries are kept as exposed (3.0).
    FloatLabelValues,
}

impl Difference {
    pub const ALL: [Difference; 12] = [
        Difference::ClosedWindows,
        Difference::HoltWinters,
        Difference::RegexDotNewline,
        Difference::RateExtrapolation,
        Difference::StddevNonFinite,
        Difference::FilterMatching,
        Difference::SlidingAtRanges,
        Difference::TopkTies,
        Difference::Atan2KeepsName,
        Difference::LegacyNames,
        Difference::TemplateFunctions,
        Difference::FloatLabelValues,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// A short name, for reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Difference::ClosedWindows => "closed-windows",
            Difference::HoltWinters => "holt-winters",
            Difference::RegexDotNewline => "regex-dot-newline",
            Difference::RateExtrapolation => "rate-extrapolation",
            Difference::StddevNonFinite => "stddev-non-finite",
            Difference::FilterMatching => "filter-matching",
            Difference::SlidingAtRanges => "sliding-at-ranges",
            Difference::TopkTies => "topk-ties",
            Difference::Atan2KeepsName => "atan2-keeps-name",
            Difference::LegacyNames => "legacy-names",
            Difference::TemplateFunctions => "template-functions",
            Difference::FloatLabelValues => "le-quantile-values",
        }
    }

    /// What Prometheus 2 does, and where Prometheus changed it.
    pub fn explain(self) -> &'static str {
        match self {
            Difference::ClosedWindows => "Prometheus 2 includes a window's left edge (`[t-5m, t]`) in range selectors, the lookback and subqueries; 3 leaves it out (3.0 migration guide)",
            Difference::HoltWinters => "`holt_winters` is a function in Prometheus 2; 3 renamed it `double_exponential_smoothing`, behind a feature flag (3.0 migration guide)",
            Difference::RegexDotNewline => "regex `.` does not match a newline in Prometheus 2; it does in 3 (3.0 migration guide)",
            Difference::RateExtrapolation => "`rate` / `increase` extrapolated towards the window's start in another order before 2.51 (prometheus#13725)",
            Difference::StddevNonFinite => "`stddev` / `stdvar` of a lone NaN or ±Inf is 0 in Prometheus 2, NaN in 3 (prometheus#14941)",
            Difference::FilterMatching => "comparison filters checked one-to-one matching only for the pairs they keep before 3.9 (prometheus#17668)",
            Difference::SlidingAtRanges => "an `@` range inside a call that is not step-invariant slid with the step before 2.51 (prometheus#13559)",
            Difference::TopkTies => "`topk` / `bottomk` kept other series among equal values, and replaced a NaN by another NaN, before 2.44 (\"use faster heap method for topk/bottomk\")",
            Difference::Atan2KeepsName => "`a atan2 b` kept the metric name before 2.47, as comparisons do; 3 drops it as arithmetic does",
            Difference::LegacyNames => "Prometheus 2 knows only names like `[a-zA-Z_][a-zA-Z0-9_]*` (`:` too in metric names): it refuses quoted names in PromQL and series, and such names in rule files, `label_replace`, `label_join` and `count_values`; 3 accepts any UTF-8 (3.0 migration guide)",
            Difference::TemplateFunctions => "alert templates in Prometheus 2 have no `now`, `toDuration` (3.6) or `urlQueryEscape` (3.8), `title` is Go's `strings.Title` (`don't` -> `Don'T`; 3.2 changed it) and `parseDuration` refuses negative durations (3.6)",
            Difference::FloatLabelValues => "Prometheus 2 stores the `le` of classic histogram buckets and the `quantile` of summaries as the target exposes them (`le=\"1\"`); 3 writes them as OpenMetrics floats when it scrapes (`le=\"1.0\"`), so a selector such as `x_bucket{le=\"1\"}` matches in 2 and not in 3 (3.0 migration guide). ruletest applies it to exposition-format fixtures whose family declares its `# TYPE`",
        }
    }
}

/// Which Prometheus to predict: the set of [`Difference`]s from Prometheus 3 that apply. Prometheus 3 is the
/// empty set, Prometheus 2 all of them; `migrate-report` uses the sets in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Semantics {
    differences: u16,
}

/// 0: none installed; otherwise 0x8000 and the installed set.
static ACTIVE: AtomicU16 = AtomicU16::new(0);
const INSTALLED: u16 = 0x8000;

impl Semantics {
    /// Prometheus 3.x (the default).
    pub const PROMETHEUS3: Semantics = Semantics { differences: 0 };
    /// Prometheus 2.x (before 2.51 where 2.x itself changed): every difference.
    pub const PROMETHEUS2: Semantics = Semantics {
        differences: ((1u32 << Difference::ALL.len()) - 1) as u16,
    };

    /// Prometheus 3 with one difference of Prometheus 2's.
    pub fn prometheus3_with(d: Difference) -> Semantics {
        Semantics {
            differences: d.bit(),
        }
    }

    /// This semantics with Prometheus 3's behaviour for `d`.
    pub fn without(self, d: Difference) -> Semantics {
        Semantics {
            differences: self.differences & !d.bit(),
        }
    }

    /// Whether Prometheus 2's behaviour applies for `d`.
    pub fn has(self, d: Difference) -> bool {
        self.differences & d.bit() != 0
    }

    /// Makes this the semantics of this process; the first call wins. Returns whether this call did.
    pub fn install(self) -> bool {
        ACTIVE
            .compare_exchange(
                0,
                INSTALLED | self.differences,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Switches the process to this semantics whatever was installed: for a command that evaluates the same
    /// files under several, one after the other (`migrate-report`). Nothing may be evaluating meanwhile.
    pub fn switch_to(self) {
        ACTIVE.store(INSTALLED | self.differences, Ordering::SeqCst);
    }

    /// The installed semantics, or Prometheus 3 when none was installed.
    pub fn active() -> Semantics {
        Semantics {
            differences: ACTIVE.load(Ordering::SeqCst) & !INSTALLED,
        }
    }
}

/// The `--semantics` flag, for `#[command(flatten)]` into every command that evaluates PromQL.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Prometheus version")]
pub struct SemanticsArgs {
    /// Predict Prometheus 2 or 3 (default 3). 2 reproduces each difference docs/semantics.md lists: windows
    /// include their left edge (`[t-5m, t]`, 3 has `(t-5m, t]`), `holt_winters`, regex `.` not matching a
    /// newline, legacy metric and label names, 2.x's template functions, `le` / `quantile` values as exposed,
    /// and smaller ones.
    #[arg(long, value_name = "2|3", value_parser = ["2", "3"], default_value = "3")]
    pub semantics: String,
}

impl SemanticsArgs {
    pub fn semantics(&self) -> Semantics {
        if self.semantics == "2" {
            Semantics::PROMETHEUS2
        } else {
            Semantics::PROMETHEUS3
        }
    }

    /// Installs the flag's semantics for this process (see [`Semantics::install`]).
    pub fn install(&self) {
        self.semantics().install();
    }
}
