//! A JSON tree that keeps every object member in file order, duplicates included.
//!
//! `serde_json::Value` silently keeps one of two equal keys; in a mock file two `"0"` keys
//! or a state named twice in a test case is a mistake worth reporting, so the structural
//! part of the file is read into this tree first. Nesting depth is bounded by
//! `serde_json`'s own recursion limit, so the recursive walks here cannot overflow.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    Object(Vec<(String, Raw)>),
    Array(Vec<Raw>),
    /// null, booleans, numbers and strings.
    Scalar(Value),
}

impl Raw {
    /// How the value is described in "expected …, found …" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Raw::Object(_) => "an object",
            Raw::Array(_) => "an array",
            Raw::Scalar(Value::Null) => "null",
            Raw::Scalar(Value::Bool(_)) => "a boolean",
            Raw::Scalar(Value::Number(_)) => "a number",
            Raw::Scalar(Value::String(_)) => "a string",
            // Scalars never hold arrays or objects; named for completeness.
            Raw::Scalar(Value::Array(_)) => "an array",
            Raw::Scalar(Value::Object(_)) => "an object",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Raw::Scalar(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The plain JSON value; of two equal keys the later one wins, as in `serde_json`.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Raw::Scalar(v) => v,
            Raw::Array(items) => Value::Array(items.into_iter().map(Raw::into_value).collect()),
            Raw::Object(members) => {
                let mut map = Map::new();
                for (k, v) in members {
                    map.insert(k, v.into_value());
                }
                Value::Object(map)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Raw>()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Raw>()? {
            members.push((k, v));
        }
        Ok(Raw::Object(members))
    }
}

#[cfg(test)]
#[path = "tests/raw.rs"]
mod tests;
