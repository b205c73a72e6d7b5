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
//!
//! Here: the compiled [`JsonPath`], its API and its normalized form. Beside it:
//! `parser.rs` (text → segments and filters), `eval.rs` (selecting values and the
//! trailing functions), `filter.rs` (`[?(…)]` expressions and their comparisons) and
//! `set.rs` (ResultPath's writes).

mod eval;
mod filter;
mod parser;
mod set;

use crate::error::names;
use crate::{Scope, StatesError};
use serde_json::Value;
use std::borrow::Cow;

use eval::eval_path;
use filter::Filter;
use parser::Parser;
use set::{can_set, set_checked};

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

#[cfg(test)]
#[path = "../tests/jsonpath.rs"]
mod tests;
