//! Evaluating a compiled path: definite paths by reference, indefinite ones by walking
//! every match (wildcards, slices, filters, `..`), then any trailing function.

use super::{Func, Segment};
use serde_json::{Map, Value};
use std::borrow::Cow;

pub(super) fn eval_path<'a>(
    segs: &[Segment],
    func: Option<Func>,
    definite: bool,
    node: &'a Value,
    root: &'a Value,
) -> Option<Cow<'a, Value>> {
    let value: Cow<'a, Value> = if definite {
        // Fast path: follow names and indexes by reference.
        let mut cur = node;
        let mut merged = None;
        for (i, seg) in segs.iter().enumerate() {
            match seg {
                Segment::Field(name) => cur = cur.as_object()?.get(name)?,
                Segment::Index(idx) => cur = index(cur.as_array()?, *idx)?,
                Segment::Fields(ns) if i + 1 == segs.len() => {
                    merged = Some(merge_fields(cur.as_object()?, ns));
                }
                _ => return None,
            }
        }
        match merged {
            Some(m) => Cow::Owned(m),
            None => Cow::Borrowed(cur),
        }
    } else {
        let mut out = Vec::new();
        walk(segs, node, root, &mut out);
        Cow::Owned(Value::Array(out.into_iter().map(Cow::into_owned).collect()))
    };
    match func {
        None => Some(value),
        Some(f) => apply_func(f, &value).map(Cow::Owned),
    }
}

pub(super) fn index(a: &[Value], i: i64) -> Option<&Value> {
    let len = a.len() as i64;
    let j = if i < 0 { len + i } else { i };
    if j < 0 {
        return None;
    }
    a.get(usize::try_from(j).ok()?)
}

fn merge_fields(m: &Map<String, Value>, names: &[String]) -> Value {
    let mut out = Map::new();
    for n in names {
        if let Some(v) = m.get(n) {
            out.insert(n.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn slice_range(len: usize, from: Option<i64>, to: Option<i64>) -> std::ops::Range<usize> {
    let len_i = len as i64;
    let norm = |v: i64| -> i64 {
        let v = if v < 0 { len_i + v } else { v };
        v.clamp(0, len_i)
    };
    let a = from.map_or(0, norm);
    let b = to.map_or(len_i, norm);
    if a >= b {
        0..0
    } else {
        (a as usize)..(b as usize)
    }
}

fn walk<'a>(segs: &[Segment], node: &'a Value, root: &'a Value, out: &mut Vec<Cow<'a, Value>>) {
    match segs.split_first() {
        None => out.push(Cow::Borrowed(node)),
        Some((first, rest)) => walk_one(first, rest, node, root, out),
    }
}

fn walk_one<'a>(
    seg: &Segment,
    rest: &[Segment],
    node: &'a Value,
    root: &'a Value,
    out: &mut Vec<Cow<'a, Value>>,
) {
    match seg {
        Segment::Field(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                walk(rest, v, root, out);
            }
        }
        Segment::Fields(names) => {
            if let Some(m) = node.as_object() {
                if rest.is_empty() {
                    out.push(Cow::Owned(merge_fields(m, names)));
                } else {
                    for n in names {
                        if let Some(v) = m.get(n) {
                            walk(rest, v, root, out);
                        }
                    }
                }
            }
        }
        Segment::Index(i) => {
            if let Some(v) = node.as_array().and_then(|a| index(a, *i)) {
                walk(rest, v, root, out);
            }
        }
        Segment::Indexes(is) => {
            if let Some(a) = node.as_array() {
                for i in is {
                    if let Some(v) = index(a, *i) {
                        walk(rest, v, root, out);
                    }
                }
            }
        }
        Segment::Wildcard => match node {
            Value::Array(a) => a.iter().for_each(|v| walk(rest, v, root, out)),
            Value::Object(m) => m.values().for_each(|v| walk(rest, v, root, out)),
            _ => {}
        },
        Segment::Slice(from, to) => {
            if let Some(a) = node.as_array() {
                if let Some(items) = a.get(slice_range(a.len(), *from, *to)) {
                    items.iter().for_each(|v| walk(rest, v, root, out));
                }
            }
        }
        Segment::Filter(f) => match node {
            Value::Array(a) => {
                for v in a {
                    if f.test(v, root) {
                        walk(rest, v, root, out);
                    }
                }
            }
            Value::Object(_) if f.test(node, root) => walk(rest, node, root, out),
            _ => {}
        },
        Segment::Scan(inner) => scan(inner, rest, node, root, out),
    }
}

/// `..inner`: apply `inner` at `node`, then at every descendant (pre-order, as Jayway).
fn scan<'a>(
    inner: &Segment,
    rest: &[Segment],
    node: &'a Value,
    root: &'a Value,
    out: &mut Vec<Cow<'a, Value>>,
) {
    match inner {
        // Jayway's scan tests filters against objects only (arrays are walked through).
        Segment::Filter(f) => {
            if node.is_object() && f.test(node, root) {
                walk(rest, node, root, out);
            }
        }
        _ => walk_one(inner, rest, node, root, out),
    }
    match node {
        Value::Array(a) => a.iter().for_each(|v| scan(inner, rest, v, root, out)),
        Value::Object(m) => m.values().for_each(|v| scan(inner, rest, v, root, out)),
        _ => {}
    }
}

fn apply_func(f: Func, v: &Value) -> Option<Value> {
    let nums = || -> Option<Vec<f64>> {
        let a = v.as_array()?;
        let ns: Vec<f64> = a.iter().filter_map(Value::as_f64).collect();
        if ns.is_empty() {
            None
        } else {
            Some(ns)
        }
    };
    match f {
        Func::Length => match v {
            Value::Array(a) => Some(Value::from(a.len())),
            Value::Object(m) => Some(Value::from(m.len())),
            _ => None,
        },
        Func::Min => nums().map(|n| Value::from(n.into_iter().fold(f64::INFINITY, f64::min))),
        Func::Max => nums().map(|n| Value::from(n.into_iter().fold(f64::NEG_INFINITY, f64::max))),
        Func::Sum => nums().map(|n| Value::from(n.into_iter().sum::<f64>())),
        Func::Avg => nums().map(|n| Value::from(n.iter().sum::<f64>() / n.len() as f64)),
        Func::Stddev => nums().map(|n| {
            let mean = n.iter().sum::<f64>() / n.len() as f64;
            let var = n.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n.len() as f64;
            Value::from(var.sqrt())
        }),
        Func::First => v.as_array()?.first().cloned(),
        Func::Last => v.as_array()?.last().cloned(),
        Func::Keys => Some(Value::Array(
            v.as_object()?
                .keys()
                .map(|k| Value::String(k.clone()))
                .collect(),
        )),
    }
}
