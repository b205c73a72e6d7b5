//! The functions AWS adds to JSONata (`$partition`, `$range`, `$hash`, `$random`, `$uuid`,
//! `$parse`), and overrides of jsonata-core's impure built-ins (`$millis`, `$random`,
//! `$shuffle`) and of `$eval`, which AWS does not offer.
//!
//! Host functions must be `'static`, so they cannot borrow the caller's `Sources`.
//! Instead the values an evaluation may need are drawn before it starts (one per call
//! site, see `analyze::Needs`); a call site run more than once (inside `$map`, a lambda…)
//! continues from a generator seeded from those drawn values, so every value still
//! derives from `Sources` and runs stay reproducible.

use std::cell::RefCell;
use std::rc::Rc;

use jsonata_core::evaluator::{EvaluatorError, HostFnResult};
use jsonata_core::value::JValue;
use stepwise_expr::Sources;

use crate::analyze::Needs;
use crate::convert::to_jvalue;

/// jsonata-js's cap on generated sequences (D2014), also applied to `$range`.
const MAX_RANGE_ITEMS: f64 = 10_000_000.0;

/// Widest `$pad` (characters): one call makes its whole string before the evaluation's
/// memory budget is looked at again, so a wider one fails before anything is allocated.
const MAX_PAD_WIDTH: f64 = (crate::limits::EVAL_MEMORY_BUDGET / 8) as f64;

/// `$pad` with its width bounded ([`MAX_PAD_WIDTH`]); jsonata-core's own does the rest.
fn pad(args: &[JValue]) -> HostFnResult {
    if let Some(JValue::Number(w)) = args.get(1) {
        if w.abs() > MAX_PAD_WIDTH {
            return Err(EvaluatorError::EvaluationError(format!(
                "The width of $pad must not exceed {MAX_PAD_WIDTH} characters (the memory one evaluation may use)"
            )));
        }
    }
    builtin("pad", args)
}

/// Longest string `$join` or `$replace` may make (bytes), for the same reason as
/// [`MAX_PAD_WIDTH`].
const MAX_JOIN_BYTES: usize = crate::limits::EVAL_MEMORY_BUDGET / 2;

/// The host function `$join(…)` calls are rewritten to (see `analyze::rewrite`):
/// `$join` with its result's length bounded ([`MAX_JOIN_BYTES`]), checked before any
/// of it is made; jsonata-core's own does the rest.
pub(crate) const BOUNDED_JOIN: &str = "stepwise·join";

fn bounded_join(args: &[JValue]) -> HostFnResult {
    if let Some(JValue::Array(items)) = args.first() {
        let sep = match args.get(1) {
            Some(JValue::String(s)) => s.len(),
            _ => 0,
        };
        let strings: usize = items
            .iter()
            .map(|v| match v {
                JValue::String(s) => s.len(),
                _ => 0,
            })
            .sum();
        let total = strings.saturating_add(sep.saturating_mul(items.len().saturating_sub(1)));
        if total > MAX_JOIN_BYTES {
            return Err(EvaluatorError::EvaluationError(format!(
                "The result of $join must not exceed {MAX_JOIN_BYTES} bytes (the memory one evaluation may use)"
            )));
        }
    }
    builtin("join", args)
}

/// `$replace` with its result's length bounded ([`MAX_JOIN_BYTES`]) when the
/// replacement is a string: a generous bound first, and when that is over, the bound
/// from what the pattern really matches (a `$` in the replacement may repeat a match or
/// a group of it). A function replacement is bounded only by the memory budget.
fn replace(args: &[JValue]) -> HostFnResult {
    if let (Some(JValue::String(text)), Some(pattern), Some(JValue::String(with))) =
        (args.first(), args.get(1), args.get(2))
    {
        let dollars = with.matches('$').count();
        let limit = match args.get(3) {
            Some(JValue::Number(n)) if *n >= 0.0 => Some(*n as usize),
            _ => None,
        };
        let most = limit.map_or(text.len() + 1, |l| l.min(text.len() + 1));
        let bound = |count: usize, matched: usize| {
            text.len()
                .saturating_add(count.saturating_mul(with.len()))
                .saturating_add(dollars.saturating_mul(matched))
        };
        if bound(most, most.saturating_mul(text.len())) > MAX_JOIN_BYTES {
            let (count, matched) = match pattern {
                JValue::String(p) if !p.is_empty() => {
                    let n = text.matches(&**p).take(most).count();
                    (n, n * p.len())
                }
                JValue::Regex { .. } => {
                    let mut margs = vec![args[0].clone(), args[1].clone()];
                    margs.extend(limit.map(|l| JValue::Number(l as f64)));
                    let lengths: Vec<usize> = match builtin("match", &margs)? {
                        JValue::Array(ms) => ms.iter().map(match_len).collect(),
                        m => vec![match_len(&m)],
                    };
                    (lengths.len(), lengths.iter().sum())
                }
                _ => (0, 0),
            };
            if bound(count, matched) > MAX_JOIN_BYTES {
                return Err(EvaluatorError::EvaluationError(format!(
                    "The result of $replace must not exceed {MAX_JOIN_BYTES} bytes (the memory one evaluation may use)"
                )));
            }
        }
    }
    builtin("replace", args)
}

