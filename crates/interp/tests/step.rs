//! The step function driven event by event: Task dispatch, Retry, Catch, timeouts,
//! heartbeats, callbacks, concurrency of Parallel/Map, execution timeout and stop.

use serde_json::{json, Value};
use stepwise_interp::run::VirtualClock;
use stepwise_interp::{
    Command, Event, ExecutionInfo, Machine, Status, Step, TaskRequest,
};

#[allow(dead_code)]
mod common;
use common::{start, T0};

fn types(step: &Step) -> Vec<&'static str> {
    step.events.iter().map(|e| e.event_type.as_str()).collect()
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

fn timers(step: &Step) -> Vec<(u64, i64)> {
    step.commands
        .iter()
        .filter_map(|c| match c {
            Command::ArmTimer { timer, due_millis } => Some((*timer, *due_millis)),
            _ => None,
        })
        .collect()
}

fn lambda_task(extra: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    if let (Some(t), Some(e)) = (t.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            t.insert(k.clone(), v.clone());
        }
    }
    json!({"StartAt": "T", "States": {"T": t}})
}

#[test]
fn task_success_runs_result_selector_and_result_path() {
    let def = lambda_task(json!({
        "Parameters": {"FunctionName": "f", "Payload.$": "$.order"},
        "ResultSelector": {"body.$": "$.Payload.body"},
        "ResultPath": "$.result"
    }));
    let (mut ex, step, mut clock) = start(def, json!({"order": {"id": 7}}));
    assert_eq!(
        types(&step),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted"
        ]
    );
    let t = &tasks(&step)[0];
    assert_eq!(t.input, json!({"FunctionName": "f", "Payload": {"id": 7}}));
    assert_eq!(t.state_name, "T");
    assert_eq!(t.invocation, 0);
    let sched = step.events[2].to_aws_json(true);
    assert_eq!(sched["taskScheduledEventDetails"]["resourceType"], "lambda");
    assert_eq!(sched["taskScheduledEventDetails"]["resource"], "invoke");
    assert_eq!(sched["taskScheduledEventDetails"]["region"], "us-east-1");
    let step = ex.handle(
        Event::TaskSucceeded {
            task: t.task,
            output: json!({"Payload": {"body": "ok"}}),
        },
        &mut clock,
    );
    assert_eq!(
        types(&step),
        ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    );
    assert_eq!(ex.status(), Status::Succeeded);
    assert_eq!(
        ex.output(),
        Some(&json!({"order": {"id": 7}, "result": {"body": "ok"}}))
    );
    // ids chain one after another
    let ids: Vec<(u64, u64)> = step
        .events
        .iter()
        .map(|e| (e.id, e.previous_event_id))
        .collect();
    assert_eq!(ids, [(5, 4), (6, 5), (7, 6)]);
}

