//! Unit tests of `shapes.rs` (a child module of it: `super::*` is that file).

use super::*;
use serde_json::json;

fn check(op: &str, body: Value) -> Result<(), WireError> {
    let op = operation(op).expect("operation in model");
    validate_input(op, &body)
}

fn validation(op: &str, body: Value) -> String {
    match check(op, body) {
        Err(WireError::Validation(m)) => m,
        other => panic!("expected ValidationException, got {other:?}"),
    }
}

fn serialization(op: &str, body: Value) -> String {
    match check(op, body) {
        Err(WireError::Serialization(m)) => m,
        other => panic!("expected SerializationException, got {other:?}"),
    }
}

#[test]
fn model_has_the_37_actions() {
    let names: Vec<_> = operation_names().collect();
    assert_eq!(names.len(), 37);
    for n in [
        "StartExecution",
        "StartSyncExecution",
        "TestState",
        "RedriveExecution",
        "ValidateStateMachineDefinition",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    let op = operation("StartExecution").unwrap();
    assert_eq!(op.name(), "StartExecution");
    assert_eq!(op.input_shape(), Some("StartExecutionInput"));
    assert_eq!(op.output_shape(), Some("StartExecutionOutput"));
    assert!(operation("startExecution").is_none());
    assert!(operation("Nope").is_none());
}

#[test]
fn errors_per_operation() {
    let op = operation("StartExecution").unwrap();
    let e = errors(op);
    for code in [
        "ExecutionLimitExceeded",
        "ExecutionAlreadyExists",
        "InvalidArn",
        "InvalidExecutionInput",
        "InvalidName",
        "StateMachineDoesNotExist",
        "ValidationException",
    ] {
        assert!(e.contains(&code), "{code}");
    }
    assert_eq!(
        errors(operation("ListActivities").unwrap()),
        &["InvalidToken"]
    );
}

#[test]
fn every_model_pattern_is_implemented() {
    for shape in model().shapes.values() {
        if let Some(p) = &shape.pattern {
            assert!(
                pattern_matches(p, "x").is_some(),
                "pattern {p} of {}",
                shape.name
            );
        }
    }
}

#[test]
fn valid_requests_pass() {
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    assert_eq!(
        check(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "run-1", "input": "{}", "traceHeader": "Root=1"})
        ),
        Ok(())
    );
    assert_eq!(check("ListStateMachines", json!({})), Ok(()));
    assert_eq!(check("ListStateMachines", Value::Null), Ok(()));
    // Unknown members are ignored; null is absent.
    assert_eq!(
        check(
            "ListExecutions",
            json!({"stateMachineArn": arn, "bogus": [1], "nextToken": null})
        ),
        Ok(())
    );
    assert_eq!(
        check(
            "CreateStateMachine",
            json!({"name": "m", "definition": "{}", "roleArn": "arn:aws:iam::1:role/r", "type": "EXPRESS",
            "tags": [{"key": "k", "value": ""}], "loggingConfiguration": {"level": "OFF", "includeExecutionData": false}})
        ),
        Ok(())
    );
    assert_eq!(
        check(
            "UpdateMapRun",
            json!({"mapRunArn": "x", "toleratedFailurePercentage": 5.5, "maxConcurrency": 3})
        ),
        Ok(())
    );
}

// --- texts recorded against real AWS (LocalStack snapshots, user reports) ------

#[test]
fn recorded_range() {
    assert_eq!(
        validation("ListStateMachines", json!({"maxResults": 1001})),
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );
}

#[test]
fn recorded_lengths() {
    let token = "t".repeat(1025);
    assert_eq!(
        validation("ListActivities", json!({"nextToken": token})),
        format!("1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 1024")
    );
    let token = "t".repeat(3097);
    assert_eq!(
        validation("ListExecutions", json!({"stateMachineArn": "a", "nextToken": token})),
        format!("1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 3096")
    );
    let long = "x".repeat(81);
    assert_eq!(
        validation("StartExecution", json!({"stateMachineArn": "a", "name": long})),
        format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80")
    );
}

#[test]
fn recorded_enum() {
    assert_eq!(
        validation("ListExecutions", json!({"stateMachineArn": "a", "statusFilter": "succeeded"})),
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
    );
}

#[test]
fn recorded_alias_name_pattern_and_length() {
    let version = "arn:aws:states:us-east-1:123456789012:stateMachine:m:1";
    let routing = json!([{"stateMachineVersionArn": version, "weight": 100}]);
    let pattern = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";
    for name in ["INVALID ALIAS", "ALIAS@", "123", "!INVALID"] {
        assert_eq!(
            validation("CreateStateMachineAlias", json!({"name": name, "routingConfiguration": routing})),
            format!("1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}")
        );
    }
    let long = "A".repeat(81);
    assert_eq!(
        validation("CreateStateMachineAlias", json!({"name": long, "routingConfiguration": routing})),
        format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80")
    );
    assert_eq!(
        check(
            "CreateStateMachineAlias",
            json!({"name": "PROD-1.a_b", "routingConfiguration": routing})
        ),
        Ok(())
    );
}

