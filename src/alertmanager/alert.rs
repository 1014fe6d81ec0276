//! An alert as Alertmanager holds it: labels, annotations, StartsAt/EndsAt (Unix milliseconds) and the
//! fingerprint of its labels. Also how Alertmanager merges a re-sent alert into the one it holds and how it
//! orders alerts in a notification.

use super::LabelSet;
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: i64,
    /// `None` is Go's zero time (never set).
    pub ends_at: Option<i64>,
    pub generator_url: String,
    /// When Alertmanager last received it.
    pub updated_at: i64,
    /// EndsAt was filled in from resolve_timeout because the sender gave none.
    pub timeout: bool,
}

impl Alert {
    /// Prometheus's label fingerprint (FNV-1a 64 over sorted name/value pairs, 0xff separated).
    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// Resolved at `now`: EndsAt set and not after `now` (Go's `ResolvedAt`).
    pub fn resolved_at(&self, now: i64) -> bool {
        self.ends_at.is_some_and(|e| e <= now)
    }

    /// Alertmanager's `Alert.Merge`, `self` the held alert and `newer` the one just received at `now`.
    pub fn merge(&self, newer: &Alert, now: i64) -> Alert {
        let (old, new) = if newer.updated_at < self.updated_at {
            (newer, self)
        } else {
            (self, newer)
        };
        let mut res = new.clone();
        if old.starts_at < new.starts_at {
            res.starts_at = old.starts_at;
        }
        if new.resolved_at(now) {
            if old.resolved_at(now) && old.ends_at > new.ends_at {
                res.ends_at = old.ends_at;
            }
        } else if old.ends_at > new.ends_at && !old.timeout {
            res.ends_at = old.ends_at;
        }
        res
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

pub fn fingerprint(labels: &LabelSet) -> u64 {
    if labels.is_empty() {
        return FNV_OFFSET;
    }
    let mut h = FNV_OFFSET;
    let mut write = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    };
    for (k, v) in labels {
        write(k.as_bytes());
        write(&[0xff]);
        write(v.as_bytes());
        write(&[0xff]);
    }
    h
}

/// `%016x`, as Alertmanager prints a fingerprint.
pub fn fingerprint_string(fp: u64) -> String {
    format!("{fp:016x}")
}

/// Go's `model.LabelSet.Before`: compares sorted (name, value) pairs; a prefix sorts first.
fn labels_before(a: &LabelSet, b: &LabelSet) -> Ordering {
    let mut ia = a.iter();
    let mut ib = b.iter();
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((ka, va)), Some((kb, vb))) => {
                let o = ka.cmp(kb).then_with(|| va.cmp(vb));
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// The order of alerts in a notification (`types.AlertSlice`): by `job`, then `instance` (alerts with the
/// label first), then by labels.
pub fn notification_order(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    labels_before(&a.labels, &b.labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fingerprint_is_prometheus_fnv() {
        // Values from Prometheus's model tests (labelSetToFingerprint / signature tests).
        assert_eq!(fingerprint(&LabelSet::new()), 14695981039346656037);
        assert_eq!(
            fingerprint(&ls(&[
                ("name", "garland, briggs"),
                ("fear", "love is not enough")
            ])),
            5799056148416392346
        );
    }

    #[test]
    fn merge_keeps_earliest_start_and_resolution() {
        let firing = Alert {
            labels: ls(&[("a", "1")]),
            annotations: LabelSet::new(),
            starts_at: 1000,
            ends_at: Some(241_000),
            generator_url: String::new(),
            updated_at: 1000,
            timeout: false,
        };
        let resolved = Alert {
            starts_at: 1000,
            ends_at: Some(61_000),
            updated_at: 61_000,
            ..firing.clone()
        };
        let m = firing.merge(&resolved, 61_000);
        assert_eq!(m.ends_at, Some(61_000));
        assert!(m.resolved_at(61_000));
    }
}
