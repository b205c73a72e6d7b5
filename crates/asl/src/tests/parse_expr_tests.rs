//! Unit tests of `parse/mod.rs` (a child module of it: `super::*` is that file).

use super::choice::{Operand_, OPERATORS};
use super::*;
use serde_json::json;
use stepwise_expr::jsonpath::JsonPath;
use stepwise_jsonata::JsonataExpr;

fn ok(def: Value) -> StateMachine {
    match parse_value(&def) {
        Ok(sm) => sm,
        Err(d) => panic!("unexpected diagnostics: {d:#?}"),
    }
}

#[track_caller]
fn has(def: Value, pointer: &str, code: &str) -> String {
    let d = parse_value(&def).err().unwrap_or_default();
    match d.iter().find(|x| x.pointer == pointer && x.code == code) {
        Some(x) => x.message.clone(),
        None => panic!("no {code} at {pointer:?} in {d:#?}"),
    }
}

fn one(state: Value) -> Value {
    json!({"StartAt": "A", "States": {"A": state}})
}

fn jsonata(state: Value) -> Value {
    json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": state}})
}

fn kind(sm: &StateMachine) -> &StateKind {
    &sm.states.states[0].kind
}

#[test]
fn jsonpath_data_flow_fields() {
    let sm = ok(one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "InputPath": "$.in", "Parameters": {"a.$": "$.x", "b": 1}, "ResultSelector": {"r.$": "$.Payload"},
        "ResultPath": "$.out", "OutputPath": "$.o", "Assign": {"v.$": "$.x"}}),
    ));
    let s = &sm.states.states[0];
    assert!(matches!(&s.io.input_path, FilterPath::Path(p) if p.as_str() == "$.in"));
    assert!(matches!(&s.io.output_path, FilterPath::Path(p) if p.as_str() == "$.o"));
    assert!(matches!(&s.io.result_path, ResultPath::Path(p) if p.as_str() == "$.out"));
    assert!(s.io.parameters.is_some() && s.io.result_selector.is_some());
    assert!(matches!(s.assign, Some(Assign::JsonPath(_))));
}

