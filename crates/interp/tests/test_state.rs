//! `TestState` against AWS's recordings. Each case reproduces a snapshot recorded on AWS
//! in LocalStack's `tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json`
//! (named in the comment above it; templates from `templates/test_state/`).

use serde_json::{json, Value};
use stepwise_interp::run::VirtualClock;
use stepwise_interp::test_state::{
    test_state, InspectionLevel, MockErrorOutput, TestStateConfiguration, TestStateError,
    TestStateMock, TestStateRequest, TestStateResponse, TestStateStatus,
};

const HELLO: &str = r#"{"Value": "HelloWorld"}"#;
const NESTED: &str = r#"{"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
  "unrelatedData": {"someOtherField": 1234}}"#;

fn req(def: Value, input: &str, level: InspectionLevel) -> TestStateRequest {
    TestStateRequest {
        definition: def.to_string(),
        input: Some(input.into()),
        inspection_level: level,
        ..Default::default()
    }
}

fn run(r: &TestStateRequest) -> Result<TestStateResponse, TestStateError> {
    test_state(r, &mut VirtualClock::new(1_700_000_000_000, 7))
}

fn ok(r: &TestStateRequest) -> TestStateResponse {
    match run(r) {
        Ok(v) => v,
        Err(e) => panic!("refused: {e}"),
    }
}

/// The response as AWS shows it, with `output` and inspection values parsed back from
/// text (as the LocalStack snapshots store them).
fn shown(r: &TestStateResponse) -> Value {
    let mut v = r.to_aws_json();
    fn parse(v: &mut Value) {
        if let Some(s) = v.as_str() {
            if let Ok(p) = serde_json::from_str::<Value>(s) {
                *v = p;
            }
        }
    }
    if let Some(o) = v.get_mut("output") {
        parse(o);
    }
    if let Some(Value::Object(m)) = v.get_mut("inspectionData") {
        for (k, x) in m.iter_mut() {
            if k != "errorDetails" {
                parse(x);
            }
        }
    }
    v
}

