//! Compact float samples: chunks of delta-of-delta timestamps and XOR-encoded values, the encoding of
//! Prometheus's TSDB (`tsdb/chunkenc/xor.go`, after Facebook's Gorilla paper), written for this store.
//!
//! A regular scrape costs one bit for its timestamp (the delta of its delta is zero) and, for a value that
//! changes little, a few bits more: a counter of requests scraped every 15 s takes about 2 bytes a sample (chunk headers included),
//! a constant series a fraction of a byte, against 16 for a `(i64, f64)` pair. Values round-trip bit for
//! bit: staleness markers and NaN payloads come back as they went in.
//!
//! [`CompactSamples`] is one series: sealed chunks of [`CHUNK_SAMPLES`] samples and an open head chunk that
//! takes appends in time order. Readers decode from any timestamp on ([`CompactSamples::iter_from`]); the
//! store decodes the part of the window a query reads ([`super::store::Store::set_window`]).
//!
//! ```
//! use ruletest::series::chunk::CompactSamples;
//! let mut c = CompactSamples::default();
//! for k in 0..1000 {
//!     c.push(k * 15_000, (k * 3) as f64).unwrap();
//! }
//! assert!(c.encoded_bytes() < 3 * 1000);
//! assert_eq!(c.iter_from(14_000_000).next(), Some((14_010_000, 2802.0)));
//! ```

/// Samples per sealed chunk: a reader starting inside a chunk decodes at most this many samples it does not
/// need. Prometheus cuts at 120; twice that halves the chunks' fixed cost (a constant series: 0.80 -> 0.50
/// bytes a sample) and costs nothing on values that change (CPU counters 5.43 -> 5.29); at 480 the XOR
/// window goes stale and varying values cost more (5.49). Measured on `bench/gen_history.py`'s series.
pub const CHUNK_SAMPLES: usize = 240;

/// A sample that does not come after the series' last one: compact series take appends in time order only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfOrder {
    /// The series' last timestamp.
    pub last: i64,
    /// The refused sample's timestamp.
    pub t: i64,
}

impl std::fmt::Display for OutOfOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sample at {} ms is not after the series' previous sample at {} ms",
            self.t, self.last
        )
    }
}

/// Bits written most significant first into 64-bit words.
#[derive(Clone, Debug, Default)]
struct BitWriter {
    words: Vec<u64>,
    len: usize,
}

impl BitWriter {
    /// Writes the low `n` bits of `v` (`n` at most 64).
    #[inline]
    fn write(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        let off = (self.len % 64) as u32;
        if off == 0 {
            self.words.push(0);
        }
        let idx = self.words.len() - 1;
        let free = 64 - off;
        if n <= free {
            self.words[idx] |= v << (free - n);
        } else {
            let rest = n - free;
            self.words[idx] |= v >> rest;
            self.words.push(v << (64 - rest));
        }
        self.len += n as usize;
    }

    #[inline]
    fn bit(&mut self, b: bool) {
        self.write(b as u64, 1);
    }
}

/// Reads what a [`BitWriter`] wrote.
#[derive(Clone)]
struct BitReader<'a> {
    words: &'a [u64],
    pos: usize,
}

impl BitReader<'_> {
    #[inline]
    fn read(&mut self, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        let idx = self.pos / 64;
        let off = (self.pos % 64) as u32;
        self.pos += n as usize;
        let free = 64 - off;
        let w = self.words.get(idx).copied().unwrap_or(0) << off;
        if n <= free {
            w >> (64 - n)
        } else {
            let next = self.words.get(idx + 1).copied().unwrap_or(0);
            (w >> (64 - n)) | (next >> (64 - (n - free)))
        }
    }

    #[inline]
    fn bit(&mut self) -> bool {
        self.read(1) == 1
    }
}

/// What the encoder carries from one sample to the next (the decoder keeps the same). The second sample's
/// delta is written as a delta of delta against zero.
#[derive(Clone, Copy, Debug, Default)]
struct State {
    t: i64,
    delta: i64,
    v: u64,
    leading: u32,
    trailing: u32,
}

/// Delta-of-delta ranges and their prefixes, as Prometheus's XOR chunks use them: (prefix, prefix bits,
/// value bits).
const DOD_BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

fn fits(dod: i64, bits: u32) -> bool {
    // Two's complement in `bits` bits, as Prometheus's `bitRange`: -(2^(n-1) - 1) ..= 2^(n-1).
    let half = 1i64 << (bits - 1);
    -(half - 1) <= dod && dod <= half
}

