//! The checks, one per file; each file's struct doc comment is its documentation (see `registry`).

pub mod constant_comparison;
pub mod counter_without_rate;
pub mod default_receiver_only;
pub mod deprecated_match;
pub mod division_by_zero;
pub mod duplicate_alert;
pub mod experimental_function;
pub mod for_not_multiple_of_interval;
pub mod group_by_missing_label;
pub mod histogram_quantile_without_le;
pub mod inhibit_never_applies;
pub mod inhibit_never_matches;
pub mod join_never_matches;
pub mod percent_of_ratio;
pub mod plaintext_secret;
pub mod range_too_short;
pub mod rate_gt_zero;
pub mod rate_on_non_counter;
pub mod regex_literal;
pub mod required_labels;
pub mod template_file;
pub mod template_missing_label;
pub mod threshold_above_buckets;
pub mod timing_order;
pub mod unreachable_receiver;
pub mod unreachable_route;
pub mod unused_receiver;
pub mod value_in_labels;

#[cfg(test)]
pub(crate) mod testing;
