//! Pure expression evaluation for Amazon States Language (JSONPath query language).
//!
//! - [`jsonpath::JsonPath`]: paths as AWS evaluates them (Jayway-flavoured, not RFC 9535):
//!   a definite path yields one value or nothing, an indefinite one yields an array.
//!   Paths start at the state input (`$`), the Context object (`$$`) or a variable (`$name`).
//! - [`intrinsics::Intrinsic`]: the 18 `States.*` intrinsic functions, parsed once.
//! - [`template::PayloadTemplate`]: `Parameters`, `ResultSelector`, `ItemSelector` and
//!   JSONPath `Assign` — JSON whose `"key.$"` fields are paths or intrinsic calls.
//! - [`StatesError`]: a runtime failure as data, with AWS's error name and cause text.
//!
//! Nothing here does I/O or reads a clock: time, UUIDs and random numbers come from
//! a [`Sources`] implementation supplied by the caller.

pub mod error;
pub mod hash;
pub mod intrinsics;
pub mod jsonpath;
pub mod template;

pub use error::StatesError;

/// How deep a JSON value may nest (arrays and objects within each other). Inputs are
/// read with this limit (serde_json's own), and a value an execution makes deeper than
/// this fails where it is made: a JSONata result, a state's output or its variables.
/// Every walk over a value may then recurse without exhausting the native stack.
pub const MAX_JSON_DEPTH: usize = 128;

use serde_json::Value;

/// Where non-deterministic values come from. The interpreter injects one; tests use a
/// fixed implementation so that runs are reproducible.
pub trait Sources {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&mut self) -> i64;
    /// A random version-4 UUID in its canonical lowercase text form.
    fn uuid(&mut self) -> String;
    /// A uniformly distributed number in `[0, 1)`.
    fn random(&mut self) -> f64;
    /// Whether the current step has used up the time the edge gives it: the execution
    /// then yields between two states, as after `MAX_TRANSITIONS_PER_STEP` of them. The
    /// edge owns the clock this reads; by default a step has all the time it needs.
    fn out_of_time(&mut self) -> bool {
        false
    }
    /// Whether the current step must end at once because its execution is being stopped:
    /// a state whose evaluation fails meanwhile is left as it was entered (the stop ends
    /// it), and the step yields. The edge interrupts JSONata evaluations the same way.
    fn interrupted(&mut self) -> bool {
        false
    }
    /// Whether the activity `arn` exists, asked before a Task schedules work on it: AWS
    /// fails the execution with `States.Runtime` when it does not. The edge that keeps
    /// activities answers; without one, every activity exists.
    fn activity_exists(&mut self, _arn: &str) -> bool {
        true
    }
}

/// Read-only access to the variables (`Assign`) visible in a state.
pub trait Variables {
    fn get(&self, name: &str) -> Option<&Value>;
}

/// No variables at all.
pub struct NoVariables;

impl Variables for NoVariables {
    fn get(&self, _name: &str) -> Option<&Value> {
        None
    }
}

impl Variables for serde_json::Map<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        serde_json::Map::get(self, name)
    }
}

/// The values a JSONPath-language expression can see.
pub struct Scope<'a> {
    /// `$`: the value the expression is applied to (effective input, or the task result
    /// for `ResultSelector`).
    pub input: &'a Value,
    /// `$$`: the Context object.
    pub context: &'a Value,
    /// `$name`: variables.
    pub vars: &'a dyn Variables,
}

/// The JSON type name AWS uses in messages ("Expected 'array', but was 'string'").
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