fn base_pass() -> Value {
    json!({"Type": "Pass", "End": true})
}
fn base_result_pass() -> Value {
    json!({"Type": "Pass", "Result": {"resultKey": "result value"}, "End": true})
}
fn io_pass() -> Value {
    json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData", "End": true})
}
fn io_result_pass() -> Value {
    json!({"Type": "Pass", "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "Result": {"resultKey": "result value"}, "ResultPath": "$.modifiedData", "End": true})
}
fn base_choice() -> Value {
    json!({"Type": "Choice", "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
        "Default": "DefaultState"})
}
fn base_fail() -> Value {
    json!({"Type": "Fail", "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure."})
}

// test_test_state_scenarios: test_base_inspection_level_info[BASE_PASS_STATE]
#[test]
fn pass_info() {
    let r = ok(&req(base_pass(), HELLO, InspectionLevel::Info));
    assert_eq!(
        shown(&r),
        json!({"output": {"Value": "HelloWorld"}, "status": "SUCCEEDED"})
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_PASS_STATE] (and _trace)
#[test]
fn pass_debug() {
    for level in [InspectionLevel::Debug, InspectionLevel::Trace] {
        let r = ok(&req(base_pass(), HELLO, level));
        let h = json!({"Value": "HelloWorld"});
        assert_eq!(
            shown(&r),
            json!({"inspectionData": {"afterInputPath": h, "afterParameters": h,
                "afterResultPath": h, "afterResultSelector": h, "input": h},
                "output": h, "status": "SUCCEEDED"})
        );
    }
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_RESULT_PASS_STATE]
#[test]
fn pass_with_result_debug() {
    let r = ok(&req(base_result_pass(), HELLO, InspectionLevel::Debug));
    let rv = json!({"resultKey": "result value"});
    assert_eq!(
        shown(&r),
        json!({"inspectionData": {"afterResultPath": rv, "afterResultSelector": rv,
            "input": {"Value": "HelloWorld"}, "result": rv},
            "output": rv, "status": "SUCCEEDED"})
    );
}

// test_test_state_scenarios: test_base_inspection_level_info[IO_PASS_STATE] and _debug
#[test]
fn pass_input_path_parameters_result_path() {
    let input: Value = serde_json::from_str(NESTED).unwrap_or_default();
    let params = json!({"staticValue": "some value", "inputValue": "value from input"});
    let mut out = input.clone();
    out["modifiedData"] = params.clone();
    let r = ok(&req(io_pass(), NESTED, InspectionLevel::Info));
    assert_eq!(shown(&r), json!({"output": out, "status": "SUCCEEDED"}));
    let r = ok(&req(io_pass(), NESTED, InspectionLevel::Debug));
    assert_eq!(
        shown(&r),
        json!({"inspectionData": {
            "afterInputPath": {"fieldFromInput": "value from input", "otherField": "other"},
            "afterParameters": params, "afterResultPath": out,
            "afterResultSelector": params, "input": input},
            "output": out, "status": "SUCCEEDED"})
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[IO_RESULT_PASS_STATE]
#[test]
fn pass_result_with_result_path() {
    let input: Value = serde_json::from_str(NESTED).unwrap_or_default();
    let rv = json!({"resultKey": "result value"});
    let mut out = input.clone();
    out["modifiedData"] = rv.clone();
    let r = ok(&req(io_result_pass(), NESTED, InspectionLevel::Debug));
    assert_eq!(
        shown(&r),
        json!({"inspectionData": {"afterResultPath": out, "afterResultSelector": rv,
            "input": input, "result": rv}, "output": out, "status": "SUCCEEDED"})
    );
}

// test_test_state_scenarios: test_base_inspection_level_info[BASE_CHOICE_STATE] and _debug
#[test]
fn choice_next_state_and_default() {
    let input = r#"{"type": "Private", "value": 22}"#;
    let v = json!({"type": "Private", "value": 22});
    let r = ok(&req(base_choice(), input, InspectionLevel::Info));
    assert_eq!(
        shown(&r),
        json!({"nextState": "ValueInTwenties", "output": v, "status": "SUCCEEDED"})
    );
    let r = ok(&req(base_choice(), input, InspectionLevel::Debug));
    assert_eq!(
        shown(&r),
        json!({"inspectionData": {"afterInputPath": v, "input": v},
            "nextState": "ValueInTwenties", "output": v, "status": "SUCCEEDED"})
    );
    // No rule matches: Default.
    let r = ok(&req(
        base_choice(),
        r#"{"type": "Private", "value": 5}"#,
        InspectionLevel::Info,
    ));
    assert_eq!(r.next_state.as_deref(), Some("DefaultState"));
    let r = ok(&req(
        base_choice(),
        r#"{"type": "Public", "value": 5}"#,
        InspectionLevel::Info,
    ));
    assert_eq!(r.next_state.as_deref(), Some("Public"));
}

#[test]
fn choice_without_default_fails_with_no_choice_matched() {
    let def = json!({"Type": "Choice", "Choices": [
        {"Variable": "$.v", "NumericEquals": 1, "Next": "One"}]});
    let r = ok(&req(def, r#"{"v": 2}"#, InspectionLevel::Info));
    assert_eq!(r.status, TestStateStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.NoChoiceMatched"));
    assert_eq!(
        r.cause.as_deref(),
        Some("An error occurred while executing the state 'StateName' (entered at the event id #2). No Matches!")
    );
    assert_eq!(r.output, None);
}

// test_test_state_scenarios: test_base_inspection_level_info[BASE_FAIL_STATE] and _debug
#[test]
fn fail_state() {
    let cause = "This state machines raises a 'SomeFailure' failure.";
    let r = ok(&req(base_fail(), HELLO, InspectionLevel::Info));
    assert_eq!(
        shown(&r),
        json!({"cause": cause, "error": "SomeFailure", "status": "FAILED"})
    );
    let r = ok(&req(base_fail(), HELLO, InspectionLevel::Debug));
    let h = json!({"Value": "HelloWorld"});
    assert_eq!(
        shown(&r),
        json!({"cause": cause, "error": "SomeFailure",
            "inspectionData": {"afterInputPath": h, "input": h}, "status": "FAILED"})
    );
}

// test_test_state_scenarios: test_base_inspection_level_debug[BASE_SUCCEED_STATE]
#[test]
fn succeed_state() {
    let r = ok(&req(
        json!({"Type": "Succeed"}),
        HELLO,
        InspectionLevel::Debug,
    ));
    let h = json!({"Value": "HelloWorld"});
    assert_eq!(
        shown(&r),
        json!({"inspectionData": {"afterInputPath": h, "input": h}, "output": h,
            "status": "SUCCEEDED"})
    );
}

#[test]
fn wait_does_not_wait_and_checks_its_fields() {
    let def = json!({"Type": "Wait", "Seconds": 100000, "Next": "After"});
    let r = ok(&req(def, HELLO, InspectionLevel::Info));
    assert_eq!(r.status, TestStateStatus::Succeeded);
    assert_eq!(r.next_state.as_deref(), Some("After"));
    assert_eq!(r.output, Some(json!({"Value": "HelloWorld"})));
    let def = json!({"Type": "Wait", "SecondsPath": "$.s", "End": true});
    let r = ok(&req(def, r#"{"s": -1}"#, InspectionLevel::Info));
    assert_eq!(r.status, TestStateStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("States.Runtime"));
    assert!(r
        .cause
        .unwrap_or_default()
        .ends_with("The SecondsPath parameter references a negative value: $.s == -1"));
}

fn mocked(result: Option<&str>, error: Option<(&str, &str)>) -> Option<TestStateMock> {
    Some(TestStateMock {
        result: result.map(str::to_string),
        error_output: error.map(|(e, c)| MockErrorOutput {
            error: Some(e.into()),
            cause: Some(c.into()),
        }),
        field_validation_mode: None,
    })
}

// test_state_context_object: test_state_task_context_object[ALL] (mock result, Parameters,
// ResultSelector reading `$$` from a given Context object, TRACE)
#[test]
fn task_mock_result_with_result_selector() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName.$": "$.FunctionName", "Payload": {"Input.$": "$"}},
        "ResultSelector": {"LambdaOutput.$": "$", "ContextObjectValue.$": "$$"},
        "End": true});
    let ctx = json!({
        "Execution": {"Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
            "Input": {"input-value": 0}, "Name": "execution-name-12345",
            "RoleArn": "arn:aws:iam:::role/StepFunctionsRole",
            "StartTime": "2025-01-15T10:30:00.000Z"},
        "State": {"EnteredTime": "2025-01-15T10:30:01.500Z", "Name": "MyTaskState",
            "RetryCount": 0},
        "StateMachine": {"Id": "arn:aws:states:::stateMachine:MyStateMachine",
            "Name": "MyStateMachine"}});
    let input = json!({"FunctionName": "lambda_function_name", "Payload": {"input-value": 0}});
    let result = json!({"pokemon": ["charizard", "pikachu", "bulbasaur"]});
    let mut r = req(def, &input.to_string(), InspectionLevel::Trace);
    r.context = Some(ctx.to_string());
    r.mock = mocked(Some(&result.to_string()), None);
    let selected = json!({"ContextObjectValue": ctx, "LambdaOutput": result});
    assert_eq!(
        shown(&ok(&r)),
        json!({"inspectionData": {
            "afterInputPath": input,
            "afterParameters": {"Payload": {"Input": input}, "FunctionName": "lambda_function_name"},
            "afterResultPath": selected, "afterResultSelector": selected,
            "input": input, "result": result},
            "output": selected, "status": "SUCCEEDED"})
    );
    // test_state_context_object_edge_cases[EMPTY]: `{}` is the whole Context object.
    r.context = Some("{}".into());
    let out = ok(&r).output.unwrap_or_default();
    assert_eq!(out["ContextObjectValue"], json!({}));
}

#[test]
fn task_mock_result_with_result_path_and_output_path() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {"TableName": "t"}, "ResultSelector": {"item.$": "$.Item"},
        "ResultPath": "$.got", "OutputPath": "$.got", "Next": "Done"});
    let mut r = req(def, r#"{"k": 1}"#, InspectionLevel::Debug);
    r.mock = mocked(Some(r#"{"Item": {"a": {"N": "1"}}}"#), None);
    let resp = ok(&r);
    assert_eq!(resp.next_state.as_deref(), Some("Done"));
    assert_eq!(resp.output, Some(json!({"item": {"a": {"N": "1"}}})));
    let d = resp.inspection_data.unwrap_or_default();
    assert_eq!(d.after_parameters, Some(json!({"TableName": "t"})));
    assert_eq!(
        d.after_result_path,
        Some(json!({"k": 1, "got": {"item": {"a": {"N": "1"}}}}))
    );
}

fn task_catch() -> Value {
    json!({"QueryLanguage": "JSONata", "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Catch": [
            {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
            {"ErrorEquals": ["States.TaskFailed"], "Output": "{% $states %}", "Next": "HandleThreshold"}],
        "End": true})
}

// test_test_state_scenarios: test_state_task_catch_error[DEBUG]
#[test]
fn task_mock_error_caught() {
    let mut r = req(task_catch(), HELLO, InspectionLevel::Debug);
    r.role_arn = Some("arn:aws:iam::111111111111:role/r".into());
    for (error, cause, index, next) in [
        (
            "MockException",
            "Mock the cause of the error.",
            0,
            "HandleMockError",
        ),
        (
            "States.TaskFailed",
            "The task failed.",
            1,
            "HandleThreshold",
        ),
    ] {
        r.mock = mocked(None, Some((error, cause)));
        let resp = ok(&r);
        let s = shown(&resp);
        assert_eq!(s["status"], "CAUGHT_ERROR");
        assert_eq!(s["error"], error);
        assert_eq!(s["cause"], cause);
        assert_eq!(s["nextState"], next);
        assert_eq!(
            s["inspectionData"],
            json!({"afterArguments": {"FunctionName": "foo", "Payload": "bar"},
                "errorDetails": {"catchIndex": index}, "input": {"Value": "HelloWorld"}})
        );
        let out = &s["output"];
        assert_eq!(out["input"], json!({"Value": "HelloWorld"}));
        assert_eq!(out["errorOutput"], json!({"Error": error, "Cause": cause}));
        let c = &out["context"];
        assert_eq!(c["State"]["Name"], "StateName");
        assert_eq!(c["State"]["RetryCount"], 0);
        assert_eq!(c["Execution"]["Input"], json!({"Value": "HelloWorld"}));
        assert_eq!(
            c["Execution"]["RoleArn"],
            "arn:aws:iam::111111111111:role/r"
        );
        let id = c["Execution"]["Id"].as_str().unwrap_or_default();
        assert!(
            id.starts_with("arn:aws:states:us-east-1:123456789012:express:"),
            "{id}"
        );
    }
    // Not caught by either Catcher: FAILED, no output.
    r.mock = mocked(None, Some(("States.Timeout", "late")));
    let resp = ok(&r);
    assert_eq!(resp.status, TestStateStatus::Failed);
    assert_eq!(resp.output, None);
    assert_eq!(resp.next_state, None);
}

#[test]
fn jsonpath_catch_uses_result_path() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Recover"}],
        "End": true});
    let mut r = req(def, HELLO, InspectionLevel::Info);
    r.mock = mocked(None, Some(("Boom", "bad")));
    let resp = ok(&r);
    assert_eq!(resp.status, TestStateStatus::CaughtError);
    assert_eq!(resp.next_state.as_deref(), Some("Recover"));
    assert_eq!(
        resp.output,
        Some(json!({"Value": "HelloWorld", "err": {"Error": "Boom", "Cause": "bad"}}))
    );
    assert_eq!(resp.inspection_data, None);
}

// test_state_configuration: test_state_configuration_retrier_retry_count[DEBUG]
#[test]
fn task_mock_error_retriable() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5,
            "BackoffRate": 2.0}],
        "End": true});
    let input = r#"{"Values": ["first", "second", "third"]}"#;
    let mut r = req(def, input, InspectionLevel::Debug);
    r.mock = mocked(
        None,
        Some(("MockException", "Mock the cause of the error.")),
    );
    let common = |details: Value, status: &str| {
        json!({"cause": "Mock the cause of the error.", "error": "MockException",
            "inspectionData": {"afterArguments": {"FunctionName": "foo", "Payload": "bar"},
                "errorDetails": details, "input": {"Values": ["first", "second", "third"]}},
            "status": status})
    };
    r.state_configuration = Some(TestStateConfiguration {
        retrier_retry_count: Some(4),
        ..Default::default()
    });
    assert_eq!(
        shown(&ok(&r)),
        common(
            json!({"retryBackoffIntervalSeconds": 16, "retryIndex": 0}),
            "RETRIABLE"
        )
    );
    r.state_configuration = Some(TestStateConfiguration {
        retrier_retry_count: Some(5),
        ..Default::default()
    });
    assert_eq!(shown(&ok(&r)), common(json!({"retryIndex": 0}), "FAILED"));
    // Default retry count 0: the first retry waits IntervalSeconds.
    r.state_configuration = None;
    let resp = ok(&r);
    assert_eq!(resp.status, TestStateStatus::Retriable);
    assert_eq!(resp.output, None);
}

