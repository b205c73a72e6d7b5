//! AWS's own Step Functions service model (botocore's `service-2.json`, embedded from
//! `model/`) and the request-body checks a Coral service runs before any handler sees a
//! request.
//!
//! Two stages, as in Coral:
//! 1. *Deserialization*: a member whose JSON type does not fit its shape aborts with a
//!    `SerializationException` (the first such member in document order wins).
//!    Unknown members are ignored and `null` counts as absent.
//! 2. *Validation*: every modelled constraint (`required`, length, range, enum, pattern)
//!    is checked, members in model order, and all violations are reported in one
//!    `ValidationException`: `N validation error(s) detected: …; …`.
//!
//! Message shapes are AWS's; see the tests for which texts come from recordings of real
//! AWS and which are inferred.

use std::borrow::Cow;
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

const MODEL_JSON: &str = include_str!("../model/stepfunctions-2016-11-23.json");

/// A request rejected before it reaches the service: AWS's error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// HTTP 400 `ValidationException`: one or more modelled constraints failed.
    #[error("{0}")]
    Validation(String),
    /// HTTP 400 `SerializationException`: the body could not be read as the input
    /// shape. AWS may send it without a message; an empty string means "no message".
    #[error("{0}")]
    Serialization(String),
}

impl WireError {
    /// The `__type` / error code AWS answers with.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::Validation(_) => "ValidationException",
            WireError::Serialization(_) => "SerializationException",
        }
    }

    /// The message text (AWS's wording).
    pub fn message(&self) -> &str {
        match self {
            WireError::Validation(m) | WireError::Serialization(m) => m,
        }
    }
}

/// One action of the API (`StartExecution`, …) as the model describes it.
#[derive(Debug)]
pub struct Operation {
    name: &'static str,
    input: Option<&'static str>,
    output: Option<&'static str>,
    errors: Vec<&'static str>,
}

impl Operation {
    /// The action name, as in `X-Amz-Target: AWSStepFunctions.<name>`.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The model's name for the input structure (`StartExecutionInput`).
    pub fn input_shape(&self) -> Option<&'static str> {
        self.input
    }
    /// The model's name for the output structure (`StartExecutionOutput`).
    pub fn output_shape(&self) -> Option<&'static str> {
        self.output
    }
    /// The error codes the model declares for this action, in model order.
    pub fn errors(&self) -> &[&'static str] {
        &self.errors
    }
}

/// The operation called `name` ("StartExecution"), if the model has it.
pub fn operation(name: &str) -> Option<&'static Operation> {
    model().operations.get(name)
}

/// All action names of the model (37 in 2016-11-23), in model (alphabetical) order.
pub fn operation_names() -> impl Iterator<Item = &'static str> {
    model().operations.keys().copied()
}

/// The members of `op`'s input structure, in model order.
pub fn input_members(op: &Operation) -> impl Iterator<Item = &'static str> {
    op.input
        .and_then(|name| model().shapes.get(name))
        .map(|shape| shape.members.iter().map(|(m, _)| *m))
        .into_iter()
        .flatten()
}

/// The error codes the model declares for `op` (e.g. `InvalidArn`, `ValidationException`).
pub fn errors(op: &Operation) -> &[&'static str] {
    op.errors()
}

/// Reads a request body the way a JSON 1.0 Coral service does: an empty body is `{}`.
/// Text that is not JSON is a `SerializationException`; AWS sends no message for it
/// (reported for other JSON 1.0 services, not recorded for Step Functions).
pub fn parse_body(body: &[u8]) -> Result<Value, WireError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(body).map_err(|_| WireError::Serialization(String::new()))
}

/// Checks `body` against the input shape of `op`: first JSON types
/// (`SerializationException`), then every modelled constraint (`ValidationException`).
pub fn validate_input(op: &Operation, body: &Value) -> Result<(), WireError> {
    let m = model();
    let Some(shape) = op.input.and_then(|name| m.shapes.get(name)) else {
        return Ok(());
    };
    // A `null` body reads as an empty input.
    let empty = Value::Object(serde_json::Map::new());
    let body = if body.is_null() { &empty } else { body };
    m.type_check(shape, body)
        .map_err(WireError::Serialization)?;
    let mut violations = Vec::new();
    m.validate(shape, body, "", &mut violations);
    if violations.is_empty() {
        return Ok(());
    }
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    Err(WireError::Validation(format!(
        "{n} validation {noun} detected: {}",
        violations.join("; ")
    )))
}