#[test]
fn dyn_path_fields() {
    let sm = ok(one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h"}),
    ));
    let StateKind::Task(t) = kind(&sm) else {
        panic!()
    };
    assert!(matches!(&t.timeout_seconds, Some(Dyn::Path(p)) if p.as_str() == "$.t"));
    assert!(matches!(&t.heartbeat_seconds, Some(Dyn::Path(p)) if p.as_str() == "$.h"));

    let sm = ok(one(
        json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
    ));
    assert!(
        matches!(kind(&sm), StateKind::Wait(Wait::Seconds(Dyn::Path(p))) if p.as_str() == "$.s")
    );
    let sm = ok(one(
        json!({"Type": "Wait", "TimestampPath": "$.ts", "End": true}),
    ));
    assert!(
        matches!(kind(&sm), StateKind::Wait(Wait::Timestamp(Dyn::Path(p))) if p.as_str() == "$.ts")
    );

    let sm = ok(one(
        json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('x {}', $.c)"}),
    ));
    let StateKind::Fail(f) = kind(&sm) else {
        panic!()
    };
    assert!(matches!(&f.error, Some(Dyn::Path(p)) if p.as_str() == "$.e"));
    assert!(matches!(&f.cause, Some(Dyn::Intrinsic(_))));

    let sm = ok(one(
        json!({"Type": "Map", "End": true, "ItemsPath": "$.items", "MaxConcurrencyPath": "$.m",
        "ToleratedFailureCountPath": "$.c", "ToleratedFailurePercentagePath": "$.p",
        "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}),
    ));
    let StateKind::Map(m) = kind(&sm) else {
        panic!()
    };
    assert_eq!(m.items_path.as_ref().map(JsonPath::as_str), Some("$.items"));
    assert!(matches!(&m.max_concurrency, Some(Dyn::Path(_))));
    assert!(matches!(&m.tolerated_failure_count, Some(Dyn::Path(_))));
    assert!(matches!(
        &m.tolerated_failure_percentage,
        Some(Dyn::Path(_))
    ));
}

#[test]
fn legacy_map_parameters_become_item_selector() {
    let sm = ok(one(
        json!({"Type": "Map", "End": true, "Parameters": {"v.$": "$$.Map.Item.Value"},
        "Iterator": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}),
    ));
    let StateKind::Map(m) = kind(&sm) else {
        panic!()
    };
    assert!(m.legacy_iterator);
    assert!(matches!(m.item_selector, Some(MapSelector::JsonPath(_))));
    assert!(sm.states.states[0].io.parameters.is_none());
    let sm = ok(one(
        json!({"Type": "Map", "End": true, "ItemSelector": {"v.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}),
    ));
    assert!(
        matches!(kind(&sm), StateKind::Map(m) if matches!(m.item_selector, Some(MapSelector::JsonPath(_))))
    );
    has(
        one(
            json!({"Type": "Map", "End": true, "ItemSelector": {}, "Parameters": {},
            "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}),
        ),
        "/States/A",
        SCHEMA,
    );
}

#[test]
fn jsonata_dyn_fields() {
    let sm = ok(jsonata(
        json!({"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": true}),
    ));
    assert!(matches!(
        kind(&sm),
        StateKind::Wait(Wait::Seconds(Dyn::Jsonata(_)))
    ));
    let sm = ok(jsonata(
        json!({"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": true}),
    ));
    assert!(matches!(
        kind(&sm),
        StateKind::Wait(Wait::Timestamp(Dyn::Jsonata(_)))
    ));
    let sm = ok(jsonata(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "TimeoutSeconds": "{% 10 %}", "HeartbeatSeconds": 3, "Arguments": {"a": "{% $states.input %}"},
        "Output": "{% $states.result %}", "Assign": {"x": "{% 1 %}"}}),
    ));
    let StateKind::Task(t) = kind(&sm) else {
        panic!()
    };
    assert!(matches!(t.timeout_seconds, Some(Dyn::Jsonata(_))));
    assert!(matches!(t.heartbeat_seconds, Some(Dyn::Literal(3))));
    let s = &sm.states.states[0];
    assert!(s.io.arguments.is_some() && s.io.output.is_some());
    assert!(matches!(s.assign, Some(Assign::Jsonata(_))));

    let sm = ok(jsonata(
        json!({"Type": "Fail", "Error": "{% 'E' & 'F' %}", "Cause": "plain"}),
    ));
    let StateKind::Fail(f) = kind(&sm) else {
        panic!()
    };
    assert!(matches!(f.error, Some(Dyn::Jsonata(_))));
    assert!(matches!(&f.cause, Some(Dyn::Literal(c)) if c == "plain"));

    let sm = ok(jsonata(
        json!({"Type": "Map", "End": true, "Items": "{% [1,2] %}", "MaxConcurrency": "{% 2 %}",
        "ToleratedFailurePercentage": "{% 5 %}", "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}"},
        "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}),
    ));
    let StateKind::Map(m) = kind(&sm) else {
        panic!()
    };
    assert!(m.items.is_some());
    assert!(matches!(m.max_concurrency, Some(Dyn::Jsonata(_))));
    assert!(matches!(
        m.tolerated_failure_percentage,
        Some(Dyn::Jsonata(_))
    ));
    assert!(matches!(m.item_selector, Some(MapSelector::Jsonata(_))));
    let sm = ok(jsonata(
        json!({"Type": "Map", "End": true, "Items": [1, "{% 2 %}"],
        "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}),
    ));
    assert!(matches!(kind(&sm), StateKind::Map(m) if m.items.is_some()));
}

#[test]
fn jsonata_choice_and_catch() {
    let sm = ok(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "C",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C", "Output": "{% $states.errorOutput %}", "Assign": {"e": "{% 1 %}"}}]},
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.x > 1 %}", "Next": "S", "Output": {"k": 1}, "Assign": {"y": 2}}], "Default": "S"},
            "S": {"Type": "Succeed"}
        }}),
    );
    let c = &sm.states.states[0].catch[0];
    assert_eq!(c.next, 1);
    assert!(c.output.is_some() && matches!(c.assign, Some(Assign::Jsonata(_))));
    let StateKind::Choice(ch) = &sm.states.states[1].kind else {
        panic!()
    };
    assert!(matches!(
        ch.choices[0].rule,
        ChoiceRule::Condition(Dyn::Jsonata(_))
    ));
    assert!(ch.choices[0].output.is_some() && ch.choices[0].assign.is_some());
}

#[test]
fn states_result_and_error_output_scope() {
    let task = |extra: Value| {
        let mut t =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        if let (Some(t), Value::Object(e)) = (t.as_object_mut(), extra) {
            t.extend(e);
        }
        jsonata(t)
    };
    // Where they exist: a Task's own Output/Assign; a catcher's Output/Assign.
    ok(task(
        json!({"Output": "{% $states.result %}", "Assign": {"r": "{% $states.result.x %}"},
        "Arguments": {"i": "{% $states.input %}", "c": "{% $states.context.Execution.Id %}"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A",
            "Output": "{% $states.errorOutput %}", "Assign": {"e": "{% $states.errorOutput.Error %}"}}]}),
    ));
    // `$states` used whole is not judged.
    ok(task(json!({"Arguments": {"k": "{% $keys($states) %}"}})));
    let msg = has(
        task(json!({"Arguments": {"p": "{% $states.result %}"}})),
        "/States/A/Arguments/p",
        UNSUPPORTED_JSONATA,
    );
    assert_eq!(msg, "Field '$states.result' does not exist.");
    let msg = has(
        task(json!({"Arguments": "{% $states.errorOutput %}"})),
        "/States/A/Arguments",
        UNSUPPORTED_JSONATA,
    );
    assert_eq!(msg, "Field '$states.errorOutput' does not exist.");
    has(
        task(json!({"Output": {"e": "{% $states.errorOutput.Cause %}"}})),
        "/States/A/Output/e",
        UNSUPPORTED_JSONATA,
    );
    has(
        task(
            json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A", "Assign": {"r": "{% $states.result %}"}}]}),
        ),
        "/States/A/Catch/0/Assign/r",
        UNSUPPORTED_JSONATA,
    );
    has(
        task(json!({"TimeoutSeconds": "{% $states.result.t %}"})),
        "/States/A/TimeoutSeconds",
        UNSUPPORTED_JSONATA,
    );
    // A Pass state has no result; a Map's Items and ItemSelector run before it exists.
    has(
        jsonata(json!({"Type": "Pass", "End": true, "Assign": {"x": "{% $states.result %}"}})),
        "/States/A/Assign/x",
        UNSUPPORTED_JSONATA,
    );
    let map = jsonata(json!({"Type": "Map", "End": true,
        "Items": "{% $states.result %}", "ItemSelector": {"v": "{% $states.errorOutput %}"},
        "Output": "{% $states.result %}",
        "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": true}}}}));
    has(map.clone(), "/States/A/Items", UNSUPPORTED_JSONATA);
    has(map.clone(), "/States/A/ItemSelector/v", UNSUPPORTED_JSONATA);
    let d = parse_value(&map).err().unwrap_or_default();
    assert_eq!(d.len(), 2, "{d:#?}");
    has(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.result %}", "Next": "S"}], "Default": "S"},
            "S": {"Type": "Succeed"}}}),
        "/States/C/Choices/0/Condition",
        UNSUPPORTED_JSONATA,
    );
}

