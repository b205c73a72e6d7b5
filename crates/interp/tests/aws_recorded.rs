//! Histories AWS recorded, replayed through the step function: each test runs the
//! definition and input of a LocalStack snapshot (`tests/aws/services/stepfunctions/v2/…
//! .snapshot.json` in github.com/localstack/localstack, recorded against real AWS Step
//! Functions; the file and key are named above each test) and compares the events with
//! the ones AWS wrote. Task answers (a Lambda timing out, a `SendTaskFailure`) are fed
//! as the recording shows them. Where a recording holds per-run values or AWS raced with
//! itself (several timers firing together), the test says what it leaves out.

use serde_json::{json, Value};
use stepwise_interp::run::VirtualClock;
use stepwise_interp::{
    Command, Event, Execution, ExecutionInfo, HistoryEvent, Machine, Step, TaskRequest,
};

#[allow(dead_code)]
mod common;
use common::{start, T0};

/// `(id, previousEventId, type)` of each event.
fn chain(events: &[HistoryEvent]) -> Vec<(u64, u64, &'static str)> {
    events
        .iter()
        .map(|e| (e.id, e.previous_event_id, e.event_type.as_str()))
        .collect()
}

fn tasks(step: &Step) -> Vec<TaskRequest> {
    step.commands
        .iter()
        .filter_map(|c| match c {
            Command::DispatchTask(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The timers armed in `step`, in order.
fn timers(step: &Step) -> Vec<u64> {
    step.commands
        .iter()
        .filter_map(|c| match c {
            Command::ArmTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .collect()
}

/// An event's details as the API shows them (JSON text fields decoded).
fn details(e: &HistoryEvent) -> Value {
    let mut v = e.to_aws_json(true);
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "previousEventId", "type", "timestamp"] {
            o.remove(k);
        }
    }
    decode(v)
}

fn decode(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = match (&k[..], v) {
                        ("input" | "output" | "parameters" | "result", Value::String(s)) => {
                            serde_json::from_str(&s).unwrap_or(Value::String(s))
                        }
                        (_, v) => decode(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// test_timeouts.snapshot.json, `TestTimeouts::test_service_lambda_map_timeout`
/// (recorded 2024-03-10): an inline Map without `MaxConcurrency` over four Lambda calls
/// that each time out after 5 s.
fn lambda_map_timeout() -> (Value, Value) {
    let def = json!({
        "Comment": "SERVICE_LAMBDA_MAP_FUNCTION_INVOKE_WITH_TIMEOUT_SECONDS_5",
        "StartAt": "MapWait",
        "States": {"MapWait": {
            "Type": "Map",
            "InputPath": "$.Inputs",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "LambdaInvoke",
                "States": {"LambdaInvoke": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "TimeoutSeconds": 5,
                    "Parameters": {"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
                    "End": true
                }}
            },
            "End": true
        }}
    });
    let item = json!({"FunctionName": "lambda_function_1_name", "Payload": null});
    let input = json!({"Inputs": [item, item, item, item]});
    (def, input)
}

/// Item: `MapIterationStarted` of an inline Map without `MaxConcurrency` points at
/// `MapStateStarted`, for every iteration. AWS (events 1–7):
/// `1 0 ExecutionStarted, 2 0 MapStateEntered, 3 2 MapStateStarted,
/// 4 3 MapIterationStarted, 5 3 MapIterationStarted, 6 3 …, 7 3 …`.
#[test]
fn map_iterations_start_from_map_state_started() {
    let (def, input) = lambda_map_timeout();
    let (_, step, _) = start(def, input);
    let head: Vec<_> = chain(&step.events).into_iter().take(7).collect();
    assert_eq!(
        head,
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "MapStateEntered"),
            (3, 2, "MapStateStarted"),
            (4, 3, "MapIterationStarted"),
            (5, 3, "MapIterationStarted"),
            (6, 3, "MapIterationStarted"),
            (7, 3, "MapIterationStarted"),
        ]
    );
    let indexes: Vec<Value> = step.events[3..7]
        .iter()
        .map(|e| details(e)["mapIterationStartedEventDetails"].clone())
        .collect();
    assert_eq!(
        indexes,
        (0..4)
            .map(|i| json!({"index": i, "name": "MapWait"}))
            .collect::<Vec<_>>()
    );
    // Each iteration's first state follows its own MapIterationStarted.
    let entered: Vec<u64> = step
        .events
        .iter()
        .filter(|e| e.event_type.as_str() == "TaskStateEntered")
        .map(|e| e.previous_event_id)
        .collect();
    assert_eq!(entered, vec![4, 5, 6, 7]);
    assert_eq!(tasks(&step).len(), 4);
}

/// Item: a failing Map iteration. AWS, after the first `TaskTimedOut` (event 20, in
/// iteration 0): `24 20 MapIterationFailed(0), 25 20 TaskStateAborted,
/// 26 20 MapIterationAborted(1), 27 20 TaskStateAborted, 28 20 MapIterationAborted(2),
/// 29 20 TaskStateAborted, 30 20 MapIterationAborted(3), 31 20 TaskStateAborted,
/// 32 20 MapStateFailed, 33 32 ExecutionFailed {error: States.Timeout}`. (AWS also
/// wrote the other three iterations' `TaskTimedOut`, 21–23, before it aborted them:
/// their timers raced with the first; here the first timer fires alone.)
#[test]
fn a_failing_map_iteration_aborts_the_others_pointing_at_the_failure() {
    let (def, input) = lambda_map_timeout();
    let (mut ex, step, mut clock) = start(def, input);
    let first_timeout = timers(&step)[0];
    let mut calls: Vec<u64> = tasks(&step).iter().map(|t| t.task).collect();
    let step = ex.handle(
        Event::TimerFired {
            timer: first_timeout,
        },
        &mut clock,
    );
    let failed = &step.events[0];
    assert_eq!(failed.event_type.as_str(), "TaskTimedOut");
    assert_eq!(
        details(failed),
        json!({"taskTimedOutEventDetails": {"error": "States.Timeout", "resource": "invoke", "resourceType": "lambda"}})
    );
    let at = failed.id;
    let tail: Vec<(u64, &str, Value)> = step.events[1..]
        .iter()
        .map(|e| (e.previous_event_id, e.event_type.as_str(), details(e)))
        .collect();
    let it = |i: usize| json!({"index": i, "name": "MapWait"});
    let none = json!({});
    let mut want = vec![
        (
            at,
            "MapIterationFailed",
            json!({"mapIterationFailedEventDetails": it(0)}),
        ),
        (at, "TaskStateAborted", none.clone()),
    ];
    for i in 1..4 {
        want.push((
            at,
            "MapIterationAborted",
            json!({"mapIterationAbortedEventDetails": it(i)}),
        ));
        want.push((at, "TaskStateAborted", none.clone()));
    }
    want.push((at, "MapStateFailed", none.clone()));
    let map_failed = at + want.len() as u64;
    want.push((
        map_failed,
        "ExecutionFailed",
        json!({"executionFailedEventDetails": {"error": "States.Timeout"}}),
    ));
    assert_eq!(tail, want);
    // Every call is cancelled: the timed-out one and the aborted iterations'.
    let mut cancelled: Vec<u64> = step
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::CancelTask { task } => Some(*task),
            _ => None,
        })
        .collect();
    cancelled.sort_unstable();
    cancelled.dedup();
    calls.sort_unstable();
    assert_eq!(cancelled, calls);
}

/// test_error_output.snapshot.json, `TestStateVariablesTemplate::test_parallel_catch_error
/// [PARALLEL_CATCH_ERROR_OUTPUT_WITH_RETRY]` (recorded 2024-11-13; the recorder zeroed
/// the ids of branch events, the others are AWS's): a one-branch Parallel whose Lambda
/// call fails, retried once, then caught. The failed Task gets `TaskStateAborted`, and
/// the retry's `ParallelStateStarted` (9 → 7) and `ParallelStateFailed` point at the
/// `TaskFailed` event, not at the `TaskStateAborted` after it.
#[test]
fn a_failing_parallel_branch_retried_then_caught() {
    let def = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "ParallelState",
        "States": {
            "ParallelState": {
                "Type": "Parallel",
                "Next": "Finish",
                "Branches": [{"StartAt": "ExecuteLambdaTask", "States": {"ExecuteLambdaTask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Arguments": {"FunctionName": "arn:aws:lambda:us-east-1:111111111111:function:f",
                                  "Payload": {"foo": "foobar"}},
                    "Output": {"InnerStateInput": "{% $states.input %}",
                               "InnerStateResult": "{% $states.result %}"},
                    "End": true}}}],
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"],
                           "Output": {"stateInput": "{% $states.input %}",
                                      "stateError": "{% $states.errorOutput %}"},
                           "Next": "Fallback"}]
            },
            "Fallback": {"Type": "Pass", "Output": {"result": "{% $states.input %}"}, "End": true},
            "Finish": {"Type": "Pass", "Output": {"result": "{% $states.input %}"}, "End": true}
        }
    });
    let (mut ex, step, mut clock) = start(def, json!({"inputData": "dummy"}));
    let mut events = step.events.clone();
    let cause = r#"{"errorMessage":"Some exception was raised.","errorType":"Exception"}"#;
    let fail = |t: &TaskRequest| Event::TaskFailed {
        task: t.task,
        error: "Exception".into(),
        cause: cause.into(),
    };
    let step = ex.handle(fail(&tasks(&step)[0]), &mut clock);
    events.extend(step.events.iter().cloned());
    let retry = timers(&step)[0];
    let step = ex.handle(Event::TimerFired { timer: retry }, &mut clock);
    events.extend(step.events.iter().cloned());
    let step = ex.handle(fail(&tasks(&step)[0]), &mut clock);
    events.extend(step.events.iter().cloned());
    assert_eq!(
        chain(&events),
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "ParallelStateEntered"),
            (3, 2, "ParallelStateStarted"),
            (4, 3, "TaskStateEntered"),
            (5, 4, "TaskScheduled"),
            (6, 5, "TaskStarted"),
            (7, 6, "TaskFailed"),
            (8, 7, "TaskStateAborted"),
            (9, 7, "ParallelStateStarted"),
            (10, 9, "TaskStateEntered"),
            (11, 10, "TaskScheduled"),
            (12, 11, "TaskStarted"),
            (13, 12, "TaskFailed"),
            (14, 13, "TaskStateAborted"),
            (15, 13, "ParallelStateFailed"),
            (16, 15, "ParallelStateExited"),
            (17, 16, "PassStateEntered"),
            (18, 17, "PassStateExited"),
            (19, 18, "ExecutionSucceeded"),
        ]
    );
    assert_eq!(
        details(&events[15]),
        json!({"stateExitedEventDetails": {"name": "ParallelState", "output": {
            "stateInput": {"inputData": "dummy"},
            "stateError": {"Error": "Exception", "Cause": cause}},
            "outputDetails": {"truncated": false}}})
    );
}

