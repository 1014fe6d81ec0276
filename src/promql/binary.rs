//! Binary operators: arithmetic, comparison (filtering or `bool`), and the set operators, between
//! scalars and instant vectors, with `on`/`ignoring` matching and `group_left`/`group_right`.
//! Matching is per step (which series are present varies), but result label sets are computed once per
//! matched pair of series, not per step.

use super::context::{qerr, Context, EvalError, StepHists, StepSeries, Val};
use super::syntax::ast::{Card, Expr};
use crate::semantics::Difference;
use crate::series::histogram::{FloatHistogram, HistogramError};
use crate::series::labels::{FxBuild, METRIC_NAME};
use crate::series::Labels;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Or,
    Unless,
    /// `</`: a histogram's observations below the float.
    TrimUpper,
    /// `>/`: a histogram's observations above the float.
    TrimLower,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "^" => Op::Pow,
            "atan2" => Op::Atan2,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            "<" => Op::Lt,
            ">=" => Op::Ge,
            "<=" => Op::Le,
            "and" => Op::And,
            "or" => Op::Or,
            "unless" => Op::Unless,
            "</" => Op::TrimUpper,
            ">/" => Op::TrimLower,
            _ => return None,
        })
    }
    pub fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }
    fn is_set(self) -> bool {
        matches!(self, Op::And | Op::Or | Op::Unless)
    }
    /// Whether the result is no longer the metric the name says (`changesMetricSchema`): the name goes.
    fn changes_schema(self) -> bool {
        matches!(
            self,
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod | Op::Pow | Op::Atan2
        )
    }
}

/// Arithmetic result, or for comparisons whether the pair passes (value = lhs).
pub(crate) fn apply(op: Op, l: f64, r: f64) -> (f64, bool) {
    match op {
        Op::Add => (l + r, true),
        Op::Sub => (l - r, true),
        Op::Mul => (l * r, true),
        Op::Div => (l / r, true),
        Op::Mod => (l % r, true),
        Op::Pow => (l.powf(r), true),
        Op::Atan2 => (l.atan2(r), true),
        Op::Eq => (l, l == r),
        Op::Ne => (l, l != r),
        Op::Gt => (l, l > r),
        Op::Lt => (l, l < r),
        Op::Ge => (l, l >= r),
        Op::Le => (l, l <= r),
        Op::And | Op::Or | Op::Unless => (l, true),
        // Between floats these give nothing (the caller refuses them first).
        Op::TrimUpper | Op::TrimLower => (l, false),
    }
}

/// One operand's value at a step.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Float(f64),
    Histogram(&'a Arc<FloatHistogram>),
}

impl Operand<'_> {
    fn owned(&self) -> Outcome {
        match self {
            Operand::Float(f) => Outcome::Float(*f),
            Operand::Histogram(h) => Outcome::Histogram(Arc::clone(h)),
        }
    }

    fn of(s: &StepSeries, i: usize) -> Option<Operand<'_>> {
        match (s.vals[i], s.hist(i)) {
            (Some(v), _) => Some(Operand::Float(v)),
            (None, Some(h)) => Some(Operand::Histogram(h)),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Operand::Float(_) => "float",
            Operand::Histogram(_) => "histogram",
        }
    }
}