#[test]
fn top_level_references_are_refused() {
    let refs = |src: &str| match JsonataExpr::parse(src) {
        Ok(e) => e.top_level_references(),
        Err(e) => panic!("{src}: {e}"),
    };
    assert_eq!(refs("phone.number"), ["phone"]);
    assert_eq!(refs("a + b[0] + a"), ["a", "b"]);
    assert_eq!(refs("$"), ["$"]);
    assert_eq!(refs("{k: 1, \"s\": v}"), ["k", "v"]);
    assert_eq!(refs("($x := a; $x)"), ["a"]);
    assert_eq!(refs("$map($states.input.a, function($v){ b })"), ["b"]);
    assert_eq!(refs("x ? y : z"), ["x", "y", "z"]);
    for fine in [
        "$states.input.items[price > 5].name",
        "$states.input.a.b^(c)",
        "$v.phone",
        "$map($states.input.a, function($v){ $v.x })",
        "$states.input.{\"k\": v}",
        "($states.input).a",
        "\"literal\" & 1",
        "$sum($states.input.n) ~> $string()",
    ] {
        assert!(refs(fine).is_empty(), "{fine}: {:?}", refs(fine));
    }
    let msg = has(
        jsonata(json!({"Type": "Pass", "End": true, "Output": {"v": "{% phone & phone & $ %}"}})),
        "/States/A/Output/v",
        UNSUPPORTED_JSONATA,
    );
    assert_eq!(
        msg,
        "Reference to 'phone' at the top level is not supported."
    );
    let d = parse_value(&jsonata(
        json!({"Type": "Pass", "End": true, "Output": {"v": "{% phone & phone & $ %}"}}),
    ))
    .err()
    .unwrap_or_default();
    assert_eq!(d.len(), 2, "{d:#?}");
    has(
        jsonata(
            json!({"Type": "Choice", "Choices": [{"Condition": "{% flag %}", "Next": "A"}], "Default": "A"}),
        ),
        "/States/A/Choices/0/Condition",
        UNSUPPORTED_JSONATA,
    );
}

