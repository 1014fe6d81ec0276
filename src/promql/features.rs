//! Prometheus's experimental PromQL features, by the names of its `--enable-feature` flag. Prometheus 3 has
//! them off unless enabled; a rule using one is refused by the server with a parse error, and delayed name
//! removal changes results. Commands install the set they were given (`--enable-feature`, or the
//! `RULETEST_ENABLE_FEATURES` environment variable for CI) once at their start, as they install their limits;
//! the parser and the engine read the installed set. `promql-test` enables what Prometheus's own promqltest
//! enables. Library callers that install nothing get every feature (the engine can evaluate them all).

use std::sync::OnceLock;

/// Environment variable holding a comma-separated list of features, added to `--enable-feature`.
pub const FEATURES_ENV: &str = "RULETEST_ENABLE_FEATURES";

/// One experimental feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Names are removed at the end of the query, not by each function (`promql-delayed-name-removal`).
    DelayedNameRemoval,
    /// Experimental functions and the `limitk` / `limit_ratio` aggregations
    /// (`promql-experimental-functions`).
    ExperimentalFunctions,
    /// Arithmetic in durations: `x[5m * 2]`, `offset step()` (`promql-duration-expr`).
    DurationExpr,
    /// `fill`, `fill_left`, `fill_right` on binary operations (`promql-binop-fill-modifiers`).
    BinopFillModifiers,
    /// The `anchored` and `smoothed` range modifiers (`promql-extended-range-selectors`); ruletest does not
    /// evaluate them yet, the name is accepted so a flag list shared with Prometheus works.
    ExtendedRangeSelectors,
}

/// Every feature: (flag name, feature, what it changes).
pub const ALL: &[(&str, Feature, &str)] = &[
    (
        "promql-delayed-name-removal",
        Feature::DelayedNameRemoval,
        "the metric name is removed at the end of the query instead of by each function that changes a value, so `label_replace(rate(x[5m]), \"n\", \"$1\", \"__name__\", \"(.*)\")` sees the name and `sum(abs({__name__=~\"a|b\"}))` does not collide",
    ),
    (
        "promql-experimental-functions",
        Feature::ExperimentalFunctions,
        "allows the experimental functions (sort_by_label, mad_over_time, double_exponential_smoothing, info, ts_of_*_over_time, histogram_quantiles, ...) and the limitk / limit_ratio aggregations",
    ),
    (
        "promql-duration-expr",
        Feature::DurationExpr,
        "allows arithmetic in durations and the step() / range() functions inside them: x[5m * 2], offset (1h + 5m)",
    ),
    (
        "promql-binop-fill-modifiers",
        Feature::BinopFillModifiers,
        "allows fill / fill_left / fill_right on binary operations",
    ),
    (
        "promql-extended-range-selectors",
        Feature::ExtendedRangeSelectors,
        "allows the anchored and smoothed range modifiers (not evaluated by ruletest yet)",
    ),
];

/// A set of enabled features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Features(u8);

fn bit(f: Feature) -> u8 {
    1 << (f as u8)
}

static ACTIVE: OnceLock<Features> = OnceLock::new();

impl Features {
    /// Nothing enabled: Prometheus's defaults.
    pub fn none() -> Features {
        Features(0)
    }

    /// Everything enabled.
    pub fn all() -> Features {
        ALL.iter().fold(Features(0), |s, (_, f, _)| s.with(*f))
    }

    /// What Prometheus's promqltest enables: everything.
    pub fn promqltest() -> Features {
        Features::all()
    }

    pub fn with(self, f: Feature) -> Features {
        Features(self.0 | bit(f))
    }

    pub fn has(self, f: Feature) -> bool {
        self.0 & bit(f) != 0
    }

