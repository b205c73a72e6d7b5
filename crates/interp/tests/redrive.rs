//! Redrive: an execution that failed, timed out or was stopped continues from its
//! unsuccessful states, keeping what succeeded. Every step is checked against the fold
//! of the history and survives a snapshot round trip.

use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use stepwise_interp::run::VirtualClock;
use stepwise_interp::{
    fold, Command, Event, Execution, ExecutionInfo, HistoryEvent, Machine, RedriveError, Status,
    Step, TaskRequest,
};

const T0: i64 = 1_700_000_000_000;
const TASK: &str = "arn:aws:states:::lambda:invoke";

type Answer = Box<dyn FnMut(&TaskRequest) -> Result<Value, (String, String)>>;

/// Drives an execution in-process: tasks are answered at once by `answer`, timers fire
/// in due order. After every step the summary must equal the fold of the history, and
/// the execution is replaced by one restored from its snapshot.
struct Driver {
    machine: Arc<Machine>,
    ex: Execution,
    clock: VirtualClock,
    history: Vec<HistoryEvent>,
    events: VecDeque<Event>,
    timers: BTreeMap<(i64, u64), ()>,
    answer: Answer,
    tasks_seen: Vec<TaskRequest>,
}

impl Driver {
    fn start(def: Value, input: Value, answer: Answer) -> Driver {
        let mut d = Driver::paused(def, input, answer);
        d.run();
        d
    }

    /// Started, nothing handled yet.
    fn paused(def: Value, input: Value, answer: Answer) -> Driver {
        let sm =
            stepwise_asl::parse_value(&def).unwrap_or_else(|d| panic!("invalid definition: {d:?}"));
        let machine = Machine::new(sm);
        let mut clock = VirtualClock::new(T0, 1);
        let (ex, step) = Execution::start(
            Arc::clone(&machine),
            ExecutionInfo::local("M", "e"),
            input,
            &mut clock,
        );
        let mut d = Driver {
            machine,
            ex,
            clock,
            history: Vec::new(),
            events: VecDeque::new(),
            timers: BTreeMap::new(),
            answer,
            tasks_seen: Vec::new(),
        };
        d.absorb(step);
        d
    }

    fn absorb(&mut self, step: Step) {
        for c in &step.commands {
            match c {
                Command::ArmTimer { timer, due_millis } => {
                    self.timers.insert((*due_millis, *timer), ());
                }
                Command::CancelTimer { timer } => self.timers.retain(|(_, t), _| t != timer),
                Command::DispatchTask(req) => {
                    self.tasks_seen.push(req.clone());
                    self.events.push_back(match (self.answer)(req) {
                        Ok(output) => Event::TaskSucceeded {
                            task: req.task,
                            output,
                        },
                        Err((error, cause)) => Event::TaskFailed {
                            task: req.task,
                            error,
                            cause,
                        },
                    });
                }
                Command::CancelTask { task } => self.events.retain(|e| {
                    !matches!(e, Event::TaskSucceeded { task: t, .. } | Event::TaskFailed { task: t, .. } if t == task)
                }),
                Command::Continue => self.events.push_back(Event::Continue),
            }
        }
        self.history.extend(step.events);
        self.check();
    }