#[test]
fn jsonpath_choice_rules() {
    let mut choices = Vec::new();
    for (name, op, kind) in OPERATORS {
        let literal = match kind {
            Operand_::Str => json!("s"),
            Operand_::Num => json!(1.5),
            Operand_::Bool | Operand_::Check => json!(true),
            Operand_::Ts => json!("2016-03-14T01:59:00Z"),
        };
        choices.push((
            json!({"Variable": "$.v", name: literal.clone(), "Next": "S"}),
            op,
            Operand::Literal(literal),
        ));
        if kind != Operand_::Check && name != "StringMatches" {
            let path = JsonPath::parse("$.w").unwrap();
            choices.push((
                json!({"Variable": "$.v", format!("{name}Path"): "$.w", "Next": "S"}),
                op,
                Operand::Path(path),
            ));
        }
    }
    let rules: Vec<Value> = choices.iter().map(|c| c.0.clone()).collect();
    let sm = ok(
        json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": rules}, "S": {"Type": "Succeed"}}}),
    );
    let StateKind::Choice(ch) = kind(&sm) else {
        panic!()
    };
    assert_eq!(ch.choices.len(), choices.len());
    for (got, (_, op, operand)) in ch.choices.iter().zip(&choices) {
        let ChoiceRule::Compare {
            variable,
            op: got_op,
            operand: got_operand,
        } = &got.rule
        else {
            panic!()
        };
        assert_eq!(variable.as_str(), "$.v");
        assert_eq!(got_op, op);
        match (got_operand, operand) {
            (Operand::Literal(a), Operand::Literal(b)) => assert_eq!(a, b),
            (Operand::Path(a), Operand::Path(b)) => assert_eq!(a.as_str(), b.as_str()),
            _ => panic!("operand kind differs for {op:?}"),
        }
    }
    let sm = ok(
        json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Next": "S", "And": [
        {"Variable": "$.a", "IsPresent": true},
        {"Or": [{"Variable": "$.b", "StringMatches": "x*"}, {"Not": {"Variable": "$.c", "IsNull": true}}]}
    ]}]}, "S": {"Type": "Succeed"}}}),
    );
    let StateKind::Choice(ch) = kind(&sm) else {
        panic!()
    };
    let ChoiceRule::And(rules) = &ch.choices[0].rule else {
        panic!()
    };
    assert!(matches!(&rules[1], ChoiceRule::Or(r) if matches!(&r[1], ChoiceRule::Not(_))));
}

#[test]
fn choice_operand_types() {
    let def = |rule: Value| json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule]}, "S": {"Type": "Succeed"}}});
    has(
        def(json!({"Variable": "$.a", "NumericEquals": "1", "Next": "S"})),
        "/States/C/Choices/0/NumericEquals",
        SCHEMA,
    );
    has(
        def(json!({"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "S"})),
        "/States/C/Choices/0/TimestampEquals",
        SCHEMA,
    );
    has(
        def(json!({"Variable": "$.a", "IsNullPath": "$.b", "Next": "S"})),
        "/States/C/Choices/0",
        SCHEMA,
    );
    has(
        def(json!({"StringEquals": "x", "Next": "S"})),
        "/States/C/Choices/0",
        SCHEMA,
    );
    has(
        def(json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1, "Next": "S"})),
        "/States/C/Choices/0",
        SCHEMA,
    );
    has(
        def(json!({"Variable": "$.a", "And": [{"Variable": "$.a", "IsNull": true}], "Next": "S"})),
        "/States/C/Choices/0/Variable",
        SCHEMA,
    );
    has(
        def(json!({"And": [{"Variable": "$.a", "IsNull": true, "Next": "S"}], "Next": "S"})),
        "/States/C/Choices/0/And/0",
        SCHEMA,
    );
}