/// A result value at a step.
#[derive(Clone)]
enum Outcome {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

/// Why a pair gives no value, as Prometheus annotates it.
#[derive(PartialEq)]
enum Refusal {
    /// An info: the operator does not apply to these types.
    Incompatible(&'static str, &'static str),
    /// A warning: histograms with exponential and custom buckets cannot be combined.
    Layout,
    /// A warning: counter-reset hints collided while adding or subtracting (the result is dropped).
    Collision(&'static str),
    /// An info, the result kept: custom-bucket histograms with different bounds were added or subtracted
    /// over the bounds both have.
    Reconciled(&'static str),
}

impl Refusal {
    fn report(&self, ev: &mut dyn Context, op: &str, pos: &str) {
        match self {
            Refusal::Incompatible(l, r) => ev.info(format!(
                "PromQL info: incompatible sample types encountered for binary operator {op:?}: {l} {op} {r} {pos}"
            )),
            Refusal::Layout => ev.warn(format!(
                "PromQL warning: incompatible bucket layout encountered for binary operator {op} {pos}"
            )),
            Refusal::Collision(what) => ev.warn(format!(
                "PromQL warning: conflicting counter resets during histogram {what} {pos}"
            )),
            Refusal::Reconciled(what) => ev.info(format!(
                "PromQL info: mismatched custom buckets were reconciled during {what} {pos}"
            )),
        }
    }
}

/// `vectorElemBinop`: the value of `l op r` (for a comparison, the left value) and whether a comparison
/// keeps the pair; histograms combine by `+` and `-` with each other, scale by `*` and `/` with a float, and
/// compare by `==` and `!=` with each other.
fn elem(
    op: Op,
    l: Operand,
    r: Operand,
    notes: &mut Vec<Refusal>,
) -> Result<(Outcome, bool), Refusal> {
    let refuse = || Err(Refusal::Incompatible(l.type_name(), r.type_name()));
    let trim = matches!(op, Op::TrimUpper | Op::TrimLower);
    match (l, r) {
        (Operand::Histogram(h), Operand::Float(f)) if trim => {
            let mut h = (**h).clone();
            h.trim(f, op == Op::TrimUpper);
            Ok((Outcome::Histogram(Arc::new(h)), true))
        }
        _ if trim => refuse(),
        (Operand::Float(a), Operand::Float(b)) => {
            let (v, keep) = apply(op, a, b);
            Ok((Outcome::Float(v), keep))
        }
        (Operand::Float(f), Operand::Histogram(h)) | (Operand::Histogram(h), Operand::Float(f))
            if op == Op::Mul =>
        {
            let mut h = (**h).clone();
            h.mul(f);
            Ok((Outcome::Histogram(Arc::new(h)), true))
        }
        (Operand::Histogram(h), Operand::Float(f)) if op == Op::Div => {
            let mut h = (**h).clone();
            h.div(f);
            Ok((Outcome::Histogram(Arc::new(h)), true))
        }
        (Operand::Histogram(a), Operand::Histogram(b)) => match op {
            Op::Add | Op::Sub => {
                let combined = if op == Op::Add { a.add(b) } else { a.sub(b) };
                if a.bounds_differ(b) {
                    let what = if op == Op::Add {
                        "addition"
                    } else {
                        "subtraction"
                    };
                    note(notes, Refusal::Reconciled(what));
                }
                let (mut h, collision) = combined.map_err(|HistogramError(_)| Refusal::Layout)?;
                if collision {
                    return Err(Refusal::Collision(if op == Op::Add {
                        "addition"
                    } else {
                        "subtraction"
                    }));
                }
                if op == Op::Sub {
                    h.counter_reset_hint = crate::series::histogram::CounterResetHint::Gauge;
                }
                Ok((Outcome::Histogram(Arc::new(h)), true))
            }
            Op::Eq | Op::Ne => {
                // `FloatHistogram.Equals`: bit for bit, the counter-reset hint aside.
                let equal = a.matches(b, false, |x, y| x.to_bits() == y.to_bits());
                Ok((Outcome::Histogram(a.clone()), equal == (op == Op::Eq)))
            }
            _ => refuse(),
        },
        _ => refuse(),
    }
}

/// Sets step `i` of `s` (of `n` steps) to `v`.
fn put(s: &mut StepSeries, i: usize, n: usize, v: Outcome) {
    match v {
        Outcome::Float(f) => {
            s.vals[i] = Some(f);
            if let Some(h) = s.hists.get_mut(i) {
                *h = None;
            }
        }
        Outcome::Histogram(h) => {
            if s.hists.is_empty() {
                s.hists = StepHists::nones(n);
            }
            s.vals[i] = None;
            s.hists[i] = Some(h);
        }
    }
}

/// How series are matched: `on(names)` or `ignoring(names)` (the metric name is always ignored then).
struct Matching<'a> {
    on: bool,
    names: &'a [String],
}

impl Matching<'_> {
    fn sig(&self, l: &Labels) -> u64 {
        if self.on {
            l.hash_for_labels(self.names)
        } else {
            l.hash_without_labels(self.names, true)
        }
    }
    fn group_labels(&self, l: &Labels) -> Labels {
        if self.on {
            l.keep(self.names)
        } else {
            l.without(self.names).without_name()
        }
    }
}

/// Go's `labels.Labels.String()`: every label inside braces, the name included.
pub(crate) fn go_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if crate::series::labels::is_legacy_name(k, false) {
            s.push_str(k);
        } else {
            let _ = crate::series::labels::write_quoted(&mut s, k);
        }
        s.push('=');
        let _ = crate::series::labels::write_quoted(&mut s, v);
    }
    s.push('}');
    s
}

