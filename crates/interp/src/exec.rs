//! The execution: a value stepped by events.
//!
//! An [`Execution`] holds a tree of *frames*: the top-level state machine, each running
//! Parallel branch and each running Map iteration. A frame is either ready to enter a
//! state, or inside one and blocked on a timer, a task or its child frames. `handle`
//! applies one [`Event`], runs every frame that can move until all are blocked, and
//! returns the new [`HistoryEvent`]s and the [`Command`]s the edges must carry out.
//! Nothing here sleeps, reads a clock or does I/O: time and ids come from [`Sources`].

use crate::choice;
use crate::dataflow::{self, error_output, Env, MAX_PAYLOAD_BYTES};
use crate::history::{
    ActivityScheduledDetails, Details, EvaluationFailedDetails, EventType, HistoryEvent,
    LambdaFunctionScheduledDetails, TaskFailureDetails, TaskOutputDetails, TaskScheduledDetails,
};
use crate::timefmt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use stepwise_asl::{
    Assign, Catcher, ChoiceRule, Dyn, FilterPath, InputOutput, JitterStrategy, MapSelector,
    ProcessorMode, QueryLanguage, ResultPath, State, StateKind, StateMachine, States, Transition,
    Wait as WaitDef,
};
use stepwise_expr::error::names;
use stepwise_expr::{Sources, StatesError, Variables};
use stepwise_jsonata::{JsonataEvalError, JsonataExpr, JsonataScope, JsonataTemplate};

/// Who and what an execution is: the values of `$$.Execution` and `$$.StateMachine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub region: String,
    pub account: String,
    pub redrive_count: u32,
    /// EXPRESS executions: `…:express:…` ARNs and no `RedriveCount` in the Context object.
    pub express: bool,
}

impl ExecutionInfo {
    /// ARNs in the default account and region for a machine and an execution name.
    pub fn local(state_machine_name: &str, execution_name: &str) -> ExecutionInfo {
        let (region, account) = ("us-east-1", "123456789012");
        ExecutionInfo {
            execution_arn: format!(
                "arn:aws:states:{region}:{account}:execution:{state_machine_name}:{execution_name}"
            ),
            name: execution_name.to_string(),
            state_machine_arn: format!(
                "arn:aws:states:{region}:{account}:stateMachine:{state_machine_name}"
            ),
            state_machine_name: state_machine_name.to_string(),
            role_arn: format!("arn:aws:iam::{account}:role/stepwise"),
            region: region.to_string(),
            account: account.to_string(),
            redrive_count: 0,
            express: false,
        }
    }

    /// An EXPRESS execution: its ARN carries the machine name, the execution name and an id.
    pub fn local_express(
        state_machine_name: &str,
        execution_name: &str,
        id: &str,
    ) -> ExecutionInfo {
        let mut info = ExecutionInfo::local(state_machine_name, execution_name);
        info.execution_arn = format!(
            "arn:aws:states:{}:{}:express:{state_machine_name}:{execution_name}:{id}",
            info.region, info.account
        );
        info.express = true;
        info
    }
}

/// A parsed definition prepared for running many executions.
#[derive(Debug)]
pub struct Machine {
    pub definition: StateMachine,
    /// States (by address) whose expressions read the Context object.
    needs_context: HashMap<usize, bool, BuildAddressHasher>,
}

/// Keys are state addresses: already unique, so hashing them is wasted work.
#[derive(Debug, Default, Clone, Copy)]
struct BuildAddressHasher;

#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_usize(&mut self, n: usize) {
        // Addresses are aligned; mix the high bits down so buckets spread.
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::BuildHasher for BuildAddressHasher {
    type Hasher = AddressHasher;
    fn build_hasher(&self) -> AddressHasher {
        AddressHasher(0)
    }
}

impl Machine {
    pub fn new(definition: StateMachine) -> Arc<Machine> {
        let mut needs_context = HashMap::with_hasher(BuildAddressHasher);
        fn walk(states: &States, out: &mut HashMap<usize, bool, BuildAddressHasher>) {
            for s in &states.states {
                let dbg = format!("{:?}", s);
                out.insert(
                    s as *const State as usize,
                    dbg.contains("$$") || dbg.contains("$states"),
                );
                match &s.kind {
                    StateKind::Parallel(p) => p.branches.iter().for_each(|b| walk(b, out)),
                    StateKind::Map(m) => walk(&m.processor, out),
                    _ => {}
                }
            }
        }
        walk(&definition.states, &mut needs_context);
        Arc::new(Machine {
            definition,
            needs_context,
        })
    }
    fn needs_context(&self, s: &State) -> bool {
        self.needs_context
            .get(&(s as *const State as usize))
            .copied()
            .unwrap_or(true)
    }
}

/// Things that happen to an execution, fed in by the edges.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    TimerFired {
        timer: u64,
    },
    /// An activity worker picked the task up.
    TaskStarted {
        task: u64,
        worker_name: String,
    },
    TaskSucceeded {
        task: u64,
        output: Value,
    },
    TaskFailed {
        task: u64,
        error: String,
        cause: String,
    },
    TaskHeartbeat {
        task: u64,
    },
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
    /// The execution fails at once with this error (its state machine was deleted).
    Terminate {
        error: String,
        cause: String,
    },
    /// Go on after [`Command::Continue`]: nothing happened, there is more to run.
    Continue,
}

/// Work for the edges.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    ArmTimer {
        timer: u64,
        due_millis: i64,
    },
    CancelTimer {
        timer: u64,
    },
    DispatchTask(TaskRequest),
    CancelTask {
        task: u64,
    },
    /// The step stopped after [`MAX_TRANSITIONS_PER_STEP`] states with more to run (a
    /// long loop of Pass and Choice states): feed [`Event::Continue`] when other work
    /// has had its turn.
    Continue,
}

/// States entered in one step before it yields with [`Command::Continue`]. A step runs
/// until every frame is blocked; without this bound, a loop with no Wait or Task in an
/// EXPRESS execution (no history limit) would never return.
pub const MAX_TRANSITIONS_PER_STEP: u64 = 10_000;

/// A Task state's call, as the edges need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    pub task: u64,
    pub state_name: String,
    pub resource: String,
    /// The effective parameters (JSONPath `Parameters` / JSONata `Arguments`).
    pub input: Value,
    /// Set for `.waitForTaskToken` and activities.
    pub token: Option<String>,
    /// How many times this state was invoked before in this execution (0 first).
    pub invocation: u32,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
}

/// The overall status, as DescribeExecution names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

/// What one step produced.
#[derive(Debug, Default)]
pub struct Step {
    pub events: Vec<HistoryEvent>,
    pub commands: Vec<Command>,
    /// Events of Distributed Map child executions, in order, each with its child's ARN
    /// (each child has its own history, ids from 1).
    pub child_events: Vec<(Arc<str>, HistoryEvent)>,
    /// Child executions that started or ended in this step, as they are after it.
    pub children: Vec<ChildChange>,
}

/// A child execution of a Distributed Map: one per item, with its own ARN
/// (`execution:MACHINE/LABEL:NAME`) and history, listed under its Map Run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildExecution {
    pub arn: Arc<str>,
    pub name: String,
    /// `stateMachine:MACHINE/LABEL`.
    pub state_machine_arn: String,
    pub map_run_arn: String,
    /// `ProcessorConfig.ExecutionType` is EXPRESS.
    pub express: bool,
    pub input: Arc<Value>,
    pub start_millis: i64,
    pub status: Status,
    pub stop_millis: Option<i64>,
    pub output: Option<Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Events in its history so far (the id of the last one).
    pub history_len: u64,
    /// Its item's index in the Map Run.
    #[serde(default)]
    pub item_index: u64,
    #[serde(default)]
    pub redrive_count: u32,
    #[serde(default)]
    pub redrive_millis: Option<i64>,
}

/// A change to a [`ChildExecution`] (a child that starts and ends in one step gives both).
#[derive(Debug, Clone, PartialEq)]
pub enum ChildChange {
    Started(ChildExecution),
    /// An unsuccessful child runs again in a redriven Map Run (same ARN, RUNNING again).
    Redriven(ChildExecution),
    Finished(ChildExecution),
}

type FrameId = usize;

// Snapshots need the private frame types; the module lives in its own file.
#[path = "snapshot.rs"]
mod snapshot;
pub use snapshot::SnapshotError;
#[path = "redrive.rs"]
mod redrive;
pub use redrive::REDRIVE_MAX_EVENTS;

/// How a frame ended: its output, or its error and where it stopped (for a redrive).
type Outcome = Result<Arc<Value>, (StatesError, Option<Point>)>;

/// Builds the failure for an unparsable Wait timestamp (wording depends on the field).
type TimestampError = Box<dyn Fn(&str) -> Failure>;

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
struct TaskWait {
    task: u64,
    kind: ResourceKind,
    resource_type: String,
    resource: String,
    /// Effective input (JSONata `$states.input` stays the raw input).
    timeout_timer: Option<u64>,
    heartbeat_timer: Option<u64>,
    heartbeat_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum ResourceKind {
    Service,
    Activity,
    Lambda,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum FanKind {
    Parallel,
    Map,
    MapRun,
}

#[derive(Debug, Serialize, Deserialize)]
struct Fanout {
    kind: FanKind,
    /// Inputs of children not started yet (taken as they start).
    pending: VecDeque<Arc<Value>>,
    next_index: usize,
    total: usize,
    results: Vec<Option<Arc<Value>>>,
    running: usize,
    limit: usize,
    succeeded: usize,
    failed: usize,
    tolerated_count: Option<u64>,
    tolerated_pct: Option<f64>,
    /// The Map's effective input (Parallel: the branch input).
    children: Vec<FrameId>,
    /// Children a redrive runs again, started (by index) before `pending`.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    redo: VecDeque<(usize, Point)>,
    /// Where tolerated failures stopped (a redrive of the whole Map reruns them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tolerated_points: Vec<(usize, Point)>,
    /// Distributed Map: the index of its run in `Execution::runs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<usize>,
}

/// Where a frame stopped when its execution ended unsuccessfully: the state a redrive
/// enters again, with its raw input and the frame's variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Point {
    state: usize,
    input: Arc<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    vars: Map<String, Value>,
    /// Set for a Parallel/Map state that failed because of its children (or was
    /// running them): a redrive keeps the children that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fan: Option<Box<FanPoint>>,
}

/// The children of a Parallel/Map state a redrive resumes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FanPoint {
    kind: FanKind,
    total: usize,
    /// Results of the children that succeeded (kept, not rerun).
    results: Vec<Option<Arc<Value>>>,
    /// Children to run again, by index: failed, aborted or never started.
    redo: Vec<(usize, Point)>,
    limit: usize,
    tolerated_count: Option<u64>,
    tolerated_pct: Option<f64>,
    run: Option<usize>,
}

/// Why [`Execution::redrive`] refused. The texts are AWS's `redriveStatusReason`s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedriveError {
    #[error("Execution is RUNNING and cannot be redriven")]
    Running,
    #[error("Execution is SUCCEEDED and cannot be redriven")]
    Succeeded,
    /// RedriveExecution is not supported for EXPRESS state machines.
    #[error("Execution is EXPRESS and cannot be redriven")]
    Express,
    #[error("Execution history event limit exceeded")]
    HistoryLimit,
    #[error("Execution has exceeded the max execution time")]
    MaxExecutionTime,
    #[error("Execution redrivable period exceeded")]
    RedrivePeriod,
    /// Nothing was recorded to resume from (not expected for a finished execution).
    #[error("Execution has no unsuccessful state to redrive")]
    NothingToRedrive,
}

/// A Distributed Map's run, as DescribeMapRun and ListMapRuns show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRunInfo {
    pub arn: String,
    pub state_name: String,
    /// Running, Succeeded, Failed or Aborted.
    pub status: Status,
    pub start_millis: i64,
    pub stop_millis: Option<i64>,
    /// 0 when unlimited.
    pub max_concurrency: u64,
    pub tolerated_failure_count: u64,
    pub tolerated_failure_percentage: f64,
    /// Items (each one child execution): AWS's `itemCounts` and `executionCounts`.
    pub items: Counts,
    pub redrive_count: u32,
    pub redrive_millis: Option<i64>,
}