// ---------------------------------------------------------------------------------
// The model, parsed once. Names borrow from the embedded JSON text.

#[derive(Deserialize)]
struct RawModel<'a> {
    #[serde(borrow)]
    operations: IndexMap<&'a str, RawOperation<'a>>,
    #[serde(borrow)]
    shapes: IndexMap<&'a str, RawShape<'a>>,
}

#[derive(Deserialize)]
struct RawRef<'a> {
    shape: &'a str,
}

#[derive(Deserialize)]
struct RawOperation<'a> {
    #[serde(borrow, default)]
    input: Option<RawRef<'a>>,
    #[serde(borrow, default)]
    output: Option<RawRef<'a>>,
    #[serde(borrow, default)]
    errors: Vec<RawRef<'a>>,
}

#[derive(Deserialize)]
struct RawShape<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    members: IndexMap<&'a str, RawRef<'a>>,
    #[serde(borrow, default)]
    required: Vec<&'a str>,
    #[serde(borrow, default)]
    member: Option<RawRef<'a>>,
    #[serde(borrow, default)]
    value: Option<RawRef<'a>>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(borrow, default)]
    pattern: Option<Cow<'a, str>>,
    #[serde(rename = "enum", default)]
    enum_values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp,
    Blob,
}

#[derive(Debug)]
struct Shape {
    name: &'static str,
    kind: Kind,
    /// (member name, shape name), model order.
    members: Vec<(&'static str, &'static str)>,
    required: Vec<&'static str>,
    /// List member, or map value.
    member: Option<&'static str>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    enum_values: Option<Vec<String>>,
    sensitive: bool,
}

#[derive(Default)]
struct Model {
    operations: IndexMap<&'static str, Operation>,
    shapes: IndexMap<&'static str, Shape>,
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    // The model is our own embedded file; the tests pin that it parses.
    MODEL.get_or_init(|| Model::parse(MODEL_JSON).unwrap_or_default())
}

impl Model {
    fn parse(text: &'static str) -> Result<Model, serde_json::Error> {
        let raw: RawModel<'static> = serde_json::from_str(text)?;
        let operations = raw
            .operations
            .into_iter()
            .map(|(name, op)| {
                let operation = Operation {
                    name,
                    input: op.input.map(|r| r.shape),
                    output: op.output.map(|r| r.shape),
                    errors: op.errors.into_iter().map(|r| r.shape).collect(),
                };
                (name, operation)
            })
            .collect();
        let shapes = raw
            .shapes
            .into_iter()
            .filter_map(|(name, s)| {
                let kind = match s.kind {
                    "structure" => Kind::Structure,
                    "list" => Kind::List,
                    "map" => Kind::Map,
                    "string" => Kind::String,
                    "integer" => Kind::Integer,
                    "long" => Kind::Long,
                    "float" => Kind::Float,
                    "double" => Kind::Double,
                    "boolean" => Kind::Boolean,
                    "timestamp" => Kind::Timestamp,
                    "blob" => Kind::Blob,
                    _ => return None,
                };
                let shape = Shape {
                    name,
                    kind,
                    members: s.members.into_iter().map(|(m, r)| (m, r.shape)).collect(),
                    required: s.required,
                    member: s.member.or(s.value).map(|r| r.shape),
                    min: s.min,
                    max: s.max,
                    pattern: s.pattern.map(Cow::into_owned),
                    enum_values: s.enum_values,
                    sensitive: s.sensitive,
                };
                Some((name, shape))
            })
            .collect();
        Ok(Model { operations, shapes })
    }

    fn shape(&self, name: Option<&str>) -> Option<&Shape> {
        name.and_then(|n| self.shapes.get(n))
    }

    // --- stage 1: JSON types -------------------------------------------------------

