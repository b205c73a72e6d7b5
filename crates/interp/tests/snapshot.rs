//! Snapshots across the conformance corpus: every case runs as `run_to_end` runs it,
//! but after every step the execution's summary must equal the fold of the history so
//! far, and the execution is replaced by one restored from its snapshot. The result
//! must equal an uninterrupted run's.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stepwise_interp::run::{run_to_end, run_to_end_with, Finished, TaskAnswer, VirtualClock};
use stepwise_interp::{
    fold, Execution, ExecutionInfo, HistoryEvent, Machine, SnapshotError, TaskRequest,
};

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/cases"
);
/// As the conformance runner starts its runs.
const START_MILLIS: i64 = 1_735_689_600_000;

fn read_json(p: &Path) -> Option<Value> {
    std::fs::read(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

fn info(dir: &Path) -> ExecutionInfo {
    let express = read_json(&dir.join("meta.json"))
        .and_then(|m| m.get("state_machine_type").cloned())
        .is_some_and(|t| t == "EXPRESS");
    if express {
        ExecutionInfo::local_express(
            "ConformanceMachine",
            "conformance-execution",
            "4f9d2c1e-0000-4000-8000-000000000001",
        )
    } else {
        ExecutionInfo::local("ConformanceMachine", "conformance-execution")
    }
}

fn run(machine: &Arc<Machine>, info: ExecutionInfo, input: &Value) -> Finished {
    run_to_end(
        Arc::clone(machine),
        info,
        input.clone(),
        &mut VirtualClock::new(START_MILLIS, 7),
        &mut Answers,
        &mut (),
        true,
    )
}

/// Answers tasks at once: fails those whose input says `"fail": true` or whose state
/// has been invoked fewer than `"failTimes"` times before; otherwise echoes the input.
/// (The corpus has no Task states; the conformance runner fails every task.)
struct Answers;

impl TaskAnswer for Answers {
    fn answer(&mut self, req: &TaskRequest) -> Result<Value, (String, String)> {
        let fail_times = req.input.get("failTimes").and_then(Value::as_u64);
        if req.input.get("fail") == Some(&json!(true))
            || fail_times.is_some_and(|n| u64::from(req.invocation) < n)
        {
            return Err(("Boom".into(), format!("{} failed", req.state_name)));
        }
        Ok(json!({"done": req.input.clone()}))
    }
}

/// What the interrupted run saw, for coverage checks.
#[derive(Default)]
struct Seen {
    steps: usize,
    max_open_children: usize,
}

/// Run with a summary check and a snapshot round trip after every step; the first
/// problem, if any.
fn run_interrupted(
    machine: &Arc<Machine>,
    info: ExecutionInfo,
    input: &Value,
    seen: &mut Seen,
) -> Result<Finished, String> {
    let mut problem: Option<String> = None;
    let mut steps = 0usize;
    let fin = run_to_end_with(
        Arc::clone(machine),
        info,
        input.clone(),
        &mut VirtualClock::new(START_MILLIS, 7),
        &mut Answers,
        &mut (),
        true,
        &mut |ex: &mut Execution, history: &[HistoryEvent]| {
            steps += 1;
            if problem.is_some() {
                return;
            }
            let (mine, folded) = (ex.summary(), fold(history));
            seen.max_open_children = seen.max_open_children.max(mine.open_children);
            if mine != folded {
                problem = Some(format!(
                    "after step {steps}: summary differs from the fold\n  execution: {mine:?}\n  fold:      {folded:?}"
                ));
            }
            match Execution::restore(Arc::clone(machine), &ex.snapshot()) {
                Ok(back) => *ex = back,
                Err(e) => problem = Some(format!("after step {steps}: restore failed: {e}")),
            }
        },
    );
    seen.steps += steps;
    match problem {
        Some(p) => Err(p),
        None => Ok(fin),
    }
}

fn check_case(dir: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(dir.join("definition.json")).map_err(|e| e.to_string())?;
    // Definitions AWS refuses never start an execution: nothing to snapshot.
    let Ok(def) = stepwise_asl::parse(&text) else {
        return Ok(false);
    };
    let machine = Machine::new(def);
    let input = read_json(&dir.join("input.json")).unwrap_or_else(|| json!({}));
    check_run(&machine, info(dir), &input, &mut Seen::default())?;
    Ok(true)
}

/// An uninterrupted run and an interrupted one must end the same.
fn check_run(
    machine: &Arc<Machine>,
    info: ExecutionInfo,
    input: &Value,
    seen: &mut Seen,
) -> Result<Finished, String> {
    let plain = run(machine, info.clone(), input);
    // The store's JSON text of each event is the API's JSON value, written directly.
    for e in &plain.history {
        for data in [true, false] {
            let (text, value) = (e.aws_json_text(data), e.to_aws_json(data).to_string());
            if text != value {
                return Err(format!("event #{} text differs from its JSON value", e.id));
            }
        }
    }
    let resumed = run_interrupted(machine, info, input, seen)?;
    let same = plain.status == resumed.status
        && plain.output == resumed.output
        && plain.error == resumed.error
        && plain.cause == resumed.cause
        && plain.transitions == resumed.transitions;
    if !same {
        return Err(format!(
            "outcome differs: {:?}/{:?}/{:?}/{:?} vs {:?}/{:?}/{:?}/{:?}",
            plain.status,
            plain.output,
            plain.error,
            plain.cause,
            resumed.status,
            resumed.output,
            resumed.error,
            resumed.cause
        ));
    }
    if plain.history != resumed.history {
        let at = plain
            .history
            .iter()
            .zip(&resumed.history)
            .position(|(a, b)| a != b)
            .unwrap_or(plain.history.len().min(resumed.history.len()));
        return Err(format!("history differs from event #{}", at + 1));
    }
    Ok(resumed)
}

#[test]
fn every_case_survives_a_restore_after_every_step() {
    let Ok(entries) = std::fs::read_dir(CASES) else {
        eprintln!("no conformance cases at {CASES}; skipped");
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("definition.json").is_file())
        .collect();
    dirs.sort();
    let (mut ran, mut refused, mut failures) = (0usize, 0usize, Vec::new());
    for dir in &dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        match std::panic::catch_unwind(|| check_case(dir)) {
            Ok(Ok(true)) => ran += 1,
            Ok(Ok(false)) => refused += 1,
            Ok(Err(why)) => failures.push(format!("{name}: {why}")),
            Err(_) => failures.push(format!("{name}: panicked")),
        }
    }
    eprintln!(
        "{ran} cases ran with a restore after every step; {refused} definitions refused; {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran > 0);
}

fn start(def: Value) -> (Arc<Machine>, Execution) {
    let sm =
        stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("invalid definition: {d:?}"));
    let m = Machine::new(sm);
    let (ex, _) = Execution::start(
        Arc::clone(&m),
        ExecutionInfo::local("M", "e"),
        json!({}),
        &mut VirtualClock::new(START_MILLIS, 1),
    );
    (m, ex)
}

#[test]
fn a_foreign_machine_is_refused() {
    let (_, ex) = start(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
        "P": {"Type": "Pass", "End": true}}}));
    let other = stepwise_asl::parse_value(&json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "End": true}}}))
    .unwrap_or_else(|d| panic!("invalid definition: {d:?}"));
    assert!(matches!(
        Execution::restore(Machine::new(other), &ex.snapshot()),
        Err(SnapshotError::MachineMismatch)
    ));
}