/// test_base_scenarios.snapshot.json, `TestBaseScenarios::test_parallel_state_retry`
/// (recorded 2023-12-16): a branch that is a Fail state, retried twice. Each
/// `ParallelStateStarted` again, and the final `ParallelStateFailed`, point at the
/// branch's `FailStateEntered`.
#[test]
fn a_retried_parallel_starts_again_after_the_failed_branch() {
    let def = json!({
        "StartAt": "ParallelState",
        "States": {
            "ParallelState": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Branch1", "States": {"Branch1": {
                    "Type": "Fail", "Error": "FailureType", "Cause": "Cause description"}}}],
                "Retry": [{"ErrorEquals": ["FailureType"], "MaxAttempts": 2}],
                "Next": "Final"
            },
            "Final": {"Type": "Pass", "End": true}
        }
    });
    let (mut ex, step, mut clock) = start(def, json!({}));
    let mut events = step.events.clone();
    // Retries wait one second each (IntervalSeconds defaults to 1).
    let mut pending = timers(&step);
    while let Some(timer) = pending.pop() {
        let step = ex.handle(Event::TimerFired { timer }, &mut clock);
        events.extend(step.events.iter().cloned());
        pending = timers(&step);
    }
    assert_eq!(
        chain(&events),
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "ParallelStateEntered"),
            (3, 2, "ParallelStateStarted"),
            (4, 3, "FailStateEntered"),
            (5, 4, "ParallelStateStarted"),
            (6, 5, "FailStateEntered"),
            (7, 6, "ParallelStateStarted"),
            (8, 7, "FailStateEntered"),
            (9, 8, "ParallelStateFailed"),
            (10, 9, "ExecutionFailed"),
        ]
    );
    assert_eq!(
        details(&events[9]),
        json!({"executionFailedEventDetails": {"cause": "Cause description", "error": "FailureType"}})
    );
}

