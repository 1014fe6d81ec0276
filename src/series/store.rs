//! The in-memory series store: each series' samples sorted by time, and an inverted index from label
//! pairs to series ids so a selector touches only the series it can match. Samples may be appended to new
//! or existing series at any time (rule evaluation writes its output tick by tick between queries).
//!
//! Native histogram samples go in a second per-series vector beside the floats, absent (one null pointer) on
//! a series that never had one, so a float series costs what it did before histograms existed. A series may
//! mix both kinds over time, as in Prometheus; at one timestamp there is one sample, of either kind (the later
//! append replaces the earlier).
//!
//! A store made with [`Store::with_compact_history`] keeps float samples compact ([`super::chunk`]: about 2
//! bytes a sample for a regular counter instead of 16), for weeks of history. Queries then read a window of
//! them, decoded on demand: [`Store::set_window`] decodes the samples stamped in it into each series'
//! `samples`, which hold only that window. Rule evaluation moves the window along with the piece of the
//! range it evaluates (`rules::group::evaluate`), so memory holds the compact history and one piece.

use super::chunk::CompactSamples;
use super::histogram::{CounterResetHint, FloatHistogram};
use super::labels::{FxBuild, Labels};
use super::matcher::{MatchOp, Matcher};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Prometheus's staleness marker: a NaN with this exact bit pattern (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (not merely any NaN).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The counter-reset hint a histogram appended after `prev` (the series' previous sample when that is a
/// histogram) reads back with from Prometheus's TSDB: a gauge stays a gauge; a histogram that starts a chunk
/// (the first, one after a float or a gauge, one after a counter reset) reads back as unknown (a reset's own
/// hint is lost there, prometheus#15346, as Prometheus's tests note); any later one as not_reset. So
/// `{{...}}x2` reads back as unknown, not_reset, not_reset, as promtool's tests expect. (Prometheus also cuts
/// chunks every 120 samples; the hint at such a cut is not reproduced.)
fn stored_hint(prev: Option<&FloatHistogram>, h: &FloatHistogram) -> CounterResetHint {
    if h.counter_reset_hint == CounterResetHint::Gauge {
        return CounterResetHint::Gauge;
    }
    match prev {
        Some(p) if p.counter_reset_hint != CounterResetHint::Gauge && !h.detect_reset(p) => {
            CounterResetHint::NotCounterReset
        }
        _ => CounterResetHint::Unknown,
    }
}

/// A series' native histogram samples: (timestamp ms, histogram), strictly increasing in time.
pub type HistogramSamples = Vec<(i64, Arc<FloatHistogram>)>;

/// Series id inside one store.
pub type SeriesId = u32;

/// One stored series.
#[derive(Clone, Debug)]
pub struct StoredSeries {
    pub labels: Labels,
    /// (timestamp ms, value), strictly increasing in time. Shared so a query can hold a series' samples
    /// without copying them; appending after the query has dropped them does not copy either. In a store
    /// with compact history: the samples in the store's window only.
    pub samples: Arc<Vec<(i64, f64)>>,
    /// Every float sample, compact, in a store with compact history ([`Store::with_compact_history`]).
    compact: Option<Box<CompactSamples>>,
    /// The window `samples` shows of `compact`.
    shown: Window,
    /// Whether any sample is a staleness marker (range selectors must then filter them out).
    pub has_stale: bool,
    /// Queries see only the samples stamped at or before this (`i64::MAX`: all). Rule evaluation hides a
    /// rule's output written ahead of Prometheus's tick from the rules evaluated tick by tick
    /// ([`Store::set_visible_until`]).
    pub visible_until: i64,
    /// Native histogram samples, if the series has any (`None` costs nothing beyond the pointer).
    pub histograms: Option<Arc<HistogramSamples>>,
    /// Start timestamps of the samples, when the fixture gave them ([`super::start_timestamps`]); any later
    /// change to the series' samples drops them.
    pub start_timestamps: Option<Arc<StartTimestamps>>,
    /// Where the last [`StoredSeries::position_after`] ended: rules evaluated tick by tick ask for the same
    /// or the next sample again and again, and find it here without a search.
    cursor: Cursor,
}

