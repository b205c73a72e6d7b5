//! The top level and every `States` block: the machine's `Comment`, `Version`,
//! `TimeoutSeconds` and `QueryLanguage`; `StartAt`, `States` and `Comment` of the machine,
//! a Parallel branch or a Map `ItemProcessor`/`Iterator` (nesting bounded); state names;
//! transition targets (`Next`, `Default`, `Choices[].Next`, `Catch[].Next`) resolved to
//! indices; and the block graph handed to [`crate::validate`] for the reachability and
//! terminal checks.

use super::{join, Block, Lang, Parser, MAX_SECONDS, MISSING_TARGET};
use crate::validate::{self, BlockGraph};
use crate::{Diagnostic, QueryLanguage, StateMachine, States};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Blocks nested deeper than this are refused. JSON text cannot get near it (serde stops
/// at 128 levels); it keeps hand-built values from exhausting the stack.
const MAX_BLOCK_DEPTH: usize = 64;

impl Parser {
    pub(super) fn machine(&mut self, value: &Value) -> Option<StateMachine> {
        let Value::Object(obj) = value else {
            self.err("", "Definition must be a valid JSON object");
            return None;
        };
        self.machine_ql = match obj.get("QueryLanguage") {
            None => QueryLanguage::JsonPath,
            // Any value other than exactly "JSONPath" counts as JSONata (floci-io/floci
            // issue #2968, measured); the bad value is still reported.
            Some(v) => self
                .query_language(v, "/QueryLanguage")
                .unwrap_or(QueryLanguage::Jsonata),
        };
        let comment = self.opt_string(obj, "", "Comment");
        let version = self.opt_string(obj, "", "Version");
        let timeout_seconds = match obj.get("TimeoutSeconds") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=MAX_SECONDS).contains(&n) => Some(n),
                _ => {
                    self.wrong(
                        "",
                        "TimeoutSeconds",
                        &format!("an INTEGER between 1 and {MAX_SECONDS}"),
                    );
                    None
                }
            },
        };
        let extra = [
            ("QueryLanguage", Lang::Any),
            ("TimeoutSeconds", Lang::Any),
            ("Version", Lang::Any),
        ];
        let states = self.block(obj, "", &extra);
        Some(StateMachine {
            comment,
            version,
            timeout_seconds,
            query_language: self.machine_ql,
            states: states?,
        })
    }

    pub(super) fn query_language(&mut self, v: &Value, at: &str) -> Option<QueryLanguage> {
        match v.as_str() {
            Some("JSONPath") => Some(QueryLanguage::JsonPath),
            Some("JSONata") => Some(QueryLanguage::Jsonata),
            _ => {
                self.err(at, "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]");
                None
            }
        }
    }

    /// A `StartAt` + `States` object: the machine, a branch, or a Map processor.
    pub(super) fn block(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        extra: &[(&str, Lang)],
    ) -> Option<States> {
        if self.depth >= MAX_BLOCK_DEPTH {
            self.diags.push(Diagnostic::new(
                p,
                "TOO_DEEPLY_NESTED",
                "The states are too deeply nested",
            ));
            return None;
        }
        self.depth += 1;
        let states = self.block_inner(obj, p, extra);
        self.depth -= 1;
        states
    }

    fn block_inner(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        extra: &[(&str, Lang)],
    ) -> Option<States> {
        let mut allowed = vec![
            ("StartAt", Lang::Any),
            ("States", Lang::Any),
            ("Comment", Lang::Any),
        ];
        allowed.extend_from_slice(extra);
        self.check_fields(obj, p, &allowed, QueryLanguage::JsonPath);
        if p.is_empty() {
            let missing: Vec<&str> = ["States", "StartAt"]
                .into_iter()
                .filter(|k| !obj.contains_key(*k))
                .collect();
            if !missing.is_empty() {
                self.err(
                    "",
                    format!("These fields are required: [{}]", missing.join(", ")),
                );
            }
        } else {
            for k in ["StartAt", "States"] {
                if !obj.contains_key(k) {
                    self.required(p, k);
                }
            }
            if p.ends_with("/Iterator") || p.ends_with("/ItemProcessor") || p.contains("/Branches/")
            {
                self.opt_string(obj, p, "Comment");
            }
        }
        let states_p = join(p, "States");
        let states_obj = match obj.get("States") {
            None => return None,
            Some(Value::Object(m)) if m.is_empty() => {
                self.err(states_p, "Value cannot be empty");
                return None;
            }
            Some(Value::Object(m)) => m,
            Some(_) => {
                self.wrong(p, "States", "an OBJECT");
                return None;
            }
        };
        let index: HashMap<&str, usize> = states_obj
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let start_at = match obj.get("StartAt") {
            None => None,
            Some(Value::String(s)) => match index.get(s.as_str()) {
                Some(i) => Some(*i),
                None => {
                    self.diags.push(Diagnostic::new(
                        join(p, "StartAt"),
                        MISSING_TARGET,
                        // AWS says 'Next' here too (cfn-lint issue #4074 quotes
                        // "Missing 'Next' target: Not sure at /StartAt").
                        format!("Missing 'Next' target: {s}"),
                    ));
                    None
                }
            },
            Some(_) => {
                self.wrong(p, "StartAt", "a STRING");
                None
            }
        };
        let block = Block { index: &index };
        // The graph is read from the raw states, so a state that fails the schema still
        // contributes its transitions and terminal status.
        let graph = BlockGraph {
            pointer: p.to_string(),
            names: states_obj.keys().cloned().collect(),
            edges: states_obj
                .values()
                .map(|v| {
                    raw_targets(v)
                        .filter_map(|t| index.get(t).copied())
                        .collect()
                })
                .collect(),
            terminal: states_obj.values().map(raw_terminal).collect(),
            start: start_at,
        };
        let mut states = Vec::with_capacity(states_obj.len());
        let mut complete = true;
        for (name, v) in states_obj.iter() {
            let sp = join(&states_p, name);
            self.names.push((name.clone(), sp.clone()));
            let n = name.chars().count();
            if n == 0 || n > 80 {
                self.diags.push(Diagnostic::new(
                    sp.clone(),
                    "INVALID_STATE_NAME",
                    format!("State name must be between 1 and 80 characters long: {name}"),
                ));
            }
            match self.state(name, v, &sp, &block) {
                Some(state) => states.push(state),
                None => complete = false,
            }
        }
        validate::check_block(&graph, &mut self.diags);
        match (complete, start_at) {
            (true, Some(start_at)) => Some(States { start_at, states }),
            _ => None,
        }
    }

    /// Resolve a transition target; record the edge in the block graph.
    pub(super) fn target(
        &mut self,
        v: &Value,
        at: &str,
        field: &str,
        block: &Block,
    ) -> Option<usize> {
        let Value::String(name) = v else {
            self.err(at, format!("The field '{field}' must be a STRING"));
            return None;
        };
        match block.index.get(name.as_str()) {
            Some(i) => Some(*i),
            None => {
                self.diags.push(Diagnostic::new(
                    at,
                    MISSING_TARGET,
                    // AWS names 'Next' for every position (Next, Default, Choices[i].Next,
                    // Catch[i].Next), as measured in floci-io/floci PR #2786.
                    format!("Missing 'Next' target: {name}"),
                ));
                None
            }
        }
    }
}

/// Transition targets written in a raw state: `Next`, `Default`, `Choices[].Next` and
/// `Catch[].Next`.
fn raw_targets(state: &Value) -> impl Iterator<Item = &str> {
    let nested = |field: &str| {
        state
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("Next").and_then(Value::as_str))
    };
    ["Next", "Default"]
        .into_iter()
        .filter_map(|k| state.get(k).and_then(Value::as_str))
        .chain(nested("Choices"))
        .chain(nested("Catch"))
}

/// A raw state that can end its block: `End: true`, Succeed or Fail.
fn raw_terminal(state: &Value) -> bool {
    state.get("End") == Some(&Value::Bool(true))
        || matches!(
            state.get("Type").and_then(Value::as_str),
            Some("Succeed" | "Fail")
        )
}
