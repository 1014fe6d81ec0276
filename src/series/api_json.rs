//! Series in the shape of Prometheus's HTTP API: a `/api/v1/query_range` (or `/api/v1/query`) response,
//! its bare `data` object, or a list of either. Read as a fixture (`dry-run --series`, `export`), written by
//! `record` for a `.json` output, and used by `live` to decode what a server answers.
//!
//! Times are Unix seconds (a number with up to millisecond decimals, or a string of one); values are
//! strings (`"1.5"`, `"NaN"`, `"+Inf"`) as Prometheus writes them, plain numbers are accepted too.

use super::histogram::FloatHistogram;
use super::labels::Labels;
use super::store::{is_stale, Store};
use serde_json::Value;
use std::io::Write;

/// One series with its samples (ms, value), ascending.
pub type SeriesSamples = (Labels, Vec<(i64, f64)>);

/// Why an API response could not be read. `path` points into the JSON (`data.result[2].values[7]`);
/// `line` is set for syntax errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiJsonError {
    #[error("line {line}, column {column}: invalid JSON: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
    /// The server's own error response (`"status": "error"`), with its words.
    #[error("{error_type}: {error}")]
    ServerError { error_type: String, error: String },
}

fn shape(path: &str, message: impl Into<String>) -> ApiJsonError {
    ApiJsonError::Shape {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Parses JSON text, keeping serde's line and column for syntax errors.
pub fn parse_json(text: &str) -> Result<Value, ApiJsonError> {
    serde_json::from_str(text).map_err(syntax)
}

fn syntax(e: serde_json::Error) -> ApiJsonError {
    // serde's message repeats the position ("... at line 3 column 0"); we say it once, up front.
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    ApiJsonError::Syntax {
        line: e.line(),
        // serde reports column 0 when the text ends at the start of a line.
        column: e.column().max(1),
        message,
    }
}

/// Reads a fixture in API shape into `store`, native histograms (`"histogram"`, `"histograms"`) included;
/// returns how many series it held.
pub fn load_api_json(text: &str, store: &mut Store) -> Result<usize, ApiJsonError> {
    let doc = parse_json(text)?;
    let mut hists = Vec::new();
    let series = match &doc {
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let base = out.len();
                let mut h = Vec::new();
                out.extend(decode_response_full(item, &format!("[{i}]"), &mut h)?);
                hists.extend(h.into_iter().map(|(k, hs)| (base + k, hs)));
            }
            out
        }
        _ => decode_response_full(&doc, "$", &mut hists)?,
    };
    let n = series.len();
    let mut ids = Vec::with_capacity(n);
    for (labels, samples) in series {
        ids.push(store.series_id(&labels));
        store.add_series(labels, samples);
    }
    for (k, hs) in hists {
        for (t, h) in hs {
            store.append_histogram_id(ids[k], t, std::sync::Arc::new(h));
        }
    }
    Ok(n)
}

/// [`load_api_json`] from a reader, a series at a time: one series' JSON is held while it is decoded, never
/// the whole document (a month of history as a `query_range` answer is gigabytes of text). The same shapes
/// are read and the same errors given, with one difference: a response's `status` is seen where it stands,
/// so an `"error"` status after its `data` (Prometheus writes it first) fails on the data, if that is broken.
pub fn load_api_json_from(
    input: impl std::io::Read,
    store: &mut Store,
) -> Result<usize, ApiJsonError> {
    use serde::de::DeserializeSeed;
    let mut st = Stream {
        store,
        series: 0,
        failure: None,
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    let res = Doc(&mut st).deserialize(&mut de).and_then(|_| de.end());
    if let Some(f) = st.failure.take() {
        return Err(f);
    }
    res.map_err(syntax)?;
    Ok(st.series)
}

/// What the streaming reader fills, and the first shape error it met (serde's error only stops it).
struct Stream<'s> {
    store: &'s mut Store,
    series: usize,
    failure: Option<ApiJsonError>,
}