/// The start timestamp (ms; 0: unknown) of each float sample and of each histogram sample, in their order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartTimestamps {
    pub floats: Vec<i64>,
    pub histograms: Vec<i64>,
}

/// A remembered position in a series' samples (a hint: any value is safe, a wrong one costs a search).
#[derive(Default)]
struct Cursor(AtomicUsize);

/// Not part of what a series holds: two series with the same samples print the same.
impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("_")
    }
}

impl Clone for Cursor {
    fn clone(&self) -> Cursor {
        Cursor(AtomicUsize::new(self.0.load(Ordering::Relaxed)))
    }
}

impl StoredSeries {
    /// The histogram samples queries may read (see `visible_until`); empty for a float series.
    /// Whether the series holds any histogram sample.
    fn has_histograms(&self) -> bool {
        self.histograms.as_ref().is_some_and(|h| !h.is_empty())
    }

    pub fn visible_histograms(&self) -> &[(i64, Arc<FloatHistogram>)] {
        let Some(h) = &self.histograms else {
            return &[];
        };
        let n = if self.visible_until == i64::MAX {
            h.len()
        } else {
            h.partition_point(|(t, _)| *t <= self.visible_until)
        };
        &h[..n]
    }

    /// The samples a query that reads nothing after `t` may use: all of them when `t` is visible (the
    /// hidden ones come after it, so the reader never reaches them; no search), else [`Self::visible`].
    pub fn visible_through(&self, t: i64) -> &[(i64, f64)] {
        if t <= self.visible_until {
            &self.samples
        } else {
            self.visible()
        }
    }

    /// [`Self::visible_through`] for the histogram samples.
    pub fn visible_histograms_through(&self, t: i64) -> &[(i64, Arc<FloatHistogram>)] {
        match &self.histograms {
            Some(h) if t <= self.visible_until => h,
            _ => self.visible_histograms(),
        }
    }

    /// How many of `samples` (this series' samples or a prefix of them) are stamped at or before `t`: the
    /// position a selector reading at `t` starts from. Checks the position the last call ended at and the
    /// one after it before it searches.
    pub fn position_after(&self, samples: &[(i64, f64)], t: i64) -> usize {
        let n = samples.len();
        let fits = |p: usize| (p == 0 || samples[p - 1].0 <= t) && (p == n || samples[p].0 > t);
        let h = self.cursor.0.load(Ordering::Relaxed).min(n);
        let p = if fits(h) {
            h
        } else if h < n && fits(h + 1) {
            h + 1
        } else {
            samples.partition_point(|(st, _)| *st <= t)
        };
        self.cursor.0.store(p, Ordering::Relaxed);
        p
    }

    /// The samples queries may read (see `visible_until`).
    pub fn visible(&self) -> &[(i64, f64)] {
        if self.visible_until == i64::MAX {
            &self.samples
        } else {
            let n = self
                .samples
                .partition_point(|(t, _)| *t <= self.visible_until);
            &self.samples[..n]
        }
    }
}

#[derive(Default, Clone, Debug)]
pub struct Store {
    series: Vec<StoredSeries>,
    /// Whether float samples are kept compact, and then the window queries see (`None`: none yet).
    history: Option<Window>,
    by_labels: HashMap<Labels, SeriesId, FxBuild>,
    /// label name -> label value -> ids (ascending).
    postings: HashMap<Arc<str>, HashMap<Arc<str>, Vec<SeriesId>>>,
}

/// The time range a store with compact history has decoded for queries: nothing, or `[from, to]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    Nothing,
    Range(i64, i64),
}

impl Window {
    fn holds(self, t: i64) -> bool {
        matches!(self, Window::Range(a, b) if a <= t && t <= b)
    }
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that keeps float samples compact ([`super::chunk`]), for long histories. Queries see the
    /// samples in the window set by [`Store::set_window`], and nothing before it is first set.
    pub fn with_compact_history() -> Self {
        Store {
            history: Some(Window::Nothing),
            ..Self::default()
        }
    }

    /// Whether float samples are kept compact ([`Store::with_compact_history`]).
    pub fn has_compact_history(&self) -> bool {
        self.history.is_some()
    }

