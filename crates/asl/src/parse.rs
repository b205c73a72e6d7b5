//! Text/value → typed [`StateMachine`], collecting every diagnostic in one walk.
//!
//! Each `States` block is parsed with its names indexed first, so `Next`, `Default`
//! and catcher targets resolve to indices as they are read. The graph checks that need
//! a whole block (reachability, terminal states) and the machine (unique names) are in
//! [`crate::validate`]. A parse never stops at the first problem: a bad field records a
//! diagnostic and the walk goes on; the result is `Err` as soon as any was recorded.

use crate::validate::{self, BlockGraph};
use crate::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use stepwise_expr::intrinsics::Intrinsic;
use stepwise_expr::jsonpath::{JsonPath, Root};
use stepwise_expr::template::PayloadTemplate;
use stepwise_jsonata::{is_expression, JsonataExpr, JsonataTemplate};

pub(crate) const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";
pub(crate) const MISSING_TARGET: &str = "MISSING_TRANSITION_TARGET";
pub(crate) const UNSUPPORTED_JSONATA: &str = "UNSUPPORTED_JSONATA_EXPRESSION";

/// The largest value AWS accepts for second counts (timeouts, waits, intervals).
const MAX_SECONDS: u64 = 99_999_999;

const STATE_TYPES: &str = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]";

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

