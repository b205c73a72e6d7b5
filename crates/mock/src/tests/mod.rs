use super::*;
use serde_json::json;

/// The example from the Step Functions Local documentation.
const DOC_EXAMPLE: &str = r#"{
  "StateMachines": {
    "LambdaSQSIntegration": {
      "TestCases": {
        "HappyPath": { "LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess" },
        "RetryPath": { "LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess" },
        "HybridPath": { "LambdaState": "MockedLambdaSuccess" }
      }
    }
  },
  "MockedResponses": {
    "MockedLambdaSuccess": {
      "0": { "Return": { "StatusCode": 200, "Payload": { "StatusCode": 200, "body": "Hello from Lambda!" } } }
    },
    "LambdaMockedResourceNotReady": {
      "0": { "Throw": { "Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready." } }
    },
    "MockedSQSSuccess": {
      "0": { "Return": { "MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                         "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51" } }
    },
    "MockedLambdaRetry": {
      "0": { "Throw": { "Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready." } },
      "1-2": { "Throw": { "Error": "Lambda.TimeoutException", "Cause": "Lambda timed out." } },
      "3": { "Return": { "StatusCode": 200, "Payload": { "StatusCode": 200, "body": "Hello from Lambda!" } } }
    }
  }
}"#;

fn doc() -> MockConfig {
    MockConfig::parse(DOC_EXAMPLE).expect("the documented example parses")
}

fn throw(error: &str, cause: &str) -> MockResult {
    MockResult::Throw {
        error: error.into(),
        cause: cause.into(),
    }
}

/// A file with one machine "M", one test case "T" mapping state "S" to response "R",
/// whose body is `response`.
fn with_response(response: &str) -> String {
    format!(
        r#"{{"StateMachines":{{"M":{{"TestCases":{{"T":{{"S":"R"}}}}}}}},"MockedResponses":{{"R":{response}}}}}"#
    )
}

/// The `Invalid` error of `text`, as (path, message); panics on success or another kind.
fn invalid(text: &str) -> (String, String) {
    match MockConfig::parse(text) {
        Err(MockError::Invalid { path, message }) => (path, message),
        other => panic!("expected an Invalid error for {text}, got {other:?}"),
    }
}

// ---- the documented example ------------------------------------------------------------

#[test]
fn doc_example_happy_path() {
    let config = doc();
    let case = config
        .test_case("LambdaSQSIntegration", "HappyPath")
        .unwrap();
    assert_eq!(case.state_machine(), "LambdaSQSIntegration");
    assert_eq!(case.name(), "HappyPath");
    assert_eq!(
        case.response("LambdaState", 0),
        Some(MockResult::Return(
            json!({"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}})
        ))
    );
    assert_eq!(
        case.response("SQSState", 0),
        Some(MockResult::Return(json!({
            "MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
            "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"
        })))
    );
    let states: Vec<_> = case.mocked_states().collect();
    assert_eq!(
        states,
        [
            ("LambdaState", "MockedLambdaSuccess"),
            ("SQSState", "MockedSQSSuccess")
        ]
    );
}

#[test]
fn doc_example_retry_path_walks_the_ranges() {
    let config = doc();
    let case = config
        .test_case("LambdaSQSIntegration", "RetryPath")
        .unwrap();
    let not_ready = throw(
        "Lambda.ResourceNotReadyException",
        "Lambda resource is not ready.",
    );
    let timeout = throw("Lambda.TimeoutException", "Lambda timed out.");
    assert_eq!(case.response("LambdaState", 0), Some(not_ready));
    assert_eq!(case.response("LambdaState", 1), Some(timeout.clone()));
    assert_eq!(case.response("LambdaState", 2), Some(timeout));
    assert!(matches!(
        case.response("LambdaState", 3),
        Some(MockResult::Return(_))
    ));
}

#[test]
fn invocation_beyond_the_last_key_has_no_response() {
    // The docs: a response is needed for every invocation, else the execution fails; the
    // last entry does not repeat.
    let config = doc();
    let case = config
        .test_case("LambdaSQSIntegration", "RetryPath")
        .unwrap();
    assert_eq!(case.response("LambdaState", 4), None);
    assert_eq!(case.response("LambdaState", u32::MAX), None);
    assert_eq!(
        case.lookup("LambdaState", 4),
        Lookup::Exhausted {
            response: "MockedLambdaRetry",
            defined: 4
        }
    );
    assert_eq!(
        case.lookup("SQSState", 1),
        Lookup::Exhausted {
            response: "MockedSQSSuccess",
            defined: 1
        }
    );
}

#[test]
fn unlisted_state_is_not_mocked() {
    let config = doc();
    let case = config
        .test_case("LambdaSQSIntegration", "HybridPath")
        .unwrap();
    assert!(case.is_mocked("LambdaState"));
    assert!(!case.is_mocked("SQSState"));
    assert_eq!(case.lookup("SQSState", 0), Lookup::NotMocked);
    assert_eq!(case.response("SQSState", 0), None);
    assert!(matches!(
        case.lookup("LambdaState", 0),
        Lookup::Response(MockResult::Return(_))
    ));
}

#[test]
fn listing_machines_test_cases_and_responses() {
    let config = doc();
    assert_eq!(
        config.state_machines().collect::<Vec<_>>(),
        ["LambdaSQSIntegration"]
    );
    assert_eq!(
        config
            .test_cases("LambdaSQSIntegration")
            .unwrap()
            .collect::<Vec<_>>(),
        ["HappyPath", "HybridPath", "RetryPath"]
    );
    assert!(config.test_cases("Nope").is_none());
    let retry = config.mocked_response("MockedLambdaRetry").unwrap();
    assert_eq!(retry.len(), 4);
    assert!(!retry.is_empty());
    assert!(config.mocked_response("Nope").is_none());
}

// ---- test case selection ---------------------------------------------------------------

#[test]
fn unknown_state_machine_lists_the_defined_ones() {
    let err = doc().test_case("Other", "HappyPath").unwrap_err();
    assert_eq!(
        err,
        MockError::UnknownStateMachine {
            name: "Other".into(),
            available: vec!["LambdaSQSIntegration".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        r#"no state machine "Other" in the mock file (it defines: "LambdaSQSIntegration")"#
    );
}

#[test]
fn unknown_test_case_lists_the_defined_ones() {
    let err = doc()
        .test_case("LambdaSQSIntegration", "SadPath")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"no test case "SadPath" for state machine "LambdaSQSIntegration" in the mock file (it defines: "HappyPath", "HybridPath", "RetryPath")"#
    );
}

#[test]
fn empty_lists_say_none() {
    let config =
        MockConfig::parse(r#"{"StateMachines":{"M":{"TestCases":{}}},"MockedResponses":{}}"#)
            .unwrap();
    assert_eq!(
        config.test_case("M", "T").unwrap_err().to_string(),
        r#"no test case "T" for state machine "M" in the mock file (it defines: none)"#
    );
    let config = MockConfig::parse(r#"{"StateMachines":{},"MockedResponses":{}}"#).unwrap();
    assert_eq!(
        config.test_case("M", "T").unwrap_err().to_string(),
        r#"no state machine "M" in the mock file (it defines: none)"#
    );
}

#[test]
fn split_test_case_from_arn() {
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:OrderWorkflow";
    assert_eq!(split_test_case(arn), (arn, None));
    assert_eq!(
        split_test_case(&format!("{arn}#HappyPath")),
        (arn, Some("HappyPath"))
    );
    assert_eq!(split_test_case("x#"), ("x", Some("")));
}

// ---- response semantics ----------------------------------------------------------------

#[test]
fn keys_in_any_order_and_wide_ranges() {
    let text = with_response(
        r#"{"5-4294967295":{"Return":"late"},"1-4":{"Throw":{"Error":"E"}},"0":{"Return":null}}"#,
    );
    let config = MockConfig::parse(&text).unwrap();
    let case = config.test_case("M", "T").unwrap();
    assert_eq!(case.response("S", 0), Some(MockResult::Return(json!(null))));
    for i in 1..=4 {
        assert_eq!(
            case.response("S", i),
            Some(throw("E", "")),
            "invocation {i}"
        );
    }
    assert_eq!(
        case.response("S", 5),
        Some(MockResult::Return(json!("late")))
    );
    assert_eq!(
        case.response("S", u32::MAX),
        Some(MockResult::Return(json!("late")))
    );
    assert_eq!(config.mocked_response("R").unwrap().len(), 1 << 32);
}

#[test]
fn return_keeps_any_json() {
    let text =
        with_response(r#"{"0":{"Return":[1,"two",{"three":3.5,"big":18446744073709551615}]}}"#);
    let config = MockConfig::parse(&text).unwrap();
    let case = config.test_case("M", "T").unwrap();
    assert_eq!(
        case.response("S", 0),
        Some(MockResult::Return(
            json!([1, "two", {"three": 3.5, "big": 18446744073709551615u64}])
        ))
    );
}

#[test]
fn cause_is_optional() {
    let config = MockConfig::parse(&with_response(
        r#"{"0":{"Throw":{"Error":"States.Timeout"}}}"#,
    ))
    .unwrap();
    assert_eq!(
        config.test_case("M", "T").unwrap().response("S", 0),
        Some(throw("States.Timeout", ""))
    );
}

#[test]
fn states_inside_map_and_parallel_are_keyed_by_name() {
    // A Map iteration's Task and a Parallel branch's Task are listed like any other state;
    // the engine counts their invocations across iterations.
    let text = r#"{
      "StateMachines": {"M": {"TestCases": {"T": {"InMap": "Each", "InBranch": "Once"}}}},
      "MockedResponses": {
        "Each": {"0-2": {"Return": {"ok": true}}},
        "Once": {"0": {"Return": {"branch": 1}}}
      }
    }"#;
    let config = MockConfig::parse(text).unwrap();
    let case = config.test_case("M", "T").unwrap();
    for i in 0..3 {
        assert_eq!(
            case.response("InMap", i),
            Some(MockResult::Return(json!({"ok": true})))
        );
    }
    assert_eq!(case.response("InMap", 3), None);
    assert_eq!(
        case.response("InBranch", 0),
        Some(MockResult::Return(json!({"branch": 1})))
    );
}

#[test]
fn one_response_shared_by_several_states_and_machines() {
    let text = r#"{
      "StateMachines": {
        "A": {"TestCases": {"T": {"X": "R", "Y": "R"}}},
        "B": {"TestCases": {"T": {"Z": "R"}, "Empty": {}}}
      },
      "MockedResponses": {"R": {"0": {"Return": 1}}, "Unused": {"0": {"Return": 2}}}
    }"#;
    let config = MockConfig::parse(text).unwrap();
    assert_eq!(
        config.test_case("A", "T").unwrap().response("Y", 0),
        Some(MockResult::Return(json!(1)))
    );
    assert_eq!(
        config.test_case("B", "T").unwrap().response("Z", 0),
        Some(MockResult::Return(json!(1)))
    );
    assert_eq!(
        config.test_case("B", "Empty").unwrap().lookup("Z", 0),
        Lookup::NotMocked
    );
}

// ---- errors: JSON and top level --------------------------------------------------------

#[test]
fn not_json() {
    let err = MockConfig::parse("{\"StateMachines\": ").unwrap_err();
    assert!(matches!(err, MockError::Json(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("mock file is not valid JSON: "),
        "{err}"
    );
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn root_must_be_an_object() {
    assert_eq!(
        invalid("[]"),
        (
            "".into(),
            "expected an object with \"StateMachines\" and \"MockedResponses\", found an array"
                .into()
        )
    );
    assert_eq!(
        MockConfig::parse("null").unwrap_err().to_string(),
        "expected an object with \"StateMachines\" and \"MockedResponses\", found null"
    );
}

#[test]
fn missing_top_level_fields() {
    assert_eq!(
        invalid(r#"{"MockedResponses":{}}"#),
        ("".into(), "missing required field \"StateMachines\"".into())
    );
    assert_eq!(
        invalid(r#"{"StateMachines":{}}"#),
        (
            "".into(),
            "missing required field \"MockedResponses\"".into()
        )
    );
}

#[test]
fn unknown_top_level_field() {
    // The docs' prose says "MockedResponse"; the field is "MockedResponses".
    let (path, message) = invalid(r#"{"StateMachines":{},"MockedResponse":{}}"#);
    assert_eq!(path, "MockedResponse");
    assert!(message.starts_with("unknown field"), "{message}");
}

#[test]
fn duplicate_keys_are_reported() {
    assert_eq!(
        invalid(r#"{"StateMachines":{},"MockedResponses":{},"MockedResponses":{}}"#),
        ("MockedResponses".into(), "duplicate key".into())
    );
    assert_eq!(
        invalid(&with_response(r#"{"0":{"Return":1},"0":{"Return":2}}"#)),
        ("MockedResponses.R.\"0\"".into(), "duplicate key".into())
    );
    let text = r#"{"StateMachines":{"M":{"TestCases":{"T":{"S":"R","S":"R"}}}},"MockedResponses":{"R":{"0":{"Return":1}}}}"#;
    assert_eq!(
        invalid(text),
        (
            "StateMachines.M.TestCases.T.S".into(),
            "duplicate key".into()
        )
    );
}

// ---- errors: StateMachines -------------------------------------------------------------

#[test]
fn state_machines_shape_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"StateMachines":[],"MockedResponses":{}}"#,
            "StateMachines",
            "expected an object keyed by state machine name, found an array",
        ),
        (
            r#"{"StateMachines":{"M":1},"MockedResponses":{}}"#,
            "StateMachines.M",
            "expected an object with \"TestCases\", found a number",
        ),
        (
            r#"{"StateMachines":{"M":{}},"MockedResponses":{}}"#,
            "StateMachines.M",
            "missing required field \"TestCases\"",
        ),
        (
            r#"{"StateMachines":{"M":{"TestCases":{},"Tests":{}}},"MockedResponses":{}}"#,
            "StateMachines.M.Tests",
            "unknown field (a state machine has \"TestCases\")",
        ),
        (
            r#"{"StateMachines":{"M":{"TestCases":"x"}},"MockedResponses":{}}"#,
            "StateMachines.M.TestCases",
            "expected an object keyed by test case name, found a string",
        ),
        (
            r#"{"StateMachines":{"M":{"TestCases":{"T":true}}},"MockedResponses":{}}"#,
            "StateMachines.M.TestCases.T",
            "expected an object mapping state names to mocked response names, found a boolean",
        ),
        (
            r#"{"StateMachines":{"M":{"TestCases":{"T":{"S":{"0":{}}}}}},"MockedResponses":{}}"#,
            "StateMachines.M.TestCases.T.S",
            "expected the name of a mocked response (a string), found an object",
        ),
    ];
    for (text, path, message) in cases {
        assert_eq!(invalid(text), ((*path).into(), (*message).into()), "{text}");
    }
}

#[test]
fn test_case_must_refer_to_a_defined_response() {
    let text = r#"{"StateMachines":{"My Machine":{"TestCases":{"Happy Path":{"Lambda State":"Missing"}}}},
                   "MockedResponses":{"R":{"0":{"Return":1}}}}"#;
    let err = MockConfig::parse(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"StateMachines."My Machine".TestCases."Happy Path"."Lambda State": refers to mocked response "Missing", which MockedResponses does not define"#
    );
}

// ---- errors: MockedResponses -----------------------------------------------------------

#[test]
fn invalid_attempt_range_is_located() {
    let text = r#"{"StateMachines":{},"MockedResponses":{"MockedLambdaRetry":{"0":{"Return":1},"1-x":{"Return":2}}}}"#;
    let err = MockConfig::parse(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"MockedResponses.MockedLambdaRetry."1-x": invalid attempt range (expected an invocation number such as "0" or an inclusive range such as "1-2")"#
    );
    for bad in ["-1", "1.5", "1o", "", "1-2-3", "4294967296"] {
        let (path, message) = invalid(&with_response(&format!(r#"{{"{bad}":{{"Return":1}}}}"#)));
        assert_eq!(path, format!("MockedResponses.R.{}", quote(bad)));
        assert!(
            message.starts_with("invalid attempt range"),
            "{bad}: {message}"
        );
    }
}

#[test]
fn reversed_range() {
    assert_eq!(
        invalid(&with_response(r#"{"0-2":{"Return":1},"5-3":{"Return":2}}"#)),
        (
            "MockedResponses.R.\"5-3\"".into(),
            "invalid attempt range: 5 is greater than 3".into()
        )
    );
}

#[test]
fn overlapping_ranges() {
    assert_eq!(
        invalid(&with_response(r#"{"0-2":{"Return":1},"2-3":{"Return":2}}"#)),
        (
            "MockedResponses.R.\"2-3\"".into(),
            "overlaps \"0-2\" (each invocation must have exactly one response)".into()
        )
    );
    // The same invocation written two ways.
    let (path, message) = invalid(&with_response(r#"{"0":{"Return":1},"0-0":{"Return":2}}"#));
    assert_eq!(path, "MockedResponses.R.\"0-0\"");
    assert!(message.starts_with("overlaps \"0\""), "{message}");
    // A range containing a later single key.
    let (path, _) = invalid(&with_response(r#"{"3":{"Return":1},"0-5":{"Return":2}}"#));
    assert_eq!(path, "MockedResponses.R.\"3\"");
}

#[test]
fn gaps_are_rejected() {
    assert_eq!(
        invalid(&with_response(r#"{"1":{"Return":1}}"#)),
        (
            "MockedResponses.R".into(),
            "no response for invocation 0 (keys must cover every invocation from 0 up to the last, without gaps)".into()
        )
    );
    let (path, message) = invalid(&with_response(r#"{"0":{"Return":1},"4-5":{"Return":2}}"#));
    assert_eq!(path, "MockedResponses.R");
    assert!(
        message.starts_with("no response for invocation 1-3 "),
        "{message}"
    );
}

#[test]
fn response_shape_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"[]"#,
            "MockedResponses.R",
            "expected an object keyed by invocation number (\"0\", \"1-2\", …), found an array",
        ),
        (
            r#"{}"#,
            "MockedResponses.R",
            "defines no responses (expected keys such as \"0\" or \"1-2\")",
        ),
        (
            r#"{"0":"ok"}"#,
            "MockedResponses.R.\"0\"",
            "expected an object with exactly one of \"Return\" or \"Throw\", found a string",
        ),
        (
            r#"{"0":{}}"#,
            "MockedResponses.R.\"0\"",
            "expected exactly one of \"Return\" or \"Throw\"",
        ),
        (
            r#"{"0":{"Return":1,"Throw":{"Error":"E"}}}"#,
            "MockedResponses.R.\"0\"",
            "has both \"Return\" and \"Throw\" (expected exactly one of \"Return\" or \"Throw\")",
        ),
        (
            r#"{"0":{"Result":1}}"#,
            "MockedResponses.R.\"0\".Result",
            "unknown field (a response has exactly one of \"Return\" or \"Throw\")",
        ),
        (
            r#"{"0":{"Throw":"E"}}"#,
            "MockedResponses.R.\"0\".Throw",
            "expected an object with \"Error\" and \"Cause\", found a string",
        ),
        (
            r#"{"0":{"Throw":{"Cause":"c"}}}"#,
            "MockedResponses.R.\"0\".Throw",
            "missing required field \"Error\"",
        ),
        (
            r#"{"0":{"Throw":{"Error":1}}}"#,
            "MockedResponses.R.\"0\".Throw.Error",
            "expected a string, found a number",
        ),
        (
            r#"{"0":{"Throw":{"Error":""}}}"#,
            "MockedResponses.R.\"0\".Throw.Error",
            "must not be empty (it is the error name Retry and Catch match)",
        ),
        (
            r#"{"0":{"Throw":{"Error":"E","Cause":null}}}"#,
            "MockedResponses.R.\"0\".Throw.Cause",
            "expected a string, found null",
        ),
        (
            r#"{"0":{"Throw":{"Error":"E","Message":"m"}}}"#,
            "MockedResponses.R.\"0\".Throw.Message",
            "unknown field (a Throw has \"Error\" and \"Cause\")",
        ),
    ];
    for (response, path, message) in cases {
        assert_eq!(
            invalid(&with_response(response)),
            ((*path).into(), (*message).into()),
            "{response}"
        );
    }
    assert_eq!(
        invalid(r#"{"StateMachines":{},"MockedResponses":7}"#),
        (
            "MockedResponses".into(),
            "expected an object of mocked responses, found a number".into()
        )
    );
}

#[test]
fn unused_responses_are_still_validated() {
    let (path, _) =
        invalid(r#"{"StateMachines":{},"MockedResponses":{"Unused":{"x":{"Return":1}}}}"#);
    assert_eq!(path, "MockedResponses.Unused.x");
}

// ---- the repository's example mock files -----------------------------------------------

#[test]
fn order_workflow_example() {
    let config = MockConfig::parse(include_str!(
        "../../../../examples/order-workflow.mock.json"
    ))
    .unwrap();
    let happy = config.test_case("order-workflow", "HappyPath").unwrap();
    for state in [
        "CheckInventory",
        "ChargePayment",
        "SendConfirmation",
        "UpdateInventory",
        "NotifyWarehouse",
        "CreateShippingLabel",
    ] {
        assert!(
            matches!(happy.response(state, 0), Some(MockResult::Return(_))),
            "{state}"
        );
    }
    let declined = config
        .test_case("order-workflow", "PaymentDeclined")
        .unwrap();
    let card = throw("PaymentDeclined", "Card declined by issuer");
    // Mock responses do not repeat, so "every attempt" is a wide range: 0-999.
    for attempt in [0, 1, 2, 999] {
        assert_eq!(
            declined.response("ChargePayment", attempt),
            Some(card.clone()),
            "attempt {attempt}"
        );
    }
    assert_eq!(declined.response("ChargePayment", 1000), None);
    assert!(matches!(
        declined.response("CancelOrder", 0),
        Some(MockResult::Return(_))
    ));
}

#[test]
fn video_pipeline_example() {
    let config = MockConfig::parse(include_str!(
        "../../../../examples/video-pipeline.mock.json"
    ))
    .unwrap();
    let happy = config.test_case("video-pipeline", "HappyPath").unwrap();
    for state in [
        "ValidateVideo",
        "ExtractMetadata",
        "Transcode",
        "GenerateThumbnails",
        "ModerateContent",
        "StoreTiered",
        "UpdateDatabase",
        "NotifyUser",
    ] {
        assert!(
            matches!(happy.response(state, 0), Some(MockResult::Return(_))),
            "{state}"
        );
    }
    // Transcode runs once per format inside a Map: every invocation gets the same result.
    assert_eq!(
        happy.response("Transcode", 0),
        happy.response("Transcode", 7)
    );
    let flaky = config
        .test_case("video-pipeline", "TranscodeFlaky")
        .unwrap();
    assert!(
        matches!(flaky.response("Transcode", 0), Some(MockResult::Throw { error, .. }) if error == "Lambda.ServiceException")
    );
    assert!(matches!(
        flaky.response("Transcode", 1),
        Some(MockResult::Return(_))
    ));
    assert!(matches!(
        flaky.response("Transcode", 5),
        Some(MockResult::Return(_))
    ));
}

// ---- never panics ----------------------------------------------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Keys that hit the interesting branches, plus arbitrary strings.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("StateMachines".to_owned()),
            Just("MockedResponses".to_owned()),
            Just("TestCases".to_owned()),
            Just("Return".to_owned()),
            Just("Throw".to_owned()),
            Just("Error".to_owned()),
            Just("Cause".to_owned()),
            Just("R".to_owned()),
            "[0-9]{1,3}(-[0-9]{1,3})?",
            ".{0,6}",
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            Just(Value::from("R")),
            ".{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..5)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_text(text in ".{0,200}") {
            let _ = MockConfig::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_mock_shaped_json(value in json()) {
            let text = value.to_string();
            if let Ok(config) = MockConfig::parse(&text) {
                // Whatever parsed can be queried without panicking.
                for machine in config.state_machines() {
                    for case in config.test_cases(machine).into_iter().flatten() {
                        let case = config.test_case(machine, case).unwrap();
                        for (state, _) in case.mocked_states() {
                            let _ = case.response(state, 0);
                            let _ = case.lookup(state, u32::MAX);
                        }
                    }
                }
            }
        }

        /// Contiguous ranges in shuffled order: every covered invocation gets the entry
        /// holding it, and the first uncovered one gets nothing.
        #[test]
        fn contiguous_ranges_resolve(lengths in prop::collection::vec(1u32..5, 1..6), seed in any::<u64>()) {
            let mut keys = Vec::new();
            let mut start = 0u32;
            for (i, len) in lengths.iter().enumerate() {
                let end = start + len - 1;
                let key = if start == end { start.to_string() } else { format!("{start}-{end}") };
                keys.push((key, i));
                start = end + 1;
            }
            // Deterministic shuffle: rotate by the seed.
            let n = keys.len();
            keys.rotate_left((seed % n as u64) as usize);
            let body: Vec<String> = keys.iter().map(|(k, i)| format!(r#""{k}":{{"Return":{i}}}"#)).collect();
            let config = MockConfig::parse(&with_response(&format!("{{{}}}", body.join(",")))).unwrap();
            let case = config.test_case("M", "T").unwrap();
            let mut invocation = 0u32;
            for (i, len) in lengths.iter().enumerate() {
                for _ in 0..*len {
                    prop_assert_eq!(case.response("S", invocation), Some(MockResult::Return(json!(i))));
                    invocation += 1;
                }
            }
            prop_assert_eq!(case.response("S", invocation), None);
        }
    }
}

// ---- several files merged ----------------------------------------------------------------

#[test]
fn merged_files_answer_from_their_own_responses() {
    let a = MockConfig::parse(
        r#"{"StateMachines":{"M":{"TestCases":{"A":{"S":"R"}}}},"MockedResponses":{"R":{"0":{"Return":1}}}}"#,
    )
    .expect("a");
    let b = MockConfig::parse(
        r#"{"StateMachines":{"M":{"TestCases":{"B":{"S":"R"}}},"N":{"TestCases":{"A":{"S":"R"}}}},"MockedResponses":{"R":{"0":{"Return":2}}}}"#,
    )
    .expect("b");
    let m = MockConfig::merge(vec![("a.json".into(), a), ("b.json".into(), b)]).expect("merge");
    let one = |machine: &str, case: &str| match m
        .test_case(machine, case)
        .expect("case")
        .lookup("S", 0)
    {
        Lookup::Response(MockResult::Return(v)) => v.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(one("M", "A"), json!(1));
    assert_eq!(one("M", "B"), json!(2));
    assert_eq!(one("N", "A"), json!(2));
    assert_eq!(
        m.test_cases("M").expect("M").collect::<Vec<_>>(),
        ["A", "B"]
    );
}

#[test]
fn the_same_test_case_in_two_files_is_an_error_naming_both() {
    let text = r#"{"StateMachines":{"M":{"TestCases":{"T":{}}}},"MockedResponses":{}}"#;
    let a = MockConfig::parse(text).expect("a");
    let b = MockConfig::parse(text).expect("b");
    let e = MockConfig::merge(vec![("one.json".into(), a), ("two.json".into(), b)])
        .expect_err("conflict");
    assert_eq!(
        e.to_string(),
        "test case \"T\" of state machine \"M\" is defined in both one.json and two.json"
    );
}