    /// In a store with compact history, decodes the float samples stamped in `[from, to]` into each series'
    /// `samples`, where queries read them (the rest stay compact); `(i64::MIN, i64::MAX)` shows them all. A
    /// plain store holds every sample there already, and this does nothing.
    pub fn set_window(&mut self, from: i64, to: i64) {
        self.decode_window(None, from, to, false);
    }

    /// [`Store::set_window`] for the series `ids` only (those the next queries select); the others keep
    /// what they showed. Series created from now on show this window.
    pub fn set_window_for(&mut self, ids: &[SeriesId], from: i64, to: i64) {
        self.decode_window(Some(ids), from, to, false);
    }

    /// In a store with compact history, decodes every float sample of every series for queries (as
    /// `set_window(i64::MIN, i64::MAX)`, even where that window is shown already).
    pub fn show_all(&mut self) {
        self.decode_window(None, i64::MIN, i64::MAX, true);
    }

    fn decode_window(&mut self, ids: Option<&[SeriesId]>, from: i64, to: i64, again: bool) {
        let Some(w) = &mut self.history else {
            return;
        };
        let want = Window::Range(from, to);
        *w = want;
        let all = (from, to) == (i64::MIN, i64::MAX);
        let decode = |s: &mut StoredSeries| {
            let Some(c) = &s.compact else { return };
            // Appends since the window was shown went into it already.
            if s.shown == want && !again {
                return;
            }
            s.shown = want;
            // Start timestamps go one to one with the samples shown.
            if !all {
                s.start_timestamps = None;
            }
            let view = Arc::make_mut(&mut s.samples);
            view.clear();
            c.decode_range(from, to, view);
            if view.capacity() > 2 * view.len() + 1024 {
                view.shrink_to_fit();
            }
            s.cursor = Cursor::default();
        };
        match ids {
            None => self.series.iter_mut().for_each(decode),
            Some(ids) => {
                for &id in ids {
                    if let Some(s) = self.series.get_mut(id as usize) {
                        decode(s);
                    }
                }
            }
        }
    }

    /// Bytes the compact float samples take (0 in a plain store).
    pub fn compact_bytes(&self) -> usize {
        self.series
            .iter()
            .filter_map(|s| s.compact.as_ref())
            .map(|c| c.encoded_bytes())
            .sum()
    }

    /// Float samples held, compact or not.
    pub fn float_samples(&self) -> usize {
        self.series
            .iter()
            .map(|s| s.compact.as_ref().map_or(s.samples.len(), |c| c.len()))
            .sum()
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        *self = Store {
            history: self.history.map(|_| Window::Nothing),
            ..Store::default()
        };
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The id of the series with exactly these labels, creating it if needed.
    pub fn series_id(&mut self, labels: &Labels) -> SeriesId {
        if let Some(&id) = self.by_labels.get(labels) {
            return id;
        }
        let id = self.series.len() as SeriesId;
        self.series.push(StoredSeries {
            labels: labels.clone(),
            samples: Arc::new(Vec::new()),
            compact: self.history.map(|_| Box::default()),
            shown: self.history.unwrap_or(Window::Nothing),
            has_stale: false,
            visible_until: i64::MAX,
            histograms: None,
            start_timestamps: None,
            cursor: Cursor::default(),
        });
        self.by_labels.insert(labels.clone(), id);
        for (k, v) in labels.pairs() {
            self.postings
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .push(id);
        }
        id
    }

    /// Appends one sample, creating the series if needed. A sample at an existing timestamp replaces it;
    /// an out-of-order one is inserted in place (fixtures may load the same series in several blocks).
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) {
        let id = self.series_id(labels);
        self.append_id(id, t, v);
    }

    /// Appends to a series by id (see [`Store::append`]).
    pub fn append_id(&mut self, id: SeriesId, t: i64, v: f64) {
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        s.start_timestamps = None;
        s.has_stale |= is_stale(v);
        if let Some(h) = &mut s.histograms {
            if let Ok(i) = h.binary_search_by(|(ht, _)| ht.cmp(&t)) {
                Arc::make_mut(h).remove(i);
            }
        }
        if let Some(c) = &mut s.compact {
            compact_put(c, t, Some(v));
            if !s.shown.holds(t) {
                return;
            }
        }
        let samples = Arc::make_mut(&mut s.samples);
        match samples.last() {
            None => samples.push((t, v)),
            Some(&(lt, _)) if lt < t => samples.push((t, v)),
            _ => match samples.binary_search_by(|(st, _)| st.cmp(&t)) {
                Ok(i) => samples[i].1 = v,
                Err(i) => samples.insert(i, (t, v)),
            },
        }
    }

