//! Driving an execution to its end in-process.

use crate::exec::{Command, Event, Execution, ExecutionInfo, Machine, Status, TaskRequest};
use crate::history::HistoryEvent;
use serde_json::Value;
use std::sync::Arc;
use stepwise_expr::Sources;

/// How a task gets its answer when running in-process.
pub trait TaskAnswer {
    /// `Ok(output)` or `Err((error, cause))`.
    fn answer(&mut self, req: &TaskRequest) -> Result<Value, (String, String)>;
}

/// Fails every task: there is nothing to call in-process without mocks.
pub struct NoTasks;

impl TaskAnswer for NoTasks {
    fn answer(&mut self, req: &TaskRequest) -> Result<Value, (String, String)> {
        Err((
            "States.Runtime".into(),
            format!(
                "No task result source for state '{}' (resource '{}'): run with --mock-config FILE --test-case NAME",
                req.state_name, req.resource
            ),
        ))
    }
}

/// Observes progress (for the terminal display).
pub trait Observer {
    fn events(&mut self, _events: &[HistoryEvent]) {}
    /// About to wait until `due_millis` (virtual time).
    fn waiting(&mut self, _due_millis: i64) {}
}

impl Observer for () {}

/// Sources with a virtual clock that jumps over waits.
pub trait Clock: Sources {
    /// Move the clock to at least `millis`, sleeping as configured.
    fn advance_to(&mut self, millis: i64);
}

/// The result of running to the end.
#[derive(Debug)]
pub struct Finished {
    pub status: Status,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<HistoryEvent>,
    pub transitions: u64,
}

/// Run one execution to the end. Tasks are answered by `tasks`; timers fire in due
/// order with the clock advanced to their due time. `keep_history: false` drops the
/// events as they come (the benchmark still builds them, as the engine would).
pub fn run_to_end(
    machine: Arc<Machine>,
    info: impl Into<Arc<ExecutionInfo>>,
    input: Value,
    clock: &mut dyn Clock,
    tasks: &mut dyn TaskAnswer,
    observer: &mut dyn Observer,
    keep_history: bool,
) -> Finished {
    run_to_end_with(
        machine,
        info,
        input,
        clock,
        tasks,
        observer,
        keep_history,
        &mut |_, _| {},
    )
}

/// [`run_to_end`], calling `after_step` after every step with the execution and the
/// history so far (empty without `keep_history`). The hook may replace the execution,
/// as the snapshot tests do with a restored copy.
#[allow(clippy::too_many_arguments)]
pub fn run_to_end_with(
    machine: Arc<Machine>,
    info: impl Into<Arc<ExecutionInfo>>,
    input: Value,
    clock: &mut dyn Clock,
    tasks: &mut dyn TaskAnswer,
    observer: &mut dyn Observer,
    keep_history: bool,
    after_step: &mut dyn FnMut(&mut Execution, &[HistoryEvent]),
) -> Finished {
    let (mut ex, step) = Execution::start(machine, info, input, clock);
    let mut edge = Edge {
        keep_history,
        ..Edge::default()
    };
    edge.absorb(step, tasks, observer);
    after_step(&mut ex, &edge.history);
    // Steps in a row that yielded (Command::Continue) with nothing else happening.
    let mut yields = 0;
    while ex.status() == Status::Running {
        let next = edge.events.pop_front();
        // No wall clock runs here: an execution that keeps yielding (a loop with no Wait
        // or Task, which only an EXPRESS execution's lack of a history limit allows) is
        // taken to have let its time pass, so its next timer (at the latest its five
        // minutes) fires, as it would on a real clock.
        let time_passes = matches!(next, Some(Event::Continue))
            && yields >= YIELDS_BEFORE_TIME_PASSES
            && !edge.timers.is_empty();
        let event = match next {
            Some(e) if !time_passes => {
                yields = if matches!(e, Event::Continue) {
                    yields + 1
                } else {
                    0
                };
                e
            }
            held => {
                if let Some(e) = held {
                    edge.events.push_front(e);
                }
                yields = 0;
                let Some((due, timer)) = edge.timers.pop_first() else {
                    break;
                };
                edge.due.remove(&timer);
                observer.waiting(due);
                clock.advance_to(due);
                Event::TimerFired { timer }
            }
        };
        let step = ex.handle(event, clock);
        edge.absorb(step, tasks, observer);
        after_step(&mut ex, &edge.history);
    }
    let history = edge.history;
    Finished {
        status: ex.status(),
        error: ex.error().map(str::to_string),
        cause: ex.cause().map(str::to_string),
        history,
        transitions: ex.transitions(),
        output: ex.into_output(),
    }
}

/// Yielded steps in a row (each [`crate::exec::MAX_TRANSITIONS_PER_STEP`] states) after
/// which [`run_to_end`] lets virtual time pass.
pub const YIELDS_BEFORE_TIME_PASSES: u32 = 10;

/// What the in-process edge holds between steps: armed timers in due order, events
/// waiting to be fed back, and the history so far.
#[derive(Default)]
struct Edge {
    keep_history: bool,
    history: Vec<HistoryEvent>,
    events: std::collections::VecDeque<Event>,
    timers: std::collections::BTreeSet<(i64, u64)>,
    due: std::collections::HashMap<u64, i64>,
}

impl Edge {
    /// Record a step's events and carry out its commands (tasks are answered at once).
    fn absorb(
        &mut self,
        step: crate::exec::Step,
        tasks: &mut dyn TaskAnswer,
        observer: &mut dyn Observer,
    ) {
        observer.events(&step.events);
        if self.keep_history {
            self.history.extend(step.events);
        }
        for c in step.commands {
            match c {
                Command::ArmTimer { timer, due_millis } => {
                    self.timers.insert((due_millis, timer));
                    self.due.insert(timer, due_millis);
                }
                Command::CancelTimer { timer } => {
                    if let Some(d) = self.due.remove(&timer) {
                        self.timers.remove(&(d, timer));
                    }
                }
                Command::DispatchTask(req) => self.events.push_back(match tasks.answer(&req) {
                    Ok(output) => Event::TaskSucceeded {
                        task: req.task,
                        output,
                    },
                    Err((error, cause)) => Event::TaskFailed {
                        task: req.task,
                        error,
                        cause,
                    },
                }),
                Command::CancelTask { .. } => {}
                // After the events already due (task answers), as the server does.
                Command::Continue => self.events.push_back(Event::Continue),
            }
        }
    }
}

/// A clock for tests and conformance: starts at a fixed instant, jumps over waits
/// without sleeping, and hands out deterministic UUIDs and random numbers.
pub struct VirtualClock {
    pub now: i64,
    counter: u64,
    rng: u64,
}

impl VirtualClock {
    pub fn new(start_millis: i64, seed: u64) -> VirtualClock {
        VirtualClock {
            now: start_millis,
            counter: 0,
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Sources for VirtualClock {
    fn now_millis(&mut self) -> i64 {
        self.now
    }
    fn uuid(&mut self) -> String {
        self.counter += 1;
        let a = self.next_u64();
        let b = self.next_u64();
        format_uuid(a, b)
    }
    fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Clock for VirtualClock {
    fn advance_to(&mut self, millis: i64) {
        if millis > self.now {
            self.now = millis;
        }
    }
}

/// Version-4 UUID text from 128 random bits.
pub fn format_uuid(a: u64, b: u64) -> String {
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}
