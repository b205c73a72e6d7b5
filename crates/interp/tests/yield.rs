//! A step runs at most `MAX_TRANSITIONS_PER_STEP` states, then yields with
//! `Command::Continue`; `Event::Continue` goes on where it stopped, also after a restore
//! from the snapshot taken in between. This is what keeps a loop with no Wait or Task
//! (which an EXPRESS execution's lack of a history limit allows) from holding the
//! engine forever; EXPRESS executions end at their five minutes.

use serde_json::{json, Value};
use std::sync::Arc;
use stepwise_interp::exec::{EXPRESS_MAX_SECONDS, MAX_TRANSITIONS_PER_STEP};
use stepwise_interp::run::{run_to_end, NoTasks, VirtualClock};
use stepwise_interp::{Command, Event, Execution, ExecutionInfo, Machine, Status, Step};

fn machine(def: &Value) -> Arc<Machine> {
    let sm = stepwise_asl::parse_value(def).unwrap_or_else(|d| panic!("invalid: {d:?}"));
    Machine::new(sm)
}

/// Counts `$.n` up to `$.to`: two states per round.
fn counter() -> Value {
    serde_json::from_str(include_str!("../../../testdata/loops/counter.json")).unwrap()
}

/// A loop that never ends by itself.
fn forever() -> Value {
    json!({"StartAt": "Spin", "States": {
        "Spin": {"Type": "Pass", "Next": "Again"},
        "Again": {"Type": "Choice",
                  "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "End"}],
                  "Default": "Spin"},
        "End": {"Type": "Succeed"}}})
}

fn yielded(step: &Step) -> bool {
    step.commands.iter().any(|c| matches!(c, Command::Continue))
}

#[test]
fn a_long_loop_yields_and_goes_on_to_the_same_result() {
    // 6,000 rounds: 12,001 states, more than one step holds, under the history limit.
    let input = json!({"n": 0, "to": 6000});
    let m = machine(&counter());
    let mut clock = VirtualClock::new(1_000, 1);
    let (mut ex, step) = Execution::start(
        Arc::clone(&m),
        ExecutionInfo::local("Counter", "e"),
        input.clone(),
        &mut clock,
    );
    assert!(yielded(&step));
    assert_eq!(ex.status(), Status::Running);
    assert!(ex.has_runnable());
    assert_eq!(ex.transitions(), MAX_TRANSITIONS_PER_STEP);
    let mut events = step.events.len();
    // The yielded execution survives a snapshot: the restored copy goes on.
    let mut ex2 = Execution::restore(Arc::clone(&m), &ex.snapshot()).unwrap();
    let a = ex.handle(Event::Continue, &mut clock);
    let b = ex2.handle(Event::Continue, &mut clock);
    assert!(!yielded(&a));
    assert_eq!(a.events, b.events);
    events += a.events.len();
    assert_eq!(ex.status(), Status::Succeeded);
    assert_eq!(ex.output().cloned(), Some(json!({"n": 6000, "to": 6000})));
    assert_eq!(ex.transitions(), 12_001);
    // The history is one chain: ids 1..=N, nothing repeated at the yield.
    assert_eq!(
        a.events.first().map(|e| e.id),
        Some(step.events.len() as u64 + 1)
    );
    assert_eq!(a.events.last().map(|e| e.id), Some(events as u64));

    // run_to_end feeds the Continue itself.
    let fin = run_to_end(
        m,
        ExecutionInfo::local("Counter", "e"),
        input,
        &mut VirtualClock::new(1_000, 1),
        &mut NoTasks,
        &mut (),
        true,
    );
    assert_eq!(fin.status, Status::Succeeded);
    assert_eq!(fin.history.len(), events);
}

