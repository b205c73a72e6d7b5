//! JSONPath as AWS Step Functions evaluates it (Jayway-flavoured, not RFC 9535).
//!
//! AWS runs Jayway JsonPath, so its rules apply here rather than RFC 9535's:
//! - Roots: `$` (the state input), `$$` (the Context object) and `$name` (a variable).
//! - A *definite* path (only names and single indexes, or a multi-name `['a','b']` as its
//!   last step) yields one value, or nothing when absent; an *indefinite* path (wildcard,
//!   slice, filter, index union, `..`) yields an array of every match, possibly empty —
//!   which is why `$.items[*]` on `{}` is `[]` while `$.items` is "not found".
//! - `['a','b']` as the last step merges the named fields present into one object.
//! - Negative indexes count from the end; slices are `[from:to]` without a step.
//! - Names in brackets are taken verbatim: a backslash only stops the quote from ending
//!   the name (AWS matches `$['a\"b']` against the key `a\"b`).
//! - Filters `[?(…)]` support `@`/`$` paths, literals, `==`, `!=`, `<`, `<=`, `>`, `>=`,
//!   `=~ /re/i` (whole-string match, as Java's `Matcher.matches`), `in`, `nin`,
//!   `subsetof`, `anyof`, `noneof`, `contains`, `size`, `empty`, `!`, `&&`, `||`, and
//!   existence (`[?(@.isbn)]`). On an object a filter tests the object itself.
//! - Trailing functions as Jayway: `length()`, `size()`, `min()`, `max()`, `avg()`,
//!   `sum()`, `stddev()`, `first()`, `last()`, `keys()`.
//! - [`JsonPath::normalized`] prints Jayway's normalized form (`$['a'][0]`), which AWS
//!   quotes in "Invalid path '$.a' : No results for path: $['a']".
//! - [`JsonPath::set`] is ResultPath: it creates missing objects on the way and fails
//!   with `States.ResultPathMatchFailure` ("Unable to apply ReferencePath … to input …")
//!   when the path crosses a value that is not an object (or an index out of range).

use crate::error::names;
use crate::{Scope, StatesError};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$` — the state input (or whatever value the caller binds as input).
    Input,
    /// `$$` — the Context object.
    Context,
    /// `$name` — a variable set by `Assign`.
    Variable(String),
}

/// A parse failure, with AWS-like wording in `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PathError {
    pub message: String,
}

fn perr<T>(msg: impl Into<String>) -> Result<T, PathError> {
    Err(PathError {
        message: msg.into(),
    })
}

/// One step of a compiled path.
#[derive(Debug, Clone)]
enum Segment {
    /// `.a` or `['a']`
    Field(String),
    /// `['a','b']`
    Fields(Vec<String>),
    /// `[0]`, `[-1]`
    Index(i64),
    /// `[0,2]`
    Indexes(Vec<i64>),
    /// `.*` or `[*]`
    Wildcard,
    /// `[from:to]`
    Slice(Option<i64>, Option<i64>),
    /// `[?(…)]`
    Filter(Box<Filter>),
    /// `..x`: the inner step applied at every level.
    Scan(Box<Segment>),
}

/// A trailing Jayway function such as `.length()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    Stddev,
    First,
    Last,
    Keys,
}

/// A compiled JSONPath expression.
#[derive(Debug, Clone)]
pub struct JsonPath {
    src: String,
    root: Root,
    segments: Vec<Segment>,
    func: Option<Func>,
    definite: bool,
}

impl PartialEq for JsonPath {
    fn eq(&self, other: &Self) -> bool {
        self.src == other.src
    }
}