/// `b` is an [`Expr::Binary`]. An operator chain (`a + b + c + ...`, as deep as it is long) is evaluated
/// along its left edge in a loop: the leftmost operand first, then each operator with its right operand.
pub(crate) fn eval_binary(ev: &mut dyn Context, b: &Expr, ts: &[i64]) -> Result<Val, EvalError> {
    let mut spine = vec![b];
    let mut leftmost = b;
    while let Expr::Binary { lhs, .. } = leftmost {
        leftmost = lhs;
        if matches!(leftmost, Expr::Binary { .. }) {
            spine.push(leftmost);
        }
    }
    // Operands under a trim operator read whole histograms ([`super::histogram_stats`]): the leftmost sits
    // under every operation of the spine, each right operand under its own operation and those above it.
    let saved_path = ev.stats_path();
    let is_trim = |b: &Expr| {
        use crate::promql::syntax::TokenKind;
        matches!(
            b,
            Expr::Binary {
                op: TokenKind::TrimUpper | TokenKind::TrimLower,
                ..
            }
        )
    };
    let trims: Vec<bool> = spine
        .iter()
        .scan(false, |above, b| {
            *above |= is_trim(b);
            Some(*above)
        })
        .collect();
    if trims.last().copied().unwrap_or(false) {
        ev.set_stats_path(saved_path.blocked());
    }
    let acc = ev.eval(leftmost, ts);
    ev.set_stats_path(saved_path);
    let mut acc = acc?;
    for (b, trimmed) in spine.into_iter().zip(trims).rev() {
        ev.check_deadline()?;
        if trimmed {
            ev.set_stats_path(saved_path.blocked());
        }
        let r = eval_with_lhs(ev, b, acc, ts);
        ev.set_stats_path(saved_path);
        acc = r?;
    }
    Ok(acc)
}

/// Binary operation `b` whose left operand evaluated to `lhs`.
fn eval_with_lhs(ev: &mut dyn Context, b: &Expr, lhs: Val, ts: &[i64]) -> Result<Val, EvalError> {
    let Expr::Binary {
        op,
        rhs,
        matching,
        return_bool,
        ..
    } = b
    else {
        return Err(qerr("not a binary operation"));
    };
    let op_s = op.text().unwrap_or_default();
    let op =
        Op::parse(op_s).ok_or_else(|| EvalError::Unsupported(format!("binary operator {op_s}")))?;
    let return_bool = *return_bool;
    let rhs = ev.eval(rhs, ts)?;
    let pos = b.span().start;
    let mut refusals: Vec<Refusal> = Vec::new();
    let delayed = ev.opts().delayed_name_removal;
    // Before 2.47 `atan2` kept the metric name (shouldDropMetricName did not list it).
    let keep_name = op == Op::Atan2 && ev.opts().prometheus2(Difference::Atan2KeepsName);
    // For a vector-scalar operation: whether the scalar is on the left.
    let scalar_left = matches!(lhs, Val::Scalar(_));
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(
            l.iter()
                .zip(&r)
                .map(|(&a, &c)| {
                    let (v, keep) = apply(op, a, c);
                    if op.is_comparison() {
                        if keep {
                            1.0
                        } else {
                            0.0
                        }
                    } else {
                        v
                    }
                })
                .collect(),
        )),
        (Val::Vector(v), Val::Scalar(s)) | (Val::Scalar(s), Val::Vector(v)) => {
            let out = vector_scalar(
                v,
                &s,
                op,
                return_bool,
                scalar_left,
                delayed,
                keep_name,
                &mut refusals,
            );
            report(ev, &refusals, op_s, pos);
            Ok(Val::Vector(out))
        }
        (Val::Vector(l), Val::Vector(r)) => {
            let (on, names): (bool, &[String]) = match matching {
                Some(vm) => (vm.on, &vm.matching_labels),
                None => (false, &[]),
            };
            let m = Matching { on, names };
            if op.is_set() {
                return Ok(Val::Vector(set_op(l, r, op, &m, ts.len())));
            }
            let card = matching.as_ref().map_or(Card::OneToOne, |vm| vm.card);
            let include: &[String] = matching.as_ref().map_or(&[], |vm| &vm.include);
            let fill = matching
                .as_ref()
                .map_or((None, None), |vm| (vm.fill_lhs, vm.fill_rhs));
            let prometheus2 = ev.opts().prometheus2(Difference::FilterMatching);
            let out = vector_vector(
                l,
                r,
                op,
                return_bool,
                &m,
                card,
                include,
                fill,
                ts.len(),
                delayed,
                prometheus2,
                keep_name,
                &mut refusals,
            );
            report(ev, &refusals, op_s, pos);
            out.map(Val::Vector)
        }
        (l, r) => Err(qerr(format!(
            "binary expression must contain only scalar and instant vector types, got {} and {}",
            l.type_name(),
            r.type_name()
        ))),
    }
}