impl Stream<'_> {
    fn fail<E: serde::de::Error>(&mut self, e: ApiJsonError) -> E {
        let m = e.to_string();
        self.failure.get_or_insert(e);
        E::custom(m)
    }

    fn add(&mut self, item: &Value, ipath: &str) -> Result<(), ApiJsonError> {
        let ((labels, samples), hist) = decode_item(item, ipath)?;
        let id = self.store.series_id(&labels);
        self.store.add_series(labels, samples);
        for (t, h) in hist.into_iter().flatten() {
            self.store
                .append_histogram_id(id, t, std::sync::Arc::new(h));
        }
        self.series += 1;
        Ok(())
    }
}

/// The document: one response, or a list of them.
struct Doc<'a, 's>(&'a mut Stream<'s>);

impl<'de> serde::de::DeserializeSeed<'de> for Doc<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Doc<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Prometheus API response or a list of them")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        Response {
            st: self.0,
            path: "$".into(),
        }
        .visit_map(map)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(Response {
                st: self.0,
                path: format!("[{i}]"),
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
}

/// One response object (`status`, `data`), or a bare `data` object (`resultType`, `result`).
struct Response<'a, 's> {
    st: &'a mut Stream<'s>,
    path: String,
}

impl<'de> serde::de::DeserializeSeed<'de> for Response<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Response<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with \"status\" and \"data\"")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (st, path) = (self.st, self.path);
        let (mut status, mut error_type, mut error) = (None::<Value>, None::<Value>, None::<Value>);
        let mut data = false;
        let mut bare = Data::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "status" => status = Some(map.next_value()?),
                "errorType" => error_type = Some(map.next_value()?),
                "error" => error = Some(map.next_value()?),
                "data" => {
                    match status.as_ref().map(Value::as_str) {
                        None | Some(Some("success")) => {}
                        Some(Some("error")) => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                        Some(_) => {
                            return Err(st.fail(shape(
                                &format!("{path}.status"),
                                "expected \"success\" or \"error\"",
                            )))
                        }
                    }
                    data = true;
                    map.next_value_seed(DataSeed {
                        st,
                        path: format!("{path}.data"),
                    })?;
                }
                "resultType" | "result" => bare.key(&key, &mut map, st, &path)?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        match status.as_ref().map(|s| s.as_str()) {
            None => bare.finish(st, &path),
            Some(Some("success")) if data => Ok(()),
            Some(Some("success")) => {
                Err(st.fail(shape(&path, "a successful response needs \"data\"")))
            }
            Some(Some("error")) => Err(st.fail(ApiJsonError::ServerError {
                error_type: str_field(error_type.as_ref())
                    .unwrap_or("error")
                    .to_string(),
                error: str_field(error.as_ref()).unwrap_or("").to_string(),
            })),
            Some(_) => Err(st.fail(shape(
                &format!("{path}.status"),
                "expected \"success\" or \"error\"",
            ))),
        }
    }
}

/// A `data` object's keys as they come.
#[derive(Default)]
struct Data {
    result_type: Option<Value>,
    result: bool,
}

impl Data {
    fn key<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        st: &mut Stream<'_>,
        path: &str,
    ) -> Result<(), A::Error> {
        if key == "resultType" {
            self.result_type = Some(map.next_value()?);
        } else {
            // A result of another type is not a list of series: say so before reading it.
            if let Some(rt) = &self.result_type {
                if !matches!(rt.as_str(), Some("matrix" | "vector")) {
                    return Err(st.fail(not_series(rt, path)));
                }
            }
            self.result = true;
            map.next_value_seed(ResultSeed {
                st,
                path: format!("{path}.result"),
            })?;
        }
        Ok(())
    }

    fn finish<E: serde::de::Error>(self, st: &mut Stream<'_>, path: &str) -> Result<(), E> {
        let Some(rt) = self.result_type else {
            return Err(st.fail(shape(path, "expected \"resultType\" and \"result\"")));
        };
        match rt.as_str() {
            Some("matrix" | "vector") if self.result => Ok(()),
            Some("matrix" | "vector") => Err(st.fail(shape(path, "expected \"result\""))),
            _ => Err(st.fail(not_series(&rt, path))),
        }
    }
}

fn not_series(rt: &Value, path: &str) -> ApiJsonError {
    let rt = match rt.as_str() {
        Some(t) => format!("{t:?}"),
        None => rt.to_string(),
    };
    shape(
        &format!("{path}.resultType"),
        format!("{rt} results hold no series; expected \"matrix\" or \"vector\""),
    )
}