/// Blocks nested deeper than this are refused. JSON text cannot get near it (serde stops
/// at 128 levels); it keeps hand-built values from exhausting the stack.
const MAX_BLOCK_DEPTH: usize = 64;

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

    // ---- expressions -------------------------------------------------------------

    fn path(&mut self, src: &str, at: &str, field: &str) -> Option<JsonPath> {
        match JsonPath::parse(src) {
            Ok(path) => Some(path),
            Err(e) => {
                self.err(
                    at,
                    format!("The value for the field '{field}' must be a valid JSONPath: {e}"),
                );
                None
            }
        }
    }

    fn path_field(&mut self, obj: &Map<String, Value>, p: &str, field: &str) -> Option<JsonPath> {
        match obj.get(field)? {
            Value::String(s) => self.path(s, &join(p, field), field),
            _ => {
                self.wrong(p, field, "a STRING that contains a JSONPath");
                None
            }
        }
    }

    /// A reference path: definite and rooted at the input (what `ResultPath` writes into).
    fn reference_path(&mut self, src: &str, at: &str, field: &str) -> Option<JsonPath> {
        let path = self.path(src, at, field)?;
        if *path.root() != Root::Input || !path.is_definite() {
            self.err(
                at,
                format!("The value for the field '{field}' must be a valid reference path"),
            );
            return None;
        }
        Some(path)
    }

    fn filter_path(&mut self, obj: &Map<String, Value>, p: &str, field: &str) -> FilterPath {
        match obj.get(field) {
            None => FilterPath::Default,
            Some(Value::Null) => FilterPath::Null,
            Some(_) => self
                .path_field(obj, p, field)
                .map(FilterPath::Path)
                .unwrap_or_default(),
        }
    }

    fn result_path(&mut self, obj: &Map<String, Value>, p: &str) -> ResultPath {
        match obj.get("ResultPath") {
            None => ResultPath::Default,
            Some(Value::Null) => ResultPath::Discard,
            Some(Value::String(s)) => self
                .reference_path(s, &join(p, "ResultPath"), "ResultPath")
                .map(ResultPath::Path)
                .unwrap_or_default(),
            Some(_) => {
                self.wrong(
                    p,
                    "ResultPath",
                    "a STRING that contains a JSONPath, or null",
                );
                ResultPath::Default
            }
        }
    }

    fn jsonata(&mut self, body: &str, at: &str) -> Option<JsonataExpr> {
        match JsonataExpr::parse(body) {
            Ok(e) => {
                self.check_expression(&e, at);
                Some(e)
            }
            Err(e) => {
                self.bad_jsonata(at, &e.message);
                None
            }
        }
    }

    /// What AWS refuses in an expression that parses (`UNSUPPORTED_JSONATA_EXPRESSION`):
    /// names read from the (absent) context item, and `$states` fields the field lacks.
    /// `$states.result` and `$states.errorOutput` exist only in some fields; AWS refuses the
    /// definition when an expression names one elsewhere, e.g. `UNSUPPORTED_JSONATA_EXPRESSION:
    /// Field '$states.errorOutput' does not exist.` for a Task's `Arguments` (anomalyco/sst
    /// issue #6110). Only explicit `$states.<field>` paths are judged: an expression that
    /// uses `$states` whole (`$keys($states)`) is left alone.
    fn check_expression(&mut self, e: &JsonataExpr, at: &str) {
        // There is no context item: a name read at the top level reads nothing, and AWS
        // refuses it, once per distinct name, at the field: `Reference to 'phone' at the
        // top level is not supported.` (floci-io/floci issue #2670, PR #2699).
        for name in e.top_level_references() {
            self.diags.push(Diagnostic::new(
                at,
                UNSUPPORTED_JSONATA,
                format!("Reference to '{name}' at the top level is not supported."),
            ));
        }
        // `reads_states_field` answers true for every name when `$states` is used whole;
        // a name no field can have tells that case apart.
        if e.reads_states_field("\u{0}") {
            return;
        }
        let scope = self.scope;
        for (field, ok) in [
            ("result", scope.result),
            ("errorOutput", scope.error_output),
        ] {
            if !ok && e.reads_states_field(field) {
                self.diags.push(Diagnostic::new(
                    at,
                    UNSUPPORTED_JSONATA,
                    format!("Field '$states.{field}' does not exist."),
                ));
            }
        }
    }

    /// Parse with `scope` as the `$states` fields in reach, then restore the previous one.
    fn in_scope<T>(&mut self, scope: StatesScope, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = std::mem::replace(&mut self.scope, scope);
        let out = f(self);
        self.scope = saved;
        out
    }

    /// AWS reports an expression that does not parse with its own code and the parser's
    /// message, minus the JSONata error code, at the field: `INVALID_JSONATA_EXPRESSION:
    /// Unexpected end of expression at /States/Main/Output` (floci-io/floci issue #2745).
    fn bad_jsonata(&mut self, at: &str, message: &str) {
        let b = message.as_bytes();
        let coded = b.len() > 6
            && b[0].is_ascii_uppercase()
            && b[1..5].iter().all(u8::is_ascii_digit)
            && &b[5..7] == b": ";
        let text = if coded { &message[7..] } else { message };
        self.diags
            .push(Diagnostic::new(at, "INVALID_JSONATA_EXPRESSION", text));
    }

    /// A JSONPath payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`).
    fn payload(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
    ) -> Option<PayloadTemplate> {
        let raw = obj.get(field)?;
        let at = join(p, field);
        // AWS's schema takes `Parameters` of any JSON type (an array of templates, a
        // string…); `ResultSelector` and `Assign` must be objects.
        if !raw.is_object() && field != "Parameters" {
            self.wrong(p, field, "an OBJECT");
            return None;
        }
        match PayloadTemplate::compile(raw) {
            Ok(t) => Some(t),
            Err(errors) => {
                // AWS locates template problems at the field, names the key in the text and
                // stops at its sentence; the parser's detail would break the exact wording.
                const AWS: &str = " must be a valid JSONPath or a valid intrinsic function call";
                for e in errors {
                    let message = match e.message.find(AWS) {
                        Some(i) => e.message[..i + AWS.len()].to_string(),
                        None => e.message,
                    };
                    self.err(at.clone(), message);
                }
                None
            }
        }
    }

    /// A JSONata template (`Arguments`, `Output`, `Assign`, `Items`, `ItemSelector`).
    fn jsonata_template(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        object_only: bool,
    ) -> Option<JsonataTemplate> {
        let raw = obj.get(field)?;
        let at = join(p, field);
        if object_only && !raw.is_object() && !matches!(raw, Value::String(s) if is_expression(s)) {
            self.wrong(p, field, "an OBJECT or a JSONata expression");
            return None;
        }
        match JsonataTemplate::compile(raw) {
            Ok(t) => {
                for (pointer, e) in t.expressions() {
                    self.check_expression(e, &format!("{at}{pointer}"));
                }
                Some(t)
            }
            Err(errors) => {
                for e in errors {
                    self.bad_jsonata(&format!("{at}{}", e.pointer), &e.message);
                }
                None
            }
        }
    }

    fn assign(&mut self, obj: &Map<String, Value>, p: &str, ql: QueryLanguage) -> Option<Assign> {
        let raw = obj.get("Assign")?;
        if !raw.is_object() {
            self.wrong(p, "Assign", "an OBJECT");
            return None;
        }
        match ql {
            QueryLanguage::JsonPath => self.payload(obj, p, "Assign").map(Assign::JsonPath),
            QueryLanguage::Jsonata => self
                .jsonata_template(obj, p, "Assign", true)
                .map(Assign::Jsonata),
        }
    }

    /// A field given literally, by its `…Path` twin (JSONPath) or as `{% %}` (JSONata).
    /// `lit` checks and converts a literal (and records why when it cannot).
    #[allow(clippy::too_many_arguments)] // one call shape for every literal/path/expression pair
    fn dyn_field<T>(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        path_field: Option<&str>,
        ql: QueryLanguage,
        intrinsic: bool,
        lit: impl FnOnce(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<Dyn<T>> {
        let literal = obj.get(field);
        let by_path = match (ql, path_field) {
            (QueryLanguage::JsonPath, Some(pf)) => obj.get(pf).map(|v| (pf, v)),
            _ => None,
        };
        if let (Some(_), Some((pf, _))) = (literal, by_path) {
            self.err(
                p,
                format!("Only one of the fields '{field}' and '{pf}' may be set"),
            );
            return None;
        }
        if let Some(v) = literal {
            let at = join(p, field);
            if ql == QueryLanguage::Jsonata {
                if let Some(body) = v.as_str().and_then(jsonata_body) {
                    return self.jsonata(body, &at).map(Dyn::Jsonata);
                }
            }
            return lit(self, v, &at).map(Dyn::Literal);
        }
        let (pf, v) = by_path?;
        let at = join(p, pf);
        let Value::String(s) = v else {
            self.wrong(p, pf, "a STRING that contains a JSONPath");
            return None;
        };
        if intrinsic && Intrinsic::looks_like(s) {
            // ErrorPath/CausePath take only the intrinsics that return a string (AWS's
            // Fail state documentation lists them).
            use stepwise_expr::intrinsics::Function as F;
            let string_valued = |i: &Intrinsic| {
                matches!(
                    i.function(),
                    F::Format
                        | F::JsonToString
                        | F::ArrayGetItem
                        | F::Base64Encode
                        | F::Base64Decode
                        | F::Hash
                        | F::Uuid
                )
            };
            return match Intrinsic::parse(s) {
                Ok(i) if !string_valued(&i) => {
                    self.err(at, format!("The value for the field '{pf}' must be a valid JSONPath or a valid intrinsic function call: {} does not return a string", i.function().name()));
                    None
                }
                Ok(i) => Some(Dyn::Intrinsic(i)),
                Err(e) => {
                    self.err(at, format!("The value for the field '{pf}' must be a valid JSONPath or a valid intrinsic function call: {e}"));
                    None
                }
            };
        }
        self.path(s, &at, pf).map(Dyn::Path)
    }

    #[allow(clippy::too_many_arguments)]
    fn dyn_uint(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        path_field: Option<&str>,
        ql: QueryLanguage,
        min: u64,
        max: u64,
    ) -> Option<Dyn<u64>> {
        self.dyn_field(
            obj,
            p,
            field,
            path_field,
            ql,
            false,
            |this, v, at| match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    let expr = if ql == QueryLanguage::Jsonata {
                        ", or a JSONata expression"
                    } else {
                        ""
                    };
                    this.err(
                        at,
                        format!(
                            "The field '{field}' must be an INTEGER between {min} and {max}{expr}"
                        ),
                    );
                    None
                }
            },
        )
    }

    fn dyn_string(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        path_field: &str,
        ql: QueryLanguage,
    ) -> Option<Dyn<String>> {
        self.dyn_field(
            obj,
            p,
            field,
            Some(path_field),
            ql,
            true,
            |this, v, at| match v {
                Value::String(s) => Some(s.clone()),
                _ => {
                    this.err(at, format!("The field '{field}' must be a STRING"));
                    None
                }
            },
        )
    }

    // ---- structure -----------------------------------------------------------------

    fn machine(&mut self, value: &Value) -> Option<StateMachine> {
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

    fn query_language(&mut self, v: &Value, at: &str) -> Option<QueryLanguage> {
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
    fn block(
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
    fn target(&mut self, v: &Value, at: &str, field: &str, block: &Block) -> Option<usize> {
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

    fn state(&mut self, name: &str, v: &Value, p: &str, block: &Block) -> Option<State> {
        let Value::Object(obj) = v else {
            self.err(p, format!("The state '{name}' must be an OBJECT"));
            return None;
        };
        let ty = match obj.get("Type") {
            None => {
                self.required(p, "Type");
                return None;
            }
            Some(Value::String(t))
                if matches!(
                    t.as_str(),
                    "Task" | "Wait" | "Pass" | "Succeed" | "Fail" | "Choice" | "Parallel" | "Map"
                ) =>
            {
                t.as_str()
            }
            Some(_) => {
                self.err(
                    join(p, "Type"),
                    format!("The field 'Type' should have one of these values: {STATE_TYPES}"),
                );
                return None;
            }
        };
        let ql = match obj.get("QueryLanguage") {
            None => self.machine_ql,
            Some(v) => {
                let ql = self
                    .query_language(v, &join(p, "QueryLanguage"))
                    .unwrap_or(QueryLanguage::Jsonata);
                if self.machine_ql == QueryLanguage::Jsonata && ql == QueryLanguage::JsonPath {
                    self.err(p, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine");
                }
                ql
            }
        };
        let jp = ql == QueryLanguage::JsonPath;

        // Which fields this type has.
        let flows = matches!(ty, "Pass" | "Task" | "Wait" | "Parallel" | "Map");
        let has_io_paths = ty != "Fail";
        let has_params = matches!(ty, "Pass" | "Task" | "Parallel" | "Map");
        let has_selector = matches!(ty, "Task" | "Parallel" | "Map");
        let has_assign = !matches!(ty, "Succeed" | "Fail");
        let has_errors = matches!(ty, "Task" | "Parallel" | "Map");
        let mut allowed: Vec<(&str, Lang)> = vec![
            ("Type", Lang::Any),
            ("Comment", Lang::Any),
            ("QueryLanguage", Lang::Any),
        ];
        if flows {
            allowed.extend([("Next", Lang::Any), ("End", Lang::Any)]);
        }
        if has_io_paths {
            allowed.extend([
                ("InputPath", Lang::JsonPath),
                ("OutputPath", Lang::JsonPath),
                ("Output", Lang::Jsonata),
            ]);
        }
        if has_params {
            allowed.extend([
                ("Parameters", Lang::JsonPath),
                ("ResultPath", Lang::JsonPath),
            ]);
        }
        if has_selector {
            allowed.push(("ResultSelector", Lang::JsonPath));
        }
        if has_assign {
            allowed.push(("Assign", Lang::Any));
        }
        if has_errors {
            allowed.extend([("Retry", Lang::Any), ("Catch", Lang::Any)]);
        }
        allowed.extend_from_slice(match ty {
            "Pass" => &[("Result", Lang::JsonPath)][..],
            "Task" => &[
                ("Resource", Lang::Any),
                ("Arguments", Lang::Jsonata),
                ("Credentials", Lang::Any),
                ("TimeoutSeconds", Lang::Any),
                ("TimeoutSecondsPath", Lang::JsonPath),
                ("HeartbeatSeconds", Lang::Any),
                ("HeartbeatSecondsPath", Lang::JsonPath),
            ][..],
            "Choice" => &[("Choices", Lang::Any), ("Default", Lang::Any)][..],
            "Wait" => &[
                ("Seconds", Lang::Any),
                ("SecondsPath", Lang::JsonPath),
                ("Timestamp", Lang::Any),
                ("TimestampPath", Lang::JsonPath),
            ][..],
            "Fail" => &[
                ("Error", Lang::Any),
                ("ErrorPath", Lang::JsonPath),
                ("Cause", Lang::Any),
                ("CausePath", Lang::JsonPath),
            ][..],
            "Parallel" => &[("Branches", Lang::Any), ("Arguments", Lang::Jsonata)][..],
            "Map" => &[
                ("ItemProcessor", Lang::Any),
                ("Iterator", Lang::Any),
                ("ItemsPath", Lang::JsonPath),
                ("Items", Lang::Jsonata),
                ("ItemSelector", Lang::Any),
                ("ItemReader", Lang::Any),
                ("ItemBatcher", Lang::Any),
                ("ResultWriter", Lang::Any),
                ("MaxConcurrency", Lang::Any),
                ("MaxConcurrencyPath", Lang::JsonPath),
                ("ToleratedFailureCount", Lang::Any),
                ("ToleratedFailureCountPath", Lang::JsonPath),
                ("ToleratedFailurePercentage", Lang::Any),
                ("ToleratedFailurePercentagePath", Lang::JsonPath),
                ("Label", Lang::Any),
            ][..],
            _ => &[][..],
        });
        self.check_fields(obj, p, &allowed, ql);

        let comment = self.opt_string(obj, p, "Comment");
        let diags_before = self.diags.len();

        let transition = if flows {
            self.transition(obj, p, block)
        } else {
            Some(Transition::End)
        };

        let mut io = InputOutput::default();
        let result_scope = StatesScope {
            result: has_errors,
            error_output: false,
        };
        if jp {
            if has_io_paths {
                io.input_path = self.filter_path(obj, p, "InputPath");
                io.output_path = self.filter_path(obj, p, "OutputPath");
            }
            if has_params && ty != "Map" {
                io.parameters = self.payload(obj, p, "Parameters");
            }
            if has_params {
                io.result_path = self.result_path(obj, p);
            }
            if has_selector {
                io.result_selector = self.payload(obj, p, "ResultSelector");
            }
        } else {
            if has_io_paths {
                io.output = self.in_scope(result_scope, |this| {
                    this.jsonata_template(obj, p, "Output", false)
                });
            }
            if matches!(ty, "Task" | "Parallel") {
                io.arguments = self.jsonata_template(obj, p, "Arguments", true);
            }
        }
        let assign = if has_assign {
            self.in_scope(result_scope, |this| this.assign(obj, p, ql))
        } else {
            None
        };
        let (retry, catch) = if has_errors {
            (self.retriers(obj, p), self.catchers(obj, p, ql, block))
        } else {
            (Vec::new(), Vec::new())
        };

        let kind = match ty {
            "Pass" => Some(StateKind::Pass(Pass {
                result: if jp { obj.get("Result").cloned() } else { None },
            })),
            "Succeed" => Some(StateKind::Succeed),
            "Task" => self.task(obj, p, ql).map(StateKind::Task),
            "Choice" => self.choice(obj, p, ql, block).map(StateKind::Choice),
            "Wait" => self.wait(obj, p, ql).map(StateKind::Wait),
            "Fail" => Some(StateKind::Fail(Fail {
                error: self.dyn_string(obj, p, "Error", "ErrorPath", ql),
                cause: self.dyn_string(obj, p, "Cause", "CausePath", ql),
            })),
            "Parallel" => self.parallel(obj, p).map(StateKind::Parallel),
            "Map" => self.map(obj, p, ql).map(|m| StateKind::Map(Box::new(m))),
            _ => None,
        };
        if self.diags.len() > diags_before {
            return None;
        }
        Some(State {
            name: name.into(),
            comment,
            query_language: ql,
            io,
            assign,
            transition: transition?,
            retry,
            catch,
            kind: kind?,
        })
    }

    fn transition(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        block: &Block,
    ) -> Option<Transition> {
        match (obj.get("Next"), obj.get("End")) {
            (Some(_), Some(_)) => {
                self.err(p, "Only one of the fields 'Next' and 'End' may be set");
                None
            }
            (Some(next), None) => self
                .target(next, &join(p, "Next"), "Next", block)
                .map(Transition::Next),
            (None, Some(Value::Bool(true))) => Some(Transition::End),
            (None, Some(Value::Bool(false))) => {
                self.err(
                    join(p, "End"),
                    "The field 'End' must be true when 'Next' is not set",
                );
                None
            }
            (None, Some(_)) => {
                self.wrong(p, "End", "a BOOLEAN");
                None
            }
            (None, None) => {
                self.err(p, "No Next or End field: one of them is required");
                None
            }
        }
    }

    // ---- Retry / Catch -----------------------------------------------------------------

    /// `ErrorEquals`: a non-empty array of strings; `States.ALL` only alone.
    fn error_equals(&mut self, obj: &Map<String, Value>, p: &str) -> Vec<String> {
        let Some(v) = obj.get("ErrorEquals") else {
            self.required(p, "ErrorEquals");
            return Vec::new();
        };
        let at = join(p, "ErrorEquals");
        let Value::Array(items) = v else {
            self.wrong(p, "ErrorEquals", "an ARRAY of STRING");
            return Vec::new();
        };
        if items.is_empty() {
            self.err(at, "Value cannot be empty");
            return Vec::new();
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                _ => self.err(
                    join(&at, &i.to_string()),
                    "The elements of 'ErrorEquals' must be STRING",
                ),
            }
        }
        if out.len() > 1 && out.iter().any(|e| e == "States.ALL") {
            self.err(at, "'States.ALL' must appear alone in 'ErrorEquals'");
        }
        out
    }

    /// A catch-all (`States.ALL`) retrier/catcher must be the last one.
    fn check_all_last(&mut self, lists: &[Vec<String>], p: &str, field: &str) {
        let last = lists.len().saturating_sub(1);
        for (i, l) in lists.iter().enumerate() {
            if i != last && l.iter().any(|e| e == "States.ALL") {
                self.err(
                    join(&join(&join(p, field), &i.to_string()), "ErrorEquals"),
                    format!("'States.ALL' must only appear in the last element of '{field}'"),
                );
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

    fn retriers(&mut self, obj: &Map<String, Value>, p: &str) -> Vec<Retrier> {
        let Some(items) = self.array(obj, p, "Retry") else {
            return Vec::new();
        };
        let rp = join(p, "Retry");
        let mut out = Vec::with_capacity(items.len());
        let mut lists = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = join(&rp, &i.to_string());
            let Value::Object(r) = item else {
                self.err(ip, "A retrier must be an OBJECT");
                continue;
            };
            self.check_fields(
                r,
                &ip,
                &[
                    ("ErrorEquals", Lang::Any),
                    ("IntervalSeconds", Lang::Any),
                    ("MaxAttempts", Lang::Any),
                    ("BackoffRate", Lang::Any),
                    ("MaxDelaySeconds", Lang::Any),
                    ("JitterStrategy", Lang::Any),
                    ("Comment", Lang::Any),
                ],
                QueryLanguage::JsonPath,
            );
            let error_equals = self.error_equals(r, &ip);
            lists.push(error_equals.clone());
            let interval_seconds = self
                .uint(r, &ip, "IntervalSeconds", 1, MAX_SECONDS)
                .unwrap_or(Retrier::DEFAULT_INTERVAL_SECONDS);
            let max_attempts = self
                .uint(r, &ip, "MaxAttempts", 0, MAX_SECONDS)
                .unwrap_or(Retrier::DEFAULT_MAX_ATTEMPTS);
            let max_delay_seconds = self.uint(r, &ip, "MaxDelaySeconds", 1, 31_622_400);
            let backoff_rate = match r.get("BackoffRate") {
                None => Retrier::DEFAULT_BACKOFF_RATE,
                Some(v) => match v.as_f64() {
                    Some(f) if f >= 1.0 => f,
                    _ => {
                        self.wrong(&ip, "BackoffRate", "a NUMBER greater than or equal to 1.0");
                        Retrier::DEFAULT_BACKOFF_RATE
                    }
                },
            };
            let jitter_strategy = match r.get("JitterStrategy") {
                None => JitterStrategy::None,
                Some(v) => match v.as_str() {
                    Some("FULL") => JitterStrategy::Full,
                    Some("NONE") => JitterStrategy::None,
                    _ => {
                        self.err(join(&ip, "JitterStrategy"), "The field 'JitterStrategy' should have one of these values: [FULL, NONE]");
                        JitterStrategy::None
                    }
                },
            };
            out.push(Retrier {
                error_equals,
                interval_seconds,
                max_attempts,
                backoff_rate,
                max_delay_seconds,
                jitter_strategy,
            });
        }
        self.check_all_last(&lists, p, "Retry");
        out
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

    fn catchers(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
        block: &Block,
    ) -> Vec<Catcher> {
        let Some(items) = self.array(obj, p, "Catch") else {
            return Vec::new();
        };
        let cp = join(p, "Catch");
        let mut out = Vec::with_capacity(items.len());
        let mut lists = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = join(&cp, &i.to_string());
            let Value::Object(c) = item else {
                self.err(ip, "A catcher must be an OBJECT");
                continue;
            };
            self.check_fields(
                c,
                &ip,
                &[
                    ("ErrorEquals", Lang::Any),
                    ("Next", Lang::Any),
                    ("ResultPath", Lang::JsonPath),
                    ("Assign", Lang::Any),
                    ("Output", Lang::Jsonata),
                    ("Comment", Lang::Any),
                ],
                ql,
            );
            let error_equals = self.error_equals(c, &ip);
            lists.push(error_equals.clone());
            let next = match c.get("Next") {
                Some(v) => self.target(v, &join(&ip, "Next"), "Next", block),
                None => {
                    self.required(&ip, "Next");
                    None
                }
            };
            let result_path = if ql == QueryLanguage::JsonPath {
                self.result_path(c, &ip)
            } else {
                ResultPath::Default
            };
            let catch_scope = StatesScope {
                result: false,
                error_output: true,
            };
            let output = if ql == QueryLanguage::Jsonata {
                self.in_scope(catch_scope, |this| {
                    this.jsonata_template(c, &ip, "Output", false)
                })
            } else {
                None
            };
            let assign = self.in_scope(catch_scope, |this| this.assign(c, &ip, ql));
            if let Some(next) = next {
                out.push(Catcher {
                    error_equals,
                    next,
                    result_path,
                    assign,
                    output,
                });
            }
        }
        self.check_all_last(&lists, p, "Catch");
        out
    }

    // ---- state bodies ----------------------------------------------------------------

    fn task(&mut self, obj: &Map<String, Value>, p: &str, ql: QueryLanguage) -> Option<Task> {
        let resource = match obj.get("Resource") {
            None => {
                self.required(p, "Resource");
                None
            }
            Some(Value::String(r)) => {
                if !validate::is_arn(r) || validate::is_unknown_integration(r) {
                    self.err(
                        join(p, "Resource"),
                        format!("The resource provided {r} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."),
                    );
                }
                Some(r.clone())
            }
            Some(_) => {
                self.wrong(p, "Resource", "a STRING");
                None
            }
        };
        let timeout_seconds = self.dyn_uint(
            obj,
            p,
            "TimeoutSeconds",
            Some("TimeoutSecondsPath"),
            ql,
            1,
            MAX_SECONDS,
        );
        let heartbeat_seconds = self.dyn_uint(
            obj,
            p,
            "HeartbeatSeconds",
            Some("HeartbeatSecondsPath"),
            ql,
            1,
            MAX_SECONDS,
        );
        if let (Some(Dyn::Literal(t)), Some(Dyn::Literal(h))) =
            (&timeout_seconds, &heartbeat_seconds)
        {
            if h >= t {
                self.err(
                    join(p, "HeartbeatSeconds"),
                    "HeartbeatSeconds must be smaller than TimeoutSeconds",
                );
            }
        }
        let credentials = match obj.get("Credentials") {
            None => None,
            Some(Value::Object(c)) => {
                let cp = join(p, "Credentials");
                let role = if ql == QueryLanguage::JsonPath {
                    c.get("RoleArn").or(c.get("RoleArn.$"))
                } else {
                    c.get("RoleArn")
                };
                if role.is_none() {
                    self.required(&cp, "RoleArn");
                }
                Some(Value::Object(c.clone()))
            }
            Some(_) => {
                self.wrong(p, "Credentials", "an OBJECT");
                None
            }
        };
        Some(Task {
            resource: resource?,
            timeout_seconds,
            heartbeat_seconds,
            credentials,
        })
    }

    fn wait(&mut self, obj: &Map<String, Value>, p: &str, ql: QueryLanguage) -> Option<Wait> {
        let keys: &[&str] = match ql {
            QueryLanguage::JsonPath => &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
            QueryLanguage::Jsonata => &["Seconds", "Timestamp"],
        };
        let present = keys.iter().filter(|k| obj.contains_key(**k)).count();
        if present != 1 {
            self.err(
                p,
                format!(
                    "Exactly one of these fields must be set: [{}]",
                    keys.join(", ")
                ),
            );
            return None;
        }
        if obj.contains_key("Seconds")
            || obj.contains_key("SecondsPath") && ql == QueryLanguage::JsonPath
        {
            return self
                .dyn_uint(obj, p, "Seconds", Some("SecondsPath"), ql, 0, MAX_SECONDS)
                .map(Wait::Seconds);
        }
        self.dyn_field(
            obj,
            p,
            "Timestamp",
            Some("TimestampPath"),
            ql,
            false,
            |this, v, at| match v {
                Value::String(s) if validate::is_rfc3339(s) => Some(s.clone()),
                _ => {
                    this.err(at, "String does not match RFC3339 timestamp");
                    None
                }
            },
        )
        .map(Wait::Timestamp)
    }

    fn parallel(&mut self, obj: &Map<String, Value>, p: &str) -> Option<Parallel> {
        let Some(items) = obj.get("Branches") else {
            self.required(p, "Branches");
            return None;
        };
        let bp = join(p, "Branches");
        let Value::Array(items) = items else {
            self.wrong(p, "Branches", "an ARRAY");
            return None;
        };
        if items.is_empty() {
            self.err(bp, "Value cannot be empty");
            return None;
        }
        let mut branches = Vec::with_capacity(items.len());
        let mut complete = true;
        for (i, b) in items.iter().enumerate() {
            let ip = join(&bp, &i.to_string());
            match b {
                Value::Object(b) => match self.block(b, &ip, &[]) {
                    Some(s) => branches.push(s),
                    None => complete = false,
                },
                _ => {
                    self.err(ip, "A branch must be an OBJECT");
                    complete = false;
                }
            }
        }
        complete.then_some(Parallel { branches })
    }

    fn map(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
    ) -> Option<crate::definition::Map> {
        let jp = ql == QueryLanguage::JsonPath;
        let (field, legacy_iterator) = match (
            obj.contains_key("ItemProcessor"),
            obj.contains_key("Iterator"),
        ) {
            (true, true) => {
                self.err(
                    p,
                    "Only one of the fields 'ItemProcessor' and 'Iterator' may be set",
                );
                return None;
            }
            (false, false) => {
                self.required(p, "ItemProcessor");
                return None;
            }
            (true, false) => ("ItemProcessor", false),
            (false, true) => ("Iterator", true),
        };
        let pp = join(p, field);
        let (processor, mode, execution_type) = match obj.get(field) {
            Some(Value::Object(proc_obj)) => {
                let (mode, execution_type) = self.processor_config(proc_obj, &pp);
                (
                    self.block(proc_obj, &pp, &[("ProcessorConfig", Lang::Any)]),
                    mode,
                    execution_type,
                )
            }
            _ => {
                self.wrong(p, field, "an OBJECT");
                (None, ProcessorMode::Inline, None)
            }
        };
        let items_path = if jp {
            self.path_field(obj, p, "ItemsPath")
        } else {
            None
        };
        let items = if jp {
            None
        } else {
            match obj.get("Items") {
                Some(Value::Array(_)) => self.jsonata_template(obj, p, "Items", false),
                Some(Value::String(s)) if is_expression(s) => {
                    self.jsonata_template(obj, p, "Items", false)
                }
                Some(_) => {
                    self.wrong(p, "Items", "an ARRAY or a JSONata expression");
                    None
                }
                None => None,
            }
        };
        let item_selector = match (
            obj.contains_key("ItemSelector"),
            jp && obj.contains_key("Parameters"),
        ) {
            (true, true) => {
                self.err(
                    p,
                    "Only one of the fields 'ItemSelector' and 'Parameters' may be set",
                );
                None
            }
            (true, false) if jp => self
                .payload(obj, p, "ItemSelector")
                .map(MapSelector::JsonPath),
            (true, false) => self
                .jsonata_template(obj, p, "ItemSelector", true)
                .map(MapSelector::Jsonata),
            (false, true) => self
                .payload(obj, p, "Parameters")
                .map(MapSelector::JsonPath),
            (false, false) => None,
        };
        let max_concurrency = self.dyn_uint(
            obj,
            p,
            "MaxConcurrency",
            Some("MaxConcurrencyPath"),
            ql,
            0,
            u32::MAX as u64,
        );
        let tolerated_failure_count = self.dyn_uint(
            obj,
            p,
            "ToleratedFailureCount",
            Some("ToleratedFailureCountPath"),
            ql,
            0,
            u32::MAX as u64,
        );
        let tolerated_failure_percentage = self.dyn_field(
            obj,
            p,
            "ToleratedFailurePercentage",
            Some("ToleratedFailurePercentagePath"),
            ql,
            false,
            |this, v, at| match v.as_f64() {
                Some(f) if (0.0..=100.0).contains(&f) => Some(f),
                _ => {
                    this.err(
                        at,
                        "The field 'ToleratedFailurePercentage' must be a NUMBER between 0 and 100",
                    );
                    None
                }
            },
        );
        let label = self.opt_string(obj, p, "Label");
        if let Some(l) = &label {
            if l.is_empty()
                || l.chars().count() > 40
                || l.chars().any(|c| {
                    c.is_whitespace() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c) || c.is_control()
                })
            {
                self.diags.push(Diagnostic::new(
                    join(p, "Label"),
                    "INVALID_LABEL_NAME",
                    "Label must be 1 to 40 characters without whitespace or special characters",
                ));
            } else {
                self.labels.push((l.clone(), join(p, "Label")));
            }
        }
        let item_reader = self.shape(
            obj,
            p,
            "ItemReader",
            ql,
            &[("Resource", true), ("ReaderConfig", false)],
        );
        let item_batcher = self.shape(
            obj,
            p,
            "ItemBatcher",
            ql,
            &[
                ("MaxItemsPerBatch", false),
                ("MaxItemsPerBatchPath", false),
                ("MaxInputBytesPerBatch", false),
                ("MaxInputBytesPerBatchPath", false),
                ("BatchInput", false),
            ],
        );
        // `WriterConfig` alone is allowed (the results are formatted into the state's
        // output, nothing is written); otherwise `Resource` says where to write.
        let writer_only = obj
            .get("ResultWriter")
            .is_some_and(|w| w.get("WriterConfig").is_some());
        let result_writer = self.shape(
            obj,
            p,
            "ResultWriter",
            ql,
            &[("Resource", !writer_only), ("WriterConfig", false)],
        );
        Some(crate::definition::Map {
            processor: processor?,
            mode,
            execution_type,
            legacy_iterator,
            items_path,
            items,
            item_selector,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
            label,
            item_reader,
            item_batcher,
            result_writer,
        })
    }

    fn processor_config(
        &mut self,
        proc_obj: &Map<String, Value>,
        pp: &str,
    ) -> (ProcessorMode, Option<String>) {
        let Some(cfg) = proc_obj.get("ProcessorConfig") else {
            return (ProcessorMode::Inline, None);
        };
        let cp = join(pp, "ProcessorConfig");
        let Value::Object(cfg) = cfg else {
            self.wrong(pp, "ProcessorConfig", "an OBJECT");
            return (ProcessorMode::Inline, None);
        };
        self.check_fields(
            cfg,
            &cp,
            &[("Mode", Lang::Any), ("ExecutionType", Lang::Any)],
            QueryLanguage::JsonPath,
        );
        let mode = match cfg.get("Mode") {
            None => ProcessorMode::Inline,
            Some(v) => {
                match v.as_str() {
                    Some("INLINE") => ProcessorMode::Inline,
                    Some("DISTRIBUTED") => ProcessorMode::Distributed,
                    _ => {
                        self.err(join(&cp, "Mode"), "The field 'Mode' should have one of these values: [INLINE, DISTRIBUTED]");
                        ProcessorMode::Inline
                    }
                }
            }
        };
        let execution_type = match cfg.get("ExecutionType") {
            None => None,
            Some(v) => match v.as_str() {
                Some(t @ ("STANDARD" | "EXPRESS")) => Some(t.to_string()),
                _ => {
                    self.err(join(&cp, "ExecutionType"), "The field 'ExecutionType' should have one of these values: [STANDARD, EXPRESS]");
                    None
                }
            },
        };
        if mode == ProcessorMode::Distributed
            && execution_type.is_none()
            && !cfg.contains_key("ExecutionType")
        {
            self.required(&cp, "ExecutionType");
        }
        (mode, execution_type)
    }

    /// `ItemReader` / `ItemBatcher` / `ResultWriter`: kept as written, checked for shape.
    fn shape(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        ql: QueryLanguage,
        fields: &[(&str, bool)],
    ) -> Option<Value> {
        let v = obj.get(field)?;
        let fp = join(p, field);
        let Value::Object(o) = v else {
            self.wrong(p, field, "an OBJECT");
            return None;
        };
        let mut allowed: Vec<(&str, Lang)> = fields.iter().map(|(k, _)| (*k, Lang::Any)).collect();
        allowed.push(("Parameters", Lang::JsonPath));
        allowed.push(("Arguments", Lang::Jsonata));
        // The `…Path` variants of batcher limits are JSONPath-only.
        for a in allowed.iter_mut() {
            if a.0.ends_with("Path") {
                a.1 = Lang::JsonPath;
            }
        }
        self.check_fields(o, &fp, &allowed, ql);
        for (k, required) in fields {
            if *required && !o.contains_key(*k) {
                self.required(&fp, k);
            }
        }
        if let Some(r) = o.get("Resource") {
            if !r.as_str().is_some_and(validate::is_arn) {
                self.err(
                    join(&fp, "Resource"),
                    "The field 'Resource' must be a valid resource ARN",
                );
            }
        }
        for k in ["ReaderConfig", "WriterConfig", "Parameters", "BatchInput"] {
            if o.get(k).is_some_and(|v| !v.is_object()) {
                self.wrong(&fp, k, "an OBJECT");
            }
        }
        Some(v.clone())
    }

    // ---- Choice --------------------------------------------------------------------------

    fn choice(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
        block: &Block,
    ) -> Option<Choice> {
        let cp = join(p, "Choices");
        let items = match obj.get("Choices") {
            None => {
                self.required(p, "Choices");
                None
            }
            Some(Value::Array(a)) if a.is_empty() => {
                self.err(cp.clone(), "Value cannot be empty");
                None
            }
            Some(Value::Array(a)) => Some(a),
            Some(_) => {
                self.wrong(p, "Choices", "an ARRAY");
                None
            }
        };
        let mut choices = Vec::new();
        let mut complete = items.is_some();
        for (i, item) in items.into_iter().flatten().enumerate() {
            match self.choice_branch(item, &join(&cp, &i.to_string()), ql, block) {
                Some(b) => choices.push(b),
                None => complete = false,
            }
        }
        let default = match obj.get("Default") {
            None => None,
            Some(v) => {
                let d = self.target(v, &join(p, "Default"), "Default", block);
                complete &= d.is_some();
                d
            }
        };
        complete.then_some(Choice { choices, default })
    }

    fn choice_branch(
        &mut self,
        v: &Value,
        p: &str,
        ql: QueryLanguage,
        block: &Block,
    ) -> Option<ChoiceBranch> {
        let Value::Object(obj) = v else {
            self.err(p, "A choice rule must be an OBJECT");
            return None;
        };
        let next = match obj.get("Next") {
            Some(n) => self.target(n, &join(p, "Next"), "Next", block),
            None => {
                self.required(p, "Next");
                None
            }
        };
        let assign = self.assign(obj, p, ql);
        let (rule, output) = match ql {
            QueryLanguage::JsonPath => (self.rule(obj, p, true, 0), None),
            QueryLanguage::Jsonata => {
                self.check_fields(
                    obj,
                    p,
                    &[
                        ("Condition", Lang::Any),
                        ("Next", Lang::Any),
                        ("Assign", Lang::Any),
                        ("Output", Lang::Any),
                        ("Comment", Lang::Any),
                    ],
                    ql,
                );
                let cond = match obj.get("Condition") {
                    None => {
                        self.required(p, "Condition");
                        None
                    }
                    Some(Value::Bool(b)) => Some(Dyn::Literal(*b)),
                    Some(Value::String(s)) if is_expression(s) => jsonata_body(s)
                        .and_then(|b| self.jsonata(b, &join(p, "Condition")))
                        .map(Dyn::Jsonata),
                    Some(_) => {
                        self.wrong(p, "Condition", "a BOOLEAN or a JSONata expression");
                        None
                    }
                };
                (
                    cond.map(ChoiceRule::Condition),
                    self.jsonata_template(obj, p, "Output", false),
                )
            }
        };
        Some(ChoiceBranch {
            rule: rule?,
            next: next?,
            assign,
            output,
        })
    }

    /// A JSONPath Boolean expression: `And`/`Or`/`Not`, or `Variable` + one comparison.
    fn rule(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        top: bool,
        depth: usize,
    ) -> Option<ChoiceRule> {
        // Choice rules nest only through JSON, which serde already bounds; this guards
        // values built by hand.
        if depth > 100 {
            self.err(p, "Choice rule is nested too deeply");
            return None;
        }
        for key in obj.keys() {
            let known = matches!(key.as_str(), "Comment" | "Variable" | "And" | "Or" | "Not")
                || (top && matches!(key.as_str(), "Next" | "Assign"))
                || operator(key).is_some();
            if !known {
                self.err(p, format!("Field '{key}' is not supported"));
            }
        }
        let present: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| matches!(*k, "And" | "Or" | "Not") || operator(k).is_some())
            .collect();
        let [key] = present.as_slice() else {
            if present.is_empty() {
                self.err(p, "A choice rule must have exactly one comparison operator or one of 'And', 'Or', 'Not'");
            } else {
                self.err(
                    p,
                    format!(
                        "A choice rule must have exactly one comparison operator, found: [{}]",
                        present.join(", ")
                    ),
                );
            }
            return None;
        };
        let key = *key;
        let kp = join(p, key);
        match key {
            "And" | "Or" => {
                if obj.contains_key("Variable") {
                    self.err(
                        join(p, "Variable"),
                        format!("The field 'Variable' cannot be combined with '{key}'"),
                    );
                }
                let items = match obj.get(key) {
                    Some(Value::Array(a)) if !a.is_empty() => a,
                    Some(Value::Array(_)) => {
                        self.err(kp, "Value cannot be empty");
                        return None;
                    }
                    _ => {
                        self.wrong(p, key, "a non-empty ARRAY of choice rules");
                        return None;
                    }
                };
                let mut rules = Vec::with_capacity(items.len());
                let mut complete = true;
                for (i, item) in items.iter().enumerate() {
                    let ip = join(&kp, &i.to_string());
                    match item {
                        Value::Object(o) => match self.rule(o, &ip, false, depth + 1) {
                            Some(r) => rules.push(r),
                            None => complete = false,
                        },
                        _ => {
                            self.err(ip, "A choice rule must be an OBJECT");
                            complete = false;
                        }
                    }
                }
                if !complete {
                    return None;
                }
                Some(if key == "And" {
                    ChoiceRule::And(rules)
                } else {
                    ChoiceRule::Or(rules)
                })
            }
            "Not" => {
                if obj.contains_key("Variable") {
                    self.err(
                        join(p, "Variable"),
                        "The field 'Variable' cannot be combined with 'Not'",
                    );
                }
                match obj.get("Not") {
                    Some(Value::Object(o)) => self
                        .rule(o, &kp, false, depth + 1)
                        .map(|r| ChoiceRule::Not(Box::new(r))),
                    _ => {
                        self.wrong(p, "Not", "a choice rule OBJECT");
                        None
                    }
                }
            }
            _ => {
                let variable = match obj.get("Variable") {
                    None => {
                        self.required(p, "Variable");
                        None
                    }
                    Some(_) => self.path_field(obj, p, "Variable"),
                };
                let (op, kind, is_path) = operator(key)?;
                let v = obj.get(key)?;
                let operand = if is_path {
                    match v {
                        Value::String(s) => self.path(s, &kp, key).map(Operand::Path),
                        _ => {
                            self.wrong(p, key, "a STRING that contains a JSONPath");
                            None
                        }
                    }
                } else {
                    let ok = match kind {
                        Operand_::Str => v.is_string(),
                        Operand_::Num => v.is_number(),
                        Operand_::Bool | Operand_::Check => v.is_boolean(),
                        Operand_::Ts => v.as_str().is_some_and(validate::is_rfc3339),
                    };
                    if ok {
                        Some(Operand::Literal(v.clone()))
                    } else {
                        let what = match kind {
                            Operand_::Str => "a STRING",
                            Operand_::Num => "a NUMBER",
                            Operand_::Bool | Operand_::Check => "a BOOLEAN",
                            Operand_::Ts => "a STRING that matches an RFC3339 timestamp",
                        };
                        self.err(
                            kp,
                            format!("The field '{key}' must be {what}, got {}", json_type(v)),
                        );
                        None
                    }
                };
                Some(ChoiceRule::Compare {
                    variable: variable?,
                    op,
                    operand: operand?,
                })
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

/// A comparison operator key: its operator, operand kind and whether it is the
/// `…Path` form. `Is…` tests and `StringMatches` have no `…Path` form.
fn operator(key: &str) -> Option<(ComparisonOp, Operand_, bool)> {
    let find = |name: &str| OPERATORS.iter().find(|o| o.0 == name);
    if let Some((_, op, kind)) = find(key) {
        return Some((*op, *kind, false));
    }
    let (name, op, kind) = find(key.strip_suffix("Path")?)?;
    (*kind != Operand_::Check && *name != "StringMatches").then_some((*op, *kind, true))
}

/// What a comparison operator compares against.
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
enum Operand_ {
    Str,
    Num,
    Bool,
    Ts,
    /// `Is…` type tests: literal `true`/`false`, no `…Path` form.
    Check,
}

const OPERATORS: [(&str, ComparisonOp, Operand_); 23] = [
    ("BooleanEquals", ComparisonOp::BooleanEquals, Operand_::Bool),
    ("IsBoolean", ComparisonOp::IsBoolean, Operand_::Check),
    ("IsNull", ComparisonOp::IsNull, Operand_::Check),
    ("IsNumeric", ComparisonOp::IsNumeric, Operand_::Check),
    ("IsPresent", ComparisonOp::IsPresent, Operand_::Check),
    ("IsString", ComparisonOp::IsString, Operand_::Check),
    ("IsTimestamp", ComparisonOp::IsTimestamp, Operand_::Check),
    ("NumericEquals", ComparisonOp::NumericEquals, Operand_::Num),
    (
        "NumericGreaterThan",
        ComparisonOp::NumericGreaterThan,
        Operand_::Num,
    ),
    (
        "NumericGreaterThanEquals",
        ComparisonOp::NumericGreaterThanEquals,
        Operand_::Num,
    ),
    (
        "NumericLessThan",
        ComparisonOp::NumericLessThan,
        Operand_::Num,
    ),
    (
        "NumericLessThanEquals",
        ComparisonOp::NumericLessThanEquals,
        Operand_::Num,
    ),
    ("StringEquals", ComparisonOp::StringEquals, Operand_::Str),
    (
        "StringGreaterThan",
        ComparisonOp::StringGreaterThan,
        Operand_::Str,
    ),
    (
        "StringGreaterThanEquals",
        ComparisonOp::StringGreaterThanEquals,
        Operand_::Str,
    ),
    (
        "StringLessThan",
        ComparisonOp::StringLessThan,
        Operand_::Str,
    ),
    (
        "StringLessThanEquals",
        ComparisonOp::StringLessThanEquals,
        Operand_::Str,
    ),
    ("StringMatches", ComparisonOp::StringMatches, Operand_::Str),
    (
        "TimestampEquals",
        ComparisonOp::TimestampEquals,
        Operand_::Ts,
    ),
    (
        "TimestampGreaterThan",
        ComparisonOp::TimestampGreaterThan,
        Operand_::Ts,
    ),
    (
        "TimestampGreaterThanEquals",
        ComparisonOp::TimestampGreaterThanEquals,
        Operand_::Ts,
    ),
    (
        "TimestampLessThan",
        ComparisonOp::TimestampLessThan,
        Operand_::Ts,
    ),
    (
        "TimestampLessThanEquals",
        ComparisonOp::TimestampLessThanEquals,
        Operand_::Ts,
    ),
];

#[cfg(test)]
#[path = "tests/parse.rs"]
mod tests;

/// Tests that compile real expressions (paths, intrinsics, templates, JSONata).
#[cfg(test)]
#[path = "tests/parse_expr_tests.rs"]
mod expr_tests;