/// The length of one `$match` result's `match`.
fn match_len(m: &JValue) -> usize {
    match m {
        JValue::Object(o) => match o.get("match") {
            Some(JValue::String(s)) => s.len(),
            _ => 0,
        },
        _ => 0,
    }
}

/// jsonata-core's built-in `name` applied to `args`, through a nested evaluation of
/// `$name($a, $b, …)`, so its checks and messages stay exactly as they are.
fn builtin(name: &str, args: &[JValue]) -> HostFnResult {
    const NAMES: [&str; 4] = ["a", "b", "c", "d"];
    let n = args.len().min(NAMES.len());
    let params: Vec<String> = NAMES[..n].iter().map(|v| format!("${v}")).collect();
    let call = format!("${name}({})", params.join(", "));
    let ast = jsonata_core::parser::parse(&call)
        .map_err(|e| EvaluatorError::EvaluationError(e.to_string()))?;
    let mut context = jsonata_core::evaluator::Context::new();
    for (name, v) in NAMES.iter().zip(args) {
        context.bind(name.to_string(), v.clone());
    }
    jsonata_core::evaluator::Evaluator::with_options(context, Default::default())
        .evaluate(&ast, &JValue::Undefined)
}

/// Values drawn from `Sources` for one evaluation.
pub(crate) struct Draws {
    now_millis: i64,
    uuids: std::vec::IntoIter<String>,
    randoms: std::vec::IntoIter<f64>,
    rng: SplitMix64,
}

