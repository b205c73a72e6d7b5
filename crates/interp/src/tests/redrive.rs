//! Unit tests of `exec/redrive.rs` (a child module of it: `super::*` is that file).

use super::*;
use crate::exec::{Event, ExecutionInfo, Machine};
use crate::run::VirtualClock;
use serde_json::json;

fn start(def: Value, input: Value) -> (Execution, VirtualClock) {
    let sm = match stepwise_asl::parse_value(&def) {
        Ok(sm) => sm,
        Err(d) => panic!("invalid definition: {d:?}"),
    };
    let mut clock = VirtualClock::new(1_000, 1);
    let (ex, _) = Execution::start(
        Machine::new(sm),
        ExecutionInfo::local("M", "e"),
        input,
        &mut clock,
    );
    (ex, clock)
}

fn distributed(max_concurrency: u64) -> Value {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "MaxConcurrency": max_concurrency, "ToleratedFailurePercentage": 50,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}}}}})
}

#[test]
fn a_running_map_run_counts_its_items() {
    let (ex, _) = start(distributed(1), json!([1, 2, 3]));
    let runs = ex.map_runs();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.status, Status::Running);
    assert_eq!(r.start_millis, 1_000);
    assert_eq!(r.stop_millis, None);
    assert_eq!(r.max_concurrency, 1);
    assert_eq!(r.tolerated_failure_percentage, 50.0);
    assert_eq!(r.tolerated_failure_count, 0);
    assert_eq!(
        r.items,
        Counts {
            pending: 2,
            running: 1,
            total: 3,
            ..Counts::default()
        }
    );
}

#[test]
fn update_map_run_raises_concurrency_and_starts_waiting_items() {
    let (mut ex, mut clock) = start(distributed(1), json!([1, 2, 3]));
    let arn = ex.map_runs()[0].arn.clone();
    assert_eq!(ex.map_runs()[0].items.running, 1);
    assert!(ex
        .update_map_run(
            "arn:aws:states:us-east-1:1:mapRun:none/x:y",
            Some(5),
            None,
            None,
            &mut clock
        )
        .is_none());
    let step = ex
        .update_map_run(&arn, Some(0), Some(2), Some(10.0), &mut clock)
        .expect("running map run");
    let r = &ex.map_runs()[0];
    assert_eq!((r.max_concurrency, r.tolerated_failure_count), (0, 2));
    assert_eq!(r.tolerated_failure_percentage, 10.0);
    // The two waiting items started (each arms its Wait timer).
    assert_eq!(r.items.running, 3);
    let armed = step
        .commands
        .iter()
        .filter(|c| matches!(c, crate::exec::Command::ArmTimer { .. }))
        .count();
    assert_eq!(armed, 2);
}

#[test]
fn map_runs_finish_and_stopping_aborts_them() {
    let (mut ex, mut clock) = start(distributed(0), json!([1, 2]));
    // Both iterations wait on timers 1 and 2.
    clock.now += 10_000;
    ex.handle(Event::TimerFired { timer: 1 }, &mut clock);
    let r = &ex.map_runs()[0];
    assert_eq!((r.items.succeeded, r.items.running), (1, 1));
    // Snapshots keep the runs.
    let back = Execution::restore(Arc::clone(&ex.machine), &ex.snapshot());
    assert_eq!(back.map(|b| b.map_runs()).ok(), Some(ex.map_runs()));
    ex.handle(
        Event::Stop {
            error: None,
            cause: None,
        },
        &mut clock,
    );
    let r = &ex.map_runs()[0];
    assert_eq!(r.status, Status::Aborted);
    assert_eq!(r.stop_millis, Some(11_000));
    assert_eq!(
        (r.items.succeeded, r.items.aborted, r.items.running),
        (1, 1, 0)
    );

    let (mut ex, mut clock) = start(distributed(0), json!([1]));
    clock.now += 10_000;
    ex.handle(Event::TimerFired { timer: 1 }, &mut clock);
    assert_eq!(ex.status(), Status::Succeeded);
    let r = &ex.map_runs()[0];
    assert_eq!(r.status, Status::Succeeded);
    assert_eq!(r.items.succeeded, 1);
}

#[test]
fn redrivable_names_the_reason() {
    let (mut ex, mut clock) = start(distributed(0), json!([1]));
    assert_eq!(ex.redrivable(clock.now), Err(RedriveError::Running));
    ex.handle(
        Event::Stop {
            error: None,
            cause: None,
        },
        &mut clock,
    );
    assert_eq!(ex.redrivable(clock.now), Ok(()));
    assert_eq!(
        ex.redrivable(clock.now + MAX_OPEN_MILLIS + 1),
        Err(RedriveError::MaxExecutionTime)
    );
    // A stop inside a Map Run: the redrive reruns the aborted item.
    let step = ex.redrive(&mut clock).map_err(|e| e.to_string());
    let types: Vec<&str> = step
        .as_ref()
        .map(|s| s.events.iter().map(|e| e.event_type.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            "ExecutionRedriven",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunRedriven"
        ]
    );
    let r = &ex.map_runs()[0];
    assert_eq!(r.status, Status::Running);
    assert_eq!(r.redrive_count, 1);
    assert_eq!((r.items.running, r.items.aborted), (1, 0));
    assert_eq!(ex.info().redrive_count, 1);
}