struct DataSeed<'a, 's> {
    st: &'a mut Stream<'s>,
    path: String,
}

impl<'de> serde::de::DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DataSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with \"resultType\" and \"result\"")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut d = Data::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "resultType" | "result" => d.key(&key, &mut map, self.st, &self.path)?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        d.finish(self.st, &self.path)
    }
}

/// The `result` list: each series decoded and stored as it is read.
struct ResultSeed<'a, 's> {
    st: &'a mut Stream<'s>,
    path: String,
}

impl<'de> serde::de::DeserializeSeed<'de> for ResultSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ResultSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of series")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(item) = seq.next_element::<Value>()? {
            if let Err(e) = self.st.add(&item, &format!("{}[{i}]", self.path)) {
                return Err(self.st.fail(e));
            }
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.st.fail(shape(&self.path, "expected a list of series")))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.st.fail(shape(&self.path, "expected a list of series")))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.st.fail(shape(&self.path, "expected a list of series")))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.st.fail(shape(&self.path, "expected a list of series")))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.st.fail(shape(&self.path, "expected a list of series")))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.st.fail(shape(&self.path, "expected a list of series")))
    }
}

/// Native histogram samples of one series as the API gives them, by the series' index.
type HistogramsBySeries = Vec<(usize, Vec<(i64, FloatHistogram)>)>;

/// One series' native histogram samples (ms, histogram), ascending.
pub type HistogramSeries = (Labels, Vec<(i64, std::sync::Arc<FloatHistogram>)>);

/// A response with its float samples and its native histogram samples, each series' kind apart (a series
/// holding both appears in both).
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    pub series: Vec<SeriesSamples>,
    pub histograms: Vec<HistogramSeries>,
}

impl Decoded {
    /// How many samples of either kind it holds.
    pub fn samples(&self) -> usize {
        self.series.iter().map(|(_, s)| s.len()).sum::<usize>()
            + self.histograms.iter().map(|(_, h)| h.len()).sum::<usize>()
    }
}

/// Decodes one response (or bare `data` object), native histograms included.
pub fn decode_response_with_histograms(doc: &Value) -> Result<Decoded, ApiJsonError> {
    let mut hists = Vec::new();
    let series = decode_response_full(doc, "$", &mut hists)?;
    let mut only_histograms = vec![false; series.len()];
    for (k, _) in &hists {
        only_histograms[*k] = series[*k].1.is_empty();
    }
    let histograms = hists
        .into_iter()
        .map(|(k, hs)| {
            let mut hs: Vec<(i64, std::sync::Arc<FloatHistogram>)> = hs
                .into_iter()
                .map(|(t, h)| (t, std::sync::Arc::new(h)))
                .collect();
            hs.sort_by_key(|(t, _)| *t);
            hs.dedup_by_key(|(t, _)| *t);
            (series[k].0.clone(), hs)
        })
        .collect();
    // A series that held only histograms has no float samples to give.
    let series = series
        .into_iter()
        .zip(only_histograms)
        .filter(|(_, only)| !only)
        .map(|(s, _)| s)
        .collect();
    Ok(Decoded { series, histograms })
}

/// Decodes one response (or bare `data` object) at `path` into series, their native histogram samples into
/// `hists`.
fn decode_response_full(
    doc: &Value,
    path: &str,
    hists: &mut HistogramsBySeries,
) -> Result<Vec<SeriesSamples>, ApiJsonError> {
    let obj = doc
        .as_object()
        .ok_or_else(|| shape(path, "expected an object with \"status\" and \"data\""))?;
    if let Some(status) = obj.get("status") {
        match status.as_str() {
            Some("success") => {}
            Some("error") => {
                return Err(ApiJsonError::ServerError {
                    error_type: str_field(obj.get("errorType"))
                        .unwrap_or("error")
                        .to_string(),
                    error: str_field(obj.get("error")).unwrap_or("").to_string(),
                })
            }
            _ => {
                return Err(shape(
                    &format!("{path}.status"),
                    "expected \"success\" or \"error\"",
                ))
            }
        }
        let data = obj
            .get("data")
            .ok_or_else(|| shape(path, "a successful response needs \"data\""))?;
        return decode_data(data, &format!("{path}.data"), hists);
    }
    decode_data(doc, path, hists)
}