/// Remembers a refusal once.
fn note(refusals: &mut Vec<Refusal>, e: Refusal) {
    if !refusals.contains(&e) {
        refusals.push(e);
    }
}

/// Reports each pair refused during a binary operation, once per kind.
fn report(ev: &mut dyn Context, refusals: &[Refusal], op: &str, at: usize) {
    if refusals.is_empty() {
        return;
    }
    let pos = ev.pos_at(at);
    for r in refusals {
        r.report(ev, op, &pos);
    }
}

#[allow(clippy::too_many_arguments)]
fn vector_scalar(
    mut v: Vec<StepSeries>,
    s: &[f64],
    op: Op,
    return_bool: bool,
    scalar_left: bool,
    delayed: bool,
    keep_name: bool,
    refusals: &mut Vec<Refusal>,
) -> Vec<StepSeries> {
    let drop = (op.changes_schema() && !keep_name) || return_bool;
    for series in &mut v {
        let n = series.vals.len();
        if series.hists.is_empty() {
            // Floats only (the common case): no operand kinds to tell apart.
            for (val, &sv) in series.vals.iter_mut().zip(s) {
                let Some(x) = *val else { continue };
                let (l, r) = if scalar_left { (sv, x) } else { (x, sv) };
                if matches!(op, Op::TrimUpper | Op::TrimLower) {
                    note(refusals, Refusal::Incompatible("float", "float"));
                    *val = None;
                    continue;
                }
                let (res, keep) = apply(op, l, r);
                *val = if op.is_comparison() {
                    if return_bool {
                        Some(if keep { 1.0 } else { 0.0 })
                    } else if keep {
                        // The vector's value is kept even when the scalar is on the left.
                        Some(x)
                    } else {
                        None
                    }
                } else {
                    Some(res)
                };
            }
            if drop {
                if delayed {
                    series.drop_name = true;
                } else {
                    series.labels = super::context::drop_metric_name(&series.labels);
                }
            }
            continue;
        }
        for (i, &sv) in s.iter().enumerate().take(n) {
            let value = {
                let Some(x) = Operand::of(series, i) else {
                    continue;
                };
                let sv = Operand::Float(sv);
                let (l, r) = if scalar_left { (sv, x) } else { (x, sv) };
                match elem(op, l, r, refusals) {
                    Err(e) => {
                        note(refusals, e);
                        None
                    }
                    Ok((res, keep)) => {
                        if !op.is_comparison() {
                            Some(res)
                        } else if return_bool {
                            Some(Outcome::Float(if keep { 1.0 } else { 0.0 }))
                        } else if keep {
                            // The vector's value is kept even when the scalar is on the left.
                            Some(x.owned())
                        } else {
                            None
                        }
                    }
                }
            };
            match value {
                Some(v) => put(series, i, n, v),
                None => series.clear(i),
            }
        }
        if drop {
            if delayed {
                series.drop_name = true;
            } else {
                series.labels = super::context::drop_metric_name(&series.labels);
            }
        }
    }
    v.retain(StepSeries::any);
    v
}

fn set_op(
    l: Vec<StepSeries>,
    r: Vec<StepSeries>,
    op: Op,
    m: &Matching,
    n: usize,
) -> Vec<StepSeries> {
    let lsig: Vec<u64> = l.iter().map(|s| m.sig(&s.labels)).collect();
    let rsig: Vec<u64> = r.iter().map(|s| m.sig(&s.labels)).collect();
    let mut set: HashSet<u64, FxBuild> = HashSet::default();
    match op {
        Op::And | Op::Unless => {
            let mut l = l;
            for i in 0..n {
                set.clear();
                for (s, sig) in r.iter().zip(&rsig) {
                    if s.present(i) {
                        set.insert(*sig);
                    }
                }
                for (s, sig) in l.iter_mut().zip(&lsig) {
                    if s.present(i) && (set.contains(sig) != (op == Op::And)) {
                        s.clear(i);
                    }
                }
            }
            l.retain(StepSeries::any);
            l
        }
        _ => {
            let mut r = r;
            for i in 0..n {
                set.clear();
                for (s, sig) in l.iter().zip(&lsig) {
                    if s.present(i) {
                        set.insert(*sig);
                    }
                }
                for (s, sig) in r.iter_mut().zip(&rsig) {
                    if s.present(i) && set.contains(sig) {
                        s.clear(i);
                    }
                }
            }
            let mut out = l;
            out.extend(r.into_iter().filter(StepSeries::any));
            out
        }
    }
}