/// DescribeMapRun's `itemCounts` / `executionCounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
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
fn states_at<'a>(def: &'a StateMachine, path: &[(u32, u32)]) -> &'a States {
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

impl Execution {
    /// Start an execution. The returned [`Step`] holds `ExecutionStarted` and everything
    /// that ran before the first block. `info` may be shared (`Arc`) by callers that
    /// start many executions with the same identity, such as the benchmark.
    pub fn start(
        machine: Arc<Machine>,
        info: impl Into<Arc<ExecutionInfo>>,
        input: Value,
        sources: &mut dyn Sources,
    ) -> (Execution, Step) {
        let info = info.into();
        let now = sources.now_millis();
        let input = Arc::new(input);
        let mut ex = Execution {
            machine,
            info,
            input: Arc::clone(&input),
            start_millis: now,
            status: Status::Running,
            output: None,
            error: None,
            cause: None,
            frames: Vec::new(),
            free: Vec::new(),
            runnable: VecDeque::new(),
            next_event_id: 1,
            next_timer: 1,
            next_task: 1,
            timers: HashMap::new(),
            tasks: HashMap::new(),
            execution_timer: None,
            invocations: HashMap::new(),
            map_runs: 0,
            transitions: 0,
            recorded_entered: 0,
            redrive_point: None,
            runs: Vec::new(),
            children: BTreeMap::new(),
            next_child: 0,
            unsuccessful: BTreeMap::new(),
            out: Step {
                events: Vec::with_capacity(16),
                ..Step::default()
            },
            step_from: 0,
            now,
        };
        let role_arn = ex.info.role_arn.clone();
        ex.push_event(
            0,
            EventType::ExecutionStarted,
            Details::ExecutionStarted {
                input: Arc::clone(&input),
                role_arn,
            },
        );
        let timeout = ex.machine.definition.timeout_seconds;
        // An EXPRESS execution lasts five minutes at most, whatever TimeoutSeconds says.
        let timeout = if ex.info.express {
            Some(timeout.map_or(EXPRESS_MAX_SECONDS, |t| t.min(EXPRESS_MAX_SECONDS)))
        } else {
            timeout
        };
        if let Some(t) = timeout {
            let timer = ex.arm_timer(now + (t as i64) * 1000);
            ex.execution_timer = Some(timer);
        }
        let start = ex.machine.definition.states.start_at;
        let root = ex.alloc(Frame {
            parent: None,
            path: Arc::from(Vec::new()),
            vars: Map::new(),
            last: 0,
            sink: None,
            stage: Stage::Ready {
                state: start,
                input,
            },
        });
        ex.runnable.push_back(root);
        ex.run(sources);
        let step = std::mem::take(&mut ex.out);
        (ex, step)
    }

    /// Apply one event and run until every frame is blocked again.
    pub fn handle(&mut self, event: Event, sources: &mut dyn Sources) -> Step {
        if self.status != Status::Running {
            return Step::default();
        }
        self.now = sources.now_millis();
        match event {
            Event::Continue => {}
            Event::TimerFired { timer } => self.timer_fired(timer, sources),
            Event::TaskStarted { task, worker_name } => {
                if let Some(&fid) = self.tasks.get(&task) {
                    self.emit(
                        fid,
                        EventType::ActivityStarted,
                        Details::ActivityStarted { worker_name },
                    );
                }
            }
            Event::TaskSucceeded { task, output } => self.task_result(task, Ok(output), sources),
            Event::TaskFailed { task, error, cause } => {
                self.task_result(task, Err(StatesError::new(error, cause)), sources)
            }
            Event::TaskHeartbeat { task } => self.task_heartbeat(task),
            Event::Stop { error, cause } => self.stop(error, cause),
            Event::Terminate { error, cause } => {
                self.finish_execution(Status::Failed, None, Some(error), Some(cause))
            }
        }
        self.run(sources);
        std::mem::take(&mut self.out)
    }

    /// Whether `timer` is the execution's own time limit (machine `TimeoutSeconds`, or
    /// an EXPRESS execution's five minutes), not a state's.
    pub fn is_execution_timer(&self, timer: u64) -> bool {
        self.execution_timer == Some(timer)
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

    // ----- frames and events --------------------------------------------------------

    fn alloc(&mut self, f: Frame) -> FrameId {
        if let Some(id) = self.free.pop() {
            self.frames[id] = Some(f);
            id
        } else {
            self.frames.push(Some(f));
            self.frames.len() - 1
        }
    }

    fn frame(&mut self, id: FrameId) -> &mut Frame {
        match self.frames.get_mut(id).and_then(|f| f.as_mut()) {
            Some(f) => f,
            None => unreachable_frame(id),
        }
    }

    fn push_event(&mut self, prev: u64, event_type: EventType, details: Details) -> u64 {
        let id = self.next_event_id;
        self.next_event_id += 1;
        self.out.events.push(HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp_millis: self.now,
            event_type,
            details,
        });
        id
    }