fn str_field(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn decode_data(
    data: &Value,
    path: &str,
    hists: &mut HistogramsBySeries,
) -> Result<Vec<SeriesSamples>, ApiJsonError> {
    let result_type = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or_else(|| shape(path, "expected \"resultType\" and \"result\""))?;
    let result = data
        .get("result")
        .ok_or_else(|| shape(path, "expected \"result\""))?;
    let rpath = format!("{path}.result");
    let items = match (result_type, result) {
        ("matrix" | "vector", Value::Array(items)) => items,
        ("matrix" | "vector", Value::Null) => return Ok(Vec::new()),
        ("matrix" | "vector", _) => return Err(shape(&rpath, "expected a list of series")),
        (other, _) => {
            return Err(shape(
                &format!("{path}.resultType"),
                format!("{other:?} results hold no series; expected \"matrix\" or \"vector\""),
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (series, h) = decode_item(item, &format!("{rpath}[{i}]"))?;
        if let Some(h) = h {
            hists.push((out.len(), h));
        }
        out.push(series);
    }
    Ok(out)
}

/// One series of a `result` list (at `ipath`): its labels and float samples (ascending, one per time), and
/// its native histogram samples when it has any.
#[allow(clippy::type_complexity)]
fn decode_item(
    item: &Value,
    ipath: &str,
) -> Result<(SeriesSamples, Option<Vec<(i64, FloatHistogram)>>), ApiJsonError> {
    let labels = decode_metric(item.get("metric"), ipath)?;
    let hs = item
        .get("histograms")
        .map(|h| (h, "histograms"))
        .or_else(|| item.get("histogram").map(|h| (h, "histogram")))
        .filter(|(h, _)| !h.is_null());
    let mut hist = None;
    if let Some((h, key)) = hs {
        let hpath = format!("{ipath}.{key}");
        let pairs: Vec<&Value> = if key == "histogram" {
            vec![h]
        } else {
            h.as_array()
                .ok_or_else(|| shape(&hpath, "expected a list of [time, histogram]"))?
                .iter()
                .collect()
        };
        let mut decoded = Vec::with_capacity(pairs.len());
        for (j, pair) in pairs.into_iter().enumerate() {
            let p = if key == "histogram" {
                hpath.clone()
            } else {
                format!("{hpath}[{j}]")
            };
            decoded.push(decode_histogram_pair(pair, &p)?);
        }
        hist = Some(decoded);
    }
    let mut samples = Vec::new();
    if hs.is_some() && item.get("values").is_none() && item.get("value").is_none() {
        return Ok(((labels, samples), hist));
    }
    if let Some(values) = item.get("values") {
        let values = values.as_array().ok_or_else(|| {
            shape(
                &format!("{ipath}.values"),
                "expected a list of [time, value]",
            )
        })?;
        samples.reserve(values.len());
        for (j, pair) in values.iter().enumerate() {
            samples.push(decode_pair(pair, &format!("{ipath}.values[{j}]"))?);
        }
    } else if let Some(pair) = item.get("value") {
        samples.push(decode_pair(pair, &format!("{ipath}.value"))?);
    } else {
        return Err(shape(
            ipath,
            "a series needs \"values\" (matrix) or \"value\" (vector)",
        ));
    }
    samples.sort_by_key(|&(t, _)| t);
    samples.dedup_by_key(|&mut (t, _)| t);
    Ok(((labels, samples), hist))
}

/// `[time, {"count", "sum", "buckets": [[rule, lower, upper, count], ...]}]`: the API leaves out the schema
/// and the empty buckets, so they are worked out from the bounds: custom buckets when a bound is infinite or
/// the bounds are not powers of two's roots (their bounds, those of the empty buckets between populated ones
/// aside), else the exponential schema whose bucket widths the bounds have; the zero bucket is the one
/// around zero with both bounds included.
fn decode_histogram_pair(pair: &Value, path: &str) -> Result<(i64, FloatHistogram), ApiJsonError> {
    let arr = pair
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| shape(path, "expected [time, {\"count\", \"sum\", \"buckets\"}]"))?;
    let t = decode_time(&arr[0]).ok_or_else(|| shape(path, "time must be Unix seconds"))?;
    let obj = arr[1]
        .as_object()
        .ok_or_else(|| shape(path, "expected a histogram object"))?;
    let num = |k: &str| -> Result<f64, ApiJsonError> {
        obj.get(k).and_then(decode_value).ok_or_else(|| {
            shape(
                &format!("{path}.{k}"),
                "expected a number or a string holding one",
            )
        })
    };
    let mut buckets = Vec::new();
    if let Some(list) = obj.get("buckets").filter(|b| !b.is_null()) {
        let list = list
            .as_array()
            .ok_or_else(|| shape(&format!("{path}.buckets"), "expected a list of buckets"))?;
        for (j, b) in list.iter().enumerate() {
            let bpath = format!("{path}.buckets[{j}]");
            let a = b
                .as_array()
                .filter(|a| a.len() == 4)
                .ok_or_else(|| shape(&bpath, "expected [boundary rule, lower, upper, count]"))?;
            let rule = a[0]
                .as_i64()
                .ok_or_else(|| shape(&bpath, "the boundary rule must be 0..3"))?;
            let (lo, up, c) = (
                decode_value(&a[1]),
                decode_value(&a[2]),
                decode_value(&a[3]),
            );
            let (Some(lo), Some(up), Some(c)) = (lo, up, c) else {
                return Err(shape(
                    &bpath,
                    "bounds and count must be numbers or strings holding one",
                ));
            };
            buckets.push((rule, lo, up, c));
        }
    }
    Ok((
        t,
        histogram_from_buckets(num("count")?, num("sum")?, &buckets),
    ))
}

/// A histogram from the API's buckets (see [`decode_histogram_pair`]).
pub fn histogram_from_buckets(
    count: f64,
    sum: f64,
    buckets: &[(i64, f64, f64, f64)],
) -> FloatHistogram {
    use super::histogram::{exponential_bound, Buckets, CUSTOM_BUCKETS_SCHEMA};
    let mut h = FloatHistogram {
        count,
        sum,
        ..Default::default()
    };
    let infinite = buckets
        .iter()
        .any(|&(_, lo, up, _)| lo.is_infinite() || up.is_infinite());
    let zt = buckets
        .iter()
        .find(|&&(rule, lo, up, _)| rule == 3 && lo < 0.0 && up > 0.0)
        .map_or(0.0, |b| b.2);
    let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-9;
    // Whether every bucket is one of schema `s` (its bound nearer zero may be cut to the zero bucket's).
    let fits = |s: i32| {
        buckets.iter().all(|&(_, lo, up, _)| {
            if lo < 0.0 && up > 0.0 {
                return true;
            }
            let (near, far) = if up > 0.0 { (lo, up) } else { (-up, -lo) };
            let i = (far.log2() * 2f64.powi(s)).round() as i32;
            close(exponential_bound(i, s), far)
                && (close(exponential_bound(i - 1, s), near) || close(near, zt))
        })
    };
    // The coarsest schema the bounds fit; none (or an infinite bound): custom buckets.
    let schema = if infinite {
        None
    } else {
        (-4..=8).find(|&s| fits(s))
    };
    match schema {
        None => {
            let mut bounds: Vec<f64> = buckets
                .iter()
                .flat_map(|&(_, lo, up, _)| [lo, up])
                .filter(|b| b.is_finite())
                .collect();
            bounds.sort_by(|a, b| a.total_cmp(b));
            bounds.dedup();
            let mut counts = vec![0.0; bounds.len() + 1];
            for &(_, _, up, c) in buckets {
                let k = if up.is_infinite() {
                    bounds.len()
                } else {
                    bounds.partition_point(|b| *b < up)
                };
                counts[k] += c;
            }
            h.schema = CUSTOM_BUCKETS_SCHEMA;
            h.custom_values = bounds;
            h.positive = Buckets { offset: 0, counts };
        }
        Some(s) => {
            h.schema = s;
            let idx = |v: f64| (v.abs().log2() * 2f64.powi(s)).round() as i32;
            let mut pos: Vec<(i32, f64)> = Vec::new();
            let mut neg: Vec<(i32, f64)> = Vec::new();
            for &(rule, lo, up, c) in buckets {
                if lo < 0.0 && up > 0.0 && rule == 3 {
                    h.zero_threshold = up;
                    h.zero_count = c;
                } else if up > 0.0 {
                    pos.push((idx(up), c));
                } else {
                    neg.push((idx(lo), c));
                }
            }
            for (list, into) in [(pos, &mut h.positive), (neg, &mut h.negative)] {
                if let (Some(min), Some(max)) = (
                    list.iter().map(|p| p.0).min(),
                    list.iter().map(|p| p.0).max(),
                ) {
                    let mut counts = vec![0.0; (max - min + 1) as usize];
                    for (i, c) in list {
                        counts[(i - min) as usize] += c;
                    }
                    *into = Buckets {
                        offset: min,
                        counts,
                    };
                }
            }
        }
    }
    h
}

fn decode_metric(metric: Option<&Value>, path: &str) -> Result<Labels, ApiJsonError> {
    let mpath = format!("{path}.metric");
    let obj = match metric {
        None | Some(Value::Null) => return Ok(Labels::empty()),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(shape(&mpath, "expected an object of label names to values")),
    };
    let mut pairs = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        let v = v
            .as_str()
            .ok_or_else(|| shape(&format!("{mpath}.{k}"), "label values must be strings"))?;
        pairs.push((k.as_str(), v));
    }
    Ok(Labels::from_pairs(pairs))
}

fn decode_pair(pair: &Value, path: &str) -> Result<(i64, f64), ApiJsonError> {
    let arr = pair
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| shape(path, "expected [time, \"value\"]"))?;
    let t = decode_time(&arr[0]).ok_or_else(|| shape(path, "time must be Unix seconds"))?;
    let v = decode_value(&arr[1])
        .ok_or_else(|| shape(path, "value must be a number or a string holding one"))?;
    Ok((t, v))
}

fn decode_time(v: &Value) -> Option<i64> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    let ms = (secs * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e15).then_some(ms as i64)
}

