//! Distributed Map items run as child executions: each has its own ARN and history,
//! reported in `Step::children` / `Step::child_events`, and none of their events reach
//! the parent's history.

#[allow(dead_code)]
mod common;

use serde_json::{json, Value};
use std::sync::Arc;
use stepwise_interp::run::VirtualClock;
use stepwise_interp::{
    ChildChange, ChildExecution, Event, Execution, ExecutionInfo, HistoryEvent, Machine, Status,
    Step,
};

fn machine(def: &Value) -> Arc<Machine> {
    let sm = stepwise_asl::parse_value(def).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    Machine::new(sm)
}

fn start(def: Value, input: Value) -> (Execution, Step, VirtualClock) {
    let mut clock = VirtualClock::new(1_000, 7);
    let (ex, step) = Execution::start(
        machine(&def),
        ExecutionInfo::local("Parent", "e"),
        input,
        &mut clock,
    );
    (ex, step, clock)
}

fn distributed(processor: Value, extra: Value) -> Value {
    common::distributed_map("Items", processor, extra)
}

/// The children that started (`true`) or ended (`false`) in a step.
fn changes(step: &Step, started: bool) -> Vec<&ChildExecution> {
    step.children
        .iter()
        .filter_map(|c| match (c, started) {
            (ChildChange::Started(c), true) | (ChildChange::Finished(c), false) => Some(c),
            _ => None,
        })
        .collect()
}

fn started(step: &Step) -> Vec<&ChildExecution> {
    changes(step, true)
}

fn finished(step: &Step) -> Vec<&ChildExecution> {
    changes(step, false)
}

/// (id, previousEventId, type) of one child's events in a step.
fn history_of(step: &Step, arn: &str) -> Vec<(u64, u64, &'static str)> {
    step.child_events
        .iter()
        .filter(|(a, _)| &**a == arn)
        .map(|(_, e): &(Arc<str>, HistoryEvent)| (e.id, e.previous_event_id, e.event_type.as_str()))
        .collect()
}

#[test]
fn each_item_is_a_child_execution_with_its_own_history() {
    let def = distributed(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        json!({}),
    );
    let (ex, step, _) = start(def, json!([{"n": 1}, {"n": 2}]));
    assert_eq!(ex.status(), Status::Succeeded);
    let run_arn = ex.map_runs()[0].arn.clone();
    let s = started(&step);
    let f = finished(&step);
    assert_eq!((s.len(), f.len()), (2, 2));
    for (i, c) in f.iter().enumerate() {
        assert!(
            c.arn
                .starts_with("arn:aws:states:us-east-1:123456789012:execution:Parent/Items:"),
            "{}",
            c.arn
        );
        assert_eq!(
            c.state_machine_arn,
            "arn:aws:states:us-east-1:123456789012:stateMachine:Parent/Items"
        );
        assert_eq!(c.map_run_arn, run_arn);
        assert_eq!(c.status, Status::Succeeded);
        assert_eq!(*c.input, json!({"n": i + 1}));
        assert_eq!(c.output.as_deref(), Some(&json!({"n": i + 1})));
        assert!(!c.express);
        assert_eq!(c.history_len, 4);
        assert_eq!(
            history_of(&step, &c.arn),
            vec![
                (1, 0, "ExecutionStarted"),
                (2, 0, "PassStateEntered"),
                (3, 2, "PassStateExited"),
                (4, 3, "ExecutionSucceeded"),
            ]
        );
    }
    assert_ne!(f[0].arn, f[1].arn);
    // The parent's own history has no state of the children.
    assert!(step
        .events
        .iter()
        .all(|e| !e.event_type.as_str().starts_with("Pass")));
}