    /// The first member (document order) whose JSON type does not fit, as AWS words it.
    fn type_check(&self, shape: &Shape, v: &Value) -> Result<(), String> {
        if v.is_null() {
            return Ok(());
        }
        match shape.kind {
            Kind::Structure => {
                let Value::Object(map) = v else {
                    return Err(mismatch(v, "a Structure"));
                };
                for (key, value) in map {
                    let member = shape.members.iter().find(|(m, _)| *m == key.as_str());
                    if let Some(child) = member.and_then(|(_, s)| self.shapes.get(s)) {
                        self.type_check(child, value)?;
                    }
                }
                Ok(())
            }
            Kind::List => {
                let Value::Array(items) = v else {
                    return Err(mismatch(v, "a List"));
                };
                if let Some(child) = self.shape(shape.member) {
                    for item in items {
                        self.type_check(child, item)?;
                    }
                }
                Ok(())
            }
            Kind::Map => {
                let Value::Object(map) = v else {
                    return Err(mismatch(v, "a Map"));
                };
                if let Some(child) = self.shape(shape.member) {
                    for value in map.values() {
                        self.type_check(child, value)?;
                    }
                }
                Ok(())
            }
            Kind::String => match v {
                Value::String(_) => Ok(()),
                _ => Err(mismatch(v, "a String")),
            },
            Kind::Blob => match v {
                Value::String(_) => Ok(()),
                _ => Err(mismatch(v, "a ByteBuffer")),
            },
            Kind::Boolean => match v {
                Value::Bool(_) => Ok(()),
                // Coral's own grammar: "an Boolean".
                _ => Err(mismatch(v, "an Boolean")),
            },
            Kind::Integer => integral(v, i32::MIN.into(), i32::MAX.into(), "an Integer"),
            Kind::Long => integral(v, i64::MIN as f64, i64::MAX as f64, "a Long"),
            Kind::Float => number(v, "a Float"),
            Kind::Double => number(v, "a Double"),
            Kind::Timestamp => number(v, "a Date"),
        }
    }

    // --- stage 2: constraints ------------------------------------------------------

    fn validate(&self, shape: &Shape, v: &Value, path: &str, out: &mut Vec<String>) {
        match shape.kind {
            Kind::Structure => {
                let Value::Object(map) = v else { return };
                for (member, member_shape) in &shape.members {
                    let child_path = join_path(path, member);
                    match map.get(*member) {
                        None | Some(Value::Null) => {
                            if shape.required.contains(member) {
                                out.push(format!(
                                    "Value null at '{child_path}' failed to satisfy constraint: \
                                     Member must not be null"
                                ));
                            }
                        }
                        Some(value) => {
                            if let Some(child) = self.shapes.get(member_shape) {
                                self.validate(child, value, &child_path, out);
                            }
                        }
                    }
                }
            }
            Kind::List => {
                let Value::Array(items) = v else { return };
                self.check_length(shape, v, items.len(), path, out);
                let child = self.shape(shape.member);
                for (i, item) in items.iter().enumerate() {
                    let child_path = format!("{path}.{}.member", i + 1);
                    match (item, child) {
                        (Value::Null, _) => out.push(format!(
                            "Value null at '{child_path}' failed to satisfy constraint: \
                             Member must not be null"
                        )),
                        (_, Some(child)) => self.validate(child, item, &child_path, out),
                        (_, None) => {}
                    }
                }
            }
            Kind::Map => {
                let Value::Object(map) = v else { return };
                self.check_length(shape, v, map.len(), path, out);
            }
            Kind::String => {
                let Value::String(s) = v else { return };
                if let Some(values) = &shape.enum_values {
                    if !values.iter().any(|e| e == s) {
                        let set = enum_display_order(shape.name, values).join(", ");
                        out.push(self.violation(
                            shape,
                            v,
                            path,
                            &format!("Member must satisfy enum value set: [{set}]"),
                        ));
                    }
                }
                if byte_sized(shape.name) {
                    // Documented as "bytes in UTF-8 encoding" for these shapes.
                    if let Some(max) = shape.max {
                        if s.len() as f64 > max {
                            out.push(self.violation(
                                shape,
                                v,
                                path,
                                &format!(
                                    "Member must have size less than or equal to {} bytes in \
                                     UTF-8 encoding",
                                    bound(max)
                                ),
                            ));
                        }
                    }
                } else {
                    self.check_length(shape, v, s.chars().count(), path, out);
                }
                if let Some(pattern) = &shape.pattern {
                    if pattern_matches(pattern, s) == Some(false) {
                        out.push(self.violation(
                            shape,
                            v,
                            path,
                            &format!("Member must satisfy regular expression pattern: {pattern}"),
                        ));
                    }
                }
            }
            Kind::Integer | Kind::Long | Kind::Float | Kind::Double => {
                let Some(mut n) = v.as_f64() else { return };
                if matches!(shape.kind, Kind::Integer | Kind::Long) {
                    n = n.trunc();
                }
                if let Some(min) = shape.min {
                    if n < min {
                        let c = format!(
                            "Member must have value greater than or equal to {}",
                            bound(min)
                        );
                        out.push(self.violation(shape, v, path, &c));
                    }
                }
                if let Some(max) = shape.max {
                    if n > max {
                        let c = format!(
                            "Member must have value less than or equal to {}",
                            bound(max)
                        );
                        out.push(self.violation(shape, v, path, &c));
                    }
                }
            }
            Kind::Boolean | Kind::Timestamp | Kind::Blob => {}
        }
    }