#[test]
fn retry_backs_off_then_succeeds() {
    let def = lambda_task(json!({
        "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}]
    }));
    let (mut ex, step, mut clock) = start(def, json!({}));
    let t = tasks(&step)[0].task;
    let step = ex.handle(
        Event::TaskFailed {
            task: t,
            error: "Lambda.ServiceException".into(),
            cause: "boom".into(),
        },
        &mut clock,
    );
    assert_eq!(types(&step), ["TaskFailed"]);
    let (timer, due) = timers(&step)[0];
    assert_eq!(due, T0 + 2_000);
    clock.now = due;
    let step = ex.handle(Event::TimerFired { timer }, &mut clock);
    assert_eq!(types(&step), ["TaskScheduled", "TaskStarted"]);
    let t2 = &tasks(&step)[0];
    assert_eq!(t2.invocation, 1);
    let step = ex.handle(
        Event::TaskFailed {
            task: t2.task,
            error: "Lambda.ServiceException".into(),
            cause: "".into(),
        },
        &mut clock,
    );
    let (timer, due) = timers(&step)[0];
    assert_eq!(
        due,
        clock.now + 6_000,
        "second delay is IntervalSeconds × BackoffRate"
    );
    clock.now = due;
    let step = ex.handle(Event::TimerFired { timer }, &mut clock);
    let t3 = tasks(&step)[0].task;
    ex.handle(
        Event::TaskSucceeded {
            task: t3,
            output: json!(1),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Succeeded);
    assert_eq!(ex.output(), Some(&json!(1)));
}

#[test]
fn retry_exhausted_fails_with_the_task_error() {
    let def = lambda_task(
        json!({"Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}]}),
    );
    let (mut ex, step, mut clock) = start(def, json!({}));
    let t = tasks(&step)[0].task;
    let step = ex.handle(
        Event::TaskFailed {
            task: t,
            error: "E".into(),
            cause: "c".into(),
        },
        &mut clock,
    );
    let (timer, _) = timers(&step)[0];
    let step = ex.handle(Event::TimerFired { timer }, &mut clock);
    let t = tasks(&step)[0].task;
    let step = ex.handle(
        Event::TaskFailed {
            task: t,
            error: "E".into(),
            cause: "c".into(),
        },
        &mut clock,
    );
    assert_eq!(types(&step), ["TaskFailed", "ExecutionFailed"]);
    assert_eq!(
        (ex.status(), ex.error(), ex.cause()),
        (Status::Failed, Some("E"), Some("c"))
    );
}

#[test]
fn max_delay_caps_backoff_and_full_jitter_stays_below() {
    let def = lambda_task(json!({"Retry": [{
        "ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxAttempts": 5,
        "MaxDelaySeconds": 15, "JitterStrategy": "FULL"
    }]}));
    let (mut ex, step, mut clock) = start(def, json!({}));
    let mut task = tasks(&step)[0].task;
    for _ in 0..3 {
        let step = ex.handle(
            Event::TaskFailed {
                task,
                error: "E".into(),
                cause: "".into(),
            },
            &mut clock,
        );
        let (timer, due) = timers(&step)[0];
        assert!(
            due >= clock.now && due <= clock.now + 15_000,
            "delay {} out of [0, 15 s]",
            due - clock.now
        );
        clock.now = due;
        let step = ex.handle(Event::TimerFired { timer }, &mut clock);
        task = tasks(&step)[0].task;
    }
}

#[test]
fn catch_routes_error_output_through_result_path() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Ok",
              "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "Declined"}]},
        "Ok": {"Type": "Succeed"},
        "Declined": {"Type": "Pass", "End": true}
    }});
    let (mut ex, step, mut clock) = start(def, json!({"a": 1}));
    let t = tasks(&step)[0].task;
    let step = ex.handle(
        Event::TaskFailed {
            task: t,
            error: "PaymentDeclined".into(),
            cause: "card".into(),
        },
        &mut clock,
    );
    assert_eq!(
        types(&step),
        [
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        ex.output(),
        Some(&json!({"a": 1, "error": {"Error": "PaymentDeclined", "Cause": "card"}}))
    );
}

#[test]
fn states_all_does_not_catch_runtime_errors() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "InputPath": "$.missing", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Succeed"}
    }});
    let (ex, step, _) = start(def, json!({}));
    assert_eq!(ex.status(), Status::Failed);
    assert_eq!(ex.error(), Some("States.Runtime"));
    assert!(ex.cause().unwrap_or("").starts_with("An error occurred while executing the state 'T' (entered at the event id #2). Invalid path '$.missing'"));
    assert_eq!(
        types(&step),
        ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn task_timeout_and_heartbeat() {
    let def = lambda_task(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 4}));
    let (mut ex, step, mut clock) = start(def, json!({}));
    let task = tasks(&step)[0].task;
    let armed = timers(&step);
    assert_eq!(
        armed.iter().map(|t| t.1 - T0).collect::<Vec<_>>(),
        [10_000, 4_000]
    );
    // A heartbeat re-arms the heartbeat timer.
    clock.now = T0 + 3_000;
    let step = ex.handle(Event::TaskHeartbeat { task }, &mut clock);
    assert!(step
        .commands
        .contains(&Command::CancelTimer { timer: armed[1].0 }));
    let (hb, due) = timers(&step)[0];
    assert_eq!(due, T0 + 7_000);
    // The old heartbeat timer firing late does nothing.
    let step = ex.handle(Event::TimerFired { timer: armed[1].0 }, &mut clock);
    assert!(step.events.is_empty());
    clock.now = due;
    let step = ex.handle(Event::TimerFired { timer: hb }, &mut clock);
    assert_eq!(types(&step), ["TaskTimedOut", "ExecutionFailed"]);
    // AWS records a missed heartbeat as States.Timeout (LocalStack's AWS recordings,
    // test_heartbeats.snapshot.json).
    assert_eq!(ex.error(), Some("States.Timeout"));
    assert!(step.commands.contains(&Command::CancelTask { task }));
}

