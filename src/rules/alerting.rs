//! The alerting rule state machine, step for step as Prometheus's `AlertingRule.Eval` (rules/alerting.go):
//! pending -> firing when `t - active_at >= for`; a pending alert that leaves the result is dropped; a firing
//! one resolves, unless `keep_firing_for` holds it; resolved alerts are kept 15 minutes (for resolved
//! notifications) and then forgotten; `limit` clears everything when exceeded.
//!
//! Input, per evaluation tick: the alert instances the expression produced (labels already templated, keyed by
//! the caller's label type, with a payload the caller renders annotations from). Output: the active alerts, and for the dry run the episodes (active, fired,
//! resolved times) of each alert.

use crate::series::labels::FxBuild;
use std::collections::HashMap;
use std::hash::Hash;

/// How long Prometheus keeps a resolved alert (and keeps sending it as resolved).
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Inactive,
    Pending,
    Firing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Inactive => "inactive",
            State::Pending => "pending",
            State::Firing => "firing",
        }
    }
}

/// One alert instance produced by an evaluation (after label and annotation templating).
#[derive(Clone, Debug, PartialEq)]
pub struct Instance<K, P> {
    pub key: K,
    /// What the caller needs to render annotations (sample labels, value, time): replaced at every evaluation
    /// that returns the alert, as Prometheus replaces `Annotations` and `Value`.
    pub payload: P,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alert<K, P> {
    pub key: K,
    pub payload: P,
    pub state: State,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub keep_firing_since: Option<i64>,
}

/// A finished or still-open stretch of one alert: from active to resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode<K, P> {
    pub key: K,
    pub active_at: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// The payload when the alert fired (or the last one seen while pending).
    pub payload: P,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("exceeded limit of {limit} with {count} alerts")]
pub struct LimitExceeded {
    pub limit: usize,
    pub count: usize,
}

/// The state of one alerting rule across evaluations.
#[derive(Clone, Debug)]
pub struct AlertingRuleState<K: Hash + Eq + Clone, P: Clone> {
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub limit: usize,
    active: HashMap<K, Alert<K, P>, FxBuild>,
    /// Episodes, if asked for: open ones by key, closed ones in order of closing.
    track: bool,
    open: HashMap<K, Episode<K, P>, FxBuild>,
    closed: Vec<Episode<K, P>>,
}

impl<K: Hash + Eq + Clone, P: Clone> AlertingRuleState<K, P> {
    pub fn new(for_ms: i64, keep_firing_for_ms: i64, limit: usize) -> Self {
        AlertingRuleState {
            for_ms,
            keep_firing_for_ms,
            limit,
            active: HashMap::default(),
            track: false,
            open: HashMap::default(),
            closed: Vec::new(),
        }
    }

    /// Also record episodes (for the dry run).
    pub fn with_episodes(mut self) -> Self {
        self.track = true;
        self
    }

    /// One evaluation at `ts` with the instances the expression returned.
    pub fn eval(&mut self, ts: i64, instances: Vec<Instance<K, P>>) -> Result<(), LimitExceeded> {
        let mut in_result: HashMap<K, (), FxBuild> =
            HashMap::with_capacity_and_hasher(instances.len(), FxBuild::default());
        for inst in instances {
            in_result.insert(inst.key.clone(), ());
            match self.active.get_mut(&inst.key) {
                Some(a) if a.state != State::Inactive => a.payload = inst.payload,
                _ => {
                    // New, or a resolved alert coming back: a fresh alert replaces it.
                    self.active.insert(
                        inst.key.clone(),
                        Alert {
                            key: inst.key,
                            payload: inst.payload,
                            state: State::Pending,
                            active_at: ts,
                            fired_at: None,
                            resolved_at: None,
                            keep_firing_since: None,
                        },
                    );
                }
            }
        }
        let mut count = 0usize;
        let mut remove = Vec::new();
        for (key, a) in self.active.iter_mut() {
            if !in_result.contains_key(key) {
                let mut keep_firing = false;
                if a.state == State::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = ts - since < self.keep_firing_for_ms;
                }
                if a.state == State::Pending
                    || a.resolved_at
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    remove.push(key.clone());
                }
                if a.state != State::Inactive && !keep_firing {
                    a.state = State::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            count += 1;
            if a.state == State::Pending && ts - a.active_at >= self.for_ms {
                a.state = State::Firing;
                a.fired_at = Some(ts);
            }
        }
        if self.track {
            self.track_episodes(ts);
        }
        for k in remove {
            self.active.remove(&k);
        }
        if self.limit > 0 && count > self.limit {
            if self.track {
                // Prometheus forgets every alert: each open episode ends here.
                for (_, mut e) in self.open.drain() {
                    e.resolved_at = Some(ts);
                    self.closed.push(e);
                }
            }
            self.active.clear();
            return Err(LimitExceeded {
                limit: self.limit,
                count,
            });
        }
        Ok(())
    }