#[test]
fn recorded_nested_path_and_list_rendering() {
    let v = |n: u32| format!("arn:aws:states:us-east-1:111111111111:stateMachine:m:{n}");
    assert_eq!(
        validation("CreateStateMachineAlias", json!({"name": "a", "routingConfiguration": [{"stateMachineVersionArn": v(1), "weight": 101}]})),
        "1 validation error detected: Value '101' at 'routingConfiguration.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100"
    );
    let three = json!([
        {"stateMachineVersionArn": v(1), "weight": 50},
        {"stateMachineVersionArn": v(2), "weight": 30},
        {"stateMachineVersionArn": v(3), "weight": 20},
    ]);
    assert_eq!(
        validation("CreateStateMachineAlias", json!({"name": "a", "routingConfiguration": three})),
        format!(
            "1 validation error detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn={}, weight=50), \
             RoutingConfigurationListItem(stateMachineVersionArn={}, weight=30), \
             RoutingConfigurationListItem(stateMachineVersionArn={}, weight=20)]' at 'routingConfiguration' \
             failed to satisfy constraint: Member must have length less than or equal to 2",
            v(1), v(2), v(3)
        )
    );
}

#[test]
fn recorded_missing_required() {
    assert_eq!(
        validation("StartExecution", json!({"name": "n"})),
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"
    );
}

// --- inferred from Coral's behaviour in other services -------------------------