    fn check_length(
        &self,
        shape: &Shape,
        v: &Value,
        len: usize,
        path: &str,
        out: &mut Vec<String>,
    ) {
        let len = len as f64;
        if let Some(min) = shape.min {
            if len < min {
                let c = format!(
                    "Member must have length greater than or equal to {}",
                    bound(min)
                );
                out.push(self.violation(shape, v, path, &c));
            }
        }
        if let Some(max) = shape.max {
            if len > max {
                let c = format!(
                    "Member must have length less than or equal to {}",
                    bound(max)
                );
                out.push(self.violation(shape, v, path, &c));
            }
        }
    }

    /// `Value 'x' at 'path' failed to satisfy constraint: …`; sensitive values are not
    /// echoed (`Value at 'path' …`).
    fn violation(&self, shape: &Shape, v: &Value, path: &str, constraint: &str) -> String {
        if shape.sensitive {
            format!("Value at '{path}' failed to satisfy constraint: {constraint}")
        } else {
            let shown = self.render(Some(shape), v);
            format!("Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}")
        }
    }

    /// The value as Coral's Java `toString()` prints it: lists `[a, b]`, structures
    /// `ShapeName(member=value, …)`, floats `101.0`.
    fn render(&self, shape: Option<&Shape>, v: &Value) -> String {
        match v {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::String(s) => s.clone(),
            Value::Number(n) => match shape.map(|s| s.kind) {
                Some(Kind::Integer | Kind::Long) => match n.as_i64() {
                    Some(i) => i.to_string(),
                    None => format!("{}", n.as_f64().unwrap_or(0.0).trunc() as i64),
                },
                Some(Kind::Float | Kind::Double) => java_float(n.as_f64().unwrap_or(0.0)),
                _ => n.to_string(),
            },
            Value::Array(items) => {
                let child = shape.and_then(|s| self.shape(s.member));
                let parts: Vec<String> = items.iter().map(|i| self.render(child, i)).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Object(map) => match shape {
                Some(s) if s.kind == Kind::Structure => {
                    let parts: Vec<String> = s
                        .members
                        .iter()
                        .map(|(member, member_shape)| {
                            let child = self.shapes.get(member_shape);
                            let value = match map.get(*member) {
                                None | Some(Value::Null) => "null".to_string(),
                                Some(_) if child.is_some_and(|c| c.sensitive) => {
                                    "*** Sensitive Data Redacted ***".to_string()
                                }
                                Some(value) => self.render(child, value),
                            };
                            format!("{member}={value}")
                        })
                        .collect();
                    format!("{}({})", s.name, parts.join(", "))
                }
                _ => {
                    let child = shape.and_then(|s| self.shape(s.member));
                    let parts: Vec<String> = map
                        .iter()
                        .map(|(k, val)| format!("{k}={}", self.render(child, val)))
                        .collect();
                    format!("{{{}}}", parts.join(", "))
                }
            },
        }
    }
}

/// Coral names members in paths with a lower-case first letter (`tableName`).
fn join_path(path: &str, member: &str) -> String {
    let mut chars = member.chars();
    let lowered: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    if path.is_empty() {
        lowered
    } else {
        format!("{path}.{lowered}")
    }
}

/// The deserializer's message for a JSON value that cannot become `target`.
fn mismatch(v: &Value, target: &str) -> String {
    match v {
        Value::Array(_) => "Start of list found where not expected".to_string(),
        Value::Object(_) => "Start of structure or map found where not expected.".to_string(),
        Value::Bool(true) => format!("TRUE_VALUE can not be converted to {target}"),
        Value::Bool(false) => format!("FALSE_VALUE can not be converted to {target}"),
        Value::Number(_) => format!("NUMBER_VALUE can not be converted to {target}"),
        Value::String(_) | Value::Null => format!("STRING_VALUE can not be converted to {target}"),
    }
}

fn integral(v: &Value, lo: f64, hi: f64, target: &str) -> Result<(), String> {
    match v.as_f64() {
        Some(n) if v.is_number() && n.trunc() >= lo && n.trunc() <= hi => Ok(()),
        _ => Err(mismatch(v, target)),
    }
}

fn number(v: &Value, target: &str) -> Result<(), String> {
    if v.is_number() {
        Ok(())
    } else {
        Err(mismatch(v, target))
    }
}

/// A model bound as AWS prints it (`80`, not `80.0`).
fn bound(b: f64) -> String {
    if b.fract() == 0.0 && b.abs() < 1e15 {
        format!("{}", b as i64)
    } else {
        b.to_string()
    }
}

/// Java's `Float/Double.toString`: `101.0`, `0.5`, `1.0E7`.
fn java_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = f.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = f.to_string();
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// Shapes whose length the model documents as "bytes in UTF-8 encoding".
fn byte_sized(shape: &str) -> bool {
    matches!(
        shape,
        "SensitiveData" | "SensitiveDataJobInput" | "ConnectorParameters"
    )
}

/// The order AWS lists an enum's values in its message. It is not the model's order
/// (AWS prints a Java set); where a recording shows it, use that.
fn enum_display_order<'a>(shape: &str, model_order: &'a [String]) -> Vec<&'a str> {
    const RECORDED: &[(&str, &[&str])] = &[(
        // Recorded: ListExecutions statusFilter='succeeded'.
        "ExecutionStatus",
        &[
            "SUCCEEDED",
            "TIMED_OUT",
            "PENDING_REDRIVE",
            "ABORTED",
            "FAILED",
            "RUNNING",
        ],
    )];
    let mut order: Vec<&'a str> = model_order.iter().map(String::as_str).collect();
    if let Some((_, recorded)) = RECORDED.iter().find(|(s, _)| *s == shape) {
        // Only trust the recording while it names exactly the model's values.
        let same = recorded.len() == order.len() && recorded.iter().all(|r| order.contains(r));
        if same {
            order.sort_by_key(|v| recorded.iter().position(|r| r == v));
        }
    }
    order
}

/// The model's three patterns, implemented by hand (Java `matches`: whole string).
/// `None` for a pattern this code does not know (then it is not checked).
fn pattern_matches(pattern: &str, s: &str) -> Option<bool> {
    let restricted = |c: char| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.');
    match pattern {
        // CharacterRestrictedName (alias names): not all digits.
        r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$" => Some(
            !s.is_empty()
                && s.chars().all(|c| restricted(c) || c.is_ascii_digit())
                && s.chars().any(restricted),
        ),
        // ClientToken: printable ASCII, no space.
        "[!-~]+" => Some(!s.is_empty() && s.chars().all(|c| ('!'..='~').contains(&c))),
        // TraceHeader.
        r"\p{ASCII}*" => Some(s.is_ascii()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "tests/shapes.rs"]
mod tests;
