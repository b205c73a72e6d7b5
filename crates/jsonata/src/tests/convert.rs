//! Unit tests of `convert.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

#[test]
fn round_trip_keeps_order_and_normalises_numbers() {
    let v = json!({"b": 1, "a": [1.5, 2.0, -0.0, null, true, "s"], "c": {}});
    let back = from_jvalue(&to_jvalue(&v)).unwrap().unwrap();
    assert_eq!(
        back.to_string(),
        r#"{"b":1,"a":[1.5,2,0,null,true,"s"],"c":{}}"#
    );
}

#[test]
fn integral_floats_become_integers() {
    assert_eq!(number(3.0), json!(3));
    assert_eq!(number(-0.0), json!(0));
    assert_eq!(number(1e15), json!(1_000_000_000_000_000i64));
    assert_eq!(number(0.1), json!(0.1));
    assert_eq!(number(1e300), json!(1e300));
    assert_eq!(number(f64::NAN), Value::Null);
}

#[test]
fn undefined_is_none_and_functions_are_unsupported() {
    assert_eq!(from_jvalue(&JValue::Undefined), Ok(None));
    assert_eq!(
        from_jvalue(&JValue::builtin("sum")),
        Err(OutputError::Unsupported)
    );
    let arr = JValue::array(vec![JValue::Undefined, JValue::from(1i64)]);
    assert_eq!(from_jvalue(&arr).unwrap().unwrap(), json!([null, 1]));
}

#[test]
fn deep_input_does_not_overflow() {
    const DEPTH: usize = 2_000;
    let mut v = json!(1);
    for _ in 0..DEPTH {
        v = Value::Array(vec![v]);
    }
    // In without overflowing; out, refused past the nesting limit rather than copied.
    assert_eq!(from_jvalue(&to_jvalue(&v)), Err(OutputError::TooDeep));
    let mut v = json!(1);
    for _ in 1..stepwise_expr::MAX_JSON_DEPTH {
        v = Value::Array(vec![v]);
    }
    let inner = Value::Array(vec![v]);
    assert_eq!(from_jvalue(&to_jvalue(&inner)), Ok(Some(inner.clone())));
    assert_eq!(
        from_jvalue(&to_jvalue(&Value::Array(vec![inner]))),
        Err(OutputError::TooDeep)
    );
}
