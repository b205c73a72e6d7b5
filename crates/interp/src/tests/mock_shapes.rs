//! Unit tests of `mock_shapes.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

const EVENTS: &str = "arn:aws:states:::events:putEvents";
const SFN: &str = "arn:aws:states:::states:startExecution";
const STRICT: FieldValidationMode = FieldValidationMode::Strict;
const PRESENT: FieldValidationMode = FieldValidationMode::Present;

fn err(resource: &str, mode: FieldValidationMode, v: Value) -> String {
    match check_mock_result(resource, mode, &v) {
        Err(m) => m
            .strip_prefix("Mock result schema validation error: ")
            .unwrap_or(&m)
            .to_string(),
        Ok(()) => panic!("{v} passed for {resource}"),
    }
}

fn ok(resource: &str, mode: FieldValidationMode, v: Value) {
    assert_eq!(check_mock_result(resource, mode, &v), Ok(()), "{v}");
}

#[test]
fn the_shapes_file_parses() {
    assert!(model().is_some());
    assert!(is_validated(EVENTS));
    assert!(is_validated("arn:aws:states:::aws-sdk:s3:getObject"));
    assert!(is_validated("arn:aws-us-gov:states:::dynamodb:getItem"));
}

#[test]
fn modes() {
    assert_eq!(FieldValidationMode::parse(None), Some(STRICT));
    assert_eq!(FieldValidationMode::parse(Some("PRESENT")), Some(PRESENT));
    assert_eq!(
        FieldValidationMode::parse(Some("NONE")),
        Some(FieldValidationMode::None)
    );
    assert_eq!(FieldValidationMode::parse(Some("strict")), None);
    ok(SFN, FieldValidationMode::None, json!({"StartDate": true}));
}

#[test]
fn whole_message() {
    assert_eq!(
        check_mock_result(SFN, STRICT, &json!({})),
        Err("Mock result schema validation error: Required field 'ExecutionArn' is missing".into())
    );
}

#[test]
fn unknown_fields_are_accepted() {
    ok(EVENTS, STRICT, json!({"random": "json"}));
    ok(EVENTS, STRICT, json!({}));
    ok(
        EVENTS,
        STRICT,
        json!({"Entries": [{"EventId": "e", "Extra": [1]}]}),
    );
}

#[test]
fn required_members_only_in_strict() {
    assert_eq!(
        err(SFN, STRICT, json!({})),
        "Required field 'ExecutionArn' is missing"
    );
    assert_eq!(
        err(SFN, STRICT, json!({"ExecutionArn": "a"})),
        "Required field 'StartDate' is missing"
    );
    // The API's own casing is not Step Functions': an unknown field.
    assert_eq!(
        err(SFN, STRICT, json!({"executionArn": "a", "startDate": "d"})),
        "Required field 'ExecutionArn' is missing"
    );
    ok(SFN, PRESENT, json!({}));
    ok(SFN, PRESENT, json!({"executionArn": "a", "startDate": "d"}));
    // Required members come before the types of present ones.
    assert_eq!(
        err(SFN, STRICT, json!({"StartDate": true})),
        "Required field 'ExecutionArn' is missing"
    );
}

#[test]
fn types() {
    assert_eq!(
        err(SFN, PRESENT, json!({"StartDate": true})),
        "Field 'StartDate' must be a string"
    );
    assert_eq!(
        err(
            SFN,
            STRICT,
            json!({"ExecutionArn": "a", "StartDate": 1764103483})
        ),
        "Field 'StartDate' must be a string"
    );
    assert_eq!(
        err(SFN, PRESENT, json!({"ExecutionArn": 1})),
        "Field 'ExecutionArn' must be a string"
    );
    assert_eq!(
        err(EVENTS, STRICT, json!({"Entries": "x"})),
        "Field 'Entries' must be an array"
    );
    assert_eq!(
        err(EVENTS, STRICT, json!({"FailedEntryCount": "1"})),
        "Field 'FailedEntryCount' must be a number"
    );
    ok(EVENTS, STRICT, json!({"FailedEntryCount": 1.5}));
    assert_eq!(
        err(
            "arn:aws:states:::aws-sdk:s3:getObject",
            STRICT,
            json!({"DeleteMarker": "true"})
        ),
        "Field 'DeleteMarker' must be a boolean"
    );
    assert_eq!(
        err(
            "arn:aws:states:::lambda:invoke",
            PRESENT,
            json!({"StatusCode": "200"})
        ),
        "Field 'StatusCode' must be a number"
    );
}

#[test]
fn blobs_and_timestamps_are_strings() {
    let kms = "arn:aws:states:::aws-sdk:kms:encrypt";
    assert_eq!(
        err(kms, STRICT, json!({"CiphertextBlob": 123})),
        "Field 'CiphertextBlob' must be a string"
    );
    ok(kms, STRICT, json!({"CiphertextBlob": "AQID"}));
    // No format is checked on a timestamp.
    ok(
        SFN,
        STRICT,
        json!({"ExecutionArn": "a", "StartDate": "yesterday"}),
    );
}