impl JsonPath {
    /// Parse `src` (e.g. `$.a.b[0]`, `$$.Execution.Id`, `$var.x`, `$.items[*].id`).
    pub fn parse(src: &str) -> Result<JsonPath, PathError> {
        let text = src.trim();
        let mut p = Parser::new(text, false);
        let root = p.root()?;
        let (segments, func) = p.tail()?;
        if !p.at_end() {
            return perr(format!(
                "Unexpected character at position {} in path {text}",
                p.pos
            ));
        }
        let definite = is_definite(&segments);
        Ok(JsonPath {
            src: src.to_string(),
            root,
            segments,
            func,
            definite,
        })
    }
    /// The text as written in the definition.
    pub fn as_str(&self) -> &str {
        &self.src
    }
    pub fn root(&self) -> &Root {
        &self.root
    }
    /// True when the path names at most one location (no wildcard, slice, filter, union, `..`).
    pub fn is_definite(&self) -> bool {
        self.definite
    }
    /// True for the bare root (`$`, `$$`, `$name`) with no steps.
    pub fn is_root_only(&self) -> bool {
        self.segments.is_empty() && self.func.is_none()
    }
    /// True when the path is a *reference path* as ResultPath needs: `$`-rooted, only
    /// names and single indexes, no function.
    pub fn is_reference_path(&self) -> bool {
        self.root == Root::Input
            && self.func.is_none()
            && self
                .segments
                .iter()
                .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)))
    }
    /// Jayway semantics: a definite path yields `Some(value)` or `None` when nothing is
    /// there; an indefinite path yields `Some(Value::Array(matches))` (possibly empty).
    pub fn select(&self, scope: &Scope) -> Option<Value> {
        let root = match &self.root {
            Root::Input => scope.input,
            Root::Context => scope.context,
            Root::Variable(name) => scope.vars.get(name)?,
        };
        self.select_in(root)
    }
    /// Like `select`, applied directly to `root` whatever the path's [`Root`].
    pub fn select_in(&self, root: &Value) -> Option<Value> {
        eval_path(&self.segments, self.func, self.definite, root, root).map(Cow::into_owned)
    }
    /// Like `select_in`, without cloning when the result is a single stored value.
    pub fn select_ref<'a>(&self, root: &'a Value) -> Option<Cow<'a, Value>> {
        eval_path(&self.segments, self.func, self.definite, root, root)
    }
    /// Like `select_in` on a value the caller owns: a plain path of names and indexes
    /// moves the selected value out instead of copying it.
    pub fn take_in(&self, mut root: Value) -> Option<Value> {
        let plain = self.func.is_none()
            && self
                .segments
                .iter()
                .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)));
        if !plain {
            return self.select_in(&root);
        }
        let mut cur = &mut root;
        for seg in &self.segments {
            cur = match seg {
                Segment::Field(name) => cur.as_object_mut()?.get_mut(name)?,
                Segment::Index(idx) => {
                    let arr = cur.as_array_mut()?;
                    let len = arr.len() as i64;
                    let i = if *idx < 0 { len + idx } else { *idx };
                    if i < 0 || i >= len {
                        return None;
                    }
                    arr.get_mut(i as usize)?
                }
                _ => return None,
            };
        }
        Some(std::mem::take(cur))
    }
    /// Jayway's normalized form: `$['a']['b'][0]`, `$[*]`, `$..['x']`, `$[?]`.
    pub fn normalized(&self) -> String {
        let mut s = match &self.root {
            Root::Input => "$".to_string(),
            Root::Context => "$$".to_string(),
            Root::Variable(n) => format!("${n}"),
        };
        for seg in &self.segments {
            write_normalized(seg, &mut s);
        }
        if let Some(f) = self.func {
            s.push('.');
            s.push_str(func_name(f));
            s.push_str("()");
        }
        s
    }
    /// AWS's cause when InputPath/OutputPath (or another plain path field) selects
    /// nothing: `Invalid path '$.x' : No results for path: $['x']`.
    pub fn no_results_cause(&self) -> String {
        format!(
            "Invalid path '{}' : No results for path: {}",
            self.src,
            self.normalized()
        )
    }
    /// Write `value` at this (definite, `$`-rooted) path inside `target`, creating objects
    /// on the way as `ResultPath` does. Fails with `States.ResultPathMatchFailure` and AWS's
    /// cause text when the path crosses a non-object.
    pub fn set(&self, target: &mut Value, value: Value) -> Result<(), StatesError> {
        if !self.is_reference_path() || !can_set(&self.segments, target) {
            return Err(StatesError::new(
                names::RESULT_PATH_MATCH_FAILURE,
                format!(
                    "Unable to apply ReferencePath {} to input {}",
                    self.src.trim(),
                    crate::template::aws_json(target)
                ),
            ));
        }
        set_checked(&self.segments, target, value);
        Ok(())
    }
}

