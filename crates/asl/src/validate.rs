//! Checks that need more than one field: the transition graph of a `States` block,
//! machine-wide name uniqueness, repeated JSON keys, and the value formats (RFC 3339
//! timestamps, ARNs) that [`crate::parse`] applies while it walks. Also the text AWS
//! puts in an `InvalidDefinition` error ([`aws_message`]).

use crate::parse::{join, MISSING_TARGET};
use crate::Diagnostic;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// AWS's `InvalidDefinition` message for a set of diagnostics, e.g.
/// `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match
/// RFC3339 timestamp at /States/WaitUntil/Timestamp'`. Several diagnostics are joined
/// with `", "` inside the quotes, each as `CODE: message at /location`, the location
/// written as AWS writes it (`Choices[0]`, and `null` for a machine-level
/// `MISSING_END_STATE`).
///
/// AWS checks the graph (targets, reachability, terminal states, unique names) only once
/// the schema holds, so when there are schema-level diagnostics the graph ones are left
/// out of the message (they stay in the list for `stepwise validate`).
#[allow(dead_code)] // public API; re-exported by the crate root
pub fn aws_message(diags: &[Diagnostic]) -> String {
    let parts: Vec<String> = aws_reported(diags)
        .into_iter()
        .map(|d| {
            if d.code == "INVALID_JSON_DESCRIPTION" {
                // AWS reports the parser's own position text here, not a pointer.
                format!("{}: {}", d.code, d.message)
            } else {
                format!("{}: {} at {}", d.code, d.message, aws_location(d))
            }
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

/// Where AWS says a diagnostic is. AWS writes array elements of the definition's own
/// structure as `Choices[0]`, not `Choices/0` (`/States/C/Choices[0]/Next`,
/// `/States/T/Catch[0]/Next`, floci-io/floci PR #2786), and gives the machine-level
/// `MISSING_END_STATE` no location at all, which `CreateStateMachine` prints as `null`
/// (floci-io/floci issue #2735: "Workflow has no terminal state at null").
/// The diagnostics AWS reports: the graph stage's only when the schema stage found none.
pub fn aws_reported(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    let graph = |d: &&Diagnostic| is_graph_code(&d.code);
    let schema_stage = diags.iter().any(|d| !graph(&d));
    diags
        .iter()
        .filter(|d| !schema_stage || !graph(d))
        .collect()
}

/// A diagnostic's location as AWS writes it (`Choices[0]`; `/` for the root).
pub fn aws_location(d: &Diagnostic) -> String {
    if d.code == "INVALID_JSON_DESCRIPTION" {
        // Jackson's own location, the end of its message.
        if let Some((_, at)) = d.message.rsplit_once("\n at ") {
            return at.to_string();
        }
    }
    if d.pointer.is_empty() {
        return if d.code == "MISSING_END_STATE" {
            "null"
        } else {
            "/"
        }
        .to_string();
    }
    const ARRAYS: [&str; 7] = [
        "Branches",
        "Choices",
        "And",
        "Or",
        "Retry",
        "Catch",
        "ErrorEquals",
    ];
    let mut out = String::with_capacity(d.pointer.len());
    let mut prev = "";
    for seg in d.pointer.split('/').skip(1) {
        if ARRAYS.contains(&prev) && !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(seg);
            out.push(']');
        } else {
            out.push('/');
            out.push_str(seg);
        }
        prev = seg;
    }
    out
}

/// Codes of the second stage of AWS's validation: the state graph.
fn is_graph_code(code: &str) -> bool {
    matches!(
        code,
        "MISSING_TRANSITION_TARGET"
            | "MISSING_END_STATE"
            | "DUPLICATE_STATE_NAME"
            | "DUPLICATE_LABEL_NAME"
    )
}

/// The transitions of one `States` block, as indices.
pub(crate) struct BlockGraph {
    /// Pointer of the block (`""` for the machine, `/States/P/Branches/0`, …).
    pub pointer: String,
    pub names: Vec<String>,
    /// `Next`, `Default`, `Choices[].Next` and `Catch[].Next` targets of each state.
    pub edges: Vec<Vec<usize>>,
    /// `End: true`, Succeed or Fail.
    pub terminal: Vec<bool>,
    pub start: Option<usize>,
}

/// Blocks with no way to finish, and states nothing transitions to.
///
/// As measured against AWS (floci-io/floci PR #2786, cfn-lint issue #4074): a block with
/// no terminal state at all gets one `MISSING_END_STATE` and no reachability findings;
/// otherwise a state is "not reachable" when it is not `StartAt` and no state names it
/// as a target — AWS does not walk the graph from `StartAt` (an unknown `StartAt` leaves
/// the states that other states target reachable).
pub(crate) fn check_block(g: &BlockGraph, diags: &mut Vec<Diagnostic>) {
    if !g.names.is_empty() && !g.terminal.iter().any(|t| *t) {
        diags.push(Diagnostic::new(
            g.pointer.clone(),
            "MISSING_END_STATE",
            "Workflow has no terminal state",
        ));
        return;
    }
    let states_p = join(&g.pointer, "States");
    let mut targeted = vec![false; g.names.len()];
    for &j in g.edges.iter().flatten().chain(g.start.iter()) {
        if let Some(t) = targeted.get_mut(j) {
            *t = true;
        }
    }
    for (name, reached) in g.names.iter().zip(&targeted) {
        if !reached {
            // AWS files this under MISSING_TRANSITION_TARGET, with this wording.
            diags.push(Diagnostic::new(
                join(&states_p, name),
                MISSING_TARGET,
                format!("State \"{name}\" is not reachable."),
            ));
        }
    }
}

/// State names are unique across the whole machine, nested blocks included.
pub(crate) fn check_unique_names(names: &[(String, String)], diags: &mut Vec<Diagnostic>) {
    let mut seen: HashSet<&str> = HashSet::with_capacity(names.len());
    for (name, pointer) in names {
        if !seen.insert(name.as_str()) {
            diags.push(Diagnostic::new(
                pointer.clone(),
                "DUPLICATE_STATE_NAME",
                format!("Duplicate State name: {name}"),
            ));
        }
    }
}

/// Map `Label`s are unique across the whole machine too; AWS answers a repeat with
/// `DUPLICATE_LABEL_NAME: Duplicate Label name: <label>` (the `CreateStateMachine` text a
/// public policy rule set quotes), like `DUPLICATE_STATE_NAME` for state names. The
/// second and later uses are reported, at their `Label` field.
pub(crate) fn check_unique_labels(labels: &[(String, String)], diags: &mut Vec<Diagnostic>) {
    let mut seen: HashSet<&str> = HashSet::with_capacity(labels.len());
    for (label, pointer) in labels {
        if !seen.insert(label.as_str()) {
            diags.push(Diagnostic::new(
                pointer.clone(),
                "DUPLICATE_LABEL_NAME",
                format!("Duplicate Label name: {label}"),
            ));
        }
    }
}

/// An ARN as AWS writes resources: `arn:partition:service:region:account:resource`
/// (region and account may be empty, as in `arn:aws:states:::lambda:invoke`).
pub(crate) fn is_arn(s: &str) -> bool {
    let Some([partition, service, _region, _account, resource]) = arn_parts(s) else {
        return false;
    };
    // A real partition (`aws`, `aws-cn`, `aws-us-gov`, …): AWS rejects a template's
    // `arn:<partition>:states:::dynamodb:query` (LocalStack's recorded snapshot).
    partition.starts_with("aws")
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && !service.is_empty()
        && !resource.is_empty()
        && !s.chars().any(char::is_whitespace)
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` → the five parts after `arn`.
fn arn_parts(s: &str) -> Option<[&str; 5]> {
    let mut parts = s.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let mut out = [""; 5];
    for slot in &mut out {
        *slot = parts.next()?;
    }
    Some(out)
}

/// An optimised integration (`arn:PARTITION:states:::SERVICE:ACTION[.PATTERN]`) that AWS
/// does not have, for the services whose whole action list is known here: AWS rejects
/// `arn:aws:states:::dynamodb:query` ("The resource provided … is not recognized", recorded
/// in LocalStack's snapshots); SDK calls go through `aws-sdk:SERVICE:ACTION`. Services not
/// listed are accepted as written.
pub(crate) fn is_unknown_integration(resource: &str) -> bool {
    const KNOWN: &[(&str, &[&str])] = &[
        ("lambda", &["invoke"]),
        (
            "dynamodb",
            &["getItem", "putItem", "updateItem", "deleteItem"],
        ),
        ("sqs", &["sendMessage"]),
        ("sns", &["publish"]),
        ("events", &["putEvents"]),
        ("states", &["startExecution"]),
        ("http", &["invoke"]),
        ("apigateway", &["invoke"]),
        ("batch", &["submitJob"]),
        ("ecs", &["runTask"]),
        ("glue", &["startJobRun"]),
        (
            "athena",
            &[
                "startQueryExecution",
                "stopQueryExecution",
                "getQueryExecution",
                "getQueryResults",
            ],
        ),
    ];
    let Some([_, "states", "", "", rest]) = arn_parts(resource) else {
        return false;
    };
    let Some((service, action)) = rest.split_once(':') else {
        return false;
    };
    // `.sync`, `.sync:2`, `.waitForTaskToken`.
    let action = action.split(['.', ':']).next().unwrap_or(action);
    KNOWN
        .iter()
        .find(|(s, _)| *s == service)
        .is_some_and(|(_, actions)| !actions.contains(&action))
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, with a real calendar date.
pub(crate) fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        if digits.iter().all(u8::is_ascii_digit) {
            Some(
                digits
                    .iter()
                    .fold(0u32, |n, d| n * 10 + u32::from(d - b'0')),
            )
        } else {
            None
        }
    };
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut i = 19;
    if sep(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && sep(i + 3, b":")
                && num(i + 1..i + 3).is_some_and(|h| h <= 23)
                && num(i + 4..i + 6).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// Decode JSON text into a [`Value`], also returning every repeated object key as
/// `(pointer of the object, key)` — serde keeps only the last, but a repeated state
/// name is an error AWS reports.
pub(crate) fn read_json(text: &str) -> Result<(Value, Vec<(String, String)>), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut segments = Vec::new();
    let mut dups = Vec::new();
    let value = Seed {
        segments: &mut segments,
        dups: &mut dups,
    }
    .deserialize(&mut de)
    .map_err(|e| crate::jackson::describe(text, &e))?;
    de.end().map_err(|e| crate::jackson::describe(text, &e))?;
    Ok((value, dups))
}

struct Seed<'a> {
    segments: &'a mut Vec<String>,
    dups: &'a mut Vec<(String, String)>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            self.segments.push(out.len().to_string());
            let next = seq.next_element_seed(Seed {
                segments: self.segments,
                dups: self.dups,
            });
            self.segments.pop();
            match next? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.segments.push(key);
            let value = map.next_value_seed(Seed {
                segments: self.segments,
                dups: self.dups,
            });
            let key = self.segments.pop().unwrap_or_default();
            let value = value?;
            if out.contains_key(&key) {
                let parent = self.segments.iter().fold(String::new(), |p, s| join(&p, s));
                self.dups.push((parent, key.clone()));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
#[path = "tests/validate.rs"]
mod tests;