/// A matched pair's sample: the arithmetic result, or for a comparison the left value (or 1/0 with `bool`);
/// None when a filtering comparison drops the pair.
fn outcome(
    op: Op,
    return_bool: bool,
    lv: Operand,
    rv: Operand,
    notes: &mut Vec<Refusal>,
) -> Result<Option<Outcome>, Refusal> {
    let (res, keep) = elem(op, lv, rv, notes)?;
    Ok(verdict(op, return_bool, res, keep, Outcome::Float))
}

/// What a pair gives once the operator has run on it: the result; for a comparison the left value when it
/// holds (none when it does not), or with `bool` 1 or 0 (`number` makes the value of those).
fn verdict<T>(
    op: Op,
    return_bool: bool,
    res: T,
    keep: bool,
    number: impl FnOnce(f64) -> T,
) -> Option<T> {
    if !op.is_comparison() {
        Some(res)
    } else if return_bool {
        Some(number(if keep { 1.0 } else { 0.0 }))
    } else {
        keep.then_some(res)
    }
}

/// For each "many" series, the index of the "one" series with its signature, when no signature occurs twice
/// on either side; None otherwise.
fn unique_partners(many_sig: &[u64], one_sig: &[u64]) -> Option<Vec<Option<usize>>> {
    let mut one_by_sig: HashMap<u64, usize, FxBuild> = HashMap::default();
    for (j, &sig) in one_sig.iter().enumerate() {
        if one_by_sig.insert(sig, j).is_some() {
            return None;
        }
    }
    let mut seen: std::collections::HashSet<u64, FxBuild> = Default::default();
    let mut partner = Vec::with_capacity(many_sig.len());
    for &sig in many_sig {
        if !seen.insert(sig) {
            return None;
        }
        partner.push(one_by_sig.get(&sig).copied());
    }
    Some(partner)
}

