//! Text/value → typed [`StateMachine`], collecting every diagnostic in one walk.
//!
//! Each `States` block is parsed with its names indexed first, so `Next`, `Default`
//! and catcher targets resolve to indices as they are read. The graph checks that need
//! a whole block (reachability, terminal states) and the machine (unique names) are in
//! [`crate::validate`]. A parse never stops at the first problem: a bad field records a
//! diagnostic and the walk goes on; the result is `Err` as soon as any was recorded.
//!
//! One file per construct, each an `impl Parser` block over the shared state here:
//! [`machine`] (top-level fields, `StartAt`/`States` blocks, transition targets),
//! [`state`] (`Type`, `Next`/`End`, the fields each type allows; Pass, Succeed, Fail),
//! [`io`] (input/output processing, `Assign`), [`expressions`] (JSONPath, JSONata,
//! literal-or-`…Path` fields), [`retry_catch`], [`task`], [`wait`], [`choice`],
//! [`parallel`] and [`map`]. Shared here: the entry points, [`join`], the `Parser` and
//! its field readers.

mod choice;
mod expressions;
mod io;
mod machine;
mod map;
mod parallel;
mod retry_catch;
mod state;
mod task;
mod wait;

use crate::validate;
use crate::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use stepwise_jsonata::is_expression;

pub(crate) const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
pub(crate) const MISSING_TARGET: &str = "MISSING_TRANSITION_TARGET";
pub(crate) const UNSUPPORTED_JSONATA: &str = "UNSUPPORTED_JSONATA_EXPRESSION";

/// The largest value AWS accepts for second counts (timeouts, waits, intervals).
const MAX_SECONDS: u64 = 99_999_999;

pub(crate) fn parse_text(text: &str) -> Result<StateMachine, Vec<Diagnostic>> {
    if text.is_empty() {
        return Err(vec![Diagnostic::new(
            "",
            "MISSING_DESCRIPTION",
            "Received a null or empty workflow input",
        )]);
    }
    if text.trim().is_empty() {
        // AWS's answer to a blank definition (test_sfn_api_validation, EMPTY_STRING).
        return Err(vec![Diagnostic::new(
            "",
            "SCHEMA_VALIDATION_FAILED",
            crate::BLANK_DEFINITION,
        )]);
    }
    let (value, duplicates) = match crate::validate::read_json(text) {
        Ok(read) => read,
        Err(e) => return Err(vec![Diagnostic::new("", "INVALID_JSON_DESCRIPTION", e)]),
    };
    let result = parse_value(&value);
    // serde keeps the last of two equal keys; a repeated state name is only visible here.
    let dup_states: Vec<Diagnostic> = duplicates
        .into_iter()
        .filter(|(parent, _)| parent == "/States" || parent.ends_with("/States"))
        .map(|(parent, key)| {
            Diagnostic::new(
                join(&parent, &key),
                "DUPLICATE_STATE_NAME",
                format!("Duplicate State name: {key}"),
            )
        })
        .collect();
    match result {
        Ok(sm) if dup_states.is_empty() => Ok(sm),
        Ok(_) => Err(dup_states),
        Err(mut diags) => {
            diags.extend(dup_states);
            Err(diags)
        }
    }
}

pub(crate) fn parse_value(value: &Value) -> Result<StateMachine, Vec<Diagnostic>> {
    let mut p = Parser::default();
    let sm = p.machine(value);
    validate::check_unique_names(&p.names, &mut p.diags);
    validate::check_unique_labels(&p.labels, &mut p.diags);
    match sm {
        Some(sm) if p.diags.is_empty() => Ok(sm),
        _ => {
            if p.diags.is_empty() {
                // Defensive: every `None` above records why; never return an empty error.
                p.diags.push(Diagnostic::new(
                    "",
                    SCHEMA,
                    "Invalid state machine definition",
                ));
            }
            Err(p.diags)
        }
    }
}