/// test_callback.snapshot.json, `TestCallback::test_sqs_failure_in_wait_for_task_tok_no_error_field`
/// (recorded 2024-04-29): an SQS `.waitForTaskToken` task whose token is answered by
/// `SendTaskFailure` with neither `error` nor `cause`.
fn sqs_wait_for_token_task() -> Value {
    json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl.$": "$.QueueUrl",
            "MessageBody": {"Context.$": "$", "TaskToken.$": "$$.Task.Token"}
        },
        "End": true
    })
}

fn catchers() -> Value {
    json!([
        {"ErrorEquals": ["States.Runtime"], "ResultPath": "$.states_runtime_error", "Next": "CaughtRuntimeError"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.states_all_error", "Next": "CaughtStatesALL"}
    ])
}

/// Run to the failure answer: the call is made (`TaskSubmitted`), then the token is
/// failed without `error` or `cause` (the engine's `SendTaskFailure` passes empty texts).
fn fail_token_without_fields(def: Value) -> Vec<HistoryEvent> {
    let input = json!({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/q", "Message": "test_message_txt"});
    let (mut ex, step, mut clock) = start(def, input);
    let task = tasks(&step)[0].task;
    let mut events = step.events.clone();
    let step = ex.handle(
        Event::TaskSubmitted {
            task,
            output: json!({"MessageId": "m"}),
        },
        &mut clock,
    );
    events.extend(step.events.iter().cloned());
    let step = ex.handle(
        Event::TaskFailed {
            task,
            error: String::new(),
            cause: String::new(),
        },
        &mut clock,
    );
    events.extend(step.events.iter().cloned());
    events
}

/// Item: `SendTaskFailure` without `error` or `cause`. AWS leaves both out of
/// `TaskFailed` (`{"resource": "sendMessage.waitForTaskToken", "resourceType": "sqs"}`),
/// `States.ALL` catches it, and the error output is `{"Error": null, "Cause": null}`.
/// `[SQS_WAIT_FOR_TASK_TOKEN_CATCH]`: events 1–10, ids as AWS wrote them.
#[test]
fn a_task_failure_without_error_or_cause_is_caught_with_nulls() {
    let mut task = sqs_wait_for_token_task();
    task["Catch"] = catchers();
    let def = json!({"StartAt": "SendMessageWithWait", "States": {
        "SendMessageWithWait": task,
        "CaughtRuntimeError": {"Type": "Pass", "End": true},
        "CaughtStatesALL": {"Type": "Pass", "End": true}}});
    let events = fail_token_without_fields(def);
    assert_eq!(
        chain(&events),
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "TaskStateEntered"),
            (3, 2, "TaskScheduled"),
            (4, 3, "TaskStarted"),
            (5, 4, "TaskSubmitted"),
            (6, 5, "TaskFailed"),
            (7, 6, "TaskStateExited"),
            (8, 7, "PassStateEntered"),
            (9, 8, "PassStateExited"),
            (10, 9, "ExecutionSucceeded"),
        ]
    );
    assert_eq!(
        details(&events[5]),
        json!({"taskFailedEventDetails": {"resource": "sendMessage.waitForTaskToken", "resourceType": "sqs"}})
    );
    assert_eq!(
        details(&events[9])["executionSucceededEventDetails"]["output"]["states_all_error"],
        json!({"Error": null, "Cause": null})
    );
}

/// Items: the same answer inside a one-branch Parallel (`[SQS_PARALLEL_WAIT_FOR_TASK_TOKEN]`,
/// events 1–14, ids as AWS wrote them): the failed Task gets `TaskStateAborted` (9 → 8)
/// and `ParallelStateFailed` points at `TaskFailed` (10 → 8); the Parallel's Catch sees
/// `{"Error": null, "Cause": null}`.
#[test]
fn a_parallel_branch_failed_without_error_or_cause() {
    let def = json!({"StartAt": "ParallelJob", "States": {
        "ParallelJob": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "SendMessageWithWait",
                          "States": {"SendMessageWithWait": sqs_wait_for_token_task()}}],
            "Catch": catchers(),
            "End": true
        },
        "CaughtRuntimeError": {"Type": "Pass", "End": true},
        "CaughtStatesALL": {"Type": "Pass", "End": true}}});
    let events = fail_token_without_fields(def);
    assert_eq!(
        chain(&events),
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "ParallelStateEntered"),
            (3, 2, "ParallelStateStarted"),
            (4, 3, "TaskStateEntered"),
            (5, 4, "TaskScheduled"),
            (6, 5, "TaskStarted"),
            (7, 6, "TaskSubmitted"),
            (8, 7, "TaskFailed"),
            (9, 8, "TaskStateAborted"),
            (10, 8, "ParallelStateFailed"),
            (11, 10, "ParallelStateExited"),
            (12, 11, "PassStateEntered"),
            (13, 12, "PassStateExited"),
            (14, 13, "ExecutionSucceeded"),
        ]
    );
    assert_eq!(
        details(&events[7]),
        json!({"taskFailedEventDetails": {"resource": "sendMessage.waitForTaskToken", "resourceType": "sqs"}})
    );
    assert_eq!(
        details(&events[10])["stateExitedEventDetails"]["output"],
        json!({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/q",
               "Message": "test_message_txt",
               "states_all_error": {"Error": null, "Cause": null}})
    );
}