#[test]
fn retry_exhausted_then_caught() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fallback"}], "End": true});
    let mut r = req(def, HELLO, InspectionLevel::Debug);
    r.mock = mocked(None, Some(("E", "c")));
    let resp = ok(&r);
    assert_eq!(resp.status, TestStateStatus::CaughtError);
    assert_eq!(resp.output, Some(json!({"Error": "E", "Cause": "c"})));
    let d = resp
        .inspection_data
        .unwrap_or_default()
        .error_details
        .unwrap_or_default();
    assert_eq!((d.retry_index, d.catch_index), (Some(0), Some(0)));
}

// test_test_state_scenarios: test_state_with_variables[base_expressions] (TRACE)
#[test]
fn jsonata_pass_with_output_and_variables() {
    let machine = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"var_input_value.$": "$.input_value",
            "var_constant_1": 1}, "Next": "State0"},
        "State0": {"QueryLanguage": "JSONata", "Type": "Pass", "Output": {
            "ja_states_context": "{% $states.context %}",
            "ja_states_input": "{% $states.input %}",
            "ja_var_access": "{% $var_input_value %}",
            "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}"},
            "End": true}}});
    let mut r = req(
        machine,
        r#"{"input_values": [1, 2, 3]}"#,
        InspectionLevel::Trace,
    );
    r.state_name = Some("State0".into());
    r.variables = Some(r#"{"var_input_value": "test_value", "var_constant_1": 10}"#.into());
    let s = shown(&ok(&r));
    assert_eq!(
        s["inspectionData"],
        json!({"input": {"input_values": [1, 2, 3]},
            "variables": {"var_input_value": "test_value", "var_constant_1": 10}})
    );
    assert_eq!(s["status"], "SUCCEEDED");
    let out = &s["output"];
    assert_eq!(out["ja_states_input"], json!({"input_values": [1, 2, 3]}));
    assert_eq!(out["ja_var_access"], "test_value");
    assert_eq!(out["ja_expr"], 16);
    let c = &out["ja_states_context"];
    assert_eq!(c["State"]["Name"], "StateName");
    assert_eq!(c["Execution"]["RoleArn"], Value::Null);
    assert!(c["State"].get("RetryCount").is_none());
    // test_state_with_variables[empty_variables]: no variables, no `variables` key.
    let def = json!({"QueryLanguage": "JSONata", "Type": "Pass",
        "Output": {"constant_int": 0, "constant_str": "constant string"}, "End": true});
    let mut r = req(
        def,
        r#"{"input_values": [1, 2, 3]}"#,
        InspectionLevel::Trace,
    );
    r.variables = Some("{}".into());
    assert_eq!(
        shown(&ok(&r)),
        json!({"inspectionData": {"input": {"input_values": [1, 2, 3]}},
            "output": {"constant_int": 0, "constant_str": "constant string"},
            "status": "SUCCEEDED"})
    );
}