    /// Adds a series with its samples (merged with any existing samples of the same series).
    pub fn add_series(&mut self, labels: Labels, samples: Vec<(i64, f64)>) {
        let id = self.series_id(&labels);
        self.extend_id_vec(id, samples);
    }

    /// As [`Store::extend_id`], taking the samples by value: a new series with ordered samples keeps the
    /// vector itself (no copy).
    pub fn extend_id_vec(&mut self, id: SeriesId, new: Vec<(i64, f64)>) {
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        s.start_timestamps = None;
        if s.compact.is_some() {
            self.extend_id(id, &new);
            return;
        }
        if s.samples.is_empty() && !s.has_histograms() && new.windows(2).all(|w| w[0].0 < w[1].0) {
            s.has_stale |= new.iter().any(|&(_, v)| is_stale(v));
            s.samples = Arc::new(new);
            return;
        }
        self.extend_id(id, &new);
    }

    /// Gives a series samples the caller knows to be strictly increasing in time, shared with other series
    /// (a later append to either copies them first), with `has_stale` telling whether any is a staleness
    /// marker. A series that already has samples gets a copy merged in.
    pub fn extend_id_shared(&mut self, id: SeriesId, new: &Arc<Vec<(i64, f64)>>, has_stale: bool) {
        debug_assert!(new.windows(2).all(|w| w[0].0 < w[1].0));
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        s.start_timestamps = None;
        if s.samples.is_empty() && s.compact.is_none() && !s.has_histograms() {
            s.has_stale |= has_stale;
            s.samples = Arc::clone(new);
            return;
        }
        self.extend_id(id, new);
    }

    /// Appends many samples to a series by id. Samples in increasing time order after the series' last one
    /// (the common case: a fixture's values) are copied in one go; anything else goes through
    /// [`Store::append_id`].
    pub fn extend_id(&mut self, id: SeriesId, new: &[(i64, f64)]) {
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        s.start_timestamps = None;
        if s.compact.is_some() {
            for &(t, v) in new {
                self.append_id(id, t, v);
            }
            return;
        }
        let after_last = match (s.samples.last(), new.first()) {
            (Some(&(lt, _)), Some(&(ft, _))) => lt < ft,
            _ => true,
        };
        // A float replaces a histogram at its time (one sample per timestamp): with histograms, each goes
        // through `append_id`.
        if after_last && !s.has_histograms() && new.windows(2).all(|w| w[0].0 < w[1].0) {
            s.has_stale |= new.iter().any(|&(_, v)| is_stale(v));
            Arc::make_mut(&mut s.samples).extend_from_slice(new);
            return;
        }
        for &(t, v) in new {
            self.append_id(id, t, v);
        }
    }

    /// Appends one native histogram sample to a series by id: a float or histogram sample at the same
    /// timestamp is replaced, an out-of-order one inserted in place (as [`Store::append_id`]).
    pub fn append_histogram_id(&mut self, id: SeriesId, t: i64, h: Arc<FloatHistogram>) {
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        s.start_timestamps = None;
        if let Some(c) = &mut s.compact {
            compact_put(c, t, None);
        }
        if let Ok(i) = s.samples.binary_search_by(|(st, _)| st.cmp(&t)) {
            Arc::make_mut(&mut s.samples).remove(i);
        }
        let float_before = match &s.compact {
            Some(c) => c.last().map(|(ft, _)| ft),
            None => s.samples.last().map(|(ft, _)| *ft),
        };
        let hs = Arc::make_mut(s.histograms.get_or_insert_with(Default::default));
        match hs.last() {
            Some((lt, _)) if *lt >= t => match hs.binary_search_by(|(ht, _)| ht.cmp(&t)) {
                Ok(i) => hs[i].1 = h,
                Err(i) => hs.insert(i, (t, h)),
            },
            last => {
                // The previous histogram, unless a float (or a staleness marker) came after it.
                let prev = last.filter(|(lt, _)| float_before.is_none_or(|ft| ft < *lt));
                let hint = stored_hint(prev.map(|(_, p)| p.as_ref()), &h);
                let h = if hint == h.counter_reset_hint {
                    h
                } else {
                    let mut c = (*h).clone();
                    c.counter_reset_hint = hint;
                    Arc::new(c)
                };
                hs.push((t, h));
            }
        }
    }

