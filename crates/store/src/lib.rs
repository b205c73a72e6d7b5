//! The storage boundary: what the engine keeps durably, and the [`Store`] trait that
//! every backend (SQLite now, PostgreSQL later) implements.
//!
//! The engine never writes SQL. It describes each unit of durable work as a [`Batch`]
//! of [`Write`]s (new history events, the execution's snapshot, timers, tasks,
//! catalogue changes) and hands several batches at once to [`Store::commit`], which
//! applies them in **one transaction** (group commit). Reads are plain queries.
//! Records are wire-agnostic: JSON documents are kept as text exactly as the engine
//! produced them.
//!
//! [`testsuite`] is one conformance suite for backends: every store runs it.

pub mod testsuite;

use serde::{Deserialize, Serialize};

/// A failure of the storage backend. The engine treats all of them as fatal for the
/// batch: nothing of it is acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("schema version {found} is newer than this build understands ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// STANDARD or EXPRESS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MachineType {
    Standard,
    Express,
}

impl MachineType {
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }
    pub fn parse(s: &str) -> Option<MachineType> {
        match s {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

/// A state machine (the unqualified ARN: its latest revision).
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachineRecord {
    pub arn: String,
    pub name: String,
    pub machine_type: MachineType,
    pub definition: String,
    pub role_arn: String,
    pub revision_id: String,
    pub created_millis: i64,
    /// loggingConfiguration, tracingConfiguration, encryptionConfiguration as a JSON object.
    pub config: String,
    /// The number the next published version gets.
    pub next_version: u32,
}

/// A published, immutable version (`…:stateMachine:NAME:N`).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub arn: String,
    pub machine_arn: String,
    pub version: u32,
    pub definition: String,
    pub role_arn: String,
    pub revision_id: String,
    pub description: Option<String>,
    pub created_millis: i64,
    pub config: String,
}

/// An alias (`…:stateMachine:NAME:ALIAS`) routing to one or two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecord {
    pub arn: String,
    pub machine_arn: String,
    pub name: String,
    pub description: Option<String>,
    /// (version ARN, weight 0–100) pairs.
    pub routing: Vec<(String, u32)>,
    pub created_millis: i64,
    pub updated_millis: i64,
}

/// An activity (a queue of tasks that workers poll).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    pub arn: String,
    pub name: String,
    pub created_millis: i64,
    /// encryptionConfiguration as a JSON object, or `{}`.
    pub config: String,
}

/// Everything about state machines and activities: small, loaded whole at startup.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Catalog {
    pub state_machines: Vec<StateMachineRecord>,
    pub versions: Vec<VersionRecord>,
    pub aliases: Vec<AliasRecord>,
    pub activities: Vec<ActivityRecord>,
    /// (resource ARN, key, value), in insertion order per resource.
    pub tags: Vec<(String, String, String)>,
}

/// An execution as it is listed and described.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    pub arn: String,
    /// The unqualified state machine ARN.
    pub machine_arn: String,
    /// Set when started through a version or an alias.
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub name: String,
    pub machine_type: MachineType,
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE.
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_millis: i64,
    pub stop_millis: Option<i64>,
    pub redrive_count: u32,
    pub redrive_millis: Option<i64>,
    /// The definition it runs (a running execution keeps its definition across updates).
    pub definition: String,
    /// `TestCase` of the mock file (`stateMachineArn#TestCase`), if any.
    pub test_case: Option<String>,
    pub trace_header: Option<String>,
    /// The engine's snapshot while RUNNING (see `stepwise_interp::Execution::snapshot`).
    pub snapshot: Option<Vec<u8>>,
    /// Ids of history events stored so far.
    pub history_len: u64,
    /// State transitions so far (Map Runs, metrics).
    pub transitions: u64,
    /// Set for a Distributed Map child execution: the Map Run that started it. Its
    /// state lives in the parent's snapshot; recovery does not load it.
    pub map_run_arn: Option<String>,
}

/// What changes about an execution after a step.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionUpdate {
    pub arn: String,
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_millis: Option<i64>,
    pub redrive_count: u32,
    pub redrive_millis: Option<i64>,
    pub snapshot: Option<Vec<u8>>,
    pub history_len: u64,
    pub transitions: u64,
}

/// One history event as GetExecutionHistory returns it (AWS JSON, with data).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: u64,
    pub json: String,
}

/// A durable timer: `due_millis` is wall-clock time (already scaled by `--time-scale`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimerRecord {
    pub execution_arn: String,
    pub timer: u64,
    pub due_millis: i64,
}

/// A task waiting for an answer: an activity task (queued or taken by a worker) or a
/// `.waitForTaskToken` callback.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub token: String,
    pub execution_arn: String,
    pub task: u64,
    pub state_name: String,
    pub resource: String,
    /// Set for activity tasks: the queue it waits in.
    pub activity_arn: Option<String>,
    /// The task input (JSON).
    pub input: String,
    pub created_millis: i64,
    /// The worker that took an activity task (`None` while queued).
    pub worker: Option<String>,
}

/// A status-change event in the outbox, kept until every webhook has it (see the
/// engine's `events` module). The body is made once, when the status change is
/// written, so every delivery of it is the same text with the same `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Its place in the outbox: increasing in commit order and never reused, even
    /// after the newest events are deleted (a reader's position stays valid). The
    /// store assigns it; the value in [`Write::PutEvent`] is ignored.
    pub seq: u64,
    /// The event's `id` (a UUID).
    pub id: String,
    pub execution_arn: String,
    pub created_millis: i64,
    /// The event as delivered (JSON text).
    pub body: String,
}