    /// Append an event to the history of `sink`: the execution's own (`None`) or a
    /// Distributed Map child's. Returns its id (`prev` if the child already ended).
    fn push_in(&mut self, sink: Option<u32>, prev: u64, t: EventType, d: Details) -> u64 {
        let Some(c) = sink else {
            return self.push_event(prev, t, d);
        };
        let Some(child) = self.children.get_mut(&c) else {
            return prev;
        };
        child.history_len += 1;
        let id = child.history_len;
        self.out.child_events.push((
            Arc::clone(&child.arn),
            HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp_millis: self.now,
                event_type: t,
                details: d,
            },
        ));
        id
    }

    /// Emit in frame `fid`, chaining from its last event.
    fn emit(&mut self, fid: FrameId, t: EventType, d: Details) -> u64 {
        let f = self.frame(fid);
        let (sink, prev) = (f.sink, f.last);
        let id = self.push_in(sink, prev, t, d);
        self.frame(fid).last = id;
        id
    }

    /// Emit with an explicit previous event id, leaving the frame's chain alone.
    fn emit_with_prev(&mut self, fid: FrameId, prev: u64, t: EventType, d: Details) -> u64 {
        let sink = self.frame(fid).sink;
        self.push_in(sink, prev, t, d)
    }

    fn arm_timer(&mut self, due_millis: i64) -> u64 {
        let timer = self.next_timer;
        self.next_timer += 1;
        self.out
            .commands
            .push(Command::ArmTimer { timer, due_millis });
        timer
    }

    fn cancel_timer(&mut self, timer: u64) {
        self.timers.remove(&timer);
        self.out.commands.push(Command::CancelTimer { timer });
    }

    /// The Context object. `retry_count` is `State.RetryCount`, which AWS shows only for
    /// states that can retry (Task, Parallel, Map).
    /// The Context object of a state of frame `fid`: a Distributed Map child's frames
    /// see their child execution (its ARN, name, input, start, `NAME/LABEL` machine).
    fn context_value(
        &self,
        fid: FrameId,
        state_name: &str,
        entered_millis: i64,
        retry_count: Option<u32>,
        extra: Option<(&str, Value)>,
    ) -> Value {
        let child = self
            .frames
            .get(fid)
            .and_then(|f| f.as_ref()?.sink)
            .and_then(|c| self.children.get(&c));
        let (id, input, start, name, sm_id, sm_name, redrives) = match child {
            Some(c) => (
                &*c.arn,
                &c.input,
                c.start_millis,
                c.name.as_str(),
                c.state_machine_arn.as_str(),
                c.state_machine_arn
                    .split_once(":stateMachine:")
                    .map_or("", |(_, m)| m),
                c.redrive_count,
            ),
            None => (
                self.info.execution_arn.as_str(),
                &self.input,
                self.start_millis,
                self.info.name.as_str(),
                self.info.state_machine_arn.as_str(),
                self.info.state_machine_name.as_str(),
                self.info.redrive_count,
            ),
        };
        let mut exec = Map::new();
        exec.insert("Id".into(), Value::String(id.to_string()));
        exec.insert("Input".into(), Value::clone(input));
        exec.insert(
            "StartTime".into(),
            Value::String(timefmt::format_millis(start)),
        );
        exec.insert("Name".into(), Value::String(name.to_string()));
        exec.insert("RoleArn".into(), Value::String(self.info.role_arn.clone()));
        if !self.info.express {
            exec.insert("RedriveCount".into(), Value::from(redrives));
        }
        let mut sm = Map::new();
        sm.insert("Id".into(), Value::String(sm_id.to_string()));
        sm.insert("Name".into(), Value::String(sm_name.to_string()));
        let mut st = Map::new();
        st.insert("Name".into(), Value::String(state_name.to_string()));
        st.insert(
            "EnteredTime".into(),
            Value::String(timefmt::format_millis(entered_millis)),
        );
        if let Some(n) = retry_count {
            st.insert("RetryCount".into(), Value::from(n));
        }
        let mut c = Map::new();
        c.insert("Execution".into(), Value::Object(exec));
        c.insert("StateMachine".into(), Value::Object(sm));
        c.insert("State".into(), Value::Object(st));
        if let Some((k, v)) = extra {
            c.insert(k.into(), v);
        }
        Value::Object(c)
    }

    /// The Context object for the state frame `fid` is in (Null when no expression of
    /// the state reads it).
    fn context_for(&self, fid: FrameId, state: &State) -> Value {
        if self.machine.needs_context(state) {
            let (entered, retries) = self.entered_and_retries(fid, state);
            self.context_value(fid, &state.name, entered, retries, None)
        } else {
            Value::Null
        }
    }

    fn entered_and_retries(&self, fid: FrameId, state: &State) -> (i64, Option<u32>) {
        let can_retry = matches!(
            state.kind,
            StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
        );
        match self
            .frames
            .get(fid)
            .and_then(|f| f.as_ref())
            .map(|f| &f.stage)
        {
            Some(Stage::Active(a)) => (a.entered_millis, can_retry.then(|| a.retries.iter().sum())),
            _ => (self.now, can_retry.then_some(0)),
        }
    }

    // ----- the scheduler ------------------------------------------------------------

    /// True when entering another state could take the history past AWS's limit
    /// (a state adds at most two events before the next check; one more ends it).
    fn history_full(&self) -> bool {
        !self.info.express && self.next_event_id + 3 > MAX_HISTORY_EVENTS
    }

    /// The current step entered [`MAX_TRANSITIONS_PER_STEP`] states: it yields.
    fn step_spent(&self) -> bool {
        self.transitions - self.step_from >= MAX_TRANSITIONS_PER_STEP
    }

    /// [`Self::history_full`] for Distributed Map child `c` (its events are its own).
    /// EXPRESS children are held to it too: their history is kept here, and AWS ends a
    /// runaway one at its five minutes, which a child's states never see pass.
    fn child_history_full(&self, c: u32) -> bool {
        self.children
            .get(&c)
            .is_some_and(|k| k.history_len + 3 > MAX_HISTORY_EVENTS)
    }

    /// A child execution outgrew AWS's history limit: like a Standard execution it fails
    /// with `States.Runtime` (no Catch applies), and whatever runs inside it is dropped.
    fn fail_child_at_history_limit(&mut self, c: u32, src: &mut dyn Sources) {
        let Some(root) = (0..self.frames.len()).find(|&f| self.child_root(f) == Some(c)) else {
            return;
        };
        let fan = match self.frames.get_mut(root) {
            Some(Some(f)) => match &mut f.stage {
                Stage::Active(a) => match std::mem::replace(&mut a.wait, Blocked::Nothing) {
                    Blocked::Fanout(fan) => Some(fan),
                    other => {
                        a.wait = other;
                        None
                    }
                },
                _ => None,
            },
            _ => None,
        };
        if let Some(fan) = fan {
            self.abort_children(root, &fan);
            self.abort_run(fan.run);
        }
        self.drop_pending_work(root);
        let err = StatesError::new(names::RUNTIME, redrive::history_limit_cause());
        self.finish_frame(root, Err((err, None)), src);
    }

    fn run(&mut self, src: &mut dyn Sources) {
        self.step_from = self.transitions;
        while let Some(fid) = self.runnable.pop_front() {
            if self.status != Status::Running {
                self.runnable.clear();
                break;
            }
            if self.step_spent() && !self.history_full() {
                // Yield: the frame goes on in the next step, where it was.
                self.runnable.push_front(fid);
                self.out.commands.push(Command::Continue);
                return;
            }
            self.run_frame(fid, src);
        }
        // AWS stops a Standard execution whose history outgrows its limit; this also
        // ends runaway loops of Pass and Choice states.
        if self.status == Status::Running && self.history_full() {
            self.finish_execution(
                Status::Failed,
                None,
                Some(names::RUNTIME.into()),
                Some(redrive::history_limit_cause()),
            );
        }
    }

    fn run_frame(&mut self, fid: FrameId, src: &mut dyn Sources) {
        let machine = Arc::clone(&self.machine);
        loop {
            if self.status != Status::Running || self.history_full() {
                return;
            }
            if self.step_spent() && matches!(self.frame(fid).stage, Stage::Ready { .. }) {
                // Back in the queue at its place; `run` yields before running it.
                self.runnable.push_front(fid);
                return;
            }
            if let Some(c) = self.frame(fid).sink {
                if self.child_history_full(c) {
                    self.fail_child_at_history_limit(c, src);
                    return;
                }
            }
            let (path, stage) = {
                let f = self.frame(fid);
                (
                    Arc::clone(&f.path),
                    std::mem::replace(&mut f.stage, Stage::Finished),
                )
            };
            let states = states_at(&machine.definition, &path);
            let flow = match stage {
                Stage::Ready { state, input } => {
                    let st = states.get(state);
                    self.enter_state(fid, st, state, input, src)
                }
                // Active frames are resumed through events, never by being runnable.
                Stage::Active(a) => {
                    self.frame(fid).stage = Stage::Active(a);
                    return;
                }
                Stage::Finished => return,
            };
            if !self.after_flow(fid, states, flow, src) {
                return;
            }
        }
    }

    /// Act on a state's outcome; true when the frame should keep running.
    fn after_flow(
        &mut self,
        fid: FrameId,
        states: &States,
        flow: Flow,
        src: &mut dyn Sources,
    ) -> bool {
        match flow {
            Flow::Next(next, output) => {
                self.frame(fid).stage = Stage::Ready {
                    state: next,
                    input: output,
                };
                true
            }
            Flow::End(output) => {
                self.finish_frame(fid, Ok(output), src);
                false
            }
            Flow::Blocked | Flow::Done => false,
            Flow::Failed(failure) => {
                let a = match std::mem::replace(&mut self.frame(fid).stage, Stage::Finished) {
                    Stage::Active(a) => a,
                    _ => {
                        self.finish_frame(fid, Err((failure.err, None)), src);
                        return false;
                    }
                };
                let flow = self.handle_failure(fid, states, a, failure, src);
                self.after_flow(fid, states, flow, src)
            }
        }
    }

    fn enter_state(
        &mut self,
        fid: FrameId,
        st: &State,
        idx: usize,
        input: Arc<Value>,
        src: &mut dyn Sources,
    ) -> Flow {
        self.transitions += 1;
        if self.frame(fid).sink.is_none() {
            self.recorded_entered += 1;
        }
        let entered_prev = self.frame(fid).last;
        let entered_id = self.emit(
            fid,
            EventType::entered(st.kind.type_name()),
            Details::StateEntered {
                name: st.name.clone(),
                input: Arc::clone(&input),
            },
        );
        let a = Box::new(Active {
            state: idx,
            input,
            entered_id,
            entered_prev,
            entered_millis: self.now,
            retries: vec![0; st.retry.len()],
            wait: Blocked::Nothing,
        });
        self.frame(fid).stage = Stage::Active(a);
        self.execute(fid, st, src)
    }

    /// Run (or re-run, after a retry) the body of the current state.
    fn execute(&mut self, fid: FrameId, st: &State, src: &mut dyn Sources) -> Flow {
        // Task, Parallel and Map need their raw input again (Retry re-runs them; Catch
        // merges into it); Wait and Fail keep it for a redrive. The others give up their
        // share while they run and take it back only if they fail.
        let keeps_input = matches!(
            st.kind,
            StateKind::Task(_)
                | StateKind::Parallel(_)
                | StateKind::Map(_)
                | StateKind::Wait(_)
                | StateKind::Fail(_)
        );
        let input = match &mut self.frame(fid).stage {
            Stage::Active(a) if keeps_input => Arc::clone(&a.input),
            Stage::Active(a) => std::mem::replace(&mut a.input, Arc::new(Value::Null)),
            _ => return Flow::Done,
        };
        // Shared with the StateEntered event anyway, so this costs nothing.
        let kept = (!keeps_input).then(|| Arc::clone(&input));
        let ctx = self.context_for(fid, st);
        let result = match &st.kind {
            StateKind::Pass(p) => self.run_pass(fid, st, p.result.as_ref(), input, &ctx, src),
            StateKind::Succeed => self.run_passthrough(fid, st, input, &ctx, src),
            StateKind::Choice(c) => self.run_choice(fid, st, c, input, &ctx, src),
            StateKind::Wait(w) => self.run_wait(fid, st, w, input, &ctx, src),
            StateKind::Fail(f) => return self.run_fail(fid, st, f, input, &ctx, src),
            StateKind::Task(t) => self.run_task(fid, st, t, input, &ctx, src),
            StateKind::Parallel(_) | StateKind::Map(_) => {
                self.run_fanout(fid, st, input, &ctx, src)
            }
        };
        match result {
            Ok(flow) => flow,
            Err(f) => {
                if let (Some(input), Stage::Active(a)) = (kept, &mut self.frame(fid).stage) {
                    a.input = input;
                }
                Flow::Failed(f)
            }
        }
    }

    // ----- data flow helpers --------------------------------------------------------

    fn vars(&self, fid: FrameId) -> VarChain<'_> {
        VarChain {
            frames: &self.frames,
            start: fid,
        }
    }

    fn states_value(input: &Value, ctx: &Value, extra: &[(&str, &Value)]) -> Value {
        let mut m = Map::new();
        m.insert("input".into(), input.clone());
        m.insert("context".into(), ctx.clone());
        for (k, v) in extra {
            m.insert((*k).into(), (*v).clone());
        }
        Value::Object(m)
    }

    /// The JSONPath effective input (InputPath, then Parameters).
    fn effective_input(
        &self,
        fid: FrameId,
        io: &InputOutput,
        input: &Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let vars = self.vars(fid);
        let env = Env {
            context: ctx,
            vars: &vars,
        };
        let v = dataflow::filter(&io.input_path, Arc::clone(input), &env).map_err(Failure::eval)?;
        match &io.parameters {
            Some(t) => dataflow::template(t, &v, &env, src)
                .map(Arc::new)
                .map_err(Failure::eval),
            None => Ok(v),
        }
    }

    /// Finish a successful state: ResultSelector/ResultPath/OutputPath (JSONPath) or
    /// Output (JSONata), then Assign; emits the Exited event and returns its output.
    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        result: Arc<Value>,
        ctx: &Value,
        apply_result: bool,
        exit_prev: Option<u64>,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let (output, assigned) = match st.query_language {
            QueryLanguage::JsonPath => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let result = match (&st.io.result_selector, apply_result) {
                    (Some(t), true) => {
                        Arc::new(dataflow::template(t, &result, &env, src).map_err(Failure::eval)?)
                    }
                    _ => result,
                };
                let assigned = match &st.assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &result, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                let combined = if apply_result {
                    dataflow::result_path(&st.io.result_path, input, result)
                        .map_err(Failure::eval)?
                } else {
                    result
                };
                let out =
                    dataflow::filter(&st.io.output_path, combined, &env).map_err(Failure::eval)?;
                (out, assigned)
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = if apply_result {
                    Self::states_value(&input, ctx, &[("result", &result)])
                } else {
                    Self::states_value(&input, ctx, &[])
                };
                Self::jsonata_output_and_assign(st, &states, &vars, result, src)?
            }
        };
        self.finish_state(fid, st, output, assigned, exit_prev)
    }

    /// JSONata `Output` (or `default` without one) and `Assign`, both evaluated against the
    /// same `$states` and the variables as they were before the state.
    fn jsonata_output_and_assign(
        st: &State,
        states: &Value,
        vars: &dyn Variables,
        default: Arc<Value>,
        src: &mut dyn Sources,
    ) -> Result<(Arc<Value>, Option<Value>), Failure> {
        let scope = JsonataScope { states, vars };
        let assigned = match &st.assign {
            Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
            _ => None,
        };
        let out = match &st.io.output {
            Some(t) => Arc::new(t.eval("Output", &scope, src)?),
            None => default,
        };
        Ok((out, assigned))
    }

    /// Check size, apply variables, emit `…StateExited`.
    fn finish_state(
        &mut self,
        fid: FrameId,
        st: &State,
        output: Arc<Value>,
        assigned: Option<Value>,
        exit_prev: Option<u64>,
    ) -> Result<Arc<Value>, Failure> {
        if dataflow::exceeds(&output, MAX_PAYLOAD_BYTES) {
            return Err(Failure::plain(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    st.name
                ),
            )));
        }
        let assigned = match assigned {
            Some(Value::Object(m)) if !m.is_empty() => {
                let f = self.frame(fid);
                for (k, v) in &m {
                    f.vars.insert(k.clone(), v.clone());
                }
                Some(m)
            }
            _ => None,
        };
        let details = Details::StateExited {
            name: st.name.clone(),
            output: Arc::clone(&output),
            assigned_variables: assigned.map(Box::new),
        };
        let t = EventType::exited(st.kind.type_name());
        match exit_prev {
            Some(prev) => {
                let id = self.emit_with_prev(fid, prev, t, details);
                self.frame(fid).last = id;
            }
            None => {
                self.emit(fid, t, details);
            }
        }
        Ok(output)
    }

    fn transition(st: &State, output: Arc<Value>) -> Flow {
        match st.transition {
            Transition::Next(n) => Flow::Next(n, output),
            Transition::End => Flow::End(output),
        }
    }

    // ----- simple states ------------------------------------------------------------

    fn run_pass(
        &mut self,
        fid: FrameId,
        st: &State,
        result: Option<&Value>,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let out = match st.query_language {
            QueryLanguage::JsonPath => {
                let r = match result {
                    Some(r) => Arc::new(r.clone()),
                    None => self.effective_input(fid, &st.io, &input, ctx, src)?,
                };
                if result.is_some() {
                    // InputPath still has to resolve even when Result replaces it.
                    let vars = self.vars(fid);
                    let env = Env {
                        context: ctx,
                        vars: &vars,
                    };
                    dataflow::filter(&st.io.input_path, Arc::clone(&input), &env)
                        .map_err(Failure::eval)?;
                }
                self.complete(fid, st, input, r, ctx, true, None, src)?
            }
            QueryLanguage::Jsonata => {
                let r = Arc::clone(&input);
                self.complete(fid, st, input, r, ctx, false, None, src)?
            }
        };
        Ok(Self::transition(st, out))
    }

    /// Succeed (and the shape Wait uses after its timer): InputPath → OutputPath.
    fn run_passthrough(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let out = self.passthrough_output(fid, st, input, ctx, src)?;
        Ok(Self::transition(st, out))
    }

    fn passthrough_output(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        match st.query_language {
            QueryLanguage::JsonPath => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let eff =
                    dataflow::filter(&st.io.input_path, input, &env).map_err(Failure::eval)?;
                self.complete(fid, st, Arc::new(Value::Null), eff, ctx, false, None, src)
            }
            QueryLanguage::Jsonata => {
                let r = Arc::clone(&input);
                self.complete(fid, st, input, r, ctx, false, None, src)
            }
        }
    }

    fn run_choice(
        &mut self,
        fid: FrameId,
        st: &State,
        c: &stepwise_asl::Choice,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        match st.query_language {
            QueryLanguage::JsonPath => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let eff =
                    dataflow::filter(&st.io.input_path, input, &env).map_err(Failure::eval)?;
                let scope = env.scope(&eff);
                let mut chosen = None;
                for b in &c.choices {
                    if choice::eval_rule(&b.rule, &scope).map_err(Failure::eval)? {
                        chosen = Some(b);
                        break;
                    }
                }
                let (next, assign) = match chosen {
                    Some(b) => (b.next, b.assign.as_ref().or(st.assign.as_ref())),
                    None => match c.default {
                        Some(d) => (d, st.assign.as_ref()),
                        None => return Err(no_choice_matched()),
                    },
                };
                let assigned = match assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                let out = dataflow::filter(&st.io.output_path, eff, &env).map_err(Failure::eval)?;
                let out = self.finish_state(fid, st, out, assigned, None)?;
                Ok(Flow::Next(next, out))
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = Self::states_value(&input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let mut chosen = None;
                for b in &c.choices {
                    if jsonata_condition(&b.rule, &scope, src)? {
                        chosen = Some(b);
                        break;
                    }
                }
                let (next, assign, output) = match chosen {
                    Some(b) => (
                        b.next,
                        b.assign.as_ref().or(st.assign.as_ref()),
                        b.output.as_ref().or(st.io.output.as_ref()),
                    ),
                    None => match c.default {
                        Some(d) => (d, st.assign.as_ref(), st.io.output.as_ref()),
                        None => return Err(no_choice_matched()),
                    },
                };
                let assigned = match assign {
                    Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
                    _ => None,
                };
                let out = match output {
                    Some(t) => Arc::new(t.eval("Output", &scope, src)?),
                    None => Arc::clone(&input),
                };
                let out = self.finish_state(fid, st, out, assigned, None)?;
                Ok(Flow::Next(next, out))
            }
        }
    }

    fn run_wait(
        &mut self,
        fid: FrameId,
        st: &State,
        w: &WaitDef,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let due = {
            let vars = self.vars(fid);
            let env = Env {
                context: ctx,
                vars: &vars,
            };
            let states = match st.query_language {
                QueryLanguage::Jsonata => Self::states_value(&input, ctx, &[]),
                QueryLanguage::JsonPath => Value::Null,
            };
            let eff = match st.query_language {
                QueryLanguage::JsonPath => dataflow::filter(&st.io.input_path, input.clone(), &env)
                    .map_err(Failure::eval)?,
                QueryLanguage::Jsonata => input.clone(),
            };
            let jscope = JsonataScope {
                states: &states,
                vars: &vars,
            };
            match w {
                WaitDef::Seconds(d) => {
                    let secs = match d {
                        Dyn::Literal(s) => *s as i64,
                        Dyn::Path(p) => {
                            let v = p.select(&env.scope(&eff));
                            match v.as_ref().and_then(as_long) {
                                Some(s) if s >= 0 => s,
                                Some(_) => {
                                    return Err(Failure::eval(StatesError::runtime(format!(
                                        "The SecondsPath parameter references a negative value: {} == {}",
                                        p.as_str(),
                                        v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
                                    ))))
                                }
                                None => {
                                    return Err(Failure::eval(StatesError::runtime(format!(
                                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                                        p.as_str(),
                                        v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
                                    ))))
                                }
                            }
                        }
                        Dyn::Jsonata(e) => {
                            let v = e
                                .eval_required("Seconds", &jscope, src)
                                .map_err(|e| Failure::at(e, "Seconds"))?;
                            match as_long(&v) {
                                Some(s) if s >= 0 => s,
                                _ => {
                                    return Err(Failure::at(
                                        StatesError::query_evaluation(format!(
                                            "The JSONata expression '{}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                                            e.as_str(),
                                            stepwise_jsonata::json_type_name(&v),
                                            v
                                        )),
                                        "Seconds",
                                    ))
                                }
                            }
                        }
                        Dyn::Intrinsic(_) => 0,
                    };
                    self.now + secs * 1000
                }
                WaitDef::Timestamp(d) => {
                    let (text, field_err): (String, TimestampError) = match d {
                        Dyn::Literal(s) => (
                            s.clone(),
                            Box::new(|s: &str| {
                                Failure::eval(StatesError::runtime(format!(
                                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                                )))
                            }),
                        ),
                        Dyn::Path(p) => {
                            let v = p.select(&env.scope(&eff));
                            let ps = p.as_str().to_string();
                            match v {
                                Some(Value::String(s)) => (
                                    s,
                                    Box::new(move |s: &str| {
                                        Failure::eval(StatesError::runtime(format!(
                                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {ps} == {s}"
                                        )))
                                    }),
                                ),
                                other => {
                                    let shown = other
                                        .map(|v| v.to_string())
                                        .unwrap_or_else(|| "null".into());
                                    return Err(Failure::eval(StatesError::runtime(format!(
                                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                                        p.as_str(),
                                        shown
                                    ))));
                                }
                            }
                        }
                        Dyn::Jsonata(e) => {
                            let v = e
                                .eval_required("Timestamp", &jscope, src)
                                .map_err(|e| Failure::at(e, "Timestamp"))?;
                            match v {
                                Value::String(s) => (
                                    s,
                                    Box::new(|s: &str| {
                                        Failure::at(
                                            StatesError::query_evaluation(format!(
                                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"
                                            )),
                                            "Timestamp",
                                        )
                                    }),
                                ),
                                other => {
                                    return Err(Failure::at(
                                        e.unexpected_type_error("Timestamp", "string", &other),
                                        "Timestamp",
                                    ))
                                }
                            }
                        }
                        Dyn::Intrinsic(_) => (
                            String::new(),
                            Box::new(|_: &str| Failure::eval(StatesError::runtime(""))),
                        ),
                    };
                    match timefmt::parse_timestamp(&text) {
                        Some(ns) => (ns / 1_000_000) as i64,
                        None => return Err(field_err(&text)),
                    }
                }
            }
        };
        // AWS refuses delays beyond what a signed 32-bit number of seconds can hold.
        if due - self.now > i64::from(i32::MAX) * 1000 {
            return Err(Failure::eval(StatesError::runtime(
                "Wait state delay is too long.",
            )));
        }
        let (output, assigned) = self.wait_output(fid, st, input, ctx, src)?;
        if due <= self.now {
            let out = self.finish_state(fid, st, output, assigned, None)?;
            return Ok(Self::transition(st, out));
        }
        let timer = self.arm_timer(due);
        self.timers.insert(timer, fid);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::WaitTimer {
                timer,
                output,
                assigned,
            };
        }
        Ok(Flow::Blocked)
    }

    /// A Wait state's output and variables, computed when it is entered (AWS evaluates
    /// them before the wait, with the variables as they were then).
    fn wait_output(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<(Arc<Value>, Option<Value>), Failure> {
        let vars = self.vars(fid);
        let env = Env {
            context: ctx,
            vars: &vars,
        };
        match st.query_language {
            QueryLanguage::JsonPath => {
                let eff =
                    dataflow::filter(&st.io.input_path, input, &env).map_err(Failure::eval)?;
                let assigned = match &st.assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                Ok((
                    dataflow::filter(&st.io.output_path, eff, &env).map_err(Failure::eval)?,
                    assigned,
                ))
            }
            QueryLanguage::Jsonata => {
                let states = Self::states_value(&input, ctx, &[]);
                let (out, assigned) =
                    Self::jsonata_output_and_assign(st, &states, &vars, input, src)?;
                Ok((out, assigned))
            }
        }
    }

    fn run_fail(
        &mut self,
        fid: FrameId,
        _st: &State,
        f: &stepwise_asl::Fail,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Flow {
        let res = (|| -> Result<(Option<String>, Option<String>), Failure> {
            let vars = self.vars(fid);
            let env = Env {
                context: ctx,
                vars: &vars,
            };
            let states = Self::states_value(&input, ctx, &[]);
            let jscope = JsonataScope {
                states: &states,
                vars: &vars,
            };
            let mut field = |d: &Option<Dyn<String>>,
                             name: &str,
                             path_name: &str|
             -> Result<Option<String>, Failure> {
                Ok(match d {
                    None => None,
                    Some(Dyn::Literal(s)) => Some(s.clone()),
                    Some(Dyn::Path(p)) => match p.select(&env.scope(&input)) {
                        Some(Value::String(s)) => Some(s),
                        Some(other) => Some(other.to_string()),
                        None => {
                            return Err(Failure::eval(StatesError::runtime(format!(
                                "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                                p.as_str(),
                                path_name,
                                input
                            ))))
                        }
                    },
                    Some(Dyn::Intrinsic(i)) => match i.eval(&env.scope(&input), src).map_err(Failure::eval)? {
                        Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    },
                    Some(Dyn::Jsonata(e)) => match e.eval_required(name, &jscope, src).map_err(|e| Failure::at(e, name))? {
                        Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    },
                })
            };
            let error = field(&f.error, "Error", "ErrorPath")?;
            let cause = field(&f.cause, "Cause", "CausePath")?;
            Ok((error, cause))
        })();
        match res {
            Ok((error, cause)) => {
                // A redrive enters the Fail state again (and fails again).
                let point = match &self.frame(fid).stage {
                    Stage::Active(a) => Some(Point::new(a.state, Arc::clone(&a.input), None)),
                    _ => None,
                };
                let err = StatesError {
                    error: error.unwrap_or_default(),
                    cause: cause.unwrap_or_default(),
                };
                self.finish_frame(fid, Err((err, point)), src);
                Flow::Done
            }
            Err(f) => Flow::Failed(f),
        }
    }

    // ----- Task ---------------------------------------------------------------------

    fn run_task(
        &mut self,
        fid: FrameId,
        st: &State,
        t: &stepwise_asl::Task,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let (kind, resource_type, resource, region) =
            classify_resource(&t.resource, &self.info.region);
        let waits_for_token =
            t.resource.ends_with(".waitForTaskToken") || kind == ResourceKind::Activity;
        let token = if waits_for_token {
            Some(task_token(src))
        } else {
            None
        };
        // `$$.Task.Token` is visible while the parameters are evaluated.
        let ctx_owned;
        let ctx = match &token {
            Some(tok) => {
                let (entered, retries) = self.entered_and_retries(fid, st);
                let mut task = Map::new();
                task.insert("Token".into(), Value::String(tok.clone()));
                ctx_owned = self.context_value(
                    fid,
                    &st.name,
                    entered,
                    retries,
                    Some(("Task", Value::Object(task))),
                );
                &ctx_owned
            }
            None => ctx,
        };
        let (params, timeout, heartbeat) = {
            let params = match st.query_language {
                QueryLanguage::JsonPath => self.effective_input(fid, &st.io, &input, ctx, src)?,
                QueryLanguage::Jsonata => {
                    let vars = self.vars(fid);
                    let states = Self::states_value(&input, ctx, &[]);
                    let scope = JsonataScope {
                        states: &states,
                        vars: &vars,
                    };
                    match &st.io.arguments {
                        Some(a) => Arc::new(a.eval("Arguments", &scope, src)?),
                        None => Arc::clone(&input),
                    }
                }
            };
            let timeout = self.dyn_seconds(
                fid,
                t.timeout_seconds.as_ref(),
                "TimeoutSeconds",
                &input,
                ctx,
                src,
            )?;
            let heartbeat = self.dyn_seconds(
                fid,
                t.heartbeat_seconds.as_ref(),
                "HeartbeatSeconds",
                &input,
                ctx,
                src,
            )?;
            (Arc::unwrap_or_clone(params), timeout, heartbeat)
        };
        let task = self.next_task;
        self.next_task += 1;
        match kind {
            ResourceKind::Activity => {
                self.emit(
                    fid,
                    EventType::ActivityScheduled,
                    Details::ActivityScheduled(Box::new(ActivityScheduledDetails {
                        resource: t.resource.clone(),
                        input: params.clone(),
                        timeout_in_seconds: timeout,
                        heartbeat_in_seconds: heartbeat,
                    })),
                );
            }
            ResourceKind::Lambda => {
                self.emit(
                    fid,
                    EventType::LambdaFunctionScheduled,
                    Details::LambdaFunctionScheduled(Box::new(LambdaFunctionScheduledDetails {
                        resource: t.resource.clone(),
                        input: params.clone(),
                        timeout_in_seconds: timeout,
                    })),
                );
                self.emit(fid, EventType::LambdaFunctionStarted, Details::None);
            }
            ResourceKind::Service => {
                self.emit(
                    fid,
                    EventType::TaskScheduled,
                    Details::TaskScheduled(Box::new(TaskScheduledDetails {
                        resource_type: resource_type.clone(),
                        resource: resource.clone(),
                        region,
                        parameters: params.clone(),
                        timeout_in_seconds: timeout,
                        heartbeat_in_seconds: heartbeat,
                    })),
                );
                self.emit(
                    fid,
                    EventType::TaskStarted,
                    Details::TaskStarted {
                        resource_type: resource_type.clone(),
                        resource: resource.clone(),
                    },
                );
            }
        }
        let invocation = {
            let n = self.invocations.entry(st.name.to_string()).or_insert(0);
            let v = *n;
            *n += 1;
            v
        };
        let timeout_timer = timeout.map(|s| {
            let t = self.arm_timer(self.now + s as i64 * 1000);
            self.timers.insert(t, fid);
            t
        });
        let heartbeat_timer = heartbeat.map(|s| {
            let t = self.arm_timer(self.now + s as i64 * 1000);
            self.timers.insert(t, fid);
            t
        });
        self.tasks.insert(task, fid);
        self.out.commands.push(Command::DispatchTask(TaskRequest {
            task,
            state_name: st.name.to_string(),
            resource: t.resource.clone(),
            input: params,
            token,
            invocation,
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
        }));
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::Task(Box::new(TaskWait {
                task,
                kind,
                resource_type,
                resource,
                timeout_timer,
                heartbeat_timer,
                heartbeat_seconds: heartbeat,
            }));
        }
        Ok(Flow::Blocked)
    }

    /// `TimeoutSeconds(Path)` / `HeartbeatSeconds(Path)`: a positive integer.
    fn dyn_seconds(
        &self,
        fid: FrameId,
        d: Option<&Dyn<u64>>,
        field: &str,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<u64>, Failure> {
        match self.dyn_u64(fid, d, field, input, ctx, src)? {
            Some(0) => Err(Failure::eval(StatesError::runtime(format!(
                "{field} must be a positive integer."
            )))),
            other => Ok(other),
        }
    }

    fn task_result(
        &mut self,
        task: u64,
        result: Result<Value, StatesError>,
        src: &mut dyn Sources,
    ) {
        let Some(fid) = self.tasks.remove(&task) else {
            return;
        };
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(fid).path);
        let states = states_at(&machine.definition, &path);
        let mut a = match std::mem::replace(&mut self.frame(fid).stage, Stage::Finished) {
            Stage::Active(a) => a,
            other => {
                self.frame(fid).stage = other;
                return;
            }
        };
        let tw = match std::mem::replace(&mut a.wait, Blocked::Nothing) {
            Blocked::Task(tw) => tw,
            other => {
                a.wait = other;
                self.frame(fid).stage = Stage::Active(a);
                return;
            }
        };
        for t in [tw.timeout_timer, tw.heartbeat_timer].into_iter().flatten() {
            self.cancel_timer(t);
        }
        let st = states.get(a.state);
        let input = a.input.clone();
        self.frame(fid).stage = Stage::Active(a);
        let flow = match result {
            Ok(output) => {
                let output = Arc::new(output);
                let (t, d) = match tw.kind {
                    ResourceKind::Service => (
                        EventType::TaskSucceeded,
                        Details::TaskOutput(Box::new(TaskOutputDetails {
                            resource_type: tw.resource_type.clone(),
                            resource: tw.resource.clone(),
                            output: Value::clone(&output),
                        })),
                    ),
                    ResourceKind::Activity => (
                        EventType::ActivitySucceeded,
                        Details::Output {
                            output: Arc::clone(&output),
                        },
                    ),
                    ResourceKind::Lambda => (
                        EventType::LambdaFunctionSucceeded,
                        Details::Output {
                            output: Arc::clone(&output),
                        },
                    ),
                };
                self.emit(fid, t, d);
                let ctx = self.context_for(fid, st);
                match self.complete(fid, st, input, output, &ctx, true, None, src) {
                    Ok(out) => Self::transition(st, out),
                    Err(f) => Flow::Failed(f),
                }
            }
            Err(err) => {
                self.emit_task_failure(fid, &tw, false, &err);
                Flow::Failed(Failure::plain(err))
            }
        };
        if self.after_flow(fid, states, flow, src) {
            self.runnable.push_back(fid);
        }
    }

    fn emit_task_failure(
        &mut self,
        fid: FrameId,
        tw: &TaskWait,
        timed_out: bool,
        err: &StatesError,
    ) {
        let error = Some(err.error.clone());
        let cause = if err.cause.is_empty() {
            None
        } else {
            Some(err.cause.clone())
        };
        let (t, d) = match tw.kind {
            ResourceKind::Service => (
                if timed_out {
                    EventType::TaskTimedOut
                } else {
                    EventType::TaskFailed
                },
                Details::TaskFailure(Box::new(TaskFailureDetails {
                    resource_type: tw.resource_type.clone(),
                    resource: tw.resource.clone(),
                    error,
                    cause,
                })),
            ),
            ResourceKind::Activity => (
                if timed_out {
                    EventType::ActivityTimedOut
                } else {
                    EventType::ActivityFailed
                },
                Details::Failure { error, cause },
            ),
            ResourceKind::Lambda => (
                if timed_out {
                    EventType::LambdaFunctionTimedOut
                } else {
                    EventType::LambdaFunctionFailed
                },
                Details::Failure { error, cause },
            ),
        };
        self.emit(fid, t, d);
    }

    fn task_heartbeat(&mut self, task: u64) {
        let Some(&fid) = self.tasks.get(&task) else {
            return;
        };
        let now = self.now;
        let (old, secs) = match &self.frame(fid).stage {
            Stage::Active(a) => match &a.wait {
                Blocked::Task(tw) => (tw.heartbeat_timer, tw.heartbeat_seconds),
                _ => return,
            },
            _ => return,
        };
        let (Some(old), Some(secs)) = (old, secs) else {
            return;
        };
        self.cancel_timer(old);
        let new = self.arm_timer(now + secs as i64 * 1000);
        self.timers.insert(new, fid);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            if let Blocked::Task(tw) = &mut a.wait {
                tw.heartbeat_timer = Some(new);
            }
        }
    }

    // ----- timers -------------------------------------------------------------------

    fn timer_fired(&mut self, timer: u64, src: &mut dyn Sources) {
        if Some(timer) == self.execution_timer {
            self.finish_execution(
                Status::TimedOut,
                None,
                Some(names::TIMEOUT.into()),
                Some("The execution timed out.".into()),
            );
            return;
        }
        let Some(fid) = self.timers.remove(&timer) else {
            return;
        };
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(fid).path);
        let states = states_at(&machine.definition, &path);
        let mut a = match std::mem::replace(&mut self.frame(fid).stage, Stage::Finished) {
            Stage::Active(a) => a,
            other => {
                self.frame(fid).stage = other;
                return;
            }
        };
        let st = states.get(a.state);
        let flow = match std::mem::replace(&mut a.wait, Blocked::Nothing) {
            Blocked::WaitTimer {
                timer: t,
                output,
                assigned,
            } if t == timer => {
                self.frame(fid).stage = Stage::Active(a);
                match self.finish_state(fid, st, output, assigned, None) {
                    Ok(out) => Self::transition(st, out),
                    Err(f) => Flow::Failed(f),
                }
            }
            Blocked::RetryTimer { timer: t } if t == timer => {
                self.frame(fid).stage = Stage::Active(a);
                self.execute(fid, st, src)
            }
            Blocked::Task(tw) => {
                // AWS records a missed heartbeat as `States.Timeout` too (TaskTimedOut /
                // ActivityTimedOut); `States.HeartbeatTimeout` only names it in ErrorEquals.
                let err = StatesError::new(names::TIMEOUT, "");
                for t in [tw.timeout_timer, tw.heartbeat_timer].into_iter().flatten() {
                    if t != timer {
                        self.cancel_timer(t);
                    }
                }
                self.tasks.remove(&tw.task);
                self.out
                    .commands
                    .push(Command::CancelTask { task: tw.task });
                self.frame(fid).stage = Stage::Active(a);
                self.emit_task_failure(fid, &tw, true, &err);
                Flow::Failed(Failure::plain(err))
            }
            other => {
                a.wait = other;
                self.frame(fid).stage = Stage::Active(a);
                return;
            }
        };
        if self.after_flow(fid, states, flow, src) {
            self.runnable.push_back(fid);
        }
    }

    // ----- failures -----------------------------------------------------------------

    fn handle_failure(
        &mut self,
        fid: FrameId,
        states: &States,
        mut a: Box<Active>,
        f: Failure,
        src: &mut dyn Sources,
    ) -> Flow {
        let st = states.get(a.state);
        let mut err = f.err;
        if f.prefixed {
            err.cause = state_error_cause(&st.name, a.entered_id, &err.cause);
        }
        if err.error == names::QUERY_EVALUATION_ERROR || f.location.is_some() {
            let prev = if matches!(st.kind, StateKind::Wait(_)) {
                self.frame(fid).last
            } else {
                a.entered_prev
            };
            let id = self.emit_with_prev(
                fid,
                prev,
                EventType::EvaluationFailed,
                Details::EvaluationFailed(Box::new(EvaluationFailedDetails {
                    error: err.error.clone(),
                    cause: err.cause.clone(),
                    location: f.location.clone(),
                    state: st.name.to_string(),
                })),
            );
            self.frame(fid).last = id;
        }
        // Retry.
        let retriable = err.error != names::RUNTIME && err.error != names::DATA_LIMIT_EXCEEDED;
        for (i, r) in st.retry.iter().enumerate() {
            if !error_matches(&r.error_equals, &err.error) {
                continue;
            }
            if !retriable && !r.error_equals.contains(&err.error) {
                continue;
            }
            let attempt = a.retries.get(i).copied().unwrap_or(0);
            if (attempt as u64) < r.max_attempts {
                if let Some(c) = a.retries.get_mut(i) {
                    *c += 1;
                }
                let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(attempt as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max as f64);
                }
                if r.jitter_strategy == JitterStrategy::Full {
                    delay *= src.random();
                }
                let due = self.now + (delay * 1000.0) as i64;
                let timer = self.arm_timer(due);
                self.timers.insert(timer, fid);
                a.wait = Blocked::RetryTimer { timer };
                self.frame(fid).stage = Stage::Active(a);
                return Flow::Blocked;
            }
            break;
        }
        // The state failed for good.
        let failed_event = match st.kind {
            StateKind::Map(_) => Some(EventType::MapStateFailed),
            StateKind::Parallel(_) => Some(EventType::ParallelStateFailed),
            _ => None,
        };
        // A runtime error in the state's own fields fails the execution without a
        // `…StateFailed` event (as AWS records it).
        if let Some(t) = failed_event.filter(|_| err.error != names::RUNTIME) {
            self.emit(fid, t, Details::None);
        }
        if let Some(c) = st
            .catch
            .iter()
            .find(|c| catch_matches(&c.error_equals, &err.error))
        {
            let input = std::mem::replace(&mut a.input, Arc::new(Value::Null));
            // Kept for a redrive should the catcher itself fail.
            let point = Point::new(a.state, Arc::clone(&input), None);
            let entered_id = a.entered_id;
            self.frame(fid).stage = Stage::Active(a);
            let ctx = self.context_for(fid, st);
            return match self.caught(fid, st, c, input, &err, &ctx, src) {
                Ok(out) => Flow::Next(c.next, out),
                Err(f2) => {
                    let mut e2 = f2.err;
                    if f2.prefixed {
                        e2.cause = state_error_cause(&st.name, entered_id, &e2.cause);
                    }
                    self.finish_frame(fid, Err((e2, Some(point))), src);
                    Flow::Done
                }
            };
        }
        let point = Point::new(a.state, std::mem::take(&mut a.input), f.fan);
        self.finish_frame(fid, Err((err, Some(point))), src);
        Flow::Done
    }

    #[allow(clippy::too_many_arguments)]
    fn caught(
        &mut self,
        fid: FrameId,
        st: &State,
        c: &Catcher,
        input: Arc<Value>,
        err: &StatesError,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        let eo = error_output(err);
        let (out, assigned) = match st.query_language {
            QueryLanguage::JsonPath => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let assigned = match &c.assign {
                    Some(Assign::JsonPath(t)) => {
                        Some(dataflow::template(t, &eo, &env, src).map_err(Failure::eval)?)
                    }
                    _ => None,
                };
                let out = dataflow::result_path(&c.result_path, input, Arc::new(eo))
                    .map_err(Failure::eval)?;
                (out, assigned)
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = Self::states_value(&input, ctx, &[("errorOutput", &eo)]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let assigned = match &c.assign {
                    Some(Assign::Jsonata(t)) => Some(t.eval("Assign", &scope, src)?),
                    _ => None,
                };
                let out = match &c.output {
                    Some(t) => Arc::new(t.eval("Output", &scope, src)?),
                    None => Arc::new(eo),
                };
                (out, assigned)
            }
        };
        self.finish_state(fid, st, out, assigned, None)
    }

    /// A frame ended: the root ends the execution; a child reports to its parent.
    fn finish_frame(&mut self, fid: FrameId, result: Outcome, src: &mut dyn Sources) {
        let (parent, last) = {
            let f = self.frame(fid);
            f.stage = Stage::Finished;
            (f.parent, f.last)
        };
        // A failed frame's point carries its variables (the frame itself goes away).
        let result = result.map_err(|(e, point)| {
            let point = point.map(|mut p| {
                p.vars = std::mem::take(&mut self.frame(fid).vars);
                p
            });
            (e, point)
        });
        match parent {
            None => match result {
                Ok(out) => self.finish_execution(Status::Succeeded, Some(out), None, None),
                Err((e, point)) => {
                    self.redrive_point = point.map(Box::new);
                    let end = End::failure(e);
                    self.finish_execution(Status::Failed, None, end.error, end.cause)
                }
            },
            Some((pid, index)) => {
                if let Some(c) = self.child_root(fid) {
                    let end = match &result {
                        Ok(out) => End {
                            output: Some(Arc::clone(out)),
                            ..End::default()
                        },
                        Err((e, _)) => End::failure(e.clone()),
                    };
                    let status = if result.is_ok() {
                        Status::Succeeded
                    } else {
                        Status::Failed
                    };
                    self.close_child(c, last, status, end);
                }
                self.frames[fid] = None;
                self.free.push(fid);
                self.child_done(pid, index, last, result, src);
            }
        }
    }

    fn finish_execution(
        &mut self,
        status: Status,
        output: Option<Arc<Value>>,
        error: Option<String>,
        cause: Option<String>,
    ) {
        let prev = self
            .frames
            .first()
            .and_then(|f| f.as_ref())
            .map(|f| f.last)
            .unwrap_or(0);
        self.finish_execution_after(prev, status, output, error, cause);
    }

    /// [`Self::finish_execution`] with the end event pointing at `prev`.
    fn finish_execution_after(
        &mut self,
        prev: u64,
        status: Status,
        output: Option<Arc<Value>>,
        error: Option<String>,
        cause: Option<String>,
    ) {
        if self.status != Status::Running {
            return;
        }
        let end = End {
            output,
            error,
            cause,
        };
        let (t, d) = end.event(status);
        self.push_event(prev, t, d);
        self.status = status;
        if status == Status::Succeeded {
            // Nothing is redriven after a success.
            self.unsuccessful.clear();
        }
        self.output = end.output;
        self.error = end.error;
        self.cause = end.cause;
        // Distributed Map children still running end with it.
        let open: Vec<(u32, u64)> = (0..self.frames.len())
            .filter_map(|f| Some((self.child_root(f)?, self.frames[f].as_ref()?.last)))
            .collect();
        for (c, last) in open {
            self.close_child(c, last, Status::Aborted, End::default());
        }
        // Everything still pending is dropped.
        let timers: Vec<u64> = self.timers.keys().copied().collect();
        for t in timers {
            self.out.commands.push(Command::CancelTimer { timer: t });
        }
        self.timers.clear();
        if let Some(t) = self.execution_timer.take() {
            if status != Status::TimedOut {
                self.out.commands.push(Command::CancelTimer { timer: t });
            }
        }
        let tasks: Vec<u64> = self.tasks.keys().copied().collect();
        for t in tasks {
            self.out.commands.push(Command::CancelTask { task: t });
        }
        self.tasks.clear();
        self.runnable.clear();
        for i in 0..self.runs.len() {
            self.abort_run(Some(i));
        }
    }

    /// StopExecution: AWS's `ExecutionAborted` follows no event (`previousEventId` 0).
    fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        self.finish_execution_after(0, Status::Aborted, None, error, cause);
    }

    // ----- Parallel and Map -----------------------------------------------------------

    fn run_fanout(
        &mut self,
        fid: FrameId,
        st: &State,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        match &st.kind {
            StateKind::Parallel(p) => {
                let branch_input = match st.query_language {
                    QueryLanguage::JsonPath => {
                        self.effective_input(fid, &st.io, &input, ctx, src)?
                    }
                    QueryLanguage::Jsonata => {
                        let vars = self.vars(fid);
                        let states = Self::states_value(&input, ctx, &[]);
                        let scope = JsonataScope {
                            states: &states,
                            vars: &vars,
                        };
                        match &st.io.arguments {
                            Some(a) => Arc::new(a.eval("Arguments", &scope, src)?),
                            None => Arc::clone(&input),
                        }
                    }
                };
                self.emit(fid, EventType::ParallelStateStarted, Details::None);
                let n = p.branches.len();
                let fan = Fanout {
                    kind: FanKind::Parallel,
                    pending: std::iter::repeat_n(branch_input, n).collect(),
                    next_index: 0,
                    total: n,
                    results: vec![None; n],
                    running: 0,
                    limit: usize::MAX,
                    succeeded: 0,
                    failed: 0,
                    tolerated_count: None,
                    tolerated_pct: None,
                    children: Vec::new(),
                    redo: VecDeque::new(),
                    tolerated_points: Vec::new(),
                    run: None,
                };
                self.start_fanout(fid, st, fan, src)
            }
            StateKind::Map(m) => {
                let (items, eff) = self.map_items(fid, st, m, &input, ctx, src)?;
                let limit = match self.dyn_u64(
                    fid,
                    m.max_concurrency.as_ref(),
                    "MaxConcurrency",
                    &input,
                    ctx,
                    src,
                )? {
                    Some(0) | None => usize::MAX,
                    Some(n) => n as usize,
                };
                // ItemSelector is applied to every item before any iteration starts.
                let n = items.len();
                let mut pending = VecDeque::with_capacity(n);
                let needs_item_ctx = m.item_selector.is_some();
                for (i, item) in items.into_iter().enumerate() {
                    let v = match &m.item_selector {
                        None => item,
                        Some(sel) => {
                            let entered = match &self.frame(fid).stage {
                                Stage::Active(a) => a.entered_millis,
                                _ => self.now,
                            };
                            let mut mi = Map::new();
                            let mut itm = Map::new();
                            itm.insert("Index".into(), Value::from(i));
                            itm.insert("Value".into(), item);
                            mi.insert("Item".into(), Value::Object(itm));
                            let ictx = if needs_item_ctx {
                                let retries = self.entered_and_retries(fid, st).1;
                                self.context_value(
                                    fid,
                                    &st.name,
                                    entered,
                                    retries,
                                    Some(("Map", Value::Object(mi))),
                                )
                            } else {
                                Value::Null
                            };
                            let vars = self.vars(fid);
                            match sel {
                                MapSelector::JsonPath(t) => {
                                    let env = Env {
                                        context: &ictx,
                                        vars: &vars,
                                    };
                                    dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?
                                }
                                MapSelector::Jsonata(t) => {
                                    let states = Self::states_value(&input, &ictx, &[]);
                                    let scope = JsonataScope {
                                        states: &states,
                                        vars: &vars,
                                    };
                                    t.eval("ItemSelector", &scope, src)?
                                }
                            }
                        }
                    };
                    pending.push_back(Arc::new(v));
                }
                self.emit(
                    fid,
                    EventType::MapStateStarted,
                    Details::MapStateStarted { length: n },
                );
                let tolerated_count = self.dyn_u64(
                    fid,
                    m.tolerated_failure_count.as_ref(),
                    "ToleratedFailureCount",
                    &input,
                    ctx,
                    src,
                )?;
                let tolerated_pct = self.dyn_percentage(
                    fid,
                    m.tolerated_failure_percentage.as_ref(),
                    &input,
                    ctx,
                    src,
                )?;
                let kind = if m.mode == ProcessorMode::Distributed {
                    FanKind::MapRun
                } else {
                    FanKind::Map
                };
                let mut run = None;
                if kind == FanKind::MapRun {
                    self.map_runs += 1;
                    // Inside a child execution, its machine (`NAME/LABEL`) owns the run.
                    let owner = self
                        .frame(fid)
                        .sink
                        .and_then(|c| self.children.get(&c))
                        .and_then(|c| c.state_machine_arn.split_once(":stateMachine:"))
                        .map_or_else(
                            || self.info.state_machine_name.clone(),
                            |(_, m)| m.to_string(),
                        );
                    // Without a Label, AWS generates one.
                    let label = m.label.clone().unwrap_or_else(|| src.uuid());
                    let arn = format!(
                        "arn:aws:states:{}:{}:mapRun:{owner}/{label}:{}",
                        self.info.region,
                        self.info.account,
                        map_run_id(src)
                    );
                    run = Some(self.runs.len());
                    self.runs.push(MapRunInfo {
                        arn: arn.clone(),
                        state_name: st.name.to_string(),
                        status: Status::Running,
                        start_millis: self.now,
                        stop_millis: None,
                        max_concurrency: if limit == usize::MAX { 0 } else { limit as u64 },
                        tolerated_failure_count: tolerated_count.unwrap_or(0),
                        tolerated_failure_percentage: tolerated_pct.unwrap_or(0.0),
                        items: Counts {
                            pending: n as u64,
                            total: n as u64,
                            ..Counts::default()
                        },
                        redrive_count: 0,
                        redrive_millis: None,
                    });
                    self.emit(
                        fid,
                        EventType::MapRunStarted,
                        Details::MapRunStarted { map_run_arn: arn },
                    );
                }
                let fan = Fanout {
                    kind,
                    pending,
                    next_index: 0,
                    total: n,
                    results: vec![None; n],
                    running: 0,
                    limit,
                    succeeded: 0,
                    failed: 0,
                    tolerated_count,
                    tolerated_pct,
                    children: Vec::new(),
                    redo: VecDeque::new(),
                    tolerated_points: Vec::new(),
                    run,
                };
                self.start_fanout(fid, st, fan, src)
            }
            _ => Ok(Flow::Done),
        }
    }

    /// `ToleratedFailurePercentage(Path)`: a number (or numeric text) from 0 to 100.
    fn dyn_percentage(
        &self,
        fid: FrameId,
        d: Option<&Dyn<f64>>,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<f64>, Failure> {
        let parse = |v: &Value| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        let literal = |v: &f64| *v;
        let pct = self.dyn_number(
            fid,
            d,
            literal,
            "ToleratedFailurePercentage",
            "float",
            "number",
            parse,
            input,
            ctx,
            src,
        )?;
        match pct {
            Some(p) if !(0.0..=100.0).contains(&p) => Err(Failure::eval(StatesError::runtime(
                "ToleratedFailurePercentage must be between 0 and 100.",
            ))),
            other => Ok(other),
        }
    }

    /// `MaxConcurrency(Path)`, `ToleratedFailureCount(Path)`…: a non-negative integer.
    fn dyn_u64(
        &self,
        fid: FrameId,
        d: Option<&Dyn<u64>>,
        field: &str,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<u64>, Failure> {
        // AWS takes numeric text ("1") as well as numbers here.
        let parse = |v: &Value| match v {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            other => as_long(other),
        };
        let literal = |v: &u64| i64::try_from(*v).unwrap_or(i64::MAX);
        match self.dyn_number(
            fid, d, literal, field, "integer", "integer", parse, input, ctx, src,
        )? {
            Some(n) if n < 0 => Err(Failure::eval(StatesError::runtime(format!(
                "{field} cannot be negative."
            )))),
            other => Ok(other.map(|n| n as u64)),
        }
    }

    /// Read a numeric field given literally, by a `…Path` or by JSONata, with AWS's
    /// messages for values that are not numbers of the right `kind`.
    #[allow(clippy::too_many_arguments)]
    fn dyn_number<L, T: Copy>(
        &self,
        fid: FrameId,
        d: Option<&Dyn<L>>,
        literal: impl Fn(&L) -> T,
        field: &str,
        kind: &str,
        jsonata_kind: &str,
        parse: impl Fn(&Value) -> Option<T>,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<T>, Failure> {
        let Some(d) = d else { return Ok(None) };
        let vars = self.vars(fid);
        let env = Env {
            context: ctx,
            vars: &vars,
        };
        Ok(Some(match d {
            Dyn::Literal(v) => literal(v),
            Dyn::Path(p) => {
                dataflow::path_number(p, p.select(&env.scope(input)), field, kind, parse)
                    .map_err(Failure::eval)?
            }
            Dyn::Jsonata(e) => {
                let states = Self::states_value(input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let v = e
                    .eval_required(field, &scope, src)
                    .map_err(|e| Failure::at(e, field))?;
                match v.is_number().then(|| parse(&v)).flatten() {
                    Some(n) => n,
                    None => {
                        return Err(Failure::at(
                            e.unexpected_type_error(field, jsonata_kind, &v),
                            field,
                        ))
                    }
                }
            }
            Dyn::Intrinsic(_) => return Ok(None),
        }))
    }

    /// The items a Map iterates over, and the effective input ItemSelector sees.
    fn map_items(
        &mut self,
        fid: FrameId,
        st: &State,
        m: &stepwise_asl::Map,
        input: &Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<(Vec<Value>, Arc<Value>), Failure> {
        match st.query_language {
            QueryLanguage::JsonPath => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                let eff = dataflow::filter(&st.io.input_path, Arc::clone(input), &env)
                    .map_err(Failure::eval)?;
                let items = match &m.items_path {
                    None => Value::clone(&eff),
                    Some(p) => match p.select(&env.scope(&eff)) {
                        Some(v) => v,
                        None => {
                            return Err(Failure::eval(StatesError::runtime(p.no_results_cause())))
                        }
                    },
                };
                match items {
                    Value::Array(a) => Ok((a, eff)),
                    other => Err(Failure::eval(StatesError::runtime(format!(
                        "Map state input must be an array but was: {}",
                        other
                    )))),
                }
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = Self::states_value(input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let items = match &m.items {
                    None => Value::clone(input),
                    Some(t) => match t.as_expr() {
                        Some(e) => {
                            let v = e
                                .eval("Items", &scope, src)
                                .map_err(|e| Failure::at(e, "Items"))?;
                            match v {
                                Some(Value::Array(a)) => Value::Array(a),
                                Some(other) => {
                                    return Err(Failure::at(
                                        e.unexpected_type_error("Items", "array", &other),
                                        "Items",
                                    ))
                                }
                                None => {
                                    return Err(Failure::at(
                                        e.unsupported_type_error("Items"),
                                        "Items",
                                    ))
                                }
                            }
                        }
                        None => t.eval("Items", &scope, src)?,
                    },
                };
                match items {
                    Value::Array(a) => Ok((a, Arc::clone(input))),
                    other => Err(Failure::eval(StatesError::query_evaluation(format!(
                        "Map state input must be an array but was: {}",
                        other
                    )))),
                }
            }
        }
    }

    fn start_fanout(
        &mut self,
        fid: FrameId,
        st: &State,
        mut fan: Fanout,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        if fan.total == 0 {
            return self
                .fanout_succeeded(fid, st, fan, src)
                .map(|out| Self::transition(st, out));
        }
        self.fill(fid, st, &mut fan, src);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::Fanout(Box::new(fan));
        }
        Ok(Flow::Blocked)
    }

    /// Start children up to the concurrency limit: those a redrive runs again first,
    /// then the ones not started yet.
    fn fill(&mut self, fid: FrameId, st: &State, fan: &mut Fanout, src: &mut dyn Sources) {
        let state_idx = match &self.frame(fid).stage {
            Stage::Active(a) => a.state as u32,
            _ => return,
        };
        let parent_path = Arc::clone(&self.frame(fid).path);
        let parent_sink = self.frame(fid).sink;
        while fan.running < fan.limit {
            let (index, point) = if let Some((index, point)) = fan.redo.pop_front() {
                (index, point)
            } else if let Some(input) = fan.pending.pop_front() {
                let index = fan.next_index;
                fan.next_index += 1;
                (index, Point::new(child_start(st, index), input, None))
            } else {
                break;
            };
            fan.running += 1;
            self.count_run(fan.run, |c| {
                c.pending = c.pending.saturating_sub(1);
                c.running += 1;
            });
            let branch = match &st.kind {
                StateKind::Parallel(_) => index as u32,
                _ => 0,
            };
            let mut path: Vec<(u32, u32)> = parent_path.to_vec();
            path.push((state_idx, branch));
            let (sink, last) = match fan.kind {
                FanKind::Map => {
                    let id = self.emit(
                        fid,
                        EventType::MapIterationStarted,
                        Details::MapIteration {
                            name: st.name.clone(),
                            index,
                        },
                    );
                    (parent_sink, id)
                }
                FanKind::Parallel => (parent_sink, self.frame(fid).last),
                // A child execution of its own: its first state points at 0, as a root's.
                FanKind::MapRun => self.open_child(fan.run, st, index, &point.input, src),
            };
            // MapIterationStarted does not move the Map's own chain forward.
            let child = self.alloc(Frame {
                parent: Some((fid, index)),
                path: Arc::from(path),
                vars: Map::new(),
                last,
                sink,
                stage: Stage::Finished,
            });
            fan.children.push(child);
            self.resume(child, point, src);
        }
    }

    /// Start a Distributed Map child execution for item `index`: its record and its
    /// `ExecutionStarted` (or, in a redriven Map Run, the unsuccessful child of that item
    /// again, with `ExecutionRedriven`). Returns its number (the frames' sink) and the
    /// event its first state chains from.
    fn open_child(
        &mut self,
        run: Option<usize>,
        st: &State,
        index: usize,
        input: &Arc<Value>,
        src: &mut dyn Sources,
    ) -> (Option<u32>, u64) {
        let c = self.next_child;
        self.next_child += 1;
        let map_run_arn = run
            .and_then(|i| self.runs.get(i))
            .map(|r| r.arn.clone())
            .unwrap_or_default();
        if let Some(mut child) = self.unsuccessful.remove(&format!("{index}:{map_run_arn}")) {
            child.status = Status::Running;
            child.stop_millis = None;
            child.output = None;
            child.error = None;
            child.cause = None;
            child.redrive_count += 1;
            child.redrive_millis = Some(self.now);
            let (prev, redrive_count) = (child.history_len, child.redrive_count);
            self.out.children.push(ChildChange::Redriven(child.clone()));
            self.children.insert(c, child);
            let id = self.push_in(
                Some(c),
                prev,
                EventType::ExecutionRedriven,
                Details::Redriven { redrive_count },
            );
            return (Some(c), id);
        }
        // `…:mapRun:MACHINE/LABEL:ID` → `MACHINE/LABEL`.
        let machine_label = map_run_arn
            .split_once(":mapRun:")
            .and_then(|(_, rest)| rest.rsplit_once(':'))
            .map(|(m, _)| m.to_string())
            .unwrap_or_else(|| format!("{}/{}", self.info.state_machine_name, st.name));
        let (region, account) = (&self.info.region, &self.info.account);
        let name = src.uuid();
        let express = matches!(&st.kind, StateKind::Map(m)
            if m.execution_type.as_deref() == Some("EXPRESS"));
        let child = ChildExecution {
            arn: Arc::from(format!(
                "arn:aws:states:{region}:{account}:execution:{machine_label}:{name}"
            )),
            state_machine_arn: format!(
                "arn:aws:states:{region}:{account}:stateMachine:{machine_label}"
            ),
            name,
            map_run_arn,
            express,
            input: Arc::clone(input),
            start_millis: self.now,
            status: Status::Running,
            stop_millis: None,
            output: None,
            error: None,
            cause: None,
            history_len: 0,
            item_index: index as u64,
            redrive_count: 0,
            redrive_millis: None,
        };
        self.out.children.push(ChildChange::Started(child.clone()));
        self.children.insert(c, child);
        let role_arn = self.info.role_arn.clone();
        self.push_in(
            Some(c),
            0,
            EventType::ExecutionStarted,
            Details::ExecutionStarted {
                input: Arc::clone(input),
                role_arn,
            },
        );
        (Some(c), 0)
    }

    /// End child execution `c` with its last event (`prev`) and outcome.
    fn close_child(&mut self, c: u32, prev: u64, status: Status, end: End) {
        let (t, d) = end.event(status);
        self.push_in(Some(c), prev, t, d);
        if let Some(mut child) = self.children.remove(&c) {
            child.status = status;
            child.stop_millis = Some(self.now);
            child.output = end.output;
            child.error = end.error;
            child.cause = end.cause;
            if status != Status::Succeeded && !child.express {
                let key = format!("{}:{}", child.item_index, child.map_run_arn);
                self.unsuccessful.insert(key, child.clone());
            }
            self.out.children.push(ChildChange::Finished(child));
        }
    }

    /// The child execution frame `fid` is the first frame of, if any.
    fn child_root(&self, fid: FrameId) -> Option<u32> {
        let f = self.frames.get(fid)?.as_ref()?;
        let c = f.sink?;
        let parent_sink = f
            .parent
            .and_then(|(p, _)| self.frames.get(p)?.as_ref())
            .and_then(|p| p.sink);
        (parent_sink != Some(c)).then_some(c)
    }

    fn child_done(
        &mut self,
        pid: FrameId,
        index: usize,
        child_last: u64,
        result: Outcome,
        src: &mut dyn Sources,
    ) {
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(pid).path);
        let states = states_at(&machine.definition, &path);
        let mut a = match std::mem::replace(&mut self.frame(pid).stage, Stage::Finished) {
            Stage::Active(a) => a,
            other => {
                self.frame(pid).stage = other;
                return;
            }
        };
        let mut fan = match std::mem::replace(&mut a.wait, Blocked::Nothing) {
            Blocked::Fanout(f) => f,
            other => {
                a.wait = other;
                self.frame(pid).stage = Stage::Active(a);
                return;
            }
        };
        let st = states.get(a.state);
        self.frame(pid).stage = Stage::Active(a);
        fan.running = fan.running.saturating_sub(1);
        let is_map = fan.kind == FanKind::Map;
        match result {
            Ok(v) => {
                fan.succeeded += 1;
                self.count_run(fan.run, |c| {
                    c.running = c.running.saturating_sub(1);
                    c.succeeded += 1;
                });
                if let Some(slot) = fan.results.get_mut(index) {
                    *slot = Some(v);
                }
                let succ = if is_map {
                    Some(self.emit_with_prev(
                        pid,
                        child_last,
                        EventType::MapIterationSucceeded,
                        Details::MapIteration {
                            name: st.name.clone(),
                            index,
                        },
                    ))
                } else {
                    None
                };
                if fan.succeeded + fan.failed == fan.total {
                    if let Some(id) = succ {
                        self.frame(pid).last = id;
                    } else if fan.kind == FanKind::Parallel {
                        self.frame(pid).last = child_last.max(self.frame(pid).last);
                    }
                    self.fanout_finish(pid, st, *fan, src);
                    return;
                }
                if is_map {
                    self.frame(pid).last = child_last;
                }
            }
            Err((err, point)) => {
                fan.failed += 1;
                self.count_run(fan.run, |c| {
                    c.running = c.running.saturating_sub(1);
                    c.failed += 1;
                });
                if is_map {
                    self.emit_with_prev(
                        pid,
                        child_last,
                        EventType::MapIterationFailed,
                        Details::MapIteration {
                            name: st.name.clone(),
                            index,
                        },
                    );
                    self.frame(pid).last = child_last;
                }
                let tolerated = match fan.kind {
                    FanKind::Parallel => false,
                    _ => within_tolerance(&fan),
                };
                if tolerated {
                    if let Some(slot) = fan.results.get_mut(index) {
                        *slot = Some(Arc::new(error_output(&err)));
                    }
                    if let Some(p) = point {
                        fan.tolerated_points.push((index, p));
                    }
                    if fan.succeeded + fan.failed == fan.total {
                        self.fanout_finish(pid, st, *fan, src);
                        return;
                    }
                } else {
                    let err = if fan.kind == FanKind::MapRun
                        && (fan.tolerated_count.is_some() || fan.tolerated_pct.is_some())
                    {
                        StatesError::new(
                            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        )
                    } else {
                        err
                    };
                    // Where every child stopped, before the others are discarded.
                    let fan_point = self.fan_point(pid, st, &fan, point.map(|p| (index, p)));
                    self.abort_children(pid, &fan);
                    if fan.kind == FanKind::MapRun {
                        self.emit(
                            pid,
                            EventType::MapRunFailed,
                            Details::Failure {
                                error: Some(err.error.clone()),
                                cause: Some(err.cause.clone()),
                            },
                        );
                        let now = self.now;
                        if let Some(r) = fan.run.and_then(|i| self.runs.get_mut(i)) {
                            r.status = Status::Failed;
                            r.stop_millis = Some(now);
                        }
                    }
                    let mut failure = Failure::plain(err);
                    failure.fan = Some(Box::new(fan_point));
                    let flow = Flow::Failed(failure);
                    if self.after_flow(pid, states, flow, src) {
                        self.runnable.push_back(pid);
                    }
                    return;
                }
            }
        }
        self.fill(pid, st, &mut fan, src);
        if let Stage::Active(a) = &mut self.frame(pid).stage {
            a.wait = Blocked::Fanout(fan);
        }
    }

    /// Discard a fanout's running children and everything under them.
    fn abort_children(&mut self, pid: FrameId, fan: &Fanout) {
        for &c in &fan.children {
            // Ids are reused: only frames still under this fanout are its children.
            let child_fan = match self.frames.get_mut(c) {
                Some(Some(f))
                    if f.parent.map(|p| p.0) == Some(pid)
                        && !matches!(f.stage, Stage::Finished) =>
                {
                    match std::mem::replace(&mut f.stage, Stage::Finished) {
                        Stage::Active(a) => match a.wait {
                            Blocked::Fanout(inner) => Some(inner),
                            _ => None,
                        },
                        _ => None,
                    }
                }
                _ => continue,
            };
            if let Some(inner) = child_fan {
                self.abort_children(c, &inner);
                self.abort_run(inner.run);
            }
            if let Some(k) = self.child_root(c) {
                let last = self.frames[c].as_ref().map_or(0, |f| f.last);
                self.close_child(k, last, Status::Aborted, End::default());
            }
            self.count_run(fan.run, |k| {
                k.running = k.running.saturating_sub(1);
                k.aborted += 1;
            });
            // The child is discarded with its timers and tasks.
            self.drop_pending_work(c);
            self.frames[c] = None;
            self.free.push(c);
        }
    }

    /// Forget frame `f`'s timers and tasks (cancelling the tasks) and its place in the
    /// run queue.
    fn drop_pending_work(&mut self, f: FrameId) {
        self.timers.retain(|_, g| *g != f);
        let tasks: Vec<u64> = self
            .tasks
            .iter()
            .filter(|(_, g)| **g == f)
            .map(|(t, _)| *t)
            .collect();
        for t in tasks {
            self.tasks.remove(&t);
            self.out.commands.push(Command::CancelTask { task: t });
        }
        self.runnable.retain(|g| *g != f);
    }

    /// Update the item counts of a Map Run (when the fanout is one).
    fn count_run(&mut self, run: Option<usize>, f: impl FnOnce(&mut Counts)) {
        if let Some(r) = run.and_then(|i| self.runs.get_mut(i)) {
            f(&mut r.items);
        }
    }

    /// A Map Run still running ends as ABORTED (its execution or an enclosing state
    /// stopped).
    fn abort_run(&mut self, run: Option<usize>) {
        let now = self.now;
        if let Some(r) = run.and_then(|i| self.runs.get_mut(i)) {
            if r.status == Status::Running {
                r.status = Status::Aborted;
                r.stop_millis = Some(now);
                r.items.aborted += r.items.running;
                r.items.running = 0;
            }
        }
    }

    fn fanout_finish(&mut self, pid: FrameId, st: &State, fan: Fanout, src: &mut dyn Sources) {
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(pid).path);
        let states = states_at(&machine.definition, &path);
        let flow = match self.fanout_succeeded(pid, st, fan, src) {
            Ok(out) => Self::transition(st, out),
            Err(f) => Flow::Failed(f),
        };
        if self.after_flow(pid, states, flow, src) {
            self.runnable.push_back(pid);
        }
    }

    fn fanout_succeeded(
        &mut self,
        pid: FrameId,
        st: &State,
        fan: Fanout,
        src: &mut dyn Sources,
    ) -> Result<Arc<Value>, Failure> {
        // MapStateExited follows the state's last event before the Map Run ended:
        // MapRunStarted after a Map Run (AWS since November 2024), else the last child's.
        let exited_prev = self.frame(pid).last;
        if fan.kind == FanKind::MapRun {
            self.emit(pid, EventType::MapRunSucceeded, Details::None);
            let now = self.now;
            if let Some(r) = fan.run.and_then(|i| self.runs.get_mut(i)) {
                r.status = Status::Succeeded;
                r.stop_millis = Some(now);
            }
        }
        let t = if fan.kind == FanKind::Parallel {
            EventType::ParallelStateSucceeded
        } else {
            EventType::MapStateSucceeded
        };
        let prev = self.frame(pid).last;
        self.emit_with_prev(pid, prev, t, Details::None);
        let results: Vec<Value> = fan
            .results
            .into_iter()
            .map(|r| r.map(Arc::unwrap_or_clone).unwrap_or(Value::Null))
            .collect();
        let input = match &self.frame(pid).stage {
            Stage::Active(a) => Arc::clone(&a.input),
            _ => Arc::new(Value::Null),
        };
        let ctx = self.context_for(pid, st);
        self.complete(
            pid,
            st,
            input,
            Arc::new(Value::Array(results)),
            &ctx,
            true,
            Some(exited_prev),
            src,
        )
    }
}

/// AWS's cause for an error raised while evaluating a state's fields.
fn state_error_cause(state: &str, entered_id: u64, cause: &str) -> String {
    format!("An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {cause}")
}

/// The state a Parallel branch or Map iteration starts at.
fn child_start(st: &State, index: usize) -> usize {
    match &st.kind {
        StateKind::Parallel(p) => p.branches.get(index).map_or(0, |b| b.start_at),
        StateKind::Map(m) => m.processor.start_at,
        _ => 0,
    }
}

fn within_tolerance(fan: &Fanout) -> bool {
    let mut ok = false;
    if let Some(c) = fan.tolerated_count {
        ok |= (fan.failed as u64) <= c;
    }
    if let Some(p) = fan.tolerated_pct {
        if fan.total > 0 {
            ok |= (fan.failed as f64) * 100.0 / (fan.total as f64) <= p;
        }
    }
    ok
}

fn jsonata_condition(
    rule: &ChoiceRule,
    scope: &JsonataScope,
    src: &mut dyn Sources,
) -> Result<bool, Failure> {
    match rule {
        ChoiceRule::Condition(Dyn::Literal(b)) => Ok(*b),
        ChoiceRule::Condition(Dyn::Jsonata(e)) => {
            let v = e
                .eval_required("Condition", scope, src)
                .map_err(|e| Failure::at(e, "Condition"))?;
            match v {
                Value::Bool(b) => Ok(b),
                other => Err(Failure::at(
                    e.unexpected_type_error("Condition", "boolean", &other),
                    "Condition",
                )),
            }
        }
        _ => Ok(false),
    }
}

fn no_choice_matched() -> Failure {
    Failure::eval(StatesError::new(names::NO_CHOICE_MATCHED, "No Matches!"))
}

fn as_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i)
            } else {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            }
        }
        _ => None,
    }
}