#[test]
fn jsonata_assign_shows_variables_after_the_state() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Pass",
        "Assign": {"total": "{% $sum($states.input.xs) %}", "seen": "{% $seen + 1 %}"},
        "Output": {"old": "{% $seen %}"}, "Next": "Next"});
    let mut r = req(def, r#"{"xs": [1, 2]}"#, InspectionLevel::Debug);
    r.variables = Some(r#"{"seen": 1, "keep": true}"#.into());
    let resp = ok(&r);
    assert_eq!(resp.output, Some(json!({"old": 1})));
    assert_eq!(resp.next_state.as_deref(), Some("Next"));
    let d = resp.inspection_data.unwrap_or_default();
    assert_eq!(d.input, Some(json!({"xs": [1, 2]})));
    assert_eq!(d.after_input_path, None);
    assert_eq!(
        d.variables,
        Some(json!({"seen": 2, "keep": true, "total": 3}))
    );
}

#[test]
fn jsonpath_assign_reads_variables() {
    let def = json!({"Type": "Pass", "Parameters": {"v.$": "$count"},
        "Assign": {"count.$": "States.MathAdd($.v, 1)"}, "End": true});
    let mut r = req(def, "{}", InspectionLevel::Debug);
    r.variables = Some(r#"{"count": 41}"#.into());
    let resp = ok(&r);
    assert_eq!(resp.output, Some(json!({"v": 41})));
    assert_eq!(
        resp.inspection_data.unwrap_or_default().variables,
        Some(json!({"count": 42}))
    );
}

// test_test_state_scenarios: test_localstack_blogpost_scenario (whole machine + stateName)
#[test]
fn blogpost_scenario() {
    let machine = json!({"QueryLanguage": "JSONata", "StartAt": "Approval Required", "States": {
        "Approval Required": {"Type": "Choice", "Choices": [
            {"Condition": "{% $states.input.cost < 10 %}", "Next": "Purchase Approved"}],
            "Default": "Ask for Approval"},
        "Purchase Approved": {"Type": "Succeed"},
        "Ask for Approval": {"Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke",
            "Arguments": {"Method": "POST", "ApiEndpoint": "example.execute-api.us-east-1.amazonaws.com",
                "Path": "/approval",
                "RequestBody": {"cost": "{% $states.input.cost %}", "dept_id": "12345678"},
                "AuthType": "NO_AUTH"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 2, "IntervalSeconds": 1,
                "MaxAttempts": 3}],
            "Next": "Check Approval",
            "Output": {"approval": "{% $states.result.approval %}",
                "approval_code": "2387462", "approved_by": "Mary"}},
        "Check Approval": {"Type": "Choice", "Choices": [
            {"Next": "Purchase Approved", "Condition": "{% $states.input.approval %}"}],
            "Default": "Not Approved"},
        "Not Approved": {"Type": "Fail"}}});
    let at = |state: &str, input: &str, mock: Option<TestStateMock>| {
        let mut r = req(machine.clone(), input, InspectionLevel::Trace);
        r.state_name = Some(state.into());
        r.mock = mock;
        shown(&ok(&r))
    };
    assert_eq!(
        at("Approval Required", r#"{"cost": 9}"#, None),
        json!({"inspectionData": {"input": {"cost": 9}}, "nextState": "Purchase Approved",
            "output": {"cost": 9}, "status": "SUCCEEDED"})
    );
    assert_eq!(
        at("Approval Required", r#"{"cost": 10}"#, None)["nextState"],
        "Ask for Approval"
    );
    let approved = json!({"approval": true, "approval_code": "2387462", "approved_by": "Mary"});
    assert_eq!(
        at(
            "Ask for Approval",
            r#"{"cost": 10}"#,
            mocked(Some(r#"{"approval": true }"#), None)
        ),
        json!({"inspectionData": {
            "afterArguments": {"Method": "POST",
                "ApiEndpoint": "example.execute-api.us-east-1.amazonaws.com",
                "Path": "/approval", "RequestBody": {"cost": 10, "dept_id": "12345678"},
                "AuthType": "NO_AUTH"},
            "input": {"cost": 10}, "result": {"approval": true}},
            "nextState": "Check Approval", "output": approved, "status": "SUCCEEDED"})
    );
    assert_eq!(
        at("Check Approval", &approved.to_string(), None)["nextState"],
        "Purchase Approved"
    );
    assert_eq!(
        at("Check Approval", r#"{"approval": false}"#, None),
        json!({"inspectionData": {"input": {"approval": false}}, "nextState": "Not Approved",
            "output": {"approval": false}, "status": "SUCCEEDED"})
    );
}

// test_test_state_machine_scenarios: test_base_state_name_multi_state[DEBUG-State0/State1]
#[test]
fn multi_state_machine() {
    let machine = json!({"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Next": "State1"},
        "State1": {"Type": "Fail", "Error": "SomeFailure",
            "Cause": "This state machines raises a 'SomeFailure' failure."}}});
    let mut r = req(machine, HELLO, InspectionLevel::Debug);
    r.state_name = Some("State0".into());
    let h = json!({"Value": "HelloWorld"});
    assert_eq!(
        shown(&ok(&r)),
        json!({"inspectionData": {"input": h}, "nextState": "State1", "output": h,
            "status": "SUCCEEDED"})
    );
    r.state_name = Some("State1".into());
    assert_eq!(
        shown(&ok(&r)),
        json!({"cause": "This state machines raises a 'SomeFailure' failure.",
            "error": "SomeFailure", "inspectionData": {"input": h}, "status": "FAILED"})
    );
    // test_base_state_name_validation_failures[dne]
    r.state_name = Some("DoesNotExist".into());
    assert_eq!(
        run(&r),
        Err(TestStateError::Validation(
            "State not found in definition".into()
        ))
    );
}

fn refused(r: &TestStateRequest) -> (String, String) {
    match run(r) {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => (e.code().to_string(), e.message().to_string()),
    }
}

// test_state_mock_validation: test_state_type_does_not_accept_mock[*],
// test_state_type_requires_mock[MapState, ParallelState],
// test_both_mock_result_and_mock_error_output_are_set,
// test_reveal_secrets_is_true_and_mock_result_is_set, test_parallel_state_empty_branches
#[test]
fn request_validation() {
    for (def, t) in [
        (base_pass(), "Pass"),
        (base_fail(), "Fail"),
        (json!({"Type": "Succeed"}), "Succeed"),
    ] {
        let mut r = req(def, HELLO, InspectionLevel::Info);
        r.mock = mocked(Some("{}"), None);
        assert_eq!(
            refused(&r),
            (
                "ValidationException".into(),
                format!("State type '{t}' is not supported when a mock is specified")
            )
        );
    }
    let map = json!({"Type": "Map", "ItemProcessor": {"StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": true}}}, "End": true});
    let r = req(map, "[]", InspectionLevel::Info);
    assert_eq!(
        refused(&r),
        ("InvalidDefinition".into(), "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]".into())
    );
    let parallel = json!({"Type": "Parallel", "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}}], "End": true});
    assert_eq!(
        refused(&req(parallel.clone(), "{}", InspectionLevel::Info)).0,
        "InvalidDefinition"
    );
    // test_mock_result_is_not_array_on_parallel_state, ..._array_size_mismatch_...
    for (mock, msg) in [
        ("{}", "Mocked result must be an array."),
        (
            "[1, 2]",
            "Mocked result must contain the same number of items as number of Parallel branches.",
        ),
    ] {
        let mut r = req(parallel.clone(), "{}", InspectionLevel::Info);
        r.mock = mocked(Some(mock), None);
        assert_eq!(refused(&r), ("ValidationException".into(), msg.into()));
    }
    let r = req(
        json!({"Type": "Parallel", "Branches": [], "End": true}),
        "{}",
        InspectionLevel::Info,
    );
    assert_eq!(
        refused(&r),
        ("InvalidDefinition".into(), "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches'".into())
    );
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    let mut r = req(task.clone(), "{}", InspectionLevel::Info);
    r.mock = mocked(Some("{}"), Some(("E", "C")));
    assert_eq!(
        refused(&r).1,
        "A test mock should have only one of the following fields: [result, errorOutput]."
    );
    r.mock = mocked(Some("{}"), None);
    r.reveal_secrets = true;
    assert_eq!(
        refused(&r).1,
        "TestState does not support RevealSecrets when a mock is specified."
    );
    // No local integration: with a role, a mock is still required.
    let mut r = req(task, "{}", InspectionLevel::Info);
    r.role_arn = Some("arn:aws:iam::111111111111:role/r".into());
    let (code, msg) = refused(&r);
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("mock is required"), "{msg}");
    // test_state_name_invalid_state_definition
    let mut r = req(
        json!({"StartAt": "S", "States": {"S": {"Type": "Bogus", "End": true}}}),
        "{}",
        InspectionLevel::Info,
    );
    r.state_name = Some("S".into());
    assert_eq!(
        refused(&r),
        ("InvalidDefinition".into(), "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/S/Type'".into())
    );
}

#[test]
fn bad_definition_and_input() {
    let r = TestStateRequest {
        definition: r#"{"Type": "Pass", "Next": 3}"#.into(),
        ..Default::default()
    };
    let (code, msg) = refused(&r);
    assert_eq!(code, "InvalidDefinition");
    assert!(
        msg.starts_with("Invalid State Machine Definition: '"),
        "{msg}"
    );
    assert!(msg.contains("/States/StateName/Next"), "{msg}");
    let r = TestStateRequest {
        definition: "{not json".into(),
        ..Default::default()
    };
    assert_eq!(refused(&r).0, "InvalidDefinition");
    let r = req(base_pass(), "{\"a\":", InspectionLevel::Info);
    let (code, msg) = refused(&r);
    assert_eq!(code, "InvalidExecutionInput");
    assert!(
        msg.starts_with("Invalid State Machine Execution Input: '"),
        "{msg}"
    );
    // Input defaults to {}.
    let r = TestStateRequest {
        definition: base_pass().to_string(),
        ..Default::default()
    };
    assert_eq!(ok(&r).output, Some(json!({})));
}

// test_state_context_object: test_state_context_object_validation_failures[*] and
// test_state_context_object_invalid_states[TOKEN_TASK_NOT_SYNC]
#[test]
fn context_validation() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "End": true});
    for (ctx, msg) in [
        (json!({"Execution": {"Id": 1}}), "Execution.Id must be a string"),
        (json!({"Map": {}}), "'Map' field is not supported when mocking a Context object"),
        (json!({"Execution": {"pokemon": "squirtle"}}), "Field 'pokemon' is not allowed"),
        (json!({"Pokedex": {}}), "Field 'Pokedex' is not allowed"),
        (json!({"Task": {"Token": "abcd123"}}), "Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"),
    ] {
        let mut r = req(task.clone(), "{}", InspectionLevel::Trace);
        r.context = Some(ctx.to_string());
        // A result that fits StartExecution's output, as the recording's.
        r.mock = mocked(
            Some(r#"{"ExecutionArn": "a", "StartDate": "2025-01-15T10:30:00.000"}"#),
            None,
        );
        assert_eq!(
            refused(&r),
            ("ValidationException".into(), format!("Invalid Context object provided: {msg}"))
        );
    }
}

#[test]
fn wait_for_task_token_sees_a_token() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"MessageBody": {"token.$": "$$.Task.Token"}}, "End": true});
    let mut r = req(def, "{}", InspectionLevel::Debug);
    r.mock = mocked(Some(r#"{"ok": 1}"#), None);
    let d = ok(&r).inspection_data.unwrap_or_default();
    let token = d.after_parameters.unwrap_or_default()["MessageBody"]["token"].clone();
    assert!(
        token.as_str().is_some_and(|t| t.starts_with("AQ")),
        "{token}"
    );
}

#[test]
fn runtime_errors_are_not_caught_by_states_all() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.missing",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true});
    let mut r = req(def, HELLO, InspectionLevel::Info);
    r.mock = mocked(Some("{}"), None);
    let resp = ok(&r);
    assert_eq!(resp.status, TestStateStatus::Failed);
    assert_eq!(resp.error.as_deref(), Some("States.Runtime"));
    assert!(resp
        .cause
        .unwrap_or_default()
        .starts_with("An error occurred while executing the state 'StateName' (entered at the event id #2). Invalid path '$.missing'"));
}

