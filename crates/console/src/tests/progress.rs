use super::*;
use serde_json::json;

fn read(def: &Value, events: &[Value]) -> Progress {
    let mut p = Progress::new(&def.to_string());
    for e in events {
        p.apply(e);
    }
    p
}

fn ev(id: u64, prev: u64, t: &str, details: Value) -> Value {
    let mut e = json!({"id": id, "previousEventId": prev, "type": t, "timestamp": id as f64});
    if !details.is_null() {
        e["someEventDetails"] = details;
    }
    e
}

#[test]
fn a_caught_map_failure_reads_as_caught_and_its_item_as_failed() {
    // As AWS records a Map whose only iteration fails into a Catch.
    let def = json!({"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Next": "MapState"},
        "MapState": {"Type": "Map", "ItemProcessor": {"StartAt": "HandleItemFail", "States": {
            "HandleItemFail": {"Type": "Fail", "Error": "E"}}},
            "Catch": [{"ErrorEquals": ["E"], "Next": "FinalCaught"}], "Next": "Final"},
        "FinalCaught": {"Type": "Pass", "End": true},
        "Final": {"Type": "Pass", "End": true}}});
    let events = [
        ev(1, 0, "ExecutionStarted", json!({"input": "{}"})),
        ev(
            2,
            0,
            "PassStateEntered",
            json!({"name": "Start", "input": "{}"}),
        ),
        ev(
            3,
            2,
            "PassStateExited",
            json!({"name": "Start", "output": "[1]"}),
        ),
        ev(
            4,
            3,
            "MapStateEntered",
            json!({"name": "MapState", "input": "[1]"}),
        ),
        ev(5, 4, "MapStateStarted", json!({"length": 1})),
        ev(
            6,
            5,
            "MapIterationStarted",
            json!({"name": "MapState", "index": 0}),
        ),
        ev(
            7,
            6,
            "FailStateEntered",
            json!({"name": "HandleItemFail", "input": "1"}),
        ),
        ev(
            8,
            7,
            "MapIterationFailed",
            json!({"name": "MapState", "index": 0}),
        ),
        ev(9, 7, "MapStateFailed", Value::Null),
        ev(
            10,
            9,
            "MapStateExited",
            json!({"name": "MapState", "output": "{}"}),
        ),
        ev(
            11,
            10,
            "PassStateEntered",
            json!({"name": "FinalCaught", "input": "{}"}),
        ),
        ev(
            12,
            11,
            "PassStateExited",
            json!({"name": "FinalCaught", "output": "{}"}),
        ),
        ev(13, 12, "ExecutionSucceeded", json!({"output": "{}"})),
    ];
    let p = read(&def, &events);
    let s = p.statuses(0);
    assert_eq!(s["Start"], "succeeded");
    assert_eq!(s["MapState"], "caught");
    assert_eq!(s["HandleItemFail"], "failed");
    assert_eq!(s["FinalCaught"], "succeeded");
    assert!(!s.contains_key("Final"));
    let map = p.state("MapState").unwrap();
    let its = p.iterations(0, map);
    assert_eq!(its.len(), 1);
    assert_eq!((its[0].0, its[0].1), (0, IterationStatus::Failed));
    assert_eq!(p.describe_path(its[0].2), [("MapState".to_string(), 0)]);
    assert_eq!(p.find_path(&[("MapState".into(), 0)]), Some(its[0].2));
}

#[test]
fn iterations_are_told_apart_and_retries_counted() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}});
    let events = [
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(
            2,
            0,
            "MapStateEntered",
            json!({"name": "M", "input": "[1,2]"}),
        ),
        ev(3, 2, "MapStateStarted", json!({"length": 2})),
        ev(
            4,
            3,
            "MapIterationStarted",
            json!({"name": "M", "index": 0}),
        ),
        ev(5, 4, "TaskStateEntered", json!({"name": "T", "input": "1"})),
        ev(
            6,
            3,
            "MapIterationStarted",
            json!({"name": "M", "index": 1}),
        ),
        ev(7, 6, "TaskStateEntered", json!({"name": "T", "input": "2"})),
        ev(8, 5, "TaskScheduled", json!({})),
        ev(
            9,
            8,
            "TaskFailed",
            json!({"error": "Boom", "cause": "once"}),
        ),
        ev(10, 9, "TaskScheduled", json!({})),
        ev(11, 10, "TaskSucceeded", json!({"output": "{\"ok\":1}"})),
        ev(
            12,
            11,
            "TaskStateExited",
            json!({"name": "T", "output": "\"one\""}),
        ),
        ev(
            13,
            12,
            "MapIterationSucceeded",
            json!({"name": "M", "index": 0}),
        ),
    ];
    let p = read(&def, &events);
    let m = p.state("M").unwrap();
    let t = p.state("T").unwrap();
    let its = p.iterations(0, m);
    assert_eq!(
        its.iter().map(|i| (i.0, i.1)).collect::<Vec<_>>(),
        [
            (0, IterationStatus::Succeeded),
            (1, IterationStatus::Running)
        ]
    );
    // Overall: one iteration still runs T.
    assert_eq!(p.statuses(0)["T"], "running");
    // Iteration 0 alone: T succeeded after a retry, with the call's result.
    let first = its[0].2;
    assert_eq!(p.statuses(first)["T"], "succeeded");
    let v = p.visit_in_view(t, first).unwrap();
    assert_eq!(v.attempts.len(), 2);
    assert_eq!(v.attempts[0].error.as_deref(), Some("Boom"));
    assert_eq!(v.result.as_deref(), Some("{\"ok\":1}"));
    assert_eq!(v.input.as_deref(), Some("1"));
    assert_eq!(p.statuses(its[1].2)["T"], "running");
}