    /// The start timestamp (ms; 0: unknown) of the sample at `t` of the series with exactly these labels.
    pub fn start_timestamp_at(&self, labels: &Labels, t: i64) -> i64 {
        let Some(s) = self.by_labels.get(labels).and_then(|&id| self.get(id)) else {
            return 0;
        };
        let Some(st) = &s.start_timestamps else {
            return 0;
        };
        if let Ok(k) = s.samples.binary_search_by(|(st, _)| st.cmp(&t)) {
            return st.floats.get(k).copied().unwrap_or(0);
        }
        s.histograms
            .as_ref()
            .and_then(|h| h.binary_search_by(|(ht, _)| ht.cmp(&t)).ok())
            .and_then(|k| st.histograms.get(k).copied())
            .unwrap_or(0)
    }

    /// Gives series `id` the start timestamps of its samples (one per float sample and one per histogram
    /// sample, in order); refused (false) when the counts do not match the samples.
    pub fn set_start_timestamps(&mut self, id: SeriesId, st: StartTimestamps) -> bool {
        let Some(s) = self.series.get_mut(id as usize) else {
            return false;
        };
        let hists = s.histograms.as_ref().map_or(0, |h| h.len());
        // In a store with compact history, only while the window shows every sample (see `set_window`).
        let all = s.compact.as_ref().map_or(s.samples.len(), |c| c.len());
        if all != s.samples.len()
            || st.floats.len() != s.samples.len()
            || st.histograms.len() != hists
        {
            return false;
        }
        s.start_timestamps = Some(Arc::new(st));
        true
    }

    /// Appends one native histogram sample, creating the series if needed (see [`Store::append_histogram_id`]).
    pub fn append_histogram(&mut self, labels: &Labels, t: i64, h: Arc<FloatHistogram>) {
        let id = self.series_id(labels);
        self.append_histogram_id(id, t, h);
    }

    /// The last float sample of series `id` (compact or not; hidden or not).
    pub fn last_float(&self, id: SeriesId) -> Option<(i64, f64)> {
        let s = self.series.get(id as usize)?;
        match &s.compact {
            Some(c) => c.last(),
            None => s.samples.last().copied(),
        }
    }

    /// Whether any series holds a native histogram sample.
    pub fn has_histograms(&self) -> bool {
        self.series.iter().any(|s| s.histograms.is_some())
    }

    /// Hides the samples of series `id` stamped after `t` from queries until called again (`i64::MAX` shows
    /// them all). Appending is unaffected.
    pub fn set_visible_until(&mut self, id: SeriesId, t: i64) {
        if let Some(s) = self.series.get_mut(id as usize) {
            s.visible_until = t;
        }
    }