fn io_parallel(jsonata: bool) -> Value {
    let branches = json!([
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
        {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}]);
    if jsonata {
        json!({"Type": "Parallel", "QueryLanguage": "JSONata",
            "Arguments": "{% $states.input.parallelInput %}",
            "Output": {"parallelInput": "{% $states.input.parallelInput %}",
                "parallelResult": "{% $states.result %}"},
            "Branches": branches, "End": true})
    } else {
        json!({"Type": "Parallel", "InputPath": "$.parallelInput",
            "ResultPath": "$.parallelResult", "OutputPath": "$", "Branches": branches,
            "End": true})
    }
}

// test_test_state_mock_scenarios: test_io_parallel_state_mock_success[DEBUG] and
// test_io_jsonata_parallel_state_mock_success[DEBUG]
#[test]
fn parallel_with_mocked_result() {
    let input = r#"{"parallelInput": {"data": "input_value"}}"#;
    let result = json!([{"branch1": "result"}, {"branch2": "result"}]);
    let out = json!({"parallelInput": {"data": "input_value"}, "parallelResult": result});
    let mut r = req(io_parallel(false), input, InspectionLevel::Debug);
    r.mock = mocked(Some(&result.to_string()), None);
    assert_eq!(
        shown(&ok(&r)),
        json!({"inspectionData": {"afterResultPath": out, "afterResultSelector": result,
            "input": {"parallelInput": {"data": "input_value"}}},
            "output": out, "status": "SUCCEEDED"})
    );
    let mut r = req(io_parallel(true), input, InspectionLevel::Debug);
    r.mock = mocked(Some(&result.to_string()), None);
    assert_eq!(
        shown(&ok(&r)),
        json!({"inspectionData": {"input": {"parallelInput": {"data": "input_value"}}},
            "output": out, "status": "SUCCEEDED"})
    );
    r.mock = mocked(None, Some(("States.BranchFailed", "a branch failed")));
    let resp = ok(&r);
    assert_eq!(resp.status, TestStateStatus::Failed);
    assert_eq!(resp.error.as_deref(), Some("States.BranchFailed"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Any request text is answered or refused, never a panic.
    #[test]
    fn never_panics(
        def in r#"\{"Type": ?"(Pass|Task|Choice|Wait|Fail|Succeed|Parallel|Map|X)"(, "(End|Next|InputPath|Result|ResultPath|Seconds|Default|Resource)": ?("\$\.a"|true|1|"N"|\{\}|\[\]))*\}|[ -~]{0,40}"#,
        input in r#"\{"a": ?(1|"x"|\[1\]|null)\}|[ -~]{0,10}"#,
        with_mock in proptest::bool::ANY,
    ) {
        let mut r = req(Value::Null, &input, InspectionLevel::Debug);
        r.definition = def;
        if with_mock {
            r.mock = mocked(Some("{\"ok\": 1}"), None);
        }
        let _ = run(&r);
    }
}

fn map_failures(n: u32) -> Option<TestStateConfiguration> {
    Some(TestStateConfiguration {
        map_iteration_failure_count: Some(n),
        ..Default::default()
    })
}

// test_state_context_object: test_state_map_context_object[EXECUTION_INPUT_VALUES] and [ALL]
// (JSONPath ItemsPath from the Context object, the mocked processor result through
// ResultSelector and ResultPath; a non-array ItemsPath fails without the state prefix).
#[test]
fn map_state_jsonpath_items_and_results() {
    let def = |items_path: &str| {
        json!({"Type": "Map", "ItemsPath": items_path, "MaxConcurrency": 1,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "ResultPath": "$.upper", "End": true})
    };
    let mut r = req(
        def("$.names"),
        r#"{"names": ["a", "b"]}"#,
        InspectionLevel::Trace,
    );
    r.mock = mocked(Some(r#"["A", "B"]"#), None);
    let v = shown(&ok(&r));
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(
        v["output"],
        json!({"names": ["a", "b"], "upper": ["A", "B"]})
    );
    let i = &v["inspectionData"];
    assert_eq!(i["afterInputPath"], json!({"names": ["a", "b"]}));
    assert_eq!(i["afterItemsPath"], json!(["a", "b"]));
    assert_eq!(i["afterResultSelector"], json!(["A", "B"]));
    assert_eq!(i["maxConcurrency"], json!(1));
    assert!(i.get("toleratedFailureCount").is_none());
    // AWS's spacing in JSON text.
    assert_eq!(
        ok(&r).to_aws_json()["inspectionData"]["afterItemsPath"],
        "[\"a\", \"b\"]"
    );
    for (path, shown_path) in [
        ("$$", "$"),
        ("$$.Execution.Input", "$.Execution.Input"),
        ("$.names[0]", "$.names[0]"),
    ] {
        let mut r = req(def(path), r#"{"names": ["a", "b"]}"#, InspectionLevel::Info);
        r.mock = mocked(Some("[]"), None);
        let resp = ok(&r);
        assert_eq!(resp.status, TestStateStatus::Failed);
        assert_eq!(resp.error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            resp.cause.as_deref(),
            Some(format!("Reference path \"{shown_path}\" must point to array.").as_str())
        );
    }
}

// test_state_configuration: test_map_state_failure_count[*-BASE_MAP_STATE*] (JSONata Map;
// mapIterationFailureCount against ToleratedFailureCount / Percentage, with Retry or Catch).
#[test]
fn map_state_failure_count_against_the_tolerance() {
    let map = |extra: Value| {
        let mut m = json!({"Type": "Map", "QueryLanguage": "JSONata",
            "Items": "{% $states.input.Values %}",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "End": true});
        if let (Some(o), Value::Object(e)) = (m.as_object_mut(), extra) {
            o.extend(e);
        }
        m
    };
    let input = r#"{"Values": ["first", "second", "third"]}"#;
    let run_with = |def: Value, failures: u32| {
        let mut r = req(def, input, InspectionLevel::Debug);
        r.mock = mocked(Some("[1, 1, 1]"), None);
        r.state_configuration = map_failures(failures);
        ok(&r)
    };
    // No tolerance set: AWS does not check the count.
    let d = run_with(map(json!({})), 2);
    assert_eq!(d.status, TestStateStatus::Succeeded);
    assert_eq!(
        shown(&d)["inspectionData"],
        json!({"input": {"Values": ["first", "second", "third"]}, "maxConcurrency": 0})
    );
    let counted = map(json!({"ToleratedFailureCount": 1}));
    assert_eq!(
        run_with(counted.clone(), 1).status,
        TestStateStatus::Succeeded
    );
    let over = run_with(counted, 2);
    assert_eq!(over.status, TestStateStatus::Failed);
    assert_eq!(
        over.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert_eq!(
        over.cause.as_deref(),
        Some("The specified tolerated failure threshold was exceeded")
    );
    assert_eq!(
        shown(&over)["inspectionData"]["toleratedFailureCount"],
        json!(1)
    );
    // 2 of 3 is above 50 %, 1 of 3 is not.
    let pct = map(json!({"ToleratedFailurePercentage": "{% 50 %}"}));
    assert_eq!(run_with(pct.clone(), 1).status, TestStateStatus::Succeeded);
    let over = run_with(pct, 2);
    assert_eq!(over.status, TestStateStatus::Failed);
    assert_eq!(
        shown(&over)["inspectionData"]["toleratedFailurePercentage"],
        json!(50.0)
    );
    let retried = run_with(
        map(json!({"ToleratedFailureCount": 0, "Retry": [
            {"ErrorEquals": ["States.Timeout"]},
            {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "IntervalSeconds": 1}]})),
        1,
    );
    assert_eq!(retried.status, TestStateStatus::Retriable);
    assert_eq!(
        shown(&retried)["inspectionData"]["errorDetails"],
        json!({"retryIndex": 1, "retryBackoffIntervalSeconds": 1})
    );
    let mut caught = map(
        json!({"ToleratedFailureCount": 0, "Next": "HandleThreshold",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "HandleThreshold"}]}),
    );
    caught.as_object_mut().map(|o| o.remove("End"));
    let def =
        json!({"StartAt": "M", "States": {"M": caught, "HandleThreshold": {"Type": "Succeed"}}});
    let mut r = req(def, input, InspectionLevel::Info);
    r.state_name = Some("M".into());
    r.mock = mocked(Some("[1, 1, 1]"), None);
    r.state_configuration = map_failures(1);
    let c = ok(&r);
    assert_eq!(c.status, TestStateStatus::CaughtError);
    assert_eq!(c.next_state.as_deref(), Some("HandleThreshold"));
    // An errorOutput mock fails the Map with the mocked error.
    let mut r = req(map(json!({})), input, InspectionLevel::Info);
    r.mock = mocked(None, Some(("MockException", "Mock the error cause.")));
    let f = ok(&r);
    assert_eq!(
        (f.status, f.error.as_deref()),
        (TestStateStatus::Failed, Some("MockException"))
    );
}

// test_state_mock_validation: test_mock_result_is_not_array_on_map_state_without_result_writer,
// ..._not_object_on_map_state_with_result_writer, test_map_iteration_failure_count_exceeds_mock_result_items,
// test_map_iteration_failure_count_without_mock; test_test_state_scenarios:
// test_base_lambda_service_task_state_no_role_arn_validation.
#[test]
fn map_state_mock_validation() {
    let map = json!({"Type": "Map", "ItemProcessor": {"StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": true}}}, "End": true});
    let mut r = req(map.clone(), "[1, 2]", InspectionLevel::Info);
    r.mock = mocked(Some("{}"), None);
    assert_eq!(
        refused(&r),
        (
            "ValidationException".into(),
            "Mocked result must be an array.".into()
        )
    );
    let mut writer = map.clone();
    writer["ResultWriter"] = json!({"Resource": "arn:aws:states:::s3:putObject",
        "Arguments": {"Bucket": "b", "Prefix": "p"}});
    writer["QueryLanguage"] = json!("JSONata");
    writer["ItemProcessor"]["ProcessorConfig"] =
        json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
    let mut r = req(writer, "[1, 2]", InspectionLevel::Info);
    r.mock = mocked(Some("[1, 2]"), None);
    assert_eq!(
        refused(&r),
        (
            "ValidationException".into(),
            "Mocked result must be a JSON object.".into()
        )
    );
    let mut r = req(map.clone(), "[1, 2]", InspectionLevel::Info);
    r.mock = mocked(Some("[1, 2]"), None);
    r.state_configuration = map_failures(3);
    assert_eq!(
        refused(&r),
        ("ValidationException".into(), "Map iteration failure count must be less than or equal to the number of Map iterations".into())
    );
    let mut r = req(map, "[1, 2]", InspectionLevel::Info);
    r.state_configuration = map_failures(0);
    assert_eq!(
        refused(&r),
        (
            "ValidationException".into(),
            "TestState does not support MapIterationFailureCount when a mock is not specified."
                .into()
        )
    );
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f"}, "QueryLanguage": "JSONata", "End": true});
    assert_eq!(
        refused(&req(task, "{}", InspectionLevel::Info)),
        (
            "ValidationException".into(),
            "RoleArn must be specified when testing a Task state".into()
        )
    );
}

// AWS's InspectionData documents `afterItemSelector` ("an array containing the inputs
// for each Map iteration, transformed by the ItemSelector"); no recording covers it.
#[test]
fn map_state_shows_items_after_item_selector() {
    let def = json!({"Type": "Map", "ItemsPath": "$.names",
        "ItemSelector": {"name.$": "$$.Map.Item.Value", "at.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true});
    let mut r = req(def, r#"{"names": ["a", "b"]}"#, InspectionLevel::Debug);
    r.mock = mocked(Some(r#"["A", "B"]"#), None);
    let v = shown(&ok(&r));
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(
        v["inspectionData"]["afterItemSelector"],
        json!([{"name": "a", "at": 0}, {"name": "b", "at": 1}])
    );
    assert_eq!(v["output"], json!(["A", "B"]));
}

// ----- mock.fieldValidationMode -----------------------------------------------------------
// test_field_validation_mode{,_present,_none}.snapshot.json: every case recorded on AWS
// (all are listed in the files' .validation.json), templates from
// templates/test_state/statemachines/base_*.json5.

fn field_validation_template(name: &str) -> (Value, Value) {
    match name {
        "events" => (
            json!({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {"Entries.$": "$.Entries"}, "End": true}),
            json!({"Entries": [{"Detail": "detail", "DetailType": "detail_type", "Source": "source"}]}),
        ),
        "sfn" => (
            json!({"Type": "Task", "QueryLanguage": "JSONata",
                "Resource": "arn:aws:states:::states:startExecution",
                "Arguments": {"Input": "{% $states.input.targetInput %}",
                    "StateMachineArn": "{% $states.input.stateMachineArn %}",
                    "Name": "{% $states.input.name %}"},
                "Output": {"targetExecutionResult": "{% $states.result %}"}, "End": true}),
            json!({"stateMachineArn": "arn:aws:states:us-east-1:111111111111:stateMachine:TargetStateMachine",
                "targetInput": null, "name": "TestStartTarget"}),
        ),
        "lambda" => (
            json!({"Comment": "BASE_LAMBDA_SERVICE_TASK_STATE", "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
                "End": true}),
            json!({"FunctionName": "function_name", "Payload": null}),
        ),
        "dynamodb" => (
            json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName.$": "$.TableName", "Item.$": "$.Item"}, "End": true}),
            json!({"TableName": "table_name",
                "Item": {"data": {"S": "HelloWorld"}, "id": {"S": "id1"}}}),
        ),
        "s3" => (
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"}, "End": true}),
            json!({"Bucket": "bucket_name", "Key": "file_key"}),
        ),
        "kms" => (
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:encrypt",
                "Parameters": {"KeyId.$": "$.KeyId", "Plaintext.$": "$.Plaintext"}, "End": true}),
            json!({"KeyId": "key_id", "Plaintext": "plain_text"}),
        ),
        "lambda_get_function" => (
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:lambda:getFunction",
                "Parameters": {"FunctionName.$": "$.FunctionName"}, "End": true}),
            json!({"FunctionName": "function_name"}),
        ),
        other => panic!("no template {other}"),
    }
}

/// One recorded TestState call with `mock.result` (and `fieldValidationMode` when not
/// `None`): its answer as AWS shows it, or the error's code and message.
fn field_validation_case(template: &str, mode: Option<&str>, result: Value) -> Value {
    let (def, input) = field_validation_template(template);
    let mut r = req(def, &input.to_string(), InspectionLevel::Info);
    r.mock = Some(TestStateMock {
        result: Some(result.to_string()),
        error_output: None,
        field_validation_mode: mode.map(str::to_string),
    });
    match run(&r) {
        Ok(resp) => shown(&resp),
        Err(e) => json!({"Code": e.code(), "Message": e.message()}),
    }
}

fn schema_error(m: &str) -> Value {
    json!({"Code": "ValidationException",
        "Message": format!("Mock result schema validation error: {m}")})
}

/// The cases STRICT (the default, recorded without `fieldValidationMode`) and PRESENT
/// answer alike: (test, case id, template, result, expected).
fn cases_alike() -> Vec<(&'static str, &'static str, &'static str, Value, Value)> {
    vec![
        (
            "mock_result_field_not_in_api_spec",
            "field_not_part_of_api_spec",
            "events",
            json!({"random": "json"}),
            json!({"output": {"random": "json"}, "status": "SUCCEEDED"}),
        ),
        (
            "mock_result_field_not_in_api_spec",
            "empty_json",
            "events",
            json!({}),
            json!({"output": {}, "status": "SUCCEEDED"}),
        ),
        (
            "eventbridge_task",
            "wrong_type_top_level_field",
            "events",
            json!({"Entries": "Entries value should have been a list of entry objects"}),
            schema_error("Field 'Entries' must be an array"),
        ),
        (
            "eventbridge_task",
            "wrong_type_nested_field",
            "events",
            json!({"Entries": [{"EventId": ["EventId value should have been a string not a list of strings"]}]}),
            schema_error("Field 'EventId' must be a string"),
        ),
        (
            "eventbridge_task",
            "wrong_type_2nd_array_element",
            "events",
            json!({"Entries": [{"EventId": "First eventId has correct type: string"},
                {"EventId": ["Second eventId has incorrect type: array"]}]}),
            schema_error("Field 'EventId' must be a string"),
        ),
        (
            "lambda_task",
            "wrong_integer_type_string",
            "lambda",
            json!({"StatusCode": "200"}),
            schema_error("Field 'StatusCode' must be a number"),
        ),
        (
            "dynamodb_task",
            "wrong_float_type_string",
            "dynamodb",
            json!({"ConsumedCapacity": {"CapacityUnits": "123.45"}}),
            schema_error("Field 'CapacityUnits' must be a number"),
        ),
        (
            "aws_sdk_s3_task",
            "wrong_long_type_string",
            "s3",
            json!({"ContentLength": "9000"}),
            schema_error("Field 'ContentLength' must be a number"),
        ),
        (
            "aws_sdk_s3_task",
            "non_existent_enum_value",
            "s3",
            json!({"StorageClass": "Papyrus"}),
            schema_error("Field 'StorageClass' is not an expected value"),
        ),
        (
            "aws_sdk_kms_task",
            "wrong_blob_type_number",
            "kms",
            json!({"CiphertextBlob": 123}),
            schema_error("Field 'CiphertextBlob' must be a string"),
        ),
        (
            "aws_sdk_kms_task",
            "wrong_blob_length_less_than_minimum",
            "kms",
            json!({"CiphertextBlob": ""}),
            schema_error("Field 'CiphertextBlob' is smaller than the minimum length"),
        ),
        (
            "aws_sdk_lambda_get_function_task",
            "integer_less_than_minimum_allowed",
            "lambda_get_function",
            json!({"Configuration": {"MemorySize": 127}}),
            schema_error("Field 'MemorySize' is less than the minimum value"),
        ),
        (
            "aws_sdk_lambda_get_function_task",
            "integer_more_than_maximum_allowed",
            "lambda_get_function",
            json!({"Configuration": {"MemorySize": 10241}}),
            schema_error("Field 'MemorySize' exceeds the maximum value"),
        ),
    ]
}

// test_field_validation_mode: TestFieldValidationMode::test_strict_mode_* (17 cases)
#[test]
fn field_validation_strict_as_recorded() {
    let mut cases = cases_alike();
    let sfn = [
        (
            "missing_required_fields",
            json!({}),
            schema_error("Required field 'ExecutionArn' is missing"),
        ),
        (
            "field_name_not_in_sfn_case",
            json!({"executionArn": "stringValueExecutionArn", "startDate": "stringValueStartDate"}),
            schema_error("Required field 'ExecutionArn' is missing"),
        ),
        (
            "wrong_timestamp_type_bool",
            json!({"ExecutionArn": "stringValueExecutionArn", "StartDate": true}),
            schema_error("Field 'StartDate' must be a string"),
        ),
        (
            "wrong_timestamp_type_number",
            json!({"ExecutionArn": "stringValueExecutionArn", "StartDate": 1764103483}),
            schema_error("Field 'StartDate' must be a string"),
        ),
    ];
    for (id, result, expected) in sfn {
        cases.push(("sfn_task", id, "sfn", result, expected));
    }
    assert_eq!(cases.len(), 17);
    for (test, id, template, result, expected) in cases {
        let got = field_validation_case(template, None, result.clone());
        assert_eq!(got, expected, "test_strict_mode_{test}[{id}]");
        // STRICT given explicitly is the default.
        let got = field_validation_case(template, Some("STRICT"), result);
        assert_eq!(got, expected, "test_strict_mode_{test}[{id}] (STRICT)");
    }
}

// test_field_validation_mode_present: TestFieldValidationModePresent::test_present_mode_*
// (17 cases)
#[test]
fn field_validation_present_as_recorded() {
    let mut cases = cases_alike();
    let sfn = [
        (
            "sfn_task_validation_pass",
            "missing_required_fields",
            json!({}),
            json!({"output": {"targetExecutionResult": {}}, "status": "SUCCEEDED"}),
        ),
        (
            "sfn_task_validation_pass",
            "field_name_not_in_sfn_case",
            json!({"executionArn": "stringValueExecutionArn", "startDate": "stringValueStartDate"}),
            json!({"output": {"targetExecutionResult": {"executionArn": "stringValueExecutionArn",
                "startDate": "stringValueStartDate"}}, "status": "SUCCEEDED"}),
        ),
        (
            "sfn_task_validation_fail",
            "wrong_timestamp_type_bool",
            json!({"StartDate": true}),
            schema_error("Field 'StartDate' must be a string"),
        ),
        (
            "sfn_task_validation_fail",
            "wrong_string_type_number",
            json!({"ExecutionArn": 1764103483}),
            schema_error("Field 'ExecutionArn' must be a string"),
        ),
    ];
    for (test, id, result, expected) in sfn {
        cases.push((test, id, "sfn", result, expected));
    }
    assert_eq!(cases.len(), 17);
    for (test, id, template, result, expected) in cases {
        let got = field_validation_case(template, Some("PRESENT"), result);
        assert_eq!(got, expected, "test_present_mode_{test}[{id}]");
    }
}

// test_field_validation_mode_none: TestFieldValidationModeNone::test_none_mode_sfn_task
// (2 cases)
#[test]
fn field_validation_none_as_recorded() {
    assert_eq!(
        field_validation_case("sfn", Some("NONE"), json!({})),
        json!({"output": {"targetExecutionResult": {}}, "status": "SUCCEEDED"})
    );
    assert_eq!(
        field_validation_case(
            "sfn",
            Some("NONE"),
            json!({"ExecutionArn": "stringValueExecutionArn", "StartDate": true})
        ),
        json!({"output": {"targetExecutionResult": {"ExecutionArn": "stringValueExecutionArn",
            "StartDate": true}}, "status": "SUCCEEDED"})
    );
}

// The mock's other checks come first (test_state_mock_validation's order); the schema
// is checked before the input is read, and an error output is not checked.
#[test]
fn field_validation_after_the_other_mock_checks() {
    let (def, _) = field_validation_template("sfn");
    let mut r = req(def, "not json", InspectionLevel::Info);
    r.mock = mocked(Some("{}"), None);
    assert_eq!(
        run(&r).unwrap_err().message(),
        "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    );
    r.reveal_secrets = true;
    assert_eq!(
        run(&r).unwrap_err().message(),
        "TestState does not support RevealSecrets when a mock is specified."
    );
    r.reveal_secrets = false;
    r.mock = mocked(None, Some(("E", "C")));
    r.input = Some("{}".into());
    assert_eq!(ok(&r).status, TestStateStatus::Failed);
    r.mock = Some(TestStateMock {
        result: Some("{}".into()),
        error_output: None,
        field_validation_mode: Some("LOOSE".into()),
    });
    assert!(run(&r)
        .unwrap_err()
        .message()
        .contains("Member must satisfy enum value set: [STRICT, PRESENT, NONE]"));
}