#[test]
fn nested_structures_lists_and_maps() {
    assert_eq!(
        err(EVENTS, STRICT, json!({"Entries": [{"EventId": ["x"]}]})),
        "Field 'EventId' must be a string"
    );
    assert_eq!(
        err(
            EVENTS,
            STRICT,
            json!({"Entries": [{"EventId": "ok"}, {"EventId": ["x"]}]})
        ),
        "Field 'EventId' must be a string"
    );
    assert_eq!(
        err(EVENTS, STRICT, json!({"Entries": ["x"]})),
        "Field 'Entries' must be an object"
    );
    let ddb = "arn:aws:states:::dynamodb:getItem";
    assert_eq!(
        err(
            ddb,
            STRICT,
            json!({"ConsumedCapacity": {"CapacityUnits": "123.45"}})
        ),
        "Field 'CapacityUnits' must be a number"
    );
    // A map's values are checked, named by the map's member.
    assert_eq!(
        err(ddb, STRICT, json!({"Item": {"id": "x"}})),
        "Field 'Item' must be an object"
    );
    assert_eq!(
        err(ddb, STRICT, json!({"Item": []})),
        "Field 'Item' must be an object"
    );
    assert_eq!(
        err(ddb, STRICT, json!({"Item": {"id": {"S": 1}}})),
        "Field 'S' must be a string"
    );
    ok(
        ddb,
        STRICT,
        json!({"Item": {"id": {"S": "1"}, "n": {"N": "2"}}}),
    );
}

#[test]
fn nested_required_members_in_strict() {
    // Step Functions' ListExecutions: each execution needs its ARN.
    let list = "arn:aws:states:::aws-sdk:sfn:listExecutions";
    assert_eq!(
        err(list, STRICT, json!({"Executions": [{}]})),
        "Required field 'ExecutionArn' is missing"
    );
    ok(list, PRESENT, json!({"Executions": [{}]}));
}

#[test]
fn enums() {
    let s3 = "arn:aws:states:::aws-sdk:s3:getObject";
    assert_eq!(
        err(s3, STRICT, json!({"StorageClass": "Papyrus"})),
        "Field 'StorageClass' is not an expected value"
    );
    ok(s3, STRICT, json!({"StorageClass": "GLACIER"}));
    assert_eq!(
        err(s3, STRICT, json!({"ContentLength": "9000"})),
        "Field 'ContentLength' must be a number"
    );
}

#[test]
fn lengths_and_values() {
    let kms = "arn:aws:states:::aws-sdk:kms:encrypt";
    assert_eq!(
        err(kms, PRESENT, json!({"CiphertextBlob": ""})),
        "Field 'CiphertextBlob' is smaller than the minimum length"
    );
    assert_eq!(
        err(kms, PRESENT, json!({"CiphertextBlob": "x".repeat(6145)})),
        "Field 'CiphertextBlob' exceeds the maximum length"
    );
    let get = "arn:aws:states:::aws-sdk:lambda:getFunction";
    assert_eq!(
        err(get, STRICT, json!({"Configuration": {"MemorySize": 127}})),
        "Field 'MemorySize' is less than the minimum value"
    );
    assert_eq!(
        err(get, STRICT, json!({"Configuration": {"MemorySize": 10241}})),
        "Field 'MemorySize' exceeds the maximum value"
    );
    ok(get, STRICT, json!({"Configuration": {"MemorySize": 128}}));
    ok(get, STRICT, json!({"Configuration": {"MemorySize": 10240}}));
}

#[test]
fn json_members_accept_anything() {
    let invoke = "arn:aws:states:::lambda:invoke";
    ok(
        invoke,
        STRICT,
        json!({"StatusCode": 200, "Payload": {"a": [1]}}),
    );
    ok(invoke, STRICT, json!({"Payload": "text"}));
    let sync2 = "arn:aws:states:::states:startExecution.sync:2";
    ok(
        sync2,
        PRESENT,
        json!({"ExecutionArn": "a", "Output": {"x": 1}, "Input": [1]}),
    );
    let sync = "arn:aws:states:::states:startExecution.sync";
    assert_eq!(
        err(sync, PRESENT, json!({"Output": {"x": 1}})),
        "Field 'Output' must be a string"
    );
    assert_eq!(
        err(sync, PRESENT, json!({"Status": "DONE"})),
        "Field 'Status' is not an expected value"
    );
}

#[test]
fn resources_not_validated() {
    for r in [
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:us-east-1:123456789012:activity:a",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:::ecs:runTask.sync",
        "arn:aws:states:::http:invoke",
        "arn:aws:states:::apigateway:invoke",
        "arn:aws:states:::aws-sdk:nosuchservice:doIt",
        "arn:aws:states:::aws-sdk:s3:noSuchAction",
        "arn:aws:states:::dynamodb:query",
        "not an arn",
    ] {
        assert!(!is_validated(r), "{r}");
        ok(r, STRICT, json!({"StatusCode": "x", "Entries": 1}));
    }
}

#[test]
fn only_objects_are_checked() {
    ok(SFN, STRICT, json!("Hello World"));
    ok(SFN, STRICT, json!([1, 2]));
    ok(SFN, STRICT, json!(42));
}
