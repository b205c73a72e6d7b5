//! The inspector in a real execution: each state's data-flow values (TestState's
//! `inspectionData`) recorded per state entered, only when asked.

use serde_json::{json, Value};
use stepwise_interp::run::VirtualClock;
use stepwise_interp::{
    Command, Event, Execution, ExecutionInfo, Machine, StateInspection, Status, Step,
};

const T0: i64 = 1_700_000_000_000;

fn machine(def: Value) -> std::sync::Arc<Machine> {
    Machine::new(stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("{d:?}")))
}

fn task_of(step: &Step) -> u64 {
    step.commands
        .iter()
        .find_map(|c| match c {
            Command::DispatchTask(t) => Some(t.task),
            _ => None,
        })
        .expect("a task is dispatched")
}

fn record<'a>(all: &'a [StateInspection], name: &str) -> &'a StateInspection {
    all.iter()
        .find(|r| r.state_name == name)
        .unwrap_or_else(|| panic!("no record of {name}: {all:?}"))
}

fn flow() -> Value {
    json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": "$.order", "Parameters": {"id.$": "$.id"},
              "ResultPath": "$.picked", "Assign": {"seen.$": "$.id"}, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "ResultSelector": {"code.$": "$.Payload.code"}, "ResultPath": "$.charge",
              "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 2}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "M"}], "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.order.lines",
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
              "ResultPath": "$.lines", "End": true}}})
}

#[test]
fn an_inspected_execution_records_each_state() {
    let mut clock = VirtualClock::new(T0, 1);
    let input = json!({"order": {"id": 7, "lines": [1, 2]}});
    let (mut ex, step) = Execution::start_inspected(
        machine(flow()),
        ExecutionInfo::local("M", "e"),
        input.clone(),
        &mut clock,
    );
    let task = task_of(&step);
    // The task fails once with a retriable error, then succeeds.
    let step = ex.handle(
        Event::TaskFailed {
            task,
            error: "Busy".into(),
            cause: "try later".into(),
        },
        &mut clock,
    );
    let retry = step
        .commands
        .iter()
        .find_map(|c| match c {
            Command::ArmTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .expect("retry timer");
    let mut all = ex.take_inspections();
    clock.now += 2_000;
    let step = ex.handle(Event::TimerFired { timer: retry }, &mut clock);
    let task = task_of(&step);
    ex.handle(
        Event::TaskSucceeded {
            task,
            output: json!({"Payload": {"code": "ok"}}),
        },
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Succeeded);
    // A state still running when records were taken goes on in a second record.
    for later in ex.take_inspections() {
        match all.iter_mut().find(|r| {
            r.entered_event_id == later.entered_event_id
                && r.child_execution_arn == later.child_execution_arn
        }) {
            Some(r) => r.merge(later),
            None => all.push(later),
        }
    }

    let p = &record(&all, "P").data;
    assert_eq!(p.input, Some(input.clone()));
    assert_eq!(p.after_input_path, Some(json!({"id": 7, "lines": [1, 2]})));
    assert_eq!(p.after_parameters, Some(json!({"id": 7})));
    assert_eq!(p.after_result_selector, Some(json!({"id": 7})));
    let after_p = json!({"order": {"id": 7, "lines": [1, 2]}, "picked": {"id": 7}});
    assert_eq!(p.after_result_path, Some(after_p.clone()));
    assert_eq!(p.variables, Some(json!({"seen": 7})));

    let t = record(&all, "T");
    assert_eq!(t.data.result, Some(json!({"Payload": {"code": "ok"}})));
    assert_eq!(t.data.after_result_selector, Some(json!({"code": "ok"})));
    assert_eq!(t.error.as_ref().map(|e| e.error.as_str()), Some("Busy"));
    let d = t.data.error_details.clone().unwrap_or_default();
    assert_eq!(
        (
            d.retry_index,
            d.retry_backoff_interval_seconds,
            d.catch_index
        ),
        (Some(0), Some(2), None)
    );

    let m = &record(&all, "M").data;
    assert_eq!(m.after_items_path, Some(json!([1, 2])));
    assert_eq!(m.max_concurrency, Some(0), "0: unlimited");
    assert_eq!(m.after_item_selector, None, "no ItemSelector");
    assert_eq!(m.variables, Some(json!({"seen": 7})));
    // Each iteration's state has its own record.
    assert_eq!(all.iter().filter(|r| r.state_name == "I").count(), 2);
}

#[test]
fn a_map_records_its_items_and_each_iteration() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemsPath": "$.lines", "MaxConcurrency": 2,
              "ToleratedFailureCount": 1,
              "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
              "End": true}}});
    let mut clock = VirtualClock::new(T0, 1);
    let (mut ex, _) = Execution::start_inspected(
        machine(def),
        ExecutionInfo::local("M", "e"),
        json!({"lines": ["a", "b"]}),
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Succeeded);
    let all = ex.take_inspections();
    let m = &record(&all, "M").data;
    assert_eq!(m.after_items_path, Some(json!(["a", "b"])));
    assert_eq!(
        m.after_item_selector,
        Some(json!([{"n": "a", "i": 0}, {"n": "b", "i": 1}]))
    );
    assert_eq!(m.max_concurrency, Some(2));
    assert_eq!(m.tolerated_failure_count, Some(1));
    assert_eq!(
        m.result,
        Some(json!([{"n": "a", "i": 0}, {"n": "b", "i": 1}]))
    );
    let iterations: Vec<&StateInspection> = all.iter().filter(|r| r.state_name == "I").collect();
    assert_eq!(iterations.len(), 2);
    assert_eq!(iterations[1].data.input, Some(json!({"n": "b", "i": 1})));
}

#[test]
fn inspection_is_off_unless_asked() {
    let mut clock = VirtualClock::new(T0, 1);
    let (mut ex, step) = Execution::start(
        machine(flow()),
        ExecutionInfo::local("M", "e"),
        json!({"order": {"id": 7, "lines": [1]}}),
        &mut clock,
    );
    assert!(ex.take_inspections().is_empty());
    // Turned on mid-run, it records from then on.
    ex.set_inspection(true);
    let task = task_of(&step);
    ex.handle(
        Event::TaskSucceeded {
            task,
            output: json!({"Payload": {"code": "ok"}}),
        },
        &mut clock,
    );
    let all = ex.take_inspections();
    let t = record(&all, "T");
    assert_eq!(t.data.input, None, "entered before inspection was on");
    assert_eq!(t.data.after_result_selector, Some(json!({"code": "ok"})));
    assert!(all.iter().any(|r| r.state_name == "M"));
}