#[test]
fn an_iteration_left_running_when_its_map_failed_reads_as_aborted() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}}}});
    let events = [
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(2, 0, "MapStateEntered", json!({"name": "M"})),
        ev(3, 2, "MapStateStarted", json!({"length": 2})),
        ev(
            4,
            3,
            "MapIterationStarted",
            json!({"name": "M", "index": 0}),
        ),
        ev(5, 4, "WaitStateEntered", json!({"name": "W"})),
        ev(
            6,
            3,
            "MapIterationStarted",
            json!({"name": "M", "index": 1}),
        ),
        ev(7, 6, "WaitStateEntered", json!({"name": "W"})),
        ev(8, 7, "MapIterationFailed", json!({"name": "M", "index": 1})),
        ev(9, 7, "MapStateFailed", Value::Null),
        ev(10, 9, "MapStateExited", json!({"name": "M"})),
    ];
    let mut p = read(&def, &events);
    let m = p.state("M").unwrap();
    let its: Vec<_> = p.iterations(0, m).iter().map(|i| (i.0, i.1)).collect();
    assert_eq!(
        its,
        [(1, IterationStatus::Failed), (0, IterationStatus::Aborted)]
    );
    let first = p.find_path(&[("M".into(), 0)]).unwrap();
    assert_eq!(p.statuses(first)["W"], "cancelled");
    assert_eq!(p.statuses(0)["M"], "caught");
    p.apply(&ev(11, 10, "ExecutionSucceeded", json!({})));
    assert_eq!(p.ended, Some("SUCCEEDED"));
}

#[test]
fn a_caught_parallel_failure_cancels_the_other_branch() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "After", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}],
            "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9, "End": true}}},
                {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x", "End": true}}}]},
        "After": {"Type": "Pass", "End": true}}});
    let events = [
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(2, 0, "ParallelStateEntered", json!({"name": "P"})),
        ev(3, 2, "ParallelStateStarted", Value::Null),
        ev(4, 3, "WaitStateEntered", json!({"name": "W"})),
        ev(5, 3, "TaskStateEntered", json!({"name": "T"})),
        ev(6, 5, "TaskScheduled", json!({})),
        ev(7, 6, "TaskFailed", json!({"error": "Nope"})),
        // No name: AWS's abort of the failed Task points at its failure.
        ev(8, 7, "TaskStateAborted", Value::Null),
        ev(9, 7, "ParallelStateFailed", Value::Null),
        ev(10, 9, "ParallelStateExited", json!({"name": "P"})),
        ev(11, 10, "PassStateEntered", json!({"name": "After"})),
    ];
    let p = read(&def, &events);
    let s = p.statuses(0);
    assert_eq!(s["T"], "failed");
    assert_eq!(s["W"], "cancelled");
    assert_eq!(s["P"], "caught");
    assert_eq!(s["After"], "running");
}

#[test]
fn a_stopped_execution_cancels_what_ran_and_a_failure_fails_its_state() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9, "End": true}}},
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "x", "End": true}}}]}}});
    let events = [
        ev(1, 0, "ExecutionStarted", json!({})),
        ev(2, 0, "ParallelStateEntered", json!({"name": "P"})),
        ev(3, 2, "ParallelStateStarted", Value::Null),
        ev(4, 3, "WaitStateEntered", json!({"name": "W"})),
        ev(5, 3, "TaskStateEntered", json!({"name": "T"})),
        ev(6, 5, "TaskScheduled", json!({})),
        ev(7, 6, "TaskFailed", json!({"error": "Nope"})),
        // As AWS records it: the failed Task and the others still running aborted.
        ev(8, 7, "TaskStateAborted", json!({"name": "T"})),
        ev(9, 7, "WaitStateAborted", json!({"name": "W"})),
        ev(10, 7, "ParallelStateFailed", json!({"error": "Nope"})),
        ev(11, 10, "ExecutionFailed", json!({"error": "Nope"})),
    ];
    let p = read(&def, &events);
    let s = p.statuses(0);
    assert_eq!(s["T"], "failed");
    assert_eq!(s["W"], "cancelled");
    assert_eq!(s["P"], "failed");
    assert_eq!(p.ended, Some("FAILED"));
}
