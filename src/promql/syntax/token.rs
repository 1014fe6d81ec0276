//! PromQL's token kinds, named and grouped as Prometheus's grammar names them (`promql/parser/generated_parser.y`),
//! with the keyword table of its lexer.

/// One kind of token. The names are Prometheus's (`LEFT_PAREN` is [`TokenKind::LeftParen`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Eql,
    Blank,
    Colon,
    Comma,
    Comment,
    Duration,
    Eof,
    Error,
    Identifier,
    LeftBrace,
    LeftBracket,
    LeftParen,
    OpenHist,
    CloseHist,
    MetricIdentifier,
    Number,
    RightBrace,
    RightBracket,
    RightParen,
    Semicolon,
    Space,
    String,
    Times,
    // Histogram descriptors.
    SumDesc,
    CountDesc,
    SchemaDesc,
    OffsetDesc,
    NegativeOffsetDesc,
    BucketsDesc,
    NegativeBucketsDesc,
    ZeroBucketDesc,
    ZeroBucketWidthDesc,
    CustomValuesDesc,
    CounterResetHintDesc,
    // Operators.
    Add,
    Div,
    Eqlc,
    EqlRegex,
    Gte,
    Gtr,
    TrimUpper,
    TrimLower,
    Land,
    Lor,
    Lss,
    Lte,
    Lunless,
    Mod,
    Mul,
    Neq,
    NeqRegex,
    Pow,
    Sub,
    At,
    Atan2,
    // Aggregators.
    Avg,
    Bottomk,
    Count,
    CountValues,
    Group,
    Max,
    Min,
    Quantile,
    Stddev,
    Stdvar,
    Sum,
    Topk,
    Limitk,
    LimitRatio,
    // Keywords.
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Fill,
    FillLeft,
    FillRight,
    Ignoring,
    Offset,
    Smoothed,
    Anchored,
    On,
    Without,
    // Preprocessors.
    Start,
    End,
    Step,
    Range,
    MaxOf,
    MinOf,
    // Counter reset hints.
    UnknownCounterReset,
    CounterReset,
    NotCounterReset,
    GaugeType,
}

use TokenKind as K;

/// Every kind with Prometheus's name for it.
const NAMES: &[(TokenKind, &str)] = &[
    (K::Eql, "EQL"),
    (K::Blank, "BLANK"),
    (K::Colon, "COLON"),
    (K::Comma, "COMMA"),
    (K::Comment, "COMMENT"),
    (K::Duration, "DURATION"),
    (K::Eof, "EOF"),
    (K::Error, "ERROR"),
    (K::Identifier, "IDENTIFIER"),
    (K::LeftBrace, "LEFT_BRACE"),
    (K::LeftBracket, "LEFT_BRACKET"),
    (K::LeftParen, "LEFT_PAREN"),
    (K::OpenHist, "OPEN_HIST"),
    (K::CloseHist, "CLOSE_HIST"),
    (K::MetricIdentifier, "METRIC_IDENTIFIER"),
    (K::Number, "NUMBER"),
    (K::RightBrace, "RIGHT_BRACE"),
    (K::RightBracket, "RIGHT_BRACKET"),
    (K::RightParen, "RIGHT_PAREN"),
    (K::Semicolon, "SEMICOLON"),
    (K::Space, "SPACE"),
    (K::String, "STRING"),
    (K::Times, "TIMES"),
    (K::SumDesc, "SUM_DESC"),
    (K::CountDesc, "COUNT_DESC"),
    (K::SchemaDesc, "SCHEMA_DESC"),
    (K::OffsetDesc, "OFFSET_DESC"),
    (K::NegativeOffsetDesc, "NEGATIVE_OFFSET_DESC"),
    (K::BucketsDesc, "BUCKETS_DESC"),
    (K::NegativeBucketsDesc, "NEGATIVE_BUCKETS_DESC"),
    (K::ZeroBucketDesc, "ZERO_BUCKET_DESC"),
    (K::ZeroBucketWidthDesc, "ZERO_BUCKET_WIDTH_DESC"),
    (K::CustomValuesDesc, "CUSTOM_VALUES_DESC"),
    (K::CounterResetHintDesc, "COUNTER_RESET_HINT_DESC"),
    (K::Add, "ADD"),
    (K::Div, "DIV"),
    (K::Eqlc, "EQLC"),
    (K::EqlRegex, "EQL_REGEX"),
    (K::Gte, "GTE"),
    (K::Gtr, "GTR"),
    (K::TrimUpper, "TRIM_UPPER"),
    (K::TrimLower, "TRIM_LOWER"),
    (K::Land, "LAND"),
    (K::Lor, "LOR"),
    (K::Lss, "LSS"),
    (K::Lte, "LTE"),
    (K::Lunless, "LUNLESS"),
    (K::Mod, "MOD"),
    (K::Mul, "MUL"),
    (K::Neq, "NEQ"),
    (K::NeqRegex, "NEQ_REGEX"),
    (K::Pow, "POW"),
    (K::Sub, "SUB"),
    (K::At, "AT"),
    (K::Atan2, "ATAN2"),
    (K::Avg, "AVG"),
    (K::Bottomk, "BOTTOMK"),
    (K::Count, "COUNT"),
    (K::CountValues, "COUNT_VALUES"),
    (K::Group, "GROUP"),
    (K::Max, "MAX"),
    (K::Min, "MIN"),
    (K::Quantile, "QUANTILE"),
    (K::Stddev, "STDDEV"),
    (K::Stdvar, "STDVAR"),
    (K::Sum, "SUM"),
    (K::Topk, "TOPK"),
    (K::Limitk, "LIMITK"),
    (K::LimitRatio, "LIMIT_RATIO"),
    (K::Bool, "BOOL"),
    (K::By, "BY"),
    (K::GroupLeft, "GROUP_LEFT"),
    (K::GroupRight, "GROUP_RIGHT"),
    (K::Fill, "FILL"),
    (K::FillLeft, "FILL_LEFT"),
    (K::FillRight, "FILL_RIGHT"),
    (K::Ignoring, "IGNORING"),
    (K::Offset, "OFFSET"),
    (K::Smoothed, "SMOOTHED"),
    (K::Anchored, "ANCHORED"),
    (K::On, "ON"),
    (K::Without, "WITHOUT"),
    (K::Start, "START"),
    (K::End, "END"),
    (K::Step, "STEP"),
    (K::Range, "RANGE"),
    (K::MaxOf, "MAX_OF"),
    (K::MinOf, "MIN_OF"),
    (K::UnknownCounterReset, "UNKNOWN_COUNTER_RESET"),
    (K::CounterReset, "COUNTER_RESET"),
    (K::NotCounterReset, "NOT_COUNTER_RESET"),
    (K::GaugeType, "GAUGE_TYPE"),
];