    fn track_episodes(&mut self, ts: i64) {
        for (key, a) in &self.active {
            match a.state {
                State::Pending | State::Firing => {
                    let e = self.open.entry(key.clone()).or_insert_with(|| Episode {
                        key: key.clone(),
                        active_at: a.active_at,
                        fired_at: None,
                        resolved_at: None,
                        payload: a.payload.clone(),
                    });
                    if e.active_at != a.active_at {
                        // A new alert replaced a resolved one with the same labels in the same tick.
                        e.active_at = a.active_at;
                    }
                    if e.fired_at.is_none() {
                        e.payload = a.payload.clone();
                        e.fired_at = a.fired_at;
                    }
                }
                State::Inactive => {
                    if let Some(mut e) = self.open.remove(key) {
                        e.resolved_at = a.resolved_at.or(Some(ts));
                        self.closed.push(e);
                    }
                }
            }
        }
        // Pending alerts that vanished were removed from `active` without becoming inactive.
        let gone: Vec<K> = self
            .open
            .keys()
            .filter(|k| !self.active.contains_key(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(mut e) = self.open.remove(&k) {
                e.resolved_at = Some(ts);
                self.closed.push(e);
            }
        }
    }

    /// Alerts that are pending or firing (what `ALERTS` shows), in no particular order.
    pub fn active(&self) -> impl Iterator<Item = &Alert<K, P>> {
        self.active.values().filter(|a| a.state != State::Inactive)
    }

    /// Every alert Prometheus still holds, resolved ones within retention included (what it sends).
    pub fn all(&self) -> impl Iterator<Item = &Alert<K, P>> {
        self.active.values()
    }

    pub fn firing(&self) -> impl Iterator<Item = &Alert<K, P>> {
        self.active.values().filter(|a| a.state == State::Firing)
    }

    /// Closed episodes plus the ones still open (their `resolved_at` is `None`).
    pub fn episodes(&self) -> Vec<Episode<K, P>> {
        let mut all = self.closed.clone();
        all.extend(self.open.values().cloned());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(k: &str) -> Instance<String, f64> {
        Instance {
            key: k.to_string(),
            payload: 1.0,
        }
    }

    fn states(s: &AlertingRuleState<String, f64>) -> Vec<(String, State)> {
        let mut v: Vec<_> = s.active().map(|a| (a.key.clone(), a.state)).collect();
        v.sort();
        v
    }

    #[test]
    fn pending_then_firing_after_for() {
        let mut s = AlertingRuleState::new(120_000, 0, 0);
        s.eval(0, vec![inst("a")]).unwrap();
        assert_eq!(states(&s), vec![("a".into(), State::Pending)]);
        s.eval(60_000, vec![inst("a")]).unwrap();
        assert_eq!(states(&s), vec![("a".into(), State::Pending)]);
        s.eval(120_000, vec![inst("a")]).unwrap();
        assert_eq!(states(&s), vec![("a".into(), State::Firing)]);
        assert_eq!(s.firing().next().unwrap().fired_at, Some(120_000));
    }

    #[test]
    fn for_zero_fires_at_once_and_pending_drop_is_silent() {
        let mut s = AlertingRuleState::new(0, 0, 0);
        s.eval(0, vec![inst("a")]).unwrap();
        assert_eq!(states(&s), vec![("a".into(), State::Firing)]);
        let mut p = AlertingRuleState::new(300_000, 0, 0);
        p.eval(0, vec![inst("a")]).unwrap();
        p.eval(60_000, vec![]).unwrap();
        assert_eq!(
            p.all().count(),
            0,
            "a pending alert that leaves the result is deleted"
        );
    }

    #[test]
    fn resolved_alerts_are_retained_fifteen_minutes() {
        let mut s = AlertingRuleState::new(0, 0, 0);
        s.eval(0, vec![inst("a")]).unwrap();
        s.eval(60_000, vec![]).unwrap();
        assert_eq!(s.active().count(), 0);
        let a = s.all().next().unwrap();
        assert_eq!((a.state, a.resolved_at), (State::Inactive, Some(60_000)));
        s.eval(60_000 + RESOLVED_RETENTION_MS, vec![]).unwrap();
        assert_eq!(s.all().count(), 1, "kept while ts - resolved_at <= 15m");
        s.eval(120_000 + RESOLVED_RETENTION_MS, vec![]).unwrap();
        assert_eq!(s.all().count(), 0);
    }

    #[test]
    fn keep_firing_for_holds_a_firing_alert() {
        let mut s = AlertingRuleState::new(0, 120_000, 0);
        s.eval(0, vec![inst("a")]).unwrap();
        s.eval(60_000, vec![]).unwrap(); // keep_firing_since = 60s
        assert_eq!(states(&s), vec![("a".into(), State::Firing)]);
        s.eval(120_000, vec![]).unwrap(); // 60s < 120s
        assert_eq!(states(&s), vec![("a".into(), State::Firing)]);
        s.eval(180_000, vec![]).unwrap(); // 120s, not < 120s: resolves
        assert_eq!(states(&s), vec![]);
        assert_eq!(s.all().next().unwrap().resolved_at, Some(180_000));
    }

    #[test]
    fn keep_firing_resets_when_the_condition_returns() {
        let mut s = AlertingRuleState::new(0, 120_000, 0);
        s.eval(0, vec![inst("a")]).unwrap();
        s.eval(60_000, vec![]).unwrap();
        s.eval(120_000, vec![inst("a")]).unwrap();
        assert_eq!(s.all().next().unwrap().keep_firing_since, None);
        s.eval(180_000, vec![]).unwrap();
        s.eval(240_000, vec![]).unwrap();
        assert_eq!(states(&s), vec![("a".into(), State::Firing)]);
    }

    #[test]
    fn limit_clears_all_alerts() {
        let mut s = AlertingRuleState::new(0, 0, 1);
        let e = s.eval(0, vec![inst("a"), inst("b")]).unwrap_err();
        assert_eq!(e.to_string(), "exceeded limit of 1 with 2 alerts");
        assert_eq!(s.all().count(), 0);
    }

    #[test]
    fn episodes_record_active_fired_and_resolved() {
        let mut s = AlertingRuleState::new(60_000, 0, 0).with_episodes();
        for (t, on) in [
            (0, true),
            (30_000, true),
            (60_000, true),
            (90_000, false),
            (120_000, true),
            (150_000, false),
        ] {
            s.eval(t, if on { vec![inst("a")] } else { vec![] })
                .unwrap();
        }
        let mut eps = s.episodes();
        eps.sort_by_key(|e| e.active_at);
        assert_eq!(eps.len(), 2);
        assert_eq!(
            (eps[0].active_at, eps[0].fired_at, eps[0].resolved_at),
            (0, Some(60_000), Some(90_000))
        );
        assert_eq!(
            (eps[1].active_at, eps[1].fired_at, eps[1].resolved_at),
            (120_000, None, Some(150_000))
        );
    }
}

/// The state machine against the invariants, over generated activity sequences, tick spacings,
/// `for` and `keep_firing_for`. Each tick's state is checked against the activity alone, not against a second
/// implementation of the machine.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// (tick times, activity per tick, for, keep_firing_for), all in ms.
    fn scenario() -> impl Strategy<Value = (Vec<i64>, Vec<bool>, i64, i64)> {
        (
            prop::collection::vec((1i64..=4, any::<bool>()), 1..60),
            prop_oneof![Just(0i64), 1i64..=20],
            prop_oneof![Just(0i64), 1i64..=20],
        )
            .prop_map(|(ticks, for_q, kff_q)| {
                let mut t = 0;
                let mut times = Vec::new();
                let mut active = Vec::new();
                for (gap, on) in ticks {
                    t += gap * 15_000;
                    times.push(t);
                    active.push(on);
                }
                (times, active, for_q * 15_000, kff_q * 15_000)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn firing_follows_for_and_keep_firing_for((times, active, for_ms, kff_ms) in scenario()) {
            let mut m: AlertingRuleState<&str, ()> = AlertingRuleState::new(for_ms, kff_ms, 0);
            // Per tick: the state after the evaluation, and the alert's active_at when pending or firing.
            let mut seen: Vec<(State, Option<i64>)> = Vec::new();
            for (k, (&t, &on)) in times.iter().zip(&active).enumerate() {
                let instances = if on { vec![Instance { key: "a", payload: () }] } else { vec![] };
                m.eval(t, instances).unwrap();
                let now = m.active().next().map(|a| (a.state, Some(a.active_at))).unwrap_or((State::Inactive, None));
                let (state, active_at) = now;
                let prev = k.checked_sub(1).map(|p| seen[p].0).unwrap_or(State::Inactive);
                // Where the current stretch of inactive ticks began (the tick activity stopped).
                let stopped_at = (0..=k).rev().take_while(|&i| !active[i]).last().map(|i| times[i]);

                if on {
                    let a = active_at.unwrap();
                    prop_assert!(state != State::Inactive, "tick {k}: active input, inactive alert");
                    // A new alert starts now; an existing one (pending, firing or held firing) keeps its start.
                    if prev == State::Inactive {
                        prop_assert_eq!(a, t, "tick {}: a new alert is active from its first tick", k);
                    }
                    let first = times.iter().position(|&x| x == a).unwrap();
                    // Every tick since active_at was active, or a firing alert held by keep_firing_for.
                    for i in first..=k {
                        prop_assert!(active[i] || seen[i].0 == State::Firing, "tick {}: gap at {} in the stretch since {}", k, i, a);
                    }
                    // Firing exactly when `for` has passed since active_at.
                    prop_assert_eq!(state == State::Firing, t - a >= for_ms, "tick {}: t - active_at = {}, for = {}", k, t - a, for_ms);
                } else {
                    prop_assert!(state != State::Pending, "tick {k}: pending without activity");
                    let since = stopped_at.unwrap();
                    // Without activity an alert fires only when it fired when activity stopped, and only for
                    // keep_firing_for after that; it resolves at the first tick at or past that.
                    let was_firing = k > 0 && (prev == State::Firing);
                    let held = was_firing && kff_ms > 0 && t - since < kff_ms;
                    prop_assert_eq!(state == State::Firing, held, "tick {}: stopped at {}, keep_firing_for {}", k, since, kff_ms);
                    if state == State::Firing {
                        let first = times.iter().position(|&x| Some(x) == active_at).unwrap();
                        prop_assert!(t - active_at.unwrap() >= for_ms);
                        prop_assert!(active[first], "tick {k}: held alert began on an inactive tick");
                    }
                }
                seen.push((state, active_at));
            }
        }

        /// Once an alert resolves, nothing of it stays active: the next activity starts a new alert.
        #[test]
        fn a_resolved_alert_comes_back_as_a_new_one((times, active, for_ms, kff_ms) in scenario()) {
            let mut m: AlertingRuleState<&str, ()> = AlertingRuleState::new(for_ms, kff_ms, 0);
            let mut was_active = false;
            for (&t, &on) in times.iter().zip(&active) {
                m.eval(t, if on { vec![Instance { key: "a", payload: () }] } else { vec![] }).unwrap();
                let a = m.active().next();
                if on && !was_active {
                    prop_assert_eq!(a.map(|a| a.active_at), Some(t));
                }
                was_active = a.is_some();
            }
        }
    }
}
