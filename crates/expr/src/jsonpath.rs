//! JSONPath as AWS Step Functions evaluates it (Jayway-flavoured, not RFC 9535).
//!
//! STUB: the API below is the contract; bodies are being written.

use crate::{Scope, StatesError};
use serde_json::Value;

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

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    src: String,
}

impl JsonPath {
    /// Parse `src` (e.g. `$.a.b[0]`, `$$.Execution.Id`, `$var.x`, `$.items[*].id`).
    pub fn parse(src: &str) -> Result<JsonPath, PathError> {
        let _ = src;
        unimplemented!()
    }
    /// The text as written in the definition.
    pub fn as_str(&self) -> &str {
        &self.src
    }
    pub fn root(&self) -> &Root {
        unimplemented!()
    }
    /// True when the path names at most one location (no wildcard, slice, filter, union, `..`).
    pub fn is_definite(&self) -> bool {
        unimplemented!()
    }
    /// Jayway semantics: a definite path yields `Some(value)` or `None` when nothing is
    /// there; an indefinite path yields `Some(Value::Array(matches))` (possibly empty).
    pub fn select(&self, scope: &Scope) -> Option<Value> {
        let _ = scope;
        unimplemented!()
    }
    /// Like `select`, applied directly to `root` whatever the path's [`Root`].
    pub fn select_in(&self, root: &Value) -> Option<Value> {
        let _ = root;
        unimplemented!()
    }
    /// Write `value` at this (definite, `$`-rooted) path inside `target`, creating objects
    /// on the way as `ResultPath` does. Fails with `States.ResultPathMatchFailure` and AWS's
    /// cause text when the path crosses a non-object.
    pub fn set(&self, target: &mut Value, value: Value) -> Result<(), StatesError> {
        let _ = (target, value);
        unimplemented!()
    }
}