impl TokenKind {
    /// Prometheus's name of the kind (`LEFT_PAREN`).
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// The kind Prometheus calls `name`.
    pub fn from_name(name: &str) -> Option<TokenKind> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The text Prometheus prints for a kind with a fixed spelling (`ItemTypeStr`): `+`, `and`, `sum`, `by`...
    pub fn text(self) -> Option<&'static str> {
        Some(match self {
            K::OpenHist => "{{",
            K::CloseHist => "}}",
            K::LeftParen => "(",
            K::RightParen => ")",
            K::LeftBrace => "{",
            K::RightBrace => "}",
            K::LeftBracket => "[",
            K::RightBracket => "]",
            K::Comma => ",",
            K::Eql => "=",
            K::Colon => ":",
            K::Semicolon => ";",
            K::Blank => "_",
            K::Times => "x",
            K::Space => "<space>",
            K::Sub => "-",
            K::Add => "+",
            K::Mul => "*",
            K::Mod => "%",
            K::Div => "/",
            K::Eqlc => "==",
            K::Neq => "!=",
            K::Lte => "<=",
            K::Lss => "<",
            K::Gte => ">=",
            K::Gtr => ">",
            K::TrimUpper => "</",
            K::TrimLower => ">/",
            K::EqlRegex => "=~",
            K::NeqRegex => "!~",
            K::Pow => "^",
            K::At => "@",
            K::Land => "and",
            K::Lor => "or",
            K::Lunless => "unless",
            K::Atan2 => "atan2",
            K::Sum => "sum",
            K::Avg => "avg",
            K::Count => "count",
            K::Min => "min",
            K::Max => "max",
            K::Group => "group",
            K::Stddev => "stddev",
            K::Stdvar => "stdvar",
            K::Topk => "topk",
            K::Bottomk => "bottomk",
            K::CountValues => "count_values",
            K::Quantile => "quantile",
            K::Limitk => "limitk",
            K::LimitRatio => "limit_ratio",
            K::Offset => "offset",
            K::Smoothed => "smoothed",
            K::Anchored => "anchored",
            K::By => "by",
            K::Without => "without",
            K::On => "on",
            K::Ignoring => "ignoring",
            K::GroupLeft => "group_left",
            K::GroupRight => "group_right",
            K::Fill => "fill",
            K::FillLeft => "fill_left",
            K::FillRight => "fill_right",
            K::Bool => "bool",
            K::Start => "start",
            K::End => "end",
            K::Step => "step",
            K::Range => "range",
            K::MaxOf => "max_of",
            K::MinOf => "min_of",
            _ => return None,
        })
    }

    pub fn is_operator(self) -> bool {
        matches!(
            self,
            K::Add
                | K::Div
                | K::Eqlc
                | K::EqlRegex
                | K::Gte
                | K::Gtr
                | K::TrimUpper
                | K::TrimLower
                | K::Land
                | K::Lor
                | K::Lss
                | K::Lte
                | K::Lunless
                | K::Mod
                | K::Mul
                | K::Neq
                | K::NeqRegex
                | K::Pow
                | K::Sub
                | K::At
                | K::Atan2
        )
    }

    pub fn is_aggregator(self) -> bool {
        matches!(
            self,
            K::Avg
                | K::Bottomk
                | K::Count
                | K::CountValues
                | K::Group
                | K::Max
                | K::Min
                | K::Quantile
                | K::Stddev
                | K::Stdvar
                | K::Sum
                | K::Topk
                | K::Limitk
                | K::LimitRatio
        )
    }

    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            K::Bool
                | K::By
                | K::GroupLeft
                | K::GroupRight
                | K::Fill
                | K::FillLeft
                | K::FillRight
                | K::Ignoring
                | K::Offset
                | K::Smoothed
                | K::Anchored
                | K::On
                | K::Without
        )
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, K::Eqlc | K::Neq | K::Lte | K::Lss | K::Gte | K::Gtr)
    }

    pub fn is_set_operator(self) -> bool {
        matches!(self, K::Land | K::Lor | K::Lunless)
    }
}