#[test]
fn corrupted_snapshots_are_errors() {
    let (m, ex) = start(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}));
    assert_eq!(ex.open_tasks(), vec![1]);
    let bytes = ex.snapshot();
    assert!(Execution::restore(Arc::clone(&m), &bytes).is_ok());
    for bad in [
        Vec::new(),
        bytes[..bytes.len() / 2].to_vec(),
        b"{\"v\":1}".to_vec(),
        bytes
            .iter()
            .map(|b| if *b == b'1' { b'x' } else { *b })
            .collect(),
        [bytes.as_slice(), b" []"].concat(),
    ] {
        assert!(matches!(
            Execution::restore(Arc::clone(&m), &bad),
            Err(SnapshotError::Decode(_))
        ));
    }
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:work";
const SERVICE: &str = "arn:aws:states:::lambda:invoke";
const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:act";

/// Definitions that keep executions running across many steps: concurrent Map
/// iterations and Parallel branches blocked on tasks and timers, retries, catches,
/// tolerated failures, nested Maps with one name, distributed Maps, timeouts.
fn scenarios() -> Vec<(&'static str, Value, Value)> {
    let worker = json!({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": LAMBDA, "Next": "Nap",
                 "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 2}]},
        "Nap": {"Type": "Wait", "SecondsPath": "$.done.wait", "Next": "Done"},
        "Done": {"Type": "Pass", "End": true}}});
    let items = json!({"items": [
        {"wait": 5}, {"wait": 1}, {"wait": 3, "failTimes": 1}, {"wait": 2}, {"wait": 0}]});
    vec![
        (
            "map of tasks and waits, concurrency 2",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
                "MaxConcurrency": 2, "ItemProcessor": worker, "End": true}}}),
            items.clone(),
        ),
        (
            "map with a tolerated failure",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
                "ToleratedFailureCount": 1, "ItemProcessor": worker, "End": true}}}),
            json!({"items": [{"wait": 4}, {"wait": 1, "fail": true}, {"wait": 2}]}),
        ),
        (
            "map failure caught while other iterations wait",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
                "ItemProcessor": worker, "Next": "After",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}]},
                "After": {"Type": "Wait", "Seconds": 1, "End": true}}}),
            json!({"items": [{"wait": 9}, {"wait": 0}, {"wait": 0, "fail": true}]}),
        ),
        (
            "parallel branches of tasks, waits and choices",
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Next": "Last",
                "Branches": [
                    {"StartAt": "A1", "States": {
                        "A1": {"Type": "Task", "Resource": SERVICE, "Parameters": {"wait": 3}, "Next": "A2"},
                        "A2": {"Type": "Wait", "Seconds": 3, "End": true}}},
                    {"StartAt": "B1", "States": {
                        "B1": {"Type": "Wait", "Seconds": 1, "Next": "B2"},
                        "B2": {"Type": "Task", "Resource": ACTIVITY, "HeartbeatSeconds": 5,
                               "TimeoutSeconds": 60, "End": true}}},
                    {"StartAt": "C1", "States": {
                        "C1": {"Type": "Choice", "Default": "C2",
                               "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "C3"}]},
                        "C2": {"Type": "Wait", "Seconds": 2, "Next": "C3"},
                        "C3": {"Type": "Succeed"}}}]},
                "Last": {"Type": "Pass", "End": true}}}),
            json!({"x": 0}),
        ),
        (
            "task retried then caught",
            json!({"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": LAMBDA, "Next": "Ok",
                      "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
                "Ok": {"Type": "Pass", "End": true},
                "Caught": {"Type": "Wait", "Seconds": 1, "Next": "Ok"}}}),
            json!({"failTimes": 5}),
        ),
        (
            "nested maps sharing a name",
            json!({"StartAt": "Outer", "States": {"Outer": {"Type": "Map", "ItemsPath": "$.rows",
                "ItemSelector": {"items.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Inner", "States": {
                    "Inner": {"Type": "Map", "ItemsPath": "$.items",
                              "ItemSelector": {"wait.$": "$$.Map.Item.Value"},
                              "ItemProcessor": {"StartAt": "W", "States": {
                                  "W": {"Type": "Wait", "SecondsPath": "$.wait", "End": true}}},
                              "End": true}}},
                "End": true}}}),
            json!({"rows": [[3, 1], [2], [4, 0, 1]]}),
        ),
        (
            "a failing inner map fails its outer iteration",
            json!({"StartAt": "Outer", "States": {"Outer": {"Type": "Map", "ItemsPath": "$.rows",
                "ToleratedFailureCount": 1,
                "ItemSelector": {"items.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Inner", "States": {
                    "Inner": {"Type": "Map", "ItemsPath": "$.items",
                              "ItemProcessor": worker, "End": true}}},
                "End": true}}}),
            json!({"rows": [[{"wait": 1}, {"wait": 2, "fail": true}], [{"wait": 3}]]}),
        ),
        (
            "distributed map",
            json!({"StartAt": "D", "States": {"D": {"Type": "Map", "ItemsPath": "$.items",
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                    "ExecutionType": "STANDARD"},
                    "StartAt": "Work", "States": {
                        "Work": {"Type": "Task", "Resource": LAMBDA, "Next": "Nap"},
                        "Nap": {"Type": "Wait", "SecondsPath": "$.done.wait", "End": true}}},
                "Next": "After"},
                "After": {"Type": "Wait", "Seconds": 2, "End": true}}}),
            items,
        ),
        (
            "execution timeout while branches wait",
            json!({"TimeoutSeconds": 4, "StartAt": "P", "States": {"P": {"Type": "Parallel",
                "End": true, "Branches": [
                    {"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 2, "End": true}}},
                    {"StartAt": "W2", "States": {"W2": {"Type": "Wait", "Seconds": 9, "End": true}}}]}}}),
            json!({}),
        ),
        (
            "jsonata wait failing inside a map iteration",
            json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map",
                "Items": "{% $states.input.items %}", "ToleratedFailurePercentage": 50,
                "ItemProcessor": {"StartAt": "W", "States": {
                    "W": {"Type": "Wait", "Seconds": "{% $states.input.wait %}", "End": true}}},
                "End": true}}}),
            json!({"items": [{"wait": 2}, {"wait": "soon"}, {"wait": 1}]}),
        ),
    ]
}