fn write_value(w: &mut BitWriter, s: &mut State, v: u64) {
    let x = v ^ s.v;
    if x == 0 {
        w.bit(false);
    } else {
        w.bit(true);
        let leading = x.leading_zeros().min(31);
        let trailing = x.trailing_zeros();
        if s.leading != u32::MAX && leading >= s.leading && trailing >= s.trailing {
            w.bit(false);
            w.write(x >> s.trailing, 64 - s.leading - s.trailing);
        } else {
            w.bit(true);
            let sig = 64 - leading - trailing;
            w.write(leading as u64, 5);
            // 64 significant bits are written as 0 (six bits hold 0..=63).
            w.write((sig % 64) as u64, 6);
            w.write(x >> trailing, sig);
            s.leading = leading;
            s.trailing = trailing;
        }
    }
    s.v = v;
}

fn read_value(r: &mut BitReader<'_>, s: &mut State) {
    if !r.bit() {
        return;
    }
    if r.bit() {
        s.leading = r.read(5) as u32;
        let sig = match r.read(6) as u32 {
            0 => 64,
            n => n,
        };
        s.trailing = 64 - s.leading - sig;
    }
    let sig = 64 - s.leading - s.trailing;
    s.v ^= r.read(sig) << s.trailing;
}

/// One chunk's bits and the samples it holds.
#[derive(Clone, Debug, Default)]
struct Chunk {
    bits: BitWriter,
    count: u16,
    first_t: i64,
    /// The appender's state after the last sample.
    state: State,
}

impl Chunk {
    fn push(&mut self, t: i64, v: f64) {
        let v = v.to_bits();
        let s = &mut self.state;
        let w = &mut self.bits;
        match self.count {
            0 => {
                w.write(t as u64, 64);
                w.write(v, 64);
                self.first_t = t;
                *s = State {
                    t,
                    delta: 0,
                    v,
                    leading: u32::MAX,
                    trailing: 0,
                };
            }
            _ => {
                let delta = t.wrapping_sub(s.t);
                let dod = delta.wrapping_sub(s.delta);
                if dod == 0 {
                    w.bit(false);
                } else if let Some(&(prefix, pbits, vbits)) =
                    DOD_BUCKETS.iter().find(|(_, _, b)| fits(dod, *b))
                {
                    w.write(prefix, pbits);
                    w.write(dod as u64, vbits);
                } else {
                    w.write(0b1111, 4);
                    w.write(dod as u64, 64);
                }
                write_value(w, s, v);
                s.delta = delta;
                s.t = t;
            }
        }
        self.count += 1;
    }

    fn into_sealed(self) -> Sealed {
        Sealed {
            words: self.bits.words.into_boxed_slice(),
            count: self.count,
            first_t: self.first_t,
            last_t: self.state.t,
        }
    }
}

/// A full chunk: its words and the range of timestamps it holds.
#[derive(Clone, Debug)]
struct Sealed {
    words: Box<[u64]>,
    count: u16,
    first_t: i64,
    last_t: i64,
}

/// Decodes one chunk's samples in order.
#[derive(Clone)]
pub struct ChunkIter<'a> {
    r: BitReader<'a>,
    left: u16,
    done: u16,
    s: State,
}