#[allow(clippy::too_many_arguments)]
fn vector_vector(
    l: Vec<StepSeries>,
    r: Vec<StepSeries>,
    op: Op,
    return_bool: bool,
    m: &Matching,
    card: Card,
    include: &[String],
    fill: (Option<f64>, Option<f64>),
    n: usize,
    delayed: bool,
    prometheus2: bool,
    keep_name: bool,
    refusals: &mut Vec<Refusal>,
) -> Result<Vec<StepSeries>, EvalError> {
    // fill_left stands in for a missing "many" side, fill_right for a missing "one" side (so under
    // group_right they fill the right and left operands respectively), as Prometheus's tests expect.
    let (fill_many, fill_one) = fill;
    let swapped = card == Card::OneToMany;
    let one_to_one = card == Card::OneToOne;
    let (many, one) = if swapped { (r, l) } else { (l, r) };
    let many_sig: Vec<u64> = many.iter().map(|s| m.sig(&s.labels)).collect();
    let one_sig: Vec<u64> = one.iter().map(|s| m.sig(&s.labels)).collect();
    let drop = (op.changes_schema() && !keep_name) || return_bool;

    let mut out: Vec<StepSeries> = Vec::new();
    let mut pair_out: HashMap<(usize, usize), usize, FxBuild> = HashMap::default();
    let mut label_out: HashMap<Labels, usize, FxBuild> = HashMap::default();
    let mut one_at: HashMap<u64, usize, FxBuild> = HashMap::default();
    let mut matched: HashMap<u64, Vec<u64>, FxBuild> = HashMap::default();

    // The output series of a matched pair (created on first use, merged by labels).
    let output_of = |out: &mut Vec<StepSeries>,
                     label_out: &mut HashMap<Labels, usize, FxBuild>,
                     s: &StepSeries,
                     o: &StepSeries|
     -> usize {
        let mut lb = s.labels.builder();
        if drop && !delayed {
            lb.del(METRIC_NAME);
        }
        if one_to_one {
            if m.on {
                let keep_names: Vec<String> = s
                    .labels
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .filter(|k| !m.names.contains(k))
                    .collect();
                for k in keep_names {
                    lb.del(&k);
                }
            } else {
                for k in m.names {
                    lb.del(k);
                }
            }
        }
        for ln in include {
            match o.labels.get(ln) {
                Some(v) => lb.set(ln, v),
                None => lb.del(ln),
            };
        }
        let labels = lb.build();
        match label_out.get(&labels) {
            Some(&oi) => oi,
            None => {
                out.push(StepSeries {
                    labels: labels.clone(),
                    drop_name: s.drop_name || (drop && delayed),
                    vals: vec![None; n],
                    hists: StepHists::default(),
                });
                label_out.insert(labels, out.len() - 1);
                out.len() - 1
            }
        }
    };

    // Fast path: one-to-one matching without fill where no signature occurs twice on either side. Then no
    // step can have a cardinality error and every series has at most one partner for the whole range, so
    // the per-step hash lookups below are not needed. Same loop order, so the same output order.
    if one_to_one && fill_one.is_none() && fill_many.is_none() {
        if let Some(partner) = unique_partners(&many_sig, &one_sig) {
            let mut pair_oi = vec![usize::MAX; many.len()];
            for i in 0..n {
                for (k, s) in many.iter().enumerate() {
                    let Some(j) = partner[k] else { continue };
                    if s.hists.is_empty()
                        && one[j].hists.is_empty()
                        && !matches!(op, Op::TrimUpper | Op::TrimLower)
                    {
                        // Floats only (the common case): no operand kinds to tell apart.
                        let (Some(mv), Some(ov)) = (s.vals[i], one[j].vals[i]) else {
                            continue;
                        };
                        let (lv, rv) = if swapped { (ov, mv) } else { (mv, ov) };
                        let (res, keep) = apply(op, lv, rv);
                        let Some(value) = verdict(op, return_bool, res, keep, |x| x) else {
                            continue;
                        };
                        if pair_oi[k] == usize::MAX {
                            pair_oi[k] = output_of(&mut out, &mut label_out, s, &one[j]);
                        }
                        out[pair_oi[k]].vals[i] = Some(value);
                        continue;
                    }
                    let (Some(mv), Some(ov)) = (Operand::of(s, i), Operand::of(&one[j], i)) else {
                        continue;
                    };
                    let (lv, rv) = if swapped { (ov, mv) } else { (mv, ov) };
                    let value = match outcome(op, return_bool, lv, rv, refusals) {
                        Ok(Some(v)) => v,
                        Ok(None) => continue,
                        Err(e) => {
                            note(refusals, e);
                            continue;
                        }
                    };
                    if pair_oi[k] == usize::MAX {
                        pair_oi[k] = output_of(&mut out, &mut label_out, s, &one[j]);
                    }
                    put(&mut out[pair_oi[k]], i, n, value);
                }
            }
            out.retain(StepSeries::any);
            return Ok(out);
        }
    }

    for i in 0..n {
        // Prometheus short-circuits a step where either side is empty: nothing can match, so neither
        // side's duplicates are an error (`nothing + on(job) lat_bucket` is empty, not a failure).
        if fill_one.is_none()
            && fill_many.is_none()
            && (one.iter().all(|s| !s.present(i)) || many.iter().all(|s| !s.present(i)))
        {
            continue;
        }
        one_at.clear();
        matched.clear();
        for (j, s) in one.iter().enumerate() {
            if !s.present(i) {
                continue;
            }
            if let Some(&prev) = one_at.get(&one_sig[j]) {
                let side = if swapped { "left" } else { "right" };
                return Err(qerr(format!(
                    "found duplicate series for the match group {} on the {} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    go_labels(&m.group_labels(&s.labels)),
                    side,
                    go_labels(&one[prev].labels),
                    go_labels(&s.labels),
                )));
            }
            one_at.insert(one_sig[j], j);
        }
        for (k, s) in many.iter().enumerate() {
            let Some(mv) = Operand::of(s, i) else {
                continue;
            };
            let Some(&j) = one_at.get(&many_sig[k]) else {
                continue;
            };
            let Some(ov) = Operand::of(&one[j], i) else {
                continue;
            };
            let (lv, rv) = if swapped { (ov, mv) } else { (mv, ov) };
            // Prometheus (since 3.9, prometheus#17668) checks matching cardinality before filtering, so a
            // duplicate match fails even when the comparison would drop it; Prometheus 2 checked only the
            // pairs the comparison kept.
            let sig = many_sig[k];
            let mut check_one_to_one = || {
                if one_to_one {
                    if matched.contains_key(&sig) {
                        return Err(qerr("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"));
                    }
                    matched.insert(sig, Vec::new());
                }
                Ok(())
            };
            if !prometheus2 {
                check_one_to_one()?;
            }
            let value = match outcome(op, return_bool, lv, rv, refusals) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    note(refusals, e);
                    continue;
                }
            };
            if prometheus2 {
                check_one_to_one()?;
            }
            let oi = match pair_out.get(&(k, j)) {
                Some(&oi) => oi,
                None => {
                    let oi = output_of(&mut out, &mut label_out, s, &one[j]);
                    pair_out.insert((k, j), oi);
                    oi
                }
            };
            if !one_to_one {
                let e = matched.entry(sig).or_default();
                let h = oi as u64;
                if e.contains(&h) {
                    return Err(qerr(
                        "multiple matches for labels: grouping labels must ensure unique matches",
                    ));
                }
                e.push(h);
            }
            put(&mut out[oi], i, n, value);
        }
        if fill_one.is_none() && fill_many.is_none() {
            continue;
        }
        // Filled matches: a present series whose other side is missing at this step.
        let mut emit = |out: &mut Vec<StepSeries>,
                        refusals: &mut Vec<Refusal>,
                        key: (usize, usize),
                        make: &dyn Fn() -> (Labels, bool),
                        lv: Operand,
                        rv: Operand| {
            let value = match outcome(op, return_bool, lv, rv, refusals) {
                Ok(Some(v)) => v,
                Ok(None) => return,
                Err(e) => {
                    note(refusals, e);
                    return;
                }
            };
            let oi = match pair_out.get(&key) {
                Some(&oi) => oi,
                None => {
                    let (labels, dn) = make();
                    let oi = match label_out.get(&labels) {
                        Some(&oi) => oi,
                        None => {
                            out.push(StepSeries {
                                labels: labels.clone(),
                                drop_name: dn,
                                vals: vec![None; n],
                                hists: StepHists::default(),
                            });
                            label_out.insert(labels, out.len() - 1);
                            out.len() - 1
                        }
                    };
                    pair_out.insert(key, oi);
                    oi
                }
            };
            put(&mut out[oi], i, n, value);
        };
        if let Some(fv) = fill_one {
            let fv = Operand::Float(fv);
            for (k, s) in many.iter().enumerate() {
                let Some(mv) = Operand::of(s, i) else {
                    continue;
                };
                if one_at.contains_key(&many_sig[k]) {
                    continue;
                }
                let (lv, rv) = if swapped { (fv, mv) } else { (mv, fv) };
                let make = || {
                    let mut lb = s.labels.builder();
                    if drop && !delayed {
                        lb.del(METRIC_NAME);
                    }
                    if one_to_one {
                        if m.on {
                            for (name, _) in s.labels.iter() {
                                if !m.names.iter().any(|x| x == name) {
                                    lb.del(name);
                                }
                            }
                        } else {
                            for name in m.names {
                                lb.del(name);
                            }
                        }
                    }
                    for ln in include {
                        lb.del(ln);
                    }
                    (lb.build(), s.drop_name || (drop && delayed))
                };
                emit(&mut out, refusals, (k, usize::MAX), &make, lv, rv);
            }
        }
        if let Some(fv) = fill_many {
            let fv = Operand::Float(fv);
            let present: std::collections::HashSet<u64, FxBuild> = many
                .iter()
                .zip(&many_sig)
                .filter(|(s, _)| s.present(i))
                .map(|(_, sig)| *sig)
                .collect();
            for (j, s) in one.iter().enumerate() {
                let Some(ov) = Operand::of(s, i) else {
                    continue;
                };
                if present.contains(&one_sig[j]) {
                    continue;
                }
                let (lv, rv) = if swapped { (ov, fv) } else { (fv, ov) };
                let make = || (m.group_labels(&s.labels), false);
                emit(&mut out, refusals, (usize::MAX, j), &make, lv, rv);
            }
        }
    }
    out.retain(StepSeries::any);
    Ok(out)
}
