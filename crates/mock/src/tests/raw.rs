//! Unit tests of `raw.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

#[test]
fn keeps_duplicate_members_in_order() {
    let raw: Raw = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    let Raw::Object(members) = raw else {
        panic!("not an object")
    };
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "b", "a"]);
}

#[test]
fn round_trips_to_value() {
    let text =
        r#"{"s":"x","n":-1,"u":18446744073709551615,"f":1.5,"b":true,"z":null,"a":[1,{"k":[]}]}"#;
    let raw: Raw = serde_json::from_str(text).unwrap();
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(raw.into_value(), value);
}

#[test]
fn later_duplicate_wins_in_value() {
    let raw: Raw = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(raw.into_value(), json!({"a": 2}));
}

#[test]
fn kinds() {
    let kinds: Vec<&str> = [json!(null), json!(true), json!(1), json!("s")]
        .into_iter()
        .map(|v| Raw::Scalar(v).kind())
        .collect();
    assert_eq!(kinds, ["null", "a boolean", "a number", "a string"]);
    assert_eq!(Raw::Object(vec![]).kind(), "an object");
    assert_eq!(Raw::Array(vec![]).kind(), "an array");
}