/// Items: an intrinsic whose JSONPath argument matches nothing, and an intrinsic called
/// with bad arguments. AWS's wording (no LocalStack recording has one; a real execution's
/// cause is quoted in the README of the public CDK construct HandleOptionalParameters,
/// `The function 'States.Array(<optionalProperty JsonPath>)' had the following error: The
/// JsonPath argument for the field '<optionalProperty JsonPath>' could not be found in the
/// input '…'`): `States.Runtime`, the state prefix, the whole expression as written.
#[test]
fn intrinsic_failures_name_the_function_and_fail_with_states_runtime() {
    let run = |params: Value, input: Value| {
        let def = json!({"StartAt": "Pick", "States": {"Pick": {
            "Type": "Pass", "Parameters": params, "End": true}}});
        let (ex, _, _) = start(def, input);
        (
            ex.error().map(str::to_string),
            ex.cause().map(str::to_string),
        )
    };
    let (error, cause) = run(
        json!({"v.$": "States.Format('{}', $.nope)"}),
        json!({"other": 1}),
    );
    assert_eq!(error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        cause.as_deref(),
        Some(
            "An error occurred while executing the state 'Pick' (entered at the event id #2). \
             The function 'States.Format('{}', $.nope)' had the following error: \
             The JsonPath argument for the field '$.nope' could not be found in the input '{\"other\":1}'"
        )
    );
    let (error, cause) = run(
        json!({"v.$": "States.ArrayGetItem($.a, 5)"}),
        json!({"a": [1, 2]}),
    );
    assert_eq!(error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        cause.as_deref(),
        Some(
            "An error occurred while executing the state 'Pick' (entered at the event id #2). \
             The function 'States.ArrayGetItem($.a, 5)' had the following error: \
             Invalid arguments in States.ArrayGetItem: index 5 is out of bounds for an array of length 2"
        )
    );
}

