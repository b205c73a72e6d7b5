//! The execution: a value stepped by events.
//!
//! An [`Execution`] holds a tree of *frames*: the top-level state machine, each running
//! Parallel branch and each running Map iteration. A frame is either ready to enter a
//! state, or inside one and blocked on a timer, a task or its child frames. `handle`
//! applies one [`Event`], runs every frame that can move until all are blocked, and
//! returns the new [`HistoryEvent`]s and the [`Command`]s the edges must carry out.
//! Nothing here sleeps, reads a clock or does I/O: time and ids come from [`Sources`].
//!
//! One file per construct: `run_loop` (start, events, frames, entering and leaving
//! states), `dataflow` (the fields every state shares), `pass`, `choice`, `wait`,
//! `succeed_fail`, `task`, `retry_catch`, `parallel`, `map`, `item_batcher`, `fanout`
//! (the children of Parallel and Map), `map_run` (Distributed Map child executions),
//! `timers`. Around them: `step` (what crosses the edge), `machine`, `inspect` (the
//! data-flow recorder), `single_state` (one state alone, for TestState), `snapshot` and
//! `redrive`.

use crate::history::{
    ActivityScheduledDetails, Details, EvaluationFailedDetails, EventType, HistoryEvent,
    LambdaFunctionScheduledDetails, TaskFailureDetails, TaskOutputDetails, TaskScheduledDetails,
};
use crate::timefmt;
use dataflow::{error_output, Env};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use stepwise_asl::{
    Assign, Catcher, Dyn, InputOutput, JitterStrategy, MapSelector, ProcessorMode, QueryLanguage,
    State, StateKind, StateMachine, States, Transition, Wait as WaitDef,
};
use stepwise_expr::error::names;
use stepwise_expr::{Sources, StatesError, Variables, MAX_JSON_DEPTH};
use stepwise_jsonata::{JsonataEvalError, JsonataScope};

mod choice;
mod dataflow;
mod fanout;
mod inspect;
mod item_batcher;
mod machine;
mod map;
mod map_run;
mod parallel;
mod pass;
mod redrive;
mod retry_catch;
mod run_loop;
mod single_state;
mod sitting;
mod snapshot;
mod step;
mod succeed_fail;
mod task;
mod timers;
mod wait;

pub use inspect::{InspectionData, InspectionErrorDetails, StateInspection};
pub use machine::{ExecutionInfo, Machine};
pub use map_run::{ChildChange, ChildExecution, Counts, MapRunInfo};
pub use redrive::{RedriveError, REDRIVE_MAX_EVENTS};
pub use single_state::TaskCaller;
pub use sitting::{Sitting, Waiting};
pub use snapshot::SnapshotError;
pub use step::{Command, Event, Status, Step, TaskRequest, MAX_TRANSITIONS_PER_STEP};

use dataflow::as_long;
use fanout::{child_start, FanKind, Fanout};
use inspect::{record, Inspector};
use map_run::map_run_id;
use redrive::{FanPoint, Point};
pub(crate) use single_state::{Alone, AloneOutcome, SingleState};
use task::TaskWait;

type FrameId = usize;

/// How a frame ended: its output, or its error and where it stopped (for a redrive).
type Outcome = Result<Arc<Value>, (StatesError, Option<Point>)>;

/// AWS's limit on the duration of an EXPRESS execution, in seconds.
pub const EXPRESS_MAX_SECONDS: u64 = 300;

/// AWS's limit on the history of a Standard execution.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// A failure while running a state, plus where AWS reports it.
struct Failure {
    err: StatesError,
    /// `evaluationFailedEventDetails.location` for JSONata evaluation errors.
    location: Option<String>,
    /// Whether the error text gets "An error occurred while executing the state …".
    prefixed: bool,
    /// A Parallel/Map failed because of a child: where its children stopped (kept for
    /// a redrive should the state fail for good).
    fan: Option<Box<FanPoint>>,
}

impl Failure {
    fn plain(err: StatesError) -> Failure {
        Failure {
            err,
            location: None,
            prefixed: false,
            fan: None,
        }
    }
    fn eval(err: StatesError) -> Failure {
        Failure {
            err,
            location: None,
            prefixed: true,
            fan: None,
        }
    }
    fn at(err: StatesError, location: &str) -> Failure {
        Failure {
            err,
            location: Some(location.to_string()),
            prefixed: true,
            fan: None,
        }
    }
}