impl Draws {
    pub(crate) fn take(needs: &Needs, sources: &mut dyn Sources) -> Draws {
        let now_millis = if needs.now { sources.now_millis() } else { 0 };
        let uuids: Vec<String> = (0..needs.uuids).map(|_| sources.uuid()).collect();
        let randoms: Vec<f64> = (0..needs.randoms).map(|_| sources.random()).collect();
        // Seed the overflow generator from everything drawn (FNV-1a).
        let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |bytes: &[u8]| {
            for b in bytes {
                seed = (seed ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        mix(&now_millis.to_le_bytes());
        uuids.iter().for_each(|u| mix(u.as_bytes()));
        randoms.iter().for_each(|r| mix(&r.to_bits().to_le_bytes()));
        Draws {
            now_millis,
            uuids: uuids.into_iter(),
            randoms: randoms.into_iter(),
            rng: SplitMix64(seed),
        }
    }

    fn random(&mut self) -> f64 {
        match self.randoms.next() {
            Some(r) => r,
            None => self.rng.unit(),
        }
    }

    fn uuid(&mut self) -> String {
        match self.uuids.next() {
            Some(u) => u,
            None => {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
                bytes[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes());
                bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
                bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            }
        }
    }
}

/// A small, well-mixed generator for values beyond those drawn up front.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `java.util.Random(seed).nextDouble()`: the same seed always gives the same number.
/// (AWS's `$random(seed)` is deterministic per seed; its generator is not documented.)
fn seeded_random(seed: i64) -> f64 {
    const MULT: i64 = 0x5_DEEC_E66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut state = (seed ^ MULT) & MASK;
    let mut next = |bits: u32| -> i64 {
        state = (state.wrapping_mul(MULT).wrapping_add(0xB)) & MASK;
        state >> (48 - bits)
    };
    let hi = next(26);
    let lo = next(27);
    ((hi << 27) + lo) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn err(msg: impl Into<String>) -> EvaluatorError {
    EvaluatorError::EvaluationError(msg.into())
}

/// jsonata-js's wording for an argument that does not fit the signature.
fn bad_arg(index: usize, function: &str) -> EvaluatorError {
    EvaluatorError::TypeError(format!(
        "T0410: Argument {index} of function \"{function}\" does not match function signature"
    ))
}

fn arity(args: &[JValue], max: usize, function: &str) -> Result<(), EvaluatorError> {
    if args.len() > max {
        Err(bad_arg(max + 1, function))
    } else {
        Ok(())
    }
}

/// An integer argument (JSONata has only f64).
fn integer(v: Option<&JValue>, index: usize, function: &str) -> Result<f64, EvaluatorError> {
    match v {
        Some(JValue::Number(n)) if n.is_finite() && n.fract() == 0.0 => Ok(*n),
        _ => Err(bad_arg(index, function)),
    }
}

fn number(v: Option<&JValue>, index: usize, function: &str) -> Result<f64, EvaluatorError> {
    match v {
        Some(JValue::Number(n)) if n.is_finite() => Ok(*n),
        _ => Err(bad_arg(index, function)),
    }
}

/// `$partition(array, size)`: chunks of `size` items, the last one possibly shorter.
fn partition(args: &[JValue]) -> HostFnResult {
    arity(args, 2, "partition")?;
    let items: Vec<JValue> = match args.first() {
        None | Some(JValue::Undefined) => return Ok(JValue::Undefined),
        Some(JValue::Array(a)) => a.iter().cloned().collect(),
        // A JSONata array parameter takes a single value as a one-item array.
        Some(other) => vec![other.clone()],
    };
    let size = integer(args.get(1), 2, "partition")?;
    if size < 1.0 {
        return Err(err(
            "D3050: The second argument of $partition must be a positive integer",
        ));
    }
    let size = if size >= items.len() as f64 {
        items.len().max(1)
    } else {
        size as usize
    };
    let chunks = items
        .chunks(size)
        .map(|c| JValue::array(c.to_vec()))
        .collect();
    Ok(JValue::array(chunks))
}

/// `$range(start, end, step)`: `start, start+step, …` up to and including `end`.
/// Returned as a sequence, so a single value comes out unwrapped (AWS: `$range(1, 9, 9)`
/// is `1`).
fn range(args: &[JValue]) -> HostFnResult {
    arity(args, 3, "range")?;
    let start = number(args.first(), 1, "range")?;
    let end = number(args.get(1), 2, "range")?;
    let step = number(args.get(2), 3, "range")?;
    if step == 0.0 {
        return Err(err("D3050: The step argument of $range must not be zero"));
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count.is_nan() || count < 1.0 {
        return Ok(JValue::sequence(Vec::new()));
    }
    if count > MAX_RANGE_ITEMS {
        return Err(err(format!(
            "D2014: The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {count}."
        )));
    }
    let items = (0..count as usize)
        .map(|i| JValue::Number(start + i as f64 * step))
        .collect();
    Ok(JValue::sequence(items))
}

/// `$hash(value, algorithm)`: lowercase hex digest of a string.
fn hash(args: &[JValue]) -> HostFnResult {
    arity(args, 2, "hash")?;
    let data = match args.first() {
        None | Some(JValue::Undefined) => return Ok(JValue::Undefined),
        Some(JValue::String(s)) => s.clone(),
        Some(_) => return Err(bad_arg(1, "hash")),
    };
    let algorithm = match args.get(1) {
        Some(JValue::String(a)) => a.clone(),
        _ => return Err(bad_arg(2, "hash")),
    };
    match stepwise_expr::hash::hex_digest(&algorithm, data.as_bytes()) {
        Some(hex) => Ok(JValue::string(hex)),
        None => Err(err(format!(
            "D3050: The hash algorithm '{algorithm}' is not supported. Supported algorithms: {}",
            stepwise_expr::hash::ALGORITHMS.join(", ")
        ))),
    }
}

/// `$parse(jsonString)`: the JSON value a string holds.
fn parse(args: &[JValue]) -> HostFnResult {
    arity(args, 1, "parse")?;
    match args.first() {
        None | Some(JValue::Undefined) => Ok(JValue::Undefined),
        Some(JValue::String(s)) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(v) => Ok(to_jvalue(&v)),
            Err(e) => Err(err(format!(
                "D3050: The argument of $parse is not valid JSON: {e}"
            ))),
        },
        Some(_) => Err(bad_arg(1, "parse")),
    }
}

/// Register AWS's functions and the overrides on `ev`, drawing from `draws`.
/// Only the functions named in the expression are registered: a function can only be
/// reached through its name.
pub(crate) fn register(
    ev: &mut jsonata_core::evaluator::Evaluator,
    needs: &Needs,
    draws: Rc<RefCell<Draws>>,
) -> Result<(), EvaluatorError> {
    let uses = |name: &str| needs.names.contains(name);
    if uses("partition") {
        ev.register_fn("partition", partition)?;
    }
    if uses("range") {
        ev.register_fn("range", range)?;
    }
    if uses("hash") {
        ev.register_fn("hash", hash)?;
    }
    if uses("parse") {
        ev.register_fn("parse", parse)?;
    }
    if uses("pad") {
        ev.register_fn_override("pad", pad)?;
    }
    if uses("replace") {
        ev.register_fn_override("replace", replace)?;
    }
    if uses(BOUNDED_JOIN) {
        ev.register_fn(BOUNDED_JOIN, bounded_join)?;
    }
    if uses("eval") {
        // AWS: "$eval is not available — use $parse instead".
        ev.register_fn_override("eval", |_args: &[JValue]| {
            Err(EvaluatorError::ReferenceError(
                "T1006: Attempted to invoke a non-function".into(),
            ))
        })?;
    }
    if !(uses("uuid") || uses("random") || uses("millis") || uses("shuffle")) {
        return Ok(());
    }
    let d = Rc::clone(&draws);
    ev.register_fn("uuid", move |args: &[JValue]| {
        arity(args, 0, "uuid")?;
        Ok(JValue::string(d.borrow_mut().uuid()))
    })?;
    let d = Rc::clone(&draws);
    ev.register_fn_override("random", move |args: &[JValue]| {
        arity(args, 1, "random")?;
        match args.first() {
            None | Some(JValue::Undefined) => Ok(JValue::Number(d.borrow_mut().random())),
            seed => {
                let seed = integer(seed, 1, "random")?;
                // Out-of-range seeds saturate; only the low 48 bits matter anyway.
                Ok(JValue::Number(seeded_random(seed as i64)))
            }
        }
    })?;
    let d = Rc::clone(&draws);
    ev.register_fn_override("millis", move |args: &[JValue]| {
        arity(args, 0, "millis")?;
        Ok(JValue::Number(d.borrow().now_millis as f64))
    })?;
    let d = Rc::clone(&draws);
    ev.register_fn_override("shuffle", move |args: &[JValue]| {
        arity(args, 1, "shuffle")?;
        match args.first() {
            None | Some(JValue::Undefined) => Ok(JValue::Undefined),
            Some(JValue::Array(a)) if a.len() > 1 => {
                let mut items: Vec<JValue> = a.iter().cloned().collect();
                let mut d = d.borrow_mut();
                // Fisher–Yates, one draw per swap.
                for i in (1..items.len()).rev() {
                    let j = ((d.random() * (i + 1) as f64) as usize).min(i);
                    items.swap(i, j);
                }
                Ok(JValue::array(items))
            }
            Some(other) => Ok(other.clone()),
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_matches_java_util_random() {
        // new java.util.Random(42).nextDouble() == 0.7275636800328681
        assert_eq!(seeded_random(42), 0.7275636800328681);
        // new java.util.Random(0).nextDouble() == 0.730967787376657
        assert_eq!(seeded_random(0), 0.730967787376657);
        assert!((0.0..1.0).contains(&seeded_random(-7)));
    }

    #[test]
    fn overflow_uuids_are_v4() {
        struct S;
        impl Sources for S {
            fn now_millis(&mut self) -> i64 {
                0
            }
            fn uuid(&mut self) -> String {
                "u".into()
            }
            fn random(&mut self) -> f64 {
                0.5
            }
        }
        let needs = Needs {
            uuids: 1,
            ..Needs::default()
        };
        let mut d = Draws::take(&needs, &mut S);
        assert_eq!(d.uuid(), "u");
        let u = d.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, d.uuid());
        let r = d.random();
        assert!((0.0..1.0).contains(&r));
    }
}
