//! Unit tests of `template.rs` (a child module of it: `super::*` is that file).

use super::*;
use crate::NoVariables;
use serde_json::json;

struct Fixed;
impl Sources for Fixed {
    fn now_millis(&mut self) -> i64 {
        0
    }
    fn uuid(&mut self) -> String {
        "00000000-0000-4000-8000-000000000000".into()
    }
    fn random(&mut self) -> f64 {
        0.5
    }
}

fn run(t: Value, input: Value) -> Result<Value, StatesError> {
    let ctx = json!({"Execution": {"Id": "arn:x", "Input": input.clone()}});
    let scope = Scope {
        input: &input,
        context: &ctx,
        vars: &NoVariables,
    };
    PayloadTemplate::compile(&t)
        .unwrap()
        .eval(&scope, &mut Fixed)
}

#[test]
fn paths_intrinsics_and_constants() {
    let out = run(
        json!({
            "a.$": "$.x",
            "b": {"c.$": "$$.Execution.Id", "d": [1, {"e.$": "$.y[0]"}]},
            "f.$": "States.Format('{}-{}', $.x, $.y[1])",
            "g": "$.x",
            "h.$": "$",
            "i.$": "$.y[*]"
        }),
        json!({"x": "X", "y": [10, 20]}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "a": "X",
            "b": {"c": "arn:x", "d": [1, {"e": 10}]},
            "f": "X-20",
            "g": "$.x",
            "h": {"x": "X", "y": [10, 20]},
            "i": [10, 20]
        })
    );
}

#[test]
fn constant_template_is_folded() {
    let t = PayloadTemplate::compile(&json!({"a": [1, {"b": "$.x"}]})).unwrap();
    assert!(matches!(t.root, Node::Const(_)));
    assert_eq!(t.raw(), &json!({"a": [1, {"b": "$.x"}]}));
}

#[test]
fn variables() {
    let input = json!({});
    let ctx = json!({});
    let mut vars = Map::new();
    vars.insert("y".into(), json!({"z": 3}));
    let scope = Scope {
        input: &input,
        context: &ctx,
        vars: &vars,
    };
    let t = PayloadTemplate::compile(&json!({"x.$": "$y.z", "w.$": "$y"})).unwrap();
    assert_eq!(
        t.eval(&scope, &mut Fixed).unwrap(),
        json!({"x": 3, "w": {"z": 3}})
    );
}

#[test]
fn missing_path_cause() {
    let e = run(
        json!({"value.$": "$.no_such_jsonpath"}),
        json!({"int-literal": 0}),
    )
    .unwrap_err();
    assert_eq!(e.error, "States.Runtime");
    assert_eq!(
        e.cause,
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
    );
    let e = run(
        json!({"nested": {"value.$": "$$.Execution.Nope"}}),
        json!({"a": 1}),
    )
    .unwrap_err();
    assert!(e.cause.starts_with(
        "The JSONPath '$$.Execution.Nope' specified for the field 'value.$' could not be found in the input '{\"Execution\":"
    ));
}

#[test]
fn compile_errors_have_pointers() {
    let errs = PayloadTemplate::compile(&json!({
        "a.$": 1,
        "b": [{"c.$": "not a path"}],
        "d.$": "States.Nope()",
        "e/f.$": "$.["
    }))
    .unwrap_err();
    let pointers: Vec<&str> = errs.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/a.$", "/b/0/c.$", "/d.$", "/e~1f.$"]);
    assert!(errs[0]
        .message
        .contains("The value for the field 'a.$' must be a valid JSONPath"));
}

#[test]
fn aws_json_text() {
    assert_eq!(
        aws_json(&json!({"a": [1, 2.5, "x\"y"], "b": null})),
        r#"{"a":[1,2.5,"x\"y"],"b":null}"#
    );
    assert_eq!(aws_json(&json!(1.0)), "1.0");
    assert_eq!(aws_json(&json!(1e20)), "1.0E20");
    assert_eq!(aws_json(&json!(-1.5e-7)), "-1.5E-7");
    assert_eq!(aws_json(&json!(12345678.9)), "1.23456789E7");
    assert_eq!(aws_json(&json!(0.001)), "0.001");
    assert_eq!(aws_json(&json!(1234567.0)), "1234567.0");
    assert_eq!(aws_json(&json!(100.25)), "100.25");
    assert_eq!(aws_json(&json!(-0.0)), "-0.0");
    // Checked against Java's Double.toString.
    assert_eq!(aws_json(&json!(1e7)), "1.0E7");
    assert_eq!(aws_json(&json!(0.0001)), "1.0E-4");
    assert_eq!(aws_json(&json!(0.002)), "0.002");
    assert_eq!(aws_json(&json!(123.456e10)), "1.23456E12");
}
