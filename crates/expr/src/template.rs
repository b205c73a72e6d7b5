//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector`, JSONPath `Assign`.
//!
//! AWS's rules (ASL spec "Payload Template"):
//! - Objects and arrays are copied recursively; a key ending in `.$` must hold a string
//!   that is a path (`$…`, `$$…`, `$var…`) or an intrinsic call (`States.…(…)`); the
//!   output key drops the `.$` and takes the selected value.
//! - A path that selects nothing fails the state with `States.Runtime` and the cause
//!   `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input
//!   '<compact JSON>'` (for `$$…` paths the Context object is quoted, as LocalStack does).
//! - Compiling checks every `.$` field once, so evaluation only walks the compiled tree;
//!   subtrees without `.$` fields are kept as constants.
//!
//! Also home of [`aws_json`], the compact JSON text AWS (Jackson) prints in causes and in
//! `States.JsonToString`: no spaces, and doubles written as Java's `Double.toString`
//! (`1.0E20`, `1.0E-5`).

use crate::intrinsics::Intrinsic;
use crate::jsonpath::{JsonPath, Root};
use crate::{Scope, Sources, StatesError};
use serde_json::{Map, Value};

/// A problem in a template, located by a JSON pointer relative to the template root
/// (e.g. `/a/b.$`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct TemplateError {
    pub pointer: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree with no `.$` field anywhere: copied as is.
    Const(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Path {
        field: String,
        path: JsonPath,
    },
    Call {
        field: String,
        call: Box<Intrinsic>,
    },
}

/// A compiled payload template.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadTemplate {
    raw: Value,
    root: Node,
}

impl PayloadTemplate {
    /// Compile: every `"key.$"` string value must be a valid path or intrinsic call.
    pub fn compile(raw: &Value) -> Result<PayloadTemplate, Vec<TemplateError>> {
        let mut errors = Vec::new();
        let root = compile_node(raw, &mut String::new(), &mut errors);
        if errors.is_empty() {
            Ok(PayloadTemplate {
                raw: raw.clone(),
                root,
            })
        } else {
            Err(errors)
        }
    }
    pub fn raw(&self) -> &Value {
        &self.raw
    }
    /// Evaluate against `scope`; `"key.$"` fields become `"key"` with the selected value.
    pub fn eval(&self, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
        eval_node(&self.root, scope, sources)
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn compile_node(raw: &Value, pointer: &mut String, errors: &mut Vec<TemplateError>) -> Node {
    match raw {
        Value::Object(m) => {
            let mut fields = Vec::with_capacity(m.len());
            let mut dynamic = false;
            for (k, v) in m {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(k));
                let node = match k.strip_suffix(".$") {
                    Some(out_key) => {
                        dynamic = true;
                        (out_key.to_string(), compile_dynamic(k, v, pointer, errors))
                    }
                    None => {
                        let n = compile_node(v, pointer, errors);
                        dynamic |= !matches!(n, Node::Const(_));
                        (k.clone(), n)
                    }
                };
                fields.push(node);
                pointer.truncate(len);
            }
            if dynamic {
                Node::Object(fields)
            } else {
                Node::Const(raw.clone())
            }
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                nodes.push(compile_node(v, pointer, errors));
                pointer.truncate(len);
            }
            if nodes.iter().all(|n| matches!(n, Node::Const(_))) {
                Node::Const(raw.clone())
            } else {
                Node::Array(nodes)
            }
        }
        _ => Node::Const(raw.clone()),
    }
}

fn compile_dynamic(key: &str, v: &Value, pointer: &str, errors: &mut Vec<TemplateError>) -> Node {
    let invalid = || {
        TemplateError {
        pointer: pointer.to_string(),
        message: format!(
            "The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
        ),
    }
    };
    let Some(text) = v.as_str() else {
        errors.push(invalid());
        return Node::Const(Value::Null);
    };
    if Intrinsic::looks_like(text) {
        match Intrinsic::parse(text) {
            Ok(call) => Node::Call {
                field: key.to_string(),
                call: Box::new(call),
            },
            Err(e) => {
                let mut err = invalid();
                err.message = format!("{}: {}", err.message, e.message);
                errors.push(err);
                Node::Const(Value::Null)
            }
        }
    } else {
        match JsonPath::parse(text) {
            Ok(path) => Node::Path {
                field: key.to_string(),
                path,
            },
            Err(e) => {
                let mut err = invalid();
                err.message = format!("{}: {}", err.message, e.message);
                errors.push(err);
                Node::Const(Value::Null)
            }
        }
    }
}

fn eval_node(node: &Node, scope: &Scope, sources: &mut dyn Sources) -> Result<Value, StatesError> {
    Ok(match node {
        Node::Const(v) => v.clone(),
        Node::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, n) in fields {
                out.insert(k.clone(), eval_node(n, scope, sources)?);
            }
            Value::Object(out)
        }
        Node::Array(items) => Value::Array(
            items
                .iter()
                .map(|n| eval_node(n, scope, sources))
                .collect::<Result<_, _>>()?,
        ),
        Node::Path { field, path } => select_for_field(path, field, scope)?,
        Node::Call { field, call } => call.eval_for_field(scope, sources, Some(field))?,
    })
}

/// Select `path` for the template field `field`, failing with AWS's `States.Runtime`
/// cause when nothing is there.
pub fn select_for_field(path: &JsonPath, field: &str, scope: &Scope) -> Result<Value, StatesError> {
    path.select(scope)
        .ok_or_else(|| path_not_found(path, Some(field), scope))
}

/// The `States.Runtime` error for a path that selects nothing.
pub fn path_not_found(path: &JsonPath, field: Option<&str>, scope: &Scope) -> StatesError {
    let quoted = match path.root() {
        Root::Context => scope.context,
        _ => scope.input,
    };
    let cause = match field {
        Some(f) => format!(
            "The JSONPath '{}' specified for the field '{f}' could not be found in the input '{}'",
            path.as_str(),
            aws_json(quoted)
        ),
        None => format!(
            "The JSONPath '{}' could not be found in the input '{}'",
            path.as_str(),
            aws_json(quoted)
        ),
    };
    StatesError::runtime(cause)
}

/// Compact JSON text as AWS prints it (Jackson): no spaces, doubles as Java writes them.
pub fn aws_json(v: &Value) -> String {
    let mut s = String::new();
    write_json(v, &mut s);
    s
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::String(s) => write_json_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    // serde_json escapes exactly what Jackson escapes by default (quote, backslash,
    // control characters); it cannot fail on a &str.
    match serde_json::to_string(s) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("\"\""),
    }
}

/// A JSON number as Java/Jackson prints it: integers plainly, doubles as
/// `Double.toString`.
pub fn java_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) => java_double(f),
        None => n.to_string(),
    }
}

/// Java's `Double.toString`: plain notation with at least one fractional digit for
/// 1e-3 <= |d| < 1e7, otherwise `d.dddE±n`; shortest round-trip digits.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e6", "-5e-7".
    let sci = format!("{d:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

#[cfg(test)]
#[path = "tests/template.rs"]
mod tests;