#[test]
fn several_violations_in_model_order() {
    assert_eq!(
        validation("CreateStateMachine", json!({"type": "FAST"})),
        "4 validation errors detected: \
         Value null at 'name' failed to satisfy constraint: Member must not be null; \
         Value null at 'definition' failed to satisfy constraint: Member must not be null; \
         Value null at 'roleArn' failed to satisfy constraint: Member must not be null; \
         Value 'FAST' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
    );
    assert_eq!(
        validation("TagResource", json!({"resourceArn": "", "tags": [{"key": "", "value": "v"}, {"value": "w"}]})),
        // Tag's members are optional in the model.
        "2 validation errors detected: \
         Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1; \
         Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(
        validation("UntagResource", json!({"resourceArn": "a", "tagKeys": ["ok", ""]})),
        "1 validation error detected: Value '' at 'tagKeys.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn empty_alias_name_breaks_length_and_pattern() {
    let m = validation(
        "CreateStateMachineAlias",
        json!({"name": "", "routingConfiguration": []}),
    );
    assert!(m.starts_with("3 validation errors detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: "), "{m}");
    assert!(m.ends_with("Value '[]' at 'routingConfiguration' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{m}");
}

#[test]
fn sensitive_values_are_not_echoed() {
    let arn = "arn:aws:states:us-east-1:123456789012:execution:m:e";
    assert_eq!(
        validation("StopExecution", json!({"executionArn": arn, "error": "e".repeat(257)})),
        "1 validation error detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256"
    );
    assert_eq!(
        validation("StartExecution", json!({"stateMachineArn": arn, "input": "é".repeat(131_073)})),
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding"
    );
    assert_eq!(
        check(
            "StartExecution",
            json!({"stateMachineArn": arn, "input": "é".repeat(131_072)})
        ),
        Ok(())
    );
    assert_eq!(
        validation("CreateStateMachine", json!({"name": "n", "definition": "", "roleArn": "r"})),
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn ranges_and_floats() {
    assert_eq!(
        validation("UpdateMapRun", json!({"mapRunArn": "m", "toleratedFailurePercentage": 101, "toleratedFailureCount": -1, "maxConcurrency": -2})),
        "3 validation errors detected: \
         Value '-2' at 'maxConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 0; \
         Value '101.0' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100; \
         Value '-1' at 'toleratedFailureCount' failed to satisfy constraint: Member must have value greater than or equal to 0"
    );
    assert_eq!(
        validation("CreateActivity", json!({"name": "a", "encryptionConfiguration": {"type": "AWS_OWNED_KEY", "kmsDataKeyReusePeriodSeconds": 59}})),
        "1 validation error detected: Value '59' at 'encryptionConfiguration.kmsDataKeyReusePeriodSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"
    );
    assert_eq!(
        validation("CreateActivity", json!({"name": "a", "encryptionConfiguration": {}})),
        "1 validation error detected: Value null at 'encryptionConfiguration.type' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn patterns_client_token_and_trace_header() {
    assert_eq!(
        validation("RedriveExecution", json!({"executionArn": "e", "clientToken": "a b"})),
        "1 validation error detected: Value 'a b' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [!-~]+"
    );
    assert_eq!(
        validation(
            "StartExecution",
            json!({"stateMachineArn": "a", "traceHeader": "ü"})
        ),
        r"1 validation error detected: Value 'ü' at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \p{ASCII}*"
    );
    // Execution names have no pattern in the model: they are the service's InvalidName.
    assert_eq!(
        check(
            "StartExecution",
            json!({"stateMachineArn": "a", "name": "a b"})
        ),
        Ok(())
    );
}

#[test]
fn wrong_json_types_are_serialization_exceptions() {
    assert_eq!(
        serialization("StartExecution", json!({"stateMachineArn": 1})),
        "NUMBER_VALUE can not be converted to a String"
    );
    assert_eq!(
        serialization("StartExecution", json!({"stateMachineArn": true})),
        "TRUE_VALUE can not be converted to a String"
    );
    assert_eq!(
        serialization("StartExecution", json!({"stateMachineArn": ["a"]})),
        "Start of list found where not expected"
    );
    assert_eq!(
        serialization("StartExecution", json!({"input": {"a": 1}})),
        "Start of structure or map found where not expected."
    );
    assert_eq!(
        serialization("ListStateMachines", json!({"maxResults": "10"})),
        "STRING_VALUE can not be converted to an Integer"
    );
    assert_eq!(
        serialization("ListStateMachines", json!({"maxResults": 1e12})),
        "NUMBER_VALUE can not be converted to an Integer"
    );
    assert_eq!(
        serialization(
            "GetExecutionHistory",
            json!({"executionArn": "e", "reverseOrder": "true"})
        ),
        "STRING_VALUE can not be converted to an Boolean"
    );
    assert_eq!(
        serialization(
            "UpdateMapRun",
            json!({"mapRunArn": "m", "toleratedFailureCount": false})
        ),
        "FALSE_VALUE can not be converted to a Long"
    );
    assert_eq!(
        serialization(
            "TagResource",
            json!({"resourceArn": "r", "tags": {"k": "v"}})
        ),
        "Start of structure or map found where not expected."
    );
    assert_eq!(
        serialization(
            "TagResource",
            json!({"resourceArn": "r", "tags": [{"key": 5}]})
        ),
        "NUMBER_VALUE can not be converted to a String"
    );
    assert_eq!(
        serialization("ListStateMachines", json!([])),
        "Start of list found where not expected"
    );
    assert_eq!(
        serialization("ListStateMachines", json!("x")),
        "STRING_VALUE can not be converted to a Structure"
    );
    // Type errors win over constraint violations, first in document order.
    assert_eq!(
        serialization(
            "CreateStateMachine",
            json!({"type": "FAST", "publish": "yes", "name": 3})
        ),
        "STRING_VALUE can not be converted to an Boolean"
    );
    // Wrong types inside unknown members are ignored.
    assert_eq!(
        check("ListStateMachines", json!({"other": {"maxResults": "x"}})),
        Ok(())
    );
}

#[test]
fn bodies() {
    assert_eq!(parse_body(b""), Ok(json!({})));
    assert_eq!(parse_body(b" \n"), Ok(json!({})));
    assert_eq!(parse_body(br#"{"a":1}"#), Ok(json!({"a": 1})));
    assert_eq!(
        parse_body(b"{"),
        Err(WireError::Serialization(String::new()))
    );
    let e = WireError::Validation("m".into());
    assert_eq!(
        (e.code(), e.message(), e.to_string().as_str()),
        ("ValidationException", "m", "m")
    );
    assert_eq!(
        WireError::Serialization(String::new()).code(),
        "SerializationException"
    );
}

#[test]
fn java_rendering() {
    assert_eq!(java_float(101.0), "101.0");
    assert_eq!(java_float(0.5), "0.5");
    assert_eq!(java_float(1e7), "1.0E7");
    assert_eq!(java_float(-2.5e-4), "-2.5E-4");
    assert_eq!(bound(80.0), "80");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            "[a-zA-Z0-9 :._-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop_oneof![
                Just("name".to_string()),
                Just("stateMachineArn".to_string()),
                Just("maxResults".to_string()),
                Just("tags".to_string()),
                Just("key".to_string()),
                Just("routingConfiguration".to_string()),
                Just("weight".to_string()),
                Just("loggingConfiguration".to_string()),
                Just("destinations".to_string()),
                Just("mock".to_string()),
                Just("type".to_string()),
                "[a-z]{1,6}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((keys, inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn validate_input_never_panics(body in json_value(), which in 0usize..37) {
            let name = operation_names().nth(which).unwrap_or("StartExecution");
            let op = operation(name).unwrap();
            let _ = validate_input(op, &body);
        }

        #[test]
        fn parse_body_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_body(&bytes);
        }
    }
}