#[test]
fn a_failing_item_fails_its_child_and_inline_maps_stay_inside_it() {
    let def = distributed(
        json!({"StartAt": "Inner", "States": {"Inner": {"Type": "Map", "Next": "F",
            "ItemsPath": "$.xs",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}},
            "F": {"Type": "Fail", "Error": "Bad", "Cause": "item failed"}}}),
        json!({"ToleratedFailureCount": 1}),
    );
    let (ex, step, _) = start(def, json!([{"xs": [1, 2]}]));
    assert_eq!(ex.status(), Status::Succeeded, "one failure is tolerated");
    let f = finished(&step);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, Status::Failed);
    assert_eq!(f[0].error.as_deref(), Some("Bad"));
    assert_eq!(f[0].cause.as_deref(), Some("item failed"));
    let types: Vec<&str> = history_of(&step, &f[0].arn)
        .into_iter()
        .map(|(_, _, t)| t)
        .collect();
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            // Unlimited concurrency: both iterations start first, as in any history.
            "MapIterationStarted",
            "MapIterationStarted",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "FailStateEntered",
            "ExecutionFailed",
        ]
    );
    // Ids are the child's own, one after another.
    let ids: Vec<u64> = history_of(&step, &f[0].arn).iter().map(|e| e.0).collect();
    assert_eq!(ids, (1..=15).collect::<Vec<u64>>());
}

#[test]
fn stopping_the_parent_aborts_running_children_and_snapshots_keep_them() {
    let def = distributed(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}}),
        json!({"MaxConcurrency": 1}),
    );
    let (ex, step, mut clock) = start(def.clone(), json!([1, 2]));
    // Only one item runs at a time.
    assert_eq!(started(&step).len(), 1);
    let first = started(&step)[0].arn.clone();
    // A restored execution goes on with the same child.
    let mut ex = Execution::restore(machine(&def), &ex.snapshot()).expect("restore");
    clock.now += 10_000;
    let step = ex.handle(Event::TimerFired { timer: 1 }, &mut clock);
    let f = finished(&step);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].arn.clone(), f[0].status),
        (first.clone(), Status::Succeeded)
    );
    assert_eq!(
        history_of(&step, &first),
        vec![(3, 2, "WaitStateExited"), (4, 3, "ExecutionSucceeded")]
    );
    let second = started(&step)[0].arn.clone();
    let step = ex.handle(
        Event::Stop {
            error: None,
            cause: None,
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Aborted);
    let f = finished(&step);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].arn.clone(), f[0].status),
        (second.clone(), Status::Aborted)
    );
    assert_eq!(f[0].stop_millis, Some(11_000));
    assert_eq!(history_of(&step, &second), vec![(3, 2, "ExecutionAborted")]);
}

#[test]
fn a_child_sees_its_own_execution_in_the_context_object() {
    let def = distributed(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Parameters": {
            "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name",
            "input.$": "$$.Execution.Input", "machine.$": "$$.StateMachine.Id",
            "machineName.$": "$$.StateMachine.Name"}}}}),
        json!({"ItemSelector": {"item.$": "$$.Map.Item.Value", "parent.$": "$$.Execution.Id"}}),
    );
    let (ex, step, _) = start(def, json!(["a"]));
    assert_eq!(ex.status(), Status::Succeeded);
    let c = finished(&step)[0];
    let parent = "arn:aws:states:us-east-1:123456789012:execution:Parent:e";
    assert_eq!(
        c.output.as_deref(),
        Some(&json!({
            "id": &*c.arn,
            "name": c.name,
            // The ItemSelector ran in the parent: its context is the parent's.
            "input": {"item": "a", "parent": parent},
            "machine": c.state_machine_arn,
            "machineName": "Parent/Items",
        }))
    );
}