    /// Summary = fold, and a snapshot round trip that changes nothing.
    fn check(&mut self) {
        assert_eq!(self.ex.summary(), fold(&self.history), "summary != fold");
        let bytes = self.ex.snapshot();
        let back = Execution::restore(Arc::clone(&self.machine), &bytes)
            .unwrap_or_else(|e| panic!("restore: {e}"));
        // HashMaps serialize in any order: compare as JSON values.
        let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).ok();
        assert!(
            parse(&back.snapshot()) == parse(&bytes),
            "snapshot round trip differs"
        );
        self.ex = back;
    }

    fn run(&mut self) {
        while self.ex.status() == Status::Running {
            let event = if let Some(e) = self.events.pop_front() {
                e
            } else if let Some((&(due, timer), _)) = self.timers.iter().next() {
                self.timers.remove(&(due, timer));
                self.clock.now = self.clock.now.max(due);
                Event::TimerFired { timer }
            } else {
                break;
            };
            let step = self.ex.handle(event, &mut self.clock);
            self.absorb(step);
        }
    }

    fn redrive(&mut self) -> Result<(), RedriveError> {
        self.events.clear();
        self.timers.clear();
        let step = self.ex.redrive(&mut self.clock)?;
        self.absorb(step);
        self.run();
        Ok(())
    }

    fn types_from(&self, id: u64) -> Vec<&'static str> {
        self.history
            .iter()
            .filter(|e| e.id >= id)
            .map(|e| e.event_type.as_str())
            .collect()
    }

    fn entered(&self, name: &str) -> usize {
        self.history
            .iter()
            .filter(|e| {
                e.event_type.as_str().ends_with("StateEntered")
                    && e.to_aws_json(false)["stateEnteredEventDetails"]["name"] == name
            })
            .count()
    }
}

/// Fails a task while `fail(input)` says so; otherwise echoes `{"done": input}`.
fn answer(mut fail: impl FnMut(&TaskRequest) -> bool + 'static) -> Answer {
    Box::new(move |req| {
        if fail(req) {
            Err(("Boom".into(), format!("{} failed", req.state_name)))
        } else {
            Ok(json!({"done": req.input.clone()}))
        }
    })
}

/// A switch the test flips between the first run and the redrive.
fn switch() -> (
    Arc<std::sync::atomic::AtomicBool>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let s = Arc::new(std::sync::atomic::AtomicBool::new(true));
    (Arc::clone(&s), s)
}

fn on(s: &std::sync::atomic::AtomicBool) -> bool {
    s.load(std::sync::atomic::Ordering::SeqCst)
}

fn off(s: &std::sync::atomic::AtomicBool) {
    s.store(false, std::sync::atomic::Ordering::SeqCst)
}

#[test]
fn a_failed_task_is_redriven_and_earlier_states_are_not_rerun() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": TASK, "Next": "V"},
        "V": {"Type": "Pass", "Assign": {"seen": "{% $states.input %}"}, "QueryLanguage": "JSONata", "Next": "B"},
        "B": {"Type": "Task", "Resource": TASK, "Parameters": {"ctx.$": "$$.Execution.RedriveCount", "in.$": "$"}, "Next": "C"},
        "C": {"Type": "Pass", "Parameters": {"seen.$": "$seen", "b.$": "$"}, "End": true}
    }});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!({"x": 1}),
        answer(move |r| r.state_name == "B" && on(&flag)),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    assert_eq!(d.ex.error(), Some("Boom"));
    let failed_id = d.history.len() as u64;
    assert_eq!(d.types_from(failed_id), ["ExecutionFailed"]);
    let b_input = d.tasks_seen.last().map(|t| t.input.clone());
    off(&failing);

    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    assert_eq!(d.ex.info().redrive_count, 1);
    // History continues: ExecutionRedriven after ExecutionFailed, then B again.
    let redriven = &d.history[failed_id as usize];
    assert_eq!(redriven.event_type.as_str(), "ExecutionRedriven");
    assert_eq!(redriven.id, failed_id + 1);
    assert_eq!(redriven.previous_event_id, failed_id);
    assert_eq!(
        redriven.to_aws_json(true)["executionRedrivenEventDetails"]["redriveCount"],
        1
    );
    let next = &d.history[failed_id as usize + 1];
    assert_eq!(next.event_type.as_str(), "TaskStateEntered");
    assert_eq!(next.previous_event_id, redriven.id);
    // A and V ran once; B twice; B's parameters see the redrive count.
    assert_eq!(d.entered("A"), 1);
    assert_eq!(d.entered("V"), 1);
    assert_eq!(d.entered("B"), 2);
    let calls: Vec<&str> = d.tasks_seen.iter().map(|t| t.state_name.as_str()).collect();
    assert_eq!(calls, ["A", "B", "B"]);
    assert_eq!(b_input.map(|v| v["ctx"].clone()), Some(json!(0)));
    let b_again = &d.tasks_seen[2].input;
    assert_eq!(b_again["ctx"], 1);
    // Same input as the first time, and the variable assigned before the failure.
    assert_eq!(b_again["in"], json!({"done": {"x": 1}}));
    assert_eq!(
        d.ex.output().map(|o| o["seen"].clone()),
        Some(json!({"done": {"x": 1}}))
    );
}

