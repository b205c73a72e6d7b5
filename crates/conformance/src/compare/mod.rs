//! A port of the corpus's normative comparator (`compare.py`): placeholders,
//! the recorder parse rule, numbers by value, and strict / concurrent histories.
//!
//! Values here are *decoded* JSON. [`compare_case`] takes an engine [`Outcome`]
//! whose history fields are JSON text (as GetExecutionHistory returns them) and
//! decodes them first; [`compare_actual_json`] takes an `actual.json` document in
//! the shape `compare.py` reads, whose history fields are already decoded.
//!
//! Here: the outcome-level comparison (status, output, error, cause, then the history)
//! and its [`Difference`]s. Beside it: `matcher.rs` (values and strings against
//! expected values with placeholders) and `history.rs` (strict and concurrent
//! histories, decoding AWS's JSON-text event fields).

mod history;
mod matcher;

use std::fmt;

use serde_json::Value;

use crate::Outcome;

pub use history::{compare_history, decode_event};
pub use matcher::{is_iso8601, is_timestamp_key, Matcher, TokenKind, PATTERN_ISO8601};

use matcher::py_repr;

/// Which part of an outcome a difference is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Status,
    Output,
    Error,
    Cause,
    History,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Status => "status",
            Part::Output => "output",
            Part::Error => "error",
            Part::Cause => "cause",
            Part::History => "history",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between the expected and the actual outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub part: Part,
    pub text: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Options of a comparison (`compare.py --no-history`, `--strict-numbers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompareOptions {
    pub check_history: bool,
    /// Numbers must also agree on int vs float, as far as JSON parsing kept it.
    pub strict_numbers: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            check_history: true,
            strict_numbers: false,
        }
    }
}

fn diffs(part: Part, texts: Vec<String>) -> impl Iterator<Item = Difference> {
    texts.into_iter().map(move |text| Difference { part, text })
}

/// An outcome with decoded values, borrowed for one comparison.
struct Actual<'a> {
    status: Option<&'a str>,
    output: Option<&'a Value>,
    error: Option<&'a Value>,
    cause: Option<&'a Value>,
    history: Option<&'a [Value]>,
}

fn compare_decoded(expected: &Value, actual: &Actual<'_>, opts: CompareOptions) -> Vec<Difference> {
    let mut m = Matcher::new(expected.get("placeholders"), opts.strict_numbers);
    let mut out = Vec::new();
    let exp_status = expected.get("status").and_then(Value::as_str);
    if actual.status != exp_status || exp_status.is_none() {
        out.push(Difference {
            part: Part::Status,
            text: format!(
                "status: expected {}, got {}",
                exp_status.unwrap_or("None"),
                actual.status.unwrap_or("None")
            ),
        });
        return out;
    }
    if let Some(exp_output) = expected.get("output") {
        match actual.output {
            None => out.push(Difference {
                part: Part::Output,
                text: "output: missing".into(),
            }),
            Some(a) => out.extend(diffs(
                Part::Output,
                m.matches(exp_output, a, "output", None),
            )),
        }
    }
    for (k, part, act) in [
        ("error", Part::Error, actual.error),
        ("cause", Part::Cause, actual.cause),
    ] {
        let act = act.filter(|v| !v.is_null());
        if let Some(e) = expected.get(k) {
            match act {
                None => out.push(Difference {
                    part,
                    text: format!("{k}: missing"),
                }),
                Some(a) => out.extend(diffs(part, m.matches(e, a, k, Some(k)))),
            }
        } else if let Some(a) = act {
            if a.as_str() != Some("") {
                let shown = match a {
                    Value::String(s) => py_repr(s),
                    other => other.to_string(),
                };
                out.push(Difference {
                    part,
                    text: format!("{k}: unexpected {shown}"),
                });
            }
        }
    }
    if opts.check_history {
        if let (Some(exp_h), Some(act_h)) = (expected.get("history"), actual.history) {
            let strict = match expected.get("history_order") {
                None => true,
                Some(o) => o.as_str() == Some("strict"),
            };
            let texts = match exp_h {
                Value::Array(exp_h) => compare_history(&mut m, exp_h, act_h, strict),
                _ => vec!["history: expected.json's history is not an array".to_string()],
            };
            out.extend(diffs(Part::History, texts));
        }
    }
    out
}

/// Compares an engine outcome with a case's `expected.json`. The outcome's
/// history events carry AWS's JSON-text fields; they are decoded first.
pub fn compare_case(expected: &Value, actual: &Outcome, opts: CompareOptions) -> Vec<Difference> {
    let history: Option<Vec<Value>> = actual
        .history
        .as_ref()
        .map(|h| h.iter().map(decode_event).collect());
    let error = actual.error.clone().map(Value::String);
    let cause = actual.cause.clone().map(Value::String);
    let act = Actual {
        status: Some(actual.status.as_str()),
        output: actual.output.as_ref(),
        error: error.as_ref(),
        cause: cause.as_ref(),
        history: history.as_deref(),
    };
    compare_decoded(expected, &act, opts)
}

/// Compares an `actual.json` document (the shape `compare.py CASE actual.json`
/// reads: decoded values everywhere) with a case's `expected.json`.
pub fn compare_actual_json(
    expected: &Value,
    actual: &Value,
    opts: CompareOptions,
) -> Vec<Difference> {
    let act = Actual {
        status: actual.get("status").and_then(Value::as_str),
        output: actual.get("output"),
        error: actual.get("error"),
        cause: actual.get("cause"),
        history: match actual.get("history") {
            Some(Value::Array(h)) => Some(h.as_slice()),
            _ => None,
        },
    };
    let mut out = compare_decoded(expected, &act, opts);
    // compare.py reports a history that is present but not a list
    if opts.check_history && expected.get("history").is_some() {
        if let Some(h) = actual.get("history") {
            if !h.is_array() && out.iter().all(|d| d.part != Part::Status) {
                out.push(Difference {
                    part: Part::History,
                    text: "history: missing in actual result".into(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "../tests/compare.rs"]
mod tests;