#[test]
fn task_timeout_fails_with_states_timeout() {
    let def = lambda_task(json!({"TimeoutSeconds": 10}));
    let (mut ex, step, mut clock) = start(def, json!({}));
    let (timer, due) = timers(&step)[0];
    clock.now = due;
    ex.handle(Event::TimerFired { timer }, &mut clock);
    assert_eq!(
        (ex.status(), ex.error()),
        (Status::Failed, Some("States.Timeout"))
    );
}

#[test]
fn wait_for_task_token_exposes_the_token() {
    let def = json!({"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "ResultPath": "$.approval", "End": true}}});
    let (mut ex, step, mut clock) = start(def, json!({"order": 1}));
    let t = &tasks(&step)[0];
    let token = t.token.clone().expect("a task token");
    assert_eq!(t.input["MessageBody"]["token"], json!(token));
    let sched = step.events[2].to_aws_json(true);
    assert_eq!(
        sched["taskScheduledEventDetails"]["resource"],
        "sendMessage.waitForTaskToken"
    );
    ex.handle(
        Event::TaskSucceeded {
            task: t.task,
            output: json!({"approved": true}),
        },
        &mut clock,
    );
    assert_eq!(
        ex.output(),
        Some(&json!({"order": 1, "approval": {"approved": true}}))
    );
}

#[test]
fn activities_and_lambda_arns_use_their_own_events() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:approve", "Next": "L"},
        "L": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true}
    }});
    let (mut ex, step, mut clock) = start(def, json!({}));
    assert_eq!(types(&step)[2], "ActivityScheduled");
    let t = &tasks(&step)[0];
    assert!(t.token.is_some(), "activities carry a task token");
    let step = ex.handle(
        Event::TaskStarted {
            task: t.task,
            worker_name: "w1".into(),
        },
        &mut clock,
    );
    assert_eq!(types(&step), ["ActivityStarted"]);
    let step = ex.handle(
        Event::TaskSucceeded {
            task: t.task,
            output: json!(2),
        },
        &mut clock,
    );
    assert_eq!(
        types(&step),
        [
            "ActivitySucceeded",
            "TaskStateExited",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted"
        ]
    );
    let t = &tasks(&step)[0];
    let step = ex.handle(
        Event::TaskSucceeded {
            task: t.task,
            output: json!(3),
        },
        &mut clock,
    );
    assert_eq!(
        types(&step),
        [
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn parallel_branches_wait_concurrently_and_keep_branch_order() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": task}},
        {"StartAt": "B", "States": {"B": task}}
    ]}}});
    let (mut ex, step, mut clock) = start(def, json!({}));
    let ts = tasks(&step);
    assert_eq!(ts.len(), 2, "both branches dispatch before either answers");
    ex.handle(
        Event::TaskSucceeded {
            task: ts[1].task,
            output: json!("b"),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Running);
    let step = ex.handle(
        Event::TaskSucceeded {
            task: ts[0].task,
            output: json!("a"),
        },
        &mut clock,
    );
    assert_eq!(ex.output(), Some(&json!(["a", "b"])));
    let t = types(&step);
    assert_eq!(
        &t[t.len() - 3..],
        [
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn parallel_branch_failure_fails_the_state_and_is_caught() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": task}},
            {"StartAt": "B", "States": {"B": task}}
        ], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Pass", "End": true}
    }});
    let (mut ex, step, mut clock) = start(def, json!({}));
    let ts = tasks(&step);
    let step = ex.handle(
        Event::TaskFailed {
            task: ts[0].task,
            error: "Boom".into(),
            cause: "x".into(),
        },
        &mut clock,
    );
    assert!(
        step.commands
            .contains(&Command::CancelTask { task: ts[1].task }),
        "the other branch is cancelled"
    );
    assert!(types(&step).contains(&"ParallelStateFailed"));
    assert_eq!(ex.output(), Some(&json!({"Error": "Boom", "Cause": "x"})));
    // A late answer for the cancelled branch is ignored.
    let step = ex.handle(
        Event::TaskSucceeded {
            task: ts[1].task,
            output: json!(1),
        },
        &mut clock,
    );
    assert!(step.events.is_empty());
}

