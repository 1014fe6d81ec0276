//! PromQL's functions as the parser knows them: argument types, how many optional or repeated arguments,
//! result type, and whether the function is experimental (`promql/parser/functions.go`, Prometheus 3.14).

use super::ast::ValueType;

/// One function's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub arg_types: &'static [ValueType],
    /// 0: exactly the arguments listed; n > 0: up to n more of the last type; -1: any number more.
    pub variadic: i32,
    pub return_type: ValueType,
    pub experimental: bool,
}

const V: ValueType = ValueType::Vector;
const M: ValueType = ValueType::Matrix;
const S: ValueType = ValueType::Scalar;
#[allow(non_upper_case_globals)]
const Str: ValueType = ValueType::String;

const fn f(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    return_type: ValueType,
    experimental: bool,
) -> Function {
    Function {
        name,
        arg_types,
        variadic,
        return_type,
        experimental,
    }
}

const FUNCTIONS: &[Function] = &[
    f("abs", &[V], 0, V, false),
    f("absent", &[V], 0, V, false),
    f("absent_over_time", &[M], 0, V, false),
    f("acos", &[V], 0, V, false),
    f("acosh", &[V], 0, V, false),
    f("asin", &[V], 0, V, false),
    f("asinh", &[V], 0, V, false),
    f("atan", &[V], 0, V, false),
    f("atanh", &[V], 0, V, false),
    f("avg_over_time", &[M], 0, V, false),
    f("ceil", &[V], 0, V, false),
    f("changes", &[M], 0, V, false),
    f("clamp", &[V, S, S], 0, V, false),
    f("clamp_max", &[V, S], 0, V, false),
    f("clamp_min", &[V, S], 0, V, false),
    f("cos", &[V], 0, V, false),
    f("cosh", &[V], 0, V, false),
    f("count_over_time", &[M], 0, V, false),
    f("days_in_month", &[V], 1, V, false),
    f("day_of_month", &[V], 1, V, false),
    f("day_of_week", &[V], 1, V, false),
    f("day_of_year", &[V], 1, V, false),
    f("deg", &[V], 0, V, false),
    f("end", &[], 0, S, true),
    f("delta", &[M], 0, V, false),
    f("deriv", &[M], 0, V, false),
    f("exp", &[V], 0, V, false),
    f("first_over_time", &[M], 0, V, false),
    f("floor", &[V], 0, V, false),
    f("histogram_avg", &[V], 0, V, false),
    f("histogram_count", &[V], 0, V, false),
    f("histogram_sum", &[V], 0, V, false),
    f("histogram_stddev", &[V], 0, V, false),
    f("histogram_stdvar", &[V], 0, V, false),
    f("histogram_fraction", &[S, S, V], 0, V, false),
    f("histogram_quantile", &[S, V], 0, V, false),
    f("histogram_quantiles", &[V, Str, S, S], 9, V, true),
    f("double_exponential_smoothing", &[M, S, S], 0, V, true),
    f("hour", &[V], 1, V, false),
    f("idelta", &[M], 0, V, false),
    f("increase", &[M], 0, V, false),
    f("info", &[V, V], 1, V, true),
    f("irate", &[M], 0, V, false),
    f("label_replace", &[V, Str, Str, Str, Str], 0, V, false),
    f("label_join", &[V, Str, Str, Str], -1, V, false),
    f("max_of", &[S, S], 0, S, true),
    f("last_over_time", &[M], 0, V, false),
    f("min_of", &[S, S], 0, S, true),
    f("ln", &[V], 0, V, false),
    f("log10", &[V], 0, V, false),
    f("log2", &[V], 0, V, false),
    f("mad_over_time", &[M], 0, V, true),
    f("max_over_time", &[M], 0, V, false),
    f("min_over_time", &[M], 0, V, false),
    f("ts_of_first_over_time", &[M], 0, V, true),
    f("ts_of_max_over_time", &[M], 0, V, true),
    f("ts_of_min_over_time", &[M], 0, V, true),
    f("ts_of_last_over_time", &[M], 0, V, true),
    f("minute", &[V], 1, V, false),
    f("month", &[V], 1, V, false),
    f("pi", &[], 0, S, false),
    f("predict_linear", &[M, S], 0, V, false),
    f("present_over_time", &[M], 0, V, false),
    f("quantile_over_time", &[S, M], 0, V, false),
    f("rad", &[V], 0, V, false),
    f("range", &[], 0, S, true),
    f("rate", &[M], 0, V, false),
    f("resets", &[M], 0, V, false),
    f("round", &[V, S], 1, V, false),
    f("scalar", &[V], 0, S, false),
    f("sgn", &[V], 0, V, false),
    f("sin", &[V], 0, V, false),
    f("sinh", &[V], 0, V, false),
    f("sort", &[V], 0, V, false),
    f("sort_desc", &[V], 0, V, false),
    f("sort_by_label", &[V, Str], -1, V, true),
    f("sort_by_label_desc", &[V, Str], -1, V, true),
    f("sqrt", &[V], 0, V, false),
    f("start", &[], 0, S, true),
    f("start_timestamp", &[V], 0, V, true),
    f("step", &[], 0, S, true),
    f("stddev_over_time", &[M], 0, V, false),
    f("stdvar_over_time", &[M], 0, V, false),
    f("sum_over_time", &[M], 0, V, false),
    f("tan", &[V], 0, V, false),
    f("tanh", &[V], 0, V, false),
    f("time", &[], 0, S, false),
    f("timestamp", &[V], 0, V, false),
    f("vector", &[S], 0, V, false),
    f("year", &[V], 1, V, false),
];

/// The function called `name`, if PromQL has one.
pub fn get(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Prometheus 2's `holt_winters`: a stable function there, renamed `double_exponential_smoothing` (and made
/// experimental) in 3.0.
const HOLT_WINTERS: Function = f("holt_winters", &[M, S, S], 0, V, false);

/// The function called `name` in Prometheus 2 (`prometheus2`: `holt_winters` instead of
/// `double_exponential_smoothing`) or 3.
pub fn get_for(name: &str, prometheus2: bool) -> Option<&'static Function> {
    match (prometheus2, name) {
        (true, "holt_winters") => Some(&HOLT_WINTERS),
        (true, "double_exponential_smoothing") => None,
        _ => get(name),
    }
}

/// What a call of `name` returns (a vector for an unknown name, which the parser reports anyway).
pub fn return_type(name: &str) -> ValueType {
    get(name).map_or(ValueType::Vector, |f| f.return_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_knows_the_common_functions() {
        assert_eq!(get("rate").unwrap().arg_types, &[M]);
        assert_eq!(get("label_join").unwrap().variadic, -1);
        assert_eq!(get("round").unwrap().variadic, 1);
        assert_eq!(return_type("time"), S);
        assert_eq!(return_type("vector"), V);
        assert!(get("nope").is_none());
        assert!(FUNCTIONS.len() > 80);
    }
}
