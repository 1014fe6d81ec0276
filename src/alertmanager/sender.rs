//! What Prometheus sends Alertmanager for an alert episode (rules/alerting.go, notifier): nothing while pending;
//! once firing, the alert at every evaluation where the last send is more than the resend delay ago
//! (`LastSentAt + resendDelay < ts`), with StartsAt = fired time and EndsAt = ts + 4 x max(evaluation interval,
//! resend delay); when resolved, at once with EndsAt = resolved time, then re-sent the same way for 15 minutes.

use super::alert::Alert;
use super::LabelSet;

/// One alert's firing episode as the rule evaluation produced it (times in Unix milliseconds, on the
/// evaluation grid).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEpisode {
    pub labels: LabelSet,
    pub annotations: LabelSet,
    /// First evaluation at which the alert was firing (its StartsAt).
    pub fired_at: i64,
    /// First evaluation at which it was no longer firing.
    pub resolved_at: Option<i64>,
    pub generator_url: String,
}

/// Prometheus settings that shape what is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct SendOptions {
    pub eval_interval_ms: i64,
    /// `--rules.alert.resend-delay`, 1m by default.
    pub resend_delay_ms: i64,
    /// How long a resolved alert keeps being sent (15m in Prometheus).
    pub resolved_retention_ms: i64,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            eval_interval_ms: 60_000,
            resend_delay_ms: 60_000,
            resolved_retention_ms: 15 * 60_000,
        }
    }
}

/// One POST of an alert to Alertmanager.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub at: i64,
    pub alert: Alert,
}

/// Every send of `episode` up to `to` (inclusive).
pub fn deliveries(episode: &AlertEpisode, opts: &SendOptions, to: i64) -> Vec<Delivery> {
    let mut out = Vec::new();
    let step = opts.eval_interval_ms.max(1);
    let delta = opts.eval_interval_ms.max(opts.resend_delay_ms);
    let mut last_sent: Option<i64> = None;
    let mut ts = episode.fired_at;
    while ts <= to {
        let resolved = episode.resolved_at.filter(|r| *r <= ts);
        if let Some(r) = resolved {
            // Prometheus forgets a resolved alert once it is older than the retention.
            if ts - r > opts.resolved_retention_ms {
                break;
            }
        }
        let due = match (last_sent, resolved) {
            (None, _) => true,
            (Some(l), Some(r)) if r > l => true,
            (Some(l), _) => l + opts.resend_delay_ms < ts,
        };
        if due {
            out.push(Delivery {
                at: ts,
                alert: Alert {
                    labels: episode.labels.clone(),
                    annotations: episode.annotations.clone(),
                    starts_at: episode.fired_at,
                    ends_at: Some(resolved.unwrap_or(ts + 4 * delta)),
                    generator_url: episode.generator_url.clone(),
                    updated_at: ts,
                    timeout: false,
                },
            });
            last_sent = Some(ts);
        }
        ts += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resend_cadence_and_resolution() {
        let ep = AlertEpisode {
            labels: [("alertname".to_string(), "X".to_string())].into(),
            annotations: LabelSet::new(),
            fired_at: 0,
            resolved_at: Some(300_000),
            generator_url: String::new(),
        };
        let d = deliveries(&ep, &SendOptions::default(), 3_600_000);
        let times: Vec<i64> = d.iter().map(|x| x.at / 60_000).collect();
        // With 1m evaluations and a 1m resend delay, `last + 1m < ts` holds every second evaluation.
        // Resolved at 5m: sent at once, then every 2m while within 15m of the resolution.
        assert_eq!(times, [0, 2, 4, 5, 7, 9, 11, 13, 15, 17, 19]);
        assert_eq!(d[0].alert.ends_at, Some(240_000));
        assert_eq!(d[3].alert.ends_at, Some(300_000));
        assert!(d.iter().all(|x| x.alert.starts_at == 0));
    }
}