#[test]
fn map_respects_max_concurrency() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}});
    let (mut ex, step, mut clock) = start(def, json!([1, 2, 3, 4, 5]));
    let mut pending: Vec<TaskRequest> = tasks(&step);
    assert_eq!(pending.len(), 2);
    let mut answered = 0;
    while let Some(t) = pending.pop() {
        let step = ex.handle(
            Event::TaskSucceeded {
                task: t.task,
                output: json!(t.input.as_i64().unwrap_or(0) * 10),
            },
            &mut clock,
        );
        answered += 1;
        pending.extend(tasks(&step));
        assert!(
            pending.len() <= 2,
            "never more than MaxConcurrency tasks in flight"
        );
    }
    assert_eq!(answered, 5);
    assert_eq!(ex.output(), Some(&json!([10, 20, 30, 40, 50])));
}

#[test]
fn map_tolerated_failures_keep_going() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 1, "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}});
    let (mut ex, step, mut clock) = start(def, json!([1, 2, 3]));
    let ts = tasks(&step);
    assert_eq!(ts.len(), 3);
    ex.handle(
        Event::TaskFailed {
            task: ts[0].task,
            error: "E".into(),
            cause: "c".into(),
        },
        &mut clock,
    );
    ex.handle(
        Event::TaskSucceeded {
            task: ts[1].task,
            output: json!(2),
        },
        &mut clock,
    );
    let step = ex.handle(
        Event::TaskSucceeded {
            task: ts[2].task,
            output: json!(3),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Succeeded);
    assert!(types(&step).contains(&"MapRunSucceeded"));
}

#[test]
fn map_over_tolerance_fails_with_threshold_error() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 0, "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}});
    let (mut ex, step, mut clock) = start(def, json!([1, 2]));
    let ts = tasks(&step);
    ex.handle(
        Event::TaskFailed {
            task: ts[0].task,
            error: "E".into(),
            cause: "c".into(),
        },
        &mut clock,
    );
    assert_eq!(
        (ex.status(), ex.error()),
        (
            Status::Failed,
            Some("States.ExceedToleratedFailureThreshold")
        )
    );
}

#[test]
fn execution_timeout_and_stop() {
    let def = json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let (mut ex, step, mut clock) = start(def.clone(), json!({}));
    let armed = timers(&step);
    assert_eq!(armed.len(), 2);
    let (timer, due) = armed[0];
    assert_eq!(due, T0 + 5_000);
    clock.now = due;
    let step = ex.handle(Event::TimerFired { timer }, &mut clock);
    assert_eq!(types(&step), ["ExecutionTimedOut"]);
    assert_eq!(ex.status(), Status::TimedOut);

    let (mut ex, _, mut clock) = start(def, json!({}));
    let step = ex.handle(
        Event::Stop {
            error: Some("Manual".into()),
            cause: None,
        },
        &mut clock,
    );
    assert_eq!(types(&step), ["ExecutionAborted"]);
    assert_eq!(ex.status(), Status::Aborted);
    // Nothing happens after the end.
    assert!(ex
        .handle(Event::TimerFired { timer: 2 }, &mut clock)
        .events
        .is_empty());
}

#[test]
fn data_limit_exceeded_is_not_caught_by_states_all() {
    let big = "x".repeat(300_000);
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}]},
        "C": {"Type": "Succeed"}}});
    let (mut ex, step, mut clock) = start(def, json!({}));
    let t = tasks(&step)[0].task;
    ex.handle(
        Event::TaskSucceeded {
            task: t,
            output: json!(big),
        },
        &mut clock,
    );
    assert_eq!(
        (ex.status(), ex.error()),
        (Status::Failed, Some("States.DataLimitExceeded"))
    );
}

fn run(def: Value, input: Value) -> stepwise_interp::run::Finished {
    let sm =
        stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("invalid definition: {d:?}"));
    let mut clock = VirtualClock::new(T0, 1);
    stepwise_interp::run::run_to_end(
        Machine::new(sm),
        ExecutionInfo::local("M", "e"),
        input,
        &mut clock,
        &mut stepwise_interp::run::NoTasks,
        &mut (),
        true,
    )
}