#[test]
fn only_the_failed_parallel_branch_runs_again() {
    let task = |n: &str| json!({"StartAt": n, "States": {n: {"Type": "Task", "Resource": TASK, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [task("A"), task("B"), task("C")]}}});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!({"k": 1}),
        answer(move |r| r.state_name == "B" && on(&flag)),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    off(&failing);
    let before = d.tasks_seen.len();
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let again: Vec<&str> = d.tasks_seen[before..]
        .iter()
        .map(|t| t.state_name.as_str())
        .collect();
    // C was running when B failed (aborted): it runs again too; A is kept.
    assert!(!again.contains(&"A"), "{again:?}");
    assert!(again.contains(&"B"), "{again:?}");
    assert_eq!(
        d.ex.output(),
        Some(&json!([{"done": {"k": 1}}, {"done": {"k": 1}}, {"done": {"k": 1}}]))
    );
    let t = d.types_from(d.history.len() as u64 - 2);
    assert_eq!(
        t,
        [
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn a_parallel_branch_that_succeeded_before_the_failure_is_kept() {
    // A succeeds at once; B waits, then fails; only B runs again.
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
    "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": TASK, "End": true}}},
        {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 5, "Next": "B"},
            "B": {"Type": "Task", "Resource": TASK, "End": true}}}
    ]}}});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!(7),
        answer(move |r| r.state_name == "B" && on(&flag)),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    off(&failing);
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let calls: Vec<&str> = d.tasks_seen.iter().map(|t| t.state_name.as_str()).collect();
    assert_eq!(calls, ["A", "B", "B"]);
    // The Wait before B succeeded: not rerun.
    assert_eq!(d.entered("W"), 1);
    assert_eq!(d.entered("P"), 2);
    assert_eq!(d.ex.output(), Some(&json!([{"done": 7}, {"done": 7}])));
}

#[test]
fn an_inline_map_reruns_only_its_failed_iterations() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ToleratedFailureCount": 1,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!([0, 1, 2, 3, 4]),
        answer(move |r| on(&flag) && (r.input == json!(1) || r.input == json!(3))),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    assert_eq!(d.ex.error(), Some("Boom"));
    off(&failing);
    let before = d.tasks_seen.len();
    assert_eq!(before, 5);
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let mut again: Vec<Value> = d.tasks_seen[before..]
        .iter()
        .map(|t| t.input.clone())
        .collect();
    again.sort_by_key(|v| v.as_i64());
    // Iteration 1 failed within tolerance and 3 failed past it: both run again, and 4
    // (still running when the Map failed, so aborted) too; 0 and 2 are kept.
    assert_eq!(again, [json!(1), json!(3), json!(4)]);
    assert_eq!(
        d.ex.output(),
        Some(&json!([{"done": 0}, {"done": 1}, {"done": 2}, {"done": 3}, {"done": 4}]))
    );
    let started: Vec<u64> = d
        .history
        .iter()
        .filter(|e| e.event_type.as_str() == "MapIterationStarted")
        .map(|e| {
            e.to_aws_json(false)["mapIterationStartedEventDetails"]["index"]
                .as_u64()
                .unwrap_or(99)
        })
        .collect();
    assert_eq!(started, [0, 1, 2, 3, 4, 1, 3, 4]);
}