/// The lexer's keyword table (`key` in lex.go), looked up in lower case: operators, aggregators, keywords,
/// preprocessors, and `inf` / `nan` as numbers.
pub fn keyword(lower: &str) -> Option<TokenKind> {
    Some(match lower {
        "and" => K::Land,
        "or" => K::Lor,
        "unless" => K::Lunless,
        "atan2" => K::Atan2,
        "sum" => K::Sum,
        "avg" => K::Avg,
        "count" => K::Count,
        "min" => K::Min,
        "max" => K::Max,
        "group" => K::Group,
        "stddev" => K::Stddev,
        "stdvar" => K::Stdvar,
        "topk" => K::Topk,
        "bottomk" => K::Bottomk,
        "count_values" => K::CountValues,
        "quantile" => K::Quantile,
        "limitk" => K::Limitk,
        "limit_ratio" => K::LimitRatio,
        "offset" => K::Offset,
        "smoothed" => K::Smoothed,
        "anchored" => K::Anchored,
        "by" => K::By,
        "without" => K::Without,
        "on" => K::On,
        "ignoring" => K::Ignoring,
        "group_left" => K::GroupLeft,
        "group_right" => K::GroupRight,
        "fill" => K::Fill,
        "fill_left" => K::FillLeft,
        "fill_right" => K::FillRight,
        "bool" => K::Bool,
        "start" => K::Start,
        "end" => K::End,
        "step" => K::Step,
        "range" => K::Range,
        "max_of" => K::MaxOf,
        "min_of" => K::MinOf,
        "inf" | "nan" => K::Number,
        _ => return None,
    })
}

/// Histogram descriptor names in series descriptions (`histogramDesc`).
pub fn histogram_descriptor(lower: &str) -> Option<TokenKind> {
    Some(match lower {
        "sum" => K::SumDesc,
        "count" => K::CountDesc,
        "schema" => K::SchemaDesc,
        "offset" => K::OffsetDesc,
        "n_offset" => K::NegativeOffsetDesc,
        "buckets" => K::BucketsDesc,
        "n_buckets" => K::NegativeBucketsDesc,
        "z_bucket" => K::ZeroBucketDesc,
        "z_bucket_w" => K::ZeroBucketWidthDesc,
        "custom_values" => K::CustomValuesDesc,
        "counter_reset_hint" => K::CounterResetHintDesc,
        _ => return None,
    })
}

/// Counter reset hint values (`counterResetHints`).
pub fn counter_reset_hint(lower: &str) -> Option<TokenKind> {
    Some(match lower {
        "unknown" => K::UnknownCounterReset,
        "reset" => K::CounterReset,
        "not_reset" => K::NotCounterReset,
        "gauge" => K::GaugeType,
        _ => return None,
    })
}

/// Keywords that may also appear inside a duration expression (`step()`, `range()`, `max_of`, `min_of`).
pub fn duration_keyword(lower: &str) -> Option<TokenKind> {
    Some(match lower {
        "step" => K::Step,
        "range" => K::Range,
        "max_of" => K::MaxOf,
        "min_of" => K::MinOf,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (k, n) in NAMES {
            assert_eq!(k.name(), *n);
            assert_eq!(TokenKind::from_name(n), Some(*k));
        }
        assert_eq!(TokenKind::from_name("NOPE"), None);
    }

    #[test]
    fn keywords_are_case_insensitive_by_lookup() {
        assert_eq!(keyword("sum"), Some(TokenKind::Sum));
        assert_eq!(keyword("nan"), Some(TokenKind::Number));
        assert_eq!(keyword("foo"), None);
        assert!(TokenKind::Atan2.is_operator());
        assert!(TokenKind::LimitRatio.is_aggregator());
        assert!(TokenKind::Anchored.is_keyword());
        assert!(!TokenKind::Start.is_keyword());
    }
}