/// A sample value as Go's `strconv.ParseFloat` reads it (`NaN`, `+Inf`, `-Inf`, `1e3`, `0x1p-2` aside).
pub fn parse_float(s: &str) -> Option<f64> {
    let s = s.trim();
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

fn decode_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_float(s),
        _ => None,
    }
}

/// Unix seconds from ms, as the API writes them (a number with at most three decimals).
fn ts_json(t: i64) -> Value {
    serde_json::Number::from_f64(t as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A sample value as Prometheus's API writes it.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Shortest round-trip digits; exponent form only where plain digits would be absurdly long.
        let a = v.abs();
        if a == 0.0 || (1e-5..1e21).contains(&a) {
            format!("{v}")
        } else {
            format!("{v:e}")
        }
    }
}

/// A native histogram as the Prometheus HTTP API writes it: count and sum as strings, and each populated
/// bucket as `[boundary rule, lower, upper, count]` (rule 0: `(lower, upper]`, 1: `[lower, upper)`, 3: both
/// bounds included).
pub fn histogram_json(h: &crate::series::histogram::FloatHistogram) -> serde_json::Value {
    use crate::text::gofmt::format_value;
    use serde_json::json;
    let zt = h.zero_threshold;
    let custom = h.uses_custom_buckets();
    let buckets: Vec<serde_json::Value> = h
        .all_buckets()
        .into_iter()
        .filter(|b| b.count != 0.0)
        .map(|b| {
            let rule = if custom {
                if b.lower == f64::NEG_INFINITY {
                    3
                } else {
                    0
                }
            } else if b.lower == -zt && b.upper == zt {
                3
            } else if b.upper <= 0.0 {
                1
            } else {
                0
            };
            json!([
                rule,
                format_value(b.lower),
                format_value(b.upper),
                format_value(b.count)
            ])
        })
        .collect();
    let mut o = json!({"count": format_value(h.count), "sum": format_value(h.sum)});
    if !buckets.is_empty() {
        o["buckets"] = serde_json::Value::Array(buckets);
    }
    o
}