#[test]
fn a_map_with_max_concurrency_starts_the_items_it_never_reached() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!(["a", "b", "c"]),
        answer(move |r| on(&flag) && r.input == json!("b")),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    assert_eq!(d.tasks_seen.len(), 2);
    off(&failing);
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let calls: Vec<Value> = d.tasks_seen.iter().map(|t| t.input.clone()).collect();
    assert_eq!(calls, [json!("a"), json!("b"), json!("b"), json!("c")]);
    assert_eq!(
        d.ex.output(),
        Some(&json!([{"done": "a"}, {"done": "b"}, {"done": "c"}]))
    );
}

#[test]
fn a_fail_state_is_entered_again_and_fails_again() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "F"},
        "F": {"Type": "Fail", "Error": "Nope", "Cause": "always"}
    }});
    let mut d = Driver::start(def, json!({"a": 1}), answer(|_| false));
    assert_eq!(d.ex.status(), Status::Failed);
    let n = d.history.len();
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Failed);
    assert_eq!(d.ex.error(), Some("Nope"));
    assert_eq!(
        d.types_from(n as u64 + 1),
        ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    );
    let entered = d.history[n + 1].to_aws_json(true);
    assert_eq!(entered["stateEnteredEventDetails"]["input"], "{\"a\":1}");
    assert_eq!(d.entered("P"), 1);
    // Redriven again: the count goes on.
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.info().redrive_count, 2);
}

#[test]
fn succeeded_running_and_express_executions_are_not_redrivable() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let mut d = Driver::start(def.clone(), json!(1), answer(|_| false));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let err = d.ex.redrive(&mut d.clock).err();
    assert_eq!(err, Some(RedriveError::Succeeded));
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("Execution is SUCCEEDED and cannot be redriven")
    );

    let wait =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}});
    let sm = stepwise_asl::parse_value(&wait).unwrap_or_else(|d| panic!("{d:?}"));
    let mut clock = VirtualClock::new(T0, 1);
    let (mut ex, _) = Execution::start(
        Machine::new(sm),
        ExecutionInfo::local("M", "e"),
        json!(1),
        &mut clock,
    );
    assert_eq!(ex.redrive(&mut clock).err(), Some(RedriveError::Running));

    let fail = json!({"StartAt": "F", "States": {"F": {"Type": "Fail"}}});
    let sm = stepwise_asl::parse_value(&fail).unwrap_or_else(|d| panic!("{d:?}"));
    let (mut ex, _) = Execution::start(
        Machine::new(sm),
        ExecutionInfo::local_express("M", "e", "id"),
        json!(1),
        &mut clock,
    );
    assert_eq!(ex.status(), Status::Failed);
    assert_eq!(ex.redrive(&mut clock).err(), Some(RedriveError::Express));
}

#[test]
fn the_redrivable_period_is_fourteen_days() {
    let def = json!({"StartAt": "F", "States": {"F": {"Type": "Fail"}}});
    let mut d = Driver::start(def, json!(1), answer(|_| false));
    d.clock.now += 14 * 24 * 3600 * 1000 + 1;
    assert_eq!(
        d.ex.redrive(&mut d.clock).err(),
        Some(RedriveError::RedrivePeriod)
    );
}

#[test]
fn history_limit_failures_are_not_redrivable() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "C"}], "Default": "A"},
        "C": {"Type": "Succeed"}}});
    let mut d = Driver::start(def, json!(1), answer(|_| false));
    assert_eq!(d.ex.status(), Status::Failed);
    assert_eq!(
        d.ex.redrive(&mut d.clock).err(),
        Some(RedriveError::HistoryLimit)
    );
}