/// `ErrorEquals` matching for Retry: `States.ALL` matches everything but
/// `States.Runtime` and `States.DataLimitExceeded` (handled by the caller).
pub(crate) fn error_matches(list: &[String], error: &str) -> bool {
    list.iter().any(|e| {
        e == error
            || e == names::ALL
            || (e == names::TASK_FAILED && is_task_failure(error))
            || is_heartbeat_timeout(e, error)
    })
}

/// A missed heartbeat fails with `States.Timeout`; `States.HeartbeatTimeout` in
/// ErrorEquals matches it (and, since the history cannot tell them apart, any timeout).
fn is_heartbeat_timeout(listed: &str, error: &str) -> bool {
    listed == names::HEARTBEAT_TIMEOUT && error == names::TIMEOUT
}

/// Catch: `States.ALL` does not catch `States.Runtime` nor `States.DataLimitExceeded`.
pub(crate) fn catch_matches(list: &[String], error: &str) -> bool {
    list.iter().any(|e| {
        e == error
            || (e == names::ALL && error != names::RUNTIME && error != names::DATA_LIMIT_EXCEEDED)
            || (e == names::TASK_FAILED && is_task_failure(error))
            || is_heartbeat_timeout(e, error)
    })
}

fn is_task_failure(error: &str) -> bool {
    !error.starts_with("States.") || error == names::TASK_FAILED
}

