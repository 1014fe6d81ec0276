//! The list of all checks, in one table ([`all_checks`]: adding a check is one line here), the codes the
//! lint framework reports itself, and the questions asked of the list (documentation, known codes).

use crate::diag::Severity;
use crate::lint::checks;
use crate::lint::registry::{Check, CheckInfo};

/// The catalogue, in the order of docs/checks.md.
pub fn all_checks() -> Vec<&'static dyn Check> {
    vec![
        &checks::division_by_zero::DivisionByZero,
        &checks::histogram_quantile_without_le::HistogramQuantileWithoutLe,
        &checks::threshold_above_buckets::ThresholdAboveBuckets,
        &checks::rate_on_non_counter::RateOnNonCounter,
        &checks::counter_without_rate::CounterWithoutRate,
        &checks::range_too_short::RangeTooShort,
        &checks::rate_gt_zero::RateGtZero,
        &checks::constant_comparison::ConstantComparison,
        &checks::experimental_function::ExperimentalFunction,
        &checks::for_not_multiple_of_interval::ForNotMultipleOfInterval,
        &checks::template_missing_label::TemplateMissingLabel,
        &checks::percent_of_ratio::PercentOfRatio,
        &checks::required_labels::RequiredLabels,
        &checks::value_in_labels::ValueInLabels,
        &checks::deprecated_match::DeprecatedMatch,
        &checks::plaintext_secret::PlaintextSecret,
        &checks::unreachable_route::UnreachableRoute,
        &checks::unused_receiver::UnusedReceiver,
        &checks::timing_order::TimingOrder,
        &checks::inhibit_never_applies::InhibitNeverApplies,
        &checks::default_receiver_only::DefaultReceiverOnly,
        &checks::unreachable_receiver::UnreachableReceiver,
        &checks::inhibit_never_matches::InhibitNeverMatches,
        &checks::group_by_missing_label::GroupByMissingLabel,
        &checks::template_file::TemplateFile,
        &checks::join_never_matches::JoinNeverMatches,
        &checks::duplicate_alert::DuplicateAlert,
        &checks::regex_literal::RegexLiteral,
    ]
}

/// Warnings the loader gives while reading rule files, listed with the checks because they judge rules too.
pub const LOAD_WARNINGS: &[(&str, Severity, &str)] = &[(
    "rule/duplicate",
    Severity::Warning,
    "Two rules in one file with the same name and labels whose series can be the same (promtool's duplicate-rules). Not when both keep a label whose values their selectors split: `sum by (code) (x{code=~\"2..\"})` and `sum by (code) (x{code=~\"3..\"})` record one name, not one series.",
)];

/// Codes the framework itself reports (not checks, but they can be turned off or re-graded all the same).
pub const FRAMEWORK_CODES: &[(&str, Severity, &str)] = &[
    (
        "lint/suppression-without-reason",
        Severity::Warning,
        "A `# ruletest: ignore <code>` comment without a reason: say why, so the next reader can judge it.",
    ),
    (
        "lint/unknown-code",
        Severity::Warning,
        "A `# ruletest: ignore` comment naming a code that no check has (a typo suppresses nothing).",
    ),
];

/// Every check's info, in catalogue order.
pub fn catalogue() -> Vec<CheckInfo> {
    all_checks().into_iter().map(CheckInfo::of).collect()
}

/// Whether `code` names a check or a framework code.
pub fn is_known_code(code: &str) -> bool {
    all_checks().iter().any(|c| c.code() == code) || FRAMEWORK_CODES.iter().any(|f| f.0 == code)
}

/// All codes, for "did you mean" suggestions.
pub fn known_codes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = all_checks().iter().map(|c| c.code()).collect();
    v.extend(FRAMEWORK_CODES.iter().map(|f| f.0));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_documented_with_the_four_sections() {
        let mut codes = std::collections::HashSet::new();
        for info in catalogue() {
            assert!(codes.insert(info.code), "duplicate code {}", info.code);
            for section in [
                "## What it finds",
                "## Why it matters",
                "## Example",
                "## Fix",
            ] {
                assert!(
                    info.doc.contains(section),
                    "{} lacks `{section}`:\n{}",
                    info.code,
                    info.doc
                );
            }
            assert!(!info.summary().is_empty(), "{}", info.code);
        }
        assert_eq!(codes.len(), 28);
    }
}