/// One durable change.
// Writes are built once, moved into a batch and consumed by the store: the size of the
// largest record costs nothing worth a box per write.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    PutStateMachine(StateMachineRecord),
    /// Removes the machine with its versions, aliases and tags (executions stay).
    DeleteStateMachine {
        arn: String,
    },
    PutVersion(VersionRecord),
    DeleteVersion {
        arn: String,
    },
    PutAlias(AliasRecord),
    DeleteAlias {
        arn: String,
    },
    PutActivity(ActivityRecord),
    DeleteActivity {
        arn: String,
    },
    /// Adds or overwrites tags of a resource.
    PutTags {
        arn: String,
        tags: Vec<(String, String)>,
    },
    RemoveTags {
        arn: String,
        keys: Vec<String>,
    },
    InsertExecution(ExecutionRecord),
    UpdateExecution(ExecutionUpdate),
    AppendHistory {
        execution_arn: String,
        events: Vec<StoredEvent>,
    },
    PutTimer(TimerRecord),
    DeleteTimer {
        execution_arn: String,
        timer: u64,
    },
    PutTask(TaskRecord),
    DeleteTask {
        token: String,
    },
    /// Records which execution a Map Run belongs to.
    PutMapRun {
        arn: String,
        execution_arn: String,
    },
    /// Drops every timer and task of a finished execution.
    ClearExecutionWork {
        execution_arn: String,
    },
    /// Adds a status-change event to the outbox (written with the status change).
    PutEvent(OutboxEvent),
    /// Removes the outbox events with `seq <= through` (delivered everywhere).
    DeleteEvents {
        through: u64,
    },
}

/// The writes of one unit of work (one request, one execution step).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub writes: Vec<Write>,
}

impl Batch {
    pub fn push(&mut self, w: Write) {
        self.writes.push(w);
    }
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Which executions to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionQuery {
    pub machine_arn: Option<String>,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    /// Child executions of this Map Run.
    pub map_run_arn: Option<String>,
    pub status: Option<String>,
    /// Only executions whose name contains this text (case-sensitive, as it is: no
    /// wildcards).
    pub name_contains: Option<String>,
    /// Only executions started at or after this time (epoch milliseconds).
    pub started_from: Option<i64>,
    /// Only executions started before this time (epoch milliseconds).
    pub started_before: Option<i64>,
    /// Continue after this (start_millis, arn) position.
    pub after: Option<(i64, String)>,
    pub limit: usize,
}

/// What a restart needs: every RUNNING execution with its snapshot, and their work.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recovery {
    pub running: Vec<ExecutionRecord>,
    pub timers: Vec<TimerRecord>,
    pub tasks: Vec<TaskRecord>,
}

/// A durable store. Implementations are shared between threads; `commit` is called
/// from one writer thread at a time, reads from any thread.
pub trait Store: Send + Sync + 'static {
    /// Apply every write of every batch in one transaction, in order. Either all of
    /// them are durable when this returns `Ok`, or none is.
    fn commit(&self, batches: &[Batch]) -> Result<()>;

    /// State machines, versions, aliases, activities and tags.
    fn load_catalog(&self) -> Result<Catalog>;

    /// RUNNING executions with their snapshots, timers and tasks.
    fn load_recovery(&self) -> Result<Recovery>;

    /// One execution (with its snapshot, if running).
    fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>>;

    /// The execution a Map Run belongs to.
    fn map_run_execution(&self, map_run_arn: &str) -> Result<Option<String>>;

    /// Calls `each` with the ARN of every stored execution (any order), for the engine's
    /// filter of names in use.
    fn execution_arns(&self, each: &mut dyn FnMut(&str)) -> Result<()>;

    /// Executions, newest first (`start_millis` descending, then ARN).
    fn executions(&self, query: &ExecutionQuery) -> Result<Vec<ExecutionRecord>>;

    /// How many executions each state machine has in each status:
    /// `(machine ARN, status, count)`, in any order.
    fn execution_counts(&self) -> Result<Vec<(String, String, u64)>>;

    /// At most `limit` history events: ascending with `id > from`, or, when `reverse`,
    /// descending with `id < from` (pass `u64::MAX` to start from the newest).
    fn history(
        &self,
        execution_arn: &str,
        from: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<StoredEvent>>;

    /// At most `limit` outbox events with `seq > after`, in `seq` order.
    fn events(&self, after: u64, limit: usize) -> Result<Vec<OutboxEvent>>;

    /// Retention: delete at most `limit` closed executions (SUCCEEDED, FAILED, TIMED_OUT,
    /// ABORTED) stopped before `stopped_before` (epoch milliseconds), oldest first, in
    /// one transaction of their own (not through [`Store::commit`]). Each goes with its
    /// history, timers, tasks and Map Runs, and the Map Runs' child executions with their
    /// history; Distributed Map children are never deleted on their own (their parent's
    /// Map Run lists them). Returns the ARNs of the executions deleted (children not
    /// included); fewer than `limit` means none is left to delete now.
    fn delete_closed_executions(&self, stopped_before: i64, limit: usize) -> Result<Vec<String>>;
}
