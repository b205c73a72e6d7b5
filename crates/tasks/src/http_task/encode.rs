//! URL encoding of `QueryParameters` and of `URL_ENCODED` request bodies.
//!
//! Objects become `key[inner]=value`, arrays follow the Transform's `ArrayFormat`, and
//! every key and value is percent-encoded with only RFC 3986's unreserved characters
//! (`A-Z a-z 0-9 - . _ ~`) left as they are: a space is `%20`, `[` and `]` are `%5B` and
//! `%5D`, as in AWS's documented example
//! `description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

/// How arrays are written (`Transform.RequestEncodingOptions.ArrayFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArrayFormat {
    /// `array[0]=a&array[1]=b` (the default).
    Indices,
    /// `array=a&array=b`.
    Repeat,
    /// `array=a,b`.
    Commas,
    /// `array[]=a&array[]=b`.
    Brackets,
}

impl ArrayFormat {
    pub(super) fn parse(s: &str) -> Option<ArrayFormat> {
        Some(match s {
            "INDICES" => ArrayFormat::Indices,
            "REPEAT" => ArrayFormat::Repeat,
            "COMMAS" => ArrayFormat::Commas,
            "BRACKETS" => ArrayFormat::Brackets,
            _ => return None,
        })
    }
}

/// Everything but the unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded as a query key or value.
pub(super) fn component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// `map` as `k=v&k2=v2`, in the map's order.
pub(super) fn form(map: &Map<String, Value>, format: ArrayFormat) -> String {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in map {
        pairs(k, v, format, &mut out);
    }
    out.iter()
        .map(|(k, v)| format!("{}={v}", component(k)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The pairs `value` makes under the (raw) key `key`; values already encoded.
fn pairs(key: &str, value: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                pairs(&format!("{key}[{k}]"), v, format, out);
            }
        }
        Value::Array(items) => match format {
            ArrayFormat::Indices => {
                for (i, v) in items.iter().enumerate() {
                    pairs(&format!("{key}[{i}]"), v, format, out);
                }
            }
            ArrayFormat::Brackets => {
                for v in items {
                    pairs(&format!("{key}[]"), v, format, out);
                }
            }
            ArrayFormat::Repeat => {
                for v in items {
                    pairs(key, v, format, out);
                }
            }
            ArrayFormat::Commas => {
                if items.is_empty() {
                    return;
                }
                if items.iter().all(|v| !v.is_object() && !v.is_array()) {
                    // The separators stay commas; a comma inside a value is `%2C`.
                    let joined = items
                        .iter()
                        .map(|v| component(&scalar(v)))
                        .collect::<Vec<_>>()
                        .join(",");
                    out.push((key.to_string(), joined));
                } else {
                    // Objects or arrays cannot be joined with commas: written with
                    // indices instead (what AWS does here is unconfirmed).
                    for (i, v) in items.iter().enumerate() {
                        pairs(&format!("{key}[{i}]"), v, format, out);
                    }
                }
            }
        },
        v => out.push((key.to_string(), component(&scalar(v)))),
    }
}

/// A scalar's text: a string as it is, numbers and booleans as JSON writes them, null
/// as nothing.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

#[cfg(test)]
#[path = "../tests/encode.rs"]
mod tests;