    pub fn get(&self, id: SeriesId) -> Option<&StoredSeries> {
        self.series.get(id as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = &StoredSeries> {
        self.series.iter()
    }

    /// Ids of the series matching every matcher, ascending. Uses the index for equality matchers and for
    /// regex matchers that cannot match an empty value; the rest are checked per candidate.
    pub fn select(&self, matchers: &[Matcher]) -> Vec<SeriesId> {
        let mut candidates: Option<Vec<SeriesId>> = None;
        for m in matchers {
            if m.matches_empty() {
                continue;
            }
            let ids: Vec<SeriesId> = match m.op {
                MatchOp::Equal => self
                    .postings
                    .get(m.name.as_str())
                    .and_then(|vals| vals.get(m.value.as_str()))
                    .cloned()
                    .unwrap_or_default(),
                _ => {
                    let mut ids: Vec<SeriesId> = self
                        .postings
                        .get(m.name.as_str())
                        .map(|vals| {
                            vals.iter()
                                .filter(|(v, _)| m.matches_value(v))
                                .flat_map(|(_, ids)| ids.iter().copied())
                                .collect()
                        })
                        .unwrap_or_default();
                    ids.sort_unstable();
                    ids
                }
            };
            candidates = Some(match candidates {
                None => ids,
                Some(prev) => intersect(&prev, &ids),
            });
            if candidates.as_ref().is_some_and(|c| c.is_empty()) {
                return Vec::new();
            }
        }
        let base: Vec<SeriesId> =
            candidates.unwrap_or_else(|| (0..self.series.len() as SeriesId).collect());
        base.into_iter()
            .filter(|&id| {
                let l = &self.series[id as usize].labels;
                matchers.iter().all(|m| m.matches(l))
            })
            .collect()
    }
}

/// Puts a float sample at `t` into a compact series (`None`: removes the one there): appended when it comes
/// after the last; otherwise the series is decoded, changed and encoded again (fixtures rarely load a
/// series out of time order, and rules never write one).
fn compact_put(c: &mut CompactSamples, t: i64, v: Option<f64>) {
    if c.last().is_none_or(|(lt, _)| lt < t) {
        if let Some(v) = v {
            let _ = c.push(t, v);
        }
        return;
    }
    let mut all = c.to_vec();
    match (all.binary_search_by(|(st, _)| st.cmp(&t)), v) {
        (Ok(i), Some(v)) => all[i].1 = v,
        (Ok(i), None) => {
            all.remove(i);
        }
        (Err(i), Some(v)) => all.insert(i, (t, v)),
        (Err(_), None) => return,
    }
    *c = CompactSamples::from_samples(&all).expect("samples stay in time order");
}

fn intersect(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(p: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(p.iter().copied())
    }

    #[test]
    fn shared_samples_are_copied_on_write() {
        let mut st = Store::new();
        let samples = Arc::new(vec![(0, 1.0), (15, 2.0)]);
        let a = st.series_id(&l(&[("__name__", "a")]));
        let b = st.series_id(&l(&[("__name__", "b")]));
        st.extend_id_shared(a, &samples, false);
        st.extend_id_shared(b, &samples, false);
        assert!(Arc::ptr_eq(
            &st.get(a).unwrap().samples,
            &st.get(b).unwrap().samples
        ));
        st.append_id(a, 30, 3.0);
        assert_eq!(st.get(a).unwrap().samples.len(), 3);
        assert_eq!(*st.get(b).unwrap().samples, vec![(0, 1.0), (15, 2.0)]);
        // A series that already has samples gets them merged in.
        st.extend_id_shared(a, &Arc::new(vec![(45, stale_nan())]), true);
        assert_eq!(st.get(a).unwrap().samples.len(), 4);
        assert!(st.get(a).unwrap().has_stale);
    }

    #[test]
    fn positions_agree_with_a_search_whatever_the_cursor_says() {
        let mut st = Store::new();
        let a = st.series_id(&Labels::from_pairs([("__name__", "a")]));
        for t in (0..100).map(|k| k * 10) {
            st.append_id(a, t, t as f64);
        }
        let s = st.get(a).unwrap();
        let samples = s.visible();
        let search = |t: i64| samples.partition_point(|(st, _)| *st <= t);
        // Forward tick by tick (the cursor's case), backward, jumps, the ends, and a prefix of the samples.
        let mut ts: Vec<i64> = (-5..1005).step_by(5).collect();
        ts.extend((-5..1005).rev().step_by(7));
        ts.extend([500, 0, 990, -1, 2000, 10, 10, 11, 20]);
        for t in ts {
            assert_eq!(s.position_after(samples, t), search(t), "t={t}");
        }
        assert_eq!(s.position_after(&samples[..3], 500), 3);
        assert_eq!(s.position_after(&samples[..0], 500), 0);
    }

    #[test]
    fn hidden_samples_are_not_visible_until_shown() {
        let mut st = Store::new();
        let a = st.series_id(&l(&[("__name__", "a")]));
        st.extend_id(a, &[(0, 1.0), (15, 2.0), (30, 3.0)]);
        st.set_visible_until(a, 15);
        assert_eq!(st.get(a).unwrap().visible(), &[(0, 1.0), (15, 2.0)]);
        st.append_id(a, 45, 4.0);
        assert_eq!(st.get(a).unwrap().visible().len(), 2);
        st.set_visible_until(a, i64::MAX);
        assert_eq!(st.get(a).unwrap().visible().len(), 4);
    }

    #[test]
    fn histograms_sit_beside_floats_one_sample_per_timestamp() {
        let mut st = Store::new();
        let a = st.series_id(&l(&[("__name__", "a")]));
        assert!(st.get(a).unwrap().histograms.is_none());
        assert!(!st.has_histograms());
        let h = |c: f64| {
            Arc::new(FloatHistogram {
                count: c,
                ..Default::default()
            })
        };
        st.extend_id(a, &[(0, 1.0), (15, 2.0), (30, 3.0)]);
        st.append_histogram_id(a, 45, h(4.0));
        st.append_histogram_id(a, 15, h(2.5));
        st.append_histogram_id(a, 60, h(6.0));
        st.append_histogram_id(a, 60, h(7.0));
        let s = st.get(a).unwrap();
        // The histogram at 15 replaced the float there.
        assert_eq!(*s.samples, vec![(0, 1.0), (30, 3.0)]);
        let counts: Vec<(i64, f64)> = s
            .visible_histograms()
            .iter()
            .map(|(t, h)| (*t, h.count))
            .collect();
        assert_eq!(counts, vec![(15, 2.5), (45, 4.0), (60, 7.0)]);
        // A float at 45 replaces the histogram there.
        st.append_id(a, 45, 9.0);
        let s = st.get(a).unwrap();
        assert_eq!(s.visible_histograms().len(), 2);
        assert_eq!(*s.samples, vec![(0, 1.0), (30, 3.0), (45, 9.0)]);
        st.set_visible_until(a, 30);
        assert_eq!(st.get(a).unwrap().visible_histograms().len(), 1);
        assert!(st.has_histograms());
    }

    #[test]
    fn histograms_read_back_with_the_hints_the_tsdb_gives_them() {
        let mut st = Store::new();
        let a = st.series_id(&l(&[("__name__", "a")]));
        let h = |c: f64, hint| {
            Arc::new(FloatHistogram {
                count: c,
                counter_reset_hint: hint,
                ..Default::default()
            })
        };
        use CounterResetHint::*;
        for (t, c) in [(0, 2.0), (10, 3.0), (20, 1.0), (30, 1.0)] {
            st.append_histogram_id(a, t, h(c, Unknown));
        }
        // A reset (at 20) and a float between histograms start a new chunk; a gauge stays a gauge.
        st.append_id(a, 40, 5.0);
        st.append_histogram_id(a, 50, h(9.0, Unknown));
        st.append_histogram_id(a, 60, h(1.0, Gauge));
        let hints: Vec<CounterResetHint> = st
            .get(a)
            .unwrap()
            .visible_histograms()
            .iter()
            .map(|(_, h)| h.counter_reset_hint)
            .collect();
        assert_eq!(
            hints,
            vec![
                Unknown,
                NotCounterReset,
                Unknown,
                NotCounterReset,
                Unknown,
                Gauge
            ]
        );
    }

    #[test]
    fn stale_marker_bits() {
        assert!(is_stale(stale_nan()));
        assert!(!is_stale(f64::NAN));
    }

    #[test]
    fn select_uses_all_matchers() {
        let mut s = Store::new();
        s.add_series(l(&[("__name__", "up"), ("job", "a")]), vec![(0, 1.0)]);
        s.add_series(l(&[("__name__", "up"), ("job", "b")]), vec![(0, 2.0)]);
        s.add_series(l(&[("__name__", "down")]), vec![(0, 3.0)]);
        let m = |op, n, v| Matcher::new(op, n, v).unwrap();
        assert_eq!(s.select(&[m(MatchOp::Equal, "__name__", "up")]), vec![0, 1]);
        assert_eq!(
            s.select(&[
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::NotEqual, "job", "a")
            ]),
            vec![1]
        );
        assert_eq!(s.select(&[m(MatchOp::Re, "job", "a|b")]), vec![0, 1]);
        assert_eq!(s.select(&[m(MatchOp::Equal, "job", "")]), vec![2]);
    }

    #[test]
    fn append_after_reads_and_out_of_order() {
        let mut s = Store::new();
        let a = l(&[("__name__", "x")]);
        s.append(&a, 10, 1.0);
        assert_eq!(s.select(&[]).len(), 1);
        s.append(&a, 30, 3.0);
        s.append(&a, 20, 2.0);
        s.append(&a, 30, 4.0);
        assert_eq!(
            *s.get(0).unwrap().samples,
            vec![(10, 1.0), (20, 2.0), (30, 4.0)]
        );
        s.append(&l(&[("__name__", "y")]), 5, 1.0);
        assert_eq!(s.len(), 2);
    }

    mod compact_history {
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            Append(u8, i64, f64),
            Extend(u8, Vec<(i64, f64)>),
            Histogram(u8, i64),
        }

        fn op() -> impl Strategy<Value = Op> {
            let v = prop_oneof![
                (0u32..100).prop_map(|v| v as f64),
                Just(stale_nan()),
                any::<u64>().prop_map(f64::from_bits),
            ];
            prop_oneof![
                6 => (0u8..3, 0i64..400, v.clone()).prop_map(|(s, t, v)| Op::Append(s, t * 15, v)),
                2 => (0u8..3, proptest::collection::vec((0i64..400, v), 0..40)).prop_map(|(s, mut vs)| {
                    vs.iter_mut().for_each(|x| x.0 *= 15);
                    Op::Extend(s, vs)
                }),
                1 => (0u8..3, 0i64..400).prop_map(|(s, t)| Op::Histogram(s, t * 15)),
            ]
        }

        fn apply(st: &mut Store, o: &Op) {
            let name = |k: u8| Labels::from_pairs([("__name__", format!("s{k}"))]);
            match o {
                Op::Append(k, t, v) => st.append(&name(*k), *t, *v),
                Op::Extend(k, vs) => {
                    let id = st.series_id(&name(*k));
                    st.extend_id(id, vs);
                }
                Op::Histogram(k, t) => {
                    st.append_histogram(&name(*k), *t, Arc::new(FloatHistogram::default()))
                }
            }
        }

        fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
            s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// Whatever is put in, in any order, a window of a compact store shows the plain store's samples
            /// stamped in it; appends while a window is set show up in it when they fall inside.
            #[test]
            fn a_window_shows_what_a_plain_store_holds_there(
                before in proptest::collection::vec(op(), 0..60),
                after in proptest::collection::vec(op(), 0..30),
                lo in 0i64..6000,
                len in 0i64..6000,
            ) {
                let mut plain = Store::new();
                let mut compact = Store::with_compact_history();
                for o in &before {
                    apply(&mut plain, o);
                    apply(&mut compact, o);
                }
                compact.set_window(lo, lo + len);
                for o in &after {
                    apply(&mut plain, o);
                    apply(&mut compact, o);
                }
                prop_assert_eq!(plain.len(), compact.len());
                prop_assert_eq!(plain.float_samples(), compact.float_samples());
                for (p, c) in plain.iter().zip(compact.iter()) {
                    let want: Vec<_> = p.samples.iter().copied().filter(|s| s.0 >= lo && s.0 <= lo + len).collect();
                    prop_assert_eq!(bits(&c.samples), bits(&want));
                    prop_assert_eq!(p.visible_histograms().len(), c.visible_histograms().len());
                }
                compact.set_window(i64::MIN, i64::MAX);
                for (p, c) in plain.iter().zip(compact.iter()) {
                    prop_assert_eq!(bits(&c.samples), bits(&p.samples));
                }
            }
        }

        #[test]
        fn nothing_is_visible_before_a_window_is_set() {
            let mut st = Store::with_compact_history();
            let id = st.series_id(&Labels::from_pairs([("__name__", "x")]));
            st.extend_id_vec(id, (0..1000).map(|k| (k * 15_000, k as f64)).collect());
            assert!(st.get(id).unwrap().samples.is_empty());
            assert_eq!(st.float_samples(), 1000);
            assert!(st.compact_bytes() < 3000, "{}", st.compact_bytes());
            st.set_window(30_000, 60_000);
            assert_eq!(
                *st.get(id).unwrap().samples,
                vec![(30_000, 2.0), (45_000, 3.0), (60_000, 4.0)]
            );
            st.clear();
            assert!(st.has_compact_history());
        }
    }
}