/// Append one reference token to a JSON pointer (RFC 6901 escaping).
pub(crate) fn join(base: &str, key: &str) -> String {
    let mut s = String::with_capacity(base.len() + key.len() + 1);
    s.push_str(base);
    s.push('/');
    for c in key.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
    s
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(_) => "NUMBER",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}

/// The body of a `{% … %}` string.
fn jsonata_body(s: &str) -> Option<&str> {
    if !is_expression(s) {
        return None;
    }
    let t = s.trim();
    t.get(2..t.len().saturating_sub(2))
}

/// Which query language a field belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Any,
    JsonPath,
    Jsonata,
}

#[derive(Default)]
struct Parser {
    diags: Vec<Diagnostic>,
    machine_ql: QueryLanguage,
    /// Every state name with its pointer, for machine-wide uniqueness.
    names: Vec<(String, String)>,
    /// How many `States` blocks enclose the one being parsed.
    depth: usize,
    /// Every Map `Label` with its pointer, for machine-wide uniqueness.
    labels: Vec<(String, String)>,
    /// Which `$states` fields the JSONata field being parsed may read.
    scope: StatesScope,
}

/// The `$states` fields that exist where an expression is evaluated, beyond `input` and
/// `context` (which exist everywhere). ASL: `result` in the top-level `Output` and
/// `Assign` of a Task, Map or Parallel; `errorOutput` in a catcher's `Output` and
/// `Assign`.
#[derive(Clone, Copy, Default)]
struct StatesScope {
    result: bool,
    error_output: bool,
}

/// What the enclosing block knows about its states while one of them is parsed.
struct Block<'a> {
    index: &'a HashMap<&'a str, usize>,
}

impl Parser {
    fn err(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(pointer, SCHEMA, message));
    }

    fn required(&mut self, p: &str, field: &str) {
        self.err(
            p,
            format!("The field '{field}' is required but was missing"),
        );
    }

    fn wrong(&mut self, p: &str, field: &str, what: &str) {
        self.err(
            join(p, field),
            format!("The field '{field}' must be {what}"),
        );
    }

    /// Report fields that are unknown here or belong to the other query language.
    fn check_fields(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        allowed: &[(&str, Lang)],
        ql: QueryLanguage,
    ) {
        for key in obj.keys() {
            match allowed.iter().find(|(k, _)| *k == key).map(|(_, l)| *l) {
                Some(Lang::Any) => {}
                Some(Lang::JsonPath) if ql == QueryLanguage::JsonPath => {}
                Some(Lang::Jsonata) if ql == QueryLanguage::Jsonata => {}
                // AWS's wordings, located at the object that holds the field, as measured
                // with ValidateStateMachineDefinition (floci-io/floci issues #2735, #2968).
                Some(_) => {
                    let (lang, other) = match ql {
                        QueryLanguage::JsonPath => ("JSONPath", "JSONata"),
                        QueryLanguage::Jsonata => ("JSONata", "JSONPath"),
                    };
                    self.err(
                        p,
                        format!("The QueryLanguage is set to '{lang}', but field '{key}' is only supported for the '{other}' QueryLanguage"),
                    );
                }
                None => self.err(p, format!("Field '{key}' is not supported")),
            }
        }
    }

    fn opt_string(&mut self, obj: &Map<String, Value>, p: &str, field: &str) -> Option<String> {
        match obj.get(field)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.wrong(p, field, "a STRING");
                None
            }
        }
    }

    fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        p: &str,
        field: &str,
    ) -> Option<&'v Vec<Value>> {
        match obj.get(field)? {
            Value::Array(a) => Some(a),
            _ => {
                self.wrong(p, field, "an ARRAY");
                None
            }
        }
    }

    fn uint(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let v = obj.get(field)?;
        match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.wrong(p, field, &format!("an INTEGER between {min} and {max}"));
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "../tests/parse.rs"]
mod tests;

/// Tests that compile real expressions (paths, intrinsics, templates, JSONata).
#[cfg(test)]
#[path = "../tests/parse_expr_tests.rs"]
mod expr_tests;
