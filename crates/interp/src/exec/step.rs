//! What crosses the edge of the pure core: the [`Event`]s fed in, and the [`Step`] an
//! event gives back (history events and the [`Command`]s the edges carry out).

use super::*;

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
    /// A `.waitForTaskToken` (or `.sync`) call was made and gave `output`; the task now
    /// waits for its token (or its job).
    TaskSubmitted {
        task: u64,
        output: Value,
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