impl From<JsonataEvalError> for Failure {
    fn from(e: JsonataEvalError) -> Failure {
        Failure {
            err: e.error,
            location: Some(e.location),
            prefixed: true,
            fan: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
enum Stage {
    Ready { state: usize, input: Arc<Value> },
    Active(Box<Active>),
    Finished,
}

#[derive(Debug, Serialize, Deserialize)]
struct Active {
    state: usize,
    /// The raw state input (shared with its StateEntered event).
    input: Arc<Value>,
    entered_id: u64,
    entered_prev: u64,
    entered_millis: i64,
    retries: Vec<u32>,
    wait: Blocked,
}

#[derive(Debug, Serialize, Deserialize)]
enum Blocked {
    Nothing,
    /// A Wait state's timer; the output is already computed.
    WaitTimer {
        timer: u64,
        output: Arc<Value>,
        assigned: Option<Value>,
    },
    RetryTimer {
        timer: u64,
    },
    Task(Box<TaskWait>),
    Fanout(Box<Fanout>),
}

#[derive(Debug, Serialize, Deserialize)]
struct Frame {
    parent: Option<(FrameId, usize)>,
    /// Path from the root `States` to this frame's: (state index, branch index) pairs.
    path: Arc<[(u32, u32)]>,
    vars: Map<String, Value>,
    last: u64,
    /// The Distributed Map child execution whose history this frame's events go to
    /// (`None`: the execution's own history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sink: Option<u32>,
    stage: Stage,
}

/// One execution of a state machine. It serializes (without its machine) for
/// [`Execution::snapshot`]; see the `snapshot` module.
#[derive(Debug, Serialize)]
pub struct Execution {
    #[serde(skip)]
    machine: Arc<Machine>,
    info: Arc<ExecutionInfo>,
    input: Arc<Value>,
    start_millis: i64,
    status: Status,
    output: Option<Arc<Value>>,
    error: Option<String>,
    cause: Option<String>,
    frames: Vec<Option<Frame>>,
    free: Vec<FrameId>,
    runnable: VecDeque<FrameId>,
    next_event_id: u64,
    next_timer: u64,
    next_task: u64,
    timers: HashMap<u64, FrameId>,
    tasks: HashMap<u64, FrameId>,
    execution_timer: Option<u64>,
    invocations: HashMap<String, u32>,
    map_runs: u32,
    transitions: u64,
    /// StateEntered events recorded here (`transitions` also counts the states of
    /// distributed Map runs, whose events belong to child executions).
    recorded_entered: u64,
    /// Where the execution stopped when it failed (for [`Execution::redrive`]); stopped
    /// and timed-out executions keep their frames instead.
    redrive_point: Option<Box<Point>>,
    /// Every Distributed Map run started so far.
    runs: Vec<MapRunInfo>,
    /// Distributed Map child executions still running, by number.
    children: BTreeMap<u32, ChildExecution>,
    next_child: u32,
    /// Children that ended unsuccessfully, by Map Run ARN and item index: a redrive of
    /// their Map Run runs them again under the same ARN.
    /// (Keyed `INDEX:MAP_RUN_ARN`: snapshot JSON wants string keys.)
    unsuccessful: BTreeMap<String, ChildExecution>,
    /// Events and commands produced by the current step.
    #[serde(skip)]
    out: Step,
    /// `transitions` when the current step began (for [`MAX_TRANSITIONS_PER_STEP`]).
    #[serde(skip)]
    step_from: u64,
    now: i64,
    /// Set while TestState runs one state alone (never for an execution).
    #[serde(skip)]
    single: Option<Box<SingleState>>,
    /// Set while the data flow of each state is recorded (off by default).
    #[serde(skip)]
    inspector: Option<Box<Inspector>>,
}

/// How an execution (or a Distributed Map child) ended, for its last event.
#[derive(Debug, Default)]
struct End {
    output: Option<Arc<Value>>,
    error: Option<String>,
    cause: Option<String>,
}

impl End {
    /// `Err` of a frame: empty error and cause texts are left out, as AWS does.
    fn failure(e: StatesError) -> End {
        End {
            output: None,
            error: (!e.error.is_empty()).then_some(e.error),
            cause: (!e.cause.is_empty()).then_some(e.cause),
        }
    }

    fn event(&self, status: Status) -> (EventType, Details) {
        let failure = || Details::Failure {
            error: self.error.clone(),
            cause: self.cause.clone(),
        };
        match status {
            Status::Succeeded => (
                EventType::ExecutionSucceeded,
                Details::Output {
                    output: self.output.clone().unwrap_or_else(|| Arc::new(Value::Null)),
                },
            ),
            Status::Failed => (EventType::ExecutionFailed, failure()),
            Status::TimedOut => (EventType::ExecutionTimedOut, failure()),
            Status::Running | Status::Aborted => (EventType::ExecutionAborted, failure()),
        }
    }
}

/// Resolve a frame path to its `States`.
pub(crate) fn states_at<'a>(def: &'a StateMachine, path: &[(u32, u32)]) -> &'a States {
    let mut states = &def.states;
    for &(si, bi) in path {
        states = match &states.states[si as usize].kind {
            StateKind::Parallel(p) => &p.branches[bi as usize],
            StateKind::Map(m) => &m.processor,
            _ => states,
        };
    }
    states
}

struct VarChain<'a> {
    frames: &'a [Option<Frame>],
    start: FrameId,
}