#[test]
fn long_running_scenarios_survive_a_restore_after_every_step() {
    let mut seen = Seen::default();
    let mut failures = Vec::new();
    for (name, def, input) in scenarios() {
        let sm = match stepwise_asl::parse_value(&def) {
            Ok(sm) => sm,
            Err(d) => {
                failures.push(format!("{name}: invalid definition {d:?}"));
                continue;
            }
        };
        let machine = Machine::new(sm);
        let before = seen.steps;
        match check_run(&machine, ExecutionInfo::local("M", "e"), &input, &mut seen) {
            Ok(_) if seen.steps - before < 3 => {
                failures.push(format!("{name}: only {} steps", seen.steps - before))
            }
            Ok(_) => {}
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The scenarios must really stop with several children in flight.
    assert!(seen.max_open_children >= 3, "{}", seen.max_open_children);
}

/// The one thing history cannot show (see `fold`'s module docs): a Parallel whose
/// branch failed discards its other branches and waits to retry; a Task gets
/// `TaskStateAborted` (as the failed Task itself does), but a Wait gets no event, so
/// until the retry starts the fold still sees that branch running.
#[test]
fn a_parallel_waiting_to_retry_is_the_known_blind_spot() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 5}],
        "Branches": [
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}},
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}]}}});
    let sm = stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("{d:?}"));
    let machine = Machine::new(sm);
    let mut diffs = Vec::new();
    let fin = run_to_end_with(
        Arc::clone(&machine),
        ExecutionInfo::local("M", "e"),
        json!({"failTimes": 1}),
        &mut VirtualClock::new(START_MILLIS, 7),
        &mut Answers,
        &mut (),
        true,
        &mut |ex: &mut Execution, history: &[HistoryEvent]| {
            let (mine, folded) = (ex.summary(), fold(history));
            if mine != folded {
                // Only stale branches of the Parallel differ.
                let extra: Vec<&str> = folded
                    .open_states
                    .iter()
                    .filter(|(id, _)| !mine.open_states.contains_key(id))
                    .map(|(_, s)| &*s.name)
                    .collect();
                assert_eq!(
                    mine.open_states.len() + extra.len(),
                    folded.open_states.len()
                );
                diffs.push(extra.join(","));
            }
            if let Ok(back) = Execution::restore(Arc::clone(&machine), &ex.snapshot()) {
                *ex = back;
            }
        },
    );
    // Differs from the failure until the retry starts (the aborted Wait's timer still
    // fires in between: the step function drops it without a CancelTimer command).
    assert!(
        !diffs.is_empty() && diffs.iter().all(|d| d == "W"),
        "{diffs:?}"
    );
    assert_eq!(fin.status, stepwise_interp::Status::Succeeded);
}