fn dispatched(step: &Step) -> Vec<(u64, Value)> {
    step.commands
        .iter()
        .filter_map(|c| match c {
            stepwise_interp::Command::DispatchTask(t) => Some((t.task, t.input.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_redriven_map_run_runs_its_failed_child_again_under_the_same_arn() {
    let def = distributed(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}),
        json!({}),
    );
    let (mut ex, step, mut clock) = start(def.clone(), json!([1, 2]));
    let tasks = dispatched(&step);
    assert_eq!(tasks.len(), 2);
    let first = ex.handle(
        Event::TaskSucceeded {
            task: tasks[0].0,
            output: json!("one"),
        },
        &mut clock,
    );
    assert_eq!(finished(&first)[0].status, Status::Succeeded);
    let failed = ex.handle(
        Event::TaskFailed {
            task: tasks[1].0,
            error: "Boom".into(),
            cause: "item 2".into(),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Failed);
    let child = finished(&failed)[0].clone();
    assert_eq!((child.status, child.item_index), (Status::Failed, 1));
    // The snapshot keeps what a redrive needs.
    let mut ex = Execution::restore(machine(&def), &ex.snapshot()).expect("restore");
    clock.now += 1_000;
    let step = ex.redrive(&mut clock).expect("redrivable");
    // Only the failed item runs again, as the same child execution.
    assert!(started(&step).is_empty());
    let again: Vec<&ChildExecution> = step
        .children
        .iter()
        .filter_map(|c| match c {
            ChildChange::Redriven(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].arn, child.arn);
    assert_eq!(
        (again[0].status, again[0].redrive_count),
        (Status::Running, 1)
    );
    let n = child.history_len;
    let events = history_of(&step, &child.arn);
    assert_eq!(events[0], (n + 1, n, "ExecutionRedriven"));
    assert_eq!(events[1].2, "TaskStateEntered");
    let tasks = dispatched(&step);
    assert_eq!(tasks.len(), 1);
    let done = ex.handle(
        Event::TaskSucceeded {
            task: tasks[0].0,
            output: json!("two"),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Succeeded);
    assert_eq!(ex.output(), Some(&json!(["one", "two"])));
    let f = finished(&done);
    assert_eq!(
        (f[0].arn.clone(), f[0].status),
        (child.arn.clone(), Status::Succeeded)
    );
    assert_eq!(f[0].redrive_count, 1);
}

/// A child execution that loops without end stops at AWS's history limit, as a
/// Standard execution does: it fails with States.Runtime (a failed item of the Map Run)
/// instead of running forever inside one step.
#[test]
fn a_runaway_child_fails_at_the_history_limit() {
    let def = distributed(
        json!({"StartAt": "Loop", "States": {
            "Loop": {"Type": "Pass", "Next": "Again"},
            "Again": {"Type": "Choice",
                      "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}],
                      "Default": "Loop"},
            "Done": {"Type": "Succeed"}}}),
        json!({"ToleratedFailureCount": 1}),
    );
    let (mut ex, mut step, mut clock) = start(def, json!([{"stop": true}, {"n": 2}]));
    // Steps yield every MAX_TRANSITIONS_PER_STEP states: go on, keeping every step's output.
    let mut yields = 0;
    while ex.has_runnable() {
        let next = ex.handle(Event::Continue, &mut clock);
        step.child_events.extend(next.child_events);
        step.children.extend(next.children);
        yields += 1;
    }
    assert!(yields >= 1);
    assert_eq!(ex.status(), Status::Succeeded, "{:?}", ex.error());
    let ended = finished(&step);
    assert_eq!(ended.len(), 2);
    let runaway = ended.iter().find(|c| c.item_index == 1).unwrap();
    assert_eq!(runaway.status, Status::Failed);
    assert_eq!(runaway.error.as_deref(), Some("States.Runtime"));
    assert!(
        runaway.cause.as_deref().unwrap_or("").contains("25000"),
        "{:?}",
        runaway.cause
    );
    let h = history_of(&step, &runaway.arn);
    assert!(h.len() <= 25_000, "{} events", h.len());
    assert_eq!(h.last().map(|e| e.2), Some("ExecutionFailed"));
    // Ids stay a chain: each event's previous is an earlier event.
    assert!(h.windows(2).all(|w| w[0].0 + 1 == w[1].0));
    let fine = ended.iter().find(|c| c.item_index == 0).unwrap();
    assert_eq!(fine.status, Status::Succeeded);
    assert_eq!(ex.map_runs()[0].items.failed, 1);
}