#[test]
fn real_world_shapes_are_accepted() {
    // CDK/console style: service integrations, callbacks, retries, distributed map.
    ok(json!({
        "Comment": "orders", "TimeoutSeconds": 3600,
        "StartAt": "Validate",
        "States": {
            "Validate": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:v:$LATEST", "Payload.$": "$"},
                "OutputPath": "$.Payload", "ResultSelector": {"body.$": "$.Payload"},
                "Retry": [{"ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2, "JitterStrategy": "FULL"}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                "Next": "Approve"},
            "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "https://sqs", "MessageBody": {"token.$": "$$.Task.Token"}},
                "HeartbeatSeconds": 60, "TimeoutSeconds": 600, "ResultPath": null, "Next": "Fanout"},
            "Fanout": {"Type": "Map", "Label": "Fanout", "MaxConcurrency": 100, "ToleratedFailurePercentage": 5,
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": "b", "Key.$": "$.key"}},
                "ItemBatcher": {"MaxItemsPerBatch": 10, "BatchInput": {"k.$": "$.key"}},
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"}},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                        "Parameters": {"ApiEndpoint": "https://x", "Method": "GET", "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/c"}},
                        "End": true}}},
                "Next": "Done"},
            "Failed": {"Type": "Fail", "Error": "OrderFailed", "CausePath": "$.error.Cause"},
            "Done": {"Type": "Succeed", "Comment": "ok"}
        }
    }));
}

#[test]
fn aws_recorded_messages() {
    let msg =
        |def: Value| crate::validate::aws_message(&parse_value(&def).err().unwrap_or_default());
    assert_eq!(
        msg(one(json!({"Type": "Pass", "Parameters": {"parsed.$": "States.StringToJson($.a"}, "End": true}))),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at /States/A/Parameters'"
    );
    for creds in [json!({}), json!({"InvalidField": "invalid"})] {
        assert_eq!(
            msg(json!({"StartAt": "State0", "QueryLanguage": "JSONata", "States": {"State0": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": "{% $state.input %}",
                "Credentials": creds, "End": true}}})),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/State0/Credentials'"
        );
    }
    assert_eq!(
        msg(json!({"StartAt": "StateName", "States": {"StateName": {"Type": "Parallel", "Branches": [], "End": true}}})),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches'"
    );
    assert_eq!(
        msg(json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": true}, "ExistingButInvalidState": {"Type": "Invalid"}}})),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/ExistingButInvalidState/Type'"
    );
    assert_eq!(
        msg(json!({"StartAt": "S"})),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    );
}

#[test]
fn invalid_expressions_are_located_at_their_field() {
    has(
        one(json!({"Type": "Pass", "End": true, "InputPath": "nope"})),
        "/States/A/InputPath",
        SCHEMA,
    );
    has(
        one(json!({"Type": "Pass", "End": true, "ResultPath": "$$.Execution"})),
        "/States/A/ResultPath",
        SCHEMA,
    );
    has(
        one(json!({"Type": "Pass", "End": true, "Parameters": {"a.$": "nope"}})),
        "/States/A/Parameters",
        SCHEMA,
    );
    has(
        one(json!({"Type": "Fail", "CausePath": "States.Format("})),
        "/States/A/CausePath",
        SCHEMA,
    );
    has(
        jsonata(json!({"Type": "Pass", "End": true, "Output": "{% 1 + %}"})),
        "/States/A/Output",
        "INVALID_JSONATA_EXPRESSION",
    );
    has(
        jsonata(json!({"Type": "Wait", "Seconds": "{% ( %}", "End": true})),
        "/States/A/Seconds",
        "INVALID_JSONATA_EXPRESSION",
    );
    has(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Condition": "{% ) %}", "Next": "S"}]}, "S": {"Type": "Succeed"}}}),
        "/States/C/Choices/0/Condition",
        "INVALID_JSONATA_EXPRESSION",
    );
}
