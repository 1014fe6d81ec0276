//! A label set as the reports write it: `{job="api", pod="a-1"}`, names in order, values quoted with their
//! special characters escaped, leaving out the names that are shown elsewhere (the alert's name before it).

use std::collections::BTreeMap;

/// The labels in braces, without those named in `skip`.
pub fn braces(labels: &BTreeMap<String, String>, skip: &[&str]) -> String {
    let parts: Vec<String> = labels
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_order_values_quoted_skipped_names_left_out() {
        let l: BTreeMap<String, String> =
            [("pod", "a\"1\n"), ("alertname", "Down"), ("job", "api")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(braces(&l, &["alertname"]), r#"{job="api", pod="a\"1\n"}"#);
        assert_eq!(
            braces(&l, &[]),
            r#"{alertname="Down", job="api", pod="a\"1\n"}"#
        );
        assert_eq!(braces(&BTreeMap::new(), &[]), "{}");
    }
}