/// Writes every series of `store` as one `query_range`-shaped response (`resultType: matrix`), series in
/// label order. Staleness markers are left out: the API never shows them.
pub fn write_api_json(store: &Store, out: &mut impl Write) -> std::io::Result<()> {
    let mut series: Vec<_> = store.iter().collect();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    let result: Vec<Value> = series
        .iter()
        .map(|s| {
            let metric: serde_json::Map<String, Value> = s
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            let values: Vec<Value> = s
                .samples
                .iter()
                .filter(|(_, v)| !is_stale(*v))
                .map(|&(t, v)| Value::Array(vec![ts_json(t), Value::String(format_float(v))]))
                .collect();
            let mut o = serde_json::json!({"metric": metric, "values": values});
            let hs = s.visible_histograms();
            if !hs.is_empty() {
                o["histograms"] = hs
                    .iter()
                    .map(|(t, h)| Value::Array(vec![ts_json(*t), histogram_json(h)]))
                    .collect();
            }
            o
        })
        .collect();
    let doc = serde_json::json!({
        "status": "success",
        "data": {"resultType": "matrix", "result": result},
    });
    serde_json::to_writer(&mut *out, &doc)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::store::stale_nan;

    fn l(p: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(p.iter().copied())
    }

    #[test]
    fn full_response_bare_data_and_list() {
        let full = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000015.5,"NaN"],[1700000030,"+Inf"]]}]}}"#;
        let mut s = Store::new();
        assert_eq!(load_api_json(full, &mut s).unwrap(), 1);
        let got = &s.get(0).unwrap().samples;
        assert_eq!(got[0], (1_700_000_000_000, 1.0));
        assert_eq!(got[1].0, 1_700_000_015_500);
        assert!(got[1].1.is_nan());
        assert_eq!(got[2], (1_700_000_030_000, f64::INFINITY));
        assert_eq!(
            s.get(0).unwrap().labels,
            l(&[("__name__", "up"), ("job", "a")])
        );

        let bare =
            r#"{"resultType":"vector","result":[{"metric":{"x":"1"},"value":["12.25","3"]}]}"#;
        let mut s = Store::new();
        load_api_json(bare, &mut s).unwrap();
        assert_eq!(s.get(0).unwrap().samples.to_vec(), vec![(12_250, 3.0)]);

        let list = format!("[{full}, {bare}]");
        let mut s = Store::new();
        assert_eq!(load_api_json(&list, &mut s).unwrap(), 2);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = load_api_json("{\"status\":\n \"success\",,}", &mut Store::new()).unwrap_err();
        assert!(matches!(e, ApiJsonError::Syntax { line: 2, .. }), "{e}");
        let e = load_api_json(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#,
            &mut Store::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "$.data.result[0].values[0]: value must be a number or a string holding one"
        );
        let e = load_api_json(
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#,
            &mut Store::new(),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "bad_data: parse error at char 3");
        let e = load_api_json(
            r#"{"resultType":"scalar","result":[1,"2"]}"#,
            &mut Store::new(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("$.resultType: \"scalar\""), "{e}");
    }

    #[test]
    fn histograms_read_back_as_written() {
        use crate::series::histogram::parse_description;
        for text in [
            "{{schema:0 sum:10 count:8 buckets:[1 2 3] offset:-1}}",
            "{{schema:3 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5}}",
            "{{schema:-2 count:9 sum:100 buckets:[1 0 8]}}",
            "{{schema:8 count:2 sum:2 offset:100 buckets:[1 1]}}",
            "{{schema:-53 count:6 sum:7 custom_values:[0.5 1 5] buckets:[1 2 2 1]}}",
        ] {
            let h = parse_description(text).unwrap().histogram;
            let json = histogram_json(&h);
            let doc = serde_json::json!({"resultType": "vector", "result": [
                {"metric": {"__name__": "h"}, "histogram": [60, json]}
            ]});
            let mut st = Store::new();
            load_api_json(&doc.to_string(), &mut st).unwrap();
            let got = &st.get(0).unwrap().visible_histograms()[0];
            assert_eq!(got.0, 60_000);
            assert!(got.1.matches(&h, false, |a, b| a == b), "{text}: {:?}", got.1);
        }
    }

    #[test]
    fn answers_keep_floats_and_histograms_apart() {
        let doc = serde_json::json!({"resultType": "vector", "result": [
            {"metric": {"__name__": "h"}, "histogram": [60, {"count": "1", "sum": "1"}]},
            {"metric": {"__name__": "f"}, "value": [60, "2"]}
        ]});
        let d = decode_response_with_histograms(&doc).unwrap();
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].0.name(), Some("f"));
        assert_eq!(d.histograms.len(), 1);
        assert_eq!(d.histograms[0].0.name(), Some("h"));
        assert_eq!(d.histograms[0].1[0].0, 60_000);
        assert_eq!(d.samples(), 2);
    }

    #[test]
    fn write_then_read_round_trips() {
        let mut s = Store::new();
        s.add_series(
            l(&[("__name__", "a"), ("x", "q\"\n")]),
            vec![
                (1_500, 0.1),
                (3_000, -2e-9),
                (4_000, stale_nan()),
                (5_000, 1e300),
            ],
        );
        s.add_series(l(&[("__name__", "b")]), vec![(-1_000, f64::NEG_INFINITY)]);
        let mut buf = Vec::new();
        write_api_json(&s, &mut buf).unwrap();
        let mut back = Store::new();
        load_api_json(std::str::from_utf8(&buf).unwrap(), &mut back).unwrap();
        let a = l(&[("__name__", "a"), ("x", "q\"\n")]);
        let got = back.iter().find(|x| x.labels == a).unwrap();
        // The staleness marker is dropped; every other value and time survives exactly.
        assert_eq!(
            got.samples.to_vec(),
            vec![(1_500, 0.1), (3_000, -2e-9), (5_000, 1e300)]
        );
        let b = back.iter().find(|x| x.labels.name() == Some("b")).unwrap();
        assert_eq!(b.samples.to_vec(), vec![(-1_000, f64::NEG_INFINITY)]);
    }

    #[test]
    fn syntax_errors_name_the_position_once() {
        let e = parse_json("{\"status\": \"success\", \"data\": [\n").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("line 2, column 1: invalid JSON: "),
            "{text}"
        );
        assert!(!text.contains(" at line "), "{text}");
    }

    /// Read a series at a time, every document reads as it does whole: the same series, samples and
    /// histograms, or the same error.
    #[test]
    fn a_stream_reads_what_the_whole_document_reads() {
        let full = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000015.5,"NaN"],[1700000030,"+Inf"]]},
            {"metric":{"__name__":"up","job":"b"},"values":[[30,"2"],[15,"1"],[30,"3"]]}],"stats":{"x":1}},"warnings":["w"]}"#;
        let bare =
            r#"{"resultType":"vector","result":[{"metric":{"x":"1"},"value":["12.25","3"]}]}"#;
        let hist = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"__name__": "h"}, "histograms": [[60, {"count": "3", "sum": "2", "buckets": [[0, "0.5", "1", "3"]]}]], "values": [[30, "1"]]}
        ]}})
        .to_string();
        let list = format!("[{full}, {bare}]");
        let docs: Vec<String> = vec![
            full.into(),
            bare.into(),
            hist,
            list,
            r#"{"status":"success","data":{"result":[],"resultType":"matrix"}}"#.into(),
            r#"{"status":"success","data":{"resultType":"matrix","result":null}}"#.into(),
            // Errors.
            "{\"status\":\n \"success\",,}".into(),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#.into(),
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#.into(),
            r#"{"resultType":"scalar","result":[1,"2"]}"#.into(),
            r#"{"status":"success"}"#.into(),
            r#"{"status":"maybe","data":{}}"#.into(),
            r#"{"status":"success","data":{"resultType":"matrix"}}"#.into(),
            r#"{"status":"success","data":{"result":[]}}"#.into(),
            r#"{"status":"success","data":{"resultType":"matrix","result":{"a":1}}}"#.into(),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":1},"values":[]}]}}"#.into(),
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}}"#.into(),
            r#"[{"resultType":"vector","result":[]}, {"status":"error","error":"e"}]"#.into(),
        ];
        let dump = |s: &Store| -> Vec<String> {
            s.iter()
                .map(|x| {
                    let f: Vec<(i64, u64)> =
                        x.samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
                    format!("{} {f:?} {:?}", x.labels, x.visible_histograms())
                })
                .collect()
        };
        for doc in &docs {
            let mut whole = Store::new();
            let a = load_api_json(doc, &mut whole).map_err(|e| e.to_string());
            let mut streamed = Store::new();
            let b = load_api_json_from(doc.as_bytes(), &mut streamed).map_err(|e| e.to_string());
            assert_eq!(a, b, "{doc}");
            if a.is_ok() {
                assert_eq!(dump(&whole), dump(&streamed), "{doc}");
            }
        }
    }
}
