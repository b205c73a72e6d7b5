//! `variableReferences` of DescribeStateMachine: per state, the variables its JSONPath
//! fields read (`$name` paths, also as intrinsic arguments), as AWS lists them.
//!
//! Works on the definition's JSON (already validated): states inside Parallel branches
//! and Map processors are listed by their own names; JSONata states read variables
//! inside expressions, which AWS does not list.

use serde_json::{Map, Value};
use stepwise_expr::intrinsics::Intrinsic;
use stepwise_expr::jsonpath::{JsonPath, Root};

/// State name → the variables it reads, each once, sorted by name (as AWS lists them in
/// every recording with more than one). Empty when no state reads one (AWS then omits
/// the field).
pub fn variable_references(definition: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let ql = query_language(definition, "JSONPath");
    states(definition, ql, &mut out);
    out
}

fn query_language<'a>(v: &'a Value, inherited: &'a str) -> &'a str {
    v.get("QueryLanguage")
        .and_then(Value::as_str)
        .unwrap_or(inherited)
}

fn states(machine: &Value, ql: &str, out: &mut Map<String, Value>) {
    let Some(Value::Object(all)) = machine.get("States") else {
        return;
    };
    for (name, state) in all {
        let state_ql = query_language(state, ql);
        if state_ql == "JSONPath" {
            let mut names = Vec::new();
            state_fields(state, &mut names);
            names.sort_unstable();
            names.dedup();
            if !names.is_empty() {
                out.insert(
                    name.clone(),
                    Value::Array(names.into_iter().map(Value::String).collect()),
                );
            }
        }
        for b in state
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            states(b, state_ql, out);
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = state.get(key) {
                states(p, query_language(p, state_ql), out);
            }
        }
    }
}

/// The fields of one JSONPath state that can read a variable.
fn state_fields(state: &Value, names: &mut Vec<String>) {
    let Value::Object(m) = state else { return };
    for (k, v) in m {
        match k.as_str() {
            // Nested machines are walked as states of their own.
            "Branches" | "ItemProcessor" | "Iterator" | "ResultPath" => {}
            "Parameters" | "ResultSelector" | "ItemSelector" | "Assign" | "Credentials" => {
                template(v, names)
            }
            "Choices" => {
                for rule in v.as_array().into_iter().flatten() {
                    choice_rule(rule, names);
                }
            }
            "Catch" => {
                for c in v.as_array().into_iter().flatten() {
                    if let Some(a) = c.get("Assign") {
                        template(a, names);
                    }
                }
            }
            "ItemReader" | "ItemBatcher" => nested_fields(v, names),
            k if k.ends_with("Path") => expression(v, names),
            _ => {}
        }
    }
}

/// ItemReader / ItemBatcher: `…Path` fields and `Parameters`/`BatchInput` templates at
/// any depth (`ReaderConfig.MaxItemsPath`).
fn nested_fields(v: &Value, names: &mut Vec<String>) {
    let Value::Object(m) = v else { return };
    for (k, v) in m {
        match k.as_str() {
            "Parameters" | "BatchInput" => template(v, names),
            k if k.ends_with("Path") => expression(v, names),
            _ => nested_fields(v, names),
        }
    }
}

fn choice_rule(rule: &Value, names: &mut Vec<String>) {
    let Value::Object(m) = rule else { return };
    for (k, v) in m {
        match k.as_str() {
            "And" | "Or" => {
                for r in v.as_array().into_iter().flatten() {
                    choice_rule(r, names);
                }
            }
            "Not" => choice_rule(v, names),
            "Assign" => template(v, names),
            "Variable" => expression(v, names),
            k if k.ends_with("Path") => expression(v, names),
            _ => {}
        }
    }
}

/// A payload template: the values of `….$` keys, at any depth.
fn template(v: &Value, names: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k.ends_with(".$") {
                    expression(v, names);
                } else {
                    template(v, names);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| template(v, names)),
        _ => {}
    }
}

/// A path or an intrinsic call.
fn expression(v: &Value, names: &mut Vec<String>) {
    let Some(text) = v.as_str() else { return };
    let mut note = |p: &JsonPath| {
        if let Root::Variable(n) = p.root() {
            if !names.iter().any(|x| x == n) {
                names.push(n.clone());
            }
        }
    };
    if Intrinsic::looks_like(text) {
        if let Ok(i) = Intrinsic::parse(text) {
            i.paths().into_iter().for_each(note);
        }
    } else if let Ok(p) = JsonPath::parse(text) {
        note(&p);
    }
}

#[cfg(test)]
#[path = "tests/references.rs"]
mod tests;
