//! Unit tests of `references.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

// test_sfn_api_variable_references: BASE_REFERENCE_IN_CHOICE and friends.
#[test]
fn lists_the_variables_each_jsonpath_state_reads() {
    let def = json!({"StartAt": "Q", "States": {
        "Q": {"Type": "Pass", "Assign": {"answer": 42, "guess.$": "$.guess"}, "Next": "CheckAnswer"},
        "CheckAnswer": {"Type": "Choice", "Choices": [
            {"Variable": "$guess", "NumericEqualsPath": "$answer", "Next": "Right"},
            {"Not": {"Variable": "$guess", "IsPresent": true}, "Next": "Right"}],
            "Default": "WrongAnswer"},
        "WrongAnswer": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{}', $answer)",
            "plain": "$bucket", "nested": {"y.$": "States.ArrayLength(States.Array($answer, $tries))"}},
            "Next": "Map"},
        "Map": {"Type": "Map", "ItemsPath": "$items", "MaxConcurrencyPath": "$limit",
            "ItemProcessor": {"StartAt": "Inner", "States": {
                "Inner": {"Type": "Pass", "InputPath": "$question", "End": true}}},
            "Next": "Fail"},
        "Fail": {"Type": "Fail", "ErrorPath": "$error", "CausePath": "States.Format('{}', $.c)"},
        "Right": {"Type": "Succeed", "QueryLanguage": "JSONata", "Output": "{% $answer %}"}
    }});
    let refs = variable_references(&def);
    assert_eq!(
        Value::Object(refs),
        json!({
            "CheckAnswer": ["answer", "guess"],
            "WrongAnswer": ["answer", "tries"],
            "Map": ["items", "limit"],
            "Inner": ["question"],
            "Fail": ["error"]
        })
    );
}

#[test]
fn none_when_nothing_is_read() {
    let def =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {"x": 1}, "End": true}}});
    assert!(variable_references(&def).is_empty());
}

// test_sfn_api_variable_references, BASE_REFERENCE_IN_ITERATOR_OUTER_SCOPE: AWS lists
// ["bias", "xCurrent", "yCurrent", "zCurrent"] for a state that reads them in another order.
#[test]
fn each_states_variables_are_sorted_by_name() {
    let def = json!({"StartAt": "Summate", "States": {"Summate": {"Type": "Pass",
        "Parameters": {"y.$": "$yCurrent", "x.$": "$xCurrent", "z.$": "$zCurrent", "b.$": "$bias", "again.$": "$xCurrent"},
        "End": true}}});
    assert_eq!(
        Value::Object(variable_references(&def)),
        json!({"Summate": ["bias", "xCurrent", "yCurrent", "zCurrent"]})
    );
}