fn classify_resource(
    resource: &str,
    default_region: &str,
) -> (ResourceKind, String, String, String) {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let region = parts
        .get(3)
        .filter(|r| !r.is_empty())
        .map(|r| r.to_string())
        .unwrap_or_else(|| default_region.to_string());
    if parts.len() >= 6 && parts[2] == "states" && parts[5].starts_with("activity:") {
        return (
            ResourceKind::Activity,
            "activity".into(),
            resource.into(),
            region,
        );
    }
    if parts.len() >= 6 && parts[2] == "lambda" && parts[5].starts_with("function:") {
        return (
            ResourceKind::Lambda,
            "lambda".into(),
            resource.into(),
            region,
        );
    }
    if parts.len() == 6 && parts[2] == "states" && parts[3].is_empty() && parts[4].is_empty() {
        // arn:aws:states:::service:action[.pattern] and arn:aws:states:::aws-sdk:service:action
        let rest = parts[5];
        if let Some(sdk) = rest.strip_prefix("aws-sdk:") {
            if let Some((svc, action)) = sdk.split_once(':') {
                return (
                    ResourceKind::Service,
                    format!("aws-sdk:{svc}"),
                    action.into(),
                    region,
                );
            }
        }
        if let Some((svc, action)) = rest.split_once(':') {
            return (ResourceKind::Service, svc.into(), action.into(), region);
        }
    }
    (
        ResourceKind::Service,
        "unknown".into(),
        resource.into(),
        region,
    )
}

fn task_token(src: &mut dyn Sources) -> String {
    // AWS tokens are long opaque strings; ours carry two UUIDs without dashes.
    let a = src.uuid().replace('-', "");
    let b = src.uuid().replace('-', "");
    format!("AQ{a}{b}")
}

fn map_run_id(src: &mut dyn Sources) -> String {
    src.uuid()
}

fn unreachable_frame(id: FrameId) -> ! {
    // Frames are only addressed through ids this module handed out and still holds.
    panic!("internal error: frame {id} does not exist")
}

#[allow(dead_code)]
fn _assert_types(_: &JsonataExpr, _: &JsonataTemplate, _: &FilterPath, _: &ResultPath) {}