#[test]
fn an_express_loop_without_end_times_out_at_five_minutes() {
    let m = machine(&forever());
    let info = ExecutionInfo::local_express("Spin", "e", "00000000-0000-4000-8000-000000000000");
    let mut clock = VirtualClock::new(1_000, 1);
    let (mut ex, step) = Execution::start(Arc::clone(&m), info.clone(), json!({}), &mut clock);
    // Armed at once: the five-minute limit.
    assert!(step.commands.iter().any(|c| matches!(c,
        Command::ArmTimer { due_millis, .. } if *due_millis == 1_000 + EXPRESS_MAX_SECONDS as i64 * 1000)));
    assert!(yielded(&step));
    // Each step is bounded; the execution never ends by itself.
    for _ in 0..3 {
        let s = ex.handle(Event::Continue, &mut clock);
        assert!(yielded(&s));
        assert_eq!(ex.status(), Status::Running);
    }
    assert_eq!(ex.transitions(), 4 * MAX_TRANSITIONS_PER_STEP);

    let fin = run_to_end(m, info, json!({}), &mut clock, &mut NoTasks, &mut (), false);
    assert_eq!(fin.status, Status::TimedOut);
    assert_eq!(fin.error.as_deref(), Some("States.Timeout"));
}

#[test]
fn an_express_machine_timeout_under_five_minutes_still_applies() {
    let mut def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}});
    let info = ExecutionInfo::local_express("W", "e", "00000000-0000-4000-8000-000000000000");
    let run = |def: &Value| {
        run_to_end(
            machine(def),
            info.clone(),
            json!({}),
            &mut VirtualClock::new(0, 1),
            &mut NoTasks,
            &mut (),
            false,
        )
    };
    assert_eq!(run(&def).status, Status::Succeeded);
    def["TimeoutSeconds"] = json!(50);
    assert_eq!(run(&def).status, Status::TimedOut);
    // Longer than five minutes: the five minutes win.
    def["TimeoutSeconds"] = json!(3600);
    def["States"]["W"]["Seconds"] = json!(400);
    assert_eq!(run(&def).status, Status::TimedOut);
}

/// A clock whose edge says the step's time is up after `budget` questions.
struct Budgeted {
    clock: VirtualClock,
    budget: u32,
}

impl stepwise_expr::Sources for Budgeted {
    fn now_millis(&mut self) -> i64 {
        self.clock.now_millis()
    }
    fn uuid(&mut self) -> String {
        self.clock.uuid()
    }
    fn random(&mut self) -> f64 {
        self.clock.random()
    }
    fn out_of_time(&mut self) -> bool {
        self.budget = self.budget.saturating_sub(1);
        self.budget == 0
    }
}

#[test]
fn a_step_out_of_time_yields_between_states() {
    let input = json!({"n": 0, "to": 100});
    let m = machine(&counter());
    let mut src = Budgeted {
        clock: VirtualClock::new(1_000, 1),
        budget: 10,
    };
    let (mut ex, step) = Execution::start(
        Arc::clone(&m),
        ExecutionInfo::local("Counter", "e"),
        input.clone(),
        &mut src,
    );
    // Asked every eighth state: the tenth answer stops the step at the 80th.
    assert!(yielded(&step));
    assert_eq!(ex.status(), Status::Running);
    assert_eq!(ex.transitions(), 80);
    // Each later step makes progress even if the time is already up.
    let mut steps = 1;
    while ex.status() == Status::Running {
        src.budget = 1;
        let before = ex.transitions();
        let s = ex.handle(Event::Continue, &mut src);
        assert!(ex.transitions() > before);
        assert!(yielded(&s) || ex.status() != Status::Running);
        steps += 1;
        assert!(steps < 1_000);
    }
    assert_eq!(ex.status(), Status::Succeeded);
    // The same result as a run that was never cut short.
    let whole = run_to_end(
        m,
        ExecutionInfo::local("Counter", "e"),
        input,
        &mut VirtualClock::new(1_000, 1),
        &mut NoTasks,
        &mut (),
        false,
    );
    assert_eq!(ex.output(), whole.output.as_ref());
    assert_eq!(ex.output(), Some(&json!({"n": 100, "to": 100})));
}