#[test]
fn a_stopped_execution_redrives_the_states_that_were_running() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"p": 1}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 100, "Next": "Done"},
        "Done": {"Type": "Pass", "End": true}}});
    let mut d = Driver::paused(def, json!(0), answer(|_| false));
    assert_eq!(d.ex.status(), Status::Running);
    let step = d.ex.handle(
        Event::Stop {
            error: Some("Halt".into()),
            cause: None,
        },
        &mut d.clock,
    );
    d.timers.clear();
    d.absorb(step);
    assert_eq!(d.ex.status(), Status::Aborted);
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    assert_eq!(d.ex.output(), Some(&json!({"p": 1})));
    assert_eq!(d.entered("P"), 1);
    assert_eq!(d.entered("W"), 2);
}

#[test]
fn the_machine_timeout_starts_over_on_redrive() {
    let def = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 8, "Next": "X"},
        "X": {"Type": "Wait", "Seconds": 8, "End": true}}});
    let mut d = Driver::start(def, json!(0), answer(|_| false));
    assert_eq!(d.ex.status(), Status::TimedOut);
    assert_eq!(d.entered("X"), 1);
    d.clock.now += 1_000;
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    // X runs again with a fresh 10 s budget and finishes in 8.
    assert_eq!(d.ex.status(), Status::Succeeded);
    assert_eq!(d.entered("W"), 1);
    assert_eq!(d.entered("X"), 2);
}

#[test]
fn a_failed_execution_survives_a_snapshot_and_is_redriven_from_it() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}},
        {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": true}}}
    ]}}});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!([1, 2, 3]),
        answer(move |r| on(&flag) && r.input == json!(2)),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    // Snapshot, restore into a fresh value, redrive that.
    let bytes = d.ex.snapshot();
    d.ex = Execution::restore(Arc::clone(&d.machine), &bytes).unwrap_or_else(|e| panic!("{e}"));
    off(&failing);
    let before = d.tasks_seen.len();
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let again: Vec<Value> = d.tasks_seen[before..]
        .iter()
        .map(|t| t.input.clone())
        .collect();
    assert!(
        again.contains(&json!(2)) && !again.contains(&json!(1)),
        "{again:?}"
    );
    assert_eq!(
        d.ex.output(),
        Some(&json!([[{"done": 1}, {"done": 2}, {"done": 3}], [1, 2, 3]]))
    );
    assert_eq!(d.entered("Q"), 1);
}

#[test]
fn a_distributed_map_run_is_listed_and_redriven() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "MaxConcurrency": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}}}});
    let (failing, flag) = switch();
    let mut d = Driver::start(
        def,
        json!([1, 2, 3, 4]),
        answer(move |r| on(&flag) && r.input == json!(2)),
    );
    assert_eq!(d.ex.status(), Status::Failed);
    let runs = d.ex.map_runs();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.status, Status::Failed);
    assert_eq!(r.state_name, "M");
    assert_eq!(r.max_concurrency, 2);
    // No Label: a generated one (a UUID), then the run's id.
    let label = r
        .arn
        .split_once(":mapRun:M/")
        .map(|(_, l)| l.split(':').next());
    assert!(
        matches!(label, Some(Some(l)) if l.len() == 36 && l != "M"),
        "{}",
        r.arn
    );
    assert_eq!(r.items.total, 4);
    assert_eq!(r.items.failed, 1);
    assert_eq!(
        r.items.succeeded + r.items.aborted + r.items.pending + r.items.failed,
        4
    );
    assert!(r.stop_millis.is_some());
    off(&failing);
    d.redrive().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.ex.status(), Status::Succeeded);
    let runs = d.ex.map_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, Status::Succeeded);
    assert_eq!(runs[0].redrive_count, 1);
    assert_eq!(runs[0].items.succeeded, 4);
    assert_eq!(runs[0].items.total, 4);
    assert!(d.types_from(0).contains(&"MapRunRedriven"));
    assert_eq!(
        d.ex.output(),
        Some(&json!([{"done": 1}, {"done": 2}, {"done": 3}, {"done": 4}]))
    );
}