impl Variables for VarChain<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        let mut id = Some(self.start);
        while let Some(f) = id.and_then(|i| self.frames.get(i)).and_then(|f| f.as_ref()) {
            if let Some(v) = f.vars.get(name) {
                return Some(v);
            }
            id = f.parent.map(|p| p.0);
        }
        None
    }
}

enum Flow {
    Next(usize, Arc<Value>),
    End(Arc<Value>),
    Blocked,
    Failed(Failure),
    /// The frame already finished (a Fail state, or an error handled by a parent).
    Done,
}

fn unreachable_frame(id: FrameId) -> ! {
    // Frames are only addressed through ids this module handed out and still holds.
    panic!("internal error: frame {id} does not exist")
}

impl Execution {
    /// Whether `timer` is the execution's own time limit (machine `TimeoutSeconds`, or
    /// an EXPRESS execution's five minutes), not a state's.
    pub fn is_execution_timer(&self, timer: u64) -> bool {
        self.execution_timer == Some(timer)
    }

    /// The resource of the Task whose `TimeoutSeconds` or `HeartbeatSeconds` timer
    /// `timer` is (the edge may keep those real when other waits are scaled).
    pub fn task_timer_resource(&self, timer: u64) -> Option<&str> {
        let fid = *self.timers.get(&timer)?;
        let frame = self.frames.get(fid)?.as_ref()?;
        let Stage::Active(a) = &frame.stage else {
            return None;
        };
        let Blocked::Task(tw) = &a.wait else {
            return None;
        };
        if tw.timeout_timer != Some(timer) && tw.heartbeat_timer != Some(timer) {
            return None;
        }
        match &states_at(&self.machine.definition, &frame.path)
            .get(a.state)
            .kind
        {
            StateKind::Task(t) => Some(t.resource.as_str()),
            _ => None,
        }
    }

    /// Whether states are ready to run: the last step yielded ([`Command::Continue`]),
    /// so [`Event::Continue`] goes on (also after a restore from its snapshot).
    pub fn has_runnable(&self) -> bool {
        self.status == Status::Running && !self.runnable.is_empty()
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn output(&self) -> Option<&Value> {
        self.output.as_deref()
    }

    /// The output, taken out of an execution that is done with (copied only while
    /// something else, such as a kept history event, still shares it).
    pub fn into_output(self) -> Option<Value> {
        self.output.map(Arc::unwrap_or_clone)
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    pub fn info(&self) -> &ExecutionInfo {
        &self.info
    }

    pub fn start_millis(&self) -> i64 {
        self.start_millis
    }

    /// States entered so far (a state transition each).
    pub fn transitions(&self) -> u64 {
        self.transitions
    }
}
