//! The comparator's self-test (`compare.py --self-test`): every token of a case
//! is replaced by a realistic value, and the comparator must accept the result
//! and reject an obviously wrong one.

use serde_json::{Map, Value};

use crate::compare::{compare_actual_json, compare_case, is_timestamp_key, CompareOptions};
use crate::{Case, Outcome};

fn fake_for(tok: &str) -> String {
    match tok {
        "<ExecArnPart_0idx>" => "exec-5f0c2e".into(),
        "<ArnPart_0idx>" => "sm-test-1".into(),
        "<partition>" => "aws".into(),
        "<region>" => "us-east-1".into(),
        "111111111111" => "123456789012".into(),
        "snf_role_arn" | "sfn_role_arn" => "arn:aws:iam::123456789012:role/sfn-role".into(),
        "date" => "2024-05-06T07:08:09.123Z".into(),
        // compare.py uses Python's hash(); any stable per-token text will do
        _ => {
            let h = tok.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            format!("v{}", h % 100_000_000)
        }
    }
}

fn kind(ph: &Map<String, Value>, tok: &str) -> Option<String> {
    ph.get(tok)
        .and_then(|s| s.get("matches"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Replaces every placeholder in `value` by a fake value, like compare.py's `_realize`.
pub fn realize(value: &Value, ph: &Map<String, Value>, key: Option<&str>) -> Value {
    match value {
        Value::String(s) => {
            match kind(ph, s).as_deref() {
                Some("any-value-under-timestamp-key") if key.is_some_and(is_timestamp_key) => {
                    return Value::from(1_715_000_000u64)
                }
                Some("any-value") => return Value::from("2024-05-06T07:08:09.123Z"),
                _ => {}
            }
            let mut toks: Vec<&String> = ph.keys().collect();
            toks.sort_by_key(|t| std::cmp::Reverse(t.len()));
            let mut out = s.clone();
            for tok in toks {
                let k = kind(ph, tok);
                if matches!(k.as_deref(), Some("same-text" | "iso8601-or-literal"))
                    && !tok.is_empty()
                    && out.contains(tok.as_str())
                {
                    out = out.replace(tok.as_str(), &fake_for(tok));
                }
            }
            Value::String(out)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), realize(v, ph, Some(k))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| realize(v, ph, key)).collect()),
        other => other.clone(),
    }
}

/// Turns a decoded history event back into AWS's form (JSON text fields).
pub fn encode_event(ev: &Value) -> Value {
    let Value::Object(m) = ev else {
        return ev.clone();
    };
    let text = |v: &Value| Value::String(v.to_string());
    Value::Object(
        m.iter()
            .map(|(k, v)| {
                let nv = match v {
                    Value::Object(d) => Value::Object(
                        d.iter()
                            .map(|(f, x)| {
                                let nx = match (f.as_str(), x) {
                                    ("input" | "output" | "parameters" | "result", _) => text(x),
                                    ("assignedVariables", Value::Object(vars)) => Value::Object(
                                        vars.iter().map(|(n, t)| (n.clone(), text(t))).collect(),
                                    ),
                                    _ => x.clone(),
                                };
                                (f.clone(), nx)
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (k.clone(), nv)
            })
            .collect(),
    )
}

/// The realised `actual.json` of a case's expected values (decoded history).
pub fn realized_actual(expected: &Value) -> Value {
    let empty = Map::new();
    let ph = expected
        .get("placeholders")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let stripped: Map<String, Value> = expected
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "placeholders" && *k != "history_order")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    realize(&Value::Object(stripped), ph, None)
}

/// The same as an engine [`Outcome`], with AWS's JSON-text history fields.
pub fn outcome_from_actual(actual: &Value) -> Outcome {
    let s = |k: &str| actual.get(k).and_then(Value::as_str).map(str::to_string);
    Outcome {
        status: s("status").unwrap_or_default(),
        output: actual.get("output").cloned(),
        error: s("error"),
        cause: s("cause"),
        history: actual
            .get("history")
            .and_then(Value::as_array)
            .map(|h| h.iter().map(encode_event).collect()),
    }
}

/// Runs the self-test on `cases`; returns one line per problem (empty = all good).
pub fn self_test(cases: &[Case]) -> Vec<String> {
    let opts = CompareOptions::default();
    let mut problems = Vec::new();
    for case in cases {
        let exp = &case.expected;
        let actual = realized_actual(exp);
        let errs = compare_actual_json(exp, &actual, opts);
        if !errs.is_empty() {
            let first: Vec<String> = errs.iter().take(3).map(|d| d.text.clone()).collect();
            problems.push(format!("FALSE NEGATIVE {}: {first:?}", case.id));
        }
        // the same through the engine-facing API, with JSON-text history fields
        let outcome = outcome_from_actual(&actual);
        let errs = compare_case(exp, &outcome, opts);
        if !errs.is_empty() {
            let first: Vec<String> = errs.iter().take(3).map(|d| d.text.clone()).collect();
            problems.push(format!("FALSE NEGATIVE (outcome) {}: {first:?}", case.id));
        }
        let mut wrong = outcome;
        if exp.get("status").and_then(Value::as_str) == Some("SUCCEEDED") {
            wrong.output = Some(serde_json::json!({"__wrong__": true}));
        } else {
            wrong.cause = Some("__wrong__".into());
            wrong.error = Some("__wrong__".into());
        }
        if compare_case(exp, &wrong, opts).is_empty() {
            problems.push(format!("FALSE POSITIVE {}", case.id));
        }
    }
    problems
}
