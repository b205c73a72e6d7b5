//! Unit tests of `test_state.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

#[test]
fn targets_of_a_state() {
    let mut t = Vec::new();
    collect_targets(
        &json!({"Next": "A", "Default": "B", "Choices": [{"Next": "C"}, {"Next": "A"}],
                "Catch": [{"Next": "D"}]}),
        &mut t,
    );
    assert_eq!(t, vec!["A", "B", "C", "D"]);
}

#[test]
// JSON text spaced as AWS's TestState writes it: ["a", "b"], {"k": 1}.
fn aws_json_keeps_values_as_text() {
    let r = TestStateResponse {
        status: TestStateStatus::CaughtError,
        output: Some(json!({"a": 1, "b": [1, {"c": null}]})),
        error: Some("E".into()),
        cause: Some("C".into()),
        next_state: Some("N".into()),
        inspection_data: Some(InspectionData {
            input: Some(json!("x")),
            error_details: Some(InspectionErrorDetails {
                catch_index: Some(0),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    assert_eq!(
        r.to_aws_json(),
        json!({"cause": "C", "error": "E", "nextState": "N", "output": "{\"a\": 1, \"b\": [1, {\"c\": null}]}",
               "status": "CAUGHT_ERROR",
               "inspectionData": {"input": "\"x\"", "errorDetails": {"catchIndex": 0}}})
    );
}

#[test]
fn context_checks() {
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let m = stepwise_asl::parse(def).unwrap();
    let st = m.states.get(0);
    for (ctx, msg) in [
        (r#"{"Execution":{"Id":1}}"#, "Execution.Id must be a string"),
        (
            r#"{"Map":{}}"#,
            "'Map' field is not supported when mocking a Context object",
        ),
        (
            r#"{"Execution":{"pokemon":"x"}}"#,
            "Field 'pokemon' is not allowed",
        ),
        (r#"{"Pokedex":{}}"#, "Field 'Pokedex' is not allowed"),
    ] {
        let e = parse_context(ctx, st).unwrap_err();
        assert_eq!(
            e.message(),
            format!("Invalid Context object provided: {msg}")
        );
    }
    assert!(parse_context(r#"{"Execution":{},"State":{},"StateMachine":{}}"#, st).is_ok());
}