fn is_definite(segs: &[Segment]) -> bool {
    let n = segs.len();
    segs.iter().enumerate().all(|(i, s)| match s {
        Segment::Field(_) | Segment::Index(_) => true,
        // Jayway: a multi-name step is a "merge" (definite) only as the last step.
        Segment::Fields(_) => i + 1 == n,
        _ => false,
    })
}

fn func_name(f: Func) -> &'static str {
    match f {
        Func::Length => "length",
        Func::Min => "min",
        Func::Max => "max",
        Func::Avg => "avg",
        Func::Sum => "sum",
        Func::Stddev => "stddev",
        Func::First => "first",
        Func::Last => "last",
        Func::Keys => "keys",
    }
}

fn write_normalized(seg: &Segment, s: &mut String) {
    match seg {
        Segment::Field(n) => {
            s.push_str("['");
            s.push_str(n);
            s.push_str("']");
        }
        Segment::Fields(ns) => {
            s.push('[');
            for (i, n) in ns.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push('\'');
                s.push_str(n);
                s.push('\'');
            }
            s.push(']');
        }
        Segment::Index(i) => s.push_str(&format!("[{i}]")),
        Segment::Indexes(is) => {
            let parts: Vec<String> = is.iter().map(|i| i.to_string()).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        }
        Segment::Wildcard => s.push_str("[*]"),
        Segment::Slice(a, b) => {
            s.push('[');
            if let Some(a) = a {
                s.push_str(&a.to_string());
            }
            s.push(':');
            if let Some(b) = b {
                s.push_str(&b.to_string());
            }
            s.push(']');
        }
        Segment::Filter(_) => s.push_str("[?]"),
        Segment::Scan(inner) => {
            s.push_str("..");
            write_normalized(inner, s);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation

fn eval_path<'a>(
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

fn index(a: &[Value], i: i64) -> Option<&Value> {
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

// ---------------------------------------------------------------------------------------
// ResultPath

fn can_set(segs: &[Segment], node: &Value) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return true;
    };
    match first {
        Segment::Field(name) => match node.as_object() {
            Some(m) => match m.get(name) {
                Some(child) => can_set(rest, child),
                // A created object can only take names below it.
                None => rest.iter().all(|s| matches!(s, Segment::Field(_))),
            },
            None => false,
        },
        Segment::Index(i) => match node.as_array().and_then(|a| index(a, *i)) {
            Some(child) => can_set(rest, child),
            None => false,
        },
        _ => false,
    }
}

/// Performs the write that `can_set` approved.
fn set_checked(segs: &[Segment], node: &mut Value, value: Value) {
    let Some((first, rest)) = segs.split_first() else {
        *node = value;
        return;
    };
    match (first, node) {
        (Segment::Field(name), Value::Object(m)) => {
            let child = m
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            set_checked(rest, child, value);
        }
        (Segment::Index(i), Value::Array(a)) => {
            let len = a.len() as i64;
            let j = if *i < 0 { len + i } else { *i };
            if let Some(child) = usize::try_from(j).ok().and_then(|j| a.get_mut(j)) {
                set_checked(rest, child, value);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Filters

#[derive(Debug, Clone)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Contains,
    Size,
    Empty,
}

#[derive(Debug, Clone)]
enum Operand {
    /// `@…` (current item) or `$…` (document root).
    Path {
        current: bool,
        segments: Vec<Segment>,
        func: Option<Func>,
        definite: bool,
    },
    Literal(Value),
    Regex(regex::Regex),
}

impl Operand {
    fn eval<'a>(&self, cur: &'a Value, root: &'a Value) -> Option<Cow<'a, Value>> {
        match self {
            Operand::Path {
                current,
                segments,
                func,
                definite,
            } => {
                let base = if *current { cur } else { root };
                eval_path(segments, *func, *definite, base, root)
            }
            Operand::Literal(v) => Some(Cow::Owned(v.clone())),
            Operand::Regex(_) => None,
        }
    }
}

impl Filter {
    fn test(&self, cur: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.test(cur, root) || b.test(cur, root),
            Filter::And(a, b) => a.test(cur, root) && b.test(cur, root),
            Filter::Not(a) => !a.test(cur, root),
            Filter::Exists(op) => match op {
                Operand::Path { definite, .. } => match op.eval(cur, root) {
                    None => false,
                    Some(v) => *definite || v.as_array().is_some_and(|a| !a.is_empty()),
                },
                Operand::Literal(Value::Bool(b)) => *b,
                Operand::Literal(_) => true,
                Operand::Regex(_) => false,
            },
            Filter::Cmp(l, op, r) => compare(l, *op, r, cur, root),
        }
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        // Jayway compares a number with a numeric string by value.
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => {
            s.trim().parse::<f64>().ok() == x.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q))
        }
        _ => a == b,
    }
}

fn contains(list: &[Value], v: &Value) -> bool {
    list.iter().any(|x| loose_eq(x, v))
}

fn compare(l: &Operand, op: CmpOp, r: &Operand, cur: &Value, root: &Value) -> bool {
    if op == CmpOp::Regex {
        let Operand::Regex(re) = r else { return false };
        return match l.eval(cur, root).as_deref() {
            Some(Value::String(s)) => re.is_match(s),
            _ => false,
        };
    }
    let lv = l.eval(cur, root);
    let rv = r.eval(cur, root);
    let (lv, rv) = match (lv.as_deref(), rv.as_deref()) {
        (Some(a), Some(b)) => (a, b),
        // An absent side makes every comparison false except `!=` and `nin`.
        _ => return matches!(op, CmpOp::Ne | CmpOp::Nin),
    };
    match op {
        CmpOp::Eq => loose_eq(lv, rv),
        CmpOp::Ne => !loose_eq(lv, rv),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (lv, rv) {
                (Value::Number(a), Value::Number(b)) => a
                    .as_f64()
                    .zip(b.as_f64())
                    .and_then(|(a, b)| a.partial_cmp(&b)),
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                _ => None,
            };
            let Some(ord) = ord else { return false };
            match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
        CmpOp::In => rv.as_array().is_some_and(|a| contains(a, lv)),
        CmpOp::Nin => !rv.as_array().is_some_and(|a| contains(a, lv)),
        CmpOp::SubsetOf => match (lv.as_array(), rv.as_array()) {
            (Some(a), Some(b)) => a.iter().all(|x| contains(b, x)),
            _ => false,
        },
        CmpOp::AnyOf => match (lv.as_array(), rv.as_array()) {
            (Some(a), Some(b)) => a.iter().any(|x| contains(b, x)),
            _ => false,
        },
        CmpOp::NoneOf => match (lv.as_array(), rv.as_array()) {
            (Some(a), Some(b)) => !a.iter().any(|x| contains(b, x)),
            _ => false,
        },
        CmpOp::Contains => match (lv, rv) {
            (Value::Array(a), v) => contains(a, v),
            (Value::String(a), Value::String(b)) => a.contains(b.as_str()),
            _ => false,
        },
        CmpOp::Size => {
            let n = match lv {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            rv.as_f64() == Some(n as f64)
        }
        CmpOp::Empty => {
            let empty = match lv {
                Value::Array(a) => a.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            rv.as_bool() == Some(empty)
        }
        CmpOp::Regex => false,
    }
}

// ---------------------------------------------------------------------------------------
// Parser

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    /// Inside a filter, names also stop at spaces and operator characters.
    in_filter: bool,
    /// Nesting of filters, parentheses and lists, bounded so hostile text cannot
    /// exhaust the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl<'s> Parser<'s> {
    fn new(src: &'s str, in_filter: bool) -> Self {
        Parser {
            src,
            pos: 0,
            in_filter,
            depth: 0,
        }
    }
    fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }
    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }
    fn err<T>(&self, what: &str) -> Result<T, PathError> {
        perr(format!(
            "{what} at position {} in path {}",
            self.pos, self.src
        ))
    }

    fn root(&mut self) -> Result<Root, PathError> {
        if !self.eat('$') {
            return perr(format!("Path must start with '$': {}", self.src));
        }
        if self.eat('$') {
            return Ok(Root::Context);
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                self.bump();
            } else {
                break;
            }
        }
        if self.pos > start {
            let name = self.src.get(start..self.pos).unwrap_or("").to_string();
            return Ok(Root::Variable(name));
        }
        Ok(Root::Input)
    }

    /// Steps after the root, up to the end or (in a filter) to a delimiter.
    fn tail(&mut self) -> Result<(Vec<Segment>, Option<Func>), PathError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some('.') => {
                    if self.eat_str("..") {
                        if self.at_end() {
                            return self.err("Path must not end with a '..'");
                        }
                        let inner = if self.eat('[') {
                            self.bracket()?
                        } else if self.eat('*') {
                            Segment::Wildcard
                        } else {
                            Segment::Field(self.name()?)
                        };
                        segs.push(Segment::Scan(Box::new(inner)));
                    } else {
                        self.bump();
                        if self.at_end() {
                            return self.err("Path must not end with a '.'");
                        }
                        if self.eat('*') {
                            segs.push(Segment::Wildcard);
                        } else if self.eat('[') {
                            segs.push(self.bracket()?);
                        } else {
                            let name = self.name()?;
                            if self.peek() == Some('(') {
                                let f = self.func(&name)?;
                                return Ok((segs, Some(f)));
                            }
                            segs.push(Segment::Field(name));
                        }
                    }
                }
                Some('[') => {
                    self.bump();
                    segs.push(self.bracket()?);
                }
                Some(_) if self.in_filter => break,
                // Jayway reads a name straight after a bracket as a property step
                // (`$.a[0]b` is `$.a[0].b`), and so does AWS.
                Some(c) if !segs.is_empty() && (c.is_alphanumeric() || c == '_' || c == '$') => {
                    segs.push(Segment::Field(self.name()?));
                }
                Some(_) => return self.err("Unexpected character"),
            }
        }
        Ok((segs, None))
    }

    fn name(&mut self) -> Result<String, PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop = c == '.' || c == '[' || c == '(';
            let filter_stop = self.in_filter && (c.is_whitespace() || "),]=!<>&|".contains(c));
            if stop || filter_stop {
                break;
            }
            if c.is_whitespace() {
                return self.err(
                    "Use bracket notion ['my prop'] if your property contains blank characters",
                );
            }
            self.bump();
        }
        if self.pos == start {
            return self.err("Expected a property name");
        }
        Ok(self.src.get(start..self.pos).unwrap_or("").to_string())
    }

    fn func(&mut self, name: &str) -> Result<Func, PathError> {
        let f = match name {
            "length" | "size" => Func::Length,
            "min" => Func::Min,
            "max" => Func::Max,
            "avg" => Func::Avg,
            "sum" => Func::Sum,
            "stddev" => Func::Stddev,
            "first" => Func::First,
            "last" => Func::Last,
            "keys" => Func::Keys,
            _ => return self.err(&format!("Function with name: {name} does not exist")),
        };
        self.eat('(');
        self.skip_ws();
        if !self.eat(')') {
            return self.err("Function arguments are not supported");
        }
        // A function ends the path (spaces may follow inside a filter).
        if !self.in_filter && !self.at_end() {
            return self.err("A function must be the last step of a path");
        }
        Ok(f)
    }

    /// After `[`: `'a'`, `'a','b'`, `*`, `0`, `0,1`, `1:3`, `?(…)`, up to and including `]`.
    fn bracket(&mut self) -> Result<Segment, PathError> {
        self.skip_ws();
        let seg = match self.peek() {
            Some('?') => {
                self.bump();
                self.skip_ws();
                if !self.eat('(') {
                    return self.err("Expected '(' after '?'");
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(')') {
                    return self.err("Expected ')' to close the filter");
                }
                Segment::Filter(Box::new(f))
            }
            Some(q @ ('\'' | '"')) => {
                let mut names = Vec::new();
                loop {
                    self.skip_ws();
                    if !self.eat(q) {
                        return self.err("Expected a quoted property name");
                    }
                    names.push(self.quoted_raw(q)?);
                    self.skip_ws();
                    if !self.eat(',') {
                        break;
                    }
                }
                if names.len() == 1 {
                    Segment::Field(names.pop().unwrap_or_default())
                } else {
                    Segment::Fields(names)
                }
            }
            Some('*') => {
                self.bump();
                Segment::Wildcard
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ']') {
                    self.bump();
                }
                let body = self.src.get(start..self.pos).unwrap_or("").trim();
                self.index_body(body)?
            }
        };
        self.skip_ws();
        if !self.eat(']') {
            return self.err("Expected ']'");
        }
        Ok(seg)
    }

    /// A quoted name after its opening quote; backslashes are kept verbatim (as AWS).
    fn quoted_raw(&mut self, q: char) -> Result<String, PathError> {
        let start = self.pos;
        let mut escaped = false;
        while let Some(c) = self.bump() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                let end = self.pos - q.len_utf8();
                return Ok(self.src.get(start..end).unwrap_or("").to_string());
            }
        }
        self.err("Property has not been closed - missing closing quote")
    }

    fn index_body(&self, body: &str) -> Result<Segment, PathError> {
        let int = |s: &str| -> Result<i64, PathError> {
            s.trim().parse::<i64>().map_err(|_| PathError {
                message: format!("Could not parse index '{body}' in path {}", self.src),
            })
        };
        if body.is_empty() {
            return self.err("Empty brackets");
        }
        if let Some((a, b)) = body.split_once(':') {
            if b.contains(':') {
                return self.err("Slices with a step are not supported");
            }
            let a = if a.trim().is_empty() {
                None
            } else {
                Some(int(a)?)
            };
            let b = if b.trim().is_empty() {
                None
            } else {
                Some(int(b)?)
            };
            return Ok(Segment::Slice(a, b));
        }
        if body.contains(',') {
            let is = body.split(',').map(int).collect::<Result<Vec<_>, _>>()?;
            return Ok(Segment::Indexes(is));
        }
        Ok(Segment::Index(int(body)?))
    }

    // -- filter expressions --

    fn filter_or(&mut self) -> Result<Filter, PathError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.eat_str("||") {
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, PathError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.eat_str("&&") {
                let right = self.filter_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, PathError> {
        self.depth += 1;
        let r = self.filter_unary_inner();
        self.depth -= 1;
        r
    }

    fn filter_unary_inner(&mut self) -> Result<Filter, PathError> {
        if self.depth > MAX_DEPTH {
            return self.err("Expression is nested too deeply");
        }
        self.skip_ws();
        if self.peek() == Some('!') && self.peek2() != Some('=') {
            self.bump();
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat('(') {
            let inner = self.filter_or()?;
            self.skip_ws();
            if !self.eat(')') {
                return self.err("Expected ')'");
            }
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_ws();
        let Some(op) = self.cmp_op() else {
            return Ok(Filter::Exists(left));
        };
        self.skip_ws();
        let right = if op == CmpOp::Regex {
            self.regex()?
        } else {
            self.operand()?
        };
        Ok(Filter::Cmp(left, op, right))
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        const SYMBOLS: [(&str, CmpOp); 8] = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("=~", CmpOp::Regex),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
            ("===", CmpOp::Eq),
        ];
        for (s, op) in SYMBOLS {
            if self.eat_str(s) {
                // `===`/`!==` are Jayway spellings of the same tests.
                self.eat('=');
                return Some(op);
            }
        }
        const WORDS: [(&str, CmpOp); 9] = [
            ("subsetof", CmpOp::SubsetOf),
            ("anyof", CmpOp::AnyOf),
            ("noneof", CmpOp::NoneOf),
            ("contains", CmpOp::Contains),
            ("size", CmpOp::Size),
            ("empty", CmpOp::Empty),
            ("nin", CmpOp::Nin),
            ("in", CmpOp::In),
            ("=", CmpOp::Eq),
        ];
        for (w, op) in WORDS {
            let rest = self.rest();
            if rest.starts_with(w) {
                let after = rest.get(w.len()..).and_then(|r| r.chars().next());
                let word_ends = w == "=" || after.is_none_or(|c| !c.is_alphanumeric());
                if word_ends {
                    self.pos += w.len();
                    return Some(op);
                }
            }
        }
        None
    }

    fn regex(&mut self) -> Result<Operand, PathError> {
        if !self.eat('/') {
            return self.err("Expected a /regex/ after =~");
        }
        let mut pat = String::new();
        let mut escaped = false;
        loop {
            let Some(c) = self.bump() else {
                return self.err("Unterminated regex");
            };
            if escaped {
                if c != '/' {
                    pat.push('\\');
                }
                pat.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '/' {
                break;
            } else {
                pat.push(c);
            }
        }
        let mut flags = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_alphabetic()) {
            self.bump();
            if "imsx".contains(c) && !flags.contains(c) {
                flags.push(c);
            }
        }
        let full = if flags.is_empty() {
            format!("^(?:{pat})$")
        } else {
            format!("(?{flags})^(?:{pat})$")
        };
        match regex::RegexBuilder::new(&full).size_limit(1 << 20).build() {
            Ok(re) => Ok(Operand::Regex(re)),
            Err(e) => perr(format!("Invalid regex /{pat}/ in path {}: {e}", self.src)),
        }
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.depth += 1;
        let r = self.operand_inner();
        self.depth -= 1;
        r
    }

    fn operand_inner(&mut self) -> Result<Operand, PathError> {
        if self.depth > MAX_DEPTH {
            return self.err("Expression is nested too deeply");
        }
        self.skip_ws();
        match self.peek() {
            Some(c @ ('@' | '$')) => {
                self.bump();
                let mut sub = Parser {
                    src: self.src,
                    pos: self.pos,
                    in_filter: true,
                    depth: self.depth,
                };
                let (segments, func) = sub.tail()?;
                self.pos = sub.pos;
                let definite = is_definite(&segments);
                Ok(Operand::Path {
                    current: c == '@',
                    segments,
                    func,
                    definite,
                })
            }
            Some(q @ ('\'' | '"')) => {
                self.bump();
                let raw = self.quoted_raw(q)?;
                Ok(Operand::Literal(Value::String(unescape_literal(&raw))))
            }
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(']') {
                    loop {
                        match self.operand()? {
                            Operand::Literal(v) => items.push(v),
                            _ => return self.err("Only literals are allowed in a list"),
                        }
                        self.skip_ws();
                        if self.eat(']') {
                            break;
                        }
                        if !self.eat(',') {
                            return self.err("Expected ',' or ']' in a list");
                        }
                    }
                }
                Ok(Operand::Literal(Value::Array(items)))
            }
            Some('{') => {
                // A JSON object literal: find its end by balancing braces outside strings.
                let start = self.pos;
                let mut depth = 0usize;
                let mut in_str = false;
                let mut esc = false;
                while let Some(c) = self.bump() {
                    if in_str {
                        if esc {
                            esc = false;
                        } else if c == '\\' {
                            esc = true;
                        } else if c == '"' {
                            in_str = false;
                        }
                        continue;
                    }
                    match c {
                        '"' => in_str = true,
                        '{' => depth += 1,
                        '}' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let text = self.src.get(start..self.pos).unwrap_or("");
                match serde_json::from_str(text) {
                    Ok(v) => Ok(Operand::Literal(v)),
                    Err(_) => self.err("Invalid JSON literal"),
                }
            }
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || "+-._".contains(c))
                {
                    self.bump();
                }
                let word = self.src.get(start..self.pos).unwrap_or("");
                match word {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    "" => self.err("Expected a value"),
                    _ => match serde_json::from_str::<Value>(word) {
                        Ok(v @ Value::Number(_)) => Ok(Operand::Literal(v)),
                        _ => match word
                            .parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                        {
                            Some(n) => Ok(Operand::Literal(Value::Number(n))),
                            // AWS accepts an unquoted word (`@.status == Failure`) and
                            // compares with it as text.
                            None => Ok(Operand::Literal(Value::String(word.to_string()))),
                        },
                    },
                }
            }
        }
    }
}

/// String literals inside filters: `\'`, `\"`, `\\`, `\n`, `\t`, `\r`, `\/`.
fn unescape_literal(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('\'' | '"' | '\\' | '/')) => out.push(c),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
#[path = "tests/jsonpath.rs"]
mod tests;