impl<'a> ChunkIter<'a> {
    fn new(words: &'a [u64], count: u16) -> Self {
        ChunkIter {
            r: BitReader { words, pos: 0 },
            left: count,
            done: 0,
            s: State::default(),
        }
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        if self.left == 0 {
            return None;
        }
        let r = &mut self.r;
        let s = &mut self.s;
        match self.done {
            0 => {
                s.t = r.read(64) as i64;
                s.v = r.read(64);
            }
            _ => {
                // '0': zero; '10', '110', '1110': 14, 17 or 20 bits; '1111': 64 bits.
                let dod = if !r.bit() {
                    0
                } else if !r.bit() {
                    from_bits_range(r.read(14), 14)
                } else if !r.bit() {
                    from_bits_range(r.read(17), 17)
                } else if !r.bit() {
                    from_bits_range(r.read(20), 20)
                } else {
                    r.read(64) as i64
                };
                s.delta = s.delta.wrapping_add(dod);
                s.t = s.t.wrapping_add(s.delta);
                read_value(r, s);
            }
        }
        self.left -= 1;
        self.done += 1;
        Some((s.t, f64::from_bits(s.v)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// An `n`-bit delta of delta as written by [`fits`]'s range: above `2^(n-1)` it is negative.
fn from_bits_range(v: u64, n: u32) -> i64 {
    let v = v as i64;
    if v > 1i64 << (n - 1) {
        v - (1i64 << n)
    } else {
        v
    }
}

/// One series' float samples, compact: sealed chunks and an open head.
#[derive(Clone, Debug, Default)]
pub struct CompactSamples {
    sealed: Vec<Sealed>,
    head: Chunk,
    len: usize,
}

impl CompactSamples {
    /// Appends a sample after the last one; an earlier or equal timestamp is refused.
    pub fn push(&mut self, t: i64, v: f64) -> Result<(), OutOfOrder> {
        if let Some((last, _)) = self.last() {
            if t <= last {
                return Err(OutOfOrder { last, t });
            }
        }
        if self.head.count as usize == CHUNK_SAMPLES {
            let full = std::mem::take(&mut self.head);
            self.sealed.push(full.into_sealed());
        }
        self.head.push(t, v);
        self.len += 1;
        Ok(())
    }

    /// The series' samples in a compact form (refused at the first sample out of time order).
    pub fn from_samples(samples: &[(i64, f64)]) -> Result<Self, OutOfOrder> {
        let mut c = CompactSamples::default();
        for &(t, v) in samples {
            c.push(t, v)?;
        }
        Ok(c)
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first sample's timestamp.
    pub fn first_t(&self) -> Option<i64> {
        match self.sealed.first() {
            Some(c) => Some(c.first_t),
            None => (self.head.count > 0).then_some(self.head.first_t),
        }
    }

    /// The last sample.
    pub fn last(&self) -> Option<(i64, f64)> {
        (self.head.count > 0).then(|| (self.head.state.t, f64::from_bits(self.head.state.v)))
    }

    /// Bytes the encoded samples take (the chunks' words and their bookkeeping), without the heap
    /// allocator's own overhead.
    pub fn encoded_bytes(&self) -> usize {
        let sealed: usize = self
            .sealed
            .iter()
            .map(|c| c.words.len() * 8 + std::mem::size_of::<Sealed>())
            .sum();
        sealed + self.head.bits.words.capacity() * 8 + std::mem::size_of::<Self>()
    }

    /// Every sample, in order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.chunks_from(0).flatten()
    }

    /// The samples stamped at or after `t`, in order: decoding starts at the chunk holding `t`.
    pub fn iter_from(&self, t: i64) -> impl Iterator<Item = (i64, f64)> + '_ {
        let first = self.sealed.partition_point(|c| c.last_t < t);
        self.chunks_from(first)
            .flatten()
            .skip_while(move |&(st, _)| st < t)
    }

    fn chunks_from(&self, first: usize) -> impl Iterator<Item = ChunkIter<'_>> + '_ {
        self.sealed[first.min(self.sealed.len())..]
            .iter()
            .map(|c| ChunkIter::new(&c.words, c.count))
            .chain(std::iter::once(ChunkIter::new(
                &self.head.bits.words,
                self.head.count,
            )))
    }

    /// The samples stamped in `[from, to]`, decoded into `out` (appended).
    pub fn decode_range(&self, from: i64, to: i64, out: &mut Vec<(i64, f64)>) {
        out.extend(self.iter_from(from).take_while(|&(t, _)| t <= to));
    }

    /// Every sample, decoded.
    pub fn to_vec(&self) -> Vec<(i64, f64)> {
        let mut v = Vec::with_capacity(self.len);
        v.extend(self.iter());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::store::stale_nan;
    use proptest::prelude::*;

    fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
        s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
    }

    #[test]
    fn a_regular_counter_costs_about_two_bytes_a_sample_and_round_trips() {
        let mut samples = Vec::new();
        let mut v = 1000.0;
        for k in 0..10_000i64 {
            v += ((k * 7919) % 13) as f64;
            samples.push((1_700_000_000_000 + k * 15_000, v));
        }
        let c = CompactSamples::from_samples(&samples).unwrap();
        assert_eq!(bits(&c.to_vec()), bits(&samples));
        let per_sample = c.encoded_bytes() as f64 / samples.len() as f64;
        assert!(per_sample < 2.5, "{per_sample} bytes a sample");
        assert!(per_sample > 0.1, "{per_sample} bytes a sample");
    }

    #[test]
    fn a_constant_series_costs_under_a_byte_a_sample() {
        let samples: Vec<(i64, f64)> = (0..10_000i64).map(|k| (k * 30_000, 1.0)).collect();
        let c = CompactSamples::from_samples(&samples).unwrap();
        assert!(
            c.encoded_bytes() < samples.len(),
            "{} bytes",
            c.encoded_bytes()
        );
        assert_eq!(c.to_vec(), samples);
    }

    #[test]
    fn out_of_order_and_duplicate_timestamps_are_refused() {
        let mut c = CompactSamples::default();
        c.push(10, 1.0).unwrap();
        assert_eq!(c.push(10, 2.0), Err(OutOfOrder { last: 10, t: 10 }));
        assert_eq!(c.push(5, 2.0), Err(OutOfOrder { last: 10, t: 5 }));
        assert_eq!(c.to_vec(), vec![(10, 1.0)]);
        assert!(c.push(11, 2.0).is_ok());
    }

    #[test]
    fn reading_from_a_time_starts_at_its_chunk() {
        let samples: Vec<(i64, f64)> = (0..1000i64).map(|k| (k * 10, k as f64)).collect();
        let c = CompactSamples::from_samples(&samples).unwrap();
        for t in [-5, 0, 5, 1195, 1200, 1205, 9990, 9991, 20_000] {
            let want: Vec<_> = samples.iter().copied().filter(|s| s.0 >= t).collect();
            assert_eq!(c.iter_from(t).collect::<Vec<_>>(), want, "from {t}");
        }
        let mut out = Vec::new();
        c.decode_range(1195, 1230, &mut out);
        assert_eq!(
            out,
            vec![(1200, 120.0), (1210, 121.0), (1220, 122.0), (1230, 123.0)]
        );
    }

    #[test]
    fn every_delta_of_delta_bucket_round_trips_at_its_edges() {
        let mut t = 0i64;
        let mut delta = 1000i64;
        let mut samples = vec![(t, 0.0)];
        for dod in [
            0,
            8192,
            -8191,
            8193,
            -8192,
            65536,
            -65535,
            65537,
            524288,
            -524287,
            524289,
            -524288,
            1 << 40,
        ] {
            delta += dod;
            t += delta.max(1);
            samples.push((t, dod as f64));
        }
        let c = CompactSamples::from_samples(&samples).unwrap();
        assert_eq!(c.to_vec(), samples);
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            (0u32..1000).prop_map(|v| v as f64),
            any::<f64>(),
            any::<u64>().prop_map(f64::from_bits),
            Just(stale_nan()),
            Just(f64::NAN),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
        ]
    }

    fn gap() -> impl Strategy<Value = i64> {
        prop_oneof![
            4 => Just(15_000i64),
            2 => 1i64..40_000,
            1 => 1i64..(1 << 45),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Whatever goes in comes out, bit for bit: stale markers, NaN payloads, irregular gaps, any start.
        #[test]
        fn samples_round_trip_bit_for_bit(
            start in -(1i64 << 50)..(1i64 << 50),
            steps in proptest::collection::vec((gap(), value()), 0..400),
            from_offset in 0i64..(1 << 20),
        ) {
            let mut t = start;
            let mut samples = Vec::new();
            for (g, v) in steps {
                samples.push((t, v));
                t += g;
            }
            let c = CompactSamples::from_samples(&samples).unwrap();
            prop_assert_eq!(c.len(), samples.len());
            prop_assert_eq!(bits(&c.to_vec()), bits(&samples));
            let from = start + from_offset;
            let want: Vec<_> = samples.iter().copied().filter(|s| s.0 >= from).collect();
            prop_assert_eq!(bits(&c.iter_from(from).collect::<Vec<_>>()), bits(&want));
            prop_assert_eq!(c.last().map(|(t, v)| (t, v.to_bits())), samples.last().map(|&(t, v)| (t, v.to_bits())));
            prop_assert_eq!(c.first_t(), samples.first().map(|s| s.0));
        }

        /// A sample at or before the last one is refused and changes nothing.
        #[test]
        fn out_of_time_order_is_refused(
            n in 1usize..300,
            back in 0i64..100_000,
        ) {
            let samples: Vec<(i64, f64)> = (0..n as i64).map(|k| (k * 15_000, k as f64)).collect();
            let mut c = CompactSamples::from_samples(&samples).unwrap();
            let last = samples[n - 1].0;
            prop_assert_eq!(c.push(last - back, 1.0), Err(OutOfOrder { last, t: last - back }));
            prop_assert_eq!(c.to_vec(), samples);
        }
    }
}
