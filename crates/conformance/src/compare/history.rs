//! History comparison: strict (pairwise, in order) or concurrent (ends fixed, the rest
//! a multiset), and decoding the JSON-text fields of AWS history events.

use serde_json::{Map, Value};

use super::Matcher;

fn strip_ids(ev: &Value) -> Value {
    match ev {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "id" && *k != "previousEventId")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn event_type(ev: &Value) -> String {
    match ev.get("type") {
        Some(Value::String(s)) => format!("'{s}'"),
        _ => "None".to_string(),
    }
}

/// Compares two histories of decoded events: pairwise when `strict`
/// (expected.json's `history_order` is `"strict"` or absent), otherwise as
/// concurrent (first and last event in place, the rest a multiset).
pub fn compare_history(
    matcher: &mut Matcher,
    exp: &[Value],
    act: &[Value],
    strict: bool,
) -> Vec<String> {
    if strict {
        if exp.len() != act.len() {
            let types = |evs: &[Value]| evs.iter().map(event_type).collect::<Vec<_>>().join(", ");
            return vec![format!(
                "history: expected {} events, got {}; expected types [{}], got [{}]",
                exp.len(),
                act.len(),
                types(exp),
                types(act)
            )];
        }
        let mut errs = Vec::new();
        for (i, (e, a)) in exp.iter().zip(act).enumerate() {
            errs.extend(matcher.matches(e, a, &format!("history[{i}]"), None));
        }
        return errs;
    }
    // Map iterations / Parallel branches interleave differently from run to run, so
    // compare the events as a multiset (ignoring ids), first and last fixed in place.
    if exp.len() != act.len() {
        return vec![format!(
            "history: expected {} events, got {}",
            exp.len(),
            act.len()
        )];
    }
    let (Some(e_first), Some(e_last), Some(a_first), Some(a_last)) =
        (exp.first(), exp.last(), act.first(), act.last())
    else {
        return Vec::new();
    };
    let mut errs = matcher.matches(&strip_ids(e_first), &strip_ids(a_first), "history[0]", None);
    errs.extend(matcher.matches(&strip_ids(e_last), &strip_ids(a_last), "history[-1]", None));
    let middle = |evs: &[Value]| -> Vec<Value> {
        if evs.len() > 2 {
            evs[1..evs.len() - 1].iter().map(strip_ids).collect()
        } else {
            Vec::new()
        }
    };
    let mut remaining = middle(act);
    for e in middle(exp) {
        let mut found = None;
        for (k, a) in remaining.iter().enumerate() {
            let saved = matcher.bindings.clone();
            if matcher.matches(&e, a, "x", None).is_empty() {
                found = Some(k);
                break;
            }
            matcher.bindings = saved;
        }
        match found {
            Some(k) => {
                remaining.remove(k);
            }
            None => {
                let text: String = e.to_string().chars().take(200).collect();
                errs.push(format!("history: no actual event matches expected {text}"));
            }
        }
    }
    errs
}

/// The fields of history event details that AWS returns as JSON text.
const JSON_TEXT_FIELDS: [&str; 4] = ["input", "output", "parameters", "result"];

/// Decodes the JSON-text fields of one AWS history event (`input`, `output`,
/// `parameters`, `result` of its details and every `assignedVariables` value).
/// A string that is not valid JSON is kept as it is.
pub fn decode_event(ev: &Value) -> Value {
    fn decode(v: &Value) -> Value {
        match v {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
            other => other.clone(),
        }
    }
    let Value::Object(m) = ev else {
        return ev.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let nv = match v {
            Value::Object(details) => {
                let mut d = Map::new();
                for (f, x) in details {
                    let nx = if JSON_TEXT_FIELDS.contains(&f.as_str()) {
                        decode(x)
                    } else if f == "assignedVariables" {
                        match x {
                            Value::Object(vars) => Value::Object(
                                vars.iter().map(|(n, t)| (n.clone(), decode(t))).collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        x.clone()
                    };
                    d.insert(f.clone(), nx);
                }
                Value::Object(d)
            }
            other => other.clone(),
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}