#[test]
fn wait_assigns_variables() {
    let def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Assign": {"foo": "oof", "in.$": "$.a"}, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"v.$": "$foo", "w.$": "$in"}, "End": true}}});
    let fin = run(def, json!({"a": 5}));
    assert_eq!(fin.output, Some(json!({"v": "oof", "w": 5})));
    let exited = fin
        .history
        .iter()
        .find(|e| e.event_type.as_str() == "WaitStateExited")
        .map(|e| e.to_aws_json(true));
    assert_eq!(
        exited
            .as_ref()
            .map(|e| e["stateExitedEventDetails"]["assignedVariables"]["foo"].clone()),
        Some(json!("\"oof\""))
    );
}

#[test]
fn wait_seconds_path_rules() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}});
    let fin = run(def.clone(), json!({"s": -1}));
    assert!(fin
        .cause
        .unwrap_or_default()
        .ends_with("The SecondsPath parameter references a negative value: $.s == -1"));
    let fin = run(def.clone(), json!({"s": 1.5}));
    assert!(fin
        .cause
        .unwrap_or_default()
        .ends_with("The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"));
    let fin = run(def, json!({"s": 3_000_000_000_i64}));
    assert_eq!(fin.error.as_deref(), Some("States.Runtime"));
    assert!(fin
        .cause
        .unwrap_or_default()
        .ends_with("Wait state delay is too long."));
}

#[test]
fn map_path_numbers_accept_numeric_text_and_check_ranges() {
    let def = |field: &str| {
        let mut m = json!({"Type": "Map", "End": true, "ItemsPath": "$.items",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
        m[field] = json!("$.v");
        json!({"StartAt": "M", "States": {"M": m}})
    };
    let ok = run(
        def("MaxConcurrencyPath"),
        json!({"items": [1, 2], "v": "1"}),
    );
    assert_eq!(ok.output, Some(json!([1, 2])));
    let ok = run(
        def("ToleratedFailurePercentagePath"),
        json!({"items": [1], "v": 1.1}),
    );
    assert_eq!(ok.status, Status::Succeeded);
    let bad = run(
        def("ToleratedFailurePercentagePath"),
        json!({"items": [1], "v": 100.1}),
    );
    assert!(bad
        .cause
        .unwrap_or_default()
        .ends_with("ToleratedFailurePercentage must be between 0 and 100."));
    let bad = run(
        def("ToleratedFailurePercentagePath"),
        json!({"items": [1], "v": "NoNumber"}),
    );
    assert!(bad.cause.unwrap_or_default().ends_with(
        "The ToleratedFailurePercentagePath field refers to value \"NoNumber\" which is not a valid float: $.v"
    ));
    let bad = run(
        def("ToleratedFailureCountPath"),
        json!({"items": [1], "v": -1}),
    );
    assert!(bad
        .cause
        .unwrap_or_default()
        .ends_with("ToleratedFailureCount cannot be negative."));
}

#[test]
fn endless_loops_stop_at_the_history_limit() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "C"}], "Default": "A"},
        "C": {"Type": "Succeed"}}});
    let fin = run(def, json!({}));
    assert_eq!(fin.status, Status::Failed);
    assert_eq!(fin.error.as_deref(), Some("States.Runtime"));
    assert!(fin.history.len() as u64 <= stepwise_interp::exec::MAX_HISTORY_EVENTS);
}

#[test]
fn a_catcher_that_cannot_apply_its_result_path_fails_with_the_state_prefix() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.a.b", "Next": "C"}]},
        "C": {"Type": "Succeed"}}});
    let (mut ex, step, mut clock) = start(def, json!({"a": "text"}));
    let t = tasks(&step)[0].task;
    ex.handle(
        Event::TaskFailed {
            task: t,
            error: "E".into(),
            cause: "c".into(),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Failed);
    assert_eq!(ex.error(), Some("States.ResultPathMatchFailure"));
    assert!(
        ex.cause().unwrap_or("").starts_with(
            "An error occurred while executing the state 'T' (entered at the event id #2). "
        ),
        "{:?}",
        ex.cause()
    );
}