/// A clock whose edge keeps no activity at all.
struct NoActivities(VirtualClock);

impl stepwise_expr::Sources for NoActivities {
    fn now_millis(&mut self) -> i64 {
        self.0.now_millis()
    }
    fn uuid(&mut self) -> String {
        self.0.uuid()
    }
    fn random(&mut self) -> f64 {
        self.0.random()
    }
    fn activity_exists(&mut self, _arn: &str) -> bool {
        false
    }
}

/// Item: a Task on a deleted activity. test_activities.snapshot.json,
/// `TestActivities::test_activity_task_on_deleted` (recorded 2024-03-17): `1 0
/// ExecutionStarted, 2 0 TaskStateEntered, 3 2 ExecutionFailed {error: States.Runtime,
/// cause: "An error occurred while executing the state 'ActivityTask' (entered at the
/// event id #2). The activity activity_arn does not exist."}` — no `ActivityScheduled`,
/// no call.
#[test]
fn a_task_on_an_activity_that_does_not_exist_fails_at_once() {
    let arn = "arn:aws:states:us-east-1:111111111111:activity:activity_name";
    let def = json!({"Comment": "BASE_ACTIVITY_TASK", "StartAt": "ActivityTask", "States": {
        "ActivityTask": {"Type": "Task", "Resource": arn, "End": true}}});
    let sm = stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("{d:?}"));
    let mut src = NoActivities(VirtualClock::new(T0, 1));
    let (ex, step) = Execution::start(
        Machine::new(sm),
        ExecutionInfo::local("M", "e"),
        json!({"Value1": "HelloWorld"}),
        &mut src,
    );
    assert_eq!(
        chain(&step.events),
        vec![
            (1, 0, "ExecutionStarted"),
            (2, 0, "TaskStateEntered"),
            (3, 2, "ExecutionFailed")
        ]
    );
    assert_eq!(
        details(&step.events[2]),
        json!({"executionFailedEventDetails": {
            "error": "States.Runtime",
            "cause": format!("An error occurred while executing the state 'ActivityTask' (entered at the event id #2). The activity {arn} does not exist.")}})
    );
    assert!(tasks(&step).is_empty());
    assert_eq!(ex.status(), stepwise_interp::Status::Failed);
}
