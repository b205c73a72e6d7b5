//! Conversions between `serde_json::Value` and jsonata-core's `JValue`.
//!
//! Input is converted by reference (no clone of the caller's JSON first). Output turns
//! JSONata's f64 numbers back into integers where they are integral, as AWS prints them
//! (`3`, not `3.0`; `-0` as `0`).

use indexmap::IndexMap;
use jsonata_core::value::{with_stack, JArray, JValue};
use serde_json::{Map, Number, Value};

/// `serde_json::Value` → `JValue`, without cloning the source first.
pub(crate) fn to_jvalue(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::string(s.as_str()),
        // Containers may nest deeply; `with_stack` grows the stack instead of overflowing.
        Value::Array(items) => with_stack(|| {
            let flat = !items.iter().any(Value::is_array);
            JValue::Array(JArray::new_flat(
                items.iter().map(to_jvalue).collect(),
                flat,
            ))
        }),
        Value::Object(map) => with_stack(|| {
            let mut m = IndexMap::with_capacity(map.len());
            for (k, v) in map {
                m.insert(k.clone(), to_jvalue(v));
            }
            JValue::object(m)
        }),
    }
}

/// Why a JSONata result cannot be turned into JSON.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OutputError {
    /// A function or regex value (AWS: "returned an unsupported result type.").
    Unsupported,
    /// Nested deeper than [`stepwise_expr::MAX_JSON_DEPTH`].
    TooDeep,
}

/// `JValue` → `serde_json::Value`. `Ok(None)` for undefined. Undefined object fields
/// are dropped and undefined array items become null, as `JSON.stringify` does.
pub(crate) fn from_jvalue(v: &JValue) -> Result<Option<Value>, OutputError> {
    from_jvalue_at(v, 1)
}

fn from_jvalue_at(v: &JValue, depth: usize) -> Result<Option<Value>, OutputError> {
    if depth > stepwise_expr::MAX_JSON_DEPTH && matches!(v, JValue::Array(_) | JValue::Object(_)) {
        return Err(OutputError::TooDeep);
    }
    Ok(Some(match v {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => with_stack(|| -> Result<Value, OutputError> {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                out.push(from_jvalue_at(item, depth + 1)?.unwrap_or(Value::Null));
            }
            Ok(Value::Array(out))
        })?,
        JValue::Object(map) => with_stack(|| -> Result<Value, OutputError> {
            let mut out = Map::with_capacity(map.len());
            for (k, item) in map.iter() {
                if let Some(item) = from_jvalue_at(item, depth + 1)? {
                    out.insert(k.clone(), item);
                }
            }
            Ok(Value::Object(out))
        })?,
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(OutputError::Unsupported)
        }
    }))
}

/// JSONata numbers are f64; AWS prints integral values without a fraction.
pub(crate) fn number(n: f64) -> Value {
    // 2^63: every integral f64 strictly inside (-2^63, 2^63) fits an i64 exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_finite() && n.fract() == 0.0 && n > -LIMIT && n < LIMIT {
        Value::Number(Number::from(n as i64))
    } else {
        // Non-finite numbers have no JSON form; JSON.stringify prints null.
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
#[path = "tests/convert.rs"]
mod tests;
