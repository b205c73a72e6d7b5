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
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: Value, f: ArrayFormat) -> String {
        form(v.as_object().unwrap(), f)
    }

    #[test]
    fn the_aws_array_example_in_every_format() {
        let v = json!({"array": ["a", "b", "c", "d"]});
        assert_eq!(
            enc(v.clone(), ArrayFormat::Indices),
            "array%5B0%5D=a&array%5B1%5D=b&array%5B2%5D=c&array%5B3%5D=d"
        );
        assert_eq!(
            enc(v.clone(), ArrayFormat::Repeat),
            "array=a&array=b&array=c&array=d"
        );
        assert_eq!(enc(v.clone(), ArrayFormat::Commas), "array=a,b,c,d");
        assert_eq!(
            enc(v, ArrayFormat::Brackets),
            "array%5B%5D=a&array%5B%5D=b&array%5B%5D=c&array%5B%5D=d"
        );
    }

    #[test]
    fn the_aws_nested_object_example() {
        let v = json!({
            "description": "Monthly subscription",
            "metadata": {"order_details": "monthly report data"},
            "customer": "1234567890"
        });
        assert_eq!(
            enc(v, ArrayFormat::Indices),
            "description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data&customer=1234567890"
        );
    }

    #[test]
    fn nesting_scalars_and_reserved_characters() {
        let v = json!({
            "a": {"b": {"c": [1, 2]}},
            "n": 1.5, "t": true, "z": null,
            "x&y": "1+1=2 / ok?",
            "e": [], "o": {},
            "u": "é~-._"
        });
        assert_eq!(
            enc(v.clone(), ArrayFormat::Indices),
            "a%5Bb%5D%5Bc%5D%5B0%5D=1&a%5Bb%5D%5Bc%5D%5B1%5D=2&n=1.5&t=true&z=&x%26y=1%2B1%3D2%20%2F%20ok%3F&u=%C3%A9~-._"
        );
        assert_eq!(
            enc(v, ArrayFormat::Brackets),
            "a%5Bb%5D%5Bc%5D%5B%5D=1&a%5Bb%5D%5Bc%5D%5B%5D=2&n=1.5&t=true&z=&x%26y=1%2B1%3D2%20%2F%20ok%3F&u=%C3%A9~-._"
        );
    }

    #[test]
    fn arrays_of_objects() {
        let v = json!({"items": [{"id": 1}, {"id": 2}]});
        assert_eq!(
            enc(v.clone(), ArrayFormat::Indices),
            "items%5B0%5D%5Bid%5D=1&items%5B1%5D%5Bid%5D=2"
        );
        assert_eq!(
            enc(v.clone(), ArrayFormat::Repeat),
            "items%5Bid%5D=1&items%5Bid%5D=2"
        );
        assert_eq!(
            enc(v.clone(), ArrayFormat::Brackets),
            "items%5B%5D%5Bid%5D=1&items%5B%5D%5Bid%5D=2"
        );
        // Commas cannot join objects: indices instead.
        assert_eq!(
            enc(v, ArrayFormat::Commas),
            "items%5B0%5D%5Bid%5D=1&items%5B1%5D%5Bid%5D=2"
        );
        // A comma inside a value is encoded, the separators are not.
        assert_eq!(
            enc(json!({"a": ["x,y", 2]}), ArrayFormat::Commas),
            "a=x%2Cy,2"
        );
    }

    #[test]
    fn array_formats_parse() {
        assert_eq!(ArrayFormat::parse("INDICES"), Some(ArrayFormat::Indices));
        assert_eq!(ArrayFormat::parse("REPEAT"), Some(ArrayFormat::Repeat));
        assert_eq!(ArrayFormat::parse("COMMAS"), Some(ArrayFormat::Commas));
        assert_eq!(ArrayFormat::parse("BRACKETS"), Some(ArrayFormat::Brackets));
        assert_eq!(ArrayFormat::parse("indices"), None);
    }
}