    /// Reads flag names, each possibly a comma-separated list (`--enable-feature a,b`); an unknown name is
    /// an error listing the known ones. Names of Prometheus features that are not about PromQL evaluation
    /// (`exemplar-storage`, ...) are unknown here too: ruletest would silently ignore them otherwise.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Features, String> {
        let mut set = Features::none();
        for list in names {
            for name in list.as_ref().split(',').map(str::trim) {
                if name.is_empty() {
                    continue;
                }
                match ALL.iter().find(|(n, _, _)| *n == name) {
                    Some((_, f, _)) => set = set.with(*f),
                    None => {
                        let known: Vec<&str> = ALL.iter().map(|(n, _, _)| *n).collect();
                        return Err(format!(
                            "unknown feature {name:?} (--enable-feature takes {})",
                            known.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(set)
    }

    /// Makes these the features of this process; the first call wins. Returns whether this call did.
    pub fn install(self) -> bool {
        ACTIVE.set(self).is_ok()
    }

    /// The installed features, or every feature when none were installed (library use, unit tests).
    pub fn active() -> Features {
        ACTIVE.get().copied().unwrap_or_else(Features::all)
    }

    /// The installed features, if a command installed any.
    pub fn installed() -> Option<Features> {
        ACTIVE.get().copied()
    }
}

/// The `--enable-feature` flag, for `#[command(flatten)]` into every command that evaluates PromQL.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "PromQL features")]
pub struct FeatureArgs {
    /// Enable an experimental PromQL feature of Prometheus, by its name (repeatable, or comma-separated):
    /// promql-delayed-name-removal, promql-experimental-functions, promql-duration-expr,
    /// promql-binop-fill-modifiers, promql-extended-range-selectors. Also read from
    /// RULETEST_ENABLE_FEATURES. Off by default, as in Prometheus.
    #[arg(long = "enable-feature", value_name = "NAME")]
    pub enable_feature: Vec<String>,
}

impl FeatureArgs {
    /// The flags' features plus the environment's.
    pub fn features_with_env(&self, env: Option<String>) -> Result<Features, String> {
        let mut names = self.enable_feature.clone();
        names.extend(env);
        Features::parse(&names).map_err(|e| match e.strip_prefix("unknown feature ") {
            Some(rest) => format!("--enable-feature: unknown feature {rest}"),
            None => e,
        })
    }

    /// Installs the flags' and `RULETEST_ENABLE_FEATURES`'s features for this process (see
    /// [`Features::install`]); an unknown name is a usage error.
    pub fn install(&self) -> anyhow::Result<()> {
        let f = self
            .features_with_env(std::env::var(FEATURES_ENV).ok())
            .map_err(anyhow::Error::msg)?;
        f.install();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser's error for `text` with the feature set (under Prometheus 3), if any.
    fn refused(text: &str, set: Features) -> Option<String> {
        let options = crate::promql::parse::options_for(set, Default::default());
        crate::promql::syntax::parser::parse_with(text, &options)
            .err()
            .map(|e| e[0].message.clone())
    }

    #[test]
    fn names_are_prometheus_flag_names() {
        let f = Features::parse(&["promql-experimental-functions,promql-duration-expr"]).unwrap();
        assert!(f.has(Feature::ExperimentalFunctions) && f.has(Feature::DurationExpr));
        assert!(!f.has(Feature::DelayedNameRemoval));
        let e = Features::parse(&["exemplar-storage"]).unwrap_err();
        assert!(e.contains("unknown feature \"exemplar-storage\""), "{e}");
        assert!(e.contains("promql-delayed-name-removal"), "{e}");
        assert_eq!(Features::parse(&[" , "]).unwrap(), Features::none());
        for (name, f, _) in ALL {
            assert!(Features::all().has(*f), "{name}");
        }
        let args = FeatureArgs {
            enable_feature: vec!["promql-binop-fill-modifiers".into()],
        };
        let f = args
            .features_with_env(Some("promql-delayed-name-removal".into()))
            .unwrap();
        assert!(f.has(Feature::BinopFillModifiers) && f.has(Feature::DelayedNameRemoval));
        let e = FeatureArgs {
            enable_feature: vec!["nope".into()],
        }
        .features_with_env(None)
        .unwrap_err();
        assert!(
            e.starts_with("--enable-feature: unknown feature \"nope\""),
            "{e}"
        );
    }

    #[test]
    fn experimental_constructs_need_their_feature() {
        let none = Features::none();
        assert_eq!(
            refused("sort_by_label(up, \"job\")", none).as_deref(),
            Some("function \"sort_by_label\" is not enabled")
        );
        assert_eq!(
            refused(
                "sum(rate(x[5m])) / on() group_left mad_over_time(y[5m])",
                none
            )
            .as_deref(),
            Some("function \"mad_over_time\" is not enabled")
        );
        assert_eq!(
            refused("limitk(2, up)", none).as_deref(),
            Some("limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions")
        );
        assert_eq!(
            refused("up[5m * 2]", none).as_deref(),
            Some("experimental duration expression is not enabled")
        );
        assert_eq!(refused("sort_by_label(up, \"job\")", Features::all()), None);
        assert_eq!(
            refused("up[5m * 2]", Features::none().with(Feature::DurationExpr)),
            None
        );
        // Stable functions and aggregations are never refused.
        assert_eq!(
            refused(
                "topk(2, rate(x[5m])) > on(job) group_left sum by (job) (y)",
                none
            ),
            None
        );
    }
}
