//! Unit tests of `bench_server/api.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn json_numbers_compare_by_value() {
    assert!(same_json(
        &json!({"a": [1, {"b": 2.0}]}),
        &json!({"a": [1.0, {"b": 2}]})
    ));
    assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert!(!same_json(&json!([1, 2]), &json!([2, 1])));
    assert!(!same_json(&json!("1"), &json!(1)));
}

#[test]
fn succeeded_output_is_checked() {
    let ok = json!({"status": "SUCCEEDED", "output": "{\"greeting\": \"hello world\"}"});
    assert!(check_succeeded(&ok, &json!({"greeting": "hello world"})).is_ok());
    assert!(check_succeeded(&ok, &json!({"greeting": "hi"})).is_err());
    let failed = json!({"status": "FAILED", "error": "States.Runtime", "cause": "x"});
    let e = check_succeeded(&failed, &json!(null))
        .unwrap_err()
        .to_string();
    assert!(e.contains("FAILED") && e.contains("States.Runtime"), "{e}");
}