#[test]
fn retry_count_is_in_the_context_of_retrying_states_only() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"state.$": "$$.State"}, "ResultPath": "$.pass", "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"retry.$": "$$.State.RetryCount"}, "ResultPath": "$.task", "End": true,
              "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1}]}}});
    let (mut ex, step, mut clock) = start(def, json!({}));
    let first = &tasks(&step)[0];
    assert_eq!(first.input, json!({"retry": 0}));
    let step = ex.handle(
        Event::TaskFailed {
            task: first.task,
            error: "E".into(),
            cause: "".into(),
        },
        &mut clock,
    );
    let (timer, due) = timers(&step)[0];
    clock.now = due;
    let step = ex.handle(Event::TimerFired { timer }, &mut clock);
    let second = &tasks(&step)[0];
    assert_eq!(second.input, json!({"retry": 1}));
    ex.handle(
        Event::TaskSucceeded {
            task: second.task,
            output: json!({"ok": true}),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Succeeded);
    // A Pass state's Context has no RetryCount.
    let state = &ex.output().expect("output")["pass"]["state"];
    assert_eq!(state["Name"], "P");
    assert!(state.get("RetryCount").is_none(), "{state}");
}

#[test]
fn terminate_fails_the_execution_with_the_given_error() {
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let (mut ex, step, mut clock) = start(def, json!({}));
    assert_eq!(timers(&step).len(), 1);
    let step = ex.handle(
        Event::Terminate {
            error: "States.Runtime".into(),
            cause: "State machine M has been deleted.".into(),
        },
        &mut clock,
    );
    assert_eq!(types(&step), ["ExecutionFailed"]);
    assert_eq!(ex.status(), stepwise_interp::Status::Failed);
    assert_eq!(ex.error(), Some("States.Runtime"));
    assert_eq!(ex.cause(), Some("State machine M has been deleted."));
    // Nothing happens afterwards.
    assert!(ex
        .handle(Event::TimerFired { timer: 1 }, &mut clock)
        .events
        .is_empty());
}

#[test]
fn a_seconds_path_that_selects_nothing_fails_like_any_unmatched_path() {
    for field in [
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "MaxConcurrencyPath",
    ] {
        let def = if field == "MaxConcurrencyPath" {
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "MaxConcurrencyPath": "$.missing", "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}})
        } else {
            lambda_task(json!({ field: "$.missing" }))
        };
        let (ex, _, _) = start(def, json!({"items": [1]}));
        assert_eq!(ex.status(), Status::Failed, "{field}");
        assert_eq!(ex.error(), Some("States.Runtime"), "{field}");
        let cause = ex.cause().unwrap_or_default();
        assert!(
            cause.ends_with("Invalid path '$.missing' : No results for path: $['missing']"),
            "{field}: {cause}"
        );
    }
    // A path to a value that is not a number keeps its own message.
    let (ex, _, _) = start(
        lambda_task(json!({"TimeoutSecondsPath": "$.t"})),
        json!({"t": "soon"}),
    );
    assert!(
        ex.cause().unwrap_or_default().ends_with(
            "The TimeoutSecondsPath field refers to value \"soon\" which is not a valid integer: $.t"
        ),
        "{:?}",
        ex.cause()
    );
}

#[test]
fn a_submitted_call_records_task_submitted_and_waits_for_its_token() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
        "End": true}}});
    let (mut ex, step, mut clock) = start(def, json!({}));
    let t = tasks(&step).remove(0);
    assert!(t.token.is_some());
    let step = ex.handle(
        Event::TaskSubmitted {
            task: t.task,
            output: json!({"StatusCode": 200}),
        },
        &mut clock,
    );
    assert_eq!(types(&step), ["TaskSubmitted"]);
    assert_eq!(ex.status(), Status::Running);
    let e = step.events[0].to_aws_json(true);
    let d = &e["taskSubmittedEventDetails"];
    assert_eq!(d["resourceType"], "lambda");
    assert_eq!(d["resource"], "invoke.waitForTaskToken");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().unwrap()).unwrap(),
        json!({"StatusCode": 200})
    );
    let step = ex.handle(
        Event::TaskSucceeded {
            task: t.task,
            output: json!("done"),
        },
        &mut clock,
    );
    assert_eq!(
        types(&step),
        ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    );
    // A submission for a task that is over changes nothing.
    let step = ex.handle(
        Event::TaskSubmitted {
            task: t.task,
            output: json!(1),
        },
        &mut clock,
    );
    assert!(step.events.is_empty());
}
